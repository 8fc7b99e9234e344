/* robots.c: robots.txt parsing and matching (RFC 9309) and the per-host cache; see robots.h.
 *
 * Only the rules that apply to our agent are kept: while parsing, each group is known to be
 * ours, "*", or someone else's once its User-agent lines are read, so the file is read once and
 * the ruleset holds two lists (ours, star). Patterns are stored with their percent-escapes'
 * hex digits uppercased and other bytes above 0x7f escaped, and paths are normalised the same
 * way before matching, so "/a%c3%a9", "/a%C3%A9" and "/aé" are one path. */
#include "newswire/robots.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "newswire/buf.h"

struct rule {
    char *pat;
    size_t len; /* pattern length, the "longest match" measure */
    int allow;
};

struct rules {
    struct rule *v;
    size_t n;
    int64_t delay_ms;
};

struct nw_robots {
    struct rules ours, star;
    int have_ours, have_star; /* a group for us / for "*" was seen (even an empty one) */
    int deny_all;
};

static void
rules_release(struct rules *rs)
{
    for (size_t i = 0; i < rs->n; i++)
        free(rs->v[i].pat);
    free(rs->v);
}

void
nw_robots_free(nw_robots_t **r)
{
    if (r == NULL || *r == NULL)
        return;
    rules_release(&(*r)->ours);
    rules_release(&(*r)->star);
    free(*r);
    *r = NULL;
}

/* Normalise a pattern or path into b: uppercase hex in %xx, escape bytes >= 0x80. */
static int
normalise(nw_buf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        int rc;
        if (ch == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
            isxdigit((unsigned char)s[i + 2])) {
            char e[3] = {'%', s[i + 1], s[i + 2]};
            for (int k = 1; k < 3; k++)
                if (e[k] >= 'a' && e[k] <= 'f')
                    e[k] = (char)(e[k] - 32);
            rc = nw_buf_append(b, e, 3);
            i += 2;
        } else if (ch >= 0x80) {
            char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
            rc = nw_buf_append(b, e, 3);
        } else {
            rc = nw_buf_append(b, &s[i], 1);
        }
        if (rc < 0)
            return rc;
    }
    return nw_buf_append(b, "", 0);
}

static int
add_rule(struct rules *rs, int allow, const char *v, size_t n)
{
    nw_buf_t b = {0};
    if (normalise(&b, v, n) < 0)
        return -ENOMEM;
    struct rule *nv = realloc(rs->v, (rs->n + 1) * sizeof *nv);
    if (nv == NULL) {
        nw_buf_release(&b);
        return -ENOMEM;
    }
    rs->v = nv;
    size_t len = b.len;
    nv[rs->n].pat = (char *)nw_buf_steal(&b, &len);
    if (nv[rs->n].pat == NULL) {
        nv[rs->n].pat = calloc(1, 1);
        if (nv[rs->n].pat == NULL)
            return -ENOMEM;
    }
    nv[rs->n].len = len;
    nv[rs->n].allow = allow;
    rs->n++;
    return 0;
}

/* The product token of a User-agent value: up to the first space or '/'. */
static int
agent_is(const char *v, size_t n, const char *agent)
{
    size_t k = 0;
    while (k < n && v[k] != ' ' && v[k] != '\t' && v[k] != '/')
        k++;
    return k == strlen(agent) && strncasecmp(v, agent, k) == 0;
}

static int
key_is(const char *k, size_t n, const char *name)
{
    return n == strlen(name) && strncasecmp(k, name, n) == 0;
}

nw_robots_t *
nw_robots_parse(const char *txt, size_t len, const char *agent)
{
    nw_robots_t *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->ours.delay_ms = r->star.delay_ms = -1;
    if (len > NW_ROBOTS_MAX_BYTES)
        len = NW_ROBOTS_MAX_BYTES;
    /* Group state: the current group's agents are being read (in_agents), and whether they
     * include us or "*". */
    int in_agents = 0, g_ours = 0, g_star = 0;
    const char *p = txt, *end = txt + len;
    while (p < end) {
        const char *eol = p;
        while (eol < end && *eol != '\n' && *eol != '\r')
            eol++;
        const char *line_end = eol;
        const char *hash = memchr(p, '#', (size_t)(eol - p));
        if (hash)
            line_end = hash;
        const char *k = p;
        while (k < line_end && (*k == ' ' || *k == '\t'))
            k++;
        const char *colon = memchr(k, ':', (size_t)(line_end - k));
        p = eol < end ? eol + 1 : end;
        if (colon == NULL)
            continue;
        const char *ke = colon;
        while (ke > k && (ke[-1] == ' ' || ke[-1] == '\t'))
            ke--;
        const char *v = colon + 1, *ve = line_end;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        size_t kn = (size_t)(ke - k), vn = (size_t)(ve - v);
        if (key_is(k, kn, "user-agent")) {
            if (!in_agents)
                g_ours = g_star = 0;
            in_agents = 1;
            if (vn == 1 && *v == '*') {
                g_star = 1;
                r->have_star = 1;
            } else if (agent_is(v, vn, agent)) {
                g_ours = 1;
                r->have_ours = 1;
            }
            continue;
        }
        int allow = key_is(k, kn, "allow"), disallow = key_is(k, kn, "disallow");
        int delay = key_is(k, kn, "crawl-delay");
        if (!allow && !disallow && !delay)
            continue; /* sitemap, host, unknown keys: not group members */
        in_agents = 0;
        if (!g_ours && !g_star)
            continue;
        if (delay) {
            char num[32];
            if (vn == 0 || vn >= sizeof num)
                continue;
            memcpy(num, v, vn);
            num[vn] = 0;
            char *e;
            double d = strtod(num, &e);
            if (*e || !(d >= 0 && d <= 86400))
                continue;
            if (g_ours)
                r->ours.delay_ms = (int64_t)(d * 1000);
            if (g_star)
                r->star.delay_ms = (int64_t)(d * 1000);
            continue;
        }
        if (vn == 0)
            continue; /* "Disallow:" with no path allows everything: no rule */
        if ((g_ours && add_rule(&r->ours, allow, v, vn) < 0) ||
            (g_star && add_rule(&r->star, allow, v, vn) < 0)) {
            nw_robots_free(&r);
            return NULL;
        }
    }
    return r;
}

nw_robots_t *
nw_robots_for_status(long status, const char *body, size_t len, const char *agent)
{
    if (status >= 200 && status < 300)
        return nw_robots_parse(body, len, agent);
    nw_robots_t *r = nw_robots_parse("", 0, agent);
    if (r && !(status >= 400 && status < 500))
        r->deny_all = 1;
    return r;
}

/* Does pat[0..n) match path[0..slen) from its start? "*" any run, a final "$" the end.
 *
 * The pattern is the literal segments between its stars. The first must be a prefix of the
 * path; each later one is taken at its leftmost occurrence after the previous one (leftmost
 * is never worse: anything a later placement could match, an earlier one can too); with "$"
 * the last must end the path. Each search starts where the last match ended and memmem is
 * linear (two-way) for long needles, so one rule costs O(path + pattern), not their product:
 * a 16 KB pattern against a long path stalled fetch's loop for seconds with backtracking. */
static int
match(const char *pat, size_t n, const char *path, size_t slen)
{
    int anchored = n > 0 && pat[n - 1] == '$';
    if (anchored)
        n--;
    const char *star = memchr(pat, '*', n);
    size_t seg = star ? (size_t)(star - pat) : n;
    if (seg > slen || memcmp(pat, path, seg) != 0)
        return 0;
    if (star == NULL)
        return !anchored || seg == slen;
    size_t p = seg + 1, s = seg;
    for (;;) {
        star = memchr(pat + p, '*', n - p);
        seg = (star ? (size_t)(star - pat) : n) - p;
        if (star == NULL && anchored) /* the last segment must end the path */
            return seg <= slen - s && memcmp(pat + p, path + slen - seg, seg) == 0;
        if (seg > 0) {
            const char *at = memmem(path + s, slen - s, pat + p, seg);
            if (at == NULL)
                return 0;
            s = (size_t)(at - path) + seg;
        }
        if (star == NULL)
            return 1;
        p += seg + 1;
    }
}

int
nw_robots_allowed(const nw_robots_t *r, const char *path)
{
    if (r == NULL || path == NULL)
        return 1;
    if (strcmp(path, "/robots.txt") == 0)
        return 1;
    if (r->deny_all)
        return 0;
    const struct rules *rs = r->have_ours ? &r->ours : r->have_star ? &r->star : NULL;
    if (rs == NULL || rs->n == 0)
        return 1;
    nw_buf_t b = {0};
    if (normalise(&b, path, strlen(path)) < 0) {
        nw_buf_release(&b);
        return 0; /* out of memory: the cautious answer */
    }
    const char *np = b.data ? (const char *)b.data : "";
    size_t np_len = strlen(np);
    size_t best = 0;
    int found = 0, allowed = 1;
    for (size_t i = 0; i < rs->n; i++) {
        const struct rule *ru = &rs->v[i];
        if (!match(ru->pat, ru->len, np, np_len))
            continue;
        if (!found || ru->len > best || (ru->len == best && ru->allow)) {
            best = ru->len;
            allowed = ru->allow;
            found = 1;
        }
    }
    nw_buf_release(&b);
    return allowed;
}

int
nw_robots_unreachable(const nw_robots_t *r)
{
    return r ? r->deny_all : 0;
}

int64_t
nw_robots_crawl_delay_ms(const nw_robots_t *r)
{
    if (r == NULL)
        return -1;
    return r->have_ours ? r->ours.delay_ms : r->have_star ? r->star.delay_ms : -1;
}

/* ---- cache ---- */

struct entry {
    char *origin;
    nw_robots_t *r;
    int64_t expires;
};

struct nw_robots_cache {
    struct entry *v;
    size_t n, max;
    int64_t ttl_ms;
};

nw_robots_cache_t *
nw_robots_cache_new(int64_t ttl_ms, size_t max_hosts)
{
    nw_robots_cache_t *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->ttl_ms = ttl_ms;
    c->max = max_hosts ? max_hosts : 1;
    return c;
}

static struct entry *
find(nw_robots_cache_t *c, const char *origin)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->v[i].origin, origin) == 0)
            return &c->v[i];
    return NULL;
}

const nw_robots_t *
nw_robots_cache_get(nw_robots_cache_t *c, const char *origin, int64_t now_ms)
{
    if (c == NULL || origin == NULL)
        return NULL;
    struct entry *e = find(c, origin);
    return e && now_ms < e->expires ? e->r : NULL;
}

int
nw_robots_cache_put(nw_robots_cache_t *c, const char *origin, nw_robots_t **r, int64_t now_ms)
{
    struct entry *e = find(c, origin);
    if (e == NULL) {
        if (c->n == c->max) {
            size_t old = 0;
            for (size_t i = 1; i < c->n; i++)
                if (c->v[i].expires < c->v[old].expires)
                    old = i;
            e = &c->v[old];
            nw_robots_free(&e->r);
        } else {
            struct entry *nv = realloc(c->v, (c->n + 1) * sizeof *nv);
            char *o = strdup(origin);
            if (nv)
                c->v = nv;
            if (nv == NULL || o == NULL) {
                free(o);
                nw_robots_free(r);
                return -ENOMEM;
            }
            e = &c->v[c->n++];
            e->origin = o;
            e->r = NULL;
        }
        if (strcmp(e->origin, origin) != 0) {
            char *o = strdup(origin);
            if (o == NULL) {
                nw_robots_free(r);
                /* drop the evicted slot entirely */
                free(e->origin);
                *e = c->v[--c->n];
                return -ENOMEM;
            }
            free(e->origin);
            e->origin = o;
        }
    } else {
        nw_robots_free(&e->r);
    }
    e->r = *r;
    *r = NULL;
    e->expires = now_ms + c->ttl_ms;
    return 0;
}

void
nw_robots_cache_free(nw_robots_cache_t **c)
{
    if (c == NULL || *c == NULL)
        return;
    for (size_t i = 0; i < (*c)->n; i++) {
        free((*c)->v[i].origin);
        nw_robots_free(&(*c)->v[i].r);
    }
    free((*c)->v);
    free(*c);
    *c = NULL;
}
