/* httpc.h: the HTTP client fetch uses to read the web (feeds, pages, robots.txt). libcurl's
 * multi-socket interface driven by the caller's uv loop: no threads, many requests at once.
 *
 * Every request is a GET over http or https only, with our user agent, optional conditional
 * headers (If-None-Match, If-Modified-Since), connect and total timeouts, and redirects
 * followed here rather than by curl so each hop is checked: at most max_redirects hops, and a
 * hop back to a URL already visited is refused as a loop. Bodies are decoded (gzip, deflate,
 * br) and capped on their DECODED size: the transfer is aborted as soon as max_body is passed,
 * so neither a gzip bomb nor an endless body is ever held in memory beyond the cap.
 *
 * Private, loopback, link-local, multicast and unspecified addresses (IPv4 and IPv6, including
 * IPv4-mapped) are refused when the socket is opened, after DNS, so a name that resolves (or
 * re-resolves: DNS rebinding) to such an address cannot reach internal services unless the
 * client was made with allow_private. Proxies from the environment are ignored for the same
 * reason. */
#ifndef NW_HTTPC_H
#define NW_HTTPC_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "newswire/proto.h"

#define NW_HTTPC_USER_AGENT "newswire/0.1 (+https://github.com/newswire/newswire)"

typedef struct nw_httpc nw_httpc_t;

/* Client settings; zero fields take the default in brackets. */
typedef struct nw_httpc_opts {
    const char *user_agent;     /* [NW_HTTPC_USER_AGENT]; copied */
    size_t max_body;            /* decoded body bytes before the transfer is aborted [16 MiB] */
    int64_t connect_timeout_ms; /* [10 s] */
    int64_t timeout_ms;         /* whole request, each hop [30 s] */
    int max_redirects;          /* hops followed [5]; negative: none */
    int allow_private;          /* connect to private/loopback/... addresses too [0] */
} nw_httpc_opts_t;

/* What went wrong, when something did. Strings for logs and metrics come from
 * nw_httpc_reason(). */
typedef enum {
    NW_HTTPC_OK = 0,        /* a response arrived (any status; 304 included) */
    NW_HTTPC_TIMEOUT,       /* connect or total timeout */
    NW_HTTPC_TOO_LARGE,     /* decoded body over max_body (or Content-Length says so) */
    NW_HTTPC_REDIRECT_LOOP, /* a redirect back to a URL already visited */
    NW_HTTPC_TOO_MANY_REDIRECTS,
    NW_HTTPC_FORBIDDEN_ADDRESS, /* resolved to an address the options refuse */
    NW_HTTPC_BAD_URL,           /* not an http(s) URL, or a redirect elsewhere */
    NW_HTTPC_DNS,               /* name did not resolve */
    NW_HTTPC_CONNECT,           /* connection refused or reset */
    NW_HTTPC_TLS,               /* certificate or handshake failure */
    NW_HTTPC_PROTOCOL,          /* malformed response, bad encoding, headers too large */
    NW_HTTPC_CANCELLED,         /* the client was closed */
    NW_HTTPC_INTERNAL,          /* out of memory, curl refused an option */
} nw_httpc_error_t;

/* Static lowercase-with-dashes name of an error ("timeout", "too-large", ...). */
const char *nw_httpc_reason(nw_httpc_error_t e);

/* A finished request. Everything is borrowed until the callback returns. */
typedef struct nw_httpc_resp {
    nw_httpc_error_t error;
    long status;              /* HTTP status of the last hop (0 when none arrived) */
    const char *url;          /* the URL of the last hop (after redirects) */
    const char *content_type; /* full header value or NULL */
    const char *etag;         /* validators of the response, NULL when absent */
    const char *last_modified;
    const nw_kv_t *headers; /* the last hop's headers, names lowercased, in order */
    size_t n_headers;
    const uint8_t *body; /* decoded, NUL-terminated; empty on error */
    size_t len;
    int redirects; /* hops followed */
} nw_httpc_resp_t;

typedef void (*nw_httpc_cb)(const nw_httpc_resp_t *resp, void *arg);

/* One request. Strings are copied by nw_httpc_get. */
typedef struct nw_httpc_req {
    const char *url;
    const char *etag;          /* sent as If-None-Match when not NULL/"" */
    const char *last_modified; /* sent as If-Modified-Since when not NULL/"" */
} nw_httpc_req_t;

/* Make a client on loop. Returns NULL on error (curl could not start, ENOMEM). The loop must
 * outlive the client; close it with nw_httpc_close. */
nw_httpc_t *nw_httpc_new(uv_loop_t *loop, const nw_httpc_opts_t *opts);

/* Start a GET. cb(resp, arg) runs exactly once, from the loop, never inside this call.
 * Returns 0, -EINVAL (no URL), -ECANCELED (closing) or -ENOMEM; then cb is not called. */
int nw_httpc_get(nw_httpc_t *c, const nw_httpc_req_t *req, nw_httpc_cb cb, void *arg);

/* Requests started and not yet answered. */
size_t nw_httpc_pending(const nw_httpc_t *c);

/* True when the address (struct sockaddr_in / sockaddr_in6) is one the client refuses by
 * default: private (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7), loopback, link-local,
 * multicast, unspecified, broadcast, reserved (0/8, 240/4), IPv4-mapped or -compatible forms
 * of those, and the documentation and benchmarking ranges. Exposed for tests. */
int nw_httpc_addr_forbidden(const void *sockaddr);

/* Answer every pending request with NW_HTTPC_CANCELLED, release curl, close the uv handles and
 * free; cb (may be NULL) runs last, from the loop. Safe inside a request callback.
 * NULL-safe. */
void nw_httpc_close(nw_httpc_t *c, void (*cb)(void *arg), void *arg);

#endif
