/* newswire-enrich: takes "article" jobs from the broker, enriches them (services/lib/jobs.c
 * around services/lib/enrich.c: language, entities, geocoded places, quotes, keywords, themes,
 * tone, dates, amounts, fingerprint, topics) and emits "enriched". The reference data (NER
 * model, gazetteer, lexicons) is loaded once at start-up; start-up fails when it is missing. The
 * filter runner (services/lib/filter.c) turns a message it cannot decode into a "dead" letter
 * carrying the original bytes. Wiring only; run more processes to scale out, they share the
 * queue. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "newswire/config.h"
#include "newswire/enrich.h"
#include "newswire/filter.h"
#include "newswire/jobs.h"
#include "newswire/service.h"

typedef struct cfg {
    nw_service_cfg_t svc;
    int64_t window;
    const char *ref_dir;
    const char *ner_model;
    int preload_lists;
} cfg_t;

static const nw_cfg_opt_t options[] = {
    NW_SERVICE_OPTIONS(cfg_t, svc, "", NW_SERVICE_HTTP_HELP),
    {"window", NW_CFG_INT, "64", offsetof(cfg_t, window), "most articles in flight at once", 1,
     65536},
    {"ref-dir", NW_CFG_STR, "", offsetof(cfg_t, ref_dir),
     "reference data directory (ner/, geo/, themes/, tone/); empty: NEWSWIRE_REF_DIR, else "
     "../share/newswire beside the executable",
     0, 0},
    {"ner-model", NW_CFG_STR, "", offsetof(cfg_t, ner_model),
     "NER model file (empty: <ref-dir>/ner/model.bin)", 0, 0},
    {"preload-lists", NW_CFG_BOOL, "1", offsetof(cfg_t, preload_lists),
     "read every language's common-word lists at start-up (0: on each language's first "
     "article, which then pays 0.1-0.3 s; the tests start faster)",
     0, 0},
    NW_CFG_END,
};

int
main(int argc, char **argv)
{
    cfg_t cfg = {0}; /* options outside the table (curve.allow, curve.roles) stay NULL */
    nw_enricher_t *ref = NULL;
    int rc = nw_config_load(options, &cfg, argc, argv, "newswire-enrich [options]",
                            "Enrich stage: language, entities, geocoded places, quotes, keywords, "
                            "themes, tone, dates, amounts, fingerprint and topics of articles.",
                            NULL, NULL);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    if (nw_service_config("enrich", &cfg.svc, NW_CURVE_CONNECTS) < 0)
        return 2;
    /* Load the reference data before anything connects: a worker without its model would
     * take jobs it cannot do. */
    rc = nw_enricher_new(cfg.ref_dir[0] ? cfg.ref_dir : NULL, cfg.ner_model, &ref);
    if (rc < 0) {
        fprintf(stderr, "error: %s\n", nw_enrich_error());
        return 1;
    }
    /* A service sees many languages: read every common-word list before the first job rather
     * than on each language's first article (0.1-0.3 s of CPU each, 28-32% of enrich's CPU
     * over a run of 100 pages in a dozen languages, and a latency spike on that article). */
    if (cfg.preload_lists)
        nw_enricher_preload(ref);
    const nw_filter_def_t def = {
        .name = "enrich",
        .in_type = "article",
        .out_type = "enriched",
        .from = NW_EP_ARTICLE_OUT,
        .fn = nw_job_enrich,
        .ctx = ref,
    };
    rc = nw_filter_run(&def, &cfg.svc, (unsigned)cfg.window);
    nw_enricher_destroy(&ref);
    return rc;
}
