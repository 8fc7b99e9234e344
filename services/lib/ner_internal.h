/* ner_internal.h: what the NER tagger (ner.c) shares with its trainer (ner_train.c), private
 * to services/lib: the label constants, the per-word analysis the features are built from, the
 * model's tables, and the functions both sides call so that training and tagging see the same
 * features. */
#ifndef NW_NER_INTERNAL_H
#define NW_NER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ner.h"

#define NL NW_NER_NLABELS
#define START NL /* row of the transition matrix used before the first token */
#define MAXF 72  /* upper bound of feature keys per token */

/* Everything the features need from one word, computed once per word. */
typedef struct winfo {
    uint64_t raw;   /* the word, typographic punctuation folded */
    uint64_t low;   /* lowercased, digits as 0 */
    uint64_t shape; /* X/x/d per character, runs capped at 4 */
    uint64_t sshape;
    uint64_t pre[4];
    uint64_t suf[4];
    uint32_t flags;
    uint8_t ncp; /* code points seen, capped */
    uint8_t gaz; /* word-list bits: 1<<t seen first in a t entity, 16<<t seen later in one */
    uint8_t letters;
} winfo;

typedef struct slot {
    uint32_t key;
    int16_t w[NL];
} slot;

typedef struct gslot {
    uint32_t key;
    uint8_t bits;
} gslot;

/* The word lists: an open-addressing set of keys with type bits. */
typedef struct gaztab {
    gslot *v;
    uint32_t mask;
    uint32_t n;
} gaztab;

struct nw_ner {
    slot *slots;
    /* A 16-bit tag per slot (0: empty), from other bits of the key than the slot index: a
     * probe reads these 2-byte tags, a cache line or two of L2, and touches the 24-byte slot
     * only when its tag matches, so the many keys the model does not know cost no miss in the
     * megabytes of slots. */
    uint16_t *tags;
    uint32_t mask;
    uint32_t nfeat;
    gaztab gaz;
    int16_t trans[(NL + 1) * NL];
    float scale;
};

static inline uint16_t
ner_tag(uint32_t k)
{
    return (uint16_t)((k * 0x85EBCA77u) >> 16 | 1u);
}

static inline uint32_t
mix32(uint32_t k)
{
    /* Keys are hash outputs already; one multiply spreads the low bits used as the slot. */
    return k * 0x9E3779B1u;
}

/* BIO validity: I-t continues only B-t or I-t; START is the row before the first token. */
static inline int
allowed(int prev, int cur)
{
    if (cur == 0 || (cur - 1) % 2 == 0)
        return 1;
    return prev != START && prev != 0 && (prev - 1) / 2 == (cur - 1) / 2;
}

/* Analyse the word str[0..len) once into *w: its hashed forms, shape, affixes and flags. */
void nw_ner_analyze(const char *str, size_t len, winfo *w);

/* An empty word-list table sized for expect keys; 0 or -ENOMEM (g->v is the caller's to free). */
int nw_ner_gaz_init(gaztab *g, uint32_t expect);

/* Or bits into key's entry; the table never fills past half because callers size it for every
 * key they may add. */
void nw_ner_gaz_or(gaztab *g, uint32_t key, uint8_t bits);

/* The type bits of key, 0 when absent (or the table was never allocated). */
uint8_t nw_ner_gaz_get(const gaztab *g, uint32_t key);

/* Key of a word in the learned word lists. */
uint32_t nw_ner_gaz_key(const winfo *w);

/* A headline or dateline in capitals ("SOCCER - JAPAN GET LUCKY WIN") hides the capitalisation
 * that marks names elsewhere; shape features learn separately for such sentences. */
int nw_ner_sentence_caps(const winfo *w, size_t n);

/* Feature keys of token i of a sentence; returns how many were written (<= MAXF). */
size_t nw_ner_token_features(const winfo *w, size_t n, size_t i, int caps, uint32_t *k);

/* An empty model with room for nfeat features and ngaz word-list keys; NULL on ENOMEM. */
nw_ner_t *nw_ner_model_new(uint32_t nfeat, uint32_t ngaz);

/* The slot of key in m, added (zeroed) when new; m was sized by nw_ner_model_new for it. */
slot *nw_ner_model_insert(nw_ner_t *m, uint32_t key);

#endif /* NW_NER_INTERNAL_H */
