/* spool.c: the durable spool of newswire-fetch (see spool.h; the format is in proto/spool.md).
 *
 * A spool is a directory of segment files, each named for the first sequence number it was
 * opened for (20 decimal digits + ".spool"), so the names alone order them and carry the next
 * sequence number across a restart even when every record was acked. Records are appended
 * with pwritev at the offset we track ourselves (not O_APPEND), so a failed write is cut off
 * with ftruncate and, should even that fail, simply overwritten by the next record.
 *
 * Record header, little-endian, NW_SPOOL_HEADER (32) bytes, then the payload:
 *
 *   offset  size  field
 *   0       4     magic "NWS1" (4e 57 53 31); the 1 is the format version
 *   4       4     payload length (u32, at most NW_SPOOL_MAX_PAYLOAD; 0 for ack records)
 *   8       8     checksum: XXH3_64bits_withSeed(payload, len, XXH3_64bits(header with this
 *                 field zeroed, 32 bytes))
 *   16      8     seq (u64): the data record's sequence number, or the one an ack names
 *   24      1     kind: 1 data, 2 ack
 *   25      1     tag: the caller's kind of payload (fetch: 'r' raw, 'd' dead); 0 for acks
 *   26      6     reserved, zero
 *
 * In memory: the segments (sorted by base) with their unacked ("live") record counts, and one
 * entry per unacked data record, sorted by seq (appends come in seq order), found by binary
 * search when an ack arrives. Acked entries leave holes that are squeezed out once they are
 * the majority, so the array stays proportional to what is unacked. Payloads stay on disk and
 * are read back only to re-send. */
#include "newswire/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <xxhash.h>

#include "newswire/log.h"
#include "newswire/util.h"

#define MAGIC "NWS1"
#define KIND_DATA 1
#define KIND_ACK 2
#define RESEND_MS_DEFAULT 10000
#define BACKOFF_MAX_DEFAULT 300000
/* Re-send pacing (see nw_spool_resend): the budget grows by at least FLOOR a second, or by
 * twice the acks that came since it last grew, and holds at most BURST. */
#define RESEND_FLOOR_PER_S 100
#define RESEND_BURST 1000

struct seg {
    uint64_t base; /* file name; every record in it has seq >= base */
    int fd;
    uint64_t size; /* bytes of good records */
    uint64_t live; /* unacked data records */
};

struct entry {
    uint64_t seq;
    uint64_t seg; /* base of its segment */
    uint64_t off; /* of the record header */
    uint32_t len; /* payload */
    uint32_t tries;
    int64_t due;      /* resend time (ms); only meaningful once durable */
    int64_t sent_ms;  /* when it was last sent (0: not since open) */
    int64_t first_ms; /* when it was first sent since open (or counted as sent, at open) */
    uint8_t tag;
    uint8_t acked;
};

struct nw_spool {
    char *dir;
    int lock_fd;
    struct seg *segs; /* sorted by base; the last is being written */
    size_t n_segs, cap_segs;
    struct entry *ents; /* sorted by seq; [0, n_ents) with acked holes */
    size_t n_ents, cap_ents, holes;
    uint64_t next_seq;
    uint64_t durable;   /* highest durable data seq */
    uint64_t last_data; /* highest appended data seq */
    uint64_t unacked, unacked_bytes, max_bytes, truncated;
    uint64_t seg_max;
    int full;
    int syncing;
    int64_t resend_ms, max_backoff_ms;
    /* Acks tell re-sends apart from lost messages: see nw_spool_resend. */
    uint64_t max_acked;    /* highest seq acknowledged since open */
    int64_t acked_sent_ms; /* latest first-send time of a record acknowledged since open */
    int64_t last_ack_ms;   /* when an ack was last noticed (0: none since open) */
    int ack_seen;          /* an ack came since the last nw_spool_resend */
    /* Records found unacked at open were sent by the process before us at a time we do not
     * know; they count as sent at the first nw_spool_resend (the first time we see the
     * clock). */
    uint64_t loaded_upto; /* highest data seq found at open */
    int armed;            /* the first nw_spool_resend has run */
    /* Re-send pacing: how many re-sends may go out now, and what refills it. */
    int64_t budget;
    int64_t budget_ms;    /* when it was last refilled (0: never) */
    uint64_t acks_since;  /* acks since then */
    int64_t lost_upto_ms; /* records last sent up to then are lost (nw_spool_resend_lost) */
    uint8_t *buf;         /* read buffer */
    size_t buf_cap;
};

static void
put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t
get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* The checksum of a header (its checksum field ignored) and payload. */
static uint64_t
checksum(const uint8_t *hdr, const void *payload, size_t len)
{
    uint8_t h[NW_SPOOL_HEADER];
    memcpy(h, hdr, sizeof h);
    memset(h + 8, 0, 8);
    return XXH3_64bits_withSeed(payload, len, XXH3_64bits(h, sizeof h));
}

static void
make_header(uint8_t *hdr, uint8_t kind, uint8_t tag, uint64_t seq, const void *payload, size_t len)
{
    memset(hdr, 0, NW_SPOOL_HEADER);
    memcpy(hdr, MAGIC, 4);
    nw_put_le32(hdr + 4, (uint32_t)len);
    put64(hdr + 16, seq);
    hdr[24] = kind;
    hdr[25] = tag;
    put64(hdr + 8, checksum(hdr, payload, len));
}

static void
seg_path(const nw_spool_t *s, uint64_t base, char *out, size_t n)
{
    snprintf(out, n, "%s/%020" PRIu64 ".spool", s->dir, base);
}

static struct seg *
find_seg(nw_spool_t *s, uint64_t base)
{
    size_t lo = 0, hi = s->n_segs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->segs[mid].base < base)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->n_segs && s->segs[lo].base == base ? &s->segs[lo] : NULL;
}

static struct entry *
find_entry(nw_spool_t *s, uint64_t seq)
{
    size_t lo = 0, hi = s->n_ents;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->ents[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->n_ents && s->ents[lo].seq == seq ? &s->ents[lo] : NULL;
}

static struct seg *
cur_seg(nw_spool_t *s)
{
    return &s->segs[s->n_segs - 1];
}

static int
add_seg(nw_spool_t *s, uint64_t base, int fd, uint64_t size)
{
    if (s->n_segs == s->cap_segs) {
        size_t cap = s->cap_segs ? s->cap_segs * 2 : 8;
        struct seg *p = realloc(s->segs, cap * sizeof *p);
        if (p == NULL)
            return -ENOMEM;
        s->segs = p;
        s->cap_segs = cap;
    }
    s->segs[s->n_segs++] = (struct seg){.base = base, .fd = fd, .size = size};
    return 0;
}

static int
add_entry(nw_spool_t *s, const struct entry *e)
{
    if (s->n_ents == s->cap_ents) {
        size_t cap = s->cap_ents ? s->cap_ents * 2 : 256;
        struct entry *p = realloc(s->ents, cap * sizeof *p);
        if (p == NULL)
            return -ENOMEM;
        s->ents = p;
        s->cap_ents = cap;
    }
    s->ents[s->n_ents++] = *e;
    return 0;
}

/* Squeeze out acked entries once they are the majority. */
static void
compact_entries(nw_spool_t *s)
{
    if (s->holes < 64 || s->holes * 2 < s->n_ents)
        return;
    size_t k = 0;
    for (size_t i = 0; i < s->n_ents; i++)
        if (!s->ents[i].acked)
            s->ents[k++] = s->ents[i];
    s->n_ents = k;
    s->holes = 0;
}

/* Delete fully acked segments other than the one being written. */
static void
drop_dead_segments(nw_spool_t *s)
{
    char path[4096];
    size_t k = 0;
    for (size_t i = 0; i < s->n_segs; i++) {
        struct seg *g = &s->segs[i];
        if (g->live == 0 && i + 1 < s->n_segs) {
            seg_path(s, g->base, path, sizeof path);
            if (unlink(path) < 0)
                NW_WARN(NULL, "spool: cannot delete \"%s\": %s", path, strerror(errno));
            close(g->fd);
            continue;
        }
        s->segs[k++] = *g;
    }
    s->n_segs = k;
}

/* Forget an unacked entry (acked, or cut off after a failed write or sync). */
static void
forget(nw_spool_t *s, struct entry *e)
{
    struct seg *g = find_seg(s, e->seg);
    if (g && g->live > 0)
        g->live--;
    e->acked = 1;
    s->holes++;
    s->unacked--;
    s->unacked_bytes -= NW_SPOOL_HEADER + (uint64_t)e->len;
}

static int
grow_buf(nw_spool_t *s, size_t n)
{
    if (n <= s->buf_cap)
        return 0;
    uint8_t *p = realloc(s->buf, n);
    if (p == NULL)
        return -ENOMEM;
    s->buf = p;
    s->buf_cap = n;
    return 0;
}

static int
read_full(int fd, void *buf, size_t n, uint64_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (uint8_t *)buf + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            return -ENODATA;
        got += (size_t)r;
    }
    return 0;
}

/* Scan one segment: verify records, apply them, cut the file at the first bad one. */
static int
scan_segment(nw_spool_t *s, struct seg *g, const char *path)
{
    struct stat st;
    uint64_t off = 0;
    const char *why = NULL;
    if (fstat(g->fd, &st) < 0)
        return -errno;
    uint64_t end = (uint64_t)st.st_size;
    while (off < end) {
        uint8_t hdr[NW_SPOOL_HEADER];
        if (end - off < NW_SPOOL_HEADER) {
            why = "incomplete header";
            break;
        }
        int rc = read_full(g->fd, hdr, sizeof hdr, off);
        if (rc < 0)
            return rc;
        uint32_t len = nw_get_le32(hdr + 4);
        uint8_t kind = hdr[24];
        if (memcmp(hdr, MAGIC, 4) != 0) {
            why = "bad magic";
            break;
        }
        if (len > NW_SPOOL_MAX_PAYLOAD || (kind != KIND_DATA && kind != KIND_ACK) ||
            (kind == KIND_ACK && len != 0) || (kind == KIND_DATA && len == 0)) {
            why = "bad header";
            break;
        }
        if (end - off - NW_SPOOL_HEADER < len) {
            why = "incomplete payload";
            break;
        }
        if ((rc = grow_buf(s, len ? len : 1)) < 0 ||
            (rc = read_full(g->fd, s->buf, len, off + NW_SPOOL_HEADER)) < 0)
            return rc;
        if (checksum(hdr, s->buf, len) != get64(hdr + 8)) {
            why = "checksum mismatch";
            break;
        }
        uint64_t seq = get64(hdr + 16);
        if (kind == KIND_DATA) {
            if (seq < s->next_seq || seq < g->base) {
                why = "sequence number out of order";
                break;
            }
            struct entry e = {.seq = seq, .seg = g->base, .off = off, .len = len, .tag = hdr[25]};
            if ((rc = add_entry(s, &e)) < 0)
                return rc;
            g->live++;
            s->unacked++;
            s->unacked_bytes += NW_SPOOL_HEADER + (uint64_t)len;
            s->next_seq = seq + 1;
            s->last_data = seq;
        } else {
            struct entry *e = find_entry(s, seq);
            if (e && !e->acked)
                forget(s, e);
        }
        off += NW_SPOOL_HEADER + (uint64_t)len;
    }
    g->size = off;
    if (off < end) {
        NW_WARN(NULL, "spool: \"%s\": %s at byte offset %" PRIu64 "; truncating %" PRIu64 " bytes",
                path, why, off, end - off);
        if (ftruncate(g->fd, (off_t)off) < 0)
            return -errno;
        s->truncated += end - off;
    }
    return 0;
}

static int
parse_name(const char *name, uint64_t *base)
{
    size_t n = strlen(name);
    if (n != 26 || strcmp(name + 20, ".spool") != 0 || strspn(name, "0123456789") != 20)
        return -EINVAL;
    *base = strtoull(name, NULL, 10);
    return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Create the segment `base` and make it the one written. */
static int
new_segment(nw_spool_t *s, uint64_t base)
{
    char path[4096];
    seg_path(s, base, path, sizeof path);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    int rc = add_seg(s, base, fd, 0);
    if (rc < 0)
        close(fd);
    return rc;
}

static int
fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

static int
load(nw_spool_t *s, char *err, size_t errlen)
{
    uint64_t *bases = NULL;
    size_t n = 0, cap = 0;
    char path[4096];
    int rc = 0;
    DIR *d = opendir(s->dir);
    if (d == NULL) {
        rc = -errno;
        snprintf(err, errlen, "cannot open \"%s\": %s", s->dir, strerror(-rc));
        return rc;
    }
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        uint64_t base;
        if (parse_name(e->d_name, &base) < 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            uint64_t *p = realloc(bases, cap * sizeof *p);
            if (p == NULL) {
                rc = -ENOMEM;
                goto out;
            }
            bases = p;
        }
        bases[n++] = base;
    }
    if (n > 1)
        qsort(bases, n, sizeof *bases, cmp_u64);
    for (size_t i = 0; i < n; i++) {
        seg_path(s, bases[i], path, sizeof path);
        int fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd < 0 || (rc = add_seg(s, bases[i], fd, 0)) < 0) {
            rc = fd < 0 ? -errno : rc;
            if (fd >= 0)
                close(fd);
            snprintf(err, errlen, "cannot open \"%s\": %s", path, strerror(-rc));
            goto out;
        }
        if (s->next_seq < bases[i])
            s->next_seq = bases[i];
        if ((rc = scan_segment(s, cur_seg(s), path)) < 0) {
            snprintf(err, errlen, "cannot read \"%s\": %s", path, strerror(-rc));
            goto out;
        }
        /* What survived a crash may not have reached the disk yet: make it durable now, since
         * it is about to be sent and acked like anything else. */
        if (fdatasync(cur_seg(s)->fd) < 0) {
            rc = -errno;
            snprintf(err, errlen, "cannot sync \"%s\": %s", path, strerror(-rc));
            goto out;
        }
    }
    if (s->n_segs == 0 && (rc = new_segment(s, s->next_seq)) < 0) {
        snprintf(err, errlen, "cannot create a segment in \"%s\": %s", s->dir, strerror(-rc));
        goto out;
    }
    drop_dead_segments(s);
    s->durable = s->last_data;
    s->loaded_upto = s->last_data;
    if ((rc = fsync_dir(s->dir)) < 0)
        snprintf(err, errlen, "cannot sync \"%s\": %s", s->dir, strerror(-rc));
out:
    closedir(d);
    free(bases);
    return rc;
}

nw_spool_t *
nw_spool_open(const char *dir, uint64_t max_bytes, char *err, size_t errlen)
{
    char path[4096], dummy[8];
    nw_spool_t *s = NULL;
    int rc;
    if (err == NULL) {
        err = dummy;
        errlen = sizeof dummy;
    }
    err[0] = 0;
    if (dir == NULL || *dir == 0 || strlen(dir) > 4000) {
        snprintf(err, errlen, "bad spool directory");
        return NULL;
    }
    if ((rc = nw_mkdirs(dir, 0755)) < 0) {
        snprintf(err, errlen, "cannot create \"%s\": %s", dir, strerror(-rc));
        return NULL;
    }
    s = calloc(1, sizeof *s);
    if (s == NULL || (s->dir = strdup(dir)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto err;
    }
    s->next_seq = 1;
    s->max_bytes = max_bytes;
    s->seg_max = NW_SPOOL_SEGMENT_MAX;
    s->resend_ms = RESEND_MS_DEFAULT;
    s->max_backoff_ms = BACKOFF_MAX_DEFAULT;
    snprintf(path, sizeof path, "%s/LOCK", dir);
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (s->lock_fd < 0) {
        snprintf(err, errlen, "cannot open \"%s\": %s", path, strerror(errno));
        goto err;
    }
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        snprintf(err, errlen, "\"%s\" is in use by another process (%s)", dir,
                 errno == EWOULDBLOCK ? "locked" : strerror(errno));
        goto err;
    }
    if (load(s, err, errlen) < 0)
        goto err;
    return s;
err:
    nw_spool_close(&s);
    return NULL;
}

void
nw_spool_close(nw_spool_t **sp)
{
    nw_spool_t *s = sp ? *sp : NULL;
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_segs; i++)
        close(s->segs[i].fd);
    if (s->lock_fd > 0)
        close(s->lock_fd);
    free(s->segs);
    free(s->ents);
    free(s->buf);
    free(s->dir);
    free(s);
    *sp = NULL;
}

void
nw_spool_set_segment_max(nw_spool_t *s, uint64_t seg_max)
{
    s->seg_max = seg_max ? seg_max : NW_SPOOL_SEGMENT_MAX;
}

void
nw_spool_set_resend(nw_spool_t *s, int64_t resend_ms, int64_t max_ms)
{
    s->resend_ms = resend_ms > 0 ? resend_ms : RESEND_MS_DEFAULT;
    s->max_backoff_ms = max_ms >= s->resend_ms ? max_ms : s->resend_ms;
}

/* Write one record at the end of the current segment; on failure cut it back off. */
static int
write_record(nw_spool_t *s, uint8_t kind, uint8_t tag, uint64_t seq, const void *payload,
             size_t len, uint64_t *off_out)
{
    uint8_t hdr[NW_SPOOL_HEADER];
    struct seg *g = cur_seg(s);
    make_header(hdr, kind, tag, seq, payload, len);
    struct iovec iov[2] = {{hdr, sizeof hdr}, {(void *)payload, len}};
    size_t total = sizeof hdr + len, done = 0;
    int n_iov = len ? 2 : 1;
    while (done < total) {
        ssize_t w;
        if (done < sizeof hdr) {
            iov[0].iov_base = hdr + done;
            iov[0].iov_len = sizeof hdr - done;
            w = pwritev(g->fd, iov, n_iov, (off_t)(g->size + done));
        } else {
            w = pwrite(g->fd, (const uint8_t *)payload + (done - sizeof hdr), total - done,
                       (off_t)(g->size + done));
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int rc = w < 0 ? -errno : -EIO;
            /* Keep the file ending at the last good record. Should this fail too, the next
             * record overwrites the remains, and a restart cuts them off. */
            if (done > 0 && ftruncate(g->fd, (off_t)g->size) < 0)
                NW_DEBUG(NULL, "spool: cannot cut a failed write: %s", strerror(errno));
            return rc;
        }
        done += (size_t)w;
    }
    *off_out = g->size;
    g->size += total;
    return 0;
}

int
nw_spool_append(nw_spool_t *s, uint8_t tag, const void *payload, size_t len, uint64_t *seq)
{
    uint64_t off;
    if (len == 0 || len > NW_SPOOL_MAX_PAYLOAD)
        return -EINVAL;
    /* Room for the entry first, so a successful write is never left without one. */
    if (s->n_ents == s->cap_ents) {
        struct entry probe = {0};
        int rc = add_entry(s, &probe);
        if (rc < 0)
            return rc;
        s->n_ents--;
    }
    int rc = write_record(s, KIND_DATA, tag, s->next_seq, payload, len, &off);
    if (rc < 0)
        return rc;
    struct entry e = {
        .seq = s->next_seq, .seg = cur_seg(s)->base, .off = off, .len = (uint32_t)len, .tag = tag};
    add_entry(s, &e); /* cannot fail: room was made above */
    cur_seg(s)->live++;
    s->unacked++;
    s->unacked_bytes += NW_SPOOL_HEADER + (uint64_t)len;
    s->last_data = s->next_seq;
    *seq = s->next_seq++;
    return 0;
}

int
nw_spool_ack(nw_spool_t *s, uint64_t seq)
{
    uint64_t off;
    struct entry *e = find_entry(s, seq);
    if (e == NULL || e->acked || seq > s->durable)
        return 0;
    if (seq > s->max_acked)
        s->max_acked = seq;
    /* An ack does not say which copy it answers. For a record sent more than once, assume
     * the first: taking the last re-send's time made every original copy acknowledged after a
     * stall (acks stopped, the due records went out again) declare the whole backlog behind it
     * lost, and the backlog was re-sent, a storm with nothing lost. */
    if (e->first_ms > s->acked_sent_ms)
        s->acked_sent_ms = e->first_ms;
    s->ack_seen = 1;
    s->acks_since++;
    forget(s, e);
    int rc = write_record(s, KIND_ACK, 0, seq, NULL, 0, &off);
    drop_dead_segments(s);
    compact_entries(s);
    return rc < 0 ? rc : 1;
}

int
nw_spool_sync_prepare(nw_spool_t *s, nw_spool_sync_t *job)
{
    if (s->syncing)
        return -EBUSY;
    if (s->last_data == s->durable)
        return 1;
    memset(job, 0, sizeof *job);
    job->fds[0] = job->fds[1] = job->dir_fd = -1;
    struct seg *g = cur_seg(s);
    job->fds[0] = dup(g->fd);
    if (job->fds[0] < 0)
        return -errno;
    job->upto = s->last_data;
    job->seg = g->base;
    job->size = g->size;
    if (g->size >= s->seg_max) {
        /* Roll: what is written so far is in this job; the next appends go to a new file,
         * whose directory entry this job makes durable too. */
        int rc = new_segment(s, s->next_seq);
        if (rc == 0)
            job->dir_fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rc < 0) /* keep writing the full segment; the next sync tries again */
            NW_WARN(NULL, "spool: cannot start a new segment: %s", strerror(-rc));
        else
            drop_dead_segments(s);
    }
    s->syncing = 1;
    return 0;
}

void
nw_spool_sync_run(nw_spool_sync_t *job)
{
    job->err = 0;
    for (int i = 0; i < 2 && job->err == 0; i++)
        if (job->fds[i] >= 0 && fdatasync(job->fds[i]) < 0)
            job->err = -errno;
    if (job->err == 0 && job->dir_fd >= 0 && fsync(job->dir_fd) < 0)
        job->err = -errno;
}

int
nw_spool_sync_finish(nw_spool_t *s, nw_spool_sync_t *job)
{
    for (int i = 0; i < 2; i++)
        if (job->fds[i] >= 0)
            close(job->fds[i]);
    if (job->dir_fd >= 0)
        close(job->dir_fd);
    job->fds[0] = job->fds[1] = job->dir_fd = -1;
    s->syncing = 0;
    if (job->err == 0) {
        /* Entries after the old durable point become due for their first send (the caller
         * sends them at once and reports it with nw_spool_sent). */
        for (size_t i = s->n_ents; i > 0; i--) {
            struct entry *e = &s->ents[i - 1];
            if (e->seq <= s->durable)
                break;
            if (e->seq <= job->upto)
                e->due = 0;
        }
        s->durable = job->upto;
        return 0;
    }
    /* Nothing after the durable point can be trusted: the kernel may have dropped the dirty
     * pages. Cut every segment back to it and forget those records; their senders are told
     * "not accepted" and send again. */
    for (size_t i = 0; i < s->n_ents; i++) {
        struct entry *e = &s->ents[i];
        if (e->seq > s->durable && !e->acked)
            forget(s, e);
    }
    /* Segments before the job's were made durable whole by earlier syncs. From the job's
     * segment on, each keeps what precedes its first record past the durable point. */
    for (size_t i = 0; i < s->n_segs; i++) {
        struct seg *g = &s->segs[i];
        if (g->base < job->seg)
            continue;
        uint64_t keep = g->size;
        for (size_t k = 0; k < s->n_ents; k++) {
            if (s->ents[k].seg == g->base && s->ents[k].seq > s->durable) {
                keep = s->ents[k].off;
                break;
            }
        }
        if (keep < g->size && ftruncate(g->fd, (off_t)keep) == 0)
            g->size = keep;
    }
    s->last_data = s->durable;
    drop_dead_segments(s);
    compact_entries(s);
    return job->err;
}

int
nw_spool_sync(nw_spool_t *s)
{
    nw_spool_sync_t job;
    int rc = nw_spool_sync_prepare(s, &job);
    if (rc != 0)
        return rc > 0 ? 0 : rc;
    nw_spool_sync_run(&job);
    return nw_spool_sync_finish(s, &job);
}

uint64_t
nw_spool_next_seq(const nw_spool_t *s)
{
    return s->next_seq;
}

uint64_t
nw_spool_durable(const nw_spool_t *s)
{
    return s->durable;
}

static void
schedule(nw_spool_t *s, struct entry *e, int64_t now_ms)
{
    int64_t delay = s->resend_ms;
    for (uint32_t i = 0; i < e->tries && delay < s->max_backoff_ms; i++)
        delay *= 2;
    if (delay > s->max_backoff_ms)
        delay = s->max_backoff_ms;
    e->due = now_ms + delay;
    e->sent_ms = now_ms;
    if (e->tries == 0)
        e->first_ms = now_ms;
    if (e->tries < 32)
        e->tries++;
}

void
nw_spool_sent(nw_spool_t *s, uint64_t seq, int64_t now_ms)
{
    struct entry *e = find_entry(s, seq);
    if (e && !e->acked && seq <= s->durable)
        schedule(s, e, now_ms);
}

void
nw_spool_due_now(nw_spool_t *s, uint64_t seq)
{
    struct entry *e = find_entry(s, seq);
    if (e && !e->acked)
        e->due = 0;
}

/* Records left unacked by the process before us: the store may have most of them queued or in
 * hand (only fetch was restarted), so they get resend_ms to come back like anything just sent,
 * instead of all going out again at once (every unacked record of a long backlog, each one
 * parse and enrich work again). If the pipeline lost them too (the broker died as well), the
 * usual rules find out: acks stop, or a later record is acknowledged first. */
static void
arm_loaded(nw_spool_t *s, int64_t now_ms)
{
    s->armed = 1;
    for (size_t i = 0; i < s->n_ents && s->ents[i].seq <= s->loaded_upto; i++)
        if (!s->ents[i].acked && s->ents[i].tries == 0)
            schedule(s, &s->ents[i], now_ms);
}

/* Refill the re-send budget. Re-sending faster than the pipeline acknowledges only fills the
 * broker's queue with copies (and pushes new items back with it): so the budget follows the
 * acks (twice their rate, so a pipeline that recovers is fed at once), and a floor keeps
 * re-sends going when nothing acks (a broker that lost everything, a store that is down). */
static void
refill_budget(nw_spool_t *s, int64_t now_ms)
{
    if (s->budget_ms == 0) {
        s->budget = RESEND_FLOOR_PER_S;
        s->budget_ms = now_ms;
        s->acks_since = 0;
        return;
    }
    int64_t elapsed = now_ms - s->budget_ms;
    if (elapsed <= 0)
        return;
    int64_t by_time = elapsed * RESEND_FLOOR_PER_S / 1000;
    int64_t by_acks = 2 * (int64_t)s->acks_since;
    int64_t grow = by_acks > by_time ? by_acks : by_time;
    if (grow == 0)
        return; /* keep budget_ms, so the floor's fractions add up */
    s->budget = s->budget + grow > RESEND_BURST ? RESEND_BURST : s->budget + grow;
    s->budget_ms = now_ms;
    s->acks_since = 0;
}

int
nw_spool_resend(nw_spool_t *s, int64_t now_ms, nw_spool_send_cb send, void *arg, size_t max)
{
    int sent = 0;
    if (!s->armed)
        arm_loaded(s, now_ms);
    refill_budget(s, now_ms);
    /* While acks keep coming, a record sent before is most likely still queued in a backlog
     * longer than resend_ms, not lost: re-sending it would only deepen the backlog (and every
     * copy costs parse and enrich work again). It counts as lost once a record sent at least
     * resend_ms after it was acknowledged (the pipeline is roughly FIFO, so workers reorder
     * copies by far less than that), or once acks stop for resend_ms (everything in flight was
     * lost, e.g. with a broker restart). Comparing seqs instead of send times re-sent every
     * record that a few parallel workers let a slightly newer one overtake: about a fifth of
     * a long burst. Re-sends also spend the budget (refill_budget); first sends never wait. */
    if (s->ack_seen) {
        s->last_ack_ms = now_ms;
        s->ack_seen = 0;
    }
    int flowing = s->last_ack_ms != 0 && now_ms - s->last_ack_ms < s->resend_ms;
    for (size_t i = 0; i < s->n_ents && (size_t)sent < max; i++) {
        struct entry *e = &s->ents[i];
        if (e->acked || e->seq > s->durable)
            continue;
        if (e->due > now_ms)
            continue;
        if (e->tries > 0 && flowing && e->sent_ms > s->lost_upto_ms &&
            s->acked_sent_ms - e->sent_ms < s->resend_ms)
            continue;
        if (e->tries > 0 && s->budget <= 0)
            continue; /* a first send further on may still go */
        struct seg *g = find_seg(s, e->seg);
        int rc = g ? grow_buf(s, e->len) : -ENOENT;
        if (rc == 0)
            rc = read_full(g->fd, s->buf, e->len, e->off + NW_SPOOL_HEADER);
        if (rc < 0) {
            NW_ERROR(NULL, "spool: cannot read back record %" PRIu64 ": %s", e->seq, strerror(-rc));
            return rc;
        }
        uint64_t seq = e->seq;
        int resend = e->tries > 0;
        rc = send(arg, seq, e->tag, s->buf, e->len);
        if (rc != 0)
            break;
        if (resend)
            s->budget--;
        /* send may have acked something (never from inside a push, but be safe): look the
         * entry up again rather than trusting the pointer. */
        if ((e = find_entry(s, seq)) != NULL && !e->acked)
            schedule(s, e, now_ms);
        sent++;
    }
    return sent;
}

void
nw_spool_resend_lost(nw_spool_t *s, int64_t now_ms)
{
    s->lost_upto_ms = now_ms;
    for (size_t i = 0; i < s->n_ents; i++)
        if (!s->ents[i].acked && s->ents[i].seq <= s->durable)
            s->ents[i].due = 0;
    /* the new broker's queue is empty: one full burst at once, then the usual pacing */
    if (s->budget < RESEND_BURST)
        s->budget = RESEND_BURST;
}

int64_t
nw_spool_next_due(const nw_spool_t *s)
{
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < s->n_ents; i++) {
        const struct entry *e = &s->ents[i];
        if (!e->acked && e->seq <= s->durable && e->due < next)
            next = e->due;
    }
    return next;
}

int
nw_spool_full(nw_spool_t *s)
{
    if (!s->full && s->unacked_bytes >= s->max_bytes)
        s->full = 1;
    else if (s->full && s->unacked_bytes < s->max_bytes / 10 * 9)
        s->full = 0;
    return s->full;
}

void
nw_spool_stats(const nw_spool_t *s, nw_spool_stats_t *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < s->n_segs; i++)
        out->bytes += s->segs[i].size;
    out->unacked = s->unacked;
    out->unacked_bytes = s->unacked_bytes;
    out->segments = s->n_segs;
    out->next_seq = s->next_seq;
    out->truncated = s->truncated;
}
