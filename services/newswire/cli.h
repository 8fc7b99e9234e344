/* cli.h: private to the `newswire` command. Each subcommand is one function taking the
 * argv that starts at its own name (so nw_config_load sees the subcommand's options) and
 * returning the process exit status: 0 success, 1 failure, 2 usage error. */
#ifndef NW_CLI_H
#define NW_CLI_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

#include "newswire/buf.h"
#include "newswire/store.h"

/* up.c: run the whole system on this machine as supervised child processes. */
int nw_cli_up(int argc, char **argv);

/* client.c: talk to a running system over the fetch API and the topic hub. */
int nw_cli_ingest(int argc, char **argv);
int nw_cli_tail(int argc, char **argv);

/* client.c: the outcome of one POST to the fetch API. */
typedef enum {
    NW_CLI_SENT_OK,          /* 2xx with an id: accepted */
    NW_CLI_SENT_REFUSED,     /* fetch answered with an error (or stayed busy past the retries) */
    NW_CLI_SENT_UNREACHABLE, /* no connection: nothing else will get through either */
    NW_CLI_SENT_FAILED,      /* any other transport error, or out of memory */
} nw_cli_sent_t;

typedef struct nw_cli_answer {
    long status;       /* HTTP status; 0 when fetch never answered */
    char id[80];       /* accepted: the article id */
    char error[64];    /* refused: fetch's reason, e.g. "invalid-utf8" */
    char message[512]; /* refused: fetch's explanation; otherwise what went wrong */
} nw_cli_answer_t;

/* client.c: POST body[0..len) as ctype to <api>/v1/articles (?url=<url> when url is not NULL)
 * with the curl handle, retrying 429/503 answers up to retries times after Retry-After. The
 * code `newswire ingest` and `newswire dlq replay` share. Prints nothing; fills *ans. Borrows
 * everything until return. */
nw_cli_sent_t nw_cli_post(CURL *curl, const char *api, const char *url, const char *ctype,
                          const uint8_t *body, size_t len, int64_t retries, nw_cli_answer_t *ans);

/* query.c: read the database directly (read-only). */
int nw_cli_search(int argc, char **argv);
int nw_cli_get(int argc, char **argv);
int nw_cli_dlq(int argc, char **argv);
/* query.c: open the database named by --data-dir / --db read-only (readonly 1) or for writing,
 * or say why not on stderr as "newswire <cmd>: ...". Returns the store or NULL. */
nw_store_t *nw_cli_open_db(const char *cmd, const char *data_dir, const char *db, int readonly);

/* filter.c: the pipeline stages as one-shot filters on files and JSON lines. */
int nw_cli_extract(int argc, char **argv);
int nw_cli_parse(int argc, char **argv);
int nw_cli_enrich(int argc, char **argv);
int nw_cli_compare(int argc, char **argv);
int nw_cli_keygen(int argc, char **argv);
/* token.c */
int nw_cli_token(int argc, char **argv);
int nw_cli_feed(int argc, char **argv);

/* main.c: map a nw_config_load() result to "continue" (0) or an exit status (+1 for
 * --help, which exits 0, and 2 for a usage error): returns -1 to continue, else the status. */
int nw_cli_config_status(int rc);

/* main.c: print the one MessagePack object in buf[0..len) as a JSON line on stdout, with an
 * extra string key when key is not NULL. indent > 0 pretty-prints. Returns 0 or -errno
 * (-EPIPE when stdout is gone). */
int nw_cli_print_msgpack(const uint8_t *buf, size_t len, const char *key, const char *val,
                         int indent);

#endif
