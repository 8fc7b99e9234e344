/* test_curve.c: CURVE keys and the allow list (curve.c). Key files from nw_curve_keygen are
 * read back (keys whose Z85 text starts with '=' included), bad settings are refused with a
 * message, and over real sockets in one context a CURVE server with the ZAP handler takes a
 * message from a client whose key is on the allow list and none from one whose key is not,
 * nor from a client without CURVE. With --curve-roles the handler admits a key only to the
 * sockets its role may use and labels its messages with the role; endpoints off loopback need
 * CURVE or --insecure; keygen --set makes the tree the broker reads. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>
#include <zmq.h>

#include "newswire/curve.h"
#include "newswire/metrics.h"
#include "newswire/util.h"

static char dir[64];

static int
setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/nw-curve.XXXXXX");
    assert_non_null(mkdtemp(dir));
    char p[128];
    snprintf(p, sizeof p, "%s/allow", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    nw_curve_cfg_t off = {0};
    nw_curve_init(&off, 0, NULL, 0);
    return 0;
}

static void
path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
}

/* The Z85 value of "public-key" or "secret-key" in a key file, read naively for the test. */
static void
field(const char *file, const char *name, char out[41])
{
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(nw_read_file(file, 4096, &buf, &len), 0);
    char *text = calloc(1, len + 1);
    memcpy(text, buf, len);
    char *p = strstr(text, name);
    assert_non_null(p);
    p += strlen(name) + 3; /* " = " */
    memcpy(out, p, 40);
    out[40] = 0;
    free(text);
    free(buf);
}

static void
test_keygen_and_init(void **state)
{
    (void)state;
    char name[128], key[160], pub[160], err[256];
    path(name, sizeof name, "svc");
    assert_int_equal(nw_curve_keygen(name, err, sizeof err), 0);
    snprintf(key, sizeof key, "%s.key", name);
    snprintf(pub, sizeof pub, "%s.pub", name);
    struct stat st;
    assert_int_equal(stat(key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* never overwritten */
    assert_int_equal(nw_curve_keygen(name, err, sizeof err), -EEXIST);
    assert_non_null(strstr(err, "svc.key"));

    nw_curve_cfg_t c = {.key = key, .server = pub};
    nw_metric_t *loose = nw_metrics_counter("nw_curve_key_loose_total", NULL, "");
    int64_t before = nw_metrics_value(loose);
    assert_int_equal(nw_curve_init(&c, NW_CURVE_CONNECTS, err, sizeof err), 0);
    assert_int_equal(nw_metrics_value(loose), before);
    /* issue 16.10: a secret key others can read loads with a warning and a count */
    assert_int_equal(chmod(key, 0644), 0);
    assert_int_equal(nw_curve_init(&c, NW_CURVE_CONNECTS, err, sizeof err), 0);
    assert_int_equal(nw_metrics_value(loose), before + 1);
    assert_int_equal(chmod(key, 0600), 0);
    /* the server key may be given as text too */
    char z85[41];
    field(pub, "public-key", z85);
    c.server = z85;
    assert_int_equal(nw_curve_init(&c, NW_CURVE_CONNECTS, err, sizeof err), 0);

    /* refusals name the problem */
    nw_curve_cfg_t no_key = {.server = pub};
    assert_int_equal(nw_curve_init(&no_key, NW_CURVE_CONNECTS, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "need --curve-key"));
    nw_curve_cfg_t no_server = {.key = key};
    assert_int_equal(nw_curve_init(&no_server, NW_CURVE_CONNECTS, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "--curve-server"));
    assert_int_equal(nw_curve_init(&no_server, NW_CURVE_BINDS, err, sizeof err), 0);
    nw_curve_cfg_t pub_as_key = {.key = pub, .server = pub};
    assert_int_equal(nw_curve_init(&pub_as_key, NW_CURVE_CONNECTS, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "not a key file"));
    nw_curve_cfg_t bad_server = {.key = key, .server = "not-a-key"};
    assert_int_equal(nw_curve_init(&bad_server, NW_CURVE_CONNECTS, err, sizeof err), -EINVAL);

    /* A path of exactly 40 characters is also valid Z85: the file must win. Its key differs
     * from what the path decodes to, so only reading the file connects the right server. */
    char longname[128], linkpath[128];
    snprintf(linkpath, sizeof linkpath, "%s/", dir);
    size_t room = 40 - strlen(linkpath) - strlen(".pub");
    memset(longname, 'k', room);
    longname[room] = 0;
    snprintf(linkpath + strlen(linkpath), sizeof linkpath - strlen(linkpath), "%s", longname);
    assert_int_equal(nw_curve_keygen(linkpath, err, sizeof err), 0);
    strcat(linkpath, ".pub");
    assert_int_equal(strlen(linkpath), 40);
    nw_curve_cfg_t by_file = {.key = key, .server = linkpath};
    assert_int_equal(nw_curve_init(&by_file, NW_CURVE_CONNECTS, err, sizeof err), 0);
    char want[41];
    field(linkpath, "public-key", want);
    assert_string_equal(nw_curve_server_key(), want);
}

/* Z85 digits include '=': a key file whose key starts with it must read back. */
static void
test_key_starting_with_equals(void **state)
{
    (void)state;
    uint8_t pubbin[32], secbin[32];
    char pub[41], sec[41];
    /* find a pair whose public key starts with '=' (1 in 85 tries on average) */
    for (int i = 0;; i++) {
        assert_true(i < 100000);
        assert_int_equal(zmq_curve_keypair(pub, sec), 0);
        if (pub[0] == '=')
            break;
    }
    char file[128], text[256], err[256];
    path(file, sizeof file, "eq.key");
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    snprintf(text, sizeof text, "# comment\npublic-key = %s\nsecret-key=%s\n", pub, sec);
    fputs(text, f);
    fclose(f);
    nw_curve_cfg_t c = {.key = file, .server = pub};
    assert_int_equal(nw_curve_init(&c, NW_CURVE_CONNECTS, err, sizeof err), 0);
    (void)pubbin;
    (void)secbin;
}

/* ---- over real sockets ---- */

struct got {
    int n;
};

static void
on_server(nw_zsock_t *zs, zmq_msg_t *frames, size_t n, void *arg)
{
    (void)zs;
    (void)frames;
    (void)n;
    ((struct got *)arg)->n++;
}

static void *
client(void *ctx, const char *endpoint, const char *server_pub, const char *keyfile)
{
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    if (keyfile) {
        char pub[41], sec[41];
        field(keyfile, "public-key", pub);
        field(keyfile, "secret-key", sec);
        assert_int_equal(zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server_pub, 40), 0);
        assert_int_equal(zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, pub, 40), 0);
        assert_int_equal(zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, sec, 40), 0);
    }
    assert_int_equal(zmq_connect(s, endpoint), 0);
    return s;
}

static void
run_for(uv_loop_t *loop, int ms)
{
    uint64_t end = uv_now(loop) + (uint64_t)ms;
    while (uv_now(loop) < end) {
        uv_run(loop, UV_RUN_NOWAIT);
        usleep(2000);
        uv_update_time(loop);
    }
}

static void
test_allow_list(void **state)
{
    (void)state;
    char server[128], ok[128], bad[128], err[256], file[160], server_pub[41];
    path(server, sizeof server, "server");
    path(ok, sizeof ok, "allow/ok");
    path(bad, sizeof bad, "bad");
    for (int i = 0; i < 40; i++) { /* several allowed keys, so some start with odd digits */
        char extra[160];
        snprintf(extra, sizeof extra, "%s/allow/extra%d", dir, i);
        assert_int_equal(nw_curve_keygen(extra, err, sizeof err), 0);
    }
    assert_int_equal(nw_curve_keygen(server, err, sizeof err), 0);
    assert_int_equal(nw_curve_keygen(ok, err, sizeof err), 0);
    assert_int_equal(nw_curve_keygen(bad, err, sizeof err), 0);
    snprintf(file, sizeof file, "%s.pub", server);
    field(file, "public-key", server_pub);

    char key[160], allow[128];
    snprintf(key, sizeof key, "%s.key", server);
    path(allow, sizeof allow, "allow");
    nw_curve_cfg_t c = {.key = key, .allow = allow};
    assert_int_equal(nw_curve_init(&c, NW_CURVE_BINDS, err, sizeof err), 0);

    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    void *ctx = zmq_ctx_new();
    nw_zsock_t *zap = NULL;
    assert_int_equal(nw_curve_zap_start(&loop, ctx, NULL, &zap), 0);
    assert_non_null(zap);
    void *srv = zmq_socket(ctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt(srv, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal(nw_curve_server(srv), 0);
    assert_int_equal(zmq_bind(srv, "tcp://127.0.0.1:*"), 0);
    char endpoint[64];
    size_t elen = sizeof endpoint;
    assert_int_equal(zmq_getsockopt(srv, ZMQ_LAST_ENDPOINT, endpoint, &elen), 0);
    struct got got = {0};
    nw_zsock_t *zs = nw_zsock_new(&loop, srv, on_server, &got);
    assert_non_null(zs);

    char okkey[160], badkey[160];
    snprintf(okkey, sizeof okkey, "%s.key", ok);
    snprintf(badkey, sizeof badkey, "%s.key", bad);
    void *plain = client(ctx, endpoint, NULL, NULL);
    void *stranger = client(ctx, endpoint, server_pub, badkey);
    /* what the two send is never delivered: their handshakes fail */
    zmq_send(plain, "x", 1, ZMQ_DONTWAIT);
    zmq_send(stranger, "x", 1, ZMQ_DONTWAIT);
    run_for(&loop, 300);
    assert_int_equal(got.n, 0);
    void *friend = client(ctx, endpoint, server_pub, okkey);
    assert_int_equal(zmq_send(friend, "hello", 5, 0), 5);
    for (int i = 0; i < 200 && got.n == 0; i++)
        run_for(&loop, 10);
    assert_int_equal(got.n, 1);
    run_for(&loop, 100);
    assert_int_equal(got.n, 1);

    zmq_close(plain);
    zmq_close(stranger);
    zmq_close(friend);
    nw_zsock_close(zs, NULL, NULL);
    nw_zsock_close(zap, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    zmq_ctx_term(ctx);
}

static void
test_endpoint_local(void **state)
{
    (void)state;
    static const char *const local[] = {"ipc:///run/nw/broker", "inproc://x",
                                        "tcp://127.0.0.1:5550", "tcp://127.8.9.1:1",
                                        "tcp://[::1]:5550",     "tcp://localhost:5550"};
    static const char *const remote[] = {"tcp://0.0.0.0:5550",
                                         "tcp://*:5550",
                                         "tcp://10.0.0.1:5550",
                                         "tcp://[::]:5550",
                                         "tcp://broker:5550",
                                         "tcp://eth0:5550",
                                         "tcp://128.0.0.1:5550",
                                         "tcp://[::2]:1",
                                         "pgm://x",
                                         "tcp://127.0.0.1.example.com:1",
                                         "tcp://lo;10.0.0.1:5550"};
    for (size_t i = 0; i < sizeof local / sizeof *local; i++)
        assert_true(nw_curve_endpoint_local(local[i]));
    for (size_t i = 0; i < sizeof remote / sizeof *remote; i++)
        assert_false(nw_curve_endpoint_local(remote[i]));

    char err[512] = "";
    assert_int_equal(nw_curve_check_endpoint("tcp://127.0.0.1:1", "broker", 0, err, sizeof err), 0);
    assert_int_equal(nw_curve_check_endpoint("tcp://10.0.0.1:1", "broker", 0, err, sizeof err),
                     -EPERM);
    assert_non_null(strstr(err, "refusing plain ZeroMQ on --broker \"tcp://10.0.0.1:1\""));
    assert_false(nw_curve_insecure());
    assert_int_equal(nw_curve_check_endpoint("tcp://10.0.0.1:1", "broker", 1, err, sizeof err), 0);
    assert_true(nw_curve_insecure());
    nw_metric_t *m = nw_metrics_gauge("nw_insecure", NULL, "");
    assert_int_equal(nw_metrics_value(m), 1);
}

/* The set from keygen --set: files, modes, the roles tree, no overwrite, one more key. */
static void
test_keygen_set(void **state)
{
    (void)state;
    char set[128], p[256], err[512];
    struct stat st;
    path(set, sizeof set, "set");
    assert_int_equal(nw_curve_keygen_set(set, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(stat(set, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    static const char *const names[] = {"broker", "fetch", "worker", "store", "subscriber"};
    for (size_t i = 0; i < 5; i++) {
        snprintf(p, sizeof p, "%s/%s.key", set, names[i]);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        snprintf(p, sizeof p, "%s/roles/%s/%s.pub", set, names[i], names[i]);
        assert_int_equal(stat(p, &st) == 0, i > 0); /* the broker holds no role */
    }
    assert_int_equal(nw_curve_keygen_set(set, NULL, NULL, err, sizeof err), -EEXIST);
    assert_int_equal(nw_curve_keygen_set(set, "worker", "host-b", err, sizeof err), 0);
    snprintf(p, sizeof p, "%s/roles/worker/host-b.pub", set);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(nw_curve_keygen_set(set, "admin", NULL, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "unknown role"));
    assert_int_equal(nw_curve_keygen_set(set, "worker", "../x", err, sizeof err), -EINVAL);

    /* the broker reads it: 2 workers, one of each other role; an empty tree is refused */
    char key[200], roles[200];
    snprintf(key, sizeof key, "%s/broker.key", set);
    snprintf(roles, sizeof roles, "%s/roles", set);
    nw_curve_cfg_t c = {.key = key, .roles = roles};
    assert_int_equal(nw_curve_init(&c, NW_CURVE_BINDS, err, sizeof err), 0);
    assert_true(nw_curve_roles_on());
    nw_curve_cfg_t empty = {.key = key, .roles = dir};
    char allow[128];
    path(allow, sizeof allow, "allow");
    assert_int_equal(nw_curve_init(&empty, NW_CURVE_BINDS, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "lists no key"));
    nw_curve_cfg_t both = {.key = key, .roles = roles, .allow = allow};
    assert_int_equal(nw_curve_init(&both, NW_CURVE_BINDS, err, sizeof err), -EINVAL);
}

/* Only socket "jobs" admits workers. */
static unsigned
policy(const char *domain)
{
    return strcmp(domain, "jobs") == 0 ? NW_ROLE_WORKER : 0;
}

struct seen {
    int n;
    unsigned role;
    char key[41];
};

static void
on_role_server(nw_zsock_t *zs, zmq_msg_t *frames, size_t n, void *arg)
{
    (void)zs;
    struct seen *s = arg;
    s->n++;
    s->role = nw_curve_peer_role(&frames[n - 1]);
    const char *k = zmq_msg_gets(&frames[n - 1], "X-Key");
    snprintf(s->key, sizeof s->key, "%s", k ? k : "");
}

static void *
role_server(void *ctx, const char *domain, char *endpoint, size_t n)
{
    void *srv = zmq_socket(ctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt(srv, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal(nw_curve_server_as(srv, domain), 0);
    assert_int_equal(zmq_bind(srv, "tcp://127.0.0.1:*"), 0);
    assert_int_equal(zmq_getsockopt(srv, ZMQ_LAST_ENDPOINT, endpoint, &n), 0);
    return srv;
}

/* A worker key gets into the worker's socket and its messages say so; a subscriber key and
 * an unlisted one are refused there, a worker key elsewhere; each refusal is counted. */
static void
test_roles_over_sockets(void **state)
{
    (void)state;
    char set[128], err[512], key[200], roles[200], pubf[200], broker_pub[41], wkey[200], skey[200],
        stranger[200], worker_pub[41];
    path(set, sizeof set, "set");
    assert_int_equal(nw_curve_keygen_set(set, NULL, NULL, err, sizeof err), 0);
    path(stranger, sizeof stranger, "stranger");
    assert_int_equal(nw_curve_keygen(stranger, err, sizeof err), 0);
    strcat(stranger, ".key");
    snprintf(key, sizeof key, "%s/broker.key", set);
    snprintf(roles, sizeof roles, "%s/roles", set);
    snprintf(pubf, sizeof pubf, "%s/broker.pub", set);
    snprintf(wkey, sizeof wkey, "%s/worker.key", set);
    snprintf(skey, sizeof skey, "%s/subscriber.key", set);
    field(pubf, "public-key", broker_pub);
    field(wkey, "public-key", worker_pub);
    nw_curve_cfg_t c = {.key = key, .roles = roles};
    assert_int_equal(nw_curve_init(&c, NW_CURVE_BINDS, err, sizeof err), 0);

    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    void *ctx = zmq_ctx_new();
    nw_zsock_t *zap = NULL;
    assert_int_equal(nw_curve_zap_start(&loop, ctx, policy, &zap), 0);
    char ep_jobs[64], ep_other[64];
    struct seen jobs = {0}, other = {0};
    nw_zsock_t *zj = nw_zsock_new(&loop, role_server(ctx, "jobs", ep_jobs, sizeof ep_jobs),
                                  on_role_server, &jobs);
    nw_zsock_t *zo = nw_zsock_new(&loop, role_server(ctx, "other", ep_other, sizeof ep_other),
                                  on_role_server, &other);
    nw_metric_t *m_role =
        nw_metrics_counter("nw_curve_refused_total", "socket=\"jobs\",reason=\"role\"", "");
    nw_metric_t *m_unknown =
        nw_metrics_counter("nw_curve_refused_total", "socket=\"jobs\",reason=\"unknown-key\"", "");
    nw_metric_t *m_other =
        nw_metrics_counter("nw_curve_refused_total", "socket=\"other\",reason=\"role\"", "");
    int64_t role0 = nw_metrics_value(m_role), unknown0 = nw_metrics_value(m_unknown),
            other0 = nw_metrics_value(m_other);

    void *sub = client(ctx, ep_jobs, broker_pub, skey);
    void *str = client(ctx, ep_jobs, broker_pub, stranger);
    void *wrong = client(ctx, ep_other, broker_pub, wkey);
    zmq_send(sub, "x", 1, ZMQ_DONTWAIT);
    zmq_send(str, "x", 1, ZMQ_DONTWAIT);
    zmq_send(wrong, "x", 1, ZMQ_DONTWAIT);
    for (int i = 0;
         i < 300 && (nw_metrics_value(m_role) == role0 || nw_metrics_value(m_unknown) == unknown0 ||
                     nw_metrics_value(m_other) == other0);
         i++)
        run_for(&loop, 10);
    assert_true(nw_metrics_value(m_role) > role0);
    assert_true(nw_metrics_value(m_unknown) > unknown0);
    assert_true(nw_metrics_value(m_other) > other0);
    void *worker = client(ctx, ep_jobs, broker_pub, wkey);
    assert_int_equal(zmq_send(worker, "job", 3, 0), 3);
    for (int i = 0; i < 300 && jobs.n == 0; i++)
        run_for(&loop, 10);
    run_for(&loop, 50);
    assert_int_equal(jobs.n, 1); /* the worker's only; the refused ones never arrive */
    assert_int_equal(other.n, 0);
    assert_int_equal(jobs.role, NW_ROLE_WORKER);
    assert_string_equal(jobs.key, worker_pub);

    zmq_close(sub);
    zmq_close(str);
    zmq_close(wrong);
    zmq_close(worker);
    nw_zsock_close(zj, NULL, NULL);
    nw_zsock_close(zo, NULL, NULL);
    nw_zsock_close(zap, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    zmq_ctx_term(ctx);
}

static void
test_role_names(void **state)
{
    (void)state;
    assert_int_equal(nw_curve_role_parse("worker", 6), NW_ROLE_WORKER);
    assert_int_equal(nw_curve_role_parse("work", 4), 0);
    assert_int_equal(nw_curve_role_parse("subscriber", 10), NW_ROLE_SUBSCRIBER);
    assert_string_equal(nw_curve_role_name(NW_ROLE_FETCH), "fetch");
    assert_null(nw_curve_role_name(NW_ROLE_FETCH | NW_ROLE_STORE));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keygen_and_init, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_starting_with_equals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allow_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_endpoint_local, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keygen_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roles_over_sockets, setup, teardown),
        cmocka_unit_test(test_role_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
