/* keygen.c: `newswire keygen NAME...`, CURVE key pairs for securing ZeroMQ between hosts. */
#include <stdio.h>

#include "cli.h"
#include "newswire/config.h"
#include "newswire/curve.h"

static const nw_cfg_opt_t keygen_opts[] = {NW_CFG_END};

int
nw_cli_keygen(int argc, char **argv)
{
    int nargs = 0;
    char **args = NULL;
    int rc = nw_config_load(
        keygen_opts, NULL, argc, argv, "newswire keygen NAME...",
        "Make a CURVE key pair per NAME: NAME.key (public and secret key, mode 0600, for that\n"
        "process's --curve-key) and NAME.pub (the public key, for its peers). The broker gets\n"
        "--curve-key broker.key and --curve-allow DIR holding the clients' .pub files; each\n"
        "service gets --curve-key own.key and --curve-server broker.pub. Existing files are\n"
        "never overwritten.",
        &nargs, &args);
    int status = nw_cli_config_status(rc);
    if (status >= 0)
        return status;
    if (nargs == 0) {
        fprintf(stderr, "newswire keygen: name at least one key pair (e.g. broker)\n");
        return 2;
    }
    for (int i = 0; i < nargs; i++) {
        char err[512];
        if (nw_curve_keygen(args[i], err, sizeof err) < 0) {
            fprintf(stderr, "newswire keygen: %s\n", err);
            return 1;
        }
        printf("%s.key %s.pub\n", args[i], args[i]);
    }
    return 0;
}
