/* feeds.c (bench_feeds): accuracy and speed of nw_feed_parse on two public test suites.
 *
 * gofeed translator pairs (../shared/data/feeds/gofeed/translator/{rss,atom,json}): each input
 * beside the JSON of gofeed's unified model. Fields are compared one by one (dates as instants,
 * gofeed's item "description" is our summary); a field counts when either side has it, and the
 * score is the share that agree.
 *
 * feedparser (../shared/data/feeds/feedparser/): every file states `Expect: <python expr>`. The
 * simple forms (bozo, `==` on feed/entries fields we model, *_parsed tuples, len(), `and`,
 * `not`, parentheses) are translated into checks on our model; anything else is counted as not
 * translatable rather than guessed. The pass rate is over the translatable ones.
 *
 * Usage: bench_feeds [DATA_DIR]   (default ../shared/data/feeds, or $NW_SHARED_DATA/feeds) */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "newswire/feed.h"
#include "newswire/util.h"

#define MAX_FILE (8u << 20)

typedef struct score {
    long agree, total;
} score_t;

/* Per-field tallies for the gofeed comparison, printed as a breakdown. */
#define NFIELDS 20
static const char *field_names[NFIELDS];
static score_t field_scores[NFIELDS];

static const char *current_file;

static void
tally(const char *field, bool ok)
{
    if (!ok && getenv("NW_BENCH_VERBOSE"))
        printf("MISMATCH %s: %s\n", current_file, field);
    int i = 0;
    while (i < NFIELDS && field_names[i] && strcmp(field_names[i], field) != 0)
        i++;
    if (i == NFIELDS)
        return;
    field_names[i] = field;
    field_scores[i].total++;
    field_scores[i].agree += ok;
}

/* ---------------------------------------------------------------- gofeed */

static const char *
jget(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s && *s ? s : NULL;
}

static const char *
nz(const char *s)
{
    return s ? s : "";
}

static void
cmp_str(const char *field, const char *want, const char *got)
{
    if (!want && !got)
        return;
    tally(field, want && got && strcmp(want, got) == 0);
}

static void
cmp_date(const char *field, const char *want, const char *got, int64_t got_ts)
{
    int64_t w;
    if (!want && !got)
        return;
    tally(field, want && got && nw_feed_date_parse(want, &w) == 0 && w == got_ts);
}

static void
cmp_people(const char *field, json_t *want, const nw_feed_person_t *p, size_t n)
{
    size_t wn = json_array_size(want);
    if (!wn && !n)
        return;
    bool ok = wn == n;
    for (size_t i = 0; ok && i < n; i++) {
        json_t *a = json_array_get(want, i);
        const char *wname = jget(a, "name"), *wmail = jget(a, "email");
        ok = (!wname == !p[i].name) && (!wname || strcmp(wname, p[i].name) == 0) &&
             (!wmail == !p[i].email) && (!wmail || strcmp(wmail, p[i].email) == 0);
    }
    tally(field, ok);
}

static void
cmp_strs(const char *field, json_t *want, char *const *s, size_t n)
{
    size_t wn = json_array_size(want);
    if (!wn && !n)
        return;
    bool ok = wn == n;
    for (size_t i = 0; ok && i < n; i++)
        ok = strcmp(nz(json_string_value(json_array_get(want, i))), s[i]) == 0;
    tally(field, ok);
}

static void
cmp_enclosures(json_t *want, const nw_feed_enclosure_t *e, size_t n)
{
    size_t wn = json_array_size(want);
    if (!wn && !n)
        return;
    bool ok = wn == n;
    for (size_t i = 0; ok && i < n; i++) {
        json_t *w = json_array_get(want, i);
        const char *wl = jget(w, "length"), *wt = jget(w, "type");
        char len[32] = "";
        if (e[i].length >= 0)
            snprintf(len, sizeof(len), "%lld", (long long)e[i].length);
        ok = strcmp(nz(jget(w, "url")), e[i].url) == 0 && strcmp(nz(wt), nz(e[i].type)) == 0 &&
             strcmp(nz(wl), len) == 0;
    }
    tally("item.enclosures", ok);
}

static void
compare_gofeed(json_t *want, const nw_feed_t *f)
{
    cmp_str("title", jget(want, "title"), f ? f->title : NULL);
    cmp_str("link", jget(want, "link"), f ? f->link : NULL);
    cmp_str("description", jget(want, "description"), f ? f->description : NULL);
    cmp_str("language", jget(want, "language"), f ? f->language : NULL);
    cmp_date("updated", jget(want, "updatedParsed"), f ? f->updated : NULL, f ? f->updated_ts : 0);
    cmp_date("published", jget(want, "publishedParsed"), f ? f->published : NULL,
             f ? f->published_ts : 0);
    cmp_people("authors", json_object_get(want, "authors"), f ? f->authors : NULL,
               f ? f->n_authors : 0);
    cmp_strs("categories", json_object_get(want, "categories"), f ? f->categories : NULL,
             f ? f->n_categories : 0);
    json_t *items = json_object_get(want, "items");
    size_t wn = json_array_size(items), n = f ? f->n_items : 0;
    for (size_t i = 0; i < (wn > n ? wn : n); i++) {
        json_t *w = json_array_get(items, i); /* NULL past the end: every jget gives NULL */
        static const nw_feed_item_t none;
        const nw_feed_item_t *it = i < n ? &f->items[i] : &none;
        cmp_str("item.title", jget(w, "title"), it->title);
        cmp_str("item.link", jget(w, "link"), it->link);
        cmp_str("item.guid", jget(w, "guid"), it->id);
        cmp_date("item.published", jget(w, "publishedParsed"), it->published, it->published_ts);
        cmp_date("item.updated", jget(w, "updatedParsed"), it->updated, it->updated_ts);
        cmp_str("item.content", jget(w, "content"), it->content);
        cmp_str("item.summary", jget(w, "description"), it->summary);
        cmp_people("item.authors", json_object_get(w, "authors"), it->authors, it->n_authors);
        cmp_strs("item.categories", json_object_get(w, "categories"), it->categories,
                 it->n_categories);
        cmp_enclosures(json_object_get(w, "enclosures"), it->enclosures, it->n_enclosures);
    }
}

static long parsed_files;
static size_t parsed_bytes;
static double parse_seconds;

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Parse a file, timing only nw_feed_parse. Returns its result; *f is NULL on error. */
static int
parse_file(const char *path, nw_feed_t **f)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    *f = NULL;
    int rc = nw_read_file(path, MAX_FILE, &buf, &len);
    if (rc < 0)
        return rc;
    double t0 = now_s();
    rc = nw_feed_parse(buf, len, NULL, f);
    parse_seconds += now_s() - t0;
    parsed_files++;
    parsed_bytes += len;
    free(buf);
    return rc;
}

static int
run_pair(const char *input, const char *expected, long *pairs)
{
    json_error_t jerr;
    json_t *want = json_load_file(expected, 0, &jerr);
    if (!want)
        return 0;
    nw_feed_t *f = NULL;
    current_file = input;
    parse_file(input, &f);
    compare_gofeed(want, f);
    nw_feed_free(&f);
    json_decref(want);
    (*pairs)++;
    return 0;
}

static void
run_gofeed(const char *root)
{
    /* root is at most 2047 bytes (main), so the paths below fit */
    static const char *const dirs[] = {"rss", "atom", "json"};
    long pairs = 0;
    for (size_t d = 0; d < 3; d++) {
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s/gofeed/translator/%s", root, dirs[d]);
        struct dirent **names = NULL;
        int n = scandir(dir, &names, NULL, alphasort);
        for (int i = 0; i < n; i++) {
            const char *nm = names[i]->d_name;
            size_t l = strlen(nm);
            char in[4400], exp[4400];
            if (d < 2 && l > 4 && strcmp(nm + l - 4, ".xml") == 0) {
                snprintf(in, sizeof(in), "%s/%s", dir, nm);
                snprintf(exp, sizeof(exp), "%s/%.*s.json", dir, (int)(l - 4), nm);
                run_pair(in, exp, &pairs);
            } else if (d == 2 && l > 5 && strcmp(nm + l - 5, ".json") == 0 &&
                       !strstr(nm, "_expected")) {
                snprintf(in, sizeof(in), "%s/%s", dir, nm);
                snprintf(exp, sizeof(exp), "%s/%.*s_expected.json", dir, (int)(l - 5), nm);
                run_pair(in, exp, &pairs);
            }
            free(names[i]);
        }
        free(names);
    }
    long agree = 0, total = 0;
    printf("gofeed translator: %ld pairs\n", pairs);
    for (int i = 0; i < NFIELDS && field_names[i]; i++) {
        printf("  %-16s %4ld/%-4ld\n", field_names[i], field_scores[i].agree,
               field_scores[i].total);
        agree += field_scores[i].agree;
        total += field_scores[i].total;
    }
    printf("gofeed field agreement: %ld/%ld = %.1f%%\n", agree, total,
           total ? 100.0 * agree / total : 0.0);
}

/* ---------------------------------------------------------------- feedparser expressions */

typedef enum { V_MISSING, V_STR, V_INT, V_TIME, V_BOOL } vkind_t;

typedef struct val {
    vkind_t kind;
    char *s; /* owned */
    long long i;
    int64_t t;
} val_t;

typedef struct ev {
    const char *p;
    const nw_feed_t *f; /* NULL when the parse failed: an empty, bozo result */
    bool untranslatable;
} ev_t;

static void
skip_ws(ev_t *e)
{
    while (*e->p == ' ' || *e->p == '\t')
        e->p++;
}

static bool
eat(ev_t *e, const char *tok)
{
    skip_ws(e);
    size_t n = strlen(tok);
    if (strncmp(e->p, tok, n) != 0)
        return false;
    char nx = e->p[n];
    if ((tok[0] >= 'a' && tok[0] <= 'z') && ((nx >= 'a' && nx <= 'z') || nx == '_'))
        return false;
    e->p += n;
    return true;
}

static void
put_utf8(char **o, unsigned long cp)
{
    unsigned char *u = (unsigned char *)*o;
    if (cp < 0x80)
        *u++ = (unsigned char)cp;
    else if (cp < 0x800) {
        *u++ = 0xC0 | (cp >> 6);
        *u++ = 0x80 | (cp & 0x3F);
    } else if (cp < 0x10000) {
        *u++ = 0xE0 | (cp >> 12);
        *u++ = 0x80 | ((cp >> 6) & 0x3F);
        *u++ = 0x80 | (cp & 0x3F);
    } else {
        *u++ = 0xF0 | (cp >> 18);
        *u++ = 0x80 | ((cp >> 12) & 0x3F);
        *u++ = 0x80 | ((cp >> 6) & 0x3F);
        *u++ = 0x80 | (cp & 0x3F);
    }
    *o = (char *)u;
}

/* A Python string literal (u/r prefixes, escapes), concatenated with '+'. */
static char *
str_lit(ev_t *e)
{
    size_t cap = strlen(e->p) * 4 + 1, n = 0;
    char *out = malloc(cap), *o = out;
    if (!out)
        return NULL;
    do {
        skip_ws(e);
        bool raw = false;
        while (*e->p == 'u' || *e->p == 'r' || *e->p == 'b') {
            raw |= *e->p == 'r';
            e->p++;
        }
        char q = *e->p;
        if (q != '\'' && q != '"') {
            free(out);
            return NULL;
        }
        e->p++;
        while (*e->p && *e->p != q) {
            if (*e->p == '\\' && !raw && e->p[1]) {
                char c = e->p[1];
                e->p += 2;
                unsigned long cp;
                char hex[9] = {0};
                int w = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0;
                if (w) {
                    memcpy(hex, e->p, (size_t)w);
                    cp = strtoul(hex, NULL, 16);
                    e->p += w;
                    put_utf8(&o, cp);
                } else
                    *o++ = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
            } else
                *o++ = *e->p++;
        }
        if (*e->p != q) {
            free(out);
            return NULL;
        }
        e->p++;
        n++;
    } while (eat(e, "+"));
    *o = '\0';
    return out;
}

static const char *
version_name(const nw_feed_t *f)
{
    if (!f)
        return "";
    if (strcmp(f->type, "atom") == 0)
        return strcmp(f->version, "0.3") == 0 ? "atom03" : "atom10";
    if (strcmp(f->type, "rss") == 0) {
        static const struct {
            const char *v, *name;
        } m[] = {{"0.90", "rss090"}, {"0.91", "rss091"}, {"0.92", "rss092"}, {"0.93", "rss093"},
                 {"0.94", "rss094"}, {"1.0", "rss10"},   {"2.0", "rss20"},   {"", "rss"}};
        for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
            if (strcmp(f->version, m[i].v) == 0)
                return m[i].name;
    }
    return "";
}

static val_t
sval(const char *s)
{
    val_t v = {.kind = s ? V_STR : V_MISSING};
    v.s = s ? strdup(s) : NULL;
    return v;
}

static val_t
person_val(const nw_feed_person_t *p, size_t n, const char *sub)
{
    if (!n)
        return (val_t){0};
    if (!sub) { /* feedparser's "author": "Name (email)" */
        char buf[1024];
        if (p->name && p->email)
            snprintf(buf, sizeof(buf), "%s (%s)", p->name, p->email);
        else
            snprintf(buf, sizeof(buf), "%s", p->name ? p->name : p->email ? p->email : "");
        return sval(buf);
    }
    if (strcmp(sub, "name") == 0)
        return sval(p->name);
    if (strcmp(sub, "email") == 0)
        return sval(p->email);
    return sval(p->uri);
}

/* Read a subscript: ['key'], .key or [n]. Returns 1 key, 2 index, 0 none. */
static int
subscript(ev_t *e, char *key, size_t keylen, long *idx)
{
    skip_ws(e);
    if (e->p[0] == '.' && e->p[1] >= 'a' && e->p[1] <= 'z') {
        e->p++;
        size_t n = 0;
        while (((*e->p >= 'a' && *e->p <= 'z') || *e->p == '_') && n + 1 < keylen)
            key[n++] = *e->p++;
        key[n] = '\0';
        if (strncmp(e->p, "(", 1) == 0) { /* a method call such as .get(...) */
            e->untranslatable = true;
            return 0;
        }
        return 1;
    }
    if (*e->p != '[')
        return 0;
    e->p++;
    skip_ws(e);
    if (*e->p == '\'' || *e->p == '"' || *e->p == 'u') {
        char *s = str_lit(e);
        if (!s || !eat(e, "]")) {
            free(s);
            e->untranslatable = true;
            return 0;
        }
        snprintf(key, keylen, "%s", s);
        free(s);
        return 1;
    }
    char *end;
    *idx = strtol(e->p, &end, 10);
    if (end == e->p || (e->p = end, !eat(e, "]"))) {
        e->untranslatable = true;
        return 0;
    }
    return 2;
}

/* feed[...] or entries[n][...]: the value in our model, or untranslatable. */
static val_t
path(ev_t *e)
{
    char k1[64] = "", k2[64] = "", k3[64] = "";
    long i1 = 0, i2 = -1, ent = -1;
    bool is_feed = eat(e, "feed");
    if (!is_feed) {
        if (!eat(e, "entries") || subscript(e, k1, sizeof(k1), &ent) != 2) {
            e->untranslatable = true;
            return (val_t){0};
        }
    }
    int s1 = subscript(e, k1, sizeof(k1), &i1);
    if (s1 != 1) {
        e->untranslatable = true;
        return (val_t){0};
    }
    int s2 = subscript(e, k2, sizeof(k2), &i2);
    if (s2 == 2 && subscript(e, k3, sizeof(k3), &i1) != 1)
        e->untranslatable = true;
    else if (s2 == 1 && subscript(e, k3, sizeof(k3), &i1) != 0)
        e->untranslatable = true;
    if (e->untranslatable)
        return (val_t){0};
    const char *sub = s2 == 1 ? k2 : s2 == 2 ? k3 : NULL;
    const nw_feed_t *f = e->f;
    if (is_feed) {
        if (!sub) {
            if (!strcmp(k1, "title"))
                return sval(f ? f->title : NULL);
            if (!strcmp(k1, "link"))
                return sval(f ? f->link : NULL);
            if (!strcmp(k1, "subtitle") || !strcmp(k1, "tagline") || !strcmp(k1, "description"))
                return sval(f ? f->description : NULL);
            if (!strcmp(k1, "language"))
                return sval(f ? f->language : NULL);
            if (!strcmp(k1, "author"))
                return f ? person_val(f->authors, f->n_authors, NULL) : (val_t){0};
            if (!strcmp(k1, "updated_parsed") || !strcmp(k1, "modified_parsed"))
                return (f && f->updated) ? (val_t){.kind = V_TIME, .t = f->updated_ts} : (val_t){0};
            if (!strcmp(k1, "published_parsed") || !strcmp(k1, "issued_parsed"))
                return (f && f->published) ? (val_t){.kind = V_TIME, .t = f->published_ts}
                                           : (val_t){0};
        } else if (s2 == 1 && !strcmp(k1, "title_detail") && !strcmp(k2, "value"))
            return sval(f ? f->title : NULL);
        else if (s2 == 1 && !strcmp(k1, "author_detail") &&
                 (!strcmp(k2, "name") || !strcmp(k2, "email") || !strcmp(k2, "href")))
            return f ? person_val(f->authors, f->n_authors, k2) : (val_t){0};
        else if (s2 == 2 && !strcmp(k1, "tags") && !strcmp(k3, "term"))
            return (f && i2 < (long)f->n_categories) ? sval(f->categories[i2]) : (val_t){0};
        e->untranslatable = true;
        return (val_t){0};
    }
    const nw_feed_item_t *it = f && ent >= 0 && ent < (long)f->n_items ? &f->items[ent] : NULL;
    static const nw_feed_item_t none;
    if (!it)
        it = &none;
    if (!sub) {
        if (!strcmp(k1, "title"))
            return sval(it->title);
        if (!strcmp(k1, "link"))
            return sval(it->link);
        if (!strcmp(k1, "id") || !strcmp(k1, "guid"))
            return sval(it->id);
        if (!strcmp(k1, "summary") || !strcmp(k1, "description"))
            return sval(it->summary ? it->summary : it->content);
        if (!strcmp(k1, "author"))
            return person_val(it->authors, it->n_authors, NULL);
        if (!strcmp(k1, "updated_parsed") || !strcmp(k1, "modified_parsed"))
            return it->updated ? (val_t){.kind = V_TIME, .t = it->updated_ts} : (val_t){0};
        if (!strcmp(k1, "published_parsed") || !strcmp(k1, "issued_parsed") ||
            !strcmp(k1, "date_parsed"))
            return it->published ? (val_t){.kind = V_TIME, .t = it->published_ts} : (val_t){0};
    } else if (s2 == 1 && !strcmp(k1, "title_detail") && !strcmp(k2, "value"))
        return sval(it->title);
    else if (s2 == 1 && !strcmp(k1, "summary_detail") && !strcmp(k2, "value"))
        return sval(it->summary);
    else if (s2 == 1 && !strcmp(k1, "author_detail") &&
             (!strcmp(k2, "name") || !strcmp(k2, "email") || !strcmp(k2, "href")))
        return person_val(it->authors, it->n_authors, k2);
    else if (s2 == 2 && !strcmp(k1, "content") && !strcmp(k3, "value"))
        return i2 == 0 ? sval(it->content) : (val_t){0};
    else if (s2 == 2 && !strcmp(k1, "tags") && !strcmp(k3, "term"))
        return i2 < (long)it->n_categories ? sval(it->categories[i2]) : (val_t){0};
    else if (s2 == 2 && !strcmp(k1, "enclosures") && i2 < (long)it->n_enclosures &&
             (!strcmp(k3, "href") || !strcmp(k3, "url") || !strcmp(k3, "type")))
        return sval(!strcmp(k3, "type") ? it->enclosures[i2].type : it->enclosures[i2].url);
    else if (s2 == 2 && !strcmp(k1, "enclosures") &&
             (!strcmp(k3, "href") || !strcmp(k3, "url") || !strcmp(k3, "type")))
        return (val_t){0};
    e->untranslatable = true;
    return (val_t){0};
}

/* A literal on the right of ==: string, integer, None or a time tuple. */
static val_t
literal(ev_t *e)
{
    skip_ws(e);
    if (*e->p == '\'' || *e->p == '"' ||
        ((*e->p == 'u' || *e->p == 'r') && (e->p[1] == '\'' || e->p[1] == '"'))) {
        char *s = str_lit(e);
        if (!s)
            e->untranslatable = true;
        return (val_t){.kind = s ? V_STR : V_MISSING, .s = s};
    }
    if (eat(e, "None"))
        return (val_t){0};
    if (*e->p == '(') {
        int v[9], n = 0;
        e->p++;
        while (n < 9) {
            char *end;
            v[n] = (int)strtol(e->p, &end, 10);
            if (end == e->p)
                break;
            e->p = end;
            n++;
            if (!eat(e, ","))
                break;
        }
        if (n != 9 || !eat(e, ")")) {
            e->untranslatable = true;
            return (val_t){0};
        }
        struct tm tm = {.tm_year = v[0] - 1900,
                        .tm_mon = v[1] - 1,
                        .tm_mday = v[2],
                        .tm_hour = v[3],
                        .tm_min = v[4],
                        .tm_sec = v[5]};
        return (val_t){.kind = V_TIME, .t = (int64_t)timegm(&tm)};
    }
    char *end;
    long long x = strtoll(e->p, &end, 10);
    if (end == e->p) {
        e->untranslatable = true;
        return (val_t){0};
    }
    e->p = end;
    return (val_t){.kind = V_INT, .i = x};
}

static bool
truthy(val_t v)
{
    return (v.kind == V_STR && v.s[0]) || (v.kind == V_INT && v.i) || v.kind == V_TIME ||
           (v.kind == V_BOOL && v.i);
}

static bool expr(ev_t *e);

static bool
term(ev_t *e)
{
    if (e->untranslatable)
        return false;
    if (eat(e, "not"))
        return !term(e);
    if (eat(e, "(")) {
        bool r = expr(e);
        if (!eat(e, ")"))
            e->untranslatable = true;
        return r;
    }
    val_t lhs = {0};
    if (eat(e, "bozo"))
        lhs = (val_t){.kind = V_BOOL, .i = !e->f || e->f->bozo};
    else if (eat(e, "version"))
        lhs = sval(version_name(e->f));
    else if (eat(e, "len")) {
        if (!eat(e, "(") || !eat(e, "entries") || !eat(e, ")"))
            e->untranslatable = true;
        lhs = (val_t){.kind = V_INT, .i = e->f ? (long long)e->f->n_items : 0};
    } else if (*e->p >= '0' && *e->p <= '9')
        lhs = literal(e);
    else
        lhs = path(e);
    bool r;
    if (eat(e, "==")) {
        val_t rhs = literal(e);
        /* the model has no Netscape/UserLand distinction for RSS 0.91 */
        if (rhs.kind == V_STR && strncmp(rhs.s, "rss091", 6) == 0)
            e->untranslatable = true;
        if (lhs.kind == V_STR && rhs.kind == V_STR)
            r = strcmp(lhs.s, rhs.s) == 0;
        else if (lhs.kind == V_STR && !strcmp(version_name(e->f), lhs.s) && rhs.kind == V_STR)
            r = false;
        else if (lhs.kind == V_TIME && rhs.kind == V_TIME)
            r = lhs.t == rhs.t;
        else if ((lhs.kind == V_INT || lhs.kind == V_BOOL) && rhs.kind == V_INT)
            r = lhs.i == rhs.i;
        else
            r = lhs.kind == V_MISSING && rhs.kind == V_MISSING;
        free(rhs.s);
    } else if (eat(e, "is") || eat(e, "in") || eat(e, "!=") || eat(e, "<") || eat(e, ">")) {
        e->untranslatable = true;
        r = false;
    } else
        r = truthy(lhs);
    free(lhs.s);
    return r;
}

static bool
expr(ev_t *e)
{
    bool r = term(e);
    while (!e->untranslatable && eat(e, "and"))
        r = term(e) && r;
    if (!e->untranslatable && eat(e, "or"))
        e->untranslatable = true;
    return r;
}

static long fp_total, fp_translated, fp_passed;
static long fp_dir_translated[8], fp_dir_passed[8];
/* wellformed/sanitize is listed apart: feedparser strips unsafe HTML, which newswire leaves to
 * the parse stage's HTML cleaner, so those expectations measure a different job. */
static const char *const fp_dirs[] = {"wellformed", "illformed", "encoding", "entities",
                                      "wellformed/sanitize"};

static int
fp_visit(const char *path_, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    size_t l = strlen(path_);
    if (type != FTW_F || l < 4 || strcmp(path_ + l - 4, ".xml") != 0)
        return 0;
    uint8_t *buf = NULL;
    size_t len = 0;
    if (nw_read_file(path_, MAX_FILE, &buf, &len) < 0)
        return 0;
    const char *x = strstr((const char *)buf, "Expect:");
    if (!x) {
        free(buf);
        return 0;
    }
    fp_total++;
    const char *eol = strchr(x, '\n');
    char *exp = strndup(x + 7, eol ? (size_t)(eol - x - 7) : strlen(x + 7));
    nw_feed_t *f = NULL;
    double t0 = now_s();
    nw_feed_parse(buf, len, NULL, &f);
    parse_seconds += now_s() - t0;
    parsed_files++;
    parsed_bytes += len;
    ev_t e = {.p = exp, .f = f};
    bool ok = expr(&e);
    skip_ws(&e);
    if (*e.p && *e.p != '\r')
        e.untranslatable = true;
    if (!e.untranslatable) {
        fp_translated++;
        fp_passed += ok;
        for (int d = 0; d < 5; d++)
            if (strstr(path_, fp_dirs[d])) {
                fp_dir_translated[d]++;
                fp_dir_passed[d] += ok;
            }
        if (!ok && getenv("NW_BENCH_VERBOSE"))
            printf("FAIL %s: %s [bozo=%s]\n", path_, exp,
                   f ? (f->bozo_reason ? f->bozo_reason : "no") : "parse failed");
    }
    free(exp);
    nw_feed_free(&f);
    free(buf);
    return 0;
}

static void
run_feedparser(const char *root)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/feedparser", root);
    nftw(dir, fp_visit, 16, FTW_PHYS);
    printf("feedparser: %ld expectations, %ld translatable (%.1f%%)\n", fp_total, fp_translated,
           fp_total ? 100.0 * fp_translated / fp_total : 0.0);
    for (int d = 0; d < 5; d++)
        printf("  %-11s %4ld/%-4ld pass\n", fp_dirs[d], fp_dir_passed[d], fp_dir_translated[d]);
    printf("feedparser pass rate: %ld/%ld = %.1f%%\n", fp_passed, fp_translated,
           fp_translated ? 100.0 * fp_passed / fp_translated : 0.0);
}

int
main(int argc, char **argv)
{
    char root[2048];
    const char *env = getenv("NW_SHARED_DATA");
    if (argc > 1)
        snprintf(root, sizeof(root), "%s", argv[1]);
    else if (env)
        snprintf(root, sizeof(root), "%s/feeds", env);
    else
        snprintf(root, sizeof(root), "../shared/data/feeds");
    printf("command: ");
    for (int i = 0; i < argc; i++)
        printf("%s%s", i ? " " : "", argv[i]);
    printf("\ndata: %s\n", root);
    DIR *d = opendir(root);
    if (!d) {
        printf("skip: feed data not found at %s (pass DATA_DIR or set NW_SHARED_DATA)\n", root);
        return 0;
    }
    closedir(d);
    run_gofeed(root);
    run_feedparser(root);
    printf("speed: %ld feeds (%.1f MB) in %.3f s = %.0f feeds/s, %.1f MB/s\n", parsed_files,
           parsed_bytes / 1e6, parse_seconds,
           parse_seconds > 0 ? parsed_files / parse_seconds : 0.0,
           parse_seconds > 0 ? parsed_bytes / 1e6 / parse_seconds : 0.0);
    return 0;
}
