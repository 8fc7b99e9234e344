/* sub.c: the topic hub's subscriber socket (see sub.h). */
#include "newswire/sub.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <zmq.h>

#include "newswire/curve.h"
#include "newswire/stage.h"
#include "newswire/zsock.h"

void *
nw_sub_socket(void *zctx, const char *broker, const char *const *topics, size_t n, int rcvhwm,
              char *err, size_t errlen)
{
    void *s = NULL;
    int linger = 0;
    if (nw_ep_list_check(broker, NW_EP_PUB_OUT) < 0) {
        snprintf(err, errlen, "bad broker endpoint \"%s\"", broker);
        return NULL;
    }
    /* No linger: a subscriber sends nothing that must get out. */
    if ((s = zmq_socket(zctx, ZMQ_SUB)) == NULL ||
        zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger) < 0 ||
        (rcvhwm > 0 && zmq_setsockopt(s, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm) < 0)) {
        snprintf(err, errlen, "cannot create a zeromq socket: %s", zmq_strerror(zmq_errno()));
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        if (zmq_setsockopt(s, ZMQ_SUBSCRIBE, topics[i], strlen(topics[i])) < 0) {
            snprintf(err, errlen, "cannot subscribe to \"%s\": %s", topics[i],
                     zmq_strerror(zmq_errno()));
            goto fail;
        }
    }
    if (nw_zsock_limit(s) < 0 || nw_curve_client(s) < 0) {
        snprintf(err, errlen, "cannot set up a zeromq socket: %s", zmq_strerror(zmq_errno()));
        goto fail;
    }
    return s;
fail:
    if (s)
        zmq_close(s);
    return NULL;
}

int
nw_sub_connect(void *s, const char *broker, char *err, size_t errlen)
{
    char ep[NW_EP_MAX] = "", base[NW_EP_MAX];
    /* A broker pair: both hubs, since only the active one forwards (stage.h). */
    for (size_t i = 0; i < nw_ep_list_count(broker); i++) {
        nw_ep_list_entry(broker, i, base, sizeof base);
        nw_ep_derive(base, NW_EP_PUB_OUT, ep, sizeof ep);
        if (zmq_connect(s, ep) < 0) {
            snprintf(err, errlen, "cannot connect to \"%s\": %s", ep, zmq_strerror(zmq_errno()));
            return -EINVAL;
        }
    }
    return 0;
}

void *
nw_sub_open(void *zctx, const char *broker, const char *const *topics, size_t n, int rcvhwm,
            char *err, size_t errlen)
{
    void *s = nw_sub_socket(zctx, broker, topics, n, rcvhwm, err, errlen);
    if (s && nw_sub_connect(s, broker, err, errlen) < 0) {
        zmq_close(s);
        s = NULL;
    }
    return s;
}
