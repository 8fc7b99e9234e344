/* lang_train.c: bench_lang_train, the trainer of the n-gram language model (lang.h). Reads
 * one plain-text file per language, CORPUS/<code>.txt (made from Debian packages by
 * data/lang/corpus.sh), optionally the n-gram rank lists of libexttextcat-data
 * (TEXTCAT/<code>.lm), and writes the model file that enrich loads (data/lang/model.bin).
 *
 *   bench_lang_train [--top N] [--unseen NATS] [--textcat DIR] CORPUS MODEL.bin
 *
 * Per language and n-gram order it keeps the N most frequent n-grams seen at least twice
 * (unigrams: all), with cost -log(count / total of that order). A rank list adds, for each of
 * its n-grams, a pseudo-count total * 0.5 / (rank + 20) when that is more than the text gave,
 * so languages with little Debian text still get their most common n-grams. Deterministic:
 * the same input writes the same bytes. Never give it the evaluation data (lingua). */
#include "lang.h"
#include "newswire/util.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define COST_SCALE 10.0

typedef struct {
    uint32_t hash;
    uint32_t order;
    double count;
} gram_t;

typedef struct {
    gram_t *slot;
    size_t cap, used;
    double total[NW_LANGID_ORDER + 1];
} table_t;

static int
tab_add(table_t *t, uint32_t h, int order, double c)
{
    if (2 * (t->used + 1) > t->cap) {
        size_t cap = t->cap ? 2 * t->cap : (1u << 16);
        gram_t *s = calloc(cap, sizeof(*s));
        if (!s)
            return -ENOMEM;
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->slot[i].order)
                continue;
            size_t j = t->slot[i].hash & (cap - 1);
            while (s[j].order)
                j = (j + 1) & (cap - 1);
            s[j] = t->slot[i];
        }
        free(t->slot);
        t->slot = s;
        t->cap = cap;
    }
    size_t j = h & (t->cap - 1);
    while (t->slot[j].order && t->slot[j].hash != h)
        j = (j + 1) & (t->cap - 1);
    if (!t->slot[j].order) {
        t->slot[j].hash = h;
        t->slot[j].order = (uint32_t)order;
        t->used++;
    }
    t->slot[j].count += c;
    return 0;
}

static gram_t *
tab_get(table_t *t, uint32_t h)
{
    if (!t->cap)
        return NULL;
    size_t j = h & (t->cap - 1);
    while (t->slot[j].order) {
        if (t->slot[j].hash == h)
            return &t->slot[j];
        j = (j + 1) & (t->cap - 1);
    }
    return NULL;
}

typedef struct {
    table_t *t;
    int rc;
} count_ctx;

static void
count_gram(uint32_t h, int order, void *ctx)
{
    count_ctx *c = ctx;
    if (c->rc == 0)
        c->rc = tab_add(c->t, h, order, 1);
    c->t->total[order] += 1;
}

/* One language's kept n-grams. */
typedef struct {
    char code[8];
    int script;
    uint8_t unseen[NW_LANGID_ORDER];
    gram_t *g; /* count replaced by the cost */
    size_t n;
} lang_t;

static int
by_count_desc(const void *a, const void *b)
{
    const gram_t *x = a, *y = b;
    if (x->order != y->order)
        return x->order < y->order ? -1 : 1;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->hash < y->hash ? -1 : x->hash > y->hash;
}

static uint8_t
cost_of(double p)
{
    double c = -log(p) * COST_SCALE;
    if (c < 0)
        c = 0;
    if (c > 254)
        c = 254;
    return (uint8_t)lround(c);
}

/* Adds the rank list TEXTCAT/<name>.lm: one n-gram a line ('_' a boundary), then optional
 * whitespace and a count, most frequent first. */
static void
add_textcat(table_t *t, const char *dir, const char *code)
{
    char path[4096];
    const char *name = strcmp(code, "sr") == 0   ? "sr-Cyrl"
                       : strcmp(code, "zh") == 0 ? "zh-Hans"
                                                 : code;
    snprintf(path, sizeof(path), "%s/%s.lm", dir, name);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "  %s: no rank list %s\n", code, path);
        return;
    }
    char line[256];
    int rank = 0;
    double base[NW_LANGID_ORDER + 1];
    for (int o = 1; o <= NW_LANGID_ORDER; o++)
        base[o] = t->total[o] > 20000 ? t->total[o] : 20000;
    while (fgets(line, sizeof(line), f)) {
        int32_t cp[NW_LANGID_ORDER + 1];
        int n = 0, bad = 0;
        const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)line;
        utf8proc_ssize_t left = (utf8proc_ssize_t)strcspn(line, " \t\r\n");
        while (left > 0) {
            utf8proc_int32_t c;
            utf8proc_ssize_t k = utf8proc_iterate(p, left, &c);
            if (k < 1 || n == NW_LANGID_ORDER) {
                bad = 1;
                break;
            }
            cp[n++] = c == '_' ? ' ' : utf8proc_tolower(c);
            p += k;
            left -= k;
        }
        rank++;
        if (bad || n == 0 || (n == 1 && cp[0] == ' '))
            continue;
        /* the identifier never makes a gram with a boundary inside */
        for (int i = 1; i + 1 < n; i++)
            bad |= cp[i] == ' ';
        if (bad)
            continue;
        double pc = base[n] * 0.5 / (rank + 20);
        gram_t *g = tab_get(t, nw_langid_hash(cp, n));
        if (g && g->count >= pc)
            continue;
        double add = g ? pc - g->count : pc;
        if (tab_add(t, nw_langid_hash(cp, n), n, add) == 0)
            t->total[n] += add;
    }
    fclose(f);
}

/* The cost of an n-gram a language never showed, the same for every language so that one with
 * little text does not win by default (--unseen, nats). */
static double unseen_nats = 12;

static int
train_lang(const char *corpus, const char *textcat, const char *code, size_t top, lang_t *l)
{
    char path[4096];
    uint8_t *buf = NULL;
    size_t len = 0;
    table_t t = {0};
    snprintf(path, sizeof(path), "%s/%s.txt", corpus, code);
    int rc = nw_read_file(path, (size_t)1 << 30, &buf, &len);
    if (rc < 0)
        return rc;
    count_ctx c = {.t = &t};
    /* line by line: nw_langid_grams stops after a few thousand n-grams */
    for (size_t i = 0; i < len && c.rc == 0;) {
        size_t j = i;
        while (j < len && buf[j] != '\n')
            j++;
        for (size_t k = i; k < j;) {
            size_t e = j - k > 2000 ? k + 2000 : j;
            while (e < j && (buf[e] & 0xC0) == 0x80)
                e++;
            nw_langid_grams((const char *)buf + k, e - k, count_gram, &c);
            k = e;
        }
        i = j + 1;
    }
    l->script = nw_langid_text_script((const char *)buf, len);
    free(buf);
    if (c.rc < 0)
        return c.rc;
    if (textcat)
        add_textcat(&t, textcat, code);
    snprintf(l->code, sizeof(l->code), "%s", code);
    gram_t *all = malloc((t.used + 1) * sizeof(*all));
    if (!all)
        return -ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < t.cap; i++)
        if (t.slot[i].order)
            all[n++] = t.slot[i];
    free(t.slot);
    qsort(all, n, sizeof(*all), by_count_desc);
    size_t kept = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i, taken = 0;
        int o = (int)all[i].order;
        double min_kept = 1;
        while (j < n && (int)all[j].order == o) {
            if (o == 1 || (taken < top && all[j].count >= 2)) {
                min_kept = all[j].count;
                gram_t g = all[j];
                g.count = cost_of(g.count / t.total[o]);
                all[kept++] = g;
                taken++;
            }
            j++;
        }
        (void)min_kept;
        i = j;
    }
    for (int o = 1; o <= NW_LANGID_ORDER; o++)
        l->unseen[o - 1] = cost_of(exp(-unseen_nats));
    for (size_t i = 0; i < kept; i++)
        if (all[i].count > l->unseen[all[i].order - 1])
            all[i].count = l->unseen[all[i].order - 1];
    l->g = all;
    l->n = kept;
    fprintf(stderr, "  %s: script %d, %zu n-grams kept, totals %.0f/%.0f/%.0f/%.0f/%.0f\n", code,
            l->script, kept, t.total[1], t.total[2], t.total[3], t.total[4], t.total[5]);
    return 0;
}

typedef struct {
    uint32_t hash;
    uint8_t lang, cost;
} entry_t;

static int
by_hash(const void *a, const void *b)
{
    const entry_t *x = a, *y = b;
    if (x->hash != y->hash)
        return x->hash < y->hash ? -1 : 1;
    return x->lang < y->lang ? -1 : x->lang > y->lang;
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char **argv)
{
    size_t top = 6000;
    const char *textcat = NULL, *corpus = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--top") == 0 && i + 1 < argc)
            top = (size_t)atol(argv[++i]);
        else if (strcmp(argv[i], "--unseen") == 0 && i + 1 < argc)
            unseen_nats = atof(argv[++i]);
        else if (strcmp(argv[i], "--textcat") == 0 && i + 1 < argc)
            textcat = argv[++i];
        else if (argv[i][0] != '-' && !corpus)
            corpus = argv[i];
        else if (argv[i][0] != '-' && !out)
            out = argv[i];
        else
            corpus = NULL, i = argc;
    }
    if (!corpus || !out) {
        fprintf(
            stderr,
            "usage: bench_lang_train [--top N] [--unseen NATS] [--textcat DIR] CORPUS MODEL.bin\n");
        return 2;
    }
    DIR *d = opendir(corpus);
    if (!d) {
        perror(corpus);
        return 1;
    }
    char *names[255];
    size_t nl = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && nl < 255) {
        const char *dot = strrchr(de->d_name, '.');
        if (dot && strcmp(dot, ".txt") == 0 && dot - de->d_name < 8 && dot > de->d_name)
            names[nl++] = strndup(de->d_name, (size_t)(dot - de->d_name));
    }
    closedir(d);
    qsort(names, nl, sizeof(names[0]), by_name);
    lang_t *langs = calloc(nl, sizeof(*langs));
    size_t total = 0;
    for (size_t i = 0; i < nl; i++) {
        int rc = train_lang(corpus, textcat, names[i], top, &langs[i]);
        if (rc < 0) {
            fprintf(stderr, "bench_lang_train: %s: %s\n", names[i], strerror(-rc));
            return 1;
        }
        total += langs[i].n;
    }
    entry_t *e = malloc((total + 1) * sizeof(*e));
    size_t ne = 0;
    for (size_t i = 0; i < nl; i++)
        for (size_t j = 0; j < langs[i].n; j++)
            e[ne++] = (entry_t){langs[i].g[j].hash, (uint8_t)i, (uint8_t)langs[i].g[j].count};
    qsort(e, ne, sizeof(*e), by_hash);
    size_t ng = 0;
    for (size_t i = 0; i < ne; i++)
        ng += i == 0 || e[i].hash != e[i - 1].hash;
    size_t size = 24 + nl * 16 + ng * 4 + (ng + 1) * 4 + ne * 2 + 4;
    uint8_t *b = calloc(1, size), *p = b;
    memcpy(p, "NWLANGID", 8);
    nw_put_le32(p + 8, 1);
    nw_put_le32(p + 12, (uint32_t)nl);
    nw_put_le32(p + 16, (uint32_t)ng);
    nw_put_le32(p + 20, (uint32_t)ne);
    p += 24;
    for (size_t i = 0; i < nl; i++, p += 16) {
        memcpy(p, langs[i].code, strlen(langs[i].code));
        p[8] = (uint8_t)langs[i].script;
        memcpy(p + 9, langs[i].unseen, NW_LANGID_ORDER);
    }
    uint8_t *hashes = p, *offsets = p + ng * 4, *entries = offsets + (ng + 1) * 4;
    size_t g = 0;
    for (size_t i = 0; i < ne; i++) {
        if (i == 0 || e[i].hash != e[i - 1].hash) {
            nw_put_le32(hashes + 4 * g, e[i].hash);
            nw_put_le32(offsets + 4 * g, (uint32_t)i);
            g++;
        }
        entries[2 * i] = e[i].cost;
        entries[2 * i + 1] = e[i].lang;
    }
    nw_put_le32(offsets + 4 * ng, (uint32_t)ne);
    uint32_t h = 2166136261u;
    for (size_t i = 0; i + 4 < size; i++) {
        h ^= b[i];
        h *= 16777619u;
    }
    nw_put_le32(b + size - 4, h);
    FILE *f = fopen(out, "wb");
    if (!f || fwrite(b, 1, size, f) != size || fclose(f) != 0) {
        perror(out);
        return 1;
    }
    fprintf(stderr, "bench_lang_train: %zu languages, %zu n-grams, %zu entries, %zu bytes -> %s\n",
            nl, ng, ne, size, out);
    for (size_t i = 0; i < nl; i++) {
        free(langs[i].g);
        free(names[i]);
    }
    free(langs);
    free(e);
    free(b);
    return 0;
}
