/* zsock.c: one ZeroMQ socket driven by one libuv loop (see zsock.h).
 *
 * ZMQ_FD only says "ZMQ_EVENTS may have changed", and only once per change (edge), while
 * uv_poll reports level. So the poll handle watches UV_READABLE and every wake-up runs
 * process(): read ZMQ_EVENTS (which also drains the signaller), receive while ZMQ_POLLIN holds
 * up to BATCH_MAX messages, fire a pending writable callback on ZMQ_POLLOUT. Work that must
 * continue without a new edge (batch cap hit, a send that may have eaten the edge, resume,
 * a writable request) is scheduled on the idle handle, which runs process() on the next loop
 * iteration and stops itself when there is nothing left to do. */
#include "newswire/zsock.h"
#include "newswire/log.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>

/* Messages received per wake-up before yielding to the rest of the loop. */
#define BATCH_MAX 256
/* Upper bound on ZMQ_LINGER so closing a socket never hangs zmq_ctx_term for long. */
#define LINGER_MAX_MS 1000

struct nw_zsock {
    uv_loop_t *loop;
    void *sock;
    uv_poll_t poll;
    uv_idle_t idle;
    nw_zsock_recv_cb recv_cb;
    void *arg;
    nw_zsock_writable_cb writable_cb;
    nw_zsock_close_cb close_cb;
    void *close_arg;
    int paused;
    int closing;
    int broken; /* ZMQ_EVENTS failed (context terminated): stop polling for good */
    int handles_open;
    nw_zsock_stats_t stats;
};

static void on_idle(uv_idle_t *h);

/* Run process() on the next loop iteration. */
static void
schedule(nw_zsock_t *zs)
{
    if (!zs->closing && !zs->broken)
        uv_idle_start(&zs->idle, on_idle);
}

/* Receive one whole multipart message and hand it to the callback. Returns 1 when a message
 * was consumed, 0 when none was waiting, -1 on a socket error. */
static int
recv_one(nw_zsock_t *zs)
{
    zmq_msg_t frames[NW_ZSOCK_MAX_FRAMES];
    size_t n = 0;
    int more = 1, oversized = 0, rc = 1;

    while (more) {
        zmq_msg_t *m = n < NW_ZSOCK_MAX_FRAMES ? &frames[n] : NULL;
        zmq_msg_t spill;
        if (!m) {
            m = &spill;
            oversized = 1;
        }
        zmq_msg_init(m);
        /* Only the first frame can be missing; the rest of a multipart message arrives
         * atomically with it, so DONTWAIT never splits a message. */
        if (zmq_msg_recv(m, zs->sock, ZMQ_DONTWAIT) < 0) {
            int err = errno;
            zmq_msg_close(m);
            if (err == EINTR)
                continue;
            rc = (err == EAGAIN && n == 0) ? 0 : -1;
            if (rc < 0)
                NW_WARN(NULL, "zmq receive failed err=\"%s\"", zmq_strerror(err));
            goto out;
        }
        more = zmq_msg_more(m);
        if (m == &spill)
            zmq_msg_close(m);
        else
            n++;
    }
    if (oversized) {
        zs->stats.dropped_oversized++;
        goto out;
    }
    zs->stats.received++;
    if (zs->recv_cb)
        zs->recv_cb(zs, frames, n, zs->arg);
out:
    for (size_t i = 0; i < n; i++)
        zmq_msg_close(&frames[i]);
    return rc;
}

/* Drain what ZeroMQ has for us, up to the batch cap. Leaves the idle handle running only
 * when the cap cut the batch short. */
static void
process(nw_zsock_t *zs)
{
    int budget = BATCH_MAX;

    while (!zs->closing && !zs->broken) {
        int events = 0;
        size_t sz = sizeof events;
        if (zmq_getsockopt(zs->sock, ZMQ_EVENTS, &events, &sz) < 0) {
            if (errno == EINTR)
                continue;
            NW_WARN(NULL, "zmq events failed err=\"%s\"", zmq_strerror(errno));
            zs->broken = 1;
            uv_poll_stop(&zs->poll);
            break;
        }
        if ((events & ZMQ_POLLOUT) && zs->writable_cb) {
            nw_zsock_writable_cb cb = zs->writable_cb;
            zs->writable_cb = NULL;
            cb(zs, zs->arg);
            if (budget-- == 0) {
                schedule(zs);
                return;
            }
            continue; /* the callback may have sent: read ZMQ_EVENTS again */
        }
        if (!(events & ZMQ_POLLIN) || zs->paused || !zs->recv_cb)
            break;
        if (budget-- == 0) {
            schedule(zs);
            return;
        }
        if (recv_one(zs) <= 0)
            break; /* nothing after all, or an error: wait for the next edge */
    }
    if (!zs->closing)
        uv_idle_stop(&zs->idle);
}

static void
on_poll(uv_poll_t *h, int status, int events)
{
    (void)events;
    nw_zsock_t *zs = h->data;
    if (status < 0)
        NW_WARN(NULL, "zmq fd poll failed err=\"%s\"", uv_strerror(status));
    process(zs);
}

static void
on_idle(uv_idle_t *h)
{
    process(h->data);
}

static int64_t max_msg = NW_ZSOCK_MAX_MSG_DEFAULT;

void
nw_zsock_set_max_msg(int64_t bytes)
{
    max_msg = bytes > 0 ? bytes : NW_ZSOCK_MAX_MSG_DEFAULT;
}

int64_t
nw_zsock_max_msg(void)
{
    return max_msg;
}

int
nw_zsock_limit(void *socket)
{
    return zmq_setsockopt(socket, ZMQ_MAXMSGSIZE, &max_msg, sizeof max_msg) < 0 ? -zmq_errno() : 0;
}

nw_zsock_t *
nw_zsock_new(uv_loop_t *loop, void *socket, nw_zsock_recv_cb recv_cb, void *arg)
{
    nw_zsock_t *zs = NULL;
    int fd = -1, linger = 0;
    size_t sz = sizeof fd;

    assert(loop && socket);
    if (zmq_getsockopt(socket, ZMQ_FD, &fd, &sz) < 0)
        goto err;
    sz = sizeof linger;
    if (zmq_getsockopt(socket, ZMQ_LINGER, &linger, &sz) < 0)
        goto err;
    if (linger < 0 || linger > LINGER_MAX_MS) {
        linger = LINGER_MAX_MS;
        if (zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof linger) < 0)
            goto err;
    }
    /* A socket made without nw_zsock_limit: bound at least its later connections. */
    int64_t limit = -1;
    sz = sizeof limit;
    if (zmq_getsockopt(socket, ZMQ_MAXMSGSIZE, &limit, &sz) < 0 ||
        (limit < 0 && nw_zsock_limit(socket) < 0))
        goto err;
    zs = calloc(1, sizeof *zs);
    if (!zs)
        goto err;
    zs->loop = loop;
    zs->sock = socket;
    zs->recv_cb = recv_cb;
    zs->arg = arg;
    if (uv_poll_init(loop, &zs->poll, fd) < 0)
        goto err;
    /* From here on the handle is registered with the loop and can only go away through
     * uv_close, so later failures cannot happen: idle init does not fail. */
    uv_idle_init(loop, &zs->idle);
    zs->poll.data = zs;
    zs->idle.data = zs;
    zs->handles_open = 2;
    uv_poll_start(&zs->poll, UV_READABLE, on_poll);
    /* Messages may already be waiting and their edge may be gone: look once. */
    schedule(zs);
    return zs;
err:
    free(zs);
    return NULL;
}

int
nw_zsock_sendv(nw_zsock_t *zs, const void *const *bufs, const size_t *lens, size_t n)
{
    assert(n > 0);
    return nw_zsock_sendv_msg(zs, bufs, lens, n, NULL);
}

int
nw_zsock_sendv_msg(nw_zsock_t *zs, const void *const *bufs, const size_t *lens, size_t n,
                   zmq_msg_t *last)
{
    int rc = 0;

    assert(zs && (n > 0 || last));
    if (zs->closing || zs->broken)
        return -EPIPE;
    for (size_t i = 0; i < n; i++) {
        int flags = ZMQ_DONTWAIT | (i + 1 < n || last ? ZMQ_SNDMORE : 0);
        while (zmq_send(zs->sock, bufs[i], lens[i], flags) < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            /* ZeroMQ accepts or refuses a multipart message at its first frame, so a
             * later failure means the socket is broken, not full. */
            assert(i == 0 || rc != -EAGAIN);
            goto out;
        }
    }
    /* zmq_msg_send hands the message's buffer itself to the connection (reference counted
     * when shared by zmq_msg_copy): the payload is not copied in user space. On failure the
     * message is left as it was. */
    while (last && zmq_msg_send(last, zs->sock, ZMQ_DONTWAIT) < 0) {
        if (errno == EINTR)
            continue;
        rc = -errno;
        assert(n == 0 || rc != -EAGAIN);
        goto out;
    }
    zs->stats.sent++;
out:
    if (rc == -EAGAIN)
        zs->stats.would_block++;
    /* The send processed ZeroMQ's command pipe and may have consumed the ZMQ_FD edge of a
     * message that arrived meanwhile: look at ZMQ_EVENTS again soon. */
    schedule(zs);
    return rc;
}

void
nw_zsock_notify_writable(nw_zsock_t *zs, nw_zsock_writable_cb cb)
{
    assert(zs);
    zs->writable_cb = cb;
    /* It may be writable already, and then no edge will come. */
    schedule(zs);
}

void
nw_zsock_pause(nw_zsock_t *zs)
{
    assert(zs);
    zs->paused = 1;
}

void
nw_zsock_resume(nw_zsock_t *zs)
{
    assert(zs);
    if (!zs->paused)
        return;
    zs->paused = 0;
    /* Messages queued while paused announced themselves long ago. */
    schedule(zs);
}

static void
on_handle_closed(uv_handle_t *h)
{
    nw_zsock_t *zs = h->data;
    if (--zs->handles_open > 0)
        return;
    /* Only now is nobody polling ZMQ_FD, so the socket (and its fd) may go. */
    zmq_close(zs->sock);
    if (zs->close_cb)
        zs->close_cb(zs, zs->close_arg);
    free(zs);
}

void
nw_zsock_close(nw_zsock_t *zs, nw_zsock_close_cb cb, void *arg)
{
    if (!zs)
        return;
    assert(!zs->closing);
    zs->closing = 1;
    zs->close_cb = cb;
    zs->close_arg = arg;
    zs->writable_cb = NULL;
    uv_poll_stop(&zs->poll);
    uv_idle_stop(&zs->idle);
    uv_close((uv_handle_t *)&zs->poll, on_handle_closed);
    uv_close((uv_handle_t *)&zs->idle, on_handle_closed);
}

void
nw_zsock_stats(const nw_zsock_t *zs, nw_zsock_stats_t *out)
{
    assert(zs && out);
    *out = zs->stats;
}
