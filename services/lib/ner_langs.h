/* ner_langs.h, private to the library (the enricher): the named-entity models of every language
 * newswire tags, and the choice among them by the detected language of each paragraph. English
 * is the default model (data/ner/model.bin); de es fr it nl pl pt ru have their own
 * (data/ner/<lang>.bin, trained by bench_ner_train as data/ner/README.md records). A language
 * without a model of its own is tagged by the default model, as every language was before the
 * others had models.
 *
 * The set is read-only once loaded, like each model in it (see ner.h).
 */
#ifndef NW_NER_LANGS_H
#define NW_NER_LANGS_H

#include "ner.h"

#include <stddef.h>

typedef struct nw_ner_langs nw_ner_langs_t;

/* Load default_model (the English model) and, for each language with a model of its own, the
 * file dir/ner/<lang>.bin when it exists (a reference directory built before a language had a
 * model simply lacks it). On success *out is the set (caller destroys). On failure returns
 * -errno (the default model unreadable), -EPROTO (a file that is not a valid model) or -ENOMEM,
 * and copies the path that failed into failed (n bytes, may be NULL). */
int nw_ner_langs_load(const char *dir, const char *default_model, nw_ner_langs_t **out,
                      char *failed, size_t n);

/* The model that tags lang ("de", "pt-BR", "und", NULL...): its own when loaded, else the
 * default. Never NULL. Borrowed from the set. */
const nw_ner_t *nw_ner_langs_model(const nw_ner_langs_t *s, const char *lang);

/* 1 when lang has a model of its own in the set (the default model counts for "en"). */
int nw_ner_langs_has(const nw_ner_langs_t *s, const char *lang);

/* How many languages beside the default have their own model loaded. */
size_t nw_ner_langs_count(const nw_ner_langs_t *s);

/* Tag running text whose paragraphs (split at "\n\n", those of only spaces and newlines not
 * counted, as enrich counts them for para_langs) have the languages para_langs[0..n_para):
 * each paragraph goes to its language's model. Without para_langs, or past its end, the text
 * takes lang (the article's language). The text is one document for nw_ner_doc_pass, whatever
 * its paragraphs' languages (see nw_ner_tag_with). Spans are appended to out in text order
 * with offsets into text. Borrows everything until return. Returns 0 or -ENOMEM (out then
 * holds what was appended before the failure, all valid). */
int nw_ner_langs_tag(const nw_ner_langs_t *s, const char *text, size_t len, char *const *para_langs,
                     size_t n_para, const char *lang, nw_ner_spans_t *out);

/* Free every model and the set, NULL *s; NULL-safe. */
void nw_ner_langs_destroy(nw_ner_langs_t **s);

#endif
