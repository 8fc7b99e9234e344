/* test_hlc.c: the acceptance clock (hlc.h): versions grow strictly whatever the wall clock
 * does, a restart never gives a version at or below one given before, a torn slot falls back
 * to the other one, and the ceiling is written once per lease, not once per version. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "newswire/hlc.h"

static void
tmp_path(char *path, size_t n)
{
    snprintf(path, n, "/tmp/nw_test_hlc.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path); /* nw_hlc_open creates it */
}

static uint64_t
next(nw_hlc_t *h, uint64_t now)
{
    uint64_t v = 0;
    assert_int_equal(nw_hlc_next(h, now, &v), 0);
    return v;
}

static void
test_monotonic(void **state)
{
    (void)state;
    char path[64], err[256];
    tmp_path(path, sizeof path);
    nw_hlc_t *h = nw_hlc_open(path, err, sizeof err);
    assert_non_null(h);
    assert_true(next(h, 1000) == 1000);     /* the wall clock when it moves forward */
    assert_true(next(h, 1000) == 1001);     /* standing still: one more */
    assert_true(next(h, 500) == 1002);      /* a step back: still one more */
    assert_true(next(h, 900000) == 900000); /* forward again */
    assert_true(nw_hlc_last(h) == 900000);
    nw_hlc_close(&h);
    assert_null(h);
    nw_hlc_close(&h); /* twice is safe */
    unlink(path);
}

static void
test_restart_never_goes_back(void **state)
{
    (void)state;
    char path[64], err[256];
    tmp_path(path, sizeof path);
    nw_hlc_t *h = nw_hlc_open(path, err, sizeof err);
    assert_non_null(h);
    uint64_t before = 0;
    for (int i = 0; i < 100; i++)
        before = next(h, 5000000 + (uint64_t)i);
    nw_hlc_close(&h);
    /* The restarted process's clock stepped back by a minute (or the host's clock is wrong):
     * its first version is still above everything given before the restart. */
    h = nw_hlc_open(path, err, sizeof err);
    assert_non_null(h);
    uint64_t after = next(h, 1);
    assert_true(after > before);
    assert_true(after <= before + NW_HLC_LEASE_US + 1);
    nw_hlc_close(&h);
    unlink(path);
}

static void
test_torn_slot(void **state)
{
    (void)state;
    char path[64], err[256];
    tmp_path(path, sizeof path);
    nw_hlc_t *h = nw_hlc_open(path, err, sizeof err);
    assert_non_null(h);
    uint64_t v1 = next(h, 10 * NW_HLC_LEASE_US); /* writes slot 0 */
    uint64_t v2 = next(h, 20 * NW_HLC_LEASE_US); /* writes slot 1 */
    assert_true(v2 > v1);
    nw_hlc_close(&h);
    /* Tear slot 1 (the newer): the older slot's ceiling is still above v1, and v2 was given
     * out only after slot 1 was durable, so a torn slot 1 means v2 was never given. */
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, 16 + 3, SEEK_SET), 0);
    assert_int_equal(fputc(0x5a, f), 0x5a);
    assert_int_equal(fclose(f), 0);
    h = nw_hlc_open(path, err, sizeof err);
    assert_non_null(h);
    assert_true(next(h, 0) > v1);
    nw_hlc_close(&h);
    /* Both torn (or a foreign file): starts from the wall clock. */
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fputs("garbage garbage garbage garbage!", f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    h = nw_hlc_open(path, err, sizeof err);
    assert_non_null(h);
    assert_true(next(h, 77) == 77);
    nw_hlc_close(&h);
    unlink(path);
}

/* The file's bytes (up to its two slots), zero-padded. */
static void
read32(const char *path, uint8_t out[32])
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    memset(out, 0, 32);
    assert_true(fread(out, 1, 32, f) >= 16);
    fclose(f);
}

static void
test_lease(void **state)
{
    (void)state;
    char path[64], err[256];
    tmp_path(path, sizeof path);
    nw_hlc_t *h = nw_hlc_open(path, err, sizeof err);
    assert_non_null(h);
    uint64_t t0 = 3 * NW_HLC_LEASE_US;
    next(h, t0);
    /* Versions within the lease do not touch the file: overwrite it and the clock's memory
     * of its ceiling still holds, while the file is not rewritten until the lease runs out. */
    uint8_t first[32] = {0}, again[32] = {0};
    read32(path, first);
    for (uint64_t t = t0; t < t0 + NW_HLC_LEASE_US; t += 1000)
        next(h, t);
    read32(path, again);
    assert_memory_equal(first, again, 32);
    next(h, t0 + NW_HLC_LEASE_US + 1); /* passes the ceiling: one write */
    read32(path, again);
    assert_memory_not_equal(first, again, 32);
    nw_hlc_close(&h);
    unlink(path);
}

static void
test_open_fails(void **state)
{
    (void)state;
    char err[256] = "";
    assert_null(nw_hlc_open("/nonexistent-dir/CLOCK", err, sizeof err));
    assert_non_null(strstr(err, "cannot open"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_monotonic),  cmocka_unit_test(test_restart_never_goes_back),
        cmocka_unit_test(test_torn_slot),  cmocka_unit_test(test_lease),
        cmocka_unit_test(test_open_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
