/* stories.c: GET /v1/stories/ID (query.h): a story (articles grouped by the store as
 * reports of one event, store.h) with its articles, a page at a time in seq order, with the
 * filters of /v1/articles. 404 when no article is in the story. */
#include "query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const story_params[] = {
    QUERY_FILTER_PARAMS, "sort", "cursor", "limit", "fields", "since", NULL};

void
query_on_story(nw_http_req_t *req, void *arg)
{
    query_svc_t *q = arg;
    query_filter_t qf = {0};
    const char *id = req->path + strlen("/v1/stories/");
    char topic[160];
    if (strchr(id, '/') || strlen(id) >= sizeof topic - 8) {
        nw_http_error(req, 404, "not-found", "no such path", NULL);
        return;
    }
    if (query_known_params(req, story_params) < 0)
        return;
    if (query_filter_parse(q, req, &qf, 1, 100) < 0) {
        query_filter_release(&qf);
        return;
    }
    if (qf.f.n_all_of == NW_STORE_MAX_TERMS) {
        query_filter_release(&qf);
        nw_http_error(req, 400, "bad-query", "too many topic filters", NULL);
        return;
    }
    /* The story is its topic: the store puts every article on story.<story id>. */
    snprintf(topic, sizeof topic, "story.%s", id);
    char *owned = strdup(topic);
    if (!owned || qf.n_owned == sizeof qf.owned / sizeof qf.owned[0]) {
        free(owned);
        query_filter_release(&qf);
        nw_http_error(req, 500, "internal", "out of memory", NULL);
        return;
    }
    qf.owned[qf.n_owned++] = owned;
    qf.f.all_of[qf.f.n_all_of++] = owned;
    query_page_submit(q, req, &qf, 0, id);
}
