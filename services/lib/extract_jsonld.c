/* extract_jsonld.c: metadata from a page's JSON-LD blocks (schema.org NewsArticle and kin,
 * arrays and @graph, "@id" references), the most trusted source of extract_meta.c. */
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

#include <jansson.h>

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
        return nw_extract_add_authors(m, json_string_value(a), R_JSONLD);
    if (json_is_object(a)) {
        json_t *id = json_object_get(a, "@id"), *ref = NULL;
        if (json_object_get(a, "name") == NULL && json_is_string(id) &&
            (ref = ld_by_id(m->ld_root, json_string_value(id), 0)) != NULL)
            a = ref;
        json_t *nm = json_object_get(a, "name");
        if (json_is_string(nm) && !type_is(a, orgs))
            rc = nw_extract_add_authors(m, json_string_value(nm), R_JSONLD);
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
    if ((rc = nw_extract_set_field(m, F_TITLE, jstr(o, "headline"), R_JSONLD)) < 0 ||
        (rc = nw_extract_set_field(m, F_SUB, jstr(o, "description"), R_JSONLD)) < 0 ||
        (rc = nw_extract_set_date(m, F_PUB, jstr(o, "datePublished"), R_JSONLD)) < 0 ||
        (rc = nw_extract_set_date(m, F_MOD, jstr(o, "dateModified"), R_JSONLD)) < 0 ||
        (rc = nw_extract_set_field(m, F_SITE, jstr(o, "publisher"), R_JSONLD)) < 0 ||
        (rc = nw_extract_set_url(m, F_IMAGE, jurl(o, "image"), R_JSONLD)) < 0 ||
        (rc = nw_extract_set_field(m, F_SECTION, jstr(o, "articleSection"), R_JSONLD)) < 0 ||
        (rc = nw_extract_set_lang(m, jstr(o, "inLanguage"), R_JSONLD)) < 0 ||
        (rc = ld_authors(m, json_object_get(o, "author"))) < 0)
        return rc;
    json_t *kw = json_object_get(o, "keywords");
    if (json_is_string(kw))
        return nw_extract_add_tags(m, json_string_value(kw), R_JSONLD);
    size_t k;
    json_t *x;
    json_array_foreach(kw, k, x) if (json_is_string(x) &&
                                     (rc = nw_extract_add_tags(m, json_string_value(x), R_JSONLD)) <
                                         0) break;
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
        return nw_extract_set_field(m, F_SITE, jstr(v, "name"), R_META);
    return 0;
}

int
nw_extract_jsonld(meta_t *m, nw_dom_node_t *n)
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
