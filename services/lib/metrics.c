/* metrics.c: the process-wide metric registry (see metrics.h) and its Prometheus text
 * exposition (format 0.0.4), served on /metrics by service.c.
 *
 * The registry is a singly linked list kept grouped by name: a new series is inserted after
 * the last series of the same name, so rendering emits "# HELP" and "# TYPE" once per name
 * simply by comparing with the previous entry. Services are single-threaded (one uv loop), so
 * there are no locks; lookups are linear, which is fine for the few dozen series a service
 * has, and callers keep the returned pointer for hot paths. */
#include "newswire/metrics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#ifndef NW_VERSION
#define NW_VERSION "unknown"
#endif

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

/* Bucket upper bounds in seconds for every latency histogram: from a millisecond (a parse of a
 * short text) to five minutes (acceptance to commit of a backlog). One set for all, so
 * dashboards can compare stages bucket by bucket. */
static const double latency_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                        1,     2.5,    5,     10,   30,    60,   120, 300};
#define N_BOUNDS (sizeof latency_bounds / sizeof latency_bounds[0])

struct nw_metric {
    struct nw_metric *next;
    enum metric_type type;
    char *name;
    char *labels;      /* "" when unlabelled */
    char *help;        /* "" when none was given */
    int64_t value;     /* counter, gauge; a histogram's count */
    uint64_t *buckets; /* histogram: N_BOUNDS counts, not cumulative (+Inf is value) */
    double sum;        /* histogram: sum of observations */
};

static struct nw_metric *registry;

static void
metric_free(struct nw_metric *m)
{
    if (m == NULL)
        return;
    free(m->name);
    free(m->labels);
    free(m->help);
    free(m->buckets);
    free(m);
}

static nw_metric_t *
metric_get(enum metric_type type, const char *name, const char *labels, const char *help)
{
    if (labels == NULL)
        labels = "";
    struct nw_metric *last_same = NULL, *last = NULL;
    for (struct nw_metric *m = registry; m; m = m->next) {
        last = m;
        if (strcmp(m->name, name) != 0)
            continue;
        last_same = m;
        if (strcmp(m->labels, labels) == 0)
            return m;
    }
    struct nw_metric *m = calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
    m->type = last_same ? last_same->type : type; /* one name, one type */
    m->name = strdup(name);
    m->labels = strdup(labels);
    /* The first series of a name carries the help text for all of them. */
    m->help = strdup(help ? help : (last_same ? last_same->help : ""));
    if (m->type == METRIC_HISTOGRAM)
        m->buckets = calloc(N_BOUNDS, sizeof *m->buckets);
    if (m->name == NULL || m->labels == NULL || m->help == NULL ||
        (m->type == METRIC_HISTOGRAM && m->buckets == NULL)) {
        metric_free(m);
        return NULL;
    }
    if (last_same) {
        m->next = last_same->next;
        last_same->next = m;
    } else if (last) {
        last->next = m;
    } else {
        registry = m;
    }
    return m;
}

nw_metric_t *
nw_metrics_counter(const char *name, const char *labels, const char *help)
{
    return metric_get(METRIC_COUNTER, name, labels, help);
}

nw_metric_t *
nw_metrics_gauge(const char *name, const char *labels, const char *help)
{
    return metric_get(METRIC_GAUGE, name, labels, help);
}

nw_metric_t *
nw_metrics_histogram(const char *name, const char *labels, const char *help)
{
    nw_metric_t *m = metric_get(METRIC_HISTOGRAM, name, labels, help);
    return m && m->type == METRIC_HISTOGRAM ? m : NULL;
}

void
nw_metrics_observe(nw_metric_t *m, double seconds)
{
    if (m == NULL || m->type != METRIC_HISTOGRAM)
        return;
    if (!(seconds >= 0)) /* NaN, or a clock that went back: count it as no time */
        seconds = 0;
    for (size_t i = 0; i < N_BOUNDS; i++) {
        if (seconds <= latency_bounds[i]) {
            m->buckets[i]++;
            break;
        }
    }
    m->value++;
    m->sum += seconds;
}

void
nw_metrics_reasons_init(const char *name, const char *const *reasons, const char *help)
{
    char labels[160];
    for (size_t i = 0; reasons && reasons[i]; i++) {
        snprintf(labels, sizeof labels, "reason=\"%s\"", reasons[i]);
        nw_metrics_counter(name, labels, help);
    }
}

void
nw_metrics_add(nw_metric_t *m, uint64_t n)
{
    if (m && m->type != METRIC_HISTOGRAM)
        m->value = (int64_t)((uint64_t)m->value + n); /* wraps like a uint64 counter would */
}

void
nw_metrics_set(nw_metric_t *m, int64_t v)
{
    if (m && m->type != METRIC_HISTOGRAM)
        m->value = v;
}

int64_t
nw_metrics_value(const nw_metric_t *m)
{
    return m ? m->value : 0;
}

void
nw_metrics_reason(const char *name, const char *reason, const char *help)
{
    /* Reasons may echo outside input (a charset name, say): escape per the exposition format
     * and cap the length so a hostile value cannot bloat the registry. */
    char labels[160];
    size_t k = 0;
    const char *pre = "reason=\"";
    memcpy(labels, pre, strlen(pre));
    k = strlen(pre);
    for (const char *p = reason ? reason : ""; *p && k + 4 < sizeof labels; p++) {
        if (*p == '"' || *p == '\\') {
            labels[k++] = '\\';
            labels[k++] = *p;
        } else if (*p == '\n') {
            labels[k++] = '\\';
            labels[k++] = 'n';
        } else {
            labels[k++] = *p;
        }
    }
    labels[k++] = '"';
    labels[k] = 0;
    nw_metrics_add(nw_metrics_counter(name, labels, help), 1);
}

/* Append help text escaped as the format requires (backslash and newline). */
static int
put_help(nw_buf_t *out, const char *help)
{
    int rc = 0;
    for (const char *p = help; *p && rc == 0; p++) {
        if (*p == '\\')
            rc = nw_buf_puts(out, "\\\\");
        else if (*p == '\n')
            rc = nw_buf_puts(out, "\\n");
        else
            rc = nw_buf_append(out, p, 1);
    }
    return rc;
}

/* Process start time in seconds since the epoch: the boot time from /proc/stat plus the
 * process start offset (field 22 of /proc/self/stat, in clock ticks). Computed once. */
static double
process_start_time(void)
{
    static double cached = -1;
    if (cached >= 0)
        return cached;
    char buf[4096];
    unsigned long long btime = 0, start = 0;
    FILE *f = fopen("/proc/stat", "r");
    if (f == NULL)
        return 0;
    while (fgets(buf, sizeof buf, f))
        if (sscanf(buf, "btime %llu", &btime) == 1)
            break;
    fclose(f);
    f = fopen("/proc/self/stat", "r");
    if (f == NULL)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    /* The command name (field 2) may contain spaces and parentheses: skip to the last ')'. */
    char *p = strrchr(buf, ')');
    if (p == NULL)
        return 0;
    /* After ')' come fields 3..; starttime is field 22, i.e. the 20th after the ')'. */
    p++;
    for (int field = 3; field < 22 && p; field++)
        p = strchr(p + 1, ' ');
    if (p == NULL || sscanf(p, " %llu", &start) != 1)
        return 0;
    long hz = sysconf(_SC_CLK_TCK);
    cached = (double)btime + (double)start / (double)(hz > 0 ? hz : 100);
    return cached;
}

static int64_t
process_rss_bytes(void)
{
    unsigned long long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        return 0;
    int ok = fscanf(f, "%llu %llu", &size, &resident) == 2;
    fclose(f);
    return ok ? (int64_t)resident * (int64_t)sysconf(_SC_PAGESIZE) : 0;
}

/* One histogram series: cumulative buckets with le, then _sum and _count. */
static int
put_histogram(nw_buf_t *out, const struct nw_metric *m)
{
    const char *sep = *m->labels ? "," : "";
    uint64_t cum = 0;
    int rc = 0;
    for (size_t i = 0; i < N_BOUNDS && rc == 0; i++) {
        cum += m->buckets[i];
        rc = nw_buf_printf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", m->name, m->labels, sep,
                           latency_bounds[i], (unsigned long long)cum);
    }
    if (rc == 0)
        rc = nw_buf_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %lld\n", m->name, m->labels, sep,
                           (long long)m->value);
    if (rc == 0 && *m->labels)
        rc = nw_buf_printf(out, "%s_sum{%s} %.6f\n%s_count{%s} %lld\n", m->name, m->labels, m->sum,
                           m->name, m->labels, (long long)m->value);
    else if (rc == 0)
        rc = nw_buf_printf(out, "%s_sum %.6f\n%s_count %lld\n", m->name, m->sum, m->name,
                           (long long)m->value);
    return rc;
}

static double
process_cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) < 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
           ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

static const char *build_service = "newswire";

void
nw_metrics_set_service(const char *service)
{
    build_service = service;
}

int
nw_metrics_render(nw_buf_t *out)
{
    int rc = 0;
    const struct nw_metric *prev = NULL;
    for (const struct nw_metric *m = registry; m && rc == 0; prev = m, m = m->next) {
        if (prev == NULL || strcmp(prev->name, m->name) != 0) {
            if (*m->help) {
                rc = nw_buf_printf(out, "# HELP %s ", m->name);
                rc = rc ? rc : put_help(out, m->help);
                rc = rc ? rc : nw_buf_puts(out, "\n");
            }
            rc = rc ? rc
                    : nw_buf_printf(out, "# TYPE %s %s\n", m->name,
                                    m->type == METRIC_COUNTER ? "counter"
                                    : m->type == METRIC_GAUGE ? "gauge"
                                                              : "histogram");
        }
        if (rc == 0 && m->type == METRIC_HISTOGRAM)
            rc = put_histogram(out, m);
        else if (rc == 0 && *m->labels)
            rc = nw_buf_printf(out, "%s{%s} %lld\n", m->name, m->labels, (long long)m->value);
        else if (rc == 0)
            rc = nw_buf_printf(out, "%s %lld\n", m->name, (long long)m->value);
    }
    if (rc == 0)
        rc = nw_buf_printf(out,
                           "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
                           "# TYPE process_resident_memory_bytes gauge\n"
                           "process_resident_memory_bytes %lld\n"
                           "# HELP process_start_time_seconds Start time of the process since "
                           "unix epoch in seconds.\n"
                           "# TYPE process_start_time_seconds gauge\n"
                           "process_start_time_seconds %.2f\n"
                           "# HELP process_cpu_seconds_total Total user and system CPU time "
                           "spent in seconds.\n"
                           "# TYPE process_cpu_seconds_total counter\n"
                           "process_cpu_seconds_total %.3f\n"
                           "# HELP nw_build_info The version this process was built from (always "
                           "1).\n"
                           "# TYPE nw_build_info gauge\n"
                           "nw_build_info{version=\"%s\",service=\"%s\"} 1\n",
                           (long long)process_rss_bytes(), process_start_time(),
                           process_cpu_seconds(), NW_VERSION, build_service);
    return rc;
}

void
nw_metrics_reset(void)
{
    while (registry) {
        struct nw_metric *m = registry;
        registry = m->next;
        metric_free(m);
    }
}
