/* lang.c: the language of a text (lang.h). CLD2 (lang_cld2.cc) answers first; the character
 * n-gram model (langid.c) decides where CLD2 has no answer or one it often gets wrong (it calls
 * Nynorsk Bokmål and Zulu Sotho), and overrides an answer when its own margin is wide.
 * nw_enrich_article and nw_enricher_run (enrich.c) call it for the article, each caption and each
 * paragraph. */
#include "lang.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswire/proto.h"

/* CLD2's answer as an ISO 639-1 code, in code (n bytes); returns CLD2's reliability. */
static int
cld2_code(const char *text, size_t len, char *out, size_t n)
{
    int reliable = 0;
    const char *code = "und";

    if (text && len > 0)
        code = nw_lang_cld2(text, len, &reliable);
    /* CLD2 still uses codes ISO 639-1 withdrew or that name the macrolanguage; the contract
     * says ISO 639-1 as used today. Norwegian text is written in Bokmål unless CLD2 says
     * Nynorsk, so "no" becomes "nb"; Chinese is "zh" in either script. */
    static const char *const legacy[][2] = {{"iw", "he"},      {"in", "id"}, {"ji", "yi"},
                                            {"jw", "jv"},      {"no", "nb"}, {"mo", "ro"},
                                            {"zh-Hant", "zh"}, {"fil", "tl"}};
    for (size_t i = 0; i < sizeof(legacy) / sizeof(legacy[0]); i++)
        if (strcmp(code, legacy[i][0]) == 0)
            code = legacy[i][1];
    snprintf(out, n, "%s", code);
    return reliable;
}

/* CLD2 (the Debian build) does not know Nynorsk and calls it Bokmål: when it says "nb" the
 * n-gram model chooses between the two. */
static const char *const LANG_NORWEGIAN[] = {"nb", "nn"};

/* Answers of CLD2 that are mostly another language in disguise: it calls Zulu, Xhosa and
 * Tsonga "st" and Shona "ny"; the model decides then, as when CLD2 has no answer. */
static const char *const LANG_DOUBTFUL[] = {"st", "ny", "rw", "ht", "ky", "su", "gd"};

/* Margin (log-probability per n-gram, nats) above which the model's answer replaces an answer
 * CLD2 itself calls unreliable. Tuned on the lingua sentences (see data/lang/README.md). */
#define LANG_MARGIN_OVERRIDE 0.05
/* ... and above which it replaces even a reliable CLD2 answer (CLD2 calls Esperanto
 * Croatian and Latin English with confidence). */
#define LANG_MARGIN_STRONG 0.2
/* From this many bytes on, a language CLD2 knows and calls reliable is taken without the model.
 * The strong override above exists for sentences (CLD2 calls a Latin line English with
 * confidence); on whole articles it never fired: articles of 1,200 to 4,000 bytes made from the
 * lingua sentences of all 75 languages got the same answer with and without the model, as did
 * the 600 wire articles of bench/corpus.py, while scoring the article with the model was ~11% of
 * enrich's CPU on them. No lingua line is this long, so the lingua figures do not move. (One
 * Esperanto sentence repeated twenty times does make CLD2 sure of "hr"; a page of varied Esperanto
 * prose does not, test_langid.) */
#define LANG_SURE_BYTES 1024

/* CLD2 answers the model re-examines even when CLD2 calls them reliable. */
static int
lang_doubtful(const char *code)
{
    for (size_t i = 0; i < sizeof(LANG_DOUBTFUL) / sizeof(LANG_DOUBTFUL[0]); i++)
        if (strcmp(code, LANG_DOUBTFUL[i]) == 0)
            return 1;
    return strcmp(code, "nb") == 0;
}

int
nw_lang_detect_with(const nw_langid_t *m, const char *text, size_t len, char *out, size_t n)
{
    char code[16], alt[16];
    int reliable = cld2_code(text, len, code, sizeof(code));
    if (m && text && len > 0) {
        int known = 0;
        for (size_t i = 0; i < nw_langid_count(m) && !known; i++)
            known = strcmp(code, nw_langid_code(m, i)) == 0;
        for (size_t i = 0; i < sizeof(LANG_DOUBTFUL) / sizeof(LANG_DOUBTFUL[0]); i++)
            known &= strcmp(code, LANG_DOUBTFUL[i]) != 0;
        if (reliable && known && len >= LANG_SURE_BYTES && !lang_doubtful(code)) {
            /* CLD2 is sure of a long text in a language it knows: see LANG_SURE_BYTES */
        } else if (strcmp(code, "nb") == 0) {
            if (nw_langid_detect(m, text, len, LANG_NORWEGIAN, 2, alt, sizeof(alt)) >= 0)
                snprintf(code, sizeof(code), "%s", alt);
        } else {
            double margin = nw_langid_detect(m, text, len, NULL, 0, alt, sizeof(alt));
            if (margin >= 0 && strcmp(alt, code) != 0 &&
                (!known || margin >= (reliable ? LANG_MARGIN_STRONG : LANG_MARGIN_OVERRIDE))) {
                snprintf(code, sizeof(code), "%s", alt);
                reliable = 0;
            }
        }
    }
    if (n > 0)
        snprintf(out, n, "%s", code);
    return reliable;
}

int
nw_lang_detect(const char *text, size_t len, char *out, size_t n)
{
    return nw_lang_detect_with(NULL, text, len, out, n);
}

int
nw_lang_paragraphs(const nw_langid_t *m, nw_enriched_t *out)
{
    const char *t = out->art.text;
    size_t cap = 0;
    while (t && *t) {
        const char *end = strstr(t, "\n\n");
        size_t n = end ? (size_t)(end - t) : strlen(t);
        size_t k = 0;
        while (k < n && (t[k] == ' ' || t[k] == '\n'))
            k++;
        if (k < n) {
            char code[16];
            /* The article's language was decided by CLD2 and the n-gram model over the whole
             * text. A paragraph CLD2 is sure is in that same language keeps it without asking
             * the model again: scoring every paragraph was ~40% of enrich's CPU on real wire
             * text, and on the bench corpora (bench/corpus.py) the model changed none of those
             * paragraphs. Norwegian and CLD2's doubtful answers still go to the model. */
            int sure = cld2_code(t, n, code, sizeof(code));
            if (!sure || !out->art.lang || strcmp(code, out->art.lang) != 0 || lang_doubtful(code))
                nw_lang_detect_with(m, t, n, code, sizeof(code));
            if (out->n_para_langs == cap) {
                cap = cap ? 2 * cap : 8;
                char **v = realloc(out->para_langs, cap * sizeof(*v));
                if (!v)
                    return -ENOMEM;
                out->para_langs = v;
            }
            /* a short paragraph CLD2 cannot place takes the article's language */
            const char *use = strcmp(code, "und") == 0 && out->art.lang ? out->art.lang : code;
            if (!(out->para_langs[out->n_para_langs] = strdup(use)))
                return -ENOMEM;
            out->n_para_langs++;
        }
        if (!end)
            break;
        t = end + 2;
    }
    return 0;
}
