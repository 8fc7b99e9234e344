/* enrich.h: article -> enriched. The same code runs in newswire-enrich and
 * `newswire enrich --jsonl`. Issue 2 scope: language (CLD2) of the article and of each caption,
 * word count, reading time, and the topics the article is published on. */
#ifndef NW_ENRICH_H
#define NW_ENRICH_H

#include "newswire/proto.h"

/* Enrich an article. Moves *art into out->art (art is left zeroed) and fills the enrichment
 * fields; out is overwritten (zeroed first), the caller releases it with nw_enriched_release.
 * - art.lang: detected from title + subtitle + text; the declared art.lang is kept only when
 *   CLD2 calls the detection unreliable; "und" when nothing is known.
 * - each caption's lang: detected from the caption text alone (same fallback rule).
 * - words: runs of Unicode letters/digits (combining marks continue a word) in title +
 *   subtitle + text; reading_s = ceil(words * 60 / 230), 230 words per minute.
 * - topics: "all", then "lang.<code>" (lowercase) unless the language is "und".
 * Returns 0 or -ENOMEM (then *art is untouched and out zeroed); never fails on content. */
int nw_enrich_article(nw_article_t *art, nw_enriched_t *out);

/* Detect the language of UTF-8 text: writes an ISO 639-1 code (or "und") to out (>= 8 bytes;
 * longer codes are truncated). Empty or NULL text, or text CLD2 cannot place, gives "und".
 * Invalid UTF-8 is judged on its valid prefix. Borrows text until return.
 * Returns 1 when CLD2 judged the result reliable, else 0. */
int nw_lang_detect(const char *text, size_t len, char *out, size_t n);

#endif
