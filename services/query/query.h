/* query.h: private to newswire-query, the read side over HTTP. One service state that every
 * handler gets as its argument, and the parts it is made of:
 *
 *   main.c      wiring: config, databases, the route table, drain
 *   args.c      request arguments (limit, topic) and the JSON answers every handler shares
 *   articles.c  GET /v1/articles/ID and GET /v1/articles (pages of a topic, in seq order)
 *   search.c    GET /v1/search: full-text search run off the loop, one job at a time
 *   stream.c    GET /v1/stream: Server-Sent Events, backfilled from the database, then live
 *
 * Every handler runs on the loop, which /healthz and every stream share: a handler reads the
 * database only in bounded pieces, or hands the work to the thread pool (search.c). */
#ifndef NW_QUERY_H
#define NW_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

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

void query_on_article(nw_http_req_t *req, void *arg);  /* GET /v1/articles/ID */
void query_on_articles(nw_http_req_t *req, void *arg); /* GET /v1/articles */

/* ---- search.c ---- */

/* The search worker with its own database handle (SQLite handles are single-threaded here),
 * opened read-only on db with a time budget of budget_ms per search. NULL with a message in
 * err on failure. */
query_search_t *query_search_new(query_svc_t *q, const char *db, int64_t budget_ms, char *err,
                                 size_t errlen);
/* GET /v1/search (arg: query_svc_t). */
void query_on_search(nw_http_req_t *req, void *arg);
/* Stop taking searches: queued ones get 503, and cb(arg) runs (from the loop or at once) when
 * the running one has been answered. */
void query_search_close(query_search_t *s, void (*cb)(void *arg), void *arg);
/* Free (after the loop ended); closes its database. NULL-safe; nulls *s. */
void query_search_destroy(query_search_t **s);

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
