/* test_http.c: the uv-driven HTTP server over real loopback sockets. The server runs on a uv
 * loop in the main thread; a client thread makes the requests with libcurl and wakes the loop
 * through a uv_async when it is done, which closes the server so the loop can end. */
#include "newswire/http.h"
#include "newswire/buf.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define MAX_BODY 1024
#define NCONC 64

struct fx;
typedef void (*client_fn)(struct fx *f);

struct later {
    uv_timer_t t;
    nw_http_req_t *req;
    char id[32];
};

struct fx {
    uv_loop_t loop;
    nw_http_t *h;
    int port;
    uv_async_t done;
    pthread_t th;
    client_fn client;
    int closed;
    int close_requested; /* nw_http_close called (once only: it asserts on a second call) */
    /* Written by the loop thread, read after the client thread is joined. */
    int handler_calls;
    int later_answered;
    int refused;             /* nw_http_on_refused calls */
    size_t refused_bytes[4]; /* the sample each one carried */
    /* Written by the client thread, read after join. */
    long status[NCONC];
    nw_buf_t body[NCONC];
    nw_buf_t headers[NCONC];
};

/* ---- client side (runs in the client thread) ---- */

static size_t
on_write(char *p, size_t size, size_t n, void *arg)
{
    nw_buf_append(arg, p, size * n);
    return size * n;
}

struct upload {
    size_t left;
    size_t piece;
};

static size_t
on_read(char *p, size_t size, size_t n, void *arg)
{
    struct upload *u = arg;
    size_t k = size * n;
    if (k > u->piece)
        k = u->piece;
    if (k > u->left)
        k = u->left;
    memset(p, 'c', k);
    u->left -= k;
    return k;
}

static CURL *
easy(struct fx *f, int i, const char *method, const char *path, const char *body, size_t len,
     struct curl_slist *hdrs)
{
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", f->port, path);
    CURL *c = curl_easy_init();
    if (c == NULL) /* cmocka asserts are not for this thread */
        abort();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L); /* a hang fails the test instead of blocking */
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &f->body[i]);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &f->headers[i]);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    else if (strcmp(method, "POST") == 0 && body == NULL)
        curl_easy_setopt(c, CURLOPT_POST, 1L);
    if (hdrs)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    return c;
}

/* One blocking request; the status lands in f->status[i], the body in f->body[i]. */
static void
request(struct fx *f, int i, const char *method, const char *path, const char *body, size_t len,
        struct curl_slist *hdrs)
{
    CURL *c = easy(f, i, method, path, body, len, hdrs);
    CURLcode rc = curl_easy_perform(c);
    f->status[i] = -1;
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &f->status[i]);
    else
        fprintf(stderr, "curl: %s\n", curl_easy_strerror(rc));
    curl_easy_cleanup(c);
}

static void *
client_main(void *arg)
{
    struct fx *f = arg;
    f->client(f);
    uv_async_send(&f->done);
    return NULL;
}

/* ---- server side (runs on the loop) ---- */

static void
on_closed(void *arg)
{
    struct fx *f = arg;
    f->closed = 1;
    f->h = NULL;
}

static void
on_done(uv_async_t *a)
{
    struct fx *f = a->data;
    uv_close((uv_handle_t *)a, NULL);
    /* A handler may have closed the server already and its close may still be under way. */
    if (f->h && !f->close_requested) {
        f->close_requested = 1;
        nw_http_close(f->h, on_closed, f);
    }
}

static void
h_hello(nw_http_req_t *req, void *arg)
{
    struct fx *f = arg;
    f->handler_calls++;
    nw_http_respond(req, 200, "text/plain", "hello", 5,
                    "X-Test: yes\r\nCache-Control: no-store\r\n");
}

static void
h_echo(nw_http_req_t *req, void *arg)
{
    struct fx *f = arg;
    f->handler_calls++;
    /* The body is whole and NUL-terminated. */
    assert_int_equal(req->body[req->body_len], 0);
    nw_http_respond(req, 200, req->content_type, req->body, req->body_len, NULL);
}

static void
h_query(nw_http_req_t *req, void *arg)
{
    struct fx *f = arg;
    f->handler_calls++;
    const char *name = nw_http_query(req, "name");
    const char *tok = nw_http_header(req, "x-token"); /* header names are case-insensitive */
    const char *missing = nw_http_query(req, "missing");
    const char *nohdr = nw_http_header(req, "X-Absent");
    char out[256];
    int n =
        snprintf(out, sizeof out, "name=%s token=%s missing=%s nohdr=%s", name ? name : "(null)",
                 tok ? tok : "(null)", missing ? missing : "(null)", nohdr ? nohdr : "(null)");
    nw_http_respond(req, 200, "text/plain", out, (size_t)n, NULL);
}

static void
on_later_closed(uv_handle_t *h)
{
    free(h->data);
}

static void
on_later(uv_timer_t *t)
{
    struct later *l = t->data;
    struct fx *f = t->loop->data;
    f->later_answered++;
    nw_http_respond(l->req, 202, "text/plain", l->id, strlen(l->id), NULL);
    uv_close((uv_handle_t *)t, on_later_closed);
}

/* Answers 50 ms later from a timer callback, not from inside the handler. */
static void
h_later(nw_http_req_t *req, void *arg)
{
    struct fx *f = arg;
    f->handler_calls++;
    struct later *l = calloc(1, sizeof *l);
    assert_non_null(l);
    l->req = req;
    const char *id = nw_http_query(req, "id");
    snprintf(l->id, sizeof l->id, "%s", id ? id : "none");
    uv_timer_init(&f->loop, &l->t);
    l->t.data = l;
    uv_timer_start(&l->t, on_later, 50, 0);
}

/* Never answers; closes the server while holding the request. */
static void
h_hang(nw_http_req_t *req, void *arg)
{
    struct fx *f = arg;
    (void)req;
    f->handler_calls++;
    f->close_requested = 1;
    nw_http_close(f->h, on_closed, f);
}

static void
on_refused(const char *method, const char *path, const char *content_type, const uint8_t *head,
           size_t len, void *arg)
{
    struct fx *f = arg;
    (void)content_type;
    assert_string_equal(method, "POST");
    assert_string_equal(path, "/echo");
    assert_true(len <= NW_HTTP_REFUSED_SAMPLE);
    for (size_t i = 0; i < len; i++)
        assert_true(head[i] != 0); /* the sample is body bytes, not garbage */
    if (f->refused < 4)
        f->refused_bytes[f->refused] = len;
    f->refused++;
}

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    f->loop.data = f;
    f->h = nw_http_new(&f->loop, "127.0.0.1:0", MAX_BODY);
    assert_non_null(f->h);
    f->port = nw_http_port(f->h);
    assert_true(f->port > 0);
    nw_http_on_refused(f->h, on_refused, f);
    assert_int_equal(nw_http_route(f->h, "GET", "/hello", h_hello, f), 0);
    assert_int_equal(nw_http_route(f->h, "POST", "/echo", h_echo, f), 0);
    assert_int_equal(nw_http_route(f->h, "PUT", "/echo", h_echo, f), 0);
    assert_int_equal(nw_http_route(f->h, "GET", "/q", h_query, f), 0);
    assert_int_equal(nw_http_route(f->h, "GET", "/later", h_later, f), 0);
    assert_int_equal(nw_http_route(f->h, "GET", "/hang", h_hang, f), 0);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    for (int i = 0; i < NCONC; i++) {
        nw_buf_release(&f->body[i]);
        nw_buf_release(&f->headers[i]);
    }
    free(f);
    return 0;
}

/* Run the client in its thread while the loop serves; the loop ends once the server closed. */
static void
run(struct fx *f, client_fn client)
{
    f->client = client;
    assert_int_equal(uv_async_init(&f->loop, &f->done, on_done), 0);
    f->done.data = f;
    assert_int_equal(pthread_create(&f->th, NULL, client_main, f), 0);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(pthread_join(f->th, NULL), 0);
    assert_true(f->closed);
    assert_int_equal(uv_loop_close(&f->loop), 0);
}

static void
assert_json_error(const nw_buf_t *b, const char *code)
{
    json_error_t err;
    json_t *j = json_loadb((const char *)b->data, b->len, 0, &err);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "error")), code);
    assert_true(json_is_string(json_object_get(j, "message")));
    json_decref(j);
}

/* ---- tests ---- */

static void
client_routing(struct fx *f)
{
    request(f, 0, "GET", "/hello", NULL, 0, NULL);
    request(f, 1, "POST", "/echo", "abc", 3, NULL);
    request(f, 2, "GET", "/nope", NULL, 0, NULL);
    request(f, 3, "GET", "/echo", NULL, 0, NULL);
    request(f, 4, "DELETE", "/hello", NULL, 0, NULL);
    request(f, 5, "PUT", "/echo", "put-body", 8, NULL);
    request(f, 6, "POST", "/echo", NULL, 0, NULL); /* empty body still reaches the handler */
}

static void
test_routing(void **state)
{
    struct fx *f = *state;
    run(f, client_routing);
    assert_int_equal(f->status[0], 200);
    assert_string_equal((char *)f->body[0].data, "hello");
    assert_non_null(strstr((char *)f->headers[0].data, "X-Test: yes\r\n"));
    assert_non_null(strstr((char *)f->headers[0].data, "Cache-Control: no-store\r\n"));
    assert_non_null(strstr((char *)f->headers[0].data, "Content-Type: text/plain\r\n"));
    assert_int_equal(f->status[1], 200);
    assert_string_equal((char *)f->body[1].data, "abc");
    assert_int_equal(f->status[2], 404);
    assert_json_error(&f->body[2], "not-found");
    assert_non_null(strstr((char *)f->headers[2].data, "Content-Type: application/json"));
    assert_int_equal(f->status[3], 405);
    assert_json_error(&f->body[3], "method-not-allowed");
    assert_int_equal(f->status[4], 405);
    assert_int_equal(f->status[5], 200);
    assert_string_equal((char *)f->body[5].data, "put-body");
    assert_int_equal(f->status[6], 200);
    assert_int_equal(f->body[6].len, 0);
    assert_int_equal(f->handler_calls, 4); /* hello, echo x3: errors never reach handlers */
}

static void
client_limits(struct fx *f)
{
    static char big[MAX_BODY + 1];
    memset(big, 'x', sizeof big);
    request(f, 0, "POST", "/echo", big, MAX_BODY, NULL);     /* exactly the limit: accepted */
    request(f, 1, "POST", "/echo", big, MAX_BODY + 1, NULL); /* one byte over: refused */

    /* Chunked: no Content-Length, so the limit is found while reading. */
    struct upload u = {.left = 3 * MAX_BODY, .piece = 300};
    struct curl_slist *hdrs = curl_slist_append(NULL, "Transfer-Encoding: chunked");
    CURL *c = easy(f, 2, "POST", "/echo", NULL, 0, hdrs);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &u);
    f->status[2] = -1;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &f->status[2]);
    curl_easy_cleanup(c);

    /* A chunked body under the limit is accepted whole. */
    struct upload small = {.left = MAX_BODY, .piece = 100};
    c = easy(f, 3, "POST", "/echo", NULL, 0, hdrs);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &small);
    f->status[3] = -1;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &f->status[3]);
    curl_easy_cleanup(c);
    curl_slist_free_all(hdrs);
}

static void
test_body_limit(void **state)
{
    struct fx *f = *state;
    run(f, client_limits);
    assert_int_equal(f->status[0], 200);
    assert_int_equal(f->body[0].len, MAX_BODY);
    assert_int_equal(f->status[1], 413);
    assert_json_error(&f->body[1], "body-too-large");
    assert_int_equal(f->status[2], 413);
    assert_json_error(&f->body[2], "body-too-large");
    assert_int_equal(f->status[3], 200);
    assert_int_equal(f->body[3].len, MAX_BODY);
    assert_int_equal(f->handler_calls, 2); /* the two accepted bodies only */
    /* Both refusals were reported; the chunked one carries the bytes read before the limit. */
    assert_int_equal(f->refused, 2);
    assert_true(f->refused_bytes[1] > 0);
}

/* An endless body source, counting what curl managed to send. */
static size_t
on_read_endless(char *p, size_t size, size_t n, void *arg)
{
    size_t *sent = arg;
    memset(p, 'z', size * n);
    *sent += size * n;
    return size * n;
}

static size_t huge_sent;

/* A declared 2 GiB upload is refused from its headers: with "Expect: 100-continue" the client
 * never gets to send the body at all. */
static void
client_huge(struct fx *f)
{
    struct curl_slist *hdrs = curl_slist_append(NULL, "Expect: 100-continue");
    CURL *c = easy(f, 0, "POST", "/echo", NULL, 0, hdrs);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)2 << 30);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read_endless);
    curl_easy_setopt(c, CURLOPT_READDATA, &huge_sent);
    f->status[0] = -1;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &f->status[0]);
    curl_easy_cleanup(c);
    curl_slist_free_all(hdrs);
    request(f, 1, "GET", "/hello", NULL, 0, NULL); /* and the server is fine */
}

static void
test_huge_declared_body(void **state)
{
    struct fx *f = *state;
    huge_sent = 0;
    run(f, client_huge);
    assert_int_equal(f->status[0], 413);
    assert_json_error(&f->body[0], "body-too-large");
    assert_true(huge_sent < (1u << 20)); /* nowhere near 2 GiB went over the wire */
    assert_int_equal(f->status[1], 200);
    assert_int_equal(f->handler_calls, 1); /* only /hello */
    assert_int_equal(f->refused, 1);
    assert_int_equal(f->refused_bytes[0], 0); /* refused from its headers: no bytes read */
}

static void
client_async(struct fx *f)
{
    request(f, 0, "GET", "/later?id=first", NULL, 0, NULL);
    request(f, 1, "GET", "/hello", NULL, 0, NULL); /* the server still serves afterwards */
}

static void
test_async_respond(void **state)
{
    struct fx *f = *state;
    run(f, client_async);
    assert_int_equal(f->status[0], 202);
    assert_string_equal((char *)f->body[0].data, "first");
    assert_int_equal(f->later_answered, 1);
    assert_int_equal(f->status[1], 200);
}

static void
client_query(struct fx *f)
{
    struct curl_slist *hdrs = curl_slist_append(NULL, "X-Token: t0k");
    request(f, 0, "GET", "/q?name=a%20b&x=1", NULL, 0, hdrs);
    curl_slist_free_all(hdrs);
}

static void
test_query_and_header(void **state)
{
    struct fx *f = *state;
    run(f, client_query);
    assert_int_equal(f->status[0], 200);
    assert_string_equal((char *)f->body[0].data, "name=a b token=t0k missing=(null) nohdr=(null)");
}

/* NCONC requests at once over curl multi: half answered later from timers, half at once. */
static void
client_concurrent(struct fx *f)
{
    CURLM *m = curl_multi_init();
    CURL *e[NCONC];
    for (int i = 0; i < NCONC; i++) {
        char path[64];
        if (i % 2)
            snprintf(path, sizeof path, "/later?id=%d", i);
        else
            snprintf(path, sizeof path, "/hello");
        e[i] = easy(f, i, "GET", path, NULL, 0, NULL);
        curl_multi_add_handle(m, e[i]);
    }
    int running = 1;
    while (running) {
        curl_multi_perform(m, &running);
        if (running)
            curl_multi_poll(m, NULL, 0, 1000, NULL);
    }
    for (int i = 0; i < NCONC; i++) {
        f->status[i] = -1;
        curl_easy_getinfo(e[i], CURLINFO_RESPONSE_CODE, &f->status[i]);
        curl_multi_remove_handle(m, e[i]);
        curl_easy_cleanup(e[i]);
    }
    curl_multi_cleanup(m);
}

static void
test_concurrent(void **state)
{
    struct fx *f = *state;
    run(f, client_concurrent);
    for (int i = 0; i < NCONC; i++) {
        if (i % 2) {
            char want[32];
            snprintf(want, sizeof want, "%d", i);
            assert_int_equal(f->status[i], 202);
            assert_string_equal((char *)f->body[i].data, want);
        } else {
            assert_int_equal(f->status[i], 200);
            assert_string_equal((char *)f->body[i].data, "hello");
        }
    }
    assert_int_equal(f->later_answered, NCONC / 2);
    assert_int_equal(f->handler_calls, NCONC);
}

static void
client_hang(struct fx *f)
{
    request(f, 0, "GET", "/hang", NULL, 0, NULL);
}

static void
test_close_with_pending(void **state)
{
    struct fx *f = *state;
    run(f, client_hang);
    /* The handler closed the server while holding the request: it was answered 503. */
    assert_int_equal(f->handler_calls, 1);
    assert_int_equal(f->status[0], 503);
    assert_json_error(&f->body[0], "shutting-down");
    assert_non_null(strstr((char *)f->headers[0].data, "Connection: close"));
}

static void
test_bad_listen(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_null(nw_http_new(&loop, "no-port", 100));
    assert_null(nw_http_new(&loop, "127.0.0.1:notaport", 100));
    assert_null(nw_http_new(&loop, "127.0.0.1:70000", 100));
    /* A port already in use is refused. */
    nw_http_t *a = nw_http_new(&loop, "127.0.0.1:0", 100);
    assert_non_null(a);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", nw_http_port(a));
    assert_null(nw_http_new(&loop, addr, 100));
    nw_http_close(a, NULL, NULL);
    nw_http_close(NULL, NULL, NULL);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int
main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_routing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_declared_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_async_respond, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_and_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_with_pending, setup, teardown),
        cmocka_unit_test(test_bad_listen),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
