/* test_metrics.c: the metric registry and its Prometheus text exposition. */
#include "newswire/metrics.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static int
reset(void **state)
{
    (void)state;
    nw_metrics_reset();
    return 0;
}

static char *
render(void)
{
    nw_buf_t b = {0};
    assert_int_equal(nw_metrics_render(&b), 0);
    return (char *)nw_buf_steal(&b, NULL);
}

static int
count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void
test_counter_and_gauge(void **state)
{
    (void)state;
    nw_metric_t *c = nw_metrics_counter("nw_test_total", NULL, "Things counted.");
    nw_metric_t *g = nw_metrics_gauge("nw_test_depth", NULL, "Queue depth.");
    assert_non_null(c);
    assert_non_null(g);
    nw_metrics_add(c, 3);
    nw_metrics_add(c, 2);
    nw_metrics_set(g, -7);
    assert_int_equal(nw_metrics_value(c), 5);
    assert_int_equal(nw_metrics_value(g), -7);
    /* Same name + labels finds the same series. */
    assert_ptr_equal(nw_metrics_counter("nw_test_total", NULL, NULL), c);
    /* NULL is ignored everywhere. */
    nw_metrics_add(NULL, 1);
    nw_metrics_set(NULL, 1);
    assert_int_equal(nw_metrics_value(NULL), 0);

    char *text = render();
    assert_non_null(strstr(text, "# HELP nw_test_total Things counted.\n"
                                 "# TYPE nw_test_total counter\n"
                                 "nw_test_total 5\n"));
    assert_non_null(strstr(text, "# TYPE nw_test_depth gauge\nnw_test_depth -7\n"));
    free(text);
}

static void
test_labels_grouped_under_one_header(void **state)
{
    (void)state;
    nw_metric_t *a = nw_metrics_counter("nw_req_total", "code=\"200\"", "Requests.");
    nw_metrics_counter("nw_other", NULL, "Interleaved registration.");
    nw_metric_t *b = nw_metrics_counter("nw_req_total", "code=\"404\"", NULL);
    assert_ptr_not_equal(a, b);
    nw_metrics_add(a, 10);
    nw_metrics_add(b, 1);

    char *text = render();
    assert_int_equal(count(text, "# HELP nw_req_total "), 1);
    assert_int_equal(count(text, "# TYPE nw_req_total counter"), 1);
    /* Both series follow the one header, adjacent, even though another name was registered
     * between them. */
    assert_non_null(strstr(text, "# TYPE nw_req_total counter\n"
                                 "nw_req_total{code=\"200\"} 10\n"
                                 "nw_req_total{code=\"404\"} 1\n"));
    free(text);
}

static void
test_reason(void **state)
{
    (void)state;
    nw_metrics_reason("nw_dead_total", "invalid-utf8", "Dead letters by reason.");
    nw_metrics_reason("nw_dead_total", "invalid-utf8", NULL);
    nw_metrics_reason("nw_dead_total", "bad\"charset\\", NULL);
    assert_int_equal(
        nw_metrics_value(nw_metrics_counter("nw_dead_total", "reason=\"invalid-utf8\"", NULL)), 2);
    char *text = render();
    assert_non_null(strstr(text, "nw_dead_total{reason=\"invalid-utf8\"} 2\n"));
    assert_non_null(strstr(text, "nw_dead_total{reason=\"bad\\\"charset\\\\\"} 1\n"));
    assert_int_equal(count(text, "# HELP nw_dead_total Dead letters by reason.\n"), 1);
    free(text);
}

static void
test_process_metrics(void **state)
{
    (void)state;
    char *text = render();
    assert_non_null(strstr(text, "# TYPE process_resident_memory_bytes gauge\n"));
    assert_non_null(strstr(text, "# TYPE process_start_time_seconds gauge\n"));
    long long rss = 0;
    double start = 0;
    const char *p = strstr(text, "\nprocess_resident_memory_bytes ");
    assert_non_null(p);
    assert_int_equal(sscanf(p, "\nprocess_resident_memory_bytes %lld", &rss), 1);
    assert_true(rss > 0);
    p = strstr(text, "\nprocess_start_time_seconds ");
    assert_non_null(p);
    assert_int_equal(sscanf(p, "\nprocess_start_time_seconds %lf", &start), 1);
    /* After 2020-01-01: sanity of the boot time + start ticks arithmetic. */
    assert_true(start > 1577836800.0);
    free(text);
}

/* Prometheus histogram format: cumulative buckets with le, +Inf equal to _count, _sum. */
static void
test_histogram(void **state)
{
    (void)state;
    nw_metric_t *h = nw_metrics_histogram("nw_x_seconds", "stage=\"parse\"", "Job time.");
    assert_non_null(h);
    nw_metrics_observe(h, 0.0004); /* <= 0.001 */
    nw_metrics_observe(h, 0.02);   /* <= 0.025 */
    nw_metrics_observe(h, 1000);   /* only +Inf */
    nw_metrics_observe(h, -1);     /* a clock that went back: 0 */
    char *text = render();
    assert_non_null(strstr(text, "# TYPE nw_x_seconds histogram\n"));
    assert_non_null(strstr(text, "nw_x_seconds_bucket{stage=\"parse\",le=\"0.001\"} 2\n"));
    assert_non_null(strstr(text, "nw_x_seconds_bucket{stage=\"parse\",le=\"0.01\"} 2\n"));
    assert_non_null(strstr(text, "nw_x_seconds_bucket{stage=\"parse\",le=\"0.025\"} 3\n"));
    assert_non_null(strstr(text, "nw_x_seconds_bucket{stage=\"parse\",le=\"300\"} 3\n"));
    assert_non_null(strstr(text, "nw_x_seconds_bucket{stage=\"parse\",le=\"+Inf\"} 4\n"));
    assert_non_null(strstr(text, "nw_x_seconds_count{stage=\"parse\"} 4\n"));
    assert_non_null(strstr(text, "nw_x_seconds_sum{stage=\"parse\"} 1000.020400\n"));
    /* one name, one type: a histogram is not re-registered as a counter of the same name */
    nw_metrics_add(nw_metrics_counter("nw_c_total", NULL, "c"), 1);
    assert_null(nw_metrics_histogram("nw_c_total", NULL, "c"));
    free(text);
}

static void
test_zero_series_and_build_info(void **state)
{
    (void)state;
    static const char *const reasons[] = {"bad-json", "empty", NULL};
    nw_metrics_reasons_init("nw_p_dead_total", reasons, "Dead.");
    nw_metrics_set_service("parse");
    char *text = render();
    assert_non_null(strstr(text, "nw_p_dead_total{reason=\"bad-json\"} 0\n"));
    assert_non_null(strstr(text, "nw_p_dead_total{reason=\"empty\"} 0\n"));
    assert_int_equal(count(text, "# TYPE nw_p_dead_total counter"), 1);
    assert_non_null(strstr(text, "# TYPE process_cpu_seconds_total counter\n"));
    assert_non_null(strstr(text, "nw_build_info{version=\""));
    assert_non_null(strstr(text, "\",service=\"parse\"} 1\n"));
    double cpu = -1;
    const char *p = strstr(text, "\nprocess_cpu_seconds_total ");
    assert_non_null(p);
    assert_int_equal(sscanf(p, "\nprocess_cpu_seconds_total %lf", &cpu), 1);
    assert_true(cpu >= 0);
    free(text);
}

static void
test_reset_empties(void **state)
{
    (void)state;
    nw_metrics_add(nw_metrics_counter("nw_gone_total", NULL, "x"), 1);
    nw_metrics_reset();
    char *text = render();
    assert_null(strstr(text, "nw_gone_total"));
    free(text);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_counter_and_gauge, reset, reset),
        cmocka_unit_test_setup_teardown(test_labels_grouped_under_one_header, reset, reset),
        cmocka_unit_test_setup_teardown(test_reason, reset, reset),
        cmocka_unit_test_setup_teardown(test_process_metrics, reset, reset),
        cmocka_unit_test_setup_teardown(test_histogram, reset, reset),
        cmocka_unit_test_setup_teardown(test_zero_series_and_build_info, reset, reset),
        cmocka_unit_test_setup_teardown(test_reset_empties, reset, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
