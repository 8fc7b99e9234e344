/* json.h: MessagePack <-> JSON, on jansson. The contract's maps use the same keys in both, so
 * `newswire parse --jsonl` and `newswire tail` are plain conversions of the wire messages.
 * bin values become a JSON string when they are valid UTF-8, else {"base64": "..."}; the reverse
 * conversion turns {"base64": "..."} back into bin. */
#ifndef NW_JSON_H
#define NW_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "newswire/buf.h"

/* Append the JSON text (one line, no trailing newline, UTF-8) of the single MessagePack object
 * in buf[0..len). The input gets the same bounded pre-check as the proto decoders
 * (nw_proto_check). A str that is not valid UTF-8 is shown like bin ({"base64": ...}); ext
 * becomes {"ext": type, "base64": ...}. Returns 0, -EPROTO on malformed MessagePack (including
 * non-str or duplicate map keys), -ERANGE for a value JSON cannot hold (an integer above
 * INT64_MAX, NaN, an infinity), or -ENOMEM; the reason for -EPROTO and -ERANGE is in
 * nw_proto_error(). On error out is left as it was. Borrows buf until return. */
int nw_json_from_msgpack(const uint8_t *buf, size_t len, nw_buf_t *out);
/* Append the MessagePack encoding of the JSON text in json[0..len). Integers stay integers,
 * reals become float64, object key order is kept, {"base64": s} becomes bin and
 * {"ext": n, "base64": s} ext. Returns 0, -EINVAL on bad JSON: invalid syntax, duplicate keys,
 * "\u0000" in a string, bad base64, nesting deeper than NW_PROTO_MAX_DEPTH, more than
 * NW_PROTO_MAX_ITEMS elements, output above NW_PROTO_MAX_MSG (reason written to err, which may
 * be NULL), or -ENOMEM. On error out is left as it was. Borrows json until return. */
int nw_json_to_msgpack(const char *json, size_t len, nw_buf_t *out, char *err, size_t errlen);

#endif
