/* parse.c: raw -> article (see parse.h). Decides the content type (declared, else sniffed),
 * brings the bytes to UTF-8 (iconv for a declared charset; HTML the way browsers do: BOM,
 * header, <meta>, else UTF-8 or windows-1252, bad bytes replaced and counted), then hands them
 * to the wire-text parser, the HTML parser or the JSON field reader. Every refusal names a reason
 * from a short fixed list, because the reason becomes a metric label and a dead-letter column. */
#include "newswire/parse.h"

#include <errno.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <utf8proc.h>

#include "html.h"
#include "newswire/metrics.h"
#include "newswire/util.h"
#include "wire.h"

/* At most this much of a document is inspected by nw_parse_sniff and the meta charset scan. */
#define SNIFF_BYTES 65536
#define META_SCAN_BYTES 2048

static int fail(const char **reason, const char *why, char *detail, size_t dlen, const char *fmt,
                ...) __attribute__((format(printf, 5, 6)));

static int
fail(const char **reason, const char *why, char *detail, size_t dlen, const char *fmt, ...)
{
    *reason = why;
    if (detail != NULL && dlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, dlen, fmt, ap);
        va_end(ap);
    }
    return strcmp(why, "out-of-memory") == 0 ? -ENOMEM : -EPROTO;
}

/* Copy a media type without parameters, trimmed and lowercased, into out. */
static void
media_type(const char *ct, char *out, size_t n)
{
    size_t w = 0;
    if (ct != NULL) {
        while (*ct == ' ' || *ct == '\t')
            ct++;
        for (; *ct && *ct != ';' && *ct != ' ' && *ct != '\t' && w + 1 < n; ct++)
            out[w++] = (char)((*ct >= 'A' && *ct <= 'Z') ? *ct - 'A' + 'a' : *ct);
    }
    out[w] = 0;
}

int
nw_parse_supported(const char *content_type)
{
    char t[64];
    media_type(content_type, t, sizeof(t));
    return strcmp(t, "text/plain") == 0 || strcmp(t, "text/html") == 0 ||
           strcmp(t, "application/xhtml+xml") == 0 || strcmp(t, "application/json") == 0;
}

static bool
ends_with_ci(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

static bool
starts_ci(const uint8_t *p, size_t len, const char *word)
{
    size_t n = strlen(word);
    return len >= n && strncasecmp((const char *)p, word, n) == 0;
}

const char *
nw_parse_sniff(const char *name, const uint8_t *body, size_t len)
{
    if (name != NULL) {
        if (ends_with_ci(name, ".txt") || ends_with_ci(name, ".text"))
            return "text/plain";
        if (ends_with_ci(name, ".html") || ends_with_ci(name, ".htm") ||
            ends_with_ci(name, ".xhtml"))
            return "text/html";
        if (ends_with_ci(name, ".json"))
            return "application/json";
    }
    size_t n = len < SNIFF_BYTES ? len : SNIFF_BYTES;
    if (body == NULL || n == 0)
        return "text/plain";
    if (memchr(body, 0, n) != NULL)
        return NULL;
    /* Not UTF-8: still text when it reads like a legacy 8-bit charset, i.e. control bytes are
     * rare (binary formats are full of them). Cut a trailing partial sequence before asking. */
    size_t check = n;
    if (n < len)
        while (check > 0 && n - check < 3 && (body[check - 1] & 0xc0) == 0x80)
            check--;
    if (n < len && check > 0 && body[check - 1] >= 0xc0)
        check--;
    size_t controls = 0;
    for (size_t i = 0; i < n; i++)
        if ((body[i] < 0x20 && body[i] != '\t' && body[i] != '\n' && body[i] != '\r' &&
             body[i] != '\f' && body[i] != 0x1b) ||
            body[i] == 0x7f)
            controls++;
    if (controls * 32 > n)
        return NULL;
    if (!nw_utf8_valid(body, check) && controls > 0 && controls * 256 > n)
        return NULL;
    size_t i = 0;
    if (n >= 3 && memcmp(body, "\xef\xbb\xbf", 3) == 0)
        i = 3;
    while (i < n && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
        i++;
    const uint8_t *p = body + i;
    size_t rest = n - i;
    if (rest > 0 && p[0] == '<') {
        static const char *const html_starts[] = {
            "<!doctype html", "<html",    "<head", "<body", "<p>",    "<p ",
            "<div",           "<article", "<!--",  "<meta", "<title", "<h1"};
        for (size_t k = 0; k < sizeof(html_starts) / sizeof(html_starts[0]); k++)
            if (starts_ci(p, rest, html_starts[k]))
                return "text/html";
        if (starts_ci(p, rest, "<?xml"))
            return memmem(p, rest, "<html", 5) != NULL ? "text/html" : "application/xml";
        return "text/plain";
    }
    if (rest > 0 && p[0] == '{')
        return "application/json";
    return "text/plain";
}

/* --- charsets ------------------------------------------------------------------------------ */

/* Convert in[0..len) from charset `from` to UTF-8. Returns 0, -EINVAL (unknown charset),
 * -EILSEQ (bytes not valid in that charset) or -ENOMEM. Caller frees *out. */
static int
to_utf8(const char *from, const uint8_t *in, size_t len, char **out, size_t *out_len)
{
    iconv_t cd = iconv_open("UTF-8", from);
    if (cd == (iconv_t)-1)
        return -EINVAL;
    int rc = -ENOMEM;
    size_t cap = len < SIZE_MAX / 2 - 16 ? len + len / 2 + 16 : 0;
    char *buf = cap ? malloc(cap) : NULL;
    if (buf == NULL)
        goto out;
    char *ip = (char *)in;
    size_t il = len, used = 0;
    for (;;) {
        char *op = buf + used;
        size_t ol = cap - used - 1;
        size_t r = iconv(cd, &ip, &il, &op, &ol);
        used = (size_t)(op - buf);
        if (r != (size_t)-1) {
            /* flush any shift state */
            op = buf + used;
            ol = cap - used - 1;
            if (iconv(cd, NULL, NULL, &op, &ol) == (size_t)-1 && errno == E2BIG) {
                errno = E2BIG;
            } else {
                used = (size_t)(op - buf);
                break;
            }
        } else if (errno != E2BIG) {
            rc = -EILSEQ;
            goto out;
        }
        if (cap > SIZE_MAX / 2)
            goto out;
        char *nb = realloc(buf, cap * 2);
        if (nb == NULL)
            goto out;
        buf = nb;
        cap *= 2;
    }
    buf[used] = 0;
    *out = buf;
    *out_len = used;
    buf = NULL;
    rc = 0;
out:
    free(buf);
    iconv_close(cd);
    return rc;
}

/* Bytes of one UTF-16/32 code unit in charset cs (1 for byte-oriented charsets): after a bad
 * sequence the conversion resumes at the next unit, so the rest of the text stays aligned. */
static size_t
unit_size(const char *cs)
{
    if (strncasecmp(cs, "utf-16", 6) == 0 || strncasecmp(cs, "ucs-2", 5) == 0)
        return 2;
    if (strncasecmp(cs, "utf-32", 6) == 0 || strncasecmp(cs, "ucs-4", 5) == 0)
        return 4;
    return 1;
}

/* Convert in[0..len) from charset `from` to UTF-8 without giving up on bad bytes: each code
 * unit that does not begin a valid sequence in `from` becomes U+FFFD and is counted in
 * *replaced. windows-1252 leaves five bytes undefined; like browsers, they become the C1
 * controls of the same value (not counted: they are not errors). The result may still hold
 * U+0000 (from UTF-16, say): the caller checks. Returns 0, -EINVAL (iconv does not know `from`)
 * or -ENOMEM. Caller frees *out. */
static int
to_utf8_lossy(const char *from, const uint8_t *in, size_t len, char **out, size_t *out_len,
              size_t *replaced)
{
    nw_buf_t b = {0};
    int rc = -ENOMEM;
    if (strcasecmp(from, "UTF-8") == 0) {
        /* iconv would do, but this keeps "valid" exactly what nw_utf8_valid says */
        if (nw_buf_reserve(&b, len + 16) < 0)
            return -ENOMEM;
        for (size_t i = 0; i < len;) {
            size_t n = in[i] < 0x80 ? 1 : in[i] >= 0xf0 ? 4 : in[i] >= 0xe0 ? 3 : 2;
            if (n <= len - i && nw_utf8_valid(in + i, n)) {
                if (nw_buf_append(&b, in + i, n) < 0)
                    goto out;
                i += n;
                continue;
            }
            if (nw_buf_puts(&b, "\xef\xbf\xbd") < 0)
                goto out;
            (*replaced)++;
            i++;
        }
    } else {
        iconv_t cd = iconv_open("UTF-8", from);
        if (cd == (iconv_t)-1)
            return -EINVAL;
        bool cp1252 = strcasecmp(from, "WINDOWS-1252") == 0;
        size_t unit = unit_size(from);
        char *ip = (char *)in;
        size_t il = len;
        char chunk[4096];
        while (il > 0) {
            char *op = chunk;
            size_t ol = sizeof(chunk);
            size_t r = iconv(cd, &ip, &il, &op, &ol);
            int err = r == (size_t)-1 ? errno : 0;
            if (nw_buf_append(&b, chunk, (size_t)(op - chunk)) < 0) {
                iconv_close(cd);
                goto out;
            }
            if (err == 0 || err == E2BIG)
                continue;
            /* EILSEQ (not valid here) or EINVAL (cut off at the end): skip one unit */
            uint8_t c = (uint8_t)*ip;
            char c1[2] = {(char)0xc2, (char)c};
            int ar = cp1252 && c >= 0x80 && c <= 0x9f ? nw_buf_append(&b, c1, 2)
                                                      : nw_buf_puts(&b, "\xef\xbf\xbd");
            if (ar < 0) {
                iconv_close(cd);
                goto out;
            }
            if (!(cp1252 && c >= 0x80 && c <= 0x9f))
                (*replaced)++;
            size_t skip = unit < il ? unit : il;
            ip += skip; /* the shift state (ISO-2022) stays what it was before the bad unit */
            il -= skip;
        }
        char *op = chunk;
        size_t ol = sizeof(chunk);
        iconv(cd, NULL, NULL, &op, &ol);
        iconv_close(cd);
        if (nw_buf_append(&b, chunk, (size_t)(op - chunk)) < 0)
            goto out;
    }
    if (nw_buf_append(&b, "", 0) < 0)
        goto out;
    *out = (char *)nw_buf_steal(&b, out_len);
    rc = 0;
out:
    nw_buf_release(&b);
    return rc;
}

/* The charset named by a <meta charset=...> or http-equiv content in the head of an HTML
 * document, copied into out; "" when there is none. */
static void
meta_charset(const uint8_t *body, size_t len, char *out, size_t n)
{
    size_t lim = len < META_SCAN_BYTES ? len : META_SCAN_BYTES;
    out[0] = 0;
    for (size_t i = 0; i + 8 < lim; i++) {
        if (strncasecmp((const char *)body + i, "charset=", 8) != 0)
            continue;
        size_t j = i + 8, w = 0;
        while (j < lim && (body[j] == '"' || body[j] == '\'' || body[j] == ' '))
            j++;
        while (j < lim && w + 1 < n &&
               (((body[j] | 0x20) >= 'a' && (body[j] | 0x20) <= 'z') ||
                (body[j] >= '0' && body[j] <= '9') || body[j] == '-' || body[j] == '_' ||
                body[j] == ':' || body[j] == '.'))
            out[w++] = (char)body[j++];
        out[w] = 0;
        return;
    }
}

static bool
is_utf8_label(const char *cs)
{
    return strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "utf8") == 0;
}

/* Labels browsers decode as windows-1252 (WHATWG Encoding): latin-1 declared text is nearly
 * always cp1252 in practice (curly quotes in 0x80-0x9f). */
static bool
is_latin1_label(const char *cs)
{
    static const char *const labels[] = {"iso-8859-1", "iso8859-1",   "latin1", "latin-1",
                                         "l1",         "us-ascii",    "ascii",  "iso_8859-1",
                                         "cp1252",     "windows-1252"};
    for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
        if (strcasecmp(cs, labels[i]) == 0)
            return true;
    return false;
}

/* Offset of the first byte that is not valid UTF-8 (or a NUL). */
static size_t
first_bad_utf8(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k =
            utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i > 4 ? 4 : len - i), &cp);
        if (k <= 0 || cp == 0)
            return i;
        i += (size_t)k;
    }
    return len;
}

static bool
has_non_ascii(const uint8_t *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] >= 0x80)
            return true;
    return false;
}

/* The iconv name for charset label cs found in an HTML page's header or <meta> (from_meta),
 * given whether the body is valid UTF-8; NULL when the label is to be passed over (empty, or
 * unknown to iconv). */
static const char *
html_charset(const char *cs, const uint8_t *b, size_t n, bool valid, bool from_meta)
{
    if (cs[0] == 0)
        return NULL;
    if (is_utf8_label(cs))
        return "UTF-8";
    bool ascii = strcasecmp(cs, "us-ascii") == 0 || strcasecmp(cs, "ascii") == 0;
    if (ascii && valid)
        return "UTF-8";
    /* a <meta> is read as ASCII, so one that says UTF-16 is wrong (WHATWG Encoding); one that
     * names a legacy charset over text that is valid UTF-8 beyond ASCII is a template
     * declaring what the CMS no longer writes */
    if (from_meta && (unit_size(cs) > 1 || (valid && has_non_ascii(b, n))))
        return "UTF-8";
    if (is_latin1_label(cs))
        return "WINDOWS-1252";
    iconv_t cd = iconv_open("UTF-8", cs);
    if (cd == (iconv_t)-1)
        return NULL;
    iconv_close(cd);
    return cs;
}

/* HTML: the charset comes from, first match wins, a byte-order mark (browsers let it override
 * everything), raw's charset (the HTTP header), a <meta charset> or http-equiv in the head,
 * else the bytes: valid UTF-8 is UTF-8, anything else windows-1252, the browsers' default for
 * pages that do not say. Labels iconv does not know are passed over. Bytes that are not valid
 * in the chosen charset become U+FFFD, counted in *replaced: a bad byte does not cost the
 * page. *text points into raw->body or to *owned. */
static int
decode_html(const nw_raw_t *raw, const char **text, size_t *len, char **owned, size_t *replaced,
            const char **reason, char *detail, size_t dlen)
{
    const uint8_t *b = raw->body;
    size_t n = raw->body_len;
    const char *cs = NULL;
    char header[48] = "", meta[48] = "";
    if (n >= 3 && memcmp(b, "\xef\xbb\xbf", 3) == 0)
        cs = "UTF-8";
    else if (n >= 2 && memcmp(b, "\xff\xfe", 2) == 0)
        cs = "UTF-16LE";
    else if (n >= 2 && memcmp(b, "\xfe\xff", 2) == 0)
        cs = "UTF-16BE";
    if (cs != NULL) {
        size_t bom = strcmp(cs, "UTF-8") == 0 ? 3 : 2;
        b += bom;
        n -= bom;
    }
    bool valid = nw_utf8_valid(b, n);
    if (cs == NULL && raw->charset != NULL) {
        snprintf(header, sizeof(header), "%s", raw->charset);
        cs = html_charset(header, b, n, valid, false);
    }
    if (cs == NULL) {
        meta_charset(b, n, meta, sizeof(meta));
        cs = html_charset(meta, b, n, valid, true);
    }
    if (cs == NULL)
        cs = valid ? "UTF-8" : "WINDOWS-1252";
    if (unit_size(cs) == 1 && memchr(b, 0, n) != NULL)
        return fail(reason, "invalid-utf8", detail, dlen, "NUL byte in %s HTML", cs);
    if (strcmp(cs, "UTF-8") == 0 && valid) {
        *text = (const char *)b;
        *len = n;
        return 0;
    }
    int rc = to_utf8_lossy(cs, b, n, owned, len, replaced);
    if (rc == -ENOMEM)
        return fail(reason, "out-of-memory", detail, dlen, "converting from \"%s\"", cs);
    if (rc < 0)
        return fail(reason, "bad-charset", detail, dlen, "unknown charset \"%s\"", cs);
    if (!nw_utf8_valid((const uint8_t *)*owned, *len))
        return fail(reason, "invalid-utf8", detail, dlen, "NUL character in %s HTML", cs);
    *text = *owned;
    return 0;
}

/* Bring raw's body to UTF-8: *text points into raw->body or to *owned. HTML goes through
 * decode_html; text and JSON must be valid in their declared charset (UTF-8 by default). */
static int
decode_body(const nw_raw_t *raw, const char *ctype, const char **text, size_t *len, char **owned,
            size_t *replaced, const char **reason, char *detail, size_t dlen)
{
    if (strcmp(ctype, "text/plain") != 0 && strcmp(ctype, "application/json") != 0)
        return decode_html(raw, text, len, owned, replaced, reason, detail, dlen);
    char cs[48] = "";
    if (raw->charset != NULL)
        snprintf(cs, sizeof(cs), "%s", raw->charset);
    const uint8_t *b = raw->body;
    size_t n = raw->body_len;
    bool valid = nw_utf8_valid(b, n);
    bool ascii = strcasecmp(cs, "us-ascii") == 0 || strcasecmp(cs, "ascii") == 0;
    /* ASCII that is valid UTF-8 is UTF-8 (ASCII itself, or mislabelled UTF-8) */
    if (cs[0] != 0 && !is_utf8_label(cs) && !(ascii && valid)) {
        if (memchr(b, 0, n) != NULL && strncasecmp(cs, "utf-16", 6) != 0 &&
            strncasecmp(cs, "utf-32", 6) != 0 && strncasecmp(cs, "ucs", 3) != 0)
            return fail(reason, "invalid-utf8", detail, dlen, "NUL byte in %s text", cs);
        const char *from = is_latin1_label(cs) ? "WINDOWS-1252" : cs;
        int rc = to_utf8(from, b, n, owned, len);
        if (rc == -EILSEQ && is_latin1_label(cs))
            rc = to_utf8("ISO-8859-1", b, n, owned, len);
        if (rc == -ENOMEM)
            return fail(reason, "out-of-memory", detail, dlen, "converting from \"%s\"", cs);
        if (rc == -EINVAL)
            return fail(reason, "bad-charset", detail, dlen, "unknown charset \"%s\"", cs);
        if (rc < 0)
            return fail(reason, "bad-charset", detail, dlen, "bytes not valid in charset \"%s\"",
                        cs);
        if (!nw_utf8_valid((const uint8_t *)*owned, *len))
            return fail(reason, "invalid-utf8", detail, dlen, "NUL character in %s text", cs);
        *text = *owned;
        return 0;
    }
    if (!valid)
        return fail(reason, "invalid-utf8", detail, dlen,
                    "body is not valid UTF-8 (first bad byte at offset %zu of %zu)",
                    first_bad_utf8(b, n), n);
    *text = (const char *)b;
    *len = n;
    return 0;
}

/* --- JSON input ---------------------------------------------------------------------------- */

static void
take_str(char **dst, char **src)
{
    if (*dst == NULL) {
        *dst = *src;
        *src = NULL;
    }
}

static void
take_strs(char ***dst, size_t *n_dst, char ***src, size_t *n_src)
{
    if (*n_dst == 0) {
        free(*dst);
        *dst = *src;
        *n_dst = *n_src;
        *src = NULL;
        *n_src = 0;
    }
}

/* Fill the empty content fields of dst from src (what the page itself said), moving them. */
static void
merge_from(nw_article_t *dst, nw_article_t *src)
{
    take_str(&dst->title, &src->title);
    take_str(&dst->subtitle, &src->subtitle);
    take_str(&dst->published, &src->published);
    take_str(&dst->modified, &src->modified);
    take_str(&dst->dateline, &src->dateline);
    take_str(&dst->lang, &src->lang);
    take_str(&dst->site_name, &src->site_name);
    take_str(&dst->section, &src->section);
    take_str(&dst->image, &src->image);
    take_str(&dst->text, &src->text);
    take_strs(&dst->authors, &dst->n_authors, &src->authors, &src->n_authors);
    take_strs(&dst->tags, &dst->n_tags, &src->tags, &src->n_tags);
    if (dst->n_captions == 0) {
        free(dst->captions);
        dst->captions = src->captions;
        dst->n_captions = src->n_captions;
        src->captions = NULL;
        src->n_captions = 0;
    }
}

/* A string member: absent or null leaves *dst NULL; anything but a string is bad-json. The
 * value is cleaned like a wire line (url only trimmed) and dropped when empty. */
static int
json_str(json_t *obj, const char *key, char **dst, bool clean, const char **reason, char *detail,
         size_t dlen)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return fail(reason, "bad-json", detail, dlen, "key \"%s\": expected a string", key);
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    char *c = clean ? nw_wire_clean(s, n) : NULL;
    if (!clean) {
        while (n > 0 && (*s == ' ' || *s == '\t'))
            s++, n--;
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        c = nw_strndup(s, n);
    }
    if (c == NULL)
        return fail(reason, "out-of-memory", detail, dlen, "key \"%s\"", key);
    if (c[0] == 0)
        free(c);
    else
        *dst = c;
    return 0;
}

static int
push_str(char ***arr, size_t *n, char *s)
{
    char **p = realloc(*arr, (*n + 1) * sizeof(*p));
    if (p == NULL)
        return -ENOMEM;
    p[(*n)++] = s;
    *arr = p;
    return 0;
}

/* An array-of-strings member (a single string is taken as a one-item array): items cleaned like
 * wire lines, empty ones dropped, appended to *arr. */
static int
json_strs(json_t *obj, const char *key, char ***arr, size_t *n, const char **reason, char *detail,
          size_t dlen)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v) && !json_is_array(v))
        return fail(reason, "bad-json", detail, dlen, "key \"%s\": expected an array of strings",
                    key);
    size_t count = json_is_array(v) ? json_array_size(v) : 1;
    for (size_t i = 0; i < count; i++) {
        json_t *e = json_is_array(v) ? json_array_get(v, i) : v;
        if (!json_is_string(e))
            return fail(reason, "bad-json", detail, dlen, "key \"%s\" item %zu: expected a string",
                        key, i);
        char *c = nw_wire_clean(json_string_value(e), json_string_length(e));
        if (c == NULL)
            return fail(reason, "out-of-memory", detail, dlen, "key \"%s\"", key);
        if (c[0] == 0) {
            free(c);
            continue;
        }
        if (push_str(arr, n, c) < 0) {
            free(c);
            return fail(reason, "out-of-memory", detail, dlen, "key \"%s\"", key);
        }
    }
    return 0;
}

/* "text": paragraphs separated by blank lines; lines inside a paragraph are joined. */
static int
text_paragraphs(const char *s, size_t len, char **out)
{
    nw_buf_t para = {0}, all = {0};
    int rc = -ENOMEM;
    size_t i = 0;
    if (nw_buf_reserve(&all, len) < 0)
        goto done;
    while (i <= len) {
        size_t j = i;
        while (j < len && s[j] != '\n')
            j++;
        char *line = nw_wire_clean(s + i, j - i);
        if (line == NULL)
            goto done;
        bool blank = line[0] == 0;
        if (!blank &&
            ((para.len > 0 && nw_buf_puts(&para, " ") < 0) || nw_buf_puts(&para, line) < 0)) {
            free(line);
            goto done;
        }
        free(line);
        if ((blank || j >= len) && para.len > 0) {
            if ((all.len > 0 && nw_buf_puts(&all, "\n\n") < 0) ||
                nw_buf_append(&all, para.data, para.len) < 0)
                goto done;
            nw_buf_reset(&para);
        }
        i = j + 1;
    }
    if (nw_buf_append(&all, "", 0) < 0)
        goto done;
    *out = (char *)nw_buf_steal(&all, NULL);
    rc = 0;
done:
    nw_buf_release(&para);
    nw_buf_release(&all);
    return rc;
}

static int
parse_json(const char *s, size_t len, nw_article_t *a, const char **reason, char *detail,
           size_t dlen)
{
    json_error_t err;
    nw_article_t page = {0};
    int rc;
    json_t *root = json_loadb(s, len, JSON_REJECT_DUPLICATES, &err);
    if (root == NULL)
        return fail(reason, "bad-json", detail, dlen, "line %d column %d: %s", err.line, err.column,
                    err.text);
    if (!json_is_object(root)) {
        rc = fail(reason, "bad-json", detail, dlen, "expected a JSON object");
        goto out;
    }
    if ((rc = json_str(root, "url", &a->url, false, reason, detail, dlen)) < 0 ||
        (rc = json_str(root, "title", &a->title, true, reason, detail, dlen)) < 0 ||
        (rc = json_str(root, "subtitle", &a->subtitle, true, reason, detail, dlen)) < 0 ||
        (rc = json_str(root, "published", &a->published, true, reason, detail, dlen)) < 0 ||
        (rc = json_str(root, "dateline", &a->dateline, true, reason, detail, dlen)) < 0 ||
        (rc = json_str(root, "modified", &a->modified, true, reason, detail, dlen)) < 0 ||
        (rc = json_str(root, "lang", &a->lang, true, reason, detail, dlen)) < 0 ||
        (rc = json_str(root, "site_name", &a->site_name, true, reason, detail, dlen)) < 0 ||
        (rc = json_str(root, "section", &a->section, true, reason, detail, dlen)) < 0 ||
        (rc = json_str(root, "image", &a->image, false, reason, detail, dlen)) < 0 ||
        (rc = json_strs(root, "authors", &a->authors, &a->n_authors, reason, detail, dlen)) < 0 ||
        (rc = json_strs(root, "tags", &a->tags, &a->n_tags, reason, detail, dlen)) < 0)
        goto out;
    /* a date we cannot read is dropped rather than passed on as if it were one */
    if (a->published != NULL && !nw_wire_valid_date(a->published, strlen(a->published))) {
        free(a->published);
        a->published = NULL;
    }
    if (a->modified != NULL && !nw_wire_valid_date(a->modified, strlen(a->modified))) {
        free(a->modified);
        a->modified = NULL;
    }
    json_t *text = json_object_get(root, "text");
    json_t *html = json_object_get(root, "html");
    json_t *body = json_object_get(root, "body");
    json_t *src = text && !json_is_null(text)   ? text
                  : html && !json_is_null(html) ? html
                  : body && !json_is_null(body) ? body
                                                : NULL;
    const char *key = src == text ? "text" : src == html ? "html" : "body";
    if (src == NULL) {
        rc = fail(reason, "no-text", detail, dlen, "none of \"text\", \"html\", \"body\"");
        goto out;
    }
    if (!json_is_string(src)) {
        rc = fail(reason, "bad-json", detail, dlen, "key \"%s\": expected a string", key);
        goto out;
    }
    const char *v = json_string_value(src);
    size_t vn = json_string_length(src);
    if (src == text) {
        rc = text_paragraphs(v, vn, &page.text);
    } else if (src == html) {
        rc = nw_html_parse(v, vn, a->url, &page);
        if (rc == -EPROTO) {
            rc = fail(reason, "bad-html", detail, dlen, "key \"html\": no document");
            goto out;
        }
    } else {
        rc = nw_wire_parse(v, vn, &page);
    }
    if (rc < 0) {
        rc = fail(reason, rc == -ENOMEM ? "out-of-memory" : "invalid-utf8", detail, dlen,
                  "key \"%s\"", key);
        goto out;
    }
    merge_from(a, &page);
    rc = 0;
out:
    nw_article_release(&page);
    json_decref(root);
    return rc;
}

/* --- raw -> article ------------------------------------------------------------------------ */

static int
dup_opt(char **dst, const char *src)
{
    if (src == NULL || *dst != NULL)
        return 0;
    *dst = strdup(src);
    return *dst ? 0 : -ENOMEM;
}

static bool
blank(const uint8_t *b, size_t n)
{
    size_t i = 0;
    if (n >= 3 && memcmp(b, "\xef\xbb\xbf", 3) == 0)
        i = 3;
    for (; i < n; i++)
        if (b[i] != ' ' && b[i] != '\t' && b[i] != '\r' && b[i] != '\n' && b[i] != '\f' &&
            b[i] != '\v')
            return false;
    return true;
}

int
nw_parse_raw(const nw_raw_t *raw, nw_article_t *out, const char **reason, char *detail,
             size_t detail_len)
{
    char ctype[64];
    char *owned = NULL;
    const char *text = NULL;
    size_t len = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    *reason = NULL;
    if (detail != NULL && detail_len > 0)
        detail[0] = 0;

    media_type(raw->content_type, ctype, sizeof(ctype));
    if (ctype[0] == 0 || strcmp(ctype, "application/octet-stream") == 0) {
        const char *sniffed = nw_parse_sniff(raw->name, raw->body, raw->body_len);
        if (sniffed == NULL) {
            rc = fail(reason, "unsupported-content-type", detail, detail_len,
                      "binary content declared as \"%s\"",
                      raw->content_type ? raw->content_type : "");
            goto out;
        }
        snprintf(ctype, sizeof(ctype), "%s", sniffed);
    }
    if (!nw_parse_supported(ctype)) {
        rc = fail(reason, "unsupported-content-type", detail, detail_len,
                  "content type \"%s\" is not text/plain, text/html or application/json", ctype);
        goto out;
    }
    if (raw->body_len == 0 || raw->body == NULL || blank(raw->body, raw->body_len)) {
        rc = fail(reason, "empty", detail, detail_len, "body is empty (%zu bytes)", raw->body_len);
        goto out;
    }
    size_t replaced = 0;
    rc = decode_body(raw, ctype, &text, &len, &owned, &replaced, reason, detail, detail_len);
    if (replaced > 0)
        nw_metrics_add(nw_metrics_counter("nw_parse_replaced_total", NULL,
                                          "Bytes of HTML not valid in the page's charset, "
                                          "replaced with U+FFFD."),
                       replaced);
    if (rc < 0)
        goto out;
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
        text += 3;
        len -= 3;
    }

    if (strcmp(ctype, "text/plain") == 0) {
        rc = nw_wire_parse(text, len, out);
        if (rc < 0) {
            rc = fail(reason, rc == -ENOMEM ? "out-of-memory" : "invalid-utf8", detail, detail_len,
                      "wire text");
            goto out;
        }
    } else if (strcmp(ctype, "application/json") == 0) {
        if ((rc = parse_json(text, len, out, reason, detail, detail_len)) < 0)
            goto out;
    } else {
        rc = nw_html_parse(text, len, raw->url, out);
        if (rc < 0) {
            rc = fail(reason, rc == -ENOMEM ? "out-of-memory" : "bad-html", detail, detail_len,
                      "libxml2 built no document from %zu bytes", len);
            goto out;
        }
    }
    if (out->text == NULL || out->text[0] == 0) {
        rc = fail(reason, "no-text", detail, detail_len, "no paragraphs found in %s", ctype);
        goto out;
    }

    out->v = NW_PROTO_VERSION;
    if (dup_opt(&out->id, raw->id) < 0 || dup_opt(&out->url, raw->url) < 0 ||
        dup_opt(&out->source, raw->source) < 0 || dup_opt(&out->fetched, raw->fetched) < 0 ||
        dup_opt(&out->origin, raw->origin) < 0 || dup_opt(&out->content_type, ctype) < 0) {
        rc = fail(reason, "out-of-memory", detail, detail_len, "copying raw fields");
        goto out;
    }
    /* raw's url is canonical (fetch normalised it); a JSON "url" only fills in when absent */
    if (raw->url != NULL && out->url != NULL && strcmp(out->url, raw->url) != 0) {
        free(out->url);
        if ((out->url = strdup(raw->url)) == NULL) {
            rc = fail(reason, "out-of-memory", detail, detail_len, "copying url");
            goto out;
        }
    }
    out->spool = raw->spool;
    out->av = raw->av;
    if (raw->extra.len > 0) {
        out->extra.buf = malloc(raw->extra.len);
        if (out->extra.buf == NULL) {
            rc = fail(reason, "out-of-memory", detail, detail_len, "copying unknown keys");
            goto out;
        }
        memcpy(out->extra.buf, raw->extra.buf, raw->extra.len);
        out->extra.len = raw->extra.len;
        out->extra.n = raw->extra.n;
    }
    rc = 0;
out:
    if (rc < 0)
        nw_article_release(out);
    free(owned);
    return rc;
}
