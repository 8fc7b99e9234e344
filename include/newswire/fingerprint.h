/* fingerprint.h: content fingerprints of an article and the similarity of two articles, for
 * near-duplicate and same-story grouping. Three sketches of the case-folded words:
 * - simhash: 63 bits (bit 63 is 0, for JSON) over word 3-shingles (Charikar 2002); near-duplicates
 * differ in few bits;
 * - minhash: NW_FP_MINHASH minima of word 3-shingle hashes (Broder 1997); the share of equal
 *   minima estimates the shingle Jaccard similarity, the duplicate test;
 * - terms: the NW_FP_TERMS heaviest content words (tf, capitalised words doubled since names
 *   carry a story across languages and rewrites), whose cosine is the same-story test.
 * Everything is deterministic and independent of the language. */
#ifndef NW_FINGERPRINT_H
#define NW_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

#include "newswire/proto.h"

#define NW_FP_MINHASH 64
#define NW_FP_TERMS 48

/* Verdict thresholds on nw_fp_compare's results (tuned on SemEval-2022 task 8, see bench). */
#define NW_FP_DUP_JACCARD 0.5 /* minhash Jaccard at or above: a duplicate (same text, edited) */
#define NW_FP_STORY_SIM 0.22  /* similarity at or above: the same story */

typedef struct nw_fp {
    uint64_t simhash;
    uint32_t minhash[NW_FP_MINHASH];
    uint32_t term[NW_FP_TERMS];   /* term hashes, ascending; 0 = empty slot */
    uint32_t weight[NW_FP_TERMS]; /* weight x 1000 */
    size_t n_terms;
    size_t n_shingles; /* 0: too short for minhash (all minima UINT32_MAX) */
} nw_fp_t;

/* The similarity of two fingerprints. */
typedef struct nw_fp_score {
    double jaccard;    /* minhash estimate of word 3-shingle Jaccard, 0..1 */
    double cosine;     /* cosine of the term sketches, 0..1 */
    double similarity; /* the blend used for verdicts, 0..1 */
    int simhash_bits;  /* Hamming distance of the simhashes */
    int duplicate;     /* jaccard >= NW_FP_DUP_JACCARD */
    int same_story;    /* similarity >= NW_FP_STORY_SIM (duplicates are the same story) */
} nw_fp_score_t;

/* Fingerprint UTF-8 text. Returns 0 or -ENOMEM. Borrows text until return. */
int nw_fp_compute(const char *text, size_t len, nw_fp_t *fp);

/* Compare two fingerprints; pure. */
nw_fp_score_t nw_fp_compare(const nw_fp_t *a, const nw_fp_t *b);

/* Serialise fp into an enriched message's simhash, minhash and terms keys (replacing what was
 * there). Returns 0 or -ENOMEM. */
int nw_fp_store(const nw_fp_t *fp, nw_enriched_t *e);

/* Read the fingerprint of an enriched message. Returns 0, or -EINVAL when it has none or the
 * sketches have the wrong size. */
int nw_fp_load(const nw_enriched_t *e, nw_fp_t *fp);

/* Similarity of two enriched articles from their stored fingerprints: 0..1, or -1.0 when one
 * has no fingerprint. */
double nw_similarity(const nw_enriched_t *a, const nw_enriched_t *b);

#endif
