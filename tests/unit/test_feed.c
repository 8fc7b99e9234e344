/* test_feed.c: the feed module on its own fixtures (tests/fixtures/feeds/): one feed per
 * dialect, dates in the formats publishers use, a malformed feed read with bozo set, and the
 * hostile ones (billion laughs, an external entity) that must fail or stay inert. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "newswire/feed.h"
#include "newswire/util.h"

static nw_feed_t *
load(const char *name, const char *url)
{
    char path[1024];
    uint8_t *buf = NULL;
    size_t len = 0;
    snprintf(path, sizeof(path), "%s/tests/fixtures/feeds/%s", NW_SOURCE_DIR, name);
    assert_int_equal(nw_read_file(path, 1 << 20, &buf, &len), 0);
    nw_feed_t *f = NULL;
    assert_int_equal(nw_feed_parse(buf, len, url, &f), 0);
    assert_non_null(f);
    free(buf);
    return f;
}

static int
parse_file_rc(const char *name)
{
    char path[1024];
    uint8_t *buf = NULL;
    size_t len = 0;
    snprintf(path, sizeof(path), "%s/tests/fixtures/feeds/%s", NW_SOURCE_DIR, name);
    assert_int_equal(nw_read_file(path, 1 << 20, &buf, &len), 0);
    nw_feed_t *f = NULL;
    int rc = nw_feed_parse(buf, len, NULL, &f);
    if (rc < 0)
        assert_null(f);
    nw_feed_free(&f);
    free(buf);
    return rc;
}

static void
test_rss091(void **state)
{
    (void)state;
    nw_feed_t *f = load("rss091.xml", NULL);
    assert_string_equal(f->type, "rss");
    assert_string_equal(f->version, "0.91");
    assert_false(f->bozo);
    assert_string_equal(f->title, "Harbour Gazette");
    assert_string_equal(f->link, "http://gazette.example.org/");
    assert_string_equal(f->language, "en-gb");
    assert_int_equal(f->n_authors, 1);
    assert_string_equal(f->authors[0].name, "News Desk");
    assert_string_equal(f->authors[0].email, "desk@gazette.example.org");
    /* +0100 zone folded into UTC */
    assert_string_equal(f->updated, "2004-09-06T17:30:00Z");
    assert_int_equal(f->n_items, 2);
    assert_string_equal(f->items[0].summary, "Winter sailings start <b>Monday</b>.");
    assert_string_equal(f->items[1].link, "http://gazette.example.org/lighthouse");
    assert_null(f->items[1].published);
    nw_feed_free(&f);
    assert_null(f);
    nw_feed_free(&f); /* safe twice */
}

static void
test_rss10_rdf(void **state)
{
    (void)state;
    nw_feed_t *f = load("rss10.rdf", NULL);
    assert_string_equal(f->type, "rss");
    assert_string_equal(f->version, "1.0");
    assert_string_equal(f->title, "RDF Wire");
    assert_string_equal(f->language, "fr");
    assert_int_equal(f->n_items, 1); /* the item beside <channel>, not the rdf:Seq */
    nw_feed_item_t *it = &f->items[0];
    assert_string_equal(it->title, "Premier titre");
    assert_string_equal(it->summary, "Résumé");
    assert_string_equal(it->authors[0].name, "Marie Curie");
    assert_string_equal(it->published, "2004-01-01T18:48:21Z");
    assert_int_equal(it->n_categories, 1);
    assert_string_equal(it->categories[0], "science");
    nw_feed_free(&f);
}

static void
test_rss20(void **state)
{
    (void)state;
    nw_feed_t *f = load("rss20.xml", NULL);
    assert_string_equal(f->version, "2.0");
    assert_string_equal(f->feed_link, "https://wire.example.com/rss");
    assert_string_equal(f->link, "https://wire.example.com/");
    assert_int_equal(f->n_items, 2);
    nw_feed_item_t *it = &f->items[0];
    assert_string_equal(it->id, "wire-2003-0610-1");
    assert_string_equal(it->content, "<p>Full <em>body</em> text.</p>");
    assert_string_equal(it->summary, "Short summary.");
    assert_int_equal(it->n_authors, 1);
    assert_string_equal(it->authors[0].name, "Jane Reporter");
    assert_null(it->authors[0].email);
    assert_string_equal(it->published, "2003-06-10T13:41:01Z"); /* EDT = -4 */
    assert_int_equal(it->n_categories, 2);
    assert_string_equal(it->categories[1], "Middle East");
    assert_int_equal(it->n_enclosures, 2);
    assert_string_equal(it->enclosures[0].url, "https://wire.example.com/a.mp3");
    assert_string_equal(it->enclosures[0].type, "audio/mpeg");
    assert_int_equal(it->enclosures[0].length, 12216320);
    assert_string_equal(it->enclosures[1].url, "https://wire.example.com/photo.jpg");
    assert_int_equal(it->enclosures[1].length, -1);
    /* a permalink guid doubles as the link; author "email (Name)" is split */
    it = &f->items[1];
    assert_string_equal(it->link, "https://wire.example.com/2003/06/permalink");
    assert_string_equal(it->authors[0].name, "Ed Itor");
    assert_string_equal(it->authors[0].email, "editor@wire.example.com");
    assert_string_equal(it->published, "2003-06-11T04:30:00Z"); /* "03", no seconds, +0530 */
    nw_feed_free(&f);
}

static void
test_atom03(void **state)
{
    (void)state;
    nw_feed_t *f = load("atom03.xml", NULL);
    assert_string_equal(f->type, "atom");
    assert_string_equal(f->version, "0.3");
    assert_string_equal(f->description, "Noch in Betrieb");
    assert_string_equal(f->language, "de");
    assert_string_equal(f->updated, "2003-12-13T18:30:02Z");
    assert_string_equal(f->authors[0].email, "hans@example.org");
    assert_int_equal(f->n_items, 1);
    nw_feed_item_t *it = &f->items[0];
    assert_string_equal(it->id, "tag:atom03.example.org,2003:1");
    assert_string_equal(it->published, "2003-12-13T12:29:29Z");
    assert_string_equal(it->updated, "2003-12-13T18:30:02Z");
    assert_string_equal(it->content, "<p>Lang</p>");
    nw_feed_free(&f);
}

static void
test_atom10_xml_base(void **state)
{
    (void)state;
    nw_feed_t *f = load("atom10.xml", "http://ignored.example.net/feed");
    assert_string_equal(f->version, "1.0");
    assert_string_equal(f->link, "http://atom.example.org/news/index.html");
    assert_string_equal(f->feed_link, "http://atom.example.org/feed.atom");
    nw_feed_item_t *it = &f->items[0];
    /* nested xml:base: feed "news/" then entry "2005/" */
    assert_string_equal(it->link, "http://atom.example.org/news/2005/first.html");
    assert_string_equal(it->enclosures[0].url, "http://atom.example.org/news/2005/first.mp3");
    assert_int_equal(it->enclosures[0].length, 1337);
    assert_string_equal(it->authors[0].uri, "http://atom.example.org/mark");
    assert_string_equal(it->title, "First & foremost");
    assert_string_equal(it->published, "2005-07-31T10:29:29Z"); /* fraction and +02:00 */
    assert_string_equal(it->summary, "<b>Bold</b> summary");
    assert_non_null(strstr(it->content, "<p>Hello <a href=\"x\">there</a></p>"));
    assert_null(strstr(it->content, "<div")); /* the xhtml wrapper is not content */
    assert_string_equal(it->categories[0], "World");
    assert_string_equal(it->categories[1], "tech");
    nw_feed_free(&f);
}

static void
test_relative_link_against_url(void **state)
{
    (void)state;
    static const char rss[] = "<rss version=\"2.0\"><channel><title>t</title>"
                              "<item><link>/a/b.html</link></item></channel></rss>";
    nw_feed_t *f = NULL;
    assert_int_equal(nw_feed_parse((const uint8_t *)rss, sizeof(rss) - 1,
                                   "https://site.example.org/feeds/rss.xml", &f),
                     0);
    assert_string_equal(f->items[0].link, "https://site.example.org/a/b.html");
    nw_feed_free(&f);
}

static void
test_jsonfeed11(void **state)
{
    (void)state;
    nw_feed_t *f = load("jsonfeed11.json", NULL);
    assert_string_equal(f->type, "json");
    assert_string_equal(f->version, "1.1");
    assert_string_equal(f->link, "https://json.example.org/");
    assert_string_equal(f->feed_link, "https://json.example.org/feed.json");
    assert_string_equal(f->authors[0].uri, "https://json.example.org/desk");
    assert_int_equal(f->n_items, 2);
    nw_feed_item_t *it = &f->items[0];
    assert_string_equal(it->content, "<p>Launch day</p>");
    assert_string_equal(it->summary, "It launched");
    assert_string_equal(it->published, "2010-02-07T19:04:00Z");
    assert_string_equal(it->enclosures[0].type, "audio/x-m4a");
    assert_int_equal(it->enclosures[0].length, 89970236);
    assert_string_equal(it->categories[1], "launch");
    assert_string_equal(f->items[1].id, "42"); /* numeric id */
    assert_string_equal(f->items[1].content, "Plain text only");
    nw_feed_free(&f);
}

static void
check_date(const char *text, const char *iso)
{
    int64_t got = 0, want = 0;
    assert_int_equal(nw_feed_date_parse(iso, &want), 0);
    if (nw_feed_date_parse(text, &got) != 0)
        fail_msg("date not read: \"%s\"", text);
    if (got != want)
        fail_msg("\"%s\" read as %lld, want %s", text, (long long)got, iso);
}

static void
test_dates(void **state)
{
    (void)state;
    int64_t t = 0;
    assert_int_equal(nw_feed_date_parse("2004-01-01T19:48:21Z", &t), 0);
    assert_int_equal(t, 1072986501);
    check_date("Thu, 01 Jan 2004 19:48:21 GMT", "2004-01-01T19:48:21Z");
    check_date("Thu, 01 Jan 2004 14:48:21 EST", "2004-01-01T19:48:21Z");
    check_date("Thu, 1 Jan 04 11:48:21 -0800", "2004-01-01T19:48:21Z");
    check_date("01 Jan 2004 19:48 UT", "2004-01-01T19:48:00Z");
    check_date("Thursday, 01-Jan-2004 20:48:21 +01:00", "2004-01-01T19:48:21Z");
    check_date("Thu, 01 Sept 2004 19:48:21 GMT", "2004-09-01T19:48:21Z");
    check_date("Thu Jan 01 2004 19:48:21 GMT+0000", "2004-01-01T19:48:21Z");
    check_date("2004-01-01T21:48:21+02:00", "2004-01-01T19:48:21Z");
    check_date("2004-01-01T19:48:21.123456Z", "2004-01-01T19:48:21Z");
    check_date("2004-01-01 19:48:21", "2004-01-01T19:48:21Z");
    check_date("20040101T194821Z", "2004-01-01T19:48:21Z");
    check_date("2004-01-01", "2004-01-01T00:00:00Z");
    check_date("2004-01", "2004-01-01T00:00:00Z");
    assert_int_equal(nw_feed_date_parse("yesterday", &t), -EINVAL);
    assert_int_equal(nw_feed_date_parse("2004-13-45", &t), -EINVAL);
    assert_int_equal(nw_feed_date_parse("", &t), -EINVAL);
}

static void
test_malformed_is_bozo(void **state)
{
    (void)state;
    nw_feed_t *f = load("malformed.xml", NULL);
    assert_true(f->bozo);
    assert_non_null(f->bozo_reason);
    assert_non_null(strstr(f->bozo_reason, "line"));
    assert_string_equal(f->title, "Broken & proud"); /* the bare ampersand kept */
    assert_true(f->n_items >= 1);
    assert_string_equal(f->items[0].title, "One");
    assert_string_equal(f->items[0].link, "http://broken.example.org/1");
    nw_feed_free(&f);
}

/* A feed whose channel holds pre, 20,000 references to a 10 kB entity, then post. */
static int
parse_quadratic(const char *pre, const char *post)
{
    nw_buf_t b = {0};
    assert_int_equal(nw_buf_puts(&b, "<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY a \""), 0);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(nw_buf_puts(&b, "x"), 0);
    assert_int_equal(nw_buf_printf(&b, "\">]><rss version=\"2.0\"><channel>%s", pre), 0);
    for (int i = 0; i < 20000; i++)
        assert_int_equal(nw_buf_puts(&b, "&a;"), 0);
    assert_int_equal(nw_buf_printf(&b, "%s</channel></rss>", post), 0);
    nw_feed_t *f = NULL;
    int rc = nw_feed_parse(b.data, b.len, NULL, &f);
    if (rc < 0)
        assert_null(f);
    nw_feed_free(&f);
    nw_buf_release(&b);
    return rc;
}

static void
test_billion_laughs_rejected(void **state)
{
    (void)state;
    /* returns (no hang, no memory blow-up) with an error */
    assert_int_equal(parse_file_rc("billion_laughs.xml"), -EPROTO);
    /* the quadratic variant: one flat 10 kB entity referenced 20,000 times (200 MB), in
     * element text and in an attribute (libxml2's attribute getters would expand it all) */
    assert_int_equal(parse_quadratic("<title>", "</title>"), -EPROTO);
    assert_int_equal(parse_quadratic("<item><enclosure url=\"", "\"/></item>"), -EPROTO);
    assert_int_equal(parse_quadratic("<item xml:base=\"", "\"><link>x</link></item>"), -EPROTO);
}

static void
test_external_entity_not_loaded(void **state)
{
    (void)state;
    nw_feed_t *f = load("xxe.xml", NULL);
    assert_non_null(f->title);
    assert_null(strstr(f->title, "root:"));
    assert_non_null(strstr(f->title, "fine")); /* internal entities still expand */
    assert_int_equal(f->n_items, 1);
    assert_null(f->items[0].summary); /* it held only the external entity */
    nw_buf_t out = {0};
    assert_int_equal(nw_feed_to_json(f, &out), 0);
    assert_null(strstr((const char *)out.data, "root:"));
    nw_buf_release(&out);
    nw_feed_free(&f);
    /* an external parameter entity is not fetched either */
    static const char pe[] = "<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY % x SYSTEM "
                             "\"file:///etc/passwd\"> %x;]><rss version=\"2.0\"><channel>"
                             "<title>t</title></channel></rss>";
    assert_int_equal(nw_feed_parse((const uint8_t *)pe, sizeof(pe) - 1, NULL, &f), 0);
    assert_string_equal(f->title, "t");
    out = (nw_buf_t){0};
    assert_int_equal(nw_feed_to_json(f, &out), 0);
    assert_null(strstr((const char *)out.data, "root:"));
    nw_buf_release(&out);
    nw_feed_free(&f);
}

static void
test_latin1_converted(void **state)
{
    (void)state;
    nw_feed_t *f = load("latin1.xml", NULL);
    assert_false(f->bozo);
    assert_string_equal(f->title, "Caf\xc3\xa9 cr\xc3\xa8me");
    assert_string_equal(f->items[0].title, "Se\xc3\xb1or Gonz\xc3\xa1lez \xc2\xbd");
    assert_string_equal(f->items[0].published, "2004-09-05T20:00:00Z"); /* PST = -8 */
    nw_feed_free(&f);
}

static void
test_html_entities_and_depth(void **state)
{
    (void)state;
    /* undeclared HTML entities (bozo, but the character kept) */
    static const char ent[] = "<rss><channel><title>caf&eacute; &hellip;</title></channel></rss>";
    nw_feed_t *f = NULL;
    assert_int_equal(nw_feed_parse((const uint8_t *)ent, sizeof(ent) - 1, NULL, &f), 0);
    assert_true(f->bozo);
    assert_string_equal(f->title, "caf\xc3\xa9 \xe2\x80\xa6");
    nw_feed_free(&f);
    /* nesting beyond libxml2's depth cap: an error or a bozo feed, never a crash */
    size_t depth = 5000;
    nw_buf_t b = {0};
    assert_int_equal(nw_buf_puts(&b, "<rss><channel><title>deep</title>"), 0);
    for (size_t i = 0; i < depth; i++)
        assert_int_equal(nw_buf_puts(&b, "<x>"), 0);
    int rc = nw_feed_parse(b.data, b.len, NULL, &f);
    assert_true(rc == -EPROTO || (rc == 0 && f->bozo));
    nw_feed_free(&f);
    nw_buf_release(&b);
}

static void
test_not_a_feed(void **state)
{
    (void)state;
    nw_feed_t *f = NULL;
    assert_int_equal(nw_feed_parse((const uint8_t *)"", 0, NULL, &f), -EPROTO);
    assert_int_equal(nw_feed_parse((const uint8_t *)"  \n", 3, NULL, &f), -EPROTO);
    assert_int_equal(nw_feed_parse((const uint8_t *)"<html><body/></html>", 20, NULL, &f), -EPROTO);
    assert_int_equal(nw_feed_parse((const uint8_t *)"[1,2]", 5, NULL, &f), -EPROTO);
    assert_int_equal(nw_feed_parse((const uint8_t *)"{\"a\":", 5, NULL, &f), -EPROTO);
    assert_int_equal(nw_feed_parse((const uint8_t *)"{\"a\":1}", 7, NULL, &f), -EPROTO);
    assert_int_equal(nw_feed_parse((const uint8_t *)"garbage", 7, NULL, &f), -EPROTO);
    assert_null(f);
    assert_int_equal(nw_feed_parse(NULL, 0, NULL, NULL), -EINVAL);
}

static void
test_to_json(void **state)
{
    (void)state;
    nw_feed_t *f = load("rss20.xml", NULL);
    nw_buf_t out = {0};
    assert_int_equal(nw_feed_to_json(f, &out), 0);
    json_error_t err;
    json_t *j = json_loadb((const char *)out.data, out.len, 0, &err);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "type")), "rss");
    assert_true(json_is_false(json_object_get(j, "bozo")));
    json_t *it = json_array_get(json_object_get(j, "items"), 0);
    assert_string_equal(json_string_value(json_object_get(it, "published")),
                        "2003-06-10T13:41:01Z");
    json_t *enc = json_array_get(json_object_get(it, "enclosures"), 0);
    assert_int_equal(json_integer_value(json_object_get(enc, "length")), 12216320);
    json_t *au = json_array_get(json_object_get(it, "authors"), 0);
    assert_string_equal(json_string_value(json_object_get(au, "name")), "Jane Reporter");
    assert_null(json_object_get(au, "email")); /* absent keys are left out */
    json_decref(j);
    nw_buf_release(&out);
    nw_feed_free(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rss091),
        cmocka_unit_test(test_rss10_rdf),
        cmocka_unit_test(test_rss20),
        cmocka_unit_test(test_atom03),
        cmocka_unit_test(test_atom10_xml_base),
        cmocka_unit_test(test_relative_link_against_url),
        cmocka_unit_test(test_jsonfeed11),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_malformed_is_bozo),
        cmocka_unit_test(test_billion_laughs_rejected),
        cmocka_unit_test(test_external_entity_not_loaded),
        cmocka_unit_test(test_latin1_converted),
        cmocka_unit_test(test_html_entities_and_depth),
        cmocka_unit_test(test_not_a_feed),
        cmocka_unit_test(test_to_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
