/* store.c: the embedded article database on SQLite (see store.h). newswire-store writes it in
 * group-committed transactions; `newswire search|get|dlq` read it, possibly while it is being
 * written (WAL lets readers run beside the one writer).
 *
 * On-disk format, schema version 5 (PRAGMA user_version):
 *
 *   table          key                columns
 *   articles       id                 the current revision of every article: rev, seq (unique),
 *                                     content_hash, the searchable/queryable fields, doc;
 *                                     since v4 story and duplicate_of (NULL for older rows)
 *   revisions      (id, rev)          every revision ever stored: seq, content_hash, stored_at
 *                                     (indexed since v2, for `tail --since TIME`), doc
 *   articles_fts   rowid = articles.seq  FTS5 over title, subtitle, text; external content on
 *                                     articles, kept in sync by triggers
 *   dead_letters   id (autoincrement) what a stage could not handle, with the original bytes;
 *                                     since v2 also the last replay: replayed_at, replay_status
 *                                     ("replaying", "accepted", "refused"), replay_id (the id
 *                                     fetch gave), replay_detail (its refusal); since v3
 *                                     item_key (unique when set): origin/spool/stage/reason/
 *                                     bytes hash, so a re-sent dead letter is stored once
 *   fingerprints   seq                since v4: the fingerprint (simhash, minhash, terms as in
 *                                     the enriched message) of the last NW_STORE_STORY_RING
 *                                     stored revisions, with id, story and time (ms: published,
 *                                     else stored), from which the story ring is loaded on open;
 *                                     since v5 also grams, anchors and lang (fingerprints of v4
 *                                     are dropped by the migration: not comparable)
 *
 * Sequence numbers are handed out under the write lock (max + 1 inside BEGIN IMMEDIATE), so
 * transactions commit in seq order and what a reader sees is always a prefix of the seq
 * history: when seq N is visible, every stored seq below N is too. `newswire tail --since`
 * relies on this to resume from the highest seq it has read.
 *
 * doc is the enriched MessagePack exactly as published (seq and rev set), so backfill replays
 * the same bytes subscribers saw live. The FTS rowid is seq rather than the implicit rowid of
 * articles because VACUUM may renumber implicit rowids, which would silently detach an
 * external-content index; seq never changes for a stored revision.
 *
 * Stories: a stored revision is compared with the fingerprints in the story ring (the last
 * NW_STORE_STORY_RING revisions stored, in memory) whose time lies within
 * NW_STORE_STORY_WINDOW_MS of its own, other revisions of the same id excepted. The best
 * near-duplicate (nw_fp_compare's verdict) gives duplicate_of and the story; else the most
 * similar article of the same story gives the story; else the article starts its own story
 * (its id). A scan of the ring would cost about 2 ms per put (nw_fp_compare is about 1 us),
 * so an inverted index of the ring's terms and anchors (numbers, names, places: what articles
 * of one story in two languages share) finds the revisions sharing keys and sums their term
 * and anchor cosines; the STORY_CANDIDATES best get nw_fp_compare. Keys held by more than
 * STORY_KEY_DF ring entries (a common word, the year) are skipped, an IDF cutoff that bounds
 * the walk to IX_KEYS * STORY_KEY_DF nodes per put: when a vocabulary is narrow every entry
 * shares common words with every other, and walking their chains cost about 1 ms per put.
 * Simhash and MinHash bands cannot prefilter here: articles of one story in other words share
 * terms, not shingles. The ring follows the database: rows evicted from it are deleted in the
 * same transaction, and a rollback reloads it. Another writer's articles are seen from the next
 * open. */
#include "newswire/store.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <msgpack.h>
#include <sqlite3.h>
#include <xxhash.h>

#include "newswire/fingerprint.h"
#include "newswire/log.h"
#include "newswire/util.h"

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
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* Cached statements, prepared on first use (a read-only handle never prepares the writes). */
enum {
    ST_LOOKUP,
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
    /* The same reads for a version 1 database, which a read-only handle may open before the
     * writer migrated it: the replay columns read as NULL. */
    ST_DLQ_V1,
    ST_DLQ_GET_V1,
    ST_DLQ_STATS_V1,
    ST_N
};

#define ARTICLE_COLS                                                                               \
    "rev, seq, content_hash, url, title, subtitle, published, dateline, lang, authors, "           \
    "source, fetched, stored_at, words, text, doc, story, duplicate_of"

#define DEAD_COLS                                                                                  \
    "id, time, stage, reason, detail, article_id, source, content_type, origin, spool, bytes"
#define REPLAY_COLS "replayed_at, replay_status, replay_id, replay_detail"
#define REPLAY_COLS_V1 "NULL, NULL, NULL, NULL"

static const char *const stmt_sql[ST_N] = {
    [ST_LOOKUP] = "SELECT rev, seq, content_hash, story, duplicate_of FROM articles WHERE id = ?1",
    [ST_INSERT] =
        "INSERT INTO articles (id, " ARTICLE_COLS ") VALUES "
        "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
        " ?19)",
    [ST_UPDATE] = "UPDATE articles SET (" ARTICLE_COLS ") = "
                  "(?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
                  " ?19) "
                  "WHERE id = ?1",
    [ST_REVISION] = "INSERT INTO revisions (id, rev, seq, content_hash, stored_at, doc) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_DEAD] = "INSERT OR IGNORE INTO dead_letters (time, stage, reason, detail, article_id, "
                "source, content_type, origin, spool, bytes, item_key) VALUES (?1, ?2, ?3, ?4, "
                "?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [ST_MAXSEQ] = "SELECT coalesce(max(seq), 0) FROM revisions",
    [ST_GET] = "SELECT doc FROM articles WHERE id = ?1",
    /* Title hits weigh most: a headline naming the query is what a reader looks for. */
    /* The snippet comes from the text when the text matches (the title is shown anyway),
     * else from the best column. Matches are marked with control characters, which cleaned
     * text never contains, to tell whether the text matched, then turned into brackets. */
    [ST_SEARCH] = "SELECT a.id, a.title, a.published, a.lang, a.url,"
                  "  replace(replace(CASE"
                  "    WHEN instr(snippet(articles_fts, 2, char(2), char(3), '\xe2\x80\xa6', 12),"
                  "               char(2)) > 0"
                  "    THEN snippet(articles_fts, 2, char(2), char(3), '\xe2\x80\xa6', 12)"
                  "    ELSE snippet(articles_fts, -1, char(2), char(3), '\xe2\x80\xa6', 12)"
                  "  END, char(2), '['), char(3), ']'),"
                  "  bm25(articles_fts, 10.0, 4.0, 1.0) AS score"
                  " FROM articles_fts JOIN articles a ON a.seq = articles_fts.rowid"
                  " WHERE articles_fts MATCH ?1 ORDER BY score, a.seq LIMIT ?2",
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
    [ST_SEQ_AT] = "SELECT min(seq) FROM revisions WHERE stored_at >= ?1",
    [ST_SINCE] = "SELECT seq, doc FROM revisions WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    [ST_COUNT] = "SELECT count(*) FROM articles",
    [ST_FP_INSERT] = "INSERT INTO fingerprints (seq, id, time, story, simhash, minhash, terms,"
                     " grams, anchors, lang) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [ST_FP_PRUNE] = "DELETE FROM fingerprints WHERE seq <= ?1",
    [ST_FP_LOAD] = "SELECT seq, id, time, story, simhash, minhash, terms, grams, anchors, lang"
                   " FROM fingerprints ORDER BY seq DESC LIMIT ?1",
};

/* One stored revision in the story ring. */
typedef struct story_ent {
    uint64_t seq;
    int64_t time; /* ms: published, else when stored */
    char *id, *story;
    nw_fp_t fp;
} story_ent_t;

/* Inverted index of the ring's terms and anchors, so a put only scores the revisions that
 * share keys with it. Node slot * IX_KEYS + k is key k of ring slot `slot` (terms, then
 * anchors); nodes are chained per bucket of the key hash in doubly linked lists (-1 ends), so
 * eviction unlinks in O(keys). bucket_n counts a bucket's nodes: a bucket holding more than
 * STORY_KEY_DF is a common key's (or, rarely, shares one) and is not walked. */
#define TERM_BUCKETS (1u << 16)
#define IX_KEYS (NW_FP_TERMS + NW_FP_ANCHORS)
#define STORY_KEY_DF (NW_STORE_STORY_RING / 20)
typedef struct term_index {
    int32_t bucket[TERM_BUCKETS];
    int32_t bucket_n[TERM_BUCKETS];
    /* A node holds its key and the key's weight over the sketch's norm, copied so a chain
     * walk touches one cache line per node and stays out of the ring entries. */
    struct ix_node {
        uint32_t key;
        float weight;
        int32_t next, prev;
    } node[NW_STORE_STORY_RING * IX_KEYS];
    double dot[NW_STORE_STORY_RING]; /* scratch of ring_match: cosine sum per slot */
    int32_t touched[NW_STORE_STORY_RING];
} term_index_t;

struct nw_store {
    sqlite3 *db;
    int readonly;
    int version; /* schema version at open (after migrating, for a writable handle) */
    int in_tx;
    uint64_t next_seq; /* seq the next stored revision gets; valid inside a transaction */
    sqlite3_stmt *st[ST_N];
    nw_buf_t scratch; /* encoded document of the put in progress */
    /* Story ring (writable handles): ring[(head + i) % NW_STORE_STORY_RING] for i < n_ring,
     * oldest first, seq ascending. */
    story_ent_t *ring;
    size_t head, n_ring;
    term_index_t *ix;
    char *story, *duplicate_of; /* of the last put, for nw_store_result_t */
};

/* Log the database error once, where it is handled, and map it to -EIO. */
static int
db_error(nw_store_t *s, const char *what)
{
    NW_ERROR(NULL, "store: %s failed: %s", what, sqlite3_errmsg(s->db));
    return -EIO;
}

static sqlite3_stmt *
get_stmt(nw_store_t *s, int which)
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
exec_sql(nw_store_t *s, const char *sql, const char *what)
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
read_int(nw_store_t *s, const char *sql, int64_t *out)
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
migrate(nw_store_t *s, char *err, size_t errlen)
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

/* ---- story ring ---------------------------------------------------------------------------- */

static void
ring_clear(nw_store_t *s)
{
    for (size_t i = 0; i < s->n_ring; i++) {
        story_ent_t *x = &s->ring[(s->head + i) % NW_STORE_STORY_RING];
        free(x->id);
        free(x->story);
        x->id = x->story = NULL;
    }
    s->head = s->n_ring = 0;
    memset(s->ix->bucket, 0xff, sizeof(s->ix->bucket)); /* all -1 */
    memset(s->ix->bucket_n, 0, sizeof(s->ix->bucket_n));
}

static uint32_t
term_bucket(uint32_t term)
{
    return (term >> 1) & (TERM_BUCKETS - 1); /* the low bit of a term hash is always 1 */
}

static double
norm_of(const uint32_t *w, size_t n)
{
    double sum = 0;
    for (size_t k = 0; k < n; k++)
        sum += (double)w[k] * w[k];
    return sqrt(sum);
}

/* Key k of fp (terms, then anchors) with its weight over its sketch's norm; 0 when absent. */
static uint32_t
ix_key(const nw_fp_t *fp, size_t k, double tnorm, double anorm, float *w)
{
    if (k < NW_FP_TERMS) {
        if (k >= fp->n_terms)
            return 0;
        *w = tnorm > 0 ? (float)(fp->weight[k] / tnorm) : 0;
        return fp->term[k];
    }
    k -= NW_FP_TERMS;
    if (k >= fp->n_anchors)
        return 0;
    *w = anorm > 0 ? (float)(fp->aweight[k] / anorm) : 0;
    return fp->anchor[k];
}

static void
ix_link(nw_store_t *s, size_t slot)
{
    term_index_t *ix = s->ix;
    const nw_fp_t *fp = &s->ring[slot].fp;
    double tn = norm_of(fp->weight, fp->n_terms), an = norm_of(fp->aweight, fp->n_anchors);
    for (size_t k = 0; k < IX_KEYS; k++) {
        float w = 0;
        uint32_t key = ix_key(fp, k, tn, an, &w);
        if (!key)
            continue;
        uint32_t b = term_bucket(key);
        int32_t node = (int32_t)(slot * IX_KEYS + k), *head = &ix->bucket[b];
        ix->node[node].prev = -1;
        ix->node[node].next = *head;
        ix->node[node].key = key;
        ix->node[node].weight = w;
        if (*head >= 0)
            ix->node[*head].prev = node;
        *head = node;
        ix->bucket_n[b]++;
    }
}

static void
ix_unlink(nw_store_t *s, size_t slot)
{
    term_index_t *ix = s->ix;
    const nw_fp_t *fp = &s->ring[slot].fp;
    for (size_t k = 0; k < IX_KEYS; k++) {
        float w;
        uint32_t key = ix_key(fp, k, 1, 1, &w);
        if (!key)
            continue;
        uint32_t b = term_bucket(key);
        int32_t node = (int32_t)(slot * IX_KEYS + k);
        if (ix->node[node].prev >= 0)
            ix->node[ix->node[node].prev].next = ix->node[node].next;
        else
            ix->bucket[b] = ix->node[node].next;
        if (ix->node[node].next >= 0)
            ix->node[ix->node[node].next].prev = ix->node[node].prev;
        ix->bucket_n[b]--;
    }
}

/* Append a revision, taking ownership of id and story; evicts the oldest when full and
 * returns its seq in *evicted (0 when nothing was evicted). */
static void
ring_push(nw_store_t *s, uint64_t seq, int64_t time, char *id, char *story, const nw_fp_t *fp,
          uint64_t *evicted)
{
    story_ent_t *x;
    *evicted = 0;
    if (s->n_ring == NW_STORE_STORY_RING) {
        x = &s->ring[s->head];
        ix_unlink(s, s->head);
        *evicted = x->seq;
        free(x->id);
        free(x->story);
        s->head = (s->head + 1) % NW_STORE_STORY_RING;
        s->n_ring--;
    }
    size_t slot = (s->head + s->n_ring) % NW_STORE_STORY_RING;
    x = &s->ring[slot];
    *x = (story_ent_t){.seq = seq, .time = time, .id = id, .story = story, .fp = *fp};
    ix_link(s, slot);
    s->n_ring++;
}

/* A fingerprint from its stored form: the enriched message's keys, read by nw_fp_load. */
static int
fp_from_row(sqlite3_stmt *st, nw_fp_t *fp)
{
    nw_enriched_t e = {0};
    e.simhash = (uint64_t)sqlite3_column_int64(st, 4);
    /* nw_fp_load only reads them; the casts borrow SQLite's column buffers. */
    uint8_t **blob[4] = {&e.minhash, &e.terms, &e.grams, &e.anchors};
    size_t *blob_len[4] = {&e.minhash_len, &e.terms_len, &e.grams_len, &e.anchors_len};
    for (int k = 0; k < 4; k++) {
        const void *b = sqlite3_column_blob(st, 5 + k);
        *blob[k] = (uint8_t *)(uintptr_t)b;
        *blob_len[k] = b ? (size_t)sqlite3_column_bytes(st, 5 + k) : 0;
    }
    e.art.lang = (char *)(uintptr_t)col_text(st, 9);
    return nw_fp_load(&e, fp);
}

/* (Re)load the ring from the fingerprints table: what the database holds, e.g. after a
 * rollback dropped revisions the ring had already taken. Returns 0, -ENOMEM or -EIO. */
static int
ring_load(nw_store_t *s)
{
    int rc = 0, step;
    sqlite3_stmt *st;

    if (!s->ring || !s->ix)
        return 0; /* read-only handle: no puts, no ring */
    ring_clear(s);
    st = get_stmt(s, ST_FP_LOAD);
    if (!st)
        return -EIO;
    sqlite3_bind_int(st, 1, NW_STORE_STORY_RING);
    /* Newest first, so fill the ring backwards from its end. */
    s->head = NW_STORE_STORY_RING;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        nw_fp_t fp;
        if (fp_from_row(st, &fp) < 0)
            continue; /* only well-formed fingerprints are written; skip anything else */
        char *id = strdup(col_text(st, 1) ? col_text(st, 1) : "");
        char *story = strdup(col_text(st, 3) ? col_text(st, 3) : "");
        if (!id || !story) {
            free(id);
            free(story);
            rc = -ENOMEM;
            break;
        }
        s->head--;
        s->n_ring++;
        s->ring[s->head] = (story_ent_t){.seq = (uint64_t)sqlite3_column_int64(st, 0),
                                         .time = sqlite3_column_int64(st, 2),
                                         .id = id,
                                         .story = story,
                                         .fp = fp};
        ix_link(s, s->head);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = db_error(s, "load fingerprints");
    done_stmt(st);
    s->head %= NW_STORE_STORY_RING;
    if (rc < 0)
        ring_clear(s);
    return rc;
}

/* Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* An ISO 8601 date or time ("YYYY-MM-DD", optionally "THH:MM[:SS[.fff]]" and "Z" or an offset
 * "+HH:MM") as ms since the epoch in *ms. Returns 0, or -EINVAL for anything else. */
static int
parse_time(const char *p, int64_t *ms)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
    if (!p || sscanf(p, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10 || mo < 1 || mo > 12 ||
        d < 1 || d > 31)
        return -EINVAL;
    p += n;
    int64_t off = 0;
    if (*p == 'T' || *p == ' ') {
        if (sscanf(p + 1, "%2d:%2d%n", &h, &mi, &n) != 2 || n != 5 || h > 23 || mi > 59)
            return -EINVAL;
        p += 1 + n;
        if (*p == ':') {
            if (sscanf(p + 1, "%2d%n", &sec, &n) != 1 || n != 2 || sec > 60)
                return -EINVAL;
            p += 1 + n;
            if (*p == '.' || *p == ',')
                for (p++; *p >= '0' && *p <= '9'; p++)
                    ;
        }
        if (*p == 'Z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int oh, om = 0, sign = *p == '-' ? -1 : 1;
            if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) == 2 && n == 5)
                p += 1 + n;
            else if (sscanf(p + 1, "%2d%n", &oh, &n) == 1 && n == 2)
                p += 1 + n;
            else
                return -EINVAL;
            off = sign * ((int64_t)oh * 60 + om) * 60000;
        }
    }
    if (*p)
        return -EINVAL;
    *ms = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000 + (int64_t)sec * 1000 - off;
    return 0;
}

/* Most ring entries that get the full comparison per put (the best by term cosine). */
#define STORY_CANDIDATES 32

typedef struct story_match {
    const story_ent_t *dup;   /* best near-duplicate, or NULL */
    const story_ent_t *story; /* best same-story article, or NULL */
} story_match_t;

/* The best near-duplicate and the most similar same-story revision of another id within the
 * window around time. Candidates come from the index: the STORY_CANDIDATES revisions with the
 * largest sum of term and anchor cosines over the keys no more than STORY_KEY_DF entries hold,
 * so a revision sharing shingles (the Jaccard part of the verdict) but no uncommon content word
 * or anchor is not found; that takes text of short words only. */
static story_match_t
ring_match(nw_store_t *s, const char *id, int64_t time, const nw_fp_t *fp)
{
    term_index_t *ix = s->ix;
    story_match_t m = {0};
    double best_dup = -1, best_story = -1;
    double tn = norm_of(fp->weight, fp->n_terms), an = norm_of(fp->aweight, fp->n_anchors);
    size_t n_touched = 0;

    for (size_t k = 0; k < IX_KEYS; k++) {
        float w = 0;
        uint32_t key = ix_key(fp, k, tn, an, &w), b;
        if (!key || ix->bucket_n[b = term_bucket(key)] > STORY_KEY_DF)
            continue;
        for (int32_t node = ix->bucket[b]; node >= 0; node = ix->node[node].next) {
            /* Only positive products count, so a slot is in touched[] once: when its sum
             * leaves 0 (a zero weight, from a damaged row, must not add it again). */
            double add = (double)w * ix->node[node].weight;
            if (ix->node[node].key != key || !(add > 0))
                continue;
            size_t slot = (size_t)node / IX_KEYS;
            if (ix->dot[slot] == 0)
                ix->touched[n_touched++] = (int32_t)slot;
            ix->dot[slot] += add;
        }
    }
    /* Keep the STORY_CANDIDATES best by that sum. */
    struct cand {
        double cos;
        const story_ent_t *x;
    } best[STORY_CANDIDATES];
    size_t n_best = 0;
    for (size_t i = 0; i < n_touched; i++) {
        const story_ent_t *x = &s->ring[ix->touched[i]];
        double cos = ix->dot[ix->touched[i]];
        ix->dot[ix->touched[i]] = 0;
        int64_t dt = x->time - time;
        if (dt > NW_STORE_STORY_WINDOW_MS || dt < -NW_STORE_STORY_WINDOW_MS ||
            strcmp(x->id, id) == 0)
            continue;
        if (n_best < STORY_CANDIDATES) {
            best[n_best++] = (struct cand){cos, x};
            continue;
        }
        size_t worst = 0;
        for (size_t j = 1; j < n_best; j++)
            if (best[j].cos < best[worst].cos ||
                (best[j].cos == best[worst].cos && best[j].x->seq < best[worst].x->seq))
                worst = j;
        if (cos > best[worst].cos || (cos == best[worst].cos && x->seq > best[worst].x->seq))
            best[worst] = (struct cand){cos, x};
    }
    for (size_t i = 0; i < n_best; i++) {
        const story_ent_t *x = best[i].x;
        nw_fp_score_t sc = nw_fp_compare(fp, &x->fp);
        /* On a tie the newer one wins, whose story is the most recent view. */
        if (sc.duplicate &&
            (sc.jaccard > best_dup || (sc.jaccard == best_dup && x->seq > m.dup->seq))) {
            best_dup = sc.jaccard;
            m.dup = x;
        }
        if (sc.same_story && (sc.similarity > best_story ||
                              (sc.similarity == best_story && x->seq > m.story->seq))) {
            best_story = sc.similarity;
            m.story = x;
        }
    }
    return m;
}

/* A story id makes a topic segment (a-z, 0-9, "-") when it looks like this; article ids do. */
static int
topic_segment(const char *p)
{
    size_t n = 0;
    for (; p[n]; n++)
        if (!((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= '0' && p[n] <= '9') || p[n] == '-'))
            return 0;
    return n > 0 && n <= 128;
}

static int
buf_write(void *data, const char *buf, size_t len)
{
    return nw_buf_append(data, buf, len) < 0 ? -1 : 0;
}

/* Replace the "story" and "duplicate_of" entries of e's pass-through keys (a replayed
 * document brings old ones) with these values (dup may be NULL: no key), and the story.*
 * topic with story.<story>. Returns 0, -EINVAL for a malformed extra, or -ENOMEM. */
static int
set_story(nw_enriched_t *e, const char *story, const char *dup)
{
    nw_extra_t *x = &e->art.extra;
    nw_buf_t out = {0};
    msgpack_packer pk;
    msgpack_unpacked u;
    size_t off = 0;
    uint32_t n = 0;
    int rc = 0;

    msgpack_unpacked_init(&u);
    for (uint32_t i = 0; i < x->n; i++) {
        size_t start = off;
        int skip = 0;
        for (int part = 0; part < 2; part++) {
            size_t used = 0;
            if (msgpack_unpack_next(&u, (const char *)x->buf + off, x->len - off, &used) !=
                MSGPACK_UNPACK_SUCCESS) {
                rc = -EINVAL;
                goto out;
            }
            if (part == 0 && u.data.type == MSGPACK_OBJECT_STR) {
                msgpack_object_str k = u.data.via.str;
                skip = (k.size == 5 && memcmp(k.ptr, "story", 5) == 0) ||
                       (k.size == 12 && memcmp(k.ptr, "duplicate_of", 12) == 0);
            }
            off += used;
        }
        if (!skip) {
            if (nw_buf_append(&out, x->buf + start, off - start) < 0) {
                rc = -ENOMEM;
                goto out;
            }
            n++;
        }
    }
    msgpack_packer_init(&pk, &out, buf_write);
    const char *keys[2] = {"story", "duplicate_of"}, *vals[2] = {story, dup};
    for (int k = 0; k < 2; k++) {
        if (!vals[k])
            continue;
        size_t kl = strlen(keys[k]), vl = strlen(vals[k]);
        if (msgpack_pack_str(&pk, kl) < 0 || msgpack_pack_str_body(&pk, keys[k], kl) < 0 ||
            msgpack_pack_str(&pk, vl) < 0 || msgpack_pack_str_body(&pk, vals[k], vl) < 0) {
            rc = -ENOMEM;
            goto out;
        }
        n++;
    }

    /* Topics: drop any story.* and add this one last. */
    size_t t = 0;
    for (size_t i = 0; i < e->n_topics; i++) {
        if (e->topics[i] && strncmp(e->topics[i], "story.", 6) == 0)
            free(e->topics[i]);
        else
            e->topics[t++] = e->topics[i];
    }
    e->n_topics = t;
    if (topic_segment(story)) {
        char **tp = realloc(e->topics, (e->n_topics + 1) * sizeof(*tp));
        char *topic = malloc(strlen(story) + 7);
        if (tp)
            e->topics = tp;
        if (!tp || !topic) {
            free(topic);
            rc = -ENOMEM;
            goto out;
        }
        memcpy(topic, "story.", 6);
        strcpy(topic + 6, story);
        e->topics[e->n_topics++] = topic;
    }

    free(x->buf);
    x->buf = NULL;
    x->len = 0;
    if (n)
        x->buf = nw_buf_steal(&out, &x->len);
    x->n = n;
out:
    msgpack_unpacked_destroy(&u);
    nw_buf_release(&out);
    return rc;
}

nw_store_t *
nw_store_open(const char *path, int readonly, char *err, size_t errlen)
{
    char dummy[8];
    nw_store_t *s = calloc(1, sizeof(*s));
    int64_t version = 0;

    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    err[0] = '\0';
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->readonly = readonly;
    int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open \"%s\": %s", path,
                 s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto err;
    }
    sqlite3_extended_result_codes(s->db, 1);
    /* Wait for a competing lock instead of failing at once. The wait blocks the caller's event
     * loop, so the writer waits less than a stage heartbeat's liveness (3 s): a locked database
     * then fails the batch, which is retried from a timer while heartbeats keep flowing. */
    sqlite3_busy_timeout(s->db, readonly ? 5000 : 1000);
    if (!readonly) {
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
            goto err;
        }
        /* Acks go out after commit, so a commit must survive power loss: FULL syncs the WAL
         * on every commit (NORMAL would only on checkpoint). */
        if (exec_sql(s, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON", "pragmas") < 0) {
            snprintf(err, errlen, "cannot configure \"%s\": %s", path, sqlite3_errmsg(s->db));
            goto err;
        }
        if (migrate(s, err, errlen) < 0)
            goto err;
        s->ring = calloc(NW_STORE_STORY_RING, sizeof(*s->ring));
        s->ix = calloc(1, sizeof(*s->ix));
        if (!s->ring || !s->ix) {
            snprintf(err, errlen, "out of memory");
            goto err;
        }
        if (ring_load(s) < 0) {
            snprintf(err, errlen, "cannot load fingerprints from \"%s\"", path);
            goto err;
        }
    }
    if (read_int(s, "PRAGMA user_version", &version) < 0) {
        snprintf(err, errlen, "cannot read \"%s\": %s", path, sqlite3_errmsg(s->db));
        goto err;
    }
    if (version < 1 || version > SCHEMA_VERSION) {
        snprintf(err, errlen,
                 "\"%s\" is not a newswire database this program reads "
                 "(schema version %lld)",
                 path, (long long)version);
        goto err;
    }
    s->version = (int)version;
    return s;

err:
    nw_store_close(&s);
    return NULL;
}

void
nw_store_close(nw_store_t **sp)
{
    nw_store_t *s = sp ? *sp : NULL;
    if (!s)
        return;
    for (int i = 0; i < ST_N; i++)
        sqlite3_finalize(s->st[i]);
    if (s->in_tx)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    if (s->db && sqlite3_close(s->db) != SQLITE_OK)
        NW_ERROR(NULL, "store: close failed: %s", sqlite3_errmsg(s->db));
    nw_buf_release(&s->scratch);
    if (s->ring && s->ix)
        ring_clear(s);
    free(s->ring);
    free(s->ix);
    free(s->story);
    free(s->duplicate_of);
    free(s);
    *sp = NULL;
}

int
nw_store_schema_version(nw_store_t *s)
{
    int64_t v = 0;
    return read_int(s, "PRAGMA user_version", &v) < 0 ? -EIO : (int)v;
}

int
nw_store_begin(nw_store_t *s)
{
    int64_t max_seq = 0;
    if (s->readonly)
        return -EROFS;
    if (s->in_tx)
        return -EINVAL;
    /* IMMEDIATE: take the write lock now, where the busy timeout applies, rather than failing
     * with SQLITE_BUSY when a deferred transaction tries to upgrade. */
    if (exec_sql(s, "BEGIN IMMEDIATE", "begin") < 0)
        return -EIO;
    s->in_tx = 1;
    /* The sequence counter is read under the write lock, so it is right after a rollback and
     * even if another process wrote since we opened. The unique index makes this O(log n). */
    sqlite3_stmt *st = get_stmt(s, ST_MAXSEQ);
    if (!st || sqlite3_step(st) != SQLITE_ROW) {
        int rc = db_error(s, "read sequence");
        done_stmt(st);
        nw_store_rollback(s);
        return rc;
    }
    max_seq = sqlite3_column_int64(st, 0);
    done_stmt(st);
    s->next_seq = (uint64_t)max_seq + 1;
    return 0;
}

int
nw_store_commit(nw_store_t *s)
{
    if (!s->in_tx)
        return -EINVAL;
    if (exec_sql(s, "COMMIT", "commit") < 0)
        return -EIO; /* still in the transaction: the caller rolls back */
    s->in_tx = 0;
    return 0;
}

int
nw_store_rollback(nw_store_t *s)
{
    if (!s->in_tx)
        return 0;
    s->in_tx = 0;
    /* A failed ROLLBACK means SQLite already rolled back (e.g. after SQLITE_FULL). */
    int rc = sqlite3_get_autocommit(s->db) ? 0 : exec_sql(s, "ROLLBACK", "rollback");
    /* The ring took the revisions just dropped and lost those it evicted: reload. On failure
     * stories start from an empty ring, which only costs groupings. */
    if (ring_load(s) < 0)
        NW_WARN(NULL, "store: story ring not reloaded after rollback");
    return rc;
}

/* XXH3-128 over title \0 subtitle \0 text \0 then each caption's text \0 credit \0: the content
 * a reader sees. Metadata such as fetch time does not make a new revision. The state is
 * allocated because its layout is private to the shared libxxhash. Returns 0 or -ENOMEM. */
static int
content_hash(const nw_article_t *a, char out[33])
{
    XXH3_state_t *st = XXH3_createState();
    XXH128_canonical_t canon;
    static const char nul = '\0';
    const char *parts[3] = {a->title, a->subtitle, a->text};

    if (!st)
        return -ENOMEM;
    XXH3_128bits_reset(st);
    for (size_t i = 0; i < 3; i++) {
        if (parts[i])
            XXH3_128bits_update(st, parts[i], strlen(parts[i]));
        XXH3_128bits_update(st, &nul, 1);
    }
    for (size_t i = 0; i < a->n_captions; i++) {
        const nw_caption_t *c = &a->captions[i];
        if (c->text)
            XXH3_128bits_update(st, c->text, strlen(c->text));
        XXH3_128bits_update(st, &nul, 1);
        if (c->credit)
            XXH3_128bits_update(st, c->credit, strlen(c->credit));
        XXH3_128bits_update(st, &nul, 1);
    }
    XXH128_canonicalFromHash(&canon, XXH3_128bits_digest(st));
    XXH3_freeState(st);
    for (size_t i = 0; i < sizeof(canon.digest); i++)
        snprintf(out + 2 * i, 3, "%02x", canon.digest[i]);
    return 0;
}

/* Authors as a JSON array of strings; caller frees. NULL on ENOMEM. */
static char *
authors_json(const nw_article_t *a)
{
    json_t *arr = json_array();
    char *out = NULL;
    if (!arr)
        return NULL;
    for (size_t i = 0; i < a->n_authors; i++)
        if (!a->authors[i] || json_array_append_new(arr, json_string(a->authors[i])) < 0)
            goto out;
    out = json_dumps(arr, JSON_COMPACT | JSON_ENSURE_ASCII);
out:
    json_decref(arr);
    return out;
}

int
nw_store_put(nw_store_t *s, nw_enriched_t *e, nw_buf_t *doc, nw_store_result_t *res)
{
    const nw_article_t *a = &e->art;
    char hash[33], now[32];
    char *authors = NULL, *story = NULL, *dup = NULL;
    int exists = 0, rc = 0;
    uint32_t rev = 1;
    sqlite3_stmt *st = NULL;
    int64_t now_ms = nw_now_ms(), time;
    uint64_t evicted = 0;
    nw_fp_t fp;

    if (s->readonly)
        return -EROFS;
    if (!s->in_tx || !a->id || !a->id[0])
        return -EINVAL;
    if (content_hash(a, hash) < 0)
        return -ENOMEM;
    nw_time_iso(now_ms, now, sizeof(now));

    st = get_stmt(s, ST_LOOKUP);
    if (!st)
        return -EIO;
    bind_text(st, 1, a->id);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        exists = 1;
        rev = (uint32_t)sqlite3_column_int64(st, 0);
        uint64_t cur_seq = (uint64_t)sqlite3_column_int64(st, 1);
        const char *h = col_text(st, 2);
        if (h && strcmp(h, hash) == 0) {
            e->rev = rev;
            e->seq = cur_seq;
            res->status = "unchanged";
            res->rev = rev;
            res->seq = 0;
            free(s->story);
            free(s->duplicate_of);
            s->story = col_text(st, 3) ? strdup(col_text(st, 3)) : NULL;
            s->duplicate_of = col_text(st, 4) ? strdup(col_text(st, 4)) : NULL;
            res->story = s->story; /* NULL when stored before v4 (or out of memory) */
            res->duplicate_of = s->duplicate_of;
            done_stmt(st);
            return 0;
        }
        rev++;
    } else if (step != SQLITE_DONE) {
        rc = db_error(s, "look up article");
        done_stmt(st);
        return rc;
    }
    done_stmt(st);
    st = NULL;

    /* Story and near-duplicate, before encoding: both go into the document. An article
     * without a fingerprint starts its own story and is not remembered. */
    int has_fp = nw_fp_load(e, &fp) == 0;
    if (parse_time(a->published, &time) < 0)
        time = now_ms;
    story_match_t m = {0};
    if (has_fp)
        m = ring_match(s, a->id, time, &fp);
    story = strdup(m.dup ? m.dup->story : m.story ? m.story->story : a->id);
    dup = m.dup ? strdup(m.dup->id) : NULL;
    if (!story || (m.dup && !dup)) {
        rc = -ENOMEM;
        goto err;
    }
    if ((rc = set_story(e, story, dup)) < 0)
        goto err;

    /* Encode before writing anything, so an article the encoder rejects leaves the
     * transaction as it was and the caller can dead-letter it. */
    e->rev = rev;
    e->seq = s->next_seq;
    nw_buf_reset(&s->scratch);
    rc = nw_enriched_encode(e, &s->scratch);
    if (rc < 0)
        goto err;
    authors = authors_json(a);
    if (!authors) {
        rc = -ENOMEM;
        goto err;
    }

    st = get_stmt(s, exists ? ST_UPDATE : ST_INSERT);
    if (!st) {
        rc = -EIO;
        goto err;
    }
    bind_text(st, 1, a->id);
    sqlite3_bind_int64(st, 2, rev);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)e->seq);
    bind_text(st, 4, hash);
    bind_text(st, 5, a->url);
    bind_text(st, 6, a->title);
    bind_text(st, 7, a->subtitle);
    bind_text(st, 8, a->published);
    bind_text(st, 9, a->dateline);
    bind_text(st, 10, a->lang);
    bind_text(st, 11, authors);
    bind_text(st, 12, a->source);
    bind_text(st, 13, a->fetched);
    bind_text(st, 14, now);
    sqlite3_bind_int64(st, 15, e->words);
    bind_text(st, 16, a->text ? a->text : "");
    sqlite3_bind_blob64(st, 17, s->scratch.data, s->scratch.len, SQLITE_STATIC);
    bind_text(st, 18, story);
    bind_text(st, 19, dup);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = db_error(s, exists ? "update article" : "insert article");
        goto err;
    }
    done_stmt(st);

    st = get_stmt(s, ST_REVISION);
    if (!st) {
        rc = -EIO;
        goto err;
    }
    bind_text(st, 1, a->id);
    sqlite3_bind_int64(st, 2, rev);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)e->seq);
    bind_text(st, 4, hash);
    bind_text(st, 5, now);
    sqlite3_bind_blob64(st, 6, s->scratch.data, s->scratch.len, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = db_error(s, "insert revision");
        goto err;
    }
    done_stmt(st);
    st = NULL;

    if (has_fp) {
        st = get_stmt(s, ST_FP_INSERT);
        if (!st) {
            rc = -EIO;
            goto err;
        }
        sqlite3_bind_int64(st, 1, (sqlite3_int64)e->seq);
        bind_text(st, 2, a->id);
        sqlite3_bind_int64(st, 3, time);
        bind_text(st, 4, story);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)e->simhash);
        if (e->minhash_len)
            sqlite3_bind_blob64(st, 6, e->minhash, e->minhash_len, SQLITE_STATIC);
        if (e->terms_len)
            sqlite3_bind_blob64(st, 7, e->terms, e->terms_len, SQLITE_STATIC);
        if (e->grams_len)
            sqlite3_bind_blob64(st, 8, e->grams, e->grams_len, SQLITE_STATIC);
        if (e->anchors_len)
            sqlite3_bind_blob64(st, 9, e->anchors, e->anchors_len, SQLITE_STATIC);
        bind_text(st, 10, e->art.lang);
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = db_error(s, "insert fingerprint");
            goto err;
        }
        done_stmt(st);
        st = NULL;
        char *rid = strdup(a->id), *rstory = strdup(story);
        if (!rid || !rstory) {
            free(rid);
            free(rstory);
            rc = -ENOMEM;
            goto err;
        }
        ring_push(s, e->seq, time, rid, rstory, &fp, &evicted);
        /* The table holds what the ring holds; the caller rolls back on an error from here
         * on, which reloads the ring. */
        if (evicted) {
            st = get_stmt(s, ST_FP_PRUNE);
            if (!st) {
                rc = -EIO;
                goto err;
            }
            sqlite3_bind_int64(st, 1, (sqlite3_int64)evicted);
            if (sqlite3_step(st) != SQLITE_DONE) {
                rc = db_error(s, "prune fingerprints");
                goto err;
            }
            done_stmt(st);
            st = NULL;
        }
    }

    if (doc && nw_buf_append(doc, s->scratch.data, s->scratch.len) < 0) {
        rc = -ENOMEM;
        goto err;
    }
    s->next_seq++;
    res->status = "stored";
    res->rev = rev;
    res->seq = e->seq;
    free(s->story);
    free(s->duplicate_of);
    s->story = story;
    s->duplicate_of = dup;
    res->story = story;
    res->duplicate_of = dup;
    free(authors);
    return 0;

err:
    done_stmt(st);
    free(authors);
    free(story);
    free(dup);
    e->rev = 0;
    e->seq = 0;
    return rc;
}

int
nw_store_put_dead(nw_store_t *s, const nw_dead_t *d)
{
    char now[32];
    int rc = 0;
    sqlite3_stmt *st;

    if (s->readonly)
        return -EROFS;
    if (!s->in_tx)
        return -EINVAL;
    st = get_stmt(s, ST_DEAD);
    if (!st)
        return -EIO;
    nw_time_iso(nw_now_ms(), now, sizeof(now));
    bind_text(st, 1, d->time ? d->time : now);
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
    /* Only a spooled item can come again; without origin and spool every letter is new. */
    char key[512];
    if (d->origin && d->spool) {
        snprintf(
            key, sizeof(key), "%s/%llu/%s/%s/%016llx", d->origin, (unsigned long long)d->spool,
            d->stage ? d->stage : "", d->reason ? d->reason : "",
            (unsigned long long)XXH3_64bits(d->bytes ? (const void *)d->bytes : "", d->bytes_len));
        bind_text(st, 11, key);
    } else {
        sqlite3_bind_null(st, 11);
    }
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_error(s, "insert dead letter");
    done_stmt(st);
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
run_search(nw_store_t *s, const char *query, int limit, nw_store_hit_cb cb, void *arg)
{
    int n = 0, rc;
    sqlite3_stmt *st = get_stmt(s, ST_SEARCH);
    if (!st)
        return -EIO;
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
    } else if (rc != SQLITE_DONE) {
        n = db_error(s, "search");
    }
    done_stmt(st);
    return n;
}

int
nw_store_search(nw_store_t *s, const char *query, int limit, nw_store_hit_cb cb, void *arg)
{
    nw_buf_t plain = {0};
    int n;

    if (!query || !query[0])
        return -EINVAL;
    n = run_search(s, query, limit, cb, arg);
    if (n == -EINVAL) {
        n = plain_query(query, &plain);
        if (n == 0)
            n = run_search(s, (const char *)plain.data, limit, cb, arg);
    }
    nw_buf_release(&plain);
    return n;
}

int
nw_store_get(nw_store_t *s, const char *id, uint8_t **buf, size_t *len)
{
    int rc;
    sqlite3_stmt *st = get_stmt(s, ST_GET);

    *buf = NULL;
    *len = 0;
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
each_dead(nw_store_t *s, sqlite3_stmt *st, nw_store_dead_cb cb, void *arg, const char *what)
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

int
nw_store_dlq_list(nw_store_t *s, int limit, nw_store_dead_cb cb, void *arg)
{
    sqlite3_stmt *st = get_stmt(s, s->version >= 2 ? ST_DLQ : ST_DLQ_V1);
    if (!st)
        return -EIO;
    sqlite3_bind_int(st, 1, limit > 0 ? limit : -1);
    return each_dead(s, st, cb, arg, "list dead letters");
}

int
nw_store_dlq_get(nw_store_t *s, int64_t rowid, nw_store_dead_cb cb, void *arg)
{
    sqlite3_stmt *st = get_stmt(s, s->version >= 2 ? ST_DLQ_GET : ST_DLQ_GET_V1);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, rowid);
    int n = each_dead(s, st, cb, arg, "read dead letter");
    return n < 0 ? n : n == 0 ? -ENOENT : 0;
}

int
nw_store_dlq_pending(nw_store_t *s, const char *reason, nw_store_dead_cb cb, void *arg)
{
    if (s->version < 2)
        return -EPROTO; /* only a writable handle, which migrated, replays */
    sqlite3_stmt *st = get_stmt(s, ST_DLQ_PENDING);
    if (!st)
        return -EIO;
    bind_text(st, 1, reason);
    return each_dead(s, st, cb, arg, "list pending dead letters");
}

int
nw_store_dlq_stats(nw_store_t *s, nw_store_dlq_stat_cb cb, void *arg)
{
    int n = 0, rc;
    sqlite3_stmt *st = get_stmt(s, s->version >= 2 ? ST_DLQ_STATS : ST_DLQ_STATS_V1);
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

int
nw_store_dlq_claim(nw_store_t *s, int64_t rowid, int force)
{
    char now[32];
    if (s->readonly)
        return -EROFS;
    if (!s->in_tx)
        return -EINVAL;
    sqlite3_stmt *st = get_stmt(s, ST_DLQ_CLAIM);
    if (!st)
        return -EIO;
    nw_time_iso(nw_now_ms(), now, sizeof(now));
    sqlite3_bind_int64(st, 1, rowid);
    bind_text(st, 2, now);
    sqlite3_bind_int(st, 3, force ? 1 : 0);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_error(s, "claim dead letter");
    done_stmt(st);
    if (rc == 0 && sqlite3_changes(s->db) == 0) {
        rc = nw_store_dlq_get(s, rowid, NULL, NULL);
        rc = rc == 0 ? -EALREADY : rc;
    }
    return rc;
}

int
nw_store_dlq_replayed(nw_store_t *s, int64_t rowid, const char *status, const char *new_id,
                      const char *detail)
{
    char now[32];
    if (s->readonly)
        return -EROFS;
    if (!s->in_tx)
        return -EINVAL;
    sqlite3_stmt *st = get_stmt(s, ST_DLQ_REPLAYED);
    if (!st)
        return -EIO;
    nw_time_iso(nw_now_ms(), now, sizeof(now));
    sqlite3_bind_int64(st, 1, rowid);
    bind_text(st, 2, status ? now : NULL);
    bind_text(st, 3, status);
    bind_text(st, 4, status ? new_id : NULL);
    bind_text(st, 5, status ? detail : NULL);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_error(s, "record replay");
    done_stmt(st);
    if (rc == 0 && sqlite3_changes(s->db) == 0)
        rc = -ENOENT;
    return rc;
}

int
nw_store_since(nw_store_t *s, uint64_t after, int limit, nw_store_doc_cb cb, void *arg)
{
    int n = 0, rc;
    sqlite3_stmt *st = get_stmt(s, ST_SINCE);
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

int
nw_store_max_seq(nw_store_t *s, uint64_t *seq)
{
    int rc = 0;
    sqlite3_stmt *st = get_stmt(s, ST_MAXSEQ);
    *seq = 0;
    if (!st)
        return -EIO;
    if (sqlite3_step(st) == SQLITE_ROW)
        *seq = (uint64_t)sqlite3_column_int64(st, 0);
    else
        rc = db_error(s, "read sequence");
    done_stmt(st);
    return rc;
}

int
nw_store_seq_at(nw_store_t *s, const char *time, uint64_t *after)
{
    int rc = 0;
    sqlite3_stmt *st = get_stmt(s, ST_SEQ_AT);
    *after = 0;
    if (!st)
        return -EIO;
    bind_text(st, 1, time);
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = db_error(s, "find sequence by time");
    } else if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
        int64_t first = sqlite3_column_int64(st, 0);
        *after = first > 0 ? (uint64_t)first - 1 : 0;
        done_stmt(st);
        return 0;
    }
    done_stmt(st);
    /* Nothing stored at or after that time: everything stored so far is before it. */
    return rc < 0 ? rc : nw_store_max_seq(s, after);
}

int64_t
nw_store_count(nw_store_t *s)
{
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
