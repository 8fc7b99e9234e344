/* entity_filter.h: which capitalised words are common words of their language, so that the
 * enricher (enrich.c) never publishes "person.das" or "org.sprache". Private to the library.
 *
 * The word lists are the Debian dictionaries the system already has (wamerican, wngerman,
 * wspanish, wfrench, witalian, wdutch, wportuguese under /usr/share/dict, and the hunspell
 * dictionaries of the same languages plus Polish and Russian, whose /usr/share/dict list is
 * 60 MB or absent). They are
 * read at start-up, never copied into the repository (their licences differ from ours), and kept
 * as sorted 32-bit hashes of the lowercased words: 4 bytes per word, about 14 MB for all nine
 * (two lists per language), each language read when its first article comes.
 * A missing list is not an error: that language simply has no list (see nw_efilter_has_lang). */
#ifndef NW_ENTITY_FILTER_H
#define NW_ENTITY_FILTER_H

#include <stddef.h>
#include <stdint.h>

typedef struct nw_efilter nw_efilter_t;

/* A filter over the lists under root (NULL: $NEWSWIRE_DICT_ROOT, else "/usr/share"; the files
 * are root/dict/<name> and root/hunspell/<name>.dic). A language's lists are read on the first
 * question about it (so the functions below may read files and allocate; the filter is for one
 * thread); lists that cannot be read leave that language without one. Returns the filter
 * (caller destroys) or NULL on allocation failure. */
nw_efilter_t *nw_efilter_new(const char *root);

/* The same from the hunspell dictionaries (root/hunspell/<ll>_<CC>.dic stems; English still from
 * dict/american-english): an independent list for measuring what nw_efilter_new filters. */
nw_efilter_t *nw_efilter_new_hunspell(const char *root);

/* Free f and NULL *f; NULL-safe. */
void nw_efilter_destroy(nw_efilter_t **f);

/* Read every language's lists now rather than on the first question about it, for a process
 * that will see many languages (the enrich service): reading one costs ~0.1-0.3 s of CPU, which
 * otherwise lands on that language's first article. NULL-safe; unreadable lists are skipped. */
void nw_efilter_load_all(nw_efilter_t *f);

/* 1 when a list for lang (ISO 639-1) was loaded. */
int nw_efilter_has_lang(nw_efilter_t *f, const char *lang);

/* 1 when the word w[0..n) is a common word of lang rather than a name: its case-folded form is a
 * lowercase entry of lang's list ("Das", "Además", "Cela", "Here"), or, in German, where every
 * noun is capitalised, a capitalised entry ("Jahr", "Sprache"); unless the English list (whose
 * capitalised entries are proper names) has it capitalised ("Berlin", "Trump", "Angela").
 * Weekdays and months of the nine languages are common in every language. 0 otherwise, and for a
 * language with no list except for weekdays and months. */
int nw_efilter_common(nw_efilter_t *f, const char *lang, const char *w, size_t n);

/* 1 when w[0..n) is a weekday or month name in en de es fr it nl pl pt ru (case-insensitive). */
int nw_efilter_calendar(const char *w, size_t n);

/* Should a person or organisation called name be published, in an article in lang whose text
 * has the entity's mentions at byte ranges m[2i]..m[2i+1] (nm of them)? 0 for a weekday or
 * month; for a one-word name that is a common word of lang (nw_efilter_common), unless lang is
 * English and two mentions sit inside sentences, each after a lowercase word; and, for a language
 * with neither a tagger model nor a list, for any name whose words are not all proper names of
 * the English list (nothing backs a guess from capitals there). 1 otherwise. */
int nw_efilter_keep(nw_efilter_t *f, const char *lang, const char *name, const char *text,
                    const uint32_t *m, size_t nm);

/* 1 when text reads as prose: fewer than half its words start with a capital letter. Results
 * tables and lists of names do not, and the language detected for them means little. */
int nw_efilter_prose(const char *text);

#endif
