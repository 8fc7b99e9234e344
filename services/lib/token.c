/* token.c: bearer tokens with scopes, hashed at rest (see token.h). libsodium gives the
 * random bytes, SHA-256 and the constant-time comparison, so none of it is hand-written. */
#include "newswire/token.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX "nwt_"
#define HASH_TAG "sha256:"

struct entry {
    unsigned char hash[crypto_hash_sha256_BYTES];
    unsigned scopes;
    char name[64];
};

struct nw_tokens {
    struct entry *e;
    size_t n;
};

static const struct {
    const char *name;
    unsigned bit;
} scope_names[] = {
    {"ingest", NW_SCOPE_INGEST},
    {"read", NW_SCOPE_READ},
    {"admin", NW_SCOPE_ADMIN},
};
#define N_SCOPES (sizeof scope_names / sizeof *scope_names)

int
nw_scope_parse(const char *s)
{
    unsigned bits = 0;
    const char *p = s;
    while (p && *p) {
        size_t n = strcspn(p, ",");
        size_t i;
        for (i = 0; i < N_SCOPES; i++)
            if (strlen(scope_names[i].name) == n && memcmp(scope_names[i].name, p, n) == 0)
                break;
        if (i == N_SCOPES)
            return -EINVAL;
        bits |= scope_names[i].bit;
        p += n;
        if (*p == ',')
            p++;
    }
    return bits ? (int)bits : -EINVAL;
}

const char *
nw_scope_name(unsigned scope)
{
    for (size_t i = 0; i < N_SCOPES; i++)
        if (scope & scope_names[i].bit)
            return scope_names[i].name;
    return "none";
}

static void
hash_token(const char *token, unsigned char out[crypto_hash_sha256_BYTES])
{
    crypto_hash_sha256(out, (const unsigned char *)token, strlen(token));
}

nw_tokens_t *
nw_tokens_load(const char *path, char *err, size_t errlen)
{
    nw_tokens_t *t = NULL;
    FILE *f = NULL;
    char line[1024];
    int lineno = 0;
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium failed to initialise");
        return NULL;
    }
    f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "cannot open token file \"%s\": %s", path, strerror(errno));
        return NULL;
    }
    t = calloc(1, sizeof *t);
    if (t == NULL)
        goto oom;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *p = line + strspn(line, " \t");
        p[strcspn(p, "\r\n")] = 0;
        if (*p == 0 || *p == '#')
            continue;
        char hex[65] = "", scopes[128] = "", name[64] = "";
        int fields = sscanf(p, HASH_TAG "%64[0-9a-f] %127s %63s", hex, scopes, name);
        struct entry e = {0};
        int bits = fields >= 2 ? nw_scope_parse(scopes) : -EINVAL;
        if (fields < 2 || strlen(hex) != 64 || bits < 0 ||
            sodium_hex2bin(e.hash, sizeof e.hash, hex, 64, NULL, NULL, NULL) != 0) {
            snprintf(err, errlen,
                     "token file \"%s\" line %d: want \"sha256:<64 hex> <scopes> [name]\" with "
                     "scopes from ingest,read,admin",
                     path, lineno);
            goto err;
        }
        e.scopes = (unsigned)bits;
        snprintf(e.name, sizeof e.name, "%s", fields == 3 ? name : "");
        struct entry *grown = realloc(t->e, (t->n + 1) * sizeof *t->e);
        if (grown == NULL)
            goto oom;
        t->e = grown;
        t->e[t->n++] = e;
    }
    if (t->n == 0) {
        snprintf(err, errlen, "token file \"%s\" holds no token", path);
        goto err;
    }
    fclose(f);
    return t;
oom:
    snprintf(err, errlen, "out of memory reading token file \"%s\"", path);
err:
    if (f)
        fclose(f);
    nw_tokens_destroy(&t);
    return NULL;
}

void
nw_tokens_destroy(nw_tokens_t **t)
{
    if (t == NULL || *t == NULL)
        return;
    free((*t)->e);
    free(*t);
    *t = NULL;
}

int
nw_tokens_check(const nw_tokens_t *t, const char *presented, unsigned scope, const char **name)
{
    unsigned char h[crypto_hash_sha256_BYTES];
    const struct entry *hit = NULL;
    if (presented == NULL || *presented == 0)
        return -EACCES;
    hash_token(presented, h);
    /* Look at every entry so the time taken does not tell which one matched. */
    for (size_t i = 0; i < t->n; i++)
        if (sodium_memcmp(h, t->e[i].hash, sizeof h) == 0)
            hit = &t->e[i];
    if (hit == NULL)
        return -EACCES;
    if (name)
        *name = hit->name;
    return (hit->scopes & scope) == scope ? 0 : -EPERM;
}

int
nw_token_new(unsigned scopes, const char *name, char *token, size_t token_size, char *line,
             size_t line_size)
{
    unsigned char raw[32], h[crypto_hash_sha256_BYTES];
    char hex[2 * sizeof h + 1];
    if (scopes == 0 || (scopes & ~(unsigned)(NW_SCOPE_INGEST | NW_SCOPE_READ | NW_SCOPE_ADMIN)))
        return -EINVAL;
    if (name && (strlen(name) >= 64 || strpbrk(name, " \t\r\n#")))
        return -EINVAL;
    if (token_size < NW_TOKEN_LEN + 1)
        return -ENOSPC;
    if (sodium_init() < 0)
        return -EIO;
    randombytes_buf(raw, sizeof raw);
    memcpy(token, PREFIX, strlen(PREFIX));
    sodium_bin2hex(token + strlen(PREFIX), token_size - strlen(PREFIX), raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
    hash_token(token, h);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    char scope_list[32] = "";
    for (size_t i = 0; i < N_SCOPES; i++)
        if (scopes & scope_names[i].bit)
            snprintf(scope_list + strlen(scope_list), sizeof scope_list - strlen(scope_list),
                     "%s%s", scope_list[0] ? "," : "", scope_names[i].name);
    int n = snprintf(line, line_size, HASH_TAG "%s %s%s%s", hex, scope_list,
                     name && *name ? " " : "", name && *name ? name : "");
    return n < 0 || (size_t)n >= line_size ? -ENOSPC : 0;
}
