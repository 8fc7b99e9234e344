/* story_time.h, private to the library (store.c): the time an article refers to, which the store
 * compares when it groups articles into stories (store.c): two reports of one event belong
 * together even when only one of them carries a publication date. */
#ifndef NW_STORY_TIME_H
#define NW_STORY_TIME_H

#include <stdint.h>

#include "newswire/proto.h"

/* The time, in ms since the epoch, that e refers to: its published date when it has one; else
 * the latest full date (with a year) mentioned in its text (e->dates, as enrich resolved them)
 * or in its captions ("on February 6, 2024") that is not after stored_ms plus a day (a date
 * still to come is not when the news happened); else stored_ms. Never fails. */
int64_t nw_story_time(const nw_enriched_t *e, int64_t stored_ms);

#endif
