/* enrich.c: `newswire enrich --jsonl`, the enrich stage as a filter: article JSON lines (as
 * `newswire parse --jsonl` writes them) on stdin, enriched JSON lines on stdout, each through
 * the enrich stage's own job (jobs.h), as newswire-enrich runs it. The reference data is found
 * as newswire-enrich finds it (NEWSWIRE_REF_DIR). */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "newswire/enrich.h"
#include "newswire/jobs.h"
#include "newswire/json.h"
#include "newswire/proto.h"

/* Loaded on the first line, so --help works without the reference data. */
static nw_enricher_t *enricher;

static int
enrich_line(const char *line, size_t len, char *why, size_t why_len)
{
    nw_buf_t mp = {0}, enc = {0};
    nw_article_t art = {0};
    nw_filter_fail_t fail = {0};
    char err[200] = "";
    int rc = nw_json_to_msgpack(line, len, &mp, err, sizeof err);
    if (rc < 0) {
        snprintf(why, why_len, "bad-json: %s", *err ? err : strerror(-rc));
        goto done;
    }
    rc = nw_article_decode(&art, mp.data, mp.len);
    if (rc < 0) {
        snprintf(why, why_len, "bad-article: %s", rc == -EPROTO ? nw_proto_error() : strerror(-rc));
        goto done;
    }
    if (enricher == NULL && (rc = nw_enricher_new(NULL, NULL, &enricher)) < 0) {
        snprintf(why, why_len, "no-reference-data: %s", nw_enrich_error());
        goto done;
    }
    rc = nw_job_enrich_article(enricher, &art, &enc, &fail);
    rc = nw_cli_print_job(rc, &enc, &fail, why, why_len);
done:
    nw_article_release(&art);
    nw_buf_release(&enc);
    nw_buf_release(&mp);
    return rc;
}

int
nw_cli_enrich(int argc, char **argv)
{
    int rc =
        nw_cli_filter("enrich", "article JSON lines on stdin to enriched JSON lines (required)",
                      "The enrich stage as a filter: article JSON lines (as `newswire parse "
                      "--jsonl` writes them)\nbecome enriched JSON lines (languages, entities, "
                      "places, quotes, themes, tone,\nfingerprint, topics...). The reference "
                      "data is found as newswire-enrich finds it\n(NEWSWIRE_REF_DIR). A bad "
                      "line is reported on stderr with its number and skipped;\nthe exit "
                      "status is then 1.",
                      enrich_line, argc, argv);
    nw_enricher_destroy(&enricher);
    return rc;
}
