/* enrich.c: article -> enriched (see enrich.h). Runs in newswire-enrich and in
 * `newswire enrich --jsonl`. This scope: the language of the article and of each
 * caption (CLD2, through the shim in lang.cc), the word count, the reading time, and the topics
 * the article is published on. Everything here is a pure function of the article. */
#include "newswire/enrich.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "newswire/buf.h"

/* Silent-reading speed used for reading_s: 230 words per minute, the commonly cited average
 * for adult readers of English prose (Brysbaert 2019 puts non-fiction at 238). */
#define WORDS_PER_MINUTE 230u

/* lang.cc: CLD2's code for text ("und" when unknown); static string. */
const char *nw_lang_cld2(const char *text, size_t len, int *reliable);

int
nw_lang_detect(const char *text, size_t len, char *out, size_t n)
{
    int reliable = 0;
    const char *code = "und";

    if (text && len > 0)
        code = nw_lang_cld2(text, len, &reliable);
    if (n > 0) {
        size_t k = strlen(code);
        if (k >= n)
            k = n - 1;
        memcpy(out, code, k);
        out[k] = '\0';
    }
    return reliable;
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

int
nw_enrich_article(nw_article_t *art, nw_enriched_t *out)
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
    int reliable = nw_lang_detect((const char *)all.data, all.len, code, sizeof(code));
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
            int ok = nw_lang_detect(t, strlen(t), code, sizeof(code));
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
