/* fuzz_parse.c: the parse stage (parse.h) on a raw message as fetch builds it. The first input
 * byte picks the content type and charset, the rest is the body. Properties: 0, -EPROTO or
 * -ENOMEM, with a reason on -EPROTO; a parsed article's text is valid UTF-8 and encodes as an
 * article message that decodes again. */
#include "newswire/parse.h"

#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "newswire/buf.h"
#include "newswire/util.h"

static const char *const types[] = {"text/plain", "text/html", "application/json", "",
                                    "application/octet-stream"};
static const char *const charsets[] = {NULL, "utf-8", "iso-8859-1", "windows-1251", "x-bogus"};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t sel = data[0];
    uint8_t *body = malloc(size - 1 ? size - 1 : 1);
    if (body == NULL)
        abort();
    memcpy(body, data + 1, size - 1);
    nw_raw_t raw = {
        .v = 1,
        .id = (char *)"00000000000000000000000000000000",
        .source = (char *)"fuzz",
        .url = (char *)"https://news.example.com/a.html",
        .fetched = (char *)"2024-02-06T12:00:00Z",
        .content_type = (char *)types[sel % 5],
        .charset = (char *)charsets[(sel / 5) % 5],
        .body = body,
        .body_len = size - 1,
    };
    nw_article_t art;
    const char *reason = NULL;
    char detail[256];
    int rc = nw_parse_raw(&raw, &art, &reason, detail, sizeof detail);
    FUZZ_CHECK(rc == 0 || rc == -EPROTO || rc == -ENOMEM, "parse returned %d", rc);
    if (rc == -EPROTO)
        FUZZ_CHECK(reason != NULL && *reason, "no reason for a refusal");
    if (rc == 0) {
        FUZZ_CHECK(art.text && nw_utf8_valid((const uint8_t *)art.text, strlen(art.text)),
                   "article text not UTF-8");
        nw_buf_t b = {0};
        nw_article_t back = {0};
        FUZZ_CHECK(nw_article_encode(&art, &b) == 0, "article does not encode");
        FUZZ_CHECK(nw_article_decode(&back, b.data, b.len) == 0, "article does not decode");
        nw_article_release(&back);
        nw_buf_release(&b);
        nw_article_release(&art);
    }
    free(body);
    return 0;
}
