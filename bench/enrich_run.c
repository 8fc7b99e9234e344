/* enrich_run.c: bench_enrich_run, the CPU of the enrich job alone, the way newswire-enrich runs
 * it and without the pipeline around it: article JSON lines (as `newswire parse --jsonl` writes
 * them) are read and decoded first, the reference data loaded and, as the service does by
 * default, every language's common-word list preloaded; then each pass runs every article
 * through the stage's job (nw_job_enrich_article: nw_enricher_run and the MessagePack encode)
 * and prints CPU milliseconds per article (user + system, getrusage) for that pass.
 *
 *   bench_enrich_run [--passes N] [--no-preload] ARTICLES.jsonl
 *
 * The first pass also pays what a worker pays once on its first articles (ICU's transliterator,
 * first touches of the models' pages); the later passes are the steady cost. A hash of all the
 * encoded output is printed so two builds can be checked for the same answers. Profile the job
 * with `valgrind --tool=callgrind --toggle-collect=nw_enricher_run bench_enrich_run ...`. */
#include "newswire/buf.h"
#include "newswire/enrich.h"
#include "newswire/jobs.h"
#include "newswire/json.h"
#include "newswire/proto.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* CPU seconds (user + system) so far; *faults: minor page faults so far. */
static double
cpu_s(long *faults)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *faults = ru.ru_minflt;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

int
main(int argc, char **argv)
{
    int passes = 3, preload = 1;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--passes") && i + 1 < argc)
            passes = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--no-preload"))
            preload = 0;
        else if (argv[i][0] != '-')
            path = argv[i];
        else {
            fprintf(stderr, "usage: bench_enrich_run [--passes N] [--no-preload] FILE.jsonl\n");
            return 2;
        }
    }
    if (!path || passes < 1) {
        fprintf(stderr, "usage: bench_enrich_run [--passes N] [--no-preload] FILE.jsonl\n");
        return 2;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return 1;
    }
    /* Each line as MessagePack, decoded anew per pass (the job consumes the article). */
    nw_buf_t *msgs = NULL;
    size_t n = 0, cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    while ((len = getline(&line, &lcap, f)) > 0) {
        char err[200];
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            nw_buf_t *v = realloc(msgs, cap * sizeof(*v));
            if (!v)
                return 1;
            msgs = v;
        }
        msgs[n] = (nw_buf_t){0};
        if (nw_json_to_msgpack(line, (size_t)len, &msgs[n], err, sizeof err) < 0) {
            fprintf(stderr, "line %zu: %s\n", n + 1, err);
            return 1;
        }
        n++;
    }
    free(line);
    fclose(f);

    nw_enricher_t *e = NULL;
    if (nw_enricher_new(NULL, NULL, &e) < 0) {
        fprintf(stderr, "error: %s\n", nw_enrich_error());
        return 1;
    }
    if (preload)
        nw_enricher_preload(e);
    for (int p = 1; p <= passes; p++) {
        uint64_t h = 1469598103934665603ull;
        size_t failed = 0;
        long f0, f1;
        double t0 = cpu_s(&f0);
        for (size_t i = 0; i < n; i++) {
            nw_article_t art = {0};
            nw_buf_t out = {0};
            nw_filter_fail_t fail = {0};
            if (nw_article_decode(&art, msgs[i].data, msgs[i].len) < 0 ||
                nw_job_enrich_article(e, &art, &out, &fail) < 0)
                failed++;
            for (size_t k = 0; k < out.len; k++)
                h = (h ^ out.data[k]) * 1099511628211ull;
            nw_article_release(&art);
            nw_buf_release(&out);
        }
        double t = cpu_s(&f1) - t0;
        printf("pass %d: %zu articles, %.3f CPU ms and %.1f page faults per article, %zu failed, "
               "output hash %016llx\n",
               p, n, 1e3 * t / (double)n, (double)(f1 - f0) / (double)n, failed,
               (unsigned long long)h);
    }
    for (size_t i = 0; i < n; i++)
        nw_buf_release(&msgs[i]);
    free(msgs);
    nw_enricher_destroy(&e);
    return 0;
}
