/* test_link.c: nw_link, a connecting socket's "is my peer there?" from its monitor events
 * (link.h), which fetch's and the Kafka bridge's /readyz use. Real sockets over loopback TCP:
 * the link is down before the peer binds, up once it does, down when the peer closes, up
 * again when it comes back on the same port; a peer whose CURVE key is not the one we expect
 * never counts as connected and the reason says why. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <zmq.h>

#include "newswire/link.h"

static void
sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Poll the link until it is up (want 1) or down (want 0); 1 when it got there in 10 s. */
static int
wait_link(nw_link_t *l, int want)
{
    for (int i = 0; i < 1000; i++) {
        if ((nw_link_ready(l) == NULL) == want)
            return 1;
        sleep_ms(10);
    }
    return 0;
}

static void *
bind_pub(void *ctx, const char *ep, char *bound, size_t n)
{
    void *pub = zmq_socket(ctx, ZMQ_PUB);
    int linger = 0;
    assert_non_null(pub);
    zmq_setsockopt(pub, ZMQ_LINGER, &linger, sizeof linger);
    /* the port may stay in TIME_WAIT a moment after the last close */
    int rc = -1;
    for (int i = 0; i < 200 && (rc = zmq_bind(pub, ep)) < 0; i++)
        sleep_ms(10);
    assert_int_equal(rc, 0);
    size_t len = n;
    assert_int_equal(zmq_getsockopt(pub, ZMQ_LAST_ENDPOINT, bound, &len), 0);
    return pub;
}

static void
test_up_down_up(void **state)
{
    (void)state;
    void *ctx = zmq_ctx_new();
    char ep[256];
    void *pub = bind_pub(ctx, "tcp://127.0.0.1:*", ep, sizeof ep);
    zmq_close(pub); /* a free port, nobody on it yet */

    void *sub = zmq_socket(ctx, ZMQ_SUB);
    int linger = 0;
    zmq_setsockopt(sub, ZMQ_LINGER, &linger, sizeof linger);
    nw_link_t *l = nw_link_new(ctx, sub, "broker", 100, 300);
    assert_non_null(l);
    assert_int_equal(zmq_connect(sub, ep), 0);
    sleep_ms(200);
    const char *why = nw_link_ready(l);
    assert_non_null(why);
    assert_string_equal(why, "no connection to the broker");
    assert_int_equal(nw_link_up(l), 0);

    pub = bind_pub(ctx, ep, ep, sizeof ep);
    assert_true(wait_link(l, 1));
    assert_int_equal(nw_link_up(l), 1);

    zmq_close(pub);
    assert_true(wait_link(l, 0));
    assert_non_null(strstr(nw_link_ready(l), "no connection"));

    pub = bind_pub(ctx, ep, ep, sizeof ep);
    assert_true(wait_link(l, 1));

    nw_link_destroy(&l);
    assert_null(l);
    nw_link_destroy(&l); /* NULL-safe */
    zmq_close(sub);
    zmq_close(pub);
    assert_int_equal(zmq_ctx_term(ctx), 0);
}

static void
test_wrong_server_key(void **state)
{
    (void)state;
    void *ctx = zmq_ctx_new();
    char server_pub[41], server_sec[41], other_pub[41], other_sec[41], client_pub[41],
        client_sec[41], ep[256];
    assert_int_equal(zmq_curve_keypair(server_pub, server_sec), 0);
    assert_int_equal(zmq_curve_keypair(other_pub, other_sec), 0);
    assert_int_equal(zmq_curve_keypair(client_pub, client_sec), 0);

    void *pub = zmq_socket(ctx, ZMQ_PUB);
    int one = 1, linger = 0;
    zmq_setsockopt(pub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(pub, ZMQ_CURVE_SERVER, &one, sizeof one);
    zmq_setsockopt(pub, ZMQ_CURVE_SECRETKEY, server_sec, 40);
    assert_int_equal(zmq_bind(pub, "tcp://127.0.0.1:*"), 0);
    size_t len = sizeof ep;
    zmq_getsockopt(pub, ZMQ_LAST_ENDPOINT, ep, &len);

    /* The client expects another server key: the handshake cannot succeed. */
    void *sub = zmq_socket(ctx, ZMQ_SUB);
    zmq_setsockopt(sub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(sub, ZMQ_CURVE_SERVERKEY, other_pub, 40);
    zmq_setsockopt(sub, ZMQ_CURVE_PUBLICKEY, client_pub, 40);
    zmq_setsockopt(sub, ZMQ_CURVE_SECRETKEY, client_sec, 40);
    nw_link_t *l = nw_link_new(ctx, sub, "broker", 0, 0);
    assert_non_null(l);
    assert_int_equal(zmq_connect(sub, ep), 0);
    const char *why = NULL;
    for (int i = 0; i < 500; i++) {
        why = nw_link_ready(l);
        if (why && strstr(why, "handshake"))
            break;
        assert_non_null(why); /* never up */
        sleep_ms(10);
    }
    assert_non_null(why);
    assert_non_null(strstr(why, "handshake with the broker at tcp://127.0.0.1:"));
    assert_int_equal(nw_link_up(l), 0);

    nw_link_destroy(&l);
    zmq_close(sub);
    zmq_close(pub);
    assert_int_equal(zmq_ctx_term(ctx), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_up_down_up),
        cmocka_unit_test(test_wrong_server_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
