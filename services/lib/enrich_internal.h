/* enrich_internal.h: what the parts of the enricher share, private to services/lib. enrich.c
 * holds the base layer, loading and the run that calls each part in turn: entities
 * (enrich_entities.c), quotes (enrich_quotes.c), tone and themes (enrich_lexicons.c), keywords
 * (enrich_keywords.c), dates (enrich_dates.c) and amounts (enrich_amounts.c). Each part reads
 * the article in out->art and what the parts before it added to out. */
#ifndef NW_ENRICH_INTERNAL_H
#define NW_ENRICH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "newswire/enrich.h"

#include "entity_filter.h"
#include "gazetteer.h"
#include "lang.h"
#include "ner_langs.h"

/* A lexicon entry: a lowercase word, or a prefix when it ended in '*'. val is the polarity
 * (tone) or the theme index (themes). */
typedef struct lex {
    const char *w;
    size_t n;
    int prefix;
    int val;
} lex_t;

typedef struct lexicon {
    uint8_t *buf;
    lex_t *v; /* sorted by word, then length, then value */
    size_t n;
    /* Open-addressing index over v by (word, length): slot = index of the first entry of that
     * key + 1, 0 = empty; mask + 1 slots. A word is looked up at every length down to 3 (for
     * prefix entries), which as binary searches was ~8% of enrich's CPU. */
    uint32_t *idx;
    uint32_t mask;
    uint64_t prefix_lens; /* bit k: some prefix entry has length k (k < 64) */
} lexicon_t;

typedef struct theme {
    const char *id;  /* "politics>diplomacy" */
    const char *top; /* "politics" */
} theme_t;

struct nw_enricher {
    nw_ner_langs_t *ner; /* data/ner/: model.bin (English, the default) and <lang>.bin */
    nw_langid_t *lang;   /* data/lang/model.bin */
    nw_gaz_t *gaz;
    lexicon_t tone;
    lexicon_t cues;
    theme_t *themes;
    size_t n_themes;
    char **theme_tops; /* distinct top-level ids, owned */
    size_t n_tops;
    nw_efilter_t *words; /* common words per language (entity_filter.h) */
};

/* ---- small word helpers shared by the parts -------------------------------------------------- */

static inline int
in_list(const char *const *list, size_t n, const char *w, size_t len)
{
    /* Stops at the first differing byte: no strlen of every entry for every word. */
    for (size_t i = 0; i < n; i++)
        if (list[i][0] == w[0] && strncmp(list[i], w, len) == 0 && list[i][len] == 0)
            return 1;
    return 0;
}
#define IN(list, w, n) in_list(list, sizeof(list) / sizeof(list[0]), w, n)

static inline int
is_word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (unsigned char)c >= 0x80 || c == '-' || c == '\'';
}

typedef struct word {
    const char *s;
    size_t n;
} word_t;

/* Split s[0..n) at spaces into at most max words; returns the count. */
static inline size_t
split_words(const char *s, size_t n, word_t *w, size_t max)
{
    size_t k = 0, i = 0;
    while (i < n && k < max) {
        while (i < n && s[i] == ' ')
            i++;
        size_t j = i;
        while (j < n && s[j] != ' ')
            j++;
        if (j > i)
            w[k++] = (word_t){s + i, j - i};
        i = j;
    }
    return k;
}

/* Does t[i] end a sentence (a newline, or '.', '!', '?' before a space, newline, '/' or the end)?
 */
static inline int
is_end(const char *t, size_t i, size_t len)
{
    if (t[i] == '\n')
        return 1;
    if (t[i] != '.' && t[i] != '!' && t[i] != '?')
        return 0;
    return i + 1 >= len || t[i + 1] == ' ' || t[i + 1] == '\n' || t[i + 1] == '/';
}

/* Index of s[0..len) in list[0..n), -1 if absent. */
static inline int
word_index(const char *const *list, size_t n, const char *s, size_t len)
{
    for (size_t i = 0; i < n; i++) {
        if (len > 0 && list[i][0] != s[0])
            continue; /* the first byte rules out most entries without a strlen */
        if (strlen(list[i]) == len && !strncmp(list[i], s, len))
            return (int)i;
    }
    return -1;
}

/* Stopwords (enrich_keywords.c): never a keyword, nor the unit of an amount. */
extern const char *const nw_enrich_stopwords[];
extern const size_t nw_enrich_n_stopwords;
/* English month names, January first (enrich_dates.c). */
extern const char *const nw_enrich_months[12];

/* ---- enrich.c -------------------------------------------------------------------------------- */

/* nw_enrich_article with the language model m (NULL: CLD2 alone). */
int nw_enrich_base(const nw_langid_t *m, nw_article_t *art, nw_enriched_t *out);
/* Reads dir/file (at most 16 MiB) into *buf (caller frees); on failure sets nw_enrich_error(). */
int nw_enrich_read_data(const char *dir, const char *file, uint8_t **buf, size_t *len);

/* ---- slug.c --------------------------------------------------------------------------------- */

/* Open the transliterator nw_enrich_slug opens on its first non-ASCII name: ~27 ms of CPU
 * (ICU builds its registry of transliterators), paid by a worker's first article otherwise. */
void nw_enrich_slug_preload(void);

/* ---- enrich_lexicons.c: tone and theme lexicons ---------------------------------------------- */

/* Loads tone/lexicon.tsv and themes/themes.tsv from dir into e. */
int nw_enrich_lexicons_load(nw_enricher_t *e, const char *dir);
/* Calls fn(val) for every entry matching the lowercase word w[0..n). */
void nw_enrich_lex_match(const lexicon_t *lx, const char *w, size_t n, void (*fn)(int, void *),
                         void *arg);
/* Calls fn for each word of s (letters, digits, inner hyphens and apostrophes), lowercased in
 * ASCII into a small buffer; off is the word's byte offset in s. */
void nw_enrich_each_word(const char *s, void (*fn)(const char *w, size_t n, size_t off, void *),
                         void *arg);
/* Appends (id[0..idlen), score rounded to 3 decimals) to *v; -ENOMEM. */
int nw_enrich_add_scored(nw_scored_t **v, size_t *n, const char *id, size_t idlen, double score);
/* Tone per 100 words, and themes: cue hits per 100 words, title words three times. */
int nw_enrich_tone_themes(const nw_enricher_t *e, const nw_article_t *art, nw_enriched_t *out);

/* ---- the other parts: each fills its fields of out; 0 or -ENOMEM ----------------------------- */

/* enrich_entities.c: people, organisations and places from the NER tagger, cleaned, merged and
 * geocoded; needs out->para_langs. */
int nw_enrich_entities(const nw_enricher_t *e, nw_enriched_t *out);
/* enrich_quotes.c: quotations attributed to the entities. */
int nw_enrich_quotes(nw_enriched_t *out);
/* enrich_keywords.c: the ten best key phrases. */
int nw_enrich_keywords(const nw_article_t *art, nw_enriched_t *out);
/* enrich_dates.c: dates in the text, resolved against the publication date pub. */
int nw_enrich_dates(nw_enriched_t *out, const char *pub);
/* enrich_amounts.c: money and quantities; after nw_enrich_dates (a date is no amount). */
int nw_enrich_amounts(nw_enriched_t *out);

#endif /* NW_ENRICH_INTERNAL_H */
