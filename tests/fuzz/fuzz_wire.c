/* fuzz_wire.c: wire copy (wire.h): nw_wire_parse on the input as text, then the line cleaner,
 * caption and dateline readers on its first line, cleaned, as wire.c itself calls them (they
 * take valid UTF-8). Nothing may crash or over-read: the input is a NUL-terminated exact-size
 * heap copy, so ASan sees any read past it. */
#include "wire.h"

#include <string.h>

#include "fuzz.h"
#include "newswire/util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    nw_article_t art = {0};
    (void)nw_wire_parse(text, size, &art);
    nw_article_release(&art);
    char *nl = memchr(text, '\n', size);
    size_t n = nl ? (size_t)(nl - text) : size;
    if (nw_utf8_valid((const uint8_t *)text, n)) {
        char *line = nw_wire_clean(text, n);
        if (line != NULL) {
            size_t ln = strlen(line);
            nw_caption_t cap = {0};
            if (nw_wire_caption(line, &cap) == 1)
                nw_wire_caption_release(&cap);
            char *dateline = NULL;
            size_t rest = 0;
            if (nw_wire_dateline(line, ln, &dateline, &rest) == 1)
                FUZZ_CHECK(rest <= ln, "dateline rest offset %zu past %zu", rest, ln);
            free(dateline);
            (void)nw_wire_valid_date(line, ln);
            free(line);
        }
    }
    free(text);
    return 0;
}
