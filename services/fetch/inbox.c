/* inbox.c: the directory source. Every regular file that appears in inbox-dir becomes one
 * article (symbolic links, FIFOs, devices and sockets are refused into rejected/); once its raw
 * message is durable in the spool and was handed to the broker the file moves to inbox-dir/done/,
 * and a file that is refused (binary, invalid UTF-8, too large, unreadable) moves to
 * inbox-dir/rejected/ once its dead letter was. A file that is pushed back (broker queue full,
 * spool over spool-max or unwritable) stays where it is and is tried again when the queue takes
 * messages again, so a full broker stops the inbox instead of losing files.
 *
 * A scan's files share one spool fsync; the next scan starts only once every file of the last
 * one was answered, so a file still waiting is never read twice.
 *
 * Writers must not write in place: a file is read as soon as it is seen. Write it elsewhere on
 * the same file system (or as a dot-file or *.tmp inside the inbox, which are ignored) and
 * rename(2) it in; the rename is atomic, so fetch sees either nothing or the whole file.
 *
 * Files are found by uv_fs_event (inotify) plus a scan at start and a slow periodic rescan,
 * because fs events can be missed (queue overflow, network file systems). Files are read
 * synchronously on the loop: they are local and capped at max-body, and a scan handles at most
 * SCAN_BATCH files or SCAN_BYTES of them before yielding to the loop. */
#include "fetch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "newswire/log.h"
#include "newswire/parse.h"
#include "newswire/util.h"

#define RESCAN_MS 2000    /* the safety net for missed fs events */
#define EVENT_DELAY_MS 10 /* coalesce a burst of fs events into one scan */
#define SCAN_BATCH 64
/* A scan's files wait in memory, encoded, for their fsync, and then in ZeroMQ until the broker
 * took them, and the next scan waits for the last one: 64 HTML pages (~9 MB) per scan made
 * fetch touch fresh memory for each scan (at ~13 us a 4 KB page fault on the development
 * machine, fetch's biggest cost per page after the id). Past this many bytes the scan
 * ends, so a burst of pages goes in groups of a dozen or so that reuse one another's memory
 * (one fsync each, cheap beside that); a group of 64 wire articles is ~0.3 MB and unchanged. */
#define SCAN_BYTES ((size_t)2 << 20)

struct fetch_inbox {
    uv_loop_t *loop;
    fetch_accept_t *a;
    char *dir, *done, *rejected;
    uv_fs_event_t ev;
    uv_timer_t timer; /* the next scan: soon after an event, else the periodic rescan */
    int soon;         /* a scan is due within EVENT_DELAY_MS */
    int blocked;      /* a push answered -EAGAIN: wait for fetch_inbox_writable */
    unsigned waiting; /* files of the last scan whose outcome waits for the spool */
    int closing;
    int handles_open;
    void (*close_cb)(void *arg);
    void *close_arg;
};

static void on_timer(uv_timer_t *t);

static void
schedule(fetch_inbox_t *in, uint64_t ms)
{
    if (in->closing)
        return;
    /* While blocked only the periodic rescan runs: a safety net should a writable
     * notification never come; its first push re-arms the notification anyway. */
    if (in->blocked && ms < RESCAN_MS)
        return;
    if (ms < RESCAN_MS) {
        if (in->soon)
            return; /* already due; restarting would postpone it under a stream of events */
        in->soon = 1;
    }
    uv_timer_start(&in->timer, on_timer, ms, 0);
}

static int
ignored(const char *name)
{
    size_t n = strlen(name);
    return name[0] == '.' || (n >= 4 && strcmp(name + n - 4, ".tmp") == 0);
}

/* Move dir/name into to/ without replacing an earlier file of the same name there. */
static int
move_to(fetch_inbox_t *in, const char *name, const char *to)
{
    char src[4096], dst[4096];
    snprintf(src, sizeof src, "%s/%s", in->dir, name);
    snprintf(dst, sizeof dst, "%s/%s", to, name);
    if (renameat2(AT_FDCWD, src, AT_FDCWD, dst, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno == EEXIST)
        snprintf(dst, sizeof dst, "%s/%s.%lld", to, name, (long long)nw_now_ms());
    if (rename(src, dst) == 0)
        return 0;
    int rc = -errno;
    /* The item was handed on already; leaving the file would hand it on again each scan. */
    if (unlink(src) == 0) {
        NW_WARN(NULL, "inbox: cannot move \"%s\" to \"%s\" (%s); removed it", name, to,
                strerror(-rc));
        return 0;
    }
    NW_ERROR(NULL, "inbox: cannot move or remove \"%s\": %s", src, strerror(-rc));
    return rc;
}

/* Move or keep a file once its outcome is known. Returns 0, or -EAGAIN when pushed back. */
static int
settle(fetch_inbox_t *in, const char *name, const fetch_result_t *res)
{
    char shown[256];
    switch (res->outcome) {
    case FETCH_ACCEPTED:
        move_to(in, name, in->done);
        break;
    case FETCH_REJECTED:
        move_to(in, name, in->rejected);
        break;
    case FETCH_BUSY:
        return -EAGAIN;
    case FETCH_FAILED:
        /* Left in place: the periodic rescan tries again. */
        snprintf(shown, sizeof shown, "%s",
                 nw_utf8_valid((const uint8_t *)name, strlen(name)) ? name : "(non-UTF-8 name)");
        NW_ERROR(res->id[0] ? res->id : NULL, "inbox: \"%s\" not handed on: %s", shown,
                 res->message);
        break;
    }
    return 0;
}

/* A file whose outcome waited for the spool. */
struct waiting_file {
    fetch_inbox_t *in;
    char name[];
};

static void
on_settled(const fetch_result_t *res, void *arg)
{
    struct waiting_file *w = arg;
    fetch_inbox_t *in = w->in;
    if (settle(in, w->name, res) == -EAGAIN && !in->blocked) {
        /* The spool could not take it (disk trouble): the file stays for the next scan. */
        NW_INFO(NULL, "inbox: \"%s\" not accepted (%s); pausing", w->name, res->reason);
        in->blocked = 1;
    }
    free(w);
    if (--in->waiting == 0)
        schedule(in, in->blocked ? RESCAN_MS : 0);
}

static const char *
file_type(mode_t m)
{
    return S_ISLNK(m)    ? "a symbolic link"
           : S_ISFIFO(m) ? "a FIFO"
           : S_ISCHR(m)  ? "a character device"
           : S_ISBLK(m)  ? "a block device"
           : S_ISSOCK(m) ? "a socket"
                         : "not a file";
}

/* Handle one file; adds the bytes read to *bytes. Returns 0 to go on, -EAGAIN when pushed
 * back. */
static int
process(fetch_inbox_t *in, const char *name, size_t *bytes)
{
    char path[4096], msg[256];
    uint8_t *body = NULL;
    size_t len = 0;
    struct stat st;
    fetch_result_t res = {0};
    int rc = 0, pending = 0, fd = -1, open_err = 0;
    struct waiting_file *w = NULL;

    if ((size_t)snprintf(path, sizeof path, "%s/%s", in->dir, name) >= sizeof path)
        return 0;
    /* Only regular files are articles (issue 16.6). Links are not followed: a symlink to
     * /etc/passwd would otherwise be ingested and served. The type is read without following
     * links, and checked again on the descriptor because the name can be swapped for a FIFO
     * or a link in between; O_NONBLOCK keeps that open from hanging on a FIFO, O_NOFOLLOW
     * from following a link. Subdirectories (done/, rejected/) are left alone. */
    if (lstat(path, &st) < 0 || S_ISDIR(st.st_mode))
        return 0;
    if (S_ISREG(st.st_mode)) {
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        open_err = fd < 0 ? errno : 0;
        if (open_err == ENOENT)
            return 0;
        if (open_err == ELOOP)
            st.st_mode = S_IFLNK;
        else if (fd >= 0 && fstat(fd, &st) < 0)
            st.st_mode = 0;
    }
    w = malloc(sizeof *w + strlen(name) + 1);
    if (w == NULL) {
        rc = 0; /* the periodic rescan tries again */
        goto out;
    }
    w->in = in;
    strcpy(w->name, name);

    /* File names are bytes; the wire's strings are UTF-8. */
    const char *uname = nw_utf8_valid((const uint8_t *)name, strlen(name)) ? name : NULL;
    if (!S_ISREG(st.st_mode)) {
        snprintf(msg, sizeof msg, "not a regular file but %s: only regular files are read",
                 file_type(st.st_mode));
        pending = fetch_accept_reject(in->a, "inbox", NULL, uname, NULL, 0, 400,
                                      "not-a-regular-file", msg, &res, on_settled, w);
        goto settled;
    }
    rc = fd >= 0 ? nw_read_fd(fd, in->a->max_body, &body, &len) : -open_err;
    *bytes += len;
    if (rc == -ENOENT) {
        rc = 0;
        goto out;
    }
    if (rc == -EFBIG) {
        snprintf(msg, sizeof msg, "file of %lld bytes exceeds max-body (%zu bytes)",
                 (long long)st.st_size, in->a->max_body);
        pending = fetch_accept_reject(in->a, "inbox", NULL, uname, NULL, 0, 413, "body-too-large",
                                      msg, &res, on_settled, w);
    } else if (rc < 0) {
        snprintf(msg, sizeof msg, "cannot read the file: %s", strerror(-rc));
        pending = fetch_accept_reject(in->a, "inbox", NULL, uname, NULL, 0, 400, "unreadable-file",
                                      msg, &res, on_settled, w);
    } else {
        const char *ct = len ? nw_parse_sniff(name, body, len) : "text/plain";
        if (ct == NULL) {
            pending = fetch_accept_reject(
                in->a, "inbox", NULL, uname, body, len, 415, "binary-file",
                "the file is binary, not text, HTML or JSON", &res, on_settled, w);
        } else {
            nw_kv_t headers[1] = {{(char *)"name", (char *)uname}};
            fetch_item_t item = {
                .source = "inbox",
                .content_type = ct,
                .body = body,
                .len = len,
                .name = uname,
                .headers = uname ? headers : NULL,
                .n_headers = uname ? 1 : 0,
            };
            pending = fetch_accept_submit(in->a, &item, &res, on_settled, w);
        }
    }
settled:
    if (pending == FETCH_PENDING) {
        in->waiting++;
        w = NULL; /* on_settled owns it */
        rc = 0;
        goto out;
    }
    rc = settle(in, name, &res);
out:
    if (fd >= 0)
        close(fd);
    free(w);
    free(body);
    return rc;
}

static void
scan(fetch_inbox_t *in)
{
    if (in->waiting > 0)
        return; /* the last of them schedules the next scan */
    DIR *d = opendir(in->dir);
    int n = 0, more = 0, was_blocked = in->blocked;
    size_t bytes = 0;
    in->blocked = 0; /* this scan's first push tells whether the queue is still full */
    if (d == NULL) {
        /* Reported (logged once) as the source's problem; the rescan is its retry. */
        char why[300];
        snprintf(why, sizeof why, "cannot open \"%s\": %s", in->dir, strerror(errno));
        fetch_sources_problem(in->a->sources, "inbox", why);
        schedule(in, RESCAN_MS);
        return;
    }
    fetch_sources_problem(in->a->sources, "inbox", NULL);
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (ignored(e->d_name) || e->d_type == DT_DIR)
            continue;
        if (n == SCAN_BATCH || bytes >= SCAN_BYTES) {
            more = 1;
            break;
        }
        n++;
        if (process(in, e->d_name, &bytes) == -EAGAIN) {
            if (!was_blocked)
                NW_INFO(NULL, "inbox: broker queue full or spool pushing back, pausing until it "
                              "drains");
            in->blocked = 1;
            break;
        }
    }
    closedir(d);
    if (in->waiting == 0)
        schedule(in, more ? 0 : RESCAN_MS);
}

static void
on_timer(uv_timer_t *t)
{
    fetch_inbox_t *in = t->data;
    in->soon = 0;
    scan(in);
}

static void
on_fs_event(uv_fs_event_t *ev, const char *filename, int events, int status)
{
    (void)events;
    fetch_inbox_t *in = ev->data;
    if (status < 0)
        NW_WARN(NULL, "inbox: watch error on \"%s\": %s", in->dir, uv_strerror(status));
    if (filename && ignored(filename))
        return;
    schedule(in, EVENT_DELAY_MS);
}

static char *
join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static void
free_inbox(fetch_inbox_t *in)
{
    free(in->dir);
    free(in->done);
    free(in->rejected);
    free(in);
}

fetch_inbox_t *
fetch_inbox_new(uv_loop_t *loop, const char *dir, fetch_accept_t *a, char *err, size_t errlen)
{
    fetch_inbox_t *in = calloc(1, sizeof *in);
    int rc = -ENOMEM;
    if (in == NULL)
        return NULL;
    in->loop = loop;
    in->a = a;
    in->dir = strdup(dir);
    in->done = join(dir, "done");
    in->rejected = join(dir, "rejected");
    if (!in->dir || !in->done || !in->rejected)
        goto err;
    if ((rc = nw_mkdirs(in->done, 0755)) < 0 || (rc = nw_mkdirs(in->rejected, 0755)) < 0) {
        snprintf(err, errlen, "cannot create \"%s\" and its done/ and rejected/: %s", in->dir,
                 strerror(-rc));
        goto err;
    }
    uv_fs_event_init(loop, &in->ev);
    uv_timer_init(loop, &in->timer);
    in->ev.data = in->timer.data = in;
    in->handles_open = 2;
    rc = uv_fs_event_start(&in->ev, on_fs_event, in->dir, 0);
    if (rc < 0) /* the periodic rescan still finds every file, only later */
        NW_WARN(NULL, "inbox: cannot watch \"%s\" (%s); rescanning every %d ms", in->dir,
                uv_strerror(rc), RESCAN_MS);
    schedule(in, 0); /* the initial scan: files that arrived while we were down */
    NW_INFO(NULL, "inbox: watching \"%s\"", in->dir);
    return in;
err:
    free_inbox(in);
    return NULL;
}

void
fetch_inbox_writable(fetch_inbox_t *in)
{
    if (in == NULL || !in->blocked)
        return;
    in->blocked = 0;
    schedule(in, 0);
}

static void
on_closed(uv_handle_t *h)
{
    fetch_inbox_t *in = h->data;
    if (--in->handles_open > 0)
        return;
    void (*cb)(void *) = in->close_cb;
    void *arg = in->close_arg;
    free_inbox(in);
    if (cb)
        cb(arg);
}

void
fetch_inbox_close(fetch_inbox_t *in, void (*cb)(void *arg), void *arg)
{
    if (in == NULL)
        return;
    in->closing = 1;
    in->close_cb = cb;
    in->close_arg = arg;
    uv_fs_event_stop(&in->ev);
    uv_timer_stop(&in->timer);
    uv_close((uv_handle_t *)&in->ev, on_closed);
    uv_close((uv_handle_t *)&in->timer, on_closed);
}
