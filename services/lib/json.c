/* json.c: MessagePack <-> JSON on jansson (see json.h). This is what `newswire parse --jsonl`,
 * `newswire tail` and the HTTP API use to show wire messages to people and to programs without
 * MessagePack, so it is lossless for everything the contract carries:
 *   str -> string; bin -> string when valid UTF-8, else {"base64":"..."}; a str that is not
 *   valid UTF-8 (old writers put bytes in str) -> {"base64":"..."} as well; ext ->
 *   {"ext":type,"base64":"..."}; ints stay ints; floats -> JSON reals; nil/bool as such.
 * The reverse turns those two object shapes back into bin and ext. MessagePack input goes through
 * the same bounded pre-check as the proto decoders (proto/unpack.c). */
#include "newswire/json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "codec_internal.h" /* private to the codec and this bridge: proto/ */
#include "newswire/proto.h"
#include "newswire/util.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard base64 with padding. Caller frees; NULL on ENOMEM. */
static char *
b64_encode(const uint8_t *p, size_t n)
{
    size_t out_len = (n + 2) / 3 * 4;
    char *s = malloc(out_len + 1);
    if (s == NULL)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        s[o++] = b64_alphabet[(v >> 18) & 63];
        s[o++] = b64_alphabet[(v >> 12) & 63];
        s[o++] = i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=';
        s[o++] = i + 2 < n ? b64_alphabet[v & 63] : '=';
    }
    s[o] = 0;
    return s;
}

static int
b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Strict decoding: length a multiple of 4, padding only at the end, no stray characters, so
 * every bin has exactly one JSON spelling. Returns 0, -EINVAL or -ENOMEM; caller frees *out. */
static int
b64_decode(const char *s, size_t n, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    if (n % 4)
        return -EINVAL;
    size_t pad = 0;
    if (n && s[n - 1] == '=')
        pad = (n >= 2 && s[n - 2] == '=') ? 2 : 1;
    uint8_t *b = malloc(n / 4 * 3 + 1);
    if (b == NULL)
        return -ENOMEM;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        uint32_t v = 0;
        bool last = i + 4 == n;
        for (size_t k = 0; k < 4; k++) {
            int d;
            if (last && k >= 4 - pad) {
                d = 0;
            } else if ((d = b64_value(s[i + k])) < 0) {
                free(b);
                return -EINVAL;
            }
            v = (v << 6) | (uint32_t)d;
        }
        b[o++] = (uint8_t)(v >> 16);
        if (!(last && pad >= 2))
            b[o++] = (uint8_t)(v >> 8);
        if (!(last && pad >= 1))
            b[o++] = (uint8_t)v;
        /* Unused bits under the padding must be zero, else two spellings decode the same. */
        if (last && ((pad == 1 && (v & 0xff)) || (pad == 2 && (v & 0xffff)))) {
            free(b);
            return -EINVAL;
        }
    }
    *out = b;
    *out_len = o;
    return 0;
}

/* ---- MessagePack -> JSON --------------------------------------------------------------- */

static json_t *
base64_object(const char *p, size_t n, const msgpack_object_ext *ext)
{
    char *s = b64_encode((const uint8_t *)p, n);
    json_t *o = json_object();
    if (s == NULL || o == NULL)
        goto fail;
    if (ext && json_object_set_new(o, "ext", json_integer(ext->type)) < 0)
        goto fail;
    if (json_object_set_new(o, "base64", json_string(s)) < 0)
        goto fail;
    free(s);
    return o;
fail:
    free(s);
    json_decref(o);
    return NULL;
}

static json_t *
bytes_to_json(const char *p, size_t n)
{
    /* msgpack-c gives an empty str or bin a NULL pointer, which json_stringn refuses */
    if (n == 0)
        return json_string("");
    if (nw_utf8_valid((const uint8_t *)p, n))
        return json_stringn(p, n);
    return base64_object(p, n, NULL);
}

/* Convert o into *out. Recursion is bounded by NW_PROTO_MAX_DEPTH (pre-checked). */
static int
to_json(const msgpack_object *o, json_t **out)
{
    json_t *j = NULL;
    int rc;

    *out = NULL;
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        j = json_null();
        break;
    case MSGPACK_OBJECT_BOOLEAN:
        j = json_boolean(o->via.boolean);
        break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (o->via.u64 > INT64_MAX) {
            nw_proto_fail("integer %llu exceeds the JSON integer range",
                          (unsigned long long)o->via.u64);
            return -ERANGE;
        }
        j = json_integer((json_int_t)o->via.u64);
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        j = json_integer((json_int_t)o->via.i64);
        break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        if (!isfinite(o->via.f64)) {
            nw_proto_fail("float %g has no JSON form", o->via.f64);
            return -ERANGE;
        }
        j = json_real(o->via.f64);
        break;
    case MSGPACK_OBJECT_STR:
        j = bytes_to_json(o->via.str.ptr, o->via.str.size);
        break;
    case MSGPACK_OBJECT_BIN:
        j = bytes_to_json(o->via.bin.ptr, o->via.bin.size);
        break;
    case MSGPACK_OBJECT_EXT:
        j = base64_object(o->via.ext.ptr, o->via.ext.size, &o->via.ext);
        break;
    case MSGPACK_OBJECT_ARRAY:
        j = json_array();
        if (j == NULL)
            return -ENOMEM;
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            json_t *e;
            rc = to_json(&o->via.array.ptr[i], &e);
            if (rc < 0)
                goto fail;
            if (json_array_append_new(j, e) < 0) {
                rc = -ENOMEM;
                goto fail;
            }
        }
        break;
    case MSGPACK_OBJECT_MAP:
        /* JSON objects need unique string keys; reject rather than silently drop an entry. */
        rc = nw_mp_check_keys(&o->via.map, "map");
        if (rc < 0)
            return rc;
        j = json_object();
        if (j == NULL)
            return -ENOMEM;
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            const msgpack_object_kv *kv = &o->via.map.ptr[i];
            json_t *e;
            rc = to_json(&kv->val, &e);
            if (rc < 0)
                goto fail;
            /* an empty key may come with a NULL pointer, which jansson refuses */
            const char *key = kv->key.via.str.size ? kv->key.via.str.ptr : "";
            if (json_object_setn_new(j, key, kv->key.via.str.size, e) < 0) {
                rc = -ENOMEM;
                goto fail;
            }
        }
        break;
    }
    if (j == NULL)
        return -ENOMEM;
    *out = j;
    return 0;
fail:
    json_decref(j);
    return rc;
}

int
nw_json_from_msgpack(const uint8_t *buf, size_t len, nw_buf_t *out)
{
    msgpack_unpacked u;
    json_t *j = NULL;
    char *text = NULL;
    int rc = nw_mp_unpack(&u, buf, len);
    if (rc < 0)
        goto out;
    rc = to_json(&u.data, &j);
    if (rc < 0)
        goto out;
    /* No JSON_ENSURE_ASCII: output stays readable UTF-8; jansson escapes quotes, backslashes
     * and control characters, and every string it holds was checked as UTF-8. */
    text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
    if (text == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    rc = nw_buf_append(out, text, strlen(text));
out:
    free(text);
    json_decref(j);
    msgpack_unpacked_destroy(&u);
    return rc;
}

/* ---- JSON -> MessagePack --------------------------------------------------------------- */

struct conv {
    msgpack_packer pk;
    char *err;
    size_t errlen;
};

static int conv_fail(struct conv *c, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
conv_fail(struct conv *c, int rc, const char *fmt, ...)
{
    if (c->err && c->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err, c->errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* The {"base64": s} and {"ext": n, "base64": s} shapes made by nw_json_from_msgpack. Returns 1
 * when j was one of them and got packed, 0 when it is an ordinary object, or a negative errno. */
static int
pack_special(struct conv *c, json_t *j)
{
    size_t n = json_object_size(j);
    json_t *b64 = json_object_get(j, "base64");
    json_t *ext = json_object_get(j, "ext");
    if (b64 == NULL || !json_is_string(b64))
        return 0;
    if (!(n == 1 || (n == 2 && ext != NULL && json_is_integer(ext))))
        return 0;
    uint8_t *bytes;
    size_t len;
    int rc = b64_decode(json_string_value(b64), json_string_length(b64), &bytes, &len);
    if (rc == -EINVAL)
        return conv_fail(c, rc, "invalid base64 in \"base64\" value");
    if (rc < 0)
        return rc;
    if (ext) {
        json_int_t t = json_integer_value(ext);
        if (t < -128 || t > 127) {
            free(bytes);
            return conv_fail(c, -EINVAL, "ext type %lld out of range -128..127", (long long)t);
        }
        rc = msgpack_pack_ext_with_body(&c->pk, bytes, len, (int8_t)t);
    } else {
        rc = msgpack_pack_bin_with_body(&c->pk, bytes, len);
    }
    free(bytes);
    return rc < 0 ? -ENOMEM : 1;
}

static int
pack_json(struct conv *c, json_t *j, int depth)
{
    int rc = 0;
    switch (json_typeof(j)) {
    case JSON_NULL:
        rc = msgpack_pack_nil(&c->pk);
        break;
    case JSON_TRUE:
        rc = msgpack_pack_true(&c->pk);
        break;
    case JSON_FALSE:
        rc = msgpack_pack_false(&c->pk);
        break;
    case JSON_INTEGER: {
        json_int_t v = json_integer_value(j);
        rc = v >= 0 ? msgpack_pack_uint64(&c->pk, (uint64_t)v) : msgpack_pack_int64(&c->pk, v);
        break;
    }
    case JSON_REAL:
        rc = msgpack_pack_double(&c->pk, json_real_value(j));
        break;
    case JSON_STRING:
        rc = msgpack_pack_str_with_body(&c->pk, json_string_value(j), json_string_length(j));
        break;
    case JSON_ARRAY: {
        if (depth >= NW_PROTO_MAX_DEPTH)
            return conv_fail(c, -EINVAL, "nesting deeper than %d", NW_PROTO_MAX_DEPTH);
        size_t n = json_array_size(j);
        if (n > NW_PROTO_MAX_ITEMS)
            return conv_fail(c, -EINVAL, "array of %zu elements exceeds the limit of %u", n,
                             NW_PROTO_MAX_ITEMS);
        if (msgpack_pack_array(&c->pk, n) < 0)
            return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
            rc = pack_json(c, json_array_get(j, i), depth + 1);
            if (rc < 0)
                return rc;
        }
        return 0;
    }
    case JSON_OBJECT: {
        rc = pack_special(c, j);
        if (rc != 0)
            return rc < 0 ? rc : 0;
        if (depth >= NW_PROTO_MAX_DEPTH)
            return conv_fail(c, -EINVAL, "nesting deeper than %d", NW_PROTO_MAX_DEPTH);
        size_t n = json_object_size(j);
        if (n > NW_PROTO_MAX_ITEMS)
            return conv_fail(c, -EINVAL, "object of %zu members exceeds the limit of %u", n,
                             NW_PROTO_MAX_ITEMS);
        if (msgpack_pack_map(&c->pk, n) < 0)
            return -ENOMEM;
        /* jansson keeps insertion order, so key order survives a round trip. */
        const char *key;
        size_t klen;
        json_t *val;
        json_object_keylen_foreach(j, key, klen, val)
        {
            if (msgpack_pack_str_with_body(&c->pk, key, klen) < 0)
                return -ENOMEM;
            rc = pack_json(c, val, depth + 1);
            if (rc < 0)
                return rc;
        }
        return 0;
    }
    }
    return rc < 0 ? -ENOMEM : 0;
}

int
nw_json_to_msgpack(const char *json, size_t len, nw_buf_t *out, char *err, size_t errlen)
{
    struct conv c = {.err = err, .errlen = errlen};
    json_error_t je;
    size_t start = out->len;
    int rc;

    if (err && errlen)
        err[0] = 0;
    /* Without JSON_ALLOW_NUL jansson rejects "\u0000", which no wire string may hold. */
    json_t *j = json_loadb(json, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
    if (j == NULL) {
        rc = conv_fail(&c, -EINVAL, "invalid JSON at line %d column %d: %s", je.line, je.column,
                       je.text);
        goto out;
    }
    nw_mp_packer_init(&c.pk, out);
    rc = pack_json(&c, j, 0);
    if (rc == 0 && out->len - start > NW_PROTO_MAX_MSG)
        rc = conv_fail(&c, -EINVAL, "message of %zu bytes exceeds the limit of %u",
                       out->len - start, NW_PROTO_MAX_MSG);
out:
    if (rc < 0 && out->data) {
        out->len = start;
        out->data[start] = 0;
    }
    json_decref(j);
    return rc;
}
