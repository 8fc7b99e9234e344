/* ner_train.c: bench_ner_train, the trainer of the named-entity model (see ner.h). Reads a
 * CoNLL-2003 training file, trains the averaged perceptron, writes the model file that the
 * enrich stage loads (data/ner/model.bin in the repository).
 *
 *   bench_ner_train [--epochs N] [--seed S] [--folds K] [--prune W] TRAIN.txt MODEL.bin
 *
 * Only the training part of CoNLL-2003 may be given here; valid.txt is for bench_enrich. */
#include "newswire/ner.h"
#include "newswire/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static int
usage(void)
{
    fprintf(stderr, "usage: bench_ner_train [--epochs N] [--seed S] [--folds K] [--prune W] "
                    "TRAIN.txt MODEL.bin\n");
    return 2;
}

int
main(int argc, char **argv)
{
    nw_ner_train_opts_t o = {.epochs = 10, .seed = 1, .folds = 5, .prune = 0.05f, .verbose = 1};
    const char *train = NULL, *model = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--epochs") == 0 && i + 1 < argc)
            o.epochs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            o.seed = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--folds") == 0 && i + 1 < argc)
            o.folds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--prune") == 0 && i + 1 < argc)
            o.prune = strtof(argv[++i], NULL);
        else if (argv[i][0] == '-')
            return usage();
        else if (train == NULL)
            train = argv[i];
        else if (model == NULL)
            model = argv[i];
        else
            return usage();
    }
    if (train == NULL || model == NULL)
        return usage();
    printf("command:");
    for (int i = 0; i < argc; i++)
        printf(" %s", argv[i]);
    printf("\n");

    uint8_t *buf = NULL;
    size_t len = 0;
    nw_ner_conll_t c = {0};
    nw_ner_trainer_t *t = NULL;
    nw_ner_t *m = NULL;
    int rc = nw_read_file(train, (size_t)1 << 30, &buf, &len);
    if (rc < 0) {
        fprintf(stderr, "bench_ner_train: cannot read \"%s\": %s\n", train, strerror(-rc));
        return 1;
    }
    t = nw_ner_trainer_new();
    if (t == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    c.buf = (const char *)buf;
    c.len = len;
    size_t sents = 0, words = 0;
    while ((rc = nw_ner_conll_next(&c)) == 1) {
        rc = nw_ner_trainer_add(t, c.words, c.labels, c.n, c.doc);
        if (rc < 0)
            goto out;
        sents++;
        words += c.n;
    }
    if (rc < 0) {
        fprintf(stderr, "bench_ner_train: bad line in \"%s\"\n", train);
        goto out;
    }
    printf("train: %zu sentences, %zu tokens, %u documents\n", sents, words, c.doc);
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
    nw_ner_conll_release(&c);
    free(buf);
    return rc < 0 ? 1 : 0;
}
