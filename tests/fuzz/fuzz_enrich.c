/* fuzz_enrich.c: the enrich stage as the service runs it: the input is parsed as wire text
 * (text/plain, parse.h) and the article goes through the full enricher with the reference data
 * in data/ (NER model, gazetteer, themes, tone) loaded once. This is the path where find_amounts
 * read past the NUL of a text ending in a digit (issue 16.8). Property: 0 or -ENOMEM, and the
 * result encodes as an enriched message. Without data/ only the base
 * enrichment (nw_enrich_article) runs, said once on stderr. */
#include "newswire/enrich.h"

#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "newswire/buf.h"
#include "newswire/parse.h"

static nw_enricher_t *enricher;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (nw_enricher_new(NW_SOURCE_DIR "/data", NULL, &enricher) < 0) {
        fprintf(stderr, "fuzz_enrich: no reference data (%s); base enrichment only\n",
                nw_enrich_error());
        enricher = NULL;
    }
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *body = malloc(size ? size : 1);
    if (body == NULL)
        abort();
    memcpy(body, data, size);
    nw_raw_t raw = {
        .v = 1,
        .id = (char *)"00000000000000000000000000000000",
        .source = (char *)"fuzz",
        .fetched = (char *)"2024-02-06T12:00:00Z",
        .content_type = (char *)"text/plain",
        .body = body,
        .body_len = size,
    };
    nw_article_t art;
    const char *reason = NULL;
    char detail[256];
    if (nw_parse_raw(&raw, &art, &reason, detail, sizeof detail) == 0) {
        if (art.published == NULL)
            art.published = strdup("2024-02-06");
        nw_enriched_t out;
        int rc = enricher ? nw_enricher_run(enricher, &art, &out) : nw_enrich_article(&art, &out);
        FUZZ_CHECK(rc == 0 || rc == -ENOMEM, "enrich returned %d", rc);
        if (rc == 0) {
            nw_buf_t b = {0};
            FUZZ_CHECK(nw_enriched_encode(&out, &b) == 0, "enriched does not encode");
            nw_buf_release(&b);
            nw_enriched_release(&out);
        } else {
            nw_article_release(&art);
        }
    }
    free(body);
    return 0;
}
