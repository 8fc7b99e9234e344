/* refdir.c: find the reference data directory (see refdir.h).
 *
 * The build tree is recognised by the executable's own path: CMake compiles in the binary
 * directory, and only an executable below it may fall back to the source tree's data/. A copy
 * of the binary anywhere else (an install, a package, a container) never looks there, so it
 * fails loudly instead of working by accident on the build machine. */
#include "newswire/refdir.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
nw_refdir_exe_dir(char *buf, size_t n)
{
    if (n < 2)
        return -ENAMETOOLONG;
    ssize_t k = readlink("/proc/self/exe", buf, n - 1);
    if (k < 0)
        return -errno;
    if ((size_t)k >= n - 1)
        return -ENAMETOOLONG;
    buf[k] = 0;
    char *slash = strrchr(buf, '/');
    if (slash == NULL)
        return -ENOENT;
    *slash = 0;
    return 0;
}

static int
holds(const char *dir, const char *probe)
{
    char path[PATH_MAX + 256];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, probe) >= sizeof path)
        return 0;
    return access(path, R_OK) == 0;
}

/* True when the executable in exe_dir lies inside the build tree `build` (both resolved). */
static int
in_build_tree(const char *exe_dir, const char *build)
{
    char real[PATH_MAX];
    if (realpath(build, real) == NULL)
        return 0;
    size_t len = strlen(real);
    return strncmp(exe_dir, real, len) == 0 && (exe_dir[len] == '/' || exe_dir[len] == 0);
}

int
nw_refdir_find(const char *probe, char *buf, size_t n)
{
    const char *env = getenv("NEWSWIRE_REF_DIR");
    if (env && *env) {
        snprintf(buf, n, "%s", env);
        return holds(buf, probe) ? 0 : -ENOENT;
    }
    char exe[PATH_MAX];
    if (nw_refdir_exe_dir(exe, sizeof exe) < 0) {
        snprintf(buf, n, "(no /proc/self/exe)");
        return -ENOENT;
    }
    snprintf(buf, n, "%s/../share/newswire", exe);
    if (holds(buf, probe))
        return 0;
#if defined(NW_BUILD_DIR) && defined(NW_SOURCE_DATA)
    if (in_build_tree(exe, NW_BUILD_DIR)) {
        snprintf(buf, n, "%s", NW_SOURCE_DATA);
        if (holds(buf, probe))
            return 0;
    }
#else
    (void)in_build_tree;
#endif
    snprintf(buf, n, "%s/../share/newswire", exe);
    return -ENOENT;
}
