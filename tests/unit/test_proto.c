/* test_proto.c: the message codec (proto/codec.c, proto/unpack.c). Round trips for every
 * message type, unknown-key pass-through, the golden fixtures in proto/golden/ (decoded and
 * re-encoded byte for byte), and the inputs a decoder must refuse.
 *
 * The golden files are written by this test when NW_WRITE_GOLDEN=1 is set (do that only when the
 * contract changes on purpose, then review and commit the new bytes). */
#include "newswire/proto.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>

#include "newswire/buf.h"
#include "newswire/util.h"

#define S(x) ((char *)(x))

/* ---- a tiny type table so every test can run over all five messages -------------------- */

struct type {
    const char *name;
    size_t size;
    int (*encode)(const void *m, nw_buf_t *out);
    int (*decode)(void *m, const uint8_t *buf, size_t len);
    void (*release)(void *m);
    void (*assert_eq)(const void *a, const void *b);
};

static void
assert_str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

static void
assert_strs_eq(char *const *a, size_t na, char *const *b, size_t nb)
{
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++)
        assert_str_eq(a[i], b[i]);
}

static void
assert_extra_eq(const nw_extra_t *a, const nw_extra_t *b)
{
    assert_int_equal(a->n, b->n);
    assert_int_equal(a->len, b->len);
    if (a->len)
        assert_memory_equal(a->buf, b->buf, a->len);
}

static void
raw_eq(const void *pa, const void *pb)
{
    const nw_raw_t *a = pa, *b = pb;
    assert_int_equal(a->v ? a->v : NW_PROTO_VERSION, b->v ? b->v : NW_PROTO_VERSION);
    assert_str_eq(a->id, b->id);
    assert_str_eq(a->source, b->source);
    assert_str_eq(a->url, b->url);
    assert_str_eq(a->fetched, b->fetched);
    assert_int_equal(a->av, b->av);
    assert_str_eq(a->content_type, b->content_type);
    assert_str_eq(a->charset, b->charset);
    assert_int_equal(a->body_len, b->body_len);
    if (a->body_len)
        assert_memory_equal(a->body, b->body, a->body_len);
    assert_int_equal(a->n_headers, b->n_headers);
    for (size_t i = 0; i < a->n_headers; i++) {
        assert_str_eq(a->headers[i].key, b->headers[i].key);
        assert_str_eq(a->headers[i].val, b->headers[i].val);
    }
    assert_str_eq(a->origin, b->origin);
    assert_int_equal(a->spool, b->spool);
    assert_str_eq(a->name, b->name);
    assert_extra_eq(&a->extra, &b->extra);
}

static void
article_eq(const void *pa, const void *pb)
{
    const nw_article_t *a = pa, *b = pb;
    assert_int_equal(a->v ? a->v : NW_PROTO_VERSION, b->v ? b->v : NW_PROTO_VERSION);
    assert_str_eq(a->id, b->id);
    assert_str_eq(a->url, b->url);
    assert_str_eq(a->source, b->source);
    assert_str_eq(a->fetched, b->fetched);
    assert_int_equal(a->av, b->av);
    assert_str_eq(a->title, b->title);
    assert_str_eq(a->subtitle, b->subtitle);
    assert_strs_eq(a->authors, a->n_authors, b->authors, b->n_authors);
    assert_str_eq(a->published, b->published);
    assert_str_eq(a->modified, b->modified);
    assert_str_eq(a->dateline, b->dateline);
    assert_str_eq(a->lang, b->lang);
    assert_str_eq(a->site_name, b->site_name);
    assert_str_eq(a->section, b->section);
    assert_strs_eq(a->tags, a->n_tags, b->tags, b->n_tags);
    assert_str_eq(a->image, b->image);
    assert_str_eq(a->text, b->text);
    assert_int_equal(a->n_captions, b->n_captions);
    for (size_t i = 0; i < a->n_captions; i++) {
        const nw_caption_t *x = &a->captions[i], *y = &b->captions[i];
        assert_str_eq(x->text, y->text);
        assert_str_eq(x->credit, y->credit);
        assert_str_eq(x->photographer, y->photographer);
        assert_str_eq(x->agency, y->agency);
        assert_int_equal(x->pool, y->pool);
        assert_str_eq(x->lang, y->lang);
        assert_extra_eq(&x->extra, &y->extra);
    }
    assert_str_eq(a->content_type, b->content_type);
    assert_str_eq(a->origin, b->origin);
    assert_int_equal(a->spool, b->spool);
    assert_extra_eq(&a->extra, &b->extra);
}

static void
enriched_eq(const void *pa, const void *pb)
{
    const nw_enriched_t *a = pa, *b = pb;
    article_eq(&a->art, &b->art);
    assert_int_equal(a->words, b->words);
    assert_int_equal(a->reading_s, b->reading_s);
    assert_strs_eq(a->topics, a->n_topics, b->topics, b->n_topics);
    assert_int_equal(a->seq, b->seq);
    assert_int_equal(a->rev, b->rev);
    assert_strs_eq(a->para_langs, a->n_para_langs, b->para_langs, b->n_para_langs);
    assert_int_equal(a->n_entities, b->n_entities);
    for (size_t i = 0; i < a->n_entities; i++) {
        const nw_entity_t *x = &a->entities[i], *y = &b->entities[i];
        assert_string_equal(x->type, y->type);
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->n_mentions, y->n_mentions);
        assert_memory_equal(x->mentions, y->mentions, 2 * x->n_mentions * sizeof(uint32_t));
        assert_true(x->salience == y->salience && x->lat == y->lat && x->lon == y->lon);
        assert_int_equal(x->focus, y->focus);
    }
    assert_int_equal(a->n_quotes, b->n_quotes);
    for (size_t i = 0; i < a->n_quotes; i++) {
        assert_string_equal(a->quotes[i].text, b->quotes[i].text);
        assert_int_equal(a->quotes[i].end, b->quotes[i].end);
    }
    assert_int_equal(a->n_keywords, b->n_keywords);
    assert_int_equal(a->n_themes, b->n_themes);
    assert_int_equal(a->n_amounts, b->n_amounts);
    assert_int_equal(a->n_dates, b->n_dates);
    assert_true(a->polarity == b->polarity && a->tone_neg == b->tone_neg);
    assert_true(a->simhash == b->simhash);
    assert_int_equal(a->minhash_len, b->minhash_len);
}

static void
ack_eq(const void *pa, const void *pb)
{
    const nw_ack_t *a = pa, *b = pb;
    assert_int_equal(a->v ? a->v : NW_PROTO_VERSION, b->v ? b->v : NW_PROTO_VERSION);
    assert_str_eq(a->id, b->id);
    assert_str_eq(a->origin, b->origin);
    assert_int_equal(a->spool, b->spool);
    assert_str_eq(a->status, b->status);
    assert_int_equal(a->rev, b->rev);
    assert_int_equal(a->seq, b->seq);
    assert_extra_eq(&a->extra, &b->extra);
}

static void
dead_eq(const void *pa, const void *pb)
{
    const nw_dead_t *a = pa, *b = pb;
    assert_int_equal(a->v ? a->v : NW_PROTO_VERSION, b->v ? b->v : NW_PROTO_VERSION);
    assert_str_eq(a->id, b->id);
    assert_str_eq(a->stage, b->stage);
    assert_str_eq(a->reason, b->reason);
    assert_str_eq(a->detail, b->detail);
    assert_str_eq(a->time, b->time);
    assert_int_equal(a->bytes_len, b->bytes_len);
    if (a->bytes_len)
        assert_memory_equal(a->bytes, b->bytes, a->bytes_len);
    assert_str_eq(a->content_type, b->content_type);
    assert_str_eq(a->source, b->source);
    assert_str_eq(a->origin, b->origin);
    assert_int_equal(a->spool, b->spool);
    assert_extra_eq(&a->extra, &b->extra);
}

#define WRAP(T, name)                                                                              \
    static int name##_enc(const void *m, nw_buf_t *out)                                            \
    {                                                                                              \
        return nw_##name##_encode((const T *)m, out);                                              \
    }                                                                                              \
    static int name##_dec(void *m, const uint8_t *buf, size_t len)                                 \
    {                                                                                              \
        return nw_##name##_decode((T *)m, buf, len);                                               \
    }                                                                                              \
    static void name##_rel(void *m)                                                                \
    {                                                                                              \
        nw_##name##_release((T *)m);                                                               \
    }

WRAP(nw_raw_t, raw)
WRAP(nw_article_t, article)
WRAP(nw_enriched_t, enriched)
WRAP(nw_ack_t, ack)
WRAP(nw_dead_t, dead)

static const struct type T_RAW = {"raw", sizeof(nw_raw_t), raw_enc, raw_dec, raw_rel, raw_eq};
static const struct type T_ARTICLE = {"article",   sizeof(nw_article_t), article_enc,
                                      article_dec, article_rel,          article_eq};
static const struct type T_ENRICHED = {"enriched",   sizeof(nw_enriched_t), enriched_enc,
                                       enriched_dec, enriched_rel,          enriched_eq};
static const struct type T_ACK = {"ack", sizeof(nw_ack_t), ack_enc, ack_dec, ack_rel, ack_eq};
static const struct type T_DEAD = {"dead",   sizeof(nw_dead_t), dead_enc,
                                   dead_dec, dead_rel,          dead_eq};
static const struct type *const ALL_TYPES[] = {&T_RAW, &T_ARTICLE, &T_ENRICHED, &T_ACK, &T_DEAD};

/* ---- sample messages (invented text in the wire-copy format) ----------------------------- */

static const char BODY[] = "date 2024-02-06 Bergen, Norway - The harbour master said the storm "
                           "would reach the coast on Tuesday.\n\n\"We are ready.\"\n";
static uint8_t DEAD_BYTES[] = {0x82, 0xa1, 0x76, 0x01, 0xa2, 0x69, 0x64, 0xc1, 0xff, 0x00};
static nw_kv_t HEADERS[] = {{S("etag"), S("\"5f2-abc\"")},
                            {S("last-modified"), S("Tue, 06 Feb 2024 08:00:00 GMT")}};
static char *AUTHORS[] = {S("Staff Reporter"), S("Agence France-Presse")};
static char *TAGS[] = {S("storms"), S("Norway")};
static char *TOPICS[] = {S("all"), S("lang.en"), S("country.no"), S("person.kari-solberg")};
static uint8_t ZZ_ENTRY[] = {0xa2, 'z', 'z', 0x92, 0x01, 0x02}; /* "zz": [1, 2] */
static uint8_t MOOD_ENTRY[] = {
    0xa4, 'm',  'o',  'o',  'd', 0x81, 0xa4, 't', 'o', 'n',
    'e',  0xcb, 0xbf, 0xe0, 0,   0,    0,    0,   0,   0}; /* "mood": {"tone": -0.5} */

static void
raw_full(nw_raw_t *r)
{
    *r = (nw_raw_t){
        .id = S("5b1e0c3f9a7d2e41"),
        .source = S("inbox"),
        .url = S("https://example.org/news/bergen-storm"),
        .fetched = S("2024-02-06T09:15:00.000Z"),
        .content_type = S("text/plain"),
        .charset = S("utf-8"),
        .body = (uint8_t *)BODY,
        .body_len = sizeof(BODY) - 1,
        .headers = HEADERS,
        .n_headers = 2,
        .origin = S("fetch-1"),
        .spool = 4242,
        .av = 1707210900000123ull, /* 2024-02-06T09:15:00.000123Z in microseconds */
        .name = S("storm_bergen.txt"),
    };
}

static void
raw_min(nw_raw_t *r)
{
    *r = (nw_raw_t){
        .id = S("r1"),
        .source = S("zmq"),
        .fetched = S("2024-02-06T09:15:00.000Z"),
        .content_type = S("text/plain"),
        .body = (uint8_t *)"",
        .body_len = 0,
    };
}

static nw_caption_t CAPTIONS[2];

static void
article_full(nw_article_t *a)
{
    CAPTIONS[0] = (nw_caption_t){
        .text = S("Fishing boats in the inner harbour of Bergen as the storm nears."),
        .credit = S("© Lena Haugland/Pool via REUTERS"),
        .photographer = S("Lena Haugland"),
        .agency = S("Reuters"),
        .pool = true,
        .lang = S("en"),
    };
    CAPTIONS[1] = (nw_caption_t){
        .text = S("Barcos de pesca en el puerto interior de Bergen ante la tormenta."),
        .credit = S("PHOTO/Lena Haugland/POOL/AFP"),
        .photographer = S("Lena Haugland"),
        .agency = S("AFP"),
        .pool = true,
        .lang = S("es"),
    };
    *a = (nw_article_t){
        .id = S("5b1e0c3f9a7d2e41"),
        .url = S("https://example.org/news/bergen-storm"),
        .source = S("inbox"),
        .fetched = S("2024-02-06T09:15:00.000Z"),
        .title = S("Storm closes Bergen harbour for the weekend"),
        .subtitle = S("Gusts \"up to 140 km/h\" tear boats loose"),
        .authors = AUTHORS,
        .n_authors = 2,
        .published = S("2024-02-06"),
        .modified = S("2024-02-06T11:40:00+01:00"),
        .dateline = S("Bergen, Norway"),
        .lang = S("en"),
        .site_name = S("Example Post"),
        .section = S("Weather"),
        .tags = TAGS,
        .n_tags = 2,
        .image = S("https://example.org/img/harbour.jpg"),
        .text = S("The harbour master said the storm would reach the coast.\n\n"
                  "\"We are ready, all of us.\""),
        .captions = CAPTIONS,
        .n_captions = 2,
        .content_type = S("text/plain"),
        .origin = S("fetch-1"),
        .spool = 4242,
        .av = 1707210900000123ull,
    };
}

static void
article_min(nw_article_t *a)
{
    *a = (nw_article_t){.id = S("a1"), .text = S("")};
}

static char *PARA_LANGS[] = {S("en"), S("en")};
static uint32_t MENTIONS[] = {57, 71, 200, 207};
static nw_entity_t ENTITIES[] = {
    {.type = S("person"),
     .name = S("Kari Solberg"),
     .mentions = MENTIONS,
     .n_mentions = 2,
     .salience = 0.75},
    {.type = S("place"),
     .name = S("Bergen"),
     .mentions = MENTIONS,
     .n_mentions = 1,
     .salience = 0.5,
     .cc = S("NO"),
     .admin1 = S("Vestland"),
     .lat = 30.06263,
     .lon = 31.24967,
     .geoid = S("no.vestland.bergen"),
     .focus = true},
};
static nw_quote_t QUOTES[] = {{.text = S("We are ready."),
                               .speaker = S("Kari Solberg"),
                               .verb = S("said"),
                               .kind = S("direct"),
                               .start = 109,
                               .end = 126}};
static nw_scored_t KEYWORDS[] = {{.id = S("inner harbour"), .score = 2.5}};
static nw_scored_t THEMES[] = {{.id = S("politics>diplomacy"), .score = 0.8}};
static nw_amount_t AMOUNTS[] = {
    {.text = S("2,000 households"), .value = 2000, .unit = S("households"), .start = 300}};
static nw_datemention_t DATES[] = {{.text = S("Tuesday"), .date = S("2024-02-06"), .start = 90}};
static uint8_t SKETCH[] = {1, 2, 3, 4, 5, 6, 7, 8};

static void
enriched_full(nw_enriched_t *e)
{
    *e = (nw_enriched_t){0};
    article_full(&e->art);
    e->para_langs = PARA_LANGS;
    e->n_para_langs = 2;
    e->entities = ENTITIES;
    e->n_entities = 2;
    e->quotes = QUOTES;
    e->n_quotes = 1;
    e->keywords = KEYWORDS;
    e->n_keywords = 1;
    e->themes = THEMES;
    e->n_themes = 1;
    e->tone_pos = 1.25;
    e->tone_neg = 3.5;
    e->polarity = -0.47;
    e->amounts = AMOUNTS;
    e->n_amounts = 1;
    e->dates = DATES;
    e->n_dates = 1;
    e->simhash = 0x0123456789abcdefULL;
    e->minhash = SKETCH;
    e->minhash_len = sizeof(SKETCH);
    e->terms = SKETCH;
    e->terms_len = sizeof(SKETCH);
    e->grams = SKETCH;
    e->grams_len = sizeof(SKETCH);
    e->anchors = SKETCH;
    e->anchors_len = sizeof(SKETCH);
    e->words = 812;
    e->reading_s = 244;
    e->topics = TOPICS;
    e->n_topics = 4;
    e->seq = 1000001;
    e->rev = 2;
}

static void
enriched_min(nw_enriched_t *e)
{
    *e = (nw_enriched_t){0};
    article_min(&e->art);
}

static void
ack_full(nw_ack_t *k)
{
    *k = (nw_ack_t){.id = S("5b1e0c3f9a7d2e41"),
                    .origin = S("fetch-1"),
                    .spool = 4242,
                    .status = S("stored"),
                    .rev = 1,
                    .seq = 1000001};
}

static void
ack_min(nw_ack_t *k)
{
    *k = (nw_ack_t){.id = S("a1"), .status = S("stored")};
}

static void
dead_full(nw_dead_t *d)
{
    *d = (nw_dead_t){
        .id = S("5b1e0c3f9a7d2e41"),
        .stage = S("parse"),
        .reason = S("invalid-utf8"),
        .detail = S("byte 7: 0xc1 is not valid UTF-8"),
        .time = S("2024-02-06T09:15:01.250Z"),
        .bytes = DEAD_BYTES,
        .bytes_len = sizeof(DEAD_BYTES),
        .content_type = S("text/plain"),
        .source = S("inbox"),
        .origin = S("fetch-1"),
        .spool = 4242,
    };
}

static void
dead_min(nw_dead_t *d)
{
    *d = (nw_dead_t){.stage = S("broker"),
                     .reason = S("bad-msgpack"),
                     .time = S("2024-02-06T09:15:01.250Z"),
                     .bytes = NULL,
                     .bytes_len = 0};
}

static uint8_t V2_EXTRA[sizeof(ZZ_ENTRY) + sizeof(MOOD_ENTRY)];

/* A message from a newer writer: v 2 and keys this version does not know, in the top map and
 * in a caption. */
static void
article_v2(nw_article_t *a)
{
    static nw_caption_t cap;
    memcpy(V2_EXTRA, ZZ_ENTRY, sizeof(ZZ_ENTRY));
    memcpy(V2_EXTRA + sizeof(ZZ_ENTRY), MOOD_ENTRY, sizeof(MOOD_ENTRY));
    cap = (nw_caption_t){.text = S("Kari Solberg"), .extra = {ZZ_ENTRY, sizeof(ZZ_ENTRY), 1}};
    *a = (nw_article_t){.v = 2,
                        .id = S("v2"),
                        .text = S("Newer writers only add keys."),
                        .captions = &cap,
                        .n_captions = 1,
                        .extra = {V2_EXTRA, sizeof(V2_EXTRA), 2}};
}

/* ---- helpers --------------------------------------------------------------------------- */

static void
encode_ok(const struct type *t, const void *m, nw_buf_t *out)
{
    nw_buf_reset(out);
    int rc = t->encode(m, out);
    assert_int_equal(rc, 0);
    assert_true(out->len > 0);
}

/* Decode bytes as t, assert success, compare with want, re-encode and compare bytes. */
static void
roundtrip(const struct type *t, const void *want)
{
    nw_buf_t a = {0}, b = {0};
    void *got = calloc(1, t->size);
    assert_non_null(got);
    encode_ok(t, want, &a);
    int rc = t->decode(got, a.data, a.len);
    if (rc != 0)
        fail_msg("%s: decode failed: %d %s", t->name, rc, nw_proto_error());
    t->assert_eq(want, got);
    encode_ok(t, got, &b);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    t->release(got);
    /* release leaves the struct zeroed and is safe twice */
    t->release(got);
    uint8_t *zero = calloc(1, t->size);
    assert_memory_equal(got, zero, t->size);
    free(zero);
    free(got);
    nw_buf_release(&a);
    nw_buf_release(&b);
}

/* Decode must fail with -EPROTO and a reason containing `why`. */
static void
reject(const struct type *t, const uint8_t *buf, size_t len, const char *why)
{
    void *m = calloc(1, t->size);
    assert_non_null(m);
    int rc = t->decode(m, buf, len);
    if (rc != -EPROTO)
        fail_msg("%s: expected -EPROTO for \"%s\", got %d", t->name, why, rc);
    if (why && strstr(nw_proto_error(), why) == NULL)
        fail_msg("%s: reason \"%s\" does not mention \"%s\"", t->name, nw_proto_error(), why);
    /* On error the struct is released: all zero. */
    uint8_t *zero = calloc(1, t->size);
    assert_memory_equal(m, zero, t->size);
    free(zero);
    free(m);
}

static int
pk_str(msgpack_packer *pk, const char *s)
{
    return msgpack_pack_str_with_body(pk, s, strlen(s));
}

static int
test_buf_write(void *data, const char *p, size_t len)
{
    return nw_buf_append(data, p, len) == 0 ? 0 : -1;
}

/* A packer writing into out, which is emptied first. */
static void
packer_init(msgpack_packer *pk, nw_buf_t *out)
{
    nw_buf_reset(out);
    msgpack_packer_init(pk, out, test_buf_write);
}

/* Start a hand-built ack map of n entries with v and id already in it; the caller adds n - 2
 * more. */
static void
ack_begin(msgpack_packer *pk, nw_buf_t *out, uint32_t n)
{
    packer_init(pk, out);
    msgpack_pack_map(pk, n);
    pk_str(pk, "v");
    msgpack_pack_uint32(pk, 1);
    pk_str(pk, "id");
    pk_str(pk, "a1");
}

/* ---- round trips ----------------------------------------------------------------------- */

static void
test_roundtrip_full(void **state)
{
    (void)state;
    nw_raw_t r;
    nw_article_t a;
    nw_enriched_t e;
    nw_ack_t k;
    nw_dead_t d;
    raw_full(&r);
    roundtrip(&T_RAW, &r);
    article_full(&a);
    roundtrip(&T_ARTICLE, &a);
    enriched_full(&e);
    roundtrip(&T_ENRICHED, &e);
    ack_full(&k);
    roundtrip(&T_ACK, &k);
    dead_full(&d);
    roundtrip(&T_DEAD, &d);
}

/* Count the entries of the top map of an encoding, to prove optional keys were omitted. */
static uint32_t
map_size(const nw_buf_t *b)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    assert_int_equal(msgpack_unpack_next(&u, (const char *)b->data, b->len, &off),
                     MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(u.data.type, MSGPACK_OBJECT_MAP);
    uint32_t n = u.data.via.map.size;
    msgpack_unpacked_destroy(&u);
    return n;
}

static void
test_roundtrip_minimal(void **state)
{
    (void)state;
    nw_buf_t b = {0};
    nw_raw_t r;
    nw_article_t a;
    nw_enriched_t e;
    nw_ack_t k;
    nw_dead_t d;

    raw_min(&r);
    roundtrip(&T_RAW, &r);
    encode_ok(&T_RAW, &r, &b);
    assert_int_equal(map_size(&b), 6); /* v id source fetched content_type body */
    article_min(&a);
    roundtrip(&T_ARTICLE, &a);
    encode_ok(&T_ARTICLE, &a, &b);
    assert_int_equal(map_size(&b), 3); /* v id text */
    enriched_min(&e);
    roundtrip(&T_ENRICHED, &e);
    encode_ok(&T_ENRICHED, &e, &b);
    assert_int_equal(map_size(&b), 3);
    ack_min(&k);
    roundtrip(&T_ACK, &k);
    encode_ok(&T_ACK, &k, &b);
    assert_int_equal(map_size(&b), 3);
    /* Exact bytes, written out by hand from the MessagePack spec: the contract in one line. */
    static const uint8_t ack_bytes[] = {0x83, 0xa1, 'v',  0x02, 0xa2, 'i', 'd', 0xa2,
                                        'a',  '1',  0xa6, 's',  't',  'a', 't', 'u',
                                        's',  0xa6, 's',  't',  'o',  'r', 'e', 'd'};
    assert_int_equal(b.len, sizeof(ack_bytes));
    assert_memory_equal(b.data, ack_bytes, sizeof(ack_bytes));
    dead_min(&d);
    roundtrip(&T_DEAD, &d);
    encode_ok(&T_DEAD, &d, &b);
    assert_int_equal(map_size(&b), 5); /* v stage reason time bytes */
    nw_buf_release(&b);
}

/* Appending "zz":[1,2] to a fixmap encoding: bump the count in the header byte. */
static void
add_zz(nw_buf_t *b)
{
    assert_true(b->data[0] >= 0x80 && b->data[0] < 0x8f);
    b->data[0]++;
    assert_int_equal(nw_buf_append(b, ZZ_ENTRY, sizeof(ZZ_ENTRY)), 0);
}

static void
test_unknown_keys_pass_through(void **state)
{
    (void)state;
    nw_raw_t r;
    nw_article_t a;
    nw_enriched_t e;
    nw_ack_t k;
    nw_dead_t d;
    const void *mins[] = {&r, &a, &e, &k, &d};
    raw_min(&r);
    article_min(&a);
    enriched_min(&e);
    ack_min(&k);
    dead_min(&d);

    for (size_t i = 0; i < 5; i++) {
        const struct type *t = ALL_TYPES[i];
        nw_buf_t in = {0}, out = {0};
        encode_ok(t, mins[i], &in);
        add_zz(&in);
        void *m = calloc(1, t->size);
        assert_int_equal(t->decode(m, in.data, in.len), 0);
        /* extra sits at the same place in every struct except enriched (art.extra) */
        const nw_extra_t *x = t == &T_RAW        ? &((nw_raw_t *)m)->extra
                              : t == &T_ARTICLE  ? &((nw_article_t *)m)->extra
                              : t == &T_ENRICHED ? &((nw_enriched_t *)m)->art.extra
                              : t == &T_ACK      ? &((nw_ack_t *)m)->extra
                                                 : &((nw_dead_t *)m)->extra;
        assert_int_equal(x->n, 1);
        assert_int_equal(x->len, sizeof(ZZ_ENTRY));
        assert_memory_equal(x->buf, ZZ_ENTRY, sizeof(ZZ_ENTRY));
        /* Unknown keys go last on encode, which is where add_zz put it: identical bytes. */
        encode_ok(t, m, &out);
        assert_int_equal(out.len, in.len);
        assert_memory_equal(out.data, in.data, in.len);
        t->release(m);
        free(m);
        nw_buf_release(&in);
        nw_buf_release(&out);
    }
}

static void
test_unknown_keys_enriched_as_article(void **state)
{
    /* A stage that only knows articles passes enrichment keys through untouched. */
    (void)state;
    nw_enriched_t e;
    nw_article_t a;
    nw_enriched_t back;
    nw_buf_t b = {0}, b2 = {0};
    enriched_full(&e);
    encode_ok(&T_ENRICHED, &e, &b);
    assert_int_equal(nw_article_decode(&a, b.data, b.len), 0);
    assert_int_equal(a.extra.n, 20); /* every enrichment key of enriched_full() */
    encode_ok(&T_ARTICLE, &a, &b2);
    assert_int_equal(b.len, b2.len);
    assert_memory_equal(b.data, b2.data, b.len);
    assert_int_equal(nw_enriched_decode(&back, b2.data, b2.len), 0);
    enriched_eq(&e, &back);
    nw_article_release(&a);
    nw_enriched_release(&back);
    nw_buf_release(&b);
    nw_buf_release(&b2);
}

static void
test_extra_copy_and_collision(void **state)
{
    /* parse copies a raw's unknown keys into its article; if one of them is now a known
     * article key, the article's own field wins and the stale copy is dropped. */
    (void)state;
    nw_buf_t in = {0}, out = {0};
    msgpack_packer pk;
    nw_raw_t r;
    nw_article_t a;
    nw_article_t back;

    packer_init(&pk, &in);
    msgpack_pack_map(&pk, 8);
    pk_str(&pk, "v");
    msgpack_pack_uint32(&pk, 3);
    const char *req[][2] = {{"id", "r1"},
                            {"source", "feed"},
                            {"fetched", "2024-02-06T09:15:00Z"},
                            {"content_type", "text/html"}};
    for (int i = 0; i < 4; i++) {
        pk_str(&pk, req[i][0]);
        pk_str(&pk, req[i][1]);
    }
    pk_str(&pk, "body");
    msgpack_pack_bin_with_body(&pk, "<p>x</p>", 8);
    pk_str(&pk, "title");
    pk_str(&pk, "feed title");
    pk_str(&pk, "zz");
    msgpack_pack_true(&pk);
    assert_int_equal(nw_raw_decode(&r, in.data, in.len), 0);
    assert_int_equal(r.v, 3);
    assert_int_equal(r.extra.n, 2);

    article_min(&a);
    a.title = S("the article title");
    nw_extra_t copy = {0};
    assert_int_equal(nw_extra_copy(&copy, &r.extra), 0);
    assert_int_equal(copy.n, 2);
    a.extra = copy;
    encode_ok(&T_ARTICLE, &a, &out);
    assert_int_equal(map_size(&out), 5); /* v id title text zz */
    assert_int_equal(nw_article_decode(&back, out.data, out.len), 0);
    assert_string_equal(back.title, "the article title");
    assert_int_equal(back.extra.n, 1);
    assert_memory_equal(back.extra.buf, "\xa2zz\xc3", 4);
    nw_extra_release(&copy);
    nw_extra_release(&copy); /* safe twice */
    assert_null(copy.buf);
    nw_article_release(&back);
    nw_raw_release(&r);
    nw_buf_release(&in);
    nw_buf_release(&out);
}

/* ---- golden fixtures ------------------------------------------------------------------- */

struct golden {
    const char *file;
    const struct type *t;
    void (*build)(void *m);
};

/* Version 1 fixtures: what a writer before the acceptance version wrote (v 1, no av). */
static void
b_raw_v1_full(void *m)
{
    raw_full(m);
    ((nw_raw_t *)m)->v = 1;
    ((nw_raw_t *)m)->av = 0;
}
static void
b_raw_v1_min(void *m)
{
    raw_min(m);
    ((nw_raw_t *)m)->v = 1;
}
static void
b_article_v1_full(void *m)
{
    article_full(m);
    ((nw_article_t *)m)->v = 1;
    ((nw_article_t *)m)->av = 0;
}
static void
b_article_v1_min(void *m)
{
    article_min(m);
    ((nw_article_t *)m)->v = 1;
}
static void
b_article_v2(void *m)
{
    article_v2(m);
}
static void
b_enriched_v1_full(void *m)
{
    enriched_full(m);
    ((nw_enriched_t *)m)->art.v = 1;
    ((nw_enriched_t *)m)->art.av = 0;
}
static void
b_enriched_v1_min(void *m)
{
    enriched_min(m);
    ((nw_enriched_t *)m)->art.v = 1;
}
static void
b_ack_v1_full(void *m)
{
    ack_full(m);
    ((nw_ack_t *)m)->v = 1;
}
static void
b_ack_v1_min(void *m)
{
    ack_min(m);
    ((nw_ack_t *)m)->v = 1;
}
static void
b_dead_v1_full(void *m)
{
    dead_full(m);
    ((nw_dead_t *)m)->v = 1;
}
static void
b_dead_v1_min(void *m)
{
    dead_min(m);
    ((nw_dead_t *)m)->v = 1;
}
/* Version 2: the acceptance version `av` in raw, article and enriched. */
static void
b_raw_full(void *m)
{
    raw_full(m);
}
static void
b_article_full(void *m)
{
    article_full(m);
}
static void
b_enriched_full(void *m)
{
    enriched_full(m);
}

static const struct golden GOLDEN[] = {
    {"raw.v1.full.msgpack", &T_RAW, b_raw_v1_full},
    {"raw.v1.min.msgpack", &T_RAW, b_raw_v1_min},
    {"article.v1.full.msgpack", &T_ARTICLE, b_article_v1_full},
    {"article.v1.min.msgpack", &T_ARTICLE, b_article_v1_min},
    {"article.v2.unknown-keys.msgpack", &T_ARTICLE, b_article_v2},
    {"enriched.v1.full.msgpack", &T_ENRICHED, b_enriched_v1_full},
    {"enriched.v1.min.msgpack", &T_ENRICHED, b_enriched_v1_min},
    {"ack.v1.full.msgpack", &T_ACK, b_ack_v1_full},
    {"ack.v1.min.msgpack", &T_ACK, b_ack_v1_min},
    {"dead.v1.full.msgpack", &T_DEAD, b_dead_v1_full},
    {"dead.v1.min.msgpack", &T_DEAD, b_dead_v1_min},
    {"raw.v2.full.msgpack", &T_RAW, b_raw_full},
    {"article.v2.full.msgpack", &T_ARTICLE, b_article_full},
    {"enriched.v2.full.msgpack", &T_ENRICHED, b_enriched_full},
};

static void
golden_path(char *path, size_t n, const char *file)
{
    snprintf(path, n, "%s/proto/golden/%s", NW_SOURCE_DIR, file);
}

static void
test_golden(void **state)
{
    (void)state;
    bool write = getenv("NW_WRITE_GOLDEN") != NULL;
    for (size_t i = 0; i < sizeof(GOLDEN) / sizeof(GOLDEN[0]); i++) {
        const struct golden *g = &GOLDEN[i];
        char path[4096];
        nw_buf_t built = {0}, again = {0};
        uint8_t *file = NULL;
        size_t len = 0;
        void *want = calloc(1, g->t->size);
        void *got = calloc(1, g->t->size);

        golden_path(path, sizeof(path), g->file);
        g->build(want);
        encode_ok(g->t, want, &built);
        if (write) {
            FILE *f = fopen(path, "wb");
            assert_non_null(f);
            assert_int_equal(fwrite(built.data, 1, built.len, f), built.len);
            assert_int_equal(fclose(f), 0);
        }
        if (nw_read_file(path, NW_PROTO_MAX_MSG, &file, &len) != 0)
            fail_msg("cannot read golden fixture %s", path);
        /* The bytes on disk are the contract: our encoder must still produce them... */
        if (len != built.len || memcmp(file, built.data, len) != 0)
            fail_msg("%s: encoder output differs from the checked-in fixture", g->file);
        /* ...and decoding them gives back every field, and re-encodes byte for byte. */
        int rc = g->t->decode(got, file, len);
        if (rc != 0)
            fail_msg("%s: decode failed: %s", g->file, nw_proto_error());
        g->t->assert_eq(want, got);
        encode_ok(g->t, got, &again);
        assert_int_equal(again.len, len);
        assert_memory_equal(again.data, file, len);
        g->t->release(got);
        free(got);
        free(want);
        free(file);
        nw_buf_release(&built);
        nw_buf_release(&again);
    }
}

static void
test_golden_values(void **state)
{
    /* Spot checks written as literals, independent of the builders above. */
    (void)state;
    char path[4096];
    uint8_t *file = NULL;
    size_t len = 0;
    nw_article_t a;
    nw_raw_t r;
    nw_dead_t d;

    golden_path(path, sizeof(path), "article.v1.full.msgpack");
    assert_int_equal(nw_read_file(path, NW_PROTO_MAX_MSG, &file, &len), 0);
    assert_int_equal(nw_article_decode(&a, file, len), 0);
    assert_int_equal(a.v, 1);
    assert_string_equal(a.dateline, "Bergen, Norway");
    assert_string_equal(a.published, "2024-02-06");
    assert_int_equal(a.n_captions, 2);
    assert_string_equal(a.captions[1].credit, "PHOTO/Lena Haugland/POOL/AFP");
    assert_string_equal(a.captions[1].lang, "es");
    assert_true(a.captions[0].pool);
    assert_string_equal(a.authors[1], "Agence France-Presse");
    nw_article_release(&a);
    free(file);

    golden_path(path, sizeof(path), "raw.v1.full.msgpack");
    assert_int_equal(nw_read_file(path, NW_PROTO_MAX_MSG, &file, &len), 0);
    assert_int_equal(nw_raw_decode(&r, file, len), 0);
    assert_int_equal(r.spool, 4242);
    assert_int_equal(r.av, 0); /* before v2: no acceptance version, defaulted */
    assert_string_equal(r.headers[0].key, "etag");
    assert_int_equal(r.body_len, strlen(BODY));
    assert_int_equal(r.body[r.body_len], 0); /* decoded bodies are NUL-terminated */
    nw_raw_release(&r);
    free(file);

    golden_path(path, sizeof(path), "raw.v2.full.msgpack");
    assert_int_equal(nw_read_file(path, NW_PROTO_MAX_MSG, &file, &len), 0);
    assert_int_equal(nw_raw_decode(&r, file, len), 0);
    assert_int_equal(r.v, 2);
    assert_true(r.av == 1707210900000123ull);
    nw_raw_release(&r);
    free(file);

    golden_path(path, sizeof(path), "enriched.v2.full.msgpack");
    assert_int_equal(nw_read_file(path, NW_PROTO_MAX_MSG, &file, &len), 0);
    nw_enriched_t en;
    assert_int_equal(nw_enriched_decode(&en, file, len), 0);
    assert_true(en.art.av == 1707210900000123ull);
    nw_enriched_release(&en);
    free(file);

    golden_path(path, sizeof(path), "article.v2.unknown-keys.msgpack");
    assert_int_equal(nw_read_file(path, NW_PROTO_MAX_MSG, &file, &len), 0);
    assert_int_equal(nw_article_decode(&a, file, len), 0);
    assert_int_equal(a.v, 2);
    assert_int_equal(a.extra.n, 2);
    assert_int_equal(a.captions[0].extra.n, 1);
    nw_article_release(&a);
    free(file);

    golden_path(path, sizeof(path), "dead.v1.min.msgpack");
    assert_int_equal(nw_read_file(path, NW_PROTO_MAX_MSG, &file, &len), 0);
    assert_int_equal(nw_dead_decode(&d, file, len), 0);
    assert_int_equal(d.bytes_len, 0);
    assert_non_null(d.bytes); /* required bin: present even when empty */
    assert_null(d.id);
    nw_dead_release(&d);
    free(file);
}

/* ---- rejection ------------------------------------------------------------------------- */

static void
test_reject_truncated_every_length(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(GOLDEN) / sizeof(GOLDEN[0]); i++) {
        char path[4096];
        uint8_t *file = NULL;
        size_t len = 0;
        golden_path(path, sizeof(path), GOLDEN[i].file);
        assert_int_equal(nw_read_file(path, NW_PROTO_MAX_MSG, &file, &len), 0);
        for (size_t cut = 0; cut < len; cut++) {
            /* a fresh allocation of exactly `cut` bytes, so ASan sees any over-read */
            uint8_t *p = malloc(cut ? cut : 1);
            memcpy(p, file, cut);
            for (size_t t = 0; t < 5; t++)
                reject(ALL_TYPES[t], p, cut, NULL);
            free(p);
        }
        free(file);
    }
}

static void
test_reject_trailing(void **state)
{
    (void)state;
    nw_buf_t b = {0};
    nw_ack_t k;
    ack_min(&k);
    encode_ok(&T_ACK, &k, &b);
    assert_int_equal(nw_buf_append(&b, "\xc0", 1), 0);
    reject(&T_ACK, b.data, b.len, "trailing");
    /* two valid messages back to back are not one message */
    size_t one = b.len - 1;
    b.len = one;
    assert_int_equal(nw_buf_append(&b, b.data, one), 0);
    reject(&T_ACK, b.data, b.len, "trailing");
    nw_buf_release(&b);
}

static void
test_reject_missing_and_wrong_type(void **state)
{
    (void)state;
    nw_buf_t b = {0};
    msgpack_packer pk;

    ack_begin(&pk, &b, 2); /* v, id: no status */
    reject(&T_ACK, b.data, b.len, "missing required key \"status\"");

    packer_init(&pk, &b); /* no v */
    msgpack_pack_map(&pk, 2);
    pk_str(&pk, "id");
    pk_str(&pk, "a1");
    pk_str(&pk, "status");
    pk_str(&pk, "stored");
    reject(&T_ACK, b.data, b.len, "missing required key \"v\"");

    ack_begin(&pk, &b, 3);
    pk_str(&pk, "status");
    msgpack_pack_int(&pk, 5);
    reject(&T_ACK, b.data, b.len, "key \"status\": expected str, got positive int");

    ack_begin(&pk, &b, 4);
    pk_str(&pk, "status");
    pk_str(&pk, "stored");
    pk_str(&pk, "rev");
    msgpack_pack_int(&pk, -1);
    reject(&T_ACK, b.data, b.len, "key \"rev\"");

    ack_begin(&pk, &b, 4);
    pk_str(&pk, "status");
    pk_str(&pk, "stored");
    pk_str(&pk, "rev");
    msgpack_pack_uint64(&pk, UINT64_C(1) << 32); /* does not fit the uint32_t field */
    reject(&T_ACK, b.data, b.len, "key \"rev\"");

    ack_begin(&pk, &b, 4);
    pk_str(&pk, "status");
    pk_str(&pk, "stored");
    pk_str(&pk, "seq");
    msgpack_pack_double(&pk, 1.0);
    reject(&T_ACK, b.data, b.len, "key \"seq\": expected non-negative int, got float");

    /* required key given as nil */
    ack_begin(&pk, &b, 3);
    pk_str(&pk, "status");
    msgpack_pack_nil(&pk);
    reject(&T_ACK, b.data, b.len, "key \"status\": expected str, got nil");

    /* raw body of the wrong type */
    nw_raw_t r;
    raw_min(&r);
    nw_buf_reset(&b);
    assert_int_equal(nw_raw_encode(&r, &b), 0);
    /* the empty bin c4 00 is the last value: make it an int instead */
    assert_int_equal(b.data[b.len - 2], 0xc4);
    b.data[b.len - 2] = 0x05;
    b.len--;
    reject(&T_RAW, b.data, b.len, "key \"body\": expected bin or str");

    /* caption errors name where they are */
    packer_init(&pk, &b);
    msgpack_pack_map(&pk, 4);
    pk_str(&pk, "v");
    msgpack_pack_uint32(&pk, 1);
    pk_str(&pk, "id");
    pk_str(&pk, "a1");
    pk_str(&pk, "text");
    pk_str(&pk, "");
    pk_str(&pk, "captions");
    msgpack_pack_array(&pk, 2);
    msgpack_pack_map(&pk, 1);
    pk_str(&pk, "text");
    pk_str(&pk, "ok");
    msgpack_pack_map(&pk, 1);
    pk_str(&pk, "pool");
    msgpack_pack_true(&pk);
    reject(&T_ARTICLE, b.data, b.len, "key \"captions\" item 1: caption: missing required key");

    /* top level must be a map, keys must be str */
    uint8_t arr[] = {0x91, 0x01};
    reject(&T_ACK, arr, sizeof(arr), "expected map, got array");
    uint8_t intkey[] = {0x81, 0x01, 0x01};
    reject(&T_ACK, intkey, sizeof(intkey), "expected str, got positive int");
    uint8_t never[] = {0x81, 0xa1, 'v', 0xc1};
    reject(&T_ACK, never, sizeof(never), "0xc1 is not a MessagePack type");
    reject(&T_ACK, never, 0, "empty");
    nw_buf_release(&b);
}

static void
test_version(void **state)
{
    (void)state;
    nw_buf_t b = {0}, out = {0};
    msgpack_packer pk;
    nw_ack_t k;
    ack_min(&k);
    encode_ok(&T_ACK, &k, &b);
    /* "v" is the first value: byte 3 (NW_PROTO_VERSION) */
    assert_int_equal(b.data[3], NW_PROTO_VERSION);
    b.data[3] = 0x07; /* a newer writer: accepted, and kept on re-encode */
    assert_int_equal(nw_ack_decode(&k, b.data, b.len), 0);
    assert_int_equal(k.v, 7);
    assert_int_equal(nw_ack_encode(&k, &out), 0);
    assert_int_equal(out.data[3], 0x07);
    nw_ack_release(&k);
    b.data[3] = 0x00;
    reject(&T_ACK, b.data, b.len, "key \"v\"");
    b.data[3] = 0xff; /* -1 */
    reject(&T_ACK, b.data, b.len, "key \"v\": expected int 1..4294967295, got negative int");
    b.data[3] = 0xc3; /* true */
    reject(&T_ACK, b.data, b.len, "key \"v\"");

    packer_init(&pk, &b);
    msgpack_pack_map(&pk, 3);
    pk_str(&pk, "v");
    msgpack_pack_uint64(&pk, UINT64_C(1) << 32);
    pk_str(&pk, "id");
    pk_str(&pk, "a1");
    pk_str(&pk, "status");
    pk_str(&pk, "stored");
    reject(&T_ACK, b.data, b.len, "out of range");
    nw_buf_release(&b);
    nw_buf_release(&out);
}

static void
test_reject_duplicate_keys(void **state)
{
    (void)state;
    nw_buf_t b = {0};
    msgpack_packer pk;

    ack_begin(&pk, &b, 4);
    pk_str(&pk, "status");
    pk_str(&pk, "stored");
    pk_str(&pk, "id");
    pk_str(&pk, "a2");
    reject(&T_ACK, b.data, b.len, "duplicate key \"id\"");

    ack_begin(&pk, &b, 5);
    pk_str(&pk, "zz");
    msgpack_pack_nil(&pk);
    pk_str(&pk, "status");
    pk_str(&pk, "stored");
    pk_str(&pk, "zz");
    msgpack_pack_nil(&pk);
    reject(&T_ACK, b.data, b.len, "duplicate key \"zz\"");

    /* inside an unknown value too */
    ack_begin(&pk, &b, 4);
    pk_str(&pk, "status");
    pk_str(&pk, "stored");
    pk_str(&pk, "zz");
    msgpack_pack_map(&pk, 2);
    pk_str(&pk, "k");
    msgpack_pack_nil(&pk);
    pk_str(&pk, "k");
    msgpack_pack_nil(&pk);
    reject(&T_ACK, b.data, b.len, "duplicate key \"k\"");

    /* and in raw headers */
    nw_raw_t r;
    nw_kv_t dup[] = {{S("etag"), S("1")}, {S("etag"), S("2")}};
    raw_min(&r);
    r.headers = dup;
    r.n_headers = 2;
    nw_buf_reset(&b);
    assert_int_equal(nw_raw_encode(&r, &b), 0);
    reject(&T_RAW, b.data, b.len, "duplicate key \"etag\"");
    nw_buf_release(&b);
}

static void
test_reject_invalid_utf8(void **state)
{
    (void)state;
    static const char *bad[] = {"\xff", "caf\xc3", "\xc0\xaf" /* overlong */,
                                "\xed\xa0\x80" /* surrogate */, "a\0b"};
    static const size_t bad_len[] = {1, 4, 2, 3, 3};
    nw_buf_t b = {0};
    msgpack_packer pk;
    for (size_t i = 0; i < 5; i++) {
        ack_begin(&pk, &b, 3);
        pk_str(&pk, "status");
        msgpack_pack_str_with_body(&pk, bad[i], bad_len[i]);
        reject(&T_ACK, b.data, b.len, "key \"status\": invalid UTF-8");

        ack_begin(&pk, &b, 4);
        pk_str(&pk, "status");
        pk_str(&pk, "stored");
        msgpack_pack_str_with_body(&pk, bad[i], bad_len[i]); /* as a key */
        msgpack_pack_nil(&pk);
        reject(&T_ACK, b.data, b.len, "invalid UTF-8");

        ack_begin(&pk, &b, 4);
        pk_str(&pk, "status");
        pk_str(&pk, "stored");
        pk_str(&pk, "zz"); /* inside an unknown value */
        msgpack_pack_array(&pk, 1);
        msgpack_pack_str_with_body(&pk, bad[i], bad_len[i]);
        reject(&T_ACK, b.data, b.len, "key \"zz\": invalid UTF-8");
    }

    /* but bin fields take any bytes, as bin or as str */
    nw_raw_t r;
    raw_min(&r);
    nw_buf_reset(&b);
    assert_int_equal(nw_raw_encode(&r, &b), 0);
    b.len -= 2;
    msgpack_packer_init(&pk, &b, test_buf_write);
    msgpack_pack_str_with_body(&pk, "\xff\x00\xfe", 3);
    assert_int_equal(nw_raw_decode(&r, b.data, b.len), 0);
    assert_int_equal(r.body_len, 3);
    assert_memory_equal(r.body, "\xff\x00\xfe", 3);
    nw_raw_release(&r);
    nw_buf_release(&b);
}

static void
test_reject_huge_counts(void **state)
{
    (void)state;
    /* Five bytes that claim 2^32-1 elements: must fail fast without allocating for them. */
    static const uint8_t arr32[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t map32[] = {0xdf, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t map16[] = {0xde, 0xff, 0xff, 0x01};
    static const uint8_t str32[] = {0x81, 0xa1, 'v', 0xdb, 0xff, 0xff, 0xff, 0xff, 'x'};
    static const uint8_t bin32[] = {0x81, 0xa1, 'v', 0xc6, 0x7f, 0xff, 0xff, 0xff};
    static const uint8_t ext32[] = {0x81, 0xa1, 'v', 0xc9, 0x00, 0x00, 0x00, 0x01, 0x05};
    for (size_t t = 0; t < 5; t++) {
        reject(ALL_TYPES[t], arr32, sizeof(arr32), "array at byte 0 declares 4294967295");
        reject(ALL_TYPES[t], map32, sizeof(map32), "map at byte 0 declares 4294967295");
        reject(ALL_TYPES[t], map16, sizeof(map16), "declares 65535 elements, 1 bytes left");
        reject(ALL_TYPES[t], str32, sizeof(str32), "truncated");
        reject(ALL_TYPES[t], bin32, sizeof(bin32), "truncated");
        reject(ALL_TYPES[t], ext32, sizeof(ext32), "truncated");
    }
    /* the same lie nested inside an otherwise valid ack */
    nw_buf_t b = {0};
    msgpack_packer pk;
    ack_begin(&pk, &b, 4);
    pk_str(&pk, "status");
    pk_str(&pk, "stored");
    pk_str(&pk, "zz");
    assert_int_equal(nw_buf_append(&b, arr32, sizeof(arr32)), 0);
    reject(&T_ACK, b.data, b.len, "array at byte");
    assert_int_equal(nw_proto_check(b.data, b.len), -EPROTO);
    nw_buf_release(&b);
}

static void
test_reject_too_many_items(void **state)
{
    (void)state;
    nw_buf_t b = {0};
    msgpack_packer pk;
    nw_enriched_t e;
    for (uint32_t n = NW_PROTO_MAX_ITEMS; n <= NW_PROTO_MAX_ITEMS + 1; n++) {
        packer_init(&pk, &b);
        msgpack_pack_map(&pk, 4);
        pk_str(&pk, "v");
        msgpack_pack_uint32(&pk, 1);
        pk_str(&pk, "id");
        pk_str(&pk, "e1");
        pk_str(&pk, "text");
        pk_str(&pk, "");
        pk_str(&pk, "topics");
        msgpack_pack_array(&pk, n);
        for (uint32_t i = 0; i < n; i++)
            pk_str(&pk, "all");
        if (n == NW_PROTO_MAX_ITEMS) {
            assert_int_equal(nw_enriched_decode(&e, b.data, b.len), 0);
            assert_int_equal(e.n_topics, NW_PROTO_MAX_ITEMS);
            nw_enriched_release(&e);
        } else {
            reject(&T_ENRICHED, b.data, b.len, "limit is 65536");
        }
    }
    /* Many arrays each under the limit still cannot add up past NW_PROTO_MAX_NODES. */
    ack_begin(&pk, &b, 4);
    pk_str(&pk, "status");
    pk_str(&pk, "stored");
    pk_str(&pk, "zz");
    uint32_t groups = NW_PROTO_MAX_NODES / NW_PROTO_MAX_ITEMS + 1;
    msgpack_pack_array(&pk, groups);
    for (uint32_t g = 0; g < groups; g++) {
        msgpack_pack_array(&pk, NW_PROTO_MAX_ITEMS);
        for (uint32_t i = 0; i < NW_PROTO_MAX_ITEMS; i++)
            msgpack_pack_nil(&pk);
    }
    reject(&T_ACK, b.data, b.len, "elements in total");
    nw_buf_release(&b);
}

static void
nested_ack(nw_buf_t *b, int depth)
{
    msgpack_packer pk;
    ack_begin(&pk, b, 4);
    pk_str(&pk, "status");
    pk_str(&pk, "stored");
    pk_str(&pk, "zz");
    for (int i = 0; i < depth; i++)
        msgpack_pack_array(&pk, 1);
    msgpack_pack_nil(&pk);
}

static void
test_reject_deep_nesting(void **state)
{
    (void)state;
    nw_buf_t b = {0};
    nw_ack_t k;
    /* the top map is level 1, so 15 arrays inside it reach the limit exactly */
    nested_ack(&b, NW_PROTO_MAX_DEPTH - 1);
    assert_int_equal(nw_ack_decode(&k, b.data, b.len), 0);
    assert_int_equal(k.extra.n, 1);
    nw_ack_release(&k);
    nested_ack(&b, NW_PROTO_MAX_DEPTH);
    reject(&T_ACK, b.data, b.len, "nesting deeper than 16");
    nested_ack(&b, 10000);
    reject(&T_ACK, b.data, b.len, "nesting deeper than 16");
    nw_buf_release(&b);
}

static void
test_reject_oversized(void **state)
{
    (void)state;
    /* malloc without touching: the length alone must get it refused, before any read */
    size_t len = (size_t)NW_PROTO_MAX_MSG + 1;
    uint8_t *big = malloc(len);
    assert_non_null(big);
    big[0] = 0x80;
    for (size_t t = 0; t < 5; t++)
        reject(ALL_TYPES[t], big, len, "exceeds the limit");
    free(big);
}

static void
test_lenient_decoding(void **state)
{
    (void)state;
    nw_buf_t b = {0};
    msgpack_packer pk;
    nw_ack_t k;
    nw_article_t a;

    /* optional keys given as nil count as absent */
    ack_begin(&pk, &b, 5);
    pk_str(&pk, "origin");
    msgpack_pack_nil(&pk);
    pk_str(&pk, "status");
    pk_str(&pk, "stored");
    pk_str(&pk, "seq");
    msgpack_pack_nil(&pk);
    assert_int_equal(nw_ack_decode(&k, b.data, b.len), 0);
    assert_null(k.origin);
    assert_int_equal(k.seq, 0);
    assert_string_equal(k.status, "stored");
    nw_ack_release(&k);

    /* explicit false / empty arrays decode like absent ones */
    packer_init(&pk, &b);
    msgpack_pack_map(&pk, 5);
    pk_str(&pk, "v");
    msgpack_pack_uint32(&pk, 1);
    pk_str(&pk, "id");
    pk_str(&pk, "a1");
    pk_str(&pk, "text");
    pk_str(&pk, "t");
    pk_str(&pk, "authors");
    msgpack_pack_array(&pk, 0);
    pk_str(&pk, "captions");
    msgpack_pack_array(&pk, 1);
    msgpack_pack_map(&pk, 2);
    pk_str(&pk, "text");
    pk_str(&pk, "c");
    pk_str(&pk, "pool");
    msgpack_pack_false(&pk);
    assert_int_equal(nw_article_decode(&a, b.data, b.len), 0);
    assert_int_equal(a.n_authors, 0);
    assert_null(a.authors);
    assert_int_equal(a.n_captions, 1);
    assert_false(a.captions[0].pool);
    nw_article_release(&a);
    nw_buf_release(&b);
}

static void
test_encode_errors(void **state)
{
    (void)state;
    nw_buf_t b = {0};
    nw_ack_t k;
    nw_raw_t r;
    nw_article_t a;

    assert_int_equal(nw_buf_append(&b, "keep", 4), 0);
    ack_min(&k);
    k.status = NULL;
    assert_int_equal(nw_ack_encode(&k, &b), -EINVAL);
    assert_int_equal(b.len, 4); /* out untouched on error */
    assert_string_equal((char *)b.data, "keep");
    ack_min(&k);
    k.status = S("caf\xc3");
    assert_int_equal(nw_ack_encode(&k, &b), -EINVAL);
    ack_min(&k);
    k.extra = (nw_extra_t){(uint8_t *)"\xa2zz", 3, 1}; /* key without a value */
    assert_int_equal(nw_ack_encode(&k, &b), -EINVAL);
    k.extra = (nw_extra_t){(uint8_t *)"\x01\x02", 2, 1}; /* int key */
    assert_int_equal(nw_ack_encode(&k, &b), -EINVAL);
    k.extra = (nw_extra_t){(uint8_t *)"\xa1\xff\xc0", 3, 1}; /* key not UTF-8 */
    assert_int_equal(nw_ack_encode(&k, &b), -EINVAL);
    k.extra = (nw_extra_t){(uint8_t *)"\xa2zz\xc0\x00", 5, 1}; /* bytes beyond n entries */
    assert_int_equal(nw_ack_encode(&k, &b), -EINVAL);
    k.extra = (nw_extra_t){(uint8_t *)"\xa2zz\xdd\xff\xff\xff\xff", 8, 1}; /* lying count */
    assert_int_equal(nw_ack_encode(&k, &b), -EINVAL);
    assert_int_equal(b.len, 4);

    raw_min(&r);
    r.body = NULL;
    r.body_len = 5;
    assert_int_equal(nw_raw_encode(&r, &b), -EINVAL);
    raw_min(&r);
    char *bad_author[] = {S("ok"), NULL};
    article_min(&a);
    a.authors = bad_author;
    a.n_authors = 2;
    assert_int_equal(nw_article_encode(&a, &b), -EINVAL);
    nw_caption_t cap = {.credit = S("AFP")}; /* caption without its required text */
    article_min(&a);
    a.captions = &cap;
    a.n_captions = 1;
    assert_int_equal(nw_article_encode(&a, &b), -EINVAL);
    assert_int_equal(b.len, 4);

    /* a message that would exceed NW_PROTO_MAX_MSG is refused, not truncated */
    raw_min(&r);
    r.body_len = NW_PROTO_MAX_MSG;
    r.body = calloc(1, r.body_len);
    assert_non_null(r.body);
    assert_int_equal(nw_raw_encode(&r, &b), -EMSGSIZE);
    assert_int_equal(b.len, 4);
    free(r.body);
    nw_buf_release(&b);
}

static void
test_proto_check(void **state)
{
    (void)state;
    /* [nil, fixext16]: header, type byte, then 16 data bytes (zero) */
    static const uint8_t ok[4 + 16] = {0x92, 0xc0, 0xd8, 0x01};
    assert_int_equal(nw_proto_check(ok, sizeof(ok)), 0);
    assert_int_equal(nw_proto_check(ok, sizeof(ok) - 1), -EPROTO);
    assert_non_null(strstr(nw_proto_error(), "truncated"));
    static const uint8_t scalar[] = {0xcf, 1, 2, 3, 4, 5, 6, 7, 8};
    assert_int_equal(nw_proto_check(scalar, sizeof(scalar)), 0);
    assert_int_equal(nw_proto_check(scalar, 8), -EPROTO);
}

/* ---- the documents match the code ------------------------------------------------------ */

struct row {
    char key[32];
    char type[64];
    bool required;
};

/* The field-table rows of proto/<doc>: lines "| `key` | type | yes/no | meaning |". */
static size_t
read_rows(const char *doc, struct row *rows, size_t max)
{
    char path[4096];
    uint8_t *text;
    size_t len, n = 0;
    snprintf(path, sizeof(path), "%s/proto/%s", NW_SOURCE_DIR, doc);
    if (nw_read_file(path, 1 << 20, &text, &len) != 0)
        fail_msg("cannot read %s", path);
    for (char *line = (char *)text; line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        char key[32], type[64], req[8];
        if (sscanf(line, "| `%31[^`]` | %63[^|]| %7[a-z] |", key, type, req) == 3) {
            assert_true(n < max);
            snprintf(rows[n].key, sizeof(rows[n].key), "%s", key);
            snprintf(rows[n].type, sizeof(rows[n].type), "%s", type);
            rows[n].required = strcmp(req, "yes") == 0;
            n++;
        }
        line = next;
    }
    free(text);
    return n;
}

static bool
type_matches(const char *doc_type, msgpack_object_type t)
{
    if (strncmp(doc_type, "str", 3) == 0)
        return t == MSGPACK_OBJECT_STR;
    if (strncmp(doc_type, "bin", 3) == 0)
        return t == MSGPACK_OBJECT_BIN;
    if (strncmp(doc_type, "uint", 4) == 0)
        return t == MSGPACK_OBJECT_POSITIVE_INTEGER;
    if (strncmp(doc_type, "bool", 4) == 0)
        return t == MSGPACK_OBJECT_BOOLEAN;
    if (strncmp(doc_type, "array", 5) == 0)
        return t == MSGPACK_OBJECT_ARRAY;
    if (strncmp(doc_type, "map", 3) == 0)
        return t == MSGPACK_OBJECT_MAP;
    if (strncmp(doc_type, "float", 5) == 0)
        return t == MSGPACK_OBJECT_FLOAT64 || t == MSGPACK_OBJECT_FLOAT32;
    return false;
}

/* Rows [0, n) must be exactly the keys of map m in order, with matching types. */
static void
assert_rows_match(const char *doc, const struct row *rows, size_t n, const msgpack_object_map *m,
                  size_t first)
{
    if (m->size - first != n)
        fail_msg("%s documents %zu keys, the encoding has %u", doc, n, m->size - (uint32_t)first);
    for (size_t i = 0; i < n; i++) {
        const msgpack_object_kv *kv = &m->ptr[first + i];
        if (kv->key.via.str.size != strlen(rows[i].key) ||
            memcmp(kv->key.via.str.ptr, rows[i].key, kv->key.via.str.size) != 0)
            fail_msg("%s row %zu is \"%s\", the encoder writes \"%.*s\"", doc, i, rows[i].key,
                     (int)kv->key.via.str.size, kv->key.via.str.ptr);
        if (!type_matches(rows[i].type, kv->val.type))
            fail_msg("%s: key \"%s\" documented as %s, encoded as %d", doc, rows[i].key,
                     rows[i].type, kv->val.type);
    }
}

/* Dropping a key from a full message must break decoding exactly when the doc says required. */
static void
assert_required_matches(const char *doc, const struct type *t, const struct row *rows,
                        const msgpack_object_map *m, size_t first, size_t n)
{
    nw_buf_t b = {0};
    msgpack_packer pk;
    for (size_t drop = first; drop < first + n; drop++) {
        packer_init(&pk, &b);
        msgpack_pack_map(&pk, m->size - 1);
        for (uint32_t i = 0; i < m->size; i++) {
            if (i == drop)
                continue;
            msgpack_pack_object(&pk, m->ptr[i].key);
            msgpack_pack_object(&pk, m->ptr[i].val);
        }
        void *x = calloc(1, t->size);
        int rc = t->decode(x, b.data, b.len);
        bool required = rows[drop - first].required;
        if (rc != (required ? -EPROTO : 0))
            fail_msg("%s: key \"%s\" documented %s, decoding without it gives %d", doc,
                     rows[drop - first].key, required ? "required" : "optional", rc);
        t->release(x);
        free(x);
    }
    nw_buf_release(&b);
}

static void
check_doc(const char *doc, const struct type *t, const void *full)
{
    struct row rows[64];
    size_t n = read_rows(doc, rows, 64);
    nw_buf_t b = {0};
    msgpack_unpacked u;
    encode_ok(t, full, &b);
    msgpack_unpacked_init(&u);
    size_t off = 0;
    assert_int_equal(msgpack_unpack_next(&u, (const char *)b.data, b.len, &off),
                     MSGPACK_UNPACK_SUCCESS);
    const msgpack_object_map *m = &u.data.via.map;
    if (t == &T_ENRICHED) {
        /* enriched.md documents only the keys after the article's */
        assert_true(m->size > n);
        assert_rows_match(doc, rows, n, m, m->size - n);
        assert_required_matches(doc, t, rows, m, m->size - n, n);
    } else if (t == &T_ARTICLE) {
        /* article.md: the article table, then the caption table */
        size_t top = m->size;
        assert_true(n > top);
        assert_rows_match(doc, rows, top, m, 0);
        assert_required_matches(doc, t, rows, m, 0, top);
        const msgpack_object *caps = NULL;
        for (uint32_t i = 0; i < m->size; i++)
            if (m->ptr[i].key.via.str.size == 8 &&
                !memcmp(m->ptr[i].key.via.str.ptr, "captions", 8))
                caps = &m->ptr[i].val;
        assert_non_null(caps);
        assert_rows_match(doc, rows + top, n - top, &caps->via.array.ptr[0].via.map, 0);
    } else {
        assert_rows_match(doc, rows, n, m, 0);
        assert_required_matches(doc, t, rows, m, 0, n);
    }
    msgpack_unpacked_destroy(&u);
    nw_buf_release(&b);
}

static void
test_docs_match_code(void **state)
{
    (void)state;
    nw_raw_t r;
    nw_article_t a;
    nw_enriched_t e;
    nw_ack_t k;
    nw_dead_t d;
    raw_full(&r);
    check_doc("raw.md", &T_RAW, &r);
    article_full(&a);
    check_doc("article.md", &T_ARTICLE, &a);
    enriched_full(&e);
    check_doc("enriched.md", &T_ENRICHED, &e);
    ack_full(&k);
    check_doc("ack.md", &T_ACK, &k);
    dead_full(&d);
    check_doc("dead.md", &T_DEAD, &d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_full),
        cmocka_unit_test(test_roundtrip_minimal),
        cmocka_unit_test(test_unknown_keys_pass_through),
        cmocka_unit_test(test_unknown_keys_enriched_as_article),
        cmocka_unit_test(test_extra_copy_and_collision),
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_golden_values),
        cmocka_unit_test(test_reject_truncated_every_length),
        cmocka_unit_test(test_reject_trailing),
        cmocka_unit_test(test_reject_missing_and_wrong_type),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_reject_duplicate_keys),
        cmocka_unit_test(test_reject_invalid_utf8),
        cmocka_unit_test(test_reject_huge_counts),
        cmocka_unit_test(test_reject_too_many_items),
        cmocka_unit_test(test_reject_deep_nesting),
        cmocka_unit_test(test_reject_oversized),
        cmocka_unit_test(test_lenient_decoding),
        cmocka_unit_test(test_encode_errors),
        cmocka_unit_test(test_proto_check),
        cmocka_unit_test(test_docs_match_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
