/*
 * test_config.c — the YAML configuration: the defaults (unchanged from the
 * hand-written ones they replaced), every type, exact numbers, the new keys
 * and their validators, unknown keys and bad values rejected with file:line
 * and key, the printed defaults loading as printed, and the mapping into
 * the trade manager, the simulated exchange and the paper broker.
 */
#include "testutil.h"

#include "app/config.h"
#include "trade/charges.h"

#include <libgen.h>

#define R(x) ((int64_t)((x) * HH_RATIO_SCALE))

static int load(const char *yaml, struct hh_config *c, struct hh_diag *d)
{
    const char *p = tu_write_file(0, "cfg.yaml", yaml);

    return hh_config_load(c, p, d);
}

/* The directory of the files tu_write_file() writes. */
static const char *tmp_dir(void)
{
    static char dir[512];

    snprintf(dir, sizeof dir, "%s", tu_write_file(7, "probe", ""));
    return dirname(dir);
}

/* Put instruments.csv and holidays.csv next to the config file, or remove
 * them (the temp directory may be left over from a process with our pid). */
static void default_files(bool present)
{
    const char *i = tu_write_file(5, "instruments.csv", "");
    const char *h = tu_write_file(6, "holidays.csv", "");

    if (!present) {
        remove(i);
        remove(h);
    }
}

static void expect_error(const char *yaml, const char *needle)
{
    struct hh_config c;
    struct hh_diag d = { "" };

    assert_int_equal(load(yaml, &c, &d), HH_ECONFIG);
    if (!strstr(d.msg, needle))
        fail_msg("message '%s' lacks '%s'", d.msg, needle);
}

static void expect_ok(const char *yaml, struct hh_config *c)
{
    struct hh_diag d = { "" };

    if (load(yaml, c, &d) != HH_OK)
        fail_msg("'%s' refused: %s", yaml, d.msg);
}

/* The values the hand-written hh_config_defaults() set before the table
 * held them (commit c45123a): no default may change. */
static void test_defaults_unchanged(void **state)
{
    struct hh_config c;

    (void)state;
    hh_config_defaults(&c);
    assert_string_equal(c.path, "");
    assert_int_equal(c.capital, 1000000 * HH_RUPEE);
    assert_string_equal(c.instruments, "");
    assert_string_equal(c.holidays, "");
    assert_int_equal(c.risk.risk_per_trade, R(0.01));
    assert_int_equal(c.risk.size_scale, R(1));
    assert_int_equal(c.risk.max_lots_per_trade, 100);
    assert_int_equal(c.risk.max_open_trades, 1);
    assert_int_equal(c.risk.min_rr, R(1.5));
    assert_int_equal(c.risk.min_confidence, R(0.6));
    assert_int_equal(c.risk.margin_buffer, R(0.9));
    assert_false(c.risk.allow_naked);
    assert_int_equal(c.risk.max_hedge_variance, R(0.1));
    assert_false(c.expiry.close_before_set);
    assert_int_equal(c.signals.max_live_age, 120 * HH_NS_PER_S);
    assert_int_equal(c.signals.max_clock_skew, 2 * HH_NS_PER_S);
    assert_int_equal(c.entry.mode, HH_ENTRY_RETEST);
    assert_int_equal(c.entry.timeframe, HH_NS_PER_MIN);
    assert_int_equal(c.entry.volume_mult, 0);
    assert_int_equal(c.entry.volume_lookback, 20);
    assert_false(c.entry.require_pattern);
    assert_true(c.exits.breakeven_after_t1);
    assert_true(c.exits.squareoff_set);
    assert_false(c.exits.squareoff_explicit);
    assert_int_equal(c.exits.squareoff, HH_TOD(15, 15));
    assert_int_equal(c.execution.slippage_ticks, 0);
    assert_int_equal(c.execution.slippage_bps, 0);
    assert_string_equal(c.execution.fees, "zero");
    assert_int_equal(c.exec.exposure_check, 100 * HH_NS_PER_MS);
    assert_int_equal(c.exec.hedge_debounce, 500 * HH_NS_PER_MS);
    assert_int_equal(c.exec.leg_timeout, 5000 * HH_NS_PER_MS);
    assert_int_equal(c.exec.sl_limit_buffer_pct, R(0.5));
    assert_int_equal(c.exec.sl_timeout, 2000 * HH_NS_PER_MS);
    assert_int_equal(c.broker.retry_attempts, 3);
    assert_int_equal(c.broker.retry_base, 1000 * HH_NS_PER_MS);
    assert_int_equal(c.broker.retry_max, 8000 * HH_NS_PER_MS);
    assert_int_equal(c.broker.retry_jitter, R(0.2));
    assert_int_equal(c.broker.breaker_failures, 5);
    assert_int_equal(c.broker.breaker_window, 30 * HH_NS_PER_S);
    assert_int_equal(c.broker.breaker_cool_off, 20 * HH_NS_PER_S);
    assert_int_equal(c.reconcile.poll, 12 * HH_NS_PER_S);
    assert_int_equal(c.paper.latency, 0);
    assert_int_equal(c.paper.fill_ratio, R(1));
    assert_false(c.paper.fill_ratio_set);
    assert_int_equal(c.paper.seed, 1);
    assert_int_equal(c.paper.drop_update_pct, 0);
    assert_int_equal(c.paper.delay_update, 0);
    assert_int_equal(c.paper.reject_pct, 0);
    assert_int_equal(c.paper.timeout_pct, 0);
    assert_int_equal(c.paper.n_unavailable, 0);
    assert_int_equal(c.paper.n_disconnect, 0);
}

/* The keys of SPEC §10b-§14, at their documented defaults. */
static void test_defaults_new_keys(void **state)
{
    struct hh_config c;

    (void)state;
    hh_config_defaults(&c);
    assert_true(c.risk.require_broker_margin);
    assert_int_equal(c.exits.stop_orders, HH_CONFIG_STOPS_UNSET);
    assert_int_equal(c.paper.duplicate_update_pct, 0);
    assert_int_equal(c.paper.reorder_update_pct, 0);
    assert_int_equal(c.paper.book_lag, 0);
    assert_int_equal(c.paper.n_external, 0);
    assert_int_equal(c.broker.kind, HH_CONFIG_BROKER_PAPER);
    assert_string_equal(c.broker.account, "");
    assert_string_equal(c.broker.kite.api_url, "https://api.kite.trade");
    assert_string_equal(c.broker.kite.ws_url, "wss://ws.kite.trade");
    assert_string_equal(c.broker.kite.api_key_file, "secrets/kite_api_key");
    assert_string_equal(c.broker.kite.access_token_file, "secrets/kite_access_token");
    assert_int_equal(c.broker.kite.product, HH_CONFIG_MIS);
    assert_int_equal(c.broker.kite.market_protection, -1);
    assert_int_equal(c.broker.kite.orders_per_second, 10);
    assert_int_equal(c.broker.kite.timeout, 7000 * HH_NS_PER_MS);
    assert_int_equal(c.market_data.kind, HH_CONFIG_MD_FILE);
    assert_int_equal(c.market_data.symbols.n, 0);
    assert_string_equal(c.api.listen, "");
    assert_int_equal(c.api.allow.n, 2);
    assert_string_equal(c.api.allow.item[0], "127.0.0.1/32");
    assert_string_equal(c.api.allow.item[1], "::1/128");
    assert_string_equal(c.api.keys_file, "");
    assert_string_equal(c.api.read_token_file, "");
    assert_int_equal(c.api.window, 300 * HH_NS_PER_S);
    assert_string_equal(c.report.dir, "");
    assert_int_equal(c.signals.source, HH_CONFIG_SIGNALS_FILE);
    assert_string_equal(c.signals.kafka.brokers, "127.0.0.1:9092");
    assert_string_equal(c.signals.kafka.topic, "hedgehog.signals");
    assert_string_equal(c.signals.kafka.group, "hedgehog");
    assert_string_equal(c.signals.kafka.dlq_topic, "hedgehog.signals.dlq");
    assert_string_equal(c.signals.kafka.events_topic, "");
    assert_int_equal(c.signals.kafka.client.n, 0);
}

static void test_empty_file_is_defaults(void **state)
{
    struct hh_config c, def;

    (void)state;
    default_files(false);
    expect_ok("", &c);
    hh_config_defaults(&def);
    assert_int_equal(c.risk.max_lots_per_trade, 100);
    /* what is not a path is the same as without a file */
    memset(c.path, 0, sizeof c.path);
    memset(c.broker.kite.api_key_file, 0, sizeof c.broker.kite.api_key_file);
    memset(c.broker.kite.access_token_file, 0, sizeof c.broker.kite.access_token_file);
    memset(def.broker.kite.api_key_file, 0, sizeof def.broker.kite.api_key_file);
    memset(def.broker.kite.access_token_file, 0, sizeof def.broker.kite.access_token_file);
    assert_memory_equal(&c, &def, sizeof c);
}

static void test_full_file(void **state)
{
    char yaml[2048], inst[512], hol[512];
    struct hh_config c;

    (void)state;
    snprintf(inst, sizeof inst, "%s", tu_write_file(1, "inst.csv", ""));
    snprintf(hol, sizeof hol, "%s", tu_write_file(2, "h.csv", ""));
    snprintf(yaml, sizeof yaml,
             "capital: 250000.50\n"
             "instruments: inst.csv\n"
             "calendar:\n  holidays: %s\n"
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
             hol);
    expect_ok(yaml, &c);
    assert_int_equal(c.capital, 2500005000LL);
    assert_string_equal(c.instruments, inst);
    assert_string_equal(c.holidays, hol);
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

static void test_new_keys(void **state)
{
    struct hh_config c;

    (void)state;
    expect_ok("risk: {require_broker_margin: false}\n"
              "exits: {stop_orders: held}\n"
              "paper:\n  faults:\n    duplicate_update_pct: 5\n    reorder_update_pct: 2.5\n"
              "    book_lag_ms: 250\n    external:\n"
              "      - {at: \"10:05:00\", action: close_position, symbol: NIFTY}\n"
              "      - {at: \"2024-06-07T10:07:00+05:30\", action: cancel_orders, symbol: X}\n"
              "      - {symbol: Y, action: reject_next, at: \"10:09:30\"}\n"
              "broker:\n  kind: kite\n  account: AB1234\n  kite:\n"
              "    api_url: \"http://127.0.0.1:8900\"\n    ws_url: \"ws://[::1]:8901/ws\"\n"
              "    api_key_file: /s/key\n    access_token_file: tok\n    product: NRML\n"
              "    market_protection: 5\n    orders_per_second: 3\n    timeout_ms: 1500\n"
              "market_data: {kind: kite, symbols: [NIFTY, BANKNIFTY]}\n"
              "api:\n  listen: \"127.0.0.1:8089\"\n  allow: [\"10.0.0.0/8\", \"fe80::/10\"]\n"
              "  keys_file: keys\n  read_token_file: /t\n  window_s: 60\n"
              "report: {dir: reports}\n"
              "signals:\n  source: kafka\n  kafka:\n    brokers: \"k1:9092,[::1]:9093\"\n"
              "    topic: t.in\n    group: g\n    dlq_topic: t.dlq\n    events_topic: t.ev\n"
              "    client: {security.protocol: SASL_SSL, linger.ms: 5}\n", &c);
    assert_false(c.risk.require_broker_margin);
    assert_int_equal(c.exits.stop_orders, HH_CONFIG_STOPS_HELD);
    assert_int_equal(c.paper.duplicate_update_pct, 5 * HH_RATIO_SCALE);
    assert_int_equal(c.paper.reorder_update_pct, R(2.5));
    assert_int_equal(c.paper.book_lag, 250 * HH_NS_PER_MS);
    assert_int_equal(c.paper.n_external, 3);
    assert_true(c.paper.external[0].tod);
    assert_int_equal(c.paper.external[0].at, HH_TOD(10, 5));
    assert_int_equal(c.paper.external[0].action, HH_CONFIG_EXT_CLOSE_POSITION);
    assert_string_equal(c.paper.external[0].symbol, "NIFTY");
    assert_false(c.paper.external[1].tod);
    assert_int_equal(c.paper.external[1].at,
                     hh_time_from_ist(hh_date_from_ymd(2024, 6, 7), HH_TOD(10, 7)));
    assert_int_equal(c.paper.external[1].action, HH_CONFIG_EXT_CANCEL_ORDERS);
    assert_int_equal(c.paper.external[2].action, HH_CONFIG_EXT_REJECT_NEXT);
    assert_int_equal(c.paper.external[2].at, HH_TOD(10, 9) + 30 * HH_NS_PER_S);
    assert_int_equal(c.broker.kind, HH_CONFIG_BROKER_KITE);
    assert_string_equal(c.broker.account, "AB1234");
    assert_string_equal(c.broker.kite.api_url, "http://127.0.0.1:8900");
    assert_string_equal(c.broker.kite.ws_url, "ws://[::1]:8901/ws");
    assert_string_equal(c.broker.kite.api_key_file, "/s/key");
    assert_non_null(strstr(c.broker.kite.access_token_file, "/tok"));
    assert_int_equal(c.broker.kite.product, HH_CONFIG_NRML);
    assert_int_equal(c.broker.kite.market_protection, 5);
    assert_int_equal(c.broker.kite.orders_per_second, 3);
    assert_int_equal(c.broker.kite.timeout, 1500 * HH_NS_PER_MS);
    assert_int_equal(c.market_data.kind, HH_CONFIG_MD_KITE);
    assert_int_equal(c.market_data.symbols.n, 2);
    assert_string_equal(c.market_data.symbols.item[1], "BANKNIFTY");
    assert_string_equal(c.api.listen, "127.0.0.1:8089");
    assert_int_equal(c.api.allow.n, 2);
    assert_string_equal(c.api.allow.item[1], "fe80::/10");
    assert_string_equal(c.api.read_token_file, "/t");
    assert_non_null(strstr(c.api.keys_file, "/keys"));
    assert_int_equal(c.api.window, 60 * HH_NS_PER_S);
    assert_non_null(strstr(c.report.dir, "/reports"));
    assert_int_equal(c.signals.source, HH_CONFIG_SIGNALS_KAFKA);
    assert_string_equal(c.signals.kafka.brokers, "k1:9092,[::1]:9093");
    assert_string_equal(c.signals.kafka.events_topic, "t.ev");
    assert_int_equal(c.signals.kafka.client.n, 2);
    assert_string_equal(c.signals.kafka.client.kv[0].key, "security.protocol");
    assert_string_equal(c.signals.kafka.client.kv[0].value, "SASL_SSL");
    assert_string_equal(c.signals.kafka.client.kv[1].value, "5");
}

static void test_nulls(void **state)
{
    struct hh_config c;

    (void)state;
    expect_ok("exits:\n  squareoff: null\n  stop_orders: ~\n"
              "broker: {account: null}\napi: {listen: null, allow: []}\n"
              "signals: {kafka: {events_topic: null, client: null}}\n", &c);
    assert_false(c.exits.squareoff_set);
    assert_true(c.exits.squareoff_explicit);
    assert_int_equal(c.exits.stop_orders, HH_CONFIG_STOPS_UNSET);
    assert_string_equal(c.api.listen, "");
    assert_int_equal(c.api.allow.n, 0);
    assert_int_equal(c.signals.kafka.client.n, 0);
}

static void test_unknown_keys(void **state)
{
    (void)state;
    expect_error("risk:\n  max_lot: 3\n", ":2: key 'risk.max_lot': unknown key");
    expect_error("capitol: 5\n", "key 'capitol': unknown key");
    expect_error("risk: 3\n", "key 'risk': is a section");
    expect_error("capital: 1\ncapital: 2\n", "appears twice");
    expect_error("broker:\n  kite:\n    api_uri: x\n", ":3: key 'broker.kite.api_uri': unknown key");
}

static void test_bad_values(void **state)
{
    (void)state;
    expect_error("capital: 0\n", "out of range");
    expect_error("capital: abc\n", "not a number");
    expect_error("risk:\n  risk_per_trade: 1.5\n", "out of range");
    expect_error("risk:\n  min_rr: 0.0000000001\n", "more decimal places");
    expect_error("entry:\n  mode: breakout\n", "'breakout' is not one of: retest | touch");
    expect_error("entry:\n  timeframe: 2m\n", "not one of");
    expect_error("exits:\n  squareoff: \"25:00\"\n", "not a time");
    expect_error("exits:\n  breakeven_after_t1: maybe\n", "not true or false");
    expect_error("exits:\n  stop_orders: hold\n", ":2: key 'exits.stop_orders': 'hold'");
    expect_error("capital: [1, 2]\n", "single value");
    expect_error("risk:\n  max_open_trades:\n", "needs a value");
    expect_error("- a\n- b\n", "must be a mapping");
    expect_error("capital: 5\n  bad: [\n", "YAML error");
    expect_error("execution:\n  fees: nse_options\n",
                 ":2: key 'execution.fees': unknown schedule 'nse_options' (known: zero ");
    expect_error("broker: {kite: {market_protection: -2}}\n", "out of range");
    expect_error("broker: {kite: {market_protection: 0}}\n", "Kite refuses MARKET");
    expect_error("broker: {kite: {timeout_ms: 50}}\n", "out of range");
    expect_error("broker: {kite: {product: BO}}\n", "'BO' is not one of: MIS | NRML | CNC");
    expect_error("paper: {faults: {book_lag_ms: -1}}\n", "out of range");
    expect_error("report: {dir: \"\"}\n", "key 'report.dir': must not be empty");
    expect_error("signals: {kafka: {group: \"\"}}\n", "key 'signals.kafka.group': must not be empty");
    expect_error("market_data: {symbols: [NIFTY, [x]]}\n", "each item must be a string");
    expect_error("broker:\n  retry: {base_ms: 500, max_ms: 100}\n",
                 ":2: key 'broker.retry.max_ms' is below 'broker.retry.base_ms'");
}

/* Both slippage keys: an error only when both are non-zero, naming both. */
static void test_slippage_pair(void **state)
{
    struct hh_config c;

    (void)state;
    expect_ok("execution:\n  slippage_ticks: 2\n  slippage_bps: 0\n", &c);
    assert_int_equal(c.execution.slippage_ticks, 2);
    expect_ok("execution:\n  slippage_ticks: 0\n  slippage_bps: 1.5\n", &c);
    expect_error("execution:\n  slippage_ticks: 1\n  slippage_bps: 2\n",
                 ":3: keys 'execution.slippage_ticks' and 'execution.slippage_bps' are both "
                 "non-zero");
}

static void test_network_keys(void **state)
{
    struct hh_config c;

    (void)state;
    expect_error("api:\n  allow:\n    - 127.0.0.1/32\n    - 10.0.0.300/8\n",
                 ":4: key 'api.allow': '10.0.0.300/8' is not a CIDR");
    expect_error("api: {allow: [\"10.1.2.3/8\"]}\n", "has address bits set beyond /8");
    expect_error("api: {allow: [\"::1/129\"]}\n", "is not a CIDR");
    expect_error("api: {allow: [\"127.0.0.1\"]}\n", "is not a CIDR");
    expect_error("api: {listen: \"localhost\"}\n", "key 'api.listen': 'localhost' is not host:port");
    expect_error("api: {listen: \"::1:80\"}\n", "is not host:port");
    expect_ok("api: {listen: \"[::1]:8089\", allow: [\"::/0\", \"0.0.0.0/0\"]}\n", &c);
    expect_error("broker:\n  kite:\n    api_url: \"http://api.kite.trade\"\n",
                 ":3: key 'broker.kite.api_url': 'http://api.kite.trade': http:// is allowed "
                 "only on a loopback host");
    expect_error("broker: {kite: {ws_url: \"ws://10.0.0.1:80\"}}\n", "ws:// is allowed only");
    expect_error("broker: {kite: {ws_url: \"https://ws.kite.trade\"}}\n", "must start with wss://");
    expect_error("broker: {kite: {api_url: \"https://u:p@api.kite.trade\"}}\n",
                 "must not hold credentials");
    expect_ok("broker: {kite: {api_url: \"http://localhost:9000/\", ws_url: \"ws://127.8.0.1\"}}\n",
              &c);
    expect_error("signals: {kafka: {brokers: \"k1:9092,k2\"}}\n", "'k2' is not host:port");
    expect_error("signals: {kafka: {topic: \"a b\"}}\n", "is not a topic name");
    expect_error("signals: {kafka: {client: {a: 1, a: 2}}}\n", "'a' appears twice");
    expect_error("signals: {kafka: {client: [a]}}\n", "needs a mapping");
}

static void test_external_errors(void **state)
{
    (void)state;
    expect_error("paper:\n  faults:\n    external:\n"
                 "      - {at: \"10:00:00\", action: explode, symbol: X}\n",
                 ":4: key 'paper.faults.external[0].action': 'explode' is not one of");
    expect_error("paper:\n  faults:\n    external:\n"
                 "      - {at: \"10:00:00\", action: reject_next, symbol: X}\n"
                 "      - {at: \"10:00:00\", action: reject_next, symbol: X, qty: 3}\n",
                 ":5: key 'paper.faults.external[1].qty': unknown field");
    expect_error("paper: {faults: {external: [{at: \"10:00\", action: reject_next}]}}\n",
                 "needs all of at, action and symbol");
    expect_error("paper: {faults: {external: [{at: \"2024-06-07 10:00:00\", action: "
                 "reject_next, symbol: X}]}}\n", "is neither HH:MM:SS nor a timestamp");
    expect_error("paper: {faults: {external: [x]}}\n", "needs {at: ..., action: ..., symbol: ...}");
}

/* instruments.csv and holidays.csv next to the file are the defaults when
 * present; a file a key names must exist. */
static void test_default_files(void **state)
{
    char want[600];
    struct hh_config c;

    (void)state;
    default_files(false);
    expect_ok("capital: 5\n", &c);
    assert_string_equal(c.instruments, "");
    assert_string_equal(c.holidays, "");
    expect_error("instruments: instruments.csv\n", ":1: key 'instruments': ");
    expect_error("calendar: {holidays: hol.csv}\n", "hol.csv: No such file or directory");
    default_files(true);
    expect_ok("capital: 5\n", &c);
    snprintf(want, sizeof want, "%s/instruments.csv", tmp_dir());
    assert_string_equal(c.instruments, want);
    snprintf(want, sizeof want, "%s/holidays.csv", tmp_dir());
    assert_string_equal(c.holidays, want);
    expect_ok("instruments: null\n", &c);
    assert_string_equal(c.instruments, "");
    default_files(false);
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

/* The printed defaults load as printed and give the defaults. */
static void test_printed_defaults_load(void **state)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    struct hh_config c, def;

    (void)state;
    assert_non_null(f);
    assert_int_equal(hh_config_write_defaults(f), HH_OK);
    fclose(f);
    assert_non_null(strstr(text, "\nrisk:\n  risk_per_trade: 0.01 "));
    assert_non_null(strstr(text, "  fees: zero "));
    for (const char *const *n = hh_charges_names(); *n; n++)
        assert_non_null(strstr(text, *n));   /* the fees comment lists them all */
    default_files(true);
    expect_ok(text, &c);
    hh_config_defaults(&def);
    assert_int_equal(c.capital, def.capital);
    assert_int_equal(c.exits.squareoff, def.exits.squareoff);
    assert_int_equal(c.exits.stop_orders, HH_CONFIG_STOPS_UNSET);
    assert_int_equal(c.api.allow.n, 2);
    assert_string_equal(c.signals.kafka.brokers, def.signals.kafka.brokers);
    assert_memory_equal(&c.risk, &def.risk, sizeof c.risk);
    assert_memory_equal(&c.exec, &def.exec, sizeof c.exec);
    assert_memory_equal(&c.execution, &def.execution, sizeof c.execution);
    default_files(false);
    free(text);
}

/* ---- mapping ---------------------------------------------------------------------------- */

static const char *const everything =
    "capital: 500000\n"
    "risk: {risk_per_trade: 0.02, size_scale: 2, max_lots_per_trade: 7, max_open_trades: 4,\n"
    "       margin_buffer: 0.75, allow_naked: true, max_hedge_variance: 0.3}\n"
    "entry: {mode: touch, volume_mult: 1.2, volume_lookback: 9, require_pattern: true}\n"
    "exits: {breakeven_after_t1: false, squareoff: \"15:05\"}\n"
    "expiry: {close_before: \"14:30\"}\n"
    "execution: {slippage_ticks: 3, fees: nse_fo_futures}\n"
    "exec: {exposure_check_ms: 150, hedge_debounce_ms: 700, leg_timeout_ms: 9000,\n"
    "       sl_limit_buffer_pct: 0.25, sl_timeout_ms: 2500}\n"
    "broker:\n  retry: {attempts: 4, base_ms: 200, max_ms: 3000, jitter: 0.1}\n"
    "  breaker: {failures: 6, window_s: 40, cool_off_s: 15}\n"
    "paper:\n  latency_ms: 20\n  fill_ratio: 0.5\n"
    "  faults: {seed: 77, drop_update_pct: 1, delay_update_ms: 30, reject_pct: 12.5,\n"
    "           timeout_pct: 2, unavailable: [\"10:00:00-10:01:00\"],\n"
    "           disconnect: [\"11:00:00-11:00:30\", \"12:00:00-12:00:10\"]}\n";

static void test_map_tm(void **state)
{
    struct hh_tm_config t;
    struct hh_config c;

    (void)state;
    expect_ok(everything, &c);
    hh_config_tm(&c, HH_STOPS_HELD, &t);
    assert_int_equal(t.capital, 500000 * HH_RUPEE);
    assert_int_equal(t.risk_per_trade, R(0.02));
    assert_int_equal(t.size_scale, R(2));
    assert_int_equal(t.max_lots_per_trade, 7);
    assert_int_equal(t.max_open_trades, 4);
    assert_true(t.touch);
    assert_int_equal(t.volume_mult, R(1.2));
    assert_int_equal(t.volume_lookback, 9);
    assert_true(t.require_pattern);
    assert_false(t.breakeven_after_t1);
    assert_true(t.squareoff_set);
    assert_true(t.squareoff_explicit);
    assert_int_equal(t.squareoff, HH_TOD(15, 5));
    assert_ptr_equal(t.fees, hh_charges_find("nse_fo_futures"));
    assert_int_equal(t.exposure_check, 150 * HH_NS_PER_MS);
    assert_int_equal(t.hedge_debounce, 700 * HH_NS_PER_MS);
    assert_int_equal(t.leg_timeout, 9000 * HH_NS_PER_MS);
    assert_int_equal(t.margin_buffer, R(0.75));
    assert_true(t.allow_naked);
    assert_true(t.expiry_close_set);
    assert_int_equal(t.expiry_close_before, HH_TOD(14, 30));
    assert_int_equal(t.variance_limit, R(0.3));
    assert_int_equal(t.stops, HH_STOPS_HELD);
    assert_int_equal(t.retry.attempts, 4);
    assert_int_equal(t.retry.base, 200 * HH_NS_PER_MS);
    assert_int_equal(t.retry.max, 3000 * HH_NS_PER_MS);
    assert_int_equal(t.retry.jitter, R(0.1));
    assert_int_equal(t.retry_seed, 77);
    assert_int_equal(t.breaker.failures, 6);
    assert_int_equal(t.breaker.window, 40 * HH_NS_PER_S);
    assert_int_equal(t.breaker.cool_off, 15 * HH_NS_PER_S);
    assert_int_equal(t.hsl.buffer_pct, R(0.25));
    assert_int_equal(t.hsl.timeout, 2500 * HH_NS_PER_MS);
    assert_int_equal(t.hsl.confirm_poll, HH_NS_PER_S);
}

/* With the defaults, the manager gets what the commands set by hand before
 * (the backtest's retry/breaker zeros were replaced by the same defaults
 * inside the manager). */
static void test_map_tm_defaults(void **state)
{
    struct hh_tm_config t;
    struct hh_config c;

    (void)state;
    hh_config_defaults(&c);
    hh_config_tm(&c, HH_STOPS_RESTING, &t);
    assert_int_equal(t.stops, HH_STOPS_RESTING);
    assert_false(t.touch);
    assert_ptr_equal(t.fees, hh_charges_find("zero"));
    assert_true(t.squareoff_set);
    assert_false(t.squareoff_explicit);
    assert_false(t.expiry_close_set);
    assert_int_equal(t.retry.attempts, 3);
    assert_int_equal(t.retry.base, HH_NS_PER_S);
    assert_int_equal(t.retry.max, 8 * HH_NS_PER_S);
    assert_int_equal(t.retry.jitter, HH_RATIO_SCALE / 5);
    assert_int_equal(t.retry_seed, 1);
    assert_int_equal(t.breaker.failures, 5);
    assert_int_equal(t.breaker.window, 30 * HH_NS_PER_S);
    assert_int_equal(t.breaker.cool_off, 20 * HH_NS_PER_S);
}

static void test_map_stops(void **state)
{
    struct hh_config c;

    (void)state;
    hh_config_defaults(&c);
    assert_int_equal(hh_config_stops(&c, HH_STOPS_RESTING), HH_STOPS_RESTING);
    assert_int_equal(hh_config_stops(&c, HH_STOPS_HELD), HH_STOPS_HELD);
    expect_ok("exits: {stop_orders: resting}\n", &c);
    assert_int_equal(hh_config_stops(&c, HH_STOPS_HELD), HH_STOPS_RESTING);
    expect_ok("exits: {stop_orders: held}\n", &c);
    assert_int_equal(hh_config_stops(&c, HH_STOPS_RESTING), HH_STOPS_HELD);
}

static void test_map_simex(void **state)
{
    struct hh_simex_config x;
    struct hh_config c;

    (void)state;
    hh_config_defaults(&c);
    hh_config_simex(&c, &x);
    assert_false(x.liquidity);   /* unlimited unless paper.fill_ratio is given */
    assert_int_equal(x.reject_ratio, 0);
    assert_int_equal(x.seed, 1);
    expect_ok(everything, &c);
    hh_config_simex(&c, &x);
    assert_int_equal(x.slippage_ticks, 3);
    assert_int_equal(x.slippage_bps, 0);
    assert_int_equal(x.latency, 20 * HH_NS_PER_MS);
    assert_true(x.liquidity);
    assert_int_equal(x.fill_ratio, R(0.5));
    assert_int_equal(x.reject_ratio, R(0.125));
    assert_int_equal(x.seed, 77);
}

static void test_map_paper(void **state)
{
    struct hh_paper_config p;
    struct hh_config c;

    (void)state;
    expect_ok(everything, &c);
    hh_config_paper(&c, false, &p);
    assert_int_equal(p.capital, 500000 * HH_RUPEE);
    assert_int_equal(p.slippage_ticks, 3);
    assert_int_equal(p.slippage_bps, 0);
    assert_int_equal(p.latency, 20 * HH_NS_PER_MS);
    assert_int_equal(p.fill_ratio, R(0.5));
    assert_int_equal(p.seed, 77);
    assert_int_equal(p.drop_update_pct, R(1));
    assert_int_equal(p.delay_update, 30 * HH_NS_PER_MS);
    assert_int_equal(p.reject_pct, R(12.5));
    assert_int_equal(p.timeout_pct, R(2));
    assert_int_equal(p.n_unavailable, 1);
    assert_int_equal(p.unavailable[0].from, HH_TOD(10, 0));
    assert_int_equal(p.unavailable[0].to, HH_TOD(10, 1));
    assert_int_equal(p.n_disconnect, 2);
    assert_int_equal(p.disconnect[1].from, HH_TOD(12, 0));
    assert_int_equal(p.disconnect[1].to, HH_TOD(12, 0) + 10 * HH_NS_PER_S);
    /* shadow: nothing is sent, so nothing is delayed or faulted */
    hh_config_paper(&c, true, &p);
    assert_int_equal(p.capital, 500000 * HH_RUPEE);
    assert_int_equal(p.slippage_ticks, 3);
    assert_int_equal(p.latency, 0);
    assert_int_equal(p.seed, 1);
    assert_int_equal(p.reject_pct, 0);
    assert_int_equal(p.n_unavailable, 0);
    assert_int_equal(p.n_disconnect, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_unchanged),
        cmocka_unit_test(test_defaults_new_keys),
        cmocka_unit_test(test_empty_file_is_defaults),
        cmocka_unit_test(test_full_file),
        cmocka_unit_test(test_new_keys),
        cmocka_unit_test(test_nulls),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_slippage_pair),
        cmocka_unit_test(test_network_keys),
        cmocka_unit_test(test_external_errors),
        cmocka_unit_test(test_default_files),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_timeframe),
        cmocka_unit_test(test_printed_defaults_load),
        cmocka_unit_test(test_map_tm),
        cmocka_unit_test(test_map_tm_defaults),
        cmocka_unit_test(test_map_stops),
        cmocka_unit_test(test_map_simex),
        cmocka_unit_test(test_map_paper),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);

    tu_cleanup();
    return rc;
}
