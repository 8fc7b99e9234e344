/* test_dom.c: the HTML tree builder (dom.h) on small invented pages: head and body implied,
 * implied end tags (p, li, dd/dt, option, table parts, headings), end tags that close up to an
 * open ancestor or are ignored, unclosed wrappers, formatting elements closed with their block,
 * void and self-closing elements, svg left by block markup, character references in text and
 * attributes, raw text elements, comments and broken markup, NUL bytes, input ending inside a
 * tag, and hostile nesting. Trees are compared through a compact serialisation. */
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
#include "dom.h"

/* <name a="v">children</name>; text as is; comments as <!--c-->. attrs: include attributes. */
static void
serialise(nw_buf_t *b, const nw_dom_node_t *n, bool attrs)
{
    const nw_dom_node_t *top = n;
    while (n != NULL) {
        if (n->type == NW_DOM_TEXT) {
            assert_int_equal(nw_buf_puts(b, n->content), 0);
        } else if (n->type == NW_DOM_COMMENT) {
            assert_int_equal(nw_buf_puts(b, "<!--"), 0);
            assert_int_equal(nw_buf_puts(b, n->content), 0);
            assert_int_equal(nw_buf_puts(b, "-->"), 0);
        } else {
            assert_int_equal(nw_buf_puts(b, "<"), 0);
            assert_int_equal(nw_buf_puts(b, n->name), 0);
            for (size_t k = 0; attrs && k < n->n_attrs; k++) {
                assert_int_equal(nw_buf_puts(b, " "), 0);
                assert_int_equal(nw_buf_puts(b, n->attrs[k].name), 0);
                assert_int_equal(nw_buf_puts(b, "=\""), 0);
                assert_int_equal(nw_buf_puts(b, n->attrs[k].value), 0);
                assert_int_equal(nw_buf_puts(b, "\""), 0);
            }
            assert_int_equal(nw_buf_puts(b, ">"), 0);
            if (n->children != NULL) {
                n = n->children;
                continue;
            }
            assert_int_equal(nw_buf_puts(b, "</"), 0);
            assert_int_equal(nw_buf_puts(b, n->name), 0);
            assert_int_equal(nw_buf_puts(b, ">"), 0);
        }
        /* leave: close every finished ancestor */
        while (n != top && n->next == NULL) {
            n = n->parent;
            assert_int_equal(nw_buf_puts(b, "</"), 0);
            assert_int_equal(nw_buf_puts(b, n->name), 0);
            assert_int_equal(nw_buf_puts(b, ">"), 0);
        }
        n = n == top ? NULL : n->next;
    }
}

/* The serialised <body> (or the whole document with whole) of html. */
static char *
tree(const char *html, size_t len, bool whole, bool attrs)
{
    nw_dom_t *d = nw_dom_parse(html, len);
    assert_non_null(d);
    const nw_dom_node_t *n = nw_dom_root(d);
    assert_non_null(n);
    assert_string_equal(n->name, "html");
    if (!whole) {
        n = n->children;
        while (n != NULL && !(n->type == NW_DOM_ELEMENT && n->tag == NW_TAG_BODY))
            n = n->next;
        assert_non_null(n);
    }
    nw_buf_t b = {0};
    serialise(&b, n, attrs);
    assert_int_equal(nw_buf_append(&b, "", 1), 0);
    char *r = (char *)nw_buf_steal(&b, NULL);
    nw_dom_destroy(&d);
    assert_null(d);
    nw_dom_destroy(&d); /* safe twice */
    return r;
}

/* html after an explicit <body>, compared with the serialised body. */
static void
check(const char *body, const char *want)
{
    char html[1024];
    snprintf(html, sizeof(html), "<body>%s", body);
    char *got = tree(html, strlen(html), false, false);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "html: %s\n got: %s\nwant: %s\n", html, got, want);
    assert_string_equal(got, want);
    free(got);
}

static void
test_implied_head_and_body(void **state)
{
    (void)state;
    const char *html = "<!DOCTYPE html><title>A page</title><meta charset=utf-8>\n<p>Hello";
    char *got = tree(html, strlen(html), true, false);
    assert_string_equal(got, "<html><head><title>A page</title><meta></meta></head>"
                             "<body><p>Hello</p></body></html>");
    free(got);
    /* explicit tags, attributes of <html> and <body> kept, a second <body> merges */
    html = "<HTML lang=en><HEAD><title>T</title></HEAD><BODY class=a><p>x</p><body id=b "
           "class=c></body></html><p>after";
    got = tree(html, strlen(html), true, true);
    assert_string_equal(got, "<html lang=\"en\"><head><title>T</title></head><body class=\"a\" "
                             "id=\"b\"><p>x</p><p>after</p></body></html>");
    free(got);
    /* an iframe in the head starts the body; a later <title> is still the document's */
    html = "<head><iframe src=x></iframe><title>Late</title><link rel=canonical href=/a>";
    got = tree(html, strlen(html), true, false);
    assert_string_equal(got, "<html><head><title>Late</title></head><body><iframe></iframe>"
                             "<link></link></body></html>");
    free(got);
    /* a byte order mark is not text, nor one left by an include before the body */
    html = "\xef\xbb\xbf<html><head>\xef\xbb\xbf\n<title>B</title></head><p>x";
    got = tree(html, strlen(html), true, false);
    assert_string_equal(got, "<html><head><title>B</title></head><body><p>x</p></body></html>");
    free(got);
    /* nothing at all still gives html, head and body */
    got = tree("", 0, true, false);
    assert_string_equal(got, "<html><head></head><body></body></html>");
    free(got);
}

static void
test_implied_end_tags(void **state)
{
    (void)state;
    check("<p>a<p>b<div>c</div><p>d<ul><li>e<li>f</ul>",
          "<body><p>a</p><p>b</p><div>c</div><p>d</p><ul><li>e</li><li>f</li></ul></body>");
    check("<dl><dt>t<dd>d<dt>u</dl>", "<body><dl><dt>t</dt><dd>d</dd><dt>u</dt></dl></body>");
    check("<select><option>a<option>b<optgroup><option>c</select>",
          "<body><select><option>a</option><option>b</option><optgroup><option>c</option>"
          "</optgroup></select></body>");
    check("<table><thead><tr><th>h<tbody><tr><td>a<td>b<tr><td>c</table>after",
          "<body><table><thead><tr><th>h</th></tr></thead><tbody><tr><td>a</td><td>b</td></tr>"
          "<tr><td>c</td></tr></tbody></table>after</body>");
    /* a cell's nested table does not close the outer row */
    check("<table><tr><td><table><tr><td>in</table>out<td>next</table>",
          "<body><table><tr><td><table><tr><td>in</td></tr></table>out</td><td>next</td></tr>"
          "</table></body>");
    check("<h1>one<h2>two</h2>", "<body><h1>one</h1><h2>two</h2></body>");
    check("<h2>mismatched</h3>text", "<body><h2>mismatched</h2>text</body>");
    /* an <li> inside a nested list does not close the outer item */
    check("<ul><li>a<ul><li>b</ul><li>c</ul>",
          "<body><ul><li>a<ul><li>b</li></ul></li><li>c</li></ul></body>");
    check("<p>in <li>item", "<body><p>in </p><li>item</li></body>");
}

static void
test_end_tags_and_wrappers(void **state)
{
    (void)state;
    /* stray end tags are ignored */
    check("</div></span><p>a</p></p></li>b", "<body><p>a</p>b</body>");
    /* an unclosed inline element closes with its block */
    check("<div><span><a href=x>link</div>after", "<body><div><span><a>link</a></span></div>"
                                                  "after</body>");
    /* an end tag for an inline element does not cross a block */
    check("<b><div>x</b>y</div>z", "<body><b><div>xy</div>z</b></body>");
    /* an unclosed menu closes with its parent, so the article is its sibling */
    check("<div id=page><nav><ul><li><a>Home</a></nav></div><article><p>Text</p></article>",
          "<body><div><nav><ul><li><a>Home</a></li></ul></nav></div><article><p>Text</p>"
          "</article></body>");
    check("<div class=wrap><aside><div>ad</aside><main><p>Story</main></div>",
          "<body><div><aside><div>ad</div></aside><main><p>Story</p></main></div></body>");
    /* misnested formatting */
    check("<p><b>bold<i>both</b>after</i></p>", "<body><p><b>bold<i>both</i></b>after</p></body>");
    /* an <a> inside an open <a> closes it */
    check("<a href=1>one<a href=2>two", "<body><a>one</a><a>two</a></body>");
    /* unknown elements close by name */
    check("<my-card><x-y>in</my-card>out", "<body><my-card><x-y>in</x-y></my-card>out</body>");
    /* </br> is a line break, </p> without a paragraph is ignored */
    check("a</br>b", "<body>a<br></br>b</body>");
}

static void
test_void_and_foreign(void **state)
{
    (void)state;
    check("<p>a<br>b<img src=x>c<hr>d<input><wbr>",
          "<body><p>a<br></br>b<img></img>c</p><hr></hr>d<input></input><wbr></wbr></body>");
    /* self-closing is ignored on HTML elements, honoured in svg */
    check("<div/>in</div>out", "<body><div>in</div>out</body>");
    check("<svg><path d=1 /><circle/><title>icon</title></svg><p>text",
          "<body><svg><path></path><circle></circle><title>icon</title></svg><p>text</p></body>");
    /* an unclosed svg is left when block markup starts */
    check("<div><svg><g><path><p>Article text</div>",
          "<body><div><svg><g><path></path></g></svg><p>Article text</p></div></body>");
    check("<image src=x>", "<body><img></img></body>");
}

static void
test_character_references(void **state)
{
    (void)state;
    check("<p>&amp; &lt;&gt;&quot;&apos; &#65;&#x42;&#X43; &#128;&#0;&#xD800;&#1114112; "
          "&copy &notanentity; & alone &hellip;&rsquo;&nbsp;&period;&#38</p>",
          "<body><p>& <>\"' ABC \xe2\x82\xac\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd \xc2\xa9 "
          "&notanentity; & alone \xe2\x80\xa6\xe2\x80\x99\xc2\xa0.&</p></body>");
    /* in attributes a legacy name followed by '=' or a letter stays as written */
    const char *html = "<a title=\"a&amp;b\" href='?x=1&copy=2&lang=de&amp;q' data-x=&lt;>t</a>";
    char *got = tree(html, strlen(html), false, true);
    assert_string_equal(got, "<body><a title=\"a&b\" href=\"?x=1&copy=2&lang=de&q\" "
                             "data-x=\"<\">t</a></body>");
    free(got);
}

static void
test_raw_text(void **state)
{
    (void)state;
    check("<script>if (a<b && c) { s = \"</div><p>\"; }</script><p>x",
          "<body><script>if (a<b && c) { s = \"</div><p>\"; }</script><p>x</p></body>");
    check("<style>p > a { x: '&amp;' }</STYLE >y",
          "<body><style>p > a { x: '&amp;' }</style>y</body>");
    check("<textarea>a &amp; <b>b</b></textarea>",
          "<body><textarea>a & <b>b</b></textarea></body>");
    check("<p><title>a <b> c</title>", "<body><p></p></body>");
    check("<xmp><p>&amp;</xmp>", "<body><xmp><p>&amp;</xmp></body>");
    /* </scripts is not the end of a script; an unterminated one runs to the end */
    check("<script>a</scripts>b", "<body><script>a</scripts>b</script></body>");
    /* noscript: raw text in the head, parsed in the body */
    const char *html = "<head><noscript><img src=x></noscript></head><noscript><p>Fallback</p>"
                       "</noscript>";
    char *got = tree(html, strlen(html), true, false);
    assert_string_equal(got, "<html><head><noscript><img src=x></noscript></head><body>"
                             "<noscript><p>Fallback</p></noscript></body></html>");
    free(got);
}

static void
test_comments_and_broken_markup(void **state)
{
    (void)state;
    check("<!-- a -->x<!---->y<!-->z<!--->w<!-- b --!>v", "<body><!-- a -->x<!---->y<!---->z"
                                                          "<!---->w<!-- b -->v</body>");
    check("a<?php echo 1 ?>b<!DOCTYPE x>c<![CDATA[d]]>e</ junk>f</>g",
          "<body>a<!--php echo 1 ?-->bc<!--[CDATA[d]]-->e<!-- junk-->fg</body>");
    check("a < b <> c <3 d<", "<body>a < b <> c <3 d<</body>");
    check("<!-- unterminated", "<body><!-- unterminated--></body>");
    /* input ending inside a tag drops the tag */
    check("<p>text<a href=\"never closed", "<body><p>text</p></body>");
    check("<p>text<div class=x", "<body><p>text</p></body>");
    /* attributes: duplicates (first wins), case, no value, stray slashes, no space */
    const char *html = "<div CLASS=A class=b hidden / id = 'i'title=\"t\"data-x>x</div>";
    char *got = tree(html, strlen(html), false, true);
    assert_string_equal(got, "<body><div class=\"A\" hidden=\"\" id=\"i\" title=\"t\" "
                             "data-x=\"\">x</div></body>");
    free(got);
    /* NUL bytes are dropped from text, attribute values and names */
    static const char nul[] = "<p t=\"a\0b\">c\0d<script>e\0f</script>";
    got = tree(nul, sizeof(nul) - 1, false, true);
    assert_string_equal(got, "<body><p t=\"ab\">cd<script>ef</script></p></body>");
    free(got);
}

static void
test_deep_nesting(void **state)
{
    (void)state;
    nw_buf_t b = {0};
    for (int i = 0; i < 100000; i++)
        assert_int_equal(nw_buf_puts(&b, i % 2 ? "<div>" : "<span><b>"), 0);
    assert_int_equal(nw_buf_puts(&b, "deep"), 0);
    nw_dom_t *d = nw_dom_parse((const char *)b.data, b.len);
    assert_non_null(d);
    assert_int_equal(nw_dom_n_elements(d), 150000 + 3);
    size_t max = 0, texts = 0;
    nw_dom_node_t *root = nw_dom_root(d);
    for (nw_dom_node_t *n = root; n != NULL; n = nw_dom_next(n, root, 1)) {
        size_t depth = 0;
        for (nw_dom_node_t *p = n->parent; p != NULL; p = p->parent)
            depth++;
        max = depth > max ? depth : max;
        if (n->type == NW_DOM_TEXT) {
            texts++;
            assert_string_equal(n->content, "deep");
        }
    }
    assert_true(max <= NW_DOM_MAX_DEPTH);
    assert_int_equal(texts, 1);
    char *t = nw_dom_text(root);
    assert_string_equal(t, "deep");
    free(t);
    nw_dom_destroy(&d);
    nw_buf_release(&b);
}

static void
test_tags_and_helpers(void **state)
{
    (void)state;
    for (unsigned t = 1; t < NW_TAG_COUNT; t++) {
        const char *name = nw_dom_tag_name(t);
        assert_int_equal(nw_dom_tag_lookup(name, strlen(name)), t);
    }
    assert_int_equal(nw_dom_tag_lookup("blink", 5), NW_TAG_UNKNOWN);
    assert_int_equal(nw_dom_tag_lookup("", 0), NW_TAG_UNKNOWN);
    assert_string_equal(nw_dom_tag_name(NW_TAG_COUNT), "");
    const char *html = "<p id=x>one <b>two</b><!-- no --> three</p>";
    nw_dom_t *d = nw_dom_parse(html, strlen(html));
    nw_dom_node_t *root = nw_dom_root(d), *p = NULL;
    for (nw_dom_node_t *n = root; n != NULL && p == NULL; n = nw_dom_next(n, root, 1))
        if (n->type == NW_DOM_ELEMENT && n->tag == NW_TAG_P)
            p = n;
    assert_non_null(p);
    assert_string_equal(nw_dom_attr(p, "id"), "x");
    assert_null(nw_dom_attr(p, "class"));
    assert_null(nw_dom_attr(p->children, "id")); /* a text node has none */
    char *t = nw_dom_text(p);
    assert_string_equal(t, "one two three");
    free(t);
    t = nw_dom_text(p->children);
    assert_string_equal(t, "one ");
    free(t);
    nw_dom_destroy(&d);
    nw_dom_destroy(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_implied_head_and_body),      cmocka_unit_test(test_implied_end_tags),
        cmocka_unit_test(test_end_tags_and_wrappers),      cmocka_unit_test(test_void_and_foreign),
        cmocka_unit_test(test_character_references),       cmocka_unit_test(test_raw_text),
        cmocka_unit_test(test_comments_and_broken_markup), cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_tags_and_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
