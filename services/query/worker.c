/* worker.c: queries off the loop (query.h).
 *
 * Nothing a client sends may stall the loop that /healthz and every stream share. Queries run
 * on the libuv thread pool, one job at a time, on a database handle of its own that nothing on
 * the loop touches (SQLite handles are single-threaded here), are cut after --query-budget of
 * work (the store's budget: a progress handler in SQLite, statement_timeout in PostgreSQL),
 * and wait in a queue of at most MAX_QUEUE, 503 past it. */
#include "query.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "newswire/log.h"
#include "newswire/metrics.h"

#define MAX_QUEUE 32 /* jobs waiting for the worker; 503 past it */

struct query_search {
    query_svc_t *q;
    nw_store_t *db; /* used by the thread-pool job only */
    query_job_t *running, *queued, **queued_tail;
    int n_queued;
    int closing;
    void (*closed_cb)(void *arg);
    void *closed_arg;
    nw_metric_t *m_jobs;
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
    s->m_jobs = nw_metrics_counter("nw_query_searches_total", NULL,
                                   "Queries answered off the loop (searches, pages, facets).");
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

static void
job_work(uv_work_t *w)
{
    query_job_t *j = w->data;
    j->rc = j->run(j, j->w->db);
}

static void job_next(query_search_t *s);

static void
job_done(uv_work_t *w, int status)
{
    query_job_t *j = w->data;
    query_search_t *s = j->w;
    nw_metrics_add(s->m_jobs, 1);
    if (status < 0)
        j->rc = status;
    if (j->rc == -EINVAL)
        nw_http_error(j->req, 400, "bad-query",
                      "the query has no words to search for, or a bad cursor", NULL);
    else if (j->rc == -ENOENT)
        nw_http_error(j->req, 404, "not-found", "no such article or story", NULL);
    else if (j->rc == -ETIMEDOUT)
        nw_http_error(j->req, 503, "query-too-costly",
                      "the query took longer than the server allows; narrow it", NULL);
    else if (j->rc == -EPROTO)
        nw_http_error(j->req, 503, "schema",
                      "the database has not been migrated for queries yet (start the store)",
                      "Retry-After: 5\r\n");
    else if (j->rc == -ERANGE)
        nw_http_error(j->req, 400, "too-many-buckets", "narrow the time range or widen the bucket",
                      NULL);
    else if (j->rc < 0)
        query_db_error(j->req, j->rc);
    else {
        query_answer_json(j->req, 200, j->answer);
        j->answer = NULL;
    }
    json_decref(j->answer);
    j->answer = NULL;
    j->release(j);
    s->running = NULL;
    job_next(s);
}

/* Start the next queued job if the worker is free. At close, the worker counts as closed
 * once its job is answered: that must happen before the HTTP server closes. */
static void
job_next(query_search_t *s)
{
    if (s->running)
        return;
    query_job_t *j = s->queued;
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
    int rc = uv_queue_work(nw_service_loop(s->q->svc), &j->work, job_work, job_done);
    if (rc < 0)
        job_done(&j->work, rc);
}

void
query_submit(query_svc_t *q, query_job_t *j)
{
    query_search_t *s = q->search;
    if (s->n_queued >= MAX_QUEUE || s->closing) {
        nw_http_error(j->req, 503, "busy", "too many queries waiting; retry later",
                      "Retry-After: 1\r\n");
        j->release(j);
        return;
    }
    j->w = s;
    j->next = NULL;
    *s->queued_tail = j;
    s->queued_tail = &j->next;
    s->n_queued++;
    job_next(s); /* the request stays suspended until job_done answers it */
}

void
query_search_close(query_search_t *s, void (*cb)(void *arg), void *arg)
{
    s->closing = 1;
    s->closed_cb = cb;
    s->closed_arg = arg;
    for (query_job_t *j = s->queued, *next; j; j = next) {
        next = j->next;
        nw_http_error(j->req, 503, "shutting-down", "the server is shutting down", NULL);
        j->release(j);
    }
    s->queued = NULL;
    s->queued_tail = &s->queued;
    s->n_queued = 0;
    job_next(s); /* calls cb now, or when the running job is answered */
}
