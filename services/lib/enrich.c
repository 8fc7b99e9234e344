/* enrich.c: article -> enriched (see enrich.h). Runs in newswire-enrich and in
 * `newswire enrich --jsonl`. First the base layer (nw_enrich_article): the language of the
 * article and of each caption (lang.h), the word count, the reading
 * time and the base topics. Then nw_enricher_run: paragraph languages, then each part in its own
 * file (enrich_internal.h): entities, quotes, tone and themes, keywords, dates, amounts; then
 * the fingerprint (fingerprint.c) and the topics. This file also finds and loads the reference
 * data. Everything is a pure function of the article and the reference data, which is loaded
 * once and only read. */
#include "newswire/enrich.h"
#include "newswire/refdir.h"

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
#include "ucs.h"

/* Silent-reading speed used for reading_s: 230 words per minute, the commonly cited average
 * for adult readers of English prose (Brysbaert 2019 puts non-fiction at 238). */
#define WORDS_PER_MINUTE 230u

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
        utf8proc_ssize_t k;
        int word_char = 0, mark = 0;
        if (*p < 0x80) {
            /* ASCII: letters and digits are the only word characters, and there are no marks
             * (utf8proc's categories say the same; asking them was most of this loop). */
            word_char =
                (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9');
            k = 1;
        } else if ((k = utf8proc_iterate(p, (utf8proc_ssize_t)left, &cp)) < 1) {
            k = 1;
        } else {
            utf8proc_category_t cat = utf8proc_category(cp);
            word_char = nw_ucs_is_letter(cat) || cat == UTF8PROC_CATEGORY_ND ||
                        cat == UTF8PROC_CATEGORY_NL || cat == UTF8PROC_CATEGORY_NO;
            mark = cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_MC ||
                   cat == UTF8PROC_CATEGORY_ME;
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

int
nw_enrich_find_data(char *buf, size_t n)
{
    return nw_refdir_find("ner/model.bin", buf, n);
}

void
nw_enricher_preload(nw_enricher_t *e)
{
    if (e) {
        nw_efilter_load_all(e->words);
        nw_enrich_slug_preload();
    }
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
    free(e->tone.idx);
    free(e->cues.buf);
    free(e->cues.v);
    free(e->cues.idx);
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
                 "ner/model.bin and geo/ (tried \"%s\")",
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
    rc = nw_lang_paragraphs(e->lang, out);
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
