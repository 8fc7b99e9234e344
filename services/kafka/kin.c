/* kin.c: the IN half of newswire-kafka (see kafka.h): Kafka messages to fetch's ingest socket,
 * offsets committed only after fetch's durable answer.
 *
 * A Kafka message maps to an ingest request (proto/ingest.md) so:
 *   value                  -> body
 *   header "content-type"  -> content type (default text/plain; charset=utf-8)
 *   header "url", else the key when it starts with http:// or https:// -> URL (optional)
 * Headers rather than the key because the key is the producer's partitioning choice. */
#include "kafka.h"

#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>
#include <zmq.h>

#include "newswire/link.h"
#include "newswire/log.h"
#include "newswire/metrics.h"
#include "newswire/stage.h"
#include "newswire/util.h"

#define DEFAULT_TYPE "text/plain; charset=utf-8"
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define PER_TICK 64 /* messages handled per tick at most, so the loop stays responsive */

struct nw_kin {
    const nw_kin_cfg_t *cfg;
    void *zctx;
    rd_kafka_t *rk;
    uv_loop_t *loop;
    void *sock;      /* DEALER to fetch's ingest ROUTER */
    nw_link_t *link; /* is sock connected to fetch? (readiness) */
    uv_poll_t *poll; /* on sock's ZMQ_FD; on the heap, its close outlives a re-made socket */
    rd_kafka_message_t *cur; /* the message being handed over, or NULL */
    int sent;                /* cur's request is out, no answer yet */
    int64_t sent_at, retry_at;
    int64_t backoff;
    const char *problem;
    nw_metric_t *m_consumed, *m_committed, *m_refused, *m_retries, *m_failures;
};

static void
on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *offsets,
          void *opaque)
{
    (void)rk;
    nw_kin_t *in = opaque;
    if (err == RD_KAFKA_RESP_ERR__NO_OFFSET)
        return;
    if (err) {
        /* Not fatal: the message is read again after a restart, and fetch knows its id. */
        NW_WARN(NULL, "kafka offset commit failed: %s", rd_kafka_err2str(err));
        nw_metrics_add(in->m_failures, 1);
        return;
    }
    nw_metrics_add(in->m_committed, (uint64_t)offsets->cnt);
}

static void
on_poll_closed(uv_handle_t *h)
{
    free(h);
}

/* fetch's answer is here (or the edge was for something else: ticking finds out). ZMQ_FD is
 * edge-triggered; the tick reads until EAGAIN and reads again after every send, so no edge is
 * lost, and the timer ticks anyway. */
static void
on_readable(uv_poll_t *p, int status, int events)
{
    (void)status;
    (void)events;
    nw_kin_tick(p->data, (int64_t)(nw_mono_ns() / 1000000u));
}

static void
unwatch(nw_kin_t *in)
{
    if (in->poll == NULL)
        return;
    uv_poll_stop(in->poll);
    uv_close((uv_handle_t *)in->poll, on_poll_closed);
    in->poll = NULL;
}

static int
watch(nw_kin_t *in)
{
    int fd;
    size_t sz = sizeof fd;
    if (zmq_getsockopt(in->sock, ZMQ_FD, &fd, &sz) < 0 ||
        (in->poll = malloc(sizeof *in->poll)) == NULL)
        return -ENOMEM;
    if (uv_poll_init(in->loop, in->poll, fd) < 0) {
        free(in->poll);
        in->poll = NULL;
        return -EIO;
    }
    in->poll->data = in;
    uv_poll_start(in->poll, UV_READABLE, on_readable);
    return 0;
}

static void *
open_socket(nw_kin_t *in)
{
    void *s = zmq_socket(in->zctx, ZMQ_DEALER);
    int linger = 0;
    if (s == NULL)
        return NULL;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    /* Watched from before the connect; heartbeats so a vanished fetch host shows. */
    in->link = nw_link_new(in->zctx, s, "fetch ingest", NW_STAGE_HEARTBEAT_MS,
                           NW_STAGE_HEARTBEAT_MS * NW_STAGE_LIVENESS);
    if (in->link == NULL || zmq_connect(s, in->cfg->ingest) < 0) {
        nw_link_destroy(&in->link);
        zmq_close(s);
        return NULL;
    }
    return s;
}

nw_kin_t *
nw_kin_new(const nw_kin_cfg_t *cfg, uv_loop_t *loop, void *zctx, char *err, size_t errlen)
{
    nw_kin_t *in = calloc(1, sizeof *in);
    char session[24];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_topic_partition_list_t *subs = NULL;
    char *topics = NULL;
    if (in == NULL || conf == NULL || (topics = strdup(cfg->topics)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    in->cfg = cfg;
    in->zctx = zctx;
    in->loop = loop;
    in->backoff = BACKOFF_MIN_MS;
    in->m_consumed = nw_metrics_counter("nw_kafka_consumed_total", NULL,
                                        "Kafka messages consumed from --in-topics");
    in->m_committed = nw_metrics_counter("nw_kafka_committed_total", NULL,
                                         "Kafka offsets committed after fetch's answer");
    in->m_refused =
        nw_metrics_counter("nw_kafka_refused_total", NULL,
                           "Kafka messages fetch refused (4xx, dead-lettered by fetch)");
    in->m_retries = nw_metrics_counter("nw_kafka_in_retries_total", NULL,
                                       "ingest requests sent again (503, 500 or no answer)");
    in->m_failures = nw_metrics_counter("nw_kafka_failures_total", "side=\"in\"",
                                        "Kafka errors (consume, commit; produce, delivery)");
    snprintf(session, sizeof session, "%lld", (long long)cfg->session_ms);
    const char *kv[][2] = {
        {"bootstrap.servers", cfg->bootstrap}, {"group.id", cfg->group},
        {"session.timeout.ms", session},       {"enable.auto.commit", "false"},
        {"auto.offset.reset", "earliest"},     {"enable.partition.eof", "false"},
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], err, errlen) != RD_KAFKA_CONF_OK)
            goto fail;
    nw_kafka_conf_logs(conf);
    rd_kafka_conf_set_opaque(conf, in);
    rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
    if ((in->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, errlen)) == NULL)
        goto fail;
    conf = NULL; /* owned by rk now */
    rd_kafka_set_log_queue(in->rk, NULL);
    rd_kafka_poll_set_consumer(in->rk);
    subs = rd_kafka_topic_partition_list_new(4);
    for (char *save = NULL, *t = strtok_r(topics, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (*t)
            rd_kafka_topic_partition_list_add(subs, t, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t rc = rd_kafka_subscribe(in->rk, subs);
    if (rc) {
        snprintf(err, errlen, "cannot subscribe to \"%s\": %s", cfg->topics, rd_kafka_err2str(rc));
        goto fail;
    }
    if ((in->sock = open_socket(in)) == NULL || watch(in) < 0) {
        snprintf(err, errlen, "cannot connect to \"%s\": %s", cfg->ingest,
                 zmq_strerror(zmq_errno()));
        goto fail;
    }
    rd_kafka_topic_partition_list_destroy(subs);
    free(topics);
    return in;
fail:
    if (subs)
        rd_kafka_topic_partition_list_destroy(subs);
    if (conf)
        rd_kafka_conf_destroy(conf);
    free(topics);
    nw_kin_destroy(&in);
    return NULL;
}

/* The value of header name, NUL-terminated in out, or NULL. */
static const char *
header(rd_kafka_message_t *m, const char *name, char *out, size_t n)
{
    rd_kafka_headers_t *hdrs = NULL;
    const void *v;
    size_t len;
    if (rd_kafka_message_headers(m, &hdrs) || rd_kafka_header_get_last(hdrs, name, &v, &len))
        return NULL;
    if (len >= n || memchr(v, 0, len))
        return NULL; /* fetch would refuse it anyway; fall back to the default */
    memcpy(out, v, len);
    out[len] = 0;
    return out;
}

static int
send_current(nw_kin_t *in, int64_t now)
{
    rd_kafka_message_t *m = in->cur;
    char type[256], url[8192];
    const char *ct = header(m, "content-type", type, sizeof type);
    const char *u = header(m, "url", url, sizeof url);
    if (u == NULL && m->key && m->key_len < sizeof url &&
        (m->key_len > 7 && (!memcmp(m->key, "http://", 7) || !memcmp(m->key, "https://", 8)))) {
        memcpy(url, m->key, m->key_len);
        url[m->key_len] = 0;
        u = url;
    }
    if (ct == NULL)
        ct = DEFAULT_TYPE;
    /* DEALER: the empty delimiter first, as REQ would send it. */
    if (zmq_send(in->sock, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
        zmq_send(in->sock, ct, strlen(ct), ZMQ_SNDMORE) < 0 ||
        zmq_send(in->sock, m->payload ? m->payload : "", m->len, u ? ZMQ_SNDMORE : 0) < 0 ||
        (u && zmq_send(in->sock, u, strlen(u), 0) < 0)) {
        in->retry_at = now + in->backoff;
        return -EAGAIN;
    }
    in->sent = 1;
    in->sent_at = now;
    return 0;
}

static void
retry_later(nw_kin_t *in, int64_t now)
{
    in->sent = 0;
    in->retry_at = now + in->backoff;
    in->backoff = in->backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : in->backoff * 2;
    nw_metrics_add(in->m_retries, 1);
}

static void
commit_current(nw_kin_t *in)
{
    rd_kafka_resp_err_t rc = rd_kafka_commit_message(in->rk, in->cur, 1);
    if (rc) {
        NW_WARN(NULL, "kafka offset commit failed: %s", rd_kafka_err2str(rc));
        nw_metrics_add(in->m_failures, 1);
    }
    rd_kafka_message_destroy(in->cur);
    in->cur = NULL;
    in->sent = 0;
    in->backoff = BACKOFF_MIN_MS;
}

/* Read fetch's answer if it is there. Returns 1 when one was handled, 0 when none is waiting. */
static int
read_answer(nw_kin_t *in, int64_t now)
{
    char frames[3][512];
    int n = 0, more = 1;
    while (more) {
        int len = zmq_recv(in->sock, n < 3 ? frames[n] : frames[2], sizeof frames[0] - 1,
                           n == 0 ? ZMQ_DONTWAIT : 0);
        if (len < 0)
            return 0;
        if (n < 3)
            frames[n][len < (int)sizeof frames[0] - 1 ? len : (int)sizeof frames[0] - 1] = 0;
        n++;
        size_t sz = sizeof more;
        zmq_getsockopt(in->sock, ZMQ_RCVMORE, &more, &sz);
    }
    if (n != 3 || !in->cur || !in->sent)
        return 1; /* not an answer to what we sent (a late one after a re-send): ignore */
    int status = atoi(frames[1]);
    if (status == 202) {
        commit_current(in);
        in->problem = NULL;
    } else if (status >= 400 && status < 500) {
        /* fetch dead-lettered it (stage fetch, the original bytes): committing is right, a
         * re-read would be refused the same way. */
        NW_WARN(NULL,
                "kafka message refused by fetch status=%d topic=%s partition=%d offset=%lld "
                "answer=%s",
                status, rd_kafka_topic_name(in->cur->rkt), (int)in->cur->partition,
                (long long)in->cur->offset, frames[2]);
        nw_metrics_add(in->m_refused, 1);
        commit_current(in);
    } else {
        NW_DEBUG(NULL, "fetch busy status=%d: sending again later", status);
        in->problem = "fetch ingest busy or failing";
        retry_later(in, now);
    }
    return 1;
}

void
nw_kin_tick(nw_kin_t *in, int64_t now)
{
    if (in->sock == NULL && (in->sock = open_socket(in)) == NULL)
        return;
    nw_link_update(in->link); /* keeps the monitor's queue short */
    if (in->poll == NULL && watch(in) < 0)
        return;
    for (int i = 0; i < PER_TICK; i++) {
        if (in->cur && in->sent) {
            if (read_answer(in, now))
                continue;
            if (now - in->sent_at < in->cfg->timeout_ms)
                return;
            /* No answer: fetch is down or lost it. A new socket drops any late answer, and the
             * same document again is harmless (same id). */
            NW_WARN(NULL, "no answer from fetch ingest \"%s\": sending again", in->cfg->ingest);
            in->problem = "fetch ingest not answering";
            unwatch(in);
            nw_link_destroy(&in->link);
            zmq_close(in->sock);
            in->sock = open_socket(in);
            retry_later(in, now);
            if (in->sock == NULL || watch(in) < 0)
                return; /* the next tick tries again */
        }
        if (in->cur) {
            if (now < in->retry_at || send_current(in, now) < 0)
                return;
            continue;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(in->rk, 0);
        if (m == NULL)
            return;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                NW_WARN(NULL, "kafka consume error: %s", rd_kafka_message_errstr(m));
                nw_metrics_add(in->m_failures, 1);
            }
            rd_kafka_message_destroy(m);
            continue;
        }
        nw_metrics_add(in->m_consumed, 1);
        in->cur = m;
        in->backoff = BACKOFF_MIN_MS;
        if (send_current(in, now) < 0)
            return;
    }
}

const char *
nw_kin_problem(const nw_kin_t *in)
{
    return in->problem;
}

const char *
nw_kin_ready(void *arg)
{
    nw_kin_t *in = arg;
    return in->link ? nw_link_ready(in->link) : "no socket to fetch ingest";
}

void
nw_kin_destroy(nw_kin_t **inp)
{
    nw_kin_t *in = inp ? *inp : NULL;
    if (in == NULL)
        return;
    if (in->cur)
        rd_kafka_message_destroy(in->cur); /* not committed: read again by the next consumer */
    if (in->rk) {
        rd_kafka_consumer_close(in->rk);
        rd_kafka_destroy(in->rk);
    }
    unwatch(in); /* before zmq_close: ZMQ_FD belongs to the socket */
    nw_link_destroy(&in->link);
    if (in->sock)
        zmq_close(in->sock);
    free(in);
    *inp = NULL;
}
