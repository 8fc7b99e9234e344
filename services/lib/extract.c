/* extract.c: main text and metadata of a web page (see extract.h).
 *
 * Main text follows Readability's scheme, on dom.h's tree and without recursion:
 *   1. measure: one post-order pass gives every element its text length, link-text length,
 *      comma count and paragraph count. Script-like elements, hidden elements, <nav>, <aside>,
 *      <footer> and elements whose class/id reads like furniture ("sidebar", "comment",
 *      "cookie", ...) are left out, with their subtrees.
 *   2. score: every paragraph-like element (p, pre, td, a div holding only inline content)
 *      scores 1 + commas + length/100 (at most 3) and hands it to five levels of ancestors,
 *      divided by distance. Each container starts from a bonus for its tag and its class/id.
 *   3. pick: the best container after the link-density penalty, moved up to the ancestor it
 *      shares with three near-equal runners-up (one article split into boxes) or to a parent
 *      that scores better, then its siblings that score close to it or read like prose.
 *   4. emit: block elements become paragraphs; containers inside the article that look like
 *      furniture (high link density, negative class, very short) are dropped, as Readability's
 *      "clean conditionally" does, unless they hold most of the article; so are short
 *      paragraphs that are nearly all link, and the short headings (or bold one-line labels)
 *      that introduce a dropped box or end the text. A lead set apart before the container
 *      (<p class="lead"> in the article's header) opens the text. figcaptions become
 *      captions.
 * When that yields very little text the page is measured again without the class/id filter,
 * since some sites name their article container "post-sidebar" or worse. A page that never
 * closes its <div class="menu"> or <aside> leaves the article inside it even in an HTML5 tree,
 * so no container holding most of the page's text is ever filtered out.
 *
 * Metadata is read in one pass over the whole document. Each field remembers the trust rank of
 * the source that set it; a better source replaces it, an equal one adds to lists (authors,
 * tags). Ranks: JSON-LD, OpenGraph/article meta, other meta, <time>/itemprop, visible byline
 * and <title>, URL, first <h1>. Afterwards an <h1> whose words nearly all occur in the chosen
 * title or <title> replaces it (the headline as shown, without kicker or site name), and a page
 * with no date at all takes the first one printed at the head of its main text. */
#include "extract.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <utf8proc.h>
#include <libxml/HTMLparser.h>
#include <libxml/uri.h>

#include "newswire/buf.h"
#include "dom.h"
#include "newswire/util.h"
#include "wire.h"

/* Below this many bytes of text the first attempt is retried without the class/id filter. */
#define MIN_TEXT 500
/* Metadata strings longer than this are not metadata. */
#define MAX_META 2048

/* R_SITE: an author that is the site itself, kept only when no person is named anywhere */
enum {
    R_JSONLD = 1,
    R_OG,
    R_META,
    R_ITEMPROP,
    R_VISIBLE,
    R_URL,
    R_TEXT,
    R_H1,
    R_SITE,
    R_NONE = 100
};

enum { F_TITLE, F_SUB, F_PUB, F_MOD, F_SITE, F_LANG, F_CANON, F_IMAGE, F_SECTION, F_COUNT };

/* Per-element measurements, hung on nw_dom_node_t.data for the life of the document. */
typedef struct ninfo {
    nw_dom_node_t *node;
    double score;
    uint32_t tlen;   /* text bytes, whitespace runs counted once */
    uint32_t llen;   /* of which inside <a> */
    uint32_t dlen;   /* text bytes of direct inline content (text nodes, inline children) */
    uint32_t commas; /* commas in the text */
    uint32_t np;     /* <p> descendants */
    uint32_t nli;    /* <li> descendants */
    uint32_t ftlen;  /* tlen with nothing left out by class/id (kept across measures) */
    bool removed;    /* left out with its subtree */
    bool candidate;  /* has been given a score */
} ninfo_t;

typedef struct list {
    char **v;
    size_t n;
    int rank;
} list_t;

typedef struct meta {
    char *f[F_COUNT];
    int rank[F_COUNT];
    list_t authors;
    list_t tags;
    const char *url;
    const char *cutoff; /* "YYYY-MM-DD": dates after it are in the future */
    json_t *ld_root;    /* the JSON-LD block being read, for "@id" references */
    char *body_title;   /* the title the body's headings are compared with, when not f[F_TITLE] */
    char tw_author;     /* N of a twitter:labelN that says "written by", else 0 */
    char printed[11];   /* the first date printed in a date holder or <time>, "" if none */
} meta_t;

/* --- tree helpers ------------------------------------------------------------------------- */

static const char *
ename(const nw_dom_node_t *n)
{
    return n->type == NW_DOM_ELEMENT && n->name ? (const char *)n->name : "";
}

static bool
name_in(const char *name, const char *const *names)
{
    for (size_t i = 0; names[i] != NULL; i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

static const char *
attr(const nw_dom_node_t *n, const char *name)
{
    return nw_dom_attr(n, name);
}

static ninfo_t *
info(const nw_dom_node_t *n)
{
    return n != NULL && n->type == NW_DOM_ELEMENT ? (ninfo_t *)n->data : NULL;
}

/* Next node in document order within top's subtree; skips n's children unless descend. */
static inline nw_dom_node_t *
next_node(nw_dom_node_t *n, const nw_dom_node_t *top, bool descend)
{
    return nw_dom_next(n, top, descend);
}

static bool
is_void_of_text(const char *name)
{
    static const char *const names[] = {"script", "style",  "template", "iframe", "svg",
                                        "object", "select", "option",   "button", "textarea",
                                        "input",  "canvas", "title",    "math",   NULL};
    return name_in(name, names);
}

static bool
is_block(const char *name)
{
    static const char *const names[] = {
        "p",     "div",     "section", "article", "main",   "blockquote", "pre",  "ul",
        "ol",    "li",      "dl",      "dt",      "dd",     "table",      "tr",   "thead",
        "tbody", "tfoot",   "h1",      "h2",      "h3",     "h4",         "h5",   "h6",
        "hr",    "figure",  "header",  "footer",  "nav",    "aside",      "form", "fieldset",
        "body",  "address", "details", "summary", "center", "caption",    NULL};
    return name_in(name, names);
}

static bool
is_heading(const char *name)
{
    return name[0] == 'h' && name[1] >= '1' && name[1] <= '6' && name[2] == 0;
}

/* The lowercase class and id of n, space separated, in buf. */
static void
class_id(const nw_dom_node_t *n, char *buf, size_t cap)
{
    const char *c = attr(n, "class"), *i = attr(n, "id");
    size_t k = 0;
    for (int pass = 0; pass < 2; pass++) {
        const char *s = pass == 0 ? c : i;
        if (s == NULL)
            continue;
        for (; *s && k + 2 < cap; s++)
            buf[k++] = (char)((*s >= 'A' && *s <= 'Z') ? *s + 32 : *s);
        if (k + 1 < cap)
            buf[k++] = ' ';
    }
    buf[k] = 0;
}

static bool
has_any(const char *s, const char *const *words)
{
    for (size_t i = 0; words[i] != NULL; i++)
        if (strstr(s, words[i]) != NULL)
            return true;
    return false;
}

/* "ad", "ads" or "advert" as a whole class token: a substring test would hit "head", "read". */
static bool
has_ad_token(const char *s)
{
    for (const char *p = s; *p;) {
        size_t n = strcspn(p, " -_");
        if ((n == 2 && strncmp(p, "ad", 2) == 0) || (n == 3 && strncmp(p, "ads", 3) == 0) ||
            (n >= 6 && strncmp(p, "advert", 6) == 0))
            return true;
        p += n;
        while (*p == ' ' || *p == '-' || *p == '_')
            p++;
    }
    return false;
}

static const char *const NEGATIVE[] = {
    "banner",     "combx",      "comment",  "com-",       "contact",    "foot",   "gdpr",
    "masthead",   "outbrain",   "promo",    "related",    "scroll",     "share",  "shoutbox",
    "sidebar",    "skyscraper", "sponsor",  "shopping",   "widget",     "cookie", "consent",
    "newsletter", "social",     "promoted", "breadcrumb", "pagination", "pager",  "popup",
    "subscribe",  "signup",     "taboola",  "recommend",  "meta",       "tags",   "tool",
    "hidden",     "caption",    "credit",   NULL};
static const char *const POSITIVE[] = {"article", "body",  "content", "entry", "hentry",
                                       "h-entry", "main",  "page",    "post",  "text",
                                       "blog",    "story", "prose",   NULL};
static const char *const UNLIKELY[] = {
    "banner",  "breadcrumb",   "combx",   "comment",    "community", "cover-wrap", "disqus",
    "extra",   "footer",       "gdpr",    "header",     "legends",   "menu",       "related",
    "remark",  "replies",      "rss",     "shoutbox",   "sidebar",   "skyscraper", "social",
    "sponsor", "supplemental", "agegate", "pagination", "pager",     "popup",      "cookie",
    "consent", "newsletter",   "share",   "navbar",     "subscribe", NULL};
/* the author's bio box under the article (a byline is found by is_byline) */
static const char *const AUTHOR_BOX[] = {
    "author-bio",   "author__bio",        "authorbio",   "author-box",  "authorbox",
    "about-author", "author-description", "author-card", "author-info", NULL};
static const char *const MAYBE[] = {"and",     "article", "body",   "column",
                                    "content", "main",    "shadow", NULL};

static int
class_weight(const nw_dom_node_t *n)
{
    char ci[512];
    class_id(n, ci, sizeof(ci));
    if (ci[0] == 0)
        return 0;
    int w = 0;
    if (has_any(ci, NEGATIVE) || has_ad_token(ci))
        w -= 25;
    if (has_any(ci, POSITIVE))
        w += 25;
    return w;
}

/* Page furniture by tag name: left out with its subtree unless it holds most of the page's
 * text (an article inside an <aside> that the page never closes), and dropped when it turns up
 * inside the chosen article. */
static bool
is_furniture(const char *name)
{
    static const char *const names[] = {"nav", "aside", "footer", "dialog", "menu", NULL};
    return name_in(name, names);
}

static bool
is_hidden(const nw_dom_node_t *n)
{
    const char *st = attr(n, "style");
    if (st != NULL && (strstr(st, "display:none") || strstr(st, "display: none") ||
                       strstr(st, "visibility:hidden") || strstr(st, "visibility: hidden")))
        return true;
    if (attr(n, "hidden") != NULL)
        return true;
    const char *ah = attr(n, "aria-hidden");
    return ah != NULL && strcmp(ah, "true") == 0 && strcmp(ename(n), "figure") != 0;
}

/* Whether n and its subtree stay out of the main text, decided before measuring. */
/* How much measure() leaves out besides script-like and hidden elements. */
enum { STRIP_NONE, STRIP_ROLES, STRIP_CLASSES };

static bool
is_removed(const nw_dom_node_t *n, int strip, uint32_t page_len)
{
    const char *name = ename(n);
    if (is_void_of_text(name) || is_hidden(n))
        return true;
    /* <noscript> holds fallback markup, as raw text in the head; parsed into
     * elements it may hold the article itself after tag-soup recovery */
    if (strcmp(name, "noscript") == 0) {
        for (const nw_dom_node_t *c = n->children; c != NULL; c = c->next)
            if (c->type == NW_DOM_TEXT && c->content != NULL && strchr((char *)c->content, '<'))
                return true;
    }
    /* a container holding most of the page's text is not furniture whatever its role or class
     * says: usually the page has left the article inside an unclosed <div class="menu"> */
    const ninfo_t *i = info(n);
    /* ... but a list is never such a wrapper: a slideshow's captions in <ul class="legends">
     * can outweigh the article they sit in */
    bool list = n->tag == NW_TAG_UL || n->tag == NW_TAG_OL || n->tag == NW_TAG_DL;
    if (strip == STRIP_NONE || (i != NULL && i->ftlen * 2 > page_len && !list))
        return false;
    if (is_furniture(name))
        return true;
    const char *role = attr(n, "role");
    static const char *const roles[] = {
        "navigation",  "complementary", "menu",   "menubar",     "alert",
        "alertdialog", "dialog",        "banner", "contentinfo", NULL};
    if (role != NULL && name_in(role, roles))
        return true;
    if (strip < STRIP_CLASSES || strcmp(name, "body") == 0 || strcmp(name, "a") == 0 ||
        strcmp(name, "html") == 0 || strcmp(name, "article") == 0 || strcmp(name, "main") == 0)
        return false;
    char ci[512];
    class_id(n, ci, sizeof(ci));
    if (ci[0] == 0)
        return false;
    if (has_ad_token(ci))
        return true;
    return (has_any(ci, UNLIKELY) || has_any(ci, AUTHOR_BOX)) && !has_any(ci, MAYBE);
}

/* Text bytes of s with whitespace runs counted once, and its commas. */
static void
text_stats(const char *s, uint32_t *len, uint32_t *commas)
{
    uint32_t l = 0, c = 0;
    bool space = true;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool ws = *p == ' ' || *p == '\n' || *p == '\t' || *p == '\r' || *p == '\f';
        if (ws) {
            if (!space)
                l++;
            space = true;
            continue;
        }
        space = false;
        if ((*p & 0xc0) != 0x80)
            l++;
        if (*p == ',')
            c++;
    }
    *len = l;
    *commas = c;
}

/* Whitespace-normalised copy of s[0..len): Unicode spaces and controls become one space per run,
 * zero-width characters and soft hyphens go (a browser shows neither unless it breaks the line
 * there, and a word split by them matches nothing downstream), the ends are trimmed and invalid
 * UTF-8 becomes U+FFFD, so the result is always valid. Unlike nw_wire_clean it leaves
 * punctuation spacing alone: "Macronie : une" is how French is printed. Returns a malloc'd string
 * or NULL on ENOMEM. */
static char *
text_clean(const char *s, size_t len)
{
    char *o = malloc(len * 3 + 4), *w = o; /* a stray byte becomes a 3-byte U+FFFD */
    if (o == NULL)
        return NULL;
    bool space = true;
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    for (size_t i = 0; i < len;) {
        utf8proc_int32_t c = p[i];
        utf8proc_ssize_t k = 1;
        if (c >= 0x80) {
            k = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &c);
            if (k < 0) {
                c = 0xfffd;
                k = 1;
            }
        }
        i += (size_t)k;
        if (c == 0xad || c == 0x200b || c == 0x200c || c == 0x200d || c == 0x2060 || c == 0xfeff)
            continue;
        utf8proc_category_t cat = c < 0x80 ? UTF8PROC_CATEGORY_LL : utf8proc_category(c);
        if (c <= ' ' || c == 0x7f || cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL ||
            cat == UTF8PROC_CATEGORY_ZP || cat == UTF8PROC_CATEGORY_CC) {
            if (!space)
                *w++ = ' ';
            space = true;
            continue;
        }
        space = false;
        w += utf8proc_encode_char(c, (utf8proc_uint8_t *)w);
    }
    if (w > o && w[-1] == ' ')
        w--;
    *w = 0;
    return o;
}

/* --- main text: measure, score, pick ------------------------------------------------------ */

static void
leave(nw_dom_node_t *n)
{
    ninfo_t *p = info(n->parent);
    if (p == NULL)
        return;
    if (n->type == NW_DOM_TEXT) {
        uint32_t l = 0, c = 0;
        if (n->content != NULL)
            text_stats((const char *)n->content, &l, &c);
        p->tlen += l;
        p->dlen += l;
        p->commas += c;
        return;
    }
    ninfo_t *i = info(n);
    if (i == NULL || i->removed)
        return;
    const char *name = ename(n);
    p->tlen += i->tlen;
    p->llen += strcmp(name, "a") == 0 ? i->tlen : i->llen;
    p->commas += i->commas;
    p->np += i->np + (strcmp(name, "p") == 0);
    p->nli += i->nli + (strcmp(name, "li") == 0);
    if (!is_block(name) && strcmp(name, "br") != 0)
        p->dlen += i->tlen;
}

/* Post-order pass over root's subtree filling every element's ninfo_t. */
static void
measure(nw_dom_node_t *root, int strip)
{
    nw_dom_node_t *n = root;
    uint32_t page_len = info(root) ? info(root)->ftlen : 0;
    while (n != NULL) {
        bool descend = false;
        ninfo_t *i = info(n);
        if (i != NULL) {
            uint32_t ftlen = i->ftlen;
            memset(i, 0, sizeof(*i));
            i->node = n;
            i->ftlen = ftlen;
            i->removed = is_removed(n, strip, page_len);
            descend = !i->removed;
        }
        if (descend && n->children != NULL) {
            n = n->children;
            continue;
        }
        for (;;) {
            leave(n);
            if (n == root)
                return;
            if (n->next != NULL) {
                n = n->next;
                break;
            }
            n = n->parent;
        }
    }
}

static double
link_density(const ninfo_t *i)
{
    return i->tlen == 0 ? 0.0 : (double)i->llen / (double)i->tlen;
}

static void
init_candidate(ninfo_t *i)
{
    static const char *const plus5[] = {"div", "article", "main", NULL};
    static const char *const plus3[] = {"pre", "td", "blockquote", "section", NULL};
    static const char *const minus3[] = {"address", "ol", "ul",   "dl", "dd",
                                         "dt",      "li", "form", NULL};
    const char *name = ename(i->node);
    i->candidate = true;
    i->score = class_weight(i->node) - (is_furniture(name) ? 25 : 0);
    if (name_in(name, plus5))
        i->score += 5;
    else if (name_in(name, plus3))
        i->score += 3;
    else if (name_in(name, minus3))
        i->score -= 3;
    else if (is_heading(name) || strcmp(name, "th") == 0)
        i->score -= 5;
}

/* Paragraph length of n when it scores as a paragraph, else 0. */
static uint32_t
paragraph_len(const ninfo_t *i)
{
    const char *name = ename(i->node);
    if (strcmp(name, "p") == 0 || strcmp(name, "pre") == 0 || strcmp(name, "td") == 0)
        return i->tlen;
    /* a container's own loose text (text run between <br>s) scores as a paragraph too */
    static const char *const boxes[] = {"div",  "section", "article", "main", "blockquote",
                                        "font", "center",  "span",    "form", NULL};
    if (name_in(name, boxes))
        return i->dlen;
    return 0;
}

static void
score(nw_dom_node_t *root)
{
    const nw_dom_node_t *stop = root->parent;
    for (nw_dom_node_t *n = root; n != NULL;) {
        ninfo_t *i = info(n);
        bool descend = i != NULL && !i->removed;
        if (descend) {
            uint32_t len = paragraph_len(i);
            if (len >= 25) {
                double s = 1.0 + i->commas + (len / 100 < 3 ? len / 100 : 3);
                if (len != i->tlen && i->tlen > 0) /* only loose text counts its commas */
                    s = 1.0 + (double)i->commas * len / i->tlen + (len / 100 < 3 ? len / 100 : 3);
                nw_dom_node_t *a = n->parent;
                for (int level = 0; level < 5 && a != NULL && a != stop; level++, a = a->parent) {
                    ninfo_t *ai = info(a);
                    if (ai == NULL)
                        break;
                    if (!ai->candidate)
                        init_candidate(ai);
                    ai->score += s / (level == 0 ? 1.0 : level == 1 ? 2.0 : level * 3.0);
                }
                /* the loose-text container itself gets its own text's score; inline ones
                 * (span, font) only pass it on: a <span class="list-text"> in a menu would
                 * otherwise win on its class alone */
                if (len == i->dlen && strcmp(ename(n), "p") != 0 && strcmp(ename(n), "pre") != 0 &&
                    strcmp(ename(n), "td") != 0 && n->tag != NW_TAG_SPAN && n->tag != NW_TAG_FONT) {
                    if (!i->candidate)
                        init_candidate(i);
                    i->score += s;
                }
            }
        }
        n = next_node(n, root, descend);
    }
}

static nw_dom_node_t *
pick_top(nw_dom_node_t *body, ninfo_t *infos, size_t n_infos)
{
    ninfo_t *best[5] = {NULL};
    for (size_t k = 0; k < n_infos; k++) {
        ninfo_t *i = &infos[k];
        if (!i->candidate || i->removed)
            continue;
        i->score *= 1.0 - link_density(i);
        for (size_t r = 0; r < 5; r++) {
            if (best[r] == NULL || i->score > best[r]->score) {
                memmove(best + r + 1, best + r, (4 - r) * sizeof(best[0]));
                best[r] = i;
                break;
            }
        }
    }
    ninfo_t *top = best[0];
    if (top == NULL)
        return body;
    /* near-equal candidates that share an ancestor with the top one are parts of one article
     * split into several boxes: the ancestor is the article */
    size_t alts = 0;
    for (size_t r = 1; r < 5; r++)
        alts += best[r] != NULL && top->score > 0 && best[r]->score >= 0.75 * top->score;
    if (alts >= 3) {
        int up = 0;
        for (nw_dom_node_t *p = top->node->parent; p != NULL && p != body && up < 64;
             p = p->parent, up++) {
            size_t holding = 0;
            for (size_t r = 1; r < 5; r++) {
                if (best[r] == NULL || best[r]->score < 0.75 * top->score)
                    continue;
                int depth = 0;
                for (nw_dom_node_t *a = best[r]->node->parent; a != NULL && depth < 256;
                     a = a->parent, depth++)
                    if (a == p) {
                        holding++;
                        break;
                    }
            }
            if (holding >= 3) {
                if (info(p) != NULL) {
                    if (!info(p)->candidate)
                        init_candidate(info(p));
                    top = info(p);
                }
                break;
            }
        }
    }
    /* a parent that scores better holds more of the article */
    double last = top->score, threshold = top->score / 3;
    for (nw_dom_node_t *p = top->node->parent; p != NULL && p != body; p = p->parent) {
        ninfo_t *pi = info(p);
        if (pi == NULL)
            break;
        if (!pi->candidate)
            continue;
        if (pi->score < threshold)
            break;
        if (pi->score > last) {
            top = pi;
            break;
        }
        last = pi->score;
    }
    nw_dom_node_t *t = top->node;
    /* an only child says no more than its parent */
    while (t->parent != NULL && t->parent != body && info(t->parent) != NULL) {
        size_t kids = 0;
        for (nw_dom_node_t *c = t->parent->children; c != NULL; c = c->next)
            if (c->type == NW_DOM_ELEMENT && info(c) && !info(c)->removed)
                kids++;
        if (kids != 1)
            break;
        t = t->parent;
        if (!info(t)->candidate)
            init_candidate(info(t));
    }
    return t;
}

/* Whether a sibling of the top candidate belongs to the article. */
static bool
sibling_belongs(nw_dom_node_t *s, nw_dom_node_t *top)
{
    ninfo_t *si = info(s), *ti = info(top);
    if (si == NULL || si->removed)
        return false;
    if (s == top)
        return true;
    double threshold = ti->score * 0.2 > 10 ? ti->score * 0.2 : 10;
    double bonus = 0;
    const char *sc = attr(s, "class"), *tc = attr(top, "class");
    if (sc != NULL && tc != NULL && sc[0] && strcmp(sc, tc) == 0)
        bonus = ti->score * 0.2;
    if (si->candidate && si->score + bonus >= threshold)
        return true;
    /* a box of the same class holding prose is another part of the article, even when its
     * paragraphs sit too deep to have scored it */
    if (bonus > 0 && si->np > 0 && si->tlen >= 100 && link_density(si) < 0.25)
        return true;
    const char *name = ename(s);
    if (strcmp(name, "p") == 0 || strcmp(name, "blockquote") == 0 || strcmp(name, "ul") == 0 ||
        strcmp(name, "ol") == 0 || is_heading(name)) {
        double ld = link_density(si);
        if (si->tlen > 80 && ld < 0.25)
            return true;
        if (strcmp(name, "p") == 0 && si->tlen > 0 && si->tlen <= 80 && ld == 0) {
            char *c = nw_dom_text(s);
            bool prose = c != NULL &&
                         (strstr(c, ". ") != NULL || (strlen(c) > 0 && c[strlen(c) - 1] == '.'));
            free(c);
            return prose;
        }
    }
    return false;
}

/* Readability's "clean conditionally": a container inside the article that reads like page
 * furniture. */
static bool
drop_inside(const nw_dom_node_t *n, uint32_t top_len)
{
    const ninfo_t *i = info(n);
    const char *name = ename(n);
    static const char *const boxes[] = {"div",    "section", "table", "ul",       "ol", "form",
                                        "header", "dl",      "span",  "fieldset", NULL};
    bool heading = is_heading(name);
    if (is_furniture(name))
        return true;
    /* a short paragraph that is nearly all link points to another page ("Read more: ...",
     * "[See also: ...]"); a bare one-word link may be the text itself */
    if (n->tag == NW_TAG_P && i->tlen > 20 && i->tlen < 300 && link_density(i) > 0.8)
        return true;
    /* a box holding most of the article is the article, whatever its class says (page
     * builders wrap every post in "widget" boxes); furniture tags were judged above */
    if (i->tlen * 2 > top_len && strcmp(name, "form") != 0)
        return false;
    /* a form inside the article is a sign-up or search box; one wrapping most of it is the
     * page-wide <form> of ASP.NET sites */
    if (strcmp(name, "form") == 0 && i->tlen * 2 <= top_len)
        return true;
    if (!heading && !name_in(name, boxes))
        return false;
    int weight = class_weight(n);
    double ld = link_density(i);
    if (heading)
        return weight < 0 || ld > 0.33;
    /* a negative class that its content does not make up for; a score that is negative only
     * from the tag's own malus (lists) is not evidence */
    if (weight < 0 && weight + (i->candidate ? i->score : 0) < 0)
        return true;
    if (i->commas >= 10)
        return false;
    bool list = strcmp(name, "ul") == 0 || strcmp(name, "ol") == 0;
    if (!list && strcmp(name, "span") != 0 && i->nli > i->np + 1 && i->nli > 3 && ld > 0.2)
        return true;
    if (i->tlen == 0)
        return false; /* pictures and the like: nothing to print either way */
    /* a snippet of a box: "Share", "Leave a comment", a time stamp */
    if (!list && i->tlen < 25 && i->np == 0 && strcmp(name, "span") != 0)
        return true;
    if (weight < 25 && ld > 0.2 && !(list && ld < 0.5 && i->tlen > 200))
        return true;
    if (weight >= 25 && ld > 0.5)
        return true;
    return false;
}

/* A visible byline: rel=author, itemprop=author or a class/id naming the author. */
static bool
is_byline(const nw_dom_node_t *n)
{
    const char *rel = attr(n, "rel"), *ip = attr(n, "itemprop");
    if ((rel != NULL && strcasecmp(rel, "author") == 0) ||
        (ip != NULL && strcasecmp(ip, "author") == 0))
        return true;
    char ci[512];
    class_id(n, ci, sizeof(ci));
    return (strstr(ci, "author") || strstr(ci, "byline")) && !strstr(ci, "comment") &&
           !strstr(ci, "bio") && !strstr(ci, "about") && !strstr(ci, "avatar") &&
           !strstr(ci, "img") && !strstr(ci, "image");
}

/* --- main text: emit ---------------------------------------------------------------------- */

typedef struct emit {
    nw_buf_t out; /* paragraphs joined by "\n\n" */
    nw_buf_t cur; /* the block being gathered */
    nw_caption_t *caps;
    size_t n_caps;
    size_t trail; /* out.len before the headings that end the text so far; SIZE_MAX: none */
    bool heading; /* the block being gathered is a heading */
    bool last_br;
    const char *title;  /* a heading repeating it is not body text */
    nw_dom_node_t *top; /* the container chosen */
} emit_t;

static int
flush(emit_t *e)
{
    int rc = 0;
    if (e->cur.len == 0) {
        e->heading = false;
        return 0;
    }
    char *t = text_clean((const char *)e->cur.data, e->cur.len);
    if (t == NULL)
        return -ENOMEM;
    if (t[0] != 0) {
        if (!e->heading)
            e->trail = SIZE_MAX;
        else if (e->trail == SIZE_MAX)
            e->trail = e->out.len;
        if (e->out.len > 0)
            rc = nw_buf_puts(&e->out, "\n\n");
        if (rc == 0)
            rc = nw_buf_puts(&e->out, t);
    }
    free(t);
    nw_buf_reset(&e->cur);
    e->heading = false;
    return rc;
}

/* The cleaned text of n's subtree. Returns a malloc'd string or NULL on ENOMEM. */
static char *
node_text(nw_dom_node_t *top)
{
    nw_buf_t b = {0};
    char *r = NULL;
    if (nw_buf_reserve(&b, 64) < 0)
        return NULL;
    for (nw_dom_node_t *n = top->children; n != NULL;) {
        bool descend = true;
        if (n->type == NW_DOM_TEXT) {
            if (n->content != NULL && nw_buf_puts(&b, (const char *)n->content) < 0)
                goto out;
        } else if (n->type == NW_DOM_ELEMENT) {
            const char *name = ename(n);
            if (is_void_of_text(name))
                descend = false;
            else if ((strcmp(name, "br") == 0 || is_block(name)) && nw_buf_puts(&b, " ") < 0)
                goto out;
        }
        n = next_node(n, top, descend);
    }
    r = text_clean(b.data ? (const char *)b.data : "", b.len);
out:
    nw_buf_release(&b);
    return r;
}

static int
add_caption(emit_t *e, nw_dom_node_t *n)
{
    char *t = node_text(n);
    if (t == NULL)
        return -ENOMEM;
    nw_caption_t cap = {0};
    int rc = 0;
    if (t[0] == 0)
        goto out;
    rc = nw_wire_caption(t, &cap);
    if (rc < 0)
        goto out;
    if (rc == 0) {
        cap.text = t;
        t = NULL;
    }
    nw_caption_t *p = realloc(e->caps, (e->n_caps + 1) * sizeof(*p));
    if (p == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    e->caps = p;
    p[e->n_caps++] = cap;
    memset(&cap, 0, sizeof(cap));
    rc = 0;
out:
    nw_wire_caption_release(&cap);
    free(t);
    return rc;
}

static bool
repeats_title(nw_dom_node_t *n, const char *title, int *rc)
{
    char *t = node_text(n);
    if (t == NULL) {
        *rc = -ENOMEM;
        return false;
    }
    bool same = strcasecmp(t, title) == 0;
    free(t);
    return same;
}

/* What to do when leaving n during emission. */
static int
emit_leave(emit_t *e, nw_dom_node_t *n)
{
    const char *name = ename(n);
    if (strcmp(name, "td") == 0 || strcmp(name, "th") == 0)
        return nw_buf_puts(&e->cur, " ");
    if (is_block(name))
        return flush(e);
    return 0;
}

/* A paragraph set wholly in bold and short, with no full stop at its end: a label that
 * introduces what follows ("Read also:", "Contact", "More on this"), standing in for a heading. */
static bool
is_pseudo_heading(nw_dom_node_t *p)
{
    const ninfo_t *i = info(p);
    if (i == NULL || i->tlen == 0 || i->tlen > 80)
        return false;
    uint32_t bold = 0;
    const char *last = NULL;
    for (nw_dom_node_t *n = p->children; n != NULL; n = next_node(n, p, true)) {
        if (n->type != NW_DOM_TEXT || n->content == NULL)
            continue;
        uint32_t l = 0, c = 0;
        text_stats(n->content, &l, &c);
        if (l == 0)
            continue;
        last = n->content;
        bool b = false;
        for (nw_dom_node_t *a = n->parent; a != NULL && a != p && !b; a = a->parent)
            b = a->tag == NW_TAG_B || a->tag == NW_TAG_STRONG;
        if (!b)
            return false;
        bold += l;
    }
    if (last == NULL)
        return false;
    size_t k = strlen(last);
    while (k > 0 && strchr(" \t\r\n", last[k - 1]) != NULL)
        k--;
    return k > 0 && last[k - 1] != '.';
}

/* Emit top's subtree (top included) into e. */
static int
emit_tree(emit_t *e, nw_dom_node_t *top)
{
    nw_dom_node_t *n = top;
    int rc = 0;
    while (n != NULL) {
        bool descend = false;
        if (n->type == NW_DOM_TEXT) {
            if (n->content != NULL) {
                const char *c = (const char *)n->content;
                if (e->last_br && c[strspn(c, " \t\r\n")] != 0)
                    e->last_br = false;
                rc = nw_buf_puts(&e->cur, c);
            }
        } else if (n->type == NW_DOM_ELEMENT) {
            ninfo_t *i = info(n);
            const char *name = ename(n);
            if (i == NULL || i->removed) {
                descend = false;
            } else if (n != top && drop_inside(n, info(top)->tlen)) {
                descend = false;
                /* the headings just before a box dropped here introduced it ("Read also:"
                 * over a list of links, "Share" over buttons): they go with it. (Boxes left
                 * out before scoring are not counted: measured, that costs more than it
                 * gains.) */
                if (i->tlen > 0 && e->trail != SIZE_MAX && e->trail > 0 && e->trail < e->out.len &&
                    (e->cur.len == 0 ||
                     e->cur.data[strspn((const char *)e->cur.data, " \t\r\n")] == 0)) {
                    e->out.len = e->trail;
                    e->out.data[e->trail] = 0;
                    e->trail = SIZE_MAX;
                }
            } else if (strcmp(name, "figcaption") == 0) {
                rc = add_caption(e, n);
            } else if (n != top && i->tlen < 100 && is_byline(n)) {
                /* the byline went to the authors */
            } else if (strcmp(name, "time") == 0 && n != top && n->parent != NULL &&
                       is_block(ename(n->parent)) && !is_heading(ename(n->parent)) &&
                       strcmp(ename(n->parent), "p") != 0 && strcmp(ename(n->parent), "li") != 0) {
                /* a <time> standing alone is the page's date line, metadata not text */
            } else if ((strcmp(name, "h1") == 0 || strcmp(name, "h2") == 0) && e->title != NULL &&
                       repeats_title(n, e->title, &rc)) {
                /* the headline is the title, not the first paragraph */
            } else if (strcmp(name, "br") == 0) {
                /* two <br> in a row end a paragraph; one is a line break inside it */
                rc = e->last_br ? flush(e) : nw_buf_puts(&e->cur, " ");
                e->last_br = !e->last_br;
            } else {
                if (is_block(name))
                    rc = flush(e);
                /* a short heading, or a paragraph standing in for one, may introduce a box
                 * that is dropped: see above and extract_text */
                if ((is_heading(name) && i->tlen <= 80) ||
                    (n->tag == NW_TAG_P && is_pseudo_heading(n)))
                    e->heading = true;
                descend = true;
            }
        }
        if (rc < 0)
            return rc;
        if (descend && n->children != NULL) {
            n = n->children;
            continue;
        }
        for (;;) {
            if (descend || n == top) /* leaving an element we entered */
                if ((rc = emit_leave(e, n)) < 0)
                    return rc;
            descend = true;
            if (n == top)
                return flush(e);
            if (n->next != NULL) {
                n = n->next;
                break;
            }
            n = n->parent;
        }
    }
    return flush(e);
}

/* n's place in the tree: "/html[1]/body[1]/div[3]", each step the tag and the 1-based position
 * among its parent's elements. Returns a malloc'd string or NULL on ENOMEM. */
static char *
node_path(const nw_dom_node_t *n)
{
    const nw_dom_node_t *chain[NW_DOM_MAX_DEPTH + 8];
    size_t depth = 0;
    for (; n != NULL && n->type == NW_DOM_ELEMENT && depth < sizeof(chain) / sizeof(chain[0]);
         n = n->parent)
        chain[depth++] = n;
    nw_buf_t b = {0};
    if (nw_buf_append(&b, "", 0) < 0)
        return NULL;
    while (depth > 0) {
        const nw_dom_node_t *c = chain[--depth];
        unsigned idx = 1;
        if (c->parent != NULL)
            for (const nw_dom_node_t *s = c->parent->children; s != NULL && s != c; s = s->next)
                idx += s->type == NW_DOM_ELEMENT;
        if (nw_buf_printf(&b, "/%s[%u]", ename(c), idx) < 0) {
            nw_buf_release(&b);
            return NULL;
        }
    }
    return (char *)nw_buf_steal(&b, NULL);
}

static void
emit_release(emit_t *e)
{
    nw_buf_release(&e->out);
    nw_buf_release(&e->cur);
    for (size_t k = 0; k < e->n_caps; k++)
        nw_wire_caption_release(&e->caps[k]);
    free(e->caps);
    memset(e, 0, sizeof(*e));
}

/* Whether a is n or one of its ancestors. */
static bool
within(const nw_dom_node_t *n, const nw_dom_node_t *a)
{
    for (int up = 0; n != NULL && up < NW_DOM_MAX_DEPTH + 8; n = n->parent, up++)
        if (n == a)
            return true;
    return false;
}

/* The article's lead (standfirst, teaser, "chapo") when the page sets it apart from the body
 * container: the first element before top, under one of top's nearest ancestors, whose class
 * or id names it a lead and that reads as text (not links, not furniture). NULL when none. */
static nw_dom_node_t *
find_lead(nw_dom_node_t *top, nw_dom_node_t *body)
{
    static const char *const words[] = {"lead",     "intro",       "teaser",   "excerpt",
                                        "chapo",    "standfirst",  "vorspann", "perex",
                                        "sommario", "summary",     "abstract", "subtitle",
                                        "subhead",  "description", NULL};
    /* the scope: four levels up, or up to the <article> or <main> around top when that is
     * further (at most eight) */
    nw_dom_node_t *scope = top, *four = top;
    for (int up = 0; up < 8 && scope->parent != NULL && scope->parent != body &&
                     info(scope->parent) != NULL && strcmp(ename(scope->parent), "body") != 0;
         up++) {
        scope = scope->parent;
        if (up < 4)
            four = scope;
        if (up >= 4 && (scope->tag == NW_TAG_ARTICLE || scope->tag == NW_TAG_MAIN))
            break;
    }
    if (scope->tag != NW_TAG_ARTICLE && scope->tag != NW_TAG_MAIN)
        scope = four;
    if (scope == top)
        return NULL;
    for (nw_dom_node_t *n = scope->children; n != NULL && n != top;) {
        ninfo_t *i = info(n);
        bool on_path = within(top, n); /* an ancestor of top: look inside */
        bool descend = i != NULL && !i->removed && on_path;
        if (i != NULL && !i->removed && !on_path) {
            char ci[512];
            class_id(n, ci, sizeof(ci));
            if (ci[0] != 0 && has_any(ci, words) && i->tlen >= 30 && link_density(i) < 0.3 &&
                class_weight(n) >= 0)
                return n;
            descend = true;
        }
        n = next_node(n, scope, descend);
    }
    return NULL;
}

/* One attempt at the main text of body into *e. */
static int
extract_text(nw_dom_node_t *body, ninfo_t *infos, size_t n_infos, int strip, const char *title,
             emit_t *e)
{
    e->title = title;
    e->trail = SIZE_MAX;
    for (size_t k = 0; k < n_infos; k++)
        infos[k] = (ninfo_t){.node = infos[k].node, .ftlen = infos[k].ftlen};
    if (info(body) != NULL && info(body)->ftlen == 0) {
        measure(body, STRIP_NONE);
        for (size_t k = 0; k < n_infos; k++)
            infos[k] = (ninfo_t){.node = infos[k].node, .ftlen = infos[k].tlen};
    }
    measure(body, strip);
    score(body);
    nw_dom_node_t *top = pick_top(body, infos, n_infos);
    e->top = top;
    int rc = 0;
    if (top == body || top->parent == NULL || info(top->parent) == NULL) {
        rc = emit_tree(e, top);
    } else {
        nw_dom_node_t *lead = find_lead(top, body);
        for (nw_dom_node_t *s = top->parent->children; s != NULL && lead != NULL; s = s->next)
            if (s->type == NW_DOM_ELEMENT && within(lead, s) && sibling_belongs(s, top))
                lead = NULL; /* merged with the article anyway */
        if (lead != NULL)
            rc = emit_tree(e, lead);
        for (nw_dom_node_t *s = top->parent->children; s != NULL && rc == 0; s = s->next)
            if (s->type == NW_DOM_ELEMENT && sibling_belongs(s, top))
                rc = emit_tree(e, s);
    }
    /* headings with no text after them announce what was left out ("Related stories", "Leave
     * a comment"): they are not the article's, unless there is nothing else */
    if (rc == 0 && e->trail != SIZE_MAX && e->trail > 0 && e->trail < e->out.len) {
        e->out.len = e->trail;
        e->out.data[e->trail] = 0;
    }
    return rc;
}

/* --- metadata ----------------------------------------------------------------------------- */

static void
list_clear(list_t *l)
{
    for (size_t k = 0; k < l->n; k++)
        free(l->v[k]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* Add s (taken) to l at the given rank: a better rank starts the list over, a worse one is
 * ignored, duplicates are dropped. */
static int
list_add(list_t *l, char *s, int rank)
{
    if (rank > l->rank) {
        free(s);
        return 0;
    }
    if (rank < l->rank) {
        list_clear(l);
        l->rank = rank;
    }
    for (size_t k = 0; k < l->n; k++)
        if (strcasecmp(l->v[k], s) == 0) {
            free(s);
            return 0;
        }
    char **p = realloc(l->v, (l->n + 1) * sizeof(*p));
    if (p == NULL) {
        free(s);
        return -ENOMEM;
    }
    l->v = p;
    p[l->n++] = s;
    return 0;
}

/* Cleaned copy of v, or NULL (with *rc 0) when it is empty or too long to be metadata. */
/* Character references left in a value that was escaped twice ("&amp;#8216;" in the page gives
 * "&#8216;" after parsing), decoded in place; the result is never longer. */
static void
unescape(char *s)
{
    char *w = s;
    for (const char *r = s; *r;) {
        const char *semi = *r == '&' ? strchr(r, ';') : NULL;
        if (semi == NULL || semi - r > 10 || semi - r < 3) {
            *w++ = *r++;
            continue;
        }
        long cp = -1;
        char name[12];
        memcpy(name, r + 1, (size_t)(semi - r - 1));
        name[semi - r - 1] = 0;
        if (name[0] == '#') {
            char *end;
            cp = (name[1] == 'x' || name[1] == 'X') ? strtol(name + 2, &end, 16)
                                                    : strtol(name + 1, &end, 10);
            if (*end != 0)
                cp = -1;
        } else {
            const htmlEntityDesc *e = htmlEntityLookup((const xmlChar *)name);
            cp = e != NULL ? (long)e->value : -1;
        }
        utf8proc_uint8_t enc[4];
        utf8proc_ssize_t el =
            cp > 0 && cp < 0x110000 ? utf8proc_encode_char((utf8proc_int32_t)cp, enc) : 0;
        if (el <= 0 || el > semi - r + 1) {
            *w++ = *r++;
            continue;
        }
        memcpy(w, enc, (size_t)el);
        w += el;
        r = semi + 1;
    }
    *w = 0;
}

static char *
clean_meta(const char *v, size_t n, int *rc)
{
    *rc = 0;
    if (v == NULL || n == 0 || n > MAX_META)
        return NULL;
    char *c = text_clean(v, n);
    if (c != NULL && strchr(c, '&') != NULL)
        unescape(c);
    if (c == NULL) {
        *rc = -ENOMEM;
        return NULL;
    }
    if (c[0] == 0) {
        free(c);
        return NULL;
    }
    return c;
}

static int
set_field(meta_t *m, int f, const char *v, int rank)
{
    int rc;
    if (v == NULL || rank >= m->rank[f])
        return 0;
    char *c = clean_meta(v, strlen(v), &rc);
    if (c == NULL)
        return rc;
    free(m->f[f]);
    m->f[f] = c;
    m->rank[f] = rank;
    return 0;
}

static bool
digits(const char *s, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (s[k] < '0' || s[k] > '9')
            return false;
    return true;
}

/* ISO 8601 from a date string that starts with YYYY-MM-DD (or YYYY/MM/DD): the date, then the
 * time and zone when they follow in a form we can read. NULL when there is no date or it lies
 * after the cutoff. */
static char *
norm_date(const char *v, const char *cutoff)
{
    while (v != NULL && (*v == ' ' || *v == '\n' || *v == '\t'))
        v++;
    if (v == NULL || strlen(v) < 10)
        return NULL;
    char d[40];
    memcpy(d, v, 10);
    d[10] = 0;
    if (d[4] == '/' && d[7] == '/')
        d[4] = d[7] = '-';
    if (!nw_wire_valid_date(d, 10) || strcmp(d, cutoff) > 0)
        return NULL;
    const char *t = v + 10;
    size_t k = 10;
    if ((*t == 'T' || *t == ' ') && strlen(t) >= 6 && digits(t + 1, 2) && t[3] == ':' &&
        digits(t + 4, 2)) {
        d[k++] = 'T';
        memcpy(d + k, t + 1, 5);
        k += 5;
        t += 6;
        if (t[0] == ':' && digits(t + 1, 2)) {
            memcpy(d + k, t, 3);
            k += 3;
            t += 3;
            if (t[0] == '.' || t[0] == ',')
                for (t++; *t >= '0' && *t <= '9'; t++)
                    ;
        }
        while (*t == ' ')
            t++;
        if (*t == 'Z' || *t == 'z') {
            d[k++] = 'Z';
        } else if ((*t == '+' || *t == '-') && digits(t + 1, 2)) {
            d[k++] = *t;
            memcpy(d + k, t + 1, 2);
            k += 2;
            d[k++] = ':';
            if (t[3] == ':' && digits(t + 4, 2))
                memcpy(d + k, t + 4, 2);
            else if (digits(t + 3, 2))
                memcpy(d + k, t + 3, 2);
            else
                memcpy(d + k, "00", 2);
            k += 2;
        }
    }
    d[k] = 0;
    return strdup(d);
}

static bool text_date(const char *t, char out[11]);

static int
set_date(meta_t *m, int f, const char *v, int rank)
{
    if (v == NULL || rank >= m->rank[f] || strlen(v) > 64)
        return 0;
    char *d = norm_date(v, m->cutoff);
    char td[11];
    /* "March 12, 2019", "12.03.2019": a printed date where a machine one was due */
    if (d == NULL && !digits(v, 4) && text_date(v, td))
        d = norm_date(td, m->cutoff);
    if (d == NULL) /* unreadable, in the future, or out of memory: no date either way */
        return 0;
    free(m->f[f]);
    m->f[f] = d;
    m->rank[f] = rank;
    return 0;
}

static int month_number(const char *w, size_t n);

/* Strip "By", "Von", "Par"... off one author name and cut it at what follows names in bylines
 * (a date, "at 18:52", " · "); NULL if what is left does not look like a name. Takes s. */
static char *
tidy_author(char *s)
{
    static const char *const prefixes[] = {"by",
                                           "von",
                                           "par",
                                           "por",
                                           "di",
                                           "door",
                                           "av",
                                           "from",
                                           "author",
                                           "autor",
                                           "autorin",
                                           "text",
                                           "written by",
                                           "posted by",
                                           "published by",
                                           "about",
                                           "über",
                                           "\xc3\x9c"
                                           "ber",
                                           "authors",
                                           "autoren",
                                           "auteur",
                                           "auteurs",
                                           "autores",
                                           "post author",
                                           "veröffentlicht von",
                                           "publiziert von",
                                           "geschrieben von",
                                           "redaktion:",
                                           "publié par",
                                           "publicado por",
                                           "escrito por",
                                           "autorstwo",
                                           NULL};
    static const char *const stops[] = {" \xc2\xb7 ",     " | ",  " - ",  " \xe2\x80\x93 ",
                                        " \xe2\x80\x94 ", " at ", " am ", " on ",
                                        " um ",           " le ", " el ", NULL};
    size_t n = strlen(s), b = 0;
    for (bool again = true; again;) {
        again = false;
        while (b < n && (s[b] == ' ' || s[b] == ':' || s[b] == '-' || s[b] == '|' || s[b] == '~'))
            b++;
        for (size_t k = 0; prefixes[k] != NULL; k++) {
            size_t pl = strlen(prefixes[k]);
            /* "AuthorJane Doe": a hidden label run into the name without a space */
            bool joined = n - b > pl && s[b + pl - 1] >= 'a' && s[b + pl - 1] <= 'z' &&
                          s[b + pl] >= 'A' && s[b + pl] <= 'Z';
            if (n - b >= pl && strncasecmp(s + b, prefixes[k], pl) == 0 &&
                (s[b + pl] == 0 || s[b + pl] == ' ' || s[b + pl] == ':' ||
                 prefixes[k][pl - 1] == ':' || joined)) {
                b += pl;
                again = true;
            }
        }
    }
    for (size_t k = 0; stops[k] != NULL; k++) {
        char *p = strstr(s + b, stops[k]);
        if (p != NULL && (size_t)(p - s) < n)
            n = (size_t)(p - s);
    }
    for (size_t k = b; k < n; k++)
        if (s[k] >= '0' && s[k] <= '9') {
            n = k;
            break;
        }
    for (bool again = true; again;) {
        again = false;
        while (n > b && (s[n - 1] == ' ' || s[n - 1] == ',' || s[n - 1] == '|' || s[n - 1] == '-' ||
                         s[n - 1] == ':'))
            n--;
        /* a trailing middle dot or bullet */
        if (n >= b + 2 && (unsigned char)s[n - 2] == 0xc2 && (unsigned char)s[n - 1] == 0xb7)
            n -= 2, again = true;
        if (n >= b + 3 && memcmp(s + n - 3, "\xe2\x80\xa2", 3) == 0)
            n -= 3, again = true;
        /* a "more by" arrow: → or » */
        if (n >= b + 3 && memcmp(s + n - 3, "\xe2\x86\x92", 3) == 0)
            n -= 3, again = true;
        if (n >= b + 2 && memcmp(s + n - 2, "\xc2\xbb", 2) == 0)
            n -= 2, again = true;
    }
    /* a degree after a comma ("PhD") is no name */
    static const char *const degrees[] = {"phd",   "ph.d.", "md",  "m.d.", "dr", "dr.", "prof",
                                          "prof.", "mba",   "msc", "ma",   "ba", NULL};
    for (size_t k = 0; degrees[k] != NULL && n > b; k++)
        if (n - b == strlen(degrees[k]) && strncasecmp(s + b, degrees[k], n - b) == 0)
            n = b;
    /* a label with no name after it: "Posted on", "Publiziert am", a month */
    static const char *const labels[] = {"posted on",
                                         "posted",
                                         "published",
                                         "published on",
                                         "publiziert am",
                                         "veröffentlicht am",
                                         "veröffentlicht",
                                         "geschrieben am",
                                         "publié le",
                                         "publicado el",
                                         "on",
                                         "am",
                                         "le",
                                         "el",
                                         NULL};
    for (size_t k = 0; labels[k] != NULL && n > b; k++)
        if (n - b == strlen(labels[k]) && strncasecmp(s + b, labels[k], n - b) == 0)
            n = b;
    if (n > b && n - b < 24) {
        char w[24];
        for (size_t k = 0; k < n - b; k++)
            w[k] = (char)tolower((unsigned char)s[b + k]);
        if (month_number(w, n - b) != 0)
            n = b;
    }
    size_t words = 1;
    for (size_t k = b; k < n; k++)
        words += s[k] == ' ';
    if (n <= b || n - b > 60 || words > 5 || memchr(s + b, '@', n - b) ||
        strncmp(s + b, "http", 4) == 0 || memchr(s + b, '/', n - b) ||
        (n - b == 9 && strncasecmp(s + b, "no author", 9) == 0) ||
        (n - b == 5 && strncasecmp(s + b, "admin", 5) == 0)) {
        free(s);
        return NULL;
    }
    memmove(s, s + b, n - b);
    s[n - b] = 0;
    return s;
}

static bool names_host(const char *s, size_t n, const char *url);

/* A byline that runs into a date with its weekday ("Ida Marsh Fr, 12.03.2021") loses both. */
static void
cut_weekday_date(char *c)
{
    static const char *const days[] = {"mo",  "di",  "mi",  "do",  "fr",  "sa",  "so",  "mon",
                                       "tue", "wed", "thu", "fri", "sat", "sun", "lun", "mar",
                                       "mer", "jeu", "ven", "sam", "dim", NULL};
    size_t d = strcspn(c, "0123456789");
    if (c[d] == 0)
        return;
    size_t e = d;
    while (e > 0 && (c[e - 1] == ' ' || c[e - 1] == ',' || c[e - 1] == '.'))
        e--;
    size_t w = e;
    while (w > 0 && isalpha((unsigned char)c[w - 1]))
        w--;
    if (w == 0 || c[w - 1] != ' ')
        return;
    for (size_t k = 0; days[k] != NULL; k++)
        if (e - w == strlen(days[k]) && strncasecmp(c + w, days[k], e - w) == 0) {
            c[w] = 0;
            return;
        }
}

/* Whether an author name is the publication itself ("Valley Courier" on valleycourier.example,
 * or the site's own name): a stand-in that a named person in a byline should beat. */
static bool
is_site_author(const meta_t *m, const char *name)
{
    return (m->f[F_SITE] != NULL && strcasecmp(name, m->f[F_SITE]) == 0) ||
           names_host(name, strlen(name), m->url != NULL ? m->url : m->f[F_CANON]);
}

/* Split an author string into names ("A, B and C") and add them at rank. */
static int
add_authors(meta_t *m, const char *v, int rank)
{
    int rc;
    if (v == NULL || rank > m->authors.rank)
        return 0;
    char *c = clean_meta(v, strlen(v), &rc);
    if (c == NULL)
        return rc;
    cut_weekday_date(c);
    size_t len = strlen(c), i = 0;
    while (i < len && rc == 0) {
        size_t j = i, skip = 0;
        for (; j < len; j++) {
            if (c[j] == ',' || c[j] == ';' || c[j] == '|') {
                skip = 1;
                break;
            }
            if (strncmp(c + j, " and ", 5) == 0 || strncmp(c + j, " und ", 5) == 0) {
                skip = 5;
                break;
            }
            if (strncmp(c + j, " & ", 3) == 0) {
                skip = 3;
                break;
            }
        }
        char *name = nw_strndup(c + i, j - i);
        if (name == NULL) {
            rc = -ENOMEM;
            break;
        }
        if ((name = tidy_author(name)) != NULL)
            rc = list_add(&m->authors, name, is_site_author(m, name) ? R_SITE : rank);
        i = j + skip;
    }
    free(c);
    return rc;
}

static int
add_tags(meta_t *m, const char *v, int rank)
{
    int rc;
    if (v == NULL || rank > m->tags.rank)
        return 0;
    char *c = clean_meta(v, strlen(v), &rc);
    if (c == NULL)
        return rc;
    for (char *s = c; rc == 0 && *s;) {
        size_t n = strcspn(s, ",;");
        while (n > 0 && *s == ' ')
            s++, n--;
        size_t e = n;
        while (e > 0 && s[e - 1] == ' ')
            e--;
        if (e > 0 && m->tags.n < 64) {
            char *t = nw_strndup(s, e);
            rc = t == NULL ? -ENOMEM : list_add(&m->tags, t, rank);
        }
        s += n;
        if (*s)
            s++;
    }
    free(c);
    return rc;
}

static int
set_url(meta_t *m, int f, const char *v, int rank)
{
    if (v == NULL || rank >= m->rank[f] || strlen(v) > MAX_META)
        return 0;
    xmlChar *abs = xmlBuildURI((const xmlChar *)v, (const xmlChar *)m->url);
    const char *u = abs ? (const char *)abs : v;
    int rc = 0;
    if (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0)
        rc = set_field(m, f, u, rank);
    xmlFree(abs);
    return rc;
}

static int
set_lang(meta_t *m, const char *l, int rank)
{
    if (l == NULL || rank >= m->rank[F_LANG])
        return 0;
    while (*l == ' ')
        l++;
    size_t n = strspn(l, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
    if (n != 2 || (l[2] != 0 && l[2] != '-' && l[2] != '_' && l[2] != ' ' && l[2] != ','))
        return 0;
    char s[3] = {(char)(l[0] | 0x20), (char)(l[1] | 0x20), 0};
    return set_field(m, F_LANG, s, rank);
}

/* --- JSON-LD --- */

static const char *
jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (json_is_array(v))
        v = json_array_get(v, 0);
    if (json_is_object(v)) {
        json_t *x = json_object_get(v, "name");
        if (x == NULL)
            x = json_object_get(v, "url");
        if (x == NULL)
            x = json_object_get(v, "@id");
        v = x;
    }
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Like jstr, but an object gives its url (ImageObject). */
static const char *
jurl(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (json_is_array(v))
        v = json_array_get(v, 0);
    if (json_is_object(v))
        v = json_object_get(v, "url");
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool
type_is(json_t *o, const char *const *types)
{
    json_t *t = json_object_get(o, "@type");
    if (json_is_string(t))
        return name_in(json_string_value(t), types);
    size_t k;
    json_t *x;
    json_array_foreach(t, k, x) if (json_is_string(x) &&
                                    name_in(json_string_value(x), types)) return true;
    return false;
}

/* The object of v (arrays and @graph, a few levels deep) whose "@id" is id and that has a name:
 * Yoast and others give the article's author as {"@id": ...} pointing at a Person beside it. */
static json_t *
ld_by_id(json_t *v, const char *id, int depth)
{
    if (depth > 4)
        return NULL;
    if (json_is_array(v)) {
        size_t k;
        json_t *x, *r;
        json_array_foreach(v, k, x) if ((r = ld_by_id(x, id, depth + 1)) != NULL) return r;
        return NULL;
    }
    if (!json_is_object(v))
        return NULL;
    json_t *i = json_object_get(v, "@id");
    if (json_is_string(i) && strcmp(json_string_value(i), id) == 0 &&
        json_is_string(json_object_get(v, "name")))
        return v;
    return ld_by_id(json_object_get(v, "@graph"), id, depth + 1);
}

static int
ld_authors(meta_t *m, json_t *a)
{
    static const char *const orgs[] = {"Organization", "NewsMediaOrganization", NULL};
    int rc = 0;
    if (json_is_string(a))
        return add_authors(m, json_string_value(a), R_JSONLD);
    if (json_is_object(a)) {
        json_t *id = json_object_get(a, "@id"), *ref = NULL;
        if (json_object_get(a, "name") == NULL && json_is_string(id) &&
            (ref = ld_by_id(m->ld_root, json_string_value(id), 0)) != NULL)
            a = ref;
        json_t *nm = json_object_get(a, "name");
        if (json_is_string(nm) && !type_is(a, orgs))
            rc = add_authors(m, json_string_value(nm), R_JSONLD);
        return rc;
    }
    size_t k;
    json_t *x;
    json_array_foreach(a, k, x)
    {
        if (k >= 16 || (rc = ld_authors(m, x)) < 0)
            break;
    }
    return rc;
}

static int
ld_article(meta_t *m, json_t *o)
{
    int rc = 0;
    if ((rc = set_field(m, F_TITLE, jstr(o, "headline"), R_JSONLD)) < 0 ||
        (rc = set_field(m, F_SUB, jstr(o, "description"), R_JSONLD)) < 0 ||
        (rc = set_date(m, F_PUB, jstr(o, "datePublished"), R_JSONLD)) < 0 ||
        (rc = set_date(m, F_MOD, jstr(o, "dateModified"), R_JSONLD)) < 0 ||
        (rc = set_field(m, F_SITE, jstr(o, "publisher"), R_JSONLD)) < 0 ||
        (rc = set_url(m, F_IMAGE, jurl(o, "image"), R_JSONLD)) < 0 ||
        (rc = set_field(m, F_SECTION, jstr(o, "articleSection"), R_JSONLD)) < 0 ||
        (rc = set_lang(m, jstr(o, "inLanguage"), R_JSONLD)) < 0 ||
        (rc = ld_authors(m, json_object_get(o, "author"))) < 0)
        return rc;
    json_t *kw = json_object_get(o, "keywords");
    if (json_is_string(kw))
        return add_tags(m, json_string_value(kw), R_JSONLD);
    size_t k;
    json_t *x;
    json_array_foreach(kw, k, x) if (json_is_string(x) &&
                                     (rc = add_tags(m, json_string_value(x), R_JSONLD)) < 0) break;
    return rc;
}

/* Visit objects of a JSON-LD value: top-level arrays and @graph, two levels deep at most. */
static int
ld_walk(meta_t *m, json_t *v, int depth)
{
    static const char *const types[] = {"NewsArticle",
                                        "Article",
                                        "BlogPosting",
                                        "ReportageNewsArticle",
                                        "AnalysisNewsArticle",
                                        "OpinionNewsArticle",
                                        "LiveBlogPosting",
                                        "Report",
                                        "ScholarlyArticle",
                                        "TechArticle",
                                        "SocialMediaPosting",
                                        "BackgroundNewsArticle",
                                        "ReviewNewsArticle",
                                        "Blog",
                                        NULL};
    int rc = 0;
    if (depth > 3)
        return 0;
    if (json_is_array(v)) {
        size_t k;
        json_t *x;
        json_array_foreach(v, k, x) if ((rc = ld_walk(m, x, depth + 1)) < 0) break;
        return rc;
    }
    if (!json_is_object(v))
        return 0;
    json_t *g = json_object_get(v, "@graph");
    if (g != NULL && (rc = ld_walk(m, g, depth + 1)) < 0)
        return rc;
    if (type_is(v, types))
        return ld_article(m, v);
    static const char *const sites[] = {"WebSite", "NewsMediaOrganization", NULL};
    if (type_is(v, sites))
        return set_field(m, F_SITE, jstr(v, "name"), R_META);
    return 0;
}

static int
on_jsonld(meta_t *m, nw_dom_node_t *n)
{
    char *c = nw_dom_text(n);
    if (c == NULL)
        return -ENOMEM;
    json_error_t err;
    json_t *root = json_loads(c, JSON_DECODE_ANY, &err);
    if (root == NULL) {
        /* raw line breaks and tabs inside strings, which JSON forbids and pages often have:
         * outside strings they are whitespace, so blanking every control byte is safe */
        for (unsigned char *p = (unsigned char *)c; *p; p++)
            if (*p < 0x20)
                *p = ' ';
        root = json_loads(c, JSON_DECODE_ANY, &err);
    }
    free(c);
    m->ld_root = root;
    int rc = root != NULL ? ld_walk(m, root, 0) : 0;
    m->ld_root = NULL;
    json_decref(root);
    return rc;
}

/* --- meta tags --- */

static int
on_meta(meta_t *m, const nw_dom_node_t *n)
{
    const char *key = attr(n, "property");
    if (key == NULL)
        key = attr(n, "name");
    if (key == NULL)
        key = attr(n, "itemprop");
    if (key == NULL)
        key = attr(n, "http-equiv");
    const char *v = attr(n, "content");
    if (key == NULL || v == NULL)
        return 0;
    struct rule {
        const char *key;
        int field; /* F_*, or -1 authors, -2 tags, -3 dates published, -4 modified */
        int rank;
    };
    static const struct rule rules[] = {
        {"og:title", F_TITLE, R_OG},
        {"twitter:title", F_TITLE, R_META},
        {"parsely-title", F_TITLE, R_META},
        {"dc.title", F_TITLE, R_META},
        {"og:description", F_SUB, R_OG},
        {"twitter:description", F_SUB, R_META},
        {"description", F_SUB, R_META},
        {"dc.description", F_SUB, R_META},
        {"og:site_name", F_SITE, R_OG},
        {"application-name", F_SITE, R_META},
        {"og:image", F_IMAGE, R_OG},
        {"og:image:url", F_IMAGE, R_OG},
        {"og:image:secure_url", F_IMAGE, R_OG},
        {"twitter:image", F_IMAGE, R_META},
        {"twitter:image:src", F_IMAGE, R_META},
        {"og:url", F_CANON, R_META},
        {"article:section", F_SECTION, R_OG},
        {"parsely-section", F_SECTION, R_META},
        {"section", F_SECTION, R_META},
        {"og:locale", F_LANG, R_META},
        {"content-language", F_LANG, R_META},
        {"dc.language", F_LANG, R_META},
        {"language", F_LANG, R_META},
        {"author", -1, R_OG},
        {"article:author", -1, R_OG},
        {"parsely-author", -1, R_OG},
        {"dc.creator", -1, R_META},
        {"sailthru.author", -1, R_META},
        {"byl", -1, R_META},
        {"twitter:creator", -1, R_URL}, /* usually a handle; weakest */
        {"article:tag", -2, R_OG},
        {"parsely-tags", -2, R_META},
        {"news_keywords", -2, R_META},
        {"keywords", -2, R_ITEMPROP},
        {"article:published_time", -3, R_OG},
        {"og:published_time", -3, R_OG},
        {"datepublished", -3, R_OG},
        {"parsely-pub-date", -3, R_META},
        {"dc.date.issued", -3, R_META},
        {"dcterms.created", -3, R_META},
        {"dc.date", -3, R_META},
        {"dcterms.date", -3, R_META},
        {"date", -3, R_META},
        {"pubdate", -3, R_META},
        {"publishdate", -3, R_META},
        {"publish-date", -3, R_META},
        {"publish_date", -3, R_META},
        {"sailthru.date", -3, R_META},
        {"article.published", -3, R_META},
        {"citation_publication_date", -3, R_META},
        {"article:modified_time", -4, R_OG},
        {"og:updated_time", -4, R_META},
        {"datemodified", -4, R_OG},
        {"dcterms.modified", -4, R_META},
        {"last-modified", -4, R_META},
    };
    /* Slack-style pairs: twitter:label1 "Written by", twitter:data1 "Jo Lee" */
    if (strncasecmp(key, "twitter:label", 13) == 0 && key[13] >= '1' && key[13] <= '9' &&
        key[14] == 0) {
        static const char *const labels[] = {"written by",  "author",          "verfasst von",
                                             "autor",       "geschrieben von", "écrit par",
                                             "escrito por", "scritto da",      NULL};
        for (size_t k = 0; labels[k] != NULL; k++)
            if (strcasecmp(v, labels[k]) == 0)
                m->tw_author = key[13];
        return 0;
    }
    if (m->tw_author != 0 && strncasecmp(key, "twitter:data", 12) == 0 && key[12] == m->tw_author &&
        key[13] == 0)
        return add_authors(m, v, R_META);
    for (size_t k = 0; k < sizeof(rules) / sizeof(rules[0]); k++) {
        if (strcasecmp(key, rules[k].key) != 0)
            continue;
        switch (rules[k].field) {
        case -1:
            return add_authors(m, v, rules[k].rank);
        case -2:
            return add_tags(m, v, rules[k].rank);
        case -3:
            return set_date(m, F_PUB, v, rules[k].rank);
        case -4:
            return set_date(m, F_MOD, v, rules[k].rank);
        case F_LANG:
            return set_lang(m, v, rules[k].rank);
        case F_IMAGE:
        case F_CANON:
            return set_url(m, rules[k].field, v, rules[k].rank);
        default:
            return set_field(m, rules[k].field, v, rules[k].rank);
        }
    }
    /* vendor-prefixed forms of the above: "shareaholic:article_published_time",
     * "og:article:published_time" */
    if (strcasestr(key, "published_time") != NULL || strcasestr(key, "publish_date") != NULL)
        return set_date(m, F_PUB, v, R_META);
    if (strcasestr(key, "modified_time") != NULL)
        return set_date(m, F_MOD, v, R_META);
    return 0;
}

static const char *const TITLE_SEPS[] = {
    " | ",        " - ", " \xe2\x80\x93 ", " \xe2\x80\x94 ", " :: ", " \xc2\xbb ", " / ",
    " \xc2\xb7 ", NULL};

/* <title> without the site name: "Headline | Site" -> "Headline", unless that leaves too few
 * words to be a headline (then the site name was probably the headline's own dash). When the
 * page's <h1> is one of the parts, that part is the headline whatever its length. */
static int
on_title(meta_t *m, nw_dom_node_t *n, nw_dom_node_t *h1)
{
    char *t = node_text(n), *h = h1 != NULL ? node_text(h1) : NULL;
    int rc = -ENOMEM;
    if (t == NULL || (h1 != NULL && h == NULL))
        goto out;
    char *cut = NULL;
    size_t hl = h != NULL ? strlen(h) : 0;
    for (size_t k = 0; TITLE_SEPS[k] != NULL; k++) {
        size_t sl = strlen(TITLE_SEPS[k]);
        for (char *p = strstr(t, TITLE_SEPS[k]); p != NULL; p = strstr(p + 1, TITLE_SEPS[k])) {
            if (cut == NULL || p > cut)
                cut = p;
            /* h1 before or after this separator */
            if (hl > 0 && (size_t)(p - t) == hl && strncasecmp(t, h, hl) == 0) {
                rc = set_field(m, F_TITLE, h, R_VISIBLE);
                goto out;
            }
            if (hl > 0 && strlen(p + sl) == hl && strcasecmp(p + sl, h) == 0) {
                rc = set_field(m, F_TITLE, h, R_VISIBLE);
                goto out;
            }
        }
    }
    if (cut != NULL) {
        size_t words = 1;
        for (char *p = t; p < cut; p++)
            words += *p == ' ';
        if (words >= 3)
            *cut = 0;
    }
    rc = set_field(m, F_TITLE, t, R_VISIBLE);
out:
    free(t);
    free(h);
    return rc;
}

/* The name part of a byline that carries more: "Posted on May 2, 2021 by Jo Lee" -> "by Jo
 * Lee" (the label is kept for tidy_author to strip). */
static const char *
byline_tail(const char *t)
{
    static const char *const words[] = {" by ", " von ", " par ", " por ", " door ", NULL};
    const char *best = t;
    for (size_t k = 0; words[k] != NULL; k++)
        for (const char *p = strcasestr(t, words[k]); p != NULL; p = strcasestr(p + 1, words[k]))
            if (p + 1 > best)
                best = p + 1;
    return best;
}

/* Authors (and a printed date) from a visible byline; 1 when n was read as one, 0 when it is too
 * big to be a byline (a container whose class says "author": look inside it instead). */
static int
on_byline(meta_t *m, nw_dom_node_t *n)
{
    if (m->authors.rank < R_VISIBLE)
        return 1;
    nw_dom_node_t *src = n;
    /* itemprop=author often wraps itemprop=name beside a job title */
    for (nw_dom_node_t *c = n; c != NULL; c = next_node(c, n, true)) {
        const char *ip = c->type == NW_DOM_ELEMENT ? attr(c, "itemprop") : NULL;
        if (ip != NULL && strcasecmp(ip, "name") == 0) {
            src = c;
            break;
        }
    }
    char *t = node_text(src);
    if (t == NULL)
        return -ENOMEM;
    int rc = 0;
    char d[11];
    if (strlen(t) >= 120) {
        free(t);
        return 0;
    }
    if (t[0] != 0 && m->rank[F_PUB] > R_TEXT && text_date(t, d))
        rc = set_date(m, F_PUB, d, R_TEXT);
    if (rc == 0 && t[0] != 0)
        rc = add_authors(m, src == n ? byline_tail(t) : t, R_VISIBLE);
    free(t);
    return rc < 0 ? rc : 1;
}

/* Month number of a month name or abbreviation (English, German, French, Spanish, Italian,
 * Dutch, Polish and Russian genitives), 0 when w is none. w is lowercase, without a trailing dot.
 */
static int
month_number(const char *w, size_t n)
{
    static const char *const names[12][9] = {
        {"jan", "january", "januar", "janvier", "enero", "gennaio", "januari", "stycznia",
         "января"},
        {"feb", "february", "februar", "février", "febrero", "febbraio", "februari", "lutego",
         "февраля"},
        {"mar", "march", "märz", "mars", "marzo", "maart", "marca", "mär", "марта"},
        {"apr", "april", "avril", "abril", "aprile", "kwietnia", NULL, NULL, "апреля"},
        {"may", "mai", "mayo", "maggio", "mei", "maja", NULL, NULL, "мая"},
        {"jun", "june", "juni", "juin", "junio", "giugno", "czerwca", NULL, "июня"},
        {"jul", "july", "juli", "juillet", "julio", "luglio", "lipca", NULL, "июля"},
        {"aug", "august", "août", "agosto", "augustus", "sierpnia", NULL, NULL, "августа"},
        {"sep", "sept", "september", "septembre", "septiembre", "settembre", "września", NULL,
         "сентября"},
        {"oct", "october", "oktober", "octobre", "octubre", "ottobre", "okt", "października",
         "октября"},
        {"nov", "november", "novembre", "noviembre", "listopada", NULL, NULL, NULL, "ноября"},
        {"dec", "december", "dezember", "décembre", "diciembre", "dicembre", "dez", "grudnia",
         "декабря"}};
    for (int m = 0; m < 12; m++)
        for (int k = 0; k < 9; k++)
            if (names[m][k] != NULL && strlen(names[m][k]) == n && memcmp(names[m][k], w, n) == 0)
                return m + 1;
    return 0;
}

/* The first calendar date printed in t ("12.03.2019", "12. März 2019", "March 12, 2019",
 * "12 mars 2019", "2019-03-12") as YYYY-MM-DD in out; false when there is none. */
static bool
text_date(const char *t, char out[11])
{
    /* words: lowercase ASCII letters and UTF-8 kept, digits apart, everything else a break */
    char w[48][24];
    int nw = 0;
    for (const char *p = t; *p && nw < 48;) {
        if ((unsigned char)*p < 0x80 && !(*p >= '0' && *p <= '9') &&
            !((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z')) {
            p++;
            continue;
        }
        bool digit = *p >= '0' && *p <= '9';
        size_t k = 0;
        while (*p && k < 23) {
            bool d = *p >= '0' && *p <= '9';
            bool letter = (unsigned char)*p >= 0x80 || ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z');
            if (digit ? !d : !letter)
                break;
            w[nw][k++] = (char)(((unsigned char)*p < 0x80 && !d) ? (*p | 0x20) : *p);
            p++;
        }
        w[nw][k] = 0;
        while (*p && k >= 23 && ((unsigned char)*p >= 0x80 || isalnum((unsigned char)*p)))
            p++;
        /* an English ordinal: "29th", "1st" */
        if (digit && k <= 2 &&
            (strncasecmp(p, "st", 2) == 0 || strncasecmp(p, "nd", 2) == 0 ||
             strncasecmp(p, "rd", 2) == 0 || strncasecmp(p, "th", 2) == 0) &&
            !isalpha((unsigned char)p[2]))
            p += 2;
        nw++;
    }
    for (int i = 0; i < nw; i++) {
        int y = 0, mo = 0, d = 0;
        bool num0 = isdigit((unsigned char)w[i][0]);
        size_t l0 = strlen(w[i]);
        if (num0 && i + 2 < nw && isdigit((unsigned char)w[i + 1][0]) &&
            isdigit((unsigned char)w[i + 2][0])) {
            if (l0 == 4 && strlen(w[i + 1]) <= 2 && strlen(w[i + 2]) <= 2) {
                y = atoi(w[i]), mo = atoi(w[i + 1]), d = atoi(w[i + 2]);
            } else if (l0 <= 2 && strlen(w[i + 1]) <= 2 && strlen(w[i + 2]) == 4) {
                d = atoi(w[i]), mo = atoi(w[i + 1]), y = atoi(w[i + 2]);
            }
        } else if (num0 && l0 <= 2 && i + 2 < nw && strlen(w[i + 2]) == 4 &&
                   isdigit((unsigned char)w[i + 2][0])) {
            d = atoi(w[i]), mo = month_number(w[i + 1], strlen(w[i + 1])), y = atoi(w[i + 2]);
        } else if (num0 && l0 <= 2 && i + 4 < nw && strcmp(w[i + 1], "de") == 0 &&
                   strcmp(w[i + 3], "de") == 0 && strlen(w[i + 4]) == 4) {
            d = atoi(w[i]), mo = month_number(w[i + 2], strlen(w[i + 2])), y = atoi(w[i + 4]);
        } else if (!num0 && i + 2 < nw && isdigit((unsigned char)w[i + 1][0]) &&
                   strlen(w[i + 1]) <= 2 && strlen(w[i + 2]) == 4 &&
                   isdigit((unsigned char)w[i + 2][0])) {
            mo = month_number(w[i], l0), d = atoi(w[i + 1]), y = atoi(w[i + 2]);
        }
        if (y >= 1990 && y <= 2199 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31) {
            snprintf(out, 11, "%04d-%02d-%02d", y, mo, d);
            if (nw_wire_valid_date(out, 10))
                return true;
        }
    }
    return false;
}

/* A date printed in an element whose class/id says it holds one. */
static bool
is_date_holder(const nw_dom_node_t *n)
{
    char ci[512];
    class_id(n, ci, sizeof(ci));
    static const char *const words[] = {"date",       "time",      "publish",      "posted",
                                        "entry-meta", "post-meta", "article-meta", "byline",
                                        "meta-info",  "post-info", "dateline",     NULL};
    return ci[0] != 0 && has_any(ci, words) && !strstr(ci, "comment") && !strstr(ci, "update");
}

/* Whether n sits in a comment thread or is a last-modified mark: its date is not the one the
 * article prints as its own. */
static bool
not_article_date(const nw_dom_node_t *n)
{
    char ci[512];
    const char *ip = attr(n, "itemprop");
    if (ip != NULL && strcasecmp(ip, "dateModified") == 0)
        return true;
    class_id(n, ci, sizeof(ci));
    if (strstr(ci, "updated") != NULL || strstr(ci, "modified") != NULL)
        return true;
    for (int k = 0; n != NULL && k < 16; n = n->parent, k++) {
        class_id(n, ci, sizeof(ci));
        if (strstr(ci, "comment") != NULL)
            return true;
    }
    return false;
}

static int
on_date_holder(meta_t *m, nw_dom_node_t *n, bool after_h1)
{
    char *t = node_text(n);
    if (t == NULL)
        return -ENOMEM;
    char d[11];
    int rc = 0;
    if (strlen(t) < 200 && text_date(t, d)) {
        if (after_h1 && m->printed[0] == 0 && strcmp(d, m->cutoff) <= 0 && !not_article_date(n))
            memcpy(m->printed, d, sizeof(m->printed));
        rc = set_date(m, F_PUB, d, R_TEXT);
    }
    free(t);
    return rc;
}

/* The date a <time> or date holder after the headline prints, as the page's printed date. */
static int
note_printed(meta_t *m, nw_dom_node_t *n)
{
    if (not_article_date(n))
        return 0;
    char *t = node_text(n);
    if (t == NULL)
        return -ENOMEM;
    char d[11];
    if (strlen(t) < 200 && text_date(t, d) && strcmp(d, m->cutoff) <= 0)
        memcpy(m->printed, d, sizeof(m->printed));
    free(t);
    return 0;
}

/* Seconds since the epoch of "YYYY-MM-DD[THH:MM[:SS][Z|+HH:MM]]" (norm_date's form), in UTC
 * when a zone is given, or -1; *timed says whether a time of day was given. */
static long long
stamp_seconds(const char *d, bool *timed)
{
    *timed = false;
    if (d == NULL || strlen(d) < 10 || !nw_wire_valid_date(d, 10))
        return -1;
    struct tm tm = {0};
    tm.tm_year = atoi(d) - 1900;
    tm.tm_mon = atoi(d + 5) - 1;
    tm.tm_mday = atoi(d + 8);
    const char *z = d + 10;
    if (z[0] == 'T' && strlen(z) >= 6) {
        *timed = true;
        tm.tm_hour = atoi(z + 1);
        tm.tm_min = atoi(z + 4);
        z += 6;
        if (z[0] == ':')
            z += 3;
    }
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    long long s = (long long)t;
    if ((z[0] == '+' || z[0] == '-') && strlen(z) >= 6) {
        long off = atoi(z + 1) * 3600L + atoi(z + 4) * 60L;
        s += z[0] == '+' ? -off : off; /* to UTC */
    }
    return s;
}

/* A machine time stamp is often UTC while the page prints its local date: 23:30 on the 4th in
 * New York is the 5th in UTC. When the page prints a date one day from the stamp's and the
 * stamp's instant falls on that printed day in a zone within ten hours of UTC, the printed day
 * is the one readers (and the gold) see. A printed date further off is another date (an update,
 * a related story) and changes nothing; so does one the instant cannot reach (14:31 UTC is not
 * the next day anywhere near Europe). A stamp without a time of day could be any hour. */
static int
prefer_printed_day(meta_t *m)
{
    bool timed, pt;
    long long t = stamp_seconds(m->f[F_PUB], &timed), p = stamp_seconds(m->printed, &pt);
    if (t < 0 || p < 0 || strncmp(m->f[F_PUB], m->printed, 10) == 0)
        return 0;
    if (!timed ? p != t + 86400 && p != t - 86400
               : t < p - 10 * 3600LL || t >= p + 86400 + 10 * 3600LL)
        return 0;
    char *d = strdup(m->printed);
    if (d == NULL)
        return -ENOMEM;
    free(m->f[F_PUB]);
    m->f[F_PUB] = d;
    return 0;
}

/* A date in the page's URL: /2024/02/06/ or /2024-02-06. */
static int
url_date(meta_t *m)
{
    const char *u = m->url;
    if (u == NULL || m->rank[F_PUB] <= R_URL)
        return 0;
    for (const char *p = strchr(u, '/'); p != NULL; p = strchr(p + 1, '/')) {
        if (strlen(p) < 11 || !digits(p + 1, 4))
            continue;
        char d[11];
        if ((p[5] == '/' || p[5] == '-') && digits(p + 6, 2) && p[8] == p[5] && digits(p + 9, 2) &&
            (p[11] == 0 || p[11] == '/' || p[11] == '-' || p[11] == '.' || p[11] == '_')) {
            memcpy(d, p + 1, 10);
            d[4] = d[7] = '-';
            d[10] = 0;
            return set_date(m, F_PUB, d, R_URL);
        }
    }
    return 0;
}

/* Whether s[0..n) is the page's host name or one of its labels, ignoring case and everything but
 * letters and digits: "La Stampa" for www.lastampa.it, "heizung.de" for www.heizung.de. */
static bool
names_host(const char *s, size_t n, const char *url)
{
    const char *h = url != NULL ? strstr(url, "://") : NULL;
    char a[64], b[128];
    size_t k = 0, j = 0;
    if (h == NULL)
        return false;
    h += 3;
    for (size_t i = 0; i < n && k < sizeof(a) - 1; i++)
        if (isalnum((unsigned char)s[i]))
            a[k++] = (char)tolower((unsigned char)s[i]);
    a[k] = 0;
    if (k < 3)
        return false;
    /* the host's labels one by one, then the registered name with its suffix ("heizungde") */
    size_t hl = strcspn(h, "/:?#");
    for (size_t i = 0; i <= hl; i++) {
        if (i == hl || h[i] == '.') {
            b[j] = 0;
            if (strcmp(a, b) == 0)
                return true;
            j = 0;
        } else if (j < sizeof(b) - 1 && isalnum((unsigned char)h[i])) {
            b[j++] = (char)tolower((unsigned char)h[i]);
        }
    }
    const char *dot = NULL;
    for (const char *p = h; p < h + hl; p++)
        if (*p == '.' && memchr(p + 1, '.', (size_t)(h + hl - p - 1)) != NULL)
            dot = p;
    const char *r = dot != NULL ? dot + 1 : h;
    for (j = 0; r < h + hl && j < sizeof(b) - 1; r++)
        if (isalnum((unsigned char)*r))
            b[j++] = (char)tolower((unsigned char)*r);
    b[j] = 0;
    return strcmp(a, b) == 0;
}

/* "Headline | lastampa" and "Lastampa - Headline": a title part that names the host goes. */
static void
strip_host_name(meta_t *m)
{
    char *t = m->f[F_TITLE];
    const char *url = m->url != NULL ? m->url : m->f[F_CANON];
    if (t == NULL || url == NULL)
        return;
    size_t tl = strlen(t);
    for (size_t k = 0; TITLE_SEPS[k] != NULL; k++) {
        size_t pl = strlen(TITLE_SEPS[k]);
        const char *first = strstr(t, TITLE_SEPS[k]), *last = NULL;
        for (const char *p = first; p != NULL; p = strstr(p + 1, TITLE_SEPS[k]))
            last = p;
        if (last != NULL && names_host(last + pl, tl - (size_t)(last - t) - pl, url)) {
            t[last - t] = 0;
            return;
        }
        if (first != NULL && names_host(t, (size_t)(first - t), url)) {
            memmove(t, first + pl, strlen(first + pl) + 1);
            return;
        }
    }
}

/* "Headline | Site" and "Site - Headline" lose the site's name, wherever the title came from;
 * failing that, a part naming the page's host. */
static void
strip_site_name(meta_t *m)
{
    char *t = m->f[F_TITLE];
    const char *site = m->f[F_SITE];
    if (t == NULL)
        return;
    if (site == NULL) {
        strip_host_name(m);
        return;
    }
    size_t tl = strlen(t), sl = strlen(site);
    for (size_t k = 0; TITLE_SEPS[k] != NULL; k++) {
        size_t pl = strlen(TITLE_SEPS[k]);
        if (tl > sl + pl && strcasecmp(t + tl - sl, site) == 0 &&
            strncmp(t + tl - sl - pl, TITLE_SEPS[k], pl) == 0) {
            t[tl - sl - pl] = 0;
            return;
        }
        if (tl > sl + pl && strncasecmp(t, site, sl) == 0 &&
            strncmp(t + sl, TITLE_SEPS[k], pl) == 0) {
            memmove(t, t + sl + pl, tl - sl - pl + 1);
            return;
        }
    }
    strip_host_name(m);
}

/* Word tokens of s for title comparison: lowercase ASCII letters and digits and any non-ASCII
 * bytes; up to cap of them, each as (offset, length) into s. Returns the count. */
static size_t
title_tokens(const char *s, uint32_t (*tok)[2], size_t cap)
{
    size_t n = 0;
    for (size_t k = 0; s[k] && n < cap;) {
        unsigned char c = (unsigned char)s[k];
        if (c < 0x80 && !isalnum(c)) {
            k++;
            continue;
        }
        size_t b = k;
        while (s[k] && ((unsigned char)s[k] >= 0x80 || isalnum((unsigned char)s[k])))
            k++;
        tok[n][0] = (uint32_t)b;
        tok[n][1] = (uint32_t)(k - b);
        n++;
    }
    return n;
}

/* How many of h's tokens occur in r (case-insensitively), and the token counts of both. */
static size_t
title_overlap(const char *h, const char *r, size_t *nh, size_t *nr)
{
    uint32_t th[64][2], tr[64][2];
    *nh = title_tokens(h, th, 64);
    *nr = title_tokens(r, tr, 64);
    size_t common = 0;
    for (size_t i = 0; i < *nh; i++)
        for (size_t j = 0; j < *nr; j++)
            if (th[i][1] == tr[j][1] && strncasecmp(h + th[i][0], r + tr[j][0], th[i][1]) == 0) {
                common++;
                break;
            }
    return common;
}

/* Whether all of h1's text sits inside one link: the site's logo, not the headline. */
static bool
h1_is_link(nw_dom_node_t *h1)
{
    for (nw_dom_node_t *c = h1->children; c != NULL; c = next_node(c, h1, true)) {
        if (c->type == NW_DOM_TEXT && c->content != NULL &&
            c->content[strspn((const char *)c->content, " \t\r\n")] != 0) {
            bool linked = false;
            for (nw_dom_node_t *a = c->parent; a != NULL && a != h1; a = a->parent)
                linked = linked || strcmp(ename(a), "a") == 0;
            if (!linked)
                return false;
        }
    }
    return true;
}

/* A kicker inside an <h1>: the small line over the headline ("<span class=dachzeile>",
 * "<small>Topic</small><br>"), which headline fields leave out. */
static bool
is_kicker(nw_dom_node_t *n)
{
    static const char *const words[] = {"kicker",     "dachzeile",   "roofline", "overline",
                                        "topline",    "toptitle",    "eyebrow",  "topic",
                                        "supertitle", "subheadline", "subtitle", "pretitle",
                                        "section",    "rubric",      "hidden",   NULL};
    char ci[256];
    class_id(n, ci, sizeof(ci));
    if (ci[0] != 0 && has_any(ci, words))
        return true;
    if (strcmp(ename(n), "small") != 0)
        return false;
    nw_dom_node_t *x = n->next;
    while (x != NULL && x->type == NW_DOM_TEXT && x->content != NULL &&
           x->content[strspn(x->content, " \t\r\n")] == 0)
        x = x->next;
    return x != NULL && strcmp(ename(x), "br") == 0;
}

/* The text of an <h1> without the kickers that open it; malloc'd, NULL on ENOMEM. */
static char *
h1_text(nw_dom_node_t *h1)
{
    char *h = node_text(h1);
    for (nw_dom_node_t *c = h1->children; h != NULL && c != NULL; c = next_node(c, h1, true)) {
        if (c->type != NW_DOM_ELEMENT || !is_kicker(c))
            continue;
        char *k = node_text(c);
        if (k == NULL) {
            free(h);
            return NULL;
        }
        size_t kl = strlen(k);
        if (kl > 0 && strncmp(h, k, kl) == 0) {
            size_t b = kl;
            for (bool more = true; more;) {
                more = false;
                if (h[b] != 0 && strchr(" -:|/", h[b]) != NULL)
                    b++, more = true;
                else if (strncmp(h + b, "\xc2\xb7", 2) == 0)
                    b += 2, more = true;
                else if (strncmp(h + b, "\xe2\x80\x93", 3) == 0 ||
                         strncmp(h + b, "\xe2\x80\x94", 3) == 0)
                    b += 3, more = true;
            }
            /* what is left must still be a headline of a few words */
            if (strchr(h + b, ' ') != NULL)
                memmove(h, h + b, strlen(h + b) + 1);
        }
        free(k);
    }
    return h;
}

/* Whether t is "h <sep> more" or "more <sep> h": the headline with the site or section. */
static bool
title_has_part(const char *t, const char *h)
{
    size_t tl = strlen(t), hl = strlen(h);
    for (size_t k = 0; TITLE_SEPS[k] != NULL && hl > 0; k++) {
        size_t sl = strlen(TITLE_SEPS[k]);
        if (tl > hl + sl && strncasecmp(t, h, hl) == 0 && strncmp(t + hl, TITLE_SEPS[k], sl) == 0)
            return true;
        if (tl > hl + sl && strcasecmp(t + tl - hl, h) == 0 &&
            strncmp(t + tl - hl - sl, TITLE_SEPS[k], sl) == 0)
            return true;
    }
    return false;
}

/* The visible headline over a title from the head: og:title and <title> often carry a kicker,
 * the site's name or a shortened form ("Run Windows on Mac - Parallels Desktop 15 Virtual
 * Machine for Mac" over <h1>Parallels Desktop 15 for Mac</h1>). An <h1> whose words nearly
 * all occur in the title or in <title> is the headline as the page shows it; one that is only
 * a link (a logo) or the site's name is not. */
static int
prefer_h1(meta_t *m, nw_dom_node_t *const *h1s, size_t n_h1, nw_dom_node_t *title)
{
    if (m->f[F_TITLE] == NULL || n_h1 == 0)
        return 0;
    char *tt = title != NULL ? node_text(title) : NULL;
    int rc = 0;
    if (title != NULL && tt == NULL)
        return -ENOMEM;
    /* one <h1> with text on the whole page is the page's headline even when the head has a
     * different one (an SEO title, an older wording) */
    size_t sole = 0;
    for (size_t k = 0; k < n_h1; k++)
        sole += !h1_is_link(h1s[k]);
    for (size_t k = 0; k < n_h1 && rc == 0; k++) {
        if (h1_is_link(h1s[k]))
            continue;
        char *h = h1_text(h1s[k]);
        if (h == NULL) {
            rc = -ENOMEM;
            break;
        }
        size_t nh = 0, nr = 0, nt = 0, c1 = title_overlap(h, m->f[F_TITLE], &nh, &nr), c2 = 0;
        if (tt != NULL)
            c2 = title_overlap(h, tt, &nh, &nt);
        /* most of the h1 is in the reference, and it is more than a word or two of it */
        bool match = (c1 * 4 >= nh * 3 && c1 * 10 >= nr * 3) ||
                     (c2 * 4 >= nh * 3 && c2 * 10 >= nt * 3) || title_has_part(m->f[F_TITLE], h) ||
                     (tt != NULL && title_has_part(tt, h));
        bool site = (m->f[F_SITE] != NULL && strcasecmp(h, m->f[F_SITE]) == 0) ||
                    names_host(h, strlen(h), m->url != NULL ? m->url : m->f[F_CANON]);
        /* ... when it shares a few words with them: not a section's name */
        bool sole_only = !match && sole == 1 && n_h1 < 4 && nh >= 3 && (c1 >= 2 || c2 >= 2);
        match = match || sole_only;
        if (!site && match && nh > 0 && nh <= 40 && strlen(h) <= 300 && (nh >= 2 || c1 == nr)) {
            if (strcmp(h, m->f[F_TITLE]) != 0) {
                /* an <h1> that differs from the head's title stays in the body */
                if (sole_only) {
                    free(m->body_title);
                    m->body_title = m->f[F_TITLE];
                } else {
                    free(m->f[F_TITLE]);
                }
                m->f[F_TITLE] = h;
                h = NULL;
            }
            free(h);
            break;
        }
        free(h);
    }
    free(tt);
    return rc;
}

static int
collect_meta(meta_t *m, nw_dom_node_t *root)
{
    bool in_body = false;
    nw_dom_node_t *h1 = NULL, *title = NULL, *h1s[4];
    size_t n_h1 = 0;
    int rc =
        set_lang(m, attr(root, "lang") ? attr(root, "lang") : attr(root, "xml:lang"), R_JSONLD);
    for (nw_dom_node_t *n = root; rc == 0 && n != NULL;) {
        bool descend = true;
        const char *name = ename(n);
        if (n->type != NW_DOM_ELEMENT) {
            descend = false;
        } else if (strcmp(name, "script") == 0) {
            const char *t = attr(n, "type");
            if (t != NULL && strcasecmp(t, "application/ld+json") == 0)
                rc = on_jsonld(m, n);
            descend = false;
        } else if (strcmp(name, "title") == 0 && !in_body) {
            if (title == NULL)
                title = n;
            descend = false;
        } else if (is_void_of_text(name)) {
            descend = false;
        } else if (strcmp(name, "meta") == 0) {
            rc = on_meta(m, n);
        } else if (strcmp(name, "link") == 0) {
            const char *rel = attr(n, "rel");
            if (rel != NULL && strcasecmp(rel, "canonical") == 0)
                rc = set_url(m, F_CANON, attr(n, "href"), R_OG);
        } else {
            if (strcmp(name, "body") == 0)
                in_body = true;
            const char *ip = attr(n, "itemprop");
            if (ip != NULL && strcasecmp(ip, "datePublished") == 0)
                rc = set_date(m, F_PUB,
                              attr(n, "datetime") ? attr(n, "datetime") : attr(n, "content"),
                              R_ITEMPROP);
            else if (ip != NULL && strcasecmp(ip, "dateModified") == 0)
                rc = set_date(m, F_MOD,
                              attr(n, "datetime") ? attr(n, "datetime") : attr(n, "content"),
                              R_ITEMPROP);
            else if (strcmp(name, "time") == 0)
                rc = set_date(m, F_PUB, attr(n, "datetime"), R_VISIBLE);
            if (rc == 0 && strcmp(name, "time") == 0 && n_h1 > 0 && m->printed[0] == 0)
                rc = note_printed(m, n);
            else if (strcmp(name, "h1") == 0 && n_h1 < 4)
                h1s[n_h1++] = n;
            if (h1 == NULL && n_h1 > 0)
                h1 = h1s[0];
            if (rc == 0 && in_body &&
                (m->rank[F_PUB] > R_TEXT || (n_h1 > 0 && m->printed[0] == 0)) && is_date_holder(n))
                rc = on_date_holder(m, n, n_h1 > 0);
            if (rc == 0 && in_body && m->authors.rank > R_VISIBLE && is_byline(n)) {
                int b = on_byline(m, n);
                rc = b < 0 ? b : 0;
                descend = b == 0; /* a container with "author" in its class: look inside */
            }
        }
        n = next_node(n, root, descend);
    }
    if (rc == 0 && title != NULL && m->rank[F_TITLE] > R_VISIBLE)
        rc = on_title(m, title, h1);
    if (rc == 0 && h1 != NULL && m->rank[F_TITLE] > R_H1) {
        char *t = h1_text(h1);
        rc = t == NULL ? -ENOMEM : set_field(m, F_TITLE, t, R_H1);
        free(t);
    }
    if (rc == 0)
        rc = url_date(m);
    if (rc == 0)
        strip_site_name(m);
    if (rc == 0)
        rc = prefer_h1(m, h1s, n_h1, title);
    return rc;
}

static void
meta_release(meta_t *m)
{
    for (int f = 0; f < F_COUNT; f++)
        free(m->f[f]);
    free(m->body_title);
    list_clear(&m->authors);
    list_clear(&m->tags);
}

/* --- the whole ---------------------------------------------------------------------------- */

void
nw_extract_release(nw_extract_t *ex)
{
    if (ex == NULL)
        return;
    free(ex->title);
    free(ex->subtitle);
    for (size_t k = 0; k < ex->n_authors; k++)
        free(ex->authors[k]);
    free(ex->authors);
    free(ex->published);
    free(ex->modified);
    free(ex->site_name);
    free(ex->lang);
    free(ex->canonical);
    free(ex->image);
    free(ex->section);
    for (size_t k = 0; k < ex->n_tags; k++)
        free(ex->tags[k]);
    free(ex->tags);
    free(ex->text);
    free(ex->container);
    for (size_t k = 0; k < ex->n_captions; k++)
        nw_wire_caption_release(&ex->captions[k]);
    free(ex->captions);
    memset(ex, 0, sizeof(*ex));
}

/* No author anywhere else: a short line in the page that is a label and a name ("Von Jo Lind",
 * "Text: Jo Lind", "Autor: Jo Lind", "Posted by jolind"), the first one in document order. The
 * name must start with a capital after "by", "von", "par" so a sentence is not taken. */
static int
labelled_byline(meta_t *m, nw_dom_node_t *root)
{
    static const char *const labels[] = {
        "text:",     "autor:",     "autorin:",        "author:", "verfasst von",
        "posted by", "written by", "geschrieben von", NULL};
    static const char *const bare[] = {"by ", "von ", "par ", NULL};
    static const char *const tags[] = {"p",  "div", "span",    "em", "strong", "small", "h4",
                                       "h5", "h6",  "address", "b",  "i",      NULL};
    for (nw_dom_node_t *n = root; n != NULL; n = next_node(n, root, true)) {
        if (n->type != NW_DOM_ELEMENT || n->data == NULL || ((ninfo_t *)n->data)->ftlen > 80 ||
            ((ninfo_t *)n->data)->ftlen < 6)
            continue;
        bool tag = false;
        for (size_t k = 0; tags[k] != NULL && !tag; k++)
            tag = strcmp(ename(n), tags[k]) == 0;
        if (!tag)
            continue;
        char *t = node_text(n);
        if (t == NULL)
            return -ENOMEM;
        const char *b = t;
        while (*b == ' ')
            b++;
        bool hit = false;
        for (size_t k = 0; labels[k] != NULL && !hit; k++)
            hit = strncasecmp(b, labels[k], strlen(labels[k])) == 0;
        for (size_t k = 0; bare[k] != NULL && !hit; k++) {
            size_t l = strlen(bare[k]);
            hit = strncasecmp(b, bare[k], l) == 0 && isupper((unsigned char)b[l]);
        }
        /* at most five words: a name, not a sentence that starts with "By" */
        size_t words = 0;
        for (const char *p = b; *p; p++)
            words += *p == ' ' && p[1] != ' ' && p[1] != 0;
        int rc = hit && words <= 5 && strlen(b) < 80 ? add_authors(m, b, R_H1) : 0;
        free(t);
        if (rc < 0)
            return rc;
        if (m->authors.n > 0)
            return 0;
    }
    return 0;
}

int
nw_extract_html(const char *html, size_t len, const char *url, time_t now, nw_extract_t *out)
{
    nw_dom_t *doc = NULL;
    ninfo_t *infos = NULL;
    meta_t m = {0};
    emit_t e1 = {0}, e2 = {0};
    char cutoff[16];
    int rc = -EPROTO;

    memset(out, 0, sizeof(*out));
    size_t lead = 0;
    while (lead < len && (html[lead] == ' ' || html[lead] == '\n' || html[lead] == '\t' ||
                          html[lead] == '\r' || html[lead] == '\f'))
        lead++;
    if (lead == len || len > INT_MAX) /* nothing to build a document from */
        goto out;
    rc = -ENOMEM;
    if ((doc = nw_dom_parse(html, len)) == NULL)
        goto out;
    nw_dom_node_t *root = nw_dom_root(doc);

    if (now == 0)
        now = time(NULL);
    now += 86400;
    struct tm tm;
    if (gmtime_r(&now, &tm) == NULL || strftime(cutoff, sizeof(cutoff), "%Y-%m-%d", &tm) == 0)
        snprintf(cutoff, sizeof(cutoff), "9999-12-31");
    for (int f = 0; f < F_COUNT; f++)
        m.rank[f] = R_NONE;
    m.authors.rank = m.tags.rank = R_NONE;
    m.url = url;
    m.cutoff = cutoff;
    rc = -ENOMEM;
    if (collect_meta(&m, root) < 0)
        goto out;

    size_t n_infos = 0;
    for (nw_dom_node_t *n = root; n != NULL; n = next_node(n, root, true))
        n_infos += n->type == NW_DOM_ELEMENT;
    if ((infos = calloc(n_infos ? n_infos : 1, sizeof(*infos))) == NULL)
        goto out;
    size_t k = 0;
    for (nw_dom_node_t *n = root; n != NULL; n = next_node(n, root, true))
        if (n->type == NW_DOM_ELEMENT) {
            infos[k].node = n;
            n->data = &infos[k++];
        }

    /* from the root, not <body>: measured, starting at <body> loses a few paragraphs */
    nw_dom_node_t *body = root;
    if (extract_text(body, infos, n_infos, STRIP_CLASSES,
                     m.body_title ? m.body_title : m.f[F_TITLE], &e1) < 0)
        goto out;
    emit_t *best = &e1;
    if (e1.out.len < MIN_TEXT) {
        if (extract_text(body, infos, n_infos, STRIP_ROLES,
                         m.body_title ? m.body_title : m.f[F_TITLE], &e2) < 0)
            goto out;
        if (e2.out.len > e1.out.len)
            best = &e2;
    }
    if (nw_buf_append(&best->out, "", 0) < 0)
        goto out;
    /* no date anywhere else: a date line often opens the article text ("12. März 2019 | ...") */
    if (m.rank[F_PUB] > R_URL && best->out.len > 0) {
        char head[240], d[11];
        size_t hl = best->out.len - 1 < sizeof(head) - 1 ? best->out.len - 1 : sizeof(head) - 1;
        memcpy(head, best->out.data, hl);
        head[hl] = 0;
        if (text_date(head, d) && set_date(&m, F_PUB, d, R_H1) < 0)
            goto out;
    }
    if (prefer_printed_day(&m) < 0)
        goto out;
    if (m.authors.n == 0 && labelled_byline(&m, root) < 0)
        goto out;
    if (best->top != NULL && (out->container = node_path(best->top)) == NULL)
        goto out;
    out->text = (char *)nw_buf_steal(&best->out, NULL);
    out->captions = best->caps;
    out->n_captions = best->n_caps;
    best->caps = NULL;
    best->n_caps = 0;

    out->title = m.f[F_TITLE];
    out->subtitle = m.f[F_SUB];
    out->published = m.f[F_PUB];
    out->modified = m.f[F_MOD];
    out->site_name = m.f[F_SITE];
    out->lang = m.f[F_LANG];
    out->canonical = m.f[F_CANON];
    out->image = m.f[F_IMAGE];
    out->section = m.f[F_SECTION];
    memset(m.f, 0, sizeof(m.f));
    out->authors = m.authors.v;
    out->n_authors = m.authors.n;
    out->tags = m.tags.v;
    out->n_tags = m.tags.n;
    m.authors.v = m.tags.v = NULL;
    m.authors.n = m.tags.n = 0;
    rc = 0;
out:
    if (rc < 0)
        nw_extract_release(out);
    emit_release(&e1);
    emit_release(&e2);
    meta_release(&m);
    nw_dom_destroy(&doc);
    free(infos);
    return rc;
}
