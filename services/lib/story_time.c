/* story_time.c: the time an article refers to (see story_time.h). */
#include "story_time.h"

#include <string.h>

#include "newswire/enrich.h"
#include "newswire/util.h"

#define DAY_MS (24 * 3600 * 1000LL)

/* Keep the later of *best and the date iso ("YYYY-MM-DD") when it is not after limit. */
static void
consider(const char *iso, int64_t limit, int64_t *best)
{
    int64_t t;
    if (iso && nw_time_parse(iso, &t) == 0 && t <= limit && t > *best)
        *best = t;
}

/* Full dates in a caption: "February 6, 2024", "6 February 2024" (English month names, as
 * nw_enrich_resolve_date reads them), tried at every word start over three words. */
static void
caption_dates(const char *s, int64_t limit, int64_t *best)
{
    for (size_t i = 0; s && s[i]; i++) {
        if (s[i] == ' ' || (i > 0 && s[i - 1] != ' '))
            continue;
        size_t e = i;
        for (int w = 0; w < 3 && s[e]; w++) {
            while (s[e] && s[e] != ' ')
                e++;
            if (w < 2)
                while (s[e] == ' ')
                    e++;
        }
        while (e > i && (s[e - 1] == ',' || s[e - 1] == '.' || s[e - 1] == ' '))
            e--;
        char iso[11];
        if (nw_enrich_resolve_date(s + i, e - i, NULL, 0, iso) == 0)
            consider(iso, limit, best);
    }
}

int64_t
nw_story_time(const nw_enriched_t *e, int64_t stored_ms)
{
    int64_t t, best = INT64_MIN, limit = stored_ms + DAY_MS;
    if (e->art.published && nw_time_parse(e->art.published, &t) == 0)
        return t;
    for (size_t i = 0; i < e->n_dates; i++)
        consider(e->dates[i].date, limit, &best);
    for (size_t i = 0; i < e->art.n_captions; i++)
        caption_dates(e->art.captions[i].text, limit, &best);
    return best == INT64_MIN ? stored_ms : best;
}
