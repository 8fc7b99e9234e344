/* feed.h: one model for what the world publishes as feeds: RSS 0.9x, RSS 1.0 (RDF), RSS 2.0,
 * Atom 0.3 and 1.0, JSON Feed 1.0 and 1.1. fetch uses it to turn a polled feed into items;
 * `newswire feed FILE|-` prints nw_feed_to_json. A feed is a plain value tree owned by one
 * nw_feed_t; every string is UTF-8 and NUL-terminated, or NULL when the feed lacks it.
 *
 * Dates are normalised to ISO 8601 UTC ("2004-01-01T19:48:21Z") with the instant beside them;
 * the parser reads RFC 822/1123 (named and numeric zones, two-digit years, missing seconds or
 * weekday), RFC 3339 / W3CDTF (reduced precision, fractions, offsets) and common broken forms.
 * A date that cannot be read leaves the string NULL and the instant 0. */
#ifndef NW_FEED_H
#define NW_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "newswire/buf.h"

typedef struct nw_feed_person {
    char *name;  /* display name, the e-mail address split out */
    char *email; /* address without "mailto:" */
    char *uri;
} nw_feed_person_t;

typedef struct nw_feed_enclosure {
    char *url;
    char *type;     /* MIME type */
    int64_t length; /* bytes; -1 when absent or not a number */
} nw_feed_enclosure_t;

typedef struct nw_feed_item {
    char *id; /* guid (RSS), id (Atom, JSON Feed) */
    char *link;
    char *title;
    nw_feed_person_t *authors;
    size_t n_authors;
    char *published; /* ISO 8601 UTC */
    char *updated;
    int64_t published_ts; /* seconds since the epoch; valid when published != NULL */
    int64_t updated_ts;
    char *summary; /* description / summary, as published (often HTML) */
    char *content; /* content:encoded / content / content_html: an HTML string */
    char **categories;
    size_t n_categories;
    nw_feed_enclosure_t *enclosures;
    size_t n_enclosures;
} nw_feed_item_t;

typedef struct nw_feed {
    const char *type;    /* "rss", "atom" or "json" (static string) */
    const char *version; /* "0.91", "0.92", "1.0", "2.0", "0.3", "1.1"... or "" (static) */
    char *title;
    char *link;      /* the site (alternate link), resolved against xml:base / the feed URL */
    char *feed_link; /* the feed's own URL (rel="self", feed_url) */
    char *description;
    char *language;
    char *updated; /* ISO 8601 UTC */
    char *published;
    int64_t updated_ts;
    int64_t published_ts;
    nw_feed_person_t *authors;
    size_t n_authors;
    char **categories;
    size_t n_categories;
    nw_feed_item_t *items;
    size_t n_items;
    bool bozo;         /* not well-formed; read as far as possible (feedparser's meaning) */
    char *bozo_reason; /* the first parser error, set when bozo */
} nw_feed_t;

/* Parse a feed of any supported dialect from buf[0..len). The XML parser never touches the
 * network, never loads external entities or DTDs, keeps libxml2's entity-amplification and
 * depth limits, and caps expanded text, so a billion-laughs feed fails at once. A feed that is
 * not well-formed is read as far as a recovering parse gets, with bozo set. url_or_null is the
 * feed's own URL, the last base for relative links. Work is linear in the input: the items
 * array grows geometrically, and a feed or item keeps at most 256 categories and 256
 * enclosures (duplicates are dropped by a scan, so the cap bounds it). On success *out is a new
 * feed the caller frees with nw_feed_free. Returns 0, -EPROTO when nothing usable could be read
 * (not a feed, entity expansion over the limits, empty input), -EINVAL on bad arguments, or
 * -ENOMEM. Borrows buf until return. */
int nw_feed_parse(const uint8_t *buf, size_t len, const char *url_or_null, nw_feed_t **out);

/* Free a feed and everything in it; NULL-safe, sets *f to NULL. */
void nw_feed_free(nw_feed_t **f);

/* Read a date (RFC 822/1123, RFC 3339, W3CDTF and broken variants) as seconds since the epoch.
 * Returns 0 or -EINVAL when the text is not a date. */
int nw_feed_date_parse(const char *s, int64_t *out);

/* Append f as one line of JSON (UTF-8, no trailing newline). Keys with no value are left out:
 *   {"type": "rss"|"atom"|"json", "version": str, "bozo": bool, "bozo_reason": str,
 *    "title", "link", "feed_link", "description", "language": str,
 *    "updated", "published": "YYYY-MM-DDTHH:MM:SSZ",
 *    "authors": [{"name", "email", "uri"}], "categories": [str],
 *    "items": [{"id", "link", "title": str, "authors": [{"name", "email", "uri"}],
 *               "published", "updated": "YYYY-MM-DDTHH:MM:SSZ", "summary", "content": str,
 *               "categories": [str], "enclosures": [{"url", "type": str, "length": int}]}]}
 * Returns 0 or -ENOMEM (out left as it was). Borrows f. */
int nw_feed_to_json(const nw_feed_t *f, nw_buf_t *out);

#endif
