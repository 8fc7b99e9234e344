/* link.h: is a connecting ZeroMQ socket connected to its peer right now? For the readiness of
 * services that only send to the broker or only listen to it (fetch, the Kafka bridge), which
 * have no reply of their own to go by.
 *
 * A link watches the socket's monitor events (zmq_socket_monitor): a peer counts as connected
 * from the end of its ZMTP handshake (CURVE included: a broker that refuses our key never
 * counts) until the connection closes. nw_link_new also turns on ZMTP heartbeats
 * (ZMQ_HEARTBEAT_IVL/TIMEOUT, answered by the peer's I/O thread), so a peer host that vanished
 * without closing the connection is noticed after timeout_ms instead of never. Several
 * endpoints (a primary and a backup broker) are tracked apart; the link is up while any is.
 *
 *   void *s = zmq_socket(zctx, ZMQ_SUB);
 *   nw_link_t *link = nw_link_new(zctx, s, "broker", 1000, 3000);   // before zmq_connect
 *   zmq_connect(s, ep);
 *   nw_service_add_ready(svc, "broker", nw_link_ready, link);
 *   ...
 *   nw_link_destroy(&link);   // before zmq_close(s)
 *
 * The events are read without blocking whenever nw_link_update or nw_link_ready runs, so a
 * link needs no handle on the loop; call nw_link_update from a periodic timer as well, so the
 * monitor's queue never fills (libzmq drops events past its high-water mark, which could lose
 * a disconnect). */
#ifndef NW_LINK_H
#define NW_LINK_H

typedef struct nw_link nw_link_t;

/* Watch socket (not yet connected: a connection made before the monitor starts is never
 * reported) in zctx; peer names it in reasons ("no connection to the broker"). heartbeat_ms
 * and timeout_ms set the ZMTP heartbeat (0: leave it off). Borrows socket and peer for the
 * link's lifetime. Returns NULL (with errno) when the monitor cannot be set up. */
nw_link_t *nw_link_new(void *zctx, void *socket, const char *peer, int heartbeat_ms,
                       int timeout_ms);

/* Read the events that arrived since the last call. Never blocks. */
void nw_link_update(nw_link_t *link);

/* 1 while some peer is connected (after nw_link_update). */
int nw_link_up(nw_link_t *link);

/* A readiness condition (service.h's nw_service_ready_cb; arg is the link): updates, then
 * NULL when connected, else why not ("no connection to the broker at tcp://...", "the broker
 * refused our CURVE key"). The string lives until the next call. */
const char *nw_link_ready(void *arg);

/* Stop the monitor and free. Call while the watched socket is still open. NULL-safe; nulls
 * the caller's pointer. */
void nw_link_destroy(nw_link_t **link);

#endif
