/* test_util.c: the small shared modules every other one leans on: buf (growable bytes), util
 * (clocks, ISO times, UTF-8 validation, files) and log (logfmt lines, escaping, levels). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "newswire/buf.h"
#include "newswire/log.h"
#include "newswire/util.h"

static void
test_buf_grows_and_terminates(void **state)
{
    (void)state;
    nw_buf_t b = {0};
    for (int i = 0; i < 1000; i++)
        assert_int_equal(nw_buf_printf(&b, "%d,", i), 0);
    assert_int_equal(b.data[b.len], 0);
    assert_true(strncmp((char *)b.data, "0,1,2,", 6) == 0);
    assert_non_null(strstr((char *)b.data, ",999,"));
    size_t len = b.len;
    assert_int_equal(nw_buf_append(&b, "", 0), 0);
    assert_int_equal(b.len, len);
    nw_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal((char *)b.data, "");
    assert_int_equal(nw_buf_puts(&b, "abc"), 0);
    size_t n = 0;
    uint8_t *p = nw_buf_steal(&b, &n);
    assert_int_equal(n, 3);
    assert_memory_equal(p, "abc", 3);
    assert_null(b.data);
    free(p);
    nw_buf_release(&b);
    nw_buf_release(NULL);
    /* An impossible size is refused, not wrapped around. */
    assert_int_equal(nw_buf_reserve(&b, SIZE_MAX - 4), -ENOMEM);
}

static void
test_utf8_validation(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t n;
        int ok;
    } cases[] = {
        {"plain ascii", 11, 1},
        {"caf\xc3\xa9", 5, 1},      /* é */
        {"\xe2\x82\xac", 3, 1},     /* € */
        {"\xf0\x9f\x93\xb0", 4, 1}, /* newspaper emoji */
        {"\xc3", 1, 0},             /* truncated */
        {"\xc0\xaf", 2, 0},         /* overlong / */
        {"\xe0\x80\xaf", 3, 0},     /* overlong */
        {"\xed\xa0\x80", 3, 0},     /* surrogate */
        {"\xf4\x90\x80\x80", 4, 0}, /* above U+10FFFF */
        {"\xff", 1, 0},             /* never valid */
        {"a\0b", 3, 0},             /* NUL is not text */
        {"\xe2\x82", 2, 0},         /* truncated 3-byte */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        assert_int_equal(nw_utf8_valid((const uint8_t *)cases[i].s, cases[i].n), cases[i].ok);
    /* The same inside ASCII runs, at every offset, so that the 8-byte ASCII path meets each
     * case on and across its word boundaries: a NUL, a lone continuation byte, 0xff and a
     * truncated sequence anywhere in the run are caught; control bytes and a two-byte
     * character are not errors. */
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        for (size_t pos = 0; pos + cases[i].n <= 40; pos++) {
            uint8_t buf[40];
            memset(buf, 'a', sizeof buf);
            memcpy(buf + pos, cases[i].s, cases[i].n);
            /* A truncated sequence followed by ASCII is invalid wherever it sits. */
            assert_int_equal(nw_utf8_valid(buf, sizeof buf), cases[i].ok);
        }
    }
    static const uint8_t bytes[][2] = {{0x00, 'a'}, {0x80, 'a'}, {0xff, 'a'},
                                       {0x01, 'a'}, {0x7f, 'a'}, {0xc3, 0xa9}};
    static const int ok[] = {0, 0, 0, 1, 1, 1};
    for (size_t b = 0; b < sizeof ok / sizeof *ok; b++)
        for (size_t pos = 0; pos + 2 <= 40; pos++) {
            uint8_t buf[40];
            memset(buf, 'z', sizeof buf);
            memcpy(buf + pos, bytes[b], 2);
            assert_int_equal(nw_utf8_valid(buf, sizeof buf), ok[b]);
        }
}

static void
test_time_iso(void **state)
{
    (void)state;
    char out[40];
    nw_time_iso(0, out, sizeof out);
    assert_string_equal(out, "1970-01-01T00:00:00.000Z");
    nw_time_iso(1707218096789LL, out, sizeof out); /* 2024-02-06T11:14:56.789Z */
    assert_string_equal(out, "2024-02-06T11:14:56.789Z");
    int64_t now = nw_now_ms();
    assert_true(now > 1700000000000LL);
    uint64_t a = nw_mono_ns(), b = nw_mono_ns();
    assert_true(b >= a);
}

/* nw_time_parse reads what nw_time_iso writes and the forms people type. */
static void
test_time_parse(void **state)
{
    (void)state;
    int64_t ms = 0;
    char iso[40];
    nw_time_iso(1707206100123LL, iso, sizeof iso);
    assert_int_equal(nw_time_parse(iso, &ms), 0);
    assert_int_equal(ms, 1707206100123LL);
    assert_int_equal(nw_time_parse("2024-02-06T07:55:00Z", &ms), 0);
    assert_int_equal(ms, 1707206100000LL);
    assert_int_equal(nw_time_parse("2024-02-06T08:55:00+01:00", &ms), 0);
    assert_int_equal(ms, 1707206100000LL);
    assert_int_equal(nw_time_parse("2024-02-06 02:55-0500", &ms), 0);
    assert_int_equal(ms, 1707206100000LL);
    assert_int_equal(nw_time_parse("2024-02-06", &ms), 0);
    assert_int_equal(ms, 1707177600000LL);
    assert_int_equal(nw_time_parse("1969-12-31T23:59:59Z", &ms), 0);
    assert_int_equal(ms, -1000);
    static const char *const bad[] = {"",
                                      "2024",
                                      "2024-13-01",
                                      "2024-02-06T",
                                      "2024-02-06T25:00",
                                      "2024-02-06Tx",
                                      "yesterday",
                                      "2024-02-06 and more",
                                      "2024-02-06T07:55:00.Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(nw_time_parse(bad[i], &ms), -EINVAL);
}

static void
test_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/nw-util.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char deep[256], file[300];
    snprintf(deep, sizeof deep, "%s/a/b/c", dir);
    assert_int_equal(nw_mkdirs(deep, 0755), 0);
    assert_int_equal(nw_mkdirs(deep, 0755), 0); /* again: fine */
    snprintf(file, sizeof file, "%s/f.txt", deep);
    FILE *fp = fopen(file, "w");
    assert_non_null(fp);
    for (int i = 0; i < 20000; i++)
        fputs("0123456789", fp); /* 200,000 bytes: more than one read buffer */
    fclose(fp);
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(nw_read_file(file, 1 << 20, &buf, &len), 0);
    assert_int_equal(len, 200000);
    assert_int_equal(buf[len], 0);
    assert_memory_equal(buf + 199990, "0123456789", 10);
    free(buf);
    buf = NULL;
    assert_int_equal(nw_read_file(file, 1000, &buf, &len), -EFBIG);
    assert_null(buf);
    assert_int_equal(nw_read_file("/nonexistent/x", 10, &buf, &len), -ENOENT);
    char *s = nw_strndup("abcdef", 3);
    assert_string_equal(s, "abc");
    free(s);
    unlink(file);
    for (int i = 0; i < 3; i++) {
        rmdir(deep);
        *strrchr(deep, '/') = 0;
    }
    rmdir(dir);
}

/* Capture what the logger writes to stderr. */
static char *
capture_log(int level, const char *id, const char *msg)
{
    char path[] = "/tmp/nw-log.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    NW_LOG(level, id, "%s", msg);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fd);
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(nw_read_file(path, 1 << 16, &buf, &len), 0);
    unlink(path);
    return (char *)buf;
}

static void
test_log_logfmt(void **state)
{
    (void)state;
    nw_log_init("tester", NW_LOG_INFO);
    char *line = capture_log(NW_LOG_WARN, "abc123", "bad \"thing\"\nhere");
    /* One event, one line; quotes, backslashes and newlines escaped. */
    assert_non_null(
        strstr(line, " level=warn svc=tester id=abc123 msg=\"bad \\\"thing\\\"\\nhere\""));
    assert_int_equal(strncmp(line, "ts=", 3), 0);
    assert_non_null(strchr(line, '\n'));
    assert_int_equal(strchr(line, '\n')[1], 0);
    free(line);
    /* Below the level nothing is written (and nothing formatted). */
    line = capture_log(NW_LOG_DEBUG, NULL, "quiet");
    assert_string_equal(line, "");
    free(line);
    line = capture_log(NW_LOG_ERROR, NULL, "no id");
    assert_null(strstr(line, " id="));
    free(line);
    assert_int_equal(nw_log_parse_level("debug"), NW_LOG_DEBUG);
    assert_int_equal(nw_log_parse_level("off"), NW_LOG_OFF);
    assert_int_equal(nw_log_parse_level("loud"), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_grows_and_terminates),
        cmocka_unit_test(test_utf8_validation),
        cmocka_unit_test(test_time_iso),
        cmocka_unit_test(test_time_parse),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_log_logfmt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
