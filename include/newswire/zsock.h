/* zsock.h: the libuv <-> ZeroMQ bridge. One ZeroMQ socket driven by one uv loop.
 *
 * ZMQ_FD is edge-triggered while libuv polls level-triggered, so the bridge watches only
 * readability of ZMQ_FD, and on every wake-up reads ZMQ_EVENTS and receives with ZMQ_DONTWAIT
 * while ZMQ_POLLIN holds, in capped batches (continuing from an idle handle when the cap is
 * hit, so one busy socket cannot starve the loop). After every send it re-checks ZMQ_EVENTS,
 * because a send can consume the edge that announced an incoming message. It never reads or
 * closes ZMQ_FD; it stops and closes the poll handle before zmq_close; linger is bounded. */
#ifndef NW_ZSOCK_H
#define NW_ZSOCK_H

#include <stddef.h>
#include <uv.h>
#include <zmq.h>

#define NW_ZSOCK_MAX_FRAMES 8

/* The largest frame any newswire socket accepts by default (ZMQ_MAXMSGSIZE, checked per frame
 * by libzmq before it allocates; a peer that sends more is disconnected). The largest honest
 * frame is a raw message with fetch's max-body (16 MiB by default) plus its headers, or the
 * enriched article made from it. */
#define NW_ZSOCK_MAX_MSG_DEFAULT ((int64_t)64 * 1024 * 1024)

typedef struct nw_zsock nw_zsock_t;

/* A received multipart message: frames[0..n) are valid only until the callback returns. The
 * callback may keep a frame by moving it out (zmq_msg_init + zmq_msg_move): the bridge closes
 * what is left, and an emptied frame closes as a no-op. */
typedef void (*nw_zsock_recv_cb)(nw_zsock_t *zs, zmq_msg_t *frames, size_t n, void *arg);
/* Called (once per request) when the socket can take a send again after -EAGAIN. */
typedef void (*nw_zsock_writable_cb)(nw_zsock_t *zs, void *arg);
typedef void (*nw_zsock_close_cb)(nw_zsock_t *zs, void *arg);

/* Set the process-wide frame limit applied by nw_zsock_limit (bytes; 0 restores the default).
 * Call at start-up, before any socket is made; the broker's --max-msg sets it. */
void nw_zsock_set_max_msg(int64_t bytes);
int64_t nw_zsock_max_msg(void);

/* Set ZMQ_MAXMSGSIZE on a new socket to the process-wide limit. It must run before the
 * socket's bind or connect (libzmq copies options into each connection as it is made), so
 * every place that makes a socket calls it; nw_zsock_new also sets it on a socket that still
 * has no limit, for connections made afterwards. Returns 0 or -errno. */
int nw_zsock_limit(void *socket);

/* Wrap an existing ZeroMQ socket (takes ownership: closed by nw_zsock_close). recv_cb may be
 * NULL for send-only sockets. Messages with more than NW_ZSOCK_MAX_FRAMES frames are dropped
 * and counted. An infinite or longer ZMQ_LINGER is capped at 1000 ms. Callbacks may send,
 * pause, resume or close this socket. Returns NULL on error (socket left open for the
 * caller). */
nw_zsock_t *nw_zsock_new(uv_loop_t *loop, void *socket, nw_zsock_recv_cb recv_cb, void *arg);

/* Send n frames (n >= 1) as one message. Returns 0, -EAGAIN when the socket would block
 * (high-water mark; then call nw_zsock_notify_writable), -EPIPE once closing, or another
 * negative errno (e.g. -EHOSTUNREACH from a ROUTER_MANDATORY socket). Never blocks. Borrows
 * the buffers. */
int nw_zsock_sendv(nw_zsock_t *zs, const void *const *bufs, const size_t *lens, size_t n);

/* nw_zsock_sendv with one more frame at the end, *last, sent as ZeroMQ's own message so that its
 * bytes are not copied (n may be 0; last may be NULL). On success *last is consumed (left empty,
 * close it as usual); on failure it is unchanged and still the caller's. Returns as
 * nw_zsock_sendv. To send a message that must also be kept (a job the broker may requeue), send
 * a zmq_msg_copy of it: that shares the buffer by reference count. */
int nw_zsock_sendv_msg(nw_zsock_t *zs, const void *const *bufs, const size_t *lens, size_t n,
                       zmq_msg_t *last);

/* Ask for one writable callback when the socket can send again (replaces an earlier request;
 * fires from the loop, never inside this call). */
void nw_zsock_notify_writable(nw_zsock_t *zs, nw_zsock_writable_cb cb);

/* Stop / resume delivering received messages (backpressure). Messages stay queued in ZeroMQ,
 * whose high-water mark then pushes back on the sender. */
void nw_zsock_pause(nw_zsock_t *zs);
void nw_zsock_resume(nw_zsock_t *zs);

/* Stop polling, close the uv handles, then the ZeroMQ socket, then free; cb (may be NULL)
 * runs from the loop after everything is released, never inside this call. NULL-safe; call
 * at most once per socket. */
void nw_zsock_close(nw_zsock_t *zs, nw_zsock_close_cb cb, void *arg);

/* Counters for tests and /metrics. */
typedef struct nw_zsock_stats {
    unsigned long long received, sent, would_block, dropped_oversized;
} nw_zsock_stats_t;
void nw_zsock_stats(const nw_zsock_t *zs, nw_zsock_stats_t *out);

#endif
