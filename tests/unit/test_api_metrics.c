/*
 * test_api_metrics.c — the registry and its text: every metric with HELP
 * and TYPE, names under hedgehog_ with _total only on counters, label sets
 * declared up front (series looked up by value), counters exact under
 * concurrent updates, gauges and state sets, histograms with cumulative
 * buckets in seconds, label values escaped, NULL handle a no-op, and the
 * whole text accepted by `promtool check metrics`.
 */
#include "apitest.h"

#include "api/api_int.h"
#include "exec/breaker.h"
#include "signal/signal.h"

#include <openssl/crypto.h>

static struct hh_api *make_api(const char *version)
{
    static const char *const under[] = { "NIFTY", "BANKNIFTY", "FIN\"NIFTY" };
    struct hh_api_config cfg = { .listen = "127.0.0.1:0", .version = version,
                                 .underlyings = under, .nunderlyings = 3 };
    struct hh_diag d = { { 0 } };
    struct hh_api *a = NULL;

    if (hh_api_new(&cfg, &a, &d) != HH_OK)
        fail_msg("hh_api_new: %s", d.msg);
    return a;
}

static char *render(struct hh_api *a)
{
    char *text = NULL;
    size_t len = 0;

    assert_int_equal(hh_api_metrics_render(a, &text, &len), HH_OK);
    assert_int_equal(strlen(text), len);
    return text;
}

static void assert_line(const char *text, const char *line)
{
    char want[512];

    snprintf(want, sizeof want, "\n%s\n", line);
    if (!strstr(text, want))
        fail_msg("missing line: %s", line);
}

static void test_every_metric_declared(void **state)
{
    struct hh_api *a = make_api("1.2.3");
    char *text = render(a);

    (void)state;
    for (int m = 0; m < HH_API_M_COUNT; m++) {
        const struct hh_api__metric *mt = &a->reg.m[m];
        char help[256], type[256];
        size_t n = strlen(mt->name);

        assert_int_equal(strncmp(mt->name, "hedgehog_", 9), 0);
        assert_int_equal(mt->type == HH_API__COUNTER, n > 6 && !strcmp(mt->name + n - 6, "_total"));
        snprintf(help, sizeof help, "# HELP %s ", mt->name);
        snprintf(type, sizeof type, "# TYPE %s %s\n", mt->name,
                 mt->type == HH_API__COUNTER ? "counter"
                 : mt->type == HH_API__GAUGE ? "gauge" : "histogram");
        assert_non_null(strstr(text, help));
        assert_non_null(strstr(text, type));
    }
    {
        char want[256];

        snprintf(want, sizeof want, "hedgehog_build_info{version=\"1.2.3\",libmicrohttpd=\"%s\","
                 "openssl=\"%s\"} 1", MHD_get_version(), OpenSSL_version(OPENSSL_VERSION_STRING));
        assert_line(text, want);
    }
    free(text);
    hh_api_free(a);
}

static void test_series_lookup(void **state)
{
    struct hh_api *a = make_api(NULL);

    (void)state;
    assert_int_equal(hh_api_series(a, HH_API_M_SIGNALS, "DUPLICATE"), HH_SIG_DUPLICATE);
    assert_int_equal(hh_api_series(a, HH_API_M_SIGNALS, "NONE"), HH_SIG_NONE);
    assert_int_equal(hh_api_series(a, HH_API_M_BREAKER_STATE, "HALF_OPEN"), HH_BRK_HALF_OPEN);
    assert_int_equal(hh_api_series(a, HH_API_M_ORDERS, "FILLED"), 1);
    assert_int_equal(hh_api_series(a, HH_API_M_UNHEDGED_EXPOSURE, "BANKNIFTY"), 1);
    assert_int_equal(hh_api_series(a, HH_API_M_UNHEDGED_EXPOSURE, "SENSEX"), HH_ENOTFOUND);
    assert_int_equal(hh_api_series(a, HH_API_M_KILL_SWITCH_STATE, "HALTED"), 3);
    assert_int_equal(hh_api_series(a, HH_API_M_COMPONENT_UP, "store"), 1);
    assert_int_equal(hh_api_series(a, HH_API_M_API_REFUSED, "REPLAYED_NONCE"),
                     HH_API_REF_REPLAYED_NONCE);
    assert_int_equal(hh_api_series(a, HH_API_M_FILLS, "anything"), 0);
    assert_int_equal(hh_api_series(NULL, HH_API_M_FILLS, ""), HH_ENOTFOUND);
    hh_api_free(a);
}

static void test_values_rendered(void **state)
{
    struct hh_api *a = make_api("v\"1\\x");
    char *text;

    (void)state;
    hh_api_count(a, HH_API_M_SIGNALS, HH_SIG_NONE, 7);
    hh_api_count(a, HH_API_M_SIGNALS, HH_SIG_STALE, 2);
    hh_api_count(a, HH_API_M_ORDERS, hh_api_series(a, HH_API_M_ORDERS, "REJECTED"), 1);
    hh_api_gauge(a, HH_API_M_MARGIN_UTILISATION, 0, 0.85);
    hh_api_gauge(a, HH_API_M_UNHEDGED_EXPOSURE, 2, 150);
    hh_api_state(a, HH_API_M_BREAKER_STATE, HH_BRK_OPEN);
    hh_api_state(a, HH_API_M_KILL_SWITCH_STATE, 2);
    hh_api_state(a, HH_API_M_KILL_SWITCH_STATE, 3);
    text = render(a);
    assert_line(text, "hedgehog_signals_total{decision=\"ACCEPTED\",reason=\"NONE\"} 7");
    assert_line(text, "hedgehog_signals_total{decision=\"REJECTED\",reason=\"STALE\"} 2");
    assert_line(text, "hedgehog_orders_total{result=\"REJECTED\"} 1");
    assert_line(text, "hedgehog_orders_total{result=\"FILLED\"} 0");
    assert_line(text, "hedgehog_margin_utilisation_ratio 0.85");
    assert_line(text, "hedgehog_unhedged_exposure_units{underlying=\"FIN\\\"NIFTY\"} 150");
    assert_line(text, "hedgehog_breaker_state{state=\"OPEN\"} 1");
    assert_line(text, "hedgehog_breaker_state{state=\"CLOSED\"} 0");
    assert_line(text, "hedgehog_kill_switch_state{state=\"REDUCING\"} 0");
    assert_line(text, "hedgehog_kill_switch_state{state=\"HALTED\"} 1");
    assert_non_null(strstr(text, "hedgehog_build_info{version=\"v\\\"1\\\\x\","));
    free(text);
    hh_api_free(a);
}

static void test_histogram(void **state)
{
    struct hh_api *a = make_api(NULL);
    char *text;

    (void)state;
    hh_api_observe_ns(a, HH_API_M_HEDGE_LAG, 0, 5000000);        /* on the first bound */
    hh_api_observe_ns(a, HH_API_M_HEDGE_LAG, 0, 5000001);
    hh_api_observe_ns(a, HH_API_M_HEDGE_LAG, 0, 600000000);      /* 0.6 s */
    hh_api_observe_ns(a, HH_API_M_HEDGE_LAG, 0, 99000000000);    /* above every bound */
    hh_api_observe_ns(a, HH_API_M_HEDGE_LAG, 0, -5);             /* clamped to 0 */
    text = render(a);
    assert_line(text, "hedgehog_hedge_lag_seconds_bucket{le=\"0.005\"} 2");
    assert_line(text, "hedgehog_hedge_lag_seconds_bucket{le=\"0.01\"} 3");
    assert_line(text, "hedgehog_hedge_lag_seconds_bucket{le=\"0.5\"} 3");
    assert_line(text, "hedgehog_hedge_lag_seconds_bucket{le=\"1\"} 4");
    assert_line(text, "hedgehog_hedge_lag_seconds_bucket{le=\"30\"} 4");
    assert_line(text, "hedgehog_hedge_lag_seconds_bucket{le=\"+Inf\"} 5");
    assert_line(text, "hedgehog_hedge_lag_seconds_count 5");
    assert_line(text, "hedgehog_hedge_lag_seconds_sum 99.610000001");
    free(text);
    hh_api_free(a);
}

struct adder {
    struct hh_api *a;
    int n;
};

static void *add_many(void *arg)
{
    struct adder *x = arg;

    for (int i = 0; i < x->n; i++) {
        hh_api_count(x->a, HH_API_M_FILLS, 0, 1);
        hh_api_observe_ns(x->a, HH_API_M_STORE_COMMIT_LATENCY, 0, 1000);
    }
    return NULL;
}

static void test_concurrent_updates_exact(void **state)
{
    struct hh_api *a = make_api(NULL);
    struct adder x = { a, 200000 };
    pthread_t t[4];
    char *text;

    (void)state;
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, add_many, &x);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    text = render(a);
    assert_line(text, "hedgehog_fills_total 800000");
    assert_line(text, "hedgehog_store_commit_latency_seconds_count 800000");
    assert_line(text, "hedgehog_store_commit_latency_seconds_sum 0.8");
    free(text);
    hh_api_free(a);
}

static void test_null_handle(void **state)
{
    char *text = (char *)"x";
    size_t len = 1;

    (void)state;
    hh_api_count(NULL, HH_API_M_FILLS, 0, 1);
    hh_api_gauge(NULL, HH_API_M_OPEN_POSITIONS, 0, 1);
    hh_api_state(NULL, HH_API_M_BREAKER_STATE, 0);
    hh_api_observe_ns(NULL, HH_API_M_HEDGE_LAG, 0, 1);
    assert_int_equal(hh_api_metrics_render(NULL, &text, &len), HH_OK);
    assert_null(text);
    assert_int_equal(hh_api_publish(NULL, HH_API_DOC_STATUS, "{}", 2), HH_OK);
    assert_false(hh_api_next_command(NULL, NULL));
}

static void test_promtool_accepts(void **state)
{
    struct hh_api *a = make_api("test");
    char *text, path[512], cmd[700];
    FILE *f;

    (void)state;
    hh_api_count(a, HH_API_M_SIGNALS, HH_SIG_DUPLICATE, 3);
    hh_api_observe_ns(a, HH_API_M_SIGNAL_ORDER_LATENCY, 0, 3000000);
    hh_api_gauge(a, HH_API_M_MARKET_DATA_LAG, 0, 1.5);
    text = render(a);
    snprintf(path, sizeof path, "/tmp/hh-unit-%d/metrics.txt", (int)getpid());
    tu_write_file(0, "metrics.txt", "");
    f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "promtool check metrics < %s", path);
    assert_int_equal(system(cmd), 0);
    free(text);
    hh_api_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_metric_declared),
        cmocka_unit_test(test_series_lookup),
        cmocka_unit_test(test_values_rendered),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_concurrent_updates_exact),
        cmocka_unit_test(test_null_handle),
        cmocka_unit_test(test_promtool_accepts),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);

    tu_cleanup();
    return rc;
}
