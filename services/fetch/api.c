/* api.c: the HTTP source. POST /v1/articles with the article as the body:
 *
 *   curl -H 'Content-Type: text/plain' --data-binary @story.txt \
 *        'http://127.0.0.1:8080/v1/articles?url=https%3A%2F%2Fexample.com%2Fa'
 *
 * The URL may also come as the header X-Newswire-URL, or as "url" in a JSON body. The answer
 * is 202 {"id":"...","status":"accepted"} once the raw message is durable in the spool and was
 * handed to the broker (the request waits for the group's fsync), 4xx
 * {"error":"<reason>","message":"..."} for bad input (dead-lettered; 422 "no-article" for a
 * JSON object that can never become an article, such as one without a "text" or "html"
 * string), or 503 with Retry-After when a queue or the spool pushes back ("busy",
 * "spool-full") or the spool cannot be written ("spool-unavailable"): the client retries,
 * nothing is dropped.
 *
 * Bodies over the HTTP server's own limit are answered 413 by nw_http before this handler runs
 * (see main.c for how that limit relates to max-body). */
#include "fetch.h"

#include <stdlib.h>
#include <string.h>

#include "newswire/log.h"
#include "newswire/util.h"

/* Request headers worth keeping with the raw message: who sent it and how to trace it. */
static const char *const kept_headers[] = {"Content-Type", "User-Agent", "X-Request-Id",
                                           "X-Forwarded-For", "Referer"};
#define N_KEPT (sizeof kept_headers / sizeof *kept_headers)

static void
answer(const fetch_result_t *res, void *arg)
{
    nw_http_req_t *req = arg;
    char *json = fetch_result_json(res);
    if (json == NULL) {
        nw_http_error(req, 500, "internal", "out of memory", NULL);
        return;
    }
    nw_http_respond(req, res->status, "application/json", json, strlen(json),
                    res->outcome == FETCH_BUSY ? "Retry-After: 1\r\n" : NULL);
    free(json);
}

static void
on_post(nw_http_req_t *req, void *arg)
{
    fetch_accept_t *a = arg;
    nw_kv_t headers[N_KEPT];
    char lower[N_KEPT][32];
    size_t nh = 0;
    for (size_t i = 0; i < N_KEPT; i++) {
        const char *v = nw_http_header(req, kept_headers[i]);
        if (v == NULL || !nw_utf8_valid((const uint8_t *)v, strlen(v)))
            continue; /* the wire's strings must be UTF-8; such a header is not worth a 500 */
        size_t k = 0;
        for (const char *p = kept_headers[i]; *p && k + 1 < sizeof lower[i]; p++)
            lower[i][k++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        lower[i][k] = 0;
        headers[nh].key = lower[i];
        headers[nh].val = (char *)v;
        nh++;
    }
    const char *url = nw_http_query(req, "url");
    if (url == NULL || *url == 0)
        url = nw_http_header(req, "X-Newswire-URL");

    fetch_item_t item = {
        .source = "http",
        .content_type = req->content_type,
        .body = req->body,
        .len = req->body_len,
        .url = url,
        .headers = headers,
        .n_headers = nh,
    };
    fetch_result_t res;
    if (fetch_accept_submit(a, &item, &res, answer, req) == 0)
        answer(&res, req);
}

/* The server refused a body over --max-body with 413 before the handler ran: count it and
 * keep a dead letter with the bytes that were read (the first NW_HTTP_REFUSED_SAMPLE). */
static void
on_refused(const char *method, const char *path, const char *content_type, const uint8_t *head,
           size_t len, void *arg)
{
    fetch_result_t res = {0}; /* no id: the body was never read */
    (void)method;
    (void)path;
    fetch_accept_reject(arg, "http", content_type, NULL, head, len, 413, "body-too-large",
                        "request body exceeds --max-body", &res, NULL, NULL);
}

int
fetch_api_start(nw_http_t *h, fetch_accept_t *a)
{
    nw_http_on_refused(h, on_refused, a);
    return nw_http_route(h, "POST", "/v1/articles", on_post, a);
}
