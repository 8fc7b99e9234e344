/* test_config.c: the declarative configuration table: value parsing, defaults, environment,
 * flags, precedence, positional arguments, validation messages and generated --help. */
#include "newswire/config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

struct cfg {
    const char *http;
    int64_t workers;
    int64_t max_body;
    int64_t drain;
    int verbose;
    const char *name;
    int64_t retries;
};

static const nw_cfg_opt_t table[] = {
    {"http", NW_CFG_STR, "127.0.0.1:8080", offsetof(struct cfg, http), "listen address", 0, 0},
    {"workers", NW_CFG_INT, "4", offsetof(struct cfg, workers), "worker processes", 1, 64},
    {"max-body", NW_CFG_SIZE, "1m", offsetof(struct cfg, max_body), "largest body", 0, 0},
    {"drain-timeout", NW_CFG_MS, "10s", offsetof(struct cfg, drain), "drain limit", 0, 0},
    {"verbose", NW_CFG_BOOL, "false", offsetof(struct cfg, verbose), "say more", 0, 0},
    {"name", NW_CFG_STR, NULL, offsetof(struct cfg, name), "instance name", 0, 0},
    {"retries", NW_CFG_INT, NULL, offsetof(struct cfg, retries), "retry count", 1, 10},
    NW_CFG_END,
};

static const char *envs[] = {"NEWSWIRE_HTTP",          "NEWSWIRE_WORKERS", "NEWSWIRE_MAX_BODY",
                             "NEWSWIRE_DRAIN_TIMEOUT", "NEWSWIRE_VERBOSE", "NEWSWIRE_NAME",
                             "NEWSWIRE_RETRIES"};

static int
clear_env(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof envs / sizeof envs[0]; i++)
        unsetenv(envs[i]);
    return 0;
}

/* Run nw_config_load with fd (1 or 2) captured into out (caller frees). */
static int
load_captured(int fd, char **out, struct cfg *c, int argc, char **argv, int *nargs, char ***args)
{
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    fflush(stdout);
    fflush(stderr);
    int saved = dup(fd);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), fd) >= 0);
    int rc = nw_config_load(table, c, argc, argv, "test [options]", "A test.", nargs, args);
    fflush(stdout);
    fflush(stderr);
    assert_true(dup2(saved, fd) >= 0);
    close(saved);
    long n = ftell(tmp);
    if (n < 0)
        n = 0;
    *out = calloc(1, (size_t)n + 1);
    assert_non_null(*out);
    rewind(tmp);
    size_t got = fread(*out, 1, (size_t)n, tmp);
    (*out)[got] = 0;
    fclose(tmp);
    return rc;
}

static void
test_parse_values(void **state)
{
    (void)state;
    int64_t v = 0;
    assert_int_equal(nw_config_parse_value(NW_CFG_INT, "42", &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(nw_config_parse_value(NW_CFG_INT, "-7", &v), 0);
    assert_int_equal(v, -7);
    assert_int_equal(nw_config_parse_value(NW_CFG_INT, "12x", &v), -EINVAL);
    assert_int_equal(nw_config_parse_value(NW_CFG_INT, "", &v), -EINVAL);
    assert_int_equal(nw_config_parse_value(NW_CFG_INT, "99999999999999999999", &v), -EINVAL);

    static const struct {
        const char *text;
        int64_t want;
    } sizes[] = {{"512", 512},  {"2k", 2048},  {"2K", 2048},   {"3m", 3 << 20},  {"1g", 1LL << 30},
                 {"4kb", 4096}, {"4KB", 4096}, {"4KiB", 4096}, {"1MiB", 1 << 20}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        assert_int_equal(nw_config_parse_value(NW_CFG_SIZE, sizes[i].text, &v), 0);
        assert_int_equal(v, sizes[i].want);
    }
    static const char *bad_sizes[] = {"k", "1x", "1ki", "1kk", "1 k", "9223372036854775807k"};
    for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++)
        assert_int_equal(nw_config_parse_value(NW_CFG_SIZE, bad_sizes[i], &v), -EINVAL);

    assert_int_equal(nw_config_parse_value(NW_CFG_MS, "250", &v), 0);
    assert_int_equal(v, 250);
    assert_int_equal(nw_config_parse_value(NW_CFG_MS, "250ms", &v), 0);
    assert_int_equal(v, 250);
    assert_int_equal(nw_config_parse_value(NW_CFG_MS, "3s", &v), 0);
    assert_int_equal(v, 3000);
    assert_int_equal(nw_config_parse_value(NW_CFG_MS, "2m", &v), 0);
    assert_int_equal(v, 120000);
    assert_int_equal(nw_config_parse_value(NW_CFG_MS, "1.5s", &v), -EINVAL);
    assert_int_equal(nw_config_parse_value(NW_CFG_MS, "1h", &v), 0);
    assert_int_equal(v, 3600000);
    assert_int_equal(nw_config_parse_value(NW_CFG_MS, "30d", &v), 0);
    assert_int_equal(v, 30LL * 86400000);
    assert_int_equal(nw_config_parse_value(NW_CFG_MS, "1w", &v), -EINVAL);
    assert_int_equal(nw_config_parse_value(NW_CFG_MS, "1dd", &v), -EINVAL);

    static const char *yes[] = {"1", "true", "YES", "On"}, *no[] = {"0", "False", "no", "OFF"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(nw_config_parse_value(NW_CFG_BOOL, yes[i], &v), 0);
        assert_int_equal(v, 1);
        assert_int_equal(nw_config_parse_value(NW_CFG_BOOL, no[i], &v), 0);
        assert_int_equal(v, 0);
    }
    assert_int_equal(nw_config_parse_value(NW_CFG_BOOL, "maybe", &v), -EINVAL);
    assert_int_equal(nw_config_parse_value(NW_CFG_STR, "x", &v), -EINVAL);
}

static void
test_defaults(void **state)
{
    (void)state;
    struct cfg c;
    memset(&c, 0xff, sizeof c); /* every field must be written */
    char *argv[] = {"test", NULL};
    assert_int_equal(nw_config_load(table, &c, 1, argv, "u", "s", NULL, NULL), 0);
    assert_string_equal(c.http, "127.0.0.1:8080");
    assert_int_equal(c.workers, 4);
    assert_int_equal(c.max_body, 1 << 20);
    assert_int_equal(c.drain, 10000);
    assert_int_equal(c.verbose, 0);
    assert_null(c.name);
    /* Unset (NULL default) is 0 even though 0 is outside the bounds of an explicit value. */
    assert_int_equal(c.retries, 0);
}

static void
test_env_and_flag_precedence(void **state)
{
    (void)state;
    struct cfg c = {0};
    setenv("NEWSWIRE_WORKERS", "8", 1);
    setenv("NEWSWIRE_MAX_BODY", "2k", 1);
    setenv("NEWSWIRE_VERBOSE", "yes", 1);
    setenv("NEWSWIRE_NAME", "from-env", 1);
    char *argv[] = {"test", "--workers", "16", "--name=from-flag", "--drain-timeout=5s", NULL};
    assert_int_equal(nw_config_load(table, &c, 5, argv, "u", "s", NULL, NULL), 0);
    assert_int_equal(c.workers, 16);    /* flag beats environment */
    assert_int_equal(c.max_body, 2048); /* environment beats default */
    assert_int_equal(c.verbose, 1);     /* environment */
    assert_string_equal(c.name, "from-flag");
    assert_int_equal(c.drain, 5000);
    assert_string_equal(c.http, "127.0.0.1:8080");
}

static void
test_bool_flags(void **state)
{
    (void)state;
    struct cfg c = {0};
    char *argv1[] = {"test", "--verbose", NULL};
    assert_int_equal(nw_config_load(table, &c, 2, argv1, "u", "s", NULL, NULL), 0);
    assert_int_equal(c.verbose, 1);
    setenv("NEWSWIRE_VERBOSE", "1", 1);
    char *argv2[] = {"test", "--verbose=off", NULL};
    assert_int_equal(nw_config_load(table, &c, 2, argv2, "u", "s", NULL, NULL), 0);
    assert_int_equal(c.verbose, 0);
}

static void
test_positional(void **state)
{
    (void)state;
    struct cfg c = {0};
    int nargs = -1;
    char **args = NULL;
    char *argv[] = {"test", "first", "--workers", "2", "second", "--", "--verbose", "-x", NULL};
    assert_int_equal(nw_config_load(table, &c, 8, argv, "u", "s", &nargs, &args), 0);
    assert_int_equal(c.workers, 2);
    assert_int_equal(c.verbose, 0); /* after "--" it is an argument, not a flag */
    assert_int_equal(nargs, 4);
    assert_string_equal(args[0], "first");
    assert_string_equal(args[1], "second");
    assert_string_equal(args[2], "--verbose");
    assert_string_equal(args[3], "-x");

    /* A command that takes no arguments refuses them, naming the first. */
    char *msg = NULL;
    char *argv2[] = {"test", "stray", NULL};
    assert_int_equal(load_captured(2, &msg, &c, 2, argv2, NULL, NULL), -EINVAL);
    assert_non_null(strstr(msg, "'stray'"));
    free(msg);
}

static void
test_errors_name_the_key(void **state)
{
    (void)state;
    struct cfg c = {0};
    char *msg = NULL;

    char *unknown[] = {"test", "--wrokers=3", NULL};
    assert_int_equal(load_captured(2, &msg, &c, 2, unknown, NULL, NULL), -EINVAL);
    assert_non_null(strstr(msg, "--wrokers"));
    free(msg);

    char *missing[] = {"test", "--workers", NULL};
    assert_int_equal(load_captured(2, &msg, &c, 2, missing, NULL, NULL), -EINVAL);
    assert_non_null(strstr(msg, "workers"));
    free(msg);

    char *bad[] = {"test", "--max-body", "lots", NULL};
    assert_int_equal(load_captured(2, &msg, &c, 3, bad, NULL, NULL), -EINVAL);
    assert_non_null(strstr(msg, "\"lots\""));
    assert_non_null(strstr(msg, "'--max-body'"));
    assert_non_null(strstr(msg, "a size such as"));
    free(msg);

    char *range[] = {"test", "--workers=65", NULL};
    assert_int_equal(load_captured(2, &msg, &c, 2, range, NULL, NULL), -EINVAL);
    assert_non_null(strstr(msg, "'--workers' is 65"));
    assert_non_null(strstr(msg, "1..64"));
    free(msg);

    char *range2[] = {"test", "--retries=0", NULL}; /* an explicit value is held to bounds */
    assert_int_equal(load_captured(2, &msg, &c, 2, range2, NULL, NULL), -EINVAL);
    assert_non_null(strstr(msg, "'--retries'"));
    free(msg);

    setenv("NEWSWIRE_DRAIN_TIMEOUT", "soon", 1);
    char *plain[] = {"test", NULL};
    assert_int_equal(load_captured(2, &msg, &c, 1, plain, NULL, NULL), -EINVAL);
    assert_non_null(strstr(msg, "environment variable NEWSWIRE_DRAIN_TIMEOUT"));
    free(msg);
    unsetenv("NEWSWIRE_DRAIN_TIMEOUT");
}

/* Bounds are shown in the units the option is written in, not in milliseconds or bytes. */
static const nw_cfg_opt_t units_table[] = {
    {"drain-timeout", NW_CFG_MS, "10s", offsetof(struct cfg, drain), "drain limit", 1000, 86400000},
    {"max-body", NW_CFG_SIZE, "1m", offsetof(struct cfg, max_body), "largest body", 1024,
     1024 * 1024 * 1024},
    NW_CFG_END,
};

static int
load_table(const nw_cfg_opt_t *t, const char *usage, char **out, struct cfg *c, int argc,
           char **argv)
{
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    assert_true(dup2(fileno(tmp), 1) >= 0 && dup2(fileno(tmp), 2) >= 0);
    int rc = nw_config_load(t, c, argc, argv, usage, "A test.", NULL, NULL);
    fflush(stdout);
    fflush(stderr);
    assert_true(dup2(saved_out, 1) >= 0 && dup2(saved_err, 2) >= 0);
    close(saved_out);
    close(saved_err);
    long n = ftell(tmp);
    *out = calloc(1, (size_t)(n > 0 ? n : 0) + 1);
    assert_non_null(*out);
    rewind(tmp);
    size_t got = fread(*out, 1, (size_t)(n > 0 ? n : 0), tmp);
    (*out)[got] = 0;
    fclose(tmp);
    return rc;
}

static void
test_units_in_errors(void **state)
{
    (void)state;
    struct cfg c = {0};
    char *msg = NULL;
    char *a1[] = {"test", "--drain-timeout=500ms", NULL};
    assert_int_equal(load_table(units_table, "test", &msg, &c, 2, a1), -EINVAL);
    assert_non_null(strstr(msg, "option '--drain-timeout' is 500ms, must be within 1s..1d"));
    free(msg);
    char *a2[] = {"test", "--max-body=2g", NULL};
    assert_int_equal(load_table(units_table, "test", &msg, &c, 2, a2), -EINVAL);
    assert_non_null(strstr(msg, "is 2g, must be within 1k..1g"));
    free(msg);
}

/* A config file: same keys as the flags; every bad line named with file:line; flags and the
 * environment win over it; --config-check validates and exits. */
static void
test_config_file(void **state)
{
    (void)state;
    char path[] = "/tmp/nw-test-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *good = "# comment\n\nworkers = 8\nmax-body = 2m\nname = \" spaced \"\n"
                       "drain-timeout=30s\n";
    assert_int_equal(write(fd, good, strlen(good)), (ssize_t)strlen(good));
    close(fd);
    struct cfg c = {0};
    char *msg = NULL;
    char *a1[] = {"test", "--config", path, "--workers", "9", NULL};
    assert_int_equal(load_table(table, "test", &msg, &c, 5, a1), 0);
    free(msg);
    assert_int_equal(c.workers, 9); /* the flag wins */
    assert_int_equal(c.max_body, 2 * 1024 * 1024);
    assert_int_equal(c.drain, 30000);
    assert_string_equal(c.name, " spaced ");
    setenv("NEWSWIRE_WORKERS", "7", 1);
    char arg[300];
    snprintf(arg, sizeof arg, "--config=%s", path);
    char *a4[] = {"test", arg, NULL};
    assert_int_equal(load_table(table, "test", &msg, &c, 2, a4), 0);
    free(msg);
    assert_int_equal(c.workers, 7); /* the environment wins over the file */
    unsetenv("NEWSWIRE_WORKERS");

    fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    const char *bad = "workers = 100\nwrokers = 3\nmax-body = lots\njust words\n";
    assert_int_equal(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
    close(fd);
    char *a5[] = {"test", "--config-check", arg, NULL};
    assert_int_equal(load_table(table, "test", &msg, &c, 3, a5), -EINVAL);
    char want[400];
    snprintf(want, sizeof want, "%s:1: key 'workers' is 100, must be within 1..64", path);
    assert_non_null(strstr(msg, want));
    snprintf(want, sizeof want, "%s:2: unknown key 'wrokers'", path);
    assert_non_null(strstr(msg, want));
    snprintf(want, sizeof want, "bad value \"lots\" for %s:3: key 'max-body'", path);
    assert_non_null(strstr(msg, want));
    snprintf(want, sizeof want, "%s:4: expected `key = value`", path);
    assert_non_null(strstr(msg, want));
    free(msg);

    fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "workers = 3\n", 12), 12);
    close(fd);
    assert_int_equal(load_table(table, "test", &msg, &c, 3, a5), 1);
    assert_non_null(strstr(msg, "options ok"));
    free(msg);
    unlink(path);
}

/* A `newswire` command reads its own NEWSWIRE_<COMMAND>_<KEY> and only the shared generic
 * names; a service reads both, its own first; unknown NEWSWIRE_* variables are warned about. */
static const nw_cfg_opt_t cmd_table[] = {
    {"workers", NW_CFG_INT, "4", offsetof(struct cfg, workers), "how many", 1, 64},
    {"data-dir", NW_CFG_STR, "var", offsetof(struct cfg, name), "data", 0, 0},
    NW_CFG_END,
};

static void
test_env_per_program(void **state)
{
    (void)state;
    struct cfg c = {0};
    char *msg = NULL;
    char *argv[] = {"x", NULL};
    setenv("NEWSWIRE_WORKERS", "9", 1);
    setenv("NEWSWIRE_DATA_DIR", "/d", 1);
    assert_int_equal(load_table(cmd_table, "newswire search [options] WORDS", &msg, &c, 1, argv),
                     0);
    assert_int_equal(c.workers, 4);    /* NEWSWIRE_WORKERS is not search's */
    assert_string_equal(c.name, "/d"); /* shared key */
    assert_non_null(strstr(msg, "NEWSWIRE_WORKERS is not an option of newswire search"));
    free(msg);
    setenv("NEWSWIRE_SEARCH_WORKERS", "5", 1);
    assert_int_equal(load_table(cmd_table, "newswire search [options] WORDS", &msg, &c, 1, argv),
                     0);
    assert_int_equal(c.workers, 5);
    free(msg);
    /* a service: generic names count, its own win */
    assert_int_equal(load_table(cmd_table, "newswire-parse [options]", &msg, &c, 1, argv), 0);
    assert_int_equal(c.workers, 9);
    assert_null(strstr(msg, "warning"));
    free(msg);
    setenv("NEWSWIRE_PARSE_WORKERS", "6", 1);
    setenv("NEWSWIRE_PARSE_WROKERS", "6", 1);
    assert_int_equal(load_table(cmd_table, "newswire-parse [options]", &msg, &c, 1, argv), 0);
    assert_int_equal(c.workers, 6);
    assert_non_null(strstr(msg, "NEWSWIRE_PARSE_WROKERS is not an option"));
    free(msg);
    setenv("NEWSWIRE_PARSE_WORKERS", "0", 1);
    assert_int_equal(load_table(cmd_table, "newswire-parse [options]", &msg, &c, 1, argv), -EINVAL);
    assert_non_null(strstr(msg, "environment variable NEWSWIRE_PARSE_WORKERS is 0"));
    free(msg);
    unsetenv("NEWSWIRE_WORKERS");
    unsetenv("NEWSWIRE_DATA_DIR");
    unsetenv("NEWSWIRE_SEARCH_WORKERS");
    unsetenv("NEWSWIRE_PARSE_WORKERS");
    unsetenv("NEWSWIRE_PARSE_WROKERS");
}

static void
test_help(void **state)
{
    (void)state;
    struct cfg c = {0};
    char *out = NULL;
    /* Help is printed even when the environment holds a bad value. */
    setenv("NEWSWIRE_WORKERS", "many", 1);
    char *argv[] = {"test", "--workers=3", "--help", NULL};
    assert_int_equal(load_captured(1, &out, &c, 3, argv, NULL, NULL), 1);
    assert_non_null(strstr(out, "usage: test [options]"));
    assert_non_null(strstr(out, "A test."));
    assert_non_null(strstr(out, "--workers N"));
    assert_non_null(strstr(out, "NEWSWIRE_WORKERS"));
    assert_non_null(strstr(out, "NEWSWIRE_MAX_BODY; default: 1m"));
    assert_non_null(strstr(out, "--drain-timeout DURATION"));
    assert_non_null(strstr(out, "--verbose "));
    assert_non_null(strstr(out, "NEWSWIRE_NAME; default: none"));
    free(out);

    char *argv2[] = {"test", "-h", NULL};
    unsetenv("NEWSWIRE_WORKERS");
    assert_int_equal(load_captured(1, &out, &c, 2, argv2, NULL, NULL), 1);
    assert_non_null(strstr(out, "-h, --help"));
    free(out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_values),
        cmocka_unit_test_setup_teardown(test_defaults, clear_env, clear_env),
        cmocka_unit_test_setup_teardown(test_env_and_flag_precedence, clear_env, clear_env),
        cmocka_unit_test_setup_teardown(test_bool_flags, clear_env, clear_env),
        cmocka_unit_test_setup_teardown(test_positional, clear_env, clear_env),
        cmocka_unit_test_setup_teardown(test_errors_name_the_key, clear_env, clear_env),
        cmocka_unit_test_setup_teardown(test_units_in_errors, clear_env, clear_env),
        cmocka_unit_test_setup_teardown(test_config_file, clear_env, clear_env),
        cmocka_unit_test_setup_teardown(test_env_per_program, clear_env, clear_env),
        cmocka_unit_test_setup_teardown(test_help, clear_env, clear_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
