/* newswire-query: the read side over HTTP, for people and programs without ZeroMQ. Wiring
 * only: the configuration, the databases, the route table and the drain; the handlers are in
 * the files query.h lists.
 *
 * The database is opened read-only (it sees what the store commits): one handle for the
 * loop, and one for the search worker, which runs off the loop. GET / and every other path
 * no route takes serve the web page (webroot.h; data/web/: live list, search, timeline, map). */
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include <errno.h>
#include <string.h>

#include "newswire/config.h"
#include "newswire/refdir.h"
#include "newswire/log.h"
#include "newswire/service.h"
#include "newswire/stage.h"
#include "newswire/store.h"
#include "newswire/webroot.h"
#include "query.h"

#define GZIP_MIN 1024 /* answers shorter than this go out as they are */

typedef struct cfg {
    nw_service_cfg_t svc;
    const char *data_dir;
    const char *db;
    int64_t stream_buffer;
    int64_t check_ms;
    int64_t query_budget_ms;
    const char *web_dir;
    const char *cors_origin;
    nw_http_opts_t http_sec;
} cfg_t;

static const nw_cfg_opt_t options[] = {
    NW_SERVICE_OPTIONS(cfg_t, svc, "127.0.0.1:8081",
                       "listen address of the query API and stream (also /metrics and /healthz)"),
    {"data-dir", NW_CFG_STR, "var", offsetof(cfg_t, data_dir), "data directory", 0, 0},
    {"db", NW_CFG_STR, "", offsetof(cfg_t, db),
     "database: SQLite file, or postgresql:// URI / libpq conninfo (empty: "
     "<data-dir>/newswire.db)",
     0, 0},
    {"stream-buffer", NW_CFG_SIZE, "1m", offsetof(cfg_t, stream_buffer),
     "unsent bytes per stream client beyond which it is fed from the database instead", 4096,
     1LL << 30},
    {"check", NW_CFG_MS, "1s", offsetof(cfg_t, check_ms),
     "look in the database for articles the live stream missed this often", 10, 3600000},
    {"query-budget", NW_CFG_MS, "2s", offsetof(cfg_t, query_budget_ms),
     "a search still working after this is cut (503)", 10, 600000},
    {"web-dir", NW_CFG_STR, "", offsetof(cfg_t, web_dir),
     "the web page's files, served at / (empty: web/ beside the reference data; off: none)", 0, 0},
    {"cors-origin", NW_CFG_STR, "", offsetof(cfg_t, cors_origin),
     "origin whose pages may read the API (Access-Control-Allow-Origin), e.g. "
     "https://news.example.org or *; empty: none",
     0, 0},
    NW_HTTP_OPTIONS(cfg_t, http_sec),
    NW_CFG_END,
};

/* Every route of the service, in one place. */
static const struct route {
    const char *method, *path;
    nw_http_handler_cb cb;
} routes[] = {
    {"GET", "/v1/articles/*", query_on_article}, {"GET", "/v1/articles", query_on_articles},
    {"GET", "/v1/search", query_on_search},      {"GET", "/v1/facets", query_on_facets},
    {"GET", "/v1/stories/*", query_on_story},    {"GET", "/v1/stream", query_on_stream},
};

static cfg_t cfg;
static query_svc_t q;
static nw_webroot_t *web;
static int open_parts; /* parts still closing at drain (the search worker, the streams) */

static void
on_part_closed(void *arg)
{
    (void)arg;
    if (--open_parts == 0)
        nw_service_stop(q.svc);
}

static void
on_drain(nw_service_t *svc, void *arg)
{
    (void)svc;
    (void)arg;
    q.closing = 1;
    open_parts = 2;
    query_search_close(q.search, on_part_closed, NULL);
    query_streams_close(q.streams, on_part_closed, NULL);
}

/* The web page (webroot.h), from --web-dir or web/ beside the reference data. A missing
 * directory only costs the page: the API serves without it. */
static int
serve_web(nw_http_t *h)
{
    char dir[4200];
    if (strcmp(cfg.web_dir, "off") == 0)
        return 0;
    if (cfg.web_dir[0]) {
        snprintf(dir, sizeof dir, "%s", cfg.web_dir);
    } else {
        char ref[4096];
        if (nw_refdir_find("web/index.html", ref, sizeof ref) < 0) {
            NW_WARN(NULL, "no web page: no web/index.html in the reference data (set --web-dir)");
            return 0;
        }
        snprintf(dir, sizeof dir, "%s/web", ref);
    }
    if ((web = nw_webroot_new(dir)) == NULL) {
        NW_WARN(NULL, "no web page: cannot open \"%s\": %s", dir, strerror(errno));
        return 0;
    }
    NW_INFO(NULL, "web page served at / from \"%s\"", dir);
    return nw_webroot_route(web, h);
}

/* The store creates the database; wait for it rather than fail when started first. */
static nw_store_t *
open_db(const char *path)
{
    char err[512] = "";
    /* A conninfo may hold a password: log only that it is PostgreSQL. */
    const char *shown = nw_store_is_postgres(path) ? "postgresql" : path;
    nw_store_t *db;
    for (int tries = 0; (db = nw_store_open(path, 1, err, sizeof err)) == NULL; tries++) {
        if (tries == 100) {
            NW_ERROR(NULL, "cannot open database: %s", err);
            return NULL;
        }
        if (tries == 0)
            NW_INFO(NULL, "waiting for the database \"%s\": %s", shown, err);
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return db;
}

/* /readyz's "database" condition: answered by one cheap read (the highest seq) on the loop's
 * connection, at most once a second, so a PostgreSQL that went away shows here and not only as
 * failed queries. */
static const char *
db_ready(void *arg)
{
    static uint64_t checked_ms;
    static int down;
    (void)arg;
    uint64_t now = uv_now(nw_service_loop(q.svc)), seq;
    if (checked_ms == 0 || now - checked_ms >= 1000) {
        checked_ms = now;
        down = nw_store_max_seq(q.db, &seq) < 0;
    }
    return down ? "the database does not answer (a read of the highest seq failed)" : NULL;
}

int
main(int argc, char **argv)
{
    char path[4096], err[512] = "";
    int rc = nw_config_load(
        options, &cfg, argc, argv, "newswire-query [options]",
        "Query API over HTTP (docs/openapi.yaml): GET /v1/articles and /v1/search with filters\n"
        "(q, from, to, lang, topic, person, org, place, country, theme, story, near, bbox),\n"
        "sort, cursor paging and fields; /v1/facets; /v1/stories/ID; /v1/articles/ID and its\n"
        "/revisions; /v1/stream?topic=T&since=S, a Server-Sent Events stream of matching\n"
        "articles without gap or duplicate (reconnect with Last-Event-ID); the web page at /.\n"
        "Topics match by prefix; since is a seq, now (the default for streams), a time ago\n"
        "(10m, 2h, 7d) or an ISO 8601 time. Reads the database read-only.",
        NULL, NULL);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    if (nw_service_config("query", &cfg.svc, NW_CURVE_CONNECTS) < 0)
        return 2;
    if (cfg.svc.http == NULL || cfg.svc.http[0] == 0) {
        nw_config_bad_value("http", "", "required: it is what this service serves");
        return 2;
    }
    if (nw_store_path(cfg.data_dir, cfg.db, path, sizeof path) < 0) {
        nw_config_bad_value("db", cfg.db, "a path that fits 4 KiB");
        return 2;
    }

    q.svc = nw_service_new_opts("query", cfg.svc.http, &cfg.http_sec, on_drain, NULL);
    if (!q.svc)
        return 1;
    if ((q.db = open_db(path)) == NULL)
        goto fail;
    if ((q.search = query_search_new(&q, path, cfg.query_budget_ms, err, sizeof err)) == NULL) {
        NW_ERROR(NULL, "cannot open database: %s", err);
        goto fail;
    }
    q.streams = query_streams_new(&q, cfg.svc.broker, cfg.stream_buffer, cfg.check_ms);
    if (q.streams == NULL)
        goto fail;
    nw_service_add_ready(q.svc, "database", db_ready, NULL);
    nw_http_t *h = nw_service_http(q.svc);
    nw_http_set_cors(h, cfg.cors_origin);
    nw_http_set_gzip(h, GZIP_MIN);
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (nw_http_route(h, routes[i].method, routes[i].path, routes[i].cb, &q) < 0)
            goto fail;
    if (serve_web(h) < 0)
        goto fail;
    NW_INFO(NULL, "query started http=%s db=\"%s\"", cfg.svc.http,
            nw_store_is_postgres(path) ? "postgresql" : path);
    rc = nw_service_run(q.svc);
    goto out;
fail:
    if (q.streams)
        query_streams_close(q.streams, NULL, NULL);
    nw_service_stop(q.svc);
    nw_service_run(q.svc);
    rc = 1;
out:
    nw_store_close(&q.db);
    query_search_destroy(&q.search);
    query_streams_destroy(&q.streams);
    nw_webroot_destroy(&web);
    return rc;
}
