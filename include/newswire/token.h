/* token.h: bearer tokens with scopes for the HTTP APIs (fetch's ingest API, newswire-query).
 *
 * A token is "nwt_" followed by 64 hex digits (32 random bytes from libsodium). Services never
 * see it in clear at rest: the token file holds its SHA-256, one token per line:
 *
 *   # comment lines and blank lines are ignored
 *   sha256:<64 hex digits> <scopes> [<name>]
 *
 * scopes is a comma-separated subset of ingest (POST articles and URLs), read (queries, the
 * stream, /metrics) and admin (dead letters and replays; implies nothing else). name is a
 * label for logs. A plain hash is enough here, with no salt or slow KDF: the tokens are 256
 * random bits, so there is nothing to guess from the hash and no dictionary to stretch
 * against. `newswire token new --scope read` prints a fresh token and appends its line. */
#ifndef NW_TOKEN_H
#define NW_TOKEN_H

#include <stddef.h>

enum {
    NW_SCOPE_NONE = 0, /* open to everyone (/healthz) */
    NW_SCOPE_INGEST = 1 << 0,
    NW_SCOPE_READ = 1 << 1,
    NW_SCOPE_ADMIN = 1 << 2,
};

#define NW_TOKEN_LEN (4 + 64)            /* "nwt_" + hex, without the NUL */
#define NW_TOKEN_LINE_MAX (7 + 64 + 128) /* a token-file line we write */

typedef struct nw_tokens nw_tokens_t;

/* Parse "read,ingest" into scope bits. Returns the bits or -EINVAL naming nothing known. */
int nw_scope_parse(const char *s);
/* "ingest", "read", "admin": the name of one scope bit (the first set), for messages. */
const char *nw_scope_name(unsigned scope);

/* Load a token file. Returns NULL and writes why into err (file and line named) on a missing
 * file, a malformed line or an empty file. Caller owns the result. */
nw_tokens_t *nw_tokens_load(const char *path, char *err, size_t errlen);
void nw_tokens_destroy(nw_tokens_t **t);
/* Check a presented token (the part after "Bearer ") against the file for scope. Returns 0
 * when a token with that scope matches, -EACCES when no token matches (401), -EPERM when it
 * matches without the scope (403). *name (may be NULL) gets the token's label, borrowed from t.
 * Comparison is constant-time over the hashes. */
int nw_tokens_check(const nw_tokens_t *t, const char *presented, unsigned scope, const char **name);
/* Make a new token: token gets NW_TOKEN_LEN + 1 bytes, line the token-file line (no newline)
 * for it with the given scopes and name (may be NULL or empty; spaces are not allowed).
 * Returns 0 or -EINVAL (bad scopes or name), -ENOSPC (line too small). */
int nw_token_new(unsigned scopes, const char *name, char *token, size_t token_size, char *line,
                 size_t line_size);

#endif
