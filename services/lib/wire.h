/* wire.h, private to the library (services call parse.h): the wire-text parser. Plain text as news
 * agencies and aggregators deliver it (see the seeds): an optional "date YYYY-MM-DD" prefix, an
 * optional teaser and headline, captions carrying photo credits, a dateline ("Cairo, Egypt - ") and
 * one paragraph per line. The rules are listed in wire.c's header comment. parse.c calls it for
 * text/plain and for the "body" field of JSON input; html.c borrows the line cleaner, the caption
 * splitter and the dateline detector. */
#ifndef NW_WIRE_H
#define NW_WIRE_H

#include <stddef.h>

#include "newswire/proto.h"

/* Parse UTF-8 wire text text[0..len) into the content fields of *art: title, subtitle,
 * authors, published, dateline, text (paragraphs joined by "\n\n", "" when there are none) and
 * captions. Those fields must be empty on entry (e.g. a zeroed struct); no other field is
 * touched. Borrows text until return; *art owns what was set (release with
 * nw_article_release). Returns 0, -EILSEQ when text is not valid UTF-8 (or holds NUL bytes),
 * or -ENOMEM; on error *art is left as it was. */
int nw_wire_parse(const char *text, size_t len, nw_article_t *art);

/* Normalise one line of text: Unicode spaces (NBSP, thin space, ...) and control characters
 * become spaces, zero-width characters are dropped, runs of spaces collapse to one, the ends
 * are trimmed and a space before . , ; : ! ? is removed ("Gaza ." -> "Gaza."). s must be valid
 * UTF-8. Returns a malloc'd string the caller frees, or NULL on ENOMEM. */
char *nw_wire_clean(const char *s, size_t len);

/* Split a trailing photo credit off one cleaned caption line ("Smoke over Gaza. © Jane
 * Doe/Reuters"). On a match fills *cap with text (without the credit and separator), credit (as
 * printed, without enclosing parentheses), photographer, agency (normalised: "Reuters", "AFP",
 * ...) and pool, and returns 1; the caller releases *cap with nw_wire_caption_release. Returns
 * 0 when the line carries no credit (or only a credit, no caption text), -ENOMEM on failure. */
int nw_wire_caption(const char *line, nw_caption_t *cap);

/* Free the strings of *cap and zero it. NULL-safe. */
void nw_wire_caption_release(nw_caption_t *cap);

/* Find a dateline at the start of one paragraph, by rule 5 of wire.c: "Cairo, Egypt - ...",
 * "CAIRO (Reuters) - ...", "RIO DE JANEIRO, Feb 6 (AFP) - ...". para must be one cleaned line
 * (valid UTF-8, single spaces, as nw_wire_clean returns it). On a match sets *dateline to the
 * place ("Cairo, Egypt"; all-capital places title-cased; caller frees) and *rest_off to the
 * offset of the text after the dash separator (len when the paragraph is only a dateline), and
 * returns 1. Returns 0 when the paragraph does not open with a dateline, -ENOMEM on failure;
 * in both cases *dateline and *rest_off are untouched. Borrows para until return. */
int nw_wire_dateline(const char *para, size_t len, char **dateline, size_t *rest_off);

/* True when s[0..len) starts with a valid calendar date "YYYY-MM-DD" (years 1800-2199). */
int nw_wire_valid_date(const char *s, size_t len);

#endif
