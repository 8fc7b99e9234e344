/* extract_dates.c: the publication and modification dates of a web page: normalised to ISO 8601
 * from meta and JSON-LD values, read from dates printed in the page (date holders, <time>, the
 * head of the text) in several languages, and from the URL; a machine time stamp in UTC yields
 * to the local day the page prints. Dates after the cutoff (a day in the future) are dropped. */
#include "extract_internal.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "wire.h"

static bool
digits(const char *s, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (s[k] < '0' || s[k] > '9')
            return false;
    return true;
}

/* ISO 8601 from a date string that starts with YYYY-MM-DD (or YYYY/MM/DD): the date, then the
 * time and zone when they follow in a form we can read. NULL when there is no date or it lies
 * after the cutoff. */
static char *
norm_date(const char *v, const char *cutoff)
{
    while (v != NULL && (*v == ' ' || *v == '\n' || *v == '\t'))
        v++;
    if (v == NULL || strlen(v) < 10)
        return NULL;
    char d[40];
    memcpy(d, v, 10);
    d[10] = 0;
    if (d[4] == '/' && d[7] == '/')
        d[4] = d[7] = '-';
    if (!nw_wire_valid_date(d, 10) || strcmp(d, cutoff) > 0)
        return NULL;
    const char *t = v + 10;
    size_t k = 10;
    if ((*t == 'T' || *t == ' ') && strlen(t) >= 6 && digits(t + 1, 2) && t[3] == ':' &&
        digits(t + 4, 2)) {
        d[k++] = 'T';
        memcpy(d + k, t + 1, 5);
        k += 5;
        t += 6;
        if (t[0] == ':' && digits(t + 1, 2)) {
            memcpy(d + k, t, 3);
            k += 3;
            t += 3;
            if (t[0] == '.' || t[0] == ',')
                for (t++; *t >= '0' && *t <= '9'; t++)
                    ;
        }
        while (*t == ' ')
            t++;
        if (*t == 'Z' || *t == 'z') {
            d[k++] = 'Z';
        } else if ((*t == '+' || *t == '-') && digits(t + 1, 2)) {
            d[k++] = *t;
            memcpy(d + k, t + 1, 2);
            k += 2;
            d[k++] = ':';
            if (t[3] == ':' && digits(t + 4, 2))
                memcpy(d + k, t + 4, 2);
            else if (digits(t + 3, 2))
                memcpy(d + k, t + 3, 2);
            else
                memcpy(d + k, "00", 2);
            k += 2;
        }
    }
    d[k] = 0;
    return strdup(d);
}

int
nw_extract_set_date(meta_t *m, int f, const char *v, int rank)
{
    if (v == NULL || rank >= m->rank[f] || strlen(v) > 64)
        return 0;
    char *d = norm_date(v, m->cutoff);
    char td[11];
    /* "March 12, 2019", "12.03.2019": a printed date where a machine one was due */
    if (d == NULL && !digits(v, 4) && nw_extract_text_date(v, td))
        d = norm_date(td, m->cutoff);
    if (d == NULL) /* unreadable, in the future, or out of memory: no date either way */
        return 0;
    free(m->f[f]);
    m->f[f] = d;
    m->rank[f] = rank;
    return 0;
}

/* Month number of a month name or abbreviation (English, German, French, Spanish, Italian,
 * Dutch, Polish and Russian genitives), 0 when w is none. w is lowercase, without a trailing dot.
 */
int
nw_extract_month_number(const char *w, size_t n)
{
    static const char *const names[12][9] = {
        {"jan", "january", "januar", "janvier", "enero", "gennaio", "januari", "stycznia",
         "января"},
        {"feb", "february", "februar", "février", "febrero", "febbraio", "februari", "lutego",
         "февраля"},
        {"mar", "march", "märz", "mars", "marzo", "maart", "marca", "mär", "марта"},
        {"apr", "april", "avril", "abril", "aprile", "kwietnia", NULL, NULL, "апреля"},
        {"may", "mai", "mayo", "maggio", "mei", "maja", NULL, NULL, "мая"},
        {"jun", "june", "juni", "juin", "junio", "giugno", "czerwca", NULL, "июня"},
        {"jul", "july", "juli", "juillet", "julio", "luglio", "lipca", NULL, "июля"},
        {"aug", "august", "août", "agosto", "augustus", "sierpnia", NULL, NULL, "августа"},
        {"sep", "sept", "september", "septembre", "septiembre", "settembre", "września", NULL,
         "сентября"},
        {"oct", "october", "oktober", "octobre", "octubre", "ottobre", "okt", "października",
         "октября"},
        {"nov", "november", "novembre", "noviembre", "listopada", NULL, NULL, NULL, "ноября"},
        {"dec", "december", "dezember", "décembre", "diciembre", "dicembre", "dez", "grudnia",
         "декабря"}};
    for (int m = 0; m < 12; m++)
        for (int k = 0; k < 9; k++)
            if (names[m][k] != NULL && strlen(names[m][k]) == n && memcmp(names[m][k], w, n) == 0)
                return m + 1;
    return 0;
}

/* The first calendar date printed in t ("12.03.2019", "12. März 2019", "March 12, 2019",
 * "12 mars 2019", "2019-03-12") as YYYY-MM-DD in out; false when there is none. */
bool
nw_extract_text_date(const char *t, char out[11])
{
    /* words: lowercase ASCII letters and UTF-8 kept, digits apart, everything else a break */
    char w[48][24];
    int nw = 0;
    for (const char *p = t; *p && nw < 48;) {
        if ((unsigned char)*p < 0x80 && !(*p >= '0' && *p <= '9') &&
            !((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z')) {
            p++;
            continue;
        }
        bool digit = *p >= '0' && *p <= '9';
        size_t k = 0;
        while (*p && k < 23) {
            bool d = *p >= '0' && *p <= '9';
            bool letter = (unsigned char)*p >= 0x80 || ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z');
            if (digit ? !d : !letter)
                break;
            w[nw][k++] = (char)(((unsigned char)*p < 0x80 && !d) ? (*p | 0x20) : *p);
            p++;
        }
        w[nw][k] = 0;
        while (*p && k >= 23 && ((unsigned char)*p >= 0x80 || isalnum((unsigned char)*p)))
            p++;
        /* an English ordinal: "29th", "1st" */
        if (digit && k <= 2 &&
            (strncasecmp(p, "st", 2) == 0 || strncasecmp(p, "nd", 2) == 0 ||
             strncasecmp(p, "rd", 2) == 0 || strncasecmp(p, "th", 2) == 0) &&
            !isalpha((unsigned char)p[2]))
            p += 2;
        nw++;
    }
    for (int i = 0; i < nw; i++) {
        int y = 0, mo = 0, d = 0;
        bool num0 = isdigit((unsigned char)w[i][0]);
        size_t l0 = strlen(w[i]);
        if (num0 && i + 2 < nw && isdigit((unsigned char)w[i + 1][0]) &&
            isdigit((unsigned char)w[i + 2][0])) {
            if (l0 == 4 && strlen(w[i + 1]) <= 2 && strlen(w[i + 2]) <= 2) {
                y = atoi(w[i]), mo = atoi(w[i + 1]), d = atoi(w[i + 2]);
            } else if (l0 <= 2 && strlen(w[i + 1]) <= 2 && strlen(w[i + 2]) == 4) {
                d = atoi(w[i]), mo = atoi(w[i + 1]), y = atoi(w[i + 2]);
            }
        } else if (num0 && l0 <= 2 && i + 2 < nw && strlen(w[i + 2]) == 4 &&
                   isdigit((unsigned char)w[i + 2][0])) {
            d = atoi(w[i]), mo = nw_extract_month_number(w[i + 1], strlen(w[i + 1])),
            y = atoi(w[i + 2]);
        } else if (num0 && l0 <= 2 && i + 4 < nw && strcmp(w[i + 1], "de") == 0 &&
                   strcmp(w[i + 3], "de") == 0 && strlen(w[i + 4]) == 4) {
            d = atoi(w[i]), mo = nw_extract_month_number(w[i + 2], strlen(w[i + 2])),
            y = atoi(w[i + 4]);
        } else if (!num0 && i + 2 < nw && isdigit((unsigned char)w[i + 1][0]) &&
                   strlen(w[i + 1]) <= 2 && strlen(w[i + 2]) == 4 &&
                   isdigit((unsigned char)w[i + 2][0])) {
            mo = nw_extract_month_number(w[i], l0), d = atoi(w[i + 1]), y = atoi(w[i + 2]);
        }
        if (y >= 1990 && y <= 2199 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31) {
            snprintf(out, 11, "%04d-%02d-%02d", y, mo, d);
            if (nw_wire_valid_date(out, 10))
                return true;
        }
    }
    return false;
}

/* A date printed in an element whose class/id says it holds one. */
bool
nw_extract_is_date_holder(const nw_dom_node_t *n)
{
    char ci[512];
    nw_extract_class_id(n, ci, sizeof(ci));
    static const char *const words[] = {"date",       "time",      "publish",      "posted",
                                        "entry-meta", "post-meta", "article-meta", "byline",
                                        "meta-info",  "post-info", "dateline",     NULL};
    return ci[0] != 0 && nw_extract_has_any(ci, words) && !strstr(ci, "comment") &&
           !strstr(ci, "update");
}

/* Whether n sits in a comment thread or is a last-modified mark: its date is not the one the
 * article prints as its own. */
static bool
not_article_date(const nw_dom_node_t *n)
{
    char ci[512];
    const char *ip = attr(n, "itemprop");
    if (ip != NULL && strcasecmp(ip, "dateModified") == 0)
        return true;
    nw_extract_class_id(n, ci, sizeof(ci));
    if (strstr(ci, "updated") != NULL || strstr(ci, "modified") != NULL)
        return true;
    for (int k = 0; n != NULL && k < 16; n = n->parent, k++) {
        nw_extract_class_id(n, ci, sizeof(ci));
        if (strstr(ci, "comment") != NULL)
            return true;
    }
    return false;
}

int
nw_extract_on_date_holder(meta_t *m, nw_dom_node_t *n, bool after_h1)
{
    char *t = nw_extract_node_text(n);
    if (t == NULL)
        return -ENOMEM;
    char d[11];
    int rc = 0;
    if (strlen(t) < 200 && nw_extract_text_date(t, d)) {
        if (after_h1 && m->printed[0] == 0 && strcmp(d, m->cutoff) <= 0 && !not_article_date(n))
            memcpy(m->printed, d, sizeof(m->printed));
        rc = nw_extract_set_date(m, F_PUB, d, R_TEXT);
    }
    free(t);
    return rc;
}

/* The date a <time> or date holder after the headline prints, as the page's printed date. */
int
nw_extract_note_printed(meta_t *m, nw_dom_node_t *n)
{
    if (not_article_date(n))
        return 0;
    char *t = nw_extract_node_text(n);
    if (t == NULL)
        return -ENOMEM;
    char d[11];
    if (strlen(t) < 200 && nw_extract_text_date(t, d) && strcmp(d, m->cutoff) <= 0)
        memcpy(m->printed, d, sizeof(m->printed));
    free(t);
    return 0;
}

/* Seconds since the epoch of "YYYY-MM-DD[THH:MM[:SS][Z|+HH:MM]]" (norm_date's form), in UTC
 * when a zone is given, or -1; *timed says whether a time of day was given. */
static long long
stamp_seconds(const char *d, bool *timed)
{
    *timed = false;
    if (d == NULL || strlen(d) < 10 || !nw_wire_valid_date(d, 10))
        return -1;
    struct tm tm = {0};
    tm.tm_year = atoi(d) - 1900;
    tm.tm_mon = atoi(d + 5) - 1;
    tm.tm_mday = atoi(d + 8);
    const char *z = d + 10;
    if (z[0] == 'T' && strlen(z) >= 6) {
        *timed = true;
        tm.tm_hour = atoi(z + 1);
        tm.tm_min = atoi(z + 4);
        z += 6;
        if (z[0] == ':')
            z += 3;
    }
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    long long s = (long long)t;
    if ((z[0] == '+' || z[0] == '-') && strlen(z) >= 6) {
        long off = atoi(z + 1) * 3600L + atoi(z + 4) * 60L;
        s += z[0] == '+' ? -off : off; /* to UTC */
    }
    return s;
}

/* A machine time stamp is often UTC while the page prints its local date: 23:30 on the 4th in
 * New York is the 5th in UTC. When the page prints a date one day from the stamp's and the
 * stamp's instant falls on that printed day in a zone within ten hours of UTC, the printed day
 * is the one readers (and the gold) see. A printed date further off is another date (an update,
 * a related story) and changes nothing; so does one the instant cannot reach (14:31 UTC is not
 * the next day anywhere near Europe). A stamp without a time of day could be any hour. */
int
nw_extract_prefer_printed_day(meta_t *m)
{
    bool timed, pt;
    long long t = stamp_seconds(m->f[F_PUB], &timed), p = stamp_seconds(m->printed, &pt);
    if (t < 0 || p < 0 || strncmp(m->f[F_PUB], m->printed, 10) == 0)
        return 0;
    if (!timed ? p != t + 86400 && p != t - 86400
               : t < p - 10 * 3600LL || t >= p + 86400 + 10 * 3600LL)
        return 0;
    char *d = strdup(m->printed);
    if (d == NULL)
        return -ENOMEM;
    free(m->f[F_PUB]);
    m->f[F_PUB] = d;
    return 0;
}

/* A date in the page's URL: /2024/02/06/ or /2024-02-06. */
int
nw_extract_url_date(meta_t *m)
{
    const char *u = m->url;
    if (u == NULL || m->rank[F_PUB] <= R_URL)
        return 0;
    for (const char *p = strchr(u, '/'); p != NULL; p = strchr(p + 1, '/')) {
        if (strlen(p) < 11 || !digits(p + 1, 4))
            continue;
        char d[11];
        if ((p[5] == '/' || p[5] == '-') && digits(p + 6, 2) && p[8] == p[5] && digits(p + 9, 2) &&
            (p[11] == 0 || p[11] == '/' || p[11] == '-' || p[11] == '.' || p[11] == '_')) {
            memcpy(d, p + 1, 10);
            d[4] = d[7] = '-';
            d[10] = 0;
            return nw_extract_set_date(m, F_PUB, d, R_URL);
        }
    }
    return 0;
}
