/* web.c: the web source of newswire-fetch. Feeds listed in the configuration are polled every
 * poll-interval with a conditional GET; each new item's page is fetched and handed to the
 * accept path as text/html with its URL and the response headers; POST /v1/urls fetches one
 * page on request. Every request goes through httpc.c (timeouts, redirect and size limits,
 * private addresses refused) and a per-host queue.
 *
 * Politeness, per host (origin): at most host-concurrency requests in flight, request starts
 * at least host-delay apart (or the robots.txt Crawl-delay when longer, capped at a minute),
 * and no page before the host's robots.txt was read and allows it (RFC 9309: 4xx means no
 * rules, 5xx or a network error means stay away for now). Feeds themselves are fetched
 * without consulting robots.txt: an operator listed them. One uv timer (the pump) starts
 * whatever a host may start next.
 *
 * Nothing twice, nothing lost. An item is identified by its canonical link (nw_url_canonical:
 * utm_* and other tracking parameters gone). It is recorded in the seen-set only once accept
 * says ACCEPTED (or REJECTED: then its dead letter is kept), so an item whose page could not
 * be fetched or was pushed back is tried again by a later poll. The seen-set is an append-only
 * file, state-dir/seen.log, one canonical URL per line after a "# since <unix ms>" header, read
 * into a hash set at start; a torn last line after a crash costs at most one re-fetch, which
 * the store absorbs (same id). It has two generations so that it stays bounded: once the
 * current one is seen-keep old it becomes state-dir/seen.old (the older one is dropped) and a
 * new seen.log starts. A URL found only in the old generation is copied into the current one,
 * so an item a feed keeps listing is never fetched twice, and one that left every feed is
 * forgotten between seen-keep and twice that after it was last listed. (A feed that answers
 * 304 for longer than that lists nothing new; should it change later, its old items are
 * fetched once more, and the store keeps them unchanged: same id, same content.)
 * A feed's validators (ETag, Last-Modified) are adopted, and written to state-dir/feeds.tsv
 * (write, fsync, rename), only once every new item of that poll was settled for good, because
 * a 304 on the next poll would otherwise hide the items still owed. */
#include "web.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <xxhash.h>

#include "newswire/buf.h"
#include "newswire/feed.h"
#include "newswire/httpc.h"
#include "newswire/id.h"
#include "newswire/log.h"
#include "newswire/metrics.h"
#include "newswire/robots.h"
#include "newswire/util.h"

#define ROBOTS_AGENT "newswire"        /* our product token in robots.txt */
#define ROBOTS_RETRY_MS (60 * 1000)    /* an unreachable robots.txt is asked again after this */
#define MAX_CRAWL_DELAY_MS (60 * 1000) /* a longer Crawl-delay is taken as this */
#define MAX_QUEUED 10000               /* pages waiting or in flight; more wait for a later poll */
#define MAX_FEED_LIST (1 << 20)
#define PAGE_INDEX_SIZE 16384 /* buckets of the feed-page index; a power of two > MAX_QUEUED */
#define PUMP_BUDGET 512       /* jobs started or failed per pump call */

enum job_type { JOB_FEED, JOB_ROBOTS, JOB_PAGE };

struct feed {
    char *url;
    char *etag, *lm;         /* validators in force (sent with the next poll) */
    char *new_etag, *new_lm; /* from the last 200, adopted once its items are settled */
    int busy;                /* a poll is under way: its request or its pages */
    unsigned pending;        /* pages of this poll not yet settled */
    int incomplete;          /* one of them failed in a way worth retrying */
};

struct host {
    char *origin; /* "http://example.com:8080" as the canonical URL spells it */
    int active;
    uint64_t next_ms; /* loop time before which no request may start */
    int robots_busy;
    struct job *head, *tail;
    struct host *next;
};

struct job {
    enum job_type type;
    fetch_web_t *w;
    struct host *h;
    char *url;   /* what to GET */
    char *canon; /* pages: the canonical URL, the seen-set key */
    char *path;  /* pages: path and query, for robots.txt */
    struct feed *feed;
    nw_http_req_t *req; /* pages asked for over the API */
    struct job *qnext;  /* in its host's queue */
    struct job *prev, *next;
    struct job *fnext; /* in the feed-page index (feed pages only) */
    int indexed;
};

struct strset {
    char **v;
    size_t cap, n;
};

struct fetch_web {
    uv_loop_t *loop;
    fetch_accept_t *a;
    fetch_web_opts_t o;
    char *seen_path, *seen_old_path, *feeds_path;
    nw_httpc_t *hc;
    nw_robots_cache_t *robots;
    struct strset seen, seen_old; /* the current generation and the one before */
    int64_t seen_since;           /* wall-clock ms at which the current generation started */
    int seen_fd;
    struct feed *feeds;
    size_t n_feeds;
    struct host *hosts;
    struct job *jobs; /* every job not yet finished */
    size_t n_pages;
    /* Feed pages not yet finished, by canonical URL, so that a poll of a feed with many items
     * does not scan every job per item (a 150k-item feed stalled the loop for 7.7 s): chained,
     * a fixed power of two above MAX_QUEUED, allocated on first use. */
    struct job **pages_by_canon;
    struct feed_work *works; /* feed bodies being parsed on the thread pool */
    struct feed_work *ready; /* parsed feeds whose items are being queued, oldest first */
    uv_idle_t items_idle;    /* runs while ready is not empty: one slice of items per turn */
    uv_timer_t poll_timer, pump_timer;
    int pumping, pump_again;
    int closing, handles;
    void (*close_cb)(void *arg);
    void *close_arg;
};

/* ---- the seen-set: open addressing over canonical URLs ---- */

static int
set_has(const struct strset *s, const char *k)
{
    if (s->cap == 0)
        return 0;
    size_t i = (size_t)XXH3_64bits(k, strlen(k)) & (s->cap - 1);
    for (; s->v[i]; i = (i + 1) & (s->cap - 1))
        if (strcmp(s->v[i], k) == 0)
            return 1;
    return 0;
}

static void
set_put(struct strset *s, char *k)
{
    size_t i = (size_t)XXH3_64bits(k, strlen(k)) & (s->cap - 1);
    while (s->v[i])
        i = (i + 1) & (s->cap - 1);
    s->v[i] = k;
    s->n++;
}

/* Add a copy of k. Returns 1 when added, 0 when present, -ENOMEM. */
static int
set_add(struct strset *s, const char *k)
{
    if (set_has(s, k))
        return 0;
    if ((s->n + 1) * 2 > s->cap) {
        struct strset t = {.cap = s->cap ? s->cap * 2 : 1024};
        t.v = calloc(t.cap, sizeof *t.v);
        if (t.v == NULL)
            return -ENOMEM;
        for (size_t i = 0; i < s->cap; i++)
            if (s->v[i])
                set_put(&t, s->v[i]);
        free(s->v);
        *s = t;
    }
    char *c = strdup(k);
    if (c == NULL)
        return -ENOMEM;
    set_put(s, c);
    return 1;
}

static void
set_release(struct strset *s)
{
    for (size_t i = 0; i < s->cap; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

#define SEEN_HEADER "# since "

/* Read one generation's file into *set; *since gets its header's time (left as is without
 * one: a file from before generations). A missing file is an empty generation. */
static int
load_seen_file(const char *path, struct strset *set, int64_t *since)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = nw_read_file(path, SIZE_MAX / 2, &data, &len);
    if (rc == -ENOENT)
        return 0;
    char *p = (char *)data, *end = p ? p + len : NULL;
    while (rc == 0 && p && p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL)
            break; /* a torn last line: that item may be fetched once more */
        *nl = 0;
        if (strncmp(p, SEEN_HEADER, strlen(SEEN_HEADER)) == 0)
            *since = strtoll(p + strlen(SEEN_HEADER), NULL, 10);
        else if (*p && *p != '#' && set_add(set, p) < 0)
            rc = -ENOMEM;
        p = nl + 1;
    }
    free(data);
    return rc;
}

/* Start a new seen.log (truncating any) with its header; returns the fd or -errno. */
static int
create_seen_log(fetch_web_t *w, int64_t since)
{
    int fd = open(w->seen_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    char line[64];
    int n = snprintf(line, sizeof line, SEEN_HEADER "%lld\n", (long long)since);
    if (write(fd, line, (size_t)n) != n || fdatasync(fd) < 0) {
        int rc = -errno;
        close(fd);
        return rc ? rc : -EIO;
    }
    return fd;
}

/* Retire the current generation to seen.old and start an empty one. On failure the current
 * generation simply goes on growing (logged); nothing is forgotten early. */
static void
rotate_seen(fetch_web_t *w)
{
    int64_t now = nw_now_ms();
    if (rename(w->seen_path, w->seen_old_path) < 0) {
        NW_WARN(NULL, "cannot retire \"%s\": %s", w->seen_path, strerror(errno));
        w->seen_since = now; /* try again one period later, not on every item */
        return;
    }
    int fd = create_seen_log(w, now);
    if (fd < 0) {
        /* the fd still appends to the retired file, so nothing is lost; try again later */
        NW_WARN(NULL, "cannot start \"%s\": %s", w->seen_path, strerror(-fd));
        w->seen_since = now;
        return;
    }
    close(w->seen_fd);
    w->seen_fd = fd;
    set_release(&w->seen_old);
    w->seen_old = w->seen;
    memset(&w->seen, 0, sizeof w->seen);
    w->seen_since = now;
    NW_INFO(NULL, "seen-set rotated: %zu URLs kept in \"%s\"", w->seen_old.n, w->seen_old_path);
}

static int
load_seen(fetch_web_t *w)
{
    int64_t old_since = 0;
    w->seen_since = -1;
    int rc = load_seen_file(w->seen_old_path, &w->seen_old, &old_since);
    if (rc == 0)
        rc = load_seen_file(w->seen_path, &w->seen, &w->seen_since);
    if (rc < 0)
        return rc;
    if (w->seen_since < 0) {
        /* no header: a new file, or one written before generations; it starts now */
        w->seen_since = nw_now_ms();
        if (w->seen.n == 0) {
            int fd = create_seen_log(w, w->seen_since);
            if (fd < 0)
                return fd;
            w->seen_fd = fd;
            return 0;
        }
    }
    w->seen_fd = open(w->seen_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    return w->seen_fd < 0 ? -errno : 0;
}

static void
rotate_seen_when_due(fetch_web_t *w)
{
    if (nw_now_ms() - w->seen_since >= w->o.seen_keep_ms)
        rotate_seen(w);
}

static void
mark_seen(fetch_web_t *w, const char *canon)
{
    rotate_seen_when_due(w);
    if (set_add(&w->seen, canon) <= 0)
        return;
    nw_buf_t b = {0};
    if (nw_buf_printf(&b, "%s\n", canon) < 0 ||
        write(w->seen_fd, b.data, b.len) != (ssize_t)b.len || fdatasync(w->seen_fd) < 0)
        NW_WARN(NULL, "cannot append to \"%s\": %s", w->seen_path, strerror(errno));
    nw_buf_release(&b);
}

/* Whether canon was ingested; one known only to the old generation is carried into the
 * current one, since a feed still lists it. */
static int
seen_has(fetch_web_t *w, const char *canon)
{
    if (set_has(&w->seen, canon))
        return 1;
    if (!set_has(&w->seen_old, canon))
        return 0;
    mark_seen(w, canon);
    return 1;
}

/* ---- feed validators: state-dir/feeds.tsv, "url \t etag \t last-modified" per line ---- */

static int
clean_field(const char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s < 0x20)
            return 0;
    return 1;
}

static void
save_validators(fetch_web_t *w)
{
    nw_buf_t b = {0}, tmp = {0};
    int ok = 0, fd = -1;
    for (size_t i = 0; i < w->n_feeds; i++) {
        struct feed *f = &w->feeds[i];
        if ((f->etag || f->lm) && nw_buf_printf(&b, "%s\t%s\t%s\n", f->url, f->etag ? f->etag : "",
                                                f->lm ? f->lm : "") < 0)
            goto out;
    }
    if (nw_buf_printf(&tmp, "%s.tmp", w->feeds_path) < 0)
        goto out;
    fd = open((const char *)tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || (b.len && write(fd, b.data, b.len) != (ssize_t)b.len) || fsync(fd) < 0)
        goto out;
    if (rename((const char *)tmp.data, w->feeds_path) < 0)
        goto out;
    ok = 1;
out:
    if (!ok)
        NW_WARN(NULL, "cannot write \"%s\": %s", w->feeds_path, strerror(errno));
    if (fd >= 0)
        close(fd);
    nw_buf_release(&b);
    nw_buf_release(&tmp);
}

static int
load_validators(fetch_web_t *w)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = nw_read_file(w->feeds_path, MAX_FEED_LIST, &data, &len);
    if (rc == -ENOENT)
        return 0;
    if (rc < 0)
        return rc;
    char *p = (char *)data, *end = p + len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL)
            break;
        *nl = 0;
        char *t1 = strchr(p, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (t2) {
            *t1 = *t2 = 0;
            for (size_t i = 0; i < w->n_feeds; i++) {
                struct feed *f = &w->feeds[i];
                if (strcmp(f->url, p) != 0)
                    continue;
                free(f->etag);
                free(f->lm);
                f->etag = t1[1] ? strdup(t1 + 1) : NULL;
                f->lm = t2[1] ? strdup(t2 + 1) : NULL;
            }
        }
        p = nl + 1;
    }
    free(data);
    return 0;
}

/* The feed option: URLs separated by commas or white space, inline when it contains "://",
 * else the path of a file holding them ('#' starts a comment). */
static int
load_feed_list(fetch_web_t *w, const char *spec, char *err, size_t errlen)
{
    char *text = NULL;
    if (spec == NULL || *spec == 0)
        return 0;
    if (strstr(spec, "://")) {
        text = strdup(spec);
    } else {
        uint8_t *data = NULL;
        size_t len = 0;
        int rc = nw_read_file(spec, MAX_FEED_LIST, &data, &len);
        if (rc < 0) {
            snprintf(err, errlen, "cannot read the feed list \"%s\": %s", spec, strerror(-rc));
            return rc;
        }
        text = (char *)data;
        for (char *c = text; (c = strchr(c, '#')) != NULL;)
            while (*c && *c != '\n')
                *c++ = ' ';
    }
    if (text == NULL)
        return -ENOMEM;
    int rc = 0;
    char *save = NULL;
    for (char *tok = strtok_r(text, ", \t\r\n", &save); tok && rc == 0;
         tok = strtok_r(NULL, ", \t\r\n", &save)) {
        char *canon = NULL;
        if (nw_url_canonical(tok, &canon) < 0) {
            snprintf(err, errlen, "bad feed url \"%.100s\" in option 'feeds'", tok);
            rc = -EINVAL;
            break;
        }
        free(canon);
        struct feed *nf = realloc(w->feeds, (w->n_feeds + 1) * sizeof *nf);
        if (nf == NULL) {
            rc = -ENOMEM;
            break;
        }
        w->feeds = nf;
        memset(&nf[w->n_feeds], 0, sizeof *nf);
        if ((nf[w->n_feeds].url = strdup(tok)) == NULL)
            rc = -ENOMEM;
        else
            w->n_feeds++;
    }
    free(text);
    return rc;
}

/* ---- hosts and jobs ---- */

/* Split a canonical URL into origin ("scheme://host:port") and path with query. */
static int
split_url(const char *canon, char **origin, char **path)
{
    const char *s = strstr(canon, "://");
    if (s == NULL)
        return -EINVAL;
    const char *p = s + 3 + strcspn(s + 3, "/?");
    *origin = nw_strndup(canon, (size_t)(p - canon));
    nw_buf_t b = {0};
    if (*p != '/')
        nw_buf_puts(&b, "/");
    nw_buf_puts(&b, p);
    size_t n;
    *path = b.data ? (char *)nw_buf_steal(&b, &n) : NULL;
    if (*origin == NULL || *path == NULL) {
        free(*origin);
        free(*path);
        return -ENOMEM;
    }
    return 0;
}

static struct host *
host_get(fetch_web_t *w, const char *origin)
{
    for (struct host *h = w->hosts; h; h = h->next)
        if (strcmp(h->origin, origin) == 0)
            return h;
    struct host *h = calloc(1, sizeof *h);
    if (h == NULL || (h->origin = strdup(origin)) == NULL) {
        free(h);
        return NULL;
    }
    h->next = w->hosts;
    w->hosts = h;
    return h;
}

static size_t
page_bucket(const char *canon)
{
    return (size_t)XXH3_64bits(canon, strlen(canon)) & (PAGE_INDEX_SIZE - 1);
}

/* Index a feed page by its canonical URL. -ENOMEM leaves it unindexed: it may then be
 * fetched twice, which the store absorbs. */
static int
page_index(fetch_web_t *w, struct job *j)
{
    if (w->pages_by_canon == NULL &&
        (w->pages_by_canon = calloc(PAGE_INDEX_SIZE, sizeof *w->pages_by_canon)) == NULL)
        return -ENOMEM;
    struct job **b = &w->pages_by_canon[page_bucket(j->canon)];
    j->fnext = *b;
    *b = j;
    j->indexed = 1;
    return 0;
}

static void
page_unindex(fetch_web_t *w, struct job *j)
{
    if (!j->indexed)
        return;
    for (struct job **p = &w->pages_by_canon[page_bucket(j->canon)]; *p; p = &(*p)->fnext)
        if (*p == j) {
            *p = j->fnext;
            break;
        }
    j->indexed = 0;
}

static void
job_free(struct job *j)
{
    fetch_web_t *w = j->w;
    page_unindex(w, j);
    if (j->prev)
        j->prev->next = j->next;
    else if (w->jobs == j)
        w->jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    if (j->type == JOB_PAGE)
        w->n_pages--;
    free(j->url);
    free(j->canon);
    free(j->path);
    free(j);
}

/* A job for url; pages also get their canonical URL and path. canon, when not NULL, is
 * url's canonical form already computed, and the job takes ownership of it. NULL on ENOMEM or a
 * bad URL (canon freed then too). */
static struct job *
job_new_canon(fetch_web_t *w, enum job_type type, const char *url, char *canon)
{
    struct job *j = calloc(1, sizeof *j);
    char *origin = NULL;
    if (j == NULL) {
        free(canon);
        return NULL;
    }
    j->type = type;
    j->w = w;
    j->next = w->jobs;
    if (w->jobs)
        w->jobs->prev = j;
    w->jobs = j;
    if (type == JOB_PAGE)
        w->n_pages++;
    if ((j->url = strdup(url)) == NULL || (canon == NULL && nw_url_canonical(url, &canon) < 0) ||
        split_url(canon, &origin, &j->path) < 0 || (j->h = host_get(w, origin)) == NULL) {
        free(canon);
        free(origin);
        job_free(j);
        return NULL;
    }
    j->canon = canon;
    free(origin);
    return j;
}

static struct job *
job_new(fetch_web_t *w, enum job_type type, const char *url)
{
    return job_new_canon(w, type, url, NULL);
}

static void
enqueue(struct job *j, int front)
{
    struct host *h = j->h;
    if (front) {
        j->qnext = h->head;
        h->head = j;
        if (h->tail == NULL)
            h->tail = j;
    } else {
        j->qnext = NULL;
        if (h->tail)
            h->tail->qnext = j;
        else
            h->head = j;
        h->tail = j;
    }
}

static struct job *
dequeue(struct host *h)
{
    struct job *j = h->head;
    h->head = j->qnext;
    if (h->head == NULL)
        h->tail = NULL;
    j->qnext = NULL;
    return j;
}

/* A feed page for canon is queued or being fetched (pages asked for over the API are not
 * indexed: each request gets its own answer). */
static int
in_flight(const fetch_web_t *w, const char *canon)
{
    if (w->pages_by_canon == NULL)
        return 0;
    for (const struct job *j = w->pages_by_canon[page_bucket(canon)]; j; j = j->fnext)
        if (strcmp(j->canon, canon) == 0)
            return 1;
    return 0;
}

/* ---- outcomes ---- */

static void
count(const char *name, const char *reason)
{
    const char *help = strcmp(name, "nw_fetch_web_polls_total") == 0 ? "feed polls by outcome"
                       : strcmp(name, "nw_fetch_web_pages_total") == 0
                           ? "pages fetched from the web by outcome"
                           : "feed items seen in polls by outcome";
    nw_metrics_reason(name, reason, help);
}

static void
feed_settled(fetch_web_t *w, struct feed *f)
{
    if (--f->pending > 0 || f->busy == 0)
        return;
    f->busy = 0;
    if (f->incomplete || (!f->new_etag && !f->new_lm))
        return; /* keep the old validators: the next poll sees the items still owed */
    free(f->etag);
    free(f->lm);
    f->etag = f->new_etag;
    f->lm = f->new_lm;
    f->new_etag = f->new_lm = NULL;
    save_validators(w);
}

static void
api_answer(nw_http_req_t *req, int status, const char *reason, const char *message)
{
    nw_http_error(req, status, reason, message, status == 503 ? "Retry-After: 5\r\n" : NULL);
}

/* A page ended without reaching accept. transient: a later poll should try it again. */
static void
page_failed(struct job *j, const char *reason, int status, int transient, const char *message)
{
    fetch_web_t *w = j->w;
    count("nw_fetch_web_pages_total", reason);
    NW_WARN(NULL, "page not ingested: %s url=\"%s\" reason=%s", message, j->url, reason);
    if (j->req)
        api_answer(j->req, status, reason, message);
    if (j->feed) {
        if (transient)
            j->feed->incomplete = 1;
        feed_settled(w, j->feed);
    }
    job_free(j);
}

static void
on_accepted(const fetch_result_t *res, void *arg)
{
    struct job *j = arg;
    fetch_web_t *w = j->w;
    if (res->outcome == FETCH_ACCEPTED || res->outcome == FETCH_REJECTED)
        mark_seen(w, j->canon);
    else if (j->feed)
        j->feed->incomplete = 1;
    count("nw_fetch_web_pages_total", res->reason);
    if (j->req) {
        char *json = fetch_result_json(res);
        if (json)
            nw_http_respond(j->req, res->status, "application/json", json, strlen(json),
                            res->outcome == FETCH_BUSY ? "Retry-After: 1\r\n" : NULL);
        else
            api_answer(j->req, 500, "internal", "out of memory");
        free(json);
    }
    if (j->feed)
        feed_settled(w, j->feed);
    job_free(j);
}

static int
is_html(const char *ct)
{
    if (ct == NULL)
        return 1; /* no type given: let the parser judge */
    size_t n = strcspn(ct, "; \t");
    return (n == 9 && strncasecmp(ct, "text/html", 9) == 0) ||
           (n == 21 && strncasecmp(ct, "application/xhtml+xml", 21) == 0);
}

/* "text/html" plus the response's charset parameter, if any. */
static void
html_type(const char *ct, char *out, size_t n)
{
    const char *cs = ct ? strcasestr(ct, "charset=") : NULL;
    if (cs == NULL) {
        snprintf(out, n, "text/html");
        return;
    }
    cs += 8;
    if (*cs == '"')
        cs++;
    size_t k = strcspn(cs, "\"; \t");
    snprintf(out, n, "text/html; charset=%.*s", (int)(k < 40 ? k : 40), cs);
}

static void
page_done(struct job *j, const nw_httpc_resp_t *r)
{
    fetch_web_t *w = j->w;
    char msg[256];
    if (r->error != NW_HTTPC_OK) {
        nw_httpc_error_t e = r->error;
        int transient = e == NW_HTTPC_TIMEOUT || e == NW_HTTPC_DNS || e == NW_HTTPC_CONNECT ||
                        e == NW_HTTPC_TLS || e == NW_HTTPC_PROTOCOL || e == NW_HTTPC_CANCELLED ||
                        e == NW_HTTPC_INTERNAL;
        int status = e == NW_HTTPC_CANCELLED ? 503
                     : e == NW_HTTPC_TIMEOUT ? 504
                     : transient             ? 502
                                             : 422;
        snprintf(msg, sizeof msg, "fetching the page failed: %s", nw_httpc_reason(e));
        page_failed(j, e == NW_HTTPC_CANCELLED ? "shutting-down" : nw_httpc_reason(e), status,
                    transient, msg);
        return;
    }
    if (r->status < 200 || r->status > 299) {
        int transient = r->status >= 500 || r->status == 429 || r->status == 408;
        snprintf(msg, sizeof msg, "the server answered HTTP %ld", r->status);
        page_failed(j, transient ? "http-unavailable" : "http-error", transient ? 502 : 422,
                    transient, msg);
        return;
    }
    if (!is_html(r->content_type)) {
        snprintf(msg, sizeof msg, "the page is \"%.100s\", not HTML", r->content_type);
        page_failed(j, "not-html", 415, 0, msg);
        return;
    }
    char ct[80];
    html_type(r->content_type, ct, sizeof ct);
    fetch_item_t item = {
        .source = j->req ? "web" : "feed",
        .content_type = ct,
        .body = r->body,
        .len = r->len,
        .url = j->url,
        .headers = r->headers,
        .n_headers = r->n_headers,
    };
    fetch_result_t res;
    if (fetch_accept_submit(w->a, &item, &res, on_accepted, j) == 0)
        on_accepted(&res, j);
}

static void on_part_closed(void *arg);
static void pump(fetch_web_t *w);

/* ---- feed bodies, parsed off the loop ----
 *
 * A feed of 150,000 items is ~30 MB of XML: parsing it and canonicalising every link took the
 * loop for 12-33 s (ASan build), during which /healthz, the API and every other source waited.
 * So the parse and the canonicalisation run on libuv's thread pool (uv_queue_work) over a copy
 * of the body; the work touches nothing but its own struct (libxml2 and uriparser keep their
 * state per call). Back on the loop, the items are checked against the seen-set and queued in
 * slices of ITEM_SLICE per loop turn, so even that part never holds the loop for long. */

#define ITEM_SLICE 2048 /* items checked and queued per loop turn */

struct feed_link {
    char *link;  /* the item's link (or id); NULL when it has none */
    char *canon; /* its canonical URL; NULL when it has none or it is not an http(s) URL */
};

struct feed_work {
    uv_work_t req;
    fetch_web_t *w;
    struct feed *f;
    /* input, owned */
    uint8_t *body;
    size_t len;
    char *url;
    long status;
    char *etag, *lm; /* the response's validators, adopted if the body is a feed */
    /* output of the thread */
    int rc;
    struct feed_link *items;
    size_t n_items, next;
    struct feed_work *next_work; /* in w->works (on the pool) or w->ready (being queued) */
};

static void
feed_work_free(struct feed_work *fw)
{
    if (fw == NULL)
        return;
    for (size_t i = 0; i < fw->n_items; i++) {
        free(fw->items[i].link);
        free(fw->items[i].canon);
    }
    free(fw->items);
    free(fw->body);
    free(fw->url);
    free(fw->etag);
    free(fw->lm);
    free(fw);
}

static void
unlink_work(struct feed_work **list, struct feed_work *fw)
{
    for (struct feed_work **p = list; *p; p = &(*p)->next_work)
        if (*p == fw) {
            *p = fw->next_work;
            break;
        }
    fw->next_work = NULL;
}

/* On a pool thread: parse the body, keep each item's link and its canonical URL. */
static void
feed_work_run(uv_work_t *req)
{
    struct feed_work *fw = req->data;
    nw_feed_t *feed = NULL;
    fw->rc = nw_feed_parse(fw->body, fw->len, fw->url, &feed);
    free(fw->body); /* up to max-body bytes: not held while the items are queued */
    fw->body = NULL;
    if (fw->rc < 0)
        return;
    if (feed->n_items && (fw->items = calloc(feed->n_items, sizeof *fw->items)) == NULL) {
        fw->rc = -ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < feed->n_items; i++) {
        nw_feed_item_t *it = &feed->items[i];
        struct feed_link *l = &fw->items[fw->n_items++];
        /* Take the string the feed owns rather than copy it. */
        char **src = it->link ? &it->link : &it->id;
        l->link = *src;
        *src = NULL;
        if (l->link && nw_url_canonical(l->link, &l->canon) < 0)
            l->canon = NULL;
    }
done:
    nw_feed_free(&feed);
}

static void
count_n(const char *name, const char *reason, uint64_t n)
{
    if (n == 0)
        return;
    char labels[64];
    snprintf(labels, sizeof labels, "reason=\"%s\"", reason);
    nw_metrics_add(nw_metrics_counter(name, labels, "feed items seen in polls by outcome"), n);
}

/* Check up to ITEM_SLICE items of fw against the seen-set and the pages in flight and queue the
 * new ones. Returns 1 when fw has no items left. */
static int
queue_items(fetch_web_t *w, struct feed_work *fw)
{
    struct feed *f = fw->f;
    uint64_t no_link = 0, seen_n = 0, deferred = 0, fresh = 0;
    size_t end = fw->n_items - fw->next > ITEM_SLICE ? fw->next + ITEM_SLICE : fw->n_items;
    for (; fw->next < end; fw->next++) {
        struct feed_link *l = &fw->items[fw->next];
        if (l->canon == NULL) {
            no_link++;
            continue;
        }
        if (seen_has(w, l->canon) || in_flight(w, l->canon)) {
            seen_n++;
            continue;
        }
        if (w->n_pages >= MAX_QUEUED) {
            deferred++;
            f->incomplete = 1;
            continue;
        }
        struct job *j = job_new_canon(w, JOB_PAGE, l->link, l->canon);
        l->canon = NULL; /* the job's now, or freed */
        if (j == NULL) {
            no_link++;
            continue;
        }
        fresh++;
        j->feed = f;
        f->pending++;
        page_index(w, j);
        enqueue(j, 0);
    }
    count_n("nw_fetch_web_items_total", "no-link", no_link);
    count_n("nw_fetch_web_items_total", "seen", seen_n);
    count_n("nw_fetch_web_items_total", "deferred", deferred);
    count_n("nw_fetch_web_items_total", "new", fresh);
    return fw->next == fw->n_items;
}

/* Every loop turn while parsed feeds wait: one slice of the first one. */
static void
on_items_idle(uv_idle_t *idle)
{
    fetch_web_t *w = idle->data;
    struct feed_work *fw = w->ready;
    if (fw == NULL || w->closing) {
        uv_idle_stop(idle);
        return;
    }
    if (queue_items(w, fw)) {
        w->ready = fw->next_work;
        struct feed *f = fw->f;
        NW_INFO(NULL, "feed polled url=\"%s\" status=%ld items=%zu", f->url, fw->status,
                fw->n_items);
        feed_work_free(fw);
        feed_settled(w, f); /* drops the hold taken in feed_parsed */
    }
    if (w->ready == NULL)
        uv_idle_stop(idle);
    pump(w);
}

/* Back on the loop after the parse (or its cancellation at close). */
static void
feed_parsed(uv_work_t *req, int status)
{
    struct feed_work *fw = req->data;
    fetch_web_t *w = fw->w;
    struct feed *f = fw->f;
    unlink_work(&w->works, fw);
    if (status < 0 || w->closing) {
        feed_work_free(fw);
        on_part_closed(w); /* the hold taken when the work was queued */
        return;
    }
    w->handles--; /* cannot reach 0: the timers are open while not closing */
    if (fw->rc < 0) {
        count("nw_fetch_web_polls_total", fw->rc == -ENOMEM ? "internal" : "not-a-feed");
        NW_WARN(NULL, "feed poll failed url=\"%s\" reason=%s status=%ld", f->url,
                fw->rc == -ENOMEM ? "internal" : "not-a-feed", fw->status);
        f->busy = 0;
        feed_work_free(fw);
        return;
    }
    count("nw_fetch_web_polls_total", "ok");
    free(f->new_etag);
    free(f->new_lm);
    f->new_etag = fw->etag;
    f->new_lm = fw->lm;
    fw->etag = fw->lm = NULL;
    f->incomplete = 0;
    f->pending = 1; /* held while the items are queued */
    struct feed_work **tail = &w->ready;
    while (*tail)
        tail = &(*tail)->next_work;
    *tail = fw;
    uv_idle_start(&w->items_idle, on_items_idle);
}

static void
feed_done(struct job *j, const nw_httpc_resp_t *r)
{
    fetch_web_t *w = j->w;
    struct feed *f = j->feed;
    const char *reason = NULL;
    if (r->error != NW_HTTPC_OK) {
        reason = nw_httpc_reason(r->error);
    } else if (r->status == 304) {
        reason = "not-modified";
    } else if (r->status < 200 || r->status > 299) {
        reason = "http-error";
    } else if (w->closing) {
        reason = "shutting-down";
    } else {
        struct feed_work *fw = calloc(1, sizeof *fw);
        if (fw) {
            fw->w = w;
            fw->f = f;
            fw->status = r->status;
            fw->len = r->len;
            fw->req.data = fw;
            fw->body = malloc(r->len ? r->len : 1);
            fw->url = strdup(r->url ? r->url : f->url);
            if (r->etag && clean_field(r->etag))
                fw->etag = strdup(r->etag);
            if (r->last_modified && clean_field(r->last_modified))
                fw->lm = strdup(r->last_modified);
        }
        if (fw == NULL || fw->body == NULL || fw->url == NULL ||
            (r->etag && clean_field(r->etag) && fw->etag == NULL) ||
            (r->last_modified && clean_field(r->last_modified) && fw->lm == NULL)) {
            feed_work_free(fw);
            reason = "internal";
        } else {
            memcpy(fw->body, r->body, r->len);
            if (uv_queue_work(w->loop, &fw->req, feed_work_run, feed_parsed) < 0) {
                feed_work_free(fw);
                reason = "internal";
            } else {
                w->handles++; /* fetch_web_close waits for feed_parsed */
                fw->next_work = w->works;
                w->works = fw;
                job_free(j);
                return; /* f stays busy until feed_parsed and its items are queued */
            }
        }
    }
    count("nw_fetch_web_polls_total", reason);
    if (strcmp(reason, "not-modified") == 0)
        NW_DEBUG(NULL, "feed not modified url=\"%s\"", f->url);
    else
        NW_WARN(NULL, "feed poll failed url=\"%s\" reason=%s status=%ld", f->url, reason,
                r->status);
    f->busy = 0;
    job_free(j);
}

static void
robots_done(struct job *j, const nw_httpc_resp_t *r)
{
    fetch_web_t *w = j->w;
    struct host *h = j->h;
    long status = r->error == NW_HTTPC_OK ? r->status : 0;
    /* A host we may not connect to: no rules, so its pages go to httpc and fail there with
     * the real reason (forbidden-address) rather than as "robots-unreachable". */
    int refused = r->error == NW_HTTPC_FORBIDDEN_ADDRESS;
    if (refused)
        status = 404;
    nw_robots_t *rb = nw_robots_for_status(status, (const char *)r->body, r->len, ROBOTS_AGENT);
    int64_t now = (int64_t)uv_now(w->loop);
    /* An unreachable robots.txt forbids everything, but only for a minute: expire it early by
     * backdating the entry. */
    if (refused || !(status >= 200 && status < 500))
        now -= w->o.robots_ttl_ms - ROBOTS_RETRY_MS;
    if (rb)
        nw_robots_cache_put(w->robots, h->origin, &rb, now);
    NW_DEBUG(NULL, "robots.txt read origin=\"%s\" status=%ld", h->origin, status);
    h->robots_busy = 0;
    job_free(j);
}

static void
on_response(const nw_httpc_resp_t *r, void *arg)
{
    struct job *j = arg;
    fetch_web_t *w = j->w;
    j->h->active--;
    switch (j->type) {
    case JOB_FEED:
        feed_done(j, r);
        break;
    case JOB_ROBOTS:
        robots_done(j, r);
        break;
    case JOB_PAGE:
        page_done(j, r);
        break;
    }
    pump(w);
}

/* ---- the pump: start what each host may start now ---- */

static void
on_pump_timer(uv_timer_t *t)
{
    pump(t->data);
}

static void
start_job(fetch_web_t *w, struct job *j)
{
    struct feed *f = j->type == JOB_FEED ? j->feed : NULL;
    nw_httpc_req_t req = {
        .url = j->url,
        .etag = f ? f->etag : NULL,
        .last_modified = f ? f->lm : NULL,
    };
    j->h->active++;
    int rc = nw_httpc_get(w->hc, &req, on_response, j);
    if (rc == 0)
        return;
    j->h->active--;
    nw_httpc_resp_t fake = {.error = rc == -ECANCELED ? NW_HTTPC_CANCELLED : NW_HTTPC_INTERNAL,
                            .url = j->url,
                            .body = (const uint8_t *)""};
    switch (j->type) {
    case JOB_FEED:
        feed_done(j, &fake);
        break;
    case JOB_ROBOTS:
        robots_done(j, &fake);
        break;
    case JOB_PAGE:
        page_done(j, &fake);
        break;
    }
}

static void
pump(fetch_web_t *w)
{
    if (w->closing)
        return;
    if (w->pumping) {
        w->pump_again = 1;
        return;
    }
    w->pumping = 1;
    uint64_t wake;
    /* A bounded number of jobs leave the queues per call: when robots.txt forbids a host, each
     * of its (up to MAX_QUEUED) pages fails right here, and 10,000 of them held the loop for
     * seconds. The rest waits for the timer, one loop turn later. */
    int budget = PUMP_BUDGET;
    do {
        w->pump_again = 0;
        uint64_t now = uv_now(w->loop);
        wake = UINT64_MAX;
        for (struct host **hp = &w->hosts; *hp && budget > 0;) {
            struct host *h = *hp;
            while (budget > 0 && h->head && h->active < w->o.host_concurrency) {
                struct job *j = h->head;
                if (j->type == JOB_PAGE) {
                    const nw_robots_t *rb = nw_robots_cache_get(w->robots, h->origin, (int64_t)now);
                    if (rb == NULL) {
                        if (h->robots_busy)
                            break;
                        nw_buf_t u = {0};
                        struct job *rj = NULL;
                        if (nw_buf_printf(&u, "%s/robots.txt", h->origin) == 0)
                            rj = job_new(w, JOB_ROBOTS, (const char *)u.data);
                        nw_buf_release(&u);
                        if (rj == NULL) {
                            budget--;
                            page_failed(dequeue(h), "internal", 500, 1, "out of memory");
                            continue;
                        }
                        rj->h = h;
                        h->robots_busy = 1;
                        enqueue(rj, 1);
                        continue;
                    }
                    if (!nw_robots_allowed(rb, j->path)) {
                        int deny = nw_robots_unreachable(rb);
                        budget--;
                        dequeue(h);
                        page_failed(j, deny ? "robots-unreachable" : "robots-disallowed", 403, deny,
                                    "robots.txt does not allow fetching this page");
                        continue;
                    }
                }
                if (now < h->next_ms) {
                    if (h->next_ms < wake)
                        wake = h->next_ms;
                    break;
                }
                budget--;
                dequeue(h);
                int64_t delay = w->o.host_delay_ms;
                const nw_robots_t *rb = nw_robots_cache_get(w->robots, h->origin, (int64_t)now);
                int64_t cd = nw_robots_crawl_delay_ms(rb);
                if (cd > MAX_CRAWL_DELAY_MS)
                    cd = MAX_CRAWL_DELAY_MS;
                if (cd > delay)
                    delay = cd;
                h->next_ms = now + (uint64_t)delay;
                start_job(w, j);
            }
            if (h->head == NULL && h->active == 0 && !h->robots_busy && now >= h->next_ms) {
                *hp = h->next;
                free(h->origin);
                free(h);
                continue;
            }
            hp = &h->next;
        }
    } while (w->pump_again && budget > 0);
    w->pumping = 0;
    if (budget <= 0)
        wake = uv_now(w->loop);
    if (wake != UINT64_MAX) {
        uint64_t now = uv_now(w->loop);
        uv_timer_start(&w->pump_timer, on_pump_timer, wake > now ? wake - now : 0, 0);
    }
}

/* ---- polling ---- */

static void
on_poll_timer(uv_timer_t *t)
{
    fetch_web_t *w = t->data;
    rotate_seen_when_due(w);
    for (size_t i = 0; i < w->n_feeds; i++) {
        struct feed *f = &w->feeds[i];
        if (f->busy)
            continue; /* the last poll's pages are still being fetched */
        struct job *j = job_new(w, JOB_FEED, f->url);
        if (j == NULL)
            continue;
        j->feed = f;
        f->busy = 1;
        f->pending = 0;
        enqueue(j, 0);
    }
    pump(w);
}

/* ---- POST /v1/urls ---- */

static void
on_post_url(nw_http_req_t *req, void *arg)
{
    fetch_web_t *w = arg;
    if (w->closing || w->a->closed) {
        api_answer(req, 503, "shutting-down", "fetch is shutting down");
        return;
    }
    json_error_t err;
    json_t *doc = json_loadb((const char *)req->body, req->body_len, 0, &err);
    const char *url = json_string_value(json_object_get(doc, "url"));
    char *canon = NULL;
    if (url == NULL) {
        api_answer(req, 400, "bad-json", "expected {\"url\": \"http(s)://...\"}");
    } else if (nw_url_canonical(url, &canon) < 0) {
        api_answer(req, 400, "bad-url", "the url is not an absolute http(s) URL");
    } else if (w->n_pages >= MAX_QUEUED) {
        api_answer(req, 503, "busy", "too many pages waiting to be fetched");
    } else {
        struct job *j = job_new(w, JOB_PAGE, url);
        if (j == NULL) {
            api_answer(req, 500, "internal", "out of memory");
        } else {
            j->req = req;
            enqueue(j, 0);
            pump(w);
        }
    }
    free(canon);
    json_decref(doc);
}

int
fetch_web_api_start(fetch_web_t *w, nw_http_t *h)
{
    return nw_http_route(h, "POST", "/v1/urls", on_post_url, w);
}

/* ---- lifecycle ---- */

static void
free_web(fetch_web_t *w)
{
    for (size_t i = 0; i < w->n_feeds; i++) {
        struct feed *f = &w->feeds[i];
        free(f->url);
        free(f->etag);
        free(f->lm);
        free(f->new_etag);
        free(f->new_lm);
    }
    free(w->feeds);
    while (w->hosts) {
        struct host *h = w->hosts;
        w->hosts = h->next;
        free(h->origin);
        free(h);
    }
    set_release(&w->seen);
    set_release(&w->seen_old);
    if (w->seen_fd >= 0)
        close(w->seen_fd);
    nw_robots_cache_free(&w->robots);
    free(w->pages_by_canon);
    free(w->seen_path);
    free(w->seen_old_path);
    free(w->feeds_path);
    free(w);
}

static void
on_part_closed(void *arg)
{
    fetch_web_t *w = arg;
    if (--w->handles > 0)
        return;
    void (*cb)(void *) = w->close_cb;
    void *cb_arg = w->close_arg;
    free_web(w);
    if (cb)
        cb(cb_arg);
}

static void
on_timer_closed(uv_handle_t *h)
{
    on_part_closed(h->data);
}

fetch_web_t *
fetch_web_new(uv_loop_t *loop, const fetch_web_opts_t *o, fetch_accept_t *a, char *err,
              size_t errlen)
{
    fetch_web_t *w = calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    w->loop = loop;
    w->a = a;
    w->o = *o;
    w->seen_fd = -1;
    if (w->o.host_concurrency < 1)
        w->o.host_concurrency = 1;
    nw_buf_t p = {0}, q = {0}, r = {0};
    int rc = nw_mkdirs(o->state_dir, 0755);
    if (rc < 0) {
        snprintf(err, errlen, "cannot create the state dir \"%s\": %s", o->state_dir,
                 strerror(-rc));
        goto fail;
    }
    if (nw_buf_printf(&p, "%s/seen.log", o->state_dir) < 0 ||
        nw_buf_printf(&q, "%s/feeds.tsv", o->state_dir) < 0 ||
        nw_buf_printf(&r, "%s/seen.old", o->state_dir) < 0)
        goto fail;
    size_t n;
    w->seen_path = (char *)nw_buf_steal(&p, &n);
    w->feeds_path = (char *)nw_buf_steal(&q, &n);
    w->seen_old_path = (char *)nw_buf_steal(&r, &n);
    nw_httpc_opts_t ho = {
        .max_body = o->max_body,
        .connect_timeout_ms = o->connect_timeout_ms,
        .timeout_ms = o->timeout_ms,
        .allow_private = o->allow_private,
    };
    if ((w->robots = nw_robots_cache_new(o->robots_ttl_ms, 4096)) == NULL)
        goto fail;
    if (load_feed_list(w, o->feeds, err, errlen) < 0)
        goto fail;
    if ((rc = load_validators(w)) < 0 || (rc = load_seen(w)) < 0) {
        snprintf(err, errlen, "cannot read the web state in \"%s\": %s", o->state_dir,
                 strerror(-rc));
        goto fail;
    }
    if ((w->hc = nw_httpc_new(loop, &ho)) == NULL)
        goto fail;
    uv_timer_init(loop, &w->poll_timer);
    uv_timer_init(loop, &w->pump_timer);
    uv_idle_init(loop, &w->items_idle);
    w->poll_timer.data = w->pump_timer.data = w->items_idle.data = w;
    w->handles = 4;
    xmlInitParser(); /* once, on this thread, before any feed is parsed on the pool */
    if (w->n_feeds)
        uv_timer_start(&w->poll_timer, on_poll_timer, 0, (uint64_t)o->poll_ms);
    NW_INFO(NULL, "web source started feeds=%zu seen=%zu+%zu state=%s", w->n_feeds, w->seen.n,
            w->seen_old.n, o->state_dir);
    return w;
fail:
    nw_buf_release(&p);
    nw_buf_release(&q);
    nw_buf_release(&r);
    free_web(w);
    return NULL;
}

void
fetch_web_close(fetch_web_t *w, void (*cb)(void *arg), void *arg)
{
    if (w == NULL || w->closing)
        return;
    w->close_cb = cb;
    w->close_arg = arg;
    /* Requests in flight are cancelled by the client's close: their callbacks answer API
     * callers 503. Then whatever still waits in a host queue. */
    nw_httpc_t *hc = w->hc;
    w->hc = NULL;
    w->closing = 1;
    nw_httpc_close(hc, on_part_closed, w);
    for (struct host *h = w->hosts; h; h = h->next) {
        while (h->head) {
            struct job *j = dequeue(h);
            if (j->type == JOB_PAGE)
                page_failed(j, "shutting-down", 503, 1, "fetch is shutting down");
            else
                job_free(j);
        }
    }
    /* Parses not yet started are cancelled; one under way finishes on its thread, and
     * feed_parsed then releases its hold on w. Parsed feeds not fully queued are dropped: their
     * validators were not adopted, so the next run polls them again. */
    for (struct feed_work *fw = w->works; fw; fw = fw->next_work)
        uv_cancel((uv_req_t *)&fw->req);
    while (w->ready) {
        struct feed_work *fw = w->ready;
        w->ready = fw->next_work;
        feed_work_free(fw);
    }
    uv_close((uv_handle_t *)&w->poll_timer, on_timer_closed);
    uv_close((uv_handle_t *)&w->pump_timer, on_timer_closed);
    uv_close((uv_handle_t *)&w->items_idle, on_timer_closed);
}
