/* enrich.h: article -> enriched. The same code runs in newswire-enrich and
 * `newswire enrich --jsonl`. Issue 2 scope: language (CLD2) of the article and of each caption,
 * word count, reading time, and the topics the article is published on. */
#ifndef NW_ENRICH_H
#define NW_ENRICH_H

#include "newswire/proto.h"

/* Enrich an article. Moves *art into out->art (art is left zeroed) and fills the enrichment
 * fields. Returns 0 or -ENOMEM; never fails on content (unknown language is "und"). */
int nw_enrich_article(nw_article_t *art, nw_enriched_t *out);

/* Detect the language of UTF-8 text: writes an ISO 639-1 code (or "und") to out (>= 8 bytes).
 * Returns 1 when CLD2 judged the result reliable, else 0. */
int nw_lang_detect(const char *text, size_t len, char *out, size_t n);

#endif
