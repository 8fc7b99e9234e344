/* test_parse.c: nw_parse_raw end to end on raw structs (no codec, no sockets): dispatch by
 * content type, charset conversion, JSON input, metadata copied from raw, pass-through of
 * unknown keys, one test per dead-letter reason, and nw_parse_sniff. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "newswire/metrics.h"
#include "newswire/parse.h"
#include "newswire/proto.h"

static nw_raw_t
raw_of(const char *ctype, const char *charset, const void *body, size_t len)
{
    nw_raw_t r;
    memset(&r, 0, sizeof(r));
    r.v = NW_PROTO_VERSION;
    r.id = "a1b2c3d4";
    r.source = "inbox";
    r.fetched = "2024-01-01T00:00:00.000Z";
    r.content_type = (char *)ctype;
    r.charset = (char *)charset;
    r.body = (uint8_t *)body;
    r.body_len = len;
    return r;
}

static void
parse_ok(const nw_raw_t *r, nw_article_t *a)
{
    const char *reason = NULL;
    char detail[256];
    int rc = nw_parse_raw(r, a, &reason, detail, sizeof(detail));
    if (rc != 0)
        fail_msg("parse failed: rc=%d reason=%s detail=%s", rc, reason ? reason : "-", detail);
    assert_null(reason);
}

static void
parse_fails(const nw_raw_t *r, const char *want)
{
    nw_article_t a;
    const char *reason = NULL;
    char detail[256];
    assert_int_equal(nw_parse_raw(r, &a, &reason, detail, sizeof(detail)), -EPROTO);
    assert_non_null(reason);
    assert_string_equal(reason, want);
    assert_true(strlen(detail) > 0);
    assert_null(a.text); /* released on error */
    assert_null(a.id);
}

static void
test_plain_copies_raw_fields(void **state)
{
    (void)state;
    const char *body = "OSLO (Reuters) - The fjord froze early this year.\n\nBoats stayed in.\n";
    nw_raw_t r = raw_of("text/plain; charset=utf-8", NULL, body, strlen(body));
    uint8_t extra[] = {0xa1, 'x', 0x01}; /* {"x": 1} */
    r.url = "https://example.org/fjord";
    r.origin = "fetch-1";
    r.spool = 42;
    r.extra.buf = extra;
    r.extra.len = sizeof(extra);
    r.extra.n = 1;
    nw_article_t a;
    parse_ok(&r, &a);
    assert_int_equal(a.v, NW_PROTO_VERSION);
    assert_string_equal(a.id, "a1b2c3d4");
    assert_string_equal(a.url, "https://example.org/fjord");
    assert_string_equal(a.source, "inbox");
    assert_string_equal(a.fetched, "2024-01-01T00:00:00.000Z");
    assert_string_equal(a.origin, "fetch-1");
    assert_int_equal(a.spool, 42);
    assert_string_equal(a.content_type, "text/plain");
    assert_string_equal(a.dateline, "Oslo");
    assert_string_equal(a.text, "The fjord froze early this year.\n\nBoats stayed in.");
    assert_int_equal(a.extra.n, 1);
    assert_int_equal(a.extra.len, sizeof(extra));
    assert_memory_equal(a.extra.buf, extra, sizeof(extra));
    assert_true(a.extra.buf != extra);
    nw_article_release(&a);
}

static void
test_charsets(void **state)
{
    (void)state;
    nw_article_t a;
    /* latin-1 label, read as windows-1252: 0x93/0x94 are curly quotes */
    const char *l1 = "\x93"
                     "Caf\xe9\x94, she said.";
    nw_raw_t r = raw_of("text/plain", "iso-8859-1", l1, strlen(l1));
    parse_ok(&r, &a);
    assert_string_equal(a.text, "\xe2\x80\x9c"
                                "Caf\xc3\xa9\xe2\x80\x9d, she said.");
    nw_article_release(&a);

    /* a charset iconv knows */
    const char *koi = "\xf0\xd2\xc9\xd7\xc5\xd4."; /* "Привет." in KOI8-R */
    r = raw_of("text/plain", "koi8-r", koi, strlen(koi));
    parse_ok(&r, &a);
    assert_string_equal(a.text, "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82.");
    nw_article_release(&a);

    /* UTF-16 with a BOM and NUL bytes is fine when declared */
    const char u16[] = "\xff\xfeO\0k\0.\0";
    r = raw_of("text/plain", "utf-16", u16, sizeof(u16) - 1);
    parse_ok(&r, &a);
    assert_string_equal(a.text, "Ok.");
    nw_article_release(&a);

    /* "us-ascii" that is really UTF-8 stays UTF-8 */
    const char *u8 = "Na\xc3\xafve text.";
    r = raw_of("text/plain", "us-ascii", u8, strlen(u8));
    parse_ok(&r, &a);
    assert_string_equal(a.text, u8);
    nw_article_release(&a);

    /* HTML that is not UTF-8 and declares its charset in a meta tag */
    const char *page = "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; "
                       "charset=ISO-8859-1\"></head><body><p>Cr\xe8me br\xfb"
                       "l\xe9"
                       "e.</p></body>"
                       "</html>";
    r = raw_of("text/html", NULL, page, strlen(page));
    parse_ok(&r, &a);
    assert_string_equal(a.text, "Cr\xc3\xa8me br\xc3\xbb"
                                "l\xc3\xa9"
                                "e.");
    nw_article_release(&a);
}

static int64_t
replaced_total(void)
{
    return nw_metrics_value(nw_metrics_counter("nw_parse_replaced_total", NULL, "test"));
}

static void
html_is(const char *charset, const char *page, size_t len, const char *want, int64_t replaced)
{
    nw_article_t a;
    int64_t before = replaced_total();
    nw_raw_t r = raw_of("text/html", charset, page, len);
    parse_ok(&r, &a);
    assert_string_equal(a.content_type, "text/html");
    assert_string_equal(a.text, want);
    assert_int_equal(replaced_total() - before, replaced);
    nw_article_release(&a);
}

#define HTML_IS(cs, page, want, replaced) html_is(cs, page, sizeof(page) - 1, want, replaced)

/* HTML charsets the browsers' way: BOM, header, <meta>, else UTF-8 or windows-1252; bad bytes
 * become U+FFFD and are counted in nw_parse_replaced_total instead of failing the page. */
static void
test_html_charsets(void **state)
{
    (void)state;
    /* Latin-1 without any declaration: not UTF-8, so windows-1252 (0x93/0x94 curly quotes) */
    HTML_IS(NULL,
            "<html><body><p>\x93"
            "Cr\xe8me br\xfbl\xe9\x94, she said.</p></body></html>",
            "\xe2\x80\x9c"
            "Cr\xc3\xa8me br\xc3\xbbl\xc3\xa9\xe2\x80\x9d, she said.",
            0);
    /* windows-1252 leaves 0x81 undefined: browsers keep it as U+0081, which is no error */
    HTML_IS(NULL, "<p>\xff\x81x</p>", "\xc3\xbf x", 0);

    /* a UTF-8 BOM; it beats a header that says otherwise, as in browsers */
    HTML_IS(NULL, "\xef\xbb\xbf<html><body><p>Caf\xc3\xa9.</p></body></html>", "Caf\xc3\xa9.", 0);
    HTML_IS("iso-8859-1", "\xef\xbb\xbf<p>Caf\xc3\xa9.</p>", "Caf\xc3\xa9.", 0);
    /* a UTF-16LE BOM */
    HTML_IS(NULL, "\xff\xfe<\0p\0>\0O\0k\0\xe9\0.\0<\0/\0p\0>\0", "Ok\xc3\xa9.", 0);

    /* the header says UTF-8 but a few bytes are not: replaced and counted, the page kept */
    HTML_IS("utf-8", "<html><body><p>Caf\xc3\xa9 \xff au \xc3 lait \xe2\x80.</p></body></html>",
            "Caf\xc3\xa9 \xef\xbf\xbd au \xef\xbf\xbd lait \xef\xbf\xbd\xef\xbf\xbd.", 4);
    /* so does a <meta> saying UTF-8 */
    HTML_IS(NULL, "<head><meta charset=utf-8></head><p>Caf\xc3\xa9 \xff.</p>",
            "Caf\xc3\xa9 \xef\xbf\xbd.", 1);
    /* bytes not valid in a legacy charset are replaced too */
    HTML_IS("shift_jis",
            "<p>A\x81\x39"
            "B.</p>",
            "A\xef\xbf\xbd"
            "9B.",
            1);

    /* a <meta> that disagrees with the header: the header wins */
    HTML_IS("koi8-r",
            "<html><head><meta charset=\"iso-8859-1\"></head><body><p>\xf0\xd2\xc9\xd7\xc5\xd4."
            "</p></body></html>",
            "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82.", 0);
    HTML_IS("iso-8859-1",
            "<html><head><meta charset=\"utf-8\"></head><body><p>Cr\xe8me.</p></body></html>",
            "Cr\xc3\xa8me.", 0);
    /* without a header the <meta> decides */
    HTML_IS(NULL,
            "<html><head><meta charset=\"koi8-r\"></head><body><p>\xf0\xd2\xc9\xd7\xc5\xd4."
            "</p></body></html>",
            "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82.", 0);
    /* a header label iconv does not know is passed over, not a dead letter */
    HTML_IS("x-no-such-charset", "<p>Cr\xe8me.</p>", "Cr\xc3\xa8me.", 0);
    nw_metrics_reset();
}

static void
test_reason_invalid_utf8(void **state)
{
    (void)state;
    const char *bad = "Caf\xe9 au lait.";
    nw_raw_t r = raw_of("text/plain", NULL, bad, strlen(bad));
    parse_fails(&r, "invalid-utf8");
    r = raw_of("text/plain", "utf-8", "a\0b.", 4);
    parse_fails(&r, "invalid-utf8");
    r = raw_of("text/html", "utf-8", "<p>a\0b.</p>", 10); /* NUL is binary, not a bad byte */
    parse_fails(&r, "invalid-utf8");
    r = raw_of("application/json", NULL, "{\"text\":\"\xc3\"}", 12);
    parse_fails(&r, "invalid-utf8");
}

static void
test_reason_bad_charset(void **state)
{
    (void)state;
    nw_raw_t r = raw_of("text/plain", "x-no-such-charset", "Hello.", 6);
    parse_fails(&r, "bad-charset");
    r = raw_of("text/plain", "shift_jis", "\x81\x39.", 3); /* bad trail byte */
    parse_fails(&r, "bad-charset");
}

static void
test_reason_unsupported(void **state)
{
    (void)state;
    nw_raw_t r = raw_of("image/png", NULL, "\x89PNG\r\n", 6);
    parse_fails(&r, "unsupported-content-type");
    /* declared octet-stream: sniffed, binary refused, text accepted */
    const uint8_t bin[] = {0x50, 0x4b, 0x03, 0x04, 0x00, 0x01, 0x02};
    r = raw_of("application/octet-stream", NULL, bin, sizeof(bin));
    parse_fails(&r, "unsupported-content-type");
    r = raw_of("application/octet-stream", NULL, "<?xml version=\"1.0\"?><rss/>", 26);
    parse_fails(&r, "unsupported-content-type");
    nw_article_t a;
    r = raw_of("application/octet-stream", NULL, "Plain words.", 12);
    parse_ok(&r, &a);
    assert_string_equal(a.content_type, "text/plain");
    nw_article_release(&a);
    r = raw_of(NULL, NULL, "<html><body><p>Hi there.</p></body></html>", 42);
    parse_ok(&r, &a);
    assert_string_equal(a.content_type, "text/html");
    assert_string_equal(a.text, "Hi there.");
    nw_article_release(&a);
}

static void
test_reason_empty(void **state)
{
    (void)state;
    nw_raw_t r = raw_of("text/plain", NULL, "", 0);
    parse_fails(&r, "empty");
    r = raw_of("text/html", NULL, " \r\n\t\n", 5);
    parse_fails(&r, "empty");
    r = raw_of("text/plain", NULL, "\xef\xbb\xbf\n", 4);
    parse_fails(&r, "empty");
}

static void
test_reason_no_text(void **state)
{
    (void)state;
    const char *page = "<html><head><title>Just a title</title></head><body><nav><p>Menu</p>"
                       "</nav></body></html>";
    nw_raw_t r = raw_of("text/html", NULL, page, strlen(page));
    parse_fails(&r, "no-text");
    r = raw_of("application/json", NULL, "{\"title\":\"Only a title\"}", 24);
    parse_fails(&r, "no-text");
    r = raw_of("application/json", NULL, "{\"text\":\" \\n\\n \"}", 17);
    parse_fails(&r, "no-text");
    /* wire text that is nothing but a credit; one captioned line alone is a short article
     * (issue 10.6, see test_wire) */
    const char *cap = "REUTERS/Eva Holm\n";
    r = raw_of("text/plain", NULL, cap, strlen(cap));
    parse_fails(&r, "no-text");
}

static void
test_reason_bad_json(void **state)
{
    (void)state;
    const char *const bad[] = {
        "{\"text\": \"unterminated",
        "[\"an\", \"array\"]",
        "{\"text\": 42}",
        "{\"title\": [\"x\"], \"text\": \"Body.\"}",
        "{\"authors\": \"ok\", \"text\": \"Body.\", \"authors\": []}",
        "{\"authors\": [\"Ann Lee\", 7], \"text\": \"Body.\"}",
        "{\"tags\": 7, \"text\": \"Body.\"}",
        "{\"site_name\": {}, \"text\": \"Body.\"}",
        "{\"text\": \"Body.\"} trailing",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        nw_raw_t r = raw_of("application/json", NULL, bad[i], strlen(bad[i]));
        parse_fails(&r, "bad-json");
    }
}

static void
test_reason_bad_html(void **state)
{
    (void)state;
    /* a JSON "html" that libxml2 cannot make a document of */
    const char *j = "{\"html\": \"\"}";
    nw_raw_t r = raw_of("application/json", NULL, j, strlen(j));
    parse_fails(&r, "bad-html");
}

static void
test_json_text(void **state)
{
    (void)state;
    const char *j = "{\"url\":\"https://example.org/x\",\"title\":\" Rail strike \\u00a0ends \","
                    "\"subtitle\":\"Unions accept offer\",\"authors\":[\"Ann Lee\",\"\",\"Bo "
                    "Chen\"],\"published\":\"2024-03-05\",\"dateline\":\"Lyon, France\","
                    "\"lang\":\"fr\",\"text\":\"First line\\nwraps here.\\n\\n\\nSecond "
                    "paragraph .\\n\",\"unknown\":true,\"modified\":\"2024-03-05T10:00:00Z\","
                    "\"site_name\":\"Le Example\",\"section\":\"Social\",\"tags\":[\"rail\","
                    "\"\",\"strikes\"],\"image\":\"https://example.org/i.jpg\"}";
    nw_raw_t r = raw_of("application/json", NULL, j, strlen(j));
    nw_article_t a;
    parse_ok(&r, &a);
    assert_string_equal(a.url, "https://example.org/x");
    assert_string_equal(a.title, "Rail strike ends");
    assert_string_equal(a.subtitle, "Unions accept offer");
    assert_int_equal(a.n_authors, 2);
    assert_string_equal(a.authors[0], "Ann Lee");
    assert_string_equal(a.authors[1], "Bo Chen");
    assert_string_equal(a.published, "2024-03-05");
    assert_string_equal(a.dateline, "Lyon, France");
    assert_string_equal(a.lang, "fr");
    assert_string_equal(a.modified, "2024-03-05T10:00:00Z");
    assert_string_equal(a.site_name, "Le Example");
    assert_string_equal(a.section, "Social");
    assert_int_equal(a.n_tags, 2);
    assert_string_equal(a.tags[0], "rail");
    assert_string_equal(a.tags[1], "strikes");
    assert_string_equal(a.image, "https://example.org/i.jpg");
    assert_string_equal(a.text, "First line wraps here.\n\nSecond paragraph.");
    assert_string_equal(a.content_type, "application/json");
    nw_article_release(&a);

    /* raw's url is canonical and wins; an unreadable date is dropped */
    const char *k = "{\"url\":\"http://other\",\"published\":\"last week\",\"text\":\"Hi.\"}";
    r = raw_of("application/json", NULL, k, strlen(k));
    r.url = "https://canonical.example/";
    parse_ok(&r, &a);
    assert_string_equal(a.url, "https://canonical.example/");
    assert_null(a.published);
    nw_article_release(&a);
}

static void
test_json_html_and_body(void **state)
{
    (void)state;
    /* JSON fields win over what the page says; the page fills the rest */
    const char *j = "{\"title\":\"Given title\",\"html\":\"<html lang='de'><head><title>Page "
                    "title</title><meta name='author' content='Eva Roth'></head><body><p>Erster "
                    "Absatz.</p><figure><figcaption>Ein Zug. REUTERS/Max "
                    "Mann</figcaption></figure></body></html>\"}";
    nw_raw_t r = raw_of("application/json", NULL, j, strlen(j));
    nw_article_t a;
    parse_ok(&r, &a);
    assert_string_equal(a.title, "Given title");
    assert_string_equal(a.lang, "de");
    assert_int_equal(a.n_authors, 1);
    assert_string_equal(a.authors[0], "Eva Roth");
    assert_string_equal(a.text, "Erster Absatz.");
    assert_int_equal(a.n_captions, 1);
    assert_string_equal(a.captions[0].agency, "Reuters");
    nw_article_release(&a);

    const char *b = "{\"body\":\"date 2021-05-04 Oslo, Norway - Snow fell in May.\\n\\nIt "
                    "melted.\",\"dateline\":\"Bergen\"}";
    r = raw_of("application/json", NULL, b, strlen(b));
    parse_ok(&r, &a);
    assert_string_equal(a.published, "2021-05-04");
    assert_string_equal(a.dateline, "Bergen");
    assert_string_equal(a.text, "Snow fell in May.\n\nIt melted.");
    nw_article_release(&a);
}

static void
test_supported(void **state)
{
    (void)state;
    assert_true(nw_parse_supported("text/plain"));
    assert_true(nw_parse_supported("TEXT/HTML; charset=UTF-8"));
    assert_true(nw_parse_supported("application/xhtml+xml"));
    assert_true(nw_parse_supported("application/json"));
    assert_false(nw_parse_supported("application/pdf"));
    assert_false(nw_parse_supported(""));
    assert_false(nw_parse_supported(NULL));
}

static void
test_sniff(void **state)
{
    (void)state;
    const uint8_t *t = (const uint8_t *)"whatever";
    assert_string_equal(nw_parse_sniff("a/b/story.TXT", t, 8), "text/plain");
    assert_string_equal(nw_parse_sniff("page.htm", t, 8), "text/html");
    assert_string_equal(nw_parse_sniff("x.html", t, 8), "text/html");
    assert_string_equal(nw_parse_sniff("item.json", t, 8), "application/json");
#define SNIFF(s) nw_parse_sniff("noext", (const uint8_t *)(s), sizeof(s) - 1)
    assert_string_equal(SNIFF("\xef\xbb\xbf  \n<!DOCTYPE html><html>"), "text/html");
    assert_string_equal(SNIFF("<HTML><body>"), "text/html");
    assert_string_equal(SNIFF("  <p>Para</p>"), "text/html");
    assert_string_equal(SNIFF("<div>x</div>"), "text/html");
    assert_string_equal(SNIFF("<?xml version=\"1.0\"?><rss></rss>"), "application/xml");
    assert_string_equal(SNIFF(" {\"text\": \"x\"}"), "application/json");
    assert_string_equal(SNIFF("date 2024-01-01 Plain words."), "text/plain");
    assert_string_equal(SNIFF("<b>not a page start"), "text/plain");
    assert_string_equal(SNIFF("Caf\xe9 cr\xe8me, latin-1 text."), "text/plain");
    assert_null(SNIFF("PK\x03\x04\x00\x00"));
    assert_null(SNIFF("\x89PNG\r\n\x1a\n\x01\x02\x03\x04\xfe\xff"));
    assert_null(SNIFF("\xff\xd8\xff\xe0\x10\x11JFIF"));
#undef SNIFF
    assert_string_equal(nw_parse_sniff(NULL, NULL, 0), "text/plain");
}

/* Deterministic mutations of small documents of every type: nw_parse_raw returns 0 with text
 * or -EPROTO with a reason, and never crashes (ASan/UBSan watch). */
static void
test_mutations(void **state)
{
    (void)state;
    static const struct {
        const char *ctype, *doc;
    } docs[] = {
        {"text/html", "<html lang=\"en\"><head><title>T</title><meta name=\"author\" "
                      "content=\"A B\"></head><body><p>One &amp; two.</p><figure><figcaption>"
                      "Cap. REUTERS/A B</figcaption></figure><p>Three</p></body></html>"},
        {"application/json", "{\"title\":\"T\",\"authors\":[\"A B\"],\"text\":\"P one."
                             "\\n\\nP two.\",\"published\":\"2020-01-02\"}"},
        {"application/json", "{\"html\":\"<p>x</p><p>y</p>\",\"body\":\"b\"}"},
        {"text/plain", "date 2020-01-02 PARIS (AFP) - Words here.\n\nCap. \xc2\xa9 A B/EPA\n"},
    };
    static const char alphabet[] = "<>/\"{}[]:,\\\n &;p\xc3\xa9\xff"
                                   "a0";
    uint32_t seed = 777;
    size_t ok = 0, bad = 0;
    for (size_t d = 0; d < sizeof(docs) / sizeof(docs[0]); d++) {
        size_t len = strlen(docs[d].doc);
        char *buf = malloc(len + 1);
        assert_non_null(buf);
        for (int round = 0; round < 400; round++) {
            memcpy(buf, docs[d].doc, len);
            size_t n = len;
            for (int k = 0; k < 1 + round % 6; k++) {
                seed = seed * 1103515245u + 12345u;
                size_t at = (seed >> 8) % n;
                seed = seed * 1103515245u + 12345u;
                if (seed % 4 == 0 && n > 1)
                    n = at + 1;
                else
                    buf[at] = alphabet[(seed >> 8) % (sizeof(alphabet) - 1)];
            }
            nw_raw_t r = raw_of(docs[d].ctype, NULL, buf, n);
            nw_article_t a;
            const char *reason = NULL;
            char detail[128];
            int rc = nw_parse_raw(&r, &a, &reason, detail, sizeof(detail));
            if (rc == 0) {
                ok++;
                assert_non_null(a.text);
                assert_true(a.text[0] != 0);
                assert_null(reason);
            } else {
                bad++;
                assert_int_equal(rc, -EPROTO);
                assert_non_null(reason);
                assert_null(a.text);
            }
            nw_article_release(&a);
        }
        free(buf);
    }
    assert_true(ok > 0);
    assert_true(bad > 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_copies_raw_fields),
        cmocka_unit_test(test_charsets),
        cmocka_unit_test(test_html_charsets),
        cmocka_unit_test(test_reason_invalid_utf8),
        cmocka_unit_test(test_reason_bad_charset),
        cmocka_unit_test(test_reason_unsupported),
        cmocka_unit_test(test_reason_empty),
        cmocka_unit_test(test_reason_no_text),
        cmocka_unit_test(test_reason_bad_json),
        cmocka_unit_test(test_reason_bad_html),
        cmocka_unit_test(test_json_text),
        cmocka_unit_test(test_json_html_and_body),
        cmocka_unit_test(test_supported),
        cmocka_unit_test(test_sniff),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
