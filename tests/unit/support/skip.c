/* skip.c: makes a cmocka skip() visible to ctest. cmocka counts a skipped test as passed in
 * its return value, so an executable whose every test was skipped (say, no ../shared/data)
 * showed as "Passed". Every unit test is linked with -Wl,--wrap for the two cmocka entry points
 * below (tests/CMakeLists.txt): _skip (what skip() expands to) is counted, and a group run
 * with no failure but at least one skip returns 77, ctest's SKIP_RETURN_CODE for unit tests.
 * A failure still wins: it returns the failure count as before. No test file changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#define SKIP_RETURN_CODE 77

/* The real functions, and their wrappers, as -Wl,--wrap=SYMBOL names them. */
void __real__skip(const char *const file, const int line);
void __wrap__skip(const char *const file, const int line);
int __real__cmocka_run_group_tests(const char *group_name, const struct CMUnitTest *const tests,
                                   const size_t num_tests, CMFixtureFunction group_setup,
                                   CMFixtureFunction group_teardown);
int __wrap__cmocka_run_group_tests(const char *group_name, const struct CMUnitTest *const tests,
                                   const size_t num_tests, CMFixtureFunction group_setup,
                                   CMFixtureFunction group_teardown);

static unsigned skipped;

void
__wrap__skip(const char *const file, const int line)
{
    skipped++;
    __real__skip(file, line); /* does not return: it ends the test */
}

int
__wrap__cmocka_run_group_tests(const char *group_name, const struct CMUnitTest *const tests,
                               const size_t num_tests, CMFixtureFunction group_setup,
                               CMFixtureFunction group_teardown)
{
    unsigned before = skipped;
    int failed =
        __real__cmocka_run_group_tests(group_name, tests, num_tests, group_setup, group_teardown);
    if (failed == 0 && skipped > before) {
        fprintf(stderr, "%u test(s) skipped: reporting the executable as skipped (exit %d)\n",
                skipped - before, SKIP_RETURN_CODE);
        return SKIP_RETURN_CODE;
    }
    return failed;
}
