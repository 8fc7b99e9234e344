/* test_store_batch.c: the store stage's delivery state machine (services/lib/store_batch.c) on
 * a real SQLite file and a real loop: group commit by size and by time, nothing published,
 * acked or done before a commit, a failed begin/apply/commit rolled back and retried with
 * backoff until it commits (each job then acked exactly once), dead-letter mapping for every
 * reason the store gives (bad bytes, unexpected type, a "dead" message from another stage,
 * untidy reasons as "other"), and a drain that commits what is pending. Failures are injected
 * through the module's fault hook in front of the real database calls. */
#include "store_batch.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "newswire/buf.h"
#include "newswire/metrics.h"
#include "newswire/proto.h"
#include "newswire/store.h"

#define MAX_EVENTS 256

/* What the state machine told the outside world, in order. */
typedef struct event {
    char kind; /* 'p' published on a topic, 'a' ack, 'd' done */
    char topic[64];
    char id[64];
    char status[16];
    uint64_t spool;
    size_t n; /* done */
} event_t;

typedef struct fixture {
    char dir[64];
    char path[512];
    uv_loop_t loop;
    nw_store_t *db;
    nw_store_batch_t *b;
    event_t ev[MAX_EVENTS];
    size_t n_ev;
    size_t done;
    /* fault injection: fail the named operation this many more times */
    const char *fail_op;
    int fail_times;
    int fail_rc;
    int faults_hit;
} fixture_t;

static int
on_publish(void *arg, const char *topic, const void *data, size_t len)
{
    fixture_t *f = arg;
    assert_true(f->n_ev < MAX_EVENTS);
    event_t *e = &f->ev[f->n_ev++];
    memset(e, 0, sizeof(*e));
    snprintf(e->topic, sizeof(e->topic), "%s", topic);
    if (strncmp(topic, "ack.", 4) == 0) {
        nw_ack_t a;
        assert_int_equal(nw_ack_decode(&a, data, len), 0);
        e->kind = 'a';
        snprintf(e->id, sizeof(e->id), "%s", a.id ? a.id : "");
        snprintf(e->status, sizeof(e->status), "%s", a.status ? a.status : "");
        e->spool = a.spool;
        nw_ack_release(&a);
    } else {
        nw_enriched_t en;
        assert_int_equal(nw_enriched_decode(&en, data, len), 0);
        e->kind = 'p';
        snprintf(e->id, sizeof(e->id), "%s", en.art.id);
        nw_enriched_release(&en);
    }
    return 0;
}

static void
on_done(void *arg, size_t n)
{
    fixture_t *f = arg;
    assert_true(f->n_ev < MAX_EVENTS);
    event_t *e = &f->ev[f->n_ev++];
    memset(e, 0, sizeof(*e));
    e->kind = 'd';
    e->n = n;
    f->done += n;
}

static int
on_fault(void *arg, const char *op)
{
    fixture_t *f = arg;
    if (f->fail_op && f->fail_times > 0 && strcmp(op, f->fail_op) == 0) {
        f->fail_times--;
        f->faults_hit++;
        return f->fail_rc;
    }
    return 0;
}

static void
open_batch(fixture_t *f, size_t batch_max, uint64_t batch_ms)
{
    nw_store_batch_opts_t o = {
        .batch_max = batch_max,
        .batch_ms = batch_ms,
        .backoff_min_ms = 10,
        .backoff_max_ms = 40,
        .publish = on_publish,
        .done = on_done,
        .arg = f,
        .fault = on_fault,
    };
    f->b = nw_store_batch_new(&f->loop, f->db, &o);
    assert_non_null(f->b);
}

static int
setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    char err[256] = "";
    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/nw-test-batch-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/newswire.db", f->dir);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    f->db = nw_store_open(f->path, 0, err, sizeof(err));
    if (!f->db)
        fail_msg("open: %s", err);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture_t *f = *state;
    nw_store_batch_close(f->b, NULL, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    nw_store_close(&f->db);
    const char *suffix[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        char p[sizeof(f->path) + 16];
        snprintf(p, sizeof(p), "%s%s", f->path, suffix[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

/* An encoded enriched article from fetch instance "f1" with spool seq `spool`. */
static void
add_article(fixture_t *f, const char *id, const char *text, uint64_t spool)
{
    nw_enriched_t e = {0};
    nw_buf_t b = {0};
    char *topics[] = {"all", "lang.en"};
    e.art.v = 1;
    e.art.id = (char *)id;
    e.art.text = (char *)text;
    e.art.lang = "en";
    e.art.origin = "f1";
    e.art.spool = spool;
    e.topics = topics;
    e.n_topics = 2;
    assert_int_equal(nw_enriched_encode(&e, &b), 0);
    assert_int_equal(nw_store_batch_add(f->b, "enriched", b.data, b.len), 0);
    nw_buf_release(&b);
}

static void
add_dead(fixture_t *f, const char *id, const char *reason, uint64_t spool)
{
    nw_dead_t d = {
        .v = 1,
        .id = (char *)id,
        .stage = "parse",
        .reason = (char *)reason,
        .detail = "test",
        .time = "2026-12-06T23:00:00Z",
        .bytes = (uint8_t *)"<html>",
        .bytes_len = 6,
        .origin = "f1",
        .spool = spool,
    };
    nw_buf_t b = {0};
    assert_int_equal(nw_dead_encode(&d, &b), 0);
    assert_int_equal(nw_store_batch_add(f->b, "dead", b.data, b.len), 0);
    nw_buf_release(&b);
}

static size_t
count(const fixture_t *f, char kind)
{
    size_t n = 0;
    for (size_t i = 0; i < f->n_ev; i++)
        n += f->ev[i].kind == kind;
    return n;
}

/* Publications on one topic (the store may add topics of its own, such as the story). */
static size_t
count_topic(const fixture_t *f, const char *topic)
{
    size_t n = 0;
    for (size_t i = 0; i < f->n_ev; i++)
        n += f->ev[i].kind == 'p' && strcmp(f->ev[i].topic, topic) == 0;
    return n;
}

/* The k-th ack (0-based). */
static const event_t *
ack_at(const fixture_t *f, size_t k)
{
    for (size_t i = 0; i < f->n_ev; i++)
        if (f->ev[i].kind == 'a' && k-- == 0)
            return &f->ev[i];
    fail_msg("no ack %zu", k);
    return NULL;
}

/* Run the loop until `done` jobs are done (timers drive commits and retries). */
static void
run_until_done(fixture_t *f, size_t done)
{
    for (int i = 0; i < 2000 && f->done < done; i++)
        uv_run(&f->loop, UV_RUN_ONCE);
    assert_int_equal(f->done, done);
}

static void
test_commit_by_size_then_publish_ack_done(void **state)
{
    fixture_t *f = *state;
    open_batch(f, 3, 60000);
    add_article(f, "a1", "First text.", 1);
    add_article(f, "a2", "Second text.", 2);
    /* In the transaction, not committed: nothing told to anyone, not in the database. */
    assert_int_equal(f->n_ev, 0);
    assert_int_equal(nw_store_batch_pending(f->b), 2);
    add_article(f, "a3", "Third text.", 3);
    /* The third fills the batch: committed, then per job publish and ack, then one done. */
    assert_int_equal(nw_store_batch_pending(f->b), 0);
    assert_int_equal(nw_store_count(f->db), 3);
    assert_int_equal(count_topic(f, "all"), 3);
    assert_int_equal(count_topic(f, "lang.en"), 3);
    assert_int_equal(count(f, 'a'), 3);
    assert_int_equal(count(f, 'd'), 1);
    assert_int_equal(f->ev[f->n_ev - 1].kind, 'd');
    assert_int_equal(f->ev[f->n_ev - 1].n, 3);
    /* Each article is published before its ack, in arrival order. */
    assert_int_equal(f->ev[0].kind, 'p');
    assert_string_equal(f->ev[0].id, "a1");
    const event_t *a = ack_at(f, 0);
    assert_string_equal(a->topic, "ack.f1");
    assert_string_equal(a->status, "stored");
    assert_string_equal(a->id, "a1");
    assert_int_equal(a->spool, 1);
    assert_true(a < ack_at(f, 1));
    assert_string_equal(ack_at(f, 2)->id, "a3");
    assert_int_equal(ack_at(f, 2)->spool, 3);
    for (const event_t *e = f->ev; e < ack_at(f, 0); e++)
        assert_string_equal(e->id, "a1"); /* a1's publications, then its ack, then a2's */
}

static void
test_commit_by_time(void **state)
{
    fixture_t *f = *state;
    open_batch(f, 100, 5);
    add_article(f, "a1", "Text one.", 1);
    assert_int_equal(f->done, 0);
    run_until_done(f, 1);
    assert_int_equal(nw_store_count(f->db), 1);
    /* The same content again is "unchanged": acked, done, but not published. */
    size_t published = count(f, 'p');
    add_article(f, "a1", "Text one.", 7);
    run_until_done(f, 2);
    assert_int_equal(count(f, 'p'), published);
    assert_int_equal(count(f, 'a'), 2);
    assert_string_equal(ack_at(f, 1)->status, "unchanged");
    assert_int_equal(ack_at(f, 1)->spool, 7);
}

/* A commit that fails is rolled back: no publication, no ack, no done, nothing in the
 * database; the retry after the backoff commits the whole batch, each job acked once. */
static void
test_commit_failure_rolls_back_and_retries(void **state)
{
    fixture_t *f = *state;
    /* batches of 2 by size; the third job goes by time, after 50 ms, not a minute */
    open_batch(f, 2, 50);
    f->fail_op = "commit";
    f->fail_times = 2;
    f->fail_rc = -EIO;
    add_article(f, "a1", "Text one.", 1);
    add_article(f, "a2", "Text two.", 2);
    assert_int_equal(f->faults_hit, 1);
    assert_int_equal(nw_store_batch_failures(f->b), 1);
    /* /readyz of the store says why it takes no commits */
    assert_non_null(nw_store_batch_ready(f->b));
    assert_int_equal(f->n_ev, 0);
    assert_int_equal(nw_store_batch_pending(f->b), 2);
    /* Rolled back: the rows the batch wrote are gone. */
    assert_int_equal(nw_store_count(f->db), 0);
    /* More work arriving meanwhile waits behind the failed batch. */
    add_article(f, "a3", "Text three.", 3);
    assert_int_equal(f->n_ev, 0);
    run_until_done(f, 3);
    assert_int_equal(f->faults_hit, 2);
    assert_int_equal(nw_store_batch_failures(f->b), 2);
    assert_null(nw_store_batch_ready(f->b)); /* ready again once a commit went through */
    assert_int_equal(nw_store_count(f->db), 3);
    assert_int_equal(count(f, 'a'), 3);
    for (size_t i = 0; i < f->n_ev; i++)
        if (f->ev[i].kind == 'a')
            assert_string_equal(f->ev[i].status, "stored");
}

/* The transaction cannot even begin, or a write inside it fails: same path. */
static void
test_begin_and_apply_failures(void **state)
{
    fixture_t *f = *state;
    open_batch(f, 1, 60000);
    f->fail_op = "begin";
    f->fail_times = 1;
    f->fail_rc = -EBUSY;
    add_article(f, "a1", "Text one.", 1);
    assert_int_equal(f->n_ev, 0);
    run_until_done(f, 1);
    f->fail_op = "apply";
    f->fail_times = 1;
    f->fail_rc = -ENOMEM;
    add_article(f, "a2", "Text two.", 2);
    assert_int_equal(f->done, 1);
    run_until_done(f, 2);
    assert_int_equal(nw_store_batch_failures(f->b), 2);
    assert_int_equal(count(f, 'a'), 2);
    assert_int_equal(nw_store_count(f->db), 2);
}

typedef struct dl {
    char reason[64][32];
    char stage[64][16];
    int n;
} dl_t;

static int
collect_dead(const nw_store_dead_row_t *row, void *arg)
{
    dl_t *d = arg;
    snprintf(d->reason[d->n], sizeof(d->reason[0]), "%s", row->reason ? row->reason : "");
    snprintf(d->stage[d->n], sizeof(d->stage[0]), "%s", row->stage ? row->stage : "");
    d->n++;
    return 0;
}

static int64_t
metric_line(const char *needle)
{
    nw_buf_t b = {0};
    assert_int_equal(nw_metrics_render(&b), 0);
    nw_buf_append(&b, "", 1);
    const char *p = strstr((const char *)b.data, needle);
    int64_t v = p ? strtoll(p + strlen(needle), NULL, 10) : -1;
    nw_buf_release(&b);
    return v;
}

/* Every way a job becomes a dead letter, in one committed batch, acked "dead" when it has an
 * origin, and counted under a tidy reason. */
static void
test_dead_letter_mapping(void **state)
{
    fixture_t *f = *state;
    nw_metrics_reset();
    open_batch(f, 4, 60000);
    const uint8_t junk[] = {0xc1, 0xff, 0x00};
    assert_int_equal(nw_store_batch_add(f->b, "enriched", junk, sizeof(junk)), 0);
    assert_int_equal(nw_store_batch_add(f->b, "article", (const uint8_t *)"x", 1), 0);
    add_dead(f, "d1", "bad-html", 5);
    add_dead(f, "d2", "Weird Reason!\n", 6);
    assert_int_equal(f->done, 4);
    dl_t d = {0};
    assert_int_equal(nw_store_dlq_list(f->db, 0, collect_dead, &d), 4);
    /* newest first */
    assert_string_equal(d.reason[3], "bad-message");
    assert_string_equal(d.stage[3], "store");
    assert_string_equal(d.reason[2], "bad-message");
    assert_string_equal(d.stage[2], "store");
    assert_string_equal(d.reason[1], "bad-html");
    assert_string_equal(d.stage[1], "parse");
    assert_string_equal(d.stage[0], "parse");
    /* Only the two with an origin are acked, both "dead". */
    assert_int_equal(count(f, 'a'), 2);
    assert_int_equal(count(f, 'p'), 0);
    for (size_t i = 0; i < f->n_ev; i++)
        if (f->ev[i].kind == 'a')
            assert_string_equal(f->ev[i].status, "dead");
    assert_int_equal(metric_line("nw_store_dead_total{reason=\"bad-message\"} "), 2);
    assert_int_equal(metric_line("nw_store_dead_total{reason=\"bad-html\"} "), 1);
    assert_int_equal(metric_line("nw_store_dead_total{reason=\"other\"} "), 1);
}

/* SIGTERM: everything pending commits at once, without waiting for the batch timer; a
 * failure while draining is not retried and reports what is left. */
static void
test_drain(void **state)
{
    fixture_t *f = *state;
    open_batch(f, 100, 60000);
    add_article(f, "a1", "Text one.", 1);
    add_article(f, "a2", "Text two.", 2);
    assert_int_equal(f->done, 0);
    assert_int_equal(nw_store_batch_drain(f->b), 0);
    assert_int_equal(f->done, 2);
    assert_int_equal(nw_store_count(f->db), 2);

    add_article(f, "a3", "Text three.", 3);
    f->fail_op = "commit";
    f->fail_times = 1000;
    f->fail_rc = -EIO;
    assert_int_equal(nw_store_batch_drain(f->b), 1);
    assert_int_equal(f->done, 2);
    assert_int_equal(count(f, 'a'), 2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_commit_by_size_then_publish_ack_done, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_by_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_failure_rolls_back_and_retries, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_begin_and_apply_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_letter_mapping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drain, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
