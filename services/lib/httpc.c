/* httpc.c: the HTTP client (see httpc.h): libcurl's multi-socket interface on a uv loop.
 *
 * curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION: one uv_poll per socket, kept
 * in the socket's curl_multi_assign slot) and when to wake it (CURLMOPT_TIMERFUNCTION: one
 * uv_timer). Both uv callbacks call curl_multi_socket_action and then read the finished
 * transfers with curl_multi_info_read. User callbacks only run there, never inside a curl
 * call, so a callback may start requests or close the client; closing inside a callback is
 * deferred to the end of that dispatch, because curl_multi_info_read must not see a freed
 * multi handle.
 *
 * Redirects are followed here (CURLOPT_FOLLOWLOCATION off): on a 3xx with a Location, the
 * next URL (curl resolves it, CURLINFO_REDIRECT_URL) is checked against the hop limit and the
 * URLs already visited, then the same easy handle is re-added with the new URL.
 *
 * The address check runs in CURLOPT_OPENSOCKETFUNCTION, the one place that sees the address
 * curl is about to connect to, after DNS and for every connection attempt, so neither a
 * redirect to an internal host nor a DNS answer that changed since the last look (rebinding)
 * gets past it. */
#include "newswire/httpc.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "newswire/buf.h"
#include "newswire/util.h"

#define MAX_HEADERS 200              /* response header lines kept per hop */
#define MAX_HEADER_BYTES (64 * 1024) /* and their bytes; beyond either the response is refused */

struct sock {
    uv_poll_t poll;
    curl_socket_t fd;
    nw_httpc_t *c;
    struct sock *prev, *next;
};

struct req {
    nw_httpc_t *c;
    CURL *easy;
    struct curl_slist *hdrs;
    char *url; /* the current hop */
    char **visited;
    int n_visited;
    nw_buf_t body;
    nw_kv_t *headers;
    size_t n_headers, header_bytes;
    int too_large, forbidden, header_overflow, oom;
    nw_httpc_cb cb;
    void *arg;
    struct req *prev, *next;
};

struct nw_httpc {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    nw_httpc_opts_t o;
    char *ua;
    struct req *reqs;
    size_t n_reqs;
    struct sock *socks;
    int dispatching; /* inside a dispatch: closing waits for its end */
    int closing;     /* nw_httpc_close was called */
    int torn_down;   /* curl released; socket callbacks are ignored */
    int handles;     /* uv handles not yet closed */
    void (*close_cb)(void *arg);
    void *close_arg;
};

static const char *const reasons[] = {
    [NW_HTTPC_OK] = "ok",
    [NW_HTTPC_TIMEOUT] = "timeout",
    [NW_HTTPC_TOO_LARGE] = "too-large",
    [NW_HTTPC_REDIRECT_LOOP] = "redirect-loop",
    [NW_HTTPC_TOO_MANY_REDIRECTS] = "too-many-redirects",
    [NW_HTTPC_FORBIDDEN_ADDRESS] = "forbidden-address",
    [NW_HTTPC_BAD_URL] = "bad-url",
    [NW_HTTPC_DNS] = "dns",
    [NW_HTTPC_CONNECT] = "connect",
    [NW_HTTPC_TLS] = "tls",
    [NW_HTTPC_PROTOCOL] = "protocol",
    [NW_HTTPC_CANCELLED] = "cancelled",
    [NW_HTTPC_INTERNAL] = "internal",
};

const char *
nw_httpc_reason(nw_httpc_error_t e)
{
    if ((unsigned)e >= sizeof reasons / sizeof *reasons || reasons[e] == NULL)
        return "internal";
    return reasons[e];
}

/* ---- addresses ---- */

static int
v4_forbidden(uint32_t a)
{
    static const struct {
        uint32_t net, mask;
    } nets[] = {
        {0x00000000, 0xff000000}, /* 0/8 "this network", unspecified */
        {0x0a000000, 0xff000000}, /* 10/8 */
        {0x64400000, 0xffc00000}, /* 100.64/10 carrier-grade NAT */
        {0x7f000000, 0xff000000}, /* 127/8 loopback */
        {0xa9fe0000, 0xffff0000}, /* 169.254/16 link-local (cloud metadata) */
        {0xac100000, 0xfff00000}, /* 172.16/12 */
        {0xc0000000, 0xffffff00}, /* 192.0.0/24 protocol assignments */
        {0xc0000200, 0xffffff00}, /* 192.0.2/24 documentation */
        {0xc0a80000, 0xffff0000}, /* 192.168/16 */
        {0xc6120000, 0xfffe0000}, /* 198.18/15 benchmarking */
        {0xc6336400, 0xffffff00}, /* 198.51.100/24 documentation */
        {0xcb007100, 0xffffff00}, /* 203.0.113/24 documentation */
        {0xe0000000, 0xf0000000}, /* 224/4 multicast */
        {0xf0000000, 0xf0000000}, /* 240/4 reserved, broadcast */
    };
    for (size_t i = 0; i < sizeof nets / sizeof *nets; i++)
        if ((a & nets[i].mask) == nets[i].net)
            return 1;
    return 0;
}

static int
v6_forbidden(const uint8_t *b)
{
    static const uint8_t zero[16];
    uint32_t v4 = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15];
    if (memcmp(b, zero, 10) == 0 && b[10] == 0xff && b[11] == 0xff)
        return v4_forbidden(v4); /* ::ffff:a.b.c.d mapped */
    if (memcmp(b, zero, 12) == 0)
        return 1; /* ::, ::1 and the deprecated IPv4-compatible ::a.b.c.d */
    if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && memcmp(b + 4, zero, 8) == 0)
        return v4_forbidden(v4); /* 64:ff9b::/96 NAT64 */
    if ((b[0] & 0xfe) == 0xfc)
        return 1; /* fc00::/7 unique local */
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
        return 1; /* fe80::/10 link-local */
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
        return 1; /* fec0::/10 site-local (deprecated) */
    if (b[0] == 0xff)
        return 1; /* ff00::/8 multicast */
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
        return 1; /* 2001:db8::/32 documentation */
    if (b[0] == 0x01 && b[1] == 0x00 && memcmp(b + 2, zero, 6) == 0)
        return 1; /* 100::/64 discard */
    /* Tunnels whose far end is an IPv4 address we cannot vet here: 6to4 embeds any IPv4
     * address (2002:7f00:1::/48 is loopback through a relay) and Teredo an obfuscated one. */
    if (b[0] == 0x20 && b[1] == 0x02)
        return 1; /* 2002::/16 6to4 */
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] == 0x00)
        return 1; /* 2001::/32 Teredo */
    return 0;
}

int
nw_httpc_addr_forbidden(const void *sockaddr)
{
    const struct sockaddr *sa = sockaddr;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = sockaddr;
        return v4_forbidden(ntohl(in->sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = sockaddr;
        return v6_forbidden(in6->sin6_addr.s6_addr);
    }
    return 1; /* unix sockets and anything else */
}

static curl_socket_t
on_open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct req *r = clientp;
    if (purpose != CURLSOCKTYPE_IPCXN)
        return CURL_SOCKET_BAD;
    if (!r->c->o.allow_private && nw_httpc_addr_forbidden(&a->addr)) {
        r->forbidden = 1;
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* ---- per-request callbacks ---- */

static size_t
on_body(char *p, size_t size, size_t n, void *ud)
{
    struct req *r = ud;
    size_t len = size * n;
    /* curl hands us decoded bytes, so this caps what a compressed body expands to. */
    if (len > r->c->o.max_body - r->body.len) {
        r->too_large = 1;
        return 0;
    }
    if (nw_buf_append(&r->body, p, len) < 0) {
        r->oom = 1;
        return 0;
    }
    return len;
}

static void
clear_headers(struct req *r)
{
    for (size_t i = 0; i < r->n_headers; i++) {
        free(r->headers[i].key);
        free(r->headers[i].val);
    }
    free(r->headers);
    r->headers = NULL;
    r->n_headers = r->header_bytes = 0;
}

static size_t
on_header(char *p, size_t size, size_t n, void *ud)
{
    struct req *r = ud;
    size_t len = size * n;
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        clear_headers(r); /* a new response (100 Continue, or the next hop) */
        return len;
    }
    const char *colon = memchr(p, ':', len);
    if (colon == NULL || colon == p)
        return len; /* the blank line, or an obs-fold continuation we do not keep */
    r->header_bytes += len;
    if (r->n_headers >= MAX_HEADERS || r->header_bytes > MAX_HEADER_BYTES) {
        r->header_overflow = 1;
        return 0;
    }
    size_t klen = (size_t)(colon - p);
    const char *v = colon + 1, *end = p + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    /* Raw messages carry UTF-8 strings only; a header that is not is dropped, not fatal. */
    if (!nw_utf8_valid((const uint8_t *)p, klen) ||
        !nw_utf8_valid((const uint8_t *)v, (size_t)(end - v)))
        return len;
    nw_kv_t *h = realloc(r->headers, (r->n_headers + 1) * sizeof *h);
    if (h == NULL) {
        r->oom = 1;
        return 0;
    }
    r->headers = h;
    char *k = nw_strndup(p, klen), *val = nw_strndup(v, (size_t)(end - v));
    if (k == NULL || val == NULL) {
        free(k);
        free(val);
        r->oom = 1;
        return 0;
    }
    for (char *q = k; *q; q++)
        if (*q >= 'A' && *q <= 'Z')
            *q = (char)(*q + 32);
    h[r->n_headers].key = k;
    h[r->n_headers].val = val;
    r->n_headers++;
    return len;
}

static const char *
header(const struct req *r, const char *name)
{
    for (size_t i = r->n_headers; i-- > 0;)
        if (strcmp(r->headers[i].key, name) == 0)
            return r->headers[i].val;
    return NULL;
}

/* ---- request lifecycle ---- */

static void
req_free(struct req *r)
{
    if (r == NULL)
        return;
    if (r->easy)
        curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->hdrs);
    free(r->url);
    for (int i = 0; i < r->n_visited; i++)
        free(r->visited[i]);
    free(r->visited);
    nw_buf_release(&r->body);
    clear_headers(r);
    free(r);
}

static void
unlink_req(struct req *r)
{
    nw_httpc_t *c = r->c;
    if (r->prev)
        r->prev->next = r->next;
    else
        c->reqs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
    c->n_reqs--;
}

/* Answer the request and free it. It must already be out of the multi and the list. */
static void
deliver(struct req *r, nw_httpc_error_t err, long status)
{
    static const uint8_t empty[1];
    nw_httpc_resp_t resp = {
        .error = err,
        .status = status,
        .url = r->url,
        .content_type = header(r, "content-type"),
        .etag = header(r, "etag"),
        .last_modified = header(r, "last-modified"),
        .headers = r->headers,
        .n_headers = r->n_headers,
        .body = err == NW_HTTPC_OK && r->body.data ? r->body.data : empty,
        .len = err == NW_HTTPC_OK ? r->body.len : 0,
        .redirects = r->n_visited > 0 ? r->n_visited - 1 : 0,
    };
    r->cb(&resp, r->arg);
    req_free(r);
}

static nw_httpc_error_t
map_error(const struct req *r, CURLcode rc)
{
    if (r->forbidden && rc != CURLE_OK)
        return NW_HTTPC_FORBIDDEN_ADDRESS;
    if (r->too_large)
        return NW_HTTPC_TOO_LARGE;
    if (r->oom)
        return NW_HTTPC_INTERNAL;
    if (r->header_overflow)
        return NW_HTTPC_PROTOCOL;
    switch (rc) {
    case CURLE_OK:
        return NW_HTTPC_OK;
    case CURLE_OPERATION_TIMEDOUT:
        return NW_HTTPC_TIMEOUT;
    case CURLE_FILESIZE_EXCEEDED:
        return NW_HTTPC_TOO_LARGE;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return NW_HTTPC_BAD_URL;
    case CURLE_COULDNT_RESOLVE_HOST:
        return NW_HTTPC_DNS;
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
        return NW_HTTPC_CONNECT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
        return NW_HTTPC_TLS;
    case CURLE_OUT_OF_MEMORY:
        return NW_HTTPC_INTERNAL;
    default:
        return NW_HTTPC_PROTOCOL;
    }
}

static int
is_http_url(const char *u)
{
    return strncasecmp(u, "http://", 7) == 0 || strncasecmp(u, "https://", 8) == 0;
}

/* Point the easy handle at url and add it to the multi. Returns 0 or -ENOMEM/-EIO. */
static int
start_hop(struct req *r, const char *url)
{
    char **v = realloc(r->visited, (size_t)(r->n_visited + 1) * sizeof *v);
    if (v == NULL)
        return -ENOMEM;
    r->visited = v;
    char *copy = strdup(url), *cur = strdup(url);
    if (copy == NULL || cur == NULL) {
        free(copy);
        free(cur);
        return -ENOMEM;
    }
    r->visited[r->n_visited++] = copy;
    free(r->url);
    r->url = cur;
    nw_buf_reset(&r->body);
    clear_headers(r);
    r->too_large = r->forbidden = r->header_overflow = r->oom = 0;
    if (curl_easy_setopt(r->easy, CURLOPT_URL, r->url) != CURLE_OK)
        return -ENOMEM;
    if (curl_multi_add_handle(r->c->multi, r->easy) != CURLM_OK)
        return -EIO;
    return 0;
}

/* A transfer ended: follow its redirect or answer it. */
static void
finished(struct req *r, CURLcode rc)
{
    nw_httpc_t *c = r->c;
    long status = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(c->multi, r->easy);
    nw_httpc_error_t err = map_error(r, rc);
    if (err == NW_HTTPC_OK && status >= 300 && status < 400 && status != 304) {
        char *loc = NULL;
        curl_easy_getinfo(r->easy, CURLINFO_REDIRECT_URL, &loc);
        if (loc && *loc) {
            if (!is_http_url(loc)) {
                err = NW_HTTPC_BAD_URL;
            } else {
                for (int i = 0; i < r->n_visited && err == NW_HTTPC_OK; i++)
                    if (strcmp(r->visited[i], loc) == 0)
                        err = NW_HTTPC_REDIRECT_LOOP;
                if (err == NW_HTTPC_OK && r->n_visited > c->o.max_redirects)
                    err = NW_HTTPC_TOO_MANY_REDIRECTS;
            }
            if (err == NW_HTTPC_OK) {
                char *next = strdup(loc); /* loc is curl's, reset by the next setopt */
                int hop = next ? start_hop(r, next) : -ENOMEM;
                free(next);
                if (hop == 0)
                    return;
                curl_multi_remove_handle(c->multi, r->easy);
                err = NW_HTTPC_INTERNAL;
            }
        }
    }
    unlink_req(r);
    deliver(r, err, status);
}

static void teardown(nw_httpc_t *c);

/* Let curl act on a socket or its timeout, then answer what finished. */
static void
drive(nw_httpc_t *c, curl_socket_t fd, int flags)
{
    int running = 0;
    c->dispatching++;
    curl_multi_socket_action(c->multi, fd, flags, &running);
    CURLMsg *m;
    int left;
    while (!c->closing && (m = curl_multi_info_read(c->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct req *r = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        finished(r, m->data.result);
    }
    if (--c->dispatching == 0 && c->closing && !c->torn_down)
        teardown(c);
}

static void
on_timer(uv_timer_t *t)
{
    drive(t->data, CURL_SOCKET_TIMEOUT, 0);
}

static void
on_poll(uv_poll_t *p, int status, int events)
{
    struct sock *k = p->data;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    else {
        if (events & UV_READABLE)
            flags |= CURL_CSELECT_IN;
        if (events & UV_WRITABLE)
            flags |= CURL_CSELECT_OUT;
    }
    drive(k->c, k->fd, flags);
}

static void
on_handle_closed(uv_handle_t *h)
{
    nw_httpc_t *c = h->data;
    if (h->type == UV_POLL) {
        struct sock *k = (struct sock *)h;
        c = k->c;
        free(k);
    }
    if (--c->handles == 0) {
        void (*cb)(void *) = c->close_cb;
        void *arg = c->close_arg;
        free(c->ua);
        free(c);
        if (cb)
            cb(arg);
    }
}

static void
drop_sock(nw_httpc_t *c, struct sock *k)
{
    if (k->prev)
        k->prev->next = k->next;
    else
        c->socks = k->next;
    if (k->next)
        k->next->prev = k->prev;
    uv_poll_stop(&k->poll);
    uv_close((uv_handle_t *)&k->poll, on_handle_closed);
}

static int
on_socket(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)e;
    nw_httpc_t *c = userp;
    struct sock *k = socketp;
    if (c->torn_down)
        return 0;
    if (what == CURL_POLL_REMOVE) {
        if (k) {
            curl_multi_assign(c->multi, fd, NULL);
            drop_sock(c, k);
        }
        return 0;
    }
    if (k == NULL) {
        k = calloc(1, sizeof *k);
        if (k == NULL)
            return -1;
        if (uv_poll_init_socket(c->loop, &k->poll, fd) < 0) {
            free(k);
            return -1;
        }
        k->fd = fd;
        k->c = c;
        k->poll.data = k;
        k->next = c->socks;
        if (c->socks)
            c->socks->prev = k;
        c->socks = k;
        c->handles++;
        curl_multi_assign(c->multi, fd, k);
    }
    int ev = 0;
    if (what & CURL_POLL_IN)
        ev |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        ev |= UV_WRITABLE;
    uv_poll_start(&k->poll, ev, on_poll);
    return 0;
}

static int
on_curl_timer(CURLM *m, long timeout_ms, void *userp)
{
    (void)m;
    nw_httpc_t *c = userp;
    if (c->torn_down)
        return 0;
    if (timeout_ms < 0)
        uv_timer_stop(&c->timer);
    else
        uv_timer_start(&c->timer, on_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

nw_httpc_t *
nw_httpc_new(uv_loop_t *loop, const nw_httpc_opts_t *opts)
{
    static int curl_ready;
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return NULL;
        curl_ready = 1;
    }
    nw_httpc_t *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->loop = loop;
    if (opts)
        c->o = *opts;
    if (c->o.max_body == 0)
        c->o.max_body = 16u << 20;
    if (c->o.connect_timeout_ms <= 0)
        c->o.connect_timeout_ms = 10000;
    if (c->o.timeout_ms <= 0)
        c->o.timeout_ms = 30000;
    if (c->o.max_redirects == 0)
        c->o.max_redirects = 5;
    else if (c->o.max_redirects < 0)
        c->o.max_redirects = 0;
    c->ua = strdup(c->o.user_agent ? c->o.user_agent : NW_HTTPC_USER_AGENT);
    c->multi = curl_multi_init();
    if (c->ua == NULL || c->multi == NULL || uv_timer_init(loop, &c->timer) < 0) {
        if (c->multi)
            curl_multi_cleanup(c->multi);
        free(c->ua);
        free(c);
        return NULL;
    }
    c->o.user_agent = c->ua;
    c->timer.data = c;
    c->handles = 1;
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    return c;
}

static struct curl_slist *
add_header(struct curl_slist *l, const char *name, const char *val, int *bad)
{
    if (*bad || val == NULL || *val == 0)
        return l;
    if (strpbrk(val, "\r\n")) { /* a stored validator must not inject headers */
        return l;
    }
    nw_buf_t b = {0};
    struct curl_slist *n = NULL;
    if (nw_buf_printf(&b, "%s: %s", name, val) == 0)
        n = curl_slist_append(l, (const char *)b.data);
    nw_buf_release(&b);
    if (n == NULL) {
        *bad = 1;
        return l;
    }
    return n;
}

int
nw_httpc_get(nw_httpc_t *c, const nw_httpc_req_t *req, nw_httpc_cb cb, void *arg)
{
    if (c == NULL || req == NULL || req->url == NULL || cb == NULL)
        return -EINVAL;
    if (c->closing)
        return -ECANCELED;
    struct req *r = calloc(1, sizeof *r);
    if (r == NULL)
        return -ENOMEM;
    r->c = c;
    r->cb = cb;
    r->arg = arg;
    int bad = 0;
    r->hdrs = add_header(r->hdrs, "If-None-Match", req->etag, &bad);
    r->hdrs = add_header(r->hdrs, "If-Modified-Since", req->last_modified, &bad);
    r->easy = curl_easy_init();
    if (bad || r->easy == NULL)
        goto nomem;
    CURL *e = r->easy;
    CURLcode rc = CURLE_OK;
#define SET(opt, val)                                                                              \
    if (rc == CURLE_OK)                                                                            \
    rc = curl_easy_setopt(e, opt, val)
    SET(CURLOPT_PRIVATE, (char *)r);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 0L); /* followed in finished(), hop by hop */
    SET(CURLOPT_MAXREDIRS, (long)c->o.max_redirects);
    SET(CURLOPT_USERAGENT, c->ua);
    SET(CURLOPT_ACCEPT_ENCODING, ""); /* every encoding curl decodes: gzip, deflate, br, zstd */
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)c->o.connect_timeout_ms);
    SET(CURLOPT_TIMEOUT_MS, (long)c->o.timeout_ms);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_PROXY, ""); /* no proxy from the environment: it would bypass the check */
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->o.max_body);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, r);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, r);
    SET(CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    SET(CURLOPT_OPENSOCKETDATA, r);
    if (r->hdrs)
        SET(CURLOPT_HTTPHEADER, r->hdrs);
#undef SET
    if (rc != CURLE_OK)
        goto nomem;
    r->next = c->reqs;
    if (c->reqs)
        c->reqs->prev = r;
    c->reqs = r;
    c->n_reqs++;
    if (start_hop(r, req->url) < 0) {
        unlink_req(r);
        curl_multi_remove_handle(c->multi, r->easy);
        req_free(r);
        return -ENOMEM;
    }
    return 0;
nomem:
    req_free(r);
    return -ENOMEM;
}

size_t
nw_httpc_pending(const nw_httpc_t *c)
{
    return c ? c->n_reqs : 0;
}

static void
teardown(nw_httpc_t *c)
{
    while (c->reqs) {
        struct req *r = c->reqs;
        curl_multi_remove_handle(c->multi, r->easy);
        unlink_req(r);
        deliver(r, NW_HTTPC_CANCELLED, 0);
    }
    c->torn_down = 1;
    while (c->socks)
        drop_sock(c, c->socks);
    curl_multi_cleanup(c->multi);
    c->multi = NULL;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

void
nw_httpc_close(nw_httpc_t *c, void (*cb)(void *arg), void *arg)
{
    if (c == NULL || c->closing)
        return;
    c->closing = 1;
    c->close_cb = cb;
    c->close_arg = arg;
    if (c->dispatching == 0)
        teardown(c);
}
