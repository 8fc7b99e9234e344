/* wire.c: the wire-text parser (see wire.h). Wire copy arrives as plain text with its structure
 * carried by conventions, not markup. The rules, applied in this order:
 *
 * 1. Normalise. A UTF-8 BOM is dropped; CRLF and lone CR end lines like LF. Each line is cleaned
 *    (nw_wire_clean): NBSP and every other Unicode space or control character becomes a space,
 *    zero-width characters and soft hyphens are dropped, runs of spaces collapse, the line is
 *    trimmed, and a space before . , ; : ! ? goes when the mark ends a word ("Gaza ." ->
 *    "Gaza."; ".NET" keeps its space). Empty lines are dropped: blank lines only separate, and
 *    every remaining line is one paragraph candidate.
 * 2. Date prefix. The first line may start with "date YYYY-MM-DD" (also "dated", "published",
 *    any case, an optional colon, an optional "Thh:mm[:ss][Z|+hh:mm]" time). A real calendar
 *    date becomes `published` as printed and the prefix is cut; what follows on the line is
 *    ordinary text.
 * 3. Captions. A line whose end carries a photo credit is a caption, wherever it sits. Credit
 *    forms: "© Name/Agency", "PHOTO/Name/POOL/AFP" or "FOTO/..." (also after " - " or " – "),
 *    "Photo: Name/Agency" or "Photo by Name", "(Photo: Name/Agency)", "(AP Photo/Name)",
 *    "AFP PHOTO / Name", "REUTERS/Name" (agency in capitals), "Name/Agency" or "Name / Agency"
 *    after a sentence end or a dash, and a bare "Getty Images" after a dash or a sentence end
 *    (a bare wire agency, "... - AFP", attributes text, not a photo, so it is not taken).
 *    A credit is short (<= 120 bytes), has no sentence inside it and does not end with
 *    sentence punctuation; the earliest credit that passes wins, so the credit is as long as
 *    it can be. caption.text is the line before the credit
 *    without the separator (" - ", " – ", " — ", "|"), caption.credit the credit as printed
 *    (without enclosing parentheses), agency the first known agency in it, normalised
 *    (REUTERS -> Reuters, AFP, AP, EFE, EPA, Getty Images, ...), pool when the word "pool"
 *    appears, photographer the first "/"-separated part that looks like a name once markers,
 *    agencies and "Pool"/"via" are set aside (all-capital names are title-cased). A line that
 *    is only a credit ("REUTERS/Jane Doe") turns the line before it into a caption with that
 *    credit, when that line is short (< 400 bytes); otherwise it is dropped. When captions
 *    would leave no body line at all, they are not captions but a short article with a credit:
 *    each goes back to the body as its text without the credit (never an empty article).
 * 4. Top zone. Lines before the first body paragraph (captions aside) may be a byline and up to
 *    two headings. A byline is "By Name[, Name][ and Name][, Agency][ in Place]" or
 *    "Name Name[ and Name Name], Agency" with a known agency; it gives `authors` (names only,
 *    all-capital names title-cased). A heading is a line shorter than 200 characters that does
 *    not end with sentence punctuation (. ! ? : ; … possibly followed by a closing quote or
 *    bracket) and does not start with a dateline. One heading is the title. With two, the
 *    shorter (in characters; the first on a tie) is the headline (title) and the longer the
 *    teaser (subtitle): agencies print a long standfirst beside a short headline, in either
 *    order. A third such line ends the top zone and starts the body. When nothing but top-zone
 *    lines exists, the would-be headings are the body instead, so no text is lost.
 * 5. Dateline. The first body paragraph may start with "Place[, Region][, Date] [(Agency)]"
 *    and a dash separator (" - ", " – ", " — ", " -- "): 1-4 capitalised place words per part
 *    (connectors such as "de", "al", "el-" allowed inside), at most three parts, optionally a
 *    month-day date part and a parenthesised agency; the text after the dash must not start
 *    with a lowercase letter. `dateline` is the place ("Cairo, Egypt"; all-capital places are
 *    title-cased: "CAIRO" -> "Cairo") and the prefix is cut from the paragraph. A dateline alone
 *    on its line ("CAIRO (Reuters) -") is consumed with its line. Ordinary sentences do not
 *    match: a dateline is short and ends at the dash.
 * 6. Body. Every other line is a paragraph, including lines without terminal punctuation in
 *    the middle of the body; text is the paragraphs joined by "\n\n". */
#include "wire.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

#include "newswire/buf.h"
#include "newswire/util.h"

#define HEADING_MAX_CHARS 200
#define CREDIT_MAX_BYTES 120
#define CAPTION_ABOVE_CREDIT_MAX 400
#define DATELINE_MAX_BYTES 100
#define BYLINE_MAX_BYTES 160

enum { L_BODY = 0, L_CAPTION, L_HEADING, L_BYLINE, L_SKIP };

typedef struct line {
    char *s; /* cleaned, NUL-terminated, owned */
    size_t len;
    int kind;
    nw_caption_t cap; /* when kind == L_CAPTION */
} line_t;

/* --- characters ---------------------------------------------------------------------------- */

static int32_t
decode(const char *s, size_t len, size_t i, size_t *n)
{
    utf8proc_int32_t cp;
    utf8proc_ssize_t k =
        utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &cp);
    if (k <= 0) {
        *n = 1;
        return 0xfffd;
    }
    *n = (size_t)k;
    return cp;
}

static bool
cp_is_space(int32_t cp)
{
    if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
        return true;
    utf8proc_category_t c = utf8proc_category(cp);
    return c == UTF8PROC_CATEGORY_ZS || c == UTF8PROC_CATEGORY_ZL || c == UTF8PROC_CATEGORY_ZP;
}

static bool
cp_is_zero_width(int32_t cp)
{
    return cp == 0x200b || cp == 0x2060 || cp == 0xfeff || cp == 0x00ad;
}

static bool
cp_is_upper(int32_t cp)
{
    utf8proc_category_t c = utf8proc_category(cp);
    return c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LT;
}

static bool
cp_is_lower(int32_t cp)
{
    return utf8proc_category(cp) == UTF8PROC_CATEGORY_LL;
}

static bool
cp_is_letter(int32_t cp)
{
    utf8proc_category_t c = utf8proc_category(cp);
    return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) || c == UTF8PROC_CATEGORY_MN ||
           c == UTF8PROC_CATEGORY_MC;
}

/* A byte that can be part of a word: ASCII alphanumeric or any byte of a multibyte sequence
 * (letters beyond ASCII). Used for word boundaries around ASCII keywords. */
static bool
wordbyte(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static size_t
count_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            n++;
    return n;
}

static bool
has_letter(const char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        size_t n;
        if (cp_is_letter(decode(s, len, i, &n)))
            return true;
        i += n;
    }
    return false;
}

/* True when every letter of s is uppercase and there are at least two letters. */
static bool
all_caps(const char *s, size_t len)
{
    size_t letters = 0;
    for (size_t i = 0; i < len;) {
        size_t n;
        int32_t cp = decode(s, len, i, &n);
        if (cp_is_lower(cp))
            return false;
        if (cp_is_letter(cp))
            letters++;
        i += n;
    }
    return letters >= 2;
}

/* Closing quote or bracket at s[i]: returns its length in bytes, 0 when none. */
static size_t
closing_at(const char *s, size_t len, size_t i)
{
    static const char *const closers[] = {"\"",           "'",       ")", "]", "\xe2\x80\x9d",
                                          "\xe2\x80\x99", "\xc2\xbb"};
    for (size_t k = 0; k < sizeof(closers) / sizeof(closers[0]); k++) {
        size_t n = strlen(closers[k]);
        if (i + n <= len && memcmp(s + i, closers[k], n) == 0)
            return n;
    }
    return 0;
}

/* Length of s without trailing closing quotes and brackets. */
static size_t
strip_closers(const char *s, size_t len)
{
    for (;;) {
        size_t k = 0;
        for (size_t n = 1; n <= 3 && n <= len; n++)
            if (closing_at(s, len, len - n) == n) {
                k = n;
                break;
            }
        if (k == 0)
            return len;
        len -= k;
    }
}

/* True when s[0..len) ends with sentence punctuation, maybe followed by closing quotes. */
static bool
ends_sentence(const char *s, size_t len)
{
    len = strip_closers(s, len);
    if (len == 0)
        return false;
    char c = s[len - 1];
    if (c == '.' || c == '!' || c == '?' || c == ':' || c == ';')
        return true;
    return len >= 3 && memcmp(s + len - 3, "\xe2\x80\xa6", 3) == 0; /* … */
}

/* Dash separator at s[i] (i at the space before the dash): " - ", " – ", " — ", " -- ".
 * Returns the length up to and including the trailing space (or to the end of the line when
 * the dash ends it), 0 when there is none. */
static size_t
dash_sep_at(const char *s, size_t len, size_t i)
{
    static const char *const dashes[] = {"--", "-", "\xe2\x80\x93", "\xe2\x80\x94"};
    if (i >= len || s[i] != ' ')
        return 0;
    for (size_t k = 0; k < sizeof(dashes) / sizeof(dashes[0]); k++) {
        size_t n = strlen(dashes[k]);
        if (i + 1 + n <= len && memcmp(s + i + 1, dashes[k], n) == 0) {
            if (i + 1 + n == len)
                return 1 + n;
            if (s[i + 1 + n] == ' ')
                return 2 + n;
        }
    }
    return 0;
}

/* Length of s after trimming trailing spaces and separators (dashes, bars) between words. */
static size_t
trim_separators(const char *s, size_t len)
{
    for (;;) {
        while (len > 0 && s[len - 1] == ' ')
            len--;
        if (len > 0 && (s[len - 1] == '-' || s[len - 1] == '|')) {
            if (len == 1 || s[len - 2] == ' ') {
                len--;
                continue;
            }
            if (len >= 2 && s[len - 2] == '-' && (len == 2 || s[len - 3] == ' ')) {
                len -= 2;
                continue;
            }
        }
        if (len >= 3 && (memcmp(s + len - 3, "\xe2\x80\x93", 3) == 0 ||
                         memcmp(s + len - 3, "\xe2\x80\x94", 3) == 0)) {
            len -= 3;
            continue;
        }
        return len;
    }
}

static size_t
trim_len(const char *s, size_t len)
{
    while (len > 0 && s[len - 1] == ' ')
        len--;
    return len;
}

static bool
is_particle(const char *w, size_t n)
{
    static const char *const parts[] = {"de",  "da",   "di",  "du",  "del", "der", "den",
                                        "van", "von",  "bin", "ibn", "al",  "el",  "la",
                                        "le",  "ter",  "ten", "dos", "das", "y",   "of",
                                        "on",  "upon", "sur", "am",  "an",  "do",  "e"};
    for (size_t k = 0; k < sizeof(parts) / sizeof(parts[0]); k++)
        if (strlen(parts[k]) == n && memcmp(parts[k], w, n) == 0)
            return true;
    return false;
}

/* Title-case an all-capital name or place: "NEW YORK" -> "New York". Words of one or two
 * letters stay as they are ("UK", "DC") unless they are connectors ("DE" -> "de"). */
static char *
titlecase(const char *s, size_t len)
{
    nw_buf_t b = {0};
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && s[j] != ' ' && s[j] != '/' && s[j] != ',')
            j++;
        if (j == i) {
            if (nw_buf_append(&b, s + i, 1) < 0)
                goto fail;
            i++;
            continue;
        }
        char low[8];
        size_t wl = j - i;
        bool conn = false;
        if (i > 0 && wl < sizeof(low)) {
            for (size_t k = 0; k < wl; k++)
                low[k] =
                    (s[i + k] >= 'A' && s[i + k] <= 'Z') ? (char)(s[i + k] - 'A' + 'a') : s[i + k];
            conn = is_particle(low, wl);
        }
        if (conn) {
            if (nw_buf_append(&b, low, wl) < 0)
                goto fail;
        } else if (count_chars(s + i, wl) <= 2) {
            if (nw_buf_append(&b, s + i, wl) < 0)
                goto fail;
        } else {
            bool start = true;
            for (size_t k = i; k < j;) {
                size_t n;
                int32_t cp = decode(s, j, k, &n);
                utf8proc_uint8_t enc[4];
                utf8proc_ssize_t el = utf8proc_encode_char(start ? cp : utf8proc_tolower(cp), enc);
                if (nw_buf_append(&b, enc, (size_t)el) < 0)
                    goto fail;
                start = !cp_is_letter(cp) && cp != '\'' && cp != 0x2019;
                k += n;
            }
        }
        i = j;
    }
    if (nw_buf_append(&b, "", 0) < 0)
        goto fail;
    return (char *)b.data;
fail:
    nw_buf_release(&b);
    return NULL;
}

/* Copy a name or place, title-cased when printed in capitals. */
static char *
name_dup(const char *s, size_t len)
{
    return all_caps(s, len) ? titlecase(s, len) : nw_strndup(s, len);
}

/* --- line cleaning ------------------------------------------------------------------------- */

static bool
punct_ends_word(const char *s, size_t len, size_t p)
{
    size_t q = p + 1;
    while (q < len && strchr(".,;:!?", s[q]) != NULL)
        q++;
    return q == len || s[q] == ' ' || closing_at(s, len, q) > 0;
}

char *
nw_wire_clean(const char *s, size_t len)
{
    nw_buf_t b = {0};
    if (nw_buf_reserve(&b, len) < 0)
        return NULL;
    for (size_t i = 0; i < len;) {
        size_t n;
        int32_t cp = decode(s, len, i, &n);
        if (cp_is_space(cp)) {
            if (b.len > 0 && b.data[b.len - 1] != ' ')
                b.data[b.len++] = ' ';
        } else if (!cp_is_zero_width(cp)) {
            memcpy(b.data + b.len, s + i, n); /* output never outgrows the input */
            b.len += n;
        }
        i += n;
    }
    char *o = (char *)b.data;
    size_t w = 0;
    for (size_t r = 0; r < b.len; r++) {
        if (o[r] == ' ' && (w == 0 || r + 1 == b.len))
            continue; /* leading or trailing space */
        if (o[r] == ' ' && strchr(".,;:!?", o[r + 1]) != NULL && punct_ends_word(o, b.len, r + 1))
            continue;
        o[w++] = o[r];
    }
    o[w] = 0;
    return o;
}

/* --- dates --------------------------------------------------------------------------------- */

int
nw_wire_valid_date(const char *s, size_t len)
{
    if (len < 10)
        return 0;
    for (int i = 0; i < 10; i++) {
        if (i == 4 || i == 7) {
            if (s[i] != '-')
                return 0;
        } else if (!is_digit(s[i])) {
            return 0;
        }
    }
    if (len > 10 && is_digit(s[10]))
        return 0;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1800 || y > 2199 || m < 1 || m > 12 || d < 1)
        return 0;
    int max = dim[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        max = 29;
    return d <= max;
}

static size_t
digits(const char *s, size_t len, size_t i)
{
    size_t j = i;
    while (j < len && is_digit(s[j]))
        j++;
    return j - i;
}

/* Length of an optional "Thh:mm[:ss[.fff]][Z|+hh:mm]" at s[i], 0 when there is none. */
static size_t
time_suffix(const char *s, size_t len, size_t i)
{
    size_t j = i;
    if (j >= len || s[j] != 'T' || digits(s, len, j + 1) != 2 || j + 3 >= len || s[j + 3] != ':' ||
        digits(s, len, j + 4) != 2)
        return 0;
    j += 6;
    if (j < len && s[j] == ':' && digits(s, len, j + 1) == 2) {
        j += 3;
        if (j < len && s[j] == '.' && digits(s, len, j + 1) > 0)
            j += 1 + digits(s, len, j + 1);
    }
    if (j < len && s[j] == 'Z')
        j++;
    else if (j < len && (s[j] == '+' || s[j] == '-') && digits(s, len, j + 1) == 2 && j + 3 < len &&
             s[j + 3] == ':' && digits(s, len, j + 4) == 2)
        j += 6;
    return j - i;
}

/* A leading date prefix: returns the offset where the rest of the line starts (0 when there is
 * no prefix) and sets *published (malloc'd; NULL on ENOMEM with -1 returned). */
static long
date_prefix(const char *s, size_t len, char **published)
{
    static const char *const keys[] = {"published", "dated", "date"};
    size_t i = 0;
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        size_t n = strlen(keys[k]);
        if (len > n && strncasecmp(s, keys[k], n) == 0 && !wordbyte((unsigned char)s[n])) {
            i = n;
            break;
        }
    }
    if (i == 0)
        return 0;
    if (i < len && s[i] == ':')
        i++;
    if (i < len && s[i] == ' ')
        i++;
    if (!nw_wire_valid_date(s + i, len - i))
        return 0;
    size_t end = i + 10;
    end += time_suffix(s, len, end);
    if (end < len && s[end] != ' ')
        return 0;
    *published = nw_strndup(s + i, end - i);
    if (*published == NULL)
        return -1;
    return (long)(end < len ? end + 1 : end);
}

/* --- agencies and credits ------------------------------------------------------------------ */

static const struct agency {
    const char *name;
    const char *norm;
    bool exact; /* acronyms match only as printed in capitals */
} agencies[] = {
    {"Reuters", "Reuters", false},
    {"Getty Images", "Getty Images", false},
    {"AFP", "AFP", true},
    {"AP", "AP", true},
    {"EFE", "EFE", true},
    {"EPA", "EPA", true},
    {"Anadolu Agency", "Anadolu", false},
    {"Anadolu", "Anadolu", false},
    {"Xinhua", "Xinhua", false},
    {"dpa", "dpa", false},
    {"ANSA", "ANSA", true},
    {"UPI", "UPI", true},
    {"SIPA", "SIPA", true},
    {"WAFA", "WAFA", true},
    {"AAP", "AAP", true},
    {"TASS", "TASS", true},
    {"Bloomberg", "Bloomberg", false},
    {"Europa Press", "Europa Press", false},
    {"NurPhoto", "NurPhoto", false},
    {"Shutterstock", "Shutterstock", false},
    {"Kyodo", "Kyodo", false},
    {"Yonhap", "Yonhap", false},
};
#define N_AGENCIES (sizeof(agencies) / sizeof(agencies[0]))

/* Known agency starting at s[i] on word boundaries: returns its table index and sets *n. */
static int
agency_at(const char *s, size_t len, size_t i, size_t *n)
{
    if (i > 0 && wordbyte((unsigned char)s[i - 1]))
        return -1;
    for (size_t k = 0; k < N_AGENCIES; k++) {
        size_t an = strlen(agencies[k].name);
        if (i + an > len)
            continue;
        bool eq = agencies[k].exact ? memcmp(s + i, agencies[k].name, an) == 0
                                    : strncasecmp(s + i, agencies[k].name, an) == 0;
        if (eq && (i + an == len || !wordbyte((unsigned char)s[i + an]))) {
            *n = an;
            return (int)k;
        }
    }
    return -1;
}

/* True when s[0..len) is exactly one known agency. */
static bool
is_agency(const char *s, size_t len)
{
    size_t n;
    return agency_at(s, len, 0, &n) >= 0 && n == len;
}

static bool
word_eq(const char *s, size_t len, size_t i, const char *w)
{
    size_t n = strlen(w);
    return (i == 0 || !wordbyte((unsigned char)s[i - 1])) && i + n <= len &&
           strncasecmp(s + i, w, n) == 0 && (i + n == len || !wordbyte((unsigned char)s[i + n]));
}

/* A photo word at s[i] on word boundaries ("PHOTO", "Foto", "Picture", ...): its length or 0. */
static size_t
marker_word(const char *s, size_t len, size_t i)
{
    static const char *const words[] = {"photograph", "photo", "foto", "picture", "image"};
    for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++)
        if (word_eq(s, len, i, words[k]))
            return strlen(words[k]);
    return 0;
}

/* A photo marker at s[i]: a photo word followed by "/", ":" or "by Name". Returns the photo
 * word's length, 0 when there is none. ")" also counts, for "(AP Photo)" inside parentheses. */
static size_t
photo_marker(const char *s, size_t len, size_t i)
{
    size_t n = marker_word(s, len, i);
    if (n == 0)
        return 0;
    size_t j = i + n;
    while (j < len && s[j] == ' ')
        j++;
    if (j < len && (s[j] == '/' || s[j] == ':' || s[j] == ')'))
        return n;
    size_t k;
    if (j + 3 < len && strncasecmp(s + j, "by ", 3) == 0 && cp_is_upper(decode(s, len, j + 3, &k)))
        return n;
    return 0;
}

/* A credit is short, has no sentence inside it, no quotes, and does not end like a sentence. */
static bool
credit_ok(const char *c, size_t n)
{
    if (n < 2 || n > CREDIT_MAX_BYTES || !has_letter(c, n))
        return false;
    char last = c[n - 1];
    if (last == '.' || last == '!' || last == '?' || last == ';' || last == ',' || last == ':')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (c[i] == '"' || (i + 3 <= n && memcmp(c + i, "\xe2\x80\x9c", 3) == 0))
            return false;
        if ((c[i] == '.' || c[i] == '!' || c[i] == '?') && i + 1 < n && c[i + 1] == ' ') {
            /* "J. Doe": an initial is not a sentence end */
            bool initial = i >= 1 && c[i - 1] >= 'A' && c[i - 1] <= 'Z' &&
                           (i == 1 || !wordbyte((unsigned char)c[i - 2]));
            if (!initial)
                return false;
        }
    }
    return true;
}

/* True when the text before a credit ends the caption: a sentence end, a dash separator or a
 * bar, or nothing at all. */
static bool
prefix_separates(const char *s, size_t start)
{
    size_t p = trim_len(s, start);
    if (p == 0)
        return true;
    if (trim_separators(s, p) < p)
        return true;
    return ends_sentence(s, p);
}

/* A capitalised word: starts with an uppercase letter, then letters, marks, apostrophes,
 * periods and hyphens. "al-Sisi" and "el-Sheikh" (lowercase particle, hyphen, capital) count. */
static bool
is_cap_word(const char *w, size_t n)
{
    if (n == 0)
        return false;
    size_t i = 0, k;
    int32_t cp = decode(w, n, 0, &k);
    if (!cp_is_upper(cp)) {
        const char *dash = memchr(w, '-', n);
        if (dash == NULL || !is_particle(w, (size_t)(dash - w)) || (size_t)(dash - w) + 1 >= n)
            return false;
        i = (size_t)(dash - w) + 1;
        cp = decode(w, n, i, &k);
        if (!cp_is_upper(cp))
            return false;
    }
    for (i += k; i < n; i += k) {
        cp = decode(w, n, i, &k);
        if (!cp_is_letter(cp) && cp != '\'' && cp != 0x2019 && cp != '.' && cp != '-')
            return false;
    }
    return true;
}

/* Looks like a personal name: 1-5 words, each capitalised, an initial ("J.") or a particle,
 * starting with a capitalised word; no digits. */
static bool
looks_like_name(const char *s, size_t len, size_t min_words)
{
    size_t words = 0, caps = 0, i = 0;
    if (len == 0 || len > 60)
        return false;
    while (i < len) {
        size_t j = i;
        while (j < len && s[j] != ' ')
            j++;
        size_t n = j - i;
        if (n == 0)
            return false;
        if (is_cap_word(s + i, n)) {
            caps++;
        } else if (!(words > 0 && is_particle(s + i, n))) {
            return false;
        }
        words++;
        i = j + 1;
    }
    return caps >= 1 && words >= min_words && words <= 5;
}

static bool
is_filler_segment(const char *s, size_t n)
{
    static const char *const fillers[] = {"pool", "handout",  "file",         "file photo",
                                          "via",  "courtesy", "reuters pool", "afp pool"};
    for (size_t k = 0; k < sizeof(fillers) / sizeof(fillers[0]); k++)
        if (strlen(fillers[k]) == n && strncasecmp(fillers[k], s, n) == 0)
            return true;
    return false;
}

/* The photographer inside one "/"-separated credit segment, after markers are stripped.
 * Returns a malloc'd name, NULL when the segment holds none (*oom set on ENOMEM). */
static char *
segment_name(const char *s, size_t n, bool *oom)
{
    size_t i = 0;
    for (;;) {
        while (i < n && (s[i] == ' ' || s[i] == '(' || s[i] == '-'))
            i++;
        if (i + 2 <= n && memcmp(s + i, "\xc2\xa9", 2) == 0) {
            i += 2;
            continue;
        }
        size_t an, m;
        if (agency_at(s, n, i, &an) >= 0) {
            size_t j = i + an;
            while (j < n && s[j] == ' ')
                j++;
            if ((m = marker_word(s, n, j)) > 0) {
                i = j + m;
                continue;
            }
        }
        if ((m = marker_word(s, n, i)) > 0) {
            i += m;
            while (i < n && s[i] == ' ')
                i++;
            if (i < n && s[i] == ':')
                i++;
            else if (i + 2 <= n && strncasecmp(s + i, "by", 2) == 0)
                i += 2;
            continue;
        }
        break;
    }
    size_t e = n;
    while (e > i && (s[e - 1] == ' ' || s[e - 1] == ')' || s[e - 1] == ':' || s[e - 1] == '-'))
        e--;
    if (e == i || is_agency(s + i, e - i) || is_filler_segment(s + i, e - i) ||
        !looks_like_name(s + i, e - i, 1))
        return NULL;
    char *r = name_dup(s + i, e - i);
    if (r == NULL)
        *oom = true;
    return r;
}

/* Fill credit, agency, pool and photographer of *cap from credit c[0..n). */
static int
credit_fields(const char *c, size_t n, nw_caption_t *cap)
{
    cap->credit = nw_strndup(c, n);
    if (cap->credit == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        size_t an;
        int a;
        if (cap->agency == NULL && (a = agency_at(c, n, i, &an)) >= 0) {
            cap->agency = strdup(agencies[a].norm);
            if (cap->agency == NULL)
                return -ENOMEM;
        }
        if (word_eq(c, n, i, "pool"))
            cap->pool = true;
    }
    /* Segments split at "/" and at " via " / " for " (credit-line prose, not names). */
    bool oom = false;
    size_t i = 0;
    while (i < n && cap->photographer == NULL) {
        size_t j = i;
        while (j < n && c[j] != '/' && !word_eq(c, n, j, "via") && !word_eq(c, n, j, "for"))
            j++;
        cap->photographer = segment_name(c + i, j - i, &oom);
        if (oom)
            return -ENOMEM;
        if (j < n && c[j] != '/')
            j += 3; /* "via" / "for" */
        i = j + 1;
    }
    return 0;
}

void
nw_wire_caption_release(nw_caption_t *cap)
{
    if (cap == NULL)
        return;
    free(cap->text);
    free(cap->credit);
    free(cap->photographer);
    free(cap->agency);
    free(cap->lang);
    memset(cap, 0, sizeof(*cap));
}

/* Where a credit was found: the caption text is s[0..text_end) before separators, the credit
 * s[cs..ce). */
typedef struct credit_pos {
    size_t text_end, cs, ce;
} credit_pos_t;

static bool
try_credit(const char *s, size_t start, size_t cs, size_t ce, bool need_sep, credit_pos_t *pos)
{
    while (cs < ce && s[cs] == ' ')
        cs++;
    ce = trim_len(s, ce);
    if (!credit_ok(s + cs, ce - cs))
        return false;
    if (need_sep && !prefix_separates(s, start))
        return false;
    pos->text_end = trim_separators(s, start);
    pos->cs = cs;
    pos->ce = ce;
    return true;
}

/* Find the credit at the end of a cleaned line. Returns true and fills *pos when one is there
 * (pos->text_end == 0 when the line is only a credit). */
static bool
find_credit(const char *s, size_t len, credit_pos_t *pos)
{
    /* only the last "(" can open a parenthesised credit that closes the line */
    const char *last_open = memrchr(s, '(', len);
    for (size_t i = 0; i < len; i++) {
        if (i + 2 <= len && memcmp(s + i, "\xc2\xa9", 2) == 0) {
            if (try_credit(s, i, i, len, false, pos))
                return true;
            continue;
        }
        if (s[i] == '(' && s + i == last_open && s[len - 1] == ')') {
            /* a parenthesised credit closing the line: it must name a photo, a credit
             * "Name/Agency" or only agencies */
            const char *in = s + i + 1;
            size_t n = len - 1 - (i + 1);
            bool photoish = memchr(in, '/', n) != NULL ||
                            (n >= 2 && memmem(in, n, "\xc2\xa9", 2) != NULL) || is_agency(in, n);
            for (size_t k = 0; k < n && !photoish; k++)
                photoish = photo_marker(in, n, k) > 0;
            if (photoish && try_credit(s, i, i + 1, len - 1, false, pos))
                return true;
            continue;
        }
        /* markers and agencies start with an ASCII letter at a word start */
        if ((i > 0 && wordbyte((unsigned char)s[i - 1])) || (s[i] | 0x20) < 'a' ||
            (s[i] | 0x20) > 'z')
            continue;
        size_t m, an;
        if ((m = photo_marker(s, len, i)) > 0) {
            size_t start = i;
            /* "AFP PHOTO", "AP Photo": the agency before the marker belongs to the credit */
            if (i >= 2 && s[i - 1] == ' ') {
                size_t w = i - 1;
                while (w > 0 && s[w - 1] != ' ' && s[w - 1] != '(')
                    w--;
                if (agency_at(s, len, w, &an) >= 0 && w + an == i - 1)
                    start = w;
            }
            if (try_credit(s, start, start, len, false, pos))
                return true;
            continue;
        }
        if (agency_at(s, len, i, &an) >= 0 && all_caps(s + i, an)) {
            size_t j = i + an;
            while (j < len && s[j] == ' ')
                j++;
            if (j < len && s[j] == '/' && try_credit(s, i, i, len, true, pos))
                return true;
        }
    }
    /* "Name/Agency" or "Name / Agency" at the end: walk back over the name's words. */
    const char *slash = memrchr(s, '/', len);
    if (slash != NULL) {
        size_t sl = (size_t)(slash - s);
        size_t a = sl + 1;
        while (a < len && s[a] == ' ')
            a++;
        if (is_agency(s + a, len - a)) {
            size_t w = trim_len(s, sl);
            for (int words = 0; words < 4 && w > 0; words++) {
                size_t b = w;
                while (b > 0 && s[b - 1] != ' ')
                    b--;
                if (!is_cap_word(s + b, w - b))
                    break;
                if (prefix_separates(s, b) && try_credit(s, b, b, len, true, pos))
                    return true;
                if (b == 0)
                    break;
                w = b - 1;
            }
        }
    }
    /* "Getty Images" closing the line after a dash or a sentence end: always a photo credit
     * (a bare wire agency after a dash is an attribution of text, so it is not taken). */
    static const char getty[] = "Getty Images";
    size_t gn = sizeof(getty) - 1, m;
    if (len > gn && agency_at(s, len, len - gn, &m) >= 0 && m == gn &&
        strncasecmp(s + len - gn, getty, gn) == 0) {
        size_t p = trim_len(s, len - gn);
        if ((trim_separators(s, p) < p || ends_sentence(s, p)) &&
            try_credit(s, len - gn, len - gn, len, true, pos))
            return true;
    }
    return false;
}

/* Split one cleaned line: 1 caption with text, 2 credit only (cap->text NULL), 0 neither. */
static int
split_caption(const char *s, size_t len, nw_caption_t *cap)
{
    credit_pos_t pos;
    memset(cap, 0, sizeof(*cap));
    if (!find_credit(s, len, &pos))
        return 0;
    if (pos.text_end > 0 && !has_letter(s, pos.text_end))
        return 0;
    if (credit_fields(s + pos.cs, pos.ce - pos.cs, cap) < 0)
        goto oom;
    if (pos.text_end == 0)
        return 2;
    cap->text = nw_strndup(s, pos.text_end);
    if (cap->text == NULL)
        goto oom;
    return 1;
oom:
    nw_wire_caption_release(cap);
    return -ENOMEM;
}

int
nw_wire_caption(const char *line, nw_caption_t *cap)
{
    int rc = split_caption(line, strlen(line), cap);
    if (rc == 2) {
        nw_wire_caption_release(cap);
        rc = 0;
    }
    return rc;
}

/* --- bylines ------------------------------------------------------------------------------- */

static bool
is_role(const char *s, size_t n)
{
    static const char *const roles[] = {"staff",    "writer",      "correspondent", "editor",
                                        "reporter", "contributor", "agencies",      "newsroom"};
    for (size_t k = 0; k < sizeof(roles) / sizeof(roles[0]); k++)
        for (size_t i = 0; i < n; i++)
            if (word_eq(s, n, i, roles[k]))
                return true;
    return false;
}

static int
push_author(char ***authors, size_t *n, const char *s, size_t len)
{
    char *a = name_dup(s, len);
    if (a == NULL)
        return -ENOMEM;
    char **p = realloc(*authors, (*n + 1) * sizeof(*p));
    if (p == NULL) {
        free(a);
        return -ENOMEM;
    }
    p[(*n)++] = a;
    *authors = p;
    return 0;
}

/* Parse a byline. Returns 1 (authors appended), 0 (not a byline) or -ENOMEM. */
static int
byline_parse(const char *s, size_t len, char ***authors, size_t *n_authors)
{
    if (len > BYLINE_MAX_BYTES || ends_sentence(s, len))
        return 0;
    bool by = len > 3 && (s[0] == 'B') && (s[1] == 'y' || s[1] == 'Y') && s[2] == ' ';
    size_t b = by ? 3 : 0, e = len;
    bool agency_seen = false;
    /* cut " | Agency", " - Agency" and " in Place" */
    for (size_t i = b; i < e; i++) {
        size_t d = dash_sep_at(s, e, i);
        if (d > 0 || (s[i] == ' ' && i + 2 < e && s[i + 1] == '|' && s[i + 2] == ' ')) {
            agency_seen = agency_seen || is_agency(s + i + (d ? d : 3), e - i - (d ? d : 3));
            e = i;
            break;
        }
        if (by && s[i] == ' ' && i + 4 < e && memcmp(s + i, " in ", 4) == 0 &&
            cp_is_upper(decode(s, e, i + 4, &(size_t){0}))) {
            e = i;
            break;
        }
    }
    /* pieces separated by ", ", " and ", " & " */
    size_t names[8][2], n = 0;
    size_t i = b;
    while (i < e) {
        size_t j = i, skip = 0;
        for (; j < e; j++) {
            if (s[j] == ',' && j + 1 < e && s[j + 1] == ' ') {
                skip = 2;
                break;
            }
            if (j + 5 <= e && memcmp(s + j, " and ", 5) == 0) {
                skip = 5;
                break;
            }
            if (j + 3 <= e && memcmp(s + j, " & ", 3) == 0) {
                skip = 3;
                break;
            }
        }
        if (is_agency(s + i, j - i)) {
            agency_seen = true;
        } else if (is_role(s + i, j - i)) {
            /* "Staff Writer": not a name */
        } else if (looks_like_name(s + i, j - i, 2) && n < 8) {
            names[n][0] = i;
            names[n][1] = j;
            n++;
        } else {
            return 0;
        }
        i = j + skip;
    }
    if (!by && (!agency_seen || n == 0))
        return 0;
    if (by && n == 0 && !agency_seen)
        return 0;
    for (size_t k = 0; k < n; k++)
        if (push_author(authors, n_authors, s + names[k][0], names[k][1] - names[k][0]) < 0)
            return -ENOMEM;
    return 1;
}

/* --- datelines ----------------------------------------------------------------------------- */

static bool
is_month(const char *w, size_t n)
{
    static const char *const months[] = {"january",   "february", "march",    "april",
                                         "may",       "june",     "july",     "august",
                                         "september", "october",  "november", "december"};
    if (n > 0 && w[n - 1] == '.')
        n--;
    if (n < 3)
        return false;
    for (size_t k = 0; k < 12; k++) {
        size_t m = strlen(months[k]);
        if (n <= m && strncasecmp(w, months[k], n) == 0 && (n == m || n <= 4))
            return true;
    }
    return false;
}

/* "Feb 6", "6 February", "February 6 2024": a date part of a dateline. */
static bool
is_date_part(const char *s, size_t len)
{
    bool month = false, day = false;
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && s[j] != ' ')
            j++;
        size_t d = digits(s, j, i);
        if (d == j - i && (d == 1 || d == 2))
            day = true;
        else if (d == j - i && d == 4 && day && month) {
            /* the year */
        } else if (is_month(s + i, j - i))
            month = true;
        else
            return false;
        i = j + 1;
    }
    return month && day;
}

/* One place part: 1-4 capitalised words separated by spaces or "/", connectors between. */
static bool
is_place_part(const char *s, size_t len)
{
    size_t caps = 0, i = 0;
    bool last_conn = false;
    if (len == 0)
        return false;
    while (i < len) {
        size_t j = i;
        while (j < len && s[j] != ' ' && s[j] != '/')
            j++;
        if (j == i)
            return false;
        if (is_cap_word(s + i, j - i)) {
            caps++;
            last_conn = false;
        } else if (caps > 0 && is_particle(s + i, j - i)) {
            last_conn = true;
        } else {
            return false;
        }
        i = j + 1;
    }
    return caps >= 1 && caps <= 4 && !last_conn;
}

/* A dateline at the start of s: returns the offset where the body text begins (len when the
 * line is only a dateline), 0 when there is none; sets *place (malloc'd) or returns -1 on
 * ENOMEM. */
static long
dateline_parse(const char *s, size_t len, char **place)
{
    size_t dash = 0, dl = 0;
    for (size_t i = 1; i < len && i <= DATELINE_MAX_BYTES; i++)
        if ((dl = dash_sep_at(s, len, i)) > 0) {
            dash = i;
            break;
        }
    if (dash == 0)
        return 0;
    size_t body = dash + dl;
    if (body < len) {
        size_t k;
        if (cp_is_lower(decode(s, len, body, &k)))
            return 0;
    }
    size_t h = dash;
    if (s[h - 1] == ')') {
        const char *open = memrchr(s, '(', h);
        if (open == NULL || open == s || open[-1] != ' ')
            return 0;
        size_t o = (size_t)(open - s);
        size_t k;
        if (h - o - 2 == 0 || h - o - 2 > 40 || !cp_is_upper(decode(s, len, o + 1, &k)))
            return 0;
        h = o - 1;
    }
    /* split the head into ", "-separated parts */
    size_t parts[4][2], np = 0, i = 0;
    while (i < h) {
        if (np == 4)
            return 0;
        size_t j = i;
        while (j < h && !(s[j] == ',' && j + 1 < h && s[j + 1] == ' '))
            j++;
        parts[np][0] = i;
        parts[np][1] = j;
        np++;
        i = j + 2;
    }
    if (np == 0)
        return 0;
    if (np > 1 && is_date_part(s + parts[np - 1][0], parts[np - 1][1] - parts[np - 1][0]))
        np--;
    if (np > 3)
        return 0;
    for (size_t k = 0; k < np; k++)
        if (!is_place_part(s + parts[k][0], parts[k][1] - parts[k][0]))
            return 0;
    /* title-case each part on its own: "RIO DE JANEIRO, Brazil" */
    nw_buf_t b = {0};
    for (size_t k = 0; k < np; k++) {
        char *p = name_dup(s + parts[k][0], parts[k][1] - parts[k][0]);
        int rc = p ? 0 : -ENOMEM;
        if (rc == 0 && k > 0)
            rc = nw_buf_puts(&b, ", ");
        if (rc == 0)
            rc = nw_buf_puts(&b, p);
        free(p);
        if (rc < 0) {
            nw_buf_release(&b);
            return -1;
        }
    }
    *place = (char *)b.data;
    return (long)body;
}

int
nw_wire_dateline(const char *para, size_t len, char **dateline, size_t *rest_off)
{
    char *place = NULL;
    long off = dateline_parse(para, len, &place);
    if (off < 0)
        return -ENOMEM;
    if (off == 0)
        return 0;
    *dateline = place;
    *rest_off = (size_t)off;
    return 1;
}

/* --- the parser ---------------------------------------------------------------------------- */

static bool
is_heading(const char *s, size_t len)
{
    return count_chars(s, len) < HEADING_MAX_CHARS && has_letter(s, len) && !ends_sentence(s, len);
}

static void
lines_free(line_t *lines, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(lines[i].s);
        nw_wire_caption_release(&lines[i].cap);
    }
    free(lines);
}

/* Split text into cleaned non-empty lines. Returns 0 or -ENOMEM. */
static int
split_lines(const char *text, size_t len, line_t **out, size_t *n_out)
{
    line_t *lines = NULL;
    size_t n = 0, cap = 0;
    size_t i = 0;
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        i = 3;
    while (i < len) {
        size_t j = i;
        while (j < len && text[j] != '\n' && text[j] != '\r')
            j++;
        char *c = nw_wire_clean(text + i, j - i);
        if (c == NULL)
            goto oom;
        if (c[0] == 0) {
            free(c);
        } else {
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 32;
                line_t *p = realloc(lines, nc * sizeof(*p));
                if (p == NULL) {
                    free(c);
                    goto oom;
                }
                lines = p;
                cap = nc;
            }
            memset(&lines[n], 0, sizeof(lines[n]));
            lines[n].s = c;
            lines[n].len = strlen(c);
            n++;
        }
        if (j + 1 < len && text[j] == '\r' && text[j + 1] == '\n')
            j++;
        i = j + 1;
    }
    *out = lines;
    *n_out = n;
    return 0;
oom:
    lines_free(lines, n);
    return -ENOMEM;
}

/* Cut the first off bytes of a line. */
static void
line_cut(line_t *l, size_t off)
{
    memmove(l->s, l->s + off, l->len - off + 1);
    l->len -= off;
}

int
nw_wire_parse(const char *text, size_t len, nw_article_t *art)
{
    line_t *lines = NULL;
    size_t n = 0;
    nw_article_t tmp = {0};
    nw_buf_t body = {0};
    int rc = -ENOMEM;

    if (!nw_utf8_valid((const uint8_t *)text, len))
        return -EILSEQ;
    if (split_lines(text, len, &lines, &n) < 0)
        goto out;

    /* 2. date prefix */
    if (n > 0) {
        long off = date_prefix(lines[0].s, lines[0].len, &tmp.published);
        if (off < 0)
            goto out;
        line_cut(&lines[0], (size_t)off);
        if (lines[0].len == 0)
            lines[0].kind = L_SKIP;
    }

    /* 3. captions */
    for (size_t i = 0; i < n; i++) {
        if (lines[i].kind != L_BODY)
            continue;
        int r = split_caption(lines[i].s, lines[i].len, &lines[i].cap);
        if (r < 0)
            goto out;
        if (r == 1) {
            lines[i].kind = L_CAPTION;
        } else if (r == 2) {
            line_t *prev = NULL;
            for (size_t k = i; k-- > 0;)
                if (lines[k].kind != L_SKIP) {
                    prev = &lines[k];
                    break;
                }
            if (prev != NULL && prev->kind == L_BODY && prev->len < CAPTION_ABOVE_CREDIT_MAX) {
                prev->cap = lines[i].cap;
                memset(&lines[i].cap, 0, sizeof(lines[i].cap));
                prev->cap.text = strdup(prev->s);
                if (prev->cap.text == NULL)
                    goto out;
                prev->kind = L_CAPTION;
            }
            nw_wire_caption_release(&lines[i].cap);
            lines[i].kind = L_SKIP;
        }
    }

    /* 3b. An article is never all captions: a one-paragraph story that ends with a credit
     * ("... (AP Photo/Rich Pedroncelli)") is prose, so when no body line is left, every caption
     * line goes back to the body without its credit. */
    bool any_body = false;
    for (size_t i = 0; i < n && !any_body; i++)
        any_body = lines[i].kind == L_BODY;
    for (size_t i = 0; i < n && !any_body; i++) {
        if (lines[i].kind != L_CAPTION || lines[i].cap.text == NULL || !lines[i].cap.text[0])
            continue;
        free(lines[i].s);
        lines[i].s = lines[i].cap.text;
        lines[i].len = strlen(lines[i].s);
        lines[i].cap.text = NULL;
        nw_wire_caption_release(&lines[i].cap);
        lines[i].kind = L_BODY;
    }

    /* 4. top zone: byline and headings */
    size_t heads[2], nheads = 0;
    long first_body = -1;
    for (size_t i = 0; i < n; i++) {
        if (lines[i].kind != L_BODY)
            continue;
        if (tmp.n_authors == 0) {
            int r = byline_parse(lines[i].s, lines[i].len, &tmp.authors, &tmp.n_authors);
            if (r < 0)
                goto out;
            if (r == 1) {
                lines[i].kind = L_BYLINE;
                continue;
            }
        }
        char *place = NULL;
        long d = dateline_parse(lines[i].s, lines[i].len, &place);
        free(place);
        if (d < 0)
            goto out;
        if (d == 0 && nheads < 2 && is_heading(lines[i].s, lines[i].len)) {
            lines[i].kind = L_HEADING;
            heads[nheads++] = i;
            continue;
        }
        first_body = (long)i;
        break;
    }
    if (first_body < 0) {
        /* nothing after the headings: they are the text */
        for (size_t k = 0; k < nheads; k++)
            lines[heads[k]].kind = L_BODY;
        if (nheads > 0)
            first_body = (long)heads[0];
        nheads = 0;
    }
    if (nheads == 1) {
        tmp.title = strdup(lines[heads[0]].s);
        if (tmp.title == NULL)
            goto out;
    } else if (nheads == 2) {
        line_t *a = &lines[heads[0]], *b = &lines[heads[1]];
        bool a_title = count_chars(a->s, a->len) <= count_chars(b->s, b->len);
        tmp.title = strdup(a_title ? a->s : b->s);
        tmp.subtitle = strdup(a_title ? b->s : a->s);
        if (tmp.title == NULL || tmp.subtitle == NULL)
            goto out;
    }

    /* 5. dateline */
    if (first_body >= 0) {
        line_t *l = &lines[first_body];
        long off = dateline_parse(l->s, l->len, &tmp.dateline);
        if (off < 0)
            goto out;
        if (off > 0) {
            line_cut(l, (size_t)off);
            if (l->len == 0)
                l->kind = L_SKIP;
        }
    }

    /* 6. body and captions */
    for (size_t i = 0; i < n; i++) {
        if (lines[i].kind == L_BODY) {
            if ((body.len > 0 && nw_buf_puts(&body, "\n\n") < 0) ||
                nw_buf_append(&body, lines[i].s, lines[i].len) < 0)
                goto out;
        } else if (lines[i].kind == L_CAPTION) {
            nw_caption_t *p = realloc(tmp.captions, (tmp.n_captions + 1) * sizeof(*p));
            if (p == NULL)
                goto out;
            tmp.captions = p;
            tmp.captions[tmp.n_captions++] = lines[i].cap;
            memset(&lines[i].cap, 0, sizeof(lines[i].cap));
        }
    }
    if (nw_buf_append(&body, "", 0) < 0)
        goto out;
    tmp.text = (char *)nw_buf_steal(&body, NULL);

    art->title = tmp.title;
    art->subtitle = tmp.subtitle;
    art->authors = tmp.authors;
    art->n_authors = tmp.n_authors;
    art->published = tmp.published;
    art->dateline = tmp.dateline;
    art->text = tmp.text;
    art->captions = tmp.captions;
    art->n_captions = tmp.n_captions;
    memset(&tmp, 0, sizeof(tmp));
    rc = 0;
out:
    lines_free(lines, n);
    nw_buf_release(&body);
    free(tmp.title);
    free(tmp.subtitle);
    for (size_t i = 0; i < tmp.n_authors; i++)
        free(tmp.authors[i]);
    free(tmp.authors);
    free(tmp.published);
    free(tmp.dateline);
    free(tmp.text);
    for (size_t i = 0; i < tmp.n_captions; i++)
        nw_wire_caption_release(&tmp.captions[i]);
    free(tmp.captions);
    return rc;
}
