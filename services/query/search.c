/* search.c: GET /v1/search?q=WORDS&FILTERS (query.h): full-text search with the filters of
 * /v1/articles, best first (or sort=published|seq), as hits {id, title, published, lang, url,
 * snippet, rank, seq, time, time_source}: rank is relevance, higher is better. Runs on the
 * worker with the query budget. */
#include "query.h"

static const char *const search_params[] = {
    QUERY_FILTER_PARAMS, "sort", "cursor", "limit", "since", NULL};

void
query_on_search(nw_http_req_t *req, void *arg)
{
    query_svc_t *q = arg;
    query_filter_t qf = {0};
    if (query_known_params(req, search_params) < 0)
        return;
    if (nw_http_query(req, "q") == NULL) {
        nw_http_error(req, 400, "bad-query", "q: the words to search for", NULL);
        return;
    }
    if (query_filter_parse(q, req, &qf, 1, 20) < 0) {
        query_filter_release(&qf);
        return;
    }
    qf.page.want_snippets = 1;
    query_page_submit(q, req, &qf, 1, NULL);
}
