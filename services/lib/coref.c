/* coref.c: short forms that join their full name within an article (see coref.h). Surnames
 * ("Trump" -> "Donald Trump") are joined in enrich.c by word subsequence; acronyms are here. */
#include "coref.h"

#include <string.h>

static int
function_word(const char *w, size_t n)
{
    static const char *const FW[] = {"of",  "the", "and", "for", "on", "in", "de",
                                     "des", "der", "del", "la",  "le", "du", "für"};
    for (size_t i = 0; i < sizeof(FW) / sizeof(FW[0]); i++)
        if (strlen(FW[i]) == n && memcmp(FW[i], w, n) == 0)
            return 1;
    return 0;
}

/* Can the initials of words[wi..] spell letters[li..]? Function words may be used or skipped. */
static int
spells(const char *const *ws, const size_t *wn, size_t nw, size_t wi, const char *letters,
       size_t nl, size_t li)
{
    if (wi == nw)
        return li == nl;
    int fw = function_word(ws[wi], wn[wi]);
    char c = ws[wi][0];
    if (c >= 'a' && c <= 'z')
        c = (char)(c - 32);
    if (li < nl && c == letters[li] && spells(ws, wn, nw, wi + 1, letters, nl, li + 1))
        return 1;
    return fw && spells(ws, wn, nw, wi + 1, letters, nl, li);
}

int
nw_coref_acronym(const char *abbr, const char *name)
{
    char letters[9];
    size_t nl = 0;
    for (const char *p = abbr; *p; p++) {
        if (*p == '.')
            continue;
        if (*p < 'A' || *p > 'Z' || nl == 8)
            return 0;
        letters[nl++] = *p;
    }
    if (nl < 2)
        return 0;
    const char *ws[16];
    size_t wn[16], nw = 0;
    for (const char *p = name; *p && nw < 16;) {
        while (*p == ' ' || *p == '-')
            p++;
        const char *e = p;
        while (*e && *e != ' ' && *e != '-')
            e++;
        if (e > p) {
            ws[nw] = p;
            wn[nw++] = (size_t)(e - p);
        }
        p = e;
    }
    if (nw < 2)
        return 0;
    for (size_t i = 0; i < nw; i++) /* every content word capitalised: a name, not a phrase */
        if (!function_word(ws[i], wn[i]) && !(ws[i][0] >= 'A' && ws[i][0] <= 'Z'))
            return 0;
    return spells(ws, wn, nw, 0, letters, nl, 0);
}
