/* store_backend.h: what store.c (the common logic behind store.h: content identity, story
 * ring, document encoding, argument checks) asks of a database backend. Two backends
 * implement it: store_sqlite.c (embedded default) and store_pg.c (PostgreSQL, several store
 * processes on one database). Private to services/lib.
 *
 * Every operation returns 0 or a negative errno (-EIO for database trouble, logged by the
 * backend where it happens) unless said otherwise. The common code checks read-only handles,
 * open transactions and arguments before calling a write, so backends need not. Strings and
 * blobs passed in are borrowed until return; those passed to callbacks are borrowed until the
 * callback returns. */
#ifndef NW_STORE_BACKEND_H
#define NW_STORE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "newswire/buf.h"
#include "newswire/store.h"

/* The schema version both backends migrate to (the SQLite one counts PRAGMA user_version,
 * the PostgreSQL one rows of schema_migrations; the steps are the same). */
#define NW_STORE_SCHEMA_VERSION 10

/* The current revision of an id, as put needs it, and what its history holds. story and
 * duplicate_of are malloc'd (the caller frees them; NULL when the column is NULL). */
typedef struct store_cur {
    uint32_t rev; /* the current revision */
    uint64_t seq;
    uint64_t av; /* its acceptance version (0: stored before v6, or by a writer without one) */
    char hash[33];
    char *story, *duplicate_of;
    uint32_t max_rev;   /* the highest revision number of the id (>= rev: late ones count) */
    uint32_t known_rev; /* a revision with the looked-up content hash, 0 when none */
    uint64_t next_seq;  /* handed out by lookup for the revision to store, 0 when none */
} store_cur_t;

/* One stored revision: the articles row (insert or update) and its revisions row. */
typedef struct store_row {
    const char *id;
    uint32_t rev;
    uint64_t seq;
    const char *hash, *url, *title, *subtitle, *published, *dateline, *lang, *authors, *source,
        *fetched, *stored_at, *text, *story, *duplicate_of;
    uint64_t av; /* acceptance version */
    int late;    /* older than the current revision: a revisions row only (history, never
                    published; nw_store_since skips it), no articles row, no fingerprint */
    int64_t words;
    const uint8_t *doc;
    size_t doc_len;
} store_row_t;

/* One row of the fingerprints table. */
typedef struct store_fp_row {
    uint64_t seq;
    const char *id, *story;
    int64_t time;
    uint64_t simhash;
    const void *minhash, *terms, *grams, *anchors; /* NULL when absent */
    size_t minhash_len, terms_len, grams_len, anchors_len;
    const char *lang; /* since v5; NULL when absent */
} store_fp_row_t;
typedef int (*store_fp_cb)(const store_fp_row_t *row, void *arg); /* < 0 stops with that error */

/* A row of a query store_query.c runs (store_ops.select): its columns as text, NULL for SQL
 * NULL, blobs as bytes (lens[i] is each column's length). Nonzero stops (< 0: with that
 * error). */
typedef int (*store_sel_cb)(const char *const *cols, const size_t *lens, int n, void *arg);

/* What the query API's SQL (store_query.c, the same for both backends) needs to know of a
 * backend's dialect. Each ? in these takes the words (fts_text's output). */
typedef struct store_dialect {
    /* "SELECT <alias>.seq|rowid AS seq FROM ... WHERE <match>": the matching articles' seqs;
     * a caller may append " AND ...". */
    const char *fts_seqs;
    /* A condition: the article of topic row t (t.seq) matches. */
    const char *fts_probe;
    /* "SELECT seq, at, published, rank FROM <matches> CROSS JOIN article_topics t WHERE
     * <match> AND t.topic = 'all' AND t.seq = <seq>": the matches with their "all" rows and
     * relevance (higher is better), computed in the one statement; a caller appends
     * conditions on t, then fts_newest_order (newest match first, in the index's order). */
    const char *fts_newest;
    const char *fts_newest_order;
    /* "SELECT seq, rank FROM <matches> WHERE <match>" (rank as in fts_newest). */
    const char *fts_ranked;
    /* The seq column of fts_seqs and fts_ranked to append " IN (...)" to, written so that the
     * list is checked per match rather than each of its seqs looked up as a match of its own. */
    const char *fts_seq_col;
    /* "SELECT seq, snippet FROM ... WHERE ... seq IN (": the snippets of the articles whose
     * seqs the caller lists (as "?, ?)") for the words ? (its own placeholders, first),
     * matches bracketed as "[word]". */
    const char *snippet_sql;
    /* The words as the dialect's match text in out; -EINVAL when no word is left. */
    int (*fts_text)(const char *words, nw_buf_t *out);
    /* Rows the index writes put in one INSERT (0: as many as fit). SQLite: 1. Inside a
     * transaction, SQLite copies every page a statement that writes several rows changes into
     * a statement journal (to undo that statement alone if a later row fails): a topic INSERT
     * of 32 rows touches some 70 index pages, copied out for every article (0.4 MB of journal
     * per article at 2,000 articles). A one-row INSERT needs no statement journal and, prepared
     * once and kept, costs less than the multi-row text prepared anew for each row count.
     * PostgreSQL would pay a round trip per statement instead. */
    int index_rows;
} store_dialect_t;

/* Which dead letters store_ops.dlq reads. */
enum { STORE_DLQ_LIST, STORE_DLQ_GET, STORE_DLQ_PENDING };

typedef struct store_ops {
    const char *name;
    /* Connect to target; a writable handle creates and migrates the schema. Sets s->be and
     * s->version; on failure says why in err (never empty) and leaves s->be for close. */
    int (*open)(nw_store_t *s, const char *target, char *err, size_t errlen);
    void (*close)(nw_store_t *s); /* also rolls back an open transaction */
    int (*schema_version)(nw_store_t *s);
    int (*begin)(nw_store_t *s);
    int (*commit)(nw_store_t *s); /* on failure the transaction is still open */
    int (*rollback)(nw_store_t *s);
    /* The current revision of id in cur (0) or -ENOENT, with the id's highest revision number
     * and the revision (if any) whose content hash is hash. When want_seq and the id is new or
     * no revision has that content, also hands out the seq of the revision to store in
     * cur->next_seq. A backend with concurrent writers locks the articles row before it reads
     * the revisions, and holds the lock until the transaction ends, so the history it read and
     * the seq it handed out follow every revision another writer committed for the id: per id,
     * seq order is the order in which revisions became current. A seq handed out and not
     * written is lost (SQLite hands the same one out again). */
    int (*lookup)(nw_store_t *s, const char *id, const char *hash, int want_seq, store_cur_t *cur);
    /* Write r as the articles row (exists: update, else insert), its revisions row, and fp
     * (may be NULL) as its fingerprints row; when r->late, only the revisions row (exists is
     * then 1). -EEXIST when another writer inserted the id since the lookup (nothing was
     * written). */
    int (*write)(nw_store_t *s, const store_row_t *r, const store_fp_row_t *fp, int exists);
    int (*fp_prune)(nw_store_t *s, uint64_t upto); /* delete fingerprints with seq <= upto */
    /* Fingerprints with seq > after, newest first, at most limit. Returns the count. */
    int (*fp_load)(nw_store_t *s, uint64_t after, int limit, store_fp_cb cb, void *arg);
    /* Insert a dead letter with time, stage and reason filled in; key is its item_key (NULL:
     * always new); a letter whose key exists is ignored. */
    int (*put_dead)(nw_store_t *s, const nw_dead_t *d, const char *time, const char *key);
    int (*search)(nw_store_t *s, const char *query, int limit, nw_store_hit_cb cb, void *arg);
    int (*get)(nw_store_t *s, const char *id, uint8_t **buf, size_t *len);
    /* STORE_DLQ_LIST (n: limit), STORE_DLQ_GET (n: rowid), STORE_DLQ_PENDING (reason may be
     * NULL). Returns the count. */
    int (*dlq)(nw_store_t *s, int kind, int64_t n, const char *reason, nw_store_dead_cb cb,
               void *arg);
    int (*dlq_stats)(nw_store_t *s, nw_store_dlq_stat_cb cb, void *arg);
    /* The conditional claim UPDATE; returns the number of rows changed (0 or 1). */
    int (*dlq_claim)(nw_store_t *s, int64_t rowid, int force, const char *now);
    /* Record a replay answer (all NULL when status is NULL); returns rows changed. */
    int (*dlq_replayed)(nw_store_t *s, int64_t rowid, const char *now, const char *status,
                        const char *new_id, const char *detail);
    int (*since)(nw_store_t *s, uint64_t after, int limit, nw_store_doc_cb cb, void *arg);
    int (*max_seq)(nw_store_t *s, uint64_t *seq);
    /* The first seq stored at or after time in *first, 0 when none. */
    int (*seq_at)(nw_store_t *s, const char *time, uint64_t *first);
    int64_t (*count)(nw_store_t *s);
    /* Cut every later search on this handle after ms of work (0: no limit); such a search
     * returns -ETIMEDOUT. */
    int (*set_budget)(nw_store_t *s, int64_t ms);
    /* Run sql from store_query.c, written with ? placeholders (the backend numbers them as its
     * library wants), params bound as text in order (NULL: SQL NULL); cb (may be NULL: a write)
     * gets each row. Under the budget of set_budget. Returns the rows passed, cb's negative
     * value, -ETIMEDOUT past the budget, or -EIO. */
    int (*select)(nw_store_t *s, const char *sql, const char *const *params, int n_params,
                  store_sel_cb cb, void *arg);
    const store_dialect_t *dialect;
} store_ops_t;

/* Index a stored current revision for the query API (store_query.c): its topics with its time
 * and its places, replacing old_seq's rows (the revision it replaces; 0 for a new id). Inside
 * the open transaction. Returns 0 or a negative errno. */
int store_index_put(nw_store_t *s, const nw_enriched_t *e, uint64_t seq, uint64_t old_seq,
                    const char *stored_at);
/* The facet counts the open transaction's puts changed (store_index_put collects them), written
 * in one sorted pass before commit, so concurrent writers take the counters' row locks in the
 * same order (no deadlock). store_facets_clear drops them (rollback, close). */
int store_facets_flush(nw_store_t *s);
void store_facets_clear(nw_store_t *s);

extern const store_ops_t nw_store_sqlite_ops;
extern const store_ops_t nw_store_pg_ops;

/* A store handle. store.c owns the story ring and the scratch buffer; the backend keeps its
 * connection in be. */
struct store_ring;
struct nw_store {
    const store_ops_t *ops;
    void *be; /* the backend's state */
    int readonly;
    int version; /* schema version at open (after migrating, for a writable handle) */
    int in_tx;
    uint64_t pending_seq;        /* handed out by lookup, not used yet (0: none) */
    uint64_t prune_upto;         /* fingerprints the ring evicted, deleted before commit */
    nw_buf_t scratch;            /* encoded document of the put in progress */
    struct store_ring *ring;     /* story ring (writable handles) */
    struct nw_names *names;      /* full names by surname (names.h; writable handles) */
    char *story, *duplicate_of;  /* of the last put, for nw_store_result_t */
    struct store_deltas *deltas; /* facet count changes of the open transaction */
};

#endif
