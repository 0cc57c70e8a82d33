/*
 * config.c — the configuration as one declarative table, serving the file,
 * the defaults and `hedgehog config --defaults`.
 *
 * Every key the engine knows is one row of `keys[]`: its dotted path, its
 * type, its bounds, its default written as YAML text, the field of struct
 * hh_config it lands in, an optional validator and a one-line comment.
 * Defaults are applied by parsing each row's text with libyaml and storing
 * it through the very code that stores the file's values, so the defaults,
 * the parser and the printed defaults cannot disagree.  The file is then
 * parsed into a libyaml document and walked; each leaf must match a row
 * (else "unknown key"), must parse exactly (numbers go from text to
 * fixed-point, never through double) and must pass its bounds and its
 * validator.  Rules that involve several keys come last (check_combined).
 * Errors name FILE:LINE and the key.
 *
 * Invariants of the table (checked by check_row when defaults are applied):
 * the rows of one section are contiguous (the printed defaults must not
 * repeat a section), numbers have max > min, enums are int-sized.  A field
 * is cleared before a value is stored into it, so no stale bytes remain:
 * equal configurations are equal byte for byte.
 */
#include "app/config.h"

#include "trade/charges.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>

enum key_type {
    KT_MONEY,      /* rupees -> hh_money_t */
    KT_RATIO,      /* decimal -> hh_ratio_t */
    KT_INT,        /* whole number -> int64_t */
    KT_SEED,       /* non-negative whole number -> uint64_t */
    KT_BOOL,
    KT_SECONDS,    /* decimal seconds -> ns */
    KT_MILLIS,     /* decimal milliseconds -> ns */
    KT_ENUM,       /* a word of names[] -> its index into an int-sized enum
                      (nullable: null -> 0, word i -> i + 1) */
    KT_STRING,     /* text of at most size - 1 bytes, not empty */
    KT_PATH,       /* relative to the config file */
    KT_FILE,       /* an input file: a named one must exist; the default is
                      used only when it exists next to the config file */
    KT_TIMEFRAME,  /* 1m ... 1h -> ns */
    KT_TOD,        /* "HH:MM[:SS]" -> ns; aux: its "set" flag */
    KT_WINDOWS,    /* list of "HH:MM:SS-HH:MM:SS"; aux: the count */
    KT_LIST,       /* list of strings -> struct hh_config_list */
    KT_KV,         /* mapping of strings -> struct hh_config_kv */
    KT_EXTERNAL,   /* list of {at, action, symbol}; aux: the count */
};

/* A validator of a string value (each item, for lists): true when v is
 * acceptable, else false with the reason written into why. */
typedef bool (*valid_fn)(const char *v, char *why, size_t cap);

struct key {
    const char *name;           /* dotted path */
    enum key_type type;
    size_t off, size;           /* the field in struct hh_config */
    size_t aux;                 /* KT_TOD, KT_WINDOWS, KT_EXTERNAL: see the type */
    size_t given;               /* a bool set when the key is in the file; 0:
                                   none (offset 0 is `path`, never a flag) */
    int64_t min, max;           /* numbers: bounds in the stored unit */
    const char *const *names;   /* KT_ENUM: the words, NULL-terminated */
    bool nullable;              /* null is a value: "" for text, unset for
                                   KT_TOD, 0 for KT_ENUM */
    valid_fn valid;             /* may be NULL */
    const char *def;            /* the default, as YAML text */
    const char *doc;            /* one line for the printed defaults */
};

static bool valid_fees(const char *v, char *why, size_t cap);
static bool valid_topic(const char *v, char *why, size_t cap);
static bool valid_brokers(const char *v, char *why, size_t cap);
static bool valid_listen(const char *v, char *why, size_t cap);
static bool valid_http_url(const char *v, char *why, size_t cap);
static bool valid_ws_url(const char *v, char *why, size_t cap);
static bool valid_cidr(const char *v, char *why, size_t cap);

#define OFF(f) offsetof(struct hh_config, f)
#define F(f) .off = OFF(f), .size = sizeof(((struct hh_config *)0)->f)
#define R(x) ((int64_t)((x) * HH_RATIO_SCALE))
#define NOMAX INT64_MAX
#define WORDS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const struct key keys[] = {
    { .name = "capital", .type = KT_MONEY, F(capital), .min = 1, .max = NOMAX,
      .def = "1000000", .doc = "starting equity, rupees" },
    { .name = "instruments", .type = KT_FILE, F(instruments), .nullable = true,
      .def = "instruments.csv", .doc = "instrument master (our CSV or Zerodha's dump)" },
    { .name = "calendar.holidays", .type = KT_FILE, F(holidays), .nullable = true,
      .def = "holidays.csv", .doc = "date,exchange,description (NSE|BSE|MCX|ALL)" },
    { .name = "risk.risk_per_trade", .type = KT_RATIO, F(risk.risk_per_trade), .min = 1,
      .max = R(1), .def = "0.01", .doc = "share of equity risked per trade" },
    { .name = "risk.size_scale", .type = KT_RATIO, F(risk.size_scale), .max = R(1000),
      .def = "1.0", .doc = "multiplies the computed lots (then floored)" },
    { .name = "risk.max_lots_per_trade", .type = KT_INT, F(risk.max_lots_per_trade), .min = 1,
      .max = 1000000, .def = "100", .doc = "cap on the lots of one trade" },
    { .name = "risk.max_open_trades", .type = KT_INT, F(risk.max_open_trades), .min = 1,
      .max = 100000, .def = "1", .doc = "open trades at once (one per symbol)" },
    { .name = "risk.min_rr", .type = KT_RATIO, F(risk.min_rr), .max = R(1000),
      .def = "1.5", .doc = "reward/risk of T1 below this: RR_TOO_LOW" },
    { .name = "risk.min_confidence", .type = KT_RATIO, F(risk.min_confidence), .max = R(1),
      .def = "0.6", .doc = "signal confidence below this: LOW_CONFIDENCE" },
    { .name = "risk.margin_buffer", .type = KT_RATIO, F(risk.margin_buffer), .min = 1,
      .max = R(1), .def = "0.90", .doc = "multi-leg groups: share of available margin usable" },
    { .name = "risk.allow_naked", .type = KT_BOOL, F(risk.allow_naked),
      .def = "false", .doc = "groups may hold shorts no long covers (straddles)" },
    { .name = "risk.max_hedge_variance", .type = KT_RATIO, F(risk.max_hedge_variance),
      .max = R(1), .def = "0.10", .doc = "group hedge balance flagged above this variance" },
    { .name = "risk.require_broker_margin", .type = KT_BOOL, F(risk.require_broker_margin),
      .def = "true", .doc = "groups: no start when the broker's margin cannot be had" },
    { .name = "signals.max_live_age_s", .type = KT_SECONDS, F(signals.max_live_age),
      .max = NOMAX, .def = "120", .doc = "received_at - ts above this: STALE" },
    { .name = "signals.max_clock_skew_s", .type = KT_SECONDS, F(signals.max_clock_skew),
      .max = NOMAX, .def = "2", .doc = "ts above received_at + this: FUTURE_TIMESTAMP" },
    { .name = "signals.source", .type = KT_ENUM, F(signals.source),
      .names = WORDS("file", "kafka"), .def = "file", .doc = "file (--signals) | kafka" },
    { .name = "signals.kafka.brokers", .type = KT_STRING, F(signals.kafka.brokers),
      .valid = valid_brokers, .def = "\"127.0.0.1:9092\"", .doc = "host:port[,host:port...]" },
    { .name = "signals.kafka.topic", .type = KT_STRING, F(signals.kafka.topic),
      .valid = valid_topic, .def = "hedgehog.signals", .doc = "one signal object per message" },
    { .name = "signals.kafka.group", .type = KT_STRING, F(signals.kafka.group),
      .def = "hedgehog", .doc = "consumer group" },
    { .name = "signals.kafka.dlq_topic", .type = KT_STRING, F(signals.kafka.dlq_topic),
      .valid = valid_topic, .def = "hedgehog.signals.dlq", .doc = "dead letters" },
    { .name = "signals.kafka.events_topic", .type = KT_STRING, F(signals.kafka.events_topic),
      .nullable = true, .valid = valid_topic, .def = "null",
      .doc = "e.g. hedgehog.events: orders, fills, trades, kill switch" },
    { .name = "signals.kafka.client", .type = KT_KV, F(signals.kafka.client),
      .def = "{}", .doc = "extra librdkafka properties (security.protocol, sasl.*, ssl.*)" },
    { .name = "entry.mode", .type = KT_ENUM, F(entry.mode),
      .names = WORDS("retest", "touch"), .def = "retest", .doc = "retest | touch" },
    { .name = "entry.timeframe", .type = KT_TIMEFRAME, F(entry.timeframe),
      .def = "1m", .doc = "1m 3m 5m 15m 30m 1h (bars: must equal their period)" },
    { .name = "entry.volume_mult", .type = KT_RATIO, F(entry.volume_mult), .max = R(1000000),
      .def = "0", .doc = "0 disables the volume check" },
    { .name = "entry.volume_lookback", .type = KT_INT, F(entry.volume_lookback), .min = 1,
      .max = 100000, .def = "20", .doc = "candles in the volume mean" },
    { .name = "entry.require_pattern", .type = KT_BOOL, F(entry.require_pattern),
      .def = "false", .doc = "a candle closing in the trade's direction" },
    { .name = "exits.breakeven_after_t1", .type = KT_BOOL, F(exits.breakeven_after_t1),
      .def = "true", .doc = "stop to the entry price once T1 fills" },
    { .name = "exits.squareoff", .type = KT_TOD, F(exits.squareoff),
      .aux = OFF(exits.squareoff_set), .given = OFF(exits.squareoff_explicit),
      .nullable = true, .def = "\"15:15\"", .doc = "\"HH:MM\", or null to hold past the close" },
    { .name = "exits.stop_orders", .type = KT_ENUM, F(exits.stop_orders), .nullable = true,
      .names = WORDS("resting", "held"), .def = "null",
      .doc = "resting | held; null: backtest resting, run held" },
    { .name = "expiry.close_before", .type = KT_TOD, F(expiry.close_before),
      .aux = OFF(expiry.close_before_set), .nullable = true, .def = "null",
      .doc = "\"HH:MM\": on expiry day, buy back ITM shorts then" },
    { .name = "execution.slippage_ticks", .type = KT_INT, F(execution.slippage_ticks),
      .max = 1000000, .def = "0", .doc = "at most one of the two slippage keys non-zero" },
    { .name = "execution.slippage_bps", .type = KT_RATIO, F(execution.slippage_bps),
      .max = R(10000), .def = "0", .doc = "basis points of the price" },
    { .name = "execution.fees", .type = KT_STRING, F(execution.fees), .valid = valid_fees,
      .def = "zero", .doc = "zero | nse_fo_options | nse_fo_futures | nse_equity_intraday | "
                            "nse_equity_delivery | mcx_futures" },
    { .name = "exec.exposure_check_ms", .type = KT_MILLIS, F(exec.exposure_check), .min = 1,
      .max = NOMAX, .def = "100", .doc = "multi-leg: uncovered shorts measured this often" },
    { .name = "exec.hedge_debounce_ms", .type = KT_MILLIS, F(exec.hedge_debounce),
      .max = NOMAX, .def = "500", .doc = "at most one emergency hedge per bucket this often" },
    { .name = "exec.leg_timeout_ms", .type = KT_MILLIS, F(exec.leg_timeout), .min = 1,
      .max = NOMAX, .def = "5000", .doc = "a leg not complete by then rolls its group back" },
    { .name = "exec.sl_limit_buffer_pct", .type = KT_RATIO, F(exec.sl_limit_buffer_pct),
      .max = R(100), .def = "0.5", .doc = "held stops: stop-limit this far beyond the level" },
    { .name = "exec.sl_timeout_ms", .type = KT_MILLIS, F(exec.sl_timeout), .min = 1,
      .max = NOMAX, .def = "2000", .doc = "then cancel, await confirmation, market the rest" },
    { .name = "broker.kind", .type = KT_ENUM, F(broker.kind), .names = WORDS("paper", "kite"),
      .def = "paper", .doc = "paper | kite (--mode live needs kite)" },
    { .name = "broker.account", .type = KT_STRING, F(broker.account), .nullable = true,
      .def = "null", .doc = "the broker's user id this database trades" },
    { .name = "broker.retry.attempts", .type = KT_INT, F(broker.retry_attempts), .min = 1,
      .max = 100, .def = "3", .doc = "calls in all for a 503 or a timeout" },
    { .name = "broker.retry.base_ms", .type = KT_MILLIS, F(broker.retry_base), .max = NOMAX,
      .def = "1000", .doc = "delay before the first retry, doubling" },
    { .name = "broker.retry.max_ms", .type = KT_MILLIS, F(broker.retry_max), .max = NOMAX,
      .def = "8000", .doc = "cap of the delay" },
    { .name = "broker.retry.jitter", .type = KT_RATIO, F(broker.retry_jitter), .max = R(1),
      .def = "0.2", .doc = "+- this share of each delay" },
    { .name = "broker.breaker.failures", .type = KT_INT, F(broker.breaker_failures), .min = 1,
      .max = 1000000, .def = "5", .doc = "503s/timeouts that open the breaker ..." },
    { .name = "broker.breaker.window_s", .type = KT_SECONDS, F(broker.breaker_window),
      .min = 1, .max = NOMAX, .def = "30", .doc = "... within this window" },
    { .name = "broker.breaker.cool_off_s", .type = KT_SECONDS, F(broker.breaker_cool_off),
      .max = NOMAX, .def = "20", .doc = "open (BROKER_UNAVAILABLE) this long, then a probe" },
    { .name = "broker.kite.api_url", .type = KT_STRING, F(broker.kite.api_url),
      .valid = valid_http_url, .def = "\"https://api.kite.trade\"",
      .doc = "http:// only on a loopback host" },
    { .name = "broker.kite.ws_url", .type = KT_STRING, F(broker.kite.ws_url),
      .valid = valid_ws_url, .def = "\"wss://ws.kite.trade\"",
      .doc = "ws:// only on a loopback host" },
    { .name = "broker.kite.api_key_file", .type = KT_PATH, F(broker.kite.api_key_file),
      .def = "secrets/kite_api_key", .doc = "file mode 0600 or stricter" },
    { .name = "broker.kite.access_token_file", .type = KT_PATH,
      F(broker.kite.access_token_file), .def = "secrets/kite_access_token",
      .doc = "re-read when it changes (daily login)" },
    { .name = "broker.kite.product", .type = KT_ENUM, F(broker.kite.product),
      .names = WORDS("MIS", "NRML", "CNC"), .def = "MIS", .doc = "MIS | NRML | CNC" },
    { .name = "broker.kite.market_protection", .type = KT_INT,
      F(broker.kite.market_protection), .min = -1, .max = 100, .def = "-1",
      .doc = "sent with MARKET and SL-M orders (-1: automatic)" },
    { .name = "broker.kite.orders_per_second", .type = KT_INT,
      F(broker.kite.orders_per_second), .min = 1, .max = 100, .def = "10",
      .doc = "one limiter per account, shared by every order call" },
    { .name = "broker.kite.orders_per_minute", .type = KT_INT,
      F(broker.kite.orders_per_minute), .min = 1, .max = 1000, .def = "200",
      .doc = "and at most this many in any minute (Kite's ~200)" },
    { .name = "broker.kite.timeout_ms", .type = KT_MILLIS, F(broker.kite.timeout),
      .min = 100 * HH_NS_PER_MS, .max = 120000 * HH_NS_PER_MS, .def = "7000",
      .doc = "per HTTP call" },
    { .name = "reconcile.poll_s", .type = KT_SECONDS, F(reconcile.poll), .min = 1,
      .max = NOMAX, .def = "12", .doc = "run: orders and positions compared with the broker's" },
    { .name = "paper.latency_ms", .type = KT_MILLIS, F(paper.latency), .max = NOMAX,
      .def = "0", .doc = "placement to reaching the market" },
    { .name = "paper.fill_ratio", .type = KT_RATIO, F(paper.fill_ratio), .min = 1, .max = R(1),
      .given = OFF(paper.fill_ratio_set), .def = "1.0",
      .doc = "share of each tick's or bar's volume (backtests: only when given)" },
    { .name = "paper.faults.seed", .type = KT_SEED, F(paper.seed),
      .def = "1", .doc = "faults are deterministic for a given seed" },
    { .name = "paper.faults.drop_update_pct", .type = KT_RATIO, F(paper.drop_update_pct),
      .max = R(100), .def = "0", .doc = "order updates lost on the stream" },
    { .name = "paper.faults.delay_update_ms", .type = KT_MILLIS, F(paper.delay_update),
      .max = NOMAX, .def = "0", .doc = "order updates delivered this late" },
    { .name = "paper.faults.reject_pct", .type = KT_RATIO, F(paper.reject_pct), .max = R(100),
      .def = "0", .doc = "placements the broker rejects" },
    { .name = "paper.faults.timeout_pct", .type = KT_RATIO, F(paper.timeout_pct),
      .max = R(100), .def = "0", .doc = "placements that time out although the order exists" },
    { .name = "paper.faults.unavailable", .type = KT_WINDOWS, F(paper.unavailable),
      .aux = OFF(paper.n_unavailable), .def = "[]",
      .doc = "[\"HH:MM:SS-HH:MM:SS\", ...] windows answering 503" },
    { .name = "paper.faults.disconnect", .type = KT_WINDOWS, F(paper.disconnect),
      .aux = OFF(paper.n_disconnect), .def = "[]", .doc = "windows with the update stream down" },
    { .name = "paper.faults.duplicate_update_pct", .type = KT_RATIO,
      F(paper.duplicate_update_pct), .max = R(100), .def = "0",
      .doc = "order updates delivered twice" },
    { .name = "paper.faults.reorder_update_pct", .type = KT_RATIO,
      F(paper.reorder_update_pct), .max = R(100), .def = "0",
      .doc = "order updates delivered out of order" },
    { .name = "paper.faults.book_lag_ms", .type = KT_MILLIS, F(paper.book_lag), .max = NOMAX,
      .def = "0", .doc = "a new order appears in the order book this late" },
    { .name = "paper.faults.external", .type = KT_EXTERNAL, F(paper.external),
      .aux = OFF(paper.n_external), .def = "[]",
      .doc = "[{at: \"HH:MM:SS\", action: close_position|cancel_orders|reject_next, "
             "symbol: S}, ...]" },
    { .name = "market_data.kind", .type = KT_ENUM, F(market_data.kind),
      .names = WORDS("file", "kite"), .def = "file",
      .doc = "file (--ticks/--bars) | kite (the WebSocket tick stream)" },
    { .name = "market_data.symbols", .type = KT_LIST, F(market_data.symbols),
      .def = "[]", .doc = "always subscribed, besides what the engine needs" },
    { .name = "api.listen", .type = KT_STRING, F(api.listen), .nullable = true,
      .valid = valid_listen, .def = "null", .doc = "\"127.0.0.1:8089\" to serve; null: no API" },
    { .name = "api.allow", .type = KT_LIST, F(api.allow), .valid = valid_cidr,
      .def = "[\"127.0.0.1/32\", \"::1/128\"]", .doc = "client addresses (CIDR, IPv4 and IPv6)" },
    { .name = "api.keys_file", .type = KT_PATH, F(api.keys_file), .nullable = true,
      .def = "null", .doc = "\"KEY_ID SECRET_HEX\" per line; mode 0600 or stricter" },
    { .name = "api.read_token_file", .type = KT_PATH, F(api.read_token_file), .nullable = true,
      .def = "null", .doc = "one token: \"Authorization: Bearer TOKEN\" for GETs" },
    { .name = "api.window_s", .type = KT_SECONDS, F(api.window), .min = 1, .max = NOMAX,
      .def = "300", .doc = "signed requests: |server time - X-HH-Timestamp| <= this" },
    { .name = "report.dir", .type = KT_PATH, F(report.dir), .nullable = true,
      .def = "null", .doc = "daily reports written here at each session's end" },
    { .name = "audit.key_file", .type = KT_PATH, F(audit.key_file), .nullable = true,
      .def = "null", .doc = "HMAC key of the audit chain: 64-256 hex digits, mode 0600; "
                            "null: unkeyed" },
};

#define NKEYS (sizeof keys / sizeof keys[0])

/* ---- validators ------------------------------------------------------------------------ */

static bool valid_fees(const char *v, char *why, size_t cap)
{
    const char *const *n = hh_charges_names();
    size_t len;

    if (hh_charges_find(v))
        return true;
    len = (size_t)snprintf(why, cap, "unknown schedule '%s' (known:", v);
    for (size_t k = 0; n[k] && len < cap; k++)
        len += (size_t)snprintf(why + len, cap - len, " %s", n[k]);
    if (len < cap)
        snprintf(why + len, cap - len, ")");
    return false;
}

/* Kafka's topic names: 1..249 of [A-Za-z0-9._-]. */
static bool valid_topic(const char *v, char *why, size_t cap)
{
    size_t n = strlen(v);

    if (n <= 249 && strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                              "0123456789._-") == n)
        return true;
    snprintf(why, cap, "'%s' is not a topic name (1-249 of A-Z a-z 0-9 . _ -)", v);
    return false;
}

/* "1".."65535" in s[0..n). */
static bool port_ok(const char *s, size_t n, int min)
{
    int port = 0;

    if (n < 1 || n > 5)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        port = port * 10 + s[i] - '0';
    }
    return port >= min && port <= 65535;
}

/* The host of "host[:port]" / "[v6][:port]" in s[0..n): *h, *hn point at the
 * host (brackets removed), *port at the port text or NULL.  False when the
 * shape is wrong. */
static bool split_host(const char *s, size_t n, const char **h, size_t *hn, const char **port,
                       size_t *pn)
{
    const char *colon;

    *port = NULL;
    *pn = 0;
    if (n && s[0] == '[') {
        const char *end = memchr(s, ']', n);

        if (!end)
            return false;
        *h = s + 1;
        *hn = (size_t)(end - s - 1);
        colon = end + 1 < s + n ? end + 1 : NULL;
        if (colon && *colon != ':')
            return false;
    } else {
        colon = memchr(s, ':', n);
        *h = s;
        *hn = colon ? (size_t)(colon - s) : n;
        if (colon && memchr(colon + 1, ':', (size_t)(s + n - colon - 1)))
            return false;   /* an IPv6 address needs brackets */
    }
    if (colon) {
        *port = colon + 1;
        *pn = (size_t)(s + n - colon - 1);
    }
    return *hn > 0;
}

/* Is h[0..n) an IPv4 / IPv6 literal (family AF_INET / AF_INET6)?  bin gets
 * the address (16 bytes). */
static bool ip_literal(const char *h, size_t n, int family, unsigned char *bin)
{
    char tmp[64];

    if (n >= sizeof tmp)
        return false;
    memcpy(tmp, h, n);
    tmp[n] = '\0';
    return inet_pton(family, tmp, bin) == 1;
}

static bool host_name_ok(const char *h, size_t n)
{
    unsigned char bin[16];

    if (ip_literal(h, n, AF_INET6, bin))
        return true;
    for (size_t i = 0; i < n; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-", h[i]))
            return false;
    return true;
}

/* "host:port" (host a name, an IPv4 address or "[IPv6]") in s[0..n), the
 * port at least min_port. */
static bool hostport_ok(const char *s, size_t n, int min_port)
{
    const char *h, *port;
    size_t hn, pn;

    return split_host(s, n, &h, &hn, &port, &pn) && port && port_ok(port, pn, min_port) &&
           host_name_ok(h, hn);
}

static bool valid_brokers(const char *v, char *why, size_t cap)
{
    for (const char *s = v;;) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);

        if (!hostport_ok(s, n, 1)) {
            snprintf(why, cap, "'%.*s' is not host:port", (int)n, s);
            return false;
        }
        if (!comma)
            return true;
        s = comma + 1;
    }
}

/* Port 0 takes any free port; the api_listening log line names it. */
static bool valid_listen(const char *v, char *why, size_t cap)
{
    if (hostport_ok(v, strlen(v), 0))
        return true;
    snprintf(why, cap, "'%s' is not host:port (an IPv6 host in brackets: \"[::1]:8089\")", v);
    return false;
}

/* 127.0.0.0/8, ::1 or localhost. */
static bool loopback(const char *h, size_t n)
{
    unsigned char bin[16];
    static const unsigned char v6_loopback[16] = { [15] = 1 };

    if (n == 9 && !strncasecmp(h, "localhost", 9))
        return true;
    if (ip_literal(h, n, AF_INET, bin))
        return bin[0] == 127;
    return ip_literal(h, n, AF_INET6, bin) && !memcmp(bin, v6_loopback, 16);
}

/*
 * A URL with scheme `secure`, or `plain` on a loopback host only (SPEC
 * §13: clear text is for local test servers).  Credentials in the URL are
 * refused: secrets live in the secret files.
 */
static bool url_ok(const char *v, const char *secure, const char *plain, char *why, size_t cap)
{
    size_t ls = strlen(secure), lp = strlen(plain), an, hn, pn;
    const char *auth, *h, *port;
    bool clear;

    if (!strncmp(v, secure, ls) && !strncmp(v + ls, "://", 3)) {
        clear = false;
        auth = v + ls + 3;
    } else if (!strncmp(v, plain, lp) && !strncmp(v + lp, "://", 3)) {
        clear = true;
        auth = v + lp + 3;
    } else {
        snprintf(why, cap, "'%s' must start with %s:// (%s:// only on a loopback host)", v,
                 secure, plain);
        return false;
    }
    an = strcspn(auth, "/?#");
    if (memchr(auth, '@', an)) {
        snprintf(why, cap, "'%s' must not hold credentials", v);
        return false;
    }
    if (!split_host(auth, an, &h, &hn, &port, &pn) || (port && !port_ok(port, pn, 1)) ||
        !host_name_ok(h, hn)) {
        snprintf(why, cap, "'%s' has no valid host[:port]", v);
        return false;
    }
    if (clear && !loopback(h, hn)) {
        snprintf(why, cap, "'%s': %s:// is allowed only on a loopback host (127.0.0.0/8, ::1, "
                 "localhost); use %s://", v, plain, secure);
        return false;
    }
    return true;
}

static bool valid_http_url(const char *v, char *why, size_t cap)
{
    return url_ok(v, "https", "http", why, cap);
}

static bool valid_ws_url(const char *v, char *why, size_t cap)
{
    return url_ok(v, "wss", "ws", why, cap);
}

bool hh_config_url_loopback(const char *url)
{
    const char *auth = strstr(url, "://"), *h, *port;
    size_t hn, pn;

    if (!auth)
        return false;
    auth += 3;
    return split_host(auth, strcspn(auth, "/?#"), &h, &hn, &port, &pn) && loopback(h, hn);
}

/* "address/prefix", IPv4 or IPv6, with no address bit set beyond the
 * prefix (an allow list that says 10.0.0.5/8 is a typo, not a network). */
static bool valid_cidr(const char *v, char *why, size_t cap)
{
    const char *slash = strchr(v, '/');
    unsigned char bin[16];
    int family, max, bits = 0;
    size_t pn;

    if (!slash) {
        snprintf(why, cap, "'%s' is not a CIDR address/prefix", v);
        return false;
    }
    family = memchr(v, ':', (size_t)(slash - v)) ? AF_INET6 : AF_INET;
    max = family == AF_INET6 ? 128 : 32;
    pn = strlen(slash + 1);
    if (!ip_literal(v, (size_t)(slash - v), family, bin) || pn < 1 || pn > 3 ||
        strspn(slash + 1, "0123456789") != pn || (bits = atoi(slash + 1)) > max) {
        snprintf(why, cap, "'%s' is not a CIDR address/prefix (IPv4 /0-32, IPv6 /0-128)", v);
        return false;
    }
    for (int b = bits; b < max; b++) {
        if (bin[b / 8] & (0x80 >> (b % 8))) {
            snprintf(why, cap, "'%s' has address bits set beyond /%d", v, bits);
            return false;
        }
    }
    return true;
}

/* ---- the loader ------------------------------------------------------------------------ */

int hh_config_parse_timeframe(const char *s, int64_t *out)
{
    static const struct { const char *name; int64_t ns; } tf[] = {
        { .name = "1m", .ns = HH_NS_PER_MIN },       { .name = "3m", .ns = 3 * HH_NS_PER_MIN },
        { .name = "5m", .ns = 5 * HH_NS_PER_MIN },   { .name = "15m", .ns = 15 * HH_NS_PER_MIN },
        { .name = "30m", .ns = 30 * HH_NS_PER_MIN }, { .name = "1h", .ns = HH_NS_PER_HOUR },
    };

    for (size_t i = 0; i < sizeof tf / sizeof tf[0]; i++) {
        if (!strcmp(s, tf[i].name)) {
            *out = tf[i].ns;
            return HH_OK;
        }
    }
    return HH_EINVAL;
}

/* State of one load: the document being walked, where values go, and the
 * line of each key found in the file. */
struct loader {
    yaml_document_t doc;
    const char *path;             /* for messages */
    char dir[HH_PATH_MAX];        /* the file's directory; "" without a file */
    bool defaults;                /* storing the rows' defaults, not the file */
    bool check_files;             /* a file a key names must exist */
    struct hh_config *c;
    struct hh_diag *d;
    unsigned long line[NKEYS];    /* 1-based line of each key in the file; 0: absent */
};

static unsigned long line_of(const yaml_node_t *n)
{
    return (unsigned long)n->start_mark.line + 1;
}

static int fail(struct loader *L, const yaml_node_t *n, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct loader *L, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
    char what[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return hh_diag_set(L->d, HH_ECONFIG, "%s:%lu: key '%s': %s", L->path, line_of(n), key,
                       what);
}

static void *field(struct loader *L, size_t off)
{
    return (char *)L->c + off;
}

static const struct key *find_key(const char *name)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (!strcmp(keys[i].name, name))
            return &keys[i];
    return NULL;
}

/* Is there any key under the prefix "name." (i.e. is `name` a section)? */
static bool is_section(const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; i < NKEYS; i++)
        if (!strncmp(keys[i].name, name, n) && keys[i].name[n] == '.')
            return true;
    return false;
}

static const char *text(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static bool scalar_is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    return !*text(n) || !strcmp(text(n), "~") || !strcasecmp(text(n), "null");
}

/* Does the key of pair p appear earlier in map? */
static bool repeated(struct loader *L, const yaml_node_t *map, const yaml_node_pair_t *p)
{
    yaml_node_t *kn = yaml_document_get_node(&L->doc, p->key);

    for (const yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
        yaml_node_t *qk = yaml_document_get_node(&L->doc, q->key);

        if (qk && kn && qk->type == YAML_SCALAR_NODE && kn->type == YAML_SCALAR_NODE &&
            !strcmp(text(qk), text(kn)))
            return true;
    }
    return false;
}

/* Exact decimal -> integer scaled by 10^digits, bounds-checked. */
static int parse_scaled(struct loader *L, const yaml_node_t *n, const struct key *k,
                        int digits, int64_t *out)
{
    const char *v = text(n);
    int rc = hh_dec_parse(v, strlen(v), digits, HH_DEC_EXP | HH_DEC_PLUS, out);

    if (rc == HH_EPREC)
        return fail(L, n, k->name, "'%s' has more decimal places than supported", v);
    if (rc)
        return fail(L, n, k->name, "'%s' is not a number in range", v);
    if (*out < k->min || *out > k->max)
        return fail(L, n, k->name, "%s is out of range", v);
    return HH_OK;
}

static int parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = { "true", "yes", "on" };
    static const char *const no[] = { "false", "no", "off" };

    for (int i = 0; i < 3; i++) {
        if (!strcasecmp(v, yes[i])) {
            *out = true;
            return HH_OK;
        }
        if (!strcasecmp(v, no[i])) {
            *out = false;
            return HH_OK;
        }
    }
    return HH_EINVAL;
}

/* "HH:MM" or "HH:MM:SS" -> ns since midnight. */
static int parse_tod(const char *s, size_t n, int64_t *out)
{
    int h, m, sec = 0;

    if ((n != 5 && n != 8) || s[2] != ':' || (n == 8 && s[5] != ':'))
        return HH_ESYNTAX;
    for (size_t i = 0; i < n; i++)
        if (i != 2 && i != 5 && (s[i] < '0' || s[i] > '9'))
            return HH_ESYNTAX;
    h = (s[0] - '0') * 10 + s[1] - '0';
    m = (s[3] - '0') * 10 + s[4] - '0';
    if (n == 8)
        sec = (s[6] - '0') * 10 + s[7] - '0';
    if (h > 23 || m > 59 || sec > 59)
        return HH_ESYNTAX;
    *out = HH_TOD(h, m) + sec * HH_NS_PER_S;
    return HH_OK;
}

/* v relative to the config file's directory (absolute paths as they are). */
static int resolve_path(struct loader *L, const char *v, char *dst, size_t cap)
{
    int n;

    memset(dst, 0, cap);
    if (!L->dir[0] || v[0] == '/')
        n = snprintf(dst, cap, "%s", v);
    else
        n = snprintf(dst, cap, "%s/%s", L->dir, v);
    return (size_t)n >= cap ? HH_ERANGE : HH_OK;
}

/* Copy a string value into a field of `cap` bytes after the row's checks. */
static int put_text(struct loader *L, const yaml_node_t *n, const struct key *k,
                    const char *v, char *dst, size_t cap)
{
    char why[300];

    if (!*v)
        return fail(L, n, k->name, "%s", "must not be empty");
    if (strlen(v) >= cap)
        return fail(L, n, k->name, "'%.40s...' is too long (at most %zu bytes)", v, cap - 1);
    if (k->valid && !k->valid(v, why, sizeof why))
        return fail(L, n, k->name, "%s", why);
    memset(dst, 0, cap);
    memcpy(dst, v, strlen(v));
    return HH_OK;
}

static int set_enum(struct loader *L, const yaml_node_t *n, const struct key *k)
{
    char list[200] = "";
    int i;

    for (i = 0; k->names[i]; i++) {
        if (!strcmp(text(n), k->names[i])) {
            int x = k->nullable ? i + 1 : i;

            memcpy(field(L, k->off), &x, sizeof x);
            return HH_OK;
        }
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? " | " : "",
                 k->names[i]);
    }
    return fail(L, n, k->name, "'%s' is not one of: %s%s", text(n), list,
                k->nullable ? " (or null)" : "");
}

/* null for a nullable key. */
static int set_null(struct loader *L, const yaml_node_t *n, const struct key *k)
{
    if (!k->nullable)
        return fail(L, n, k->name, "%s", "needs a value");
    if (k->type == KT_TOD)
        *(bool *)field(L, k->aux) = false;
    else if (k->type == KT_ENUM)
        memset(field(L, k->off), 0, sizeof(int));
    else
        memset(field(L, k->off), 0, k->size);
    return HH_OK;
}

/* An input file: a named one must be readable; a default one is used only
 * when it is there (and never without a config file to be next to). */
static int set_file(struct loader *L, const yaml_node_t *n, const struct key *k)
{
    char *dst = field(L, k->off);

    if (L->defaults && !L->dir[0])
        return set_null(L, n, k);
    if (resolve_path(L, text(n), dst, k->size))
        return fail(L, n, k->name, "%s", "path too long");
    if (access(dst, R_OK) == 0)
        return HH_OK;
    if (L->defaults)
        return set_null(L, n, k);
    if (!L->check_files)
        return HH_OK;
    return fail(L, n, k->name, "%s: %s", dst, strerror(errno));
}

static int set_number(struct loader *L, const yaml_node_t *n, const struct key *k)
{
    int64_t *dst = field(L, k->off);
    int64_t x;

    switch (k->type) {
    case KT_MONEY:
        return parse_scaled(L, n, k, HH_FX_DIGITS, dst);
    case KT_RATIO:
        return parse_scaled(L, n, k, HH_RATIO_DIGITS, dst);
    case KT_INT:
        return parse_scaled(L, n, k, 0, dst);
    case KT_SECONDS:
        return parse_scaled(L, n, k, 9, dst);
    case KT_MILLIS:
        return parse_scaled(L, n, k, 6, dst);
    default:   /* KT_SEED: set_scalar routes nothing else here */
        if (hh_dec_parse(text(n), strlen(text(n)), 0, 0, &x) || x < 0)
            return fail(L, n, k->name, "'%s' is not a non-negative whole number", text(n));
        *(uint64_t *)dst = (uint64_t)x;
        return HH_OK;
    }
}

/* Store one scalar value for key k. */
static int set_scalar(struct loader *L, const yaml_node_t *n, const struct key *k)
{
    const char *v = text(n);
    int64_t x;

    if (scalar_is_null(n))
        return set_null(L, n, k);
    if (!*v && (k->type == KT_PATH || k->type == KT_FILE))
        return fail(L, n, k->name, "%s", "must not be empty");
    switch (k->type) {
    case KT_BOOL:
        if (parse_bool(v, field(L, k->off)))
            return fail(L, n, k->name, "'%s' is not true or false", v);
        return HH_OK;
    case KT_ENUM:
        return set_enum(L, n, k);
    case KT_STRING:
        return put_text(L, n, k, v, field(L, k->off), k->size);
    case KT_PATH:
        if (resolve_path(L, v, field(L, k->off), k->size))
            return fail(L, n, k->name, "%s", "path too long");
        return HH_OK;
    case KT_FILE:
        return set_file(L, n, k);
    case KT_TIMEFRAME:
        if (hh_config_parse_timeframe(v, field(L, k->off)))
            return fail(L, n, k->name, "'%s' is not one of 1m 3m 5m 15m 30m 1h", v);
        return HH_OK;
    case KT_TOD:
        if (parse_tod(v, strlen(v), &x))
            return fail(L, n, k->name, "'%s' is not a time HH:MM%s", v,
                        k->nullable ? " (or null)" : "");
        *(bool *)field(L, k->aux) = true;
        *(int64_t *)field(L, k->off) = x;
        return HH_OK;
    default:
        return set_number(L, n, k);
    }
}

/* ---- lists and mappings ---------------------------------------------------------------- */

/* The items [*start, *top) of a list value, none for null; false when n is
 * neither (the caller says what it needed). */
static bool items(const yaml_node_t *n, yaml_node_item_t **start, yaml_node_item_t **top)
{
    *start = *top = NULL;
    if (scalar_is_null(n))
        return true;
    if (n->type != YAML_SEQUENCE_NODE)
        return false;
    *start = n->data.sequence.items.start;
    *top = n->data.sequence.items.top;
    return true;
}

static int set_windows(struct loader *L, const yaml_node_t *n, const struct key *k)
{
    struct hh_window *w = field(L, k->off);
    int *count = field(L, k->aux);
    yaml_node_item_t *it, *top;

    if (!items(n, &it, &top))
        return fail(L, n, k->name, "%s", "needs a list of \"HH:MM:SS-HH:MM:SS\" windows");
    memset(w, 0, k->size);
    for (*count = 0; it < top; it++) {
        yaml_node_t *e = yaml_document_get_node(&L->doc, *it);
        const char *v, *dash;

        if (!e || e->type != YAML_SCALAR_NODE)
            return fail(L, n, k->name, "%s", "a window must be a string");
        if ((size_t)*count >= k->size / sizeof *w)
            return fail(L, e, k->name, "more than %zu windows", k->size / sizeof *w);
        v = text(e);
        dash = strchr(v, '-');
        if (!dash || parse_tod(v, (size_t)(dash - v), &w[*count].from) ||
            parse_tod(dash + 1, strlen(dash + 1), &w[*count].to) ||
            w[*count].to <= w[*count].from)
            return fail(L, e, k->name, "'%s' is not a window HH:MM:SS-HH:MM:SS", v);
        (*count)++;
    }
    return HH_OK;
}

static int set_list(struct loader *L, const yaml_node_t *n, const struct key *k)
{
    struct hh_config_list *l = field(L, k->off);
    yaml_node_item_t *it, *top;
    int rc;

    if (!items(n, &it, &top))
        return fail(L, n, k->name, "%s", "needs a list of strings");
    memset(l, 0, k->size);
    for (l->n = 0; it < top; it++) {
        yaml_node_t *e = yaml_document_get_node(&L->doc, *it);

        if (!e || e->type != YAML_SCALAR_NODE || scalar_is_null(e))
            return fail(L, n, k->name, "%s", "each item must be a string");
        if (l->n >= HH_CONFIG_LIST_MAX)
            return fail(L, e, k->name, "more than %d items", HH_CONFIG_LIST_MAX);
        if ((rc = put_text(L, e, k, text(e), l->item[l->n], sizeof l->item[0])))
            return rc;
        l->n++;
    }
    return HH_OK;
}

static int set_kv(struct loader *L, const yaml_node_t *n, const struct key *k)
{
    struct hh_config_kv *m = field(L, k->off);
    yaml_node_pair_t *p;
    int rc;

    memset(m, 0, k->size);
    if (scalar_is_null(n))
        return HH_OK;
    if (n->type != YAML_MAPPING_NODE)
        return fail(L, n, k->name, "%s", "needs a mapping of names to values");
    for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(&L->doc, p->key);
        yaml_node_t *vn = yaml_document_get_node(&L->doc, p->value);

        if (!kn || !vn || kn->type != YAML_SCALAR_NODE || vn->type != YAML_SCALAR_NODE ||
            scalar_is_null(vn))
            return fail(L, n, k->name, "%s", "each entry must be name: value (strings)");
        if (repeated(L, n, p))
            return fail(L, kn, k->name, "'%s' appears twice", text(kn));
        if (m->n >= HH_CONFIG_KV_MAX)
            return fail(L, kn, k->name, "more than %d entries", HH_CONFIG_KV_MAX);
        if ((rc = put_text(L, kn, k, text(kn), m->kv[m->n].key, sizeof m->kv[0].key)) ||
            (rc = put_text(L, vn, k, text(vn), m->kv[m->n].value, sizeof m->kv[0].value)))
            return rc;
        m->n++;
    }
    return HH_OK;
}

/* `at`: "HH:MM:SS" (IST, on the replayed day) or a timestamp with an offset. */
static int set_ext_at(struct loader *L, const yaml_node_t *n, const char *name,
                      struct hh_config_external *x)
{
    const char *v = text(n), *why = NULL;

    if (parse_tod(v, strlen(v), &x->at) == HH_OK) {
        x->tod = true;
        return HH_OK;
    }
    x->tod = false;
    if (hh_time_parse(v, strlen(v), &x->at, &why))
        return fail(L, n, name, "'%s' is neither HH:MM:SS nor a timestamp (%s)", v,
                    why ? why : "malformed");
    return HH_OK;
}

/* One field of an external action (name is "key[i].field" for messages). */
static int set_ext_field(struct loader *L, const yaml_node_t *kn, const yaml_node_t *vn,
                         const char *name, struct hh_config_external *x)
{
    static const char *const actions[] = { "close_position", "cancel_orders", "reject_next" };
    const char *f = text(kn), *v = text(vn);

    if (vn->type != YAML_SCALAR_NODE || scalar_is_null(vn))
        return fail(L, vn, name, "%s", "needs a value");
    if (!strcmp(f, "at"))
        return set_ext_at(L, vn, name, x);
    if (!strcmp(f, "symbol")) {
        if (strlen(v) >= sizeof x->symbol)
            return fail(L, vn, name, "'%s' is too long", v);
        memcpy(x->symbol, v, strlen(v) + 1);
        return HH_OK;
    }
    if (strcmp(f, "action"))
        return fail(L, kn, name, "%s", "unknown field (at, action, symbol)");
    for (int a = 0; a < 3; a++) {
        if (!strcmp(v, actions[a])) {
            x->action = (enum hh_config_ext_action)a;
            return HH_OK;
        }
    }
    return fail(L, vn, name, "'%s' is not one of: close_position | cancel_orders | "
                "reject_next", v);
}

static int set_external_one(struct loader *L, const yaml_node_t *e, const struct key *k,
                            int i, struct hh_config_external *x)
{
    char name[160];
    unsigned seen = 0;

    snprintf(name, sizeof name, "%s[%d]", k->name, i);
    if (e->type != YAML_MAPPING_NODE)
        return fail(L, e, name, "%s", "needs {at: ..., action: ..., symbol: ...}");
    memset(x, 0, sizeof *x);
    for (yaml_node_pair_t *p = e->data.mapping.pairs.start; p < e->data.mapping.pairs.top;
         p++) {
        yaml_node_t *kn = yaml_document_get_node(&L->doc, p->key);
        yaml_node_t *vn = yaml_document_get_node(&L->doc, p->value);
        char fname[200];
        int rc;

        if (!kn || !vn || kn->type != YAML_SCALAR_NODE)
            return fail(L, e, name, "%s", "fields must be plain names");
        snprintf(fname, sizeof fname, "%s.%s", name, text(kn));
        if (repeated(L, e, p))
            return fail(L, kn, fname, "%s", "appears twice");
        if ((rc = set_ext_field(L, kn, vn, fname, x)))
            return rc;
        seen |= !strcmp(text(kn), "at") ? 1u : !strcmp(text(kn), "action") ? 2u : 4u;
    }
    if (seen != 7u)
        return fail(L, e, name, "%s", "needs all of at, action and symbol");
    return HH_OK;
}

static int set_external(struct loader *L, const yaml_node_t *n, const struct key *k)
{
    struct hh_config_external *x = field(L, k->off);
    int *count = field(L, k->aux);
    yaml_node_item_t *it, *top;
    int rc;

    if (!items(n, &it, &top))
        return fail(L, n, k->name, "%s", "needs a list of {at, action, symbol}");
    memset(x, 0, k->size);
    for (*count = 0; it < top; it++) {
        yaml_node_t *e = yaml_document_get_node(&L->doc, *it);

        if (!e)
            return fail(L, n, k->name, "%s", "malformed item");
        if ((size_t)*count >= k->size / sizeof *x)
            return fail(L, e, k->name, "more than %zu actions", k->size / sizeof *x);
        if ((rc = set_external_one(L, e, k, *count, &x[*count])))
            return rc;
        (*count)++;
    }
    return HH_OK;
}

/* ---- walking the document -------------------------------------------------------------- */

static int set_value(struct loader *L, const yaml_node_t *n, const struct key *k)
{
    if (!L->defaults) {
        L->line[k - keys] = line_of(n);
        if (k->given)
            *(bool *)field(L, k->given) = true;
    }
    switch (k->type) {
    case KT_WINDOWS:
        return set_windows(L, n, k);
    case KT_LIST:
        return set_list(L, n, k);
    case KT_KV:
        return set_kv(L, n, k);
    case KT_EXTERNAL:
        return set_external(L, n, k);
    default:
        if (n->type != YAML_SCALAR_NODE)
            return fail(L, n, k->name, "%s", "needs a single value, not a list or mapping");
        return set_scalar(L, n, k);
    }
}

static int walk_mapping(struct loader *L, const yaml_node_t *map, const char *prefix);

static int walk_value(struct loader *L, const yaml_node_t *n, const char *name)
{
    const struct key *k = find_key(name);

    if (k)
        return set_value(L, n, k);
    if (is_section(name)) {
        if (scalar_is_null(n))
            return HH_OK;  /* an empty section */
        if (n->type != YAML_MAPPING_NODE)
            return fail(L, n, name, "%s", "is a section: it needs keys under it");
        return walk_mapping(L, n, name);
    }
    return fail(L, n, name, "%s", "unknown key");
}

static int walk_mapping(struct loader *L, const yaml_node_t *map, const char *prefix)
{
    yaml_node_pair_t *p;

    for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(&L->doc, p->key);
        yaml_node_t *vn = yaml_document_get_node(&L->doc, p->value);
        char name[256];
        int rc;

        if (!kn || !vn || kn->type != YAML_SCALAR_NODE)
            return fail(L, map, prefix[0] ? prefix : "(top)", "%s", "keys must be plain names");
        snprintf(name, sizeof name, "%s%s%s", prefix, prefix[0] ? "." : "", text(kn));
        if (repeated(L, map, p))
            return fail(L, kn, name, "%s", "appears twice");
        if ((rc = walk_value(L, vn, name)))
            return rc;
    }
    return HH_OK;
}

/* Line of `name` in the file (0 when absent). */
static unsigned long key_line(const struct loader *L, const char *name)
{
    return L->line[find_key(name) - keys];
}

static unsigned long later(unsigned long a, unsigned long b)
{
    return a > b ? a : b;
}

/* Rules that involve several keys (after the whole file is read). */
static int check_combined(struct loader *L)
{
    const struct hh_config *c = L->c;

    if (c->execution.slippage_ticks && c->execution.slippage_bps)
        return hh_diag_set(L->d, HH_ECONFIG, "%s:%lu: keys 'execution.slippage_ticks' and "
                           "'execution.slippage_bps' are both non-zero; set at most one",
                           L->path, later(key_line(L, "execution.slippage_ticks"),
                                          key_line(L, "execution.slippage_bps")));
    if (c->broker.kite.market_protection == 0)
        return hh_diag_set(L->d, HH_ECONFIG, "%s:%lu: key 'broker.kite.market_protection' is 0: "
                           "Kite refuses MARKET and SL-M orders without protection; -1 (the "
                           "broker's automatic value) or a percentage 1..100", L->path,
                           key_line(L, "broker.kite.market_protection"));
    if (c->broker.kite.orders_per_minute < c->broker.kite.orders_per_second)
        return hh_diag_set(L->d, HH_ECONFIG, "%s:%lu: key 'broker.kite.orders_per_minute' is "
                           "below 'broker.kite.orders_per_second'", L->path,
                           later(key_line(L, "broker.kite.orders_per_minute"),
                                 key_line(L, "broker.kite.orders_per_second")));
    if (c->broker.retry_max < c->broker.retry_base)
        return hh_diag_set(L->d, HH_ECONFIG, "%s:%lu: key 'broker.retry.max_ms' is below "
                           "'broker.retry.base_ms'", L->path,
                           later(key_line(L, "broker.retry.max_ms"),
                                 key_line(L, "broker.retry.base_ms")));
    return HH_OK;
}

/* ---- defaults -------------------------------------------------------------------------- */

/* Does `name` lie in the section sec[0..n) ("risk" holds "risk.min_rr")? */
static bool in_section(const char *name, const char *sec, size_t n)
{
    return !strncmp(name, sec, n) && name[n] == '.';
}

/* The table's own invariants for row i (a failure is a bug in the rows). */
static void check_row(size_t i)
{
    const struct key *k = &keys[i];
    bool number = k->type == KT_MONEY || k->type == KT_RATIO || k->type == KT_INT ||
                  k->type == KT_SECONDS || k->type == KT_MILLIS;

    HH_ASSERT(k->def && k->doc && k->off + k->size <= sizeof(struct hh_config));
    HH_ASSERT(k->type != KT_ENUM || (k->names && k->size == sizeof(int)));
    HH_ASSERT(!number || (k->min < k->max && k->size == sizeof(int64_t)));
    /* the rows of a section are contiguous: entering a section, no earlier
     * row is in it (the printed defaults never repeat a section) */
    for (const char *dot = strchr(k->name, '.'); dot && i > 0; dot = strchr(dot + 1, '.')) {
        size_t n = (size_t)(dot - k->name);

        if (in_section(keys[i - 1].name, k->name, n))
            continue;
        for (size_t j = 0; j + 1 < i; j++)
            HH_ASSERT(!in_section(keys[j].name, k->name, n));
    }
}

/* Store every row's default through set_value(), as the file's values are. */
static int apply_defaults(struct loader *L)
{
    int rc = HH_OK;

    L->defaults = true;
    for (size_t i = 0; i < NKEYS && !rc; i++) {
        const struct key *k = &keys[i];
        yaml_parser_t parser;
        yaml_node_t *root;

        check_row(i);
        if (!yaml_parser_initialize(&parser))
            return hh_diag_set(L->d, HH_ENOMEM, "out of memory");
        yaml_parser_set_input_string(&parser, (const unsigned char *)k->def, strlen(k->def));
        if (!yaml_parser_load(&parser, &L->doc)) {
            yaml_parser_delete(&parser);
            return hh_diag_set(L->d, HH_ECONFIG, "key '%s': default '%s' is not YAML",
                               k->name, k->def);
        }
        root = yaml_document_get_root_node(&L->doc);
        rc = root ? set_value(L, root, k)
                  : hh_diag_set(L->d, HH_ECONFIG, "key '%s': empty default", k->name);
        yaml_document_delete(&L->doc);
        yaml_parser_delete(&parser);
    }
    L->defaults = false;
    return rc;
}

void hh_config_defaults(struct hh_config *c)
{
    struct hh_diag d = { .msg = "" };
    struct loader L = { .path = "(defaults)", .c = c, .d = &d };
    int rc;

    memset(c, 0, sizeof *c);
    rc = apply_defaults(&L);
    if (rc)
        fprintf(stderr, "hedgehog: the configuration table is broken: %s\n", d.msg);
    HH_ASSERT(rc == HH_OK);
}

/* ---- the file -------------------------------------------------------------------------- */

static int load_document(struct loader *L, const char *text, size_t len)
{
    yaml_parser_t parser;
    yaml_node_t *root;
    int rc = HH_OK;

    if (!yaml_parser_initialize(&parser))
        return hh_diag_set(L->d, HH_ENOMEM, "%s: out of memory", L->path);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &L->doc)) {
        rc = hh_diag_set(L->d, HH_ECONFIG, "%s:%lu: YAML error: %s", L->path,
                         (unsigned long)parser.problem_mark.line + 1,
                         parser.problem ? parser.problem : "malformed");
        goto out_parser;
    }
    root = yaml_document_get_root_node(&L->doc);
    if (!root || scalar_is_null(root))
        goto out_doc;  /* an empty file: all defaults */
    if (root->type != YAML_MAPPING_NODE) {
        rc = hh_diag_set(L->d, HH_ECONFIG, "%s:%lu: the configuration must be a mapping "
                         "of keys", L->path, line_of(root));
        goto out_doc;
    }
    rc = walk_mapping(L, root, "");
    if (!rc)
        rc = check_combined(L);
out_doc:
    yaml_document_delete(&L->doc);
out_parser:
    yaml_parser_delete(&parser);
    return rc;
}

int hh_config_read(const char *path, char **text, size_t *len, struct hh_diag *d)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;

    *text = NULL;
    *len = 0;
    if (!f)
        return hh_diag_set(d, HH_EIO, "%s: cannot open: %s", path, strerror(errno));
    buf = malloc(HH_CONFIG_MAX_BYTES + 1);
    if (!buf) {
        fclose(f);
        return hh_diag_set(d, HH_ENOMEM, "%s: out of memory", path);
    }
    n = fread(buf, 1, HH_CONFIG_MAX_BYTES + 1, f);
    if (ferror(f) || n > HH_CONFIG_MAX_BYTES) {
        fclose(f);
        free(buf);
        return hh_diag_set(d, HH_EIO, "%s: %s", path, n > HH_CONFIG_MAX_BYTES
                           ? "longer than 1 MiB: not a configuration" : "read error");
    }
    fclose(f);
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return HH_OK;
}

int hh_config_parse(struct hh_config *c, const char *path, const char *text, size_t len,
                    bool check_files, struct hh_diag *d)
{
    struct loader L = { .path = path, .c = c, .d = d, .check_files = check_files };
    char tmp[HH_PATH_MAX];
    int rc;

    memset(c, 0, sizeof *c);
    if (strlen(path) >= HH_PATH_MAX)
        return hh_diag_set(d, HH_EIO, "config path too long");
    snprintf(c->path, sizeof c->path, "%s", path);
    snprintf(tmp, sizeof tmp, "%s", path);
    snprintf(L.dir, sizeof L.dir, "%s", dirname(tmp));
    rc = apply_defaults(&L);
    if (!rc)
        rc = load_document(&L, text, len);
    return rc;
}

int hh_config_load(struct hh_config *c, const char *path, struct hh_diag *d)
{
    char *text;
    size_t len;
    int rc;

    memset(c, 0, sizeof *c);
    if ((rc = hh_config_read(path, &text, &len, d)))
        return rc;
    rc = hh_config_parse(c, path, text, len, true, d);
    free(text);
    return rc;
}

/* ---- comparing two configurations -------------------------------------------------- */

/* Does key k hold the same value in a and b (its field, the flag or count
 * beside it, and whether it was given: an absent key may mean a default
 * of its own, as exits.squareoff's per exchange)? */
static bool same_value(const struct key *k, const struct hh_config *a,
                       const struct hh_config *b)
{
    const char *pa = (const char *)a, *pb = (const char *)b;

    if (memcmp(pa + k->off, pb + k->off, k->size))
        return false;
    if (k->given && *(const bool *)(pa + k->given) != *(const bool *)(pb + k->given))
        return false;
    switch (k->type) {
    case KT_TOD:
        return *(const bool *)(pa + k->aux) == *(const bool *)(pb + k->aux);
    case KT_WINDOWS:
    case KT_EXTERNAL:
        return *(const int *)(pa + k->aux) == *(const int *)(pb + k->aux);
    default:
        return true;
    }
}

size_t hh_config_diff(const struct hh_config *a, const struct hh_config *b, char *out,
                      size_t cap)
{
    size_t n = 0, used = 0;

    if (cap)
        out[0] = '\0';
    for (size_t i = 0; i < NKEYS; i++) {
        size_t want;

        if (same_value(&keys[i], a, b))
            continue;
        want = strlen(keys[i].name) + (n ? 1 : 0);
        if (used + want < cap) {
            snprintf(out + used, cap - used, "%s%s", n ? " " : "", keys[i].name);
            used += want;
        }
        n++;
    }
    return n;
}

/* ---- printing the defaults ------------------------------------------------------------- */

/* Number of leading sections (dotted components before the last) a and b
 * share: "broker.retry.base_ms" and "broker.kind" share 1. */
static int shared_sections(const char *a, const char *b)
{
    int n = 0;

    for (;;) {
        const char *da = strchr(a, '.'), *db = strchr(b, '.');

        if (!da || !db || da - a != db - b || strncmp(a, b, (size_t)(da - a)))
            return n;
        n++;
        a = da + 1;
        b = db + 1;
    }
}

/* Row k under the sections already opened by the row before (prev). */
static void write_row(FILE *f, const struct key *k, const char *prev)
{
    int shared = shared_sections(prev, k->name), depth = 0;
    const char *s = k->name, *dot;
    char line[300];

    for (; (dot = strchr(s, '.')) != NULL; s = dot + 1, depth++)
        if (depth >= shared)
            fprintf(f, "%*s%.*s:\n", 2 * depth, "", (int)(dot - s), s);
    snprintf(line, sizeof line, "%*s%s: %s", 2 * depth, "", s, k->def);
    fprintf(f, "%-29s # %s\n", line, k->doc);
}

int hh_config_write_defaults(FILE *f)
{
    const char *prev = "";

    for (size_t i = 0; i < NKEYS; i++) {
        write_row(f, &keys[i], prev);
        prev = keys[i].name;
    }
    return fflush(f) || ferror(f) ? HH_EIO : HH_OK;
}
