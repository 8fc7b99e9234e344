/* metrics.h: process-wide counters, gauges and latency histograms, rendered in the Prometheus text
 * format on /metrics. Services are single-threaded, so updates are plain increments. */
#ifndef NW_METRICS_H
#define NW_METRICS_H

#include <stdint.h>

#include "newswire/buf.h"

typedef struct nw_metric nw_metric_t;

/* Find or register a counter. name like "nw_parse_articles_total"; labels like
 * reason="invalid-utf8" or NULL. Strings are copied. Returns NULL only on ENOMEM (then updates
 * through NULL are ignored). */
nw_metric_t *nw_metrics_counter(const char *name, const char *labels, const char *help);
/* Find or register a gauge. */
nw_metric_t *nw_metrics_gauge(const char *name, const char *labels, const char *help);
/* Find or register a histogram of durations in seconds, rendered in the Prometheus histogram
 * format (_bucket{le=...}, _sum, _count) over one fixed set of buckets from 1 ms to 300 s. */
nw_metric_t *nw_metrics_histogram(const char *name, const char *labels, const char *help);
/* Count one observation of a histogram. NULL-safe; negative or NaN counts as 0. */
void nw_metrics_observe(nw_metric_t *m, double seconds);
/* Register counter `name` at 0 for each reason of the NULL-terminated list (label
 * reason="<reason>"), so that every series an alert may name exists from start-up. */
void nw_metrics_reasons_init(const char *name, const char *const *reasons, const char *help);
/* The service name shown in nw_build_info{version,service} (borrowed; default "newswire"). */
void nw_metrics_set_service(const char *service);
/* Add to a counter / set a gauge (not a histogram). NULL-safe. */
void nw_metrics_add(nw_metric_t *m, uint64_t n);
void nw_metrics_set(nw_metric_t *m, int64_t v);
int64_t nw_metrics_value(const nw_metric_t *m);
/* Count one event in counter `name` with label reason="<reason>" (registered on first use). */
void nw_metrics_reason(const char *name, const char *reason, const char *help);
/* Append the text exposition (Prometheus format 0.0.4) of every metric, "# HELP" and
 * "# TYPE" once per name, followed by process_resident_memory_bytes,
 * process_start_time_seconds, process_cpu_seconds_total (read from /proc and getrusage) and
 * nw_build_info. Returns 0 or -ENOMEM. */
int nw_metrics_render(nw_buf_t *out);
/* Free everything (tests). */
void nw_metrics_reset(void);

#endif
