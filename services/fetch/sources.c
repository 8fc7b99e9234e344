/* sources.c: fetch's sources fail alone. Each source (inbox, ingest socket, web feeds) is
 * started through here; one that cannot start (its port is taken, its directory cannot be
 * made, its feed list is bad) is reported and retried with backoff while the others, and the
 * HTTP API, keep running. A started source may also report a problem it meets while running
 * (the inbox directory became unreadable; it keeps retrying by itself).
 *
 * What is down shows in /healthz ("degraded", per source with the reason), in the gauge
 * nw_fetch_source_up{source} (1 up, 0 down) and the counter
 * nw_fetch_source_failures_total{source}. The first retry comes RETRY_MIN_MS after the
 * failure, then doubling up to RETRY_MAX_MS; a start that succeeds resets the backoff. */
#include "fetch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswire/log.h"
#include "newswire/metrics.h"

#define RETRY_MIN_MS 1000
#define RETRY_MAX_MS 60000
#define MAX_SOURCES 8

struct source {
    fetch_sources_t *set;
    fetch_source_ops_t ops;
    void *handle; /* the running source, NULL while down */
    char reason[256];
    char runtime[256]; /* a problem the running source reports ("" none) */
    uint64_t backoff_ms;
    uv_timer_t timer;
    nw_metric_t *m_up, *m_failures;
};

struct fetch_sources {
    uv_loop_t *loop;
    struct source src[MAX_SOURCES];
    size_t n;
    int closing;
    int pending; /* handles and sources still closing */
    void (*close_cb)(void *arg);
    void *close_arg;
};

static void on_retry(uv_timer_t *t);

/* Try to start one source; on failure report it and schedule the next try. */
static void
try_start(struct source *s)
{
    char err[256] = "";
    s->handle = s->ops.start(s->ops.arg, err, sizeof err);
    if (s->handle) {
        if (s->reason[0])
            NW_INFO(NULL, "source \"%s\" started after all", s->ops.name);
        s->reason[0] = 0;
        s->backoff_ms = RETRY_MIN_MS;
        nw_metrics_set(s->m_up, 1);
        return;
    }
    /* Log the first failure and any change; a source failing the same way every retry would
     * otherwise fill the log. */
    if (strcmp(s->reason, err[0] ? err : "cannot start") != 0)
        NW_ERROR(NULL, "source \"%s\" is down: %s; the others keep running, retrying", s->ops.name,
                 err[0] ? err : "cannot start");
    snprintf(s->reason, sizeof s->reason, "%s", err[0] ? err : "cannot start");
    nw_metrics_set(s->m_up, 0);
    nw_metrics_add(s->m_failures, 1);
    uv_timer_start(&s->timer, on_retry, s->backoff_ms, 0);
    s->backoff_ms *= 2;
    if (s->backoff_ms > RETRY_MAX_MS)
        s->backoff_ms = RETRY_MAX_MS;
}

static void
on_retry(uv_timer_t *t)
{
    struct source *s = t->data;
    if (!s->set->closing)
        try_start(s);
}

fetch_sources_t *
fetch_sources_new(uv_loop_t *loop)
{
    fetch_sources_t *set = calloc(1, sizeof *set);
    if (set)
        set->loop = loop;
    return set;
}

int
fetch_sources_add(fetch_sources_t *set, const fetch_source_ops_t *ops)
{
    if (set->n == MAX_SOURCES || set->closing)
        return -ENOSPC;
    struct source *s = &set->src[set->n++];
    char labels[64];
    s->set = set;
    s->ops = *ops;
    s->backoff_ms = RETRY_MIN_MS;
    uv_timer_init(set->loop, &s->timer);
    s->timer.data = s;
    snprintf(labels, sizeof labels, "source=\"%s\"", ops->name);
    s->m_up = nw_metrics_gauge("nw_fetch_source_up", labels, "1 when the source runs, 0 when down");
    s->m_failures = nw_metrics_counter("nw_fetch_source_failures_total", labels,
                                       "source start-ups that failed (each is retried)");
    try_start(s);
    return 0;
}

static struct source *
find(fetch_sources_t *set, const char *name)
{
    for (size_t i = 0; set && i < set->n; i++)
        if (strcmp(set->src[i].ops.name, name) == 0)
            return &set->src[i];
    return NULL;
}

void *
fetch_sources_get(fetch_sources_t *set, const char *name)
{
    struct source *s = find(set, name);
    return s && !set->closing ? s->handle : NULL;
}

void
fetch_sources_problem(fetch_sources_t *set, const char *name, const char *problem)
{
    struct source *s = find(set, name);
    if (!s)
        return;
    const char *p = problem ? problem : "";
    if (strcmp(s->runtime, p) == 0)
        return;
    if (*p) {
        NW_ERROR(NULL, "source \"%s\" is failing: %s; the others keep running", s->ops.name, p);
        nw_metrics_add(s->m_failures, 1);
    } else {
        NW_INFO(NULL, "source \"%s\" works again", s->ops.name);
    }
    snprintf(s->runtime, sizeof s->runtime, "%s", p);
    nw_metrics_set(s->m_up, *p ? 0 : 1);
}

size_t
fetch_sources_health(void *arg, nw_service_problem_t *out, size_t max)
{
    fetch_sources_t *set = arg;
    size_t n = 0;
    for (size_t i = 0; set && i < set->n && n < max; i++) {
        struct source *s = &set->src[i];
        const char *why = !s->handle ? s->reason : s->runtime[0] ? s->runtime : NULL;
        if (why) {
            out[n].what = s->ops.name;
            out[n].reason = why;
            n++;
        }
    }
    return n;
}

static void
release_one(void *arg)
{
    fetch_sources_t *set = arg;
    if (--set->pending > 0)
        return;
    void (*cb)(void *) = set->close_cb;
    void *cb_arg = set->close_arg;
    free(set);
    if (cb)
        cb(cb_arg);
}

static void
on_timer_closed(uv_handle_t *h)
{
    struct source *s = h->data;
    release_one(s->set);
}

void
fetch_sources_close(fetch_sources_t *set, void (*cb)(void *arg), void *arg)
{
    if (!set)
        return;
    set->closing = 1;
    set->close_cb = cb;
    set->close_arg = arg;
    set->pending = 1; /* held until every close was started */
    for (size_t i = 0; i < set->n; i++) {
        struct source *s = &set->src[i];
        set->pending++;
        uv_close((uv_handle_t *)&s->timer, on_timer_closed);
        if (s->handle) {
            set->pending++;
            s->ops.close(s->handle, release_one, set);
            s->handle = NULL;
        }
    }
    release_one(set);
}
