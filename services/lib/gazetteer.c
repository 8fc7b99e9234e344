/* gazetteer.c: the place gazetteer (see gazetteer.h). Each file is read whole into one buffer
 * whose tabs and newlines become NULs, so every name points into it; lookups are binary
 * searches over arrays sorted by the ASCII-folded name. About 24,000 cities and 400 country
 * names: a few MB, loaded in milliseconds. */
#include "gazetteer.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswire/util.h"

#define GAZ_MAX_FILE (64u * 1024 * 1024)

typedef struct city {
    const char *name, *admin1;
    char cc[3];
    double lat, lon;
    uint32_t pop;
} city_t;

typedef struct country {
    char cc[3];
    const char *name; /* short display name */
    double lat, lon, wsum;
} country_t;

typedef struct alias {
    const char *name;
    int country; /* index into countries */
} alias_t;

struct nw_gaz {
    uint8_t *bufs[4];
    city_t *cities;
    size_t n_cities;
    country_t *countries;
    size_t n_countries;
    alias_t *aliases;
    size_t n_aliases;
};

static int
fold_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    for (size_t i = 0; i < n; i++) {
        int x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x += 32;
        if (y >= 'A' && y <= 'Z')
            y += 32;
        if (x != y)
            return x - y;
    }
    return an < bn ? -1 : an > bn ? 1 : 0;
}

static int
city_cmp(const void *a, const void *b)
{
    const city_t *x = a, *y = b;
    int c = fold_cmp(x->name, strlen(x->name), y->name, strlen(y->name));
    /* Ties: most populous first, then by country, so the order never depends on qsort. */
    if (c == 0)
        c = x->pop > y->pop ? -1 : x->pop < y->pop ? 1 : strcmp(x->cc, y->cc);
    return c;
}

static int
alias_cmp(const void *a, const void *b)
{
    const alias_t *x = a, *y = b;
    int c = fold_cmp(x->name, strlen(x->name), y->name, strlen(y->name));
    return c ? c : x->country - y->country;
}

/* Split buf into lines of up to max tab-separated fields; calls fn for each non-comment line.
 * Returns 0 or what fn returned. */
static int
each_line(uint8_t *buf, size_t len, int (*fn)(nw_gaz_t *, char **, int), nw_gaz_t *g)
{
    char *p = (char *)buf, *end = (char *)buf + len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *eol = nl ? nl : end;
        *eol = 0;
        if (*p && *p != '#') {
            char *f[8];
            int n = 0;
            for (char *q = p; n < 8;) {
                f[n++] = q;
                char *t = strchr(q, '\t');
                if (!t)
                    break;
                *t = 0;
                q = t + 1;
            }
            int rc = fn(g, f, n);
            if (rc < 0)
                return rc;
        }
        p = eol + 1;
    }
    return 0;
}

static int
find_country(const nw_gaz_t *g, const char *cc)
{
    for (size_t i = 0; i < g->n_countries; i++)
        if (strcmp(g->countries[i].cc, cc) == 0)
            return (int)i;
    return -1;
}

static int
add_alias(nw_gaz_t *g, const char *name, int country)
{
    if (!name || !*name)
        return 0;
    alias_t *a = realloc(g->aliases, (g->n_aliases + 1) * sizeof(*a));
    if (!a)
        return -ENOMEM;
    g->aliases = a;
    a[g->n_aliases++] = (alias_t){name, country};
    return 0;
}

static int
on_country(nw_gaz_t *g, char **f, int n)
{
    if (n < 2 || strlen(f[0]) != 2)
        return -EPROTO;
    country_t *c = realloc(g->countries, (g->n_countries + 1) * sizeof(*c));
    if (!c)
        return -ENOMEM;
    g->countries = c;
    c = &c[g->n_countries];
    memset(c, 0, sizeof(*c));
    memcpy(c->cc, f[0], 3);
    /* "Palestine, State of" reads "Palestine" in a story; a common name wins when there is one. */
    c->name = n > 2 && *f[2] ? f[2] : f[1];
    char *comma = strstr(f[1], ", ");
    if (c->name == f[1] && comma)
        *comma = 0;
    int idx = (int)g->n_countries++;
    int rc = add_alias(g, f[1], idx);
    for (int i = 2; i < n && rc == 0; i++)
        rc = add_alias(g, f[i], idx);
    return rc;
}

static int
on_alias(nw_gaz_t *g, char **f, int n)
{
    if (n < 2)
        return -EPROTO;
    int c = find_country(g, f[1]);
    return c < 0 ? -EPROTO : add_alias(g, f[0], c);
}

static int
on_city(nw_gaz_t *g, char **f, int n)
{
    if (n < 6 || strlen(f[2]) != 2)
        return -EPROTO;
    if (g->n_cities % 1024 == 0) {
        city_t *c = realloc(g->cities, (g->n_cities + 1024) * sizeof(*c));
        if (!c)
            return -ENOMEM;
        g->cities = c;
    }
    city_t *c = &g->cities[g->n_cities++];
    c->name = f[0];
    c->admin1 = f[1];
    memcpy(c->cc, f[2], 3);
    c->lat = strtod(f[3], NULL);
    c->lon = strtod(f[4], NULL);
    c->pop = (uint32_t)strtoul(f[5], NULL, 10);
    return 0;
}

static int
load_file(nw_gaz_t *g, int slot, const char *dir, const char *file,
          int (*fn)(nw_gaz_t *, char **, int))
{
    char path[4096];
    size_t len;
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    int rc = nw_read_file(path, GAZ_MAX_FILE, &g->bufs[slot], &len);
    if (rc < 0)
        return rc;
    return each_line(g->bufs[slot], len, fn, g);
}

int
nw_gaz_load(const char *dir, nw_gaz_t **out)
{
    nw_gaz_t *g = calloc(1, sizeof(*g));
    int rc = -ENOMEM;
    *out = NULL;
    if (!g)
        return rc;
    rc = load_file(g, 0, dir, "countries.tsv", on_country);
    if (rc == 0)
        rc = load_file(g, 1, dir, "aliases.tsv", on_alias);
    if (rc == 0)
        rc = load_file(g, 2, dir, "cities.tsv", on_city);
    if (rc == 0)
        rc = load_file(g, 3, dir, "cities-extra.tsv", on_city);
    if (rc < 0) {
        nw_gaz_destroy(&g);
        return rc;
    }
    /* A country's point is the population-weighted mean of its cities: near the capital or
     * the main conurbation, inside the country for all but a few oddly shaped ones. */
    for (size_t i = 0; i < g->n_cities; i++) {
        int c = find_country(g, g->cities[i].cc);
        if (c < 0)
            continue;
        double w = (double)g->cities[i].pop + 1;
        g->countries[c].lat += w * g->cities[i].lat;
        g->countries[c].lon += w * g->cities[i].lon;
        g->countries[c].wsum += w;
    }
    for (size_t i = 0; i < g->n_countries; i++) {
        country_t *c = &g->countries[i];
        if (c->wsum > 0) {
            c->lat = round(c->lat / c->wsum * 1e4) / 1e4;
            c->lon = round(c->lon / c->wsum * 1e4) / 1e4;
        }
    }
    qsort(g->cities, g->n_cities, sizeof(city_t), city_cmp);
    qsort(g->aliases, g->n_aliases, sizeof(alias_t), alias_cmp);
    *out = g;
    return 0;
}

void
nw_gaz_destroy(nw_gaz_t **pg)
{
    if (!pg || !*pg)
        return;
    nw_gaz_t *g = *pg;
    for (int i = 0; i < 4; i++)
        free(g->bufs[i]);
    free(g->cities);
    free(g->countries);
    free(g->aliases);
    free(g);
    *pg = NULL;
}

size_t
nw_gaz_cities(const nw_gaz_t *g)
{
    return g ? g->n_cities : 0;
}

int
nw_gaz_country(const nw_gaz_t *g, const char *name, size_t len, nw_place_t *out)
{
    size_t lo = 0, hi = g->n_aliases;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *k = g->aliases[mid].name;
        if (fold_cmp(k, strlen(k), name, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == g->n_aliases)
        return 0;
    const char *k = g->aliases[lo].name;
    if (fold_cmp(k, strlen(k), name, len) != 0)
        return 0;
    const country_t *c = &g->countries[g->aliases[lo].country];
    *out = (nw_place_t){c->name, "", {c->cc[0], c->cc[1], 0}, c->lat, c->lon, 0, 1};
    return 1;
}

int
nw_gaz_city(const nw_gaz_t *g, const char *name, size_t len, const char (*ctx)[3], size_t n_ctx,
            nw_place_t *out)
{
    size_t lo = 0, hi = g->n_cities;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *k = g->cities[mid].name;
        if (fold_cmp(k, strlen(k), name, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    const city_t *best = NULL;
    double best_score = 0;
    /* Population decides, with a country in context worth a factor of e^3 (about 20): Rafah in a
     * story about Gaza is the Palestinian one, but Paris stays the French capital in a story
     * that also mentions the United States, where a Paris of 25,000 people exists. */
    for (size_t i = lo; i < g->n_cities; i++) {
        const city_t *c = &g->cities[i];
        if (fold_cmp(c->name, strlen(c->name), name, len) != 0)
            break;
        int in_ctx = 0;
        for (size_t j = 0; j < n_ctx && !in_ctx; j++)
            in_ctx = strcmp(ctx[j], c->cc) == 0;
        double score = log((double)c->pop + 1) + (in_ctx ? 3.0 : 0.0);
        if (!best || score > best_score) {
            best = c;
            best_score = score;
        }
    }
    if (!best)
        return 0;
    *out = (nw_place_t){best->name, best->admin1, {best->cc[0], best->cc[1], 0},
                        best->lat,  best->lon,    best->pop,
                        0};
    return 1;
}
