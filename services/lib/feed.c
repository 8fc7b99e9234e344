/* feed.c: RSS 0.9x/1.0/2.0, Atom 0.3/1.0 and JSON Feed 1.0/1.1 into one model (see feed.h).
 *
 * XML goes through libxml2's tree API with XML_PARSE_NONET and without XML_PARSE_NOENT,
 * XML_PARSE_DTDLOAD or XML_PARSE_HUGE: no network, no DTD, no external entity, and libxml2's
 * own entity-amplification and depth limits stay on. Entities declared in an internal subset
 * stay as reference nodes in the tree; text() expands only internal ones, under a byte budget
 * per feed, so a billion-laughs document fails fast whichever layer notices first. The parse
 * always recovers (XML_PARSE_RECOVER) and a document that was not well-formed gets bozo and the
 * first error, as feedparser does, so one bad ampersand does not lose a feed's items.
 *
 * Elements are matched by namespace class and local name, not by prefix, except that an
 * undeclared prefix (common: "atom:link" in RSS without xmlns:atom) is classed by the prefix.
 * Relative links are resolved against xml:base and the feed URL with uriparser. */
#include "newswire/feed.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <uriparser/Uri.h>

/* Text a feed may produce through entity references, all fields together. Real feeds use
 * entities for a few characters; amplification attacks blow through this at once. */
#define TEXT_BUDGET (1u << 20)
/* Longest text of one field. */
#define FIELD_MAX (16u << 20)
/* Nesting of entity references inside entity references that text() follows. */
#define ENTITY_DEPTH 8

#define XML_OPTS (XML_PARSE_NONET | XML_PARSE_RECOVER | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

enum ns {
    NS_NONE,
    NS_ATOM,
    NS_ATOM03,
    NS_DC,
    NS_CONTENT,
    NS_MEDIA,
    NS_ITUNES,
    NS_RSS,
    NS_RDF,
    NS_XHTML,
    NS_OTHER
};

typedef struct ctx {
    xmlDocPtr doc;
    const char *url;
    size_t budget; /* bytes of entity expansion left */
    int err;       /* first hard error (budget exceeded, ENOMEM) */
    char reason[200];
    bool have_reason;
} ctx_t;

/* ---------------------------------------------------------------- small helpers */

static char *
dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Copy s without leading and trailing white space; NULL when nothing is left. */
static char *
dup_trim(const char *s)
{
    if (!s)
        return NULL;
    while (*s && isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    return n ? dupn(s, n) : NULL;
}

/* Set *dst to src when *dst is still empty, else free src: first one wins. */
static void
set_once(char **dst, char *src)
{
    if (!*dst)
        *dst = src;
    else
        free(src);
}

static void
set_over(char **dst, char *src)
{
    if (src) {
        free(*dst);
        *dst = src;
    }
}

/* Grow an array by one zeroed element; returns it or NULL. Arrays grow only through here, so
 * the capacity is implied by the count: the next power of two. Growing by one element per
 * call copied the whole array each time, quadratic in the items of a feed (a 150,000-item feed
 * held fetch's loop for minutes where realloc cannot move pages in place: issue 16.5). */
static void *
push(void **arr, size_t *n, size_t elem)
{
    void *p = *arr;
    if ((*n & (*n - 1)) == 0) { /* 0, 1, 2, 4, ...: full */
        size_t cap = *n ? *n * 2 : 1;
        if (cap > SIZE_MAX / elem || (p = realloc(*arr, cap * elem)) == NULL)
            return NULL;
        *arr = p;
    }
    char *e = (char *)p + *n * elem;
    memset(e, 0, elem);
    (*n)++;
    return e;
}

/* Categories and enclosures are de-duplicated by a scan of the list so far; past this many a
 * list takes no more, so a hostile item with a million categories costs linear time. */
#define MAX_LIST 256

static int
push_str(char ***arr, size_t *n, char *s)
{
    if (!s)
        return 0;
    if (*n >= MAX_LIST) {
        free(s);
        return 0;
    }
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*arr)[i], s) == 0) {
            free(s);
            return 0;
        }
    char **slot = push((void **)arr, n, sizeof(char *));
    if (!slot) {
        free(s);
        return -ENOMEM;
    }
    *slot = s;
    return 0;
}

/* ---------------------------------------------------------------- dates */

static int
month_of(const char *s, size_t n)
{
    static const char *const m[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                    "jul", "aug", "sep", "oct", "nov", "dec"};
    if (n < 3)
        return -1;
    for (int i = 0; i < 12; i++)
        if (strncasecmp(s, m[i], 3) == 0)
            return i;
    return -1;
}

/* Named zones of RFC 822 plus the common ones feeds use; offset in minutes east. */
static int
zone_of(const char *s, size_t n, int *off)
{
    static const struct {
        const char *name;
        int off;
    } z[] = {{"UT", 0},        {"UTC", 0},       {"GMT", 0},       {"Z", 0},
             {"EST", -5 * 60}, {"EDT", -4 * 60}, {"CST", -6 * 60}, {"CDT", -5 * 60},
             {"MST", -7 * 60}, {"MDT", -6 * 60}, {"PST", -8 * 60}, {"PDT", -7 * 60},
             {"BST", 60},      {"CET", 60},      {"CEST", 120},    {"EET", 120},
             {"EEST", 180},    {"JST", 540},     {"IST", 330},     {"AEST", 600},
             {"AEDT", 660},    {"HST", -600},    {"AKST", -540},   {"AKDT", -480}};
    for (size_t i = 0; i < sizeof(z) / sizeof(z[0]); i++)
        if (strlen(z[i].name) == n && strncasecmp(s, z[i].name, n) == 0) {
            *off = z[i].off;
            return 0;
        }
    if (n == 1 && isalpha((unsigned char)*s)) { /* military zones; RFC 1123 says treat as 0 */
        *off = 0;
        return 0;
    }
    return -1;
}

/* "+hhmm", "+hh:mm", "+hh", "-..." at s; returns characters used or 0. */
static size_t
numeric_zone(const char *s, int *off)
{
    if (*s != '+' && *s != '-')
        return 0;
    int sign = *s == '-' ? -1 : 1;
    const char *p = s + 1;
    int d[4], nd = 0;
    while (nd < 4 && (isdigit((unsigned char)*p) || (*p == ':' && nd == 2))) {
        if (*p != ':')
            d[nd++] = *p - '0';
        p++;
    }
    if (nd == 2)
        *off = sign * ((d[0] * 10 + d[1]) * 60);
    else if (nd == 4)
        *off = sign * ((d[0] * 10 + d[1]) * 60 + d[2] * 10 + d[3]);
    else
        return 0;
    return (size_t)(p - s);
}

static int
finish(struct tm *tm, int off_min, int64_t *out)
{
    if (tm->tm_year < 0 || tm->tm_mon < 0 || tm->tm_mon > 11 || tm->tm_mday < 1 ||
        tm->tm_mday > 31 || tm->tm_hour > 24 || tm->tm_min > 59 || tm->tm_sec > 61)
        return -EINVAL;
    time_t t = timegm(tm);
    if (t == (time_t)-1 && tm->tm_year != 69)
        return -EINVAL;
    *out = (int64_t)t - (int64_t)off_min * 60;
    return 0;
}

static int
read_num(const char **p, int maxd, int *v)
{
    int n = 0, x = 0;
    while (n < maxd && isdigit((unsigned char)**p)) {
        x = x * 10 + (**p - '0');
        (*p)++;
        n++;
    }
    *v = x;
    return n;
}

/* ISO 8601 / RFC 3339 / W3CDTF: YYYY[-MM[-DD[(T| )hh:mm[:ss[.f]][zone]]]], also compact
 * YYYYMMDDThhmmss. A missing zone is read as UTC, as feedparser does. */
static int
parse_iso(const char *s, int64_t *out)
{
    struct tm tm = {0};
    const char *p = s;
    int v, off = 0;
    if (read_num(&p, 4, &v) != 4)
        return -EINVAL;
    tm.tm_year = v - 1900;
    tm.tm_mon = 0;
    tm.tm_mday = 1;
    bool compact = isdigit((unsigned char)*p);
    if (*p == '-' || compact) {
        if (*p == '-')
            p++;
        if (read_num(&p, 2, &v) != 2)
            return -EINVAL;
        tm.tm_mon = v - 1;
        if (*p == '-' || (compact && isdigit((unsigned char)*p))) {
            if (*p == '-')
                p++;
            if (read_num(&p, 2, &v) != 2)
                return -EINVAL;
            tm.tm_mday = v;
        }
    }
    if (*p == 'T' || *p == 't' || (*p == ' ' && isdigit((unsigned char)p[1]))) {
        p++;
        if (read_num(&p, 2, &v) != 2)
            return -EINVAL;
        tm.tm_hour = v;
        if (*p == ':')
            p++;
        if (read_num(&p, 2, &v) == 2) {
            tm.tm_min = v;
            if (*p == ':')
                p++;
            if (read_num(&p, 2, &v) == 2)
                tm.tm_sec = v;
            if (*p == '.' || *p == ',') {
                p++;
                while (isdigit((unsigned char)*p))
                    p++;
            }
        }
        while (*p == ' ')
            p++;
        if (*p == 'Z' || *p == 'z')
            p++;
        else if (*p == '+' || *p == '-') {
            size_t k = numeric_zone(p, &off);
            if (!k)
                return -EINVAL;
            p += k;
        } else if (isalpha((unsigned char)*p)) {
            size_t k = 0;
            while (isalpha((unsigned char)p[k]))
                k++;
            if (zone_of(p, k, &off) < 0)
                return -EINVAL;
            p += k;
        }
    }
    while (isspace((unsigned char)*p))
        p++;
    if (*p)
        return -EINVAL;
    return finish(&tm, off, out);
}

/* RFC 822/1123 and the broken forms feeds use: optional (full or dotted) weekday, "Sept",
 * two-digit years, missing seconds, "GMT+2", dashes between the date parts. */
static int
parse_rfc822(const char *s, int64_t *out)
{
    struct tm tm = {0};
    const char *p = s;
    int v, off = 0;
    while (isspace((unsigned char)*p))
        p++;
    if (isalpha((unsigned char)*p)) { /* weekday */
        while (isalpha((unsigned char)*p))
            p++;
        while (*p == ',' || *p == '.' || isspace((unsigned char)*p))
            p++;
    }
    int dl = read_num(&p, 2, &v);
    int mon = -1;
    if (dl == 0) { /* "Jan 01 2004" */
        size_t k = 0;
        while (isalpha((unsigned char)p[k]))
            k++;
        mon = month_of(p, k);
        p += k;
        while (*p == ' ' || *p == '-' || *p == '.')
            p++;
        if (read_num(&p, 2, &v) == 0)
            return -EINVAL;
        while (*p == ',' || isspace((unsigned char)*p))
            p++;
    } else {
        while (*p == ' ' || *p == '-' || *p == '.')
            p++;
        size_t k = 0;
        while (isalpha((unsigned char)p[k]))
            k++;
        mon = month_of(p, k);
        p += k;
    }
    if (mon < 0)
        return -EINVAL;
    tm.tm_mday = v;
    tm.tm_mon = mon;
    while (*p == ' ' || *p == '-' || *p == ',' || *p == '.')
        p++;
    int yl = read_num(&p, 4, &v);
    if (yl == 2)
        v += v < 50 ? 2000 : 1900;
    else if (yl != 4)
        return -EINVAL;
    tm.tm_year = v - 1900;
    while (isspace((unsigned char)*p))
        p++;
    if (isdigit((unsigned char)*p)) {
        if (read_num(&p, 2, &v) == 0 || *p != ':')
            return -EINVAL;
        tm.tm_hour = v;
        p++;
        if (read_num(&p, 2, &v) == 0)
            return -EINVAL;
        tm.tm_min = v;
        if (*p == ':') {
            p++;
            read_num(&p, 2, &v);
            tm.tm_sec = v;
        }
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '+' || *p == '-') {
            size_t k = numeric_zone(p, &off);
            if (!k)
                return -EINVAL;
            p += k;
        } else if (isalpha((unsigned char)*p)) {
            size_t k = 0;
            while (isalpha((unsigned char)p[k]))
                k++;
            if (zone_of(p, k, &off) < 0)
                return -EINVAL;
            p += k;
            if (*p == '+' || *p == '-') { /* "GMT+0200" */
                int extra = 0;
                size_t e = numeric_zone(p, &extra);
                if (!e)
                    return -EINVAL;
                off += extra;
                p += e;
            }
        }
    }
    while (isspace((unsigned char)*p) || *p == '.')
        p++;
    if (*p && *p != '(') /* trailing "(PST)" comments are tolerated */
        return -EINVAL;
    return finish(&tm, off, out);
}

int
nw_feed_date_parse(const char *s, int64_t *out)
{
    if (!s || !out)
        return -EINVAL;
    while (isspace((unsigned char)*s))
        s++;
    if (isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
        isdigit((unsigned char)s[2]) && isdigit((unsigned char)s[3]) && parse_iso(s, out) == 0)
        return 0;
    return parse_rfc822(s, out);
}

/* Store a date: the normalised text and its instant, or nothing when unreadable. */
static void
set_date(char **dst, int64_t *ts, const char *raw, bool override)
{
    int64_t t;
    if (!raw || (*dst && !override) || nw_feed_date_parse(raw, &t) < 0)
        return;
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm))
        return;
    char buf[40];
    snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    char *d = strdup(buf);
    if (!d)
        return;
    free(*dst);
    *dst = d;
    *ts = t;
}

/* ---------------------------------------------------------------- people */

/* "email (Name)", "Name (email)", "Name <email>", "mailto:email" or a bare name. */
static int
add_person(nw_feed_person_t **arr, size_t *n, const char *raw)
{
    if (!raw)
        return 0;
    char *name = NULL, *email = NULL;
    const char *open = strpbrk(raw, "(<");
    const char *close = open ? strchr(open, *open == '(' ? ')' : '>') : NULL;
    if (open && close) {
        char *inner = dupn(open + 1, (size_t)(close - open - 1));
        char *outer = malloc(strlen(raw) + 1);
        if (!inner || !outer) {
            free(inner);
            free(outer);
            return -ENOMEM;
        }
        size_t k = (size_t)(open - raw);
        memcpy(outer, raw, k);
        strcpy(outer + k, close + 1);
        char *ti = dup_trim(inner), *to = dup_trim(outer);
        free(inner);
        free(outer);
        if (ti && strchr(ti, '@') && !(to && strchr(to, '@'))) {
            email = ti;
            name = to;
        } else if (to && strchr(to, '@')) {
            email = to;
            name = ti;
        } else {
            name = to ? to : ti;
            if (to)
                free(ti);
        }
    } else {
        char *t = dup_trim(raw);
        if (t && strchr(t, '@') && !strchr(t, ' '))
            email = t;
        else
            name = t;
    }
    if (email && strncasecmp(email, "mailto:", 7) == 0)
        memmove(email, email + 7, strlen(email + 7) + 1);
    if (!name && !email)
        return 0;
    nw_feed_person_t *p = push((void **)arr, n, sizeof(*p));
    if (!p) {
        free(name);
        free(email);
        return -ENOMEM;
    }
    p->name = name;
    p->email = email;
    return 0;
}

/* ---------------------------------------------------------------- XML access */

static const char *
local_name(xmlNodePtr n)
{
    const char *name = (const char *)n->name;
    const char *c = n->ns ? NULL : strchr(name, ':');
    return c ? c + 1 : name;
}

static enum ns
ns_of(xmlNodePtr n)
{
    const char *href = n->ns && n->ns->href ? (const char *)n->ns->href : NULL;
    if (!href) {
        /* undeclared prefix: libxml2 keeps "prefix:local" as the name */
        const char *name = (const char *)n->name, *c = strchr(name, ':');
        if (!c)
            return NS_NONE;
        size_t k = (size_t)(c - name);
        if (k == 4 && strncmp(name, "atom", 4) == 0)
            return NS_ATOM;
        if (k == 2 && strncmp(name, "dc", 2) == 0)
            return NS_DC;
        if (k == 7 && strncmp(name, "content", 7) == 0)
            return NS_CONTENT;
        if (k == 5 && strncmp(name, "media", 5) == 0)
            return NS_MEDIA;
        if (k == 6 && strncmp(name, "itunes", 6) == 0)
            return NS_ITUNES;
        return NS_OTHER;
    }
    if (strcmp(href, "http://www.w3.org/2005/Atom") == 0)
        return NS_ATOM;
    if (strncmp(href, "http://purl.org/atom/ns#", 24) == 0)
        return NS_ATOM03;
    if (strcmp(href, "http://purl.org/dc/elements/1.1/") == 0 ||
        strcmp(href, "http://purl.org/dc/terms/") == 0)
        return NS_DC;
    if (strcmp(href, "http://purl.org/rss/1.0/modules/content/") == 0)
        return NS_CONTENT;
    if (strncmp(href, "http://search.yahoo.com/mrss", 28) == 0)
        return NS_MEDIA;
    if (strcasecmp(href, "http://www.itunes.com/dtds/podcast-1.0.dtd") == 0)
        return NS_ITUNES;
    if (strcmp(href, "http://purl.org/rss/1.0/") == 0 ||
        strcmp(href, "http://my.netscape.com/rdf/simple/0.9/") == 0 ||
        strncmp(href, "http://backend.userland.com/rss", 31) == 0)
        return NS_RSS;
    if (strcmp(href, "http://www.w3.org/1999/02/22-rdf-syntax-ns#") == 0)
        return NS_RDF;
    if (strcmp(href, "http://www.w3.org/1999/xhtml") == 0)
        return NS_XHTML;
    return NS_OTHER;
}

static bool
is(xmlNodePtr n, enum ns ns, const char *name)
{
    enum ns got = ns_of(n);
    if (ns == NS_NONE ? (got != NS_NONE && got != NS_RSS) : got != ns)
        return false;
    return strcmp(local_name(n), name) == 0;
}

static void
text_into(ctx_t *c, xmlNodePtr n, nw_buf_t *b, int depth)
{
    for (xmlNodePtr k = n; k && !c->err; k = k->next) {
        switch (k->type) {
        case XML_TEXT_NODE:
        case XML_CDATA_SECTION_NODE: {
            size_t len = k->content ? strlen((const char *)k->content) : 0;
            if (depth > 0) { /* text that came out of an entity counts against the budget */
                if (len > c->budget) {
                    c->err = -E2BIG;
                    break;
                }
                c->budget -= len;
            }
            if (b->len + len > FIELD_MAX)
                c->err = -E2BIG;
            else if (nw_buf_append(b, k->content, len) < 0)
                c->err = -ENOMEM;
            break;
        }
        case XML_ENTITY_REF_NODE: {
            /* only internal entities; never an external one, never past depth or budget */
            xmlEntityPtr e = (xmlEntityPtr)k->children;
            if (!e || e->etype != XML_INTERNAL_GENERAL_ENTITY)
                break;
            if (depth >= ENTITY_DEPTH) {
                c->err = -E2BIG;
                break;
            }
            text_into(c, e->children, b, depth + 1);
            break;
        }
        case XML_ELEMENT_NODE:
            text_into(c, k->children, b, depth);
            break;
        default:
            break;
        }
    }
}

/* The element's text (entities expanded within the budget), trimmed; NULL when empty. */
static char *
text(ctx_t *c, xmlNodePtr n)
{
    nw_buf_t b = {0};
    text_into(c, n->children, &b, 0);
    char *r = c->err || !b.data ? NULL : dup_trim((const char *)b.data);
    nw_buf_release(&b);
    return r;
}

/* An attribute's value (name in namespace ns, or without one), entities expanded under the
 * same budget as element text. libxml2's own getters (xmlGetProp, xmlNodeGetBase) expand entity
 * references in attributes without limit, quadratically, so they are not used on feed input. */
static char *
attr_ns(ctx_t *c, xmlNodePtr n, const char *name, const char *ns)
{
    for (xmlAttrPtr a = n->properties; a; a = a->next) {
        if (strcmp((const char *)a->name, name) != 0)
            continue;
        if (ns ? !(a->ns && a->ns->href && strcmp((const char *)a->ns->href, ns) == 0) : !!a->ns)
            continue;
        nw_buf_t b = {0};
        text_into(c, a->children, &b, 0);
        char *r = c->err || !b.data ? NULL : dup_trim((const char *)b.data);
        nw_buf_release(&b);
        return r;
    }
    return NULL;
}

static char *
attr(ctx_t *c, xmlNodePtr n, const char *name)
{
    return attr_ns(c, n, name, NULL);
}

/* Markup inside n, serialised: Atom type="xhtml" content and its wrapping <div>. */
static char *
inner_xml(ctx_t *c, xmlNodePtr n)
{
    xmlNodePtr from = n->children;
    xmlNodePtr only = NULL;
    int elems = 0;
    for (xmlNodePtr k = n->children; k; k = k->next)
        if (k->type == XML_ELEMENT_NODE) {
            only = k;
            elems++;
        }
    if (elems == 1 && strcmp(local_name(only), "div") == 0)
        from = only->children;
    xmlBufferPtr b = xmlBufferCreate();
    if (!b) {
        c->err = -ENOMEM;
        return NULL;
    }
    for (xmlNodePtr k = from; k; k = k->next)
        xmlNodeDump(b, c->doc, k, 0, 0);
    char *r = dup_trim((const char *)xmlBufferContent(b));
    xmlBufferFree(b);
    return r;
}

/* An Atom text construct (title, summary, content): text, escaped html or inline xhtml. */
/* Decode base64 text in place (Atom 0.3 mode="base64"); returns false when it is not base64. */
static bool
base64_decode(char *s)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint32_t acc = 0;
    int bits = 0;
    char *o = s;
    for (const char *p = s; *p; p++) {
        if (isspace((unsigned char)*p) || *p == '=')
            continue;
        const char *q = strchr(abc, *p);
        if (!q)
            return false;
        acc = (acc << 6) | (uint32_t)(q - abc);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *o++ = (char)((acc >> bits) & 0xFF);
        }
    }
    *o = '\0';
    return true;
}

/* An Atom text construct (title, summary, content): text, escaped html, inline xhtml, base64,
 * or markup published "naked" (child elements without a type saying so), kept as markup. */
static char *
atom_text(ctx_t *c, xmlNodePtr n)
{
    char *type = attr(c, n, "type");
    char *mode = attr(c, n, "mode");
    bool xhtml = (type && strstr(type, "xhtml")) || (mode && strcmp(mode, "xml") == 0);
    bool b64 = mode && strcmp(mode, "base64") == 0;
    free(type);
    free(mode);
    for (xmlNodePtr k = n->children; k && !xhtml; k = k->next)
        xhtml = k->type == XML_ELEMENT_NODE;
    if (xhtml)
        return inner_xml(c, n);
    char *t = text(c, n);
    if (t && b64 && !base64_decode(t)) {
        free(t);
        return NULL;
    }
    return t;
}

/* An RSS description or content: text (usually escaped HTML), or markup published "naked" as
 * child elements, which is kept as markup. */
static char *
rss_text(ctx_t *c, xmlNodePtr n)
{
    for (xmlNodePtr k = n->children; k; k = k->next)
        if (k->type == XML_ELEMENT_NODE)
            return inner_xml(c, n);
    return text(c, n);
}

/* ref resolved against an absolute base (RFC 3986, by uriparser); a copy of ref when either
 * does not parse or the base is not absolute. Caller frees; NULL only on ENOMEM. */
static char *
join_uri(const char *ref, const char *base)
{
    UriUriA r, b, abs;
    char *out = NULL;
    if (uriParseSingleUriA(&r, ref, NULL) != URI_SUCCESS)
        return strdup(ref);
    if (uriParseSingleUriA(&b, base, NULL) == URI_SUCCESS) {
        if (uriAddBaseUriA(&abs, &r, &b) == URI_SUCCESS) {
            int len = 0;
            if (uriToStringCharsRequiredA(&abs, &len) == URI_SUCCESS && (out = malloc(len + 1)))
                if (uriToStringA(out, &abs, len + 1, NULL) != URI_SUCCESS) {
                    free(out);
                    out = NULL;
                }
            uriFreeUriMembersA(&abs);
        }
        uriFreeUriMembersA(&b);
    }
    uriFreeUriMembersA(&r);
    return out ? out : strdup(ref);
}

/* The base URI in scope at n: the feed URL, refined by every xml:base from the root down. */
static char *
base_of(ctx_t *c, xmlNodePtr n)
{
    if (!n || n->type != XML_ELEMENT_NODE)
        return c->url ? strdup(c->url) : NULL;
    char *parent = base_of(c, n->parent);
    char *xb = attr_ns(c, n, "base", (const char *)XML_XML_NAMESPACE);
    if (!xb || !parent)
        return xb ? xb : parent;
    char *r = join_uri(xb, parent);
    free(xb);
    free(parent);
    return r;
}

/* Resolve a reference against xml:base in scope and the document URL; takes ref. */
static char *
resolve(ctx_t *c, xmlNodePtr n, char *ref)
{
    if (!ref)
        return NULL;
    char *base = base_of(c, n);
    if (!base)
        return ref;
    char *out = join_uri(ref, base);
    free(base);
    if (!out)
        return ref;
    free(ref);
    return out;
}

static int
add_enclosure(nw_feed_enclosure_t **arr, size_t *n, char *url, char *type, const char *len)
{
    if (!url) {
        free(type);
        return 0;
    }
    if (*n >= MAX_LIST) {
        free(url);
        free(type);
        return 0;
    }
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*arr)[i].url, url) == 0) {
            free(url);
            free(type);
            return 0;
        }
    nw_feed_enclosure_t *e = push((void **)arr, n, sizeof(*e));
    if (!e) {
        free(url);
        free(type);
        return -ENOMEM;
    }
    e->url = url;
    e->type = type;
    char *end = NULL;
    long long v = len ? strtoll(len, &end, 10) : -1;
    e->length = (len && end != len && *end == '\0' && v >= 0) ? v : -1;
    return 0;
}

/* An Atom person construct, or an RSS/DC string when the element has no children. */
static int
add_person_node(ctx_t *c, nw_feed_person_t **arr, size_t *n, xmlNodePtr node)
{
    bool structured = false;
    char *name = NULL, *email = NULL, *uri = NULL;
    for (xmlNodePtr k = node->children; k; k = k->next) {
        if (k->type != XML_ELEMENT_NODE)
            continue;
        structured = true;
        const char *ln = local_name(k);
        if (strcmp(ln, "name") == 0)
            set_once(&name, text(c, k));
        else if (strcmp(ln, "email") == 0)
            set_once(&email, text(c, k));
        else if (strcmp(ln, "uri") == 0 || strcmp(ln, "url") == 0)
            set_once(&uri, resolve(c, k, text(c, k)));
    }
    if (!structured) {
        char *t = text(c, node);
        int rc = add_person(arr, n, t);
        free(t);
        return rc;
    }
    if (!name && !email && !uri)
        return 0;
    nw_feed_person_t *p = push((void **)arr, n, sizeof(*p));
    if (!p) {
        free(name);
        free(email);
        free(uri);
        return -ENOMEM;
    }
    p->name = name;
    p->email = email;
    p->uri = uri;
    return 0;
}

/* ---------------------------------------------------------------- RSS */

/* itunes:keywords: one comma-separated list. */
static int
push_keywords(ctx_t *c, char ***arr, size_t *n, xmlNodePtr k)
{
    char *t = text(c, k);
    int rc = 0;
    for (char *save = NULL, *tok = t ? strtok_r(t, ",", &save) : NULL; tok && !rc;
         tok = strtok_r(NULL, ",", &save))
        rc = push_str(arr, n, dup_trim(tok));
    free(t);
    return rc;
}

/* itunes:category text="..." with nested subcategories, parent first. */
static int
push_itunes_category(ctx_t *c, char ***arr, size_t *n, xmlNodePtr k, int depth)
{
    int rc = push_str(arr, n, attr(c, k, "text"));
    for (xmlNodePtr s = k->children; s && !rc && depth < 4; s = s->next)
        if (s->type == XML_ELEMENT_NODE && ns_of(s) == NS_ITUNES &&
            strcmp(local_name(s), "category") == 0)
            rc = push_itunes_category(c, arr, n, s, depth + 1);
    return rc;
}

/* Author sources in order of preference; the first present wins, as in gofeed. */
enum { AU_MAIN, AU_DC_AUTHOR, AU_DC_CREATOR, AU_ATOM, AU_ITUNES, AU_N };

static int
rss_item(ctx_t *c, nw_feed_t *f, xmlNodePtr it)
{
    nw_feed_item_t *item = push((void **)&f->items, &f->n_items, sizeof(*item));
    if (!item)
        return -ENOMEM;
    xmlNodePtr au[AU_N] = {0};
    char *dc_title = NULL, *dc_desc = NULL, *it_summary = NULL, *atom_content = NULL;
    char *text_link = NULL, *href_link = NULL;
    char **kw = NULL, **subj = NULL, **terms = NULL;
    size_t n_kw = 0, n_subj = 0, n_terms = 0;
    int rc = 0;
    for (xmlNodePtr k = it->children; k && !c->err; k = k->next) {
        if (k->type != XML_ELEMENT_NODE)
            continue;
        enum ns ns = ns_of(k);
        const char *ln = local_name(k);
        if (ns == NS_NONE || ns == NS_RSS) {
            if (strcmp(ln, "title") == 0)
                set_once(&item->title, text(c, k));
            else if (strcmp(ln, "link") == 0) {
                char *h = attr(c, k, "href");
                if (h)
                    set_over(&href_link, resolve(c, k, h));
                else
                    set_once(&text_link, resolve(c, k, text(c, k)));
            } else if (strcmp(ln, "guid") == 0)
                set_once(&item->id, text(c, k));
            else if (strcmp(ln, "description") == 0)
                set_once(&item->summary, rss_text(c, k));
            else if (strcmp(ln, "pubDate") == 0) {
                char *t = text(c, k);
                set_date(&item->published, &item->published_ts, t, false);
                free(t);
            } else if (strcmp(ln, "author") == 0 && !au[AU_MAIN])
                au[AU_MAIN] = k;
            else if (strcmp(ln, "category") == 0)
                rc = push_str(&item->categories, &item->n_categories, text(c, k));
            else if (strcmp(ln, "enclosure") == 0) {
                char *len = attr(c, k, "length");
                rc = add_enclosure(&item->enclosures, &item->n_enclosures,
                                   resolve(c, k, attr(c, k, "url")), attr(c, k, "type"), len);
                free(len);
            }
        } else if (ns == NS_CONTENT && strcmp(ln, "encoded") == 0) {
            set_once(&item->content, rss_text(c, k));
        } else if (ns == NS_XHTML && strcmp(ln, "body") == 0) {
            set_once(&item->content, inner_xml(c, k));
        } else if (ns == NS_DC) {
            if (strcmp(ln, "title") == 0)
                set_once(&dc_title, text(c, k));
            else if (strcmp(ln, "description") == 0)
                set_once(&dc_desc, text(c, k));
            else if (strcmp(ln, "date") == 0) {
                char *t = text(c, k);
                set_date(&item->published, &item->published_ts, t, false);
                set_date(&item->updated, &item->updated_ts, t, false);
                free(t);
            } else if (strcmp(ln, "issued") == 0 || strcmp(ln, "created") == 0) {
                char *t = text(c, k);
                set_date(&item->published, &item->published_ts, t, false);
                free(t);
            } else if (strcmp(ln, "modified") == 0) {
                char *t = text(c, k);
                set_date(&item->updated, &item->updated_ts, t, false);
                free(t);
            } else if (strcmp(ln, "creator") == 0 && !au[AU_DC_CREATOR])
                au[AU_DC_CREATOR] = k;
            else if (strcmp(ln, "author") == 0 && !au[AU_DC_AUTHOR])
                au[AU_DC_AUTHOR] = k;
            else if (strcmp(ln, "subject") == 0)
                rc = push_str(&subj, &n_subj, text(c, k));
        } else if (ns == NS_ATOM || ns == NS_ATOM03) {
            if (strcmp(ln, "link") == 0) {
                char *rel = attr(c, k, "rel");
                if (!rel || strcmp(rel, "alternate") == 0)
                    set_once(&href_link, resolve(c, k, attr(c, k, "href")));
                else if (strcmp(rel, "enclosure") == 0) {
                    char *len = attr(c, k, "length");
                    rc = add_enclosure(&item->enclosures, &item->n_enclosures,
                                       resolve(c, k, attr(c, k, "href")), attr(c, k, "type"), len);
                    free(len);
                }
                free(rel);
            } else if (strcmp(ln, "content") == 0)
                set_once(&atom_content, atom_text(c, k));
            else if (strcmp(ln, "summary") == 0)
                set_once(&dc_desc, atom_text(c, k));
            else if (strcmp(ln, "published") == 0) {
                char *t = text(c, k);
                set_date(&item->published, &item->published_ts, t, false);
                free(t);
            } else if (strcmp(ln, "updated") == 0) {
                char *t = text(c, k);
                set_date(&item->updated, &item->updated_ts, t, false);
                free(t);
            } else if (strcmp(ln, "author") == 0 && !au[AU_ATOM])
                au[AU_ATOM] = k;
            else if (strcmp(ln, "category") == 0)
                rc = push_str(&terms, &n_terms, attr(c, k, "term"));
        } else if (ns == NS_ITUNES) {
            if (strcmp(ln, "summary") == 0)
                set_once(&it_summary, text(c, k));
            else if (strcmp(ln, "author") == 0 && !au[AU_ITUNES])
                au[AU_ITUNES] = k;
            else if (strcmp(ln, "keywords") == 0)
                rc = push_keywords(c, &kw, &n_kw, k);
            else if (strcmp(ln, "category") == 0)
                rc = push_itunes_category(c, &kw, &n_kw, k, 0);
        } else if (ns == NS_MEDIA && (strcmp(ln, "content") == 0 || strcmp(ln, "thumbnail") == 0)) {
            /* simple media items only: one URL, an optional type and size */
            char *len = attr(c, k, "fileSize");
            char *type = attr(c, k, "type");
            if (!type && strcmp(ln, "thumbnail") == 0)
                type = strdup("image");
            rc = add_enclosure(&item->enclosures, &item->n_enclosures,
                               resolve(c, k, attr(c, k, "url")), type, len);
            free(len);
        }
        if (rc)
            break;
    }
    set_once(&item->title, dc_title);
    set_once(&item->summary, dc_desc);
    set_once(&item->summary, it_summary);
    set_once(&item->content, atom_content);
    set_once(&item->link, href_link);
    set_once(&item->link, text_link);
    if (!item->link && item->id && strncmp(item->id, "http", 4) == 0) {
        /* RSS 2.0: a guid that is a permalink is the item's link */
        xmlNodePtr g = NULL;
        for (xmlNodePtr k = it->children; k; k = k->next)
            if (k->type == XML_ELEMENT_NODE && is(k, NS_NONE, "guid"))
                g = k;
        char *pl = g ? attr(c, g, "isPermaLink") : NULL;
        if (!pl || strcasecmp(pl, "false") != 0)
            item->link = strdup(item->id);
        free(pl);
    }
    for (size_t i = 0; i < n_kw && !rc; i++, kw[i - 1] = NULL)
        rc = push_str(&item->categories, &item->n_categories, kw[i]);
    for (size_t i = 0; i < n_subj && !rc; i++, subj[i - 1] = NULL)
        rc = push_str(&item->categories, &item->n_categories, subj[i]);
    for (size_t i = 0; i < n_terms && !rc; i++, terms[i - 1] = NULL)
        rc = push_str(&item->categories, &item->n_categories, terms[i]);
    for (int a = 0; a < AU_N && !rc; a++)
        if (au[a]) {
            rc = add_person_node(c, &item->authors, &item->n_authors, au[a]);
            break;
        }
    for (size_t i = 0; i < n_kw; i++)
        free(kw[i]);
    for (size_t i = 0; i < n_subj; i++)
        free(subj[i]);
    for (size_t i = 0; i < n_terms; i++)
        free(terms[i]);
    free(kw);
    free(subj);
    free(terms);
    return rc;
}

static int
rss_channel(ctx_t *c, nw_feed_t *f, xmlNodePtr ch)
{
    xmlNodePtr au[AU_N + 1] = {0}; /* managingEditor, then webMaster at AU_N */
    char *dc_title = NULL, *dc_desc = NULL, *it_summary = NULL, *dc_lang = NULL;
    char *text_link = NULL, *href_link = NULL;
    int rc = 0;
    for (xmlNodePtr k = ch->children; k && !c->err && !rc; k = k->next) {
        if (k->type != XML_ELEMENT_NODE)
            continue;
        enum ns ns = ns_of(k);
        const char *ln = local_name(k);
        if (ns == NS_NONE || ns == NS_RSS) {
            if (strcmp(ln, "title") == 0)
                set_once(&f->title, text(c, k));
            else if (strcmp(ln, "link") == 0) {
                char *h = attr(c, k, "href");
                if (h)
                    set_over(&href_link, resolve(c, k, h));
                else
                    set_once(&text_link, resolve(c, k, text(c, k)));
            } else if (strcmp(ln, "description") == 0)
                set_once(&f->description, text(c, k));
            else if (strcmp(ln, "language") == 0)
                set_once(&f->language, text(c, k));
            else if (strcmp(ln, "lastBuildDate") == 0) {
                char *t = text(c, k);
                set_date(&f->updated, &f->updated_ts, t, false);
                free(t);
            } else if (strcmp(ln, "pubDate") == 0) {
                char *t = text(c, k);
                set_date(&f->published, &f->published_ts, t, false);
                free(t);
            } else if (strcmp(ln, "managingEditor") == 0 && !au[AU_MAIN])
                au[AU_MAIN] = k;
            else if ((strcmp(ln, "webMaster") == 0 || strcmp(ln, "author") == 0) && !au[AU_N])
                au[AU_N] = k; /* <author> is not RSS 2.0 in a channel, but publishers use it */
            else if (strcmp(ln, "category") == 0)
                rc = push_str(&f->categories, &f->n_categories, text(c, k));
            else if (strcmp(ln, "item") == 0)
                rc = rss_item(c, f, k);
        } else if (ns == NS_DC) {
            if (strcmp(ln, "title") == 0)
                set_once(&dc_title, text(c, k));
            else if (strcmp(ln, "description") == 0)
                set_once(&dc_desc, text(c, k));
            else if (strcmp(ln, "language") == 0)
                set_once(&dc_lang, text(c, k));
            else if (strcmp(ln, "date") == 0) {
                char *t = text(c, k);
                set_date(&f->updated, &f->updated_ts, t, false);
                free(t);
            } else if (strcmp(ln, "issued") == 0 || strcmp(ln, "created") == 0) {
                char *t = text(c, k);
                set_date(&f->published, &f->published_ts, t, false);
                free(t);
            } else if (strcmp(ln, "modified") == 0) {
                char *t = text(c, k);
                set_date(&f->updated, &f->updated_ts, t, false);
                free(t);
            } else if (strcmp(ln, "creator") == 0 && !au[AU_DC_CREATOR])
                au[AU_DC_CREATOR] = k;
            else if (strcmp(ln, "author") == 0 && !au[AU_DC_AUTHOR])
                au[AU_DC_AUTHOR] = k;
            else if (strcmp(ln, "subject") == 0)
                rc = push_str(&f->categories, &f->n_categories, text(c, k));
        } else if (ns == NS_ATOM || ns == NS_ATOM03) {
            if (strcmp(ln, "link") == 0) {
                char *rel = attr(c, k, "rel");
                if (rel && strcmp(rel, "self") == 0)
                    set_once(&f->feed_link, resolve(c, k, attr(c, k, "href")));
                else if (!rel || strcmp(rel, "alternate") == 0)
                    set_once(&href_link, resolve(c, k, attr(c, k, "href")));
                free(rel);
            } else if (strcmp(ln, "author") == 0 && !au[AU_ATOM])
                au[AU_ATOM] = k;
        } else if (ns == NS_ITUNES) {
            if (strcmp(ln, "summary") == 0)
                set_once(&it_summary, text(c, k));
            else if (strcmp(ln, "author") == 0 && !au[AU_ITUNES])
                au[AU_ITUNES] = k;
            else if (strcmp(ln, "keywords") == 0)
                rc = push_keywords(c, &f->categories, &f->n_categories, k);
            else if (strcmp(ln, "category") == 0)
                rc = push_itunes_category(c, &f->categories, &f->n_categories, k, 0);
        }
    }
    set_once(&f->title, dc_title);
    set_once(&f->description, dc_desc);
    set_once(&f->description, it_summary);
    set_once(&f->language, dc_lang);
    set_once(&f->link, href_link);
    set_once(&f->link, text_link);
    xmlNodePtr order[] = {au[AU_MAIN],       au[AU_N],    au[AU_DC_AUTHOR],
                          au[AU_DC_CREATOR], au[AU_ATOM], au[AU_ITUNES]};
    for (size_t a = 0; a < sizeof(order) / sizeof(order[0]) && !rc; a++)
        if (order[a]) {
            rc = add_person_node(c, &f->authors, &f->n_authors, order[a]);
            break;
        }
    return rc;
}

static int
rss_parse(ctx_t *c, nw_feed_t *f, xmlNodePtr root)
{
    f->type = "rss";
    char *v = attr(c, root, "version");
    static const char *const known[] = {"0.90", "0.91", "0.92", "0.93", "0.94", "2.0"};
    f->version = "";
    if (strcmp(local_name(root), "RDF") == 0) {
        xmlNsPtr def = xmlSearchNs(root->doc, root, NULL);
        f->version =
            def && def->href &&
                    strcmp((const char *)def->href, "http://my.netscape.com/rdf/simple/0.9/") == 0
                ? "0.90"
                : "1.0";
    }
    for (size_t i = 0; v && i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(v, known[i]) == 0)
            f->version = known[i];
    if (v && !*f->version && strncmp(v, "2.", 2) == 0)
        f->version = "2.0";
    free(v);
    int rc = 0;
    for (xmlNodePtr k = root->children; k && !rc && !c->err; k = k->next) {
        if (k->type != XML_ELEMENT_NODE)
            continue;
        if (strcmp(local_name(k), "channel") == 0)
            rc = rss_channel(c, f, k);
        else if (strcmp(local_name(k), "item") == 0) /* RSS 0.90 / 1.0: items beside channel */
            rc = rss_item(c, f, k);
    }
    return rc;
}

/* ---------------------------------------------------------------- Atom */

/* An Atom category: its human label when it has one, else its term. */
static char *
category(ctx_t *c, xmlNodePtr k)
{
    char *label = attr(c, k, "label");
    return label ? label : attr(c, k, "term");
}

static void
atom_date(ctx_t *c, xmlNodePtr k, char **dst, int64_t *ts)
{
    char *t = text(c, k);
    set_date(dst, ts, t, false);
    free(t);
}

static int
atom_link(ctx_t *c, xmlNodePtr k, char **alt, char **self, nw_feed_enclosure_t **enc, size_t *n_enc)
{
    char *rel = attr(c, k, "rel");
    int rc = 0;
    if (!rel || strcmp(rel, "alternate") == 0)
        set_once(alt, resolve(c, k, attr(c, k, "href")));
    else if (self && strcmp(rel, "self") == 0)
        set_once(self, resolve(c, k, attr(c, k, "href")));
    else if (enc && strcmp(rel, "enclosure") == 0) {
        char *len = attr(c, k, "length");
        rc = add_enclosure(enc, n_enc, resolve(c, k, attr(c, k, "href")), attr(c, k, "type"), len);
        free(len);
    }
    free(rel);
    return rc;
}

/* A child in its parent's namespace: Atom drafts used namespaces that never became standard
 * (purl.org/echo and others), and their elements are still Atom's. */
static bool
home_ns(xmlNodePtr parent, xmlNodePtr k)
{
    return parent->ns && k->ns && parent->ns->href && k->ns->href &&
           xmlStrEqual(parent->ns->href, k->ns->href);
}

static int
atom_entry(ctx_t *c, nw_feed_t *f, xmlNodePtr e)
{
    nw_feed_item_t *item = push((void **)&f->items, &f->n_items, sizeof(*item));
    if (!item)
        return -ENOMEM;
    char *created = NULL;
    int64_t created_ts = 0;
    int rc = 0;
    for (xmlNodePtr k = e->children; k && !rc && !c->err; k = k->next) {
        if (k->type != XML_ELEMENT_NODE)
            continue;
        enum ns ns = ns_of(k);
        const char *ln = local_name(k);
        if (ns == NS_MEDIA && (strcmp(ln, "content") == 0 || strcmp(ln, "thumbnail") == 0)) {
            char *len = attr(c, k, "fileSize");
            rc = add_enclosure(&item->enclosures, &item->n_enclosures,
                               resolve(c, k, attr(c, k, "url")), attr(c, k, "type"), len);
            free(len);
            continue;
        }
        if (ns != NS_ATOM && ns != NS_ATOM03 && ns != NS_NONE && !home_ns(e, k))
            continue;
        if (strcmp(ln, "id") == 0)
            set_once(&item->id, text(c, k));
        else if (strcmp(ln, "title") == 0)
            set_once(&item->title, atom_text(c, k));
        else if (strcmp(ln, "link") == 0)
            rc = atom_link(c, k, &item->link, NULL, &item->enclosures, &item->n_enclosures);
        else if (strcmp(ln, "published") == 0 || strcmp(ln, "issued") == 0)
            atom_date(c, k, &item->published, &item->published_ts);
        else if (strcmp(ln, "updated") == 0 || strcmp(ln, "modified") == 0)
            atom_date(c, k, &item->updated, &item->updated_ts);
        else if (strcmp(ln, "created") == 0)
            atom_date(c, k, &created, &created_ts);
        else if (strcmp(ln, "author") == 0)
            rc = add_person_node(c, &item->authors, &item->n_authors, k);
        else if (strcmp(ln, "summary") == 0)
            set_once(&item->summary, atom_text(c, k));
        else if (strcmp(ln, "content") == 0)
            set_once(&item->content, atom_text(c, k));
        else if (strcmp(ln, "category") == 0)
            rc = push_str(&item->categories, &item->n_categories, category(c, k));
    }
    if (!item->published && created) {
        item->published = created;
        item->published_ts = created_ts;
        created = NULL;
    }
    free(created);
    /* an entry with only a modification date was first published then, as far as we know */
    if (!rc && !item->published && item->updated) {
        item->published = strdup(item->updated);
        item->published_ts = item->updated_ts;
        rc = item->published ? 0 : -ENOMEM;
    }
    return rc;
}

static int
atom_parse(ctx_t *c, nw_feed_t *f, xmlNodePtr root)
{
    f->type = "atom";
    char *v = attr(c, root, "version");
    f->version = (ns_of(root) == NS_ATOM03 || (v && strcmp(v, "0.3") == 0)) ? "0.3" : "1.0";
    free(v);
    f->language = attr_ns(c, root, "lang", (const char *)XML_XML_NAMESPACE);
    int rc = 0;
    for (xmlNodePtr k = root->children; k && !rc && !c->err; k = k->next) {
        if (k->type != XML_ELEMENT_NODE)
            continue;
        enum ns ns = ns_of(k);
        if (ns != NS_ATOM && ns != NS_ATOM03 && ns != NS_NONE && !home_ns(root, k))
            continue;
        const char *ln = local_name(k);
        if (strcmp(ln, "title") == 0)
            set_once(&f->title, atom_text(c, k));
        else if (strcmp(ln, "subtitle") == 0 || strcmp(ln, "tagline") == 0)
            set_once(&f->description, atom_text(c, k));
        else if (strcmp(ln, "link") == 0)
            rc = atom_link(c, k, &f->link, &f->feed_link, NULL, NULL);
        else if (strcmp(ln, "updated") == 0 || strcmp(ln, "modified") == 0)
            atom_date(c, k, &f->updated, &f->updated_ts);
        else if (strcmp(ln, "published") == 0 || strcmp(ln, "issued") == 0)
            atom_date(c, k, &f->published, &f->published_ts);
        else if (strcmp(ln, "author") == 0)
            rc = add_person_node(c, &f->authors, &f->n_authors, k);
        else if (strcmp(ln, "category") == 0)
            rc = push_str(&f->categories, &f->n_categories, category(c, k));
        else if (strcmp(ln, "entry") == 0)
            rc = atom_entry(c, f, k);
    }
    return rc;
}

/* ---------------------------------------------------------------- JSON Feed */

static char *
jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (json_is_string(v))
        return dup_trim(json_string_value(v));
    if (json_is_integer(v)) { /* ids are sometimes numbers */
        char buf[32];
        snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
        return strdup(buf);
    }
    return NULL;
}

static int
json_authors(json_t *o, nw_feed_person_t **arr, size_t *n)
{
    json_t *list = json_object_get(o, "authors"), *one = json_object_get(o, "author");
    size_t cnt = json_is_array(list) ? json_array_size(list) : 0;
    for (size_t i = 0; i < cnt + (json_is_object(one) && !cnt ? 1 : 0); i++) {
        json_t *a = cnt ? json_array_get(list, i) : one;
        if (!json_is_object(a))
            continue;
        char *name = jstr(a, "name"), *url = jstr(a, "url");
        if (!name && !url)
            continue;
        nw_feed_person_t *p = push((void **)arr, n, sizeof(*p));
        if (!p) {
            free(name);
            free(url);
            return -ENOMEM;
        }
        p->name = name;
        if (url && strncasecmp(url, "mailto:", 7) == 0) {
            p->email = strdup(url + 7);
            free(url);
        } else
            p->uri = url;
    }
    return 0;
}

static int
json_parse(nw_feed_t *f, json_t *root)
{
    f->type = "json";
    const char *v = json_string_value(json_object_get(root, "version"));
    if (!(v && strstr(v, "jsonfeed")) && !json_is_array(json_object_get(root, "items")))
        return -EPROTO; /* some other JSON document */
    f->version = v && strstr(v, "1.1") ? "1.1" : "1.0";
    f->title = jstr(root, "title");
    f->link = jstr(root, "home_page_url");
    f->feed_link = jstr(root, "feed_url");
    f->description = jstr(root, "description");
    f->language = jstr(root, "language");
    int rc = json_authors(root, &f->authors, &f->n_authors);
    json_t *items = json_object_get(root, "items");
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        if (rc || !json_is_object(it))
            continue;
        nw_feed_item_t *item = push((void **)&f->items, &f->n_items, sizeof(*item));
        if (!item)
            return -ENOMEM;
        item->id = jstr(it, "id");
        item->link = jstr(it, "url");
        item->title = jstr(it, "title");
        item->summary = jstr(it, "summary");
        item->content = jstr(it, "content_html");
        set_once(&item->content, jstr(it, "content_text"));
        char *d = jstr(it, "date_published");
        set_date(&item->published, &item->published_ts, d, false);
        free(d);
        d = jstr(it, "date_modified");
        set_date(&item->updated, &item->updated_ts, d, false);
        free(d);
        rc = json_authors(it, &item->authors, &item->n_authors);
        size_t j;
        json_t *x;
        json_array_foreach(json_object_get(it, "tags"), j, x)
        {
            if (!rc && json_is_string(x))
                rc = push_str(&item->categories, &item->n_categories,
                              dup_trim(json_string_value(x)));
        }
        json_array_foreach(json_object_get(it, "attachments"), j, x)
        {
            if (rc || !json_is_object(x))
                continue;
            json_t *size = json_object_get(x, "size_in_bytes");
            char len[32];
            snprintf(len, sizeof(len), "%lld",
                     json_is_integer(size) ? (long long)json_integer_value(size) : -1LL);
            rc = add_enclosure(&item->enclosures, &item->n_enclosures, jstr(x, "url"),
                               jstr(x, "mime_type"), len);
        }
    }
    return rc;
}

/* ---------------------------------------------------------------- entry points */

/* Structured error sink: keep the first message as the bozo reason; print nothing. */
static void
on_xml_error(void *data, xmlErrorPtr err)
{
    xmlParserCtxtPtr pc = data;
    ctx_t *c = pc ? pc->_private : NULL;
    if (!c || c->have_reason || !err || err->level < XML_ERR_ERROR)
        return;
    snprintf(c->reason, sizeof(c->reason), "line %d: %s", err->line,
             err->message ? err->message : "xml error");
    size_t n = strlen(c->reason);
    while (n > 0 && (c->reason[n - 1] == '\n' || c->reason[n - 1] == ' '))
        c->reason[--n] = '\0';
    c->have_reason = true;
}

/* Feeds use HTML's named entities (&eacute;, &nbsp;) without declaring them, and bare
 * ampersands, both of which XML rejects and a recovering parser drops, losing the character.
 * When the document declares no entities of its own, rewrite each HTML entity outside CDATA to a
 * character reference and each bare '&' to "&amp;". Only for ASCII-compatible encodings (no NUL
 * in the first bytes). Returns 1 with *out (caller frees) when something changed, else 0, or
 * -ENOMEM. */
static int
html_entities(const uint8_t *buf, size_t len, uint8_t **out, size_t *out_len)
{
    nw_buf_t b = {0};
    size_t last = 0;
    *out = NULL;
    if (memchr(buf, '\0', len < 4 ? len : 4) || memmem(buf, len, "<!ENTITY", 8))
        return 0;
    for (size_t i = 0; i < len; i++) {
        /* CDATA, comments and processing instructions may hold a literal '&' */
        static const struct {
            const char *open, *close;
        } skip[] = {{"<![CDATA[", "]]>"}, {"<!--", "-->"}, {"<?", "?>"}};
        bool skipped = false;
        for (size_t k = 0; buf[i] == '<' && k < sizeof(skip) / sizeof(skip[0]); k++) {
            size_t ol = strlen(skip[k].open);
            if (len - i >= ol && memcmp(buf + i, skip[k].open, ol) == 0) {
                size_t cl = strlen(skip[k].close);
                const uint8_t *end = memmem(buf + i + ol, len - i - ol, skip[k].close, cl);
                i = end ? (size_t)(end - buf) + cl - 1 : len;
                skipped = true;
                break;
            }
        }
        if (skipped)
            continue;
        if (buf[i] != '&')
            continue;
        size_t j = i + 1;
        if (j < len && buf[j] == '#')
            continue; /* character references are XML */
        while (j < len && j - i < 12 && isalnum(buf[j]))
            j++;
        if (j >= len || buf[j] != ';' || j == i + 1) {
            /* a bare ampersand ("AT&T", "a & b"): what the publisher meant is the character */
            if (nw_buf_append(&b, buf + last, i + 1 - last) < 0 || nw_buf_puts(&b, "amp;") < 0)
                goto nomem;
            last = i + 1;
            continue;
        }
        char name[16];
        memcpy(name, buf + i + 1, j - i - 1);
        name[j - i - 1] = '\0';
        if (!strcmp(name, "amp") || !strcmp(name, "lt") || !strcmp(name, "gt") ||
            !strcmp(name, "quot") || !strcmp(name, "apos"))
            continue;
        const htmlEntityDesc *h = htmlEntityLookup((const xmlChar *)name);
        if (!h)
            continue;
        if (nw_buf_append(&b, buf + last, i - last) < 0 || nw_buf_printf(&b, "&#%u;", h->value) < 0)
            goto nomem;
        last = j + 1;
        i = j;
    }
    if (!b.data)
        return 0;
    if (nw_buf_append(&b, buf + last, len - last) < 0)
        goto nomem;
    *out = nw_buf_steal(&b, out_len);
    return 1;
nomem:
    nw_buf_release(&b);
    return -ENOMEM;
}

static int
xml_parse(const uint8_t *buf, size_t len, const char *url, nw_feed_t *f)
{
    ctx_t c = {.url = url, .budget = TEXT_BUDGET};
    xmlParserCtxtPtr pc = NULL;
    uint8_t *fixed = NULL;
    size_t fixed_len = 0;
    int rc = -EPROTO;
    if (len > INT_MAX)
        return -EPROTO;
    int rewritten = html_entities(buf, len, &fixed, &fixed_len);
    if (rewritten < 0)
        return rewritten;
    if (fixed) {
        buf = fixed;
        len = fixed_len;
        if (len > INT_MAX)
            goto done;
    }
    xmlInitParser();
    pc = xmlNewParserCtxt();
    if (!pc) {
        rc = -ENOMEM;
        goto done;
    }
    pc->_private = &c;
    pc->sax->serror = on_xml_error;
    c.doc = xmlCtxtReadMemory(pc, (const char *)buf, (int)len, url, NULL, XML_OPTS);
    int code = pc->lastError.code;
    bool wellformed = pc->wellFormed && pc->nsWellFormed && !fixed;
    if (fixed && !c.have_reason) {
        snprintf(c.reason, sizeof(c.reason), "undeclared entity or bare ampersand replaced");
        c.have_reason = true;
    }
    /* amplification and loops are attacks, not sloppiness: give up rather than recover */
    if (code == XML_ERR_ENTITY_LOOP || code == XML_ERR_ENTITY_BOUNDARY)
        goto done;
    xmlNodePtr root = c.doc ? xmlDocGetRootElement(c.doc) : NULL;
    if (!root)
        goto done;
    const char *ln = local_name(root);
    if (strcmp(ln, "rss") == 0 || strcmp(ln, "RDF") == 0 || strcmp(ln, "channel") == 0)
        rc = strcmp(ln, "channel") == 0 ? rss_channel(&c, f, root) : rss_parse(&c, f, root);
    else if (strcmp(ln, "feed") == 0)
        rc = atom_parse(&c, f, root);
    else
        goto done;
    if (strcmp(ln, "channel") == 0) {
        f->type = "rss";
        f->version = "";
    }
    if (c.err)
        rc = c.err == -ENOMEM ? -ENOMEM : -EPROTO;
    if (rc == 0 && !wellformed) {
        f->bozo = true;
        f->bozo_reason = strdup(c.have_reason ? c.reason : "document is not well-formed");
        if (!f->bozo_reason)
            rc = -ENOMEM;
    }
done:
    xmlFreeDoc(c.doc);
    xmlFreeParserCtxt(pc);
    free(fixed);
    return rc;
}

int
nw_feed_parse(const uint8_t *buf, size_t len, const char *url_or_null, nw_feed_t **out)
{
    nw_feed_t *f = NULL;
    json_t *root = NULL;
    int rc;
    if (!out || (!buf && len))
        return -EINVAL;
    *out = NULL;
    size_t i = 0;
    if (len >= 3 && buf[0] == 0xEF && buf[1] == 0xBB && buf[2] == 0xBF)
        i = 3; /* a UTF-8 BOM in front of JSON */
    while (i < len && isspace(buf[i]))
        i++;
    if (i == len)
        return -EPROTO;
    f = calloc(1, sizeof(*f));
    if (!f)
        return -ENOMEM;
    f->type = "";
    f->version = "";
    if (buf[i] == '{') {
        json_error_t jerr;
        root = json_loadb((const char *)buf + i, len - i, 0, &jerr);
        rc = json_is_object(root) ? json_parse(f, root) : -EPROTO;
    } else {
        rc = xml_parse(buf, len, url_or_null, f);
    }
    if (rc < 0)
        goto err;
    json_decref(root);
    *out = f;
    return 0;
err:
    json_decref(root);
    nw_feed_free(&f);
    return rc;
}

static void
free_people(nw_feed_person_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(p[i].name);
        free(p[i].email);
        free(p[i].uri);
    }
    free(p);
}

static void
free_strs(char **s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(s[i]);
    free(s);
}

void
nw_feed_free(nw_feed_t **fp)
{
    if (!fp || !*fp)
        return;
    nw_feed_t *f = *fp;
    for (size_t i = 0; i < f->n_items; i++) {
        nw_feed_item_t *it = &f->items[i];
        free(it->id);
        free(it->link);
        free(it->title);
        free_people(it->authors, it->n_authors);
        free(it->published);
        free(it->updated);
        free(it->summary);
        free(it->content);
        free_strs(it->categories, it->n_categories);
        for (size_t j = 0; j < it->n_enclosures; j++) {
            free(it->enclosures[j].url);
            free(it->enclosures[j].type);
        }
        free(it->enclosures);
    }
    free(f->items);
    free(f->title);
    free(f->link);
    free(f->feed_link);
    free(f->description);
    free(f->language);
    free(f->updated);
    free(f->published);
    free_people(f->authors, f->n_authors);
    free_strs(f->categories, f->n_categories);
    free(f->bozo_reason);
    free(f);
    *fp = NULL;
}

/* ---------------------------------------------------------------- JSON output */

static int
put_str(json_t *o, const char *key, const char *v)
{
    if (!v)
        return 0;
    json_t *s = json_string(v);
    if (!s) /* not UTF-8 (a JSON Feed cannot carry that, XML is converted): drop the field */
        return 0;
    return json_object_set_new(o, key, s) ? -ENOMEM : 0;
}

static int
put_people(json_t *o, const nw_feed_person_t *p, size_t n)
{
    if (!n)
        return 0;
    json_t *a = json_array();
    if (!a || json_object_set_new(o, "authors", a))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_object();
        if (!x || json_array_append_new(a, x) || put_str(x, "name", p[i].name) ||
            put_str(x, "email", p[i].email) || put_str(x, "uri", p[i].uri))
            return -ENOMEM;
    }
    return 0;
}

static int
put_strs(json_t *o, const char *key, char *const *s, size_t n)
{
    if (!n)
        return 0;
    json_t *a = json_array();
    if (!a || json_object_set_new(o, key, a))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_string(s[i]);
        if (x && json_array_append_new(a, x))
            return -ENOMEM;
    }
    return 0;
}

int
nw_feed_to_json(const nw_feed_t *f, nw_buf_t *out)
{
    json_t *root = NULL;
    char *text = NULL;
    int rc = -ENOMEM;
    if (!f || !out)
        return -EINVAL;
    root = json_object();
    if (!root || put_str(root, "type", f->type) || put_str(root, "version", f->version) ||
        json_object_set_new(root, "bozo", json_boolean(f->bozo)) ||
        put_str(root, "bozo_reason", f->bozo_reason) || put_str(root, "title", f->title) ||
        put_str(root, "link", f->link) || put_str(root, "feed_link", f->feed_link) ||
        put_str(root, "description", f->description) || put_str(root, "language", f->language) ||
        put_str(root, "updated", f->updated) || put_str(root, "published", f->published) ||
        put_people(root, f->authors, f->n_authors) ||
        put_strs(root, "categories", f->categories, f->n_categories))
        goto done;
    json_t *items = json_array();
    if (!items || json_object_set_new(root, "items", items))
        goto done;
    for (size_t i = 0; i < f->n_items; i++) {
        const nw_feed_item_t *it = &f->items[i];
        json_t *o = json_object();
        if (!o || json_array_append_new(items, o) || put_str(o, "id", it->id) ||
            put_str(o, "link", it->link) || put_str(o, "title", it->title) ||
            put_people(o, it->authors, it->n_authors) || put_str(o, "published", it->published) ||
            put_str(o, "updated", it->updated) || put_str(o, "summary", it->summary) ||
            put_str(o, "content", it->content) ||
            put_strs(o, "categories", it->categories, it->n_categories))
            goto done;
        if (it->n_enclosures) {
            json_t *a = json_array();
            if (!a || json_object_set_new(o, "enclosures", a))
                goto done;
            for (size_t j = 0; j < it->n_enclosures; j++) {
                const nw_feed_enclosure_t *e = &it->enclosures[j];
                json_t *x = json_object();
                if (!x || json_array_append_new(a, x) || put_str(x, "url", e->url) ||
                    put_str(x, "type", e->type) ||
                    (e->length >= 0 &&
                     json_object_set_new(x, "length", json_integer((json_int_t)e->length))))
                    goto done;
            }
        }
    }
    text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!text)
        goto done;
    rc = nw_buf_puts(out, text);
done:
    free(text);
    json_decref(root);
    return rc;
}
