/* series.c: the catalogue of alertable series (see series.h). The reason lists mirror the
 * strings the stages put in a dead letter (parse.c's fail(), jobs.c, filter.c, fetch's
 * rejections, store_batch.c); a reason missing here still counts, it only appears on its
 * first event instead of at start-up. */
#include "newswire/series.h"
#include "newswire/metrics.h"

#include <stdio.h>
#include <string.h>

const char *const nw_series_parse_reasons[] = {
    "bad-message",
    "internal",
    "parse-failed",
    "bad-charset",
    "bad-html",
    "bad-json",
    "empty",
    "invalid-utf8",
    "no-text",
    "out-of-memory",
    "unsupported-content-type",
    NULL,
};
const char *const nw_series_enrich_reasons[] = {"bad-message", "internal", "enrich-failed", NULL};
const char *const nw_series_fetch_reasons[] = {
    "bad-json",
    "bad-request",
    "bad-url",
    "binary-file",
    "body-too-large",
    "empty-body",
    "invalid-utf8",
    "not-a-regular-file",
    "unreadable-file",
    "unsupported-content-type",
    NULL,
};
static const char *const store_own_reasons[] = {"bad-message", "bad-article", NULL};
static const char *const busy_reasons[] = {"raw-queue-full", "dead-queue-full", "spool-full", NULL};
static const char *const sources[] = {"http", "inbox", "zmq", NULL};
static const char *const outcomes[] = {"stored", "unchanged", "history", NULL};

#define DEAD_HELP "Jobs this stage turned into dead letters."

static void
labelled(const char *name, const char *key, const char *const *values, const char *help)
{
    char labels[160];
    for (size_t i = 0; values[i]; i++) {
        snprintf(labels, sizeof labels, "%s=\"%s\"", key, values[i]);
        nw_metrics_counter(name, labels, help);
    }
}

void
nw_series_init(const char *name)
{
    nw_metrics_set_service(name);
    if (strcmp(name, "broker") == 0 || strcmp(name, "fetch") == 0)
        nw_metrics_counter("nw_curve_refused_total", NULL,
                           "ZeroMQ clients refused: key not in --curve-allow.");
    if (strcmp(name, "fetch") == 0) {
        nw_metrics_reasons_init("nw_fetch_busy_total", busy_reasons,
                                "items refused because a broker queue or the spool pushed back");
        nw_metrics_reasons_init("nw_fetch_rejected_total", nw_series_fetch_reasons,
                                "items refused by fetch and dead-lettered, by reason");
        labelled("nw_fetch_accepted_total", "source", sources,
                 "items accepted and handed to the broker, by source");
    } else if (strcmp(name, "parse") == 0 || strcmp(name, "enrich") == 0) {
        char metric[64], labels[64];
        snprintf(metric, sizeof metric, "nw_%s_dead_total", name);
        nw_metrics_reasons_init(
            metric, strcmp(name, "parse") == 0 ? nw_series_parse_reasons : nw_series_enrich_reasons,
            DEAD_HELP);
        snprintf(labels, sizeof labels, "stage=\"%s\"", name);
        nw_metrics_histogram(NW_SERIES_STAGE_SECONDS, labels,
                             "Time a stage worker spent on one job, in seconds.");
    } else if (strcmp(name, "store") == 0) {
        /* The store keeps every stage's dead letters, under the stage's reason. */
        const char *const *lists[] = {nw_series_parse_reasons, nw_series_enrich_reasons,
                                      nw_series_fetch_reasons, store_own_reasons};
        for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
            nw_metrics_reasons_init("nw_store_dead_total", lists[i], "Dead letters stored.");
        labelled("nw_store_articles_total", "status", outcomes, "Articles written, by outcome.");
        nw_metrics_counter("nw_store_batch_failures_total", NULL,
                           "Batches rolled back for a retry.");
        nw_metrics_histogram(NW_SERIES_COMMIT_SECONDS, NULL,
                             "Time one database commit of a batch took, in seconds.");
        nw_metrics_histogram(NW_SERIES_ACCEPT_TO_COMMIT_SECONDS, NULL,
                             "Time from fetch's acceptance of an article to the commit that "
                             "stored it, in seconds (clocks of different hosts included).");
    }
}
