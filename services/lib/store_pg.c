/* store_pg.c: the PostgreSQL backend of the store (store_backend.h), for several store
 * processes sharing one database (PostgreSQL 13 or later, through libpq). Selected by a
 * "postgres://" / "postgresql://" URI or a libpq conninfo string (nw_store_is_postgres).
 *
 * The schema is store.c's, in PostgreSQL types, with these differences from the SQLite form:
 *
 *   schema_migrations  version            one row per migration step applied, with its time;
 *                                         the schema version is the highest
 *   article_fts        seq, fts           tsvector of each current article's title (weight
 *                                         A), subtitle (B) and text (C) with the 'simple'
 *                                         configuration, GIN-indexed, kept by a trigger on
 *                                         articles (v9; articles.fts before)
 *   publication_seq    sequence           the publication sequence numbers
 *
 * Text that is compared as text (stored_at) uses the "C" collation, so ISO 8601 times sort as
 * their bytes whatever the database's locale.
 *
 * Several writers: each put reads the article row FOR UPDATE, so two writers storing the same
 * id serialise on it; a new id is inserted with ON CONFLICT DO NOTHING, and when another
 * writer's insert won (this one waited for its commit) the put starts over and finds that row:
 * "unchanged", or a new revision on top of it. Writers that lock rows in opposite orders
 * deadlock now and then; PostgreSQL aborts one, whose batch is rolled back and retried like
 * any failed batch (nothing was acked). lock_timeout bounds how long a writer's event loop
 * waits for another writer's lock.
 *
 * Sequence numbers come from publication_seq, so concurrent writers run side by side, but
 * they commit out of seq order and a rolled back transaction leaves a gap. Readers that resume
 * from a seq (`newswire tail --since`, nw_store_since) must never see seq N while a lower seq
 * may still commit: the settled horizon below is the highest seq such that every transaction
 * that could have taken one at or below it has ended, and since/max_seq read only up to it.
 * Every write transaction takes its transaction id first thing (pg_current_xact_id), and with
 * it the lock on that id, which it holds until it has ended; a reader reads the sequence's last
 * value H, then lists the transaction ids locked at that moment (pg_locks), and waits until
 * none of them is locked any more (a writer's batch lasts milliseconds). A transaction that
 * took a seq <= H had its id before the list was taken, so the read that follows sees it
 * committed or rolled back.
 *
 * Durability: synchronous_commit is set on for the session, so a commit is flushed before it
 * returns and acks still follow durable commits. A lost connection fails the statement with
 * -EIO (the caller rolls back and retries the batch later); the next transaction, or the next
 * read outside one, connects again. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "newswire/buf.h"
#include "newswire/log.h"
#include "newswire/util.h"
#include "store_backend.h"

/* Migrations, step i from version i to i + 1: the SQLite steps in PostgreSQL form. Append
 * only; never edit a step that has shipped. */
static const char *const migrations[] = {
    /* v1 */
    "CREATE TABLE articles ("
    "  id TEXT PRIMARY KEY NOT NULL,"
    "  rev INTEGER NOT NULL,"
    "  seq BIGINT NOT NULL UNIQUE,"
    "  content_hash TEXT NOT NULL,"
    "  url TEXT, title TEXT, subtitle TEXT, published TEXT, dateline TEXT, lang TEXT,"
    "  authors TEXT, source TEXT, fetched TEXT,"
    "  stored_at TEXT COLLATE \"C\" NOT NULL,"
    "  words BIGINT,"
    "  text TEXT,"
    "  doc BYTEA NOT NULL,"
    "  fts TSVECTOR GENERATED ALWAYS AS ("
    "    setweight(to_tsvector('simple', coalesce(title, '')), 'A') ||"
    "    setweight(to_tsvector('simple', coalesce(subtitle, '')), 'B') ||"
    "    setweight(to_tsvector('simple', coalesce(text, '')), 'C')) STORED);"
    "CREATE INDEX articles_published ON articles(published);"
    "CREATE INDEX articles_lang ON articles(lang);"
    "CREATE INDEX articles_fts ON articles USING gin(fts);"
    "CREATE TABLE revisions ("
    "  id TEXT NOT NULL,"
    "  rev INTEGER NOT NULL,"
    "  seq BIGINT NOT NULL UNIQUE,"
    "  content_hash TEXT NOT NULL,"
    "  stored_at TEXT COLLATE \"C\" NOT NULL,"
    "  doc BYTEA NOT NULL,"
    "  PRIMARY KEY (id, rev));"
    "CREATE SEQUENCE publication_seq;"
    "CREATE TABLE dead_letters ("
    "  id BIGSERIAL PRIMARY KEY,"
    "  time TEXT COLLATE \"C\" NOT NULL,"
    "  stage TEXT NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  detail TEXT,"
    "  article_id TEXT,"
    "  source TEXT,"
    "  content_type TEXT,"
    "  origin TEXT,"
    "  spool BIGINT,"
    "  bytes BYTEA NOT NULL);"
    "CREATE INDEX dead_letters_time ON dead_letters(time);",
    /* v2: replays of dead letters, stats by stage and reason, backfill from a time. */
    "ALTER TABLE dead_letters ADD COLUMN replayed_at TEXT;"
    "ALTER TABLE dead_letters ADD COLUMN replay_status TEXT;"
    "ALTER TABLE dead_letters ADD COLUMN replay_id TEXT;"
    "ALTER TABLE dead_letters ADD COLUMN replay_detail TEXT;"
    "CREATE INDEX dead_letters_reason ON dead_letters(stage, reason);"
    "CREATE INDEX revisions_stored_at ON revisions(stored_at);",
    /* v3: a re-sent dead letter is stored once. */
    "ALTER TABLE dead_letters ADD COLUMN item_key TEXT;"
    "CREATE UNIQUE INDEX dead_letters_item ON dead_letters(item_key) WHERE item_key IS NOT NULL;",
    /* v4: near-duplicates and stories. */
    "ALTER TABLE articles ADD COLUMN story TEXT;"
    "ALTER TABLE articles ADD COLUMN duplicate_of TEXT;"
    "CREATE INDEX articles_story ON articles(story);"
    "CREATE TABLE fingerprints ("
    "  seq BIGINT PRIMARY KEY,"
    "  id TEXT NOT NULL,"
    "  time BIGINT NOT NULL,"
    "  story TEXT NOT NULL,"
    "  simhash BIGINT NOT NULL,"
    "  minhash BYTEA,"
    "  terms BYTEA);",
    /* v5: the fingerprint gained grams, anchors and lang; v4 fingerprints are not comparable
     * with new ones and are dropped (stored articles keep their story ids). */
    "DELETE FROM fingerprints;"
    "ALTER TABLE fingerprints ADD COLUMN grams BYTEA;"
    "ALTER TABLE fingerprints ADD COLUMN anchors BYTEA;"
    "ALTER TABLE fingerprints ADD COLUMN lang TEXT;",
    /* v6: acceptance order: av on articles and revisions, late revisions kept as history. */
    "ALTER TABLE articles ADD COLUMN av BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE revisions ADD COLUMN av BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE revisions ADD COLUMN late SMALLINT NOT NULL DEFAULT 0;",
    /* v7: the query API's indexes (store_query.c). Topics and times compare bytewise
     * (COLLATE "C"), as in SQLite, so a prefix is a range of the index whatever the locale. */
    "CREATE TABLE article_topics ("
    "  topic TEXT COLLATE \"C\" NOT NULL,"
    "  at TEXT COLLATE \"C\" NOT NULL,"
    "  seq BIGINT NOT NULL,"
    "  published SMALLINT NOT NULL,"
    "  PRIMARY KEY (topic, at, seq));"
    "CREATE INDEX article_topics_seq ON article_topics(seq);"
    "CREATE INDEX article_topics_topic_seq ON article_topics(topic, seq);"
    "CREATE INDEX article_topics_at ON article_topics(at, topic);"
    "CREATE TABLE article_places ("
    "  seq BIGINT NOT NULL,"
    "  lat DOUBLE PRECISION NOT NULL,"
    "  lon DOUBLE PRECISION NOT NULL);"
    "CREATE INDEX article_places_seq ON article_places(seq);"
    "CREATE INDEX article_places_geo ON article_places(lat, lon);",
    /* v8: facet counts kept by the store and the distinct place coordinates (store_query.c),
     * filled from the index; the (at, topic) index served only the old facets. */
    "CREATE TABLE facet_hours ("
    "  hour TEXT COLLATE \"C\" NOT NULL,"
    "  topic TEXT COLLATE \"C\" NOT NULL,"
    "  n BIGINT NOT NULL,"
    "  PRIMARY KEY (hour, topic));"
    "CREATE TABLE facet_days ("
    "  day TEXT COLLATE \"C\" NOT NULL,"
    "  topic TEXT COLLATE \"C\" NOT NULL,"
    "  n BIGINT NOT NULL,"
    "  PRIMARY KEY (day, topic));"
    "CREATE TABLE place_points ("
    "  lat DOUBLE PRECISION NOT NULL,"
    "  lon DOUBLE PRECISION NOT NULL,"
    "  PRIMARY KEY (lat, lon));"
    "INSERT INTO place_points (lat, lon) SELECT DISTINCT lat, lon FROM article_places;"
    "DROP INDEX article_topics_at;"
    "INSERT INTO facet_hours (hour, topic, n)"
    "  SELECT substr(at, 1, 13), topic, count(*) FROM article_topics GROUP BY 1, 2;"
    "INSERT INTO facet_days (day, topic, n)"
    "  SELECT substr(hour, 1, 10), topic, sum(n) FROM facet_hours GROUP BY 1, 2;",
    /* v9: the search vectors in a table of their own, kept by a trigger on articles (as
     * SQLite's FTS5 table is). Its rows are narrow, the vector always stored out of line
     * (toast_tuple_target), so counting the GIN index's matches reads a few heap pages and
     * a vector is read only for the matches ranked or tested; in articles, each match cost a
     * read of a wide row and its vector from TOAST. nw_fts_rank is ts_rank with the column
     * weights, costed as dear as it is (it reads the vector) so that the planner ranks only
     * the rows left after a LIMIT. */
    "CREATE TABLE article_fts ("
    "  seq BIGINT PRIMARY KEY,"
    "  fts TSVECTOR NOT NULL) WITH (toast_tuple_target = 128);"
    "ALTER TABLE article_fts ALTER COLUMN fts SET STORAGE EXTERNAL;"
    "INSERT INTO article_fts (seq, fts) SELECT seq, fts FROM articles;"
    "DROP INDEX articles_fts;"
    "ALTER TABLE articles DROP COLUMN fts;"
    "CREATE INDEX article_fts_gin ON article_fts USING gin(fts);"
    "CREATE FUNCTION nw_article_fts() RETURNS trigger LANGUAGE plpgsql AS $$"
    " BEGIN"
    "  IF TG_OP <> 'INSERT' THEN"
    "   IF TG_OP = 'UPDATE' AND NEW.seq = OLD.seq AND NEW.title IS NOT DISTINCT FROM OLD.title"
    "      AND NEW.subtitle IS NOT DISTINCT FROM OLD.subtitle"
    "      AND NEW.text IS NOT DISTINCT FROM OLD.text THEN"
    "    RETURN NULL;"
    "   END IF;"
    "   DELETE FROM article_fts WHERE seq = OLD.seq;"
    "  END IF;"
    "  IF TG_OP <> 'DELETE' THEN"
    "   INSERT INTO article_fts (seq, fts) VALUES (NEW.seq,"
    "    setweight(to_tsvector('simple', coalesce(NEW.title, '')), 'A') ||"
    "    setweight(to_tsvector('simple', coalesce(NEW.subtitle, '')), 'B') ||"
    "    setweight(to_tsvector('simple', coalesce(NEW.text, '')), 'C'));"
    "  END IF;"
    "  RETURN NULL;"
    " END $$;"
    "CREATE TRIGGER articles_fts AFTER INSERT OR UPDATE OR DELETE ON articles"
    "  FOR EACH ROW EXECUTE FUNCTION nw_article_fts();"
    "CREATE FUNCTION nw_fts_rank(v tsvector, q tsquery) RETURNS real LANGUAGE plpgsql"
    "  IMMUTABLE STRICT PARALLEL SAFE COST 1000 AS $$"
    " BEGIN RETURN ts_rank('{0, 0.1, 0.4, 1.0}', v, q); END $$;",
    /* v10: SQLite's full-text index lost its triggers (store_sqlite.c); nothing changes here
     * (the step keeps the two versions in step). */
    "SELECT 1;",
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))
_Static_assert(SCHEMA_VERSION == NW_STORE_SCHEMA_VERSION, "both backends migrate to one version");

/* Key of the advisory lock that serialises migrations ("news"). */
#define MIGRATION_LOCK "1852143475"
/* How long a reader waits for writers' transactions to end before reading (ms). */
#define SETTLE_WAIT_MS 3000

enum {
    ST_LOOKUP,
    ST_KNOWN,
    ST_LATE,
    ST_INSERT,
    ST_UPDATE,
    ST_DEAD,
    ST_GET,
    ST_SEARCH,
    ST_HAS_WORDS,
    ST_DLQ,
    ST_DLQ_GET,
    ST_DLQ_PENDING,
    ST_DLQ_STATS,
    ST_DLQ_CLAIM,
    ST_DLQ_REPLAYED,
    ST_SEQ_LAST,
    ST_RUNNING,
    ST_IN_PROGRESS,
    ST_MAXSEQ,
    ST_SEQ_AT,
    ST_SINCE,
    ST_COUNT,
    ST_FP_PRUNE,
    ST_FP_LOAD,
    ST_N
};

#define ARTICLE_COLS                                                                               \
    "rev, seq, content_hash, url, title, subtitle, published, dateline, lang, authors, "           \
    "source, fetched, stored_at, words, text, doc, story, duplicate_of, av"
#define ARTICLE_VALS                                                                               \
    "$2::integer, $3::bigint, $4::text, $5::text, $6::text, $7::text, $8::text, $9::text, "        \
    "$10::text, $11::text, $12::text, $13::text, $14::text, $15::bigint, $16::text, $17::bytea, "  \
    "$18::text, $19::text, $27::bigint"
/* After the articles row (CTE a, empty when nothing was written), its revision and, when $20
 * (time) is not NULL, its fingerprint: one round trip per stored revision. */
#define REVISION_FP_FROM_A                                                                         \
    ", r AS (INSERT INTO revisions (id, rev, seq, content_hash, stored_at, doc, av)"               \
    "  SELECT id, $2::integer, $3::bigint, $4::text, $14::text, $17::bytea, $27::bigint FROM a),"  \
    " f AS (INSERT INTO fingerprints (seq, id, time, story, simhash, minhash, terms, grams,"       \
    "  anchors, lang) SELECT $3::bigint, id, $20::bigint, $18::text, $21::bigint, $22::bytea,"     \
    "  $23::bytea, $24::bytea, $25::bytea, $26::text FROM a WHERE $20::bigint IS NOT NULL)"        \
    " SELECT count(*) FROM a"
#define DEAD_COLS                                                                                  \
    "id, time, stage, reason, detail, article_id, source, content_type, origin, spool, bytes, "    \
    "replayed_at, replay_status, replay_id, replay_detail"
/* Snippet: the text's best window when the text matches (the title is shown anyway), else the
 * title or subtitle, with ellipses where the column was cut, as FTS5's snippet() has them. */
#define HEADLINE                                                                                   \
    "ts_headline('simple', src, q, 'StartSel=[, StopSel=], MaxWords=14, MinWords=6, "              \
    "ShortWord=0, MaxFragments=1')"

static const char *const stmt_sql[ST_N] = {
    /* The current row, locked (no row: nothing to lock; a concurrent insert is caught by
     * ON CONFLICT and the put starts over). */
    [ST_LOOKUP] = "SELECT rev, seq, content_hash, story, duplicate_of, av FROM articles"
                  " WHERE id = $1::text FOR UPDATE",
    /* Then, in a statement of its own so that its snapshot is taken after the lock was granted
     * (READ COMMITTED: a statement's snapshot is taken when it starts, and the revisions another
     * writer committed while we waited for the lock would be invisible to the same statement),
     * the id's history and, when $3 and a new revision will be stored, its seq: CASE
     * evaluates nextval only then. */
    [ST_KNOWN] = "SELECT coalesce(max(rev), 0),"
                 "  coalesce(max(CASE WHEN content_hash = $2::text THEN rev END), 0),"
                 "  CASE WHEN $3::boolean AND NOT (bool_or(content_hash = $2::text) IS TRUE)"
                 "  THEN nextval('publication_seq') END"
                 " FROM revisions WHERE id = $1::text",
    [ST_LATE] = "INSERT INTO revisions (id, rev, seq, content_hash, stored_at, doc, av, late)"
                " VALUES ($1::text, $2::integer, $3::bigint, $4::text, $5::text, $6::bytea,"
                " $7::bigint, 1)",
    /* Nothing inserted (another writer has the id): no revision either, and 0 rows. */
    [ST_INSERT] =
        "WITH a AS (INSERT INTO articles (id, " ARTICLE_COLS ") VALUES ($1::text, " ARTICLE_VALS
        ") ON CONFLICT (id) DO NOTHING RETURNING id)" REVISION_FP_FROM_A,
    [ST_UPDATE] = "WITH a AS (UPDATE articles SET (" ARTICLE_COLS ") = (" ARTICLE_VALS
                  ") WHERE id = $1::text RETURNING id)" REVISION_FP_FROM_A,
    [ST_DEAD] = "INSERT INTO dead_letters (time, stage, reason, detail, article_id, source,"
                " content_type, origin, spool, bytes, item_key) VALUES ($1::text, $2::text,"
                " $3::text, $4::text, $5::text, $6::text, $7::text, $8::text, $9::bigint,"
                " $10::bytea, $11::text) ON CONFLICT DO NOTHING",
    [ST_GET] = "SELECT doc FROM articles WHERE id = $1::text",
    /* Rank: ts_rank with the weights {D, C, B, A} = {-, text, subtitle, title} in the ratio
     * 1:4:10 of the SQLite bm25 weights; negated so that lower is better, as bm25 is. */
    [ST_SEARCH] = "WITH q AS (SELECT websearch_to_tsquery('simple', $1::text) AS q),"
                  " h AS (SELECT a.id, a.seq, a.title, a.published, a.lang, a.url, q.q,"
                  "   CASE WHEN to_tsvector('simple', coalesce(a.text, '')) @@ q.q THEN a.text"
                  "        WHEN to_tsvector('simple', coalesce(a.title, '')) @@ q.q THEN a.title"
                  "        ELSE coalesce(a.subtitle, '') END AS src,"
                  "   -ts_rank('{0, 0.1, 0.4, 1.0}', f.fts, q.q) AS score"
                  "   FROM article_fts f CROSS JOIN q JOIN articles a ON a.seq = f.seq"
                  "   WHERE f.fts @@ q.q ORDER BY score, a.seq LIMIT $2::bigint),"
                  " s AS (SELECT h.*, " HEADLINE " AS hl FROM h),"
                  " p AS (SELECT s.*, replace(replace(hl, '[', ''), ']', '') AS plain FROM s)"
                  " SELECT id, title, published, lang, url,"
                  "   CASE WHEN length(plain) >= length(src) THEN hl"
                  "        WHEN starts_with(src, plain) THEN hl || '\xe2\x80\xa6'"
                  "        WHEN right(src, length(plain)) = plain THEN '\xe2\x80\xa6' || hl"
                  "        ELSE '\xe2\x80\xa6' || hl || '\xe2\x80\xa6' END,"
                  "   score::float8 FROM p ORDER BY score, seq",
    [ST_HAS_WORDS] = "SELECT numnode(websearch_to_tsquery('simple', $1::text))",
    [ST_DLQ] = "SELECT " DEAD_COLS " FROM dead_letters ORDER BY id DESC LIMIT $1::bigint",
    [ST_DLQ_GET] = "SELECT " DEAD_COLS " FROM dead_letters WHERE id = $1::bigint",
    [ST_DLQ_PENDING] = "SELECT " DEAD_COLS " FROM dead_letters WHERE replayed_at IS NULL"
                       " AND ($1::text IS NULL OR reason = $1::text) ORDER BY id",
    [ST_DLQ_STATS] = "SELECT stage, reason, count(*), count(replayed_at) FROM dead_letters"
                     " GROUP BY stage, reason ORDER BY count(*) DESC, stage, reason",
    [ST_DLQ_CLAIM] = "UPDATE dead_letters SET replayed_at = $2::text,"
                     " replay_status = 'replaying', replay_id = NULL, replay_detail = NULL"
                     " WHERE id = $1::bigint AND ($3::boolean OR replayed_at IS NULL)",
    [ST_DLQ_REPLAYED] = "UPDATE dead_letters SET replayed_at = $2::text, replay_status = $3::text,"
                        " replay_id = $4::text, replay_detail = $5::text WHERE id = $1::bigint",
    [ST_SEQ_LAST] = "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM publication_seq",
    /* Every transaction with an id holds the lock on that id until it has ended and new
     * snapshots see it so (the lock goes after the transaction leaves the running list;
     * pg_current_snapshot() would miss a running id above its xmax, and pg_xact_status says
     * "committed" a moment before new snapshots see the rows). */
    [ST_RUNNING] = "SELECT coalesce(array_agg(transactionid)::text, '{}') FROM pg_locks"
                   " WHERE locktype = 'transactionid' AND mode = 'ExclusiveLock' AND granted",
    [ST_IN_PROGRESS] = "SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid'"
                       " AND mode = 'ExclusiveLock' AND granted"
                       " AND transactionid = ANY($1::text::xid[])",
    [ST_MAXSEQ] = "SELECT coalesce(max(seq), 0) FROM revisions WHERE seq <= $1::bigint",
    /* Late revisions were never published: backfill replays what subscribers saw live. */
    [ST_SEQ_AT] = "SELECT min(seq) FROM revisions WHERE stored_at >= $1::text AND late = 0",
    [ST_SINCE] = "SELECT seq, doc FROM revisions WHERE seq > $1::bigint AND seq <= $2::bigint"
                 " AND late = 0 ORDER BY seq LIMIT $3::bigint",
    [ST_COUNT] = "SELECT count(*) FROM articles",
    /* Another writer pruning the same rows holds their locks: leave those to it. */
    [ST_FP_PRUNE] = "DELETE FROM fingerprints WHERE seq IN (SELECT seq FROM fingerprints"
                    " WHERE seq <= $1::bigint FOR UPDATE SKIP LOCKED)",
    [ST_FP_LOAD] = "SELECT seq, id, time, story, simhash, minhash, terms, grams, anchors, lang"
                   " FROM fingerprints WHERE seq > $1::bigint ORDER BY seq DESC LIMIT $2::bigint",
};

typedef struct pg {
    PGconn *conn;
    int readonly, in_tx;
    uint32_t prepared; /* bit per statement prepared on this connection */
    int64_t budget_ms; /* statement_timeout of the session; 0: the server's default */
    int last_err;      /* what pg_error returned last (-ETIMEDOUT or -EIO) */
    int no_seqscan;    /* enable_seqscan is off in the session (search_planning) */
} pg_t;
_Static_assert(ST_N <= 32, "prepared is a 32-bit mask");

/* Parameters of one statement: text, or binary for bytea; NULL for SQL NULL. */
#define MAX_PARAMS 32
typedef struct params {
    int n;
    const char *val[MAX_PARAMS];
    int len[MAX_PARAMS], fmt[MAX_PARAMS];
    char num[MAX_PARAMS][24];
} params_t;

static void
p_text(params_t *p, const char *v)
{
    p->val[p->n] = v;
    p->len[p->n] = 0;
    p->fmt[p->n++] = 0;
}

static void
p_int(params_t *p, int64_t v)
{
    snprintf(p->num[p->n], sizeof(p->num[0]), "%lld", (long long)v);
    p_text(p, p->num[p->n]);
}

/* A limit: NULL (no limit) for limit <= 0. */
static void
p_limit(params_t *p, int64_t limit)
{
    if (limit > 0)
        p_int(p, limit);
    else
        p_text(p, NULL);
}

static void
p_blob(params_t *p, const void *v, size_t len)
{
    p->val[p->n] = v ? v : (len ? NULL : "");
    p->len[p->n] = (int)len;
    p->fmt[p->n++] = 1;
}

/* Column readers for binary results. */
static const char *
col_text(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

static int64_t
col_int(const PGresult *r, int row, int col)
{
    const unsigned char *v = (const unsigned char *)PQgetvalue(r, row, col);
    uint64_t x = 0;
    int n = PQgetlength(r, row, col);
    if (PQgetisnull(r, row, col) || (n != 2 && n != 4 && n != 8))
        return 0;
    for (int i = 0; i < n; i++)
        x = x << 8 | v[i];
    if (n == 4)
        return (int32_t)(uint32_t)x;
    if (n == 2)
        return (int16_t)(uint16_t)x;
    return (int64_t)x;
}

static double
col_double(const PGresult *r, int row, int col)
{
    double d = 0;
    if (!PQgetisnull(r, row, col) && PQgetlength(r, row, col) == 8) {
        uint64_t x = (uint64_t)col_int(r, row, col);
        memcpy(&d, &x, sizeof(d));
    }
    return d;
}

static const void *
col_blob(const PGresult *r, int row, int col, size_t *len)
{
    *len = PQgetisnull(r, row, col) ? 0 : (size_t)PQgetlength(r, row, col);
    return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

/* Server notices (e.g. "text-search query contains only stop words") go to the debug log,
 * not to the caller's stderr. */
static void
on_notice(void *arg, const char *msg)
{
    (void)arg;
    NW_DEBUG(NULL, "store: postgresql notice: %.*s", (int)strcspn(msg, "\n"), msg);
}

static int
pg_error(pg_t *p, const PGresult *r, const char *what)
{
    const char *msg = r ? PQresultErrorMessage(r) : "";
    if (!msg || !msg[0])
        msg = PQerrorMessage(p->conn);
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (state && strcmp(state, "57014") == 0) { /* query_canceled: statement_timeout */
        NW_WARN(NULL, "store: %s cut after its budget of %lld ms", what, (long long)p->budget_ms);
        return p->last_err = -ETIMEDOUT;
    }
    NW_ERROR(NULL, "store: %s failed: %.*s", what, (int)strcspn(msg, "\n"), msg);
    return p->last_err = -EIO;
}

static int
apply_budget(pg_t *p)
{
    char sql[64];
    snprintf(sql, sizeof sql, "SET statement_timeout = %lld", (long long)p->budget_ms);
    PGresult *r = PQexec(p->conn, sql);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : pg_error(p, r, "statement_timeout");
    PQclear(r);
    return rc;
}

/* Session settings, on every (re)connection. A writer keeps synchronous_commit on whatever
 * the server's default (acks follow commits, so a commit must be durable) and waits at most
 * lock_timeout for another writer's row lock (its event loop is blocked meanwhile). */
static int
session_setup(pg_t *p)
{
    const char *sql =
        p->readonly ? "SET default_transaction_read_only = on"
                    : "SET synchronous_commit = on; SET lock_timeout = '2s'; SET TIME ZONE 'UTC'";
    PGresult *r = PQexec(p->conn, sql);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : pg_error(p, r, "session setup");
    PQclear(r);
    p->prepared = 0;
    p->no_seqscan = 0;
    if (rc == 0 && p->budget_ms)
        rc = apply_budget(p); /* again after a reconnection */
    return rc;
}

/* A connection lost outside a transaction is opened again (inside one, the transaction is
 * gone anyway: the statement fails and the caller rolls back). Returns 0 or -EIO. */
static int
ensure_connected(pg_t *p)
{
    if (PQstatus(p->conn) == CONNECTION_OK)
        return 0;
    if (p->in_tx)
        return -EIO;
    PQreset(p->conn);
    if (PQstatus(p->conn) != CONNECTION_OK) {
        NW_ERROR(NULL, "store: cannot reconnect to postgresql: %.*s",
                 (int)strcspn(PQerrorMessage(p->conn), "\n"), PQerrorMessage(p->conn));
        return -EIO;
    }
    NW_INFO(NULL, "store: reconnected to postgresql");
    return session_setup(p);
}

/* Run a cached statement (prepared on first use on this connection) with binary results.
 * Returns the result (caller clears it) when its status is PGRES_TUPLES_OK or
 * PGRES_COMMAND_OK, else NULL after logging. */
static PGresult *
run(pg_t *p, int which, const params_t *pa, const char *what)
{
    PGresult *r;
    char name[16];
    if (ensure_connected(p) < 0)
        return NULL;
    snprintf(name, sizeof(name), "nw%d", which);
    if (!(p->prepared & (1u << which))) {
        r = PQprepare(p->conn, name, stmt_sql[which], 0, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            pg_error(p, r, what);
            PQclear(r);
            return NULL;
        }
        PQclear(r);
        p->prepared |= 1u << which;
    }
    r = PQexecPrepared(p->conn, name, pa ? pa->n : 0, pa ? pa->val : NULL, pa ? pa->len : NULL,
                       pa ? pa->fmt : NULL, 1);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        pg_error(p, r, what);
        PQclear(r);
        return NULL;
    }
    return r;
}

/* Run a statement returning one integer (0 for NULL) in *out. */
static int
run_int(pg_t *p, int which, const params_t *pa, const char *what, int64_t *out)
{
    PGresult *r = run(p, which, pa, what);
    if (!r)
        return -EIO;
    int rc = PQntuples(r) == 1 ? 0 : -EIO;
    if (rc == 0)
        *out = col_int(r, 0, 0);
    else
        NW_ERROR(NULL, "store: %s returned no row", what);
    PQclear(r);
    return rc;
}

/* Run a statement returning nothing, giving the rows it changed. */
static int
run_changes(pg_t *p, int which, const params_t *pa, const char *what)
{
    PGresult *r = run(p, which, pa, what);
    if (!r)
        return -EIO;
    int n = atoi(PQcmdTuples(r));
    PQclear(r);
    return n;
}

static int
exec_sql(pg_t *p, const char *sql, const char *what)
{
    PGresult *r = PQexec(p->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : pg_error(p, r, what);
    PQclear(r);
    return rc;
}

/* The schema version: the highest migration recorded, 0 without the table. */
static int
read_version(pg_t *p, int64_t *version)
{
    PGresult *r = PQexec(p->conn, "SELECT to_regclass('schema_migrations') IS NOT NULL");
    int rc = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1
                 ? 0
                 : pg_error(p, r, "read schema version");
    int exists = rc == 0 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    *version = 0;
    if (rc < 0 || !exists)
        return rc;
    r = PQexec(p->conn, "SELECT coalesce(max(version), 0) FROM schema_migrations");
    rc = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1
             ? 0
             : pg_error(p, r, "read schema version");
    if (rc == 0)
        *version = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    return rc;
}

/* Apply pending migrations in one transaction, under an advisory lock so that two stores
 * starting on a fresh database do not both migrate. */
static int
migrate(pg_t *p, char *err, size_t errlen)
{
    int64_t version = 0;
    int rc = exec_sql(p,
                      "BEGIN; SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ");"
                      " CREATE TABLE IF NOT EXISTS schema_migrations ("
                      "   version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
                      "begin migration");
    if (rc == 0)
        rc = read_version(p, &version);
    if (rc < 0)
        goto err;
    if (version > SCHEMA_VERSION) {
        snprintf(err, errlen, "schema version %lld is newer than this program knows (%d)",
                 (long long)version, SCHEMA_VERSION);
        rc = -EPROTO;
        goto err;
    }
    for (int64_t v = version; v < SCHEMA_VERSION; v++) {
        char what[64], sql[160], now[32];
        snprintf(what, sizeof(what), "migration to schema version %lld", (long long)v + 1);
        nw_time_iso(nw_now_ms(), now, sizeof(now));
        snprintf(sql, sizeof(sql), "INSERT INTO schema_migrations VALUES (%lld, '%s')",
                 (long long)v + 1, now);
        if ((rc = exec_sql(p, migrations[v], what)) < 0 || (rc = exec_sql(p, sql, what)) < 0)
            goto err;
    }
    if ((rc = exec_sql(p, "COMMIT", "commit migration")) < 0)
        goto err;
    if (version < SCHEMA_VERSION)
        NW_INFO(NULL, "store: schema migrated from version %lld to %d", (long long)version,
                SCHEMA_VERSION);
    return 0;

err:
    /* Everything or nothing: DDL is transactional in PostgreSQL. */
    if (PQtransactionStatus(p->conn) != PQTRANS_IDLE)
        exec_sql(p, "ROLLBACK", "roll back migration");
    if (err[0] == '\0')
        snprintf(err, errlen, "migration failed: %.*s", (int)strcspn(PQerrorMessage(p->conn), "\n"),
                 PQerrorMessage(p->conn));
    return rc;
}

static int
pq_open(nw_store_t *h, const char *target, char *err, size_t errlen)
{
    int64_t version = 0;
    pg_t *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    h->be = p;
    p->readonly = h->readonly;
    /* expand_dbname: target is a URI or conninfo; its own settings override these defaults.
     * Connecting blocks the caller's event loop (at open, and again at the next batch after a
     * lost connection), so it gives up before a stage heartbeat's liveness (3 s) runs out:
     * the batch fails and is retried from a timer while heartbeats keep flowing. */
    const char *const keys[] = {"connect_timeout", "fallback_application_name", "dbname", NULL};
    const char *const vals[] = {"2", "newswire", target, NULL};
    p->conn = PQconnectdbParams(keys, vals, 1);
    if (!p->conn) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    if (PQstatus(p->conn) != CONNECTION_OK) {
        snprintf(err, errlen, "cannot connect to postgresql: %.*s",
                 (int)strcspn(PQerrorMessage(p->conn), "\n"), PQerrorMessage(p->conn));
        return -EIO;
    }
    PQsetNoticeProcessor(p->conn, on_notice, NULL);
    if (PQserverVersion(p->conn) < 130000) {
        snprintf(err, errlen, "postgresql %d is too old: 13 or later is needed",
                 PQserverVersion(p->conn) / 10000);
        return -EPROTO;
    }
    if (session_setup(p) < 0) {
        snprintf(err, errlen, "cannot configure the postgresql session");
        return -EIO;
    }
    if (!h->readonly && migrate(p, err, errlen) < 0)
        return -EIO;
    if (read_version(p, &version) < 0) {
        snprintf(err, errlen, "cannot read the schema version");
        return -EIO;
    }
    if (version < 1 || version > SCHEMA_VERSION) {
        snprintf(err, errlen,
                 "database \"%s\" is not a newswire database this program reads (schema version "
                 "%lld)",
                 PQdb(p->conn), (long long)version);
        return -EPROTO;
    }
    h->version = (int)version;
    NW_DEBUG(NULL, "store: postgresql database \"%s\" on \"%s\" port %s, schema version %d",
             PQdb(p->conn), PQhost(p->conn), PQport(p->conn), h->version);
    return 0;
}

static void
pq_close(nw_store_t *h)
{
    pg_t *p = h->be;
    if (!p)
        return;
    if (p->conn && p->in_tx && PQstatus(p->conn) == CONNECTION_OK)
        exec_sql(p, "ROLLBACK", "rollback");
    PQfinish(p->conn);
    free(p);
    h->be = NULL;
}

static int
pq_schema_version(nw_store_t *h)
{
    int64_t v = 0;
    pg_t *p = h->be;
    if (ensure_connected(p) < 0 || read_version(p, &v) < 0)
        return -EIO;
    return (int)v;
}

static int
pq_begin(nw_store_t *h)
{
    pg_t *p = h->be;
    if (ensure_connected(p) < 0)
        return -EIO;
    /* The transaction id first: readers wait for every transaction that may hold a seq. */
    if (exec_sql(p, "BEGIN; SELECT pg_current_xact_id()", "begin") < 0) {
        if (PQtransactionStatus(p->conn) != PQTRANS_IDLE)
            exec_sql(p, "ROLLBACK", "rollback");
        return -EIO;
    }
    p->in_tx = 1;
    return 0;
}

static int
pq_commit(nw_store_t *h)
{
    pg_t *p = h->be;
    /* COMMIT of a failed transaction "succeeds" as a rollback: check what happened. */
    PGresult *r = PQexec(p->conn, "COMMIT");
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK && strcmp(PQcmdStatus(r), "COMMIT") == 0
                 ? 0
                 : pg_error(p, r, "commit");
    PQclear(r);
    if (rc == 0 || PQtransactionStatus(p->conn) == PQTRANS_IDLE)
        p->in_tx = 0;
    return rc;
}

static int
pq_rollback(nw_store_t *h)
{
    pg_t *p = h->be;
    int rc = 0;
    p->in_tx = 0;
    /* A lost connection took the transaction with it. */
    if (PQstatus(p->conn) == CONNECTION_OK && PQtransactionStatus(p->conn) != PQTRANS_IDLE)
        rc = exec_sql(p, "ROLLBACK", "rollback");
    return rc;
}

static int
pq_lookup(nw_store_t *h, const char *id, const char *hash, int want_seq, store_cur_t *cur)
{
    params_t pa = {0};
    p_text(&pa, id);
    PGresult *r = run(h->be, ST_LOOKUP, &pa, "look up article");
    if (!r)
        return -EIO;
    int rc = PQntuples(r) == 1 ? 0 : -ENOENT;
    if (rc == 0) {
        cur->rev = (uint32_t)col_int(r, 0, 0);
        cur->seq = (uint64_t)col_int(r, 0, 1);
        snprintf(cur->hash, sizeof(cur->hash), "%s", col_text(r, 0, 2) ? col_text(r, 0, 2) : "");
        cur->story = col_text(r, 0, 3) ? strdup(col_text(r, 0, 3)) : NULL;
        cur->duplicate_of = col_text(r, 0, 4) ? strdup(col_text(r, 0, 4)) : NULL;
        cur->av = (uint64_t)col_int(r, 0, 5);
    }
    PQclear(r);

    params_t pk = {0};
    p_text(&pk, id);
    p_text(&pk, hash);
    p_text(&pk, want_seq ? "true" : "false");
    if (!(r = run(h->be, ST_KNOWN, &pk, "look up revisions")))
        return -EIO; /* cur's strings are the caller's to free */
    if (PQntuples(r) == 1) {
        cur->max_rev = (uint32_t)col_int(r, 0, 0);
        cur->known_rev = (uint32_t)col_int(r, 0, 1);
        cur->next_seq = (uint64_t)col_int(r, 0, 2);
    }
    PQclear(r);
    if (cur->max_rev < cur->rev)
        cur->max_rev = cur->rev;
    return rc;
}

static int
pq_write(nw_store_t *h, const store_row_t *w, const store_fp_row_t *fp, int exists)
{
    params_t pa = {0};
    int64_t n = 0;
    if (w->late) {
        p_text(&pa, w->id);
        p_int(&pa, w->rev);
        p_int(&pa, (int64_t)w->seq);
        p_text(&pa, w->hash);
        p_text(&pa, w->stored_at);
        p_blob(&pa, w->doc, w->doc_len);
        p_int(&pa, (int64_t)w->av);
        return run_changes(h->be, ST_LATE, &pa, "insert late revision") == 1 ? 0 : -EIO;
    }
    p_text(&pa, w->id);
    p_int(&pa, w->rev);
    p_int(&pa, (int64_t)w->seq);
    p_text(&pa, w->hash);
    p_text(&pa, w->url);
    p_text(&pa, w->title);
    p_text(&pa, w->subtitle);
    p_text(&pa, w->published);
    p_text(&pa, w->dateline);
    p_text(&pa, w->lang);
    p_text(&pa, w->authors);
    p_text(&pa, w->source);
    p_text(&pa, w->fetched);
    p_text(&pa, w->stored_at);
    p_int(&pa, w->words);
    p_text(&pa, w->text);
    p_blob(&pa, w->doc, w->doc_len);
    p_text(&pa, w->story);
    p_text(&pa, w->duplicate_of);
    if (fp) { /* its seq, id and story are the row's */
        p_int(&pa, fp->time);
        p_int(&pa, (int64_t)fp->simhash);
        const void *blob[4] = {fp->minhash, fp->terms, fp->grams, fp->anchors};
        const size_t blob_len[4] = {fp->minhash_len, fp->terms_len, fp->grams_len, fp->anchors_len};
        for (int i = 0; i < 4; i++) {
            if (blob[i])
                p_blob(&pa, blob[i], blob_len[i]);
            else
                p_text(&pa, NULL);
        }
        p_text(&pa, fp->lang);
    } else {
        for (int i = 0; i < 7; i++)
            p_text(&pa, NULL);
    }
    p_int(&pa, (int64_t)w->av); /* $27 */
    int rc = run_int(h->be, exists ? ST_UPDATE : ST_INSERT, &pa,
                     exists ? "update article" : "insert article", &n);
    if (rc < 0)
        return rc;
    if (n == 0 && !exists)
        return -EEXIST;
    if (n != 1) {
        NW_ERROR(w->id, "store: article row locked for update is gone");
        return -EIO;
    }
    return 0;
}

static int
pq_fp_prune(nw_store_t *h, uint64_t upto)
{
    params_t pa = {0};
    p_int(&pa, (int64_t)upto);
    int n = run_changes(h->be, ST_FP_PRUNE, &pa, "prune fingerprints");
    return n < 0 ? n : 0;
}

static int
pq_fp_load(nw_store_t *h, uint64_t after, int limit, store_fp_cb cb, void *arg)
{
    params_t pa = {0};
    p_int(&pa, (int64_t)after);
    p_int(&pa, limit);
    PGresult *r = run(h->be, ST_FP_LOAD, &pa, "load fingerprints");
    if (!r)
        return -EIO;
    int n = PQntuples(r), rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        store_fp_row_t f = {
            .seq = (uint64_t)col_int(r, i, 0),
            .id = col_text(r, i, 1),
            .time = col_int(r, i, 2),
            .story = col_text(r, i, 3),
            .simhash = (uint64_t)col_int(r, i, 4),
        };
        f.minhash = col_blob(r, i, 5, &f.minhash_len);
        f.terms = col_blob(r, i, 6, &f.terms_len);
        f.grams = col_blob(r, i, 7, &f.grams_len);
        f.anchors = col_blob(r, i, 8, &f.anchors_len);
        f.lang = col_text(r, i, 9);
        rc = cb(&f, arg);
    }
    PQclear(r);
    return rc < 0 ? rc : n;
}

static int
pq_put_dead(nw_store_t *h, const nw_dead_t *d, const char *time, const char *key)
{
    params_t pa = {0};
    p_text(&pa, time);
    p_text(&pa, d->stage ? d->stage : "unknown");
    p_text(&pa, d->reason ? d->reason : "unknown");
    p_text(&pa, d->detail);
    p_text(&pa, d->id);
    p_text(&pa, d->source);
    p_text(&pa, d->content_type);
    p_text(&pa, d->origin);
    if (d->spool)
        p_int(&pa, (int64_t)d->spool);
    else
        p_text(&pa, NULL);
    p_blob(&pa, d->bytes, d->bytes_len);
    p_text(&pa, key);
    int n = run_changes(h->be, ST_DEAD, &pa, "insert dead letter");
    return n < 0 ? n : 0;
}

static int
pq_set_budget(nw_store_t *h, int64_t ms)
{
    pg_t *p = h->be;
    p->budget_ms = ms;
    return ensure_connected(p) < 0 ? -EIO : apply_budget(p);
}

/* The query is read by websearch_to_tsquery, which accepts anything: words, "quoted
 * phrases", OR and -word. Without a single word in it, -EINVAL as for SQLite. */
static int
pq_search(nw_store_t *h, const char *query, int limit, nw_store_hit_cb cb, void *arg)
{
    params_t pa = {0};
    p_text(&pa, query);
    p_limit(&pa, limit);
    pg_t *p = h->be;
    p->last_err = 0;
    PGresult *r = run(p, ST_SEARCH, &pa, "search");
    if (!r)
        return p->last_err ? p->last_err : -EIO;
    int n = PQntuples(r), i;
    for (i = 0; i < n; i++) {
        nw_store_hit_t hit = {
            .id = col_text(r, i, 0),
            .title = col_text(r, i, 1),
            .published = col_text(r, i, 2),
            .lang = col_text(r, i, 3),
            .url = col_text(r, i, 4),
            .snippet = col_text(r, i, 5),
            .rank = col_double(r, i, 6),
        };
        if (cb && cb(&hit, arg) != 0) {
            i++;
            break;
        }
    }
    PQclear(r);
    if (n == 0) {
        int64_t words = 0;
        params_t q = {0};
        p_text(&q, query);
        if (run_int(h->be, ST_HAS_WORDS, &q, "search", &words) < 0)
            return -EIO;
        if (!words)
            return -EINVAL;
    }
    return i;
}

static int
pq_get(nw_store_t *h, const char *id, uint8_t **buf, size_t *len)
{
    params_t pa = {0};
    p_text(&pa, id);
    PGresult *r = run(h->be, ST_GET, &pa, "get article");
    if (!r)
        return -EIO;
    int rc = -ENOENT;
    if (PQntuples(r) > 0) {
        size_t n;
        const void *v = col_blob(r, 0, 0, &n);
        *buf = malloc(n ? n : 1);
        rc = *buf ? 0 : -ENOMEM;
        if (*buf) {
            if (n)
                memcpy(*buf, v, n);
            *len = n;
        }
    }
    PQclear(r);
    return rc;
}

static int
pq_dlq(nw_store_t *h, int kind, int64_t n, const char *reason, nw_store_dead_cb cb, void *arg)
{
    params_t pa = {0};
    int which = kind == STORE_DLQ_LIST  ? ST_DLQ
                : kind == STORE_DLQ_GET ? ST_DLQ_GET
                                        : ST_DLQ_PENDING;
    if (kind == STORE_DLQ_LIST)
        p_limit(&pa, n);
    else if (kind == STORE_DLQ_GET)
        p_int(&pa, n);
    else
        p_text(&pa, reason);
    PGresult *r = run(h->be, which, &pa, "read dead letters");
    if (!r)
        return -EIO;
    int rows = PQntuples(r), i;
    for (i = 0; i < rows; i++) {
        nw_store_dead_row_t row = {
            .rowid = col_int(r, i, 0),
            .time = col_text(r, i, 1),
            .stage = col_text(r, i, 2),
            .reason = col_text(r, i, 3),
            .detail = col_text(r, i, 4),
            .id = col_text(r, i, 5),
            .source = col_text(r, i, 6),
            .content_type = col_text(r, i, 7),
            .origin = col_text(r, i, 8),
            .spool = (uint64_t)col_int(r, i, 9),
            .replayed_at = col_text(r, i, 11),
            .replay_status = col_text(r, i, 12),
            .replay_id = col_text(r, i, 13),
            .replay_detail = col_text(r, i, 14),
        };
        row.bytes = col_blob(r, i, 10, &row.bytes_len);
        if (!row.bytes)
            row.bytes = (const uint8_t *)"";
        if (cb && cb(&row, arg) != 0) {
            i++;
            break;
        }
    }
    PQclear(r);
    return i;
}

static int
pq_dlq_stats(nw_store_t *h, nw_store_dlq_stat_cb cb, void *arg)
{
    PGresult *r = run(h->be, ST_DLQ_STATS, NULL, "count dead letters");
    if (!r)
        return -EIO;
    int rows = PQntuples(r), i;
    for (i = 0; i < rows; i++) {
        nw_store_dlq_stat_t row = {
            .stage = col_text(r, i, 0),
            .reason = col_text(r, i, 1),
            .count = col_int(r, i, 2),
            .replayed = col_int(r, i, 3),
        };
        if (cb && cb(&row, arg) != 0) {
            i++;
            break;
        }
    }
    PQclear(r);
    return i;
}

static int
pq_dlq_claim(nw_store_t *h, int64_t rowid, int force, const char *now)
{
    params_t pa = {0};
    p_int(&pa, rowid);
    p_text(&pa, now);
    p_text(&pa, force ? "true" : "false");
    return run_changes(h->be, ST_DLQ_CLAIM, &pa, "claim dead letter");
}

static int
pq_dlq_replayed(nw_store_t *h, int64_t rowid, const char *now, const char *status,
                const char *new_id, const char *detail)
{
    params_t pa = {0};
    p_int(&pa, rowid);
    p_text(&pa, now);
    p_text(&pa, status);
    p_text(&pa, new_id);
    p_text(&pa, detail);
    return run_changes(h->be, ST_DLQ_REPLAYED, &pa, "record replay");
}

/* The settled horizon (see the top of the file) in *seq. */
static int
settled(pg_t *p, uint64_t *seq)
{
    int64_t last = 0, busy = 1;
    params_t pa = {0};
    PGresult *r;
    int rc = run_int(p, ST_SEQ_LAST, NULL, "read sequence", &last);
    if (rc < 0)
        return rc;
    if (!(r = run(p, ST_RUNNING, NULL, "list running transactions")))
        return -EIO;
    /* No fixed size: the list has every transaction in progress. */
    char *running = strdup(PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "{}");
    PQclear(r);
    if (!running)
        return -ENOMEM;
    p_text(&pa, running);
    for (int waited = 0, step = 1; strcmp(running, "{}") != 0;
         waited += step, step = step < 32 ? step * 2 : step) {
        if ((rc = run_int(p, ST_IN_PROGRESS, &pa, "wait for writers", &busy)) < 0)
            break;
        if (busy == 0)
            break;
        if (waited >= SETTLE_WAIT_MS) {
            /* A transaction open this long is not a store batch (another program writing to
             * the database, which should be newswire's own); reading on may skip a seq a store
             * commits later, which only a reader resuming from a seq would notice. */
            NW_WARN(NULL, "store: %lld transactions still open after %d ms; reading on",
                    (long long)busy, SETTLE_WAIT_MS);
            break;
        }
        struct timespec ts = {0, step * 1000000L};
        nanosleep(&ts, NULL);
    }
    free(running);
    *seq = (uint64_t)last;
    return rc;
}

static int
pq_since(nw_store_t *h, uint64_t after, int limit, nw_store_doc_cb cb, void *arg)
{
    uint64_t upto = 0;
    params_t pa = {0};
    int rc = settled(h->be, &upto);
    if (rc < 0)
        return rc;
    p_int(&pa, (int64_t)after);
    p_int(&pa, (int64_t)upto);
    p_limit(&pa, limit);
    PGresult *r = run(h->be, ST_SINCE, &pa, "read since");
    if (!r)
        return -EIO;
    int rows = PQntuples(r), i;
    for (i = 0; i < rows; i++) {
        size_t len;
        const void *doc = col_blob(r, i, 1, &len);
        if (cb && cb((uint64_t)col_int(r, i, 0), doc ? doc : "", len, arg) != 0) {
            i++;
            break;
        }
    }
    PQclear(r);
    return i;
}

static int
pq_max_seq(nw_store_t *h, uint64_t *seq)
{
    uint64_t upto = 0;
    int64_t v = 0;
    params_t pa = {0};
    int rc = settled(h->be, &upto);
    if (rc < 0)
        return rc;
    p_int(&pa, (int64_t)upto);
    rc = run_int(h->be, ST_MAXSEQ, &pa, "read sequence", &v);
    *seq = (uint64_t)v;
    return rc;
}

static int
pq_seq_at(nw_store_t *h, const char *time, uint64_t *first)
{
    int64_t v = 0;
    params_t pa = {0};
    p_text(&pa, time);
    int rc = run_int(h->be, ST_SEQ_AT, &pa, "find sequence by time", &v);
    *first = (uint64_t)v;
    return rc;
}

static int64_t
pq_count(nw_store_t *h)
{
    int64_t n = 0;
    return run_int(h->be, ST_COUNT, NULL, "count articles", &n) < 0 ? -EIO : n;
}

/* PostgreSQL's planner does not count reading a vector from TOAST: for a common word it takes a
 * scan of article_fts that tests every row's vector (1.4 s with 100,000 articles) for cheaper
 * than the GIN index's matches, which read none. A statement that matches words (it names
 * article_fts) is planned with sequential scans off (where there is no other way, it still gets
 * one); the others with them on, as some of them want. The setting changes only when the kind
 * of statement does, so a search costs two more round trips, not one per statement. */
static int
search_planning(pg_t *p, const char *sql)
{
    int want = strstr(sql, "article_fts") != NULL;
    if (want == p->no_seqscan)
        return 0;
    int rc = exec_sql(p, want ? "SET enable_seqscan = off" : "RESET enable_seqscan", "planning");
    if (rc == 0)
        p->no_seqscan = want;
    return rc;
}

/* store_query.c's SQL with its ? placeholders numbered $1, $2, ... (it has no ? in literals). */
static char *
number_params(const char *sql)
{
    nw_buf_t out = {0};
    int n = 0, rc = 0;
    for (const char *p = sql; *p && rc == 0; p++)
        rc = *p == '?' ? nw_buf_printf(&out, "$%d", ++n) : nw_buf_append(&out, p, 1);
    if (rc < 0) {
        nw_buf_release(&out);
        return NULL;
    }
    return (char *)nw_buf_steal(&out, NULL);
}

#define BYTEA_OID 17

static int
pq_select(nw_store_t *h, const char *sql, const char *const *params, int n_params, store_sel_cb cb,
          void *arg)
{
    pg_t *p = h->be;
    if (ensure_connected(p) < 0)
        return -EIO;
    p->last_err = 0;
    if (search_planning(p, sql) < 0)
        return p->last_err;
    char *numbered = number_params(sql);
    if (numbered == NULL)
        return -ENOMEM;
    PGresult *r = PQexecParams(p->conn, numbered, n_params, NULL, params, NULL, NULL, 0);
    free(numbered);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        int rc = pg_error(p, r, "query");
        PQclear(r);
        return rc;
    }
    int rows = PQntuples(r), ncol = PQnfields(r), n = 0, rc = 0;
    if (ncol > 16)
        ncol = 16;
    const char *cols[16];
    size_t lens[16];
    unsigned char *blobs[16] = {0};
    for (int i = 0; i < rows && rc == 0; i++) {
        for (int c = 0; c < ncol; c++) {
            cols[c] = col_text(r, i, c);
            lens[c] = cols[c] ? (size_t)PQgetlength(r, i, c) : 0;
            if (cols[c] && PQftype(r, c) == BYTEA_OID) {
                PQfreemem(blobs[c]);
                blobs[c] = PQunescapeBytea((const unsigned char *)cols[c], &lens[c]);
                if (blobs[c] == NULL)
                    rc = -ENOMEM;
                cols[c] = (const char *)blobs[c];
            }
        }
        n++;
        if (rc == 0 && cb)
            rc = cb(cols, lens, ncol, arg);
    }
    for (int c = 0; c < ncol; c++)
        PQfreemem(blobs[c]);
    PQclear(r);
    return rc < 0 ? rc : n;
}

/* websearch_to_tsquery reads anything people type; the words go in as they are. */
static int
pq_fts_text(const char *words, nw_buf_t *out)
{
    return words[strspn(words, " \t\r\n")] ? nw_buf_puts(out, words) : -EINVAL;
}

static const store_dialect_t pq_dialect = {
    .fts_seqs = "SELECT fa.seq FROM article_fts fa"
                " WHERE fa.fts @@ websearch_to_tsquery('simple', ?::text)",
    .fts_probe = "EXISTS (SELECT 1 FROM article_fts fa WHERE fa.seq = t.seq"
                 " AND fa.fts @@ websearch_to_tsquery('simple', ?::text))",
    .fts_newest = "SELECT t.seq AS seq, t.at AS at, t.published AS published,"
                  " nw_fts_rank(fa.fts, fq) AS rank"
                  " FROM article_fts fa CROSS JOIN websearch_to_tsquery('simple', ?::text) fq"
                  " CROSS JOIN article_topics t"
                  " WHERE fa.fts @@ fq AND t.topic = 'all' AND t.seq = fa.seq",
    /* Not the seq index's order (+ 0): walking it tests the newest articles' vectors one by
     * one, each read from TOAST, three for every match of a common word; the index's matches
     * sorted by seq read no vector, and only the newest are ranked. */
    .fts_newest_order = "ORDER BY fa.seq + 0 DESC",
    .fts_ranked = "SELECT fa.seq AS seq, nw_fts_rank(fa.fts, fq) AS rank"
                  " FROM article_fts fa CROSS JOIN websearch_to_tsquery('simple', ?::text) fq"
                  " WHERE fa.fts @@ fq",
    .fts_seq_col = "fa.seq",
    .snippet_sql =
        "SELECT seq, ts_headline('simple', coalesce(text, ''), websearch_to_tsquery('simple', "
        "?::text), 'StartSel=[, StopSel=], MaxWords=14, MinWords=6') FROM articles WHERE seq IN (",
    .fts_text = pq_fts_text,
};

const store_ops_t nw_store_pg_ops = {
    .name = "PostgreSQL",
    .select = pq_select,
    .dialect = &pq_dialect,
    .open = pq_open,
    .close = pq_close,
    .schema_version = pq_schema_version,
    .begin = pq_begin,
    .commit = pq_commit,
    .rollback = pq_rollback,
    .lookup = pq_lookup,
    .write = pq_write,
    .fp_prune = pq_fp_prune,
    .fp_load = pq_fp_load,
    .put_dead = pq_put_dead,
    .search = pq_search,
    .set_budget = pq_set_budget,
    .get = pq_get,
    .dlq = pq_dlq,
    .dlq_stats = pq_dlq_stats,
    .dlq_claim = pq_dlq_claim,
    .dlq_replayed = pq_dlq_replayed,
    .since = pq_since,
    .max_seq = pq_max_seq,
    .seq_at = pq_seq_at,
    .count = pq_count,
};
