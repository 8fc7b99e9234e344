/* ingest.c: `newswire ingest FILE|DIR|URL|-...`, documents sent to a running system the way
 * any client would: POST to the fetch HTTP API. A directory is every regular file under it,
 * sorted; an http(s) URL is fetched by fetch itself (POST /v1/urls).
 *
 * Posts run a few at a time (--parallel) on one curl multi handle; each one is the request of
 * cli.c (nw_cli_req_*, which `newswire dlq replay` shares through nw_cli_post), retried after
 * Retry-After while fetch is busy. Accepted ids go to stdout in input order; on a terminal
 * stderr shows a progress line (count, rate, ETA) and a summary (accepted, refused by reason).
 *
 * --wait follows every accepted document to its outcome. The store acknowledges each message
 * after commit on the hub topic "ack.<fetch-name>" with its status (proto/ack.md): stored (new,
 * or a new current revision), unchanged (that content was stored before: already known),
 * history (a late older copy) or dead (a dead letter). ingest subscribes to "ack." before its
 * first post and matches acks by id; the reason of a dead letter is read from the dead-letter
 * table when the database is readable (--data-dir / --db). A document without an outcome after
 * --wait-timeout with no progress is reported as unknown. Exit status 1 when any document was
 * refused or failed, or (--wait) when any did not become an article. */
#include "cli.h"

#include <curl/curl.h>
#include <dirent.h>
#include <zmq.h>
#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "newswire/config.h"
#include "newswire/curve.h"
#include "newswire/parse.h"
#include "newswire/proto.h"
#include "newswire/sub.h"
#include "newswire/util.h"

/* The API refuses larger bodies anyway (413); reading more would only waste memory. */
#define MAX_DOC NW_PROTO_MAX_MSG

typedef struct ingest_cfg {
    const char *api;
    const char *url;
    const char *content_type;
    int64_t retries;
    int64_t parallel;
    int wait;
    int64_t wait_timeout_ms;
    const char *broker;
    const char *data_dir;
    const char *db;
    const char *progress;
    nw_curve_cfg_t curve;
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
    {"parallel", NW_CFG_INT, "4", offsetof(ingest_cfg_t, parallel), "documents posted at once", 1,
     64},
    {"wait", NW_CFG_BOOL, "0", offsetof(ingest_cfg_t, wait),
     "follow each accepted document to its outcome (stored, unchanged, dead letter); exit 1 "
     "when any did not become an article",
     0, 0},
    {"wait-timeout", NW_CFG_MS, "60s", offsetof(ingest_cfg_t, wait_timeout_ms),
     "with --wait: give up on the outcomes still missing after this long without progress", 100,
     86400000},
    {"broker", NW_CFG_STR, "tcp://127.0.0.1:5550", offsetof(ingest_cfg_t, broker),
     "with --wait: broker base endpoint, or a pair A,B (acks come from its topic hub, port + 7)", 0,
     0},
    {"data-dir", NW_CFG_STR, "var", offsetof(ingest_cfg_t, data_dir),
     "with --wait: data directory, for the reasons of dead letters", 0, 0},
    {"db", NW_CFG_STR, NULL, offsetof(ingest_cfg_t, db),
     "with --wait: database file or postgresql:// URI (overrides --data-dir)", 0, 0},
    {"progress", NW_CFG_STR, "auto", offsetof(ingest_cfg_t, progress),
     "progress line and summary on stderr: auto (when stderr is a terminal), always, never", 0, 0},
    NW_CURVE_KEY_OPTION(ingest_cfg_t, curve),
    NW_CURVE_SERVER_OPTION(ingest_cfg_t, curve),
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

/* ---- one run ---------------------------------------------------------------------------- */

/* What became of one document. */
typedef enum {
    D_PENDING,   /* not sent yet, or in flight */
    D_SKIPPED,   /* a binary file inside a directory: not sent, not an error */
    D_REFUSED,   /* fetch answered with an error (its reason in why) */
    D_FAILED,    /* not sent: unreadable, transport error, fetch unreachable */
    D_ACCEPTED,  /* 202: spooled by fetch; with --wait, outcome not known yet */
    D_STORED,    /* --wait: stored as a new article or a new current revision */
    D_UNCHANGED, /* --wait: its content was stored before (already known) */
    D_HISTORY,   /* --wait: kept as an older revision (a newer one is current) */
    D_DEAD,      /* --wait: became a dead letter (reason in why) */
    D_NOACK,     /* --wait: no ack, but the database has the article (stored or known) */
    D_UNKNOWN,   /* --wait: no outcome within --wait-timeout */
} doc_state_t;

typedef struct doc {
    doc_state_t state;
    int explicit; /* named on the command line: binary data is an error, not a skip */
    char id[80];
    char why[160];
} doc_t;

/* One post in flight (or waiting for its Retry-After). */
typedef struct slot {
    CURL *curl;
    nw_cli_req_t req;
    uint8_t *body;
    size_t idx;
    int64_t attempt;
    int64_t retry_at; /* monotonic ms to send again; 0 when on the multi handle */
    int busy;
} slot_t;

typedef struct run {
    const ingest_cfg_t *cfg;
    path_list_t *files;
    doc_t *docs;
    size_t n, next, printed, in_flight;
    size_t counts[D_UNKNOWN + 1];
    int unreachable;
    int progress;
    int64_t t0, last_progress, last_outcome;
    size_t waiting; /* --wait: accepted documents whose outcome is not known yet */
    void *zctx, *sub;
    /* Acks that came before their post's answer was read (the pipeline can be that fast):
     * kept until the answer names their id. */
    struct early_ack {
        char id[80];
        doc_state_t state;
    } * early;
    size_t n_early, cap_early;
} run_t;

static int64_t
mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
clear_progress(run_t *r)
{
    if (r->progress)
        fputs("\r\033[K", stderr);
}

static void
set_state(run_t *r, size_t i, doc_state_t st)
{
    r->counts[r->docs[i].state]--;
    r->docs[i].state = st;
    r->counts[st]++;
}

/* An ack for document i, accepted and waiting: its outcome is known. */
static void
outcome(run_t *r, size_t i, doc_state_t st)
{
    set_state(r, i, st);
    r->waiting--;
    r->last_outcome = mono_ms();
}

/* Keep an ack no accepted document matches yet (bounded: past the cap, the database lookup
 * at the end is what is left). */
static void
keep_early(run_t *r, const char *id, doc_state_t st)
{
    if (r->n_early == r->cap_early) {
        size_t cap = r->cap_early ? r->cap_early * 2 : 64;
        struct early_ack *e = cap <= 1u << 20 ? realloc(r->early, cap * sizeof *e) : NULL;
        if (e == NULL)
            return;
        r->early = e;
        r->cap_early = cap;
    }
    snprintf(r->early[r->n_early].id, sizeof r->early[r->n_early].id, "%s", id);
    r->early[r->n_early++].state = st;
}

/* Document i was just accepted: an ack that came before its answer? */
static void
take_early(run_t *r, size_t i)
{
    for (size_t k = 0; k < r->n_early; k++) {
        if (strcmp(r->early[k].id, r->docs[i].id) == 0) {
            outcome(r, i, r->early[k].state);
            r->early[k] = r->early[--r->n_early];
            return;
        }
    }
}

/* Ids to stdout in input order, as soon as every document before them is decided. */
static int
print_ready(run_t *r)
{
    for (; r->printed < r->next && r->docs[r->printed].state != D_PENDING; r->printed++) {
        const doc_t *d = &r->docs[r->printed];
        if (d->id[0] && printf("%s\t%s\n", d->id, r->files->v[r->printed]) < 0)
            return -EIO;
    }
    return fflush(stdout) == EOF ? -EIO : 0;
}

static void
show_progress(run_t *r, int64_t now, int force)
{
    if (!r->progress || (!force && now - r->last_progress < 200))
        return;
    r->last_progress = now;
    size_t done = r->n - r->counts[D_PENDING];
    double secs = (double)(now - r->t0) / 1000.0, rate = secs > 0 ? (double)done / secs : 0;
    char eta[32] = "";
    if (rate > 0 && done < r->n)
        snprintf(eta, sizeof eta, "  ETA %.0fs", (double)(r->n - done) / rate);
    fprintf(stderr, "\r\033[K%zu/%zu  %.1f/s%s  accepted %zu  refused %zu", done, r->n, rate, eta,
            r->n - r->counts[D_PENDING] - r->counts[D_REFUSED] - r->counts[D_FAILED] -
                r->counts[D_SKIPPED],
            r->counts[D_REFUSED] + r->counts[D_FAILED]);
    if (r->cfg->wait && done == r->n)
        fprintf(stderr, "  waiting for %zu outcomes", r->waiting);
    fflush(stderr);
}

/* The answer for document i: record it and say so. */
static void
finish(run_t *r, size_t i, int res, const nw_cli_answer_t *ans)
{
    doc_t *d = &r->docs[i];
    const char *label = r->files->v[i];
    clear_progress(r);
    if (res == NW_CLI_SENT_OK) {
        snprintf(d->id, sizeof d->id, "%s", ans->id);
        set_state(r, i, D_ACCEPTED);
        if (r->cfg->wait) {
            r->waiting++;
            take_early(r, i);
        }
    } else if (res == NW_CLI_SENT_REFUSED) {
        snprintf(d->why, sizeof d->why, "%s", ans->error);
        set_state(r, i, D_REFUSED);
        fprintf(stderr, "newswire ingest: '%s': HTTP %ld %s: %s\n", label, ans->status, ans->error,
                ans->message);
    } else {
        snprintf(d->why, sizeof d->why, "%s",
                 res == NW_CLI_SENT_UNREACHABLE ? "unreachable" : "transport");
        set_state(r, i, D_FAILED);
        fprintf(stderr, "newswire ingest: '%s': %s\n", label, ans->message);
        if (res == NW_CLI_SENT_UNREACHABLE)
            r->unreachable = 1; /* nothing else would get through either */
    }
}

static void
fail_doc(run_t *r, size_t i, const char *why)
{
    snprintf(r->docs[i].why, sizeof r->docs[i].why, "%s", why);
    set_state(r, i, D_FAILED);
}

/* Read, sniff and post document i on slot s (added to the multi handle), or decide it at once
 * (unreadable, binary). */
static void
start_doc(run_t *r, CURLM *multi, slot_t *s, size_t i)
{
    const ingest_cfg_t *cfg = r->cfg;
    const char *path = r->files->v[i];
    int is_stdin = strcmp(path, "-") == 0, web = 0;
    const char *label = is_stdin ? "-" : path, *ctype = NULL;
    size_t len = 0;
    struct stat st;
    s->body = NULL;
    if ((strncasecmp(path, "http://", 7) == 0 || strncasecmp(path, "https://", 8) == 0) &&
        stat(path, &st) < 0) {
        json_t *j = json_pack("{s:s}", "url", path);
        char *js = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        if (js == NULL) {
            clear_progress(r);
            fprintf(stderr, "newswire ingest: '%s': not a valid UTF-8 URL\n", label);
            fail_doc(r, i, "bad-url");
            return;
        }
        s->body = (uint8_t *)js;
        len = strlen(js);
        ctype = "application/json";
        web = 1;
    } else {
        int rc = nw_read_file(is_stdin ? "/dev/stdin" : path, MAX_DOC, &s->body, &len);
        if (rc < 0) {
            clear_progress(r);
            fprintf(stderr, "newswire ingest: cannot read '%s': %s\n", label,
                    rc == -EFBIG ? "larger than 64 MiB" : strerror(-rc));
            fail_doc(r, i, "unreadable");
            return;
        }
        const char *name = is_stdin ? cfg->url : path;
        ctype = cfg->content_type ? cfg->content_type : nw_parse_sniff(name, s->body, len);
        if (ctype == NULL) {
            int explicit = r->docs[i].explicit;
            clear_progress(r);
            fprintf(stderr,
                    "newswire ingest: %s '%s': binary data, not text, HTML or JSON "
                    "(use --content-type to send it anyway)\n",
                    explicit ? "refusing" : "skipping", label);
            if (explicit)
                fail_doc(r, i, "binary");
            else
                set_state(r, i, D_SKIPPED);
            free(s->body);
            s->body = NULL;
            return;
        }
    }
    if (nw_cli_req_init(&s->req, s->curl, cfg->api, web ? "/v1/urls" : "/v1/articles",
                        web ? NULL : cfg->url, ctype, s->body, len) < 0 ||
        curl_multi_add_handle(multi, s->curl) != CURLM_OK) {
        nw_cli_req_release(&s->req);
        free(s->body);
        s->body = NULL;
        fail_doc(r, i, "out of memory");
        return;
    }
    curl_easy_setopt(s->curl, CURLOPT_PRIVATE, s);
    s->idx = i;
    s->attempt = 0;
    s->retry_at = 0;
    s->busy = 1;
    r->in_flight++;
}

static void
slot_free(slot_t *s)
{
    nw_cli_req_release(&s->req);
    free(s->body);
    s->body = NULL;
    s->busy = 0;
}

/* ---- --wait: outcomes from the store's acks ------------------------------------------- */

static int
open_acks(run_t *r)
{
    char err[512];
    const char *topic = "ack.";
    if (nw_curve_init((nw_curve_cfg_t *)&r->cfg->curve, NW_CURVE_CONNECTS, err, sizeof err) < 0) {
        fprintf(stderr, "newswire ingest: %s\n", err);
        return -EINVAL;
    }
    if ((r->zctx = zmq_ctx_new()) == NULL)
        return -ENOMEM;
    r->sub = nw_sub_open(r->zctx, r->cfg->broker, &topic, 1, 0, err, sizeof err);
    if (r->sub == NULL) {
        fprintf(stderr, "newswire ingest: --wait: %s\n", err);
        return -EIO;
    }
    /* A subscription reaches the hub a moment after connect; acks sent before that are not
     * delivered. Give it that moment before the first post (what is missed anyway is looked
     * up in the database at the end). */
    struct timespec ts = {0, 300 * 1000000L};
    nanosleep(&ts, NULL);
    return 0;
}

static doc_state_t
ack_state(const char *status)
{
    if (strcmp(status, "stored") == 0)
        return D_STORED;
    if (strcmp(status, "unchanged") == 0)
        return D_UNCHANGED;
    if (strcmp(status, "history") == 0)
        return D_HISTORY;
    if (strcmp(status, "dead") == 0)
        return D_DEAD;
    return D_PENDING;
}

/* The document an ack is about: the first accepted one with its id still waiting (the same
 * content sent twice has one id and gets one ack per copy). */
static void
on_ack(run_t *r, const uint8_t *buf, size_t len)
{
    nw_ack_t a;
    if (nw_ack_decode(&a, buf, len) < 0)
        return;
    doc_state_t st = ack_state(a.status);
    size_t i = 0;
    for (; st != D_PENDING && i < r->n; i++) {
        if (r->docs[i].state == D_ACCEPTED && strcmp(r->docs[i].id, a.id) == 0) {
            outcome(r, i, st);
            break;
        }
    }
    /* Not ours, or ours before its answer was read: only in-flight posts can still match. */
    if (st != D_PENDING && i == r->n && r->in_flight > 0)
        keep_early(r, a.id, st);
    nw_ack_release(&a);
}

static void
drain_acks(run_t *r)
{
    if (r->sub == NULL)
        return;
    zmq_msg_t topic, body;
    zmq_msg_init(&topic);
    zmq_msg_init(&body);
    while (zmq_msg_recv(&topic, r->sub, ZMQ_DONTWAIT) >= 0) {
        int parts = 1;
        while (zmq_msg_more(parts == 1 ? &topic : &body) && zmq_msg_recv(&body, r->sub, 0) >= 0)
            parts++;
        if (parts == 2)
            on_ack(r, zmq_msg_data(&body), zmq_msg_size(&body));
    }
    zmq_msg_close(&topic);
    zmq_msg_close(&body);
}

struct dead_scan {
    run_t *r;
    size_t found, wanted;
};

static int
on_dead_row(const nw_store_dead_row_t *row, void *arg)
{
    struct dead_scan *ds = arg;
    run_t *r = ds->r;
    for (size_t i = 0; row->id && i < r->n; i++) {
        doc_t *d = &r->docs[i];
        if ((d->state == D_DEAD || d->state == D_ACCEPTED || d->state == D_UNKNOWN) &&
            d->why[0] == 0 && strcmp(d->id, row->id) == 0) {
            snprintf(d->why, sizeof d->why, "%s: %s", row->stage ? row->stage : "?",
                     row->reason ? row->reason : "?");
            if (d->state != D_DEAD) {
                set_state(r, i, D_DEAD);
                r->waiting--;
            }
            ds->found++;
        }
    }
    return ds->found >= ds->wanted; /* newest first: stop once every one is found */
}

/* After the acks, from the database when it is readable: the reasons of the dead letters,
 * dead letters whose ack was missed, and articles whose ack was missed. An ack can be missed
 * because it came before the subscription took, or because the broker keeps acks for fetch's
 * role (CURVE roles): then the database is all there is, and it can tell that the id is an
 * article but not whether this copy was new. */
static void
read_database(run_t *r)
{
    if (r->counts[D_DEAD] == 0 && r->waiting == 0)
        return;
    char path[4096], err[256];
    if (nw_store_path(r->cfg->data_dir, r->cfg->db, path, sizeof path) < 0 ||
        (!nw_store_is_postgres(path) && access(path, R_OK) < 0))
        return;
    nw_store_t *db = nw_store_open(path, 1, err, sizeof err);
    if (db == NULL)
        return;
    struct dead_scan ds = {.r = r, .wanted = r->counts[D_DEAD] + r->waiting};
    nw_store_dlq_list(db, (int)(10000 + r->n), on_dead_row, &ds);
    for (size_t i = 0; r->waiting > 0 && i < r->n; i++) {
        uint8_t *doc = NULL;
        size_t len = 0;
        if (r->docs[i].state == D_ACCEPTED && nw_store_get(db, r->docs[i].id, &doc, &len) == 0) {
            set_state(r, i, D_NOACK);
            r->waiting--;
        }
        free(doc);
    }
    nw_store_close(&db);
}

/* ---- the summary --------------------------------------------------------------------- */

/* "invalid-utf8 12, no-article 5" for the documents in state st. */
static void
print_reasons(const run_t *r, doc_state_t st)
{
    const char *seen[16];
    size_t n_seen = 0;
    fputs(" (", stderr);
    for (size_t i = 0; i < r->n; i++) {
        if (r->docs[i].state != st)
            continue;
        const char *why = r->docs[i].why[0] ? r->docs[i].why : "unknown reason";
        size_t k = 0;
        while (k < n_seen && strcmp(seen[k], why) != 0)
            k++;
        if (k < n_seen)
            continue;
        if (n_seen == 16) {
            fputs(", ...", stderr);
            break;
        }
        seen[n_seen++] = why;
        size_t c = 0;
        for (size_t j = i; j < r->n; j++)
            c += r->docs[j].state == st &&
                 strcmp(r->docs[j].why[0] ? r->docs[j].why : "unknown reason", why) == 0;
        fprintf(stderr, "%s%s %zu", n_seen > 1 ? ", " : "", why, c);
    }
    fputs(")", stderr);
}

static void
summary(const run_t *r, int64_t now)
{
    const size_t *c = r->counts;
    double secs = (double)(now - r->t0) / 1000.0;
    size_t accepted = c[D_ACCEPTED] + c[D_STORED] + c[D_UNCHANGED] + c[D_HISTORY] + c[D_DEAD] +
                      c[D_NOACK] + c[D_UNKNOWN];
    fprintf(stderr, "newswire ingest: %zu documents in %.1f s: %zu accepted", r->n, secs, accepted);
    if (c[D_REFUSED]) {
        fprintf(stderr, ", %zu refused", c[D_REFUSED]);
        print_reasons(r, D_REFUSED);
    }
    if (c[D_FAILED]) {
        fprintf(stderr, ", %zu failed", c[D_FAILED]);
        print_reasons(r, D_FAILED);
    }
    if (c[D_SKIPPED])
        fprintf(stderr, ", %zu skipped (binary)", c[D_SKIPPED]);
    fputs("\n", stderr);
    if (!r->cfg->wait)
        return;
    fprintf(stderr,
            "newswire ingest: outcomes: %zu stored as new articles or revisions, %zu already "
            "known (unchanged)",
            c[D_STORED], c[D_UNCHANGED]);
    if (c[D_HISTORY])
        fprintf(stderr, ", %zu kept as older revisions", c[D_HISTORY]);
    if (c[D_DEAD]) {
        fprintf(stderr, ", %zu dead letters", c[D_DEAD]);
        print_reasons(r, D_DEAD);
    }
    if (c[D_NOACK])
        fprintf(stderr,
                ", %zu articles whose ack was not seen (stored or already known; with CURVE "
                "roles acks go to fetch's key only)",
                c[D_NOACK]);
    if (c[D_UNKNOWN] || c[D_ACCEPTED])
        fprintf(stderr, ", %zu without an outcome after --wait-timeout",
                c[D_UNKNOWN] + c[D_ACCEPTED]);
    fputs("\n", stderr);
    for (size_t i = 0; i < r->n; i++)
        if (r->docs[i].state == D_DEAD)
            fprintf(stderr, "newswire ingest: '%s' (%s) became a dead letter: %s\n", r->files->v[i],
                    r->docs[i].id, r->docs[i].why[0] ? r->docs[i].why : "see `newswire dlq list`");
}

/* Post every document, --parallel at a time, then (--wait) collect their outcomes. Returns
 * the exit status. */
static int
run_all(run_t *r)
{
    const ingest_cfg_t *cfg = r->cfg;
    size_t nslots = (size_t)cfg->parallel;
    slot_t *slots = calloc(nslots, sizeof *slots);
    CURLM *multi = curl_multi_init();
    int status = 1;
    if (slots == NULL || multi == NULL)
        goto done;
    for (size_t k = 0; k < nslots; k++)
        if ((slots[k].curl = curl_easy_init()) == NULL)
            goto done;
    if (cfg->wait && open_acks(r) < 0)
        goto done;
    r->t0 = r->last_outcome = mono_ms();
    for (;;) {
        int64_t now = mono_ms();
        size_t busy = 0;
        for (size_t k = 0; k < nslots; k++) {
            slot_t *s = &slots[k];
            while (!s->busy && !r->unreachable && r->next < r->n)
                start_doc(r, multi, s, r->next++);
            if (s->busy && s->retry_at && now >= s->retry_at) {
                s->retry_at = 0;
                curl_multi_add_handle(multi, s->curl);
            }
            busy += s->busy;
        }
        if (busy == 0)
            break;
        int running = 0;
        curl_multi_perform(multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(multi, &left)) != NULL) {
            if (m->msg != CURLMSG_DONE)
                continue;
            slot_t *s = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            CURLcode cc = m->data.result;
            curl_multi_remove_handle(multi, s->curl);
            nw_cli_answer_t ans;
            long ms = 0;
            int res = nw_cli_req_done(&s->req, cc, s->attempt, cfg->retries, &ms, &ans);
            if (res == NW_CLI_REQ_RETRY) {
                s->attempt++;
                s->retry_at = mono_ms() + ms;
                continue;
            }
            r->in_flight--;
            finish(r, s->idx, res, &ans);
            slot_free(s);
        }
        if (print_ready(r) < 0)
            goto done;
        drain_acks(r);
        show_progress(r, mono_ms(), 0);
        curl_multi_poll(multi, NULL, 0, 50, NULL);
    }
    /* Whatever was never sent because fetch could not be reached. */
    for (size_t i = r->next; i < r->n; i++)
        fail_doc(r, i, "unreachable");
    r->next = r->n;
    if (print_ready(r) < 0)
        goto done;
    if (cfg->wait) {
        /* Progress-based: wait as long as outcomes keep arriving, up to --wait-timeout of
         * silence. */
        r->last_outcome = mono_ms();
        while (r->waiting > 0 && mono_ms() - r->last_outcome < cfg->wait_timeout_ms) {
            zmq_pollitem_t it = {.socket = r->sub, .events = ZMQ_POLLIN};
            zmq_poll(&it, 1, 200);
            drain_acks(r);
            show_progress(r, mono_ms(), 0);
        }
        read_database(r);
        for (size_t i = 0; i < r->n; i++)
            if (r->docs[i].state == D_ACCEPTED)
                set_state(r, i, D_UNKNOWN);
    }
    show_progress(r, mono_ms(), 1);
    clear_progress(r);
    const size_t *c = r->counts;
    int bad = c[D_REFUSED] || c[D_FAILED] || c[D_DEAD] || c[D_UNKNOWN];
    if (r->progress || cfg->wait || bad)
        summary(r, mono_ms());
    status = bad ? 1 : 0;
done:
    for (size_t k = 0; slots && k < nslots; k++) {
        if (slots[k].busy && !slots[k].retry_at)
            curl_multi_remove_handle(multi, slots[k].curl);
        if (slots[k].busy)
            slot_free(&slots[k]);
        curl_easy_cleanup(slots[k].curl);
    }
    curl_multi_cleanup(multi);
    free(slots);
    free(r->early);
    if (r->sub)
        zmq_close(r->sub);
    if (r->zctx)
        zmq_ctx_term(r->zctx);
    return status;
}

int
nw_cli_ingest(int argc, char **argv)
{
    ingest_cfg_t cfg = {0};
    path_list_t files = {0};
    int nargs = 0, status;
    char **args = NULL;
    doc_t *docs = NULL;
    int curl_ready = 0;
    int rc = nw_config_load(
        ingest_opts, &cfg, argc, argv, "newswire ingest [options] FILE|DIR|URL|-...",
        "Send documents to the fetch HTTP API (POST <api>/v1/articles): files, every regular\n"
        "file of a directory (recursively, sorted), or stdin (-); an http(s) URL is fetched by\n"
        "fetch from the web (POST <api>/v1/urls). Posts --parallel at a time; busy answers\n"
        "(429/503) are retried after Retry-After. Prints \"<id><TAB><path>\" per accepted\n"
        "document, in input order; errors go to stderr. On a terminal, a progress line (count,\n"
        "rate, ETA) and a summary (accepted, refused with reasons). --wait follows each accepted\n"
        "document to its outcome: stored as a new article or revision, already known\n"
        "(unchanged), or a dead letter with its reason.\n"
        "Exit status 1 when any document was refused or failed, or, with --wait, did not\n"
        "become an article.",
        &nargs, &args);
    if ((status = nw_cli_config_status(rc)) >= 0)
        return status;
    if (nargs < 1) {
        fprintf(stderr, "newswire ingest: expected FILE, DIR or - (see --help)\n");
        return 2;
    }
    int progress = isatty(2);
    if (strcmp(cfg.progress, "always") == 0)
        progress = 1;
    else if (strcmp(cfg.progress, "never") == 0)
        progress = 0;
    else if (strcmp(cfg.progress, "auto") != 0) {
        nw_config_bad_value("progress", cfg.progress, "auto, always or never");
        return 2;
    }
    status = 1;
    /* Arguments keep their order; a directory expands in place to its sorted contents. */
    int *explicit_arg = calloc((size_t)nargs, sizeof *explicit_arg);
    size_t *first = calloc((size_t)nargs + 1, sizeof *first);
    if (explicit_arg == NULL || first == NULL)
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
            explicit_arg[i] = 1;
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
    if ((docs = calloc(files.n ? files.n : 1, sizeof *docs)) == NULL)
        goto done;
    for (int i = 0; i < nargs; i++)
        for (size_t k = first[i]; k < first[i + 1]; k++)
            docs[k].explicit = explicit_arg[i];
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        fprintf(stderr, "newswire ingest: cannot initialise libcurl\n");
        goto done;
    }
    curl_ready = 1;
    run_t r = {.cfg = &cfg, .files = &files, .docs = docs, .n = files.n, .progress = progress};
    r.counts[D_PENDING] = files.n;
    status = run_all(&r);
done:
    if (curl_ready)
        curl_global_cleanup();
    free(docs);
    free(explicit_arg);
    free(first);
    paths_release(&files);
    return status;
}
