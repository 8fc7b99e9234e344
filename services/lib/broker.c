/* broker.c: stage queues, credit-based dispatch to workers, and the topic hub (broker.h).
 *
 * Per stage: a PULL socket feeds a bounded FIFO of jobs; a ROUTER socket talks the worker
 * protocol of stage.h. Workers are kept in a list (all registered workers, scanned linearly:
 * a stage has a handful to a few hundred) and, separately, a ready list of those with credit
 * in the order they became ready. Each job goes to the head of the ready list, which then
 * moves to the tail if it still has credit, so idle workers share the load in turn.
 *
 * Every job sent stays on its worker's in-flight list until a READY acknowledges it. READY n
 * means n jobs finished; workers finish in order in practice, so the n oldest are released.
 * When a worker leaves (BYE), goes silent, or its connection is gone (ROUTER_MANDATORY send
 * fails), its in-flight jobs go back to the front of the queue in their original order.
 * Delivery is therefore at least once; the store is idempotent.
 *
 * Silence means different things. A worker runs its jobs on its one loop thread, so a single
 * long job (enrich on a huge text, a store commit on a saturated machine) keeps it from
 * sending heartbeats for as long as it runs; dropping it after NW_STAGE_LIVENESS intervals
 * requeued that job to the next worker, which went silent on it too, and every copy was done
 * again. So a worker with jobs in flight may stay silent for busy_silence_ms (60 s); an idle
 * one is dropped after NW_STAGE_LIVENESS intervals as before. A worker that died is not
 * waited for either way: its connection closes and the next send fails; for a host that
 * vanished without closing it, the ZeroMQ heartbeat on every ROUTER (ZMQ_HEARTBEAT_*,
 * answered by the worker's I/O thread even while its loop is busy) closes the connection
 * after NW_STAGE_LIVENESS intervals without an answer.
 *
 * Roles (with --curve-roles, opts->roles): each socket's ZAP domain is its endpoint name, and
 * the ZAP handler (curve.c) admits a key only to the sockets its role may use (admits[] below):
 * a subscriber key cannot even connect to pub.in, enriched.out or any .in. Two sockets take
 * more than one role, so their messages are checked against the role the ZAP handler gave the
 * peer ("User-Id", nw_curve_peer_role):
 *   - enriched.in: "enriched" only from workers; fetch may send "dead" (what it cannot spool);
 *   - pub.out: acks ("ack.<fetch>") go only to fetch. A PUB/SUB hub matches prefixes, so a
 *     subscriber asking for "" or "a" would get acks too; the XPUB runs in ZMQ_XPUB_MANUAL
 *     mode, the broker decides each subscription itself (fetch: "ack." topics only;
 *     subscribers: anything that cannot match "ack.") and the XSUB subscribes to everything
 *     once, since which peer a departing subscription belonged to is not known upstream.
 *
 * A broker pair (opts->peer, ha.h): only the active broker serves. While passive or starting
 * it reads none of its .in sockets (producers do not send to it; what a confused one sends
 * waits in ZeroMQ), registers no worker (a HELLO is ignored, so the worker, hearing no
 * heartbeat, keeps looking), and drops publications (subscribers connect to both hubs). An
 * active broker that steps down (two actives after a split) forgets its workers and queues:
 * fetch re-sends what they held, as after a crash. */
#include "newswire/broker.h"
#include "newswire/curve.h"
#include "newswire/ha.h"
#include "newswire/log.h"
#include "newswire/metrics.h"
#include "newswire/stage.h"
#include "newswire/zsock.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_QUEUE_MAX 10000
#define ID_MAX 256
#define CREDIT_MAX 1000000u
#define HUB_HWM 10000

/* A job keeps the payload frame as ZeroMQ received it: the queue, the in-flight list and the
 * frame sent to the worker all share its buffer (zmq_msg_copy counts references), so a 150 KB
 * page crosses the broker without a copy in user space. */
struct job {
    struct job *next;
    size_t len; /* zmq_msg_size(&body), what the byte bound counts */
    zmq_msg_t body;
    char type[NW_STAGE_TYPE_MAX];
};

struct jobq {
    struct job *head, *tail;
    size_t n;
    size_t bytes; /* sum of the jobs' payload lengths */
};

struct stage;

struct worker {
    struct worker *next, *prev;   /* all workers of the stage */
    struct worker *rnext, *rprev; /* ready list (credit > 0), oldest first */
    int in_ready;
    struct stage *st;
    unsigned credit;
    unsigned missed; /* heartbeat ticks without a message from it */
    uint64_t heard;  /* when it last said anything (loop time, ms) */
    struct jobq inflight;
    size_t idlen;
    uint8_t id[ID_MAX];
};

struct stage {
    nw_broker_t *b;
    const char *name;
    nw_ep_t in;
    nw_zsock_t *pull, *router;
    struct jobq queue;
    struct worker *workers;
    struct worker *ready_head, *ready_tail;
    nw_broker_stage_stats_t stats;
    nw_metric_t *m_queued, *m_queued_bytes, *m_inflight, *m_workers, *m_received, *m_dispatched,
        *m_requeued;
};

struct nw_broker {
    uv_loop_t *loop;
    nw_ha_t *ha; /* NULL: a single broker, always active */
    int active;
    struct stage st[NW_BROKER_STAGES];
    nw_zsock_t *xsub, *xpub;
    void *xpub_sock; /* the XPUB's zmq socket, for ZMQ_SUBSCRIBE in manual mode */
    int roles;       /* enforce roles (see the file comment) */
    uv_timer_t timer;
    size_t queue_max, queue_max_bytes;
    unsigned hb_ms, busy_silence_ms;
    nw_broker_stats_t stats;
    nw_metric_t *m_bad, *m_dropped, *m_published, *m_active, *m_takeovers, *m_passive_refused;
    int closing;
    int pending;
    void (*close_cb)(void *arg);
    void *close_arg;
};

static const char *const stage_names[NW_BROKER_STAGES] = {"raw", "article", "enriched"};

/* ---- roles ------------------------------------------------------------------------------- */

/* Which roles may connect to each socket: who produces into a stage, who works it, who
 * publishes and who listens. parse and enrich share the worker role: both are stateless
 * transformers, and a parse key can already make any article enrich will turn into
 * "enriched", so telling them apart would protect nothing. */
static const unsigned admits[NW_EP_HA + 1] = {
    [NW_EP_RAW_IN] = NW_ROLE_FETCH,
    [NW_EP_RAW_OUT] = NW_ROLE_WORKER,
    [NW_EP_ARTICLE_IN] = NW_ROLE_WORKER,
    [NW_EP_ARTICLE_OUT] = NW_ROLE_WORKER,
    [NW_EP_ENRICHED_IN] = NW_ROLE_WORKER | NW_ROLE_FETCH,
    [NW_EP_ENRICHED_OUT] = NW_ROLE_STORE,
    [NW_EP_PUB_IN] = NW_ROLE_STORE,
    [NW_EP_PUB_OUT] = NW_ROLE_SUBSCRIBER | NW_ROLE_FETCH,
    /* every client asks which broker of a pair is active; the other broker says its state */
    [NW_EP_HA] =
        NW_ROLE_FETCH | NW_ROLE_WORKER | NW_ROLE_STORE | NW_ROLE_SUBSCRIBER | NW_ROLE_BROKER,
};

unsigned
nw_broker_admits(const char *socket)
{
    for (int i = 0; i <= NW_EP_HA; i++)
        if (strcmp(nw_ep_name((nw_ep_t)i), socket) == 0)
            return admits[i];
    return 0;
}

/* Who may send a message of this type into a stage queue. */
static unsigned
type_roles(const char *type)
{
    if (strcmp(type, "raw") == 0)
        return NW_ROLE_FETCH;
    if (strcmp(type, "dead") == 0)
        return NW_ROLE_FETCH | NW_ROLE_WORKER;
    return NW_ROLE_WORKER; /* article, enriched */
}

#define ACK_PREFIX "ack."
#define ACK_PREFIX_LEN 4

/* May a peer holding roles subscribe to topic? Acks are fetch's alone, and a prefix that
 * could match one ("", "a", ..., "ack.") counts as asking for them. */
static int
topic_allowed(unsigned roles, const uint8_t *topic, size_t n)
{
    int ack = n >= ACK_PREFIX_LEN && memcmp(topic, ACK_PREFIX, ACK_PREFIX_LEN) == 0;
    int covers_acks = n < ACK_PREFIX_LEN && memcmp(topic, ACK_PREFIX, n) == 0;
    if ((roles & NW_ROLE_FETCH) && ack)
        return 1;
    return (roles & NW_ROLE_SUBSCRIBER) && !ack && !covers_acks;
}

/* ---- job queues -------------------------------------------------------------------------- */

static void
jobq_push(struct jobq *q, struct job *j)
{
    j->next = NULL;
    if (q->tail)
        q->tail->next = j;
    else
        q->head = j;
    q->tail = j;
    q->n++;
    q->bytes += j->len;
}

static void
jobq_push_front(struct jobq *q, struct job *j)
{
    j->next = q->head;
    q->head = j;
    if (!q->tail)
        q->tail = j;
    q->n++;
    q->bytes += j->len;
}

static struct job *
jobq_pop(struct jobq *q)
{
    struct job *j = q->head;
    if (!j)
        return NULL;
    q->head = j->next;
    if (!q->head)
        q->tail = NULL;
    q->n--;
    q->bytes -= j->len;
    return j;
}

/* Move all of `from` in front of `to`, keeping order. */
static void
jobq_splice_front(struct jobq *to, struct jobq *from)
{
    if (!from->head)
        return;
    from->tail->next = to->head;
    if (!to->tail)
        to->tail = from->tail;
    to->head = from->head;
    to->n += from->n;
    to->bytes += from->bytes;
    from->head = from->tail = NULL;
    from->n = 0;
    from->bytes = 0;
}

static void
job_free(struct job *j)
{
    if (!j)
        return;
    zmq_msg_close(&j->body);
    free(j);
}

static void
jobq_clear(struct jobq *q)
{
    struct job *j;
    while ((j = jobq_pop(q)))
        job_free(j);
}

/* ---- workers ----------------------------------------------------------------------------- */

static void
ready_remove(struct worker *w)
{
    struct stage *st = w->st;
    if (!w->in_ready)
        return;
    if (w->rprev)
        w->rprev->rnext = w->rnext;
    else
        st->ready_head = w->rnext;
    if (w->rnext)
        w->rnext->rprev = w->rprev;
    else
        st->ready_tail = w->rprev;
    w->rnext = w->rprev = NULL;
    w->in_ready = 0;
}

static void
ready_append(struct worker *w)
{
    struct stage *st = w->st;
    if (w->in_ready)
        return;
    w->rprev = st->ready_tail;
    w->rnext = NULL;
    if (st->ready_tail)
        st->ready_tail->rnext = w;
    else
        st->ready_head = w;
    st->ready_tail = w;
    w->in_ready = 1;
}

static struct worker *
worker_find(struct stage *st, const void *id, size_t idlen)
{
    for (struct worker *w = st->workers; w; w = w->next)
        if (w->idlen == idlen && memcmp(w->id, id, idlen) == 0)
            return w;
    return NULL;
}

static void
update_gauges(struct stage *st)
{
    st->stats.queued = st->queue.n;
    nw_metrics_set(st->m_queued, (int64_t)st->queue.n);
    nw_metrics_set(st->m_queued_bytes, (int64_t)st->queue.bytes);
    nw_metrics_set(st->m_inflight, (int64_t)st->stats.inflight);
    nw_metrics_set(st->m_workers, (int64_t)st->stats.workers);
}

/* Forget a worker; its unacknowledged jobs go back to the front of the queue. */
static void
worker_drop(struct worker *w, const char *reason)
{
    struct stage *st = w->st;
    size_t n = w->inflight.n;

    NW_INFO(NULL, "worker removed stage=%s reason=%s requeued=%zu", st->name, reason, n);
    st->stats.inflight -= n;
    st->stats.requeued += n;
    nw_metrics_add(st->m_requeued, n);
    jobq_splice_front(&st->queue, &w->inflight);
    ready_remove(w);
    if (w->prev)
        w->prev->next = w->next;
    else
        st->workers = w->next;
    if (w->next)
        w->next->prev = w->prev;
    st->stats.workers--;
    free(w);
}

/* ---- dispatch ---------------------------------------------------------------------------- */

static void
maybe_resume(struct stage *st)
{
    if (st->b->active && st->stats.paused && st->queue.n <= st->b->queue_max / 2 &&
        st->queue.bytes <= st->b->queue_max_bytes / 2) {
        st->stats.paused = 0;
        nw_zsock_resume(st->pull);
    }
}

static void
dispatch(struct stage *st)
{
    while (st->queue.head && st->ready_head) {
        struct worker *w = st->ready_head;
        struct job *j = jobq_pop(&st->queue);
        const void *bufs[3] = {w->id, "JOB", j->type};
        size_t lens[3] = {w->idlen, 3, strlen(j->type)};
        /* The job stays in flight until acknowledged: send a reference to its body. */
        zmq_msg_t body;
        zmq_msg_init(&body);
        int rc = zmq_msg_copy(&body, &j->body) < 0 ? -zmq_errno() : 0;
        if (rc == 0)
            rc = nw_zsock_sendv_msg(st->router, bufs, lens, 3, &body);
        zmq_msg_close(&body);
        if (rc < 0) {
            jobq_push_front(&st->queue, j);
            if (rc == -EHOSTUNREACH) {
                worker_drop(w, "gone");
                st->b->stats.workers_dropped++;
                nw_metrics_add(st->b->m_dropped, 1);
            } else {
                /* Its pipe is full, which credit should prevent: wait until it speaks. */
                NW_WARN(NULL, "send to worker failed stage=%s err=\"%s\"", st->name, strerror(-rc));
                ready_remove(w);
            }
            continue;
        }
        jobq_push(&w->inflight, j);
        st->stats.inflight++;
        st->stats.dispatched++;
        nw_metrics_add(st->m_dispatched, 1);
        ready_remove(w);
        if (--w->credit > 0)
            ready_append(w);
    }
    maybe_resume(st);
    update_gauges(st);
}

/* ---- sockets ----------------------------------------------------------------------------- */

static int
frame_is(zmq_msg_t *f, const char *s)
{
    size_t n = strlen(s);
    return zmq_msg_size(f) == n && memcmp(zmq_msg_data(f), s, n) == 0;
}

/* Parse a decimal credit frame. Returns 0 or -EPROTO. */
static int
frame_credit(zmq_msg_t *f, unsigned *out)
{
    const char *p = zmq_msg_data(f);
    size_t n = zmq_msg_size(f);
    unsigned long v = 0;
    if (n == 0 || n > 7)
        return -EPROTO;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -EPROTO;
        v = v * 10 + (unsigned long)(p[i] - '0');
    }
    if (v > CREDIT_MAX)
        return -EPROTO;
    *out = (unsigned)v;
    return 0;
}

static void
bad_message(nw_broker_t *b, const char *where, zmq_msg_t *f, size_t n)
{
    size_t len = zmq_msg_size(f);
    b->stats.bad_messages++;
    nw_metrics_add(b->m_bad, 1);
    /* The frame is a peer's bytes: print only a short, printable prefix. */
    char shown[33];
    size_t k = 0;
    for (const char *p = zmq_msg_data(f); k < len && k < sizeof shown - 1; k++)
        shown[k] = (p[k] >= 0x20 && p[k] < 0x7f && p[k] != '"' && p[k] != '\\') ? p[k] : '?';
    shown[k] = 0;
    NW_WARN(NULL, "dropped bad message socket=%s frame=\"%s\" frames=%zu", where, shown, n);
}

static void
on_pull(nw_zsock_t *zs, zmq_msg_t *f, size_t n, void *arg)
{
    (void)zs;
    struct stage *st = arg;
    nw_broker_t *b = st->b;
    char type[NW_STAGE_TYPE_MAX];
    size_t tlen = zmq_msg_size(&f[0]);

    if (n != 2 || tlen == 0 || tlen >= sizeof type) {
        bad_message(b, nw_ep_name(st->in), &f[0], n);
        return;
    }
    memcpy(type, zmq_msg_data(&f[0]), tlen);
    type[tlen] = 0;
    if (nw_ep_for_type(type) != (int)st->in) {
        bad_message(b, nw_ep_name(st->in), &f[0], n);
        return;
    }
    if (b->roles && (nw_curve_peer_role(&f[0]) & type_roles(type)) == 0) {
        char what[NW_STAGE_TYPE_MAX + 8];
        snprintf(what, sizeof what, "type:%s", type);
        nw_curve_refuse_msg(nw_ep_name(st->in), &f[0], what);
        return;
    }
    size_t len = zmq_msg_size(&f[1]);
    struct job *j = malloc(sizeof *j);
    if (!j) {
        /* Not acknowledged to anyone: the producer's at-least-once resend covers it. */
        NW_ERROR(NULL, "out of memory queueing job stage=%s", st->name);
        return;
    }
    memcpy(j->type, type, tlen + 1);
    j->len = len;
    zmq_msg_init(&j->body);
    zmq_msg_move(&j->body, &f[1]); /* the frame is ours now; the bridge closes an empty one */
    jobq_push(&st->queue, j);
    st->stats.received++;
    nw_metrics_add(st->m_received, 1);
    /* Jobs and bytes both bound a queue: 10000 jobs of 64 MiB would be 640 GB. */
    if ((st->queue.n >= b->queue_max || st->queue.bytes >= b->queue_max_bytes) &&
        !st->stats.paused) {
        st->stats.paused = 1;
        nw_zsock_pause(st->pull);
    }
    dispatch(st);
}

static void
on_router(nw_zsock_t *zs, zmq_msg_t *f, size_t n, void *arg)
{
    (void)zs;
    struct stage *st = arg;
    nw_broker_t *b = st->b;
    unsigned credit = 0;

    if (n < 2 || zmq_msg_size(&f[0]) > ID_MAX) {
        bad_message(b, nw_ep_name(st->in + 1), &f[n > 1 ? 1 : 0], n);
        return;
    }
    if (!b->active) {
        /* silence makes the worker look for the active broker (brokers.h) */
        nw_metrics_add(b->m_passive_refused, 1);
        return;
    }
    struct worker *w = worker_find(st, zmq_msg_data(&f[0]), zmq_msg_size(&f[0]));
    int hello = frame_is(&f[1], "HELLO"), ready = frame_is(&f[1], "READY");
    if ((hello || ready) && (n != 3 || frame_credit(&f[2], &credit) < 0))
        goto bad;
    if (!hello && !ready && !((frame_is(&f[1], "HB") || frame_is(&f[1], "BYE")) && n == 2))
        goto bad;
    if (hello && !w) {
        w = calloc(1, sizeof *w);
        if (!w) {
            NW_ERROR(NULL, "out of memory registering worker stage=%s", st->name);
            return;
        }
        w->st = st;
        w->idlen = zmq_msg_size(&f[0]);
        memcpy(w->id, zmq_msg_data(&f[0]), w->idlen);
        w->next = st->workers;
        if (st->workers)
            st->workers->prev = w;
        st->workers = w;
        st->stats.workers++;
        NW_INFO(NULL, "worker joined stage=%s credit=%u", st->name, credit);
    }
    if (!w) {
        /* It was dropped or the broker restarted; it says HELLO after missing our
         * heartbeats, so stay quiet towards it until then. */
        b->stats.unknown_worker++;
        return;
    }
    w->missed = 0;
    w->heard = uv_now(b->loop);
    if (frame_is(&f[1], "BYE")) {
        worker_drop(w, "bye");
        b->stats.workers_left++;
        dispatch(st);
        return;
    }
    if (hello) {
        w->credit = credit; /* absolute: the worker resynchronised */
    } else if (ready) {
        w->credit = credit > CREDIT_MAX - w->credit ? CREDIT_MAX : w->credit + credit;
        for (unsigned i = 0; i < credit && w->inflight.head; i++) {
            job_free(jobq_pop(&w->inflight));
            st->stats.inflight--;
        }
    }
    if (w->credit > 0)
        ready_append(w);
    else
        ready_remove(w);
    dispatch(st);
    return;
bad:
    bad_message(b, nw_ep_name(st->in + 1), &f[1], n);
}

/* Forward a whole message between the hub's sockets (publications down, subscriptions up). The
 * last frame, the payload, is handed on as received, not copied: the store publishes an
 * article once per topic it matches. */
static void
forward(nw_zsock_t *to, zmq_msg_t *f, size_t n)
{
    const void *bufs[NW_ZSOCK_MAX_FRAMES];
    size_t lens[NW_ZSOCK_MAX_FRAMES];
    for (size_t i = 0; i + 1 < n; i++) {
        bufs[i] = zmq_msg_data(&f[i]);
        lens[i] = zmq_msg_size(&f[i]);
    }
    /* XPUB drops for slow subscribers and XSUB never blocks, so an error here is not
     * backpressure; the counters of the zsock record it. */
    nw_zsock_sendv_msg(to, bufs, lens, n - 1, &f[n - 1]);
}

static void
on_xsub(nw_zsock_t *zs, zmq_msg_t *f, size_t n, void *arg)
{
    (void)zs;
    nw_broker_t *b = arg;
    if (!b->active)
        return; /* subscribers hear the active hub; this one would double it */
    b->stats.published++;
    nw_metrics_add(b->m_published, 1);
    forward(b->xpub, f, n);
}

/* A (un)subscription in manual mode: [1 or 0][topic], from the pipe it names to ZMQ_SUBSCRIBE.
 * One without a User-Id is XPUB telling us a subscriber left: it already forgot the pipe's
 * subscriptions, and upstream stays subscribed to everything, so there is nothing to do. */
static void
xpub_manual(nw_broker_t *b, zmq_msg_t *f, size_t n)
{
    const uint8_t *d = zmq_msg_data(&f[0]);
    size_t len = zmq_msg_size(&f[0]);
    if (n != 1 || len == 0 || d[0] > 1) {
        bad_message(b, "pub.out", &f[0], n);
        return;
    }
    if (zmq_msg_gets(&f[0], "User-Id") == NULL)
        return;
    int sub = d[0] == 1;
    if (sub && !topic_allowed(nw_curve_peer_role(&f[0]), d + 1, len - 1)) {
        char what[48];
        size_t k = 0;
        for (; k < len - 1 && k < 32; k++)
            what[k] = d[1 + k] > 0x20 && d[1 + k] < 0x7f && d[1 + k] != '"' ? (char)d[1 + k] : '?';
        what[k] = 0;
        char shown[64];
        snprintf(shown, sizeof shown, "subscribe:%s", what);
        nw_curve_refuse_msg("pub.out", &f[0], shown);
        return;
    }
    /* applies to the pipe the last message came from: this subscriber only */
    if (zmq_setsockopt(b->xpub_sock, sub ? ZMQ_SUBSCRIBE : ZMQ_UNSUBSCRIBE, d + 1, len - 1) < 0)
        NW_WARN(NULL, "cannot apply a subscription err=\"%s\"", zmq_strerror(zmq_errno()));
    b->stats.subscriptions++;
}

static void
on_xpub(nw_zsock_t *zs, zmq_msg_t *f, size_t n, void *arg)
{
    (void)zs;
    nw_broker_t *b = arg;
    if (b->roles) {
        xpub_manual(b, f, n);
        return;
    }
    b->stats.subscriptions++;
    forward(b->xsub, f, n);
}

/* ---- heartbeats -------------------------------------------------------------------------- */

static void
on_timer(uv_timer_t *t)
{
    nw_broker_t *b = t->data;
    char ms[16];
    snprintf(ms, sizeof ms, "%u", b->hb_ms);

    for (int i = 0; i < NW_BROKER_STAGES; i++) {
        struct stage *st = &b->st[i];
        struct worker *w = st->workers, *next;
        for (; w; w = next) {
            next = w->next;
            ++w->missed;
            if (w->inflight.n > 0 ? uv_now(b->loop) - w->heard > b->busy_silence_ms
                                  : w->missed > NW_STAGE_LIVENESS) {
                worker_drop(w, w->inflight.n > 0 ? "silent-busy" : "silent");
                b->stats.workers_dropped++;
                nw_metrics_add(b->m_dropped, 1);
                continue;
            }
            const void *bufs[3] = {w->id, "HB", ms};
            size_t lens[3] = {w->idlen, 2, strlen(ms)};
            if (nw_zsock_sendv(st->router, bufs, lens, 3) == -EHOSTUNREACH) {
                worker_drop(w, "gone");
                b->stats.workers_dropped++;
                nw_metrics_add(b->m_dropped, 1);
            }
        }
        dispatch(st);
    }
}

/* ---- the pair ---------------------------------------------------------------------------- */

/* Start serving: read the stage queues (unless full). */
static void
activate(nw_broker_t *b)
{
    b->active = 1;
    nw_metrics_set(b->m_active, 1);
    nw_metrics_add(b->m_takeovers, 1);
    for (int i = 0; i < NW_BROKER_STAGES; i++)
        if (!b->st[i].stats.paused)
            nw_zsock_resume(b->st[i].pull);
}

/* Stop serving: what we hold is forgotten, as if we had died (fetch re-sends it), because the
 * other broker serves now and the workers are moving there. */
static void
deactivate(nw_broker_t *b)
{
    b->active = 0;
    nw_metrics_set(b->m_active, 0);
    for (int i = 0; i < NW_BROKER_STAGES; i++) {
        struct stage *st = &b->st[i];
        nw_zsock_pause(st->pull);
        while (st->workers) {
            jobq_clear(&st->workers->inflight);
            worker_drop(st->workers, "passive");
        }
        jobq_clear(&st->queue);
        st->stats.inflight = 0;
        update_gauges(st);
    }
}

static void
on_ha_change(nw_ha_t *ha, nw_ha_state_t from, nw_ha_state_t to, void *arg)
{
    (void)ha;
    nw_broker_t *b = arg;
    if (to == NW_HA_ACTIVE)
        activate(b);
    else if (from == NW_HA_ACTIVE)
        deactivate(b);
}

const char *
nw_broker_state(const nw_broker_t *b)
{
    return b->ha ? nw_ha_state_name(nw_ha_state(b->ha)) : "active";
}

/* ---- lifecycle --------------------------------------------------------------------------- */

static void *
bind_socket(void *zctx, const char *base, nw_ep_t which, int type, int roles, unsigned hb_ms)
{
    char ep[NW_EP_MAX];
    void *s = NULL;
    int one = 1, linger = 0, hwm = HUB_HWM;
    int ivl = (int)hb_ms, timeout = (int)hb_ms * (NW_STAGE_LIVENESS + 1);

    if (nw_ep_derive(base, which, ep, sizeof ep) < 0) {
        NW_ERROR(NULL, "bad bind endpoint \"%s\"", base);
        return NULL;
    }
    s = zmq_socket(zctx, type);
    if (!s)
        goto err;
    /* The broker's queues are in memory only, so nothing is worth waiting for at exit. */
    if (zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger) < 0)
        goto err;
    if (type == ZMQ_ROUTER && zmq_setsockopt(s, ZMQ_ROUTER_MANDATORY, &one, sizeof one) < 0)
        goto err;
    /* Connection liveness apart from the worker's loop (see the top of the file). */
    if (type == ZMQ_ROUTER &&
        (zmq_setsockopt(s, ZMQ_HEARTBEAT_IVL, &ivl, sizeof ivl) < 0 ||
         zmq_setsockopt(s, ZMQ_HEARTBEAT_TIMEOUT, &timeout, sizeof timeout) < 0))
        goto err;
    if (type == ZMQ_XPUB && zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm) < 0)
        goto err;
    if (type == ZMQ_XSUB && zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm) < 0)
        goto err;
    if (type == ZMQ_XPUB && roles && zmq_setsockopt(s, ZMQ_XPUB_MANUAL, &one, sizeof one) < 0)
        goto err;
    /* the ZAP domain names the socket: the roles policy decides on it */
    if (nw_zsock_limit(s) < 0 || nw_curve_server_as(s, nw_ep_name(which)) < 0 ||
        zmq_bind(s, ep) < 0)
        goto err;
    return s;
err:
    NW_ERROR(NULL, "bind failed endpoint=\"%s\" err=\"%s\"", ep, zmq_strerror(errno));
    if (s)
        zmq_close(s);
    return NULL;
}

static void
stage_metrics(struct stage *st)
{
    char labels[48];
    snprintf(labels, sizeof labels, "stage=\"%s\"", st->name);
    st->m_queued = nw_metrics_gauge("nw_broker_queued", labels, "jobs waiting for a worker");
    st->m_queued_bytes =
        nw_metrics_gauge("nw_broker_queued_bytes", labels, "payload bytes waiting for a worker");
    st->m_inflight =
        nw_metrics_gauge("nw_broker_inflight", labels, "jobs sent to workers, not acknowledged");
    st->m_workers = nw_metrics_gauge("nw_broker_workers", labels, "registered workers");
    st->m_received = nw_metrics_counter("nw_broker_received_total", labels, "jobs queued");
    st->m_dispatched =
        nw_metrics_counter("nw_broker_dispatched_total", labels, "jobs sent to workers");
    st->m_requeued = nw_metrics_counter("nw_broker_requeued_total", labels,
                                        "jobs requeued from workers that left");
}

nw_broker_t *
nw_broker_new(uv_loop_t *loop, void *zctx, const char *bind_base, const nw_broker_opts_t *opts)
{
    enum { NSOCK = NW_EP_COUNT };
    static const int types[NSOCK] = {ZMQ_PULL, ZMQ_ROUTER, ZMQ_PULL, ZMQ_ROUTER,
                                     ZMQ_PULL, ZMQ_ROUTER, ZMQ_XSUB, ZMQ_XPUB};
    void *socks[NSOCK] = {0};
    nw_zsock_t *zs[NSOCK] = {0};
    nw_broker_t *b = calloc(1, sizeof *b);

    if (!b)
        goto err;
    b->loop = loop;
    b->queue_max = opts && opts->queue_max ? opts->queue_max : DEFAULT_QUEUE_MAX;
    b->queue_max_bytes =
        opts && opts->queue_max_bytes ? opts->queue_max_bytes : NW_BROKER_QUEUE_MAX_BYTES;
    b->hb_ms = opts && opts->heartbeat_ms ? opts->heartbeat_ms : NW_STAGE_HEARTBEAT_MS;
    b->busy_silence_ms =
        opts && opts->busy_silence_ms ? opts->busy_silence_ms : NW_BROKER_BUSY_SILENCE_MS;
    b->roles = opts && opts->roles;
    for (int i = 0; i < NSOCK; i++)
        if (!(socks[i] = bind_socket(zctx, bind_base, (nw_ep_t)i, types[i], b->roles, b->hb_ms)))
            goto err;
    b->xpub_sock = socks[NW_EP_PUB_OUT];
    for (int i = 0; i < NW_BROKER_STAGES; i++) {
        struct stage *st = &b->st[i];
        st->b = b;
        st->name = stage_names[i];
        st->in = (nw_ep_t)(2 * i);
        stage_metrics(st);
    }
    for (int i = 0; i < NSOCK; i++) {
        nw_zsock_recv_cb cb = i == NW_EP_PUB_IN    ? on_xsub
                              : i == NW_EP_PUB_OUT ? on_xpub
                              : i % 2 == 0         ? on_pull
                                                   : on_router;
        void *arg = i >= NW_EP_PUB_IN ? (void *)b : (void *)&b->st[i / 2];
        if (!(zs[i] = nw_zsock_new(loop, socks[i], cb, arg)))
            goto err;
        socks[i] = NULL;
    }
    for (int i = 0; i < NW_BROKER_STAGES; i++) {
        b->st[i].pull = zs[2 * i];
        b->st[i].router = zs[2 * i + 1];
    }
    b->xsub = zs[NW_EP_PUB_IN];
    b->xpub = zs[NW_EP_PUB_OUT];
    if (b->roles) {
        /* upstream gets everything; the XPUB filters per subscriber (see the file comment) */
        const void *all[1] = {"\x01"};
        size_t all_len[1] = {1};
        if (nw_zsock_sendv(b->xsub, all, all_len, 1) < 0) {
            NW_ERROR(NULL, "cannot subscribe the hub's upstream to every topic");
            goto err;
        }
    }
    b->m_bad = nw_metrics_counter("nw_broker_bad_messages_total", NULL,
                                  "messages dropped for a bad frame, command or type");
    b->m_dropped = nw_metrics_counter("nw_broker_workers_dropped_total", NULL,
                                      "workers dropped for silence or a lost connection");
    b->m_published =
        nw_metrics_counter("nw_broker_published_total", NULL, "messages forwarded to pub.out");
    b->m_active = nw_metrics_gauge("nw_broker_active", NULL,
                                   "1 while this broker serves (a pair has one active broker)");
    b->m_takeovers = nw_metrics_counter("nw_broker_activations_total", NULL,
                                        "times this broker became the active one of its pair");
    b->m_passive_refused = nw_metrics_counter(
        "nw_broker_passive_ignored_total", NULL,
        "worker messages ignored while passive (the worker then looks for the active broker)");
    uv_timer_init(loop, &b->timer);
    b->timer.data = b;
    uv_timer_start(&b->timer, on_timer, b->hb_ms, b->hb_ms);
    if (opts && opts->peer && *opts->peer) {
        /* nothing is read until the pair decides who serves */
        for (int i = 0; i < NW_BROKER_STAGES; i++)
            nw_zsock_pause(b->st[i].pull);
        b->ha = nw_ha_new(loop, zctx, bind_base, opts->peer, opts->backup, b->hb_ms, b->roles,
                          on_ha_change, b);
        if (!b->ha)
            goto err_metrics;
    } else {
        b->active = 1;
        nw_metrics_set(b->m_active, 1);
    }
    NW_INFO(NULL,
            "broker bound base=\"%s\" queue_max=%zu queue_max_bytes=%zu max_msg=%lld "
            "heartbeat_ms=%u roles=%s pair=%s",
            bind_base, b->queue_max, b->queue_max_bytes, (long long)nw_zsock_max_msg(), b->hb_ms,
            b->roles ? "on" : "off",
            !b->ha         ? "off"
            : opts->backup ? "backup"
                           : "primary");
    return b;
err_metrics:
    /* every socket is wrapped by now: close them from the loop, then free */
    nw_broker_close(b, NULL, NULL);
    return NULL;
err:
    /* Wrapped sockets close from the loop; they hold no pointer back into b once closing. */
    for (int i = 0; i < NSOCK; i++) {
        nw_zsock_close(zs[i], NULL, NULL);
        if (socks[i])
            zmq_close(socks[i]);
    }
    free(b);
    return NULL;
}

static void
release_one(nw_broker_t *b)
{
    if (--b->pending > 0)
        return;
    for (int i = 0; i < NW_BROKER_STAGES; i++) {
        struct stage *st = &b->st[i];
        jobq_clear(&st->queue);
        while (st->workers) {
            struct worker *w = st->workers;
            st->workers = w->next;
            jobq_clear(&w->inflight);
            free(w);
        }
    }
    if (b->close_cb)
        b->close_cb(b->close_arg);
    free(b);
}

static void
zsock_closed(nw_zsock_t *zs, void *arg)
{
    (void)zs;
    release_one(arg);
}

static void
timer_closed(uv_handle_t *h)
{
    release_one(h->data);
}

static void
ha_closed(void *arg)
{
    release_one(arg);
}

void
nw_broker_close(nw_broker_t *b, void (*cb)(void *arg), void *arg)
{
    if (!b)
        return;
    assert(!b->closing);
    b->closing = 1;
    b->close_cb = cb;
    b->close_arg = arg;
    b->pending = 1 + 2 * NW_BROKER_STAGES + 2 + (b->ha != NULL);
    if (b->ha)
        nw_ha_close(b->ha, ha_closed, b);
    b->ha = NULL;
    uv_close((uv_handle_t *)&b->timer, timer_closed);
    for (int i = 0; i < NW_BROKER_STAGES; i++) {
        nw_zsock_close(b->st[i].pull, zsock_closed, b);
        nw_zsock_close(b->st[i].router, zsock_closed, b);
    }
    nw_zsock_close(b->xsub, zsock_closed, b);
    nw_zsock_close(b->xpub, zsock_closed, b);
}

void
nw_broker_stats(const nw_broker_t *b, nw_broker_stats_t *out)
{
    *out = b->stats;
    for (int i = 0; i < NW_BROKER_STAGES; i++) {
        out->stage[i] = b->st[i].stats;
        out->stage[i].queued = b->st[i].queue.n;
        out->stage[i].queued_bytes = b->st[i].queue.bytes;
    }
}
