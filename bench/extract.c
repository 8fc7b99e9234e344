/* bench_extract: accuracy and speed of the HTML extractor (extract.h) on two public corpora
 * under ../shared/data/extraction/ (their licences keep them out of the repo):
 *
 *   trafilatura/  evaldata.json: url -> {file, with[], without[], title?, author?, date?}.
 *                 The authors' metric: each `with` snippet found in the whitespace-normalised
 *                 text is a TP, missing a FN; each `without` snippet found a FP; micro sums;
 *                 F1 = 2TP/(2TP+FP+FN). Title, author ("; "-joined) and date (YYYY-MM-DD) by
 *                 exact match over the documents that have them.
 *   readability/  <case>/source.html, expected.html, expected-metadata.json. Body shingle F1:
 *                 \w+ tokens (Unicode letters, digits, underscore), multisets of 4-token
 *                 shingles, per-document precision and recall, means over documents, F1 of
 *                 the means. Title and byline by exact match.
 *
 * Speed is the CPU time of nw_extract_html alone (reading and decoding files excluded), on
 * one thread. Usage: bench_extract [-v] [-m] [-t] [DATA_DIR] (default $NW_SHARED_DATA, else
 * ../shared/data). -v lists the pages each measure gets wrong; -m lists the trafilatura pages
 * whose title, author or date is wrong, each with a guessed cause, and counts the causes; -t
 * lists the trafilatura pages with wrong text snippets, most wrong snippets first: the
 * container the extractor chose (extract.h's `container`) and, for each snippet missed or
 * wrongly kept, where it sits (inside the container, in a sibling, elsewhere, only in scripts,
 * nowhere) with the elements that lead to it, then counts the places. The diagnosis parses
 * each page again outside the timed call.
 * Prints a skip message and exits 0 when the data is absent. */
#include <dirent.h>
#include <errno.h>
#include <iconv.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <utf8proc.h>
#include <xxhash.h>

#include "newswire/buf.h"
#include "dom.h"
#include "extract.h"
#include "newswire/util.h"

#define MAX_PAGE (64u << 20)

typedef struct timing {
    double secs;
    size_t pages;
    size_t bytes;
} timing_t;

static double
cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The page as UTF-8: as is when valid, else converted from its <meta charset> or, failing
 * that, windows-1252 (what browsers assume). Caller frees *out. */
static int
to_utf8(const uint8_t *b, size_t n, char **out, size_t *out_len)
{
    if (utf8proc_decompose(b, (utf8proc_ssize_t)n, NULL, 0, 0) >= 0 || n == 0) {
        *out = malloc(n + 1);
        if (*out == NULL)
            return -ENOMEM;
        memcpy(*out, b, n);
        (*out)[n] = 0;
        *out_len = n;
        return 0;
    }
    char cs[40] = "WINDOWS-1252";
    size_t head = n < 4096 ? n : 4096;
    char *h = nw_strndup((const char *)b, head);
    if (h == NULL)
        return -ENOMEM;
    char *p = strcasestr(h, "charset=");
    if (p != NULL) {
        p += 8;
        while (*p == '"' || *p == '\'' || *p == ' ')
            p++;
        size_t k = strcspn(p, "\"' ;/>");
        if (k > 0 && k < sizeof(cs) && strncasecmp(p, "utf", 3) != 0) {
            memcpy(cs, p, k);
            cs[k] = 0;
        }
    }
    free(h);
    iconv_t cd = iconv_open("UTF-8//IGNORE", cs);
    if (cd == (iconv_t)-1)
        cd = iconv_open("UTF-8//IGNORE", "WINDOWS-1252");
    size_t cap = n * 4 + 16;
    char *o = malloc(cap);
    if (o == NULL) {
        iconv_close(cd);
        return -ENOMEM;
    }
    char *ip = (char *)b, *op = o;
    size_t il = n, ol = cap - 1;
    while (il > 0) {
        if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1) {
            if (errno == E2BIG)
                break;
            ip++; /* a byte the charset does not have: skip it */
            il--;
        }
    }
    iconv_close(cd);
    *op = 0;
    *out = o;
    *out_len = (size_t)(op - o);
    return 0;
}

static int
read_page(const char *path, char **out, size_t *len)
{
    uint8_t *raw = NULL;
    size_t n = 0;
    int rc = nw_read_file(path, MAX_PAGE, &raw, &n);
    if (rc < 0)
        return rc;
    rc = to_utf8(raw, n, out, len);
    free(raw);
    return rc;
}

static int
timed_extract(const char *html, size_t len, const char *url, nw_extract_t *ex, timing_t *t)
{
    double t0 = cpu_now();
    int rc = nw_extract_html(html, len, url, 0, ex);
    t->secs += cpu_now() - t0;
    t->pages++;
    t->bytes += len;
    return rc;
}

/* Whitespace runs collapsed to one space, ends trimmed; malloc'd. */
static char *
squash(const char *s)
{
    size_t n = strlen(s), k = 0;
    char *o = malloc(n + 1);
    if (o == NULL)
        return NULL;
    bool sp = true;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool ws = c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
        /* NBSP counts as a space, as Python's str.split() does */
        if (c == 0xc2 && (unsigned char)s[i + 1] == 0xa0) {
            ws = true;
            i++;
        }
        if (ws) {
            if (!sp)
                o[k++] = ' ';
            sp = true;
        } else {
            o[k++] = (char)c;
            sp = false;
        }
    }
    if (k > 0 && o[k - 1] == ' ')
        k--;
    o[k] = 0;
    return o;
}

static void
print_speed(const char *name, const timing_t *t)
{
    printf("%s speed: %zu pages, %.1f MB in %.3f s CPU: %.1f pages/s, %.2f MB/s (one core)\n", name,
           t->pages, t->bytes / 1e6, t->secs, t->pages / t->secs, t->bytes / 1e6 / t->secs);
}

/* --- metadata diagnosis (-m) ----------------------------------------------------------------- */

/* Why a metadata field did not match, for sorting failures by cause: "empty" (we have none),
 * "space" (equal once whitespace is squashed: the gold keeps stray spaces), "case" (equal
 * ignoring case: the gold copied CSS-uppercased text), "longer" (ours holds the gold and more:
 * a site name, kicker or label), "shorter" (the gold holds ours and more), "day" (a date one day
 * off: a time zone), else "other". */
static const char *
why_wrong(const char *ours, const char *want, bool date)
{
    if (ours == NULL || ours[0] == 0)
        return "empty";
    const char *why = "other";
    char *a = squash(ours), *b = squash(want);
    uint8_t *fa = NULL, *fb = NULL;
    if (a == NULL || b == NULL)
        goto out;
    if (date) {
        struct tm ta = {0}, tb = {0};
        if (strlen(a) >= 10 && strlen(b) >= 10 &&
            sscanf(a, "%4d-%2d-%2d", &ta.tm_year, &ta.tm_mon, &ta.tm_mday) == 3 &&
            sscanf(b, "%4d-%2d-%2d", &tb.tm_year, &tb.tm_mon, &tb.tm_mday) == 3) {
            ta.tm_year -= 1900, tb.tm_year -= 1900, ta.tm_mon--, tb.tm_mon--;
            double d = difftime(timegm(&ta), timegm(&tb));
            why = d == 86400 || d == -86400 ? "day" : ta.tm_year != tb.tm_year ? "year" : "other";
        }
        goto out;
    }
    if (strcmp(a, b) == 0) {
        why = "space";
        goto out;
    }
    utf8proc_map((const uint8_t *)a, 0, &fa, UTF8PROC_NULLTERM | UTF8PROC_CASEFOLD);
    utf8proc_map((const uint8_t *)b, 0, &fb, UTF8PROC_NULLTERM | UTF8PROC_CASEFOLD);
    if (fa != NULL && fb != NULL && strcmp((char *)fa, (char *)fb) == 0)
        why = "case";
    else if (strstr(a, b) != NULL)
        why = "longer";
    else if (strstr(b, a) != NULL)
        why = "shorter";
out:
    free(fa);
    free(fb);
    free(a);
    free(b);
    return why;
}

typedef struct why_count {
    const char *field, *why;
    size_t n;
} why_count_t;

static void
count_why(why_count_t *c, size_t cap, const char *field, const char *why)
{
    for (size_t k = 0; k < cap; k++) {
        if (c[k].field == NULL) {
            c[k] = (why_count_t){field, why, 1};
            return;
        }
        if (strcmp(c[k].field, field) == 0 && strcmp(c[k].why, why) == 0) {
            c[k].n++;
            return;
        }
    }
}

/* One failing field: printed in -m mode, counted by cause. */
static void
meta_miss(why_count_t *c, size_t cap, bool show, const char *file, const char *field,
          const char *ours, const char *want)
{
    const char *why = why_wrong(ours, want, strcmp(field, "date") == 0);
    count_why(c, cap, field, why);
    if (show)
        printf("  %s/%s %s: [%s] want [%s]\n", field, why, file, ours ? ours : "", want);
}

/* --- text diagnosis (-t) --------------------------------------------------------------------- */

/* Where a snippet sits relative to the container the extractor chose: inside it ("top": dropped
 * there or kept there), in one of its siblings ("sibling": a part of the article not merged, or
 * furniture merged), spanning it ("span": the snippet crosses the container's edge), elsewhere
 * on the page ("outside"), only in script data such as JSON-LD's articleBody ("script"), or not
 * in the page's text at all ("absent": markup inside words, text made by scripts). */
enum { W_TOP, W_SIBLING, W_SPAN, W_OUTSIDE, W_SCRIPT, W_ABSENT, W_COUNT };
static const char *const WHERE[W_COUNT] = {"top", "sibling", "span", "outside", "script", "absent"};

static bool
diag_skip(const nw_dom_node_t *n)
{
    return n->type == NW_DOM_ELEMENT &&
           (n->tag == NW_TAG_SCRIPT || n->tag == NW_TAG_STYLE || n->tag == NW_TAG_TEMPLATE);
}

static bool
diag_block(const nw_dom_node_t *n)
{
    static const uint8_t tags[] = {
        NW_TAG_P,       NW_TAG_DIV,      NW_TAG_SECTION, NW_TAG_ARTICLE,    NW_TAG_MAIN,
        NW_TAG_LI,      NW_TAG_UL,       NW_TAG_OL,      NW_TAG_TD,         NW_TAG_TH,
        NW_TAG_TR,      NW_TAG_H1,       NW_TAG_H2,      NW_TAG_H3,         NW_TAG_H4,
        NW_TAG_H5,      NW_TAG_H6,       NW_TAG_BR,      NW_TAG_BLOCKQUOTE, NW_TAG_PRE,
        NW_TAG_DT,      NW_TAG_DD,       NW_TAG_TABLE,   NW_TAG_FIGURE,     NW_TAG_FIGCAPTION,
        NW_TAG_HEADER,  NW_TAG_FOOTER,   NW_TAG_NAV,     NW_TAG_ASIDE,      NW_TAG_FORM,
        NW_TAG_ADDRESS, NW_TAG_DL,       NW_TAG_HR,      NW_TAG_CAPTION,    NW_TAG_DETAILS,
        NW_TAG_SUMMARY, NW_TAG_FIELDSET, NW_TAG_CENTER};
    if (n->type != NW_DOM_ELEMENT)
        return false;
    for (size_t k = 0; k < sizeof(tags); k++)
        if (n->tag == tags[k])
            return true;
    return false;
}

/* The squashed visible text of n (script, style and template left out; blocks separated by
 * a space), or with scripts when all. malloc'd. */
static char *
diag_text(nw_dom_node_t *top, bool all)
{
    nw_buf_t b = {0};
    nw_buf_append(&b, "", 0);
    if (top->type == NW_DOM_TEXT) {
        nw_buf_puts(&b, top->content ? top->content : "");
    } else {
        for (nw_dom_node_t *n = top->children; n != NULL;) {
            bool skip = !all && diag_skip(n);
            if (n->type == NW_DOM_TEXT && n->content != NULL)
                nw_buf_puts(&b, n->content);
            else if (diag_block(n))
                nw_buf_puts(&b, " ");
            n = nw_dom_next(n, top, !skip);
        }
    }
    char *r = squash(b.data ? (const char *)b.data : "");
    nw_buf_release(&b);
    return r;
}

static bool
diag_has(nw_dom_node_t *n, const char *needle, bool all)
{
    char *t = diag_text(n, all);
    bool r = t != NULL && strstr(t, needle) != NULL;
    free(t);
    return r;
}

/* The deepest element whose text holds needle, or NULL. */
static nw_dom_node_t *
diag_holder(nw_dom_node_t *root, const char *needle)
{
    if (!diag_has(root, needle, false))
        return NULL;
    nw_dom_node_t *h = root;
    for (bool deeper = true; deeper;) {
        deeper = false;
        for (nw_dom_node_t *c = h->children; c != NULL; c = c->next) {
            if (c->type != NW_DOM_ELEMENT || diag_skip(c))
                continue;
            if (diag_has(c, needle, false)) {
                h = c;
                deeper = true;
                break;
            }
        }
    }
    return h;
}

/* The element at a path made by extract.c ("/html[1]/body[1]/div[3]"), or NULL. */
static nw_dom_node_t *
diag_resolve(nw_dom_node_t *root, const char *path)
{
    nw_dom_node_t *n = NULL;
    for (const char *p = path; p != NULL && *p == '/';) {
        const char *lb = strchr(p, '[');
        if (lb == NULL)
            return NULL;
        unsigned idx = (unsigned)strtoul(lb + 1, NULL, 10);
        if (n == NULL) {
            n = root;
        } else {
            nw_dom_node_t *c = n->children;
            for (unsigned k = 0; c != NULL; c = c->next)
                if (c->type == NW_DOM_ELEMENT && ++k == idx)
                    break;
            n = c;
            if (n == NULL)
                return NULL;
        }
        p = strchr(lb, '/');
    }
    return n;
}

static bool
diag_within(const nw_dom_node_t *n, const nw_dom_node_t *a)
{
    for (; n != NULL; n = n->parent)
        if (n == a)
            return true;
    return false;
}

/* "div#main.story body" for one element, into buf. */
static void
diag_name(const nw_dom_node_t *n, char *buf, size_t cap)
{
    const char *id = nw_dom_attr(n, "id"), *cl = nw_dom_attr(n, "class");
    snprintf(buf, cap, "%s%s%.30s%s%.40s", n->name ? n->name : "?", id ? "#" : "", id ? id : "",
             cl ? "." : "", cl ? cl : "");
}

/* The elements from `from` (excluded) down to n, as "a > b > c", into b. */
static void
diag_chain(nw_buf_t *b, const nw_dom_node_t *n, const nw_dom_node_t *from)
{
    const nw_dom_node_t *chain[32];
    size_t k = 0;
    for (; n != NULL && n != from && k < 32; n = n->parent)
        chain[k++] = n;
    if (n != NULL && n != from)
        nw_buf_puts(b, "... ");
    while (k > 0) {
        char nm[96];
        diag_name(chain[--k], nm, sizeof(nm));
        nw_buf_printf(b, "%s%s", nm, k ? " > " : "");
    }
}

typedef struct diag_page {
    char *report;
    size_t tp, fp, fn;
} diag_page_t;

static int
cmp_diag(const void *a, const void *b)
{
    const diag_page_t *x = a, *y = b;
    size_t ex = x->fp + x->fn, ey = y->fp + y->fn;
    return ex != ey ? (ey > ex ? 1 : -1) : strcmp(x->report, y->report);
}

/* One page's wrong snippets, each with where it sits; counts into where[2][W_COUNT]
 * (0: missed `with`, 1: found `without`). */
static void
diag_page(nw_buf_t *b, const char *html, size_t len, const char *container, json_t *with,
          json_t *without, const char *text, size_t where[2][W_COUNT])
{
    nw_dom_t *d = nw_dom_parse(html, len);
    if (d == NULL)
        return;
    nw_dom_node_t *root = nw_dom_root(d);
    nw_dom_node_t *top = diag_resolve(root, container);
    nw_buf_puts(b, "    container: ");
    if (top != NULL)
        diag_chain(b, top, root);
    else
        nw_buf_puts(b, "(none)");
    nw_buf_puts(b, "\n");
    for (int kind = 0; kind < 2; kind++) {
        json_t *arr = kind == 0 ? with : without;
        size_t k;
        json_t *v;
        json_array_foreach(arr, k, v)
        {
            char *s = json_is_string(v) ? squash(json_string_value(v)) : NULL;
            if (s == NULL || s[0] == 0 || (strstr(text, s) != NULL) == (kind == 0)) {
                free(s);
                continue;
            }
            nw_dom_node_t *h = diag_holder(root, s);
            int w = W_OUTSIDE;
            if (h == NULL)
                w = diag_has(root, s, true) ? W_SCRIPT : W_ABSENT;
            else if (top != NULL && diag_within(h, top))
                w = W_TOP;
            else if (top != NULL && diag_within(top, h))
                w = W_SPAN;
            else if (top != NULL && top->parent != NULL && diag_within(h, top->parent))
                w = W_SIBLING;
            where[kind][w]++;
            nw_buf_printf(b, "    %s %-7s \"%.70s\"", kind == 0 ? "MISS " : "EXTRA", WHERE[w], s);
            if (h != NULL) {
                nw_buf_puts(b, "\n        at ");
                diag_chain(b, h, w == W_TOP || w == W_SIBLING ? top->parent : root);
            }
            nw_buf_puts(b, "\n");
            free(s);
        }
    }
    nw_dom_destroy(&d);
}

/* --- trafilatura ---------------------------------------------------------------------------- */

static size_t
count_found(json_t *arr, const char *text)
{
    size_t k, n = 0;
    json_t *v;
    json_array_foreach(arr, k, v)
    {
        if (!json_is_string(v))
            continue;
        char *s = squash(json_string_value(v));
        if (s != NULL && s[0] && strstr(text, s) != NULL)
            n++;
        free(s);
    }
    return n;
}

static int
bench_trafilatura(const char *dir, bool verbose, bool meta, bool diag)
{
    char path[4400];
    snprintf(path, sizeof(path), "%s/evaldata.json", dir);
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (root == NULL) {
        printf("trafilatura: skipped (%s: %s)\n", path, err.text);
        return 0;
    }
    size_t tp = 0, fp = 0, fn = 0, docs = 0, crashes = 0;
    size_t title_n = 0, title_ok = 0, author_n = 0, author_ok = 0, date_n = 0, date_ok = 0;
    timing_t t = {0};
    why_count_t whys[64] = {0};
    diag_page_t *pages = NULL;
    size_t n_pages = 0, where[2][W_COUNT] = {{0}};
    const char *url;
    json_t *doc;
    json_object_foreach(root, url, doc)
    {
        const char *file = json_string_value(json_object_get(doc, "file"));
        if (file == NULL)
            continue;
        char *html = NULL;
        size_t len = 0;
        snprintf(path, sizeof(path), "%s/eval/%s", dir, file);
        if (read_page(path, &html, &len) < 0) {
            snprintf(path, sizeof(path), "%s/cache/%s", dir, file);
            if (read_page(path, &html, &len) < 0)
                continue;
        }
        docs++;
        nw_extract_t ex = {0};
        char *text = NULL;
        if (timed_extract(html, len, url, &ex, &t) < 0 || ex.text == NULL) {
            crashes++;
            text = strdup("");
        } else {
            text = squash(ex.text);
        }
        json_t *with = json_object_get(doc, "with"), *without = json_object_get(doc, "without");
        size_t w = count_found(with, text), wo = count_found(without, text);
        tp += w;
        fn += json_array_size(with) - w;
        fp += wo;
        if (diag && (w < json_array_size(with) || wo > 0)) {
            diag_page_t *p = realloc(pages, (n_pages + 1) * sizeof(*p));
            if (p != NULL) {
                pages = p;
                nw_buf_t b = {0};
                size_t nw = json_array_size(with);
                nw_buf_printf(&b, "  %s  F1 %.2f  with %zu/%zu  without %zu/%zu  (%s)\n", file,
                              2.0 * w / (2.0 * w + wo + (nw - w) + 1e-9), w, nw, wo,
                              json_array_size(without), url);
                diag_page(&b, html, len, ex.container ? ex.container : "", with, without, text,
                          where);
                pages[n_pages++] = (diag_page_t){(char *)nw_buf_steal(&b, NULL), w, wo, nw - w};
            }
        }
        if (verbose && (w < json_array_size(with) || wo > 0))
            printf("  %s: with %zu/%zu without %zu/%zu\n", file, w, json_array_size(with), wo,
                   json_array_size(without));
        const char *gt = json_string_value(json_object_get(doc, "title"));
        if (gt != NULL && gt[0]) {
            title_n++;
            title_ok += ex.title != NULL && strcmp(ex.title, gt) == 0;
            if (ex.title == NULL || strcmp(ex.title, gt) != 0)
                meta_miss(whys, 64, verbose || meta, file, "title", ex.title, gt);
        }
        const char *ga = json_string_value(json_object_get(doc, "author"));
        if (ga != NULL && ga[0]) {
            nw_buf_t b = {0};
            for (size_t k = 0; k < ex.n_authors; k++)
                nw_buf_printf(&b, "%s%s", k ? "; " : "", ex.authors[k]);
            nw_buf_append(&b, "", 1);
            author_n++;
            author_ok += b.data != NULL && strcmp((const char *)b.data, ga) == 0;
            if (b.data == NULL || strcmp((const char *)b.data, ga) != 0)
                meta_miss(whys, 64, verbose || meta, file, "author", (const char *)b.data, ga);
            nw_buf_release(&b);
        }
        const char *gd = json_string_value(json_object_get(doc, "date"));
        if (gd != NULL && gd[0]) {
            date_n++;
            bool ok = ex.published != NULL && strncmp(ex.published, gd, 10) == 0;
            date_ok += ok;
            if (!ok)
                meta_miss(whys, 64, verbose || meta, file, "date", ex.published, gd);
        }
        free(text);
        free(html);
        nw_extract_release(&ex);
    }
    json_decref(root);
    double f1 = 2.0 * tp / (2.0 * tp + fp + fn);
    printf("trafilatura corpus: %zu docs, %zu empty/crashed\n", docs, crashes);
    printf("  text: TP %zu FP %zu FN %zu  precision %.3f recall %.3f F1 %.3f\n", tp, fp, fn,
           (double)tp / (tp + fp), (double)tp / (tp + fn), f1);
    printf("  title %.3f (%zu/%zu)  author %.3f (%zu/%zu)  date %.3f (%zu/%zu)\n",
           title_n ? (double)title_ok / title_n : 0, title_ok, title_n,
           author_n ? (double)author_ok / author_n : 0, author_ok, author_n,
           date_n ? (double)date_ok / date_n : 0, date_ok, date_n);
    if (meta) {
        printf("  misses by cause:");
        for (size_t k = 0; k < 64 && whys[k].field != NULL; k++)
            printf(" %s/%s %zu", whys[k].field, whys[k].why, whys[k].n);
        printf("\n");
    }
    if (diag) {
        qsort(pages, n_pages, sizeof(*pages), cmp_diag);
        printf("  pages with wrong snippets, worst first:\n");
        for (size_t k = 0; k < n_pages; k++)
            fputs(pages[k].report ? pages[k].report : "", stdout);
        for (int kind = 0; kind < 2; kind++) {
            printf("  %s by where:", kind == 0 ? "missed `with`" : "found `without`");
            for (int w = 0; w < W_COUNT; w++)
                printf(" %s %zu", WHERE[w], where[kind][w]);
            printf("\n");
        }
    }
    for (size_t k = 0; k < n_pages; k++)
        free(pages[k].report);
    free(pages);
    print_speed("trafilatura", &t);
    return 0;
}

/* --- readability ---------------------------------------------------------------------------- */

typedef struct hashes {
    uint64_t *v;
    size_t n, cap;
} hashes_t;

static bool
word_char(utf8proc_int32_t c)
{
    if (c == '_')
        return true;
    utf8proc_category_t k = utf8proc_category(c);
    return (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO) ||
           (k >= UTF8PROC_CATEGORY_ND && k <= UTF8PROC_CATEGORY_NO);
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Sorted hashes of the 4-token shingles of s (one shingle of all tokens when fewer). */
static int
shingles(const char *s, hashes_t *h)
{
    size_t n = strlen(s);
    size_t *ts = NULL, *te = NULL, nt = 0, cap = 0;
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0;
    while (i < n) {
        utf8proc_int32_t c;
        utf8proc_ssize_t l = utf8proc_iterate(p + i, (utf8proc_ssize_t)(n - i), &c);
        if (l <= 0) {
            i++;
            continue;
        }
        if (!word_char(c)) {
            i += (size_t)l;
            continue;
        }
        size_t st = i;
        while (i < n) {
            l = utf8proc_iterate(p + i, (utf8proc_ssize_t)(n - i), &c);
            if (l <= 0 || !word_char(c))
                break;
            i += (size_t)l;
        }
        if (nt == cap) {
            cap = cap ? cap * 2 : 256;
            size_t *a = realloc(ts, cap * sizeof(*a)),
                   *b = a ? realloc(te, cap * sizeof(*b)) : NULL;
            if (a != NULL)
                ts = a;
            if (a == NULL || b == NULL) {
                free(ts);
                free(te == b ? NULL : te);
                return -ENOMEM;
            }
            te = b;
        }
        ts[nt] = st;
        te[nt++] = i;
    }
    size_t k = 4;
    size_t ns = nt == 0 ? 0 : nt < k ? 1 : nt - k + 1;
    h->v = malloc((ns ? ns : 1) * sizeof(uint64_t));
    h->n = ns;
    if (h->v == NULL) {
        free(ts);
        free(te);
        return -ENOMEM;
    }
    for (size_t j = 0; j < ns; j++) {
        XXH64_state_t *st = XXH64_createState();
        XXH64_reset(st, 0);
        size_t last = nt < k ? nt : j + k;
        for (size_t q = j; q < last; q++) {
            XXH64_update(st, s + ts[q], te[q] - ts[q]);
            XXH64_update(st, "\x1f", 1);
        }
        h->v[j] = XXH64_digest(st);
        XXH64_freeState(st);
    }
    qsort(h->v, h->n, sizeof(uint64_t), cmp_u64);
    free(ts);
    free(te);
    return 0;
}

static size_t
common(const hashes_t *a, const hashes_t *b)
{
    size_t i = 0, j = 0, c = 0;
    while (i < a->n && j < b->n) {
        if (a->v[i] == b->v[j]) {
            c++, i++, j++;
        } else if (a->v[i] < b->v[j]) {
            i++;
        } else {
            j++;
        }
    }
    return c;
}

/* The text of an HTML file, text nodes joined by spaces. */
static char *
html_text(const char *html, size_t len)
{
    htmlDocPtr doc = htmlReadMemory(html, (int)len, NULL, "UTF-8",
                                    HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                        HTML_PARSE_RECOVER);
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    nw_buf_t b = {0};
    nw_buf_append(&b, "", 0);
    for (xmlNode *n = root; n != NULL;) {
        bool descend = n->type == XML_ELEMENT_NODE &&
                       strcmp((const char *)n->name, "script") != 0 &&
                       strcmp((const char *)n->name, "style") != 0;
        if (n->type == XML_TEXT_NODE && n->content != NULL) {
            nw_buf_puts(&b, (const char *)n->content);
            nw_buf_puts(&b, " ");
        }
        if (descend && n->children != NULL) {
            n = n->children;
            continue;
        }
        while (n != NULL && n != root && n->next == NULL)
            n = n->parent;
        n = n == NULL || n == root ? NULL : n->next;
    }
    xmlFreeDoc(doc);
    nw_buf_append(&b, "", 1);
    return (char *)nw_buf_steal(&b, NULL);
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
bench_readability(const char *dir, bool verbose)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        printf("readability: skipped (%s: %s)\n", dir, strerror(errno));
        return 0;
    }
    char **names = NULL;
    size_t nn = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char **p = realloc(names, (nn + 1) * sizeof(*p));
        if (p == NULL)
            break;
        names = p;
        names[nn++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, nn, sizeof(*names), cmp_str);
    double psum = 0, rsum = 0;
    size_t docs = 0, title_n = 0, title_ok = 0, by_n = 0, by_ok = 0;
    timing_t t = {0};
    char path[4400];
    for (size_t k = 0; k < nn; k++) {
        char *src = NULL, *exp = NULL;
        size_t sl = 0, el = 0;
        snprintf(path, sizeof(path), "%s/%s/source.html", dir, names[k]);
        if (read_page(path, &src, &sl) < 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s/expected.html", dir, names[k]);
        if (read_page(path, &exp, &el) < 0) {
            free(src);
            continue;
        }
        nw_extract_t ex = {0};
        timed_extract(src, sl, NULL, &ex, &t);
        char *gold = html_text(exp, el);
        hashes_t hp = {0}, hg = {0};
        shingles(ex.text ? ex.text : "", &hp);
        shingles(gold ? gold : "", &hg);
        size_t c = common(&hp, &hg);
        double p = hp.n ? (double)c / hp.n : hg.n ? 0.0 : 1.0;
        double r = hg.n ? (double)c / hg.n : 1.0;
        psum += p;
        rsum += r;
        docs++;
        if (verbose && (p < 0.9 || r < 0.9))
            printf("  %s: P %.2f R %.2f\n", names[k], p, r);
        snprintf(path, sizeof(path), "%s/%s/expected-metadata.json", dir, names[k]);
        json_error_t err;
        json_t *meta = json_load_file(path, 0, &err);
        const char *gt = json_string_value(json_object_get(meta, "title"));
        const char *gb = json_string_value(json_object_get(meta, "byline"));
        if (gt != NULL && gt[0]) {
            title_n++;
            title_ok += ex.title != NULL && strcmp(ex.title, gt) == 0;
            if (verbose && (ex.title == NULL || strcmp(ex.title, gt) != 0))
                printf("  %s: title [%s] want [%s]\n", names[k], ex.title ? ex.title : "", gt);
        }
        if (gb != NULL && gb[0]) {
            nw_buf_t b = {0};
            for (size_t j = 0; j < ex.n_authors; j++)
                nw_buf_printf(&b, "%s%s", j ? ", " : "", ex.authors[j]);
            nw_buf_append(&b, "", 1);
            by_n++;
            by_ok += b.data != NULL && strcmp((const char *)b.data, gb) == 0;
            nw_buf_release(&b);
        }
        json_decref(meta);
        free(hp.v);
        free(hg.v);
        free(gold);
        free(src);
        free(exp);
        nw_extract_release(&ex);
    }
    for (size_t k = 0; k < nn; k++)
        free(names[k]);
    free(names);
    if (docs == 0) {
        printf("readability: skipped (no cases under %s)\n", dir);
        return 0;
    }
    double P = psum / docs, R = rsum / docs;
    printf("readability corpus: %zu docs\n", docs);
    printf("  body shingle precision %.3f recall %.3f F1 %.3f\n", P, R,
           P + R > 0 ? 2 * P * R / (P + R) : 0);
    printf("  title %.3f (%zu/%zu)  byline %.3f (%zu/%zu)\n",
           title_n ? (double)title_ok / title_n : 0, title_ok, title_n,
           by_n ? (double)by_ok / by_n : 0, by_ok, by_n);
    print_speed("readability", &t);
    return 0;
}

int
main(int argc, char **argv)
{
    bool verbose = false, meta = false, diag = false;
    const char *data = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0)
            verbose = true;
        else if (strcmp(argv[i], "-m") == 0)
            meta = true;
        else if (strcmp(argv[i], "-t") == 0)
            diag = true;
        else
            data = argv[i];
    }
    if (data == NULL)
        data = getenv("NW_SHARED_DATA");
    if (data == NULL)
        data = "../shared/data";
    printf("command: ");
    for (int i = 0; i < argc; i++)
        printf("%s%s", i ? " " : "", argv[i]);
    printf("  (data %s)\n", data);
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/extraction", data);
    DIR *d = opendir(dir);
    if (d == NULL) {
        printf("skipped: no extraction data under %s\n", data);
        return 0;
    }
    closedir(d);
    snprintf(dir, sizeof(dir), "%s/extraction/trafilatura", data);
    bench_trafilatura(dir, verbose, meta, diag);
    snprintf(dir, sizeof(dir), "%s/extraction/readability", data);
    bench_readability(dir, verbose);
    xmlCleanupParser();
    return 0;
}
