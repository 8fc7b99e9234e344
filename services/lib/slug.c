/* slug.c: topic slugs of names (nw_enrich_slug, see enrich.h). A name in any script becomes
 * lowercase ASCII through ICU's transliterators ("Any-Latin; Latin-ASCII"): "Владимир Путин"
 * and "Vladimir Putin" share person.vladimir-putin, "Ελευθέριος" is "eleutherios", Chinese
 * comes out as spaced pinyin. Without ICU's data (or on a failure) the accents are stripped by
 * utf8proc and other letters dropped, as before. */
#include "newswire/enrich.h"

#include "enrich_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/ustring.h>
#include <unicode/utrans.h>
#include <utf8proc.h>

/* One transliterator per process, opened on first use or by nw_enrich_slug_preload: opening
 * costs ~27 ms of CPU (ICU builds its registry of every transliterator) and every service is
 * single-threaded (DESIGN.md), so it is never used by two threads at once. */
static UTransliterator *to_ascii;
static int to_ascii_failed;

void
nw_enrich_slug_preload(void)
{
    if (!to_ascii && !to_ascii_failed) {
        UErrorCode err = U_ZERO_ERROR;
        static const UChar id[] = u"Any-Latin; Latin-ASCII";
        to_ascii = utrans_openU(id, -1, UTRANS_FORWARD, NULL, 0, NULL, &err);
        if (U_FAILURE(err) || !to_ascii) {
            to_ascii = NULL;
            to_ascii_failed = 1;
        }
    }
}

/* Transliterate UTF-8 name to ASCII; returns a malloc'd string or NULL. */
static char *
transliterate(const char *name)
{
    UErrorCode err = U_ZERO_ERROR;
    UChar *u = NULL;
    char *out = NULL;
    int32_t ulen = 0;
    nw_enrich_slug_preload();
    if (!to_ascii)
        return NULL;
    size_t n = strlen(name);
    if (n > 4096)
        return NULL;
    /* Latin-ASCII can lengthen text ("ß" -> "ss", "Щ" -> "Shch"): room for four times. */
    int32_t cap = (int32_t)(4 * n + 16);
    u = malloc((size_t)cap * sizeof(*u));
    if (!u)
        return NULL;
    u_strFromUTF8Lenient(u, cap, &ulen, name, (int32_t)n, &err);
    if (U_FAILURE(err))
        goto out;
    int32_t limit = ulen;
    utrans_transUChars(to_ascii, u, &ulen, cap, 0, &limit, &err);
    if (U_FAILURE(err))
        goto out;
    int32_t blen = 0;
    out = malloc((size_t)ulen * 3 + 1);
    if (!out)
        goto out;
    u_strToUTF8(out, ulen * 3 + 1, &blen, u, ulen, &err);
    if (U_FAILURE(err)) {
        free(out);
        out = NULL;
    }
out:
    free(u);
    return out;
}

size_t
nw_enrich_slug(const char *name, char *out, size_t n)
{
    utf8proc_uint8_t *folded = NULL;
    char *ascii = NULL;
    size_t k = 0;
    int dash = 0;
    if (n == 0)
        return 0;
    int plain = 1;
    for (const char *p = name; *p && plain; p++)
        plain = (unsigned char)*p < 0x80;
    if (!plain)
        ascii = transliterate(name);
    const char *src = ascii ? ascii : name;
    if (ascii) {
        plain = 1;
        for (const char *p = ascii; *p && plain; p++)
            plain = (unsigned char)*p < 0x80;
    }
    /* Folding ASCII only lowercases it, which the loop below does anyway: utf8proc_map is for
     * what is left outside ASCII (it was 1.5% of enrich on wire text, mostly ASCII names). */
    if (!plain && utf8proc_map((const utf8proc_uint8_t *)src, 0, &folded,
                               UTF8PROC_NULLTERM | UTF8PROC_DECOMPOSE | UTF8PROC_STRIPMARK |
                                   UTF8PROC_CASEFOLD) < 0)
        folded = NULL;
    const char *s = folded ? (const char *)folded : src;
    for (; *s && k + 1 < n; s++) {
        char c = *s;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            if (dash && k > 0 && k + 2 < n)
                out[k++] = '-';
            dash = 0;
            out[k++] = c;
        } else if ((unsigned char)c < 0x80 && c != '.' && c != '\'') {
            dash = 1; /* "U.S." -> "us", "Xi's" -> "xis" rather than "u-s" */
        }
    }
    out[k] = 0;
    free(folded);
    free(ascii);
    return k;
}
