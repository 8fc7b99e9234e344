/* stage.h: how services meet at the broker.
 *
 * The broker owns one queue per stage. Its endpoints are derived from one base endpoint
 * (--broker), so a single value configures every service:
 *
 *   name          offset  broker socket  peers
 *   raw.in        +0      PULL           fetch PUSHes raw
 *   raw.out       +1      ROUTER         parse workers (DEALER) take raw
 *   article.in    +2      PULL           parse PUSHes article
 *   article.out   +3      ROUTER         enrich workers take article
 *   enriched.in   +4      PULL           enrich PUSHes enriched; any stage PUSHes dead
 *   enriched.out  +5      ROUTER         store workers take enriched and dead
 *   pub.in        +6      XSUB           store PUBlishes committed articles (and acks)
 *   pub.out       +7      XPUB           subscribers (newswire tail, fetch for acks)
 *   ha            +8      ROUTER         only brokers run as a pair (--peer): the peer's
 *                                        state and the clients' probes (ha.h)
 *
 * tcp://host:5550 gives tcp://host:5550..5557 (and 5558 for a broker pair); ipc:///run/nw/broker
 * gives ipc:///run/nw/broker-raw.in and so on; inproc:// likewise (for tests).
 *
 * A client may name several brokers, a primary and its backup, as a comma-separated list of
 * base endpoints ("tcp://a:5550,tcp://b:5550"); one entry means one broker, as before. Then
 * its stage sockets follow whichever broker is active (nw_brokers of brokers.h), and its
 * subscribers and publishers connect to every hub at once: only the active one forwards.
 *
 * Work is pulled with credit: a worker tells the broker how many more jobs it can take
 * ("READY" n), the broker never sends a worker more than that, and idle workers get jobs in
 * the order they became ready, so several workers of one stage share the load and a slow
 * worker does not hoard work. Broker and worker send "HB" heartbeats.
 *
 * Worker protocol on the .out endpoints (DEALER <-> ROUTER; numbers are decimal text):
 *
 *   worker -> broker  ["HELLO", n]   n free slots in all (absolute). Sent on start and again
 *                                    whenever the broker has been silent for
 *                                    NW_STAGE_LIVENESS intervals (it restarted, or it dropped
 *                                    us), so a worker never sits on credit the broker forgot.
 *                     ["READY", n]   n more credits: n jobs finished since the last grant.
 *                                    Sent at the end of the loop turn in which they
 *                                    finished (a store: right after its commit), so the
 *                                    broker forgets finished jobs at once: an idle
 *                                    pipeline has nothing in flight, and a worker that
 *                                    dies gets only its unfinished jobs requeued.
 *                     ["HB"]         every heartbeat interval.
 *                     ["BYE"]        leaving: requeue every job not acknowledged by READY.
 *   broker -> worker  ["JOB", type, payload]
 *                     ["HB", ms]     every interval to every registered worker; workers adopt
 *                                    the broker's interval.
 *
 * The broker registers a worker only on HELLO, ignores the others from unknown workers, and
 * drops a worker (requeueing its unfinished jobs at the front) on BYE, when its connection is
 * gone (ZeroMQ's own heartbeat, answered by the worker's I/O thread, notices a vanished host),
 * after NW_STAGE_LIVENESS silent intervals when it holds no job, and after the broker's
 * busy_silence_ms (60 s) when it does: a worker cannot heartbeat while one long job runs on
 * its loop. Delivery is at least once. */
#ifndef NW_STAGE_H
#define NW_STAGE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* Default heartbeat interval and how many silent intervals make a peer count as gone. */
#define NW_STAGE_HEARTBEAT_MS 1000
#define NW_STAGE_LIVENESS 3
/* Longest message type name plus its NUL ("enriched"). */
#define NW_STAGE_TYPE_MAX 32
/* Room for any derived endpoint. */
#define NW_EP_MAX 256

typedef enum {
    NW_EP_RAW_IN = 0,
    NW_EP_RAW_OUT,
    NW_EP_ARTICLE_IN,
    NW_EP_ARTICLE_OUT,
    NW_EP_ENRICHED_IN,
    NW_EP_ENRICHED_OUT,
    NW_EP_PUB_IN,
    NW_EP_PUB_OUT,
    NW_EP_COUNT,           /* the stage and hub endpoints every broker binds */
    NW_EP_HA = NW_EP_COUNT /* the pair's state endpoint, bound only with --peer */
} nw_ep_t;

/* Name of an endpoint slot, e.g. "raw.in" ("ha" for NW_EP_HA). */
const char *nw_ep_name(nw_ep_t which);
/* Derive the endpoint for `which` (up to NW_EP_HA) from the base endpoint. For binding, a tcp
 * host of "*" is kept; callers that connect pass a real host. The base is tcp://host:port
 * (port 1..65535, IPv6 hosts in brackets), ipc://path or inproc://name. Returns 0 or -EINVAL
 * (bad base, port overflow, or out too small). */
int nw_ep_derive(const char *base, nw_ep_t which, char *out, size_t n);
/* The base endpoint a broker binds for the one its clients connect to: tcp://NAME:PORT with a
 * host name (not an address, "*" or an interface) becomes tcp://ADDRESS:PORT, NAME resolved
 * to IPv4 as a client would (ep_bind.c); anything else is copied as it is. Returns 0, or
 * -EINVAL with a message for people in err when the name does not resolve or out is too
 * small. */
int nw_ep_bindable(const char *ep, char *out, size_t n, char *err, size_t errlen);
/* Brokers named by a comma-separated list of base endpoints (1 for a plain endpoint, 0 for
 * NULL or ""). */
size_t nw_ep_list_count(const char *list);
/* Copy entry i of the list into out. Returns 0 or -EINVAL (no such entry, empty entry, or out
 * too small). */
int nw_ep_list_entry(const char *list, size_t i, char *out, size_t n);
/* Check every entry of a broker list derives up to `last` (at most NW_EP_MAX_BROKERS entries,
 * none empty). Returns 0 or -EINVAL. */
int nw_ep_list_check(const char *list, nw_ep_t last);
/* The most brokers a list may name: a primary and a backup (room for a spare). */
#define NW_EP_MAX_BROKERS 4
/* The stage queue a message type goes to: "raw" -> NW_EP_RAW_IN, "article" -> NW_EP_ARTICLE_IN,
 * "enriched" and "dead" -> NW_EP_ENRICHED_IN. Returns -1 for other types. */
int nw_ep_for_type(const char *type);

/* A producer: PUSH socket connected to one stage's .in endpoint. Sends never block: when the
 * high-water mark is reached nw_push_send returns -EAGAIN and on_writable fires once the
 * socket can send again. */
typedef struct nw_push nw_push_t;
typedef void (*nw_push_writable_cb)(nw_push_t *p, void *arg);
/* endpoint: an already derived .in endpoint (copied). on_writable may be NULL. Returns NULL on
 * error (logged). */
nw_push_t *nw_push_new(uv_loop_t *loop, void *zctx, const char *endpoint,
                       nw_push_writable_cb on_writable, void *arg);
/* Send [type][payload]. Returns 0, -EAGAIN (then on_writable fires once later, if given), or
 * another negative errno. Borrows payload. */
int nw_push_send(nw_push_t *p, const char *type, const void *payload, size_t len);
/* Move the socket to another endpoint (the broker pair failed over): disconnect from the old
 * one, dropping what its pipe still held (fetch re-sends it), and connect to endpoint. A
 * pending on_writable request fires once the new connection takes sends. Returns 0 or
 * -errno (then it stays where it was). */
int nw_push_reconnect(nw_push_t *p, const char *endpoint);
/* nw_push_send without copying the payload: takes ownership of *payload (malloc'd, len bytes)
 * in every case and sets *payload to NULL. ZeroMQ sends from the buffer itself and frees it once
 * written, perhaps on its I/O thread; on an error it is freed at once. Same returns. */
int nw_push_send_take(nw_push_t *p, const char *type, uint8_t **payload, size_t len);
/* Close (unsent messages linger at most 1 s); cb (may be NULL) runs from the loop once the
 * socket is released. NULL-safe. */
void nw_push_close(nw_push_t *p, void (*cb)(void *arg), void *arg);

/* A worker: DEALER connected to one stage's .out endpoint with a credit window, plus PUSH
 * sockets for whatever it emits. */
typedef struct nw_worker nw_worker_t;
/* One job. data is borrowed until return. The worker must call nw_worker_done() for each job
 * exactly once, now or later (store calls it after its commit). */
typedef void (*nw_worker_job_cb)(nw_worker_t *w, const char *type, const uint8_t *data, size_t len,
                                 void *arg);
/* broker: the base endpoint, or a list of them (a broker pair; copied). stage_out:
 * NW_EP_RAW_OUT (parse), NW_EP_ARTICLE_OUT (enrich) or NW_EP_ENRICHED_OUT (store). window: most
 * jobs in flight at once (credit). Says HELLO at once (queued until connected); reconnects by
 * itself. With several brokers it follows the active one (brokers.h): on a failover its
 * DEALER and PUSH sockets move there and it says HELLO with its free credit; jobs it still
 * holds from the old broker finish and their output goes to the new one. Returns NULL on a
 * bad endpoint or stage (logged) or ENOMEM. */
nw_worker_t *nw_worker_new(uv_loop_t *loop, void *zctx, const char *broker, nw_ep_t stage_out,
                           unsigned window, nw_worker_job_cb cb, void *arg);
/* Emit a message of `type` to the stage queue nw_ep_for_type(type). Never blocks and never
 * drops: when the queue pushes back the message is held and the worker stops asking for new
 * jobs until it is sent. Returns 0 or -ENOMEM/-EINVAL. Borrows payload (copied if held). */
int nw_worker_emit(nw_worker_t *w, const char *type, const void *payload, size_t len);
/* Mark one job finished; credit is returned to the broker once held output is flushed. */
void nw_worker_done(nw_worker_t *w);
/* Stop taking jobs, flush held output (giving up after NW_STAGE_LIVENESS heartbeat intervals,
 * logged), return finished credit, say BYE (the broker requeues unfinished jobs), then close;
 * cb runs from the loop when everything is released. Calls to nw_worker_done() until then are
 * allowed. NULL-safe; at most once. */
void nw_worker_close(nw_worker_t *w, void (*cb)(void *arg), void *arg);
/* Jobs received and not yet done. */
unsigned nw_worker_inflight(const nw_worker_t *w);
/* Emitted messages held back by a full queue (for tests and /metrics). */
size_t nw_worker_held(const nw_worker_t *w);
/* Readiness of the worker w (a nw_worker_t *, typed void * to fit nw_service_add_ready): NULL
 * once the broker answered and has not been silent for NW_STAGE_LIVENESS intervals since,
 * else why not (a static string). */
const char *nw_worker_ready(void *w);

/* A publisher: PUB connected to the broker's pub.in. Publishing never blocks; ZeroMQ drops
 * for subscribers past their high-water mark (they detect gaps from sequence numbers). */
typedef struct nw_pub nw_pub_t;
/* broker: the base endpoint, or a list of them: the PUB connects to every hub of a broker
 * pair, and only the active one forwards. Not on a loop: a PUB never needs to read. Returns
 * NULL on a bad endpoint (logged) or ENOMEM. */
nw_pub_t *nw_pub_new(void *zctx, const char *broker);
/* Send [topic][payload]. Returns 0 or negative errno. */
int nw_pub_send(nw_pub_t *p, const char *topic, const void *payload, size_t len);
/* Close the socket (unsent messages linger at most 1 s) and free; NULL-safe, nulls *p. */
void nw_pub_destroy(nw_pub_t **p);

#endif
