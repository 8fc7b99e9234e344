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
 * Closing is deferred to a timer callback so it never runs inside MHD_run(): stop listening,
 * end every stream, answer every suspended request 503 (MHD_stop_daemon must not see suspended
 * connections),
 * give in-flight responses up to CLOSE_GRACE_MS to go out, then close the uv handles and stop
 * MHD once they are closed. MHD's request-completed callback frees every context. */
#include "newswire/http.h"
#include "newswire/buf.h"
#include "newswire/log.h"

#include <assert.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONNECTION_LIMIT 1000      /* below the usual 1024 descriptor limit */
#define CONNECTION_TIMEOUT_S 60    /* idle keep-alive and stalled clients */
#define CLOSE_GRACE_MS 1000        /* how long close waits for responses in flight */
#define MAX_TIMER_MS (3600 * 1000) /* cap MHD's timeout so the uv timer math stays sane */

struct route {
    struct route *next;
    char *method;
    char *path;
    nw_http_handler_cb cb;
    void *arg;
};

enum req_state {
    RS_RECEIVING, /* headers seen, body arriving */
    RS_TOO_LARGE, /* answered (or about to be) 413; body bytes are discarded */
    RS_IN_HANDLER,
    RS_SUSPENDED, /* handler returned without answering; connection suspended */
    RS_ANSWERED,  /* a response is queued */
    RS_FAILED,    /* could not build a response; the connection is dropped */
};

struct nw_http_stream {
    struct req_ctx *c;
    nw_buf_t q; /* written, not yet handed to MHD: q.data[off..len) */
    size_t off;
    int parked;    /* the connection is suspended waiting for a write */
    int ended;     /* nw_http_stream_end: finish once q is empty */
    int drain_due; /* q emptied: tell the owner from the timer */
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
    size_t max_body;
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
    h->handles_open = 3;
    uv_close((uv_handle_t *)&h->poll, on_handle_closed);
    uv_close((uv_handle_t *)&h->timer, on_handle_closed);
    uv_close((uv_handle_t *)&h->grace, on_handle_closed);
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
queue_error(struct req_ctx *c, unsigned status, const char *code, const char *message)
{
    char *json = error_json(code, message);
    const char *body = json ? json : "{\"error\":\"internal\",\"message\":\"\"}";
    struct MHD_Response *resp = make_response(c->h, "application/json", body, strlen(body), NULL);
    free(json);
    if (resp == NULL) {
        c->state = RS_FAILED;
        return MHD_NO;
    }
    return queue_now(c, status, resp);
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
    return queue_error(c, 413, "body-too-large", "request body exceeds the limit");
}

static enum MHD_Result
dispatch(nw_http_t *h, struct req_ctx *c)
{
    const struct route *r = NULL;
    int path_known = 0;
    for (r = h->routes; r; r = r->next) {
        size_t n = strlen(r->path);
        int prefix = n > 0 && r->path[n - 1] == '*';
        if (prefix ? strncmp(r->path, c->req.path, n - 1) != 0 || c->req.path[n - 1] == 0
                   : strcmp(r->path, c->req.path) != 0)
            continue;
        path_known = 1;
        if (strcmp(r->method, c->req.method) == 0)
            break;
    }
    if (r == NULL && path_known)
        return queue_error(c, 405, "method-not-allowed", "method not allowed for this path");
    if (r == NULL)
        return queue_error(c, 404, "not-found", "no such path");

    c->req.body = c->body.data ? c->body.data : (const uint8_t *)"";
    c->req.body_len = c->body.len;
    c->req.content_type =
        MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    c->state = RS_IN_HANDLER;
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
        /* Refuse before reading (and before any "100 Continue") when the size is declared. */
        const char *cl =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && too_large(cl, c->max_body))
            return refuse_too_large(h, c);
        return MHD_YES;
    }

    if (*upload_size > 0) {
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
    (void)conn;
    (void)toe;
    nw_http_t *h = cls;
    struct req_ctx *c = *con_cls;
    if (c == NULL)
        return;
    *con_cls = NULL;
    /* A suspended request only ends through MHD_stop_daemon, which close avoids by answering
     * first; a handler would otherwise be left holding a dangling request. */
    assert(c->state != RS_SUSPENDED && c->state != RS_IN_HANDLER);
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

nw_http_t *
nw_http_new(uv_loop_t *loop, const char *listen, size_t max_body)
{
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    nw_http_t *h = NULL;
    if (parse_listen(listen, &ss, &sslen) < 0) {
        NW_ERROR(NULL, "http: bad listen address \"%s\" (want host:port)", listen ? listen : "");
        return NULL;
    }
    h = calloc(1, sizeof *h);
    if (h == NULL)
        return NULL;
    h->loop = loop;
    h->max_body = max_body;
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    h->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_access, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTION_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)CONNECTION_TIMEOUT_S, MHD_OPTION_END);
    if (h->d == NULL) {
        NW_ERROR(NULL, "http: cannot listen on \"%s\"", listen);
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
    h->poll.data = h->timer.data = h->grace.data = h;
    uv_poll_start(&h->poll, UV_READABLE, on_poll);
    rearm(h);
    return h;
err:
    if (h->d)
        MHD_stop_daemon(h->d);
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

void
nw_http_respond(nw_http_req_t *req, int status, const char *content_type, const void *body,
                size_t len, const char *extra_headers)
{
    struct req_ctx *c = req->priv;
    answer(c, status, make_response(c->h, content_type, body, len, extra_headers));
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
    s->c = c;
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
