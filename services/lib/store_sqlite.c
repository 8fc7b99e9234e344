/* store_sqlite.c: the SQLite backend of the store (store_backend.h), the embedded default:
 * one file in WAL mode, FTS5 for search. newswire-store writes it in group-committed
 * transactions; `newswire search|get|dlq` read it, possibly while it is being written (WAL
 * lets readers run beside the one writer). The schema is in store.c; here its SQLite form:
 * the version is PRAGMA user_version, and
 *
 *   articles_fts   rowid = articles.seq  FTS5 over title, subtitle, text; external content on
 *                                     articles, kept in sync by sq_write (by triggers before
 *                                     schema v10)
 *
 * Sequence numbers are handed out under the write lock (max + 1 inside BEGIN IMMEDIATE), so
 * transactions commit in seq order and what a reader sees is always a prefix of the seq
 * history: when seq N is visible, every stored seq below N is too. `newswire tail --since`
 * relies on this to resume from the highest seq it has read. A rolled back transaction's
 * numbers are handed out again.
 *
 * The FTS rowid is seq rather than the implicit rowid of articles because VACUUM may renumber
 * implicit rowids, which would silently detach an external-content index; seq never changes
 * for a stored revision. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>
#include <xxhash.h>

#include "newswire/buf.h"
#include "newswire/log.h"
#include "newswire/util.h"
#include "store_backend.h"

/* Migrations: step i brings the schema from version i to i + 1. Append only; never edit a
 * step that has shipped. */
static const char *const migrations[] = {
    /* v1 */
    "CREATE TABLE articles ("
    "  id TEXT PRIMARY KEY NOT NULL,"
    "  rev INTEGER NOT NULL,"
    "  seq INTEGER NOT NULL UNIQUE,"
    "  content_hash TEXT NOT NULL,"
    "  url TEXT, title TEXT, subtitle TEXT, published TEXT, dateline TEXT, lang TEXT,"
    "  authors TEXT, source TEXT, fetched TEXT,"
    "  stored_at TEXT NOT NULL,"
    "  words INTEGER,"
    "  text TEXT,"
    "  doc BLOB NOT NULL);"
    "CREATE INDEX articles_published ON articles(published);"
    "CREATE INDEX articles_lang ON articles(lang);"
    "CREATE TABLE revisions ("
    "  id TEXT NOT NULL,"
    "  rev INTEGER NOT NULL,"
    "  seq INTEGER NOT NULL UNIQUE,"
    "  content_hash TEXT NOT NULL,"
    "  stored_at TEXT NOT NULL,"
    "  doc BLOB NOT NULL,"
    "  PRIMARY KEY (id, rev)) WITHOUT ROWID;"
    "CREATE VIRTUAL TABLE articles_fts USING fts5(title, subtitle, text,"
    "  content='articles', content_rowid='seq', tokenize='unicode61 remove_diacritics 2');"
    /* External content: the index must be told the old values to delete them. */
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
    "CREATE TABLE dead_letters ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  time TEXT NOT NULL,"
    "  stage TEXT NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  detail TEXT,"
    "  article_id TEXT,"
    "  source TEXT,"
    "  content_type TEXT,"
    "  origin TEXT,"
    "  spool INTEGER,"
    "  bytes BLOB NOT NULL);"
    "CREATE INDEX dead_letters_time ON dead_letters(time);",
    /* v2: replays of dead letters are recorded on the letter (`newswire dlq replay`), stats
     * group by stage and reason, and backfill can start at a time. */
    "ALTER TABLE dead_letters ADD COLUMN replayed_at TEXT;"
    "ALTER TABLE dead_letters ADD COLUMN replay_status TEXT;"
    "ALTER TABLE dead_letters ADD COLUMN replay_id TEXT;"
    "ALTER TABLE dead_letters ADD COLUMN replay_detail TEXT;"
    "CREATE INDEX dead_letters_reason ON dead_letters(stage, reason);"
    "CREATE INDEX revisions_stored_at ON revisions(stored_at);",
    /* v3: fetch re-sends an item until the store acknowledges it, so the same dead letter can
     * arrive again (a lost ack, or a raw failing in parse on every re-send). item_key names
     * the letter: origin, spool number, stage, reason and a hash of the bytes (the bytes keep
     * a wiped and reused spool number from matching a different item). */
    "ALTER TABLE dead_letters ADD COLUMN item_key TEXT;"
    "CREATE UNIQUE INDEX dead_letters_item ON dead_letters(item_key) WHERE item_key IS NOT NULL;",
    /* v4: near-duplicates and stories. Rows stored before keep NULL in both columns. The
     * fingerprints of recent revisions are kept apart from the documents so that opening the
     * store loads the story ring without decoding documents. */
    "ALTER TABLE articles ADD COLUMN story TEXT;"
    "ALTER TABLE articles ADD COLUMN duplicate_of TEXT;"
    "CREATE INDEX articles_story ON articles(story);"
    "CREATE TABLE fingerprints ("
    "  seq INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL,"
    "  time INTEGER NOT NULL,"
    "  story TEXT NOT NULL,"
    "  simhash INTEGER NOT NULL,"
    "  minhash BLOB,"
    "  terms BLOB);",
    /* v5: the fingerprint gained a 4-gram sample, language-independent anchors and the
     * language (fingerprint.h), and its words are folded differently, so v4 fingerprints cannot
     * be compared with new ones: they are dropped (stories restart for the 3-day window; stored
     * articles keep their story ids). */
    "DELETE FROM fingerprints;"
    "ALTER TABLE fingerprints ADD COLUMN grams BLOB;"
    "ALTER TABLE fingerprints ADD COLUMN anchors BLOB;"
    "ALTER TABLE fingerprints ADD COLUMN lang TEXT;",
    /* v6: acceptance order (issue 9). av is the acceptance version fetch gave the copy
     * (hlc.h): the current revision is the one with the highest. late marks a revision that
     * arrived after a newer one was current: kept as history, never published, skipped by
     * backfill. Rows stored before keep av 0 (older than anything versioned) and late 0. */
    "ALTER TABLE articles ADD COLUMN av INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE revisions ADD COLUMN av INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE revisions ADD COLUMN late INTEGER NOT NULL DEFAULT 0;",
    /* v7: the query API's indexes (store_query.c): one row per topic of every current
     * revision with the article's time, and the coordinates of its places. Filled for rows
     * stored before by the first writable open (nw_store_open). */
    "CREATE TABLE article_topics ("
    "  topic TEXT NOT NULL,"
    "  at TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  published INTEGER NOT NULL,"
    "  PRIMARY KEY (topic, at, seq)) WITHOUT ROWID;"
    "CREATE INDEX article_topics_seq ON article_topics(seq);"
    "CREATE INDEX article_topics_topic_seq ON article_topics(topic, seq);"
    "CREATE INDEX article_topics_at ON article_topics(at, topic);"
    "CREATE TABLE article_places ("
    "  seq INTEGER NOT NULL,"
    "  lat REAL NOT NULL,"
    "  lon REAL NOT NULL);"
    "CREATE INDEX article_places_seq ON article_places(seq);"
    "CREATE INDEX article_places_geo ON article_places(lat, lon);",
    /* v8: facet counts kept by the store (store_query.c): articles per topic per hour and per
     * day of their time, changed at each commit by what the batch indexed and un-indexed, so
     * a facet over a week reads a few thousand counts instead of every topic row. Filled
     * here from the index as it stands. place_points: each distinct coordinate once, so an
     * area is its few points, then their articles, not a scan of a band of latitude. The
     * (at, topic) index goes: it served only the old facets, and SQLite took it for a topic's
     * rows in a window (a scan of the window). */
    "CREATE TABLE facet_hours ("
    "  hour TEXT NOT NULL,"
    "  topic TEXT NOT NULL,"
    "  n INTEGER NOT NULL,"
    "  PRIMARY KEY (hour, topic)) WITHOUT ROWID;"
    "CREATE TABLE facet_days ("
    "  day TEXT NOT NULL,"
    "  topic TEXT NOT NULL,"
    "  n INTEGER NOT NULL,"
    "  PRIMARY KEY (day, topic)) WITHOUT ROWID;"
    "CREATE TABLE place_points ("
    "  lat REAL NOT NULL,"
    "  lon REAL NOT NULL,"
    "  PRIMARY KEY (lat, lon)) WITHOUT ROWID;"
    "INSERT INTO place_points (lat, lon) SELECT DISTINCT lat, lon FROM article_places;"
    "DROP INDEX article_topics_at;"
    "INSERT INTO facet_hours (hour, topic, n)"
    "  SELECT substr(at, 1, 13), topic, count(*) FROM article_topics GROUP BY 1, 2;"
    "INSERT INTO facet_days (day, topic, n)"
    "  SELECT substr(hour, 1, 10), topic, sum(n) FROM facet_hours GROUP BY 1, 2;",
    /* v9: PostgreSQL moved its search vectors to a table of their own; SQLite's FTS5 table
     * already is one. Nothing to do (the step keeps the two versions in step). */
    "SELECT 1;",
    /* v10: the store writes the full-text index itself (sq_write) instead of by triggers. A
     * statement that fires a trigger writing a virtual table runs with a statement journal,
     * and opening one makes FTS5 write out what it holds in memory: one segment per article,
     * merged again and again, instead of one per transaction (a sixth of the store's CPU
     * in bench_store_replay). The index itself is unchanged. */
    "DROP TRIGGER IF EXISTS articles_fts_ai;"
    "DROP TRIGGER IF EXISTS articles_fts_ad;"
    "DROP TRIGGER IF EXISTS articles_fts_au;",
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))
_Static_assert(SCHEMA_VERSION == NW_STORE_SCHEMA_VERSION, "both backends migrate to one version");

/* Cached statements, prepared on first use (a read-only handle never prepares the writes). */
enum {
    ST_LOOKUP,
    ST_KNOWN,
    ST_LATE,
    ST_INSERT,
    ST_UPDATE,
    ST_REVISION,
    ST_DEAD,
    ST_MAXSEQ,
    ST_GET,
    ST_SEARCH,
    ST_DLQ,
    ST_SINCE,
    ST_COUNT,
    ST_DLQ_GET,
    ST_DLQ_PENDING,
    ST_DLQ_STATS,
    ST_DLQ_CLAIM,
    ST_DLQ_REPLAYED,
    ST_SEQ_AT,
    ST_FP_INSERT,
    ST_FP_PRUNE,
    ST_FP_LOAD,
    ST_FTS_INSERT,
    ST_FTS_DELETE,
    /* The same reads for a version 1 database, which a read-only handle may open before the
     * writer migrated it: the replay columns read as NULL. */
    ST_DLQ_V1,
    ST_DLQ_GET_V1,
    ST_DLQ_STATS_V1,
    /* And for a database before v6 (no late revisions yet). */
    ST_SINCE_V5,
    ST_SEQ_AT_V5,
    ST_N
};

#define ARTICLE_COLS                                                                               \
    "rev, seq, content_hash, url, title, subtitle, published, dateline, lang, authors, "           \
    "source, fetched, stored_at, words, text, doc, story, duplicate_of, av"

#define DEAD_COLS                                                                                  \
    "id, time, stage, reason, detail, article_id, source, content_type, origin, spool, bytes"
#define REPLAY_COLS "replayed_at, replay_status, replay_id, replay_detail"
#define REPLAY_COLS_V1 "NULL, NULL, NULL, NULL"

static const char *const stmt_sql[ST_N] = {
    [ST_LOOKUP] =
        "SELECT rev, seq, content_hash, story, duplicate_of, av FROM articles WHERE id = ?1",
    /* The id's revisions are a range of the (id, rev) primary key. */
    [ST_KNOWN] = "SELECT coalesce(max(rev), 0),"
                 "  coalesce(max(CASE WHEN content_hash = ?2 THEN rev END), 0)"
                 " FROM revisions WHERE id = ?1",
    [ST_LATE] = "INSERT INTO revisions (id, rev, seq, content_hash, stored_at, doc, av, late) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1)",
    [ST_INSERT] =
        "INSERT INTO articles (id, " ARTICLE_COLS ") VALUES "
        "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
        " ?19, ?20)",
    [ST_UPDATE] = "UPDATE articles SET (" ARTICLE_COLS ") = "
                  "(?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
                  " ?19, ?20) "
                  "WHERE id = ?1",
    [ST_REVISION] = "INSERT INTO revisions (id, rev, seq, content_hash, stored_at, doc, av) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_DEAD] = "INSERT OR IGNORE INTO dead_letters (time, stage, reason, detail, article_id, "
                "source, content_type, origin, spool, bytes, item_key) VALUES (?1, ?2, ?3, ?4, "
                "?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [ST_MAXSEQ] = "SELECT coalesce(max(seq), 0) FROM revisions",
    [ST_GET] = "SELECT doc FROM articles WHERE id = ?1",
    /* Title hits weigh most: a headline naming the query is what a reader looks for. */
    /* The snippet comes from the text when the text matches (the title is shown anyway),
     * else from the best column. Matches are marked with control characters, which cleaned
     * text never contains, to tell whether the text matched, then turned into brackets. */
    /* Rank first, then snippet only the rows kept: one snippet() can take seconds on a
     * query of repeated common words, and the progress handler cannot cut inside one. */
    [ST_SEARCH] = "WITH top AS (SELECT rowid AS r, bm25(articles_fts, 10.0, 4.0, 1.0) AS score"
                  "  FROM articles_fts WHERE articles_fts MATCH ?1 ORDER BY score, rowid LIMIT ?2)"
                  " SELECT a.id, a.title, a.published, a.lang, a.url,"
                  "  replace(replace(CASE"
                  "    WHEN instr(snippet(articles_fts, 2, char(2), char(3), '\xe2\x80\xa6', 12),"
                  "               char(2)) > 0"
                  "    THEN snippet(articles_fts, 2, char(2), char(3), '\xe2\x80\xa6', 12)"
                  "    ELSE snippet(articles_fts, -1, char(2), char(3), '\xe2\x80\xa6', 12)"
                  "  END, char(2), '['), char(3), ']'),"
                  "  top.score"
                  " FROM top JOIN articles_fts ON articles_fts.rowid = top.r"
                  " JOIN articles a ON a.seq = top.r"
                  " WHERE articles_fts MATCH ?1 ORDER BY top.score, a.seq",
    [ST_DLQ] = "SELECT " DEAD_COLS "," REPLAY_COLS " FROM dead_letters ORDER BY id DESC LIMIT ?1",
    [ST_DLQ_V1] = "SELECT " DEAD_COLS "," REPLAY_COLS_V1 " FROM dead_letters ORDER BY id DESC "
                  "LIMIT ?1",
    [ST_DLQ_GET] = "SELECT " DEAD_COLS "," REPLAY_COLS " FROM dead_letters WHERE id = ?1",
    [ST_DLQ_GET_V1] = "SELECT " DEAD_COLS "," REPLAY_COLS_V1 " FROM dead_letters WHERE id = ?1",
    [ST_DLQ_PENDING] = "SELECT " DEAD_COLS "," REPLAY_COLS " FROM dead_letters"
                       " WHERE replayed_at IS NULL AND (?1 IS NULL OR reason = ?1) ORDER BY id",
    [ST_DLQ_STATS] = "SELECT stage, reason, count(*), count(replayed_at) FROM dead_letters"
                     " GROUP BY stage, reason ORDER BY count(*) DESC, stage, reason",
    [ST_DLQ_STATS_V1] = "SELECT stage, reason, count(*), 0 FROM dead_letters"
                        " GROUP BY stage, reason ORDER BY count(*) DESC, stage, reason",
    /* The claim is one conditional UPDATE, so two replays of one letter cannot both win. */
    [ST_DLQ_CLAIM] = "UPDATE dead_letters SET replayed_at = ?2, replay_status = 'replaying',"
                     " replay_id = NULL, replay_detail = NULL"
                     " WHERE id = ?1 AND (?3 OR replayed_at IS NULL)",
    [ST_DLQ_REPLAYED] = "UPDATE dead_letters SET replayed_at = ?2, replay_status = ?3,"
                        " replay_id = ?4, replay_detail = ?5 WHERE id = ?1",
    /* Late revisions were never published: backfill replays what subscribers saw live. */
    [ST_SEQ_AT] = "SELECT min(seq) FROM revisions WHERE stored_at >= ?1 AND late = 0",
    [ST_SINCE] = "SELECT seq, doc FROM revisions WHERE seq > ?1 AND late = 0 ORDER BY seq LIMIT ?2",
    [ST_SEQ_AT_V5] = "SELECT min(seq) FROM revisions WHERE stored_at >= ?1",
    [ST_SINCE_V5] = "SELECT seq, doc FROM revisions WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    [ST_COUNT] = "SELECT count(*) FROM articles",
    [ST_FP_INSERT] = "INSERT INTO fingerprints (seq, id, time, story, simhash, minhash, terms,"
                     " grams, anchors, lang) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [ST_FP_PRUNE] = "DELETE FROM fingerprints WHERE seq <= ?1",
    [ST_FP_LOAD] = "SELECT seq, id, time, story, simhash, minhash, terms, grams, anchors, lang"
                   " FROM fingerprints WHERE seq > ?1 ORDER BY seq DESC LIMIT ?2",
    /* The full-text index (external content): a row's terms go in with its seq, and out, before
     * the row changes, with the values it was indexed with (FTS5 recomputes what to delete). */
    [ST_FTS_INSERT] =
        "INSERT INTO articles_fts (rowid, title, subtitle, text) VALUES (?1, ?2, ?3, ?4)",
    [ST_FTS_DELETE] = "INSERT INTO articles_fts (articles_fts, rowid, title, subtitle, text)"
                      " SELECT 'delete', seq, title, subtitle, text FROM articles WHERE id = ?1",
};

/* Statements store_query.c runs through sq_select, kept prepared by their text. */
#define SQL_CACHE 32

typedef struct sq {
    sqlite3 *db;
    struct {
        char *sql;
        uint64_t hash; /* of sql: most lookups compare this, not the text */
        sqlite3_stmt *st;
        uint64_t used;
    } cache[SQL_CACHE];
    uint64_t uses;
    uint64_t next_seq; /* seq the next stored revision gets; valid inside a transaction */
    sqlite3_stmt *st[ST_N];
    uint64_t budget_ns;   /* per search; 0: none */
    uint64_t deadline_ns; /* of the search running now (nw_mono_ns); 0: none */
} sq_t;

/* SQLite calls this every PROGRESS_OPS virtual-machine steps; non-zero interrupts the
 * statement (SQLITE_INTERRUPT). A query such as 'the the the ...' makes FTS5 merge huge
 * posting lists without returning a row, so the budget has to be checked from inside. */
#define PROGRESS_OPS 1000
static int
on_progress(void *arg)
{
    const sq_t *s = arg;
    return s->deadline_ns && nw_mono_ns() > s->deadline_ns;
}

/* Log the database error once, where it is handled, and map it to -EIO. */
static int
db_error(sq_t *s, const char *what)
{
    NW_ERROR(NULL, "store: %s failed: %s", what, sqlite3_errmsg(s->db));
    return -EIO;
}

static sqlite3_stmt *
get_stmt(sq_t *s, int which)
{
    if (!s->st[which] && sqlite3_prepare_v3(s->db, stmt_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
                                            &s->st[which], NULL) != SQLITE_OK) {
        db_error(s, "prepare");
        return NULL;
    }
    return s->st[which];
}

/* Finish a statement so it holds no read snapshot or lock between calls. */
static void
done_stmt(sqlite3_stmt *st)
{
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
}

static int
bind_text(sqlite3_stmt *st, int i, const char *v)
{
    return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

static const char *
col_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

static int
exec_sql(sq_t *s, const char *sql, const char *what)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        NW_ERROR(NULL, "store: %s failed: %s", what, msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return -EIO;
    }
    return 0;
}

static int
read_int(sq_t *s, const char *sql, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = -EIO;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        goto out;
    if (sqlite3_step(st) != SQLITE_ROW)
        goto out;
    *out = sqlite3_column_int64(st, 0);
    rc = 0;
out:
    if (rc < 0)
        db_error(s, sql);
    sqlite3_finalize(st);
    return rc;
}

/* Apply pending migrations in one transaction. BEGIN IMMEDIATE takes the write lock before the
 * version is read, so two processes opening a fresh file do not both migrate. */
static int
migrate(sq_t *s, char *err, size_t errlen)
{
    int64_t version = 0;
    int rc = exec_sql(s, "BEGIN IMMEDIATE", "begin migration");
    if (rc < 0)
        goto err;
    rc = read_int(s, "PRAGMA user_version", &version);
    if (rc < 0)
        goto err;
    if (version > SCHEMA_VERSION) {
        snprintf(err, errlen, "schema version %lld is newer than this program knows (%d)",
                 (long long)version, SCHEMA_VERSION);
        rc = -EPROTO;
        goto err;
    }
    for (int64_t v = version; v < SCHEMA_VERSION; v++) {
        char what[64];
        snprintf(what, sizeof(what), "migration to schema version %lld", (long long)v + 1);
        if ((rc = exec_sql(s, migrations[v], what)) < 0)
            goto err;
    }
    if (version < SCHEMA_VERSION) {
        char sql[64];
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", SCHEMA_VERSION);
        if ((rc = exec_sql(s, sql, "set schema version")) < 0)
            goto err;
    }
    if ((rc = exec_sql(s, "COMMIT", "commit migration")) < 0)
        goto err;
    if (version < SCHEMA_VERSION)
        NW_INFO(NULL, "store: schema migrated from version %lld to %d", (long long)version,
                SCHEMA_VERSION);
    return 0;

err:
    /* Everything or nothing: a half-migrated schema is never committed. */
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    if (err[0] == '\0')
        snprintf(err, errlen, "migration failed: %s", sqlite3_errmsg(s->db));
    return rc;
}

static int
is_operator(const char *p, size_t n)
{
    return (n == 3 && (memcmp(p, "AND", 3) == 0 || memcmp(p, "NOT", 3) == 0)) ||
           (n == 2 && memcmp(p, "OR", 2) == 0);
}

static int
is_word_byte(unsigned char c)
{
    return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Turn a query FTS5 rejected into plain terms: every whitespace-separated chunk becomes a
 * quoted phrase of its letter/digit runs, so `U.S.` is "U S" (which matches the tokens of
 * "U.S.") and `Rafah (` is "Rafah". The operators AND, OR and NOT are dropped rather than
 * searched for as words: the user meant them as operators. Bytes >= 0x80 count as letters, as
 * they do for FTS5 barewords. Returns 0 with the query in out, -EINVAL when no word is left,
 * or -ENOMEM. */
static int
plain_query(const char *q, nw_buf_t *out)
{
    static const char *const space = " \t\r\n";
    int words = 0, rc = 0;

    for (const char *p = q + strspn(q, space); *p && rc == 0; p += strspn(p, space)) {
        size_t n = strcspn(p, space);
        int opened = 0, in_word = 0;
        for (size_t i = 0; i < n && rc == 0 && !is_operator(p, n); i++) {
            if (!is_word_byte((unsigned char)p[i])) {
                in_word = 0;
                continue;
            }
            if (!in_word) {
                rc = nw_buf_puts(out, opened ? " " : "\"");
                words++;
            }
            if (rc == 0)
                rc = nw_buf_append(out, p + i, 1);
            opened = in_word = 1;
        }
        if (opened && rc == 0)
            rc = nw_buf_puts(out, "\" ");
        p += n;
    }
    if (rc < 0)
        return rc;
    return words > 0 ? 0 : -EINVAL;
}

/* Run one MATCH query. Returns hits, -EINVAL when FTS5 rejected the query before any hit, or
 * -EIO. */
static int
run_search(sq_t *s, const char *query, int limit, nw_store_hit_cb cb, void *arg)
{
    int n = 0, rc;
    sqlite3_stmt *st = get_stmt(s, ST_SEARCH);
    if (!st)
        return -EIO;
    s->deadline_ns = s->budget_ns ? nw_mono_ns() + s->budget_ns : 0;
    bind_text(st, 1, query);
    sqlite3_bind_int(st, 2, limit > 0 ? limit : -1);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        nw_store_hit_t hit = {
            .id = col_text(st, 0),
            .title = col_text(st, 1),
            .published = col_text(st, 2),
            .lang = col_text(st, 3),
            .url = col_text(st, 4),
            .snippet = col_text(st, 5),
            .rank = sqlite3_column_double(st, 6),
        };
        n++;
        if (cb && cb(&hit, arg) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    /* Syntax errors in the query arrive as plain SQLITE_ERROR from the first step; real
     * trouble (I/O, corruption, busy) has its own codes. */
    if (rc == SQLITE_ERROR && n == 0) {
        NW_DEBUG(NULL, "store: query \"%s\" rejected: %s", query, sqlite3_errmsg(s->db));
        n = -EINVAL;
    } else if (rc == SQLITE_INTERRUPT) {
        NW_WARN(NULL, "store: search cut after its budget of %llu ms",
                (unsigned long long)(s->budget_ns / 1000000));
        n = -ETIMEDOUT;
    } else if (rc != SQLITE_DONE) {
        n = db_error(s, "search");
    }
    done_stmt(st);
    return n;
}

/* The row at the statement's cursor; columns DEAD_COLS then the four replay columns. */
static void
read_dead_row(sqlite3_stmt *st, nw_store_dead_row_t *row)
{
    *row = (nw_store_dead_row_t){
        .rowid = sqlite3_column_int64(st, 0),
        .time = col_text(st, 1),
        .stage = col_text(st, 2),
        .reason = col_text(st, 3),
        .detail = col_text(st, 4),
        .id = col_text(st, 5),
        .source = col_text(st, 6),
        .content_type = col_text(st, 7),
        .origin = col_text(st, 8),
        .spool = (uint64_t)sqlite3_column_int64(st, 9),
        .bytes = sqlite3_column_blob(st, 10),
        .replayed_at = col_text(st, 11),
        .replay_status = col_text(st, 12),
        .replay_id = col_text(st, 13),
        .replay_detail = col_text(st, 14),
    };
    /* SQLite gives NULL for an empty blob; callers get a valid pointer either way. */
    if (!row->bytes)
        row->bytes = (const uint8_t *)"";
    row->bytes_len = (size_t)sqlite3_column_bytes(st, 10);
}

/* Step through dead-letter rows of a bound statement, passing each to cb. */
static int
each_dead(sq_t *s, sqlite3_stmt *st, nw_store_dead_cb cb, void *arg, const char *what)
{
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        nw_store_dead_row_t row;
        read_dead_row(st, &row);
        n++;
        if (cb && cb(&row, arg) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (rc != SQLITE_DONE)
        n = db_error(s, what);
    done_stmt(st);
    return n;
}

static int
sq_open(nw_store_t *h, const char *path, char *err, size_t errlen)
{
    int64_t version = 0;
    sq_t *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    h->be = s;
    int flags = h->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open \"%s\": %s", path,
                 s->db ? sqlite3_errmsg(s->db) : "out of memory");
        return -EIO;
    }
    sqlite3_extended_result_codes(s->db, 1);
    /* Wait for a competing lock instead of failing at once. The wait blocks the caller's event
     * loop, so the writer waits less than a stage heartbeat's liveness (3 s): a locked database
     * then fails the batch, which is retried from a timer while heartbeats keep flowing. */
    sqlite3_busy_timeout(s->db, h->readonly ? 5000 : 1000);
    if (!h->readonly) {
        /* journal_mode returns the mode as a row; anything but "wal" means WAL is unavailable
         * (e.g. a network filesystem) and readers would block the writer. */
        sqlite3_stmt *st = NULL;
        int wal =
            sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW && col_text(st, 0) &&
            strcmp(col_text(st, 0), "wal") == 0;
        sqlite3_finalize(st);
        if (!wal) {
            snprintf(err, errlen, "cannot enable WAL on \"%s\": %s", path, sqlite3_errmsg(s->db));
            return -EIO;
        }
        /* Acks go out after commit, so a commit must survive power loss: FULL syncs the WAL
         * on every commit (NORMAL would only on checkpoint). */
        if (exec_sql(s, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON", "pragmas") < 0) {
            snprintf(err, errlen, "cannot configure \"%s\": %s", path, sqlite3_errmsg(s->db));
            return -EIO;
        }
        /* A batch of 256 articles dirties some 12 MB of pages: with SQLite's 2 MB cache they
         * spilled into the WAL mid-transaction and were written again and again (0.4 MB of
         * writes per article at 2,000 articles, against 0.14 MB with 32 MB), and the index
         * pages an insert lands on were read back with pread(). A statement journal (a
         * statement that writes several rows) is kept in memory rather than in a temporary
         * file. Best effort. */
        exec_sql(s, "PRAGMA cache_size=-32768; PRAGMA temp_store=MEMORY", "writer pragmas");
        if (migrate(s, err, errlen) < 0)
            return -EIO;
    } else {
        /* Readers serve queries over the whole file: read it through a memory map and keep
         * more of it cached than the 2 MB default, instead of a pread() per page a query
         * touches (a quarter of a query's CPU time at 100,000 articles). Best effort. */
        exec_sql(s, "PRAGMA mmap_size=1073741824; PRAGMA cache_size=-32768", "reader pragmas");
    }
    if (read_int(s, "PRAGMA user_version", &version) < 0) {
        snprintf(err, errlen, "cannot read \"%s\": %s", path, sqlite3_errmsg(s->db));
        return -EIO;
    }
    if (version < 1 || version > SCHEMA_VERSION) {
        snprintf(err, errlen,
                 "\"%s\" is not a newswire database this program reads "
                 "(schema version %lld)",
                 path, (long long)version);
        return -EPROTO;
    }
    h->version = (int)version;
    return 0;
}

static void
sq_close(nw_store_t *h)
{
    sq_t *s = h->be;
    if (!s)
        return;
    for (int i = 0; i < ST_N; i++)
        sqlite3_finalize(s->st[i]);
    for (int i = 0; i < SQL_CACHE; i++) {
        sqlite3_finalize(s->cache[i].st);
        free(s->cache[i].sql);
    }
    if (h->in_tx)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    if (s->db && sqlite3_close(s->db) != SQLITE_OK)
        NW_ERROR(NULL, "store: close failed: %s", sqlite3_errmsg(s->db));
    free(s);
    h->be = NULL;
}

static int
sq_schema_version(nw_store_t *h)
{
    int64_t v = 0;
    return read_int(h->be, "PRAGMA user_version", &v) < 0 ? -EIO : (int)v;
}

static int
sq_begin(nw_store_t *h)
{
    sq_t *s = h->be;
    /* IMMEDIATE: take the write lock now, where the busy timeout applies, rather than failing
     * with SQLITE_BUSY when a deferred transaction tries to upgrade. */
    if (exec_sql(s, "BEGIN IMMEDIATE", "begin") < 0)
        return -EIO;
    /* The sequence counter is read under the write lock, so it is right after a rollback and
     * even if another process wrote since we opened. The unique index makes this O(log n). */
    sqlite3_stmt *st = get_stmt(s, ST_MAXSEQ);
    if (!st || sqlite3_step(st) != SQLITE_ROW) {
        int rc = db_error(s, "read sequence");
        done_stmt(st);
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    s->next_seq = (uint64_t)sqlite3_column_int64(st, 0) + 1;
    done_stmt(st);
    return 0;
}

static int
sq_commit(nw_store_t *h)
{
    return exec_sql(h->be, "COMMIT", "commit");
}

static int
sq_rollback(nw_store_t *h)
{
    sq_t *s = h->be;
    /* A failed ROLLBACK means SQLite already rolled back (e.g. after SQLITE_FULL). */
    return sqlite3_get_autocommit(s->db) ? 0 : exec_sql(s, "ROLLBACK", "rollback");
}

static char *
dup_col(sqlite3_stmt *st, int i)
{
    return col_text(st, i) ? strdup(col_text(st, i)) : NULL;
}

static int
sq_lookup(nw_store_t *h, const char *id, const char *hash, int want_seq, store_cur_t *cur)
{
    sq_t *s = h->be;
    int rc = -ENOENT;
    sqlite3_stmt *st = get_stmt(s, ST_LOOKUP);
    if (!st)
        return -EIO;
    bind_text(st, 1, id);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        cur->rev = (uint32_t)sqlite3_column_int64(st, 0);
        cur->seq = (uint64_t)sqlite3_column_int64(st, 1);
        snprintf(cur->hash, sizeof(cur->hash), "%s", col_text(st, 2) ? col_text(st, 2) : "");
        cur->story = dup_col(st, 3); /* NULL as well when out of memory: only a label lost */
        cur->duplicate_of = dup_col(st, 4);
        cur->av = (uint64_t)sqlite3_column_int64(st, 5);
        rc = 0;
    } else if (step != SQLITE_DONE) {
        rc = db_error(s, "look up article");
    }
    done_stmt(st);
    if (rc == 0) {
        if (!(st = get_stmt(s, ST_KNOWN)))
            return -EIO;
        bind_text(st, 1, id);
        bind_text(st, 2, hash);
        if (sqlite3_step(st) == SQLITE_ROW) {
            cur->max_rev = (uint32_t)sqlite3_column_int64(st, 0);
            cur->known_rev = (uint32_t)sqlite3_column_int64(st, 1);
        } else {
            rc = db_error(s, "look up revisions");
        }
        done_stmt(st);
        if (cur->max_rev < cur->rev)
            cur->max_rev = cur->rev;
    }
    /* The counter moves when a revision is written, so a seq not used is handed out again. */
    if (want_seq && (rc == -ENOENT || (rc == 0 && !cur->known_rev)))
        cur->next_seq = s->next_seq;
    return rc;
}

static int
fp_insert(sq_t *s, const store_fp_row_t *r)
{
    sqlite3_stmt *st = get_stmt(s, ST_FP_INSERT);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)r->seq);
    bind_text(st, 2, r->id);
    sqlite3_bind_int64(st, 3, r->time);
    bind_text(st, 4, r->story);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)r->simhash);
    if (r->minhash)
        sqlite3_bind_blob64(st, 6, r->minhash, r->minhash_len, SQLITE_STATIC);
    if (r->terms)
        sqlite3_bind_blob64(st, 7, r->terms, r->terms_len, SQLITE_STATIC);
    if (r->grams)
        sqlite3_bind_blob64(st, 8, r->grams, r->grams_len, SQLITE_STATIC);
    if (r->anchors)
        sqlite3_bind_blob64(st, 9, r->anchors, r->anchors_len, SQLITE_STATIC);
    bind_text(st, 10, r->lang);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_error(s, "insert fingerprint");
    done_stmt(st);
    return rc;
}

/* One row of the revisions table: a current revision (ST_REVISION) or a late older one that
 * goes to history only (ST_LATE). Both statements take the same seven parameters. */
static int
insert_revision(sq_t *s, const store_row_t *r, int stmt, const char *what)
{
    sqlite3_stmt *st = get_stmt(s, stmt);
    if (!st)
        return -EIO;
    bind_text(st, 1, r->id);
    sqlite3_bind_int64(st, 2, r->rev);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)r->seq);
    bind_text(st, 4, r->hash);
    bind_text(st, 5, r->stored_at);
    sqlite3_bind_blob64(st, 6, r->doc, r->doc_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)r->av);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_error(s, what);
    done_stmt(st);
    return rc;
}

static int
sq_write(nw_store_t *h, const store_row_t *r, const store_fp_row_t *fp, int exists)
{
    sq_t *s = h->be;
    int rc;
    if (r->seq >= s->next_seq)
        s->next_seq = r->seq + 1;
    if (r->late)
        return insert_revision(s, r, ST_LATE, "insert late revision");
    sqlite3_stmt *st;
    if (exists) { /* the current revision's terms leave the index */
        if (!(st = get_stmt(s, ST_FTS_DELETE)))
            return -EIO;
        bind_text(st, 1, r->id);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_error(s, "unindex article");
        done_stmt(st);
        if (rc < 0)
            return rc;
    }
    if (!(st = get_stmt(s, exists ? ST_UPDATE : ST_INSERT)))
        return -EIO;
    bind_text(st, 1, r->id);
    sqlite3_bind_int64(st, 2, r->rev);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)r->seq);
    bind_text(st, 4, r->hash);
    bind_text(st, 5, r->url);
    bind_text(st, 6, r->title);
    bind_text(st, 7, r->subtitle);
    bind_text(st, 8, r->published);
    bind_text(st, 9, r->dateline);
    bind_text(st, 10, r->lang);
    bind_text(st, 11, r->authors);
    bind_text(st, 12, r->source);
    bind_text(st, 13, r->fetched);
    bind_text(st, 14, r->stored_at);
    sqlite3_bind_int64(st, 15, r->words);
    bind_text(st, 16, r->text);
    sqlite3_bind_blob64(st, 17, r->doc, r->doc_len, SQLITE_STATIC);
    bind_text(st, 18, r->story);
    bind_text(st, 19, r->duplicate_of);
    sqlite3_bind_int64(st, 20, (sqlite3_int64)r->av);
    rc = sqlite3_step(st) == SQLITE_DONE
             ? 0
             : db_error(s, exists ? "update article" : "insert article");
    done_stmt(st);
    if (rc < 0)
        return rc;
    if (!(st = get_stmt(s, ST_FTS_INSERT)))
        return -EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)r->seq);
    bind_text(st, 2, r->title);
    bind_text(st, 3, r->subtitle);
    bind_text(st, 4, r->text);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_error(s, "index article");
    done_stmt(st);
    if (rc < 0)
        return rc;

    rc = insert_revision(s, r, ST_REVISION, "insert revision");
    return rc < 0 || !fp ? rc : fp_insert(s, fp);
}

static int
sq_fp_prune(nw_store_t *h, uint64_t upto)
{
    sq_t *s = h->be;
    sqlite3_stmt *st = get_stmt(s, ST_FP_PRUNE);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)upto);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_error(s, "prune fingerprints");
    done_stmt(st);
    return rc;
}

static int
sq_fp_load(nw_store_t *h, uint64_t after, int limit, store_fp_cb cb, void *arg)
{
    sq_t *s = h->be;
    int n = 0, rc = 0, step;
    sqlite3_stmt *st = get_stmt(s, ST_FP_LOAD);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)after);
    sqlite3_bind_int(st, 2, limit);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        store_fp_row_t r = {
            .seq = (uint64_t)sqlite3_column_int64(st, 0),
            .id = col_text(st, 1),
            .time = sqlite3_column_int64(st, 2),
            .story = col_text(st, 3),
            .simhash = (uint64_t)sqlite3_column_int64(st, 4),
            .minhash = sqlite3_column_blob(st, 5),
            .minhash_len = (size_t)sqlite3_column_bytes(st, 5),
            .terms = sqlite3_column_blob(st, 6),
            .terms_len = (size_t)sqlite3_column_bytes(st, 6),
            .grams = sqlite3_column_blob(st, 7),
            .grams_len = (size_t)sqlite3_column_bytes(st, 7),
            .anchors = sqlite3_column_blob(st, 8),
            .anchors_len = (size_t)sqlite3_column_bytes(st, 8),
            .lang = col_text(st, 9),
        };
        if ((rc = cb(&r, arg)) < 0)
            break;
        n++;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = db_error(s, "load fingerprints");
    done_stmt(st);
    return rc < 0 ? rc : n;
}

static int
sq_put_dead(nw_store_t *h, const nw_dead_t *d, const char *time, const char *key)
{
    sq_t *s = h->be;
    sqlite3_stmt *st = get_stmt(s, ST_DEAD);
    if (!st)
        return -EIO;
    bind_text(st, 1, time);
    bind_text(st, 2, d->stage ? d->stage : "unknown");
    bind_text(st, 3, d->reason ? d->reason : "unknown");
    bind_text(st, 4, d->detail);
    bind_text(st, 5, d->id);
    bind_text(st, 6, d->source);
    bind_text(st, 7, d->content_type);
    bind_text(st, 8, d->origin);
    if (d->spool)
        sqlite3_bind_int64(st, 9, (sqlite3_int64)d->spool);
    else
        sqlite3_bind_null(st, 9);
    /* zeroblob-safe: a NULL pointer would bind SQL NULL, violating NOT NULL for empty bytes. */
    sqlite3_bind_blob64(st, 10, d->bytes ? (const void *)d->bytes : (const void *)"", d->bytes_len,
                        SQLITE_STATIC);
    bind_text(st, 11, key);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_error(s, "insert dead letter");
    done_stmt(st);
    return rc;
}

static int
sq_set_budget(nw_store_t *h, int64_t ms)
{
    sq_t *s = h->be;
    s->budget_ns = (uint64_t)ms * 1000000u;
    sqlite3_progress_handler(s->db, ms ? PROGRESS_OPS : 0, ms ? on_progress : NULL, s);
    return 0;
}

/* Drop repeated bare words ("the the the" means "the" to FTS5) into out; 1 when any was
 * dropped, 0 when the query is left alone (it has quotes, brackets or operators, where words
 * are not independent), -ENOMEM. Repeats are what make snippet() slow: its work grows with
 * the matches of every term, counted once per repeat. Case-insensitive for ASCII, as FTS5. */
static int
dedupe_terms(const char *q, nw_buf_t *out)
{
    static const char *const space = " \t\r\n";
    const char *seen[64];
    size_t seen_len[64], n_seen = 0;
    int dropped = 0;
    if (strpbrk(q, "\"()*:^{}+-"))
        return 0;
    for (const char *p = q + strspn(q, space); *p; p += strspn(p, space)) {
        size_t n = strcspn(p, space);
        if (is_operator(p, n))
            return 0;
        size_t k;
        for (k = 0; k < n_seen; k++)
            if (seen_len[k] == n && strncasecmp(seen[k], p, n) == 0)
                break;
        if (k < n_seen) {
            dropped = 1;
        } else {
            if (n_seen < 64) {
                seen[n_seen] = p;
                seen_len[n_seen++] = n;
            }
            if ((out->len && nw_buf_puts(out, " ") < 0) || nw_buf_append(out, p, n) < 0)
                return -ENOMEM;
        }
        p += n;
    }
    return dropped;
}

static int
sq_search(nw_store_t *h, const char *query, int limit, nw_store_hit_cb cb, void *arg)
{
    nw_buf_t plain = {0}, unique = {0};
    int d = dedupe_terms(query, &unique);
    if (d < 0) {
        nw_buf_release(&unique);
        return d;
    }
    if (d > 0)
        query = (const char *)unique.data;
    int n = run_search(h->be, query, limit, cb, arg);
    if (n == -EINVAL) {
        n = plain_query(query, &plain);
        if (n == 0)
            n = run_search(h->be, (const char *)plain.data, limit, cb, arg);
    }
    nw_buf_release(&plain);
    nw_buf_release(&unique);
    return n;
}

static int
sq_get(nw_store_t *h, const char *id, uint8_t **buf, size_t *len)
{
    sq_t *s = h->be;
    int rc;
    sqlite3_stmt *st = get_stmt(s, ST_GET);
    if (!st)
        return -EIO;
    bind_text(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        const void *p = sqlite3_column_blob(st, 0);
        *buf = malloc(n ? n : 1);
        if (!*buf) {
            rc = -ENOMEM;
        } else {
            if (n)
                memcpy(*buf, p, n);
            *len = n;
            rc = 0;
        }
    } else if (rc == SQLITE_DONE) {
        rc = -ENOENT;
    } else {
        rc = db_error(s, "get article");
    }
    done_stmt(st);
    return rc;
}

static int
sq_dlq(nw_store_t *h, int kind, int64_t n, const char *reason, nw_store_dead_cb cb, void *arg)
{
    sq_t *s = h->be;
    int v2 = h->version >= 2;
    sqlite3_stmt *st;
    switch (kind) {
    case STORE_DLQ_LIST:
        if (!(st = get_stmt(s, v2 ? ST_DLQ : ST_DLQ_V1)))
            return -EIO;
        sqlite3_bind_int64(st, 1, n > 0 ? n : -1);
        return each_dead(s, st, cb, arg, "list dead letters");
    case STORE_DLQ_GET:
        if (!(st = get_stmt(s, v2 ? ST_DLQ_GET : ST_DLQ_GET_V1)))
            return -EIO;
        sqlite3_bind_int64(st, 1, n);
        return each_dead(s, st, cb, arg, "read dead letter");
    default:
        if (!(st = get_stmt(s, ST_DLQ_PENDING)))
            return -EIO;
        bind_text(st, 1, reason);
        return each_dead(s, st, cb, arg, "list pending dead letters");
    }
}

static int
sq_dlq_stats(nw_store_t *h, nw_store_dlq_stat_cb cb, void *arg)
{
    sq_t *s = h->be;
    int n = 0, rc;
    sqlite3_stmt *st = get_stmt(s, h->version >= 2 ? ST_DLQ_STATS : ST_DLQ_STATS_V1);
    if (!st)
        return -EIO;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        nw_store_dlq_stat_t row = {
            .stage = col_text(st, 0),
            .reason = col_text(st, 1),
            .count = sqlite3_column_int64(st, 2),
            .replayed = sqlite3_column_int64(st, 3),
        };
        n++;
        if (cb && cb(&row, arg) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (rc != SQLITE_DONE)
        n = db_error(s, "count dead letters");
    done_stmt(st);
    return n;
}

static int
sq_dlq_claim(nw_store_t *h, int64_t rowid, int force, const char *now)
{
    sq_t *s = h->be;
    sqlite3_stmt *st = get_stmt(s, ST_DLQ_CLAIM);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, rowid);
    bind_text(st, 2, now);
    sqlite3_bind_int(st, 3, force ? 1 : 0);
    int rc =
        sqlite3_step(st) == SQLITE_DONE ? sqlite3_changes(s->db) : db_error(s, "claim dead letter");
    done_stmt(st);
    return rc;
}

static int
sq_dlq_replayed(nw_store_t *h, int64_t rowid, const char *now, const char *status,
                const char *new_id, const char *detail)
{
    sq_t *s = h->be;
    sqlite3_stmt *st = get_stmt(s, ST_DLQ_REPLAYED);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, rowid);
    bind_text(st, 2, now);
    bind_text(st, 3, status);
    bind_text(st, 4, new_id);
    bind_text(st, 5, detail);
    int rc =
        sqlite3_step(st) == SQLITE_DONE ? sqlite3_changes(s->db) : db_error(s, "record replay");
    done_stmt(st);
    return rc;
}

static int
sq_since(nw_store_t *h, uint64_t after, int limit, nw_store_doc_cb cb, void *arg)
{
    sq_t *s = h->be;
    int n = 0, rc;
    sqlite3_stmt *st = get_stmt(s, h->version < 6 ? ST_SINCE_V5 : ST_SINCE);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)after);
    sqlite3_bind_int(st, 2, limit > 0 ? limit : -1);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        n++;
        if (cb && cb((uint64_t)sqlite3_column_int64(st, 0), sqlite3_column_blob(st, 1),
                     (size_t)sqlite3_column_bytes(st, 1), arg) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (rc != SQLITE_DONE)
        n = db_error(s, "read since");
    done_stmt(st);
    return n;
}

static int
sq_max_seq(nw_store_t *h, uint64_t *seq)
{
    sq_t *s = h->be;
    int rc = 0;
    sqlite3_stmt *st = get_stmt(s, ST_MAXSEQ);
    if (!st)
        return -EIO;
    if (sqlite3_step(st) == SQLITE_ROW)
        *seq = (uint64_t)sqlite3_column_int64(st, 0);
    else
        rc = db_error(s, "read sequence");
    done_stmt(st);
    return rc;
}

static int
sq_seq_at(nw_store_t *h, const char *time, uint64_t *first)
{
    sq_t *s = h->be;
    int rc = 0;
    sqlite3_stmt *st = get_stmt(s, h->version < 6 ? ST_SEQ_AT_V5 : ST_SEQ_AT);
    if (!st)
        return -EIO;
    bind_text(st, 1, time);
    if (sqlite3_step(st) != SQLITE_ROW)
        rc = db_error(s, "find sequence by time");
    else if (sqlite3_column_type(st, 0) != SQLITE_NULL)
        *first = (uint64_t)sqlite3_column_int64(st, 0);
    done_stmt(st);
    return rc;
}

static int64_t
sq_count(nw_store_t *h)
{
    sq_t *s = h->be;
    int64_t n = -EIO;
    sqlite3_stmt *st = get_stmt(s, ST_COUNT);
    if (!st)
        return -EIO;
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    else
        db_error(s, "count articles");
    done_stmt(st);
    return n;
}

/* store_query.c's SQL: prepared once per text (the least recently used of SQL_CACHE goes),
 * run under the search budget. The index writes look up about a hundred statements per
 * article here: by hash, not by comparing the texts, which share long prefixes. */
static sqlite3_stmt *
cached_stmt(sq_t *s, const char *sql)
{
    size_t victim = 0, len = strlen(sql);
    uint64_t hash = XXH3_64bits(sql, len);
    for (size_t i = 0; i < SQL_CACHE; i++) {
        if (s->cache[i].sql && s->cache[i].hash == hash && strcmp(s->cache[i].sql, sql) == 0) {
            s->cache[i].used = ++s->uses;
            return s->cache[i].st;
        }
        if (s->cache[i].used < s->cache[victim].used)
            victim = i;
    }
    sqlite3_stmt *st = NULL;
    char *copy = strdup(sql);
    if (copy == NULL ||
        sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        if (copy)
            db_error(s, "prepare query");
        free(copy);
        return NULL;
    }
    sqlite3_finalize(s->cache[victim].st);
    free(s->cache[victim].sql);
    s->cache[victim].sql = copy;
    s->cache[victim].hash = hash;
    s->cache[victim].st = st;
    s->cache[victim].used = ++s->uses;
    return st;
}

static int
sq_select(nw_store_t *h, const char *sql, const char *const *params, int n_params, store_sel_cb cb,
          void *arg)
{
    sq_t *s = h->be;
    sqlite3_stmt *st = cached_stmt(s, sql);
    if (!st)
        return -EIO;
    for (int i = 0; i < n_params; i++)
        bind_text(st, i + 1, params[i]);
    s->deadline_ns = s->budget_ns ? nw_mono_ns() + s->budget_ns : 0;
    int n = 0, rc, ncol = sqlite3_column_count(st);
    const char *cols[16];
    size_t lens[16];
    if (ncol > 16)
        ncol = 16;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < ncol; i++) {
            cols[i] = sqlite3_column_type(st, i) == SQLITE_BLOB
                          ? (const char *)sqlite3_column_blob(st, i)
                          : col_text(st, i);
            lens[i] = (size_t)sqlite3_column_bytes(st, i);
        }
        n++;
        if (cb && (rc = cb(cols, lens, ncol, arg)) != 0) {
            done_stmt(st);
            s->deadline_ns = 0;
            return rc < 0 ? rc : n;
        }
    }
    if (rc == SQLITE_INTERRUPT)
        n = -ETIMEDOUT;
    else if (rc != SQLITE_DONE)
        n = db_error(s, "query");
    done_stmt(st);
    s->deadline_ns = 0;
    return n;
}

/* FTS5's query syntax rejects much of what people type ("U.S.", a lone bracket): the query
 * API's words are always taken as plain terms (plain_query), each once (dedupe_terms: repeats
 * are what make snippet() slow). */
static int
sq_fts_text(const char *words, nw_buf_t *out)
{
    nw_buf_t unique = {0};
    int d = dedupe_terms(words, &unique);
    int rc = d < 0 ? d : plain_query(d > 0 ? (const char *)unique.data : words, out);
    nw_buf_release(&unique);
    return rc;
}

static const store_dialect_t sq_dialect = {
    .fts_seqs = "SELECT rowid AS seq FROM articles_fts WHERE articles_fts MATCH ?",
    .fts_probe = "EXISTS (SELECT 1 FROM articles_fts WHERE articles_fts MATCH ? AND rowid = t.seq)",
    .fts_newest = "SELECT t.seq AS seq, t.at AS at, t.published AS published,"
                  " -bm25(articles_fts, 10.0, 4.0, 1.0) AS rank"
                  " FROM articles_fts CROSS JOIN article_topics t"
                  " WHERE articles_fts MATCH ? AND t.topic = 'all' AND t.seq = articles_fts.rowid",
    .fts_newest_order = "ORDER BY articles_fts.rowid DESC",
    .fts_ranked = "SELECT rowid AS seq, -bm25(articles_fts, 10.0, 4.0, 1.0) AS rank"
                  " FROM articles_fts WHERE articles_fts MATCH ?",
    .fts_seq_col = "+rowid", /* "rowid IN" would run the match once per listed seq */
    .snippet_sql =
        "SELECT rowid, replace(replace(snippet(articles_fts, -1, char(2), char(3), '\xe2\x80\xa6',"
        " 12), char(2), '['), char(3), ']') FROM articles_fts WHERE articles_fts MATCH ?"
        " AND rowid IN (",
    .fts_text = sq_fts_text,
    .index_rows = 1,
};

const store_ops_t nw_store_sqlite_ops = {
    .name = "SQLite",
    .select = sq_select,
    .dialect = &sq_dialect,
    .open = sq_open,
    .close = sq_close,
    .schema_version = sq_schema_version,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .lookup = sq_lookup,
    .write = sq_write,
    .fp_prune = sq_fp_prune,
    .fp_load = sq_fp_load,
    .put_dead = sq_put_dead,
    .search = sq_search,
    .set_budget = sq_set_budget,
    .get = sq_get,
    .dlq = sq_dlq,
    .dlq_stats = sq_dlq_stats,
    .dlq_claim = sq_dlq_claim,
    .dlq_replayed = sq_dlq_replayed,
    .since = sq_since,
    .max_seq = sq_max_seq,
    .seq_at = sq_seq_at,
    .count = sq_count,
};
