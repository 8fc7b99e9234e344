/* extract.h, private to the library (services call parse.h): main text and metadata of a web page.
 * The text is found the way Readability does it (paragraph scores bubbled up to their containers,
 * class/id hints, link density, siblings of similar score merged); the metadata comes from JSON-LD,
 * OpenGraph / meta tags, <time>, visible bylines and the URL, in that order of trust. html.c maps
 * the result onto an nw_article_t; `newswire extract` and bench_extract use the full struct. */
#ifndef NW_EXTRACT_H
#define NW_EXTRACT_H

#include <stddef.h>
#include <time.h>

#include "newswire/proto.h"

/* What one page yields. Every member is malloc'd and owned by the struct; NULL / 0 when the
 * page does not tell. Dates are ISO 8601 as the page printed them ("2024-02-06T08:00:00+01:00",
 * the zone kept when given) or a bare "YYYY-MM-DD"; dates more than a day in the future are
 * dropped. */
typedef struct nw_extract {
    char *title;
    char *subtitle; /* og:description / description / JSON-LD description */
    char **authors; /* names only, "By" and the like removed */
    size_t n_authors;
    char *published;
    char *modified;
    char *site_name;
    char *lang;      /* primary subtag, lowercase ("en") */
    char *canonical; /* absolute http(s) URL */
    char *image;     /* lead image URL */
    char *section;
    char **tags;
    size_t n_tags;
    char *text;      /* paragraphs joined by "\n\n"; "" when none were found */
    char *container; /* where text was found, for diagnosis: "/html[1]/body[1]/div[3]" (the
                      * element's tag and 1-based position among its parent's elements, from the
                      * root); siblings merged into the text are not named */
    nw_caption_t *captions;
    size_t n_captions;
} nw_extract_t;

/* Extract *out from the UTF-8 HTML document html[0..len). url (may be NULL) is the page's
 * address: it resolves relative links and gives a date when /YYYY/MM/DD/ appears in it. now is
 * the reference for "in the future" (0 = the current time). The page is parsed by dom.h's
 * HTML tree builder (no network, no entities beyond HTML's own, depth bounded) and every walk is
 * iterative, so hostile nesting cannot exhaust the stack. *out must be zeroed on entry; release it
 * with nw_extract_release. Borrows html and url until return. Returns 0, -EPROTO when no document
 * can be built at all (empty or blank input), or -ENOMEM; on error *out is left zeroed. */
int nw_extract_html(const char *html, size_t len, const char *url, time_t now, nw_extract_t *out);

/* Free everything *ex owns and zero it. NULL-safe, safe twice. */
void nw_extract_release(nw_extract_t *ex);

#endif
