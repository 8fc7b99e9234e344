/* langid.c: the character n-gram language identifier (lang.h).
 *
 * Model file (all integers little-endian), written by bench_lang_train:
 *   magic "NWLANGID", u32 version (1), u32 n_langs (1..255), u32 n_grams, u32 n_entries
 *   n_langs records of 16 bytes: code (8 bytes, NUL-padded, NUL-terminated), u8 script,
 *     u8 unseen[NW_LANGID_ORDER] (the cost of an n-gram of that order the language never
 *     showed), 2 bytes zero
 *   n_grams u32 hashes, strictly increasing
 *   n_grams + 1 u32 offsets into the entries (non-decreasing, the last is n_entries)
 *   n_entries u16 entries: language index << 8 | cost
 *   u32 FNV-1a of every byte before it
 * A cost is -log P(n-gram | language, order) in units of 1/COST_SCALE nat, 0..255.
 * Scoring is naive Bayes: a language's cost for a text is the sum of its costs for the text's
 * n-grams; the cheapest candidate wins. */
#include "lang.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "newswire/util.h"

#include "ucs.h"

#define COST_SCALE 10.0
#define HEADER 24
#define LANG_REC 16
/* Text beyond this many n-grams adds nothing to the answer, only time. */
#define MAX_GRAMS 4096

/* A gram in the index: its hash and its entries [start, end); end == 0 marks an empty slot (a gram
 * without entries is left out: it scores nothing either way). */
typedef struct {
    uint32_t hash, start, end;
} slot_t;

struct nw_langid {
    uint8_t *buf;
    size_t n_langs, n_grams, n_entries;
    char codes[255][8];
    uint8_t script[255];
    uint8_t unseen[255][NW_LANGID_ORDER];
    const uint8_t *hashes, *offsets, *entries;
    /* Open-addressing index over hashes, built at load. A lookup costs a probe or two instead
     * of a ~20-step binary search over the whole file, which made the model half of enrich's
     * time. Each slot carries the hash and the gram's span of entries itself, so a lookup
     * touches two cache lines (the slot, the entries) rather than four (slot, hashes, offsets,
     * entries): scoring is bound by those misses. */
    slot_t *slot;
    uint32_t mask;
};

static uint32_t
fnv1a(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

void
nw_langid_destroy(nw_langid_t **pm)
{
    if (!pm || !*pm)
        return;
    free((*pm)->buf);
    free((*pm)->slot);
    free(*pm);
    *pm = NULL;
}

/* Checks every size, order and index of the file in buf (len bytes) and fills m. */
static int
parse(nw_langid_t *m, const uint8_t *b, size_t len)
{
    if (len < HEADER + 4 || memcmp(b, "NWLANGID", 8) != 0 || nw_get_le32(b + 8) != 1)
        return -EPROTO;
    uint64_t nl = nw_get_le32(b + 12), ng = nw_get_le32(b + 16), ne = nw_get_le32(b + 20);
    if (nl < 1 || nl > 255)
        return -EPROTO;
    uint64_t need = HEADER + nl * LANG_REC + ng * 4 + (ng + 1) * 4 + ne * 2 + 4;
    if (need != len || nw_get_le32(b + len - 4) != fnv1a(b, len - 4))
        return -EPROTO;
    const uint8_t *p = b + HEADER;
    for (size_t i = 0; i < nl; i++, p += LANG_REC) {
        if (memchr(p, 0, 8) == NULL || p[0] == 0 || p[8] >= NW_SCRIPT_COUNT)
            return -EPROTO;
        memcpy(m->codes[i], p, 8);
        m->script[i] = p[8];
        memcpy(m->unseen[i], p + 9, NW_LANGID_ORDER);
    }
    m->hashes = p;
    m->offsets = p + ng * 4;
    m->entries = m->offsets + (ng + 1) * 4;
    for (size_t i = 1; i < ng; i++)
        if (nw_get_le32(m->hashes + 4 * i) <= nw_get_le32(m->hashes + 4 * (i - 1)))
            return -EPROTO;
    if (nw_get_le32(m->offsets) != 0 || nw_get_le32(m->offsets + 4 * ng) != ne)
        return -EPROTO;
    for (size_t i = 0; i < ng; i++)
        if (nw_get_le32(m->offsets + 4 * (i + 1)) < nw_get_le32(m->offsets + 4 * i))
            return -EPROTO;
    for (size_t i = 0; i < ne; i++)
        if (m->entries[2 * i + 1] >= nl)
            return -EPROTO;
    m->n_langs = nl;
    m->n_grams = ng;
    m->n_entries = ne;
    return 0;
}

/* The hashes are distinct (parse checked they ascend); mix them so that similar values spread. */
static uint32_t
slot_of(uint32_t h, uint32_t mask)
{
    return (h * 2654435761u) >> 7 & mask;
}

static int
build_index(nw_langid_t *m)
{
    uint32_t cap = 1024;
    while (cap < 2 * m->n_grams && cap < (1u << 30))
        cap <<= 1;
    if (cap < 2 * m->n_grams)
        return -EPROTO;
    if ((m->slot = calloc(cap, sizeof(*m->slot))) == NULL)
        return -ENOMEM;
    m->mask = cap - 1;
    for (size_t i = 0; i < m->n_grams; i++) {
        uint32_t h = nw_get_le32(m->hashes + 4 * i);
        uint32_t a = nw_get_le32(m->offsets + 4 * i), b = nw_get_le32(m->offsets + 4 * (i + 1));
        if (a == b)
            continue;
        uint32_t k = slot_of(h, m->mask);
        while (m->slot[k].end != 0)
            k = (k + 1) & m->mask;
        m->slot[k] = (slot_t){.hash = h, .start = a, .end = b};
    }
    return 0;
}

int
nw_langid_load(const char *path, nw_langid_t **out)
{
    *out = NULL;
    nw_langid_t *m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    size_t len = 0;
    int rc = nw_read_file(path, (size_t)256 << 20, &m->buf, &len);
    if (rc < 0) {
        free(m);
        return rc;
    }
    rc = parse(m, m->buf, len);
    if (rc == 0)
        rc = build_index(m);
    if (rc < 0) {
        nw_langid_destroy(&m);
        return rc;
    }
    *out = m;
    return 0;
}

size_t
nw_langid_count(const nw_langid_t *m)
{
    return m ? m->n_langs : 0;
}

const char *
nw_langid_code(const nw_langid_t *m, size_t i)
{
    return m && i < m->n_langs ? m->codes[i] : NULL;
}

int
nw_langid_script(int32_t cp)
{
    if (!nw_ucs_is_letter(utf8proc_category(cp)))
        return NW_SCRIPT_NONE;
    static const struct {
        int32_t lo, hi;
        int script;
    } ranges[] = {
        {0x0041, 0x024F, NW_SCRIPT_LATIN},    {0x0370, 0x03FF, NW_SCRIPT_GREEK},
        {0x0400, 0x052F, NW_SCRIPT_CYRILLIC}, {0x0530, 0x058F, NW_SCRIPT_ARMENIAN},
        {0x0590, 0x05FF, NW_SCRIPT_HEBREW},   {0x0600, 0x06FF, NW_SCRIPT_ARABIC},
        {0x0750, 0x077F, NW_SCRIPT_ARABIC},   {0x0900, 0x097F, NW_SCRIPT_DEVANAGARI},
        {0x0980, 0x09FF, NW_SCRIPT_BENGALI},  {0x0A00, 0x0A7F, NW_SCRIPT_GURMUKHI},
        {0x0A80, 0x0AFF, NW_SCRIPT_GUJARATI}, {0x0B80, 0x0BFF, NW_SCRIPT_TAMIL},
        {0x0C00, 0x0C7F, NW_SCRIPT_TELUGU},   {0x0E00, 0x0E7F, NW_SCRIPT_THAI},
        {0x10A0, 0x10FF, NW_SCRIPT_GEORGIAN}, {0x1100, 0x11FF, NW_SCRIPT_HANGUL},
        {0x1C90, 0x1CBF, NW_SCRIPT_GEORGIAN}, {0x1E00, 0x1EFF, NW_SCRIPT_LATIN},
        {0x1F00, 0x1FFF, NW_SCRIPT_GREEK},    {0x3040, 0x30FF, NW_SCRIPT_CJK},
        {0x3130, 0x318F, NW_SCRIPT_HANGUL},   {0x3400, 0x4DBF, NW_SCRIPT_CJK},
        {0x4E00, 0x9FFF, NW_SCRIPT_CJK},      {0xAC00, 0xD7AF, NW_SCRIPT_HANGUL},
        {0xF900, 0xFAFF, NW_SCRIPT_CJK},      {0xFB1D, 0xFB4F, NW_SCRIPT_HEBREW},
        {0xFB50, 0xFDFF, NW_SCRIPT_ARABIC},   {0xFE70, 0xFEFF, NW_SCRIPT_ARABIC},
        {0xFF21, 0xFF5A, NW_SCRIPT_LATIN},    {0xFF66, 0xFF9F, NW_SCRIPT_CJK},
    };
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
        if (cp >= ranges[i].lo && cp <= ranges[i].hi)
            return ranges[i].script;
    return NW_SCRIPT_OTHER;
}

int
nw_langid_text_script(const char *text, size_t len)
{
    size_t count[NW_SCRIPT_COUNT] = {0};
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)text;
    while (text && len > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(p, (utf8proc_ssize_t)len, &cp);
        if (k < 1)
            k = 1;
        else
            count[nw_langid_script(cp)]++;
        p += k;
        len -= (size_t)k;
    }
    int best = NW_SCRIPT_NONE;
    for (int s = 1; s < NW_SCRIPT_COUNT; s++)
        if (count[s] > count[best] || (best == NW_SCRIPT_NONE && count[s] > 0))
            best = s;
    return best;
}

uint32_t
nw_langid_hash(const int32_t *cp, int n)
{
    uint32_t h = 2166136261u ^ (uint32_t)n;
    for (int i = 0; i < n; i++) {
        uint32_t c = (uint32_t)cp[i];
        for (int b = 0; b < 4; b++) {
            h ^= (c >> (8 * b)) & 0xff;
            h *= 16777619u;
        }
    }
    return h;
}

size_t
nw_langid_grams(const char *text, size_t len, void (*fn)(uint32_t, int, void *), void *ctx)
{
    int32_t win[NW_LANGID_ORDER];
    int w = 1, in_word = 0;
    size_t grams = 0;
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)text;

    win[0] = ' ';
    while (text && grams < MAX_GRAMS) {
        utf8proc_int32_t cp = ' ';
        int word_char = 0;
        if (len > 0) {
            utf8proc_ssize_t k = utf8proc_iterate(p, (utf8proc_ssize_t)len, &cp);
            if (k < 1) {
                k = 1;
                cp = ' ';
            }
            p += k;
            len -= (size_t)k;
            utf8proc_category_t cat = utf8proc_category(cp);
            if (nw_ucs_is_letter(cat))
                word_char = 1;
            else if (cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_MC)
                word_char = in_word; /* a mark continues a word, never starts one */
        }
        if (word_char) {
            if (w == NW_LANGID_ORDER) {
                memmove(win, win + 1, (NW_LANGID_ORDER - 1) * sizeof(win[0]));
                w--;
            }
            win[w++] = utf8proc_tolower(cp);
            in_word = 1;
            for (int n = 1; n <= w; n++, grams++)
                fn(nw_langid_hash(win + w - n, n), n, ctx);
        } else if (in_word) {
            /* the word's end: the n-grams that close with the boundary */
            if (w == NW_LANGID_ORDER) {
                memmove(win, win + 1, (NW_LANGID_ORDER - 1) * sizeof(win[0]));
                w--;
            }
            win[w++] = ' ';
            for (int n = 2; n <= w; n++, grams++)
                fn(nw_langid_hash(win + w - n, n), n, ctx);
            win[0] = ' ';
            w = 1;
            in_word = 0;
        }
        if (len == 0 && !in_word)
            break;
    }
    return grams;
}

/* Grams are scored in batches of BATCH: first every gram's slot is fetched, then every gram's
 * entries, so the cache misses (nearly all of the model's time) overlap instead of coming one
 * after another. Sums of integers do not depend on the order. */
#define BATCH 16

typedef struct {
    const nw_langid_t *m;
    const uint8_t *cand; /* 1 for a candidate language */
    int32_t *delta;      /* per language: sum of (cost - unseen) over the n-grams it knows */
    size_t count[NW_LANGID_ORDER + 1];
    size_t n;                /* grams waiting in the batch */
    uint32_t hash[BATCH];    /* their hashes */
    uint8_t order[BATCH];    /* and orders */
    const slot_t *at[BATCH]; /* their slots, once found (NULL: not in the model) */
} score_t;

static void
score_flush(score_t *s)
{
    const nw_langid_t *m = s->m;
    for (size_t j = 0; j < s->n; j++) {
        const slot_t *found = NULL;
        for (uint32_t k = slot_of(s->hash[j], m->mask); m->slot[k].end != 0;
             k = (k + 1) & m->mask) {
            if (m->slot[k].hash == s->hash[j]) {
                found = &m->slot[k];
                __builtin_prefetch(m->entries + 2 * (size_t)found->start);
                break;
            }
        }
        s->at[j] = found;
    }
    for (size_t j = 0; j < s->n; j++) {
        if (s->at[j] == NULL)
            continue;
        int o = s->order[j] - 1;
        uint32_t a = s->at[j]->start, b = s->at[j]->end;
        for (uint32_t i = a; i < b; i++) {
            unsigned cost = m->entries[2 * i], lang = m->entries[2 * i + 1];
            if (s->cand[lang])
                s->delta[lang] += (int32_t)cost - (int32_t)m->unseen[lang][o];
        }
    }
    s->n = 0;
}

static void
score_gram(uint32_t h, int order, void *ctx)
{
    score_t *s = ctx;
    s->count[order]++;
    __builtin_prefetch(&s->m->slot[slot_of(h, s->m->mask)]);
    s->hash[s->n] = h;
    s->order[s->n] = (uint8_t)order;
    if (++s->n == BATCH)
        score_flush(s);
}

double
nw_langid_detect(const nw_langid_t *m, const char *text, size_t len, const char *const *only,
                 size_t n_only, char *out, size_t n)
{
    uint8_t cand[255] = {0};
    int32_t delta[255] = {0};
    size_t n_cand = 0, last = 0;
    double margin = -1;
    const char *code = "und";

    int script = m && text ? nw_langid_text_script(text, len) : NW_SCRIPT_NONE;
    if (script != NW_SCRIPT_NONE) {
        for (size_t i = 0; i < m->n_langs; i++) {
            if (m->script[i] != script)
                continue;
            int ok = only == NULL;
            for (size_t j = 0; !ok && j < n_only; j++)
                ok = only[j] && strcmp(only[j], m->codes[i]) == 0;
            if (ok) {
                cand[i] = 1;
                n_cand++;
                last = i;
            }
        }
    }
    if (n_cand == 1) {
        code = m->codes[last];
        margin = NW_LANGID_ONLY;
    } else if (n_cand > 1) {
        score_t s = {.m = m, .cand = cand, .delta = delta};
        size_t grams = nw_langid_grams(text, len, score_gram, &s);
        score_flush(&s);
        int64_t best = INT64_MAX, second = INT64_MAX;
        for (size_t i = 0; i < m->n_langs; i++) {
            if (!cand[i])
                continue;
            int64_t cost = delta[i];
            for (int o = 1; o <= NW_LANGID_ORDER; o++)
                cost += (int64_t)s.count[o] * m->unseen[i][o - 1];
            if (cost < best) {
                second = best;
                best = cost;
                last = i;
            } else if (cost < second) {
                second = cost;
            }
        }
        if (grams > 0) {
            code = m->codes[last];
            margin = (double)(second - best) / COST_SCALE / (double)grams;
        }
    }
    if (n > 0) {
        size_t k = strlen(code);
        if (k >= n)
            k = n - 1;
        memcpy(out, code, k);
        out[k] = '\0';
    }
    return margin;
}
