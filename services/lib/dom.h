/* dom.h, private to the library (services call parse.h): a fast HTML tokenizer and tree builder for
 * the article extractor.
 *
 * One pass over the bytes builds a compact tree in an arena: elements, text and comments.
 * Tree construction follows HTML5 in spirit where it matters for news pages: <head> and <body>
 * are implied, <p> is closed by block starts, li/dt/dd/option/tr/td/th/tbody close their open
 * siblings, an end tag closes up to the matching open element in scope and is ignored when
 * there is none, void elements never take children, formatting elements close with their block,
 * and svg/math are left when HTML block tags appear in them. Character references are decoded
 * (numeric ones, the HTML4 named set through libxml2's table, and a few HTML5 names); script,
 * style, textarea, title, xmp, iframe, noembed and noframes hold raw text (noscript too while
 * in <head>; in <body> its content is parsed, as with scripting off). Depth is bounded, so
 * hostile nesting stays flat past NW_DOM_MAX_DEPTH, and no input can make it fail other than
 * by running out of memory. Input is taken as UTF-8 (bytes are passed through; NUL is dropped).
 */
#ifndef NW_DOM_H
#define NW_DOM_H

#include <stddef.h>
#include <stdint.h>

/* Deeper elements are still created, as children of the deepest open one. */
#define NW_DOM_MAX_DEPTH 512

typedef enum nw_dom_type {
    NW_DOM_ELEMENT = 1,
    NW_DOM_TEXT = 3,
    NW_DOM_COMMENT = 8,
} nw_dom_type_t;

/* Known tag names, sorted; NW_TAG_UNKNOWN keeps its lowercased name in the node. */
/* clang-format off */
#define NW_DOM_TAGS(X) \
    X(A, "a") \
    X(ABBR, "abbr") \
    X(ADDRESS, "address") \
    X(APPLET, "applet") \
    X(AREA, "area") \
    X(ARTICLE, "article") \
    X(ASIDE, "aside") \
    X(AUDIO, "audio") \
    X(B, "b") \
    X(BASE, "base") \
    X(BASEFONT, "basefont") \
    X(BDI, "bdi") \
    X(BDO, "bdo") \
    X(BGSOUND, "bgsound") \
    X(BIG, "big") \
    X(BLOCKQUOTE, "blockquote") \
    X(BODY, "body") \
    X(BR, "br") \
    X(BUTTON, "button") \
    X(CANVAS, "canvas") \
    X(CAPTION, "caption") \
    X(CENTER, "center") \
    X(CITE, "cite") \
    X(CODE, "code") \
    X(COL, "col") \
    X(COLGROUP, "colgroup") \
    X(DD, "dd") \
    X(DEL, "del") \
    X(DETAILS, "details") \
    X(DIALOG, "dialog") \
    X(DIR, "dir") \
    X(DIV, "div") \
    X(DL, "dl") \
    X(DT, "dt") \
    X(EM, "em") \
    X(EMBED, "embed") \
    X(FIELDSET, "fieldset") \
    X(FIGCAPTION, "figcaption") \
    X(FIGURE, "figure") \
    X(FONT, "font") \
    X(FOOTER, "footer") \
    X(FORM, "form") \
    X(FRAME, "frame") \
    X(FRAMESET, "frameset") \
    X(H1, "h1") \
    X(H2, "h2") \
    X(H3, "h3") \
    X(H4, "h4") \
    X(H5, "h5") \
    X(H6, "h6") \
    X(HEAD, "head") \
    X(HEADER, "header") \
    X(HGROUP, "hgroup") \
    X(HR, "hr") \
    X(HTML, "html") \
    X(I, "i") \
    X(IFRAME, "iframe") \
    X(IMAGE, "image") \
    X(IMG, "img") \
    X(INPUT, "input") \
    X(INS, "ins") \
    X(KBD, "kbd") \
    X(KEYGEN, "keygen") \
    X(LABEL, "label") \
    X(LEGEND, "legend") \
    X(LI, "li") \
    X(LINK, "link") \
    X(LISTING, "listing") \
    X(MAIN, "main") \
    X(MAP, "map") \
    X(MARK, "mark") \
    X(MARQUEE, "marquee") \
    X(MATH, "math") \
    X(MENU, "menu") \
    X(META, "meta") \
    X(NAV, "nav") \
    X(NOBR, "nobr") \
    X(NOEMBED, "noembed") \
    X(NOFRAMES, "noframes") \
    X(NOSCRIPT, "noscript") \
    X(OBJECT, "object") \
    X(OL, "ol") \
    X(OPTGROUP, "optgroup") \
    X(OPTION, "option") \
    X(P, "p") \
    X(PARAM, "param") \
    X(PICTURE, "picture") \
    X(PLAINTEXT, "plaintext") \
    X(PRE, "pre") \
    X(Q, "q") \
    X(RP, "rp") \
    X(RT, "rt") \
    X(RUBY, "ruby") \
    X(S, "s") \
    X(SAMP, "samp") \
    X(SCRIPT, "script") \
    X(SEARCH, "search") \
    X(SECTION, "section") \
    X(SELECT, "select") \
    X(SMALL, "small") \
    X(SOURCE, "source") \
    X(SPAN, "span") \
    X(STRIKE, "strike") \
    X(STRONG, "strong") \
    X(STYLE, "style") \
    X(SUB, "sub") \
    X(SUMMARY, "summary") \
    X(SUP, "sup") \
    X(SVG, "svg") \
    X(TABLE, "table") \
    X(TBODY, "tbody") \
    X(TD, "td") \
    X(TEMPLATE, "template") \
    X(TEXTAREA, "textarea") \
    X(TFOOT, "tfoot") \
    X(TH, "th") \
    X(THEAD, "thead") \
    X(TIME, "time") \
    X(TITLE, "title") \
    X(TR, "tr") \
    X(TRACK, "track") \
    X(TT, "tt") \
    X(U, "u") \
    X(UL, "ul") \
    X(VAR, "var") \
    X(VIDEO, "video") \
    X(WBR, "wbr") \
    X(XMP, "xmp")
/* clang-format on */

#define NW_DOM_TAG_ENUM(id, s) NW_TAG_##id,
typedef enum nw_dom_tag {
    NW_TAG_UNKNOWN = 0,
    NW_DOM_TAGS(NW_DOM_TAG_ENUM) NW_TAG_COUNT
} nw_dom_tag_t;
#undef NW_DOM_TAG_ENUM

/* One attribute: name lowercased, value with character references decoded; both
 * NUL-terminated. The first of duplicate names wins. */
typedef struct nw_dom_attr {
    const char *name;
    const char *value;
} nw_dom_attr_t;

typedef struct nw_dom_node nw_dom_node_t;
struct nw_dom_node {
    nw_dom_node_t *parent;
    nw_dom_node_t *children; /* first child */
    nw_dom_node_t *last;     /* last child */
    nw_dom_node_t *next;     /* next sibling */
    const char *name;        /* element: lowercase tag name; text and comment: NULL */
    char *content;           /* text and comment: decoded, NUL-terminated; element: NULL */
    nw_dom_attr_t *attrs;
    void *data;   /* free for the caller (the extractor hangs its measurements here) */
    uint32_t len; /* bytes of content */
    uint16_t n_attrs;
    uint8_t tag;  /* nw_dom_tag_t */
    uint8_t type; /* nw_dom_type_t */
};

typedef struct nw_dom nw_dom_t;

/* Parse html[0..len) into a new tree. The document always has an <html> root holding <head>
 * and <body> (both implied when missing). Borrows html until return; the tree owns copies of
 * everything. Returns the document or NULL on ENOMEM. */
nw_dom_t *nw_dom_parse(const char *html, size_t len);

/* The <html> element of d; never NULL for a parsed document. */
nw_dom_node_t *nw_dom_root(const nw_dom_t *d);

/* Number of element nodes in d. */
size_t nw_dom_n_elements(const nw_dom_t *d);

/* Free d and every node in it. NULL-safe; nulls *d. */
void nw_dom_destroy(nw_dom_t **d);

/* Value of n's attribute name (lowercase), or NULL when absent or n is not an element. */
const char *nw_dom_attr(const nw_dom_node_t *n, const char *name);

/* Next node after n in document order within top's subtree (top excluded); n's children are
 * skipped unless descend. NULL at the end. */
nw_dom_node_t *nw_dom_next(nw_dom_node_t *n, const nw_dom_node_t *top, int descend);

/* Concatenated text of n's subtree (n's own content for a text node), as is. Returns a
 * malloc'd string the caller frees, or NULL on ENOMEM. */
char *nw_dom_text(const nw_dom_node_t *n);

/* Lowercase name of a known tag; "" for NW_TAG_UNKNOWN or out of range. */
const char *nw_dom_tag_name(unsigned tag);

/* The tag id of a lowercase name[0..len), NW_TAG_UNKNOWN when not known. */
nw_dom_tag_t nw_dom_tag_lookup(const char *name, size_t len);

#endif
