/*
 * test_config.c — the YAML configuration: defaults, every type, exact
 * numbers, unknown keys and bad values rejected with file:line and key.
 */
#include "testutil.h"

#include "app/config.h"

static int load(const char *yaml, struct hh_config *c, struct hh_diag *d)
{
    const char *p = tu_write_file(0, "cfg.yaml", yaml);

    return hh_config_load(c, p, d);
}

static void test_defaults(void **state)
{
    struct hh_config c;

    (void)state;
    hh_config_defaults(&c);
    assert_int_equal(c.capital, 1000000LL * HH_RUPEE);
    assert_int_equal(c.risk.risk_per_trade, HH_RATIO_SCALE / 100);
    assert_int_equal(c.risk.max_open_trades, 1);
    assert_int_equal(c.risk.min_rr, 3 * HH_RATIO_SCALE / 2);
    assert_int_equal(c.signals.max_live_age, 120 * HH_NS_PER_S);
    assert_int_equal(c.entry.timeframe, HH_NS_PER_MIN);
    assert_true(c.exits.breakeven_after_t1);
    assert_true(c.exits.squareoff_set);
    assert_false(c.exits.squareoff_explicit);
    assert_int_equal(c.exits.squareoff, HH_TOD(15, 15));
    assert_string_equal(c.execution.fees, "zero");
    assert_int_equal(c.reconcile.poll, 12 * HH_NS_PER_S);
    assert_int_equal(c.exec.hedge_debounce, 500 * HH_NS_PER_MS);
}

static void test_empty_file_is_defaults(void **state)
{
    struct hh_config c;
    struct hh_diag d;

    (void)state;
    assert_int_equal(load("", &c, &d), HH_OK);
    assert_int_equal(c.risk.max_lots_per_trade, 100);
}

static void test_full_file(void **state)
{
    struct hh_config c;
    struct hh_diag d = { "" };

    (void)state;
    assert_int_equal(load("capital: 250000.50\n"
                          "instruments: inst.csv\n"
                          "calendar:\n  holidays: /abs/h.csv\n"
                          "risk:\n  risk_per_trade: 0.005\n  size_scale: 0.5\n"
                          "  max_lots_per_trade: 10\n  max_open_trades: 3\n"
                          "  min_rr: 2\n  min_confidence: 0.75\n  margin_buffer: 0.8\n"
                          "signals: {max_live_age_s: 30.5, max_clock_skew_s: 0}\n"
                          "entry:\n  mode: touch\n  timeframe: 5m\n  volume_mult: 1.5\n"
                          "  volume_lookback: 10\n  require_pattern: true\n"
                          "exits:\n  breakeven_after_t1: false\n  squareoff: \"15:20\"\n"
                          "execution:\n  slippage_bps: 2.5\n  fees: nse_fo_options\n"
                          "broker:\n  retry: {attempts: 5, base_ms: 100, max_ms: 800, jitter: 0.1}\n"
                          "paper:\n  faults:\n    seed: 42\n    unavailable: [\"10:00:00-10:05:00\"]\n",
                          &c, &d), HH_OK);
    assert_int_equal(c.capital, 2500005000LL);
    assert_true(strstr(c.instruments, "/inst.csv") != NULL);
    assert_string_equal(c.holidays, "/abs/h.csv");
    assert_int_equal(c.risk.risk_per_trade, 5000000);
    assert_int_equal(c.risk.size_scale, HH_RATIO_SCALE / 2);
    assert_int_equal(c.risk.max_open_trades, 3);
    assert_int_equal(c.risk.min_confidence, 750000000);
    assert_int_equal(c.signals.max_live_age, 30500000000LL);
    assert_int_equal(c.signals.max_clock_skew, 0);
    assert_int_equal(c.entry.mode, HH_ENTRY_TOUCH);
    assert_int_equal(c.entry.timeframe, 5 * HH_NS_PER_MIN);
    assert_int_equal(c.entry.volume_mult, 1500000000);
    assert_true(c.entry.require_pattern);
    assert_false(c.exits.breakeven_after_t1);
    assert_true(c.exits.squareoff_explicit);
    assert_int_equal(c.exits.squareoff, HH_TOD(15, 20));
    assert_int_equal(c.execution.slippage_bps, 2500000000LL);
    assert_string_equal(c.execution.fees, "nse_fo_options");
    assert_int_equal(c.broker.retry_attempts, 5);
    assert_int_equal(c.broker.retry_max, 800 * HH_NS_PER_MS);
    assert_int_equal(c.paper.seed, 42);
    assert_int_equal(c.paper.n_unavailable, 1);
    assert_int_equal(c.paper.unavailable[0].from, HH_TOD(10, 0));
    assert_int_equal(c.paper.unavailable[0].to, HH_TOD(10, 5));
}

static void test_squareoff_null_holds(void **state)
{
    struct hh_config c;
    struct hh_diag d;

    (void)state;
    assert_int_equal(load("exits:\n  squareoff: null\n", &c, &d), HH_OK);
    assert_false(c.exits.squareoff_set);
    assert_true(c.exits.squareoff_explicit);
}

static void expect_error(const char *yaml, const char *needle)
{
    struct hh_config c;
    struct hh_diag d = { "" };

    assert_int_equal(load(yaml, &c, &d), HH_ECONFIG);
    if (!strstr(d.msg, needle))
        fail_msg("message '%s' lacks '%s'", d.msg, needle);
}

static void test_unknown_keys(void **state)
{
    (void)state;
    expect_error("risk:\n  max_lot: 3\n", ":2: key 'risk.max_lot': unknown key");
    expect_error("capitol: 5\n", "key 'capitol': unknown key");
    expect_error("risk: 3\n", "key 'risk': is a section");
    expect_error("capital: 1\ncapital: 2\n", "appears twice");
}

static void test_bad_values(void **state)
{
    (void)state;
    expect_error("capital: 0\n", "out of range");
    expect_error("capital: abc\n", "not a number");
    expect_error("risk:\n  risk_per_trade: 1.5\n", "out of range");
    expect_error("risk:\n  min_rr: 0.0000000001\n", "more decimal places");
    expect_error("entry:\n  mode: breakout\n", "not retest or touch");
    expect_error("entry:\n  timeframe: 2m\n", "not one of");
    expect_error("exits:\n  squareoff: \"25:00\"\n", "not a time");
    expect_error("exits:\n  breakeven_after_t1: maybe\n", "not true or false");
    expect_error("execution:\n  slippage_ticks: 1\n  slippage_bps: 2\n", "both set");
    expect_error("capital: [1, 2]\n", "single value");
    expect_error("risk:\n  max_open_trades:\n", "needs a value");
    expect_error("- a\n- b\n", "must be a mapping");
    expect_error("capital: 5\n  bad: [\n", "YAML error");
}

static void test_missing_file(void **state)
{
    struct hh_config c;
    struct hh_diag d = { "" };

    (void)state;
    assert_int_equal(hh_config_load(&c, "/nonexistent/cfg.yaml", &d), HH_EIO);
    assert_non_null(strstr(d.msg, "/nonexistent/cfg.yaml"));
}

static void test_timeframe(void **state)
{
    int64_t tf;

    (void)state;
    assert_int_equal(hh_config_parse_timeframe("15m", &tf), HH_OK);
    assert_int_equal(tf, 15 * HH_NS_PER_MIN);
    assert_int_equal(hh_config_parse_timeframe("1h", &tf), HH_OK);
    assert_int_equal(tf, HH_NS_PER_HOUR);
    assert_int_equal(hh_config_parse_timeframe("1d", &tf), HH_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_empty_file_is_defaults),
        cmocka_unit_test(test_full_file),
        cmocka_unit_test(test_squareoff_null_holds),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_timeframe),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);

    tu_cleanup();
    return rc;
}
