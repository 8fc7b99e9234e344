/* enrich_entities.c: the entities of an article. Each part is tagged by the NER model of its
 * paragraph's language (ner_langs.c; a short or doubtful paragraph takes the article's); the spans
 * are cleaned of titles and photo credits, mentions are merged under one canonical name ("Blinken"
 * joins "Antony Blinken"), repeats the tagger missed are found again, common words dropped
 * (entity_filter.c), places geocoded with the gazetteer (gazetteer.c) with the dateline as focus,
 * and each entity gets a salience. */
#include "enrich_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "newswire/util.h"

#include "coref.h"

enum { ET_PERSON, ET_ORG, ET_PLACE, ET_OTHER };
static const char *const ET_NAME[] = {"person", "org", "place", "other"};

/* Words that precede a name as a title or office, never part of it: "US Secretary of State
 * Antony Blinken" is Antony Blinken. Compared case-sensitively on purpose: "Chief of Staff"
 * is a title, "staff" in running text is not part of a span anyway. */
static const char *const TITLE_WORDS[] = {
    "Secretary",    "State",     "of",          "the",          "President",
    "Vice",         "Minister",  "Prime",       "Defense",      "Defence",
    "Foreign",      "Interior",  "Finance",     "Chief",        "Staff",
    "Crown",        "Prince",    "Princess",    "King",         "Queen",
    "Mr",           "Mr.",       "Mrs",         "Mrs.",         "Ms",
    "Ms.",          "Dr",        "Dr.",         "General",      "Gen.",
    "Spokesperson", "Spokesman", "Spokeswoman", "spokesperson", "spokesman",
    "spokeswoman",  "Senator",   "Sen.",        "Rep.",         "Governor",
    "Gov.",         "Mayor",     "Ambassador",  "Envoy",        "Chancellor",
    "Deputy",       "Leader",    "Commander",   "Lt.",          "Col.",
    "Colonel",      "Pope",      "Sheikh",      "Emir",         "Former",
    "former",       "Acting",    "Department",  "Sir",          "Lord",
    "Lady",         "Judge",     "Justice",     "Speaker",      "Representative",
};

/* Titles that only a person holds: a name right after one is a person's, whatever the tagger
 * said ("US Chief of Staff Antony Blinken" came out as an organisation). */
static const char *const PERSON_TITLES[] = {
    "Secretary",     "President",    "Minister",  "Chief",       "Staff",        "Prince",
    "Princess",      "King",         "Queen",     "Mr",          "Mr.",          "Mrs",
    "Mrs.",          "Ms",           "Ms.",       "Dr",          "Dr.",          "General",
    "Gen.",          "Spokesperson", "Spokesman", "Spokeswoman", "spokesperson", "spokesman",
    "spokeswoman",   "Senator",      "Sen.",      "Rep.",        "Governor",     "Gov.",
    "Mayor",         "Ambassador",   "Envoy",     "Chancellor",  "Deputy",       "Leader",
    "Commander",     "Lt.",          "Col.",      "Colonel",     "Pope",         "Sheikh",
    "Emir",          "Sir",          "Lord",      "Lady",        "Judge",        "Speaker",
    "Representative"};

/* Regions and continents: places, but not points a gazetteer of cities should resolve ("Asia"
 * is also a town in the Philippines). */
static const char *const REGIONS[] = {
    "Asia",           "Europe",        "Africa",         "Middle East",
    "Latin America",  "North America", "South America",  "Central America",
    "Oceania",        "Gulf",          "Arctic",         "Antarctica",
    "Balkans",        "Caribbean",     "Scandinavia",    "Sahel",
    "Levant",         "East Asia",     "Southeast Asia", "Central Asia",
    "Horn of Africa", "Mediterranean", "Pacific",        "Atlantic",
    "West",           "East",          "North",          "South"};

/* Tokens that mark a photo credit, not an entity. */
static const char *const CREDIT_WORDS[] = {"PHOTO", "POOL", "Pool", "©", "Photo", "REUTERS/"};

/* One raw mention: where (start == NO_POS for title and subtitle) and what. */
#define NO_POS UINT32_MAX
typedef struct mention {
    int type;
    char *name;
    uint32_t start, end;
    double weight;
    int ent;
} mention_t;

typedef struct ent {
    int type;
    char *name;
    size_t ntok;
    uint32_t *m;
    size_t nm, capm;
    double score;
    nw_place_t pl;
    int geo, focus, country;
} ent_t;

typedef struct work {
    const nw_enricher_t *e;
    const nw_article_t *art;
    char *const *para_langs; /* each paragraph's language: picks its NER model */
    size_t n_para_langs;
    mention_t *mv;
    size_t nmv, capmv;
    ent_t *ev;
    size_t nev, capev;
    int rc;
} work_t;

static void
add_mention(work_t *w, int type, const char *s, size_t n, uint32_t start, uint32_t end,
            double weight)
{
    if (w->rc < 0 || n == 0)
        return;
    if (w->nmv == w->capmv) {
        size_t cap = w->capmv ? 2 * w->capmv : 64;
        mention_t *v = realloc(w->mv, cap * sizeof(*v));
        if (!v) {
            w->rc = -ENOMEM;
            return;
        }
        w->mv = v;
        w->capmv = cap;
    }
    char *name = nw_strndup(s, n);
    if (!name) {
        w->rc = -ENOMEM;
        return;
    }
    w->mv[w->nmv++] = (mention_t){type, name, start, end, weight, -1};
}

/* Clean one NER span and record what it names. base is the offset of the tagged part in text
 * (NO_POS for title and subtitle). */
static void
take_span(work_t *w, const char *src, const nw_ner_span_t *sp, uint32_t base, double weight)
{
    word_t tok[32];
    size_t n = split_words(sp->text, strlen(sp->text), tok, 32);
    int type = sp->type == NW_NER_PER   ? ET_PERSON
               : sp->type == NW_NER_ORG ? ET_ORG
               : sp->type == NW_NER_LOC ? ET_PLACE
                                        : ET_OTHER;
    nw_place_t pl;

    for (size_t i = 0; i < n; i++)
        if (IN(CREDIT_WORDS, tok[i].s, tok[i].n) || memchr(tok[i].s, '/', tok[i].n))
            return;
#define POS(p) (base == NO_POS ? NO_POS : base + (uint32_t)((p)-sp->text))
    /* A whole span that is a country, alias or demonym ("Israeli", "US") is that country;
     * but a short capital code the tagger called an organisation or person ("PA" heading a
     * results table, "ANC") is not a country code without more evidence. */
    size_t sl = strlen(sp->text);
    int code = sl <= 3 && (type == ET_ORG || type == ET_PERSON);
    for (size_t k = 0; k < sl && code; k++)
        code = sp->text[k] >= 'A' && sp->text[k] <= 'Z';
    if (!code && nw_gaz_country(w->e->gaz, sp->text, sl, &pl)) {
        add_mention(w, ET_PLACE, sp->text, strlen(sp->text), POS(sp->text),
                    POS(sp->text + strlen(sp->text)), weight);
        return;
    }
    /* A person's title right before the span ("Secretary of State Antony Blinken") makes it a
     * person: walk back over up to four title words looking for one only people hold. */
    size_t pe = sp->start;
    for (int k = 0; k < 4 && type != ET_PLACE; k++) {
        while (pe > 0 && src[pe - 1] == ' ')
            pe--;
        size_t ps = pe;
        while (ps > 0 && src[ps - 1] != ' ' && src[ps - 1] != '\n')
            ps--;
        if (pe == ps || !IN(TITLE_WORDS, src + ps, pe - ps))
            break;
        if (IN(PERSON_TITLES, src + ps, pe - ps)) {
            type = ET_PERSON;
            break;
        }
        pe = ps;
    }
    /* Strip leading titles and nationalities; a nationality still counts for its country. */
    size_t i = 0;
    for (; i + 1 < n || (i < n && type != ET_PERSON); i++) {
        if (IN(TITLE_WORDS, tok[i].s, tok[i].n)) {
            if (IN(PERSON_TITLES, tok[i].s, tok[i].n) && i + 1 < n && type != ET_PLACE)
                type = ET_PERSON;
            continue;
        }
        if (nw_gaz_country(w->e->gaz, tok[i].s, tok[i].n, &pl) && i + 1 < n) {
            add_mention(w, ET_PLACE, tok[i].s, tok[i].n, POS(tok[i].s), POS(tok[i].s + tok[i].n),
                        weight);
            continue;
        }
        break;
    }
    if (i == n)
        return; /* nothing but titles: "Secretary of State" */
    if (type == ET_PERSON || i > 0) {
        /* a stripped ORG like "US Secretary" leaves no name worth keeping */
        if (type != ET_PERSON && i > 0 && IN(TITLE_WORDS, tok[n - 1].s, tok[n - 1].n))
            return;
    }
    const char *s = tok[i].s, *end = tok[n - 1].s + tok[n - 1].n;
    add_mention(w, type, s, (size_t)(end - s), POS(s), POS(end), weight);
#undef POS
}

static void
tag_part(work_t *w, const char *text, int in_text, double weight)
{
    nw_ner_spans_t spans = {0};
    if (!text || !*text || w->rc < 0)
        return;
    if (nw_ner_langs_tag(w->e->ner, text, strlen(text), in_text ? w->para_langs : NULL,
                         in_text ? w->n_para_langs : 0, w->art->lang, &spans) < 0) {
        w->rc = -ENOMEM;
        nw_ner_spans_release(&spans);
        return;
    }
    /* Mentions in the lead paragraph weigh half as much again as later ones. */
    const char *para = in_text ? strstr(text, "\n\n") : NULL;
    size_t lead_end = para ? (size_t)(para - text) : strlen(text);
    /* "Mohammed bin Salman": the tagger splits at the lowercase particle; join such pairs. */
    for (size_t i = 0; i + 1 < spans.n; i++) {
        nw_ner_span_t *a = &spans.v[i], *b = &spans.v[i + 1];
        const char *gap = text + a->end;
        size_t gl = b->start - a->end;
        if (a->type == NW_NER_PER &&
            ((gl == 5 && (!memcmp(gap, " bin ", 5) || !memcmp(gap, " ibn ", 5))) ||
             (gl == 6 && !memcmp(gap, " bint ", 6)))) {
            char *t = nw_strndup(text + a->start, b->end - a->start);
            if (!t) {
                w->rc = -ENOMEM;
                break;
            }
            free(a->text);
            a->text = t;
            a->end = b->end;
            free(b->text);
            memmove(b, b + 1, (spans.n - i - 2) * sizeof(*b));
            spans.n--;
        }
    }
    for (size_t i = 0; i < spans.n; i++) {
        double wt = weight;
        if (in_text && spans.v[i].start < lead_end)
            wt *= 1.5;
        take_span(w, text, &spans.v[i], in_text ? (uint32_t)spans.v[i].start : NO_POS, wt);
    }
    nw_ner_spans_release(&spans);
}

/* Does every word of short occur in long, in order? ("Blinken" in "Antony Blinken"). */
static int
is_subseq(const char *shortn, const char *longn)
{
    word_t a[16], b[16];
    size_t na = split_words(shortn, strlen(shortn), a, 16);
    size_t nb = split_words(longn, strlen(longn), b, 16);
    size_t j = 0;
    if (na == 0 || na >= nb)
        return 0;
    for (size_t i = 0; i < na; i++) {
        while (j < nb && !(a[i].n == b[j].n && !memcmp(a[i].s, b[j].s, a[i].n)))
            j++;
        if (j == nb)
            return 0;
        j++;
    }
    return 1;
}

static int
find_or_add_entity(work_t *w, int type, const char *name)
{
    for (size_t i = 0; i < w->nev; i++)
        if (w->ev[i].type == type && strcmp(w->ev[i].name, name) == 0)
            return (int)i;
    if (w->nev == w->capev) {
        size_t cap = w->capev ? 2 * w->capev : 32;
        ent_t *v = realloc(w->ev, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        w->ev = v;
        w->capev = cap;
    }
    ent_t *x = &w->ev[w->nev];
    memset(x, 0, sizeof(*x));
    x->type = type;
    x->name = strdup(name);
    if (!x->name)
        return -ENOMEM;
    word_t t[16];
    x->ntok = split_words(name, strlen(name), t, 16);
    return (int)w->nev++;
}

static int
mention_len_cmp(const void *a, const void *b)
{
    const mention_t *const *x = a, *const *y = b;
    size_t lx = strlen((*x)->name), ly = strlen((*y)->name);
    if (lx != ly)
        return lx > ly ? -1 : 1;
    return strcmp((*x)->name, (*y)->name);
}

static int
overlaps_mention(const work_t *w, size_t s, size_t e)
{
    for (size_t i = 0; i < w->nmv; i++) {
        const mention_t *m = &w->mv[i];
        if (m->start != NO_POS && m->start < e && s < m->end)
            return 1;
    }
    return 0;
}

/* The tagger misses some repeats ("Blinken later flew", at a sentence start). Once an entity is
 * known, every other whole-word occurrence of its name in the text is a mention too, and for a
 * person so is the surname alone. */
static void
propagate_mentions(work_t *w)
{
    const char *t = w->art->text;
    size_t nev = w->nev;
    if (!t)
        return;
    size_t tlen = strlen(t);
    for (size_t i = 0; i < nev && w->rc == 0; i++) {
        const ent_t *x = &w->ev[i];
        if (x->type < 0 || x->country)
            continue;
        word_t tok[16];
        size_t n = split_words(x->name, strlen(x->name), tok, 16);
        const char *forms[2] = {x->name, NULL};
        size_t flen[2] = {strlen(x->name), 0};
        if (x->type == ET_PERSON && n > 1 && tok[n - 1].n > 2) {
            forms[1] = tok[n - 1].s;
            flen[1] = tok[n - 1].n;
        }
        for (int f = 0; f < 2 && forms[f]; f++) {
            for (const char *p = t; *p;) {
                const char *hit = memmem(p, tlen - (size_t)(p - t), forms[f], flen[f]);
                if (!hit)
                    break;
                size_t s = (size_t)(hit - t), e = s + flen[f];
                p = hit + flen[f];
                if ((s > 0 && is_word_char(t[s - 1])) || (is_word_char(t[e]) && t[e] != '\''))
                    continue;
                if (overlaps_mention(w, s, e))
                    continue;
                add_mention(w, x->type, forms[f], flen[f], (uint32_t)s, (uint32_t)e, 1.0);
                if (w->rc == 0)
                    w->mv[w->nmv - 1].ent = (int)i;
            }
        }
    }
}

static int
mention_pos_cmp(const void *a, const void *b)
{
    const mention_t *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return 0;
}

/* Does the text back a place reading of name: a preposition of place ("in", "at", "near",
 * "towards"...) right before one of its mentions, whatever the tagger typed there? (A mention
 * typed as a place is no evidence by itself: results tables name teams after their cities,
 * "CHICAGO" the team beside Chicago the city.) */
static int
place_evidence(const work_t *w, const char *name)
{
    static const char *const PREP[] = {"in",      "at",      "near",    "from",   "to",
                                       "outside", "into",    "towards", "toward", "across",
                                       "around",  "through", "inside",  "entered"};
    const char *t = w->art->text;
    for (size_t i = 0; t && i < w->nmv; i++) {
        uint32_t at = w->mv[i].start;
        if (at == NO_POS || strcmp(w->mv[i].name, name) != 0)
            continue;
        size_t e = at;
        while (e > 0 && t[e - 1] == ' ')
            e--;
        size_t b = e;
        while (b > 0 && t[b - 1] != ' ' && t[b - 1] != '\n')
            b--;
        if (e > b && IN(PREP, t + b, e - b))
            return 1;
    }
    return 0;
}

/* Give every mention an entity. Longer names first, so a shorter one joins the longest name it
 * is a part of; a one-word name the tagger typed differently ("Blinken" as ORG) still joins a
 * person it is part of, since people are what single surnames name in news copy. */
static void
resolve_entities(work_t *w)
{
    mention_t **order = calloc(w->nmv ? w->nmv : 1, sizeof(*order));
    if (!order) {
        w->rc = -ENOMEM;
        return;
    }
    for (size_t i = 0; i < w->nmv; i++)
        order[i] = &w->mv[i];
    qsort(order, w->nmv, sizeof(*order), mention_len_cmp);
    for (size_t k = 0; k < w->nmv && w->rc == 0; k++) {
        mention_t *m = order[k];
        nw_place_t pl;
        if (m->type == ET_PLACE && nw_gaz_country(w->e->gaz, m->name, strlen(m->name), &pl)) {
            /* countries go under their short name: "Israeli" and "Israel" are one entity */
            m->ent = find_or_add_entity(w, ET_PLACE, pl.name);
            if (m->ent >= 0) {
                w->ev[m->ent].pl = pl;
                w->ev[m->ent].geo = w->ev[m->ent].country = 1;
            }
        } else {
            int best = -1;
            /* A lone word the tagger took for a person or organisation that is a known city
             * ("Rafah") is that place when the text says so too: a preposition of place comes
             * right before it ("at Rafah"). A club
             * or a firm named after its city keeps the tagger's type. Never when it is part of
             * a person's name here. */
            if (m->type != ET_PLACE && !strchr(m->name, ' ') && place_evidence(w, m->name) &&
                nw_gaz_city(w->e->gaz, m->name, strlen(m->name), NULL, 0, &pl) &&
                pl.population >= 50000) {
                int part = 0;
                for (size_t i = 0; i < w->nev && !part; i++)
                    part = w->ev[i].type == ET_PERSON && is_subseq(m->name, w->ev[i].name);
                if (!part)
                    m->type = ET_PLACE;
            }
            for (size_t i = 0; i < w->nev && best < 0; i++) {
                const ent_t *x = &w->ev[i];
                if (x->country)
                    continue;
                /* a lone word joins a person's full name whatever its type ("Blinken" as
                 * ORG), not a one-word person: that is the same word typed twice, voted on
                 * below */
                int compatible = x->type == m->type || (x->type == ET_PERSON && x->ntok > 1 &&
                                                        strchr(m->name, ' ') == NULL);
                if (compatible && (strcmp(x->name, m->name) == 0 || is_subseq(m->name, x->name)))
                    best = (int)i;
            }
            m->ent = best >= 0 ? best : find_or_add_entity(w, m->type, m->name);
        }
        if (m->ent < 0)
            w->rc = -ENOMEM;
    }
    free(order);
    /* The same name typed as a person here and an organisation there ("Ruch" the newsstand
     * chain) is one entity, of the type most of its mentions have. */
    for (size_t i = 0; i < w->nev && w->rc == 0; i++) {
        for (size_t j = i + 1; j < w->nev; j++) {
            ent_t *x = &w->ev[i], *y = &w->ev[j];
            if (x->type < 0 || y->type < 0 || x->type == y->type ||
                (x->type != ET_PERSON && x->type != ET_ORG) ||
                (y->type != ET_PERSON && y->type != ET_ORG) || strcmp(x->name, y->name) != 0)
                continue;
            size_t nx = 0, ny = 0;
            for (size_t k = 0; k < w->nmv; k++) {
                nx += w->mv[k].ent == (int)i;
                ny += w->mv[k].ent == (int)j;
            }
            size_t from = nx > ny ? j : i, to = nx > ny ? i : j;
            w->ev[from].type = -1;
            for (size_t k = 0; k < w->nmv; k++)
                if (w->mv[k].ent == (int)from)
                    w->mv[k].ent = (int)to;
        }
    }
    /* An acronym joins the organisation or place it abbreviates here ("the UN" and "United
     * Nations", "NATO"), whatever the tagger typed it as; the full name stays. */
    for (size_t i = 0; i < w->nev && w->rc == 0; i++) {
        ent_t *x = &w->ev[i];
        if (x->type < 0 || x->country || x->ntok != 1)
            continue;
        for (size_t j = 0; j < w->nev; j++) {
            ent_t *y = &w->ev[j];
            if (j == i || y->type < 0 || y->type == ET_PERSON || y->ntok < 2 ||
                !nw_coref_acronym(x->name, y->name))
                continue;
            x->type = -1;
            for (size_t k = 0; k < w->nmv; k++)
                if (w->mv[k].ent == (int)i)
                    w->mv[k].ent = (int)j;
            break;
        }
    }
    /* A name typed as an organisation that ends in a person's surname ("US Chief of Staff
     * Antony Blinken" read as ORG, "Blinken" as PER elsewhere) is that person. */
    for (size_t i = 0; i < w->nev && w->rc == 0; i++) {
        ent_t *x = &w->ev[i];
        word_t a[16], b[16];
        size_t na = split_words(x->name, strlen(x->name), a, 16);
        if ((x->type != ET_ORG && x->type != ET_OTHER) || na < 2 || na > 3)
            continue;
        for (size_t j = 0; j < w->nev; j++) {
            ent_t *y = &w->ev[j];
            size_t nb = split_words(y->name, strlen(y->name), b, 16);
            if (j == i || y->type != ET_PERSON || nb > na || a[na - 1].n != b[nb - 1].n ||
                memcmp(a[na - 1].s, b[nb - 1].s, a[na - 1].n) != 0 ||
                (nb > 1 && !is_subseq(y->name, x->name)))
                continue;
            if (na > nb) { /* the person takes the longer name */
                char *t = y->name;
                y->name = x->name;
                x->name = t;
            }
            x->type = -1; /* merged: its mentions go to j below */
            for (size_t k = 0; k < w->nmv; k++)
                if (w->mv[k].ent == (int)i)
                    w->mv[k].ent = (int)j;
            break;
        }
    }
    propagate_mentions(w);
    if (w->nmv)
        qsort(w->mv, w->nmv, sizeof(*w->mv), mention_pos_cmp);
    for (size_t i = 0; i < w->nmv && w->rc == 0; i++) {
        mention_t *m = &w->mv[i];
        ent_t *x = &w->ev[m->ent];
        x->score += m->weight;
        if (m->start == NO_POS)
            continue;
        if (x->nm == x->capm) {
            size_t cap = x->capm ? 2 * x->capm : 4;
            uint32_t *v = realloc(x->m, cap * 2 * sizeof(*v));
            if (!v) {
                w->rc = -ENOMEM;
                return;
            }
            x->m = v;
            x->capm = cap;
        }
        x->m[2 * x->nm] = m->start;
        x->m[2 * x->nm + 1] = m->end;
        x->nm++;
    }
}

/* No person or organisation named by a capitalised common word ("Das", "Sprache", "Here"):
 * entity_filter.h decides, from the article's language and where the mentions sit. */
static void
drop_common_words(work_t *w)
{
    /* A table of names ("Surrey 5 Kent 3", "Cardinals 5 Brewers 3") has no sentences to judge
     * capitals by, and the language detected for it means little: only weekdays and months go.
     * (German prose, whose nouns are capitalised, is never taken for one.) */
    const char *lang = w->art->lang;
    int table = !nw_efilter_prose(w->art->text) && !(lang && strcmp(lang, "de") == 0);
    for (size_t i = 0; i < w->nev; i++) {
        ent_t *x = &w->ev[i];
        if ((x->type == ET_PERSON || x->type == ET_ORG) &&
            (table
                 ? nw_efilter_calendar(x->name, strlen(x->name))
                 : !nw_efilter_keep(w->e->words, w->art->lang, x->name, w->art->text, x->m, x->nm)))
            x->type = -1;
    }
}

/* Geocode places: countries are known already; a city is looked up with the article's
 * countries as context, so "Rafah" near "Egypt" and "Gaza" picks the one in that region. The
 * dateline's place is the focus. */
static void
geocode(work_t *w)
{
    char ctx[64][3];
    size_t nctx = 0;
    nw_place_t pl;
    const char *dl = w->art->dateline;
    char city[256] = "";

    if (dl && *dl) {
        const char *comma = strchr(dl, ',');
        size_t n = comma ? (size_t)(comma - dl) : strlen(dl);
        snprintf(city, sizeof(city), "%.*s", (int)n, dl);
        if (comma) {
            const char *c = comma + 1;
            while (*c == ' ')
                c++;
            if (nw_gaz_country(w->e->gaz, c, strlen(c), &pl))
                memcpy(ctx[nctx++], pl.cc, 3);
        }
    }
    for (size_t i = 0; i < w->nev && nctx < 64; i++)
        if (w->ev[i].country)
            memcpy(ctx[nctx++], w->ev[i].pl.cc, 3);
    for (size_t i = 0; i < w->nev; i++) {
        ent_t *x = &w->ev[i];
        if (x->type == ET_PLACE && !x->geo && !IN(REGIONS, x->name, strlen(x->name)) &&
            nw_gaz_city(w->e->gaz, x->name, strlen(x->name), (const char(*)[3])ctx, nctx, &pl)) {
            x->pl = pl;
            x->geo = 1;
        }
    }
    if (!city[0])
        return;
    int focus = -1;
    if (nw_gaz_city(w->e->gaz, city, strlen(city), (const char(*)[3])ctx, nctx, &pl)) {
        focus = find_or_add_entity(w, ET_PLACE, city);
        if (focus >= 0 && !w->ev[focus].geo) {
            w->ev[focus].pl = pl;
            w->ev[focus].geo = 1;
        }
    } else if (nw_gaz_country(w->e->gaz, city, strlen(city), &pl)) {
        focus = find_or_add_entity(w, ET_PLACE, pl.name);
        if (focus >= 0) {
            w->ev[focus].pl = pl;
            w->ev[focus].geo = w->ev[focus].country = 1;
        }
    }
    if (focus < 0 && find_or_add_entity(w, ET_PLACE, city) < 0)
        w->rc = -ENOMEM;
    if (focus >= 0) {
        w->ev[focus].focus = 1;
        w->ev[focus].score += 2.0; /* the dateline names where the story happens */
    }
}

static int
ent_cmp(const void *a, const void *b)
{
    const nw_entity_t *x = a, *y = b;
    if (x->salience != y->salience)
        return x->salience > y->salience ? -1 : 1;
    int c = strcmp(x->type, y->type);
    return c ? c : strcmp(x->name, y->name);
}

/* The code-point offset of every byte offset of text, idx[0..strlen(text)], in one pass: the
 * mentions of every entity are converted through it (counting from the start of the text for
 * each entity was ~6% of enrich's instructions on the pages). *len = strlen(text); NULL on
 * ENOMEM. */
static uint32_t *
code_point_index(const char *text, size_t *len)
{
    size_t n = text ? strlen(text) : 0;
    uint32_t *idx = malloc((n + 1) * sizeof(*idx));
    uint32_t cp = 0;
    if (!idx)
        return NULL;
    for (size_t b = 0; b < n; b++) {
        idx[b] = cp;
        cp += ((unsigned char)text[b] & 0xC0) != 0x80;
    }
    idx[n] = cp;
    *len = n;
    return idx;
}

/* The byte ranges m[0..2n) of a text as code-point ranges (what Python's str and most
 * languages' string indexing count; JavaScript counts UTF-16 units, which differ only beyond
 * U+FFFF), through idx (code_point_index of the text, len its length; an offset past the end
 * counts the whole text). Returns a malloc'd array or NULL. */
static uint32_t *
code_point_spans(const uint32_t *idx, size_t len, const uint32_t *m, size_t n)
{
    uint32_t *v = malloc(2 * n * sizeof(*v));
    if (!v)
        return NULL;
    for (size_t i = 0; i < 2 * n; i++)
        v[i] = idx[m[i] < len ? m[i] : len];
    return v;
}

/* Move the work entities into out->entities, with salience relative to the best. */
static int
emit_entities(work_t *w, nw_enriched_t *out)
{
    double best = 0;
    size_t n = 0;
    for (size_t i = 0; i < w->nev; i++)
        if (w->ev[i].score > best)
            best = w->ev[i].score;
    if (w->nev == 0)
        return 0;
    int rc = -ENOMEM;
    size_t tlen = 0;
    uint32_t *idx = code_point_index(w->art->text, &tlen);
    nw_entity_t *v = calloc(w->nev, sizeof(*v));
    if (!v || !idx) {
        free(v);
        free(idx);
        return -ENOMEM;
    }
    out->entities = v;
    for (size_t i = 0; i < w->nev; i++) {
        ent_t *x = &w->ev[i];
        if (x->type < 0)
            continue;
        nw_entity_t *y = &v[n++];
        out->n_entities = n;
        y->type = strdup(ET_NAME[x->type]);
        y->name = x->name;
        x->name = NULL;
        y->mentions = x->m;
        y->n_mentions = x->nm;
        if (x->nm && !(y->mentions_cp = code_point_spans(idx, tlen, x->m, x->nm)))
            goto out;
        y->n_mentions_cp = x->nm;
        x->m = NULL;
        y->salience = best > 0 ? round(x->score / best * 1000) / 1000 : 0;
        y->focus = x->focus;
        if (!y->type)
            goto out;
        if (x->geo) {
            char slug[128], aslug[128], id[300];
            y->cc = strdup(x->pl.cc);
            y->lat = x->pl.lat;
            y->lon = x->pl.lon;
            if (x->country) {
                snprintf(id, sizeof(id), "country.%c%c", x->pl.cc[0] + 32, x->pl.cc[1] + 32);
            } else {
                y->admin1 = strdup(x->pl.admin1);
                nw_enrich_slug(x->pl.name, slug, sizeof(slug));
                nw_enrich_slug(x->pl.admin1, aslug, sizeof(aslug));
                snprintf(id, sizeof(id), "%c%c.%s.%s", x->pl.cc[0] + 32, x->pl.cc[1] + 32, aslug,
                         slug);
            }
            y->geoid = strdup(id);
            if (!y->cc || !y->geoid || (!x->country && !y->admin1))
                goto out;
        }
    }
    qsort(v, n, sizeof(*v), ent_cmp);
    rc = 0;
out:
    free(idx);
    return rc;
}

/* Words of text[0..n) that begin with a lowercase letter (any script): the words that show a
 * language. A results row, a dateline or a byline has none ("4. Fabrizio Mori ( Italy )
 * 49.21", "GRONINGEN , Netherlands 1996-08-30"), only names, which CLD2 reads as the names'
 * country and calls reliable all the same. */
static size_t
lowercase_words(const char *text, size_t n)
{
    size_t k = 0, i = 0;
    int start = 1;
    while (i < n) {
        utf8proc_int32_t c;
        utf8proc_ssize_t l =
            utf8proc_iterate((const utf8proc_uint8_t *)text + i, (utf8proc_ssize_t)(n - i), &c);
        if (l <= 0) {
            i++;
            start = 0;
            continue;
        }
        if (c == ' ' || c == '\n' || c == '\t')
            start = 1;
        else {
            if (start && utf8proc_category(c) == UTF8PROC_CATEGORY_LL)
                k++;
            start = 0;
        }
        i += (size_t)l;
    }
    return k;
}

/* A paragraph takes its own language's NER model only with this many lowercase words. */
#define NER_PARA_MIN_WORDS 4

/* The language whose NER model tags each paragraph of a->text: where the paragraph's own
 * (out->para_langs, unchanged) differs from the article's, the paragraph's only if it has
 * NER_PARA_MIN_WORDS lowercase words and CLD2 is sure of it with no n-gram override; else the
 * article's. The short lines of an English wire story ("Los Angeles 2 MONTREAL 1", "Maggie
 * McNeil", datelines, results rows) are called es, it, nl... and, tagged by those models, cost
 * CoNLL-2003 valid F1 0.919 -> 0.902 through the product (bench_enrich --topics). Only
 * paragraphs unlike the article are detected again, so text in one language costs nothing
 * more. The pointers in *langs are borrowed from out; the caller frees the array alone. */
static int
ner_para_langs(const nw_enricher_t *e, const nw_enriched_t *out, char ***langs)
{
    const nw_article_t *a = &out->art;
    *langs = NULL;
    if (out->n_para_langs == 0 || !a->lang)
        return 0;
    char **v = malloc(out->n_para_langs * sizeof(*v));
    if (!v)
        return -ENOMEM;
    const char *t = a->text;
    size_t k = 0;
    while (t && *t && k < out->n_para_langs) {
        const char *end = strstr(t, "\n\n");
        size_t n = end ? (size_t)(end - t) : strlen(t), b = 0;
        while (b < n && (t[b] == ' ' || t[b] == '\n'))
            b++;
        if (b < n) { /* the paragraphs of nw_lang_paragraphs: blank ones have no language */
            char *own = out->para_langs[k], code[16];
            v[k] = own;
            if (strcmp(own, a->lang) != 0 &&
                (lowercase_words(t, n) < NER_PARA_MIN_WORDS ||
                 !nw_lang_detect_with(e->lang, t, n, code, sizeof(code)) || strcmp(code, own) != 0))
                v[k] = (char *)a->lang;
            k++;
        }
        if (!end)
            break;
        t = end + 2;
    }
    for (; k < out->n_para_langs; k++)
        v[k] = out->para_langs[k];
    *langs = v;
    return 0;
}

int
nw_enrich_entities(const nw_enricher_t *e, nw_enriched_t *out)
{
    const nw_article_t *a = &out->art;
    char **langs = NULL;
    work_t w = {.e = e, .art = a, .para_langs = out->para_langs, .n_para_langs = out->n_para_langs};
    w.rc = ner_para_langs(e, out, &langs);
    if (langs)
        w.para_langs = langs;
    tag_part(&w, a->title, 0, 3.0);
    tag_part(&w, a->subtitle, 0, 2.0);
    tag_part(&w, a->text, 1, 1.0);
    if (w.rc == 0)
        resolve_entities(&w);
    if (w.rc == 0)
        drop_common_words(&w);
    if (w.rc == 0)
        geocode(&w);
    int rc = w.rc;
    if (rc == 0)
        rc = emit_entities(&w, out);
    for (size_t i = 0; i < w.nmv; i++)
        free(w.mv[i].name);
    free(w.mv);
    for (size_t i = 0; i < w.nev; i++) {
        free(w.ev[i].name);
        free(w.ev[i].m);
    }
    free(w.ev);
    free(langs);
    return rc;
}
