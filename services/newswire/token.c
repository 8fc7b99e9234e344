/* token.c: `newswire token new --scope SCOPES [--name NAME] [--file FILE]`, bearer tokens for
 * the HTTP APIs (token.h). The token goes to stdout, once: only its hash is kept, in FILE
 * (appended, created mode 0600) or printed to stderr for the operator to place. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "newswire/config.h"
#include "newswire/token.h"

typedef struct token_cfg {
    const char *scope;
    const char *name;
    const char *file;
} token_cfg_t;

static const nw_cfg_opt_t token_opts[] = {
    {"scope", NW_CFG_STR, "read", offsetof(token_cfg_t, scope),
     "comma-separated scopes: ingest (POST articles, URLs), read (queries, stream, /metrics), "
     "admin (dead letters, replay)",
     0, 0},
    {"name", NW_CFG_STR, "", offsetof(token_cfg_t, name), "label for logs (no spaces)", 0, 0},
    {"file", NW_CFG_STR, "", offsetof(token_cfg_t, file),
     "token file to append the hashed line to (created mode 0600); default: print it to stderr", 0,
     0},
    NW_CFG_END,
};

static int
append_line(const char *path, const char *line)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    char buf[NW_TOKEN_LINE_MAX + 2];
    int n = snprintf(buf, sizeof buf, "%s\n", line);
    int rc = write(fd, buf, (size_t)n) == n && fsync(fd) == 0 ? 0 : -EIO;
    close(fd);
    return rc;
}

int
nw_cli_token(int argc, char **argv)
{
    token_cfg_t cfg;
    int nargs = 0;
    char **args = NULL;
    int rc = nw_config_load(
        token_opts, &cfg, argc, argv, "newswire token new [--scope S] [--name N] [--file F]",
        "Make a bearer token for the HTTP APIs of newswire-fetch and newswire-query\n"
        "(`--http-tokens FILE`). The token is printed once on stdout; the token file keeps\n"
        "only its SHA-256: \"sha256:<hex> <scopes> [name]\" per line.",
        &nargs, &args);
    int status = nw_cli_config_status(rc);
    if (status >= 0)
        return status;
    if (nargs != 1 || strcmp(args[0], "new") != 0) {
        fprintf(stderr, "newswire token: the one subcommand is `new`\n");
        return 2;
    }
    int scopes = nw_scope_parse(cfg.scope);
    if (scopes < 0) {
        fprintf(stderr,
                "newswire token: bad value \"%s\" for option 'scope' (want ingest, "
                "read, admin, comma-separated)\n",
                cfg.scope);
        return 2;
    }
    char token[NW_TOKEN_LEN + 1], line[NW_TOKEN_LINE_MAX];
    rc = nw_token_new((unsigned)scopes, cfg.name, token, sizeof token, line, sizeof line);
    if (rc < 0) {
        fprintf(stderr, "newswire token: bad value \"%s\" for option 'name' (no spaces, < 64)\n",
                cfg.name);
        return 2;
    }
    if (cfg.file && *cfg.file) {
        if ((rc = append_line(cfg.file, line)) < 0) {
            fprintf(stderr, "newswire token: cannot append to \"%s\": %s\n", cfg.file,
                    strerror(-rc));
            return 1;
        }
    } else {
        fprintf(stderr, "%s\n", line);
    }
    printf("%s\n", token);
    return 0;
}
