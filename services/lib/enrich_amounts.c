/* enrich_amounts.c: amounts of money and counts ("$1.5 billion", "300 troops"), with their
 * value and unit (a currency or the counted noun); a number inside a date found before, or
 * without a scale or a noun (a year, a score), is not one. */
#include "enrich_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswire/util.h"

static const char *const SCALES[] = {"thousand", "million", "billion", "trillion"};
static const double SCALE_V[] = {1e3, 1e6, 1e9, 1e12};

static int
in_date(const nw_enriched_t *out, size_t at)
{
    for (size_t i = 0; i < out->n_dates; i++)
        if (at >= out->dates[i].start && at < out->dates[i].start + strlen(out->dates[i].text))
            return 1;
    return 0;
}

int
nw_enrich_amounts(nw_enriched_t *out)
{
    const char *t = out->art.text;
    for (size_t i = 0; t && t[i]; i++) {
        if (!(t[i] >= '0' && t[i] <= '9') || (i > 0 && (is_word_char(t[i - 1]) || t[i - 1] == '.')))
            continue;
        size_t s = i, e = i;
        const char *cur = NULL;
        if (s > 0 && t[s - 1] == '$')
            cur = "USD", s--;
        else if (s >= 2 && (unsigned char)t[s - 2] == 0xC2 && (unsigned char)t[s - 1] == 0xA3)
            cur = "GBP", s -= 2;
        else if (s >= 3 && !memcmp(t + s - 3, "\xE2\x82\xAC", 3))
            cur = "EUR", s -= 3;
        char num[64];
        size_t nl = 0;
        while (t[e] && ((t[e] >= '0' && t[e] <= '9') ||
                        ((t[e] == ',' || t[e] == '.') && t[e + 1] >= '0' && t[e + 1] <= '9'))) {
            if (t[e] != ',' && nl + 1 < sizeof(num))
                num[nl++] = t[e];
            e++;
        }
        num[nl] = 0;
        /* resume at e on the next turn; e may be the NUL of a text that ends in a digit, so the
         * loop's own i++ must land on it, not past it */
        i = e - 1;
        if (is_word_char(t[e]) || in_date(out, s))
            continue; /* "4-month", "7th", a date's day */
        double value = strtod(num, NULL);
        size_t w = e;
        while (t[w] == ' ')
            w++;
        size_t we = w;
        while (t[we] && is_word_char(t[we]))
            we++;
        int sc = word_index(SCALES, 4, t + w, we - w);
        int scaled = sc >= 0;
        if (scaled) {
            value *= SCALE_V[sc];
            e = we;
            w = we;
            while (t[w] == ' ')
                w++;
            we = w;
            while (t[we] && is_word_char(t[we]))
                we++;
        }
        /* the counted noun: a lowercase word that is not a function word */
        const char *unit = cur;
        size_t ul = cur ? 3 : 0;
        if (!cur && we > w && t[w] >= 'a' && t[w] <= 'z' &&
            !in_list(nw_enrich_stopwords, nw_enrich_n_stopwords, t + w, we - w) &&
            word_index(nw_enrich_months, 12, t + w, we - w) < 0) {
            unit = t + w;
            ul = we - w;
            e = we;
        }
        if (!unit && !scaled)
            continue; /* a bare number: a year, a score, a count without its noun */
        nw_amount_t *v = realloc(out->amounts, (out->n_amounts + 1) * sizeof(*v));
        if (!v)
            return -ENOMEM;
        out->amounts = v;
        v[out->n_amounts] = (nw_amount_t){.text = nw_strndup(t + s, e - s),
                                          .value = value,
                                          .unit = unit ? nw_strndup(unit, ul) : NULL,
                                          .start = (uint32_t)s};
        out->n_amounts++;
        if (!v[out->n_amounts - 1].text || (unit && !v[out->n_amounts - 1].unit))
            return -ENOMEM;
    }
    return 0;
}
