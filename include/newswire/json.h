/* json.h: MessagePack <-> JSON, on jansson. The contract's maps use the same keys in both, so
 * `newswire parse --jsonl` and `newswire tail` are plain conversions of the wire messages.
 * bin values become a JSON string when they are valid UTF-8, else {"base64": "..."}; the reverse
 * conversion turns {"base64": "..."} back into bin. */
#ifndef NW_JSON_H
#define NW_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "newswire/buf.h"

/* Append the JSON text (one line, no trailing newline) of the single MessagePack object in
 * buf[0..len). Returns 0, -EPROTO on malformed MessagePack, or -ENOMEM. */
int nw_json_from_msgpack(const uint8_t *buf, size_t len, nw_buf_t *out);
/* Append the MessagePack encoding of the JSON text in json[0..len). Returns 0, -EINVAL on bad
 * JSON (reason written to err, which may be NULL), or -ENOMEM. */
int nw_json_to_msgpack(const char *json, size_t len, nw_buf_t *out, char *err, size_t errlen);

#endif
