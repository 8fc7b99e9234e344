/* sub.h: a subscriber to the broker's topic hub (its pub.out endpoint), set up the one way
 * newswire-query and `newswire tail` both need: a ZeroMQ SUB socket with no linger, an optional
 * receive high-water mark, the process-wide frame limit (zsock.h), one subscription per topic
 * prefix, CURVE when configured (curve.h), connected. Topics match by prefix, as ZeroMQ does. */
#ifndef NW_SUB_H
#define NW_SUB_H

#include <stddef.h>

/* Open a SUB socket in zctx subscribed to topics[0..n) and connected to the pub.out endpoint
 * derived from the broker base endpoint (from each of them, for a list naming a broker pair:
 * only the active hub forwards). rcvhwm > 0 sets ZMQ_RCVHWM (0: ZeroMQ's default).
 * Returns the socket (caller zmq_close()s it, or hands it to nw_zsock_new) or NULL with a
 * message for people in err: "bad broker endpoint \"x\"", "cannot subscribe to \"t\": ...",
 * "cannot connect to \"ep\": ...". Borrows everything until return. */
void *nw_sub_open(void *zctx, const char *broker, const char *const *topics, size_t n, int rcvhwm,
                  char *err, size_t errlen);
/* nw_sub_open in two steps, for a caller that must set the socket up before it connects (a
 * monitor, link.h, sees only connections made after it started): the socket, subscribed and
 * not connected, or NULL with err; then the connection to every broker of the list, 0 or
 * -EINVAL with err (the socket stays the caller's either way). */
void *nw_sub_socket(void *zctx, const char *broker, const char *const *topics, size_t n, int rcvhwm,
                    char *err, size_t errlen);
int nw_sub_connect(void *s, const char *broker, char *err, size_t errlen);

#endif
