/* id.c: article identity (see id.h): URL canonicalisation on liburiparser, text
 * normalisation on utf8proc, hashing with XXH3-128 from libxxhash.
 *
 * The canonical URL is rebuilt from the parsed components after uriparser's syntax
 * normalisation rather than by editing the parsed structure in place, because dropping a
 * component of a normalised (memory-owning) UriUriA would have to reach into its allocation
 * rules. */
#include "newswire/id.h"
#include "newswire/buf.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uriparser/Uri.h>
#include <utf8proc.h>
#include <xxhash.h>

#define MAX_URL_LEN 16384 /* longer "URLs" are not links to articles */

/* Query parameters that identify a click or a campaign, not a document. */
static const char *const tracking_params[] = {
    "fbclid", "gclid", "dclid", "gbraid",  "wbraid", "msclkid", "mc_cid",  "mc_eid",
    "igshid", "_ga",   "yclid", "ref_src", "_hsenc", "_hsmi",   "mkt_tok", NULL,
};

static int
is_tracking(const char *key)
{
    if (strncasecmp(key, "utm_", 4) == 0)
        return 1;
    for (const char *const *p = tracking_params; *p; p++)
        if (strcasecmp(key, *p) == 0)
            return 1;
    return 0;
}

static size_t
range_len(const UriTextRangeA *r)
{
    return r->first && r->afterLast ? (size_t)(r->afterLast - r->first) : 0;
}

static int
range_eq(const UriTextRangeA *r, const char *s)
{
    size_t n = range_len(r);
    return n == strlen(s) && strncasecmp(r->first, s, n) == 0;
}

static int
cmp_str(const char *a, const char *b)
{
    if (a == NULL || b == NULL) /* a key without "=" sorts before one with any value */
        return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

static int
cmp_param(const void *pa, const void *pb)
{
    const UriQueryListA *a = *(const UriQueryListA *const *)pa;
    const UriQueryListA *b = *(const UriQueryListA *const *)pb;
    int c = strcmp(a->key, b->key);
    return c ? c : cmp_str(a->value, b->value);
}

/* Append "?" + the query without tracking parameters, sorted; nothing when none remain. */
static int
put_query(nw_buf_t *out, const UriTextRangeA *q)
{
    int rc = 0, count = 0;
    size_t n = 0;
    UriQueryListA *list = NULL, **keep = NULL, *sorted = NULL;
    char *composed = NULL;
    if (range_len(q) == 0)
        return 0;
    if (uriDissectQueryMallocExA(&list, &count, q->first, q->afterLast, URI_TRUE,
                                 URI_BR_DONT_TOUCH) != URI_SUCCESS) {
        rc = -ENOMEM; /* dissecting only fails on allocation */
        goto out;
    }
    keep = calloc((size_t)count + 1, sizeof *keep);
    if (keep == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    for (UriQueryListA *p = list; p; p = p->next)
        if (*p->key && !is_tracking(p->key))
            keep[n++] = p;
    if (n == 0)
        goto out;
    qsort(keep, n, sizeof *keep, cmp_param);
    /* Compose from shallow copies linked in sorted order, so the dissected list stays intact
     * for uriFreeQueryListA. */
    sorted = calloc(n, sizeof *sorted);
    if (sorted == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        sorted[i] = *keep[i];
        sorted[i].next = i + 1 < n ? &sorted[i + 1] : NULL;
    }
    if (uriComposeQueryMallocExA(&composed, sorted, URI_TRUE, URI_FALSE) != URI_SUCCESS) {
        rc = -ENOMEM;
        goto out;
    }
    rc = nw_buf_printf(out, "?%s", composed);
out:
    free(composed);
    free(sorted);
    free(keep);
    if (list)
        uriFreeQueryListA(list);
    return rc;
}

/* One pass of canonicalisation; nw_url_canonical repeats it to a fixed point. */
static int
canonical_once(const char *url, char **out)
{
    int rc = 0;
    UriUriA uri;
    int parsed = 0;
    nw_buf_t b = {0};
    char *text = NULL;

    *out = NULL;
    if (url == NULL)
        return -EINVAL;
    /* Feeds and pages often wrap links in whitespace; it is never part of the URL. */
    const char *s = url, *e = url + strlen(url);
    while (s < e && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        e--;
    if (e == s || (size_t)(e - s) > MAX_URL_LEN)
        return -EINVAL;
    text = malloc((size_t)(e - s) + 1);
    if (text == NULL)
        return -ENOMEM;
    memcpy(text, s, (size_t)(e - s));
    text[e - s] = 0;

    const char *err = NULL;
    if (uriParseSingleUriA(&uri, text, &err) != URI_SUCCESS) {
        rc = -EINVAL;
        goto out;
    }
    parsed = 1;
    int https = range_eq(&uri.scheme, "https");
    if (!https && !range_eq(&uri.scheme, "http")) {
        rc = -EINVAL; /* also catches relative references, which have no scheme */
        goto out;
    }
    if (range_len(&uri.hostText) == 0 && uri.hostData.ip6 == NULL &&
        range_len(&uri.hostData.ipFuture) == 0) {
        rc = -EINVAL;
        goto out;
    }
    if (uriNormalizeSyntaxA(&uri) != URI_SUCCESS) {
        rc = -ENOMEM;
        goto out;
    }

    rc = nw_buf_printf(&b, "%s://", https ? "https" : "http");
    if (rc == 0 && range_len(&uri.userInfo))
        rc = nw_buf_printf(&b, "%.*s@", (int)range_len(&uri.userInfo), uri.userInfo.first);
    if (rc == 0) {
        int bracket = uri.hostData.ip6 != NULL || range_len(&uri.hostData.ipFuture) > 0;
        size_t hl = range_len(&uri.hostText);
        while (!bracket && hl > 1 && uri.hostText.first[hl - 1] == '.')
            hl--; /* "example.com." and "example.com.." are the same host */
        rc = nw_buf_printf(&b, "%s%.*s%s", bracket ? "[" : "", (int)hl, uri.hostText.first,
                           bracket ? "]" : "");
    }
    if (rc == 0 && range_len(&uri.portText) && !range_eq(&uri.portText, https ? "443" : "80"))
        rc = nw_buf_printf(&b, ":%.*s", (int)range_len(&uri.portText), uri.portText.first);
    if (rc == 0 && uri.pathHead == NULL)
        rc = nw_buf_puts(&b, "/");
    for (const UriPathSegmentA *p = uri.pathHead; p && rc == 0; p = p->next)
        rc = nw_buf_printf(&b, "/%.*s", (int)range_len(&p->text), p->text.first);
    if (rc == 0)
        rc = put_query(&b, &uri.query);
    if (rc < 0)
        goto out;
    *out = (char *)nw_buf_steal(&b, NULL);
out:
    if (parsed)
        uriFreeUriMembersA(&uri);
    nw_buf_release(&b);
    free(text);
    return rc;
}

/* Canonicalisation must be idempotent, or one URL gets two ids (the canonical URL is stored
 * and compared again later: issue 16.9). One pass is not always a fixed point: normalisation
 * can expose what an earlier step already ran past (percent-decoding that makes a "..",
 * a trailing dot under another). So the pass is repeated until its output is unchanged, which
 * makes canonical(canonical(u)) == canonical(u) by construction; a URL that has not settled
 * after MAX_PASSES is refused rather than given an unstable id. */
#define MAX_PASSES 4

int
nw_url_canonical(const char *url, char **out)
{
    char *cur = NULL;
    int rc = canonical_once(url, &cur);
    for (int pass = 1; rc == 0; pass++) {
        char *next = NULL;
        rc = canonical_once(cur, &next);
        if (rc < 0)
            break;
        if (strcmp(next, cur) == 0) {
            free(next);
            *out = cur;
            return 0;
        }
        free(cur);
        cur = next;
        if (pass == MAX_PASSES)
            rc = -EINVAL;
    }
    free(cur);
    *out = NULL;
    return rc;
}

/* XXH3-128 of prefix + data as 32 lowercase hex digits (canonical, i.e. big-endian, form so
 * the id is the same on every machine). */
static int
hash_hex(const char *prefix, const void *data, size_t len, char out[NW_ID_LEN + 1])
{
    size_t pl = strlen(prefix);
    uint8_t *buf = malloc(pl + len + 1);
    if (buf == NULL)
        return -ENOMEM;
    memcpy(buf, prefix, pl);
    if (len)
        memcpy(buf + pl, data, len);
    XXH128_hash_t h = XXH3_128bits(buf, pl + len);
    free(buf);
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, h);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[2 * i] = hex[c.digest[i] >> 4];
        out[2 * i + 1] = hex[c.digest[i] & 15];
    }
    out[NW_ID_LEN] = 0;
    return 0;
}

int
nw_id_from_url(const char *canonical_url, char out[NW_ID_LEN + 1])
{
    return hash_hex("u:", canonical_url, strlen(canonical_url), out);
}

int
nw_id_for_url(const char *url, char out[NW_ID_LEN + 1])
{
    char *canon = NULL;
    int rc = nw_url_canonical(url, &canon);
    if (rc == 0)
        rc = nw_id_from_url(canon, out);
    free(canon);
    return rc;
}

static int
is_space(utf8proc_int32_t cp)
{
    if (cp == ' ' || (cp >= 0x09 && cp <= 0x0d) || cp == 0x85)
        return 1;
    utf8proc_category_t cat = utf8proc_category(cp);
    return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL ||
           cat == UTF8PROC_CATEGORY_ZP;
}

/* Map text with utf8proc options, then collapse whitespace runs to one ASCII space and trim.
 * On success *norm is a new string (caller frees) of *nlen bytes. */
static int
normalise(const uint8_t *text, size_t len, utf8proc_option_t opts, uint8_t **norm, size_t *nlen)
{
    utf8proc_uint8_t *mapped = NULL;
    if (len > (size_t)PTRDIFF_MAX / 8) /* utf8proc sizes are signed; decomposition grows */
        return -ENOMEM;
    utf8proc_ssize_t n = utf8proc_map(text, (utf8proc_ssize_t)len, &mapped, opts);
    if (n < 0)
        return n == UTF8PROC_ERROR_NOMEM ? -ENOMEM : -EINVAL;
    /* In place: the output never grows (a run of spaces becomes at most one byte). */
    size_t w = 0;
    int pending_space = 0;
    for (utf8proc_ssize_t i = 0; i < n;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(mapped + i, n - i, &cp);
        if (k <= 0) { /* cannot happen on utf8proc's own output; refuse rather than guess */
            free(mapped);
            return -EINVAL;
        }
        if (is_space(cp)) {
            pending_space = w > 0; /* leading whitespace is trimmed */
        } else {
            if (pending_space)
                mapped[w++] = ' ';
            pending_space = 0;
            memmove(mapped + w, mapped + i, (size_t)k);
            w += (size_t)k;
        }
        i += k;
    }
    mapped[w] = 0; /* trailing whitespace is trimmed by never writing the pending space */
    *norm = mapped;
    *nlen = w;
    return 0;
}

int
nw_id_from_text(const uint8_t *text, size_t len, char out[NW_ID_LEN + 1])
{
    uint8_t *norm = NULL;
    size_t n = 0;
    int rc = normalise(text, len,
                       UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
                           UTF8PROC_IGNORE,
                       &norm, &n);
    if (rc == 0)
        rc = hash_hex("t:", norm, n, out);
    free(norm);
    return rc;
}

int
nw_id_content_hash(const uint8_t *text, size_t len, char out[NW_ID_LEN + 1])
{
    uint8_t *norm = NULL;
    size_t n = 0;
    int rc = normalise(text, len, UTF8PROC_STABLE | UTF8PROC_COMPOSE, &norm, &n);
    if (rc == 0)
        rc = hash_hex("c:", norm, n, out);
    free(norm);
    return rc;
}
