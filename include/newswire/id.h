/* id.h: article identity (DESIGN.md "Identity"). An article's id is derived from its
 * canonical URL when it has one, else from its normalised text, so the same story fetched
 * twice (with other tracking parameters, another fragment, other whitespace) gets the same id.
 * A changed article at the same URL keeps its id; nw_id_content_hash tells revisions apart.
 *
 * Ids are 32 lowercase hex characters: the XXH3-128 hash (canonical big-endian form) of
 *   "u:" + canonical URL            for URL ids
 *   "t:" + normalised text          for text ids (NFKC, case-folded, whitespace collapsed)
 * Changing either recipe changes every stored id: test_id.c pins known answers. */
#ifndef NW_ID_H
#define NW_ID_H

#include <stddef.h>
#include <stdint.h>

#define NW_ID_LEN 32 /* hex characters; buffers are NW_ID_LEN + 1 */

/* Canonicalise an absolute http(s) URL: scheme and host lowercased, default port (:80 for
 * http, :443 for https) dropped, fragment removed, path normalised (dot segments removed,
 * percent-encoding normalised, empty path becomes "/"), tracking query parameters removed
 * (utm_*, fbclid, gclid, dclid, gbraid, wbraid, msclkid, mc_cid, mc_eid, igshid, _ga, yclid,
 * ref_src, _hsenc, _hsmi, mkt_tok; names compared case-insensitively), the remaining
 * parameters sorted by name then value. Leading and trailing whitespace is ignored.
 * On success *out is a new string the caller frees. Returns 0, -EINVAL for anything that is
 * not an absolute http or https URL with a host (relative, other scheme, malformed), or
 * -ENOMEM. */
int nw_url_canonical(const char *url, char **out);

/* Id of an article from its canonical URL (the output of nw_url_canonical; it is hashed as
 * given). Writes NW_ID_LEN hex characters and a NUL to out. Returns 0 or -ENOMEM. */
int nw_id_from_url(const char *canonical_url, char out[NW_ID_LEN + 1]);

/* Canonicalise url, then nw_id_from_url. Returns 0, -EINVAL (not an http(s) URL) or -ENOMEM. */
int nw_id_for_url(const char *url, char out[NW_ID_LEN + 1]);

/* Id of an article without a URL, from its text: Unicode NFKC, case folding, default-ignorable
 * characters (soft hyphens, zero-width joiners) dropped, every whitespace run (including
 * no-break and other Unicode spaces, line breaks) collapsed to one space, trimmed. Borrows
 * text. Returns 0, -EINVAL when text is not valid UTF-8, or -ENOMEM. */
int nw_id_from_text(const uint8_t *text, size_t len, char out[NW_ID_LEN + 1]);

/* Id of a document as it arrives. Fetch and every CLI command derive ids here, so the same
 * bytes get the same id whichever way they come in. With a url, the id of its canonical form,
 * which goes to *canon (caller frees; NULL otherwise). Without one, nw_id_from_text of the
 * body: read as UTF-8 when it is valid, else converted from charset (an iconv name such as the
 * Content-Type parameter; for type "text/html" without one, the <meta> charset in the first
 * 1024 bytes), else as Latin-1, so every byte string has one stable id. Borrows everything.
 * Returns 0, -EINVAL (url given but not an absolute http(s) URL) or -ENOMEM. */
int nw_id_for_document(const char *url, const uint8_t *body, size_t len, const char *type,
                       const char *charset, char out[NW_ID_LEN + 1], char **canon);

/* Hash of an article's text for revision detection: NFC with whitespace runs collapsed and
 * trimmed but case and compatibility characters kept, so any visible edit changes it while
 * re-wrapping does not. Same 32-hex-character format (over "c:" + text). Returns 0, -EINVAL
 * on invalid UTF-8, or -ENOMEM. */
int nw_id_content_hash(const uint8_t *text, size_t len, char out[NW_ID_LEN + 1]);

#endif
