/* store_batch.h: private to the library. The store stage's delivery state machine, taken out
 * of services/store/main.c so unit tests reach it (tests/unit/test_store_batch.c).
 *
 * Jobs ("enriched" and "dead" messages, as the broker hands them over) are added in arrival
 * order and written to the database in group-committed batches:
 *
 *   add ──▶ pending ──apply──▶ in the open transaction ──commit──▶ publish, ack, done
 *                                   │ begin/apply/commit fails
 *                                   ▼
 *                      rollback, keep every payload, retry after a backoff
 *                      (backoff_min_ms doubling up to backoff_max_ms; reset by a commit)
 *
 * - A transaction opens on the first pending job; it commits when batch_max jobs are in it,
 *   or batch_ms after it opened, whichever comes first.
 * - Only after a commit, and in arrival order, each job's article is published on its topics
 *   (when it was newly stored), its ack goes to "ack.<origin>" (when it has an origin), and
 *   then done(n) reports the n jobs finished. Nothing is published, acked or done for a batch
 *   that failed, so the broker and fetch still hold the work if the process dies meanwhile.
 * - Content problems never fail a batch: a message that does not decode, has an unexpected
 *   type, or cannot be re-encoded becomes a dead letter (stage "store", reason "bad-message"
 *   or "bad-article", with the original bytes) in the same transaction and is acked "dead".
 *   A "dead" message from another stage is stored as it is and acked "dead". Dead-letter
 *   reasons become metric labels only when tidy ([a-z0-9-], under 40 bytes), else "other". */
#ifndef NW_STORE_BATCH_H
#define NW_STORE_BATCH_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "newswire/store.h"

typedef struct nw_store_batch nw_store_batch_t;

typedef struct nw_store_batch_opts {
    size_t batch_max;        /* commit once this many jobs are in the transaction (>= 1) */
    uint64_t batch_ms;       /* commit at most this long after the transaction opened */
    uint64_t backoff_min_ms; /* first retry after a failed batch (0: 1000) */
    uint64_t backoff_max_ms; /* longest retry delay (0: 30000) */
    /* Send one message on the hub (an article on a topic, or an ack on "ack.<origin>").
     * Borrows everything until return; an error is logged and otherwise ignored (a lost ack
     * only makes fetch re-send, which the store answers "unchanged"). */
    int (*publish)(void *arg, const char *topic, const void *data, size_t len);
    /* n jobs are finished, the oldest pending ones. */
    void (*done)(void *arg, size_t n);
    void *arg;
    /* Fault injection for tests (NULL in services): called before each database operation
     * ("begin", "apply", "commit"); a negative errno makes that operation fail with it. */
    int (*fault)(void *arg, const char *op);
} nw_store_batch_opts_t;

/* Borrow db (it must outlive the batch) and start two timers on loop. Returns NULL on ENOMEM
 * or a bad option. Copies o. */
nw_store_batch_t *nw_store_batch_new(uv_loop_t *loop, nw_store_t *db,
                                     const nw_store_batch_opts_t *o);
/* Take one job (type "enriched" or "dead"; anything else becomes a dead letter). Copies data.
 * Returns 0 or -ENOMEM (nothing kept: the job stays unfinished for its sender). */
int nw_store_batch_add(nw_store_batch_t *b, const char *type, const uint8_t *data, size_t len);
/* Commit everything pending now, once, without waiting for timers (SIGTERM), and stop
 * retrying afterwards. Returns the number of jobs left uncommitted (a commit failed). */
size_t nw_store_batch_drain(nw_store_batch_t *b);
/* Jobs added and not yet done. */
size_t nw_store_batch_pending(const nw_store_batch_t *b);
/* Batches rolled back since start (for tests; also nw_store_batch_failures_total). */
uint64_t nw_store_batch_failures(const nw_store_batch_t *b);
/* Readiness (nw_service_add_ready; b is a nw_store_batch_t *): NULL while the database takes
 * commits, else why not ("the last batch failed; retrying"): an unreachable PostgreSQL shows
 * on /readyz, not only in the logs. */
const char *nw_store_batch_ready(void *b);
/* Stop the timers and free everything, pending jobs included (never done). cb (may be NULL)
 * runs from the loop once the handles are closed. NULL-safe. */
void nw_store_batch_close(nw_store_batch_t *b, void (*cb)(void *arg), void *arg);

#endif
