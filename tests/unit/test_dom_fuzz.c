/* test_dom_fuzz.c: deterministic fuzzing of the HTML tree builder (dom.h) and of the extractor
 * on its trees. The corpus is a handful of invented pages; each iteration either makes random
 * bytes or mutates a corpus entry (byte flips, inserted markup fragments from a dictionary,
 * deletions, truncation, splices), then parses it from an exact-size heap block (so ASan sees
 * any over-read). Properties checked on every tree:
 *   - nw_dom_parse returns a document (only ENOMEM may fail it) with an <html> root;
 *   - parent, first/last child and sibling links agree, depth stays within NW_DOM_MAX_DEPTH;
 *   - every text and comment is NUL-terminated at its length with no NUL inside, every element
 *     has a name, every attribute a name and a value, and the element count is right;
 *   - nw_extract_html on the same bytes returns 0 or -EPROTO (every 8th input).
 * The seed is fixed, so a failure reproduces; NW_FUZZ_SEED and NW_FUZZ_ITERS override it for
 * longer runs by hand. */
#include "dom.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "extract.h"

#define DEFAULT_ITERS 20000
#define MAX_LEN 8192

static uint64_t rng_state;

static uint64_t
rnd(void)
{
    /* xorshift64*: tiny, fast, and the same sequence everywhere */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(2685821657736338717);
}

static size_t
rnd_below(size_t n)
{
    return n ? (size_t)(rnd() % n) : 0;
}

static const char *const CORPUS[] = {
    "<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>A &amp; B</title>"
    "<script type=\"application/ld+json\">{\"@type\":\"NewsArticle\",\"headline\":\"H\"}</script>"
    "</head><body><div class=menu><ul><li><a href=/>Home<li>News</ul><article><h1>Title</h1>"
    "<p>First, paragraph &mdash; with text.<p>Second <b>bold <i>both</b> after</i>"
    "<figure><img src=x><figcaption>Caption (Photo: Someone)</figcaption></figure>"
    "</article></body></html>",
    "<table><tr><td>a<td>b<tr><td><table><tr><td>in</table></table><select><option>x"
    "<optgroup><option>y</select><dl><dt>t<dd>d</dl>",
    "<svg viewBox='0 0 1 1'><path d='M0'/><title>i</title><g><circle/></g></svg>"
    "<math><mi>x</mi></math><p>After &#x2014; &#128; &#0; &copy &notit;</p>",
    "<head><noscript><img src=p></noscript><iframe src=x></iframe><title>Late</title>"
    "<style>p{x:'</div>'}</style><textarea>&lt;b&gt;</textarea><xmp><p></xmp>",
    "<!-- c --><!--><!---><? pi ?></ junk></><p a=1 A=2 b='x' c=\"y\" d=z e / f/>t",
    "<div><span><a href=1>x<a href=2>y</div></span></p></li><h2>h<h3>i</h2><br/></br>",
};

static const char *const DICT[] = {
    "<",           "</",       ">",        "/>",         "<div>",      "</div>",
    "<p>",         "</p>",     "<li>",     "<table>",    "<td>",       "<tr>",
    "</table>",    "<svg>",    "</svg>",   "<script>",   "</script>",  "<!--",
    "-->",         "&",        "&#x",      "&#",         ";",          "&amp",
    "\"",          "'",        "=",        "<a href=",   "<![CDATA[",  "]]>",
    "<title>",     "<head>",   "<body>",   "<html>",     "<noscript>", "\xef\xbb\xbf",
    "<b>",         "</b>",     "<h1>",     "<template>", "<math>",     "<br>",
    "<plaintext>", "<select>", "<option>", "<dd>",       "<nav>",      "<aside>",
    "</aside>",
};

static size_t
mutate(char *buf, size_t len)
{
    int rounds = 1 + (int)rnd_below(8);
    for (int r = 0; r < rounds; r++) {
        switch (rnd_below(6)) {
        case 0: /* flip a byte */
            if (len > 0)
                buf[rnd_below(len)] = (char)rnd();
            break;
        case 1:
        case 2: { /* insert a dictionary fragment */
            const char *f = DICT[rnd_below(sizeof(DICT) / sizeof(DICT[0]))];
            size_t fl = strlen(f), at = rnd_below(len + 1);
            if (len + fl > MAX_LEN)
                break;
            memmove(buf + at + fl, buf + at, len - at);
            memcpy(buf + at, f, fl);
            len += fl;
            break;
        }
        case 3: { /* delete a range */
            if (len == 0)
                break;
            size_t at = rnd_below(len), n = 1 + rnd_below(16);
            if (n > len - at)
                n = len - at;
            memmove(buf + at, buf + at + n, len - at - n);
            len -= n;
            break;
        }
        case 4: /* truncate */
            len = rnd_below(len + 1);
            break;
        default: { /* splice in part of another corpus entry */
            const char *o = CORPUS[rnd_below(sizeof(CORPUS) / sizeof(CORPUS[0]))];
            size_t ol = strlen(o), from = rnd_below(ol), n = rnd_below(ol - from + 1);
            size_t at = rnd_below(len + 1);
            if (len + n > MAX_LEN)
                break;
            memmove(buf + at + n, buf + at, len - at);
            memcpy(buf + at, o + from, n);
            len += n;
            break;
        }
        }
    }
    return len;
}

static void
check_tree(nw_dom_t *d)
{
    nw_dom_node_t *root = nw_dom_root(d);
    assert_non_null(root);
    assert_null(root->parent);
    assert_int_equal(root->tag, NW_TAG_HTML);
    size_t elements = 0;
    for (nw_dom_node_t *n = root; n != NULL; n = nw_dom_next(n, root, 1)) {
        size_t depth = 0;
        for (nw_dom_node_t *p = n->parent; p != NULL; p = p->parent)
            depth++;
        assert_true(depth <= NW_DOM_MAX_DEPTH);
        if (n->children != NULL) {
            nw_dom_node_t *c = n->children, *last = NULL;
            for (; c != NULL; c = c->next) {
                assert_ptr_equal(c->parent, n);
                last = c;
            }
            assert_ptr_equal(n->last, last);
        } else {
            assert_null(n->last);
        }
        if (n->type == NW_DOM_ELEMENT) {
            elements++;
            assert_non_null(n->name);
            assert_true(n->name[0] != 0);
            assert_true(n->tag < NW_TAG_COUNT);
            assert_null(n->content);
            for (size_t k = 0; k < n->n_attrs; k++) {
                assert_non_null(n->attrs[k].name);
                assert_non_null(n->attrs[k].value);
                assert_true(n->attrs[k].name[0] != 0);
                assert_ptr_equal(nw_dom_attr(n, n->attrs[k].name), n->attrs[k].value);
            }
        } else {
            assert_true(n->type == NW_DOM_TEXT || n->type == NW_DOM_COMMENT);
            assert_non_null(n->content);
            assert_int_equal(strlen(n->content), n->len);
            assert_null(n->children);
            assert_true(n->type == NW_DOM_COMMENT || n->len > 0);
        }
    }
    assert_int_equal(elements, nw_dom_n_elements(d));
    char *t = nw_dom_text(root);
    assert_non_null(t);
    free(t);
}

static void
run_one(const char *src, size_t len, bool extract)
{
    char *p = malloc(len ? len : 1);
    assert_non_null(p);
    memcpy(p, src, len);
    nw_dom_t *d = nw_dom_parse(p, len);
    assert_non_null(d);
    check_tree(d);
    nw_dom_destroy(&d);
    assert_null(d);
    if (extract) {
        nw_extract_t ex = {0};
        int rc = nw_extract_html(p, len, "https://example.com/2024/01/02/a", 1704067200, &ex);
        assert_true(rc == 0 || rc == -EPROTO);
        if (rc == 0)
            assert_non_null(ex.text);
        nw_extract_release(&ex);
    }
    free(p);
}

static void
test_corpus(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof(CORPUS) / sizeof(CORPUS[0]); k++)
        for (size_t cut = 0; cut <= strlen(CORPUS[k]); cut++) /* every prefix */
            run_one(CORPUS[k], cut, cut % 16 == 0);
}

static void
test_mutations(void **state)
{
    (void)state;
    const char *seed = getenv("NW_FUZZ_SEED"), *it = getenv("NW_FUZZ_ITERS");
    rng_state = seed != NULL ? strtoull(seed, NULL, 0) : UINT64_C(0x5eed0f0d0ce1);
    if (rng_state == 0)
        rng_state = 1;
    long iters = it != NULL ? strtol(it, NULL, 10) : DEFAULT_ITERS;
    static char buf[MAX_LEN + 64];
    for (long i = 0; i < iters; i++) {
        size_t len;
        if (rnd_below(8) == 0) {
            len = rnd_below(512);
            for (size_t k = 0; k < len; k++)
                buf[k] = (char)rnd();
        } else {
            const char *c = CORPUS[rnd_below(sizeof(CORPUS) / sizeof(CORPUS[0]))];
            len = strlen(c);
            memcpy(buf, c, len);
            len = mutate(buf, len);
        }
        run_one(buf, len, i % 8 == 0);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
