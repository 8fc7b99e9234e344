/* compare.c: `newswire compare A B`, the similarity of two articles and the two verdicts
 * (near-duplicate? same story?) as one JSON object. Each argument is a document file (wire
 * text, HTML or JSON, parsed by the same code as newswire-parse) or, with --text, literal
 * text. Each is enriched as newswire-enrich would (the reference data: entities, places,
 * amounts and dates give the language-independent anchors), and the measure is nw_fp_compare
 * of the two fingerprints enrich stores, the one the store's story verdict uses. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "newswire/buf.h"
#include "newswire/config.h"
#include "newswire/enrich.h"
#include "newswire/fingerprint.h"
#include "newswire/parse.h"
#include "newswire/proto.h"
#include "newswire/util.h"

#define COMPARE_MAX_INPUT (64u * 1024 * 1024)

typedef struct compare_cfg {
    int text;
} compare_cfg_t;

static const nw_cfg_opt_t compare_opts[] = {
    {"text", NW_CFG_BOOL, "false", offsetof(compare_cfg_t, text),
     "A and B are the texts themselves, not file names", 0, 0},
    NW_CFG_END,
};

/* Enrich one argument (a literal text, or a document file parsed into an article) and read
 * the fingerprint enrich stored. */
static int
fingerprint_arg(const nw_enricher_t *en, const char *arg, int literal, nw_fp_t *fp)
{
    uint8_t *body = NULL;
    size_t len = 0;
    nw_article_t art = {0};
    nw_enriched_t out = {0};
    int rc;

    if (literal) {
        art.v = NW_PROTO_VERSION;
        art.id = strdup("compare");
        art.text = strdup(arg);
        if (!art.id || !art.text) {
            rc = -ENOMEM;
            goto done;
        }
    } else {
        rc = nw_read_file(strcmp(arg, "-") == 0 ? "/dev/stdin" : arg, COMPARE_MAX_INPUT, &body,
                          &len);
        if (rc < 0) {
            fprintf(stderr, "newswire compare: cannot read '%s': %s\n", arg, strerror(-rc));
            return rc;
        }
        const char *ctype = nw_parse_sniff(arg, body, len);
        if (!ctype) {
            fprintf(stderr, "newswire compare: '%s' looks binary\n", arg);
            rc = -EINVAL;
            goto done;
        }
        nw_raw_t raw = {.v = NW_PROTO_VERSION,
                        .id = "compare",
                        .source = "cli",
                        .fetched = "1970-01-01T00:00:00.000Z",
                        .content_type = (char *)ctype,
                        .body = body,
                        .body_len = len};
        const char *reason = NULL;
        char detail[512] = "";
        rc = nw_parse_raw(&raw, &art, &reason, detail, sizeof(detail));
        if (rc < 0) {
            fprintf(stderr, "newswire compare: cannot parse '%s': %s %s\n", arg,
                    reason ? reason : strerror(-rc), detail);
            goto done;
        }
    }
    rc = nw_enricher_run(en, &art, &out);
    if (rc < 0) {
        fprintf(stderr, "newswire compare: cannot enrich '%s': %s\n", arg, strerror(-rc));
        goto done;
    }
    rc = nw_fp_load(&out, fp);
    if (rc < 0) /* no words at all: an empty fingerprint, similar to nothing */
        rc = nw_fp_compute("", 0, NULL, fp);
done:
    nw_enriched_release(&out);
    nw_article_release(&art);
    free(body);
    return rc;
}

int
nw_cli_compare(int argc, char **argv)
{
    compare_cfg_t cfg = {0};
    char **args = NULL;
    int nargs = 0, status;
    int rc = nw_config_load(compare_opts, &cfg, argc, argv, "newswire compare [--text] A B",
                            "Compare two articles (files, or texts with --text): similarity, "
                            "near-duplicate and same-story verdicts as JSON.",
                            &nargs, &args);
    if ((status = nw_cli_config_status(rc)) >= 0)
        return status;
    if (nargs != 2) {
        fprintf(stderr, "newswire compare: expected two arguments, A and B (see --help)\n");
        return 2;
    }
    nw_enricher_t *en = NULL;
    if (nw_enricher_new(NULL, NULL, &en) < 0) {
        fprintf(stderr, "newswire compare: no reference data: %s\n", nw_enrich_error());
        return 1;
    }
    nw_fp_t a, b;
    rc = fingerprint_arg(en, args[0], cfg.text, &a);
    if (rc == 0)
        rc = fingerprint_arg(en, args[1], cfg.text, &b);
    nw_enricher_destroy(&en);
    if (rc < 0)
        return 1;
    nw_fp_score_t s = nw_fp_compare(&a, &b);
    json_t *o =
        json_pack("{s:f, s:f, s:f, s:f, s:f, s:b, s:i, s:b, s:b, s:f, s:f}", "similarity",
                  s.similarity, "jaccard", s.jaccard, "cosine", s.cosine, "grams", s.grams,
                  "anchors", s.anchors, "cross_language", s.cross_lang, "simhash_bits",
                  s.simhash_bits, "duplicate", s.duplicate, "same_story", s.same_story,
                  "duplicate_threshold", NW_FP_DUP_JACCARD, "story_threshold", NW_FP_STORY_SIM);
    if (!o)
        return 1;
    char *txt = json_dumps(o, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(4));
    json_decref(o);
    if (!txt)
        return 1;
    int ok = puts(txt) >= 0 && fflush(stdout) == 0;
    free(txt);
    return ok ? 0 : 1;
}
