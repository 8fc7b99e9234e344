/* extract_authors.c: the authors of a web page: visible bylines (rel=author, class "byline"),
 * names split out of "A, B and C", cleaned of "By", "Von", "Par", dates and job titles, the site
 * itself kept only when no person is named, and a labelled line ("Text: Jo Lind") as the last
 * resort. */
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

#include "newswire/util.h"

/* A visible byline: rel=author, itemprop=author or a class/id naming the author. */
bool
nw_extract_is_byline(const nw_dom_node_t *n)
{
    const char *rel = attr(n, "rel"), *ip = attr(n, "itemprop");
    if ((rel != NULL && strcasecmp(rel, "author") == 0) ||
        (ip != NULL && strcasecmp(ip, "author") == 0))
        return true;
    char ci[512];
    nw_extract_class_id(n, ci, sizeof(ci));
    return (strstr(ci, "author") || strstr(ci, "byline")) && !strstr(ci, "comment") &&
           !strstr(ci, "bio") && !strstr(ci, "about") && !strstr(ci, "avatar") &&
           !strstr(ci, "img") && !strstr(ci, "image");
}

/* Strip "By", "Von", "Par"... off one author name and cut it at what follows names in bylines
 * (a date, "at 18:52", " · "); NULL if what is left does not look like a name. Takes s. */
static char *
tidy_author(char *s)
{
    static const char *const prefixes[] = {"by",
                                           "von",
                                           "par",
                                           "por",
                                           "di",
                                           "door",
                                           "av",
                                           "from",
                                           "author",
                                           "autor",
                                           "autorin",
                                           "text",
                                           "written by",
                                           "posted by",
                                           "published by",
                                           "about",
                                           "über",
                                           "\xc3\x9c"
                                           "ber",
                                           "authors",
                                           "autoren",
                                           "auteur",
                                           "auteurs",
                                           "autores",
                                           "post author",
                                           "veröffentlicht von",
                                           "publiziert von",
                                           "geschrieben von",
                                           "redaktion:",
                                           "publié par",
                                           "publicado por",
                                           "escrito por",
                                           "autorstwo",
                                           NULL};
    static const char *const stops[] = {" \xc2\xb7 ",     " | ",  " - ",  " \xe2\x80\x93 ",
                                        " \xe2\x80\x94 ", " at ", " am ", " on ",
                                        " um ",           " le ", " el ", NULL};
    size_t n = strlen(s), b = 0;
    for (bool again = true; again;) {
        again = false;
        while (b < n && (s[b] == ' ' || s[b] == ':' || s[b] == '-' || s[b] == '|' || s[b] == '~'))
            b++;
        for (size_t k = 0; prefixes[k] != NULL; k++) {
            size_t pl = strlen(prefixes[k]);
            /* "AuthorJane Doe": a hidden label run into the name without a space */
            bool joined = n - b > pl && s[b + pl - 1] >= 'a' && s[b + pl - 1] <= 'z' &&
                          s[b + pl] >= 'A' && s[b + pl] <= 'Z';
            if (n - b >= pl && strncasecmp(s + b, prefixes[k], pl) == 0 &&
                (s[b + pl] == 0 || s[b + pl] == ' ' || s[b + pl] == ':' ||
                 prefixes[k][pl - 1] == ':' || joined)) {
                b += pl;
                again = true;
            }
        }
    }
    for (size_t k = 0; stops[k] != NULL; k++) {
        char *p = strstr(s + b, stops[k]);
        if (p != NULL && (size_t)(p - s) < n)
            n = (size_t)(p - s);
    }
    for (size_t k = b; k < n; k++)
        if (s[k] >= '0' && s[k] <= '9') {
            n = k;
            break;
        }
    for (bool again = true; again;) {
        again = false;
        while (n > b && (s[n - 1] == ' ' || s[n - 1] == ',' || s[n - 1] == '|' || s[n - 1] == '-' ||
                         s[n - 1] == ':'))
            n--;
        /* a trailing middle dot or bullet */
        if (n >= b + 2 && (unsigned char)s[n - 2] == 0xc2 && (unsigned char)s[n - 1] == 0xb7)
            n -= 2, again = true;
        if (n >= b + 3 && memcmp(s + n - 3, "\xe2\x80\xa2", 3) == 0)
            n -= 3, again = true;
        /* a "more by" arrow: → or » */
        if (n >= b + 3 && memcmp(s + n - 3, "\xe2\x86\x92", 3) == 0)
            n -= 3, again = true;
        if (n >= b + 2 && memcmp(s + n - 2, "\xc2\xbb", 2) == 0)
            n -= 2, again = true;
    }
    /* a degree after a comma ("PhD") is no name */
    static const char *const degrees[] = {"phd",   "ph.d.", "md",  "m.d.", "dr", "dr.", "prof",
                                          "prof.", "mba",   "msc", "ma",   "ba", NULL};
    for (size_t k = 0; degrees[k] != NULL && n > b; k++)
        if (n - b == strlen(degrees[k]) && strncasecmp(s + b, degrees[k], n - b) == 0)
            n = b;
    /* a label with no name after it: "Posted on", "Publiziert am", a month */
    static const char *const labels[] = {"posted on",
                                         "posted",
                                         "published",
                                         "published on",
                                         "publiziert am",
                                         "veröffentlicht am",
                                         "veröffentlicht",
                                         "geschrieben am",
                                         "publié le",
                                         "publicado el",
                                         "on",
                                         "am",
                                         "le",
                                         "el",
                                         NULL};
    for (size_t k = 0; labels[k] != NULL && n > b; k++)
        if (n - b == strlen(labels[k]) && strncasecmp(s + b, labels[k], n - b) == 0)
            n = b;
    if (n > b && n - b < 24) {
        char w[24];
        for (size_t k = 0; k < n - b; k++)
            w[k] = (char)tolower((unsigned char)s[b + k]);
        if (nw_extract_month_number(w, n - b) != 0)
            n = b;
    }
    size_t words = 1;
    for (size_t k = b; k < n; k++)
        words += s[k] == ' ';
    if (n <= b || n - b > 60 || words > 5 || memchr(s + b, '@', n - b) ||
        strncmp(s + b, "http", 4) == 0 || memchr(s + b, '/', n - b) ||
        (n - b == 9 && strncasecmp(s + b, "no author", 9) == 0) ||
        (n - b == 5 && strncasecmp(s + b, "admin", 5) == 0)) {
        free(s);
        return NULL;
    }
    memmove(s, s + b, n - b);
    s[n - b] = 0;
    return s;
}

/* A byline that runs into a date with its weekday ("Ida Marsh Fr, 12.03.2021") loses both. */
static void
cut_weekday_date(char *c)
{
    static const char *const days[] = {"mo",  "di",  "mi",  "do",  "fr",  "sa",  "so",  "mon",
                                       "tue", "wed", "thu", "fri", "sat", "sun", "lun", "mar",
                                       "mer", "jeu", "ven", "sam", "dim", NULL};
    size_t d = strcspn(c, "0123456789");
    if (c[d] == 0)
        return;
    size_t e = d;
    while (e > 0 && (c[e - 1] == ' ' || c[e - 1] == ',' || c[e - 1] == '.'))
        e--;
    size_t w = e;
    while (w > 0 && isalpha((unsigned char)c[w - 1]))
        w--;
    if (w == 0 || c[w - 1] != ' ')
        return;
    for (size_t k = 0; days[k] != NULL; k++)
        if (e - w == strlen(days[k]) && strncasecmp(c + w, days[k], e - w) == 0) {
            c[w] = 0;
            return;
        }
}

/* Whether an author name is the publication itself ("Valley Courier" on valleycourier.example,
 * or the site's own name): a stand-in that a named person in a byline should beat. */
static bool
is_site_author(const meta_t *m, const char *name)
{
    return (m->f[F_SITE] != NULL && strcasecmp(name, m->f[F_SITE]) == 0) ||
           nw_extract_names_host(name, strlen(name), m->url != NULL ? m->url : m->f[F_CANON]);
}

/* Split an author string into names ("A, B and C") and add them at rank. */
int
nw_extract_add_authors(meta_t *m, const char *v, int rank)
{
    int rc;
    if (v == NULL || rank > m->authors.rank)
        return 0;
    char *c = nw_extract_clean_meta(v, strlen(v), &rc);
    if (c == NULL)
        return rc;
    cut_weekday_date(c);
    size_t len = strlen(c), i = 0;
    while (i < len && rc == 0) {
        size_t j = i, skip = 0;
        for (; j < len; j++) {
            if (c[j] == ',' || c[j] == ';' || c[j] == '|') {
                skip = 1;
                break;
            }
            if (strncmp(c + j, " and ", 5) == 0 || strncmp(c + j, " und ", 5) == 0) {
                skip = 5;
                break;
            }
            if (strncmp(c + j, " & ", 3) == 0) {
                skip = 3;
                break;
            }
        }
        char *name = nw_strndup(c + i, j - i);
        if (name == NULL) {
            rc = -ENOMEM;
            break;
        }
        if ((name = tidy_author(name)) != NULL)
            rc = nw_extract_list_add(&m->authors, name, is_site_author(m, name) ? R_SITE : rank);
        i = j + skip;
    }
    free(c);
    return rc;
}

/* The name part of a byline that carries more: "Posted on May 2, 2021 by Jo Lee" -> "by Jo
 * Lee" (the label is kept for tidy_author to strip). */
static const char *
byline_tail(const char *t)
{
    static const char *const words[] = {" by ", " von ", " par ", " por ", " door ", NULL};
    const char *best = t;
    for (size_t k = 0; words[k] != NULL; k++)
        for (const char *p = strcasestr(t, words[k]); p != NULL; p = strcasestr(p + 1, words[k]))
            if (p + 1 > best)
                best = p + 1;
    return best;
}

/* Authors (and a printed date) from a visible byline; 1 when n was read as one, 0 when it is too
 * big to be a byline (a container whose class says "author": look inside it instead). */
int
nw_extract_on_byline(meta_t *m, nw_dom_node_t *n)
{
    if (m->authors.rank < R_VISIBLE)
        return 1;
    nw_dom_node_t *src = n;
    /* itemprop=author often wraps itemprop=name beside a job title */
    for (nw_dom_node_t *c = n; c != NULL; c = next_node(c, n, true)) {
        const char *ip = c->type == NW_DOM_ELEMENT ? attr(c, "itemprop") : NULL;
        if (ip != NULL && strcasecmp(ip, "name") == 0) {
            src = c;
            break;
        }
    }
    char *t = nw_extract_node_text(src);
    if (t == NULL)
        return -ENOMEM;
    int rc = 0;
    char d[11];
    if (strlen(t) >= 120) {
        free(t);
        return 0;
    }
    if (t[0] != 0 && m->rank[F_PUB] > R_TEXT && nw_extract_text_date(t, d))
        rc = nw_extract_set_date(m, F_PUB, d, R_TEXT);
    if (rc == 0 && t[0] != 0)
        rc = nw_extract_add_authors(m, src == n ? byline_tail(t) : t, R_VISIBLE);
    free(t);
    return rc < 0 ? rc : 1;
}

/* No author anywhere else: a short line in the page that is a label and a name ("Von Jo Lind",
 * "Text: Jo Lind", "Autor: Jo Lind", "Posted by jolind"), the first one in document order. The
 * name must start with a capital after "by", "von", "par" so a sentence is not taken. */
int
nw_extract_labelled_byline(meta_t *m, nw_dom_node_t *root)
{
    static const char *const labels[] = {
        "text:",     "autor:",     "autorin:",        "author:", "verfasst von",
        "posted by", "written by", "geschrieben von", NULL};
    static const char *const bare[] = {"by ", "von ", "par ", NULL};
    static const char *const tags[] = {"p",  "div", "span",    "em", "strong", "small", "h4",
                                       "h5", "h6",  "address", "b",  "i",      NULL};
    for (nw_dom_node_t *n = root; n != NULL; n = next_node(n, root, true)) {
        if (n->type != NW_DOM_ELEMENT || n->data == NULL || ((ninfo_t *)n->data)->ftlen > 80 ||
            ((ninfo_t *)n->data)->ftlen < 6)
            continue;
        bool tag = false;
        for (size_t k = 0; tags[k] != NULL && !tag; k++)
            tag = strcmp(ename(n), tags[k]) == 0;
        if (!tag)
            continue;
        char *t = nw_extract_node_text(n);
        if (t == NULL)
            return -ENOMEM;
        const char *b = t;
        while (*b == ' ')
            b++;
        bool hit = false;
        for (size_t k = 0; labels[k] != NULL && !hit; k++)
            hit = strncasecmp(b, labels[k], strlen(labels[k])) == 0;
        for (size_t k = 0; bare[k] != NULL && !hit; k++) {
            size_t l = strlen(bare[k]);
            hit = strncasecmp(b, bare[k], l) == 0 && isupper((unsigned char)b[l]);
        }
        /* at most five words: a name, not a sentence that starts with "By" */
        size_t words = 0;
        for (const char *p = b; *p; p++)
            words += *p == ' ' && p[1] != ' ' && p[1] != 0;
        int rc = hit && words <= 5 && strlen(b) < 80 ? nw_extract_add_authors(m, b, R_H1) : 0;
        free(t);
        if (rc < 0)
            return rc;
        if (m->authors.n > 0)
            return 0;
    }
    return 0;
}
