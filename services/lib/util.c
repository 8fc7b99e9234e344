/* util.c: clocks, ISO times, UTF-8 validation, small file helpers (see util.h). */
#include "newswire/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Asserts guard invariants in every build (CMakeLists.txt takes NDEBUG out of the release
 * flags): a build that would silently drop them fails here instead. */
#ifdef NDEBUG
#error "newswire keeps assert() on in every build: do not define NDEBUG"
#endif

int64_t
nw_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t
nw_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
nw_time_iso(int64_t ms, char *out, size_t n)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil), so
 * a UTC time needs neither the TZ environment nor timegm(). */
static int64_t
days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* n digits at *p as a number; advances *p. -1 when they are not all digits. */
static int64_t
digits(const char **p, int n)
{
    int64_t v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (**p < '0' || **p > '9')
            return -1;
        v = v * 10 + (**p - '0');
    }
    return v;
}

int
nw_time_parse(const char *text, int64_t *ms)
{
    const char *p = text;
    int64_t y = digits(&p, 4), mo, d, h = 0, mi = 0, sec = 0, frac = 0, off = 0;
    if (y < 0 || *p++ != '-' || (mo = digits(&p, 2)) < 1 || mo > 12 || *p++ != '-' ||
        (d = digits(&p, 2)) < 1 || d > 31)
        return -EINVAL;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if ((h = digits(&p, 2)) < 0 || h > 23 || *p++ != ':' || (mi = digits(&p, 2)) < 0 || mi > 59)
            return -EINVAL;
        if (*p == ':') {
            p++;
            if ((sec = digits(&p, 2)) < 0 || sec > 60)
                return -EINVAL;
            if (*p == '.' || *p == ',') {
                int64_t scale = 100;
                if (*++p < '0' || *p > '9')
                    return -EINVAL;
                for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
                    frac += (*p - '0') * scale;
            }
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1;
            int64_t oh = digits(&p, 2), om;
            if (*p == ':')
                p++;
            if (oh < 0 || oh > 23 || (om = digits(&p, 2)) < 0 || om > 59)
                return -EINVAL;
            off = sign * (oh * 60 + om);
        }
    }
    if (*p != 0)
        return -EINVAL;
    int64_t days = days_from_civil(y, mo, d);
    *ms = ((days * 86400 + h * 3600 + mi * 60 + sec) - off * 60) * 1000 + frac;
    return 0;
}

bool
nw_utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        /* Runs of ASCII 8 bytes at a time (most of every page and article is ASCII): no byte
         * with its top bit set and none zero. The byte loop below judges the rest. */
        while (len - i >= 8) {
            uint64_t x;
            memcpy(&x, s + i, 8);
            if ((x & 0x8080808080808080u) || ((x - 0x0101010101010101u) & ~x & 0x8080808080808080u))
                break;
            i += 8;
        }
        if (i == len)
            break;
        uint8_t c = s[i];
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if ((c & 0xe0) == 0xc0) {
            n = 2;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 3;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i < n)
            return false;
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n;
    }
    return true;
}

char *
nw_strndup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

int
nw_read_fd(int fd, size_t max, uint8_t **out, size_t *len)
{
    int rc = 0;
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0, first = 65536;
    struct stat st;
    /* A regular file's size sizes the buffer: one read and no copies as it grows (a 142 KB page
     * was read in three, copied twice). The loop still reads to EOF, so a file that grows or
     * shrinks meanwhile is read as it is. */
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 && (uint64_t)st.st_size < max)
        first = (size_t)st.st_size + 1; /* +1: the read that sees EOF needs no new room */
    for (;;) {
        if (n == cap) {
            if (cap > max) {
                rc = -EFBIG;
                goto out;
            }
            cap = cap ? cap * 2 : first;
            uint8_t *p = realloc(buf, cap + 1);
            if (p == NULL) {
                rc = -ENOMEM;
                goto out;
            }
            buf = p;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            goto out;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (n > max) {
        rc = -EFBIG;
        goto out;
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    buf = NULL;
out:
    free(buf);
    return rc;
}

int
nw_read_file(const char *path, size_t max, uint8_t **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = nw_read_fd(fd, max, out, len);
    close(fd);
    return rc;
}

int
nw_mkdirs(const char *path, int mode)
{
    char tmp[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof tmp)
        return -ENAMETOOLONG;
    memcpy(tmp, path, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, (mode_t)mode) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(tmp, (mode_t)mode) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}
