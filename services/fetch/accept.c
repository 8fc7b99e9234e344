/* accept.c: the one path every fetch source goes through. Bytes, a content type and perhaps a
 * URL or file name come in; out goes either a raw message on raw.in, or, for bad input, a dead
 * letter (with the original bytes) on the "dead" queue so the store keeps it with its reason.
 * The caller learns the outcome as an HTTP-style status it can pass to its sender.
 *
 * Every message goes through deliver.c, which spools it and pushes it once its fsync completed;
 * only then is the item ACCEPTED (or REJECTED, its dead letter kept) and the source told so.
 * Nothing here blocks and nothing is dropped: when a queue or the spool pushes back, or the
 * spool cannot be written, the item is BUSY and the source either tells its sender to retry
 * (HTTP 503, ZeroMQ "503") or keeps the file. */
#include "fetch.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "newswire/buf.h"
#include "newswire/id.h"
#include "newswire/log.h"
#include "newswire/metrics.h"
#include "newswire/parse.h"
#include "newswire/util.h"

/* A dead letter for an oversized body keeps only this much of it: enough to see what it was,
 * without making the dead-letter table the place where 2 GB uploads end up. */
#define DEAD_SAMPLE_MAX (64u * 1024)

static const char *const supported_types[] = {"text/plain", "text/html", "application/json"};

/* Copy s into out, replacing bytes that are not printable ASCII, so a sender's header value can
 * go into a log line and a JSON message whatever it contains. */
static void
printable(const char *s, char *out, size_t n)
{
    size_t k = 0;
    for (; s && *s && k + 1 < n; s++)
        out[k++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
    out[k] = 0;
}

static void
set_result(fetch_result_t *res, fetch_outcome_t outcome, int status, const char *reason,
           const char *message)
{
    res->outcome = outcome;
    res->status = status;
    res->reason = reason;
    snprintf(res->message, sizeof res->message, "%s", message);
}

/* Split "Text/HTML; charset=\"ISO-8859-1\"" into "text/html" and "iso-8859-1" (lowercase).
 * Either output may come back empty. */
static void
split_content_type(const char *ct, char *type, size_t tn, char *charset, size_t cn)
{
    size_t k = 0;
    type[0] = charset[0] = 0;
    if (ct == NULL)
        return;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    for (; *ct && *ct != ';' && *ct != ' ' && *ct != '\t' && k + 1 < tn; ct++)
        type[k++] = (char)tolower((unsigned char)*ct);
    type[k] = 0;
    for (const char *p = strchr(ct, ';'); p; p = strchr(p + 1, ';')) {
        const char *q = p + 1;
        while (*q == ' ' || *q == '\t')
            q++;
        if (strncasecmp(q, "charset=", 8) != 0)
            continue;
        q += 8;
        if (*q == '"')
            q++;
        k = 0;
        /* Charset names are ASCII tokens (RFC 2978); anything else ends the value. */
        for (; (isalnum((unsigned char)*q) || strchr("-_.:+", *q)) && *q && k + 1 < cn; q++)
            charset[k++] = (char)tolower((unsigned char)*q);
        charset[k] = 0;
        break;
    }
}

static int
supported(const char *type)
{
    for (size_t i = 0; i < sizeof supported_types / sizeof *supported_types; i++)
        if (strcmp(type, supported_types[i]) == 0)
            return 1;
    return 0;
}

/* An item whose message waits for the spool's fsync. */
struct waiting {
    fetch_result_t res; /* the outcome it gets once durable */
    fetch_done_cb done;
    void *arg;
    const char *source; /* static */
    size_t len;
    char detail[512]; /* rejections: the log line */
};

/* Count and log an outcome that became final (accepted or rejected). */
static void
account(const fetch_result_t *res, const char *source, size_t len, const char *detail)
{
    if (res->outcome == FETCH_REJECTED) {
        NW_WARN(res->id[0] ? res->id : NULL, "rejected: %s source=%s reason=%s bytes=%zu", detail,
                source, res->reason, len);
        nw_metrics_reason("nw_fetch_rejected_total", res->reason,
                          "items refused by fetch and dead-lettered, by reason");
        return;
    }
    char labels[64];
    snprintf(labels, sizeof labels, "source=\"%s\"", source);
    nw_metrics_add(nw_metrics_counter("nw_fetch_accepted_total", labels,
                                      "items accepted and handed to the broker, by source"),
                   1);
    nw_metrics_add(nw_metrics_counter("nw_fetch_accepted_bytes_total", NULL,
                                      "body bytes accepted and handed to the broker"),
                   len);
    NW_INFO(res->id, "accepted source=%s bytes=%zu", source, len);
}

/* The refusal of an item that could not be handed on (queue full, spool full or unwritable). */
static void
set_refused(fetch_result_t *res, int rc, const char *what)
{
    char msg[200];
    if (rc == -EAGAIN) {
        nw_metrics_reason("nw_fetch_busy_total",
                          strcmp(what, "raw") == 0 ? "raw-queue-full" : "dead-queue-full",
                          "items refused because a broker queue or the spool pushed back");
        snprintf(msg, sizeof msg, "the %s queue is full, retry later",
                 strcmp(what, "raw") == 0 ? "raw" : "dead-letter");
        set_result(res, FETCH_BUSY, 503, "busy", msg);
    } else if (rc == -ENOBUFS) {
        nw_metrics_reason("nw_fetch_busy_total", "spool-full",
                          "items refused because a broker queue or the spool pushed back");
        set_result(res, FETCH_BUSY, 503, "spool-full",
                   "the spool holds spool-max bytes the store has not acknowledged, retry later");
    } else if (rc == -ENOMEM) {
        set_result(res, FETCH_FAILED, 500, "internal", "out of memory");
    } else {
        snprintf(msg, sizeof msg, "cannot write the spool (%s), retry later", strerror(-rc));
        set_result(res, FETCH_BUSY, 503, "spool-unavailable", msg);
    }
}

static void
on_delivered(int status, void *arg)
{
    struct waiting *w = arg;
    if (status < 0)
        set_refused(&w->res, status, "raw");
    else
        account(&w->res, w->source, w->len, w->detail);
    if (w->done)
        w->done(&w->res, w->arg);
    free(w);
}

/* Hand an encoded message on. *res holds the outcome it gets once handed on. Returns 0 with
 * *res final, or FETCH_PENDING (done is called later). */
static int
deliver(fetch_accept_t *a, char tag, nw_buf_t *msg, uint64_t seq, fetch_result_t *res,
        const char *source, size_t len, const char *detail, fetch_done_cb done, void *arg)
{
    struct waiting *w = malloc(sizeof *w);
    if (w == NULL) {
        set_result(res, FETCH_FAILED, 500, "internal", "out of memory");
        return 0;
    }
    *w = (struct waiting){.res = *res, .done = done, .arg = arg, .source = source, .len = len};
    snprintf(w->detail, sizeof w->detail, "%s", detail ? detail : "");
    int rc = fetch_deliver_send(a->deliver, tag, msg, seq, on_delivered, w);
    if (rc == FETCH_PENDING)
        return FETCH_PENDING;
    free(w);
    if (rc < 0 && rc != -EAGAIN && rc != -ENOBUFS && rc != -ENOMEM && rc != -EINVAL &&
        rc != -ENOSPC && rc != -EFBIG && rc != -EIO && rc != -EDQUOT) {
        NW_ERROR(res->id[0] ? res->id : NULL, "cannot hand on %s message: %s",
                 tag == 'd' ? "dead" : "raw", strerror(-rc));
        set_result(res, FETCH_FAILED, 500, "internal", "cannot hand the item on");
        return 0;
    }
    if (rc < 0) {
        set_refused(res, rc, tag == 'd' ? "dead" : "raw");
        return 0;
    }
    account(res, source, len, detail);
    return 0;
}

int
fetch_accept_reject(fetch_accept_t *a, const char *source, const char *content_type,
                    const char *name, const uint8_t *bytes, size_t len, int status,
                    const char *reason, const char *message, fetch_result_t *res,
                    fetch_done_cb done, void *arg)
{
    nw_buf_t out = {0};
    char now[40], detail[512], sname[128];
    int rc;
    if (a->closed) {
        set_result(res, FETCH_BUSY, 503, "shutting-down", "fetch is shutting down, retry later");
        return 0;
    }
    nw_time_iso(nw_now_ms(), now, sizeof now);
    printable(name, sname, sizeof sname);
    snprintf(detail, sizeof detail, "%s%s%s%s", message, name ? " (file \"" : "", name ? sname : "",
             name ? "\")" : "");

    static const uint8_t none[1];
    uint64_t seq = fetch_deliver_reserve(a->deliver);
    nw_dead_t d = {
        .v = NW_PROTO_VERSION,
        .id = res->id[0] ? res->id : NULL,
        .stage = (char *)"fetch",
        .reason = (char *)reason,
        .detail = detail,
        .time = now,
        .bytes = (uint8_t *)(bytes ? bytes : none),
        .bytes_len = bytes ? len : 0,
        /* A header value is not necessarily UTF-8; the wire's strings must be. */
        .content_type =
            content_type && nw_utf8_valid((const uint8_t *)content_type, strlen(content_type))
                ? (char *)content_type
                : NULL,
        .source = (char *)source,
        .origin = (char *)a->origin,
        .spool = seq,
    };
    rc = nw_dead_encode(&d, &out);
    if (rc < 0) {
        NW_ERROR(NULL, "cannot encode dead letter: %s reason=%s", strerror(-rc), reason);
        set_result(res, FETCH_FAILED, 500, "internal", "cannot record the rejected item");
        goto out;
    }
    set_result(res, FETCH_REJECTED, status, reason, message);
    rc = deliver(a, 'd', &out, seq, res, source, len, detail, done, arg);
out:
    nw_buf_release(&out);
    return rc > 0 ? rc : 0;
}

/* Reject an item: the dead letter carries its original bytes (a sample when oversized). */
static int
reject_item(fetch_accept_t *a, const fetch_item_t *it, int status, const char *reason,
            const char *message, fetch_result_t *res, fetch_done_cb done, void *arg)
{
    size_t keep = it->len;
    if (strcmp(reason, "body-too-large") == 0 && keep > DEAD_SAMPLE_MAX)
        keep = DEAD_SAMPLE_MAX;
    return fetch_accept_reject(a, it->source, it->content_type, it->name, it->body, keep, status,
                               reason, message, res, done, arg);
}

/* The JSON body's "url", if any. Returns 0 (url set or left NULL) or -EPROTO with message. */
static int
check_json(const fetch_item_t *it, char **url, char *message, size_t n)
{
    json_error_t err;
    json_t *doc = json_loadb((const char *)it->body, it->len, 0, &err);
    int rc = -EPROTO;
    if (doc == NULL) {
        snprintf(message, n, "invalid JSON at line %d column %d: %s", err.line, err.column,
                 err.text);
        goto out;
    }
    if (!json_is_object(doc)) {
        snprintf(message, n, "expected a JSON object with the article's fields");
        goto out;
    }
    json_t *u = json_object_get(doc, "url");
    if (u && !json_is_null(u)) {
        if (!json_is_string(u)) {
            snprintf(message, n, "\"url\" must be a string");
            goto out;
        }
        *url = strdup(json_string_value(u));
        if (*url == NULL) {
            rc = -ENOMEM;
            goto out;
        }
    }
    rc = 0;
out:
    json_decref(doc);
    return rc;
}

/* A well-formed JSON object can still never become an article: no "text"/"html"/"body"
 * string, a field of the wrong type, no paragraphs. Ask the parse stage's own function, so
 * the door refuses exactly what parse would dead-letter after a 202. Returns 0, -ENOMEM, or
 * -EPROTO with parse's reason and explanation in message. */
static int
check_article(const fetch_item_t *it, char *message, size_t n)
{
    nw_raw_t raw = {
        .v = NW_PROTO_VERSION,
        .content_type = "application/json",
        .body = (uint8_t *)it->body,
        .body_len = it->len,
    };
    nw_article_t art;
    const char *reason = NULL;
    char detail[200];
    int rc = nw_parse_raw(&raw, &art, &reason, detail, sizeof detail);
    if (rc == 0) {
        nw_article_release(&art);
        return 0;
    }
    if (rc == -ENOMEM)
        return rc;
    snprintf(message, n, "the JSON body cannot become an article (%s: %s)",
             reason ? reason : "bad-json", detail);
    return -EPROTO;
}

int
fetch_accept_submit(fetch_accept_t *a, const fetch_item_t *it, fetch_result_t *res,
                    fetch_done_cb done, void *arg)
{
    char type[64], charset[64], msg[256], shown[64];
    char *json_url = NULL, *canon = NULL;
    nw_buf_t out = {0};
    int rc = 0;
    memset(res, 0, sizeof *res);
    if (a->closed) {
        set_result(res, FETCH_BUSY, 503, "shutting-down", "fetch is shutting down, retry later");
        return 0;
    }
    split_content_type(it->content_type, type, sizeof type, charset, sizeof charset);
    printable(it->content_type, shown, sizeof shown);

    if (it->len == 0) {
        rc = reject_item(a, it, 400, "empty-body", "the body is empty", res, done, arg);
        goto out;
    }
    if (it->len > a->max_body) {
        snprintf(msg, sizeof msg, "body of %zu bytes exceeds max-body (%zu bytes)", it->len,
                 a->max_body);
        rc = reject_item(a, it, 413, "body-too-large", msg, res, done, arg);
        goto out;
    }
    if (!supported(type)) {
        if (type[0])
            snprintf(msg, sizeof msg,
                     "content type \"%s\" is not supported (use text/plain, text/html or "
                     "application/json)",
                     shown);
        else
            snprintf(msg, sizeof msg,
                     "no content type given (use text/plain, text/html or "
                     "application/json)");
        rc = reject_item(a, it, 415, "unsupported-content-type", msg, res, done, arg);
        goto out;
    }
    /* HTML is taken in whatever charset it comes: parse finds it (BOM, header, <meta>, else
     * windows-1252 as browsers do), converts it and replaces what does not decode. Plain text
     * and JSON must be UTF-8 (JSON by RFC 8259; plain text because nothing declares it). */
    if (strcmp(type, "text/html") != 0 && !nw_utf8_valid(it->body, it->len)) {
        snprintf(msg, sizeof msg, "the %s body is not valid UTF-8", type);
        rc = reject_item(a, it, 400, "invalid-utf8", msg, res, done, arg);
        goto out;
    }
    if (strcmp(type, "application/json") == 0) {
        rc = check_json(it, &json_url, msg, sizeof msg);
        if (rc == -ENOMEM) {
            set_result(res, FETCH_FAILED, 500, "internal", "out of memory");
            goto out;
        }
        if (rc < 0) {
            rc = reject_item(a, it, 400, "bad-json", msg, res, done, arg);
            goto out;
        }
        rc = check_article(it, msg, sizeof msg);
        if (rc == -ENOMEM) {
            set_result(res, FETCH_FAILED, 500, "internal", "out of memory");
            goto out;
        }
        if (rc < 0) {
            rc = reject_item(a, it, 422, "no-article", msg, res, done, arg);
            goto out;
        }
    }
    const char *url = it->url && *it->url ? it->url : json_url;
    /* The declared charset only reads the bytes for the id (see nw_id_for_document). */
    rc = nw_id_for_document(url, it->body, it->len, type, charset, res->id, &canon);
    if (rc == -EINVAL) {
        char su[128];
        printable(url, su, sizeof su);
        snprintf(msg, sizeof msg,
                 "cannot use \"%s\" as the article URL (absolute http or "
                 "https URL expected)",
                 su);
        rc = reject_item(a, it, 400, "bad-url", msg, res, done, arg);
        goto out;
    }
    if (rc < 0) {
        /* Only ENOMEM is left: a bad URL was rejected above, any bytes have a text id. */
        NW_ERROR(NULL, "cannot derive an id: %s", strerror(-rc));
        set_result(res, FETCH_FAILED, 500, "internal", "cannot derive the article id");
        goto out;
    }

    /* The acceptance version orders this copy against every other acceptance of the id
     * (hlc.h); it is taken here, when the item is accepted, and travels in the spooled raw, so
     * a re-send carries the same version as the first send. */
    uint64_t av = 0;
    if (a->clock && (rc = nw_hlc_next(a->clock, nw_hlc_now_us(), &av)) < 0) {
        snprintf(msg, sizeof msg, "cannot persist the acceptance clock (%s), retry later",
                 strerror(-rc));
        set_result(res, FETCH_BUSY, 503, "spool-unavailable", msg);
        rc = 0;
        goto out;
    }
    char now[40];
    nw_time_iso(nw_now_ms(), now, sizeof now);
    nw_raw_t raw = {
        .v = NW_PROTO_VERSION,
        .id = res->id,
        .source = (char *)it->source,
        .url = canon,
        .fetched = now,
        .av = av,
        .content_type = type,
        .charset = charset[0] ? charset : NULL,
        .body = (uint8_t *)it->body,
        .body_len = it->len,
        .headers = (nw_kv_t *)it->headers,
        .n_headers = it->n_headers,
        .origin = (char *)a->origin,
        .spool = fetch_deliver_reserve(a->deliver),
        .name = (char *)it->name,
    };
    /* room for the body and the headers at once: growing by doubling copied the body twice */
    rc = nw_buf_reserve(&out, it->len + 4096);
    if (rc == 0)
        rc = nw_raw_encode(&raw, &out);
    if (rc < 0) {
        NW_ERROR(res->id, "cannot encode raw message: %s", strerror(-rc));
        set_result(res, FETCH_FAILED, 500, "internal", "cannot hand the article on");
        goto out;
    }
    set_result(res, FETCH_ACCEPTED, 202, "accepted", "accepted");
    rc = deliver(a, 'r', &out, raw.spool, res, it->source, it->len, NULL, done, arg);
out:
    free(json_url);
    free(canon);
    nw_buf_release(&out);
    return rc > 0 ? rc : 0;
}

char *
fetch_result_json(const fetch_result_t *res)
{
    json_t *j = res->outcome == FETCH_ACCEPTED
                    ? json_pack("{s:s,s:s}", "id", res->id, "status", "accepted")
                    : json_pack("{s:s,s:s}", "error", res->reason, "message", res->message);
    if (j == NULL && res->outcome != FETCH_ACCEPTED) /* message cut inside a UTF-8 sequence */
        j = json_pack("{s:s,s:s}", "error", res->reason, "message", res->reason);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return s;
}
