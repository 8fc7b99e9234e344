/* ner_langs.c: the per-language named-entity models (see ner_langs.h). A handful of languages,
 * so the lookup is a linear scan over two-letter codes; the models themselves are the ones of
 * ner.c, loaded whole at start so that a broken file is an error at start-up, not mid-stream.
 * Every model in memory takes a few MB (bench_ner_lang prints the RSS with all of them). */
#include "ner_langs.h"

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

/* Paragraphs of the text being tagged: the first byte of each and its model, in text order. */
typedef struct paras {
    size_t *start;
    const nw_ner_t **model;
    size_t n;
    size_t cur; /* the paragraph of the last offset asked for */
} paras;

static const nw_ner_t *
pick_para(void *ctx, size_t offset)
{
    paras *p = ctx;
    while (p->cur + 1 < p->n && p->start[p->cur + 1] <= offset)
        p->cur++;
    return p->model[p->cur];
}

int
nw_ner_langs_tag(const nw_ner_langs_t *s, const char *text, size_t len, char *const *para_langs,
                 size_t n_para, const char *lang, nw_ner_spans_t *out)
{
    paras p = {0};
    size_t pos = 0, k = 0, cap = 2;
    int rc = -ENOMEM;
    /* Two more than the languages given: the text's own start, and the paragraphs past them. */
    cap += n_para;
    p.start = malloc(cap * sizeof *p.start);
    p.model = malloc(cap * sizeof *p.model);
    if (p.start == NULL || p.model == NULL)
        goto out;
    p.start[0] = 0;
    p.model[0] = nw_ner_langs_model(s, lang);
    p.n = 1;
    while (para_langs != NULL && pos < len && k < n_para) {
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
            /* paragraph k: from its start; the one after the last language takes lang */
            p.start[p.n] = pos;
            p.model[p.n++] = nw_ner_langs_model(s, para_langs[k++]);
        }
        if (!end)
            break;
        pos = e + 2;
        if (k == n_para && pos < len) {
            p.start[p.n] = pos;
            p.model[p.n++] = nw_ner_langs_model(s, lang);
        }
    }
    rc = nw_ner_tag_with(pick_para, &p, text, len, out);
out:
    free(p.start);
    free(p.model);
    return rc;
}
