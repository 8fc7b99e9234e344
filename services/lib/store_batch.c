/* store_batch.c: the store stage's delivery state machine (store_batch.h): group commit,
 * rollback with backoff, dead-letter mapping, and publish-then-ack-then-done only after a
 * commit. newswire-store wires it to the broker (done returns credit) and the hub (publish).
 *
 * Jobs live in one array, oldest first; the first `applied` of them are in the open
 * transaction. A job keeps its bytes until the batch holding it committed, because a failed
 * commit replays them from the start. */
#include "store_batch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswire/buf.h"
#include "newswire/log.h"
#include "newswire/metrics.h"
#include "newswire/proto.h"
#include "newswire/series.h"
#include "newswire/stage.h"
#include "newswire/util.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 30000

/* One job: its bytes and the outcome of applying it in the current transaction. */
typedef struct job {
    char type[NW_STAGE_TYPE_MAX];
    uint8_t *data;
    size_t len;
    /* outcome, valid once applied */
    nw_ack_t ack;     /* ack.status NULL: nothing to ack (no origin) */
    int stored;       /* publish doc on topics */
    const char *what; /* "stored", "unchanged", "history", "dead": for the counters */
    char dead_reason[40];
    int64_t accepted_ms; /* when fetch accepted it (raw "fetched"), 0 when unknown */
    nw_buf_t doc;
    char **topics;
    size_t n_topics;
} job_t;

struct nw_store_batch {
    uv_loop_t *loop;
    nw_store_t *db;
    nw_store_batch_opts_t o;
    job_t *jobs;
    size_t n, cap, applied;
    int tx;       /* a transaction is open */
    int failed;   /* waiting for the retry timer */
    int pumping;  /* guards against re-entry from callbacks */
    int draining; /* no more retries */
    uint64_t backoff_ms;
    uint64_t failures;
    uv_timer_t batch_timer;
    uv_timer_t retry_timer;
    int handles;
    void (*close_cb)(void *arg);
    void *close_arg;
    nw_metric_t *m_stored, *m_unchanged, *m_commits, *m_batch, *m_failures;
    nw_metric_t *m_commit_s, *m_accept_s; /* histograms (series.h) */
};

static void pump(nw_store_batch_t *b);

static int
fault(nw_store_batch_t *b, const char *op)
{
    return b->o.fault ? b->o.fault(b->o.arg, op) : 0;
}

static void
job_clear_outcome(job_t *j)
{
    free(j->ack.id);
    free(j->ack.origin);
    memset(&j->ack, 0, sizeof(j->ack));
    for (size_t i = 0; i < j->n_topics; i++)
        free(j->topics[i]);
    free(j->topics);
    j->topics = NULL;
    j->n_topics = 0;
    nw_buf_reset(&j->doc);
    j->stored = 0;
    j->what = NULL;
    j->dead_reason[0] = '\0';
    j->accepted_ms = 0;
}

static void
job_release(job_t *j)
{
    job_clear_outcome(j);
    nw_buf_release(&j->doc);
    free(j->data);
    memset(j, 0, sizeof(*j));
}

/* Dead-letter reasons come from other processes; only tidy ones become metric labels so a
 * misbehaving producer cannot grow /metrics without bound. */
static void
set_reason(job_t *j, const char *reason)
{
    size_t n = reason ? strlen(reason) : 0;
    int tidy = n > 0 && n < sizeof(j->dead_reason);
    for (size_t i = 0; tidy && i < n; i++)
        tidy = (reason[i] >= 'a' && reason[i] <= 'z') || (reason[i] >= '0' && reason[i] <= '9') ||
               reason[i] == '-';
    snprintf(j->dead_reason, sizeof(j->dead_reason), "%s", tidy ? reason : "other");
    j->what = "dead";
}

static int
set_ack(job_t *j, const char *id, const char *origin, uint64_t spool, const char *status,
        uint32_t rev, uint64_t seq)
{
    if (!origin || !origin[0])
        return 0; /* nobody to tell */
    j->ack.v = NW_PROTO_VERSION;
    j->ack.id = strdup(id ? id : "");
    j->ack.origin = strdup(origin);
    if (!j->ack.id || !j->ack.origin)
        return -ENOMEM;
    j->ack.spool = spool;
    j->ack.status = (char *)status; /* static string; never freed */
    j->ack.rev = rev;
    j->ack.seq = seq;
    return 0;
}

/* A message the store cannot take becomes a dead letter itself, in the same transaction. */
static int
apply_bad(nw_store_batch_t *b, job_t *j, const char *reason, const char *detail, const char *id,
          const char *origin, uint64_t spool)
{
    char now[32];
    nw_time_iso(nw_now_ms(), now, sizeof(now));
    nw_dead_t d = {
        .v = NW_PROTO_VERSION,
        .id = (char *)id,
        .stage = "store",
        .reason = (char *)reason,
        .detail = (char *)detail,
        .time = now,
        .bytes = j->data,
        .bytes_len = j->len,
        .origin = (char *)origin,
        .spool = spool,
    };
    int rc = nw_store_put_dead(b->db, &d);
    if (rc < 0)
        return rc;
    NW_WARN(id, "dead letter reason=%s detail=\"%s\"", reason, detail ? detail : "");
    set_reason(j, reason);
    return set_ack(j, id, origin, spool, "dead", 0, 0);
}

static int
apply_enriched(nw_store_batch_t *b, job_t *j)
{
    nw_enriched_t e;
    nw_store_result_t res = {0};
    int rc = nw_enriched_decode(&e, j->data, j->len);
    if (rc == -EPROTO)
        return apply_bad(b, j, "bad-message", nw_proto_error(), NULL, NULL, 0);
    if (rc < 0)
        return rc;
    rc = nw_store_put(b->db, &e, &j->doc, &res);
    if (rc == -EINVAL) /* the encoder refused what the decoder accepted: keep the bytes */
        rc = apply_bad(b, j, "bad-article", "article cannot be re-encoded", e.art.id, e.art.origin,
                       e.art.spool);
    else if (rc == 0)
        rc = set_ack(j, e.art.id, e.art.origin, e.art.spool, res.status, res.rev, res.seq);
    if (rc == 0 && strcmp(res.status ? res.status : "", "stored") == 0) {
        j->stored = 1;
        j->topics = e.topics; /* moved: published after the commit */
        j->n_topics = e.n_topics;
        e.topics = NULL;
        e.n_topics = 0;
        NW_DEBUG(e.art.id, "stored rev=%u seq=%llu", res.rev, (unsigned long long)res.seq);
    }
    if (rc == 0 && !j->what)
        j->what = res.status;
    if (rc == 0 && (!e.art.fetched || nw_time_parse(e.art.fetched, &j->accepted_ms) < 0))
        j->accepted_ms = 0;
    nw_enriched_release(&e);
    return rc;
}

static int
apply_dead(nw_store_batch_t *b, job_t *j)
{
    nw_dead_t d;
    int rc = nw_dead_decode(&d, j->data, j->len);
    if (rc == -EPROTO)
        return apply_bad(b, j, "bad-message", nw_proto_error(), NULL, NULL, 0);
    if (rc < 0)
        return rc;
    rc = nw_store_put_dead(b->db, &d);
    if (rc == 0) {
        set_reason(j, d.reason);
        rc = set_ack(j, d.id, d.origin, d.spool, "dead", 0, 0);
    }
    nw_dead_release(&d);
    return rc;
}

/* Write one job into the open transaction. Returns 0, or a negative errno that fails the
 * whole batch (database trouble or memory); content problems become dead letters instead. */
static int
apply_job(nw_store_batch_t *b, job_t *j)
{
    job_clear_outcome(j);
    int rc = fault(b, "apply");
    if (rc < 0)
        return rc;
    if (strcmp(j->type, "enriched") == 0)
        return apply_enriched(b, j);
    if (strcmp(j->type, "dead") == 0)
        return apply_dead(b, j);
    char detail[NW_STAGE_TYPE_MAX + 32];
    snprintf(detail, sizeof(detail), "unexpected message type \"%s\"", j->type);
    return apply_bad(b, j, "bad-message", detail, NULL, NULL, 0);
}

static void
on_retry(uv_timer_t *t)
{
    nw_store_batch_t *b = t->data;
    b->failed = 0;
    NW_INFO(NULL, "retrying %zu messages", b->n);
    pump(b);
}

/* The batch cannot be committed: roll back, keep every payload, try again later. Nothing is
 * published, acked or done, so the broker and fetch still hold the work if we die meanwhile. */
static void
fail_batch(nw_store_batch_t *b, int rc)
{
    uv_timer_stop(&b->batch_timer);
    if (b->tx)
        nw_store_rollback(b->db);
    b->tx = 0;
    for (size_t i = 0; i < b->applied; i++)
        job_clear_outcome(&b->jobs[i]);
    b->applied = 0;
    b->failed = 1;
    b->failures++;
    nw_metrics_add(b->m_failures, 1);
    NW_ERROR(NULL, "batch of %zu messages failed (%s); retrying in %llu ms", b->n, strerror(-rc),
             (unsigned long long)b->backoff_ms);
    /* The database may have blocked us for a while: measure the backoff from now. */
    uv_update_time(b->loop);
    if (!b->draining)
        uv_timer_start(&b->retry_timer, on_retry, b->backoff_ms, 0);
    b->backoff_ms *= 2;
    if (b->backoff_ms > b->o.backoff_max_ms)
        b->backoff_ms = b->o.backoff_max_ms;
}

static void
publish(nw_store_batch_t *b, job_t *j)
{
    int rc;
    for (size_t t = 0; j->stored && t < j->n_topics; t++)
        if ((rc = b->o.publish(b->o.arg, j->topics[t], j->doc.data, j->doc.len)) < 0)
            NW_WARN(j->ack.id, "publish on \"%s\" failed: %s", j->topics[t], strerror(-rc));
    if (j->ack.status) {
        nw_buf_t buf = {0};
        char topic[256];
        snprintf(topic, sizeof(topic), "ack.%s", j->ack.origin);
        rc = nw_ack_encode(&j->ack, &buf);
        if (rc == 0)
            rc = b->o.publish(b->o.arg, topic, buf.data, buf.len);
        /* A lost ack only means fetch re-sends; the store answers "unchanged". */
        if (rc < 0)
            NW_WARN(j->ack.id, "ack to \"%s\" failed: %s", j->ack.origin, strerror(-rc));
        nw_buf_release(&buf);
    }
    if (j->what && strcmp(j->what, "stored") == 0)
        nw_metrics_add(b->m_stored, 1);
    else if (j->what && strcmp(j->what, "unchanged") == 0)
        nw_metrics_add(b->m_unchanged, 1);
    else if (j->what && strcmp(j->what, "history") == 0) /* a late older version (store.h) */
        nw_metrics_add(nw_metrics_counter("nw_store_articles_total", "status=\"history\"",
                                          "Articles written, by outcome."),
                       1);
    else if (j->what)
        nw_metrics_reason("nw_store_dead_total", j->dead_reason, "Dead letters stored.");
}

/* Commit the open batch; after that, and only then, publish, ack and report the jobs done. */
static int
commit_batch(nw_store_batch_t *b)
{
    uv_timer_stop(&b->batch_timer);
    uint64_t t0 = nw_mono_ns();
    int rc = fault(b, "commit");
    if (rc == 0)
        rc = nw_store_commit(b->db);
    if (rc < 0) {
        fail_batch(b, rc);
        return rc;
    }
    nw_metrics_observe(b->m_commit_s, (double)(nw_mono_ns() - t0) / 1e9);
    b->tx = 0;
    size_t k = b->applied;
    int64_t now = nw_now_ms();
    for (size_t i = 0; i < k; i++) {
        if (b->jobs[i].accepted_ms > 0)
            nw_metrics_observe(b->m_accept_s, (double)(now - b->jobs[i].accepted_ms) / 1e3);
        publish(b, &b->jobs[i]);
        job_release(&b->jobs[i]);
    }
    memmove(b->jobs, b->jobs + k, (b->n - k) * sizeof(*b->jobs));
    memset(b->jobs + b->n - k, 0, k * sizeof(*b->jobs));
    b->n -= k;
    b->applied = 0;
    b->backoff_ms = b->o.backoff_min_ms;
    nw_metrics_add(b->m_commits, 1);
    nw_metrics_set(b->m_batch, (int64_t)k);
    NW_DEBUG(NULL, "committed %zu messages", k);
    /* Bookkeeping is settled before the credit goes back, so a job arriving in response
     * finds the array consistent. */
    if (k > 0)
        b->o.done(b->o.arg, k);
    return 0;
}

static void
on_batch_timer(uv_timer_t *t)
{
    nw_store_batch_t *b = t->data;
    if (b->tx && !b->failed && commit_batch(b) == 0)
        pump(b);
}

/* Apply waiting jobs: open a transaction on the first one, commit when batch_max are in it,
 * otherwise leave the commit to the batch timer started with the transaction. */
static void
pump(nw_store_batch_t *b)
{
    if (b->pumping)
        return;
    b->pumping = 1;
    while (!b->failed && b->applied < b->n) {
        int rc;
        if (!b->tx) {
            if ((rc = fault(b, "begin")) < 0 || (rc = nw_store_begin(b->db)) < 0) {
                fail_batch(b, rc);
                break;
            }
            b->tx = 1;
            uv_update_time(b->loop);
            uv_timer_start(&b->batch_timer, on_batch_timer, b->o.batch_ms, 0);
        }
        rc = 0;
        while (rc == 0 && b->applied < b->n && b->applied < b->o.batch_max)
            if ((rc = apply_job(b, &b->jobs[b->applied])) == 0)
                b->applied++;
        if (rc < 0) {
            fail_batch(b, rc);
            break;
        }
        if (b->applied < b->o.batch_max || commit_batch(b) < 0)
            break;
    }
    b->pumping = 0;
}

nw_store_batch_t *
nw_store_batch_new(uv_loop_t *loop, nw_store_t *db, const nw_store_batch_opts_t *o)
{
    if (!loop || !db || !o || o->batch_max == 0 || !o->publish || !o->done)
        return NULL;
    nw_store_batch_t *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->loop = loop;
    b->db = db;
    b->o = *o;
    if (b->o.backoff_min_ms == 0)
        b->o.backoff_min_ms = BACKOFF_MIN_MS;
    if (b->o.backoff_max_ms == 0)
        b->o.backoff_max_ms = BACKOFF_MAX_MS;
    b->backoff_ms = b->o.backoff_min_ms;
    uv_timer_init(loop, &b->batch_timer);
    uv_timer_init(loop, &b->retry_timer);
    b->batch_timer.data = b->retry_timer.data = b;
    b->m_stored = nw_metrics_counter("nw_store_articles_total", "status=\"stored\"",
                                     "Articles written, by outcome.");
    b->m_unchanged = nw_metrics_counter("nw_store_articles_total", "status=\"unchanged\"",
                                        "Articles written, by outcome.");
    b->m_commits = nw_metrics_counter("nw_store_commits_total", NULL, "Transactions committed.");
    b->m_commit_s = nw_metrics_histogram(NW_SERIES_COMMIT_SECONDS, NULL,
                                         "Time one database commit of a batch took, in seconds.");
    b->m_accept_s = nw_metrics_histogram(NW_SERIES_ACCEPT_TO_COMMIT_SECONDS, NULL,
                                         "Time from fetch's acceptance of an article to the "
                                         "commit that stored it, in seconds.");
    b->m_failures = nw_metrics_counter("nw_store_batch_failures_total", NULL,
                                       "Batches rolled back for a retry.");
    b->m_batch =
        nw_metrics_gauge("nw_store_batch_size", NULL, "Messages in the last committed batch.");
    return b;
}

int
nw_store_batch_add(nw_store_batch_t *b, const char *type, const uint8_t *data, size_t len)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        job_t *jobs = realloc(b->jobs, cap * sizeof(*jobs));
        if (!jobs)
            return -ENOMEM;
        memset(jobs + b->cap, 0, (cap - b->cap) * sizeof(*jobs));
        b->jobs = jobs;
        b->cap = cap;
    }
    job_t *j = &b->jobs[b->n];
    j->data = malloc(len ? len : 1);
    if (!j->data)
        return -ENOMEM;
    if (len)
        memcpy(j->data, data, len);
    j->len = len;
    snprintf(j->type, sizeof(j->type), "%s", type);
    b->n++;
    pump(b);
    return 0;
}

size_t
nw_store_batch_drain(nw_store_batch_t *b)
{
    b->draining = 1;
    uv_timer_stop(&b->retry_timer);
    b->failed = 0;
    while (b->n > 0 && !b->failed) {
        pump(b);
        if (b->tx && !b->failed)
            commit_batch(b);
    }
    uv_timer_stop(&b->batch_timer);
    uv_timer_stop(&b->retry_timer);
    return b->n;
}

size_t
nw_store_batch_pending(const nw_store_batch_t *b)
{
    return b->n;
}

const char *
nw_store_batch_ready(void *arg)
{
    const nw_store_batch_t *b = arg;
    return b && b->failed ? "the last batch failed; retrying" : NULL;
}

uint64_t
nw_store_batch_failures(const nw_store_batch_t *b)
{
    return b->failures;
}

static void
on_closed(uv_handle_t *h)
{
    nw_store_batch_t *b = h->data;
    if (--b->handles > 0)
        return;
    void (*cb)(void *) = b->close_cb;
    void *arg = b->close_arg;
    for (size_t i = 0; i < b->n; i++)
        job_release(&b->jobs[i]);
    free(b->jobs);
    free(b);
    if (cb)
        cb(arg);
}

void
nw_store_batch_close(nw_store_batch_t *b, void (*cb)(void *arg), void *arg)
{
    if (!b)
        return;
    if (b->tx)
        nw_store_rollback(b->db);
    b->tx = 0;
    b->close_cb = cb;
    b->close_arg = arg;
    b->handles = 2;
    uv_close((uv_handle_t *)&b->batch_timer, on_closed);
    uv_close((uv_handle_t *)&b->retry_timer, on_closed);
}
