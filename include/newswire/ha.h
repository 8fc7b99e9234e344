/* ha.h: a broker pair, primary and backup, so losing one broker does not stop the pipeline.
 * The design is the ZeroMQ guide's Binary Star, adapted to a broker with many sockets:
 *
 *   - Each broker of the pair binds one more endpoint, ha (base + 8, stage.h), a ROUTER. Each
 *     sends its state to the other's every heartbeat (a DEALER connected to the peer's ha):
 *       ["PEER", state, role]      state "starting" | "active" | "passive", role "primary" |
 *                                  "backup"
 *     and a peer not heard for two heartbeats counts as gone.
 *   - Clients (brokers.h) ask both brokers every heartbeat which one is active:
 *       ["PING", need]             need "1" once the client has had no active broker for two
 *                                  heartbeats, else "0"
 *       answer ["STATE", state, heartbeat_ms]
 *     and use the active one. Only an active broker serves: a passive one reads none of its
 *     stage queues, registers no worker and forwards no publication.
 *
 * The rules (nw_ha_fsm_*), which keep two brokers from both serving:
 *   1. The peer heard active: a starting broker becomes passive; an active backup steps down
 *      to passive (two actives after a broken link between them heals: the primary stays).
 *   2. The peer heard starting or passive: the primary becomes active; a starting backup
 *      becomes passive. So two brokers that see each other always end with the primary
 *      active, unless the backup is already active (then the primary comes back passive).
 *   3. A client that needs a broker ("PING" "1") makes a broker active only if its peer is
 *      gone (not heard for two heartbeats, or, for the primary, never since start). This is
 *      Binary Star's rule against split brain: a backup that merely lost sight of the primary
 *      stays passive until a client has lost it too, and a client that alone lost the primary
 *      finds the backup passive (it sees the primary) and keeps looking. A backup that has
 *      never heard the primary since it started never serves (as Binary Star's): it cannot
 *      tell a primary that is down from a link that is, and clients asking both would make
 *      two actives; so start the primary first, or a backup waits for it.
 *   A broker never changes state because time passed: only by what it hears.
 *
 * Both brokers must run with the same --heartbeat. With CURVE both hold the same broker key
 * pair (clients trust one server key); the peer link is CURVE too, and the broker's ZAP
 * handler admits its own public key, as role "broker", on the ha socket only. */
#ifndef NW_HA_H
#define NW_HA_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef enum { NW_HA_STARTING = 0, NW_HA_ACTIVE, NW_HA_PASSIVE } nw_ha_state_t;

/* "starting", "active", "passive". */
const char *nw_ha_state_name(nw_ha_state_t s);
/* The state named by s[0..n), or -1. */
int nw_ha_state_parse(const void *s, size_t n);

/* The decision rules above, apart from sockets and clocks (times in ms, any monotonic
 * origin). Plain value struct: the fields are for reading. */
typedef struct nw_ha_fsm {
    int backup;
    nw_ha_state_t state;
    nw_ha_state_t peer;   /* last state heard from the peer */
    int peer_heard;       /* the peer was heard since start */
    uint64_t peer_expiry; /* from then on the peer counts as gone */
    uint64_t expiry_ms;   /* two heartbeats */
} nw_ha_fsm_t;

/* Start in NW_HA_STARTING; the peer counts as gone two heartbeats from now unless heard. */
void nw_ha_fsm_init(nw_ha_fsm_t *f, int backup, unsigned heartbeat_ms, uint64_t now);
/* The peer said it is in state peer (rules 1 and 2). Returns the new state. */
nw_ha_state_t nw_ha_fsm_peer(nw_ha_fsm_t *f, nw_ha_state_t peer, uint64_t now);
/* A client with no active broker asked for one (rule 3). Returns the new state. */
nw_ha_state_t nw_ha_fsm_client(nw_ha_fsm_t *f, uint64_t now);
/* Is the peer gone (not heard for two heartbeats, or never since start)? */
int nw_ha_fsm_peer_gone(const nw_ha_fsm_t *f, uint64_t now);

/* One broker of a pair on a loop: the ha endpoint, the link to the peer, the rules. */
typedef struct nw_ha nw_ha_t;
/* The state changed (from a loop callback). */
typedef void (*nw_ha_change_cb)(nw_ha_t *ha, nw_ha_state_t from, nw_ha_state_t to, void *arg);

/* Bind the ha endpoint derived from bind_base and connect to the one derived from peer_base
 * (both base endpoints, borrowed), in the caller's ZeroMQ context (borrowed). backup: this is
 * the backup (else the primary). heartbeat_ms: the interval (the peer's must be the same).
 * roles: accept "PEER" only from the role "broker" (CURVE roles on). cb is called on every
 * change. Returns NULL after logging what failed. */
nw_ha_t *nw_ha_new(uv_loop_t *loop, void *zctx, const char *bind_base, const char *peer_base,
                   int backup, unsigned heartbeat_ms, int roles, nw_ha_change_cb cb, void *arg);
/* The current state. */
nw_ha_state_t nw_ha_state(const nw_ha_t *ha);
/* Close sockets and timer; cb (may be NULL) runs from the loop when all is released.
 * NULL-safe; at most once. */
void nw_ha_close(nw_ha_t *ha, void (*cb)(void *arg), void *arg);

#endif
