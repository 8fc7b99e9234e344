/* extract_body.c: the main text of a web page and its captions (extract_internal.h).
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
 * so no container holding most of the page's text is ever filtered out. */
#include "extract_internal.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "newswire/buf.h"
#include "wire.h"

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
/* What an element's class and id say, found once per element and kept in its ninfo_t: every
 * measure pass and every score asked again, each time building the lowercase class string and
 * running strstr for dozens of words (a fifth of parse's time). The two questions are answered
 * apart, each when first asked, because most elements are only ever asked the first. */
enum {
    CLS_REMOVE_KNOWN = 1, /* CLS_AD and CLS_UNLIKELY are set */
    CLS_AD = 2,           /* "ad", "ads", "advert..." as a token */
    CLS_UNLIKELY = 4,     /* an UNLIKELY or AUTHOR_BOX word, and no MAYBE word (unset with AD) */
    CLS_WEIGHT_KNOWN = 8, /* CLS_NEGATIVE and CLS_POSITIVE are set */
    CLS_NEGATIVE = 16,    /* a NEGATIVE word or an ad token */
    CLS_POSITIVE = 32     /* a POSITIVE word */
};

static unsigned
class_flags(const nw_dom_node_t *n, unsigned want)
{
    ninfo_t *i = info(n);
    unsigned f = i != NULL ? i->cls : 0;
    if (f & want)
        return f;
    char ci[512];
    nw_extract_class_id(n, ci, sizeof(ci));
    f |= want;
    if (ci[0] != 0 && want == CLS_REMOVE_KNOWN) {
        if (has_ad_token(ci))
            f |= CLS_AD;
        else if ((nw_extract_has_any(ci, UNLIKELY) || nw_extract_has_any(ci, AUTHOR_BOX)) &&
                 !nw_extract_has_any(ci, MAYBE))
            f |= CLS_UNLIKELY;
    }
    if (ci[0] != 0 && want == CLS_WEIGHT_KNOWN) {
        if (nw_extract_has_any(ci, NEGATIVE) || has_ad_token(ci))
            f |= CLS_NEGATIVE;
        if (nw_extract_has_any(ci, POSITIVE))
            f |= CLS_POSITIVE;
    }
    if (i != NULL)
        i->cls = (uint8_t)f;
    return f;
}

static int
class_weight(const nw_dom_node_t *n)
{
    unsigned f = class_flags(n, CLS_WEIGHT_KNOWN);
    int w = 0;
    if (f & CLS_NEGATIVE)
        w -= 25;
    if (f & CLS_POSITIVE)
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

static bool
is_heading(const char *name)
{
    return name[0] == 'h' && name[1] >= '1' && name[1] <= '6' && name[2] == 0;
}

/* Whether n and its subtree stay out of the main text, decided before measuring. */
static bool
is_removed(const nw_dom_node_t *n, int strip, uint32_t page_len)
{
    const char *name = ename(n);
    if (is_void_of_text(n) || is_hidden(n))
        return true;
    /* <noscript> holds fallback markup, as raw text in the head; parsed into
     * elements it may hold the article itself after tag-soup recovery */
    if (n->tag == NW_TAG_NOSCRIPT) {
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
    if (strip < STRIP_CLASSES || n->tag == NW_TAG_BODY || n->tag == NW_TAG_A ||
        n->tag == NW_TAG_HTML || n->tag == NW_TAG_ARTICLE || n->tag == NW_TAG_MAIN)
        return false;
    return (class_flags(n, CLS_REMOVE_KNOWN) & (CLS_AD | CLS_UNLIKELY)) != 0;
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
    p->tlen += i->tlen;
    p->llen += n->tag == NW_TAG_A ? i->tlen : i->llen;
    p->commas += i->commas;
    p->np += i->np + (n->tag == NW_TAG_P);
    p->nli += i->nli + (n->tag == NW_TAG_LI);
    if (!is_block(n) && n->tag != NW_TAG_BR)
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
            uint8_t cls = i->cls;
            memset(i, 0, sizeof(*i));
            i->node = n;
            i->ftlen = ftlen;
            i->cls = cls;
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

static int
flush(emit_t *e)
{
    int rc = 0;
    if (e->cur.len == 0) {
        e->heading = false;
        return 0;
    }
    char *t = nw_extract_text_clean((const char *)e->cur.data, e->cur.len);
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

static int
add_caption(emit_t *e, nw_dom_node_t *n)
{
    char *t = nw_extract_node_text(n);
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
    char *t = nw_extract_node_text(n);
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
    if (is_block(n))
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
            } else if (n != top && i->tlen < 100 && nw_extract_is_byline(n)) {
                /* the byline went to the authors */
            } else if (strcmp(name, "time") == 0 && n != top && n->parent != NULL &&
                       is_block(n->parent) && !is_heading(ename(n->parent)) &&
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
                if (is_block(n))
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
char *
nw_extract_node_path(const nw_dom_node_t *n)
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

void
nw_extract_emit_release(emit_t *e)
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
            nw_extract_class_id(n, ci, sizeof(ci));
            if (ci[0] != 0 && nw_extract_has_any(ci, words) && i->tlen >= 30 &&
                link_density(i) < 0.3 && class_weight(n) >= 0)
                return n;
            descend = true;
        }
        n = next_node(n, scope, descend);
    }
    return NULL;
}

/* One attempt at the main text of body into *e. */
int
nw_extract_body_text(nw_dom_node_t *body, ninfo_t *infos, size_t n_infos, int strip,
                     const char *title, emit_t *e)
{
    e->title = title;
    e->trail = SIZE_MAX;
    for (size_t k = 0; k < n_infos; k++)
        infos[k] = (ninfo_t){.node = infos[k].node, .ftlen = infos[k].ftlen, .cls = infos[k].cls};
    if (info(body) != NULL && info(body)->ftlen == 0) {
        measure(body, STRIP_NONE);
        for (size_t k = 0; k < n_infos; k++)
            infos[k] =
                (ninfo_t){.node = infos[k].node, .ftlen = infos[k].tlen, .cls = infos[k].cls};
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
