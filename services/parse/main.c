/* newswire-parse: takes "raw" jobs from the broker, turns each into an "article"
 * (services/lib/jobs.c around services/lib/parse.c: wire text, HTML or JSON) and emits it; the
 * filter runner (services/lib/filter.c) turns whatever cannot be decoded or parsed into a "dead"
 * letter with its reason and the original bytes. Wiring only; run more processes to scale out,
 * they share the queue. */
#include <stddef.h>
#include <stdint.h>

#include "newswire/config.h"
#include "newswire/filter.h"
#include "newswire/jobs.h"
#include "newswire/service.h"

typedef struct cfg {
    nw_service_cfg_t svc;
    int64_t window;
} cfg_t;

static const nw_cfg_opt_t options[] = {
    NW_SERVICE_OPTIONS(cfg_t, svc, "", NW_SERVICE_HTTP_HELP),
    {"window", NW_CFG_INT, "64", offsetof(cfg_t, window),
     "most raw items in flight at once (credit)", 1, 65536},
    NW_CFG_END,
};

int
main(int argc, char **argv)
{
    cfg_t cfg = {0}; /* options outside the table (curve.allow, curve.roles) stay NULL */
    int rc = nw_config_load(options, &cfg, argc, argv, "newswire-parse [options]",
                            "Parse stage: turns raw wire text, HTML and JSON into articles (title, "
                            "teaser, dateline, date, authors, captions with credits, paragraphs).",
                            NULL, NULL);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    if (nw_service_config("parse", &cfg.svc, NW_CURVE_CONNECTS) < 0)
        return 2;
    const nw_filter_def_t def = {
        .name = "parse",
        .in_type = "raw",
        .out_type = "article",
        .from = NW_EP_RAW_OUT,
        .fn = nw_job_parse,
    };
    return nw_filter_run(&def, &cfg.svc, (unsigned)cfg.window);
}
