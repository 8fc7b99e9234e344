/* query.h: private to newswire-query, the read side over HTTP. One service state that every
 * handler gets as its argument, and the parts it is made of:
 *
 *   main.c      wiring: config, databases, the route table, drain
 *   args.c      request arguments (limit, topic) and the JSON answers every handler shares
 *   filters.c   the filters, paging and fields of the query API, documents as JSON
 *   worker.c    queries off the loop, one job at a time, with a time budget
 *   articles.c  GET /v1/articles/ID, /v1/articles (filtered pages), /v1/articles/ID/revisions
 *   search.c    GET /v1/search: the same filters, hits with snippets, best first
 *   facets.c    GET /v1/facets: counts per topic, bucketed, top-N, trending
 *   stories.c   GET /v1/stories/ID: a story with its articles
 *   stream.c    GET /v1/stream: Server-Sent Events, backfilled from the database, then live
 *
 * Every handler runs on the loop, which /healthz and every stream share: a handler reads the
 * database only in bounded pieces, or hands the work to the thread pool (search.c). */
#ifndef NW_QUERY_H
#define NW_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "newswire/http.h"
#include "newswire/service.h"
#include "newswire/store.h"

#define QUERY_MAX_PREFIXES 32 /* topic prefixes one request may name */
#define QUERY_MAX_LIMIT 1000  /* limit= of any listing */

typedef struct query_search query_search_t;
typedef struct query_stream query_stream_t;

/* The service; handlers get it as their argument. */
typedef struct query_svc {
    nw_service_t *svc;
    nw_store_t *db;          /* read-only, used on the loop only */
    query_search_t *search;  /* search.c */
    query_stream_t *streams; /* stream.c */
    int closing;             /* a drain has begun: take no new work */
} query_svc_t;

/* ---- args.c ---- */

/* Answer j as JSON with status (takes the reference; NULL answers 500 "out of memory"). */
void query_answer_json(nw_http_req_t *req, int status, json_t *j);
/* Answer 503 for a failed database read rc, and log it. */
void query_db_error(nw_http_req_t *req, int rc);
/* limit=N, 1..QUERY_MAX_LIMIT; def when absent. -1 (after answering 400) when malformed. */
int query_limit_arg(nw_http_req_t *req, int def);
/* topic=a,b,c (v; NULL or "" is "all") split into prefixes[0..*n), at most
 * QUERY_MAX_PREFIXES, pointing into *owned (caller frees it, also on error). Returns 0,
 * -EINVAL for an empty or over-long list, or -ENOMEM. */
int query_topics_arg(const char *v, char **owned, const char **prefixes, size_t *n);
/* Answer 400 "bad-since" (rc -EINVAL) or a database error, for nw_follow_cursor_at's rc. */
void query_since_error(nw_http_req_t *req, int rc);

/* ---- articles.c (arg: query_svc_t) ---- */

/* GET /v1/articles/ID (on the loop: one indexed read) and /v1/articles/ID/revisions */
void query_on_article(nw_http_req_t *req, void *arg);
void query_on_articles(nw_http_req_t *req, void *arg); /* GET /v1/articles */

/* ---- worker.c: queries off the loop ----
 *
 * Every query that reads more than one row runs on the libuv thread pool, one job at a time,
 * on a database handle of its own that nothing on the loop touches (SQLite handles are
 * single-threaded here), cut after --query-budget (503), queued up to a bound (503 past it). */

typedef struct query_job query_job_t;
struct query_job {
    nw_http_req_t *req;
    /* On the worker thread: fill answer (a JSON body, status 200) or return a negative errno
     * (-EINVAL: 400 bad-query; -ETIMEDOUT: 503; -ENOENT: 404; else a database error). */
    int (*run)(query_job_t *j, nw_store_t *db);
    void (*release)(query_job_t *j); /* frees the job (on the loop) */
    json_t *answer;
    int rc;
    /* owned by worker.c */
    uv_work_t work;
    query_search_t *w;
    query_job_t *next;
};
/* The worker with its own read-only handle on db, each query cut after budget_ms. NULL with a
 * message in err on failure. */
query_search_t *query_search_new(query_svc_t *q, const char *db, int64_t budget_ms, char *err,
                                 size_t errlen);
/* Queue j; its request is answered when it has run (503 when the queue is full or closing: j
 * is released then). */
void query_submit(query_svc_t *q, query_job_t *j);
/* Stop taking jobs: queued ones get 503, and cb(arg) runs (from the loop or at once) when the
 * running one has been answered. */
void query_search_close(query_search_t *s, void (*cb)(void *arg), void *arg);
/* Free (after the loop ended); closes its database. NULL-safe; nulls *s. */
void query_search_destroy(query_search_t **s);

/* ---- filters.c: the filters /v1/articles, /v1/search and /v1/facets share ---- */

/* A request's filters, parsed on the loop (names become topics there), read on the worker. */
typedef struct query_filter {
    nw_store_filter_t f;
    nw_store_page_t page;
    char *fields; /* fields=: comma-separated top-level keys, NULL: all but fingerprints */
    char *owned[2 * NW_STORE_MAX_TERMS + 8];
    size_t n_owned;
    char from[40], to[40];
} query_filter_t;

/* Answer 400 "unknown-parameter" naming the first query parameter not in allowed (NULL
 * terminated) and return -1; 0 when all are known. */
int query_known_params(nw_http_req_t *req, const char *const *allowed);
/* The parameters every filtered endpoint takes, for query_known_params lists. */
#define QUERY_FILTER_PARAMS                                                                        \
    "q", "from", "to", "lang", "topic", "person", "org", "place", "country", "theme", "story",     \
        "near", "bbox"
/* Parse the filters (and, with paging, sort, cursor, limit, fields, since) of req into qf
 * (zeroed by the caller). since= (a seq or a time) is resolved on q's loop handle: one indexed
 * read. Returns 0, or -1 after answering 400 naming the bad parameter. Release with
 * query_filter_release (also after -1). */
int query_filter_parse(query_svc_t *q, nw_http_req_t *req, query_filter_t *qf, int paging,
                       int def_limit);
void query_filter_release(query_filter_t *qf);
/* The stored document doc as JSON with the keys qf->fields names (default: all but the
 * fingerprint sketches), plus "time" and "time_source" ("published" or "stored"). New
 * reference or NULL (bad document, ENOMEM). */
json_t *query_doc_json(const query_filter_t *qf, const uint8_t *doc, size_t len, const char *at,
                       int at_published);
/* Page facts as JSON keys of o: next, has_more, total (and total_exact). */
int query_page_json(json_t *o, const nw_store_page_t *pg);

/* ---- endpoints on the worker (arg: query_svc_t) ---- */

/* Answer req with one page of *qf (taken over: released when answered) from the worker:
 * {"articles": [documents]} or, with hits, {"hits": [search hits]}, then next, has_more and
 * total; with story (copied), {"story": story, ...} and 404 when it has no article. */
void query_page_submit(query_svc_t *q, nw_http_req_t *req, query_filter_t *qf, int hits,
                       const char *story);

void query_on_search(nw_http_req_t *req, void *arg); /* search.c: GET /v1/search */
void query_on_facets(nw_http_req_t *req, void *arg); /* facets.c: GET /v1/facets */
void query_on_story(nw_http_req_t *req, void *arg);  /* stories.c: GET /v1/stories/ID */

/* ---- stream.c ---- */

/* The stream hub: subscribes to the broker's "all" topic, checks for missed articles every
 * check_ms, and bounds each client's unsent bytes by buffer. NULL on error (logged); run the
 * loop to release what was made. */
query_stream_t *query_streams_new(query_svc_t *q, const char *broker, int64_t buffer,
                                  int64_t check_ms);
/* GET /v1/stream (arg: query_svc_t). */
void query_on_stream(nw_http_req_t *req, void *arg);
/* Close the hub socket and the timer; cb(arg) runs when both are closed. The clients end with
 * the HTTP server. */
void query_streams_close(query_stream_t *st, void (*cb)(void *arg), void *arg);
/* Free (after the loop ended and the HTTP server closed). NULL-safe; nulls *st. */
void query_streams_destroy(query_stream_t **st);

#endif
