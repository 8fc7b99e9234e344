/* web.h: private to newswire-fetch. The web source (web.c): feeds polled with conditional
 * GET, their new items' pages fetched politely (robots.txt, per-host limits) and handed to
 * the accept path, and POST /v1/urls to fetch one page on request. */
#ifndef NW_FETCH_WEB_H
#define NW_FETCH_WEB_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "fetch.h"
#include "newswire/http.h"

typedef struct fetch_web fetch_web_t;

typedef struct fetch_web_opts {
    const char *feeds;          /* comma-separated feed URLs, or a file with one per line */
    int64_t poll_ms;            /* between two polls of a feed */
    const char *state_dir;      /* validators (feeds.tsv) and the seen-set (seen.log, seen.old) */
    int64_t seen_keep_ms;       /* an item URL is remembered at least this long after last seen */
    int allow_private;          /* fetch from private/loopback addresses too (tests) */
    size_t max_body;            /* decoded bytes per response */
    int64_t timeout_ms;         /* per request hop */
    int64_t connect_timeout_ms; /* per connection */
    int host_concurrency;       /* requests in flight per host */
    int64_t host_delay_ms;      /* between two request starts to one host */
    int64_t robots_ttl_ms;      /* how long a host's robots.txt is trusted */
} fetch_web_opts_t;

/* Load the state from state_dir (created if missing), read the feed list and schedule the
 * first poll at once. NULL on error, with the reason in err (a bad feed list, an unreadable
 * state dir; left as it was on ENOMEM). */
fetch_web_t *fetch_web_new(uv_loop_t *loop, const fetch_web_opts_t *o, fetch_accept_t *a, char *err,
                           size_t errlen);

/* Route POST /v1/urls {"url": "..."} on h: 202 {"id","status":"accepted"} once the page was
 * fetched and accepted, or {"error","message"} with 4xx/5xx. Returns 0 or -ENOMEM. */
int fetch_web_api_start(fetch_web_t *w, nw_http_t *h);

/* Cancel every request (API callers get 503 "shutting-down"), persist the state, close;
 * cb (may be NULL) runs last. NULL-safe. */
void fetch_web_close(fetch_web_t *w, void (*cb)(void *arg), void *arg);

#endif
