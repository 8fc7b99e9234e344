/* store.c: the store's write rate on one backend, without the pipeline: generated enriched
 * articles (about 2 KB of text from a Zipf-like vocabulary of 4096 made-up words, with
 * fingerprints, so story matching does its usual work) put through nw_store_put in
 * transactions of 256 (the store's --batch-max), by one or more writers each with its own
 * handle (several writers only make sense on PostgreSQL; SQLite serialises them). Run by
 * bench/store_backends, which starts a throwaway PostgreSQL server.
 *
 *   bench_store DB N [WRITERS]    prints: backend=... writers=W articles=N seconds=S rate=R
 *                                         commit_p50_ms=... commit_p99_ms=... */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswire/fingerprint.h"
#include "newswire/log.h"
#include "newswire/store.h"
#include "newswire/util.h"

#define BATCH 256

typedef struct writer {
    const char *db;
    int first, n;
    uint64_t *commit_ns; /* one per batch */
    int batches, failed;
} writer_t;

static void
fake_text(uint64_t *rng, char *text, size_t cap, int words)
{
    size_t len = 0;
    for (int w = 0; w < words && len + 32 < cap; w++) {
        *rng = *rng * 6364136223846793005ULL + 1442695040888963407ULL;
        uint64_t r = *rng >> 20;
        unsigned id = (unsigned)((r & 4095) * ((r >> 12) & 4095) / 4096);
        char word[16];
        size_t k = 0;
        for (unsigned v = id + 20000; v; v /= 21)
            word[k++] = (char)('a' + v % 21);
        word[k] = '\0';
        len += (size_t)snprintf(text + len, cap - len, "%s%s ", w % 9 ? "" : "The ", word);
    }
}

static int
put_one(nw_store_t *s, int i, uint64_t *rng)
{
    char id[32], title[64], text[4096];
    nw_enriched_t e = {0};
    nw_fp_t fp;
    nw_store_result_t res = {0};
    nw_buf_t doc = {0};

    snprintf(id, sizeof(id), "bench-%08d", i);
    snprintf(title, sizeof(title), "Benchmark article %d", i);
    fake_text(rng, text, sizeof(text), 300);
    e.art.v = 1;
    e.art.id = strdup(id);
    e.art.title = strdup(title);
    e.art.text = strdup(text);
    e.art.lang = strdup("en");
    e.art.published = strdup("2026-02-06T09:00:00Z");
    int rc = !e.art.id || !e.art.title || !e.art.text || !e.art.lang || !e.art.published ? -1 : 0;
    if (rc == 0 &&
        (nw_fp_compute(text, strlen(text), e.art.lang, &fp) < 0 || nw_fp_store(&fp, &e) < 0))
        rc = -1;
    if (rc == 0)
        rc = nw_store_put(s, &e, &doc, &res);
    nw_buf_release(&doc);
    nw_enriched_release(&e);
    return rc;
}

static void *
write_all(void *arg)
{
    writer_t *w = arg;
    char err[256] = "";
    uint64_t rng = 42 + (uint64_t)w->first;
    nw_store_t *s = nw_store_open(w->db, 0, err, sizeof(err));
    if (!s) {
        fprintf(stderr, "error: open: %s\n", err);
        w->failed = 1;
        return NULL;
    }
    for (int i = 0; i < w->n && !w->failed; i += BATCH) {
        if (nw_store_begin(s) < 0) {
            w->failed = 1;
            break;
        }
        for (int k = i; k < w->n && k < i + BATCH; k++)
            if (put_one(s, w->first + k, &rng) < 0)
                w->failed = 1;
        uint64_t t0 = nw_mono_ns();
        if (w->failed || nw_store_commit(s) < 0) {
            nw_store_rollback(s);
            w->failed = 1;
            break;
        }
        w->commit_ns[w->batches++] = nw_mono_ns() - t0;
    }
    nw_store_close(&s);
    return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s DB N [WRITERS]\n", argv[0]);
        return 2;
    }
    int n = atoi(argv[2]), nw = argc > 3 ? atoi(argv[3]) : 1;
    if (n < 1 || nw < 1 || nw > 64) {
        fprintf(stderr, "error: N >= 1 and 1 <= WRITERS <= 64\n");
        return 2;
    }
    nw_log_init("bench", NW_LOG_WARN);
    writer_t w[64];
    pthread_t t[64];
    int per = (n + nw - 1) / nw, rc = 0, batches = 0;
    uint64_t *all = calloc((size_t)(n / BATCH + nw + 1), sizeof(*all));
    if (!all)
        return 1;
    uint64_t t0 = nw_mono_ns();
    for (int i = 0; i < nw; i++) {
        int first = i * per, cnt = first + per > n ? n - first : per;
        w[i] = (writer_t){.db = argv[1], .first = first, .n = cnt < 0 ? 0 : cnt};
        w[i].commit_ns = calloc((size_t)(per / BATCH + 2), sizeof(uint64_t));
        if (!w[i].commit_ns || pthread_create(&t[i], NULL, write_all, &w[i]) != 0)
            return 1;
    }
    for (int i = 0; i < nw; i++) {
        pthread_join(t[i], NULL);
        rc |= w[i].failed;
        for (int b = 0; b < w[i].batches; b++)
            all[batches++] = w[i].commit_ns[b];
        free(w[i].commit_ns);
    }
    double secs = (double)(nw_mono_ns() - t0) / 1e9;
    qsort(all, (size_t)batches, sizeof(*all), cmp_u64);
    printf("backend=%s writers=%d articles=%d seconds=%.2f rate=%.0f commit_p50_ms=%.1f "
           "commit_p99_ms=%.1f\n",
           nw_store_is_postgres(argv[1]) ? "postgresql" : "sqlite", nw, n, secs, n / secs,
           batches ? (double)all[batches / 2] / 1e6 : 0,
           batches ? (double)all[batches * 99 / 100] / 1e6 : 0);
    free(all);
    return rc ? 1 : 0;
}
