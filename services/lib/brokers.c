/* brokers.c: which broker of a pair a client uses (brokers.h).
 *
 * One DEALER per broker on its ha endpoint, with ZMQ_IMMEDIATE: a ping to a broker that is
 * down is dropped rather than queued, so a broker coming back never reads a stale need = "1"
 * from a client that has long found the other one. */
#include "newswire/brokers.h"

#include "newswire/curve.h"
#include "newswire/ha.h"
#include "newswire/log.h"
#include "newswire/metrics.h"
#include "newswire/stage.h"
#include "newswire/zsock.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct probe {
    nw_brokers_t *bs;
    char base[NW_EP_MAX];
    nw_zsock_t *zs;
    int state;          /* last answer (nw_ha_state_t), -1 before any */
    uint64_t active_ms; /* when it last answered "active" (0: never) */
};

struct nw_brokers {
    uv_loop_t *loop;
    struct probe probes[NW_EP_MAX_BROKERS];
    size_t n, cur;
    unsigned hb_ms;
    int ok_once; /* the broker in use served at least once */
    int lost;    /* the broker in use stopped serving (it may come back restarted) */
    uv_timer_t timer;
    nw_brokers_switch_cb cb;
    void *arg;
    nw_metric_t *m_switches, *m_current;
    int pending;
    void (*close_cb)(void *arg);
    void *close_arg;
};

static int
serving(const nw_brokers_t *bs, const struct probe *p, uint64_t now)
{
    return p->state == NW_HA_ACTIVE && now - p->active_ms <= 2 * (uint64_t)bs->hb_ms;
}

/* Keep the broker in use while it serves; else move to one that does. */
static void
choose(nw_brokers_t *bs)
{
    uint64_t now = uv_now(bs->loop);
    if (serving(bs, &bs->probes[bs->cur], now)) {
        bs->ok_once = 1;
        if (bs->lost) {
            /* it came back before the other took over (a quick restart): what it held is
             * gone all the same, so the owner hears of it as of a move */
            bs->lost = 0;
            NW_WARN(NULL, "broker pair: \"%s\" serves again", bs->probes[bs->cur].base);
            bs->cb(bs, bs->probes[bs->cur].base, bs->arg);
        }
        return;
    }
    bs->lost = bs->ok_once;
    for (size_t i = 0; i < bs->n; i++) {
        if (i == bs->cur || !serving(bs, &bs->probes[i], now))
            continue;
        NW_WARN(NULL, "broker pair: moving from \"%s\" to the active broker \"%s\"",
                bs->probes[bs->cur].base, bs->probes[i].base);
        bs->cur = i;
        bs->lost = 0;
        nw_metrics_add(bs->m_switches, 1);
        nw_metrics_set(bs->m_current, (int64_t)i);
        bs->cb(bs, bs->probes[i].base, bs->arg);
        return;
    }
}

static void on_timer(uv_timer_t *t);

/* Ask twice a heartbeat: the answers then tell a dead broker from a live one within two
 * heartbeats plus half of one, not three. */
static uint64_t
ask_ms(const nw_brokers_t *bs)
{
    return bs->hb_ms / 2 ? bs->hb_ms / 2 : 1;
}

static void
on_answer(nw_zsock_t *zs, zmq_msg_t *f, size_t n, void *arg)
{
    (void)zs;
    struct probe *p = arg;
    nw_brokers_t *bs = p->bs;
    int st = n == 3 ? nw_ha_state_parse(zmq_msg_data(&f[1]), zmq_msg_size(&f[1])) : -1;
    if (st < 0 || zmq_msg_size(&f[0]) != 5 || memcmp(zmq_msg_data(&f[0]), "STATE", 5) != 0) {
        NW_WARN(NULL, "broker pair: bad answer from \"%s\" frames=%zu", p->base, n);
        return;
    }
    p->state = st;
    if (st == NW_HA_ACTIVE)
        p->active_ms = uv_now(bs->loop);
    char num[16] = {0};
    size_t len = zmq_msg_size(&f[2]);
    memcpy(num, zmq_msg_data(&f[2]), len < sizeof num - 1 ? len : sizeof num - 1);
    long ms = strtol(num, NULL, 10);
    /* ask as often as the brokers heartbeat each other */
    if (ms >= 10 && ms <= 60000 && (unsigned)ms != bs->hb_ms) {
        bs->hb_ms = (unsigned)ms;
        uv_timer_start(&bs->timer, on_timer, ask_ms(bs), ask_ms(bs));
    }
    choose(bs);
}

static void
on_timer(uv_timer_t *t)
{
    nw_brokers_t *bs = t->data;
    uint64_t now = uv_now(bs->loop);
    choose(bs);
    /* no broker answered "active" for two heartbeats: say we need one (rule 3 of ha.h) */
    const char *need = "1";
    for (size_t i = 0; i < bs->n; i++)
        if (serving(bs, &bs->probes[i], now))
            need = "0";
    for (size_t i = 0; i < bs->n; i++) {
        const void *bufs[2] = {"PING", need};
        size_t lens[2] = {4, 1};
        nw_zsock_sendv(bs->probes[i].zs, bufs, lens, 2); /* -EAGAIN: that one is down */
    }
}

static void *
make_probe(void *zctx, const char *base, unsigned hb_ms)
{
    char ep[NW_EP_MAX];
    void *s = NULL;
    int one = 1, zero = 0, ivl = (int)hb_ms, timeout = 2 * (int)hb_ms;
    if (nw_ep_derive(base, NW_EP_HA, ep, sizeof ep) < 0)
        return NULL;
    if ((s = zmq_socket(zctx, ZMQ_DEALER)) == NULL ||
        zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero) < 0 ||
        zmq_setsockopt(s, ZMQ_IMMEDIATE, &one, sizeof one) < 0 ||
        zmq_setsockopt(s, ZMQ_HEARTBEAT_IVL, &ivl, sizeof ivl) < 0 ||
        zmq_setsockopt(s, ZMQ_HEARTBEAT_TIMEOUT, &timeout, sizeof timeout) < 0 ||
        nw_zsock_limit(s) < 0 || nw_curve_client(s) < 0 || zmq_connect(s, ep) < 0) {
        NW_ERROR(NULL, "broker pair: cannot connect to \"%s\": %s", ep, zmq_strerror(zmq_errno()));
        if (s)
            zmq_close(s);
        return NULL;
    }
    return s;
}

nw_brokers_t *
nw_brokers_new(uv_loop_t *loop, void *zctx, const char *list, nw_brokers_switch_cb cb, void *arg)
{
    nw_brokers_t *bs = NULL;
    size_t n = nw_ep_list_count(list);

    assert(cb);
    if (n < 2 || nw_ep_list_check(list, NW_EP_HA) < 0) {
        NW_ERROR(NULL, "bad broker list \"%s\"", list ? list : "");
        return NULL;
    }
    if ((bs = calloc(1, sizeof *bs)) == NULL)
        return NULL;
    bs->loop = loop;
    bs->n = n;
    bs->hb_ms = NW_STAGE_HEARTBEAT_MS;
    bs->cb = cb;
    bs->arg = arg;
    for (size_t i = 0; i < n; i++) {
        struct probe *p = &bs->probes[i];
        p->bs = bs;
        p->state = -1;
        nw_ep_list_entry(list, i, p->base, sizeof p->base);
        void *s = make_probe(zctx, p->base, bs->hb_ms);
        if (s == NULL || (p->zs = nw_zsock_new(loop, s, on_answer, p)) == NULL) {
            if (s)
                zmq_close(s);
            goto err;
        }
    }
    bs->m_switches = nw_metrics_counter("nw_brokers_switches_total", NULL,
                                        "moves to the other broker of the pair (failovers seen)");
    bs->m_current =
        nw_metrics_gauge("nw_brokers_current", NULL, "index in --broker of the broker in use");
    uv_timer_init(loop, &bs->timer);
    bs->timer.data = bs;
    uv_timer_start(&bs->timer, on_timer, 0, ask_ms(bs));
    return bs;
err:
    for (size_t i = 0; i < n; i++)
        nw_zsock_close(bs->probes[i].zs, NULL, NULL);
    free(bs);
    return NULL;
}

const char *
nw_brokers_current(const nw_brokers_t *bs)
{
    return bs->probes[bs->cur].base;
}

static void
release_one(nw_brokers_t *bs)
{
    if (--bs->pending > 0)
        return;
    if (bs->close_cb)
        bs->close_cb(bs->close_arg);
    free(bs);
}

static void
probe_closed(nw_zsock_t *zs, void *arg)
{
    (void)zs;
    release_one(arg);
}

static void
timer_closed(uv_handle_t *h)
{
    release_one(h->data);
}

void
nw_brokers_close(nw_brokers_t *bs, void (*cb)(void *arg), void *arg)
{
    if (bs == NULL)
        return;
    assert(bs->pending == 0);
    bs->close_cb = cb;
    bs->close_arg = arg;
    bs->pending = 1 + (int)bs->n;
    uv_close((uv_handle_t *)&bs->timer, timer_closed);
    for (size_t i = 0; i < bs->n; i++)
        nw_zsock_close(bs->probes[i].zs, probe_closed, bs);
}
