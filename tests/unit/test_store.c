/* test_store.c: the article store on real databases: schema migration (and reading a v1 file),
 * revisions and content identity, sequence numbers, full-text search, dead letters with their
 * replay bookkeeping and counts, transactions, backfill by seq and by time, a read-only handle
 * beside a writer, a bulk batch, and stories: near-duplicates and related articles grouped by
 * their fingerprints within a time window.
 *
 * Every test runs on SQLite files in a temporary directory. With NW_TEST_PG set to a libpq
 * conninfo (tests/integration/test_store_pg.sh starts a server and sets it), the tests that
 * are not about SQLite itself run again on PostgreSQL, each in a schema of its own, plus
 * those about several writers sharing one database. */
#include "newswire/store.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include <libpq-fe.h>
#include <pthread.h>
#include <sqlite3.h>
#include <time.h>

#include "newswire/enrich.h"
#include "newswire/fingerprint.h"
#include "newswire/parse.h"
#include "newswire/log.h"
#include "newswire/util.h"

#include "story_time.h"

typedef struct fixture {
    char dir[64];
    char path[512];
    int pg;          /* path is a PostgreSQL conninfo */
    char schema[32]; /* the test's own schema */
} fixture_t;

static const char *pg_base; /* NW_TEST_PG */

static void
quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

/* Run SQL on the test's database directly (not through the store); on PostgreSQL in the
 * test's schema. Returns the first column of the first row (caller frees; "" without rows). */
static char *
db_text(fixture_t *f, const char *sql)
{
    char *out = NULL;
    if (f->pg) {
        PGconn *c = PQconnectdb(f->path);
        assert_int_equal(PQstatus(c), CONNECTION_OK);
        PQsetNoticeProcessor(c, quiet, NULL); /* "drop cascades to ..." */
        PGresult *r = PQexec(c, sql);
        if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK)
            fail_msg("%s: %s", sql, PQresultErrorMessage(r));
        out =
            strdup(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)
                       ? PQgetvalue(r, 0, 0)
                       : "");
        PQclear(r);
        PQfinish(c);
    } else {
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
            fail_msg("%s: %s", sql, sqlite3_errmsg(db));
        int rc = sqlite3_step(st);
        assert_true(rc == SQLITE_ROW || rc == SQLITE_DONE);
        out = strdup(rc == SQLITE_ROW && sqlite3_column_text(st, 0)
                         ? (const char *)sqlite3_column_text(st, 0)
                         : "");
        sqlite3_finalize(st);
        sqlite3_close(db);
    }
    assert_non_null(out);
    return out;
}

static void
db_expect(fixture_t *f, const char *sql, const char *want)
{
    char *got = db_text(f, sql);
    if (strcmp(got, want) != 0)
        fail_msg("%s: got \"%s\", want \"%s\"", sql, got, want);
    free(got);
}

/* PostgreSQL: a fresh schema per test, named in the conninfo's search_path. */
static int
setup_pg(void **state)
{
    static int n;
    fixture_t *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->pg = 1;
    snprintf(f->schema, sizeof(f->schema), "t%d_%d", (int)getpid(), ++n);
    snprintf(f->path, sizeof(f->path), "%s", pg_base);
    free(db_text(f, "SELECT 1")); /* reachable */
    char sql[128];
    snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", f->schema);
    free(db_text(f, sql));
    snprintf(f->path, sizeof(f->path), "%s options=-csearch_path=%s application_name=%s", pg_base,
             f->schema, f->schema);
    *state = f;
    return 0;
}

static int
teardown_pg(void **state)
{
    fixture_t *f = *state;
    char sql[128];
    snprintf(sql, sizeof(sql), "DROP SCHEMA %s CASCADE", f->schema);
    free(db_text(f, sql));
    free(f);
    return 0;
}

static int
setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/nw-test-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/newswire.db", f->dir);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture_t *f = *state;
    const char *suffix[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        char p[sizeof(f->path) + 16];
        snprintf(p, sizeof(p), "%s%s", f->path, suffix[i]);
        unlink(p);
    }
    char other[160];
    snprintf(other, sizeof(other), "%s/other.db", f->dir);
    unlink(other);
    rmdir(f->dir);
    free(f);
    return 0;
}

static nw_store_t *
open_rw(fixture_t *f)
{
    char err[256] = "";
    nw_store_t *s = nw_store_open(f->path, 0, err, sizeof(err));
    if (!s)
        fail_msg("open: %s", err);
    return s;
}

/* An enriched article owning copies of its strings. */
static nw_enriched_t
make(const char *id, const char *title, const char *text)
{
    nw_enriched_t e = {0};
    e.art.v = 1;
    e.art.id = strdup(id);
    e.art.title = title ? strdup(title) : NULL;
    e.art.text = strdup(text);
    e.art.lang = strdup("en");
    e.art.published = strdup("2024-02-06");
    e.art.n_authors = 1;
    e.art.authors = calloc(1, sizeof(char *));
    e.art.authors[0] = strdup("Jane \"JD\" Doe");
    e.words = 3;
    e.reading_s = 1;
    e.n_topics = 2;
    e.topics = calloc(2, sizeof(char *));
    e.topics[0] = strdup("all");
    e.topics[1] = strdup("lang.en");
    return e;
}

/* Put one article in the open transaction; returns the result, asserts success. */
static nw_store_result_t
put(nw_store_t *s, const char *id, const char *title, const char *text)
{
    nw_enriched_t e = make(id, title, text);
    nw_store_result_t res = {0};
    assert_int_equal(nw_store_put(s, &e, NULL, &res), 0);
    nw_enriched_release(&e);
    return res;
}

static void
put_commit(nw_store_t *s, const char *id, const char *title, const char *text)
{
    assert_int_equal(nw_store_begin(s), 0);
    put(s, id, title, text);
    assert_int_equal(nw_store_commit(s), 0);
}

static nw_enriched_t
get(nw_store_t *s, const char *id)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    nw_enriched_t e;
    assert_int_equal(nw_store_get(s, id, &buf, &len), 0);
    assert_int_equal(nw_enriched_decode(&e, buf, len), 0);
    free(buf);
    return e;
}

static void
test_open_migrate_reopen(void **state)
{
    fixture_t *f = *state;
    nw_store_t *s = open_rw(f);
    assert_int_equal(nw_store_schema_version(s), 10);
    assert_int_equal(nw_store_count(s), 0);
    put_commit(s, "a1", "Title", "Some text.");
    nw_store_close(&s);
    assert_null(s);
    nw_store_close(&s); /* safe twice */

    /* The file is in WAL mode (the setting persists in the file); the migrations are
     * recorded. */
    if (f->pg)
        db_expect(f,
                  "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations",
                  "1,2,3,4,5,6,7,8,9,10");
    else
        db_expect(f, "PRAGMA journal_mode", "wal");

    /* Reopening migrates nothing and keeps the data. */
    s = open_rw(f);
    assert_int_equal(nw_store_schema_version(s), 10);
    assert_int_equal(nw_store_count(s), 1);
    nw_enriched_t e = get(s, "a1");
    assert_string_equal(e.art.text, "Some text.");
    nw_enriched_release(&e);
    nw_store_close(&s);
}

static void
test_open_errors(void **state)
{
    fixture_t *f = *state;
    char err[256] = "";
    char other[160];

    /* Read-only open of a missing file fails with a message. */
    assert_null(nw_store_open(f->path, 1, err, sizeof(err)));
    assert_true(strlen(err) > 0);

    /* A SQLite file that is not a newswire database is refused read-only. */
    snprintf(other, sizeof(other), "%s/other.db", f->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(other, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    err[0] = '\0';
    assert_null(nw_store_open(other, 1, err, sizeof(err)));
    assert_non_null(strstr(err, "schema version 0"));

    /* A schema newer than this program knows is refused for writing. */
    nw_store_t *s = open_rw(f);
    nw_store_close(&s);
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    err[0] = '\0';
    assert_null(nw_store_open(f->path, 0, err, sizeof(err)));
    assert_non_null(strstr(err, "newer"));
}

static void
test_revisions(void **state)
{
    fixture_t *f = *state;
    nw_store_t *s = open_rw(f);
    nw_buf_t doc = {0};
    nw_store_result_t res = {0};

    /* New id: stored as revision 1, and the document carries seq and rev. */
    assert_int_equal(nw_store_begin(s), 0);
    nw_enriched_t e = make("id-1", "Talks in Cairo", "First version of the text.");
    assert_int_equal(nw_store_put(s, &e, &doc, &res), 0);
    assert_string_equal(res.status, "stored");
    assert_int_equal(res.rev, 1);
    assert_int_equal(res.seq, 1);
    assert_int_equal(e.rev, 1);
    assert_int_equal(e.seq, 1);
    nw_enriched_t d;
    assert_int_equal(nw_enriched_decode(&d, doc.data, doc.len), 0);
    assert_int_equal(d.rev, 1);
    assert_int_equal(d.seq, 1);
    assert_string_equal(d.art.id, "id-1");
    nw_enriched_release(&d);
    nw_enriched_release(&e);
    assert_int_equal(nw_store_commit(s), 0);

    /* The same content again (even with other metadata): unchanged, nothing appended. */
    nw_buf_reset(&doc);
    assert_int_equal(nw_store_begin(s), 0);
    e = make("id-1", "Talks in Cairo", "First version of the text.");
    free(e.art.lang);
    e.art.lang = strdup("es");
    assert_int_equal(nw_store_put(s, &e, &doc, &res), 0);
    assert_string_equal(res.status, "unchanged");
    assert_int_equal(res.rev, 1);
    assert_int_equal(res.seq, 0);
    assert_int_equal(doc.len, 0);
    nw_enriched_release(&e);
    assert_int_equal(nw_store_commit(s), 0);

    /* Changed text: revision 2 becomes current, with the next sequence number. */
    assert_int_equal(nw_store_begin(s), 0);
    e = make("id-1", "Talks in Cairo", "Second, corrected version of the text.");
    assert_int_equal(nw_store_put(s, &e, &doc, &res), 0);
    assert_string_equal(res.status, "stored");
    assert_int_equal(res.rev, 2);
    assert_int_equal(res.seq, 2);
    nw_enriched_release(&e);
    /* A caption change is a content change too. */
    e = make("id-1", "Talks in Cairo", "Second, corrected version of the text.");
    e.art.n_captions = 1;
    e.art.captions = calloc(1, sizeof(nw_caption_t));
    e.art.captions[0].text = strdup("A photo caption.");
    assert_int_equal(nw_store_put(s, &e, NULL, &res), 0);
    assert_string_equal(res.status, "stored");
    assert_int_equal(res.rev, 3);
    assert_int_equal(res.seq, 3);
    nw_enriched_release(&e);
    assert_int_equal(nw_store_commit(s), 0);

    assert_int_equal(nw_store_count(s), 1);
    d = get(s, "id-1");
    assert_int_equal(d.rev, 3);
    assert_int_equal(d.seq, 3);
    assert_string_equal(d.art.text, "Second, corrected version of the text.");
    assert_int_equal(d.art.n_authors, 1);
    assert_string_equal(d.art.authors[0], "Jane \"JD\" Doe");
    nw_enriched_release(&d);

    /* Every revision is kept. */
    db_expect(f,
              f->pg ? "SELECT string_agg(rev || ':' || seq, ',' ORDER BY rev) FROM revisions"
                      " WHERE id = 'id-1'"
                    : "SELECT group_concat(rev || ':' || seq, ',') FROM "
                      "(SELECT rev, seq FROM revisions WHERE id = 'id-1' ORDER BY rev)",
              "1:1,2:2,3:3");
    /* The authors column is JSON text. */
    db_expect(f, "SELECT authors FROM articles", "[\"Jane \\\"JD\\\" Doe\"]");

    uint8_t *none = NULL;
    size_t none_len = 1;
    assert_int_equal(nw_store_get(s, "nope", &none, &none_len), -ENOENT);
    assert_null(none);
    assert_int_equal(none_len, 0);
    nw_buf_release(&doc);
    nw_store_close(&s);
}

static void
test_seq_survives_reopen(void **state)
{
    fixture_t *f = *state;
    nw_store_t *s = open_rw(f);
    assert_int_equal(nw_store_begin(s), 0);
    assert_int_equal(put(s, "a", NULL, "alpha").seq, 1);
    assert_int_equal(put(s, "b", NULL, "beta").seq, 2);
    assert_int_equal(nw_store_commit(s), 0);
    nw_store_close(&s);

    s = open_rw(f);
    assert_int_equal(nw_store_begin(s), 0);
    nw_store_result_t r = put(s, "c", NULL, "gamma");
    assert_int_equal(r.seq, 3);
    r = put(s, "a", NULL, "alpha two");
    assert_int_equal(r.seq, 4);
    assert_int_equal(r.rev, 2);
    assert_int_equal(nw_store_commit(s), 0);
    nw_store_close(&s);
}

typedef struct hits {
    int n;
    char ids[8][32];
    char snippets[8][256];
    double rank[8];
    int stop_after;
} hits_t;

static int
collect(const nw_store_hit_t *h, void *arg)
{
    hits_t *c = arg;
    if (c->n < 8) {
        snprintf(c->ids[c->n], sizeof(c->ids[0]), "%s", h->id);
        snprintf(c->snippets[c->n], sizeof(c->snippets[0]), "%s", h->snippet ? h->snippet : "");
        c->rank[c->n] = h->rank;
    }
    c->n++;
    return c->stop_after && c->n >= c->stop_after;
}

static void
load_corpus(nw_store_t *s)
{
    assert_int_equal(nw_store_begin(s), 0);
    put(s, "text-hit", "Diplomacy in the region",
        "The envoy travelled on to the border and later mentioned Rafah briefly in a long "
        "statement about humanitarian aid, trade routes and the weather.");
    put(s, "title-hit", "Israel weighs operation in Rafah",
        "Officials discussed plans for the southern city where more than a million people "
        "shelter.");
    put(s, "other", "Markets close higher", "Shares rose in Tokyo and Frankfurt on Tuesday.");
    put(s, "accents", "Tregua en Gaza",
        "El secretario habló con Hamás sobre la tregua. U.S. officials met al-Sisi.");
    assert_int_equal(nw_store_commit(s), 0);
}

static void
test_search(void **state)
{
    fixture_t *f = *state;
    nw_store_t *s = open_rw(f);
    load_corpus(s);

    hits_t h = {0};
    assert_int_equal(nw_store_search(s, "Rafah", 10, collect, &h), 2);
    assert_int_equal(h.n, 2);
    /* Repeated words mean the word once (and are searched once: repeats made snippets slow). */
    assert_int_equal(nw_store_search(s, "Rafah rafah RAFAH Rafah", 10, NULL, NULL), 2);
    /* A headline naming the term outranks a passing mention in the body. */
    assert_string_equal(h.ids[0], "title-hit");
    assert_string_equal(h.ids[1], "text-hit");
    assert_true(h.rank[0] < h.rank[1]);
    /* Title-only match: the snippet is the title; a text match: a window of the text. */
    assert_string_equal(h.snippets[0], "Israel weighs operation in [Rafah]");
    assert_non_null(strstr(h.snippets[1], "mentioned [Rafah] briefly"));
    /* The body snippet is a window of the text, with ellipses where it was cut. */
    assert_non_null(strstr(h.snippets[1], "\xe2\x80\xa6"));

    /* FTS5 syntax: AND, prefix, column filter. */
    memset(&h, 0, sizeof(h));
    assert_int_equal(nw_store_search(s, "shares AND tokyo", 10, collect, &h), 1);
    assert_string_equal(h.ids[0], "other");
    memset(&h, 0, sizeof(h));
    assert_int_equal(nw_store_search(s, "title:rafah", 10, collect, &h), 1);
    assert_string_equal(h.ids[0], "title-hit");
    memset(&h, 0, sizeof(h));
    assert_int_equal(nw_store_search(s, "frank*", 10, collect, &h), 1);
    memset(&h, 0, sizeof(h));
    assert_int_equal(nw_store_search(s, "gaza", 10, collect, &h), 1);
    assert_string_equal(h.snippets[0], "Tregua en [Gaza]");
    /* Title and text both match: the snippet shows the text. */
    memset(&h, 0, sizeof(h));
    assert_int_equal(nw_store_search(s, "tregua", 10, collect, &h), 1);
    assert_non_null(strstr(h.snippets[0], "sobre la [tregua]"));

    /* Diacritics are folded both ways. */
    memset(&h, 0, sizeof(h));
    assert_int_equal(nw_store_search(s, "hamas", 10, collect, &h), 1);
    assert_string_equal(h.ids[0], "accents");
    assert_non_null(strstr(h.snippets[0], "[Hamás]"));
    memset(&h, 0, sizeof(h));
    assert_int_equal(nw_store_search(s, "habló", 10, collect, &h), 1);

    /* No match, limit, and a callback that stops early. */
    assert_int_equal(nw_store_search(s, "zeppelin", 10, collect, NULL), 0);
    memset(&h, 0, sizeof(h));
    assert_int_equal(nw_store_search(s, "rafah", 1, collect, &h), 1);
    memset(&h, 0, sizeof(h));
    h.stop_after = 1;
    assert_int_equal(nw_store_search(s, "rafah OR shares", 10, collect, &h), 1);
    nw_store_close(&s);
}

static void
test_search_bad_syntax(void **state)
{
    fixture_t *f = *state;
    nw_store_t *s = open_rw(f);
    load_corpus(s);
    hits_t h = {0};

    /* Each of these is an FTS5 syntax error, retried as plain quoted words. */
    assert_int_equal(nw_store_search(s, "Rafah (", 10, collect, &h), 2);
    memset(&h, 0, sizeof(h));
    assert_int_equal(nw_store_search(s, "\"Rafah", 10, collect, &h), 2);
    memset(&h, 0, sizeof(h));
    assert_int_equal(nw_store_search(s, "U.S.", 10, collect, &h), 1);
    assert_string_equal(h.ids[0], "accents");
    memset(&h, 0, sizeof(h));
    assert_int_equal(nw_store_search(s, "al-Sisi", 10, collect, &h), 1);
    assert_string_equal(h.ids[0], "accents");
    memset(&h, 0, sizeof(h));
    assert_int_equal(nw_store_search(s, "southern AND (city", 10, collect, &h), 1);
    assert_string_equal(h.ids[0], "title-hit");

    /* Nothing searchable left: a clear -EINVAL. */
    assert_int_equal(nw_store_search(s, "((( ]", 10, collect, &h), -EINVAL);
    assert_int_equal(nw_store_search(s, "", 10, collect, &h), -EINVAL);
    assert_int_equal(nw_store_search(s, "*", 10, collect, &h), -EINVAL);
    nw_store_close(&s);
}

typedef struct dead_rows {
    int n;
    int64_t rowid[4];
    char reason[4][32];
    char origin[4][32];
    uint64_t spool[4];
    uint8_t bytes[4][16];
    size_t bytes_len[4];
    int null_detail[4];
    char replay_status[4][16];
    char replay_id[4][16];
    int replayed[4];
} dead_rows_t;

static int
collect_dead(const nw_store_dead_row_t *r, void *arg)
{
    dead_rows_t *c = arg;
    if (c->n < 4) {
        c->rowid[c->n] = r->rowid;
        snprintf(c->reason[c->n], sizeof(c->reason[0]), "%s", r->reason);
        snprintf(c->origin[c->n], sizeof(c->origin[0]), "%s", r->origin ? r->origin : "-");
        c->spool[c->n] = r->spool;
        c->bytes_len[c->n] = r->bytes_len;
        assert_non_null(r->bytes);
        if (r->bytes_len > 0 && r->bytes_len <= sizeof(c->bytes[0]))
            memcpy(c->bytes[c->n], r->bytes, r->bytes_len);
        c->null_detail[c->n] = r->detail == NULL;
        snprintf(c->replay_status[c->n], sizeof(c->replay_status[0]), "%s",
                 r->replay_status ? r->replay_status : "-");
        snprintf(c->replay_id[c->n], sizeof(c->replay_id[0]), "%s",
                 r->replay_id ? r->replay_id : "-");
        c->replayed[c->n] = r->replayed_at != NULL;
    }
    c->n++;
    return 0;
}

/* fetch re-sends an item until it is acknowledged, so one dead letter can arrive several
 * times: stored once. Another item's letter, or one with other bytes, is still new. */
static void
test_dead_letter_resent_once(void **state)
{
    fixture_t *f = *state;
    nw_store_t *s = open_rw(f);
    static const uint8_t a[] = "caf\xe9", b[] = "other bytes";
    nw_dead_t d = {
        .v = 1,
        .stage = "fetch",
        .reason = "invalid-utf8",
        .time = "2024-02-06T10:00:00.000Z",
        .bytes = (uint8_t *)a,
        .bytes_len = sizeof(a) - 1,
        .origin = "fetch-a",
        .spool = 9,
    };
    assert_int_equal(nw_store_begin(s), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(nw_store_put_dead(s, &d), 0); /* the letter, then two re-sends */
    nw_dead_t other_bytes = d; /* a wiped spool reusing number 9 for another item */
    other_bytes.bytes = (uint8_t *)b;
    other_bytes.bytes_len = sizeof(b) - 1;
    assert_int_equal(nw_store_put_dead(s, &other_bytes), 0);
    nw_dead_t next = d;
    next.spool = 10;
    assert_int_equal(nw_store_put_dead(s, &next), 0);
    nw_dead_t unspooled = d; /* no origin: cannot come again, always new */
    unspooled.origin = NULL;
    unspooled.spool = 0;
    assert_int_equal(nw_store_put_dead(s, &unspooled), 0);
    assert_int_equal(nw_store_put_dead(s, &unspooled), 0);
    assert_int_equal(nw_store_commit(s), 0);
    dead_rows_t rows = {0};
    assert_int_equal(nw_store_dlq_list(s, 10, collect_dead, &rows), 5);
    /* And again in a later transaction, as after a store restart. */
    assert_int_equal(nw_store_begin(s), 0);
    assert_int_equal(nw_store_put_dead(s, &d), 0);
    assert_int_equal(nw_store_commit(s), 0);
    memset(&rows, 0, sizeof(rows));
    assert_int_equal(nw_store_dlq_list(s, 10, collect_dead, &rows), 5);
    nw_store_close(&s);
}

static void
test_dead_letters(void **state)
{
    fixture_t *f = *state;
    nw_store_t *s = open_rw(f);
    static const uint8_t bin[] = {0x00, 0xff, 0xc1, 0x80, 'x', 0x00, 0x93};
    nw_dead_t d1 = {
        .v = 1,
        .stage = "parse",
        .reason = "invalid-utf8",
        .detail = "byte 1 is not UTF-8",
        .time = "2024-02-06T10:00:00.000Z",
        .bytes = (uint8_t *)bin,
        .bytes_len = sizeof(bin),
        .source = "http",
        .content_type = "text/plain",
        .origin = "fetch-a",
        .spool = 77,
    };
    nw_dead_t d2 = {
        .v = 1,
        .stage = "store",
        .reason = "bad-message",
        .time = "2024-02-06T10:00:01.000Z",
        .bytes = NULL,
        .bytes_len = 0,
    };
    assert_int_equal(nw_store_begin(s), 0);
    assert_int_equal(nw_store_put_dead(s, &d1), 0);
    assert_int_equal(nw_store_put_dead(s, &d2), 0);
    assert_int_equal(nw_store_commit(s), 0);

    dead_rows_t rows = {0};
    assert_int_equal(nw_store_dlq_list(s, 10, collect_dead, &rows), 2);
    /* Newest first. */
    assert_true(rows.rowid[0] > rows.rowid[1]);
    assert_string_equal(rows.reason[0], "bad-message");
    assert_int_equal(rows.bytes_len[0], 0);
    assert_true(rows.null_detail[0]);
    assert_string_equal(rows.origin[0], "-");
    assert_string_equal(rows.reason[1], "invalid-utf8");
    assert_int_equal(rows.bytes_len[1], sizeof(bin));
    assert_memory_equal(rows.bytes[1], bin, sizeof(bin));
    assert_string_equal(rows.origin[1], "fetch-a");
    assert_int_equal(rows.spool[1], 77);

    memset(&rows, 0, sizeof(rows));
    assert_int_equal(nw_store_dlq_list(s, 1, collect_dead, &rows), 1);
    assert_string_equal(rows.reason[0], "bad-message");
    nw_store_close(&s);
}

static void
test_rollback(void **state)
{
    fixture_t *f = *state;
    nw_store_t *s = open_rw(f);
    nw_dead_t d = {.v = 1, .stage = "store", .reason = "bad-message", .time = "t"};

    /* Writes need a transaction. */
    nw_enriched_t e = make("x", NULL, "text");
    nw_store_result_t res;
    assert_int_equal(nw_store_put(s, &e, NULL, &res), -EINVAL);
    assert_int_equal(nw_store_put_dead(s, &d), -EINVAL);
    assert_int_equal(nw_store_commit(s), -EINVAL);
    nw_enriched_release(&e);

    assert_int_equal(nw_store_begin(s), 0);
    assert_int_equal(nw_store_begin(s), -EINVAL);
    assert_int_equal(put(s, "x", "Title", "text").seq, 1);
    assert_int_equal(put(s, "y", "Title", "more text").seq, 2);
    assert_int_equal(nw_store_put_dead(s, &d), 0);
    assert_int_equal(nw_store_rollback(s), 0);

    assert_int_equal(nw_store_count(s), 0);
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(nw_store_get(s, "x", &buf, &len), -ENOENT);
    assert_int_equal(nw_store_dlq_list(s, 10, NULL, NULL), 0);
    assert_int_equal(nw_store_search(s, "text", 10, NULL, NULL), 0);
    assert_int_equal(nw_store_since(s, 0, 0, NULL, NULL), 0);

    /* The sequence numbers handed out in the rolled-back transaction are reused by SQLite;
     * a PostgreSQL sequence leaves them out. */
    assert_int_equal(nw_store_begin(s), 0);
    assert_int_equal(put(s, "x", "Title", "text").seq, f->pg ? 3 : 1);
    assert_int_equal(nw_store_commit(s), 0);

    /* Closing with an open transaction rolls it back. */
    assert_int_equal(nw_store_begin(s), 0);
    put(s, "z", NULL, "lost");
    nw_store_close(&s);
    s = open_rw(f);
    assert_int_equal(nw_store_count(s), 1);
    assert_int_equal(nw_store_get(s, "z", &buf, &len), -ENOENT);
    nw_store_close(&s);
}

static void
test_put_rejected_leaves_transaction_clean(void **state)
{
    fixture_t *f = *state;
    nw_store_t *s = open_rw(f);
    nw_store_result_t res = {0};
    nw_buf_t doc = {0};

    assert_int_equal(nw_store_begin(s), 0);
    put(s, "good-1", NULL, "first");
    /* The encoder refuses invalid UTF-8: nothing is written and the batch goes on. */
    nw_enriched_t e = make("bad", "\xff\xfe broken", "text");
    assert_int_equal(nw_store_put(s, &e, &doc, &res), -EINVAL);
    assert_int_equal(doc.len, 0);
    assert_int_equal(e.seq, 0);
    nw_enriched_release(&e);
    /* No id is refused too. */
    e = make("", NULL, "text");
    assert_int_equal(nw_store_put(s, &e, &doc, &res), -EINVAL);
    nw_enriched_release(&e);
    /* SQLite hands the unused seq out again; PostgreSQL never reuses one taken before the next
     * id's row was locked (store_backend.h): a gap. */
    assert_int_equal(put(s, "good-2", NULL, "second").seq, f->pg ? 3 : 2);
    assert_int_equal(nw_store_commit(s), 0);
    assert_int_equal(nw_store_count(s), 2);
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(nw_store_get(s, "bad", &buf, &len), -ENOENT);
    nw_store_close(&s);
}

/* An article with many topics and places is indexed whole: the index inserted 64 rows per
 * statement with room for 160 parameters, so an article of more than 40 topics (4 parameters a
 * row) or 53 places was refused as "cannot be re-encoded" and dead-lettered: a third of the
 * wire articles of bench/corpus.py, CoNLL results pages naming dozens of players and places. */
static void
test_many_topics_and_places(void **state)
{
    fixture_t *f = *state;
    nw_store_t *s = open_rw(f);
    nw_store_result_t res = {0};
    nw_enriched_t e = make("many", "Results", "Scores of many places and players.");
    char **t = realloc(e.topics, 100 * sizeof(char *));
    assert_non_null(t);
    e.topics = t;
    for (size_t i = e.n_topics; i < 100; i++) {
        char name[32];
        snprintf(name, sizeof(name), "person.player-%zu", i);
        assert_non_null(e.topics[i] = strdup(name));
    }
    e.n_topics = 100;
    e.n_entities = 70;
    assert_non_null(e.entities = calloc(e.n_entities, sizeof(*e.entities)));
    for (size_t i = 0; i < e.n_entities; i++) {
        char name[32];
        snprintf(name, sizeof(name), "Town %zu", i);
        assert_non_null(e.entities[i].type = strdup("place"));
        assert_non_null(e.entities[i].name = strdup(name));
        e.entities[i].lat = 10.0 + (double)i / 10;
        e.entities[i].lon = 20.0 + (double)i / 10;
    }
    assert_int_equal(nw_store_begin(s), 0);
    assert_int_equal(nw_store_put(s, &e, NULL, &res), 0);
    assert_int_equal(nw_store_commit(s), 0);
    nw_enriched_release(&e);
    assert_string_equal(res.status, "stored");
    char *n = db_text(f, "SELECT count(*) FROM article_topics WHERE topic LIKE 'person.player-%'");
    assert_int_equal(atoi(n), 98);
    free(n);
    n = db_text(f, "SELECT count(*) FROM article_places");
    assert_true(atoi(n) >= 64);
    free(n);
    nw_store_close(&s);
}

static void
test_second_writer(void **state)
{
    fixture_t *f = *state;
    nw_store_t *a = open_rw(f);
    nw_store_t *b = open_rw(f);

    /* While one handle holds the write lock the other fails after its busy timeout, with
     * -EIO, instead of blocking forever. */
    assert_int_equal(nw_store_begin(a), 0);
    assert_int_equal(put(a, "from-a", NULL, "written by a").seq, 1);
    assert_int_equal(nw_store_begin(b), -EIO);
    assert_int_equal(nw_store_commit(a), 0);

    /* The sequence counter is read under the lock, so b continues after a's commit. */
    assert_int_equal(nw_store_begin(b), 0);
    assert_int_equal(put(b, "from-b", NULL, "written by b").seq, 2);
    assert_int_equal(nw_store_commit(b), 0);
    assert_int_equal(nw_store_count(a), 2);
    nw_store_close(&a);
    nw_store_close(&b);
}

typedef struct docs {
    int n;
    uint64_t seq[16];
    uint32_t rev[16];
    int stop_after;
} docs_t;

static int
collect_doc(uint64_t seq, const uint8_t *doc, size_t len, void *arg)
{
    docs_t *c = arg;
    nw_enriched_t e;
    assert_int_equal(nw_enriched_decode(&e, doc, len), 0);
    assert_int_equal(e.seq, seq);
    if (c->n < 16) {
        c->seq[c->n] = seq;
        c->rev[c->n] = e.rev;
    }
    nw_enriched_release(&e);
    c->n++;
    return c->stop_after && c->n >= c->stop_after;
}

static void
test_since(void **state)
{
    fixture_t *f = *state;
    nw_store_t *s = open_rw(f);
    assert_int_equal(nw_store_begin(s), 0);
    put(s, "a", NULL, "one");
    put(s, "b", NULL, "two");
    put(s, "c", NULL, "three");
    put(s, "a", NULL, "one, revised");
    put(s, "d", NULL, "four");
    assert_int_equal(nw_store_commit(s), 0);

    docs_t d = {0};
    assert_int_equal(nw_store_since(s, 0, 0, collect_doc, &d), 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(d.seq[i], (uint64_t)i + 1);
    /* Every revision is replayed as it was published. */
    assert_int_equal(d.rev[0], 1);
    assert_int_equal(d.rev[3], 2);

    memset(&d, 0, sizeof(d));
    assert_int_equal(nw_store_since(s, 3, 0, collect_doc, &d), 2);
    assert_int_equal(d.seq[0], 4);
    assert_int_equal(d.seq[1], 5);
    memset(&d, 0, sizeof(d));
    assert_int_equal(nw_store_since(s, 1, 2, collect_doc, &d), 2);
    assert_int_equal(d.seq[1], 3);
    memset(&d, 0, sizeof(d));
    d.stop_after = 1;
    assert_int_equal(nw_store_since(s, 0, 0, collect_doc, &d), 1);
    assert_int_equal(nw_store_since(s, 5, 0, collect_doc, NULL), 0);
    nw_store_close(&s);
}

static void
put_dead_commit(nw_store_t *s, const char *stage, const char *reason, const char *bytes)
{
    nw_dead_t d = {
        .v = 1,
        .stage = (char *)stage,
        .reason = (char *)reason,
        .time = "2024-02-06T10:00:00.000Z",
        .bytes = (uint8_t *)bytes,
        .bytes_len = strlen(bytes),
    };
    assert_int_equal(nw_store_begin(s), 0);
    assert_int_equal(nw_store_put_dead(s, &d), 0);
    assert_int_equal(nw_store_commit(s), 0);
}

typedef struct stats {
    int n;
    char key[4][48];
    int64_t count[4], replayed[4];
} stats_t;

static int
collect_stat(const nw_store_dlq_stat_t *r, void *arg)
{
    stats_t *c = arg;
    if (c->n < 4) {
        snprintf(c->key[c->n], sizeof(c->key[0]), "%s/%s", r->stage, r->reason);
        c->count[c->n] = r->count;
        c->replayed[c->n] = r->replayed;
    }
    c->n++;
    return 0;
}

static void
test_dlq_replay_bookkeeping(void **state)
{
    fixture_t *f = *state;
    nw_store_t *s = open_rw(f);
    put_dead_commit(s, "fetch", "invalid-utf8", "caf\xe9");
    put_dead_commit(s, "parse", "no-text", "{}");
    put_dead_commit(s, "fetch", "invalid-utf8", "\xff");

    /* One letter by id; a missing id is -ENOENT (with or without a callback). */
    dead_rows_t rows = {0};
    assert_int_equal(nw_store_dlq_get(s, 2, collect_dead, &rows), 0);
    assert_int_equal(rows.n, 1);
    assert_int_equal(rows.rowid[0], 2);
    assert_string_equal(rows.reason[0], "no-text");
    assert_memory_equal(rows.bytes[0], "{}", 2);
    assert_string_equal(rows.replay_status[0], "-");
    assert_false(rows.replayed[0]);
    assert_int_equal(nw_store_dlq_get(s, 99, collect_dead, &rows), -ENOENT);
    assert_int_equal(nw_store_dlq_get(s, 99, NULL, NULL), -ENOENT);

    /* Counts by stage and reason, most frequent first. */
    stats_t st = {0};
    assert_int_equal(nw_store_dlq_stats(s, collect_stat, &st), 2);
    assert_string_equal(st.key[0], "fetch/invalid-utf8");
    assert_int_equal(st.count[0], 2);
    assert_string_equal(st.key[1], "parse/no-text");
    assert_int_equal(st.count[1], 1);
    assert_int_equal(st.replayed[0] + st.replayed[1], 0);

    /* Pending: oldest first, optionally by reason. */
    memset(&rows, 0, sizeof(rows));
    assert_int_equal(nw_store_dlq_pending(s, NULL, collect_dead, &rows), 3);
    assert_int_equal(rows.rowid[0], 1);
    assert_int_equal(rows.rowid[2], 3);
    assert_int_equal(nw_store_dlq_pending(s, "invalid-utf8", NULL, NULL), 2);
    assert_int_equal(nw_store_dlq_pending(s, "nope", NULL, NULL), 0);

    /* A claim needs a transaction; it wins once, then only with force. */
    assert_int_equal(nw_store_dlq_claim(s, 1, 0), -EINVAL);
    assert_int_equal(nw_store_dlq_replayed(s, 1, "accepted", "x", NULL), -EINVAL);
    assert_int_equal(nw_store_begin(s), 0);
    assert_int_equal(nw_store_dlq_claim(s, 1, 0), 0);
    assert_int_equal(nw_store_dlq_claim(s, 1, 0), -EALREADY);
    assert_int_equal(nw_store_dlq_claim(s, 99, 0), -ENOENT);
    assert_int_equal(nw_store_dlq_replayed(s, 99, "accepted", "x", NULL), -ENOENT);
    assert_int_equal(nw_store_commit(s), 0);
    memset(&rows, 0, sizeof(rows));
    assert_int_equal(nw_store_dlq_get(s, 1, collect_dead, &rows), 0);
    assert_string_equal(rows.replay_status[0], "replaying");
    assert_true(rows.replayed[0]);
    assert_int_equal(nw_store_dlq_pending(s, NULL, NULL, NULL), 2);

    /* The answer is recorded; a forced claim takes it again. */
    assert_int_equal(nw_store_begin(s), 0);
    assert_int_equal(nw_store_dlq_replayed(s, 1, "accepted", "abc123", NULL), 0);
    assert_int_equal(nw_store_dlq_claim(s, 1, 0), -EALREADY);
    assert_int_equal(nw_store_commit(s), 0);
    memset(&rows, 0, sizeof(rows));
    assert_int_equal(nw_store_dlq_list(s, 0, collect_dead, &rows), 3);
    assert_int_equal(rows.rowid[2], 1); /* newest first */
    assert_string_equal(rows.replay_status[2], "accepted");
    assert_string_equal(rows.replay_id[2], "abc123");
    memset(&st, 0, sizeof(st));
    assert_int_equal(nw_store_dlq_stats(s, collect_stat, &st), 2);
    assert_int_equal(st.replayed[0], 1);
    assert_int_equal(nw_store_begin(s), 0);
    assert_int_equal(nw_store_dlq_claim(s, 1, 1), 0);
    assert_int_equal(nw_store_dlq_replayed(s, 1, "refused", "ignored", "HTTP 400 x: y"), 0);
    assert_int_equal(nw_store_commit(s), 0);
    memset(&rows, 0, sizeof(rows));
    assert_int_equal(nw_store_dlq_get(s, 1, collect_dead, &rows), 0);
    assert_string_equal(rows.replay_status[0], "refused");
    assert_string_equal(rows.replay_id[0], "ignored");

    /* Releasing a claim (the replay never reached fetch) makes the letter pending again. */
    assert_int_equal(nw_store_begin(s), 0);
    assert_int_equal(nw_store_dlq_claim(s, 2, 0), 0);
    assert_int_equal(nw_store_dlq_replayed(s, 2, NULL, "x", "y"), 0);
    assert_int_equal(nw_store_commit(s), 0);
    memset(&rows, 0, sizeof(rows));
    assert_int_equal(nw_store_dlq_get(s, 2, collect_dead, &rows), 0);
    assert_string_equal(rows.replay_status[0], "-");
    assert_string_equal(rows.replay_id[0], "-");
    assert_false(rows.replayed[0]);
    assert_int_equal(nw_store_dlq_pending(s, NULL, NULL, NULL), 2);

    /* A read-only handle reads all of it and writes none of it. */
    char err[256] = "";
    nw_store_t *r = nw_store_open(f->path, 1, err, sizeof(err));
    if (!r)
        fail_msg("open read-only: %s", err);
    assert_int_equal(nw_store_dlq_pending(r, NULL, NULL, NULL), 2);
    assert_int_equal(nw_store_dlq_claim(r, 2, 0), -EROFS);
    assert_int_equal(nw_store_dlq_replayed(r, 2, "accepted", "x", NULL), -EROFS);
    nw_store_close(&r);
    nw_store_close(&s);
}

/* A version 1 file (before replays were recorded) is read as such by a read-only handle and
 * migrated by a writable one, keeping its letters. */
static void
test_read_and_migrate_v1(void **state)
{
    fixture_t *f = *state;
    nw_store_t *s = open_rw(f);
    put_dead_commit(s, "fetch", "empty-body", "");
    nw_store_close(&s);

    /* Undo migrations 7 to 2 by hand: what a v1 program left behind. */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "DROP TABLE facet_hours; DROP TABLE facet_days; DROP TABLE place_points;"
                     "DROP TABLE article_topics; DROP TABLE article_places;"
                     "ALTER TABLE articles DROP COLUMN av;"
                     "ALTER TABLE revisions DROP COLUMN av;"
                     "ALTER TABLE revisions DROP COLUMN late;"
                     "DROP TABLE fingerprints; DROP INDEX articles_story;"
                     "ALTER TABLE articles DROP COLUMN story;"
                     "ALTER TABLE articles DROP COLUMN duplicate_of;"
                     "DROP INDEX dead_letters_item;"
                     "ALTER TABLE dead_letters DROP COLUMN item_key;"
                     "DROP INDEX dead_letters_reason; DROP INDEX revisions_stored_at;"
                     "ALTER TABLE dead_letters DROP COLUMN replayed_at;"
                     "ALTER TABLE dead_letters DROP COLUMN replay_status;"
                     "ALTER TABLE dead_letters DROP COLUMN replay_id;"
                     "ALTER TABLE dead_letters DROP COLUMN replay_detail;"
                     "PRAGMA user_version = 1",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);

    char err[256] = "";
    nw_store_t *r = nw_store_open(f->path, 1, err, sizeof(err));
    if (!r)
        fail_msg("open read-only: %s", err);
    assert_int_equal(nw_store_schema_version(r), 1);
    dead_rows_t rows = {0};
    assert_int_equal(nw_store_dlq_list(r, 0, collect_dead, &rows), 1);
    assert_string_equal(rows.reason[0], "empty-body");
    assert_string_equal(rows.replay_status[0], "-");
    memset(&rows, 0, sizeof(rows));
    assert_int_equal(nw_store_dlq_get(r, 1, collect_dead, &rows), 0);
    assert_false(rows.replayed[0]);
    stats_t st = {0};
    assert_int_equal(nw_store_dlq_stats(r, collect_stat, &st), 1);
    assert_int_equal(st.count[0], 1);
    assert_int_equal(st.replayed[0], 0);
    assert_int_equal(nw_store_dlq_pending(r, NULL, NULL, NULL), -EPROTO);
    /* Backfill reads an old file too (no late revisions column before v6). */
    assert_int_equal(nw_store_since(r, 0, 0, NULL, NULL), 0);
    uint64_t first = 7;
    assert_int_equal(nw_store_seq_at(r, "2000-01-01T00:00:00.000Z", &first), 0);
    nw_store_close(&r);

    s = open_rw(f);
    assert_int_equal(nw_store_schema_version(s), 10);
    assert_int_equal(nw_store_dlq_pending(s, NULL, NULL, NULL), 1);
    assert_int_equal(nw_store_begin(s), 0);
    assert_int_equal(nw_store_dlq_claim(s, 1, 0), 0);
    assert_int_equal(nw_store_commit(s), 0);
    nw_store_close(&s);
}

static void
test_seq_at_and_max(void **state)
{
    fixture_t *f = *state;
    nw_store_t *s = open_rw(f);
    uint64_t seq = 99;

    /* Empty: nothing to backfill whatever the time. */
    assert_int_equal(nw_store_max_seq(s, &seq), 0);
    assert_int_equal(seq, 0);
    assert_int_equal(nw_store_seq_at(s, "2000-01-01T00:00:00.000Z", &seq), 0);
    assert_int_equal(seq, 0);

    assert_int_equal(nw_store_begin(s), 0);
    put(s, "a", NULL, "one");
    put(s, "b", NULL, "two");
    put(s, "a", NULL, "one, revised");
    put(s, "c", NULL, "three");
    assert_int_equal(nw_store_commit(s), 0);
    assert_int_equal(nw_store_max_seq(s, &seq), 0);
    assert_int_equal(seq, 4);

    /* Fixed times, one day apart, so the boundaries are exact; seq 4 is stamped before seq 3
     * as a clock stepped back would, and is still included after seq 3. */
    free(db_text(f, "UPDATE revisions SET stored_at = CASE seq"
                    " WHEN 1 THEN '2024-01-01T00:00:00.000Z' WHEN 2 THEN '2024-01-02T00:00:00.000Z'"
                    " WHEN 3 THEN '2024-01-03T00:00:00.000Z' ELSE '2024-01-02T12:00:00.000Z' END"));
    static const struct {
        const char *time;
        uint64_t after;
    } cases[] = {
        {"2023-12-31T23:59:59.999Z", 0}, {"2024-01-01T00:00:00.000Z", 0},
        {"2024-01-01T00:00:00.001Z", 1}, {"2024-01-02T00:00:00.000Z", 1},
        {"2024-01-02T12:00:00.000Z", 2}, {"2024-01-03T00:00:00.000Z", 2},
        {"2024-01-03T00:00:00.001Z", 4}, /* nothing since: start after the newest */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(nw_store_seq_at(s, cases[i].time, &seq), 0);
        if (seq != cases[i].after)
            fail_msg("seq_at(%s) = %llu, want %llu", cases[i].time, (unsigned long long)seq,
                     (unsigned long long)cases[i].after);
    }
    nw_store_close(&s);
}

static void
test_readonly_sees_writer(void **state)
{
    fixture_t *f = *state;
    char err[256] = "";
    nw_store_t *w = open_rw(f);
    put_commit(w, "first", "Rafah talks", "Body one.");

    nw_store_t *r = nw_store_open(f->path, 1, err, sizeof(err));
    if (!r)
        fail_msg("open read-only: %s", err);
    assert_int_equal(nw_store_schema_version(r), 10);
    assert_int_equal(nw_store_count(r), 1);
    assert_int_equal(nw_store_begin(r), -EROFS);

    /* The writer's uncommitted work is invisible; committed work appears without reopening. */
    assert_int_equal(nw_store_begin(w), 0);
    put(w, "second", "Cairo meeting", "Body two.");
    assert_int_equal(nw_store_count(r), 1);
    assert_int_equal(nw_store_commit(w), 0);
    assert_int_equal(nw_store_count(r), 2);
    assert_int_equal(nw_store_search(r, "cairo", 10, NULL, NULL), 1);
    nw_enriched_t e = get(r, "second");
    assert_int_equal(e.seq, 2);
    nw_enriched_release(&e);

    nw_store_close(&r);
    nw_store_close(&w);
}

static void
test_bulk_transaction(void **state)
{
    fixture_t *f = *state;
    nw_store_t *s = open_rw(f);
    assert_int_equal(nw_store_begin(s), 0);
    for (int i = 0; i < 1000; i++) {
        char id[32], text[96];
        snprintf(id, sizeof(id), "bulk-%04d", i);
        snprintf(text, sizeof(text), "Article number %d about topic%d in the bulk batch.", i,
                 i % 10);
        nw_store_result_t r = put(s, id, "Bulk", text);
        assert_int_equal(r.seq, (uint64_t)i + 1);
    }
    assert_int_equal(nw_store_commit(s), 0);
    assert_int_equal(nw_store_count(s), 1000);
    assert_int_equal(nw_store_search(s, "topic7", 0, NULL, NULL), 100);
    docs_t d = {0};
    assert_int_equal(nw_store_since(s, 990, 0, collect_doc, &d), 10);
    assert_int_equal(d.seq[9], 1000);
    nw_store_close(&s);
}

/* A search that would work long is cut by the handle's budget (-ETIMEDOUT) and the handle
 * stays usable; without a budget the same search completes. The phrase of sixteen "the" over
 * 2,000 documents full of "the" takes tens of milliseconds at least, against a 1 ms budget. */
static void
test_search_budget(void **state)
{
    fixture_t *f = *state;
    nw_store_t *s = open_rw(f);
    assert_int_equal(nw_store_begin(s), 0);
    char text[2048] = "";
    for (int k = 0; k < 60; k++)
        strcat(text, "the ship and the port of the city ");
    for (int i = 0; i < 2000; i++) {
        char id[32];
        snprintf(id, sizeof(id), "budget-%04d", i);
        snprintf(text + strlen(text) - 5, 6, "%05d", i); /* each text different */
        put(s, id, "The", text);
    }
    assert_int_equal(nw_store_commit(s), 0);
    const char *q = "\"the the the the the the the the the the the the the the the the\"";
    assert_int_equal(nw_store_set_budget(s, 1), 0);
    assert_int_equal(nw_store_search(s, q, 10, NULL, NULL), -ETIMEDOUT);
    assert_int_equal(nw_store_set_budget(s, 0), 0);
    assert_int_equal(nw_store_search(s, q, 10, NULL, NULL), 0);
    nw_store_close(&s);
}

/* ---- stories ----------------------------------------------------------------------------- */

/* Ceasefire talks in Cairo, as one wire service wrote it. */
static const char TALKS[] =
    "Egyptian officials hosted talks in Cairo on Tuesday between Israeli and Hamas negotiators "
    "over a ceasefire in Gaza and the release of hostages. Mediators from Qatar said the "
    "proposal would pause the fighting for six weeks and allow aid convoys to reach Rafah. "
    "Secretary of State Antony Blinken is expected in Cairo later this week to press both "
    "sides, a State Department spokesman said.";
/* The same report, lightly edited by a second outlet: a near-duplicate. */
static const char TALKS_EDITED[] =
    "Egyptian officials hosted talks in Cairo on Tuesday between Israeli and Hamas negotiators "
    "over a ceasefire in Gaza and the release of hostages. Mediators from Qatar said the "
    "proposal would pause the fighting for six weeks and allow aid convoys to reach Rafah. "
    "Antony Blinken is expected in Cairo on Thursday to press both sides, a spokesman said.";
/* The same story in other words. */
static const char TALKS_OTHER[] =
    "Hamas and Israeli negotiators met Egyptian and Qatari mediators in Cairo as pressure grew "
    "for a Gaza ceasefire. The draft calls for a six-week pause, a hostage release and aid for "
    "Rafah, officials said. Blinken plans to visit Cairo this week.";
/* Something else entirely. */
static const char RATES[] =
    "The central bank raised its benchmark interest rate by a quarter point on Wednesday, "
    "citing persistent inflation in housing and services, and signalled that further "
    "tightening could follow if wage growth does not slow over the summer months.";

/* An article with the fingerprint enrich would give it, published at the given time. */
static nw_enriched_t
make_fp(const char *id, const char *published, const char *text)
{
    nw_enriched_t e = make(id, NULL, text);
    nw_fp_t fp;
    free(e.art.published);
    e.art.published = strdup(published);
    assert_int_equal(nw_fp_compute(text, strlen(text), NULL, &fp), 0);
    assert_int_equal(nw_fp_store(&fp, &e), 0);
    return e;
}

typedef struct grouped {
    char story[64], dup[64];
    int has_dup, topic; /* topic: the document's topics end with story.<story> */
} grouped_t;

/* Store one fingerprinted article in its own transaction; what it was grouped with, checked
 * against the result, the document and the stored row. */
static grouped_t
put_story(nw_store_t *s, const char *id, const char *published, const char *text)
{
    nw_enriched_t e = make_fp(id, published, text);
    nw_store_result_t res = {0};
    nw_buf_t doc = {0};
    grouped_t g = {0};

    assert_int_equal(nw_store_begin(s), 0);
    assert_int_equal(nw_store_put(s, &e, &doc, &res), 0);
    assert_int_equal(nw_store_commit(s), 0);
    assert_string_equal(res.status, "stored");
    assert_non_null(res.story);
    snprintf(g.story, sizeof(g.story), "%s", res.story);
    g.has_dup = res.duplicate_of != NULL;
    if (g.has_dup)
        snprintf(g.dup, sizeof(g.dup), "%s", res.duplicate_of);
    nw_enriched_release(&e);

    /* The document carries both as keys and the story as its last topic. */
    nw_enriched_t d;
    assert_int_equal(nw_enriched_decode(&d, doc.data, doc.len), 0);
    char want[96];
    snprintf(want, sizeof(want), "story.%s", g.story);
    g.topic = d.n_topics == 3 && strcmp(d.topics[2], want) == 0;
    nw_enriched_release(&d);
    char key[96];
    int n = snprintf(key, sizeof(key), "\xa5story%c%s", (char)(0xa0 | strlen(g.story)), g.story);
    assert_non_null(memmem(doc.data, doc.len, key, (size_t)n));
    assert_int_equal(memmem(doc.data, doc.len,
                            "\xac"
                            "duplicate_of",
                            13) != NULL,
                     g.has_dup);
    nw_buf_release(&doc);

    /* The row has the same. */
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(nw_store_get(s, id, &buf, &len), 0);
    assert_non_null(memmem(buf, len, key, (size_t)n));
    free(buf);
    return g;
}

static void
test_stories(void **state)
{
    fixture_t *f = *state;

    /* The texts are what the verdicts say they are. */
    nw_fp_t a, b, c, d;
    assert_int_equal(nw_fp_compute(TALKS, strlen(TALKS), NULL, &a), 0);
    assert_int_equal(nw_fp_compute(TALKS_EDITED, strlen(TALKS_EDITED), NULL, &b), 0);
    assert_int_equal(nw_fp_compute(TALKS_OTHER, strlen(TALKS_OTHER), NULL, &c), 0);
    assert_int_equal(nw_fp_compute(RATES, strlen(RATES), NULL, &d), 0);
    assert_true(nw_fp_compare(&a, &b).duplicate);
    assert_false(nw_fp_compare(&a, &c).duplicate);
    assert_true(nw_fp_compare(&a, &c).same_story);
    assert_false(nw_fp_compare(&a, &d).same_story);
    assert_false(nw_fp_compare(&c, &d).same_story);

    nw_store_t *s = open_rw(f);
    grouped_t g = put_story(s, "talks", "2024-02-06T09:00:00Z", TALKS);
    assert_string_equal(g.story, "talks"); /* the first of its story */
    assert_false(g.has_dup);
    assert_true(g.topic);

    g = put_story(s, "talks-copy", "2024-02-06T11:30:00+01:00", TALKS_EDITED);
    assert_true(g.has_dup);
    assert_string_equal(g.dup, "talks");
    assert_string_equal(g.story, "talks");
    assert_true(g.topic);

    g = put_story(s, "talks-other", "2024-02-07", TALKS_OTHER);
    assert_false(g.has_dup);
    assert_string_equal(g.story, "talks");

    g = put_story(s, "rates", "2024-02-07T10:00:00Z", RATES);
    assert_false(g.has_dup);
    assert_string_equal(g.story, "rates");

    /* Four days after the last of the talks: outside the window, a story of its own. */
    g = put_story(s, "talks-later", "2024-02-11T09:00:00Z", TALKS);
    assert_false(g.has_dup);
    assert_string_equal(g.story, "talks-later");

    /* The same content again is unchanged and reports what was stored. */
    nw_enriched_t e = make_fp("talks-copy", "2024-02-06T10:30:00Z", TALKS_EDITED);
    nw_store_result_t res = {0};
    assert_int_equal(nw_store_begin(s), 0);
    assert_int_equal(nw_store_put(s, &e, NULL, &res), 0);
    assert_int_equal(nw_store_commit(s), 0);
    assert_string_equal(res.status, "unchanged");
    assert_string_equal(res.story, "talks");
    assert_string_equal(res.duplicate_of, "talks");
    nw_enriched_release(&e);

    /* A rolled-back article is forgotten: nothing groups with it. */
    e = make_fp("gone", "2024-03-01T00:00:00Z", RATES);
    assert_int_equal(nw_store_begin(s), 0);
    assert_int_equal(nw_store_put(s, &e, NULL, &res), 0);
    assert_int_equal(nw_store_rollback(s), 0);
    nw_enriched_release(&e);
    g = put_story(s, "rates-march", "2024-03-01T06:00:00Z", RATES);
    assert_false(g.has_dup);
    assert_string_equal(g.story, "rates-march");
    nw_store_close(&s);

    /* Reopened, the fingerprints are still there. */
    s = open_rw(f);
    g = put_story(s, "talks-third", "2024-02-07T12:00:00Z", TALKS_EDITED);
    assert_true(g.has_dup);
    assert_string_equal(g.dup, "talks-copy"); /* identical text: the best match */
    assert_string_equal(g.story, "talks");

    /* A revision is compared with other ids only, and its row is updated. */
    g = put_story(s, "rates", "2024-02-07T10:00:00Z", TALKS_OTHER);
    assert_string_equal(g.story, "talks");
    assert_true(g.has_dup);
    assert_string_equal(g.dup, "talks-other");
    nw_store_close(&s);

    /* The columns, as queries read them. */
    db_expect(f,
              f->pg ? "SELECT string_agg(id || ':' || story || ':' || coalesce(duplicate_of, '-'),"
                      " ' ' ORDER BY seq) FROM articles"
                    : "SELECT group_concat(id || ':' || story || ':' ||"
                      " coalesce(duplicate_of, '-'), ' ') FROM"
                      " (SELECT * FROM articles ORDER BY seq)",
              "talks:talks:- talks-copy:talks:talks talks-other:talks:- "
              "talks-later:talks-later:- rates-march:rates-march:- "
              "talks-third:talks:talks-copy rates:talks:talks-other");
}

/* Issue 10.7: stories by the time the news happened. An article without a published date
 * whose caption dates the event ("on February 6, 2024") joins the story of the one published
 * that day, though it is stored years later; on main its stored time put it outside the window
 * and it started a story of its own. */
static void
test_story_by_referenced_time(void **state)
{
    fixture_t *f = *state;
    nw_store_t *s = open_rw(f);
    grouped_t g = put_story(s, "talks", "2024-02-06T09:00:00Z", TALKS);
    assert_string_equal(g.story, "talks");

    nw_enriched_t e = make_fp("talks-undated", "2024-02-06", TALKS_OTHER);
    free(e.art.published);
    e.art.published = NULL;
    e.art.captions = calloc(1, sizeof(*e.art.captions));
    e.art.captions[0].text = strdup("Negotiators arrive in Cairo on February 6, 2024, for talks");
    e.art.n_captions = 1;
    /* the time it refers to, from the caption; a text date the same way, the latest wins,
     * one still to come does not count */
    int64_t ref, now = nw_now_ms(), t;
    assert_int_equal(nw_time_parse("2024-02-06", &ref), 0);
    assert_true(nw_story_time(&e, now) == ref);
    e.dates = calloc(2, sizeof(*e.dates));
    e.dates[0] = (nw_datemention_t){.text = strdup("7 October 2023"), .date = strdup("2023-10-07")};
    e.dates[1] = (nw_datemention_t){.text = strdup("1 May 2999"), .date = strdup("2999-05-01")};
    e.n_dates = 2;
    assert_true(nw_story_time(&e, now) == ref);
    assert_int_equal(nw_time_parse("2024-02-07", &t), 0);
    free(e.dates[0].date);
    e.dates[0].date = strdup("2024-02-07");
    assert_true(nw_story_time(&e, now) == t);

    nw_store_result_t res = {0};
    nw_buf_t doc = {0};
    assert_int_equal(nw_store_begin(s), 0);
    assert_int_equal(nw_store_put(s, &e, &doc, &res), 0);
    assert_int_equal(nw_store_commit(s), 0);
    assert_string_equal(res.story, "talks");
    nw_buf_release(&doc);
    nw_enriched_release(&e);

    /* nothing dated at all: the stored time, far from 2024, a story of its own */
    e = make_fp("talks-timeless", "2024-02-06", TALKS_OTHER);
    free(e.art.published);
    e.art.published = NULL;
    assert_true(nw_story_time(&e, now) == now);
    assert_int_equal(nw_store_begin(s), 0);
    assert_int_equal(nw_store_put(s, &e, &doc, &res), 0);
    assert_int_equal(nw_store_commit(s), 0);
    assert_string_equal(res.story, "talks-timeless");
    nw_buf_release(&doc);
    nw_enriched_release(&e);
    nw_store_close(&s);
}

/* An article with one person entity and its topic, as enrich gives them. */
static nw_enriched_t
make_person(const char *id, const char *person, const char *topic)
{
    nw_enriched_t e = make(id, NULL, "Text about a person.");
    e.entities = calloc(1, sizeof(*e.entities));
    e.entities[0].type = strdup("person");
    e.entities[0].name = strdup(person);
    e.n_entities = 1;
    char **t = realloc(e.topics, 3 * sizeof(*t));
    assert_non_null(t);
    e.topics = t;
    e.topics[e.n_topics++] = strdup(topic);
    return e;
}

/* Issue 10.4: across articles, a surname alone goes to the full name the store saw last, so
 * person.donald-trump gets every article (on main the second was on person.trump only). */
static void
test_names_across_articles(void **state)
{
    fixture_t *f = *state;
    nw_store_t *s = open_rw(f);
    static const char *const in[][3] = {
        /* id, person, topic as enrich gives them; then the topic the document must carry */
        {"full", "Donald Trump", "person.donald-trump"},
        {"short", "Trump", "person.trump"},
        {"other", "Merkel", "person.merkel"}, /* no full name seen: unchanged */
    };
    static const char *const want[] = {"person.donald-trump", "person.donald-trump",
                                       "person.merkel"};
    assert_int_equal(nw_store_begin(s), 0);
    for (size_t i = 0; i < 3; i++) {
        nw_enriched_t e = make_person(in[i][0], in[i][1], in[i][2]);
        nw_store_result_t res = {0};
        nw_buf_t doc = {0};
        assert_int_equal(nw_store_put(s, &e, &doc, &res), 0);
        nw_enriched_release(&e);
        nw_enriched_t d;
        assert_int_equal(nw_enriched_decode(&d, doc.data, doc.len), 0);
        int found = 0, shortform = 0;
        for (size_t k = 0; k < d.n_topics; k++) {
            found |= strcmp(d.topics[k], want[i]) == 0;
            shortform |= i == 1 && strcmp(d.topics[k], "person.trump") == 0;
        }
        assert_true(found);
        assert_false(shortform);
        if (i == 1)
            assert_string_equal(d.entities[0].name, "Donald Trump");
        nw_enriched_release(&d);
        nw_buf_release(&doc);
    }
    assert_int_equal(nw_store_commit(s), 0);
    nw_store_close(&s);
}

/* The two seed articles (one published 2024-02-06, the other undated with captions of that
 * day) through parse, enrich and the store: one story. Skips without ../shared/data. */
static void
test_story_seeds(void **state)
{
    fixture_t *f = *state;
    const char *dir = getenv("NW_SHARED_DATA");
    static const char *const seeds[] = {"000_0426941d7c751aaa.txt", "002_07cb34b1e9b7ec05.txt"};
    char path[1024], stories[2][64];
    nw_enricher_t *en = NULL;
    if (!dir || !*dir)
        dir = "../shared/data";
    snprintf(path, sizeof(path), "%s/seeds/%s", dir, seeds[0]);
    if (access(path, R_OK) != 0) {
        fprintf(stderr, "skip: no seeds under \"%s\" (set NW_SHARED_DATA)\n", dir);
        skip();
        return;
    }
    assert_int_equal(nw_enricher_new(NW_SOURCE_DIR "/data", NULL, &en), 0);
    nw_store_t *s = open_rw(f);
    for (int i = 0; i < 2; i++) {
        uint8_t *body = NULL;
        size_t len = 0;
        snprintf(path, sizeof(path), "%s/seeds/%s", dir, seeds[i]);
        assert_int_equal(nw_read_file(path, 1 << 20, &body, &len), 0);
        nw_raw_t raw = {.v = 1,
                        .id = (char *)seeds[i],
                        .source = "inbox",
                        .fetched = "2026-12-06T12:00:00.000Z",
                        .content_type = "text/plain",
                        .body = body,
                        .body_len = len};
        nw_article_t a;
        const char *reason = NULL;
        char detail[256];
        assert_int_equal(nw_parse_raw(&raw, &a, &reason, detail, sizeof(detail)), 0);
        free(body);
        nw_enriched_t e;
        assert_int_equal(nw_enricher_run(en, &a, &e), 0);
        nw_article_release(&a);
        nw_store_result_t res = {0};
        nw_buf_t doc = {0};
        assert_int_equal(nw_store_begin(s), 0);
        assert_int_equal(nw_store_put(s, &e, &doc, &res), 0);
        assert_int_equal(nw_store_commit(s), 0);
        snprintf(stories[i], sizeof(stories[i]), "%s", res.story);
        nw_buf_release(&doc);
        nw_enriched_release(&e);
    }
    assert_string_equal(stories[1], stories[0]);
    nw_store_close(&s);
    nw_enricher_destroy(&en);
}

/* Articles without a fingerprint (older enrich) start their own story and are not compared. */
static void
test_story_without_fingerprint(void **state)
{
    fixture_t *f = *state;
    nw_store_t *s = open_rw(f);
    assert_int_equal(nw_store_begin(s), 0);
    nw_store_result_t r1 = put(s, "plain-1", "Same", "Exactly the same text in both of them.");
    assert_string_equal(r1.story, "plain-1");
    nw_store_result_t r2 = put(s, "plain-2", "Same", "Exactly the same text in both of them.");
    assert_string_equal(r2.story, "plain-2");
    assert_null(r2.duplicate_of);
    /* An id that is no topic segment gets no story topic. */
    nw_enriched_t e = make("Not A Segment", NULL, "Text.");
    nw_buf_t doc = {0};
    assert_int_equal(nw_store_put(s, &e, &doc, &r1), 0);
    assert_int_equal(e.n_topics, 2);
    assert_string_equal(r1.story, "Not A Segment");
    nw_buf_release(&doc);
    nw_enriched_release(&e);
    assert_int_equal(nw_store_commit(s), 0);
    nw_store_close(&s);
}

/* Words from a vocabulary of 4096 made-up ones, Zipf-like (low ids far more often), so
 * articles share common words as news does. */
static size_t
fake_words(uint64_t *rng, char *text, size_t cap, int n)
{
    size_t len = 0;
    for (int w = 0; w < n; w++) {
        *rng = *rng * 6364136223846793005ULL + 1442695040888963407ULL;
        uint64_t r = *rng >> 20;
        unsigned id = (unsigned)((r & 4095) * ((r >> 12) & 4095) / 4096); /* skewed low */
        char word[16];
        size_t k = 0;
        for (unsigned v = id + 20000; v; v /= 21) /* 4 letters or more: terms */
            word[k++] = (char)('a' + v % 21);
        word[k] = '\0';
        len += (size_t)snprintf(text + len, cap - len, "%s%s ", w % 9 ? "" : "The ", word);
    }
    return len;
}

/* One story in English and Spanish: few shared words, but the anchors enrich adds (names,
 * the place id, numbers) and the languages kept in the ring group them, also after a reopen
 * reloads the ring from the fingerprints table. */
static const char FLOOD_EN[] =
    "Spanish Prime Minister Pedro Sanchez visited Valencia on Tuesday after floods killed 214 "
    "people. Sanchez promised 10,600 million euros in aid, and Ursula von der Leyen offered "
    "help from the European Union.";
static const char FLOOD_ES[] =
    "El presidente Pedro Sanchez visito Valencia tras las riadas que causaron 214 muertos. "
    "Sanchez prometio 10.600 millones de euros de ayuda y Ursula von der Leyen ofrecio el "
    "apoyo de la Union Europea.";

static grouped_t
put_lang(nw_store_t *s, const char *id, const char *lang, const char *text)
{
    nw_enriched_t e = make(id, NULL, text);
    nw_entity_t ents[2] = {
        {.type = "person", .name = "Pedro Sanchez", .salience = 0.8},
        {.type = "place", .name = "Valencia", .geoid = "es.valencia", .cc = "ES", .salience = 0.6},
    };
    nw_enriched_t view = {.entities = ents, .n_entities = 2};
    nw_fp_t fp;
    free(e.art.published);
    e.art.published = strdup("2024-11-05T10:00:00Z");
    free(e.art.lang);
    e.art.lang = strdup(lang);
    assert_int_equal(nw_fp_compute(text, strlen(text), lang, &fp), 0);
    nw_fp_add_entities(&fp, &view);
    assert_int_equal(nw_fp_store(&fp, &e), 0);
    nw_store_result_t res = {0};
    grouped_t g = {0};
    assert_int_equal(nw_store_begin(s), 0);
    assert_int_equal(nw_store_put(s, &e, NULL, &res), 0);
    assert_int_equal(nw_store_commit(s), 0);
    snprintf(g.story, sizeof(g.story), "%s", res.story ? res.story : "");
    g.has_dup = res.duplicate_of != NULL;
    nw_enriched_release(&e);
    return g;
}

static void
test_story_across_languages(void **state)
{
    fixture_t *f = *state;
    nw_store_t *s = open_rw(f);
    grouped_t g = put_lang(s, "flood-en", "en", FLOOD_EN);
    assert_string_equal(g.story, "flood-en");
    g = put_story(s, "rates", "2024-11-05T11:00:00Z", RATES);
    assert_string_equal(g.story, "rates");
    g = put_lang(s, "flood-es", "es", FLOOD_ES);
    assert_false(g.has_dup);
    assert_string_equal(g.story, "flood-en");
    nw_store_close(&s);
    s = open_rw(f);
    g = put_lang(s, "flood-es-2", "es", FLOOD_ES);
    assert_true(g.has_dup); /* the same text again, from the reloaded ring */
    assert_string_equal(g.story, "flood-en");
    nw_store_close(&s);
}

/* A pair that is the same story only with everything the fingerprint has: without the
 * anchors (0.49), the languages (0.37) or the grams (0.56) of either side the similarity stays
 * below NW_FP_STORY_SIM; with all of them it is 0.62. */
static const char AID_EN[] =
    "The prime minister toured the flooded region of Valencia on Tuesday after the disaster "
    "killed 214 people, and promised 10,600 euros in aid.";
static const char AID_DE[] =
    "Der Regierungschef besuchte am Dienstag das Katastrophengebiet um Valencia, wo die Unwetter "
    "214 Menschen toeteten, und sagte Hilfen von 10.600 Millionen Euro zu.";

/* The grams, anchors and language come back from the fingerprints table (both backends):
 * the English article is only in the reloaded ring when the German one arrives. */
static void
test_story_across_languages_reloaded(void **state)
{
    fixture_t *f = *state;
    nw_store_t *s = open_rw(f);
    grouped_t g = put_lang(s, "aid-en", "en", AID_EN);
    assert_string_equal(g.story, "aid-en");
    g = put_story(s, "rates", "2024-11-05T11:00:00Z", RATES);
    nw_store_close(&s);
    db_expect(f,
              "SELECT lang || ',' || CASE WHEN length(grams) > 0 AND length(anchors) > 0"
              " THEN 'all' ELSE 'missing' END FROM fingerprints WHERE id = 'aid-en'",
              "en,all");
    s = open_rw(f);
    g = put_lang(s, "aid-de", "de", AID_DE);
    assert_false(g.has_dup);
    assert_string_equal(g.story, "aid-en");
    nw_store_close(&s);
}

/* The cost of a put in a bulk transaction with an empty and with a full ring of recent
 * unrelated articles (printed, not asserted: sanitizer builds are several times slower), and
 * that the fingerprints table stays bounded. */
static void
test_story_ring_bounded(void **state)
{
    fixture_t *f = *state;
    const int n = NW_STORE_STORY_RING + 500;
    nw_store_t *s = open_rw(f);
    uint64_t rng = 42, t0 = 0, first = 0, full = 0;

    assert_int_equal(nw_store_begin(s), 0);
    for (int i = 0; i < n; i++) {
        char id[32], text[4096];
        fake_words(&rng, text, sizeof(text), 300);
        snprintf(id, sizeof(id), "ring-%05d", i);
        nw_enriched_t e = make_fp(id, "2024-02-06T09:00:00Z", text);
        nw_store_result_t res = {0};
        t0 = nw_mono_ns();
        assert_int_equal(nw_store_put(s, &e, NULL, &res), 0);
        if (i < 500)
            first += nw_mono_ns() - t0;
        else if (i >= NW_STORE_STORY_RING)
            full += nw_mono_ns() - t0;
        nw_enriched_release(&e);
    }
    assert_int_equal(nw_store_commit(s), 0);
    print_message("      put: %llu us with the first 500 in the ring, %llu us with it full\n",
                  (unsigned long long)(first / 500 / 1000),
                  (unsigned long long)(full / 500 / 1000));

    char want[64];
    snprintf(want, sizeof(want), "%d:%d", NW_STORE_STORY_RING, n - NW_STORE_STORY_RING + 1);
    db_expect(f, "SELECT count(*) || ':' || min(seq) FROM fingerprints", want);
    nw_store_close(&s);
}

/* Which database a --db value names. */
static void
test_is_postgres(void **state)
{
    (void)state;
    static const char *const pg[] = {
        "postgres://db-host/newswire", "postgresql:///newswire?host=/run/pg",
        "host=/run/pg dbname=newswire", "dbname = newswire", "service=newswire"};
    static const char *const file[] = {
        "var/newswire.db", "/data/newswire.db", "./a=b.db", "newswire.db", "", "postgres", "=x",
        "Host=x"};
    for (size_t i = 0; i < sizeof(pg) / sizeof(pg[0]); i++)
        if (!nw_store_is_postgres(pg[i]))
            fail_msg("\"%s\" is PostgreSQL", pg[i]);
    for (size_t i = 0; i < sizeof(file) / sizeof(file[0]); i++)
        if (nw_store_is_postgres(file[i]))
            fail_msg("\"%s\" is a file", file[i]);
    assert_false(nw_store_is_postgres(NULL));
}

/* ---- PostgreSQL only ------------------------------------------------------------------- */

static void
test_pg_open_errors(void **state)
{
    fixture_t *f = *state;
    char err[256] = "";

    /* A read-only handle on a database without the schema, and an unreachable server. */
    assert_null(nw_store_open(f->path, 1, err, sizeof(err)));
    assert_non_null(strstr(err, "not a newswire database"));
    assert_null(nw_store_open("host=/nonexistent-dir port=1 dbname=x", 0, err, sizeof(err)));
    assert_non_null(strstr(err, "cannot connect"));

    /* A newer schema than this program knows. */
    nw_store_t *s = open_rw(f);
    nw_store_close(&s);
    free(db_text(f, "INSERT INTO schema_migrations VALUES (99, 'x')"));
    assert_null(nw_store_open(f->path, 0, err, sizeof(err)));
    assert_non_null(strstr(err, "newer"));
}

static void
test_pg_search(void **state)
{
    fixture_t *f = *state;
    nw_store_t *s = open_rw(f);
    load_corpus(s);

    hits_t h = {0};
    assert_int_equal(nw_store_search(s, "Rafah", 10, collect, &h), 2);
    /* A headline naming the term outranks a passing mention in the body. */
    assert_string_equal(h.ids[0], "title-hit");
    assert_string_equal(h.ids[1], "text-hit");
    assert_true(h.rank[0] < h.rank[1]);
    /* Title-only match: the snippet is the title; a text match: a window of the text, with
     * ellipses where it was cut. */
    assert_string_equal(h.snippets[0], "Israel weighs operation in [Rafah]");
    assert_non_null(strstr(h.snippets[1], "mentioned [Rafah] briefly"));
    assert_non_null(strstr(h.snippets[1], "\xe2\x80\xa6"));

    /* Web search syntax: words are ANDed, OR, -word, "phrases". */
    memset(&h, 0, sizeof(h));
    assert_int_equal(nw_store_search(s, "shares tokyo", 10, collect, &h), 1);
    assert_string_equal(h.ids[0], "other");
    assert_int_equal(nw_store_search(s, "rafah OR shares", 10, NULL, NULL), 3);
    assert_int_equal(nw_store_search(s, "rafah -envoy", 10, NULL, NULL), 1);
    assert_int_equal(nw_store_search(s, "\"weighs operation\"", 10, NULL, NULL), 1);
    assert_int_equal(nw_store_search(s, "\"operation weighs\"", 10, NULL, NULL), 0);
    /* Title and text both match: the snippet shows the text. */
    memset(&h, 0, sizeof(h));
    assert_int_equal(nw_store_search(s, "tregua", 10, collect, &h), 1);
    assert_non_null(strstr(h.snippets[0], "sobre la [tregua]"));
    /* What FTS5 rejects is plain words here. */
    assert_int_equal(nw_store_search(s, "Rafah (", 10, NULL, NULL), 2);
    assert_int_equal(nw_store_search(s, "southern AND (city", 10, NULL, NULL), 0); /* "and" */
    assert_int_equal(nw_store_search(s, "southern (city", 10, NULL, NULL), 1);

    /* No match, limit, a callback that stops early, nothing searchable. */
    assert_int_equal(nw_store_search(s, "zeppelin", 10, collect, NULL), 0);
    assert_int_equal(nw_store_search(s, "rafah", 1, NULL, NULL), 1);
    memset(&h, 0, sizeof(h));
    h.stop_after = 1;
    assert_int_equal(nw_store_search(s, "rafah OR shares", 10, collect, &h), 1);
    assert_int_equal(nw_store_search(s, "((( ]", 10, collect, &h), -EINVAL);
    assert_int_equal(nw_store_search(s, "", 10, collect, &h), -EINVAL);
    assert_int_equal(nw_store_search(s, "*", 10, collect, &h), -EINVAL);
    nw_store_close(&s);
}

typedef struct writer {
    nw_store_t *s;
    const char *id, *text;
    nw_store_result_t res;
    int rc;
    char status[16];
} writer_t;

static void *
write_one(void *arg)
{
    writer_t *w = arg;
    nw_enriched_t e = make(w->id, "Title", w->text);
    w->rc = nw_store_begin(w->s);
    if (w->rc == 0)
        w->rc = nw_store_put(w->s, &e, NULL, &w->res);
    if (w->rc == 0) {
        snprintf(w->status, sizeof(w->status), "%s", w->res.status);
        w->rc = nw_store_commit(w->s);
    }
    nw_enriched_release(&e);
    return NULL;
}

static void
pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Two stores get the same article at once: the second waits for the first's commit and then
 * finds it ("unchanged"), so it is stored once; a changed text becomes revision 2 on top. */
static void
test_pg_same_id_two_writers(void **state)
{
    fixture_t *f = *state;
    nw_store_t *a = open_rw(f), *b = open_rw(f);
    pthread_t t;

    for (int round = 0; round < 2; round++) {
        writer_t w = {
            .s = b, .id = round ? "known" : "fresh", .text = round ? "changed by b" : "same text"};
        assert_int_equal(nw_store_begin(a), 0);
        put(a, "fresh", "Title", "same text");
        if (round)
            put(a, "known", "Title", "first by a");
        /* b blocks on a's uncommitted row (whether it got there before the commit or not, the
         * outcome is the same). */
        assert_int_equal(pthread_create(&t, NULL, write_one, &w), 0);
        pause_ms(100);
        assert_int_equal(nw_store_commit(a), 0);
        assert_int_equal(pthread_join(t, NULL), 0);
        assert_int_equal(w.rc, 0);
        assert_string_equal(w.status, round ? "stored" : "unchanged");
        assert_int_equal(w.res.rev, round ? 2 : 1);
    }
    db_expect(f, "SELECT count(*) || ':' || count(DISTINCT id) FROM revisions", "3:2");
    db_expect(f, "SELECT rev FROM articles WHERE id = 'known'", "2");
    nw_store_close(&a);
    nw_store_close(&b);
}

typedef struct committer {
    nw_store_t *s;
    int rc;
} committer_t;

static void *
commit_later(void *arg)
{
    committer_t *c = arg;
    pause_ms(200);
    c->rc = nw_store_commit(c->s);
    return NULL;
}

/* Writers commit out of seq order; a reader resuming from a seq must still see every one:
 * since() waits for the transaction holding the lower seq instead of skipping past it. */
static void
test_pg_since_waits_for_writers(void **state)
{
    fixture_t *f = *state;
    char err[256] = "";
    nw_store_t *a = open_rw(f), *b = open_rw(f), *r;
    committer_t c = {0};
    docs_t d = {0};
    pthread_t t;
    uint64_t max = 0;

    assert_int_equal(nw_store_begin(a), 0);
    assert_int_equal(put(a, "from-a", NULL, "first seq, committed last").seq, 1);
    assert_int_equal(nw_store_begin(b), 0);
    assert_int_equal(put(b, "from-b", NULL, "second seq, committed first").seq, 2);
    assert_int_equal(nw_store_commit(b), 0);

    r = nw_store_open(f->path, 1, err, sizeof(err));
    if (!r)
        fail_msg("open read-only: %s", err);
    c.s = a;
    assert_int_equal(pthread_create(&t, NULL, commit_later, &c), 0);
    assert_int_equal(nw_store_since(r, 0, 0, collect_doc, &d), 2);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(c.rc, 0);
    assert_int_equal(d.seq[0], 1);
    assert_int_equal(d.seq[1], 2);
    assert_int_equal(nw_store_max_seq(r, &max), 0);
    assert_int_equal(max, 2);

    /* A rolled back seq is a gap that never fills: readers go past it. */
    assert_int_equal(nw_store_begin(a), 0);
    assert_int_equal(put(a, "lost", NULL, "rolled back").seq, 3);
    assert_int_equal(nw_store_rollback(a), 0);
    put_commit(b, "after-gap", NULL, "four");
    memset(&d, 0, sizeof(d));
    assert_int_equal(nw_store_since(r, 2, 0, collect_doc, &d), 1);
    assert_int_equal(d.seq[0], 4);
    nw_store_close(&r);
    nw_store_close(&a);
    nw_store_close(&b);
}

typedef struct churn {
    nw_store_t *s;
    int id, rounds, rc;
} churn_t;

/* Small transactions, one in five rolled back, as stores under load write them. */
static void *
churn(void *arg)
{
    churn_t *c = arg;
    for (int i = 0; i < c->rounds && c->rc == 0; i++) {
        char id[32];
        c->rc = nw_store_begin(c->s);
        for (int k = 0; k < 1 + i % 3 && c->rc == 0; k++) {
            snprintf(id, sizeof(id), "w%d-%d-%d", c->id, i, k);
            nw_enriched_t e = make(id, NULL, id);
            nw_store_result_t res = {0};
            c->rc = nw_store_put(c->s, &e, NULL, &res);
            nw_enriched_release(&e);
        }
        if (c->rc == 0)
            c->rc = i % 5 == 4 ? nw_store_rollback(c->s) : nw_store_commit(c->s);
    }
    return NULL;
}

typedef struct follow {
    uint64_t cursor;
    int n, cap;
    uint64_t *seqs;
} follow_t;

static int
on_follow(uint64_t seq, const uint8_t *doc, size_t len, void *arg)
{
    follow_t *f = arg;
    (void)doc;
    (void)len;
    assert_true(seq > f->cursor);
    f->cursor = seq;
    assert_true(f->n < f->cap);
    f->seqs[f->n++] = seq;
    return 0;
}

/* Two writers commit in parallel while a reader follows with since() from its cursor, as
 * `newswire tail --since` does: the reader ends up with every committed seq. */
static void
test_pg_follow_two_writers(void **state)
{
    fixture_t *f = *state;
    char err[256] = "";
    churn_t c[2] = {{.s = open_rw(f), .id = 0, .rounds = 150},
                    {.s = open_rw(f), .id = 1, .rounds = 150}};
    nw_store_t *r = nw_store_open(f->path, 1, err, sizeof(err));
    follow_t fo = {.cap = 2000};
    pthread_t t[2];

    assert_non_null(r);
    fo.seqs = calloc((size_t)fo.cap, sizeof(*fo.seqs));
    assert_non_null(fo.seqs);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, churn, &c[i]), 0);
    for (int i = 0; i < 300; i++)
        assert_true(nw_store_since(r, fo.cursor, 0, on_follow, &fo) >= 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(c[i].rc, 0);
    }
    assert_true(nw_store_since(r, fo.cursor, 0, on_follow, &fo) >= 0);
    char *want = db_text(f, "SELECT count(*) FROM revisions");
    if (atoi(want) != fo.n)
        fail_msg("the reader followed %d seqs of %s committed", fo.n, want);
    free(want);
    free(fo.seqs);
    nw_store_close(&r);
    nw_store_close(&c[0].s);
    nw_store_close(&c[1].s);
}

/* The server drops the store's connection mid-batch: the commit fails with -EIO (nothing of
 * the batch is kept, so nothing may be acked), and the next transaction reconnects. Reads
 * outside a transaction reconnect as well. */
static void
test_pg_connection_lost(void **state)
{
    fixture_t *f = *state;
    nw_store_t *s = open_rw(f);
    char kill_sql[256]; /* the store's connection: the test's name, not db_text's own */
    snprintf(kill_sql, sizeof(kill_sql),
             "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
             " WHERE application_name = '%s' AND pid <> pg_backend_pid()",
             f->schema);

    put_commit(s, "before", NULL, "kept");
    assert_int_equal(nw_store_begin(s), 0);
    put(s, "lost", NULL, "in the batch that fails");
    db_expect(f, kill_sql, "1");
    nw_enriched_t e = make("after-kill", NULL, "put on a dead connection");
    nw_store_result_t res = {0};
    int rc = nw_store_put(s, &e, NULL, &res);
    nw_enriched_release(&e);
    if (rc == 0)
        rc = nw_store_commit(s);
    assert_int_equal(rc, -EIO);
    assert_int_equal(nw_store_rollback(s), 0);

    put_commit(s, "again", NULL, "after reconnecting");
    assert_int_equal(nw_store_count(s), 2);
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(nw_store_get(s, "lost", &buf, &len), -ENOENT);

    db_expect(f, kill_sql, "1");
    assert_int_equal(nw_store_count(s), -EIO); /* the read that finds the connection gone */
    assert_int_equal(nw_store_count(s), 2);    /* and the next one reconnects */
    nw_store_close(&s);
}

/* Stories across writers (both backends): b's transaction loads what a stored, so a
 * near-duplicate of an article a stored joins its story. */
static void
test_story_across_writers(void **state)
{
    fixture_t *f = *state;
    nw_store_t *a = open_rw(f), *b = open_rw(f);
    const char *text = "Negotiators met in Cairo on Tuesday to discuss a ceasefire in Gaza and "
                       "the release of hostages, officials from Egypt and Qatar said.";

    assert_int_equal(nw_store_begin(b), 0); /* b's ring is loaded before a stores */
    assert_int_equal(nw_store_commit(b), 0);
    assert_int_equal(nw_store_begin(a), 0);
    nw_enriched_t e = make_fp("cairo-a", "2024-02-06T09:00:00Z", text);
    nw_store_result_t res = {0};
    assert_int_equal(nw_store_put(a, &e, NULL, &res), 0);
    nw_enriched_release(&e);
    assert_int_equal(nw_store_commit(a), 0);

    assert_int_equal(nw_store_begin(b), 0);
    e = make_fp("cairo-b", "2024-02-06T10:00:00Z", text);
    assert_int_equal(nw_store_put(b, &e, NULL, &res), 0);
    assert_string_equal(res.story, "cairo-a");
    assert_string_equal(res.duplicate_of, "cairo-a");
    nw_enriched_release(&e);
    assert_int_equal(nw_store_commit(b), 0);
    nw_store_close(&a);
    nw_store_close(&b);
}

/* Where the database is: --db wins when set and not "", else <data-dir>/newswire.db; the CLI,
 * newswire-store and newswire-query all resolve it with nw_store_path. */
static void
test_store_path(void **state)
{
    (void)state;
    char p[64];
    assert_int_equal(nw_store_path("var", NULL, p, sizeof p), 0);
    assert_string_equal(p, "var/newswire.db");
    assert_int_equal(nw_store_path("var", "", p, sizeof p), 0);
    assert_string_equal(p, "var/newswire.db");
    assert_int_equal(nw_store_path("var", "postgresql://h/db", p, sizeof p), 0);
    assert_string_equal(p, "postgresql://h/db");
    assert_int_equal(
        nw_store_path("a-directory-name-that-is-far-too-long-for-the-buffer", NULL, p, sizeof p),
        -ENAMETOOLONG);
}

/* A search hit as JSON, the same for `newswire search --json` and GET /v1/search: every key,
 * null for a field the hit lacks (newswire-query used to leave those out). */
static void
test_hit_json(void **state)
{
    (void)state;
    nw_store_hit_t h = {.id = "abc", .title = "Night trains", .snippet = "[Aswan]", .rank = -1.5};
    json_t *o = nw_store_hit_json(&h);
    assert_non_null(o);
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s, "{\"id\":\"abc\",\"lang\":null,\"published\":null,\"rank\":-1.5,"
                           "\"snippet\":\"[Aswan]\",\"title\":\"Night trains\",\"url\":null}");
    free(s);
    json_decref(o);
}

/* ---- facet counts kept at commit (schema v8) ------------------------------------------- */

/* Put id with text, published (NULL: none, so its time is when it was stored), acceptance
 * version av and the topics listed after "all" (NULL-terminated), plus a place at lat, lon
 * when lat is not 0. Returns the status. */
static const char *
put_topics(nw_store_t *s, const char *id, const char *text, const char *published, uint64_t av,
           double lat, double lon, ...)
{
    nw_enriched_t e = make(id, "Title", text);
    nw_store_result_t res = {0};
    va_list ap;
    free(e.art.published);
    e.art.published = published ? strdup(published) : NULL;
    e.art.av = av;
    va_start(ap, lon);
    for (const char *t; (t = va_arg(ap, const char *)) != NULL;) {
        char **v = realloc(e.topics, (e.n_topics + 1) * sizeof(*v));
        assert_non_null(v);
        e.topics = v;
        e.topics[e.n_topics++] = strdup(t);
    }
    va_end(ap);
    if (lat != 0) {
        e.entities = calloc(1, sizeof(*e.entities));
        e.entities[0].type = strdup("place");
        e.entities[0].name = strdup("Cairo");
        e.entities[0].lat = lat;
        e.entities[0].lon = lon;
        e.n_entities = 1;
    }
    assert_int_equal(nw_store_put(s, &e, NULL, &res), 0);
    nw_enriched_release(&e);
    return res.status;
}

/* The kept counts against a recount of the index: rows that differ, per table ("0": none). */
static void
expect_counts_true(fixture_t *f)
{
    db_expect(f,
              "SELECT count(*) FROM (SELECT substr(at, 1, 13) AS k, topic, count(*) AS n"
              " FROM article_topics GROUP BY 1, 2) r FULL OUTER JOIN"
              " (SELECT hour AS k, topic, n FROM facet_hours WHERE n <> 0) c"
              " ON c.k = r.k AND c.topic = r.topic"
              " WHERE r.n IS NULL OR c.n IS NULL OR r.n <> c.n",
              "0");
    db_expect(f,
              "SELECT count(*) FROM (SELECT substr(at, 1, 10) AS k, topic, count(*) AS n"
              " FROM article_topics GROUP BY 1, 2) r FULL OUTER JOIN"
              " (SELECT day AS k, topic, n FROM facet_days WHERE n <> 0) c"
              " ON c.k = r.k AND c.topic = r.topic"
              " WHERE r.n IS NULL OR c.n IS NULL OR r.n <> c.n",
              "0");
}

struct facet_seen {
    char topic[64];
    int64_t count, previous, buckets[8];
    size_t n_buckets, n;
};

static int
on_facet_seen(const nw_store_facet_t *fa, void *arg)
{
    struct facet_seen *fs = arg;
    if (fs->n++ == 0) {
        snprintf(fs->topic, sizeof fs->topic, "%s", fa->topic);
        fs->count = fa->count;
        fs->previous = fa->previous;
        fs->n_buckets = fa->n_buckets;
        for (size_t i = 0; i < fa->n_buckets && i < 8; i++)
            fs->buckets[i] = fa->bucket_counts[i];
    }
    return 0;
}

/* The counts per hour and day that facets read are changed by every commit as the index is:
 * new articles, a revision that moves an article to another day and other topics, a late
 * older copy (history only), a rolled back batch and an article without a published date.
 * After each, they equal a recount of article_topics, and a facet over a window that starts
 * and ends inside hours (so it reads days, hours and single rows) counts what a count by
 * hand does. */
static void
test_facet_counts_kept(void **state)
{
    fixture_t *f = *state;
    nw_store_t *s = open_rw(f);
    assert_int_equal(nw_store_begin(s), 0);
    put_topics(s, "f1", "one", "2026-11-02T10:15:00Z", 10, 0, 0, "person.ada", "theme.x", NULL);
    put_topics(s, "f2", "two", "2026-11-02T10:45:00Z", 10, 0, 0, "person.ada", NULL);
    put_topics(s, "f3", "three", "2026-11-03T23:59:00Z", 10, 0, 0, "person.ada", "person.bo", NULL);
    put_topics(s, "f4", "four", "2026-11-05T00:30:00Z", 10, 0, 0, "person.bo", NULL);
    put_topics(s, "f5", "five", NULL, 10, 0, 0, "person.cy", NULL);
    assert_int_equal(nw_store_commit(s), 0);
    expect_counts_true(f);
    db_expect(f, "SELECT n FROM facet_days WHERE day = '2026-11-02' AND topic = 'person.ada'", "2");

    /* A revision moves f2 to another day and from ada to bo; a late older copy of f1 changes
     * nothing; a batch rolled back leaves no count behind. */
    assert_int_equal(nw_store_begin(s), 0);
    assert_string_equal(
        put_topics(s, "f2", "two, revised", "2026-11-04T08:00:00Z", 20, 0, 0, "person.bo", NULL),
        "stored");
    assert_string_equal(
        put_topics(s, "f1", "one, older", "2026-11-09T08:00:00Z", 5, 0, 0, "person.zed", NULL),
        "history");
    assert_int_equal(nw_store_commit(s), 0);
    assert_int_equal(nw_store_begin(s), 0);
    put_topics(s, "f6", "six", "2026-11-02T10:20:00Z", 10, 0, 0, "person.ada", NULL);
    assert_int_equal(nw_store_rollback(s), 0);
    assert_int_equal(nw_store_begin(s), 0); /* the next commit writes nothing of f6 */
    put_topics(s, "f7", "seven", "2026-10-01T00:00:00Z", 10, 0, 0, "person.dee", NULL);
    assert_int_equal(nw_store_commit(s), 0);
    expect_counts_true(f);
    db_expect(f, "SELECT n FROM facet_days WHERE day = '2026-11-02' AND topic = 'person.ada'", "1");
    db_expect(f, "SELECT count(*) FROM facet_hours WHERE topic = 'person.zed'", "0");

    /* [2026-11-02T10:30, 2026-11-05T00:45): minutes of 10:xx, hours to midnight, whole days
     * 3 and 4, then the minutes of 00:xx on the 5th. ada: f3 only (f1 at 10:15 is before). */
    nw_store_filter_t q = {.from = "2026-11-02T10:30:00.000Z", .to = "2026-11-05T00:45:00.000Z"};
    struct facet_seen fs = {0};
    assert_int_equal(
        nw_store_facets(s, &q, "person.", 10, 0, NW_STORE_BUCKET_DAY, on_facet_seen, &fs), 2);
    assert_string_equal(fs.topic, "person.bo"); /* f2 (4th), f3 (3rd), f4 (5th 00:30) */
    assert_int_equal(fs.count, 3);
    assert_int_equal(fs.n_buckets, 4); /* the 2nd to the 5th */
    assert_int_equal(fs.buckets[0], 0);
    assert_int_equal(fs.buckets[1], 1);
    assert_int_equal(fs.buckets[2], 1);
    assert_int_equal(fs.buckets[3], 1);
    db_expect(f,
              "SELECT count(*) FROM article_topics WHERE topic = 'person.bo'"
              " AND at >= '2026-11-02T10:30:00.000Z' AND at < '2026-11-05T00:45:00.000Z'",
              "3");
    /* The same window by hour, and with a filter (counted from the matching articles). */
    memset(&fs, 0, sizeof fs);
    q.to = "2026-11-02T12:00:00.000Z";
    q.from = "2026-11-02T10:00:00.000Z";
    assert_int_equal(
        nw_store_facets(s, &q, "person.", 10, 0, NW_STORE_BUCKET_HOUR, on_facet_seen, &fs), 1);
    assert_string_equal(fs.topic, "person.ada");
    assert_int_equal(fs.count, 1);
    assert_int_equal(fs.n_buckets, 2);
    assert_int_equal(fs.buckets[0], 1);
    memset(&fs, 0, sizeof fs);
    nw_store_filter_t g = {.from = "2026-11-01T00:00:00.000Z",
                           .to = "2026-11-06T00:00:00.000Z",
                           .n_all_of = 1,
                           .all_of = {"person.ada"}};
    assert_int_equal(
        nw_store_facets(s, &g, "person.", 10, 0, NW_STORE_BUCKET_NONE, on_facet_seen, &fs), 2);
    assert_string_equal(fs.topic, "person.ada"); /* f1, f3; then bo (f3) */
    assert_int_equal(fs.count, 2);
    nw_store_close(&s);
}

static int
count_rows(const nw_store_qrow_t *r, void *arg)
{
    (void)r;
    ++*(int *)arg;
    return 0;
}

/* A v7 file gets the kept counts and the place points when a writer opens it (schema v8):
 * they equal a recount, and an area query finds its articles through the points. */
static void
test_migrate_v7_facets(void **state)
{
    fixture_t *f = *state;
    nw_store_t *s = open_rw(f);
    assert_int_equal(nw_store_begin(s), 0);
    put_topics(s, "m1", "one", "2026-11-02T10:15:00Z", 10, 30.04, 31.24, "person.ada", NULL);
    put_topics(s, "m2", "two", "2026-11-03T10:15:00Z", 10, 48.85, 2.35, "person.ada", NULL);
    assert_int_equal(nw_store_commit(s), 0);
    nw_store_close(&s);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "DROP TABLE facet_hours; DROP TABLE facet_days; DROP TABLE place_points;"
                     "CREATE INDEX article_topics_at ON article_topics(at, topic);"
                     "PRAGMA user_version = 7",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    s = open_rw(f);
    assert_int_equal(nw_store_schema_version(s), 10);
    expect_counts_true(f);
    db_expect(f, "SELECT count(*) FROM place_points", "2");
    nw_store_filter_t q = {.has_near = 1, .lat = 30.0, .lon = 31.2, .km = 50};
    nw_store_page_t pg = {.limit = 10, .count_max = 100};
    int n = 0;
    assert_int_equal(nw_store_query(s, &q, &pg, count_rows, &n), 1);
    assert_int_equal(pg.total, 1);
    /* Later puts keep them true, and new points are added. */
    assert_int_equal(nw_store_begin(s), 0);
    put_topics(s, "m3", "three", "2026-11-03T11:00:00Z", 10, 51.5, -0.12, "person.ada", NULL);
    assert_int_equal(nw_store_commit(s), 0);
    expect_counts_true(f);
    db_expect(f, "SELECT count(*) FROM place_points", "3");
    nw_store_close(&s);
}

struct qpage {
    int n, stop_after;
    char ids[8][16], snippets[8][160];
};

static int
collect_page(const nw_store_qrow_t *r, void *arg)
{
    struct qpage *p = arg;
    if (p->n < 8) {
        snprintf(p->ids[p->n], sizeof p->ids[0], "%s", r->id);
        snprintf(p->snippets[p->n], sizeof p->snippets[0], "%s", r->snippet ? r->snippet : "");
    }
    p->n++;
    return p->stop_after && p->n >= p->stop_after;
}

/* A v8 PostgreSQL database (the search vectors a generated column of articles) gets the search
 * table when a writer opens it (v9), filled from the old column; the trigger keeps it to one
 * row per current article through new revisions, and the query API's pages (their rows and
 * snippets read in one statement each) come in the page's order. */
static void
test_pg_migrate_v8_search(void **state)
{
    fixture_t *f = *state;
    nw_store_t *s = open_rw(f);
    assert_int_equal(nw_store_begin(s), 0);
    put(s, "h1", "Harbour reopens", "Ships return to the harbour after the storm.");
    put(s, "h2", "Quiet day", "Nothing moved but two ships.");
    put(s, "h3", "Markets", "Shares rose.");
    assert_int_equal(nw_store_commit(s), 0);
    nw_store_close(&s);
    free(db_text(f, "DROP TRIGGER articles_fts ON articles; DROP FUNCTION nw_article_fts();"
                    " DROP FUNCTION nw_fts_rank(tsvector, tsquery); DROP TABLE article_fts;"
                    " ALTER TABLE articles ADD COLUMN fts TSVECTOR GENERATED ALWAYS AS ("
                    " setweight(to_tsvector('simple', coalesce(title, '')), 'A') ||"
                    " setweight(to_tsvector('simple', coalesce(subtitle, '')), 'B') ||"
                    " setweight(to_tsvector('simple', coalesce(text, '')), 'C')) STORED;"
                    " CREATE INDEX articles_fts ON articles USING gin(fts);"
                    " DELETE FROM schema_migrations WHERE version >= 9"));
    s = open_rw(f);
    assert_int_equal(nw_store_schema_version(s), 10);
    db_expect(f, "SELECT count(*) FROM article_fts", "3");
    db_expect(f,
              "SELECT count(*) FROM information_schema.columns WHERE column_name = 'fts'"
              " AND table_name = 'articles' AND table_schema = current_schema()",
              "0");
    assert_int_equal(nw_store_search(s, "harbour", 10, NULL, NULL), 1);
    assert_int_equal(nw_store_search(s, "ships", 10, NULL, NULL), 2);

    /* A new revision: its words replace the old ones (the old seq's row goes). */
    put_commit(s, "h1", "Port closed", "No ships sail today.");
    db_expect(f, "SELECT count(*) FROM article_fts", "3");
    db_expect(f, "SELECT count(*) FROM article_fts x JOIN articles a ON a.seq = x.seq", "3");
    assert_int_equal(nw_store_search(s, "harbour", 10, NULL, NULL), 0);
    assert_int_equal(nw_store_search(s, "port", 10, NULL, NULL), 1);

    /* Newest first, snippets of their own rows; a callback that stops early stops the page. */
    nw_store_filter_t q = {.q = "ships"};
    nw_store_page_t pg = {.sort = NW_STORE_SORT_SEQ, .limit = 10, .want_snippets = 1};
    struct qpage p = {0};
    assert_int_equal(nw_store_query(s, &q, &pg, collect_page, &p), 2);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.ids[0], "h2");
    assert_string_equal(p.ids[1], "h1");
    assert_non_null(strstr(p.snippets[0], "two [ships]"));
    assert_non_null(strstr(p.snippets[1], "No [ships] sail"));
    pg = (nw_store_page_t){.sort = NW_STORE_SORT_RELEVANCE, .limit = 10, .want_snippets = 1};
    p = (struct qpage){.stop_after = 1};
    assert_int_equal(nw_store_query(s, &q, &pg, collect_page, &p), 1);
    assert_int_equal(p.n, 1);
    nw_store_close(&s);
}

/* The full-text index is written by the store (schema v9), not by triggers: a trigger that
 * writes the FTS5 table makes SQLite open a statement journal, which makes FTS5 write out its
 * pending terms for every article. The index follows inserts and new revisions, in one
 * transaction and across several, and FTS5's own check against the articles passes. */
static void
expect_fts_consistent(fixture_t *f)
{
    db_expect(f, "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'", "0");
    /* rank 1: also compare with the external content (the articles' current columns). */
    db_expect(f, "INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)", "");
}

static void
test_fts_written_by_store(void **state)
{
    fixture_t *f = *state;
    nw_store_t *s = open_rw(f);
    assert_int_equal(nw_store_begin(s), 0);
    put(s, "f1", "Harbour talks", "Alpha delegates met in the harbour.");
    put(s, "f2", "Harbour strike", "Dockers stopped work in the harbour.");
    /* A new revision in the same transaction: its first text was never written out. */
    put(s, "f2", "Harbour strike ends", "Dockers went back to work on Bravo pier.");
    assert_int_equal(nw_store_commit(s), 0);
    /* And one in a later transaction. */
    put_commit(s, "f1", "Harbour talks end", "Charlie delegates left the harbour.");
    expect_fts_consistent(f);
    assert_int_equal(nw_store_search(s, "harbour", 10, NULL, NULL), 2);
    assert_int_equal(nw_store_search(s, "alpha", 10, NULL, NULL), 0);
    assert_int_equal(nw_store_search(s, "stopped", 10, NULL, NULL), 0);
    assert_int_equal(nw_store_search(s, "bravo", 10, NULL, NULL), 1);
    assert_int_equal(nw_store_search(s, "charlie", 10, NULL, NULL), 1);
    assert_int_equal(nw_store_search(s, "ends", 10, NULL, NULL), 1);
    /* A rolled back revision leaves the index as it was. */
    assert_int_equal(nw_store_begin(s), 0);
    put(s, "f1", "Harbour talks again", "Delta delegates came back.");
    assert_int_equal(nw_store_rollback(s), 0);
    assert_int_equal(nw_store_search(s, "delta", 10, NULL, NULL), 0);
    assert_int_equal(nw_store_search(s, "charlie", 10, NULL, NULL), 1);
    nw_store_close(&s);
    expect_fts_consistent(f);
}

/* A v8 file, whose triggers kept the index, loses them when a writer opens it (v9); what the
 * triggers indexed stays searchable and is taken out when a new revision comes. */
static void
test_migrate_v8_fts_triggers(void **state)
{
    fixture_t *f = *state;
    nw_store_t *s = open_rw(f);
    put_commit(s, "t1", "Old harbour", "Echo words from before.");
    nw_store_close(&s);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    /* v8's triggers, then a row written through them as a v8 program would. */
    assert_int_equal(
        sqlite3_exec(
            db,
            "CREATE TRIGGER articles_fts_ai AFTER INSERT ON articles BEGIN"
            "  INSERT INTO articles_fts(rowid, title, subtitle, text)"
            "    VALUES (new.seq, new.title, new.subtitle, new.text);"
            "END;"
            "CREATE TRIGGER articles_fts_ad AFTER DELETE ON articles BEGIN"
            "  INSERT INTO articles_fts(articles_fts, rowid, title, subtitle, text)"
            "    VALUES ('delete', old.seq, old.title, old.subtitle, old.text);"
            "END;"
            "CREATE TRIGGER articles_fts_au AFTER UPDATE ON articles BEGIN"
            "  INSERT INTO articles_fts(articles_fts, rowid, title, subtitle, text)"
            "    VALUES ('delete', old.seq, old.title, old.subtitle, old.text);"
            "  INSERT INTO articles_fts(rowid, title, subtitle, text)"
            "    VALUES (new.seq, new.title, new.subtitle, new.text);"
            "END;"
            "INSERT INTO articles (id, rev, seq, content_hash, stored_at, doc, title, text)"
            "  VALUES ('t2', 1, 50, 'h', '2026-12-07T00:00:00.000Z', x'00',"
            "          'Raw harbour', 'Foxtrot words of a v8 writer.');"
            "PRAGMA user_version = 8",
            NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    s = open_rw(f);
    assert_int_equal(nw_store_schema_version(s), 10);
    expect_fts_consistent(f);
    assert_int_equal(nw_store_search(s, "foxtrot", 10, NULL, NULL), 1);
    put_commit(s, "t1", "Old harbour", "Golf words from now.");
    assert_int_equal(nw_store_search(s, "echo", 10, NULL, NULL), 0);
    assert_int_equal(nw_store_search(s, "golf", 10, NULL, NULL), 1);
    assert_int_equal(nw_store_search(s, "words", 10, NULL, NULL), 2);
    nw_store_close(&s);
    expect_fts_consistent(f);
}

/* ---- acceptance order (issue 9) --------------------------------------------------------- */

/* Put a version of id: text with acceptance version av, in a transaction of its own. Returns
 * the status; *doc_len gets how much would be published. */
static const char *
put_av(nw_store_t *s, const char *id, const char *text, uint64_t av, size_t *doc_len)
{
    nw_enriched_t e = make(id, "Title", text);
    nw_store_result_t res = {0};
    nw_buf_t doc = {0};
    e.art.av = av;
    assert_int_equal(nw_store_begin(s), 0);
    assert_int_equal(nw_store_put(s, &e, &doc, &res), 0);
    assert_int_equal(nw_store_commit(s), 0);
    if (doc_len)
        *doc_len = doc.len;
    nw_buf_release(&doc);
    nw_enriched_release(&e);
    return res.status; /* static */
}

static void
expect_current(nw_store_t *s, const char *id, const char *text, uint64_t av)
{
    nw_enriched_t d = get(s, id);
    if (strcmp(d.art.text, text) != 0)
        fail_msg("current of %s is \"%s\", want \"%s\"", id, d.art.text, text);
    assert_true(d.art.av == av);
    nw_enriched_release(&d);
}

typedef struct seqdocs {
    int n;
    char text[16][64];
    uint64_t av[16];
} seqdocs_t;

static int
collect_text(uint64_t seq, const uint8_t *doc, size_t len, void *arg)
{
    seqdocs_t *d = arg;
    nw_enriched_t e;
    (void)seq;
    assert_int_equal(nw_enriched_decode(&e, doc, len), 0);
    assert_true(d->n < 16);
    snprintf(d->text[d->n], sizeof(d->text[0]), "%s", e.art.text);
    d->av[d->n++] = e.art.av;
    nw_enriched_release(&e);
    return 0;
}

/* B accepted after A arrives first; A arrives late: A goes into the history, B stays current,
 * A is not published and backfill never replays it. Then A and B again (redeliveries, in
 * either order) are "unchanged", and so is B's content accepted once more. */
static void
test_late_older_version(void **state)
{
    fixture_t *f = *state;
    nw_store_t *s = open_rw(f);
    size_t pub = 0;

    assert_string_equal(put_av(s, "u", "version B", 2000, &pub), "stored");
    assert_true(pub > 0);
    assert_string_equal(put_av(s, "u", "version A", 1000, &pub), "history");
    assert_int_equal(pub, 0); /* nothing to publish */
    expect_current(s, "u", "version B", 2000);
    /* Repeated older version, repeated newer version: nothing new. */
    for (int i = 0; i < 3; i++) {
        assert_string_equal(put_av(s, "u", "version A", 1000, &pub), "unchanged");
        assert_int_equal(pub, 0);
        assert_string_equal(put_av(s, "u", "version B", 2000, &pub), "unchanged");
        assert_int_equal(pub, 0);
    }
    expect_current(s, "u", "version B", 2000);
    /* Same content accepted again later (a re-post): unchanged, current stays. */
    assert_string_equal(put_av(s, "u", "version A", 3000, &pub), "unchanged");
    expect_current(s, "u", "version B", 2000);
    /* A newer version C: current, published. */
    assert_string_equal(put_av(s, "u", "version C", 4000, &pub), "stored");
    assert_true(pub > 0);
    expect_current(s, "u", "version C", 4000);

    /* History: one revision per distinct content, A marked late. */
    db_expect(f,
              f->pg ? "SELECT string_agg(rev || ':' || av || ':' || late, ',' ORDER BY rev)"
                      " FROM revisions WHERE id = 'u'"
                    : "SELECT group_concat(rev || ':' || av || ':' || late, ',') FROM "
                      "(SELECT rev, av, late FROM revisions WHERE id = 'u' ORDER BY rev)",
              "1:2000:0,2:1000:1,3:4000:0");
    db_expect(f, "SELECT rev || ':' || av FROM articles WHERE id = 'u'", "3:4000");
    /* Backfill replays what was published, in acceptance order: B then C, never A. */
    seqdocs_t d = {0};
    assert_int_equal(nw_store_since(s, 0, 0, collect_text, &d), 2);
    assert_string_equal(d.text[0], "version B");
    assert_string_equal(d.text[1], "version C");
    uint64_t after = 99;
    assert_int_equal(nw_store_seq_at(s, "2000-01-01T00:00:00.000Z", &after), 0);
    assert_true(after == 0);
    nw_store_close(&s);
}

typedef struct order {
    int n;
    char id[64][16];
    uint64_t last[64];
} order_t;

/* nw_store_since callback: fails when an id's acceptance version goes down (or repeats). */
static int
check_order(uint64_t seq, const uint8_t *doc, size_t len, void *arg)
{
    order_t *o = arg;
    nw_enriched_t e;
    (void)seq;
    assert_int_equal(nw_enriched_decode(&e, doc, len), 0);
    int i = 0;
    while (i < o->n && strcmp(o->id[i], e.art.id) != 0)
        i++;
    if (i == o->n) {
        assert_true(o->n < 64);
        snprintf(o->id[o->n++], sizeof(o->id[0]), "%s", e.art.id);
    } else if (e.art.av <= o->last[i]) {
        fail_msg("%s: av %llu published after av %llu", e.art.id, (unsigned long long)e.art.av,
                 (unsigned long long)o->last[i]);
    }
    o->last[i] = e.art.av;
    nw_enriched_release(&e);
    return 0;
}

/* Versions arriving in every order give the same history: the current revision is the newest
 * accepted, the published sequence is increasing in acceptance, and one revision per content. */
static void
test_any_arrival_order(void **state)
{
    fixture_t *f = *state;
    static const int orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
                                     {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    nw_store_t *s = open_rw(f);
    for (int o = 0; o < 6; o++) {
        char id[16];
        snprintf(id, sizeof id, "order-%d", o);
        for (int rep = 0; rep < 2; rep++) /* and everything redelivered once */
            for (int k = 0; k < 3; k++) {
                int v = orders[o][k];
                char text[32];
                snprintf(text, sizeof text, "text %d", v);
                put_av(s, id, text, 100 + (uint64_t)v, NULL);
            }
        expect_current(s, id, "text 2", 102);
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM revisions WHERE id = '%s'", id);
        db_expect(f, sql, "3");
    }
    /* Backfill (what was published, in seq order): per id, acceptance versions increase. */
    order_t o = {0};
    assert_true(nw_store_since(s, 0, 0, check_order, &o) > 0);
    assert_true(o.n >= 6);
    nw_store_close(&s);
}

/* Equal acceptance versions from two fetch instances: the content hash decides, the same way
 * whichever copy arrives first. A writer without versions (av 0) stores in arrival order. */
static void
test_tie_and_unversioned(void **state)
{
    fixture_t *f = *state;
    nw_store_t *s = open_rw(f);
    put_av(s, "tie-1", "left", 500, NULL);
    put_av(s, "tie-1", "right", 500, NULL);
    put_av(s, "tie-2", "right", 500, NULL);
    put_av(s, "tie-2", "left", 500, NULL);
    nw_enriched_t a = get(s, "tie-1"), b = get(s, "tie-2");
    assert_string_equal(a.art.text, b.art.text);
    nw_enriched_release(&a);
    nw_enriched_release(&b);
    assert_string_equal(put_av(s, "legacy", "old writer one", 0, NULL), "stored");
    assert_string_equal(put_av(s, "legacy", "old writer two", 0, NULL), "stored");
    expect_current(s, "legacy", "old writer two", 0);
    assert_int_equal(nw_store_newer(5, "a", 4, "b"), 1);
    assert_int_equal(nw_store_newer(4, "b", 5, "a"), 0);
    assert_int_equal(nw_store_newer(5, "b", 5, "a"), 1);
    assert_int_equal(nw_store_newer(5, "a", 5, "b"), 0);
    assert_int_equal(nw_store_newer(0, "a", 5, "b"), 1);
    nw_store_close(&s);
}

/* A v5 database (before acceptance versions) is migrated: old rows read as av 0, and the
 * first versioned copy becomes current on top of them. */
static void
test_migrate_v5(void **state)
{
    fixture_t *f = *state;
    nw_store_t *s = open_rw(f);
    put_commit(s, "old", "Title", "stored by v5");
    nw_store_close(&s);
    /* Make it a v5 file: drop what v6 and v7 added. */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "DROP TABLE facet_hours; DROP TABLE facet_days; DROP TABLE place_points;"
                     "DROP TABLE article_topics; DROP TABLE article_places;"
                     "ALTER TABLE articles DROP COLUMN av;"
                     "ALTER TABLE revisions DROP COLUMN av;"
                     "ALTER TABLE revisions DROP COLUMN late;"
                     "PRAGMA user_version = 5",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    s = open_rw(f);
    assert_int_equal(nw_store_schema_version(s), 10);
    db_expect(f, "SELECT av FROM articles WHERE id = 'old'", "0");
    assert_string_equal(put_av(s, "old", "stored by v6", 10, NULL), "stored");
    assert_string_equal(put_av(s, "old", "stored by v5", 5, NULL), "unchanged");
    expect_current(s, "old", "stored by v6", 10);
    nw_store_close(&s);
}

static int
count_row(const nw_store_qrow_t *row, void *arg)
{
    (void)row;
    (*(int *)arg)++;
    return 0;
}

/* Articles of the given topic, by the query API (nw_store_query). */
static int
query_topic(nw_store_t *s, const char *topic)
{
    nw_store_filter_t q = {.n_all_of = 1};
    nw_store_page_t pg = {.limit = 100};
    int n = 0;
    q.all_of[0] = topic;
    assert_true(nw_store_query(s, &q, &pg, count_row, &n) >= 0);
    return n;
}

/* A v6 file (articles stored before the query index existed) is migrated to v7 and its
 * articles indexed at the first writable open: the query API finds them; a read-only handle
 * on a v6 file answers -EPROTO rather than "nothing". */
static void
test_migrate_v6_query_index(void **state)
{
    fixture_t *f = *state;
    nw_store_t *s = open_rw(f);
    put_commit(s, "old1", "Title one", "stored by v6");
    put_commit(s, "old2", "Title two", "stored by v6 too");
    assert_int_equal(query_topic(s, "lang.en"), 2);
    nw_store_close(&s);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "DROP TABLE facet_hours; DROP TABLE facet_days; DROP TABLE place_points;"
                     "DROP TABLE article_topics; DROP TABLE article_places;"
                     "PRAGMA user_version = 6",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    char err[256] = "";
    nw_store_t *r = nw_store_open(f->path, 1, err, sizeof(err));
    assert_non_null(r);
    nw_store_filter_t q = {0};
    nw_store_page_t pg = {.limit = 10};
    assert_int_equal(nw_store_query(r, &q, &pg, count_row, NULL), -EPROTO);
    nw_store_close(&r);
    s = open_rw(f);
    assert_int_equal(nw_store_schema_version(s), 10);
    assert_int_equal(query_topic(s, "lang.en"), 2);
    assert_int_equal(query_topic(s, "lang.fr"), 0);
    /* a new revision replaces its old index rows: still two, not three */
    put_commit(s, "old1", "Title one", "changed text");
    assert_int_equal(query_topic(s, "lang.en"), 2);
    nw_store_close(&s);
    expect_counts_true(f); /* the index built at open counted as the store counts */
}

typedef struct racer {
    nw_store_t *s;
    const int *order; /* versions 1..3 in the order this writer puts them */
    int n_order, rc;
} racer_t;

#define RACE_IDS 30

static void *
race(void *arg)
{
    racer_t *r = arg;
    for (int i = 0; i < RACE_IDS && r->rc == 0; i++)
        for (int k = 0; k < r->n_order && r->rc == 0; k++) {
            char id[16], text[32];
            snprintf(id, sizeof id, "race-%d", i);
            snprintf(text, sizeof text, "race text version %d", r->order[k]);
            nw_enriched_t e = make(id, "Title", text);
            nw_store_result_t res = {0};
            e.art.av = 1000 * (uint64_t)r->order[k];
            r->rc = nw_store_begin(r->s);
            if (r->rc == 0)
                r->rc = nw_store_put(r->s, &e, NULL, &res);
            r->rc = r->rc == 0 ? nw_store_commit(r->s) : r->rc;
            nw_enriched_release(&e);
        }
    return NULL;
}

/* Two stores on one PostgreSQL database race over the same ids, each putting every version
 * (one in acceptance order, the other newest first, then a redelivery): every id ends with
 * the newest version current, one revision per content, and what was published (backfill,
 * in seq order) in acceptance order per id. */
static void
test_pg_two_stores_race_versions(void **state)
{
    fixture_t *f = *state;
    static const int in_order[] = {1, 2, 3}, reversed[] = {3, 1, 2, 1};
    racer_t r[2] = {{.s = open_rw(f), .order = in_order, .n_order = 3},
                    {.s = open_rw(f), .order = reversed, .n_order = 4}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(r[i].rc, 0);
    }
    char want[32];
    snprintf(want, sizeof want, "%d:%d", RACE_IDS, 3 * RACE_IDS);
    db_expect(f, "SELECT count(DISTINCT id) || ':' || count(*) FROM revisions", want);
    snprintf(want, sizeof want, "%d", RACE_IDS);
    db_expect(f, "SELECT count(*) FROM articles WHERE av = 3000", want);
    order_t o = {0};
    assert_true(nw_store_since(r[0].s, 0, 0, check_order, &o) >= RACE_IDS);
    assert_int_equal(o.n, RACE_IDS);
    nw_store_close(&r[0].s);
    nw_store_close(&r[1].s);
}

int
main(void)
{
    /* Database errors are logged; keep expected ones out of the test output. */
    nw_log_init("test", getenv("NW_TEST_LOG") ? NW_LOG_DEBUG : NW_LOG_OFF);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_path),
        cmocka_unit_test(test_hit_json),
        cmocka_unit_test_setup_teardown(test_open_migrate_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revisions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seq_survives_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_bad_syntax, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_letters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_letter_resent_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_rejected_leaves_transaction_clean, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_many_topics_and_places, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_since, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dlq_replay_bookkeeping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_and_migrate_v1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_v6_query_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seq_at_and_max, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readonly_sees_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bulk_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stories, setup, teardown),
        cmocka_unit_test_setup_teardown(test_story_without_fingerprint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_story_by_referenced_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_story_seeds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names_across_articles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_story_ring_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_story_across_languages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_story_across_languages_reloaded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_story_across_writers, setup, teardown),
        cmocka_unit_test(test_is_postgres),
        cmocka_unit_test_setup_teardown(test_late_older_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_any_arrival_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tie_and_unversioned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_v5, setup, teardown),
        cmocka_unit_test_setup_teardown(test_facet_counts_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_v7_facets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fts_written_by_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_v8_fts_triggers, setup, teardown),
    };
    /* The same tests on PostgreSQL, except those about SQLite itself (WAL, its files, its
     * locking, FTS5 syntax), and those about several writers on one PostgreSQL database. */
    const struct CMUnitTest pg_tests[] = {
        cmocka_unit_test_setup_teardown(test_open_migrate_reopen, setup_pg, teardown_pg),
        cmocka_unit_test_setup_teardown(test_pg_open_errors, setup_pg, teardown_pg),
        cmocka_unit_test_setup_teardown(test_revisions, setup_pg, teardown_pg),
        cmocka_unit_test_setup_teardown(test_seq_survives_reopen, setup_pg, teardown_pg),
        cmocka_unit_test_setup_teardown(test_pg_search, setup_pg, teardown_pg),
        cmocka_unit_test_setup_teardown(test_dead_letters, setup_pg, teardown_pg),
        cmocka_unit_test_setup_teardown(test_dead_letter_resent_once, setup_pg, teardown_pg),
        cmocka_unit_test_setup_teardown(test_rollback, setup_pg, teardown_pg),
        cmocka_unit_test_setup_teardown(test_put_rejected_leaves_transaction_clean, setup_pg,
                                        teardown_pg),
        cmocka_unit_test_setup_teardown(test_many_topics_and_places, setup_pg, teardown_pg),
        cmocka_unit_test_setup_teardown(test_since, setup_pg, teardown_pg),
        cmocka_unit_test_setup_teardown(test_dlq_replay_bookkeeping, setup_pg, teardown_pg),
        cmocka_unit_test_setup_teardown(test_seq_at_and_max, setup_pg, teardown_pg),
        cmocka_unit_test_setup_teardown(test_readonly_sees_writer, setup_pg, teardown_pg),
        cmocka_unit_test_setup_teardown(test_bulk_transaction, setup_pg, teardown_pg),
        cmocka_unit_test_setup_teardown(test_search_budget, setup_pg, teardown_pg),
        cmocka_unit_test_setup_teardown(test_stories, setup_pg, teardown_pg),
        cmocka_unit_test_setup_teardown(test_story_without_fingerprint, setup_pg, teardown_pg),
        cmocka_unit_test_setup_teardown(test_story_by_referenced_time, setup_pg, teardown_pg),
        cmocka_unit_test_setup_teardown(test_story_ring_bounded, setup_pg, teardown_pg),
        cmocka_unit_test_setup_teardown(test_story_across_languages, setup_pg, teardown_pg),
        cmocka_unit_test_setup_teardown(test_story_across_languages_reloaded, setup_pg,
                                        teardown_pg),
        cmocka_unit_test_setup_teardown(test_pg_same_id_two_writers, setup_pg, teardown_pg),
        cmocka_unit_test_setup_teardown(test_pg_since_waits_for_writers, setup_pg, teardown_pg),
        cmocka_unit_test_setup_teardown(test_story_across_writers, setup_pg, teardown_pg),
        cmocka_unit_test_setup_teardown(test_pg_connection_lost, setup_pg, teardown_pg),
        cmocka_unit_test_setup_teardown(test_pg_follow_two_writers, setup_pg, teardown_pg),
        cmocka_unit_test_setup_teardown(test_late_older_version, setup_pg, teardown_pg),
        cmocka_unit_test_setup_teardown(test_any_arrival_order, setup_pg, teardown_pg),
        cmocka_unit_test_setup_teardown(test_tie_and_unversioned, setup_pg, teardown_pg),
        cmocka_unit_test_setup_teardown(test_pg_two_stores_race_versions, setup_pg, teardown_pg),
        cmocka_unit_test_setup_teardown(test_facet_counts_kept, setup_pg, teardown_pg),
        cmocka_unit_test_setup_teardown(test_pg_migrate_v8_search, setup_pg, teardown_pg),
    };
    /* With NW_TEST_PG only the PostgreSQL run (the SQLite one is unit.test_store's). */
    pg_base = getenv("NW_TEST_PG");
    if (pg_base && pg_base[0])
        return cmocka_run_group_tests_name("postgresql", pg_tests, NULL, NULL);
    return cmocka_run_group_tests_name("sqlite", tests, NULL, NULL);
}
