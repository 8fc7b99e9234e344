/* tail.c: `newswire tail [--since SEQ|TIME|now] [TOPIC...]`, published articles as JSON lines,
 * from the broker's topic hub (a SUB socket set up by nw_sub_open, as newswire-query's). */
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "newswire/config.h"
#include "newswire/curve.h"
#include "newswire/follow.h"
#include "newswire/proto.h"
#include "newswire/stage.h"
#include "newswire/store.h"
#include "newswire/sub.h"
#include "newswire/util.h"

/* Without --since, tail prints what the hub delivers, as it comes: a late or slow subscriber
 * misses what was published before it subscribed or what its queue dropped, and an article on
 * two subscribed topics prints twice.
 *
 * With --since it follows the Clone pattern of follow.h and promises no gap and no duplicate,
 * in seq order: subscribe first, backfill from the database (read-only), then live, with a
 * catch-up from the database on every hole and every --check interval (and whenever the socket
 * has been quiet that long). The cost of a narrow topic is a database read (an index range
 * scan) per live message; the delay of a recovered message is at most one --check interval. */

typedef struct tail_cfg {
    const char *broker;
    int64_t count;
    const char *since;
    const char *data_dir;
    const char *db;
    int64_t check_ms;
    int64_t hwm;
    int stats;
    int insecure;
    nw_curve_cfg_t curve;
} tail_cfg_t;

static const nw_cfg_opt_t tail_opts[] = {
    {"broker", NW_CFG_STR, "tcp://127.0.0.1:5550", offsetof(tail_cfg_t, broker),
     "broker base endpoint (a pair: A,B); articles come from its pub.out endpoint", 0, 0},
    {"count", NW_CFG_INT, "0", offsetof(tail_cfg_t, count),
     "exit after printing this many articles (0: run until interrupted)", 0, INT64_MAX},
    {"since", NW_CFG_STR, NULL, offsetof(tail_cfg_t, since),
     "first print what was stored after SEQ, since TIME (ISO 8601 UTC, or 30s/10m/2h/7d ago), "
     "or from now on; then live, without gap or duplicate",
     0, 0},
    {"data-dir", NW_CFG_STR, "var", offsetof(tail_cfg_t, data_dir),
     "with --since: data directory of the system (database: <data-dir>/newswire.db)", 0, 0},
    {"db", NW_CFG_STR, NULL, offsetof(tail_cfg_t, db),
     "with --since: database file or postgresql:// URI (overrides --data-dir)", 0, 0},
    {"check", NW_CFG_MS, "1s", offsetof(tail_cfg_t, check_ms),
     "with --since: look in the database for missed articles this often", 10, 3600000},
    {"hwm", NW_CFG_INT, "0", offsetof(tail_cfg_t, hwm),
     "receive high-water mark in messages (0: ZeroMQ's default, 1000)", 0, 1000000},
    {"stats", NW_CFG_BOOL, "0", offsetof(tail_cfg_t, stats),
     "with --since: at exit, say on stderr how many came from backfill, live and recovery", 0, 0},
    NW_CURVE_KEY_OPTION(tail_cfg_t, curve),
    NW_CURVE_SERVER_OPTION(tail_cfg_t, curve),
    {"insecure", NW_CFG_BOOL, "0", offsetof(tail_cfg_t, insecure), NW_CURVE_INSECURE_HELP, 0, 0},
    NW_CFG_END,
};

typedef struct tail {
    tail_cfg_t cfg;
    char **subs;
    int n_subs;
    int want_acks;
    nw_store_t *db;
    nw_follow_t f;        /* with --since: the cursor over the store's seq */
    int64_t printed;      /* articles printed (and acks, when asked for) */
    int64_t n_backfill;   /* printed from the initial backfill */
    int64_t n_live;       /* printed from a live message */
    int64_t n_recovered;  /* printed from the database after the backfill */
    int64_t n_drops;      /* live messages discarded by the test hook */
    int64_t test_slow_ms; /* NW_TEST_TAIL_SLOW_MS: sleep per live message (a slow reader) */
    int64_t test_drop;    /* NW_TEST_TAIL_DROP_EVERY: discard every Nth live message */
    int64_t n_received;   /* live documents received */
    int warned_missing;
    int done;   /* --count reached, or stdout is gone */
    int failed; /* a database or output error: exit 1 */
} tail_t;

static volatile sig_atomic_t tail_stop;

static void
on_signal(int sig)
{
    (void)sig;
    tail_stop = 1;
}

/* Print one document with its topic; counts it and notes --count and a vanished reader. */
static void
tail_print(tail_t *t, const uint8_t *doc, size_t len, const char *topic, int64_t *counter)
{
    int rc = nw_cli_print_msgpack(doc, len, "topic", topic, 0);
    if (rc == -EPIPE || rc == -EIO) {
        t->done = 1; /* the reader went away: a normal end for a pipe */
        return;
    }
    if (rc < 0) {
        fprintf(stderr, "newswire tail: skipping a message on '%s': not a MessagePack map\n",
                topic);
        return;
    }
    t->printed++;
    if (counter)
        (*counter)++;
    if (t->cfg.count > 0 && t->printed >= t->cfg.count)
        t->done = 1;
}

static int
on_follow(const char *topic, uint64_t seq, const uint8_t *doc, size_t len, nw_follow_src_t src,
          void *arg)
{
    (void)seq;
    tail_t *t = arg;
    tail_print(t, doc, len, topic,
               src == NW_FOLLOW_BACKFILL ? &t->n_backfill
               : src == NW_FOLLOW_LIVE   ? &t->n_live
                                         : &t->n_recovered);
    return t->done || tail_stop;
}

static int
tail_catch_up(tail_t *t)
{
    int rc = nw_follow_catch_up(&t->f);
    if (rc < 0) {
        fprintf(stderr, "newswire tail: reading the database failed: %s\n", strerror(-rc));
        t->failed = 1;
    }
    return rc;
}

/* One live document in --since mode: the test hooks, then the follow cursor. */
static void
tail_live(tail_t *t, const char *topic, const uint8_t *doc, size_t len)
{
    nw_enriched_t e;
    if (nw_enriched_decode(&e, doc, len) < 0) {
        fprintf(stderr, "newswire tail: skipping a message on '%s': %s\n", topic, nw_proto_error());
        return;
    }
    t->n_received++;
    if (t->test_slow_ms > 0) {
        struct timespec ts = {t->test_slow_ms / 1000, (t->test_slow_ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !tail_stop)
            ;
    }
    if (t->test_drop > 0 && t->n_received % t->test_drop == 0) {
        t->n_drops++; /* as if the queue had overflowed: the database must fill the hole */
        nw_enriched_release(&e);
        return;
    }
    uint64_t missing = t->f.n_missing;
    int rc = nw_follow_live(&t->f, &e, doc, len);
    if (rc < 0) {
        fprintf(stderr, "newswire tail: reading the database failed: %s\n", strerror(-rc));
        t->failed = 1;
    } else if (t->f.n_missing > missing && !t->warned_missing) {
        /* Published but not in the database: not the database the store writes. Say so once
         * and carry on live rather than stall. */
        fprintf(stderr,
                "newswire tail: seq %llu was published but is not in the database: are "
                "--data-dir/--db those of the running store?\n",
                (unsigned long long)e.seq);
        t->warned_missing = 1;
    }
    nw_enriched_release(&e);
}

static int64_t
env_int(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? strtoll(v, NULL, 10) : 0;
}

static int64_t
mono_ms(void)
{
    return (int64_t)(nw_mono_ns() / 1000000u);
}

/* --since: read the cursor, print the backfill from the database. Returns 0, 2 for a bad
 * --since, 1 when the database failed (said on stderr). */
static int
tail_backfill(tail_t *t)
{
    if ((t->db = nw_cli_open_db("tail", t->cfg.data_dir, t->cfg.db, 1)) == NULL)
        return 1;
    t->f = (nw_follow_t){.db = t->db,
                         .prefixes = (const char *const *)t->subs,
                         .n_prefixes = (size_t)t->n_subs,
                         .cb = on_follow,
                         .arg = t};
    int rc = nw_follow_cursor_at(t->db, t->cfg.since, &t->f.cursor);
    if (rc == -EINVAL) {
        fprintf(stderr,
                "newswire tail: bad value for --since: '%s' (a seq number, now, 10m/2h/7d, "
                "or an ISO 8601 time such as 2024-02-06T09:15:00Z)\n",
                t->cfg.since);
        return 2;
    }
    if (rc < 0) {
        fprintf(stderr, "newswire tail: reading the database failed: %s\n", strerror(-rc));
        return 1;
    }
    uint64_t from = t->f.cursor;
    if (tail_catch_up(t) < 0)
        return 1;
    if (t->cfg.stats)
        fprintf(stderr, "newswire tail: backfill after seq %llu: %lld printed, up to seq %llu\n",
                (unsigned long long)from, (long long)t->n_backfill,
                (unsigned long long)t->f.cursor);
    return 0;
}

/* Receive one message, whose first frame is waiting, and print it. A message is
 * [topic][document]; anything else is skipped whole. Returns 0, or -1 after a receive error
 * (said on stderr). */
static int
tail_receive(tail_t *t, void *sub, zmq_msg_t *topic, zmq_msg_t *body)
{
    if (zmq_msg_recv(topic, sub, ZMQ_DONTWAIT) < 0) {
        if (zmq_errno() == EINTR || zmq_errno() == EAGAIN)
            return 0;
        fprintf(stderr, "newswire tail: receive failed: %s\n", zmq_strerror(zmq_errno()));
        return -1;
    }
    /* Once the first frame arrived the rest of the message is already here, so EINTR just
     * means "ask again". */
    int parts = 1;
    size_t body_len = 0;
    while (zmq_msg_more(parts == 1 ? topic : body)) {
        while (zmq_msg_recv(body, sub, 0) < 0 && zmq_errno() == EINTR)
            ;
        parts++;
        if (parts == 2)
            body_len = zmq_msg_size(body);
    }
    if (parts != 2)
        return 0;
    size_t tlen = zmq_msg_size(topic);
    char name[256];
    if (tlen >= sizeof name)
        tlen = sizeof name - 1;
    memcpy(name, zmq_msg_data(topic), tlen);
    name[tlen] = 0;
    int is_ack = strncmp(name, "ack.", 4) == 0;
    if (is_ack && !t->want_acks)
        return 0;
    if (t->db && !is_ack) /* acks carry no seq of their own: they pass through */
        tail_live(t, name, zmq_msg_data(body), body_len);
    else
        tail_print(t, zmq_msg_data(body), body_len, name, NULL);
    return 0;
}

/* Print what arrives until interrupted, --count is reached or stdout is gone; with --since,
 * catch up from the database every --check. Returns the exit status. */
static int
tail_follow(tail_t *t, void *sub)
{
    int status = 1;
    zmq_msg_t topic, body;
    zmq_msg_init(&topic);
    zmq_msg_init(&body);
    int64_t next_check = mono_ms() + t->cfg.check_ms;
    /* Wait on the socket and on stdout: a reader that went away (`tail | head -1`) shows as
     * an error on our end of the pipe, so we exit then rather than at the next article. */
    zmq_pollitem_t items[2] = {{.socket = sub, .events = ZMQ_POLLIN}, {.fd = 1, .events = 0}};
    while (!tail_stop && !t->done) {
        long timeout = -1;
        if (t->db) {
            int64_t now = mono_ms();
            if (now >= next_check) {
                if (tail_catch_up(t) < 0)
                    goto done;
                next_check = now + t->cfg.check_ms;
                continue;
            }
            timeout = (long)(next_check - now);
        }
        int n = zmq_poll(items, 2, timeout);
        if (n < 0) {
            if (zmq_errno() == EINTR)
                continue;
            fprintf(stderr, "newswire tail: poll failed: %s\n", zmq_strerror(zmq_errno()));
            goto done;
        }
        if (items[1].revents & ZMQ_POLLERR)
            break;
        if (!(items[0].revents & ZMQ_POLLIN))
            continue;
        if (tail_receive(t, sub, &topic, &body) < 0 || t->failed)
            goto done;
    }
    status = 0;
done:
    zmq_msg_close(&topic);
    zmq_msg_close(&body);
    return status;
}

int
nw_cli_tail(int argc, char **argv)
{
    tail_t t;
    int nargs = 0, status;
    char **args = NULL;
    void *ctx = NULL, *sub = NULL;
    memset(&t, 0, sizeof t);
    int rc = nw_config_load(
        tail_opts, &t.cfg, argc, argv, "newswire tail [options] [--since SEQ|TIME|now] [TOPIC...]",
        "Follow published articles. Each one is printed as a JSON line: the stored document with\n"
        "a \"topic\" key added. Topics are hierarchical and match by prefix: all, lang.en,\n"
        "country.eg, place.eg.cairo, person.antony-blinken, org.hamas, theme.diplomacy,\n"
        "source.reuters, story.<id>. The default is all. Topics starting with \"ack.\" are\n"
        "internal and only shown when asked for explicitly.\n\n"
        "Without --since, tail prints what arrives: nothing from before it subscribed, nothing\n"
        "the hub dropped while it was slow (ZeroMQ drops silently past the high-water mark),\n"
        "and an article on two subscribed topics twice.\n\n"
        "With --since, it first prints the stored articles after SEQ (0: everything) or stored\n"
        "since TIME, then live ones, each matching article (each revision) exactly once and in\n"
        "increasing \"seq\" order: live duplicates are dropped by seq, and holes are filled\n"
        "from the database (read-only, --data-dir/--db), which has everything the hub had. A\n"
        "missed article is printed at most --check later. To resume after an exit, pass the\n"
        "last printed seq as --since.",
        &nargs, &args);
    if ((status = nw_cli_config_status(rc)) >= 0)
        return status;
    status = 1;
    char err[512];
    if (nw_ep_list_check(t.cfg.broker, NW_EP_PUB_OUT) < 0) {
        fprintf(stderr, "newswire tail: bad broker endpoint '%s'\n", t.cfg.broker);
        status = 2;
        goto done;
    }
    if (nw_curve_init(&t.cfg.curve, NW_CURVE_CONNECTS, err, sizeof err) < 0 ||
        nw_curve_check_endpoint(t.cfg.broker, "broker", t.cfg.insecure, err, sizeof err) < 0) {
        fprintf(stderr, "newswire tail: %s\n", err);
        status = 2;
        goto done;
    }
    char *all[] = {"all"};
    t.subs = nargs ? args : all;
    t.n_subs = nargs ? nargs : 1;
    for (int i = 0; i < t.n_subs; i++)
        t.want_acks |= strncmp(t.subs[i], "ack", 3) == 0;
    t.test_slow_ms = env_int("NW_TEST_TAIL_SLOW_MS");
    t.test_drop = env_int("NW_TEST_TAIL_DROP_EVERY");

    /* No SA_RESTART: a signal must interrupt the blocking receive (EINTR) so we can exit. */
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    /* Subscribe before reading the database (Clone pattern): what is published while we read
     * waits in the socket instead of being lost. */
    if ((ctx = zmq_ctx_new()) == NULL) {
        fprintf(stderr, "newswire tail: cannot create a zeromq context: %s\n",
                zmq_strerror(zmq_errno()));
        goto done;
    }
    sub = nw_sub_open(ctx, t.cfg.broker, (const char *const *)t.subs, (size_t)t.n_subs,
                      (int)t.cfg.hwm, err, sizeof err);
    if (sub == NULL) {
        fprintf(stderr, "newswire tail: %s\n", err);
        goto done;
    }
    if (t.cfg.since && (status = tail_backfill(&t)) != 0)
        goto done;
    status = tail_follow(&t, sub);
done:
    if (t.db && t.cfg.stats)
        fprintf(stderr,
                "newswire tail: printed %lld: %lld from the backfill, %lld live, %lld recovered "
                "from the database; %lld duplicates dropped, %lld test drops; last seq %llu\n",
                (long long)t.printed, (long long)t.n_backfill, (long long)t.n_live,
                (long long)t.n_recovered, (long long)t.f.n_dups, (long long)t.n_drops,
                (unsigned long long)t.f.cursor);
    nw_store_close(&t.db);
    if (sub)
        zmq_close(sub);
    if (ctx)
        zmq_ctx_term(ctx);
    return status;
}
