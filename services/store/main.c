/* newswire-store: takes "enriched" and "dead" jobs from the broker and writes them to the
 * database in group-committed batches (the state machine is services/lib/store_batch.c). Only
 * after a batch committed does it publish each newly stored article on its topics, publish an
 * ack to the fetch instance the article came from, and tell the broker the jobs are done. A
 * failed commit is rolled back and the whole batch retried with backoff, so nothing accepted
 * is lost; acks only ever follow a durable commit. Wiring only. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "newswire/config.h"
#include "newswire/log.h"
#include "newswire/service.h"
#include "newswire/stage.h"
#include "newswire/store.h"
#include "newswire/util.h"
#include "store_batch.h"

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

typedef struct store_svc {
    nw_service_t *svc;
    nw_worker_t *worker;
    nw_pub_t *pub;
    nw_store_t *db;
    nw_store_batch_t *batch;
    cfg_t cfg;
} store_svc_t;

static int
on_publish(void *arg, const char *topic, const void *data, size_t len)
{
    store_svc_t *st = arg;
    return nw_pub_send(st->pub, topic, data, len);
}

/* Committed: the broker may forget these jobs and send more. */
static void
on_done(void *arg, size_t n)
{
    store_svc_t *st = arg;
    for (size_t i = 0; i < n; i++)
        nw_worker_done(st->worker);
}

static void
on_job(nw_worker_t *w, const char *type, const uint8_t *data, size_t len, void *arg)
{
    store_svc_t *st = arg;
    (void)w;
    /* Not done and not acked: the broker redelivers it when this worker goes away. */
    if (nw_store_batch_add(st->batch, type, data, len) < 0)
        NW_ERROR(NULL, "out of memory holding a message of %zu bytes; dropping it unacked", len);
}

static void
on_batch_closed(void *arg)
{
    store_svc_t *st = arg;
    nw_pub_destroy(&st->pub);
    nw_store_close(&st->db);
    nw_service_stop(st->svc);
}

static void
on_worker_closed(void *arg)
{
    store_svc_t *st = arg;
    st->worker = NULL;
    nw_store_batch_close(st->batch, on_batch_closed, st);
    st->batch = NULL;
}

/* SIGTERM: commit what is pending (publish, ack, done), then let the worker say goodbye. */
static void
on_drain(nw_service_t *svc, void *arg)
{
    store_svc_t *st = arg;
    (void)svc;
    size_t left = nw_store_batch_drain(st->batch);
    if (left > 0)
        NW_ERROR(NULL, "stopping with %zu uncommitted messages; the broker redelivers them", left);
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
    nw_store_batch_opts_t bo = {
        .batch_max = (size_t)st.cfg.batch_max,
        .batch_ms = (uint64_t)st.cfg.batch_ms,
        .publish = on_publish,
        .done = on_done,
        .arg = &st,
    };
    st.batch = nw_store_batch_new(loop, st.db, &bo);
    if (!st.batch)
        goto fail;
    st.worker = nw_worker_new(loop, nw_service_zctx(st.svc), st.cfg.svc.broker, NW_EP_ENRICHED_OUT,
                              (unsigned)st.cfg.window, on_job, &st);
    if (!st.worker) {
        NW_ERROR(NULL, "cannot connect to broker \"%s\"", st.cfg.svc.broker);
        goto fail;
    }
    nw_service_add_ready(st.svc, "broker", nw_worker_ready, st.worker);
    nw_service_add_ready(st.svc, "database", nw_store_batch_ready, st.batch);
    /* A conninfo may hold a password: log only that it is PostgreSQL. */
    NW_INFO(NULL, "store started db=\"%s\" articles=%lld batch-max=%lld batch-ms=%lld",
            nw_store_is_postgres(path) ? "postgresql" : path, (long long)nw_store_count(st.db),
            (long long)st.cfg.batch_max, (long long)st.cfg.batch_ms);
    return nw_service_run(st.svc);

fail:
    nw_store_batch_close(st.batch, NULL, NULL);
    nw_pub_destroy(&st.pub);
    nw_store_close(&st.db);
    nw_service_stop(st.svc);
    nw_service_run(st.svc);
    return 1;
}
