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

static void
env_name(const char *key, char *out, size_t n)
{
    size_t k = (size_t)snprintf(out, n, "NEWSWIRE_");
    for (const char *p = key; *p && k + 1 < n; p++)
        out[k++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    out[k] = 0;
}

static int
set_value(const nw_cfg_opt_t *o, void *cfg, const char *text, const char *from)
{
    char *field = (char *)cfg + o->offset;
    if (o->type == NW_CFG_STR) {
        memcpy(field, &text, sizeof text);
        return 0;
    }
    int64_t v = 0;
    if (text && nw_config_parse_value(o->type, text, &v) < 0) {
        fprintf(stderr, "error: bad value \"%s\" for %s '%s'\n", text, from, o->key);
        return -EINVAL;
    }
    /* An unset value (NULL default) is 0 by definition, not a value to hold to the bounds. */
    if (text && (o->min || o->max) && (v < o->min || v > o->max)) {
        fprintf(stderr, "error: %s '%s' is %lld, must be within %lld..%lld\n", from, o->key,
                (long long)v, (long long)o->min, (long long)o->max);
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
help(const nw_cfg_opt_t *table, const char *usage, const char *summary)
{
    static const char *tn[] = {"TEXT", "N", "SIZE", "DURATION", ""};
    printf("usage: %s\n\n%s\n\noptions (each also read from the environment variable shown):\n",
           usage, summary);
    for (const nw_cfg_opt_t *o = table; o->key; o++) {
        char env[128], flag[96];
        env_name(o->key, env, sizeof env);
        snprintf(flag, sizeof flag, "--%s%s%s", o->key, o->type == NW_CFG_BOOL ? "" : " ",
                 tn[o->type]);
        printf("  %-28s %s\n  %-28s [%s; default: %s]\n", flag, o->help, "", env,
               o->def && *o->def ? o->def : "none");
    }
    printf("  %-28s %s\n", "-h, --help", "show this help and exit");
    printf("  %-28s %s\n", "--version", "print the version and exit");
}

const char *
nw_version(void)
{
    return NW_VERSION;
}

/* "newswire-query 0.1.0": the program's name is the first word of its usage line. */
static void
version(const char *usage)
{
    printf("%.*s %s\n", (int)strcspn(usage, " "), usage, NW_VERSION);
}

int
nw_config_load(const nw_cfg_opt_t *table, void *cfg, int argc, char **argv, const char *usage,
               const char *summary, int *nargs, char ***args)
{
    /* --help and --version work even when the environment holds a bad value. */
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            help(table, usage, summary);
            return 1;
        }
        if (strcmp(argv[i], "--version") == 0) {
            version(usage);
            return 1;
        }
    }
    for (const nw_cfg_opt_t *o = table; o->key; o++)
        if (set_value(o, cfg, o->def, "default") < 0)
            return -EINVAL;
    for (const nw_cfg_opt_t *o = table; o->key; o++) {
        char env[128];
        env_name(o->key, env, sizeof env);
        const char *v = getenv(env);
        if (v && set_value(o, cfg, v, "environment variable for") < 0)
            return -EINVAL;
    }
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            help(table, usage, summary);
            return 1;
        }
        if (strcmp(a, "--") == 0) {
            while (++i < argc)
                argv[1 + npos++] = argv[i];
            break;
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == 0) {
            argv[1 + npos++] = argv[i]; /* positional; compact in place */
            continue;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const nw_cfg_opt_t *o = table;
        for (; o->key; o++)
            if (strlen(o->key) == nlen && strncmp(o->key, name, nlen) == 0)
                break;
        if (o->key == NULL) {
            fprintf(stderr, "error: unknown option '--%.*s' (see --help)\n", (int)nlen, name);
            return -EINVAL;
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
        if (set_value(o, cfg, val, "option") < 0)
            return -EINVAL;
    }
    if (nargs)
        *nargs = npos;
    if (args)
        *args = argv + 1;
    if (!nargs && npos > 0) {
        fprintf(stderr, "error: unexpected argument '%s' (see --help)\n", argv[1]);
        return -EINVAL;
    }
    return 0;
}

void
nw_config_bad_value(const char *key, const char *value, const char *expected)
{
    fprintf(stderr, "error: bad value \"%s\" for option '%s'%s%s%s\n", value ? value : "", key,
            expected ? " (" : "", expected ? expected : "", expected ? ")" : "");
}
