/* fuzz_spool.c: spool recovery (spool.c, format in proto/spool.md). The input becomes the
 * only segment file of a fresh spool directory, which nw_spool_open scans (verifies, applies
 * acks, cuts at the first bad record); every record left is then re-sent through the callback
 * and acked. When the first input byte is odd the harness first fixes each record's checksum,
 * so the fuzzer reaches record handling beyond the checksum and not only the torn-tail cut.
 * Properties: open succeeds on any bytes (a bad record is cut, never fatal), re-sent
 * sequence numbers are unique and increasing, and payload lengths within the format's bound. */
#include "newswire/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "fuzz.h"

static char dir[256];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof dir, "%s/nw-fuzz-spool.%d", base, (int)getpid());
    return 0;
}

static void
fix_checksums(uint8_t *p, size_t n)
{
    size_t off = 0;
    while (off + NW_SPOOL_HEADER <= n && memcmp(p + off, "NWS1", 4) == 0) {
        uint8_t *h = p + off;
        uint32_t len =
            (uint32_t)h[4] | (uint32_t)h[5] << 8 | (uint32_t)h[6] << 16 | (uint32_t)h[7] << 24;
        if (len > n - off - NW_SPOOL_HEADER)
            break;
        memset(h + 8, 0, 8);
        uint64_t seed = XXH3_64bits(h, NW_SPOOL_HEADER);
        uint64_t sum = XXH3_64bits_withSeed(h + NW_SPOOL_HEADER, len, seed);
        for (int i = 0; i < 8; i++)
            h[8 + i] = (uint8_t)(sum >> (8 * i));
        off += NW_SPOOL_HEADER + len;
    }
}

struct seen {
    uint64_t last;
    size_t n;
};

static int
on_send(void *arg, uint64_t seq, uint8_t tag, const uint8_t *payload, size_t len)
{
    struct seen *s = arg;
    (void)tag;
    FUZZ_CHECK(s->n == 0 || seq > s->last, "re-sent seq %llu after %llu", (unsigned long long)seq,
               (unsigned long long)s->last);
    FUZZ_CHECK(len <= NW_SPOOL_MAX_PAYLOAD, "payload of %zu bytes", len);
    volatile uint8_t x = 0;
    for (size_t i = 0; i < len; i++)
        x ^= payload[i];
    s->last = seq;
    s->n++;
    return 0;
}

static void
clean_dir(void)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    char path[512];
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t *seg = malloc(size);
    if (seg == NULL)
        abort();
    memcpy(seg, data + 1, size - 1);
    if (data[0] & 1)
        fix_checksums(seg, size - 1);
    clean_dir();
    FUZZ_CHECK(mkdir(dir, 0700) == 0, "mkdir %s", dir);
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/%020d.spool", dir, 1);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FUZZ_CHECK(fd >= 0, "create %s", path);
    FUZZ_CHECK(write(fd, seg, size - 1) == (ssize_t)(size - 1), "write %s", path);
    close(fd);
    nw_spool_t *s = nw_spool_open(dir, 1 << 30, err, sizeof err);
    FUZZ_CHECK(s != NULL, "open failed on a damaged segment: %s", err);
    struct seen seen = {0};
    (void)nw_spool_resend(s, INT64_MAX / 2, on_send, &seen, (size_t)-1);
    if (seen.n > 0)
        (void)nw_spool_ack(s, seen.last);
    nw_spool_close(&s);
    clean_dir();
    free(seg);
    return 0;
}
