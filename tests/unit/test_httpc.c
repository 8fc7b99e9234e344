/* test_httpc.c: the HTTP client against a hostile local web (tests/fixtures/web/server.py,
 * started here): conditional GET answered 304, a slow response cut by the timeout, a redirect
 * loop and an endless redirect chain refused, a gzip bomb and a 2 GB body (declared, or
 * streamed without a length) aborted at the cap, loopback refused unless allowed, the address
 * classifier, and closing with requests in flight. Every test ends with the loop closed cleanly.
 * Skipped (77) without python3. */
#include "newswire/httpc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

extern char **environ;

static pid_t server_pid;
static int server_port;

static int
start_server(void **state)
{
    (void)state;
    int fds[2];
    if (pipe(fds) < 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    char *argv[] = {"python3", NW_SOURCE_DIR "/tests/fixtures/web/server.py", "0", NULL};
    int rc = posix_spawnp(&server_pid, "python3", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return -1;
    }
    char line[32] = {0};
    size_t n = 0;
    while (n + 1 < sizeof line) {
        ssize_t k = read(fds[0], line + n, 1);
        if (k <= 0 || line[n] == '\n')
            break;
        n++;
    }
    close(fds[0]);
    server_port = atoi(line);
    return server_port > 0 ? 0 : -1;
}

static int
stop_server(void **state)
{
    (void)state;
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
    }
    return 0;
}

/* One finished request, copied out of the callback. */
struct got {
    int done;
    nw_httpc_error_t error;
    long status;
    size_t len;
    int redirects;
    char etag[64], last_modified[64], url[256], body[256], x_test[16];
};

static void
on_resp(const nw_httpc_resp_t *r, void *arg)
{
    struct got *g = arg;
    g->done++;
    g->error = r->error;
    g->status = r->status;
    g->len = r->len;
    g->redirects = r->redirects;
    snprintf(g->etag, sizeof g->etag, "%s", r->etag ? r->etag : "");
    snprintf(g->last_modified, sizeof g->last_modified, "%s",
             r->last_modified ? r->last_modified : "");
    snprintf(g->url, sizeof g->url, "%s", r->url ? r->url : "");
    snprintf(g->body, sizeof g->body, "%.*s", (int)(r->len < 255 ? r->len : 255),
             (const char *)r->body);
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcmp(r->headers[i].key, "x-test") == 0)
            snprintf(g->x_test, sizeof g->x_test, "%s", r->headers[i].val);
}

static void
url(char *out, size_t n, const char *path)
{
    snprintf(out, n, "http://127.0.0.1:%d%s", server_port, path);
}

/* Run one GET to completion on a fresh loop and client. */
static void
get(const nw_httpc_opts_t *o, const char *path, const char *etag, struct got *g)
{
    uv_loop_t loop;
    char u[256];
    assert_int_equal(uv_loop_init(&loop), 0);
    nw_httpc_t *c = nw_httpc_new(&loop, o);
    assert_non_null(c);
    url(u, sizeof u, path);
    memset(g, 0, sizeof *g);
    nw_httpc_req_t req = {.url = u, .etag = etag};
    assert_int_equal(nw_httpc_get(c, &req, on_resp, g), 0);
    assert_int_equal(g->done, 0); /* never inside the call */
    assert_int_equal(nw_httpc_pending(c), 1);
    while (g->done == 0)
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(g->done, 1);
    nw_httpc_close(c, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static const nw_httpc_opts_t local = {.allow_private = 1, .timeout_ms = 5000};

static void
test_conditional_get(void **state)
{
    (void)state;
    struct got g;
    get(&local, "/feed.xml", NULL, &g);
    assert_int_equal(g.error, NW_HTTPC_OK);
    assert_int_equal(g.status, 200);
    assert_string_equal(g.etag, "\"v1\"");
    assert_string_equal(g.last_modified, "Sat, 21 Nov 2026 10:00:00 GMT");
    assert_non_null(strstr(g.body, "<rss"));
    char etag[64];
    snprintf(etag, sizeof etag, "%s", g.etag);
    get(&local, "/feed.xml", etag, &g);
    assert_int_equal(g.error, NW_HTTPC_OK);
    assert_int_equal(g.status, 304);
    assert_int_equal(g.len, 0);
    /* The server saw the validator. */
    get(&local, "/_log", NULL, &g);
    assert_non_null(strstr(g.body, "GET /feed.xml -\nGET /feed.xml \"v1\"\n"));

    get(&local, "/articles/7.html", NULL, &g);
    assert_int_equal(g.status, 200);
    assert_string_equal(g.x_test, "yes");
    assert_non_null(strstr(g.body, "article 7.html"));
    get(&local, "/nothing-here", NULL, &g);
    assert_int_equal(g.error, NW_HTTPC_OK); /* any status is a response */
    assert_int_equal(g.status, 404);
}

static void
test_timeout(void **state)
{
    (void)state;
    nw_httpc_opts_t o = local;
    o.timeout_ms = 300;
    struct got g;
    get(&o, "/slow", NULL, &g);
    assert_int_equal(g.error, NW_HTTPC_TIMEOUT);
    assert_string_equal(nw_httpc_reason(g.error), "timeout");
    assert_int_equal(g.len, 0);
}

static void
test_redirects(void **state)
{
    (void)state;
    struct got g;
    get(&local, "/redirect-ok", NULL, &g);
    assert_int_equal(g.error, NW_HTTPC_OK);
    assert_int_equal(g.status, 200);
    assert_int_equal(g.redirects, 1);
    assert_non_null(strstr(g.url, "/articles/1.html"));

    get(&local, "/loop/a", NULL, &g);
    assert_int_equal(g.error, NW_HTTPC_REDIRECT_LOOP);
    assert_int_equal(g.redirects, 1); /* a -> b, then b -> a is refused */

    get(&local, "/chain/0", NULL, &g);
    assert_int_equal(g.error, NW_HTTPC_TOO_MANY_REDIRECTS);
    assert_int_equal(g.redirects, 5);
    assert_non_null(strstr(g.url, "/chain/5"));

    nw_httpc_opts_t o = local;
    o.max_redirects = -1; /* none followed */
    get(&o, "/redirect-ok", NULL, &g);
    assert_int_equal(g.error, NW_HTTPC_TOO_MANY_REDIRECTS);
}

static void
test_body_caps(void **state)
{
    (void)state;
    nw_httpc_opts_t o = local;
    o.max_body = 1 << 20;
    struct got g;
    /* 10 MB of zeros in about 10 KB of gzip: stopped once 1 MiB was decoded. */
    get(&o, "/bomb", NULL, &g);
    assert_int_equal(g.error, NW_HTTPC_TOO_LARGE);
    assert_int_equal(g.len, 0);
    /* Under a larger cap the same body decodes in full, so the cap is what stopped it. */
    o.max_body = 11 << 20;
    get(&o, "/bomb", NULL, &g);
    assert_int_equal(g.error, NW_HTTPC_OK);
    assert_int_equal(g.len, 10 * 1024 * 1024);

    /* A declared 2 GB body is refused at the cap; the server streams it and never holds it. */
    o.max_body = 1 << 20;
    get(&o, "/huge", NULL, &g);
    assert_int_equal(g.error, NW_HTTPC_TOO_LARGE);
    assert_string_equal(nw_httpc_reason(g.error), "too-large");
    /* Without a Content-Length only the bytes count: cut once the cap is passed. */
    get(&o, "/endless", NULL, &g);
    assert_int_equal(g.error, NW_HTTPC_TOO_LARGE);
    assert_int_equal(g.len, 0);
}

static void
test_private_refused(void **state)
{
    (void)state;
    nw_httpc_opts_t o = {.timeout_ms = 5000}; /* allow_private off: the default */
    struct got g;
    get(&o, "/articles/1.html", NULL, &g);
    assert_int_equal(g.error, NW_HTTPC_FORBIDDEN_ADDRESS);
    assert_int_equal(g.status, 0);

    /* By name too: the check is on the address connected to, after resolution. */
    uv_loop_t loop;
    char u[128];
    assert_int_equal(uv_loop_init(&loop), 0);
    nw_httpc_t *c = nw_httpc_new(&loop, &o);
    snprintf(u, sizeof u, "http://localhost:%d/articles/1.html", server_port);
    nw_httpc_req_t req = {.url = u};
    memset(&g, 0, sizeof g);
    assert_int_equal(nw_httpc_get(c, &req, on_resp, &g), 0);
    while (g.done == 0)
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(g.error, NW_HTTPC_FORBIDDEN_ADDRESS);
    /* Other schemes never go out. */
    req.url = "file:///etc/passwd";
    memset(&g, 0, sizeof g);
    assert_int_equal(nw_httpc_get(c, &req, on_resp, &g), 0);
    while (g.done == 0)
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(g.error, NW_HTTPC_BAD_URL);
    nw_httpc_close(c, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static int
forbidden(const char *addr)
{
    struct sockaddr_in in = {.sin_family = AF_INET};
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
    if (inet_pton(AF_INET, addr, &in.sin_addr) == 1)
        return nw_httpc_addr_forbidden(&in);
    if (inet_pton(AF_INET6, addr, &in6.sin6_addr) == 1)
        return nw_httpc_addr_forbidden(&in6);
    fail_msg("bad address %s", addr);
    return -1;
}

static void
test_address_classes(void **state)
{
    (void)state;
    const char *bad[] = {
        "127.0.0.1", "127.1.2.3", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1",
        "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "::", "::1",
        "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.1.2.3",
        "64:ff9b::a00:1", "2001:db8::1",
        /* issue 16.10: 6to4 (here 127.0.0.1 through a relay) and Teredo */
        "2002:7f00:1::1", "2002:808:808::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001::1"};
    const char *good[] = {"93.184.216.34",    "8.8.8.8",         "172.32.0.1",
                          "192.169.0.1",      "2606:4700::1111", "::ffff:8.8.8.8",
                          "64:ff9b::808:808", "2001:4860::8888", "2003::1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (!forbidden(bad[i]))
            fail_msg("%s should be refused", bad[i]);
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        if (forbidden(good[i]))
            fail_msg("%s should be allowed", good[i]);
}

struct closer {
    nw_httpc_t *c;
    struct got g[3];
    int closed;
};

static void
on_closed(void *arg)
{
    ((struct closer *)arg)->closed++;
}

static void
close_in_cb(const nw_httpc_resp_t *r, void *arg)
{
    struct closer *k = arg;
    on_resp(r, &k->g[0]);
    nw_httpc_close(k->c, on_closed, k);
    nw_httpc_req_t req = {.url = "http://127.0.0.1:1/"};
    assert_int_equal(nw_httpc_get(k->c, &req, on_resp, &k->g[2]), -ECANCELED);
}

static void
test_close_pending(void **state)
{
    (void)state;
    uv_loop_t loop;
    char fast[128], slow[128];
    url(fast, sizeof fast, "/articles/1.html");
    url(slow, sizeof slow, "/slow");
    struct closer k = {0};
    assert_int_equal(uv_loop_init(&loop), 0);
    k.c = nw_httpc_new(&loop, &local);
    /* The fast answer closes the client from its callback; the slow one is cancelled. */
    nw_httpc_req_t a = {.url = fast}, b = {.url = slow};
    assert_int_equal(nw_httpc_get(k.c, &b, on_resp, &k.g[1]), 0);
    assert_int_equal(nw_httpc_get(k.c, &a, close_in_cb, &k), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(k.g[0].done, 1);
    assert_int_equal(k.g[0].status, 200);
    assert_int_equal(k.g[1].done, 1);
    assert_int_equal(k.g[1].error, NW_HTTPC_CANCELLED);
    assert_int_equal(k.g[2].done, 0);
    assert_int_equal(k.closed, 1);
    assert_int_equal(uv_loop_close(&loop), 0);

    /* Closing an idle client, and NULL. */
    assert_int_equal(uv_loop_init(&loop), 0);
    nw_httpc_t *c = nw_httpc_new(&loop, NULL);
    assert_non_null(c);
    nw_httpc_close(c, NULL, NULL);
    nw_httpc_close(NULL, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_address_classes), cmocka_unit_test(test_conditional_get),
        cmocka_unit_test(test_timeout),         cmocka_unit_test(test_redirects),
        cmocka_unit_test(test_body_caps),       cmocka_unit_test(test_private_refused),
        cmocka_unit_test(test_close_pending),
    };
    if (system("python3 -c 'import http.server' >/dev/null 2>&1") != 0)
        return 77;
    return cmocka_run_group_tests(tests, start_server, stop_server);
}
