/* main.c: newswire-fetch, the entry point of the pipeline. Wiring only: read the config, make
 * the service (loop, ZeroMQ context, HTTP server with /metrics and /healthz), connect the two
 * pushes (raw.in for articles, the "dead" queue for dead letters), open the spool and the ack
 * subscription (deliver.c), start the sources (HTTP API, inbox directory, ZeroMQ ingest
 * socket, web feeds and pages; each fails alone, see sources.c) and drain on SIGTERM. The
 * logic lives in accept.c, deliver.c, api.c, inbox.c, ingest.c, web.c and sources.c. */
#include "fetch.h"
#include "web.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "newswire/brokers.h"
#include "newswire/config.h"
#include "newswire/curve.h"
#include "newswire/hlc.h"
#include "newswire/log.h"
#include "newswire/service.h"

struct fetch_cfg {
    nw_service_cfg_t svc;
    const char *inbox_dir;
    const char *ingest;
    int64_t max_body;
    const char *name;
    const char *spool_dir;
    int64_t spool_max;
    int64_t resend_after;
    const char *feeds;
    int64_t poll_interval;
    const char *state_dir;
    int64_t seen_keep;
    int allow_private;
    int64_t web_timeout;
    int64_t host_concurrency;
    int64_t host_delay;
    nw_http_opts_t http_sec;
};

/* Room left in a message for the fields around the body (NW_PROTO_MAX_MSG bounds the whole). */
#define MAX_BODY_LIMIT ((int64_t)NW_PROTO_MAX_MSG - 1024 * 1024)

static const nw_cfg_opt_t options[] = {
    NW_SERVICE_OPTIONS(struct fetch_cfg, svc, "127.0.0.1:8080",
                       "HTTP listen address for the API, /metrics and /healthz (\"\" disables)"),
    {"inbox-dir", NW_CFG_STR, "var/inbox", offsetof(struct fetch_cfg, inbox_dir),
     "directory watched for article files; rename files in (\"\" disables)", 0, 0},
    {"ingest", NW_CFG_STR, "tcp://127.0.0.1:5549", offsetof(struct fetch_cfg, ingest),
     "ZeroMQ ROUTER endpoint to bind for ingest (\"\" disables)", 0, 0},
    {"max-body", NW_CFG_SIZE, "16m", offsetof(struct fetch_cfg, max_body),
     "largest article body accepted from any source", 1, MAX_BODY_LIMIT},
    {"name", NW_CFG_STR, NULL, offsetof(struct fetch_cfg, name),
     "instance name, the origin of every raw message (default fetch-<hostname>)", 0, 0},
    {"spool-dir", NW_CFG_STR, "var/spool", offsetof(struct fetch_cfg, spool_dir),
     "durable spool: items are accepted once fsynced here, re-sent until the store acks them "
     "(\"\" disables it: at most once, for benchmarks only)",
     0, 0},
    {"spool-max", NW_CFG_SIZE, "1g", offsetof(struct fetch_cfg, spool_max),
     "unacked spool bytes at which sources are pushed back (503, inbox paused) until 90%", 1 << 20,
     INT64_MAX},
    {"resend-after", NW_CFG_MS, "10s", offsetof(struct fetch_cfg, resend_after),
     "re-send a spooled item not acked this long (then doubling, up to 5 min)", 100, 3600000},
    {"feeds", NW_CFG_STR, "", offsetof(struct fetch_cfg, feeds),
     "feed URLs to poll, comma-separated, or a file with one per line (\"\": none)", 0, 0},
    {"poll-interval", NW_CFG_MS, "5m", offsetof(struct fetch_cfg, poll_interval),
     "time between two polls of a feed (conditional GET)", 1000, 86400000},
    {"state-dir", NW_CFG_STR, "var/fetch", offsetof(struct fetch_cfg, state_dir),
     "web state: feed validators and the set of item URLs already ingested", 0, 0},
    {"seen-keep", NW_CFG_MS, "30d", offsetof(struct fetch_cfg, seen_keep),
     "how long an item URL no feed lists any more is remembered (up to twice this)", 1000,
     INT64_MAX / 4},
    {"allow-private", NW_CFG_BOOL, "0", offsetof(struct fetch_cfg, allow_private),
     "let web fetches reach private, loopback and link-local addresses (tests only)", 0, 0},
    {"web-timeout", NW_CFG_MS, "30s", offsetof(struct fetch_cfg, web_timeout),
     "longest a web request (one redirect hop) may take", 100, 600000},
    {"host-concurrency", NW_CFG_INT, "2", offsetof(struct fetch_cfg, host_concurrency),
     "web requests in flight per host", 1, 64},
    {"host-delay", NW_CFG_MS, "1s", offsetof(struct fetch_cfg, host_delay),
     "least time between two web requests to one host (robots.txt may ask for more)", 0, 3600000},
    NW_CURVE_ALLOW_OPTION(struct fetch_cfg, svc.curve),
    NW_HTTP_OPTIONS(struct fetch_cfg, http_sec),
    NW_CFG_END,
};

struct fetch_app {
    nw_service_t *svc;
    struct fetch_cfg *cfg;
    fetch_accept_t accept;
    nw_push_t *raw, *dead;
    nw_brokers_t *pair;       /* --broker A,B: which broker of the pair is active; else NULL */
    fetch_sources_t *sources; /* inbox, ingest, web: each started, failing and retried alone */
    nw_zsock_t *zap;          /* the --curve-allow check of the ingest socket, when configured */
    fetch_web_opts_t wopts;
    int web_routed; /* POST /v1/urls is routed to the first web source that started */
    int closing;    /* sources and pushes still closing during drain */
};

/* ---- the sources, as sources.c starts and closes them ---- */

static void *
start_inbox(void *arg, char *err, size_t errlen)
{
    struct fetch_app *app = arg;
    return fetch_inbox_new(nw_service_loop(app->svc), app->cfg->inbox_dir, &app->accept, err,
                           errlen);
}

static void
close_inbox(void *h, void (*cb)(void *), void *cb_arg)
{
    fetch_inbox_close(h, cb, cb_arg);
}

static void *
start_ingest(void *arg, char *err, size_t errlen)
{
    struct fetch_app *app = arg;
    return fetch_ingest_new(nw_service_loop(app->svc), nw_service_zctx(app->svc), app->cfg->ingest,
                            &app->accept, err, errlen);
}

static void
close_ingest(void *h, void (*cb)(void *), void *cb_arg)
{
    fetch_ingest_close(h, cb, cb_arg);
}

static void *
start_web(void *arg, char *err, size_t errlen)
{
    struct fetch_app *app = arg;
    nw_http_t *http = nw_service_http(app->svc);
    fetch_web_t *w =
        fetch_web_new(nw_service_loop(app->svc), &app->wopts, &app->accept, err, errlen);
    /* The web source is never restarted once up, so its route is added once. */
    if (w && http && !app->web_routed) {
        if (fetch_web_api_start(w, http) < 0) {
            snprintf(err, errlen, "cannot add the route POST /v1/urls");
            fetch_web_close(w, NULL, NULL);
            return NULL;
        }
        app->web_routed = 1;
    }
    return w;
}

static void
close_web(void *h, void (*cb)(void *), void *cb_arg)
{
    fetch_web_close(h, cb, cb_arg);
}

static void
on_push_writable(nw_push_t *p, void *arg)
{
    (void)p;
    struct fetch_app *app = arg;
    fetch_deliver_writable(app->accept.deliver);
    fetch_inbox_writable(fetch_sources_get(app->sources, "inbox"));
}

static void
on_spool_resume(void *arg)
{
    struct fetch_app *app = arg;
    fetch_inbox_writable(fetch_sources_get(app->sources, "inbox"));
}

static void
on_push_closed(void *arg)
{
    struct fetch_app *app = arg;
    if (--app->closing == 0)
        nw_service_stop(app->svc);
}

static void
on_broker_switch(nw_brokers_t *bs, const char *base, void *arg)
{
    (void)bs;
    struct fetch_app *app = arg;
    if (app->accept.deliver)
        fetch_deliver_switch(app->accept.deliver, base);
}

/* Last the pushes, whose linger lets what is queued reach the broker. */
static void
on_deliver_closed(void *arg)
{
    struct fetch_app *app = arg;
    nw_push_t *pushes[2] = {app->raw, app->dead};
    app->raw = app->dead = NULL;
    app->closing = 1; /* held until every push was asked to close */
    if (app->pair) {
        app->closing++;
        nw_brokers_close(app->pair, on_push_closed, app);
        app->pair = NULL;
    }
    for (int i = 0; i < 2; i++) {
        if (pushes[i]) {
            app->closing++;
            nw_push_close(pushes[i], on_push_closed, app);
        }
    }
    on_push_closed(app);
}

/* Then the deliverer (re-sends, the ack socket, the spool), which uses the pushes. */
static void
on_sources_closed(void *arg)
{
    struct fetch_app *app = arg;
    fetch_deliver_t *d = app->accept.deliver;
    app->accept.deliver = NULL;
    if (d)
        fetch_deliver_close(d, on_deliver_closed, app);
    else
        on_deliver_closed(app);
}

/* Every item that waited for an fsync was answered: now the sources can go. */
static void
on_flushed(void *arg)
{
    struct fetch_app *app = arg;
    nw_zsock_close(app->zap, NULL, NULL);
    app->zap = NULL;
    fetch_sources_t *set = app->sources;
    app->sources = app->accept.sources = NULL;
    if (set)
        fetch_sources_close(set, on_sources_closed, app);
    else
        on_sources_closed(app);
}

static void
on_drain(nw_service_t *svc, void *arg)
{
    (void)svc;
    struct fetch_app *app = arg;
    NW_INFO(NULL, "draining");
    /* From now on new items get 503 from accept.c until the service closes the server; the
     * ones waiting for the spool's fsync are answered first. Unacked records stay in the
     * spool and are re-sent by the next start. */
    app->accept.closed = 1;
    if (app->accept.deliver)
        fetch_deliver_flush(app->accept.deliver, on_flushed, app);
    else
        on_flushed(app);
}

int
main(int argc, char **argv)
{
    struct fetch_cfg cfg = {0};
    struct fetch_app app = {.cfg = &cfg};
    char name[300], ep_raw[512], ep_dead[512], first[NW_EP_MAX];

    int rc = nw_config_load(options, &cfg, argc, argv, "newswire-fetch [OPTIONS]",
                            "Take articles from the HTTP API, an inbox directory, a ZeroMQ "
                            "socket and the web (feeds, POST /v1/urls), validate them and hand "
                            "them to the broker as raw messages.",
                            NULL, NULL);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    if (nw_service_config("fetch", &cfg.svc, NW_CURVE_CONNECTS | NW_CURVE_BINDS) < 0)
        return 2;
    char ierr[512];
    if (nw_curve_check_endpoint(cfg.ingest, "ingest", cfg.svc.insecure, ierr, sizeof ierr) < 0) {
        fprintf(stderr, "error: %s\n", ierr);
        return 2;
    }
    if (cfg.name == NULL || *cfg.name == 0) {
        char host[256] = "localhost";
        gethostname(host, sizeof host - 1);
        snprintf(name, sizeof name, "fetch-%s", host);
        cfg.name = name;
    }
    int edead = nw_ep_for_type("dead");
    /* a broker pair starts on its first entry (brokers.h) */
    if (nw_ep_list_entry(cfg.svc.broker, 0, first, sizeof first) < 0 ||
        nw_ep_derive(first, NW_EP_RAW_IN, ep_raw, sizeof ep_raw) < 0 || edead < 0 ||
        nw_ep_derive(first, (nw_ep_t)edead, ep_dead, sizeof ep_dead) < 0) {
        nw_config_bad_value("broker", cfg.svc.broker, NULL); /* checked by nw_service_config */
        return 2;
    }

    app.svc = nw_service_new_opts("fetch", cfg.svc.http, &cfg.http_sec, on_drain, &app);
    if (app.svc == NULL)
        return 1;
    uv_loop_t *loop = nw_service_loop(app.svc);
    void *zctx = nw_service_zctx(app.svc);
    app.accept.origin = cfg.name;
    app.accept.max_body = (size_t)cfg.max_body;
    app.raw = nw_push_new(loop, zctx, ep_raw, on_push_writable, &app);
    app.dead = nw_push_new(loop, zctx, ep_dead, on_push_writable, &app);
    if (app.raw == NULL || app.dead == NULL) {
        NW_ERROR(NULL, "cannot connect to the broker at \"%s\"", cfg.svc.broker);
        goto fail;
    }
    /* A file-size limit (RLIMIT_FSIZE) must fail the spool's write with EFBIG, which refuses
     * the item and keeps fetch running, rather than kill the process. */
    signal(SIGXFSZ, SIG_IGN);
    fetch_deliver_opts_t dopts = {
        .broker = cfg.svc.broker,
        .origin = cfg.name,
        .spool_dir = cfg.spool_dir,
        .spool_max = (uint64_t)cfg.spool_max,
        .resend_ms = cfg.resend_after,
        .raw = app.raw,
        .dead = app.dead,
        .on_resume = on_spool_resume,
        .resume_arg = &app,
    };
    app.accept.deliver = fetch_deliver_new(loop, zctx, &dopts);
    if (app.accept.deliver == NULL)
        goto fail;
    if (nw_ep_list_count(cfg.svc.broker) > 1 &&
        (app.pair = nw_brokers_new(loop, zctx, cfg.svc.broker, on_broker_switch, &app)) == NULL)
        goto fail;
    /* The acceptance clock lives beside the spool, which this process has locked. */
    if (cfg.spool_dir && *cfg.spool_dir) {
        char path[4096], err[512];
        snprintf(path, sizeof path, "%s/%s", cfg.spool_dir, NW_HLC_FILE);
        if ((app.accept.clock = nw_hlc_open(path, err, sizeof err)) == NULL) {
            NW_ERROR(NULL, "acceptance clock: %s", err);
            goto fail;
        }
    }
    nw_http_t *http = nw_service_http(app.svc);
    /* The server refuses larger bodies itself (413, nothing buffered), which bounds memory;
     * it has no hook to tell us, so those refusals are not dead-lettered or counted here. */
    if (http)
        nw_http_set_max_body(http, (size_t)cfg.max_body);
    if (http && fetch_api_start(http, &app.accept) < 0) {
        NW_ERROR(NULL, "cannot add the HTTP API routes");
        goto fail;
    }
    app.wopts = (fetch_web_opts_t){
        .feeds = cfg.feeds,
        .poll_ms = cfg.poll_interval,
        .state_dir = cfg.state_dir,
        .seen_keep_ms = cfg.seen_keep,
        .allow_private = cfg.allow_private,
        .max_body = (size_t)cfg.max_body,
        .timeout_ms = cfg.web_timeout,
        .connect_timeout_ms = cfg.web_timeout < 10000 ? cfg.web_timeout : 10000,
        .host_concurrency = (int)cfg.host_concurrency,
        .host_delay_ms = cfg.host_delay,
        .robots_ttl_ms = 3600 * 1000,
    };
    if (cfg.ingest && *cfg.ingest && nw_curve_zap_start(loop, zctx, NULL, &app.zap) < 0)
        goto fail;
    /* From here on a source that cannot start is down, reported and retried, not fatal. */
    app.sources = app.accept.sources = fetch_sources_new(loop);
    if (app.sources == NULL)
        goto fail;
    nw_service_set_health(app.svc, fetch_sources_health, app.sources);
    /* Ready: every source runs (the health above) and the broker is connected. */
    nw_service_add_ready(app.svc, "broker", fetch_deliver_ready, app.accept.deliver);
    fetch_source_ops_t inbox = {"inbox", start_inbox, close_inbox, &app};
    fetch_source_ops_t ingest = {"ingest", start_ingest, close_ingest, &app};
    fetch_source_ops_t web = {"web", start_web, close_web, &app};
    if ((cfg.inbox_dir && *cfg.inbox_dir && fetch_sources_add(app.sources, &inbox) < 0) ||
        (cfg.ingest && *cfg.ingest && fetch_sources_add(app.sources, &ingest) < 0) ||
        fetch_sources_add(app.sources, &web) < 0)
        goto fail;
    NW_INFO(NULL, "fetch \"%s\" started broker=%s http=%s max-body=%lld spool=%s", cfg.name,
            cfg.svc.broker, cfg.svc.http && *cfg.svc.http ? cfg.svc.http : "off",
            (long long)cfg.max_body, cfg.spool_dir && *cfg.spool_dir ? cfg.spool_dir : "off");
    rc = nw_service_run(app.svc);
    nw_hlc_close(&app.accept.clock);
    return rc;
fail:
    /* Close what was made and let the loop finish, so the exit is clean; still a failure. */
    on_drain(app.svc, &app);
    nw_service_run(app.svc);
    nw_hlc_close(&app.accept.clock);
    return 1;
}
