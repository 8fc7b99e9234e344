/* newswire-enrich: takes "article" jobs from the broker, enriches them (services/lib/enrich.c:
 * language, entities, geocoded places, quotes, keywords, themes, tone, dates, amounts,
 * fingerprint, topics) and emits "enriched". The reference data (NER model, gazetteer,
 * lexicons) is loaded once at start-up; start-up fails when it is missing. A message it cannot
 * decode becomes a "dead" letter carrying the original bytes. Wiring only; run more processes to
 * scale out, they share the queue. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "newswire/config.h"
#include "newswire/enrich.h"
#include "newswire/log.h"
#include "newswire/metrics.h"
#include "newswire/proto.h"
#include "newswire/service.h"
#include "newswire/stage.h"
#include "newswire/util.h"

typedef struct cfg {
    const char *broker;
    const char *http;
    int64_t window;
    const char *log_level;
    const char *ref_dir;
    const char *ner_model;
} cfg_t;

static const nw_cfg_opt_t options[] = {
    {"broker", NW_CFG_STR, "tcp://127.0.0.1:5550", offsetof(cfg_t, broker),
     "broker base endpoint (tcp://host:port, ipc://path)", 0, 0},
    {"http", NW_CFG_STR, "", offsetof(cfg_t, http),
     "host:port for /metrics and /healthz (empty: none)", 0, 0},
    {"window", NW_CFG_INT, "64", offsetof(cfg_t, window), "most articles in flight at once", 1,
     65536},
    {"log-level", NW_CFG_STR, "info", offsetof(cfg_t, log_level), "debug, info, warn or error", 0,
     0},
    {"ref-dir", NW_CFG_STR, "", offsetof(cfg_t, ref_dir),
     "reference data directory (ner/, geo/, themes/, tone/); empty: next to the executable "
     "(../../data, ../share/newswire) or ./data",
     0, 0},
    {"ner-model", NW_CFG_STR, "", offsetof(cfg_t, ner_model),
     "NER model file (empty: <ref-dir>/ner/model.bin)", 0, 0},
    NW_CFG_END,
};

typedef struct enricher {
    nw_service_t *svc;
    nw_worker_t *worker;
    nw_metric_t *enriched;
    nw_enricher_t *ref; /* the reference data, read-only */
    nw_buf_t out;
} enricher_t;

/* art may be NULL (undecodable message); when given, its id, origin and spool go along so the
 * store can ack the dead letter to the fetch that spooled it. */
static void
emit_dead(enricher_t *st, nw_worker_t *w, const nw_article_t *art, const char *reason,
          const char *detail, const uint8_t *data, size_t len)
{
    char now[32];
    nw_time_iso(nw_now_ms(), now, sizeof(now));
    nw_dead_t d = {
        .v = NW_PROTO_VERSION,
        .stage = "enrich",
        .reason = (char *)reason,
        .detail = (char *)detail,
        .time = now,
        .bytes = (uint8_t *)data,
        .bytes_len = len,
        .id = art ? art->id : NULL,
        .origin = art ? art->origin : NULL,
        .spool = art ? art->spool : 0,
    };
    nw_metrics_reason("nw_enrich_dead_total", reason, "Messages enrich turned into dead letters.");
    NW_WARN(NULL, "dead letter reason=%s detail=\"%s\"", reason, detail);
    nw_buf_reset(&st->out);
    int rc = nw_dead_encode(&d, &st->out);
    if (rc == 0)
        rc = nw_worker_emit(w, "dead", st->out.data, st->out.len);
    if (rc < 0)
        NW_ERROR(NULL, "cannot emit dead letter: %s", strerror(-rc));
}

static void
on_job(nw_worker_t *w, const char *type, const uint8_t *data, size_t len, void *arg)
{
    enricher_t *st = arg;
    nw_article_t art;
    nw_enriched_t e = {0};
    int rc;

    if (strcmp(type, "article") != 0) {
        char detail[NW_STAGE_TYPE_MAX + 32];
        snprintf(detail, sizeof(detail), "unexpected message type \"%.*s\"", NW_STAGE_TYPE_MAX,
                 type);
        emit_dead(st, w, NULL, "bad-message", detail, data, len);
        goto done;
    }
    rc = nw_article_decode(&art, data, len);
    if (rc < 0) {
        emit_dead(st, w, NULL, "bad-message", rc == -EPROTO ? nw_proto_error() : strerror(-rc),
                  data, len);
        goto done;
    }
    rc = nw_enricher_run(st->ref, &art, &e);
    if (rc == 0) {
        nw_buf_reset(&st->out);
        rc = nw_enriched_encode(&e, &st->out);
        if (rc == 0)
            rc = nw_worker_emit(w, "enriched", st->out.data, st->out.len);
    }
    if (rc < 0) {
        /* Only resource exhaustion gets here; keep the bytes so the article can be replayed. */
        NW_ERROR(e.art.id ? e.art.id : art.id, "cannot enrich article: %s", strerror(-rc));
        emit_dead(st, w, &art, "enrich-failed", strerror(-rc), data, len);
    } else {
        nw_metrics_add(st->enriched, 1);
        NW_DEBUG(e.art.id, "enriched lang=%s words=%u", e.art.lang, e.words);
    }
    nw_article_release(&art);
    nw_enriched_release(&e);
done:
    nw_worker_done(w);
}

static void
on_worker_closed(void *arg)
{
    enricher_t *st = arg;
    st->worker = NULL;
    nw_service_stop(st->svc);
}

/* SIGTERM: stop taking jobs; every job is handled synchronously, so only held output is left
 * and nw_worker_close flushes it before the service stops. */
static void
on_drain(nw_service_t *svc, void *arg)
{
    enricher_t *st = arg;
    (void)svc;
    if (st->worker)
        nw_worker_close(st->worker, on_worker_closed, st);
    else
        nw_service_stop(st->svc);
}

int
main(int argc, char **argv)
{
    cfg_t cfg;
    enricher_t st = {0};
    int rc = nw_config_load(options, &cfg, argc, argv, "newswire-enrich [options]",
                            "Enrich stage: language, entities, geocoded places, quotes, keywords, "
                            "themes, tone, dates, amounts, fingerprint and topics of articles.",
                            NULL, NULL);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    int level = nw_log_parse_level(cfg.log_level);
    if (level < 0) {
        fprintf(stderr, "newswire-enrich: bad value for --log-level: \"%s\"\n", cfg.log_level);
        return 2;
    }

    /* Load the reference data before anything connects: a worker without its model would
     * take jobs it cannot do. */
    const char *dir = cfg.ref_dir[0] ? cfg.ref_dir : NULL;
    rc = nw_enricher_new(dir, cfg.ner_model, &st.ref);
    if (rc < 0) {
        fprintf(stderr, "newswire-enrich: %s\n", nw_enrich_error());
        return 1;
    }
    st.svc = nw_service_new("enrich", cfg.http, on_drain, &st);
    if (!st.svc) {
        nw_enricher_destroy(&st.ref);
        return 1;
    }
    nw_log_init("enrich", level);
    st.enriched = nw_metrics_counter("nw_enrich_articles_total", NULL, "Articles enriched.");
    st.worker = nw_worker_new(nw_service_loop(st.svc), nw_service_zctx(st.svc), cfg.broker,
                              NW_EP_ARTICLE_OUT, (unsigned)cfg.window, on_job, &st);
    int started = st.worker != NULL;
    if (!started) {
        NW_ERROR(NULL, "cannot connect to broker \"%s\"", cfg.broker);
        nw_service_stop(st.svc);
    } else {
        NW_INFO(NULL, "enrich started broker=%s window=%lld", cfg.broker, (long long)cfg.window);
    }
    rc = nw_service_run(st.svc);
    nw_buf_release(&st.out);
    nw_enricher_destroy(&st.ref);
    return started ? rc : 1;
}
