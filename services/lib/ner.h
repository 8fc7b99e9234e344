/* ner.h, private to the library (enrich tags with it; bench and tests use it too): statistical
 * named-entity tagger for English news text. A tokenizer that keeps byte offsets, hashed sparse
 * features, and a structured averaged perceptron decoded with Viterbi over BIO labels for PER,
 * ORG, LOC and MISC. The enrich stage loads one model at start-up and tags every article with
 * it; bench_ner_train builds the model (ner_train.h) and bench_enrich measures it.
 *
 * A model is read-only once built or loaded, so one model may be shared by any number of callers
 * in the same process. Everything is deterministic: the same model and text give the same spans.
 */
#ifndef NW_NER_H
#define NW_NER_H

#include <stddef.h>
#include <stdint.h>

typedef enum nw_ner_type {
    NW_NER_PER = 0,
    NW_NER_ORG = 1,
    NW_NER_LOC = 2,
    NW_NER_MISC = 3,
} nw_ner_type_t;

#define NW_NER_NTYPES 4
/* Labels: 0 is O; for type t, 1 + 2t is B-t and 2 + 2t is I-t. */
#define NW_NER_NLABELS (1 + 2 * NW_NER_NTYPES)
#define NW_NER_LABEL_O 0
#define NW_NER_LABEL_B(t) (1 + 2 * (t))
#define NW_NER_LABEL_I(t) (2 + 2 * (t))

/* The next chunk of labels lab[*pos..n) as conlleval reads IOB tags: a B-t, or an I-t that does
 * not continue a t chunk, starts one; the I-t labels after it continue it. Sets [*start, *end)
 * to its tokens and *pos to *end, and returns its type; returns -1 when no chunk is left. The
 * tagger's spans and the benches' scoring read chunks through this one walk, so they agree. */
static inline int
nw_ner_chunk_next(const uint8_t *lab, size_t n, size_t *pos, size_t *start, size_t *end)
{
    size_t i = *pos;
    while (i < n && lab[i] == NW_NER_LABEL_O)
        i++;
    if (i >= n) {
        *pos = n;
        return -1;
    }
    int type = (lab[i] - 1) / 2;
    size_t j = i + 1;
    while (j < n && lab[j] == NW_NER_LABEL_I(type))
        j++;
    *start = i;
    *end = *pos = j;
    return type;
}

/* A borrowed word: bytes s[0..len), UTF-8, not necessarily NUL-terminated. */
typedef struct nw_ner_word {
    const char *s;
    size_t len;
} nw_ner_word_t;

/* A token of running text: bytes [start, end) of the input. sent_start is 1 on the first token of
 * each sentence the tokenizer found. */
typedef struct nw_ner_token {
    size_t start;
    size_t end;
    int sent_start;
} nw_ner_token_t;

/* An entity found in text: bytes [start, end) of the input, and a NUL-terminated copy of them. */
typedef struct nw_ner_span {
    nw_ner_type_t type;
    size_t start;
    size_t end;
    char *text;
} nw_ner_span_t;

/* A growable list of spans; zero-initialise, release with nw_ner_spans_release. */
typedef struct nw_ner_spans {
    nw_ner_span_t *v;
    size_t n;
    size_t cap;
} nw_ner_spans_t;

typedef struct nw_ner nw_ner_t;
/* "PER", "ORG", "LOC", "MISC"; "?" for anything else. */
const char *nw_ner_type_name(nw_ner_type_t type);

/* Parse a CoNLL label ("O", "B-PER", "I-LOC", ...) of n bytes. Returns the label index
 * (0 .. NW_NER_NLABELS-1) or -EINVAL. */
int nw_ner_label_parse(const char *s, size_t n);

/* Split UTF-8 running text into tokens the way CoNLL-2003 is tokenized: punctuation apart,
 * "U.S." and "Mr." whole, "'s" and "n't" apart, hyphenated words whole, and sentences split at
 * line breaks and at final punctuation. Invalid UTF-8 bytes are kept inside words, never
 * rejected. On success *out (caller frees; NULL when *n is 0) holds *n tokens in text order.
 * Borrows text until return. Returns 0 or -ENOMEM. */
int nw_ner_tokenize(const char *text, size_t len, nw_ner_token_t **out, size_t *n);

/* Load a model file written by nw_ner_save. Returns 0 and the model in *out (caller destroys),
 * -errno when the file cannot be read, or -EPROTO when it is not a valid model. */
int nw_ner_load(const char *path, nw_ner_t **out);

/* Load a model from a buffer in the file format (borrowed until return). Returns 0, -ENOMEM or
 * -EPROTO for anything malformed (bad magic, sizes, checksum). */
int nw_ner_load_buf(const uint8_t *buf, size_t len, nw_ner_t **out);

/* Write the model to path (replaced atomically via a temporary file). Returns 0 or -errno. */
int nw_ner_save(const nw_ner_t *m, const char *path);

/* Serialise the model into a new buffer (*out, caller frees; *len bytes). Returns 0 or -ENOMEM. */
int nw_ner_serialize(const nw_ner_t *m, uint8_t **out, size_t *len);

/* Number of (feature, label) weights in the model, for reports. */
size_t nw_ner_weight_count(const nw_ner_t *m);

/* Free the model and NULL *m; NULL-safe. */
void nw_ner_destroy(nw_ner_t **m);

/* Tag one sentence of n words: labels[i] receives the label of words[i]. The labels always form
 * valid BIO (I-t only after B-t or I-t). Borrows words until return. Returns 0 or -ENOMEM. */
int nw_ner_tag_words(const nw_ner_t *m, const nw_ner_word_t *words, size_t n, uint8_t *labels);

/* Label consistency over one document's words (every sentence of an article, in order, with the
 * labels nw_ner_tag_words gave them): a capitalised word left O, with O on both sides, that is
 * written exactly as the surname (last word) of a person of two words or more named elsewhere
 * in the document becomes a one-word PER ("Emde" after "Peter Emde"). A tagger that sees one
 * sentence cannot tell such a surname from a capitalised noun. Labels stay valid BIO. */
void nw_ner_doc_pass(const nw_ner_word_t *words, size_t n, uint8_t *labels);

/* Tokenize and tag running text as one document (sentence by sentence, then nw_ner_doc_pass),
 * appending one span per entity to out in text order (out keeps what it held). Borrows text
 * until return. Returns 0 or -ENOMEM (out then holds what was appended before the failure, all
 * valid). */
int nw_ner_tag(const nw_ner_t *m, const char *text, size_t len, nw_ner_spans_t *out);

/* The model for the sentence that starts at byte offset of the text (offsets only grow from one
 * call to the next). Never NULL. */
typedef const nw_ner_t *(*nw_ner_pick_fn)(void *ctx, size_t offset);

/* nw_ner_tag with a model chosen per sentence by pick (ctx is passed through): how paragraphs
 * in different languages of one article are tagged as one document (ner_langs.h). */
int nw_ner_tag_with(nw_ner_pick_fn pick, void *ctx, const char *text, size_t len,
                    nw_ner_spans_t *out);

/* Free the spans' texts and array and zero *s; NULL-safe. */
void nw_ner_spans_release(nw_ner_spans_t *s);

#endif
