/* bench_parse: CPU per page of the parse stage's job as the service runs it (nw_job_parse:
 * decode the raw message, bring the page to UTF-8, build the DOM, extract, encode the article)
 * on the first N HTML pages of the trafilatura corpus, the pages bench/pipeline --corpus pages
 * sends. No sockets and no other service, so a profile of it shows the parse code alone:
 *
 *   perf record --call-graph dwarf build-rel/bench/bench_parse -n 100 -r 20
 *
 * It also times fetch's share of a page that has no URL: its id, a hash of its normalised text
 * (nw_id_for_document).
 *
 * Usage: bench_parse [-n PAGES] [-r ROUNDS] [DATA_DIR] (default $NW_SHARED_DATA, else
 * ../shared/data). Prints CPU ms per page (median and range of the rounds) and an XXH3 of every
 * article encoded and of every id, so two builds can be shown to give the same output. Prints a
 * skip message and exits 0 when the data is absent. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#include "newswire/buf.h"
#include "newswire/filter.h"
#include "newswire/id.h"
#include "newswire/jobs.h"
#include "newswire/proto.h"
#include "newswire/util.h"

#define MAX_PAGES 4096

static double
cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
    size_t want = 100, rounds = 10, n = 0, n_names = 0;
    const char *data = getenv("NW_SHARED_DATA") ? getenv("NW_SHARED_DATA") : "../shared/data";
    char *names[MAX_PAGES];
    nw_buf_t raws[MAX_PAGES];
    uint8_t *bodies[MAX_PAGES];
    size_t lens[MAX_PAGES];
    int rc = 1;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
            want = strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "-r") == 0 && i + 1 < argc)
            rounds = strtoul(argv[++i], NULL, 10);
        else if (argv[i][0] != '-')
            data = argv[i];
        else {
            fprintf(stderr, "usage: bench_parse [-n PAGES] [-r ROUNDS] [DATA_DIR]\n");
            return 2;
        }
    }
    if (want > MAX_PAGES)
        want = MAX_PAGES;
    if (rounds == 0)
        rounds = 1;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/extraction/trafilatura/eval", data);
    DIR *d = opendir(dir);
    if (d == NULL) {
        printf("skip: no trafilatura pages at %s (set NW_SHARED_DATA)\n", dir);
        return 0;
    }
    for (struct dirent *e; (e = readdir(d)) != NULL && n_names < MAX_PAGES;) {
        size_t len = strlen(e->d_name);
        if (len > 5 && strcmp(e->d_name + len - 5, ".html") == 0)
            names[n_names++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n_names, sizeof names[0], cmp_name); /* as bench/corpus.py picks them */
    size_t bytes = 0;
    for (size_t i = 0; i < n_names && n < want; i++) {
        char path[8192], id[32];
        uint8_t *body = NULL;
        size_t len = 0;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (nw_read_file(path, 64u << 20, &body, &len) < 0)
            continue;
        snprintf(id, sizeof id, "p%04zu", n);
        nw_raw_t raw = {
            .v = NW_PROTO_VERSION,
            .id = id,
            .source = "inbox",
            .fetched = "2026-12-07T00:00:00.000Z",
            .content_type = "text/html",
            .body = body,
            .body_len = len,
            .origin = "bench",
            .spool = n + 1,
        };
        raws[n] = (nw_buf_t){0};
        if (nw_raw_encode(&raw, &raws[n]) == 0) {
            bytes += len;
            bodies[n] = body;
            lens[n] = len;
            n++;
        } else {
            free(body);
        }
    }
    double *per = calloc(rounds, sizeof *per);
    nw_buf_t out = {0};
    XXH64_hash_t sum = 0;
    size_t failed = 0;
    for (size_t r = 0; r < rounds; r++) {
        double t0 = cpu_now();
        for (size_t i = 0; i < n; i++) {
            nw_filter_fail_t fail = {0};
            nw_buf_reset(&out);
            if (nw_job_parse(NULL, raws[i].data, raws[i].len, &out, &fail) < 0) {
                failed += r == 0;
                continue;
            }
            if (r == 0)
                sum ^= XXH3_64bits(out.data, out.len) + i;
        }
        per[r] = (cpu_now() - t0) * 1000 / (double)(n ? n : 1);
    }
    qsort(per, rounds, sizeof *per, cmp_double);
    double *per_id = calloc(rounds, sizeof *per_id);
    XXH64_hash_t id_sum = 0;
    for (size_t r = 0; r < rounds; r++) {
        double t0 = cpu_now();
        for (size_t i = 0; i < n; i++) {
            char id[NW_ID_LEN + 1], *canon = NULL;
            if (nw_id_for_document(NULL, bodies[i], lens[i], "text/html", NULL, id, &canon) == 0 &&
                r == 0)
                id_sum ^= XXH3_64bits(id, strlen(id)) + i;
            free(canon);
        }
        per_id[r] = (cpu_now() - t0) * 1000 / (double)(n ? n : 1);
    }
    qsort(per_id, rounds, sizeof *per_id, cmp_double);
    printf("bench_parse: %zu pages, %.1f KB each on average, %zu rounds: %.3f [%.3f-%.3f] CPU ms "
           "per page (median [min-max] of the rounds); %zu failed; articles xxh3 %016llx\n",
           n, n ? (double)bytes / (double)n / 1024 : 0, rounds, per[rounds / 2], per[0],
           per[rounds - 1], failed, (unsigned long long)sum);
    printf("bench_parse: the id fetch gives a page without URL: %.3f [%.3f-%.3f] CPU ms per page; "
           "ids xxh3 %016llx\n",
           per_id[rounds / 2], per_id[0], per_id[rounds - 1], (unsigned long long)id_sum);
    rc = 0;
    for (size_t i = 0; i < n; i++) {
        nw_buf_release(&raws[i]);
        free(bodies[i]);
    }
    free(per_id);
    for (size_t i = 0; i < n_names; i++)
        free(names[i]);
    nw_buf_release(&out);
    free(per);
    return rc;
}
