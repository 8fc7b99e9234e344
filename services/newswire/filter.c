/* filter.c: the pipeline stages as one-shot filters, running the very library code the
 * services run (nw_parse_raw, nw_enricher_run, the proto codec), so every stage can be
 * tried and scripted without a broker:
 *
 *   newswire extract [--url URL] FILE|-      one document -> one article JSON object
 *   newswire parse --jsonl  < raw.jsonl      raw JSON lines -> article JSON lines
 *   newswire enrich --jsonl < art.jsonl      article JSON lines -> enriched JSON lines
 *
 * JSON and MessagePack use the same keys (json.h), so a JSON line is the wire message. Bad
 * lines are reported on stderr with their line number and skipped; the exit status is 1 when
 * any line failed. */
#include "cli.h"

#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswire/config.h"
#include "newswire/enrich.h"
#include "newswire/id.h"
#include "newswire/json.h"
#include "newswire/parse.h"
#include "newswire/proto.h"
#include "newswire/util.h"

/* The same cap the wire has: anything larger could not travel as one message anyway. */
#define FILTER_MAX_INPUT NW_PROTO_MAX_MSG

/* The last path segment of a file name or URL (without query or fragment), for sniffing by
 * extension. Writes into out; returns out or NULL when there is none. */
static const char *
base_name(const char *path, char *out, size_t n)
{
    if (path == NULL || n == 0)
        return NULL;
    size_t end = strcspn(path, "?#");
    size_t start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    if (start == end || end - start >= n)
        return NULL;
    memcpy(out, path + start, end - start);
    out[end - start] = 0;
    return out;
}

/* Parse one raw message and print the article as one JSON line. On failure writes the reason
 * into why[] and returns a negative errno. */
static int
parse_and_print(const nw_raw_t *raw, char *why, size_t why_len)
{
    nw_article_t art = {0};
    nw_buf_t enc = {0};
    const char *reason = NULL;
    char detail[512] = "";
    int rc = nw_parse_raw(raw, &art, &reason, detail, sizeof detail);
    if (rc < 0) {
        snprintf(why, why_len, "%s: %s", reason ? reason : "parse-failed",
                 *detail ? detail : strerror(-rc));
        goto done;
    }
    rc = nw_article_encode(&art, &enc);
    if (rc < 0) {
        snprintf(why, why_len, "encode-failed: %s", strerror(-rc));
        goto done;
    }
    rc = nw_cli_print_msgpack(enc.data, enc.len, NULL, NULL, 0);
    if (rc < 0)
        snprintf(why, why_len, "write-failed: %s", strerror(-rc));
done:
    nw_buf_release(&enc);
    nw_article_release(&art);
    return rc;
}

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
    rc = nw_read_file(is_stdin ? "/dev/stdin" : path, FILTER_MAX_INPUT, &body, &len);
    if (rc < 0) {
        fprintf(stderr, "newswire extract: cannot read '%s': %s\n", path,
                rc == -EFBIG ? "larger than 64 MiB" : strerror(-rc));
        goto done;
    }
    char name_buf[256];
    const char *name = is_stdin ? base_name(cfg.url, name_buf, sizeof name_buf)
                                : base_name(path, name_buf, sizeof name_buf);
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
    if (parse_and_print(&raw, why, sizeof why) < 0) {
        fprintf(stderr, "newswire extract: '%s': %s\n", path, why);
        goto done;
    }
    status = 0;
done:
    free(canon);
    free(body);
    return status;
}

/* Read stdin line by line, calling fn for every non-blank line. fn returns 0, a negative
 * errno with why[] filled for a bad line, or -EPIPE when output is gone (stop at once). */
typedef int (*line_fn)(const char *line, size_t len, char *why, size_t why_len);

static int
each_line(const char *cmd, line_fn fn)
{
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0, failed = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        lineno++;
        size_t len = (size_t)n;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        if (strspn(line, " \t\r\n") >= len)
            continue;
        char why[700] = "";
        int rc;
        if (len > FILTER_MAX_INPUT) {
            snprintf(why, sizeof why, "too-large: line is over 64 MiB");
            rc = -EFBIG;
        } else {
            line[len] = 0;
            rc = fn(line, len, why, sizeof why);
        }
        if (rc == -EPIPE)
            break;
        if (rc < 0) {
            fprintf(stderr, "newswire %s: line %ld: %s\n", cmd, lineno, why);
            failed++;
        }
    }
    free(line);
    if (ferror(stdin)) {
        fprintf(stderr, "newswire %s: reading stdin: %s\n", cmd, strerror(errno));
        return 1;
    }
    if (failed)
        fprintf(stderr, "newswire %s: %ld of %ld lines failed\n", cmd, failed, lineno);
    return failed ? 1 : 0;
}

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
        const char *name = base_name(raw.name ? raw.name : raw.url, name_buf, sizeof name_buf);
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
    rc = parse_and_print(&raw, why, why_len);
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

/* Loaded on the first line, so --help works without the reference data. */
static nw_enricher_t *enricher;

static int
enrich_line(const char *line, size_t len, char *why, size_t why_len)
{
    nw_buf_t mp = {0}, enc = {0};
    nw_article_t art = {0};
    nw_enriched_t enr = {0};
    char err[200] = "";
    int rc = nw_json_to_msgpack(line, len, &mp, err, sizeof err);
    if (rc < 0) {
        snprintf(why, why_len, "bad-json: %s", *err ? err : strerror(-rc));
        goto done;
    }
    rc = nw_article_decode(&art, mp.data, mp.len);
    if (rc < 0) {
        snprintf(why, why_len, "bad-article: %s", rc == -EPROTO ? nw_proto_error() : strerror(-rc));
        goto done;
    }
    if (enricher == NULL && (rc = nw_enricher_new(NULL, NULL, &enricher)) < 0) {
        snprintf(why, why_len, "no-reference-data: %s", nw_enrich_error());
        goto done;
    }
    rc = nw_enricher_run(enricher, &art, &enr);
    if (rc < 0) {
        snprintf(why, why_len, "enrich-failed: %s", strerror(-rc));
        goto done;
    }
    rc = nw_enriched_encode(&enr, &enc);
    if (rc < 0) {
        snprintf(why, why_len, "encode-failed: %s", strerror(-rc));
        goto done;
    }
    rc = nw_cli_print_msgpack(enc.data, enc.len, NULL, NULL, 0);
    if (rc < 0)
        snprintf(why, why_len, "write-failed: %s", strerror(-rc));
done:
    nw_enriched_release(&enr);
    nw_article_release(&art);
    nw_buf_release(&enc);
    nw_buf_release(&mp);
    return rc;
}

typedef struct jsonl_cfg {
    int jsonl;
} jsonl_cfg_t;

static const nw_cfg_opt_t parse_opts[] = {
    {"jsonl", NW_CFG_BOOL, "0", offsetof(jsonl_cfg_t, jsonl),
     "raw JSON lines on stdin to article JSON lines (required)", 0, 0},
    NW_CFG_END,
};

static const nw_cfg_opt_t enrich_opts[] = {
    {"jsonl", NW_CFG_BOOL, "0", offsetof(jsonl_cfg_t, jsonl),
     "article JSON lines on stdin to enriched JSON lines (required)", 0, 0},
    NW_CFG_END,
};

static int
run_filter(const char *cmd, const nw_cfg_opt_t *opts, const char *summary, line_fn fn, int argc,
           char **argv)
{
    jsonl_cfg_t cfg = {0};
    char usage[64];
    snprintf(usage, sizeof usage, "newswire %s --jsonl < in.jsonl > out.jsonl", cmd);
    int status =
        nw_cli_config_status(nw_config_load(opts, &cfg, argc, argv, usage, summary, NULL, NULL));
    if (status >= 0)
        return status;
    if (!cfg.jsonl) {
        fprintf(stderr, "newswire %s: only JSON lines are supported so far: give --jsonl\n", cmd);
        return 2;
    }
    return each_line(cmd, fn);
}

int
nw_cli_parse(int argc, char **argv)
{
    return run_filter(
        "parse", parse_opts,
        "The parse stage as a filter. Each input line is a raw message as JSON, e.g.\n"
        "  {\"url\":\"https://example.com/a\",\"body\":\"2024-02-06 Cairo, Egypt - ...\"}\n"
        "Missing id, source, fetched and content_type are filled in (id from the url or the\n"
        "body, source \"cli\", fetched now, content type guessed). A bad line is reported on\n"
        "stderr with its number and skipped; the exit status is then 1.",
        parse_line, argc, argv);
}

int
nw_cli_enrich(int argc, char **argv)
{
    int rc = run_filter("enrich", enrich_opts,
                        "The enrich stage as a filter: article JSON lines (as `newswire parse "
                        "--jsonl` writes them)\nbecome enriched JSON lines (languages, entities, "
                        "places, quotes, themes, tone,\nfingerprint, topics...). The reference "
                        "data is found as newswire-enrich finds it\n(NEWSWIRE_REF_DIR). A bad "
                        "line is reported on stderr with its number and skipped;\nthe exit "
                        "status is then 1.",
                        enrich_line, argc, argv);
    nw_enricher_destroy(&enricher);
    return rc;
}
