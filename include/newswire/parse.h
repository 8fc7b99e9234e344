/* parse.h: raw -> article. The same code runs in newswire-parse, `newswire parse --jsonl`
 * and `newswire extract`.
 *
 * Input by content type: text/plain is wire copy as in the seeds (date prefix, dateline,
 * teaser and headline, captions with credits, paragraphs); text/html goes through libxml2;
 * application/json is an article given as fields ({"url","title","text","html",...}). */
#ifndef NW_PARSE_H
#define NW_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "newswire/proto.h"

/* Parse one raw message into *out (zeroed first; caller releases with nw_article_release).
 * Copies id, url, source, fetched, origin, spool and content_type from raw, and passes raw's
 * unknown keys through. On bad input returns -EPROTO (or -ENOMEM), sets *reason to a static
 * machine-readable reason ("invalid-utf8", "unsupported-content-type", "empty", "bad-json",
 * "bad-html", "no-text") and writes a human-readable explanation to detail.
 * Also: "bad-charset" (text/JSON only: raw's charset is unknown to iconv, or the bytes are not
 * valid in it) and
 * "out-of-memory" (with -ENOMEM). On error *out is released (all zero). Borrows raw.
 * The content type is raw's (parameters ignored); an empty one or application/octet-stream is
 * sniffed with nw_parse_sniff. Text and JSON must be UTF-8 unless raw->charset names another
 * charset (converted with iconv; latin-1 and ASCII labels are read as windows-1252, like
 * browsers do). HTML never fails on its charset: it is decoded from, first match wins, a BOM
 * (UTF-8, UTF-16LE/BE), raw->charset (the HTTP header), a <meta charset> / http-equiv in the
 * head (passed over when it names a legacy charset but the page is valid UTF-8 beyond ASCII),
 * else UTF-8 when the bytes are valid UTF-8 and windows-1252 otherwise; labels iconv does not
 * know are passed over. Bytes not valid in that charset become U+FFFD and are counted in the
 * process-wide counter nw_parse_replaced_total (metrics.h); NUL bytes still fail.
 * JSON input: {"url","title","subtitle","authors":[..],"published","dateline","lang"} plus one
 * of "text" (paragraphs separated by blank lines), "html" (parsed as HTML) or "body" (wire
 * text); fields given in the JSON win over what the html/body yields. */
int nw_parse_raw(const nw_raw_t *raw, nw_article_t *out, const char **reason, char *detail,
                 size_t detail_len);

/* Guess the media type of a document from its file name (may be NULL) and its bytes:
 * ".txt" -> "text/plain", ".html"/".htm" -> "text/html", ".json" -> "application/json",
 * otherwise by content. Returns NULL for binary data (NUL bytes or not text). Static string.
 * By content (first 64 KiB): NUL bytes, many control bytes, or invalid UTF-8 with control
 * bytes (so not a legacy 8-bit charset either) -> NULL; a leading "<" (after a BOM and
 * whitespace) opening html, head, body, p, div, article, a doctype or a comment -> "text/html",
 * "<?xml" -> "application/xml" (unsupported) unless it holds <html; "{" -> "application/json";
 * anything else -> "text/plain". */
const char *nw_parse_sniff(const char *name, const uint8_t *body, size_t len);

/* True for the content types nw_parse_raw accepts. */
int nw_parse_supported(const char *content_type);

#endif
