/* test_spool.c: the durable spool on real files in a temporary directory: append, group sync
 * and recovery; a torn tail cut at every byte offset of the last record; a corrupt checksum;
 * acks and segment deletion; the unacked set after a reopen; re-send order and backoff; the
 * bound with its hysteresis; a write refused by RLIMIT_FSIZE (EFBIG) and a failed fsync, both
 * cut back to the last good record; the directory lock. */
#include "newswire/spool.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "newswire/log.h"

typedef struct fixture {
    char dir[64];
} fixture_t;

static int
setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/nw-test-spool-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    nw_log_init("test", NW_LOG_ERROR);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture_t *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static nw_spool_t *
open_ok(const char *dir, uint64_t max)
{
    char err[256];
    nw_spool_t *s = nw_spool_open(dir, max, err, sizeof err);
    if (s == NULL)
        fail_msg("open: %s", err);
    return s;
}

static void
payload(int i, char *buf, size_t n)
{
    snprintf(buf, n, "message number %d with some bytes", i);
}

static uint64_t
append_str(nw_spool_t *s, uint8_t tag, const char *text)
{
    uint64_t seq = 0;
    assert_int_equal(nw_spool_append(s, tag, text, strlen(text), &seq), 0);
    return seq;
}

/* What a resend pass saw, in order. */
typedef struct seen {
    uint64_t seq[64];
    uint8_t tag[64];
    char text[64][64];
    size_t n;
    int refuse_after; /* answer -EAGAIN once this many were taken (-1: never) */
} seen_t;

static int
collect(void *arg, uint64_t seq, uint8_t tag, const uint8_t *p, size_t len)
{
    seen_t *s = arg;
    if (s->refuse_after >= 0 && s->n >= (size_t)s->refuse_after)
        return -EAGAIN;
    assert_true(s->n < 64 && len < 64);
    s->seq[s->n] = seq;
    s->tag[s->n] = tag;
    memcpy(s->text[s->n], p, len);
    s->text[s->n][len] = 0;
    s->n++;
    return 0;
}

static size_t
resend_all(nw_spool_t *s, int64_t now, seen_t *seen)
{
    memset(seen, 0, sizeof *seen);
    seen->refuse_after = -1;
    int n = nw_spool_resend(s, now, collect, seen, 1000);
    assert_true(n >= 0);
    return (size_t)n;
}

/* After a reopen: nothing goes out at the first pass (the records count as sent then), all
 * of them resend_ms (the default, 10 s) later. */
static size_t
resend_reopened(nw_spool_t *s, int64_t now, seen_t *seen)
{
    assert_int_equal(resend_all(s, now, seen), 0);
    assert_int_equal(resend_all(s, now + 9999, seen), 0);
    return resend_all(s, now + 10000, seen);
}

/* Counts what a pass sent, for passes bigger than seen_t holds. */
static int
count_sent(void *arg, uint64_t seq, uint8_t tag, const uint8_t *p, size_t len)
{
    (void)seq, (void)tag, (void)p, (void)len;
    (*(size_t *)arg)++;
    return 0;
}

static size_t
resend_count(nw_spool_t *s, int64_t now)
{
    size_t n = 0;
    int rc = nw_spool_resend(s, now, count_sent, &n, SIZE_MAX);
    assert_int_equal(rc, (int)n);
    return n;
}

static char *
seg_file(const char *dir, uint64_t base)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%020llu.spool", dir, (unsigned long long)base);
    return path;
}

static off_t
file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

static int
count_segments(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "ls %s | grep -c '\\.spool$'", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    assert_non_null(p);
    assert_int_equal(fscanf(p, "%d", &n), 1);
    pclose(p);
    return n;
}

static void
test_append_sync_recover(void **state)
{
    fixture_t *f = *state;
    nw_spool_t *s = open_ok(f->dir, 1 << 20);
    nw_spool_stats_t st;
    seen_t seen;
    char buf[64];
    for (int i = 1; i <= 3; i++) {
        payload(i, buf, sizeof buf);
        assert_int_equal(nw_spool_next_seq(s), (uint64_t)i);
        assert_int_equal(append_str(s, i == 2 ? 'd' : 'r', buf), (uint64_t)i);
    }
    /* Not durable yet: nothing is sent before the sync. */
    assert_int_equal(nw_spool_durable(s), 0);
    assert_int_equal(resend_all(s, 0, &seen), 0);
    assert_int_equal(nw_spool_sync(s), 0);
    assert_int_equal(nw_spool_durable(s), 3);
    /* Nothing new: the next sync has nothing to do. */
    nw_spool_sync_t job;
    assert_int_equal(nw_spool_sync_prepare(s, &job), 1);
    nw_spool_stats(s, &st);
    assert_int_equal(st.unacked, 3);
    assert_int_equal(st.unacked_bytes, 3 * NW_SPOOL_HEADER + 3 * strlen(buf));
    assert_int_equal(st.bytes, st.unacked_bytes);
    nw_spool_close(&s);
    assert_null(s);
    nw_spool_close(&s); /* twice is fine */

    s = open_ok(f->dir, 1 << 20);
    nw_spool_stats(s, &st);
    assert_int_equal(st.unacked, 3);
    assert_int_equal(st.next_seq, 4);
    assert_int_equal(st.truncated, 0);
    /* Everything recovered is due resend_ms after the restart, oldest first, with its tag. */
    assert_int_equal(resend_reopened(s, 1000, &seen), 3);
    for (int i = 0; i < 3; i++) {
        payload(i + 1, buf, sizeof buf);
        assert_int_equal(seen.seq[i], (uint64_t)i + 1);
        assert_int_equal(seen.tag[i], i == 1 ? 'd' : 'r');
        assert_string_equal(seen.text[i], buf);
    }
    nw_spool_close(&s);
}

/* Cut the last record short at every byte offset: the open must find and cut the torn tail,
 * keep the first record, and take appends after it. */
static void
test_torn_tail_every_offset(void **state)
{
    fixture_t *f = *state;
    nw_spool_t *s = open_ok(f->dir, 1 << 20);
    append_str(s, 'r', "the first record, which must survive");
    assert_int_equal(nw_spool_sync(s), 0);
    off_t good = file_size(seg_file(f->dir, 1));
    append_str(s, 'r', "the second record, torn by a crash");
    assert_int_equal(nw_spool_sync(s), 0);
    nw_spool_close(&s);
    char *path = seg_file(f->dir, 1);
    off_t full = file_size(path);
    uint8_t *copy = malloc((size_t)full);
    int fd = open(path, O_RDONLY);
    assert_int_equal(read(fd, copy, (size_t)full), full);
    close(fd);

    for (off_t cut = good; cut < full; cut++) {
        fd = open(path, O_WRONLY | O_TRUNC);
        assert_int_equal(write(fd, copy, (size_t)cut), cut);
        close(fd);
        s = open_ok(f->dir, 1 << 20);
        nw_spool_stats_t st;
        nw_spool_stats(s, &st);
        assert_int_equal(st.unacked, 1);
        assert_int_equal(st.truncated, (uint64_t)(cut - good));
        assert_int_equal(file_size(path), good);
        assert_int_equal(st.next_seq, 2);
        nw_spool_close(&s);
    }
    /* And the spool goes on after the cut. */
    s = open_ok(f->dir, 1 << 20);
    assert_int_equal(append_str(s, 'r', "written after recovery"), 2);
    assert_int_equal(nw_spool_sync(s), 0);
    nw_spool_close(&s);
    s = open_ok(f->dir, 1 << 20);
    seen_t seen;
    assert_int_equal(resend_reopened(s, 1000, &seen), 2);
    assert_string_equal(seen.text[1], "written after recovery");
    nw_spool_close(&s);
    free(copy);
}

static void
test_corrupt_checksum(void **state)
{
    fixture_t *f = *state;
    nw_spool_t *s = open_ok(f->dir, 1 << 20);
    append_str(s, 'r', "record one");
    assert_int_equal(nw_spool_sync(s), 0);
    off_t second = file_size(seg_file(f->dir, 1));
    append_str(s, 'r', "record two");
    append_str(s, 'r', "record three");
    assert_int_equal(nw_spool_sync(s), 0);
    nw_spool_close(&s);
    /* Flip one payload byte of record two. */
    int fd = open(seg_file(f->dir, 1), O_RDWR);
    uint8_t b;
    assert_int_equal(pread(fd, &b, 1, second + NW_SPOOL_HEADER + 3), 1);
    b ^= 0x20;
    assert_int_equal(pwrite(fd, &b, 1, second + NW_SPOOL_HEADER + 3), 1);
    close(fd);
    s = open_ok(f->dir, 1 << 20);
    nw_spool_stats_t st;
    nw_spool_stats(s, &st);
    assert_int_equal(st.unacked, 1);
    assert_int_equal(file_size(seg_file(f->dir, 1)), second);
    seen_t seen;
    assert_int_equal(resend_reopened(s, 1000, &seen), 1);
    assert_string_equal(seen.text[0], "record one");
    nw_spool_close(&s);
}

static void
test_ack_compaction(void **state)
{
    fixture_t *f = *state;
    nw_spool_t *s = open_ok(f->dir, 1 << 20);
    char buf[64];
    nw_spool_set_segment_max(s, 200); /* about three records per segment */
    for (int i = 1; i <= 12; i++) {
        payload(i, buf, sizeof buf);
        append_str(s, 'r', buf);
        assert_int_equal(nw_spool_sync(s), 0);
    }
    int before = count_segments(f->dir);
    assert_true(before >= 3);
    /* A duplicate or unknown ack changes nothing. */
    assert_int_equal(nw_spool_ack(s, 99), 0);
    for (uint64_t seq = 1; seq <= 12; seq++)
        assert_int_equal(nw_spool_ack(s, seq), 1);
    assert_int_equal(nw_spool_ack(s, 5), 0);
    nw_spool_stats_t st;
    nw_spool_stats(s, &st);
    assert_int_equal(st.unacked, 0);
    assert_int_equal(st.unacked_bytes, 0);
    /* Every segment but the one being written is gone. */
    assert_int_equal(st.segments, 1);
    assert_int_equal(count_segments(f->dir), 1);
    nw_spool_close(&s);
    /* After a restart the sequence goes on where it was, though every record was acked. */
    s = open_ok(f->dir, 1 << 20);
    nw_spool_stats(s, &st);
    assert_int_equal(st.unacked, 0);
    assert_int_equal(st.next_seq, 13);
    nw_spool_close(&s);
}

static void
test_unacked_after_reopen(void **state)
{
    fixture_t *f = *state;
    nw_spool_t *s = open_ok(f->dir, 1 << 20);
    char buf[64];
    for (int i = 1; i <= 5; i++) {
        payload(i, buf, sizeof buf);
        append_str(s, 'r', buf);
    }
    assert_int_equal(nw_spool_sync(s), 0);
    assert_int_equal(nw_spool_ack(s, 2), 1);
    assert_int_equal(nw_spool_ack(s, 4), 1);
    nw_spool_close(&s);
    s = open_ok(f->dir, 1 << 20);
    seen_t seen;
    assert_int_equal(resend_reopened(s, 1000, &seen), 3);
    assert_int_equal(seen.seq[0], 1);
    assert_int_equal(seen.seq[1], 3);
    assert_int_equal(seen.seq[2], 5);
    nw_spool_close(&s);
}

static void
test_resend_backoff(void **state)
{
    fixture_t *f = *state;
    nw_spool_t *s = open_ok(f->dir, 1 << 20);
    seen_t seen;
    nw_spool_set_resend(s, 100, 350);
    append_str(s, 'r', "one");
    append_str(s, 'r', "two");
    assert_int_equal(nw_spool_sync(s), 0);
    /* The caller sent both itself right after the sync. */
    nw_spool_sent(s, 1, 1000);
    nw_spool_sent(s, 2, 1000);
    assert_int_equal(nw_spool_next_due(s), 1100);
    assert_int_equal(resend_all(s, 1099, &seen), 0);
    assert_int_equal(resend_all(s, 1100, &seen), 2); /* next: +200 */
    assert_int_equal(resend_all(s, 1299, &seen), 0);
    assert_int_equal(nw_spool_ack(s, 1), 1);
    /* Acks are flowing and 2 is newer than everything acknowledged: most likely still queued
     * behind, so it is held (noticed at 1300) until acks stop for resend_ms. */
    assert_int_equal(resend_all(s, 1300, &seen), 0);
    assert_int_equal(resend_all(s, 1399, &seen), 0);
    assert_int_equal(resend_all(s, 1400, &seen), 1); /* next: +350 (capped, not 400) */
    assert_int_equal(seen.seq[0], 2);
    assert_int_equal(nw_spool_next_due(s), 1750);
    /* A full queue stops the pass; the record stays due. */
    memset(&seen, 0, sizeof seen);
    seen.refuse_after = 0;
    assert_int_equal(nw_spool_resend(s, 1750, collect, &seen, 10), 0);
    assert_int_equal(nw_spool_next_due(s), 1750);
    nw_spool_due_now(s, 2);
    assert_int_equal(nw_spool_next_due(s), 0);
    assert_int_equal(nw_spool_ack(s, 2), 1);
    assert_int_equal(nw_spool_next_due(s), INT64_MAX);
    nw_spool_close(&s);
}

/* A record lost in flight (a broker that died) is re-sent once one sent resend_ms after it is
 * acknowledged, without waiting for acks to stop; records newer than every ack wait while acks
 * flow. */
static void
test_resend_lost_while_flowing(void **state)
{
    fixture_t *f = *state;
    nw_spool_t *s = open_ok(f->dir, 1 << 20);
    seen_t seen;
    nw_spool_set_resend(s, 100, 1000);
    for (int i = 0; i < 4; i++)
        append_str(s, 'r', "item");
    assert_int_equal(nw_spool_sync(s), 0);
    nw_spool_sent(s, 1, 1000);
    nw_spool_sent(s, 2, 1000);
    nw_spool_sent(s, 3, 1100);
    nw_spool_sent(s, 4, 1100);
    /* 2 was lost; 1 and 3 came back; 4 is still on its way. */
    assert_int_equal(nw_spool_ack(s, 1), 1);
    assert_int_equal(nw_spool_ack(s, 3), 1);
    assert_int_equal(resend_all(s, 1100, &seen), 1);
    assert_int_equal(seen.seq[0], 2);
    /* Acks stop: after resend_ms without one, 4 is re-sent too. */
    assert_int_equal(resend_all(s, 1199, &seen), 0);
    assert_int_equal(resend_all(s, 1200, &seen), 1);
    assert_int_equal(seen.seq[0], 4);
    nw_spool_close(&s);
}

/* A long backlog with parallel workers: records sent together come back in a slightly
 * different order, long after resend_ms. One overtaken by a newer record is still on its way,
 * not lost, and is not re-sent while acks flow. (Before send times were compared, 2 was
 * re-sent here, because a higher seq had been acknowledged: about a fifth of a 5,000 burst.) */
static void
test_resend_backlog_reordered(void **state)
{
    fixture_t *f = *state;
    nw_spool_t *s = open_ok(f->dir, 1 << 20);
    seen_t seen;
    nw_spool_set_resend(s, 100, 1000);
    for (int i = 0; i < 4; i++)
        append_str(s, 'r', "item");
    assert_int_equal(nw_spool_sync(s), 0);
    for (uint64_t q = 1; q <= 4; q++)
        nw_spool_sent(s, q, 1000);
    /* The backlog drains 400 ms later; 3 and 4 overtake 2. */
    assert_int_equal(nw_spool_ack(s, 1), 1);
    assert_int_equal(nw_spool_ack(s, 3), 1);
    assert_int_equal(nw_spool_ack(s, 4), 1);
    assert_int_equal(resend_all(s, 1400, &seen), 0);
    assert_int_equal(resend_all(s, 1450, &seen), 0);
    assert_int_equal(nw_spool_ack(s, 2), 1);
    assert_int_equal(resend_all(s, 1500, &seen), 0);
    assert_int_equal(nw_spool_next_due(s), INT64_MAX);
    nw_spool_close(&s);
}

/* A restarted fetch with a long backlog unacked. The pipeline still holds most of it (only fetch
 * died): nothing goes out again at the restart, and what the store acknowledges within
 * resend_ms is never re-sent. What is left once acks stop goes out paced: at most the budget's
 * 1000 at once, then 100 a second, or twice the acks meanwhile. New records never wait. (The
 * spool used to make all 1,500 due at the restart: the whole backlog sent twice.) */
static void
test_restart_paced(void **state)
{
    fixture_t *f = *state;
    nw_spool_t *s = open_ok(f->dir, 64 << 20);
    for (int i = 0; i < 1500; i++)
        append_str(s, 'r', "backlog record");
    assert_int_equal(nw_spool_sync(s), 0);
    nw_spool_close(&s);

    s = open_ok(f->dir, 64 << 20);
    assert_int_equal(resend_count(s, 1000), 0);
    /* The pipeline drains what it held before the restart: acks for 1..300. */
    for (uint64_t q = 1; q <= 300; q++)
        assert_int_equal(nw_spool_ack(s, q), 1);
    assert_int_equal(resend_count(s, 6000), 0);
    /* Due now, but acks came lately and nothing newer was acknowledged: still on its way. */
    assert_int_equal(resend_count(s, 11000), 0);
    /* Acks stopped resend_ms ago: the rest counts as lost, re-sent a budget's worth at most. */
    assert_int_equal(resend_count(s, 16001), 1000);
    assert_int_equal(resend_count(s, 16001), 0);
    assert_int_equal(resend_count(s, 16251), 25); /* 250 ms at 100 a second */
    /* A new record is sent at once with the budget spent. */
    append_str(s, 'r', "new while re-sending");
    assert_int_equal(nw_spool_sync(s), 0);
    assert_int_equal(resend_count(s, 16251), 1);
    /* Acks of re-sent records prove nothing about the rest (the first copies may be what
     * came back): nothing more goes. */
    for (uint64_t q = 301; q <= 450; q++)
        assert_int_equal(nw_spool_ack(s, q), 1);
    assert_int_equal(resend_count(s, 16300), 0);
    /* New records sent at 16300 come back: everything sent resend_ms before them is lost
     * for sure, and their 150 acks allow 300 re-sends, so all the 175 left go (the clock
     * alone would allow 25 more). */
    uint64_t first_new = nw_spool_next_seq(s);
    for (int i = 0; i < 150; i++)
        append_str(s, 'r', "new record");
    assert_int_equal(nw_spool_sync(s), 0);
    assert_int_equal(resend_count(s, 16300), 150);
    for (uint64_t q = first_new; q < first_new + 150; q++)
        assert_int_equal(nw_spool_ack(s, q), 1);
    assert_int_equal(resend_count(s, 16501), 175);
    nw_spool_close(&s);
}

/* A stall with nothing lost (the store restarting): acks stop, the due records go out again
 * (paced), then the pipeline resumes and acknowledges the first copies in order. Those acks
 * must not make the rest of the backlog count as lost: they answered records sent long
 * before the re-send. (Taking the re-send's time, every such ack declared everything sent
 * resend_ms before it lost: the other 1,000 re-sent here as fast as acks came, and a storm in
 * bench/chaos.) */
static void
test_resend_stall_no_cascade(void **state)
{
    fixture_t *f = *state;
    nw_spool_t *s = open_ok(f->dir, 64 << 20);
    for (int i = 0; i < 2000; i++)
        append_str(s, 'r', "backlog record");
    assert_int_equal(nw_spool_sync(s), 0);
    assert_int_equal(resend_count(s, 1000), 2000); /* first sends */
    assert_int_equal(nw_spool_ack(s, 1), 1);
    assert_int_equal(resend_count(s, 1500), 0);
    /* Acks stopped for resend_ms: the budget's worth (full: 1000) of the oldest go again. */
    assert_int_equal(resend_count(s, 11500), 1000);
    /* The pipeline resumes: the first copies of 2..51 come back. */
    for (uint64_t q = 2; q <= 51; q++)
        assert_int_equal(nw_spool_ack(s, q), 1);
    assert_int_equal(resend_count(s, 11600), 0);
    assert_int_equal(resend_count(s, 12000), 0);
    nw_spool_close(&s);
}

static void
test_bound(void **state)
{
    fixture_t *f = *state;
    char buf[100];
    memset(buf, 'x', sizeof buf);
    uint64_t rec = NW_SPOOL_HEADER + sizeof buf, seq;
    nw_spool_t *s = open_ok(f->dir, 10 * rec);
    for (int i = 0; i < 9; i++) {
        assert_int_equal(nw_spool_full(s), 0);
        assert_int_equal(nw_spool_append(s, 'r', buf, sizeof buf, &seq), 0);
    }
    assert_int_equal(nw_spool_full(s), 0);
    assert_int_equal(nw_spool_append(s, 'r', buf, sizeof buf, &seq), 0);
    assert_int_equal(nw_spool_full(s), 1); /* 10 records: at the bound */
    assert_int_equal(nw_spool_sync(s), 0);
    assert_int_equal(nw_spool_ack(s, 1), 1);
    assert_int_equal(nw_spool_full(s), 1); /* 9 of 10: not yet below 90% */
    assert_int_equal(nw_spool_ack(s, 2), 1);
    assert_int_equal(nw_spool_full(s), 0); /* 8 of 10 */
    assert_int_equal(nw_spool_append(s, 'r', buf, sizeof buf, &seq), 0);
    assert_int_equal(nw_spool_full(s), 0); /* 9 of 10: below the bound, not full again */
    nw_spool_close(&s);
}

static void
test_efbig_cut_back(void **state)
{
    fixture_t *f = *state;
    struct rlimit old, lim;
    char big[300];
    memset(big, 'y', sizeof big);
    signal(SIGXFSZ, SIG_IGN);
    nw_spool_t *s = open_ok(f->dir, 1 << 20);
    append_str(s, 'r', "fits");
    assert_int_equal(nw_spool_sync(s), 0);
    off_t good = file_size(seg_file(f->dir, 1));
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = (rlim_t)good + 100;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    uint64_t seq = 0;
    assert_int_equal(nw_spool_append(s, 'r', big, sizeof big, &seq), -EFBIG);
    assert_int_equal(file_size(seg_file(f->dir, 1)), good); /* the partial write was cut */
    nw_spool_stats_t st;
    nw_spool_stats(s, &st);
    assert_int_equal(st.unacked, 1);
    assert_int_equal(st.next_seq, 2);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    /* Room again: the same append works. */
    assert_int_equal(nw_spool_append(s, 'r', big, sizeof big, &seq), 0);
    assert_int_equal(seq, 2);
    assert_int_equal(nw_spool_sync(s), 0);
    nw_spool_close(&s);
    s = open_ok(f->dir, 1 << 20);
    nw_spool_stats(s, &st);
    assert_int_equal(st.unacked, 2);
    assert_int_equal(st.truncated, 0);
    nw_spool_close(&s);
}

/* A failed fsync: the records it covered, and any appended since, are cut and forgotten. */
static void
test_failed_sync(void **state)
{
    fixture_t *f = *state;
    nw_spool_t *s = open_ok(f->dir, 1 << 20);
    append_str(s, 'r', "durable");
    assert_int_equal(nw_spool_sync(s), 0);
    off_t good = file_size(seg_file(f->dir, 1));
    append_str(s, 'r', "lost with the fsync");
    nw_spool_sync_t job;
    assert_int_equal(nw_spool_sync_prepare(s, &job), 0);
    assert_int_equal(job.upto, 2);
    assert_int_equal(nw_spool_sync_prepare(s, &job), -EBUSY); /* one at a time */
    append_str(s, 'r', "appended while the fsync ran");
    job.err = -EIO; /* what nw_spool_sync_run reports when fdatasync fails */
    assert_int_equal(nw_spool_sync_finish(s, &job), -EIO);
    assert_int_equal(nw_spool_durable(s), 1);
    assert_int_equal(file_size(seg_file(f->dir, 1)), good);
    nw_spool_stats_t st;
    nw_spool_stats(s, &st);
    assert_int_equal(st.unacked, 1);
    assert_int_equal(nw_spool_sync_prepare(s, &job), 1); /* nothing left to sync */
    /* And the next append and sync work. */
    uint64_t seq = append_str(s, 'r', "after the failure");
    assert_true(seq > 3);
    assert_int_equal(nw_spool_sync(s), 0);
    nw_spool_close(&s);
    s = open_ok(f->dir, 1 << 20);
    seen_t seen;
    assert_int_equal(resend_reopened(s, 1000, &seen), 2);
    assert_string_equal(seen.text[0], "durable");
    assert_string_equal(seen.text[1], "after the failure");
    nw_spool_close(&s);
}

static void
test_lock_and_bad_input(void **state)
{
    fixture_t *f = *state;
    char err[256];
    uint64_t seq;
    nw_spool_t *s = open_ok(f->dir, 1 << 20);
    assert_null(nw_spool_open(f->dir, 1 << 20, err, sizeof err));
    assert_non_null(strstr(err, "in use"));
    assert_int_equal(nw_spool_append(s, 'r', "", 0, &seq), -EINVAL);
    nw_spool_close(&s);
    s = open_ok(f->dir, 1 << 20); /* the lock went with the close */
    nw_spool_close(&s);
    assert_null(nw_spool_open("", 1, err, sizeof err));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_sync_recover, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail_every_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_checksum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ack_compaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unacked_after_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resend_backoff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resend_lost_while_flowing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resend_backlog_reordered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_paced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resend_stall_no_cascade, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_efbig_cut_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_and_bad_input, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
