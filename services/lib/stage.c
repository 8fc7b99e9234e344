/* stage.c: how services meet at the broker (see stage.h): endpoint derivation, the PUSH
 * producer, the credit-based worker and the publisher.
 *
 * Worker credit bookkeeping keeps one invariant: credit_out + inflight + free == window,
 * where credit_out is what the broker may still send us, inflight what we received and did
 * not finish, and free what we have not yet granted. READY grants exactly the jobs finished
 * since the last grant, which is what lets the broker release its copies of them in order.
 *
 * READY goes out at the end of the loop turn in which jobs finished (one message for all the
 * jobs of that turn, e.g. a store's whole commit), not once half the window is free: the
 * broker keeps every job it has not heard READY for in its in-flight set and requeues them
 * all when the worker dies, so a late READY turned every committed job of a killed store
 * into a redelivery, and an idle pipeline showed jobs in flight that were long finished.
 *
 * A worker given a broker pair ("A,B") follows the active broker (brokers.h, on_switch): its
 * DEALER and PUSH sockets move, and it says HELLO every interval until the new one answers. */
#include "newswire/stage.h"

#include "newswire/brokers.h"
#include "newswire/metrics.h"
#include "newswire/curve.h"
#include "newswire/log.h"
#include "newswire/zsock.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PUSH_SNDHWM 1000
#define PUB_SNDHWM 10000
#define LINGER_MS 1000

static const char *const ep_names[NW_EP_HA + 1] = {
    "raw.in",       "raw.out", "article.in", "article.out", "enriched.in",
    "enriched.out", "pub.in",  "pub.out",    "ha",
};

const char *
nw_ep_name(nw_ep_t which)
{
    return (unsigned)which <= NW_EP_HA ? ep_names[which] : "?";
}

static int
derive_tcp(const char *base, nw_ep_t which, char *out, size_t n)
{
    const char *host = base + strlen("tcp://");
    const char *colon = strrchr(host, ':');
    if (!colon || colon == host)
        return -EINVAL;
    size_t hostlen = (size_t)(colon - host);
    if (strpbrk(host, "/ \t"))
        return -EINVAL;
    if (host[0] == '[') {
        /* IPv6 literal: the port colon must follow the closing bracket. */
        if (hostlen < 3 || colon[-1] != ']')
            return -EINVAL;
    } else if (memchr(host, ':', hostlen) || memchr(host, ']', hostlen)) {
        return -EINVAL;
    }
    const char *port = colon + 1;
    size_t plen = strlen(port);
    if (plen == 0 || plen > 5 || strspn(port, "0123456789") != plen)
        return -EINVAL;
    long p = strtol(port, NULL, 10);
    if (p < 1 || p + (long)which > 65535)
        return -EINVAL;
    int k = snprintf(out, n, "tcp://%.*s:%ld", (int)hostlen, host, p + (long)which);
    return k < 0 || (size_t)k >= n ? -EINVAL : 0;
}

int
nw_ep_derive(const char *base, nw_ep_t which, char *out, size_t n)
{
    if (!base || !out || n == 0 || (unsigned)which > NW_EP_HA)
        return -EINVAL;
    if (strncmp(base, "tcp://", 6) == 0)
        return derive_tcp(base, which, out, n);
    size_t prefix = strncmp(base, "ipc://", 6) == 0      ? 6
                    : strncmp(base, "inproc://", 9) == 0 ? 9
                                                         : 0;
    if (prefix == 0 || base[prefix] == 0)
        return -EINVAL;
    int k = snprintf(out, n, "%s-%s", base, ep_names[which]);
    return k < 0 || (size_t)k >= n ? -EINVAL : 0;
}

size_t
nw_ep_list_count(const char *list)
{
    if (!list || !*list)
        return 0;
    size_t k = 1;
    for (const char *p = list; (p = strchr(p, ',')) != NULL; p++)
        k++;
    return k;
}

int
nw_ep_list_entry(const char *list, size_t i, char *out, size_t n)
{
    const char *p = list;
    if (!list || !out || n == 0)
        return -EINVAL;
    for (; i > 0; i--) {
        p = strchr(p, ',');
        if (!p)
            return -EINVAL;
        p++;
    }
    size_t len = strcspn(p, ",");
    if (len == 0 || len >= n)
        return -EINVAL;
    memcpy(out, p, len);
    out[len] = 0;
    return 0;
}

int
nw_ep_list_check(const char *list, nw_ep_t last)
{
    char base[NW_EP_MAX], ep[NW_EP_MAX];
    size_t k = nw_ep_list_count(list);
    if (k == 0 || k > NW_EP_MAX_BROKERS)
        return -EINVAL;
    for (size_t i = 0; i < k; i++)
        if (nw_ep_list_entry(list, i, base, sizeof base) < 0 ||
            nw_ep_derive(base, last, ep, sizeof ep) < 0)
            return -EINVAL;
    return 0;
}

int
nw_ep_for_type(const char *type)
{
    if (!type)
        return -1;
    if (strcmp(type, "raw") == 0)
        return NW_EP_RAW_IN;
    if (strcmp(type, "article") == 0)
        return NW_EP_ARTICLE_IN;
    if (strcmp(type, "enriched") == 0 || strcmp(type, "dead") == 0)
        return NW_EP_ENRICHED_IN;
    return -1;
}

/* Create a socket with a bounded linger and the given send high-water mark, secured with CURVE
 * when the process has keys (every one of these connects to the broker). */
static void *
make_socket(void *zctx, int type, int sndhwm)
{
    void *s = zmq_socket(zctx, type);
    int linger = LINGER_MS;
    if (!s)
        return NULL;
    if (zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger) < 0 ||
        (sndhwm > 0 && zmq_setsockopt(s, ZMQ_SNDHWM, &sndhwm, sizeof sndhwm) < 0) ||
        nw_zsock_limit(s) < 0 || nw_curve_client(s) < 0) {
        zmq_close(s);
        return NULL;
    }
    return s;
}

/* ---- nw_push ---------------------------------------------------------------------------- */

struct nw_push {
    uv_loop_t *loop;
    void *zctx;
    nw_zsock_t *zs;
    void *sock; /* the PUSH inside zs */
    char endpoint[NW_EP_MAX];
    nw_push_writable_cb on_writable;
    void *arg;
    void (*close_cb)(void *arg);
    void *close_arg;
};

static void
push_writable(nw_zsock_t *zs, void *arg)
{
    (void)zs;
    nw_push_t *p = arg;
    if (p->on_writable)
        p->on_writable(p, p->arg);
}

nw_push_t *
nw_push_new(uv_loop_t *loop, void *zctx, const char *endpoint, nw_push_writable_cb on_writable,
            void *arg)
{
    nw_push_t *p = NULL;
    void *s = NULL;

    p = calloc(1, sizeof *p);
    if (!p)
        goto err;
    s = make_socket(zctx, ZMQ_PUSH, PUSH_SNDHWM);
    if (!s || strlen(endpoint) >= sizeof p->endpoint || zmq_connect(s, endpoint) < 0) {
        NW_ERROR(NULL, "push connect failed endpoint=\"%s\" err=\"%s\"", endpoint,
                 zmq_strerror(errno));
        goto err;
    }
    strcpy(p->endpoint, endpoint);
    p->sock = s;
    p->loop = loop;
    p->zctx = zctx;
    p->on_writable = on_writable;
    p->arg = arg;
    p->zs = nw_zsock_new(loop, s, NULL, p);
    if (!p->zs)
        goto err;
    return p;
err:
    if (s)
        zmq_close(s);
    free(p);
    return NULL;
}

int
nw_push_send(nw_push_t *p, const char *type, const void *payload, size_t len)
{
    const void *bufs[2] = {type, payload};
    size_t lens[2] = {strlen(type), len};
    int rc = nw_zsock_sendv(p->zs, bufs, lens, 2);
    if (rc == -EAGAIN && p->on_writable)
        nw_zsock_notify_writable(p->zs, push_writable);
    return rc;
}

int
nw_push_reconnect(nw_push_t *p, const char *endpoint)
{
    if (strcmp(endpoint, p->endpoint) == 0)
        return 0;
    if (strlen(endpoint) >= sizeof p->endpoint)
        return -EINVAL;
    /* A new socket, not zmq_disconnect + zmq_connect on this one: a PUSH round-robins over
     * its pipes, and the old pipe leaves only once the socket has processed its termination,
     * so messages sent right after the move (fetch's re-sends) went half into the pipe of the
     * broker that is gone, and were lost again. */
    void *s = make_socket(p->zctx, ZMQ_PUSH, PUSH_SNDHWM);
    nw_zsock_t *zs = NULL;
    int zero = 0;
    if (!s || zmq_connect(s, endpoint) < 0 || !(zs = nw_zsock_new(p->loop, s, NULL, p))) {
        int rc = -zmq_errno();
        NW_ERROR(NULL, "push connect failed endpoint=\"%s\" err=\"%s\"", endpoint,
                 zmq_strerror(-rc));
        if (s)
            zmq_close(s);
        return rc < 0 ? rc : -ENOMEM;
    }
    /* what it still holds was for the broker that is gone: drop it (fetch re-sends) */
    zmq_setsockopt(p->sock, ZMQ_LINGER, &zero, sizeof zero);
    nw_zsock_close(p->zs, NULL, NULL);
    p->zs = zs;
    p->sock = s;
    strcpy(p->endpoint, endpoint);
    /* the new pipe can take sends: a sender waiting for that must hear it */
    if (p->on_writable)
        nw_zsock_notify_writable(p->zs, push_writable);
    return 0;
}

static void
free_payload(void *data, void *hint)
{
    (void)hint;
    free(data);
}

int
nw_push_send_take(nw_push_t *p, const char *type, uint8_t **payload, size_t len)
{
    const void *bufs[1] = {type};
    size_t lens[1] = {strlen(type)};
    zmq_msg_t m;
    int rc = zmq_msg_init_data(&m, *payload, len, free_payload, NULL);
    if (rc < 0) { /* cannot happen: libzmq allocates nothing for a message given its buffer */
        free(*payload);
        *payload = NULL;
        return -zmq_errno();
    }
    *payload = NULL;
    rc = nw_zsock_sendv_msg(p->zs, bufs, lens, 1, &m);
    zmq_msg_close(&m); /* frees the buffer only when the send failed */
    if (rc == -EAGAIN && p->on_writable)
        nw_zsock_notify_writable(p->zs, push_writable);
    return rc;
}

static void
push_closed(nw_zsock_t *zs, void *arg)
{
    (void)zs;
    nw_push_t *p = arg;
    if (p->close_cb)
        p->close_cb(p->close_arg);
    free(p);
}

void
nw_push_close(nw_push_t *p, void (*cb)(void *arg), void *arg)
{
    if (!p)
        return;
    p->close_cb = cb;
    p->close_arg = arg;
    nw_zsock_close(p->zs, push_closed, p);
}

/* ---- nw_worker -------------------------------------------------------------------------- */

/* An emitted message the queue pushed back on, waiting for its PUSH socket to drain. */
struct held {
    struct held *next;
    nw_ep_t ep;
    char type[NW_STAGE_TYPE_MAX];
    size_t len;
    uint8_t data[];
};

struct nw_worker {
    uv_loop_t *loop;
    void *zctx;
    char broker[NW_EP_MAX]; /* the base endpoint in use */
    nw_ep_t stage_out;
    char dealer_ep[NW_EP_MAX]; /* where the DEALER is connected */
    nw_brokers_t *pair;        /* a broker pair: which one is active; else NULL */
    void *dealer_sock;         /* the DEALER inside dealer, to move it */
    nw_zsock_t *dealer;
    nw_push_t *push[NW_EP_COUNT]; /* created on first emit, indexed by .in endpoint */
    uv_timer_t timer;
    uv_idle_t grant; /* sends READY for the jobs finished in this loop turn */
    unsigned hb_ms;
    unsigned missed;      /* heartbeat ticks since the broker last said anything */
    int heard;            /* the broker said something since we started: we are connected */
    uint64_t last_out_ms; /* when we last sent the broker anything (uv_hrtime, ms) */
    unsigned window, inflight, credit_out;
    /* Held output, in emit order. Bounded because no credit is granted while it is
     * non-empty: at most `window` jobs' worth of output can pile up. */
    struct held *held_head, *held_tail;
    size_t held_n;
    nw_worker_job_cb cb;
    void *arg;
    nw_metric_t *m_jobs; /* nw_worker_jobs_total{stage=...}: shows which workers got work */
    int closing, finishing;
    unsigned close_ticks;
    int pending; /* handles and sockets still closing */
    void (*close_cb)(void *arg);
    void *close_arg;
};

static uint64_t
now_ms(void)
{
    return uv_hrtime() / 1000000u;
}

static int
send_cmd(nw_worker_t *w, const char *cmd, const char *num)
{
    const void *bufs[2] = {cmd, num};
    size_t lens[2] = {strlen(cmd), num ? strlen(num) : 0};
    int rc = nw_zsock_sendv(w->dealer, bufs, lens, num ? 2 : 1);
    if (rc == 0)
        w->last_out_ms = now_ms();
    return rc;
}

/* Jobs run one after another inside one loop turn (up to a receive batch of them), so a turn
 * of slow jobs (enrich on long texts, a store applying and committing a batch on a busy
 * machine) can outlast NW_STAGE_LIVENESS heartbeat intervals while the timer cannot fire.
 * The broker then dropped the worker as silent and requeued its whole window, committed work
 * included: a redelivery storm with nothing killed. So a heartbeat also goes out between two
 * jobs once an interval has passed without one. The clock is read fresh (not the loop's
 * cached time, which stands still during the turn). */
static void
heartbeat_if_due(nw_worker_t *w)
{
    if (!w->closing && now_ms() - w->last_out_ms >= w->hb_ms)
        send_cmd(w, "HB", NULL);
}

static int
send_credit(nw_worker_t *w, const char *cmd, unsigned n)
{
    char num[16];
    snprintf(num, sizeof num, "%u", n);
    return send_cmd(w, cmd, num);
}

/* Tell the broker our whole free credit, forgetting what it may have thought. */
static void
announce(nw_worker_t *w)
{
    unsigned used = w->inflight;
    unsigned free_slots = used < w->window ? w->window - used : 0;
    if (send_credit(w, "HELLO", free_slots) == 0)
        w->credit_out = free_slots;
}

/* Grant the credit of finished jobs now, never while output is held (that is how
 * backpressure reaches the broker's queue). */
static void
grant_now(nw_worker_t *w)
{
    if (w->closing || w->held_head)
        return;
    unsigned used = w->inflight + w->credit_out;
    if (used >= w->window)
        return;
    unsigned free_slots = w->window - used;
    if (send_credit(w, "READY", free_slots) == 0)
        w->credit_out += free_slots;
}

static void
on_grant(uv_idle_t *h)
{
    nw_worker_t *w = h->data;
    uv_idle_stop(h);
    grant_now(w);
}

/* Jobs finished: grant their credit once this loop turn is over, so the jobs finished
 * together (one batch of messages, one commit) cost one READY. */
static void
maybe_grant(nw_worker_t *w)
{
    if (w->closing || w->held_head || w->inflight + w->credit_out >= w->window)
        return;
    uv_idle_start(&w->grant, on_grant);
}

static void finish_close(nw_worker_t *w);

/* Send held messages in order until one is pushed back again. */
static void
flush_held(nw_worker_t *w)
{
    while (w->held_head) {
        struct held *h = w->held_head;
        int rc = nw_push_send(w->push[h->ep], h->type, h->data, h->len);
        if (rc == -EAGAIN)
            return; /* its push socket calls back when writable */
        if (rc < 0)
            NW_ERROR(NULL, "held message dropped type=\"%s\" err=\"%s\"", h->type, strerror(-rc));
        w->held_head = h->next;
        if (!w->held_head)
            w->held_tail = NULL;
        w->held_n--;
        free(h);
    }
    if (w->closing)
        finish_close(w);
    else
        maybe_grant(w);
}

static void
on_push_writable(nw_push_t *p, void *arg)
{
    (void)p;
    flush_held(arg);
}

static void on_timer(uv_timer_t *t);

static void
on_dealer(nw_zsock_t *zs, zmq_msg_t *f, size_t n, void *arg)
{
    (void)zs;
    nw_worker_t *w = arg;
    const char *cmd = zmq_msg_data(&f[0]);
    size_t cmdlen = zmq_msg_size(&f[0]);

    w->missed = 0;
    w->heard = 1;
    if (n == 3 && cmdlen == 3 && memcmp(cmd, "JOB", 3) == 0) {
        char type[NW_STAGE_TYPE_MAX];
        size_t tlen = zmq_msg_size(&f[1]);
        if (tlen == 0 || tlen >= sizeof type)
            goto bad;
        if (w->closing)
            return; /* we said or will say BYE: the broker requeues it */
        memcpy(type, zmq_msg_data(&f[1]), tlen);
        type[tlen] = 0;
        if (w->credit_out > 0)
            w->credit_out--;
        w->inflight++;
        nw_metrics_add(w->m_jobs, 1);
        w->cb(w, type, zmq_msg_data(&f[2]), zmq_msg_size(&f[2]), w->arg);
        heartbeat_if_due(w);
        return;
    }
    if (cmdlen == 2 && memcmp(cmd, "HB", 2) == 0 && n <= 2) {
        if (n == 2 && !w->closing) {
            char num[16] = {0};
            size_t len = zmq_msg_size(&f[1]);
            memcpy(num, zmq_msg_data(&f[1]), len < sizeof num - 1 ? len : sizeof num - 1);
            long ms = strtol(num, NULL, 10);
            /* Adopt the broker's interval, so it hears from us as often as it expects. */
            if (ms >= 10 && ms <= 60000 && (unsigned)ms != w->hb_ms) {
                w->hb_ms = (unsigned)ms;
                uv_timer_start(&w->timer, on_timer, ms, ms);
            }
        }
        return;
    }
bad:
    NW_WARN(NULL, "bad message from broker cmd=\"%.*s\" frames=%zu",
            (int)(cmdlen < 16 ? cmdlen : 16), cmd, n);
}

static void
on_timer(uv_timer_t *t)
{
    nw_worker_t *w = t->data;

    if (w->closing) {
        /* Held output could not be flushed in time: give up rather than hang the drain; the
         * jobs that produced it are requeued by the broker (no READY was sent for them). */
        if (++w->close_ticks > NW_STAGE_LIVENESS && !w->finishing) {
            NW_WARN(NULL, "giving up on held messages count=%zu", w->held_n);
            finish_close(w);
        }
        return;
    }
    /* A broker of a pair ignores a HELLO while it is not yet active (it may be the one that
     * is taking over): until one answers, say HELLO again every interval, not just HB. */
    if (w->pair && !w->heard)
        announce(w);
    else
        send_cmd(w, "HB", NULL);
    if (++w->missed > NW_STAGE_LIVENESS) {
        /* The broker restarted or dropped us: whatever credit it had for us is gone. */
        NW_INFO(NULL, "broker silent, announcing credit again inflight=%u", w->inflight);
        w->missed = 0;
        w->heard = 0; /* not ready until the broker answers again */
        w->credit_out = 0;
        announce(w);
    }
    grant_now(w); /* retries a grant whose send failed */
}

const char *
nw_worker_ready(void *arg)
{
    const nw_worker_t *w = arg;
    if (w == NULL)
        return "no worker";
    if (w->closing)
        return "closing";
    return w->heard ? NULL : "no word from the broker yet";
}

/* The pair failed over: the DEALER and every PUSH move to base, and the new broker hears
 * HELLO with our free credit (jobs still held from the old one finish; their output goes to
 * the new one, and READY for them just returns credit). */
static void
on_switch(nw_brokers_t *bs, const char *base, void *arg)
{
    (void)bs;
    nw_worker_t *w = arg;
    char ep[NW_EP_MAX];
    if (w->closing || nw_ep_derive(base, w->stage_out, ep, sizeof ep) < 0)
        return;
    if (strcmp(ep, w->dealer_ep) != 0) {
        /* a new DEALER, for the reason nw_push_reconnect gives: the old pipe would take a
         * share of what we send next (the HELLO) */
        void *s = make_socket(w->zctx, ZMQ_DEALER, 0);
        nw_zsock_t *zs = NULL;
        int zero = 0;
        if (!s || zmq_connect(s, ep) < 0 || !(zs = nw_zsock_new(w->loop, s, on_dealer, w))) {
            NW_ERROR(NULL, "worker connect failed endpoint=\"%s\" err=\"%s\"", ep,
                     zmq_strerror(zmq_errno()));
            if (s)
                zmq_close(s);
            return;
        }
        zmq_setsockopt(w->dealer_sock, ZMQ_LINGER, &zero, sizeof zero);
        nw_zsock_close(w->dealer, NULL, NULL);
        w->dealer = zs;
        w->dealer_sock = s;
    }
    strcpy(w->dealer_ep, ep);
    strcpy(w->broker, base);
    for (int i = 0; i < NW_EP_COUNT; i++)
        if (w->push[i] && nw_ep_derive(base, (nw_ep_t)i, ep, sizeof ep) == 0)
            nw_push_reconnect(w->push[i], ep);
    w->missed = 0;
    w->heard = 0;
    w->credit_out = 0;
    announce(w);
}

nw_worker_t *
nw_worker_new(uv_loop_t *loop, void *zctx, const char *broker, nw_ep_t stage_out, unsigned window,
              nw_worker_job_cb cb, void *arg)
{
    nw_worker_t *w = NULL;
    void *s = NULL;
    char ep[NW_EP_MAX], first[NW_EP_MAX];

    assert(loop && zctx && broker && cb && window > 0);
    if (stage_out != NW_EP_RAW_OUT && stage_out != NW_EP_ARTICLE_OUT &&
        stage_out != NW_EP_ENRICHED_OUT)
        goto err;
    /* a pair starts on its first entry, as a single broker on its only one */
    if (nw_ep_list_check(broker, stage_out) < 0 ||
        nw_ep_list_entry(broker, 0, first, sizeof first) < 0 ||
        nw_ep_derive(first, stage_out, ep, sizeof ep) < 0) {
        NW_ERROR(NULL, "bad broker endpoint \"%s\"", broker);
        goto err;
    }
    w = calloc(1, sizeof *w);
    if (!w)
        goto err;
    s = make_socket(zctx, ZMQ_DEALER, 0);
    if (!s || zmq_connect(s, ep) < 0) {
        NW_ERROR(NULL, "worker connect failed endpoint=\"%s\" err=\"%s\"", ep, zmq_strerror(errno));
        goto err;
    }
    w->dealer = nw_zsock_new(loop, s, on_dealer, w);
    if (!w->dealer)
        goto err;
    w->dealer_sock = s;
    s = NULL;
    w->loop = loop;
    w->zctx = zctx;
    w->stage_out = stage_out;
    strcpy(w->broker, first);
    strcpy(w->dealer_ep, ep);
    w->window = window;
    char labels[64];
    snprintf(labels, sizeof labels, "stage=\"%s\"", nw_ep_name(stage_out));
    w->m_jobs = nw_metrics_counter("nw_worker_jobs_total", labels, "jobs received from the broker");
    w->cb = cb;
    w->arg = arg;
    w->hb_ms = NW_STAGE_HEARTBEAT_MS;
    uv_timer_init(loop, &w->timer);
    w->timer.data = w;
    uv_idle_init(loop, &w->grant);
    w->grant.data = w;
    uv_timer_start(&w->timer, on_timer, w->hb_ms, w->hb_ms);
    /* Queued in the DEALER until the connection is up. */
    announce(w);
    if (nw_ep_list_count(broker) > 1 &&
        (w->pair = nw_brokers_new(loop, zctx, broker, on_switch, w)) == NULL) {
        /* everything is made: close it the normal way */
        nw_worker_close(w, NULL, NULL);
        return NULL;
    }
    return w;
err:
    if (s)
        zmq_close(s);
    free(w);
    return NULL;
}

int
nw_worker_emit(nw_worker_t *w, const char *type, const void *payload, size_t len)
{
    int ep = nw_ep_for_type(type);
    if (ep < 0 || strlen(type) >= NW_STAGE_TYPE_MAX)
        return -EINVAL;
    if (!w->push[ep]) {
        char addr[NW_EP_MAX];
        if (nw_ep_derive(w->broker, (nw_ep_t)ep, addr, sizeof addr) < 0)
            return -EINVAL;
        w->push[ep] = nw_push_new(w->loop, w->zctx, addr, on_push_writable, w);
        if (!w->push[ep])
            return -ENOMEM;
    }
    if (!w->held_head) {
        int rc = nw_push_send(w->push[ep], type, payload, len);
        if (rc != -EAGAIN)
            return rc;
    }
    struct held *h = malloc(sizeof *h + len);
    if (!h)
        return -ENOMEM;
    h->next = NULL;
    h->ep = (nw_ep_t)ep;
    strcpy(h->type, type);
    h->len = len;
    if (len)
        memcpy(h->data, payload, len);
    if (w->held_tail)
        w->held_tail->next = h;
    else
        w->held_head = h;
    w->held_tail = h;
    w->held_n++;
    return 0;
}

void
nw_worker_done(nw_worker_t *w)
{
    assert(w->inflight > 0);
    w->inflight--;
    maybe_grant(w);
}

unsigned
nw_worker_inflight(const nw_worker_t *w)
{
    return w->inflight;
}

size_t
nw_worker_held(const nw_worker_t *w)
{
    return w->held_n;
}

static void
release_one(nw_worker_t *w)
{
    if (--w->pending > 0)
        return;
    while (w->held_head) {
        struct held *h = w->held_head;
        w->held_head = h->next;
        free(h);
    }
    if (w->close_cb)
        w->close_cb(w->close_arg);
    free(w);
}

static void
zsock_closed(nw_zsock_t *zs, void *arg)
{
    (void)zs;
    release_one(arg);
}

static void
push_closed_cb(void *arg)
{
    release_one(arg);
}

static void
timer_closed(uv_handle_t *h)
{
    release_one(h->data);
}

/* Output is flushed (or given up on): hand back finished credit, say goodbye, close. */
static void
finish_close(nw_worker_t *w)
{
    if (w->finishing)
        return;
    w->finishing = 1;
    unsigned used = w->inflight + w->credit_out;
    if (!w->held_head && used < w->window)
        send_credit(w, "READY", w->window - used);
    send_cmd(w, "BYE", NULL);
    w->pending = 3 + (w->pair != NULL); /* timer + grant + dealer (+ pair) */
    for (int i = 0; i < NW_EP_COUNT; i++)
        if (w->push[i])
            w->pending++;
    if (w->pair)
        nw_brokers_close(w->pair, push_closed_cb, w);
    w->pair = NULL;
    uv_close((uv_handle_t *)&w->timer, timer_closed);
    uv_close((uv_handle_t *)&w->grant, timer_closed);
    nw_zsock_close(w->dealer, zsock_closed, w);
    for (int i = 0; i < NW_EP_COUNT; i++)
        if (w->push[i])
            nw_push_close(w->push[i], push_closed_cb, w);
}

void
nw_worker_close(nw_worker_t *w, void (*cb)(void *arg), void *arg)
{
    if (!w)
        return;
    assert(!w->closing);
    w->closing = 1;
    w->close_cb = cb;
    w->close_arg = arg;
    nw_zsock_pause(w->dealer);
    if (!w->held_head)
        finish_close(w);
}

/* ---- nw_pub ----------------------------------------------------------------------------- */

struct nw_pub {
    void *sock;
};

nw_pub_t *
nw_pub_new(void *zctx, const char *broker)
{
    nw_pub_t *p = NULL;
    char base[NW_EP_MAX], ep[NW_EP_MAX] = "";

    if (nw_ep_list_check(broker, NW_EP_PUB_IN) < 0) {
        NW_ERROR(NULL, "bad broker endpoint \"%s\"", broker ? broker : "");
        goto err;
    }
    p = calloc(1, sizeof *p);
    if (!p)
        goto err;
    p->sock = make_socket(zctx, ZMQ_PUB, PUB_SNDHWM);
    if (!p->sock)
        goto err;
    /* Every hub of a pair: the passive one drops what it gets, so nothing needs to follow the
     * failover, and a publication is never held for a broker that is gone. */
    for (size_t i = 0; i < nw_ep_list_count(broker); i++) {
        nw_ep_list_entry(broker, i, base, sizeof base);
        nw_ep_derive(base, NW_EP_PUB_IN, ep, sizeof ep);
        if (zmq_connect(p->sock, ep) < 0) {
            NW_ERROR(NULL, "pub connect failed endpoint=\"%s\" err=\"%s\"", ep,
                     zmq_strerror(errno));
            goto err;
        }
    }
    return p;
err:
    nw_pub_destroy(&p);
    return NULL;
}

int
nw_pub_send(nw_pub_t *p, const char *topic, const void *payload, size_t len)
{
    /* PUB never blocks: past the high-water mark ZeroMQ drops for that subscriber. */
    while (zmq_send(p->sock, topic, strlen(topic), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        if (errno != EINTR)
            return -errno;
    while (zmq_send(p->sock, payload, len, ZMQ_DONTWAIT) < 0)
        if (errno != EINTR)
            return -errno;
    return 0;
}

void
nw_pub_destroy(nw_pub_t **pp)
{
    if (!pp || !*pp)
        return;
    if ((*pp)->sock)
        zmq_close((*pp)->sock);
    free(*pp);
    *pp = NULL;
}
