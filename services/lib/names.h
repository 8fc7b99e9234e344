/* names.h, private to the library (store.c): the store's memory of full names, so that an
 * article that calls a person only by a surname ("Trump said") is on the topic of the full name
 * other articles gave (person.donald-trump). enrich judges one article at a time and knows no
 * other (its output is a function of the article and the reference data, whichever worker runs
 * it); the store sees every article in order, so the memory lives there, beside the story ring:
 * in memory, per store process, empty after a restart, the most recent full name per surname
 * winning. */
#ifndef NW_NAMES_H
#define NW_NAMES_H

#include "newswire/proto.h"

typedef struct nw_names nw_names_t;

/* A memory of the last full names seen, one per surname (NW_NAMES_SLOTS of them, a newer name
 * taking a colliding slot). Returns NULL on ENOMEM; caller destroys. */
#define NW_NAMES_SLOTS 8192
nw_names_t *nw_names_new(void);

/* Free n and NULL *n; NULL-safe. */
void nw_names_destroy(nw_names_t **n);

/* Rewrite e's one-word persons whose word is the surname of a full name n has seen ("Trump" ->
 * "Donald Trump"), their topic with them (person.trump -> person.donald-trump, once), then
 * remember e's full names (two words or more) by their last word. Returns 0 or -ENOMEM (e is
 * then valid, partly rewritten). */
int nw_names_apply(nw_names_t *n, nw_enriched_t *e);

#endif
