/* cli.h: private to the `newswire` command. Each command is one file (up.c, ingest.c,
 * tail.c, search.c, get.c, dlq.c, extract.c, parse.c, enrich.c, feed.c, compare.c, keygen.c,
 * token.c) holding its options, its work and its output, with one entry point taking the argv
 * that starts at its own name (so nw_config_load sees the command's options) and returning
 * the process exit status: 0 success, 1 failure, 2 usage error. main.c dispatches; cli.c holds
 * what several commands share. No command calls another's file. */
#ifndef NW_CLI_H
#define NW_CLI_H

#include <curl/curl.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "newswire/buf.h"
#include "newswire/id.h"
#include "newswire/proto.h"
#include "newswire/store.h"

/* ---- the commands ---- */

int nw_cli_up(int argc, char **argv);      /* up.c: the whole system, supervised */
int nw_cli_ingest(int argc, char **argv);  /* ingest.c: documents to the fetch API */
int nw_cli_tail(int argc, char **argv);    /* tail.c: published articles as JSON lines */
int nw_cli_search(int argc, char **argv);  /* search.c: full-text search */
int nw_cli_get(int argc, char **argv);     /* get.c: one stored article */
int nw_cli_dlq(int argc, char **argv);     /* dlq.c: dead letters: list, show, stats, replay */
int nw_cli_extract(int argc, char **argv); /* extract.c: one document to an article */
int nw_cli_parse(int argc, char **argv);   /* parse.c: the parse stage as a filter */
int nw_cli_enrich(int argc, char **argv);  /* enrich.c: the enrich stage as a filter */
int nw_cli_feed(int argc, char **argv);    /* feed.c: a feed as JSON */
int nw_cli_compare(int argc, char **argv); /* compare.c: similarity of two articles */
int nw_cli_keygen(int argc, char **argv);  /* keygen.c: CURVE key pairs */
int nw_cli_token(int argc, char **argv);   /* token.c: bearer tokens for the HTTP APIs */
int nw_cli_config(int argc, char **argv);  /* config.c: check a --config file */

/* ---- cli.c: options and output ---- */

/* Every database command takes --data-dir and --db; the help text is shared. */
#define NW_CLI_DATA_DIR_HELP "data directory of the system (database: <data-dir>/newswire.db)"
#define NW_CLI_DB_HELP "database file, or postgresql:// URI (overrides --data-dir)"

/* Map a nw_config_load() result to "continue" (-1) or an exit status (0 after --help, 2 for
 * a usage error). */
int nw_cli_config_status(int rc);

/* Print the one MessagePack object in buf[0..len) as a JSON line on stdout, with an extra
 * string key first when key is not NULL. indent > 0 pretty-prints. Returns 0 or -errno
 * (-EPIPE when stdout is gone). */
int nw_cli_print_msgpack(const uint8_t *buf, size_t len, const char *key, const char *val,
                         int indent);

/* Print a JSON value as one compact line on stdout (borrowed). Returns 0 or -EPIPE/-EIO/
 * -ENOMEM. */
int nw_cli_print_json(json_t *v);

/* Open the database named by --data-dir / --db (nw_store_path) read-only (readonly 1) or for
 * writing, or say why not on stderr as "newswire <cmd>: ...". Returns the store or NULL. */
nw_store_t *nw_cli_open_db(const char *cmd, const char *data_dir, const char *db, int readonly);

/* ---- cli.c: the fetch API ---- */

/* The outcome of one POST to the fetch API. */
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

/* POST body[0..len) as ctype to <api><path> (?url=<url> when url is not NULL) with the curl
 * handle, with NEWSWIRE_TOKEN as a bearer token when it is set, retrying 429/503 answers up
 * to retries times after Retry-After. Prints nothing; fills *ans. Borrows everything until
 * return. */
nw_cli_sent_t nw_cli_post_to(CURL *curl, const char *api, const char *path, const char *url,
                             const char *ctype, const uint8_t *body, size_t len, int64_t retries,
                             nw_cli_answer_t *ans);
/* The same to /v1/articles: what `newswire ingest` and `newswire dlq replay` send. */
nw_cli_sent_t nw_cli_post(CURL *curl, const char *api, const char *url, const char *ctype,
                          const uint8_t *body, size_t len, int64_t retries, nw_cli_answer_t *ans);

/* ---- cli.c: the stage filters (extract, parse, enrich) ---- */

/* The last path segment of a file name or URL (without query or fragment), for sniffing by
 * extension. Writes into out; returns out or NULL when there is none. */
const char *nw_cli_base_name(const char *path, char *out, size_t n);

/* Parse one raw message with the parse stage's job (jobs.h) and print the article as one JSON
 * line. On failure writes "<reason>: <detail>" into why[] and returns a negative errno. */
int nw_cli_print_article(const nw_raw_t *raw, char *why, size_t why_len);

/* One input line of a filter: returns 0, a negative errno with why[] filled for a bad line
 * (reported with its number, then skipped), or -EPIPE when output is gone (stop at once). */
typedef int (*nw_cli_line_fn)(const char *line, size_t len, char *why, size_t why_len);

/* Run a `newswire <cmd> --jsonl` filter: parse its one option (help text jsonl_help, command
 * summary summary), then call fn for every non-blank line of stdin. Returns the exit status:
 * 1 when any line failed. */
int nw_cli_filter(const char *cmd, const char *jsonl_help, const char *summary, nw_cli_line_fn fn,
                  int argc, char **argv);

#endif
