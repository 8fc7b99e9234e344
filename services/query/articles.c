/* articles.c: stored articles over HTTP (query.h).
 *
 *   GET /v1/articles/ID            the current stored document of an article (JSON; on the
 *                                  loop: one indexed read)
 *   GET /v1/articles/ID/revisions  its history: every revision with its acceptance version,
 *                                  whether it is current or was a late copy, and its document
 *   GET /v1/articles?FILTERS       pages of stored articles under the filters of filters.c,
 *                                  in seq order (default), by time, or by relevance (with q)
 *
 * Pages and histories run on the worker (worker.c). A page reads its candidates from the
 * most selective index range (store_query.c), so a topic nothing matches costs one empty
 * range, not a scan of the database. */
#include "query.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "newswire/buf.h"
#include "newswire/json.h"
#include "newswire/proto.h"

static const char *const list_params[] = {
    QUERY_FILTER_PARAMS, "sort", "cursor", "limit", "fields", "since", NULL};
static const char *const doc_params[] = {"fields", NULL};

/* ---- a page, on the worker ---- */

typedef struct page_job {
    query_job_t job;
    query_filter_t qf;
    int hits;
    char *story;
    json_t *items;
} page_job_t;

static int
on_row(const nw_store_qrow_t *r, void *arg)
{
    page_job_t *pj = arg;
    json_t *o;
    if (pj->hits) {
        nw_store_hit_t h = {.id = r->id,
                            .title = r->title,
                            .published = r->published,
                            .lang = r->lang,
                            .url = r->url,
                            .snippet = r->snippet,
                            .rank = r->rank};
        o = nw_store_hit_json(&h);
        if (o && (json_object_set_new(o, "seq", json_integer((json_int_t)r->seq)) < 0 ||
                  json_object_set_new(o, "time", json_string(r->at)) < 0 ||
                  json_object_set_new(o, "time_source",
                                      json_string(r->at_published ? "published" : "stored")) < 0)) {
            json_decref(o);
            o = NULL;
        }
    } else {
        o = query_doc_json(&pj->qf, r->doc, r->doc_len, r->at, r->at_published);
    }
    return o == NULL || json_array_append_new(pj->items, o) < 0;
}

static int
page_run(query_job_t *j, nw_store_t *db)
{
    page_job_t *pj = (page_job_t *)j;
    if (!(pj->items = json_array()))
        return -ENOMEM;
    int rc = nw_store_query(db, &pj->qf.f, &pj->qf.page, on_row, pj);
    if (rc < 0)
        return rc;
    if (pj->story && rc == 0 && !pj->qf.page.cursor)
        return -ENOENT;
    j->answer = json_object();
    if (!j->answer ||
        (pj->story && json_object_set_new(j->answer, "story", json_string(pj->story)) < 0) ||
        json_object_set(j->answer, pj->hits ? "hits" : "articles", pj->items) < 0 ||
        query_page_json(j->answer, &pj->qf.page) < 0)
        return -ENOMEM;
    return 0;
}

static void
page_release(query_job_t *j)
{
    page_job_t *pj = (page_job_t *)j;
    query_filter_release(&pj->qf);
    json_decref(pj->items);
    free(pj->story);
    free(pj);
}

void
query_page_submit(query_svc_t *q, nw_http_req_t *req, query_filter_t *qf, int hits,
                  const char *story)
{
    page_job_t *pj = calloc(1, sizeof *pj);
    if (pj == NULL || (story && (pj->story = strdup(story)) == NULL)) {
        free(pj);
        query_filter_release(qf);
        nw_http_error(req, 500, "internal", "out of memory", NULL);
        return;
    }
    pj->qf = *qf; /* the owned strings move with it; from and to live in the struct */
    if (qf->f.from == qf->from)
        pj->qf.f.from = pj->qf.from;
    if (qf->f.to == qf->to)
        pj->qf.f.to = pj->qf.to;
    pj->hits = hits;
    pj->job.req = req;
    pj->job.run = page_run;
    pj->job.release = page_release;
    query_submit(q, &pj->job);
}

void
query_on_articles(nw_http_req_t *req, void *arg)
{
    query_svc_t *q = arg;
    query_filter_t qf = {0};
    if (query_known_params(req, list_params) < 0)
        return;
    if (query_filter_parse(q, req, &qf, 1, 100) < 0) {
        query_filter_release(&qf);
        return;
    }
    query_page_submit(q, req, &qf, 0, NULL);
}

/* ---- revisions, on the worker ---- */

typedef struct rev_job {
    query_job_t job;
    query_filter_t qf; /* fields */
    char *id;
    json_t *revs;
} rev_job_t;

static int
on_rev(const nw_store_rev_t *r, void *arg)
{
    rev_job_t *rj = arg;
    json_t *doc = query_doc_json(&rj->qf, r->doc, r->doc_len, NULL, 0);
    json_t *o = json_pack("{s:I, s:I, s:I, s:b, s:b, s:s?, s:s?, s:o?}", "rev", (json_int_t)r->rev,
                          "seq", (json_int_t)r->seq, "av", (json_int_t)r->av, "current", r->current,
                          "late", r->late, "stored_at", r->stored_at, "content_hash",
                          r->content_hash, "document", doc);
    return o == NULL || json_array_append_new(rj->revs, o) < 0;
}

static int
rev_run(query_job_t *j, nw_store_t *db)
{
    rev_job_t *rj = (rev_job_t *)j;
    if (!(rj->revs = json_array()))
        return -ENOMEM;
    int rc = nw_store_revisions(db, rj->id, on_rev, rj);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return -ENOENT;
    j->answer = json_pack("{s:s, s:O}", "id", rj->id, "revisions", rj->revs);
    return j->answer ? 0 : -ENOMEM;
}

static void
rev_release(query_job_t *j)
{
    rev_job_t *rj = (rev_job_t *)j;
    query_filter_release(&rj->qf);
    json_decref(rj->revs);
    free(rj->id);
    free(rj);
}

static void
on_revisions(query_svc_t *q, nw_http_req_t *req, const char *id, size_t id_len)
{
    if (query_known_params(req, doc_params) < 0)
        return;
    rev_job_t *rj = calloc(1, sizeof *rj);
    if (rj == NULL || (rj->id = strndup(id, id_len)) == NULL) {
        free(rj);
        nw_http_error(req, 500, "internal", "out of memory", NULL);
        return;
    }
    const char *fields = nw_http_query(req, "fields");
    if (fields && !(rj->qf.owned[rj->qf.n_owned++] = rj->qf.fields = strdup(fields))) {
        rev_release(&rj->job);
        nw_http_error(req, 500, "internal", "out of memory", NULL);
        return;
    }
    rj->job.req = req;
    rj->job.run = rev_run;
    rj->job.release = rev_release;
    query_submit(q, &rj->job);
}

/* ---- one article, on the loop ---- */

void
query_on_article(nw_http_req_t *req, void *arg)
{
    query_svc_t *q = arg;
    const char *id = req->path + strlen("/v1/articles/");
    const char *slash = strchr(id, '/');
    if (slash && strcmp(slash, "/revisions") == 0) {
        on_revisions(q, req, id, (size_t)(slash - id));
        return;
    }
    if (slash) {
        nw_http_error(req, 404, "not-found", "no such path", NULL);
        return;
    }
    if (query_known_params(req, doc_params) < 0)
        return;
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
    query_filter_t qf = {.fields = (char *)nw_http_query(req, "fields")};
    query_answer_json(req, 200, query_doc_json(&qf, doc, len, NULL, 0));
    free(doc);
}
