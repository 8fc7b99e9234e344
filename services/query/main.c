/* newswire-query: the read side over HTTP, for people and programs without ZeroMQ.
 *
 *   GET /v1/articles/ID          the stored document of an article (JSON)
 *   GET /v1/articles?topic=T&since=S&limit=N
 *                                stored documents after S whose topics match T by prefix, in
 *                                seq order, with "next" to page on
 *   GET /v1/search?q=WORDS&limit=N
 *                                full-text search, best first
 *   GET /v1/stream?topic=T&since=S
 *                                Server-Sent Events: every matching article, backfilled from
 *                                the database and then live from the hub, each once, in seq
 *                                order; the event id is the seq, so a client that reconnects
 *                                with Last-Event-ID resumes without gap or duplicate
 *   GET /                        the web page (data/web/: live list, search, timeline, map)
 *
 * The database is opened read-only (it sees what the store commits). The hub's "all" topic
 * carries every stored article once; each stream client has its own follow.h cursor over it.
 * A client's unsent bytes are bounded (--stream-buffer): past the bound it stops taking live
 * articles and is fed from the database as its connection drains, so a slow client costs
 * database reads, not memory, and misses nothing.
 *
 * Nothing a client sends may stall the loop that /healthz and every stream share. Searches
 * are bounded in syntax (MAX_QUERY_BYTES, MAX_QUERY_TERMS), cut after --query-budget of work,
 * and run off the loop: one libuv thread-pool job at a time, on a database handle of its own
 * that nothing on the loop touches (SQLite handles are single-threaded here), queued up to
 * MAX_SEARCH_QUEUE and 503 past it. A topic page reads at most SCAN_MAX rows per request and
 * answers with what it found and "next" to continue from, so a topic nothing matches costs
 * one bounded read, not a scan of the whole database. */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <uv.h>
#include <zmq.h>

#include "newswire/buf.h"
#include "newswire/config.h"
#include "newswire/enrich.h"
#include "newswire/follow.h"
#include "newswire/json.h"
#include "newswire/log.h"
#include "newswire/metrics.h"
#include "newswire/proto.h"
#include "newswire/service.h"
#include "newswire/stage.h"
#include "newswire/store.h"
#include "newswire/sub.h"
#include "newswire/util.h"
#include "newswire/webroot.h"
#include "newswire/zsock.h"

#define MAX_PREFIXES 32
#define MAX_LIMIT 1000
#define KEEPALIVE_MS 15000
#define SUB_RCVHWM 100000
#define MAX_QUERY_BYTES 256 /* a search query's length */
#define MAX_QUERY_TERMS 16  /* whitespace-separated terms in it */
#define MAX_SEARCH_QUEUE 32 /* searches waiting for the worker; 503 past it */
#define SCAN_MAX 500        /* rows one /v1/articles request reads */

typedef struct cfg {
    nw_service_cfg_t svc;
    const char *data_dir;
    const char *db;
    int64_t stream_buffer;
    int64_t check_ms;
    int64_t query_budget_ms;
    const char *web_dir;
    nw_http_opts_t http_sec;
} cfg_t;

static const nw_cfg_opt_t options[] = {
    NW_SERVICE_OPTIONS(cfg_t, svc, "127.0.0.1:8081",
                       "listen address of the query API and stream (also /metrics and /healthz)"),
    {"data-dir", NW_CFG_STR, "var", offsetof(cfg_t, data_dir), "data directory", 0, 0},
    {"db", NW_CFG_STR, "", offsetof(cfg_t, db),
     "database: SQLite file, or postgresql:// URI / libpq conninfo (empty: "
     "<data-dir>/newswire.db)",
     0, 0},
    {"stream-buffer", NW_CFG_SIZE, "1m", offsetof(cfg_t, stream_buffer),
     "unsent bytes per stream client beyond which it is fed from the database instead", 4096,
     1LL << 30},
    {"check", NW_CFG_MS, "1s", offsetof(cfg_t, check_ms),
     "look in the database for articles the live stream missed this often", 10, 3600000},
    {"query-budget", NW_CFG_MS, "2s", offsetof(cfg_t, query_budget_ms),
     "a search still working after this is cut (503)", 10, 600000},
    {"web-dir", NW_CFG_STR, "", offsetof(cfg_t, web_dir),
     "the web page's files, served at / (empty: web/ beside the reference data; off: none)", 0, 0},
    NW_HTTP_OPTIONS(cfg_t, http_sec),
    NW_CFG_END,
};

typedef struct query_svc query_svc_t;

/* One search, run on the thread pool. */
typedef struct search_job {
    uv_work_t work;
    query_svc_t *q;
    nw_http_req_t *req;
    char *words;
    int limit;
    json_t *hits;
    int rc;
    struct search_job *next;
} search_job_t;

/* One /v1/stream client. */
typedef struct client {
    query_svc_t *q;
    nw_http_stream_t *stream;
    nw_follow_t f;
    char *topics; /* the prefixes, as one buffer */
    const char *prefixes[MAX_PREFIXES];
    int behind;       /* over --stream-buffer: fed from the database on drain, not live */
    int64_t last_out; /* loop ms of the last write, for keep-alives */
    struct client *prev, *next;
} client_t;

struct query_svc {
    nw_service_t *svc;
    cfg_t cfg;
    nw_store_t *db;
    nw_store_t *search_db; /* used by the thread-pool job only */
    nw_webroot_t *web;
    search_job_t *running, *queued, **queued_tail;
    int n_queued;
    nw_zsock_t *sub;
    uv_timer_t timer;
    client_t *clients;
    int64_t n_clients;
    int closing, open;
    /* the SSE event of the last document converted, shared by every client it goes to */
    uint64_t ev_seq;
    nw_buf_t ev;
    nw_metric_t *m_clients, *m_events, *m_live, *m_db, *m_search_s;
};

static void on_part_closed(query_svc_t *q);

/* ---- small JSON answers ---- */

static void
answer_json(nw_http_req_t *req, int status, json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (s == NULL) {
        nw_http_error(req, 500, "internal", "out of memory", NULL);
        return;
    }
    nw_http_respond(req, status, "application/json", s, strlen(s), NULL);
    free(s);
}

static void
db_error(nw_http_req_t *req, int rc)
{
    NW_WARN(NULL, "database read failed path=\"%s\": %s", req->path, strerror(-rc));
    nw_http_error(req, 503, "database", "the database could not be read", NULL);
}

/* limit=N, 1..MAX_LIMIT; def when absent. -1 (after answering 400) when malformed. */
static int
limit_arg(nw_http_req_t *req, int def)
{
    const char *v = nw_http_query(req, "limit");
    if (v == NULL)
        return def;
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (end == v || *end || n < 1 || n > MAX_LIMIT) {
        nw_http_error(req, 400, "bad-limit", "limit must be a number from 1 to 1000", NULL);
        return -1;
    }
    return (int)n;
}

/* topic=a,b,c into c->prefixes (default "all"). -EINVAL on an empty or over-long list. */
static int
topics_arg(const char *v, char **owned, const char **prefixes, size_t *n)
{
    *owned = strdup(v && *v ? v : "all");
    if (*owned == NULL)
        return -ENOMEM;
    *n = 0;
    for (char *save = NULL, *t = strtok_r(*owned, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (*n == MAX_PREFIXES)
            return -EINVAL;
        prefixes[(*n)++] = t;
    }
    return *n ? 0 : -EINVAL;
}

/* ---- GET /v1/articles/ID ---- */

static void
on_article(nw_http_req_t *req, void *arg)
{
    query_svc_t *q = arg;
    const char *id = req->path + strlen("/v1/articles/");
    uint8_t *doc = NULL;
    size_t len = 0;
    int rc = nw_store_get(q->db, id, &doc, &len);
    if (rc == -ENOENT) {
        nw_http_error(req, 404, "not-found", "no article with this id", NULL);
        return;
    }
    if (rc < 0) {
        db_error(req, rc);
        return;
    }
    nw_buf_t out = {0};
    if (nw_json_from_msgpack(doc, len, &out) < 0)
        nw_http_error(req, 500, "bad-document", nw_proto_error(), NULL);
    else
        nw_http_respond(req, 200, "application/json", out.data, out.len, NULL);
    nw_buf_release(&out);
    free(doc);
}

/* ---- GET /v1/articles?topic=&since=&limit= ---- */

struct page {
    nw_buf_t out;
    int n, limit, failed;
};

static int
on_page_doc(const char *topic, uint64_t seq, const uint8_t *doc, size_t len, nw_follow_src_t src,
            void *arg)
{
    (void)topic;
    (void)seq;
    (void)src;
    struct page *p = arg;
    if ((p->n > 0 && nw_buf_puts(&p->out, ",") < 0) || nw_json_from_msgpack(doc, len, &p->out) < 0)
        p->failed = 1;
    p->n++;
    return p->n >= p->limit || p->failed;
}

static void
on_articles(nw_http_req_t *req, void *arg)
{
    query_svc_t *q = arg;
    const char *prefixes[MAX_PREFIXES];
    char *owned = NULL;
    size_t n_prefixes = 0;
    struct page p = {.limit = limit_arg(req, 100)};
    if (p.limit < 0)
        return;
    nw_follow_t f = {
        .db = q->db, .prefixes = prefixes, .cb = on_page_doc, .arg = &p, .scan_max = SCAN_MAX};
    const char *since = nw_http_query(req, "since");
    int rc = topics_arg(nw_http_query(req, "topic"), &owned, prefixes, &n_prefixes);
    f.n_prefixes = n_prefixes;
    if (rc < 0) {
        nw_http_error(req, 400, "bad-topic", "topic: up to 32 comma-separated prefixes", NULL);
        goto out;
    }
    if ((rc = nw_follow_cursor_at(q->db, since ? since : "0", &f.cursor)) < 0) {
        if (rc == -EINVAL)
            nw_http_error(req, 400, "bad-since",
                          "since: a seq, now, 10m/2h/7d ago, or an ISO 8601 time", NULL);
        else
            db_error(req, rc);
        goto out;
    }
    if (nw_buf_puts(&p.out, "{\"articles\":[") < 0)
        goto oom;
    if ((rc = nw_follow_catch_up(&f)) < 0) {
        db_error(req, rc);
        goto out;
    }
    if (p.failed || nw_buf_printf(&p.out, "],\"next\":%" PRIu64 "}", f.cursor) < 0)
        goto oom;
    nw_http_respond(req, 200, "application/json", p.out.data, p.out.len, NULL);
    goto out;
oom:
    nw_http_error(req, 500, "internal", "out of memory or a document JSON cannot hold", NULL);
out:
    nw_buf_release(&p.out);
    free(owned);
}

/* ---- GET /v1/search?q=&limit= ---- */

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
    j->rc =
        j->hits ? nw_store_search(j->q->search_db, j->words, j->limit, on_hit, j->hits) : -ENOMEM;
}

static void search_next(query_svc_t *q);

static void
search_done(uv_work_t *w, int status)
{
    search_job_t *j = w->data;
    query_svc_t *q = j->q;
    nw_metrics_add(q->m_search_s, 1);
    if (status < 0)
        j->rc = status;
    if (j->rc == -EINVAL)
        nw_http_error(j->req, 400, "bad-query", "the query has no words to search for", NULL);
    else if (j->rc == -ETIMEDOUT)
        nw_http_error(j->req, 503, "query-too-costly",
                      "the query took longer than the server allows; narrow it", NULL);
    else if (j->rc < 0)
        db_error(j->req, j->rc);
    else
        answer_json(j->req, 200, json_pack("{s:O}", "hits", j->hits));
    json_decref(j->hits);
    free(j->words);
    free(j);
    q->running = NULL;
    search_next(q);
}

/* Start the next queued search if the worker is free. At drain, the worker counts as closed
 * once its search is answered: that must happen before the HTTP server closes. */
static void
search_next(query_svc_t *q)
{
    if (q->running)
        return;
    search_job_t *j = q->queued;
    if (j == NULL) {
        if (q->closing)
            on_part_closed(q);
        return;
    }
    q->queued = j->next;
    if (q->queued == NULL)
        q->queued_tail = &q->queued;
    q->n_queued--;
    q->running = j;
    j->work.data = j;
    int rc = uv_queue_work(nw_service_loop(q->svc), &j->work, search_work, search_done);
    if (rc < 0)
        search_done(&j->work, rc);
}

static void
on_search(nw_http_req_t *req, void *arg)
{
    query_svc_t *q = arg;
    const char *words = nw_http_query(req, "q");
    int limit = limit_arg(req, 20);
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
    if (q->n_queued >= MAX_SEARCH_QUEUE || q->closing) {
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
    j->q = q;
    j->req = req;
    j->limit = limit;
    *q->queued_tail = j;
    q->queued_tail = &j->next;
    q->n_queued++;
    search_next(q); /* the request stays suspended until search_done answers it */
}

/* ---- GET /v1/stream ---- */

/* The SSE event for a document, converted once per seq for all clients. */
static const nw_buf_t *
event_of(query_svc_t *q, uint64_t seq, const char *topic, const uint8_t *doc, size_t len)
{
    if (q->ev.len > 0 && q->ev_seq == seq)
        return &q->ev;
    nw_buf_reset(&q->ev);
    q->ev_seq = 0;
    (void)topic;
    if (nw_buf_printf(&q->ev, "id: %" PRIu64 "\nevent: article\ndata: ", seq) < 0 ||
        nw_json_from_msgpack(doc, len, &q->ev) < 0 || nw_buf_puts(&q->ev, "\n\n") < 0) {
        NW_WARN(NULL, "stream: cannot convert document seq=%" PRIu64 ": %s", seq, nw_proto_error());
        nw_buf_reset(&q->ev);
        return NULL;
    }
    q->ev_seq = seq;
    return &q->ev;
}

static int
client_write(client_t *c, const void *data, size_t len)
{
    c->last_out = (int64_t)uv_now(nw_service_loop(c->q->svc));
    return nw_http_stream_write(c->stream, data, len);
}

static int
on_client_doc(const char *topic, uint64_t seq, const uint8_t *doc, size_t len, nw_follow_src_t src,
              void *arg)
{
    client_t *c = arg;
    query_svc_t *q = c->q;
    const nw_buf_t *ev = event_of(q, seq, topic, doc, len);
    if (ev && client_write(c, ev->data, ev->len) < 0)
        return 1;
    nw_metrics_add(q->m_events, 1);
    nw_metrics_add(src == NW_FOLLOW_LIVE ? q->m_live : q->m_db, 1);
    return nw_http_stream_pending(c->stream) > (size_t)q->cfg.stream_buffer;
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
    if (c->behind && !c->q->closing)
        client_catch_up(c);
}

static void
on_client_closed(nw_http_stream_t *s, void *arg)
{
    (void)s;
    client_t *c = arg;
    query_svc_t *q = c->q;
    if (c->prev)
        c->prev->next = c->next;
    else
        q->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    nw_metrics_set(q->m_clients, --q->n_clients);
    NW_INFO(NULL, "stream closed cursor=%" PRIu64, c->f.cursor);
    free(c->topics);
    free(c);
}

static void
on_stream(nw_http_req_t *req, void *arg)
{
    query_svc_t *q = arg;
    client_t *c = calloc(1, sizeof *c);
    if (c == NULL) {
        nw_http_error(req, 500, "internal", "out of memory", NULL);
        return;
    }
    size_t n = 0;
    if (topics_arg(nw_http_query(req, "topic"), &c->topics, c->prefixes, &n) < 0) {
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
        if (rc == -EINVAL)
            nw_http_error(req, 400, "bad-since",
                          "since: a seq, now, 10m/2h/7d ago, or an ISO 8601 time", NULL);
        else
            db_error(req, rc);
        return;
    }
    c->q = q;
    c->stream =
        nw_http_stream(req, 200, "text/event-stream", NULL, on_client_drain, on_client_closed, c);
    if (c->stream == NULL) {
        free(c->topics);
        free(c);
        return;
    }
    c->next = q->clients;
    if (q->clients)
        q->clients->prev = c;
    q->clients = c;
    nw_metrics_set(q->m_clients, ++q->n_clients);
    const char *topic = nw_http_query(req, "topic");
    NW_INFO(NULL, "stream opened topics=\"%s\" after=%" PRIu64, topic ? topic : "all", c->f.cursor);
    /* The backfill goes out as the client reads: start "behind" and let the first drain (after
     * this comment line went out) read the first batch. */
    c->behind = 1;
    char hello[64];
    int len = snprintf(hello, sizeof hello, ": newswire stream after %" PRIu64 "\n\n", c->f.cursor);
    client_write(c, hello, (size_t)len);
}

/* One live message from the hub: [topic "all"][enriched document]. */
static void
on_live(nw_zsock_t *zs, zmq_msg_t *frames, size_t n, void *arg)
{
    (void)zs;
    query_svc_t *q = arg;
    if (n != 2 || q->closing)
        return;
    const uint8_t *doc = zmq_msg_data(&frames[1]);
    size_t len = zmq_msg_size(&frames[1]);
    nw_enriched_t e;
    if (nw_enriched_decode(&e, doc, len) < 0) {
        nw_metrics_reason("nw_query_live_rejected_total", "undecodable",
                          "Live messages that were not enriched documents.");
        return;
    }
    for (client_t *c = q->clients, *next; c; c = next) {
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
    query_svc_t *q = t->data;
    int64_t now = (int64_t)uv_now(nw_service_loop(q->svc));
    for (client_t *c = q->clients, *next; c; c = next) {
        next = c->next;
        if (!c->behind)
            client_catch_up(c);
        if (now - c->last_out >= KEEPALIVE_MS)
            client_write(c, ": keep-alive\n\n", 14);
    }
}

/* ---- lifecycle ---- */

static void
on_part_closed(query_svc_t *q)
{
    if (--q->open == 0)
        nw_service_stop(q->svc);
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

static void
on_drain(nw_service_t *svc, void *arg)
{
    (void)svc;
    query_svc_t *q = arg;
    q->closing = 1;
    q->open = 3; /* the hub socket, the timer, the search worker */
    for (search_job_t *j = q->queued, *next; j; j = next) {
        next = j->next;
        nw_http_error(j->req, 503, "shutting-down", "the server is shutting down", NULL);
        free(j->words);
        free(j);
    }
    q->queued = NULL;
    q->queued_tail = &q->queued;
    q->n_queued = 0;
    search_next(q); /* counts the worker as closed now, or when its search is answered */
    nw_zsock_close(q->sub, on_sub_closed, q);
    q->sub = NULL;
    uv_close((uv_handle_t *)&q->timer, on_timer_closed);
}

/* The web page (webroot.h), from --web-dir or web/ beside the reference data. A missing
 * directory only costs the page: the API serves without it. */
static int
serve_web(query_svc_t *q, nw_http_t *h)
{
    char dir[4200];
    if (strcmp(q->cfg.web_dir, "off") == 0)
        return 0;
    if (q->cfg.web_dir[0]) {
        snprintf(dir, sizeof dir, "%s", q->cfg.web_dir);
    } else {
        char ref[4096];
        if (nw_enrich_find_data(ref, sizeof ref) < 0) {
            NW_WARN(NULL, "no web page: reference data not found (set --web-dir)");
            return 0;
        }
        snprintf(dir, sizeof dir, "%s/web", ref);
    }
    if ((q->web = nw_webroot_new(dir)) == NULL) {
        NW_WARN(NULL, "no web page: cannot open \"%s\": %s", dir, strerror(errno));
        return 0;
    }
    NW_INFO(NULL, "web page served at / from \"%s\"", dir);
    return nw_webroot_route(q->web, h);
}

static int
subscribe(query_svc_t *q)
{
    const char *all = "all";
    char err[512];
    void *s = nw_sub_open(nw_service_zctx(q->svc), q->cfg.svc.broker, &all, 1, SUB_RCVHWM, err,
                          sizeof err);
    if (s == NULL) {
        NW_ERROR(NULL, "%s", err);
        return -EIO;
    }
    q->sub = nw_zsock_new(nw_service_loop(q->svc), s, on_live, q);
    if (q->sub == NULL) {
        zmq_close(s);
        return -ENOMEM;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    static query_svc_t q;
    char path[4096], err[512] = "";
    int rc = nw_config_load(
        options, &q.cfg, argc, argv, "newswire-query [options]",
        "Query API over HTTP: GET /v1/articles/ID, /v1/articles?topic=T&since=S&limit=N,\n"
        "/v1/search?q=WORDS&limit=N, and /v1/stream?topic=T&since=S, a Server-Sent Events\n"
        "stream of matching articles without gap or duplicate (reconnect with Last-Event-ID).\n"
        "Topics match by prefix and may be comma-separated (default all); since is a seq, now\n"
        "(the default for streams), a time ago (10m, 2h, 7d) or an ISO 8601 time. Reads the\n"
        "database read-only.",
        NULL, NULL);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    if (nw_service_config("query", &q.cfg.svc, NW_CURVE_CONNECTS) < 0)
        return 2;
    if (q.cfg.svc.http == NULL || q.cfg.svc.http[0] == 0) {
        nw_config_bad_value("http", "", "required: it is what this service serves");
        return 2;
    }
    if (nw_store_path(q.cfg.data_dir, q.cfg.db, path, sizeof path) < 0) {
        nw_config_bad_value("db", q.cfg.db, "a path that fits 4 KiB");
        return 2;
    }

    q.svc = nw_service_new_opts("query", q.cfg.svc.http, &q.cfg.http_sec, on_drain, &q);
    if (!q.svc)
        return 1;
    uv_loop_t *loop = nw_service_loop(q.svc);
    uv_timer_init(loop, &q.timer);
    q.timer.data = &q;
    q.m_clients = nw_metrics_gauge("nw_query_streams", NULL, "Stream clients connected.");
    q.m_events = nw_metrics_counter("nw_query_stream_events_total", NULL,
                                    "Articles sent to stream clients.");
    q.m_live = nw_metrics_counter("nw_query_stream_sources_total", "source=\"live\"",
                                  "Articles sent to stream clients, by where they came from.");
    q.m_db = nw_metrics_counter("nw_query_stream_sources_total", "source=\"database\"",
                                "Articles sent to stream clients, by where they came from.");
    q.m_search_s = nw_metrics_counter("nw_query_searches_total", NULL,
                                      "Searches answered (run off the loop).");
    /* A conninfo may hold a password: log only that it is PostgreSQL. */
    const char *shown = nw_store_is_postgres(path) ? "postgresql" : path;
    /* The store creates the database; wait for it rather than fail when started first. */
    for (int tries = 0; (q.db = nw_store_open(path, 1, err, sizeof err)) == NULL; tries++) {
        if (tries == 100) {
            NW_ERROR(NULL, "cannot open database: %s", err);
            goto fail;
        }
        if (tries == 0)
            NW_INFO(NULL, "waiting for the database \"%s\": %s", shown, err);
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    /* The search worker's own handle: SQLite connections here are single-threaded. */
    if ((q.search_db = nw_store_open(path, 1, err, sizeof err)) == NULL) {
        NW_ERROR(NULL, "cannot open database: %s", err);
        goto fail;
    }
    if (nw_store_set_budget(q.search_db, q.cfg.query_budget_ms) < 0)
        goto fail;
    q.queued_tail = &q.queued;
    if (subscribe(&q) < 0)
        goto fail;
    nw_http_t *h = nw_service_http(q.svc);
    if (nw_http_route(h, "GET", "/v1/articles/*", on_article, &q) < 0 ||
        nw_http_route(h, "GET", "/v1/articles", on_articles, &q) < 0 ||
        nw_http_route(h, "GET", "/v1/search", on_search, &q) < 0 ||
        nw_http_route(h, "GET", "/v1/stream", on_stream, &q) < 0 || serve_web(&q, h) < 0)
        goto fail;
    uv_timer_start(&q.timer, on_timer, (uint64_t)q.cfg.check_ms, (uint64_t)q.cfg.check_ms);
    NW_INFO(NULL, "query started http=%s db=\"%s\"", q.cfg.svc.http, shown);
    rc = nw_service_run(q.svc);
    nw_store_close(&q.db);
    nw_store_close(&q.search_db);
    nw_buf_release(&q.ev);
    nw_webroot_destroy(&q.web);
    return rc;
fail:
    if (q.sub)
        nw_zsock_close(q.sub, NULL, NULL);
    uv_close((uv_handle_t *)&q.timer, NULL);
    nw_store_close(&q.db);
    nw_store_close(&q.search_db);
    nw_service_stop(q.svc);
    nw_service_run(q.svc);
    nw_webroot_destroy(&q.web);
    return 1;
}
