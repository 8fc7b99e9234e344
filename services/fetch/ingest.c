/* ingest.c: the ZeroMQ source, a ROUTER socket bound at `ingest`. Programs that already speak
 * ZeroMQ send [content_type][body] or [content_type][body][url] from a REQ (or a DEALER that
 * sends the empty delimiter frame itself) and get [status][json] back, the same statuses and
 * JSON as the HTTP API. The protocol is documented in proto/ingest.md.
 *
 * A request is answered once its article is durable in the spool (after the group's fsync, a
 * few milliseconds) or at once when it is refused: a full broker queue or spool, or a spool
 * that cannot be written, gives "503" (retry later), never a held request, so what waits here
 * is bounded by what one fsync covers. Frames beyond max-body get "413"; a frame far
 * beyond it (ZMQ_MAXMSGSIZE, twice max-body) makes ZeroMQ drop the connection before the bytes
 * are buffered, which is what bounds this socket's memory. */
#include "fetch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "newswire/curve.h"
#include "newswire/log.h"
#include "newswire/util.h"
#include "newswire/zsock.h"

struct fetch_ingest {
    nw_zsock_t *zs;
    fetch_accept_t *a;
    void (*close_cb)(void *arg);
    void *close_arg;
};

/* The routing envelope of a request, copied so the reply can follow the fsync. */
struct waiting_req {
    fetch_ingest_t *in;
    size_t n_env;
    size_t lens[2];
    uint8_t *env[2];
};

/* Send [envelope...][status][json]. ROUTER never blocks: a reply to a peer that is gone or
 * past its high-water mark is dropped by ZeroMQ, which is what a REQ peer expects anyway. */
static void
reply(fetch_ingest_t *in, const void *const *env, const size_t *env_lens, size_t n_env,
      const fetch_result_t *res)
{
    const void *bufs[NW_ZSOCK_MAX_FRAMES];
    size_t lens[NW_ZSOCK_MAX_FRAMES];
    char status[8];
    char *json = fetch_result_json(res);
    const char *body = json ? json : "{\"error\":\"internal\",\"message\":\"out of memory\"}";
    snprintf(status, sizeof status, "%d", json ? res->status : 500);
    size_t n = 0;
    for (; n < n_env; n++) {
        bufs[n] = env[n];
        lens[n] = env_lens[n];
    }
    bufs[n] = status;
    lens[n++] = strlen(status);
    bufs[n] = body;
    lens[n++] = strlen(body);
    int rc = nw_zsock_sendv(in->zs, bufs, lens, n);
    if (rc < 0)
        NW_WARN(res->id[0] ? res->id : NULL, "ingest: reply not sent: %s", strerror(-rc));
    free(json);
}

static void
waiting_free(struct waiting_req *w)
{
    if (w == NULL)
        return;
    for (size_t i = 0; i < w->n_env; i++)
        free(w->env[i]);
    free(w);
}

static void
on_settled(const fetch_result_t *res, void *arg)
{
    struct waiting_req *w = arg;
    const void *env[2] = {w->env[0], w->env[1]};
    reply(w->in, env, w->lens, w->n_env, res);
    waiting_free(w);
}

/* Copy the envelope frames[0..n_env) (at most 2). NULL on ENOMEM. */
static struct waiting_req *
waiting_new(fetch_ingest_t *in, zmq_msg_t *frames, size_t n_env)
{
    struct waiting_req *w = calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    w->in = in;
    for (; w->n_env < n_env; w->n_env++) {
        size_t len = zmq_msg_size(&frames[w->n_env]);
        w->env[w->n_env] = malloc(len ? len : 1);
        if (w->env[w->n_env] == NULL) {
            waiting_free(w);
            return NULL;
        }
        memcpy(w->env[w->n_env], zmq_msg_data(&frames[w->n_env]), len);
        w->lens[w->n_env] = len;
    }
    return w;
}

/* A request with the wrong shape: the frames, concatenated, become the dead letter's bytes. */
static int
reject_malformed(fetch_ingest_t *in, zmq_msg_t *frames, size_t first, size_t n, fetch_result_t *res,
                 struct waiting_req *w)
{
    nw_buf_t all = {0};
    char msg[200];
    int k = snprintf(msg, sizeof msg, "expected 2 or 3 frames [content_type][body][url], got %zu",
                     n - first);
    for (size_t i = first; i < n && k > 0 && (size_t)k < sizeof msg; i++) {
        k += snprintf(msg + k, sizeof msg - (size_t)k, "%s%zu", i == first ? " of sizes " : ",",
                      zmq_msg_size(&frames[i]));
        if (nw_buf_append(&all, zmq_msg_data(&frames[i]), zmq_msg_size(&frames[i])) < 0)
            nw_buf_reset(&all); /* keep the verdict even when the copy fails */
    }
    int rc = fetch_accept_reject(in->a, "zmq", NULL, NULL, all.data, all.len, 400, "bad-request",
                                 msg, res, on_settled, w);
    nw_buf_release(&all);
    return rc;
}

static void
on_request(nw_zsock_t *zs, zmq_msg_t *frames, size_t n, void *arg)
{
    (void)zs;
    fetch_ingest_t *in = arg;
    fetch_result_t res = {0};
    char ct[256];
    char *url = NULL;
    int pending = 0;
    /* frames[0] is the peer's routing id. A REQ peer adds an empty delimiter; a DEALER may
     * not. A content type is never empty, so an empty frame 1 can only be the delimiter. */
    if (n < 1)
        return;
    size_t env = (n >= 2 && zmq_msg_size(&frames[1]) == 0) ? 2 : 1;
    size_t args = n - env;
    struct waiting_req *w = waiting_new(in, frames, env);
    if (w == NULL) {
        res.outcome = FETCH_FAILED;
        res.status = 500;
        res.reason = "internal";
        snprintf(res.message, sizeof res.message, "out of memory");
        goto answer;
    }
    if (args != 2 && args != 3) {
        pending = reject_malformed(in, frames, env, n, &res, w);
        goto answer;
    }
    size_t ctlen = zmq_msg_size(&frames[env]);
    if (ctlen >= sizeof ct)
        ctlen = sizeof ct - 1; /* no real content type is this long; it is refused below */
    memcpy(ct, zmq_msg_data(&frames[env]), ctlen);
    ct[ctlen] = 0;
    if (args == 3 && zmq_msg_size(&frames[env + 2]) > 0) {
        const char *u = zmq_msg_data(&frames[env + 2]);
        size_t ulen = zmq_msg_size(&frames[env + 2]);
        if (memchr(u, 0, ulen)) {
            pending = fetch_accept_reject(in->a, "zmq", ct, NULL, zmq_msg_data(&frames[env + 1]),
                                          zmq_msg_size(&frames[env + 1]), 400, "bad-url",
                                          "the url frame contains a NUL byte", &res, on_settled, w);
            goto answer;
        }
        url = nw_strndup(u, ulen);
        if (url == NULL) {
            res.outcome = FETCH_FAILED;
            res.status = 500;
            res.reason = "internal";
            snprintf(res.message, sizeof res.message, "out of memory");
            goto answer;
        }
    }
    fetch_item_t item = {
        .source = "zmq",
        .content_type = ct,
        .body = zmq_msg_data(&frames[env + 1]),
        .len = zmq_msg_size(&frames[env + 1]),
        .url = url,
    };
    pending = fetch_accept_submit(in->a, &item, &res, on_settled, w);
answer:
    if (pending != FETCH_PENDING) {
        const void *ebufs[2] = {zmq_msg_data(&frames[0]), env > 1 ? zmq_msg_data(&frames[1]) : ""};
        size_t elens[2] = {zmq_msg_size(&frames[0]), env > 1 ? zmq_msg_size(&frames[1]) : 0};
        reply(in, ebufs, elens, env, &res);
        waiting_free(w);
    }
    free(url);
}

fetch_ingest_t *
fetch_ingest_new(uv_loop_t *loop, void *zctx, const char *endpoint, fetch_accept_t *a, char *err,
                 size_t errlen)
{
    fetch_ingest_t *in = calloc(1, sizeof *in);
    void *s = NULL;
    if (in == NULL)
        return NULL;
    in->a = a;
    s = zmq_socket(zctx, ZMQ_ROUTER);
    if (s == NULL) {
        snprintf(err, errlen, "cannot create socket: %s", zmq_strerror(zmq_errno()));
        goto err;
    }
    int64_t maxmsg = (int64_t)a->max_body * 2;
    int linger = 1000;
    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    if (nw_curve_server_as(s, "ingest") < 0 || zmq_bind(s, endpoint) < 0) {
        snprintf(err, errlen, "cannot bind \"%s\": %s", endpoint, zmq_strerror(zmq_errno()));
        goto err;
    }
    in->zs = nw_zsock_new(loop, s, on_request, in);
    if (in->zs == NULL) {
        snprintf(err, errlen, "cannot watch \"%s\"", endpoint);
        goto err;
    }
    NW_INFO(NULL, "ingest: listening on \"%s\"", endpoint);
    return in;
err:
    if (s)
        zmq_close(s);
    free(in);
    return NULL;
}

static void
on_closed(nw_zsock_t *zs, void *arg)
{
    (void)zs;
    fetch_ingest_t *in = arg;
    void (*cb)(void *) = in->close_cb;
    void *cb_arg = in->close_arg;
    free(in);
    if (cb)
        cb(cb_arg);
}

void
fetch_ingest_close(fetch_ingest_t *in, void (*cb)(void *arg), void *arg)
{
    if (in == NULL)
        return;
    in->close_cb = cb;
    in->close_arg = arg;
    nw_zsock_close(in->zs, on_closed, in);
}
