/* webroot.c: static files over HTTP (see webroot.h). */
#include "newswire/webroot.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "newswire/log.h"
#include "newswire/util.h"

struct nw_webroot {
    char *root; /* realpath of the directory, no trailing slash */
};

nw_webroot_t *
nw_webroot_new(const char *dir)
{
    nw_webroot_t *w = calloc(1, sizeof *w);
    struct stat st;
    if (w == NULL)
        return NULL;
    /* The comparison in resolve is against the resolved root, so a root reached through a
     * symlink (an install's share/ link, say) still serves. */
    if ((w->root = realpath(dir, NULL)) == NULL || stat(w->root, &st) < 0) {
        nw_webroot_destroy(&w);
        return NULL;
    }
    if (!S_ISDIR(st.st_mode)) {
        nw_webroot_destroy(&w);
        errno = ENOTDIR;
        return NULL;
    }
    return w;
}

void
nw_webroot_destroy(nw_webroot_t **pw)
{
    if (pw == NULL || *pw == NULL)
        return;
    free((*pw)->root);
    free(*pw);
    *pw = NULL;
}

/* Every segment a plain, visible name: nothing that could climb out or reach a dotfile. */
static int
path_allowed(const char *path)
{
    if (path[0] != '/')
        return 0;
    for (const char *seg = path + 1; *seg;) {
        size_t len = strcspn(seg, "/");
        if (len == 0 || seg[0] == '.')
            return 0;
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)seg[i] < 0x20 || seg[i] == '\\' || seg[i] == 0x7f)
                return 0;
        seg += len;
        if (*seg == '/')
            seg++;
    }
    return 1;
}

int
nw_webroot_resolve(const nw_webroot_t *w, const char *path, char *out, size_t n)
{
    char joined[PATH_MAX], *real = NULL;
    int rc = 0;
    if (strcmp(path, "/") == 0)
        path = "/index.html";
    if (!path_allowed(path))
        return -EACCES;
    if ((size_t)snprintf(joined, sizeof joined, "%s%s", w->root, path) >= sizeof joined)
        return -ENAMETOOLONG;
    if ((real = realpath(joined, NULL)) == NULL)
        return -ENOENT;
    size_t rlen = strlen(w->root);
    struct stat st;
    if (strncmp(real, w->root, rlen) != 0 || real[rlen] != '/')
        rc = -EACCES; /* a symlink out of the directory */
    else if (stat(real, &st) < 0 || !S_ISREG(st.st_mode))
        rc = -ENOENT;
    else if ((size_t)snprintf(out, n, "%s", real) >= n)
        rc = -ENAMETOOLONG;
    free(real);
    return rc;
}

const char *
nw_webroot_content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {"html", "text/html; charset=utf-8"},
        {"js", "text/javascript; charset=utf-8"},
        {"mjs", "text/javascript; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},
        {"json", "application/json"},
        {"svg", "image/svg+xml"},
        {"png", "image/png"},
        {"ico", "image/x-icon"},
        {"txt", "text/plain; charset=utf-8"},
        {"map", "application/json"},
    };
    const char *dot = strrchr(name, '.'), *slash = strrchr(name, '/');
    if (dot && (slash == NULL || dot > slash))
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcasecmp(dot + 1, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

static void
on_file(nw_http_req_t *req, void *arg)
{
    nw_webroot_t *w = arg;
    char path[PATH_MAX];
    uint8_t *body = NULL;
    size_t len = 0;
    int rc = nw_webroot_resolve(w, req->path, path, sizeof path);
    if (rc == -EACCES)
        NW_INFO(NULL, "web: refused path=\"%s\"", req->path);
    if (rc < 0) {
        nw_http_error(req, 404, "not-found", "no such path", NULL);
        return;
    }
    if ((rc = nw_read_file(path, NW_WEBROOT_MAX_FILE, &body, &len)) < 0) {
        NW_WARN(NULL, "web: cannot read \"%s\": %s", path, strerror(-rc));
        nw_http_error(req, 500, "unreadable", "the file could not be read", NULL);
        return;
    }
    /* no-cache: revalidate, so a page upgraded with the server is not mixed with stale parts. */
    nw_http_respond(req, 200, nw_webroot_content_type(path), body, len,
                    "Cache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\n");
    free(body);
}

int
nw_webroot_route(nw_webroot_t *w, nw_http_t *h)
{
    if (nw_http_route_scope(h, "GET", "/", NW_SCOPE_NONE, on_file, w) < 0 ||
        nw_http_route_scope(h, "GET", "/*", NW_SCOPE_NONE, on_file, w) < 0)
        return -ENOMEM;
    return 0;
}
