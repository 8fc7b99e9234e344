/* codec_internal.h: private helpers shared by the proto codec (proto/codec.c) and the
 * MessagePack <-> JSON bridge (services/lib/json.c). Not a public header: the public contract
 * is include/newswire/proto.h. Everything here sits on msgpack-c.
 *
 * The layering: unpack.c owns the thread-local error reason, the bounded structural pre-check and
 * the one safe way to get a msgpack_object tree out of outside bytes (nw_mp_unpack). Both
 * codec.c and json.c only ever look at trees that went through it. */
#ifndef NW_PROTO_CODEC_INTERNAL_H
#define NW_PROTO_CODEC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "newswire/buf.h"
#include "newswire/proto.h"

/* Set the thread's nw_proto_error() reason (printf-style) and return -EPROTO. */
int nw_proto_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prepend context to the current reason ("key \"captions\" item 2: " + reason); returns
 * -EPROTO so callers can `return nw_proto_prefix(...)`. */
int nw_proto_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The structural walk of nw_proto_check() over the one object that starts at buf[0], which may
 * be followed by more bytes: on success *used is its encoded length. Same limits as
 * nw_proto_check() except the NW_PROTO_MAX_MSG bound on len. Returns 0 or -EPROTO. */
int nw_mp_skip(const uint8_t *buf, size_t len, size_t *used);

/* Pre-check buf[0..len) with nw_proto_check(), then unpack it with msgpack-c into *res.
 * *res is always initialised, so the caller must msgpack_unpacked_destroy() it whatever this
 * returns. str/bin objects in the tree point into buf: borrow buf while using *res.
 * Returns 0, -EPROTO or -ENOMEM. */
int nw_mp_unpack(msgpack_unpacked *res, const uint8_t *buf, size_t len);

/* Check that every key of map m is a str holding valid UTF-8 without NUL and that no key
 * repeats (sort-based, so a 65536-key map costs n log n, not n^2). `what` names the map in the
 * error reason ("message", "key \"headers\""). Returns 0, -EPROTO or -ENOMEM. */
int nw_mp_check_keys(const msgpack_object_map *m, const char *what);

/* Check a value we do not interpret (an unknown key's value): every str in it is valid UTF-8
 * without NUL, every map key obeys nw_mp_check_keys. Returns 0, -EPROTO or -ENOMEM. */
int nw_mp_check_value(const msgpack_object *o);

/* Name of a msgpack object type for error reasons ("str", "positive int", ...). */
const char *nw_mp_type_name(msgpack_object_type t);

/* Length of s[0..n) clipped to at most max bytes without splitting a UTF-8 sequence, so keys
 * quoted in error reasons stay readable and valid. */
int nw_mp_clip(const char *s, size_t n, size_t max);

/* A msgpack_packer that appends to an nw_buf_t; msgpack-c calls the write callback directly,
 * so bytes are in the buffer as soon as a pack call returns. Pack calls return -1 on ENOMEM. */
void nw_mp_packer_init(msgpack_packer *pk, nw_buf_t *out);

#endif
