/* coref.h: which short forms name the same thing as a full name within one article, for the
 * enricher's entity merging (enrich.c). Private to the library. */
#ifndef NW_COREF_H
#define NW_COREF_H

/* 1 when abbr ("UN", "U.N.", "NATO", "EU") is the initials of the capitalised words of name
 * ("United Nations", "North Atlantic Treaty Organization", "European Union"); function words
 * ("of", "the", "and", "for", "de", "des", "der") may be skipped or not. abbr must be 2-8
 * capital letters, dots between them allowed. 0 otherwise. */
int nw_coref_acronym(const char *abbr, const char *name);

#endif
