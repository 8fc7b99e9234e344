/* test_proto_fuzz.c: deterministic fuzzing of every decoder in proto.h and of
 * nw_json_from_msgpack. The corpus is the golden fixtures in proto/golden/ plus a few
 * hand-made maps; each iteration either makes a random buffer or mutates a corpus entry (bit
 * flips, byte insert/delete, truncation, corrupted length and count fields, splices) and throws
 * the result at all five decoders and the JSON bridge. Properties checked:
 *   - every call returns 0 or -EPROTO (the JSON bridge may also say -ERANGE), never crashes,
 *     never over-reads (each input is its own exact-size heap block, so ASan sees it);
 *   - whatever decodes re-encodes, and that encoding decodes and re-encodes to the same bytes;
 *   - whatever converts to JSON converts back, and to the same JSON again.
 * The seed is fixed, so a failure reproduces; NW_FUZZ_SEED and NW_FUZZ_ITERS override it for
 * longer runs by hand. */
#include "newswire/proto.h"

#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "newswire/buf.h"
#include "newswire/json.h"
#include "newswire/util.h"

#define MAX_CORPUS 64
#define DEFAULT_ITERS 24000

struct input {
    uint8_t *p;
    size_t len;
};

static struct input corpus[MAX_CORPUS];
static size_t n_corpus;
static uint64_t rng_state;

static uint64_t
rnd(void)
{
    /* xorshift64*: tiny, fast, and the same sequence everywhere */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(2685821657736338717);
}

static size_t
rnd_below(size_t n)
{
    return n ? (size_t)(rnd() % n) : 0;
}

static void
corpus_add(const void *p, size_t len)
{
    assert_true(n_corpus < MAX_CORPUS);
    corpus[n_corpus].p = malloc(len);
    assert_non_null(corpus[n_corpus].p);
    memcpy(corpus[n_corpus].p, p, len);
    corpus[n_corpus].len = len;
    n_corpus++;
}

static int
load_corpus(void **state)
{
    (void)state;
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/proto/golden", NW_SOURCE_DIR);
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 9 || strcmp(e->d_name + n - 8, ".msgpack") != 0)
            continue;
        char path[8192];
        uint8_t *buf;
        size_t len;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (nw_read_file(path, NW_PROTO_MAX_MSG, &buf, &len) == 0) {
            corpus_add(buf, len);
            free(buf);
        }
    }
    closedir(d);
    /* Shapes the golden files lack: nil for optional keys, str body, float and ext values,
     * a caption map with unknown keys, deeper unknown values. */
    static const char *const extra_seeds[] = {
        "{\"v\":1,\"id\":\"x\",\"status\":\"stored\",\"seq\":null,\"f\":3.14159}",
        "{\"v\":1,\"id\":\"x\",\"text\":\"\",\"captions\":[{\"text\":\"c\",\"q\":"
        "[{\"ext\":5,\"base64\":\"Bw==\"},{\"k\":1.5}]}]}",
        "{\"v\":2,\"stage\":\"p\",\"reason\":\"r\",\"time\":\"t\",\"bytes\":"
        "{\"base64\":\"/wBB\"},\"n\":[-1,-128,false]}",
        "{\"v\":1,\"id\":\"r\",\"source\":\"s\",\"fetched\":\"f\",\"content_type\":"
        "\"text/plain\",\"body\":\"plain text body\",\"headers\":{\"a\":\"b\"}}",
        /* Version 2: an ack for a late revision, and a dead letter as v2 writers send it (the
         * v2 golden files are raw, article and enriched; these keep ack and dead at their
         * share of the corpus). */
        "{\"v\":2,\"id\":\"x\",\"origin\":\"f\",\"spool\":7,\"status\":\"history\",\"rev\":3}",
        "{\"v\":2,\"stage\":\"parse\",\"reason\":\"empty\",\"time\":\"t\",\"id\":\"x\","
        "\"origin\":\"f\",\"spool\":9,\"bytes\":{\"base64\":\"AAE=\"}}",
    };
    for (size_t i = 0; i < sizeof(extra_seeds) / sizeof(extra_seeds[0]); i++) {
        nw_buf_t b = {0};
        char err[128];
        if (nw_json_to_msgpack(extra_seeds[i], strlen(extra_seeds[i]), &b, err, sizeof(err)))
            return -1;
        corpus_add(b.data, b.len);
        nw_buf_release(&b);
    }
    const char *seed = getenv("NW_FUZZ_SEED");
    rng_state = seed ? strtoull(seed, NULL, 0) : UINT64_C(0x6e657773776972);
    if (rng_state == 0)
        rng_state = 1;
    return n_corpus > 4 ? 0 : -1;
}

static int
free_corpus(void **state)
{
    (void)state;
    for (size_t i = 0; i < n_corpus; i++)
        free(corpus[i].p);
    n_corpus = 0;
    return 0;
}

/* ---- mutations ------------------------------------------------------------------------- */

static const uint8_t interesting[] = {0x00, 0x01, 0x0f, 0x10, 0x7f, 0x80, 0xc0, 0xc1, 0xc4,
                                      0xc6, 0xd9, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xfe, 0xff};

static bool
is_length_header(uint8_t b)
{
    return (b >= 0x80 && b <= 0xbf) || (b >= 0xc4 && b <= 0xc9) || (b >= 0xd9 && b <= 0xdf);
}

static void
mutate_once(nw_buf_t *b)
{
    size_t len = b->len;
    switch (rnd_below(8)) {
    case 0: /* bit flip */
        if (len)
            b->data[rnd_below(len)] ^= (uint8_t)(1u << rnd_below(8));
        break;
    case 1: /* random or interesting byte */
        if (len)
            b->data[rnd_below(len)] =
                rnd() & 1 ? (uint8_t)rnd() : interesting[rnd_below(sizeof(interesting))];
        break;
    case 2: { /* insert a byte */
        size_t at = rnd_below(len + 1);
        uint8_t c = (uint8_t)rnd();
        assert_int_equal(nw_buf_reserve(b, 1), 0);
        memmove(b->data + at + 1, b->data + at, len - at);
        b->data[at] = c;
        b->len++;
        break;
    }
    case 3: /* delete a run */
        if (len) {
            size_t at = rnd_below(len);
            size_t n = 1 + rnd_below(len - at < 4 ? len - at : 4);
            memmove(b->data + at, b->data + at + n, len - at - n);
            b->len -= n;
        }
        break;
    case 4: /* truncate */
        b->len = rnd_below(len + 1);
        break;
    case 5: { /* corrupt a length or count: find a header byte and change it or what follows */
        for (int tries = 0; tries < 16 && len; tries++) {
            size_t at = rnd_below(len);
            if (!is_length_header(b->data[at]))
                continue;
            if (b->data[at] < 0xc4 || at + 1 >= len)
                b->data[at] = (uint8_t)((b->data[at] & 0xe0) | (rnd() & 0x1f));
            else
                b->data[at + 1] = interesting[rnd_below(sizeof(interesting))];
            break;
        }
        break;
    }
    case 6: { /* splice: append part of another corpus entry */
        const struct input *o = &corpus[rnd_below(n_corpus)];
        size_t from = rnd_below(o->len);
        assert_int_equal(nw_buf_append(b, o->p + from, o->len - from), 0);
        break;
    }
    case 7: { /* duplicate a slice in place (repeats keys and values) */
        if (len) {
            size_t at = rnd_below(len);
            size_t n = 1 + rnd_below(len - at < 16 ? len - at : 16);
            uint8_t tmp[16];
            memcpy(tmp, b->data + at, n);
            assert_int_equal(nw_buf_append(b, tmp, n), 0);
        }
        break;
    }
    }
}

/* Fill b with this iteration's input. */
static void
make_input(nw_buf_t *b)
{
    nw_buf_reset(b);
    if (rnd_below(8) == 0) {
        /* random bytes, often behind a fixmap header so decoders get past the first check */
        size_t n = rnd_below(64);
        if (rnd() & 1) {
            uint8_t h = (uint8_t)(0x80 | rnd_below(16));
            assert_int_equal(nw_buf_append(b, &h, 1), 0);
        }
        for (size_t i = 0; i < n; i++) {
            uint8_t c = (uint8_t)rnd();
            assert_int_equal(nw_buf_append(b, &c, 1), 0);
        }
        return;
    }
    const struct input *in = &corpus[rnd_below(n_corpus)];
    assert_int_equal(nw_buf_append(b, in->p, in->len), 0);
    /* mostly one edit, so many inputs stay decodable and exercise the success path too */
    size_t n = rnd_below(3) ? 1 : 2 + rnd_below(4);
    for (size_t i = 0; i < n; i++)
        mutate_once(b);
}

/* ---- the properties -------------------------------------------------------------------- */

struct type {
    const char *name;
    size_t size;
    int (*encode)(const void *m, nw_buf_t *out);
    int (*decode)(void *m, const uint8_t *buf, size_t len);
    void (*release)(void *m);
};

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

static const struct type TYPES[] = {
    {"raw", sizeof(nw_raw_t), raw_enc, raw_dec, raw_rel},
    {"article", sizeof(nw_article_t), article_enc, article_dec, article_rel},
    {"enriched", sizeof(nw_enriched_t), enriched_enc, enriched_dec, enriched_rel},
    {"ack", sizeof(nw_ack_t), ack_enc, ack_dec, ack_rel},
    {"dead", sizeof(nw_dead_t), dead_enc, dead_dec, dead_rel},
};
#define N_TYPES (sizeof(TYPES) / sizeof(TYPES[0]))

/* Decode; when that works, check encode -> decode -> encode is stable. Returns 1 on success. */
static int
check_decoder(const struct type *t, const uint8_t *p, size_t len, uint64_t iter)
{
    union {
        nw_raw_t raw;
        nw_article_t article;
        nw_enriched_t enriched;
        nw_ack_t ack;
        nw_dead_t dead;
    } m1, m2;
    nw_buf_t e1 = {0}, e2 = {0};

    int rc = t->decode(&m1, p, len);
    if (rc != 0 && rc != -EPROTO)
        fail_msg("iteration %llu: %s decode returned %d", (unsigned long long)iter, t->name, rc);
    if (rc != 0)
        return 0;
    rc = t->encode(&m1, &e1);
    if (rc != 0)
        fail_msg("iteration %llu: %s: decoded message does not re-encode: %d",
                 (unsigned long long)iter, t->name, rc);
    rc = t->decode(&m2, e1.data, e1.len);
    if (rc != 0)
        fail_msg("iteration %llu: %s: re-encoding does not decode: %s", (unsigned long long)iter,
                 t->name, nw_proto_error());
    assert_int_equal(t->encode(&m2, &e2), 0);
    if (e1.len != e2.len || memcmp(e1.data, e2.data, e1.len) != 0)
        fail_msg("iteration %llu: %s: encode/decode is not stable", (unsigned long long)iter,
                 t->name);
    t->release(&m1);
    t->release(&m2);
    nw_buf_release(&e1);
    nw_buf_release(&e2);
    return 1;
}

/* MessagePack -> JSON; when that works, JSON -> MessagePack -> JSON must give the same text.
 * The one known exception is a real map shaped like {"base64": "<valid base64>"}, which the
 * reverse conversion reads as bin by design; it must still settle after one more pass. */
static int
check_json(const uint8_t *p, size_t len, uint64_t iter)
{
    nw_buf_t j1 = {0}, m = {0}, j2 = {0}, m2 = {0}, j3 = {0};
    char err[256];
    int rc = nw_json_from_msgpack(p, len, &j1);
    if (rc != 0 && rc != -EPROTO && rc != -ERANGE)
        fail_msg("iteration %llu: json_from_msgpack returned %d", (unsigned long long)iter, rc);
    if (rc != 0) {
        nw_buf_release(&j1);
        return 0;
    }
    assert_true(nw_utf8_valid(j1.data, j1.len));
    rc = nw_json_to_msgpack((const char *)j1.data, j1.len, &m, err, sizeof(err));
    if (rc != 0)
        fail_msg("iteration %llu: our own JSON does not convert back: %s: %s",
                 (unsigned long long)iter, err, (const char *)j1.data);
    assert_int_equal(nw_json_from_msgpack(m.data, m.len, &j2), 0);
    if (strstr((const char *)j1.data, "\"base64\"") == NULL) {
        if (j1.len != j2.len || memcmp(j1.data, j2.data, j1.len) != 0)
            fail_msg("iteration %llu: JSON round trip differs:\n%s\n%s", (unsigned long long)iter,
                     (const char *)j1.data, (const char *)j2.data);
    } else {
        assert_int_equal(nw_json_to_msgpack((const char *)j2.data, j2.len, &m2, err, sizeof(err)),
                         0);
        assert_int_equal(nw_json_from_msgpack(m2.data, m2.len, &j3), 0);
        assert_int_equal(j2.len, j3.len);
        assert_memory_equal(j2.data, j3.data, j2.len);
    }
    nw_buf_release(&j1);
    nw_buf_release(&m);
    nw_buf_release(&j2);
    nw_buf_release(&m2);
    nw_buf_release(&j3);
    return 1;
}

static void
test_fuzz_all_decoders(void **state)
{
    (void)state;
    const char *it = getenv("NW_FUZZ_ITERS");
    uint64_t iters = it ? strtoull(it, NULL, 10) : DEFAULT_ITERS;
    uint64_t ok[N_TYPES] = {0}, calls[N_TYPES] = {0}, json_ok = 0, json_calls = 0;
    nw_buf_t b = {0};

    for (uint64_t i = 0; i < iters; i++) {
        make_input(&b);
        /* an exact-size copy: any read past the end is an ASan report */
        uint8_t *p = malloc(b.len ? b.len : 1);
        assert_non_null(p);
        if (b.len)
            memcpy(p, b.data, b.len);
        for (size_t t = 0; t < N_TYPES; t++) {
            ok[t] += (uint64_t)check_decoder(&TYPES[t], p, b.len, i);
            calls[t]++;
        }
        json_ok += (uint64_t)check_json(p, b.len, i);
        json_calls++;
        free(p);
    }
    nw_buf_release(&b);

    for (size_t t = 0; t < N_TYPES; t++) {
        print_message("%-8s %llu inputs, %llu decoded\n", TYPES[t].name,
                      (unsigned long long)calls[t], (unsigned long long)ok[t]);
    }
    for (size_t t = 0; t < N_TYPES; t++) {
        assert_true(calls[t] >= 20000 || it != NULL);
        /* mutated valid messages must reach the success path, or the fuzzing proves little */
        assert_true(ok[t] > calls[t] / 100);
        assert_true(ok[t] < calls[t]);
    }
    print_message("json     %llu inputs, %llu converted\n", (unsigned long long)json_calls,
                  (unsigned long long)json_ok);
    assert_true(json_ok > json_calls / 10);
}

/* Every strict prefix of every corpus entry and every single-byte change at every position:
 * exhaustive where the random walk is not. */
static void
test_exhaustive_small_edits(void **state)
{
    (void)state;
    uint64_t n = 0;
    for (size_t c = 0; c < n_corpus; c++) {
        const struct input *in = &corpus[c];
        if (in->len > 128)
            continue;
        for (size_t at = 0; at < in->len; at++) {
            for (size_t k = 0; k < sizeof(interesting); k++) {
                uint8_t *p = malloc(in->len);
                assert_non_null(p);
                memcpy(p, in->p, in->len);
                p[at] = interesting[k];
                for (size_t t = 0; t < N_TYPES; t++)
                    check_decoder(&TYPES[t], p, in->len, n);
                check_json(p, in->len, n);
                free(p);
                n++;
            }
        }
    }
    assert_true(n > 1000);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fuzz_all_decoders),
        cmocka_unit_test(test_exhaustive_small_edits),
    };
    return cmocka_run_group_tests(tests, load_corpus, free_corpus);
}
