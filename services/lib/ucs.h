/* ucs.h, private to the library: Unicode general-category predicates over utf8proc categories,
 * so the letter set that word counting, language identification, fingerprinting and the entity
 * filter agree on is written once. */
#ifndef NW_UCS_H
#define NW_UCS_H

#include <stdbool.h>
#include <utf8proc.h>

/* A letter: Lu, Ll, Lt, Lm or Lo (utf8proc numbers them consecutively). Marks (Mn, Mc) are not
 * letters here; callers that let a mark continue a word test for them themselves. */
static inline bool
nw_ucs_is_letter(utf8proc_category_t cat)
{
    return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO;
}

/* An uppercase or titlecase letter (Lu, Lt): what starts a capitalised word. */
static inline bool
nw_ucs_is_upper(utf8proc_category_t cat)
{
    return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LT;
}

#endif
