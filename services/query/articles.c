/* articles.c: stored articles over HTTP (query.h).
 *
 *   GET /v1/articles/ID   the current stored document of an article (JSON)
 *   GET /v1/articles?topic=T&since=S&limit=N
 *                         stored documents after S whose topics match T by prefix, in seq
 *                         order, with "next" to page on
 *
 * A topic page reads at most SCAN_MAX rows per request and answers with what it found and
 * "next" to continue from, so a topic nothing matches costs one bounded read on the loop, not
 * a scan of the whole database. */
#include "query.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "newswire/buf.h"
#include "newswire/follow.h"
#include "newswire/json.h"
#include "newswire/proto.h"

#define SCAN_MAX 500 /* rows one /v1/articles request reads */

void
query_on_article(nw_http_req_t *req, void *arg)
{
    query_svc_t *q = arg;
    const char *id = req->path + strlen("/v1/articles/");
    uint8_t *doc = NULL;
    size_t len = 0;
    int rc = nw_store_get(q->db, id, &doc, &len);
    if (rc == -ENOENT) {
        nw_http_error(req, 404, "not-found", "no article with this id", NULL);
        return;
    }
    if (rc < 0) {
        query_db_error(req, rc);
        return;
    }
    nw_buf_t out = {0};
    if (nw_json_from_msgpack(doc, len, &out) < 0)
        nw_http_error(req, 500, "bad-document", nw_proto_error(), NULL);
    else
        nw_http_respond(req, 200, "application/json", out.data, out.len, NULL);
    nw_buf_release(&out);
    free(doc);
}

struct page {
    nw_buf_t out;
    int n, limit, failed;
};

static int
on_page_doc(const char *topic, uint64_t seq, const uint8_t *doc, size_t len, nw_follow_src_t src,
            void *arg)
{
    (void)topic;
    (void)seq;
    (void)src;
    struct page *p = arg;
    if ((p->n > 0 && nw_buf_puts(&p->out, ",") < 0) || nw_json_from_msgpack(doc, len, &p->out) < 0)
        p->failed = 1;
    p->n++;
    return p->n >= p->limit || p->failed;
}

void
query_on_articles(nw_http_req_t *req, void *arg)
{
    query_svc_t *q = arg;
    const char *prefixes[QUERY_MAX_PREFIXES];
    char *owned = NULL;
    size_t n_prefixes = 0;
    struct page p = {.limit = query_limit_arg(req, 100)};
    if (p.limit < 0)
        return;
    nw_follow_t f = {
        .db = q->db, .prefixes = prefixes, .cb = on_page_doc, .arg = &p, .scan_max = SCAN_MAX};
    const char *since = nw_http_query(req, "since");
    int rc = query_topics_arg(nw_http_query(req, "topic"), &owned, prefixes, &n_prefixes);
    f.n_prefixes = n_prefixes;
    if (rc < 0) {
        nw_http_error(req, 400, "bad-topic", "topic: up to 32 comma-separated prefixes", NULL);
        goto out;
    }
    if ((rc = nw_follow_cursor_at(q->db, since ? since : "0", &f.cursor)) < 0) {
        query_since_error(req, rc);
        goto out;
    }
    if (nw_buf_puts(&p.out, "{\"articles\":[") < 0)
        goto oom;
    if ((rc = nw_follow_catch_up(&f)) < 0) {
        query_db_error(req, rc);
        goto out;
    }
    if (p.failed || nw_buf_printf(&p.out, "],\"next\":%" PRIu64 "}", f.cursor) < 0)
        goto oom;
    nw_http_respond(req, 200, "application/json", p.out.data, p.out.len, NULL);
    goto out;
oom:
    nw_http_error(req, 500, "internal", "out of memory or a document JSON cannot hold", NULL);
out:
    nw_buf_release(&p.out);
    free(owned);
}
