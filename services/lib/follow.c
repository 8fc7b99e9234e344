/* follow.c: the Clone-pattern cursor (see follow.h). */
#include "newswire/follow.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "newswire/log.h"
#include "newswire/util.h"

#define DEFAULT_BATCH 512

int
nw_follow_cursor_at(nw_store_t *db, const char *since, uint64_t *cursor)
{
    size_t n = strlen(since), k = strspn(since, "0123456789");
    int64_t ms;
    if (strcmp(since, "now") == 0)
        return nw_store_max_seq(db, cursor) < 0 ? -EIO : 0;
    if (n > 0 && k == n && n <= 19) {
        *cursor = strtoull(since, NULL, 10);
        return 0;
    }
    if (k > 0 && k <= 9 && k + 1 == n && strchr("smhd", since[k])) {
        int64_t unit = since[k] == 's'   ? 1000
                       : since[k] == 'm' ? 60000
                       : since[k] == 'h' ? 3600000
                                         : 86400000;
        ms = nw_now_ms() - (int64_t)strtoll(since, NULL, 10) * unit;
    } else if (nw_time_parse(since, &ms) < 0) {
        return -EINVAL;
    }
    char iso[40];
    nw_time_iso(ms, iso, sizeof iso);
    return nw_store_seq_at(db, iso, cursor) < 0 ? -EIO : 0;
}

const char *
nw_follow_match(const nw_follow_t *f, const nw_enriched_t *e)
{
    for (size_t i = 0; i < e->n_topics; i++)
        for (size_t k = 0; k < f->n_prefixes; k++)
            if (e->topics[i] && strncmp(e->topics[i], f->prefixes[k], strlen(f->prefixes[k])) == 0)
                return e->topics[i];
    return NULL;
}

struct scan {
    nw_follow_t *f;
    int scanned;
    int stopped;
};

static int
on_stored(uint64_t seq, const uint8_t *doc, size_t len, void *arg)
{
    struct scan *sc = arg;
    nw_follow_t *f = sc->f;
    if (seq <= f->cursor)
        return 0; /* the query is seq > cursor; never pass one twice all the same */
    f->cursor = seq;
    if (f->scan_max > 0 && ++sc->scanned >= f->scan_max)
        sc->stopped = 1; /* this row is still considered; the next call starts after it */
    nw_enriched_t e;
    if (nw_enriched_decode(&e, doc, len) < 0) {
        NW_WARN(NULL, "follow: skipping stored document: %s seq=%llu", nw_proto_error(),
                (unsigned long long)seq);
        return sc->stopped;
    }
    const char *topic = nw_follow_match(f, &e);
    if (topic && f->cb(topic, seq, doc, len,
                       f->backfilled ? NW_FOLLOW_RECOVERED : NW_FOLLOW_BACKFILL, f->arg))
        sc->stopped = 1;
    nw_enriched_release(&e);
    return sc->stopped;
}

int
nw_follow_catch_up(nw_follow_t *f)
{
    struct scan sc = {f, 0, 0};
    int batch = f->batch > 0 ? f->batch : DEFAULT_BATCH;
    int n;
    do {
        n = nw_store_since(f->db, f->cursor, batch, on_stored, &sc);
        if (n < 0)
            return n;
    } while (n == batch && !sc.stopped);
    if (!sc.stopped)
        f->backfilled = 1;
    return sc.stopped;
}

int
nw_follow_live(nw_follow_t *f, const nw_enriched_t *e, const uint8_t *doc, size_t len)
{
    if (e->seq <= f->cursor) {
        f->n_dups++;
        return 0;
    }
    if (e->seq > f->cursor + 1) {
        int rc = nw_follow_catch_up(f);
        if (rc != 0)
            return rc; /* stopped: a later catch-up reaches this one too */
        if (e->seq <= f->cursor) {
            f->n_dups++;
            return 0;
        }
        f->n_missing++; /* published, yet not in this database */
    }
    f->cursor = e->seq;
    const char *topic = nw_follow_match(f, e);
    return topic && f->cb(topic, e->seq, doc, len, NW_FOLLOW_LIVE, f->arg) ? 1 : 0;
}
