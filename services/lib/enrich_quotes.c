/* enrich_quotes.c: quotations and who said them. A quoted passage is attributed by rules over
 * the entities already found: a speech verb ("said", "according to") next to a name, a pronoun
 * standing for the last person named, else the nearest person in the sentence. */
#include "enrich_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswire/util.h"

static const char *const SPEECH_VERBS[] = {
    "said",     "says",      "say",       "added",     "adds",     "told",         "tells",
    "warned",   "warns",     "stated",    "explained", "insisted", "noted",        "wrote",
    "declared", "argued",    "announced", "asked",     "urged",    "stressed",     "continued",
    "replied",  "responded", "recalled",  "vowed",     "admitted", "acknowledged", "tweeted",
};

/* Length of a quotation mark at text[i] (ASCII '"', U+201C, U+201D), 0 if none; *open says
 * whether it can open (ASCII marks can do both). */
static size_t
quote_mark(const char *t, size_t i, size_t len, int *open, int *close)
{
    *open = *close = 0;
    if (t[i] == '"') {
        *open = *close = 1;
        return 1;
    }
    if (i + 2 < len && (unsigned char)t[i] == 0xE2 && (unsigned char)t[i + 1] == 0x80) {
        if ((unsigned char)t[i + 2] == 0x9C) {
            *open = 1;
            return 3;
        }
        if ((unsigned char)t[i + 2] == 0x9D) {
            *close = 1;
            return 3;
        }
    }
    return 0;
}

/* The entity with a mention inside [a, b) nearest to p; people win over other types, so in
 * "Israeli Defense Minister Yoav Gallant said" the speaker is Gallant, not Israel. -1 if none. */
static int
speaker_near(const nw_enriched_t *out, size_t a, size_t b, size_t p)
{
    int best = -1, best_person = 0;
    size_t best_d = SIZE_MAX;
    for (size_t i = 0; i < out->n_entities; i++) {
        const nw_entity_t *x = &out->entities[i];
        int person = strcmp(x->type, "person") == 0;
        if (x->geoid && !strncmp(x->geoid, "country.", 8) && !person)
            continue; /* "Israeli forces said": a nationality, not a speaker */
        for (size_t k = 0; k < x->n_mentions; k++) {
            size_t s = x->mentions[2 * k], e = x->mentions[2 * k + 1];
            if (s < a || e > b)
                continue;
            size_t d = e <= p ? p - e : s >= p ? s - p : 0;
            if ((person && !best_person) || (person == best_person && d < best_d)) {
                best = (int)i;
                best_person = person;
                best_d = d;
            }
        }
    }
    return best;
}

/* The last person mentioned before p: what "he" or "she" refers to in wire copy. */
static int
last_person_before(const nw_enriched_t *out, size_t p)
{
    int best = -1;
    size_t best_s = 0;
    for (size_t i = 0; i < out->n_entities; i++) {
        const nw_entity_t *x = &out->entities[i];
        if (strcmp(x->type, "person") != 0)
            continue;
        for (size_t k = 0; k < x->n_mentions; k++) {
            size_t s = x->mentions[2 * k];
            if (s < p && (best < 0 || s > best_s)) {
                best = (int)i;
                best_s = s;
            }
        }
    }
    return best;
}

/* Find a speech verb (or "according to") in t[a, b); the last one when last is set. Returns its
 * offset or SIZE_MAX, and the verb in *verb (static). */
static size_t
find_verb(const char *t, size_t a, size_t b, int last, const char **verb, size_t *vlen)
{
    size_t found = SIZE_MAX;
    for (size_t i = a; i < b; i++) {
        if (i > a && is_word_char(t[i - 1]))
            continue;
        size_t j = i;
        while (j < b && is_word_char(t[j]))
            j++;
        if (j == i)
            continue;
        const char *hit = NULL;
        size_t hl = j - i;
        if (hl == 9 && !memcmp(t + i, "according", 9) && j + 3 <= b && !memcmp(t + j, " to", 3)) {
            hit = "according to";
            hl = 12;
        } else {
            for (size_t k = 0; k < sizeof(SPEECH_VERBS) / sizeof(SPEECH_VERBS[0]); k++)
                if (strlen(SPEECH_VERBS[k]) == hl && !memcmp(SPEECH_VERBS[k], t + i, hl))
                    hit = SPEECH_VERBS[k];
        }
        if (hit) {
            found = i;
            *verb = hit;
            *vlen = hl;
            if (!last)
                return found;
        }
        i = j;
    }
    return found;
}

static int
pronoun_at(const char *t, size_t a, size_t b)
{
    static const char *const P[] = {"he", "she", "He", "She"};
    for (size_t k = 0; k < 4; k++) {
        size_t n = strlen(P[k]);
        if (b - a == n && !memcmp(t + a, P[k], n))
            return 1;
    }
    return 0;
}

/* The word just before or after offset p within [a, b): is it a pronoun? */
static int
pronoun_next_to(const char *t, size_t a, size_t b, size_t p, size_t vlen)
{
    size_t e = p;
    while (e > a && t[e - 1] == ' ')
        e--;
    size_t s = e;
    while (s > a && is_word_char(t[s - 1]))
        s--;
    if (s < e && pronoun_at(t, s, e))
        return 1;
    s = p + vlen;
    while (s < b && t[s] == ' ')
        s++;
    e = s;
    while (e < b && is_word_char(t[e]))
        e++;
    return s < e && pronoun_at(t, s, e);
}

static int
add_quote(nw_enriched_t *out, const char *t, size_t s, size_t e, const char *speaker,
          const char *verb, const char *kind)
{
    nw_quote_t *v = realloc(out->quotes, (out->n_quotes + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    out->quotes = v;
    nw_quote_t *q = &v[out->n_quotes++];
    memset(q, 0, sizeof(*q));
    q->text = nw_strndup(t + s, e - s);
    q->speaker = speaker ? strdup(speaker) : NULL;
    q->verb = strdup(verb);
    q->kind = strdup(kind);
    q->start = (uint32_t)s;
    q->end = (uint32_t)e;
    return q->text && q->verb && q->kind && (!speaker || q->speaker) ? 0 : -ENOMEM;
}

int
nw_enrich_quotes(nw_enriched_t *out)
{
    const char *t = out->art.text;
    size_t len = t ? strlen(t) : 0;

    for (size_t i = 0; i < len; i++) {
        int op, cl;
        size_t ml = quote_mark(t, i, len, &op, &cl);
        if (!ml || !op)
            continue;
        size_t qs = i + ml, j = qs, qe = 0, ce = 0;
        for (; j < len; j++) {
            if (t[j] == '\n' && j + 1 < len && t[j + 1] == '\n')
                break; /* quotations do not span paragraphs here */
            size_t k = quote_mark(t, j, len, &op, &cl);
            if (k && cl) {
                qe = j;
                ce = j + k;
                break;
            }
        }
        if (!ce) {
            i = j;
            continue;
        }
        i = ce - 1;
        /* the words, trimmed of spaces and of the comma that hands over to the attribution */
        size_t s = qs, e = qe;
        while (s < e && t[s] == ' ')
            s++;
        while (e > s && (t[e - 1] == ' ' || t[e - 1] == ','))
            e--;
        size_t words = 0;
        for (size_t k = s; k < e; k++)
            words += t[k] == ' ';
        if (words < 2)
            continue; /* a scare-quoted word or two is not a quotation */
        size_t a_end = ce;
        while (a_end < len && !is_end(t, a_end, len))
            a_end++;
        size_t b_start = qs - ml;
        while (b_start > 0 && !is_end(t, b_start - 1, len))
            b_start--;
        size_t lead = b_start;
        while (lead < qs - ml && (t[lead] == ' ' || t[lead] == '\n'))
            lead++;
        const char *verb = NULL, *kind;
        size_t vlen = 0, v;
        int who = -1, pronoun = 0;
        if ((v = find_verb(t, ce, a_end, 0, &verb, &vlen)) != SIZE_MAX) {
            who = speaker_near(out, ce, a_end, v);
            pronoun = who < 0 && pronoun_next_to(t, ce, a_end, v, vlen);
        } else if ((v = find_verb(t, b_start, qs - ml, 1, &verb, &vlen)) != SIZE_MAX) {
            who = speaker_near(out, b_start, qs - ml, v);
            pronoun = who < 0 && pronoun_next_to(t, b_start, qs - ml, v, vlen);
        } else {
            continue; /* no attribution: a title, a slogan, a scare quote */
        }
        if (pronoun)
            who = last_person_before(out, qs);
        size_t before_end = qs - ml;
        while (before_end > lead && t[before_end - 1] == ' ')
            before_end--;
        kind = lead == qs - ml || (before_end > lead && t[before_end - 1] == ':') ? "direct"
                                                                                  : "partial";
        int rc = add_quote(out, t, s, e, who >= 0 ? out->entities[who].name : NULL, verb, kind);
        if (rc < 0)
            return rc;
    }
    return 0;
}
