/* gen.c: writes the place gazetteer enrich loads (data/geo/cities.tsv and countries.tsv) from
 * two Debian packages: the cities (name, admin1, country code, coordinates, population) that
 * libgeonames0 compiles in, and the country names of iso-codes (iso_3166-1.json). Run it only
 * when those packages change; the output is kept in the repository so enrich needs neither
 * package nor GLib at run time. Build and run (from the repository root):
 *
 *   cc -O2 data/geo/gen.c -o /tmp/nw-geo-gen $(pkg-config --cflags --libs geonames jansson)
 *   /tmp/nw-geo-gen /usr/share/iso-codes/json/iso_3166-1.json data/geo
 */
#include <geonames/geonames.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* Tabs and newlines never occur in the names, but the TSV must stay parseable whatever comes. */
static void
put_field(FILE *f, const char *s)
{
    for (; s && *s; s++)
        fputc(*s == '\t' || *s == '\n' ? ' ' : *s, f);
}

int
main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s ISO_3166-1.JSON OUTDIR\n", argv[0]);
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/cities.tsv", argv[2]);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return 1;
    }
    int n = geonames_get_n_cities();
    fprintf(f, "# name\tadmin1\tcc\tlat\tlon\tpopulation (libgeonames %d cities)\n", n);
    for (int i = 0; i < n; i++) {
        GeonamesCity *c = geonames_get_city(i);
        put_field(f, geonames_city_get_name(c));
        fputc('\t', f);
        put_field(f, geonames_city_get_state(c));
        fputc('\t', f);
        put_field(f, geonames_city_get_country_code(c));
        fprintf(f, "\t%.5f\t%.5f\t%u\n", geonames_city_get_latitude(c),
                geonames_city_get_longitude(c), geonames_city_get_population(c));
        geonames_city_free(c);
    }
    fclose(f);

    json_error_t err;
    json_t *root = json_load_file(argv[1], 0, &err);
    json_t *list = root ? json_object_get(root, "3166-1") : NULL;
    if (!json_is_array(list)) {
        fprintf(stderr, "%s: cannot read the 3166-1 list: %s\n", argv[1], err.text);
        return 1;
    }
    snprintf(path, sizeof(path), "%s/countries.tsv", argv[2]);
    f = fopen(path, "w");
    if (!f) {
        perror(path);
        return 1;
    }
    fprintf(f, "# cc\tname\tcommon_name\tofficial_name (iso-codes iso_3166-1.json)\n");
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        const char *keys[] = {"alpha_2", "name", "common_name", "official_name"};
        for (int k = 0; k < 4; k++) {
            if (k)
                fputc('\t', f);
            put_field(f, json_string_value(json_object_get(e, keys[k])));
        }
        fputc('\n', f);
    }
    fclose(f);
    json_decref(root);
    return 0;
}
