/* filter.c: the runner shared by the one-in, one-out stage services (see filter.h). Jobs are
 * handled synchronously, so draining only has to flush the worker's held output. */
#include "newswire/filter.h"

#include <stdio.h>
#include <string.h>

#include "newswire/log.h"
#include "newswire/metrics.h"
#include "newswire/proto.h"
#include "newswire/series.h"
#include "newswire/service.h"
#include "newswire/util.h"

typedef struct filter {
    const nw_filter_def_t *def;
    nw_service_t *svc;
    nw_worker_t *worker;
    nw_metric_t *done;
    char dead_metric[64];
    nw_metric_t *job_s; /* nw_stage_job_seconds{stage=...} */
    nw_buf_t out;
} filter_t;

void
nw_filter_fail_set(char *field, size_t size, const char *value)
{
    snprintf(field, size, "%s", value ? value : "");
}

static char *
or_null(char *s)
{
    return s[0] ? s : NULL;
}

/* The job becomes a dead letter holding its original bytes, so `newswire dlq` can replay it. */
static void
emit_dead(filter_t *f, nw_filter_fail_t *fail, const uint8_t *data, size_t len)
{
    char now[32];
    nw_time_iso(nw_now_ms(), now, sizeof now);
    nw_dead_t d = {
        .v = NW_PROTO_VERSION,
        .id = or_null(fail->id),
        .stage = (char *)f->def->name,
        .reason = (char *)fail->reason,
        .detail = fail->detail,
        .time = now,
        .bytes = (uint8_t *)data,
        .bytes_len = len,
        .content_type = or_null(fail->content_type),
        .source = or_null(fail->source),
        .origin = or_null(fail->origin),
        .spool = fail->spool,
    };
    nw_metrics_reason(f->dead_metric, fail->reason, "Jobs this stage turned into dead letters.");
    NW_WARN(d.id, "dead letter reason=%s detail=\"%s\"", fail->reason, fail->detail);
    nw_buf_reset(&f->out);
    int rc = nw_dead_encode(&d, &f->out);
    if (rc == 0)
        rc = nw_worker_emit(f->worker, "dead", f->out.data, f->out.len);
    if (rc < 0)
        NW_ERROR(d.id, "cannot emit dead letter: %s", strerror(-rc));
}

static void
on_job(nw_worker_t *w, const char *type, const uint8_t *data, size_t len, void *arg)
{
    filter_t *f = arg;
    nw_filter_fail_t fail = {0};
    int rc;

    if (strcmp(type, f->def->in_type) != 0) {
        fail.reason = "bad-message";
        snprintf(fail.detail, sizeof fail.detail, "unexpected message type \"%.*s\"",
                 NW_STAGE_TYPE_MAX, type);
        emit_dead(f, &fail, data, len);
        goto done;
    }
    nw_buf_reset(&f->out);
    uint64_t t0 = nw_mono_ns();
    rc = f->def->fn(f->def->ctx, data, len, &f->out, &fail);
    nw_metrics_observe(f->job_s, (double)(nw_mono_ns() - t0) / 1e9);
    if (rc == 0)
        rc = nw_worker_emit(w, f->def->out_type, f->out.data, f->out.len);
    if (rc < 0) {
        if (fail.reason == NULL) {
            /* Only resource exhaustion gets here; keep the bytes for a replay. */
            fail.reason = "internal";
            nw_filter_fail_set(fail.detail, sizeof fail.detail, strerror(-rc));
        }
        emit_dead(f, &fail, data, len);
        goto done;
    }
    nw_metrics_add(f->done, 1);
done:
    nw_worker_done(w);
}

static void
on_worker_closed(void *arg)
{
    filter_t *f = arg;
    f->worker = NULL;
    nw_service_stop(f->svc);
}

/* SIGTERM: stop taking jobs; nw_worker_close flushes held output before the service stops. */
static void
on_drain(nw_service_t *svc, void *arg)
{
    filter_t *f = arg;
    (void)svc;
    NW_INFO(NULL, "draining");
    if (f->worker)
        nw_worker_close(f->worker, on_worker_closed, f);
    else
        nw_service_stop(f->svc);
}

int
nw_filter_run(const nw_filter_def_t *def, const nw_service_cfg_t *cfg, unsigned window)
{
    filter_t f = {.def = def};
    char name[64];
    const char *broker = cfg->broker;
    f.svc = nw_service_new(def->name, cfg->http, on_drain, &f);
    if (f.svc == NULL)
        return 1;
    snprintf(name, sizeof name, "nw_%s_articles_total", def->name);
    f.done = nw_metrics_counter(name, NULL, "Jobs turned into output messages.");
    snprintf(f.dead_metric, sizeof f.dead_metric, "nw_%s_dead_total", def->name);
    snprintf(name, sizeof name, "stage=\"%s\"", def->name);
    f.job_s = nw_metrics_histogram(NW_SERIES_STAGE_SECONDS, name,
                                   "Time a stage worker spent on one job, in seconds.");
    f.worker = nw_worker_new(nw_service_loop(f.svc), nw_service_zctx(f.svc), broker, def->from,
                             window, on_job, &f);
    int started = f.worker != NULL;
    if (started)
        nw_service_add_ready(f.svc, "broker", nw_worker_ready, f.worker);
    if (started) {
        NW_INFO(NULL, "%s started broker=%s window=%u", def->name, broker, window);
    } else {
        NW_ERROR(NULL, "cannot connect to broker \"%s\"", broker);
        nw_service_stop(f.svc);
    }
    int rc = nw_service_run(f.svc);
    nw_buf_release(&f.out);
    return started ? rc : 1;
}
