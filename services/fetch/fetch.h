/* fetch.h: private to newswire-fetch. The service's sources (HTTP API, inbox directory,
 * ZeroMQ ingest socket) all hand what they got to one function, fetch_accept_submit(), which
 * validates it, gives it an id, and hands a raw message (or, for bad input, a dead letter) to
 * deliver.c, which spools it durably and pushes it to the broker. The sources only translate
 * the outcome for their sender, once it is known (after the spool's fsync).
 *
 *   main.c    wiring: config, service, pushes, sources, drain
 *   accept.c  validate -> identify -> encode -> deliver (or dead letter); metrics and logs
 *   deliver.c spool, group commit, push, acks from the store, re-sends
 *   api.c     POST /v1/articles on the service's HTTP server
 *   inbox.c   a watched directory: new files in, then moved to done/ or rejected/
 *   ingest.c  a ZeroMQ ROUTER socket, protocol in proto/ingest.md */
#ifndef NW_FETCH_H
#define NW_FETCH_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "newswire/buf.h"
#include "newswire/hlc.h"
#include "newswire/http.h"
#include "newswire/proto.h"
#include "newswire/service.h"
#include "newswire/stage.h"

/* Durable delivery (deliver.c). */
typedef struct fetch_deliver fetch_deliver_t;
typedef struct fetch_deliver_opts {
    const char *broker;           /* base endpoint; acks come from its pub.out */
    const char *origin;           /* instance name: acks arrive on "ack.<origin>" */
    const char *spool_dir;        /* "" or NULL: no spool (at most once; benchmarks only) */
    uint64_t spool_max;           /* unacked bytes before sources are pushed back */
    int64_t resend_ms;            /* first re-send of an unacked record after this long */
    nw_push_t *raw, *dead;        /* borrowed; must outlive the deliverer */
    void (*on_resume)(void *arg); /* the spool fell below its bound again */
    void *resume_arg;
} fetch_deliver_opts_t;
/* status 0: durable and handed on; negative errno: not accepted (-ECANCELED on close). */
typedef void (*fetch_deliver_cb)(int status, void *arg);
/* Open the spool (recovering it) and subscribe to acks. NULL on error (logged); the loop must
 * still run to release what was made. */
fetch_deliver_t *fetch_deliver_new(uv_loop_t *loop, void *zctx, const fetch_deliver_opts_t *o);
/* The spool seq the next send will get, to be written into the message (0: no spool). */
uint64_t fetch_deliver_reserve(const fetch_deliver_t *d);
/* Hand on an encoded message (tag 'r' raw, 'd' dead) carrying seq from fetch_deliver_reserve.
 * Returns 1 when spooled: cb(status, arg) runs once the fsync decided (never inside this call);
 * 0 when pushed at once (no spool; cb is not called); -EAGAIN (a broker queue is full),
 * -ENOBUFS (the spool is over spool-max) or another negative errno (the append failed, e.g.
 * -ENOSPC, -EFBIG, -EIO): nothing was kept and cb is not called. May take msg's buffer to send
 * it without a copy (msg is then left empty); the caller releases msg in every case. */
int fetch_deliver_send(fetch_deliver_t *d, char tag, nw_buf_t *msg, uint64_t seq,
                       fetch_deliver_cb cb, void *arg);
/* A push became writable: send what waits. NULL-safe. */
void fetch_deliver_writable(fetch_deliver_t *d);
/* The broker pair failed over to base (brokers.h): move the raw and dead pushes there and
 * re-send at once everything unacked, since what the old broker held is lost (without this
 * the re-sends would wait for resend-after and its backoff). */
void fetch_deliver_switch(fetch_deliver_t *d, const char *base);
/* True while a broker queue pushes back (spooled mode). */
int fetch_deliver_blocked(const fetch_deliver_t *d);
/* cb runs (from the loop) once no send waits for an fsync. */
void fetch_deliver_flush(fetch_deliver_t *d, void (*cb)(void *arg), void *arg);
/* Stop re-sending, close the ack socket and the spool, free; cb (may be NULL) runs last.
 * Flush first. NULL-safe. */
void fetch_deliver_close(fetch_deliver_t *d, void (*cb)(void *arg), void *arg);
/* /readyz's "broker" condition (nw_service_ready_cb, arg the deliverer): NULL while the
 * socket the store's acks arrive on is connected to the broker, else why not (link.h). Always
 * NULL without a spool (no acks are awaited then). */
const char *fetch_deliver_ready(void *arg);

/* The acceptor: the deliverer every source shares and the instance's settings. Embedded in
 * main's state; the pushes and the deliverer are owned by main. */
typedef struct fetch_sources fetch_sources_t;

typedef struct fetch_accept {
    fetch_deliver_t *deliver;
    fetch_sources_t *sources; /* where a running source reports trouble (may be NULL) */
    const char *origin;       /* instance name, put in every raw and dead message */
    nw_hlc_t *clock; /* gives each accepted raw its acceptance version; NULL: none (av 0) */
    size_t max_body; /* bodies longer than this are refused */
    int closed;      /* draining: every item is answered 503 "shutting-down" */
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
    FETCH_ACCEPTED = 0, /* raw message spooled durably and handed to the broker */
    FETCH_REJECTED,     /* bad input; its dead letter was spooled and handed on */
    FETCH_BUSY,         /* pushed back (queue full, spool full or unwritable): try again later */
    FETCH_FAILED,       /* internal error (ENOMEM, socket error); nothing was sent */
} fetch_outcome_t;

/* The outcome as a sender sees it. */
typedef struct fetch_result {
    fetch_outcome_t outcome;
    int status;         /* HTTP-style status: 202, 400, 413, 415, 422, 503, 500 */
    const char *reason; /* machine-readable: "accepted", "empty-body", "busy", ... (static) */
    char message[256];  /* human-readable */
    char id[33];        /* the article id ("" when none was derived) */
} fetch_result_t;

/* The final result of an item whose outcome waited for the spool; res is borrowed. */
typedef void (*fetch_done_cb)(const fetch_result_t *res, void *arg);
#define FETCH_PENDING 1

/* Validate an item and hand it on. Never fails silently: every outcome is reported, and every
 * rejection has been logged, counted (nw_fetch_rejected_total{reason}) and dead-lettered.
 * Returns 0 when *res is final now (done is not called), or FETCH_PENDING when the message
 * waits for the spool's fsync: done(res, arg) runs later exactly once (res then unused).
 * For BUSY the caller should retry later (inbox: once fetch_inbox_writable is called). */
int fetch_accept_submit(fetch_accept_t *a, const fetch_item_t *item, fetch_result_t *res,
                        fetch_done_cb done, void *arg);

/* Reject something that never became an item (malformed ZeroMQ request, oversized file):
 * log, count, dead-letter `bytes` (may be NULL/0) and report as fetch_accept_submit does.
 * The result may be BUSY/FAILED when the dead letter could not be handed on. done may be NULL
 * when nobody waits. */
int fetch_accept_reject(fetch_accept_t *a, const char *source, const char *content_type,
                        const char *name, const uint8_t *bytes, size_t len, int status,
                        const char *reason, const char *message, fetch_result_t *res,
                        fetch_done_cb done, void *arg);

/* Render a result as the JSON answer: {"id":"...","status":"accepted"} or
 * {"error":"<reason>","message":"..."}. Returns a malloc'd string (caller frees) or NULL. */
char *fetch_result_json(const fetch_result_t *res);

/* HTTP API: route POST /v1/articles on h. Returns 0 or -ENOMEM. */
int fetch_api_start(nw_http_t *h, fetch_accept_t *a);

/* Inbox: watch dir (created with done/ and rejected/ inside if missing). NULL with the reason
 * in err when the directories cannot be made (ENOMEM leaves err as it was). A directory that
 * cannot be read later is reported to a->sources and tried again at every rescan. */
typedef struct fetch_inbox fetch_inbox_t;
fetch_inbox_t *fetch_inbox_new(uv_loop_t *loop, const char *dir, fetch_accept_t *a, char *err,
                               size_t errlen);
/* The pushes became writable again, or the spool fell below its bound: resume a scan that
 * stopped on BUSY. NULL-safe. */
void fetch_inbox_writable(fetch_inbox_t *in);
/* Stop watching and release; cb (may be NULL) runs after the handles closed. No item may be
 * pending (flush the deliverer first). NULL-safe. */
void fetch_inbox_close(fetch_inbox_t *in, void (*cb)(void *arg), void *arg);

/* ZeroMQ ingest: a ROUTER bound at endpoint (see proto/ingest.md). */
/* NULL with the reason in err when the socket cannot be made or bound (port in use). */
typedef struct fetch_ingest fetch_ingest_t;
fetch_ingest_t *fetch_ingest_new(uv_loop_t *loop, void *zctx, const char *endpoint,
                                 fetch_accept_t *a, char *err, size_t errlen);
/* Stop taking requests and close the socket; cb (may be NULL) runs last. NULL-safe. */
void fetch_ingest_close(fetch_ingest_t *in, void (*cb)(void *arg), void *arg);

/* Sources fail alone (sources.c): each is started through here, and one that cannot start is
 * reported (/healthz, nw_fetch_source_up, nw_fetch_source_failures_total) and retried with
 * backoff while the others run. */
typedef struct fetch_source_ops {
    const char *name; /* "inbox", "ingest", "web" (borrowed for the set's lifetime) */
    /* Start the source: its handle, or NULL with the reason in err. */
    void *(*start)(void *arg, char *err, size_t errlen);
    /* Close a started source; cb(cb_arg) once it is released. */
    void (*close)(void *handle, void (*cb)(void *cb_arg), void *cb_arg);
    void *arg;
} fetch_source_ops_t;
fetch_sources_t *fetch_sources_new(uv_loop_t *loop);
/* Start a source now; when that fails, retry it after 1 s, doubling up to 60 s. Returns 0 (also
 * when the source is down) or -ENOSPC (too many sources). Copies ops. */
int fetch_sources_add(fetch_sources_t *set, const fetch_source_ops_t *ops);
/* The running source called name, or NULL while it is down (NULL-safe). */
void *fetch_sources_get(fetch_sources_t *set, const char *name);
/* A running source reports a problem (problem NULL or "": it is over). Logged on change.
 * NULL-safe in set. */
void fetch_sources_problem(fetch_sources_t *set, const char *name, const char *problem);
/* nw_service_health_cb: the sources that are down or failing, with their reasons. */
size_t fetch_sources_health(void *set, nw_service_problem_t *out, size_t max);
/* Stop retrying and close every running source; cb (may be NULL) runs last. NULL-safe. */
void fetch_sources_close(fetch_sources_t *set, void (*cb)(void *arg), void *arg);

#endif
