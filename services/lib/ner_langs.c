/* ner_langs.c: the per-language named-entity models (see ner_langs.h). A handful of languages,
 * so the lookup is a linear scan over two-letter codes; the models themselves are the ones of
 * ner.c, loaded whole at start so that a broken file is an error at start-up, not mid-stream.
 * Every model in memory takes a few MB (bench_ner_lang prints the RSS with all of them). */
#include "newswire/ner_langs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Languages with a model of their own, beside the default (English). */
static const char *const own_langs[] = {"de", "es", "fr", "it", "nl", "pl", "pt", "ru"};
#define NOWN (sizeof own_langs / sizeof *own_langs)

struct nw_ner_langs {
    nw_ner_t *dflt;
    nw_ner_t *own[NOWN]; /* NULL: no file for that language */
};

/* Index into own_langs of lang's primary subtag ("pt-BR" -> pt), or -1. */
static int
lang_index(const char *lang)
{
    if (lang == NULL || lang[0] == 0 || lang[1] == 0 ||
        (lang[2] != 0 && lang[2] != '-' && lang[2] != '_'))
        return -1;
    for (size_t i = 0; i < NOWN; i++)
        if (lang[0] == own_langs[i][0] && lang[1] == own_langs[i][1])
            return (int)i;
    return -1;
}

void
nw_ner_langs_destroy(nw_ner_langs_t **ps)
{
    if (ps == NULL || *ps == NULL)
        return;
    nw_ner_destroy(&(*ps)->dflt);
    for (size_t i = 0; i < NOWN; i++)
        nw_ner_destroy(&(*ps)->own[i]);
    free(*ps);
    *ps = NULL;
}

int
nw_ner_langs_load(const char *dir, const char *default_model, nw_ner_langs_t **out, char *failed,
                  size_t n)
{
    char path[4200];
    int rc;
    *out = NULL;
    nw_ner_langs_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    snprintf(path, sizeof path, "%s", default_model);
    if ((rc = nw_ner_load(path, &s->dflt)) < 0)
        goto err;
    for (size_t i = 0; i < NOWN; i++) {
        snprintf(path, sizeof path, "%s/ner/%s.bin", dir, own_langs[i]);
        if (access(path, F_OK) != 0)
            continue;
        if ((rc = nw_ner_load(path, &s->own[i])) < 0)
            goto err;
    }
    *out = s;
    return 0;
err:
    if (failed != NULL && n > 0)
        snprintf(failed, n, "%s", path);
    nw_ner_langs_destroy(&s);
    return rc;
}

const nw_ner_t *
nw_ner_langs_model(const nw_ner_langs_t *s, const char *lang)
{
    int i = lang_index(lang);
    return i >= 0 && s->own[i] != NULL ? s->own[i] : s->dflt;
}

int
nw_ner_langs_has(const nw_ner_langs_t *s, const char *lang)
{
    if (lang != NULL && lang[0] == 'e' && lang[1] == 'n' &&
        (lang[2] == 0 || lang[2] == '-' || lang[2] == '_'))
        return 1;
    int i = lang_index(lang);
    return i >= 0 && s->own[i] != NULL;
}

size_t
nw_ner_langs_count(const nw_ner_langs_t *s)
{
    size_t k = 0;
    for (size_t i = 0; i < NOWN; i++)
        k += s->own[i] != NULL;
    return k;
}

/* Tag text[a, b) with m, appending spans with offsets into text. */
static int
tag_range(const nw_ner_t *m, const char *text, size_t a, size_t b, nw_ner_spans_t *out)
{
    size_t first = out->n;
    int rc = nw_ner_tag(m, text + a, b - a, out);
    for (size_t i = first; i < out->n; i++) {
        out->v[i].start += a;
        out->v[i].end += a;
    }
    return rc;
}

int
nw_ner_langs_tag(const nw_ner_langs_t *s, const char *text, size_t len, char *const *para_langs,
                 size_t n_para, const char *lang, nw_ner_spans_t *out)
{
    if (para_langs == NULL || n_para == 0)
        return tag_range(nw_ner_langs_model(s, lang), text, 0, len, out);
    size_t pos = 0, k = 0;
    while (pos < len) {
        const char *end = NULL;
        for (size_t j = pos; j + 1 < len; j++) {
            if (text[j] == '\n' && text[j + 1] == '\n') {
                end = text + j;
                break;
            }
        }
        size_t e = end ? (size_t)(end - text) : len;
        size_t blank = pos;
        while (blank < e && (text[blank] == ' ' || text[blank] == '\n'))
            blank++;
        if (blank < e) {
            const char *pl = k < n_para ? para_langs[k] : lang;
            k++;
            int rc = tag_range(nw_ner_langs_model(s, pl), text, pos, e, out);
            if (rc < 0)
                return rc;
        }
        if (!end)
            break;
        pos = e + 2;
    }
    return 0;
}
