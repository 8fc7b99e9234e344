/* search.c: GET /v1/search?q=WORDS&limit=N, full-text search, best first (query.h).
 *
 * Nothing a client sends may stall the loop that /healthz and every stream share. Searches
 * are bounded in syntax (MAX_QUERY_BYTES, MAX_QUERY_TERMS), cut after --query-budget of work,
 * and run off the loop: one libuv thread-pool job at a time, on a database handle of its own
 * that nothing on the loop touches (SQLite handles are single-threaded here), queued up to
 * MAX_SEARCH_QUEUE and 503 past it. */
#include "query.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "newswire/log.h"
#include "newswire/metrics.h"

#define MAX_QUERY_BYTES 256 /* a search query's length */
#define MAX_QUERY_TERMS 16  /* whitespace-separated terms in it */
#define MAX_SEARCH_QUEUE 32 /* searches waiting for the worker; 503 past it */

/* One search, run on the thread pool. */
typedef struct search_job {
    uv_work_t work;
    query_search_t *s;
    nw_http_req_t *req;
    char *words;
    int limit;
    json_t *hits;
    int rc;
    struct search_job *next;
} search_job_t;

struct query_search {
    query_svc_t *q;
    nw_store_t *db; /* used by the thread-pool job only */
    search_job_t *running, *queued, **queued_tail;
    int n_queued;
    int closing;
    void (*closed_cb)(void *arg);
    void *closed_arg;
    nw_metric_t *m_searches;
};

query_search_t *
query_search_new(query_svc_t *q, const char *db, int64_t budget_ms, char *err, size_t errlen)
{
    query_search_t *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->q = q;
    s->queued_tail = &s->queued;
    s->m_searches = nw_metrics_counter("nw_query_searches_total", NULL,
                                       "Searches answered (run off the loop).");
    if ((s->db = nw_store_open(db, 1, err, errlen)) == NULL)
        goto fail;
    if (nw_store_set_budget(s->db, budget_ms) < 0) {
        snprintf(err, errlen, "cannot set the query budget");
        goto fail;
    }
    return s;
fail:
    query_search_destroy(&s);
    return NULL;
}

void
query_search_destroy(query_search_t **sp)
{
    query_search_t *s = *sp;
    if (s == NULL)
        return;
    nw_store_close(&s->db);
    free(s);
    *sp = NULL;
}

static int
on_hit(const nw_store_hit_t *h, void *arg)
{
    json_t *o = nw_store_hit_json(h);
    return o == NULL || json_array_append_new(arg, o) < 0;
}

/* Terms and length within bounds; FTS5's cost grows with both ('the ' * 100 took 27 s). */
static int
query_bounded(const char *words)
{
    if (strlen(words) > MAX_QUERY_BYTES)
        return 0;
    int terms = 0;
    for (const char *p = words + strspn(words, " \t\r\n"); *p; p += strspn(p, " \t\r\n")) {
        terms++;
        p += strcspn(p, " \t\r\n");
    }
    return terms <= MAX_QUERY_TERMS;
}

static void
search_work(uv_work_t *w)
{
    search_job_t *j = w->data;
    j->hits = json_array();
    j->rc = j->hits ? nw_store_search(j->s->db, j->words, j->limit, on_hit, j->hits) : -ENOMEM;
}

static void search_next(query_search_t *s);

static void
job_free(search_job_t *j)
{
    json_decref(j->hits);
    free(j->words);
    free(j);
}

static void
search_done(uv_work_t *w, int status)
{
    search_job_t *j = w->data;
    query_search_t *s = j->s;
    nw_metrics_add(s->m_searches, 1);
    if (status < 0)
        j->rc = status;
    if (j->rc == -EINVAL)
        nw_http_error(j->req, 400, "bad-query", "the query has no words to search for", NULL);
    else if (j->rc == -ETIMEDOUT)
        nw_http_error(j->req, 503, "query-too-costly",
                      "the query took longer than the server allows; narrow it", NULL);
    else if (j->rc < 0)
        query_db_error(j->req, j->rc);
    else
        query_answer_json(j->req, 200, json_pack("{s:O}", "hits", j->hits));
    job_free(j);
    s->running = NULL;
    search_next(s);
}

/* Start the next queued search if the worker is free. At close, the worker counts as closed
 * once its search is answered: that must happen before the HTTP server closes. */
static void
search_next(query_search_t *s)
{
    if (s->running)
        return;
    search_job_t *j = s->queued;
    if (j == NULL) {
        if (s->closing && s->closed_cb) {
            void (*cb)(void *) = s->closed_cb;
            s->closed_cb = NULL;
            cb(s->closed_arg);
        }
        return;
    }
    s->queued = j->next;
    if (s->queued == NULL)
        s->queued_tail = &s->queued;
    s->n_queued--;
    s->running = j;
    j->work.data = j;
    int rc = uv_queue_work(nw_service_loop(s->q->svc), &j->work, search_work, search_done);
    if (rc < 0)
        search_done(&j->work, rc);
}

void
query_on_search(nw_http_req_t *req, void *arg)
{
    query_svc_t *q = arg;
    query_search_t *s = q->search;
    const char *words = nw_http_query(req, "q");
    int limit = query_limit_arg(req, 20);
    if (limit < 0)
        return;
    if (words == NULL || *words == 0) {
        nw_http_error(req, 400, "bad-query", "q: the words to search for", NULL);
        return;
    }
    if (!query_bounded(words)) {
        nw_http_error(req, 400, "query-too-long", "q: at most 16 terms and 256 bytes", NULL);
        return;
    }
    if (s->n_queued >= MAX_SEARCH_QUEUE || s->closing) {
        nw_http_error(req, 503, "busy", "too many searches waiting; retry later",
                      "Retry-After: 1\r\n");
        return;
    }
    search_job_t *j = calloc(1, sizeof *j);
    if (j == NULL || (j->words = strdup(words)) == NULL) {
        free(j);
        nw_http_error(req, 500, "internal", "out of memory", NULL);
        return;
    }
    j->s = s;
    j->req = req;
    j->limit = limit;
    *s->queued_tail = j;
    s->queued_tail = &j->next;
    s->n_queued++;
    search_next(s); /* the request stays suspended until search_done answers it */
}

void
query_search_close(query_search_t *s, void (*cb)(void *arg), void *arg)
{
    s->closing = 1;
    s->closed_cb = cb;
    s->closed_arg = arg;
    for (search_job_t *j = s->queued, *next; j; j = next) {
        next = j->next;
        nw_http_error(j->req, 503, "shutting-down", "the server is shutting down", NULL);
        job_free(j);
    }
    s->queued = NULL;
    s->queued_tail = &s->queued;
    s->n_queued = 0;
    search_next(s); /* calls cb now, or when the running search is answered */
}
