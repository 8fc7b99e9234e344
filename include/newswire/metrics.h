/* metrics.h: process-wide counters and gauges, rendered in the Prometheus text format on
 * /metrics. Services are single-threaded, so updates are plain increments. */
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
/* Add to a counter / set a gauge. NULL-safe. */
void nw_metrics_add(nw_metric_t *m, uint64_t n);
void nw_metrics_set(nw_metric_t *m, int64_t v);
int64_t nw_metrics_value(const nw_metric_t *m);
/* Count one event in counter `name` with label reason="<reason>" (registered on first use). */
void nw_metrics_reason(const char *name, const char *reason, const char *help);
/* Append the text exposition (Prometheus format 0.0.4) of every metric, "# HELP" and
 * "# TYPE" once per name, followed by process_resident_memory_bytes and
 * process_start_time_seconds read from /proc. Returns 0 or -ENOMEM. */
int nw_metrics_render(nw_buf_t *out);
/* Free everything (tests). */
void nw_metrics_reset(void);

#endif
