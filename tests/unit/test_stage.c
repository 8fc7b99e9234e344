/* test_stage.c: endpoint derivation, and the worker protocol of stage.h checked against a
 * scripted broker (a real ROUTER and PULL on inproc, on a real loop): HELLO on start, JOB ->
 * callback, READY batched at half the window, credit withheld while emitted output is held
 * back by a full queue, HB adoption, and HELLO again after the broker goes silent. */
#include "newswire/stage.h"
#include "newswire/zsock.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void
expect_ep(const char *base, nw_ep_t which, const char *want)
{
    char out[NW_EP_MAX];
    assert_int_equal(nw_ep_derive(base, which, out, sizeof out), 0);
    assert_string_equal(out, want);
}

static void
expect_bad(const char *base, nw_ep_t which)
{
    char out[NW_EP_MAX];
    assert_int_equal(nw_ep_derive(base, which, out, sizeof out), -EINVAL);
}

static void
test_ep_derive(void **state)
{
    (void)state;
    expect_ep("tcp://127.0.0.1:5550", NW_EP_RAW_IN, "tcp://127.0.0.1:5550");
    expect_ep("tcp://127.0.0.1:5550", NW_EP_RAW_OUT, "tcp://127.0.0.1:5551");
    expect_ep("tcp://127.0.0.1:5550", NW_EP_PUB_OUT, "tcp://127.0.0.1:5557");
    expect_ep("tcp://*:6000", NW_EP_ENRICHED_OUT, "tcp://*:6005");
    expect_ep("tcp://broker.internal:5550", NW_EP_ARTICLE_IN, "tcp://broker.internal:5552");
    expect_ep("tcp://[::1]:5550", NW_EP_ARTICLE_OUT, "tcp://[::1]:5553");
    expect_ep("tcp://h:65528", NW_EP_PUB_OUT, "tcp://h:65535");
    expect_ep("ipc:///run/nw/broker", NW_EP_RAW_IN, "ipc:///run/nw/broker-raw.in");
    expect_ep("ipc:///run/nw/broker", NW_EP_ENRICHED_OUT, "ipc:///run/nw/broker-enriched.out");
    expect_ep("inproc://b", NW_EP_PUB_IN, "inproc://b-pub.in");

    expect_bad(NULL, NW_EP_RAW_IN);
    expect_bad("", NW_EP_RAW_IN);
    expect_bad("tcp://", NW_EP_RAW_IN);
    expect_bad("tcp://host", NW_EP_RAW_IN);
    expect_bad("tcp://host:", NW_EP_RAW_IN);
    expect_bad("tcp://:5550", NW_EP_RAW_IN);
    expect_bad("tcp://host:abc", NW_EP_RAW_IN);
    expect_bad("tcp://host:55x0", NW_EP_RAW_IN);
    expect_bad("tcp://host:0", NW_EP_RAW_IN);
    expect_bad("tcp://host:-1", NW_EP_RAW_IN);
    expect_bad("tcp://host:123456", NW_EP_RAW_IN);
    expect_bad("tcp://host:65529", NW_EP_PUB_OUT); /* 65536: overflow */
    expect_bad("tcp://::1:5550", NW_EP_RAW_IN);    /* IPv6 needs brackets */
    expect_bad("tcp://[::1:5550", NW_EP_RAW_IN);
    expect_bad("tcp://host/x:5550", NW_EP_RAW_IN);
    expect_bad("udp://host:5550", NW_EP_RAW_IN);
    expect_bad("ipc://", NW_EP_RAW_IN);
    expect_bad("inproc://", NW_EP_RAW_IN);
    expect_bad("inproc://b", NW_EP_HA + 1);
    expect_bad("inproc://b", (nw_ep_t)-1);
    /* a broker pair's state endpoint: base + 8 */
    expect_ep("tcp://127.0.0.1:5550", NW_EP_HA, "tcp://127.0.0.1:5558");
    expect_ep("inproc://b", NW_EP_HA, "inproc://b-ha");
    expect_bad("tcp://h:65528", NW_EP_HA);

    char small[12];
    assert_int_equal(nw_ep_derive("inproc://b", NW_EP_RAW_IN, small, sizeof small), -EINVAL);
    assert_int_equal(nw_ep_derive("inproc://b", NW_EP_RAW_IN, small, 0), -EINVAL);
}

/* A broker given the name its clients connect to binds the address the name resolves to;
 * what ZeroMQ binds as it is stays as it is. */
static void
test_ep_bindable(void **state)
{
    (void)state;
    char out[NW_EP_MAX], err[256] = "";
    assert_int_equal(nw_ep_bindable("tcp://localhost:5550", out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "tcp://127.0.0.1:5550");
    const char *kept[] = {"tcp://*:5550",     "tcp://127.0.0.1:5550", "tcp://lo:5550",
                          "tcp://[::1]:5550", "ipc:///run/nw/broker", "inproc://b"};
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        assert_int_equal(nw_ep_bindable(kept[i], out, sizeof out, err, sizeof err), 0);
        assert_string_equal(out, kept[i]);
    }
    assert_int_equal(nw_ep_bindable("tcp://localhost:5550", out, 8, err, sizeof err), -EINVAL);
}

/* --broker PRIMARY,BACKUP: one entry is a plain endpoint, as before */
static void
test_ep_list(void **state)
{
    (void)state;
    char out[NW_EP_MAX];
    assert_int_equal(nw_ep_list_count(NULL), 0);
    assert_int_equal(nw_ep_list_count(""), 0);
    assert_int_equal(nw_ep_list_count("tcp://a:5550"), 1);
    assert_int_equal(nw_ep_list_count("tcp://a:5550,tcp://b:5560"), 2);
    assert_int_equal(nw_ep_list_entry("tcp://a:5550", 0, out, sizeof out), 0);
    assert_string_equal(out, "tcp://a:5550");
    assert_int_equal(nw_ep_list_entry("tcp://a:5550,tcp://b:5560", 1, out, sizeof out), 0);
    assert_string_equal(out, "tcp://b:5560");
    assert_int_equal(nw_ep_list_entry("tcp://a:5550,tcp://b:5560", 2, out, sizeof out), -EINVAL);
    assert_int_equal(nw_ep_list_entry("tcp://a:5550,,x", 1, out, sizeof out), -EINVAL);
    assert_int_equal(nw_ep_list_entry("tcp://a:5550", 0, out, 5), -EINVAL);

    assert_int_equal(nw_ep_list_check("tcp://a:5550", NW_EP_PUB_OUT), 0);
    assert_int_equal(nw_ep_list_check("tcp://a:5550,ipc:///run/b", NW_EP_HA), 0);
    assert_int_equal(nw_ep_list_check("tcp://a:5550,", NW_EP_PUB_OUT), -EINVAL);
    assert_int_equal(nw_ep_list_check(",tcp://a:5550", NW_EP_PUB_OUT), -EINVAL);
    assert_int_equal(nw_ep_list_check("tcp://a:5550,bogus", NW_EP_PUB_OUT), -EINVAL);
    assert_int_equal(nw_ep_list_check("tcp://a:65528,tcp://b:5550", NW_EP_HA), -EINVAL);
    assert_int_equal(
        nw_ep_list_check("inproc://a,inproc://b,inproc://c,inproc://d,inproc://e", NW_EP_PUB_OUT),
        -EINVAL); /* more than NW_EP_MAX_BROKERS */
    assert_int_equal(nw_ep_list_check(NULL, NW_EP_PUB_OUT), -EINVAL);
}

static void
test_ep_names_and_types(void **state)
{
    (void)state;
    assert_string_equal(nw_ep_name(NW_EP_RAW_IN), "raw.in");
    assert_string_equal(nw_ep_name(NW_EP_ENRICHED_OUT), "enriched.out");
    assert_string_equal(nw_ep_name(NW_EP_PUB_OUT), "pub.out");
    assert_int_equal(nw_ep_for_type("raw"), NW_EP_RAW_IN);
    assert_int_equal(nw_ep_for_type("article"), NW_EP_ARTICLE_IN);
    assert_int_equal(nw_ep_for_type("enriched"), NW_EP_ENRICHED_IN);
    assert_int_equal(nw_ep_for_type("dead"), NW_EP_ENRICHED_IN);
    assert_int_equal(nw_ep_for_type("ack"), -1);
    assert_int_equal(nw_ep_for_type(""), -1);
    assert_int_equal(nw_ep_for_type(NULL), -1);
}

/* ---- the worker against a scripted broker ------------------------------------------------ */

#define BIG_EMITS 1500 /* per big job: two of them overflow the PUSH + PULL pipe (~2000) */

enum phase { P_HELLO, P_FIRST_READY, P_HELD, P_SECOND_READY, P_SILENT, P_DONE };

typedef struct script {
    uv_loop_t loop;
    void *ctx;
    nw_zsock_t *router, *pull;
    nw_worker_t *w;
    uv_timer_t hb, check;
    uint8_t id[256];
    size_t idlen;
    enum phase phase;
    unsigned hellos, readies, ready_credit, hbs_while_silent, jobs, articles, article_bad;
    unsigned readies_while_held;
    size_t max_held;
    int closed;
} script_t;

static void
send_frames(script_t *s, const char *a, const char *b, const void *c, size_t clen)
{
    const void *bufs[4] = {s->id, a, b, c};
    size_t lens[4] = {s->idlen, strlen(a), b ? strlen(b) : 0, clen};
    assert_int_equal(nw_zsock_sendv(s->router, bufs, lens, c ? 4 : b ? 3 : 2), 0);
}

static void
on_job(nw_worker_t *w, const char *type, const uint8_t *data, size_t len, void *arg)
{
    script_t *s = arg;
    char text[32];
    s->jobs++;
    assert_string_equal(type, "raw");
    assert_true(nw_worker_inflight(w) <= 4);
    if (len == 3 && memcmp(data, "big", 3) == 0) {
        for (unsigned i = 0; i < BIG_EMITS; i++) {
            snprintf(text, sizeof text, "big-%u", i);
            assert_int_equal(nw_worker_emit(w, "article", text, strlen(text)), 0);
        }
        size_t held = nw_worker_held(w);
        if (held > s->max_held)
            s->max_held = held;
    } else {
        assert_int_equal(nw_worker_emit(w, "article", data, len), 0);
    }
    assert_int_equal(nw_worker_emit(w, "nonsense", "x", 1), -EINVAL);
    nw_worker_done(w);
}

static void
send_hb(uv_timer_t *t)
{
    script_t *s = t->data;
    if (s->idlen && s->phase < P_SILENT)
        send_frames(s, "HB", "50", NULL, 0);
}

static void
worker_closed(void *arg)
{
    script_t *s = arg;
    s->closed = 1;
    nw_zsock_close(s->router, NULL, NULL);
    nw_zsock_close(s->pull, NULL, NULL);
    uv_close((uv_handle_t *)&s->hb, NULL);
    uv_close((uv_handle_t *)&s->check, NULL);
}

/* While output is held, no credit may come back; once the worker is idle with output held,
 * let the queue drain. */
static void
check_held(uv_timer_t *t)
{
    script_t *s = t->data;
    if (s->phase != P_HELD)
        return;
    if (nw_worker_inflight(s->w) == 0 && nw_worker_held(s->w) > 0) {
        s->readies_while_held = s->readies;
        s->phase = P_SECOND_READY;
        nw_zsock_resume(s->pull);
    }
}

static int
frame_eq(zmq_msg_t *f, const char *s)
{
    return zmq_msg_size(f) == strlen(s) && memcmp(zmq_msg_data(f), s, strlen(s)) == 0;
}

static unsigned
frame_num(zmq_msg_t *f)
{
    char num[16] = {0};
    memcpy(num, zmq_msg_data(f), zmq_msg_size(f) < 15 ? zmq_msg_size(f) : 15);
    return (unsigned)strtoul(num, NULL, 10);
}

static void
on_router(nw_zsock_t *zs, zmq_msg_t *f, size_t n, void *arg)
{
    (void)zs;
    script_t *s = arg;
    assert_true(n >= 2);
    s->idlen = zmq_msg_size(&f[0]);
    memcpy(s->id, zmq_msg_data(&f[0]), s->idlen);
    if (frame_eq(&f[1], "BYE")) {
        assert_int_equal(s->phase, P_DONE);
        return;
    }
    if (frame_eq(&f[1], "HB")) {
        if (s->phase == P_SILENT)
            s->hbs_while_silent++;
        return;
    }
    if (frame_eq(&f[1], "HELLO")) {
        assert_int_equal(n, 3);
        assert_int_equal(frame_num(&f[2]), 4);
        s->hellos++;
        if (s->phase == P_HELLO) {
            s->phase = P_FIRST_READY;
            send_frames(s, "HB", "50", NULL, 0);
            send_frames(s, "JOB", "raw", "j0", 2);
            send_frames(s, "JOB", "raw", "j1", 2);
        } else if (s->phase == P_SILENT) {
            s->phase = P_DONE;
            nw_worker_close(s->w, worker_closed, s);
        }
        return;
    }
    assert_true(frame_eq(&f[1], "READY"));
    assert_int_equal(n, 3);
    s->readies++;
    s->ready_credit += frame_num(&f[2]);
    if (s->phase == P_FIRST_READY) {
        /* Two jobs done out of a window of four: the batch threshold is reached. */
        assert_int_equal(frame_num(&f[2]), 2);
        s->phase = P_HELD;
        nw_zsock_pause(s->pull);
        send_frames(s, "JOB", "raw", "big", 3);
        send_frames(s, "JOB", "raw", "big", 3);
    } else if (s->phase == P_SECOND_READY) {
        assert_int_equal(nw_worker_held(s->w), 0);
        s->phase = P_SILENT; /* stop heartbeats: the worker must say HELLO again */
    }
}

static void
on_article(nw_zsock_t *zs, zmq_msg_t *f, size_t n, void *arg)
{
    (void)zs;
    script_t *s = arg;
    char want[32];
    assert_int_equal(n, 2);
    assert_true(frame_eq(&f[0], "article"));
    /* Order: j0, j1, then big-0 .. big-1499 twice. */
    unsigned i = s->articles++;
    if (i < 2)
        snprintf(want, sizeof want, "j%u", i);
    else
        snprintf(want, sizeof want, "big-%u", (i - 2) % BIG_EMITS);
    if (!frame_eq(&f[1], want))
        s->article_bad++;
}

static void
test_worker_protocol(void **state)
{
    (void)state;
    script_t s = {0};
    assert_int_equal(uv_loop_init(&s.loop), 0);
    s.ctx = zmq_ctx_new();

    void *router = zmq_socket(s.ctx, ZMQ_ROUTER);
    assert_int_equal(zmq_bind(router, "inproc://fake-raw.out"), 0);
    void *pull = zmq_socket(s.ctx, ZMQ_PULL);
    assert_int_equal(zmq_bind(pull, "inproc://fake-article.in"), 0);
    s.router = nw_zsock_new(&s.loop, router, on_router, &s);
    s.pull = nw_zsock_new(&s.loop, pull, on_article, &s);
    uv_timer_init(&s.loop, &s.hb);
    s.hb.data = &s;
    uv_timer_start(&s.hb, send_hb, 50, 50);
    uv_timer_init(&s.loop, &s.check);
    s.check.data = &s;
    uv_timer_start(&s.check, check_held, 20, 20);
    s.w = nw_worker_new(&s.loop, s.ctx, "inproc://fake", NW_EP_RAW_OUT, 4, on_job, &s);
    assert_non_null(s.w);

    assert_int_equal(uv_run(&s.loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(s.phase, P_DONE);
    assert_int_equal(s.closed, 1);
    assert_int_equal(s.jobs, 4);
    assert_int_equal(s.hellos, 2);
    /* Credit of the big jobs came back only after their output was flushed. */
    assert_true(s.max_held > 0);
    assert_int_equal(s.readies_while_held, 1);
    assert_int_equal(s.readies, 2);
    assert_int_equal(s.ready_credit, 4);
    assert_true(s.hbs_while_silent >= NW_STAGE_LIVENESS);
    assert_int_equal(s.articles, 2 + 2 * BIG_EMITS);
    assert_int_equal(s.article_bad, 0);
    assert_int_equal(zmq_ctx_term(s.ctx), 0);
    assert_int_equal(uv_loop_close(&s.loop), 0);
}

/* ---- push and pub ------------------------------------------------------------------------ */

typedef struct pushed {
    unsigned got;
    int bad;
    nw_zsock_t *pull;
    nw_push_t *push;
} pushed_t;

static void
on_pushed(nw_zsock_t *zs, zmq_msg_t *f, size_t n, void *arg)
{
    pushed_t *p = arg;
    char want[16];
    snprintf(want, sizeof want, "%u", p->got++);
    if (n != 2 || !frame_eq(&f[0], "raw") || !frame_eq(&f[1], want))
        p->bad++;
    if (p->got == 100) {
        nw_zsock_close(zs, NULL, NULL);
        nw_push_close(p->push, NULL, NULL);
    }
}

static void
test_push_and_pub(void **state)
{
    (void)state;
    uv_loop_t loop;
    pushed_t p = {0};
    assert_int_equal(uv_loop_init(&loop), 0);
    void *ctx = zmq_ctx_new();
    void *pull = zmq_socket(ctx, ZMQ_PULL);
    assert_int_equal(zmq_bind(pull, "inproc://p-raw.in"), 0);
    p.pull = nw_zsock_new(&loop, pull, on_pushed, &p);
    p.push = nw_push_new(&loop, ctx, "inproc://p-raw.in", NULL, NULL);
    assert_non_null(p.push);
    for (unsigned i = 0; i < 100; i++) {
        char text[16];
        snprintf(text, sizeof text, "%u", i);
        assert_int_equal(nw_push_send(p.push, "raw", text, strlen(text)), 0);
    }

    /* PUB: bad base is refused; a good one sends without a subscriber and never blocks. */
    assert_null(nw_pub_new(ctx, "bogus"));
    nw_pub_t *pub = nw_pub_new(ctx, "inproc://p");
    assert_non_null(pub);
    for (int i = 0; i < 20000; i++)
        assert_int_equal(nw_pub_send(pub, "lang.en", "x", 1), 0);
    nw_pub_destroy(&pub);
    assert_null(pub);
    nw_pub_destroy(&pub);

    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(p.got, 100);
    assert_int_equal(p.bad, 0);
    assert_int_equal(zmq_ctx_term(ctx), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* A failover moves a PUSH (brokers.h): everything after the move goes to the new endpoint
 * and nothing to the old one (a PUSH connected to both would round-robin between them). */
static void
test_push_reconnect(void **state)
{
    (void)state;
    uv_loop_t loop;
    char buf[16];
    int timeout = 200;
    assert_int_equal(uv_loop_init(&loop), 0);
    void *ctx = zmq_ctx_new();
    void *a = zmq_socket(ctx, ZMQ_PULL), *b = zmq_socket(ctx, ZMQ_PULL);
    assert_int_equal(zmq_bind(a, "inproc://ra"), 0);
    assert_int_equal(zmq_bind(b, "inproc://rb"), 0);
    zmq_setsockopt(a, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(b, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    nw_push_t *push = nw_push_new(&loop, ctx, "inproc://ra", NULL, NULL);
    assert_non_null(push);
    assert_int_equal(nw_push_send(push, "raw", "0", 1), 0);
    assert_int_equal(zmq_recv(a, buf, sizeof buf, 0), 3);
    assert_int_equal(zmq_recv(a, buf, sizeof buf, 0), 1);
    assert_int_equal(nw_push_reconnect(push, "inproc://rb"), 0);
    assert_int_equal(nw_push_reconnect(push, "inproc://rb"), 0); /* already there */
    for (int i = 0; i < 10; i++)
        assert_int_equal(nw_push_send(push, "raw", "1", 1), 0);
    for (int i = 0; i < 20; i++)
        assert_true(zmq_recv(b, buf, sizeof buf, 0) > 0);
    assert_int_equal(zmq_recv(a, buf, sizeof buf, 0), -1); /* nothing went to the old one */
    nw_push_close(push, NULL, NULL);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    zmq_close(a);
    zmq_close(b);
    assert_int_equal(zmq_ctx_term(ctx), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ep_derive),       cmocka_unit_test(test_ep_bindable),
        cmocka_unit_test(test_ep_list),         cmocka_unit_test(test_ep_names_and_types),
        cmocka_unit_test(test_worker_protocol), cmocka_unit_test(test_push_and_pub),
        cmocka_unit_test(test_push_reconnect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
