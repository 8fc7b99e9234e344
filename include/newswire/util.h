/* util.h: small helpers every module uses: clocks, ISO 8601 times, UTF-8 checks, files. */
#ifndef NW_UTIL_H
#define NW_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Wall-clock time in milliseconds since the Unix epoch. */
int64_t nw_now_ms(void);
/* Monotonic time in nanoseconds (for latency measurement). */
uint64_t nw_mono_ns(void);
/* Format ms-since-epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out (at least 25 bytes). */
void nw_time_iso(int64_t ms, char *out, size_t n);
/* Parse ISO 8601 "YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z|(+|-)HH[:]MM]" (UTC when no zone is
 * given) into ms since the epoch. Returns 0 or -EINVAL (nothing may follow). */
int nw_time_parse(const char *text, int64_t *ms);
/* True when buf[0..len) is valid UTF-8 (no overlongs, no surrogates, no NUL bytes). */
bool nw_utf8_valid(const uint8_t *buf, size_t len);
/* Duplicate n bytes as a NUL-terminated string; NULL on ENOMEM. Caller frees. */
char *nw_strndup(const char *s, size_t n);
/* Read a whole file, at most max bytes (-EFBIG beyond). Caller frees *out. Returns 0 or -errno. */
int nw_read_file(const char *path, size_t max, uint8_t **out, size_t *len);
/* The same from an open descriptor, read to its end (not closed). */
int nw_read_fd(int fd, size_t max, uint8_t **out, size_t *len);
/* mkdir -p. Returns 0 or -errno. */
int nw_mkdirs(const char *path, int mode);
/* Store v at p[0..4) little-endian, as the model and sketch files are written on any host. */
static inline void
nw_put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
/* The little-endian uint32 at p[0..4), as nw_put_le32 writes it. */
static inline uint32_t
nw_get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#endif
