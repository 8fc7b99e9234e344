/* codec.c: encode, decode and release for every message in proto.h (raw, article, enriched,
 * ack, dead), driven by one declarative field table per message. The tables are the contract:
 * key, type, required, where it lives in the struct. Encoding, decoding, release and the
 * proto/<type>.md documents all follow them, so adding a field is one line here plus one row
 * in the document. Outside bytes come in only through nw_mp_unpack() (unpack.c), which bounds
 * them before msgpack-c builds a tree. */
#include "newswire/proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "codec_internal.h"
#include "newswire/util.h"

enum kind {
    K_STR,   /* char *, str, valid UTF-8 without NUL */
    K_BIN,   /* uint8_t * + size_t length; bin on encode, bin or str on decode */
    K_U32,   /* uint32_t, positive int */
    K_U64,   /* uint64_t, positive int */
    K_BOOL,  /* bool */
    K_STRS,  /* char ** + size_t count, array of str */
    K_KVS,   /* nw_kv_t * + size_t count, map str -> str */
    K_MAPS,  /* T * + size_t count, array of maps of the field's sub-schema (elem = sizeof T) */
    K_F64,   /* double, float64; 0.0 is omitted like a zero integer */
    K_SPANS, /* uint32_t * + size_t count of pairs, array of [start, end] arrays */
};

struct field {
    const char *key;
    enum kind kind;
    bool required;
    size_t off;               /* offset of the value in the struct */
    size_t n_off;             /* offset of the size_t length or count (K_BIN, K_STRS, K_KVS, K_MAPS,
                                 K_SPANS) */
    const struct schema *sub; /* K_MAPS: the schema of each element */
    size_t elem;              /* K_MAPS: sizeof one element */
};

#define NO_V SIZE_MAX

struct schema {
    const char *name;
    size_t size;      /* sizeof the struct, so release can zero it */
    size_t v_off;     /* offset of uint32_t v, or NO_V for nested maps without a version */
    size_t extra_off; /* offset of nw_extra_t */
    const struct field *part[2];
    size_t n_part[2];
};

#define F(T, k, kind, req, m)                                                                      \
    {                                                                                              \
        k, kind, req, offsetof(T, m), 0, NULL, 0                                                   \
    }
#define FN(T, k, kind, req, m, n)                                                                  \
    {                                                                                              \
        k, kind, req, offsetof(T, m), offsetof(T, n), NULL, 0                                      \
    }
/* An array of nested maps: elements of type E described by schema S. */
#define FM(T, k, req, m, n, S, E)                                                                  \
    {                                                                                              \
        k, K_MAPS, req, offsetof(T, m), offsetof(T, n), &S, sizeof(E)                              \
    }
#define REQ true
#define OPT false
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define AT(base, off, T) ((T *)((char *)(base) + (off)))
#define CAT(base, off, T) ((T const *)((const char *)(base) + (off)))

static const struct schema caption_schema, entity_schema, quote_schema, scored_schema,
    amount_schema, datemention_schema;

static const struct field raw_fields[] = {
    F(nw_raw_t, "id", K_STR, REQ, id),
    F(nw_raw_t, "source", K_STR, REQ, source),
    F(nw_raw_t, "url", K_STR, OPT, url),
    F(nw_raw_t, "fetched", K_STR, REQ, fetched),
    F(nw_raw_t, "av", K_U64, OPT, av),
    F(nw_raw_t, "content_type", K_STR, REQ, content_type),
    F(nw_raw_t, "charset", K_STR, OPT, charset),
    FN(nw_raw_t, "body", K_BIN, REQ, body, body_len),
    FN(nw_raw_t, "headers", K_KVS, OPT, headers, n_headers),
    F(nw_raw_t, "origin", K_STR, OPT, origin),
    F(nw_raw_t, "spool", K_U64, OPT, spool),
    F(nw_raw_t, "name", K_STR, OPT, name),
};

static const struct field caption_fields[] = {
    F(nw_caption_t, "text", K_STR, REQ, text),
    F(nw_caption_t, "credit", K_STR, OPT, credit),
    F(nw_caption_t, "photographer", K_STR, OPT, photographer),
    F(nw_caption_t, "agency", K_STR, OPT, agency),
    F(nw_caption_t, "pool", K_BOOL, OPT, pool),
    F(nw_caption_t, "lang", K_STR, OPT, lang),
};

static const struct field article_fields[] = {
    F(nw_article_t, "id", K_STR, REQ, id),
    F(nw_article_t, "url", K_STR, OPT, url),
    F(nw_article_t, "source", K_STR, OPT, source),
    F(nw_article_t, "fetched", K_STR, OPT, fetched),
    F(nw_article_t, "av", K_U64, OPT, av),
    F(nw_article_t, "title", K_STR, OPT, title),
    F(nw_article_t, "subtitle", K_STR, OPT, subtitle),
    FN(nw_article_t, "authors", K_STRS, OPT, authors, n_authors),
    F(nw_article_t, "published", K_STR, OPT, published),
    F(nw_article_t, "modified", K_STR, OPT, modified),
    F(nw_article_t, "dateline", K_STR, OPT, dateline),
    F(nw_article_t, "lang", K_STR, OPT, lang),
    F(nw_article_t, "site_name", K_STR, OPT, site_name),
    F(nw_article_t, "section", K_STR, OPT, section),
    FN(nw_article_t, "tags", K_STRS, OPT, tags, n_tags),
    F(nw_article_t, "image", K_STR, OPT, image),
    F(nw_article_t, "text", K_STR, REQ, text),
    FM(nw_article_t, "captions", OPT, captions, n_captions, caption_schema, nw_caption_t),
    F(nw_article_t, "content_type", K_STR, OPT, content_type),
    F(nw_article_t, "origin", K_STR, OPT, origin),
    F(nw_article_t, "spool", K_U64, OPT, spool),
};

/* The enriched map is the article's keys followed by these; the article table applies to
 * nw_enriched_t unchanged because art is its first member (asserted below). */
static const struct field enriched_fields[] = {
    F(nw_enriched_t, "words", K_U32, OPT, words),
    F(nw_enriched_t, "reading_s", K_U32, OPT, reading_s),
    FN(nw_enriched_t, "topics", K_STRS, OPT, topics, n_topics),
    F(nw_enriched_t, "seq", K_U64, OPT, seq),
    F(nw_enriched_t, "rev", K_U32, OPT, rev),
    FN(nw_enriched_t, "para_langs", K_STRS, OPT, para_langs, n_para_langs),
    FM(nw_enriched_t, "entities", OPT, entities, n_entities, entity_schema, nw_entity_t),
    FM(nw_enriched_t, "quotes", OPT, quotes, n_quotes, quote_schema, nw_quote_t),
    FM(nw_enriched_t, "keywords", OPT, keywords, n_keywords, scored_schema, nw_scored_t),
    FM(nw_enriched_t, "themes", OPT, themes, n_themes, scored_schema, nw_scored_t),
    F(nw_enriched_t, "tone_pos", K_F64, OPT, tone_pos),
    F(nw_enriched_t, "tone_neg", K_F64, OPT, tone_neg),
    F(nw_enriched_t, "polarity", K_F64, OPT, polarity),
    FM(nw_enriched_t, "amounts", OPT, amounts, n_amounts, amount_schema, nw_amount_t),
    FM(nw_enriched_t, "dates", OPT, dates, n_dates, datemention_schema, nw_datemention_t),
    F(nw_enriched_t, "simhash", K_U64, OPT, simhash),
    FN(nw_enriched_t, "minhash", K_BIN, OPT, minhash, minhash_len),
    FN(nw_enriched_t, "terms", K_BIN, OPT, terms, terms_len),
    FN(nw_enriched_t, "grams", K_BIN, OPT, grams, grams_len),
    FN(nw_enriched_t, "anchors", K_BIN, OPT, anchors, anchors_len),
};

static const struct field entity_fields[] = {
    F(nw_entity_t, "type", K_STR, REQ, type),
    F(nw_entity_t, "name", K_STR, REQ, name),
    FN(nw_entity_t, "mentions", K_SPANS, OPT, mentions, n_mentions),
    FN(nw_entity_t, "mentions_cp", K_SPANS, OPT, mentions_cp, n_mentions_cp),
    F(nw_entity_t, "salience", K_F64, OPT, salience),
    F(nw_entity_t, "cc", K_STR, OPT, cc),
    F(nw_entity_t, "admin1", K_STR, OPT, admin1),
    F(nw_entity_t, "lat", K_F64, OPT, lat),
    F(nw_entity_t, "lon", K_F64, OPT, lon),
    F(nw_entity_t, "geoid", K_STR, OPT, geoid),
    F(nw_entity_t, "focus", K_BOOL, OPT, focus),
};

static const struct field quote_fields[] = {
    F(nw_quote_t, "text", K_STR, REQ, text),   F(nw_quote_t, "speaker", K_STR, OPT, speaker),
    F(nw_quote_t, "verb", K_STR, OPT, verb),   F(nw_quote_t, "kind", K_STR, OPT, kind),
    F(nw_quote_t, "start", K_U32, OPT, start), F(nw_quote_t, "end", K_U32, OPT, end),
};

static const struct field scored_fields[] = {
    F(nw_scored_t, "id", K_STR, REQ, id),
    F(nw_scored_t, "score", K_F64, OPT, score),
};

static const struct field amount_fields[] = {
    F(nw_amount_t, "text", K_STR, REQ, text),
    F(nw_amount_t, "value", K_F64, OPT, value),
    F(nw_amount_t, "unit", K_STR, OPT, unit),
    F(nw_amount_t, "start", K_U32, OPT, start),
};

static const struct field datemention_fields[] = {
    F(nw_datemention_t, "text", K_STR, REQ, text),
    F(nw_datemention_t, "date", K_STR, REQ, date),
    F(nw_datemention_t, "start", K_U32, OPT, start),
};
_Static_assert(offsetof(nw_enriched_t, art) == 0, "enriched reuses the article table");

static const struct field ack_fields[] = {
    F(nw_ack_t, "id", K_STR, REQ, id),       F(nw_ack_t, "origin", K_STR, OPT, origin),
    F(nw_ack_t, "spool", K_U64, OPT, spool), F(nw_ack_t, "status", K_STR, REQ, status),
    F(nw_ack_t, "rev", K_U32, OPT, rev),     F(nw_ack_t, "seq", K_U64, OPT, seq),
};

static const struct field dead_fields[] = {
    F(nw_dead_t, "id", K_STR, OPT, id),
    F(nw_dead_t, "stage", K_STR, REQ, stage),
    F(nw_dead_t, "reason", K_STR, REQ, reason),
    F(nw_dead_t, "detail", K_STR, OPT, detail),
    F(nw_dead_t, "time", K_STR, REQ, time),
    FN(nw_dead_t, "bytes", K_BIN, REQ, bytes, bytes_len),
    F(nw_dead_t, "content_type", K_STR, OPT, content_type),
    F(nw_dead_t, "source", K_STR, OPT, source),
    F(nw_dead_t, "origin", K_STR, OPT, origin),
    F(nw_dead_t, "spool", K_U64, OPT, spool),
};

static const struct schema raw_schema = {
    "raw",
    sizeof(nw_raw_t),
    offsetof(nw_raw_t, v),
    offsetof(nw_raw_t, extra),
    {raw_fields, NULL},
    {N_OF(raw_fields), 0},
};
static const struct schema caption_schema = {
    "caption",
    sizeof(nw_caption_t),
    NO_V,
    offsetof(nw_caption_t, extra),
    {caption_fields, NULL},
    {N_OF(caption_fields), 0},
};
#define NESTED(name, T, fields)                                                                    \
    {                                                                                              \
        name, sizeof(T), NO_V, offsetof(T, extra), {fields, NULL}, {N_OF(fields), 0},              \
    }
static const struct schema entity_schema = NESTED("entity", nw_entity_t, entity_fields);
static const struct schema quote_schema = NESTED("quote", nw_quote_t, quote_fields);
static const struct schema scored_schema = NESTED("scored", nw_scored_t, scored_fields);
static const struct schema amount_schema = NESTED("amount", nw_amount_t, amount_fields);
static const struct schema datemention_schema =
    NESTED("date", nw_datemention_t, datemention_fields);
static const struct schema article_schema = {
    "article",
    sizeof(nw_article_t),
    offsetof(nw_article_t, v),
    offsetof(nw_article_t, extra),
    {article_fields, NULL},
    {N_OF(article_fields), 0},
};
static const struct schema enriched_schema = {
    "enriched",
    sizeof(nw_enriched_t),
    offsetof(nw_article_t, v),
    offsetof(nw_article_t, extra),
    {article_fields, enriched_fields},
    {N_OF(article_fields), N_OF(enriched_fields)},
};
static const struct schema ack_schema = {
    "ack",
    sizeof(nw_ack_t),
    offsetof(nw_ack_t, v),
    offsetof(nw_ack_t, extra),
    {ack_fields, NULL},
    {N_OF(ack_fields), 0},
};
static const struct schema dead_schema = {
    "dead",
    sizeof(nw_dead_t),
    offsetof(nw_dead_t, v),
    offsetof(nw_dead_t, extra),
    {dead_fields, NULL},
    {N_OF(dead_fields), 0},
};

/* ---- lookup ---------------------------------------------------------------------------- */

static bool
key_is(const char *key, const char *p, size_t n)
{
    return strlen(key) == n && memcmp(key, p, n) == 0;
}

/* The field named p[0..n) in s, or NULL. Tables are short (at most 20 keys): a scan is fine. */
static const struct field *
find_field(const struct schema *s, const char *p, size_t n, unsigned *idx)
{
    unsigned i = 0;
    for (int part = 0; part < 2; part++) {
        for (size_t j = 0; j < s->n_part[part]; j++, i++) {
            if (key_is(s->part[part][j].key, p, n)) {
                *idx = i;
                return &s->part[part][j];
            }
        }
    }
    return NULL;
}

static bool
is_known_key(const struct schema *s, const char *p, size_t n)
{
    unsigned idx;
    return (s->v_off != NO_V && key_is("v", p, n)) || find_field(s, p, n, &idx) != NULL;
}

/* ---- release --------------------------------------------------------------------------- */

static void release_struct(const struct schema *s, void *m);

static void
release_field(const struct field *f, void *m)
{
    size_t *n = AT(m, f->n_off, size_t);
    switch (f->kind) {
    case K_STR:
    case K_BIN:
        free(*AT(m, f->off, void *));
        break;
    case K_STRS: {
        char **v = *AT(m, f->off, char **);
        for (size_t i = 0; v && i < *n; i++)
            free(v[i]);
        free(v);
        break;
    }
    case K_KVS: {
        nw_kv_t *v = *AT(m, f->off, nw_kv_t *);
        for (size_t i = 0; v && i < *n; i++) {
            free(v[i].key);
            free(v[i].val);
        }
        free(v);
        break;
    }
    case K_MAPS: {
        char *v = *AT(m, f->off, char *);
        for (size_t i = 0; v && i < *n; i++)
            release_struct(f->sub, v + i * f->elem);
        free(v);
        break;
    }
    case K_SPANS:
        free(*AT(m, f->off, uint32_t *));
        break;
    case K_U32:
    case K_U64:
    case K_BOOL:
    case K_F64:
        break;
    }
}

static void
release_struct(const struct schema *s, void *m)
{
    if (m == NULL)
        return;
    for (int part = 0; part < 2; part++)
        for (size_t j = 0; j < s->n_part[part]; j++)
            release_field(&s->part[part][j], m);
    nw_extra_release(AT(m, s->extra_off, nw_extra_t));
    memset(m, 0, s->size);
}

void
nw_extra_release(nw_extra_t *x)
{
    if (x == NULL)
        return;
    free(x->buf);
    memset(x, 0, sizeof(*x));
}

int
nw_extra_copy(nw_extra_t *dst, const nw_extra_t *src)
{
    nw_extra_release(dst);
    if (src == NULL || src->n == 0 || src->len == 0)
        return 0;
    dst->buf = malloc(src->len);
    if (dst->buf == NULL)
        return -ENOMEM;
    memcpy(dst->buf, src->buf, src->len);
    dst->len = src->len;
    dst->n = src->n;
    return 0;
}

/* ---- encode ---------------------------------------------------------------------------- */

static bool
str_ok(const char *p)
{
    return nw_utf8_valid((const uint8_t *)p, strlen(p));
}

static int count_struct(const struct schema *s, const void *m, uint32_t *n);

/* Validate one field for encoding; *present says whether it will be emitted. */
static int
check_field(const struct field *f, const void *m, bool *present)
{
    size_t n = f->n_off ? *CAT(m, f->n_off, size_t) : 0;
    *present = false;
    switch (f->kind) {
    case K_STR: {
        const char *v = *CAT(m, f->off, char *);
        if (v == NULL)
            return f->required ? -EINVAL : 0;
        if (!str_ok(v))
            return -EINVAL;
        break;
    }
    case K_BIN:
        if (*CAT(m, f->off, uint8_t *) == NULL && n > 0)
            return -EINVAL;
        if (!f->required && n == 0)
            return 0;
        if (n > UINT32_MAX)
            return -EMSGSIZE;
        break;
    case K_U32:
        if (*CAT(m, f->off, uint32_t) == 0)
            return 0;
        break;
    case K_U64:
        if (*CAT(m, f->off, uint64_t) == 0)
            return 0;
        break;
    case K_BOOL:
        if (!*CAT(m, f->off, bool))
            return 0;
        break;
    case K_STRS: {
        char *const *v = *CAT(m, f->off, char **);
        if (n == 0)
            return 0;
        if (v == NULL || n > NW_PROTO_MAX_ITEMS)
            return -EINVAL;
        for (size_t i = 0; i < n; i++)
            if (v[i] == NULL || !str_ok(v[i]))
                return -EINVAL;
        break;
    }
    case K_KVS: {
        const nw_kv_t *v = *CAT(m, f->off, nw_kv_t *);
        if (n == 0)
            return 0;
        if (v == NULL || n > NW_PROTO_MAX_ITEMS)
            return -EINVAL;
        for (size_t i = 0; i < n; i++)
            if (v[i].key == NULL || v[i].val == NULL || !str_ok(v[i].key) || !str_ok(v[i].val))
                return -EINVAL;
        break;
    }
    case K_MAPS: {
        const char *v = *CAT(m, f->off, char *);
        if (n == 0)
            return 0;
        if (v == NULL || n > NW_PROTO_MAX_ITEMS)
            return -EINVAL;
        for (size_t i = 0; i < n; i++) {
            uint32_t unused;
            int rc = count_struct(f->sub, v + i * f->elem, &unused);
            if (rc < 0)
                return rc;
        }
        break;
    }
    case K_F64: {
        double d = *CAT(m, f->off, double);
        if (d == 0.0)
            return 0;
        if (d != d || d > 1e308 || d < -1e308)
            return -EINVAL; /* NaN and infinities have no JSON form */
        break;
    }
    case K_SPANS:
        if (n == 0)
            return 0;
        if (*CAT(m, f->off, uint32_t *) == NULL || n > NW_PROTO_MAX_ITEMS)
            return -EINVAL;
        break;
    }
    *present = true;
    return 0;
}

/* Walk the extra entries: check they are x->n well-formed key/value pairs with str keys, count
 * those whose key is not a known key of s, and when pk is set emit them. The buffer normally
 * comes from our own decoder, but callers may build one, so it is walked with bounds. */
static int
walk_extra(const struct schema *s, const nw_extra_t *x, msgpack_packer *pk, uint32_t *kept)
{
    msgpack_unpacked u;
    size_t off = 0;
    int rc = 0;

    *kept = 0;
    if (x->n == 0)
        return 0;
    if (x->buf == NULL || x->len == 0 || x->len > NW_PROTO_MAX_MSG)
        return -EINVAL;
    msgpack_unpacked_init(&u);
    for (uint32_t i = 0; i < x->n; i++) {
        size_t start = off, klen, vlen;
        if (nw_mp_skip(x->buf + off, x->len - off, &klen) < 0 ||
            nw_mp_skip(x->buf + off + klen, x->len - off - klen, &vlen) < 0) {
            rc = -EINVAL;
            goto out;
        }
        off += klen + vlen;
        /* The key's extent is proven, so msgpack-c may unpack exactly that much. */
        size_t used = 0;
        msgpack_unpack_return r =
            msgpack_unpack_next(&u, (const char *)x->buf + start, klen, &used);
        if (r != MSGPACK_UNPACK_SUCCESS || u.data.type != MSGPACK_OBJECT_STR ||
            !nw_utf8_valid((const uint8_t *)u.data.via.str.ptr, u.data.via.str.size)) {
            rc = r == MSGPACK_UNPACK_NOMEM_ERROR ? -ENOMEM : -EINVAL;
            goto out;
        }
        if (is_known_key(s, u.data.via.str.ptr, u.data.via.str.size))
            continue; /* the struct's field wins over a stale pass-through copy */
        (*kept)++;
        if (pk && pk->callback(pk->data, (const char *)x->buf + start, off - start) < 0) {
            rc = -ENOMEM;
            goto out;
        }
    }
    if (off != x->len)
        rc = -EINVAL;
out:
    msgpack_unpacked_destroy(&u);
    return rc;
}

/* Validate m for encoding and count the map entries it will produce. */
static int
count_struct(const struct schema *s, const void *m, uint32_t *n)
{
    uint32_t count = s->v_off != NO_V ? 1 : 0;
    for (int part = 0; part < 2; part++) {
        for (size_t j = 0; j < s->n_part[part]; j++) {
            bool present;
            int rc = check_field(&s->part[part][j], m, &present);
            if (rc < 0)
                return rc;
            count += present;
        }
    }
    uint32_t kept;
    int rc = walk_extra(s, CAT(m, s->extra_off, nw_extra_t), NULL, &kept);
    if (rc < 0)
        return rc;
    if ((uint64_t)count + kept > NW_PROTO_MAX_ITEMS)
        return -EINVAL;
    *n = count + kept;
    return 0;
}

static int pack_struct(const struct schema *s, const void *m, msgpack_packer *pk);

static int
pack_key(msgpack_packer *pk, const char *key)
{
    return msgpack_pack_str_with_body(pk, key, strlen(key));
}

static int
pack_cstr(msgpack_packer *pk, const char *v)
{
    return msgpack_pack_str_with_body(pk, v, strlen(v));
}

static int
pack_field(const struct field *f, const void *m, msgpack_packer *pk)
{
    size_t n = f->n_off ? *CAT(m, f->n_off, size_t) : 0;
    int rc = pack_key(pk, f->key);
    switch (f->kind) {
    case K_STR:
        rc |= pack_cstr(pk, *CAT(m, f->off, char *));
        break;
    case K_BIN:
        rc |= msgpack_pack_bin_with_body(pk, *CAT(m, f->off, uint8_t *), n);
        break;
    case K_U32:
        rc |= msgpack_pack_uint32(pk, *CAT(m, f->off, uint32_t));
        break;
    case K_U64:
        rc |= msgpack_pack_uint64(pk, *CAT(m, f->off, uint64_t));
        break;
    case K_BOOL:
        rc |= msgpack_pack_true(pk);
        break;
    case K_STRS: {
        char *const *v = *CAT(m, f->off, char **);
        rc |= msgpack_pack_array(pk, n);
        for (size_t i = 0; i < n && rc == 0; i++)
            rc |= pack_cstr(pk, v[i]);
        break;
    }
    case K_KVS: {
        const nw_kv_t *v = *CAT(m, f->off, nw_kv_t *);
        rc |= msgpack_pack_map(pk, n);
        for (size_t i = 0; i < n && rc == 0; i++)
            rc |= pack_cstr(pk, v[i].key) | pack_cstr(pk, v[i].val);
        break;
    }
    case K_MAPS: {
        const char *v = *CAT(m, f->off, char *);
        rc |= msgpack_pack_array(pk, n);
        for (size_t i = 0; i < n && rc == 0; i++)
            rc |= pack_struct(f->sub, v + i * f->elem, pk);
        break;
    }
    case K_F64:
        rc |= msgpack_pack_double(pk, *CAT(m, f->off, double));
        break;
    case K_SPANS: {
        const uint32_t *v = *CAT(m, f->off, uint32_t *);
        rc |= msgpack_pack_array(pk, n);
        for (size_t i = 0; i < n && rc == 0; i++)
            rc |= msgpack_pack_array(pk, 2) | msgpack_pack_uint32(pk, v[2 * i]) |
                  msgpack_pack_uint32(pk, v[2 * i + 1]);
        break;
    }
    }
    return rc ? -ENOMEM : 0;
}

static int
pack_struct(const struct schema *s, const void *m, msgpack_packer *pk)
{
    uint32_t n;
    int rc = count_struct(s, m, &n);
    if (rc < 0)
        return rc;
    if (msgpack_pack_map(pk, n) < 0)
        return -ENOMEM;
    if (s->v_off != NO_V) {
        uint32_t v = *CAT(m, s->v_off, uint32_t);
        if (pack_key(pk, "v") < 0 || msgpack_pack_uint32(pk, v ? v : NW_PROTO_VERSION) < 0)
            return -ENOMEM;
    }
    for (int part = 0; part < 2; part++) {
        for (size_t j = 0; j < s->n_part[part]; j++) {
            const struct field *f = &s->part[part][j];
            bool present;
            check_field(f, m, &present); /* already validated by count_struct */
            if (!present)
                continue;
            rc = pack_field(f, m, pk);
            if (rc < 0)
                return rc;
        }
    }
    uint32_t kept;
    return walk_extra(s, CAT(m, s->extra_off, nw_extra_t), pk, &kept);
}

static int
encode(const struct schema *s, const void *m, nw_buf_t *out)
{
    size_t start = out->len;
    msgpack_packer pk;
    nw_mp_packer_init(&pk, out);
    int rc = pack_struct(s, m, &pk);
    if (rc == 0 && out->len - start > NW_PROTO_MAX_MSG)
        rc = -EMSGSIZE;
    if (rc < 0 && out->data) {
        out->len = start;
        out->data[start] = 0;
    }
    return rc;
}

/* ---- decode ---------------------------------------------------------------------------- */

static int decode_struct(const struct schema *s, void *m, const msgpack_object *o);

static int
want(const struct field *f, const msgpack_object *o, const char *expected)
{
    return nw_proto_fail("key \"%s\": expected %s, got %s", f->key, expected,
                         nw_mp_type_name(o->type));
}

static int
dup_str(const struct field *f, const msgpack_object *o, char **dst)
{
    if (o->type != MSGPACK_OBJECT_STR)
        return want(f, o, "str");
    if (!nw_utf8_valid((const uint8_t *)o->via.str.ptr, o->via.str.size))
        return nw_proto_fail("key \"%s\": invalid UTF-8 or NUL in str", f->key);
    *dst = nw_strndup(o->via.str.ptr, o->via.str.size);
    return *dst ? 0 : -ENOMEM;
}

static int
decode_field(const struct field *f, void *m, const msgpack_object *o)
{
    size_t *n = AT(m, f->n_off, size_t);
    int rc;

    switch (f->kind) {
    case K_STR:
        return dup_str(f, o, AT(m, f->off, char *));
    case K_BIN: {
        /* str is accepted for writers without a bin type; the bytes are never interpreted. */
        const char *p;
        size_t len;
        if (o->type == MSGPACK_OBJECT_BIN) {
            p = o->via.bin.ptr;
            len = o->via.bin.size;
        } else if (o->type == MSGPACK_OBJECT_STR) {
            p = o->via.str.ptr;
            len = o->via.str.size;
        } else {
            return want(f, o, "bin or str");
        }
        uint8_t *b = malloc(len + 1); /* +1: never NULL for an empty body, and NUL-ended */
        if (b == NULL)
            return -ENOMEM;
        if (len)
            memcpy(b, p, len);
        b[len] = 0;
        *AT(m, f->off, uint8_t *) = b;
        *n = len;
        return 0;
    }
    case K_U32:
        if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 > UINT32_MAX)
            return want(f, o, "int 0..4294967295");
        *AT(m, f->off, uint32_t) = (uint32_t)o->via.u64;
        return 0;
    case K_U64:
        if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
            return want(f, o, "non-negative int");
        *AT(m, f->off, uint64_t) = o->via.u64;
        return 0;
    case K_BOOL:
        if (o->type != MSGPACK_OBJECT_BOOLEAN)
            return want(f, o, "bool");
        *AT(m, f->off, bool) = o->via.boolean;
        return 0;
    case K_STRS: {
        if (o->type != MSGPACK_OBJECT_ARRAY)
            return want(f, o, "array of str");
        uint32_t len = o->via.array.size;
        if (len == 0)
            return 0;
        char **v = calloc(len, sizeof(*v));
        if (v == NULL)
            return -ENOMEM;
        *AT(m, f->off, char **) = v;
        *n = len; /* set before filling so release frees what was built */
        for (uint32_t i = 0; i < len; i++) {
            rc = dup_str(f, &o->via.array.ptr[i], &v[i]);
            if (rc == -EPROTO)
                return nw_proto_prefix("item %u: ", i);
            if (rc < 0)
                return rc;
        }
        return 0;
    }
    case K_KVS: {
        if (o->type != MSGPACK_OBJECT_MAP)
            return want(f, o, "map of str to str");
        char what[48];
        snprintf(what, sizeof(what), "key \"%s\"", f->key);
        rc = nw_mp_check_keys(&o->via.map, what);
        if (rc < 0)
            return rc;
        uint32_t len = o->via.map.size;
        if (len == 0)
            return 0;
        nw_kv_t *v = calloc(len, sizeof(*v));
        if (v == NULL)
            return -ENOMEM;
        *AT(m, f->off, nw_kv_t *) = v;
        *n = len;
        for (uint32_t i = 0; i < len; i++) {
            const msgpack_object_kv *kv = &o->via.map.ptr[i];
            v[i].key = nw_strndup(kv->key.via.str.ptr, kv->key.via.str.size);
            if (v[i].key == NULL)
                return -ENOMEM;
            rc = dup_str(f, &kv->val, &v[i].val);
            if (rc == -EPROTO)
                return nw_proto_prefix(
                    "entry \"%.*s\": ", nw_mp_clip(v[i].key, kv->key.via.str.size, 64), v[i].key);
            if (rc < 0)
                return rc;
        }
        return 0;
    }
    case K_F64:
        if (o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64)
            *AT(m, f->off, double) = o->via.f64;
        else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            *AT(m, f->off, double) = (double)o->via.u64;
        else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
            *AT(m, f->off, double) = (double)o->via.i64;
        else
            return want(f, o, "float or int");
        return 0;
    case K_SPANS: {
        if (o->type != MSGPACK_OBJECT_ARRAY)
            return want(f, o, "array of [start, end]");
        uint32_t len = o->via.array.size;
        if (len == 0)
            return 0;
        uint32_t *v = calloc(len, 2 * sizeof(*v));
        if (v == NULL)
            return -ENOMEM;
        *AT(m, f->off, uint32_t *) = v;
        *n = len;
        for (uint32_t i = 0; i < len; i++) {
            const msgpack_object *p = &o->via.array.ptr[i];
            if (p->type != MSGPACK_OBJECT_ARRAY || p->via.array.size != 2)
                return nw_proto_fail("key \"%s\" item %u: expected [start, end]", f->key, i);
            for (int k = 0; k < 2; k++) {
                const msgpack_object *x = &p->via.array.ptr[k];
                if (x->type != MSGPACK_OBJECT_POSITIVE_INTEGER || x->via.u64 > UINT32_MAX)
                    return nw_proto_fail("key \"%s\" item %u: expected int 0..4294967295", f->key,
                                         i);
                v[2 * i + k] = (uint32_t)x->via.u64;
            }
        }
        return 0;
    }
    case K_MAPS: {
        if (o->type != MSGPACK_OBJECT_ARRAY)
            return want(f, o, "array of maps");
        uint32_t len = o->via.array.size;
        if (len == 0)
            return 0;
        char *v = calloc(len, f->elem);
        if (v == NULL)
            return -ENOMEM;
        *AT(m, f->off, char *) = v;
        *n = len;
        for (uint32_t i = 0; i < len; i++) {
            rc = decode_struct(f->sub, v + i * f->elem, &o->via.array.ptr[i]);
            if (rc == -EPROTO)
                return nw_proto_prefix("key \"%s\" item %u: ", f->key, i);
            if (rc < 0)
                return rc;
        }
        return 0;
    }
    }
    return nw_proto_fail("key \"%s\": internal error: unknown field kind", f->key);
}

static int
decode_v(void *m, const struct schema *s, const msgpack_object *o)
{
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 == 0 || o->via.u64 > UINT32_MAX)
        return nw_proto_fail("key \"v\": expected int 1..4294967295, got %s%s",
                             nw_mp_type_name(o->type),
                             o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? " out of range" : "");
    *AT(m, s->v_off, uint32_t) = (uint32_t)o->via.u64;
    return 0;
}

static int
decode_struct(const struct schema *s, void *m, const msgpack_object *o)
{
    nw_buf_t extra = {0};
    uint32_t n_extra = 0;
    uint64_t seen = 0;
    bool have_v = false;
    int rc;

    if (o->type != MSGPACK_OBJECT_MAP) {
        rc = nw_proto_fail("%s: expected map, got %s", s->name, nw_mp_type_name(o->type));
        goto out;
    }
    rc = nw_mp_check_keys(&o->via.map, s->name);
    if (rc < 0)
        goto out;
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[i];
        const char *k = kv->key.via.str.ptr;
        size_t klen = kv->key.via.str.size;
        unsigned idx;
        const struct field *f;

        if (s->v_off != NO_V && key_is("v", k, klen)) {
            rc = decode_v(m, s, &kv->val);
            if (rc < 0)
                goto out;
            have_v = true;
        } else if ((f = find_field(s, k, klen, &idx)) != NULL) {
            if (kv->val.type == MSGPACK_OBJECT_NIL && !f->required)
                continue; /* nil is how some writers say "absent" */
            rc = decode_field(f, m, &kv->val);
            if (rc < 0)
                goto out;
            seen |= UINT64_C(1) << idx;
        } else {
            rc = nw_mp_check_value(&kv->val);
            if (rc < 0) {
                rc = rc == -EPROTO ? nw_proto_prefix("key \"%.*s\": ", nw_mp_clip(k, klen, 64), k)
                                   : rc;
                goto out;
            }
            msgpack_packer pk;
            nw_mp_packer_init(&pk, &extra);
            if (msgpack_pack_object(&pk, kv->key) < 0 || msgpack_pack_object(&pk, kv->val) < 0) {
                rc = -ENOMEM;
                goto out;
            }
            n_extra++;
        }
    }
    if (s->v_off != NO_V && !have_v) {
        rc = nw_proto_fail("%s: missing required key \"v\"", s->name);
        goto out;
    }
    unsigned idx = 0;
    for (int part = 0; part < 2; part++) {
        for (size_t j = 0; j < s->n_part[part]; j++, idx++) {
            if (s->part[part][j].required && !(seen & (UINT64_C(1) << idx))) {
                rc =
                    nw_proto_fail("%s: missing required key \"%s\"", s->name, s->part[part][j].key);
                goto out;
            }
        }
    }
    if (n_extra) {
        nw_extra_t *x = AT(m, s->extra_off, nw_extra_t);
        x->buf = nw_buf_steal(&extra, &x->len);
        x->n = n_extra;
    }
    rc = 0;
out:
    nw_buf_release(&extra);
    return rc;
}

static int
decode(const struct schema *s, void *m, const uint8_t *buf, size_t len)
{
    msgpack_unpacked u;
    memset(m, 0, s->size);
    int rc = nw_mp_unpack(&u, buf, len);
    if (rc == 0)
        rc = decode_struct(s, m, &u.data);
    if (rc < 0)
        release_struct(s, m);
    msgpack_unpacked_destroy(&u);
    return rc;
}

/* ---- public ---------------------------------------------------------------------------- */

int
nw_raw_encode(const nw_raw_t *m, nw_buf_t *out)
{
    return encode(&raw_schema, m, out);
}

int
nw_article_encode(const nw_article_t *m, nw_buf_t *out)
{
    return encode(&article_schema, m, out);
}

int
nw_enriched_encode(const nw_enriched_t *m, nw_buf_t *out)
{
    return encode(&enriched_schema, m, out);
}

int
nw_ack_encode(const nw_ack_t *m, nw_buf_t *out)
{
    return encode(&ack_schema, m, out);
}

int
nw_dead_encode(const nw_dead_t *m, nw_buf_t *out)
{
    return encode(&dead_schema, m, out);
}

int
nw_raw_decode(nw_raw_t *m, const uint8_t *buf, size_t len)
{
    return decode(&raw_schema, m, buf, len);
}

int
nw_article_decode(nw_article_t *m, const uint8_t *buf, size_t len)
{
    return decode(&article_schema, m, buf, len);
}

int
nw_enriched_decode(nw_enriched_t *m, const uint8_t *buf, size_t len)
{
    return decode(&enriched_schema, m, buf, len);
}

int
nw_ack_decode(nw_ack_t *m, const uint8_t *buf, size_t len)
{
    return decode(&ack_schema, m, buf, len);
}

int
nw_dead_decode(nw_dead_t *m, const uint8_t *buf, size_t len)
{
    return decode(&dead_schema, m, buf, len);
}

void
nw_raw_release(nw_raw_t *m)
{
    release_struct(&raw_schema, m);
}

void
nw_article_release(nw_article_t *m)
{
    release_struct(&article_schema, m);
}

void
nw_enriched_release(nw_enriched_t *m)
{
    release_struct(&enriched_schema, m);
}

void
nw_ack_release(nw_ack_t *m)
{
    release_struct(&ack_schema, m);
}

void
nw_dead_release(nw_dead_t *m)
{
    release_struct(&dead_schema, m);
}
