/* ner_lang.c: bench_ner_lang, accuracy and speed of the per-language named-entity models (see
 * ner_langs.h) on the held-back parts of the multilingual sets in ../shared/data/ner/multilingual/:
 * the CoNLL-2002/2003 val files (es, nl, de; English: CoNLL-2003 valid.txt), the WikiANN val files
 * (de es nl pl ru) and the fifth of each WikiNEuRal file whose sentence number is divisible by 5
 * (the trainer, bench_ner_train --four-fifths, never sees it). Scored like conlleval (an entity
 * counts when its type and both boundaries match), per type and over PER+LOC+ORG; speed is tokens
 * per CPU second of nw_ner_tag_words on one thread over the same sentences, best of --passes.
 * English (model.bin) is measured on its WikiNEuRal fifth beside the others as the anchor.
 *
 *   bench_ner_lang [--data DIR] [--passes N] [--lang xx[,yy]] [--model xx=PATH]... [--no-doc-pass]
 *
 * Each document (-DOCSTART- in the CoNLL files; the Wikipedia sets have none, so each of their
 * unrelated sentences is one) goes through nw_ner_doc_pass after its sentences are
 * tagged, as an article does in the product; --no-doc-pass measures the tagger alone.
 * DIR is the reference directory (default data: DIR/ner/model.bin and DIR/ner/<lang>.bin);
 * --model measures another model file for one language (for tuning). The data comes from
 * $NW_SHARED_DATA or ../shared/data; without it the bench says so and exits 0. */
#include "ner.h"
#include "ner_langs.h"
#include "newswire/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "ner_score.h"
#include "ner_train.h"

/* CPU time of this thread: on a machine shared with other work, tokens per CPU second is the
 * per-core speed the target is about, where wall time would measure the neighbours. */
static uint64_t
cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double
f1(size_t gold, size_t pred, size_t hit)
{
    double p = pred ? (double)hit / (double)pred : 0, r = gold ? (double)hit / (double)gold : 0;
    return p + r > 0 ? 2 * p * r / (p + r) : 0;
}

static void
prf(const char *name, size_t gold, size_t pred, size_t hit)
{
    double p = pred ? (double)hit / (double)pred : 0, r = gold ? (double)hit / (double)gold : 0;
    printf(" %s %.1f/%.1f", name, 100 * p, 100 * r);
}

/* Apply nw_ner_doc_pass to each document, as the product does to each article (--no-doc-pass:
 * the tagger alone). */
static int doc_pass = 1;

/* Score model m on one file (every sentence, or the held-back fifth when fifth is set) and
 * print one line. Returns 0, or -errno when the file is unreadable (the line then says skip). */
static int
measure(const char *lang, const nw_ner_t *m, const char *shared, const char *set, int fifth,
        int passes)
{
    char path[4200];
    uint8_t *pred = NULL;
    size_t ndoc = 0;
    size_t *doff = NULL; /* first token of each document (-DOCSTART-; files without: one) */
    chunk *cg = NULL, *cpr = NULL;
    nw_ner_corpus_t corp = {0};
    if (strcmp(lang, "en") == 0 && strcmp(set, "conll") == 0)
        snprintf(path, sizeof path, "%s/ner/conll2003/valid.txt", shared);
    else
        snprintf(path, sizeof path, "%s/ner/multilingual/%s-%s-val.txt.gz", shared, set, lang);
    int rc = nw_ner_corpus_load(path, (size_t)1 << 30, fifth ? 5 : 1, &corp);
    if (rc < 0)
        return rc;
    const nw_ner_word_t *words = corp.words;
    const uint8_t *gold = corp.labels;
    const size_t *off = corp.sent;
    size_t ntok = corp.ntok, nsent = corp.nsent;
    doff = malloc((nsent + 1) * sizeof *doff);
    if (doff == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t s = 0; s < nsent; s++)
        /* without -DOCSTART- lines the sentences are unrelated: each is a document */
        if (s == 0 || corp.doc[s] != corp.doc[s - 1] || corp.doc[s] == 0)
            doff[ndoc++] = off[s];
    doff[ndoc] = ntok;
    pred = malloc(ntok);
    cg = malloc(ntok * sizeof *cg);
    cpr = malloc(ntok * sizeof *cpr);
    if (pred == NULL || cg == NULL || cpr == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    uint64_t best = UINT64_MAX;
    for (int p = 0; p < passes; p++) {
        uint64_t t0 = cpu_ns();
        for (size_t s = 0; s < nsent; s++)
            if ((rc = nw_ner_tag_words(m, words + off[s], off[s + 1] - off[s], pred + off[s])) < 0)
                goto out;
        if (doc_pass)
            for (size_t d = 0; d < ndoc; d++)
                nw_ner_doc_pass(words + doff[d], doff[d + 1] - doff[d], pred + doff[d]);
        uint64_t dt = cpu_ns() - t0;
        if (dt < best)
            best = dt;
    }
    counts ct = {0};
    for (size_t s = 0; s < nsent; s++)
        score(gold + off[s], pred + off[s], off[s + 1] - off[s], cg, cpr, &ct);
    size_t g3 = 0, p3 = 0, h3 = 0;
    for (int t = 0; t < NW_NER_NTYPES; t++) {
        if (t == NW_NER_MISC)
            continue;
        g3 += ct.gold[t];
        p3 += ct.pred[t];
        h3 += ct.hit[t];
    }
    char what[64];
    snprintf(what, sizeof what, "%s%s", set, fifth ? " 1/5" : "");
    printf("  %-2s %-15s %6zu tok  PER+LOC+ORG F1 %.3f  (P/R%%", lang, what, ntok, f1(g3, p3, h3));
    for (int t = 0; t < NW_NER_NTYPES; t++)
        if (t != NW_NER_MISC)
            prf(nw_ner_type_name((nw_ner_type_t)t), ct.gold[t], ct.pred[t], ct.hit[t]);
    printf(")  %.0f tok/s\n", (double)ntok / ((double)best / 1e9));
    rc = 0;
out:
    nw_ner_corpus_release(&corp);
    free(pred);
    free(doff);
    free(cg);
    free(cpr);
    return rc;
}

int
main(int argc, char **argv)
{
    const char *data_dir = "data", *only = NULL;
    const char *over_lang[16], *over_path[16];
    int passes = 3, nover = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            data_dir = argv[++i];
        else if (strcmp(argv[i], "--passes") == 0 && i + 1 < argc)
            passes = atoi(argv[++i]);
        else if (strcmp(argv[i], "--no-doc-pass") == 0)
            doc_pass = 0;
        else if (strcmp(argv[i], "--lang") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "--model") == 0 && i + 1 < argc && nover < 16 &&
                 strchr(argv[i + 1], '=') != NULL) {
            over_lang[nover] = argv[++i];
            over_path[nover++] = strchr(argv[i], '=') + 1;
        } else {
            fprintf(stderr, "usage: bench_ner_lang [--data DIR] [--passes N] [--lang xx[,yy]] "
                            "[--model xx=PATH]... [--no-doc-pass]\n");
            return 2;
        }
    }
    if (passes < 1)
        passes = 1;
    printf("command:");
    for (int i = 0; i < argc; i++)
        printf(" %s", argv[i]);
    printf("\n");
    const char *env = getenv("NW_SHARED_DATA");
    const char *shared = env && *env ? env : "../shared/data";
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/ner/multilingual", shared);
    if (access(probe, R_OK) != 0) {
        printf("per-language NER: skip, \"%s\" not found (research-only data, not in the "
               "repository)\n",
               probe);
        return 0;
    }
    nw_ner_langs_t *set = NULL;
    char model[4200];
    snprintf(model, sizeof model, "%s/ner/model.bin", data_dir);
    char failed[4200];
    int rc = nw_ner_langs_load(data_dir, model, &set, failed, sizeof failed);
    if (rc < 0) {
        fprintf(stderr, "bench_ner_lang: cannot load \"%s\": %s\n", failed, strerror(-rc));
        return 1;
    }
    printf("per-language NER (held-back parts, conlleval exact match; %s; speed: tag_words, "
           "tokens per CPU second of 1 thread, best of %d)\n",
           doc_pass ? "with the document pass" : "sentences alone", passes);
    static const char *const langs[] = {"en", "de", "es", "fr", "it", "nl", "pl", "pt", "ru"};
    static const char *const sets[] = {"conll", "wikiann"};
    for (size_t l = 0; l < sizeof langs / sizeof *langs; l++) {
        const char *lang = langs[l];
        if (only != NULL && strstr(only, lang) == NULL)
            continue;
        nw_ner_t *own = NULL;
        const nw_ner_t *m = nw_ner_langs_model(set, lang);
        for (int o = 0; o < nover; o++) {
            if (strncmp(over_lang[o], lang, 2) != 0 || over_lang[o][2] != '=')
                continue;
            if ((rc = nw_ner_load(over_path[o], &own)) < 0) {
                fprintf(stderr, "bench_ner_lang: cannot load \"%s\": %s\n", over_path[o],
                        strerror(-rc));
                nw_ner_langs_destroy(&set);
                return 1;
            }
            m = own;
        }
        if (strcmp(lang, "en") != 0 && m == nw_ner_langs_model(set, "en") && own == NULL)
            printf("  %s: no model of its own (the English model tags it)\n", lang);
        for (size_t s = 0; s < sizeof sets / sizeof *sets; s++)
            measure(lang, m, shared, sets[s], 0, passes); /* absent sets print nothing */
        if (measure(lang, m, shared, "wikineural", 1, passes) < 0)
            printf("  %s wikineural: skip, no file\n", lang);
        nw_ner_destroy(&own);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("  models loaded: %zu languages beside English; peak RSS of this bench %.1f MB\n",
           nw_ner_langs_count(set), (double)ru.ru_maxrss / 1024);
    nw_ner_langs_destroy(&set);
    return 0;
}
