/* html.c: article fields from HTML (see html.h). The work is done by extract.c (main text by
 * Readability-style scoring, metadata from JSON-LD, meta tags, <time>, bylines and the URL);
 * this file maps its result onto the fields nw_article_t has. Fields the article has no place
 * for (modified, site name, image, section, tags) are only available through extract.h. */
#include "newswire/html.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "newswire/extract.h"

static void
take(char **dst, char **src)
{
    *dst = *src;
    *src = NULL;
}

int
nw_html_parse(const char *html, size_t len, nw_article_t *art)
{
    nw_extract_t ex = {0};
    int rc = nw_extract_html(html, len, NULL, 0, &ex);
    if (rc < 0)
        return rc;
    take(&art->title, &ex.title);
    take(&art->subtitle, &ex.subtitle);
    take(&art->published, &ex.published);
    take(&art->lang, &ex.lang);
    take(&art->text, &ex.text);
    /* a canonical URL only fills in; parse.c puts the raw message's own URL first */
    if (art->url == NULL)
        take(&art->url, &ex.canonical);
    art->authors = ex.authors;
    art->n_authors = ex.n_authors;
    ex.authors = NULL;
    ex.n_authors = 0;
    art->captions = ex.captions;
    art->n_captions = ex.n_captions;
    ex.captions = NULL;
    ex.n_captions = 0;
    nw_extract_release(&ex);
    return 0;
}
