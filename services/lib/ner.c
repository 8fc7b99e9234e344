/* ner.c: named-entity tagger (see ner.h). Three parts, in file order:
 *
 *   tokenizer   running text -> tokens with byte offsets and sentence starts;
 *   features    each word is analysed once (hashes of its forms, shape, flags), then each token
 *               gets up to MAXF 32-bit feature keys built from itself and its neighbours;
 *   model       an open-addressing table key -> int16 weight per label, a label-transition
 *               matrix, and a learned word list (key -> entity-type bits); Viterbi over BIO.
 * The trainer (ner_train.c, built into bench and tests only) shares the features and the model
 * tables through ner_internal.h.
 *
 * Features are hashed (XXH3 over the word's forms, then a 64-bit mix with the template id and
 * the other parts) instead of interned, so the shipped model holds no vocabulary text, only
 * keys and weights, and tagging needs no string table.
 *
 * Model file format, all integers little-endian:
 *
 *   | offset | size            | field                                                    |
 *   |--------|-----------------|----------------------------------------------------------|
 *   | 0      | 8               | magic "NWNER\x01\r\n" (byte 5 is the format version)     |
 *   | 8      | 4               | number of labels, must be NW_NER_NLABELS                 |
 *   | 12     | 4               | nfeat: feature records that follow                       |
 *   | 16     | 4               | ngaz: word-list records that follow                      |
 *   | 20     | 4               | scale: float32, weight units per int16 step (reports)    |
 *   | 24     | 2*(NL+1)*NL     | int16 transitions; row NL is the sentence start          |
 *   | ...    | nfeat records   | varint key delta (first: the key), u16 label mask, then  |
 *   |        |                 | one int16 per set mask bit, lowest label first           |
 *   | ...    | ngaz records    | varint key delta, u8 type bits                           |
 *   | end-8  | 8               | XXH3-64 of every byte before it                          |
 *
 * Keys are strictly increasing and never 0 (0 marks an empty slot in memory). */
#include "ner.h"

#include "ner_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <utf8proc.h>
#include <xxhash.h>

#define MAXW 64      /* bytes of a word that features look at; longer words are cut */
#define MAX_SENT 256 /* nw_ner_tag cuts longer "sentences" so work per call stays bounded */
#define MAX_FEAT (1u << 26)

static const uint8_t magic[8] = {'N', 'W', 'N', 'E', 'R', 1, '\r', '\n'};

/* ------------------------------------------------------------------------------------------ */
/* Characters */

enum { CC_SPACE, CC_LOWER, CC_UPPER, CC_LETTER, CC_DIGIT, CC_PUNCT };

/* Decode one code point at s[i] (i < len). Invalid UTF-8 gives cp -1 and consumes one byte, so
 * no input can stall or crash the scanners. */
static size_t
cp_at(const uint8_t *s, size_t len, size_t i, int32_t *cp)
{
    if (s[i] < 0x80) {
        *cp = s[i];
        return 1;
    }
    size_t n = len - i < 4 ? len - i : 4;
    utf8proc_int32_t c;
    utf8proc_ssize_t r = utf8proc_iterate(s + i, (utf8proc_ssize_t)n, &c);
    if (r <= 0) {
        *cp = -1;
        return 1;
    }
    *cp = c;
    return (size_t)r;
}

static int
cp_class(int32_t cp)
{
    if (cp < 0)
        return CC_LETTER; /* invalid bytes stay inside words */
    if (cp < 0x80) {
        if (cp >= 'a' && cp <= 'z')
            return CC_LOWER;
        if (cp >= 'A' && cp <= 'Z')
            return CC_UPPER;
        if (cp >= '0' && cp <= '9')
            return CC_DIGIT;
        if (cp <= ' ' || cp == 0x7f)
            return CC_SPACE;
        return CC_PUNCT;
    }
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LT:
        return CC_UPPER;
    case UTF8PROC_CATEGORY_LL:
        return CC_LOWER;
    case UTF8PROC_CATEGORY_ND:
        return CC_DIGIT;
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
    case UTF8PROC_CATEGORY_CC:
        return CC_SPACE;
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
    case UTF8PROC_CATEGORY_SM:
    case UTF8PROC_CATEGORY_SC:
    case UTF8PROC_CATEGORY_SK:
    case UTF8PROC_CATEGORY_SO:
        return CC_PUNCT;
    default:
        return CC_LETTER; /* other letters, marks, numbers, format characters */
    }
}

static int
is_alnum_class(int c)
{
    return c == CC_LOWER || c == CC_UPPER || c == CC_LETTER || c == CC_DIGIT;
}

/* Typographic variants read as their ASCII forms, so "Blinken’s" and "Blinken's" share
 * features with the (ASCII) training data. */
static int32_t
cp_fold_punct(int32_t cp)
{
    switch (cp) {
    case 0x2018:
    case 0x2019:
    case 0x201B:
    case 0x2032:
        return '\'';
    case 0x201C:
    case 0x201D:
    case 0x201E:
    case 0x2033:
    case 0x00AB:
    case 0x00BB:
        return '"';
    case 0x2010:
    case 0x2011:
    case 0x2012:
    case 0x2013:
    case 0x2014:
    case 0x2212:
        return '-';
    default:
        return cp;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Tokenizer */

typedef struct tokvec {
    nw_ner_token_t *v;
    size_t n;
    size_t cap;
} tokvec;

static int
tok_push(tokvec *t, size_t start, size_t end)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        nw_ner_token_t *v = realloc(t->v, cap * sizeof *v);
        if (v == NULL)
            return -ENOMEM;
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n++] = (nw_ner_token_t){.start = start, .end = end, .sent_start = 0};
    return 0;
}

static int
lower_ascii(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Case-insensitive ASCII compare of s[0..n) with the NUL-terminated word w. */
static int
eq_ci(const uint8_t *s, size_t n, const char *w)
{
    size_t i = 0;
    for (; i < n && w[i]; i++)
        if (lower_ascii(s[i]) != w[i])
            return 0;
    return i == n && w[i] == 0;
}

/* Abbreviations that keep their final period, as CoNLL-2003 writes them ("Mr.", "Inc."). */
static const char *const abbrevs[] = {
    "mr",  "mrs", "ms",  "dr",   "st",  "jr",  "sr",  "inc",  "corp", "co",   "ltd", "vs",  "gen",
    "gov", "sen", "rep", "col",  "lt",  "sgt", "cpt", "capt", "prof", "rev",  "jan", "feb", "mar",
    "apr", "aug", "sep", "sept", "oct", "nov", "dec", "mt",   "ft",   "bros", NULL,
};

/* Does the word s[0..n) keep a following period? "U.S" (inner period), "J" (an initial), or a
 * listed abbreviation. */
static int
keeps_period(const uint8_t *s, size_t n)
{
    if (n == 0)
        return 0;
    if (memchr(s, '.', n) != NULL)
        return 1;
    int32_t cp;
    if (cp_at(s, n, 0, &cp) == n && cp_class(cp) == CC_UPPER)
        return 1;
    for (const char *const *a = abbrevs; *a; a++)
        if (eq_ci(s, n, *a))
            return 1;
    return 0;
}

/* Length in bytes of a clitic ending the word s[0..n) ("'s", "’s", "n't", ...), 0 if none and
 * when the clitic would be the whole word. */
static size_t
clitic_len(const uint8_t *s, size_t n)
{
    static const char *const tails[] = {"s", "re", "ve", "ll", "d", "m", NULL};
    if (n >= 4 && eq_ci(s + n - 3, 3, "n't"))
        return 3;
    if (n >= 6 && eq_ci(s + n - 1, 1, "t") && s[n - 2] == 0x99 && s[n - 3] == 0x80 &&
        s[n - 4] == 0xE2 && lower_ascii(s[n - 5]) == 'n')
        return 5; /* n’t */
    for (const char *const *t = tails; *t; t++) {
        size_t k = strlen(*t);
        if (n > k + 1 && s[n - k - 1] == '\'' && eq_ci(s + n - k, k, *t))
            return k + 1;
        if (n > k + 3 && s[n - k - 3] == 0xE2 && s[n - k - 2] == 0x80 && s[n - k - 1] == 0x99 &&
            eq_ci(s + n - k, k, *t))
            return k + 3;
    }
    return 0;
}

static int
push_word(tokvec *t, const uint8_t *s, size_t start, size_t end)
{
    size_t c = clitic_len(s + start, end - start);
    int rc = tok_push(t, start, end - c);
    if (rc == 0 && c > 0)
        rc = tok_push(t, end - c, end);
    return rc;
}

/* Punctuation that repeats into one token ("...", "--", "=="). */
static int
groups(int32_t cp)
{
    return cp == '.' || cp == '-' || cp == '=' || cp == '*' || cp == '_' || cp == '`';
}

/* Split one run of non-space characters [cs, ce). A word is a run of letters and digits plus
 * the joiners that CoNLL keeps inside words: "1,000", "10:30", "El-Sisi", "AT&T", "U.S.",
 * "O'Neill". Every other punctuation character is a token of its own. */
static int
tokenize_chunk(tokvec *t, const uint8_t *s, size_t cs, size_t ce)
{
    size_t i = cs, wstart = 0;
    int open = 0, prev_class = CC_SPACE;
    int32_t prev = 0;
    while (i < ce) {
        int32_t cp;
        size_t adv = cp_at(s, ce, i, &cp);
        int cls = cp_class(cp);
        if (cls != CC_PUNCT) {
            if (!open) {
                wstart = i;
                open = 1;
            }
            prev = cp;
            prev_class = cls;
            i += adv;
            continue;
        }
        int32_t ncp = 0;
        int ncls = CC_SPACE;
        if (i + adv < ce) {
            cp_at(s, ce, i + adv, &ncp);
            ncls = cp_class(ncp);
        }
        int prev_an = open && is_alnum_class(prev_class);
        int next_an = is_alnum_class(ncls);
        int join = 0;
        switch (cp_fold_punct(cp)) {
        case ',':
        case ':':
            join = open && prev_class == CC_DIGIT && ncls == CC_DIGIT && cp == cp_fold_punct(cp);
            break;
        case '-':
            /* Only real hyphens join; dashes (– —) separate "Cairo, Egypt — Blinken". */
            join = prev_an && next_an && (cp == '-' || cp == 0x2010 || cp == 0x2011);
            break;
        case '&':
            join = prev_an && next_an;
            break;
        case '\'':
            join = prev_an && (ncls == CC_LOWER || ncls == CC_UPPER || ncls == CC_LETTER) &&
                   (cp == '\'' || cp == 0x2019);
            break;
        case '.':
            if (prev_an && next_an) {
                join = 1;
            } else if (open && prev != '.' && keeps_period(s + wstart, i - wstart)) {
                int rc = push_word(t, s, wstart, i + adv);
                if (rc < 0)
                    return rc;
                open = 0;
                prev = cp;
                prev_class = CC_PUNCT;
                i += adv;
                continue;
            }
            break;
        default:
            break;
        }
        if (join) {
            prev = cp;
            prev_class = CC_LOWER; /* a joiner continues the word */
            i += adv;
            continue;
        }
        if (open) {
            int rc = push_word(t, s, wstart, i);
            if (rc < 0)
                return rc;
            open = 0;
        }
        size_t j = i + adv;
        if (groups(cp)) {
            while (j < ce) {
                int32_t c2;
                size_t a2 = cp_at(s, ce, j, &c2);
                if (c2 != cp)
                    break;
                j += a2;
            }
        }
        int rc = tok_push(t, i, j);
        if (rc < 0)
            return rc;
        prev = cp;
        prev_class = CC_PUNCT;
        i = j;
    }
    if (open)
        return push_word(t, s, wstart, ce);
    return 0;
}

static int
is_final_punct(const uint8_t *s, const nw_ner_token_t *tk)
{
    size_t n = tk->end - tk->start;
    const uint8_t *p = s + tk->start;
    if (n == 1 && (p[0] == '.' || p[0] == '!' || p[0] == '?'))
        return 1;
    if (n >= 2 && p[0] == '.' && p[1] == '.')
        return 1;
    return n == 3 && p[0] == 0xE2 && p[1] == 0x80 && p[2] == 0xA6; /* … */
}

static int
is_closer(const uint8_t *s, const nw_ner_token_t *tk)
{
    int32_t cp;
    size_t n = tk->end - tk->start;
    if (cp_at(s + tk->start, n, 0, &cp) != n)
        return 0;
    cp = cp_fold_punct(cp);
    return cp == '"' || cp == '\'' || cp == ')' || cp == ']' || cp == '}';
}

/* Sentence starts: the first token, a token after a line break, and the token after final
 * punctuation (and any closing quotes glued to it) unless that token starts in lowercase. */
static void
mark_sentences(const uint8_t *s, tokvec *t)
{
    int pending = 0;
    for (size_t k = 0; k < t->n; k++) {
        nw_ner_token_t *tk = &t->v[k];
        if (k == 0 || memchr(s + t->v[k - 1].end, '\n', tk->start - t->v[k - 1].end) != NULL) {
            tk->sent_start = 1;
            pending = 0;
        } else if (pending) {
            if (tk->start == t->v[k - 1].end && is_closer(s, tk))
                continue;
            int32_t cp;
            cp_at(s, tk->end, tk->start, &cp);
            if (cp_class(cp) != CC_LOWER)
                tk->sent_start = 1;
            pending = 0;
        }
        if (is_final_punct(s, tk))
            pending = 1;
    }
}

int
nw_ner_tokenize(const char *text, size_t len, nw_ner_token_t **out, size_t *n)
{
    const uint8_t *s = (const uint8_t *)text;
    tokvec t = {0};
    int rc = 0;
    size_t i = 0;
    *out = NULL;
    *n = 0;
    while (i < len) {
        int32_t cp;
        size_t adv = cp_at(s, len, i, &cp);
        if (cp_class(cp) == CC_SPACE) {
            i += adv;
            continue;
        }
        size_t ce = i + adv;
        while (ce < len) {
            size_t a2 = cp_at(s, len, ce, &cp);
            if (cp_class(cp) == CC_SPACE)
                break;
            ce += a2;
        }
        rc = tokenize_chunk(&t, s, i, ce);
        if (rc < 0)
            goto err;
        i = ce;
    }
    mark_sentences(s, &t);
    *out = t.v;
    *n = t.n;
    return 0;
err:
    free(t.v);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Word analysis and features */

enum {
    F_INITCAP,
    F_ALLCAP,
    F_HASDIGIT,
    F_ALLDIGIT,
    F_HYPHEN,
    F_PERIOD,
    F_PUNCT,
    F_MIXEDCAP,
    F_ONECHAR,
    F_ALNUM,
    F_NFLAGS
};

static size_t
put_cp(char *buf, size_t n, int32_t cp)
{
    if (cp < 0x80) {
        buf[n] = (char)cp;
        return n + 1;
    }
    return n + (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)buf + n);
}

void
nw_ner_analyze(const char *str, size_t len, winfo *w)
{
    const uint8_t *s = (const uint8_t *)str;
    char raw[MAXW + 8], low[MAXW + 8], shp[MAXW], ssh[MAXW];
    uint8_t cps[MAXW + 1];
    size_t rn = 0, ln = 0, sn = 0, ssn = 0, ncp = 0, run = 0;
    int nup = 0, nlow = 0, ndig = 0, nlet = 0, upper_late = 0;
    uint32_t flags = 0;
    memset(w, 0, sizeof *w);
    for (size_t i = 0; i < len && ln < MAXW && ncp < MAXW;) {
        int32_t cp;
        i += cp_at(s, len, i, &cp);
        if (cp < 0)
            cp = 0xFFFD;
        cp = cp_fold_punct(cp);
        int cls = cp_class(cp);
        char sc;
        int32_t lc = cp;
        switch (cls) {
        case CC_UPPER:
            nup++;
            nlet++;
            if (ncp > 0)
                upper_late = 1;
            sc = 'X';
            lc = cp < 0x80 ? cp + 32 : utf8proc_tolower(cp);
            break;
        case CC_LOWER:
            nlow++;
            nlet++;
            sc = 'x';
            break;
        case CC_LETTER:
            nlet++;
            sc = 'l';
            break;
        case CC_DIGIT:
            ndig++;
            sc = 'd';
            lc = '0';
            break;
        default:
            sc = cp < 0x80 ? (char)cp : 'p';
            if (cp == '-')
                flags |= 1u << F_HYPHEN;
            if (cp == '.')
                flags |= 1u << F_PERIOD;
            break;
        }
        rn = put_cp(raw, rn, cp);
        cps[ncp++] = (uint8_t)ln;
        ln = put_cp(low, ln, lc);
        if (ssn == 0 || ssh[ssn - 1] != sc)
            ssh[ssn++] = sc;
        run = (sn > 0 && shp[sn - 1] == sc) ? run + 1 : 1;
        if (run <= 4)
            shp[sn++] = sc;
    }
    cps[ncp] = (uint8_t)ln;
    if (sn > 0 && shp[0] == 'X')
        flags |= 1u << F_INITCAP;
    if (nup > 0 && nlow == 0)
        flags |= 1u << F_ALLCAP;
    if (ndig > 0)
        flags |= 1u << F_HASDIGIT;
    if (ndig > 0 && (size_t)ndig == ncp)
        flags |= 1u << F_ALLDIGIT;
    if (nlet == 0 && ndig == 0)
        flags |= 1u << F_PUNCT;
    if (upper_late && nlow > 0)
        flags |= 1u << F_MIXEDCAP;
    if (ncp == 1)
        flags |= 1u << F_ONECHAR;
    if (nlet > 0 && ndig > 0)
        flags |= 1u << F_ALNUM;
    w->raw = XXH3_64bits(raw, rn);
    w->low = XXH3_64bits(low, ln);
    w->shape = XXH3_64bits(shp, sn);
    w->sshape = XXH3_64bits(ssh, ssn);
    for (size_t k = 1; k <= 4; k++) {
        if (ncp > k) {
            w->pre[k - 1] = XXH3_64bits(low, cps[k]);
            w->suf[k - 1] = XXH3_64bits(low + cps[ncp - k], ln - cps[ncp - k]);
        }
    }
    w->flags = flags;
    w->ncp = (uint8_t)ncp;
    w->letters = nlet > 0;
}

/* Key of a word in the learned word lists. */
uint32_t
nw_ner_gaz_key(const winfo *w)
{
    uint32_t k = (uint32_t)(w->low >> 32);
    return k ? k : 1;
}

static uint32_t
fkey(uint32_t tmpl, uint64_t a, uint64_t b)
{
    uint64_t h = (uint64_t)tmpl * 0x9E3779B97F4A7C15ull;
    h ^= a * 0xC2B2AE3D27D4EB4Full;
    h = (h << 31) | (h >> 33);
    h ^= b * 0x165667B19E3779F9ull;
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 33;
    uint32_t k = (uint32_t)h;
    return k ? k : 1;
}

/* Words beyond the sentence edges. */
static const winfo pad_bos = {.raw = 1, .low = 1, .shape = 1, .sshape = 1};
static const winfo pad_eos = {.raw = 2, .low = 2, .shape = 2, .sshape = 2};

/* A headline or dateline in capitals ("SOCCER - JAPAN GET LUCKY WIN") hides the capitalisation
 * that marks names elsewhere; shape features learn separately for such sentences. */
int
nw_ner_sentence_caps(const winfo *w, size_t n)
{
    size_t alpha = 0, caps = 0;
    for (size_t i = 0; i < n; i++) {
        if (!w[i].letters)
            continue;
        alpha++;
        if (w[i].flags & (1u << F_ALLCAP))
            caps++;
    }
    return alpha > 0 && caps * 4 >= alpha * 3;
}

/* Feature keys of token i of a sentence; returns how many were written (<= MAXF). */
size_t
nw_ner_token_features(const winfo *w, size_t n, size_t i, int caps, uint32_t *k)
{
    const winfo *c = &w[i];
    const winfo *p1 = i >= 1 ? &w[i - 1] : &pad_bos;
    const winfo *p2 = i >= 2 ? &w[i - 2] : &pad_bos;
    const winfo *n1 = i + 1 < n ? &w[i + 1] : &pad_eos;
    const winfo *n2 = i + 2 < n ? &w[i + 2] : &pad_eos;
    uint64_t cs = (uint64_t)caps;
    size_t m = 0;
    k[m++] = fkey(0, 0, 0);
    k[m++] = fkey(1, c->raw, 0);
    k[m++] = fkey(2, c->low, 0);
    for (int j = 0; j < 4; j++) {
        if (c->ncp > j + 1) {
            k[m++] = fkey(3 + (uint32_t)j, c->pre[j], 0);
            k[m++] = fkey(7 + (uint32_t)j, c->suf[j], 0);
        }
    }
    k[m++] = fkey(11, c->shape, cs);
    k[m++] = fkey(12, c->sshape, cs);
    for (uint32_t f = 0; f < F_NFLAGS; f++)
        if (c->flags & (1u << f))
            k[m++] = fkey(13, f, cs);
    k[m++] = fkey(14, c->sshape, (i == 0) * 2 + cs);
    k[m++] = fkey(15, p1->low, 0);
    k[m++] = fkey(16, n1->low, 0);
    k[m++] = fkey(17, p2->low, 0);
    k[m++] = fkey(18, n2->low, 0);
    k[m++] = fkey(19, p1->sshape, cs);
    k[m++] = fkey(20, n1->sshape, cs);
    k[m++] = fkey(21, p2->sshape, cs);
    k[m++] = fkey(22, n2->sshape, cs);
    k[m++] = fkey(23, p1->low, c->low);
    k[m++] = fkey(24, c->low, n1->low);
    k[m++] = fkey(25, p1->sshape ^ (c->sshape * 31), n1->sshape + cs);
    for (uint32_t b = 0; b < 8; b++) {
        if (c->gaz & (1u << b))
            k[m++] = fkey(26, b, cs);
        if (p1->gaz & (1u << b))
            k[m++] = fkey(27, b, 0);
        if (n1->gaz & (1u << b))
            k[m++] = fkey(28, b, 0);
    }
    k[m++] = fkey(29, p1->low, c->sshape);
    k[m++] = fkey(30, c->sshape, n1->low);
    k[m++] = fkey(31, p1->raw, 0);
    k[m++] = fkey(32, n1->raw, 0);
    k[m++] = fkey(33, c->low, (i == 0) * 2 + cs);
    return m;
}

/* ------------------------------------------------------------------------------------------ */
/* Model */

static uint32_t
pow2_at_least(uint64_t n)
{
    uint32_t c = 16;
    while (c < n)
        c <<= 1;
    return c;
}

int
nw_ner_gaz_init(gaztab *g, uint32_t expect)
{
    uint32_t cap = pow2_at_least((uint64_t)expect * 2 + 1);
    g->v = calloc(cap, sizeof *g->v);
    if (g->v == NULL)
        return -ENOMEM;
    g->mask = cap - 1;
    g->n = 0;
    return 0;
}

/* Or bits into key's entry; the table never fills past half because callers size it for every
 * key they may add. */
void
nw_ner_gaz_or(gaztab *g, uint32_t key, uint8_t bits)
{
    uint32_t i = mix32(key) & g->mask;
    while (g->v[i].key != 0 && g->v[i].key != key)
        i = (i + 1) & g->mask;
    if (g->v[i].key == 0) {
        g->v[i].key = key;
        g->n++;
    }
    g->v[i].bits |= bits;
}

uint8_t
nw_ner_gaz_get(const gaztab *g, uint32_t key)
{
    if (g->v == NULL)
        return 0;
    uint32_t i = mix32(key) & g->mask;
    while (g->v[i].key != 0) {
        if (g->v[i].key == key)
            return g->v[i].bits;
        i = (i + 1) & g->mask;
    }
    return 0;
}

static const slot *
model_find(const nw_ner_t *m, uint32_t key)
{
    uint32_t i = mix32(key) & m->mask;
    uint16_t t = ner_tag(key);
    while (m->tags[i] != 0) {
        if (m->tags[i] == t && m->slots[i].key == key)
            return &m->slots[i];
        i = (i + 1) & m->mask;
    }
    return NULL;
}

slot *
nw_ner_model_insert(nw_ner_t *m, uint32_t key)
{
    uint32_t i = mix32(key) & m->mask;
    while (m->slots[i].key != 0 && m->slots[i].key != key)
        i = (i + 1) & m->mask;
    if (m->slots[i].key == 0) {
        m->slots[i].key = key;
        m->tags[i] = ner_tag(key);
        m->nfeat++;
    }
    return &m->slots[i];
}

nw_ner_t *
nw_ner_model_new(uint32_t nfeat, uint32_t ngaz)
{
    nw_ner_t *m = calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
    uint32_t cap = pow2_at_least((uint64_t)nfeat * 2 + 1);
    m->slots = calloc(cap, sizeof *m->slots);
    m->tags = calloc(cap, sizeof *m->tags);
    if (m->slots == NULL || m->tags == NULL || nw_ner_gaz_init(&m->gaz, ngaz) < 0) {
        nw_ner_destroy(&m);
        return NULL;
    }
    m->mask = cap - 1;
    return m;
}

void
nw_ner_destroy(nw_ner_t **pm)
{
    if (pm == NULL || *pm == NULL)
        return;
    free((*pm)->slots);
    free((*pm)->tags);
    free((*pm)->gaz.v);
    free(*pm);
    *pm = NULL;
}

size_t
nw_ner_weight_count(const nw_ner_t *m)
{
    size_t n = 0;
    for (uint32_t i = 0; i <= m->mask; i++)
        if (m->slots[i].key != 0)
            for (int l = 0; l < NL; l++)
                n += m->slots[i].w[l] != 0;
    return n;
}

const char *
nw_ner_type_name(nw_ner_type_t type)
{
    static const char *const names[NW_NER_NTYPES] = {"PER", "ORG", "LOC", "MISC"};
    return (unsigned)type < NW_NER_NTYPES ? names[type] : "?";
}

int
nw_ner_label_parse(const char *s, size_t n)
{
    if (n == 1 && s[0] == 'O')
        return NW_NER_LABEL_O;
    if (n < 3 || s[1] != '-' || (s[0] != 'B' && s[0] != 'I'))
        return -EINVAL;
    for (int t = 0; t < NW_NER_NTYPES; t++) {
        const char *name = nw_ner_type_name((nw_ner_type_t)t);
        if (strlen(name) == n - 2 && memcmp(name, s + 2, n - 2) == 0)
            return s[0] == 'B' ? NW_NER_LABEL_B(t) : NW_NER_LABEL_I(t);
    }
    return -EINVAL;
}

/* Best label sequence for the tagger, on the model's own integers: emissions are sums of int16
 * weights and transitions int16, so int64 sums are exact where the doubles were too, and every
 * comparison, tie included, comes out the same. A transition BIO forbids is NEG, so no branch
 * on allowed() in the inner loop: from a forbidden or unreachable predecessor the sum stays
 * near NEG (n tokens add at most n * 2^23), far below any reachable state, which therefore
 * always wins as -INFINITY lost in the doubles. Twice as fast as the double version, which the
 * trainer keeps in ner_train.c (its weights are not integers yet). */
#define NEG (INT64_MIN / 4)

static void
viterbi_int(const int32_t *em, const int16_t *trans, size_t n, uint8_t *bp, uint8_t *out)
{
    int64_t tr[(NL + 1) * NL], cur[NL], nxt[NL];
    for (int p = 0; p <= NL; p++)
        for (int l = 0; l < NL; l++)
            tr[p * NL + l] = allowed(p, l) ? trans[p * NL + l] : NEG;
    for (int l = 0; l < NL; l++)
        cur[l] = tr[START * NL + l] == NEG ? NEG : tr[START * NL + l] + em[l];
    for (size_t i = 1; i < n; i++) {
        for (int l = 0; l < NL; l++) {
            int64_t best = cur[0] + tr[l];
            int arg = 0;
            for (int p = 1; p < NL; p++) {
                int64_t v = cur[p] + tr[p * NL + l];
                if (v > best) {
                    best = v;
                    arg = p;
                }
            }
            nxt[l] = best + em[i * NL + l];
            bp[i * NL + l] = (uint8_t)arg;
        }
        memcpy(cur, nxt, sizeof cur);
    }
    int best = 0;
    for (int l = 1; l < NL; l++)
        if (cur[l] > cur[best])
            best = l;
    for (size_t i = n; i-- > 0;) {
        out[i] = (uint8_t)best;
        if (i > 0)
            best = bp[i * NL + best];
    }
}

#define PREFETCH_AHEAD 4 /* words */

/* GCC and clang vectors for the sums of a token's slot weights (NL is 9: eight in a vector). */
#if (defined(__GNUC__) || defined(__clang__)) && NL >= 8 && (defined(__clang__) || __GNUC__ >= 9)
#define W8_VECTORS 1
typedef int16_t w8_t __attribute__((vector_size(16)));
typedef int32_t acc8_t __attribute__((vector_size(32)));
#else
#define W8_VECTORS 0
#endif

static void
prefetch_word(const nw_ner_t *m, const uint32_t *keys, uint32_t n)
{
    for (uint32_t j = 0; j < n; j++) {
        uint32_t i = mix32(keys[j]) & m->mask;
        __builtin_prefetch(&m->tags[i]);
        __builtin_prefetch(&m->slots[i]);
    }
}

int
nw_ner_tag_words(const nw_ner_t *m, const nw_ner_word_t *words, size_t n, uint8_t *labels)
{
    if (n == 0)
        return 0;
    /* One allocation holds the per-word scratch: analyses, keys, emissions, back-pointers. */
    size_t need = n * (sizeof(winfo) + MAXF * sizeof(uint32_t) + sizeof(uint32_t) +
                       NL * sizeof(int32_t) + NL);
    uint8_t *mem = malloc(need);
    if (mem == NULL)
        return -ENOMEM;
    winfo *w = (winfo *)mem;
    int32_t *em = (int32_t *)(w + n);
    uint32_t *keys = (uint32_t *)(em + n * NL);
    uint32_t *nk = keys + n * MAXF;
    uint8_t *bp = (uint8_t *)(nk + n);
    for (size_t i = 0; i < n; i++) {
        nw_ner_analyze(words[i].s, words[i].len, &w[i]);
        w[i].gaz = nw_ner_gaz_get(&m->gaz, nw_ner_gaz_key(&w[i]));
    }
    int caps = nw_ner_sentence_caps(w, n);
    for (size_t i = 0; i < n; i++)
        nk[i] = (uint32_t)nw_ner_token_features(w, n, i, caps, keys + i * MAXF);
    /* The lookups are bound by cache misses (the model is megabytes of random slots). Their
     * loads start PREFETCH_AHEAD words early: far enough to overlap, near enough that a long
     * article's slots are not evicted before they are read, as they were when every word's
     * slots were prefetched before the first lookup. */
    for (size_t i = 0; i < n && i < PREFETCH_AHEAD; i++)
        prefetch_word(m, keys + i * MAXF, nk[i]);
    for (size_t i = 0; i < n; i++) {
        if (i + PREFETCH_AHEAD < n)
            prefetch_word(m, keys + (i + PREFETCH_AHEAD) * MAXF, nk[i + PREFETCH_AHEAD]);
#if W8_VECTORS
        /* The first eight weights of a slot in one vector add: a third of the instructions of
         * this loop were the nine scalar adds. Integer sums, so the same in any order. */
        acc8_t acc8 = {0};
        int32_t acc[NL] = {0};
        for (uint32_t j = 0; j < nk[i]; j++) {
            const slot *s = model_find(m, keys[i * MAXF + j]);
            if (s == NULL)
                continue;
            w8_t x;
            memcpy(&x, s->w, sizeof x);
            acc8 += __builtin_convertvector(x, acc8_t);
            for (int l = 8; l < NL; l++)
                acc[l] += s->w[l];
        }
        memcpy(acc, &acc8, sizeof acc8);
#else
        int32_t acc[NL] = {0};
        for (uint32_t j = 0; j < nk[i]; j++) {
            const slot *s = model_find(m, keys[i * MAXF + j]);
            if (s == NULL)
                continue;
            for (int l = 0; l < NL; l++)
                acc[l] += s->w[l];
        }
#endif
        memcpy(em + i * NL, acc, sizeof acc);
    }
    viterbi_int(em, m->trans, n, bp, labels);
    free(mem);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Document pass */

#define DOC_NAMES 256

/* Does the word start with an uppercase letter and hold at least two code points? */
static int
name_like(const nw_ner_word_t *w)
{
    int32_t cp;
    if (w->len < 2)
        return 0;
    size_t a = cp_at((const uint8_t *)w->s, w->len, 0, &cp);
    return cp_class(cp) == CC_UPPER && a < w->len;
}

void
nw_ner_doc_pass(const nw_ner_word_t *words, size_t n, uint8_t *labels)
{
    uint64_t names[DOC_NAMES];
    size_t nn = 0;
    const uint8_t bper = NW_NER_LABEL_B(NW_NER_PER), iper = NW_NER_LABEL_I(NW_NER_PER);
    for (size_t i = 0; i + 1 < n && nn < DOC_NAMES; i++) {
        /* the last word of a PER entity of two words or more: a surname */
        if (labels[i + 1] != iper || (i + 2 < n && labels[i + 2] == iper))
            continue;
        const nw_ner_word_t *w = &words[i + 1];
        if (!name_like(w))
            continue;
        uint64_t h = XXH3_64bits(w->s, w->len);
        size_t k = 0;
        while (k < nn && names[k] != h)
            k++;
        if (k == nn)
            names[nn++] = h;
    }
    if (nn == 0)
        return;
    for (size_t i = 0; i < n; i++) {
        if (labels[i] != NW_NER_LABEL_O || !name_like(&words[i]))
            continue;
        /* alone: a neighbour inside another entity would make this one half of a name */
        if ((i > 0 && labels[i - 1] != NW_NER_LABEL_O) ||
            (i + 1 < n && labels[i + 1] != NW_NER_LABEL_O))
            continue;
        uint64_t h = XXH3_64bits(words[i].s, words[i].len);
        for (size_t k = 0; k < nn; k++) {
            if (names[k] == h) {
                labels[i] = bper;
                break;
            }
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Spans */

static int
span_push(nw_ner_spans_t *o, nw_ner_type_t type, const char *text, size_t start, size_t end)
{
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 16;
        nw_ner_span_t *v = realloc(o->v, cap * sizeof *v);
        if (v == NULL)
            return -ENOMEM;
        o->v = v;
        o->cap = cap;
    }
    char *copy = malloc(end - start + 1);
    if (copy == NULL)
        return -ENOMEM;
    memcpy(copy, text + start, end - start);
    copy[end - start] = 0;
    o->v[o->n++] = (nw_ner_span_t){.type = type, .start = start, .end = end, .text = copy};
    return 0;
}

static int
emit_spans(const char *text, const nw_ner_token_t *tk, const uint8_t *lab, size_t n,
           nw_ner_spans_t *out)
{
    size_t pos = 0, i, j;
    int type;
    while ((type = nw_ner_chunk_next(lab, n, &pos, &i, &j)) >= 0) {
        int rc = span_push(out, (nw_ner_type_t)type, text, tk[i].start, tk[j - 1].end);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static const nw_ner_t *
pick_one(void *ctx, size_t offset)
{
    (void)offset;
    return ctx;
}

int
nw_ner_tag(const nw_ner_t *m, const char *text, size_t len, nw_ner_spans_t *out)
{
    return nw_ner_tag_with(pick_one, (void *)(uintptr_t)m, text, len, out);
}

int
nw_ner_tag_with(nw_ner_pick_fn pick, void *ctx, const char *text, size_t len, nw_ner_spans_t *out)
{
    nw_ner_token_t *tk = NULL;
    nw_ner_word_t *words = NULL;
    uint8_t *lab = NULL;
    size_t n = 0;
    int rc = nw_ner_tokenize(text, len, &tk, &n);
    if (rc < 0)
        goto out;
    words = calloc(n ? n : 1, sizeof *words); /* calloc: GCC then sees words[0] set when n is 0 */
    lab = malloc(n ? n : 1);
    if (words == NULL || lab == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        words[i] = (nw_ner_word_t){.s = text + tk[i].start, .len = tk[i].end - tk[i].start};
    for (size_t s = 0; s < n;) {
        size_t e = s + 1;
        while (e < n && !tk[e].sent_start && e - s < MAX_SENT)
            e++;
        rc = nw_ner_tag_words(pick(ctx, tk[s].start), words + s, e - s, lab + s);
        if (rc < 0)
            goto out;
        s = e;
    }
    nw_ner_doc_pass(words, n, lab);
    /* Each sentence's labels begin with B or O, so no span runs across a sentence end. */
    rc = emit_spans(text, tk, lab, n, out);
out:
    free(tk);
    free(words);
    free(lab);
    return rc;
}

void
nw_ner_spans_release(nw_ner_spans_t *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].text);
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------------------------------------ */
/* Serialisation */

typedef struct wbuf {
    uint8_t *p;
    size_t n;
    size_t cap;
    int err;
} wbuf;

static void
wb_put(wbuf *b, const void *src, size_t n)
{
    if (b->err)
        return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (p == NULL) {
            b->err = -ENOMEM;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void
wb_u16(wbuf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    wb_put(b, x, 2);
}

static void
wb_u32(wbuf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    wb_put(b, x, 4);
}

static void
wb_u64(wbuf *b, uint64_t v)
{
    wb_u32(b, (uint32_t)v);
    wb_u32(b, (uint32_t)(v >> 32));
}

static void
wb_varint(wbuf *b, uint32_t v)
{
    uint8_t x[5];
    size_t n = 0;
    while (v >= 0x80) {
        x[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    x[n++] = (uint8_t)v;
    wb_put(b, x, n);
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Occupied keys of a table of `cap` entries of `size` bytes whose first field is the key,
 * sorted: the file lists records in key order so that it is the same for the same model. */
static uint32_t *
sorted_keys(const void *tab, uint32_t cap, size_t size, uint32_t n)
{
    uint32_t *k = malloc((n ? n : 1) * sizeof *k);
    if (k == NULL)
        return NULL;
    uint32_t j = 0;
    for (uint32_t i = 0; i < cap; i++) {
        uint32_t key;
        memcpy(&key, (const uint8_t *)tab + (size_t)i * size, sizeof key);
        if (key != 0)
            k[j++] = key;
    }
    qsort(k, j, sizeof *k, cmp_u32);
    return k;
}

int
nw_ner_serialize(const nw_ner_t *m, uint8_t **out, size_t *len)
{
    wbuf b = {0};
    uint32_t *fk = sorted_keys(m->slots, m->mask + 1, sizeof(slot), m->nfeat);
    uint32_t *gk = sorted_keys(m->gaz.v, m->gaz.mask + 1, sizeof(gslot), m->gaz.n);
    int rc = 0;
    if (fk == NULL || gk == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    wb_put(&b, magic, sizeof magic);
    wb_u32(&b, NL);
    wb_u32(&b, m->nfeat);
    wb_u32(&b, m->gaz.n);
    uint32_t sc;
    memcpy(&sc, &m->scale, sizeof sc);
    wb_u32(&b, sc);
    for (int j = 0; j < (NL + 1) * NL; j++)
        wb_u16(&b, (uint16_t)m->trans[j]);
    uint32_t last = 0;
    for (uint32_t i = 0; i < m->nfeat; i++) {
        const slot *s = model_find(m, fk[i]);
        uint16_t mask = 0;
        for (int l = 0; l < NL; l++)
            if (s->w[l] != 0)
                mask |= (uint16_t)(1u << l);
        wb_varint(&b, fk[i] - last);
        last = fk[i];
        wb_u16(&b, mask);
        for (int l = 0; l < NL; l++)
            if (s->w[l] != 0)
                wb_u16(&b, (uint16_t)s->w[l]);
    }
    last = 0;
    for (uint32_t i = 0; i < m->gaz.n; i++) {
        wb_varint(&b, gk[i] - last);
        last = gk[i];
        uint8_t bits = nw_ner_gaz_get(&m->gaz, gk[i]);
        wb_put(&b, &bits, 1);
    }
    if (b.err == 0)
        wb_u64(&b, XXH3_64bits(b.p, b.n));
    rc = b.err;
out:
    free(fk);
    free(gk);
    if (rc < 0) {
        free(b.p);
        return rc;
    }
    *out = b.p;
    *len = b.n;
    return 0;
}

int
nw_ner_save(const nw_ner_t *m, const char *path)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    char *tmp = NULL;
    FILE *f = NULL;
    int rc = nw_ner_serialize(m, &buf, &len);
    if (rc < 0)
        goto out;
    size_t pl = strlen(path);
    tmp = malloc(pl + 8);
    if (tmp == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    snprintf(tmp, pl + 8, "%s.tmp", path);
    f = fopen(tmp, "wb");
    if (f == NULL) {
        rc = -errno;
        goto out;
    }
    if (fwrite(buf, 1, len, f) != len || fflush(f) != 0) {
        rc = -EIO;
        goto out;
    }
    if (fclose(f) != 0) {
        f = NULL;
        rc = -EIO;
        goto out;
    }
    f = NULL;
    if (rename(tmp, path) != 0)
        rc = -errno;
out:
    if (f != NULL)
        fclose(f);
    if (rc < 0 && tmp != NULL)
        unlink(tmp);
    free(tmp);
    free(buf);
    return rc;
}

typedef struct rbuf {
    const uint8_t *p;
    size_t n;
    size_t pos;
} rbuf;

static int
rb_get(rbuf *r, void *dst, size_t n)
{
    if (r->n - r->pos < n)
        return -EPROTO;
    memcpy(dst, r->p + r->pos, n);
    r->pos += n;
    return 0;
}

static int
rb_u16(rbuf *r, uint16_t *v)
{
    uint8_t x[2];
    if (rb_get(r, x, 2) < 0)
        return -EPROTO;
    *v = (uint16_t)(x[0] | x[1] << 8);
    return 0;
}

static int
rb_u32(rbuf *r, uint32_t *v)
{
    uint8_t x[4];
    if (rb_get(r, x, 4) < 0)
        return -EPROTO;
    *v = (uint32_t)x[0] | (uint32_t)x[1] << 8 | (uint32_t)x[2] << 16 | (uint32_t)x[3] << 24;
    return 0;
}

static int
rb_varint(rbuf *r, uint32_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 35; shift += 7) {
        uint8_t c;
        if (rb_get(r, &c, 1) < 0)
            return -EPROTO;
        x |= (uint64_t)(c & 0x7f) << shift;
        if ((c & 0x80) == 0) {
            if (x > UINT32_MAX)
                return -EPROTO;
            *v = (uint32_t)x;
            return 0;
        }
    }
    return -EPROTO;
}

/* Next key of a strictly increasing run: delta must be positive and not wrap. */
static int
rb_key(rbuf *r, uint32_t *key)
{
    uint32_t d;
    if (rb_varint(r, &d) < 0 || d == 0 || d > UINT32_MAX - *key)
        return -EPROTO;
    *key += d;
    return 0;
}

int
nw_ner_load_buf(const uint8_t *buf, size_t len, nw_ner_t **out)
{
    nw_ner_t *m = NULL;
    rbuf r = {.p = buf, .n = len, .pos = 0};
    uint8_t mg[8];
    uint32_t nl, nfeat, ngaz, sc;
    int rc = -EPROTO;
    *out = NULL;
    if (len < sizeof mg + 16 + 8)
        goto out;
    uint64_t sum = 0;
    for (int i = 0; i < 8; i++)
        sum |= (uint64_t)buf[len - 8 + (size_t)i] << (8 * i);
    if (sum != XXH3_64bits(buf, len - 8))
        goto out;
    r.n = len - 8;
    if (rb_get(&r, mg, sizeof mg) < 0 || memcmp(mg, magic, sizeof mg) != 0)
        goto out;
    if (rb_u32(&r, &nl) < 0 || nl != NL || rb_u32(&r, &nfeat) < 0 || rb_u32(&r, &ngaz) < 0 ||
        rb_u32(&r, &sc) < 0)
        goto out;
    /* Each record takes at least 3 (feature) or 2 (word) bytes: bound the counts by the size
     * before allocating for them. */
    if (nfeat > MAX_FEAT || nfeat > len / 3 || ngaz > MAX_FEAT || ngaz > len / 2)
        goto out;
    m = nw_ner_model_new(nfeat, ngaz);
    if (m == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    memcpy(&m->scale, &sc, sizeof sc);
    for (int j = 0; j < (NL + 1) * NL; j++) {
        uint16_t v;
        if (rb_u16(&r, &v) < 0)
            goto out;
        m->trans[j] = (int16_t)v;
    }
    uint32_t key = 0;
    for (uint32_t i = 0; i < nfeat; i++) {
        uint16_t mask;
        if (rb_key(&r, &key) < 0 || rb_u16(&r, &mask) < 0 || mask == 0 || mask >= (1u << NL))
            goto out;
        slot *s = nw_ner_model_insert(m, key);
        for (int l = 0; l < NL; l++) {
            uint16_t v;
            if (!(mask & (1u << l)))
                continue;
            if (rb_u16(&r, &v) < 0 || v == 0)
                goto out;
            s->w[l] = (int16_t)v;
        }
    }
    key = 0;
    for (uint32_t i = 0; i < ngaz; i++) {
        uint8_t bits;
        if (rb_key(&r, &key) < 0 || rb_get(&r, &bits, 1) < 0 || bits == 0)
            goto out;
        nw_ner_gaz_or(&m->gaz, key, bits);
    }
    if (r.pos != r.n)
        goto out;
    *out = m;
    m = NULL;
    rc = 0;
out:
    nw_ner_destroy(&m);
    return rc;
}

int
nw_ner_load(const char *path, nw_ner_t **out)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -errno;
    int rc = 0;
    if (fseek(f, 0, SEEK_END) != 0) {
        rc = -errno;
        goto out;
    }
    long sz = ftell(f);
    if (sz < 0 || fseek(f, 0, SEEK_SET) != 0) {
        rc = -EIO;
        goto out;
    }
    len = (size_t)sz;
    buf = malloc(len ? len : 1);
    if (buf == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    if (fread(buf, 1, len, f) != len) {
        rc = -EIO;
        goto out;
    }
    rc = nw_ner_load_buf(buf, len, out);
out:
    fclose(f);
    free(buf);
    return rc;
}
