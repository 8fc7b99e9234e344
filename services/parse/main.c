/* newswire-parse: takes "raw" jobs from the broker, turns each into an "article"
 * (services/lib/parse.c: wire text, HTML or JSON) and emits it. Whatever cannot be decoded or
 * parsed becomes a "dead" letter with its reason and the original bytes, so nothing is lost and
 * the spool entry can still be acknowledged. Wiring only; run more processes to scale out,
 * they share the queue. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "newswire/buf.h"
#include "newswire/config.h"
#include "newswire/log.h"
#include "newswire/metrics.h"
#include "newswire/parse.h"
#include "newswire/proto.h"
#include "newswire/service.h"
#include "newswire/stage.h"
#include "newswire/util.h"

typedef struct cfg {
    const char *broker;
    const char *http;
    int64_t window;
    const char *log_level;
} cfg_t;

static const nw_cfg_opt_t options[] = {
    {"broker", NW_CFG_STR, "tcp://127.0.0.1:5550", offsetof(cfg_t, broker),
     "broker base endpoint (tcp://host:port, ipc://path)", 0, 0},
    {"http", NW_CFG_STR, "", offsetof(cfg_t, http),
     "host:port for /metrics and /healthz (empty: none)", 0, 0},
    {"window", NW_CFG_INT, "64", offsetof(cfg_t, window),
     "most raw items in flight at once (credit)", 1, 65536},
    {"log-level", NW_CFG_STR, "info", offsetof(cfg_t, log_level), "debug, info, warn or error", 0,
     0},
    NW_CFG_END,
};

typedef struct parser {
    nw_service_t *svc;
    nw_worker_t *worker;
    nw_metric_t *parsed;
    nw_buf_t out;
} parser_t;

/* Emit a dead letter for one job. raw may be NULL (undecodable message); data is the original
 * message, kept whole so `newswire dlq` can replay it. */
static void
emit_dead(parser_t *st, nw_worker_t *w, const nw_raw_t *raw, const char *reason, const char *detail,
          const uint8_t *data, size_t len)
{
    char now[32];
    nw_time_iso(nw_now_ms(), now, sizeof(now));
    nw_dead_t d = {
        .v = NW_PROTO_VERSION,
        .id = raw ? raw->id : NULL,
        .stage = "parse",
        .reason = (char *)reason,
        .detail = (char *)detail,
        .time = now,
        .bytes = (uint8_t *)data,
        .bytes_len = len,
        .content_type = raw ? raw->content_type : NULL,
        .source = raw ? raw->source : NULL,
        .origin = raw ? raw->origin : NULL,
        .spool = raw ? raw->spool : 0,
    };
    nw_metrics_reason("nw_parse_dead_total", reason, "Raw items parse turned into dead letters.");
    NW_WARN(raw ? raw->id : NULL, "dead letter reason=%s detail=\"%s\"", reason, detail);
    nw_buf_reset(&st->out);
    int rc = nw_dead_encode(&d, &st->out);
    if (rc == 0)
        rc = nw_worker_emit(w, "dead", st->out.data, st->out.len);
    if (rc < 0)
        NW_ERROR(raw ? raw->id : NULL, "cannot emit dead letter: %s", strerror(-rc));
}

static void
on_job(nw_worker_t *w, const char *type, const uint8_t *data, size_t len, void *arg)
{
    parser_t *st = arg;
    nw_raw_t raw = {0};
    nw_article_t art = {0};
    const char *reason = NULL;
    char detail[512] = "";
    int rc;

    if (strcmp(type, "raw") != 0) {
        snprintf(detail, sizeof(detail), "unexpected message type \"%.*s\"", NW_STAGE_TYPE_MAX,
                 type);
        emit_dead(st, w, NULL, "bad-message", detail, data, len);
        goto done;
    }
    rc = nw_raw_decode(&raw, data, len);
    if (rc < 0) {
        emit_dead(st, w, NULL, "bad-message", rc == -EPROTO ? nw_proto_error() : strerror(-rc),
                  data, len);
        goto done;
    }
    rc = nw_parse_raw(&raw, &art, &reason, detail, sizeof(detail));
    if (rc < 0) {
        emit_dead(st, w, &raw, reason ? reason : "parse-failed", detail[0] ? detail : strerror(-rc),
                  data, len);
        goto done;
    }
    nw_buf_reset(&st->out);
    rc = nw_article_encode(&art, &st->out);
    if (rc == 0)
        rc = nw_worker_emit(w, "article", st->out.data, st->out.len);
    if (rc < 0) {
        /* only resource exhaustion or a codec refusal gets here; keep the bytes for replay */
        emit_dead(st, w, &raw, "encode-failed", strerror(-rc), data, len);
        goto done;
    }
    nw_metrics_add(st->parsed, 1);
    NW_DEBUG(art.id, "parsed content_type=%s bytes=%zu captions=%zu", art.content_type,
             raw.body_len, art.n_captions);
done:
    nw_article_release(&art);
    nw_raw_release(&raw);
    nw_worker_done(w);
}

static void
on_worker_closed(void *arg)
{
    parser_t *st = arg;
    st->worker = NULL;
    nw_service_stop(st->svc);
}

/* SIGTERM: stop taking jobs; every job is handled synchronously, so only held output is left
 * and nw_worker_close flushes it before the service stops. */
static void
on_drain(nw_service_t *svc, void *arg)
{
    parser_t *st = arg;
    (void)svc;
    NW_INFO(NULL, "draining");
    if (st->worker)
        nw_worker_close(st->worker, on_worker_closed, st);
    else
        nw_service_stop(st->svc);
}

int
main(int argc, char **argv)
{
    cfg_t cfg;
    parser_t st = {0};
    int rc = nw_config_load(options, &cfg, argc, argv, "newswire-parse [options]",
                            "Parse stage: turns raw wire text, HTML and JSON into articles (title, "
                            "teaser, dateline, date, authors, captions with credits, paragraphs).",
                            NULL, NULL);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    int level = nw_log_parse_level(cfg.log_level);
    if (level < 0) {
        fprintf(stderr, "newswire-parse: bad value for --log-level: \"%s\"\n", cfg.log_level);
        return 2;
    }

    st.svc = nw_service_new("parse", cfg.http, on_drain, &st);
    if (!st.svc)
        return 1;
    nw_log_init("parse", level);
    st.parsed = nw_metrics_counter("nw_parse_articles_total", NULL, "Articles parsed.");
    st.worker = nw_worker_new(nw_service_loop(st.svc), nw_service_zctx(st.svc), cfg.broker,
                              NW_EP_RAW_OUT, (unsigned)cfg.window, on_job, &st);
    int started = st.worker != NULL;
    if (!started) {
        NW_ERROR(NULL, "cannot connect to broker \"%s\"", cfg.broker);
        nw_service_stop(st.svc);
    } else {
        NW_INFO(NULL, "parse started broker=%s window=%lld", cfg.broker, (long long)cfg.window);
    }
    rc = nw_service_run(st.svc);
    nw_buf_release(&st.out);
    return started ? rc : 1;
}
