/* robots.h: robots.txt (RFC 9309) for one user agent, and a per-host cache of parsed files.
 * fetch consults it before fetching any page it found in a feed or was asked for.
 *
 * Groups: a run of User-agent lines followed by their rules. The groups whose product token
 * equals ours (case-insensitively; "newswire" for "newswire/0.1 (...)") apply, merged; else
 * the "*" groups; else everything is allowed. A path is matched against every Allow and
 * Disallow pattern of those groups: "*" matches any run of characters, a final "$" anchors the
 * end, a pattern otherwise matches a prefix. The longest matching pattern wins; on a tie Allow
 * wins; no match means allowed. /robots.txt itself is always allowed. */
#ifndef NW_ROBOTS_H
#define NW_ROBOTS_H

#include <stddef.h>
#include <stdint.h>

#define NW_ROBOTS_MAX_BYTES (512 * 1024) /* parsed per file; RFC 9309 asks for >= 500 KiB */

typedef struct nw_robots nw_robots_t;

/* Parse robots.txt text (any bytes; lines past NW_ROBOTS_MAX_BYTES are ignored) for the
 * product token agent ("newswire"). Returns a new ruleset (caller frees) or NULL on ENOMEM.
 * Borrows txt and agent until return. */
nw_robots_t *nw_robots_parse(const char *txt, size_t len, const char *agent);

/* The ruleset for a robots.txt fetch that ended with HTTP status (RFC 9309 2.3.1): 2xx parses
 * the body; 4xx ("unavailable") allows everything; anything else, including status 0 for a
 * network error, 5xx ("unreachable"), disallows everything. NULL on ENOMEM. */
nw_robots_t *nw_robots_for_status(long status, const char *body, size_t len, const char *agent);

/* 1 when path (the URL's path with its query, starting with "/") may be fetched, else 0. */
int nw_robots_allowed(const nw_robots_t *r, const char *path);

/* 1 when the ruleset stands for an unreachable robots.txt (nw_robots_for_status with a 5xx or
 * a network error): everything is refused, but only until the host answers again. */
int nw_robots_unreachable(const nw_robots_t *r);

/* Crawl-delay of the applying groups in milliseconds, or -1 when none was given. */
int64_t nw_robots_crawl_delay_ms(const nw_robots_t *r);

/* NULL-safe; sets *r to NULL. */
void nw_robots_free(nw_robots_t **r);

/* A cache of rulesets keyed by origin ("https://example.com:443"), each valid for ttl_ms.
 * At most max_hosts entries; the one expiring first is evicted to make room. */
typedef struct nw_robots_cache nw_robots_cache_t;

/* NULL on ENOMEM. */
nw_robots_cache_t *nw_robots_cache_new(int64_t ttl_ms, size_t max_hosts);
/* The ruleset cached for origin, or NULL when none is or it expired at now_ms. Borrowed until
 * the next put. */
const nw_robots_t *nw_robots_cache_get(nw_robots_cache_t *c, const char *origin, int64_t now_ms);
/* Cache *r for origin from now_ms (replacing any); takes ownership of *r and sets it to NULL.
 * Returns 0 or -ENOMEM (then *r was freed). */
int nw_robots_cache_put(nw_robots_cache_t *c, const char *origin, nw_robots_t **r, int64_t now_ms);
/* NULL-safe; sets *c to NULL. */
void nw_robots_cache_free(nw_robots_cache_t **c);

#endif
