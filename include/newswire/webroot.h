/* webroot.h: static files over HTTP, for the web page newswire-query serves at / (its HTML,
 * scripts, styles and the vendored map libraries under data/web/). Files are read whole per
 * request (they are small; the cap is NW_WEBROOT_MAX_FILE) and answered with a Content-Type
 * chosen by extension, never sniffed.
 *
 * Nothing outside the directory is served: a request path is refused unless every segment is
 * a plain name (no "..", no "." or hidden names, no backslash or control bytes; MHD has already
 * decoded %2e%2e by then), and the file it names must still lie under the directory once every
 * symlink is resolved. Refusals and misses both answer 404, so probing learns nothing. */
#ifndef NW_WEBROOT_H
#define NW_WEBROOT_H

#include <stddef.h>

#include "newswire/http.h"

#define NW_WEBROOT_MAX_FILE (8u << 20)

typedef struct nw_webroot nw_webroot_t;

/* A server of the files under dir. NULL when dir is not a readable directory (errno set) or
 * on ENOMEM. dir is copied. */
nw_webroot_t *nw_webroot_new(const char *dir);
/* NULL-safe; nulls *pw. Only after the HTTP server that routes to it is closed. */
void nw_webroot_destroy(nw_webroot_t **pw);
/* Route GET / (index.html) and every other GET path not routed more specifically to the files,
 * open to every caller (NW_SCOPE_NONE): a browser cannot send a bearer token with the page
 * itself, which holds nothing secret; the API calls the page makes carry the token. Returns 0
 * or -ENOMEM. w must outlive h. */
int nw_webroot_route(nw_webroot_t *w, nw_http_t *h);
/* The file a request path names: writes its real path to out (n bytes) and returns 0;
 * -ENOENT when there is none or it is not a regular file, -EACCES when the path is refused
 * (see above), -ENAMETOOLONG. */
int nw_webroot_resolve(const nw_webroot_t *w, const char *path, char *out, size_t n);
/* The Content-Type for a file name, by extension ("application/octet-stream" when unknown).
 * Static storage. */
const char *nw_webroot_content_type(const char *name);

#endif
