/* enrich.c: bench_enrich, accuracy and speed of the named-entity tagger (see ner.h) on
 * CoNLL-2003 valid.txt, scored like conlleval: an entity counts when its type and both
 * boundaries match; micro precision, recall and F1 per type, over all four types, and over
 * PER+LOC+ORG (the project's headline figure). Speed is tokens per second on one thread.
 *
 *   bench_enrich [--model MODEL.bin] [--passes N] [VALID.txt]
 *
 * VALID.txt defaults to $NW_SHARED_DATA/ner/conll2003/valid.txt, then
 * ../shared/data/ner/conll2003/valid.txt; MODEL to data/ner/model.bin. Without the data the
 * bench says so and exits 0, since the data set is not part of the repository. */
#include "newswire/ner.h"
#include "newswire/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

typedef struct counts {
    size_t gold[NW_NER_NTYPES];
    size_t pred[NW_NER_NTYPES];
    size_t hit[NW_NER_NTYPES];
} counts;

typedef struct chunk {
    int type;
    size_t start, end;
} chunk;

/* Chunks as conlleval reads IOB tags: an I-t that does not continue a t chunk starts one. */
static size_t
chunks(const uint8_t *lab, size_t n, chunk *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        if (lab[i] == 0) {
            i++;
            continue;
        }
        int type = (lab[i] - 1) / 2;
        size_t j = i + 1;
        while (j < n && lab[j] == NW_NER_LABEL_I(type))
            j++;
        out[k++] = (chunk){.type = type, .start = i, .end = j};
        i = j;
    }
    return k;
}

static void
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

static void
print_prf(const char *name, size_t gold, size_t pred, size_t hit)
{
    double p = pred ? (double)hit / (double)pred : 0, r = gold ? (double)hit / (double)gold : 0;
    double f = p + r > 0 ? 2 * p * r / (p + r) : 0;
    printf("  %-14s precision %6.2f%%  recall %6.2f%%  F1 %6.2f  (gold %zu, found %zu, "
           "correct %zu)\n",
           name, 100 * p, 100 * r, 100 * f, gold, pred, hit);
}

int
main(int argc, char **argv)
{
    const char *model_path = "data/ner/model.bin", *valid = NULL;
    int passes = 5;
    char path[4096];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--model") == 0 && i + 1 < argc)
            model_path = argv[++i];
        else if (strcmp(argv[i], "--passes") == 0 && i + 1 < argc)
            passes = atoi(argv[++i]);
        else if (argv[i][0] != '-' && valid == NULL)
            valid = argv[i];
        else {
            fprintf(stderr, "usage: bench_enrich [--model MODEL.bin] [--passes N] [VALID.txt]\n");
            return 2;
        }
    }
    if (passes < 1)
        passes = 1;
    printf("command:");
    for (int i = 0; i < argc; i++)
        printf(" %s", argv[i]);
    printf("\n");
    if (valid == NULL) {
        const char *env = getenv("NW_SHARED_DATA");
        snprintf(path, sizeof path, "%s/ner/conll2003/valid.txt",
                 env && *env ? env : "../shared/data");
        valid = path;
    }
    if (access(valid, R_OK) != 0) {
        printf("skip: CoNLL-2003 data not found at \"%s\" (research-only data set, not in the "
               "repository)\n",
               valid);
        return 0;
    }

    uint8_t *buf = NULL;
    size_t len = 0;
    nw_ner_t *m = NULL;
    nw_ner_conll_t c = {0};
    uint8_t *gold = NULL, *pred = NULL;
    nw_ner_word_t *words = NULL;
    size_t *sent_off = NULL;
    chunk *cg = NULL, *cpr = NULL;
    char *text = NULL;
    nw_ner_spans_t spans = {0};
    int rc = nw_ner_load(model_path, &m);
    if (rc < 0) {
        fprintf(stderr, "bench_enrich: cannot load model \"%s\": %s\n", model_path, strerror(-rc));
        return 1;
    }
    rc = nw_read_file(valid, (size_t)1 << 30, &buf, &len);
    if (rc < 0) {
        fprintf(stderr, "bench_enrich: cannot read \"%s\": %s\n", valid, strerror(-rc));
        goto out;
    }

    /* Read every sentence once: words borrow buf, labels and sentence offsets are copied. */
    size_t ntok = 0, nsent = 0, cap = 0, scap = 0, tbytes = 0;
    c.buf = (const char *)buf;
    c.len = len;
    while ((rc = nw_ner_conll_next(&c)) == 1) {
        if (ntok + c.n > cap) {
            cap = (ntok + c.n) * 2;
            nw_ner_word_t *w = realloc(words, cap * sizeof *w);
            uint8_t *g = w ? realloc(gold, cap) : NULL;
            if (w)
                words = w;
            if (g == NULL) {
                rc = -ENOMEM;
                goto out;
            }
            gold = g;
        }
        if (nsent + 2 > scap) {
            scap = (nsent + 2) * 2;
            size_t *so = realloc(sent_off, scap * sizeof *so);
            if (so == NULL) {
                rc = -ENOMEM;
                goto out;
            }
            sent_off = so;
        }
        sent_off[nsent++] = ntok;
        for (size_t i = 0; i < c.n; i++) {
            words[ntok + i] = c.words[i];
            gold[ntok + i] = c.labels[i];
            tbytes += c.words[i].len + 1;
        }
        ntok += c.n;
    }
    if (rc < 0) {
        fprintf(stderr, "bench_enrich: bad line in \"%s\"\n", valid);
        goto out;
    }
    sent_off[nsent] = ntok;
    pred = malloc(ntok ? ntok : 1);
    cg = malloc((ntok ? ntok : 1) * sizeof *cg);
    cpr = malloc((ntok ? ntok : 1) * sizeof *cpr);
    text = malloc(tbytes + 1);
    if (pred == NULL || cg == NULL || cpr == NULL || text == NULL) {
        rc = -ENOMEM;
        goto out;
    }

    /* Accuracy and tagging speed on the gold tokenization. */
    uint64_t best = UINT64_MAX;
    for (int p = 0; p < passes; p++) {
        uint64_t t0 = nw_mono_ns();
        for (size_t s = 0; s < nsent; s++) {
            size_t a = sent_off[s], n = sent_off[s + 1] - a;
            rc = nw_ner_tag_words(m, words + a, n, pred + a);
            if (rc < 0)
                goto out;
        }
        uint64_t dt = nw_mono_ns() - t0;
        if (dt < best)
            best = dt;
    }
    counts k = {0};
    for (size_t s = 0; s < nsent; s++) {
        size_t a = sent_off[s], n = sent_off[s + 1] - a;
        score(gold + a, pred + a, n, cg, cpr, &k);
    }

    /* The running-text path: the same words joined by spaces, one sentence per line, through
     * the tokenizer, sentence splitter, tagger and span copies. */
    size_t tl = 0;
    for (size_t s = 0; s < nsent; s++) {
        for (size_t i = sent_off[s]; i < sent_off[s + 1]; i++) {
            memcpy(text + tl, words[i].s, words[i].len);
            tl += words[i].len;
            text[tl++] = i + 1 < sent_off[s + 1] ? ' ' : '\n';
        }
    }
    text[tl] = 0;
    uint64_t best_text = UINT64_MAX;
    size_t nspans = 0;
    for (int p = 0; p < passes; p++) {
        nw_ner_spans_release(&spans);
        uint64_t t0 = nw_mono_ns();
        rc = nw_ner_tag(m, text, tl, &spans);
        if (rc < 0)
            goto out;
        uint64_t dt = nw_mono_ns() - t0;
        if (dt < best_text)
            best_text = dt;
        nspans = spans.n;
    }

    size_t g3 = 0, p3 = 0, h3 = 0, ga = 0, pa = 0, ha = 0;
    printf("data: %s (%zu sentences, %zu tokens)\nmodel: %s (%zu weights)\n", valid, nsent, ntok,
           model_path, nw_ner_weight_count(m));
    printf("entity-level exact match (conlleval):\n");
    for (int t = 0; t < NW_NER_NTYPES; t++) {
        print_prf(nw_ner_type_name((nw_ner_type_t)t), k.gold[t], k.pred[t], k.hit[t]);
        ga += k.gold[t];
        pa += k.pred[t];
        ha += k.hit[t];
        if (t != NW_NER_MISC) {
            g3 += k.gold[t];
            p3 += k.pred[t];
            h3 += k.hit[t];
        }
    }
    print_prf("overall", ga, pa, ha);
    print_prf("PER+LOC+ORG", g3, p3, h3);
    double sec = (double)best / 1e9, sec_text = (double)best_text / 1e9;
    printf("speed (1 thread, best of %d passes):\n", passes);
    printf("  tag_words  %zu tokens in %.3f s = %.0f tokens/s\n", ntok, sec, (double)ntok / sec);
    printf("  tag (text) %zu bytes, %zu entities in %.3f s = %.0f tokens/s, %.1f MB/s\n", tl,
           nspans, sec_text, (double)ntok / sec_text, (double)tl / sec_text / 1e6);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS: %.1f MB\n", (double)ru.ru_maxrss / 1024);
    rc = 0;
out:
    nw_ner_spans_release(&spans);
    nw_ner_destroy(&m);
    nw_ner_conll_release(&c);
    free(buf);
    free(gold);
    free(pred);
    free(words);
    free(sent_off);
    free(cg);
    free(cpr);
    free(text);
    return rc < 0 ? 1 : 0;
}
