/* gazetteer.h, private to the library: place names to countries and coordinates, for enrich's
 * geocoding (enrich_entities.c). Loaded once at start-up from data/geo/ (cities.tsv from
 * libgeonames, countries.tsv from iso-codes, aliases.tsv: demonyms and short forms,
 * cities-extra.tsv: a few cities libgeonames lacks; see data/geo/README.md) and read-only
 * afterwards, so one gazetteer may be shared by any number of callers. Names match
 * case-insensitively (ASCII case folding; other bytes must match exactly). */
#ifndef NW_GAZETTEER_H
#define NW_GAZETTEER_H

#include <stddef.h>
#include <stdint.h>

typedef struct nw_gaz nw_gaz_t;

/* A resolved place. Strings borrow the gazetteer and live as long as it. */
typedef struct nw_place {
    const char *name;   /* gazetteer name: "Cairo", or the country's short name "Egypt" */
    const char *admin1; /* first-level division ("" for countries) */
    char cc[3];         /* ISO 3166-1 alpha-2 */
    double lat, lon;    /* city coordinates, or a country's population-weighted city centroid */
    uint32_t population;
    int is_country;
} nw_place_t;

/* Load countries.tsv, aliases.tsv, cities.tsv and cities-extra.tsv from dir. Returns 0 and *out
 * (caller destroys), -errno when a file cannot be read, -EPROTO when one is malformed, or -ENOMEM.
 */
int nw_gaz_load(const char *dir, nw_gaz_t **out);

/* Free the gazetteer and NULL *g; NULL-safe. */
void nw_gaz_destroy(nw_gaz_t **g);

/* Look up a country by name, alias or demonym ("Egypt", "US", "Israeli"). Returns 1 and fills
 * *out, or 0 when name[0..len) is none of those. Borrows name until return. */
int nw_gaz_country(const nw_gaz_t *g, const char *name, size_t len, nw_place_t *out);

/* Look up a city named name[0..len). Among several of that name, one in a country listed in
 * ctx (n_ctx two-letter codes, the article's context) wins; then the most populous. Returns 1
 * and fills *out, or 0 when no city has that name. Borrows name and ctx until return. */
int nw_gaz_city(const nw_gaz_t *g, const char *name, size_t len, const char (*ctx)[3], size_t n_ctx,
                nw_place_t *out);

/* Number of cities loaded, for reports. */
size_t nw_gaz_cities(const nw_gaz_t *g);

#endif
