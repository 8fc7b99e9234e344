/* cli.h: private to the `newswire` command. Each subcommand is one function taking the
 * argv that starts at its own name (so nw_config_load sees the subcommand's options) and
 * returning the process exit status: 0 success, 1 failure, 2 usage error. */
#ifndef NW_CLI_H
#define NW_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "newswire/buf.h"

/* up.c: run the whole system on this machine as supervised child processes. */
int nw_cli_up(int argc, char **argv);

/* client.c: talk to a running system over the fetch API and the topic hub. */
int nw_cli_ingest(int argc, char **argv);
int nw_cli_tail(int argc, char **argv);

/* query.c: read the database directly (read-only). */
int nw_cli_search(int argc, char **argv);
int nw_cli_get(int argc, char **argv);
int nw_cli_dlq(int argc, char **argv);

/* filter.c: the pipeline stages as one-shot filters on files and JSON lines. */
int nw_cli_extract(int argc, char **argv);
int nw_cli_parse(int argc, char **argv);
int nw_cli_enrich(int argc, char **argv);

/* main.c: map a nw_config_load() result to "continue" (0) or an exit status (+1 for
 * --help, which exits 0, and 2 for a usage error): returns -1 to continue, else the status. */
int nw_cli_config_status(int rc);

/* main.c: print the one MessagePack object in buf[0..len) as a JSON line on stdout, with an
 * extra string key when key is not NULL. indent > 0 pretty-prints. Returns 0 or -errno
 * (-EPIPE when stdout is gone). */
int nw_cli_print_msgpack(const uint8_t *buf, size_t len, const char *key, const char *val,
                         int indent);

#endif
