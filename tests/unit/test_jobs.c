/* test_jobs.c: the stage jobs (jobs.h) that newswire-parse, newswire-enrich and the CLI filters
 * all run: MessagePack in, MessagePack out, and on failure the dead letter's reason plus what the
 * message said about itself (id, origin, spool, content type, source), which the store needs to
 * acknowledge the letter to the fetch that spooled it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "newswire/enrich.h"
#include "newswire/jobs.h"
#include "newswire/log.h"
#include "newswire/proto.h"

#define WIRE                                                                                       \
    "2024-02-06 Cairo, Egypt - Night trains to Aswan will run again from March, the railway "      \
    "authority said on Tuesday.\n\nNight trains return to Aswan\n\nThe service stopped in 2020. "  \
    "\"We are ready,\" said Kamel el-Wazir, the transport minister.\n"

static void
encode_raw(const char *ctype, const char *body, nw_buf_t *out)
{
    nw_raw_t raw = {
        .v = NW_PROTO_VERSION,
        .id = "0123456789abcdef0123456789abcdef",
        .source = "inbox",
        .fetched = "2024-02-06T10:00:00.000Z",
        .content_type = (char *)ctype,
        .body = (uint8_t *)body,
        .body_len = strlen(body),
        .origin = "fetch-test",
        .spool = 42,
    };
    assert_int_equal(nw_raw_encode(&raw, out), 0);
}

static void
test_parse_job(void **state)
{
    (void)state;
    nw_buf_t in = {0}, out = {0};
    nw_filter_fail_t fail = {0};
    nw_article_t art = {0};
    encode_raw("text/plain", WIRE, &in);
    assert_int_equal(nw_job_parse(NULL, in.data, in.len, &out, &fail), 0);
    assert_null(fail.reason);
    assert_int_equal(nw_article_decode(&art, out.data, out.len), 0);
    assert_string_equal(art.id, "0123456789abcdef0123456789abcdef");
    assert_string_equal(art.origin, "fetch-test");
    assert_int_equal(art.spool, 42);
    assert_non_null(strstr(art.text, "transport minister"));
    nw_article_release(&art);
    nw_buf_release(&in);
    nw_buf_release(&out);
}

/* A parse failure keeps the raw's identity for the dead letter, and writes no output. */
static void
test_parse_job_refused(void **state)
{
    (void)state;
    nw_buf_t in = {0}, out = {0};
    nw_filter_fail_t fail = {0};
    encode_raw("image/png", "not a picture", &in);
    assert_true(nw_job_parse(NULL, in.data, in.len, &out, &fail) < 0);
    assert_string_equal(fail.reason, "unsupported-content-type");
    assert_true(fail.detail[0] != 0);
    assert_string_equal(fail.id, "0123456789abcdef0123456789abcdef");
    assert_string_equal(fail.origin, "fetch-test");
    assert_string_equal(fail.content_type, "image/png");
    assert_string_equal(fail.source, "inbox");
    assert_int_equal(fail.spool, 42);
    assert_int_equal(out.len, 0);
    nw_buf_release(&in);
    nw_buf_release(&out);
}

/* Bytes that are no message at all: "bad-message" with the decoder's reason, nothing else. */
static void
test_bad_message(void **state)
{
    (void)state;
    const uint8_t junk[] = {0xc1, 0x00, 0xff};
    nw_buf_t out = {0};
    nw_filter_fail_t fail = {0};
    assert_int_equal(nw_job_parse(NULL, junk, sizeof junk, &out, &fail), -EPROTO);
    assert_string_equal(fail.reason, "bad-message");
    assert_true(fail.detail[0] != 0);
    assert_string_equal(fail.id, "");
    memset(&fail, 0, sizeof fail);
    /* enrich decodes before it touches the enricher, so none is needed to refuse junk */
    assert_int_equal(nw_job_enrich(NULL, junk, sizeof junk, &out, &fail), -EPROTO);
    assert_string_equal(fail.reason, "bad-message");
    assert_int_equal(out.len, 0);
}

/* parse then enrich, as the pipeline chains them: the enriched document keeps the article. */
static void
test_enrich_job(void **state)
{
    (void)state;
    nw_enricher_t *ref = NULL;
    if (nw_enricher_new(NW_SOURCE_DIR "/data", NULL, &ref) < 0) {
        print_message("no reference data in %s/data: %s\n", NW_SOURCE_DIR, nw_enrich_error());
        skip();
    }
    nw_buf_t in = {0}, art = {0}, out = {0};
    nw_filter_fail_t fail = {0};
    nw_enriched_t e = {0};
    encode_raw("text/plain", WIRE, &in);
    assert_int_equal(nw_job_parse(NULL, in.data, in.len, &art, &fail), 0);
    assert_int_equal(nw_job_enrich(ref, art.data, art.len, &out, &fail), 0);
    assert_null(fail.reason);
    assert_int_equal(nw_enriched_decode(&e, out.data, out.len), 0);
    assert_string_equal(e.art.id, "0123456789abcdef0123456789abcdef");
    assert_string_equal(e.art.lang, "en");
    assert_true(e.words > 10);
    assert_true(e.n_topics > 0);
    nw_enriched_release(&e);
    nw_buf_release(&in);
    nw_buf_release(&art);
    nw_buf_release(&out);
    nw_enricher_destroy(&ref);
}

int
main(void)
{
    nw_log_init("test", NW_LOG_OFF);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_job),
        cmocka_unit_test(test_parse_job_refused),
        cmocka_unit_test(test_bad_message),
        cmocka_unit_test(test_enrich_job),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
