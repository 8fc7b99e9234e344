/* fingerprint.c: simhash, MinHash and a term sketch over case-folded words (see fingerprint.h).
 * Words are runs of letters and digits, case-folded by utf8proc; hashes are XXH64, so the
 * sketches are the same on every machine and release. */
#include "newswire/fingerprint.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>
#include <xxhash.h>

typedef struct term {
    uint32_t h;
    double w;
} term_t;

/* Short, frequent words of the languages news comes in carry no story; they are skipped for
 * the term sketch (shingles keep them: word order is what makes a duplicate). Words of up to
 * three letters are skipped anyway, so only longer function words are listed. */
static const char *const STOP[] = {
    "about",  "after", "also",  "been",   "before",   "being",   "between", "could", "does",
    "from",   "have",  "into",  "more",   "most",     "other",   "over",    "said",  "says",
    "should", "since", "some",  "such",   "than",     "that",    "their",   "them",  "then",
    "there",  "these", "they",  "this",   "those",    "through", "under",   "until", "very",
    "were",   "what",  "when",  "where",  "which",    "while",   "will",    "with",  "would",
    "your",   "auch",  "dass",  "eine",   "einer",    "eines",   "nach",    "nicht", "oder",
    "sich",   "sind",  "über",  "werden", "wird",     "wurde",   "dans",    "elle",  "pour",
    "sont",   "avec",  "mais",  "comme",  "como",     "para",    "pero",    "sobre", "este",
    "esta",   "entre", "desde", "sido",   "della",    "delle",   "degli",   "nella", "sono",
    "anche",  "który", "oraz",  "jest",   "dlaczego",
};

static int
is_stop(const char *w, size_t n)
{
    for (size_t i = 0; i < sizeof(STOP) / sizeof(STOP[0]); i++)
        if (strlen(STOP[i]) == n && memcmp(STOP[i], w, n) == 0)
            return 1;
    return 0;
}

static int
term_cmp_h(const void *a, const void *b)
{
    const term_t *x = a, *y = b;
    return x->h < y->h ? -1 : x->h > y->h;
}

static int
term_cmp_w(const void *a, const void *b)
{
    const term_t *x = a, *y = b;
    if (x->w != y->w)
        return x->w > y->w ? -1 : 1;
    return x->h < y->h ? -1 : x->h > y->h;
}

/* splitmix64: turns one shingle hash into the i-th independent-looking permutation. */
static uint64_t
mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

int
nw_fp_compute(const char *text, size_t len, nw_fp_t *fp)
{
    uint64_t win[3] = {0};
    size_t nwords = 0, n_terms = 0, cap = 0;
    term_t *terms = NULL;
    int sim[64] = {0};
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)text;
    size_t i = 0;

    memset(fp, 0, sizeof(*fp));
    for (int k = 0; k < NW_FP_MINHASH; k++)
        fp->minhash[k] = UINT32_MAX;
    while (i < len) {
        /* Next word: fold it into w[]. */
        char w[128];
        size_t wn = 0;
        int upper = 0, started = 0;
        while (i < len) {
            utf8proc_int32_t cp;
            utf8proc_ssize_t k = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
            if (k < 1) {
                i++;
                if (started)
                    break;
                continue;
            }
            utf8proc_category_t cat = utf8proc_category(cp);
            int word = cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL ||
                       cat == UTF8PROC_CATEGORY_LT || cat == UTF8PROC_CATEGORY_LO ||
                       cat == UTF8PROC_CATEGORY_LM || cat == UTF8PROC_CATEGORY_ND ||
                       cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_MC;
            if (!word) {
                i += (size_t)k;
                if (started)
                    break;
                continue;
            }
            if (!started)
                upper = cat == UTF8PROC_CATEGORY_LU;
            started = 1;
            utf8proc_uint8_t enc[4];
            utf8proc_ssize_t m = utf8proc_encode_char(utf8proc_tolower(cp), enc);
            if (wn + (size_t)m < sizeof(w)) {
                memcpy(w + wn, enc, (size_t)m);
                wn += (size_t)m;
            }
            i += (size_t)k;
        }
        if (wn == 0)
            continue;
        uint64_t h = XXH64(w, wn, 0);
        win[0] = win[1];
        win[1] = win[2];
        win[2] = h;
        nwords++;
        if (nwords >= 3) {
            uint64_t s = mix(win[0] * 3 + mix(win[1] * 7 + mix(win[2])));
            fp->n_shingles++;
            for (int b = 0; b < 64; b++)
                sim[b] += (s >> b) & 1 ? 1 : -1;
            for (int k = 0; k < NW_FP_MINHASH; k++) {
                uint32_t v = (uint32_t)(mix(s + (uint64_t)k * 0x632be59bd9b4e019ULL) >> 32);
                if (v < fp->minhash[k])
                    fp->minhash[k] = v;
            }
        }
        /* Term: a letter word longer than three bytes, not a function word. */
        if (wn > 3 && !(w[0] >= '0' && w[0] <= '9') && !is_stop(w, wn)) {
            if (n_terms == cap) {
                cap = cap ? cap * 2 : 256;
                term_t *t = realloc(terms, cap * sizeof(*t));
                if (!t) {
                    free(terms);
                    return -ENOMEM;
                }
                terms = t;
            }
            /* Crude stemming: the first 6 bytes, so "negotiations" meets "negotiate". */
            terms[n_terms].h = (uint32_t)XXH64(w, wn < 6 ? wn : 6, 1) | 1u;
            terms[n_terms++].w = upper ? 2.0 : 1.0;
        }
    }
    /* 63 bits: the top one stays 0 so the value survives JSON (integers up to 2^63-1). */
    for (int b = 0; b < 63; b++)
        if (sim[b] > 0)
            fp->simhash |= 1ULL << b;

    /* Sum weights per term, keep the heaviest (sublinear tf), store sorted by hash. */
    if (n_terms) {
        qsort(terms, n_terms, sizeof(*terms), term_cmp_h);
        size_t u = 0;
        for (size_t k = 0; k < n_terms; k++) {
            if (u && terms[u - 1].h == terms[k].h)
                terms[u - 1].w += terms[k].w;
            else
                terms[u++] = terms[k];
        }
        for (size_t k = 0; k < u; k++)
            terms[k].w = 1.0 + log(terms[k].w);
        qsort(terms, u, sizeof(*terms), term_cmp_w);
        size_t keep = u < NW_FP_TERMS ? u : NW_FP_TERMS;
        qsort(terms, keep, sizeof(*terms), term_cmp_h);
        for (size_t k = 0; k < keep; k++) {
            fp->term[k] = terms[k].h;
            fp->weight[k] = (uint32_t)lround(terms[k].w * 1000);
        }
        fp->n_terms = keep;
    }
    free(terms);
    return 0;
}

nw_fp_score_t
nw_fp_compare(const nw_fp_t *a, const nw_fp_t *b)
{
    nw_fp_score_t s = {0};
    int eq = 0;
    if (a->n_shingles && b->n_shingles) {
        for (int k = 0; k < NW_FP_MINHASH; k++)
            eq += a->minhash[k] == b->minhash[k];
        s.jaccard = (double)eq / NW_FP_MINHASH;
    }
    double dot = 0, na = 0, nb = 0;
    for (size_t i = 0; i < a->n_terms; i++)
        na += (double)a->weight[i] * a->weight[i];
    for (size_t j = 0; j < b->n_terms; j++)
        nb += (double)b->weight[j] * b->weight[j];
    for (size_t i = 0, j = 0; i < a->n_terms && j < b->n_terms;) {
        if (a->term[i] == b->term[j])
            dot += (double)a->weight[i++] * b->weight[j++];
        else if (a->term[i] < b->term[j])
            i++;
        else
            j++;
    }
    if (na > 0 && nb > 0)
        s.cosine = dot / sqrt(na * nb);
    s.simhash_bits = __builtin_popcountll(a->simhash ^ b->simhash);
    s.similarity = s.cosine > s.jaccard ? s.cosine : s.jaccard;
    s.duplicate = s.jaccard >= NW_FP_DUP_JACCARD;
    s.same_story = s.duplicate || s.similarity >= NW_FP_STORY_SIM;
    return s;
}

static void
put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t
get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int
nw_fp_store(const nw_fp_t *fp, nw_enriched_t *e)
{
    uint8_t *mh = NULL, *tm = NULL;
    if (fp->n_shingles) {
        mh = malloc(4 * NW_FP_MINHASH);
        if (!mh)
            return -ENOMEM;
        for (int k = 0; k < NW_FP_MINHASH; k++)
            put32(mh + 4 * k, fp->minhash[k]);
    }
    if (fp->n_terms) {
        tm = malloc(8 * fp->n_terms);
        if (!tm) {
            free(mh);
            return -ENOMEM;
        }
        for (size_t k = 0; k < fp->n_terms; k++) {
            put32(tm + 8 * k, fp->term[k]);
            put32(tm + 8 * k + 4, fp->weight[k]);
        }
    }
    free(e->minhash);
    free(e->terms);
    e->simhash = fp->simhash;
    e->minhash = mh;
    e->minhash_len = mh ? 4 * NW_FP_MINHASH : 0;
    e->terms = tm;
    e->terms_len = tm ? 8 * fp->n_terms : 0;
    return 0;
}

int
nw_fp_load(const nw_enriched_t *e, nw_fp_t *fp)
{
    memset(fp, 0, sizeof(*fp));
    if ((e->minhash_len != 0 && e->minhash_len != 4 * NW_FP_MINHASH) || e->terms_len % 8 != 0 ||
        e->terms_len > 8 * NW_FP_TERMS || (e->minhash_len == 0 && e->terms_len == 0))
        return -EINVAL;
    fp->simhash = e->simhash;
    for (int k = 0; k < NW_FP_MINHASH; k++)
        fp->minhash[k] = e->minhash_len ? get32(e->minhash + 4 * k) : UINT32_MAX;
    fp->n_shingles = e->minhash_len ? 1 : 0;
    fp->n_terms = e->terms_len / 8;
    for (size_t k = 0; k < fp->n_terms; k++) {
        fp->term[k] = get32(e->terms + 8 * k);
        fp->weight[k] = get32(e->terms + 8 * k + 4);
        if (k && fp->term[k] <= fp->term[k - 1])
            return -EINVAL; /* the merge in nw_fp_compare needs ascending hashes */
    }
    return 0;
}

double
nw_similarity(const nw_enriched_t *a, const nw_enriched_t *b)
{
    nw_fp_t fa, fb;
    if (nw_fp_load(a, &fa) < 0 || nw_fp_load(b, &fb) < 0)
        return -1.0;
    return nw_fp_compare(&fa, &fb).similarity;
}
