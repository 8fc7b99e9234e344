/* filter.h: a stage service that turns each job into exactly one message, synchronously:
 * newswire-parse (raw -> article) and newswire-enrich (article -> enriched). The runner owns the
 * service, the worker, draining and dead letters; the stage supplies one function. A job whose
 * type is wrong, or that the function refuses, becomes a "dead" letter with the stage, the
 * reason and the original bytes (plus id, origin and spool when known, so the store can
 * acknowledge it to the fetch that spooled it). Counters: nw_<name>_articles_total and
 * nw_<name>_dead_total{reason}. */
#ifndef NW_FILTER_H
#define NW_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "newswire/buf.h"
#include "newswire/service.h"
#include "newswire/stage.h"

/* Why a job could not be turned into output. The function fills what it knows. */
typedef struct nw_filter_fail {
    const char *reason; /* static, machine-readable: "invalid-utf8", "bad-message", ... */
    char detail[512];   /* for people */
    char id[64];
    char origin[128];
    char content_type[128];
    char source[32];
    uint64_t spool;
} nw_filter_fail_t;

/* Decode one job's payload (borrowed until return), transform it and append the encoded output
 * message to out. Returns 0, or a negative errno after setting fail->reason (and detail). */
typedef int (*nw_filter_fn)(void *ctx, const uint8_t *in, size_t len, nw_buf_t *out,
                            nw_filter_fail_t *fail);

typedef struct nw_filter_def {
    const char *name;     /* service, log and metric name: "parse" */
    const char *in_type;  /* the jobs it takes: "raw" */
    const char *out_type; /* what it emits: "article" */
    nw_ep_t from;         /* the broker endpoint it takes them from: NW_EP_RAW_OUT */
    nw_filter_fn fn;
    void *ctx; /* borrowed for the whole run */
} nw_filter_def_t;

/* Copy a string into one of nw_filter_fail_t's fields (truncating; NULL gives ""). */
void nw_filter_fail_set(char *field, size_t size, const char *value);

/* Connect to the broker cfg->broker, serve cfg->http, and run until SIGTERM/SIGINT has drained
 * the work in flight; cfg has passed nw_service_config. window is the credit (jobs in flight).
 * Returns the process exit status: 0 after a clean drain, 1 when the service could not start
 * or stop cleanly. */
int nw_filter_run(const nw_filter_def_t *def, const nw_service_cfg_t *cfg, unsigned window);

#endif
