/* test_sub.c: nw_sub_open, the topic hub subscriber newswire-query and `newswire tail` share:
 * it reaches pub.out of the broker base endpoint, gets exactly the subscribed prefixes, and says
 * what went wrong in words. Real sockets over inproc://. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <zmq.h>

#include "newswire/stage.h"
#include "newswire/sub.h"

static void
send2(void *pub, const char *topic, const char *body)
{
    assert_int_equal(zmq_send(pub, topic, strlen(topic), ZMQ_SNDMORE), (int)strlen(topic));
    assert_int_equal(zmq_send(pub, body, strlen(body), 0), (int)strlen(body));
}

/* The first frame of the next message, or "" after a second of nothing. */
static void
recv_topic(void *sub, char *out, size_t n)
{
    int timeout = 1000;
    zmq_setsockopt(sub, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    int len = zmq_recv(sub, out, n - 1, 0);
    out[len < 0 ? 0 : len] = 0;
    int more = 0;
    size_t sz = sizeof more;
    char skip_buf[64];
    while (len >= 0 && zmq_getsockopt(sub, ZMQ_RCVMORE, &more, &sz) == 0 && more)
        len = zmq_recv(sub, skip_buf, sizeof skip_buf, 0);
}

static void
test_prefixes(void **state)
{
    (void)state;
    void *ctx = zmq_ctx_new();
    char ep[NW_EP_MAX], err[256] = "", topic[64];
    assert_int_equal(nw_ep_derive("inproc://subtest", NW_EP_PUB_OUT, ep, sizeof ep), 0);
    void *pub = zmq_socket(ctx, ZMQ_PUB);
    assert_int_equal(zmq_bind(pub, ep), 0);
    const char *topics[] = {"lang.en", "country.eg"};
    void *sub = nw_sub_open(ctx, "inproc://subtest", topics, 2, 10, err, sizeof err);
    assert_non_null(sub);
    assert_string_equal(err, "");
    int hwm = 0;
    size_t sz = sizeof hwm;
    assert_int_equal(zmq_getsockopt(sub, ZMQ_RCVHWM, &hwm, &sz), 0);
    assert_int_equal(hwm, 10);
    /* A subscription reaches the publisher asynchronously: publish until one arrives, then
     * drain the warm-up messages. */
    int got = 0;
    for (int i = 0; i < 500 && !got; i++) {
        send2(pub, "lang.en", "warm-up");
        zmq_pollitem_t item = {.socket = sub, .events = ZMQ_POLLIN};
        got = zmq_poll(&item, 1, 10) == 1;
    }
    assert_true(got);
    char drain[64];
    while (zmq_recv(sub, drain, sizeof drain, ZMQ_DONTWAIT) >= 0)
        ;
    send2(pub, "lang.de", "not subscribed");
    send2(pub, "country.eg.cairo", "a prefix match");
    send2(pub, "all", "not subscribed");
    send2(pub, "lang.en", "subscribed");
    recv_topic(sub, topic, sizeof topic);
    assert_string_equal(topic, "country.eg.cairo");
    recv_topic(sub, topic, sizeof topic);
    assert_string_equal(topic, "lang.en");
    zmq_close(sub);
    zmq_close(pub);
    zmq_ctx_term(ctx);
}

/* A broker pair (stage.h): one SUB on both hubs hears whichever forwards. */
static void
test_pair(void **state)
{
    (void)state;
    void *ctx = zmq_ctx_new();
    char ep[NW_EP_MAX], err[256] = "", topic[64];
    void *pub[2];
    const char *bases[2] = {"inproc://suba", "inproc://subb"};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(nw_ep_derive(bases[i], NW_EP_PUB_OUT, ep, sizeof ep), 0);
        pub[i] = zmq_socket(ctx, ZMQ_PUB);
        assert_int_equal(zmq_bind(pub[i], ep), 0);
    }
    const char *all = "all";
    void *sub = nw_sub_open(ctx, "inproc://suba,inproc://subb", &all, 1, 0, err, sizeof err);
    assert_non_null(sub);
    for (int i = 0; i < 2; i++) {
        int got = 0;
        for (int k = 0; k < 500 && !got; k++) {
            send2(pub[i], i ? "all.b" : "all.a", "x");
            zmq_pollitem_t item = {.socket = sub, .events = ZMQ_POLLIN};
            got = zmq_poll(&item, 1, 10) == 1;
        }
        assert_true(got);
        /* the warm-ups that arrived: every one from this hub */
        int seen = 0;
        zmq_pollitem_t item = {.socket = sub, .events = ZMQ_POLLIN};
        while (zmq_poll(&item, 1, 0) == 1) {
            recv_topic(sub, topic, sizeof topic);
            assert_string_equal(topic, i ? "all.b" : "all.a");
            seen++;
        }
        assert_true(seen > 0);
    }
    assert_null(nw_sub_open(ctx, "inproc://suba,", &all, 1, 0, err, sizeof err));
    zmq_close(sub);
    zmq_close(pub[0]);
    zmq_close(pub[1]);
    zmq_ctx_term(ctx);
}

static void
test_errors(void **state)
{
    (void)state;
    void *ctx = zmq_ctx_new();
    char err[256] = "";
    const char *all = "all";
    assert_null(nw_sub_open(ctx, "smtp://nowhere", &all, 1, 0, err, sizeof err));
    assert_string_equal(err, "bad broker endpoint \"smtp://nowhere\"");
    /* tcp to a port nobody listens on connects lazily; an unknown transport does not */
    assert_null(nw_sub_open(ctx, "tcp://127.0.0.1:65530", &all, 1, 0, err, sizeof err));
    assert_non_null(strstr(err, "bad broker endpoint"));
    zmq_ctx_term(ctx); /* no socket left open: term returns at once */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_pair),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
