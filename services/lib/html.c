/* html.c: article fields from HTML (see html.h). libxml2's HTML parser builds a tree from any
 * tag soup (HTML_PARSE_RECOVER), never touches the network (HTML_PARSE_NONET) and, since parse.c
 * hands it UTF-8 already, is told to ignore the page's own charset hints (HTML_PARSE_IGNORE_ENC)
 * so a stale <meta charset> cannot re-decode converted text. The tree is walked iteratively, so
 * a deeply nested page cannot exhaust the stack. Text goes through nw_wire_clean, the same
 * cleaner as wire copy, so both inputs give the same paragraphs for the same words. */
#include "newswire/html.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "newswire/buf.h"
#include "newswire/util.h"
#include "newswire/wire.h"

#define HTML_OPTS                                                                                  \
    (HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_RECOVER |           \
     HTML_PARSE_IGNORE_ENC)

/* Elements whose text is never article text. */
static bool
is_void_of_text(const char *name)
{
    static const char *const names[] = {"script", "style",  "template", "noscript", "iframe",
                                        "svg",    "object", "select",   "textarea", "button"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

/* Page furniture: paragraphs inside these are not the article. */
static bool
is_furniture(const char *name)
{
    static const char *const names[] = {"nav", "header", "footer", "aside", "form"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

static const char *
ename(const xmlNode *n)
{
    return n->type == XML_ELEMENT_NODE && n->name ? (const char *)n->name : "";
}

/* True when an ancestor of n is furniture (header counts only when with_header). */
static bool
in_furniture(const xmlNode *n, bool with_header)
{
    for (const xmlNode *p = n->parent; p != NULL; p = p->parent) {
        const char *name = ename(p);
        if (is_furniture(name) && (with_header || strcmp(name, "header") != 0))
            return true;
        if (is_void_of_text(name))
            return true;
    }
    return false;
}

/* The next node in document order after n within the subtree of top, skipping n's children
 * when descend is false. NULL at the end of the subtree. */
static xmlNode *
next_node(xmlNode *n, const xmlNode *top, bool descend)
{
    if (descend && n->children != NULL)
        return n->children;
    while (n != NULL && n != top && n->next == NULL)
        n = n->parent;
    if (n == NULL || n == top)
        return NULL;
    return n->next;
}

/* The cleaned text of n's subtree (script and the like left out). Returns a malloc'd string or
 * NULL on ENOMEM. */
static char *
node_text(xmlNode *top)
{
    nw_buf_t b = {0};
    char *r = NULL;
    if (nw_buf_reserve(&b, 64) < 0)
        return NULL;
    for (xmlNode *n = top->children; n != NULL;) {
        bool descend = true;
        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            if (n->content != NULL && nw_buf_puts(&b, (const char *)n->content) < 0)
                goto out;
        } else if (n->type == XML_ELEMENT_NODE) {
            const char *name = ename(n);
            if (is_void_of_text(name))
                descend = false;
            else if (strcmp(name, "br") == 0 && nw_buf_puts(&b, " ") < 0)
                goto out;
        }
        n = next_node(n, top, descend);
    }
    r = nw_wire_clean((const char *)b.data, b.len);
out:
    nw_buf_release(&b);
    return r;
}

static const char *
attr(const xmlNode *n, const char *name)
{
    for (const xmlAttr *a = n->properties; a != NULL; a = a->next)
        if (a->name != NULL && strcasecmp((const char *)a->name, name) == 0 && a->children &&
            a->children->content)
            return (const char *)a->children->content;
    return NULL;
}

/* Keep a date only when it starts with a real YYYY-MM-DD; store it trimmed. */
static int
set_date(char **dst, const char *v)
{
    if (*dst != NULL || v == NULL)
        return 0;
    char *c = nw_wire_clean(v, strlen(v));
    if (c == NULL)
        return -ENOMEM;
    if (!nw_wire_valid_date(c, strlen(c))) {
        free(c);
        return 0;
    }
    *dst = c;
    return 0;
}

static int
set_text(char **dst, const char *v)
{
    if (*dst != NULL || v == NULL)
        return 0;
    char *c = nw_wire_clean(v, strlen(v));
    if (c == NULL)
        return -ENOMEM;
    if (c[0] == 0) {
        free(c);
        return 0;
    }
    *dst = c;
    return 0;
}

/* Split an author meta value into names. */
static int
add_authors(nw_article_t *a, const char *v)
{
    char *c = nw_wire_clean(v, strlen(v));
    if (c == NULL)
        return -ENOMEM;
    int rc = 0;
    size_t len = strlen(c), i = 0;
    while (i < len) {
        size_t j = i, skip = 0;
        for (; j < len; j++) {
            if (c[j] == ',' || c[j] == ';') {
                skip = 1;
                break;
            }
            if (strncmp(c + j, " and ", 5) == 0 || strncmp(c + j, " & ", 3) == 0) {
                skip = c[j + 1] == '&' ? 3 : 5;
                break;
            }
        }
        size_t s = i, e = j;
        while (s < e && c[s] == ' ')
            s++;
        if (e - s > 3 && strncasecmp(c + s, "by ", 3) == 0)
            s += 3;
        while (e > s && c[e - 1] == ' ')
            e--;
        bool dup = false;
        for (size_t k = 0; k < a->n_authors; k++)
            if (strlen(a->authors[k]) == e - s && memcmp(a->authors[k], c + s, e - s) == 0)
                dup = true;
        if (e > s && !dup && strncmp(c + s, "http", 4) != 0) {
            char **p = realloc(a->authors, (a->n_authors + 1) * sizeof(*p));
            if (p == NULL) {
                rc = -ENOMEM;
                break;
            }
            a->authors = p;
            if ((p[a->n_authors] = nw_strndup(c + s, e - s)) == NULL) {
                rc = -ENOMEM;
                break;
            }
            a->n_authors++;
        }
        i = j + skip;
    }
    free(c);
    return rc;
}

/* What the walk collects before it is moved into the article. */
typedef struct found {
    nw_article_t a; /* title (og:title), published, authors, lang, captions */
    char *doc_title;
    char *h1;
    char *time_date;
    nw_buf_t text;
} found_t;

static int
on_meta(found_t *f, const xmlNode *n)
{
    const char *key = attr(n, "property");
    if (key == NULL)
        key = attr(n, "name");
    if (key == NULL)
        key = attr(n, "itemprop");
    const char *v = attr(n, "content");
    if (key == NULL || v == NULL)
        return 0;
    if (strcasecmp(key, "og:title") == 0)
        return set_text(&f->a.title, v);
    if (strcasecmp(key, "article:published_time") == 0 || strcasecmp(key, "datePublished") == 0)
        return set_date(&f->a.published, v);
    if (strcasecmp(key, "author") == 0 || strcasecmp(key, "article:author") == 0)
        return add_authors(&f->a, v);
    return 0;
}

static int
on_figcaption(found_t *f, xmlNode *n)
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
    nw_caption_t *p = realloc(f->a.captions, (f->a.n_captions + 1) * sizeof(*p));
    if (p == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    f->a.captions = p;
    p[f->a.n_captions++] = cap;
    memset(&cap, 0, sizeof(cap));
    rc = 0;
out:
    nw_wire_caption_release(&cap);
    free(t);
    return rc;
}

static int
on_paragraph(found_t *f, xmlNode *n)
{
    char *t = node_text(n);
    if (t == NULL)
        return -ENOMEM;
    int rc = 0;
    if (t[0] != 0) {
        if (f->text.len > 0)
            rc = nw_buf_puts(&f->text, "\n\n");
        if (rc == 0)
            rc = nw_buf_puts(&f->text, t);
    }
    free(t);
    return rc;
}

static int
walk(found_t *f, xmlNode *root)
{
    for (xmlNode *n = root; n != NULL;) {
        bool descend = true;
        int rc = 0;
        const char *name = ename(n);
        if (n->type != XML_ELEMENT_NODE) {
            descend = false;
        } else if (is_void_of_text(name)) {
            descend = false;
        } else if (strcmp(name, "meta") == 0) {
            rc = on_meta(f, n);
        } else if (strcmp(name, "title") == 0) {
            if (f->doc_title == NULL && (f->doc_title = node_text(n)) == NULL)
                rc = -ENOMEM;
            descend = false;
        } else if (strcmp(name, "h1") == 0) {
            if (f->h1 == NULL && !in_furniture(n, false) && (f->h1 = node_text(n)) == NULL)
                rc = -ENOMEM;
            descend = false;
        } else if (strcmp(name, "time") == 0 && !in_furniture(n, true)) {
            rc = set_date(&f->time_date, attr(n, "datetime"));
        } else if (strcmp(name, "figcaption") == 0) {
            if (!in_furniture(n, true))
                rc = on_figcaption(f, n);
            descend = false;
        } else if (strcmp(name, "p") == 0) {
            if (!in_furniture(n, true))
                rc = on_paragraph(f, n);
            descend = false;
        }
        if (rc < 0)
            return rc;
        n = next_node(n, root, descend);
    }
    return 0;
}

/* Primary language subtag of <html lang="en-GB">, when it is two letters. */
static int
set_lang(found_t *f, const xmlNode *root)
{
    const char *l = attr(root, "lang");
    if (l == NULL)
        l = attr(root, "xml:lang");
    if (l == NULL)
        return 0;
    while (*l == ' ')
        l++;
    size_t n = strspn(l, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
    if (n != 2 || (l[2] != 0 && l[2] != '-' && l[2] != '_' && l[2] != ' '))
        return 0;
    char *s = malloc(3);
    if (s == NULL)
        return -ENOMEM;
    s[0] = (char)(l[0] | 0x20);
    s[1] = (char)(l[1] | 0x20);
    s[2] = 0;
    f->a.lang = s;
    return 0;
}

static void
found_release(found_t *f)
{
    free(f->a.title);
    free(f->a.published);
    free(f->a.lang);
    for (size_t i = 0; i < f->a.n_authors; i++)
        free(f->a.authors[i]);
    free(f->a.authors);
    for (size_t i = 0; i < f->a.n_captions; i++)
        nw_wire_caption_release(&f->a.captions[i]);
    free(f->a.captions);
    free(f->doc_title);
    free(f->h1);
    free(f->time_date);
    nw_buf_release(&f->text);
    memset(f, 0, sizeof(*f));
}

int
nw_html_parse(const char *html, size_t len, nw_article_t *art)
{
    found_t f = {0};
    htmlDocPtr doc = NULL;
    int rc = -EPROTO;

    if (len > INT_MAX)
        goto out;
    xmlInitParser();
    doc = htmlReadMemory(html, (int)len, NULL, "UTF-8", HTML_OPTS);
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (root == NULL)
        goto out;
    rc = -ENOMEM;
    if (set_lang(&f, root) < 0 || walk(&f, root) < 0 || nw_buf_append(&f.text, "", 0) < 0)
        goto out;
    /* og:title first (set by the walk), then <title>, then the first <h1> */
    char **fallback = f.doc_title && f.doc_title[0] ? &f.doc_title : f.h1 && f.h1[0] ? &f.h1 : NULL;
    if (f.a.title == NULL && fallback != NULL) {
        f.a.title = *fallback;
        *fallback = NULL;
    }
    if (f.a.published == NULL) {
        f.a.published = f.time_date;
        f.time_date = NULL;
    }
    art->title = f.a.title;
    art->published = f.a.published;
    art->lang = f.a.lang;
    art->authors = f.a.authors;
    art->n_authors = f.a.n_authors;
    art->captions = f.a.captions;
    art->n_captions = f.a.n_captions;
    art->text = (char *)nw_buf_steal(&f.text, NULL);
    memset(&f.a, 0, sizeof(f.a));
    rc = 0;
out:
    found_release(&f);
    xmlFreeDoc(doc);
    return rc;
}
