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
#include <sys/stat.h>
#include <time.h>
#include <zmq.h>

#include "newswire/config.h"
#include "newswire/parse.h"
#include "newswire/stage.h"
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

typedef enum { SENT_OK = 0, SENT_FAILED, SENT_UNREACHABLE } sent_t;

/* POST one document, retrying while the API says it is busy. Prints the outcome line. */
static sent_t
post_one(CURL *curl, const ingest_cfg_t *cfg, const char *label, const uint8_t *body, size_t len,
         const char *ctype)
{
    sent_t res = SENT_FAILED;
    nw_buf_t endpoint = {0}, reply = {0};
    struct curl_slist *hdrs = NULL;
    char *esc = NULL, ct_header[300];
    json_t *doc = NULL;
    const char *api = cfg->api;
    size_t alen = strlen(api);
    while (alen > 0 && api[alen - 1] == '/')
        alen--;
    if (nw_buf_append(&endpoint, api, alen) < 0 || nw_buf_puts(&endpoint, "/v1/articles") < 0)
        goto done;
    if (cfg->url) {
        esc = curl_easy_escape(curl, cfg->url, 0);
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
            fprintf(stderr, "newswire ingest: '%s': cannot reach %s: %s%s\n", label,
                    (const char *)endpoint.data, curl_easy_strerror(cc),
                    cc == CURLE_COULDNT_CONNECT ? " (is `newswire up` running?)" : "");
            res = cc == CURLE_COULDNT_CONNECT ? SENT_UNREACHABLE : SENT_FAILED;
            goto done;
        }
        long status = 0;
        curl_off_t retry_after = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(curl, CURLINFO_RETRY_AFTER, &retry_after);
        json_decref(doc);
        doc = json_loadb((const char *)reply.data, reply.len, 0, NULL);
        if ((status == 503 || status == 429) && attempt < cfg->retries) {
            /* The pipeline is pushing back: wait as told (at least a moment, at most a
             * minute) and send the same document again. */
            long ms = retry_after > 0 ? (long)(retry_after > 60 ? 60 : retry_after) * 1000 : 500;
            struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
            while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
            continue;
        }
        if (status >= 200 && status < 300 && json_field(doc, "id")) {
            if (printf("%s\t%s\n", json_field(doc, "id"), label) < 0 || fflush(stdout) == EOF)
                goto done;
            res = SENT_OK;
            goto done;
        }
        const char *err = json_field(doc, "error"), *msg = json_field(doc, "message");
        fprintf(stderr, "newswire ingest: '%s': HTTP %ld %s: %s\n", label, status,
                err ? err : "error",
                msg         ? msg
                : reply.len ? (const char *)reply.data
                            : "(no message)");
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

/* Read, sniff and send one document. explicit: named on the command line (a binary file is
 * then an error, not a skip). */
static sent_t
ingest_one(CURL *curl, const ingest_cfg_t *cfg, const char *path, int explicit)
{
    uint8_t *body = NULL;
    size_t len = 0;
    sent_t res = SENT_FAILED;
    int is_stdin = strcmp(path, "-") == 0;
    const char *label = is_stdin ? "-" : path;
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
        res = explicit ? SENT_FAILED : SENT_OK;
        goto done;
    }
    res = post_one(curl, cfg, label, body, len, ctype);
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
        nw_config_load(ingest_opts, &cfg, argc, argv, "newswire ingest [options] FILE|DIR|-...",
                       "Send documents to the fetch HTTP API (POST <api>/v1/articles): "
                       "files, every regular file\nof a directory (recursively, sorted), or "
                       "stdin (-). Prints \"<id><TAB><path>\" per accepted\ndocument; errors "
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
            sent_t r = ingest_one(curl, &cfg, files.v[k], explicit[i]);
            if (r == SENT_UNREACHABLE) {
                failed += total - k; /* nothing else would get through either */
                unreachable = 1;
                break;
            }
            if (r != SENT_OK)
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

typedef struct tail_cfg {
    const char *broker;
    int64_t count;
} tail_cfg_t;

static const nw_cfg_opt_t tail_opts[] = {
    {"broker", NW_CFG_STR, "tcp://127.0.0.1:5550", offsetof(tail_cfg_t, broker),
     "broker base endpoint; articles come from its pub.out endpoint", 0, 0},
    {"count", NW_CFG_INT, "0", offsetof(tail_cfg_t, count),
     "exit after this many messages (0: run until interrupted)", 0, INT64_MAX},
    NW_CFG_END,
};

static volatile sig_atomic_t tail_stop;

static void
on_signal(int sig)
{
    (void)sig;
    tail_stop = 1;
}

int
nw_cli_tail(int argc, char **argv)
{
    tail_cfg_t cfg = {0};
    int nargs = 0, status;
    char **args = NULL;
    void *ctx = NULL, *sub = NULL;
    zmq_msg_t topic, body;
    zmq_msg_init(&topic);
    zmq_msg_init(&body);
    int rc = nw_config_load(
        tail_opts, &cfg, argc, argv, "newswire tail [--broker EP] [--count N] [TOPIC...]",
        "Follow published articles. Each one is printed as a JSON line: the stored document with\n"
        "a \"topic\" key added. Topics are hierarchical and match by prefix: all, lang.en,\n"
        "country.eg, place.eg.cairo, person.antony-blinken, org.hamas, theme.diplomacy,\n"
        "source.reuters, story.<id>. The default is all. Topics starting with \"ack.\" are\n"
        "internal and only shown when asked for explicitly.",
        &nargs, &args);
    if ((status = nw_cli_config_status(rc)) >= 0)
        return status;
    status = 1;
    char ep[512];
    if (nw_ep_derive(cfg.broker, NW_EP_PUB_OUT, ep, sizeof ep) < 0) {
        fprintf(stderr, "newswire tail: bad broker endpoint '%s'\n", cfg.broker);
        status = 2;
        goto done;
    }
    char *all[] = {"all"};
    if (nargs == 0) {
        args = all;
        nargs = 1;
    }
    int want_acks = 0;
    for (int i = 0; i < nargs; i++)
        want_acks |= strncmp(args[i], "ack", 3) == 0;

    /* No SA_RESTART: a signal must interrupt the blocking receive (EINTR) so we can exit. */
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    int linger = 0;
    if ((ctx = zmq_ctx_new()) == NULL || (sub = zmq_socket(ctx, ZMQ_SUB)) == NULL ||
        zmq_setsockopt(sub, ZMQ_LINGER, &linger, sizeof linger) < 0) {
        fprintf(stderr, "newswire tail: cannot create a ZeroMQ socket: %s\n",
                zmq_strerror(zmq_errno()));
        goto done;
    }
    for (int i = 0; i < nargs; i++) {
        if (zmq_setsockopt(sub, ZMQ_SUBSCRIBE, args[i], strlen(args[i])) < 0) {
            fprintf(stderr, "newswire tail: cannot subscribe to '%s': %s\n", args[i],
                    zmq_strerror(zmq_errno()));
            goto done;
        }
    }
    if (zmq_connect(sub, ep) < 0) {
        fprintf(stderr, "newswire tail: cannot connect to '%s': %s\n", ep,
                zmq_strerror(zmq_errno()));
        goto done;
    }
    int64_t seen = 0;
    /* Wait on the socket and on stdout: a reader that went away (`tail | head -1`) shows as
     * an error on our end of the pipe, so we exit then rather than at the next article. */
    zmq_pollitem_t items[2] = {{.socket = sub, .events = ZMQ_POLLIN}, {.fd = 1, .events = 0}};
    while (!tail_stop && (cfg.count == 0 || seen < cfg.count)) {
        if (zmq_poll(items, 2, -1) < 0) {
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
        if (!want_acks && strncmp(name, "ack.", 4) == 0)
            continue;
        rc = nw_cli_print_msgpack(zmq_msg_data(&body), body_len, "topic", name, 0);
        if (rc == -EPIPE || rc == -EIO) {
            status = 0; /* the reader went away: a normal end for a pipe */
            goto done;
        }
        if (rc < 0) {
            fprintf(stderr, "newswire tail: skipping a message on '%s': not a MessagePack map\n",
                    name);
            continue;
        }
        seen++;
    }
    status = 0;
done:
    zmq_msg_close(&topic);
    zmq_msg_close(&body);
    if (sub)
        zmq_close(sub);
    if (ctx)
        zmq_ctx_term(ctx);
    return status;
}
