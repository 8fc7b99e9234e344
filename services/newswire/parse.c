/* parse.c: `newswire parse --jsonl`, the parse stage as a filter: raw messages as JSON lines
 * on stdin, articles as JSON lines on stdout, each line through the parse stage's own job
 * (jobs.h), as newswire-parse runs it. JSON and MessagePack use the same keys (json.h), so a
 * JSON line is the wire message; what a hand-written line leaves out is filled in first. */
#include "cli.h"

#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswire/id.h"
#include "newswire/json.h"
#include "newswire/parse.h"
#include "newswire/proto.h"
#include "newswire/util.h"

/* Replace a malloc'd string field of a decoded message. */
static int
set_field(char **field, const char *value)
{
    char *copy = strdup(value);
    if (copy == NULL)
        return -ENOMEM;
    free(*field);
    *field = copy;
    return 0;
}

static int
parse_line(const char *line, size_t len, char *why, size_t why_len)
{
    json_t *obj = NULL;
    nw_buf_t mp = {0};
    nw_raw_t raw = {0};
    char *canon = NULL, *text = NULL;
    int rc = -EINVAL;
    json_error_t jerr;
    obj = json_loadb(line, len, 0, &jerr);
    if (obj == NULL || !json_is_object(obj)) {
        snprintf(why, why_len, "bad-json: %s", obj ? "not an object" : jerr.text);
        goto done;
    }
    /* A raw message needs id, source, fetched and content_type. Hand-written lines may leave
     * them out: fill what needs no bytes now, and placeholders for what needs the decoded body
     * (which may be {"base64": ...}), fixed up after decoding. */
    int has_id = json_is_string(json_object_get(obj, "id"));
    int has_ct = json_is_string(json_object_get(obj, "content_type"));
    char fetched[40];
    nw_time_iso(nw_now_ms(), fetched, sizeof fetched);
    if ((!json_object_get(obj, "v") &&
         json_object_set_new(obj, "v", json_integer(NW_PROTO_VERSION)) < 0) ||
        (!json_object_get(obj, "source") &&
         json_object_set_new(obj, "source", json_string("cli")) < 0) ||
        (!json_object_get(obj, "fetched") &&
         json_object_set_new(obj, "fetched", json_string(fetched)) < 0) ||
        (!has_id && json_object_set_new(obj, "id", json_string("-")) < 0) ||
        (!has_ct && json_object_set_new(obj, "content_type", json_string("-")) < 0)) {
        rc = -ENOMEM;
        snprintf(why, why_len, "out of memory");
        goto done;
    }
    text = json_dumps(obj, JSON_COMPACT);
    if (text == NULL) {
        rc = -ENOMEM;
        snprintf(why, why_len, "out of memory");
        goto done;
    }
    char err[200] = "";
    rc = nw_json_to_msgpack(text, strlen(text), &mp, err, sizeof err);
    if (rc < 0) {
        snprintf(why, why_len, "bad-json: %s", *err ? err : strerror(-rc));
        goto done;
    }
    rc = nw_raw_decode(&raw, mp.data, mp.len);
    if (rc < 0) {
        snprintf(why, why_len, "bad-raw: %s", rc == -EPROTO ? nw_proto_error() : strerror(-rc));
        goto done;
    }
    if (!has_ct) {
        char name_buf[256];
        const char *name =
            nw_cli_base_name(raw.name ? raw.name : raw.url, name_buf, sizeof name_buf);
        const char *ct = nw_parse_sniff(name, raw.body, raw.body_len);
        if (ct == NULL) {
            rc = -EINVAL;
            snprintf(why, why_len, "binary: body is not text, HTML or JSON; give content_type");
            goto done;
        }
        if ((rc = set_field(&raw.content_type, ct)) < 0)
            goto done;
    }
    if (!has_id) {
        char id[NW_ID_LEN + 1];
        rc = nw_id_for_document(raw.url, raw.body, raw.body_len, raw.content_type, raw.charset, id,
                                &canon);
        if (rc < 0) {
            snprintf(why, why_len, "%s",
                     rc == -EINVAL ? "bad-url: not an absolute http(s) URL"
                                   : "cannot derive an id: out of memory");
            goto done;
        }
        if ((rc = set_field(&raw.id, id)) < 0 || (canon && (rc = set_field(&raw.url, canon)) < 0))
            goto done;
    }
    rc = nw_cli_print_article(&raw, why, why_len);
done:
    if (rc == -ENOMEM && !*why)
        snprintf(why, why_len, "out of memory");
    free(canon);
    free(text);
    nw_raw_release(&raw);
    nw_buf_release(&mp);
    json_decref(obj);
    return rc;
}

int
nw_cli_parse(int argc, char **argv)
{
    return nw_cli_filter(
        "parse", "raw JSON lines on stdin to article JSON lines (required)",
        "The parse stage as a filter. Each input line is a raw message as JSON, e.g.\n"
        "  {\"url\":\"https://example.com/a\",\"body\":\"2024-02-06 Cairo, Egypt - ...\"}\n"
        "Missing id, source, fetched and content_type are filled in (id from the url or the\n"
        "body, source \"cli\", fetched now, content type guessed). A bad line is reported on\n"
        "stderr with its number and skipped; the exit status is then 1.",
        parse_line, argc, argv);
}
