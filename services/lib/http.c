/* http.c: the HTTP server on the service's uv loop (see http.h), built on libmicrohttpd.
 *
 * MHD runs in "external polling" mode with epoll and no thread of its own: its epoll
 * descriptor is watched by one uv_poll (readable means MHD has socket events, or its
 * inter-thread channel fired because a connection was resumed), and one uv_timer is re-armed
 * from MHD_get_timeout() after every MHD_run(), so connection timeouts and work MHD left
 * pending (edge-triggered sockets with more data, resumed connections) are processed even when
 * no descriptor becomes readable.
 *
 * Every request gets a context on the first access-handler call. The body is accumulated up
 * to max_body; beyond that (or when Content-Length already says so) the request is answered
 * 413 and further body bytes are discarded, never buffered. With the whole body in hand the
 * route's handler runs; if it does not answer at once the connection is suspended until
 * nw_http_respond(), which queues the response on the suspended connection (MHD allows that),
 * resumes it and kicks the timer so MHD sends it on the next loop iteration.
 *
 * A streamed answer (nw_http_stream) is a chunked response whose content reader copies out
 * what the owner has written; when nothing is left it suspends the connection (MHD allows that
 * from a content reader) and returns 0, and the next write resumes it. "Everything written went
 * out" is reported to the owner from the timer callback, outside MHD_run().
 *
 * Hostile clients (see http.h): MHD's own connection timeout is reset by every byte, so a
 * slowloris client could keep it alive forever. Each connection therefore has a record (MHD's
 * socket context) with a phase and the loop time it began: waiting for a head (from connect or
 * from the last answer), receiving a body, or busy in a handler or answer. A sweep timer
 * shuts down the socket of any connection past its phase's deadline, and of any stream whose
 * queued bytes have not moved for the stall deadline; MHD then sees the end of the stream and
 * closes the connection itself, so its bookkeeping stays its own. Everything that can be
 * decided from the head (route, method, a body where none belongs, its declared size, the
 * token, smuggling-shaped framing) is decided on the first access-handler call, before a body
 * byte is read; such answers close the connection. Buffered body bytes are charged against one
 * cap for the whole server (a declared Content-Length is charged up front).
 *
 * Closing is deferred to a timer callback so it never runs inside MHD_run(): stop listening,
 * end every stream, answer every suspended request 503 (MHD_stop_daemon must not see suspended
 * connections),
 * give in-flight responses up to CLOSE_GRACE_MS to go out, then close the uv handles and stop
 * MHD once they are closed. MHD's request-completed callback frees every context. */
#include "newswire/http.h"
#include "newswire/buf.h"
#include "newswire/log.h"
#include "newswire/metrics.h"

#include <assert.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#define CONNECTION_LIMIT 1000      /* below the usual 1024 descriptor limit */
#define CONNECTION_TIMEOUT_S 60    /* idle keep-alive and stalled clients */
#define CLOSE_GRACE_MS 1000        /* how long close waits for responses in flight */
#define MAX_TIMER_MS (3600 * 1000) /* cap MHD's timeout so the uv timer math stays sane */
#define SWEEP_MS 250               /* how often deadlines are checked */
#define MAX_PEM_BYTES (1 << 20)    /* certificate and key files */
/* A stream's kernel send buffer. Left to autotuning, a client that never reads parks a few
 * hundred KB per connection in the kernel, out of the stall rule's sight; fixed, what it does
 * not read stays in our queue, where the rule sees it. 32 KiB (the kernel doubles it) still
 * carries hundreds of KB/s at internet round trips. */
#define STREAM_SNDBUF (32 * 1024)

/* Where a connection is, for the deadlines. */
enum conn_phase {
    CP_HEAD, /* waiting for (the rest of) a request head: since connect or the last answer */
    CP_BODY, /* head in, body arriving */
    CP_BUSY, /* in a handler, suspended, or answering: no deadline here (streams have theirs) */
};

struct conn {
    struct MHD_Connection *mc;
    int fd;
    enum conn_phase phase;
    uint64_t since; /* loop ms when the phase began */
    int dropped;    /* shut down by the sweep; MHD closes it on its next run */
    struct conn *prev, *next;
};

struct route {
    struct route *next;
    char *method;
    char *path;
    nw_http_handler_cb cb;
    void *arg;
    unsigned scope; /* token.h bits the caller's token must hold; 0: open */
    int takes_body; /* POST, PUT, PATCH */
};

enum req_state {
    RS_RECEIVING,  /* headers seen, body arriving */
    RS_TOO_LARGE,  /* answered (or about to be) 413; body bytes are discarded */
    RS_OVERLOADED, /* the server-wide body cap was reached: 503 at the end; bytes discarded */
    RS_IN_HANDLER,
    RS_SUSPENDED, /* handler returned without answering; connection suspended */
    RS_ANSWERED,  /* a response is queued */
    RS_FAILED,    /* could not build a response; the connection is dropped */
};

struct nw_http_stream {
    struct req_ctx *c;
    nw_buf_t q; /* written, not yet handed to MHD: q.data[off..len) */
    size_t off;
    int parked;     /* the connection is suspended waiting for a write */
    int ended;      /* nw_http_stream_end: finish once q is empty */
    int drain_due;  /* q emptied: tell the owner from the timer */
    uint64_t moved; /* loop ms when queued bytes last went out (or the queue was empty) */
    nw_http_stream_cb on_drain, on_closed;
    void *arg;
    struct nw_http_stream *prev, *next; /* h->streams */
};

struct req_ctx {
    nw_http_req_t req; /* what the handler sees; req.priv points back here */
    nw_http_t *h;
    struct MHD_Connection *conn;
    struct req_ctx *prev, *next; /* h->reqs: every live context */
    nw_buf_t body;
    size_t max_body; /* the limit when the request began */
    size_t charged;  /* bytes counted against h->buffered for this request */
    enum req_state state;
    struct MHD_Response *resp; /* answer given inside the handler, queued when it returns */
    unsigned status;
    nw_http_stream_t *stream; /* a streamed answer, until the request completes */
};

struct nw_http {
    uv_loop_t *loop;
    struct MHD_Daemon *d;
    uv_poll_t poll;
    uv_timer_t timer; /* MHD timeouts and "run MHD soon" kicks */
    uv_timer_t grace; /* bounds the wait for responses in flight at close */
    uv_timer_t sweep; /* deadlines */
    size_t max_body;
    nw_tokens_t *tokens; /* NULL: no authentication (loopback only) */
    uint64_t header_ms, body_ms, stall_ms;
    size_t buffered_max, buffered; /* body bytes buffered now, all requests */
    struct conn *conns;
    char *tls_cert, *tls_key;      /* PEM text; MHD borrows it for the daemon's life */
    nw_http_refused_cb on_refused; /* told about every 413, for counting and dead letters */
    void *on_refused_arg;
    int port;
    struct route *routes;
    struct req_ctx *reqs;
    nw_http_stream_t *streams;
    int closing;       /* nw_http_close was called */
    int close_started; /* listening stopped, suspended requests answered */
    int finishing;     /* uv handles are closing */
    int handles_open;
    int kicked; /* kick() asked for an MHD run on the next loop iteration */
    void (*close_cb)(void *arg);
    void *close_arg;
    char *cors;      /* Access-Control-Allow-Origin of every answer; NULL: none */
    size_t gzip_min; /* answers this long or longer are gzipped when asked; 0: never */
};

static void on_timer(uv_timer_t *t);

/* Run MHD on the next loop iteration. The flag survives a rearm() made by an MHD_run that is
 * in progress (kick may be called from a handler), which would otherwise overwrite it. */
static void
kick(nw_http_t *h)
{
    h->kicked = 1;
    if (!h->finishing)
        uv_timer_start(&h->timer, on_timer, 0, 0);
}

static void
rearm(nw_http_t *h)
{
    MHD_UNSIGNED_LONG_LONG ms = 0;
    if (h->finishing)
        return;
    if (h->kicked)
        uv_timer_start(&h->timer, on_timer, 0, 0);
    else if (MHD_get_timeout(h->d, &ms) == MHD_YES)
        uv_timer_start(&h->timer, on_timer, ms > MAX_TIMER_MS ? MAX_TIMER_MS : (uint64_t)ms, 0);
    else
        uv_timer_stop(&h->timer);
}

static void
run_mhd(nw_http_t *h)
{
    if (h->finishing)
        return;
    MHD_run(h->d);
    rearm(h);
}

static void
on_poll(uv_poll_t *p, int status, int events)
{
    (void)events;
    nw_http_t *h = p->data;
    if (status < 0)
        NW_WARN(NULL, "http poll error \"%s\"", uv_strerror(status));
    run_mhd(h);
}

static void
on_handle_closed(uv_handle_t *handle)
{
    nw_http_t *h = handle->data;
    if (--h->handles_open > 0)
        return;
    /* Every request was answered or its connection is merely idle or still sending: nothing
     * is suspended, so stopping the daemon is allowed; it frees the remaining contexts through
     * the request-completed callback. */
    MHD_stop_daemon(h->d);
    while (h->routes) {
        struct route *r = h->routes;
        h->routes = r->next;
        free(r->method);
        free(r->path);
        free(r);
    }
    /* MHD_stop_daemon reports every connection it closes; free what it might not have. */
    while (h->conns) {
        struct conn *cn = h->conns;
        h->conns = cn->next;
        free(cn);
    }
    nw_tokens_destroy(&h->tokens);
    free(h->tls_cert);
    free(h->cors);
    free(h->tls_key);
    void (*cb)(void *) = h->close_cb;
    void *arg = h->close_arg;
    free(h);
    if (cb)
        cb(arg);
}

static void
finish_close(nw_http_t *h)
{
    if (h->finishing)
        return;
    h->finishing = 1;
    uv_poll_stop(&h->poll);
    uv_timer_stop(&h->timer);
    uv_timer_stop(&h->grace);
    uv_timer_stop(&h->sweep);
    h->handles_open = 4;
    uv_close((uv_handle_t *)&h->poll, on_handle_closed);
    uv_close((uv_handle_t *)&h->timer, on_handle_closed);
    uv_close((uv_handle_t *)&h->grace, on_handle_closed);
    uv_close((uv_handle_t *)&h->sweep, on_handle_closed);
}

static void
on_grace(uv_timer_t *t)
{
    nw_http_t *h = t->data;
    NW_WARN(NULL, "http close: dropping requests still in flight after %d ms", CLOSE_GRACE_MS);
    finish_close(h);
}

static void
begin_close(nw_http_t *h)
{
    h->close_started = 1;
    MHD_socket fd = MHD_quiesce_daemon(h->d);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    for (struct req_ctx *c = h->reqs; c; c = c->next)
        if (c->state == RS_SUSPENDED)
            nw_http_error(&c->req, 503, "shutting-down", "the server is shutting down", NULL);
    for (nw_http_stream_t *s = h->streams; s; s = s->next)
        nw_http_stream_end(s);
    if (h->reqs == NULL)
        finish_close(h);
    else
        uv_timer_start(&h->grace, on_grace, CLOSE_GRACE_MS, 0);
}

/* Tell owners whose streams emptied. A callback may write (which only queues and kicks) or
 * end its stream; it cannot free one (that happens in on_completed, inside MHD_run). */
static void
dispatch_drains(nw_http_t *h)
{
    for (nw_http_stream_t *s = h->streams; s; s = s->next) {
        if (!s->drain_due)
            continue;
        s->drain_due = 0;
        if (s->on_drain && !s->ended && !h->closing)
            s->on_drain(s, s->arg);
    }
}

static void
on_timer(uv_timer_t *t)
{
    nw_http_t *h = t->data;
    h->kicked = 0;
    if (h->closing && !h->close_started)
        begin_close(h);
    run_mhd(h);
    dispatch_drains(h);
}

/* ---- deadlines ---- */

static struct conn *
conn_of(struct MHD_Connection *mc)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static void
conn_phase(nw_http_t *h, struct MHD_Connection *mc, enum conn_phase phase)
{
    struct conn *cn = conn_of(mc);
    if (cn) {
        cn->phase = phase;
        cn->since = uv_now(h->loop);
    }
}

static void
on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
              enum MHD_ConnectionNotificationCode toe)
{
    nw_http_t *h = cls;
    struct conn *cn = *socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
        cn = calloc(1, sizeof *cn);
        if (cn == NULL || ci == NULL) {
            /* Without a record the connection has no deadline: refuse it rather than risk it. */
            free(cn);
            if (ci)
                shutdown(ci->connect_fd, SHUT_RDWR);
            return;
        }
        cn->mc = mc;
        cn->fd = ci->connect_fd;
        cn->phase = CP_HEAD;
        cn->since = uv_now(h->loop);
        cn->next = h->conns;
        if (h->conns)
            h->conns->prev = cn;
        h->conns = cn;
        *socket_context = cn;
        return;
    }
    if (cn == NULL)
        return;
    if (cn->prev)
        cn->prev->next = cn->next;
    else
        h->conns = cn->next;
    if (cn->next)
        cn->next->prev = cn->prev;
    free(cn);
    *socket_context = NULL;
}

/* End a connection from outside MHD_run: shut the socket down so MHD sees it end and closes it
 * on its next run (closing the descriptor under MHD would break its bookkeeping). */
static void
drop(struct conn *cn, const char *reason)
{
    if (cn->dropped)
        return;
    cn->dropped = 1;
    shutdown(cn->fd, SHUT_RDWR);
    nw_metrics_reason("nw_http_dropped_total", reason,
                      "HTTP connections the server ended itself, by reason.");
    NW_DEBUG(NULL, "http: dropping a connection reason=%s", reason);
}

static void
on_sweep(uv_timer_t *t)
{
    nw_http_t *h = t->data;
    uint64_t now = uv_now(h->loop);
    int dropped = 0;
    for (struct conn *cn = h->conns; cn; cn = cn->next) {
        if (cn->dropped)
            continue;
        if (cn->phase == CP_HEAD && now - cn->since >= h->header_ms) {
            drop(cn, "header-timeout");
            dropped = 1;
        } else if (cn->phase == CP_BODY && now - cn->since >= h->body_ms) {
            drop(cn, "body-timeout");
            dropped = 1;
        }
    }
    for (nw_http_stream_t *st = h->streams; st; st = st->next) {
        if (st->q.len == st->off) {
            st->moved = now; /* nothing waiting: the client is not behind */
            continue;
        }
        if (now - st->moved < h->stall_ms)
            continue;
        struct conn *cn = conn_of(st->c->conn);
        if (cn && !cn->dropped) {
            drop(cn, "stream-stalled");
            dropped = 1;
        }
    }
    if (dropped)
        kick(h);
}

/* Add "Name: value\r\n" lines to a response. Malformed lines are skipped with a warning:
 * they come from our own code, but a bad one must not take the answer down with it. */
static void
add_extra_headers(struct MHD_Response *resp, const char *extra)
{
    const char *p = extra;
    while (p && *p) {
        const char *eol = strpbrk(p, "\r\n");
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        const char *colon = memchr(p, ':', n);
        if (n > 0 && colon && colon > p && n < 1024) {
            char line[1024];
            memcpy(line, p, n);
            line[n] = 0;
            char *value = line + (colon - p) + 1;
            line[colon - p] = 0;
            while (*value == ' ' || *value == '\t')
                value++;
            if (MHD_add_response_header(resp, line, value) != MHD_YES)
                NW_WARN(NULL, "http: cannot add header \"%s\"", line);
        } else if (n > 0) {
            NW_WARN(NULL, "http: malformed extra header \"%.*s\"", (int)(n > 80 ? 80 : n), p);
        }
        p += n;
        while (*p == '\r' || *p == '\n')
            p++;
    }
}

/* CORS: a page on the configured origin may read every answer, errors included (a browser
 * hides an answer without the header, so the page could not show why it failed). */
static void
add_cors(const nw_http_t *h, struct MHD_Response *resp)
{
    if (h->cors == NULL)
        return;
    MHD_add_response_header(resp, "Access-Control-Allow-Origin", h->cors);
    MHD_add_response_header(resp, "Access-Control-Expose-Headers", "Content-Encoding, Retry-After");
    if (strcmp(h->cors, "*") != 0)
        MHD_add_response_header(resp, "Vary", "Origin");
}

static struct MHD_Response *
make_response(nw_http_t *h, const char *content_type, const void *body, size_t len,
              const char *extra_headers)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL)
        return NULL;
    if (content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    add_extra_headers(resp, extra_headers);
    add_cors(h, resp);
    if (h->closing)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    return resp;
}

/* The JSON error body; a static fallback when jansson refuses (invalid UTF-8) or on ENOMEM. */
static char *
error_json(const char *code, const char *message)
{
    json_t *j =
        json_pack("{s:s, s:s}", "error", code ? code : "error", "message", message ? message : "");
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return s;
}

static enum MHD_Result
queue_now(struct req_ctx *c, unsigned status, struct MHD_Response *resp)
{
    enum MHD_Result ret = MHD_queue_response(c->conn, status, resp);
    MHD_destroy_response(resp);
    c->state = RS_ANSWERED;
    return ret;
}

/* Answer from inside the access handler (never suspended at that point). */
static enum MHD_Result
queue_error_with(struct req_ctx *c, unsigned status, const char *code, const char *message,
                 const char *extra)
{
    char *json = error_json(code, message);
    const char *body = json ? json : "{\"error\":\"internal\",\"message\":\"\"}";
    struct MHD_Response *resp = make_response(c->h, "application/json", body, strlen(body), extra);
    free(json);
    if (resp == NULL) {
        c->state = RS_FAILED;
        return MHD_NO;
    }
    return queue_now(c, status, resp);
}

static enum MHD_Result
queue_error(struct req_ctx *c, unsigned status, const char *code, const char *message)
{
    return queue_error_with(c, status, code, message, NULL);
}

/* Refuse a request from its head. The body (if any) is never read, so the connection must not
 * be reused: its bytes would be taken for the next request. */
static enum MHD_Result
refuse_head(struct req_ctx *c, unsigned status, const char *code, const char *message,
            const char *extra)
{
    char headers[256];
    snprintf(headers, sizeof headers, "Connection: close\r\n%s", extra ? extra : "");
    nw_metrics_reason("nw_http_refused_total", code,
                      "HTTP requests refused from their head, before any body byte was read.");
    return queue_error_with(c, status, code, message, headers);
}

static int
too_large(const char *content_length, size_t max)
{
    errno = 0;
    char *end = NULL;
    unsigned long long n = strtoull(content_length, &end, 10);
    /* MHD itself rejects malformed values; an overflow is certainly too large. */
    return errno == ERANGE || (end != content_length && n > max);
}

/* Answer 413 and tell the owner, with the first bytes of the body when any were read (a
 * declared Content-Length over the limit is refused before a byte is read). */
static enum MHD_Result
refuse_too_large(nw_http_t *h, struct req_ctx *c)
{
    if (h->on_refused) {
        const char *ct =
            MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        h->on_refused(c->req.method, c->req.path, ct, c->body.data, c->body.len, h->on_refused_arg);
    }
    nw_buf_release(&c->body);
    return queue_error_with(c, 413, "body-too-large", "request body exceeds the limit",
                            "Connection: close\r\n");
}

/* The route for method + path; NULL with *path_known set when only the method is wrong. The
 * most specific path wins whatever the order routes were added in: an exact path before any
 * prefix, a longer prefix before a shorter one, so a catch-all route for the web page's files
 * never shadows /metrics or an API route. */
static const struct route *
find_route(const nw_http_t *h, const char *method, const char *path, int *path_known)
{
    const struct route *best = NULL;
    size_t best_rank = 0;
    *path_known = 0;
    if (strcmp(method, "HEAD") == 0)
        method = "GET"; /* MHD sends the head of the GET answer without its body */
    for (const struct route *r = h->routes; r; r = r->next) {
        size_t n = strlen(r->path);
        int prefix = n > 0 && r->path[n - 1] == '*';
        if (prefix ? strncmp(r->path, path, n - 1) != 0 || path[n - 1] == 0
                   : strcmp(r->path, path) != 0)
            continue;
        *path_known = 1;
        size_t rank = prefix ? 2 * (n - 1) : 2 * n + 1;
        if (strcmp(r->method, method) == 0 && (best == NULL || rank > best_rank)) {
            best = r;
            best_rank = rank;
        }
    }
    return best;
}

struct framing {
    int content_length, transfer_encoding;
};

static enum MHD_Result
count_framing(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    (void)value;
    struct framing *f = cls;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
        f->content_length++;
    else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0)
        f->transfer_encoding++;
    return MHD_YES;
}

/* OPTIONS on a path that has routes: the methods it takes and, for a CORS preflight (which
 * carries no token), what a page on the allowed origin may send. Open like /healthz: it says
 * nothing a GET would not. */
static enum MHD_Result
answer_options(nw_http_t *h, struct req_ctx *c)
{
    char allow[128] = "OPTIONS";
    const char *methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        int known = 0;
        if (find_route(h, methods[i], c->req.path, &known) != NULL) {
            strcat(allow, ", ");
            strcat(allow, methods[i]);
        }
    }
    struct MHD_Response *resp = make_response(h, NULL, "", 0, NULL);
    if (resp == NULL) {
        c->state = RS_FAILED;
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Allow", allow);
    if (h->cors) {
        MHD_add_response_header(resp, "Access-Control-Allow-Methods", allow);
        MHD_add_response_header(resp, "Access-Control-Allow-Headers",
                                "Authorization, Content-Type, Last-Event-ID");
        MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
    }
    return queue_now(c, 204, resp);
}

/* Everything that can be decided from the head, before a body byte is read: framing that a
 * proxy could read differently (smuggling), route and method, a body where none belongs, the
 * token, the declared size, and room under the server's cap on buffered bodies. */
static enum MHD_Result
check_head(nw_http_t *h, struct req_ctx *c)
{
    struct framing fr = {0};
    MHD_get_connection_values(c->conn, MHD_HEADER_KIND, count_framing, &fr);
    if (fr.content_length > 1 || (fr.content_length && fr.transfer_encoding) ||
        fr.transfer_encoding > 1)
        return refuse_head(c, 400, "bad-framing",
                           "one Content-Length, or Transfer-Encoding without Content-Length", NULL);
    int path_known = 0;
    const struct route *r = find_route(h, c->req.method, c->req.path, &path_known);
    if (r == NULL && path_known && strcmp(c->req.method, "OPTIONS") == 0 && !fr.transfer_encoding)
        return answer_options(h, c);
    if (r == NULL && path_known)
        return refuse_head(c, 405, "method-not-allowed", "method not allowed for this path", NULL);
    if (r == NULL)
        return refuse_head(c, 404, "not-found", "no such path", NULL);

    const char *cl =
        MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    unsigned long long declared = cl ? strtoull(cl, NULL, 10) : 0;
    if (!r->takes_body && (declared > 0 || fr.transfer_encoding))
        return refuse_head(c, 413, "body-not-allowed", "this route takes no request body", NULL);

    if (h->tokens && r->scope) {
        const char *auth =
            MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        const char *token = auth && strncasecmp(auth, "Bearer ", 7) == 0 ? auth + 7 : NULL;
        while (token && *token == ' ')
            token++;
        const char *who = NULL;
        int rc = nw_tokens_check(h->tokens, token, r->scope, &who);
        if (rc == -EACCES)
            return refuse_head(c, 401, "unauthorized", "a valid bearer token is required",
                               "WWW-Authenticate: Bearer realm=\"newswire\"\r\n");
        if (rc < 0) {
            char msg[96];
            snprintf(msg, sizeof msg, "the token lacks the \"%s\" scope", nw_scope_name(r->scope));
            NW_INFO(NULL, "http: token \"%s\" refused for \"%s %s\": no %s scope", who ? who : "",
                    c->req.method, c->req.path, nw_scope_name(r->scope));
            return refuse_head(c, 403, "forbidden", msg,
                               "WWW-Authenticate: Bearer realm=\"newswire\", "
                               "error=\"insufficient_scope\"\r\n");
        }
    }

    if (cl && too_large(cl, c->max_body))
        return refuse_too_large(h, c);
    if (declared > 0) {
        if (declared > h->buffered_max - h->buffered)
            return refuse_head(c, 503, "busy", "too many request bodies in flight; retry later",
                               "Retry-After: 1\r\n");
        c->charged = (size_t)declared;
        h->buffered += c->charged;
    }
    return MHD_YES;
}

static enum MHD_Result
dispatch(nw_http_t *h, struct req_ctx *c)
{
    int path_known = 0;
    const struct route *r = find_route(h, c->req.method, c->req.path, &path_known);
    if (r == NULL && path_known)
        return queue_error(c, 405, "method-not-allowed", "method not allowed for this path");
    if (r == NULL)
        return queue_error(c, 404, "not-found", "no such path");

    c->req.body = c->body.data ? c->body.data : (const uint8_t *)"";
    c->req.body_len = c->body.len;
    c->req.content_type =
        MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    c->state = RS_IN_HANDLER;
    conn_phase(h, c->conn, CP_BUSY);
    r->cb(&c->req, r->arg);
    if (c->resp) {
        struct MHD_Response *resp = c->resp;
        c->resp = NULL;
        return queue_now(c, c->status, resp);
    }
    if (c->state == RS_FAILED)
        return MHD_NO;
    c->state = RS_SUSPENDED;
    MHD_suspend_connection(c->conn);
    return MHD_YES;
}

static enum MHD_Result
on_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
    (void)version;
    nw_http_t *h = cls;
    struct req_ctx *c = *con_cls;

    if (c == NULL) {
        c = calloc(1, sizeof *c);
        if (c == NULL)
            return MHD_NO;
        c->h = h;
        c->conn = conn;
        c->req.priv = c;
        c->req.method = method;
        c->req.path = url;
        c->max_body = h->max_body;
        c->next = h->reqs;
        if (h->reqs)
            h->reqs->prev = c;
        h->reqs = c;
        *con_cls = c;
        conn_phase(h, conn, CP_BODY);
        /* Refuse before reading (and before any "100 Continue") whatever the head decides. */
        return check_head(h, c);
    }

    if (*upload_size > 0) {
        size_t want = c->body.len + *upload_size;
        if (c->state == RS_RECEIVING && want > c->charged) {
            /* A chunked body (or one longer than declared) grows: charge it to the cap. */
            if (want - c->charged > h->buffered_max - h->buffered) {
                c->state = RS_OVERLOADED;
                nw_buf_release(&c->body);
            } else {
                h->buffered += want - c->charged;
                c->charged = want;
            }
        }
        if (c->state == RS_RECEIVING && *upload_size > c->max_body - c->body.len) {
            /* A chunked body grew past the limit: stop buffering; keep a sample for the owner's
             * dead letter (at most NW_HTTP_REFUSED_SAMPLE bytes) and the verdict. */
            c->state = RS_TOO_LARGE;
            size_t room =
                c->body.len < NW_HTTP_REFUSED_SAMPLE ? NW_HTTP_REFUSED_SAMPLE - c->body.len : 0;
            if (room &&
                nw_buf_append(&c->body, upload_data, *upload_size < room ? *upload_size : room) < 0)
                nw_buf_release(&c->body);
        } else if (c->state == RS_RECEIVING &&
                   nw_buf_append(&c->body, upload_data, *upload_size) < 0) {
            NW_ERROR(NULL, "http: out of memory buffering a body for \"%s\"", url);
            c->state = RS_FAILED;
            return MHD_NO;
        }
        *upload_size = 0; /* consumed, or discarded when too large */
        return MHD_YES;
    }

    switch (c->state) {
    case RS_RECEIVING:
        if (h->closing)
            return queue_error(c, 503, "shutting-down", "the server is shutting down");
        return dispatch(h, c);
    case RS_TOO_LARGE:
        return refuse_too_large(h, c);
    case RS_OVERLOADED:
        nw_metrics_reason("nw_http_refused_total", "busy",
                          "HTTP requests refused from their head, before any body byte was read.");
        return queue_error_with(c, 503, "busy", "too many request bodies in flight; retry later",
                                "Retry-After: 1\r\nConnection: close\r\n");
    case RS_FAILED:
        return MHD_NO;
    case RS_IN_HANDLER:
    case RS_SUSPENDED:
    case RS_ANSWERED:
        break;
    }
    /* Called again after a resume whose response was already queued: nothing to do. */
    return MHD_YES;
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    nw_http_t *h = cls;
    struct req_ctx *c = *con_cls;
    if (c == NULL)
        return;
    *con_cls = NULL;
    /* A suspended request only ends through MHD_stop_daemon, which close avoids by answering
     * first; a handler would otherwise be left holding a dangling request. */
    assert(c->state != RS_SUSPENDED && c->state != RS_IN_HANDLER);
    h->buffered -= c->charged;
    /* The next request's head is due within the head deadline from now (keep-alive idle). */
    conn_phase(h, conn, CP_HEAD);
    if (c->prev)
        c->prev->next = c->next;
    else
        h->reqs = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (c->resp)
        MHD_destroy_response(c->resp);
    if (c->stream) {
        nw_http_stream_t *st = c->stream;
        if (st->prev)
            st->prev->next = st->next;
        else
            h->streams = st->next;
        if (st->next)
            st->next->prev = st->prev;
        if (st->on_closed)
            st->on_closed(st, st->arg);
        nw_buf_release(&st->q);
        free(st);
    }
    nw_buf_release(&c->body);
    free(c);
    if (h->close_started && h->reqs == NULL)
        finish_close(h);
}

__attribute__((format(printf, 2, 0))) static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = 0;
    NW_WARN(NULL, "microhttpd: %s", msg);
}

/* Resolve "host:port" ("[v6]:port", ":port" and "*:port" mean every IPv4 address) into ss.
 * IPv4 is preferred when a name has both. */
static int
parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *sslen)
{
    char host[256];
    const char *colon = listen ? strrchr(listen, ':') : NULL;
    if (colon == NULL || colon[1] == 0 || (size_t)(colon - listen) >= sizeof host)
        return -EINVAL;
    size_t hl = (size_t)(colon - listen);
    memcpy(host, listen, hl);
    host[hl] = 0;
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = 0;
    }
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (*end != 0 || port < 0 || port > 65535)
        return -EINVAL;
    int any = host[0] == 0 || strcmp(host, "*") == 0;

    static const int families[] = {AF_INET, AF_INET6};
    for (int i = 0; i < 2; i++) {
        struct addrinfo hints = {0}, *res = NULL;
        hints.ai_family = families[i];
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
        if (getaddrinfo(any ? NULL : host, colon + 1, &hints, &res) != 0 || res == NULL)
            continue;
        memcpy(ss, res->ai_addr, res->ai_addrlen);
        *sslen = res->ai_addrlen;
        freeaddrinfo(res);
        return 0;
    }
    return -EINVAL;
}

/* Loopback is the one place an unauthenticated API may listen. */
static int
is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
    if (ss->ss_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
    return 0;
}

/* A whole PEM file as a string, or NULL (logged). */
static char *
read_pem(const char *path)
{
    FILE *f = fopen(path, "r");
    char *text = NULL;
    size_t n = 0;
    if (f == NULL) {
        NW_ERROR(NULL, "http: cannot open \"%s\": %s", path, strerror(errno));
        return NULL;
    }
    text = malloc(MAX_PEM_BYTES + 1);
    if (text)
        n = fread(text, 1, MAX_PEM_BYTES + 1, f);
    fclose(f);
    if (text == NULL || n == 0 || n > MAX_PEM_BYTES) {
        NW_ERROR(NULL, "http: \"%s\" is empty or larger than %d bytes", path, MAX_PEM_BYTES);
        free(text);
        return NULL;
    }
    text[n] = 0;
    return text;
}

static uint64_t
or_default(int64_t v, int64_t def)
{
    return (uint64_t)(v > 0 ? v : def);
}

nw_http_t *
nw_http_new(uv_loop_t *loop, const char *listen, size_t max_body)
{
    return nw_http_new_opts(loop, listen, max_body, NULL);
}

nw_http_t *
nw_http_new_opts(uv_loop_t *loop, const char *listen, size_t max_body, const nw_http_opts_t *opts)
{
    static const nw_http_opts_t none = {0};
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    nw_http_t *h = NULL;
    char err[512];
    if (opts == NULL)
        opts = &none;
    if (parse_listen(listen, &ss, &sslen) < 0) {
        NW_ERROR(NULL, "http: bad listen address \"%s\" (want host:port)", listen ? listen : "");
        return NULL;
    }
    int with_tokens = opts->tokens && *opts->tokens;
    /* A server made without options serves only /metrics and /healthz (broker, store, the
     * workers): the rule is for the APIs, which pass their options. */
    if (opts != &none && !with_tokens && !is_loopback(&ss)) {
        NW_ERROR(NULL,
                 "http: refusing to serve \"%s\" without --http-tokens: off loopback every "
                 "client must present a token (`newswire token new --scope read`)",
                 listen);
        return NULL;
    }
    int with_tls = (opts->tls_cert && *opts->tls_cert) || (opts->tls_key && *opts->tls_key);
    if (with_tls && !(opts->tls_cert && *opts->tls_cert && opts->tls_key && *opts->tls_key)) {
        NW_ERROR(NULL, "http: --http-cert and --http-key go together");
        return NULL;
    }
    if (with_tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        NW_ERROR(NULL, "http: this libmicrohttpd was built without TLS");
        return NULL;
    }
    h = calloc(1, sizeof *h);
    if (h == NULL)
        return NULL;
    h->loop = loop;
    h->max_body = max_body;
    h->header_ms = or_default(opts->header_ms, NW_HTTP_DEFAULT_HEADER_MS);
    h->body_ms = or_default(opts->body_ms, NW_HTTP_DEFAULT_BODY_MS);
    h->stall_ms = or_default(opts->stream_stall_ms, NW_HTTP_DEFAULT_STREAM_STALL_MS);
    h->buffered_max = (size_t)or_default(opts->buffered_max, NW_HTTP_DEFAULT_BUFFERED_MAX);
    if (with_tokens && (h->tokens = nw_tokens_load(opts->tokens, err, sizeof err)) == NULL) {
        NW_ERROR(NULL, "http: %s", err);
        goto err;
    }
    if (with_tls && ((h->tls_cert = read_pem(opts->tls_cert)) == NULL ||
                     (h->tls_key = read_pem(opts->tls_key)) == NULL))
        goto err;
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (with_tls)
        flags |= MHD_USE_TLS;
    struct MHD_OptionItem tls[] = {
        {with_tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, h->tls_cert},
        {with_tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, h->tls_key},
        {MHD_OPTION_END, 0, NULL},
    };
    h->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_access, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, h, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)CONNECTION_LIMIT, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)or_default(opts->per_ip, NW_HTTP_DEFAULT_PER_IP), MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)CONNECTION_TIMEOUT_S, MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
    if (h->d == NULL) {
        NW_ERROR(NULL, "http: cannot listen on \"%s\"%s", listen,
                 with_tls ? " (or the certificate and key were refused)" : "");
        goto err;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
    const union MHD_DaemonInfo *pinfo = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    if (info == NULL || pinfo == NULL) {
        NW_ERROR(NULL, "http: microhttpd gives no epoll descriptor for \"%s\"", listen);
        goto err;
    }
    h->port = pinfo->port;
    int rc = uv_poll_init(loop, &h->poll, info->epoll_fd);
    if (rc < 0) {
        NW_ERROR(NULL, "http: cannot watch microhttpd \"%s\"", uv_strerror(rc));
        goto err;
    }
    /* From here on the handles exist and must be closed, not just freed. */
    uv_timer_init(loop, &h->timer);
    uv_timer_init(loop, &h->grace);
    uv_timer_init(loop, &h->sweep);
    h->poll.data = h->timer.data = h->grace.data = h->sweep.data = h;
    uv_poll_start(&h->poll, UV_READABLE, on_poll);
    uv_timer_start(&h->sweep, on_sweep, SWEEP_MS, SWEEP_MS);
    rearm(h);
    if (with_tokens || with_tls)
        NW_INFO(NULL, "http: listening on \"%s\"%s%s", listen, with_tokens ? " with tokens" : "",
                with_tls ? " over TLS" : "");
    return h;
err:
    if (h->d)
        MHD_stop_daemon(h->d);
    nw_tokens_destroy(&h->tokens);
    free(h->tls_cert);
    free(h->cors);
    free(h->tls_key);
    free(h);
    return NULL;
}

int
nw_http_port(const nw_http_t *h)
{
    return h->port;
}

void
nw_http_on_refused(nw_http_t *h, nw_http_refused_cb cb, void *arg)
{
    h->on_refused = cb;
    h->on_refused_arg = arg;
}

void
nw_http_set_max_body(nw_http_t *h, size_t max_body)
{
    h->max_body = max_body;
}

int
nw_http_route(nw_http_t *h, const char *method, const char *path, nw_http_handler_cb cb, void *arg)
{
    unsigned scope = strcmp(method, "GET") == 0 ? NW_SCOPE_READ : NW_SCOPE_INGEST;
    return nw_http_route_scope(h, method, path, scope, cb, arg);
}

int
nw_http_route_scope(nw_http_t *h, const char *method, const char *path, unsigned scope,
                    nw_http_handler_cb cb, void *arg)
{
    struct route *r = calloc(1, sizeof *r);
    if (r == NULL)
        return -ENOMEM;
    r->method = strdup(method);
    r->path = strdup(path);
    if (r->method == NULL || r->path == NULL) {
        free(r->method);
        free(r->path);
        free(r);
        return -ENOMEM;
    }
    r->cb = cb;
    r->arg = arg;
    r->scope = scope;
    r->takes_body =
        strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0;
    r->next = h->routes;
    h->routes = r;
    return 0;
}

const char *
nw_http_query(const nw_http_req_t *req, const char *key)
{
    const struct req_ctx *c = req->priv;
    return MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *
nw_http_header(const nw_http_req_t *req, const char *name)
{
    const struct req_ctx *c = req->priv;
    return MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, name);
}

/* Queue resp (NULL: could not be built) as the answer to c, from the handler or later. */
static void
answer(struct req_ctx *c, int status, struct MHD_Response *resp)
{
    /* Answering twice, or after close answered 503, is a programmer error. */
    assert(c->state == RS_IN_HANDLER || c->state == RS_SUSPENDED);
    if (resp == NULL)
        NW_ERROR(NULL, "http: out of memory answering \"%s\"", c->req.path);
    if (c->state == RS_IN_HANDLER) {
        /* on_access queues it when the handler returns. */
        c->resp = resp;
        c->status = (unsigned)status;
        if (resp == NULL)
            c->state = RS_FAILED;
        return;
    }
    if (resp)
        queue_now(c, (unsigned)status, resp);
    else
        c->state = RS_FAILED; /* the access handler drops the connection after the resume */
    MHD_resume_connection(c->conn);
    kick(c->h);
}

/* Whether the client takes gzip: "gzip" among Accept-Encoding's codings, without q=0. */
static int
takes_gzip(const struct req_ctx *c)
{
    const char *ae =
        MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    for (const char *p = ae; p && *p;) {
        p += strspn(p, " \t,");
        size_t n = strcspn(p, ",;");
        const char *params = p + n, *end = p + strcspn(p, ",");
        int named = (n == 4 && strncasecmp(p, "gzip", 4) == 0) || (n == 1 && *p == '*');
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (named) {
            const char *q = *params == ';' ? strstr(params, "q=") : NULL;
            return !(q && q < end && strtod(q + 2, NULL) <= 0);
        }
        p = end;
    }
    return 0;
}

/* body[0..len) as a gzip member in out (zlib's deflate with the gzip wrapper). */
static int
gzip_body(const void *body, size_t len, nw_buf_t *out)
{
    z_stream z = {0};
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -ENOMEM;
    int rc = nw_buf_reserve(out, deflateBound(&z, (uLong)len));
    if (rc == 0) {
        z.next_in = (Bytef *)body;
        z.avail_in = (uInt)len;
        z.next_out = (Bytef *)out->data;
        z.avail_out = (uInt)out->cap;
        rc = deflate(&z, Z_FINISH) == Z_STREAM_END ? 0 : -EIO;
        out->len = z.total_out;
    }
    deflateEnd(&z);
    return rc;
}

void
nw_http_respond(nw_http_req_t *req, int status, const char *content_type, const void *body,
                size_t len, const char *extra_headers)
{
    struct req_ctx *c = req->priv;
    nw_buf_t z = {0};
    if (c->h->gzip_min && len >= c->h->gzip_min && len < UINT32_MAX && takes_gzip(c) &&
        gzip_body(body, len, &z) == 0) {
        struct MHD_Response *resp = make_response(c->h, content_type, z.data, z.len, extra_headers);
        if (resp) {
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
            MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
        }
        nw_buf_release(&z);
        answer(c, status, resp);
        return;
    }
    nw_buf_release(&z);
    answer(c, status, make_response(c->h, content_type, body, len, extra_headers));
}

void
nw_http_set_cors(nw_http_t *h, const char *origin)
{
    free(h->cors);
    h->cors = origin && *origin ? strdup(origin) : NULL;
}

void
nw_http_set_gzip(nw_http_t *h, size_t min_len)
{
    h->gzip_min = min_len;
}

struct query_each {
    int (*cb)(const char *key, const char *value, void *arg);
    void *arg;
    int stopped;
};

static enum MHD_Result
on_query_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    struct query_each *qe = cls;
    if (qe->cb(key, value ? value : "", qe->arg) != 0) {
        qe->stopped = 1;
        return MHD_NO;
    }
    return MHD_YES;
}

int
nw_http_query_each(const nw_http_req_t *req,
                   int (*cb)(const char *key, const char *value, void *arg), void *arg)
{
    const struct req_ctx *c = req->priv;
    struct query_each qe = {cb, arg, 0};
    MHD_get_connection_values(c->conn, MHD_GET_ARGUMENT_KIND, on_query_arg, &qe);
    return qe.stopped;
}

/* ---- streamed answers ---- */

static ssize_t
stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    nw_http_stream_t *s = cls;
    if (s->off < s->q.len) {
        size_t n = s->q.len - s->off < max ? s->q.len - s->off : max;
        memcpy(buf, s->q.data + s->off, n);
        s->off += n;
        s->moved = uv_now(s->c->h->loop);
        if (s->off == s->q.len) {
            nw_buf_reset(&s->q);
            s->off = 0;
            s->drain_due = 1;
            kick(s->c->h);
        }
        return (ssize_t)n;
    }
    if (s->ended)
        return MHD_CONTENT_READER_END_OF_STREAM;
    /* Nothing to send: park the connection until the next write (0 with a suspend is how MHD
     * wants "no data yet" in external polling mode). */
    s->parked = 1;
    MHD_suspend_connection(s->c->conn);
    return 0;
}

static void
unpark(nw_http_stream_t *s)
{
    if (!s->parked)
        return;
    s->parked = 0;
    MHD_resume_connection(s->c->conn);
    kick(s->c->h);
}

nw_http_stream_t *
nw_http_stream(nw_http_req_t *req, int status, const char *content_type, const char *extra_headers,
               nw_http_stream_cb on_drain, nw_http_stream_cb on_closed, void *arg)
{
    struct req_ctx *c = req->priv;
    nw_http_t *h = c->h;
    nw_http_stream_t *s = calloc(1, sizeof *s);
    struct MHD_Response *resp =
        s ? MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_read, s, NULL)
          : NULL;
    if (resp == NULL) {
        free(s);
        nw_http_error(req, 500, "internal", "out of memory", NULL);
        return NULL;
    }
    if (content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    add_extra_headers(resp, extra_headers);
    add_cors(h, resp);
    s->c = c;
    s->moved = uv_now(h->loop);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    int sndbuf = STREAM_SNDBUF;
    if (ci && setsockopt(ci->connect_fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf) < 0)
        NW_DEBUG(NULL, "http: cannot set a stream's send buffer: %s", strerror(errno));
    s->on_drain = on_drain;
    s->on_closed = on_closed;
    s->arg = arg;
    s->next = h->streams;
    if (h->streams)
        h->streams->prev = s;
    h->streams = s;
    c->stream = s;
    answer(c, status, resp);
    return s;
}

int
nw_http_stream_write(nw_http_stream_t *s, const void *data, size_t len)
{
    if (s->ended)
        return -EPIPE;
    if (nw_buf_append(&s->q, data, len) < 0)
        return -ENOMEM;
    unpark(s);
    return 0;
}

size_t
nw_http_stream_pending(const nw_http_stream_t *s)
{
    return s->q.len - s->off;
}

void
nw_http_stream_end(nw_http_stream_t *s)
{
    s->ended = 1;
    unpark(s);
}

void
nw_http_error(nw_http_req_t *req, int status, const char *code, const char *message,
              const char *extra_headers)
{
    char *json = error_json(code, message);
    const char *body = json ? json : "{\"error\":\"internal\",\"message\":\"\"}";
    nw_http_respond(req, status, "application/json", body, strlen(body), extra_headers);
    free(json);
}

void
nw_http_close(nw_http_t *h, void (*cb)(void *arg), void *arg)
{
    if (h == NULL)
        return;
    assert(!h->closing);
    h->closing = 1;
    h->close_cb = cb;
    h->close_arg = arg;
    /* The work happens in on_timer, never inside MHD_run (a handler may be closing us). */
    kick(h);
}
