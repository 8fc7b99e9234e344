/* proto.h: the message contract between services (documented field by field in proto/<type>.md).
 *
 * On the wire a message is ZeroMQ multipart: frame 1 the type ("raw", "article", "enriched",
 * "ack", "dead") or a topic, frame 2 a MessagePack map with short string keys and "v", the
 * schema version. Decoders check every type, length and count and return -EPROTO on bad input;
 * unknown keys are kept (nw_extra_t) and re-emitted by the encoders, so a stage passes through
 * what it does not understand. Missing optional keys decode as NULL / 0 / empty.
 *
 * Ownership: every decoded struct owns its strings and arrays (malloc'd); release with the
 * matching nw_<type>_release(), which is NULL-safe and leaves the struct zeroed. Encoders borrow
 * the struct and append to an nw_buf_t owned by the caller. */
#ifndef NW_PROTO_H
#define NW_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "newswire/buf.h"

/* 2 added `av`, the acceptance version, to raw, article and enriched (proto/raw.md). */
#define NW_PROTO_VERSION 2
/* No single message may exceed this; decoders reject larger input with -EPROTO. */
#define NW_PROTO_MAX_MSG (64u * 1024 * 1024)
/* No array or map in a message may hold more elements (pairs for a map) than this. */
#define NW_PROTO_MAX_ITEMS 65536u
/* Containers (arrays, maps) may nest at most this deep; the top-level map is depth 1. */
#define NW_PROTO_MAX_DEPTH 16
/* A message may declare at most this many container elements in total (array elements plus
 * map keys and values). It bounds the memory a decoder spends on object trees (about 24 bytes
 * per element) whatever the input claims. */
#define NW_PROTO_MAX_NODES (1u << 20)

/* Unknown map entries, kept verbatim: `n` key/value pairs, MessagePack-encoded back to back.
 * Owned by the struct that holds it (malloc'd buf). Encoders re-emit the entries after the known
 * keys, except an entry whose key is a known key of that message: the struct field wins.
 * Encoders check the entries' framing and that keys are UTF-8 str; a hand-built extra must also
 * keep keys unique and values within the wire rules, or readers will refuse the message. */
typedef struct nw_extra {
    uint8_t *buf;
    size_t len;
    uint32_t n;
} nw_extra_t;

typedef struct nw_kv {
    char *key;
    char *val;
} nw_kv_t;

/* raw: what fetch got, before any parsing. */
typedef struct nw_raw {
    uint32_t v;
    char *id;           /* required: stable article id (see nw_id.h) */
    char *source;       /* required: "http", "inbox", "zmq", "feed", "web", "replay" */
    char *url;          /* optional: canonical URL when known */
    char *fetched;      /* required: ISO 8601 UTC time fetch accepted it */
    uint64_t av;        /* optional (v2): acceptance version, orders acceptances of one id (0 =
                           none: a writer before v2) */
    char *content_type; /* required: media type without parameters, e.g. "text/plain" */
    char *charset;      /* optional: declared charset, lowercase */
    uint8_t *body;      /* required: the bytes as received (MessagePack bin) */
    size_t body_len;
    nw_kv_t *headers; /* optional: HTTP response headers or file attributes */
    size_t n_headers;
    char *origin;   /* optional: fetch instance that spooled it; acks go back there */
    uint64_t spool; /* optional: that instance's spool sequence number (0 = none) */
    char *name;     /* optional: file name for inbox items, for humans */
    nw_extra_t extra;
} nw_raw_t;

/* A photo caption, separated from the body, with its credit split out. */
typedef struct nw_caption {
    char *text;         /* required: caption without the credit */
    char *credit;       /* optional: the credit exactly as printed, e.g. "PHOTO/Mark
                           Schiefelbein/POOL/AFP" */
    char *photographer; /* optional: "Mark Schiefelbein" */
    char *agency;       /* optional: "AFP", "Reuters" */
    bool pool;          /* the photo was a pool photo */
    char *lang;         /* optional: ISO 639-1 of this caption, set by enrich */
    nw_extra_t extra;   /* unknown keys of this caption map, passed through */
} nw_caption_t;

/* article: parsed, clean structured text. */
typedef struct nw_article {
    uint32_t v;
    char *id;       /* required */
    char *url;      /* optional */
    char *source;   /* optional: copied from raw */
    char *fetched;  /* optional: copied from raw */
    uint64_t av;    /* optional: copied from raw (acceptance version; 0 = none) */
    char *title;    /* optional: headline */
    char *subtitle; /* optional: teaser / standfirst */
    char **authors; /* optional: names only */
    size_t n_authors;
    char *published; /* optional: ISO 8601, date only ("2024-02-06") when that is all we know */
    char *modified;  /* optional: ISO 8601, last update as the page states it */
    char *dateline;  /* optional: "Cairo, Egypt" */
    char *lang;      /* optional: ISO 639-1; declared by the source or detected by enrich */
    char *site_name; /* optional: publication name, e.g. "The Example Times" */
    char *section;   /* optional: the publication's section, e.g. "World" */
    char **tags;     /* optional: the publication's own keywords / tags */
    size_t n_tags;
    char *image; /* optional: absolute URL of the lead image */
    char *text;  /* required (may be ""): paragraphs separated by one blank line */
    nw_caption_t *captions;
    size_t n_captions;
    char *content_type; /* optional: of the raw input */
    char *origin;       /* optional: copied from raw */
    uint64_t spool;     /* optional: copied from raw */
    nw_extra_t extra;
} nw_article_t;

/* An entity of an enriched article: a person, organisation, place or other named thing, under
 * one canonical name per article, with every mention as byte offsets [start, end) into art.text.
 * Places carry their geocoding when the gazetteer knew them. */
typedef struct nw_entity {
    char *type;         /* required: "person", "org", "place" or "other" */
    char *name;         /* required: canonical name in this article, e.g. "Antony Blinken" */
    uint32_t *mentions; /* optional: n_mentions pairs start, end (bytes of art.text) */
    size_t n_mentions;
    /* optional: the same ranges in code points of art.text (what Python's str indexes by);
     * set by enrich beside mentions, n_mentions_cp == n_mentions */
    uint32_t *mentions_cp;
    size_t n_mentions_cp;
    double salience; /* optional: 0..1, how central the entity is to the article */
    char *cc;        /* optional (places): ISO 3166-1 alpha-2 country code, e.g. "EG" */
    char *admin1;    /* optional (places): first-level division, e.g. "Cairo Governorate" */
    double lat;      /* optional (places): WGS84 degrees */
    double lon;
    char *geoid; /* optional (places): stable gazetteer id, e.g. "eg.cairo" or "country.eg" */
    bool focus;  /* the article's focus place (the dateline's) */
    nw_extra_t extra;
} nw_entity_t;

/* A quotation: direct ("...", said X), partial (a quoted fragment inside reported speech) or
 * reported ("according to X"), with its speaker and speech verb when found. */
typedef struct nw_quote {
    char *text;     /* required: the quoted words, without the quotation marks */
    char *speaker;  /* optional: canonical name of the speaker */
    char *verb;     /* optional: "said", "told", "according to", ... */
    char *kind;     /* optional: "direct", "partial" */
    uint32_t start; /* optional: byte offsets [start, end) of text in art.text */
    uint32_t end;
    nw_extra_t extra;
} nw_quote_t;

/* A scored label: a keyword (id = the phrase) or a theme (id = "politics>diplomacy"). */
typedef struct nw_scored {
    char *id; /* required */
    double score;
    nw_extra_t extra;
} nw_scored_t;

/* A quantity mentioned in the text, e.g. "1.5 million people". */
typedef struct nw_amount {
    char *text;     /* required: as written */
    double value;   /* optional: 1500000 */
    char *unit;     /* optional: the counted noun or currency, e.g. "people", "USD" */
    uint32_t start; /* optional: byte offset in art.text */
    nw_extra_t extra;
} nw_amount_t;

/* A date mentioned in the text, resolved against the publication date. */
typedef struct nw_datemention {
    char *text;     /* required: as written, e.g. "Monday" */
    char *date;     /* required: ISO 8601 date, e.g. "2024-02-05" */
    uint32_t start; /* optional: byte offset in art.text */
    nw_extra_t extra;
} nw_datemention_t;

/* enriched: an article plus what enrich added. On the wire it is ONE map: every article key,
 * then the enrichment keys below. */
typedef struct nw_enriched {
    nw_article_t art;   /* art.lang holds the detected article language */
    uint32_t words;     /* word count of title + subtitle + text */
    uint32_t reading_s; /* estimated reading time in seconds */
    char **topics;      /* topics this article is published on, e.g. "lang.en" */
    size_t n_topics;
    uint64_t seq;      /* optional: set by store when published; 0 before */
    uint32_t rev;      /* optional: revision number assigned by store; 0 before */
    char **para_langs; /* optional: language of each paragraph of art.text, in order */
    size_t n_para_langs;
    nw_entity_t *entities; /* optional: by salience, highest first */
    size_t n_entities;
    nw_quote_t *quotes; /* optional: in text order */
    size_t n_quotes;
    nw_scored_t *keywords; /* optional: key phrases, best first */
    size_t n_keywords;
    nw_scored_t *themes; /* optional: IPTC-based themes, best first */
    size_t n_themes;
    double tone_pos; /* optional: share of positive words (per 100 words) */
    double tone_neg; /* optional: share of negative words (per 100 words) */
    double polarity; /* optional: (pos - neg) / (pos + neg), -1..1 */
    nw_amount_t *amounts;
    size_t n_amounts;
    nw_datemention_t *dates;
    size_t n_dates;
    uint64_t simhash; /* optional: 63-bit simhash of word 3-shingles (bit 63 is 0) */
    uint8_t *minhash; /* optional: MinHash signature (see fingerprint.h) */
    size_t minhash_len;
    uint8_t *terms; /* optional: weighted term sketch (see fingerprint.h) */
    size_t terms_len;
    uint8_t *grams; /* optional: character 4-gram sample (see fingerprint.h) */
    size_t grams_len;
    uint8_t *anchors; /* optional: language-independent anchors (see fingerprint.h) */
    size_t anchors_len;
} nw_enriched_t;

/* ack: store -> fetch, after the article's transaction committed. */
typedef struct nw_ack {
    uint32_t v;
    char *id;       /* required */
    char *origin;   /* optional: fetch instance the raw came from */
    uint64_t spool; /* optional: that instance's spool sequence number */
    char *status;   /* required: "stored", "unchanged" (same content again), "dead" */
    uint32_t rev;   /* optional */
    uint64_t seq;   /* optional: publication sequence number */
    nw_extra_t extra;
} nw_ack_t;

/* dead: a dead letter; any stage -> store, which keeps it in the dead-letter table. */
typedef struct nw_dead {
    uint32_t v;
    char *id;       /* optional: article id when one was known */
    char *stage;    /* required: "fetch", "parse", "enrich", "store", "broker" */
    char *reason;   /* required: short machine-readable reason, e.g. "invalid-utf8" */
    char *detail;   /* optional: human-readable explanation */
    char *time;     /* required: ISO 8601 UTC */
    uint8_t *bytes; /* required: the original bytes (bin; may be empty) */
    size_t bytes_len;
    char *content_type; /* optional */
    char *source;       /* optional */
    char *origin;       /* optional: fetch instance, so the spool entry can be acked */
    uint64_t spool;     /* optional */
    nw_extra_t extra;
} nw_dead_t;

/* Encoders: append one MessagePack map to out: "v" first (m->v, or NW_PROTO_VERSION when 0),
 * then the fields in the order of the struct, then extra. NULL strings, zero integers, false and
 * empty arrays are omitted, so equal structs always give equal bytes. Return 0, -EINVAL when a
 * required field is missing, a string is not valid UTF-8 (or contains NUL), a count exceeds
 * NW_PROTO_MAX_ITEMS or extra is malformed, -EMSGSIZE when the message would exceed
 * NW_PROTO_MAX_MSG, or -ENOMEM. On error out is left as it was. Borrow m. */
int nw_raw_encode(const nw_raw_t *m, nw_buf_t *out);
int nw_article_encode(const nw_article_t *m, nw_buf_t *out);
int nw_enriched_encode(const nw_enriched_t *m, nw_buf_t *out);
int nw_ack_encode(const nw_ack_t *m, nw_buf_t *out);
int nw_dead_encode(const nw_dead_t *m, nw_buf_t *out);

/* Decoders: fill *m (zeroed first) from exactly one map in buf[0..len). Return 0, -EPROTO on
 * malformed, mistyped, truncated, oversized or trailing-garbage input, or -ENOMEM. On error *m
 * is released. Borrow buf until return.
 * Rules: keys are str and unique; "v" is a required integer >= 1 (a higher version than ours is
 * accepted, since newer writers only add keys); strings are valid UTF-8 without NUL; body and
 * bytes take bin or str (bytes, never checked); an optional key given as nil counts as absent;
 * unknown keys go to extra (their str values must be valid UTF-8 too). */
int nw_raw_decode(nw_raw_t *m, const uint8_t *buf, size_t len);
int nw_article_decode(nw_article_t *m, const uint8_t *buf, size_t len);
int nw_enriched_decode(nw_enriched_t *m, const uint8_t *buf, size_t len);
int nw_ack_decode(nw_ack_t *m, const uint8_t *buf, size_t len);
int nw_dead_decode(nw_dead_t *m, const uint8_t *buf, size_t len);

void nw_raw_release(nw_raw_t *m);
void nw_article_release(nw_article_t *m);
void nw_enriched_release(nw_enriched_t *m);
void nw_ack_release(nw_ack_t *m);
void nw_dead_release(nw_dead_t *m);

/* Bounded structural check of exactly one MessagePack object in buf[0..len): every length and
 * declared count fits in the bytes that remain, no container exceeds NW_PROTO_MAX_ITEMS, nesting
 * stays within NW_PROTO_MAX_DEPTH, the total stays within NW_PROTO_MAX_NODES, len is at most
 * NW_PROTO_MAX_MSG and no byte follows the object. The decoders run it before msgpack-c builds an
 * object tree; call it yourself before handing outside bytes to msgpack_unpack. Returns 0 or
 * -EPROTO (reason in nw_proto_error()). Borrows buf until return. */
int nw_proto_check(const uint8_t *buf, size_t len);

/* Copy src's unknown entries into dst (dst's own entries are released first), e.g. to pass a
 * raw's unknown keys on to the article made from it. Returns 0 or -ENOMEM (dst left empty). */
int nw_extra_copy(nw_extra_t *dst, const nw_extra_t *src);
/* Free the entries; NULL-safe; leaves *x empty. */
void nw_extra_release(nw_extra_t *x);

/* Human-readable reason for the last -EPROTO returned by a decoder on this thread, e.g.
 * "key \"body\": expected bin or str". Never NULL. */
const char *nw_proto_error(void);

#endif
