/* kout.c: the OUT half of newswire-kafka (see kafka.h): committed articles to a Kafka topic.
 *
 * One Kafka topic (--out-topic) rather than one per newswire topic prefix: an article is on many
 * newswire topics (lang.en, country.eg, ...) and one per prefix would multiply it. The record:
 *   key     the article id (32 hex digits): Kafka's partitioning keeps an article's revisions
 *           in order, and compaction keeps its latest
 *   value   the stored document as JSON, as `newswire tail` prints it
 *   headers "topic" (the first subscribed newswire topic prefix it matched), "seq"
 *
 * Reading goes through follow.h from the database (read-only), so what is produced is exactly
 * what `newswire tail --since` prints: committed documents in seq order, none skipped. The SUB
 * socket on the hub only says when to read; a read also happens every --check. The resume
 * point is the seq below which every produced record has a successful delivery report. */
#include "kafka.h"

#include <errno.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "newswire/buf.h"
#include "newswire/follow.h"
#include "newswire/json.h"
#include "newswire/log.h"
#include "newswire/metrics.h"
#include "newswire/proto.h"
#include "newswire/store.h"
#include "newswire/sub.h"

#define MAX_PREFIXES 32
#define PERSIST_EVERY_MS 200

typedef struct pending {
    uint64_t seq;
    int done;   /* a delivery report came */
    int failed; /* ... and said it failed */
} pending_t;

struct nw_kout {
    const nw_kout_cfg_t *cfg;
    void *zctx;
    rd_kafka_t *rk;
    void *sub;
    nw_store_t *db;
    nw_follow_t f;
    char *prefix_buf;
    const char *prefixes[MAX_PREFIXES];
    size_t n_prefixes;
    pending_t *pend; /* seqs awaiting a delivery report, increasing; [head, n) live */
    size_t head, n, cap;
    size_t outstanding; /* produced, no delivery report yet */
    uint64_t rewind;    /* nonzero: the cursor to go back to after a stopped catch-up */
    int failed;         /* a delivery failed: produce again from the delivered seq */
    uint64_t delivered; /* every matching document with seq <= delivered was delivered */
    uint64_t persisted; /* what the state file says */
    int64_t next_check, next_persist, next_open;
    int bell; /* the hub published something: read the database */
    const char *problem;
    nw_metric_t *m_produced, *m_failures, *m_seq;
};

static int
read_state(const char *path, uint64_t *seq)
{
    FILE *fp = fopen(path, "r");
    unsigned long long v;
    if (fp == NULL)
        return errno == ENOENT ? 0 : -errno;
    int ok = fscanf(fp, "%llu", &v) == 1;
    fclose(fp);
    if (!ok)
        return -EINVAL;
    *seq = v;
    return 1;
}

/* Write the state file atomically (temp file, fsync, rename): a crash leaves the old or the
 * new value, never a torn one. */
static int
write_state(const char *path, uint64_t seq)
{
    char tmp[4096], line[32];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return -ENAMETOOLONG;
    int len = snprintf(line, sizeof line, "%llu\n", (unsigned long long)seq);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    int rc = write(fd, line, (size_t)len) == len && fsync(fd) == 0 ? 0 : -EIO;
    close(fd);
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -errno;
    return rc;
}

/* The highest seq below which everything was delivered: the last delivered entry before the
 * first pending one, or the cursor when nothing is pending. */
static void
advance(nw_kout_t *o)
{
    while (o->head < o->n && o->pend[o->head].done && !o->pend[o->head].failed)
        o->delivered = o->pend[o->head++].seq;
    if (o->head == o->n) {
        o->head = o->n = 0;
        if (!o->failed && o->rewind == 0 && o->f.cursor > o->delivered)
            o->delivered = o->f.cursor;
    }
}

static void
on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    nw_kout_t *o = opaque;
    uint64_t seq = (uint64_t)(uintptr_t)m->_private;
    o->outstanding--;
    if (m->err) {
        NW_WARN(NULL, "kafka delivery failed seq=%llu: %s", (unsigned long long)seq,
                rd_kafka_err2str(m->err));
        nw_metrics_add(o->m_failures, 1);
        o->failed = 1;
        o->problem = "kafka deliveries failing";
    } else {
        nw_metrics_add(o->m_produced, 1);
    }
    /* Reports come in order per partition, not across partitions: find the entry. */
    size_t lo = o->head, hi = o->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (o->pend[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < o->n && o->pend[lo].seq == seq) {
        o->pend[lo].done = 1;
        o->pend[lo].failed = m->err != 0;
    }
}

static int
on_doc(const char *topic, uint64_t seq, const uint8_t *doc, size_t len, nw_follow_src_t src,
       void *arg)
{
    (void)src;
    nw_kout_t *o = arg;
    nw_enriched_t e;
    nw_buf_t json = {0};
    int stop = 0;
    if ((int64_t)(o->n - o->head) >= o->cfg->window) {
        o->rewind = seq - 1; /* full: this one again next time */
        return 1;
    }
    if (nw_enriched_decode(&e, doc, len) < 0) {
        /* The store wrote it, so this is a bug or a newer writer: say so and go on. */
        NW_WARN(NULL, "skipping stored document seq=%llu: %s", (unsigned long long)seq,
                nw_proto_error());
        nw_metrics_add(o->m_failures, 1);
        return 0;
    }
    if (nw_json_from_msgpack(doc, len, &json) < 0) {
        o->rewind = seq - 1;
        stop = 1;
        goto done;
    }
    if (o->n == o->cap) {
        if (o->head > 0) {
            memmove(o->pend, o->pend + o->head, (o->n - o->head) * sizeof *o->pend);
            o->n -= o->head;
            o->head = 0;
        } else {
            size_t cap = o->cap ? o->cap * 2 : 1024;
            pending_t *p = realloc(o->pend, cap * sizeof *p);
            if (p == NULL) {
                o->rewind = seq - 1;
                stop = 1;
                goto done;
            }
            o->pend = p;
            o->cap = cap;
        }
    }
    char seqs[24];
    snprintf(seqs, sizeof seqs, "%llu", (unsigned long long)seq);
    rd_kafka_resp_err_t rc = rd_kafka_producev(
        o->rk, RD_KAFKA_V_TOPIC(o->cfg->topic), RD_KAFKA_V_KEY(e.art.id, strlen(e.art.id)),
        RD_KAFKA_V_VALUE(json.data, json.len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_HEADER("topic", topic, (ssize_t)strlen(topic)),
        RD_KAFKA_V_HEADER("seq", seqs, (ssize_t)strlen(seqs)),
        RD_KAFKA_V_OPAQUE((void *)(uintptr_t)seq), RD_KAFKA_V_END);
    if (rc) {
        /* Queue full or a fatal producer error: stop here, read this one again later. */
        if (rc != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            NW_WARN(NULL, "kafka produce failed seq=%llu: %s", (unsigned long long)seq,
                    rd_kafka_err2str(rc));
            nw_metrics_add(o->m_failures, 1);
        }
        o->rewind = seq - 1;
        stop = 1;
        goto done;
    }
    o->pend[o->n++] = (pending_t){.seq = seq};
    o->outstanding++;
done:
    nw_buf_release(&json);
    nw_enriched_release(&e);
    return stop;
}

static int
split_prefixes(nw_kout_t *o, char *err, size_t errlen)
{
    if ((o->prefix_buf = strdup(o->cfg->prefixes)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    char *save = NULL;
    for (char *p = strtok_r(o->prefix_buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        if (o->n_prefixes == MAX_PREFIXES) {
            snprintf(err, errlen, "more than %d topic prefixes", MAX_PREFIXES);
            return -EINVAL;
        }
        o->prefixes[o->n_prefixes++] = p;
    }
    if (o->n_prefixes == 0)
        o->prefixes[o->n_prefixes++] = "all";
    return 0;
}

nw_kout_t *
nw_kout_new(const nw_kout_cfg_t *cfg, void *zctx, char *err, size_t errlen)
{
    nw_kout_t *o = calloc(1, sizeof *o);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (o == NULL || conf == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    o->cfg = cfg;
    o->zctx = zctx;
    o->m_produced = nw_metrics_counter("nw_kafka_produced_total", NULL,
                                       "articles produced to --out-topic (delivery reported)");
    o->m_failures = nw_metrics_counter("nw_kafka_failures_total", "side=\"out\"",
                                       "Kafka errors (consume, commit; produce, delivery)");
    o->m_seq = nw_metrics_gauge("nw_kafka_out_seq", NULL,
                                "seq up to which every article was delivered to Kafka");
    if (split_prefixes(o, err, errlen) < 0)
        goto fail;
    const char *kv[][2] = {
        {"bootstrap.servers", cfg->bootstrap},
        {"enable.idempotence", "true"},
        {"linger.ms", "5"},
        /* Keep retrying through an outage rather than fail the record after 5 minutes. */
        {"message.timeout.ms", "0"},
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], err, errlen) != RD_KAFKA_CONF_OK)
            goto fail;
    nw_kafka_conf_logs(conf);
    rd_kafka_conf_set_opaque(conf, o);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    if ((o->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, errlen)) == NULL)
        goto fail;
    conf = NULL;
    rd_kafka_set_log_queue(o->rk, NULL);
    /* Subscribe before the first read (follow.h's order), though here it is only a doorbell. */
    o->sub = nw_sub_open(zctx, cfg->broker, o->prefixes, o->n_prefixes, 0, err, errlen);
    if (o->sub == NULL)
        goto fail;
    o->f =
        (nw_follow_t){.prefixes = o->prefixes, .n_prefixes = o->n_prefixes, .cb = on_doc, .arg = o};
    return o;
fail:
    if (conf)
        rd_kafka_conf_destroy(conf);
    nw_kout_destroy(&o, 0);
    return NULL;
}

/* Open the database (it may not exist before the store's first start) and place the cursor. */
static int
open_db(nw_kout_t *o)
{
    char err[256] = "";
    if (!nw_store_is_postgres(o->cfg->db) && access(o->cfg->db, F_OK) < 0) {
        o->problem = "no database yet";
        return -ENOENT;
    }
    if ((o->db = nw_store_open(o->cfg->db, 1, err, sizeof err)) == NULL) {
        NW_WARN(NULL, "cannot open the database: %s", err);
        o->problem = "cannot open the database";
        return -EIO;
    }
    o->f.db = o->db;
    uint64_t seq = 0;
    int rc = read_state(o->cfg->state, &seq);
    if (rc < 0) {
        NW_ERROR(NULL, "cannot read the state file \"%s\": %s", o->cfg->state, strerror(-rc));
        nw_store_close(&o->db);
        o->problem = "bad state file";
        return rc;
    }
    if (rc == 0 && (rc = nw_follow_cursor_at(o->db, o->cfg->since, &seq)) < 0) {
        NW_ERROR(NULL, "bad --out-since \"%s\"", o->cfg->since);
        nw_store_close(&o->db);
        o->problem = "bad --out-since";
        return rc;
    }
    o->f.cursor = o->delivered = o->persisted = seq;
    NW_INFO(NULL, "producing to kafka topic=%s after seq=%llu", o->cfg->topic,
            (unsigned long long)seq);
    o->problem = NULL;
    return 0;
}

void
nw_kout_tick(nw_kout_t *o, int64_t now)
{
    rd_kafka_poll(o->rk, 0); /* delivery reports */
    for (int i = 0; i < 256; i++) {
        int events = 0;
        size_t sz = sizeof events;
        if (zmq_getsockopt(o->sub, ZMQ_EVENTS, &events, &sz) < 0 || !(events & ZMQ_POLLIN))
            break;
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, o->sub, ZMQ_DONTWAIT) >= 0)
            o->bell = 1;
        zmq_msg_close(&m);
    }
    if (o->db == NULL) {
        if (now < o->next_open || open_db(o) < 0) {
            if (now >= o->next_open)
                o->next_open = now + 1000;
            return;
        }
        o->bell = 1;
    }
    advance(o);
    if (o->failed && o->outstanding == 0) {
        /* Every report is in and one failed: produce again everything after the last seq known
         * delivered (at least once; the key lets consumers drop the repeats). */
        NW_WARN(NULL, "producing again after seq=%llu", (unsigned long long)o->delivered);
        o->f.cursor = o->delivered;
        o->head = o->n = 0;
        o->failed = 0;
        o->bell = 1;
    }
    if (!o->failed && (o->bell || now >= o->next_check)) {
        o->bell = 0;
        o->next_check = now + o->cfg->check_ms;
        int rc = nw_follow_catch_up(&o->f);
        if (o->rewind) {
            o->f.cursor = o->rewind;
            o->rewind = 0;
            o->bell = 1; /* the rest next tick */
        }
        if (rc < 0) {
            NW_WARN(NULL, "reading the database failed: %s", strerror(-rc));
            o->problem = "database read failing";
        } else if (o->problem && !o->failed) {
            o->problem = NULL;
        }
    }
    advance(o);
    nw_metrics_set(o->m_seq, (int64_t)o->delivered);
    if (o->delivered != o->persisted && now >= o->next_persist) {
        int rc = write_state(o->cfg->state, o->delivered);
        if (rc < 0)
            NW_WARN(NULL, "cannot write the state file \"%s\": %s", o->cfg->state, strerror(-rc));
        else
            o->persisted = o->delivered;
        o->next_persist = now + PERSIST_EVERY_MS;
    }
}

const char *
nw_kout_problem(const nw_kout_t *o)
{
    return o->problem;
}

void
nw_kout_destroy(nw_kout_t **op, int wait_ms)
{
    nw_kout_t *o = op ? *op : NULL;
    if (o == NULL)
        return;
    if (o->rk) {
        rd_kafka_flush(o->rk, wait_ms);
        if (o->db) {
            advance(o);
            if (o->delivered != o->persisted && write_state(o->cfg->state, o->delivered) < 0)
                NW_WARN(NULL, "cannot write the state file \"%s\"", o->cfg->state);
        }
        rd_kafka_destroy(o->rk);
    }
    if (o->sub)
        zmq_close(o->sub);
    nw_store_close(&o->db);
    free(o->pend);
    free(o->prefix_buf);
    free(o);
    *op = NULL;
}
