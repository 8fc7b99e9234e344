/* series.h: the metric series an operator alerts on, registered at 0 when a service starts.
 * A Prometheus series that appears only with its first event cannot be alerted on (absent is
 * not zero) and leaves dashboard panels empty on a healthy system, so every counter with a
 * known label set (dead letters by reason, refusals by reason, items by source) and every
 * latency histogram exists from start-up. The names and labels are those the code counts
 * with; help texts are the code's too (the registry keeps the first one given). */
#ifndef NW_SERIES_H
#define NW_SERIES_H

/* Register the series of service `name` ("broker", "fetch", "parse", "enrich", "store",
 * "query"; others get only the common ones) at 0. Called by nw_service_new. */
void nw_series_init(const char *name);

/* The dead-letter reasons a stage can give, NULL-terminated (for tests and the catalogue). */
extern const char *const nw_series_parse_reasons[];
extern const char *const nw_series_enrich_reasons[];
extern const char *const nw_series_fetch_reasons[];

/* Histogram names (metrics.h, seconds): per-stage job time (label stage="parse"|"enrich"), the
 * store's commit time, and the time from fetch's acceptance to the store's commit. */
#define NW_SERIES_STAGE_SECONDS "nw_stage_job_seconds"
#define NW_SERIES_COMMIT_SECONDS "nw_store_commit_seconds"
#define NW_SERIES_ACCEPT_TO_COMMIT_SECONDS "nw_store_accept_to_commit_seconds"

#endif
