/* stream.c: GET /v1/stream?topic=T&since=S, Server-Sent Events (query.h).
 *
 * Every matching article, backfilled from the database and then live from the hub, each once,
 * in seq order; the event id is the seq, so a client that reconnects with Last-Event-ID
 * resumes without gap or duplicate. Events are named "article" (EventSource's onmessage does
 * not see them: use addEventListener('article', ...)).
 *
 * The hub's "all" topic carries every stored article once; each client has its own follow.h
 * cursor over it. A client's unsent bytes are bounded (--stream-buffer): past the bound it
 * stops taking live articles and is fed from the database as its connection drains, so a slow
 * client costs database reads, not memory, and misses nothing. */
#include "query.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>
#include <zmq.h>

#include "newswire/buf.h"
#include "newswire/follow.h"
#include "newswire/json.h"
#include "newswire/log.h"
#include "newswire/metrics.h"
#include "newswire/proto.h"
#include "newswire/sub.h"
#include "newswire/zsock.h"

#define KEEPALIVE_MS 15000
#define RETRY_MS 2000 /* the SSE retry: a client reconnects after this */
#define SUB_RCVHWM 100000

/* One /v1/stream client. */
typedef struct client {
    query_stream_t *st;
    nw_http_stream_t *stream;
    nw_follow_t f;
    char *topics; /* the prefixes, as one buffer */
    const char *prefixes[QUERY_MAX_PREFIXES];
    int behind;       /* over --stream-buffer: fed from the database on drain, not live */
    int64_t last_out; /* loop ms of the last write, for keep-alives */
    struct client *prev, *next;
} client_t;

struct query_stream {
    query_svc_t *q;
    int64_t buffer, check_ms;
    nw_zsock_t *sub;
    uv_timer_t timer;
    client_t *clients;
    int64_t n_clients;
    int open; /* handles not closed yet (the hub socket, the timer) */
    void (*closed_cb)(void *arg);
    void *closed_arg;
    /* the SSE event of the last document converted, shared by every client it goes to */
    uint64_t ev_seq;
    nw_buf_t ev;
    nw_metric_t *m_clients, *m_events, *m_live, *m_db;
};

/* The SSE event for a document, converted once per seq for all clients. */
static const nw_buf_t *
event_of(query_stream_t *st, uint64_t seq, const uint8_t *doc, size_t len)
{
    if (st->ev.len > 0 && st->ev_seq == seq)
        return &st->ev;
    nw_buf_reset(&st->ev);
    st->ev_seq = 0;
    if (nw_buf_printf(&st->ev, "id: %" PRIu64 "\nevent: article\ndata: ", seq) < 0 ||
        nw_json_from_msgpack(doc, len, &st->ev) < 0 || nw_buf_puts(&st->ev, "\n\n") < 0) {
        NW_WARN(NULL, "stream: cannot convert document seq=%" PRIu64 ": %s", seq, nw_proto_error());
        nw_buf_reset(&st->ev);
        return NULL;
    }
    st->ev_seq = seq;
    return &st->ev;
}

static int
client_write(client_t *c, const void *data, size_t len)
{
    c->last_out = (int64_t)uv_now(nw_service_loop(c->st->q->svc));
    return nw_http_stream_write(c->stream, data, len);
}

static int
on_client_doc(const char *topic, uint64_t seq, const uint8_t *doc, size_t len, nw_follow_src_t src,
              void *arg)
{
    (void)topic;
    client_t *c = arg;
    query_stream_t *st = c->st;
    const nw_buf_t *ev = event_of(st, seq, doc, len);
    if (ev && client_write(c, ev->data, ev->len) < 0)
        return 1;
    nw_metrics_add(st->m_events, 1);
    nw_metrics_add(src == NW_FOLLOW_LIVE ? st->m_live : st->m_db, 1);
    return nw_http_stream_pending(c->stream) > (size_t)st->buffer;
}

/* Feed a client from the database; it stays "behind" while the database has more than its
 * buffer takes. */
static void
client_catch_up(client_t *c)
{
    int rc = nw_follow_catch_up(&c->f);
    if (rc < 0) {
        NW_WARN(NULL, "stream: database read failed: %s; closing the stream", strerror(-rc));
        nw_http_stream_end(c->stream);
        return;
    }
    c->behind = rc == 1;
}

static void
on_client_drain(nw_http_stream_t *s, void *arg)
{
    (void)s;
    client_t *c = arg;
    if (c->behind && !c->st->q->closing)
        client_catch_up(c);
}

static void
on_client_closed(nw_http_stream_t *s, void *arg)
{
    (void)s;
    client_t *c = arg;
    query_stream_t *st = c->st;
    if (c->prev)
        c->prev->next = c->next;
    else
        st->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    nw_metrics_set(st->m_clients, --st->n_clients);
    NW_INFO(NULL, "stream closed cursor=%" PRIu64, c->f.cursor);
    free(c->topics);
    free(c);
}

void
query_on_stream(nw_http_req_t *req, void *arg)
{
    query_svc_t *q = arg;
    query_stream_t *st = q->streams;
    static const char *const params[] = {"topic", "since", NULL};
    if (query_known_params(req, params) < 0)
        return;
    client_t *c = calloc(1, sizeof *c);
    if (c == NULL) {
        nw_http_error(req, 500, "internal", "out of memory", NULL);
        return;
    }
    size_t n = 0;
    if (query_topics_arg(nw_http_query(req, "topic"), &c->topics, c->prefixes, &n) < 0) {
        free(c->topics);
        free(c);
        nw_http_error(req, 400, "bad-topic", "topic: up to 32 comma-separated prefixes", NULL);
        return;
    }
    /* A reconnecting EventSource sends the last id it saw; it wins over since. */
    const char *last = nw_http_header(req, "Last-Event-ID");
    const char *since = last && *last ? last : nw_http_query(req, "since");
    c->f = (nw_follow_t){.db = q->db,
                         .prefixes = c->prefixes,
                         .n_prefixes = n,
                         .cb = on_client_doc,
                         .arg = c,
                         .batch = 256};
    int rc = nw_follow_cursor_at(q->db, since ? since : "now", &c->f.cursor);
    if (rc < 0) {
        free(c->topics);
        free(c);
        query_since_error(req, rc);
        return;
    }
    c->st = st;
    c->stream =
        nw_http_stream(req, 200, "text/event-stream", NULL, on_client_drain, on_client_closed, c);
    if (c->stream == NULL) {
        free(c->topics);
        free(c);
        return;
    }
    c->next = st->clients;
    if (st->clients)
        st->clients->prev = c;
    st->clients = c;
    nw_metrics_set(st->m_clients, ++st->n_clients);
    const char *topic = nw_http_query(req, "topic");
    NW_INFO(NULL, "stream opened topics=\"%s\" after=%" PRIu64, topic ? topic : "all", c->f.cursor);
    /* The backfill goes out as the client reads: start "behind" and let the first drain (after
     * this comment line went out) read the first batch. */
    c->behind = 1;
    /* retry: how long an EventSource waits before it reconnects (with Last-Event-ID). */
    char hello[96];
    int len = snprintf(hello, sizeof hello, "retry: %d\n: newswire stream after %" PRIu64 "\n\n",
                       RETRY_MS, c->f.cursor);
    client_write(c, hello, (size_t)len);
}

/* One live message from the hub: [topic "all"][enriched document]. */
static void
on_live(nw_zsock_t *zs, zmq_msg_t *frames, size_t n, void *arg)
{
    (void)zs;
    query_stream_t *st = arg;
    if (n != 2 || st->q->closing)
        return;
    const uint8_t *doc = zmq_msg_data(&frames[1]);
    size_t len = zmq_msg_size(&frames[1]);
    nw_enriched_t e;
    if (nw_enriched_decode(&e, doc, len) < 0) {
        nw_metrics_reason("nw_query_live_rejected_total", "undecodable",
                          "Live messages that were not enriched documents.");
        return;
    }
    for (client_t *c = st->clients, *next; c; c = next) {
        next = c->next;
        if (c->behind)
            continue; /* it reads the database as its connection drains */
        int rc = nw_follow_live(&c->f, &e, doc, len);
        if (rc < 0) {
            NW_WARN(NULL, "stream: database read failed: %s; closing the stream", strerror(-rc));
            nw_http_stream_end(c->stream);
        } else if (rc == 1) {
            c->behind = 1;
        }
    }
    nw_enriched_release(&e);
}

/* Every --check: fill holes the live stream cannot reveal (a drop at the end of a burst), and
 * keep idle connections (and the proxies between) alive. */
static void
on_timer(uv_timer_t *t)
{
    query_stream_t *st = t->data;
    int64_t now = (int64_t)uv_now(nw_service_loop(st->q->svc));
    for (client_t *c = st->clients, *next; c; c = next) {
        next = c->next;
        if (!c->behind)
            client_catch_up(c);
        if (now - c->last_out >= KEEPALIVE_MS)
            client_write(c, ": keep-alive\n\n", 14);
    }
}

query_stream_t *
query_streams_new(query_svc_t *q, const char *broker, int64_t buffer, int64_t check_ms)
{
    query_stream_t *st = calloc(1, sizeof *st);
    if (st == NULL)
        return NULL;
    st->q = q;
    st->buffer = buffer;
    st->check_ms = check_ms;
    uv_loop_t *loop = nw_service_loop(q->svc);
    uv_timer_init(loop, &st->timer);
    st->timer.data = st;
    st->open = 1;
    st->m_clients = nw_metrics_gauge("nw_query_streams", NULL, "Stream clients connected.");
    st->m_events = nw_metrics_counter("nw_query_stream_events_total", NULL,
                                      "Articles sent to stream clients.");
    st->m_live = nw_metrics_counter("nw_query_stream_sources_total", "source=\"live\"",
                                    "Articles sent to stream clients, by where they came from.");
    st->m_db = nw_metrics_counter("nw_query_stream_sources_total", "source=\"database\"",
                                  "Articles sent to stream clients, by where they came from.");
    const char *all = "all";
    char err[512];
    void *s = nw_sub_open(nw_service_zctx(q->svc), broker, &all, 1, SUB_RCVHWM, err, sizeof err);
    if (s == NULL) {
        NW_ERROR(NULL, "%s", err);
        goto fail;
    }
    if ((st->sub = nw_zsock_new(loop, s, on_live, st)) == NULL) {
        zmq_close(s);
        goto fail;
    }
    st->open = 2;
    uv_timer_start(&st->timer, on_timer, (uint64_t)check_ms, (uint64_t)check_ms);
    return st;
fail:
    query_streams_close(st, free, st);
    return NULL;
}

static void
on_part_closed(query_stream_t *st)
{
    if (--st->open == 0 && st->closed_cb)
        st->closed_cb(st->closed_arg);
}

static void
on_sub_closed(nw_zsock_t *zs, void *arg)
{
    (void)zs;
    on_part_closed(arg);
}

static void
on_timer_closed(uv_handle_t *h)
{
    on_part_closed(h->data);
}

void
query_streams_close(query_stream_t *st, void (*cb)(void *arg), void *arg)
{
    st->closed_cb = cb;
    st->closed_arg = arg;
    if (st->sub) {
        nw_zsock_close(st->sub, on_sub_closed, st);
        st->sub = NULL;
    }
    uv_close((uv_handle_t *)&st->timer, on_timer_closed);
}

void
query_streams_destroy(query_stream_t **stp)
{
    query_stream_t *st = *stp;
    if (st == NULL)
        return;
    nw_buf_release(&st->ev);
    free(st);
    *stp = NULL;
}
