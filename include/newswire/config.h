/* config.h: one declarative table per service drives flags, NEWSWIRE_* environment variables,
 * config files, defaults, validation and --help. A key "inbox-dir" of newswire-fetch is the
 * flag --inbox-dir, the line `inbox-dir = /x` of a --config file, and the variables
 * NEWSWIRE_FETCH_INBOX_DIR (this program only) and NEWSWIRE_INBOX_DIR (read by the service
 * executables, and by `newswire <command>` only for the shared keys: broker, data-dir, db,
 * api, token, log-level, log-format, curve-key, curve-server). Precedence: flag, then
 * environment (the program's own name first), then the --config file, then the default.
 * Unknown NEWSWIRE_* variables get a warning; --config-check validates and exits. The config
 * struct is read-only once nw_config_load() returned. */
#ifndef NW_CONFIG_H
#define NW_CONFIG_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    NW_CFG_STR,  /* const char *: borrowed from argv, environ or the default */
    NW_CFG_INT,  /* int64_t */
    NW_CFG_SIZE, /* int64_t bytes; accepts suffixes k, m, g (powers of 1024) */
    NW_CFG_MS,   /* int64_t milliseconds; accepts suffixes ms, s, m, h, d */
    NW_CFG_BOOL, /* int: 1/0, true/false, yes/no, on/off; a bare flag means 1 */
} nw_cfg_type_t;

typedef struct nw_cfg_opt {
    const char *key; /* lowercase-with-dashes */
    nw_cfg_type_t type;
    const char *def;  /* default as text; NULL means unset (STR NULL, numbers 0) */
    size_t offset;    /* offsetof(struct, field) */
    const char *help; /* one line */
    int64_t min, max; /* bounds for numbers, ignored when both are 0 */
} nw_cfg_opt_t;

#define NW_CFG_END                                                                                 \
    {                                                                                              \
        NULL, 0, NULL, 0, NULL, 0, 0                                                               \
    }

/* Fill cfg from defaults, environment and argv[1..]. Non-option arguments are left in
 * argv order and their count returned through *nargs / *args (may be NULL if the caller takes
 * none, in which case positional arguments are an error).
 * Returns 0 on success, 1 when --help was printed or --config-check passed (exit 0), or
 * -EINVAL after printing one line per bad flag, variable or config line, naming it and
 * showing bounds in the units the option is written in (exit 2). The program is named by the
 * usage line ("newswire-fetch ...", "newswire search ..."). */
int nw_config_load(const nw_cfg_opt_t *table, void *cfg, int argc, char **argv, const char *usage,
                   const char *summary, int *nargs, char ***args);

/* Report a value that nw_config_load accepted but the program cannot use, in the style of the
 * loader's own messages: `error: bad value "VALUE" for option 'KEY' (EXPECTED)` on stderr.
 * expected may be NULL. The caller then exits with status 2. */
void nw_config_bad_value(const char *key, const char *value, const char *expected);

/* Parse a value as the table's type would (exposed for tests). Returns 0 or -EINVAL. */
int nw_config_parse_value(nw_cfg_type_t type, const char *text, int64_t *out);

#endif
