/* enrich_dates.c: dates in the text ("February 6, 2024", "7 October", "Tuesday"), each
 * resolved to an ISO date against the publication date. nw_enrich_resolve_date resolves one
 * expression for story_time.c too. */
#include "enrich_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswire/util.h"

static const char *const WEEKDAYS[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                       "Thursday", "Friday", "Saturday"};
const char *const nw_enrich_months[12] = {"January",   "February", "March",    "April",
                                          "May",       "June",     "July",     "August",
                                          "September", "October",  "November", "December"};

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static long
days_from_civil(long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long)doe - 719468;
}

static void
civil_from_days(long z, char *out)
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long y = (long)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    char tmp[48];
    snprintf(tmp, sizeof(tmp), "%04ld-%02u-%02u", y + (m <= 2), m, d);
    memcpy(out, tmp, 10);
    out[10] = 0;
}

static int
parse_pub(const char *pub, long *days)
{
    int y, m, d;
    if (!pub || sscanf(pub, "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12 || d < 1 || d > 31)
        return -EINVAL;
    *days = days_from_civil(y, (unsigned)m, (unsigned)d);
    return 0;
}

/* nw_enrich_resolve_date with the publication date already parsed (p days since 1970-01-01 when
 * have_pub): nw_enrich_dates tries every word of the text, and re-reading the date with sscanf for
 * each one showed in the profile. */
static int
resolve_date(const char *text, size_t len, int have_pub, long p, int future, char *out)
{
    word_t w[4];
    char buf[64];
    if (len >= sizeof(buf))
        return -EINVAL;
    /* "February 6, 2024": commas are noise here */
    size_t bl = 0;
    for (size_t i = 0; i < len; i++)
        if (text[i] != ',')
            buf[bl++] = text[i];
    buf[bl] = 0; /* strtol below must stop at the end of the expression */
    size_t n = split_words(buf, bl, w, 4);
    if (n == 1) {
        int wd = word_index(WEEKDAYS, 7, w[0].s, w[0].n);
        if (wd < 0 || !have_pub)
            return -EINVAL;
        int pw = (int)(((p % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
        long delta = future ? (wd - pw + 7) % 7 : -(long)((pw - wd + 7) % 7);
        civil_from_days(p + delta, out);
        return 0;
    }
    if (n < 2 || n > 3)
        return -EINVAL;
    int mi = word_index(nw_enrich_months, 12, w[0].s, w[0].n), di = 1;
    if (mi < 0) {
        mi = word_index(nw_enrich_months, 12, w[1].s, w[1].n);
        di = 0;
    }
    if (mi < 0)
        return -EINVAL;
    char *endp;
    long day = strtol(w[di].s, &endp, 10);
    if (endp != w[di].s + w[di].n || day < 1 || day > 31)
        return -EINVAL;
    long year;
    if (n == 3) {
        year = strtol(w[2].s, &endp, 10);
        if (endp != w[2].s + w[2].n || year < 1000 || year > 9999)
            return -EINVAL;
    } else {
        if (!have_pub)
            return -EINVAL;
        char ys[11];
        civil_from_days(p, ys);
        year = strtol(ys, NULL, 10);
        /* without a year: the latest such date on or before publication (or after, for
         * future) */
        long z = days_from_civil(year, (unsigned)mi + 1, (unsigned)day);
        if (!future && z > p)
            year--;
        if (future && z < p)
            year++;
    }
    civil_from_days(days_from_civil(year, (unsigned)mi + 1, (unsigned)day), out);
    return 0;
}

/* "will" or "next" earlier in the same sentence makes a weekday point forward. */
static int
future_context(const char *t, size_t at)
{
    size_t s = at;
    while (s > 0 && !is_end(t, s - 1, at))
        s--;
    for (size_t i = s; i + 4 <= at; i++) {
        if (i > 0 && is_word_char(t[i - 1]))
            continue;
        if ((!strncmp(t + i, "will ", 5) || !strncmp(t + i, "next ", 5) ||
             !strncmp(t + i, "Will ", 5)))
            return 1;
    }
    return 0;
}

int
nw_enrich_resolve_date(const char *text, size_t len, const char *pub, int future, char *out)
{
    long p = 0;
    int have_pub = parse_pub(pub, &p) == 0;
    return resolve_date(text, len, have_pub, p, future, out);
}

static int
add_date(nw_enriched_t *out, const char *t, size_t s, size_t e, const char *iso)
{
    nw_datemention_t *v = realloc(out->dates, (out->n_dates + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    out->dates = v;
    v[out->n_dates] = (nw_datemention_t){
        .text = nw_strndup(t + s, e - s), .date = strdup(iso), .start = (uint32_t)s};
    out->n_dates++;
    return v[out->n_dates - 1].text && v[out->n_dates - 1].date ? 0 : -ENOMEM;
}

/* Longest date expression starting at word i of text: "Month D, YYYY", "D Month YYYY",
 * "Month D", "D Month", or a weekday. Returns its end or 0. */
static size_t
date_at(const char *t, size_t i, int have_pub, long pub, char *iso)
{
    size_t ends[3], k = 0, j = i;
    /* Every form starts with a day number or a capitalised month or weekday name: the other
     * words of the text (most of them) need no look at all. */
    if (!(t[i] >= '0' && t[i] <= '9') && !(t[i] >= 'A' && t[i] <= 'Z'))
        return 0;
    for (; k < 3; k++) {
        while (j < i + 40 && (t[j] == ' ' || t[j] == ',') && k > 0)
            j++;
        size_t e = j;
        while (t[e] && is_word_char(t[e]) && t[e] != '\'')
            e++;
        if (e == j)
            break;
        ends[k] = e;
        j = e;
    }
    for (size_t n = k; n >= 1; n--) {
        /* Only a real date needs its sentence's tense (a scan back to the sentence start). */
        if (resolve_date(t + i, ends[n - 1] - i, have_pub, pub, 0, iso) == 0) {
            if (future_context(t, i))
                resolve_date(t + i, ends[n - 1] - i, have_pub, pub, 1, iso);
            return ends[n - 1];
        }
    }
    return 0;
}

int
nw_enrich_dates(nw_enriched_t *out, const char *pub)
{
    const char *t = out->art.text;
    long p = 0;
    int have_pub = parse_pub(pub, &p) == 0;
    for (size_t i = 0; t && t[i];) {
        if (!is_word_char(t[i]) || (i > 0 && is_word_char(t[i - 1]))) {
            i++;
            continue;
        }
        char iso[11];
        size_t e = date_at(t, i, have_pub, p, iso);
        if (e) {
            int rc = add_date(out, t, i, e, iso);
            if (rc < 0)
                return rc;
            i = e;
        } else {
            while (t[i] && is_word_char(t[i]))
                i++;
        }
    }
    return 0;
}
