/* test_ha.c: the broker pair (ha.h) and the client's view of it (brokers.h).
 *
 * The rules alone (nw_ha_fsm_*), walked through the cases that matter: who serves at start,
 * a primary that comes back while the backup serves, two actives after a split, and the
 * split-brain guard (a client that alone lost the primary does not make the backup serve).
 * Then the real thing on one loop over inproc://: two nw_ha and a nw_brokers client; the
 * primary answers "active", a lone client's "need" leaves the backup passive while the primary
 * lives, and once the primary is gone the client makes the backup take over and moves there.
 * Last a whole nw_broker of a pair whose peer never answers: it serves nothing while it is not
 * active (jobs wait, the worker's HELLO is ignored), and once a worker naming the pair has
 * missed a broker for two heartbeats it takes over and the jobs flow. */
#include "newswire/ha.h"
#include "newswire/broker.h"
#include "newswire/brokers.h"
#include "newswire/stage.h"
#include "newswire/zsock.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define HB 1000

static void
test_rules_start(void **state)
{
    (void)state;
    nw_ha_fsm_t p, b;
    nw_ha_fsm_init(&p, 0, HB, 0);
    nw_ha_fsm_init(&b, 1, HB, 0);
    assert_int_equal(p.state, NW_HA_STARTING);
    /* both starting: the primary serves, the backup waits */
    assert_int_equal(nw_ha_fsm_peer(&b, NW_HA_STARTING, 100), NW_HA_PASSIVE);
    assert_int_equal(nw_ha_fsm_peer(&p, NW_HA_PASSIVE, 150), NW_HA_ACTIVE);
    assert_int_equal(nw_ha_fsm_peer(&b, NW_HA_ACTIVE, 1100), NW_HA_PASSIVE);
    /* a client's need changes nothing while the peer is heard (split-brain guard) */
    assert_int_equal(nw_ha_fsm_client(&b, 1500), NW_HA_PASSIVE);
    assert_false(nw_ha_fsm_peer_gone(&b, 1500));
    /* the primary goes silent: time alone changes nothing... */
    assert_true(nw_ha_fsm_peer_gone(&b, 1100 + 2 * HB));
    assert_int_equal(b.state, NW_HA_PASSIVE);
    /* ...a client that lost it too does */
    assert_int_equal(nw_ha_fsm_client(&b, 1100 + 2 * HB), NW_HA_ACTIVE);

    /* a primary starting alone serves once a client asks, after two heartbeats */
    nw_ha_fsm_init(&p, 0, HB, 0);
    assert_int_equal(nw_ha_fsm_client(&p, 2 * HB - 1), NW_HA_STARTING);
    assert_int_equal(nw_ha_fsm_client(&p, 2 * HB), NW_HA_ACTIVE);
    /* a backup that never heard its primary never serves: the link may be what is down, and
     * the primary may be serving the clients that asked it */
    nw_ha_fsm_init(&b, 1, HB, 0);
    assert_int_equal(nw_ha_fsm_client(&b, 10 * HB), NW_HA_STARTING);
    assert_int_equal(nw_ha_fsm_peer(&b, NW_HA_ACTIVE, 10 * HB), NW_HA_PASSIVE);
    assert_int_equal(nw_ha_fsm_client(&b, 13 * HB), NW_HA_ACTIVE);
}

static void
test_rules_return_and_split(void **state)
{
    (void)state;
    nw_ha_fsm_t p, b;
    /* the backup serves; the primary comes back: it comes back passive */
    nw_ha_fsm_init(&p, 0, HB, 0);
    assert_int_equal(nw_ha_fsm_peer(&p, NW_HA_ACTIVE, 10), NW_HA_PASSIVE);
    nw_ha_fsm_init(&b, 1, HB, 0);
    b.state = NW_HA_ACTIVE;
    assert_int_equal(nw_ha_fsm_peer(&b, NW_HA_STARTING, 10), NW_HA_ACTIVE);
    assert_int_equal(nw_ha_fsm_peer(&b, NW_HA_PASSIVE, 20), NW_HA_ACTIVE);
    /* the passive primary stays passive while the backup serves, even asked by a client */
    assert_int_equal(nw_ha_fsm_client(&p, 500), NW_HA_PASSIVE);
    assert_int_equal(nw_ha_fsm_peer(&p, NW_HA_ACTIVE, 1000), NW_HA_PASSIVE);

    /* two actives (a link between them broke and healed): the backup steps down */
    nw_ha_fsm_init(&p, 0, HB, 0);
    nw_ha_fsm_init(&b, 1, HB, 0);
    p.state = b.state = NW_HA_ACTIVE;
    assert_int_equal(nw_ha_fsm_peer(&p, NW_HA_ACTIVE, 10), NW_HA_ACTIVE);
    assert_int_equal(nw_ha_fsm_peer(&b, NW_HA_ACTIVE, 10), NW_HA_PASSIVE);

    /* both passive (the active one stepped down, or a restart race): the primary serves */
    nw_ha_fsm_init(&p, 0, HB, 0);
    p.state = NW_HA_PASSIVE;
    assert_int_equal(nw_ha_fsm_peer(&p, NW_HA_PASSIVE, 10), NW_HA_ACTIVE);
    nw_ha_fsm_init(&b, 1, HB, 0);
    b.state = NW_HA_PASSIVE;
    assert_int_equal(nw_ha_fsm_peer(&b, NW_HA_PASSIVE, 10), NW_HA_PASSIVE);

    assert_int_equal(nw_ha_state_parse("active", 6), NW_HA_ACTIVE);
    assert_int_equal(nw_ha_state_parse("passive", 7), NW_HA_PASSIVE);
    assert_int_equal(nw_ha_state_parse("activ", 5), -1);
    assert_string_equal(nw_ha_state_name(NW_HA_STARTING), "starting");
}

/* ---- the pair on a loop ------------------------------------------------------------------ */

#define LOOP_HB 50

struct pair {
    uv_loop_t loop;
    void *ctx;
    nw_ha_t *p, *b;
    nw_brokers_t *client;
    nw_zsock_t *lone; /* a client of the backup only, asking with need = "1" */
    char lone_answer[16];
    char switched[NW_EP_MAX];
    int phase;
    uv_timer_t tick, watchdog;
    int timed_out;
};

static void
on_switch(nw_brokers_t *bs, const char *base, void *arg)
{
    (void)bs;
    struct pair *t = arg;
    snprintf(t->switched, sizeof t->switched, "%s", base);
}

static void
on_lone(nw_zsock_t *zs, zmq_msg_t *f, size_t n, void *arg)
{
    (void)zs;
    struct pair *t = arg;
    if (n == 3) {
        size_t len = zmq_msg_size(&f[1]) < 15 ? zmq_msg_size(&f[1]) : 15;
        memcpy(t->lone_answer, zmq_msg_data(&f[1]), len);
        t->lone_answer[len] = 0;
    }
}

static void
stop_all(struct pair *t)
{
    uv_timer_stop(&t->tick);
    uv_timer_stop(&t->watchdog);
    uv_close((uv_handle_t *)&t->tick, NULL);
    uv_close((uv_handle_t *)&t->watchdog, NULL);
    nw_zsock_close(t->lone, NULL, NULL);
    nw_brokers_close(t->client, NULL, NULL);
    nw_ha_close(t->b, NULL, NULL);
    nw_ha_close(t->p, NULL, NULL);
    t->p = NULL;
}

static void
on_tick(uv_timer_t *h)
{
    struct pair *t = h->data;
    switch (t->phase) {
    case 0: /* wait for the pair to settle */
        if (nw_ha_state(t->p) == NW_HA_ACTIVE && nw_ha_state(t->b) == NW_HA_PASSIVE) {
            t->phase = 1;
        }
        break;
    case 1: { /* a lone client that lost the primary asks the backup: refused */
        const void *bufs[2] = {"PING", "1"};
        size_t lens[2] = {4, 1};
        nw_zsock_sendv(t->lone, bufs, lens, 2);
        if (strcmp(t->lone_answer, "passive") == 0) {
            assert_int_equal(nw_ha_state(t->b), NW_HA_PASSIVE);
            assert_string_equal(t->switched, ""); /* the real client stays on the primary */
            nw_ha_close(t->p, NULL, NULL);        /* the primary dies */
            t->p = NULL;
            t->phase = 2;
        }
        break;
    }
    case 2: /* the client makes the backup serve and moves there */
        if (strcmp(t->switched, "inproc://ha-b") == 0 && nw_ha_state(t->b) == NW_HA_ACTIVE) {
            t->phase = 3;
            uv_timer_stop(&t->tick);
            uv_timer_stop(&t->watchdog);
            uv_close((uv_handle_t *)&t->tick, NULL);
            uv_close((uv_handle_t *)&t->watchdog, NULL);
            nw_zsock_close(t->lone, NULL, NULL);
            nw_brokers_close(t->client, NULL, NULL);
            nw_ha_close(t->b, NULL, NULL);
        }
        break;
    }
}

static void
on_watchdog(uv_timer_t *h)
{
    struct pair *t = h->data;
    t->timed_out = 1;
    stop_all(t);
}

static void
test_pair_on_loop(void **state)
{
    (void)state;
    struct pair t = {0};
    char ep[NW_EP_MAX];
    assert_int_equal(uv_loop_init(&t.loop), 0);
    t.ctx = zmq_ctx_new();
    /* inproc binds before connects: both brokers first */
    t.p = nw_ha_new(&t.loop, t.ctx, "inproc://ha-p", "inproc://ha-b", 0, LOOP_HB, 0, NULL, NULL);
    t.b = nw_ha_new(&t.loop, t.ctx, "inproc://ha-b", "inproc://ha-p", 1, LOOP_HB, 0, NULL, NULL);
    assert_non_null(t.p);
    assert_non_null(t.b);
    t.client = nw_brokers_new(&t.loop, t.ctx, "inproc://ha-p,inproc://ha-b", on_switch, &t);
    assert_non_null(t.client);
    assert_string_equal(nw_brokers_current(t.client), "inproc://ha-p");
    void *s = zmq_socket(t.ctx, ZMQ_DEALER);
    assert_int_equal(nw_ep_derive("inproc://ha-b", NW_EP_HA, ep, sizeof ep), 0);
    assert_int_equal(zmq_connect(s, ep), 0);
    t.lone = nw_zsock_new(&t.loop, s, on_lone, &t);
    assert_non_null(t.lone);
    uv_timer_init(&t.loop, &t.tick);
    uv_timer_init(&t.loop, &t.watchdog);
    t.tick.data = t.watchdog.data = &t;
    uv_timer_start(&t.tick, on_tick, 10, 10);
    uv_timer_start(&t.watchdog, on_watchdog, 20000, 0);
    uv_run(&t.loop, UV_RUN_DEFAULT);
    assert_false(t.timed_out);
    assert_int_equal(t.phase, 3);
    assert_string_equal(t.switched, "inproc://ha-b");
    assert_int_equal(uv_loop_close(&t.loop), 0);
    zmq_ctx_term(t.ctx);
}

/* ---- a broker of a pair ----------------------------------------------------------------- */

struct served {
    uv_loop_t loop;
    void *ctx;
    nw_broker_t *b;
    nw_worker_t *w;
    nw_push_t *push;
    unsigned got, ticks_passive;
    uv_timer_t tick, watchdog;
    int timed_out, done;
};

static void
on_job(nw_worker_t *w, const char *type, const uint8_t *data, size_t len, void *arg)
{
    (void)type;
    (void)data;
    (void)len;
    struct served *t = arg;
    t->got++;
    nw_worker_done(w);
}

static void
served_stop(struct served *t)
{
    t->done = 1;
    uv_timer_stop(&t->tick);
    uv_timer_stop(&t->watchdog);
    uv_close((uv_handle_t *)&t->tick, NULL);
    uv_close((uv_handle_t *)&t->watchdog, NULL);
    nw_push_close(t->push, NULL, NULL);
    nw_worker_close(t->w, NULL, NULL);
    nw_broker_close(t->b, NULL, NULL);
}

static void
served_tick(uv_timer_t *h)
{
    struct served *t = h->data;
    if (strcmp(nw_broker_state(t->b), "active") != 0) {
        /* the invariant: nothing is served before the broker is active */
        assert_int_equal(t->got, 0);
        t->ticks_passive++;
        return;
    }
    if (t->got == 3)
        served_stop(t);
}

static void
served_watchdog(uv_timer_t *h)
{
    struct served *t = h->data;
    t->timed_out = 1;
    served_stop(t);
}

static void
test_broker_serves_only_when_active(void **state)
{
    (void)state;
    struct served t = {0};
    char ep[NW_EP_MAX];
    assert_int_equal(uv_loop_init(&t.loop), 0);
    t.ctx = zmq_ctx_new();
    nw_broker_opts_t opts = {.heartbeat_ms = LOOP_HB, .peer = "inproc://absent"};
    t.b = nw_broker_new(&t.loop, t.ctx, "inproc://bp", &opts);
    assert_non_null(t.b);
    assert_string_equal(nw_broker_state(t.b), "starting");
    assert_int_equal(nw_ep_derive("inproc://bp", NW_EP_RAW_IN, ep, sizeof ep), 0);
    t.push = nw_push_new(&t.loop, t.ctx, ep, NULL, NULL);
    assert_non_null(t.push);
    for (int i = 0; i < 3; i++)
        assert_int_equal(nw_push_send(t.push, "raw", "x", 1), 0);
    t.w =
        nw_worker_new(&t.loop, t.ctx, "inproc://bp,inproc://absent", NW_EP_RAW_OUT, 4, on_job, &t);
    assert_non_null(t.w);
    uv_timer_init(&t.loop, &t.tick);
    uv_timer_init(&t.loop, &t.watchdog);
    t.tick.data = t.watchdog.data = &t;
    uv_timer_start(&t.tick, served_tick, 5, 5);
    uv_timer_start(&t.watchdog, served_watchdog, 20000, 0);
    uv_run(&t.loop, UV_RUN_DEFAULT);
    assert_false(t.timed_out);
    assert_int_equal(t.got, 3);
    assert_true(t.ticks_passive > 0); /* it did wait for a client to need it */
    assert_int_equal(uv_loop_close(&t.loop), 0);
    zmq_ctx_term(t.ctx);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_start),
        cmocka_unit_test(test_rules_return_and_split),
        cmocka_unit_test(test_pair_on_loop),
        cmocka_unit_test(test_broker_serves_only_when_active),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
