/* unpack.c: the safety layer under every decoder in newswire. Outside bytes reach msgpack-c only
 * after a bounded structural walk (nw_proto_check) has proven that they are exactly one object
 * whose lengths and counts fit in what was received. The walk matters because msgpack-c's
 * unpacker allocates count * sizeof(msgpack_object) for an array or map header before it reads
 * a single element: five bytes claiming 2^32 elements would otherwise cost 100 GB.
 * Also here: the thread-local error reason behind nw_proto_error(), key checks, and a packer
 * that writes into nw_buf_t. */
#include "codec_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswire/util.h"

static _Thread_local char proto_err[320] = "no error";

const char *
nw_proto_error(void)
{
    return proto_err;
}

int
nw_proto_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(proto_err, sizeof(proto_err), fmt, ap);
    va_end(ap);
    return -EPROTO;
}

int
nw_proto_prefix(const char *fmt, ...)
{
    char prefix[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    size_t plen = strlen(prefix);
    size_t olen = strlen(proto_err);
    if (plen + olen >= sizeof(proto_err))
        olen = sizeof(proto_err) - 1 - plen;
    memmove(proto_err + plen, proto_err, olen);
    memcpy(proto_err, prefix, plen);
    proto_err[plen + olen] = 0;
    return -EPROTO;
}

static uint64_t
read_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* One object's header: how many bytes of payload follow it (str, bin, ext, numbers) or how
 * many child objects it declares (arrays, maps; a map declares 2 per entry). */
struct head {
    size_t lenbytes;  /* size of the big-endian length/count field after the type byte */
    size_t fixed;     /* payload bytes known from the type byte alone */
    uint32_t count;   /* container count when known from the type byte */
    int container;    /* 0 scalar, 1 array, 2 map */
    bool var_payload; /* payload length comes from the length field */
    size_t extra;     /* bytes beyond the length field's value (the ext type byte) */
};

static int
classify(uint8_t b, struct head *h, size_t at)
{
    memset(h, 0, sizeof(*h));
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
        return 0;
    if (b <= 0x8f) {
        h->container = 2;
        h->count = b & 0x0f;
        return 0;
    }
    if (b <= 0x9f) {
        h->container = 1;
        h->count = b & 0x0f;
        return 0;
    }
    if (b <= 0xbf) {
        h->fixed = b & 0x1f;
        return 0;
    }
    switch (b) {
    case 0xc4: /* bin 8/16/32 */
    case 0xd9: /* str 8/16/32 */
        h->lenbytes = 1;
        h->var_payload = true;
        return 0;
    case 0xc5:
    case 0xda:
        h->lenbytes = 2;
        h->var_payload = true;
        return 0;
    case 0xc6:
    case 0xdb:
        h->lenbytes = 4;
        h->var_payload = true;
        return 0;
    case 0xc7: /* ext 8/16/32: length, then a type byte, then the data */
    case 0xc8:
    case 0xc9:
        h->lenbytes = (size_t)1 << (b - 0xc7);
        h->var_payload = true;
        h->extra = 1;
        return 0;
    case 0xca:
        h->fixed = 4;
        return 0;
    case 0xcb:
        h->fixed = 8;
        return 0;
    case 0xcc: /* uint 8/16/32/64 */
    case 0xcd:
    case 0xce:
    case 0xcf:
        h->fixed = (size_t)1 << (b - 0xcc);
        return 0;
    case 0xd0: /* int 8/16/32/64 */
    case 0xd1:
    case 0xd2:
    case 0xd3:
        h->fixed = (size_t)1 << (b - 0xd0);
        return 0;
    case 0xd4: /* fixext 1/2/4/8/16: a type byte, then the data */
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8:
        h->fixed = 1 + ((size_t)1 << (b - 0xd4));
        return 0;
    case 0xdc:
    case 0xde:
        h->container = b == 0xdc ? 1 : 2;
        h->lenbytes = 2;
        return 0;
    case 0xdd:
    case 0xdf:
        h->container = b == 0xdd ? 1 : 2;
        h->lenbytes = 4;
        return 0;
    default:
        return nw_proto_fail("byte %zu: 0x%02x is not a MessagePack type", at, b);
    }
}

int
nw_mp_skip(const uint8_t *buf, size_t len, size_t *used)
{
    /* left[d] = objects still to read at nesting level d; level 0 holds the one top object. */
    uint64_t left[NW_PROTO_MAX_DEPTH + 1];
    int d = 0;
    size_t pos = 0;
    uint64_t nodes = 0;

    left[0] = 1;
    for (;;) {
        while (d >= 0 && left[d] == 0)
            d--;
        if (d < 0)
            break;
        left[d]--;
        if (pos >= len)
            return nw_proto_fail("truncated: input ends at byte %zu inside an object", pos);
        size_t at = pos;
        struct head h;
        int rc = classify(buf[pos++], &h, at);
        if (rc < 0)
            return rc;
        uint64_t n = h.count;
        if (h.lenbytes) {
            if (len - pos < h.lenbytes)
                return nw_proto_fail("truncated: length field at byte %zu", at);
            n = read_be(buf + pos, h.lenbytes);
            pos += h.lenbytes;
        }
        if (!h.container) {
            uint64_t payload = h.var_payload ? n + h.extra : h.fixed;
            if (payload > len - pos)
                return nw_proto_fail("truncated: object at byte %zu declares %llu bytes, %zu left",
                                     at, (unsigned long long)payload, len - pos);
            pos += (size_t)payload;
            continue;
        }
        if (n > NW_PROTO_MAX_ITEMS)
            return nw_proto_fail("%s at byte %zu declares %llu elements, limit is %u",
                                 h.container == 1 ? "array" : "map", at, (unsigned long long)n,
                                 NW_PROTO_MAX_ITEMS);
        uint64_t kids = h.container == 2 ? 2 * n : n;
        /* Every element takes at least one byte: a count beyond the bytes left is a lie. */
        if (kids > len - pos)
            return nw_proto_fail("truncated: %s at byte %zu declares %llu elements, %zu bytes left",
                                 h.container == 1 ? "array" : "map", at, (unsigned long long)n,
                                 len - pos);
        if (d + 1 > NW_PROTO_MAX_DEPTH)
            return nw_proto_fail("nesting deeper than %d at byte %zu", NW_PROTO_MAX_DEPTH, at);
        nodes += kids;
        if (nodes > NW_PROTO_MAX_NODES)
            return nw_proto_fail("more than %u elements in total", NW_PROTO_MAX_NODES);
        left[++d] = kids;
    }
    *used = pos;
    return 0;
}

int
nw_proto_check(const uint8_t *buf, size_t len)
{
    size_t used;
    if (len == 0)
        return nw_proto_fail("empty message");
    if (len > NW_PROTO_MAX_MSG)
        return nw_proto_fail("message of %zu bytes exceeds the limit of %u", len, NW_PROTO_MAX_MSG);
    int rc = nw_mp_skip(buf, len, &used);
    if (rc < 0)
        return rc;
    if (used != len)
        return nw_proto_fail("%zu trailing bytes after the message", len - used);
    return 0;
}

int
nw_mp_unpack(msgpack_unpacked *res, const uint8_t *buf, size_t len)
{
    msgpack_unpacked_init(res);
    int rc = nw_proto_check(buf, len);
    if (rc < 0)
        return rc;
    size_t off = 0;
    msgpack_unpack_return r = msgpack_unpack_next(res, (const char *)buf, len, &off);
    switch (r) {
    case MSGPACK_UNPACK_SUCCESS:
    case MSGPACK_UNPACK_EXTRA_BYTES:
        /* The pre-check already proved there is exactly one object; keep the check anyway so a
         * disagreement between it and msgpack-c fails closed. */
        if (off != len)
            return nw_proto_fail("%zu trailing bytes after the message", len - off);
        return 0;
    case MSGPACK_UNPACK_NOMEM_ERROR:
        return -ENOMEM;
    default:
        return nw_proto_fail("malformed MessagePack (msgpack-c error %d)", (int)r);
    }
}

const char *
nw_mp_type_name(msgpack_object_type t)
{
    switch (t) {
    case MSGPACK_OBJECT_NIL:
        return "nil";
    case MSGPACK_OBJECT_BOOLEAN:
        return "bool";
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        return "positive int";
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return "negative int";
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        return "float";
    case MSGPACK_OBJECT_STR:
        return "str";
    case MSGPACK_OBJECT_ARRAY:
        return "array";
    case MSGPACK_OBJECT_MAP:
        return "map";
    case MSGPACK_OBJECT_BIN:
        return "bin";
    case MSGPACK_OBJECT_EXT:
        return "ext";
    }
    return "unknown";
}

int
nw_mp_clip(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return (int)n;
    n = max;
    while (n > 0 && ((uint8_t)s[n] & 0xc0) == 0x80)
        n--;
    return (int)n;
}

static int
cmp_str(const void *a, const void *b)
{
    const msgpack_object_str *x = *(const msgpack_object_str *const *)a;
    const msgpack_object_str *y = *(const msgpack_object_str *const *)b;
    if (x->size != y->size)
        return x->size < y->size ? -1 : 1;
    return x->size ? memcmp(x->ptr, y->ptr, x->size) : 0;
}

int
nw_mp_check_keys(const msgpack_object_map *m, const char *what)
{
    const msgpack_object_str **keys = NULL;
    int rc = 0;

    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *k = &m->ptr[i].key;
        if (k->type != MSGPACK_OBJECT_STR)
            return nw_proto_fail("%s: key %u: expected str, got %s", what, i,
                                 nw_mp_type_name(k->type));
        if (!nw_utf8_valid((const uint8_t *)k->via.str.ptr, k->via.str.size))
            return nw_proto_fail("%s: key %u: invalid UTF-8 or NUL", what, i);
    }
    if (m->size < 2)
        return 0;
    keys = malloc(m->size * sizeof(*keys));
    if (keys == NULL)
        return -ENOMEM;
    for (uint32_t i = 0; i < m->size; i++)
        keys[i] = &m->ptr[i].key.via.str;
    qsort(keys, m->size, sizeof(*keys), cmp_str);
    for (uint32_t i = 1; i < m->size; i++) {
        if (cmp_str(&keys[i - 1], &keys[i]) == 0) {
            rc = nw_proto_fail("%s: duplicate key \"%.*s\"", what,
                               nw_mp_clip(keys[i]->ptr, keys[i]->size, 64), keys[i]->ptr);
            goto out;
        }
    }
out:
    free(keys);
    return rc;
}

int
nw_mp_check_value(const msgpack_object *o)
{
    int rc;
    switch (o->type) {
    case MSGPACK_OBJECT_STR:
        if (!nw_utf8_valid((const uint8_t *)o->via.str.ptr, o->via.str.size))
            return nw_proto_fail("invalid UTF-8 or NUL in str");
        return 0;
    case MSGPACK_OBJECT_ARRAY:
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            rc = nw_mp_check_value(&o->via.array.ptr[i]);
            if (rc < 0)
                return rc;
        }
        return 0;
    case MSGPACK_OBJECT_MAP:
        rc = nw_mp_check_keys(&o->via.map, "map");
        if (rc < 0)
            return rc;
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            rc = nw_mp_check_value(&o->via.map.ptr[i].val);
            if (rc < 0)
                return rc;
        }
        return 0;
    default:
        /* Recursion depth is bounded by NW_PROTO_MAX_DEPTH, checked before unpacking. */
        return 0;
    }
}

static int
buf_write(void *data, const char *p, size_t n)
{
    return nw_buf_append(data, p, n) == 0 ? 0 : -1;
}

void
nw_mp_packer_init(msgpack_packer *pk, nw_buf_t *out)
{
    msgpack_packer_init(pk, out, buf_write);
}
