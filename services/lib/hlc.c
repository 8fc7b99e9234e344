/* hlc.c: the acceptance clock of newswire-fetch (hlc.h). The file holds two 16-byte slots,
 * little-endian:
 *
 *   offset  size  field
 *   0       8     ceiling of slot 0 (microseconds)
 *   8       8     XXH3_64bits of those 8 bytes
 *   16      8     ceiling of slot 1
 *   24      8     XXH3_64bits of those 8 bytes
 *
 * Writes alternate between the slots and each is fdatasynced before a version under it is
 * given out, so a crash in the middle of a write leaves the other slot with the previous
 * ceiling, which is still above every version given before. */
#include "newswire/hlc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "newswire/log.h"

struct nw_hlc {
    int fd;
    int slot;         /* the slot the next write goes to */
    uint64_t last;    /* last version given (the ceiling read at open before the first) */
    uint64_t ceiling; /* persisted: no version above it was given */
};

static void
put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t
get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

nw_hlc_t *
nw_hlc_open(const char *path, char *err, size_t errlen)
{
    nw_hlc_t *h = calloc(1, sizeof(*h));
    uint8_t buf[32] = {0};
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    h->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (h->fd < 0) {
        snprintf(err, errlen, "cannot open \"%s\": %s", path, strerror(errno));
        goto err;
    }
    ssize_t n = pread(h->fd, buf, sizeof(buf), 0);
    if (n < 0) {
        snprintf(err, errlen, "cannot read \"%s\": %s", path, strerror(errno));
        goto err;
    }
    /* Short or empty file: the missing slots read as zeros, whose checksum does not hold. */
    for (int i = 0; i < 2; i++) {
        const uint8_t *s = buf + 16 * i;
        uint64_t v = get_le64(s);
        if (XXH3_64bits(s, 8) == get_le64(s + 8) && v >= h->ceiling) {
            h->ceiling = v;
            h->slot = 1 - i; /* overwrite the other, older slot first */
        }
    }
    h->last = h->ceiling;
    return h;
err:
    nw_hlc_close(&h);
    return NULL;
}

void
nw_hlc_close(nw_hlc_t **hp)
{
    if (!hp || !*hp)
        return;
    if ((*hp)->fd >= 0)
        close((*hp)->fd);
    free(*hp);
    *hp = NULL;
}

static int
persist(nw_hlc_t *h, uint64_t ceiling)
{
    uint8_t s[16];
    put_le64(s, ceiling);
    put_le64(s + 8, XXH3_64bits(s, 8));
    errno = 0;
    if (pwrite(h->fd, s, sizeof(s), 16 * h->slot) != (ssize_t)sizeof(s) || fdatasync(h->fd) < 0) {
        int rc = errno ? -errno : -EIO;
        NW_ERROR(NULL, "hlc: cannot persist the acceptance clock: %s", strerror(-rc));
        return rc;
    }
    h->slot = 1 - h->slot;
    h->ceiling = ceiling;
    return 0;
}

int
nw_hlc_next(nw_hlc_t *h, uint64_t now_us, uint64_t *v)
{
    uint64_t next = now_us > h->last ? now_us : h->last + 1;
    if (next > h->ceiling) {
        int rc = persist(h, next + NW_HLC_LEASE_US);
        if (rc < 0)
            return rc;
    }
    h->last = next;
    *v = next;
    return 0;
}

uint64_t
nw_hlc_last(const nw_hlc_t *h)
{
    return h->last;
}

uint64_t
nw_hlc_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
