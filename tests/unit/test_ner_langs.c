/* test_ner_langs.c: the per-language named-entity models shipped in data/ner/ (ner_langs.h).
 * Each language's model is loaded, is not the English one, and tags a sentence written for this
 * test with exactly the expected people and places; a mixed-language text sends each paragraph
 * to its own model; the document pass makes a lone surname a person; the enricher does the same
 * through nw_enricher_run; a broken language file is an error that names it, a missing one leaves
 * that language to the default model. */
#include "ner_langs.h"

#include "newswire/enrich.h"
#include "ner.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#define DATA NW_SOURCE_DIR "/data"

static nw_ner_langs_t *S;

static int
setup(void **state)
{
    (void)state;
    char failed[4200];
    int rc = nw_ner_langs_load(DATA, DATA "/ner/model.bin", &S, failed, sizeof failed);
    if (rc < 0)
        fprintf(stderr, "cannot load \"%s\": %s\n", failed, strerror(-rc));
    return rc < 0 ? -1 : 0;
}

static int
teardown(void **state)
{
    (void)state;
    nw_ner_langs_destroy(&S);
    nw_ner_langs_destroy(&S); /* safe twice */
    return 0;
}

typedef struct want {
    nw_ner_type_t type;
    const char *text;
} want;

/* The spans, as "TYPE text; ..." for readable failures. */
static void
describe(const nw_ner_spans_t *sp, char *buf, size_t n)
{
    size_t k = 0;
    buf[0] = 0;
    for (size_t i = 0; i < sp->n && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s %s; ", nw_ner_type_name(sp->v[i].type),
                              sp->v[i].text);
}

/* Exactly the wanted spans, in order, with offsets that point at their text. */
static void
assert_spans(const char *text, const nw_ner_spans_t *sp, const want *w, size_t nw)
{
    char got[1024];
    describe(sp, got, sizeof got);
    if (sp->n != nw)
        fail_msg("\"%s\": want %zu entities, got %zu: %s", text, nw, sp->n, got);
    for (size_t i = 0; i < nw; i++) {
        if (sp->v[i].type != w[i].type || strcmp(sp->v[i].text, w[i].text) != 0)
            fail_msg("\"%s\": entity %zu: want %s %s, got %s", text, i, nw_ner_type_name(w[i].type),
                     w[i].text, got);
        assert_memory_equal(text + sp->v[i].start, w[i].text, strlen(w[i].text));
        assert_int_equal(sp->v[i].end - sp->v[i].start, strlen(w[i].text));
    }
}

typedef struct sample {
    const char *lang;
    const char *text;
    want w[3];
    size_t nw;
} sample;

/* One sentence per language, written for this test: a person and a place, plus words that are
 * capitalised in that language without being names (German nouns, sentence starts). */
static const sample samples[] = {
    {"de",
     "Angela Merkel sprach am Montag in Berlin über die Zukunft der Regierung.",
     {{NW_NER_PER, "Angela Merkel"}, {NW_NER_LOC, "Berlin"}},
     2},
    {"es",
     "Pedro Sánchez viajó el martes a Sevilla para reunirse con los alcaldes.",
     {{NW_NER_PER, "Pedro Sánchez"}, {NW_NER_LOC, "Sevilla"}},
     2},
    {"fr",
     "Emmanuel Macron s'est rendu mardi à Marseille pour rencontrer les maires.",
     {{NW_NER_PER, "Emmanuel Macron"}, {NW_NER_LOC, "Marseille"}},
     2},
    {"it",
     "Sergio Mattarella ha parlato ieri a Napoli davanti ai sindaci della regione.",
     {{NW_NER_PER, "Sergio Mattarella"}, {NW_NER_LOC, "Napoli"}},
     2},
    {"nl",
     "Mark Rutte sprak dinsdag in Rotterdam met de burgemeesters van de regio.",
     {{NW_NER_PER, "Mark Rutte"}, {NW_NER_LOC, "Rotterdam"}},
     2},
    {"pl",
     "Andrzej Duda przemawiał we wtorek w Krakowie do burmistrzów regionu.",
     {{NW_NER_PER, "Andrzej Duda"}, {NW_NER_LOC, "Krakowie"}},
     2},
    {"pt",
     "Marcelo Rebelo de Sousa falou ontem no Porto com os autarcas da região.",
     {{NW_NER_PER, "Marcelo Rebelo de Sousa"}, {NW_NER_LOC, "Porto"}},
     2},
    {"ru",
     "Владимир Путин выступил во вторник в Москве перед губернаторами.",
     {{NW_NER_PER, "Владимир Путин"}, {NW_NER_LOC, "Москве"}},
     2},
};

static void
test_each_language_has_its_model(void **state)
{
    (void)state;
    const nw_ner_t *en = nw_ner_langs_model(S, "en");
    assert_non_null(en);
    assert_int_equal(nw_ner_langs_count(S), sizeof samples / sizeof *samples);
    for (size_t i = 0; i < sizeof samples / sizeof *samples; i++) {
        const sample *s = &samples[i];
        if (!nw_ner_langs_has(S, s->lang))
            fail_msg("no model for \"%s\" in " DATA "/ner", s->lang);
        const nw_ner_t *m = nw_ner_langs_model(S, s->lang);
        assert_ptr_not_equal(m, en);
        nw_ner_spans_t sp = {0};
        assert_int_equal(nw_ner_tag(m, s->text, strlen(s->text), &sp), 0);
        assert_spans(s->text, &sp, s->w, s->nw);
        nw_ner_spans_release(&sp);
        /* the same through the chooser, by the language alone */
        assert_int_equal(nw_ner_langs_tag(S, s->text, strlen(s->text), NULL, 0, s->lang, &sp), 0);
        assert_spans(s->text, &sp, s->w, s->nw);
        nw_ner_spans_release(&sp);
    }
    /* region subtags choose the language's model; unknown languages the default */
    assert_ptr_equal(nw_ner_langs_model(S, "pt-BR"), nw_ner_langs_model(S, "pt"));
    assert_ptr_equal(nw_ner_langs_model(S, "und"), en);
    assert_ptr_equal(nw_ner_langs_model(S, NULL), en);
    assert_ptr_equal(nw_ner_langs_model(S, "deu"), en);
    assert_false(nw_ner_langs_has(S, "sv"));
    assert_true(nw_ner_langs_has(S, "en"));
}

/* Paragraphs in three languages, one text: every paragraph goes to its own model, offsets stay
 * those of the whole text, and a blank paragraph takes no language. */
static void
test_paragraphs_choose_models(void **state)
{
    (void)state;
    const char *text = "Angela Merkel sprach am Montag in Berlin über die Zukunft der Regierung."
                       "\n\n \n\n"
                       "Владимир Путин выступил во вторник в Москве перед губернаторами.\n\n"
                       "Pedro Sánchez viajó el martes a Sevilla para reunirse con los alcaldes.";
    char *langs[] = {"de", "ru", "es"};
    nw_ner_spans_t sp = {0};
    assert_int_equal(nw_ner_langs_tag(S, text, strlen(text), langs, 3, "en", &sp), 0);
    const want w[] = {{NW_NER_PER, "Angela Merkel"},  {NW_NER_LOC, "Berlin"},
                      {NW_NER_PER, "Владимир Путин"}, {NW_NER_LOC, "Москве"},
                      {NW_NER_PER, "Pedro Sánchez"},  {NW_NER_LOC, "Sevilla"}};
    assert_spans(text, &sp, w, sizeof w / sizeof *w);
    nw_ner_spans_release(&sp);
    /* fewer languages than paragraphs: the rest take the article's language */
    char *one[] = {"de"};
    assert_int_equal(nw_ner_langs_tag(S, text, strlen(text), one, 1, "es", &sp), 0);
    assert_true(sp.n >= 4);
    assert_string_equal(sp.v[sp.n - 2].text, "Pedro Sánchez");
    nw_ner_spans_release(&sp);
    assert_int_equal(nw_ner_langs_tag(S, "", 0, langs, 3, "en", &sp), 0);
    assert_int_equal(sp.n, 0);
}

/* The document pass on labels written here: a lone capitalised word spelt as the surname of a
 * two-word person elsewhere becomes a person; nothing else changes. */
static void
test_doc_pass(void **state)
{
    (void)state;
    const char *w[] = {"Emde",      "sagte", "Peter", "Emde",  "zu",     ".",     "Emde",
                       "Emde-Plan", "emde",  "Emde",  "Kreis", "Müller", "Müller"};
    const uint8_t B = NW_NER_LABEL_B(NW_NER_PER), I = NW_NER_LABEL_I(NW_NER_PER);
    const uint8_t O = NW_NER_LABEL_O, BO = NW_NER_LABEL_B(NW_NER_ORG);
    uint8_t lab[] = {O, O, B, I, O, O, O, O, O, O, BO, B, O};
    const uint8_t expect[] = {B, O, B, I, O, O, B, O, O, O, BO, B, O};
    nw_ner_word_t words[13];
    for (size_t i = 0; i < 13; i++)
        words[i] = (nw_ner_word_t){.s = w[i], .len = strlen(w[i])};
    nw_ner_doc_pass(words, 13, lab);
    /* "Emde" before the full name too; not "emde" (lowercase), not "Emde" beside the ORG "Kreis",
     * and a one-word person ("Müller") names no surname */
    assert_memory_equal(lab, expect, sizeof expect);
    nw_ner_doc_pass(words, 0, lab); /* nothing to do */
}

/* Through the chooser: a German article names "Peter Emde" once, then "Emde" alone; the second
 * mention is a person too, also in a later paragraph. */
static void
test_surnames_across_the_article(void **state)
{
    (void)state;
    const char *text = "Der Landrat Peter Emde wies die Vorwürfe am Dienstag in Hofheim zurück.\n\n"
                       "Emde betonte, er wolle das Modell der betreuten Grundschule erhalten.";
    char *langs[] = {"de", "de"};
    nw_ner_spans_t sp = {0};
    assert_int_equal(nw_ner_langs_tag(S, text, strlen(text), langs, 2, "de", &sp), 0);
    int full = 0, alone = 0;
    for (size_t i = 0; i < sp.n; i++) {
        if (sp.v[i].type == NW_NER_PER && strcmp(sp.v[i].text, "Peter Emde") == 0)
            full++;
        if (sp.v[i].type == NW_NER_PER && strcmp(sp.v[i].text, "Emde") == 0 && sp.v[i].start > 40)
            alone++;
    }
    char got[1024];
    describe(&sp, got, sizeof got);
    if (full != 1 || alone != 1)
        fail_msg("want PER Peter Emde and PER Emde, got %s", got);
    nw_ner_spans_release(&sp);
}

static int
has_entity(const nw_enriched_t *e, const char *type, const char *name)
{
    for (size_t i = 0; i < e->n_entities; i++)
        if (strcmp(e->entities[i].type, type) == 0 && strcmp(e->entities[i].name, name) == 0)
            return 1;
    return 0;
}

/* Through the product: an article whose paragraphs are German and Russian gets the people of
 * both from their own models. */
static void
test_enricher_uses_paragraph_models(void **state)
{
    (void)state;
    nw_enricher_t *en = NULL;
    if (nw_enricher_new(DATA, NULL, &en) < 0)
        fail_msg("%s", nw_enrich_error());
    nw_article_t a = {.v = 1, .id = strdup("t")};
    a.text = strdup("Angela Merkel sprach am Montag in Berlin über die Zukunft der Regierung und "
                    "die Lage der Wirtschaft im ganzen Land.\n\n"
                    "Владимир Путин выступил во вторник в Москве перед губернаторами и говорил "
                    "о положении экономики во всей стране.");
    nw_enriched_t e;
    assert_int_equal(nw_enricher_run(en, &a, &e), 0);
    nw_article_release(&a);
    assert_int_equal(e.n_para_langs, 2);
    assert_string_equal(e.para_langs[0], "de");
    assert_string_equal(e.para_langs[1], "ru");
    assert_true(has_entity(&e, "person", "Angela Merkel"));
    assert_true(has_entity(&e, "person", "Владимир Путин"));
    nw_enriched_release(&e);
    nw_enricher_destroy(&en);
}

/* Through the product: the short lines of an English results story (scores, a byline) that
 * CLD2 or the n-gram model call es, pt or it keep the English model. Tagged by the Spanish and
 * Portuguese ones, "Los Angeles 2 MONTREAL 1" was one organisation and the clubs of "Florida 10
 * ST LOUIS 9" none (CoNLL-2003 valid through the product fell from 0.919 to 0.902 F1). */
static void
test_short_paragraphs_keep_the_article_model(void **state)
{
    (void)state;
    nw_enricher_t *en = NULL;
    if (nw_enricher_new(DATA, NULL, &en) < 0)
        fail_msg("%s", nw_enrich_error());
    nw_article_t a = {.v = 1, .id = strdup("t")};
    a.text = strdup("BASEBALL - MAJOR LEAGUE RESULTS THURSDAY .\n\n"
                    "NEW YORK 1996-08-30\n\n"
                    "Results of Major League Baseball games played on Thursday ( home team in "
                    "CAPS ) :\n\n"
                    "National League\n\n"
                    "San Diego 3 NEW YORK 2\n\n"
                    "Chicago 4 HOUSTON 3\n\n"
                    "Cincinnati 18 COLORADO 7\n\n"
                    "Atlanta 5 PITTSBURGH 1\n\n"
                    "Los Angeles 2 MONTREAL 1\n\n"
                    "Florida 10 ST LOUIS 9");
    nw_enriched_t e;
    assert_int_equal(nw_enricher_run(en, &a, &e), 0);
    nw_article_release(&a);
    assert_string_equal(e.art.lang, "en");
    size_t foreign = 0;
    for (size_t i = 0; i < e.n_para_langs; i++)
        foreign += strcmp(e.para_langs[i], "en") != 0;
    assert_true(foreign > 0); /* the paragraph languages themselves are unchanged */
    char got[4096] = "";
    for (size_t i = 0; i < e.n_entities; i++) {
        size_t l = strlen(got);
        snprintf(got + l, sizeof got - l, "%s %s; ", e.entities[i].type, e.entities[i].name);
    }
    for (size_t i = 0; i < e.n_entities; i++)
        if (strpbrk(e.entities[i].name, "0123456789"))
            fail_msg("an entity with a score in it: %s", got);
    if (!has_entity(&e, "org", "MONTREAL") || !has_entity(&e, "org", "Los Angeles") ||
        !has_entity(&e, "org", "Florida") || !has_entity(&e, "org", "ST LOUIS"))
        fail_msg("want the clubs MONTREAL, Los Angeles, Florida and ST LOUIS, got %s", got);
    nw_enriched_release(&e);
    nw_enricher_destroy(&en);
}

/* A damaged language file stops the load and is named; a missing one is no model. */
static void
test_load_errors(void **state)
{
    (void)state;
    char dir[] = "/tmp/nw_ner_langs_XXXXXX", cmd[512], failed[4200];
    assert_non_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd, "mkdir -p %s/ner && cp %s/ner/model.bin %s/ner/", dir, DATA, dir);
    assert_int_equal(system(cmd), 0);
    nw_ner_langs_t *s = NULL;
    char model[300];
    snprintf(model, sizeof model, "%s/ner/model.bin", dir);
    assert_int_equal(nw_ner_langs_load(dir, model, &s, failed, sizeof failed), 0);
    assert_int_equal(nw_ner_langs_count(s), 0);
    assert_ptr_equal(nw_ner_langs_model(s, "de"), nw_ner_langs_model(s, "en"));
    assert_false(nw_ner_langs_has(s, "de"));
    nw_ner_langs_destroy(&s);
    snprintf(cmd, sizeof cmd, "printf 'NWNER garbage' > %s/ner/pl.bin", dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(nw_ner_langs_load(dir, model, &s, failed, sizeof failed), -EPROTO);
    assert_null(s);
    assert_non_null(strstr(failed, "/ner/pl.bin"));
    assert_int_equal(nw_ner_langs_load(dir, "/nonexistent/model.bin", &s, failed, sizeof failed),
                     -ENOENT);
    assert_string_equal(failed, "/nonexistent/model.bin");
    snprintf(cmd, sizeof cmd, "rm -r %s", dir);
    assert_int_equal(system(cmd), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_language_has_its_model),
        cmocka_unit_test(test_paragraphs_choose_models),
        cmocka_unit_test(test_doc_pass),
        cmocka_unit_test(test_surnames_across_the_article),
        cmocka_unit_test(test_enricher_uses_paragraph_models),
        cmocka_unit_test(test_short_paragraphs_keep_the_article_model),
        cmocka_unit_test(test_load_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
