/* up.c: `newswire up`, the whole system on one machine. A small supervisor on its own libuv
 * loop: it starts the broker, the store, N enrich and N parse workers and fetch as child
 * processes (uv_spawn), restarts any child that exits (backoff 200 ms doubling to 5 s, reset
 * once a child ran 10 s), and on SIGINT/SIGTERM stops them in order: every service first, so
 * they can drain through the still-running broker, then the broker; whatever is left after
 * 10 s gets SIGKILL.
 *
 * Each child's pid is kept in <data-dir>/run/<name>.pid (broker, store, enrich-1, parse-2,
 * fetch; up.pid for the supervisor) so people and tests can find them. Children inherit
 * stdout and stderr, so their logfmt lines interleave with ours (one write per line keeps them
 * whole). Children run in their own session: a Ctrl-C in the terminal reaches only the
 * supervisor, which then stops them in order instead of every process at once.
 *
 * Before starting anything it binds, for a moment, every TCP port the children will listen on
 * (the broker's eight, fetch's API and ingest, query, the metrics ports) and refuses to start,
 * naming the port and its option, when one is in use: a child that cannot bind would only
 * exit and be restarted forever. A child that keeps failing anyway (GIVE_UP_AFTER exits with
 * an error status in a row, none after running BACKOFF_RESET_MS) makes up stop everything and
 * exit 1 with its name, rather than restart it forever. */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "newswire/config.h"
#include "newswire/curve.h"
#include "newswire/log.h"
#include "newswire/stage.h"
#include "newswire/util.h"

#define BACKOFF_MIN_MS 200
#define BACKOFF_MAX_MS 5000
#define BACKOFF_RESET_MS 10000 /* a child that ran this long starts over at BACKOFF_MIN_MS */
#define STOP_TIMEOUT_MS 10000  /* then SIGKILL */
#define MAX_WORKERS 64
#define MAX_ARGS 32
#define GIVE_UP_AFTER 8 /* failed runs in a row of one child before up stops everything */

typedef struct up_cfg {
    const char *data_dir;
    const char *db;
    const char *broker;
    const char *http;
    const char *query;
    const char *ingest;
    int64_t parse;
    int64_t enrich;
    const char *samples;
    const char *bin_dir;
    int64_t metrics_port;
    const char *log_level;
    const char *log_format;
    const char *token_file;
    const char *keys;
    int insecure;
} up_cfg_t;

static const nw_cfg_opt_t up_opts[] = {
    {"data-dir", NW_CFG_STR, "var", offsetof(up_cfg_t, data_dir),
     "data directory: the database, inbox/ and run/ (pid files)", 0, 0},
    {"db", NW_CFG_STR, "", offsetof(up_cfg_t, db),
     "database for the store and query services (default <data-dir>/newswire.db; a "
     "postgresql:// URI selects PostgreSQL)",
     0, 0},
    {"broker", NW_CFG_STR, "tcp://127.0.0.1:5550", offsetof(up_cfg_t, broker),
     "broker base endpoint (it uses this port and the next 7); PRIMARY,BACKUP runs a broker pair "
     "here (each then also uses port + 8)",
     0, 0},
    {"http", NW_CFG_STR, "127.0.0.1:8080", offsetof(up_cfg_t, http),
     "listen address of the fetch HTTP API (POST /v1/articles)", 0, 0},
    {"query", NW_CFG_STR, "127.0.0.1:8081", offsetof(up_cfg_t, query),
     "listen address of the query API and SSE stream (newswire-query); \"\" for none", 0, 0},
    {"ingest", NW_CFG_STR, "tcp://127.0.0.1:5549", offsetof(up_cfg_t, ingest),
     "fetch's ZeroMQ ingest endpoint (proto/ingest.md); \"\" for none", 0, 0},
    {"parse", NW_CFG_INT, "2", offsetof(up_cfg_t, parse), "number of parse workers", 1,
     MAX_WORKERS},
    {"enrich", NW_CFG_INT, "2", offsetof(up_cfg_t, enrich), "number of enrich workers", 1,
     MAX_WORKERS},
    {"samples", NW_CFG_STR, "", offsetof(up_cfg_t, samples),
     "directory whose files are copied into the inbox once at start", 0, 0},
    {"bin-dir", NW_CFG_STR, NULL, offsetof(up_cfg_t, bin_dir),
     "where newswire-<svc> are (default: beside newswire, ../<svc>/, PATH)", 0, 0},
    {"metrics-port", NW_CFG_INT, "9100", offsetof(up_cfg_t, metrics_port),
     "child i serves /metrics on 127.0.0.1:<port+i> (broker 0...); 0: off", 0, 65000},
    {"log-level", NW_CFG_STR, "info", offsetof(up_cfg_t, log_level),
     "debug, info, warn or error; passed on to every child", 0, 0},
    {"log-format", NW_CFG_STR, "logfmt", offsetof(up_cfg_t, log_format),
     "logfmt or json, for up and every service it starts", 0, 0},
    {"token-file", NW_CFG_STR, "", offsetof(up_cfg_t, token_file),
     "token file (`newswire token new`) for the fetch and query APIs; needed when --http or "
     "--query is not loopback",
     0, 0},
    {"keys", NW_CFG_STR, "", offsetof(up_cfg_t, keys),
     "key set from `newswire keygen --set DIR`: CURVE with roles on the bus; needed when "
     "--broker or --ingest is not loopback",
     0, 0},
    {"insecure", NW_CFG_BOOL, "0", offsetof(up_cfg_t, insecure),
     "let every child use plain ZeroMQ off loopback (no --keys); loudly logged", 0, 0},
    NW_CFG_END,
};

typedef struct up up_t;

typedef struct child {
    up_t *up;
    char name[32]; /* "parse-1": log name and pid file name */
    char *argv[MAX_ARGS + 1];
    uv_process_t proc;
    uv_timer_t restart;
    int proc_open;    /* proc is initialised and not yet closed */
    int exited;       /* the current process has exited (its handle may still be closing) */
    uint64_t started; /* uv_now at spawn */
    uint64_t backoff; /* next restart delay */
    int64_t exit_status;
    int term_signal;
    unsigned failures; /* exits with an error status in a row, each after a short run */
} child_t;

struct up {
    uv_loop_t loop;
    uv_signal_t sigint, sigterm;
    uv_timer_t kill_timer;
    child_t *kids;
    size_t n_kids;
    child_t *broker;  /* kids[0], stopped last (with the backup, kids[1], if any) */
    size_t n_brokers; /* 2 for --broker PRIMARY,BACKUP: a broker pair on this machine */
    int stopping;
    int broker_stopping;
    int finished;
    int gave_up; /* a child kept failing: exit 1 */
    char run_dir[PATH_MAX];
};

/* ---- locating executables -------------------------------------------------------------- */

static int
is_exe(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* Find newswire-<svc>: in dir, in dir/../<svc>/ (a build tree keeps each service in its own
 * directory), then on PATH. Returns a malloc'd path or NULL. */
static char *
find_service(const char *dir, const char *svc)
{
    char path[PATH_MAX];
    if (dir) {
        snprintf(path, sizeof path, "%s/newswire-%s", dir, svc);
        if (is_exe(path))
            return realpath(path, NULL);
        snprintf(path, sizeof path, "%s/../%s/newswire-%s", dir, svc, svc);
        if (is_exe(path))
            return realpath(path, NULL);
    }
    const char *env = getenv("PATH");
    while (env && *env) {
        size_t n = strcspn(env, ":");
        snprintf(path, sizeof path, "%.*s/newswire-%s", (int)n, n ? env : ".", svc);
        if (is_exe(path))
            return strdup(path);
        env += n + (env[n] == ':');
    }
    return NULL;
}

/* ---- small file helpers ---------------------------------------------------------------- */

/* Write a small file whole: to a temporary name, then rename, so a reader never sees half. */
static int
write_file_atomic(const char *path, const void *data, size_t len)
{
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    int rc = 0;
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            rc = -errno;
            break;
        }
        p += w;
        len -= (size_t)w;
    }
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -errno;
    if (rc < 0)
        unlink(tmp);
    return rc;
}

static void
pid_path(const up_t *u, const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s/%s.pid", u->run_dir, name);
}

static void
pid_write(const up_t *u, const char *name, int pid)
{
    char path[PATH_MAX + 64], text[32];
    pid_path(u, name, path, sizeof path);
    int len = snprintf(text, sizeof text, "%d\n", pid);
    int rc = write_file_atomic(path, text, (size_t)len);
    if (rc < 0)
        NW_WARN(NULL, "cannot write pid file \"%s\": %s", path, strerror(-rc));
}

static void
pid_remove(const up_t *u, const char *name)
{
    char path[PATH_MAX + 64];
    pid_path(u, name, path, sizeof path);
    unlink(path);
}

/* The pid in a pid file when that process is alive, else 0. */
static int
pid_alive(const up_t *u, const char *name)
{
    char path[PATH_MAX + 64], text[32] = "";
    pid_path(u, name, path, sizeof path);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    int pid = fgets(text, sizeof text, f) ? atoi(text) : 0;
    fclose(f);
    return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM) ? pid : 0;
}

static int
skip_hidden(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

/* Copy every regular file of dir into the inbox. Each lands under a hidden temporary name in
 * the inbox's parent first and is renamed in, so fetch never picks up a half-written file.
 * Returns the number copied or -errno. */
static int
copy_samples(const char *dir, const char *data_dir, const char *inbox)
{
    struct dirent **list = NULL;
    int n = scandir(dir, &list, skip_hidden, alphasort), copied = 0, rc = 0;
    if (n < 0)
        return -errno;
    for (int i = 0; i < n; i++) {
        char src[PATH_MAX], tmp[PATH_MAX], dst[PATH_MAX];
        uint8_t *data = NULL;
        size_t len = 0;
        struct stat st;
        const char *f = list[i]->d_name;
        if ((size_t)snprintf(src, sizeof src, "%s/%s", dir, f) >= sizeof src ||
            (size_t)snprintf(tmp, sizeof tmp, "%s/.sample-%s", data_dir, f) >= sizeof tmp ||
            (size_t)snprintf(dst, sizeof dst, "%s/%s", inbox, f) >= sizeof dst) {
            NW_WARN(NULL, "skipping sample \"%s\": path too long", f);
            continue;
        }
        if (stat(src, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        rc = nw_read_file(src, 1ull << 30, &data, &len);
        if (rc == 0)
            rc = write_file_atomic(tmp, data, len);
        if (rc == 0 && rename(tmp, dst) < 0)
            rc = -errno;
        free(data);
        if (rc < 0) {
            NW_WARN(NULL, "cannot copy sample \"%s\" into \"%s\": %s", src, inbox, strerror(-rc));
            break;
        }
        copied++;
    }
    for (int i = 0; i < n; i++)
        free(list[i]);
    free(list);
    return rc < 0 ? rc : copied;
}

/* ---- children -------------------------------------------------------------------------- */

static void advance_stop(up_t *u);
static void on_restart(uv_timer_t *t);
static void begin_stop(up_t *u);

static void
on_proc_close(uv_handle_t *h)
{
    child_t *c = h->data;
    up_t *u = c->up;
    c->proc_open = 0;
    if (u->stopping) {
        advance_stop(u);
        return;
    }
    uint64_t delay = c->backoff;
    c->backoff = c->backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff * 2;
    uv_timer_start(&c->restart, on_restart, delay, 0);
    NW_INFO(NULL, "restarting \"%s\" in %llu ms", c->name, (unsigned long long)delay);
}

static void
on_child_exit(uv_process_t *p, int64_t exit_status, int term_signal)
{
    child_t *c = p->data;
    up_t *u = c->up;
    uint64_t ran = uv_now(&u->loop) - c->started;
    c->exited = 1;
    c->exit_status = exit_status;
    c->term_signal = term_signal;
    pid_remove(u, c->name);
    if (u->stopping) {
        NW_INFO(NULL, "\"%s\" (pid %d) stopped: %s %d", c->name, p->pid,
                term_signal ? "signal" : "status", term_signal ? term_signal : (int)exit_status);
    } else {
        if (ran >= BACKOFF_RESET_MS)
            c->backoff = BACKOFF_MIN_MS;
        /* Killed by a signal is an accident (or a test); an error status after a short run
         * is a child that cannot work, and restarting it forever helps nobody. */
        if (ran >= BACKOFF_RESET_MS || term_signal || exit_status == 0)
            c->failures = 0;
        else
            c->failures++;
        NW_WARN(NULL, "\"%s\" (pid %d) exited after %.1f s: %s %d", c->name, p->pid,
                (double)ran / 1000.0, term_signal ? "signal" : "status",
                term_signal ? term_signal : (int)exit_status);
    }
    uv_close((uv_handle_t *)p, on_proc_close);
    if (!u->stopping && c->failures >= GIVE_UP_AFTER) {
        fprintf(stderr,
                "newswire up: \"%s\" failed %u times in a row (last exit status %d); giving "
                "up and stopping every service (see its log lines above)\n",
                c->name, c->failures, (int)exit_status);
        u->gave_up = 1;
        begin_stop(u);
    }
}

static int
spawn_child(child_t *c)
{
    up_t *u = c->up;
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_INHERIT_FD, .data.fd = 1},
        {.flags = UV_INHERIT_FD, .data.fd = 2},
    };
    uv_process_options_t opts = {
        .exit_cb = on_child_exit,
        .file = c->argv[0],
        .args = c->argv,
        .stdio_count = 3,
        .stdio = stdio,
        .flags = UV_PROCESS_DETACHED, /* own session: terminal signals reach only us */
    };
    memset(&c->proc, 0, sizeof c->proc);
    c->proc.data = c;
    c->exited = 0;
    c->started = uv_now(&u->loop);
    int rc = uv_spawn(&u->loop, &c->proc, &opts);
    c->proc_open = 1;
    if (rc < 0) {
        /* The handle is initialised even on failure; closing it schedules the retry. */
        NW_ERROR(NULL, "cannot start \"%s\" (%s): %s", c->name, c->argv[0], uv_strerror(rc));
        c->exited = 1;
        uv_close((uv_handle_t *)&c->proc, on_proc_close);
        return rc;
    }
    pid_write(u, c->name, c->proc.pid);
    NW_INFO(NULL, "started \"%s\" pid %d", c->name, c->proc.pid);
    return 0;
}

static void
on_restart(uv_timer_t *t)
{
    child_t *c = t->data;
    if (!c->up->stopping)
        spawn_child(c);
}

/* ---- stopping -------------------------------------------------------------------------- */

static void
on_closed_nop(uv_handle_t *h)
{
    (void)h;
}

static void
finish(up_t *u)
{
    if (u->finished)
        return;
    u->finished = 1;
    uv_close((uv_handle_t *)&u->sigint, on_closed_nop);
    uv_close((uv_handle_t *)&u->sigterm, on_closed_nop);
    uv_close((uv_handle_t *)&u->kill_timer, on_closed_nop);
    for (size_t i = 0; i < u->n_kids; i++)
        uv_close((uv_handle_t *)&u->kids[i].restart, on_closed_nop);
    pid_remove(u, "up");
    NW_INFO(NULL, "all services stopped");
}

static void
kill_child(child_t *c, int sig)
{
    if (c->proc_open && !c->exited)
        uv_process_kill(&c->proc, sig);
}

/* Called whenever a child's handle closed during a stop: once every service is gone, stop the
 * broker; once the broker is gone too, finish. */
static void
advance_stop(up_t *u)
{
    for (size_t i = u->n_brokers; i < u->n_kids; i++)
        if (u->kids[i].proc_open)
            return;
    int open = 0;
    for (size_t i = 0; i < u->n_brokers; i++)
        open |= u->kids[i].proc_open;
    if (open) {
        if (!u->broker_stopping) {
            u->broker_stopping = 1;
            for (size_t i = 0; i < u->n_brokers; i++)
                kill_child(&u->kids[i], SIGTERM);
        }
        return;
    }
    finish(u);
}

static void
on_kill_timer(uv_timer_t *t)
{
    up_t *u = t->data;
    for (size_t i = 0; i < u->n_kids; i++) {
        child_t *c = &u->kids[i];
        if (c->proc_open && !c->exited) {
            NW_WARN(NULL, "\"%s\" (pid %d) did not stop in time: sending SIGKILL", c->name,
                    c->proc.pid);
            kill_child(c, SIGKILL);
        }
    }
}

static void
begin_stop(up_t *u)
{
    u->stopping = 1;
    for (size_t i = 0; i < u->n_kids; i++) {
        uv_timer_stop(&u->kids[i].restart);
        if (i >= u->n_brokers)
            kill_child(&u->kids[i], SIGTERM);
    }
    uv_timer_start(&u->kill_timer, on_kill_timer, STOP_TIMEOUT_MS, 0);
    advance_stop(u);
}

static void
on_signal(uv_signal_t *s, int signum)
{
    up_t *u = s->data;
    if (u->stopping) {
        NW_WARN(NULL, "second signal %d: killing every service now", signum);
        on_kill_timer(&u->kill_timer);
        return;
    }
    NW_INFO(NULL, "signal %d: stopping every service (broker last)", signum);
    begin_stop(u);
}

/* ---- setup ----------------------------------------------------------------------------- */

/* Append "newswire-<svc>" and args (NULL-terminated) to c->argv, copying every string. */
static int
child_init(up_t *u, child_t *c, const char *name, const char *exe, ...)
{
    va_list ap;
    int n = 0, rc = 0;
    c->up = u;
    c->backoff = BACKOFF_MIN_MS;
    snprintf(c->name, sizeof c->name, "%s", name);
    if ((c->argv[n++] = strdup(exe)) == NULL)
        return -ENOMEM;
    va_start(ap, exe);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL;) {
        if (n >= MAX_ARGS || (c->argv[n++] = strdup(a)) == NULL) {
            rc = -ENOMEM;
            break;
        }
    }
    va_end(ap);
    c->argv[n] = NULL;
    uv_timer_init(&u->loop, &c->restart);
    c->restart.data = c;
    return rc;
}

/* Append more arguments (NULL-terminated) after child_init. */
static int
child_args(child_t *c, ...)
{
    va_list ap;
    int n = 0, rc = 0;
    while (n < MAX_ARGS && c->argv[n])
        n++;
    va_start(ap, c);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL;) {
        if (n >= MAX_ARGS || (c->argv[n++] = strdup(a)) == NULL) {
            rc = -ENOMEM;
            break;
        }
    }
    va_end(ap);
    c->argv[n] = NULL;
    return rc;
}

/* The security arguments of a child: its role's key from the --keys set (the broker: its key
 * and the roles tree), the token file for the two HTTP APIs, --insecure. role is NULL for
 * the broker. */
static int
child_security(const up_cfg_t *cfg, child_t *c, const char *role, int api)
{
    char key[PATH_MAX], other[PATH_MAX];
    int rc = 0;
    if (*cfg->keys) {
        snprintf(key, sizeof key, "%s/%s.key", cfg->keys, role ? role : "broker");
        snprintf(other, sizeof other, "%s/%s", cfg->keys, role ? "broker.pub" : "roles");
        rc = child_args(c, "--curve-key", key, role ? "--curve-server" : "--curve-roles", other,
                        (char *)NULL);
    }
    if (rc == 0 && api && *cfg->token_file)
        rc = child_args(c, "--http-tokens", cfg->token_file, (char *)NULL);
    if (rc == 0 && cfg->insecure)
        rc = child_args(c, "--insecure", (char *)NULL);
    return rc;
}

/* What the children would refuse at start, said once by up instead of by restarts: an API
 * off loopback without tokens, the bus off loopback without keys. Returns 0 or -EPERM. */
static int
check_security(const up_cfg_t *cfg, int with_query)
{
    char ep[300];
    const char *apis[2][2] = {{"http", cfg->http}, {"query", with_query ? cfg->query : ""}};
    for (int i = 0; i < 2; i++) {
        snprintf(ep, sizeof ep, "tcp://%s", apis[i][1]);
        if (*apis[i][1] && !*cfg->token_file && !nw_curve_endpoint_local(ep)) {
            fprintf(stderr,
                    "newswire up: --%s \"%s\" is not loopback: give --token-file FILE (`newswire "
                    "token new --scope ingest,read --file FILE`) so the API is not open to all\n",
                    apis[i][0], apis[i][1]);
            return -EPERM;
        }
    }
    const char *bus[2][2] = {{"broker", cfg->broker}, {"ingest", cfg->ingest}};
    for (int i = 0; i < 2; i++) {
        if (*bus[i][1] && !*cfg->keys && !cfg->insecure && !nw_curve_endpoint_local(bus[i][1])) {
            fprintf(stderr,
                    "newswire up: --%s \"%s\" is not loopback: give --keys DIR (`newswire keygen "
                    "--set DIR`) for CURVE with roles, or --insecure on a network you trust\n",
                    bus[i][0], bus[i][1]);
            return -EPERM;
        }
    }
    return 0;
}

static void
child_release(child_t *c)
{
    for (int i = 0; i < MAX_ARGS && c->argv[i]; i++)
        free(c->argv[i]);
    memset(c->argv, 0, sizeof c->argv);
}

/* The metrics listen address of child slot i ("" disables the child's HTTP server). */
static void
metrics_addr(const up_cfg_t *cfg, size_t i, char *out, size_t n)
{
    if (cfg->metrics_port > 0)
        snprintf(out, n, "127.0.0.1:%lld", (long long)(cfg->metrics_port + (int64_t)i));
    else
        snprintf(out, n, "%s", "");
}

/* ---- ports ---------------------------------------------------------------------------- */

/* Bind host:port for a moment. Returns 0 when it is free (or cannot be checked: a name that
 * does not resolve is the child's error to report), -EADDRINUSE, or another negative errno. */
static int
port_free(const char *host, const char *port)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    if (getaddrinfo(*host ? host : NULL, port, &hints, &res) != 0 || res == NULL)
        return 0;
    int rc = 0, one = 1;
    int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
    if (fd >= 0) {
        /* As the services bind: a port in TIME_WAIT is usable, a listening one is not. */
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, res->ai_addr, res->ai_addrlen) < 0)
            rc = -errno;
        close(fd);
    }
    freeaddrinfo(res);
    return rc;
}

/* Check "host:port", "[v6]:port" or "tcp://host:port" (other schemes: nothing to check).
 * On a port in use, print which and return -EADDRINUSE. */
static int
check_port(const char *addr, const char *what, const char *option)
{
    char host[256], port[16];
    const char *a = addr;
    if (a == NULL || *a == 0)
        return 0;
    if (strstr(a, "://")) {
        if (strncmp(a, "tcp://", 6) != 0)
            return 0;
        a += 6;
    }
    const char *colon = strrchr(a, ':');
    if (colon == NULL || (size_t)(colon - a) >= sizeof host || strlen(colon + 1) >= sizeof port)
        return 0;
    size_t hl = (size_t)(colon - a);
    if (hl >= 2 && a[0] == '[' && a[hl - 1] == ']') {
        memcpy(host, a + 1, hl - 2);
        host[hl - 2] = 0;
    } else {
        memcpy(host, a, hl);
        host[hl] = 0;
    }
    if (strcmp(host, "*") == 0)
        host[0] = 0;
    snprintf(port, sizeof port, "%s", colon + 1);
    int rc = port_free(host, port);
    if (rc == -EADDRINUSE)
        fprintf(stderr,
                "newswire up: port %s (%s, %s %s) is in use; stop what listens there or "
                "choose another with %s\n",
                port, what, option, addr, option);
    else if (rc < 0)
        fprintf(stderr, "newswire up: cannot listen on %s (%s, %s): %s\n", addr, what, option,
                strerror(-rc));
    return rc;
}

/* Every port a child will listen on, before any child starts. Returns 0 or the first error
 * (printed). */
static int
check_ports(const up_cfg_t *cfg, int with_query, size_t n_kids)
{
    char ep[NW_EP_MAX], what[64], http[64];
    int rc = 0;
    size_t nb = nw_ep_list_count(cfg->broker);
    char base[NW_EP_MAX];
    for (size_t b = 0; rc == 0 && b < nb; b++) {
        if (nw_ep_list_entry(cfg->broker, b, base, sizeof base) < 0)
            break; /* the broker reports a bad endpoint itself */
        for (int i = 0; rc == 0 && i < (nb > 1 ? NW_EP_HA + 1 : NW_EP_COUNT); i++) {
            if (nw_ep_derive(base, (nw_ep_t)i, ep, sizeof ep) < 0)
                break;
            snprintf(what, sizeof what, "broker %s", nw_ep_name((nw_ep_t)i));
            rc = check_port(ep, what, "--broker");
        }
    }
    if (rc == 0)
        rc = check_port(cfg->http, "fetch HTTP API", "--http");
    if (rc == 0)
        rc = check_port(cfg->ingest, "fetch ingest socket", "--ingest");
    if (rc == 0 && with_query)
        rc = check_port(cfg->query, "query API", "--query");
    for (size_t i = 0; rc == 0 && cfg->metrics_port > 0 && i < n_kids; i++) {
        metrics_addr(cfg, i, http, sizeof http);
        rc = check_port(http, "a child's /metrics", "--metrics-port");
    }
    return rc;
}

int
nw_cli_up(int argc, char **argv)
{
    up_cfg_t cfg = {0};
    up_t u = {0};
    int status = 1, loop_open = 0, rc;
    static const char *services[] = {"broker", "store", "enrich", "parse", "fetch", "query"};
    char *exes[6] = {0};
    char self_dir[PATH_MAX] = "", inbox[PATH_MAX + 8], spool[PATH_MAX + 8], state[PATH_MAX + 8];
    char primary[NW_EP_MAX] = "", backup[NW_EP_MAX] = "";

    rc = nw_config_load(up_opts, &cfg, argc, argv, "newswire up [options]",
                        "Run the whole system on this machine: broker, store, enrich and parse "
                        "workers and fetch,\nas child processes restarted if they die. Drop files "
                        "into <data-dir>/inbox or use\n`newswire ingest`, follow with `newswire "
                        "tail`, query with `newswire search`. Ctrl-C or\nSIGTERM stops every "
                        "service (broker last) and exits 0.",
                        NULL, NULL);
    if ((status = nw_cli_config_status(rc)) >= 0)
        return status;
    status = 1;
    int level = nw_log_parse_level(cfg.log_level);
    if (level < 0) {
        fprintf(stderr, "error: bad value \"%s\" for option 'log-level'\n", cfg.log_level);
        return 2;
    }
    nw_log_init("up", level);
    if (nw_log_set_format(cfg.log_format) < 0) {
        nw_config_bad_value("log-format", cfg.log_format, "logfmt or json");
        return 2;
    }
    /* Children read their level from the environment, like every NEWSWIRE_* setting. */
    setenv("NEWSWIRE_LOG_LEVEL", cfg.log_level, 1);
    setenv("NEWSWIRE_LOG_FORMAT", cfg.log_format, 1);
    if (cfg.db && *cfg.db)
        setenv("NEWSWIRE_DB", cfg.db, 1); /* the store and query services; never logged */

    const char *bin_dir = cfg.bin_dir;
    if (bin_dir == NULL) {
        ssize_t n = readlink("/proc/self/exe", self_dir, sizeof self_dir - 1);
        if (n > 0) {
            self_dir[n] = 0;
            char *slash = strrchr(self_dir, '/');
            if (slash)
                *slash = 0;
            bin_dir = self_dir;
        }
    }
    int with_query = cfg.query && *cfg.query;
    for (size_t i = 0; i < (with_query ? 6u : 5u); i++) {
        if ((exes[i] = find_service(bin_dir, services[i])) == NULL) {
            fprintf(stderr,
                    "newswire up: cannot find newswire-%s (looked in %s, %s/../%s and PATH); "
                    "give --bin-dir\n",
                    services[i], bin_dir ? bin_dir : "-", bin_dir ? bin_dir : "-", services[i]);
            goto done;
        }
    }

    snprintf(inbox, sizeof inbox, "%s/inbox", cfg.data_dir);
    snprintf(spool, sizeof spool, "%s/spool", cfg.data_dir);
    snprintf(state, sizeof state, "%s/fetch", cfg.data_dir); /* web: seen URLs, feed validators */
    snprintf(u.run_dir, sizeof u.run_dir, "%s/run", cfg.data_dir);
    if ((rc = nw_mkdirs(inbox, 0755)) < 0 || (rc = nw_mkdirs(u.run_dir, 0755)) < 0) {
        fprintf(stderr, "newswire up: cannot create data directory \"%s\": %s\n", cfg.data_dir,
                strerror(-rc));
        goto done;
    }
    /* Two supervisors on one data directory would fight over ports and the database. */
    int other = pid_alive(&u, "up");
    if (other > 0) {
        fprintf(stderr, "newswire up: already running for \"%s\" (pid %d)\n", cfg.data_dir, other);
        goto done;
    }
    if (check_security(&cfg, with_query) < 0) {
        status = 2;
        goto done;
    }
    /* --broker PRIMARY,BACKUP: both brokers of a pair run here (a local failover rehearsal;
     * across machines each runs newswire-broker --peer, README "Broker failover") */
    u.n_brokers = nw_ep_list_count(cfg.broker) == 2 ? 2 : 1;
    if (nw_ep_list_count(cfg.broker) > 2 ||
        nw_ep_list_entry(cfg.broker, 0, primary, sizeof primary) < 0 ||
        (u.n_brokers == 2 && nw_ep_list_entry(cfg.broker, 1, backup, sizeof backup) < 0)) {
        fprintf(stderr, "newswire up: --broker takes one base endpoint or two (PRIMARY,BACKUP)\n");
        status = 2;
        goto done;
    }
    /* The metrics ports of brokers, store, workers, fetch and query, as assigned below. */
    if (check_ports(&cfg, with_query,
                    2 + u.n_brokers + (size_t)with_query + (size_t)cfg.enrich + (size_t)cfg.parse) <
        0)
        goto done;

    if (cfg.samples && *cfg.samples) {
        rc = copy_samples(cfg.samples, cfg.data_dir, inbox);
        if (rc < 0) {
            fprintf(stderr, "newswire up: cannot copy samples from \"%s\": %s\n", cfg.samples,
                    strerror(-rc));
            goto done;
        }
        NW_INFO(NULL, "copied %d sample files from \"%s\" into \"%s\"", rc, cfg.samples, inbox);
    }

    if ((rc = uv_loop_init(&u.loop)) < 0) {
        fprintf(stderr, "newswire up: cannot start the event loop: %s\n", uv_strerror(rc));
        goto done;
    }
    loop_open = 1;
    u.n_kids = 2 + u.n_brokers + (size_t)with_query + (size_t)cfg.enrich + (size_t)cfg.parse;
    if ((u.kids = calloc(u.n_kids, sizeof *u.kids)) == NULL)
        goto done;
    /* Start order follows the data backwards: broker, then the consumers, then the source, so
     * the first article finds every stage ready. */
    size_t k = 0;
    char http[64], name[32], num[24];
    metrics_addr(&cfg, k, http, sizeof http);
    if (u.n_brokers == 1)
        rc = child_init(&u, &u.kids[k], "broker", exes[0], "--bind", primary, "--http", http,
                        (char *)NULL);
    else
        rc = child_init(&u, &u.kids[k], "broker", exes[0], "--bind", primary, "--peer", backup,
                        "--http", http, (char *)NULL);
    if (rc == 0)
        rc = child_security(&cfg, &u.kids[k++], NULL, 0);
    if (rc == 0 && u.n_brokers == 2) {
        metrics_addr(&cfg, k, http, sizeof http);
        rc = child_init(&u, &u.kids[k], "broker-backup", exes[0], "--bind", backup, "--peer",
                        primary, "--backup", "--http", http, (char *)NULL);
        if (rc == 0)
            rc = child_security(&cfg, &u.kids[k++], NULL, 0);
    }
    metrics_addr(&cfg, k, http, sizeof http);
    if (rc == 0)
        rc = child_init(&u, &u.kids[k], "store", exes[1], "--broker", cfg.broker, "--data-dir",
                        cfg.data_dir, "--http", http, (char *)NULL);
    if (rc == 0)
        rc = child_security(&cfg, &u.kids[k++], "store", 0);
    for (int64_t i = 1; rc == 0 && i <= cfg.enrich; i++) {
        snprintf(name, sizeof name, "enrich-%lld", (long long)i);
        metrics_addr(&cfg, k, http, sizeof http);
        rc = child_init(&u, &u.kids[k], name, exes[2], "--broker", cfg.broker, "--http", http,
                        (char *)NULL);
        if (rc == 0)
            rc = child_security(&cfg, &u.kids[k++], "worker", 0);
    }
    for (int64_t i = 1; rc == 0 && i <= cfg.parse; i++) {
        snprintf(name, sizeof name, "parse-%lld", (long long)i);
        metrics_addr(&cfg, k, http, sizeof http);
        rc = child_init(&u, &u.kids[k], name, exes[3], "--broker", cfg.broker, "--http", http,
                        (char *)NULL);
        if (rc == 0)
            rc = child_security(&cfg, &u.kids[k++], "worker", 0);
    }
    if (rc == 0)
        rc = child_init(&u, &u.kids[k], "fetch", exes[4], "--broker", cfg.broker, "--http",
                        cfg.http, "--inbox-dir", inbox, "--ingest", cfg.ingest, "--spool-dir",
                        spool, "--state-dir", state, (char *)NULL);
    if (rc == 0)
        rc = child_security(&cfg, &u.kids[k++], "fetch", 1);
    if (rc == 0 && with_query)
        rc = child_init(&u, &u.kids[k], "query", exes[5], "--broker", cfg.broker, "--data-dir",
                        cfg.data_dir, "--http", cfg.query, (char *)NULL);
    if (rc == 0 && with_query)
        rc = child_security(&cfg, &u.kids[k++], "subscriber", 1);
    if (rc < 0)
        goto done;
    u.broker = &u.kids[0];

    uv_signal_init(&u.loop, &u.sigint);
    uv_signal_init(&u.loop, &u.sigterm);
    uv_timer_init(&u.loop, &u.kill_timer);
    u.sigint.data = u.sigterm.data = u.kill_timer.data = &u;
    uv_signal_start(&u.sigint, on_signal, SIGINT);
    uv_signal_start(&u.sigterm, on_signal, SIGTERM);
    pid_write(&u, "up", (int)getpid());
    for (size_t i = 0; i < u.n_kids; i++)
        spawn_child(&u.kids[i]);
    snprintf(num, sizeof num, "%lld", (long long)cfg.metrics_port);
    NW_INFO(NULL, "supervising %zu services; data in \"%s\"; metrics from port %s", u.n_kids,
            cfg.data_dir, cfg.metrics_port ? num : "(off)");
    int default_broker = strcmp(cfg.broker, "tcp://127.0.0.1:5550") == 0;
    printf("newswire is up: API http://%s/v1/articles, data in %s/ (drop files into %s)\n"
           "  follow articles:  newswire tail%s%s [TOPIC...]\n"
           "  send a document:  newswire ingest%s%s FILE\n"
           "  search:           newswire search%s%s WORDS\n",
           cfg.http, cfg.data_dir, inbox, default_broker ? "" : " --broker ",
           default_broker ? "" : cfg.broker,
           strcmp(cfg.http, "127.0.0.1:8080") == 0 ? "" : " --api http://",
           strcmp(cfg.http, "127.0.0.1:8080") == 0 ? "" : cfg.http,
           strcmp(cfg.data_dir, "var") == 0 ? "" : " --data-dir ",
           strcmp(cfg.data_dir, "var") == 0 ? "" : cfg.data_dir);
    if (with_query)
        printf("  over HTTP:        http://%s/v1/search?q=WORDS, http://%s/v1/stream?topic=all\n",
               cfg.query, cfg.query);
    if (*cfg.keys)
        printf("  with CURVE roles: tail takes --curve-key %s/subscriber.key --curve-server "
               "%s/broker.pub\n",
               cfg.keys, cfg.keys);
    printf("Ctrl-C stops everything.\n");
    fflush(stdout);

    uv_run(&u.loop, UV_RUN_DEFAULT);
    status = u.gave_up ? 1 : 0;
done:
    if (loop_open) {
        /* Normally everything is closed already; after a setup error close what was opened. */
        if (!u.finished && u.kids) {
            for (size_t i = 0; i < u.n_kids; i++)
                if (u.kids[i].up && !uv_is_closing((uv_handle_t *)&u.kids[i].restart))
                    uv_close((uv_handle_t *)&u.kids[i].restart, on_closed_nop);
            uv_run(&u.loop, UV_RUN_DEFAULT);
        }
        if (uv_loop_close(&u.loop) != 0) {
            NW_ERROR(NULL, "event loop did not close cleanly");
            status = 1;
        }
    }
    for (size_t i = 0; u.kids && i < u.n_kids; i++)
        child_release(&u.kids[i]);
    free(u.kids);
    for (size_t i = 0; i < 6; i++)
        free(exes[i]);
    return status;
}
