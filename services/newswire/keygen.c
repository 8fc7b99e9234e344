/* keygen.c: `newswire keygen`, CURVE key pairs for securing ZeroMQ between hosts: one pair per
 * NAME, or with --set the whole set the broker's roles need (curve.h). */
#include <stddef.h>
#include <stdio.h>

#include "cli.h"
#include "newswire/config.h"
#include "newswire/curve.h"

typedef struct keygen_cfg {
    const char *set;
    const char *role;
} keygen_cfg_t;

static const nw_cfg_opt_t keygen_opts[] = {
    {"set", NW_CFG_STR, "", offsetof(keygen_cfg_t, set),
     "make the whole set in this directory: broker, one pair per role, roles/<role>/", 0, 0},
    {"role", NW_CFG_STR, "", offsetof(keygen_cfg_t, role),
     "with --set: add one pair (NAME, default the role) to that role of an existing set", 0, 0},
    NW_CFG_END,
};

int
nw_cli_keygen(int argc, char **argv)
{
    keygen_cfg_t cfg = {0};
    int nargs = 0;
    char **args = NULL;
    char err[512];
    int rc = nw_config_load(
        keygen_opts, &cfg, argc, argv,
        "newswire keygen NAME...\n       newswire keygen --set DIR [--role ROLE [NAME]]",
        "Make a CURVE key pair per NAME: NAME.key (public and secret key, mode 0600, for that\n"
        "process's --curve-key) and NAME.pub (the public key, for its peers).\n\n"
        "With --set DIR, the set for roles on the bus: DIR/broker.key (the broker's\n"
        "--curve-key; every other process gets --curve-server DIR/broker.pub), one pair per\n"
        "role (DIR/fetch.key, worker.key for parse and enrich, store.key, subscriber.key for\n"
        "query and `newswire tail`) and DIR/roles/<role>/<name>.pub, the broker's\n"
        "--curve-roles DIR/roles. --role ROLE [NAME] adds one more pair to a role, e.g. a\n"
        "worker key per host. Existing files are never overwritten.",
        &nargs, &args);
    int status = nw_cli_config_status(rc);
    if (status >= 0)
        return status;
    if (*cfg.set) {
        if (nargs > (*cfg.role ? 1 : 0)) {
            fprintf(stderr, "newswire keygen: --set takes no NAME (one with --role)\n");
            return 2;
        }
        if (nw_curve_keygen_set(cfg.set, *cfg.role ? cfg.role : NULL, nargs ? args[0] : NULL, err,
                                sizeof err) < 0) {
            fprintf(stderr, "newswire keygen: %s\n", err);
            return 1;
        }
        printf("%s: %s\n", cfg.set,
               *cfg.role ? "added a key pair to the role"
                         : "broker, fetch, worker, store and subscriber key pairs; roles/");
        return 0;
    }
    if (*cfg.role) {
        fprintf(stderr, "newswire keygen: --role needs --set DIR\n");
        return 2;
    }
    if (nargs == 0) {
        fprintf(stderr,
                "newswire keygen: name at least one key pair (e.g. broker), or --set DIR\n");
        return 2;
    }
    for (int i = 0; i < nargs; i++) {
        if (nw_curve_keygen(args[i], err, sizeof err) < 0) {
            fprintf(stderr, "newswire keygen: %s\n", err);
            return 1;
        }
        printf("%s.key %s.pub\n", args[i], args[i]);
    }
    return 0;
}
