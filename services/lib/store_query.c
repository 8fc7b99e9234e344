/* store_query.c: the query API of the store (store.h, "The query API"): the index of topics
 * and places that every current revision gets (schema v7), the facet counts kept at commit
 * (v8), pages of articles under filters, facets, and revision history. The SQL is written
 * once, here, for both backends; what differs (full-text matching, parameter numbering) is
 * the backend's dialect table (store_backend.h).
 *
 *   article_topics (topic, at, seq)  one row per topic of every current revision, with its
 *                                    time at (published, else stored: ISO 8601 UTC) and
 *                                    whether that was published; "all" is every article's,
 *                                    so its rows are the articles by time and by seq
 *   article_places (seq, lat, lon)   the coordinates of its geocoded places
 *   place_points (lat, lon)          each coordinate once (v8): an area is its points
 *   facet_hours, facet_days          articles per topic per hour and day (v8, below)
 *
 * A page's cost is bounded by design (plan_terms): every condition (a topic, the places, the
 * words) is sized in the window first, counting only as far as the plan needs. A topic with
 * nothing under it is "walkable": one equality, its rows read in (topic, at, seq) or
 * (topic, seq) order, the other conditions probed per row, until the page is full. A
 * condition under SMALL_MAX articles that is not walkable has its articles read whole and
 * sorted. The words are intersected with a small condition's articles inside one walk of
 * their match list; a relevance page ranks, in one statement, a bounded set (the small
 * condition's matches, or the RANK_MAX newest matches). A topic nothing matches costs one
 * empty index range. Topic prefixes are index ranges: p <= topic < p with its last byte plus
 * one (topics are ASCII); "p or a parent of p's children" is topic = p or p. <= topic < p/. */
#include "newswire/store.h"
#include "store_backend.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswire/buf.h"
#include "newswire/log.h"
#include "newswire/proto.h"
#include "newswire/util.h"

#define SMALL_MAX 2000       /* a term with fewer rows: its articles are read whole */
#define PLACE_SMALL_MAX 1000 /* the same for an area (each row a join of point and article) */
#define SIZE_CAP 20000       /* rows counted per term to pick the one to walk */
#define WORDS_LIST_MAX 5000  /* matches of the words read once as a list, more: probed */
#define RANK_MAX 1000        /* matches a relevance page ranks (the newest that pass) */
#define INSERT_ROWS 64       /* rows per INSERT statement of the index */
#define COUNT_ROWS 50        /* rows per upsert of the facet counts (3 parameters each) */
#define REINDEX_BATCH 500    /* articles per transaction of nw_store_reindex */
/* An index INSERT binds INSERT_ROWS rows of up to 4 parameters (topic, at, seq, published);
 * with fewer, an article of more than 40 topics could not be stored. */
#define MAX_PARAMS (4 * INSERT_ROWS)
#define KM_PER_DEGREE 111.195

/* ---- SQL with its parameters, built in order ---- */

typedef struct sql {
    nw_buf_t text;
    const char *params[MAX_PARAMS];
    int n;
    char owned[MAX_PARAMS][40]; /* numbers and computed bounds */
    int failed;
} sql_t;

static void
sql_add(sql_t *q, const char *text)
{
    if (nw_buf_puts(&q->text, text) < 0)
        q->failed = 1;
}

static void
sql_param(sql_t *q, const char *v)
{
    if (q->n == MAX_PARAMS) {
        q->failed = 1;
        return;
    }
    q->params[q->n++] = v;
}

static void
sql_paramf(sql_t *q, int digits, double v)
{
    if (q->n == MAX_PARAMS) {
        q->failed = 1;
        return;
    }
    snprintf(q->owned[q->n], sizeof q->owned[0], "%.*f", digits, v);
    q->params[q->n] = q->owned[q->n];
    q->n++;
}

static void
sql_paramu(sql_t *q, uint64_t v)
{
    if (q->n == MAX_PARAMS) {
        q->failed = 1;
        return;
    }
    snprintf(q->owned[q->n], sizeof q->owned[0], "%" PRIu64, v);
    q->params[q->n] = q->owned[q->n];
    q->n++;
}

/* Topic upper bounds live as long as the query: the prefix with its last byte plus one. */
typedef struct bounds {
    char b[2 * NW_STORE_MAX_TERMS + 2][160];
    int n;
} bounds_t;

static const char *
upper_of(bounds_t *b, const char *prefix, const char *suffix)
{
    if (b->n == (int)(sizeof b->b / sizeof b->b[0]))
        return NULL;
    char *out = b->b[b->n++];
    int len = snprintf(out, sizeof b->b[0], "%s%s", prefix, suffix);
    if (len <= 0 || len >= (int)sizeof b->b[0])
        return NULL;
    out[len - 1]++;
    return out;
}

static const char *
dotted(bounds_t *b, const char *prefix)
{
    if (b->n == (int)(sizeof b->b / sizeof b->b[0]))
        return NULL;
    char *out = b->b[b->n++];
    int len = snprintf(out, sizeof b->b[0], "%s.", prefix);
    return len > 0 && len < (int)sizeof b->b[0] ? out : NULL;
}

/* "topic is under any of prefixes" (exact 0: string prefixes) or "topic is one of them or a
 * child" (exact 1), as a condition on column col. */
static int
topic_cond(sql_t *q, bounds_t *b, const char *col, const char *const *prefixes, size_t n, int exact)
{
    sql_add(q, "(");
    for (size_t i = 0; i < n; i++) {
        const char *lo = exact ? dotted(b, prefixes[i]) : prefixes[i];
        const char *hi = upper_of(b, prefixes[i], exact ? "." : "");
        if (!lo || !hi || !*prefixes[i])
            return -EINVAL;
        if (i)
            sql_add(q, " OR ");
        if (exact) {
            sql_add(q, col);
            sql_add(q, " = ? OR ");
            sql_param(q, prefixes[i]);
        }
        sql_add(q, "(");
        sql_add(q, col);
        sql_add(q, " >= ? AND ");
        sql_add(q, col);
        sql_add(q, " < ?)");
        sql_param(q, lo);
        sql_param(q, hi);
    }
    sql_add(q, ")");
    return 0;
}

/* The place condition on the coordinates of alias a (article_places p or place_points pp). */
static void
place_cond(sql_t *q, const nw_store_filter_t *f, const char *a)
{
    char text[320];
    sql_add(q, "(");
    if (f->has_bbox) {
        snprintf(text, sizeof text, "%s.lat >= ? AND %s.lat <= ? AND %s.lon >= ? AND %s.lon <= ?",
                 a, a, a, a);
        sql_add(q, text);
        sql_paramf(q, 7, f->minlat);
        sql_paramf(q, 7, f->maxlat);
        sql_paramf(q, 7, f->minlon);
        sql_paramf(q, 7, f->maxlon);
    }
    if (f->has_near) {
        /* The circle's bounding box (an index range), then the distance on the local
         * equirectangular projection: good to a fraction of a percent at news radii. */
        double dlat = f->km / KM_PER_DEGREE;
        double c = cos(f->lat * M_PI / 180);
        double dlon = c > 1e-6 ? dlat / c : 360;
        if (f->has_bbox)
            sql_add(q, " AND ");
        snprintf(text, sizeof text,
                 "%s.lat >= ? AND %s.lat <= ? AND %s.lon >= ? AND %s.lon <= ?"
                 " AND (%s.lat - ?) * (%s.lat - ?) + (%s.lon - ?) * (%s.lon - ?) * ? <= ?",
                 a, a, a, a, a, a, a, a);
        sql_add(q, text);
        sql_paramf(q, 7, f->lat - dlat);
        sql_paramf(q, 7, f->lat + dlat);
        sql_paramf(q, 7, f->lon - dlon);
        sql_paramf(q, 7, f->lon + dlon);
        sql_paramf(q, 7, f->lat);
        sql_paramf(q, 7, f->lat);
        sql_paramf(q, 7, f->lon);
        sql_paramf(q, 7, f->lon);
        sql_paramf(q, 9, c * c);
        sql_paramf(q, 9, dlat * dlat);
    }
    sql_add(q, ")");
}

/* ---- writing the index ---- */

static int
run(nw_store_t *s, sql_t *q, store_sel_cb cb, void *arg)
{
    if (q->failed)
        return q->n == MAX_PARAMS ? -EINVAL : -ENOMEM;
    uint64_t t0 = nw_mono_ns();
    int rc = s->ops->select(s, (const char *)q->text.data, q->params, q->n, cb, arg);
    if (nw_log_level <= NW_LOG_DEBUG) { /* what each statement of a query cost, to tune them */
        nw_buf_t p = {0};
        for (int i = 0; i < q->n; i++)
            if (nw_buf_puts(&p, i ? "|" : "") < 0 ||
                nw_buf_puts(&p, q->params[i] ? q->params[i] : "NULL") < 0)
                break;
        NW_DEBUG(NULL, "store: query ms=%.2f rc=%d sql=\"%s\" params=\"%.*s\"",
                 (double)(nw_mono_ns() - t0) / 1e6, rc, (const char *)q->text.data, (int)p.len,
                 p.data ? (const char *)p.data : "");
        nw_buf_release(&p);
    }
    return rc;
}

static void
sql_release(sql_t *q)
{
    nw_buf_release(&q->text);
}

/* Rows per INSERT of the index: the dialect's choice (index_rows, store_backend.h), at most
 * max. */
static size_t
rows_per_insert(const nw_store_t *s, size_t max)
{
    size_t n = (size_t)s->ops->dialect->index_rows;
    return n > 0 && n < max ? n : max;
}

/* ---- facet counts kept at commit ----
 *
 *   facet_hours (hour, topic, n)   articles of topic whose time is in the hour ("YYYY-MM-DDTHH")
 *   facet_days  (day, topic, n)    the same per day ("YYYY-MM-DD")
 *
 * Every row store_index_put adds to or removes from article_topics is a +1 or -1 here, collected
 * for the transaction and written by store_facets_flush before commit, so the counts are
 * always those of article_topics (the tests recount them). Counts that fall to 0 stay as rows
 * of 0. */

typedef struct delta {
    char hour[16];
    char *topic;
    int64_t n;
} delta_t;

typedef struct point {
    char lat[24], lon[24];
} point_t;

struct store_deltas {
    delta_t *v;
    size_t n, cap;
    point_t *pts; /* coordinates of places indexed, for place_points */
    size_t n_pts, cap_pts;
};

static struct store_deltas *
deltas_of(nw_store_t *s)
{
    return s->deltas ? s->deltas : (s->deltas = calloc(1, sizeof *s->deltas));
}

static int
point_add(nw_store_t *s, const char *lat, const char *lon)
{
    struct store_deltas *d = deltas_of(s);
    if (!d)
        return -ENOMEM;
    if (d->n_pts == d->cap_pts) {
        size_t cap = d->cap_pts ? d->cap_pts * 2 : 64;
        point_t *v = realloc(d->pts, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        d->pts = v;
        d->cap_pts = cap;
    }
    snprintf(d->pts[d->n_pts].lat, sizeof d->pts[0].lat, "%s", lat);
    snprintf(d->pts[d->n_pts].lon, sizeof d->pts[0].lon, "%s", lon);
    d->n_pts++;
    return 0;
}

static int
delta_add(nw_store_t *s, const char *topic, const char *at, int64_t n)
{
    struct store_deltas *d = deltas_of(s);
    if (!d)
        return -ENOMEM;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 256;
        delta_t *v = realloc(d->v, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        d->v = v;
        d->cap = cap;
    }
    delta_t *x = &d->v[d->n];
    snprintf(x->hour, sizeof x->hour, "%.13s", at);
    if (!(x->topic = strdup(topic)))
        return -ENOMEM;
    x->n = n;
    d->n++;
    return 0;
}

void
store_facets_clear(nw_store_t *s)
{
    struct store_deltas *d = s->deltas;
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++)
        free(d->v[i].topic);
    free(d->v);
    free(d->pts);
    free(d);
    s->deltas = NULL;
}

static int
by_hour_topic(const void *a, const void *b)
{
    const delta_t *x = a, *y = b;
    int c = strcmp(x->hour, y->hour);
    return c ? c : strcmp(x->topic, y->topic);
}

static int
by_day_topic(const void *a, const void *b)
{
    const delta_t *x = a, *y = b;
    int c = strncmp(x->hour, y->hour, 10);
    return c ? c : strcmp(x->topic, y->topic);
}

/* Upsert the sorted deltas v[0..n) into table keyed by their first width characters, merging
 * equal keys and leaving out sums of 0. */
static int
upsert_counts(nw_store_t *s, const char *table, const char *key, int width, const delta_t *v,
              size_t n)
{
    int rc = 0;
    size_t i = 0;
    char keys[COUNT_ROWS][16], nums[COUNT_ROWS][24], head[128], tail[160];
    int per = (int)rows_per_insert(s, COUNT_ROWS);
    snprintf(head, sizeof head, "INSERT INTO %s (%s, topic, n) VALUES ", table, key);
    snprintf(tail, sizeof tail, " ON CONFLICT (%s, topic) DO UPDATE SET n = %s.n + excluded.n", key,
             table);
    while (i < n && rc >= 0) {
        sql_t q = {0};
        int rows = 0;
        sql_add(&q, head);
        while (i < n && rows < per) {
            size_t j = i;
            int64_t sum = 0;
            while (j < n && strncmp(v[j].hour, v[i].hour, (size_t)width) == 0 &&
                   strcmp(v[j].topic, v[i].topic) == 0)
                sum += v[j++].n;
            if (sum != 0) {
                snprintf(keys[rows], sizeof keys[0], "%.*s", width, v[i].hour);
                snprintf(nums[rows], sizeof nums[0], "%" PRId64, sum);
                sql_add(&q, rows ? ", (?, ?, ?)" : "(?, ?, ?)");
                sql_param(&q, keys[rows]);
                sql_param(&q, v[i].topic);
                sql_param(&q, nums[rows]);
                rows++;
            }
            i = j;
        }
        sql_add(&q, tail);
        if (rows)
            rc = run(s, &q, NULL, NULL);
        sql_release(&q);
    }
    return rc < 0 ? rc : 0;
}

static int
by_point(const void *a, const void *b)
{
    const point_t *x = a, *y = b;
    int c = strcmp(x->lat, y->lat);
    return c ? c : strcmp(x->lon, y->lon);
}

/* The new points, sorted and each once, as place_points rows (kept when already there). */
static int
insert_points(nw_store_t *s, point_t *v, size_t n)
{
    int rc = 0;
    size_t per = rows_per_insert(s, INSERT_ROWS);
    qsort(v, n, sizeof *v, by_point);
    for (size_t i = 0; i < n && rc >= 0;) {
        sql_t q = {0};
        size_t rows = 0;
        sql_add(&q, "INSERT INTO place_points (lat, lon) VALUES ");
        for (; i < n && rows < per; i++) {
            if (i > 0 && by_point(&v[i], &v[i - 1]) == 0)
                continue;
            sql_add(&q, rows++ ? ", (?, ?)" : "(?, ?)");
            sql_param(&q, v[i].lat);
            sql_param(&q, v[i].lon);
        }
        sql_add(&q, " ON CONFLICT DO NOTHING");
        if (rows)
            rc = run(s, &q, NULL, NULL);
        sql_release(&q);
    }
    return rc < 0 ? rc : 0;
}

int
store_facets_flush(nw_store_t *s)
{
    struct store_deltas *d = s->deltas;
    if (!d || s->version < 8)
        return 0;
    int rc = d->n_pts ? insert_points(s, d->pts, d->n_pts) : 0;
    if (rc == 0 && d->n) {
        qsort(d->v, d->n, sizeof *d->v, by_hour_topic);
        rc = upsert_counts(s, "facet_hours", "hour", 13, d->v, d->n);
    }
    if (rc == 0 && d->n) {
        qsort(d->v, d->n, sizeof *d->v, by_day_topic);
        rc = upsert_counts(s, "facet_days", "day", 10, d->v, d->n);
    }
    if (rc == 0)
        store_facets_clear(s);
    return rc;
}

static int
on_old_topic(const char *const *cols, const size_t *lens, int n, void *arg)
{
    (void)lens;
    if (n < 2 || !cols[0] || !cols[1])
        return 0;
    return delta_add(arg, cols[0], cols[1], -1);
}

/* The time an article's filters and sort use: its published date when it parses, else when
 * it was stored. */
static int
time_of(const nw_enriched_t *e, const char *stored_at, char *at, size_t n)
{
    int64_t ms = 0;
    if (e->art.published && nw_time_parse(e->art.published, &ms) == 0) {
        nw_time_iso(ms, at, n);
        return 1;
    }
    snprintf(at, n, "%s", stored_at);
    return 0;
}

int
store_index_put(nw_store_t *s, const nw_enriched_t *e, uint64_t seq, uint64_t old_seq,
                const char *stored_at)
{
    char at[40], seqs[24], olds[24];
    int pub = time_of(e, stored_at, at, sizeof at), rc = 0;
    snprintf(seqs, sizeof seqs, "%" PRIu64, seq);
    snprintf(olds, sizeof olds, "%" PRIu64, old_seq);
    if (old_seq) {
        const char *p[1] = {olds};
        if ((rc = s->ops->select(s, "SELECT topic, at FROM article_topics WHERE seq = ?", p, 1,
                                 on_old_topic, s)) < 0 ||
            (rc = s->ops->select(s, "DELETE FROM article_topics WHERE seq = ?", p, 1, NULL, NULL)) <
                0 ||
            (rc = s->ops->select(s, "DELETE FROM article_places WHERE seq = ?", p, 1, NULL, NULL)) <
                0)
            return rc;
    }
    for (size_t i = 0; i < e->n_topics && rc >= 0; i++) {
        size_t k = 0;
        while (k < i && strcmp(e->topics[k], e->topics[i]) != 0)
            k++;
        if (k == i) /* a topic listed twice is one row (ON CONFLICT below) */
            rc = delta_add(s, e->topics[i], at, 1);
    }
    size_t per = rows_per_insert(s, INSERT_ROWS);
    for (size_t i = 0; i < e->n_topics && rc >= 0; i += per) {
        sql_t q = {0};
        sql_add(&q, "INSERT INTO article_topics (topic, at, seq, published) VALUES ");
        for (size_t k = i; k < e->n_topics && k < i + per; k++) {
            sql_add(&q, k > i ? ", (?, ?, ?, ?)" : "(?, ?, ?, ?)");
            sql_param(&q, e->topics[k]);
            sql_param(&q, at);
            sql_param(&q, seqs);
            sql_param(&q, pub ? "1" : "0");
        }
        sql_add(&q, " ON CONFLICT DO NOTHING");
        rc = run(s, &q, NULL, NULL);
        sql_release(&q);
    }
    /* The places, per rows_per_insert; MAX_PARAMS / 3 of them at most, as always. */
    sql_t q = {0};
    size_t places = 0, rows = 0, per_places = rows_per_insert(s, MAX_PARAMS / 3);
    for (size_t i = 0; i < e->n_entities && rc >= 0 && places < MAX_PARAMS / 3; i++) {
        const nw_entity_t *en = &e->entities[i];
        if (!en->type || strcmp(en->type, "place") != 0 || (en->lat == 0 && en->lon == 0) ||
            !isfinite(en->lat) || !isfinite(en->lon))
            continue;
        places++;
        if (rows++ == 0)
            sql_add(&q, "INSERT INTO article_places (seq, lat, lon) VALUES (?, ?, ?)");
        else
            sql_add(&q, ", (?, ?, ?)");
        sql_param(&q, seqs);
        sql_paramf(&q, 7, en->lat);
        sql_paramf(&q, 7, en->lon);
        if (!q.failed)
            rc = point_add(s, q.params[q.n - 2], q.params[q.n - 1]);
        if (rc >= 0 && rows == per_places) {
            rc = run(s, &q, NULL, NULL);
            sql_release(&q);
            q = (sql_t){0};
            rows = 0;
        }
    }
    if (rows && rc >= 0)
        rc = run(s, &q, NULL, NULL);
    sql_release(&q);
    return rc < 0 ? rc : 0;
}

struct unindexed {
    uint64_t seq[REINDEX_BATCH];
    char *stored_at[REINDEX_BATCH];
    uint8_t *doc[REINDEX_BATCH];
    size_t len[REINDEX_BATCH];
    int n;
};

static int
on_unindexed(const char *const *cols, const size_t *lens, int n, void *arg)
{
    struct unindexed *u = arg;
    if (n < 3 || !cols[0] || !cols[2])
        return 0;
    int i = u->n;
    u->seq[i] = strtoull(cols[0], NULL, 10);
    u->stored_at[i] = strdup(cols[1] ? cols[1] : "");
    u->doc[i] = malloc(lens[2] ? lens[2] : 1);
    if (!u->stored_at[i] || !u->doc[i]) {
        free(u->stored_at[i]);
        free(u->doc[i]);
        return -ENOMEM;
    }
    memcpy(u->doc[i], cols[2], lens[2]);
    u->len[i] = lens[2];
    u->n++;
    return 0;
}

int64_t
nw_store_reindex(nw_store_t *s)
{
    int64_t done = 0;
    if (s->readonly)
        return -EROFS;
    for (;;) {
        struct unindexed *u = calloc(1, sizeof *u);
        if (!u)
            return -ENOMEM;
        char sql[256];
        snprintf(sql, sizeof sql,
                 "SELECT a.seq, a.stored_at, a.doc FROM articles a WHERE NOT EXISTS"
                 " (SELECT 1 FROM article_topics t WHERE t.seq = a.seq) ORDER BY a.seq LIMIT %d",
                 REINDEX_BATCH);
        int rc = s->ops->select(s, sql, NULL, 0, on_unindexed, u);
        if (rc >= 0 && u->n > 0 && (rc = nw_store_begin(s)) == 0) {
            for (int i = 0; i < u->n && rc >= 0; i++) {
                nw_enriched_t e;
                if (nw_enriched_decode(&e, u->doc[i], u->len[i]) < 0) {
                    NW_WARN(NULL, "store: reindex: undecodable document seq=%" PRIu64, u->seq[i]);
                    e = (nw_enriched_t){0};
                    char *all = "all";
                    e.topics = &all;
                    e.n_topics = 1; /* indexed as "all" only: it is still an article */
                    rc = store_index_put(s, &e, u->seq[i], 0, u->stored_at[i]);
                    continue;
                }
                rc = store_index_put(s, &e, u->seq[i], 0, u->stored_at[i]);
                nw_enriched_release(&e);
            }
            rc = rc < 0 ? rc : nw_store_commit(s);
            if (rc < 0)
                nw_store_rollback(s);
        }
        int n = u->n;
        for (int i = 0; i < u->n; i++) {
            free(u->stored_at[i]);
            free(u->doc[i]);
        }
        free(u);
        if (rc < 0)
            return rc;
        done += n;
        if (n < REINDEX_BATCH)
            return done;
    }
}

/* ---- pages ---- */

/* One condition of a filter: the topics (any prefix), one required topic, the places, or the
 * full-text words. rows is how many index rows it has in the filter's window (an upper bound
 * of its articles), counted up to what the plan needs to know. walkable: its rows are exactly
 * one topic's (topic), so they are articles in (topic, at, seq) and (topic, seq) order, and
 * its condition is an equality (no OR of ranges, which costs SQLite a set of row keys). */
enum { T_TOPICS, T_TOPIC, T_PLACE, T_WORDS };
typedef struct term {
    int kind;
    const char *topic; /* T_TOPIC; the one topic of a walkable term */
    int64_t rows;
    int walkable;
    int capped;  /* rows stopped at the count's limit: there are at least that many */
    int as_list; /* T_WORDS probed as the list of their matches (read once), not per row */
    int via;     /* T_WORDS probed as their matches among this small term's articles (-1) */
} term_t;

/* The seqs of term t as "SELECT <x>.seq ... WHERE (...)", so a caller may append " AND ...";
 * words is the dialect's match text. */
static int
term_sql(sql_t *q, bounds_t *b, const store_dialect_t *d, const nw_store_filter_t *f,
         const term_t *t, const char *words)
{
    switch (t->kind) {
    case T_PLACE:
        /* The points in the area (few: places are gazetteer points), then their articles. */
        sql_add(q, "SELECT p.seq FROM place_points pp CROSS JOIN article_places p WHERE ");
        place_cond(q, f, "pp");
        sql_add(q, " AND p.lat = pp.lat AND p.lon = pp.lon");
        return 0;
    case T_WORDS:
        sql_add(q, d->fts_seqs);
        for (const char *p = strchr(d->fts_seqs, '?'); p; p = strchr(p + 1, '?'))
            sql_param(q, words);
        return 0;
    }
    sql_add(q, "SELECT x.seq FROM article_topics x WHERE ");
    if (t->walkable) {
        sql_add(q, "x.topic = ?");
        sql_param(q, t->topic);
        return 0;
    }
    return t->kind == T_TOPICS ? topic_cond(q, b, "x.topic", f->topics, f->n_topics, 0)
                               : topic_cond(q, b, "x.topic", &t->topic, 1, 1);
}

static int
on_count(const char *const *cols, const size_t *lens, int n, void *arg)
{
    (void)lens;
    *(int64_t *)arg = n > 0 && cols[0] ? strtoll(cols[0], NULL, 10) : 0;
    return 0;
}

/* The window and seq bounds of f on the topic row alias. */
static void
window_sql(sql_t *q, const nw_store_filter_t *f, const char *alias)
{
    char col[16];
    if (f->from) {
        snprintf(col, sizeof col, " AND %s.at >= ?", alias);
        sql_add(q, col);
        sql_param(q, f->from);
    }
    if (f->to) {
        snprintf(col, sizeof col, " AND %s.at < ?", alias);
        sql_add(q, col);
        sql_param(q, f->to);
    }
    if (f->after_seq) {
        snprintf(col, sizeof col, " AND %s.seq > ?", alias);
        sql_add(q, col);
        sql_paramu(q, f->after_seq);
    }
}

/* Whether term t is walkable: one topic with nothing under it (one index probe). */
static int
term_walkable(nw_store_t *s, const nw_store_filter_t *f, term_t *t)
{
    t->walkable = 0;
    if (!(t->kind == T_TOPIC || (t->kind == T_TOPICS && f->n_topics == 1)))
        return 0;
    /* Something under the topic (T_TOPIC: "p." children; T_TOPICS: any longer string)? */
    const char *p = t->kind == T_TOPIC ? t->topic : f->topics[0];
    int64_t under = 0;
    bounds_t b = {0};
    sql_t q = {0};
    sql_add(&q, t->kind == T_TOPIC ? "SELECT count(*) FROM (SELECT 1 FROM article_topics"
                                     " WHERE topic >= ? AND topic < ? LIMIT 1) c"
                                   : "SELECT count(*) FROM (SELECT 1 FROM article_topics"
                                     " WHERE topic > ? AND topic < ? LIMIT 1) c");
    const char *lo = t->kind == T_TOPIC ? dotted(&b, p) : p;
    const char *hi = upper_of(&b, p, t->kind == T_TOPIC ? "." : "");
    sql_param(&q, lo);
    sql_param(&q, hi);
    int rc = lo && hi && *p ? run(s, &q, on_count, &under) : -EINVAL;
    sql_release(&q);
    if (rc < 0)
        return rc;
    t->walkable = under == 0;
    t->topic = p;
    return 0;
}

/* Count the rows of term t (topics: in f's window) up to max into t->rows. */
static int
term_size(nw_store_t *s, const nw_store_filter_t *f, term_t *t, const char *words, int64_t max)
{
    const store_dialect_t *d = s->ops->dialect;
    sql_t q = {0};
    bounds_t b = {0};
    char lim[64];
    sql_add(&q, "SELECT count(*) FROM (");
    int rc = term_sql(&q, &b, d, f, t, words);
    if (t->kind == T_TOPICS || t->kind == T_TOPIC)
        window_sql(&q, f, "x");
    snprintf(lim, sizeof lim, " LIMIT %" PRId64 ") c", max);
    sql_add(&q, lim);
    if (rc == 0)
        rc = run(s, &q, on_count, &t->rows);
    sql_release(&q);
    return rc < 0 ? rc : 0;
}

static size_t
terms_of(const nw_store_filter_t *f, const char *words, term_t *t)
{
    size_t n = 0;
    if (f->n_topics)
        t[n++] = (term_t){.kind = T_TOPICS};
    for (size_t i = 0; i < f->n_all_of; i++)
        t[n++] = (term_t){.kind = T_TOPIC, .topic = f->all_of[i]};
    if (f->has_near || f->has_bbox)
        t[n++] = (term_t){.kind = T_PLACE};
    if (words)
        t[n++] = (term_t){.kind = T_WORDS, .via = -1};
    return n;
}

/* Term i as a condition on the candidate's topic row "t": an index probe by seq; for the words,
 * the matches among a small term's articles (the match walks its list once, checking each
 * against the term's), else the list of their matches when it is short, else a match per row
 * (dear for a common word: each probe seeks its long list of rows). */
static int
probe_sql(sql_t *q, bounds_t *b, const store_dialect_t *d, const nw_store_filter_t *f,
          const term_t *terms, size_t i, const char *words)
{
    const term_t *t = &terms[i];
    int rc;
    if (t->kind == T_WORDS && t->via >= 0) {
        sql_add(q, " AND t.seq IN (");
        rc = term_sql(q, b, d, f, t, words);
        sql_add(q, " AND ");
        sql_add(q, d->fts_seq_col);
        sql_add(q, " IN (SELECT v.seq FROM (");
        if (rc == 0)
            rc = term_sql(q, b, d, f, &terms[t->via], words);
        if (terms[t->via].kind == T_TOPICS || terms[t->via].kind == T_TOPIC)
            window_sql(q, f, "x");
        sql_add(q, ") v))");
        return rc;
    }
    if (t->kind == T_WORDS && !t->as_list) {
        sql_add(q, " AND ");
        sql_add(q, d->fts_probe);
        for (const char *p = strchr(d->fts_probe, '?'); p; p = strchr(p + 1, '?'))
            sql_param(q, words);
        return 0;
    }
    if (t->kind == T_WORDS) {
        sql_add(q, " AND t.seq IN (");
        rc = term_sql(q, b, d, f, t, words);
        sql_add(q, ")");
        return rc;
    }
    sql_add(q, " AND EXISTS (");
    if (t->kind == T_PLACE) {
        sql_add(q, "SELECT 1 FROM article_places p WHERE p.seq = t.seq AND ");
        place_cond(q, f, "p");
        sql_add(q, ")");
        return 0;
    }
    rc = term_sql(q, b, d, f, t, words);
    sql_add(q, " AND x.seq = t.seq)");
    return rc;
}

/* FROM ... WHERE ... of a page: t is the candidate's topic row, which carries its time.
 * drive >= 0: the candidates are that (small) term's articles, each joined to its "all" row;
 * drive < 0: they are the rows of topic walk ("all", or a walkable term's, skipped as a
 * probe), read in the index's order. Every other term is a probe; skip (-1: none) too. */
static int
from_where(sql_t *q, bounds_t *b, const store_dialect_t *d, const nw_store_filter_t *f,
           const term_t *terms, size_t n_terms, int drive, const char *walk, int skip,
           const char *words)
{
    int rc = 0;
    if (drive >= 0) {
        /* The term's seqs first (CROSS JOIN keeps SQLite's join order), each article once. */
        sql_add(q, " FROM (SELECT DISTINCT d.seq FROM (");
        rc = term_sql(q, b, d, f, &terms[drive], words);
        if (terms[drive].kind == T_TOPICS || terms[drive].kind == T_TOPIC)
            window_sql(q, f, "x"); /* the term's rows carry the time too */
        sql_add(q, ") d) dr CROSS JOIN article_topics t WHERE t.topic = 'all' AND t.seq = dr.seq");
    } else {
        sql_add(q, " FROM article_topics t WHERE t.topic = ?");
        sql_param(q, walk);
    }
    window_sql(q, f, "t");
    for (size_t i = 0; i < n_terms && rc == 0; i++)
        if ((int)i != drive && (int)i != skip)
            rc = probe_sql(q, b, d, f, terms, i, words);
    return rc;
}

/* A filter's plan: its terms sized, the smallest when under SMALL_MAX (its articles are read
 * whole, the others probed: "small"), the smallest walkable one ("walk": read in its index's
 * order until the page is full), and whether a term has no rows (nothing matches). */
typedef struct plan {
    term_t terms[NW_STORE_MAX_TERMS + 3];
    size_t n;
    int small, walk, empty;
} plan_t;

static int
plan_terms(nw_store_t *s, const nw_store_filter_t *f, const char *w, plan_t *pl)
{
    pl->n = terms_of(f, w, pl->terms);
    pl->small = pl->walk = -1;
    pl->empty = 0;
    /* Walkable terms are counted far enough to pick the one to walk, the others to know
     * whether they are small (words: whether their matches make a short list); once a term
     * is small, the rest only as far as it (is any smaller?). */
    for (size_t i = 0; i < pl->n && !pl->empty; i++) {
        term_t *t = &pl->terms[i];
        int rc = term_walkable(s, f, t);
        int64_t small_max = t->kind == T_PLACE ? PLACE_SMALL_MAX : SMALL_MAX;
        int64_t max = t->walkable ? SIZE_CAP : t->kind == T_WORDS ? WORDS_LIST_MAX : small_max;
        if (pl->small >= 0 && pl->terms[pl->small].rows + 1 < max)
            max = pl->terms[pl->small].rows + 1;
        if (rc < 0 || (rc = term_size(s, f, t, w, max)) < 0)
            return rc;
        t->capped = t->rows >= max;
        pl->empty = t->rows == 0;
        if (t->rows < small_max && (pl->small < 0 || t->rows < pl->terms[pl->small].rows))
            pl->small = (int)i;
        if (t->walkable && (pl->walk < 0 || t->rows < pl->terms[pl->walk].rows))
            pl->walk = (int)i;
    }
    /* The words' matches as a list when it is short and not much longer than the rows the
     * page reads (a probe per row costs about as much as ten entries of the list). */
    int64_t reads = pl->small >= 0  ? pl->terms[pl->small].rows
                    : pl->walk >= 0 ? pl->terms[pl->walk].rows
                                    : SIZE_CAP;
    for (size_t i = 0; i < pl->n; i++)
        if (pl->terms[i].kind == T_WORDS) {
            pl->terms[i].as_list = !pl->terms[i].capped && pl->terms[i].rows < WORDS_LIST_MAX &&
                                   pl->terms[i].rows < 10 * reads;
            pl->terms[i].via = pl->small >= 0 && pl->small != (int)i ? pl->small : -1;
        }
    return 0;
}

/* FROM ... WHERE ... of the articles matching f by plan pl: a small term that is not walkable
 * is read whole, else the smallest walkable term's rows (or "all") are read in order. */
static int
body_sql(sql_t *q, bounds_t *b, const store_dialect_t *d, const nw_store_filter_t *f,
         const plan_t *pl, const char *w)
{
    if (pl->small >= 0 && !pl->terms[pl->small].walkable)
        return from_where(q, b, d, f, pl->terms, pl->n, pl->small, NULL, -1, w);
    return from_where(q, b, d, f, pl->terms, pl->n, -1,
                      pl->walk >= 0 ? pl->terms[pl->walk].topic : "all", pl->walk, w);
}

typedef struct cand {
    uint64_t seq;
    char at[40];
    int published;
    double rank;
} cand_t;

struct cands {
    cand_t *c;
    int n, cap;
};

static int
on_cand(const char *const *cols, const size_t *lens, int n, void *arg)
{
    (void)lens;
    struct cands *cs = arg;
    if (n < 3 || !cols[0] || cs->n == cs->cap)
        return 0;
    cand_t *c = &cs->c[cs->n++];
    c->seq = strtoull(cols[0], NULL, 10);
    snprintf(c->at, sizeof c->at, "%s", cols[1] ? cols[1] : "");
    c->published = cols[2] && (cols[2][0] == '1' || cols[2][0] == 't');
    c->rank = n > 3 && cols[3] ? strtod(cols[3], NULL) : 0;
    return 0;
}

/* The page's rows, read in a few statements (a round trip each: on PostgreSQL one per row
 * cost more than the page's query) and passed to the callback in the page's order. */
#define FETCH_CHUNK 200 /* seqs listed per statement */

typedef struct fetched {
    char *id, *title, *published, *lang, *url, *snippet;
    uint8_t *doc;
    size_t doc_len;
    int found;
} fetched_t;

struct fetch {
    const cand_t *c; /* the shown candidates, in page order */
    int n;
    struct seq_at {
        uint64_t seq;
        int i;
    } * by_seq; /* the candidates' seqs, sorted, with their indexes in c */
    fetched_t *rows;
};

static int
cmp_by_seq(const void *a, const void *b)
{
    uint64_t x = ((const struct seq_at *)a)->seq, y = ((const struct seq_at *)b)->seq;
    return x < y ? -1 : x > y;
}

static fetched_t *
fetched_of(struct fetch *fe, const char *seqtext)
{
    uint64_t seq = seqtext ? strtoull(seqtext, NULL, 10) : 0;
    int lo = 0, hi = fe->n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        uint64_t m = fe->by_seq[mid].seq;
        if (m == seq)
            return &fe->rows[fe->by_seq[mid].i];
        if (m < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int
dup_col(char **out, const char *v)
{
    return v && !(*out = strdup(v)) ? -ENOMEM : 0;
}

static int
on_article_row(const char *const *cols, const size_t *lens, int n, void *arg)
{
    if (n < 7)
        return -EIO;
    fetched_t *r = fetched_of(arg, cols[0]);
    if (!r || r->found)
        return 0;
    r->found = 1;
    if (dup_col(&r->id, cols[1]) < 0 || dup_col(&r->title, cols[2]) < 0 ||
        dup_col(&r->published, cols[3]) < 0 || dup_col(&r->lang, cols[4]) < 0 ||
        dup_col(&r->url, cols[5]) < 0 || !(r->doc = malloc(lens[6] ? lens[6] : 1)))
        return -ENOMEM;
    if (lens[6])
        memcpy(r->doc, cols[6], lens[6]);
    r->doc_len = lens[6];
    return 0;
}

static int
on_snippet(const char *const *cols, const size_t *lens, int n, void *arg)
{
    (void)lens;
    fetched_t *r = n > 1 ? fetched_of(arg, cols[0]) : NULL;
    return r && !r->snippet ? dup_col(&r->snippet, cols[1]) : 0;
}

/* Run head + "?, ?, ...)" over the seqs of fe's candidates, FETCH_CHUNK at a time; words
 * fill head's own placeholders. */
static int
fetch_sql(nw_store_t *s, struct fetch *fe, const char *head, const char *words, store_sel_cb cb)
{
    int rc = 0;
    for (int i = 0; i < fe->n && rc >= 0; i += FETCH_CHUNK) {
        sql_t q = {0};
        sql_add(&q, head);
        for (const char *p = strchr(head, '?'); p; p = strchr(p + 1, '?'))
            sql_param(&q, words);
        for (int k = i; k < fe->n && k < i + FETCH_CHUNK; k++) {
            sql_add(&q, k > i ? ", ?" : "?");
            sql_paramu(&q, fe->c[k].seq);
        }
        sql_add(&q, ")");
        rc = run(s, &q, cb, fe);
        sql_release(&q);
    }
    return rc < 0 ? rc : 0;
}

static void
fetch_release(struct fetch *fe)
{
    for (int i = 0; fe->rows && i < fe->n; i++) {
        fetched_t *r = &fe->rows[i];
        free(r->id);
        free(r->title);
        free(r->published);
        free(r->lang);
        free(r->url);
        free(r->snippet);
        free(r->doc);
    }
    free(fe->rows);
    free(fe->by_seq);
}

/* The n shown candidates' rows (and snippets for words, when not NULL) to cb in order, as
 * long as it asks for more. Returns the rows gone through (a row no longer stored counts but
 * is not passed: a writer replaced it since the page's query) or a negative errno. */
static int
fetch_rows(nw_store_t *s, const cand_t *c, int n, const char *words, nw_store_qrow_cb cb, void *arg)
{
    struct fetch fe = {.c = c, .n = n};
    int rc = 0, done = 0;
    if (n == 0)
        return 0;
    fe.rows = calloc((size_t)n, sizeof *fe.rows);
    fe.by_seq = calloc((size_t)n, sizeof *fe.by_seq);
    if (!fe.rows || !fe.by_seq) {
        rc = -ENOMEM;
        goto out;
    }
    for (int i = 0; i < n; i++)
        fe.by_seq[i] = (struct seq_at){c[i].seq, i};
    qsort(fe.by_seq, (size_t)n, sizeof *fe.by_seq, cmp_by_seq);
    if (words && (rc = fetch_sql(s, &fe, s->ops->dialect->snippet_sql, words, on_snippet)) < 0)
        goto out;
    if ((rc = fetch_sql(s, &fe,
                        "SELECT seq, id, title, published, lang, url, doc FROM articles"
                        " WHERE seq IN (",
                        NULL, on_article_row)) < 0)
        goto out;
    for (int i = 0; i < n; i++) {
        const fetched_t *r = &fe.rows[i];
        done++;
        if (!r->found)
            continue;
        nw_store_qrow_t row = {
            .seq = c[i].seq,
            .id = r->id,
            .title = r->title,
            .published = r->published,
            .lang = r->lang,
            .url = r->url,
            .at = c[i].at,
            .at_published = c[i].published,
            .rank = c[i].rank,
            .snippet = r->snippet,
            .doc = r->doc,
            .doc_len = r->doc_len,
        };
        if (cb(&row, arg) != 0)
            break;
    }
    rc = done;
out:
    fetch_release(&fe);
    return rc;
}

/* Parse a cursor of this sort into the page's position. */
static int
parse_cursor(const nw_store_page_t *pg, uint64_t *seq, char *at, size_t atlen, int64_t *offset)
{
    const char *c = pg->cursor;
    char *end = NULL;
    if (!c || !*c)
        return 0;
    switch (pg->sort) {
    case NW_STORE_SORT_SEQ:
        if (c[0] != 's' || c[1] < '0' || c[1] > '9')
            return -EINVAL;
        *seq = strtoull(c + 1, &end, 10);
        return *end ? -EINVAL : 0;
    case NW_STORE_SORT_PUBLISHED: {
        const char *comma = strrchr(c, ',');
        if (c[0] != 'p' || !comma || (size_t)(comma - c - 1) >= atlen || comma[1] < '0' ||
            comma[1] > '9')
            return -EINVAL;
        memcpy(at, c + 1, (size_t)(comma - c - 1));
        at[comma - c - 1] = 0;
        if (strspn(at, "0123456789-T:.Z") != strlen(at))
            return -EINVAL;
        *seq = strtoull(comma + 1, &end, 10);
        return *end ? -EINVAL : 0;
    }
    case NW_STORE_SORT_RELEVANCE:
        if (c[0] != 'r' || c[1] < '0' || c[1] > '9')
            return -EINVAL;
        *offset = strtoll(c + 1, &end, 10);
        return *end || *offset < 0 ? -EINVAL : 0;
    }
    return -EINVAL;
}

int
nw_store_query(nw_store_t *s, const nw_store_filter_t *f, nw_store_page_t *pg, nw_store_qrow_cb cb,
               void *arg)
{
    const store_dialect_t *d = s->ops->dialect;
    plan_t pl;
    sql_t q = {0};
    bounds_t b = {0};
    nw_buf_t words = {0};
    struct cands cs = {0};
    uint64_t cur_seq = 0;
    char cur_at[40] = "", seqbuf[24], lim[160];
    int64_t offset = 0;
    int rc = 0, n_out = 0;

    pg->next[0] = 0;
    pg->has_more = 0;
    pg->total = -1;
    pg->total_exact = 0;
    if (s->version < 8)
        return -EPROTO;
    if (pg->limit < 1 || pg->limit > 1000 || f->n_topics > NW_STORE_MAX_TERMS ||
        f->n_all_of > NW_STORE_MAX_TERMS || (pg->sort == NW_STORE_SORT_RELEVANCE && !f->q))
        return -EINVAL;
    if ((rc = parse_cursor(pg, &cur_seq, cur_at, sizeof cur_at, &offset)) < 0)
        return rc;
    if (f->q && (rc = d->fts_text(f->q, &words)) < 0)
        goto out;
    const char *w = f->q ? (const char *)words.data : NULL;
    if ((rc = plan_terms(s, f, w, &pl)) < 0)
        goto out;
    const term_t *terms = pl.terms;
    size_t n_terms = pl.n;
    int small = pl.small, offset_done = 0;
    if (pl.empty) {
        pg->total = 0;
        pg->total_exact = 1;
        rc = 0;
        goto out;
    }

    /* The total, where counting is cheap: the small term's articles tested, one walkable term
     * (or none: "all") counted in its index range, the words alone; else has_more only. */
    if (pg->count_max > 0) {
        int64_t total = -1;
        if (small >= 0 || n_terms == 0) {
            sql_add(&q, "SELECT count(*) FROM (SELECT 1");
            if ((rc = body_sql(&q, &b, d, f, &pl, w)) < 0)
                goto out;
            snprintf(lim, sizeof lim, " LIMIT %" PRId64 ") c", pg->count_max + 1);
            sql_add(&q, lim);
            if ((rc = run(s, &q, on_count, &total)) < 0)
                goto out;
            sql_release(&q);
            q = (sql_t){0};
            b.n = 0;
        } else if (n_terms == 1 && (terms[0].walkable || (terms[0].kind == T_WORDS && !f->from &&
                                                          !f->to && !f->after_seq))) {
            total = terms[0].rows;
        }
        if (total >= 0) {
            pg->total_exact = total <= pg->count_max;
            pg->total = total > pg->count_max ? pg->count_max : total;
        }
    }

    if (pg->sort == NW_STORE_SORT_RELEVANCE) {
        /* Rank a bounded set in one statement (the ranking's statistics are read once, not
         * per row): a small term's articles (the matches among them) or the words' few
         * matches, else the RANK_MAX newest matches that pass the filters. */
        if (small >= 0) {
            sql_add(&q, "SELECT t.seq, t.at, t.published, c.rank FROM (");
            sql_add(&q, d->fts_ranked);
            for (const char *p = strchr(d->fts_ranked, '?'); p; p = strchr(p + 1, '?'))
                sql_param(&q, w);
            if (terms[small].kind != T_WORDS) {
                sql_add(&q, " AND ");
                sql_add(&q, d->fts_seq_col);
                sql_add(&q, " IN (SELECT d.seq FROM (");
                rc = term_sql(&q, &b, d, f, &terms[small], w);
                if (terms[small].kind != T_PLACE)
                    window_sql(&q, f, "x");
                sql_add(&q, ") d)");
            }
            sql_add(&q, ") c CROSS JOIN article_topics t WHERE t.topic = 'all' AND t.seq = c.seq");
        } else if (n_terms == 1 && !f->from && !f->to && !f->after_seq) {
            /* The words alone: rank the newest matches, then read the page's rows only. */
            sql_add(&q, "SELECT t.seq, t.at, t.published, c.rank FROM (SELECT seq, rank FROM (");
            sql_add(&q, d->fts_ranked);
            for (const char *p = strchr(d->fts_ranked, '?'); p; p = strchr(p + 1, '?'))
                sql_param(&q, w);
            snprintf(lim, sizeof lim,
                     " %s LIMIT %d) r ORDER BY rank DESC, seq LIMIT %d OFFSET %" PRId64 ") c",
                     d->fts_newest_order, RANK_MAX, pg->limit + 1, offset);
            sql_add(&q, lim);
            sql_add(&q, " CROSS JOIN article_topics t WHERE t.topic = 'all' AND t.seq = c.seq");
            offset_done = 1;
        } else {
            sql_add(&q, "SELECT c.seq, c.at, c.published, c.rank FROM (");
            sql_add(&q, d->fts_newest);
            for (const char *p = strchr(d->fts_newest, '?'); p; p = strchr(p + 1, '?'))
                sql_param(&q, w);
        }
        window_sql(&q, f, "t");
        for (size_t i = 0; i < n_terms && rc == 0; i++)
            if ((int)i != small && terms[i].kind != T_WORDS)
                rc = probe_sql(&q, &b, d, f, terms, i, w);
        if (rc < 0)
            goto out;
        if (small >= 0 || offset_done)
            snprintf(lim, sizeof lim, " ORDER BY c.rank DESC, t.seq");
        else
            snprintf(lim, sizeof lim, " %s LIMIT %d) c ORDER BY c.rank DESC, c.seq",
                     d->fts_newest_order, RANK_MAX);
        sql_add(&q, lim);
    } else {
        sql_add(&q, "SELECT t.seq, t.at, t.published");
        if ((rc = body_sql(&q, &b, d, f, &pl, w)) < 0)
            goto out;
        snprintf(seqbuf, sizeof seqbuf, "%" PRIu64, cur_seq);
        if (pg->sort == NW_STORE_SORT_SEQ) {
            if (cur_seq) {
                sql_add(&q, " AND t.seq > ?");
                sql_param(&q, seqbuf);
            }
            sql_add(&q, " ORDER BY t.seq");
        } else {
            if (cur_at[0]) {
                sql_add(&q, " AND (t.at < ? OR (t.at = ? AND t.seq < ?))");
                sql_param(&q, cur_at);
                sql_param(&q, cur_at);
                sql_param(&q, seqbuf);
            }
            sql_add(&q, " ORDER BY t.at DESC, t.seq DESC");
        }
    }
    snprintf(lim, sizeof lim, " LIMIT %d OFFSET %" PRId64, pg->limit + 1, offset_done ? 0 : offset);
    sql_add(&q, lim);
    cs.cap = pg->limit + 1;
    if ((cs.c = calloc((size_t)cs.cap, sizeof *cs.c)) == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    if ((rc = run(s, &q, on_cand, &cs)) < 0)
        goto out;
    pg->has_more = cs.n > pg->limit;
    int shown = cs.n > pg->limit ? pg->limit : cs.n;
    if ((rc = fetch_rows(s, cs.c, shown, pg->want_snippets ? w : NULL, cb, arg)) < 0)
        goto out;
    n_out = rc;
    if (pg->has_more && shown > 0) {
        const cand_t *last = &cs.c[shown - 1];
        if (pg->sort == NW_STORE_SORT_SEQ)
            snprintf(pg->next, sizeof pg->next, "s%" PRIu64, last->seq);
        else if (pg->sort == NW_STORE_SORT_PUBLISHED)
            snprintf(pg->next, sizeof pg->next, "p%s,%" PRIu64, last->at, last->seq);
        else
            snprintf(pg->next, sizeof pg->next, "r%" PRId64, offset + shown);
    }
    rc = n_out;
out:
    free(cs.c);
    sql_release(&q);
    nw_buf_release(&words);
    return rc;
}

/* ---- facets ----
 *
 * Without filters, a facet is read from the kept counts: the window is cut into whole days
 * (facet_days), whole hours at its ends (facet_hours) and the minutes before the first and
 * after the last whole hour (article_topics rows), so a week of persons reads a few thousand
 * counts. With filters, the matching articles are found as a page finds them (the smallest
 * term's articles, else a walk) and their topic rows under the prefix are counted. */

typedef struct fcount {
    char *topic;
    int64_t count, previous;
    int64_t *buckets;
} fcount_t;

struct fcounts {
    fcount_t *v;
    size_t n, cap;
    int previous; /* filling previous of the topics already there (sorted by topic) */
};

static int
by_topic(const void *a, const void *b)
{
    return strcmp(((const fcount_t *)a)->topic, ((const fcount_t *)b)->topic);
}

static fcount_t *
find_topic(struct fcounts *fc, const char *topic)
{
    fcount_t key = {.topic = (char *)topic};
    return bsearch(&key, fc->v, fc->n, sizeof *fc->v, by_topic);
}

static int
on_fcount(const char *const *cols, const size_t *lens, int n, void *arg)
{
    (void)lens;
    struct fcounts *fc = arg;
    if (n < 2 || !cols[0] || !cols[1])
        return 0;
    int64_t count = strtoll(cols[1], NULL, 10);
    if (fc->previous) {
        fcount_t *t = find_topic(fc, cols[0]);
        if (t)
            t->previous = count;
        return 0;
    }
    if (fc->n == fc->cap) {
        size_t cap = fc->cap ? fc->cap * 2 : 64;
        fcount_t *v = realloc(fc->v, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        fc->v = v;
        fc->cap = cap;
    }
    fcount_t *t = &fc->v[fc->n];
    *t = (fcount_t){.topic = strdup(cols[0]), .count = count};
    if (!t->topic)
        return -ENOMEM;
    fc->n++;
    return 0;
}

/* A facet's topics: under prefix, or (prefix NULL) one of top[0..n_top). */
typedef struct fsel {
    const char *prefix;
    const fcount_t *top;
    size_t n_top;
} fsel_t;

static int
fsel_cond(sql_t *q, bounds_t *b, const char *col, const fsel_t *sel)
{
    if (sel->prefix)
        return topic_cond(q, b, col, &sel->prefix, 1, 0);
    sql_add(q, col);
    sql_add(q, " IN (");
    for (size_t i = 0; i < sel->n_top; i++) {
        sql_add(q, i ? ", ?" : "?");
        sql_param(q, sel->top[i].topic);
    }
    sql_add(q, ")");
    return 0;
}

/* The window [from_ms, to_ms) as pieces of the kept counts (days only when days_ok). */
typedef struct piece {
    const char *table, *key; /* "article_topics", "at": raw rows, counted 1 each */
    char lo[40], hi[40];
} piece_t;

static size_t
window_pieces(int64_t from, int64_t to, int days_ok, piece_t *p)
{
    const int64_t H = 3600000, D = 86400000;
    int64_t h1 = (from + H - 1) / H * H, h2 = to / H * H;
    int64_t d1 = (from + D - 1) / D * D, d2 = to / D * D;
    int64_t cut[6];
    size_t n = 0;
    if (from < 0 || h1 >= h2) {
        cut[0] = from;
        cut[1] = to;
        n = 1;
    } else {
        if (!days_ok || d1 >= d2)
            d1 = d2 = h2;
        int64_t c[6] = {from, h1, d1, d2, h2, to};
        memcpy(cut, c, sizeof c);
        n = 5;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (cut[i] >= cut[i + 1])
            continue;
        int raw = n == 1 || i == 0 || i == 4, day = n > 1 && i == 2;
        p[k].table = raw ? "article_topics" : day ? "facet_days" : "facet_hours";
        p[k].key = raw ? "at" : day ? "day" : "hour";
        nw_time_iso(cut[i], p[k].lo, sizeof p[k].lo);
        nw_time_iso(cut[i + 1], p[k].hi, sizeof p[k].hi);
        if (!raw) {
            p[k].lo[day ? 10 : 13] = 0;
            p[k].hi[day ? 10 : 13] = 0;
        }
        k++;
    }
    return k;
}

/* "SELECT topic, <key> AS k, n FROM ..." of every piece, joined by UNION ALL. */
static int
pieces_sql(sql_t *q, bounds_t *b, const piece_t *p, size_t n, const fsel_t *sel)
{
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char head[160];
        int raw = strcmp(p[i].key, "at") == 0;
        sql_add(q, i ? " UNION ALL " : "");
        if (raw) {
            /* The articles of the minutes by their "all" rows, then their topic rows. */
            sql_add(q, "SELECT ft.topic AS topic, ft.at AS k, 1 AS n FROM article_topics a"
                       " CROSS JOIN article_topics ft WHERE a.topic = 'all' AND a.at >= ?"
                       " AND a.at < ? AND ft.seq = a.seq AND ");
            sql_param(q, p[i].lo);
            sql_param(q, p[i].hi);
            rc = fsel_cond(q, b, "ft.topic", sel);
            continue;
        }
        snprintf(head, sizeof head,
                 "SELECT topic, %s AS k, n FROM %s WHERE %s >= ? AND %s < ? AND ", p[i].key,
                 p[i].table, p[i].key, p[i].key);
        sql_add(q, head);
        sql_param(q, p[i].lo);
        sql_param(q, p[i].hi);
        rc = fsel_cond(q, b, "topic", sel);
    }
    return rc;
}

/* "SELECT t.seq FROM ..." of the articles matching g (a plan with terms). */
static int
matches_sql(sql_t *q, bounds_t *b, const store_dialect_t *d, const nw_store_filter_t *g,
            const plan_t *pl, const char *w)
{
    sql_add(q, "SELECT t.seq");
    return body_sql(q, b, d, g, pl, w);
}

static int
filtered(const nw_store_filter_t *f)
{
    return f->n_topics || f->n_all_of || f->has_near || f->has_bbox || f->q || f->after_seq;
}

/* Counts per topic of sel of the articles matching f in [from, to) into fc (limit > 0: the
 * top limit by count; the previous pass takes every topic it finds). */
static int
facet_counts(nw_store_t *s, const nw_store_filter_t *f, const char *w, const fsel_t *sel,
             int64_t from_ms, int64_t to_ms, int limit, struct fcounts *fc)
{
    const store_dialect_t *d = s->ops->dialect;
    nw_store_filter_t g = *f;
    char from[40], to[40], lim[96];
    sql_t q = {0};
    bounds_t b = {0};
    plan_t pl;
    piece_t p[5]; /* their bounds are parameters: they live until the query has run */
    int rc = 0;
    nw_time_iso(from_ms, from, sizeof from);
    nw_time_iso(to_ms, to, sizeof to);
    g.from = from;
    g.to = to;
    if (!filtered(f)) {
        size_t n = window_pieces(from_ms, to_ms, 1, p);
        sql_add(&q, "SELECT topic, sum(n) AS c FROM (");
        rc = pieces_sql(&q, &b, p, n, sel);
        sql_add(&q, ") u GROUP BY topic HAVING sum(n) > 0");
    } else {
        if ((rc = plan_terms(s, &g, w, &pl)) < 0 || pl.empty)
            return rc;
        sql_add(&q, "SELECT ft.topic, count(*) AS c FROM (");
        rc = matches_sql(&q, &b, d, &g, &pl, w);
        sql_add(&q, ") m CROSS JOIN article_topics ft WHERE ft.seq = m.seq AND ");
        if (rc == 0)
            rc = fsel_cond(&q, &b, "ft.topic", sel);
        sql_add(&q, " GROUP BY ft.topic");
    }
    if (limit > 0) {
        snprintf(lim, sizeof lim, " ORDER BY c DESC, 1 LIMIT %d", limit);
        sql_add(&q, lim);
    }
    if (rc == 0)
        rc = run(s, &q, on_fcount, fc);
    sql_release(&q);
    return rc < 0 ? rc : 0;
}

struct bucket_rows {
    struct fcounts *fc;
    char (*starts)[40];
    size_t n_buckets;
    int width; /* characters of at that name the bucket: 13 hour, 10 day */
};

static int
on_bucket(const char *const *cols, const size_t *lens, int n, void *arg)
{
    (void)lens;
    struct bucket_rows *br = arg;
    if (n < 3 || !cols[0] || !cols[1] || !cols[2])
        return 0;
    fcount_t *t = find_topic(br->fc, cols[0]);
    if (!t)
        return 0;
    for (size_t i = 0; i < br->n_buckets; i++)
        if (strncmp(br->starts[i], cols[1], (size_t)br->width) == 0) {
            t->buckets[i] += strtoll(cols[2], NULL, 10);
            break;
        }
    return 0;
}

/* Counts per (topic, bucket) of the top topics, added to their buckets. */
static int
bucket_counts(nw_store_t *s, const nw_store_filter_t *f, const char *w, struct bucket_rows *br,
              int64_t from_ms, int64_t to_ms)
{
    const store_dialect_t *d = s->ops->dialect;
    fsel_t sel = {.top = br->fc->v, .n_top = br->fc->n};
    sql_t q = {0};
    bounds_t b = {0};
    piece_t p[5]; /* their bounds are parameters: they live until the query has run */
    char expr[96];
    int rc = 0;
    if (!filtered(f)) {
        size_t n = window_pieces(from_ms, to_ms, br->width == 10, p);
        snprintf(expr, sizeof expr, "SELECT topic, substr(k, 1, %d) AS b, sum(n) FROM (",
                 br->width);
        sql_add(&q, expr);
        rc = pieces_sql(&q, &b, p, n, &sel);
        sql_add(&q, ") u GROUP BY topic, b");
    } else {
        plan_t pl;
        if ((rc = plan_terms(s, f, w, &pl)) < 0 || pl.empty)
            return rc;
        snprintf(expr, sizeof expr, "SELECT ft.topic, substr(ft.at, 1, %d) AS b, count(*) FROM (",
                 br->width);
        sql_add(&q, expr);
        rc = matches_sql(&q, &b, d, f, &pl, w);
        sql_add(&q, ") m CROSS JOIN article_topics ft WHERE ft.seq = m.seq AND ");
        if (rc == 0)
            rc = fsel_cond(&q, &b, "ft.topic", &sel);
        snprintf(expr, sizeof expr, " GROUP BY ft.topic, substr(ft.at, 1, %d)", br->width);
        sql_add(&q, expr);
    }
    if (rc == 0)
        rc = run(s, &q, on_bucket, br);
    sql_release(&q);
    return rc < 0 ? rc : 0;
}

static int
by_count(const void *a, const void *b)
{
    const fcount_t *x = a, *y = b;
    return x->count != y->count ? (x->count < y->count ? 1 : -1) : strcmp(x->topic, y->topic);
}

static int
by_change(const void *a, const void *b)
{
    const fcount_t *x = a, *y = b;
    int64_t dx = x->count - x->previous, dy = y->count - y->previous;
    return dx != dy ? (dx < dy ? 1 : -1) : by_count(a, b);
}

#define MAX_BUCKETS 2000
#define TRENDING_POOL 2000 /* topics compared for trending */

int
nw_store_facets(nw_store_t *s, const nw_store_filter_t *f, const char *prefix, int top,
                int trending, nw_store_bucket_t bucket, nw_store_facet_cb cb, void *arg)
{
    struct fcounts fc = {0};
    char(*starts)[40] = NULL;
    const char **start_ptrs = NULL;
    nw_buf_t words = {0};
    size_t n_buckets = 0, shown = 0;
    int64_t from_ms = 0, to_ms = 0;
    int rc = 0, n = 0;

    if (s->version < 8)
        return -EPROTO;
    if (!f->from || !f->to || !prefix || !*prefix || top < 1 || top > 1000 ||
        nw_time_parse(f->from, &from_ms) < 0 || nw_time_parse(f->to, &to_ms) < 0 ||
        to_ms <= from_ms)
        return -EINVAL;
    if (f->q && (rc = s->ops->dialect->fts_text(f->q, &words)) < 0)
        goto out;
    const char *w = f->q ? (const char *)words.data : NULL;
    fsel_t sel = {.prefix = prefix};
    if ((rc = facet_counts(s, f, w, &sel, from_ms, to_ms, trending ? TRENDING_POOL : top, &fc)) < 0)
        goto out;
    if (fc.n > 1) /* fc.v is NULL when nothing matched: qsort(NULL, 0) is undefined */
        qsort(fc.v, fc.n, sizeof *fc.v, by_topic);
    fc.previous = 1;
    if (fc.n > 0 &&
        (rc = facet_counts(s, f, w, &sel, from_ms - (to_ms - from_ms), from_ms, 0, &fc)) < 0)
        goto out;
    if (fc.n > 1)
        qsort(fc.v, fc.n, sizeof *fc.v, trending ? by_change : by_count);
    shown = fc.n > (size_t)top ? (size_t)top : fc.n;
    if (bucket != NW_STORE_BUCKET_NONE && shown > 0) {
        int64_t step = bucket == NW_STORE_BUCKET_HOUR ? 3600000LL : 86400000LL;
        int64_t first = from_ms - from_ms % step;
        n_buckets = (size_t)((to_ms - first + step - 1) / step);
        if (n_buckets > MAX_BUCKETS) {
            rc = -ERANGE;
            goto out;
        }
        starts = calloc(n_buckets, sizeof *starts);
        start_ptrs = calloc(n_buckets, sizeof *start_ptrs);
        if (!starts || !start_ptrs) {
            rc = -ENOMEM;
            goto out;
        }
        for (size_t i = 0; i < n_buckets; i++) {
            nw_time_iso(first + (int64_t)i * step, starts[i], sizeof starts[0]);
            start_ptrs[i] = starts[i];
        }
        for (size_t i = 0; i < shown; i++)
            if (!(fc.v[i].buckets = calloc(n_buckets, sizeof(int64_t)))) {
                rc = -ENOMEM;
                goto out;
            }
        /* The top topics, sorted by topic for the look-up, their order kept in a copy. */
        fcount_t *byname = malloc(shown * sizeof *byname);
        if (!byname) {
            rc = -ENOMEM;
            goto out;
        }
        memcpy(byname, fc.v, shown * sizeof *byname);
        qsort(byname, shown, sizeof *byname, by_topic);
        struct fcounts top_fc = {byname, shown, shown, 0};
        struct bucket_rows br = {&top_fc, starts, n_buckets,
                                 bucket == NW_STORE_BUCKET_HOUR ? 13 : 10};
        rc = bucket_counts(s, f, w, &br, from_ms, to_ms);
        free(byname); /* the bucket arrays are fc.v's, shared */
        if (rc < 0)
            goto out;
    }
    for (size_t i = 0; i < shown; i++) {
        nw_store_facet_t out = {
            .topic = fc.v[i].topic,
            .count = fc.v[i].count,
            .previous = fc.v[i].previous,
            .buckets = start_ptrs,
            .bucket_counts = fc.v[i].buckets,
            .n_buckets = fc.v[i].buckets ? n_buckets : 0,
        };
        n++;
        if (cb(&out, arg) != 0)
            break;
    }
    rc = n;
out:
    for (size_t i = 0; i < fc.n; i++) {
        free(fc.v[i].topic);
        free(fc.v[i].buckets);
    }
    free(fc.v);
    free(starts);
    free(start_ptrs);
    nw_buf_release(&words);
    return rc;
}

/* ---- revisions ---- */

struct revs {
    nw_store_rev_cb cb;
    void *arg;
    int stopped;
};

static int
on_rev(const char *const *cols, const size_t *lens, int n, void *arg)
{
    struct revs *r = arg;
    if (n < 8 || r->stopped)
        return 0;
    nw_store_rev_t rev = {
        .rev = (uint32_t)strtoul(cols[0] ? cols[0] : "0", NULL, 10),
        .seq = strtoull(cols[1] ? cols[1] : "0", NULL, 10),
        .av = strtoull(cols[2] ? cols[2] : "0", NULL, 10),
        .late = cols[3] && cols[3][0] == '1',
        .stored_at = cols[4],
        .content_hash = cols[5],
        .doc = (const uint8_t *)cols[6],
        .doc_len = lens[6],
        .current = cols[7] && (cols[7][0] == '1' || cols[7][0] == 't'),
    };
    r->stopped = r->cb(&rev, r->arg) != 0;
    return r->stopped;
}

int
nw_store_revisions(nw_store_t *s, const char *id, nw_store_rev_cb cb, void *arg)
{
    if (s->version < 6)
        return -EPROTO;
    struct revs r = {cb, arg, 0};
    const char *p[1] = {id};
    return s->ops->select(s,
                          "SELECT r.rev, r.seq, r.av, r.late, r.stored_at, r.content_hash, r.doc,"
                          " CASE WHEN a.seq = r.seq THEN 1 ELSE 0 END"
                          " FROM revisions r LEFT JOIN articles a ON a.id = r.id"
                          " WHERE r.id = ? ORDER BY r.rev",
                          p, 1, on_rev, &r);
}
