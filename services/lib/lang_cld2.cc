/* lang_cld2.cc: the one C++ file of the library, a tiny extern "C" shim over CLD2 (Compact
 * Language Detector 2), whose API is C++ only. nw_lang_detect() in lang.c is the face the rest
 * sees (lang.h); this file only turns CLD2's Language enum into its code string and reliability
 * flag. */
#include "lang.h"

#include <climits>
#include <cstddef>
#include <cstdio> /* compact_lang_det.h uses FILE without including it */

#include <cld2/public/compact_lang_det.h>
#include <cld2/public/encodings.h>

/* Returns CLD2's code for the most likely language of text (a static string, e.g. "en", "zh-Hant",
 * "un" for unknown) and sets *reliable. Text reaches us from outside, so we use the CheckUTF8
 * entry point: on invalid UTF-8 CLD2 stops at the bad byte instead of reading garbage, and we
 * retry on the valid prefix. */
extern "C" const char *
nw_lang_cld2(const char *text, size_t len, int *reliable)
{
    CLD2::Language lang3[3];
    int percent3[3];
    double score3[3];
    int text_bytes = 0, valid_prefix = 0;
    bool is_reliable = false;
    /* CLD2 takes an int length; more than the first 2 GB adds nothing to the answer. */
    int n = len > (size_t)INT_MAX ? INT_MAX : (int)len;
    CLD2::CLDHints hints = {NULL, NULL, CLD2::UNKNOWN_ENCODING, CLD2::UNKNOWN_LANGUAGE};

    CLD2::Language lang =
        CLD2::ExtDetectLanguageSummaryCheckUTF8(text, n, true, &hints, 0, lang3, percent3, score3,
                                                NULL, &text_bytes, &is_reliable, &valid_prefix);
    if (valid_prefix < n && valid_prefix > 0)
        lang = CLD2::ExtDetectLanguageSummaryCheckUTF8(text, valid_prefix, true, &hints, 0, lang3,
                                                       percent3, score3, NULL, &text_bytes,
                                                       &is_reliable, &valid_prefix);
    *reliable = is_reliable ? 1 : 0;
    if (lang == CLD2::UNKNOWN_LANGUAGE || lang == CLD2::TG_UNKNOWN_LANGUAGE)
        return "und";
    return CLD2::LanguageCode(lang);
}
