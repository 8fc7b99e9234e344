/* service.h: what every service process shares: the options every service takes (broker, http,
 * log level, CURVE keys) and their start-up checks, the one uv loop, the ZeroMQ context, SIGTERM
 * and SIGINT handling (drain, then exit), and the HTTP endpoints /metrics, /healthz (alive) and
 * /readyz (ready for work: nw_service_add_ready).
 *
 *   struct cfg { nw_service_cfg_t svc; int64_t window; };
 *   static const nw_cfg_opt_t options[] = {
 *       NW_SERVICE_OPTIONS(struct cfg, svc, "", NW_SERVICE_HTTP_HELP),
 *       {"window", ...}, NW_CFG_END,
 *   };
 *   ... nw_config_load(options, &cfg, ...) ...
 *   if (nw_service_config("parse", &cfg.svc, NW_CURVE_CONNECTS) < 0) return 2;
 *   nw_service_t *svc = nw_service_new("parse", cfg.svc.http, on_drain, &state);
 *   ... create workers on nw_service_loop(svc) / nw_service_zctx(svc) ...
 *   return nw_service_run(svc);   // returns the process exit code
 *
 * On the first SIGTERM/SIGINT the drain callback runs once; it stops taking new work, finishes
 * what is in flight, closes its handles and calls nw_service_stop(). If draining takes longer
 * than the drain timeout (or a second signal arrives) the service stops anyway. */
#ifndef NW_SERVICE_H
#define NW_SERVICE_H

#include <stdint.h>
#include <uv.h>

#include "newswire/config.h"
#include "newswire/curve.h"
#include "newswire/http.h"

/* The options every service shares. The broker, which binds the endpoints the others
 * connect to, reads its --bind into broker and takes --curve-roles instead of --curve-server. */
typedef struct nw_service_cfg {
    const char *broker;     /* broker base endpoint (tcp://host:port, ipc://path) */
    const char *http;       /* host:port for /metrics, /healthz and the service's routes; "" none */
    const char *log_level;  /* debug, info, warn, error or off */
    const char *log_format; /* logfmt or json */
    int insecure;           /* plain ZeroMQ allowed off loopback (curve.h) */
    nw_curve_cfg_t curve;
} nw_service_cfg_t;

#define NW_SERVICE_HTTP_HELP "host:port for /metrics and /healthz (empty: none)"

/* Config table entries (config.h) for the shared options of a service whose config struct
 * `type` embeds a nw_service_cfg_t as member m: --broker, --http (default http_def, help text
 * http_help), --log-level (default info; NEWSWIRE_LOG_LEVEL like every option), --log-format,
 * --curve-key and
 * --curve-server. The broker uses the single entries below with its own --bind. */
#define NW_SERVICE_BROKER_OPTION(type, m)                                                          \
    {                                                                                              \
        "broker", NW_CFG_STR, "tcp://127.0.0.1:5550", offsetof(type, m.broker),                    \
            "broker base endpoint (tcp://host:port, ipc://path); a broker pair as PRIMARY,BACKUP", \
            0, 0                                                                                   \
    }
#define NW_SERVICE_HTTP_OPTION(type, m, http_def, http_help)                                       \
    {                                                                                              \
        "http", NW_CFG_STR, http_def, offsetof(type, m.http), http_help, 0, 0                      \
    }
#define NW_SERVICE_LOG_OPTION(type, m)                                                             \
    {"log-level",                                                                                  \
     NW_CFG_STR,                                                                                   \
     "info",                                                                                       \
     offsetof(type, m.log_level),                                                                  \
     "debug, info, warn, error or off",                                                            \
     0,                                                                                            \
     0},                                                                                           \
    {                                                                                              \
        "log-format", NW_CFG_STR, "logfmt", offsetof(type, m.log_format),                          \
            "logfmt (key=value) or json (one object per line)", 0, 0                               \
    }
#define NW_SERVICE_INSECURE_OPTION(type, m)                                                        \
    {                                                                                              \
        "insecure", NW_CFG_BOOL, "0", offsetof(type, m.insecure), NW_CURVE_INSECURE_HELP, 0, 0     \
    }
#define NW_SERVICE_OPTIONS(type, m, http_def, http_help)                                           \
    NW_SERVICE_BROKER_OPTION(type, m), NW_SERVICE_HTTP_OPTION(type, m, http_def, http_help),       \
        NW_SERVICE_LOG_OPTION(type, m), NW_CURVE_KEY_OPTION(type, m.curve),                        \
        NW_CURVE_SERVER_OPTION(type, m.curve), NW_SERVICE_INSECURE_OPTION(type, m)

/* The start-up checks of the shared options, after nw_config_load: the log level (the one
 * place it is read; it sets the logger's level and name), the broker endpoint (that the stage
 * endpoints derive from it, and that it is local unless CURVE is on or --insecure is given:
 * nw_curve_check_endpoint) and the CURVE keys for curve_roles (NW_CURVE_CONNECTS |
 * NW_CURVE_BINDS). On a bad value prints one line on stderr in config.h's style (error: bad
 * value "x" for option 'log-level') and returns -EINVAL: exit with status 2. Returns 0 when all
 * is well. name and cfg are borrowed for the process lifetime. */
int nw_service_config(const char *name, const nw_service_cfg_t *cfg, int curve_roles);

/* Have the C library keep the memory a job frees for the next job rather than give it back to
 * the kernel and fault it in again (glibc's mmap and trim thresholds; see service.c for the
 * cost it saves). Called by nw_service_config, before any thread starts. Returns 0, or
 * -ENOTSUP when the allocator ignores it (not glibc; a sanitizer's allocator). */
int nw_service_keep_memory(void);

typedef struct nw_service nw_service_t;
typedef void (*nw_service_drain_cb)(nw_service_t *svc, void *arg);

/* name is borrowed for the process lifetime. http_listen "host:port" or NULL/"" for no HTTP
 * server. Names the logger; the level is nw_service_config's (info until it ran). Returns NULL
 * on error (logged). */
nw_service_t *nw_service_new(const char *name, const char *http_listen, nw_service_drain_cb drain,
                             void *arg);
/* The same for a service that serves an API: its HTTP server takes the security settings in
 * http_opts (token file, TLS, deadlines; see nw_http_new_opts), and /healthz stays open. */
nw_service_t *nw_service_new_opts(const char *name, const char *http_listen,
                                  const nw_http_opts_t *http_opts, nw_service_drain_cb drain,
                                  void *arg);
uv_loop_t *nw_service_loop(nw_service_t *svc);
void *nw_service_zctx(nw_service_t *svc);
/* The HTTP server, or NULL when none was configured; services may add routes and change its
 * body limit (8 MiB by default) with nw_http_set_max_body. Owned by the service. */
nw_http_t *nw_service_http(nw_service_t *svc);
/* Set the longest a drain may take before the service stops anyway (default 10 s). */
void nw_service_set_drain_timeout(nw_service_t *svc, uint64_t ms);
/* Run the loop until stopped; closes every handle (also ones the service forgot, with a
 * warning), terminates the ZeroMQ context and frees the service (svc is invalid afterwards).
 * zmq_ctx_term() waits for every socket of the context to be closed, so by a clean stop the
 * service must have zmq_close()d all its sockets. After a forced stop (drain timeout, second
 * signal) the context is only shut down and left to process exit. Returns 0 after a clean
 * stop, 1 otherwise (the process exit code). */
int nw_service_run(nw_service_t *svc);
/* Finish: close the HTTP server and signal handles so the loop can end. Safe to call twice. */
void nw_service_stop(nw_service_t *svc);
/* True once a drain has begun. */
int nw_service_draining(const nw_service_t *svc);

/* A part of the service that is down while the rest runs (e.g. one source of fetch): what it
 * is ("ingest") and why ("cannot bind ...: Address already in use"). Borrowed strings. */
typedef struct nw_service_problem {
    const char *what;
    const char *reason;
} nw_service_problem_t;
#define NW_SERVICE_PROBLEMS_MAX 16
/* Fill at most max problems; returns how many (0: healthy). Called for each /healthz. */
typedef size_t (*nw_service_health_cb)(void *arg, nw_service_problem_t *out, size_t max);
/* /healthz answers 200 {"status":"degraded","problems":{what: reason, ...}} while cb reports
 * problems, {"status":"ok"} otherwise (503 "draining" during a drain). cb may be NULL. */
void nw_service_set_health(nw_service_t *svc, nw_service_health_cb cb, void *arg);

/* What the service is doing apart from its health, as one word (a broker of a pair: "active",
 * "passive" or "starting"); the string lives at least until the next call. */
typedef const char *(*nw_service_state_cb)(void *arg);
/* Add "state": cb(arg) to the /healthz and /readyz answers. cb may be NULL (no field). */
void nw_service_set_state(nw_service_t *svc, nw_service_state_cb cb, void *arg);

/* One readiness condition: NULL when met, else why not (a string that lives at least until
 * the next call). */
typedef const char *(*nw_service_ready_cb)(void *arg);
#define NW_SERVICE_READY_MAX 8
/* Add a condition of /readyz, named what ("broker", "database"; borrowed). /readyz answers 200
 * {"status":"ready"} when every condition is met and the health callback reports no problem,
 * else 503 {"status":"not ready","problems":{what: reason}} (also while draining), so an
 * orchestrator routes no work to it and compose's depends_on waits. /healthz stays the
 * liveness answer. Returns 0, or -ENOSPC past NW_SERVICE_READY_MAX conditions. */
int nw_service_add_ready(nw_service_t *svc, const char *what, nw_service_ready_cb cb, void *arg);

#endif
