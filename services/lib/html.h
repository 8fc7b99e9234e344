/* html.h, private to the library (services call parse.h): article fields from an HTML page, on
 * dom.h's HTML tree builder (no network, no external entities). A thin mapping of extract.h's
 * result onto nw_article_t; see extract.h for how the main text and the metadata are found. */
#ifndef NW_HTML_H
#define NW_HTML_H

#include <stddef.h>

#include "newswire/proto.h"

/* Parse the UTF-8 HTML document html[0..len), found at url (may be NULL; it resolves relative
 * links and gives a date when /YYYY/MM/DD/ appears in it), into *art: title (JSON-LD headline,
 * og:title, <title> without the site name, first <h1>), subtitle (description), authors (names
 * only), published and modified (ISO 8601, never more than a day in the future), lang (two-letter
 * primary subtag), site_name, section, tags, image (absolute URL), url (the page's canonical URL,
 * only when art->url is NULL), text (the article's paragraphs,
 * headings, list items, quotes and table rows, boilerplate left out, joined by "\n\n"; "" when
 * none are found), captions (each <figcaption> inside the article, photo credit split off) and
 * dateline (a wire dateline opening the first paragraph, "CAIRO (Reuters) -", removed from the
 * text). Those fields must be empty on entry; no other field is touched. Borrows html until return.
 * Returns 0, -EPROTO when the input is empty or blank, or -ENOMEM; on error *art is
 * left as it was. */
int nw_html_parse(const char *html, size_t len, const char *url, nw_article_t *art);

#endif
