/* fuzz_json.c: the JSON bridge (json.h) both ways. The input is taken as MessagePack and as
 * JSON text. Properties: MessagePack that converts to JSON yields valid UTF-8 that converts
 * back, and converting that back again gives the same JSON; JSON that converts to MessagePack
 * converts to JSON again. */
#include "newswire/json.h"

#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "newswire/util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nw_buf_t j1 = {0}, j2 = {0}, m = {0}, m2 = {0};
    char err[256];
    int rc = nw_json_from_msgpack(data, size, &j1);
    FUZZ_CHECK(rc == 0 || rc == -EPROTO || rc == -ERANGE || rc == -ENOMEM, "from_msgpack %d", rc);
    if (rc == 0) {
        FUZZ_CHECK(nw_utf8_valid(j1.data, j1.len), "JSON output is not UTF-8");
        rc = nw_json_to_msgpack((const char *)j1.data, j1.len, &m, err, sizeof err);
        FUZZ_CHECK(rc == 0, "our own JSON does not convert back: %s", err);
        FUZZ_CHECK(nw_json_from_msgpack(m.data, m.len, &j2) == 0, "re-encoding unreadable");
        if (strstr((const char *)j1.data, "\"base64\"") == NULL)
            FUZZ_CHECK(j1.len == j2.len && memcmp(j1.data, j2.data, j1.len) == 0,
                       "JSON round trip differs");
    }
    nw_buf_release(&j1);
    nw_buf_release(&j2);
    nw_buf_release(&m);

    char *text = fuzz_cstr(data, size);
    rc = nw_json_to_msgpack(text, size, &m2, err, sizeof err);
    FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM, "to_msgpack %d", rc);
    if (rc == 0) {
        nw_buf_t j = {0};
        rc = nw_json_from_msgpack(m2.data, m2.len, &j);
        FUZZ_CHECK(rc == 0 || rc == -ERANGE, "MessagePack made from JSON unreadable: %d", rc);
        nw_buf_release(&j);
    }
    nw_buf_release(&m2);
    free(text);
    return 0;
}
