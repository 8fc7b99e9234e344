/* extract_title.c: the headline of a web page: <title> without the site name, and the visible
 * <h1> preferred to a title from the head when its words nearly all occur there (the headline as
 * shown, without kicker or site name). */
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

static const char *const TITLE_SEPS[] = {
    " | ",        " - ", " \xe2\x80\x93 ", " \xe2\x80\x94 ", " :: ", " \xc2\xbb ", " / ",
    " \xc2\xb7 ", NULL};
/* <title> without the site name: "Headline | Site" -> "Headline", unless that leaves too few
 * words to be a headline (then the site name was probably the headline's own dash). When the
 * page's <h1> is one of the parts, that part is the headline whatever its length. */
int
nw_extract_on_title(meta_t *m, nw_dom_node_t *n, nw_dom_node_t *h1)
{
    char *t = nw_extract_node_text(n), *h = h1 != NULL ? nw_extract_node_text(h1) : NULL;
    int rc = -ENOMEM;
    if (t == NULL || (h1 != NULL && h == NULL))
        goto out;
    char *cut = NULL;
    size_t hl = h != NULL ? strlen(h) : 0;
    for (size_t k = 0; TITLE_SEPS[k] != NULL; k++) {
        size_t sl = strlen(TITLE_SEPS[k]);
        for (char *p = strstr(t, TITLE_SEPS[k]); p != NULL; p = strstr(p + 1, TITLE_SEPS[k])) {
            if (cut == NULL || p > cut)
                cut = p;
            /* h1 before or after this separator */
            if (hl > 0 && (size_t)(p - t) == hl && strncasecmp(t, h, hl) == 0) {
                rc = nw_extract_set_field(m, F_TITLE, h, R_VISIBLE);
                goto out;
            }
            if (hl > 0 && strlen(p + sl) == hl && strcasecmp(p + sl, h) == 0) {
                rc = nw_extract_set_field(m, F_TITLE, h, R_VISIBLE);
                goto out;
            }
        }
    }
    if (cut != NULL) {
        size_t words = 1;
        for (char *p = t; p < cut; p++)
            words += *p == ' ';
        if (words >= 3)
            *cut = 0;
    }
    rc = nw_extract_set_field(m, F_TITLE, t, R_VISIBLE);
out:
    free(t);
    free(h);
    return rc;
}

/* Whether s[0..n) is the page's host name or one of its labels, ignoring case and everything but
 * letters and digits: "La Stampa" for www.lastampa.it, "heizung.de" for www.heizung.de. */
bool
nw_extract_names_host(const char *s, size_t n, const char *url)
{
    const char *h = url != NULL ? strstr(url, "://") : NULL;
    char a[64], b[128];
    size_t k = 0, j = 0;
    if (h == NULL)
        return false;
    h += 3;
    for (size_t i = 0; i < n && k < sizeof(a) - 1; i++)
        if (isalnum((unsigned char)s[i]))
            a[k++] = (char)tolower((unsigned char)s[i]);
    a[k] = 0;
    if (k < 3)
        return false;
    /* the host's labels one by one, then the registered name with its suffix ("heizungde") */
    size_t hl = strcspn(h, "/:?#");
    for (size_t i = 0; i <= hl; i++) {
        if (i == hl || h[i] == '.') {
            b[j] = 0;
            if (strcmp(a, b) == 0)
                return true;
            j = 0;
        } else if (j < sizeof(b) - 1 && isalnum((unsigned char)h[i])) {
            b[j++] = (char)tolower((unsigned char)h[i]);
        }
    }
    const char *dot = NULL;
    for (const char *p = h; p < h + hl; p++)
        if (*p == '.' && memchr(p + 1, '.', (size_t)(h + hl - p - 1)) != NULL)
            dot = p;
    const char *r = dot != NULL ? dot + 1 : h;
    for (j = 0; r < h + hl && j < sizeof(b) - 1; r++)
        if (isalnum((unsigned char)*r))
            b[j++] = (char)tolower((unsigned char)*r);
    b[j] = 0;
    return strcmp(a, b) == 0;
}

/* "Headline | lastampa" and "Lastampa - Headline": a title part that names the host goes. */
static void
strip_host_name(meta_t *m)
{
    char *t = m->f[F_TITLE];
    const char *url = m->url != NULL ? m->url : m->f[F_CANON];
    if (t == NULL || url == NULL)
        return;
    size_t tl = strlen(t);
    for (size_t k = 0; TITLE_SEPS[k] != NULL; k++) {
        size_t pl = strlen(TITLE_SEPS[k]);
        const char *first = strstr(t, TITLE_SEPS[k]), *last = NULL;
        for (const char *p = first; p != NULL; p = strstr(p + 1, TITLE_SEPS[k]))
            last = p;
        if (last != NULL && nw_extract_names_host(last + pl, tl - (size_t)(last - t) - pl, url)) {
            t[last - t] = 0;
            return;
        }
        if (first != NULL && nw_extract_names_host(t, (size_t)(first - t), url)) {
            memmove(t, first + pl, strlen(first + pl) + 1);
            return;
        }
    }
}

/* "Headline | Site" and "Site - Headline" lose the site's name, wherever the title came from;
 * failing that, a part naming the page's host. */
void
nw_extract_strip_site_name(meta_t *m)
{
    char *t = m->f[F_TITLE];
    const char *site = m->f[F_SITE];
    if (t == NULL)
        return;
    if (site == NULL) {
        strip_host_name(m);
        return;
    }
    size_t tl = strlen(t), sl = strlen(site);
    for (size_t k = 0; TITLE_SEPS[k] != NULL; k++) {
        size_t pl = strlen(TITLE_SEPS[k]);
        if (tl > sl + pl && strcasecmp(t + tl - sl, site) == 0 &&
            strncmp(t + tl - sl - pl, TITLE_SEPS[k], pl) == 0) {
            t[tl - sl - pl] = 0;
            return;
        }
        if (tl > sl + pl && strncasecmp(t, site, sl) == 0 &&
            strncmp(t + sl, TITLE_SEPS[k], pl) == 0) {
            memmove(t, t + sl + pl, tl - sl - pl + 1);
            return;
        }
    }
    strip_host_name(m);
}

/* Word tokens of s for title comparison: lowercase ASCII letters and digits and any non-ASCII
 * bytes; up to cap of them, each as (offset, length) into s. Returns the count. */
static size_t
title_tokens(const char *s, uint32_t (*tok)[2], size_t cap)
{
    size_t n = 0;
    for (size_t k = 0; s[k] && n < cap;) {
        unsigned char c = (unsigned char)s[k];
        if (c < 0x80 && !isalnum(c)) {
            k++;
            continue;
        }
        size_t b = k;
        while (s[k] && ((unsigned char)s[k] >= 0x80 || isalnum((unsigned char)s[k])))
            k++;
        tok[n][0] = (uint32_t)b;
        tok[n][1] = (uint32_t)(k - b);
        n++;
    }
    return n;
}

/* How many of h's tokens occur in r (case-insensitively), and the token counts of both. */
static size_t
title_overlap(const char *h, const char *r, size_t *nh, size_t *nr)
{
    uint32_t th[64][2], tr[64][2];
    *nh = title_tokens(h, th, 64);
    *nr = title_tokens(r, tr, 64);
    size_t common = 0;
    for (size_t i = 0; i < *nh; i++)
        for (size_t j = 0; j < *nr; j++)
            if (th[i][1] == tr[j][1] && strncasecmp(h + th[i][0], r + tr[j][0], th[i][1]) == 0) {
                common++;
                break;
            }
    return common;
}

/* Whether all of h1's text sits inside one link: the site's logo, not the headline. */
static bool
h1_is_link(nw_dom_node_t *h1)
{
    for (nw_dom_node_t *c = h1->children; c != NULL; c = next_node(c, h1, true)) {
        if (c->type == NW_DOM_TEXT && c->content != NULL &&
            c->content[strspn((const char *)c->content, " \t\r\n")] != 0) {
            bool linked = false;
            for (nw_dom_node_t *a = c->parent; a != NULL && a != h1; a = a->parent)
                linked = linked || strcmp(ename(a), "a") == 0;
            if (!linked)
                return false;
        }
    }
    return true;
}

/* A kicker inside an <h1>: the small line over the headline ("<span class=dachzeile>",
 * "<small>Topic</small><br>"), which headline fields leave out. */
static bool
is_kicker(nw_dom_node_t *n)
{
    static const char *const words[] = {"kicker",     "dachzeile",   "roofline", "overline",
                                        "topline",    "toptitle",    "eyebrow",  "topic",
                                        "supertitle", "subheadline", "subtitle", "pretitle",
                                        "section",    "rubric",      "hidden",   NULL};
    char ci[256];
    nw_extract_class_id(n, ci, sizeof(ci));
    if (ci[0] != 0 && nw_extract_has_any(ci, words))
        return true;
    if (strcmp(ename(n), "small") != 0)
        return false;
    nw_dom_node_t *x = n->next;
    while (x != NULL && x->type == NW_DOM_TEXT && x->content != NULL &&
           x->content[strspn(x->content, " \t\r\n")] == 0)
        x = x->next;
    return x != NULL && strcmp(ename(x), "br") == 0;
}

/* The text of an <h1> without the kickers that open it; malloc'd, NULL on ENOMEM. */
char *
nw_extract_h1_text(nw_dom_node_t *h1)
{
    char *h = nw_extract_node_text(h1);
    for (nw_dom_node_t *c = h1->children; h != NULL && c != NULL; c = next_node(c, h1, true)) {
        if (c->type != NW_DOM_ELEMENT || !is_kicker(c))
            continue;
        char *k = nw_extract_node_text(c);
        if (k == NULL) {
            free(h);
            return NULL;
        }
        size_t kl = strlen(k);
        if (kl > 0 && strncmp(h, k, kl) == 0) {
            size_t b = kl;
            for (bool more = true; more;) {
                more = false;
                if (h[b] != 0 && strchr(" -:|/", h[b]) != NULL)
                    b++, more = true;
                else if (strncmp(h + b, "\xc2\xb7", 2) == 0)
                    b += 2, more = true;
                else if (strncmp(h + b, "\xe2\x80\x93", 3) == 0 ||
                         strncmp(h + b, "\xe2\x80\x94", 3) == 0)
                    b += 3, more = true;
            }
            /* what is left must still be a headline of a few words */
            if (strchr(h + b, ' ') != NULL)
                memmove(h, h + b, strlen(h + b) + 1);
        }
        free(k);
    }
    return h;
}

/* Whether t is "h <sep> more" or "more <sep> h": the headline with the site or section. */
static bool
title_has_part(const char *t, const char *h)
{
    size_t tl = strlen(t), hl = strlen(h);
    for (size_t k = 0; TITLE_SEPS[k] != NULL && hl > 0; k++) {
        size_t sl = strlen(TITLE_SEPS[k]);
        if (tl > hl + sl && strncasecmp(t, h, hl) == 0 && strncmp(t + hl, TITLE_SEPS[k], sl) == 0)
            return true;
        if (tl > hl + sl && strcasecmp(t + tl - hl, h) == 0 &&
            strncmp(t + tl - hl - sl, TITLE_SEPS[k], sl) == 0)
            return true;
    }
    return false;
}

/* The visible headline over a title from the head: og:title and <title> often carry a kicker,
 * the site's name or a shortened form ("Run Windows on Mac - Parallels Desktop 15 Virtual
 * Machine for Mac" over <h1>Parallels Desktop 15 for Mac</h1>). An <h1> whose words nearly
 * all occur in the title or in <title> is the headline as the page shows it; one that is only
 * a link (a logo) or the site's name is not. */
int
nw_extract_prefer_h1(meta_t *m, nw_dom_node_t *const *h1s, size_t n_h1, nw_dom_node_t *title)
{
    if (m->f[F_TITLE] == NULL || n_h1 == 0)
        return 0;
    char *tt = title != NULL ? nw_extract_node_text(title) : NULL;
    int rc = 0;
    if (title != NULL && tt == NULL)
        return -ENOMEM;
    /* one <h1> with text on the whole page is the page's headline even when the head has a
     * different one (an SEO title, an older wording) */
    size_t sole = 0;
    for (size_t k = 0; k < n_h1; k++)
        sole += !h1_is_link(h1s[k]);
    for (size_t k = 0; k < n_h1 && rc == 0; k++) {
        if (h1_is_link(h1s[k]))
            continue;
        char *h = nw_extract_h1_text(h1s[k]);
        if (h == NULL) {
            rc = -ENOMEM;
            break;
        }
        size_t nh = 0, nr = 0, nt = 0, c1 = title_overlap(h, m->f[F_TITLE], &nh, &nr), c2 = 0;
        if (tt != NULL)
            c2 = title_overlap(h, tt, &nh, &nt);
        /* most of the h1 is in the reference, and it is more than a word or two of it */
        bool match = (c1 * 4 >= nh * 3 && c1 * 10 >= nr * 3) ||
                     (c2 * 4 >= nh * 3 && c2 * 10 >= nt * 3) || title_has_part(m->f[F_TITLE], h) ||
                     (tt != NULL && title_has_part(tt, h));
        bool site = (m->f[F_SITE] != NULL && strcasecmp(h, m->f[F_SITE]) == 0) ||
                    nw_extract_names_host(h, strlen(h), m->url != NULL ? m->url : m->f[F_CANON]);
        /* ... when it shares a few words with them: not a section's name */
        bool sole_only = !match && sole == 1 && n_h1 < 4 && nh >= 3 && (c1 >= 2 || c2 >= 2);
        match = match || sole_only;
        if (!site && match && nh > 0 && nh <= 40 && strlen(h) <= 300 && (nh >= 2 || c1 == nr)) {
            if (strcmp(h, m->f[F_TITLE]) != 0) {
                /* an <h1> that differs from the head's title stays in the body */
                if (sole_only) {
                    free(m->body_title);
                    m->body_title = m->f[F_TITLE];
                } else {
                    free(m->f[F_TITLE]);
                }
                m->f[F_TITLE] = h;
                h = NULL;
            }
            free(h);
            break;
        }
        free(h);
    }
    free(tt);
    return rc;
}
