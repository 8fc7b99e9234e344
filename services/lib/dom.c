/* dom.c: HTML tokenizer and tree builder (see dom.h).
 *
 * Why not libxml2's HTML parser: on the extraction pages its parse-and-free alone runs at
 * ~409 pages/s, below the 20x-Readability.js target for parse plus extraction together, and its
 * HTML4-era recovery is not HTML5 tree construction (an unclosed <div class="menu">, <aside> or
 * <head> swallows the article). This builder does one pass over the bytes, allocates from an
 * arena, and applies the few HTML5 tree-construction rules news pages depend on.
 *
 * Layout: the tokenizer (parse_*) reads markup and calls the tree builder (on_start, on_end,
 * on_text, on_comment), which keeps the stack of open elements. Text is decoded straight into
 * the arena; a character reference never decodes to more bytes than it occupies, so a text run
 * of n bytes needs at most n + 1 (checked per reference all the same). */
#include "dom.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>

/* --- arena -------------------------------------------------------------------------------- */

typedef struct block {
    struct block *prev;
    size_t cap, used;
    _Alignas(16) char mem[];
} block_t;

struct nw_dom {
    block_t *blocks;
    size_t next_cap; /* size of the next block */
    nw_dom_node_t *root, *head, *body;
    size_t n_elements;
};

static block_t *
arena_grow(nw_dom_t *d, size_t need)
{
    size_t cap = d->next_cap > need ? d->next_cap : need;
    block_t *b = malloc(sizeof(*b) + cap);
    if (b == NULL)
        return NULL;
    b->prev = d->blocks;
    b->cap = cap;
    b->used = 0;
    d->blocks = b;
    if (d->next_cap < (size_t)1 << 22)
        d->next_cap *= 2;
    return b;
}

/* n bytes aligned to 8, or NULL on ENOMEM. */
static void *
arena_alloc(nw_dom_t *d, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    block_t *b = d->blocks;
    if (b == NULL || b->cap - b->used < n) {
        if (n > SIZE_MAX / 2 || (b = arena_grow(d, n)) == NULL)
            return NULL;
    }
    void *p = b->mem + b->used;
    b->used += n;
    return p;
}

/* Give back the tail of the last allocation: p was returned by arena_alloc and only its first
 * used bytes are kept. */
static void
arena_trim(nw_dom_t *d, const char *p, size_t used)
{
    block_t *b = d->blocks;
    size_t end = (size_t)(p - b->mem) + ((used + 7) & ~(size_t)7);
    if (end <= b->used)
        b->used = end;
}

/* Whether the n bytes after p are free at the top of the current block (p + n within it). */
static bool
arena_can_extend(const nw_dom_t *d, const char *p, size_t old, size_t more)
{
    const block_t *b = d->blocks;
    if (b == NULL || p < b->mem || p >= b->mem + b->cap)
        return false;
    size_t off = (size_t)(p - b->mem);
    return off + ((old + 7) & ~(size_t)7) == b->used && b->cap - off >= old + more + 8;
}

/* --- tags --------------------------------------------------------------------------------- */

#define NAME_STR(id, s) s,
static const char *const TAG_NAMES[] = {"", NW_DOM_TAGS(NAME_STR)};
#undef NAME_STR

const char *
nw_dom_tag_name(unsigned tag)
{
    return tag < NW_TAG_COUNT ? TAG_NAMES[tag] : "";
}

nw_dom_tag_t
nw_dom_tag_lookup(const char *name, size_t len)
{
    size_t lo = 1, hi = NW_TAG_COUNT;
    if (len == 0 || len > 10)
        return NW_TAG_UNKNOWN;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *t = TAG_NAMES[mid];
        size_t tl = strlen(t);
        int c = memcmp(name, t, len < tl ? len : tl);
        if (c == 0)
            c = len < tl ? -1 : len > tl;
        if (c == 0)
            return (nw_dom_tag_t)mid;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NW_TAG_UNKNOWN;
}

enum {
    T_VOID = 1 << 0,     /* never has children */
    T_SPECIAL = 1 << 1,  /* HTML5 "special": stops the search of an unknown end tag */
    T_CLOSE_P = 1 << 2,  /* its start tag closes an open <p> */
    T_SCOPE = 1 << 3,    /* boundary of the default scope */
    T_HEADISH = 1 << 4,  /* belongs in <head> when it comes before the body */
    T_RAW = 1 << 5,      /* raw text up to its end tag */
    T_RCDATA = 1 << 6,   /* raw text with character references decoded */
    T_BREAKOUT = 1 << 7, /* leaves svg/math content */
    T_HEADING = 1 << 8,
    T_TABLE_PART = 1 << 9, /* tr, td, th, tbody, thead, tfoot, caption, colgroup */
};

#define SPECIAL (T_SPECIAL)
#define BLOCK (T_SPECIAL | T_CLOSE_P)
static const uint16_t tag_flags[NW_TAG_COUNT] = {
    [NW_TAG_ADDRESS] = BLOCK,
    [NW_TAG_APPLET] = SPECIAL | T_SCOPE,
    [NW_TAG_AREA] = SPECIAL | T_VOID,
    [NW_TAG_ARTICLE] = BLOCK,
    [NW_TAG_ASIDE] = BLOCK,
    [NW_TAG_B] = T_BREAKOUT,
    [NW_TAG_BASE] = SPECIAL | T_VOID | T_HEADISH,
    [NW_TAG_BASEFONT] = SPECIAL | T_VOID | T_HEADISH,
    [NW_TAG_BGSOUND] = SPECIAL | T_VOID | T_HEADISH,
    [NW_TAG_BIG] = T_BREAKOUT,
    [NW_TAG_BLOCKQUOTE] = BLOCK | T_BREAKOUT,
    [NW_TAG_BODY] = SPECIAL | T_BREAKOUT,
    [NW_TAG_BR] = SPECIAL | T_VOID | T_BREAKOUT,
    [NW_TAG_BUTTON] = SPECIAL,
    [NW_TAG_CAPTION] = SPECIAL | T_SCOPE | T_TABLE_PART,
    [NW_TAG_CENTER] = BLOCK | T_BREAKOUT,
    [NW_TAG_CODE] = T_BREAKOUT,
    [NW_TAG_COL] = SPECIAL | T_VOID,
    [NW_TAG_COLGROUP] = SPECIAL | T_TABLE_PART,
    [NW_TAG_DD] = SPECIAL | T_BREAKOUT,
    [NW_TAG_DETAILS] = BLOCK,
    [NW_TAG_DIALOG] = BLOCK,
    [NW_TAG_DIR] = BLOCK,
    [NW_TAG_DIV] = BLOCK | T_BREAKOUT,
    [NW_TAG_DL] = BLOCK | T_BREAKOUT,
    [NW_TAG_DT] = SPECIAL | T_BREAKOUT,
    [NW_TAG_EM] = T_BREAKOUT,
    [NW_TAG_EMBED] = SPECIAL | T_VOID | T_BREAKOUT,
    [NW_TAG_FIELDSET] = BLOCK,
    [NW_TAG_FIGCAPTION] = BLOCK,
    [NW_TAG_FIGURE] = BLOCK,
    [NW_TAG_FOOTER] = BLOCK,
    [NW_TAG_FORM] = BLOCK,
    [NW_TAG_FRAME] = SPECIAL | T_VOID,
    [NW_TAG_FRAMESET] = SPECIAL,
    [NW_TAG_H1] = BLOCK | T_HEADING | T_BREAKOUT,
    [NW_TAG_H2] = BLOCK | T_HEADING | T_BREAKOUT,
    [NW_TAG_H3] = BLOCK | T_HEADING | T_BREAKOUT,
    [NW_TAG_H4] = BLOCK | T_HEADING | T_BREAKOUT,
    [NW_TAG_H5] = BLOCK | T_HEADING | T_BREAKOUT,
    [NW_TAG_H6] = BLOCK | T_HEADING | T_BREAKOUT,
    [NW_TAG_HEAD] = SPECIAL | T_BREAKOUT,
    [NW_TAG_HEADER] = BLOCK,
    [NW_TAG_HGROUP] = BLOCK,
    [NW_TAG_HR] = BLOCK | T_VOID | T_BREAKOUT,
    [NW_TAG_HTML] = SPECIAL | T_SCOPE,
    [NW_TAG_I] = T_BREAKOUT,
    [NW_TAG_IFRAME] = SPECIAL | T_RAW,
    [NW_TAG_IMAGE] = T_VOID,
    [NW_TAG_IMG] = SPECIAL | T_VOID | T_BREAKOUT,
    [NW_TAG_INPUT] = SPECIAL | T_VOID,
    [NW_TAG_KEYGEN] = SPECIAL | T_VOID,
    [NW_TAG_LI] = SPECIAL | T_BREAKOUT,
    [NW_TAG_LINK] = SPECIAL | T_VOID | T_HEADISH,
    [NW_TAG_LISTING] = BLOCK | T_BREAKOUT,
    [NW_TAG_MAIN] = BLOCK,
    [NW_TAG_MARQUEE] = SPECIAL | T_SCOPE,
    [NW_TAG_MENU] = BLOCK | T_BREAKOUT,
    [NW_TAG_META] = SPECIAL | T_VOID | T_HEADISH | T_BREAKOUT,
    [NW_TAG_NAV] = BLOCK,
    [NW_TAG_NOBR] = T_BREAKOUT,
    [NW_TAG_NOEMBED] = SPECIAL | T_RAW,
    [NW_TAG_NOFRAMES] = SPECIAL | T_RAW | T_HEADISH,
    [NW_TAG_NOSCRIPT] = SPECIAL | T_HEADISH,
    [NW_TAG_OBJECT] = SPECIAL | T_SCOPE,
    [NW_TAG_OL] = BLOCK | T_BREAKOUT,
    [NW_TAG_P] = BLOCK | T_BREAKOUT,
    [NW_TAG_PARAM] = SPECIAL | T_VOID,
    [NW_TAG_PLAINTEXT] = BLOCK | T_RAW,
    [NW_TAG_PRE] = BLOCK | T_BREAKOUT,
    [NW_TAG_RUBY] = T_BREAKOUT,
    [NW_TAG_S] = T_BREAKOUT,
    [NW_TAG_SCRIPT] = SPECIAL | T_RAW | T_HEADISH,
    [NW_TAG_SEARCH] = BLOCK,
    [NW_TAG_SECTION] = BLOCK,
    [NW_TAG_SELECT] = SPECIAL,
    [NW_TAG_SMALL] = T_BREAKOUT,
    [NW_TAG_SOURCE] = SPECIAL | T_VOID,
    [NW_TAG_SPAN] = T_BREAKOUT,
    [NW_TAG_STRIKE] = T_BREAKOUT,
    [NW_TAG_STRONG] = T_BREAKOUT,
    [NW_TAG_STYLE] = SPECIAL | T_RAW | T_HEADISH,
    [NW_TAG_SUB] = T_BREAKOUT,
    [NW_TAG_SUMMARY] = BLOCK,
    [NW_TAG_SUP] = T_BREAKOUT,
    [NW_TAG_TABLE] = BLOCK | T_BREAKOUT,
    [NW_TAG_TBODY] = SPECIAL | T_TABLE_PART,
    [NW_TAG_TD] = SPECIAL | T_SCOPE | T_TABLE_PART,
    [NW_TAG_TEMPLATE] = SPECIAL | T_SCOPE,
    [NW_TAG_TEXTAREA] = SPECIAL | T_RCDATA,
    [NW_TAG_TFOOT] = SPECIAL | T_TABLE_PART,
    [NW_TAG_TH] = SPECIAL | T_SCOPE | T_TABLE_PART,
    [NW_TAG_THEAD] = SPECIAL | T_TABLE_PART,
    [NW_TAG_TITLE] = SPECIAL | T_RCDATA | T_HEADISH,
    [NW_TAG_TR] = SPECIAL | T_TABLE_PART,
    [NW_TAG_TRACK] = SPECIAL | T_VOID,
    [NW_TAG_TT] = T_BREAKOUT,
    [NW_TAG_U] = T_BREAKOUT,
    [NW_TAG_UL] = BLOCK | T_BREAKOUT,
    [NW_TAG_VAR] = T_BREAKOUT,
    [NW_TAG_WBR] = SPECIAL | T_VOID,
    [NW_TAG_XMP] = BLOCK | T_RAW,
};

static inline bool
has(const nw_dom_node_t *n, unsigned f)
{
    return (tag_flags[n->tag] & f) != 0;
}

/* --- character references ----------------------------------------------------------------- */

static const uint16_t CP1252[32] = {0x20ac, 0x81,   0x201a, 0x192,  0x201e, 0x2026, 0x2020, 0x2021,
                                    0x2c6,  0x2030, 0x160,  0x2039, 0x152,  0x8d,   0x17d,  0x8f,
                                    0x90,   0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
                                    0x2dc,  0x2122, 0x161,  0x203a, 0x153,  0x9d,   0x17e,  0x178};

/* The most frequent names first, then HTML5 names that the HTML4 table lacks. */
static const struct {
    const char *name;
    uint32_t cp;
} ENTITIES[] = {
    {"amp", '&'},
    {"lt", '<'},
    {"gt", '>'},
    {"quot", '"'},
    {"nbsp", 0xa0},
    {"apos", '\''},
    {"rsquo", 0x2019},
    {"lsquo", 0x2018},
    {"rdquo", 0x201d},
    {"ldquo", 0x201c},
    {"mdash", 0x2014},
    {"ndash", 0x2013},
    {"hellip", 0x2026},
    {"copy", 0xa9},
    {"laquo", 0xab},
    {"raquo", 0xbb},
    {"middot", 0xb7},
    {"bull", 0x2022},
    {"period", '.'},
    {"comma", ','},
    {"colon", ':'},
    {"semi", ';'},
    {"excl", '!'},
    {"quest", '?'},
    {"lpar", '('},
    {"rpar", ')'},
    {"lsqb", '['},
    {"rsqb", ']'},
    {"lbrack", '['},
    {"rbrack", ']'},
    {"lcub", '{'},
    {"rcub", '}'},
    {"sol", '/'},
    {"bsol", '\\'},
    {"num", '#'},
    {"dollar", '$'},
    {"percnt", '%'},
    {"ast", '*'},
    {"plus", '+'},
    {"equals", '='},
    {"commat", '@'},
    {"grave", '`'},
    {"Hat", '^'},
    {"lowbar", '_'},
    {"verbar", '|'},
    {"vert", '|'},
    {"Tab", '\t'},
    {"NewLine", '\n'},
    {"hyphen", 0x2010},
    {"dash", 0x2010},
    {"horbar", 0x2015},
    {"nbhy", 0x2011},
    {"ZeroWidthSpace", 0x200b},
    {"NonBreakingSpace", 0xa0},
    {"shy", 0xad},
    {"euro", 0x20ac},
    {"trade", 0x2122},
    {"TRADE", 0x2122},
    {"COPY", 0xa9},
    {"REG", 0xae},
    {"AMP", '&'},
    {"LT", '<'},
    {"GT", '>'},
    {"QUOT", '"'},
    {"thinsp", 0x2009},
    {"ensp", 0x2002},
    {"emsp", 0x2003},
    {"numsp", 0x2007},
    {"puncsp", 0x2008},
    {"hairsp", 0x200a},
    {"MediumSpace", 0x205f},
};

/* Names a page may write without the semicolon (the common part of HTML5's legacy list). */
static const char *const LEGACY[] = {"amp", "lt",     "gt",   "quot", "nbsp", "copy",  "reg",
                                     "AMP", "LT",     "GT",   "QUOT", "COPY", "REG",   "shy",
                                     "deg", "eacute", "uuml", "ouml", "auml", "szlig", NULL};

static uint32_t
entity_lookup(const char *name)
{
    for (size_t k = 0; k < sizeof(ENTITIES) / sizeof(ENTITIES[0]); k++)
        if (strcmp(name, ENTITIES[k].name) == 0)
            return ENTITIES[k].cp;
    const htmlEntityDesc *e = htmlEntityLookup((const xmlChar *)name);
    return e != NULL ? e->value : 0;
}

static size_t
utf8_put(char *o, uint32_t c)
{
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xc0 | (c >> 6));
        o[1] = (char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (char)(0xe0 | (c >> 12));
        o[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        o[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (c >> 18));
    o[1] = (char)(0x80 | ((c >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3f));
    o[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

static inline bool
is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* The reference at s[0] == '&' (s[0..n)): its code point in *cp and the bytes it spans, or 0
 * when it is not one (the '&' is then literal). */
static size_t
char_ref(const char *s, size_t n, bool in_attr, uint32_t *cp)
{
    size_t i = 1;
    if (i < n && s[i] == '#') {
        i++;
        bool hex = i < n && (s[i] == 'x' || s[i] == 'X');
        i += hex;
        size_t start = i;
        uint32_t v = 0;
        for (; i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            unsigned d;
            if (c >= '0' && c <= '9')
                d = c - '0';
            else if (hex && (c | 0x20) >= 'a' && (c | 0x20) <= 'f')
                d = (c | 0x20) - 'a' + 10;
            else
                break;
            v = v > 0x10ffff ? v : v * (hex ? 16 : 10) + d;
        }
        if (i == start)
            return 0;
        if (i < n && s[i] == ';')
            i++;
        if (v == 0 || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
            v = 0xfffd;
        else if (v >= 0x80 && v <= 0x9f)
            v = CP1252[v - 0x80];
        *cp = v;
        return i;
    }
    char name[33];
    size_t k = 0;
    while (i < n && k < sizeof(name) - 1 && is_alnum((unsigned char)s[i]))
        name[k++] = s[i++];
    name[k] = 0;
    if (k == 0)
        return 0;
    if (i < n && s[i] == ';') {
        uint32_t v = entity_lookup(name);
        if (v == 0)
            return 0;
        *cp = v;
        return i + 1;
    }
    /* no semicolon: only the legacy names, and in an attribute not before '=' or a letter */
    if (in_attr && i < n && (s[i] == '=' || is_alnum((unsigned char)s[i])))
        return 0;
    for (size_t l = 0; LEGACY[l] != NULL; l++)
        if (strcmp(name, LEGACY[l]) == 0) {
            uint32_t v = entity_lookup(name);
            if (v == 0)
                return 0;
            *cp = v;
            return i;
        }
    return 0;
}

/* Decode s[0..n) into o (room for n bytes): references decoded, NUL dropped. Returns the
 * length written; never more than n. */
static size_t
decode(char *o, const char *s, size_t n, bool in_attr)
{
    size_t w = 0;
    for (size_t i = 0; i < n;) {
        const char *amp = memchr(s + i, '&', n - i);
        size_t run = amp != NULL ? (size_t)(amp - (s + i)) : n - i;
        /* copy the run, dropping NUL bytes */
        const char *z = memchr(s + i, 0, run);
        if (z == NULL) {
            memcpy(o + w, s + i, run);
            w += run;
        } else {
            for (size_t k = 0; k < run; k++)
                if (s[i + k] != 0)
                    o[w++] = s[i + k];
        }
        i += run;
        if (i >= n)
            break;
        uint32_t cp = 0;
        size_t used = char_ref(s + i, n - i, in_attr, &cp);
        char u[4];
        size_t ul = used > 0 ? utf8_put(u, cp) : 0;
        if (used == 0 || ul > used) {
            o[w++] = '&';
            i++;
            continue;
        }
        memcpy(o + w, u, ul);
        w += ul;
        i += used;
    }
    return w;
}

/* --- tree --------------------------------------------------------------------------------- */

#define MAX_ATTRS 64

typedef struct raw_attr {
    const char *name, *value;
    size_t nlen, vlen;
} raw_attr_t;

enum { M_INITIAL, M_IN_HEAD, M_AFTER_HEAD, M_BODY };

typedef struct parser {
    nw_dom_t *d;
    const char *p, *end;
    nw_dom_node_t *stack[NW_DOM_MAX_DEPTH];
    int depth;
    int foreign; /* stack index of the outermost open svg/math, or -1 */
    int mode;
    bool oom;
    bool title_seen; /* an HTML <title> has been inserted */
    raw_attr_t attrs[MAX_ATTRS];
    size_t n_attrs;
} parser_t;

static void
append(nw_dom_node_t *parent, nw_dom_node_t *n)
{
    n->parent = parent;
    if (parent->last != NULL)
        parent->last->next = n;
    else
        parent->children = n;
    parent->last = n;
}

static nw_dom_node_t *
new_node(parser_t *P, int type)
{
    nw_dom_node_t *n = arena_alloc(P->d, sizeof(*n));
    if (n == NULL) {
        P->oom = true;
        return NULL;
    }
    memset(n, 0, sizeof(*n));
    n->type = (uint8_t)type;
    return n;
}

static bool
has_attr(const nw_dom_node_t *n, const char *name, size_t len)
{
    for (size_t k = 0; k < n->n_attrs; k++)
        if (strncmp(n->attrs[k].name, name, len) == 0 && n->attrs[k].name[len] == 0)
            return true;
    return false;
}

/* Add the pending attributes to n, skipping names it already has. */
static void
add_attrs(parser_t *P, nw_dom_node_t *n)
{
    if (P->n_attrs == 0)
        return;
    size_t total = n->n_attrs + P->n_attrs;
    nw_dom_attr_t *a = arena_alloc(P->d, total * sizeof(*a));
    if (a == NULL) {
        P->oom = true;
        return;
    }
    if (n->n_attrs > 0)
        memcpy(a, n->attrs, n->n_attrs * sizeof(*a));
    n->attrs = a;
    for (size_t k = 0; k < P->n_attrs; k++) {
        const raw_attr_t *r = &P->attrs[k];
        char lname[64];
        size_t nl = r->nlen < sizeof(lname) ? r->nlen : sizeof(lname) - 1;
        for (size_t i = 0; i < nl; i++) {
            char c = r->name[i];
            lname[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        if (memchr(lname, 0, nl) != NULL || has_attr(n, lname, nl))
            continue;
        char *name = arena_alloc(P->d, nl + 1 + r->vlen + 1);
        if (name == NULL) {
            P->oom = true;
            return;
        }
        memcpy(name, lname, nl);
        name[nl] = 0;
        char *value = name + nl + 1;
        size_t vl = decode(value, r->value, r->vlen, true);
        value[vl] = 0;
        arena_trim(P->d, name, nl + 1 + vl + 1);
        a[n->n_attrs].name = name;
        a[n->n_attrs].value = value;
        n->n_attrs++;
    }
}

static nw_dom_node_t *
current(const parser_t *P)
{
    return P->stack[P->depth - 1];
}

/* Create the element for a start tag under parent; push it unless void. */
static nw_dom_node_t *
insert(parser_t *P, nw_dom_node_t *parent, unsigned tag, const char *name, size_t nlen, bool push)
{
    nw_dom_node_t *n = new_node(P, NW_DOM_ELEMENT);
    if (n == NULL)
        return NULL;
    n->tag = (uint8_t)tag;
    if (tag == NW_TAG_TITLE && P->foreign < 0)
        P->title_seen = true;
    if (tag != NW_TAG_UNKNOWN) {
        n->name = TAG_NAMES[tag];
    } else {
        char *s = arena_alloc(P->d, nlen + 1);
        if (s == NULL) {
            P->oom = true;
            return NULL;
        }
        for (size_t i = 0; i < nlen; i++) {
            char c = name[i];
            s[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        s[nlen] = 0;
        n->name = s;
    }
    add_attrs(P, n);
    append(parent, n);
    P->d->n_elements++;
    if (push && P->depth < NW_DOM_MAX_DEPTH)
        P->stack[P->depth++] = n;
    return n;
}

/* s[0..n) into o as is but for NUL bytes, or decoded; returns the length written (<= n). */
static size_t
put_text(char *o, const char *s, size_t n, bool raw)
{
    if (!raw)
        return decode(o, s, n, false);
    if (memchr(s, 0, n) == NULL) {
        memcpy(o, s, n);
        return n;
    }
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] != 0)
            o[w++] = s[i];
    return w;
}

/* Append s[0..n) (decoded unless raw) to parent, merged into its last child when that is a
 * text node. */
static void
add_text(parser_t *P, nw_dom_node_t *parent, const char *s, size_t n, bool raw)
{
    if (n == 0)
        return;
    nw_dom_node_t *t = parent->last;
    char *o;
    if (t != NULL && t->type == NW_DOM_TEXT && arena_can_extend(P->d, t->content, t->len + 1, n)) {
        /* the last text node's content is the top of the arena: grow it in place */
        o = t->content + t->len;
        size_t w = put_text(o, s, n, raw);
        t->len += (uint32_t)w;
        t->content[t->len] = 0;
        P->d->blocks->used = (size_t)(t->content - P->d->blocks->mem) + ((t->len + 1 + 7) & ~7u);
        return;
    }
    if (t != NULL && t->type == NW_DOM_TEXT) {
        /* join by copy */
        if ((size_t)t->len + n + 1 > UINT32_MAX)
            return;
        char *c = arena_alloc(P->d, t->len + n + 1);
        if (c == NULL) {
            P->oom = true;
            return;
        }
        memcpy(c, t->content, t->len);
        size_t w = put_text(c + t->len, s, n, raw);
        t->content = c;
        t->len += (uint32_t)w;
        c[t->len] = 0;
        arena_trim(P->d, c, t->len + 1);
        return;
    }
    if (n + 1 > UINT32_MAX)
        return;
    nw_dom_node_t *tn = new_node(P, NW_DOM_TEXT);
    char *c = tn != NULL ? arena_alloc(P->d, n + 1) : NULL;
    if (c == NULL) {
        P->oom = true;
        return;
    }
    size_t w = put_text(c, s, n, raw);
    c[w] = 0;
    arena_trim(P->d, c, w + 1);
    if (w == 0) /* nothing but NUL bytes */
        return;
    tn->content = c;
    tn->len = (uint32_t)w;
    append(parent, tn);
}

static nw_dom_node_t *
ensure_head(parser_t *P)
{
    if (P->d->head == NULL) {
        size_t saved = P->n_attrs; /* the pending tag's attributes are not the head's */
        P->n_attrs = 0;
        P->d->head = insert(P, P->d->root, NW_TAG_HEAD, NULL, 0, false);
        P->n_attrs = saved;
    }
    return P->d->head;
}

static void
start_body(parser_t *P)
{
    ensure_head(P);
    P->depth = 1;
    P->foreign = -1;
    if (P->d->body == NULL) {
        size_t saved = P->n_attrs;
        P->n_attrs = 0;
        P->d->body = insert(P, P->d->root, NW_TAG_BODY, NULL, 0, false);
        P->n_attrs = saved;
    }
    if (P->d->body != NULL)
        P->stack[P->depth++] = P->d->body;
    P->mode = M_BODY;
}

static void
pop_to(parser_t *P, int i)
{
    int floor = P->mode == M_BODY ? 2 : 1; /* never the root, nor <body> once in it */
    if (i < floor)
        i = floor;
    if (i < P->depth)
        P->depth = i;
    if (P->foreign >= P->depth)
        P->foreign = -1;
}

enum { SCOPE_DEFAULT, SCOPE_BUTTON, SCOPE_LIST, SCOPE_TABLE };

static bool
boundary(const nw_dom_node_t *n, int scope)
{
    if (scope == SCOPE_TABLE)
        return n->tag == NW_TAG_TABLE || n->tag == NW_TAG_HTML || n->tag == NW_TAG_TEMPLATE;
    if (has(n, T_SCOPE) || n->tag == NW_TAG_TABLE)
        return true;
    if (scope == SCOPE_BUTTON)
        return n->tag == NW_TAG_BUTTON;
    if (scope == SCOPE_LIST)
        return n->tag == NW_TAG_OL || n->tag == NW_TAG_UL;
    return false;
}

/* Stack index of the innermost open element with tag (or any heading for NW_TAG_H1 with
 * heading set) in the given scope, or -1. */
static int
in_scope(const parser_t *P, unsigned tag, int scope, bool heading)
{
    for (int i = P->depth - 1; i >= 1; i--) {
        const nw_dom_node_t *n = P->stack[i];
        if (heading ? has(n, T_HEADING) : n->tag == tag)
            return i;
        if (boundary(n, scope))
            return -1;
    }
    return -1;
}

static void
close_p(parser_t *P)
{
    int i = in_scope(P, NW_TAG_P, SCOPE_BUTTON, false);
    if (i >= 0)
        pop_to(P, i);
}

/* li, dd, dt: close an open sibling item unless a special element other than address, div
 * and p comes first. */
static void
close_item(parser_t *P, unsigned tag)
{
    for (int i = P->depth - 1; i >= 1; i--) {
        const nw_dom_node_t *n = P->stack[i];
        bool match =
            tag == NW_TAG_LI ? n->tag == NW_TAG_LI : (n->tag == NW_TAG_DD || n->tag == NW_TAG_DT);
        if (match) {
            pop_to(P, i);
            break;
        }
        if (has(n, T_SPECIAL) && n->tag != NW_TAG_ADDRESS && n->tag != NW_TAG_DIV &&
            n->tag != NW_TAG_P)
            break;
    }
    close_p(P);
}

static void on_start(parser_t *P, unsigned tag, const char *name, size_t nlen, bool self_closing);

/* Raw text of a just-inserted element el: up to its end tag (case-insensitive), which is
 * consumed; to the end of input when there is none. */
static void
raw_text(parser_t *P, nw_dom_node_t *el, const char *name, size_t nlen, bool decode_refs)
{
    const char *s = P->p, *e = P->end, *q = s, *stop = e, *after = e;
    if (el->tag == NW_TAG_PLAINTEXT)
        goto found;
    while (q < e && (q = memchr(q, '<', (size_t)(e - q))) != NULL) {
        if (e - q >= (ptrdiff_t)(nlen + 2) && q[1] == '/' && strncasecmp(q + 2, name, nlen) == 0) {
            const char *r = q + 2 + nlen;
            if (r == e || *r == '>' || *r == '/' || *r == ' ' || *r == '\t' || *r == '\n' ||
                *r == '\r' || *r == '\f') {
                stop = q;
                const char *gt = memchr(r, '>', (size_t)(e - r));
                after = gt != NULL ? gt + 1 : e;
                break;
            }
        }
        q++;
    }
found:
    if (el != NULL)
        add_text(P, el, s, (size_t)(stop - s), !decode_refs);
    P->p = after;
}

static void
on_start(parser_t *P, unsigned tag, const char *name, size_t nlen, bool self_closing)
{
    nw_dom_t *d = P->d;
    if (tag == NW_TAG_HTML) {
        add_attrs(P, d->root);
        return;
    }
    if (tag == NW_TAG_IMAGE) {
        tag = NW_TAG_IMG;
        name = "img";
        nlen = 3;
    }
    unsigned fl = tag_flags[tag];
    if (P->mode != M_BODY) {
        if (tag == NW_TAG_HEAD) {
            if (P->mode == M_INITIAL) {
                nw_dom_node_t *h = ensure_head(P);
                if (h != NULL) {
                    add_attrs(P, h);
                    P->stack[P->depth++] = h;
                }
                P->mode = M_IN_HEAD;
            }
            return;
        }
        if ((fl & T_HEADISH) && !(tag == NW_TAG_NOSCRIPT && P->mode == M_AFTER_HEAD)) {
            nw_dom_node_t *h = ensure_head(P);
            if (h == NULL)
                return;
            nw_dom_node_t *el = insert(P, h, tag, name, nlen, false);
            /* in <head>, <noscript> is raw text, as with scripting on */
            if (el != NULL && (fl & (T_RAW | T_RCDATA) || tag == NW_TAG_NOSCRIPT))
                raw_text(P, el, name, nlen, (fl & T_RCDATA) != 0);
            return;
        }
        start_body(P);
        if (tag == NW_TAG_BODY) {
            if (d->body != NULL)
                add_attrs(P, d->body);
            return;
        }
    }
    if (tag == NW_TAG_BODY) {
        if (d->body != NULL)
            add_attrs(P, d->body);
        return;
    }
    if (tag == NW_TAG_HEAD || tag == NW_TAG_FRAMESET)
        return;
    if (tag == NW_TAG_TITLE && P->foreign < 0 && !P->title_seen) {
        /* the document's title even where an early <iframe> or stray text has started the
         * body: document.title is the first <title> wherever it is */
        nw_dom_node_t *h = ensure_head(P);
        nw_dom_node_t *el = h != NULL ? insert(P, h, tag, name, nlen, false) : NULL;
        if (el != NULL)
            raw_text(P, el, name, nlen, true);
        return;
    }
    if (P->foreign >= 0) {
        if ((fl & T_BREAKOUT) != 0) {
            pop_to(P, P->foreign);
        } else {
            bool raw = (fl & (T_RAW | T_RCDATA)) != 0 && !self_closing;
            nw_dom_node_t *el =
                insert(P, current(P), tag, name, nlen, !self_closing && !(fl & T_VOID) && !raw);
            if (el != NULL && raw) /* <title>, <style>, <script> inside svg */
                raw_text(P, el, name, nlen, (fl & T_RCDATA) != 0);
            return;
        }
    }
    if (fl & T_CLOSE_P)
        close_p(P);
    switch (tag) {
    case NW_TAG_H1:
    case NW_TAG_H2:
    case NW_TAG_H3:
    case NW_TAG_H4:
    case NW_TAG_H5:
    case NW_TAG_H6:
        if (has(current(P), T_HEADING))
            pop_to(P, P->depth - 1);
        break;
    case NW_TAG_LI:
    case NW_TAG_DD:
    case NW_TAG_DT:
        close_item(P, tag);
        break;
    case NW_TAG_TR: {
        int i = in_scope(P, NW_TAG_TR, SCOPE_TABLE, false);
        if (i >= 0)
            pop_to(P, i);
        break;
    }
    case NW_TAG_TD:
    case NW_TAG_TH: {
        int i = in_scope(P, NW_TAG_TD, SCOPE_TABLE, false);
        int j = in_scope(P, NW_TAG_TH, SCOPE_TABLE, false);
        i = i > j ? i : j;
        if (i >= 0)
            pop_to(P, i);
        break;
    }
    case NW_TAG_TBODY:
    case NW_TAG_THEAD:
    case NW_TAG_TFOOT: {
        for (int i = P->depth - 1; i >= 1; i--) {
            const nw_dom_node_t *n = P->stack[i];
            if (n->tag == NW_TAG_TBODY || n->tag == NW_TAG_THEAD || n->tag == NW_TAG_TFOOT) {
                pop_to(P, i);
                break;
            }
            if (boundary(n, SCOPE_TABLE))
                break;
        }
        break;
    }
    case NW_TAG_OPTION:
        if (current(P)->tag == NW_TAG_OPTION)
            pop_to(P, P->depth - 1);
        break;
    case NW_TAG_OPTGROUP:
        if (current(P)->tag == NW_TAG_OPTION)
            pop_to(P, P->depth - 1);
        if (current(P)->tag == NW_TAG_OPTGROUP)
            pop_to(P, P->depth - 1);
        break;
    case NW_TAG_BUTTON: {
        int i = in_scope(P, NW_TAG_BUTTON, SCOPE_DEFAULT, false);
        if (i >= 0)
            pop_to(P, i);
        break;
    }
    case NW_TAG_A:
    case NW_TAG_NOBR:
        /* an <a> inside an open <a> closes it, when only inline elements lie between */
        for (int i = P->depth - 1; i >= 1; i--) {
            const nw_dom_node_t *n = P->stack[i];
            if (n->tag == tag) {
                pop_to(P, i);
                break;
            }
            if (has(n, T_SPECIAL))
                break;
        }
        break;
    default:
        break;
    }
    bool push = !(fl & (T_VOID | T_RAW | T_RCDATA));
    nw_dom_node_t *el = insert(P, current(P), tag, name, nlen, push);
    if (el == NULL)
        return;
    if (fl & (T_RAW | T_RCDATA))
        raw_text(P, el, name, nlen, (fl & T_RCDATA) != 0);
    else if ((tag == NW_TAG_SVG || tag == NW_TAG_MATH) && push) {
        if (self_closing)
            pop_to(P, P->depth - 1);
        else if (P->foreign < 0 && current(P) == el)
            P->foreign = P->depth - 1;
    }
}

static void
on_end(parser_t *P, unsigned tag, const char *name, size_t nlen)
{
    if (tag == NW_TAG_IMAGE)
        return;
    if (P->mode != M_BODY) {
        if (tag == NW_TAG_HEAD && P->mode == M_IN_HEAD) {
            pop_to(P, 1);
            P->mode = M_AFTER_HEAD;
        } else if (tag == NW_TAG_BR) {
            P->n_attrs = 0;
            on_start(P, NW_TAG_BR, "br", 2, false);
        }
        return;
    }
    unsigned fl = tag_flags[tag];
    int i = -1;
    switch (tag) {
    case NW_TAG_BODY:
    case NW_TAG_HTML:
        return;
    case NW_TAG_BR:
        P->n_attrs = 0;
        on_start(P, NW_TAG_BR, "br", 2, false);
        return;
    case NW_TAG_P:
        i = in_scope(P, NW_TAG_P, SCOPE_BUTTON, false);
        break;
    case NW_TAG_LI:
        i = in_scope(P, NW_TAG_LI, SCOPE_LIST, false);
        break;
    case NW_TAG_H1:
    case NW_TAG_H2:
    case NW_TAG_H3:
    case NW_TAG_H4:
    case NW_TAG_H5:
    case NW_TAG_H6:
        i = in_scope(P, tag, SCOPE_DEFAULT, true);
        break;
    default:
        if (fl & T_TABLE_PART || tag == NW_TAG_TABLE) {
            i = in_scope(P, tag, SCOPE_TABLE, false);
        } else if (fl & T_SPECIAL) {
            i = in_scope(P, tag, SCOPE_DEFAULT, false);
        } else {
            /* formatting and unknown elements: the nearest one of that name, unless a special
             * element lies between (then it stays open until that block closes) */
            for (int k = P->depth - 1; k >= 1; k--) {
                const nw_dom_node_t *n = P->stack[k];
                if (n->tag == tag &&
                    (tag != NW_TAG_UNKNOWN ||
                     (strncasecmp(n->name, name, nlen) == 0 && n->name[nlen] == 0))) {
                    i = k;
                    break;
                }
                if (has(n, T_SPECIAL))
                    break;
            }
        }
        break;
    }
    if (i >= 1)
        pop_to(P, i);
}

static void
on_text(parser_t *P, const char *s, size_t n)
{
    if (P->mode != M_BODY) {
        /* whitespace, and byte order marks that server-side includes leave in the head */
        size_t k = 0;
        for (;;) {
            if (k < n && (s[k] == ' ' || s[k] == '\t' || s[k] == '\n' || s[k] == '\r' ||
                          s[k] == '\f' || s[k] == 0))
                k++;
            else if (n - k >= 3 && memcmp(s + k, "\xef\xbb\xbf", 3) == 0)
                k += 3;
            else
                break;
        }
        if (k == n)
            return;
        s += k;
        n -= k;
        start_body(P);
    }
    add_text(P, current(P), s, n, false);
}

static void
on_comment(parser_t *P, const char *s, size_t n)
{
    if (n + 1 > UINT32_MAX)
        return;
    nw_dom_node_t *c = new_node(P, NW_DOM_COMMENT);
    char *t = c != NULL ? arena_alloc(P->d, n + 1) : NULL;
    if (t == NULL) {
        P->oom = true;
        return;
    }
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] != 0)
            t[w++] = s[i];
    t[w] = 0;
    arena_trim(P->d, t, w + 1);
    c->content = t;
    c->len = (uint32_t)w;
    append(current(P), c);
}

/* --- tokenizer ---------------------------------------------------------------------------- */

static inline bool
is_space(unsigned char c)
{
    return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f';
}

static inline bool
is_alpha(unsigned char c)
{
    return (unsigned char)((c | 0x20) - 'a') < 26;
}

/* A tag at P->p ('<' then an optional '/' then a letter). Attributes go to P->attrs. Returns
 * false when the input ends inside the tag (the tag is dropped, as HTML5 does). */
static bool
parse_tag(parser_t *P, bool end_tag)
{
    const char *s = P->p + 1 + end_tag, *e = P->end;
    const char *name = s;
    while (s < e && !is_space((unsigned char)*s) && *s != '/' && *s != '>')
        s++;
    size_t nlen = (size_t)(s - name);
    P->n_attrs = 0;
    bool self_closing = false;
    for (;;) {
        while (s < e && (is_space((unsigned char)*s) || *s == '/')) {
            if (*s == '/' && s + 1 < e && s[1] == '>')
                self_closing = true;
            s++;
        }
        if (s >= e)
            return false;
        if (*s == '>') {
            s++;
            break;
        }
        self_closing = false;
        const char *an = s++;
        while (s < e && !is_space((unsigned char)*s) && *s != '/' && *s != '>' && *s != '=')
            s++;
        size_t anl = (size_t)(s - an);
        while (s < e && is_space((unsigned char)*s))
            s++;
        const char *av = "";
        size_t avl = 0;
        if (s < e && *s == '=') {
            s++;
            while (s < e && is_space((unsigned char)*s))
                s++;
            if (s >= e)
                return false;
            if (*s == '"' || *s == '\'') {
                const char *q = memchr(s + 1, *s, (size_t)(e - s - 1));
                if (q == NULL)
                    return false;
                av = s + 1;
                avl = (size_t)(q - av);
                s = q + 1;
            } else {
                av = s;
                while (s < e && !is_space((unsigned char)*s) && *s != '>')
                    s++;
                avl = (size_t)(s - av);
            }
        }
        if (!end_tag && P->n_attrs < MAX_ATTRS)
            P->attrs[P->n_attrs++] = (raw_attr_t){an, av, anl, avl};
    }
    P->p = s;
    char lower[16];
    unsigned tag = NW_TAG_UNKNOWN;
    if (nlen < sizeof(lower)) {
        for (size_t i = 0; i < nlen; i++) {
            char c = name[i];
            lower[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        tag = nw_dom_tag_lookup(lower, nlen);
    }
    if (end_tag)
        on_end(P, tag, name, nlen);
    else
        on_start(P, tag, name, nlen, self_closing);
    return true;
}

/* Skip a comment-like construct at P->p: "<!--...-->", or "<!...>", "<?...>", "</ ...>" as
 * bogus comments up to the next '>'. */
static void
parse_comment(parser_t *P)
{
    const char *s = P->p, *e = P->end;
    if (e - s >= 4 && memcmp(s, "<!--", 4) == 0) {
        const char *c = s + 4;
        /* "<!-->" and "<!--->" are empty comments */
        if (c < e && *c == '>') {
            on_comment(P, c, 0);
            P->p = c + 1;
            return;
        }
        if (e - c >= 2 && c[0] == '-' && c[1] == '>') {
            on_comment(P, c, 0);
            P->p = c + 2;
            return;
        }
        for (const char *q = c; q < e && (q = memchr(q, '-', (size_t)(e - q))) != NULL; q++) {
            if (e - q >= 3 && q[1] == '-' && q[2] == '>') {
                on_comment(P, c, (size_t)(q - c));
                P->p = q + 3;
                return;
            }
            if (e - q >= 4 && q[1] == '-' && q[2] == '!' && q[3] == '>') {
                on_comment(P, c, (size_t)(q - c));
                P->p = q + 4;
                return;
            }
        }
        on_comment(P, c, (size_t)(e - c));
        P->p = e;
        return;
    }
    if (P->foreign >= 0 && e - s >= 9 && memcmp(s, "<![CDATA[", 9) == 0) {
        const char *c = s + 9, *q = c;
        for (; q + 2 < e; q++)
            if (q[0] == ']' && q[1] == ']' && q[2] == '>')
                break;
        if (q + 2 >= e)
            q = e;
        if (P->mode == M_BODY)
            add_text(P, current(P), c, (size_t)(q - c), true);
        P->p = q < e ? q + 3 : e;
        return;
    }
    const char *c = s + 2;
    const char *gt = c < e ? memchr(c, '>', (size_t)(e - c)) : NULL;
    const char *stop = gt != NULL ? gt : e;
    if (s[1] != '!' || (stop - c < 7 || strncasecmp(c, "doctype", 7) != 0))
        on_comment(P, c, (size_t)(stop - c));
    P->p = gt != NULL ? gt + 1 : e;
}

static void
parse(parser_t *P)
{
    const char *e = P->end;
    while (P->p < e && !P->oom) {
        const char *s = P->p;
        const char *lt = memchr(s, '<', (size_t)(e - s));
        if (lt == NULL) {
            on_text(P, s, (size_t)(e - s));
            P->p = e;
            break;
        }
        if (lt > s)
            on_text(P, s, (size_t)(lt - s));
        P->p = lt;
        unsigned char c = lt + 1 < e ? (unsigned char)lt[1] : 0;
        if (is_alpha(c)) {
            if (!parse_tag(P, false))
                break;
        } else if (c == '/') {
            unsigned char c2 = lt + 2 < e ? (unsigned char)lt[2] : 0;
            if (is_alpha(c2)) {
                if (!parse_tag(P, true))
                    break;
            } else if (c2 == '>') {
                P->p = lt + 3;
            } else if (lt + 2 < e) {
                parse_comment(P);
            } else {
                on_text(P, lt, (size_t)(e - lt));
                break;
            }
        } else if (c == '!' || c == '?') {
            parse_comment(P);
        } else {
            on_text(P, lt, 1);
            P->p = lt + 1;
        }
    }
}

/* --- public ------------------------------------------------------------------------------- */

nw_dom_t *
nw_dom_parse(const char *html, size_t len)
{
    nw_dom_t *d = calloc(1, sizeof(*d));
    parser_t *P = calloc(1, sizeof(*P));
    if (d == NULL || P == NULL)
        goto fail;
    /* nodes and text together take about as much as the page; start there */
    d->next_cap = len + len / 2 + 4096;
    if (d->next_cap > (size_t)1 << 24)
        d->next_cap = (size_t)1 << 24;
    P->d = d;
    P->p = html != NULL ? html : "";
    P->end = P->p + (html != NULL ? len : 0);
    P->foreign = -1;
    P->mode = M_INITIAL;
    if ((d->root = new_node(P, NW_DOM_ELEMENT)) == NULL)
        goto fail;
    d->root->tag = NW_TAG_HTML;
    d->root->name = TAG_NAMES[NW_TAG_HTML];
    d->n_elements = 1;
    P->stack[P->depth++] = d->root;
    /* a byte order mark is not text */
    if (P->end - P->p >= 3 && memcmp(P->p, "\xef\xbb\xbf", 3) == 0)
        P->p += 3;
    parse(P);
    if (!P->oom && d->body == NULL)
        start_body(P);
    if (P->oom)
        goto fail;
    free(P);
    return d;
fail:
    free(P);
    nw_dom_destroy(&d);
    return NULL;
}

nw_dom_node_t *
nw_dom_root(const nw_dom_t *d)
{
    return d != NULL ? d->root : NULL;
}

size_t
nw_dom_n_elements(const nw_dom_t *d)
{
    return d != NULL ? d->n_elements : 0;
}

void
nw_dom_destroy(nw_dom_t **dp)
{
    if (dp == NULL || *dp == NULL)
        return;
    nw_dom_t *d = *dp;
    for (block_t *b = d->blocks, *prev; b != NULL; b = prev) {
        prev = b->prev;
        free(b);
    }
    free(d);
    *dp = NULL;
}

const char *
nw_dom_attr(const nw_dom_node_t *n, const char *name)
{
    if (n == NULL || n->type != NW_DOM_ELEMENT)
        return NULL;
    /* first byte before strcmp: the extractor asks every element for several names */
    for (size_t k = 0; k < n->n_attrs; k++)
        if (n->attrs[k].name[0] == name[0] && strcmp(n->attrs[k].name, name) == 0)
            return n->attrs[k].value;
    return NULL;
}

nw_dom_node_t *
nw_dom_next(nw_dom_node_t *n, const nw_dom_node_t *top, int descend)
{
    if (descend && n->children != NULL)
        return n->children;
    while (n != NULL && n != top && n->next == NULL)
        n = n->parent;
    if (n == NULL || n == top)
        return NULL;
    return n->next;
}

char *
nw_dom_text(const nw_dom_node_t *n)
{
    if (n == NULL)
        return NULL;
    size_t total = 0;
    if (n->type != NW_DOM_ELEMENT)
        total = n->type == NW_DOM_TEXT ? n->len : 0;
    else
        for (const nw_dom_node_t *c = n->children; c != NULL;
             c = nw_dom_next((nw_dom_node_t *)c, n, 1))
            total += c->type == NW_DOM_TEXT ? c->len : 0;
    char *r = malloc(total + 1), *w = r;
    if (r == NULL)
        return NULL;
    if (n->type == NW_DOM_TEXT) {
        memcpy(w, n->content, n->len);
        w += n->len;
    } else if (n->type == NW_DOM_ELEMENT) {
        for (const nw_dom_node_t *c = n->children; c != NULL;
             c = nw_dom_next((nw_dom_node_t *)c, n, 1))
            if (c->type == NW_DOM_TEXT) {
                memcpy(w, c->content, c->len);
                w += c->len;
            }
    }
    *w = 0;
    return r;
}
