/* fuzz_url.c: URL canonicalisation (id.c). Properties: the result is 0, -EINVAL or -ENOMEM;
 * a canonical URL is its own canonical form (idempotence: one URL, one id, issue 16.9); and
 * its id is the id of the input. */
#include "newswire/id.h"

#include <errno.h>
#include <string.h>

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *u = fuzz_cstr(data, size);
    char *c1 = NULL, *c2 = NULL;
    int rc = nw_url_canonical(u, &c1);
    FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM, "canonical returned %d", rc);
    if (rc == 0) {
        rc = nw_url_canonical(c1, &c2);
        FUZZ_CHECK(rc == 0, "canonical of canonical \"%s\" failed: %d", c1, rc);
        FUZZ_CHECK(strcmp(c1, c2) == 0, "not idempotent: \"%s\" -> \"%s\"", c1, c2);
        char a[NW_ID_LEN + 1], b[NW_ID_LEN + 1];
        FUZZ_CHECK(nw_id_for_url(u, a) == 0 && nw_id_for_url(c1, b) == 0 && strcmp(a, b) == 0,
                   "the canonical URL \"%s\" has another id", c1);
    }
    free(c1);
    free(c2);
    free(u);
    return 0;
}
