/* ner_train.c: bench_ner_train, the trainer of the named-entity models (see ner.h). Reads
 * CoNLL-format training files (plain or .gz; "word POS chunk TAG" or "word<TAB>TAG"), trains the
 * averaged perceptron on all of them, writes the model file that the enrich stage loads
 * (data/ner/model.bin for English, data/ner/<lang>.bin for the others; see data/ner/README.md).
 *
 *   bench_ner_train [--epochs N] [--seed S] [--folds K] [--prune W]
 *                   [--four-fifths FILE]... [--ascii-copy FILE]... [TRAIN]... MODEL.bin
 *
 * --four-fifths FILE trains on the sentences of FILE whose number (from 0) is not divisible by 5:
 * the WikiNEuRal sets ship one split only, and its fifth divisible by 5 is held back for
 * bench_ner_lang. --ascii-copy FILE trains on every sentence of FILE twice, as written and with
 * its non-ASCII bytes deleted (see add_ascii_copy). Only training parts may be given here; the val
 * files are for measuring. */
#include "ner.h"

#include "newswire/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "ner_train.h"

static int
usage(void)
{
    fprintf(stderr, "usage: bench_ner_train [--epochs N] [--seed S] [--folds K] [--prune W] "
                    "[--four-fifths FILE]... [--ascii-copy FILE]... [TRAIN]... MODEL.bin\n");
    return 2;
}

#define HOLD_FIFTH 1 /* --four-fifths */
#define ASCII_COPY 2 /* --ascii-copy */

/* Add the sentence again with every non-ASCII byte deleted ("Töpfer" -> "Tpfer", "für" ->
 * "fr"), when that changes it, in the same document so that the jackknife folds keep both
 * copies together. Text damaged on its way loses its umlauts and ß exactly so (the CoNLL-2003
 * German val file as we have it is entirely so); the model should read both forms. */
static int
add_ascii_copy(nw_ner_trainer_t *t, const nw_ner_conll_t *c, uint32_t doc)
{
    size_t bytes = 0;
    int changed = 0;
    for (size_t i = 0; i < c->n; i++)
        bytes += c->words[i].len;
    char *buf = malloc(bytes + 1);
    nw_ner_word_t *w = malloc((c->n ? c->n : 1) * sizeof *w);
    int rc = -ENOMEM;
    if (buf == NULL || w == NULL)
        goto out;
    size_t o = 0;
    for (size_t i = 0; i < c->n; i++) {
        size_t start = o;
        for (size_t j = 0; j < c->words[i].len; j++) {
            unsigned char ch = (unsigned char)c->words[i].s[j];
            if (ch < 0x80)
                buf[o++] = (char)ch;
            else
                changed = 1;
        }
        if (o == start) { /* a word of symbols only ("²") stays whole */
            memcpy(buf + o, c->words[i].s, c->words[i].len);
            o += c->words[i].len;
        }
        w[i] = (nw_ner_word_t){.s = buf + start, .len = o - start};
    }
    rc = changed ? nw_ner_trainer_add(t, w, c->labels, c->n, doc) : 0;
out:
    free(buf);
    free(w);
    return rc;
}

/* Add the sentences of one file to the trainer; every fifth one skipped when holdout is set.
 * Documents keep counting across files (*doc) so the jackknife folds mix sources. */
static int
add_file(nw_ner_trainer_t *t, const char *path, int holdout, uint32_t *doc, size_t *sents,
         size_t *words)
{
    uint8_t *buf = NULL;
    size_t len = 0, k = 0, used = 0;
    nw_ner_conll_t c = {0};
    int rc = nw_ner_conll_read(path, (size_t)1 << 30, &buf, &len);
    if (rc < 0) {
        fprintf(stderr, "bench_ner_train: cannot read \"%s\": %s\n", path, strerror(-rc));
        return rc;
    }
    c.buf = (const char *)buf;
    c.len = len;
    while ((rc = nw_ner_conll_next(&c)) == 1) {
        /* Files without -DOCSTART- (WikiANN, WikiNEuRal) get a document per 20 sentences so
         * that the jackknife folds split them too. */
        uint32_t d = *doc + (c.doc > 0 ? c.doc : (uint32_t)(k / 20));
        if (!((holdout & HOLD_FIFTH) && k % 5 == 0)) {
            rc = nw_ner_trainer_add(t, c.words, c.labels, c.n, d);
            if (rc < 0)
                break;
            used++;
            *words += c.n;
            if ((holdout & ASCII_COPY) && (rc = add_ascii_copy(t, &c, d)) < 0)
                break;
        }
        k++;
    }
    if (rc == -EPROTO)
        fprintf(stderr, "bench_ner_train: bad line in \"%s\"\n", path);
    printf("train: %s: %zu of %zu sentences%s\n", path, used, k,
           holdout & HOLD_FIFTH   ? " (every fifth held back)"
           : holdout & ASCII_COPY ? " (each also without its non-ASCII bytes)"
                                  : "");
    *doc += (c.doc > 0 ? c.doc : (uint32_t)(k / 20)) + 1;
    *sents += used;
    nw_ner_conll_release(&c);
    free(buf);
    return rc < 0 ? rc : 0;
}

int
main(int argc, char **argv)
{
    nw_ner_train_opts_t o = {.epochs = 10, .seed = 1, .folds = 5, .prune = 0.05f, .verbose = 1};
    const char *files[64];
    int holdout[64];
    int nfiles = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--epochs") == 0 && i + 1 < argc)
            o.epochs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            o.seed = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--folds") == 0 && i + 1 < argc)
            o.folds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--prune") == 0 && i + 1 < argc)
            o.prune = strtof(argv[++i], NULL);
        else if (strcmp(argv[i], "--four-fifths") == 0 && i + 1 < argc && nfiles < 64) {
            holdout[nfiles] = HOLD_FIFTH;
            files[nfiles++] = argv[++i];
        } else if (strcmp(argv[i], "--ascii-copy") == 0 && i + 1 < argc && nfiles < 64) {
            holdout[nfiles] = ASCII_COPY;
            files[nfiles++] = argv[++i];
        } else if (argv[i][0] == '-' || nfiles == 64)
            return usage();
        else {
            holdout[nfiles] = 0;
            files[nfiles++] = argv[i];
        }
    }
    /* The last plain argument is the model to write. */
    int mi = nfiles - 1;
    while (mi >= 0 && holdout[mi])
        mi--;
    if (mi < 0 || nfiles < 2)
        return usage();
    const char *model = files[mi];
    for (int i = mi; i + 1 < nfiles; i++) {
        files[i] = files[i + 1];
        holdout[i] = holdout[i + 1];
    }
    nfiles--;
    printf("command:");
    for (int i = 0; i < argc; i++)
        printf(" %s", argv[i]);
    printf("\n");

    nw_ner_trainer_t *t = NULL;
    nw_ner_t *m = NULL;
    int rc = -ENOMEM;
    t = nw_ner_trainer_new();
    if (t == NULL)
        goto out;
    size_t sents = 0, words = 0;
    uint32_t doc = 0;
    for (int i = 0; i < nfiles; i++) {
        rc = add_file(t, files[i], holdout[i], &doc, &sents, &words);
        if (rc < 0)
            goto out;
    }
    printf("train: %zu sentences, %zu tokens, %u documents\n", sents, words, doc);
    uint64_t t0 = nw_mono_ns();
    rc = nw_ner_trainer_run(t, &o, &m);
    if (rc < 0)
        goto out;
    double secs = (double)(nw_mono_ns() - t0) / 1e9;
    rc = nw_ner_save(m, model);
    if (rc < 0) {
        fprintf(stderr, "bench_ner_train: cannot write \"%s\": %s\n", model, strerror(-rc));
        goto out;
    }
    uint8_t *ser = NULL;
    size_t slen = 0;
    if (nw_ner_serialize(m, &ser, &slen) == 0)
        free(ser);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("trained in %.1f s; %zu weights; model %zu bytes -> %s; peak RSS %ld MB\n", secs,
           nw_ner_weight_count(m), slen, model, ru.ru_maxrss / 1024);
out:
    if (rc < 0 && rc != -EPROTO)
        fprintf(stderr, "bench_ner_train: failed: %s\n", strerror(-rc));
    nw_ner_destroy(&m);
    nw_ner_trainer_destroy(&t);
    return rc < 0 ? 1 : 0;
}
