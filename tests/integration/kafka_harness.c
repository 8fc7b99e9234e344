/* kafka_harness.c: the Kafka side of test_kafka.sh, a test-only program. It owns a librdkafka
 * mock cluster (which lives inside one process) and plays the newsroom around newswire-kafka:
 * it produces raw documents into the in-topic, reads the out-topic back, and takes mock brokers
 * down and up. Commands, one per line on stdin, each answered by one line on stdout:
 *
 *   produce FROM TO        documents FROM..TO-1 into news.in; "ok N" once all are delivered
 *   send FROM TO           the same, answered "ok N" at once (a mock broker may be down)
 *   flush                  "ok 0" once everything sent is delivered
 *   bad                    one document fetch must refuse (content type image/png): "ok 1"
 *   down ID | up ID        mock broker ID (1..3) down or up: "ok"
 *   collect N SECS FILE    read news.out from the start until N distinct keys or SECS passed;
 *                          FILE gets "key<TAB>topic header<TAB>id in the value" per record;
 *                          "ok DISTINCT TOTAL"
 *   quit
 *
 * The first line it prints is "bootstrap HOST:PORT,..." for the bridge's --bootstrap. */
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define IN_TOPIC "news.in"
#define OUT_TOPIC "news.out"
#define OUT_PARTITIONS 3

static rd_kafka_t *
new_client(rd_kafka_type_t type, const char *bootstrap, const char *group)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (bootstrap)
        rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof err);
    if (group)
        rd_kafka_conf_set(conf, "group.id", group, err, sizeof err);
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof err);
    if (rk == NULL) {
        fprintf(stderr, "kafka_harness: %s\n", err);
        exit(1);
    }
    return rk;
}

static const char *nouns[] = {"council", "harbour", "river",   "minister", "report",
                              "budget",  "village", "railway", "school",   "market",
                              "weather", "bridge",  "station", "energy",   "museum"};

static int
produce(rd_kafka_t *p, int from, int to, int wait)
{
    char body[2048], url[128];
    for (int i = from; i < to; i++) {
        const char *a = nouns[i % 15], *b = nouns[(i / 15 + 7) % 15];
        int len = snprintf(body, sizeof body,
                           "Kafka report %04d on the %s %s\n\n"
                           "Officials said on Monday that the %s %s plan number %d would go "
                           "ahead after a long debate in the city council, and residents "
                           "welcomed the decision.\n\n"
                           "The mayor told reporters that the work would start next spring and "
                           "that the budget had been approved. Marker kafkamark%04d.\n",
                           i, a, b, a, b, i, i);
        snprintf(url, sizeof url, "https://example.com/kafka/%04d", i);
        rd_kafka_resp_err_t rc;
        while ((rc = rd_kafka_producev(
                    p, RD_KAFKA_V_TOPIC(IN_TOPIC), RD_KAFKA_V_VALUE(body, (size_t)len),
                    RD_KAFKA_V_KEY(url, strlen(url)), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                    RD_KAFKA_V_HEADER("content-type", "text/plain; charset=utf-8", -1),
                    RD_KAFKA_V_HEADER("url", url, -1), RD_KAFKA_V_END)) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(p, 100);
        if (rc) {
            printf("err %s\n", rd_kafka_err2str(rc));
            return -1;
        }
    }
    if (wait && rd_kafka_flush(p, 120000)) {
        printf("err flush timed out\n");
        return -1;
    }
    printf("ok %d\n", to - from);
    return 0;
}

static void
produce_bad(rd_kafka_t *p)
{
    const char body[] = "\x89PNG not an article";
    rd_kafka_producev(p, RD_KAFKA_V_TOPIC(IN_TOPIC),
                      RD_KAFKA_V_VALUE((void *)body, sizeof body - 1),
                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                      RD_KAFKA_V_HEADER("content-type", "image/png", -1), RD_KAFKA_V_END);
    printf(rd_kafka_flush(p, 60000) ? "err flush timed out\n" : "ok 1\n");
}

/* The "id" string of a JSON document, found the simple way (the value is the bridge's JSON). */
static void
json_id(const char *json, size_t len, char *out, size_t n)
{
    out[0] = 0;
    const char *k = memmem(json, len, "\"id\":\"", 6);
    if (k == NULL)
        return;
    k += 6;
    size_t i = 0;
    while (k + i < json + len && k[i] != '"' && i + 1 < n) {
        out[i] = k[i];
        i++;
    }
    out[i] = 0;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
collect(const char *bootstrap, int want, int secs, const char *path)
{
    rd_kafka_t *c = new_client(RD_KAFKA_CONSUMER, bootstrap, "harness");
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(OUT_PARTITIONS);
    for (int i = 0; i < OUT_PARTITIONS; i++)
        rd_kafka_topic_partition_list_add(parts, OUT_TOPIC, i)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(c, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    FILE *fp = fopen(path, "w");
    char **keys = NULL;
    size_t n = 0, cap = 0, distinct = 0;
    int total = 0;
    time_t end = time(NULL) + secs;
    while (time(NULL) < end && (int)distinct < want) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 200);
        if (m == NULL)
            continue;
        if (!m->err) {
            char key[128] = "", topic[256] = "", id[128];
            const void *v;
            size_t vlen;
            rd_kafka_headers_t *h = NULL;
            if (m->key_len < sizeof key)
                memcpy(key, m->key, m->key_len);
            if (!rd_kafka_message_headers(m, &h) &&
                !rd_kafka_header_get_last(h, "topic", &v, &vlen) && vlen < sizeof topic)
                memcpy(topic, v, vlen);
            json_id(m->payload, m->len, id, sizeof id);
            fprintf(fp, "%s\t%s\t%s\n", key, topic, id);
            total++;
            if (n == cap) {
                cap = cap ? cap * 2 : 256;
                keys = realloc(keys, cap * sizeof *keys);
            }
            keys[n++] = strdup(key);
            qsort(keys, n, sizeof *keys, cmp_str);
            distinct = n ? 1 : 0;
            for (size_t i = 1; i < n; i++)
                distinct += strcmp(keys[i], keys[i - 1]) != 0;
        }
        rd_kafka_message_destroy(m);
    }
    fclose(fp);
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    printf("ok %zu %d\n", distinct, total);
}

int
main(void)
{
    rd_kafka_t *anchor = new_client(RD_KAFKA_PRODUCER, NULL, NULL);
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(anchor, 3);
    if (mc == NULL) {
        fprintf(stderr, "kafka_harness: cannot create the mock cluster\n");
        return 1;
    }
    rd_kafka_mock_topic_create(mc, IN_TOPIC, 2, 3);
    rd_kafka_mock_topic_create(mc, OUT_TOPIC, OUT_PARTITIONS, 3);
    const char *bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
    rd_kafka_t *p = new_client(RD_KAFKA_PRODUCER, bootstrap, NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("bootstrap %s\n", bootstrap);
    char line[4096], path[4000];
    int a, b;
    while (fgets(line, sizeof line, stdin)) {
        if (sscanf(line, "produce %d %d", &a, &b) == 2)
            produce(p, a, b, 1);
        else if (sscanf(line, "send %d %d", &a, &b) == 2)
            produce(p, a, b, 0);
        else if (strncmp(line, "flush", 5) == 0)
            printf(rd_kafka_flush(p, 120000) ? "err flush timed out\n" : "ok 0\n");
        else if (strncmp(line, "bad", 3) == 0)
            produce_bad(p);
        else if (sscanf(line, "down %d", &a) == 1)
            printf(rd_kafka_mock_broker_set_down(mc, a) ? "err\n" : "ok\n");
        else if (sscanf(line, "up %d", &a) == 1)
            printf(rd_kafka_mock_broker_set_up(mc, a) ? "err\n" : "ok\n");
        else if (sscanf(line, "collect %d %d %3999s", &a, &b, path) == 3)
            collect(bootstrap, a, b, path);
        else if (strncmp(line, "quit", 4) == 0)
            break;
        else
            printf("err unknown command\n");
    }
    rd_kafka_destroy(p);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(anchor);
    return 0;
}
