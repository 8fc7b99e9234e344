/* test_webroot.c: the web page's static files over a real loopback HTTP server (webroot.h).
 * A temporary directory holds a page, a script, a hidden file and a symlink out of it; a
 * client thread asks for each with libcurl, including paths that try to climb out (sent as
 * they are: curl would otherwise squash "/../" itself). Also: the catch-all route does not
 * shadow an exact route added before or after it. */
#include "newswire/webroot.h"
#include "newswire/buf.h"

#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#define NREQ 16
#define SECRET "secret-outside-the-root"

struct fx {
    uv_loop_t loop;
    nw_http_t *h;
    nw_webroot_t *w;
    int port, closed;
    uv_async_t done;
    pthread_t th;
    char tmp[64], root[128], outside[160];
    /* written by the client thread, read after join */
    long status[NREQ];
    nw_buf_t body[NREQ], headers[NREQ];
};

static const char *paths[NREQ] = {
    "/",                             /* 0: index.html */
    "/app.js",                       /* 1 */
    "/vendor/d3.min.js",             /* 2: a subdirectory */
    "/../outside.txt",               /* 3: climbs out */
    "/%2e%2e/outside.txt",           /* 4: climbs out, escaped */
    "/vendor/../../outside.txt",     /* 5 */
    "/.hidden",                      /* 6: a dotfile */
    "/link.txt",                     /* 7: a symlink out of the root */
    "/missing.html",                 /* 8 */
    "/vendor",                       /* 9: a directory */
    "/exact",                        /* 10: routed exactly, added before the files */
    "/late",                         /* 11: routed exactly, added after the files */
    "//etc/passwd",                  /* 12 */
    "/vendor/..%2f..%2foutside.txt", /* 13 */
    "/app.js%00.html",               /* 14 */
    "/index.html",                   /* 15 */
};

static size_t
on_write(char *p, size_t size, size_t n, void *arg)
{
    nw_buf_append(arg, p, size * n);
    return size * n;
}

static void *
client_main(void *arg)
{
    struct fx *f = arg;
    for (int i = 0; i < NREQ; i++) {
        char url[256];
        snprintf(url, sizeof url, "http://127.0.0.1:%d%s", f->port, paths[i]);
        CURL *c = curl_easy_init();
        if (c == NULL)
            abort();
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &f->body[i]);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_write);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &f->headers[i]);
        f->status[i] = -1;
        if (curl_easy_perform(c) == CURLE_OK)
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &f->status[i]);
        curl_easy_cleanup(c);
        nw_buf_append(&f->body[i], "", 1); /* NUL-terminate for strstr */
    }
    uv_async_send(&f->done);
    return NULL;
}

static void
on_closed(void *arg)
{
    struct fx *f = arg;
    f->closed = 1;
}

static void
on_done(uv_async_t *a)
{
    struct fx *f = a->data;
    uv_close((uv_handle_t *)a, NULL);
    nw_http_close(f->h, on_closed, f);
}

static void
h_text(nw_http_req_t *req, void *arg)
{
    nw_http_respond(req, 200, "text/plain", arg, strlen(arg), NULL);
}

static void
put(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fputs(text, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
}

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->tmp, sizeof f->tmp, "/tmp/nw_webroot_XXXXXX");
    assert_non_null(mkdtemp(f->tmp));
    snprintf(f->root, sizeof f->root, "%s/web", f->tmp);
    char vendor[160];
    snprintf(vendor, sizeof vendor, "%s/vendor", f->root);
    assert_int_equal(mkdir(f->root, 0755), 0);
    assert_int_equal(mkdir(vendor, 0755), 0);
    put(f->tmp, "outside.txt", SECRET);
    put(f->root, "index.html", "<!doctype html><title>page</title>");
    put(f->root, "app.js", "export const x = 1;");
    put(f->root, ".hidden", SECRET);
    put(vendor, "d3.min.js", "var d3 = {};");
    snprintf(f->outside, sizeof f->outside, "%s/outside.txt", f->tmp);
    char link[160];
    snprintf(link, sizeof link, "%s/link.txt", f->root);
    assert_int_equal(symlink(f->outside, link), 0);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    for (int i = 0; i < NREQ; i++) {
        nw_buf_release(&f->body[i]);
        nw_buf_release(&f->headers[i]);
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->tmp);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void
test_serve(void **state)
{
    struct fx *f = *state;
    assert_int_equal(uv_loop_init(&f->loop), 0);
    f->h = nw_http_new(&f->loop, "127.0.0.1:0", 1024);
    assert_non_null(f->h);
    f->port = nw_http_port(f->h);
    f->w = nw_webroot_new(f->root);
    assert_non_null(f->w);
    assert_int_equal(nw_http_route(f->h, "GET", "/exact", h_text, "exact"), 0);
    assert_int_equal(nw_webroot_route(f->w, f->h), 0);
    assert_int_equal(nw_http_route(f->h, "GET", "/late", h_text, "late"), 0);
    assert_int_equal(uv_async_init(&f->loop, &f->done, on_done), 0);
    f->done.data = f;
    assert_int_equal(pthread_create(&f->th, NULL, client_main, f), 0);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(pthread_join(f->th, NULL), 0);
    assert_true(f->closed);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    nw_webroot_destroy(&f->w);
    assert_null(f->w);

    assert_int_equal(f->status[0], 200);
    assert_non_null(strstr((char *)f->body[0].data, "<title>page</title>"));
    assert_non_null(strstr((char *)f->headers[0].data, "Content-Type: text/html; charset=utf-8"));
    assert_non_null(strstr((char *)f->headers[0].data, "X-Content-Type-Options: nosniff"));
    assert_int_equal(f->status[1], 200);
    assert_non_null(strstr((char *)f->headers[1].data, "Content-Type: text/javascript"));
    assert_int_equal(f->status[2], 200);
    assert_string_equal((char *)f->body[2].data, "var d3 = {};");
    for (int i = 3; i <= 9; i++) {
        assert_int_equal(f->status[i], 404);
        assert_null(strstr((char *)f->body[i].data, SECRET));
    }
    assert_int_equal(f->status[10], 200);
    assert_string_equal((char *)f->body[10].data, "exact");
    assert_int_equal(f->status[11], 200);
    assert_string_equal((char *)f->body[11].data, "late");
    for (int i = 12; i <= 14; i++) {
        /* MHD cuts the path at a decoded %00: 14 may serve app.js, which lies inside */
        if (i < 14)
            assert_int_equal(f->status[i], 404);
        assert_null(strstr((char *)f->body[i].data, SECRET));
        assert_null(strstr((char *)f->body[i].data, "root:"));
    }
    assert_int_equal(f->status[15], 200);
}

static void
test_resolve(void **state)
{
    struct fx *f = *state;
    nw_webroot_t *w = nw_webroot_new(f->root);
    assert_non_null(w);
    char out[PATH_MAX];
    assert_int_equal(nw_webroot_resolve(w, "/app.js", out, sizeof out), 0);
    assert_non_null(strstr(out, "/web/app.js"));
    assert_int_equal(nw_webroot_resolve(w, "/../outside.txt", out, sizeof out), -EACCES);
    assert_int_equal(nw_webroot_resolve(w, "/vendor/./d3.min.js", out, sizeof out), -EACCES);
    assert_int_equal(nw_webroot_resolve(w, "/link.txt", out, sizeof out), -EACCES);
    assert_int_equal(nw_webroot_resolve(w, "/a\\..\\b", out, sizeof out), -EACCES);
    assert_int_equal(nw_webroot_resolve(w, "relative", out, sizeof out), -EACCES);
    assert_int_equal(nw_webroot_resolve(w, "/vendor/", out, sizeof out), -ENOENT);
    assert_int_equal(nw_webroot_resolve(w, "/nope.js", out, sizeof out), -ENOENT);
    assert_int_equal(nw_webroot_resolve(w, "/app.js", out, 4), -ENAMETOOLONG);
    nw_webroot_destroy(&w);
    nw_webroot_destroy(&w);                  /* safe twice */
    assert_null(nw_webroot_new(f->outside)); /* a file is not a root */
    assert_null(nw_webroot_new("/nonexistent/dir"));

    assert_string_equal(nw_webroot_content_type("a/b.CSS"), "text/css; charset=utf-8");
    assert_string_equal(nw_webroot_content_type("x.json"), "application/json");
    assert_string_equal(nw_webroot_content_type("x.svg"), "image/svg+xml");
    assert_string_equal(nw_webroot_content_type("dir.v2/noext"), "application/octet-stream");
}

int
main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_serve, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolve, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
