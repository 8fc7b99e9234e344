/* feed.c: `newswire feed FILE|-`, a feed (RSS 0.9x/1.0/2.0, Atom 0.3/1.0, JSON Feed 1.x) read
 * with the same code newswire-fetch polls feeds with (services/lib/feed.c), printed as one JSON
 * object in the unified model documented in include/newswire/feed.h. A malformed feed is read
 * as far as it goes and printed with "bozo": true and the reason, as feedparser does. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswire/buf.h"
#include "newswire/config.h"
#include "newswire/feed.h"
#include "newswire/util.h"

#define FEED_MAX_INPUT (64u * 1024 * 1024)

typedef struct feed_cfg {
    const char *url;
} feed_cfg_t;

static const nw_cfg_opt_t feed_opts[] = {
    {"url", NW_CFG_STR, NULL, offsetof(feed_cfg_t, url),
     "the feed's own URL, against which relative links are resolved", 0, 0},
    NW_CFG_END,
};

int
nw_cli_feed(int argc, char **argv)
{
    feed_cfg_t cfg = {0};
    int nargs = 0, status;
    char **args = NULL;
    uint8_t *body = NULL;
    size_t len = 0;
    nw_feed_t *feed = NULL;
    nw_buf_t out = {0};
    int rc = nw_config_load(feed_opts, &cfg, argc, argv, "newswire feed [--url URL] FILE|-",
                            "Read one feed (RSS, Atom or JSON Feed) and print it as JSON: feed "
                            "title, link, items\nwith id, link, title, authors, dates, summary, "
                            "content and enclosures.",
                            &nargs, &args);
    if ((status = nw_cli_config_status(rc)) >= 0)
        return status;
    status = 1;
    if (nargs != 1) {
        fprintf(stderr, "newswire feed: expected one FILE (or - for stdin), see --help\n");
        return 2;
    }
    const char *path = args[0];
    rc = nw_read_file(strcmp(path, "-") == 0 ? "/dev/stdin" : path, FEED_MAX_INPUT, &body, &len);
    if (rc < 0) {
        fprintf(stderr, "newswire feed: cannot read '%s': %s\n", path,
                rc == -EFBIG ? "larger than 64 MiB" : strerror(-rc));
        goto done;
    }
    rc = nw_feed_parse(body, len, cfg.url, &feed);
    if (rc < 0) {
        fprintf(stderr, "newswire feed: '%s' is not a feed we can read (%s)\n", path,
                rc == -EPROTO ? "no RSS, Atom or JSON Feed content" : strerror(-rc));
        goto done;
    }
    if (nw_feed_to_json(feed, &out) < 0 || nw_buf_puts(&out, "\n") < 0) {
        fprintf(stderr, "newswire feed: out of memory\n");
        goto done;
    }
    if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
        fprintf(stderr, "newswire feed: writing stdout: %s\n", strerror(errno));
        goto done;
    }
    status = 0;
done:
    nw_buf_release(&out);
    nw_feed_free(&feed);
    free(body);
    return status;
}
