/* test_html.c: the HTML base extractor on our own fixtures (tests/fixtures/html/): title
 * precedence, lang, dates, authors, paragraphs outside page furniture, figcaptions with and
 * without credits, datelines, tag soup, deep nesting and hostile input. */
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
#include "html.h"
#include "newswire/proto.h"
#include "newswire/util.h"

static void
parse_fixture_at(const char *name, const char *url, nw_article_t *a)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/tests/fixtures/html/%s", NW_SOURCE_DIR, name);
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(nw_read_file(path, 1 << 20, &buf, &len), 0);
    memset(a, 0, sizeof(*a));
    assert_int_equal(nw_html_parse((const char *)buf, len, url, a), 0);
    assert_non_null(a->text);
    free(buf);
}

static void
parse_fixture(const char *name, nw_article_t *a)
{
    parse_fixture_at(name, NULL, a);
}

static void
test_article(void **state)
{
    (void)state;
    nw_article_t a;
    parse_fixture("article.html", &a);
    assert_string_equal(a.title, "Night trains return to the Alps"); /* og:title wins */
    assert_string_equal(a.lang, "en");
    assert_string_equal(a.published, "2023-10-02T06:30:00+02:00");
    assert_string_equal(a.modified, "2023-10-02T09:05:00+02:00");
    assert_string_equal(a.site_name, "Example News");
    assert_string_equal(a.section, "Travel");
    assert_int_equal(a.n_tags, 2);
    assert_string_equal(a.tags[0], "rail");
    assert_string_equal(a.tags[1], "Alps");
    assert_null(a.image); /* relative, and no page address to resolve it against */
    assert_int_equal(a.n_authors, 2);
    assert_string_equal(a.authors[0], "Jane Doe");
    assert_string_equal(a.authors[1], "John Roe");
    /* spacing before punctuation is kept as published ("Monday ."): HTML is typeset text, and
     * French puts a space before ":" ";" "!" "?", which the wire-line cleaner would remove */
    assert_string_equal(a.text,
                        "A sleeper service between Vienna and Geneva will start in December, the "
                        "rail operator said on Monday .\n\n"
                        "Tickets go on sale next week, with couchettes from forty euros.\n\n"
                        "\"Demand has never been higher,\" a spokesman said.");
    assert_int_equal(a.n_captions, 2);
    assert_string_equal(a.captions[0].text, "A sleeper train waits at the station in Vienna.");
    assert_string_equal(a.captions[0].credit, "\xc2\xa9 Max Bauer/Pool via REUTERS");
    assert_string_equal(a.captions[0].photographer, "Max Bauer");
    assert_string_equal(a.captions[0].agency, "Reuters");
    assert_true(a.captions[0].pool);
    assert_string_equal(a.captions[1].text, "The route crosses three countries");
    assert_null(a.captions[1].credit);
    /* furniture and scripts stay out */
    assert_null(strstr(a.text, "Home"));
    assert_null(strstr(a.text, "Subscribe"));
    assert_null(strstr(a.text, "Read also"));
    assert_null(strstr(a.text, "Copyright"));
    assert_null(strstr(a.text, "not text"));
    assert_null(strstr(a.text, "color"));
    nw_article_release(&a);
}

/* With the page's address, relative links resolve and the URL can date the page. */
static void
test_article_at_url(void **state)
{
    (void)state;
    nw_article_t a;
    parse_fixture_at("article.html", "https://news.example/travel/night-trains?ref=home", &a);
    assert_string_equal(a.image, "https://news.example/img/sleeper.jpg");
    nw_article_release(&a);
    parse_fixture_at("soup.html", "https://news.example/2022/09/16/harvest", &a);
    assert_string_equal(a.published, "2022-09-17"); /* <time> outranks the URL */
    nw_article_release(&a);
    parse_fixture_at("h1_only.html", "https://news.example/2021/03/04/story", &a);
    assert_string_equal(a.published, "2021-03-04"); /* only the URL has a date */
    nw_article_release(&a);
}

static void
test_tag_soup(void **state)
{
    (void)state;
    nw_article_t a;
    parse_fixture("soup.html", &a);
    assert_string_equal(a.title, "Harvest festival opens"); /* <title>, cleaned */
    assert_null(a.lang);
    assert_string_equal(a.published, "2022-09-17"); /* from <time datetime> */
    assert_int_equal(a.n_authors, 0);
    assert_int_equal(a.n_captions, 0);
    assert_string_equal(a.text,
                        "The village harvest festival opened on Saturday with a parade of "
                        "tractors.\n\nOrganisers expected ten thousand visitors over the weekend"
                        "\n\nStalls sold apples, pears and cider.");
    nw_article_release(&a);
}

static void
test_h1_title(void **state)
{
    (void)state;
    nw_article_t a;
    parse_fixture("h1_only.html", &a);
    assert_string_equal(a.title, "Biblioteca reabre depois de obras");
    assert_string_equal(a.lang, "pt");
    assert_null(a.published); /* "soon" is not a date */
    assert_string_equal(a.text, "A biblioteca municipal reabriu as portas esta manh\xc3\xa3.");
    nw_article_release(&a);
}

static void
test_no_paragraphs(void **state)
{
    (void)state;
    nw_article_t a;
    parse_fixture("no_paragraphs.html", &a);
    assert_string_equal(a.title, "Gallery");
    /* loose text in a container is article text too (Readability scores it as a paragraph);
     * the menu still stays out */
    assert_string_equal(a.text, "Only a div with text and no paragraph elements");
    nw_article_release(&a);
}

/* A stale charset hint must not re-decode text that is already UTF-8. */
static void
test_ignores_meta_charset(void **state)
{
    (void)state;
    const char *doc = "<html><head><meta charset=\"iso-8859-1\"></head><body>"
                      "<p>Caf\xc3\xa9 cr\xc3\xa8me</p></body></html>";
    nw_article_t a = {0};
    assert_int_equal(nw_html_parse(doc, strlen(doc), NULL, &a), 0);
    assert_string_equal(a.text, "Caf\xc3\xa9 cr\xc3\xa8me");
    nw_article_release(&a);
}

/* A dateline opening the article text is the wire-text dateline (wire.h, nw_wire_dateline):
 * the place goes to dateline and the prefix leaves the text. */
static void
test_dateline(void **state)
{
    (void)state;
    nw_article_t a;
    parse_fixture("dateline.html", &a);
    assert_string_equal(a.dateline, "Cairo");
    assert_string_equal(a.text, "Egypt's central bank kept its main interest rates unchanged on "
                                "Thursday, as inflation eased for a third month.\n\n"
                                "The overnight deposit rate stays at 27.25%, the bank said in a "
                                "statement.");
    nw_article_release(&a);

    /* a dateline in a paragraph of its own goes with its paragraph */
    parse_fixture("dateline_alone.html", &a);
    assert_string_equal(a.dateline, "Rio de Janeiro, Brazil");
    assert_string_equal(a.text, "Delegates returned to the table on Tuesday after a week of "
                                "silence.\n\nA second round is planned for March.");
    nw_article_release(&a);

    /* a subheading that looks like "Place - Words" is not a dateline, nor is a dash inside
     * a sentence */
    parse_fixture("dateline_none.html", &a);
    assert_null(a.dateline);
    assert_string_equal(a.text, "Gaza - The Latest\n\nMediators met again on Monday, officials "
                                "said.\n\nPrices rose - and then fell again - in the "
                                "afternoon.");
    nw_article_release(&a);

    /* a dateline and nothing after it stays text: an article is never emptied */
    const char *only = "<html><body><p>CAIRO (Reuters) -</p></body></html>";
    memset(&a, 0, sizeof(a));
    assert_int_equal(nw_html_parse(only, strlen(only), NULL, &a), 0);
    assert_null(a.dateline);
    assert_string_equal(a.text, "CAIRO (Reuters) -");
    nw_article_release(&a);
}

/* Hostile input: deep nesting, an external entity, unbalanced tags. Nothing is fetched, the
 * walk does not recurse, and the result is still a document. */
static void
test_hostile(void **state)
{
    (void)state;
    nw_buf_t b = {0};
    assert_int_equal(nw_buf_puts(&b, "<!DOCTYPE html SYSTEM \"http://127.0.0.1:1/x.dtd\">"), 0);
    for (int i = 0; i < 20000; i++)
        assert_int_equal(nw_buf_puts(&b, "<div>"), 0);
    assert_int_equal(nw_buf_puts(&b, "<p>deep &amp; sound</p></span></table>"), 0);
    nw_article_t a = {0};
    int rc = nw_html_parse((const char *)b.data, b.len, NULL, &a);
    assert_true(rc == 0 || rc == -EPROTO);
    if (rc == 0)
        assert_non_null(a.text);
    nw_article_release(&a);
    nw_buf_release(&b);

    /* nothing at all is not a document */
    assert_int_equal(nw_html_parse("", 0, NULL, &a), -EPROTO);
    assert_null(a.text);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_article),       cmocka_unit_test(test_article_at_url),
        cmocka_unit_test(test_tag_soup),      cmocka_unit_test(test_h1_title),
        cmocka_unit_test(test_no_paragraphs), cmocka_unit_test(test_ignores_meta_charset),
        cmocka_unit_test(test_dateline),      cmocka_unit_test(test_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
