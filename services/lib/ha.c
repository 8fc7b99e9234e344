/* ha.c: one broker of a primary/backup pair (ha.h): the rules, the ha endpoint that peers and
 * clients talk to, and the link to the peer.
 *
 * The link is a DEALER with ZMQ_IMMEDIATE: a state sent while the peer is down is dropped,
 * not queued, so a peer that comes back never reads a stale "active" from before its restart.
 * The clients' probes (brokers.c) use the same option for the same reason: a stale "need"
 * arriving late must not make a passive broker take over. */
#include "newswire/ha.h"

#include "newswire/curve.h"
#include "newswire/log.h"
#include "newswire/stage.h"
#include "newswire/zsock.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Most states queued on a live link: a peer that reads slowly needs only the newest. */
#define LINK_HWM 16

static const char *const state_names[] = {"starting", "active", "passive"};

const char *
nw_ha_state_name(nw_ha_state_t s)
{
    return (unsigned)s <= NW_HA_PASSIVE ? state_names[s] : "?";
}

int
nw_ha_state_parse(const void *s, size_t n)
{
    for (int i = 0; i <= NW_HA_PASSIVE; i++)
        if (strlen(state_names[i]) == n && memcmp(state_names[i], s, n) == 0)
            return i;
    return -1;
}

/* ---- the rules --------------------------------------------------------------------------- */

void
nw_ha_fsm_init(nw_ha_fsm_t *f, int backup, unsigned heartbeat_ms, uint64_t now)
{
    memset(f, 0, sizeof *f);
    f->backup = backup;
    f->state = NW_HA_STARTING;
    f->peer = NW_HA_STARTING;
    f->expiry_ms = 2 * (uint64_t)heartbeat_ms;
    f->peer_expiry = now + f->expiry_ms;
}

int
nw_ha_fsm_peer_gone(const nw_ha_fsm_t *f, uint64_t now)
{
    return now >= f->peer_expiry;
}

nw_ha_state_t
nw_ha_fsm_peer(nw_ha_fsm_t *f, nw_ha_state_t peer, uint64_t now)
{
    f->peer = peer;
    f->peer_heard = 1;
    f->peer_expiry = now + f->expiry_ms;
    if (peer == NW_HA_ACTIVE) {
        /* rule 1: one active is enough; with two, the primary keeps serving */
        if (f->state == NW_HA_STARTING || (f->state == NW_HA_ACTIVE && f->backup))
            f->state = NW_HA_PASSIVE;
    } else if (f->state != NW_HA_ACTIVE) {
        /* rule 2: neither serves, so the primary does */
        f->state = f->backup ? NW_HA_PASSIVE : NW_HA_ACTIVE;
    }
    return f->state;
}

nw_ha_state_t
nw_ha_fsm_client(nw_ha_fsm_t *f, uint64_t now)
{
    /* rule 3: a client lost its broker, and so did we; a backup that never heard its
     * primary cannot tell a dead one from a broken link, so it keeps out */
    if (f->state != NW_HA_ACTIVE && nw_ha_fsm_peer_gone(f, now) && (f->peer_heard || !f->backup))
        f->state = NW_HA_ACTIVE;
    return f->state;
}

/* ---- the pair on a loop ------------------------------------------------------------------ */

struct nw_ha {
    uv_loop_t *loop;
    nw_zsock_t *router; /* the ha endpoint */
    void *link;         /* DEALER to the peer's ha endpoint */
    uv_timer_t timer;
    nw_ha_fsm_t fsm;
    unsigned hb_ms;
    int roles;
    int warned_role; /* the peer claims our role: logged once */
    nw_ha_change_cb cb;
    void *arg;
    int pending;
    void (*close_cb)(void *arg);
    void *close_arg;
};

static void
apply(nw_ha_t *ha, nw_ha_state_t before, const char *why)
{
    nw_ha_state_t now = ha->fsm.state;
    if (now == before)
        return;
    NW_INFO(NULL, "broker pair: %s -> %s role=%s reason=\"%s\"", nw_ha_state_name(before),
            nw_ha_state_name(now), ha->fsm.backup ? "backup" : "primary", why);
    if (ha->cb)
        ha->cb(ha, before, now, ha->arg);
}

static void
send_state(nw_ha_t *ha)
{
    const char *st = nw_ha_state_name(ha->fsm.state);
    const char *role = ha->fsm.backup ? "backup" : "primary";
    /* DONTWAIT with IMMEDIATE: dropped while the peer is away, which is what we want */
    if (zmq_send(ha->link, "PEER", 4, ZMQ_SNDMORE | ZMQ_DONTWAIT) == 4 &&
        zmq_send(ha->link, st, strlen(st), ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0)
        zmq_send(ha->link, role, strlen(role), ZMQ_DONTWAIT);
}

static int
frame_is(zmq_msg_t *f, const char *s)
{
    size_t n = strlen(s);
    return zmq_msg_size(f) == n && memcmp(zmq_msg_data(f), s, n) == 0;
}

static void
on_router(nw_zsock_t *zs, zmq_msg_t *f, size_t n, void *arg)
{
    nw_ha_t *ha = arg;
    uint64_t now = uv_now(ha->loop);
    nw_ha_state_t before = ha->fsm.state;

    if (n == 4 && frame_is(&f[1], "PEER")) {
        int st = nw_ha_state_parse(zmq_msg_data(&f[2]), zmq_msg_size(&f[2]));
        if (st < 0)
            goto bad;
        if (ha->roles && (nw_curve_peer_role(&f[1]) & NW_ROLE_BROKER) == 0) {
            nw_curve_refuse_msg("ha", &f[1], "peer-state");
            return;
        }
        if (frame_is(&f[3], ha->fsm.backup ? "backup" : "primary") && !ha->warned_role) {
            ha->warned_role = 1;
            NW_ERROR(NULL,
                     "broker pair: the peer is a %s too: give exactly one of them "
                     "--backup",
                     ha->fsm.backup ? "backup" : "primary");
        }
        nw_ha_fsm_peer(&ha->fsm, (nw_ha_state_t)st, now);
        apply(ha, before, st == NW_HA_ACTIVE ? "peer active" : "peer not active");
        return;
    }
    if (n == 3 && frame_is(&f[1], "PING")) {
        if (frame_is(&f[2], "1")) {
            nw_ha_fsm_client(&ha->fsm, now);
            apply(ha, before, "a client lost the peer too");
        }
        char ms[16];
        const char *st = nw_ha_state_name(ha->fsm.state);
        snprintf(ms, sizeof ms, "%u", ha->hb_ms);
        const void *bufs[4] = {zmq_msg_data(&f[0]), "STATE", st, ms};
        size_t lens[4] = {zmq_msg_size(&f[0]), 5, strlen(st), strlen(ms)};
        nw_zsock_sendv(zs, bufs, lens, 4); /* a client that left is no concern */
        return;
    }
bad:
    NW_WARN(NULL, "broker pair: dropped a bad message on ha frames=%zu", n);
}

static void
on_timer(uv_timer_t *t)
{
    nw_ha_t *ha = t->data;
    send_state(ha);
}

static void *
make_link(void *zctx, const char *peer_base, unsigned hb_ms)
{
    char ep[NW_EP_MAX];
    void *s = NULL;
    int one = 1, zero = 0, hwm = LINK_HWM;
    int ivl = (int)hb_ms, timeout = 2 * (int)hb_ms;
    if (nw_ep_derive(peer_base, NW_EP_HA, ep, sizeof ep) < 0) {
        NW_ERROR(NULL, "bad peer endpoint \"%s\"", peer_base);
        return NULL;
    }
    /* The ZeroMQ heartbeat closes a link to a vanished host, so IMMEDIATE drops again. */
    if ((s = zmq_socket(zctx, ZMQ_DEALER)) == NULL ||
        zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero) < 0 ||
        zmq_setsockopt(s, ZMQ_IMMEDIATE, &one, sizeof one) < 0 ||
        zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm) < 0 ||
        zmq_setsockopt(s, ZMQ_HEARTBEAT_IVL, &ivl, sizeof ivl) < 0 ||
        zmq_setsockopt(s, ZMQ_HEARTBEAT_TIMEOUT, &timeout, sizeof timeout) < 0 ||
        nw_zsock_limit(s) < 0 || nw_curve_client_self(s) < 0 || zmq_connect(s, ep) < 0) {
        NW_ERROR(NULL, "cannot connect to the peer broker endpoint=\"%s\" err=\"%s\"", ep,
                 zmq_strerror(zmq_errno()));
        if (s)
            zmq_close(s);
        return NULL;
    }
    return s;
}

static void *
bind_router(void *zctx, const char *bind_base, unsigned hb_ms)
{
    char ep[NW_EP_MAX];
    void *s = NULL;
    int zero = 0, ivl = (int)hb_ms, timeout = 2 * (int)hb_ms;
    if (nw_ep_derive(bind_base, NW_EP_HA, ep, sizeof ep) < 0) {
        NW_ERROR(NULL, "bad bind endpoint \"%s\"", bind_base);
        return NULL;
    }
    if ((s = zmq_socket(zctx, ZMQ_ROUTER)) == NULL ||
        zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero) < 0 ||
        zmq_setsockopt(s, ZMQ_HEARTBEAT_IVL, &ivl, sizeof ivl) < 0 ||
        zmq_setsockopt(s, ZMQ_HEARTBEAT_TIMEOUT, &timeout, sizeof timeout) < 0 ||
        nw_zsock_limit(s) < 0 || nw_curve_server_as(s, nw_ep_name(NW_EP_HA)) < 0 ||
        zmq_bind(s, ep) < 0) {
        NW_ERROR(NULL, "bind failed endpoint=\"%s\" err=\"%s\"", ep, zmq_strerror(zmq_errno()));
        if (s)
            zmq_close(s);
        return NULL;
    }
    return s;
}

nw_ha_t *
nw_ha_new(uv_loop_t *loop, void *zctx, const char *bind_base, const char *peer_base, int backup,
          unsigned heartbeat_ms, int roles, nw_ha_change_cb cb, void *arg)
{
    nw_ha_t *ha = calloc(1, sizeof *ha);
    void *r = NULL;
    if (ha == NULL)
        return NULL;
    ha->loop = loop;
    ha->hb_ms = heartbeat_ms;
    ha->roles = roles;
    ha->cb = cb;
    ha->arg = arg;
    nw_ha_fsm_init(&ha->fsm, backup, heartbeat_ms, uv_now(loop));
    if ((r = bind_router(zctx, bind_base, heartbeat_ms)) == NULL ||
        (ha->router = nw_zsock_new(loop, r, on_router, ha)) == NULL)
        goto err;
    r = NULL;
    if ((ha->link = make_link(zctx, peer_base, heartbeat_ms)) == NULL)
        goto err;
    uv_timer_init(loop, &ha->timer);
    ha->timer.data = ha;
    uv_timer_start(&ha->timer, on_timer, 0, heartbeat_ms);
    NW_INFO(NULL, "broker pair: %s, peer \"%s\", heartbeat %u ms; starting",
            backup ? "backup" : "primary", peer_base, heartbeat_ms);
    return ha;
err:
    if (r)
        zmq_close(r);
    nw_zsock_close(ha->router, NULL, NULL);
    free(ha);
    return NULL;
}

nw_ha_state_t
nw_ha_state(const nw_ha_t *ha)
{
    return ha->fsm.state;
}

static void
release_one(nw_ha_t *ha)
{
    if (--ha->pending > 0)
        return;
    if (ha->close_cb)
        ha->close_cb(ha->close_arg);
    free(ha);
}

static void
router_closed(nw_zsock_t *zs, void *arg)
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
nw_ha_close(nw_ha_t *ha, void (*cb)(void *arg), void *arg)
{
    if (ha == NULL)
        return;
    assert(ha->pending == 0);
    ha->close_cb = cb;
    ha->close_arg = arg;
    ha->pending = 2;
    zmq_close(ha->link);
    ha->link = NULL;
    uv_close((uv_handle_t *)&ha->timer, timer_closed);
    nw_zsock_close(ha->router, router_closed, ha);
}
