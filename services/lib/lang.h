/* lang.h, private to the library: language detection, one module in three files.
 * - lang.c: the language of a text from CLD2 and the n-gram model together (nw_lang_detect_with),
 *   and of each paragraph of an article (nw_lang_paragraphs).
 * - lang_cld2.cc: the extern "C" shim over CLD2 (Compact Language Detector 2), whose API is C++.
 * - langid.c: a character n-gram language identifier, the complement of CLD2. Naive Bayes over
 * lowercased 1- to 5-grams of letters with word boundaries, the candidates first cut to the
 * languages written in the text's dominant script. The model file (data/lang/model.bin, made by
 * bench_lang_train from Debian package text; format at the top of langid.c) is loaded once and
 * read-only afterwards, so one model serves any number of threads. */
#ifndef NW_LANG_H
#define NW_LANG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nw_enriched nw_enriched_t; /* proto.h */

/* ---- CLD2 and the model together (lang.c) -----------------------------------------------------
 */

/* Detect the language of UTF-8 text: writes an ISO 639-1 code (or "und") to out (>= 8 bytes;
 * longer codes are truncated). Empty or NULL text, or text CLD2 cannot place, gives "und".
 * Invalid UTF-8 is judged on its valid prefix. Borrows text until return.
 * Returns 1 when CLD2 judged the result reliable, else 0. */
int nw_lang_detect(const char *text, size_t len, char *out, size_t n);

typedef struct nw_langid nw_langid_t;

/* nw_lang_detect with the n-gram model m (below; NULL: CLD2 alone) beside CLD2: the model
 * answers when CLD2 has no answer or names a language the model lacks, chooses within a group
 * CLD2 confuses (bs/hr/sr, ms/id, nb/nn/da, st/tn, mk/bg, cs/sk), and overrides an unreliable
 * CLD2 answer when its own margin is wide. Returns 1 when CLD2 judged its (kept) answer
 * reliable, else 0. */
int nw_lang_detect_with(const nw_langid_t *m, const char *text, size_t len, char *out, size_t n);

/* The language of each paragraph ("\n\n"-separated, blank ones skipped) of out->art.text into
 * out->para_langs, with the model m; a paragraph too short to place takes out->art.lang.
 * 0 or -ENOMEM. */
int nw_lang_paragraphs(const nw_langid_t *m, nw_enriched_t *out);

/* ---- CLD2 (lang_cld2.cc) ----------------------------------------------------------------------
 */

/* CLD2's code for the most likely language of text (a static string, e.g. "en", "zh-Hant",
 * "und" when unknown) and its reliability in *reliable. Invalid UTF-8 is judged on its valid
 * prefix. */
const char *nw_lang_cld2(const char *text, size_t len, int *reliable);

/* ---- the n-gram model (langid.c) ---------------------------------------------------------------
 */

/* Highest n-gram order the model counts. */
#define NW_LANGID_ORDER 5

/* Load a model file. Returns 0 and *out (caller destroys), -errno when the file cannot be
 * read, or -EPROTO when it is not a valid model (truncated, garbage, bad checksum). */
int nw_langid_load(const char *path, nw_langid_t **out);

/* Free the model and NULL *m; NULL-safe. */
void nw_langid_destroy(nw_langid_t **m);

/* Number of languages and the code of language i (ISO 639-1), NULL when i is out of range. */
size_t nw_langid_count(const nw_langid_t *m);
const char *nw_langid_code(const nw_langid_t *m, size_t i);

/* The most likely language of UTF-8 text among all languages of the model, or among the
 * n_only codes of only when only is not NULL (codes the model lacks are ignored). Writes the
 * code to out (n bytes, "und" when the text holds no letter or no candidate is left) and
 * returns the margin: the log-probability per n-gram by which the best beats the second
 * (NW_LANGID_ONLY when the script left a single candidate, -1 for "und"). Invalid UTF-8 bytes
 * count as boundaries. */
#define NW_LANGID_ONLY 100.0
double nw_langid_detect(const nw_langid_t *m, const char *text, size_t len, const char *const *only,
                        size_t n_only, char *out, size_t n);

/* The scripts the identifier tells apart (nw_langid_script); a language has one. */
enum {
    NW_SCRIPT_NONE,
    NW_SCRIPT_LATIN,
    NW_SCRIPT_CYRILLIC,
    NW_SCRIPT_GREEK,
    NW_SCRIPT_ARABIC,
    NW_SCRIPT_HEBREW,
    NW_SCRIPT_ARMENIAN,
    NW_SCRIPT_GEORGIAN,
    NW_SCRIPT_DEVANAGARI,
    NW_SCRIPT_BENGALI,
    NW_SCRIPT_GURMUKHI,
    NW_SCRIPT_GUJARATI,
    NW_SCRIPT_TAMIL,
    NW_SCRIPT_TELUGU,
    NW_SCRIPT_THAI,
    NW_SCRIPT_HANGUL,
    NW_SCRIPT_CJK, /* Han and kana together: Chinese and Japanese share Han */
    NW_SCRIPT_OTHER,
    NW_SCRIPT_COUNT
};

/* The script of a code point (NW_SCRIPT_NONE for anything but a letter). */
int nw_langid_script(int32_t cp);

/* The dominant script of text (most letters), NW_SCRIPT_NONE without letters. */
int nw_langid_text_script(const char *text, size_t len);

/* Calls fn(hash, order, ctx) for every n-gram (orders 1..NW_LANGID_ORDER) of text, as the model
 * counts them: letters lowercased, marks kept, anything else a word boundary; an n-gram never
 * spans two words but may include the boundary on either side. Used by the trainer and the
 * detector, so both see the same features. Returns the number of n-grams. */
size_t nw_langid_grams(const char *text, size_t len, void (*fn)(uint32_t, int, void *), void *ctx);

/* The hash of the n-gram cp[0..n) (lowercased code points, ' ' for a boundary), as
 * nw_langid_grams computes it. */
uint32_t nw_langid_hash(const int32_t *cp, int n);

#ifdef __cplusplus
}
#endif

#endif /* NW_LANG_H */
