/* test_service.c: the service shell: drain on SIGTERM, forced stop (drain timeout, second
 * signal), /healthz and /metrics over real HTTP, cleanup of handles a service forgot, and what
 * it tells systemd (READY=1, WATCHDOG=1 from the loop, STOPPING=1) over a NOTIFY_SOCKET the
 * test reads, as systemd's manager would.
 *
 * nw_service_run() owns the loop and closes it itself; it returns 0 only after a clean stop
 * whose uv_loop_close() succeeded, so asserting its result is the "loop closed" check here. */
#include "newswire/service.h"
#include "newswire/buf.h"
#include "newswire/log.h"
#include "newswire/metrics.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

struct st {
    nw_service_t *svc;
    int drained;
    int finish_after_drain; /* the drain callback stops the service (after one loop turn) */
    int signals;            /* how many SIGTERMs the kicker timer sends */
    uv_timer_t kicker;
    uv_timer_t work; /* the "in-flight work" a drain finishes */
    uv_timer_t forgotten;
    int port;
    /* HTTP results, written by the client thread and read after join. */
    long health_status, metrics_status, draining_status, finish_status;
    nw_buf_t health, metrics, metrics_headers, draining;
};

static void
on_kick(uv_timer_t *t)
{
    struct st *s = t->data;
    raise(SIGTERM);
    if (--s->signals > 0)
        uv_timer_start(t, on_kick, 10, 0); /* the next one on a later loop turn */
    else
        uv_close((uv_handle_t *)t, NULL);
}

static void
on_work_done(uv_timer_t *t)
{
    struct st *s = t->data;
    uv_close((uv_handle_t *)t, NULL);
    nw_service_stop(s->svc);
    nw_service_stop(s->svc); /* safe twice */
}

static void
on_drain(nw_service_t *svc, void *arg)
{
    struct st *s = arg;
    s->drained++;
    assert_true(nw_service_draining(svc));
    if (s->finish_after_drain) {
        /* Finish the "in-flight work" on a later loop turn, then stop. */
        uv_timer_init(nw_service_loop(svc), &s->work);
        s->work.data = s;
        uv_timer_start(&s->work, on_work_done, 5, 0);
    }
}

static void
on_forgotten(uv_timer_t *t)
{
    (void)t;
}

static void
start_kicker(struct st *s, int signals)
{
    s->signals = signals;
    uv_timer_init(nw_service_loop(s->svc), &s->kicker);
    s->kicker.data = s;
    uv_timer_start(&s->kicker, on_kick, 0, 0);
}

static void
test_drain_on_sigterm(void **state)
{
    (void)state;
    struct st s = {.finish_after_drain = 1};
    s.svc = nw_service_new("test", NULL, on_drain, &s);
    assert_non_null(s.svc);
    assert_null(nw_service_http(s.svc));
    assert_non_null(nw_service_zctx(s.svc));
    assert_false(nw_service_draining(s.svc));
    start_kicker(&s, 1);
    assert_int_equal(nw_service_run(s.svc), 0);
    assert_int_equal(s.drained, 1);
}

static void
test_no_drain_cb_stops_at_once(void **state)
{
    (void)state;
    struct st s = {0};
    s.svc = nw_service_new("test", "", NULL, NULL);
    assert_non_null(s.svc);
    start_kicker(&s, 1);
    assert_int_equal(nw_service_run(s.svc), 0);
}

static void
test_forced_stop_after_drain_timeout(void **state)
{
    (void)state;
    struct st s = {0}; /* the drain callback never stops the service */
    s.svc = nw_service_new("test", NULL, on_drain, &s);
    assert_non_null(s.svc);
    nw_service_set_drain_timeout(s.svc, 50);
    /* A repeating timer the service never closes: run must close it or never return. */
    uv_timer_init(nw_service_loop(s.svc), &s.forgotten);
    uv_timer_start(&s.forgotten, on_forgotten, 1, 1);
    start_kicker(&s, 1);
    assert_int_equal(nw_service_run(s.svc), 1); /* stopped, but not cleanly */
    assert_int_equal(s.drained, 1);
}

static void
test_second_signal_forces(void **state)
{
    (void)state;
    struct st s = {0};
    s.svc = nw_service_new("test", NULL, on_drain, &s);
    assert_non_null(s.svc);
    nw_service_set_drain_timeout(s.svc, 600000); /* only the second signal can end it */
    start_kicker(&s, 2);
    assert_int_equal(nw_service_run(s.svc), 1);
    assert_int_equal(s.drained, 1); /* the drain callback runs once, not per signal */
}

/* systemd's side: a Unix datagram socket in a fresh directory, named by NOTIFY_SOCKET for the
 * service, read all along by a thread (a sender blocks once max_dgram_qlen datagrams wait).
 * Every datagram ends up in buf, one assignment per line. */
struct notify {
    char dir[64];
    int fd;
    volatile int stop;
    pthread_t th;
    char buf[8192];
    size_t len;
    double max_gap_ms; /* the longest wait between two WATCHDOG=1 */
    double last_ping_ms;
};

static double
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Receive one datagram into d without blocking past the socket's timeout (or at all, with
 * dontwait); *at is when the kernel queued it (SO_TIMESTAMPNS), so gaps between pings are the
 * sender's even when this thread is scheduled late on a busy machine. */
static ssize_t
recv_stamped(int fd, char *d, size_t n, int dontwait, double *at)
{
    union {
        char buf[CMSG_SPACE(sizeof(struct timespec))];
        struct cmsghdr align;
    } control;
    struct iovec iov = {d, n};
    struct msghdr m = {.msg_iov = &iov,
                       .msg_iovlen = 1,
                       .msg_control = control.buf,
                       .msg_controllen = sizeof control.buf};
    ssize_t k = recvmsg(fd, &m, dontwait ? MSG_DONTWAIT : 0);
    *at = now_ms();
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); k > 0 && c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            struct timespec ts, real_now, mono_now;
            memcpy(&ts, CMSG_DATA(c), sizeof ts);
            /* the stamp is wall-clock time: carry it over to the monotonic scale */
            clock_gettime(CLOCK_REALTIME, &real_now);
            clock_gettime(CLOCK_MONOTONIC, &mono_now);
            double age = ((double)real_now.tv_sec - (double)ts.tv_sec) * 1e3 +
                         ((double)real_now.tv_nsec - (double)ts.tv_nsec) / 1e6;
            *at = (double)mono_now.tv_sec * 1e3 + (double)mono_now.tv_nsec / 1e6 - age;
        }
    }
    return k;
}

static void *
notify_reader(void *arg)
{
    struct notify *n = arg;
    char d[256];
    for (;;) {
        /* once told to stop, read what is still queued, then leave */
        int stopping = n->stop;
        double at;
        ssize_t k = recv_stamped(n->fd, d, sizeof d - 1, stopping, &at);
        if (k < 0 && stopping)
            break;
        if (k > 0 && (size_t)k == strlen("WATCHDOG=1") && memcmp(d, "WATCHDOG=1", 10) == 0) {
            if (n->last_ping_ms > 0 && at - n->last_ping_ms > n->max_gap_ms)
                n->max_gap_ms = at - n->last_ping_ms;
            n->last_ping_ms = at;
        }
        if (k > 0 && n->len + (size_t)k + 2 < sizeof n->buf) {
            memcpy(n->buf + n->len, d, (size_t)k);
            n->len += (size_t)k;
            n->buf[n->len++] = '\n';
            n->buf[n->len] = 0;
        }
    }
    return NULL;
}

static void
notify_start(struct notify *n)
{
    memset(n, 0, sizeof *n);
    snprintf(n->dir, sizeof n->dir, "/tmp/nw-notify.XXXXXX");
    assert_non_null(mkdtemp(n->dir));
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s/notify", n->dir);
    n->fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    assert_true(n->fd >= 0);
    struct timeval tv = {0, 20000}; /* so the reader sees stop */
    int on = 1;
    setsockopt(n->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    assert_int_equal(setsockopt(n->fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on), 0);
    assert_int_equal(bind(n->fd, (struct sockaddr *)&a, sizeof a), 0);
    setenv("NOTIFY_SOCKET", a.sun_path, 1);
    assert_int_equal(pthread_create(&n->th, NULL, notify_reader, n), 0);
}

/* Stop reading (after what is queued) and clean up; n->buf holds what arrived. */
static void
notify_finish(struct notify *n)
{
    char path[300];
    n->stop = 1;
    pthread_join(n->th, NULL);
    close(n->fd);
    snprintf(path, sizeof path, "%s/notify", n->dir);
    unlink(path);
    rmdir(n->dir);
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
}

static void
on_late_kick(uv_timer_t *t)
{
    uv_close((uv_handle_t *)t, NULL);
    raise(SIGTERM);
}

static void
test_systemd_notify(void **state)
{
    (void)state;
    struct notify n;
    notify_start(&n);
    setenv("WATCHDOG_USEC", "20000", 1); /* a ping every 10 ms */
    unsetenv("WATCHDOG_PID");
    struct st s = {.finish_after_drain = 1};
    s.svc = nw_service_new("test", NULL, on_drain, &s);
    assert_non_null(s.svc);
    uv_timer_init(nw_service_loop(s.svc), &s.kicker);
    uv_timer_start(&s.kicker, on_late_kick, 150, 0);
    assert_int_equal(nw_service_run(s.svc), 0);
    notify_finish(&n);
    /* READY=1 first, pings while the loop ran, STOPPING=1 once, when the drain began */
    assert_int_equal(strncmp(n.buf, "READY=1\n", 8), 0);
    int pings = 0;
    for (const char *p = n.buf; (p = strstr(p, "WATCHDOG=1\n")) != NULL; p++)
        pings++;
    assert_true(pings >= 3);
    const char *stopping = strstr(n.buf, "STOPPING=1\n");
    assert_non_null(stopping);
    assert_null(strstr(stopping + 1, "STOPPING=1"));
}

static void
on_wedge(uv_timer_t *t)
{
    struct timespec ts = {0, 300 * 1000000L};
    nanosleep(&ts, NULL); /* a callback that holds the loop */
    uv_close((uv_handle_t *)t, NULL);
}

/* The pings come from the loop itself, so a loop held by a callback stops them, which is what
 * lets systemd's watchdog restart a wedged service: pings every 10 ms, a callback that holds
 * the loop for 300 ms, and no ping arrives for about that long. */
static void
test_systemd_watchdog_follows_loop(void **state)
{
    (void)state;
    struct notify n;
    notify_start(&n);
    setenv("WATCHDOG_USEC", "20000", 1);
    unsetenv("WATCHDOG_PID");
    struct st s = {.finish_after_drain = 1};
    uv_timer_t wedge;
    s.svc = nw_service_new("test", NULL, on_drain, &s);
    assert_non_null(s.svc);
    uv_timer_init(nw_service_loop(s.svc), &wedge);
    uv_timer_start(&wedge, on_wedge, 50, 0);
    uv_timer_init(nw_service_loop(s.svc), &s.kicker);
    uv_timer_start(&s.kicker, on_late_kick, 450, 0);
    assert_int_equal(nw_service_run(s.svc), 0);
    notify_finish(&n);
    assert_true(n.max_gap_ms >= 250);
}

/* A service whose set-up failed stops before it runs: it never says READY=1. */
static void
test_systemd_never_ready(void **state)
{
    (void)state;
    struct notify n;
    notify_start(&n);
    struct st s = {0};
    s.svc = nw_service_new("test", NULL, on_drain, &s);
    assert_non_null(s.svc);
    nw_service_stop(s.svc);
    nw_service_run(s.svc);
    notify_finish(&n);
    assert_string_equal(n.buf, "STOPPING=1\n");
}

static void
test_bad_listen(void **state)
{
    (void)state;
    assert_null(nw_service_new("test", "no-port-here", NULL, NULL));
    /* Port in use: the second service cannot listen. */
    nw_service_t *a = nw_service_new("test", "127.0.0.1:0", NULL, NULL);
    assert_non_null(a);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", nw_http_port(nw_service_http(a)));
    assert_null(nw_service_new("test", addr, NULL, NULL));
    nw_service_stop(a);
    assert_int_equal(nw_service_run(a), 0);
}

/* ---- HTTP endpoints, with a client thread using libcurl ---- */

static size_t
on_write(char *p, size_t size, size_t n, void *arg)
{
    nw_buf_append(arg, p, size * n);
    return size * n;
}

static long
get(int port, const char *path, const char *method, nw_buf_t *body, nw_buf_t *headers)
{
    char url[128];
    long status = -1;
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    CURL *c = curl_easy_init();
    if (c == NULL)
        abort();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    if (headers) {
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_write);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, headers);
    }
    if (method)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    return status;
}

static void *
client_main(void *arg)
{
    struct st *s = arg;
    s->health_status = get(s->port, "/healthz", NULL, &s->health, NULL);
    s->metrics_status = get(s->port, "/metrics", NULL, &s->metrics, &s->metrics_headers);
    kill(getpid(), SIGTERM);
    /* The drain starts once the loop saw the signal; poll until /healthz says so. The bound
     * is on attempts, not on time. */
    for (int i = 0; i < 2000; i++) {
        nw_buf_reset(&s->draining);
        s->draining_status = get(s->port, "/healthz", NULL, &s->draining, NULL);
        if (s->draining_status != 200)
            break;
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    nw_buf_t ignored = {0};
    s->finish_status = get(s->port, "/finish", "POST", &ignored, NULL);
    nw_buf_release(&ignored);
    return NULL;
}

/* The service's own route: answers, then stops the service from inside a handler. */
static void
on_finish(nw_http_req_t *req, void *arg)
{
    struct st *s = arg;
    nw_http_respond(req, 200, "text/plain", "bye", 3, NULL);
    nw_service_stop(s->svc);
}

static void
test_http_endpoints(void **state)
{
    (void)state;
    struct st s = {0};
    nw_metrics_reset();
    nw_metrics_add(nw_metrics_counter("nw_test_things_total", NULL, "Things."), 42);
    s.svc = nw_service_new("svctest", "127.0.0.1:0", on_drain, &s);
    assert_non_null(s.svc);
    nw_http_t *h = nw_service_http(s.svc);
    assert_non_null(h);
    s.port = nw_http_port(h);
    assert_true(s.port > 0);
    assert_int_equal(nw_http_route(h, "POST", "/finish", on_finish, &s), 0);

    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, client_main, &s), 0);
    int rc = nw_service_run(s.svc);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(rc, 0);
    assert_int_equal(s.drained, 1);

    assert_int_equal(s.health_status, 200);
    json_t *j = json_loads((char *)s.health.data, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    assert_string_equal(json_string_value(json_object_get(j, "service")), "svctest");
    json_decref(j);

    assert_int_equal(s.metrics_status, 200);
    assert_non_null(strstr((char *)s.metrics.data, "# TYPE nw_test_things_total counter\n"
                                                   "nw_test_things_total 42\n"));
    assert_non_null(strstr((char *)s.metrics.data, "process_resident_memory_bytes "));
    assert_non_null(
        strstr((char *)s.metrics_headers.data, "Content-Type: text/plain; version=0.0.4"));

    assert_int_equal(s.draining_status, 503);
    j = json_loads((char *)s.draining.data, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "draining");
    json_decref(j);
    assert_int_equal(s.finish_status, 200);

    nw_buf_release(&s.health);
    nw_buf_release(&s.metrics);
    nw_buf_release(&s.metrics_headers);
    nw_buf_release(&s.draining);
    nw_metrics_reset();
}

/* The log level has one source: the --log-level option (or NEWSWIRE_LOG_LEVEL, through the
 * config table like every option), read by nw_service_config; nw_service_new keeps it. */
static void
test_service_config(void **state)
{
    (void)state;
    nw_service_cfg_t cfg = {.broker = "tcp://127.0.0.1:5550", .log_level = "error"};
    setenv("NEWSWIRE_LOG_LEVEL", "debug", 1); /* not read here any more */
    assert_int_equal(nw_service_config("test", &cfg, NW_CURVE_CONNECTS), 0);
    assert_int_equal(nw_log_level, NW_LOG_ERROR);
    nw_service_t *svc = nw_service_new("test", NULL, NULL, NULL);
    assert_non_null(svc);
    assert_int_equal(nw_log_level, NW_LOG_ERROR);
    nw_service_stop(svc);
    assert_int_equal(nw_service_run(svc), 0);
    unsetenv("NEWSWIRE_LOG_LEVEL");

    cfg.log_level = "bogus";
    assert_int_equal(nw_service_config("test", &cfg, NW_CURVE_CONNECTS), -EINVAL);
    assert_int_equal(nw_log_level, NW_LOG_ERROR); /* unchanged */
    cfg.log_level = "info";
    cfg.broker = "tcp://127.0.0.1:65530"; /* pub.out would be port 65537 */
    assert_int_equal(nw_service_config("test", &cfg, NW_CURVE_CONNECTS), -EINVAL);
    cfg.broker = "smtp://nowhere";
    assert_int_equal(nw_service_config("test", &cfg, NW_CURVE_CONNECTS), -EINVAL);
    cfg.broker = "ipc:///tmp/nw-test";
    assert_int_equal(nw_service_config("test", &cfg, NW_CURVE_CONNECTS), 0);
    assert_int_equal(nw_log_level, NW_LOG_INFO);
    cfg.curve.key = "/nonexistent/test.key";
    assert_int_equal(nw_service_config("test", &cfg, NW_CURVE_CONNECTS), -EINVAL);
}

/* What a job frees stays with the process for the next one: a group of page-sized blocks
 * (fetch's 64 raw pages awaiting their fsync, the broker's queue after a burst) allocated,
 * written and freed again faults in (almost) no new page the second and third time. With
 * glibc's defaults each round faults all ~2,400 pages in again (the heap top is trimmed on
 * free), at ~13 us a fault on the development machine. Sanitizers' allocators ignore the
 * settings: there the function says so, and that is all that can be checked. */
static void
test_keep_memory(void **state)
{
    (void)state;
    enum { N = 64, SIZE = 150 * 1024 };
    if (nw_service_keep_memory() == -ENOTSUP)
        return;
    assert_int_equal(nw_service_keep_memory(), 0);
    long faults[3];
    for (int round = 0; round < 3; round++) {
        static char *p[N];
        struct rusage r0, r1;
        getrusage(RUSAGE_SELF, &r0);
        for (int i = 0; i < N; i++) {
            p[i] = malloc(SIZE);
            assert_non_null(p[i]);
            memset(p[i], round + 1, SIZE);
        }
        for (int i = 0; i < N; i++)
            free(p[i]);
        getrusage(RUSAGE_SELF, &r1);
        faults[round] = r1.ru_minflt - r0.ru_minflt;
    }
    long pages = (long)N * SIZE / 4096;
    print_message("page faults per round: %ld %ld %ld (%ld pages)\n", faults[0], faults[1],
                  faults[2], pages);
    assert_true(faults[1] < pages / 10);
    assert_true(faults[2] < pages / 10);
}

int
main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drain_on_sigterm),
        cmocka_unit_test(test_no_drain_cb_stops_at_once),
        cmocka_unit_test(test_forced_stop_after_drain_timeout),
        cmocka_unit_test(test_second_signal_forces),
        cmocka_unit_test(test_systemd_notify),
        cmocka_unit_test(test_systemd_watchdog_follows_loop),
        cmocka_unit_test(test_systemd_never_ready),
        cmocka_unit_test(test_bad_listen),
        cmocka_unit_test(test_http_endpoints),
        cmocka_unit_test(test_service_config),
        cmocka_unit_test(test_keep_memory),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
