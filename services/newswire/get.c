/* get.c: `newswire get ID`, one stored article (its current revision) as JSON, read from the
 * database directly and read-only. */
#include "cli.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswire/config.h"
#include "newswire/store.h"

typedef struct get_cfg {
    const char *data_dir;
    const char *db;
    int jsonl;
} get_cfg_t;

static const nw_cfg_opt_t get_opts[] = {
    {"data-dir", NW_CFG_STR, "var", offsetof(get_cfg_t, data_dir), NW_CLI_DATA_DIR_HELP, 0, 0},
    {"db", NW_CFG_STR, NULL, offsetof(get_cfg_t, db), NW_CLI_DB_HELP, 0, 0},
    {"jsonl", NW_CFG_BOOL, "0", offsetof(get_cfg_t, jsonl),
     "print compact JSON on one line instead of indented", 0, 0},
    NW_CFG_END,
};

int
nw_cli_get(int argc, char **argv)
{
    get_cfg_t cfg = {0};
    int nargs = 0, status;
    char **args = NULL;
    nw_store_t *s = NULL;
    uint8_t *doc = NULL;
    size_t len = 0;
    int rc = nw_config_load(get_opts, &cfg, argc, argv, "newswire get [options] ID",
                            "Print the stored article with this id (its current revision) as "
                            "JSON: the enriched\ndocument with its revision (rev) and publication "
                            "sequence number (seq).",
                            &nargs, &args);
    if ((status = nw_cli_config_status(rc)) >= 0)
        return status;
    if (nargs != 1) {
        fprintf(stderr, "newswire get: expected one ID (see --help)\n");
        return 2;
    }
    status = 1;
    if ((s = nw_cli_open_db("get", cfg.data_dir, cfg.db, 1)) == NULL)
        goto done;
    rc = nw_store_get(s, args[0], &doc, &len);
    if (rc == -ENOENT) {
        fprintf(stderr, "newswire get: no article with id \"%s\"\n", args[0]);
        goto done;
    }
    if (rc < 0) {
        fprintf(stderr, "newswire get: reading \"%s\" failed: %s\n", args[0], strerror(-rc));
        goto done;
    }
    rc = nw_cli_print_msgpack(doc, len, NULL, NULL, cfg.jsonl ? 0 : 2);
    if (rc < 0 && rc != -EPIPE) {
        fprintf(stderr, "newswire get: cannot print \"%s\": %s\n", args[0], strerror(-rc));
        goto done;
    }
    status = 0;
done:
    free(doc);
    nw_store_close(&s);
    return status;
}
