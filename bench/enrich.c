/* enrich.c: bench_enrich, accuracy and speed of the named-entity tagger (see ner.h) on
 * CoNLL-2003 valid.txt, scored like conlleval: an entity counts when its type and both
 * boundaries match; micro precision, recall and F1 per type, over all four types, and over
 * PER+LOC+ORG (the project's headline figure). Speed is tokens per second on one thread.
 * Then the full enrichment (enrich.h):
 * - articles per second on one core (nw_enricher_run over the seeds and SemEval texts) and the
 *   process's peak RSS;
 * - same-story detection on SemEval-2022 task 8 (neardup/semeval2022-task8-train.csv): every
 *   text enriched, the stored fingerprints compared; Pearson of nw_fp_compare's similarity with
 *   Overall (1 = same story .. 4 = unrelated, so a good similarity correlates negatively), and
 *   precision/recall/F1 of the same-story verdict against Overall <= 1.5; then the model's
 *   weights refitted on all pairs (printed for fingerprint.c) and 5-fold cross-validated over
 *   five shuffles, the figure to report;
 * - language accuracy (nw_lang_detect) on langid/lingua: sentences, word pairs and single words,
 *   the mean over languages of the per-language accuracy.
 *
 * - entity F1 through the product (product_f1: what `newswire enrich --jsonl` emits, scored on
 *   CoNLL-2003 valid) and the share of person/org entities named by a common word, per language,
 *   on the SemEval texts (common_words_count).
 *
 *   bench_enrich [--model MODEL.bin] [--data DIR] [--passes N] [--lang] [--topics] [VALID.txt]
 *
 * --topics runs only the last two (what subscribers' topics are made of); NW_BENCH_MISSED=T
 * (0 PER, 1 ORG, 2 LOC) lists the gold entities of that type the product missed.
 *
 * --lang runs only the language part and prints every language's accuracy for each kind, with
 * the three most frequent wrong answers. The language model is --lang-model (default
 * DIR/lang/model.bin); --lang-mode cld2 or model measures CLD2 alone or the model alone
 * instead of the combination enrich uses (both).
 *
 * VALID.txt defaults to $NW_SHARED_DATA/ner/conll2003/valid.txt, then
 * ../shared/data/ner/conll2003/valid.txt; MODEL to data/ner/model.bin. Without the data the
 * bench says so and exits 0, since the data set is not part of the repository. */
#include "newswire/buf.h"
#include "newswire/enrich.h"
#include "newswire/fingerprint.h"
#include "newswire/parse.h"
#include "newswire/util.h"

#include "entity_filter.h"
#include "lang.h"
#include "ner.h"
#include "ner_train.h"

#include <dirent.h>
#include <math.h>
#include <time.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ner_score.h"

static void
print_prf(const char *name, size_t gold, size_t pred, size_t hit)
{
    double p = pred ? (double)hit / (double)pred : 0, r = gold ? (double)hit / (double)gold : 0;
    double f = p + r > 0 ? 2 * p * r / (p + r) : 0;
    printf("  %-14s precision %6.2f%%  recall %6.2f%%  F1 %6.2f  (gold %zu, found %zu, "
           "correct %zu)\n",
           name, 100 * p, 100 * r, 100 * f, gold, pred, hit);
}

static void full_bench(const char *shared, const char *data_dir, int passes, const char *lang_model,
                       const char *lang_mode);
static void product_f1(const char *valid, const char *data_dir);
static void semeval(const char *shared, const nw_enricher_t *en);
static void langid(const char *shared, int detail, const char *lang_model, const char *mode);

int
main(int argc, char **argv)
{
    const char *model_path = "data/ner/model.bin", *valid = NULL, *data_dir = "data";
    int passes = 5, lang_only = 0, topics_only = 0;
    const char *lang_model = NULL, *lang_mode = "both";
    char path[4096];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--model") == 0 && i + 1 < argc)
            model_path = argv[++i];
        else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            data_dir = argv[++i];
        else if (strcmp(argv[i], "--passes") == 0 && i + 1 < argc)
            passes = atoi(argv[++i]);
        else if (strcmp(argv[i], "--lang") == 0)
            lang_only = 1;
        else if (strcmp(argv[i], "--topics") == 0)
            topics_only = 1;
        else if (strcmp(argv[i], "--lang-model") == 0 && i + 1 < argc)
            lang_model = argv[++i];
        else if (strcmp(argv[i], "--lang-mode") == 0 && i + 1 < argc)
            lang_mode = argv[++i];
        else if (argv[i][0] != '-' && valid == NULL)
            valid = argv[i];
        else {
            fprintf(stderr, "usage: bench_enrich [--model MODEL.bin] [--data DIR] [--passes N] "
                            "[--lang] [--topics] [--lang-model PATH] [--lang-mode both|cld2|model] "
                            "[VALID.txt]\n");
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
    const char *env_shared = getenv("NW_SHARED_DATA");
    const char *shared = env_shared && *env_shared ? env_shared : "../shared/data";
    char lang_path[4200];
    if (!lang_model) {
        snprintf(lang_path, sizeof(lang_path), "%s/lang/model.bin", data_dir);
        lang_model = lang_path;
    }
    if (lang_only) {
        langid(shared, 1, lang_model, lang_mode);
        return 0;
    }
    if (topics_only) { /* what subscribers get: product F1 and common-word entities only */
        nw_enricher_t *e = NULL;
        if (access(valid, R_OK) == 0)
            product_f1(valid, data_dir);
        if (nw_enricher_new(data_dir, NULL, &e) == 0)
            semeval(shared, e);
        nw_enricher_destroy(&e);
        return 0;
    }
    if (access(valid, R_OK) != 0) {
        printf("skip: CoNLL-2003 data not found at \"%s\" (research-only data set, not in the "
               "repository)\n",
               valid);
        full_bench(shared, data_dir, passes, lang_model, lang_mode);
        return 0;
    }

    nw_ner_t *m = NULL;
    nw_ner_corpus_t corp = {0};
    uint8_t *pred = NULL;
    chunk *cg = NULL, *cpr = NULL;
    char *text = NULL;
    nw_ner_spans_t spans = {0};
    int rc = nw_ner_load(model_path, &m);
    if (rc < 0) {
        fprintf(stderr, "bench_enrich: cannot load model \"%s\": %s\n", model_path, strerror(-rc));
        return 1;
    }
    /* Read every sentence once: words borrow the file, labels and sentence offsets are copied. */
    rc = nw_ner_corpus_load(valid, (size_t)1 << 30, 1, &corp);
    if (rc < 0) {
        fprintf(stderr, "bench_enrich: cannot read \"%s\": %s\n", valid, strerror(-rc));
        goto out;
    }
    const nw_ner_word_t *words = corp.words;
    const uint8_t *gold = corp.labels;
    const size_t *sent_off = corp.sent;
    size_t ntok = corp.ntok, nsent = corp.nsent, tbytes = 0;
    for (size_t i = 0; i < ntok; i++)
        tbytes += words[i].len + 1;
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
    product_f1(valid, data_dir);
    rc = 0;
out:
    nw_ner_spans_release(&spans);
    nw_ner_destroy(&m);
    nw_ner_corpus_release(&corp);
    free(pred);
    free(cg);
    free(cpr);
    free(text);
    if (rc == 0)
        full_bench(shared, data_dir, passes, lang_model, lang_mode);
    return rc < 0 ? 1 : 0;
}

/* ---- the full enrichment ------------------------------------------------------------------ */

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One CSV record (RFC 4180: quoted fields, "" inside quotes, newlines inside quotes) from
 * buf at *pos; fields are NUL-terminated in place. Returns the field count, 0 at the end. */
static int
csv_record(char *buf, size_t len, size_t *pos, char **f, int max)
{
    size_t i = *pos;
    int n = 0;
    if (i >= len)
        return 0;
    for (;;) {
        char *out = buf + i, *start = out;
        if (i < len && buf[i] == '"') {
            i++;
            while (i < len) {
                if (buf[i] == '"' && i + 1 < len && buf[i + 1] == '"') {
                    *out++ = '"';
                    i += 2;
                } else if (buf[i] == '"') {
                    i++;
                    break;
                } else {
                    *out++ = buf[i++];
                }
            }
        }
        while (i < len && buf[i] != ',' && buf[i] != '\n')
            *out++ = buf[i++];
        char end = i < len ? buf[i] : '\n';
        *out = 0;
        if (n < max)
            f[n++] = start;
        i++;
        if (end == '\n')
            break;
    }
    *pos = i;
    return n;
}

/* Least squares with a small ridge (not on the intercept) for the model's weights: solves
 * (X'X + lambda I) w = X'y by Gauss-Jordan with partial pivoting. rows lists the pairs used. */
static void
fit_model(const double (*x)[NW_FP_NFEAT], const double *y, const size_t *rows, size_t n,
          double w[NW_FP_NFEAT])
{
    enum { D = NW_FP_NFEAT };
    double m[D][D + 1];
    memset(m, 0, sizeof(m));
    for (size_t r = 0; r < n; r++) {
        const double *v = x[rows[r]];
        for (int i = 0; i < D; i++) {
            for (int j = 0; j < D; j++)
                m[i][j] += v[i] * v[j];
            m[i][D] += v[i] * y[rows[r]];
        }
    }
    for (int i = 1; i < D; i++)
        m[i][i] += 1e-3 * (double)n;
    for (int c = 0; c < D; c++) {
        int p = c;
        for (int r = c + 1; r < D; r++)
            if (fabs(m[r][c]) > fabs(m[p][c]))
                p = r;
        for (int k = 0; k <= D; k++) {
            double t = m[c][k];
            m[c][k] = m[p][k];
            m[p][k] = t;
        }
        if (fabs(m[c][c]) < 1e-12)
            continue;
        for (int r = 0; r < D; r++) {
            if (r == c)
                continue;
            double f = m[r][c] / m[c][c];
            for (int k = c; k <= D; k++)
                m[r][k] -= f * m[c][k];
        }
    }
    for (int i = 0; i < D; i++)
        w[i] = fabs(m[i][i]) < 1e-12 ? 0 : m[i][D] / m[i][i];
}

static double
pearson(const double *a, const double *b, size_t n)
{
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    for (size_t i = 0; i < n; i++) {
        sx += a[i];
        sy += b[i];
        sxx += a[i] * a[i];
        syy += b[i] * b[i];
        sxy += a[i] * b[i];
    }
    double d = sqrt(((double)n * sxx - sx * sx) * ((double)n * syy - sy * sy));
    return d > 0 ? ((double)n * sxy - sx * sy) / d : 0;
}

/* Precision, recall and F1 of "similarity >= thr" against Overall <= 1.5. */
static void
print_f1(const char *what, const double *sim, const double *y, size_t n, double thr)
{
    size_t tp = 0, fp = 0, fn = 0;
    for (size_t i = 0; i < n; i++) {
        int gold = y[i] <= 1.5, got = sim[i] >= thr;
        tp += gold && got;
        fp += !gold && got;
        fn += gold && !got;
    }
    double p = tp + fp ? (double)tp / (double)(tp + fp) : 0;
    double r = tp + fn ? (double)tp / (double)(tp + fn) : 0;
    printf("  %s: Pearson(similarity, Overall) = %.3f; same story (Overall <= 1.5) at "
           "similarity >= %.2f: P %.3f R %.3f F1 %.3f (tp %zu fp %zu fn %zu)\n",
           what, pearson(sim, y, n), thr, p, r, p + r > 0 ? 2 * p * r / (p + r) : 0, tp, fp, fn);
}

/* Entity F1 through the product (issue 10.1): each CoNLL document becomes one article (its
 * sentences as paragraphs, tokens joined by spaces), runs through nw_enricher_run like
 * `newswire enrich --jsonl`, and the mentions of the emitted entities (person -> PER, org ->
 * ORG, place -> LOC, other -> MISC) are scored against the gold chunks with the same exact match
 * as the tagger above. A place mention over a gold MISC chunk ("Egyptian" resolved to Egypt)
 * counts neither way: the gold calls demonyms MISC, subscribers get the country. */
static void
product_f1(const char *valid, const char *data_dir)
{
    nw_ner_corpus_t corp = {0};
    uint8_t *pred = NULL;
    chunk *cg = NULL, *cpr = NULL;
    nw_enricher_t *e = NULL;
    size_t *tstart = NULL;
    counts k = {0};
    size_t skipped = 0;
    if (nw_enricher_new(data_dir, NULL, &e) < 0) {
        printf("product F1: skip, %s\n", nw_enrich_error());
        return;
    }
    if (nw_ner_corpus_load(valid, (size_t)1 << 30, 1, &corp) < 0)
        goto out;
    const nw_ner_word_t *words = corp.words;
    const uint8_t *gold = corp.labels;
    const uint32_t *doc = corp.doc;
    const size_t *sent_off = corp.sent;
    size_t ntok = corp.ntok, nsent = corp.nsent;
    pred = calloc(ntok + 1, 1);
    cg = malloc((ntok + 1) * sizeof(*cg));
    cpr = malloc((ntok + 1) * sizeof(*cpr));
    tstart = malloc((ntok + 1) * sizeof(*tstart));
    if (!pred || !cg || !cpr || !tstart)
        goto out;
    double t0 = now_s();
    size_t ndoc = 0;
    for (size_t s0 = 0; s0 < nsent;) {
        size_t s1 = s0;
        while (s1 < nsent && doc[s1] == doc[s0])
            s1++;
        nw_buf_t t = {0};
        for (size_t s = s0; s < s1; s++) {
            if (s > s0)
                nw_buf_puts(&t, "\n\n");
            for (size_t i = sent_off[s]; i < sent_off[s + 1]; i++) {
                if (i > sent_off[s])
                    nw_buf_puts(&t, " ");
                tstart[i] = t.len;
                nw_buf_append(&t, words[i].s, words[i].len);
            }
        }
        nw_buf_append(&t, "", 0);
        nw_article_t a = {.v = 1, .id = strdup("conll")};
        a.text = (char *)nw_buf_steal(&t, NULL);
        nw_enriched_t out;
        if (!a.id || !a.text || nw_enricher_run(e, &a, &out) < 0) {
            nw_article_release(&a);
            goto out;
        }
        size_t a0 = sent_off[s0], a1 = sent_off[s1];
        for (size_t i = 0; i < out.n_entities; i++) {
            const nw_entity_t *x = &out.entities[i];
            int type = !strcmp(x->type, "person")  ? NW_NER_PER
                       : !strcmp(x->type, "org")   ? NW_NER_ORG
                       : !strcmp(x->type, "place") ? NW_NER_LOC
                                                   : NW_NER_MISC;
            for (size_t m = 0; m < x->n_mentions; m++) {
                size_t ms = x->mentions[2 * m], me = x->mentions[2 * m + 1];
                size_t first = a1, last = a0;
                for (size_t j = a0; j < a1; j++)
                    if (tstart[j] >= ms && tstart[j] + words[j].len <= me) {
                        if (first == a1)
                            first = j;
                        last = j;
                    }
                if (first == a1)
                    continue;
                if (type == NW_NER_LOC && gold[first] == NW_NER_LABEL_B(NW_NER_MISC)) {
                    skipped++;
                    continue;
                }
                int clash = 0;
                for (size_t j = first; j <= last; j++)
                    clash |= pred[j] != 0;
                if (clash)
                    continue;
                pred[first] = NW_NER_LABEL_B(type);
                for (size_t j = first + 1; j <= last; j++)
                    pred[j] = NW_NER_LABEL_I(type);
            }
        }
        nw_enriched_release(&out);
        nw_article_release(&a);
        ndoc++;
        s0 = s1;
    }
    double sec = now_s() - t0;
    for (size_t s = 0; s < nsent; s++) {
        size_t a = sent_off[s], n = sent_off[s + 1] - a;
        score(gold + a, pred + a, n, cg, cpr, &k);
    }
    if (getenv("NW_BENCH_MISSED")) { /* gold chunks of the named type the product missed */
        int want = atoi(getenv("NW_BENCH_MISSED"));
        for (size_t i = 0; i < ntok; i++) {
            if (gold[i] != NW_NER_LABEL_B(want))
                continue;
            size_t j = i + 1;
            while (j < ntok && gold[j] == NW_NER_LABEL_I(want))
                j++;
            int ok = pred[i] == gold[i] && (j == ntok || pred[j] != NW_NER_LABEL_I(want));
            for (size_t q = i + 1; q < j; q++)
                ok &= pred[q] == gold[q];
            if (!ok) {
                printf("missed:");
                for (size_t q = i; q < j; q++)
                    printf(" %.*s", (int)words[q].len, words[q].s);
                printf("\tpred %d\n", pred[i]);
            }
        }
    }
    size_t g3 = 0, p3 = 0, h3 = 0;
    printf("entity F1 through the product (nw_enricher_run, as newswire enrich --jsonl; %zu "
           "documents as articles in %.1f s; %zu demonym mentions over gold MISC not counted):\n",
           ndoc, sec, skipped);
    for (int t = 0; t < NW_NER_NTYPES; t++) {
        if (t == NW_NER_MISC)
            continue;
        print_prf(nw_ner_type_name((nw_ner_type_t)t), k.gold[t], k.pred[t], k.hit[t]);
        g3 += k.gold[t];
        p3 += k.pred[t];
        h3 += k.hit[t];
    }
    print_prf("PER+LOC+ORG", g3, p3, h3);
out:
    nw_enricher_destroy(&e);
    nw_ner_corpus_release(&corp);
    free(pred);
    free(cg);
    free(cpr);
    free(tstart);
}

/* Person and organisation entities whose name is a common word of the article's language
 * (issue 10.3), per detected language, judged by the hunspell dictionaries: a list apart from
 * the /usr/share/dict lists the enricher filters with, so the figure is not the filter grading
 * itself. */
enum { CW_LANGS = 16, CW_TOP = 64 };
typedef struct cw_lang {
    char code[8];
    size_t ents, common, articles;
    char top[CW_TOP][48];
    size_t top_n[CW_TOP], ntop;
} cw_lang;
static cw_lang cw[CW_LANGS];
static size_t n_cw;
static nw_efilter_t *cw_words;

static void
common_words_count(const nw_enriched_t *out)
{
    const char *lang = out->art.lang ? out->art.lang : "und";
    cw_lang *l = NULL;
    for (size_t i = 0; i < n_cw && !l; i++)
        if (strcmp(cw[i].code, lang) == 0)
            l = &cw[i];
    if (!l && n_cw < CW_LANGS) {
        l = &cw[n_cw++];
        snprintf(l->code, sizeof(l->code), "%s", lang);
    }
    if (!l)
        return;
    l->articles++;
    for (size_t i = 0; i < out->n_entities; i++) {
        const nw_entity_t *x = &out->entities[i];
        if (strcmp(x->type, "person") != 0 && strcmp(x->type, "org") != 0)
            continue;
        l->ents++;
        if (strchr(x->name, ' ') || !nw_efilter_common(cw_words, lang, x->name, strlen(x->name)))
            continue;
        l->common++;
        size_t k = 0;
        while (k < l->ntop && strcmp(l->top[k], x->name) != 0)
            k++;
        if (k == l->ntop && l->ntop < CW_TOP)
            snprintf(l->top[l->ntop++], sizeof(l->top[0]), "%s", x->name);
        if (k < l->ntop)
            l->top_n[k]++;
    }
}

static void
common_words_print(void)
{
    printf("person/org entities named by a common word of the article's language (hunspell "
           "stems; SemEval texts, both columns; target <= 1%%):\n");
    size_t all = 0, common = 0;
    for (size_t i = 0; i < n_cw; i++) {
        cw_lang *l = &cw[i];
        int list = nw_efilter_has_lang(cw_words, l->code);
        all += l->ents;
        common += l->common;
        printf("  %-4s %4zu articles %5zu person/org, %4zu common words = %5.2f%%%s", l->code,
               l->articles, l->ents, l->common,
               l->ents ? 100.0 * (double)l->common / (double)l->ents : 0.0,
               list ? "" : " (no list to judge by)");
        for (int shown = 0; shown < 12; shown++) { /* the most frequent offenders */
            size_t best = 0, bi = CW_TOP;
            for (size_t k = 0; k < l->ntop; k++)
                if (l->top_n[k] > best) {
                    best = l->top_n[k];
                    bi = k;
                }
            if (bi == CW_TOP)
                break;
            printf("%s%s %zu", shown ? ", " : "; ", l->top[bi], best);
            l->top_n[bi] = 0;
        }
        printf("\n");
    }
    printf("  all  %5zu person/org, %4zu common words = %.2f%%\n", all, common,
           all ? 100.0 * (double)common / (double)all : 0.0);
}

/* Same-story detection on SemEval-2022 task 8: every text is enriched as newswire-enrich does
 * (language, entities, places, amounts, fingerprint) and the two stored fingerprints are
 * compared, so the figure is the store's verdict. The model's weights are refitted on all
 * pairs (printed, to paste into fingerprint.c) and 5-fold cross-validated (fit on 4/5, score
 * the other 1/5; pairs shuffled with a fixed seed), the honest figure. */
static void
semeval(const char *shared, const nw_enricher_t *en)
{
    char path[4096];
    uint8_t *buf = NULL;
    size_t len = 0, pos = 0;
    snprintf(path, sizeof(path), "%s/neardup/semeval2022-task8-train.csv", shared);
    if (nw_read_file(path, 256u << 20, &buf, &len) < 0) {
        printf("same-story: skip, \"%s\" not found\n", path);
        return;
    }
    enum { MAXP = 4096 };
    static double x[MAXP][NW_FP_NFEAT], y[MAXP], sim[MAXP], cv[MAXP];
    static size_t rows[MAXP], perm[MAXP];
    char *f[16];
    size_t n = 0, dup = 0, cross = 0;
    /* NW_BENCH_DUMP=FILE: one line per pair (Overall, languages, the model's inputs), for
     * exploring other models offline. */
    const char *dump_path = getenv("NW_BENCH_DUMP");
    FILE *dump = dump_path && *dump_path ? fopen(dump_path, "w") : NULL;
    double t0 = now_s();
    cw_words = nw_efilter_new_hunspell(NULL);
    csv_record((char *)buf, len, &pos, f, 16); /* header */
    int k;
    while (n < MAXP && (k = csv_record((char *)buf, len, &pos, f, 16)) > 0) {
        if (k < 13)
            continue;
        nw_fp_t fp[2];
        int ok = 1;
        for (int side = 0; side < 2; side++) {
            nw_article_t a = {.v = 1, .id = strdup("b"), .text = strdup(f[4 + side])};
            nw_enriched_t out;
            if (!a.id || !a.text || nw_enricher_run(en, &a, &out) < 0) {
                nw_article_release(&a);
                ok = 0;
                break;
            }
            common_words_count(&out);
            if (nw_fp_load(&out, &fp[side]) < 0)
                nw_fp_compute("", 0, NULL, &fp[side]);
            nw_enriched_release(&out);
            nw_article_release(&a);
        }
        if (!ok)
            break;
        nw_fp_score_t s = nw_fp_compare(&fp[0], &fp[1]);
        if (dump)
            fprintf(dump, "%s\t%s\t%s\t%s\t%.6f\t%.6f\t%.6f\t%.6f\t%d\t%d\t%zu\t%zu\t%zu\t%zu\n",
                    f[10], f[2], f[3], fp[0].lang, s.cosine, s.grams, s.anchors, s.jaccard,
                    s.cross_lang, s.cross_script, fp[0].n_terms, fp[1].n_terms, fp[0].n_anchors,
                    fp[1].n_anchors);
        nw_fp_features(&fp[0], &fp[1], &s, x[n]);
        y[n] = strtod(f[10], NULL);
        sim[n] = s.similarity;
        dup += s.duplicate;
        cross += s.cross_lang;
        n++;
    }
    if (dump)
        fclose(dump);
    double sec = now_s() - t0;
    common_words_print();
    nw_efilter_destroy(&cw_words);
    printf("same-story (SemEval-2022 task 8 train, %zu pairs, %zu across languages as detected, "
           "enriched and compared in %.2f s; %zu duplicates flagged):\n",
           n, cross, sec, dup);
    print_f1("model in fingerprint.c", sim, y, n, NW_FP_STORY_SIM);
    double best_f1 = 0, best_thr = 0;
    for (double thr = 0.30; thr < 0.96; thr += 0.05) {
        size_t tp = 0, fp = 0, fn = 0;
        for (size_t i = 0; i < n; i++) {
            tp += y[i] <= 1.5 && sim[i] >= thr;
            fp += y[i] > 1.5 && sim[i] >= thr;
            fn += y[i] <= 1.5 && sim[i] < thr;
        }
        double f1 = tp ? 2.0 * (double)tp / (double)(2 * tp + fp + fn) : 0;
        if (f1 > best_f1) {
            best_f1 = f1;
            best_thr = thr;
        }
    }
    printf("  best F1 over thresholds 0.30..0.95: %.3f at %.2f\n", best_f1, best_thr);
    printf("  Pearson of each feature with Overall (nw_fp_features order):");
    for (int j = 1; j < NW_FP_NFEAT; j++) {
        for (size_t i = 0; i < n; i++)
            cv[i] = x[i][j];
        printf(" %.3f", pearson(cv, y, n));
    }
    printf("\n");

    /* Refit on all pairs. */
    double w[NW_FP_NFEAT];
    for (size_t i = 0; i < n; i++)
        rows[i] = perm[i] = i;
    fit_model((const double(*)[NW_FP_NFEAT])x, y, rows, n, w);
    printf("  refit on all pairs: nw_fp_model = {");
    for (int j = 0; j < NW_FP_NFEAT; j++)
        printf("%s%.4f", j ? ", " : "", w[j]);
    printf("}\n");
    for (size_t i = 0; i < n; i++) {
        double p = 0;
        for (int j = 0; j < NW_FP_NFEAT; j++)
            p += w[j] * x[i][j];
        cv[i] = nw_fp_similarity_of(p);
    }
    print_f1("refit, scored on the same pairs", cv, y, n, NW_FP_STORY_SIM);

    /* 5-fold cross-validation, repeated over five fixed shuffles (LCG), folds by position:
     * the figure is the mean Pearson (the spread shows how much a split matters); F1 is the
     * first shuffle's. */
    double r_sum = 0, r_min = 1, r_max = -1;
    for (int rep = 0; rep < 5; rep++) {
        uint64_t seed = 12345 + (uint64_t)rep;
        for (size_t i = 0; i < n; i++)
            perm[i] = i;
        for (size_t i = n; i > 1; i--) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            size_t j = (size_t)(seed >> 33) % i, t = perm[i - 1];
            perm[i - 1] = perm[j];
            perm[j] = t;
        }
        for (int fold = 0; fold < 5; fold++) {
            size_t m = 0;
            for (size_t i = 0; i < n; i++)
                if (i % 5 != (size_t)fold)
                    rows[m++] = perm[i];
            fit_model((const double(*)[NW_FP_NFEAT])x, y, rows, m, w);
            for (size_t i = 0; i < n; i++) {
                if (i % 5 != (size_t)fold)
                    continue;
                double p = 0;
                for (int j = 0; j < NW_FP_NFEAT; j++)
                    p += w[j] * x[perm[i]][j];
                cv[perm[i]] = nw_fp_similarity_of(p);
            }
        }
        double r = pearson(cv, y, n);
        r_sum += r;
        r_min = r < r_min ? r : r_min;
        r_max = r > r_max ? r : r_max;
        if (rep == 0)
            print_f1("5-fold cross-validated (first shuffle)", cv, y, n, NW_FP_STORY_SIM);
    }
    printf("  5-fold cross-validated Pearson over 5 shuffles: mean %.3f (%.3f .. %.3f)\n",
           r_sum / 5, r_min, r_max);
    free(buf);
}

/* The wrong answers for one language, counted, for the detail listing. */
#define MISS_MAX 64
typedef struct {
    char code[16];
    size_t n;
} miss_t;

static void
note_miss(miss_t *m, size_t *n, const char *code)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(m[i].code, code) == 0) {
            m[i].n++;
            return;
        }
    if (*n < MISS_MAX) {
        snprintf(m[*n].code, sizeof(m[*n].code), "%s", code);
        m[(*n)++].n = 1;
    }
}

/* Prints the three most frequent wrong answers as "(as xx 12%, ...)". */
static void
print_misses(miss_t *m, size_t n, size_t total)
{
    for (size_t r = 0; r < 3 && r < n; r++) {
        size_t best = r;
        for (size_t i = r + 1; i < n; i++)
            if (m[i].n > m[best].n)
                best = i;
        miss_t t = m[r];
        m[r] = m[best];
        m[best] = t;
        printf("%s%s %.0f%%", r ? ", " : "  (as ", m[r].code,
               100.0 * (double)m[r].n / (double)total);
    }
    printf("%s\n", n ? ")" : "");
}

/* Language accuracy per kind; detail prints every language's accuracy, not only the weak. */
static void
langid(const char *shared, int detail, const char *lang_model, const char *mode)
{
    nw_langid_t *m = NULL;
    int rc = nw_langid_load(lang_model, &m);
    if (rc < 0)
        printf("language model \"%s\": %s; CLD2 alone\n", lang_model,
               rc == -EPROTO ? "not a valid model" : strerror(-rc));
    int only_model = m && strcmp(mode, "model") == 0;
    if (strcmp(mode, "cld2") == 0)
        nw_langid_destroy(&m);
    printf("language detector: %s\n", only_model ? "n-gram model alone"
                                      : m        ? "CLD2 + n-gram model"
                                                 : "CLD2 alone");
    static const char *const kinds[] = {"sentences", "word-pairs", "single-words"};
    for (int k = 0; k < 3; k++) {
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s/langid/lingua/%s", shared, kinds[k]);
        DIR *d = opendir(dir);
        if (!d) {
            printf("language %s: skip, \"%s\" not found\n", kinds[k], dir);
            continue;
        }
        struct dirent *de;
        double sum = 0, worst = 2;
        size_t langs = 0, lines_all = 0;
        char worst_lang[16] = "";
        while ((de = readdir(d)) != NULL) {
            const char *dot = strrchr(de->d_name, '.');
            if (!dot || strcmp(dot, ".txt") != 0 || dot - de->d_name > 8)
                continue;
            char code[16], path[8192], got[16];
            snprintf(code, sizeof(code), "%.*s", (int)(dot - de->d_name), de->d_name);
            snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
            uint8_t *buf = NULL;
            size_t len = 0, ok = 0, total = 0, n_miss = 0;
            miss_t miss[MISS_MAX];
            if (nw_read_file(path, 64u << 20, &buf, &len) < 0)
                continue;
            for (char *line = (char *)buf; line && *line;) {
                char *nl = strchr(line, '\n');
                if (nl)
                    *nl = 0;
                if (*line) {
                    if (only_model)
                        nw_langid_detect(m, line, strlen(line), NULL, 0, got, sizeof(got));
                    else
                        nw_lang_detect_with(m, line, strlen(line), got, sizeof(got));
                    ok += strcmp(got, code) == 0;
                    total++;
                    if (detail && strcmp(got, code) != 0)
                        note_miss(miss, &n_miss, got);
                }
                line = nl ? nl + 1 : NULL;
            }
            free(buf);
            if (!total)
                continue;
            double acc = (double)ok / (double)total;
            if (detail || (k == 0 && acc < 0.9)) {
                printf("  %s %s: %.3f", kinds[k], code, acc);
                print_misses(miss, n_miss, total);
            }
            sum += acc;
            langs++;
            lines_all += total;
            if (acc < worst) {
                worst = acc;
                snprintf(worst_lang, sizeof(worst_lang), "%s", code);
            }
        }
        closedir(d);
        if (langs)
            printf("language %-12s %zu languages, %zu lines: mean accuracy %.3f (worst %s %.3f)\n",
                   kinds[k], langs, lines_all, sum / (double)langs, worst_lang, worst);
    }
    nw_langid_destroy(&m);
}

static void
full_bench(const char *shared, const char *data_dir, int passes, const char *lang_model,
           const char *lang_mode)
{
    nw_enricher_t *e = NULL;
    double t0 = now_s();
    if (nw_enricher_new(data_dir, NULL, &e) < 0) {
        printf("full enrichment: skip, %s\n", nw_enrich_error());
        return;
    }
    printf("full enrichment: reference data loaded in %.3f s\n", now_s() - t0);

    /* The corpus: the two seeds plus the first texts of the SemEval file, as plain articles. */
    char path[4096];
    uint8_t *csv = NULL;
    size_t csv_len = 0, pos = 0;
    char **texts = NULL;
    size_t nt = 0, bytes = 0;
    snprintf(path, sizeof(path), "%s/neardup/semeval2022-task8-train.csv", shared);
    if (nw_read_file(path, 256u << 20, &csv, &csv_len) == 0) {
        char *f[16];
        csv_record((char *)csv, csv_len, &pos, f, 16);
        texts = calloc(1000, sizeof(*texts));
        int k;
        while (texts && nt < 1000 && (k = csv_record((char *)csv, csv_len, &pos, f, 16)) > 0)
            if (k >= 13 && !strcmp(f[2], "en"))
                texts[nt++] = f[4];
    }
    if (nt == 0) {
        printf("full enrichment: skip speed, no corpus under \"%s\"\n", shared);
    } else {
        double best = 1e30;
        size_t ents = 0, quotes = 0;
        for (int p = 0; p < passes; p++) {
            double s0 = now_s();
            ents = quotes = bytes = 0;
            for (size_t i = 0; i < nt; i++) {
                nw_article_t a = {.v = 1, .id = strdup("b"), .text = strdup(texts[i])};
                nw_enriched_t out;
                bytes += strlen(texts[i]);
                if (!a.id || !a.text || nw_enricher_run(e, &a, &out) < 0) {
                    nw_article_release(&a);
                    continue;
                }
                ents += out.n_entities;
                quotes += out.n_quotes;
                nw_enriched_release(&out);
                nw_article_release(&a);
            }
            double sec = now_s() - s0;
            if (sec < best)
                best = sec;
        }
        printf("full enrichment (1 core, best of %d): %zu English SemEval articles, %.1f KB "
               "each, in %.3f s = %.0f articles/s; %zu entities, %zu quotes\n",
               passes, nt, (double)bytes / (double)nt / 1024, best, (double)nt / best, ents,
               quotes);
    }
    free(texts);
    free(csv);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS with the enricher loaded: %.1f MB\n", (double)ru.ru_maxrss / 1024);
    semeval(shared, e);
    nw_enricher_destroy(&e);
    langid(shared, 0, lang_model, lang_mode);
}
