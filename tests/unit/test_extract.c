/* test_extract.c: the main-text and metadata extractor (extract.h) on our own pages under
 * tests/fixtures/extract/: boilerplate left out, article structure kept in order, captions,
 * the trust order of metadata sources (JSON-LD > OpenGraph > <time>), bylines, future dates,
 * the visible headline over a decorated og:title, byline labels, the date line at the head of
 * the text, the URL date fallback, hostile nesting and input that is no document at all. */
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

#include "newswire/buf.h"
#include "extract.h"
#include "newswire/util.h"

/* 2024-01-01T00:00:00Z: "now" for every test, so the future-date rule is deterministic. */
#define NOW ((time_t)1704067200)

static void
extract_fixture(const char *name, const char *url, nw_extract_t *ex)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/tests/fixtures/extract/%s", NW_SOURCE_DIR, name);
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(nw_read_file(path, 1 << 20, &buf, &len), 0);
    assert_int_equal(nw_extract_html((const char *)buf, len, url, NOW, ex), 0);
    assert_non_null(ex->text);
    free(buf);
}

/* Index of needle in hay, failing the test when absent. */
static size_t
pos(const char *hay, const char *needle)
{
    const char *p = strstr(hay, needle);
    if (p == NULL)
        fail_msg("\"%s\" not in text", needle);
    return (size_t)(p - hay);
}

static void
test_boilerplate_removed(void **state)
{
    (void)state;
    nw_extract_t ex = {0};
    extract_fixture("news.html", NULL, &ex);
    static const char *const furniture[] = {
        "cookies",  "Home",     "Sport",     "Share on",  "Floods in Bavaria", "Related",
        "Reader42", "Comments", "Most read", "Copyright", "Ski season",        NULL};
    for (size_t k = 0; furniture[k] != NULL; k++)
        if (strstr(ex.text, furniture[k]) != NULL)
            fail_msg("boilerplate \"%s\" in text", furniture[k]);
    /* the headline is the title, the byline went to authors, the lone <time> is metadata */
    assert_null(strstr(ex.text, "Storm closes"));
    assert_null(strstr(ex.text, "By Anna"));
    assert_null(strstr(ex.text, "5 March"));
    nw_extract_release(&ex);
}

static void
test_structure_in_order(void **state)
{
    (void)state;
    nw_extract_t ex = {0};
    extract_fixture("news.html", NULL, &ex);
    const char *t = ex.text;
    size_t p1 = pos(t, "VIENNA, March 2 - Ferries on the Danube");
    size_t p2 = pos(t, "Operators said the crossings");
    size_t h2 = pos(t, "\n\nWarnings upstream\n\n");
    size_t p3 = pos(t, "Authorities in Upper Austria");
    size_t li1 = pos(t, "\n\nKrems to Mautern: closed until Saturday\n\n");
    size_t li2 = pos(t, "\n\nMelk to Emmersdorf: replaced by buses\n\n");
    size_t bq = pos(t, "\n\nWe have not seen water like this since 2013");
    size_t p4 = pos(t, "The weather service expects");
    assert_true(p1 == 0);
    assert_true(p1 < p2 && p2 < h2 && h2 < p3 && p3 < li1 && li1 < li2 && li2 < bq && bq < p4);
    /* the last paragraph ends the text */
    assert_string_equal(t + p4, "The weather service expects the rain to ease on Friday, though "
                                "levels will keep rising for another day as water arrives from "
                                "the Alps.");
    nw_extract_release(&ex);
}

static void
test_figcaption_caption(void **state)
{
    (void)state;
    nw_extract_t ex = {0};
    extract_fixture("news.html", NULL, &ex);
    assert_int_equal(ex.n_captions, 1);
    assert_string_equal(ex.captions[0].text, "A ferry moored at the quay in Krems.");
    assert_string_equal(ex.captions[0].credit, "\xc2\xa9 Eva Lind/Reuters");
    assert_string_equal(ex.captions[0].photographer, "Eva Lind");
    assert_string_equal(ex.captions[0].agency, "Reuters");
    assert_null(strstr(ex.text, "moored"));
    nw_extract_release(&ex);
}

static void
test_jsonld_beats_og_beats_time(void **state)
{
    (void)state;
    nw_extract_t ex = {0};
    extract_fixture("news.html", "https://courier.example/region/storm-ferries?utm_source=x", &ex);
    /* JSON-LD over og:title, og:published_time and the <time> in the body */
    assert_string_equal(ex.title, "Storm closes Danube ferries");
    assert_string_equal(ex.published, "2023-03-02T08:15:00+01:00");
    assert_string_equal(ex.modified, "2023-03-02T10:00:00Z");
    assert_string_equal(ex.site_name, "Valley Courier");
    assert_string_equal(ex.subtitle, "High water stops river traffic for a second day.");
    assert_string_equal(ex.lang, "de");
    assert_string_equal(ex.canonical, "https://courier.example/region/storm-ferries");
    assert_string_equal(ex.image, "https://courier.example/img/ferry.jpg");
    assert_string_equal(ex.section, "Region");
    assert_int_equal(ex.n_tags, 2);
    assert_string_equal(ex.tags[0], "weather");
    assert_string_equal(ex.tags[1], "transport");
    nw_extract_release(&ex);

    /* no JSON-LD: og wins over <time>; without either, <time> gives the date */
    extract_fixture("og_time.html", NULL, &ex);
    assert_string_equal(ex.title, "Council approves new bridge");
    assert_string_equal(ex.published, "2022-06-10");
    nw_extract_release(&ex);
    extract_fixture("time_only.html", NULL, &ex);
    assert_string_equal(ex.published, "2021-11-20T18:30:00+01:00");
    assert_string_equal(ex.title, "Library extends opening hours");
    nw_extract_release(&ex);
}

static void
test_authors_names_only(void **state)
{
    (void)state;
    nw_extract_t ex = {0};
    extract_fixture("news.html", NULL, &ex);
    assert_int_equal(ex.n_authors, 2);
    assert_string_equal(ex.authors[0], "Anna Berger");
    assert_string_equal(ex.authors[1], "Karl Wenz"); /* "By Karl Wenz" in the JSON-LD */
    nw_extract_release(&ex);

    extract_fixture("og_time.html", NULL, &ex); /* meta "by Maria Lopez and Tom Field" */
    assert_int_equal(ex.n_authors, 2);
    assert_string_equal(ex.authors[0], "Maria Lopez");
    assert_string_equal(ex.authors[1], "Tom Field");
    nw_extract_release(&ex);

    extract_fixture("time_only.html", NULL, &ex); /* visible "Posted by <a rel=author>" */
    assert_int_equal(ex.n_authors, 1);
    assert_string_equal(ex.authors[0], "Jonas Keller");
    assert_null(strstr(ex.text, "Posted by"));
    nw_extract_release(&ex);
}

static void
test_headline_byline_dateline(void **state)
{
    (void)state;
    nw_extract_t ex = {0};
    /* the article's h1 over og:title with its kicker; the logo h1 (a link) is not a headline */
    extract_fixture("headline.html", NULL, &ex);
    assert_string_equal(ex.title, "Stadtrat beschließt neuen Radweg am Fluss");
    /* "| Autor:" in front of the name goes */
    assert_int_equal(ex.n_authors, 1);
    assert_string_equal(ex.authors[0], "Jana Roe");
    /* no machine-readable date: the date line at the head of the text gives it */
    assert_string_equal(ex.published, "2023-03-12");
    /* a soft hyphen does not split the word */
    assert_non_null(strstr(ex.text, "beleuchtet"));
    nw_extract_release(&ex);

    /* a screen-reader label run into the name, and a "Posted on" with no name */
    extract_fixture("hidden_label.html", NULL, &ex);
    assert_string_equal(ex.title, "Ferry timetable changes for winter");
    assert_int_equal(ex.n_authors, 1);
    assert_string_equal(ex.authors[0], "Sam Lee");
    nw_extract_release(&ex);
}

static void
test_future_date_dropped(void **state)
{
    (void)state;
    nw_extract_t ex = {0};
    extract_fixture("future.html", NULL, &ex);
    assert_null(ex.published); /* 2999-01-01 is after now + 1 day */
    nw_extract_release(&ex);
    /* a date in the URL fills in, but not one from the future either */
    extract_fixture("future.html", "https://news.example/sport/2023/05/17/marathon-route", &ex);
    assert_string_equal(ex.published, "2023-05-17");
    nw_extract_release(&ex);
    extract_fixture("url_date.html", "https://news.example/sport/2031/05/17/marathon", &ex);
    assert_null(ex.published);
    nw_extract_release(&ex);
}

static void
test_url_date_fallback(void **state)
{
    (void)state;
    nw_extract_t ex = {0};
    extract_fixture("url_date.html", "https://news.example/2023-05-17/marathon-route.html", &ex);
    assert_string_equal(ex.published, "2023-05-17");
    nw_extract_release(&ex);
    extract_fixture("url_date.html", "https://news.example/sport/marathon-route", &ex);
    assert_null(ex.published);
    nw_extract_release(&ex);
    /* a page date beats the URL */
    extract_fixture("og_time.html", "https://news.example/2020/01/01/bridge", &ex);
    assert_string_equal(ex.published, "2022-06-10");
    nw_extract_release(&ex);
}

static void
test_nothing_but_furniture(void **state)
{
    (void)state;
    nw_extract_t ex = {0};
    extract_fixture("nav_only.html", NULL, &ex);
    assert_string_equal(ex.text, "");
    assert_string_equal(ex.title, "Index");
    nw_extract_release(&ex);
}

static void
test_deep_nesting(void **state)
{
    (void)state;
    nw_buf_t b = {0};
    assert_int_equal(nw_buf_puts(&b, "<html><body>"), 0);
    for (int i = 0; i < 100000; i++)
        assert_int_equal(nw_buf_puts(&b, "<div class=\"content\">"), 0);
    assert_int_equal(nw_buf_puts(&b, "<p>Deep, deep text that is long enough to be scored as a "
                                     "paragraph of the article.</p>"),
                     0);
    for (int i = 0; i < 100000; i++)
        assert_int_equal(nw_buf_puts(&b, "</div>"), 0);
    nw_extract_t ex = {0};
    int rc = nw_extract_html((const char *)b.data, b.len, NULL, NOW, &ex);
    assert_true(rc == 0 || rc == -EPROTO);
    if (rc == 0)
        assert_non_null(ex.text);
    nw_extract_release(&ex);
    nw_extract_release(&ex); /* safe twice */
    nw_buf_release(&b);
}

static void
test_empty_and_garbage(void **state)
{
    (void)state;
    nw_extract_t ex = {0};
    assert_int_equal(nw_extract_html("", 0, NULL, NOW, &ex), -EPROTO);
    assert_null(ex.text);
    assert_int_equal(nw_extract_html("   \n\t ", 6, NULL, NOW, &ex), -EPROTO);
    assert_null(ex.text);
    /* bytes that are no HTML at all: an error or an empty-ish result, never a crash */
    char junk[4096];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof(junk); i++) {
        x = x * 1103515245u + 12345u;
        junk[i] = (char)(x >> 16);
    }
    int rc = nw_extract_html(junk, sizeof(junk), NULL, NOW, &ex);
    assert_true(rc == 0 || rc == -EPROTO);
    nw_extract_release(&ex);
    /* broken JSON-LD and absurd meta values are ignored */
    const char *doc = "<html><head><script type=\"application/ld+json\">{\"@type\": \"NewsArticle\""
                      ", \"headline\": [[[[</script><meta property=\"article:published_time\" "
                      "content=\"2023-02-30\"></head><body><p>Body text.</p></body></html>";
    assert_int_equal(nw_extract_html(doc, strlen(doc), NULL, NOW, &ex), 0);
    assert_null(ex.title);
    assert_null(ex.published); /* February 30th is no date */
    assert_string_equal(ex.text, "Body text.");
    nw_extract_release(&ex);
    nw_extract_release(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boilerplate_removed),
        cmocka_unit_test(test_structure_in_order),
        cmocka_unit_test(test_figcaption_caption),
        cmocka_unit_test(test_jsonld_beats_og_beats_time),
        cmocka_unit_test(test_authors_names_only),
        cmocka_unit_test(test_headline_byline_dateline),
        cmocka_unit_test(test_future_date_dropped),
        cmocka_unit_test(test_url_date_fallback),
        cmocka_unit_test(test_nothing_but_furniture),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_empty_and_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
