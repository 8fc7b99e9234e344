/* broker.h: the broker as a library object, so services/broker/main.c only wires it to the
 * service and tests can run it in-process over inproc://.
 *
 * It binds every NW_EP_* endpoint derived from one base (see stage.h) and keeps one bounded
 * FIFO per stage (raw, article, enriched), bounded in jobs and in bytes. Producers PUSH into a
 * stage's .in; workers take from its .out with credit; the topic hub forwards pub.in (XSUB) to
 * pub.out (XPUB) and subscriptions back. When a stage queue is full the broker stops reading that
 * stage's .in, so ZeroMQ's high-water marks push back on the producers; it reads again below half.
 *
 * A full queue can still grow past queue_max by the jobs requeued from workers that left
 * (at most the sum of their windows), because requeued work must not be lost.
 *
 * With opts->peer the broker is one of a primary/backup pair (ha.h) and serves only while it
 * is the active one; a single broker always is. */
#ifndef NW_BROKER_H
#define NW_BROKER_H

#include <stddef.h>
#include <uv.h>

/* Stages: index i reads nw_ep_t 2*i (.in) and serves 2*i + 1 (.out). */
#define NW_BROKER_STAGES 3

typedef struct nw_broker nw_broker_t;

/* Silence allowed to a busy worker, by default: longer than any job should take. */
#define NW_BROKER_BUSY_SILENCE_MS 60000

/* Payload bytes queued per stage before intake pauses, by default. */
#define NW_BROKER_QUEUE_MAX_BYTES ((size_t)256 * 1024 * 1024)

typedef struct nw_broker_opts {
    size_t queue_max;       /* jobs queued per stage; 0 means 10000 */
    size_t queue_max_bytes; /* payload bytes queued per stage; 0 means NW_BROKER_QUEUE_MAX_BYTES */
    unsigned heartbeat_ms;  /* heartbeat interval; 0 means NW_STAGE_HEARTBEAT_MS */
    /* How long a worker with jobs in flight may stay silent (one job can outlast a few
     * heartbeats); 0 means NW_BROKER_BUSY_SILENCE_MS. A worker that holds no job is dropped
     * after NW_STAGE_LIVENESS silent heartbeats; one whose connection dies, at once. */
    unsigned busy_silence_ms;
    int roles; /* enforce roles per socket and message (needs nw_curve_zap_start with
                * nw_broker_admits as policy; see broker.c) */
    /* A broker pair (ha.h): the other broker's base endpoint, or NULL for a single broker
     * (always active). backup: this one is the backup, the peer the primary. */
    const char *peer;
    int backup;
} nw_broker_opts_t;

typedef struct nw_broker_stage_stats {
    size_t queued;       /* waiting for a worker (includes requeued jobs) */
    size_t queued_bytes; /* their payload bytes */
    size_t inflight;     /* sent to workers and not yet acknowledged by READY */
    unsigned workers;    /* registered workers */
    int paused;          /* intake stopped because the queue is full */
    unsigned long long received, dispatched, requeued;
} nw_broker_stage_stats_t;

typedef struct nw_broker_stats {
    nw_broker_stage_stats_t stage[NW_BROKER_STAGES];
    unsigned long long bad_messages;    /* wrong frame count, unknown command or type */
    unsigned long long unknown_worker;  /* READY/HB/BYE from a worker not registered */
    unsigned long long workers_dropped; /* silent for NW_STAGE_LIVENESS intervals or gone */
    unsigned long long workers_left;    /* said BYE */
    unsigned long long published;       /* messages forwarded pub.in -> pub.out */
    unsigned long long subscriptions;   /* (un)subscriptions forwarded pub.out -> pub.in */
} nw_broker_stats_t;

/* Bind every endpoint derived from bind_base (e.g. "tcp://0.0.0.0:5550" or "inproc://broker") on
 * the loop, using the caller's ZeroMQ context (borrowed; it must outlive the broker). opts may be
 * NULL for defaults. Returns NULL after logging the endpoint that failed (bad base, address
 * in use, ENOMEM). */
nw_broker_t *nw_broker_new(uv_loop_t *loop, void *zctx, const char *bind_base,
                           const nw_broker_opts_t *opts);

/* Close every socket and handle and free the broker with whatever it still queues (queues are
 * in memory only; producers re-send what was never acknowledged). cb (may be NULL) runs from
 * the loop when everything is released. NULL-safe; at most once. */
void nw_broker_close(nw_broker_t *b, void (*cb)(void *arg), void *arg);

/* The roles (NW_ROLE_* of curve.h) that may connect to the broker socket named socket
 * ("raw.in", ..., "pub.out"); 0 for any other name. The policy for nw_curve_zap_start. */
unsigned nw_broker_admits(const char *socket);

/* "active" (a single broker always is), "passive" or "starting" (a broker pair, ha.h; only
 * the active one serves). Also the gauge nw_broker_active. */
const char *nw_broker_state(const nw_broker_t *b);

/* Snapshot of the counters (also exported as nw_broker_* metrics). */
void nw_broker_stats(const nw_broker_t *b, nw_broker_stats_t *out);

#endif
