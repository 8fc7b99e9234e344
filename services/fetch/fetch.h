/* fetch.h: private to newswire-fetch. The service's sources (HTTP API, inbox directory,
 * ZeroMQ ingest socket) all hand what they got to one function, fetch_accept_submit(), which
 * validates it, gives it an id, and pushes a raw message to the broker's raw.in queue, or a
 * dead letter to the queue for "dead". The sources only translate the outcome for their sender.
 *
 *   main.c    wiring: config, service, pushes, sources, drain
 *   accept.c  validate -> identify -> encode -> push (or dead letter); metrics and logs
 *   api.c     POST /v1/articles on the service's HTTP server
 *   inbox.c   a watched directory: new files in, then moved to done/ or rejected/
 *   ingest.c  a ZeroMQ ROUTER socket, protocol in proto/ingest.md */
#ifndef NW_FETCH_H
#define NW_FETCH_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "newswire/http.h"
#include "newswire/proto.h"
#include "newswire/stage.h"

/* The acceptor: the two pushes every source shares and the instance's settings. Embedded in
 * main's state; the pushes are owned by main (created and closed there). */
typedef struct fetch_accept {
    nw_push_t *raw;     /* raw.in */
    nw_push_t *dead;    /* the queue for "dead" (enriched.in) */
    const char *origin; /* instance name, put in every raw and dead message */
    size_t max_body;    /* bodies longer than this are refused */
    int closed;         /* draining: every item is answered 503 "shutting-down" */
} fetch_accept_t;

/* What a source got. Everything is borrowed for the duration of the call. */
typedef struct fetch_item {
    const char *source;       /* "http", "inbox", "zmq" */
    const char *content_type; /* full value, parameters allowed ("text/html; charset=x"); NULL
                                 when the sender gave none */
    const uint8_t *body;
    size_t len;
    const char *url;        /* optional: the article's URL, canonicalised here */
    const char *name;       /* optional: file name (inbox) */
    const nw_kv_t *headers; /* optional: copied into raw.headers */
    size_t n_headers;
} fetch_item_t;

typedef enum {
    FETCH_ACCEPTED = 0, /* raw message handed to the broker */
    FETCH_REJECTED,     /* bad input; its dead letter was handed to the broker */
    FETCH_BUSY,         /* a queue pushed back (-EAGAIN); nothing was sent, try again later */
    FETCH_FAILED,       /* internal error (ENOMEM, socket error); nothing was sent */
} fetch_outcome_t;

/* The outcome as a sender sees it. */
typedef struct fetch_result {
    fetch_outcome_t outcome;
    int status;         /* HTTP-style status: 202, 400, 413, 415, 503, 500 */
    const char *reason; /* machine-readable: "accepted", "empty-body", "busy", ... (static) */
    char message[256];  /* human-readable */
    char id[33];        /* the article id ("" when none was derived) */
} fetch_result_t;

/* Validate an item and hand it on. Never fails silently: every outcome is in *res, and every
 * rejection has been logged, counted (nw_fetch_rejected_total{reason}) and dead-lettered.
 * For BUSY the caller should retry once the push is writable (fetch_accept_writable). */
void fetch_accept_submit(fetch_accept_t *a, const fetch_item_t *item, fetch_result_t *res);

/* Reject something that never became an item (malformed ZeroMQ request, oversized file):
 * log, count, dead-letter `bytes` (may be NULL/0) and fill *res with status and reason. The
 * result may be BUSY/FAILED when the dead letter could not be handed on. */
void fetch_accept_reject(fetch_accept_t *a, const char *source, const char *content_type,
                         const char *name, const uint8_t *bytes, size_t len, int status,
                         const char *reason, const char *message, fetch_result_t *res);

/* Render a result as the JSON answer: {"id":"...","status":"accepted"} or
 * {"error":"<reason>","message":"..."}. Returns a malloc'd string (caller frees) or NULL. */
char *fetch_result_json(const fetch_result_t *res);

/* HTTP API: route POST /v1/articles on h. Returns 0 or -ENOMEM. */
int fetch_api_start(nw_http_t *h, fetch_accept_t *a);

/* Inbox: watch dir (created with done/ and rejected/ inside if missing). */
typedef struct fetch_inbox fetch_inbox_t;
fetch_inbox_t *fetch_inbox_new(uv_loop_t *loop, const char *dir, fetch_accept_t *a);
/* The pushes became writable again: resume a scan that stopped on -EAGAIN. */
void fetch_inbox_writable(fetch_inbox_t *in);
/* Stop watching and release; cb (may be NULL) runs after the handles closed. NULL-safe. */
void fetch_inbox_close(fetch_inbox_t *in, void (*cb)(void *arg), void *arg);

/* ZeroMQ ingest: a ROUTER bound at endpoint (see proto/ingest.md). */
typedef struct fetch_ingest fetch_ingest_t;
fetch_ingest_t *fetch_ingest_new(uv_loop_t *loop, void *zctx, const char *endpoint,
                                 fetch_accept_t *a);
/* Stop taking requests and close the socket; cb (may be NULL) runs last. NULL-safe. */
void fetch_ingest_close(fetch_ingest_t *in, void (*cb)(void *arg), void *arg);

#endif
