/* fuzz_feed.c: feeds of every dialect (feed.h: RSS 0.9x/1.0/2.0, Atom, JSON Feed) through
 * nw_feed_parse with a base URL. Properties: 0, -EPROTO or -ENOMEM; every item field that is set
 * is a NUL-terminated string (read to its end so ASan checks it); every item link the parser
 * made absolute canonicalises without crashing. */
#include "newswire/feed.h"

#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "newswire/id.h"

static size_t
touch(const char *s)
{
    return s ? strlen(s) : 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nw_feed_t *f = NULL;
    int rc = nw_feed_parse(data, size, "http://feeds.example.com/news/rss.xml", &f);
    FUZZ_CHECK(rc == 0 || rc == -EPROTO || rc == -ENOMEM, "feed parse returned %d", rc);
    if (rc == 0) {
        size_t n = 0;
        for (size_t i = 0; i < f->n_items; i++) {
            const nw_feed_item_t *it = &f->items[i];
            n += touch(it->id) + touch(it->link) + touch(it->title);
            char *canon = NULL;
            if (it->link && nw_url_canonical(it->link, &canon) == 0)
                n += strlen(canon);
            free(canon);
        }
        (void)n;
    }
    nw_feed_free(&f);
    return 0;
}
