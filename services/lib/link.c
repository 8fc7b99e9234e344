/* link.c: a connecting socket's connection state from its monitor events (link.h).
 *
 * libzmq sends each monitor event as two frames on an inproc PAIR: 6 bytes (the event as a
 * native uint16, a uint32 value) and the endpoint it concerns. Endpoints are kept in a small
 * table, up from HANDSHAKE_SUCCEEDED to DISCONNECTED; MONITOR_STOPPED (the socket closed) takes
 * them all down. The PAIR is read only with ZMQ_DONTWAIT, on the caller's thread. */
#include "newswire/link.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define LINK_EPS 8
#define LINK_EP_MAX 256

#define LINK_EVENTS                                                                                \
    (ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |    \
     ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |                  \
     ZMQ_EVENT_MONITOR_STOPPED)

struct nw_link {
    void *socket;
    void *pair;
    const char *peer;
    struct {
        char ep[LINK_EP_MAX];
        int up;
    } eps[LINK_EPS];
    char failure[LINK_EP_MAX + 128]; /* the last handshake failure, until a handshake succeeds */
    char why[LINK_EP_MAX + 256];
};

static int
slot_of(nw_link_t *l, const char *ep)
{
    int free_slot = -1;
    for (int i = 0; i < LINK_EPS; i++) {
        if (l->eps[i].ep[0] && strcmp(l->eps[i].ep, ep) == 0)
            return i;
        if (!l->eps[i].ep[0] && free_slot < 0)
            free_slot = i;
    }
    /* More endpoints than slots cannot happen with the few brokers a client names; reuse the
     * first slot that is down rather than lose the event. */
    for (int i = 0; free_slot < 0 && i < LINK_EPS; i++)
        if (!l->eps[i].up)
            free_slot = i;
    if (free_slot >= 0)
        snprintf(l->eps[free_slot].ep, sizeof l->eps[free_slot].ep, "%s", ep);
    return free_slot;
}

static void
on_event(nw_link_t *l, uint16_t event, uint32_t value, const char *ep)
{
    int i = event == ZMQ_EVENT_MONITOR_STOPPED ? -1 : slot_of(l, ep);
    switch (event) {
    case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
        if (i >= 0)
            l->eps[i].up = 1;
        l->failure[0] = 0;
        break;
    case ZMQ_EVENT_DISCONNECTED:
        if (i >= 0)
            l->eps[i].up = 0;
        break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        snprintf(l->failure, sizeof l->failure, "the %s at %s refused our CURVE key (ZAP %u)",
                 l->peer, ep, value);
        break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        snprintf(l->failure, sizeof l->failure,
                 "the handshake with the %s at %s failed (wrong CURVE server key?)", l->peer, ep);
        break;
    case ZMQ_EVENT_MONITOR_STOPPED:
        for (int k = 0; k < LINK_EPS; k++)
            l->eps[k].up = 0;
        break;
    default:
        break;
    }
}

void
nw_link_update(nw_link_t *l)
{
    if (l == NULL)
        return;
    /* Bounded so that a flood of events (a peer failing handshakes in a tight reconnect
     * loop) cannot hold the caller; what is left is read next time. */
    for (int n = 0; n < 1000; n++) {
        zmq_msg_t head, addr;
        zmq_msg_init(&head);
        if (zmq_msg_recv(&head, l->pair, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&head);
            return;
        }
        zmq_msg_init(&addr);
        int more = zmq_msg_more(&head);
        if (more && zmq_msg_recv(&addr, l->pair, ZMQ_DONTWAIT) >= 0 && zmq_msg_size(&head) == 6) {
            const uint8_t *d = zmq_msg_data(&head);
            uint16_t event;
            uint32_t value;
            memcpy(&event, d, sizeof event);
            memcpy(&value, d + 2, sizeof value);
            char ep[LINK_EP_MAX];
            size_t len = zmq_msg_size(&addr) < sizeof ep - 1 ? zmq_msg_size(&addr) : sizeof ep - 1;
            memcpy(ep, zmq_msg_data(&addr), len);
            ep[len] = 0;
            on_event(l, event, value, ep);
        }
        zmq_msg_close(&head);
        zmq_msg_close(&addr);
    }
}

int
nw_link_up(nw_link_t *l)
{
    for (int i = 0; l && i < LINK_EPS; i++)
        if (l->eps[i].up)
            return 1;
    return 0;
}

const char *
nw_link_ready(void *arg)
{
    nw_link_t *l = arg;
    if (l == NULL)
        return "not set up";
    nw_link_update(l);
    if (nw_link_up(l))
        return NULL;
    if (l->failure[0])
        return l->failure;
    snprintf(l->why, sizeof l->why, "no connection to the %s", l->peer);
    return l->why;
}

nw_link_t *
nw_link_new(void *zctx, void *socket, const char *peer, int heartbeat_ms, int timeout_ms)
{
    static unsigned serial;
    nw_link_t *l = calloc(1, sizeof *l);
    char ep[64];
    int linger = 0, err = 0;
    if (l == NULL)
        return NULL;
    l->socket = socket;
    l->peer = peer;
    snprintf(ep, sizeof ep, "inproc://nw-link-%u-%p", serial++, (void *)l);
    if (heartbeat_ms > 0 &&
        (zmq_setsockopt(socket, ZMQ_HEARTBEAT_IVL, &heartbeat_ms, sizeof heartbeat_ms) < 0 ||
         zmq_setsockopt(socket, ZMQ_HEARTBEAT_TIMEOUT, &timeout_ms, sizeof timeout_ms) < 0))
        goto err;
    if (zmq_socket_monitor(socket, ep, LINK_EVENTS) < 0)
        goto err;
    /* The monitor's own PAIR binds ep; connecting ours completes the pair. */
    if ((l->pair = zmq_socket(zctx, ZMQ_PAIR)) == NULL ||
        zmq_setsockopt(l->pair, ZMQ_LINGER, &linger, sizeof linger) < 0 ||
        zmq_connect(l->pair, ep) < 0) {
        err = errno;
        zmq_socket_monitor(socket, NULL, 0);
        errno = err;
        goto err;
    }
    return l;
err:
    err = errno;
    if (l->pair)
        zmq_close(l->pair);
    free(l);
    errno = err;
    return NULL;
}

void
nw_link_destroy(nw_link_t **lp)
{
    nw_link_t *l = lp ? *lp : NULL;
    if (l == NULL)
        return;
    zmq_socket_monitor(l->socket, NULL, 0);
    zmq_close(l->pair);
    free(l);
    *lp = NULL;
}
