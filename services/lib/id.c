/* id.c: article identity (see id.h): URL canonicalisation on liburiparser, text
 * normalisation on utf8proc, hashing with XXH3-128 from libxxhash.
 *
 * The canonical URL is rebuilt from the parsed components after uriparser's syntax
 * normalisation rather than by editing the parsed structure in place, because dropping a
 * component of a normalised (memory-owning) UriUriA would have to reach into its allocation
 * rules. */
#include "newswire/id.h"
#include "newswire/buf.h"
#include "newswire/util.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
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

/* The canonical (big-endian) form of h as 32 lowercase hex digits, so the id is the same on
 * every machine. */
static void
hex_digest(XXH128_hash_t h, char out[NW_ID_LEN + 1])
{
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, h);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[2 * i] = hex[c.digest[i] >> 4];
        out[2 * i + 1] = hex[c.digest[i] & 15];
    }
    out[NW_ID_LEN] = 0;
}

/* XXH3-128 of prefix + data as 32 lowercase hex digits. */
static int
hash_hex(const char *prefix, const void *data, size_t len, char out[NW_ID_LEN + 1])
{
    XXH3_state_t *st = XXH3_createState();
    if (st == NULL)
        return -ENOMEM;
    XXH3_128bits_reset(st);
    XXH3_128bits_update(st, prefix, strlen(prefix));
    XXH3_128bits_update(st, data, len);
    hex_digest(XXH3_128bits_digest(st), out);
    XXH3_freeState(st);
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

/* Text hashing for ids and content hashes, streamed so that a 170 KB page costs a pass over its
 * bytes rather than a Unicode normalisation of all of it (which was ~85% of fetch's CPU).
 *
 * Why segments give the same result as normalising the whole text: an ASCII character is a
 * starter (combining class 0) that is never the second half of a canonical composition, and its
 * NFKC and case-folded forms are itself (A-Z lowercased under casefolding). So normalisation never
 * reaches across the boundary before an ASCII character, and the text can be cut there. ASCII
 * bytes followed by another ASCII byte are mapped directly; a run of non-ASCII characters is
 * normalised with utf8proc together with the ASCII character before it (which a following
 * combining mark may compose with: "e" + U+0301). Whitespace is collapsed on the mapped output,
 * as before. test_id.c checks the result against whole-text normalisation. */
typedef struct {
    XXH3_state_t *st;
    int casefold; /* A-Z become a-z in the ASCII path */
    int pending;  /* a whitespace run awaits its one space */
    int any;      /* something was written: leading whitespace is trimmed */
    size_t n;     /* bytes in buf */
    uint8_t buf[4096];
} text_hash_t;

static int
is_space(utf8proc_int32_t cp)
{
    if (cp == ' ' || (cp >= 0x09 && cp <= 0x0d) || cp == 0x85)
        return 1;
    if (cp < 0x80)
        return 0;
    utf8proc_category_t cat = utf8proc_category(cp);
    return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL ||
           cat == UTF8PROC_CATEGORY_ZP;
}

static inline int
is_ascii_space(uint8_t c)
{
    return c == ' ' || (c >= 0x09 && c <= 0x0d);
}

static void
th_flush(text_hash_t *h)
{
    XXH3_128bits_update(h->st, h->buf, h->n);
    h->n = 0;
}

/* Emit one mapped character of k bytes: a space starts (or continues) a run, anything else is
 * written after the run's single space. */
static void
th_put(text_hash_t *h, int space, const uint8_t *p, size_t k)
{
    if (space) {
        h->pending = h->any;
        return;
    }
    if (h->n + k + 1 > sizeof h->buf)
        th_flush(h);
    if (h->pending)
        h->buf[h->n++] = ' ';
    memcpy(h->buf + h->n, p, k);
    h->n += k;
    h->pending = 0;
    h->any = 1;
}

/* Normalise seg (a non-ASCII run, perhaps after one ASCII character) and emit it. */
static int
th_segment(text_hash_t *h, const uint8_t *seg, size_t len, utf8proc_option_t opts)
{
    utf8proc_int32_t local[256], *cps = local;
    utf8proc_ssize_t cap = (utf8proc_ssize_t)(sizeof local / sizeof *local) - 1; /* reencode NUL */
    if (len > (size_t)PTRDIFF_MAX / 8) /* utf8proc sizes are signed; decomposition grows */
        return -ENOMEM;
    utf8proc_ssize_t n = utf8proc_decompose(seg, (utf8proc_ssize_t)len, cps, cap, opts);
    if (n > cap) { /* a long run of non-ASCII text without a space: rare, so allocate */
        if ((size_t)n > (size_t)PTRDIFF_MAX / 8 || (cps = malloc(((size_t)n + 1) * 4)) == NULL)
            return -ENOMEM;
        n = utf8proc_decompose(seg, (utf8proc_ssize_t)len, cps, n, opts);
    }
    if (n >= 0)
        n = utf8proc_reencode(cps, n, opts);
    if (n < 0) {
        if (cps != local)
            free(cps);
        return n == UTF8PROC_ERROR_NOMEM ? -ENOMEM : -EINVAL;
    }
    const uint8_t *u = (const uint8_t *)cps;
    for (utf8proc_ssize_t i = 0; i < n;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(u + i, n - i, &cp);
        if (k <= 0)
            break; /* cannot happen on utf8proc's own output */
        th_put(h, is_space(cp), u + i, (size_t)k);
        i += k;
    }
    if (cps != local)
        free(cps);
    return 0;
}

/* XXH3-128 of prefix + normalised text (see above) as 32 hex digits. */
static int
text_hash(const char *prefix, const uint8_t *text, size_t len, utf8proc_option_t opts,
          char out[NW_ID_LEN + 1])
{
    int rc = 0;
    text_hash_t *h = malloc(sizeof *h);
    if (h == NULL || (h->st = XXH3_createState()) == NULL) {
        free(h);
        return -ENOMEM;
    }
    h->casefold = (opts & UTF8PROC_CASEFOLD) != 0;
    h->pending = h->any = 0;
    h->n = 0;
    XXH3_128bits_reset(h->st);
    XXH3_128bits_update(h->st, prefix, strlen(prefix));
    for (size_t i = 0; i < len && rc == 0;) {
        /* The ASCII run from i; its last byte goes with the non-ASCII run after it, if any. */
        size_t j = i;
        while (j < len && text[j] < 0x80)
            j++;
        size_t fast = j < len && j > i ? j - 1 : j;
        while (i < fast) {
            if (is_ascii_space(text[i])) {
                h->pending = h->any;
                i++;
                continue;
            }
            /* A word: copied (and case-folded) a run at a time, not a byte at a time. The
             * digest does not depend on where the buffer is flushed. */
            size_t w = i + 1;
            while (w < fast && !is_ascii_space(text[w]))
                w++;
            if (h->n + 1 > sizeof h->buf)
                th_flush(h);
            if (h->pending)
                h->buf[h->n++] = ' ';
            while (i < w) {
                if (h->n == sizeof h->buf)
                    th_flush(h);
                size_t k = w - i < sizeof h->buf - h->n ? w - i : sizeof h->buf - h->n;
                uint8_t *o = h->buf + h->n;
                if (h->casefold)
                    for (size_t q = 0; q < k; q++)
                        o[q] =
                            (uint8_t)(text[i + q] + ((uint8_t)(text[i + q] - 'A') < 26 ? 32 : 0));
                else
                    memcpy(o, text + i, k);
                h->n += k;
                i += k;
            }
            h->pending = 0;
            h->any = 1;
        }
        if (i == len)
            break;
        size_t end = i + 1; /* text[i] and the non-ASCII run after it (or that begins with it) */
        while (end < len && text[end] >= 0x80)
            end++;
        rc = th_segment(h, text + i, end - i, opts);
        i = end;
    }
    if (rc == 0) {
        th_flush(h);
        hex_digest(XXH3_128bits_digest(h->st), out);
    }
    XXH3_freeState(h->st);
    free(h);
    return rc;
}

int
nw_id_from_text(const uint8_t *text, size_t len, char out[NW_ID_LEN + 1])
{
    return text_hash("t:", text, len,
                     UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
                         UTF8PROC_IGNORE,
                     out);
}

int
nw_id_content_hash(const uint8_t *text, size_t len, char out[NW_ID_LEN + 1])
{
    return text_hash("c:", text, len, UTF8PROC_STABLE | UTF8PROC_COMPOSE, out);
}

/* The charset an HTML document declares in its head (<meta charset=...> or the http-equiv
 * form), lowercase into cs, or "" when none. Browsers look at the first 1024 bytes; so do we.
 * Only used to read the bytes for the id; parse finds the charset itself. */
static void
html_meta_charset(const uint8_t *body, size_t len, char *cs, size_t cn)
{
    size_t n = len < 1024 ? len : 1024;
    cs[0] = 0;
    for (size_t i = 0; i + 7 < n; i++) {
        if (strncasecmp((const char *)body + i, "charset", 7) != 0)
            continue;
        size_t j = i + 7;
        while (j < n && (body[j] == ' ' || body[j] == '\t'))
            j++;
        if (j >= n || body[j] != '=')
            continue;
        j++;
        while (j < n && (body[j] == ' ' || body[j] == '"' || body[j] == '\''))
            j++;
        size_t k = 0;
        while (j < n && k + 1 < cn && body[j] && (isalnum(body[j]) || strchr("-_.:", body[j])))
            cs[k++] = (char)tolower(body[j++]);
        cs[k] = 0;
        if (k > 0)
            return;
    }
}

/* Text ids are computed over UTF-8. A body in another charset is converted first (with iconv,
 * from its declared charset; as Latin-1 when iconv does not know it or the bytes do not fit,
 * which still gives every byte string one stable id). */
static int
id_from_bytes(const uint8_t *body, size_t len, const char *charset, char out[NW_ID_LEN + 1])
{
    if (nw_utf8_valid(body, len))
        return nw_id_from_text(body, len, out);
    int rc = -ENOMEM;
    /* 3 bytes of UTF-8 per input byte covers every single- and multi-byte charset. */
    size_t cap = len * 3 + 4, left = cap, inleft = len;
    char *utf8 = malloc(cap), *o = utf8, *in = (char *)body;
    if (utf8 == NULL)
        return -ENOMEM;
    iconv_t cd = charset && *charset ? iconv_open("UTF-8", charset) : (iconv_t)-1;
    if (cd != (iconv_t)-1) {
        size_t r = iconv(cd, &in, &inleft, &o, &left);
        iconv_close(cd);
        if (r != (size_t)-1 && inleft == 0 && nw_utf8_valid((uint8_t *)utf8, cap - left)) {
            rc = nw_id_from_text((uint8_t *)utf8, cap - left, out);
            goto out;
        }
    }
    o = utf8;
    for (size_t i = 0; i < len; i++) {
        if (body[i] < 0x80) {
            *o++ = body[i] ? (char)body[i] : ' '; /* NUL is not text */
        } else {
            *o++ = (char)(0xc0 | (body[i] >> 6));
            *o++ = (char)(0x80 | (body[i] & 0x3f));
        }
    }
    rc = nw_id_from_text((uint8_t *)utf8, (size_t)(o - utf8), out);
out:
    free(utf8);
    return rc;
}

int
nw_id_for_document(const char *url, const uint8_t *body, size_t len, const char *type,
                   const char *charset, char out[NW_ID_LEN + 1], char **canon)
{
    *canon = NULL;
    if (url && *url) {
        int rc = nw_url_canonical(url, canon);
        if (rc == 0 && (rc = nw_id_from_url(*canon, out)) < 0) {
            free(*canon);
            *canon = NULL;
        }
        return rc;
    }
    char meta[64] = "";
    if ((charset == NULL || !*charset) && type && strncasecmp(type, "text/html", 9) == 0 &&
        (type[9] == 0 || type[9] == ';' || type[9] == ' ')) {
        html_meta_charset(body, len, meta, sizeof meta);
        charset = meta;
    }
    return id_from_bytes(body, len, charset, out);
}
