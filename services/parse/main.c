/* newswire-parse: takes "raw" jobs from the broker, turns each into an "article"
 * (services/lib/parse.c: wire text, HTML or JSON) and emits it; the filter runner
 * (services/lib/filter.c) turns whatever cannot be decoded or parsed into a "dead" letter with
 * its reason and the original bytes. Wiring only; run more processes to scale out, they share
 * the queue. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "newswire/config.h"
#include "newswire/curve.h"
#include "newswire/filter.h"
#include "newswire/log.h"
#include "newswire/parse.h"
#include "newswire/proto.h"

typedef struct cfg {
    const char *broker;
    const char *http;
    int64_t window;
    const char *log_level;
    nw_curve_cfg_t curve;
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
    NW_CURVE_KEY_OPTION(cfg_t, curve),
    NW_CURVE_SERVER_OPTION(cfg_t, curve),
    NW_CFG_END,
};

/* raw -> article. A failure keeps what the raw said about itself, so the dead letter can be
 * acknowledged to the fetch that spooled it and replayed with its content type. */
static int
parse_job(void *ctx, const uint8_t *in, size_t len, nw_buf_t *out, nw_filter_fail_t *fail)
{
    nw_raw_t raw = {0};
    nw_article_t art = {0};
    (void)ctx;
    int rc = nw_raw_decode(&raw, in, len);
    if (rc < 0) {
        fail->reason = "bad-message";
        nw_filter_fail_set(fail->detail, sizeof fail->detail,
                           rc == -EPROTO ? nw_proto_error() : strerror(-rc));
        return rc;
    }
    rc = nw_parse_raw(&raw, &art, &fail->reason, fail->detail, sizeof fail->detail);
    if (rc == 0)
        rc = nw_article_encode(&art, out);
    if (rc < 0) {
        if (fail->reason == NULL)
            fail->reason = "parse-failed";
        if (fail->detail[0] == 0)
            nw_filter_fail_set(fail->detail, sizeof fail->detail, strerror(-rc));
        nw_filter_fail_set(fail->id, sizeof fail->id, raw.id);
        nw_filter_fail_set(fail->origin, sizeof fail->origin, raw.origin);
        nw_filter_fail_set(fail->content_type, sizeof fail->content_type, raw.content_type);
        nw_filter_fail_set(fail->source, sizeof fail->source, raw.source);
        fail->spool = raw.spool;
    } else {
        NW_DEBUG(art.id, "parsed content_type=%s bytes=%zu captions=%zu", art.content_type,
                 raw.body_len, art.n_captions);
    }
    nw_article_release(&art);
    nw_raw_release(&raw);
    return rc;
}

int
main(int argc, char **argv)
{
    cfg_t cfg;
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
    char curve_err[256];
    if (nw_curve_init(&cfg.curve, NW_CURVE_CONNECTS, curve_err, sizeof curve_err) < 0) {
        fprintf(stderr, "newswire-parse: %s\n", curve_err);
        return 2;
    }
    const nw_filter_def_t def = {
        .name = "parse",
        .in_type = "raw",
        .out_type = "article",
        .from = NW_EP_RAW_OUT,
        .fn = parse_job,
    };
    return nw_filter_run(&def, cfg.broker, cfg.http, (unsigned)cfg.window, level);
}
