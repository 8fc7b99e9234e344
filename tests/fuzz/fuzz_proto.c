/* fuzz_proto.c: every MessagePack decoder of proto.h on the same input. Properties: a decoder
 * returns 0 or -EPROTO (or -ENOMEM); whatever decodes re-encodes, and that encoding decodes and
 * re-encodes to the same bytes. */
#include "newswire/proto.h"

#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "newswire/buf.h"

#define ROUND_TRIP(T, data, size)                                                                  \
    do {                                                                                           \
        nw_##T##_t m = {0}, m2 = {0};                                                              \
        nw_buf_t e1 = {0}, e2 = {0};                                                               \
        int rc = nw_##T##_decode(&m, data, size);                                                  \
        FUZZ_CHECK(rc == 0 || rc == -EPROTO || rc == -ENOMEM, #T " decode returned %d", rc);       \
        if (rc == 0 && nw_##T##_encode(&m, &e1) == 0) {                                            \
            FUZZ_CHECK(nw_##T##_decode(&m2, e1.data, e1.len) == 0, #T " re-encoding undecodable"); \
            FUZZ_CHECK(nw_##T##_encode(&m2, &e2) == 0, #T " second encode failed");                \
            FUZZ_CHECK(e1.len == e2.len && memcmp(e1.data, e2.data, e1.len) == 0,                  \
                       #T " round trip differs");                                                  \
        }                                                                                          \
        nw_##T##_release(&m);                                                                      \
        nw_##T##_release(&m2);                                                                     \
        nw_buf_release(&e1);                                                                       \
        nw_buf_release(&e2);                                                                       \
    } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ROUND_TRIP(raw, data, size);
    ROUND_TRIP(article, data, size);
    ROUND_TRIP(enriched, data, size);
    ROUND_TRIP(ack, data, size);
    ROUND_TRIP(dead, data, size);
    return 0;
}
