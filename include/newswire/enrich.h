/* enrich.h: article -> enriched. The same code runs in newswire-enrich and
 * `newswire enrich --jsonl`. Two levels:
 * - nw_enrich_article: language (CLD2) of the article and of each caption, word count, reading
 *   time and the base topics; needs no reference data.
 * - nw_enricher_run: the same, with the languages from CLD2 and the n-gram model of data/lang
 *   together (services/lib/lang.h), plus entities (the NER model in data/ner) with canonical names
 *   and salience, geocoded places (data/geo), quotes with speakers, the language of each
 *   paragraph, keywords, themes (data/themes), tone (data/tone), amounts, dates resolved
 *   against the publication date, a fingerprint (fingerprint.h) and the full topic list. The
 *   reference data is loaded once by nw_enricher_new and read-only afterwards. */
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

typedef struct nw_enricher nw_enricher_t;

/* Find the reference data directory (the one holding ner/model.bin and geo/) as
 * nw_refdir_find does (refdir.h: $NEWSWIRE_REF_DIR, ../share/newswire beside the executable,
 * the source tree only from the build tree). Writes it to buf (n bytes) and returns 0, or
 * -ENOENT when none has ner/model.bin. */
int nw_enrich_find_data(char *buf, size_t n);

/* Load the reference data from data_dir (NULL: nw_enrich_find_data): the NER model, lang/model.bin
 * (lang.h), geo/, tone/ and themes/. The NER model is
 * model_path when not NULL, else $NEWSWIRE_NER_MODEL when set, else <data_dir>/ner/model.bin.
 * Returns 0 and *out (caller destroys), or -errno / -EPROTO naming nothing: the caller reports
 * which path failed with nw_enrich_error(). */
int nw_enricher_new(const char *data_dir, const char *model_path, nw_enricher_t **out);

/* Why the last nw_enricher_new on this thread failed, e.g. "cannot read \"x/ner/model.bin\"". */
const char *nw_enrich_error(void);

/* Free the enricher and NULL *e; NULL-safe. */
void nw_enricher_destroy(nw_enricher_t **e);

/* Load now what e would otherwise load on first use (the common-word lists of every language,
 * ICU's transliterator for slugs), so that no article pays for it: for long-running services.
 * Tests and one-shot commands leave it lazy and start fast. NULL-safe. */
void nw_enricher_preload(nw_enricher_t *e);

/* Enrich an article fully. Same contract as nw_enrich_article (moves *art into out->art; 0 or
 * -ENOMEM, then *art is untouched and out zeroed); one enricher serves any number of articles.
 * The result depends on the article and the reference data only; e reads a language's
 * common-word lists on its first article (entity_filter.h), so one thread at a time. */
int nw_enricher_run(const nw_enricher_t *e, nw_article_t *art, nw_enriched_t *out);

/* Resolve a date expression against the publication date pub ("YYYY-MM-DD"): writes
 * "YYYY-MM-DD" to out (>= 11 bytes) and returns 0, or -EINVAL when text is not a date
 * expression enrich knows. Weekdays resolve to the latest such day on or before pub, or the next
 * one on or after it when future is set ("will ... on Thursday"); "6 February", "February 6,
 * 2024", "October 7" (the latest on or before pub when the year is missing). */
int nw_enrich_resolve_date(const char *text, size_t len, const char *pub, int future, char *out);

/* Lowercase topic slug of a name ("Antony Blinken" -> "antony-blinken"; accents stripped,
 * anything but a-z and 0-9 becomes one "-"). Writes at most n-1 bytes and a NUL; returns the
 * length (0 when nothing is left). */
size_t nw_enrich_slug(const char *name, char *out, size_t n);

#endif
