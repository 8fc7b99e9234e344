/* newswire-store: takes "enriched" and "dead" jobs from the broker and writes them to the
 * database (services/lib/store.c) in group-committed batches. Only after a batch committed
 * does it publish each newly stored article on its topics, publish an ack to the fetch
 * instance the article came from, and tell the broker the jobs are done. A failed commit is
 * rolled back and the whole batch retried with backoff, so nothing accepted is lost; acks only
 * ever follow a durable commit. Wiring only. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "newswire/buf.h"
#include "newswire/config.h"
#include "newswire/log.h"
#include "newswire/metrics.h"
#include "newswire/proto.h"
#include "newswire/service.h"
#include "newswire/stage.h"
#include "newswire/store.h"
#include "newswire/util.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 30000

typedef struct cfg {
    nw_service_cfg_t svc;
    const char *data_dir;
    const char *db;
    int64_t batch_max;
    int64_t batch_ms;
    int64_t window;
} cfg_t;

static const nw_cfg_opt_t options[] = {
    NW_SERVICE_OPTIONS(cfg_t, svc, "", NW_SERVICE_HTTP_HELP),
    {"data-dir", NW_CFG_STR, "var", offsetof(cfg_t, data_dir), "data directory", 0, 0},
    {"db", NW_CFG_STR, "", offsetof(cfg_t, db),
     "database: SQLite file, or postgresql:// URI / libpq conninfo shared by several stores "
     "(empty: <data-dir>/newswire.db)",
     0, 0},
    {"batch-max", NW_CFG_INT, "256", offsetof(cfg_t, batch_max),
     "commit once this many messages are pending", 1, 65536},
    {"batch-ms", NW_CFG_MS, "20", offsetof(cfg_t, batch_ms),
     "commit at most this long after the first message of a batch", 1, 60000},
    {"window", NW_CFG_INT, "1024", offsetof(cfg_t, window),
     "most messages in flight at once (>= batch-max)", 1, 1 << 20},
    NW_CFG_END,
};

/* One job from the broker: its bytes, kept until the batch holding it committed (a failed
 * commit replays them), and the outcome of applying it in the current transaction. */
typedef struct job {
    char type[NW_STAGE_TYPE_MAX];
    uint8_t *data;
    size_t len;
    /* outcome, valid once applied */
    nw_ack_t ack;     /* ack.status NULL: nothing to ack (no origin) */
    int stored;       /* publish doc on topics */
    const char *what; /* "stored", "unchanged", "dead": for the counters */
    char dead_reason[40];
    nw_buf_t doc;
    char **topics;
    size_t n_topics;
} job_t;

typedef struct store_svc {
    nw_service_t *svc;
    nw_worker_t *worker;
    nw_pub_t *pub;
    nw_store_t *db;
    cfg_t cfg;
    job_t *jobs; /* received and not done, oldest first; the first `applied` are in the tx */
    size_t n, cap, applied;
    int tx;      /* a transaction is open */
    int failed;  /* waiting for the retry timer */
    int pumping; /* guards against re-entry from callbacks */
    uint64_t backoff_ms;
    uv_timer_t batch_timer;
    uv_timer_t retry_timer;
    int timers_open;
    nw_metric_t *m_stored, *m_unchanged, *m_commits, *m_batch, *m_failures;
} store_svc_t;

static void pump(store_svc_t *st);

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

/* A message store cannot take becomes a dead letter itself, in the same transaction. */
static int
apply_bad(store_svc_t *st, job_t *j, const char *reason, const char *detail, const char *id,
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
    int rc = nw_store_put_dead(st->db, &d);
    if (rc < 0)
        return rc;
    NW_WARN(id, "dead letter reason=%s detail=\"%s\"", reason, detail ? detail : "");
    set_reason(j, reason);
    return set_ack(j, id, origin, spool, "dead", 0, 0);
}

static int
apply_enriched(store_svc_t *st, job_t *j)
{
    nw_enriched_t e;
    nw_store_result_t res = {0};
    int rc = nw_enriched_decode(&e, j->data, j->len);
    if (rc == -EPROTO)
        return apply_bad(st, j, "bad-message", nw_proto_error(), NULL, NULL, 0);
    if (rc < 0)
        return rc;
    rc = nw_store_put(st->db, &e, &j->doc, &res);
    if (rc == -EINVAL) /* the encoder refused what the decoder accepted: keep the bytes */
        rc = apply_bad(st, j, "bad-article", "article cannot be re-encoded", e.art.id, e.art.origin,
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
    nw_enriched_release(&e);
    return rc;
}

static int
apply_dead(store_svc_t *st, job_t *j)
{
    nw_dead_t d;
    int rc = nw_dead_decode(&d, j->data, j->len);
    if (rc == -EPROTO)
        return apply_bad(st, j, "bad-message", nw_proto_error(), NULL, NULL, 0);
    if (rc < 0)
        return rc;
    rc = nw_store_put_dead(st->db, &d);
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
apply_job(store_svc_t *st, job_t *j)
{
    job_clear_outcome(j);
    if (strcmp(j->type, "enriched") == 0)
        return apply_enriched(st, j);
    if (strcmp(j->type, "dead") == 0)
        return apply_dead(st, j);
    char detail[NW_STAGE_TYPE_MAX + 32];
    snprintf(detail, sizeof(detail), "unexpected message type \"%s\"", j->type);
    return apply_bad(st, j, "bad-message", detail, NULL, NULL, 0);
}

static void
on_retry(uv_timer_t *t)
{
    store_svc_t *st = t->data;
    st->failed = 0;
    NW_INFO(NULL, "retrying %zu messages", st->n);
    pump(st);
}

/* The batch cannot be committed: roll back, keep every payload, try again later. Nothing is
 * acked or done, so the broker and fetch still hold the work if we die meanwhile. */
static void
fail_batch(store_svc_t *st, int rc)
{
    uv_timer_stop(&st->batch_timer);
    if (st->tx)
        nw_store_rollback(st->db);
    st->tx = 0;
    for (size_t i = 0; i < st->applied; i++)
        job_clear_outcome(&st->jobs[i]);
    st->applied = 0;
    st->failed = 1;
    nw_metrics_add(st->m_failures, 1);
    NW_ERROR(NULL, "batch of %zu messages failed (%s); retrying in %llu ms", st->n, strerror(-rc),
             (unsigned long long)st->backoff_ms);
    /* The database may have blocked us for a while: measure the backoff from now. */
    uv_update_time(nw_service_loop(st->svc));
    if (!nw_service_draining(st->svc))
        uv_timer_start(&st->retry_timer, on_retry, st->backoff_ms, 0);
    st->backoff_ms *= 2;
    if (st->backoff_ms > BACKOFF_MAX_MS)
        st->backoff_ms = BACKOFF_MAX_MS;
}

static void
publish(store_svc_t *st, job_t *j)
{
    int rc;
    for (size_t t = 0; j->stored && t < j->n_topics; t++)
        if ((rc = nw_pub_send(st->pub, j->topics[t], j->doc.data, j->doc.len)) < 0)
            NW_WARN(j->ack.id, "publish on \"%s\" failed: %s", j->topics[t], strerror(-rc));
    if (j->ack.status) {
        nw_buf_t b = {0};
        char topic[256];
        snprintf(topic, sizeof(topic), "ack.%s", j->ack.origin);
        rc = nw_ack_encode(&j->ack, &b);
        if (rc == 0)
            rc = nw_pub_send(st->pub, topic, b.data, b.len);
        /* A lost ack only means fetch re-sends; the store answers "unchanged". */
        if (rc < 0)
            NW_WARN(j->ack.id, "ack to \"%s\" failed: %s", j->ack.origin, strerror(-rc));
        nw_buf_release(&b);
    }
    if (j->what && strcmp(j->what, "stored") == 0)
        nw_metrics_add(st->m_stored, 1);
    else if (j->what && strcmp(j->what, "unchanged") == 0)
        nw_metrics_add(st->m_unchanged, 1);
    else if (j->what)
        nw_metrics_reason("nw_store_dead_total", j->dead_reason, "Dead letters stored.");
}

/* Commit the open batch; after that, and only then, publish, ack and mark the jobs done. */
static int
commit_batch(store_svc_t *st)
{
    uv_timer_stop(&st->batch_timer);
    int rc = nw_store_commit(st->db);
    if (rc < 0) {
        fail_batch(st, rc);
        return rc;
    }
    st->tx = 0;
    size_t k = st->applied;
    for (size_t i = 0; i < k; i++) {
        publish(st, &st->jobs[i]);
        job_release(&st->jobs[i]);
    }
    memmove(st->jobs, st->jobs + k, (st->n - k) * sizeof(*st->jobs));
    memset(st->jobs + st->n - k, 0, k * sizeof(*st->jobs));
    st->n -= k;
    st->applied = 0;
    st->backoff_ms = BACKOFF_MIN_MS;
    nw_metrics_add(st->m_commits, 1);
    nw_metrics_set(st->m_batch, (int64_t)k);
    NW_DEBUG(NULL, "committed %zu messages", k);
    /* Bookkeeping is settled before the credit goes back, so a job arriving in response
     * finds the array consistent. */
    for (size_t i = 0; i < k; i++)
        nw_worker_done(st->worker);
    return 0;
}

static void
on_batch_timer(uv_timer_t *t)
{
    store_svc_t *st = t->data;
    if (st->tx && !st->failed && commit_batch(st) == 0)
        pump(st);
}

/* Apply waiting jobs: open a transaction on the first one, commit when batch-max are in it,
 * otherwise leave the commit to the batch timer started with the transaction. */
static void
pump(store_svc_t *st)
{
    if (st->pumping)
        return;
    st->pumping = 1;
    while (!st->failed && st->applied < st->n) {
        int rc;
        if (!st->tx) {
            if ((rc = nw_store_begin(st->db)) < 0) {
                fail_batch(st, rc);
                break;
            }
            st->tx = 1;
            uv_update_time(nw_service_loop(st->svc));
            uv_timer_start(&st->batch_timer, on_batch_timer, (uint64_t)st->cfg.batch_ms, 0);
        }
        rc = 0;
        while (rc == 0 && st->applied < st->n && st->applied < (size_t)st->cfg.batch_max)
            if ((rc = apply_job(st, &st->jobs[st->applied])) == 0)
                st->applied++;
        if (rc < 0) {
            fail_batch(st, rc);
            break;
        }
        if (st->applied < (size_t)st->cfg.batch_max || commit_batch(st) < 0)
            break;
    }
    st->pumping = 0;
}

static void
on_job(nw_worker_t *w, const char *type, const uint8_t *data, size_t len, void *arg)
{
    store_svc_t *st = arg;
    (void)w;
    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 64;
        job_t *jobs = realloc(st->jobs, cap * sizeof(*jobs));
        if (!jobs)
            goto enomem;
        memset(jobs + st->cap, 0, (cap - st->cap) * sizeof(*jobs));
        st->jobs = jobs;
        st->cap = cap;
    }
    job_t *j = &st->jobs[st->n];
    j->data = malloc(len ? len : 1);
    if (!j->data)
        goto enomem;
    memcpy(j->data, data, len);
    j->len = len;
    snprintf(j->type, sizeof(j->type), "%s", type);
    st->n++;
    pump(st);
    return;

enomem:
    /* Not done and not acked: the broker redelivers it when this worker goes away. */
    NW_ERROR(NULL, "out of memory holding a message of %zu bytes; dropping it unacked", len);
}

static void
on_timer_closed(uv_handle_t *h)
{
    store_svc_t *st = h->data;
    if (--st->timers_open == 0)
        nw_service_stop(st->svc);
}

static void
on_worker_closed(void *arg)
{
    store_svc_t *st = arg;
    st->worker = NULL;
    nw_pub_destroy(&st->pub);
    nw_store_close(&st->db);
    uv_close((uv_handle_t *)&st->batch_timer, on_timer_closed);
    uv_close((uv_handle_t *)&st->retry_timer, on_timer_closed);
}

/* SIGTERM: commit what is pending (publish, ack, done), then let the worker say goodbye. */
static void
on_drain(nw_service_t *svc, void *arg)
{
    store_svc_t *st = arg;
    (void)svc;
    uv_timer_stop(&st->retry_timer);
    st->failed = 0;
    while (st->n > 0 && !st->failed) {
        pump(st);
        if (st->tx && !st->failed)
            commit_batch(st);
    }
    uv_timer_stop(&st->batch_timer);
    uv_timer_stop(&st->retry_timer);
    if (st->n > 0)
        NW_ERROR(NULL, "stopping with %zu uncommitted messages; the broker redelivers them", st->n);
    NW_INFO(NULL, "drained");
    nw_worker_close(st->worker, on_worker_closed, st);
}

int
main(int argc, char **argv)
{
    static store_svc_t st;
    char path[4096], err[512];
    int rc = nw_config_load(options, &st.cfg, argc, argv, "newswire-store [options]",
                            "Store stage: writes enriched articles and dead letters to the "
                            "database in group commits, then publishes and acks them.",
                            NULL, NULL);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    if (nw_service_config("store", &st.cfg.svc, NW_CURVE_CONNECTS) < 0)
        return 2;
    if (st.cfg.window < st.cfg.batch_max) {
        char w[32], want[64];
        snprintf(w, sizeof w, "%lld", (long long)st.cfg.window);
        snprintf(want, sizeof want, "at least --batch-max, %lld", (long long)st.cfg.batch_max);
        nw_config_bad_value("window", w, want);
        return 2;
    }
    if (nw_store_path(st.cfg.data_dir, st.cfg.db, path, sizeof path) < 0) {
        nw_config_bad_value("db", st.cfg.db, "a path that fits 4 KiB");
        return 2;
    }

    st.svc = nw_service_new("store", st.cfg.svc.http, on_drain, &st);
    if (!st.svc)
        return 1;
    uv_loop_t *loop = nw_service_loop(st.svc);
    uv_timer_init(loop, &st.batch_timer);
    uv_timer_init(loop, &st.retry_timer);
    st.batch_timer.data = st.retry_timer.data = &st;
    st.timers_open = 2;
    st.backoff_ms = BACKOFF_MIN_MS;
    st.m_stored = nw_metrics_counter("nw_store_articles_total", "status=\"stored\"",
                                     "Articles written, by outcome.");
    st.m_unchanged = nw_metrics_counter("nw_store_articles_total", "status=\"unchanged\"",
                                        "Articles written, by outcome.");
    st.m_commits = nw_metrics_counter("nw_store_commits_total", NULL, "Transactions committed.");
    st.m_failures = nw_metrics_counter("nw_store_batch_failures_total", NULL,
                                       "Batches rolled back for a retry.");
    st.m_batch =
        nw_metrics_gauge("nw_store_batch_size", NULL, "Messages in the last committed batch.");

    if ((!st.cfg.db || !st.cfg.db[0]) && (rc = nw_mkdirs(st.cfg.data_dir, 0755)) < 0) {
        NW_ERROR(NULL, "cannot create data directory \"%s\": %s", st.cfg.data_dir, strerror(-rc));
        goto fail;
    }
    st.db = nw_store_open(path, 0, err, sizeof(err));
    if (!st.db) {
        NW_ERROR(NULL, "cannot open database: %s", err);
        goto fail;
    }
    st.pub = nw_pub_new(nw_service_zctx(st.svc), st.cfg.svc.broker);
    if (!st.pub)
        goto fail;
    st.worker = nw_worker_new(loop, nw_service_zctx(st.svc), st.cfg.svc.broker, NW_EP_ENRICHED_OUT,
                              (unsigned)st.cfg.window, on_job, &st);
    if (!st.worker) {
        NW_ERROR(NULL, "cannot connect to broker \"%s\"", st.cfg.svc.broker);
        goto fail;
    }
    /* A conninfo may hold a password: log only that it is PostgreSQL. */
    NW_INFO(NULL, "store started db=\"%s\" articles=%lld batch-max=%lld batch-ms=%lld",
            nw_store_is_postgres(path) ? "postgresql" : path, (long long)nw_store_count(st.db),
            (long long)st.cfg.batch_max, (long long)st.cfg.batch_ms);
    rc = nw_service_run(st.svc);
    for (size_t i = 0; i < st.n; i++) /* only after a forced stop */
        job_release(&st.jobs[i]);
    free(st.jobs);
    return rc;

fail:
    nw_pub_destroy(&st.pub);
    nw_store_close(&st.db);
    uv_close((uv_handle_t *)&st.batch_timer, NULL);
    uv_close((uv_handle_t *)&st.retry_timer, NULL);
    nw_service_stop(st.svc);
    nw_service_run(st.svc);
    return 1;
}
