/* extract_meta.c: the metadata of a web page, read in one pass over the whole document. Each
 * field remembers the trust rank of the source that set it; a better source replaces it, an
 * equal one adds to lists (authors, tags). Ranks: JSON-LD (extract_jsonld.c), OpenGraph/article
 * meta, other meta, <time>/itemprop, visible byline and <title>, URL, first <h1>. Afterwards an
 * <h1> whose words nearly all occur in the chosen title or <title> replaces it (extract_title.c).
 * Authors are read in extract_authors.c, dates in extract_dates.c. */
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

#include <utf8proc.h>
#include <libxml/HTMLparser.h>
#include <libxml/uri.h>

#include "newswire/util.h"

/* Metadata strings longer than this are not metadata. */
#define MAX_META 2048

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
int
nw_extract_list_add(list_t *l, char *s, int rank)
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

/* Cleaned copy of v, or NULL (with *rc 0) when it is empty or too long to be metadata. */
char *
nw_extract_clean_meta(const char *v, size_t n, int *rc)
{
    *rc = 0;
    if (v == NULL || n == 0 || n > MAX_META)
        return NULL;
    char *c = nw_extract_text_clean(v, n);
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

int
nw_extract_set_field(meta_t *m, int f, const char *v, int rank)
{
    int rc;
    if (v == NULL || rank >= m->rank[f])
        return 0;
    char *c = nw_extract_clean_meta(v, strlen(v), &rc);
    if (c == NULL)
        return rc;
    free(m->f[f]);
    m->f[f] = c;
    m->rank[f] = rank;
    return 0;
}

int
nw_extract_add_tags(meta_t *m, const char *v, int rank)
{
    int rc;
    if (v == NULL || rank > m->tags.rank)
        return 0;
    char *c = nw_extract_clean_meta(v, strlen(v), &rc);
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
            rc = t == NULL ? -ENOMEM : nw_extract_list_add(&m->tags, t, rank);
        }
        s += n;
        if (*s)
            s++;
    }
    free(c);
    return rc;
}

int
nw_extract_set_url(meta_t *m, int f, const char *v, int rank)
{
    if (v == NULL || rank >= m->rank[f] || strlen(v) > MAX_META)
        return 0;
    xmlChar *abs = xmlBuildURI((const xmlChar *)v, (const xmlChar *)m->url);
    const char *u = abs ? (const char *)abs : v;
    int rc = 0;
    if (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0)
        rc = nw_extract_set_field(m, f, u, rank);
    xmlFree(abs);
    return rc;
}

int
nw_extract_set_lang(meta_t *m, const char *l, int rank)
{
    if (l == NULL || rank >= m->rank[F_LANG])
        return 0;
    while (*l == ' ')
        l++;
    size_t n = strspn(l, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
    if (n != 2 || (l[2] != 0 && l[2] != '-' && l[2] != '_' && l[2] != ' ' && l[2] != ','))
        return 0;
    char s[3] = {(char)(l[0] | 0x20), (char)(l[1] | 0x20), 0};
    return nw_extract_set_field(m, F_LANG, s, rank);
}

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
        return nw_extract_add_authors(m, v, R_META);
    for (size_t k = 0; k < sizeof(rules) / sizeof(rules[0]); k++) {
        if (strcasecmp(key, rules[k].key) != 0)
            continue;
        switch (rules[k].field) {
        case -1:
            return nw_extract_add_authors(m, v, rules[k].rank);
        case -2:
            return nw_extract_add_tags(m, v, rules[k].rank);
        case -3:
            return nw_extract_set_date(m, F_PUB, v, rules[k].rank);
        case -4:
            return nw_extract_set_date(m, F_MOD, v, rules[k].rank);
        case F_LANG:
            return nw_extract_set_lang(m, v, rules[k].rank);
        case F_IMAGE:
        case F_CANON:
            return nw_extract_set_url(m, rules[k].field, v, rules[k].rank);
        default:
            return nw_extract_set_field(m, rules[k].field, v, rules[k].rank);
        }
    }
    /* vendor-prefixed forms of the above: "shareaholic:article_published_time",
     * "og:article:published_time" */
    if (strcasestr(key, "published_time") != NULL || strcasestr(key, "publish_date") != NULL)
        return nw_extract_set_date(m, F_PUB, v, R_META);
    if (strcasestr(key, "modified_time") != NULL)
        return nw_extract_set_date(m, F_MOD, v, R_META);
    return 0;
}

int
nw_extract_collect_meta(meta_t *m, nw_dom_node_t *root)
{
    bool in_body = false;
    nw_dom_node_t *h1 = NULL, *title = NULL, *h1s[4];
    size_t n_h1 = 0;
    int rc = nw_extract_set_lang(
        m, attr(root, "lang") ? attr(root, "lang") : attr(root, "xml:lang"), R_JSONLD);
    for (nw_dom_node_t *n = root; rc == 0 && n != NULL;) {
        bool descend = true;
        const char *name = ename(n);
        if (n->type != NW_DOM_ELEMENT) {
            descend = false;
        } else if (strcmp(name, "script") == 0) {
            const char *t = attr(n, "type");
            if (t != NULL && strcasecmp(t, "application/ld+json") == 0)
                rc = nw_extract_jsonld(m, n);
            descend = false;
        } else if (strcmp(name, "title") == 0 && !in_body) {
            if (title == NULL)
                title = n;
            descend = false;
        } else if (is_void_of_text(n)) {
            descend = false;
        } else if (strcmp(name, "meta") == 0) {
            rc = on_meta(m, n);
        } else if (strcmp(name, "link") == 0) {
            const char *rel = attr(n, "rel");
            if (rel != NULL && strcasecmp(rel, "canonical") == 0)
                rc = nw_extract_set_url(m, F_CANON, attr(n, "href"), R_OG);
        } else {
            if (strcmp(name, "body") == 0)
                in_body = true;
            const char *ip = attr(n, "itemprop");
            if (ip != NULL && strcasecmp(ip, "datePublished") == 0)
                rc = nw_extract_set_date(
                    m, F_PUB, attr(n, "datetime") ? attr(n, "datetime") : attr(n, "content"),
                    R_ITEMPROP);
            else if (ip != NULL && strcasecmp(ip, "dateModified") == 0)
                rc = nw_extract_set_date(
                    m, F_MOD, attr(n, "datetime") ? attr(n, "datetime") : attr(n, "content"),
                    R_ITEMPROP);
            else if (strcmp(name, "time") == 0)
                rc = nw_extract_set_date(m, F_PUB, attr(n, "datetime"), R_VISIBLE);
            if (rc == 0 && strcmp(name, "time") == 0 && n_h1 > 0 && m->printed[0] == 0)
                rc = nw_extract_note_printed(m, n);
            else if (strcmp(name, "h1") == 0 && n_h1 < 4)
                h1s[n_h1++] = n;
            if (h1 == NULL && n_h1 > 0)
                h1 = h1s[0];
            if (rc == 0 && in_body &&
                (m->rank[F_PUB] > R_TEXT || (n_h1 > 0 && m->printed[0] == 0)) &&
                nw_extract_is_date_holder(n))
                rc = nw_extract_on_date_holder(m, n, n_h1 > 0);
            if (rc == 0 && in_body && m->authors.rank > R_VISIBLE && nw_extract_is_byline(n)) {
                int b = nw_extract_on_byline(m, n);
                rc = b < 0 ? b : 0;
                descend = b == 0; /* a container with "author" in its class: look inside */
            }
        }
        n = next_node(n, root, descend);
    }
    if (rc == 0 && title != NULL && m->rank[F_TITLE] > R_VISIBLE)
        rc = nw_extract_on_title(m, title, h1);
    if (rc == 0 && h1 != NULL && m->rank[F_TITLE] > R_H1) {
        char *t = nw_extract_h1_text(h1);
        rc = t == NULL ? -ENOMEM : nw_extract_set_field(m, F_TITLE, t, R_H1);
        free(t);
    }
    if (rc == 0)
        rc = nw_extract_url_date(m);
    if (rc == 0)
        nw_extract_strip_site_name(m);
    if (rc == 0)
        rc = nw_extract_prefer_h1(m, h1s, n_h1, title);
    return rc;
}

void
nw_extract_meta_release(meta_t *m)
{
    for (int f = 0; f < F_COUNT; f++)
        free(m->f[f]);
    free(m->body_title);
    list_clear(&m->authors);
    list_clear(&m->tags);
}
