/* html.h: article fields from an HTML page, on libxml2's forgiving HTML parser (no network, no
 * external entities). This is the base the full extractor will grow from: title, language,
 * date, authors, <p> paragraphs outside page furniture and <figcaption> captions. */
#ifndef NW_HTML_H
#define NW_HTML_H

#include <stddef.h>

#include "newswire/proto.h"

/* Parse the UTF-8 HTML document html[0..len) into *art: title (og:title, else <title>, else the
 * first <h1>), lang (primary subtag of <html lang>, when it is two letters), published
 * (article:published_time / datePublished meta, else the first <time datetime>, kept only when
 * it starts with a valid YYYY-MM-DD date), authors (meta author / article:author, split at
 * "," ";" " and " "&"), text (the <p> elements outside nav, header, footer, aside, form and
 * script-like elements, cleaned as wire lines and joined by "\n\n"; "" when there are none) and
 * captions (each <figcaption>, with its photo credit split off when it carries one).
 * Those fields must be empty on entry; no other field is touched. Borrows html until return.
 * Returns 0, -EPROTO when libxml2 cannot build a document at all, or -ENOMEM; on error *art is
 * left as it was. */
int nw_html_parse(const char *html, size_t len, nw_article_t *art);

#endif
