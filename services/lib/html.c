/* html.c: article fields from HTML (see html.h). The work is done by extract.c (main text by
 * Readability-style scoring, metadata from JSON-LD, meta tags, <time>, bylines and the URL);
 * this file maps its result onto the fields nw_article_t has, and takes a dateline off the
 * first paragraph the way the wire-text parser does, since agency copy republished on the web
 * keeps its "CAIRO (Reuters) -". */
#include "html.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "extract.h"
#include "wire.h"

/* Text after a dateline shorter than this must hold a sentence end to count as body text. */
#define HEADING_MAX_BYTES 120

static void
take(char **dst, char **src)
{
    *dst = *src;
    *src = NULL;
}

/* True when s[0..len) reads as running text, not a heading: it has a sentence end in it or is
 * too long for a heading. An <h2> "Gaza - The Latest" opening the text is not a dateline. */
static bool
is_sentence(const char *s, size_t len)
{
    if (len >= HEADING_MAX_BYTES)
        return true;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '.' || s[i] == '!' || s[i] == '?')
            return true;
    return memmem(s, len, "\xe2\x80\xa6", 3) != NULL; /* U+2026 ellipsis */
}

/* Move a dateline opening the first paragraph of *text to *dateline, cutting it (and its
 * paragraph, when the dateline stands alone) from the text. The text is extract.c's output:
 * cleaned paragraphs joined by "\n\n". Returns 0 or -ENOMEM. */
static int
cut_dateline(char *text, char **dateline)
{
    size_t len = strlen(text);
    const char *end = strstr(text, "\n\n");
    size_t plen = end != NULL ? (size_t)(end - text) : len;
    char *place = NULL;
    size_t off = 0;
    int rc = nw_wire_dateline(text, plen, &place, &off);
    if (rc <= 0)
        return rc;
    size_t cut = off;
    if (off == plen) {
        /* "CAIRO (Reuters) -" in a paragraph of its own: the article follows it */
        if (end == NULL) {
            free(place);
            return 0;
        }
        cut = plen + 2;
    } else if (!is_sentence(text + off, plen - off)) {
        free(place);
        return 0;
    }
    memmove(text, text + cut, len - cut + 1);
    *dateline = place;
    return 0;
}

int
nw_html_parse(const char *html, size_t len, const char *url, nw_article_t *art)
{
    nw_extract_t ex = {0};
    int rc = nw_extract_html(html, len, url, 0, &ex);
    if (rc < 0)
        return rc;
    char *dateline = NULL;
    if (ex.text != NULL && cut_dateline(ex.text, &dateline) < 0) {
        nw_extract_release(&ex);
        return -ENOMEM;
    }
    take(&art->title, &ex.title);
    take(&art->subtitle, &ex.subtitle);
    take(&art->published, &ex.published);
    take(&art->modified, &ex.modified);
    take(&art->lang, &ex.lang);
    take(&art->site_name, &ex.site_name);
    take(&art->section, &ex.section);
    take(&art->image, &ex.image);
    take(&art->text, &ex.text);
    art->dateline = dateline;
    /* a canonical URL only fills in; parse.c puts the raw message's own URL first */
    if (art->url == NULL)
        take(&art->url, &ex.canonical);
    art->authors = ex.authors;
    art->n_authors = ex.n_authors;
    ex.authors = NULL;
    ex.n_authors = 0;
    art->tags = ex.tags;
    art->n_tags = ex.n_tags;
    ex.tags = NULL;
    ex.n_tags = 0;
    art->captions = ex.captions;
    art->n_captions = ex.n_captions;
    ex.captions = NULL;
    ex.n_captions = 0;
    nw_extract_release(&ex);
    return 0;
}
