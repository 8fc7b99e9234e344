/* follow.h: a subscriber that loses nothing and sees nothing twice. The ZeroMQ guide's Clone
 * pattern over the store's publication sequence: the database is the source of truth, the
 * live stream from the hub a fast path.
 *
 *   1. the caller subscribes to the hub first, so live documents queue while it reads;
 *   2. backfill: nw_follow_catch_up passes every stored document (every revision) with
 *      seq > cursor whose "topics" match a prefix, in seq order;
 *   3. live: nw_follow_live drops a document with seq <= cursor (already passed, or the same
 *      article on another topic), passes seq == cursor + 1 from the message itself, and on a
 *      larger seq catches up from the database first (something between was dropped at a
 *      high-water mark, published before the subscription reached the hub, or is on topics
 *      the caller does not receive: a filtered stream always has holes), which includes the
 *      message itself because the store publishes only after commit;
 *   4. the caller also catches up every so often and whenever the stream has been quiet: a
 *      document dropped at the end of a burst has no successor to reveal the hole.
 *
 * This is sound because what nw_store_since returns is a prefix of the seq history
 * (store.h): after reading up to seq N, nothing below N can appear later. SQLite hands out
 * seqs under its write lock; PostgreSQL stores commit out of order, and the read waits for the
 * write transactions in progress instead.
 * Single-threaded; one nw_follow_t per subscriber. */
#ifndef NW_FOLLOW_H
#define NW_FOLLOW_H

#include <stddef.h>
#include <stdint.h>

#include "newswire/proto.h"
#include "newswire/store.h"

/* Where a passed document came from. */
typedef enum nw_follow_src {
    NW_FOLLOW_BACKFILL,  /* the first catch-up */
    NW_FOLLOW_LIVE,      /* the live message itself */
    NW_FOLLOW_RECOVERED, /* a later catch-up: a hole in the live stream, filled */
} nw_follow_src_t;

/* A matching document: topic is the first of its topics a prefix matched; everything is
 * borrowed until return. Nonzero stops the catch-up in progress (the cursor includes this
 * document); the next catch-up resumes after it. */
typedef int (*nw_follow_cb)(const char *topic, uint64_t seq, const uint8_t *doc, size_t len,
                            nw_follow_src_t src, void *arg);

typedef struct nw_follow {
    nw_store_t *db;              /* read-only handle is enough */
    const char *const *prefixes; /* topic prefixes; "" matches every document */
    size_t n_prefixes;
    uint64_t cursor; /* every document with seq <= cursor has been considered */
    nw_follow_cb cb;
    void *arg;
    int batch;          /* documents per database read (keeps read snapshots short) */
    int backfilled;     /* the first catch-up finished */
    uint64_t n_dups;    /* live documents dropped as already considered */
    uint64_t n_missing; /* live documents not found in the database: wrong database? */
    /* Rows one catch-up may read before it stops as if the callback had (0: no bound), so a
     * topic nothing matches cannot make one call read the whole database; the cursor says
     * where the next call resumes. */
    int scan_max;
} nw_follow_t;

/* Where a subscriber starts: since is "now" (the highest stored seq), a seq number, a relative
 * time ("30s", "10m", "2h", "7d": that long ago) or an ISO 8601 time (nw_time_parse); a time
 * becomes one below the first seq stored at or after it. Sets *cursor. Returns 0, -EINVAL for
 * anything else (nothing read), or -EIO from the store. */
int nw_follow_cursor_at(nw_store_t *db, const char *since, uint64_t *cursor);

/* The first of e's topics that a prefix matches, or NULL. */
const char *nw_follow_match(const nw_follow_t *f, const nw_enriched_t *e);

/* Pass every matching stored document after the cursor, batch by batch, until the database
 * has no more or cb stops. Returns 1 when cb stopped, 0 when caught up, or a negative errno
 * from the store (the cursor stays at the last document read). */
int nw_follow_catch_up(nw_follow_t *f);

/* One live document (decoded as e, bytes doc[0..len)): dropped, passed, or a catch-up (see
 * above). A seq the database does not have even after the catch-up is passed as it is and
 * counted in n_missing. Returns 1 when cb stopped, 0, or a negative errno from the store. */
int nw_follow_live(nw_follow_t *f, const nw_enriched_t *e, const uint8_t *doc, size_t len);

#endif
