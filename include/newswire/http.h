/* http.h: a small HTTP/1.1 server on the service's uv loop, built on libmicrohttpd (external
 * select mode: one uv poll on MHD's epoll descriptor plus one uv timer, so no threads).
 * Every service serves /metrics and /healthz through it; fetch serves its API.
 *
 * Handlers may answer at once or later (after an fsync, say): the connection stays suspended
 * until nw_http_respond() is called for the request. Bodies larger than the configured limit
 * are refused with 413 and a JSON error before the handler runs. */
#ifndef NW_HTTP_H
#define NW_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct nw_http nw_http_t;
typedef struct nw_http_req nw_http_req_t;

/* Request as seen by a handler; valid until nw_http_respond() is called for it. */
struct nw_http_req {
    const char *method;
    const char *path;         /* without the query string */
    const char *content_type; /* full Content-Type header or NULL */
    const uint8_t *body;      /* whole body (NUL-terminated for convenience) */
    size_t body_len;
    void *priv; /* owned by http.c */
};

/* Look up a query argument or a request header (borrowed until respond). NULL if absent. */
const char *nw_http_query(const nw_http_req_t *req, const char *key);
const char *nw_http_header(const nw_http_req_t *req, const char *name);

typedef void (*nw_http_handler_cb)(nw_http_req_t *req, void *arg);

/* Listen on "host:port" (port 0 picks a free one; see nw_http_port). host may be an IPv4 or
 * IPv6 literal ("[::1]:8080"), a name, or empty / "*" for every IPv4 address. max_body in
 * bytes: larger bodies get 413 without being buffered and without the handler running.
 * The caller owns the loop; the server owns its handles until nw_http_close() completes.
 * Returns NULL and logs on error (bad address, port in use). */
nw_http_t *nw_http_new(uv_loop_t *loop, const char *listen, size_t max_body);
/* The bound port. */
int nw_http_port(const nw_http_t *h);
/* Change the body limit for requests that start after the call (the service's server is
 * created with a default; fetch raises or lowers it from its config). */
void nw_http_set_max_body(nw_http_t *h, size_t max_body);
/* Route exact method + path to a handler; a path ending in '*' matches every longer path with
 * that prefix ("/v1/articles/" followed by a star takes "/v1/articles/abc"; the handler reads
 * req->path). Unknown paths get 404, wrong methods 405, both with a JSON error body. Returns 0 or
 * -ENOMEM. */
int nw_http_route(nw_http_t *h, const char *method, const char *path, nw_http_handler_cb cb,
                  void *arg);
/* Told about every request refused with 413 because its body exceeds the limit, so the owner
 * can count it and keep a dead letter. head/len: the first bytes of the body that were read
 * (at most NW_HTTP_REFUSED_SAMPLE; none when a declared Content-Length was refused before
 * reading). All arguments are borrowed until return; content_type may be NULL. */
#define NW_HTTP_REFUSED_SAMPLE (64u * 1024)
typedef void (*nw_http_refused_cb)(const char *method, const char *path, const char *content_type,
                                   const uint8_t *head, size_t len, void *arg);
void nw_http_on_refused(nw_http_t *h, nw_http_refused_cb cb, void *arg);

/* Answer a request (exactly once). extra_headers is NULL or "Name: value\r\n..." lines.
 * Borrows body until return. */
void nw_http_respond(nw_http_req_t *req, int status, const char *content_type, const void *body,
                     size_t len, const char *extra_headers);
/* Answer with {"error": "<code>", "message": "<message>"} and the given status. */
void nw_http_error(nw_http_req_t *req, int status, const char *code, const char *message,
                   const char *extra_headers);
/* A streamed answer (Server-Sent Events, say): chunked, written piece by piece for as long as
 * the client stays. nw_http_stream answers req (from its handler or later) with status and
 * headers (Cache-Control: no-cache added) and returns the stream, or NULL after answering 500
 * on ENOMEM. on_drain (may be NULL) runs from the loop whenever everything written so far went
 * out to the connection, the moment to write more from a slower source; on_closed (may be NULL)
 * runs exactly once, when the client went away, the stream was ended and sent, or the server
 * closes; the stream pointer is invalid from then on and on_closed must not call into the
 * server. Writes only queue (bounded by nobody but the owner: watch nw_http_stream_pending). */
typedef struct nw_http_stream nw_http_stream_t;
typedef void (*nw_http_stream_cb)(nw_http_stream_t *s, void *arg);
nw_http_stream_t *nw_http_stream(nw_http_req_t *req, int status, const char *content_type,
                                 const char *extra_headers, nw_http_stream_cb on_drain,
                                 nw_http_stream_cb on_closed, void *arg);
/* Queue bytes. Returns 0, -EPIPE after nw_http_stream_end, or -ENOMEM. Borrows data. */
int nw_http_stream_write(nw_http_stream_t *s, const void *data, size_t len);
/* Bytes written and not yet handed to the connection. */
size_t nw_http_stream_pending(const nw_http_stream_t *s);
/* Finish the body once what was written went out; on_closed follows. */
void nw_http_stream_end(nw_http_stream_t *s);

/* Stop accepting, close the uv handles, stop MHD (pending requests get 503), then free; cb
 * (may be NULL) runs last. NULL-safe. May be called from inside a handler: the work is done
 * from a loop callback. Requests a handler still holds unanswered are answered 503 by the
 * close, so their nw_http_req_t pointers become invalid as soon as close is called: drop them
 * first (or answer them before closing). Responses already queued get up to a second to go
 * out before their connections are dropped. */
void nw_http_close(nw_http_t *h, void (*cb)(void *arg), void *arg);

#endif
