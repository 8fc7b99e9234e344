/* config.c: the declarative configuration table (see config.h). */
#include "newswire/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int
nw_config_parse_value(nw_cfg_type_t type, const char *text, int64_t *out)
{
    if (type == NW_CFG_BOOL) {
        static const char *yes[] = {"1", "true", "yes", "on"}, *no[] = {"0", "false", "no", "off"};
        for (int i = 0; i < 4; i++) {
            if (strcasecmp(text, yes[i]) == 0)
                return *out = 1, 0;
            if (strcasecmp(text, no[i]) == 0)
                return *out = 0, 0;
        }
        return -EINVAL;
    }
    if (type == NW_CFG_STR)
        return -EINVAL;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text)
        return -EINVAL;
    int64_t mult = 1;
    if (type == NW_CFG_SIZE) {
        if (*end == 'k' || *end == 'K')
            mult = 1024, end++;
        else if (*end == 'm' || *end == 'M')
            mult = 1024 * 1024, end++;
        else if (*end == 'g' || *end == 'G')
            mult = 1024LL * 1024 * 1024, end++;
        /* "1k", "1kb", "1KB" and "1KiB" all mean 1024 bytes; "1ki" is a typo. */
        if (mult > 1 && strcmp(end, "iB") == 0)
            end += 2;
        else if (mult > 1 && (*end == 'b' || *end == 'B'))
            end++;
    } else if (type == NW_CFG_MS) {
        if (strcmp(end, "ms") == 0)
            end += 2;
        else if (strcmp(end, "s") == 0)
            mult = 1000, end++;
        else if (strcmp(end, "m") == 0)
            mult = 60000, end++;
        else if (strcmp(end, "h") == 0)
            mult = 3600000, end++;
        else if (strcmp(end, "d") == 0)
            mult = 86400000, end++;
    }
    if (*end != 0)
        return -EINVAL;
    if (v != 0 && (v > INT64_MAX / mult || v < INT64_MIN / mult))
        return -EINVAL;
    *out = (int64_t)v * mult;
    return 0;
}

/* The program a table belongs to, from its usage line: "newswire-fetch [options]" is
 * "fetch", "newswire search [options] QUERY..." is "search"; "" for anything else (tests). */
static void
program_of(const char *usage, char *out, size_t n)
{
    const char *p = "";
    if (strncmp(usage, "newswire-", 9) == 0)
        p = usage + 9;
    else if (strncmp(usage, "newswire ", 9) == 0)
        p = usage + 9;
    size_t k = 0;
    for (; p[k] && p[k] != ' ' && k + 1 < n; k++)
        out[k] = p[k] == '-' ? '_' : (char)toupper((unsigned char)p[k]);
    out[k] = 0;
}

/* NEWSWIRE_[PROG_]KEY for key, dashes as underscores, upper case. */
static void
env_name(const char *prog, const char *key, char *out, size_t n)
{
    size_t k = (size_t)snprintf(out, n, "NEWSWIRE_%s%s", prog, *prog ? "_" : "");
    for (const char *p = key; *p && k + 1 < n; p++)
        out[k++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    out[k] = 0;
}

/* Options that mean the same thing to every program, so one environment (a shell profile,
 * /etc/newswire/newswire.env) may set them for all: where the data and the broker are, how
 * to log, which keys to use. */
static const char *const shared_keys[] = {"broker",       "data-dir",  "db",         "api",
                                          "token",        "log-level", "log-format", "curve-key",
                                          "curve-server", NULL};

static int
shared_key(const char *key)
{
    for (size_t i = 0; shared_keys[i]; i++)
        if (strcmp(key, shared_keys[i]) == 0)
            return 1;
    return 0;
}

/* The service executables are configured by the generic names too (one service per
 * container or unit); the `newswire` commands only by their own and the shared ones, so
 * NEWSWIRE_LIMIT meant for one command cannot change another. */
static const char *
env_value(const char *prog, int generic, const nw_cfg_opt_t *o, char *name, size_t n)
{
    const char *v = NULL;
    if (*prog) {
        env_name(prog, o->key, name, n);
        if ((v = getenv(name)) != NULL)
            return v;
    }
    if (generic || !*prog || shared_key(o->key)) {
        env_name("", o->key, name, n);
        v = getenv(name);
    }
    return v;
}

/* A number in the units its type is written in: 90000 ms as "90s", 1048576 bytes as "1m". */
static void
show(nw_cfg_type_t type, int64_t v, char *out, size_t n)
{
    static const struct {
        int64_t mult;
        const char *unit;
    } ms[] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}},
      sz[] = {{1024LL * 1024 * 1024, "g"}, {1024 * 1024, "m"}, {1024, "k"}};
    if (type == NW_CFG_MS || type == NW_CFG_SIZE) {
        size_t k = type == NW_CFG_MS ? 4 : 3;
        for (size_t i = 0; i < k; i++) {
            int64_t m = type == NW_CFG_MS ? ms[i].mult : sz[i].mult;
            if (v != 0 && v % m == 0) {
                snprintf(out, n, "%lld%s", (long long)(v / m),
                         type == NW_CFG_MS ? ms[i].unit : sz[i].unit);
                return;
            }
        }
        snprintf(out, n, "%lld%s", (long long)v, type == NW_CFG_MS ? "ms" : "");
        return;
    }
    snprintf(out, n, "%lld", (long long)v);
}

/* where: how the user gave it, e.g. "option '--window'", "environment variable NEWSWIRE_X",
 * "f.conf:3: key 'window'". */
static int
set_value(const nw_cfg_opt_t *o, void *cfg, const char *text, const char *where)
{
    static const char *expect[] = {"text", "a whole number", "a size such as 64k or 2m",
                                   "a duration such as 500ms, 30s or 2h", "true or false"};
    char *field = (char *)cfg + o->offset;
    if (o->type == NW_CFG_STR) {
        memcpy(field, &text, sizeof text);
        return 0;
    }
    int64_t v = 0;
    if (text && nw_config_parse_value(o->type, text, &v) < 0) {
        fprintf(stderr, "error: bad value \"%s\" for %s (expected %s)\n", text, where,
                expect[o->type]);
        return -EINVAL;
    }
    /* An unset value (NULL default) is 0 by definition, not a value to hold to the bounds. */
    if (text && (o->min || o->max) && (v < o->min || v > o->max)) {
        char lo[32], hi[32];
        show(o->type, o->min, lo, sizeof lo);
        show(o->type, o->max, hi, sizeof hi);
        fprintf(stderr, "error: %s is %s, must be within %s..%s\n", where, text, lo, hi);
        return -EINVAL;
    }
    if (o->type == NW_CFG_BOOL) {
        int b = (int)v;
        memcpy(field, &b, sizeof b);
    } else {
        memcpy(field, &v, sizeof v);
    }
    return 0;
}

/* Print --help text generated from the table to stdout. */
static void
help(const nw_cfg_opt_t *table, const char *usage, const char *summary, const char *prog)
{
    static const char *tn[] = {"TEXT", "N", "SIZE", "DURATION", ""};
    printf("usage: %s\n\n%s\n\noptions (each also read from the environment variable shown, "
           "and from a --config file as `key = value`):\n",
           usage, summary);
    for (const nw_cfg_opt_t *o = table; o->key; o++) {
        char env[128], flag[96];
        env_name(prog, o->key, env, sizeof env);
        snprintf(flag, sizeof flag, "--%s%s%s", o->key, o->type == NW_CFG_BOOL ? "" : " ",
                 tn[o->type]);
        printf("  %-28s %s\n  %-28s [%s; default: %s]\n", flag, o->help, "", env,
               o->def && *o->def ? o->def : "none");
    }
    printf("  %-28s %s\n", "--config FILE",
           "read options from FILE (`key = value` lines, # "
           "comments); flags and environment win");
    printf("  %-28s %s\n", "--config-check",
           "check the options (and the --config file), "
           "name every bad one, and exit");
    printf("  %-28s %s\n", "-h, --help", "show this help and exit");
}

/* Values read from config files live as long as the process: the config struct borrows them.
 * Kept reachable here so leak checkers do not count them. */
static char **file_values;
static size_t n_file_values;

static char *
keep(const char *s, size_t len)
{
    char **grown = realloc(file_values, (n_file_values + 1) * sizeof *grown);
    if (grown == NULL)
        return NULL;
    file_values = grown;
    char *v = malloc(len + 1);
    if (v == NULL)
        return NULL;
    memcpy(v, s, len);
    v[len] = 0;
    file_values[n_file_values++] = v;
    return v;
}

static const nw_cfg_opt_t *
find(const nw_cfg_opt_t *table, const char *name, size_t len)
{
    for (const nw_cfg_opt_t *o = table; o->key; o++)
        if (strlen(o->key) == len && strncmp(o->key, name, len) == 0)
            return o;
    return NULL;
}

static char *
trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = 0;
    return s;
}

/* Read `key = value` lines into cfg. Every bad line is reported (file:line, the key), not
 * only the first, so one run of --config-check lists them all. Returns 0 or -EINVAL. */
static int
load_file(const nw_cfg_opt_t *table, void *cfg, const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "error: cannot read config file \"%s\": %s\n", path, strerror(errno));
        return -EINVAL;
    }
    char line[4096], where[4200];
    int bad = 0;
    for (int no = 1; fgets(line, sizeof line, f); no++) {
        char *l = trim(line);
        if (*l == 0 || *l == '#')
            continue;
        char *eq = strchr(l, '=');
        if (eq == NULL) {
            fprintf(stderr, "error: %s:%d: expected `key = value`, got \"%s\"\n", path, no, l);
            bad = 1;
            continue;
        }
        *eq = 0;
        char *key = trim(l), *val = trim(eq + 1);
        size_t vlen = strlen(val);
        /* "quoted" keeps spaces at either end and allows an empty value */
        if (vlen >= 2 && val[0] == '"' && val[vlen - 1] == '"') {
            val++;
            vlen -= 2;
        }
        const nw_cfg_opt_t *o = find(table, key, strlen(key));
        if (o == NULL) {
            fprintf(stderr, "error: %s:%d: unknown key '%s' (see --help)\n", path, no, key);
            bad = 1;
            continue;
        }
        snprintf(where, sizeof where, "%s:%d: key '%s'", path, no, key);
        const char *v = keep(val, vlen);
        if (v == NULL || set_value(o, cfg, v, where) < 0)
            bad = 1;
    }
    fclose(f);
    return bad ? -EINVAL : 0;
}

/* Warn about NEWSWIRE_* variables this program does not read: a misspelt one is otherwise
 * silently ignored. Variables of other programs (NEWSWIRE_<PROG>_...) and the few read
 * outside the tables are left alone. */
static void
warn_unknown_env(const nw_cfg_opt_t *table, const char *prog, int generic, const char *usage)
{
    /* "newswire-parse" or "newswire search": the program as the user typed it */
    const char *sp = strchr(usage, ' ');
    if (sp && strncmp(usage, "newswire ", 9) == 0)
        sp = strchr(sp + 1, ' ');
    int shown = sp ? (int)(sp - usage) : (int)strlen(usage);
    extern char **environ;
    static const char *const others[] = {"REF_DIR", "NER_MODEL",   "UP",       "BROKER", "BIND",
                                         "HTTP",    "HTTP_TOKENS", "DATA_DIR", "DB",     NULL};
    static const char *const progs[] = {"BROKER_", "FETCH_", "PARSE_",   "ENRICH_", "STORE_",
                                        "QUERY_",  "UP_",    "INGEST_",  "TAIL_",   "SEARCH_",
                                        "GET_",    "DLQ_",   "EXTRACT_", "FEED_",   "COMPARE_",
                                        "KEYGEN_", "TOKEN_", NULL};
    for (char **e = environ; e && *e; e++) {
        if (strncmp(*e, "NEWSWIRE_", 9) != 0)
            continue;
        const char *rest = *e + 9, *eq = strchr(rest, '=');
        size_t len = eq ? (size_t)(eq - rest) : strlen(rest);
        char name[128];
        int known = 0;
        for (const nw_cfg_opt_t *o = table; o->key && !known; o++) {
            env_name(prog, o->key, name, sizeof name);
            known = strlen(name) == len + 9 && strncmp(name + 9, rest, len) == 0;
            env_name("", o->key, name, sizeof name);
            known = known || (strlen(name) == len + 9 && strncmp(name + 9, rest, len) == 0 &&
                              (generic || !*prog || shared_key(o->key)));
        }
        for (size_t i = 0; others[i] && !known; i++)
            known = strlen(others[i]) == len && strncmp(others[i], rest, len) == 0;
        /* a shared key is everyone's, read or not (one environment for all programs) */
        for (size_t i = 0; shared_keys[i] && !known; i++) {
            env_name("", shared_keys[i], name, sizeof name);
            known = strlen(name) == len + 9 && strncmp(name + 9, rest, len) == 0;
        }
        size_t plen = strlen(prog);
        int mine = *prog && len > plen && strncmp(rest, prog, plen) == 0 && rest[plen] == '_';
        for (size_t i = 0; progs[i] && !known && !mine; i++)
            known = strncmp(rest, progs[i], strlen(progs[i])) == 0;
        if (!known)
            fprintf(stderr,
                    "warning: environment variable NEWSWIRE_%.*s is not an option of %.*s "
                    "(ignored; see --help)\n",
                    (int)len, rest, shown, usage);
    }
}

int
nw_config_load(const nw_cfg_opt_t *table, void *cfg, int argc, char **argv, const char *usage,
               const char *summary, int *nargs, char ***args)
{
    char prog[32], env[160], where[200];
    program_of(usage, prog, sizeof prog);
    /* The services read the generic names as well: NEWSWIRE_HTTP in a service's container. */
    int generic = strncmp(usage, "newswire-", 9) == 0;
    const char *config = NULL;
    int check = 0;
    /* --help works even when the environment holds a bad value. */
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            help(table, usage, summary, prog);
            return 1;
        }
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            config = argv[i + 1];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            config = argv[i] + 9;
        else if (strcmp(argv[i], "--config-check") == 0)
            check = 1;
    }
    int bad = 0;
    for (const nw_cfg_opt_t *o = table; o->key; o++)
        if (set_value(o, cfg, o->def, "default") < 0)
            return -EINVAL;
    if (config && load_file(table, cfg, config) < 0)
        bad = 1;
    for (const nw_cfg_opt_t *o = table; o->key; o++) {
        const char *v = env_value(prog, generic, o, env, sizeof env);
        snprintf(where, sizeof where, "environment variable %s", env);
        if (v && set_value(o, cfg, v, where) < 0)
            bad = 1;
    }
    warn_unknown_env(table, prog, generic, usage);
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            while (++i < argc)
                argv[1 + npos++] = argv[i];
            break;
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == 0) {
            argv[1 + npos++] = argv[i]; /* positional; compact in place */
            continue;
        }
        if (strcmp(a, "--config") == 0) {
            if (++i >= argc) {
                fprintf(stderr, "error: option '--config' needs a value\n");
                return -EINVAL;
            }
            continue;
        }
        if (strncmp(a, "--config=", 9) == 0 || strcmp(a, "--config-check") == 0)
            continue;
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const nw_cfg_opt_t *o = find(table, name, nlen);
        if (o == NULL) {
            fprintf(stderr, "error: unknown option '--%.*s' (see --help)\n", (int)nlen, name);
            bad = 1;
            continue;
        }
        const char *val = eq ? eq + 1 : NULL;
        if (val == NULL && o->type == NW_CFG_BOOL)
            val = "1";
        if (val == NULL) {
            if (i + 1 >= argc) {
                fprintf(stderr, "error: option '--%s' needs a value\n", o->key);
                return -EINVAL;
            }
            val = argv[++i];
        }
        snprintf(where, sizeof where, "option '--%s'", o->key);
        if (set_value(o, cfg, val, where) < 0)
            bad = 1;
    }
    if (bad)
        return -EINVAL;
    if (nargs)
        *nargs = npos;
    if (args)
        *args = argv + 1;
    if (!nargs && npos > 0) {
        fprintf(stderr, "error: unexpected argument '%s' (see --help)\n", argv[1]);
        return -EINVAL;
    }
    if (check) {
        printf("%s: options ok\n", config ? config : "environment and flags");
        return 1;
    }
    return 0;
}

void
nw_config_bad_value(const char *key, const char *value, const char *expected)
{
    fprintf(stderr, "error: bad value \"%s\" for option '%s'%s%s%s\n", value ? value : "", key,
            expected ? " (" : "", expected ? expected : "", expected ? ")" : "");
}
