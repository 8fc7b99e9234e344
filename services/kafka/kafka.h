/* kafka.h: the two halves of newswire-kafka, private to the service.
 *
 * IN (kin.c): a Kafka consumer whose messages go, one at a time and in order, to fetch's ZeroMQ
 * ingest socket (proto/ingest.md). fetch answers only once the document is in its spool after
 * fsync, so the bridge commits a message's offset only after that answer: 202 commits, a 4xx
 * (which fetch already dead-letters) is logged, counted and committed, a 503, a 500 or no answer
 * is retried with backoff and not committed. One request in flight means every earlier message
 * of the partition was answered before a later one's offset is committed.
 *
 * OUT (kout.c): the store's committed articles, read in seq order through follow.h (the hub is
 * only the doorbell that says "read now"), produced to one Kafka topic by an idempotent producer
 * with the article id as key and the newswire topic in a "topic" header. The seq below which
 * every produced document has a successful delivery report is written to a state file; a
 * restart resumes after it (at least once: what was in flight at a crash is produced again).
 *
 * Both are driven from the service's loop by a short timer (--tick): librdkafka has its own
 * threads and is polled with a zero timeout, the ZeroMQ sockets with ZMQ_DONTWAIT. IN also ticks
 * when fetch's answer arrives (a uv_poll on the DEALER's ZMQ_FD), so a document costs one fetch
 * round trip, not one timer period. */
#ifndef NW_KAFKA_H
#define NW_KAFKA_H

#include <stddef.h>
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <uv.h>

typedef struct nw_kin nw_kin_t;
typedef struct nw_kout nw_kout_t;

typedef struct nw_kin_cfg {
    const char *bootstrap; /* Kafka bootstrap servers */
    const char *topics;    /* comma-separated topics to consume */
    const char *group;     /* consumer group */
    const char *ingest;    /* fetch's ingest endpoint */
    int64_t timeout_ms;    /* longest wait for fetch's answer before sending again */
    int64_t session_ms;    /* Kafka session timeout: how soon a dead bridge's partitions move */
} nw_kin_cfg_t;

typedef struct nw_kout_cfg {
    const char *bootstrap;
    const char *topic;    /* Kafka topic the articles go to */
    const char *prefixes; /* comma-separated newswire topic prefixes */
    const char *broker;   /* broker base endpoint, for the hub's doorbell */
    const char *db;       /* database path or postgresql:// URI (read-only) */
    const char *state;    /* file holding the last delivered seq */
    const char *since;    /* where to start without a state file (follow.h's --since) */
    int64_t window;       /* most documents awaiting a delivery report */
    int64_t check_ms;     /* read the database at least this often */
} nw_kout_cfg_t;

/* Send librdkafka's log lines through the one logger (log.h) instead of its own stderr format:
 * syslog levels 0-3 as error, 4 warn, 5-6 info, 7 debug. Queued: after rd_kafka_new, call
 * rd_kafka_set_log_queue(rk, NULL) so they come out of the polls on the loop's thread. */
void nw_kafka_conf_logs(rd_kafka_conf_t *conf);

/* Both: cfg is borrowed for the object's lifetime, zctx too. Return NULL with a message in err
 * (for people) when librdkafka refuses the configuration or a socket cannot be made. */
nw_kin_t *nw_kin_new(const nw_kin_cfg_t *cfg, uv_loop_t *loop, void *zctx, char *err,
                     size_t errlen);
nw_kout_t *nw_kout_new(const nw_kout_cfg_t *cfg, void *zctx, char *err, size_t errlen);

/* Do what can be done now without blocking; now_ms is a monotonic clock. */
void nw_kin_tick(nw_kin_t *in, int64_t now_ms);
void nw_kout_tick(nw_kout_t *out, int64_t now_ms);

/* A problem to report on /healthz, or NULL when healthy. */
const char *nw_kin_problem(const nw_kin_t *in);
const char *nw_kout_problem(const nw_kout_t *out);
/* /readyz's "fetch" condition (nw_service_ready_cb, arg the IN half): NULL while the socket to
 * fetch's ingest is connected, else why not (link.h). */
const char *nw_kin_ready(void *arg);

/* Leave the consumer group (uncommitted messages will be read again) / wait up to wait_ms for
 * delivery reports and write the state; then free. Accept NULL, null the pointer. */
void nw_kin_destroy(nw_kin_t **in);
void nw_kout_destroy(nw_kout_t **out, int wait_ms);

#endif
