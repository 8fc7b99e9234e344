/* brokers.h: a client's view of a broker pair (ha.h): which of the brokers its --broker list
 * names ("tcp://a:5550,tcp://b:5550") is active, so its stage sockets can follow it.
 *
 * Twice every heartbeat it asks each broker's ha endpoint ["PING", need] and reads ["STATE",
 * state, heartbeat_ms]; it adopts the brokers' heartbeat. The broker in use stays in use while it
 * answers "active"; when it has not for two heartbeats (or answers anything else) and another
 * one answers "active", the client moves there at once (the switch callback). Once it has had
 * no active broker for two heartbeats its pings carry need = "1": that is the "client came"
 * of Binary Star, which lets a passive broker whose peer is gone take over. So a client moves
 * within about two heartbeats of losing the active broker, plus one round trip.
 *
 * Only stage sockets (PUSH to .in, a worker's DEALER) follow; subscribers and publishers
 * connect to every hub (stage.h). */
#ifndef NW_BROKERS_H
#define NW_BROKERS_H

#include <stddef.h>
#include <uv.h>

typedef struct nw_brokers nw_brokers_t;

/* The broker in use changed to base (a base endpoint of the list; valid until the next
 * switch or the close), or it is the same one serving again after two heartbeats without
 * (it restarted before the other took over): either way what it held is lost. */
typedef void (*nw_brokers_switch_cb)(nw_brokers_t *bs, const char *base, void *arg);

/* Watch the brokers of list (a comma-separated list of base endpoints, at least two; copied)
 * in the caller's ZeroMQ context (borrowed). The broker in use starts as the first entry, so
 * the caller connects there first. Returns NULL on a bad list or ENOMEM (logged). */
nw_brokers_t *nw_brokers_new(uv_loop_t *loop, void *zctx, const char *list, nw_brokers_switch_cb cb,
                             void *arg);
/* The base endpoint of the broker in use. */
const char *nw_brokers_current(const nw_brokers_t *bs);
/* Close the probes; cb (may be NULL) runs from the loop when released. NULL-safe; once. */
void nw_brokers_close(nw_brokers_t *bs, void (*cb)(void *arg), void *arg);

#endif
