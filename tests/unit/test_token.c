/* test_token.c: bearer tokens (token.h): a new token is checked by its scopes, the file holds
 * only its hash, unknown tokens and missing scopes are told apart, and malformed token files
 * are refused naming the line. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "newswire/token.h"

static char path[64];

static int
setup(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "/tmp/nw-token-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

static void
write_file(const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void
test_scopes(void **state)
{
    (void)state;
    char reader[NW_TOKEN_LEN + 1], writer[NW_TOKEN_LEN + 1], l1[NW_TOKEN_LINE_MAX],
        l2[NW_TOKEN_LINE_MAX], text[1024];
    assert_int_equal(nw_token_new(NW_SCOPE_READ, "reader", reader, sizeof reader, l1, sizeof l1),
                     0);
    assert_int_equal(
        nw_token_new(NW_SCOPE_INGEST | NW_SCOPE_ADMIN, NULL, writer, sizeof writer, l2, sizeof l2),
        0);
    assert_int_equal(strlen(reader), NW_TOKEN_LEN);
    assert_memory_equal(reader, "nwt_", 4);
    assert_string_not_equal(reader, writer);
    /* The line holds the hash, never the token. */
    assert_null(strstr(l1, reader + 4));
    assert_memory_equal(l1, "sha256:", 7);
    assert_string_equal(l2 + 7 + 64, " ingest,admin");
    snprintf(text, sizeof text, "# tokens\n\n%s\n  %s\n", l1, l2);
    write_file(text);

    char err[256] = "";
    nw_tokens_t *t = nw_tokens_load(path, err, sizeof err);
    assert_non_null(t);
    const char *who = NULL;
    assert_int_equal(nw_tokens_check(t, reader, NW_SCOPE_READ, &who), 0);
    assert_string_equal(who, "reader");
    assert_int_equal(nw_tokens_check(t, reader, NW_SCOPE_INGEST, NULL), -EPERM);
    assert_int_equal(nw_tokens_check(t, writer, NW_SCOPE_INGEST, NULL), 0);
    assert_int_equal(nw_tokens_check(t, writer, NW_SCOPE_ADMIN, NULL), 0);
    assert_int_equal(nw_tokens_check(t, writer, NW_SCOPE_READ, NULL), -EPERM);
    /* Unknown, truncated, empty and absent tokens are all unknown. */
    char wrong[NW_TOKEN_LEN + 1];
    memcpy(wrong, reader, sizeof wrong);
    wrong[10] = wrong[10] == 'a' ? 'b' : 'a';
    assert_int_equal(nw_tokens_check(t, wrong, NW_SCOPE_READ, NULL), -EACCES);
    reader[NW_TOKEN_LEN - 1] = 0;
    assert_int_equal(nw_tokens_check(t, reader, NW_SCOPE_READ, NULL), -EACCES);
    assert_int_equal(nw_tokens_check(t, "", NW_SCOPE_READ, NULL), -EACCES);
    assert_int_equal(nw_tokens_check(t, NULL, NW_SCOPE_READ, NULL), -EACCES);
    nw_tokens_destroy(&t);
    assert_null(t);
    nw_tokens_destroy(&t); /* twice is fine */
}

static void
test_bad_files(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",                   /* no token at all */
        "# only a comment\n", /* still none */
        "sha256:abcd read\n", /* short hash */
        "sha256:" /* 64 hex */ "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        " write\n", /* unknown scope */
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef read\n", /* no tag */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char err[256] = "";
        write_file(bad[i]);
        assert_null(nw_tokens_load(path, err, sizeof err));
        assert_non_null(strstr(err, path));
    }
    char err[256] = "";
    assert_null(nw_tokens_load("/nonexistent/tokens", err, sizeof err));
    assert_non_null(strstr(err, "cannot open"));
}

static void
test_scope_parse(void **state)
{
    (void)state;
    assert_int_equal(nw_scope_parse("read"), NW_SCOPE_READ);
    assert_int_equal(nw_scope_parse("ingest,read,admin"),
                     NW_SCOPE_INGEST | NW_SCOPE_READ | NW_SCOPE_ADMIN);
    assert_int_equal(nw_scope_parse("reader"), -EINVAL);
    assert_int_equal(nw_scope_parse(""), -EINVAL);
    assert_int_equal(nw_scope_parse("read,,ingest"), -EINVAL); /* an empty name is a typo */
    char tok[NW_TOKEN_LEN + 1], line[NW_TOKEN_LINE_MAX];
    assert_int_equal(nw_token_new(0, NULL, tok, sizeof tok, line, sizeof line), -EINVAL);
    assert_int_equal(nw_token_new(NW_SCOPE_READ, "two words", tok, sizeof tok, line, sizeof line),
                     -EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_scopes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
        cmocka_unit_test(test_scope_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
