/* jobs.c: the parse and enrich stages' jobs (see jobs.h), shared by the services and the CLI
 * filters. The stage logic itself lives in parse.c and enrich.c; this is the frame around it:
 * decode, run, encode, and what a failure keeps for its dead letter. */
#include "newswire/jobs.h"

#include <errno.h>
#include <string.h>

#include "newswire/log.h"
#include "newswire/parse.h"

/* A job that cannot be decoded keeps only the reason: there is nothing to say about it. */
static int
bad_message(int rc, nw_filter_fail_t *fail)
{
    fail->reason = "bad-message";
    nw_filter_fail_set(fail->detail, sizeof fail->detail,
                       rc == -EPROTO ? nw_proto_error() : strerror(-rc));
    return rc;
}

int
nw_job_parse_raw(const nw_raw_t *raw, nw_buf_t *out, nw_filter_fail_t *fail)
{
    nw_article_t art = {0};
    int rc = nw_parse_raw(raw, &art, &fail->reason, fail->detail, sizeof fail->detail);
    if (rc == 0)
        rc = nw_article_encode(&art, out);
    if (rc < 0) {
        /* Keep what the raw said about itself, so the dead letter can be acknowledged to the
         * fetch that spooled it and replayed with its content type. */
        if (fail->reason == NULL)
            fail->reason = "parse-failed";
        if (fail->detail[0] == 0)
            nw_filter_fail_set(fail->detail, sizeof fail->detail, strerror(-rc));
        nw_filter_fail_set(fail->id, sizeof fail->id, raw->id);
        nw_filter_fail_set(fail->origin, sizeof fail->origin, raw->origin);
        nw_filter_fail_set(fail->content_type, sizeof fail->content_type, raw->content_type);
        nw_filter_fail_set(fail->source, sizeof fail->source, raw->source);
        fail->spool = raw->spool;
    } else {
        NW_DEBUG(art.id, "parsed content_type=%s bytes=%zu captions=%zu", art.content_type,
                 raw->body_len, art.n_captions);
    }
    nw_article_release(&art);
    return rc;
}

int
nw_job_parse(void *ctx, const uint8_t *in, size_t len, nw_buf_t *out, nw_filter_fail_t *fail)
{
    nw_raw_t raw = {0};
    (void)ctx;
    int rc = nw_raw_decode(&raw, in, len);
    if (rc < 0)
        return bad_message(rc, fail);
    rc = nw_job_parse_raw(&raw, out, fail);
    nw_raw_release(&raw);
    return rc;
}

int
nw_job_enrich_article(const nw_enricher_t *ref, nw_article_t *art, nw_buf_t *out,
                      nw_filter_fail_t *fail)
{
    nw_enriched_t e = {0};
    /* Taken before the run: nw_enricher_run moves the article into e when it succeeds. */
    nw_filter_fail_set(fail->id, sizeof fail->id, art->id);
    nw_filter_fail_set(fail->origin, sizeof fail->origin, art->origin);
    fail->spool = art->spool;
    int rc = nw_enricher_run(ref, art, &e);
    if (rc == 0)
        rc = nw_enriched_encode(&e, out);
    if (rc < 0) {
        fail->reason = "enrich-failed";
        nw_filter_fail_set(fail->detail, sizeof fail->detail, strerror(-rc));
    } else {
        NW_DEBUG(e.art.id, "enriched lang=%s words=%u", e.art.lang, e.words);
    }
    nw_article_release(art);
    nw_enriched_release(&e);
    return rc;
}

int
nw_job_enrich(void *ctx, const uint8_t *in, size_t len, nw_buf_t *out, nw_filter_fail_t *fail)
{
    nw_article_t art = {0};
    int rc = nw_article_decode(&art, in, len);
    if (rc < 0)
        return bad_message(rc, fail);
    return nw_job_enrich_article(ctx, &art, out, fail);
}
