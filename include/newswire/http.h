/* http.h: a small HTTP/1.1 server on the service's uv loop, built on libmicrohttpd (external
 * select mode: one uv poll on MHD's epoll descriptor plus one uv timer, so no threads).
 * Every service serves /metrics and /healthz through it; fetch serves its API.
 *
 * Handlers may answer at once or later (after an fsync, say): the connection stays suspended
 * until nw_http_respond() is called for the request. Bodies larger than the configured limit
 * are refused with 413 and a JSON error before the handler runs.
 *
 * Hostile clients cost bounded time and memory (nw_http_opts_t): a request's head must arrive
 * whole within one deadline and its body within another, however slowly the bytes trickle
 * (an idle keep-alive connection waits under the head deadline too); each client address may
 * hold a few connections; a request is refused before a byte of its body is buffered when its
 * route, method, size or token is wrong; the bodies buffered at once share one cap, past which
 * requests get 503; two Content-Length headers, or Content-Length with Transfer-Encoding, get
 * 400 and the connection is closed (no second request is read from the surplus bytes); a
 * stream whose written bytes have not moved for a deadline is dropped.
 *
 * With a token file every route but /healthz takes "Authorization: Bearer <token>" with the
 * route's scope (token.h): 401 without a known token, 403 without the scope. Without one the
 * server refuses to listen anywhere but on loopback. With a certificate it speaks HTTPS. */
#ifndef NW_HTTP_H
#define NW_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "newswire/config.h"
#include "newswire/token.h"

typedef struct nw_http nw_http_t;

/* Security settings, the target of NW_HTTP_OPTIONS in a service's config table. Zero values
 * take the defaults named in the table. */
typedef struct nw_http_opts {
    const char *tokens;      /* token file (token.h); NULL or "": no authentication */
    const char *tls_cert;    /* PEM certificate chain: serve HTTPS */
    const char *tls_key;     /* PEM private key of the certificate */
    int64_t header_ms;       /* a request's whole head, from connect or the last answer */
    int64_t body_ms;         /* a request's whole body, from the end of its head */
    int64_t stream_stall_ms; /* a stream whose queued bytes do not move for this is dropped */
    int64_t per_ip;          /* connections per client address */
    int64_t buffered_max;    /* body bytes buffered at once, all requests together */
} nw_http_opts_t;

#define NW_HTTP_DEFAULT_HEADER_MS 10000
#define NW_HTTP_DEFAULT_BODY_MS 60000
#define NW_HTTP_DEFAULT_STREAM_STALL_MS 30000
#define NW_HTTP_DEFAULT_PER_IP 64
#define NW_HTTP_DEFAULT_BUFFERED_MAX (64LL << 20)

/* Config-table entries for the options above (a service that serves an API lists them).
 * Kept by hand: clang-format cannot lay out a macro of several initialisers readably. */
// clang-format off
#define NW_HTTP_OPTIONS(type, m)                                                                   \
    {"http-tokens", NW_CFG_STR, NULL, offsetof(type, m.tokens),                                    \
     "token file (`newswire token new`); required unless --http is on loopback", 0, 0},           \
    {"http-cert", NW_CFG_STR, NULL, offsetof(type, m.tls_cert),                                    \
     "PEM certificate chain: serve HTTPS (with --http-key)", 0, 0},                               \
    {"http-key", NW_CFG_STR, NULL, offsetof(type, m.tls_key),                                      \
     "PEM private key for --http-cert", 0, 0},                                                    \
    {"http-header-timeout", NW_CFG_MS, "10s", offsetof(type, m.header_ms),                         \
     "a request's head must arrive whole within this (also the keep-alive idle time)",           \
     100, 3600000},                                                                                \
    {"http-body-timeout", NW_CFG_MS, "60s", offsetof(type, m.body_ms),                             \
     "a request's body must arrive whole within this", 100, 86400000},                            \
    {"http-stream-stall", NW_CFG_MS, "30s", offsetof(type, m.stream_stall_ms),                     \
     "drop a stream client whose queued bytes have not moved for this long", 100, 86400000},      \
    {"http-per-ip", NW_CFG_INT, "64", offsetof(type, m.per_ip),                                    \
     "connections one client address may hold", 1, 1000},                                         \
    {"http-buffered-max", NW_CFG_SIZE, "64m", offsetof(type, m.buffered_max),                      \
     "request bodies buffered at once, all clients together; past it 503", 4096, 1LL << 40}
// clang-format on

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

/* Look up a query argument or a request header (borrowed until respond). NULL if absent; a
 * repeated argument gives its first value. */
const char *nw_http_query(const nw_http_req_t *req, const char *key);
const char *nw_http_header(const nw_http_req_t *req, const char *name);
/* Pass every query argument, repeated ones each time, in request order, to cb (key and value
 * borrowed until respond; a value-less "?a" gives ""). Nonzero from cb stops. Returns 1 when
 * cb stopped, else 0. */
int nw_http_query_each(const nw_http_req_t *req,
                       int (*cb)(const char *key, const char *value, void *arg), void *arg);

typedef void (*nw_http_handler_cb)(nw_http_req_t *req, void *arg);

/* Listen on "host:port" (port 0 picks a free one; see nw_http_port). host may be an IPv4 or
 * IPv6 literal ("[::1]:8080"), a name, or empty / "*" for every IPv4 address. max_body in
 * bytes: larger bodies get 413 without being buffered and without the handler running.
 * The caller owns the loop; the server owns its handles until nw_http_close() completes.
 * Returns NULL and logs on error (bad address, port in use). */
nw_http_t *nw_http_new(uv_loop_t *loop, const char *listen, size_t max_body);
/* The same with security settings, for a server that serves an API (NULL, as nw_http_new
 * passes: defaults, no tokens, no TLS, no loopback rule; for servers of /metrics and /healthz
 * only). Also NULL and logged when the token file or certificate cannot be read, or when opts
 * is given, listen is not a loopback address and no token file is named. opts is read during
 * the call only. */
nw_http_t *nw_http_new_opts(uv_loop_t *loop, const char *listen, size_t max_body,
                            const nw_http_opts_t *opts);
/* The bound port. */
int nw_http_port(const nw_http_t *h);
/* CORS: every answer (errors and streams too) carries Access-Control-Allow-Origin: origin
 * (NULL or "": none, the default), and an OPTIONS preflight on any routed path is answered 204
 * with the path's methods, open like /healthz (a preflight carries no token). Without it OPTIONS
 * still answers 204 with Allow. HEAD is answered on every GET route (the GET answer's head). */
void nw_http_set_cors(nw_http_t *h, const char *origin);
/* Answers from nw_http_respond of min_len bytes or more are gzipped (Content-Encoding: gzip)
 * when the request's Accept-Encoding takes gzip; 0 (the default): never. Streams are not. */
void nw_http_set_gzip(nw_http_t *h, size_t min_len);
/* Change the body limit for requests that start after the call (the service's server is
 * created with a default; fetch raises or lowers it from its config). */
void nw_http_set_max_body(nw_http_t *h, size_t max_body);
/* Route exact method + path to a handler; a path ending in '*' matches every longer path with
 * that prefix ("/v1/articles/" followed by a star takes "/v1/articles/abc"; the handler reads
 * req->path). When several routes match, the most specific wins, whatever the order they were
 * added in: an exact path, then the longest prefix. Unknown paths get 404, wrong methods 405, both
 * with a JSON error body. Returns 0 or -ENOMEM. */
int nw_http_route(nw_http_t *h, const char *method, const char *path, nw_http_handler_cb cb,
                  void *arg);
/* The same with an explicit scope (token.h; NW_SCOPE_NONE: open). nw_http_route gives GET
 * routes NW_SCOPE_READ and every other method NW_SCOPE_INGEST. Only POST, PUT and PATCH
 * routes take a body; a body sent to any other route is refused with 413 before it is read. */
int nw_http_route_scope(nw_http_t *h, const char *method, const char *path, unsigned scope,
                        nw_http_handler_cb cb, void *arg);
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
