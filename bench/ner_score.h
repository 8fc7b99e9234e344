/* ner_score.h: CoNLL chunk scoring shared by the NER benches (bench_enrich, bench_ner_lang):
 * chunks read from IOB labels the way conlleval reads them, and exact-match counts per type. */
#ifndef NW_BENCH_NER_SCORE_H
#define NW_BENCH_NER_SCORE_H

#include <stddef.h>
#include <stdint.h>

#include "ner.h"

typedef struct counts {
    size_t gold[NW_NER_NTYPES];
    size_t pred[NW_NER_NTYPES];
    size_t hit[NW_NER_NTYPES];
} counts;

typedef struct chunk {
    int type;
    size_t start, end;
} chunk;

/* The chunks of lab[0..n) into out (room for n), as the tagger reads them. */
static inline size_t
chunks(const uint8_t *lab, size_t n, chunk *out)
{
    size_t k = 0, pos = 0, i, j;
    int type;
    while ((type = nw_ner_chunk_next(lab, n, &pos, &i, &j)) >= 0)
        out[k++] = (chunk){.type = type, .start = i, .end = j};
    return k;
}

static inline void
score(const uint8_t *gold, const uint8_t *pred, size_t n, chunk *cg, chunk *cp, counts *c)
{
    size_t ng = chunks(gold, n, cg), np = chunks(pred, n, cp);
    for (size_t i = 0; i < ng; i++)
        c->gold[cg[i].type]++;
    for (size_t j = 0; j < np; j++)
        c->pred[cp[j].type]++;
    for (size_t i = 0, j = 0; i < ng && j < np;) {
        if (cg[i].start == cp[j].start) {
            if (cg[i].end == cp[j].end && cg[i].type == cp[j].type)
                c->hit[cg[i].type]++;
            i++;
            j++;
        } else if (cg[i].start < cp[j].start) {
            i++;
        } else {
            j++;
        }
    }
}

#endif
