/* test_broker.c: the broker in-process (one ZeroMQ context, one uv loop) with real producers,
 * workers and subscribers from stage.h over inproc:// (and ipc:// for the restart test).
 *
 * Every test pushes numbered raw jobs and checks that each number reached a worker exactly
 * once, plus what the test is about: load sharing, credit windows, late joiners, queue bounds
 * with backpressure, topic forwarding, failover of silent or departing workers, bad peers,
 * and workers surviving a broker restart. */
#include "newswire/broker.h"
#include "newswire/curve.h"
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
#include <unistd.h>

#include <pthread.h>
#include <stdatomic.h>

#include <cmocka.h>

/* Failing guard against a hang: stops the loop so the assertions report what was missing. */
#define WATCHDOG_MS 60000
#define MAX_WORKERS 4

typedef struct harness harness_t;

typedef struct wk {
    harness_t *h;
    nw_worker_t *w;
    unsigned window;
    int defer;    /* finish jobs from the tick timer instead of at once */
    int hold;     /* never finish jobs */
    unsigned got; /* jobs received */
    unsigned pending, max_inflight;
} wk_t;

struct harness {
    uv_loop_t loop;
    void *ctx;
    nw_broker_t *b;
    nw_broker_opts_t opts;
    char base[128];
    nw_push_t *push;
    unsigned n, limit, sent, eagain, seen_total, dup;
    uint8_t *seen;
    wk_t wk[MAX_WORKERS];
    nw_zsock_t *extra[2]; /* test-made sockets, closed by finish() */
    uv_timer_t watchdog, tick;
    void (*on_tick)(harness_t *h);
    void (*on_job)(wk_t *k, uint32_t seq);
    nw_broker_stats_t final;
    size_t max_queued, max_broker_inflight, max_queued_bytes;
    unsigned ticks;
    int done;
    int keep; /* on_tick decides when to finish, not the last job */
};

static void pump(harness_t *h);

/* Jobs of big_len bytes (0: the 4-byte seq alone): the seq, then bytes that depend on it, so a
 * worker can tell that a job's body arrived whole and unchanged. */
static size_t big_len;
static uint8_t *big_buf;

static uint8_t
big_byte(uint32_t seq, size_t i)
{
    return (uint8_t)(seq * 31u + i * 7u + (i >> 8));
}

static void
big_fill(uint32_t seq)
{
    memcpy(big_buf, &seq, sizeof seq);
    for (size_t i = sizeof seq; i < big_len; i++)
        big_buf[i] = big_byte(seq, i);
}

static void
on_writable(nw_push_t *p, void *arg)
{
    (void)p;
    pump(arg);
}

static void
pump(harness_t *h)
{
    while (h->sent < h->limit) {
        uint32_t seq = h->sent;
        int rc;
        if (big_len) {
            big_fill(seq);
            rc = nw_push_send(h->push, "raw", big_buf, big_len);
        } else {
            rc = nw_push_send(h->push, "raw", &seq, sizeof seq);
        }
        if (rc == -EAGAIN) {
            h->eagain++;
            return;
        }
        assert_int_equal(rc, 0);
        h->sent++;
    }
}

static void
finish(harness_t *h)
{
    if (h->done)
        return;
    h->done = 1;
    nw_broker_stats(h->b, &h->final);
    for (int i = 0; i < MAX_WORKERS; i++) {
        nw_worker_close(h->wk[i].w, NULL, NULL);
        h->wk[i].w = NULL;
    }
    nw_push_close(h->push, NULL, NULL);
    nw_broker_close(h->b, NULL, NULL);
    h->b = NULL;
    for (int i = 0; i < 2; i++)
        nw_zsock_close(h->extra[i], NULL, NULL);
    uv_close((uv_handle_t *)&h->tick, NULL);
    uv_close((uv_handle_t *)&h->watchdog, NULL);
}

static void
on_job(nw_worker_t *w, const char *type, const uint8_t *data, size_t len, void *arg)
{
    wk_t *k = arg;
    harness_t *h = k->h;
    uint32_t seq;

    assert_string_equal(type, "raw");
    assert_int_equal(len, big_len ? big_len : sizeof seq);
    memcpy(&seq, data, sizeof seq);
    for (size_t i = sizeof seq; i < big_len; i++)
        if (data[i] != big_byte(seq, i))
            fail_msg("job %u differs at byte %zu", seq, i);
    assert_true(seq < h->n);
    k->got++;
    if (nw_worker_inflight(w) > k->max_inflight)
        k->max_inflight = nw_worker_inflight(w);
    if (h->seen[seq]++)
        h->dup++;
    else
        h->seen_total++;
    if (k->hold || k->defer)
        k->pending++;
    else
        nw_worker_done(w);
    if (h->on_job)
        h->on_job(k, seq);
    if (h->seen_total == h->n && !h->keep)
        finish(h);
}

static void
on_tick(uv_timer_t *t)
{
    harness_t *h = t->data;
    nw_broker_stats_t st;
    h->ticks++;
    if (h->b) {
        nw_broker_stats(h->b, &st);
        if (st.stage[0].queued > h->max_queued)
            h->max_queued = st.stage[0].queued;
        if (st.stage[0].inflight > h->max_broker_inflight)
            h->max_broker_inflight = st.stage[0].inflight;
        if (st.stage[0].queued_bytes > h->max_queued_bytes)
            h->max_queued_bytes = st.stage[0].queued_bytes;
    }
    for (int i = 0; i < MAX_WORKERS; i++) {
        wk_t *k = &h->wk[i];
        if (k->w && k->defer && !k->hold)
            for (; k->pending > 0; k->pending--)
                nw_worker_done(k->w);
    }
    if (h->on_tick && !h->done)
        h->on_tick(h);
}

static void
on_watchdog(uv_timer_t *t)
{
    uv_stop(t->loop);
}

static wk_t *
add_worker(harness_t *h, int i, unsigned window)
{
    wk_t *k = &h->wk[i];
    k->h = h;
    k->window = window;
    k->w = nw_worker_new(&h->loop, h->ctx, h->base, NW_EP_RAW_OUT, window, on_job, k);
    assert_non_null(k->w);
    return k;
}

/* busy_silence_ms and queue_max_bytes for the next harness_init (0: the broker's default). */
static unsigned harness_busy_ms;
static size_t harness_max_bytes;

static void
harness_init(harness_t *h, const char *base, unsigned n, size_t queue_max, unsigned hb_ms)
{
    memset(h, 0, sizeof *h);
    assert_int_equal(uv_loop_init(&h->loop), 0);
    h->ctx = zmq_ctx_new();
    assert_non_null(h->ctx);
    snprintf(h->base, sizeof h->base, "%s", base);
    h->opts.queue_max = queue_max;
    h->opts.heartbeat_ms = hb_ms;
    h->opts.busy_silence_ms = harness_busy_ms;
    h->opts.queue_max_bytes = harness_max_bytes;
    harness_busy_ms = 0;
    harness_max_bytes = 0;
    h->b = nw_broker_new(&h->loop, h->ctx, base, &h->opts);
    assert_non_null(h->b);
    h->n = h->limit = n;
    h->seen = calloc(n ? n : 1, 1);
    assert_non_null(h->seen);
    char ep[NW_EP_MAX];
    assert_int_equal(nw_ep_derive(base, NW_EP_RAW_IN, ep, sizeof ep), 0);
    h->push = nw_push_new(&h->loop, h->ctx, ep, on_writable, h);
    assert_non_null(h->push);
    uv_timer_init(&h->loop, &h->tick);
    h->tick.data = h;
    uv_timer_start(&h->tick, on_tick, 1, 1);
    uv_timer_init(&h->loop, &h->watchdog);
    uv_timer_start(&h->watchdog, on_watchdog, WATCHDOG_MS, 0);
}

/* Run to completion and check that every job arrived exactly once. */
static void
harness_run(harness_t *h)
{
    pump(h);
    assert_int_equal(uv_run(&h->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(h->done, 1);
    assert_int_equal(h->seen_total, h->n);
    assert_int_equal(h->dup, 0);
}

static void
harness_finish(harness_t *h)
{
    free(h->seen);
    assert_int_equal(zmq_ctx_term(h->ctx), 0);
    assert_int_equal(uv_loop_close(&h->loop), 0);
}

/* ---- load sharing ------------------------------------------------------------------------ */

static void
test_two_workers_share(void **state)
{
    (void)state;
    harness_t h;
    harness_init(&h, "inproc://share", 5000, 0, 0);
    add_worker(&h, 0, 8);
    add_worker(&h, 1, 8);
    harness_run(&h);
    assert_int_equal(h.wk[0].got + h.wk[1].got, 5000);
    assert_true(h.wk[0].got > 500);
    assert_true(h.wk[1].got > 500);
    assert_true(h.eagain > 0); /* 5000 > the PUSH/PULL pipe: the writable path ran */
    assert_int_equal(h.final.stage[0].received, 5000);
    assert_int_equal(h.final.stage[0].dispatched, 5000);
    assert_int_equal(h.final.stage[0].queued, 0);
    assert_int_equal(h.final.stage[0].workers, 2);
    assert_int_equal(h.final.bad_messages, 0);
    harness_finish(&h);
}

/* ---- credit windows ---------------------------------------------------------------------- */

static void
test_credit_respected(void **state)
{
    (void)state;
    harness_t h;
    harness_init(&h, "inproc://credit", 1000, 0, 0);
    add_worker(&h, 0, 2)->defer = 1;
    add_worker(&h, 1, 5)->defer = 1;
    harness_run(&h);
    /* Jobs finish only on the next tick, so the windows fill: they must hold exactly. */
    assert_int_equal(h.wk[0].max_inflight, 2);
    assert_int_equal(h.wk[1].max_inflight, 5);
    /* The broker's view agrees: never more unacknowledged jobs than the windows allow. */
    assert_true(h.max_broker_inflight > 0 && h.max_broker_inflight <= 2 + 5);
    assert_true(h.wk[0].got > 0 && h.wk[1].got > 0);
    harness_finish(&h);
}

/* ---- the broker forgets finished jobs at once ---------------------------------------------- */

/* Wait, once every job arrived, until the broker has nothing in flight (or 2 s passed). */
static void
idle_on_tick(harness_t *h)
{
    nw_broker_stats_t st;
    if (h->seen_total < h->n)
        return;
    nw_broker_stats(h->b, &st);
    if (st.stage[0].inflight == 0 || h->ticks > 2000)
        finish(h);
}

/* A few jobs for a worker with a large window, as an idle pipeline after a small burst has:
 * every job is finished, so the broker must not count any as in flight, or a worker that
 * dies now would get finished work requeued (a store's committed jobs sent round again).
 * Before READY went out per loop turn it waited for half the window: 10 of 64 stayed. */
static void
test_idle_nothing_inflight(void **state)
{
    (void)state;
    harness_t h;
    harness_init(&h, "inproc://idle", 10, 0, 0);
    h.keep = 1;
    h.on_tick = idle_on_tick;
    add_worker(&h, 0, 64)->defer = 1; /* finished in a batch, as a store's commit */
    harness_run(&h);
    assert_int_equal(h.final.stage[0].dispatched, 10);
    assert_int_equal(h.final.stage[0].inflight, 0);
    assert_int_equal(h.final.stage[0].requeued, 0);
    harness_finish(&h);
}

/* ---- a worker joining mid-stream gets work ------------------------------------------------ */

static void
join_on_job(wk_t *k, uint32_t seq)
{
    (void)seq;
    if (k == &k->h->wk[0] && k->got == 50)
        add_worker(k->h, 1, 4);
}

static void
test_worker_joins_midstream(void **state)
{
    (void)state;
    harness_t h;
    harness_init(&h, "inproc://join", 2000, 0, 0);
    h.on_job = join_on_job;
    add_worker(&h, 0, 1)->defer = 1; /* slow: one job per tick */
    harness_run(&h);
    assert_non_null(h.wk[1].h);
    assert_true(h.wk[0].got >= 50);
    assert_true(h.wk[1].got > 500);
    assert_int_equal(h.final.stage[0].workers, 2);
    harness_finish(&h);
}

/* ---- queue bound and backpressure -------------------------------------------------------- */

static void
bound_on_tick(harness_t *h)
{
    nw_broker_stats_t st;
    if (h->wk[0].h)
        return;
    nw_broker_stats(h->b, &st);
    /* No worker yet: the broker fills its queue to the bound, stops reading, and the
     * producer is pushed back. Then a worker appears. */
    if (st.stage[0].queued == 100 && st.stage[0].paused && h->eagain > 0) {
        assert_true(h->sent < h->n);
        assert_int_equal(st.stage[0].received, 100);
        add_worker(h, 0, 10);
    }
}

static void
test_queue_bound_backpressure(void **state)
{
    (void)state;
    harness_t h;
    harness_init(&h, "inproc://bound", 5000, 100, 0);
    h.on_tick = bound_on_tick;
    harness_run(&h);
    assert_non_null(h.wk[0].h);
    assert_true(h.max_queued <= 100);
    assert_int_equal(h.wk[0].got, 5000);
    assert_int_equal(h.final.stage[0].received, 5000);
    assert_int_equal(h.final.stage[0].paused, 0);
    harness_finish(&h);
}

/* ---- failover ---------------------------------------------------------------------------- */

typedef struct fake {
    nw_zsock_t *zs;
    uint32_t seqs[8];
    unsigned got;
} fake_t;

static fake_t fake;

/* A worker that takes three jobs and then never speaks again. */
static void
fake_recv(nw_zsock_t *zs, zmq_msg_t *f, size_t n, void *arg)
{
    (void)zs;
    harness_t *h = arg;
    if (n == 3 && zmq_msg_size(&f[0]) == 3 && memcmp(zmq_msg_data(&f[0]), "JOB", 3) == 0) {
        assert_true(fake.got < 8);
        memcpy(&fake.seqs[fake.got++], zmq_msg_data(&f[2]), sizeof(uint32_t));
        if (fake.got == 3)
            add_worker(h, 0, 4);
    }
}

static void
test_silent_worker_failover(void **state)
{
    (void)state;
    harness_t h;
    /* It holds jobs, so it counts as busy: the broker waits busy_silence_ms for it. */
    harness_busy_ms = 200;
    harness_init(&h, "inproc://failover", 200, 0, 20);
    memset(&fake, 0, sizeof fake);
    void *dealer = zmq_socket(h.ctx, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(dealer, ZMQ_LINGER, &zero, sizeof zero);
    assert_int_equal(zmq_connect(dealer, "inproc://failover-raw.out"), 0);
    /* Its socket stays open to the end: silent, not disconnected. */
    fake.zs = h.extra[0] = nw_zsock_new(&h.loop, dealer, fake_recv, &h);
    const void *bufs[2] = {"HELLO", "3"};
    size_t lens[2] = {5, 1};
    assert_int_equal(nw_zsock_sendv(fake.zs, bufs, lens, 2), 0);

    harness_run(&h);
    /* The fake held jobs 0..2; the broker dropped it after busy_silence_ms and the real
     * worker got them (and everything else) exactly once. */
    assert_int_equal(fake.got, 3);
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(fake.seqs[i], i);
    assert_int_equal(h.wk[0].got, 200);
    assert_int_equal(h.final.workers_dropped, 1);
    assert_int_equal(h.final.stage[0].requeued, 3);
    assert_int_equal(h.final.stage[0].workers, 1);
    harness_finish(&h);
}

/* A worker that leaves (BYE) with unfinished jobs: they go to the next worker at once. */
static void
bye_on_job(wk_t *k, uint32_t seq)
{
    (void)seq;
    harness_t *h = k->h;
    if (k == &h->wk[0] && k->got == 4) {
        nw_worker_close(k->w, NULL, NULL);
        k->w = NULL;
        add_worker(h, 1, 4);
    }
}

static void
test_leaving_worker_requeues(void **state)
{
    (void)state;
    harness_t h;
    /* A long heartbeat: the requeue must come from BYE, not from silence. */
    harness_init(&h, "inproc://bye", 100, 0, 60000);
    h.on_job = bye_on_job;
    add_worker(&h, 0, 4)->hold = 1;
    pump(&h);
    assert_int_equal(uv_run(&h.loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(h.done, 1);
    assert_int_equal(h.wk[0].got, 4);
    assert_int_equal(h.wk[1].got, 100); /* the four held ones again, and the rest */
    assert_int_equal(h.final.workers_left, 1);
    assert_int_equal(h.final.stage[0].requeued, 4);
    harness_finish(&h);
}

/* Jobs of 200 KB: the broker keeps ZeroMQ's message of each job and sends the worker a reference
 * to it (zmq_msg_copy), not a copy. A job sent to a worker that leaves must still be whole when
 * it goes to the next one, and the queue's byte bound must still count the bodies: the first
 * worker holds its four jobs until the queue has filled up to the bound, then leaves. */
static void
big_on_job(wk_t *k, uint32_t seq)
{
    (void)seq;
    if (k == &k->h->wk[1] && k->got == 40)
        finish(k->h);
}

static void
big_on_tick(harness_t *h)
{
    if (h->wk[0].w && h->wk[0].got == 4 && h->max_queued_bytes >= 5 * big_len) {
        nw_worker_close(h->wk[0].w, NULL, NULL);
        h->wk[0].w = NULL;
        add_worker(h, 1, 4);
    }
}

static void
test_big_jobs_requeued_whole(void **state)
{
    (void)state;
    harness_t h;
    big_len = 200 * 1024;
    big_buf = malloc(big_len);
    assert_non_null(big_buf);
    harness_max_bytes = 1024 * 1024;
    harness_init(&h, "inproc://big", 40, 0, 60000);
    h.on_tick = big_on_tick;
    h.keep = 1; /* the four held jobs come round again after every job was seen once */
    add_worker(&h, 0, 4)->hold = 1;
    h.on_job = big_on_job;
    pump(&h);
    assert_int_equal(uv_run(&h.loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(h.done, 1);
    assert_int_equal(h.wk[0].got, 4);
    assert_int_equal(h.wk[1].got, 40); /* on_job checked every byte of each */
    assert_int_equal(h.final.stage[0].requeued, 4);
    assert_int_equal(h.dup, 4); /* the four held ones, seen twice */
    /* 1 MiB holds five of these jobs; the sixth crossed the bound and paused the queue */
    assert_true(h.max_queued_bytes < 1024 * 1024 + big_len);
    harness_finish(&h);
    free(big_buf);
    big_buf = NULL;
    big_len = 0;
}

/* ---- bad peers --------------------------------------------------------------------------- */

static void
bad_on_tick(harness_t *h)
{
    nw_broker_stats_t st;
    nw_broker_stats(h->b, &st);
    if (st.bad_messages == 5 && st.unknown_worker == 1 && st.stage[0].received == 1)
        finish(h);
}

static void
test_bad_messages_dropped(void **state)
{
    (void)state;
    harness_t h;
    harness_init(&h, "inproc://bad", 0, 0, 0);
    h.on_tick = bad_on_tick;
    memset(&fake, 0, sizeof fake);
    void *dealer = zmq_socket(h.ctx, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(dealer, ZMQ_LINGER, &zero, sizeof zero);
    assert_int_equal(zmq_connect(dealer, "inproc://bad-raw.out"), 0);
    fake.zs = h.extra[0] = nw_zsock_new(&h.loop, dealer, NULL, NULL);

    /* raw.in: unknown type, a type of another stage, a wrong frame count. */
    assert_int_equal(nw_push_send(h.push, "bogus", "x", 1), 0);
    assert_int_equal(nw_push_send(h.push, "article", "x", 1), 0);
    const void *three[3] = {"raw", "x", "y"};
    size_t three_len[3] = {3, 1, 1};
    void *raw = zmq_socket(h.ctx, ZMQ_PUSH);
    zmq_setsockopt(raw, ZMQ_LINGER, &zero, sizeof zero);
    assert_int_equal(zmq_connect(raw, "inproc://bad-raw.in"), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(zmq_send(raw, three[i], three_len[i], i < 2 ? ZMQ_SNDMORE : 0),
                         (int)three_len[i]);
    zmq_close(raw);
    /* raw.out: an unknown command, a bad credit, and READY from a worker never registered. */
    const void *what[1] = {"WHAT"};
    size_t what_len[1] = {4};
    assert_int_equal(nw_zsock_sendv(fake.zs, what, what_len, 1), 0);
    const void *badnum[2] = {"READY", "1x"};
    size_t badnum_len[2] = {5, 2};
    assert_int_equal(nw_zsock_sendv(fake.zs, badnum, badnum_len, 2), 0);
    const void *ready[2] = {"READY", "1"};
    size_t ready_len[2] = {5, 1};
    assert_int_equal(nw_zsock_sendv(fake.zs, ready, ready_len, 2), 0);
    /* And the broker still takes good input. */
    uint32_t seq = 0;
    assert_int_equal(nw_push_send(h.push, "raw", &seq, sizeof seq), 0);

    assert_int_equal(uv_run(&h.loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(h.done, 1);
    assert_int_equal(h.final.bad_messages, 5);
    assert_int_equal(h.final.unknown_worker, 1);
    assert_int_equal(h.final.stage[0].received, 1);
    assert_int_equal(h.final.stage[0].workers, 0);
    harness_finish(&h);
}

/* ---- topic hub --------------------------------------------------------------------------- */

typedef struct hub {
    harness_t h;
    nw_pub_t *pub;
    nw_zsock_t *sub_en, *sub_lang;
    unsigned en_en, en_de, lang_en, lang_de, other;
    uint32_t seq;
} hub_t;

static void
count_topic(hub_t *x, zmq_msg_t *f, size_t n, unsigned *en, unsigned *de)
{
    assert_int_equal(n, 2);
    if (zmq_msg_size(&f[0]) == 7 && memcmp(zmq_msg_data(&f[0]), "lang.en", 7) == 0)
        (*en)++;
    else if (zmq_msg_size(&f[0]) == 7 && memcmp(zmq_msg_data(&f[0]), "lang.de", 7) == 0)
        (*de)++;
    else
        x->other++;
}

static void
sub_en_recv(nw_zsock_t *zs, zmq_msg_t *f, size_t n, void *arg)
{
    (void)zs;
    hub_t *x = arg;
    count_topic(x, f, n, &x->en_en, &x->en_de);
}

static void
sub_lang_recv(nw_zsock_t *zs, zmq_msg_t *f, size_t n, void *arg)
{
    (void)zs;
    hub_t *x = arg;
    count_topic(x, f, n, &x->lang_en, &x->lang_de);
}

/* Publish one German and one English message per tick until both subscribers have seen
 * plenty (subscriptions travel upstream asynchronously, so early messages are dropped). */
static void
hub_tick(harness_t *h)
{
    hub_t *x = (hub_t *)h;
    if (x->en_en >= 50 && x->lang_en >= 50 && x->lang_de >= 50) {
        nw_pub_destroy(&x->pub);
        finish(h);
        return;
    }
    x->seq++;
    assert_int_equal(nw_pub_send(x->pub, "lang.de", &x->seq, sizeof x->seq), 0);
    assert_int_equal(nw_pub_send(x->pub, "lang.en", &x->seq, sizeof x->seq), 0);
}

static nw_zsock_t *
subscriber(hub_t *x, const char *topic, nw_zsock_recv_cb cb)
{
    void *s = zmq_socket(x->h.ctx, ZMQ_SUB);
    int zero = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    assert_int_equal(zmq_setsockopt(s, ZMQ_SUBSCRIBE, topic, strlen(topic)), 0);
    assert_int_equal(zmq_connect(s, "inproc://hub-pub.out"), 0);
    nw_zsock_t *zs = nw_zsock_new(&x->h.loop, s, cb, x);
    assert_non_null(zs);
    return zs;
}

static void
test_pub_forwarding(void **state)
{
    (void)state;
    hub_t x = {0};
    harness_init(&x.h, "inproc://hub", 0, 0, 0);
    x.h.on_tick = hub_tick;
    x.pub = nw_pub_new(x.h.ctx, "inproc://hub");
    assert_non_null(x.pub);
    x.sub_en = x.h.extra[0] = subscriber(&x, "lang.en", sub_en_recv);
    x.sub_lang = x.h.extra[1] = subscriber(&x, "lang.", sub_lang_recv);

    assert_int_equal(uv_run(&x.h.loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(x.h.done, 1);
    assert_true(x.en_en >= 50);
    assert_int_equal(x.en_de, 0); /* prefix "lang.en" never matches lang.de */
    assert_true(x.lang_en >= 50 && x.lang_de >= 50);
    assert_int_equal(x.other, 0);
    assert_true(x.h.final.subscriptions >= 2);
    assert_true(x.h.final.published >= 100);
    harness_finish(&x.h);
}

/* ---- broker restart: workers re-announce their credit ----------------------------------- */

static void
restart_reopen(void *arg)
{
    harness_t *h = arg;
    h->b = nw_broker_new(&h->loop, h->ctx, h->base, &h->opts);
    assert_non_null(h->b);
    /* The old queue died with the old broker (in memory only), so only now send the rest.
     * A fresh PUSH: what an old connection writes while the dying peer still holds it is
     * lost, which is why producers re-send what was never acknowledged (DESIGN promise 1). */
    char ep[NW_EP_MAX];
    assert_int_equal(nw_ep_derive(h->base, NW_EP_RAW_IN, ep, sizeof ep), 0);
    nw_push_close(h->push, NULL, NULL);
    h->push = nw_push_new(&h->loop, h->ctx, ep, on_writable, h);
    assert_non_null(h->push);
    h->limit = h->n;
    pump(h);
}

/* Restart once the first half is done and the worker has heard a few heartbeats (so it
 * uses the broker's 20 ms interval rather than the 1 s default to notice the silence). */
static void
restart_tick(harness_t *h)
{
    if (h->b && h->limit < h->n && h->seen_total == h->limit && h->ticks >= 100) {
        nw_broker_close(h->b, restart_reopen, h);
        h->b = NULL;
    }
}

static void
test_broker_restart(void **state)
{
    (void)state;
    harness_t h;
    char dir[] = "/tmp/nw-broker-test-XXXXXX", base[128];
    assert_non_null(mkdtemp(dir));
    snprintf(base, sizeof base, "ipc://%s/b", dir);
    harness_init(&h, base, 200, 0, 20);
    h.on_tick = restart_tick;
    h.limit = 100;
    add_worker(&h, 0, 4);
    harness_run(&h);
    /* The worker's credit went to the old broker; it noticed the silence, said HELLO to
     * the new one, and got the second half. */
    assert_int_equal(h.wk[0].got, 200);
    assert_int_equal(h.final.stage[0].workers, 1);
    assert_int_equal(h.final.stage[0].received, 100);
    harness_finish(&h);
    for (int i = 0; i < NW_EP_COUNT; i++) {
        char ep[NW_EP_MAX];
        assert_int_equal(nw_ep_derive(base, (nw_ep_t)i, ep, sizeof ep), 0);
        unlink(ep + strlen("ipc://")); /* ZeroMQ may or may not have removed it */
    }
    assert_int_equal(rmdir(dir), 0);
}

/* ---- slow jobs: a busy worker is not taken for a dead one ---------------------------------- */

#define SLOW_JOBS 8
#define SLOW_JOB_MS 300
#define SLOW_HB_MS 200 /* the broker drops a worker after about 4 silent intervals: 800 ms */

typedef struct slow {
    uv_loop_t loop; /* the worker's own, run by its own thread */
    nw_worker_t *w;
    atomic_int done;
    pthread_t thread;
    unsigned jobs, job_ms;
} slow_t;

static void
slow_on_job(nw_worker_t *w, const char *type, const uint8_t *data, size_t len, void *arg)
{
    slow_t *sl = arg;
    (void)type;
    (void)data;
    (void)len;
    usleep(sl->job_ms * 1000); /* a long enrichment, a store commit on a busy machine */
    nw_worker_done(w);
    if ((unsigned)atomic_fetch_add(&sl->done, 1) + 1 == sl->jobs)
        nw_worker_close(w, NULL, NULL);
}

static void *
slow_thread(void *arg)
{
    slow_t *sl = arg;
    uv_run(&sl->loop, UV_RUN_DEFAULT);
    return NULL;
}

typedef struct slow_main {
    nw_broker_t *b;
    nw_push_t *push;
    slow_t *sl;
    uv_timer_t timer;
    unsigned ticks;
    int pushed;
    nw_broker_stats_t final;
} slow_main_t;

static void
slow_tick(uv_timer_t *t)
{
    slow_main_t *m = t->data;
    m->ticks++;
    /* Give the worker time to adopt the broker's interval, then send every job at once: the
     * worker gets them in one batch and runs them back to back in one loop turn. */
    if (!m->pushed && m->ticks == 50) {
        for (uint32_t i = 0; i < m->sl->jobs; i++)
            assert_int_equal(nw_push_send(m->push, "raw", &i, sizeof i), 0);
        m->pushed = 1;
    }
    if ((unsigned)atomic_load(&m->sl->done) == m->sl->jobs || m->ticks > 3000) {
        nw_broker_stats(m->b, &m->final);
        nw_push_close(m->push, NULL, NULL);
        nw_broker_close(m->b, NULL, NULL);
        uv_close((uv_handle_t *)&m->timer, NULL);
    }
}

/* Run `jobs` jobs of job_ms each through one worker on its own thread and loop, meeting at
 * base; return the broker's final counters. */
static void
run_slow(const char *base, unsigned jobs, unsigned job_ms, nw_broker_stats_t *final)
{
    uv_loop_t loop;
    slow_t sl = {.jobs = jobs, .job_ms = job_ms};
    slow_main_t m = {0};
    nw_broker_opts_t opts = {.heartbeat_ms = SLOW_HB_MS};
    char ep[NW_EP_MAX];
    void *ctx = zmq_ctx_new();
    assert_non_null(ctx);
    assert_int_equal(uv_loop_init(&loop), 0);
    m.b = nw_broker_new(&loop, ctx, base, &opts);
    assert_non_null(m.b);
    assert_int_equal(nw_ep_derive(base, NW_EP_RAW_IN, ep, sizeof ep), 0);
    m.push = nw_push_new(&loop, ctx, ep, NULL, NULL);
    assert_non_null(m.push);
    m.sl = &sl;
    /* Made here, run by the thread only (thread creation orders the two). */
    assert_int_equal(uv_loop_init(&sl.loop), 0);
    sl.w = nw_worker_new(&sl.loop, ctx, base, NW_EP_RAW_OUT, jobs, slow_on_job, &sl);
    assert_non_null(sl.w);
    assert_int_equal(pthread_create(&sl.thread, NULL, slow_thread, &sl), 0);
    uv_timer_init(&loop, &m.timer);
    m.timer.data = &m;
    uv_timer_start(&m.timer, slow_tick, 10, 10);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(pthread_join(sl.thread, NULL), 0);
    assert_int_equal(atomic_load(&sl.done), jobs);
    *final = m.final;
    assert_int_equal(uv_loop_close(&sl.loop), 0);
    assert_int_equal(zmq_ctx_term(ctx), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* Jobs that each take longer than a heartbeat interval, arriving together, keep the worker's
 * loop busy for seconds in one turn, so its heartbeat timer cannot fire. It must still be
 * heard: before heartbeats went out between jobs, the broker dropped it as silent and
 * requeued its whole window (with nothing killed), and the jobs ran twice. */
static void
test_slow_jobs_not_silent(void **state)
{
    (void)state;
    nw_broker_stats_t final;
    run_slow("inproc://slow", SLOW_JOBS, SLOW_JOB_MS, &final);
    assert_int_equal(final.stage[0].dispatched, SLOW_JOBS);
    assert_int_equal(final.workers_dropped, 0);
    assert_int_equal(final.stage[0].requeued, 0);
}

/* One job longer than the broker's liveness (1.5 s, about 7 heartbeat intervals): the worker
 * cannot say anything until it ends, so the broker must not count a worker that holds a job
 * as dead for that. (It did: the job was requeued, and with a second worker it would have run
 * twice, or forever if every worker took as long.) Over ipc://, so the connection's own
 * ZeroMQ heartbeat runs too, and must be answered while the worker's loop is blocked. */
static void
test_long_job_keeps_worker(void **state)
{
    (void)state;
    nw_broker_stats_t final;
    char dir[] = "/tmp/nw-broker-test-XXXXXX", base[128];
    assert_non_null(mkdtemp(dir));
    snprintf(base, sizeof base, "ipc://%s/b", dir);
    run_slow(base, 1, 1500, &final);
    for (int i = 0; i < NW_EP_COUNT; i++) {
        char ep[NW_EP_MAX];
        assert_int_equal(nw_ep_derive(base, (nw_ep_t)i, ep, sizeof ep), 0);
        unlink(ep + strlen("ipc://"));
    }
    assert_int_equal(rmdir(dir), 0);
    assert_int_equal(final.stage[0].dispatched, 1);
    assert_int_equal(final.workers_dropped, 0);
    assert_int_equal(final.stage[0].requeued, 0);
}

/* The roles policy (broker.c): who may connect to which socket. */
static void
test_admits(void **state)
{
    (void)state;
    assert_int_equal(nw_broker_admits("raw.in"), NW_ROLE_FETCH);
    assert_int_equal(nw_broker_admits("raw.out"), NW_ROLE_WORKER);
    assert_int_equal(nw_broker_admits("article.in"), NW_ROLE_WORKER);
    assert_int_equal(nw_broker_admits("article.out"), NW_ROLE_WORKER);
    assert_int_equal(nw_broker_admits("enriched.in"), NW_ROLE_WORKER | NW_ROLE_FETCH);
    assert_int_equal(nw_broker_admits("enriched.out"), NW_ROLE_STORE);
    assert_int_equal(nw_broker_admits("pub.in"), NW_ROLE_STORE);
    assert_int_equal(nw_broker_admits("pub.out"), NW_ROLE_SUBSCRIBER | NW_ROLE_FETCH);
    assert_int_equal(nw_broker_admits("newswire"), 0);
    assert_int_equal(nw_broker_admits(""), 0);
    /* a subscriber key may use nothing but pub.out */
    for (int i = 0; i < NW_EP_COUNT; i++)
        assert_int_equal((nw_broker_admits(nw_ep_name((nw_ep_t)i)) & NW_ROLE_SUBSCRIBER) != 0,
                         i == NW_EP_PUB_OUT);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_admits),
        cmocka_unit_test(test_two_workers_share),
        cmocka_unit_test(test_credit_respected),
        cmocka_unit_test(test_idle_nothing_inflight),
        cmocka_unit_test(test_worker_joins_midstream),
        cmocka_unit_test(test_queue_bound_backpressure),
        cmocka_unit_test(test_silent_worker_failover),
        cmocka_unit_test(test_leaving_worker_requeues),
        cmocka_unit_test(test_big_jobs_requeued_whole),
        cmocka_unit_test(test_bad_messages_dropped),
        cmocka_unit_test(test_pub_forwarding),
        cmocka_unit_test(test_broker_restart),
        cmocka_unit_test(test_slow_jobs_not_silent),
        cmocka_unit_test(test_long_job_keeps_worker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
