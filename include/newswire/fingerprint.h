/* fingerprint.h: content fingerprints of an article and the similarity of two articles, for
 * near-duplicate and same-story grouping. Words are case-folded with diacritics stripped; Han
 * and kana characters count as one-character words (their bigrams are the terms). Sketches:
 * - simhash: 63 bits (bit 63 is 0, for JSON) over word 3-shingles (Charikar 2002); near-duplicates
 *   differ in few bits;
 * - minhash: NW_FP_MINHASH minima of word 3-shingle hashes (Broder 1997); the share of equal
 *   minima estimates the shingle Jaccard similarity, the duplicate test;
 * - terms: the NW_FP_TERMS heaviest content words (stems of their first six characters, function
 *   words of a dozen languages skipped; tf, names weighted up);
 * - grams: a bottom-k sample (the NW_FP_GRAMS smallest hashes) of the character 4-grams of the
 *   content words, with their tf: robust to inflection and to cognates across languages;
 * - anchors: what reads the same in every language: numbers, and (nw_fp_add_entities) entity
 *   names, gazetteer ids and country codes of places, amounts and dates mentioned;
 * - lang: the article's language code, when known.
 * nw_fp_compare turns the cosines of terms, grams and anchors, the shingle Jaccard, whether
 * the languages (and scripts) differ and which languages they are into one similarity with a
 * linear model fitted on SemEval-2022 task 8 (bench_enrich prints the fit and its
 * cross-validated figure). The sketches are deterministic; the model's weights, the sketch
 * sizes and the stop lists are what was tuned on data. */
#ifndef NW_FINGERPRINT_H
#define NW_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

#include "newswire/proto.h"

#define NW_FP_MINHASH 64
#define NW_FP_TERMS 64
#define NW_FP_GRAMS 128
#define NW_FP_ANCHORS 32

/* Verdict thresholds on nw_fp_compare's results (tuned on SemEval-2022 task 8, see bench). */
#define NW_FP_DUP_JACCARD 0.5 /* minhash Jaccard at or above: a duplicate (same text, edited) */
#define NW_FP_STORY_SIM 0.60  /* similarity at or above: the same story */

/* The features of the similarity model, in the order of nw_fp_features. */
#define NW_FP_NFEAT 21

typedef struct nw_fp {
    uint64_t simhash;
    uint32_t minhash[NW_FP_MINHASH];
    uint32_t term[NW_FP_TERMS];   /* term hashes, ascending; 0 = empty slot */
    uint32_t weight[NW_FP_TERMS]; /* weight x 1000 */
    size_t n_terms;
    uint32_t gram[NW_FP_GRAMS]; /* 4-gram hashes, ascending */
    uint32_t gweight[NW_FP_GRAMS];
    size_t n_grams;
    uint32_t anchor[NW_FP_ANCHORS]; /* anchor hashes, ascending */
    uint32_t aweight[NW_FP_ANCHORS];
    size_t n_anchors;
    size_t n_shingles; /* 0: too short for minhash (all minima UINT32_MAX) */
    char lang[8];      /* language code ("en"), "" when unknown */
} nw_fp_t;

/* The similarity of two fingerprints. */
typedef struct nw_fp_score {
    double jaccard;    /* minhash estimate of word 3-shingle Jaccard, 0..1 */
    double cosine;     /* cosine of the term sketches, 0..1 */
    double grams;      /* cosine of the 4-gram samples, 0..1 */
    double anchors;    /* cosine of the anchor sketches, 0..1 */
    int cross_lang;    /* both languages known and different */
    int cross_script;  /* ... and written in different scripts */
    double overall;    /* the model's prediction of SemEval's Overall (1 same story .. 4
                          unrelated), unclamped */
    double similarity; /* the score used for verdicts: (4 - overall) / 3 clamped to 0..1 */
    int simhash_bits;  /* Hamming distance of the simhashes */
    int duplicate;     /* jaccard >= NW_FP_DUP_JACCARD */
    int same_story;    /* similarity >= NW_FP_STORY_SIM (duplicates are the same story) */
} nw_fp_score_t;

/* Fingerprint UTF-8 text (lang may be NULL or ""). Returns 0 or -ENOMEM. Borrows text until
 * return. */
int nw_fp_compute(const char *text, size_t len, const char *lang, nw_fp_t *fp);

/* Add the language-independent anchors of an enriched article to fp: entity names, place ids
 * and country codes, amounts and dates mentioned. When anchors overflow NW_FP_ANCHORS the
 * lightest go. Pure apart from fp; borrows e. */
void nw_fp_add_entities(nw_fp_t *fp, const nw_enriched_t *e);

/* Compare two fingerprints; pure. */
nw_fp_score_t nw_fp_compare(const nw_fp_t *a, const nw_fp_t *b);

/* The model's input for the score s of a and b: x[0] = 1 and the features nw_fp_compare
 * combines (for the bench, which fits and cross-validates the weights). */
void nw_fp_features(const nw_fp_t *a, const nw_fp_t *b, const nw_fp_score_t *s,
                    double x[NW_FP_NFEAT]);

/* The model's weights (NW_FP_NFEAT of them, predicting SemEval's Overall, 1 = same story ..
 * 4 = unrelated); similarity = (4 - prediction) / 3, clamped to 0..1. */
extern const double nw_fp_model[NW_FP_NFEAT];

/* The similarity from a predicted Overall. */
double nw_fp_similarity_of(double overall);

/* Serialise fp into an enriched message's simhash, minhash, terms, grams and anchors keys
 * (replacing what was there). Returns 0 or -ENOMEM. */
int nw_fp_store(const nw_fp_t *fp, nw_enriched_t *e);

/* Read the fingerprint of an enriched message (its language from art.lang). Returns 0, or
 * -EINVAL when it has none or the sketches have the wrong size or order. */
int nw_fp_load(const nw_enriched_t *e, nw_fp_t *fp);

/* Similarity of two enriched articles from their stored fingerprints: 0..1, or -1.0 when one
 * has no fingerprint. */
double nw_similarity(const nw_enriched_t *a, const nw_enriched_t *b);

#endif
