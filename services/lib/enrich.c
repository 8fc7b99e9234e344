/* enrich.c: article -> enriched (see enrich.h). Runs in newswire-enrich and in
 * `newswire enrich --jsonl`. First the base layer (nw_enrich_article): the language of the
 * article and of each caption (CLD2, through the shim in lang.cc), the word count, the reading
 * time and the base topics. Then nw_enricher_run: paragraph languages; entities from the NER
 * tagger (ner.c), each paragraph with its language's model (ner_langs.c), cleaned of titles and
 * credits and merged under one canonical name, places geocoded by the gazetteer (gazetteer.c)
 * with the dateline as focus, quotes attributed by rules over the entities, tone and themes
 * from lexicons in data/, keywords, dates, amounts, the fingerprint (fingerprint.c) and the
 * topics. Everything is a pure function of the article and the reference data, which is loaded
 * once and only read. */
#include "newswire/enrich.h"
#include "newswire/refdir.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#include <unistd.h>

#include <utf8proc.h>

#include "newswire/buf.h"
#include "newswire/fingerprint.h"
#include "newswire/gazetteer.h"
#include "newswire/langid.h"
#include "newswire/ner.h"
#include "newswire/ner_langs.h"
#include "newswire/util.h"

#include "coref.h"
#include "entity_filter.h"

/* Silent-reading speed used for reading_s: 230 words per minute, the commonly cited average
 * for adult readers of English prose (Brysbaert 2019 puts non-fiction at 238). */
#define WORDS_PER_MINUTE 230u

/* lang.cc: CLD2's code for text ("und" when unknown); static string. */
const char *nw_lang_cld2(const char *text, size_t len, int *reliable);

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
        if (strcmp(code, "nb") == 0) {
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

/* A word is a run of letters or digits. Combining marks continue a word but do not start one,
 * so decomposed "é" or Devanagari vowel signs do not split it. Invalid UTF-8 bytes separate. */
static uint32_t
count_words(const char *s)
{
    uint32_t words = 0;
    int in_word = 0;
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;

    if (!s)
        return 0;
    size_t left = strlen(s);
    while (left > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(p, (utf8proc_ssize_t)left, &cp);
        int word_char = 0, mark = 0;
        if (k < 1) {
            k = 1;
        } else {
            switch (utf8proc_category(cp)) {
            case UTF8PROC_CATEGORY_LU:
            case UTF8PROC_CATEGORY_LL:
            case UTF8PROC_CATEGORY_LT:
            case UTF8PROC_CATEGORY_LM:
            case UTF8PROC_CATEGORY_LO:
            case UTF8PROC_CATEGORY_ND:
            case UTF8PROC_CATEGORY_NL:
            case UTF8PROC_CATEGORY_NO:
                word_char = 1;
                break;
            case UTF8PROC_CATEGORY_MN:
            case UTF8PROC_CATEGORY_MC:
            case UTF8PROC_CATEGORY_ME:
                mark = 1;
                break;
            default:
                break;
            }
        }
        if (word_char && !in_word)
            words++;
        in_word = word_char || (mark && in_word);
        p += k;
        left -= (size_t)k;
    }
    return words;
}

static void
append_part(nw_buf_t *b, const char *s, int *rc)
{
    if (*rc == 0 && s && *s) {
        /* A newline between parts keeps CLD2 from gluing the title's last word to the text. */
        if (b->len > 0)
            *rc = nw_buf_append(b, "\n", 1);
        if (*rc == 0)
            *rc = nw_buf_puts(b, s);
    }
}

static char *
topic_for_lang(const char *code)
{
    size_t n = strlen(code);
    char *t = malloc(n + sizeof("lang."));
    if (!t)
        return NULL;
    memcpy(t, "lang.", 5);
    /* Topics are lowercase keys; CLD2 has a few mixed-case codes such as "zh-Hant". */
    for (size_t i = 0; i <= n; i++)
        t[5 + i] = (char)tolower((unsigned char)code[i]);
    return t;
}

/* nw_enrich_article with the language model m (NULL: CLD2 alone). */
static int
enrich_base(const nw_langid_t *m, nw_article_t *art, nw_enriched_t *out)
{
    int rc = -ENOMEM, brc = 0; /* every failure below is an allocation */
    nw_buf_t all = {0};
    char code[16];
    char *lang = NULL;
    char **cap_langs = NULL;
    char **topics = NULL;
    size_t n_topics = 0;

    memset(out, 0, sizeof(*out));

    /* Everything is computed first and moved into place at the end, so that on -ENOMEM the
     * article is untouched and the caller can still dead-letter it. */
    append_part(&all, art->title, &brc);
    append_part(&all, art->subtitle, &brc);
    append_part(&all, art->text, &brc);
    if (brc < 0)
        goto err;
    int reliable = nw_lang_detect_with(m, (const char *)all.data, all.len, code, sizeof(code));
    if (!reliable && art->lang && art->lang[0])
        lang = strdup(art->lang);
    else
        lang = strdup(code);
    if (!lang)
        goto err;

    if (art->n_captions > 0) {
        cap_langs = calloc(art->n_captions, sizeof(*cap_langs));
        if (!cap_langs)
            goto err;
        for (size_t i = 0; i < art->n_captions; i++) {
            const nw_caption_t *c = &art->captions[i];
            const char *t = c->text ? c->text : "";
            int ok = nw_lang_detect_with(m, t, strlen(t), code, sizeof(code));
            /* A short caption may be unreliable; a language declared upstream then wins. */
            cap_langs[i] = strdup(!ok && c->lang && c->lang[0] ? c->lang : code);
            if (!cap_langs[i])
                goto err;
        }
    }

    topics = calloc(2, sizeof(*topics));
    if (!topics)
        goto err;
    topics[n_topics++] = strdup("all");
    if (!topics[0])
        goto err;
    if (strcmp(lang, "und") != 0) {
        topics[n_topics] = topic_for_lang(lang);
        if (!topics[n_topics++])
            goto err;
    }

    out->words = count_words(art->title) + count_words(art->subtitle) + count_words(art->text);
    out->reading_s =
        (uint32_t)(((uint64_t)out->words * 60 + WORDS_PER_MINUTE - 1) / WORDS_PER_MINUTE);
    out->topics = topics;
    out->n_topics = n_topics;
    free(art->lang);
    art->lang = lang;
    for (size_t i = 0; i < art->n_captions; i++) {
        free(art->captions[i].lang);
        art->captions[i].lang = cap_langs[i];
    }
    free(cap_langs);
    out->art = *art;
    memset(art, 0, sizeof(*art));
    nw_buf_release(&all);
    return 0;

err:
    free(lang);
    for (size_t i = 0; cap_langs && i < art->n_captions; i++)
        free(cap_langs[i]);
    free(cap_langs);
    for (size_t i = 0; i < n_topics; i++)
        free(topics[i]);
    free(topics);
    nw_buf_release(&all);
    memset(out, 0, sizeof(*out));
    return rc;
}

int
nw_enrich_article(nw_article_t *art, nw_enriched_t *out)
{
    return enrich_base(NULL, art, out);
}

/* ==== full enrichment: nw_enricher_t ======================================================== */

#define MAX_DATA_FILE (16u * 1024 * 1024)

static _Thread_local char enrich_err[8800];

const char *
nw_enrich_error(void)
{
    return enrich_err;
}

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
    lex_t *v;
    size_t n;
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

static int
lex_cmp(const void *a, const void *b)
{
    const lex_t *x = a, *y = b;
    size_t n = x->n < y->n ? x->n : y->n;
    int c = memcmp(x->w, y->w, n);
    if (c == 0)
        c = x->n < y->n ? -1 : x->n > y->n;
    return c ? c : (x->val > y->val) - (x->val < y->val);
}

static int
lex_add(lexicon_t *lx, const char *w, int val)
{
    size_t n = strlen(w);
    if (n == 0)
        return 0;
    lex_t *v = realloc(lx->v, (lx->n + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    lx->v = v;
    int prefix = w[n - 1] == '*';
    v[lx->n++] = (lex_t){w, n - (size_t)prefix, prefix, val};
    return 0;
}

/* Calls fn(val) for every entry matching the lowercase word w[0..n). */
static void
lex_match(const lexicon_t *lx, const char *w, size_t n, void (*fn)(int, void *), void *arg)
{
    for (size_t len = n; len >= 3 && len > 0; len--) {
        lex_t key = {w, len, 0, INT32_MIN};
        size_t lo = 0, hi = lx->n;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (lex_cmp(&lx->v[mid], &key) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t i = lo; i < lx->n && lx->v[i].n == len && !memcmp(lx->v[i].w, w, len); i++)
            if (len == n || lx->v[i].prefix)
                fn(lx->v[i].val, arg);
    }
}

static int
read_data(const char *dir, const char *file, uint8_t **buf, size_t *len)
{
    char path[4200]; /* dir is at most 4095 bytes, file a short relative name */
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    int rc = nw_read_file(path, MAX_DATA_FILE, buf, len);
    if (rc < 0)
        snprintf(enrich_err, sizeof(enrich_err), "cannot read \"%s\": %s", path, strerror(-rc));
    return rc;
}

/* Next line of buf (NUL-terminated in place), skipping comments and blank lines. */
static char *
next_line(char **p)
{
    while (**p) {
        char *line = *p, *nl = strchr(line, '\n');
        if (nl) {
            *nl = 0;
            *p = nl + 1;
        } else {
            *p = line + strlen(line);
        }
        if (*line && *line != '#')
            return line;
    }
    return NULL;
}

static int
load_tone(nw_enricher_t *e, const char *dir)
{
    size_t len;
    int rc = read_data(dir, "tone/lexicon.tsv", &e->tone.buf, &len);
    if (rc < 0)
        return rc;
    char *p = (char *)e->tone.buf, *line;
    while ((line = next_line(&p)) != NULL) {
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        *tab = 0;
        int v = atoi(tab + 1);
        if (v != 0 && (rc = lex_add(&e->tone, line, v)) < 0)
            return rc;
    }
    qsort(e->tone.v, e->tone.n, sizeof(lex_t), lex_cmp);
    return 0;
}

static int
load_themes(nw_enricher_t *e, const char *dir)
{
    size_t len;
    int rc = read_data(dir, "themes/themes.tsv", &e->cues.buf, &len);
    if (rc < 0)
        return rc;
    char *p = (char *)e->cues.buf, *line;
    while ((line = next_line(&p)) != NULL) {
        char *t1 = strchr(line, '\t');
        char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        char *gt = strchr(line, '>');
        if (!t2 || !gt || gt > t1)
            continue;
        *t1 = *t2 = 0;
        theme_t *th = realloc(e->themes, (e->n_themes + 1) * sizeof(*th));
        if (!th)
            return -ENOMEM;
        e->themes = th;
        int idx = (int)e->n_themes++;
        th[idx].id = line;
        size_t k = 0;
        while (k < e->n_tops && !(strlen(e->theme_tops[k]) == (size_t)(gt - line) &&
                                  !memcmp(e->theme_tops[k], line, (size_t)(gt - line))))
            k++;
        if (k == e->n_tops) {
            char **tops = realloc(e->theme_tops, (e->n_tops + 1) * sizeof(*tops));
            if (!tops)
                return -ENOMEM;
            e->theme_tops = tops;
            if (!(tops[e->n_tops] = nw_strndup(line, (size_t)(gt - line))))
                return -ENOMEM;
            e->n_tops++;
        }
        th[idx].top = e->theme_tops[k];
        for (char *w = strtok(t2 + 1, " "); w; w = strtok(NULL, " "))
            if ((rc = lex_add(&e->cues, w, idx)) < 0)
                return rc;
    }
    qsort(e->cues.v, e->cues.n, sizeof(lex_t), lex_cmp);
    return 0;
}

int
nw_enrich_find_data(char *buf, size_t n)
{
    return nw_refdir_find("ner/model.bin", buf, n);
}

void
nw_enricher_destroy(nw_enricher_t **pe)
{
    if (!pe || !*pe)
        return;
    nw_enricher_t *e = *pe;
    nw_ner_langs_destroy(&e->ner);
    nw_langid_destroy(&e->lang);
    nw_gaz_destroy(&e->gaz);
    nw_efilter_destroy(&e->words);
    free(e->tone.buf);
    free(e->tone.v);
    free(e->cues.buf);
    free(e->cues.v);
    free(e->themes);
    for (size_t i = 0; i < e->n_tops; i++)
        free(e->theme_tops[i]);
    free(e->theme_tops);
    free(e);
    *pe = NULL;
}

int
nw_enricher_new(const char *data_dir, const char *model_path, nw_enricher_t **out)
{
    char dir[4096], model[4200];
    nw_enricher_t *e = NULL;
    int rc;

    *out = NULL;
    enrich_err[0] = 0;
    if (data_dir) {
        snprintf(dir, sizeof(dir), "%s", data_dir);
    } else if ((rc = nw_enrich_find_data(dir, sizeof(dir))) < 0) {
        snprintf(enrich_err, sizeof(enrich_err),
                 "no reference data: set NEWSWIRE_REF_DIR to the directory holding "
                 "ner/model.bin and geo/ (tried \"%s\")",
                 dir);
        return rc;
    }
    const char *env = getenv("NEWSWIRE_NER_MODEL");
    if (model_path && *model_path)
        snprintf(model, sizeof(model), "%s", model_path);
    else if (env && *env)
        snprintf(model, sizeof(model), "%s", env);
    else
        snprintf(model, sizeof(model), "%s/ner/model.bin", dir);

    e = calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    char failed[4200];
    rc = nw_ner_langs_load(dir, model, &e->ner, failed, sizeof(failed));
    if (rc < 0) {
        snprintf(enrich_err, sizeof(enrich_err), "cannot load NER model \"%s\": %s", failed,
                 rc == -EPROTO ? "not a valid model" : strerror(-rc));
        goto err;
    }
    snprintf(model, sizeof(model), "%s/lang/model.bin", dir);
    rc = nw_langid_load(model, &e->lang);
    if (rc < 0) {
        snprintf(enrich_err, sizeof(enrich_err), "cannot load language model \"%s\": %s", model,
                 rc == -EPROTO ? "not a valid model (truncated or corrupt)" : strerror(-rc));
        goto err;
    }
    snprintf(model, sizeof(model), "%s/geo", dir);
    rc = nw_gaz_load(model, &e->gaz);
    if (rc < 0) {
        snprintf(enrich_err, sizeof(enrich_err), "cannot load gazetteer \"%s\": %s", model,
                 rc == -EPROTO ? "malformed file" : strerror(-rc));
        goto err;
    }
    if ((rc = load_tone(e, dir)) < 0 || (rc = load_themes(e, dir)) < 0)
        goto err;
    if (!(e->words = nw_efilter_new(NULL))) {
        rc = -ENOMEM;
        goto err;
    }
    *out = e;
    return 0;
err:
    nw_enricher_destroy(&e);
    return rc;
}

/* ---- entities ------------------------------------------------------------------------------ */

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

static int
in_list(const char *const *list, size_t n, const char *w, size_t len)
{
    /* Stops at the first differing byte: no strlen of every entry for every word. */
    for (size_t i = 0; i < n; i++)
        if (list[i][0] == w[0] && strncmp(list[i], w, len) == 0 && list[i][len] == 0)
            return 1;
    return 0;
}
#define IN(list, w, n) in_list(list, sizeof(list) / sizeof(list[0]), w, n)

static int
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
static size_t
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
                const char *hit = memmem(p, strlen(p), forms[f], flen[f]);
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

/* The byte ranges m[0..2n) of text as code-point ranges (what Python's str and most languages'
 * string indexing count; JavaScript counts UTF-16 units, which differ only beyond U+FFFF).
 * m is in text order, so one pass over text serves. Returns a malloc'd array or NULL. */
static uint32_t *
code_point_spans(const char *text, const uint32_t *m, size_t n)
{
    uint32_t *v = malloc(2 * n * sizeof(*v));
    size_t byte = 0, cp = 0;
    if (!v)
        return NULL;
    for (size_t i = 0; i < 2 * n; i++) {
        if (m[i] < byte) { /* out of order: count again from the start */
            byte = 0;
            cp = 0;
        }
        for (; byte < m[i] && text[byte]; byte++)
            cp += ((unsigned char)text[byte] & 0xC0) != 0x80;
        v[i] = (uint32_t)cp;
    }
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
    nw_entity_t *v = calloc(w->nev, sizeof(*v));
    if (!v)
        return -ENOMEM;
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
        if (x->nm && !(y->mentions_cp = code_point_spans(w->art->text, x->m, x->nm)))
            return -ENOMEM;
        y->n_mentions_cp = x->nm;
        x->m = NULL;
        y->salience = best > 0 ? round(x->score / best * 1000) / 1000 : 0;
        y->focus = x->focus;
        if (!y->type)
            return -ENOMEM;
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
                return -ENOMEM;
        }
    }
    qsort(v, n, sizeof(*v), ent_cmp);
    return 0;
}

/* ---- quotes -------------------------------------------------------------------------------- */

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

static int
is_end(const char *t, size_t i, size_t len)
{
    if (t[i] == '\n')
        return 1;
    if (t[i] != '.' && t[i] != '!' && t[i] != '?')
        return 0;
    return i + 1 >= len || t[i + 1] == ' ' || t[i + 1] == '\n' || t[i + 1] == '/';
}

static int
find_quotes(nw_enriched_t *out)
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

/* ---- words, tone, themes, keywords ----------------------------------------------------------- */

/* Calls fn for each word of s (letters, digits, inner hyphens and apostrophes), lowercased in
 * ASCII into a small buffer; off is the word's byte offset in s. */
static void
each_word(const char *s, void (*fn)(const char *w, size_t n, size_t off, void *), void *arg)
{
    char w[64];
    for (size_t i = 0; s && s[i];) {
        if (!is_word_char(s[i]) || s[i] == '-' || s[i] == '\'') {
            i++;
            continue;
        }
        size_t j = i, n = 0;
        while (s[j] && is_word_char(s[j])) {
            if (n < sizeof(w)) {
                char c = s[j];
                w[n++] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
            }
            j++;
        }
        while (n > 0 && (w[n - 1] == '\'' || w[n - 1] == '-'))
            n--;
        if (n >= 2 && w[n - 2] == '\'' && w[n - 1] == 's')
            n -= 2; /* possessive */
        if (n > 0 && n < sizeof(w))
            fn(w, n, i, arg);
        i = j;
    }
}

typedef struct counts {
    const nw_enricher_t *e;
    double words, pos, neg;
    double *theme;
    double weight;
} counts_t;

static void
on_tone(int val, void *arg)
{
    counts_t *c = arg;
    if (val > 0)
        c->pos += c->weight;
    else
        c->neg += c->weight;
}

static void
on_cue(int val, void *arg)
{
    counts_t *c = arg;
    c->theme[val] += c->weight;
}

static void
count_word(const char *w, size_t n, size_t off, void *arg)
{
    counts_t *c = arg;
    (void)off;
    c->words += 1;
    lex_match(&c->e->tone, w, n, on_tone, c);
    lex_match(&c->e->cues, w, n, on_cue, c);
}

static int
scored_cmp(const void *a, const void *b)
{
    const nw_scored_t *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return strcmp(x->id, y->id);
}

static int
add_scored(nw_scored_t **v, size_t *n, const char *id, size_t idlen, double score)
{
    nw_scored_t *x = realloc(*v, (*n + 1) * sizeof(*x));
    if (!x)
        return -ENOMEM;
    *v = x;
    x[*n] = (nw_scored_t){.id = nw_strndup(id, idlen), .score = round(score * 1000) / 1000};
    return x[(*n)++].id ? 0 : -ENOMEM;
}

/* Tone per 100 words, and themes: cue hits per 100 words, title words three times. */
static int
tone_and_themes(const nw_enricher_t *e, const nw_article_t *art, nw_enriched_t *out)
{
    double *theme = calloc(e->n_themes + 1, sizeof(double));
    if (!theme)
        return -ENOMEM;
    counts_t c = {.e = e, .theme = theme, .weight = 3};
    each_word(art->title, count_word, &c);
    c.weight = 1;
    each_word(art->subtitle, count_word, &c);
    each_word(art->text, count_word, &c);
    int rc = 0;
    if (c.words > 0) {
        out->tone_pos = round(c.pos * 100 / c.words * 100) / 100;
        out->tone_neg = round(c.neg * 100 / c.words * 100) / 100;
        if (c.pos + c.neg > 0)
            out->polarity = round((c.pos - c.neg) / (c.pos + c.neg) * 1000) / 1000;
        /* A theme needs half a cue per 100 words; each kept sub-theme feeds its top level. */
        for (size_t k = 0; k < e->n_tops && rc == 0; k++) {
            double top = 0;
            for (size_t i = 0; i < e->n_themes && rc == 0; i++) {
                double s = theme[i] * 100 / c.words;
                if (e->themes[i].top != e->theme_tops[k] || s < 0.5)
                    continue;
                top += s;
                rc = add_scored(&out->themes, &out->n_themes, e->themes[i].id,
                                strlen(e->themes[i].id), s);
            }
            if (top > 0 && rc == 0)
                rc = add_scored(&out->themes, &out->n_themes, e->theme_tops[k],
                                strlen(e->theme_tops[k]), top);
        }
        if (out->n_themes)
            qsort(out->themes, out->n_themes, sizeof(nw_scored_t), scored_cmp);
    }
    free(theme);
    return rc;
}

/* English function words and reporting verbs: they split key phrases and never are one. */
static const char *const STOPWORDS[] = {
    "a",        "about",   "after",    "again",   "against", "all",       "also",      "an",
    "and",      "any",     "are",      "as",      "at",      "be",        "because",   "been",
    "before",   "being",   "between",  "both",    "but",     "by",        "can",       "could",
    "did",      "do",      "does",     "during",  "each",    "either",    "even",      "few",
    "for",      "from",    "further",  "had",     "has",     "have",      "having",    "he",
    "her",      "here",    "him",      "his",     "how",     "i",         "if",        "in",
    "into",     "is",      "it",       "its",     "just",    "last",      "later",     "least",
    "less",     "many",    "may",      "me",      "might",   "more",      "most",      "much",
    "must",     "my",      "new",      "no",      "nor",     "not",       "now",       "of",
    "off",      "on",      "once",     "one",     "only",    "or",        "other",     "our",
    "out",      "over",    "own",      "per",     "said",    "same",      "say",       "says",
    "she",      "should",  "since",    "so",      "some",    "still",     "such",      "than",
    "that",     "the",     "their",    "them",    "then",    "there",     "these",     "they",
    "this",     "those",   "through",  "to",      "told",    "too",       "towards",   "under",
    "until",    "up",      "upon",     "us",      "very",    "was",       "we",        "were",
    "what",     "when",    "where",    "which",   "while",   "who",       "whom",      "why",
    "will",     "with",    "within",   "without", "would",   "yet",       "you",       "your",
    "week",     "day",     "days",     "year",    "years",   "monday",    "tuesday",   "wednesday",
    "thursday", "friday",  "saturday", "sunday",  "added",   "according", "including", "already",
    "nearly",   "further", "yet",      "where",   "shall",   "two",       "three",     "four",
    "five",     "six",     "seven",    "eight",   "nine",    "ten",       "first",     "second",
    "fifth",    "sixth",   "part",     "due",     "well",    "like",      "mr",        "mrs",
    "ms"};

typedef struct kw {
    char text[96];
    size_t len;
    double score;
} kw_t;

typedef struct kwork {
    kw_t *v;
    size_t n, cap;
    /* Open-addressing index into v by phrase hash (slot = index + 1, 0 = empty), twice the
     * capacity of v: a linear search made keywords quadratic in the article's length. */
    uint32_t *slots;
    size_t nslots;
    char run[3][64];
    size_t runlen[3];
    size_t nrun;
    size_t last_end;
    double weight;
    int oom;
} kwork_t;

static size_t
kw_slot(const kwork_t *k, const char *p, size_t n)
{
    size_t mask = k->nslots - 1, h = (size_t)XXH3_64bits(p, n) & mask;
    while (k->slots[h]) {
        const kw_t *w = &k->v[k->slots[h] - 1];
        if (w->len == n && !memcmp(w->text, p, n))
            break;
        h = (h + 1) & mask;
    }
    return h;
}

static void
kw_add(kwork_t *k, const char *p, size_t n, double score)
{
    if (k->nslots) {
        size_t h = kw_slot(k, p, n);
        if (k->slots[h]) {
            k->v[k->slots[h] - 1].score += score;
            return;
        }
    }
    if (k->n == k->cap) {
        size_t cap = k->cap ? 2 * k->cap : 64;
        kw_t *v = realloc(k->v, cap * sizeof(*v));
        uint32_t *slots = calloc(2 * cap, sizeof(*slots));
        if (!v || !slots) {
            if (v)
                k->v = v;
            free(slots);
            k->oom = 1;
            return;
        }
        k->v = v;
        k->cap = cap;
        free(k->slots);
        k->slots = slots;
        k->nslots = 2 * cap;
        for (size_t i = 0; i < k->n; i++)
            k->slots[kw_slot(k, k->v[i].text, k->v[i].len)] = (uint32_t)(i + 1);
    }
    memcpy(k->v[k->n].text, p, n);
    k->v[k->n].text[n] = 0;
    k->v[k->n].len = n;
    k->v[k->n].score = score;
    k->slots[kw_slot(k, p, n)] = (uint32_t)(k->n + 1);
    k->n++;
}

/* Every phrase of 1..3 content words ending at the current word is a candidate; longer phrases
 * score more per occurrence, so "middle east tour" beats "tour". */
static void
kw_word(const char *w, size_t n, size_t off, void *arg)
{
    kwork_t *k = arg;
    int stop = n < 3 || (w[0] >= '0' && w[0] <= '9') ||
               in_list(STOPWORDS, sizeof(STOPWORDS) / sizeof(STOPWORDS[0]), w, n);
    /* a gap of punctuation between words breaks a phrase too */
    if (stop || n >= 64 || (k->nrun && off > k->last_end + 1)) {
        k->nrun = 0;
    }
    k->last_end = off + n;
    if (stop || n >= 64)
        return;
    if (k->nrun == 3) {
        memmove(k->run[0], k->run[1], sizeof(k->run[0]) * 2);
        k->runlen[0] = k->runlen[1];
        k->runlen[1] = k->runlen[2];
        k->nrun = 2;
    }
    memcpy(k->run[k->nrun], w, n);
    k->runlen[k->nrun++] = n;
    for (size_t len = 1; len <= k->nrun; len++) {
        char buf[200];
        size_t bl = 0;
        for (size_t i = k->nrun - len; i < k->nrun; i++) {
            if (bl)
                buf[bl++] = ' ';
            memcpy(buf + bl, k->run[i], k->runlen[i]);
            bl += k->runlen[i];
        }
        if (bl < 96)
            kw_add(k, buf, bl, k->weight * (1.0 + 0.5 * (double)(len - 1)));
    }
}

static int
kw_cmp(const void *a, const void *b)
{
    const kw_t *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return strcmp(x->text, y->text);
}

static int
keywords(const nw_article_t *art, nw_enriched_t *out)
{
    kwork_t k = {0};
    k.weight = 2;
    each_word(art->title, kw_word, &k);
    k.nrun = 0;
    k.weight = 1.5;
    each_word(art->subtitle, kw_word, &k);
    k.nrun = 0;
    k.weight = 1;
    each_word(art->text, kw_word, &k);
    int rc = k.oom ? -ENOMEM : 0;
    if (k.n)
        qsort(k.v, k.n, sizeof(kw_t), kw_cmp);
    /* Keep the ten best that occur more than once (score > 2), skipping a phrase contained in
     * a better one. */
    for (size_t i = 0; i < k.n && out->n_keywords < 10 && rc == 0; i++) {
        if (k.v[i].score <= 2)
            break;
        int inside = 0;
        for (size_t j = 0; j < out->n_keywords && !inside; j++)
            inside = strstr(out->keywords[j].id, k.v[i].text) != NULL;
        if (!inside)
            rc = add_scored(&out->keywords, &out->n_keywords, k.v[i].text, strlen(k.v[i].text),
                            k.v[i].score);
    }
    free(k.v);
    free(k.slots);
    return rc;
}

/* ---- dates and amounts ----------------------------------------------------------------------- */

static const char *const WEEKDAYS[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                       "Thursday", "Friday", "Saturday"};
static const char *const MONTHS[] = {"January",   "February", "March",    "April",
                                     "May",       "June",     "July",     "August",
                                     "September", "October",  "November", "December"};

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static long
days_from_civil(long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long)doe - 719468;
}

static void
civil_from_days(long z, char *out)
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long y = (long)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    char tmp[48];
    snprintf(tmp, sizeof(tmp), "%04ld-%02u-%02u", y + (m <= 2), m, d);
    memcpy(out, tmp, 10);
    out[10] = 0;
}

static int
word_index(const char *const *list, size_t n, const char *s, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(list[i]) == len && !strncmp(list[i], s, len))
            return (int)i;
    return -1;
}

static int
parse_pub(const char *pub, long *days)
{
    int y, m, d;
    if (!pub || sscanf(pub, "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12 || d < 1 || d > 31)
        return -EINVAL;
    *days = days_from_civil(y, (unsigned)m, (unsigned)d);
    return 0;
}

/* nw_enrich_resolve_date with the publication date already parsed (p days since 1970-01-01 when
 * have_pub): find_dates tries every word of the text, and re-reading the date with sscanf for
 * each one showed in the profile. */
static int
resolve_date(const char *text, size_t len, int have_pub, long p, int future, char *out)
{
    word_t w[4];
    char buf[64];
    if (len >= sizeof(buf))
        return -EINVAL;
    /* "February 6, 2024": commas are noise here */
    size_t bl = 0;
    for (size_t i = 0; i < len; i++)
        if (text[i] != ',')
            buf[bl++] = text[i];
    buf[bl] = 0; /* strtol below must stop at the end of the expression */
    size_t n = split_words(buf, bl, w, 4);
    if (n == 1) {
        int wd = word_index(WEEKDAYS, 7, w[0].s, w[0].n);
        if (wd < 0 || !have_pub)
            return -EINVAL;
        int pw = (int)(((p % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
        long delta = future ? (wd - pw + 7) % 7 : -(long)((pw - wd + 7) % 7);
        civil_from_days(p + delta, out);
        return 0;
    }
    if (n < 2 || n > 3)
        return -EINVAL;
    int mi = word_index(MONTHS, 12, w[0].s, w[0].n), di = 1;
    if (mi < 0) {
        mi = word_index(MONTHS, 12, w[1].s, w[1].n);
        di = 0;
    }
    if (mi < 0)
        return -EINVAL;
    char *endp;
    long day = strtol(w[di].s, &endp, 10);
    if (endp != w[di].s + w[di].n || day < 1 || day > 31)
        return -EINVAL;
    long year;
    if (n == 3) {
        year = strtol(w[2].s, &endp, 10);
        if (endp != w[2].s + w[2].n || year < 1000 || year > 9999)
            return -EINVAL;
    } else {
        if (!have_pub)
            return -EINVAL;
        char ys[11];
        civil_from_days(p, ys);
        year = strtol(ys, NULL, 10);
        /* without a year: the latest such date on or before publication (or after, for
         * future) */
        long z = days_from_civil(year, (unsigned)mi + 1, (unsigned)day);
        if (!future && z > p)
            year--;
        if (future && z < p)
            year++;
    }
    civil_from_days(days_from_civil(year, (unsigned)mi + 1, (unsigned)day), out);
    return 0;
}

/* "will" or "next" earlier in the same sentence makes a weekday point forward. */
static int
future_context(const char *t, size_t at)
{
    size_t s = at;
    while (s > 0 && !is_end(t, s - 1, at))
        s--;
    for (size_t i = s; i + 4 <= at; i++) {
        if (i > 0 && is_word_char(t[i - 1]))
            continue;
        if ((!strncmp(t + i, "will ", 5) || !strncmp(t + i, "next ", 5) ||
             !strncmp(t + i, "Will ", 5)))
            return 1;
    }
    return 0;
}

int
nw_enrich_resolve_date(const char *text, size_t len, const char *pub, int future, char *out)
{
    long p = 0;
    int have_pub = parse_pub(pub, &p) == 0;
    return resolve_date(text, len, have_pub, p, future, out);
}

static int
add_date(nw_enriched_t *out, const char *t, size_t s, size_t e, const char *iso)
{
    nw_datemention_t *v = realloc(out->dates, (out->n_dates + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    out->dates = v;
    v[out->n_dates] = (nw_datemention_t){
        .text = nw_strndup(t + s, e - s), .date = strdup(iso), .start = (uint32_t)s};
    out->n_dates++;
    return v[out->n_dates - 1].text && v[out->n_dates - 1].date ? 0 : -ENOMEM;
}

/* Longest date expression starting at word i of text: "Month D, YYYY", "D Month YYYY",
 * "Month D", "D Month", or a weekday. Returns its end or 0. */
static size_t
date_at(const char *t, size_t i, int have_pub, long pub, char *iso)
{
    size_t ends[3], k = 0, j = i;
    for (; k < 3; k++) {
        while (j < i + 40 && (t[j] == ' ' || t[j] == ',') && k > 0)
            j++;
        size_t e = j;
        while (t[e] && is_word_char(t[e]) && t[e] != '\'')
            e++;
        if (e == j)
            break;
        ends[k] = e;
        j = e;
    }
    for (size_t n = k; n >= 1; n--) {
        /* Only a real date needs its sentence's tense (a scan back to the sentence start). */
        if (resolve_date(t + i, ends[n - 1] - i, have_pub, pub, 0, iso) == 0) {
            if (future_context(t, i))
                resolve_date(t + i, ends[n - 1] - i, have_pub, pub, 1, iso);
            return ends[n - 1];
        }
    }
    return 0;
}

static int
find_dates(nw_enriched_t *out, const char *pub)
{
    const char *t = out->art.text;
    long p = 0;
    int have_pub = parse_pub(pub, &p) == 0;
    for (size_t i = 0; t && t[i];) {
        if (!is_word_char(t[i]) || (i > 0 && is_word_char(t[i - 1]))) {
            i++;
            continue;
        }
        char iso[11];
        size_t e = date_at(t, i, have_pub, p, iso);
        if (e) {
            int rc = add_date(out, t, i, e, iso);
            if (rc < 0)
                return rc;
            i = e;
        } else {
            while (t[i] && is_word_char(t[i]))
                i++;
        }
    }
    return 0;
}

static const char *const SCALES[] = {"thousand", "million", "billion", "trillion"};
static const double SCALE_V[] = {1e3, 1e6, 1e9, 1e12};

static int
in_date(const nw_enriched_t *out, size_t at)
{
    for (size_t i = 0; i < out->n_dates; i++)
        if (at >= out->dates[i].start && at < out->dates[i].start + strlen(out->dates[i].text))
            return 1;
    return 0;
}

static int
find_amounts(nw_enriched_t *out)
{
    const char *t = out->art.text;
    for (size_t i = 0; t && t[i]; i++) {
        if (!(t[i] >= '0' && t[i] <= '9') || (i > 0 && (is_word_char(t[i - 1]) || t[i - 1] == '.')))
            continue;
        size_t s = i, e = i;
        const char *cur = NULL;
        if (s > 0 && t[s - 1] == '$')
            cur = "USD", s--;
        else if (s >= 2 && (unsigned char)t[s - 2] == 0xC2 && (unsigned char)t[s - 1] == 0xA3)
            cur = "GBP", s -= 2;
        else if (s >= 3 && !memcmp(t + s - 3, "\xE2\x82\xAC", 3))
            cur = "EUR", s -= 3;
        char num[64];
        size_t nl = 0;
        while (t[e] && ((t[e] >= '0' && t[e] <= '9') ||
                        ((t[e] == ',' || t[e] == '.') && t[e + 1] >= '0' && t[e + 1] <= '9'))) {
            if (t[e] != ',' && nl + 1 < sizeof(num))
                num[nl++] = t[e];
            e++;
        }
        num[nl] = 0;
        /* resume at e on the next turn; e may be the NUL of a text that ends in a digit, so the
         * loop's own i++ must land on it, not past it */
        i = e - 1;
        if (is_word_char(t[e]) || in_date(out, s))
            continue; /* "4-month", "7th", a date's day */
        double value = strtod(num, NULL);
        size_t w = e;
        while (t[w] == ' ')
            w++;
        size_t we = w;
        while (t[we] && is_word_char(t[we]))
            we++;
        int sc = word_index(SCALES, 4, t + w, we - w);
        int scaled = sc >= 0;
        if (scaled) {
            value *= SCALE_V[sc];
            e = we;
            w = we;
            while (t[w] == ' ')
                w++;
            we = w;
            while (t[we] && is_word_char(t[we]))
                we++;
        }
        /* the counted noun: a lowercase word that is not a function word */
        const char *unit = cur;
        size_t ul = cur ? 3 : 0;
        if (!cur && we > w && t[w] >= 'a' && t[w] <= 'z' &&
            !in_list(STOPWORDS, sizeof(STOPWORDS) / sizeof(STOPWORDS[0]), t + w, we - w) &&
            word_index(MONTHS, 12, t + w, we - w) < 0) {
            unit = t + w;
            ul = we - w;
            e = we;
        }
        if (!unit && !scaled)
            continue; /* a bare number: a year, a score, a count without its noun */
        nw_amount_t *v = realloc(out->amounts, (out->n_amounts + 1) * sizeof(*v));
        if (!v)
            return -ENOMEM;
        out->amounts = v;
        v[out->n_amounts] = (nw_amount_t){.text = nw_strndup(t + s, e - s),
                                          .value = value,
                                          .unit = unit ? nw_strndup(unit, ul) : NULL,
                                          .start = (uint32_t)s};
        out->n_amounts++;
        if (!v[out->n_amounts - 1].text || (unit && !v[out->n_amounts - 1].unit))
            return -ENOMEM;
    }
    return 0;
}

/* ---- paragraphs, topics, the run ------------------------------------------------------------- */

static int
para_langs(const nw_enricher_t *e, nw_enriched_t *out)
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
                nw_lang_detect_with(e->lang, t, n, code, sizeof(code));
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

static int
add_topic(nw_enriched_t *out, const char *topic)
{
    for (size_t i = 0; i < out->n_topics; i++)
        if (strcmp(out->topics[i], topic) == 0)
            return 0;
    char **v = realloc(out->topics, (out->n_topics + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    out->topics = v;
    if (!(v[out->n_topics] = strdup(topic)))
        return -ENOMEM;
    out->n_topics++;
    return 0;
}

static int
entity_topics(nw_enriched_t *out)
{
    int rc = 0;
    char slug[128], topic[200];
    for (size_t i = 0; i < out->n_entities && rc == 0; i++) {
        const nw_entity_t *x = &out->entities[i];
        if (!nw_enrich_slug(x->name, slug, sizeof(slug)))
            continue;
        if (!strcmp(x->type, "person") || !strcmp(x->type, "org")) {
            snprintf(topic, sizeof(topic), "%s.%s", x->type, slug);
            rc = add_topic(out, topic);
        } else if (x->cc) {
            char cc[3] = {(char)(x->cc[0] + 32), (char)(x->cc[1] + 32), 0};
            snprintf(topic, sizeof(topic), "country.%s", cc);
            rc = add_topic(out, topic);
            if (rc == 0 && x->admin1) {
                snprintf(topic, sizeof(topic), "place.%s.%s", cc, slug);
                rc = add_topic(out, topic);
            }
        }
    }
    for (size_t i = 0; i < out->n_themes && rc == 0; i++) {
        const char *id = strchr(out->themes[i].id, '>');
        if (nw_enrich_slug(id ? id + 1 : out->themes[i].id, slug, sizeof(slug))) {
            snprintf(topic, sizeof(topic), "theme.%s", slug);
            rc = add_topic(out, topic);
        }
    }
    return rc;
}

int
nw_enricher_run(const nw_enricher_t *e, nw_article_t *art, nw_enriched_t *out)
{
    work_t w = {.e = e};
    nw_buf_t all = {0};
    int rc = enrich_base(e->lang, art, out);
    if (rc < 0)
        return rc;
    const nw_article_t *a = &out->art;
    w.art = a;
    /* Paragraph languages first: they choose the NER model of each paragraph. */
    rc = para_langs(e, out);
    w.para_langs = out->para_langs;
    w.n_para_langs = out->n_para_langs;
    w.rc = rc;
    tag_part(&w, a->title, 0, 3.0);
    tag_part(&w, a->subtitle, 0, 2.0);
    tag_part(&w, a->text, 1, 1.0);
    if (w.rc == 0)
        resolve_entities(&w);
    if (w.rc == 0)
        drop_common_words(&w);
    if (w.rc == 0)
        geocode(&w);
    rc = w.rc;
    if (rc == 0)
        rc = emit_entities(&w, out);
    if (rc == 0)
        rc = find_quotes(out);
    if (rc == 0)
        rc = tone_and_themes(e, a, out);
    if (rc == 0)
        rc = keywords(a, out);
    if (rc == 0)
        rc = find_dates(out, a->published);
    if (rc == 0)
        rc = find_amounts(out);
    if (rc == 0)
        rc = entity_topics(out);
    if (rc == 0) {
        nw_fp_t fp;
        append_part(&all, a->title, &rc);
        append_part(&all, a->text, &rc);
        if (rc == 0)
            rc = nw_fp_compute((const char *)all.data, all.len, a->lang, &fp);
        if (rc == 0) {
            nw_fp_add_entities(&fp, out);
            rc = nw_fp_store(&fp, out);
        }
    }
    for (size_t i = 0; i < w.nmv; i++)
        free(w.mv[i].name);
    free(w.mv);
    for (size_t i = 0; i < w.nev; i++) {
        free(w.ev[i].name);
        free(w.ev[i].m);
    }
    free(w.ev);
    nw_buf_release(&all);
    if (rc < 0) {
        /* hand the article back as the contract says */
        *art = out->art;
        memset(&out->art, 0, sizeof(out->art));
        nw_enriched_release(out);
    }
    return rc;
}
