/* test_extract_body.c: the main-text rules of extract.c on small invented pages, one page per
 * rule: a box holding most of the article is kept whatever its class says, an inline element
 * never wins on its class alone, headings that end the text or introduce a dropped box go, so
 * do paragraphs that are only
 * a link, a lead set apart before the body container comes first, a big list with a furniture
 * class and the author's bio box stay out, a sibling box of the container's class with prose is
 * merged, and the container path names where the text was found. */
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

#define NOW ((time_t)1704067200)

/* Three paragraphs of invented prose, long enough to score as an article. */
#define PROSE                                                                                      \
    "<p>The river ferry between the two villages stopped on Monday, after the water rose by "      \
    "almost two metres in a single night, and the operators said it would not run again "          \
    "before the weekend.</p>"                                                                      \
    "<p>Farmers on the eastern bank, who use the ferry to reach the market, said the closure "     \
    "came at the worst time of the year, with the harvest in and nowhere to sell it.</p>"          \
    "<p>The regional council promised a bus service over the upstream bridge, a detour of "        \
    "forty kilometres, and asked residents to keep away from the flooded meadows.</p>"

static void
extract(const char *html, nw_extract_t *ex)
{
    memset(ex, 0, sizeof(*ex));
    assert_int_equal(nw_extract_html(html, strlen(html), NULL, NOW, ex), 0);
    assert_non_null(ex->text);
}

static void
has(const char *text, const char *needle)
{
    if (strstr(text, needle) == NULL)
        fail_msg("\"%s\" not in text [%s]", needle, text);
}

static void
lacks(const char *text, const char *needle)
{
    if (strstr(text, needle) != NULL)
        fail_msg("\"%s\" in text [%s]", needle, text);
}

/* Page builders wrap the post's text in boxes named "widget": inside the chosen container,
 * such a box is furniture only when it does not hold most of the article. */
static void
test_box_holding_article_kept(void **state)
{
    (void)state;
    nw_extract_t ex;
    extract("<html><body><div class=\"builder-widget post-body\">"
            "<div class=\"builder-widget-inner\">" PROSE "</div>"
            "<div class=\"share-widget\">Share this story with your friends</div>"
            "</div></body></html>",
            &ex);
    has(ex.text, "The river ferry between the two villages");
    has(ex.text, "asked residents to keep away");
    lacks(ex.text, "Share this story");
    nw_extract_release(&ex);
}

/* A <span> with a "text" class in a list of links scores its class bonus but holds one line: the
 * article elsewhere wins. */
static void
test_inline_never_wins_on_class(void **state)
{
    (void)state;
    nw_extract_t ex;
    extract("<html><body><ul class=\"topics\"><li><a href=\"/politics\">"
            "<span class=\"item-text\">Read every politics story here</span></a></li></ul>"
            "<div class=\"box\">" PROSE "</div></body></html>",
            &ex);
    has(ex.text, "The river ferry between the two villages");
    lacks(ex.text, "Read every politics story");
    nw_extract_release(&ex);
}

/* A heading after the last paragraph announces what was left out (a list of links); a page of
 * nothing but headings keeps them. */
static void
test_trailing_heading_dropped(void **state)
{
    (void)state;
    nw_extract_t ex;
    extract("<html><body><div class=\"box\"><h2>Water rising</h2>" PROSE
            "<h3>More from the valley</h3><div><a href=\"/a\">Bridge repairs begin</a> "
            "<a href=\"/b\">School reopens</a></div></div></body></html>",
            &ex);
    has(ex.text, "Water rising\n\nThe river ferry");
    has(ex.text, "keep away from the flooded meadows.");
    lacks(ex.text, "More from the valley");
    lacks(ex.text, "Bridge repairs");
    nw_extract_release(&ex);
    extract("<html><body><div><h2>First case</h2><img src=\"a.png\"><h2>Second case</h2>"
            "<img src=\"b.png\"></div></body></html>",
            &ex);
    assert_string_equal(ex.text, "First case\n\nSecond case");
    nw_extract_release(&ex);
}

/* A short paragraph that is all link points elsewhere; a link inside prose is text. */
static void
test_link_paragraph_dropped(void **state)
{
    (void)state;
    nw_extract_t ex;
    extract("<html><body><div class=\"box\">" PROSE
            "<p>Read more: <a href=\"/bridge\">Bridge repairs begin next week upstream of the old "
            "mill</a></p>"
            "<p>The <a href=\"/council\">council</a> will meet again on Thursday to decide "
            "whether the ferry can run before the end of the month.</p></div></body></html>",
            &ex);
    lacks(ex.text, "Bridge repairs");
    has(ex.text, "The council will meet again on Thursday");
    nw_extract_release(&ex);
}

/* The lead set apart in the article's header comes first; a "teaser" that is a list of links to
 * other stories does not. */
static void
test_lead_before_body(void **state)
{
    (void)state;
    nw_extract_t ex;
    extract("<html><body><main><article><header><h1>Ferry stops</h1>"
            "<p class=\"article-lead\">High water has cut the only crossing between the two "
            "villages for the rest of the week.</p></header>"
            "<div class=\"grid\"><div class=\"col\"><div class=\"box\">" PROSE
            "</div></div></div></article></main></body></html>",
            &ex);
    has(ex.text, "High water has cut the only crossing");
    has(ex.text, "The river ferry between the two villages");
    size_t lead = (size_t)(strstr(ex.text, "High water has cut the only crossing") - ex.text);
    assert_true(lead < (size_t)(strstr(ex.text, "The river ferry") - ex.text));
    nw_extract_release(&ex);
    extract("<html><body><main><div class=\"teaser-list\"><a href=\"/a\">Bridge repairs begin "
            "next week upstream</a> <a href=\"/b\">School reopens after the summer</a></div>"
            "<div class=\"grid\"><div class=\"col\"><div class=\"box\">" PROSE
            "</div></div></div></main></body></html>",
            &ex);
    lacks(ex.text, "Bridge repairs");
    has(ex.text, "The river ferry between the two villages");
    nw_extract_release(&ex);
    /* the lead in the header of the <article> that holds a deeply nested body */
    extract("<html><body><article><header><h1>Ferry stops</h1><div class=\"standfirst\">"
            "High water has cut the only crossing between the two villages.</div></header>"
            "<div><hr><div><hr><div><hr><div><hr><div><hr><div class=\"box\">" PROSE
            "</div></div></div></div></div></div></article></body></html>",
            &ex);
    has(ex.text, "High water has cut the only crossing");
    nw_extract_release(&ex);
}

/* A label in bold ("Read also:") or a short heading over a box that is dropped goes with it; a
 * heading over prose stays. */
static void
test_heading_over_dropped_box(void **state)
{
    (void)state;
    nw_extract_t ex;
    extract("<html><body><div class=\"box\">" PROSE
            "<p><strong>Read also:</strong></p><div class=\"more-links\"><a href=\"/a\">Bridge "
            "repairs begin next week</a> <a href=\"/b\">School reopens after the summer</a></div>"
            "<h3>Share</h3><div><a href=\"/f\">Facebook</a> <a href=\"/x\">Mail</a></div>"
            "<h3>What comes next</h3><p>Engineers will inspect the landing stage once the water "
            "has gone down, and the ferry may be back in service within a fortnight.</p>"
            "</div></body></html>",
            &ex);
    lacks(ex.text, "Read also");
    lacks(ex.text, "Bridge repairs");
    lacks(ex.text, "Share");
    has(ex.text, "What comes next\n\nEngineers will inspect");
    nw_extract_release(&ex);
}

/* A slideshow's captions in a list with a furniture class stay out even when they hold most of
 * the page's text (only a wrapper the page never closed is let in on its size). */
static void
test_big_furniture_list_left_out(void **state)
{
    (void)state;
    nw_buf_t b = {0};
    assert_int_equal(nw_buf_puts(&b, "<html><body><article><div class=\"story\">" PROSE
                                     "<ul class=\"legends\">"),
                     0);
    for (int k = 0; k < 12; k++)
        assert_int_equal(nw_buf_printf(&b,
                                       "<li><p>Slide %d, a harbour, a crane, a ship at anchor, "
                                       "gulls over the pier, and a long caption about the port "
                                       "in the nineteen-sixties, when trade was booming.</p></li>",
                                       k),
                         0);
    assert_int_equal(nw_buf_puts(&b, "</ul></div></article></body></html>"), 0);
    nw_extract_t ex;
    extract((const char *)b.data, &ex);
    has(ex.text, "The river ferry between the two villages");
    lacks(ex.text, "Slide 3");
    nw_extract_release(&ex);
    nw_buf_release(&b);
}

/* The author's bio box under the article is not the article. */
static void
test_author_box_left_out(void **state)
{
    (void)state;
    nw_extract_t ex;
    extract("<html><body><div class=\"box\">" PROSE
            "<section class=\"post-author-bio\"><p>Anna Berger has covered the valley, its "
            "rivers, its ferries and its councils, for twenty years, and lives upstream.</p>"
            "</section></div></body></html>",
            &ex);
    has(ex.text, "The river ferry between the two villages");
    lacks(ex.text, "Anna Berger has covered");
    nw_extract_release(&ex);
}

/* Page builders split one article into boxes of the same class; one whose paragraph sits too
 * deep to have given it a score still belongs to the article. */
static void
test_same_class_sibling_merged(void **state)
{
    (void)state;
    nw_extract_t ex;
    extract("<html><body><div class=\"wrap\"><div class=\"row\">" PROSE "</div>"
            "<div class=\"row\"><div><div><div><div><div><p>A second ferry, run by volunteers "
            "further south, will carry pedestrians and bicycles only, from eight in the morning."
            "</p></div></div></div></div></div></div>"
            "<div class=\"other\"><div><div><div><div><div><p>Advertise with us and reach the "
            "whole valley, every week, in print and online at low rates.</p></div></div></div>"
            "</div></div></div></div></body></html>",
            &ex);
    has(ex.text, "The river ferry between the two villages");
    has(ex.text, "A second ferry, run by volunteers");
    lacks(ex.text, "Advertise with us");
    nw_extract_release(&ex);
}

static void
test_container_path(void **state)
{
    (void)state;
    nw_extract_t ex;
    extract("<html><body><header>Site</header><div>menu</div><div id=\"story\">" PROSE
            "</div></body></html>",
            &ex);
    assert_non_null(ex.container);
    assert_string_equal(ex.container, "/html[1]/body[2]/div[3]");
    nw_extract_release(&ex);
    assert_null(ex.container);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_box_holding_article_kept),
        cmocka_unit_test(test_inline_never_wins_on_class),
        cmocka_unit_test(test_trailing_heading_dropped),
        cmocka_unit_test(test_link_paragraph_dropped),
        cmocka_unit_test(test_lead_before_body),
        cmocka_unit_test(test_heading_over_dropped_box),
        cmocka_unit_test(test_big_furniture_list_left_out),
        cmocka_unit_test(test_author_box_left_out),
        cmocka_unit_test(test_same_class_sibling_merged),
        cmocka_unit_test(test_container_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
