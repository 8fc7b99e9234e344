/* test_extract_meta.c: the metadata rules of the HTML extractor (extract.h), each on a small
 * invented page written inline: bylines inside a <body> whose class says "author", "Posted on
 * ... by" bylines, JSON-LD authors given by "@id", JSON-LD with raw line breaks in strings,
 * twitter:label/data author pairs, vendor-prefixed published_time keys, printed dates in
 * date meta tags, English ordinals and Russian month names in printed dates, kickers inside
 * <h1>, an <h1> that is one part of the head title, title parts that name the host, and the
 * page's only <h1> over a reworded head title, the publication as author giving way to a
 * person, degrees, weekdays and arrows that are not names, a printed day one off a UTC
 * time stamp, and a "Text: Name" line as the byline when nothing else names one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "extract.h"

/* 2024-01-01T00:00:00Z: "now" for every test, so the future-date rule is deterministic. */
#define NOW ((time_t)1704067200)

/* Filler so every page has an article body to find. */
#define BODY                                                                                       \
    "<p>The river rose by two metres overnight and the ferries stayed in port, the harbour "       \
    "master said on the quay, while crews checked the moorings again and again.</p>"               \
    "<p>Shops along the embankment moved their stock upstairs, and the council opened the "        \
    "school hall for anyone whose cellar had filled with water during the night.</p>"

static void
extract(const char *html, nw_extract_t *ex)
{
    memset(ex, 0, sizeof(*ex));
    assert_int_equal(nw_extract_html(html, strlen(html), NULL, NOW, ex), 0);
}

static void
test_byline_inside_author_body(void **state)
{
    (void)state;
    nw_extract_t ex;
    /* WordPress puts "single-author" on <body>: the body is no byline, the link inside is */
    extract("<html><head><title>Flood</title></head>"
            "<body class=\"single single-author\"><article><h1>Flood</h1>"
            "<div class=\"entry-meta\"><span class=\"by-author\">by <a rel=\"author\" "
            "href=\"/author/jl/\">Jo Lind</a></span></div>" BODY "</article></body></html>",
            &ex);
    assert_int_equal(ex.n_authors, 1);
    assert_string_equal(ex.authors[0], "Jo Lind");
    nw_extract_release(&ex);
}

static void
test_byline_with_date_and_label(void **state)
{
    (void)state;
    nw_extract_t ex;
    /* the date and the name in one line; a bare "Published by" label is no name */
    extract(
        "<html><head><title>Flood</title></head><body><article><h1>Flood</h1>"
        "<div class=\"author-label\">Published by</div>"
        "<div class=\"page-meta-author\">Posted on September 21st, 2020 by Ada Brandt</div>" BODY
        "</article></body></html>",
        &ex);
    assert_int_equal(ex.n_authors, 1);
    assert_string_equal(ex.authors[0], "Ada Brandt");
    assert_non_null(ex.published);
    assert_string_equal(ex.published, "2020-09-21");
    nw_extract_release(&ex);
}

static void
test_jsonld_author_by_id(void **state)
{
    (void)state;
    nw_extract_t ex;
    /* the article names its author by "@id"; the Person beside it has the name. A raw line
     * break inside a string (invalid JSON that pages often carry) does not lose the block. */
    extract("<html><head><script type=\"application/ld+json\">{\"@context\":\"https://schema.org\","
            "\"@graph\":[{\"@type\":\"Article\",\"headline\":\"Flood\",\"description\":\"two\n"
            "lines\",\"datePublished\":\"2021-04-05T08:00:00+02:00\","
            "\"author\":{\"@id\":\"https://x.example/#/person/1\"}},"
            "{\"@type\":\"Person\",\"@id\":\"https://x.example/#/person/1\","
            "\"name\":\"Mira Holt\"}]}</script><title>Flood</title></head><body><article>" BODY
            "</article></body></html>",
            &ex);
    assert_int_equal(ex.n_authors, 1);
    assert_string_equal(ex.authors[0], "Mira Holt");
    assert_string_equal(ex.published, "2021-04-05T08:00:00+02:00");
    assert_string_equal(ex.subtitle, "two lines");
    nw_extract_release(&ex);

    /* an "@id" that points nowhere gives no author (and no crash) */
    extract("<html><head><script type=\"application/ld+json\">{\"@type\":\"NewsArticle\","
            "\"headline\":\"Flood\",\"author\":{\"@id\":\"#nobody\"}}</script></head><body>" BODY
            "</body></html>",
            &ex);
    assert_int_equal(ex.n_authors, 0);
    nw_extract_release(&ex);
}

static void
test_twitter_label_data(void **state)
{
    (void)state;
    nw_extract_t ex;
    extract("<html><head><title>Flood</title>"
            "<meta name=\"twitter:label1\" content=\"Est. reading time\">"
            "<meta name=\"twitter:data1\" content=\"3 minutes\">"
            "<meta name=\"twitter:label2\" content=\"Written by\">"
            "<meta name=\"twitter:data2\" content=\"Lena Vogt\">"
            "</head><body><article>" BODY "</article></body></html>",
            &ex);
    assert_int_equal(ex.n_authors, 1);
    assert_string_equal(ex.authors[0], "Lena Vogt");
    nw_extract_release(&ex);
}

static void
test_date_meta_variants(void **state)
{
    (void)state;
    nw_extract_t ex;
    /* a vendor prefix before article:published_time */
    extract("<html><head><title>Flood</title><meta property=\"shareaholic:article_published_time\" "
            "content=\"2014-03-17T01:44:37+01:00\"></head><body>" BODY "</body></html>",
            &ex);
    assert_string_equal(ex.published, "2014-03-17T01:44:37+01:00");
    nw_extract_release(&ex);

    /* a printed date where a machine one was due */
    extract("<html><head><title>Flood</title><meta name=\"date\" content=\"March 12, 2019\">"
            "</head><body>" BODY "</body></html>",
            &ex);
    assert_string_equal(ex.published, "2019-03-12");
    nw_extract_release(&ex);

    /* Russian genitive month in a date holder */
    extract("<html><head><title>Flood</title></head><body><article><p class=\"date\">15 "
            "\xd0\xb0\xd0\xb2\xd0\xb3\xd1\x83\xd1\x81\xd1\x82\xd0\xb0 2016, 13:43</p>" BODY
            "</article></body></html>",
            &ex);
    assert_string_equal(ex.published, "2016-08-15");
    nw_extract_release(&ex);

    /* an ordinal in a date holder, and not "1st" read from a word such as "first" */
    extract("<html><head><title>Flood</title></head><body><article><div class=\"date\">December "
            "29th 2019</div>" BODY "</article></body></html>",
            &ex);
    assert_string_equal(ex.published, "2019-12-29");
    nw_extract_release(&ex);
}

static void
test_title_kicker_and_host(void **state)
{
    (void)state;
    nw_extract_t ex;
    /* the kicker over the headline inside <h1> is not part of it */
    extract("<html><head><meta property=\"og:title\" content=\"Ferries stay in port - High "
            "water\"></head><body><article><h1><span class=\"dachzeile\">High water</span> "
            "<span class=\"headline\">Ferries stay in port</span></h1>" BODY
            "</article></body></html>",
            &ex);
    assert_string_equal(ex.title, "Ferries stay in port");
    nw_extract_release(&ex);
    extract("<html><head><title>Ferries stay in port</title></head><body><article><h1><small>"
            "Weather</small><br>Ferries stay in port</h1>" BODY "</article></body></html>",
            &ex);
    assert_string_equal(ex.title, "Ferries stay in port");
    nw_extract_release(&ex);

    /* an <h1> that is the head title's first part, however long the rest */
    extract("<html><head><meta property=\"og:title\" content=\"Ferry news - The Valley "
            "Courier, your daily paper for the whole river valley\"></head><body><article>"
            "<h1>Ferry news</h1>" BODY "</article></body></html>",
            &ex);
    assert_string_equal(ex.title, "Ferry news");
    nw_extract_release(&ex);

    /* no site name given: a title part naming the host goes, others stay */
    const char *page =
        "<html><head><meta property=\"og:title\" content=\"Ferries stay in "
        "port | Valley Courier\"></head><body><article>" BODY "</article></body></html>";
    memset(&ex, 0, sizeof(ex));
    assert_int_equal(
        nw_extract_html(page, strlen(page), "https://www.valleycourier.example/a/1", NOW, &ex), 0);
    assert_string_equal(ex.title, "Ferries stay in port");
    nw_extract_release(&ex);
    assert_int_equal(nw_extract_html(page, strlen(page), "https://news.example/a/1", NOW, &ex), 0);
    assert_string_equal(ex.title, "Ferries stay in port | Valley Courier");
    nw_extract_release(&ex);
}

static void
test_sole_h1_over_seo_title(void **state)
{
    (void)state;
    nw_extract_t ex;
    /* the page's only headline, reworded from the head's title, is the title; it stays in the
     * body, which drops only headings that repeat the head's title */
    extract("<html><head><meta property=\"og:title\" content=\"Ferries stop as the river "
            "rises\"></head><body><article><h1>River rises, ferries stay in port</h1>" BODY
            "</article></body></html>",
            &ex);
    assert_string_equal(ex.title, "River rises, ferries stay in port");
    assert_non_null(strstr(ex.text, "River rises, ferries stay in port"));
    nw_extract_release(&ex);

    /* a section's name in the only <h1> shares no words with the title: not the headline */
    extract("<html><head><meta property=\"og:title\" content=\"Ferries stop as the river "
            "rises\"></head><body><h1>Regional news desk</h1><article>" BODY
            "</article></body></html>",
            &ex);
    assert_string_equal(ex.title, "Ferries stop as the river rises");
    nw_extract_release(&ex);
}

static void
test_author_not_the_site(void **state)
{
    (void)state;
    nw_extract_t ex;
    /* the meta author is the publication: the person in the byline beats it */
    const char *page = "<html><head><title>Flood</title><meta name=\"author\" content=\"Valley "
                       "Courier\"></head><body><article><h1>Flood</h1><p class=\"byline\">By "
                       "Ida Marsh</p>" BODY "</article></body></html>";
    memset(&ex, 0, sizeof(ex));
    assert_int_equal(
        nw_extract_html(page, strlen(page), "https://valleycourier.example/a/1", NOW, &ex), 0);
    assert_int_equal(ex.n_authors, 1);
    assert_string_equal(ex.authors[0], "Ida Marsh");
    nw_extract_release(&ex);
    /* with no person anywhere, the publication stays */
    page = "<html><head><title>Flood</title><meta name=\"author\" content=\"Valley "
           "Courier\"></head><body><article>" BODY "</article></body></html>";
    assert_int_equal(
        nw_extract_html(page, strlen(page), "https://valleycourier.example/a/1", NOW, &ex), 0);
    assert_int_equal(ex.n_authors, 1);
    assert_string_equal(ex.authors[0], "Valley Courier");
    nw_extract_release(&ex);

    /* a degree after a comma, a weekday before the date, an arrow: none is a name */
    extract("<html><head><title>Flood</title><meta name=\"author\" content=\"Ida Marsh, "
            "PhD\"></head><body><article>" BODY "</article></body></html>",
            &ex);
    assert_int_equal(ex.n_authors, 1);
    assert_string_equal(ex.authors[0], "Ida Marsh");
    nw_extract_release(&ex);
    extract("<html><head><title>Flood</title></head><body><article><h1>Flood</h1><span "
            "class=\"author\">Ida Marsh Fr, 12.03.2021</span>" BODY "</article></body></html>",
            &ex);
    assert_int_equal(ex.n_authors, 1);
    assert_string_equal(ex.authors[0], "Ida Marsh");
    nw_extract_release(&ex);
    extract("<html><head><title>Flood</title></head><body><article><h1>Flood</h1><a "
            "rel=\"author\" href=\"/a/im\">About Ida Marsh \xe2\x86\x92</a>" BODY
            "</article></body></html>",
            &ex);
    assert_int_equal(ex.n_authors, 1);
    assert_string_equal(ex.authors[0], "Ida Marsh");
    nw_extract_release(&ex);
}

static void
test_printed_day_over_utc_stamp(void **state)
{
    (void)state;
    nw_extract_t ex;
    /* 02:25 UTC on the 25th is the evening of the 24th in America, and the page prints that */
    extract("<html><head><title>Flood</title>"
            "<meta property=\"article:published_time\" content=\"2020-02-25T02:25:54Z\">"
            "</head><body><article><h1>Flood</h1><p class=\"meta\"><time "
            "datetime=\"2020-02-25T02:25:54Z\">February 24, 2020</time></p>" BODY
            "</article></body></html>",
            &ex);
    assert_non_null(ex.published);
    assert_string_equal(ex.published, "2020-02-24");
    nw_extract_release(&ex);

    /* 12:31 UTC is the 19th nowhere near Europe: the printed next day is an update, kept out;
     * so is a date in the comments under the article */
    extract("<html><head><title>Flood</title>"
            "<meta property=\"article:published_time\" content=\"2019-10-18T14:31:33+02:00\">"
            "</head><body><article><h1>Flood</h1><div class=\"post-date\">19.10.2019</div>" BODY
            "</article></body></html>",
            &ex);
    assert_non_null(ex.published);
    assert_string_equal(ex.published, "2019-10-18T14:31:33+02:00");
    nw_extract_release(&ex);
    extract("<html><head><title>Flood</title>"
            "<meta property=\"article:published_time\" content=\"2015-06-05\">"
            "</head><body><article><h1>Flood</h1>" BODY "</article><div class=\"comments\">"
            "<span class=\"datetime\">6. Juni 2015 um 10:23</span></div></body></html>",
            &ex);
    assert_non_null(ex.published);
    assert_string_equal(ex.published, "2015-06-05");
    nw_extract_release(&ex);
}

static void
test_labelled_byline_line(void **state)
{
    (void)state;
    nw_extract_t ex;
    /* nothing names an author but a "Text:" line under the article */
    extract("<html><head><title>Flood</title></head><body><article><h1>Flood</h1>" BODY
            "<p><strong>Text:</strong> Mara Quist</p></article></body></html>",
            &ex);
    assert_int_equal(ex.n_authors, 1);
    assert_string_equal(ex.authors[0], "Mara Quist");
    nw_extract_release(&ex);

    /* a sentence that starts with "By" is no byline */
    extract("<html><head><title>Flood</title></head><body><article><h1>Flood</h1>" BODY
            "<p>By the morning the water had gone down again.</p></article></body></html>",
            &ex);
    assert_int_equal(ex.n_authors, 0);
    nw_extract_release(&ex);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_byline_inside_author_body),
        cmocka_unit_test(test_byline_with_date_and_label),
        cmocka_unit_test(test_jsonld_author_by_id),
        cmocka_unit_test(test_twitter_label_data),
        cmocka_unit_test(test_date_meta_variants),
        cmocka_unit_test(test_title_kicker_and_host),
        cmocka_unit_test(test_sole_h1_over_seo_title),
        cmocka_unit_test(test_author_not_the_site),
        cmocka_unit_test(test_printed_day_over_utc_stamp),
        cmocka_unit_test(test_labelled_byline_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
