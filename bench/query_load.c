/* query_load.c: a database for bench/query/run.sh: N generated enriched articles put through
 * nw_store_put (so the query index is written as the store writes it), in transactions of
 * 256. Each article has about 300 words of text from a Zipf-like vocabulary of made-up words
 * with real-looking names among them, two people (Zipf over 2,000), an organisation (over
 * 500), one or two geocoded places (over 300 cities in 60 countries, with coordinates), two
 * themes (over 30), a language (90% en), and a published date spread over the 60 days before
 * 2026-12-01 (one in twenty has none: its time is when it was stored).
 *
 *   bench_query_load DB N     prints: articles=N seconds=S rate=R */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswire/log.h"
#include "newswire/store.h"
#include "newswire/util.h"

#define BATCH 256
#define PEOPLE 2000
#define ORGS 500
#define CITIES 300
#define COUNTRIES 60
#define THEMES 30

static uint64_t rng = 7;

static uint64_t
next(void)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return rng >> 17;
}

/* Zipf-like: small ids much more often than large ones. */
static unsigned
zipf(unsigned n)
{
    uint64_t r = next();
    return (unsigned)((r & 65535) * ((r >> 16) & 65535) / 65536 * n / 65536);
}

static void
word(unsigned id, char *out)
{
    size_t k = 0;
    for (unsigned v = id + 20000; v; v /= 21)
        out[k++] = (char)('a' + v % 21);
    out[k] = 0;
}

static char *
topic(const char *kind, unsigned id)
{
    char w[16], t[64];
    word(id, w);
    snprintf(t, sizeof t, "%s.%s", kind, w);
    return strdup(t);
}

static int
put_one(nw_store_t *s, int i)
{
    char id[32], title[96], text[4096], w[16];
    nw_enriched_t e = {0};
    nw_store_result_t res = {0};
    size_t len = 0;
    static const char *const langs[] = {"en", "en", "en", "en", "en", "en",
                                        "en", "en", "en", "fr", "es", "de"};
    const char *lang = langs[next() % 12];

    snprintf(id, sizeof id, "q%08d", i);
    for (int k = 0; k < 300 && len + 32 < sizeof text; k++) {
        word(zipf(8192), w);
        len += (size_t)snprintf(text + len, sizeof text - len, "%s%s%s", k % 12 ? "" : "The ", w,
                                k % 40 == 39 ? ".\n\n" : " ");
    }
    word(zipf(8192), w);
    snprintf(title, sizeof title, "Officials discuss %s plan %d", w, i);
    e.art.v = 1;
    e.art.id = strdup(id);
    e.art.title = strdup(title);
    e.art.text = strdup(text);
    e.art.lang = strdup(lang);
    if (i % 20 != 7) {
        char pub[32];
        int64_t end = 1796083200000LL; /* 2026-12-01T00:00:00Z */
        nw_time_iso(end - (int64_t)(next() % (60ULL * 86400000ULL)), pub, sizeof pub);
        e.art.published = strdup(pub);
    }
    unsigned p1 = zipf(PEOPLE), p2 = zipf(PEOPLE), o = zipf(ORGS), c1 = zipf(CITIES),
             c2 = zipf(CITIES), t1 = zipf(THEMES), t2 = zipf(THEMES);
    char lt[16];
    snprintf(lt, sizeof lt, "lang.%s", lang);
    char *topics[16];
    size_t n = 0;
    topics[n++] = strdup("all");
    topics[n++] = strdup(lt);
    topics[n++] = topic("person", p1);
    if (p2 != p1)
        topics[n++] = topic("person", p2);
    topics[n++] = topic("org", o);
    e.entities = calloc(2, sizeof *e.entities);
    for (unsigned k = 0, c = c1; k < 2; k++, c = c2) {
        if (k == 1 && c2 == c1)
            break;
        char cc[8], city[16], t[64];
        word(c % COUNTRIES, cc);
        cc[2] = 0;
        word(c, city);
        snprintf(t, sizeof t, "country.%s", cc);
        topics[n++] = strdup(t);
        snprintf(t, sizeof t, "place.%s.%s", cc, city);
        topics[n++] = strdup(t);
        nw_entity_t *en = &e.entities[e.n_entities++];
        en->type = strdup("place");
        en->name = strdup(city);
        /* cities spread over the inhabited latitudes, fixed per city */
        en->lat = -40 + (double)((c * 7919) % 1000) * 0.1;
        en->lon = -170 + (double)((c * 104729) % 3400) * 0.1;
    }
    topics[n++] = topic("theme", t1);
    if (t2 != t1)
        topics[n++] = topic("theme", t2);
    e.topics = calloc(n, sizeof *e.topics);
    for (size_t k = 0; e.topics && k < n; k++)
        e.topics[k] = topics[k];
    e.n_topics = e.topics ? n : 0;
    int rc = nw_store_put(s, &e, NULL, &res);
    nw_enriched_release(&e);
    return rc;
}

int
main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s DB N\n", argv[0]);
        return 2;
    }
    int n = atoi(argv[2]);
    char err[256] = "";
    nw_log_init("bench", NW_LOG_WARN);
    nw_store_t *s = nw_store_open(argv[1], 0, err, sizeof err);
    if (!s) {
        fprintf(stderr, "error: open: %s\n", err);
        return 1;
    }
    uint64_t t0 = nw_mono_ns();
    for (int i = 0; i < n; i += BATCH) {
        if (nw_store_begin(s) < 0)
            return 1;
        for (int k = i; k < n && k < i + BATCH; k++)
            if (put_one(s, k) < 0) {
                fprintf(stderr, "error: put %d failed\n", k);
                return 1;
            }
        if (nw_store_commit(s) < 0)
            return 1;
    }
    double secs = (double)(nw_mono_ns() - t0) / 1e9;
    printf("articles=%d seconds=%.1f rate=%.0f\n", n, secs, n / secs);
    nw_store_close(&s);
    return 0;
}
