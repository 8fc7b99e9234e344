/* ner_train.h, private to services/lib and built only into newswire_train (bench/ and tests/
 * link it; no service does): reading CoNLL column files and training a model for ner.h's
 * tagger. */
#ifndef NW_NER_TRAIN_H
#define NW_NER_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "ner.h"

typedef struct nw_ner_trainer nw_ner_trainer_t;

/* Training options; zero fields take the defaults shown. */
typedef struct nw_ner_train_opts {
    int epochs;    /* passes over the data (default 10) */
    uint64_t seed; /* shuffling seed; same seed, same data, same model (default 1) */
    int folds;     /* jackknife folds for the learned word lists (default 5; 1 = none) */
    float prune;   /* drop averaged weights with |w| below this (default 0.05) */
    int verbose;   /* print one line per epoch to stderr */
} nw_ner_train_opts_t;

/* A reader over a CoNLL column file held in memory: "word POS chunk TAG" lines (CoNLL-2003) or
 * "word<TAB>TAG" lines (the multilingual sets), a blank line between sentences, "-DOCSTART-" lines
 * between documents. Zero-initialise it, then set buf and len; buf is borrowed for the reader's
 * life. */
typedef struct nw_ner_conll {
    const char *buf;
    size_t len;
    size_t pos;
    uint32_t doc;         /* index of the current document (counts -DOCSTART- lines) */
    nw_ner_word_t *words; /* the current sentence; words borrow buf */
    uint8_t *labels;      /* its labels (the last column) */
    size_t n;
    size_t cap;
} nw_ner_conll_t;

/* Read the next sentence into c->words, c->labels and c->n. Returns 1 for a sentence, 0 at the
 * end, -EPROTO for a line whose last column is not a label, or -ENOMEM. */
int nw_ner_conll_next(nw_ner_conll_t *c);

/* Read a CoNLL file, plain or gzip-compressed (the multilingual sets ship as .gz), into a new
 * NUL-terminated buffer: *out (caller frees) of *len bytes, at most max. Returns 0, -errno when
 * the file cannot be opened, -EFBIG past max, -EPROTO for a damaged gzip stream, or -ENOMEM. */
int nw_ner_conll_read(const char *path, size_t max, uint8_t **out, size_t *len);

/* Free the reader's arrays (not buf); NULL-safe. */
void nw_ner_conll_release(nw_ner_conll_t *c);

/* A trainer collects labelled sentences and turns them into a model. Returns NULL on ENOMEM. */
nw_ner_trainer_t *nw_ner_trainer_new(void);

/* Add one sentence: n words (copied) with their labels (valid label indices). doc groups
 * sentences into documents; the jackknife folds split by document. Returns 0, -EINVAL for a bad
 * label, or -ENOMEM. */
int nw_ner_trainer_add(nw_ner_trainer_t *t, const nw_ner_word_t *words, const uint8_t *labels,
                       size_t n, uint32_t doc);

/* Train an averaged structured perceptron on everything added. opts may be NULL. On success
 * *out is a new model (caller destroys). Returns 0, -EINVAL when no sentence was added, or
 * -ENOMEM. */
int nw_ner_trainer_run(nw_ner_trainer_t *t, const nw_ner_train_opts_t *opts, nw_ner_t **out);

/* Free the trainer and NULL *t; NULL-safe. */
void nw_ner_trainer_destroy(nw_ner_trainer_t **t);

#endif /* NW_NER_TRAIN_H */
