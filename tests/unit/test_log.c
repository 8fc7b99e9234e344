/* test_log.c: log lines as a machine reads them: the key=value tail of a message becomes
 * fields of their own in logfmt and in JSON (parsed back with jansson), and a message whose
 * tail is not only pairs stays whole. */
#include "newswire/log.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

static char line[2048];

static const char *
fmt(int level, const char *id, const char *msg)
{
    size_t n = nw_log_format_line(line, sizeof line, level, id, msg);
    assert_true(n > 0 && n < sizeof line);
    assert_int_equal(line[n - 1], '\n');
    line[n] = 0;
    return line;
}

static void
test_logfmt_fields(void **state)
{
    (void)state;
    assert_int_equal(nw_log_set_format("logfmt"), 0);
    nw_log_init("parse", NW_LOG_INFO);
    const char *l = fmt(NW_LOG_WARN, "abc",
                        "dead letter reason=bad-json bytes=12 "
                        "detail=\"line 1: \\\"x\\\"\"");
    assert_non_null(strstr(l, " level=warn svc=parse id=abc msg=\"dead letter\" reason=bad-json "
                              "bytes=12 detail=\"line 1: \\\"x\\\"\"\n"));
    /* Text after the pairs: not a field list, the message stays whole and escaped. */
    l = fmt(NW_LOG_INFO, NULL, "page not ingested url=\"u\" reason=x: timed out");
    assert_non_null(strstr(l, " msg=\"page not ingested url=\\\"u\\\" reason=x: timed out\"\n"));
    assert_null(strstr(l, " id="));
    /* No fields at all */
    l = fmt(NW_LOG_INFO, NULL, "started");
    assert_non_null(strstr(l, " msg=\"started\"\n"));
}

static void
test_json_lines(void **state)
{
    (void)state;
    assert_int_equal(nw_log_set_format("json"), 0);
    nw_log_init("fetch", NW_LOG_INFO);
    const char *l = fmt(NW_LOG_ERROR, "id1",
                        "rejected: bad \"x\"\tnow source=http reason=body-too-large "
                        "bytes=2048 ratio=0.5 code=007 url=\"http://a/\\\"q\\\"\"");
    json_error_t err;
    json_t *j = json_loads(l, 0, &err);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "level")), "error");
    assert_string_equal(json_string_value(json_object_get(j, "svc")), "fetch");
    assert_string_equal(json_string_value(json_object_get(j, "id")), "id1");
    assert_string_equal(json_string_value(json_object_get(j, "msg")), "rejected: bad \"x\"\tnow");
    assert_string_equal(json_string_value(json_object_get(j, "source")), "http");
    assert_string_equal(json_string_value(json_object_get(j, "reason")), "body-too-large");
    assert_int_equal(json_integer_value(json_object_get(j, "bytes")), 2048);
    assert_true(json_is_real(json_object_get(j, "ratio")));
    /* a leading zero is not a JSON number: kept as text */
    assert_string_equal(json_string_value(json_object_get(j, "code")), "007");
    assert_string_equal(json_string_value(json_object_get(j, "url")), "http://a/\"q\"");
    assert_non_null(json_object_get(j, "ts"));
    json_decref(j);
    /* A line cut by the buffer is still one JSON object. */
    char big[1000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    char small[200];
    size_t n = nw_log_format_line(small, sizeof small, NW_LOG_INFO, NULL, big);
    assert_true(n < sizeof small);
    assert_int_equal(small[n - 1], '\n');
    small[n] = 0;
    j = json_loads(small, 0, &err);
    assert_non_null(j);
    assert_non_null(strstr(json_string_value(json_object_get(j, "msg")), "aaa..."));
    json_decref(j);
    assert_int_equal(nw_log_set_format("xml"), -1);
    assert_int_equal(nw_log_set_format("logfmt"), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_logfmt_fields),
        cmocka_unit_test(test_json_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
