/* test_seeds.c: the two seed articles (NW_SHARED_DATA/seeds) through nw_parse_raw, every field
 * asserted. The seeds' text is not copied here: short metadata (headline, credit, dateline)
 * is asserted literally, and whole paragraphs and captions are checked against the seed's own
 * lines, cut at the place a reader would cut them, so each check is exact without embedding
 * the articles. Skips when the shared data is absent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "newswire/parse.h"
#include "newswire/proto.h"
#include "newswire/util.h"

#define SEED_000 "000_0426941d7c751aaa.txt"
#define SEED_002 "002_07cb34b1e9b7ec05.txt"
#define NBSP "\xc2\xa0"

typedef struct seed {
    uint8_t *bytes;
    size_t len;
    char *lines[64]; /* the file's non-empty lines, as they are */
    size_t n_lines;
    nw_article_t art;
} seed_t;

static int
load(const char *name, seed_t *s)
{
    const char *dir = getenv("NW_SHARED_DATA");
    if (dir == NULL || dir[0] == 0)
        return -1;
    char path[1024];
    snprintf(path, sizeof(path), "%s/seeds/%s", dir, name);
    memset(s, 0, sizeof(*s));
    if (nw_read_file(path, 1 << 20, &s->bytes, &s->len) != 0)
        return -1;
    const char *p = (const char *)s->bytes, *end = p + s->len;
    while (p < end && s->n_lines < 64) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        if (e == NULL)
            e = end;
        if (e > p)
            s->lines[s->n_lines++] = nw_strndup(p, (size_t)(e - p));
        p = e + 1;
    }
    nw_raw_t raw;
    memset(&raw, 0, sizeof(raw));
    raw.id = (char *)name;
    raw.source = "inbox";
    raw.fetched = "2024-02-06T12:00:00.000Z";
    raw.content_type = "text/plain";
    raw.body = s->bytes;
    raw.body_len = s->len;
    const char *reason = NULL;
    char detail[256];
    int rc = nw_parse_raw(&raw, &s->art, &reason, detail, sizeof(detail));
    if (rc != 0)
        fail_msg("%s: rc=%d reason=%s detail=%s", name, rc, reason, detail);
    return 0;
}

static void
unload(seed_t *s)
{
    for (size_t i = 0; i < s->n_lines; i++)
        free(s->lines[i]);
    free(s->bytes);
    nw_article_release(&s->art);
}

/* Copy of s without the prefix `pre` (which must be there) and the suffix `suf` (likewise). */
static char *
cut(const char *s, const char *pre, const char *suf)
{
    size_t n = strlen(s), a = strlen(pre), b = strlen(suf);
    assert_true(n >= a + b);
    assert_memory_equal(s, pre, a);
    assert_memory_equal(s + n - b, suf, b);
    return nw_strndup(s + a, n - a - b);
}

/* Replace every occurrence of `from` in s (in place; `to` is not longer). */
static void
replace(char *s, const char *from, const char *to)
{
    size_t fl = strlen(from), tl = strlen(to);
    for (char *p = s; (p = strstr(p, from)) != NULL; p += tl) {
        memmove(p + tl, p + fl, strlen(p + fl) + 1);
        memcpy(p, to, tl);
    }
}

static size_t
split_paragraphs(char *text, char **out, size_t max)
{
    size_t n = 0;
    char *p = text;
    while (p != NULL && n < max) {
        out[n++] = p;
        char *e = strstr(p, "\n\n");
        if (e != NULL) {
            *e = 0;
            p = e + 2;
        } else {
            p = NULL;
        }
    }
    return n;
}

static void
assert_ends(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    assert_true(n >= k);
    assert_string_equal(s + n - k, suffix);
}

static void
assert_no_leak(const nw_article_t *a)
{
    for (size_t i = 0; i < a->n_captions; i++) {
        assert_null(strstr(a->text, a->captions[i].text));
        assert_null(strstr(a->text, a->captions[i].credit));
    }
    assert_null(strstr(a->text, "PHOTO/"));
    assert_null(strstr(a->text, "\xc2\xa9"));
    assert_null(strstr(a->text, NBSP));
    assert_null(strstr(a->text, "\n\n\n"));
}

static void
test_seed_000(void **state)
{
    (void)state;
    seed_t s;
    if (load(SEED_000, &s) != 0) {
        print_message("seeds: NW_SHARED_DATA/seeds/" SEED_000 " not available\n");
        skip();
    }
    nw_article_t *a = &s.art;
    assert_null(a->title);
    assert_null(a->subtitle);
    assert_string_equal(a->published, "2024-02-06");
    assert_string_equal(a->dateline, "Cairo, Egypt");
    assert_int_equal(a->n_authors, 0);
    assert_null(a->lang);
    assert_string_equal(a->content_type, "text/plain");
    assert_string_equal(a->id, SEED_000);

    /* one caption: the seed's second line without its credit */
    assert_int_equal(a->n_captions, 1);
    const nw_caption_t *c = &a->captions[0];
    char *want = cut(s.lines[1], "", " \xc2\xa9 Mark Schiefelbein/Pool via REUTERS");
    assert_string_equal(c->text, want);
    assert_true(strncmp(c->text, "Secretary of State Antony Blinken is on his fifth", 49) == 0);
    free(want);
    assert_string_equal(c->credit, "\xc2\xa9 Mark Schiefelbein/Pool via REUTERS");
    assert_string_equal(c->photographer, "Mark Schiefelbein");
    assert_string_equal(c->agency, "Reuters");
    assert_true(c->pool);

    /* body: every other line; the first without date prefix and dateline, "Gaza ." closed */
    char *text = strdup(a->text);
    char *paras[64];
    size_t n = split_paragraphs(text, paras, 64);
    assert_int_equal(n, s.n_lines - 1);
    assert_int_equal(n, 10);
    want = cut(s.lines[0], " date 2024-02-06 Cairo, Egypt - ", "");
    replace(want, "Gaza .", "Gaza.");
    assert_string_equal(paras[0], want);
    assert_true(strncmp(paras[0],
                        "US Secretary of State Antony Blinken was due to fly to Egypt "
                        "on Tuesday",
                        70) == 0);
    free(want);
    for (size_t i = 1; i < n; i++)
        assert_string_equal(paras[i], s.lines[i + 1]);
    assert_true(strncmp(paras[n - 1], "But Israel has vowed to press on", 32) == 0);
    assert_ends(paras[n - 1], "Yoav Gallant said Monday.");
    free(text);
    assert_no_leak(a);
    unload(&s);
}

static void
test_seed_002(void **state)
{
    (void)state;
    seed_t s;
    if (load(SEED_002, &s) != 0) {
        print_message("seeds: NW_SHARED_DATA/seeds/" SEED_002 " not available\n");
        skip();
    }
    nw_article_t *a = &s.art;
    assert_string_equal(a->title,
                        "Blinken will travel to Saudi Arabia and Egypt to discuss the Gaza truce");
    assert_string_equal(a->subtitle, "To discuss ceasefire negotiations between Israel and the "
                                     "Palestinian Islamist group Hamas with their leaders");
    assert_null(a->published);
    assert_null(a->dateline);
    assert_int_equal(a->n_authors, 0);
    assert_null(a->lang);

    /* two captions, Spanish then English, each line without its dash and credit */
    assert_int_equal(a->n_captions, 2);
    const char *credit = "PHOTO/Mark Schiefelbein/POOL/AFP";
    char *es = cut(s.lines[2], "", " \xe2\x80\x93 PHOTO/Mark Schiefelbein/POOL/AFP");
    char *en = cut(s.lines[3], "", " - PHOTO/Mark Schiefelbein/POOL/AFP");
    assert_string_equal(a->captions[0].text, es);
    assert_string_equal(a->captions[1].text, en);
    assert_true(strncmp(a->captions[0].text, "El secretario de Estado", 23) == 0);
    assert_true(strncmp(a->captions[1].text, "U.S. Secretary of State", 23) == 0);
    free(es);
    free(en);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(a->captions[i].credit, credit);
        assert_string_equal(a->captions[i].photographer, "Mark Schiefelbein");
        assert_string_equal(a->captions[i].agency, "AFP");
        assert_true(a->captions[i].pool);
        assert_null(a->captions[i].lang);
    }

    /* nine paragraphs: lines 5.. of the file without their trailing NBSP */
    char *text = strdup(a->text);
    char *paras[64];
    size_t n = split_paragraphs(text, paras, 64);
    assert_int_equal(n, 9);
    assert_int_equal(s.n_lines, 4 + 9);
    for (size_t i = 0; i < n; i++) {
        const char *line = s.lines[4 + i];
        size_t ll = strlen(line);
        bool nbsp = ll >= 2 && strcmp(line + ll - 2, NBSP) == 0;
        char *w = nw_strndup(line, nbsp ? ll - 2 : ll);
        assert_string_equal(paras[i], w);
        free(w);
    }
    assert_true(strncmp(paras[0], "US Chief of Staff Antony Blinken will travel", 44) == 0);
    assert_ends(paras[8], "Washington warned.");
    free(text);
    assert_no_leak(a);
    unload(&s);
}

int
main(void)
{
    const char *dir = getenv("NW_SHARED_DATA");
    char path[1024];
    snprintf(path, sizeof(path), "%s/seeds/" SEED_000, dir ? dir : "");
    if (dir == NULL || access(path, R_OK) != 0) {
        fprintf(stderr, "test_seeds: skipped, seed articles not found (NW_SHARED_DATA=%s)\n",
                dir ? dir : "unset");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_000),
        cmocka_unit_test(test_seed_002),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
