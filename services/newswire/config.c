/* config.c: `newswire config check PROGRAM FILE`: does FILE configure PROGRAM (a service:
 * broker, fetch, parse, enrich, store, query; or a command: up, search, ...)? Runs the
 * program's own option loader on it (`--config FILE --config-check`), so the answer comes from
 * the same table, types and bounds the program starts with: every unknown key and bad value is
 * named with its file:line, and the environment the program would see is checked too. */
#include "cli.h"

#include "newswire/refdir.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const services[] = {"broker", "fetch", "parse", "enrich",
                                       "store",  "query", NULL};

static int
usage(FILE *out)
{
    fprintf(out, "usage: newswire config check PROGRAM FILE\n\n"
                 "Check a --config file (`key = value` lines, # comments; the keys are the\n"
                 "program's flags without --) for PROGRAM: a service (broker, fetch, parse,\n"
                 "enrich, store, query) or a newswire command (up, search, ingest, ...). Names\n"
                 "every unknown key and bad value with its file:line, and bad NEWSWIRE_*\n"
                 "variables of the environment; exits 0 when all is well, 2 otherwise.\n");
    return out == stdout ? 0 : 2;
}

/* newswire-<svc> beside this executable, in the build tree's ../<svc>/, or on PATH. */
static int
find_service(const char *svc, char *out, size_t n)
{
    char dir[PATH_MAX];
    if (nw_refdir_exe_dir(dir, sizeof dir) == 0) {
        snprintf(out, n, "%s/newswire-%s", dir, svc);
        if (access(out, X_OK) == 0)
            return 0;
        snprintf(out, n, "%s/../%s/newswire-%s", dir, svc, svc);
        if (access(out, X_OK) == 0)
            return 0;
    }
    snprintf(out, n, "newswire-%s", svc); /* execvp searches PATH */
    return 0;
}

int
nw_cli_config(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))
        return usage(stdout);
    if (argc != 4 || strcmp(argv[1], "check") != 0)
        return usage(stderr);
    const char *prog = argv[2], *file = argv[3];
    char exe[PATH_MAX + 32], self[PATH_MAX];
    int is_service = 0;
    for (size_t i = 0; services[i]; i++)
        is_service |= strcmp(prog, services[i]) == 0;
    char *args[6] = {0};
    char conf[PATH_MAX + 16];
    snprintf(conf, sizeof conf, "--config=%s", file);
    if (is_service) {
        find_service(prog, exe, sizeof exe);
        args[0] = exe;
        args[1] = conf;
        args[2] = "--config-check";
    } else {
        ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
        if (k <= 0) {
            fprintf(stderr, "newswire config: cannot find this executable: %s\n", strerror(errno));
            return 1;
        }
        self[k] = 0;
        args[0] = self;
        args[1] = (char *)prog;
        args[2] = conf;
        args[3] = "--config-check";
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "newswire config: fork: %s\n", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        execvp(args[0], args);
        fprintf(stderr, "newswire config: cannot run \"%s\": %s\n", args[0], strerror(errno));
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status))
        return 1;
    /* a command that does not know --config-check says "unknown option": a bad PROGRAM */
    return WEXITSTATUS(status) == 0 ? 0 : WEXITSTATUS(status) == 127 ? 1 : 2;
}
