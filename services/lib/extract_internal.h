/* extract_internal.h: what the parts of the page extractor share, private to services/lib.
 * extract.c runs the whole; extract_body.c finds the main text; extract_meta.c reads the
 * metadata with extract_jsonld.c, extract_title.c, extract_authors.c and extract_dates.c;
 * extract_tree.c and the inline helpers below read dom.h's tree for all of them. */
#ifndef NW_EXTRACT_INTERNAL_H
#define NW_EXTRACT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "newswire/buf.h"
#include "newswire/proto.h"

#include "dom.h"
#include "extract.h"

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
    uint8_t cls;     /* what its class and id say, CLS_* of extract_body.c (kept across
                        measures: 0 until first asked) */
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

/* How much nw_extract_body_text leaves out besides script-like and hidden elements. */
enum { STRIP_NONE, STRIP_ROLES, STRIP_CLASSES };

/* One attempt at the main text: what it gathers. */
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

/* ---- tree helpers ---- */

static inline const char *
ename(const nw_dom_node_t *n)
{
    return n->type == NW_DOM_ELEMENT && n->name ? (const char *)n->name : "";
}

/* The first byte is compared before calling strcmp: most names differ there, and these lists
 * are asked about every element of the page several times (strcmp was a fifth of parse). */
static inline bool
name_in(const char *name, const char *const *names)
{
    for (size_t i = 0; names[i] != NULL; i++)
        if (name[0] == names[i][0] && strcmp(name, names[i]) == 0)
            return true;
    return false;
}

static inline const char *
attr(const nw_dom_node_t *n, const char *name)
{
    return nw_dom_attr(n, name);
}

static inline ninfo_t *
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

/* Elements whose content is never text. By tag id: every name here is a known tag (dom.h), so
 * an element has the name exactly when it has the id, and a switch costs no strcmp. */
static inline bool
is_void_of_text(const nw_dom_node_t *n)
{
    if (n->type != NW_DOM_ELEMENT)
        return false;
    switch (n->tag) {
    case NW_TAG_SCRIPT:
    case NW_TAG_STYLE:
    case NW_TAG_TEMPLATE:
    case NW_TAG_IFRAME:
    case NW_TAG_SVG:
    case NW_TAG_OBJECT:
    case NW_TAG_SELECT:
    case NW_TAG_OPTION:
    case NW_TAG_BUTTON:
    case NW_TAG_TEXTAREA:
    case NW_TAG_INPUT:
    case NW_TAG_CANVAS:
    case NW_TAG_TITLE:
    case NW_TAG_MATH:
        return true;
    default:
        return false;
    }
}

/* Block elements: their start and end break the text. By tag id, as is_void_of_text. */
static inline bool
is_block(const nw_dom_node_t *n)
{
    if (n->type != NW_DOM_ELEMENT)
        return false;
    switch (n->tag) {
    case NW_TAG_P:
    case NW_TAG_DIV:
    case NW_TAG_SECTION:
    case NW_TAG_ARTICLE:
    case NW_TAG_MAIN:
    case NW_TAG_BLOCKQUOTE:
    case NW_TAG_PRE:
    case NW_TAG_UL:
    case NW_TAG_OL:
    case NW_TAG_LI:
    case NW_TAG_DL:
    case NW_TAG_DT:
    case NW_TAG_DD:
    case NW_TAG_TABLE:
    case NW_TAG_TR:
    case NW_TAG_THEAD:
    case NW_TAG_TBODY:
    case NW_TAG_TFOOT:
    case NW_TAG_H1:
    case NW_TAG_H2:
    case NW_TAG_H3:
    case NW_TAG_H4:
    case NW_TAG_H5:
    case NW_TAG_H6:
    case NW_TAG_HR:
    case NW_TAG_FIGURE:
    case NW_TAG_HEADER:
    case NW_TAG_FOOTER:
    case NW_TAG_NAV:
    case NW_TAG_ASIDE:
    case NW_TAG_FORM:
    case NW_TAG_FIELDSET:
    case NW_TAG_BODY:
    case NW_TAG_ADDRESS:
    case NW_TAG_DETAILS:
    case NW_TAG_SUMMARY:
    case NW_TAG_CENTER:
    case NW_TAG_CAPTION:
        return true;
    default:
        return false;
    }
}

/* ---- extract_tree.c ---- */

/* The lowercase class and id of n, space separated, in buf. */
void nw_extract_class_id(const nw_dom_node_t *n, char *buf, size_t cap);

/* Whether s contains any of words (NULL-terminated) as a substring. */
bool nw_extract_has_any(const char *s, const char *const *words);

/* Whitespace-normalised copy of s[0..len): Unicode spaces and controls become one space per run,
 * zero-width characters and soft hyphens go (a browser shows neither unless it breaks the line
 * there, and a word split by them matches nothing downstream), the ends are trimmed and invalid
 * UTF-8 becomes U+FFFD, so the result is always valid. Unlike nw_wire_clean it leaves
 * punctuation spacing alone: "Macronie : une" is how French is printed. Returns a malloc'd string
 * or NULL on ENOMEM. */
char *nw_extract_text_clean(const char *s, size_t len);

/* The cleaned text of n's subtree. Returns a malloc'd string or NULL on ENOMEM. */
char *nw_extract_node_text(nw_dom_node_t *top);

/* ---- extract_body.c: the main text ---- */

/* n's place in the tree: "/html[1]/body[1]/div[3]", each step the tag and the 1-based position
 * among its parent's elements. Returns a malloc'd string or NULL on ENOMEM. */
char *nw_extract_node_path(const nw_dom_node_t *n);

/* Frees what e gathered and zeroes it; safe on a zeroed emit_t. */
void nw_extract_emit_release(emit_t *e);

/* One attempt at the main text of body into *e. */
int nw_extract_body_text(nw_dom_node_t *body, ninfo_t *infos, size_t n_infos, int strip,
                         const char *title, emit_t *e);

/* ---- extract_meta.c: fields and lists at a rank ---- */

/* Add s (taken) to l at the given rank: a better rank starts the list over, a worse one is
 * ignored, duplicates are dropped. */
int nw_extract_list_add(list_t *l, char *s, int rank);

/* Cleaned copy of v, or NULL (with *rc 0) when it is empty or too long to be metadata. */
char *nw_extract_clean_meta(const char *v, size_t n, int *rc);

/* Sets field f to the cleaned v when rank beats the rank that set it; 0 when v is NULL, empty or
 * too long, -ENOMEM. */
int nw_extract_set_field(meta_t *m, int f, const char *v, int rank);

/* Adds the comma- or semicolon-separated tags of v at rank (at most 64 tags). */
int nw_extract_add_tags(meta_t *m, const char *v, int rank);

/* Sets field f to v made absolute against the page URL, when that is http(s). */
int nw_extract_set_url(meta_t *m, int f, const char *v, int rank);

/* Sets the language to the primary subtag of l ("en-GB" -> "en") when it has two letters. */
int nw_extract_set_lang(meta_t *m, const char *l, int rank);

/* The one pass over root's document that fills m: JSON-LD, meta tags, <title>, <h1>, bylines,
 * dates printed in the page, the URL; then the title is tidied. 0 or -ENOMEM. */
int nw_extract_collect_meta(meta_t *m, nw_dom_node_t *root);

/* Frees what m holds (fields not handed over are NULL after a move). */
void nw_extract_meta_release(meta_t *m);

/* ---- extract_jsonld.c ---- */

/* Reads the JSON-LD <script> n into m at rank R_JSONLD; a block that does not parse, even
 * with control bytes blanked, is skipped. 0 or -ENOMEM. */
int nw_extract_jsonld(meta_t *m, nw_dom_node_t *n);

/* ---- extract_title.c ---- */

/* The title from <title> n: the <h1> h1 when the title is that plus the site's name, else the
 * title without its last " | Site" part when enough words remain. */
int nw_extract_on_title(meta_t *m, nw_dom_node_t *n, nw_dom_node_t *h1);

/* Whether s[0..n) is the page's host name or one of its labels, ignoring case and everything but
 * letters and digits: "La Stampa" for www.lastampa.it, "heizung.de" for www.heizung.de. */
bool nw_extract_names_host(const char *s, size_t n, const char *url);

/* "Headline | Site" and "Site - Headline" lose the site's name, wherever the title came from;
 * failing that, a part naming the page's host. */
void nw_extract_strip_site_name(meta_t *m);

/* The text of an <h1> without the kickers that open it; malloc'd, NULL on ENOMEM. */
char *nw_extract_h1_text(nw_dom_node_t *h1);

/* The visible headline over a title from the head: og:title and <title> often carry a kicker,
 * the site's name or a shortened form ("Run Windows on Mac - Parallels Desktop 15 Virtual
 * Machine for Mac" over <h1>Parallels Desktop 15 for Mac</h1>). An <h1> whose words nearly
 * all occur in the title or in <title> is the headline as the page shows it; one that is only
 * a link (a logo) or the site's name is not. */
int nw_extract_prefer_h1(meta_t *m, nw_dom_node_t *const *h1s, size_t n_h1, nw_dom_node_t *title);

/* ---- extract_authors.c ---- */

/* A visible byline: rel=author, itemprop=author or a class/id naming the author. */
bool nw_extract_is_byline(const nw_dom_node_t *n);

/* Split an author string into names ("A, B and C") and add them at rank. */
int nw_extract_add_authors(meta_t *m, const char *v, int rank);

/* Authors (and a printed date) from a visible byline; 1 when n was read as one, 0 when it is too
 * big to be a byline (a container whose class says "author": look inside it instead). */
int nw_extract_on_byline(meta_t *m, nw_dom_node_t *n);

/* No author anywhere else: a short line in the page that is a label and a name ("Von Jo Lind",
 * "Text: Jo Lind", "Autor: Jo Lind", "Posted by jolind"), the first one in document order. The
 * name must start with a capital after "by", "von", "par" so a sentence is not taken. */
int nw_extract_labelled_byline(meta_t *m, nw_dom_node_t *root);

/* ---- extract_dates.c ---- */

/* Sets date field f from v (ISO or printed) when rank beats the rank that set it; a date that
 * cannot be read or is after m->cutoff is ignored. */
int nw_extract_set_date(meta_t *m, int f, const char *v, int rank);

/* Month number of a month name or abbreviation (English, German, French, Spanish, Italian,
 * Dutch, Polish and Russian genitives), 0 when w is none. w is lowercase, without a trailing dot.
 */
int nw_extract_month_number(const char *w, size_t n);

/* The first calendar date printed in t ("12.03.2019", "12. März 2019", "March 12, 2019",
 * "12 mars 2019", "2019-03-12") as YYYY-MM-DD in out; false when there is none. */
bool nw_extract_text_date(const char *t, char out[11]);

/* A date printed in an element whose class/id says it holds one. */
bool nw_extract_is_date_holder(const nw_dom_node_t *n);

/* The date printed in date holder n as the published date at R_TEXT; after_h1 also records it
 * as the printed date unless it belongs to a comment or a last-modified mark. */
int nw_extract_on_date_holder(meta_t *m, nw_dom_node_t *n, bool after_h1);

/* The date a <time> or date holder after the headline prints, as the page's printed date. */
int nw_extract_note_printed(meta_t *m, nw_dom_node_t *n);

/* A machine time stamp is often UTC while the page prints its local date: 23:30 on the 4th in
 * New York is the 5th in UTC. When the page prints a date one day from the stamp's and the
 * stamp's instant falls on that printed day in a zone within ten hours of UTC, the printed day
 * is the one readers (and the gold) see. A printed date further off is another date (an update,
 * a related story) and changes nothing; so does one the instant cannot reach (14:31 UTC is not
 * the next day anywhere near Europe). A stamp without a time of day could be any hour. */
int nw_extract_prefer_printed_day(meta_t *m);

/* A date in the page's URL: /2024/02/06/ or /2024-02-06. */
int nw_extract_url_date(meta_t *m);

#endif /* NW_EXTRACT_INTERNAL_H */
