/* spool.h: the durable spool of newswire-fetch. Every message fetch emits is appended here and
 * made durable (fdatasync) before its source hears "accepted"; it stays until the store's ack
 * names its sequence number, and is re-sent while it does not. The on-disk format and the
 * recovery are documented in proto/spool.md.
 *
 * The spool is plain file I/O with no event loop, so the service decides where the fsync runs
 * (newswire-fetch runs nw_spool_sync_run on the libuv threadpool) and tests drive it directly:
 *
 *   nw_spool_t *s = nw_spool_open("var/spool", 1 << 30, err, sizeof err);
 *   nw_spool_append(s, 'r', msg, len, &seq);        // written, not yet durable
 *   nw_spool_sync_t job;
 *   if (nw_spool_sync_prepare(s, &job) == 0) {      // every append so far is in the job
 *       nw_spool_sync_run(&job);                    // any thread: only fdatasync
 *       nw_spool_sync_finish(s, &job);              // back on the owner's thread
 *   }
 *   nw_spool_ack(s, seq);                           // the store committed it
 *
 * Single-threaded except for nw_spool_sync_run, which touches only the job. */
#ifndef NW_SPOOL_H
#define NW_SPOOL_H

#include <stddef.h>
#include <stdint.h>

/* Largest payload one record takes: a whole message (NW_PROTO_MAX_MSG) plus room. */
#define NW_SPOOL_MAX_PAYLOAD (65u * 1024 * 1024)
/* A segment is closed and a new one started once it holds this much (checked at each sync). */
#define NW_SPOOL_SEGMENT_MAX (64ull * 1024 * 1024)
/* Size of a record header (see proto/spool.md). */
#define NW_SPOOL_HEADER 32

typedef struct nw_spool nw_spool_t;

/* The fsync of one group commit. Filled by nw_spool_sync_prepare; opaque to the caller except
 * for `upto` and `err`. */
typedef struct nw_spool_sync {
    int fds[2];    /* duplicated descriptors to fdatasync (-1 when unused), closed by finish */
    int dir_fd;    /* the directory, to fsync after a new segment was created, or -1 */
    uint64_t upto; /* every data record with seq <= upto is durable once the job succeeded */
    uint64_t seg;  /* segment and size that are durable after success */
    uint64_t size;
    int err; /* 0 or the negative errno of the first failed fdatasync (set by run) */
} nw_spool_sync_t;

/* Open the spool in dir (created if missing), scanning every segment in order: each record's
 * magic, length and checksum is verified; a segment is truncated at its first bad record (a
 * torn tail after a crash; logged once with the file and byte offset); acks are applied; fully
 * acked segments are deleted. Every record left unacked counts as sent at the first
 * nw_spool_resend: it is re-sent resend_ms later if still unacked then. The directory is locked
 * (flock) against a second process. max_bytes bounds the unacked bytes (nw_spool_full). Returns the
 * spool (caller closes it) or NULL with a message in err. */
nw_spool_t *nw_spool_open(const char *dir, uint64_t max_bytes, char *err, size_t errlen);
/* Close every file and free. Unsynced appends may be lost (they were never acknowledged to
 * anyone). NULL-safe; nulls *s. */
void nw_spool_close(nw_spool_t **s);
/* Use segments of seg_max bytes instead of NW_SPOOL_SEGMENT_MAX (tests). */
void nw_spool_set_segment_max(nw_spool_t *s, uint64_t seg_max);

/* Append a data record: tag is the caller's one-byte kind (fetch: 'r' raw, 'd' dead), payload
 * 1..NW_SPOOL_MAX_PAYLOAD bytes (borrowed). Sets *seq. The record is written but durable only
 * after the next successful sync. On a write error (-ENOSPC, -EFBIG, -EIO ...) the segment is
 * cut back to the last good record and nothing is added. -EINVAL for a bad length. */
int nw_spool_append(nw_spool_t *s, uint8_t tag, const void *payload, size_t len, uint64_t *seq);

/* Record that seq was acknowledged: drop it from the unacked set and append a small ack record
 * (not synced: a lost ack record only causes a resend). Deletes a segment once every record in
 * it is acked (never the one being written). Returns 1 when seq was unacked, 0 when it was
 * unknown or already acked (a duplicate ack, or one from before a restart), or a negative
 * errno when only the ack record could not be written (the ack still counts). */
int nw_spool_ack(nw_spool_t *s, uint64_t seq);

/* Group commit. Returns 1 when there is nothing to sync, 0 with *job filled (every data record
 * appended so far is in it; rolls to a new segment when the current one is full), or a
 * negative errno (the job is not filled). At most one job may be outstanding. */
int nw_spool_sync_prepare(nw_spool_t *s, nw_spool_sync_t *job);
/* fdatasync the job's files. Safe on any thread; touches only the job. */
void nw_spool_sync_run(nw_spool_sync_t *job);
/* Apply the result on the owner's thread: on success the job's records become durable and are
 * due for sending; on failure every record not yet durable is cut from the files and forgotten
 * (their senders were never told "accepted") and job->err is returned. Returns 0 or job->err. */
int nw_spool_sync_finish(nw_spool_t *s, nw_spool_sync_t *job);
/* prepare + run + finish on this thread. Returns 0 or a negative errno. */
int nw_spool_sync(nw_spool_t *s);
/* The seq the next nw_spool_append will assign (so it can be written into the payload). */
uint64_t nw_spool_next_seq(const nw_spool_t *s);
/* Highest seq known durable (0 = none yet). */
uint64_t nw_spool_durable(const nw_spool_t *s);

/* Send what is due: for each durable unacked record, oldest first, whose resend time has come
 * (now_ms >= due), read its payload and call send(arg, seq, tag, payload, len). When send
 * returns 0 the record's next resend is scheduled (resend_ms doubled per attempt, at most
 * max_backoff_ms); any other return stops the scan (-EAGAIN: the queue is full, try again
 * later). At most `max` records per call. First sends always go; re-sends are paced: they
 * spend a budget that grows by 100 a second, or by twice the acks received meanwhile when
 * that is more, up to 1000, so a restart or a lost broker queue never sends the whole spool
 * again in one burst. Returns the number sent or a negative errno (a record could not be read
 * back; logged). */
typedef int (*nw_spool_send_cb)(void *arg, uint64_t seq, uint8_t tag, const uint8_t *payload,
                                size_t len);
int nw_spool_resend(nw_spool_t *s, int64_t now_ms, nw_spool_send_cb send, void *arg, size_t max);
/* A durable record was sent now (its first send, done by the caller from its own copy): its
 * next resend is due at now_ms + resend_ms. */
void nw_spool_sent(nw_spool_t *s, uint64_t seq, int64_t now_ms);
/* A durable record could not be sent now: make it due at once for nw_spool_resend. */
void nw_spool_due_now(nw_spool_t *s, uint64_t seq);
/* Everything sent up to now_ms is lost (the broker that held it is gone: a failover to the
 * other broker of a pair): every durable unacked record is due at once, as lost even while
 * acks flow (the pipeline after the new broker still acks what it had), and the re-send
 * budget is refilled to a full burst. Copies of records still in the pipeline are harmless
 * (the store is idempotent). */
void nw_spool_resend_lost(nw_spool_t *s, int64_t now_ms);
/* The resend policy: first resend resend_ms after a send, then doubling up to max_ms. */
void nw_spool_set_resend(nw_spool_t *s, int64_t resend_ms, int64_t max_ms);
/* Earliest resend time among durable unacked records, or INT64_MAX when none. */
int64_t nw_spool_next_due(const nw_spool_t *s);

/* The bound: 1 once the unacked bytes (headers and payloads of unacked data records) reach
 * max_bytes, and again 0 only when they fell below 90% of it (hysteresis, so sources are not
 * flipped on and off by every ack). */
int nw_spool_full(nw_spool_t *s);

typedef struct nw_spool_stats {
    uint64_t bytes;         /* bytes in segment files on disk */
    uint64_t unacked;       /* data records not acked */
    uint64_t unacked_bytes; /* their headers and payloads */
    uint64_t segments;      /* segment files */
    uint64_t next_seq;      /* the seq the next append gets */
    uint64_t truncated;     /* bytes cut at open (torn or corrupt tails) */
} nw_spool_stats_t;
void nw_spool_stats(const nw_spool_t *s, nw_spool_stats_t *out);

#endif
