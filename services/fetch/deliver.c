/* deliver.c: how fetch hands messages on without losing or doubling them. accept.c gives every
 * message it emits (raw, and its own dead letters) to fetch_deliver_send, which
 *
 *   1. appends it to the spool (services/lib/spool.c, format in proto/spool.md);
 *   2. at the end of the loop turn starts one fdatasync on the threadpool for every append of
 *      that turn (group commit; while one runs, the next group gathers behind it);
 *   3. when the fsync completed, pushes the group to the broker and only then tells each
 *      source its item was accepted (the caller's callback); the group's messages are kept
 *      in memory until then (up to HOLD_MAX_BYTES), so ZeroMQ sends them from that buffer
 *      without a copy, and only re-sends read the spool back;
 *   4. marks a record done when the store's ack for its seq arrives on the broker's pub.out
 *      (topic "ack.<origin>"), and re-sends what stays unacked for resend-after, backing off
 *      per record up to RESEND_MAX_MS. The store is idempotent by article id, so a re-send of
 *      something it already has is answered "unchanged" and acked like anything else.
 *
 * Sources are pushed back (the send returns -EAGAIN / -ENOBUFS, nothing is spooled) while a
 * broker queue is full or the unacked bytes are over spool-max. A failed append or fsync is
 * reported to the sender as not accepted; the spool cuts itself back to its last good record
 * and the next item tries again, so fetch accepts again as soon as the disk has room.
 *
 * With spool-dir "" there is no spool: messages are pushed at once and the source is told
 * "accepted" when the broker's socket took it (at most once; kept only to measure what the
 * guarantees cost, see bench/pipeline). */
#include "fetch.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "newswire/link.h"
#include "newswire/log.h"
#include "newswire/metrics.h"
#include "newswire/proto.h"
#include "newswire/spool.h"
#include "newswire/stage.h"
#include "newswire/sub.h"
#include "newswire/util.h"
#include "newswire/zsock.h"

#define RESEND_MAX_MS (5 * 60 * 1000)
#define TICK_MS 250       /* resend check and gauges */
#define RESEND_BATCH 1000 /* most records re-sent per tick, so one tick stays short */
#define SUB_RCVHWM 100000 /* acks are small; a deep queue loses fewer of them */
/* Encoded messages kept in memory while their group's fsync runs, so that their first send
 * needs no read back from the spool and no copy (nw_push_send_take). Past this many bytes the
 * rest are sent from the spool as before: a group of 64 inbox files of max-body each must not
 * be held twice. */
#define HOLD_MAX_BYTES ((size_t)32 * 1024 * 1024)

/* An append whose fsync has not completed: its sender waits for the callback. */
struct pending {
    struct pending *next;
    uint64_t seq;
    fetch_deliver_cb cb;
    void *arg;
    uint8_t *msg; /* the encoded message, for its first send; NULL: sent from the spool */
    size_t len;
    char tag;
};

struct fetch_deliver {
    uv_loop_t *loop;
    nw_spool_t *spool; /* NULL: no spool */
    nw_push_t *raw, *dead;
    char *origin;
    char topic[300]; /* "ack.<origin>" */
    nw_zsock_t *sub;
    nw_link_t *link;  /* is sub connected to the broker? (readiness) */
    uv_check_t check; /* starts the group's fsync at the end of the loop turn */
    uv_timer_t timer;
    uv_work_t work;
    nw_spool_sync_t job;
    int syncing;
    int blocked;        /* a push answered -EAGAIN; cleared when it is writable again */
    int full;           /* the spool was over its bound at the last look */
    int failing;        /* inside a disk-trouble episode (logged once) */
    uint64_t sent_upto; /* every seq up to here was sent at least once */
    struct pending *head, *tail;
    size_t held; /* bytes of pending->msg */
    void (*on_resume)(void *arg);
    void *resume_arg;
    void (*flush_cb)(void *arg);
    void *flush_arg;
    int handles;
    void (*close_cb)(void *arg);
    void *close_arg;
    nw_metric_t *m_bytes, *m_unacked, *m_resent, *m_acked, *m_fsyncs;
};

static const char *
errno_reason(int rc)
{
    switch (-rc) {
    case ENOSPC:
        return "enospc";
    case EFBIG:
        return "efbig";
    case EIO:
        return "eio";
    case EDQUOT:
        return "edquot";
    default:
        return "other";
    }
}

static void
update_gauges(fetch_deliver_t *d)
{
    nw_spool_stats_t st;
    if (d->spool == NULL)
        return;
    nw_spool_stats(d->spool, &st);
    nw_metrics_set(d->m_bytes, (int64_t)st.bytes);
    nw_metrics_set(d->m_unacked, (int64_t)st.unacked);
}

/* The spool went below its resume mark: let paused sources go on. */
static void
check_resume(fetch_deliver_t *d)
{
    if (d->full && !nw_spool_full(d->spool)) {
        d->full = 0;
        NW_INFO(NULL, "spool below its bound again; accepting");
        if (d->on_resume)
            d->on_resume(d->resume_arg);
    }
}

static void
disk_trouble(fetch_deliver_t *d, const char *what, int rc)
{
    nw_metrics_reason("nw_fetch_spool_errors_total", errno_reason(rc),
                      "spool appends and fsyncs that failed (items not accepted), by errno");
    if (d->failing)
        return;
    d->failing = 1;
    NW_ERROR(NULL, "spool %s failed: %s; refusing items until it works again", what, strerror(-rc));
}

static void
disk_ok(fetch_deliver_t *d)
{
    if (!d->failing)
        return;
    d->failing = 0;
    NW_INFO(NULL, "spool writable again; accepting");
}

static int
send_one(void *arg, uint64_t seq, uint8_t tag, const uint8_t *payload, size_t len)
{
    fetch_deliver_t *d = arg;
    nw_push_t *p = tag == 'd' ? d->dead : d->raw;
    int rc = nw_push_send(p, tag == 'd' ? "dead" : "raw", payload, len);
    if (rc == -EAGAIN) {
        d->blocked = 1;
        return rc;
    }
    if (rc < 0) /* the socket is closing or broken: try again at the next tick */
        return rc;
    if (seq > d->sent_upto)
        d->sent_upto = seq;
    else
        nw_metrics_add(d->m_resent, 1);
    return 0;
}

/* Push everything due: new durable records first sent, and re-sends whose time came. */
static void
pump(fetch_deliver_t *d, size_t max)
{
    if (d->spool == NULL || d->blocked || d->raw == NULL)
        return;
    uv_update_time(d->loop);
    nw_spool_resend(d->spool, nw_now_ms(), send_one, d, max);
}

static void maybe_flushed(fetch_deliver_t *d);
static void start_sync(fetch_deliver_t *d);

/* Answer the senders of every pending append up to `upto` (status 0) or all of them (rc). */
static void
complete(fetch_deliver_t *d, uint64_t upto, int rc)
{
    while (d->head && (rc < 0 || d->head->seq <= upto)) {
        struct pending *p = d->head;
        d->head = p->next;
        if (d->head == NULL)
            d->tail = NULL;
        if (p->cb)
            p->cb(rc, p->arg);
        d->held -= p->len;
        free(p->msg);
        free(p);
    }
}

/* The first send of the records that just became durable, from the encoded messages kept for
 * it: ZeroMQ takes each buffer as it is, where a send from the spool reads the record back
 * and copies it into a message (142 KB per page). What cannot go now (a queue pushes back, the
 * buffer was not kept) stays due in the spool, and pump() sends it from there. */
static void
send_held(fetch_deliver_t *d, uint64_t upto)
{
    int64_t now = nw_now_ms();
    for (struct pending *p = d->head; p && p->seq <= upto; p = p->next) {
        if (p->msg == NULL)
            continue;
        size_t len = p->len;
        d->held -= len;
        p->len = 0;
        nw_push_t *push = p->tag == 'd' ? d->dead : d->raw;
        if (d->blocked || push == NULL || p->seq <= d->sent_upto) {
            free(p->msg); /* pump() sends it from the spool when it can */
            p->msg = NULL;
            continue;
        }
        int rc = nw_push_send_take(push, p->tag == 'd' ? "dead" : "raw", &p->msg, len);
        if (rc == -EAGAIN)
            d->blocked = 1;
        if (rc < 0) /* still due in the spool: sent from there once the push takes it */
            continue;
        nw_spool_sent(d->spool, p->seq, now);
        if (p->seq > d->sent_upto)
            d->sent_upto = p->seq;
    }
}

static void
work_cb(uv_work_t *w)
{
    fetch_deliver_t *d = w->data;
    nw_spool_sync_run(&d->job);
}

static void
after_work_cb(uv_work_t *w, int status)
{
    fetch_deliver_t *d = w->data;
    if (status < 0 && d->job.err == 0)
        d->job.err = status; /* cancelled: cannot happen, we never cancel */
    d->syncing = 0;
    uint64_t upto = d->job.upto;
    int rc = nw_spool_sync_finish(d->spool, &d->job);
    nw_metrics_add(d->m_fsyncs, 1);
    if (rc < 0) {
        disk_trouble(d, "fsync", rc);
        complete(d, 0, rc);
    } else {
        disk_ok(d);
        /* Handed to the broker first, then the sources hear "accepted". */
        send_held(d, upto);
        pump(d, SIZE_MAX);
        complete(d, upto, 0);
    }
    update_gauges(d);
    if (nw_spool_next_seq(d->spool) - 1 > nw_spool_durable(d->spool))
        start_sync(d);
    maybe_flushed(d);
}

static void
start_sync(fetch_deliver_t *d)
{
    if (d->syncing || d->spool == NULL) /* without a spool nothing waits for a sync */
        return;
    int rc = nw_spool_sync_prepare(d->spool, &d->job);
    if (rc > 0)
        return;
    if (rc < 0) {
        /* Only dup() can fail here (EMFILE): fail the group rather than wait forever. */
        disk_trouble(d, "sync", rc);
        nw_spool_sync_t failed = {.fds = {-1, -1}, .dir_fd = -1, .err = rc};
        nw_spool_sync_finish(d->spool, &failed);
        complete(d, 0, rc);
        return;
    }
    d->syncing = 1;
    d->work.data = d;
    rc = uv_queue_work(d->loop, &d->work, work_cb, after_work_cb);
    if (rc < 0) { /* cannot happen with a valid loop; run it here rather than lose it */
        work_cb(&d->work);
        after_work_cb(&d->work, 0);
    }
}

static void
on_check(uv_check_t *c)
{
    fetch_deliver_t *d = c->data;
    uv_check_stop(c);
    start_sync(d);
}

uint64_t
fetch_deliver_reserve(const fetch_deliver_t *d)
{
    return d->spool ? nw_spool_next_seq(d->spool) : 0;
}

int
fetch_deliver_send(fetch_deliver_t *d, char tag, nw_buf_t *msg, uint64_t seq, fetch_deliver_cb cb,
                   void *arg)
{
    const char *type = tag == 'd' ? "dead" : "raw";
    nw_push_t *push = tag == 'd' ? d->dead : d->raw;
    size_t len = msg->len;
    if (d->spool == NULL) {
        uint8_t *data = nw_buf_steal(msg, NULL);
        return nw_push_send_take(push, type, &data, len);
    }
    if (d->blocked)
        return -EAGAIN;
    if (nw_spool_full(d->spool)) {
        if (!d->full)
            NW_WARN(NULL, "spool holds over spool-max unacked; pushing sources back");
        d->full = 1;
        return -ENOBUFS;
    }
    struct pending *p = malloc(sizeof *p);
    if (p == NULL)
        return -ENOMEM;
    uint64_t got;
    int rc = nw_spool_append(d->spool, (uint8_t)tag, msg->data, len, &got);
    if (rc < 0) {
        free(p);
        if (rc != -ENOMEM && rc != -EINVAL)
            disk_trouble(d, "append", rc);
        return rc;
    }
    /* The seq was reserved and written into msg by the caller; single-threaded, so it holds. */
    if (got != seq)
        NW_ERROR(NULL, "spool seq %" PRIu64 " differs from the reserved %" PRIu64, got, seq);
    *p = (struct pending){.seq = got, .cb = cb, .arg = arg, .tag = tag};
    if (d->held + len <= HOLD_MAX_BYTES) {
        p->msg = nw_buf_steal(msg, NULL);
        p->len = len;
        d->held += len;
    }
    if (d->tail)
        d->tail->next = p;
    else
        d->head = p;
    d->tail = p;
    if (!d->syncing)
        uv_check_start(&d->check, on_check);
    return 1;
}

int
fetch_deliver_blocked(const fetch_deliver_t *d)
{
    return d->spool ? d->blocked : 0;
}

void
fetch_deliver_writable(fetch_deliver_t *d)
{
    if (d == NULL)
        return;
    d->blocked = 0;
    pump(d, SIZE_MAX);
}

void
fetch_deliver_switch(fetch_deliver_t *d, const char *base)
{
    char ep[NW_EP_MAX];
    if (nw_ep_derive(base, NW_EP_RAW_IN, ep, sizeof ep) == 0)
        nw_push_reconnect(d->raw, ep);
    if (nw_ep_derive(base, (nw_ep_t)nw_ep_for_type("dead"), ep, sizeof ep) == 0)
        nw_push_reconnect(d->dead, ep);
    if (d->spool == NULL)
        return;
    uv_update_time(d->loop);
    nw_spool_resend_lost(d->spool, nw_now_ms());
    d->blocked = 0; /* the old pipe was full, the new one is empty */
    nw_spool_stats_t st;
    nw_spool_stats(d->spool, &st);
    int sent = nw_spool_resend(d->spool, nw_now_ms(), send_one, d, RESEND_BATCH);
    NW_WARN(NULL, "broker \"%s\" serves now: re-sent %d of %" PRIu64 " unacked records at once",
            base, sent, st.unacked);
}

static void
on_ack(nw_zsock_t *zs, zmq_msg_t *frames, size_t n, void *arg)
{
    (void)zs;
    fetch_deliver_t *d = arg;
    nw_ack_t ack;
    /* Prefix matching also delivers "ack.<origin>-other": only our exact topic counts. */
    if (n != 2 || zmq_msg_size(&frames[0]) != strlen(d->topic) ||
        memcmp(zmq_msg_data(&frames[0]), d->topic, strlen(d->topic)) != 0)
        return;
    if (nw_ack_decode(&ack, zmq_msg_data(&frames[1]), zmq_msg_size(&frames[1])) < 0) {
        nw_metrics_reason("nw_fetch_bad_acks_total", "undecodable", "acks fetch could not use");
        return;
    }
    if (ack.spool && ack.origin && strcmp(ack.origin, d->origin) == 0) {
        int rc = nw_spool_ack(d->spool, ack.spool);
        if (rc != 0)
            nw_metrics_add(d->m_acked, 1);
        if (rc != 0)
            NW_DEBUG(ack.id, "acked spool=%" PRIu64 " status=%s", ack.spool, ack.status);
        check_resume(d);
    }
    nw_ack_release(&ack);
}

static void
on_tick(uv_timer_t *t)
{
    fetch_deliver_t *d = t->data;
    nw_link_update(d->link); /* keeps the monitor's queue short */
    pump(d, RESEND_BATCH);
    update_gauges(d);
    check_resume(d);
}

const char *
fetch_deliver_ready(void *arg)
{
    fetch_deliver_t *d = arg;
    return d && d->link ? nw_link_ready(d->link) : NULL;
}

fetch_deliver_t *
fetch_deliver_new(uv_loop_t *loop, void *zctx, const fetch_deliver_opts_t *o)
{
    fetch_deliver_t *d = calloc(1, sizeof *d);
    char err[512];
    void *s = NULL;
    if (d == NULL || (d->origin = strdup(o->origin)) == NULL)
        goto err;
    d->loop = loop;
    d->raw = o->raw;
    d->dead = o->dead;
    d->on_resume = o->on_resume;
    d->resume_arg = o->resume_arg;
    uv_check_init(loop, &d->check);
    uv_timer_init(loop, &d->timer);
    d->check.data = d->timer.data = d;
    d->handles = 2;
    if (o->spool_dir == NULL || *o->spool_dir == 0) {
        NW_WARN(NULL, "no spool (spool-dir \"\"): at most once, accepted items can be lost");
        return d;
    }
    d->m_bytes = nw_metrics_gauge("nw_fetch_spool_bytes", NULL, "bytes in spool segment files");
    d->m_unacked = nw_metrics_gauge("nw_fetch_spool_unacked", NULL,
                                    "spooled messages the store has not acknowledged");
    d->m_resent = nw_metrics_counter("nw_fetch_resent_total", NULL,
                                     "spooled messages sent again (no ack in time, or restart)");
    d->m_acked = nw_metrics_counter("nw_fetch_acked_total", NULL,
                                    "spooled messages acknowledged by the store");
    d->m_fsyncs = nw_metrics_counter("nw_fetch_spool_fsyncs_total", NULL,
                                     "group-commit fdatasyncs of the spool");
    d->spool = nw_spool_open(o->spool_dir, o->spool_max, err, sizeof err);
    if (d->spool == NULL) {
        NW_ERROR(NULL, "spool: %s", err);
        goto err_handles;
    }
    nw_spool_set_resend(d->spool, o->resend_ms, RESEND_MAX_MS);
    nw_spool_stats_t st;
    nw_spool_stats(d->spool, &st);
    d->sent_upto = nw_spool_durable(d->spool); /* what was spooled before counts as re-sent */
    snprintf(d->topic, sizeof d->topic, "ack.%s", o->origin);
    /* the same subscriber as every other (with a broker pair: both hubs). Acks come only
     * from the broker, so this link is fetch's word from it: watched from before the
     * connect, with the workers' heartbeat so a vanished host shows. */
    const char *topic = d->topic;
    s = nw_sub_socket(zctx, o->broker, &topic, 1, SUB_RCVHWM, err, sizeof err);
    if (s != NULL && (d->link = nw_link_new(zctx, s, "broker", NW_STAGE_HEARTBEAT_MS,
                                            NW_STAGE_HEARTBEAT_MS * NW_STAGE_LIVENESS)) == NULL)
        snprintf(err, sizeof err, "cannot watch the socket: %s", zmq_strerror(zmq_errno()));
    if (s == NULL || d->link == NULL || nw_sub_connect(s, o->broker, err, sizeof err) < 0) {
        NW_ERROR(NULL, "cannot subscribe to acks: %s", err);
        goto err_handles;
    }
    d->sub = nw_zsock_new(loop, s, on_ack, d);
    if (d->sub == NULL)
        goto err_handles;
    uv_timer_start(&d->timer, on_tick, 0, TICK_MS); /* the first tick re-sends what was left */
    NW_INFO(NULL,
            "spool \"%s\": %" PRIu64 " unacked (%" PRIu64 " bytes) in %" PRIu64
            " segments, next seq %" PRIu64 "; acks on \"%s\"",
            o->spool_dir, st.unacked, st.unacked_bytes, st.segments, st.next_seq, d->topic);
    update_gauges(d);
    return d;
err_handles:
    nw_link_destroy(&d->link);
    if (s && d->sub == NULL)
        zmq_close(s);
    d->flush_cb = NULL;
    fetch_deliver_close(d, NULL, NULL);
    return NULL;
err:
    if (d)
        free(d->origin);
    free(d);
    return NULL;
}

static void
maybe_flushed(fetch_deliver_t *d)
{
    if (d->flush_cb && !d->syncing && d->head == NULL) {
        void (*cb)(void *) = d->flush_cb;
        d->flush_cb = NULL;
        cb(d->flush_arg);
    }
}

static void
on_flush_check(uv_check_t *c)
{
    uv_check_stop(c);
    fetch_deliver_t *d = c->data;
    start_sync(d);
    maybe_flushed(d);
}

void
fetch_deliver_flush(fetch_deliver_t *d, void (*cb)(void *arg), void *arg)
{
    d->flush_cb = cb;
    d->flush_arg = arg;
    /* From the loop, never inside this call; the group in progress is synced first. */
    uv_check_start(&d->check, on_flush_check);
}

static void
on_handle_closed(uv_handle_t *h)
{
    fetch_deliver_t *d = h->data;
    if (--d->handles > 0)
        return;
    void (*cb)(void *) = d->close_cb;
    void *arg = d->close_arg;
    nw_spool_close(&d->spool);
    free(d->origin);
    free(d);
    if (cb)
        cb(arg);
}

static void
on_sub_closed(nw_zsock_t *zs, void *arg)
{
    (void)zs;
    fetch_deliver_t *d = arg;
    on_handle_closed((uv_handle_t *)&d->timer);
}

void
fetch_deliver_close(fetch_deliver_t *d, void (*cb)(void *arg), void *arg)
{
    if (d == NULL)
        return;
    /* Callers flush first; a sync still running would outlive us, so refuse to free then. */
    if (d->syncing)
        NW_ERROR(NULL, "spool closed while an fsync runs");
    complete(d, 0, -ECANCELED);
    d->close_cb = cb;
    d->close_arg = arg;
    uv_check_stop(&d->check);
    uv_timer_stop(&d->timer);
    nw_link_destroy(&d->link); /* while the socket is open */
    if (d->sub) {
        d->handles++;
        nw_zsock_close(d->sub, on_sub_closed, d);
        d->sub = NULL;
    }
    uv_close((uv_handle_t *)&d->check, on_handle_closed);
    uv_close((uv_handle_t *)&d->timer, on_handle_closed);
}
