/* store_query.c: the query API of the store (store.h, "The query API"): the index of topics
 * and places that every current revision gets (schema v7), pages of articles under filters,
 * facets, and revision history. The SQL is written once, here, for both backends; what
 * differs (full-text matching, parameter numbering) is the backend's dialect table
 * (store_backend.h).
 *
 *   article_topics (topic, at, seq)  one row per topic of every current revision, with its
 *                                    time at (published, else stored: ISO 8601 UTC) and
 *                                    whether that was published; "all" is every article's,
 *                                    so its rows are the articles by time and by seq
 *   article_places (seq, lat, lon)   the coordinates of its geocoded places
 *
 * A page is driven from the most selective term: each topic or place condition is counted
 * up to DRIVE_MAX rows first (an index range); when one is under it, the page is read from
 * its rows (a topic nothing matches costs one empty index range, not a scan), else from the
 * "all" rows in the page's order, testing the conditions per row until the page is full.
 * Topic conditions are index ranges: a prefix p is p <= topic < p with its last byte plus
 * one (topics are ASCII), "p or a parent of p's children" is topic = p or p. <= topic < p/. */
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

#define DRIVE_MAX 2000    /* a term with fewer rows than this drives the page */
#define INSERT_ROWS 64    /* rows per INSERT statement of the index */
#define REINDEX_BATCH 500 /* articles per transaction of nw_store_reindex */
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

/* The place condition on article_places p. */
static void
place_cond(sql_t *q, const nw_store_filter_t *f)
{
    sql_add(q, "(");
    if (f->has_bbox) {
        sql_add(q, "p.lat >= ? AND p.lat <= ? AND p.lon >= ? AND p.lon <= ?");
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
        sql_add(q, "p.lat >= ? AND p.lat <= ? AND p.lon >= ? AND p.lon <= ?"
                   " AND (p.lat - ?) * (p.lat - ?) + (p.lon - ?) * (p.lon - ?) * ? <= ?");
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
    return s->ops->select(s, (const char *)q->text.data, q->params, q->n, cb, arg);
}

static void
sql_release(sql_t *q)
{
    nw_buf_release(&q->text);
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
        if ((rc = s->ops->select(s, "DELETE FROM article_topics WHERE seq = ?", p, 1, NULL, NULL)) <
                0 ||
            (rc = s->ops->select(s, "DELETE FROM article_places WHERE seq = ?", p, 1, NULL, NULL)) <
                0)
            return rc;
    }
    for (size_t i = 0; i < e->n_topics && rc >= 0; i += INSERT_ROWS) {
        sql_t q = {0};
        sql_add(&q, "INSERT INTO article_topics (topic, at, seq, published) VALUES ");
        for (size_t k = i; k < e->n_topics && k < i + INSERT_ROWS; k++) {
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
    sql_t q = {0};
    int places = 0;
    for (size_t i = 0; i < e->n_entities && rc >= 0 && places < INSERT_ROWS; i++) {
        const nw_entity_t *en = &e->entities[i];
        if (!en->type || strcmp(en->type, "place") != 0 || (en->lat == 0 && en->lon == 0) ||
            !isfinite(en->lat) || !isfinite(en->lon))
            continue;
        if (places++ == 0)
            sql_add(&q, "INSERT INTO article_places (seq, lat, lon) VALUES (?, ?, ?)");
        else
            sql_add(&q, ", (?, ?, ?)");
        sql_param(&q, seqs);
        sql_paramf(&q, 7, en->lat);
        sql_paramf(&q, 7, en->lon);
    }
    if (places && rc >= 0)
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

/* One condition of a filter as a subquery of seqs: a topic term or the places. */
typedef struct term {
    int kind; /* 0: topics (OR, prefixes), 1: one required topic, 2: places */
    const char *topic;
} term_t;

/* The seqs of term t; its condition is parenthesised, so a caller may append " AND ...". */
static int
term_sql(sql_t *q, bounds_t *b, const nw_store_filter_t *f, const term_t *t)
{
    if (t->kind == 2) {
        sql_add(q, "SELECT p.seq FROM article_places p WHERE ");
        place_cond(q, f);
        return 0;
    }
    sql_add(q, "SELECT x.seq FROM article_topics x WHERE ");
    return t->kind == 0 ? topic_cond(q, b, "x.topic", f->topics, f->n_topics, 0)
                        : topic_cond(q, b, "x.topic", &t->topic, 1, 1);
}

static int
on_count(const char *const *cols, const size_t *lens, int n, void *arg)
{
    (void)lens;
    *(int64_t *)arg = n > 0 && cols[0] ? strtoll(cols[0], NULL, 10) : 0;
    return 0;
}

/* Rows of term t, counted up to max. */
static int
term_rows(nw_store_t *s, const nw_store_filter_t *f, const term_t *t, int64_t max, int64_t *out)
{
    sql_t q = {0};
    bounds_t b = {0};
    char lim[64];
    sql_add(&q, "SELECT count(*) FROM (");
    int rc = term_sql(&q, &b, f, t);
    snprintf(lim, sizeof lim, " LIMIT %" PRId64 ") c", max);
    sql_add(&q, lim);
    if (rc == 0)
        rc = run(s, &q, on_count, out);
    sql_release(&q);
    return rc < 0 ? rc : 0;
}

static size_t
terms_of(const nw_store_filter_t *f, term_t *t)
{
    size_t n = 0;
    if (f->n_topics)
        t[n++] = (term_t){.kind = 0};
    for (size_t i = 0; i < f->n_all_of; i++)
        t[n++] = (term_t){.kind = 1, .topic = f->all_of[i]};
    if (f->has_near || f->has_bbox)
        t[n++] = (term_t){.kind = 2};
    return n;
}

/* FROM ... WHERE ... of a page: t is the "all" row of each candidate article. drive is the
 * term to read from (-1: the "all" rows). words: the full-text match text or NULL. */
static int
from_where(sql_t *q, bounds_t *b, const store_dialect_t *d, const nw_store_filter_t *f,
           const term_t *terms, size_t n_terms, int drive, const char *words)
{
    int rc = 0;
    if (drive >= 0) {
        /* The term's seqs first (CROSS JOIN keeps SQLite's join order), each article once. */
        sql_add(q, " FROM (SELECT DISTINCT d.seq FROM (");
        rc = term_sql(q, b, f, &terms[drive]);
        sql_add(q, ") d) dr CROSS JOIN article_topics t");
    } else {
        sql_add(q, " FROM article_topics t");
    }
    if (words) {
        sql_add(q, d->fts_join);
        for (const char *p = strchr(d->fts_join, '?'); p; p = strchr(p + 1, '?'))
            sql_param(q, words);
    }
    sql_add(q, " WHERE t.topic = 'all'");
    if (drive >= 0)
        sql_add(q, " AND t.seq = dr.seq");
    if (words) {
        sql_add(q, " AND ");
        sql_add(q, d->fts_where);
        for (const char *p = strchr(d->fts_where, '?'); p; p = strchr(p + 1, '?'))
            sql_param(q, words);
    }
    if (f->from) {
        sql_add(q, " AND t.at >= ?");
        sql_param(q, f->from);
    }
    if (f->to) {
        sql_add(q, " AND t.at < ?");
        sql_param(q, f->to);
    }
    if (f->after_seq) {
        char *num = q->owned[q->n < MAX_PARAMS ? q->n : 0];
        snprintf(num, sizeof q->owned[0], "%" PRIu64, f->after_seq);
        sql_add(q, " AND t.seq > ?");
        sql_param(q, num);
    }
    /* The other terms are tested per candidate (an index probe by seq): a broad term would
     * cost a scan to list whole. */
    for (size_t i = 0; i < n_terms && rc == 0; i++) {
        if ((int)i == drive)
            continue;
        sql_add(q, " AND EXISTS (");
        rc = term_sql(q, b, f, &terms[i]);
        sql_add(q, terms[i].kind == 2 ? " AND p.seq = t.seq)" : " AND x.seq = t.seq)");
    }
    return rc;
}

/* The term with the fewest rows when one has fewer than DRIVE_MAX, else -1. */
static int
pick_driver(nw_store_t *s, const nw_store_filter_t *f, const term_t *terms, size_t n, int *rc)
{
    int best = -1;
    int64_t best_rows = DRIVE_MAX;
    for (size_t i = 0; i < n; i++) {
        int64_t rows = 0;
        if ((*rc = term_rows(s, f, &terms[i], DRIVE_MAX, &rows)) < 0)
            return -1;
        if (rows < best_rows) {
            best_rows = rows;
            best = (int)i;
        }
    }
    return best;
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

struct fetch {
    const cand_t *c;
    nw_store_qrow_cb cb;
    void *arg;
    const char *snippet;
    int stopped;
};

static int
on_article_row(const char *const *cols, const size_t *lens, int n, void *arg)
{
    struct fetch *fe = arg;
    if (n < 6)
        return -EIO;
    nw_store_qrow_t row = {
        .seq = fe->c->seq,
        .id = cols[0],
        .title = cols[1],
        .published = cols[2],
        .lang = cols[3],
        .url = cols[4],
        .at = fe->c->at,
        .at_published = fe->c->published,
        .rank = fe->c->rank,
        .snippet = fe->snippet,
        .doc = (const uint8_t *)cols[5],
        .doc_len = lens[5],
    };
    fe->stopped = fe->cb(&row, fe->arg) != 0;
    return fe->stopped;
}

struct snip {
    char *text;
};

static int
on_snippet(const char *const *cols, const size_t *lens, int n, void *arg)
{
    (void)lens;
    struct snip *sn = arg;
    if (n > 0 && cols[0] && !sn->text && !(sn->text = strdup(cols[0])))
        return -ENOMEM;
    return 0;
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
    term_t terms[NW_STORE_MAX_TERMS + 2];
    sql_t q = {0};
    bounds_t b = {0};
    nw_buf_t words = {0};
    struct cands cs = {0};
    uint64_t cur_seq = 0;
    char cur_at[40] = "", seqbuf[24], lim[64];
    int64_t offset = 0;
    int rc = 0, n_out = 0;

    pg->next[0] = 0;
    pg->has_more = 0;
    pg->total = -1;
    pg->total_exact = 0;
    if (s->version < 7)
        return -EPROTO;
    if (pg->limit < 1 || pg->limit > 1000 || f->n_topics > NW_STORE_MAX_TERMS ||
        f->n_all_of > NW_STORE_MAX_TERMS || (pg->sort == NW_STORE_SORT_RELEVANCE && !f->q))
        return -EINVAL;
    if ((rc = parse_cursor(pg, &cur_seq, cur_at, sizeof cur_at, &offset)) < 0)
        return rc;
    if (f->q && (rc = d->fts_text(f->q, &words)) < 0)
        goto out;
    size_t n_terms = terms_of(f, terms);
    int drive = pick_driver(s, f, terms, n_terms, &rc);
    if (rc < 0)
        goto out;
    const char *w = f->q ? (const char *)words.data : NULL;

    /* The total first: the same conditions, counted up to count_max. */
    if (pg->count_max > 0) {
        sql_add(&q, "SELECT count(*) FROM (SELECT 1");
        if ((rc = from_where(&q, &b, d, f, terms, n_terms, drive, w)) < 0)
            goto out;
        snprintf(lim, sizeof lim, " LIMIT %" PRId64 ") c", pg->count_max + 1);
        sql_add(&q, lim);
        int64_t total = 0;
        if ((rc = run(s, &q, on_count, &total)) < 0)
            goto out;
        pg->total_exact = total <= pg->count_max;
        pg->total = total > pg->count_max ? pg->count_max : total;
        sql_release(&q);
        q = (sql_t){0};
        b.n = 0;
    }

    sql_add(&q, "SELECT t.seq, t.at, t.published");
    if (w) {
        sql_add(&q, ", ");
        sql_add(&q, d->rank);
        sql_add(&q, " AS rank");
    }
    if ((rc = from_where(&q, &b, d, f, terms, n_terms, drive, w)) < 0)
        goto out;
    snprintf(seqbuf, sizeof seqbuf, "%" PRIu64, cur_seq);
    switch (pg->sort) {
    case NW_STORE_SORT_SEQ:
        if (cur_seq) {
            sql_add(&q, " AND t.seq > ?");
            sql_param(&q, seqbuf);
        }
        sql_add(&q, " ORDER BY t.seq");
        break;
    case NW_STORE_SORT_PUBLISHED:
        if (cur_at[0]) {
            sql_add(&q, " AND (t.at < ? OR (t.at = ? AND t.seq < ?))");
            sql_param(&q, cur_at);
            sql_param(&q, cur_at);
            sql_param(&q, seqbuf);
        }
        sql_add(&q, " ORDER BY t.at DESC, t.seq DESC");
        break;
    case NW_STORE_SORT_RELEVANCE:
        sql_add(&q, " ORDER BY rank DESC, t.seq");
        break;
    }
    snprintf(lim, sizeof lim, " LIMIT %d OFFSET %" PRId64, pg->limit + 1, offset);
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
    for (int i = 0; i < shown; i++) {
        char num[24];
        struct snip sn = {0};
        struct fetch fe = {.c = &cs.c[i], .cb = cb, .arg = arg};
        snprintf(num, sizeof num, "%" PRIu64, cs.c[i].seq);
        if (w && pg->want_snippets) {
            const char *p[2] = {w, num};
            if ((rc = s->ops->select(s, d->snippet_sql, p, 2, on_snippet, &sn)) < 0)
                goto out;
            fe.snippet = sn.text;
        }
        const char *p[1] = {num};
        rc = s->ops->select(s,
                            "SELECT id, title, published, lang, url, doc FROM articles"
                            " WHERE seq = ?",
                            p, 1, on_article_row, &fe);
        free(sn.text);
        if (rc < 0)
            goto out;
        n_out++;
        if (fe.stopped)
            break;
    }
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

/* ---- facets ---- */

typedef struct fcount {
    char *topic;
    int64_t count, previous;
    int64_t *buckets;
} fcount_t;

struct fcounts {
    fcount_t *v;
    size_t n, cap;
    int previous; /* filling previous, matching topics already there */
};

static fcount_t *
find_topic(struct fcounts *fc, const char *topic)
{
    for (size_t i = 0; i < fc->n; i++)
        if (strcmp(fc->v[i].topic, topic) == 0)
            return &fc->v[i];
    return NULL;
}

static int
on_fcount(const char *const *cols, const size_t *lens, int n, void *arg)
{
    (void)lens;
    struct fcounts *fc = arg;
    if (n < 2 || !cols[0] || !cols[1])
        return 0;
    int64_t count = strtoll(cols[1], NULL, 10);
    fcount_t *t = fc->previous ? find_topic(fc, cols[0]) : NULL;
    if (fc->previous) {
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
    t = &fc->v[fc->n];
    *t = (fcount_t){.topic = strdup(cols[0]), .count = count};
    if (!t->topic)
        return -ENOMEM;
    fc->n++;
    return 0;
}

/* Counts per topic under prefix of the articles matching f in [from, to). */
static int
facet_counts(nw_store_t *s, const nw_store_filter_t *f, const char *prefix, const char *from,
             const char *to, int limit, struct fcounts *fc)
{
    const store_dialect_t *d = s->ops->dialect;
    term_t terms[NW_STORE_MAX_TERMS + 2];
    size_t n_terms = terms_of(f, terms);
    nw_store_filter_t g = *f;
    g.from = from;
    g.to = to;
    nw_buf_t words = {0};
    sql_t q = {0};
    bounds_t b = {0};
    int rc = 0;
    if (f->q && (rc = d->fts_text(f->q, &words)) < 0)
        return rc;
    /* The topic rows of the window, f's other conditions on their article's "all" row. */
    sql_add(&q, "SELECT ft.topic, count(*) AS n FROM article_topics ft WHERE ");
    const char *pp[1] = {prefix};
    rc = topic_cond(&q, &b, "ft.topic", pp, 1, 0);
    sql_add(&q, " AND ft.at >= ? AND ft.at < ?");
    sql_param(&q, from);
    sql_param(&q, to);
    int filtered = n_terms > 0 || f->q || f->after_seq;
    if (filtered && rc == 0) {
        sql_add(&q, " AND ft.seq IN (SELECT t.seq");
        rc = from_where(&q, &b, d, &g, terms, n_terms, -1, f->q ? (const char *)words.data : NULL);
        sql_add(&q, ")");
    }
    if (fc->previous) {
        /* only the topics already counted */
        sql_add(&q, " GROUP BY ft.topic");
    } else {
        char lim[64];
        snprintf(lim, sizeof lim, " GROUP BY ft.topic ORDER BY n DESC, ft.topic LIMIT %d", limit);
        sql_add(&q, lim);
    }
    if (rc == 0)
        rc = run(s, &q, on_fcount, fc);
    sql_release(&q);
    nw_buf_release(&words);
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
            t->buckets[i] = strtoll(cols[2], NULL, 10);
            break;
        }
    return 0;
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
    char prev_from[40];
    char(*starts)[40] = NULL;
    const char **start_ptrs = NULL;
    size_t n_buckets = 0, shown = 0;
    int64_t from_ms = 0, to_ms = 0;
    int rc = 0, n = 0;

    if (s->version < 7)
        return -EPROTO;
    if (!f->from || !f->to || !prefix || !*prefix || top < 1 || top > 1000 ||
        nw_time_parse(f->from, &from_ms) < 0 || nw_time_parse(f->to, &to_ms) < 0 ||
        to_ms <= from_ms)
        return -EINVAL;
    nw_time_iso(from_ms - (to_ms - from_ms), prev_from, sizeof prev_from);
    if ((rc = facet_counts(s, f, prefix, f->from, f->to, trending ? TRENDING_POOL : top, &fc)) < 0)
        goto out;
    fc.previous = 1;
    if (fc.n > 0 && (rc = facet_counts(s, f, prefix, prev_from, f->from, 0, &fc)) < 0)
        goto out;
    if (fc.n > 1) /* fc.v is NULL when nothing matched: qsort(NULL, 0) is undefined */
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
        /* One grouped read for the top topics: count per (topic, bucket). */
        int width = bucket == NW_STORE_BUCKET_HOUR ? 13 : 10;
        const store_dialect_t *d = s->ops->dialect;
        term_t terms[NW_STORE_MAX_TERMS + 2];
        size_t n_terms = terms_of(f, terms);
        sql_t q = {0};
        bounds_t b = {0};
        nw_buf_t words = {0};
        char expr[64];
        snprintf(expr, sizeof expr, "substr(ft.at, 1, %d)", width);
        sql_add(&q, "SELECT ft.topic, ");
        sql_add(&q, expr);
        sql_add(&q, " AS b, count(*) FROM article_topics ft WHERE ft.topic IN (");
        for (size_t i = 0; i < shown; i++) {
            sql_add(&q, i ? ", ?" : "?");
            sql_param(&q, fc.v[i].topic);
        }
        sql_add(&q, ") AND ft.at >= ? AND ft.at < ?");
        sql_param(&q, f->from);
        sql_param(&q, f->to);
        if ((n_terms > 0 || f->q || f->after_seq) &&
            (!f->q || (rc = d->fts_text(f->q, &words)) == 0)) {
            sql_add(&q, " AND ft.seq IN (SELECT t.seq");
            rc = from_where(&q, &b, d, f, terms, n_terms, -1,
                            f->q ? (const char *)words.data : NULL);
            sql_add(&q, ")");
        }
        sql_add(&q, " GROUP BY ft.topic, ");
        sql_add(&q, expr);
        struct fcounts top_fc = {fc.v, shown, shown, 0};
        struct bucket_rows br = {&top_fc, starts, n_buckets, width};
        if (rc == 0)
            rc = run(s, &q, on_bucket, &br);
        sql_release(&q);
        nw_buf_release(&words);
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
