/* fuzz_extract.c: HTML through dom.h's tree builder and the article extractor (extract.h), the
 * path every fetched page takes. Properties: 0, -EPROTO or -ENOMEM; the text, title and
 * captions that come out are valid UTF-8 when the page was. The clock is fixed so a run
 * reproduces. */
#include "dom.h"
#include "extract.h"

#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "newswire/util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *html = fuzz_cstr(data, size);
    nw_dom_t *d = nw_dom_parse(html, size);
    nw_dom_destroy(&d);
    nw_extract_t ex = {0};
    int rc = nw_extract_html(html, size, "https://news.example.com/2024/02/06/story.html",
                             1707200000, &ex);
    FUZZ_CHECK(rc == 0 || rc == -EPROTO || rc == -ENOMEM, "extract returned %d", rc);
    if (rc == 0 && nw_utf8_valid(data, size)) {
        FUZZ_CHECK(ex.text != NULL, "no text on success");
        FUZZ_CHECK(nw_utf8_valid((const uint8_t *)ex.text, strlen(ex.text)), "text not UTF-8");
        if (ex.title)
            FUZZ_CHECK(nw_utf8_valid((const uint8_t *)ex.title, strlen(ex.title)),
                       "title not UTF-8");
    }
    nw_extract_release(&ex);
    free(html);
    return 0;
}
