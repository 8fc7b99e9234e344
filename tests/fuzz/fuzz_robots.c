/* fuzz_robots.c: robots.txt parsing and matching. The input's first line is the path to ask
 * about, the rest the robots.txt; the path is also asked with "/" prepended and against a
 * ruleset built from the whole input. Every answer must be 0 or 1. Matching is linear in the
 * path (robots.c), so libFuzzer's -timeout catches a regression to backtracking. */
#include "newswire/robots.h"

#include <string.h>

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *all = fuzz_cstr(data, size);
    char *nl = memchr(all, '\n', size);
    size_t plen = nl ? (size_t)(nl - all) : size;
    char *path = malloc(plen + 2);
    if (path == NULL)
        abort();
    path[0] = '/';
    memcpy(path + 1, all, plen);
    path[plen + 1] = 0;
    const char *rest = nl ? nl + 1 : "";
    nw_robots_t *r = nw_robots_parse(rest, strlen(rest), "newswire");
    nw_robots_t *w = nw_robots_parse(all, size, "newswire");
    if (r != NULL) {
        int a = nw_robots_allowed(r, path), b = nw_robots_allowed(r, path + 1);
        FUZZ_CHECK((a == 0 || a == 1) && (b == 0 || b == 1), "allowed gave %d %d", a, b);
        FUZZ_CHECK(nw_robots_allowed(r, "/robots.txt") == 1, "robots.txt itself refused");
        (void)nw_robots_crawl_delay_ms(r);
    }
    if (w != NULL)
        (void)nw_robots_allowed(w, path);
    nw_robots_free(&r);
    nw_robots_free(&w);
    free(path);
    free(all);
    return 0;
}
