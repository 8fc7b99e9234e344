/* extract.c: `newswire extract [--url URL] FILE|-`, one document (wire text, HTML or JSON) to
 * one article JSON object, by the parse stage's own job (jobs.h), as newswire-parse runs it. */
#include "cli.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswire/config.h"
#include "newswire/id.h"
#include "newswire/parse.h"
#include "newswire/proto.h"
#include "newswire/util.h"

typedef struct extract_cfg {
    const char *url;
    const char *content_type;
} extract_cfg_t;

static const nw_cfg_opt_t extract_opts[] = {
    {"url", NW_CFG_STR, NULL, offsetof(extract_cfg_t, url),
     "the document's URL (also gives the article id)", 0, 0},
    {"content-type", NW_CFG_STR, NULL, offsetof(extract_cfg_t, content_type),
     "media type, e.g. text/html (default: guessed from the name and bytes)", 0, 0},
    NW_CFG_END,
};

int
nw_cli_extract(int argc, char **argv)
{
    extract_cfg_t cfg = {0};
    int nargs = 0, status = 1;
    char **args = NULL, *canon = NULL;
    uint8_t *body = NULL;
    size_t len = 0;
    int rc = nw_config_load(extract_opts, &cfg, argc, argv,
                            "newswire extract [--url URL] [--content-type TYPE] FILE|-",
                            "Parse one document (wire text, HTML or JSON) with the same code as "
                            "newswire-parse and print\nthe article as one JSON object.",
                            &nargs, &args);
    if ((status = nw_cli_config_status(rc)) >= 0)
        return status;
    status = 1;
    if (nargs != 1) {
        fprintf(stderr, "newswire extract: expected one FILE (or - for stdin), see --help\n");
        return 2;
    }
    const char *path = args[0];
    int is_stdin = strcmp(path, "-") == 0;
    rc = nw_read_file(is_stdin ? "/dev/stdin" : path, NW_PROTO_MAX_MSG, &body, &len);
    if (rc < 0) {
        fprintf(stderr, "newswire extract: cannot read '%s': %s\n", path,
                rc == -EFBIG ? "larger than 64 MiB" : strerror(-rc));
        goto done;
    }
    char name_buf[256];
    const char *name = is_stdin ? nw_cli_base_name(cfg.url, name_buf, sizeof name_buf)
                                : nw_cli_base_name(path, name_buf, sizeof name_buf);
    const char *ctype = cfg.content_type ? cfg.content_type : nw_parse_sniff(name, body, len);
    if (ctype == NULL) {
        fprintf(stderr,
                "newswire extract: '%s' looks binary (not text, HTML or JSON); "
                "give --content-type to override\n",
                path);
        goto done;
    }
    char id[NW_ID_LEN + 1] = "", fetched[40];
    rc = nw_id_for_document(cfg.url, body, len, ctype, NULL, id, &canon);
    if (rc < 0) {
        if (rc == -EINVAL && cfg.url)
            fprintf(stderr, "newswire extract: url \"%s\" is not an absolute http(s) URL\n",
                    cfg.url);
        else
            fprintf(stderr, "newswire extract: cannot derive an id: %s\n", strerror(-rc));
        goto done;
    }
    nw_time_iso(nw_now_ms(), fetched, sizeof fetched);
    /* Every string is borrowed, so the struct is never released. */
    nw_raw_t raw = {
        .v = NW_PROTO_VERSION,
        .id = id,
        .source = "cli",
        .url = canon,
        .fetched = fetched,
        .content_type = (char *)ctype,
        .body = body,
        .body_len = len,
        .name = is_stdin ? NULL : (char *)path,
    };
    char why[600];
    if (nw_cli_print_article(&raw, why, sizeof why) < 0) {
        fprintf(stderr, "newswire extract: '%s': %s\n", path, why);
        goto done;
    }
    status = 0;
done:
    free(canon);
    free(body);
    return status;
}
