/* newswire-kafka: the Kafka bridge. IN: raw documents from Kafka topics into fetch's ingest
 * socket, offsets committed after fetch's durable answer (kin.c). OUT: the store's committed
 * articles to a Kafka topic, key = article id, idempotent producer, resuming after the last
 * delivered seq (kout.c). Either half can be turned off. Wiring only; see kafka.h. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kafka.h"
#include "newswire/config.h"
#include "newswire/log.h"
#include "newswire/service.h"
#include "newswire/store.h"
#include "newswire/util.h"

typedef struct cfg {
    nw_service_cfg_t svc;
    const char *bootstrap;
    const char *in_topics;
    const char *group;
    const char *ingest;
    int64_t ingest_timeout;
    int64_t session_timeout;
    const char *out_topic;
    const char *out_prefixes;
    const char *out_since;
    int64_t out_window;
    const char *data_dir;
    const char *db;
    const char *state;
    int64_t check_ms;
    int64_t tick_ms;
} cfg_t;

static const nw_cfg_opt_t options[] = {
    NW_SERVICE_OPTIONS(cfg_t, svc, "", NW_SERVICE_HTTP_HELP),
    {"bootstrap", NW_CFG_STR, "127.0.0.1:9092", offsetof(cfg_t, bootstrap),
     "Kafka bootstrap servers (host:port,...)", 0, 0},
    {"in-topics", NW_CFG_STR, "", offsetof(cfg_t, in_topics),
     "Kafka topics to consume raw documents from, comma-separated (empty: no IN half). Value = "
     "body; header content-type (default text/plain); header url, or a key that is an http(s) "
     "URL",
     0, 0},
    {"group", NW_CFG_STR, "newswire-kafka", offsetof(cfg_t, group), "Kafka consumer group", 0, 0},
    {"ingest", NW_CFG_STR, "tcp://127.0.0.1:5549", offsetof(cfg_t, ingest),
     "fetch's ZeroMQ ingest endpoint", 0, 0},
    {"ingest-timeout", NW_CFG_MS, "10s", offsetof(cfg_t, ingest_timeout),
     "longest wait for fetch's answer before sending the document again", 100, 3600000},
    {"session-timeout", NW_CFG_MS, "45s", offsetof(cfg_t, session_timeout),
     "Kafka consumer session timeout: a bridge that died holds its partitions this long", 1000,
     3600000},
    {"out-topic", NW_CFG_STR, "", offsetof(cfg_t, out_topic),
     "Kafka topic to produce stored articles to (empty: no OUT half); key = article id, "
     "value = JSON, header topic = newswire topic",
     0, 0},
    {"out-prefixes", NW_CFG_STR, "all", offsetof(cfg_t, out_prefixes),
     "newswire topic prefixes to produce, comma-separated", 0, 0},
    {"out-since", NW_CFG_STR, "0", offsetof(cfg_t, out_since),
     "without a state file, start after this seq, time or now (as `newswire tail --since`)", 0, 0},
    {"out-window", NW_CFG_INT, "10000", offsetof(cfg_t, out_window),
     "most articles awaiting Kafka's delivery report", 1, 1000000},
    {"data-dir", NW_CFG_STR, "var", offsetof(cfg_t, data_dir),
     "data directory of the system (database: <data-dir>/newswire.db)", 0, 0},
    {"db", NW_CFG_STR, NULL, offsetof(cfg_t, db),
     "database file or postgresql:// URI (overrides --data-dir), read-only", 0, 0},
    {"state", NW_CFG_STR, "", offsetof(cfg_t, state),
     "file holding the last seq delivered to Kafka (empty: <data-dir>/kafka-<out-topic>.seq)", 0,
     0},
    {"check", NW_CFG_MS, "1s", offsetof(cfg_t, check_ms),
     "read the database for new articles at least this often", 10, 3600000},
    {"tick", NW_CFG_MS, "5ms", offsetof(cfg_t, tick_ms), "how often Kafka and fetch are polled", 1,
     1000},
    NW_CFG_END,
};

typedef struct bridge {
    nw_service_t *svc;
    uv_timer_t timer;
    nw_kin_t *in;
    nw_kout_t *out;
} bridge_t;

static void
on_kafka_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    int l = level <= 3   ? NW_LOG_ERROR
            : level == 4 ? NW_LOG_WARN
            : level <= 6 ? NW_LOG_INFO
                         : NW_LOG_DEBUG;
    NW_LOG(l, NULL, "librdkafka client=%s facility=%s: %s", rd_kafka_name(rk), fac, buf);
}

void
nw_kafka_conf_logs(rd_kafka_conf_t *conf)
{
    char err[128];
    /* Queued, so the lines are written from the loop's thread when the client is polled. */
    rd_kafka_conf_set(conf, "log.queue", "true", err, sizeof err);
    rd_kafka_conf_set_log_cb(conf, on_kafka_log);
}

static void
on_tick(uv_timer_t *t)
{
    bridge_t *b = t->data;
    int64_t now = (int64_t)(nw_mono_ns() / 1000000u);
    if (b->in)
        nw_kin_tick(b->in, now);
    if (b->out)
        nw_kout_tick(b->out, now);
}

static size_t
on_health(void *arg, nw_service_problem_t *out, size_t max)
{
    bridge_t *b = arg;
    size_t n = 0;
    const char *p;
    if (b->in && n < max && (p = nw_kin_problem(b->in)) != NULL)
        out[n++] = (nw_service_problem_t){"kafka-in", p};
    if (b->out && n < max && (p = nw_kout_problem(b->out)) != NULL)
        out[n++] = (nw_service_problem_t){"kafka-out", p};
    return n;
}

static void
on_drain(nw_service_t *svc, void *arg)
{
    bridge_t *b = arg;
    uv_timer_stop(&b->timer);
    uv_close((uv_handle_t *)&b->timer, NULL);
    nw_kin_destroy(&b->in);
    nw_kout_destroy(&b->out, 5000);
    nw_service_stop(svc);
}

int
main(int argc, char **argv)
{
    cfg_t cfg = {0}; /* options outside the table (curve.allow, curve.roles) stay NULL */
    bridge_t b;
    char err[512], db[4096], state[4096];
    memset(&b, 0, sizeof b);
    int rc = nw_config_load(
        options, &cfg, argc, argv, "newswire-kafka [options]",
        "Kafka bridge. IN (--in-topics): each Kafka message goes to fetch's ingest socket; its\n"
        "offset is committed once fetch answered that it is in the spool (202) or refused it\n"
        "for good (4xx, dead-lettered by fetch); 503 and silence are retried, uncommitted.\n"
        "OUT (--out-topic): every article the store committed, in seq order, to one Kafka\n"
        "topic with an idempotent producer, key = article id; the last delivered seq is kept\n"
        "in --state so a restart resumes there (at least once).",
        NULL, NULL);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    if (nw_service_config("kafka", &cfg.svc, NW_CURVE_CONNECTS) < 0)
        return 2;
    if (!cfg.in_topics[0] && !cfg.out_topic[0]) {
        fprintf(stderr, "error: nothing to do: give --in-topics, --out-topic or both\n");
        return 2;
    }
    nw_kin_cfg_t in_cfg = {.bootstrap = cfg.bootstrap,
                           .topics = cfg.in_topics,
                           .group = cfg.group,
                           .ingest = cfg.ingest,
                           .timeout_ms = cfg.ingest_timeout,
                           .session_ms = cfg.session_timeout};
    if (nw_store_path(cfg.data_dir, cfg.db, db, sizeof db) < 0 ||
        snprintf(state, sizeof state, "%s/kafka-%s.seq", cfg.data_dir, cfg.out_topic) >=
            (int)sizeof state) {
        fprintf(stderr, "error: --data-dir too long\n");
        return 2;
    }
    nw_kout_cfg_t out_cfg = {.bootstrap = cfg.bootstrap,
                             .topic = cfg.out_topic,
                             .prefixes = cfg.out_prefixes,
                             .broker = cfg.svc.broker,
                             .db = db,
                             .state = cfg.state[0] ? cfg.state : state,
                             .since = cfg.out_since,
                             .window = cfg.out_window,
                             .check_ms = cfg.check_ms};
    if ((b.svc = nw_service_new("kafka", cfg.svc.http, on_drain, &b)) == NULL)
        return 1;
    if (cfg.in_topics[0] && (b.in = nw_kin_new(&in_cfg, nw_service_loop(b.svc),
                                               nw_service_zctx(b.svc), err, sizeof err)) == NULL) {
        NW_ERROR(NULL, "kafka in: %s", err);
        goto fail;
    }
    if (cfg.out_topic[0] &&
        (b.out = nw_kout_new(&out_cfg, nw_service_zctx(b.svc), err, sizeof err)) == NULL) {
        NW_ERROR(NULL, "kafka out: %s", err);
        goto fail;
    }
    nw_service_set_health(b.svc, on_health, &b);
    if (b.in)
        nw_service_add_ready(b.svc, "fetch", nw_kin_ready, b.in);
    uv_timer_init(nw_service_loop(b.svc), &b.timer);
    b.timer.data = &b;
    uv_timer_start(&b.timer, on_tick, 0, (uint64_t)cfg.tick_ms);
    NW_INFO(NULL, "kafka bridge started bootstrap=%s in=\"%s\" out=\"%s\"", cfg.bootstrap,
            cfg.in_topics, cfg.out_topic);
    return nw_service_run(b.svc);
fail:
    nw_kin_destroy(&b.in);
    nw_kout_destroy(&b.out, 0);
    nw_service_stop(b.svc);
    nw_service_run(b.svc);
    return 1;
}
