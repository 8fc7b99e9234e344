/* entity_filter.c: common words of nine languages from the system's Debian dictionaries (see
 * entity_filter.h), for telling a capitalised common word from a name. */
#include "entity_filter.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include <utf8proc.h>

#include "newswire/util.h"

#include "ucs.h"

/* Where each language's list lives and how to read it. The hunspell .dic files list stems with
 * affix flags after a '/', a count on their first line, and declare their charset in the .aff
 * (ISO 8859-2 for Polish). */
typedef struct source {
    const char *lang;
    const char *path; /* relative to the root */
    const char *charset;
} source_t;

static const source_t SOURCES[] = {
    {"en", "dict/american-english", NULL}, {"de", "dict/ngerman", NULL},
    {"es", "dict/spanish", NULL},          {"fr", "dict/french", NULL},
    {"it", "dict/italian", NULL},          {"nl", "dict/dutch", NULL},
    {"pt", "dict/portuguese", NULL},       {"pl", "hunspell/pl_PL.dic", "ISO-8859-2"},
    {"ru", "hunspell/ru_RU.dic", NULL},
};
enum { NSRC = sizeof(SOURCES) / sizeof(SOURCES[0]) };

/* The same languages from the hunspell dictionaries (stems, no inflected forms). The filter reads
 * both: the wordlists miss common words ("según" and "cómo" are not in wspanish, "capodanno" not
 * in witalian). bench_enrich judges by these alone. */
static const source_t HUNSPELL[NSRC] = {
    {"en", "dict/american-english", NULL}, {"de", "hunspell/de_DE.dic", NULL},
    {"es", "hunspell/es_ES.dic", NULL},    {"fr", "hunspell/fr_FR.dic", NULL},
    {"it", "hunspell/it_IT.dic", NULL},    {"nl", "hunspell/nl_NL.dic", NULL},
    {"pt", "hunspell/pt_PT.dic", NULL},    {"pl", "hunspell/pl_PL.dic", "ISO-8859-2"},
    {"ru", "hunspell/ru_RU.dic", NULL},
};

typedef struct hset {
    uint32_t *v;
    size_t n, cap;
} hset_t;

struct nw_efilter {
    hset_t lower[NSRC]; /* case-folded lowercase entries */
    hset_t upper[NSRC]; /* case-folded capitalised entries */
    int loaded[NSRC];
    int tried[NSRC]; /* lists are read on the first question about their language */
    const source_t *src, *more;
    char *root;
};

/* Weekdays and months, case-folded, nominative and (pl, ru) genitive. */
static const char *const CALENDAR[] = {
    "monday",       "tuesday",      "wednesday",   "thursday",  "friday",        "saturday",
    "sunday",       "january",      "february",    "march",     "april",         "may",
    "june",         "july",         "august",      "september", "october",       "november",
    "december",     "montag",       "dienstag",    "mittwoch",  "donnerstag",    "freitag",
    "samstag",      "sonntag",      "sonnabend",   "januar",    "februar",       "märz",
    "mai",          "juni",         "juli",        "oktober",   "dezember",      "lunes",
    "martes",       "miércoles",    "jueves",      "viernes",   "sábado",        "domingo",
    "enero",        "febrero",      "marzo",       "abril",     "mayo",          "junio",
    "julio",        "agosto",       "septiembre",  "octubre",   "noviembre",     "diciembre",
    "lundi",        "mardi",        "mercredi",    "jeudi",     "vendredi",      "samedi",
    "dimanche",     "janvier",      "février",     "mars",      "avril",         "juin",
    "juillet",      "août",         "septembre",   "octobre",   "novembre",      "décembre",
    "lunedì",       "martedì",      "mercoledì",   "giovedì",   "venerdì",       "sabato",
    "domenica",     "gennaio",      "febbraio",    "aprile",    "maggio",        "giugno",
    "luglio",       "settembre",    "ottobre",     "dicembre",  "maandag",       "dinsdag",
    "woensdag",     "donderdag",    "vrijdag",     "zaterdag",  "zondag",        "januari",
    "februari",     "maart",        "mei",         "augustus",  "segunda-feira", "terça-feira",
    "quarta-feira", "quinta-feira", "sexta-feira", "janeiro",   "fevereiro",     "março",
    "maio",         "junho",        "julho",       "setembro",  "outubro",       "novembro",
    "dezembro",     "poniedziałek", "wtorek",      "środa",     "czwartek",      "piątek",
    "sobota",       "niedziela",    "styczeń",     "luty",      "marzec",        "kwiecień",
    "maj",          "czerwiec",     "lipiec",      "sierpień",  "wrzesień",      "październik",
    "listopad",     "grudzień",     "stycznia",    "lutego",    "marca",         "kwietnia",
    "maja",         "czerwca",      "lipca",       "sierpnia",  "września",      "października",
    "listopada",    "grudnia",      "понедельник", "вторник",   "среда",         "четверг",
    "пятница",      "суббота",      "воскресенье", "январь",    "февраль",       "март",
    "апрель",       "май",          "июнь",        "июль",      "август",        "сентябрь",
    "октябрь",      "ноябрь",       "декабрь",     "января",    "февраля",       "марта",
    "апреля",       "мая",          "июня",        "июля",      "августа",       "сентября",
    "октября",      "ноября",       "декабря"};

/* Lowercase w[0..n) into out (cap bytes), code point by code point (utf8proc_tolower, no
 * allocation: start-up folds two million dictionary words); returns the length, 0 when it does
 * not fit or is not UTF-8. */
static size_t
fold(const char *w, size_t n, char *out, size_t cap)
{
    size_t i = 0, k = 0;
    while (i < n) {
        unsigned char c = (unsigned char)w[i];
        if (c < 0x80) {
            if (k + 1 >= cap)
                return 0;
            out[k++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
            i++;
            continue;
        }
        utf8proc_int32_t cp;
        utf8proc_ssize_t l =
            utf8proc_iterate((const utf8proc_uint8_t *)w + i, (utf8proc_ssize_t)(n - i), &cp);
        if (l <= 0 || k + 5 >= cap)
            return 0;
        k += (size_t)utf8proc_encode_char(utf8proc_tolower(cp), (utf8proc_uint8_t *)out + k);
        i += (size_t)l;
    }
    out[k] = 0;
    return k;
}

/* Is the first code point of w an uppercase or titlecase letter? */
static int
capitalised(const char *w, size_t n)
{
    utf8proc_int32_t c;
    if (n == 0 || utf8proc_iterate((const utf8proc_uint8_t *)w, (utf8proc_ssize_t)n, &c) < 0)
        return 0;
    return nw_ucs_is_upper(utf8proc_category(c));
}

/* 32 bits of XXH3: with at most half a million words a language, a word outside the list
 * collides with one inside about once in 8,000 lookups, and a collision only drops a one-word
 * name that also looked common. Half the memory of 64 bits. */
static uint32_t
hash(const char *w, size_t n)
{
    return (uint32_t)XXH3_64bits(w, n);
}

static int
hset_add(hset_t *h, uint32_t x)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 4096;
        uint32_t *v = realloc(h->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        h->v = v;
        h->cap = cap;
    }
    h->v[h->n++] = x;
    return 0;
}

static int
u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Sort v[0..n): an LSD radix sort, four byte passes. A language's lists are read on its first
 * article, inside the service's work: qsort with a comparator over their ~10^6 hashes was 28% of
 * enrich's CPU on a hundred HTML pages in nine languages. Without memory for the scratch copy,
 * qsort does it. */
static void
sort_u32(uint32_t *v, size_t n)
{
    uint32_t *tmp = n > 1 ? malloc(n * sizeof(*tmp)) : NULL;
    if (tmp == NULL) {
        if (n > 1)
            qsort(v, n, sizeof(*v), u32_cmp);
        return;
    }
    uint32_t *src = v, *dst = tmp;
    for (int shift = 0; shift < 32; shift += 8) {
        size_t count[257] = {0};
        for (size_t i = 0; i < n; i++)
            count[(src[i] >> shift & 0xff) + 1]++;
        if (count[(src[0] >> shift & 0xff) + 1] == n)
            continue; /* every key has the same byte here: nothing moves */
        for (int k = 0; k < 256; k++)
            count[k + 1] += count[k];
        for (size_t i = 0; i < n; i++)
            dst[count[src[i] >> shift & 0xff]++] = src[i];
        uint32_t *x = src;
        src = dst;
        dst = x;
    }
    if (src != v)
        memcpy(v, src, n * sizeof(*v));
    free(tmp);
}

static void
hset_seal(hset_t *h)
{
    size_t k = 0;
    if (h->n == 0)
        return;
    sort_u32(h->v, h->n);
    for (size_t i = 0; i < h->n; i++)
        if (k == 0 || h->v[k - 1] != h->v[i])
            h->v[k++] = h->v[i];
    h->n = k;
    uint32_t *v = realloc(h->v, k * sizeof(*v)); /* give back the doubling slack */
    if (v)
        h->v = v;
    h->cap = k;
}

static int
hset_has(const hset_t *h, uint32_t x)
{
    size_t lo = 0, hi = h->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->v[mid] == x)
            return 1;
        if (h->v[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static int
load_one(nw_efilter_t *f, const source_t *src, size_t li, const char *root)
{
    char path[4096];
    uint8_t *buf = NULL;
    char *conv = NULL;
    size_t len = 0;
    int rc;
    snprintf(path, sizeof(path), "%s/%s", root, src[li].path);
    if ((rc = nw_read_file(path, (size_t)64 << 20, &buf, &len)) < 0)
        return rc;
    char *text = (char *)buf;
    if (src[li].charset) {
        /* Every ISO 8859 byte is at most two UTF-8 bytes. */
        iconv_t cd = iconv_open("UTF-8", src[li].charset);
        if (cd == (iconv_t)-1) {
            rc = -errno;
            goto out;
        }
        conv = malloc(2 * len + 1);
        char *in = text, *o = conv;
        size_t il = len, ol = 2 * len;
        if (!conv || iconv(cd, &in, &il, &o, &ol) == (size_t)-1) {
            iconv_close(cd);
            rc = conv ? -EILSEQ : -ENOMEM;
            goto out;
        }
        iconv_close(cd);
        *o = 0;
        text = conv;
        len = (size_t)(o - conv);
    }
    /* Room for every line at once: doubling would hold twice the list at the peak. */
    size_t lines = 1;
    for (const char *p = text; (p = memchr(p, '\n', len - (size_t)(p - text))); p++)
        lines++;
    uint32_t *v = realloc(f->lower[li].v, (f->lower[li].n + lines) * sizeof(*v));
    if (!v) {
        rc = -ENOMEM;
        goto out;
    }
    f->lower[li].v = v;
    f->lower[li].cap = f->lower[li].n + lines;
    char word[256];
    for (size_t i = 0; i < len;) {
        size_t e = i;
        while (e < len && text[e] != '\n')
            e++;
        size_t n = e - i;
        const char *slash = memchr(text + i, '/', n);
        if (slash)
            n = (size_t)(slash - (text + i));
        while (n > 0 &&
               (text[i + n - 1] == '\r' || text[i + n - 1] == ' ' || text[i + n - 1] == '\t'))
            n--;
        size_t k = n ? fold(text + i, n, word, sizeof(word)) : 0;
        if (k > 1 && !(word[0] >= '0' && word[0] <= '9')) {
            hset_t *h = capitalised(text + i, n) ? &f->upper[li] : &f->lower[li];
            if ((rc = hset_add(h, hash(word, k))) < 0)
                goto out;
        }
        i = e + 1;
    }
    hset_seal(&f->lower[li]);
    hset_seal(&f->upper[li]);
    f->loaded[li] = 1;
    rc = 0;
out:
    free(conv);
    free(buf);
    return rc;
}

static nw_efilter_t *
filter_new(const char *root, const source_t *src, const source_t *more)
{
    nw_efilter_t *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    if (!root) {
        const char *env = getenv("NEWSWIRE_DICT_ROOT");
        root = env && *env ? env : "/usr/share";
    }
    f->src = src;
    f->more = more;
    if (!(f->root = strdup(root)))
        nw_efilter_destroy(&f);
    return f;
}

/* Read language li's lists the first time it is asked about: a process that only ever sees
 * English articles reads 100,000 words, not two million (and a test start-up stays fast). An
 * unreadable list or no memory leaves the language without one. */
static int
ensure(nw_efilter_t *f, int li)
{
    if (!f || li < 0)
        return 0;
    if (!f->tried[li]) {
        f->tried[li] = 1;
        load_one(f, f->src, (size_t)li, f->root);
        if (f->more && strcmp(f->more[li].path, f->src[li].path) != 0)
            load_one(f, f->more, (size_t)li, f->root);
    }
    return f->loaded[li];
}

nw_efilter_t *
nw_efilter_new(const char *root)
{
    return filter_new(root, SOURCES, HUNSPELL);
}

nw_efilter_t *
nw_efilter_new_hunspell(const char *root)
{
    return filter_new(root, HUNSPELL, NULL);
}

void
nw_efilter_destroy(nw_efilter_t **pf)
{
    if (!pf || !*pf)
        return;
    for (size_t i = 0; i < NSRC; i++) {
        free((*pf)->lower[i].v);
        free((*pf)->upper[i].v);
    }
    free((*pf)->root);
    free(*pf);
    *pf = NULL;
}

static int
lang_index(const char *lang)
{
    for (size_t i = 0; lang && i < NSRC; i++)
        if (strcmp(SOURCES[i].lang, lang) == 0)
            return (int)i;
    return -1;
}

void
nw_efilter_load_all(nw_efilter_t *f)
{
    for (int i = 0; i < NSRC; i++)
        ensure(f, i);
}

int
nw_efilter_has_lang(nw_efilter_t *f, const char *lang)
{
    int i = lang_index(lang);
    return ensure(f, i);
}

int
nw_efilter_calendar(const char *w, size_t n)
{
    char word[256];
    size_t k = fold(w, n, word, sizeof(word));
    for (size_t i = 0; k && i < sizeof(CALENDAR) / sizeof(CALENDAR[0]); i++)
        if (strcmp(CALENDAR[i], word) == 0)
            return 1;
    return 0;
}

int
nw_efilter_common(nw_efilter_t *f, const char *lang, const char *w, size_t n)
{
    char word[256];
    if (nw_efilter_calendar(w, n))
        return 1;
    int li = lang_index(lang);
    size_t k = fold(w, n, word, sizeof(word));
    if (!ensure(f, li) || k == 0)
        return 0;
    ensure(f, 0); /* the English proper names */
    uint32_t h = hash(word, k);
    int common = hset_has(&f->lower[li], h) ||
                 (strcmp(SOURCES[li].lang, "de") == 0 && hset_has(&f->upper[li], h));
    /* English capitalised entries are proper names: first names, surnames, places, firms. */
    return common && !hset_has(&f->upper[0], h);
}

/* Does the word at text[at] open a sentence: nothing but spaces, quotes and brackets between it
 * and the start of the text, a line break, or a full stop, question or exclamation mark, or
 * colon? */
static int
sentence_initial(const char *text, uint32_t at)
{
    size_t i = at;
    while (i > 0) {
        unsigned char c = (unsigned char)text[i - 1];
        if (c == ' ' || c == '"' || c == '\'' || c == '(' || c == '[' || c == '\t')
            i--;
        else if (i >= 3 && (unsigned char)text[i - 3] == 0xe2 && (unsigned char)text[i - 2] == 0x80)
            i -= 3; /* a typographic quotation mark or dash */
        else if (i >= 2 && ((unsigned char)text[i - 2] == 0xc2 && c == 0xab))
            i -= 2; /* a guillemet */
        else
            return c == '.' || c == '!' || c == '?' || c == ':' || c == '\n' || c == ';';
    }
    return 1;
}

/* Is the word at text[at] right after "the", "a", "an", "this", "its" and the like? */
static int
after_determiner(const char *text, uint32_t at)
{
    static const char *const DET[] = {"the", "a",     "an",  "this",  "that",  "its",
                                      "his", "her",   "our", "their", "these", "those",
                                      "The", "every", "any", "no"};
    size_t e = at;
    while (e > 0 && text[e - 1] == ' ')
        e--;
    size_t b = e;
    while (b > 0 && text[b - 1] != ' ' && text[b - 1] != '\n')
        b--;
    for (size_t i = 0; i < sizeof(DET) / sizeof(DET[0]); i++)
        if (strlen(DET[i]) == e - b && memcmp(DET[i], text + b, e - b) == 0)
            return 1;
    return 0;
}

/* Does a lowercase word come right before text[at]? In a title-case headline ("Could Be The
 * End") every word is capitalised, so a capital there shows nothing. */
static int
after_lowercase(const char *text, uint32_t at)
{
    size_t e = at;
    while (e > 0 && text[e - 1] == ' ')
        e--;
    size_t b = e;
    while (b > 0 && text[b - 1] != ' ' && text[b - 1] != '\n')
        b--;
    return e > b && text[b] >= 'a' && text[b] <= 'z';
}

/* Is every word of name an English proper name ("Donald Trump")? */
static int
known_names(nw_efilter_t *f, const char *name)
{
    char word[256];
    int any = 0;
    for (const char *p = name; *p;) {
        while (*p == ' ')
            p++;
        const char *e = p;
        while (*e && *e != ' ')
            e++;
        if (e == p)
            break;
        size_t k = fold(p, (size_t)(e - p), word, sizeof(word));
        if (!k || !ensure(f, 0) || !hset_has(&f->upper[0], hash(word, k)))
            return 0;
        any = 1;
        p = e;
    }
    return any;
}

int
nw_efilter_keep(nw_efilter_t *f, const char *lang, const char *name, const char *text,
                const uint32_t *m, size_t nm)
{
    size_t n = strlen(name);
    int one_word = memchr(name, ' ', n) == NULL;
    /* unknown language: the text went through the English tagger, judge it as English */
    int en = !lang || strcmp(lang, "en") == 0 || strcmp(lang, "und") == 0;
    if (one_word && nw_efilter_calendar(name, n))
        return 0;
    if (!en && !nw_efilter_has_lang(f, lang))
        return known_names(f, name); /* no model, no list: keep only what English knows */
    if (!one_word || !nw_efilter_common(f, lang, name, n))
        return 1;
    if (!en)
        return 0;
    /* English capitalises a common word only to open a sentence or a heading, or to shout
     * ("FREE", "VIDEO"); two mentions inside sentences, each after a lowercase word that is not
     * an article ("the Ministry"), show a name ("fans of Rangers ... as Rangers won"). One is
     * not enough: headline case and odd spellings give single ones ("we Could"). */
    int shout = n > 1;
    for (size_t i = 0; i < n && shout; i++)
        shout = !(name[i] >= 'a' && name[i] <= 'z');
    size_t inside = 0;
    for (size_t i = 0; text && i < nm && !shout; i++)
        inside += !sentence_initial(text, m[2 * i]) && !after_determiner(text, m[2 * i]) &&
                  after_lowercase(text, m[2 * i]);
    return inside >= 2;
}

int
nw_efilter_prose(const char *text)
{
    size_t words = 0, caps = 0;
    for (const char *p = text; p && *p;) {
        while (*p == ' ' || *p == '\n' || *p == '\t')
            p++;
        const char *e = p;
        while (*e && *e != ' ' && *e != '\n' && *e != '\t')
            e++;
        if (e > p) {
            /* words of punctuation and digits ("-", "3", "2-1") count for neither side */
            utf8proc_int32_t c;
            if (utf8proc_iterate((const utf8proc_uint8_t *)p, e - p, &c) > 0) {
                utf8proc_category_t cat = utf8proc_category(c);
                if (nw_ucs_is_letter(cat)) {
                    words++;
                    caps += nw_ucs_is_upper(cat);
                }
            }
        }
        p = e;
    }
    return words > 0 && 2 * caps < words;
}
