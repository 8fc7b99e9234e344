/* facets.c: GET /v1/facets (query.h): what the news is about, counted by the database instead
 * of by a client that downloads everything.
 *
 *   GET /v1/facets?facet=person&from=7d&to=now&bucket=day&top=10&trending=1&FILTERS
 *
 * counts the articles matching the filters of /v1/articles in [from, to) (default: the last 7
 * days) per value of the facet (person, org, country, place, theme, lang or story: the topics
 * person.*, ...), the top N by count, or with trending=1 by the change against the previous
 * window of equal length; each value with its count, its previous count and, with bucket=hour
 * or day, its counts per bucket. Runs on the worker with the query budget. */
#include "query.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswire/util.h"

static const char *const facet_params[] = {QUERY_FILTER_PARAMS, "facet", "bucket", "top",
                                           "trending",          NULL};
static const char *const facets[] = {"person", "org", "country", "place", "theme", "lang", "story"};

typedef struct facet_job {
    query_job_t job;
    query_filter_t qf;
    char prefix[16];
    int top, trending;
    nw_store_bucket_t bucket;
    json_t *values, *buckets;
} facet_job_t;

static int
on_facet(const nw_store_facet_t *fa, void *arg)
{
    facet_job_t *fj = arg;
    json_t *counts = NULL;
    if (fj->bucket != NW_STORE_BUCKET_NONE) {
        if (!fj->buckets && (fj->buckets = json_array()) != NULL)
            for (size_t i = 0; i < fa->n_buckets; i++)
                json_array_append_new(fj->buckets, json_string(fa->buckets[i]));
        counts = json_array();
        for (size_t i = 0; counts && i < fa->n_buckets; i++)
            json_array_append_new(counts, json_integer(fa->bucket_counts[i]));
    }
    json_t *o =
        json_pack("{s:s, s:s, s:I, s:I, s:I}", "value", fa->topic + strlen(fj->prefix), "topic",
                  fa->topic, "count", (json_int_t)fa->count, "previous", (json_int_t)fa->previous,
                  "change", (json_int_t)(fa->count - fa->previous));
    if (o && counts && json_object_set_new(o, "counts", counts) < 0) {
        json_decref(o);
        return 1;
    }
    if (!o)
        json_decref(counts);
    return o == NULL || json_array_append_new(fj->values, o) < 0;
}

static int
facet_run(query_job_t *j, nw_store_t *db)
{
    facet_job_t *fj = (facet_job_t *)j;
    if (!(fj->values = json_array()))
        return -ENOMEM;
    int rc =
        nw_store_facets(db, &fj->qf.f, fj->prefix, fj->top, fj->trending, fj->bucket, on_facet, fj);
    if (rc < 0)
        return rc;
    char facet[16];
    snprintf(facet, sizeof facet, "%.*s", (int)strlen(fj->prefix) - 1, fj->prefix);
    j->answer = json_pack("{s:s, s:s, s:s, s:s, s:b, s:O}", "facet", facet, "from", fj->qf.f.from,
                          "to", fj->qf.f.to, "bucket",
                          fj->bucket == NW_STORE_BUCKET_HOUR  ? "hour"
                          : fj->bucket == NW_STORE_BUCKET_DAY ? "day"
                                                              : "none",
                          "trending", fj->trending, "values", fj->values);
    if (j->answer && fj->buckets && json_object_set(j->answer, "buckets", fj->buckets) < 0)
        return -ENOMEM;
    return j->answer ? 0 : -ENOMEM;
}

static void
facet_release(query_job_t *j)
{
    facet_job_t *fj = (facet_job_t *)j;
    query_filter_release(&fj->qf);
    json_decref(fj->values);
    json_decref(fj->buckets);
    free(fj);
}

void
query_on_facets(nw_http_req_t *req, void *arg)
{
    query_svc_t *q = arg;
    if (query_known_params(req, facet_params) < 0)
        return;
    facet_job_t *fj = calloc(1, sizeof *fj);
    if (fj == NULL) {
        nw_http_error(req, 500, "internal", "out of memory", NULL);
        return;
    }
    fj->job.req = req;
    fj->job.run = facet_run;
    fj->job.release = facet_release;
    const char *v = nw_http_query(req, "facet");
    for (size_t i = 0; v && i < sizeof facets / sizeof facets[0]; i++)
        if (strcmp(v, facets[i]) == 0)
            snprintf(fj->prefix, sizeof fj->prefix, "%s.", facets[i]);
    if (!fj->prefix[0]) {
        nw_http_error(req, 400, "bad-facet",
                      "facet: person, org, country, place, theme, lang or story", NULL);
        goto fail;
    }
    if (query_filter_parse(q, req, &fj->qf, 0, 0) < 0)
        goto fail;
    if (!fj->qf.f.to) {
        nw_time_iso(nw_now_ms(), fj->qf.to, sizeof fj->qf.to);
        fj->qf.f.to = fj->qf.to;
    }
    if (!fj->qf.f.from) {
        int64_t to_ms = 0;
        nw_time_parse(fj->qf.to, &to_ms);
        nw_time_iso(to_ms - 7 * 86400000LL, fj->qf.from, sizeof fj->qf.from);
        fj->qf.f.from = fj->qf.from;
    }
    if (strcmp(fj->qf.f.from, fj->qf.f.to) >= 0) {
        nw_http_error(req, 400, "bad-from", "from: must be before to", NULL);
        goto fail;
    }
    fj->top = 10;
    if ((v = nw_http_query(req, "top")) != NULL) {
        char *end = NULL;
        long n = strtol(v, &end, 10);
        if (end == v || *end || n < 1 || n > 1000) {
            nw_http_error(req, 400, "bad-top", "top: a number from 1 to 1000", NULL);
            goto fail;
        }
        fj->top = (int)n;
    }
    if ((v = nw_http_query(req, "trending")) != NULL) {
        if (strcmp(v, "0") && strcmp(v, "1") && strcmp(v, "true") && strcmp(v, "false")) {
            nw_http_error(req, 400, "bad-trending", "trending: 1 or 0", NULL);
            goto fail;
        }
        fj->trending = v[0] == '1' || v[0] == 't';
    }
    if ((v = nw_http_query(req, "bucket")) != NULL) {
        if (strcmp(v, "hour") == 0)
            fj->bucket = NW_STORE_BUCKET_HOUR;
        else if (strcmp(v, "day") == 0)
            fj->bucket = NW_STORE_BUCKET_DAY;
        else if (strcmp(v, "none") != 0) {
            nw_http_error(req, 400, "bad-bucket", "bucket: hour, day or none", NULL);
            goto fail;
        }
    }
    query_submit(q, &fj->job);
    return;
fail:
    facet_release(&fj->job);
}
