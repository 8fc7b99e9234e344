/* store.h: the article database. Embedded default: SQLite in WAL mode with FTS5, one file
 * under the data directory. At scale: PostgreSQL, which several store processes share. Both
 * have the same schema with versioned migrations, upsert by id with revisions, full-text
 * search, stories and a dead-letter table. newswire-store writes it; `newswire search|get|dlq`
 * and `newswire tail --since` read it.
 *
 * Writes happen inside a transaction the caller opens and commits (group commit); the store
 * never commits on its own. */
#ifndef NW_STORE_H
#define NW_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "newswire/buf.h"
#include "newswire/proto.h"

typedef struct nw_store nw_store_t;

/* Story grouping (nw_store_put): a stored revision is compared with the last
 * NW_STORE_STORY_RING revisions stored whose time (published when it parses as ISO 8601, else
 * when stored) is within NW_STORE_STORY_WINDOW_MS of its own. */
#define NW_STORE_STORY_WINDOW_MS (3 * 24 * 3600 * 1000LL)
#define NW_STORE_STORY_RING 2000

/* Whether db names a PostgreSQL database: a "postgres://" or "postgresql://" URI, or a libpq
 * conninfo string ("host=/run/pg dbname=newswire": its first word is keyword=value). Anything
 * else is a SQLite file path (write a path with '=' in its first word as "./..."). */
int nw_store_is_postgres(const char *db);

/* Where the database is, as every program that takes --data-dir and --db says it: db when it
 * is set and not "" (a SQLite file or a PostgreSQL URI/conninfo), else <data_dir>/newswire.db.
 * Writes it to out[0..n). Returns 0, or -ENAMETOOLONG when it does not fit. */
int nw_store_path(const char *data_dir, const char *db, char *out, size_t n);

/* Open (creating and migrating when writable) the database db: a SQLite file path or a
 * PostgreSQL URI/conninfo (nw_store_is_postgres). A writable SQLite handle uses WAL,
 * synchronous=FULL (a commit is durable before it returns, because acks follow commits), a
 * busy timeout and foreign keys; a writable PostgreSQL handle keeps synchronous_commit on.
 * readonly opens an existing database for queries only (it sees what writers commit).
 * Returns the store (caller closes it) or NULL with a message in err (may be NULL) on failure,
 * e.g. a database that is not a newswire one or has a newer schema than this program knows. */
nw_store_t *nw_store_open(const char *db, int readonly, char *err, size_t errlen);
/* Close; rolls back an open transaction. NULL-safe; nulls *s. */
void nw_store_close(nw_store_t **s);

/* Schema version after migrations (SQLite: PRAGMA user_version; PostgreSQL: the highest
 * version in schema_migrations), or -EIO. */
int nw_store_schema_version(nw_store_t *s);

/* Open a write transaction (SQLite: BEGIN IMMEDIATE, which waits up to the busy timeout for
 * the write lock; PostgreSQL: writers run side by side, and a lost connection is re-opened
 * here). Returns 0, -EROFS on a read-only handle, -EINVAL when one is already open, or -EIO
 * (e.g. the database is unreachable). */
int nw_store_begin(nw_store_t *s);
/* Commit; durable when it returns 0. On -EIO the transaction is still open and the caller
 * must roll back (nothing of it is kept). -EINVAL when none is open. */
int nw_store_commit(nw_store_t *s);
/* Roll back the open transaction (a no-op without one), including the sequence numbers it
 * handed out. Returns 0 or -EIO. */
int nw_store_rollback(nw_store_t *s);

typedef struct nw_store_result {
    const char *status; /* "stored" (new id or new current revision: publish it), "unchanged"
                           (content already a revision of the id) or "history" (a late older
                           version, kept in the history, not current: do not publish) */
    uint32_t rev;       /* current revision of the id */
    uint64_t seq;       /* publication sequence number of this revision (0 when unchanged) */
    /* The story id and the near-duplicate's id (NULL when none; story is NULL only for an
     * unchanged article stored before schema v4). Owned by the store, valid until the next
     * put or close. */
    const char *story, *duplicate_of;
} nw_store_result_t;

/* Upsert an enriched article inside the open transaction. Content identity is the XXH3-128
 * of title, subtitle, text and captions (text and credit). History stays true whatever order
 * copies arrive in (redeliveries, re-sends, workers finishing out of order):
 *
 * - content already stored as ANY revision of the id is "unchanged": nothing written, doc
 *   untouched, e->rev/e->seq set to the current revision's;
 * - a new id is stored as rev 1;
 * - changed content gets the next revision number (numbers count arrivals of distinct
 *   content) and becomes current only when it is newer than the current revision by
 *   nw_store_newer (its acceptance version e->art.av, hlc.h): status "stored", published;
 * - changed content older than the current revision is a late copy: it is kept in the
 *   history (a revisions row marked late) and is never current, never published, never
 *   replayed by nw_store_since: status "history", nothing appended to doc.
 *
 * So the current revision is always the newest accepted, and per id, stored (published)
 * revisions have increasing seqs in acceptance order. Accepting content again that was
 * stored before (a page reverted to an earlier text) is "unchanged" as well: the current
 * revision stays the newest distinct content.
 *
 * A stored or late revision gets the next publication
 * sequence number (one counter for the database: SQLite hands them out densely under its write
 * lock, so they commit in order; PostgreSQL uses a sequence, so with several writers they may
 * commit out of order and a rollback leaves a gap). Sets e->rev and e->seq, and appends the
 * stored document (the enriched message with seq and rev, MessagePack) to doc when doc is not
 * NULL; that is the payload to publish. Borrows e; res->status is a static string.
 *
 * A stored revision also gets a story: its fingerprint (the simhash, minhash, terms, grams and
 * anchors keys and the language, see fingerprint.h) is compared with recent articles of other
 * ids (NW_STORE_STORY_RING). A near-duplicate by nw_fp_compare's verdict gives duplicate_of
 * (that article's id) and its story; else the most similar same-story article gives its
 * story; else (and without a fingerprint) the story is the article's own id. Both are written
 * to e as the pass-through keys "story" and "duplicate_of" (replacing earlier ones; no
 * duplicate_of key when none) and as the last topic "story.<story>" (when the story id is a
 * valid topic segment, as article ids are), so the document carries them; the articles row
 * has them as columns.
 *
 * Two writers putting the same id at once (PostgreSQL): the second waits for the first's
 * commit and then sees its revision, so the id is stored once.
 *
 * Returns 0, -EINVAL (no open transaction, no id, or the encoder rejected the article;
 * nothing was written), -EROFS, -ENOMEM, or -EIO for database errors (logged; roll back). */
int nw_store_put(nw_store_t *s, nw_enriched_t *e, nw_buf_t *doc, nw_store_result_t *res);

/* Whether content with acceptance version av and content hash hash is newer than the current
 * revision (cur_av, cur_hash): the higher version wins; equal versions (two fetch instances in
 * the same microsecond) are ordered by hash, so every store and every arrival order pick the
 * same winner. av 0 (a writer before proto v2) is newer than anything: arrival order, as
 * before acceptance versions existed. Returns 1 or 0. */
int nw_store_newer(uint64_t av, const char *hash, uint64_t cur_av, const char *cur_hash);

/* Record a dead letter inside the open transaction (borrows d; missing time, stage or
 * reason are recorded as now / "unknown"). Returns 0, -EINVAL without a transaction, -EROFS,
 * or -EIO (logged). */
int nw_store_put_dead(nw_store_t *s, const nw_dead_t *d);

typedef struct nw_store_hit {
    const char *id, *title, *published, *lang, *url;
    const char *snippet; /* with the matched terms bracketed: "...[Rafah]..." */
    double rank;         /* bm25; lower is better */
} nw_store_hit_t;
typedef int (*nw_store_hit_cb)(const nw_store_hit_t *hit, void *arg); /* nonzero stops */

/* Full-text search (FTS5 query syntax; a plain word list is accepted), best first by bm25
 * with title hits weighted over subtitle over text. A query FTS5 rejects is retried with each
 * whitespace-separated chunk as a quoted phrase of its plain words ("U.S." -> "U S").
 * The hit's strings are borrowed until cb returns. limit <= 0 means no limit.
 * Returns the number of hits passed to cb or a negative errno (-EINVAL for an empty query or
 * one with no words, -EIO). */
int nw_store_search(nw_store_t *s, const char *query, int limit, nw_store_hit_cb cb, void *arg);
/* A time budget for every later nw_store_search on this handle: a search still working after
 * ms is cut and returns -ETIMEDOUT (SQLite: a progress handler; PostgreSQL: the session's
 * statement_timeout). 0 lifts it. For handles that serve outside callers (newswire-query).
 * Returns 0 or -EIO. */
int nw_store_set_budget(nw_store_t *s, int64_t ms);

/* A search hit as one JSON object (jansson) {id, title, published, lang, url, snippet, rank},
 * as `newswire search --json` and newswire-query's /v1/search give it: every key is always
 * there, null when the article does not have the field, so a hit has one shape. Returns a new
 * reference (caller json_decref()s it) or NULL when out of memory. */
struct json_t *nw_store_hit_json(const nw_store_hit_t *hit);

/* The current stored document of an id (enriched MessagePack). Caller frees *buf (free()).
 * Returns 0, -ENOENT, or negative errno. */
int nw_store_get(nw_store_t *s, const char *id, uint8_t **buf, size_t *len);

typedef struct nw_store_dead_row {
    int64_t rowid;
    const char *time, *stage, *reason, *detail, *id, *source, *content_type;
    const uint8_t *bytes;
    size_t bytes_len;
    const char *origin; /* fetch instance to ack when replayed, or NULL */
    uint64_t spool;     /* its spool sequence number, 0 when none */
    /* The last replay (schema v2; all NULL when never replayed): when it was claimed or
     * answered, "replaying" (claimed, no answer recorded yet), "accepted" or "refused", the
     * id fetch gave it, and fetch's refusal as "<reason>: <message>". */
    const char *replayed_at, *replay_status, *replay_id, *replay_detail;
} nw_store_dead_row_t;
typedef int (*nw_store_dead_cb)(const nw_store_dead_row_t *row, void *arg);

/* Dead letters, newest first, at most limit (<= 0: all). The row's pointers are borrowed
 * until cb returns; nonzero from cb stops. Returns the count or negative errno. */
int nw_store_dlq_list(nw_store_t *s, int limit, nw_store_dead_cb cb, void *arg);

/* The dead letter with this row id passed to cb (may be NULL: existence check), borrowed as
 * in nw_store_dlq_list. Returns 0, -ENOENT, or negative errno. */
int nw_store_dlq_get(nw_store_t *s, int64_t rowid, nw_store_dead_cb cb, void *arg);

/* Dead letters never replayed, oldest first, only those with this reason when reason is not
 * NULL. Returns the count, -EPROTO on a schema older than v2 (read-only handle on a database
 * the writer has not migrated yet), or negative errno. */
int nw_store_dlq_pending(nw_store_t *s, const char *reason, nw_store_dead_cb cb, void *arg);

typedef struct nw_store_dlq_stat {
    const char *stage, *reason;
    int64_t count;    /* dead letters with this stage and reason */
    int64_t replayed; /* of which replayed (any answer) */
} nw_store_dlq_stat_t;
typedef int (*nw_store_dlq_stat_cb)(const nw_store_dlq_stat_t *row, void *arg);

/* Dead letters counted by stage and reason, most frequent first. Strings borrowed until cb
 * returns; nonzero from cb stops. Returns the number of groups or negative errno. */
int nw_store_dlq_stats(nw_store_t *s, nw_store_dlq_stat_cb cb, void *arg);

/* Claim a dead letter for a replay inside the open transaction: marks it "replaying" now,
 * unless it was replayed (or claimed) before and force is 0. One conditional UPDATE, so of
 * two concurrent replays only one wins. Returns 0 (claimed), -EALREADY (replayed before),
 * -ENOENT (no such letter), -EINVAL without a transaction, -EROFS, or -EIO. */
int nw_store_dlq_claim(nw_store_t *s, int64_t rowid, int force);

/* Record the answer to a replay inside the open transaction: status "accepted" (new_id is the
 * id fetch gave) or "refused" (detail says why), stamped now. status NULL releases a claim
 * (the replay never reached fetch): the letter is pending again. Borrows the strings.
 * Returns 0, -ENOENT, -EINVAL without a transaction, -EROFS, or -EIO. */
int nw_store_dlq_replayed(nw_store_t *s, int64_t rowid, const char *status, const char *new_id,
                          const char *detail);

/* Stored documents with seq > after, in seq order, at most limit (<= 0: all), for backfill.
 * Every revision is replayed as it was published. cb gets the enriched MessagePack, borrowed
 * until it returns; nonzero stops. Returns the count or negative errno.
 *
 * What it returns is always a prefix of the seq history: once seq N is returned, no seq below
 * N can appear later, so a reader may resume from the highest seq it read. SQLite writers
 * commit in seq order; on PostgreSQL, where writers commit out of order, only seqs below every
 * transaction still in progress are returned (it waits, briefly, for those to end). */
typedef int (*nw_store_doc_cb)(uint64_t seq, const uint8_t *doc, size_t len, void *arg);
int nw_store_since(nw_store_t *s, uint64_t after, int limit, nw_store_doc_cb cb, void *arg);

/* The highest seq stored (0 when empty) in *seq, of the prefix nw_store_since returns.
 * Returns 0 or -EIO. */
int nw_store_max_seq(nw_store_t *s, uint64_t *seq);

/* The backfill start for a time: *after is one below the first seq stored at or after time
 * (an ISO 8601 UTC string as nw_time_iso() writes, "YYYY-MM-DDTHH:MM:SS.mmmZ", compared as
 * text), or the highest seq when nothing was stored since. stored_at is the writer's wall
 * clock: every seq after that first one is included, even one a clock step back stamped
 * earlier. Returns 0 or -EIO. */
int nw_store_seq_at(nw_store_t *s, const char *time, uint64_t *after);

/* Number of distinct article ids stored, or -EIO. */
int64_t nw_store_count(nw_store_t *s);

/* ---- The query API (store_query.c): filters, pages, facets ----
 *
 * Every current revision is indexed (schema v7) by its topics (lang.en, person.antony-blinken,
 * country.eg, place.eg.cairo, theme.diplomacy, story.<id>, ...) with its time, and by the
 * coordinates of its places. Its time ("at") is its published date when that parses as ISO
 * 8601, else when it was stored; the rows say which. Schema v8 adds the number of articles
 * per topic per hour and per day, kept by every commit, and each place coordinate once.
 * Every query's cost is bounded by design (store_query.c says how). */

#define NW_STORE_MAX_TERMS 32 /* topics (OR) and required topics (AND) of one filter, each */

typedef enum nw_store_sort {
    NW_STORE_SORT_SEQ,       /* publication order, oldest first (what sync and paging want) */
    NW_STORE_SORT_PUBLISHED, /* by time, newest first */
    NW_STORE_SORT_RELEVANCE, /* best full-text match first (needs q) */
} nw_store_sort_t;

typedef struct nw_store_filter {
    const char *q; /* full-text words (NULL: none); read as plain words by both backends */
    /* Time bounds, ISO 8601 UTC as nw_time_iso writes them: from <= at < to (NULL: open). */
    const char *from, *to;
    /* Any of these topic prefixes, matched as strings ("place.eg" takes "place.eg.cairo"). */
    const char *topics[NW_STORE_MAX_TERMS];
    size_t n_topics;
    /* Every one of these topics, each exactly or as a parent ("place.eg" takes
     * "place.eg.cairo", "person.joe" does not take "person.joe-biden"). */
    const char *all_of[NW_STORE_MAX_TERMS];
    size_t n_all_of;
    int has_near; /* a place within km of (lat, lon) */
    double lat, lon, km;
    int has_bbox; /* a place inside the box */
    double minlon, minlat, maxlon, maxlat;
    uint64_t after_seq; /* seq above this only */
} nw_store_filter_t;

/* One article of a page: borrowed until the callback returns. */
typedef struct nw_store_qrow {
    uint64_t seq;
    const char *id, *title, *published, *lang, *url;
    const char *at;      /* the time the filters and sort use */
    int at_published;    /* 1: at is the published date; 0: when it was stored */
    double rank;         /* relevance (higher is better); 0 without q */
    const char *snippet; /* with want_snippets: matched words bracketed, "...[Rafah]..." */
    const uint8_t *doc;  /* the stored document (enriched MessagePack) */
    size_t doc_len;
} nw_store_qrow_t;
typedef int (*nw_store_qrow_cb)(const nw_store_qrow_t *row, void *arg); /* nonzero stops */

typedef struct nw_store_page {
    nw_store_sort_t sort;
    const char *cursor; /* a previous page's next (NULL: the first page) */
    int limit;          /* 1..1000 */
    int want_snippets;  /* fill snippet (with q) */
    int64_t count_max;  /* count matches up to this (0: do not count) */
    /* out */
    char next[96];   /* the cursor of the next page, "" when this was the last */
    int has_more;    /* another page follows */
    int64_t total;   /* matches, when counted (-1: not counted) */
    int total_exact; /* total is below count_max: exact */
} nw_store_page_t;

/* Articles matching f, one page in pg's sort after pg->cursor, to cb; fills pg's out fields.
 * Pages never repeat or skip an article that stays stored (keyset cursors; relevance pages by
 * offset; relevance ranks a bounded set: every match when another condition has under 2,000
 * articles (an area: 1,000) or the words match under 2,000, else the 1,000 newest matches that
 * pass). total is counted where that is bounded (no condition, one topic, the words alone, a
 * condition under 2,000 articles), else left -1 (has_more still set). Under the handle's budget
 * (nw_store_set_budget). Returns the rows passed, -EINVAL (a bad cursor, relevance without q,
 * a q without words), -ETIMEDOUT, -EPROTO (schema before v8: the writer has not migrated), or
 * -EIO. */
int nw_store_query(nw_store_t *s, const nw_store_filter_t *f, nw_store_page_t *pg,
                   nw_store_qrow_cb cb, void *arg);

typedef enum nw_store_bucket {
    NW_STORE_BUCKET_NONE,
    NW_STORE_BUCKET_HOUR,
    NW_STORE_BUCKET_DAY
} nw_store_bucket_t;

/* One facet value: the topic under the facet's prefix ("person.antony-blinken"), its count
 * in the window, in the previous window of equal length (trending), and per bucket. */
typedef struct nw_store_facet {
    const char *topic;
    int64_t count, previous;
    const char *const *buckets; /* bucket starts (ISO 8601), n_buckets */
    const int64_t *bucket_counts;
    size_t n_buckets;
} nw_store_facet_t;
typedef int (*nw_store_facet_cb)(const nw_store_facet_t *facet, void *arg);

/* Counts of the articles matching f (which must have from and to) per topic under prefix
 * ("person.", "lang."), top n by count (trending: by count - previous), each with its count
 * in [from - (to - from), from) and its buckets. Without conditions in f, read from the counts
 * kept per day and hour (and the rows of the minutes at the window's ends); with them, from
 * the matching articles' topics. Returns the facets passed, or the errors of nw_store_query. */
int nw_store_facets(nw_store_t *s, const nw_store_filter_t *f, const char *prefix, int top,
                    int trending, nw_store_bucket_t bucket, nw_store_facet_cb cb, void *arg);

/* One revision of an article, oldest first. */
typedef struct nw_store_rev {
    uint32_t rev;
    uint64_t seq;
    uint64_t av; /* acceptance version (hlc.h); 0 before schema v6 */
    int late;    /* kept as history, never current */
    int current;
    const char *stored_at, *content_hash;
    const uint8_t *doc;
    size_t doc_len;
} nw_store_rev_t;
typedef int (*nw_store_rev_cb)(const nw_store_rev_t *rev, void *arg);

/* Every revision of id, by revision number. Returns the count (0: no such id) or -EIO. */
int nw_store_revisions(nw_store_t *s, const char *id, nw_store_rev_cb cb, void *arg);

/* Fill the query API's index for stored revisions that lack it (a database migrated to v7),
 * in transactions of a few thousand articles. A writable handle does this at open. Returns
 * the articles indexed or a negative errno. */
int64_t nw_store_reindex(nw_store_t *s);

#endif
