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

/* A CoNLL file read whole, for the benches that tag and score every sentence: the words and
 * labels of all kept sentences end to end. */
typedef struct nw_ner_corpus {
    uint8_t *buf;         /* the file; words borrow it */
    nw_ner_word_t *words; /* ntok words (room for ntok + 1) */
    uint8_t *labels;      /* their gold labels */
    size_t ntok;
    size_t *sent;  /* nsent + 1 offsets: sentence s is tokens [sent[s], sent[s + 1]) */
    uint32_t *doc; /* per sentence, the reader's document index (0 before any -DOCSTART-) */
    size_t nsent;
} nw_ner_corpus_t;

/* Read the CoNLL file at path (plain or gzip, at most max bytes) into *out, keeping sentence k
 * when k % every == 0 (every 1: all; 5: the fifth a jackknife holds back; 0 counts as 1).
 * Returns 0, the errors of nw_ner_conll_read and nw_ner_conll_next, or -EPROTO when no sentence
 * is kept; on error *out is zeroed. Release with nw_ner_corpus_release. */
int nw_ner_corpus_load(const char *path, size_t max, size_t every, nw_ner_corpus_t *out);

/* Free what *c holds and zero it; NULL-safe. */
void nw_ner_corpus_release(nw_ner_corpus_t *c);

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
