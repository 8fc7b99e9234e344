/* jobs.h: each stage's job, one message in and one encoded message out, written once and run by
 * both the service (newswire-parse, newswire-enrich, through filter.h's runner) and the one-shot
 * filters (`newswire extract`, `newswire parse|enrich --jsonl`), so the CLI runs the service's
 * code, failure reasons included.
 *
 * Each stage has two entry points: the nw_filter_fn a service hands to nw_filter_run (decode
 * the job's MessagePack, run, encode), and the same job on an already decoded message, for the
 * CLI, whose input is JSON with its own defaults. On failure both fill *fail as the dead letter
 * wants it: the reason ("bad-message" when the job cannot be decoded, parse.h's reasons,
 * "parse-failed", "enrich-failed"), a detail for people, and what the message said about
 * itself (id, origin, spool, ...), so the dead letter can be acknowledged to the fetch that
 * spooled it and replayed. */
#ifndef NW_JOBS_H
#define NW_JOBS_H

#include <stddef.h>
#include <stdint.h>

#include "newswire/buf.h"
#include "newswire/enrich.h"
#include "newswire/filter.h"
#include "newswire/proto.h"

/* raw -> article: parse *raw (borrowed until return) and append the encoded article to out.
 * Returns 0, or a negative errno with fail->reason, detail, id, origin, content_type, source
 * and spool set from raw. */
int nw_job_parse_raw(const nw_raw_t *raw, nw_buf_t *out, nw_filter_fail_t *fail);

/* nw_filter_fn for newswire-parse: decode a raw message from in[0..len) and run
 * nw_job_parse_raw. ctx is unused. */
int nw_job_parse(void *ctx, const uint8_t *in, size_t len, nw_buf_t *out, nw_filter_fail_t *fail);

/* article -> enriched: enrich *art with the reference data ref (only read) and append the
 * encoded enriched document to out. *art is consumed either way (released on return). Returns 0,
 * or a negative errno with fail->reason "enrich-failed", detail, id, origin and spool set. */
int nw_job_enrich_article(const nw_enricher_t *ref, nw_article_t *art, nw_buf_t *out,
                          nw_filter_fail_t *fail);

/* nw_filter_fn for newswire-enrich: decode an article from in[0..len) and run
 * nw_job_enrich_article. ctx is the const nw_enricher_t *, borrowed. */
int nw_job_enrich(void *ctx, const uint8_t *in, size_t len, nw_buf_t *out, nw_filter_fail_t *fail);

#endif
