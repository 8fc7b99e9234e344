/* client.c: the commands that talk to a running system from outside, the way any client
 * would: `newswire ingest` POSTs documents to the fetch HTTP API (libcurl), `newswire tail`
 * subscribes to the broker's topic hub (ZeroMQ SUB) and prints each article as a JSON line. */
#include "cli.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <zmq.h>

#include "newswire/config.h"
#include "newswire/curve.h"
#include "newswire/follow.h"
#include "newswire/parse.h"
#include "newswire/proto.h"
#include "newswire/stage.h"
#include "newswire/store.h"
#include "newswire/util.h"

/* The API refuses larger bodies anyway (413); reading more would only waste memory. */
#define MAX_DOC NW_PROTO_MAX_MSG

/* ---- ingest ---------------------------------------------------------------------------- */

typedef struct ingest_cfg {
    const char *api;
    const char *url;
    const char *content_type;
    int64_t retries;
} ingest_cfg_t;

static const nw_cfg_opt_t ingest_opts[] = {
    {"api", NW_CFG_STR, "http://127.0.0.1:8080", offsetof(ingest_cfg_t, api),
     "base URL of the fetch HTTP API", 0, 0},
    {"url", NW_CFG_STR, NULL, offsetof(ingest_cfg_t, url),
     "the document's URL (gives its id); only with one document", 0, 0},
    {"content-type", NW_CFG_STR, NULL, offsetof(ingest_cfg_t, content_type),
     "media type to send (default: guessed from the file name and bytes)", 0, 0},
    {"retries", NW_CFG_INT, "60", offsetof(ingest_cfg_t, retries),
     "how often to retry one document the API answered 429/503 (busy) for", 0, 100000},
    NW_CFG_END,
};

typedef struct path_list {
    char **v;
    size_t n, cap;
} path_list_t;

static int
paths_add(path_list_t *l, const char *path)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **v = realloc(l->v, cap * sizeof *v);
        if (v == NULL)
            return -ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    if ((l->v[l->n] = strdup(path)) == NULL)
        return -ENOMEM;
    l->n++;
    return 0;
}

static void
paths_release(path_list_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* Every regular file under dir, recursively (symlinks are followed for files only, so a link
 * loop cannot trap us). Hidden entries are skipped: editors and the inbox's writers keep
 * temporary files there. */
static int
collect_dir(const char *dir, path_list_t *out)
{
    int rc = 0;
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "newswire ingest: cannot open directory '%s': %s\n", dir, strerror(errno));
        return -errno;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        size_t dlen = strlen(dir);
        while (dlen > 1 && dir[dlen - 1] == '/')
            dlen--; /* "docs/" + "a.txt" is "docs/a.txt" */
        if ((size_t)snprintf(path, sizeof path, "%.*s/%s", (int)dlen, dir, e->d_name) >=
            sizeof path)
            continue;
        struct stat lst, st;
        if (lstat(path, &lst) < 0)
            continue;
        if (S_ISDIR(lst.st_mode))
            rc = collect_dir(path, out);
        else if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
            rc = paths_add(out, path);
        if (rc == -ENOMEM)
            break;
        rc = 0;
    }
    closedir(d);
    return rc;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

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

/* POST body to api + path (with ?url= when url is set); see nw_cli_post. */
static nw_cli_sent_t
post_to(CURL *curl, const char *api, const char *path, const char *url, const char *ctype,
        const uint8_t *body, size_t len, int64_t retries, nw_cli_answer_t *ans)
{
    nw_cli_sent_t res = NW_CLI_SENT_FAILED;
    nw_buf_t endpoint = {0}, reply = {0};
    struct curl_slist *hdrs = NULL;
    char *esc = NULL, ct_header[300];
    json_t *doc = NULL;
    size_t alen = strlen(api);
    memset(ans, 0, sizeof *ans);
    copy_field(ans->message, sizeof ans->message, "out of memory");
    while (alen > 0 && api[alen - 1] == '/')
        alen--;
    if (nw_buf_append(&endpoint, api, alen) < 0 || nw_buf_puts(&endpoint, path) < 0)
        goto done;
    if (url) {
        esc = curl_easy_escape(curl, url, 0);
        if (esc == NULL || nw_buf_printf(&endpoint, "?url=%s", esc) < 0)
            goto done;
    }
    snprintf(ct_header, sizeof ct_header, "Content-Type: %s", ctype);
    if ((hdrs = curl_slist_append(NULL, ct_header)) == NULL)
        goto done;
    /* Large bodies must not wait for a "100 Continue" round trip. */
    struct curl_slist *h2 = curl_slist_append(hdrs, "Expect:");
    if (h2 == NULL)
        goto done;
    hdrs = h2;
    /* An API off loopback takes a bearer token (`newswire token new --scope ingest`). */
    const char *token = getenv("NEWSWIRE_TOKEN");
    if (token && *token) {
        char auth[160];
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        if ((h2 = curl_slist_append(hdrs, auth)) == NULL)
            goto done;
        hdrs = h2;
    }
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, (const char *)endpoint.data);
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, (const char *)body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    for (int64_t attempt = 0;; attempt++) {
        nw_buf_reset(&reply);
        CURLcode cc = curl_easy_perform(curl);
        if (cc != CURLE_OK) {
            snprintf(ans->message, sizeof ans->message, "cannot reach %s: %s%s",
                     (const char *)endpoint.data, curl_easy_strerror(cc),
                     cc == CURLE_COULDNT_CONNECT ? " (is `newswire up` running?)" : "");
            res = cc == CURLE_COULDNT_CONNECT ? NW_CLI_SENT_UNREACHABLE : NW_CLI_SENT_FAILED;
            goto done;
        }
        long status = 0;
        curl_off_t retry_after = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(curl, CURLINFO_RETRY_AFTER, &retry_after);
        json_decref(doc);
        doc = json_loadb((const char *)reply.data, reply.len, 0, NULL);
        if ((status == 503 || status == 429) && attempt < retries) {
            /* The pipeline is pushing back: wait as told (at least a moment, at most a
             * minute) and send the same document again. */
            long ms = retry_after > 0 ? (long)(retry_after > 60 ? 60 : retry_after) * 1000 : 500;
            struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
            while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
            continue;
        }
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
                   msg         ? msg
                   : reply.len ? (const char *)reply.data
                               : "(no message)");
        res = NW_CLI_SENT_REFUSED;
        goto done;
    }
done:
    json_decref(doc);
    curl_free(esc);
    curl_slist_free_all(hdrs);
    nw_buf_release(&reply);
    nw_buf_release(&endpoint);
    return res;
}

nw_cli_sent_t
nw_cli_post(CURL *curl, const char *api, const char *url, const char *ctype, const uint8_t *body,
            size_t len, int64_t retries, nw_cli_answer_t *ans)
{
    return post_to(curl, api, "/v1/articles", url, ctype, body, len, retries, ans);
}

/* POST one document for ingest (or, when web is set, a web page's URL for fetch to fetch:
 * POST /v1/urls {"url": ...}) and print the outcome line: "<id><TAB><label>" on stdout, or
 * the refusal on stderr. */
static nw_cli_sent_t
post_one(CURL *curl, const ingest_cfg_t *cfg, const char *label, const uint8_t *body, size_t len,
         const char *ctype, int web)
{
    nw_cli_answer_t ans;
    nw_cli_sent_t res = post_to(curl, cfg->api, web ? "/v1/urls" : "/v1/articles",
                                web ? NULL : cfg->url, ctype, body, len, cfg->retries, &ans);
    if (res == NW_CLI_SENT_OK) {
        if (printf("%s\t%s\n", ans.id, label) < 0 || fflush(stdout) == EOF)
            res = NW_CLI_SENT_FAILED;
    } else if (res == NW_CLI_SENT_REFUSED) {
        fprintf(stderr, "newswire ingest: '%s': HTTP %ld %s: %s\n", label, ans.status, ans.error,
                ans.message);
    } else {
        fprintf(stderr, "newswire ingest: '%s': %s\n", label, ans.message);
    }
    return res;
}

/* Read, sniff and send one document. explicit: named on the command line (a binary file is
 * then an error, not a skip). */
static nw_cli_sent_t
ingest_one(CURL *curl, const ingest_cfg_t *cfg, const char *path, int explicit)
{
    uint8_t *body = NULL;
    size_t len = 0;
    nw_cli_sent_t res = NW_CLI_SENT_FAILED;
    int is_stdin = strcmp(path, "-") == 0;
    const char *label = is_stdin ? "-" : path;
    struct stat st;
    if ((strncasecmp(path, "http://", 7) == 0 || strncasecmp(path, "https://", 8) == 0) &&
        stat(path, &st) < 0) {
        json_t *j = json_pack("{s:s}", "url", path);
        char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        if (s == NULL) {
            fprintf(stderr, "newswire ingest: '%s': not a valid UTF-8 URL\n", label);
            return NW_CLI_SENT_FAILED;
        }
        res = post_one(curl, cfg, label, (const uint8_t *)s, strlen(s), "application/json", 1);
        free(s);
        return res;
    }
    int rc = nw_read_file(is_stdin ? "/dev/stdin" : path, MAX_DOC, &body, &len);
    if (rc < 0) {
        fprintf(stderr, "newswire ingest: cannot read '%s': %s\n", label,
                rc == -EFBIG ? "larger than 64 MiB" : strerror(-rc));
        goto done;
    }
    const char *name = is_stdin ? cfg->url : path;
    const char *ctype = cfg->content_type ? cfg->content_type : nw_parse_sniff(name, body, len);
    if (ctype == NULL) {
        fprintf(stderr,
                "newswire ingest: %s '%s': binary data, not text, HTML or JSON "
                "(use --content-type to send it anyway)\n",
                explicit ? "refusing" : "skipping", label);
        res = explicit ? NW_CLI_SENT_FAILED : NW_CLI_SENT_OK;
        goto done;
    }
    res = post_one(curl, cfg, label, body, len, ctype, 0);
done:
    free(body);
    return res;
}

int
nw_cli_ingest(int argc, char **argv)
{
    ingest_cfg_t cfg = {0};
    path_list_t files = {0};
    int nargs = 0, status;
    char **args = NULL;
    CURL *curl = NULL;
    int rc =
        nw_config_load(ingest_opts, &cfg, argc, argv, "newswire ingest [options] FILE|DIR|URL|-...",
                       "Send documents to the fetch HTTP API (POST <api>/v1/articles): "
                       "files, every regular file\nof a directory (recursively, sorted), or "
                       "stdin (-); an http(s) URL is fetched\nby fetch from the web (POST "
                       "<api>/v1/urls). Prints \"<id><TAB><path>\" per accepted\ndocument; errors "
                       "go to stderr. Busy answers (429/503) are retried after Retry-After.\n"
                       "Exit status 1 when any document failed.",
                       &nargs, &args);
    if ((status = nw_cli_config_status(rc)) >= 0)
        return status;
    if (nargs < 1) {
        fprintf(stderr, "newswire ingest: expected FILE, DIR or - (see --help)\n");
        return 2;
    }
    status = 1;
    /* Arguments keep their order; a directory expands in place to its sorted contents.
     * first[i] is where argument i's documents start in `files`. */
    int *explicit = calloc((size_t)nargs, sizeof *explicit);
    size_t *first = calloc((size_t)nargs + 1, sizeof *first);
    if (explicit == NULL || first == NULL)
        goto done;
    for (int i = 0; i < nargs; i++) {
        struct stat st;
        first[i] = files.n;
        if (strcmp(args[i], "-") != 0 && stat(args[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            size_t before = files.n;
            if (collect_dir(args[i], &files) == -ENOMEM)
                goto done;
            qsort(files.v + before, files.n - before, sizeof *files.v, cmp_str);
        } else {
            explicit[i] = 1;
            if (paths_add(&files, args[i]) < 0)
                goto done;
        }
    }
    first[nargs] = files.n;
    if (cfg.url && files.n != 1) {
        fprintf(stderr, "newswire ingest: --url needs exactly one document, got %zu\n", files.n);
        status = 2;
        goto done;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || (curl = curl_easy_init()) == NULL) {
        fprintf(stderr, "newswire ingest: cannot initialise libcurl\n");
        goto done;
    }
    size_t failed = 0, total = files.n;
    for (int i = 0, unreachable = 0; i < nargs && !unreachable; i++) {
        for (size_t k = first[i]; k < first[i + 1]; k++) {
            nw_cli_sent_t r = ingest_one(curl, &cfg, files.v[k], explicit[i]);
            if (r == NW_CLI_SENT_UNREACHABLE) {
                failed += total - k; /* nothing else would get through either */
                unreachable = 1;
                break;
            }
            if (r != NW_CLI_SENT_OK)
                failed++;
        }
    }
    if (failed)
        fprintf(stderr, "newswire ingest: %zu of %zu documents failed\n", failed, total);
    status = failed ? 1 : 0;
done:
    curl_easy_cleanup(curl);
    curl_global_cleanup();
    free(explicit);
    free(first);
    paths_release(&files);
    return status;
}

/* ---- tail ------------------------------------------------------------------------------ */

/* Without --since, tail prints what the hub delivers, as it comes: a late or slow subscriber
 * misses what was published before it subscribed or what its queue dropped, and an article on
 * two subscribed topics prints twice.
 *
 * With --since it follows the Clone pattern of follow.h and promises no gap and no duplicate,
 * in seq order: subscribe first, backfill from the database (read-only), then live, with a
 * catch-up from the database on every hole and every --check interval (and whenever the socket
 * has been quiet that long). The cost of a narrow topic is a database read (an index range
 * scan) per live message; the delay of a recovered message is at most one --check interval. */

typedef struct tail_cfg {
    const char *broker;
    int64_t count;
    const char *since;
    const char *data_dir;
    const char *db;
    int64_t check_ms;
    int64_t hwm;
    int stats;
    nw_curve_cfg_t curve;
} tail_cfg_t;

static const nw_cfg_opt_t tail_opts[] = {
    {"broker", NW_CFG_STR, "tcp://127.0.0.1:5550", offsetof(tail_cfg_t, broker),
     "broker base endpoint; articles come from its pub.out endpoint", 0, 0},
    {"count", NW_CFG_INT, "0", offsetof(tail_cfg_t, count),
     "exit after printing this many articles (0: run until interrupted)", 0, INT64_MAX},
    {"since", NW_CFG_STR, NULL, offsetof(tail_cfg_t, since),
     "first print what was stored after SEQ, since TIME (ISO 8601 UTC, or 30s/10m/2h/7d ago), "
     "or from now on; then live, without gap or duplicate",
     0, 0},
    {"data-dir", NW_CFG_STR, "var", offsetof(tail_cfg_t, data_dir),
     "with --since: data directory of the system (database: <data-dir>/newswire.db)", 0, 0},
    {"db", NW_CFG_STR, NULL, offsetof(tail_cfg_t, db),
     "with --since: database file or postgresql:// URI (overrides --data-dir)", 0, 0},
    {"check", NW_CFG_MS, "1s", offsetof(tail_cfg_t, check_ms),
     "with --since: look in the database for missed articles this often", 10, 3600000},
    {"hwm", NW_CFG_INT, "0", offsetof(tail_cfg_t, hwm),
     "receive high-water mark in messages (0: ZeroMQ's default, 1000)", 0, 1000000},
    {"stats", NW_CFG_BOOL, "0", offsetof(tail_cfg_t, stats),
     "with --since: at exit, say on stderr how many came from backfill, live and recovery", 0, 0},
    NW_CURVE_KEY_OPTION(tail_cfg_t, curve),
    NW_CURVE_SERVER_OPTION(tail_cfg_t, curve),
    NW_CFG_END,
};

typedef struct tail {
    tail_cfg_t cfg;
    char **subs;
    int n_subs;
    int want_acks;
    nw_store_t *db;
    nw_follow_t f;        /* with --since: the cursor over the store's seq */
    int64_t printed;      /* articles printed (and acks, when asked for) */
    int64_t n_backfill;   /* printed from the initial backfill */
    int64_t n_live;       /* printed from a live message */
    int64_t n_recovered;  /* printed from the database after the backfill */
    int64_t n_drops;      /* live messages discarded by the test hook */
    int64_t test_slow_ms; /* NW_TEST_TAIL_SLOW_MS: sleep per live message (a slow reader) */
    int64_t test_drop;    /* NW_TEST_TAIL_DROP_EVERY: discard every Nth live message */
    int64_t n_received;   /* live documents received */
    int warned_missing;
    int done;   /* --count reached, or stdout is gone */
    int failed; /* a database or output error: exit 1 */
} tail_t;

static volatile sig_atomic_t tail_stop;

static void
on_signal(int sig)
{
    (void)sig;
    tail_stop = 1;
}

/* Print one document with its topic; counts it and notes --count and a vanished reader. */
static void
tail_print(tail_t *t, const uint8_t *doc, size_t len, const char *topic, int64_t *counter)
{
    int rc = nw_cli_print_msgpack(doc, len, "topic", topic, 0);
    if (rc == -EPIPE || rc == -EIO) {
        t->done = 1; /* the reader went away: a normal end for a pipe */
        return;
    }
    if (rc < 0) {
        fprintf(stderr, "newswire tail: skipping a message on '%s': not a MessagePack map\n",
                topic);
        return;
    }
    t->printed++;
    if (counter)
        (*counter)++;
    if (t->cfg.count > 0 && t->printed >= t->cfg.count)
        t->done = 1;
}

static int
on_follow(const char *topic, uint64_t seq, const uint8_t *doc, size_t len, nw_follow_src_t src,
          void *arg)
{
    (void)seq;
    tail_t *t = arg;
    tail_print(t, doc, len, topic,
               src == NW_FOLLOW_BACKFILL ? &t->n_backfill
               : src == NW_FOLLOW_LIVE   ? &t->n_live
                                         : &t->n_recovered);
    return t->done || tail_stop;
}

static int
tail_catch_up(tail_t *t)
{
    int rc = nw_follow_catch_up(&t->f);
    if (rc < 0) {
        fprintf(stderr, "newswire tail: reading the database failed: %s\n", strerror(-rc));
        t->failed = 1;
    }
    return rc;
}

/* One live document in --since mode: the test hooks, then the follow cursor. */
static void
tail_live(tail_t *t, const char *topic, const uint8_t *doc, size_t len)
{
    nw_enriched_t e;
    if (nw_enriched_decode(&e, doc, len) < 0) {
        fprintf(stderr, "newswire tail: skipping a message on '%s': %s\n", topic, nw_proto_error());
        return;
    }
    t->n_received++;
    if (t->test_slow_ms > 0) {
        struct timespec ts = {t->test_slow_ms / 1000, (t->test_slow_ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !tail_stop)
            ;
    }
    if (t->test_drop > 0 && t->n_received % t->test_drop == 0) {
        t->n_drops++; /* as if the queue had overflowed: the database must fill the hole */
        nw_enriched_release(&e);
        return;
    }
    uint64_t missing = t->f.n_missing;
    int rc = nw_follow_live(&t->f, &e, doc, len);
    if (rc < 0) {
        fprintf(stderr, "newswire tail: reading the database failed: %s\n", strerror(-rc));
        t->failed = 1;
    } else if (t->f.n_missing > missing && !t->warned_missing) {
        /* Published but not in the database: not the database the store writes. Say so once
         * and carry on live rather than stall. */
        fprintf(stderr,
                "newswire tail: seq %llu was published but is not in the database: are "
                "--data-dir/--db those of the running store?\n",
                (unsigned long long)e.seq);
        t->warned_missing = 1;
    }
    nw_enriched_release(&e);
}

static int64_t
env_int(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? strtoll(v, NULL, 10) : 0;
}

static int64_t
mono_ms(void)
{
    return (int64_t)(nw_mono_ns() / 1000000u);
}

int
nw_cli_tail(int argc, char **argv)
{
    tail_t t;
    int nargs = 0, status;
    char **args = NULL;
    void *ctx = NULL, *sub = NULL;
    zmq_msg_t topic, body;
    zmq_msg_init(&topic);
    zmq_msg_init(&body);
    memset(&t, 0, sizeof t);
    int rc = nw_config_load(
        tail_opts, &t.cfg, argc, argv, "newswire tail [options] [--since SEQ|TIME|now] [TOPIC...]",
        "Follow published articles. Each one is printed as a JSON line: the stored document with\n"
        "a \"topic\" key added. Topics are hierarchical and match by prefix: all, lang.en,\n"
        "country.eg, place.eg.cairo, person.antony-blinken, org.hamas, theme.diplomacy,\n"
        "source.reuters, story.<id>. The default is all. Topics starting with \"ack.\" are\n"
        "internal and only shown when asked for explicitly.\n\n"
        "Without --since, tail prints what arrives: nothing from before it subscribed, nothing\n"
        "the hub dropped while it was slow (ZeroMQ drops silently past the high-water mark),\n"
        "and an article on two subscribed topics twice.\n\n"
        "With --since, it first prints the stored articles after SEQ (0: everything) or stored\n"
        "since TIME, then live ones, each matching article (each revision) exactly once and in\n"
        "increasing \"seq\" order: live duplicates are dropped by seq, and holes are filled\n"
        "from the database (read-only, --data-dir/--db), which has everything the hub had. A\n"
        "missed article is printed at most --check later. To resume after an exit, pass the\n"
        "last printed seq as --since.",
        &nargs, &args);
    if ((status = nw_cli_config_status(rc)) >= 0)
        return status;
    status = 1;
    char ep[512];
    if (nw_ep_derive(t.cfg.broker, NW_EP_PUB_OUT, ep, sizeof ep) < 0) {
        fprintf(stderr, "newswire tail: bad broker endpoint '%s'\n", t.cfg.broker);
        status = 2;
        goto done;
    }
    char curve_err[256];
    if (nw_curve_init(&t.cfg.curve, NW_CURVE_CONNECTS, curve_err, sizeof curve_err) < 0) {
        fprintf(stderr, "newswire tail: %s\n", curve_err);
        status = 2;
        goto done;
    }
    char *all[] = {"all"};
    t.subs = nargs ? args : all;
    t.n_subs = nargs ? nargs : 1;
    for (int i = 0; i < t.n_subs; i++)
        t.want_acks |= strncmp(t.subs[i], "ack", 3) == 0;
    t.test_slow_ms = env_int("NW_TEST_TAIL_SLOW_MS");
    t.test_drop = env_int("NW_TEST_TAIL_DROP_EVERY");

    /* No SA_RESTART: a signal must interrupt the blocking receive (EINTR) so we can exit. */
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    /* Subscribe before reading the database (Clone pattern): what is published while we read
     * waits in the socket instead of being lost. */
    int linger = 0, hwm = (int)t.cfg.hwm;
    if ((ctx = zmq_ctx_new()) == NULL || (sub = zmq_socket(ctx, ZMQ_SUB)) == NULL ||
        zmq_setsockopt(sub, ZMQ_LINGER, &linger, sizeof linger) < 0 ||
        (hwm > 0 && zmq_setsockopt(sub, ZMQ_RCVHWM, &hwm, sizeof hwm) < 0)) {
        fprintf(stderr, "newswire tail: cannot create a ZeroMQ socket: %s\n",
                zmq_strerror(zmq_errno()));
        goto done;
    }
    for (int i = 0; i < t.n_subs; i++) {
        if (zmq_setsockopt(sub, ZMQ_SUBSCRIBE, t.subs[i], strlen(t.subs[i])) < 0) {
            fprintf(stderr, "newswire tail: cannot subscribe to '%s': %s\n", t.subs[i],
                    zmq_strerror(zmq_errno()));
            goto done;
        }
    }
    if (nw_curve_client(sub) < 0 || zmq_connect(sub, ep) < 0) {
        fprintf(stderr, "newswire tail: cannot connect to '%s': %s\n", ep,
                zmq_strerror(zmq_errno()));
        goto done;
    }
    if (t.cfg.since) {
        if ((t.db = nw_cli_open_db("tail", t.cfg.data_dir, t.cfg.db, 1)) == NULL)
            goto done;
        t.f = (nw_follow_t){.db = t.db,
                            .prefixes = (const char *const *)t.subs,
                            .n_prefixes = (size_t)t.n_subs,
                            .cb = on_follow,
                            .arg = &t};
        rc = nw_follow_cursor_at(t.db, t.cfg.since, &t.f.cursor);
        if (rc == -EINVAL) {
            fprintf(stderr,
                    "newswire tail: bad value for --since: '%s' (a seq number, now, 10m/2h/7d, "
                    "or an ISO 8601 time such as 2024-02-06T09:15:00Z)\n",
                    t.cfg.since);
            status = 2;
            goto done;
        }
        if (rc < 0) {
            fprintf(stderr, "newswire tail: reading the database failed: %s\n", strerror(-rc));
            goto done;
        }
        uint64_t from = t.f.cursor;
        if (tail_catch_up(&t) < 0)
            goto done;
        if (t.cfg.stats)
            fprintf(
                stderr, "newswire tail: backfill after seq %llu: %lld printed, up to seq %llu\n",
                (unsigned long long)from, (long long)t.n_backfill, (unsigned long long)t.f.cursor);
    }
    int64_t next_check = mono_ms() + t.cfg.check_ms;
    /* Wait on the socket and on stdout: a reader that went away (`tail | head -1`) shows as
     * an error on our end of the pipe, so we exit then rather than at the next article. */
    zmq_pollitem_t items[2] = {{.socket = sub, .events = ZMQ_POLLIN}, {.fd = 1, .events = 0}};
    while (!tail_stop && !t.done) {
        long timeout = -1;
        if (t.db) {
            int64_t now = mono_ms();
            if (now >= next_check) {
                if (tail_catch_up(&t) < 0)
                    goto done;
                next_check = now + t.cfg.check_ms;
                continue;
            }
            timeout = (long)(next_check - now);
        }
        int n = zmq_poll(items, 2, timeout);
        if (n < 0) {
            if (zmq_errno() == EINTR)
                continue;
            fprintf(stderr, "newswire tail: poll failed: %s\n", zmq_strerror(zmq_errno()));
            goto done;
        }
        if (items[1].revents & ZMQ_POLLERR)
            break;
        if (!(items[0].revents & ZMQ_POLLIN))
            continue;
        if (zmq_msg_recv(&topic, sub, ZMQ_DONTWAIT) < 0) {
            if (zmq_errno() == EINTR || zmq_errno() == EAGAIN)
                continue;
            fprintf(stderr, "newswire tail: receive failed: %s\n", zmq_strerror(zmq_errno()));
            goto done;
        }
        /* A message is [topic][document]; anything else is skipped whole. Once the first frame
         * arrived the rest of the message is already here, so EINTR just means "ask again". */
        int parts = 1;
        size_t body_len = 0;
        while (zmq_msg_more(parts == 1 ? &topic : &body)) {
            while (zmq_msg_recv(&body, sub, 0) < 0 && zmq_errno() == EINTR)
                ;
            parts++;
            if (parts == 2)
                body_len = zmq_msg_size(&body);
        }
        if (parts != 2)
            continue;
        size_t tlen = zmq_msg_size(&topic);
        char name[256];
        if (tlen >= sizeof name)
            tlen = sizeof name - 1;
        memcpy(name, zmq_msg_data(&topic), tlen);
        name[tlen] = 0;
        int is_ack = strncmp(name, "ack.", 4) == 0;
        if (is_ack && !t.want_acks)
            continue;
        if (t.db && !is_ack) /* acks carry no seq of their own: they pass through */
            tail_live(&t, name, zmq_msg_data(&body), body_len);
        else
            tail_print(&t, zmq_msg_data(&body), body_len, name, NULL);
        if (t.failed)
            goto done;
    }
    status = 0;
done:
    if (t.db && t.cfg.stats)
        fprintf(stderr,
                "newswire tail: printed %lld: %lld from the backfill, %lld live, %lld recovered "
                "from the database; %lld duplicates dropped, %lld test drops; last seq %llu\n",
                (long long)t.printed, (long long)t.n_backfill, (long long)t.n_live,
                (long long)t.n_recovered, (long long)t.f.n_dups, (long long)t.n_drops,
                (unsigned long long)t.f.cursor);
    nw_store_close(&t.db);
    zmq_msg_close(&topic);
    zmq_msg_close(&body);
    if (sub)
        zmq_close(sub);
    if (ctx)
        zmq_ctx_term(ctx);
    return status;
}
