/* enrich.c: article -> enriched (see enrich.h). Runs in newswire-enrich and in
 * `newswire enrich --jsonl`. First the base layer (nw_enrich_article): the language of the
 * article and of each caption (CLD2, through the shim in lang.cc), the word count, the reading
 * time and the base topics. Then nw_enricher_run: paragraph languages, then each part in its own
 * file (enrich_internal.h): entities, quotes, tone and themes, keywords, dates, amounts; then
 * the fingerprint (fingerprint.c) and the topics. This file also finds and loads the reference
 * data. Everything is a pure function of the article and the reference data, which is loaded
 * once and only read. */
#include "newswire/enrich.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <utf8proc.h>

#include "newswire/buf.h"
#include "newswire/fingerprint.h"
#include "newswire/util.h"

#include "enrich_internal.h"

/* Silent-reading speed used for reading_s: 230 words per minute, the commonly cited average
 * for adult readers of English prose (Brysbaert 2019 puts non-fiction at 238). */
#define WORDS_PER_MINUTE 230u

/* lang.cc: CLD2's code for text ("und" when unknown); static string. */
const char *nw_lang_cld2(const char *text, size_t len, int *reliable);

/* CLD2's answer as an ISO 639-1 code, in code (n bytes); returns CLD2's reliability. */
static int
cld2_code(const char *text, size_t len, char *out, size_t n)
{
    int reliable = 0;
    const char *code = "und";

    if (text && len > 0)
        code = nw_lang_cld2(text, len, &reliable);
    /* CLD2 still uses codes ISO 639-1 withdrew or that name the macrolanguage; the contract
     * says ISO 639-1 as used today. Norwegian text is written in Bokmål unless CLD2 says
     * Nynorsk, so "no" becomes "nb"; Chinese is "zh" in either script. */
    static const char *const legacy[][2] = {{"iw", "he"},      {"in", "id"}, {"ji", "yi"},
                                            {"jw", "jv"},      {"no", "nb"}, {"mo", "ro"},
                                            {"zh-Hant", "zh"}, {"fil", "tl"}};
    for (size_t i = 0; i < sizeof(legacy) / sizeof(legacy[0]); i++)
        if (strcmp(code, legacy[i][0]) == 0)
            code = legacy[i][1];
    snprintf(out, n, "%s", code);
    return reliable;
}

/* CLD2 (the Debian build) does not know Nynorsk and calls it Bokmål: when it says "nb" the
 * n-gram model chooses between the two. */
static const char *const LANG_NORWEGIAN[] = {"nb", "nn"};

/* Answers of CLD2 that are mostly another language in disguise: it calls Zulu, Xhosa and
 * Tsonga "st" and Shona "ny"; the model decides then, as when CLD2 has no answer. */
static const char *const LANG_DOUBTFUL[] = {"st", "ny", "rw", "ht", "ky", "su", "gd"};

/* Margin (log-probability per n-gram, nats) above which the model's answer replaces an answer
 * CLD2 itself calls unreliable. Tuned on the lingua sentences (see data/lang/README.md). */
#define LANG_MARGIN_OVERRIDE 0.05
/* ... and above which it replaces even a reliable CLD2 answer (CLD2 calls Esperanto
 * Croatian and Latin English with confidence). */
#define LANG_MARGIN_STRONG 0.2

/* CLD2 answers the model re-examines even when CLD2 calls them reliable. */
static int
lang_doubtful(const char *code)
{
    for (size_t i = 0; i < sizeof(LANG_DOUBTFUL) / sizeof(LANG_DOUBTFUL[0]); i++)
        if (strcmp(code, LANG_DOUBTFUL[i]) == 0)
            return 1;
    return strcmp(code, "nb") == 0;
}

int
nw_lang_detect_with(const nw_langid_t *m, const char *text, size_t len, char *out, size_t n)
{
    char code[16], alt[16];
    int reliable = cld2_code(text, len, code, sizeof(code));
    if (m && text && len > 0) {
        int known = 0;
        for (size_t i = 0; i < nw_langid_count(m) && !known; i++)
            known = strcmp(code, nw_langid_code(m, i)) == 0;
        for (size_t i = 0; i < sizeof(LANG_DOUBTFUL) / sizeof(LANG_DOUBTFUL[0]); i++)
            known &= strcmp(code, LANG_DOUBTFUL[i]) != 0;
        if (strcmp(code, "nb") == 0) {
            if (nw_langid_detect(m, text, len, LANG_NORWEGIAN, 2, alt, sizeof(alt)) >= 0)
                snprintf(code, sizeof(code), "%s", alt);
        } else {
            double margin = nw_langid_detect(m, text, len, NULL, 0, alt, sizeof(alt));
            if (margin >= 0 && strcmp(alt, code) != 0 &&
                (!known || margin >= (reliable ? LANG_MARGIN_STRONG : LANG_MARGIN_OVERRIDE))) {
                snprintf(code, sizeof(code), "%s", alt);
                reliable = 0;
            }
        }
    }
    if (n > 0)
        snprintf(out, n, "%s", code);
    return reliable;
}

int
nw_lang_detect(const char *text, size_t len, char *out, size_t n)
{
    return nw_lang_detect_with(NULL, text, len, out, n);
}

/* A word is a run of letters or digits. Combining marks continue a word but do not start one,
 * so decomposed "é" or Devanagari vowel signs do not split it. Invalid UTF-8 bytes separate. */
static uint32_t
count_words(const char *s)
{
    uint32_t words = 0;
    int in_word = 0;
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;

    if (!s)
        return 0;
    size_t left = strlen(s);
    while (left > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(p, (utf8proc_ssize_t)left, &cp);
        int word_char = 0, mark = 0;
        if (k < 1) {
            k = 1;
        } else {
            switch (utf8proc_category(cp)) {
            case UTF8PROC_CATEGORY_LU:
            case UTF8PROC_CATEGORY_LL:
            case UTF8PROC_CATEGORY_LT:
            case UTF8PROC_CATEGORY_LM:
            case UTF8PROC_CATEGORY_LO:
            case UTF8PROC_CATEGORY_ND:
            case UTF8PROC_CATEGORY_NL:
            case UTF8PROC_CATEGORY_NO:
                word_char = 1;
                break;
            case UTF8PROC_CATEGORY_MN:
            case UTF8PROC_CATEGORY_MC:
            case UTF8PROC_CATEGORY_ME:
                mark = 1;
                break;
            default:
                break;
            }
        }
        if (word_char && !in_word)
            words++;
        in_word = word_char || (mark && in_word);
        p += k;
        left -= (size_t)k;
    }
    return words;
}

static void
append_part(nw_buf_t *b, const char *s, int *rc)
{
    if (*rc == 0 && s && *s) {
        /* A newline between parts keeps CLD2 from gluing the title's last word to the text. */
        if (b->len > 0)
            *rc = nw_buf_append(b, "\n", 1);
        if (*rc == 0)
            *rc = nw_buf_puts(b, s);
    }
}

static char *
topic_for_lang(const char *code)
{
    size_t n = strlen(code);
    char *t = malloc(n + sizeof("lang."));
    if (!t)
        return NULL;
    memcpy(t, "lang.", 5);
    /* Topics are lowercase keys; CLD2 has a few mixed-case codes such as "zh-Hant". */
    for (size_t i = 0; i <= n; i++)
        t[5 + i] = (char)tolower((unsigned char)code[i]);
    return t;
}

/* nw_enrich_article with the language model m (NULL: CLD2 alone). */
int
nw_enrich_base(const nw_langid_t *m, nw_article_t *art, nw_enriched_t *out)
{
    int rc = -ENOMEM, brc = 0; /* every failure below is an allocation */
    nw_buf_t all = {0};
    char code[16];
    char *lang = NULL;
    char **cap_langs = NULL;
    char **topics = NULL;
    size_t n_topics = 0;

    memset(out, 0, sizeof(*out));

    /* Everything is computed first and moved into place at the end, so that on -ENOMEM the
     * article is untouched and the caller can still dead-letter it. */
    append_part(&all, art->title, &brc);
    append_part(&all, art->subtitle, &brc);
    append_part(&all, art->text, &brc);
    if (brc < 0)
        goto err;
    int reliable = nw_lang_detect_with(m, (const char *)all.data, all.len, code, sizeof(code));
    if (!reliable && art->lang && art->lang[0])
        lang = strdup(art->lang);
    else
        lang = strdup(code);
    if (!lang)
        goto err;

    if (art->n_captions > 0) {
        cap_langs = calloc(art->n_captions, sizeof(*cap_langs));
        if (!cap_langs)
            goto err;
        for (size_t i = 0; i < art->n_captions; i++) {
            const nw_caption_t *c = &art->captions[i];
            const char *t = c->text ? c->text : "";
            int ok = nw_lang_detect_with(m, t, strlen(t), code, sizeof(code));
            /* A short caption may be unreliable; a language declared upstream then wins. */
            cap_langs[i] = strdup(!ok && c->lang && c->lang[0] ? c->lang : code);
            if (!cap_langs[i])
                goto err;
        }
    }

    topics = calloc(2, sizeof(*topics));
    if (!topics)
        goto err;
    topics[n_topics++] = strdup("all");
    if (!topics[0])
        goto err;
    if (strcmp(lang, "und") != 0) {
        topics[n_topics] = topic_for_lang(lang);
        if (!topics[n_topics++])
            goto err;
    }

    out->words = count_words(art->title) + count_words(art->subtitle) + count_words(art->text);
    out->reading_s =
        (uint32_t)(((uint64_t)out->words * 60 + WORDS_PER_MINUTE - 1) / WORDS_PER_MINUTE);
    out->topics = topics;
    out->n_topics = n_topics;
    free(art->lang);
    art->lang = lang;
    for (size_t i = 0; i < art->n_captions; i++) {
        free(art->captions[i].lang);
        art->captions[i].lang = cap_langs[i];
    }
    free(cap_langs);
    out->art = *art;
    memset(art, 0, sizeof(*art));
    nw_buf_release(&all);
    return 0;

err:
    free(lang);
    for (size_t i = 0; cap_langs && i < art->n_captions; i++)
        free(cap_langs[i]);
    free(cap_langs);
    for (size_t i = 0; i < n_topics; i++)
        free(topics[i]);
    free(topics);
    nw_buf_release(&all);
    memset(out, 0, sizeof(*out));
    return rc;
}

int
nw_enrich_article(nw_article_t *art, nw_enriched_t *out)
{
    return nw_enrich_base(NULL, art, out);
}

/* ==== full enrichment: nw_enricher_t ======================================================== */

#define MAX_DATA_FILE (16u * 1024 * 1024)

static _Thread_local char enrich_err[8800];

const char *
nw_enrich_error(void)
{
    return enrich_err;
}

int
nw_enrich_read_data(const char *dir, const char *file, uint8_t **buf, size_t *len)
{
    char path[4200]; /* dir is at most 4095 bytes, file a short relative name */
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    int rc = nw_read_file(path, MAX_DATA_FILE, buf, len);
    if (rc < 0)
        snprintf(enrich_err, sizeof(enrich_err), "cannot read \"%s\": %s", path, strerror(-rc));
    return rc;
}

static int
has_model(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/ner/model.bin", dir);
    return access(path, R_OK) == 0;
}

int
nw_enrich_find_data(char *buf, size_t n)
{
    const char *env = getenv("NEWSWIRE_REF_DIR");
    if (env && *env) {
        snprintf(buf, n, "%s", env);
        return has_model(buf) ? 0 : -ENOENT;
    }
    char exe[4096];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (k > 0) {
        exe[k] = 0;
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = 0;
        static const char *const rel[] = {"../../data", "../../../data", "../share/newswire",
                                          "../data"};
        for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
            snprintf(buf, n, "%s/%s", exe, rel[i]);
            if (has_model(buf))
                return 0;
        }
    }
    snprintf(buf, n, "data");
    if (has_model(buf))
        return 0;
#ifdef NW_REF_DIR_DEFAULT
    /* Neither installed nor run from a build tree inside the sources: the sources it was
     * built from. */
    snprintf(buf, n, "%s", NW_REF_DIR_DEFAULT);
    if (has_model(buf))
        return 0;
#endif
    return -ENOENT;
}

void
nw_enricher_destroy(nw_enricher_t **pe)
{
    if (!pe || !*pe)
        return;
    nw_enricher_t *e = *pe;
    nw_ner_langs_destroy(&e->ner);
    nw_langid_destroy(&e->lang);
    nw_gaz_destroy(&e->gaz);
    nw_efilter_destroy(&e->words);
    free(e->tone.buf);
    free(e->tone.v);
    free(e->cues.buf);
    free(e->cues.v);
    free(e->themes);
    for (size_t i = 0; i < e->n_tops; i++)
        free(e->theme_tops[i]);
    free(e->theme_tops);
    free(e);
    *pe = NULL;
}

int
nw_enricher_new(const char *data_dir, const char *model_path, nw_enricher_t **out)
{
    char dir[4096], model[4200];
    nw_enricher_t *e = NULL;
    int rc;

    *out = NULL;
    enrich_err[0] = 0;
    if (data_dir) {
        snprintf(dir, sizeof(dir), "%s", data_dir);
    } else if ((rc = nw_enrich_find_data(dir, sizeof(dir))) < 0) {
        snprintf(enrich_err, sizeof(enrich_err),
                 "no reference data: set NEWSWIRE_REF_DIR to the directory holding "
                 "ner/model.bin and geo/ (tried \"%s\" and next to the executable)",
                 dir);
        return rc;
    }
    const char *env = getenv("NEWSWIRE_NER_MODEL");
    if (model_path && *model_path)
        snprintf(model, sizeof(model), "%s", model_path);
    else if (env && *env)
        snprintf(model, sizeof(model), "%s", env);
    else
        snprintf(model, sizeof(model), "%s/ner/model.bin", dir);

    e = calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    char failed[4200];
    rc = nw_ner_langs_load(dir, model, &e->ner, failed, sizeof(failed));
    if (rc < 0) {
        snprintf(enrich_err, sizeof(enrich_err), "cannot load NER model \"%s\": %s", failed,
                 rc == -EPROTO ? "not a valid model" : strerror(-rc));
        goto err;
    }
    snprintf(model, sizeof(model), "%s/lang/model.bin", dir);
    rc = nw_langid_load(model, &e->lang);
    if (rc < 0) {
        snprintf(enrich_err, sizeof(enrich_err), "cannot load language model \"%s\": %s", model,
                 rc == -EPROTO ? "not a valid model (truncated or corrupt)" : strerror(-rc));
        goto err;
    }
    snprintf(model, sizeof(model), "%s/geo", dir);
    rc = nw_gaz_load(model, &e->gaz);
    if (rc < 0) {
        snprintf(enrich_err, sizeof(enrich_err), "cannot load gazetteer \"%s\": %s", model,
                 rc == -EPROTO ? "malformed file" : strerror(-rc));
        goto err;
    }
    if ((rc = nw_enrich_lexicons_load(e, dir)) < 0)
        goto err;
    if (!(e->words = nw_efilter_new(NULL))) {
        rc = -ENOMEM;
        goto err;
    }
    *out = e;
    return 0;
err:
    nw_enricher_destroy(&e);
    return rc;
}

/* ---- paragraphs, topics, the run ------------------------------------------------------------- */

static int
para_langs(const nw_enricher_t *e, nw_enriched_t *out)
{
    const char *t = out->art.text;
    size_t cap = 0;
    while (t && *t) {
        const char *end = strstr(t, "\n\n");
        size_t n = end ? (size_t)(end - t) : strlen(t);
        size_t k = 0;
        while (k < n && (t[k] == ' ' || t[k] == '\n'))
            k++;
        if (k < n) {
            char code[16];
            /* The article's language was decided by CLD2 and the n-gram model over the whole
             * text. A paragraph CLD2 is sure is in that same language keeps it without asking
             * the model again: scoring every paragraph was ~40% of enrich's CPU on real wire
             * text, and on the bench corpora (bench/corpus.py) the model changed none of those
             * paragraphs. Norwegian and CLD2's doubtful answers still go to the model. */
            int sure = cld2_code(t, n, code, sizeof(code));
            if (!sure || !out->art.lang || strcmp(code, out->art.lang) != 0 || lang_doubtful(code))
                nw_lang_detect_with(e->lang, t, n, code, sizeof(code));
            if (out->n_para_langs == cap) {
                cap = cap ? 2 * cap : 8;
                char **v = realloc(out->para_langs, cap * sizeof(*v));
                if (!v)
                    return -ENOMEM;
                out->para_langs = v;
            }
            /* a short paragraph CLD2 cannot place takes the article's language */
            const char *use = strcmp(code, "und") == 0 && out->art.lang ? out->art.lang : code;
            if (!(out->para_langs[out->n_para_langs] = strdup(use)))
                return -ENOMEM;
            out->n_para_langs++;
        }
        if (!end)
            break;
        t = end + 2;
    }
    return 0;
}

static int
add_topic(nw_enriched_t *out, const char *topic)
{
    for (size_t i = 0; i < out->n_topics; i++)
        if (strcmp(out->topics[i], topic) == 0)
            return 0;
    char **v = realloc(out->topics, (out->n_topics + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    out->topics = v;
    if (!(v[out->n_topics] = strdup(topic)))
        return -ENOMEM;
    out->n_topics++;
    return 0;
}

static int
entity_topics(nw_enriched_t *out)
{
    int rc = 0;
    char slug[128], topic[200];
    for (size_t i = 0; i < out->n_entities && rc == 0; i++) {
        const nw_entity_t *x = &out->entities[i];
        if (!nw_enrich_slug(x->name, slug, sizeof(slug)))
            continue;
        if (!strcmp(x->type, "person") || !strcmp(x->type, "org")) {
            snprintf(topic, sizeof(topic), "%s.%s", x->type, slug);
            rc = add_topic(out, topic);
        } else if (x->cc) {
            char cc[3] = {(char)(x->cc[0] + 32), (char)(x->cc[1] + 32), 0};
            snprintf(topic, sizeof(topic), "country.%s", cc);
            rc = add_topic(out, topic);
            if (rc == 0 && x->admin1) {
                snprintf(topic, sizeof(topic), "place.%s.%s", cc, slug);
                rc = add_topic(out, topic);
            }
        }
    }
    for (size_t i = 0; i < out->n_themes && rc == 0; i++) {
        const char *id = strchr(out->themes[i].id, '>');
        if (nw_enrich_slug(id ? id + 1 : out->themes[i].id, slug, sizeof(slug))) {
            snprintf(topic, sizeof(topic), "theme.%s", slug);
            rc = add_topic(out, topic);
        }
    }
    return rc;
}

int
nw_enricher_run(const nw_enricher_t *e, nw_article_t *art, nw_enriched_t *out)
{
    nw_buf_t all = {0};
    int rc = nw_enrich_base(e->lang, art, out);
    if (rc < 0)
        return rc;
    const nw_article_t *a = &out->art;
    /* Paragraph languages first: they choose the NER model of each paragraph. */
    rc = para_langs(e, out);
    if (rc == 0)
        rc = nw_enrich_entities(e, out);
    if (rc == 0)
        rc = nw_enrich_quotes(out);
    if (rc == 0)
        rc = nw_enrich_tone_themes(e, a, out);
    if (rc == 0)
        rc = nw_enrich_keywords(a, out);
    if (rc == 0)
        rc = nw_enrich_dates(out, a->published);
    if (rc == 0)
        rc = nw_enrich_amounts(out);
    if (rc == 0)
        rc = entity_topics(out);
    if (rc == 0) {
        nw_fp_t fp;
        append_part(&all, a->title, &rc);
        append_part(&all, a->text, &rc);
        if (rc == 0)
            rc = nw_fp_compute((const char *)all.data, all.len, a->lang, &fp);
        if (rc == 0) {
            nw_fp_add_entities(&fp, out);
            rc = nw_fp_store(&fp, out);
        }
    }
    nw_buf_release(&all);
    if (rc < 0) {
        /* hand the article back as the contract says */
        *art = out->art;
        memset(&out->art, 0, sizeof(out->art));
        nw_enriched_release(out);
    }
    return rc;
}
