/* test_robots.c: robots.txt groups, Allow/Disallow longest match, wildcards, status handling
 * and the per-host cache. */
#include "newswire/robots.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static nw_robots_t *
parse(const char *txt)
{
    nw_robots_t *r = nw_robots_parse(txt, strlen(txt), "newswire");
    assert_non_null(r);
    return r;
}

static void
test_groups(void **state)
{
    (void)state;
    /* Our group applies, not "*"; other agents' groups are ignored; our token is matched
     * case-insensitively and without its version. */
    nw_robots_t *r = parse("User-agent: *\n"
                           "Disallow: /\n"
                           "\n"
                           "User-agent: otherbot\n"
                           "Disallow: /news\n"
                           "\n"
                           "User-agent: NewsWire/2.0\n"
                           "Disallow: /private\n");
    assert_true(nw_robots_allowed(r, "/news/1"));
    assert_false(nw_robots_allowed(r, "/private/x"));
    assert_true(nw_robots_allowed(r, "/"));
    nw_robots_free(&r);
    assert_null(r);

    /* Without a group for us the "*" group applies. */
    r = parse("User-agent: otherbot\nAllow: /\n\nUser-agent: *\nDisallow: /\n");
    assert_false(nw_robots_allowed(r, "/anything"));
    assert_true(nw_robots_allowed(r, "/robots.txt"));
    nw_robots_free(&r);

    /* Consecutive User-agent lines share a group; two groups for us are merged; comments,
     * CRLF, odd spacing and unknown keys are fine. */
    r = parse("# comment\r\n"
              "User-agent: a\r\n"
              "user-agent:   newswire   # us\r\n"
              "Disallow: /one\r\n"
              "Sitemap: https://example.com/sitemap.xml\r\n"
              "\r\n"
              "User-agent: b\r\n"
              "Disallow: /b-only\r\n"
              "User-agent: newswire\r\n"
              "DISALLOW : /two\r\n");
    assert_false(nw_robots_allowed(r, "/one"));
    assert_false(nw_robots_allowed(r, "/two/x"));
    assert_true(nw_robots_allowed(r, "/b-only"));
    nw_robots_free(&r);

    /* No group at all, an empty file, or an empty Disallow: everything is allowed. */
    r = parse("User-agent: otherbot\nDisallow: /\n");
    assert_true(nw_robots_allowed(r, "/x"));
    nw_robots_free(&r);
    r = parse("");
    assert_true(nw_robots_allowed(r, "/x"));
    nw_robots_free(&r);
    r = parse("User-agent: *\nDisallow:\n");
    assert_true(nw_robots_allowed(r, "/x"));
    nw_robots_free(&r);
}

static void
test_longest_match(void **state)
{
    (void)state;
    nw_robots_t *r = parse("User-agent: newswire\n"
                           "Disallow: /news\n"
                           "Allow: /news/public\n"
                           "Disallow: /news/public/secret\n"
                           "Allow: /page\n"
                           "Disallow: /page\n");
    assert_false(nw_robots_allowed(r, "/news/2024"));
    assert_true(nw_robots_allowed(r, "/news/public/a"));
    assert_false(nw_robots_allowed(r, "/news/public/secret/b"));
    assert_true(nw_robots_allowed(r, "/page")); /* a tie goes to Allow */
    assert_true(nw_robots_allowed(r, "/other"));
    /* Prefix matching is on characters, not segments. */
    assert_false(nw_robots_allowed(r, "/newsletter"));
    nw_robots_free(&r);
}

static void
test_wildcards(void **state)
{
    (void)state;
    nw_robots_t *r = parse("User-agent: *\n"
                           "Disallow: /*.pdf$\n"
                           "Disallow: /*/print\n"
                           "Disallow: /search?*q=\n"
                           "Allow: /exact$\n"
                           "Disallow: /exact\n");
    assert_false(nw_robots_allowed(r, "/docs/a.pdf"));
    assert_true(nw_robots_allowed(r, "/docs/a.pdf?page=2")); /* $ anchors the end */
    assert_true(nw_robots_allowed(r, "/docs/a.pdfx"));
    assert_false(nw_robots_allowed(r, "/2024/05/story/print"));
    assert_false(nw_robots_allowed(r, "/x/printable")); /* still a prefix after the * */
    assert_true(nw_robots_allowed(r, "/print"));
    assert_false(nw_robots_allowed(r, "/search?lang=en&q=rafah"));
    assert_true(nw_robots_allowed(r, "/search?lang=en"));
    assert_true(nw_robots_allowed(r, "/exact"));
    assert_false(nw_robots_allowed(r, "/exact/more"));
    nw_robots_free(&r);

    /* Many stars do not make matching blow up. */
    r = parse("User-agent: *\nDisallow: /*a*a*a*a*a*a*a*a*a*a*b$\n");
    char path[4096];
    path[0] = '/';
    memset(path + 1, 'a', sizeof path - 2);
    path[sizeof path - 1] = 0;
    assert_true(nw_robots_allowed(r, path));
    path[sizeof path - 2] = 'b';
    assert_false(nw_robots_allowed(r, path));
    nw_robots_free(&r);
}

/* Issue 16.5: a robots.txt of 16 KB patterns that almost match a long path. Backtracking
 * matching costs pattern x path per rule (here 31 rules x 16 KB x 64 KB, about 10^10 byte
 * comparisons: minutes under ASan, so ctest's timeout fails the old code); matching linear in
 * the path answers at once. The answers are checked too, so a fast wrong matcher fails. */
static void
test_hostile_patterns_are_linear(void **state)
{
    (void)state;
    enum { PAT = 16 * 1024, RULES = 31, PATH = 64 * 1024 };
    size_t cap = RULES * (PAT + 32) + 64;
    char *txt = malloc(cap), *path = malloc(PATH + 2);
    assert_non_null(txt);
    assert_non_null(path);
    size_t n = (size_t)snprintf(txt, cap, "User-agent: *\n");
    for (int i = 0; i < RULES; i++) {
        n += (size_t)snprintf(txt + n, cap - n, "Disallow: /*");
        memset(txt + n, 'a', PAT);
        n += PAT;
        /* each rule ends in a different byte that the path never has */
        n += (size_t)snprintf(txt + n, cap - n, "%c\n", 'b' + i % 20);
    }
    assert_true(n < NW_ROBOTS_MAX_BYTES);
    nw_robots_t *r = nw_robots_parse(txt, n, "newswire");
    assert_non_null(r);
    path[0] = '/';
    memset(path + 1, 'a', PATH);
    path[PATH + 1] = 0;
    assert_true(nw_robots_allowed(r, path));
    path[PATH] = 'c'; /* now the second rule matches: 16 KB of a's, then c */
    assert_false(nw_robots_allowed(r, path));
    nw_robots_free(&r);

    /* The same with stars between long runs and an anchored end. */
    n = (size_t)snprintf(txt, cap, "User-agent: *\nDisallow: /");
    for (int i = 0; i < 8; i++) {
        memset(txt + n, 'a', 2048);
        n += 2048;
        txt[n++] = '*';
    }
    n += (size_t)snprintf(txt + n, cap - n, "ab$\n");
    r = nw_robots_parse(txt, n, "newswire");
    assert_non_null(r);
    path[PATH] = 'a';
    assert_true(nw_robots_allowed(r, path));
    path[PATH] = 'b';
    assert_false(nw_robots_allowed(r, path));
    nw_robots_free(&r);
    free(txt);
    free(path);
}

static void
test_percent_encoding(void **state)
{
    (void)state;
    nw_robots_t *r = parse("User-agent: *\nDisallow: /caf%c3%a9\nDisallow: /na\xc3\xafve\n");
    assert_false(nw_robots_allowed(r, "/caf%C3%A9/menu"));
    assert_false(nw_robots_allowed(r, "/caf\xc3\xa9"));
    assert_false(nw_robots_allowed(r, "/na%C3%AFve"));
    assert_true(nw_robots_allowed(r, "/cafe"));
    nw_robots_free(&r);
}

static void
test_crawl_delay_and_status(void **state)
{
    (void)state;
    nw_robots_t *r = parse("User-agent: *\nCrawl-delay: 2.5\nDisallow: /x\n");
    assert_int_equal(nw_robots_crawl_delay_ms(r), 2500);
    nw_robots_free(&r);
    r = parse("User-agent: *\nDisallow: /x\n");
    assert_int_equal(nw_robots_crawl_delay_ms(r), -1);
    nw_robots_free(&r);

    nw_robots_t *r2;
    const char *txt = "User-agent: *\nDisallow: /x\n";
    r = nw_robots_for_status(200, txt, strlen(txt), "newswire");
    assert_false(nw_robots_allowed(r, "/x"));
    assert_true(nw_robots_allowed(r, "/y"));
    nw_robots_free(&r);
    r = nw_robots_for_status(404, "", 0, "newswire"); /* unavailable: allow all */
    assert_true(nw_robots_allowed(r, "/x"));
    assert_false(nw_robots_unreachable(r));
    r2 = nw_robots_for_status(503, "", 0, "newswire"); /* unreachable: disallow all */
    nw_robots_free(&r);
    r = r2;
    assert_true(nw_robots_unreachable(r));
    assert_false(nw_robots_allowed(r, "/y"));
    assert_true(nw_robots_allowed(r, "/robots.txt"));
    nw_robots_free(&r);
    r = nw_robots_for_status(0, NULL, 0, "newswire"); /* network error */
    assert_false(nw_robots_allowed(r, "/y"));
    nw_robots_free(&r);
    nw_robots_free(&r); /* safe twice */

    /* A huge file is read up to the limit only. */
    size_t n = NW_ROBOTS_MAX_BYTES + 100;
    char *big = malloc(n + 64);
    assert_non_null(big);
    memset(big, '#', n);
    big[0] = '\n';
    strcpy(big + n, "\nUser-agent: *\nDisallow: /\n");
    r = nw_robots_parse(big, strlen(big), "newswire");
    assert_true(nw_robots_allowed(r, "/x"));
    nw_robots_free(&r);
    free(big);
}

static void
test_cache(void **state)
{
    (void)state;
    nw_robots_cache_t *c = nw_robots_cache_new(1000, 2);
    assert_non_null(c);
    nw_robots_t *r = parse("User-agent: *\nDisallow: /a\n");
    assert_int_equal(nw_robots_cache_put(c, "http://a.example:80", &r, 0), 0);
    assert_null(r);
    const nw_robots_t *got = nw_robots_cache_get(c, "http://a.example:80", 999);
    assert_non_null(got);
    assert_false(nw_robots_allowed(got, "/a"));
    assert_null(nw_robots_cache_get(c, "http://a.example:80", 1000)); /* expired */
    assert_null(nw_robots_cache_get(c, "http://b.example:80", 0));

    /* Replacing an entry, then evicting the one expiring first when full. */
    r = parse("");
    assert_int_equal(nw_robots_cache_put(c, "http://a.example:80", &r, 500), 0);
    assert_true(nw_robots_allowed(nw_robots_cache_get(c, "http://a.example:80", 600), "/a"));
    r = parse("");
    assert_int_equal(nw_robots_cache_put(c, "http://b.example:80", &r, 100), 0);
    r = parse("");
    assert_int_equal(nw_robots_cache_put(c, "http://c.example:80", &r, 700), 0);
    assert_null(nw_robots_cache_get(c, "http://b.example:80", 700));
    assert_non_null(nw_robots_cache_get(c, "http://a.example:80", 700));
    assert_non_null(nw_robots_cache_get(c, "http://c.example:80", 700));
    nw_robots_cache_free(&c);
    assert_null(c);
    nw_robots_cache_free(&c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_longest_match),
        cmocka_unit_test(test_wildcards),
        cmocka_unit_test(test_hostile_patterns_are_linear),
        cmocka_unit_test(test_percent_encoding),
        cmocka_unit_test(test_crawl_delay_and_status),
        cmocka_unit_test(test_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
