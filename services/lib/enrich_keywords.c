/* enrich_keywords.c: key phrases. Every run of one to three content words is a candidate,
 * scored by its occurrences (title and subtitle weigh more); the ten best that occur more than
 * once are kept, skipping a phrase inside a better one. */
#include "enrich_internal.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

/* English function words and reporting verbs: they split key phrases and never are one. */
const char *const nw_enrich_stopwords[] = {
    "a",        "about",   "after",    "again",   "against", "all",       "also",      "an",
    "and",      "any",     "are",      "as",      "at",      "be",        "because",   "been",
    "before",   "being",   "between",  "both",    "but",     "by",        "can",       "could",
    "did",      "do",      "does",     "during",  "each",    "either",    "even",      "few",
    "for",      "from",    "further",  "had",     "has",     "have",      "having",    "he",
    "her",      "here",    "him",      "his",     "how",     "i",         "if",        "in",
    "into",     "is",      "it",       "its",     "just",    "last",      "later",     "least",
    "less",     "many",    "may",      "me",      "might",   "more",      "most",      "much",
    "must",     "my",      "new",      "no",      "nor",     "not",       "now",       "of",
    "off",      "on",      "once",     "one",     "only",    "or",        "other",     "our",
    "out",      "over",    "own",      "per",     "said",    "same",      "say",       "says",
    "she",      "should",  "since",    "so",      "some",    "still",     "such",      "than",
    "that",     "the",     "their",    "them",    "then",    "there",     "these",     "they",
    "this",     "those",   "through",  "to",      "told",    "too",       "towards",   "under",
    "until",    "up",      "upon",     "us",      "very",    "was",       "we",        "were",
    "what",     "when",    "where",    "which",   "while",   "who",       "whom",      "why",
    "will",     "with",    "within",   "without", "would",   "yet",       "you",       "your",
    "week",     "day",     "days",     "year",    "years",   "monday",    "tuesday",   "wednesday",
    "thursday", "friday",  "saturday", "sunday",  "added",   "according", "including", "already",
    "nearly",   "further", "yet",      "where",   "shall",   "two",       "three",     "four",
    "five",     "six",     "seven",    "eight",   "nine",    "ten",       "first",     "second",
    "fifth",    "sixth",   "part",     "due",     "well",    "like",      "mr",        "mrs",
    "ms"};
const size_t nw_enrich_n_stopwords = sizeof(nw_enrich_stopwords) / sizeof(nw_enrich_stopwords[0]);

/* The stopwords by hash, for kw_word: a scan of the whole list for every word of the text was
 * most of the keywords' time. Open addressing, slot = index + 1, 0 empty; built once. */
#define STOP_SLOTS 512
static uint16_t stop_slot[STOP_SLOTS];
static pthread_once_t stop_once = PTHREAD_ONCE_INIT;

static void
stop_build(void)
{
    for (size_t i = 0; i < nw_enrich_n_stopwords; i++) {
        const char *w = nw_enrich_stopwords[i];
        size_t k = XXH3_64bits(w, strlen(w)) & (STOP_SLOTS - 1);
        while (stop_slot[k])
            k = (k + 1) & (STOP_SLOTS - 1);
        stop_slot[k] = (uint16_t)(i + 1);
    }
}

static int
is_stopword(const char *w, size_t n)
{
    pthread_once(&stop_once, stop_build);
    for (size_t k = XXH3_64bits(w, n) & (STOP_SLOTS - 1); stop_slot[k];
         k = (k + 1) & (STOP_SLOTS - 1)) {
        const char *x = nw_enrich_stopwords[stop_slot[k] - 1];
        if (strncmp(x, w, n) == 0 && x[n] == 0)
            return 1;
    }
    return 0;
}

typedef struct kw {
    char text[96];
    size_t len;
    double score;
} kw_t;

typedef struct kwork {
    kw_t *v;
    size_t n, cap;
    /* Open-addressing index into v by phrase hash (slot = index + 1, 0 = empty), twice the
     * capacity of v: a linear search made keywords quadratic in the article's length. */
    uint32_t *slots;
    size_t nslots;
    char run[3][64];
    size_t runlen[3];
    size_t nrun;
    size_t last_end;
    double weight;
    int oom;
} kwork_t;

static size_t
kw_slot(const kwork_t *k, const char *p, size_t n)
{
    size_t mask = k->nslots - 1, h = (size_t)XXH3_64bits(p, n) & mask;
    while (k->slots[h]) {
        const kw_t *w = &k->v[k->slots[h] - 1];
        if (w->len == n && !memcmp(w->text, p, n))
            break;
        h = (h + 1) & mask;
    }
    return h;
}

static void
kw_add(kwork_t *k, const char *p, size_t n, double score)
{
    if (k->nslots) {
        size_t h = kw_slot(k, p, n);
        if (k->slots[h]) {
            k->v[k->slots[h] - 1].score += score;
            return;
        }
    }
    if (k->n == k->cap) {
        size_t cap = k->cap ? 2 * k->cap : 64;
        kw_t *v = realloc(k->v, cap * sizeof(*v));
        uint32_t *slots = calloc(2 * cap, sizeof(*slots));
        if (!v || !slots) {
            if (v)
                k->v = v;
            free(slots);
            k->oom = 1;
            return;
        }
        k->v = v;
        k->cap = cap;
        free(k->slots);
        k->slots = slots;
        k->nslots = 2 * cap;
        for (size_t i = 0; i < k->n; i++)
            k->slots[kw_slot(k, k->v[i].text, k->v[i].len)] = (uint32_t)(i + 1);
    }
    memcpy(k->v[k->n].text, p, n);
    k->v[k->n].text[n] = 0;
    k->v[k->n].len = n;
    k->v[k->n].score = score;
    k->slots[kw_slot(k, p, n)] = (uint32_t)(k->n + 1);
    k->n++;
}

/* Every phrase of 1..3 content words ending at the current word is a candidate; longer phrases
 * score more per occurrence, so "middle east tour" beats "tour". */
static void
kw_word(const char *w, size_t n, size_t off, void *arg)
{
    kwork_t *k = arg;
    int stop = n < 3 || (w[0] >= '0' && w[0] <= '9') || is_stopword(w, n);
    /* a gap of punctuation between words breaks a phrase too */
    if (stop || n >= 64 || (k->nrun && off > k->last_end + 1)) {
        k->nrun = 0;
    }
    k->last_end = off + n;
    if (stop || n >= 64)
        return;
    if (k->nrun == 3) {
        memmove(k->run[0], k->run[1], sizeof(k->run[0]) * 2);
        k->runlen[0] = k->runlen[1];
        k->runlen[1] = k->runlen[2];
        k->nrun = 2;
    }
    memcpy(k->run[k->nrun], w, n);
    k->runlen[k->nrun++] = n;
    for (size_t len = 1; len <= k->nrun; len++) {
        char buf[200];
        size_t bl = 0;
        for (size_t i = k->nrun - len; i < k->nrun; i++) {
            if (bl)
                buf[bl++] = ' ';
            memcpy(buf + bl, k->run[i], k->runlen[i]);
            bl += k->runlen[i];
        }
        if (bl < 96)
            kw_add(k, buf, bl, k->weight * (1.0 + 0.5 * (double)(len - 1)));
    }
}

static int
kw_cmp(const void *a, const void *b)
{
    const kw_t *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return strcmp(x->text, y->text);
}

int
nw_enrich_keywords(const nw_article_t *art, nw_enriched_t *out)
{
    kwork_t k = {0};
    k.weight = 2;
    nw_enrich_each_word(art->title, kw_word, &k);
    k.nrun = 0;
    k.weight = 1.5;
    nw_enrich_each_word(art->subtitle, kw_word, &k);
    k.nrun = 0;
    k.weight = 1;
    nw_enrich_each_word(art->text, kw_word, &k);
    int rc = k.oom ? -ENOMEM : 0;
    /* Only phrases that occur more than once (score > 2) can be kept: sort those alone. Most
     * candidates occur once, and sorting all of them (120-byte records) was ~5% of enrich. */
    size_t kept = 0;
    for (size_t i = 0; i < k.n; i++)
        if (k.v[i].score > 2) {
            if (kept != i)
                k.v[kept] = k.v[i];
            kept++;
        }
    k.n = kept;
    if (k.n)
        qsort(k.v, k.n, sizeof(kw_t), kw_cmp);
    /* Keep the ten best that occur more than once (score > 2), skipping a phrase contained in
     * a better one. */
    for (size_t i = 0; i < k.n && out->n_keywords < 10 && rc == 0; i++) {
        if (k.v[i].score <= 2)
            break;
        int inside = 0;
        for (size_t j = 0; j < out->n_keywords && !inside; j++)
            inside = strstr(out->keywords[j].id, k.v[i].text) != NULL;
        if (!inside)
            rc = nw_enrich_add_scored(&out->keywords, &out->n_keywords, k.v[i].text,
                                      strlen(k.v[i].text), k.v[i].score);
    }
    free(k.v);
    free(k.slots);
    return rc;
}
