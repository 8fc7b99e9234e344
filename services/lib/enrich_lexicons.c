/* enrich_lexicons.c: tone and themes from the lexicons in data/ (tone/lexicon.tsv,
 * themes/themes.tsv): loading them into sorted tables, matching a word (or a prefix entry such
 * as "negotiat*") against them, and scoring an article per 100 words. */
#include "enrich_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "newswire/util.h"

static int
lex_cmp(const void *a, const void *b)
{
    const lex_t *x = a, *y = b;
    size_t n = x->n < y->n ? x->n : y->n;
    int c = memcmp(x->w, y->w, n);
    if (c == 0)
        c = x->n < y->n ? -1 : x->n > y->n;
    return c ? c : (x->val > y->val) - (x->val < y->val);
}

static int
lex_add(lexicon_t *lx, const char *w, int val)
{
    size_t n = strlen(w);
    if (n == 0)
        return 0;
    lex_t *v = realloc(lx->v, (lx->n + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    lx->v = v;
    int prefix = w[n - 1] == '*';
    v[lx->n++] = (lex_t){w, n - (size_t)prefix, prefix, val};
    return 0;
}

static uint32_t
lex_hash(const char *w, size_t n)
{
    return (uint32_t)XXH3_64bits(w, n);
}

/* Builds lx->idx over the sorted entries; 0 or -ENOMEM. */
static int
lex_index(lexicon_t *lx)
{
    uint32_t cap = 16;
    while (cap < 2 * lx->n + 1)
        cap <<= 1;
    if ((lx->idx = calloc(cap, sizeof(*lx->idx))) == NULL)
        return -ENOMEM;
    lx->mask = cap - 1;
    for (size_t i = 0; i < lx->n; i++) {
        const lex_t *x = &lx->v[i];
        if (x->prefix && x->n < 64)
            lx->prefix_lens |= (uint64_t)1 << x->n;
        if (i > 0 && lx->v[i - 1].n == x->n && !memcmp(lx->v[i - 1].w, x->w, x->n))
            continue; /* the key's first entry is indexed already */
        uint32_t k = lex_hash(x->w, x->n) & lx->mask;
        while (lx->idx[k])
            k = (k + 1) & lx->mask;
        lx->idx[k] = (uint32_t)i + 1;
    }
    return 0;
}

/* Index of the first entry of w[0..n), or lx->n when there is none. */
static size_t
lex_find(const lexicon_t *lx, const char *w, size_t n)
{
    if (!lx->idx)
        return lx->n;
    for (uint32_t k = lex_hash(w, n) & lx->mask; lx->idx[k]; k = (k + 1) & lx->mask) {
        const lex_t *x = &lx->v[lx->idx[k] - 1];
        if (x->n == n && !memcmp(x->w, w, n))
            return lx->idx[k] - 1;
    }
    return lx->n;
}

void
nw_enrich_lex_match(const lexicon_t *lx, const char *w, size_t n, void (*fn)(int, void *),
                    void *arg)
{
    for (size_t len = n; len >= 3 && len > 0; len--) {
        /* shorter than the word, only a prefix entry can match */
        if (len < n && (len >= 64 || !(lx->prefix_lens >> len & 1)))
            continue;
        for (size_t i = lex_find(lx, w, len);
             i < lx->n && lx->v[i].n == len && !memcmp(lx->v[i].w, w, len); i++)
            if (len == n || lx->v[i].prefix)
                fn(lx->v[i].val, arg);
    }
}

/* Next line of buf (NUL-terminated in place), skipping comments and blank lines. */
static char *
next_line(char **p)
{
    while (**p) {
        char *line = *p, *nl = strchr(line, '\n');
        if (nl) {
            *nl = 0;
            *p = nl + 1;
        } else {
            *p = line + strlen(line);
        }
        if (*line && *line != '#')
            return line;
    }
    return NULL;
}

static int
load_tone(nw_enricher_t *e, const char *dir)
{
    size_t len;
    int rc = nw_enrich_read_data(dir, "tone/lexicon.tsv", &e->tone.buf, &len);
    if (rc < 0)
        return rc;
    char *p = (char *)e->tone.buf, *line;
    while ((line = next_line(&p)) != NULL) {
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        *tab = 0;
        int v = atoi(tab + 1);
        if (v != 0 && (rc = lex_add(&e->tone, line, v)) < 0)
            return rc;
    }
    qsort(e->tone.v, e->tone.n, sizeof(lex_t), lex_cmp);
    return lex_index(&e->tone);
}

static int
load_themes(nw_enricher_t *e, const char *dir)
{
    size_t len;
    int rc = nw_enrich_read_data(dir, "themes/themes.tsv", &e->cues.buf, &len);
    if (rc < 0)
        return rc;
    char *p = (char *)e->cues.buf, *line;
    while ((line = next_line(&p)) != NULL) {
        char *t1 = strchr(line, '\t');
        char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        char *gt = strchr(line, '>');
        if (!t2 || !gt || gt > t1)
            continue;
        *t1 = *t2 = 0;
        theme_t *th = realloc(e->themes, (e->n_themes + 1) * sizeof(*th));
        if (!th)
            return -ENOMEM;
        e->themes = th;
        int idx = (int)e->n_themes++;
        th[idx].id = line;
        size_t k = 0;
        while (k < e->n_tops && !(strlen(e->theme_tops[k]) == (size_t)(gt - line) &&
                                  !memcmp(e->theme_tops[k], line, (size_t)(gt - line))))
            k++;
        if (k == e->n_tops) {
            char **tops = realloc(e->theme_tops, (e->n_tops + 1) * sizeof(*tops));
            if (!tops)
                return -ENOMEM;
            e->theme_tops = tops;
            if (!(tops[e->n_tops] = nw_strndup(line, (size_t)(gt - line))))
                return -ENOMEM;
            e->n_tops++;
        }
        th[idx].top = e->theme_tops[k];
        for (char *w = strtok(t2 + 1, " "); w; w = strtok(NULL, " "))
            if ((rc = lex_add(&e->cues, w, idx)) < 0)
                return rc;
    }
    qsort(e->cues.v, e->cues.n, sizeof(lex_t), lex_cmp);
    return lex_index(&e->cues);
}

void
nw_enrich_each_word(const char *s, void (*fn)(const char *w, size_t n, size_t off, void *),
                    void *arg)
{
    char w[64];
    for (size_t i = 0; s && s[i];) {
        if (!is_word_char(s[i]) || s[i] == '-' || s[i] == '\'') {
            i++;
            continue;
        }
        size_t j = i, n = 0;
        while (s[j] && is_word_char(s[j])) {
            if (n < sizeof(w)) {
                char c = s[j];
                w[n++] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
            }
            j++;
        }
        while (n > 0 && (w[n - 1] == '\'' || w[n - 1] == '-'))
            n--;
        if (n >= 2 && w[n - 2] == '\'' && w[n - 1] == 's')
            n -= 2; /* possessive */
        if (n > 0 && n < sizeof(w))
            fn(w, n, i, arg);
        i = j;
    }
}

typedef struct counts {
    const nw_enricher_t *e;
    double words, pos, neg;
    double *theme;
    double weight;
} counts_t;

static void
on_tone(int val, void *arg)
{
    counts_t *c = arg;
    if (val > 0)
        c->pos += c->weight;
    else
        c->neg += c->weight;
}

static void
on_cue(int val, void *arg)
{
    counts_t *c = arg;
    c->theme[val] += c->weight;
}

static void
count_word(const char *w, size_t n, size_t off, void *arg)
{
    counts_t *c = arg;
    (void)off;
    c->words += 1;
    nw_enrich_lex_match(&c->e->tone, w, n, on_tone, c);
    nw_enrich_lex_match(&c->e->cues, w, n, on_cue, c);
}

static int
scored_cmp(const void *a, const void *b)
{
    const nw_scored_t *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return strcmp(x->id, y->id);
}

int
nw_enrich_add_scored(nw_scored_t **v, size_t *n, const char *id, size_t idlen, double score)
{
    nw_scored_t *x = realloc(*v, (*n + 1) * sizeof(*x));
    if (!x)
        return -ENOMEM;
    *v = x;
    x[*n] = (nw_scored_t){.id = nw_strndup(id, idlen), .score = round(score * 1000) / 1000};
    return x[(*n)++].id ? 0 : -ENOMEM;
}

int
nw_enrich_tone_themes(const nw_enricher_t *e, const nw_article_t *art, nw_enriched_t *out)
{
    double *theme = calloc(e->n_themes + 1, sizeof(double));
    if (!theme)
        return -ENOMEM;
    counts_t c = {.e = e, .theme = theme, .weight = 3};
    nw_enrich_each_word(art->title, count_word, &c);
    c.weight = 1;
    nw_enrich_each_word(art->subtitle, count_word, &c);
    nw_enrich_each_word(art->text, count_word, &c);
    int rc = 0;
    if (c.words > 0) {
        out->tone_pos = round(c.pos * 100 / c.words * 100) / 100;
        out->tone_neg = round(c.neg * 100 / c.words * 100) / 100;
        if (c.pos + c.neg > 0)
            out->polarity = round((c.pos - c.neg) / (c.pos + c.neg) * 1000) / 1000;
        /* A theme needs half a cue per 100 words; each kept sub-theme feeds its top level. */
        for (size_t k = 0; k < e->n_tops && rc == 0; k++) {
            double top = 0;
            for (size_t i = 0; i < e->n_themes && rc == 0; i++) {
                double s = theme[i] * 100 / c.words;
                if (e->themes[i].top != e->theme_tops[k] || s < 0.5)
                    continue;
                top += s;
                rc = nw_enrich_add_scored(&out->themes, &out->n_themes, e->themes[i].id,
                                          strlen(e->themes[i].id), s);
            }
            if (top > 0 && rc == 0)
                rc = nw_enrich_add_scored(&out->themes, &out->n_themes, e->theme_tops[k],
                                          strlen(e->theme_tops[k]), top);
        }
        if (out->n_themes)
            qsort(out->themes, out->n_themes, sizeof(nw_scored_t), scored_cmp);
    }
    free(theme);
    return rc;
}

int
nw_enrich_lexicons_load(nw_enricher_t *e, const char *dir)
{
    int rc;
    if ((rc = load_tone(e, dir)) < 0 || (rc = load_themes(e, dir)) < 0)
        return rc;
    return 0;
}
