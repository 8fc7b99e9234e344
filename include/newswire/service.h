/* service.h: what every service process shares: the one uv loop, the ZeroMQ context, SIGTERM
 * and SIGINT handling (drain, then exit), and the HTTP endpoints /metrics and /healthz.
 *
 *   nw_service_t *svc = nw_service_new("parse", cfg.http, on_drain, &state);
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

#include "newswire/http.h"

typedef struct nw_service nw_service_t;
typedef void (*nw_service_drain_cb)(nw_service_t *svc, void *arg);

/* name is borrowed for the process lifetime. http_listen "host:port" or NULL/"" for no HTTP
 * server. Initialises logging from NEWSWIRE_LOG_LEVEL. Returns NULL on error (logged). */
nw_service_t *nw_service_new(const char *name, const char *http_listen, nw_service_drain_cb drain,
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

#endif
