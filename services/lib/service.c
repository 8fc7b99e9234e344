/* service.c: the process shell every newswire service runs in (see service.h): one uv loop,
 * one ZeroMQ context, logging, SIGTERM/SIGINT drain handling, and the HTTP server with
 * /metrics, /healthz and /readyz.
 *
 * Lifecycle: the first signal starts a drain (the service's callback finishes in-flight work
 * and calls nw_service_stop) under a drain timer; a second signal or the timer forces the stop.
 * Stopping closes the service's own handles and the HTTP server, then stops the loop.
 * nw_service_run then closes whatever handles the service left open, so a forgotten timer
 * cannot keep the process alive, runs the loop until every close callback ran, terminates the
 * ZeroMQ context and closes the loop.
 *
 * zmq_ctx_term() blocks until every socket of the context is closed, so after a clean stop all
 * ZeroMQ sockets must have been closed (the drain callback's job). After a forced stop the
 * sockets are likely still open: the context is only shut down, not terminated, and the
 * process is expected to exit right away.
 *
 * Under systemd (Type=notify units) the service says READY=1 when its loop starts, STOPPING=1
 * when it begins to drain, and, when the unit sets WatchdogSec=, WATCHDOG=1 every half of that
 * interval from a timer on the loop: a loop wedged in some callback stops the pings and
 * systemd kills and restarts the service. libsystemd's sd_notify speaks the protocol; without
 * NOTIFY_SOCKET (not under systemd) it does nothing. */
#include "newswire/service.h"
#include "newswire/buf.h"
#include "newswire/log.h"
#include "newswire/metrics.h"
#include "newswire/series.h"
#include "newswire/stage.h"

#include <errno.h>
#include <jansson.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <zmq.h>

#define DEFAULT_DRAIN_TIMEOUT_MS 10000
#define DEFAULT_HTTP_MAX_BODY (8u << 20) /* services that take uploads set their own limit */

struct nw_service {
    uv_loop_t loop;
    const char *name;
    void *zctx;
    nw_http_t *http;
    uv_signal_t sigterm;
    uv_signal_t sigint;
    uv_timer_t drain_timer;
    uv_timer_t watchdog; /* WATCHDOG=1 to systemd, when the unit asks for it */
    nw_service_drain_cb drain;
    void *arg;
    uint64_t drain_timeout_ms;
    int draining;
    int stopping;
    int forced;
    int http_closed;
    int said_stopping;
    nw_service_health_cb health;
    void *health_arg;
    nw_service_state_cb state; /* "state" in /healthz and /readyz (a broker pair's role) */
    void *state_arg;
    struct {
        const char *what;
        nw_service_ready_cb cb;
        void *arg;
    } ready[NW_SERVICE_READY_MAX];
    size_t n_ready;
};

static void
on_http_closed(void *arg)
{
    nw_service_t *svc = arg;
    svc->http = NULL;
    svc->http_closed = 1;
    uv_stop(&svc->loop);
}

/* Tell systemd (if it started us) something about our state: "READY=1", "STOPPING=1",
 * "WATCHDOG=1". A failure is logged once: the service runs on, the unit may then time out. */
static void
notify_systemd(const char *state)
{
    static int warned;
    int rc = sd_notify(0, state);
    if (rc < 0 && !warned) {
        warned = 1;
        NW_WARN(NULL, "cannot notify systemd state=\"%s\" err=\"%s\"", state, strerror(-rc));
    }
}

static void
say_stopping(nw_service_t *svc)
{
    if (!svc->said_stopping) {
        svc->said_stopping = 1;
        notify_systemd("STOPPING=1");
    }
}

static void
on_watchdog(uv_timer_t *t)
{
    (void)t;
    notify_systemd("WATCHDOG=1");
}

void
nw_service_stop(nw_service_t *svc)
{
    if (svc->stopping)
        return;
    svc->stopping = 1;
    say_stopping(svc);
    uv_timer_stop(&svc->drain_timer);
    uv_close((uv_handle_t *)&svc->drain_timer, NULL);
    uv_close((uv_handle_t *)&svc->watchdog, NULL);
    uv_close((uv_handle_t *)&svc->sigterm, NULL);
    uv_close((uv_handle_t *)&svc->sigint, NULL);
    if (svc->http)
        nw_http_close(svc->http, on_http_closed, svc);
    else
        uv_stop(&svc->loop);
}

static void
force_stop(nw_service_t *svc, const char *why)
{
    NW_WARN(NULL, "stopping without finishing the drain: %s", why);
    svc->forced = 1;
    nw_service_stop(svc);
}

static void
on_drain_timeout(uv_timer_t *t)
{
    force_stop(t->data, "drain timeout");
}

static void
on_signal(uv_signal_t *s, int signum)
{
    nw_service_t *svc = s->data;
    if (svc->stopping)
        return;
    if (svc->draining) {
        force_stop(svc,
                   signum == SIGINT ? "second signal \"SIGINT\"" : "second signal \"SIGTERM\"");
        return;
    }
    svc->draining = 1;
    NW_INFO(NULL, "draining on \"%s\"", signum == SIGINT ? "SIGINT" : "SIGTERM");
    say_stopping(svc);
    if (svc->drain == NULL) {
        nw_service_stop(svc);
        return;
    }
    uv_timer_start(&svc->drain_timer, on_drain_timeout, svc->drain_timeout_ms, 0);
    svc->drain(svc, svc->arg);
}

static void
on_metrics(nw_http_req_t *req, void *arg)
{
    (void)arg;
    nw_buf_t b = {0};
    if (nw_metrics_render(&b) < 0)
        nw_http_error(req, 500, "internal", "out of memory rendering metrics", NULL);
    else
        nw_http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len, NULL);
    nw_buf_release(&b);
}

/* Answer {"status": STATUS, "service": NAME[, "insecure": true][, "state": STATE]
 * [, "problems": {part: reason}]}
 * with CODE: the one shape /healthz and /readyz share. */
static void
respond_status(nw_http_req_t *req, const nw_service_t *svc, int code, const char *status,
               const nw_service_problem_t *problems, size_t n)
{
    json_t *j = json_pack("{s:s, s:s}", "status", status, "service", svc->name);
    /* --insecure: plain ZeroMQ off loopback; say so wherever someone looks */
    if (j && nw_curve_insecure())
        json_object_set_new(j, "insecure", json_true());
    if (j && svc->state)
        json_object_set_new(j, "state", json_string(svc->state(svc->state_arg)));
    json_t *pj = n > 0 ? json_object() : NULL;
    for (size_t i = 0; pj && i < n; i++)
        json_object_set_new(pj, problems[i].what, json_string(problems[i].reason));
    if (j && pj)
        json_object_set_new(j, "problems", pj);
    else
        json_decref(pj);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (s == NULL) {
        nw_http_error(req, 500, "internal", "out of memory", NULL);
        return;
    }
    nw_http_respond(req, code, "application/json", s, strlen(s), "Cache-Control: no-store\r\n");
    free(s);
}

/* 200 {"status":"ok"}; 200 {"status":"degraded","problems":{"<part>":"<reason>"}} while the
 * service runs with some part down (it still does the rest of its work, so an orchestrator
 * must not restart it for that); 503 {"status":"draining"}. */
static void
on_healthz(nw_http_req_t *req, void *arg)
{
    nw_service_t *svc = arg;
    nw_service_problem_t problems[NW_SERVICE_PROBLEMS_MAX];
    size_t n = svc->health && !svc->draining
                   ? svc->health(svc->health_arg, problems, NW_SERVICE_PROBLEMS_MAX)
                   : 0;
    if (n > NW_SERVICE_PROBLEMS_MAX)
        n = NW_SERVICE_PROBLEMS_MAX;
    respond_status(req, svc, svc->draining ? 503 : 200,
                   svc->draining ? "draining"
                   : n > 0       ? "degraded"
                                 : "ok",
                   problems, n);
}

/* Readiness is the conjunction of the service's conditions and its health: a service that
 * still runs with a part down is alive (no restart) but should get no new work. */
static void
on_readyz(nw_http_req_t *req, void *arg)
{
    nw_service_t *svc = arg;
    nw_service_problem_t problems[NW_SERVICE_PROBLEMS_MAX + NW_SERVICE_READY_MAX];
    size_t n = 0;
    if (svc->draining)
        problems[n++] = (nw_service_problem_t){"service", "draining"};
    /* A draining service frees what the conditions look at (fetch's deliverer, a worker) while
     * its HTTP server still answers; draining is reason enough. */
    for (size_t i = 0; !svc->draining && i < svc->n_ready; i++) {
        const char *why = svc->ready[i].cb(svc->ready[i].arg);
        if (why)
            problems[n++] = (nw_service_problem_t){svc->ready[i].what, why};
    }
    if (svc->health && !svc->draining)
        n += svc->health(svc->health_arg, problems + n, NW_SERVICE_PROBLEMS_MAX);
    respond_status(req, svc, n ? 503 : 200, n ? "not ready" : "ready", problems, n);
}

int
nw_service_add_ready(nw_service_t *svc, const char *what, nw_service_ready_cb cb, void *arg)
{
    if (svc->n_ready >= NW_SERVICE_READY_MAX)
        return -ENOSPC;
    svc->ready[svc->n_ready].what = what;
    svc->ready[svc->n_ready].cb = cb;
    svc->ready[svc->n_ready].arg = arg;
    svc->n_ready++;
    return 0;
}

void
nw_service_set_health(nw_service_t *svc, nw_service_health_cb cb, void *arg)
{
    svc->health = cb;
    svc->health_arg = arg;
}

void
nw_service_set_state(nw_service_t *svc, nw_service_state_cb cb, void *arg)
{
    svc->state = cb;
    svc->state_arg = arg;
}

static void
close_forgotten(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (uv_is_closing(h))
        return;
    NW_WARN(NULL, "closing a handle the service left open (type \"%s\")",
            uv_handle_type_name(uv_handle_get_type(h)));
    uv_close(h, NULL);
}

/* After a forced stop the service's ZeroMQ sockets are probably still open, and
 * zmq_ctx_term() would block on them forever. The context is shut down (blocking calls return
 * ETERM) and abandoned to process exit, kept reachable here so leak checkers can tell this
 * deliberate case from a real leak. */
static void *abandoned_zctx[16];

static void
abandon_zctx(void *zctx)
{
    zmq_ctx_shutdown(zctx);
    for (size_t i = 0; i < sizeof abandoned_zctx / sizeof abandoned_zctx[0]; i++) {
        if (abandoned_zctx[i] == NULL) {
            abandoned_zctx[i] = zctx;
            return;
        }
    }
}

/* Close every handle, run the loop until the close callbacks ran, release the ZeroMQ context
 * and the loop, free svc. Returns 0, or -EBUSY when the loop would not close. */
static int
teardown(nw_service_t *svc)
{
    uv_walk(&svc->loop, close_forgotten, NULL);
    uv_run(&svc->loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(&svc->loop);
    if (rc < 0)
        NW_ERROR(NULL, "event loop did not close \"%s\"", uv_strerror(rc));
    if (svc->zctx && svc->forced)
        abandon_zctx(svc->zctx);
    else if (svc->zctx)
        zmq_ctx_term(svc->zctx);
    free(svc);
    return rc < 0 ? -EBUSY : 0;
}

/* Every job allocates and frees page-sized blocks: libzmq's I/O thread one per message it
 * receives (an HTML page is ~150 KB, some are MBs), fetch the encoded raw and its group
 * awaiting the fsync, parse the decoded body and the tree, the broker a queue of them. With
 * glibc's defaults a block above the mmap threshold (128 KiB until a larger one is freed) is
 * mmapped and unmapped on its own, and free memory at the top of a heap beyond the trim
 * threshold (twice that) goes back to the kernel at once (a group of 64 pages freed together
 * always does), so the next messages fault in fresh pages: on the development machine (a VM)
 * a page fault costs ~13 us, fifty times copying its 4 KB, ~0.5 ms for one 150 KB page: page
 * faults were about a third of the broker's, fetch's and parse's CPU per HTML page (perf stat
 * -e page-faults on each service in bench/pipeline). These are the values glibc's own dynamic
 * thresholds move towards (at most 32 MiB, and twice that), set from the start: a process keeps
 * up to its high-water mark and reuses it, which is what bounds its memory anyway. */
int
nw_service_keep_memory(void)
{
#if defined(__GLIBC__) && defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
    /* mallopt says 1 when done; sanitizers' allocators intercept it and say 0 */
    if (mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, 64 << 20) == 1)
        return 0;
#endif
    return -ENOTSUP;
}

int
nw_service_config(const char *name, const nw_service_cfg_t *cfg, int curve_roles)
{
    nw_service_keep_memory(); /* a tuning: without it the service works, only slower */
    int level = cfg->log_level ? nw_log_parse_level(cfg->log_level) : NW_LOG_INFO;
    if (level < 0) {
        nw_config_bad_value("log-level", cfg->log_level, "debug, info, warn, error or off");
        return -EINVAL;
    }
    nw_log_init(name, level);
    if (cfg->log_format && nw_log_set_format(cfg->log_format) < 0) {
        nw_config_bad_value("log-format", cfg->log_format, "logfmt or json");
        return -EINVAL;
    }
    char ep[512], err[256];
    /* The last endpoint has the highest port: if it derives, they all do. Only the broker
     * binds without connecting; its base endpoint is its --bind. A client may name a broker
     * pair, a comma-separated list (stage.h), whose ha endpoint it probes. */
    int binds = curve_roles & NW_CURVE_BINDS && !(curve_roles & NW_CURVE_CONNECTS);
    if (cfg->broker && (binds ? nw_ep_derive(cfg->broker, NW_EP_COUNT - 1, ep, sizeof ep)
                              : nw_ep_list_check(cfg->broker, nw_ep_list_count(cfg->broker) > 1
                                                                  ? NW_EP_HA
                                                                  : NW_EP_COUNT - 1)) < 0) {
        nw_config_bad_value(binds ? "bind" : "broker", cfg->broker,
                            binds ? "tcp://host:port or ipc://path"
                                  : "tcp://host:port or ipc://path, or two of them: A,B");
        return -EINVAL;
    }
    if (nw_curve_init(&cfg->curve, curve_roles, err, sizeof err) < 0 ||
        nw_curve_check_endpoint(cfg->broker, curve_roles & NW_CURVE_CONNECTS ? "broker" : "bind",
                                cfg->insecure, err, sizeof err) < 0) {
        fprintf(stderr, "error: %s\n", err);
        return -EINVAL;
    }
    return 0;
}

nw_service_t *
nw_service_new(const char *name, const char *http_listen, nw_service_drain_cb drain, void *arg)
{
    return nw_service_new_opts(name, http_listen, NULL, drain, arg);
}

nw_service_t *
nw_service_new_opts(const char *name, const char *http_listen, const nw_http_opts_t *http_opts,
                    nw_service_drain_cb drain, void *arg)
{
    nw_log_init(name, nw_log_level);
    nw_series_init(name);

    nw_service_t *svc = calloc(1, sizeof *svc);
    if (svc == NULL)
        return NULL;
    svc->name = name;
    svc->drain = drain;
    svc->arg = arg;
    svc->drain_timeout_ms = DEFAULT_DRAIN_TIMEOUT_MS;
    if (uv_loop_init(&svc->loop) < 0) {
        free(svc);
        return NULL;
    }
    /* A peer that hangs up must give EPIPE on write, and a file-size limit EFBIG, instead of
     * killing the process: both are errors a service handles (the store retries its batch). */
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);

    uv_signal_init(&svc->loop, &svc->sigterm);
    uv_signal_init(&svc->loop, &svc->sigint);
    uv_timer_init(&svc->loop, &svc->drain_timer);
    uv_timer_init(&svc->loop, &svc->watchdog);
    svc->sigterm.data = svc->sigint.data = svc->drain_timer.data = svc;
    if (uv_signal_start(&svc->sigterm, on_signal, SIGTERM) < 0 ||
        uv_signal_start(&svc->sigint, on_signal, SIGINT) < 0) {
        NW_ERROR(NULL, "cannot watch SIGTERM and SIGINT");
        goto err;
    }
    svc->zctx = zmq_ctx_new();
    if (svc->zctx == NULL) {
        NW_ERROR(NULL, "cannot create the zeromq context \"%s\"", zmq_strerror(errno));
        goto err;
    }
    if (http_listen && *http_listen) {
        svc->http = nw_http_new_opts(&svc->loop, http_listen, DEFAULT_HTTP_MAX_BODY, http_opts);
        if (svc->http == NULL)
            goto err; /* logged by nw_http_new */
        if (nw_http_route(svc->http, "GET", "/metrics", on_metrics, svc) < 0 ||
            nw_http_route_scope(svc->http, "GET", "/healthz", NW_SCOPE_NONE, on_healthz, svc) < 0 ||
            nw_http_route_scope(svc->http, "GET", "/readyz", NW_SCOPE_NONE, on_readyz, svc) < 0) {
            NW_ERROR(NULL, "out of memory adding routes");
            goto err;
        }
    }
    return svc;
err:
    if (svc->http) {
        /* Let the server close itself before teardown's walk would close its handles. */
        nw_http_close(svc->http, on_http_closed, svc);
        while (!svc->http_closed)
            uv_run(&svc->loop, UV_RUN_ONCE);
    }
    teardown(svc);
    return NULL;
}

uv_loop_t *
nw_service_loop(nw_service_t *svc)
{
    return &svc->loop;
}

void *
nw_service_zctx(nw_service_t *svc)
{
    return svc->zctx;
}

nw_http_t *
nw_service_http(nw_service_t *svc)
{
    return svc->http;
}

void
nw_service_set_drain_timeout(nw_service_t *svc, uint64_t ms)
{
    svc->drain_timeout_ms = ms;
}

int
nw_service_draining(const nw_service_t *svc)
{
    return svc->draining;
}

int
nw_service_run(nw_service_t *svc)
{
    NW_INFO(NULL, "started%s", svc->http ? "" : " without http");
    /* Everything the service needs was set up before this call (sockets bound, database open,
     * reference data loaded): from here on it is started, which is what READY=1 tells systemd
     * (/readyz says when it is ready for work). The pings come from the loop, so they stop
     * when the loop does; half the interval, as sd_watchdog_enabled(3) advises. The timer does
     * not keep the loop alive. */
    uint64_t usec = 0;
    /* A service whose set-up failed stops before it runs: it was never ready. */
    if (!svc->stopping && sd_watchdog_enabled(0, &usec) > 0 && usec >= 2000) {
        uv_timer_start(&svc->watchdog, on_watchdog, usec / 2000, usec / 2000);
        uv_unref((uv_handle_t *)&svc->watchdog);
        NW_INFO(NULL, "systemd watchdog every %llu ms", (unsigned long long)(usec / 2000));
    }
    if (!svc->stopping)
        notify_systemd("READY=1");
    uv_run(&svc->loop, UV_RUN_DEFAULT);
    /* The loop also ends when nothing is left to do or someone called uv_stop directly. */
    if (!svc->stopping)
        nw_service_stop(svc);
    /* The HTTP close is bounded by its own grace timer. */
    while (svc->http && !svc->http_closed)
        uv_run(&svc->loop, UV_RUN_ONCE);
    int forced = svc->forced;
    int rc = teardown(svc);
    NW_INFO(NULL, "stopped%s", forced ? " (forced)" : "");
    return rc == 0 && !forced ? 0 : 1;
}
