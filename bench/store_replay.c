/* store_replay.c: the store's own CPU per article on real enriched articles, without the
 * pipeline around it. Reads the enriched documents a store wrote (the revisions of SRC, e.g.
 * the database `NW_BENCH_KEEP=1 bench/pipeline` leaves), and puts them again, in seq order,
 * into a fresh SQLite database DST through nw_store_put in transactions of BATCH (the store's
 * --batch-max, 256), as newswire-store does with what enrich sends: story matching, the query
 * index and the facet counts included. Prints the CPU time (user + system of this process)
 * and the wall time per article, and the bytes written (WAL and checkpoints) per article.
 * The cost per article depends most on the batch: every commit writes each page it changed
 * (an article's ~33 topics land on ~33 pages of each of four topic-keyed trees), so small
 * batches cost more; bench/pipeline's store commits about 8 at a time (--batch-ms 20 at
 * ~100 articles/s).
 *
 *   bench_store_replay SRC DST [BATCH [PASSES [N]]]   (N: the first N documents only)
 *     prints: articles=N batch=B commits=C cpu_ms_per_article=X user_ms=.. sys_ms=..
 *             wall_ms=.. written_kb_per_article=K */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "newswire/proto.h"
#include "newswire/store.h"
#include "newswire/util.h"

typedef struct doc {
    uint8_t *p;
    size_t n;
} doc_t;

static double
ms_of(struct timeval tv)
{
    return (double)tv.tv_sec * 1e3 + (double)tv.tv_usec / 1e3;
}

/* Bytes this process passed to write(2) and pwrite(2) so far (/proc/self/io wchar). */
static long long
written(void)
{
    long long v = -1;
    char line[128];
    FILE *f = fopen("/proc/self/io", "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "wchar: %lld", &v) == 1)
            break;
    if (f)
        fclose(f);
    return v;
}

int
main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s SRC DST [BATCH [PASSES [N]]]\n", argv[0]);
        return 2;
    }
    int batch = argc > 3 ? atoi(argv[3]) : 256, passes = argc > 4 ? atoi(argv[4]) : 1;
    size_t limit = argc > 5 ? (size_t)atol(argv[5]) : 0;
    if (batch < 1 || passes < 1) {
        fprintf(stderr, "error: BATCH and PASSES must be positive\n");
        return 2;
    }
    sqlite3 *src = NULL;
    sqlite3_stmt *st = NULL;
    doc_t *docs = NULL;
    size_t n = 0, cap = 0;
    if (sqlite3_open_v2(argv[1], &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(src, "SELECT doc FROM revisions WHERE late = 0 ORDER BY seq", -1, &st,
                           NULL) != SQLITE_OK) {
        fprintf(stderr, "error: %s: %s\n", argv[1], sqlite3_errmsg(src));
        return 1;
    }
    while ((!limit || n < limit) && sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            docs = realloc(docs, cap * sizeof *docs);
            if (!docs)
                return 1;
        }
        docs[n].n = (size_t)sqlite3_column_bytes(st, 0);
        docs[n].p = malloc(docs[n].n);
        memcpy(docs[n].p, sqlite3_column_blob(st, 0), docs[n].n);
        n++;
    }
    sqlite3_finalize(st);
    sqlite3_close(src);

    for (int pass = 0; pass < passes; pass++) {
        char err[256], path[4096];
        snprintf(path, sizeof path, "%s", argv[2]);
        unlink(path);
        snprintf(err, sizeof err, "%s-wal", argv[2]);
        unlink(err);
        snprintf(err, sizeof err, "%s-shm", argv[2]);
        unlink(err);
        nw_store_t *s = nw_store_open(path, 0, err, sizeof err);
        if (!s) {
            fprintf(stderr, "error: %s\n", err);
            return 1;
        }
        long commits = 0;
        long long w0 = written();
        struct rusage r0, r1;
        uint64_t t0 = nw_mono_ns();
        getrusage(RUSAGE_SELF, &r0);
        for (size_t i = 0; i < n; i += (size_t)batch) {
            if (nw_store_begin(s) < 0)
                return 1;
            for (size_t k = i; k < n && k < i + (size_t)batch; k++) {
                nw_enriched_t e;
                nw_store_result_t res = {0};
                if (nw_enriched_decode(&e, docs[k].p, docs[k].n) < 0)
                    continue;
                if (nw_store_put(s, &e, NULL, &res) < 0) {
                    fprintf(stderr, "error: put %s failed\n", e.art.id);
                    return 1;
                }
                nw_enriched_release(&e);
            }
            if (nw_store_commit(s) < 0)
                return 1;
            commits++;
        }
        getrusage(RUSAGE_SELF, &r1);
        double wall = (double)(nw_mono_ns() - t0) / 1e6;
        double user = ms_of(r1.ru_utime) - ms_of(r0.ru_utime);
        double sys = ms_of(r1.ru_stime) - ms_of(r0.ru_stime);
        long long w1 = written();
        nw_store_close(&s);
        printf("articles=%zu batch=%d commits=%ld cpu_ms_per_article=%.3f user_ms=%.3f "
               "sys_ms=%.3f wall_ms=%.3f written_kb_per_article=%.1f\n",
               n, batch, commits, (user + sys) / (double)n, user / (double)n, sys / (double)n,
               wall / (double)n, (double)(w1 - w0) / 1024 / (double)n);
        fflush(stdout);
    }
    for (size_t i = 0; i < n; i++)
        free(docs[i].p);
    free(docs);
    return 0;
}
