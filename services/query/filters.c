/* filters.c: the filters, paging and fields of the query API (query.h), one parser for
 * /v1/articles, /v1/search, /v1/facets and /v1/stories/ID, so the endpoints take the same
 * parameters with the same meaning:
 *
 *   q=WORDS            full text (plain words; at most 16 terms, 256 bytes)
 *   from=T, to=T       the article's time, from <= time < to: its published date, else when it
 *                      was stored (each article says which: time_source); T is ISO 8601, "now",
 *                      or a time ago (30m, 2h, 7d)
 *   lang=, person=, org=, place=, country=, theme=, story=
 *                      the topic lang.X, person.X, ... (names become slugs: "Antony Blinken" is
 *                      person.antony-blinken; place=eg takes every place.eg.*); comma-separated
 *                      or repeated values must all match
 *   topic=P            topics by prefix, as /v1/stream (any of them); comma-separated or repeated
 *   near=LAT,LON,KM    a geocoded place within KM of the point
 *   bbox=MINLON,MINLAT,MAXLON,MAXLAT
 *                      a geocoded place inside the box
 *   sort=seq|published|relevance, cursor=NEXT, limit=N, fields=a,b, since=SEQ|TIME (paging) */
#include "query.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswire/buf.h"
#include "newswire/enrich.h"
#include "newswire/follow.h"
#include "newswire/json.h"
#include "newswire/util.h"

#define MAX_QUERY_BYTES 256 /* a search query's length */
#define MAX_QUERY_TERMS 16  /* whitespace-separated terms in it */
#define COUNT_MAX 1000      /* total is exact up to this, else a lower bound */

struct known {
    const char *const *allowed;
    const char *unknown;
};

static int
check_known(const char *key, const char *value, void *arg)
{
    (void)value;
    struct known *k = arg;
    for (const char *const *a = k->allowed; *a; a++)
        if (strcmp(*a, key) == 0)
            return 0;
    k->unknown = key;
    return 1;
}

int
query_known_params(nw_http_req_t *req, const char *const *allowed)
{
    struct known k = {allowed, NULL};
    if (!nw_http_query_each(req, check_known, &k))
        return 0;
    char msg[160];
    snprintf(msg, sizeof msg, "unknown parameter \"%.80s\"", k.unknown);
    nw_http_error(req, 400, "unknown-parameter", msg, NULL);
    return -1;
}

static int
bad(nw_http_req_t *req, const char *param, const char *what)
{
    char code[48], msg[200];
    snprintf(code, sizeof code, "bad-%s", param);
    snprintf(msg, sizeof msg, "%s: %s", param, what);
    nw_http_error(req, 400, code, msg, NULL);
    return -1;
}

static char *
own(query_filter_t *qf, char *s)
{
    if (s == NULL || qf->n_owned == sizeof qf->owned / sizeof qf->owned[0]) {
        free(s);
        return NULL;
    }
    return qf->owned[qf->n_owned++] = s;
}

/* Terms and length within bounds; FTS5's cost grows with both ('the ' * 100 took 27 s). */
static int
query_bounded(const char *words)
{
    if (strlen(words) > MAX_QUERY_BYTES)
        return 0;
    int terms = 0;
    for (const char *p = words + strspn(words, " \t\r\n"); *p; p += strspn(p, " \t\r\n")) {
        terms++;
        p += strcspn(p, " \t\r\n");
    }
    return terms <= MAX_QUERY_TERMS;
}

/* A time: ISO 8601, "now", or N followed by s/m/h/d (that long ago). */
static int
parse_time(const char *v, char *out, size_t n)
{
    int64_t ms = 0;
    char *end = NULL;
    if (strcmp(v, "now") == 0) {
        ms = nw_now_ms();
    } else if (isdigit((unsigned char)v[0]) && (ms = strtoll(v, &end, 10)) >= 0 && end[0] &&
               !end[1] && strchr("smhd", end[0])) {
        int64_t unit = end[0] == 's'   ? 1000
                       : end[0] == 'm' ? 60000
                       : end[0] == 'h' ? 3600000
                                       : 86400000;
        ms = nw_now_ms() - ms * unit;
    } else if (nw_time_parse(v, &ms) < 0) {
        return -EINVAL;
    }
    nw_time_iso(ms, out, n);
    return 0;
}

struct collect {
    query_filter_t *qf;
    const char *key, *prefix; /* the parameter, the topic prefix its values get ("" for topic) */
    int rc;
};

/* Each comma-separated value of every key= into the filter. */
static int
collect_values(const char *key, const char *value, void *arg)
{
    struct collect *c = arg;
    if (strcmp(key, c->key) != 0)
        return 0;
    nw_store_filter_t *f = &c->qf->f;
    char *copy = strdup(value);
    if (!copy) {
        c->rc = -ENOMEM;
        return 1;
    }
    int added = 0;
    for (char *save = NULL, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        t += strspn(t, " ");
        if (!*t)
            continue;
        added++;
        char buf[200];
        if (*c->prefix == 0) { /* topic=: a prefix as given */
            if (f->n_topics == NW_STORE_MAX_TERMS || strlen(t) >= 150) {
                c->rc = -EINVAL;
                break;
            }
            char *p = own(c->qf, strdup(t));
            if (!p) {
                c->rc = -ENOMEM;
                break;
            }
            f->topics[f->n_topics++] = p;
            continue;
        }
        /* person=Antony Blinken -> person.antony-blinken; place=eg.cairo keeps its dot */
        size_t n = (size_t)snprintf(buf, sizeof buf, "%s.", c->prefix);
        for (char *seg = t, *dot; seg && n < sizeof buf - 1; seg = dot ? dot + 1 : NULL) {
            dot = strchr(seg, '.');
            if (dot)
                *dot = 0;
            size_t k = nw_enrich_slug(seg, buf + n, sizeof buf - n - 1);
            if (k == 0) {
                c->rc = -EINVAL;
                break;
            }
            n += k;
            if (dot && n < sizeof buf - 1)
                buf[n++] = '.';
            buf[n] = 0;
        }
        if (c->rc < 0 || n >= 150 || f->n_all_of == NW_STORE_MAX_TERMS) {
            c->rc = -EINVAL;
            break;
        }
        char *p = own(c->qf, strdup(buf));
        if (!p) {
            c->rc = -ENOMEM;
            break;
        }
        f->all_of[f->n_all_of++] = p;
    }
    free(copy);
    if (!added && c->rc == 0)
        c->rc = -EINVAL; /* "topic=,,," names nothing: a mistake, not "everything" */
    return c->rc < 0;
}

static int
parse_doubles(const char *v, double *out, int n)
{
    char *end = NULL;
    for (int i = 0; i < n; i++) {
        out[i] = strtod(v, &end);
        if (end == v || !isfinite(out[i]) || (i < n - 1 ? *end != ',' : *end != 0))
            return -EINVAL;
        v = end + 1;
    }
    return 0;
}

int
query_filter_parse(query_svc_t *q, nw_http_req_t *req, query_filter_t *qf, int paging,
                   int def_limit)
{
    nw_store_filter_t *f = &qf->f;
    const char *v;
    static const struct {
        const char *key, *prefix;
    } topical[] = {{"topic", ""},      {"lang", "lang"},   {"person", "person"},
                   {"org", "org"},     {"place", "place"}, {"country", "country"},
                   {"theme", "theme"}, {"story", "story"}};

    if ((v = nw_http_query(req, "q")) != NULL) {
        if (!*v) {
            nw_http_error(req, 400, "bad-query", "q: the words to search for", NULL);
            return -1;
        }
        if (!query_bounded(v)) {
            nw_http_error(req, 400, "query-too-long", "q: at most 16 terms and 256 bytes", NULL);
            return -1;
        }
        f->q = v;
    }
    if ((v = nw_http_query(req, "from")) != NULL) {
        if (parse_time(v, qf->from, sizeof qf->from) < 0)
            return bad(req, "from", "an ISO 8601 time, now, or a time ago (30m, 2h, 7d)");
        f->from = qf->from;
    }
    if ((v = nw_http_query(req, "to")) != NULL) {
        if (parse_time(v, qf->to, sizeof qf->to) < 0)
            return bad(req, "to", "an ISO 8601 time, now, or a time ago (30m, 2h, 7d)");
        f->to = qf->to;
    }
    for (size_t i = 0; i < sizeof topical / sizeof topical[0]; i++) {
        struct collect c = {qf, topical[i].key, topical[i].prefix, 0};
        nw_http_query_each(req, collect_values, &c);
        if (c.rc == -ENOMEM) {
            nw_http_error(req, 500, "internal", "out of memory", NULL);
            return -1;
        }
        if (c.rc < 0 && i == 0) {
            nw_http_error(req, 400, "bad-topic", "topic: up to 32 comma-separated prefixes", NULL);
            return -1;
        }
        if (c.rc < 0)
            return bad(req, topical[i].key,
                       "names or slugs, comma-separated, at most 32, each under 150 bytes");
    }
    if ((v = nw_http_query(req, "near")) != NULL) {
        double d[3];
        if (parse_doubles(v, d, 3) < 0 || fabs(d[0]) > 90 || fabs(d[1]) > 180 || d[2] <= 0 ||
            d[2] > 20000)
            return bad(req, "near", "LAT,LON,KM: degrees and a radius in km");
        f->has_near = 1;
        f->lat = d[0];
        f->lon = d[1];
        f->km = d[2];
    }
    if ((v = nw_http_query(req, "bbox")) != NULL) {
        double d[4];
        if (parse_doubles(v, d, 4) < 0 || d[0] > d[2] || d[1] > d[3] || fabs(d[1]) > 90 ||
            fabs(d[3]) > 90)
            return bad(req, "bbox", "MINLON,MINLAT,MAXLON,MAXLAT in degrees");
        f->has_bbox = 1;
        f->minlon = d[0];
        f->minlat = d[1];
        f->maxlon = d[2];
        f->maxlat = d[3];
    }
    if (!paging)
        return 0;

    qf->page.limit = query_limit_arg(req, def_limit);
    if (qf->page.limit < 0)
        return -1;
    qf->page.sort = f->q ? NW_STORE_SORT_RELEVANCE : NW_STORE_SORT_SEQ;
    if ((v = nw_http_query(req, "sort")) != NULL) {
        if (strcmp(v, "seq") == 0)
            qf->page.sort = NW_STORE_SORT_SEQ;
        else if (strcmp(v, "published") == 0)
            qf->page.sort = NW_STORE_SORT_PUBLISHED;
        else if (strcmp(v, "relevance") == 0 && f->q)
            qf->page.sort = NW_STORE_SORT_RELEVANCE;
        else
            return bad(req, "sort", "seq, published, or relevance (with q)");
    }
    qf->page.cursor = nw_http_query(req, "cursor");
    /* since=: a seq or a time, as /v1/stream takes it (one indexed read) */
    if ((v = nw_http_query(req, "since")) != NULL) {
        int rc = nw_follow_cursor_at(q->db, v, &f->after_seq);
        if (rc < 0) {
            query_since_error(req, rc);
            return -1;
        }
    }
    qf->page.count_max = COUNT_MAX;
    if ((v = nw_http_query(req, "fields")) != NULL && !own(qf, qf->fields = strdup(v))) {
        nw_http_error(req, 500, "internal", "out of memory", NULL);
        return -1;
    }
    return 0;
}

void
query_filter_release(query_filter_t *qf)
{
    for (size_t i = 0; i < qf->n_owned; i++)
        free(qf->owned[i]);
    qf->n_owned = 0;
}

/* The fingerprint sketches: for story grouping, ~15% of a document, of no use to a reader. */
static const char *const sketches[] = {"simhash", "minhash", "terms", "grams", "anchors"};

json_t *
query_doc_json(const query_filter_t *qf, const uint8_t *doc, size_t len, const char *at,
               int at_published)
{
    nw_buf_t text = {0};
    json_t *o = NULL;
    if (nw_json_from_msgpack(doc, len, &text) < 0)
        goto out;
    o = json_loadb((const char *)text.data, text.len, 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        o = NULL;
        goto out;
    }
    if (at && (json_object_set_new(o, "time", json_string(at)) < 0 ||
               json_object_set_new(o, "time_source",
                                   json_string(at_published ? "published" : "stored")) < 0))
        goto fail;
    if (qf && qf->fields && strcmp(qf->fields, "all") == 0)
        goto out;
    if (qf && qf->fields) {
        const char *key;
        json_t *val;
        void *tmp;
        json_object_foreach_safe(o, tmp, key, val)
        {
            (void)val;
            size_t n = strlen(key);
            const char *p = qf->fields;
            int keep = 0;
            while (*p && !keep) {
                size_t k = strcspn(p, ",");
                keep = k == n && strncmp(p, key, n) == 0;
                p += k + (p[k] == ',');
            }
            if (!keep)
                json_object_del(o, key);
        }
        goto out;
    }
    for (size_t i = 0; i < sizeof sketches / sizeof sketches[0]; i++)
        json_object_del(o, sketches[i]);
    goto out;
fail:
    json_decref(o);
    o = NULL;
out:
    nw_buf_release(&text);
    return o;
}

int
query_page_json(json_t *o, const nw_store_page_t *pg)
{
    int rc = json_object_set_new(o, "next", pg->next[0] ? json_string(pg->next) : json_null());
    rc |= json_object_set_new(o, "has_more", json_boolean(pg->has_more));
    if (pg->total >= 0) {
        rc |= json_object_set_new(o, "total", json_integer(pg->total));
        rc |= json_object_set_new(o, "total_exact", json_boolean(pg->total_exact));
    }
    return rc ? -ENOMEM : 0;
}
