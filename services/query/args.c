/* args.c: request arguments and the JSON answers every handler of newswire-query shares
 * (query.h). */
#include "query.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "newswire/log.h"

void
query_answer_json(nw_http_req_t *req, int status, json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (s == NULL) {
        nw_http_error(req, 500, "internal", "out of memory", NULL);
        return;
    }
    nw_http_respond(req, status, "application/json", s, strlen(s), NULL);
    free(s);
}

void
query_db_error(nw_http_req_t *req, int rc)
{
    NW_WARN(NULL, "database read failed path=\"%s\": %s", req->path, strerror(-rc));
    nw_http_error(req, 503, "database", "the database could not be read", NULL);
}

void
query_since_error(nw_http_req_t *req, int rc)
{
    if (rc == -EINVAL)
        nw_http_error(req, 400, "bad-since",
                      "since: a seq, now, 10m/2h/7d ago, or an ISO 8601 time", NULL);
    else
        query_db_error(req, rc);
}

int
query_limit_arg(nw_http_req_t *req, int def)
{
    const char *v = nw_http_query(req, "limit");
    if (v == NULL)
        return def;
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (end == v || *end || n < 1 || n > QUERY_MAX_LIMIT) {
        nw_http_error(req, 400, "bad-limit", "limit must be a number from 1 to 1000", NULL);
        return -1;
    }
    return (int)n;
}

int
query_topics_arg(const char *v, char **owned, const char **prefixes, size_t *n)
{
    *owned = strdup(v && *v ? v : "all");
    if (*owned == NULL)
        return -ENOMEM;
    *n = 0;
    for (char *save = NULL, *t = strtok_r(*owned, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (*n == QUERY_MAX_PREFIXES)
            return -EINVAL;
        prefixes[(*n)++] = t;
    }
    return *n ? 0 : -EINVAL;
}
