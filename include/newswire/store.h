/* store.h: the article database. Embedded default: SQLite in WAL mode with FTS5, one file
 * under the data directory, versioned schema migrations, upsert by id with revisions, and a
 * dead-letter table. newswire-store writes it; `newswire search|get|dlq` read it.
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

/* Open (creating and migrating when writable) the database at path. readonly opens an
 * existing file for queries only. Returns NULL with a message in err on failure. */
nw_store_t *nw_store_open(const char *path, int readonly, char *err, size_t errlen);
/* Close; rolls back an open transaction. NULL-safe; nulls *s. */
void nw_store_close(nw_store_t **s);

/* Schema version after migrations. */
int nw_store_schema_version(nw_store_t *s);

int nw_store_begin(nw_store_t *s);
int nw_store_commit(nw_store_t *s);
int nw_store_rollback(nw_store_t *s);

typedef struct nw_store_result {
    const char *status; /* "stored" (new id or new revision) or "unchanged" (same content) */
    uint32_t rev;       /* current revision of the id */
    uint64_t seq;       /* publication sequence number of this revision (0 when unchanged) */
} nw_store_result_t;

/* Upsert an enriched article inside the open transaction. The same content again is
 * "unchanged"; changed content under the same id becomes revision rev+1 and the current one.
 * Sets e->rev and e->seq, and appends the stored document (the enriched message with seq and
 * rev, MessagePack) to doc when doc is not NULL; that is the payload to publish.
 * Returns 0 or a negative errno (-EIO for database errors, logged). */
int nw_store_put(nw_store_t *s, nw_enriched_t *e, nw_buf_t *doc, nw_store_result_t *res);

/* Record a dead letter inside the open transaction. Returns 0 or negative errno. */
int nw_store_put_dead(nw_store_t *s, const nw_dead_t *d);

typedef struct nw_store_hit {
    const char *id, *title, *published, *lang, *url;
    const char *snippet; /* with the matched terms bracketed: "...[Rafah]..." */
    double rank;         /* bm25; lower is better */
} nw_store_hit_t;
typedef int (*nw_store_hit_cb)(const nw_store_hit_t *hit, void *arg); /* nonzero stops */

/* Full-text search (FTS5 query syntax; a plain word list is accepted), best first.
 * Returns the number of hits or a negative errno (-EINVAL for a bad query). */
int nw_store_search(nw_store_t *s, const char *query, int limit, nw_store_hit_cb cb, void *arg);

/* The current stored document of an id (enriched MessagePack). Caller frees *buf.
 * Returns 0, -ENOENT, or negative errno. */
int nw_store_get(nw_store_t *s, const char *id, uint8_t **buf, size_t *len);

typedef struct nw_store_dead_row {
    int64_t rowid;
    const char *time, *stage, *reason, *detail, *id, *source, *content_type;
    const uint8_t *bytes;
    size_t bytes_len;
} nw_store_dead_row_t;
typedef int (*nw_store_dead_cb)(const nw_store_dead_row_t *row, void *arg);

/* Dead letters, newest first. Returns the count or negative errno. */
int nw_store_dlq_list(nw_store_t *s, int limit, nw_store_dead_cb cb, void *arg);

/* Stored documents with seq > after, in seq order, at most limit (for backfill).
 * cb gets the enriched MessagePack. Returns the count or negative errno. */
typedef int (*nw_store_doc_cb)(uint64_t seq, const uint8_t *doc, size_t len, void *arg);
int nw_store_since(nw_store_t *s, uint64_t after, int limit, nw_store_doc_cb cb, void *arg);

/* Number of distinct article ids stored. */
int64_t nw_store_count(nw_store_t *s);

#endif
