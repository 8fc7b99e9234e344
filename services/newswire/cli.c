/* cli.c: what several `newswire` commands share, and nothing else: turning a config result
 * into an exit status, printing MessagePack and JSON as lines, opening the database named by
 * --data-dir/--db, POSTing to the fetch API (ingest, dlq replay), and the frame of the
 * one-shot stage filters (extract, parse, enrich): the id of a document, sniffing by name,
 * parsing and printing an article, reading JSON lines. Each command lives in its own file
 * (ingest.c, tail.c, search.c, ...) and calls only this file and the library. */
#include "cli.h"

#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "newswire/config.h"
#include "newswire/id.h"
#include "newswire/jobs.h"
#include "newswire/json.h"
#include "newswire/proto.h"

/* The same cap the wire has: anything larger could not travel as one message anyway. */
#define FILTER_MAX_INPUT NW_PROTO_MAX_MSG

/* ---- options and output ---------------------------------------------------------------- */

int
nw_cli_config_status(int rc)
{
    if (rc == 0)
        return -1;
    return rc == 1 ? 0 : 2;
}

int
nw_cli_print_msgpack(const uint8_t *buf, size_t len, const char *key, const char *val, int indent)
{
    nw_buf_t js = {0};
    json_t *doc = NULL, *out = NULL;
    char *text = NULL;
    int rc = nw_json_from_msgpack(buf, len, &js);
    if (rc < 0)
        goto done;
    json_error_t jerr;
    doc = json_loadb((const char *)js.data, js.len, JSON_ALLOW_NUL, &jerr);
    if (doc == NULL) {
        rc = -EPROTO;
        goto done;
    }
    /* The extra key goes first so a human scanning `tail` output sees the topic at once. */
    if (key && json_is_object(doc)) {
        out = json_object();
        if (out == NULL || json_object_set_new(out, key, json_string(val)) < 0 ||
            json_object_update(out, doc) < 0) {
            rc = -ENOMEM;
            goto done;
        }
    } else {
        out = json_incref(doc);
    }
    size_t flags = indent > 0 ? JSON_INDENT(indent) : JSON_COMPACT;
    text = json_dumps(out, flags | JSON_ENCODE_ANY);
    if (text == NULL) {
        rc = -ENOMEM;
        goto done;
    }
    if (fputs(text, stdout) == EOF || fputc('\n', stdout) == EOF || fflush(stdout) == EOF)
        rc = errno == EPIPE ? -EPIPE : -EIO;
done:
    free(text);
    json_decref(out);
    json_decref(doc);
    nw_buf_release(&js);
    return rc;
}

int
nw_cli_print_json(json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT);
    if (text == NULL)
        return -ENOMEM;
    int rc = 0;
    if (fputs(text, stdout) == EOF || fputc('\n', stdout) == EOF)
        rc = errno == EPIPE ? -EPIPE : -EIO;
    free(text);
    return rc;
}

/* ---- the database ---------------------------------------------------------------------- */

nw_store_t *
nw_cli_open_db(const char *cmd, const char *data_dir, const char *db, int readonly)
{
    char path[4096], err[256] = "";
    if (nw_store_path(data_dir, db, path, sizeof path) < 0) {
        fprintf(stderr, "newswire %s: database path too long\n", cmd);
        return NULL;
    }
    if (!nw_store_is_postgres(path) && access(path, F_OK) < 0) {
        fprintf(stderr, "newswire %s: no database at %s: is `newswire up` running?%s\n", cmd, path,
                db && *db ? "" : " (or give --data-dir / --db)");
        return NULL;
    }
    nw_store_t *s = nw_store_open(path, readonly, err, sizeof err);
    /* A conninfo may hold a password: name it only by kind. */
    if (s == NULL)
        fprintf(stderr, "newswire %s: cannot open %s: %s\n", cmd,
                nw_store_is_postgres(path) ? "the postgresql database" : path, err);
    return s;
}

/* ---- the fetch API --------------------------------------------------------------------- */

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
    return nw_buf_append(arg, p, size * n) == 0 ? size * n : 0;
}

/* One JSON string field of a response body, or NULL. */
static const char *
json_field(json_t *doc, const char *key)
{
    return json_string_value(json_object_get(doc, key));
}

static void
copy_field(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

int
nw_cli_req_init(nw_cli_req_t *r, CURL *curl, const char *api, const char *path, const char *url,
                const char *ctype, const uint8_t *body, size_t len)
{
    char *esc = NULL, ct_header[300];
    int rc = -ENOMEM;
    size_t alen = strlen(api);
    memset(r, 0, sizeof *r);
    r->curl = curl;
    while (alen > 0 && api[alen - 1] == '/')
        alen--;
    if (nw_buf_append(&r->endpoint, api, alen) < 0 || nw_buf_puts(&r->endpoint, path) < 0)
        goto done;
    if (url) {
        esc = curl_easy_escape(curl, url, 0);
        if (esc == NULL || nw_buf_printf(&r->endpoint, "?url=%s", esc) < 0)
            goto done;
    }
    snprintf(ct_header, sizeof ct_header, "Content-Type: %s", ctype);
    if ((r->hdrs = curl_slist_append(NULL, ct_header)) == NULL)
        goto done;
    /* Large bodies must not wait for a "100 Continue" round trip. */
    struct curl_slist *h2 = curl_slist_append(r->hdrs, "Expect:");
    if (h2 == NULL)
        goto done;
    r->hdrs = h2;
    /* An API off loopback takes a bearer token (`newswire token new --scope ingest`). */
    const char *token = getenv("NEWSWIRE_TOKEN");
    if (token && *token) {
        char auth[160];
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        if ((h2 = curl_slist_append(r->hdrs, auth)) == NULL)
            goto done;
        r->hdrs = h2;
    }
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, (const char *)r->endpoint.data);
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, (const char *)body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, r->hdrs);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r->reply);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    rc = 0;
done:
    curl_free(esc);
    if (rc < 0)
        nw_cli_req_release(r);
    return rc;
}

int
nw_cli_req_done(nw_cli_req_t *r, CURLcode cc, int64_t attempt, int64_t retries, long *retry_ms,
                nw_cli_answer_t *ans)
{
    nw_cli_sent_t res = NW_CLI_SENT_FAILED;
    json_t *doc = NULL;
    memset(ans, 0, sizeof *ans);
    copy_field(ans->message, sizeof ans->message, "out of memory");
    if (cc != CURLE_OK) {
        snprintf(ans->message, sizeof ans->message, "cannot reach %s: %s%s",
                 (const char *)r->endpoint.data, curl_easy_strerror(cc),
                 cc == CURLE_COULDNT_CONNECT ? " (is `newswire up` running?)" : "");
        res = cc == CURLE_COULDNT_CONNECT ? NW_CLI_SENT_UNREACHABLE : NW_CLI_SENT_FAILED;
        goto done;
    }
    long status = 0;
    curl_off_t retry_after = 0;
    curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(r->curl, CURLINFO_RETRY_AFTER, &retry_after);
    if ((status == 503 || status == 429) && attempt < retries) {
        /* The pipeline is pushing back: wait as told (at least a moment, at most a minute)
         * and send the same document again. */
        *retry_ms = retry_after > 0 ? (long)(retry_after > 60 ? 60 : retry_after) * 1000 : 500;
        nw_buf_reset(&r->reply);
        return NW_CLI_REQ_RETRY;
    }
    doc = json_loadb((const char *)r->reply.data, r->reply.len, 0, NULL);
    ans->status = status;
    if (status >= 200 && status < 300 && json_field(doc, "id")) {
        copy_field(ans->id, sizeof ans->id, json_field(doc, "id"));
        ans->message[0] = 0;
        res = NW_CLI_SENT_OK;
        goto done;
    }
    const char *err = json_field(doc, "error"), *msg = json_field(doc, "message");
    copy_field(ans->error, sizeof ans->error, err ? err : "error");
    copy_field(ans->message, sizeof ans->message,
               msg            ? msg
               : r->reply.len ? (const char *)r->reply.data
                              : "(no message)");
    res = NW_CLI_SENT_REFUSED;
done:
    json_decref(doc);
    return (int)res;
}

void
nw_cli_req_release(nw_cli_req_t *r)
{
    curl_slist_free_all(r->hdrs);
    nw_buf_release(&r->reply);
    nw_buf_release(&r->endpoint);
    r->hdrs = NULL;
}

nw_cli_sent_t
nw_cli_post_to(CURL *curl, const char *api, const char *path, const char *url, const char *ctype,
               const uint8_t *body, size_t len, int64_t retries, nw_cli_answer_t *ans)
{
    nw_cli_req_t r;
    memset(ans, 0, sizeof *ans);
    if (nw_cli_req_init(&r, curl, api, path, url, ctype, body, len) < 0) {
        copy_field(ans->message, sizeof ans->message, "out of memory");
        return NW_CLI_SENT_FAILED;
    }
    int res;
    for (int64_t attempt = 0;; attempt++) {
        long ms = 0;
        res = nw_cli_req_done(&r, curl_easy_perform(curl), attempt, retries, &ms, ans);
        if (res != NW_CLI_REQ_RETRY)
            break;
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
    }
    nw_cli_req_release(&r);
    return (nw_cli_sent_t)res;
}

nw_cli_sent_t
nw_cli_post(CURL *curl, const char *api, const char *url, const char *ctype, const uint8_t *body,
            size_t len, int64_t retries, nw_cli_answer_t *ans)
{
    return nw_cli_post_to(curl, api, "/v1/articles", url, ctype, body, len, retries, ans);
}

/* ---- the stage filters ----------------------------------------------------------------- */

const char *
nw_cli_base_name(const char *path, char *out, size_t n)
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

int
nw_cli_print_job(int rc, const nw_buf_t *enc, const nw_filter_fail_t *fail, char *why,
                 size_t why_len)
{
    if (rc < 0) {
        snprintf(why, why_len, "%s: %s", fail->reason, fail->detail);
        return rc;
    }
    rc = nw_cli_print_msgpack(enc->data, enc->len, NULL, NULL, 0);
    if (rc < 0)
        snprintf(why, why_len, "write-failed: %s", strerror(-rc));
    return rc;
}

int
nw_cli_print_article(const nw_raw_t *raw, char *why, size_t why_len)
{
    nw_buf_t enc = {0};
    nw_filter_fail_t fail = {0};
    int rc = nw_job_parse_raw(raw, &enc, &fail);
    rc = nw_cli_print_job(rc, &enc, &fail, why, why_len);
    nw_buf_release(&enc);
    return rc;
}

/* Read stdin line by line, calling fn for every non-blank line (see nw_cli_filter). */
static int
each_line(const char *cmd, nw_cli_line_fn fn)
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

int
nw_cli_filter(const char *cmd, const char *jsonl_help, const char *summary, nw_cli_line_fn fn,
              int argc, char **argv)
{
    int jsonl = 0;
    const nw_cfg_opt_t opts[] = {
        {"jsonl", NW_CFG_BOOL, "0", 0, jsonl_help, 0, 0},
        NW_CFG_END,
    };
    char usage[64];
    snprintf(usage, sizeof usage, "newswire %s --jsonl < in.jsonl > out.jsonl", cmd);
    int status =
        nw_cli_config_status(nw_config_load(opts, &jsonl, argc, argv, usage, summary, NULL, NULL));
    if (status >= 0)
        return status;
    if (!jsonl) {
        fprintf(stderr, "newswire %s: only JSON lines are supported so far: give --jsonl\n", cmd);
        return 2;
    }
    return each_line(cmd, fn);
}
