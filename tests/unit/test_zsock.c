/* test_zsock.c: the libuv <-> ZeroMQ bridge over real sockets and a real loop.
 *
 * The burst tests are the regression tests STYLE.md habit 14 asks for: thousands of messages
 * over inproc and tcp loopback through the loop-driven path, and ping-pong where every reply
 * is sent from inside the receive callback (a send that can consume the ZMQ_FD edge of the
 * next incoming message; without the re-check after sending, these hang). */
#include "newswire/zsock.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define BURST 20000
#define ROUNDS 5000
/* Failing guard against a hang: stops the loop so the assertions report what was missing. */
#ifndef WATCHDOG_MS
#define WATCHDOG_MS 60000
#endif

typedef struct env {
    uv_loop_t loop;
    void *ctx;
    uv_timer_t watchdog;
} env_t;

static void
on_watchdog(uv_timer_t *t)
{
    uv_stop(t->loop);
}

static void
env_init(env_t *e)
{
    assert_int_equal(uv_loop_init(&e->loop), 0);
    e->ctx = zmq_ctx_new();
    assert_non_null(e->ctx);
    uv_timer_init(&e->loop, &e->watchdog);
    uv_timer_start(&e->watchdog, on_watchdog, WATCHDOG_MS, 0);
    uv_unref((uv_handle_t *)&e->watchdog);
}

static void
env_finish(env_t *e)
{
    uv_close((uv_handle_t *)&e->watchdog, NULL);
    assert_int_equal(uv_run(&e->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(zmq_ctx_term(e->ctx), 0);
    assert_int_equal(uv_loop_close(&e->loop), 0);
}

/* Bind a socket; for tcp, bind to an ephemeral port and return the real endpoint. */
static void *
bound(env_t *e, int type, const char *ep, char *real, size_t n)
{
    void *s = zmq_socket(e->ctx, type);
    assert_non_null(s);
    assert_int_equal(zmq_bind(s, ep), 0);
    assert_int_equal(zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, real, &n), 0);
    return s;
}

static void *
connected(env_t *e, int type, const char *ep)
{
    void *s = zmq_socket(e->ctx, type);
    assert_non_null(s);
    assert_int_equal(zmq_connect(s, ep), 0);
    return s;
}

static void
set_int(void *s, int opt, int v)
{
    assert_int_equal(zmq_setsockopt(s, opt, &v, sizeof v), 0);
}

static int closed_count;

static void
count_closed(nw_zsock_t *zs, void *arg)
{
    (void)zs;
    (void)arg;
    closed_count++;
}

/* ---- burst: PUSH -> PULL ----------------------------------------------------------------- */

typedef struct burst {
    nw_zsock_t *tx, *rx;
    uv_timer_t start;
    uv_prepare_t iter;
    unsigned sent, received, writable_calls, iterations;
    int out_of_order;
} burst_t;

static void burst_pump(burst_t *b);

static void
burst_writable(nw_zsock_t *zs, void *arg)
{
    (void)zs;
    burst_t *b = arg;
    b->writable_calls++;
    burst_pump(b);
}

static void
burst_pump(burst_t *b)
{
    while (b->sent < BURST) {
        uint32_t seq = b->sent;
        const void *bufs[2] = {"burst", &seq};
        size_t lens[2] = {5, sizeof seq};
        int rc = nw_zsock_sendv(b->tx, bufs, lens, 2);
        if (rc == -EAGAIN) {
            nw_zsock_notify_writable(b->tx, burst_writable);
            return;
        }
        assert_int_equal(rc, 0);
        b->sent++;
    }
}

static void
burst_start(uv_timer_t *t)
{
    burst_pump(t->data);
}

static void
burst_iter(uv_prepare_t *p)
{
    ((burst_t *)p->data)->iterations++;
}

static void
burst_recv(nw_zsock_t *zs, zmq_msg_t *f, size_t n, void *arg)
{
    burst_t *b = arg;
    uint32_t seq;
    assert_int_equal(n, 2);
    assert_int_equal(zmq_msg_size(&f[1]), sizeof seq);
    memcpy(&seq, zmq_msg_data(&f[1]), sizeof seq);
    if (seq != b->received)
        b->out_of_order++;
    b->received++;
    if (b->received == BURST) {
        nw_zsock_close(zs, count_closed, NULL);
        nw_zsock_close(b->tx, count_closed, NULL);
        uv_close((uv_handle_t *)&b->start, NULL);
        uv_close((uv_handle_t *)&b->iter, NULL);
    }
}

static void
run_burst(const char *ep, int expect_would_block)
{
    env_t e;
    burst_t b = {0};
    char real[256];

    env_init(&e);
    closed_count = 0;
    void *pull = bound(&e, ZMQ_PULL, ep, real, sizeof real);
    void *push = connected(&e, ZMQ_PUSH, real);
    b.rx = nw_zsock_new(&e.loop, pull, burst_recv, &b);
    b.tx = nw_zsock_new(&e.loop, push, NULL, &b);
    assert_non_null(b.rx);
    assert_non_null(b.tx);
    uv_timer_init(&e.loop, &b.start);
    b.start.data = &b;
    uv_timer_start(&b.start, burst_start, 0, 0);
    uv_prepare_init(&e.loop, &b.iter);
    b.iter.data = &b;
    uv_prepare_start(&b.iter, burst_iter);

    uv_run(&e.loop, UV_RUN_DEFAULT);
    assert_int_equal(b.received, BURST);
    assert_int_equal(b.out_of_order, 0);
    assert_int_equal(closed_count, 2);
    /* The receive cap yields to the loop: at most two batches (idle + poll) per iteration. */
    assert_true(b.iterations >= BURST / 512);
    if (expect_would_block) {
        /* inproc holds sndhwm + rcvhwm (2000) messages, so the pump must have blocked. */
        assert_true(b.writable_calls >= 1);
    }
    env_finish(&e);
}

static void
test_burst_inproc(void **state)
{
    (void)state;
    run_burst("inproc://burst", 1);
}

static void
test_burst_tcp(void **state)
{
    (void)state;
    run_burst("tcp://127.0.0.1:*", 0);
}

/* ---- ping-pong: DEALER <-> ROUTER, each reply sent from the receive callback -------------- */

typedef struct pingpong {
    nw_zsock_t *dealer, *router;
    unsigned pongs, pings_seen;
    int bad;
} pingpong_t;

static void
send_ping(pingpong_t *p)
{
    uint32_t seq = p->pongs;
    const void *bufs[2] = {"ping", &seq};
    size_t lens[2] = {4, sizeof seq};
    assert_int_equal(nw_zsock_sendv(p->dealer, bufs, lens, 2), 0);
}

static void
router_recv(nw_zsock_t *zs, zmq_msg_t *f, size_t n, void *arg)
{
    pingpong_t *p = arg;
    assert_int_equal(n, 3);
    p->pings_seen++;
    const void *bufs[3] = {zmq_msg_data(&f[0]), "pong", zmq_msg_data(&f[2])};
    size_t lens[3] = {zmq_msg_size(&f[0]), 4, zmq_msg_size(&f[2])};
    assert_int_equal(nw_zsock_sendv(zs, bufs, lens, 3), 0);
}

static void
dealer_recv(nw_zsock_t *zs, zmq_msg_t *f, size_t n, void *arg)
{
    pingpong_t *p = arg;
    uint32_t seq;
    assert_int_equal(n, 2);
    memcpy(&seq, zmq_msg_data(&f[1]), sizeof seq);
    if (seq != p->pongs || zmq_msg_size(&f[0]) != 4)
        p->bad++;
    p->pongs++;
    if (p->pongs < ROUNDS) {
        send_ping(p);
        return;
    }
    nw_zsock_close(zs, count_closed, NULL);
    nw_zsock_close(p->router, count_closed, NULL);
}

static void
run_pingpong(const char *ep)
{
    env_t e;
    pingpong_t p = {0};
    char real[256];

    env_init(&e);
    closed_count = 0;
    void *router = bound(&e, ZMQ_ROUTER, ep, real, sizeof real);
    void *dealer = connected(&e, ZMQ_DEALER, real);
    p.router = nw_zsock_new(&e.loop, router, router_recv, &p);
    p.dealer = nw_zsock_new(&e.loop, dealer, dealer_recv, &p);
    assert_non_null(p.router);
    assert_non_null(p.dealer);
    send_ping(&p);

    uv_run(&e.loop, UV_RUN_DEFAULT);
    assert_int_equal(p.pongs, ROUNDS);
    assert_int_equal(p.pings_seen, ROUNDS);
    assert_int_equal(p.bad, 0);
    assert_int_equal(closed_count, 2);
    env_finish(&e);
}

static void
test_pingpong_inproc(void **state)
{
    (void)state;
    run_pingpong("inproc://pingpong");
}

static void
test_pingpong_tcp(void **state)
{
    (void)state;
    run_pingpong("tcp://127.0.0.1:*");
}

/* ---- pipelined: sends from outside the receive path while replies stream in ------------- */

/* The dealer keeps up to PIPE_WINDOW requests outstanding and sends new ones from a check
 * handle, i.e. not from its own receive callback. Over tcp, replies arrive while it sends,
 * and a send processes ZeroMQ's commands and can swallow the ZMQ_FD edge announcing them.
 * Unless the bridge re-checks ZMQ_EVENTS after sending, the last replies sit unread once the
 * dealer stops sending, and this test hangs. */
#define PIPE_TOTAL 20000
#define PIPE_WINDOW 64

typedef struct pipeline {
    nw_zsock_t *dealer, *router;
    uv_check_t check;
    unsigned sent, replies;
    int bad;
} pipeline_t;

static void
pipe_send(uv_check_t *c)
{
    pipeline_t *p = c->data;
    while (p->sent < PIPE_TOTAL && p->sent - p->replies < PIPE_WINDOW) {
        uint32_t seq = p->sent;
        const void *bufs[1] = {&seq};
        size_t lens[1] = {sizeof seq};
        assert_int_equal(nw_zsock_sendv(p->dealer, bufs, lens, 1), 0);
        p->sent++;
    }
}

static void
pipe_echo(nw_zsock_t *zs, zmq_msg_t *f, size_t n, void *arg)
{
    (void)arg;
    assert_int_equal(n, 2);
    const void *bufs[2] = {zmq_msg_data(&f[0]), zmq_msg_data(&f[1])};
    size_t lens[2] = {zmq_msg_size(&f[0]), zmq_msg_size(&f[1])};
    assert_int_equal(nw_zsock_sendv(zs, bufs, lens, 2), 0);
}

static void
pipe_reply(nw_zsock_t *zs, zmq_msg_t *f, size_t n, void *arg)
{
    pipeline_t *p = arg;
    uint32_t seq;
    assert_int_equal(n, 1);
    memcpy(&seq, zmq_msg_data(&f[0]), sizeof seq);
    if (seq != p->replies)
        p->bad++;
    if (++p->replies == PIPE_TOTAL) {
        nw_zsock_close(zs, count_closed, NULL);
        nw_zsock_close(p->router, count_closed, NULL);
        uv_close((uv_handle_t *)&p->check, NULL);
    }
}

static void
run_pipeline(const char *ep)
{
    env_t e;
    pipeline_t p = {0};
    char real[256];

    env_init(&e);
    closed_count = 0;
    void *router = bound(&e, ZMQ_ROUTER, ep, real, sizeof real);
    void *dealer = connected(&e, ZMQ_DEALER, real);
    p.router = nw_zsock_new(&e.loop, router, pipe_echo, &p);
    p.dealer = nw_zsock_new(&e.loop, dealer, pipe_reply, &p);
    assert_non_null(p.router);
    assert_non_null(p.dealer);
    uv_check_init(&e.loop, &p.check);
    p.check.data = &p;
    uv_check_start(&p.check, pipe_send);
    pipe_send(&p.check);

    uv_run(&e.loop, UV_RUN_DEFAULT);
    assert_int_equal(p.replies, PIPE_TOTAL);
    assert_int_equal(p.bad, 0);
    assert_int_equal(closed_count, 2);
    env_finish(&e);
}

static void
test_pipeline_inproc(void **state)
{
    (void)state;
    run_pipeline("inproc://pipeline");
}

static void
test_pipeline_tcp(void **state)
{
    (void)state;
    run_pipeline("tcp://127.0.0.1:*");
}

/* ---- the edge case itself, made deterministic ------------------------------------------- */

/* Each round, from a timer (outside the dealer's receive path): the router sends to the idle
 * dealer, which posts a command and makes the dealer's ZMQ_FD readable; then the dealer sends.
 * zmq_send processes pending commands at most once per ~1 ms of TSC time, so the round first
 * sleeps 2 ms to make sure this send does: it resets ZMQ_FD, and the only thing that can make
 * the dealer read its message is the bridge re-checking ZMQ_EVENTS after the send. */
#define EDGE_ROUNDS 40

typedef struct edge {
    nw_zsock_t *dealer, *router;
    uv_timer_t round;
    uint8_t id[256];
    size_t idlen;
    unsigned rounds, dealer_got, router_got;
} edge_t;

static void
edge_round(uv_timer_t *t)
{
    edge_t *x = t->data;
    const void *rb[2] = {x->id, "to-dealer"};
    size_t rl[2] = {x->idlen, 9};
    assert_int_equal(nw_zsock_sendv(x->router, rb, rl, 2), 0);
    uv_sleep(2);
    const void *db[1] = {"from-dealer"};
    size_t dl[1] = {11};
    assert_int_equal(nw_zsock_sendv(x->dealer, db, dl, 1), 0);
}

static void
edge_router_recv(nw_zsock_t *zs, zmq_msg_t *f, size_t n, void *arg)
{
    (void)zs;
    edge_t *x = arg;
    assert_int_equal(n, 2);
    x->router_got++;
    x->idlen = zmq_msg_size(&f[0]);
    memcpy(x->id, zmq_msg_data(&f[0]), x->idlen);
    if (x->router_got == 1)
        uv_timer_start(&x->round, edge_round, 0, 0);
}

static void
edge_dealer_recv(nw_zsock_t *zs, zmq_msg_t *f, size_t n, void *arg)
{
    edge_t *x = arg;
    assert_int_equal(n, 1);
    assert_memory_equal(zmq_msg_data(&f[0]), "to-dealer", 9);
    x->dealer_got++;
    if (++x->rounds < EDGE_ROUNDS) {
        uv_timer_start(&x->round, edge_round, 0, 0);
        return;
    }
    uv_close((uv_handle_t *)&x->round, NULL);
    nw_zsock_close(zs, count_closed, NULL);
    nw_zsock_close(x->router, count_closed, NULL);
}

static void
test_send_consumes_edge(void **state)
{
    (void)state;
    env_t e;
    edge_t x = {0};
    char real[256];

    env_init(&e);
    closed_count = 0;
    void *router = bound(&e, ZMQ_ROUTER, "inproc://edge", real, sizeof real);
    void *dealer = connected(&e, ZMQ_DEALER, real);
    x.router = nw_zsock_new(&e.loop, router, edge_router_recv, &x);
    x.dealer = nw_zsock_new(&e.loop, dealer, edge_dealer_recv, &x);
    uv_timer_init(&e.loop, &x.round);
    x.round.data = &x;
    const void *b[1] = {"hello"};
    size_t l[1] = {5};
    assert_int_equal(nw_zsock_sendv(x.dealer, b, l, 1), 0);

    uv_run(&e.loop, UV_RUN_DEFAULT);
    assert_int_equal(x.dealer_got, EDGE_ROUNDS);
    assert_true(x.router_got >= EDGE_ROUNDS);
    assert_int_equal(closed_count, 2);
    env_finish(&e);
}

/* ---- pause / resume with high-water-mark backpressure ------------------------------------ */

#define BP_TOTAL 1000

typedef struct backpressure {
    nw_zsock_t *tx, *rx;
    uv_timer_t resume;
    unsigned sent, received, sent_at_block, received_while_paused, writable_calls;
    int blocked, out_of_order;
} backpressure_t;

static void bp_pump(backpressure_t *b);

static void
bp_writable(nw_zsock_t *zs, void *arg)
{
    (void)zs;
    backpressure_t *b = arg;
    b->writable_calls++;
    bp_pump(b);
}

static void
bp_resume(uv_timer_t *t)
{
    backpressure_t *b = t->data;
    b->received_while_paused = b->received;
    nw_zsock_resume(b->rx);
    uv_close((uv_handle_t *)t, NULL);
}

static void
bp_pump(backpressure_t *b)
{
    while (b->sent < BP_TOTAL) {
        uint32_t seq = b->sent;
        const void *bufs[1] = {&seq};
        size_t lens[1] = {sizeof seq};
        int rc = nw_zsock_sendv(b->tx, bufs, lens, 1);
        if (rc == -EAGAIN) {
            if (!b->blocked) {
                /* First push-back: the receiver is paused, so this is the HWM. Let the
                 * loop spin a little while paused before resuming it. */
                b->blocked = 1;
                b->sent_at_block = b->sent;
                uv_timer_start(&b->resume, bp_resume, 20, 0);
            }
            nw_zsock_notify_writable(b->tx, bp_writable);
            return;
        }
        assert_int_equal(rc, 0);
        b->sent++;
    }
}

static void
bp_recv(nw_zsock_t *zs, zmq_msg_t *f, size_t n, void *arg)
{
    backpressure_t *b = arg;
    uint32_t seq;
    assert_int_equal(n, 1);
    memcpy(&seq, zmq_msg_data(&f[0]), sizeof seq);
    if (seq != b->received)
        b->out_of_order++;
    b->received++;
    if (b->received == BP_TOTAL) {
        nw_zsock_close(zs, count_closed, NULL);
        nw_zsock_close(b->tx, count_closed, NULL);
    }
}

static void
test_pause_resume_backpressure(void **state)
{
    (void)state;
    env_t e;
    backpressure_t b = {0};
    nw_zsock_stats_t st;

    env_init(&e);
    closed_count = 0;
    void *pull = zmq_socket(e.ctx, ZMQ_PULL);
    set_int(pull, ZMQ_RCVHWM, 10);
    assert_int_equal(zmq_bind(pull, "inproc://bp"), 0);
    void *push = zmq_socket(e.ctx, ZMQ_PUSH);
    set_int(push, ZMQ_SNDHWM, 10);
    assert_int_equal(zmq_connect(push, "inproc://bp"), 0);
    b.rx = nw_zsock_new(&e.loop, pull, bp_recv, &b);
    b.tx = nw_zsock_new(&e.loop, push, NULL, &b);
    nw_zsock_pause(b.rx);
    uv_timer_init(&e.loop, &b.resume);
    b.resume.data = &b;
    bp_pump(&b);
    assert_true(b.blocked);
    nw_zsock_stats(b.tx, &st);
    assert_true(st.would_block >= 1);

    uv_run(&e.loop, UV_RUN_DEFAULT);
    /* HWM stopped the sender early, the paused receiver delivered nothing, and after resume
     * the writable callback let the sender finish: everything arrived once, in order. */
    assert_true(b.sent_at_block > 0 && b.sent_at_block <= 40);
    assert_int_equal(b.received_while_paused, 0);
    assert_true(b.writable_calls >= 1);
    assert_int_equal(b.received, BP_TOTAL);
    assert_int_equal(b.out_of_order, 0);
    assert_int_equal(closed_count, 2);
    env_finish(&e);
}

/* ---- a message sent without a copy -------------------------------------------------------- */

/* nw_zsock_sendv_msg hands a zmq_msg_t over: consumed (left empty) when sent, left as it was and
 * still the caller's when the socket pushes back, and received whole after its header frames.
 * The broker sends each job this way, as a zmq_msg_copy of the message it keeps in its queue. */
static void
test_sendv_msg(void **state)
{
    (void)state;
    env_t e;
    enum { SIZE = 100 * 1024 };
    env_init(&e);
    closed_count = 0;
    void *pull = zmq_socket(e.ctx, ZMQ_PULL);
    set_int(pull, ZMQ_RCVHWM, 1);
    set_int(pull, ZMQ_LINGER, 0);
    assert_int_equal(zmq_bind(pull, "inproc://msg"), 0);
    void *push = zmq_socket(e.ctx, ZMQ_PUSH);
    set_int(push, ZMQ_SNDHWM, 1);
    assert_int_equal(zmq_connect(push, "inproc://msg"), 0);
    nw_zsock_t *tx = nw_zsock_new(&e.loop, push, NULL, NULL);
    assert_non_null(tx);

    zmq_msg_t kept, m;
    assert_int_equal(zmq_msg_init_size(&kept, SIZE), 0);
    for (size_t i = 0; i < SIZE; i++)
        ((uint8_t *)zmq_msg_data(&kept))[i] = (uint8_t)(i * 13 + 5);
    const void *bufs[1] = {"hdr"};
    size_t lens[1] = {3};
    unsigned sent = 0;
    int rc = 0;
    while (rc == 0 && sent < 100) {
        zmq_msg_init(&m);
        assert_int_equal(zmq_msg_copy(&m, &kept), 0);
        /* every other one without header frames */
        rc = nw_zsock_sendv_msg(tx, bufs, lens, sent % 2 ? 0 : 1, &m);
        if (rc == 0) {
            assert_int_equal(zmq_msg_size(&m), 0); /* consumed */
            sent++;
        } else {
            assert_int_equal(rc, -EAGAIN);
            /* refused: still the caller's, unchanged */
            assert_int_equal(zmq_msg_size(&m), SIZE);
            assert_memory_equal(zmq_msg_data(&m), zmq_msg_data(&kept), SIZE);
        }
        zmq_msg_close(&m);
    }
    assert_true(sent >= 1 && sent < 100); /* the high-water mark pushed back */
    for (unsigned k = 0; k < sent; k++) {
        zmq_msg_t f;
        zmq_msg_init(&f);
        if (k % 2 == 0) {
            assert_int_equal(zmq_msg_recv(&f, pull, 0), 3);
            assert_memory_equal(zmq_msg_data(&f), "hdr", 3);
            assert_true(zmq_msg_more(&f));
        }
        assert_int_equal(zmq_msg_recv(&f, pull, 0), SIZE);
        assert_false(zmq_msg_more(&f));
        assert_memory_equal(zmq_msg_data(&f), zmq_msg_data(&kept), SIZE);
        zmq_msg_close(&f);
    }
    zmq_msg_close(&kept);
    nw_zsock_close(tx, count_closed, NULL);
    uv_run(&e.loop, UV_RUN_DEFAULT);
    assert_int_equal(closed_count, 1);
    zmq_close(pull);
    env_finish(&e);
}

/* ---- close sequencing -------------------------------------------------------------------- */

typedef struct closer {
    nw_zsock_t *rx;
    unsigned received;
    int close_ran;
} closer_t;

static void
closer_closed(nw_zsock_t *zs, void *arg)
{
    (void)zs;
    ((closer_t *)arg)->close_ran++;
}

/* Closes itself on the first message although more are waiting. */
static void
closer_recv(nw_zsock_t *zs, zmq_msg_t *f, size_t n, void *arg)
{
    (void)f;
    (void)n;
    closer_t *c = arg;
    c->received++;
    nw_zsock_close(zs, closer_closed, c);
    assert_int_equal(c->close_ran, 0); /* never synchronous */
}

static void
never_writable(nw_zsock_t *zs, void *arg)
{
    (void)zs;
    (void)arg;
    fail_msg("writable callback after close");
}

static void
test_close_sequencing(void **state)
{
    (void)state;
    env_t e;
    closer_t c = {0}, idle = {0};

    env_init(&e);
    void *pull = zmq_socket(e.ctx, ZMQ_PULL);
    assert_int_equal(zmq_bind(pull, "inproc://close"), 0);
    void *push = zmq_socket(e.ctx, ZMQ_PUSH);
    set_int(push, ZMQ_LINGER, 0);
    assert_int_equal(zmq_connect(push, "inproc://close"), 0);
    for (int i = 0; i < 10; i++)
        assert_int_equal(zmq_send(push, "x", 1, 0), 1);
    /* Swallow the edge before wrapping: the bridge must still look once on its own. */
    int ev = 0;
    size_t sz = sizeof ev;
    assert_int_equal(zmq_getsockopt(pull, ZMQ_EVENTS, &ev, &sz), 0);
    assert_true(ev & ZMQ_POLLIN);
    c.rx = nw_zsock_new(&e.loop, pull, closer_recv, &c);
    assert_non_null(c.rx);

    /* A socket closed right away, with a writable request pending: the close callback waits
     * for the loop, and no other callback runs after close. */
    void *dealer = zmq_socket(e.ctx, ZMQ_DEALER);
    assert_int_equal(zmq_connect(dealer, "inproc://nobody-home"), 0);
    nw_zsock_t *d = nw_zsock_new(&e.loop, dealer, NULL, NULL);
    assert_non_null(d);
    int linger = -1;
    sz = sizeof linger;
    assert_int_equal(zmq_getsockopt(dealer, ZMQ_LINGER, &linger, &sz), 0);
    assert_true(linger >= 0 && linger <= 1000);
    nw_zsock_notify_writable(d, never_writable);
    nw_zsock_close(d, closer_closed, &idle);
    assert_int_equal(idle.close_ran, 0);
    nw_zsock_close(NULL, NULL, NULL);

    uv_run(&e.loop, UV_RUN_DEFAULT);
    assert_int_equal(c.received, 1);
    assert_int_equal(c.close_ran, 1);
    assert_int_equal(idle.close_ran, 1);
    zmq_close(push);
    env_finish(&e);
}

/* ---- oversized messages are dropped and counted ------------------------------------------ */

typedef struct oversize {
    nw_zsock_t *rx;
    unsigned received;
    size_t frames;
} oversize_t;

static void
oversize_recv(nw_zsock_t *zs, zmq_msg_t *f, size_t n, void *arg)
{
    oversize_t *o = arg;
    o->received++;
    o->frames = n;
    assert_memory_equal(zmq_msg_data(&f[0]), "ok", 2);
    nw_zsock_stats_t st;
    nw_zsock_stats(zs, &st);
    assert_int_equal(st.dropped_oversized, 1);
    assert_int_equal(st.received, 1);
    nw_zsock_close(zs, NULL, NULL);
}

static void
test_oversized_dropped(void **state)
{
    (void)state;
    env_t e;
    oversize_t o = {0};

    env_init(&e);
    void *pull = zmq_socket(e.ctx, ZMQ_PULL);
    assert_int_equal(zmq_bind(pull, "inproc://big"), 0);
    void *push = zmq_socket(e.ctx, ZMQ_PUSH);
    set_int(push, ZMQ_LINGER, 0);
    assert_int_equal(zmq_connect(push, "inproc://big"), 0);
    for (int i = 0; i < NW_ZSOCK_MAX_FRAMES + 2; i++)
        assert_int_equal(zmq_send(push, "f", 1, i + 1 < NW_ZSOCK_MAX_FRAMES + 2 ? ZMQ_SNDMORE : 0),
                         1);
    assert_int_equal(zmq_send(push, "ok", 2, ZMQ_SNDMORE), 2);
    assert_int_equal(zmq_send(push, "2", 1, 0), 1);
    o.rx = nw_zsock_new(&e.loop, pull, oversize_recv, &o);

    uv_run(&e.loop, UV_RUN_DEFAULT);
    assert_int_equal(o.received, 1);
    assert_int_equal(o.frames, 2);
    zmq_close(push);
    env_finish(&e);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sendv_msg),
        cmocka_unit_test(test_burst_inproc),
        cmocka_unit_test(test_burst_tcp),
        cmocka_unit_test(test_pingpong_inproc),
        cmocka_unit_test(test_pingpong_tcp),
        cmocka_unit_test(test_pipeline_inproc),
        cmocka_unit_test(test_pipeline_tcp),
        cmocka_unit_test(test_send_consumes_edge),
        cmocka_unit_test(test_pause_resume_backpressure),
        cmocka_unit_test(test_close_sequencing),
        cmocka_unit_test(test_oversized_dropped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
