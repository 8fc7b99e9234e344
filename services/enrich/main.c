/* newswire-enrich: takes "article" jobs from the broker, enriches them (services/lib/enrich.c:
 * language, entities, geocoded places, quotes, keywords, themes, tone, dates, amounts,
 * fingerprint, topics) and emits "enriched". The reference data (NER model, gazetteer,
 * lexicons) is loaded once at start-up; start-up fails when it is missing. The filter runner
 * (services/lib/filter.c) turns a message it cannot decode into a "dead" letter carrying the
 * original bytes. Wiring only; run more processes to scale out, they share the queue. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "newswire/config.h"
#include "newswire/curve.h"
#include "newswire/enrich.h"
#include "newswire/filter.h"
#include "newswire/log.h"
#include "newswire/proto.h"

typedef struct cfg {
    const char *broker;
    const char *http;
    int64_t window;
    const char *log_level;
    nw_curve_cfg_t curve;
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
    NW_CURVE_KEY_OPTION(cfg_t, curve),
    NW_CURVE_SERVER_OPTION(cfg_t, curve),
    NW_CFG_END,
};

/* article -> enriched. A failure keeps the article's id, origin and spool so the store can
 * acknowledge the dead letter to the fetch that spooled it. */
static int
enrich_job(void *ctx, const uint8_t *in, size_t len, nw_buf_t *out, nw_filter_fail_t *fail)
{
    const nw_enricher_t *ref = ctx;
    nw_article_t art = {0};
    nw_enriched_t e = {0};
    int rc = nw_article_decode(&art, in, len);
    if (rc < 0) {
        fail->reason = "bad-message";
        nw_filter_fail_set(fail->detail, sizeof fail->detail,
                           rc == -EPROTO ? nw_proto_error() : strerror(-rc));
        return rc;
    }
    /* nw_enricher_run moves the article into e, or leaves it untouched when it fails. */
    nw_filter_fail_set(fail->id, sizeof fail->id, art.id);
    nw_filter_fail_set(fail->origin, sizeof fail->origin, art.origin);
    fail->spool = art.spool;
    rc = nw_enricher_run(ref, &art, &e);
    if (rc == 0)
        rc = nw_enriched_encode(&e, out);
    if (rc < 0) {
        fail->reason = "enrich-failed";
        nw_filter_fail_set(fail->detail, sizeof fail->detail, strerror(-rc));
    } else {
        NW_DEBUG(e.art.id, "enriched lang=%s words=%u", e.art.lang, e.words);
    }
    nw_article_release(&art);
    nw_enriched_release(&e);
    return rc;
}

int
main(int argc, char **argv)
{
    cfg_t cfg;
    nw_enricher_t *ref = NULL;
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
    char curve_err[256];
    if (nw_curve_init(&cfg.curve, NW_CURVE_CONNECTS, curve_err, sizeof curve_err) < 0) {
        fprintf(stderr, "newswire-enrich: %s\n", curve_err);
        return 2;
    }
    /* Load the reference data before anything connects: a worker without its model would
     * take jobs it cannot do. */
    rc = nw_enricher_new(cfg.ref_dir[0] ? cfg.ref_dir : NULL, cfg.ner_model, &ref);
    if (rc < 0) {
        fprintf(stderr, "newswire-enrich: %s\n", nw_enrich_error());
        return 1;
    }
    const nw_filter_def_t def = {
        .name = "enrich",
        .in_type = "article",
        .out_type = "enriched",
        .from = NW_EP_ARTICLE_OUT,
        .fn = enrich_job,
        .ctx = ref,
    };
    rc = nw_filter_run(&def, cfg.broker, cfg.http, (unsigned)cfg.window, level);
    nw_enricher_destroy(&ref);
    return rc;
}
