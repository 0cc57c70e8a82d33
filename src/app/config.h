/*
 * config.h — the engine's configuration (SPEC §7, §10b, §11–§14).
 *
 * One declarative table in config.c holds every key as one row: its dotted
 * name, type, bounds, default (the YAML text a user would write, parsed by
 * the same code as the file), the field of struct hh_config it lands in, an
 * optional validator and the comment `hedgehog config --defaults` prints.
 * Adding a key is adding a row (and its field here).  The YAML file
 * (libyaml) is checked against the table: every key is optional; an unknown
 * key is an error naming the file, line and key, so a typo never falls back
 * to a default.  Paths in the file are relative to the file.
 *
 * The commands receive the finished struct and treat it as immutable; the
 * mapping functions below (config_map.c) turn it into the settings of the
 * trade manager, the simulated exchange and the paper broker, written once
 * for every command.
 */
#ifndef HH_CONFIG_H
#define HH_CONFIG_H

#include "broker/paper.h"
#include "broker/simex.h"
#include "core/err.h"
#include "core/fixed.h"
#include "core/time.h"
#include "trade/trade.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define HH_PATH_MAX 1024
#define HH_CONFIG_WINDOWS_MAX 16     /* paper.faults.unavailable / disconnect */
#define HH_CONFIG_EXTERNAL_MAX 64    /* paper.faults.external */
#define HH_CONFIG_LIST_MAX 32        /* items of a list of strings */
#define HH_CONFIG_ITEM_MAX 128       /* bytes of one item, NUL included */
#define HH_CONFIG_KV_MAX 32          /* signals.kafka.client properties */
#define HH_CONFIG_TEXT_MAX 256       /* URLs, host:port, topic names */

enum hh_entry_mode { HH_ENTRY_RETEST, HH_ENTRY_TOUCH };

/* exits.stop_orders; UNSET: the key is absent or null, the command picks
 * (hh_config_stops()). */
enum hh_config_stop_orders {
    HH_CONFIG_STOPS_UNSET,
    HH_CONFIG_STOPS_RESTING,
    HH_CONFIG_STOPS_HELD,
};

enum hh_config_broker_kind { HH_CONFIG_BROKER_PAPER, HH_CONFIG_BROKER_KITE };
enum hh_config_product { HH_CONFIG_MIS, HH_CONFIG_NRML, HH_CONFIG_CNC };
enum hh_config_md_kind { HH_CONFIG_MD_FILE, HH_CONFIG_MD_KITE };
enum hh_config_sig_source { HH_CONFIG_SIGNALS_FILE, HH_CONFIG_SIGNALS_KAFKA };

/* What happens at the paper broker outside the engine (SPEC §11). */
enum hh_config_ext_action {
    HH_CONFIG_EXT_CLOSE_POSITION,    /* the position is squared off */
    HH_CONFIG_EXT_CANCEL_ORDERS,     /* working orders' rest is cancelled */
    HH_CONFIG_EXT_REJECT_NEXT,       /* the next placement is rejected */
};

/* A daily window "HH:MM:SS-HH:MM:SS" (IST time of day, ns; [from, to)). */
struct hh_window {
    int64_t from, to;
};

/* One paper.faults.external entry. */
struct hh_config_external {
    bool tod;                        /* at is an IST time of day (ns) on the
                                        replayed day; else ns since epoch */
    int64_t at;
    enum hh_config_ext_action action;
    char symbol[64];
};

/* A list of strings (at most HH_CONFIG_LIST_MAX, each NUL-terminated). */
struct hh_config_list {
    int n;
    char item[HH_CONFIG_LIST_MAX][HH_CONFIG_ITEM_MAX];
};

/* A mapping of strings to strings, in file order, keys distinct. */
struct hh_config_kv {
    int n;
    struct {
        char key[HH_CONFIG_ITEM_MAX];
        char value[512];
    } kv[HH_CONFIG_KV_MAX];
};

/*
 * The configuration.  Strings and paths are NUL-terminated; "" stands for
 * null (a nullable key written null, or left at a null default).  Paths are
 * resolved against the configuration file's directory.
 */
struct hh_config {
    char path[HH_PATH_MAX];              /* the file loaded ("" for defaults) */

    hh_money_t capital;                  /* starting equity */
    char instruments[HH_PATH_MAX];       /* resolved path, "" when unset */
    char holidays[HH_PATH_MAX];          /* calendar.holidays, resolved */

    struct {
        hh_ratio_t risk_per_trade;       /* share of equity risked per trade */
        hh_ratio_t size_scale;
        int64_t max_lots_per_trade;
        int64_t max_open_trades;
        hh_ratio_t min_rr;
        hh_ratio_t min_confidence;
        hh_ratio_t margin_buffer;        /* share of available margin usable */
        bool allow_naked;                /* groups may hold uncovered shorts */
        hh_ratio_t max_hedge_variance;   /* hedge balance flagged above this */
        bool require_broker_margin;      /* groups: no start without the
                                            broker's margin figure */
    } risk;

    struct {
        int64_t max_live_age;            /* ns */
        int64_t max_clock_skew;          /* ns */
        enum hh_config_sig_source source;
        struct {
            char brokers[HH_CONFIG_TEXT_MAX];   /* "host:port[,host:port...]" */
            char topic[HH_CONFIG_TEXT_MAX];
            char group[HH_CONFIG_TEXT_MAX];
            char dlq_topic[HH_CONFIG_TEXT_MAX];
            char events_topic[HH_CONFIG_TEXT_MAX];   /* "": no event stream */
            struct hh_config_kv client;  /* extra librdkafka properties */
        } kafka;
    } signals;

    struct {
        enum hh_entry_mode mode;
        int64_t timeframe;               /* ns: 1m 3m 5m 15m 30m 1h */
        hh_ratio_t volume_mult;          /* 0 disables the volume check */
        int64_t volume_lookback;         /* candles */
        bool require_pattern;
    } entry;

    struct {
        bool breakeven_after_t1;
        bool squareoff_set;              /* false: hold past the close */
        int64_t squareoff;               /* IST time of day, ns */
        bool squareoff_explicit;         /* key given; else per-exchange default
                                            (NSE/BSE 15:15, MCX 25 min before close) */
        enum hh_config_stop_orders stop_orders;
    } exits;

    struct {
        int64_t slippage_ticks;
        hh_ratio_t slippage_bps;         /* basis points (ratio scale: 5 bps = 5e9) */
        char fees[32];                   /* a schedule of hh_charges_names() */
    } execution;

    struct {
        bool close_before_set;           /* close ITM shorts on expiry day ... */
        int64_t close_before;            /* ... at this IST time of day (ns) */
    } expiry;

    struct {
        int64_t exposure_check;          /* ns */
        int64_t hedge_debounce;          /* ns */
        int64_t leg_timeout;             /* ns */
        hh_ratio_t sl_limit_buffer_pct;  /* percent */
        int64_t sl_timeout;              /* ns */
    } exec;

    struct {
        int64_t retry_attempts;
        int64_t retry_base;              /* ns */
        int64_t retry_max;               /* ns */
        hh_ratio_t retry_jitter;
        int64_t breaker_failures;
        int64_t breaker_window;          /* ns */
        int64_t breaker_cool_off;        /* ns */
        enum hh_config_broker_kind kind;
        char account[64];                /* the broker's user id; "": none named */
        struct {
            char api_url[HH_CONFIG_TEXT_MAX];   /* https://, or http:// on loopback */
            char ws_url[HH_CONFIG_TEXT_MAX];    /* wss://, or ws:// on loopback */
            char api_key_file[HH_PATH_MAX];
            char access_token_file[HH_PATH_MAX];
            enum hh_config_product product;
            int64_t market_protection;   /* -1: the broker's automatic value */
            int64_t orders_per_second;
            int64_t orders_per_minute;
            int64_t timeout;             /* ns */
        } kite;
    } broker;

    struct {
        int64_t poll;                    /* ns */
    } reconcile;

    struct {
        int64_t latency;                 /* ns */
        hh_ratio_t fill_ratio;
        bool fill_ratio_set;             /* fill_ratio given in the file (backtests:
                                            liquidity limits only then) */
        uint64_t seed;
        hh_ratio_t drop_update_pct;
        int64_t delay_update;            /* ns */
        hh_ratio_t reject_pct;
        hh_ratio_t timeout_pct;
        int n_unavailable;
        struct hh_window unavailable[HH_CONFIG_WINDOWS_MAX];
        int n_disconnect;
        struct hh_window disconnect[HH_CONFIG_WINDOWS_MAX];
        hh_ratio_t duplicate_update_pct; /* percent */
        hh_ratio_t reorder_update_pct;   /* percent */
        int64_t book_lag;                /* ns */
        int n_external;
        struct hh_config_external external[HH_CONFIG_EXTERNAL_MAX];
    } paper;

    struct {
        enum hh_config_md_kind kind;
        struct hh_config_list symbols;   /* always subscribed */
    } market_data;

    struct {
        char listen[HH_CONFIG_TEXT_MAX]; /* "host:port"; "": no API */
        struct hh_config_list allow;     /* CIDRs, IPv4 and IPv6, validated */
        char keys_file[HH_PATH_MAX];     /* "": none */
        char read_token_file[HH_PATH_MAX];
        int64_t window;                  /* ns */
    } api;

    struct {
        char dir[HH_PATH_MAX];           /* daily reports; "": none */
    } report;

    struct {
        char key_file[HH_PATH_MAX];      /* the audit chain's HMAC key (a secret
                                            file, read by the command that opens
                                            the database); "": unkeyed */
    } audit;
};

/* Fill *c with every row's default (no file: instruments and holidays
 * unset, other relative paths left relative to the working directory). */
void hh_config_defaults(struct hh_config *c);

/*
 * Load `path` over the defaults.  instruments.csv and holidays.csv next to
 * the file are used when their keys are absent and the files exist; a file
 * a key names must exist.  Returns HH_OK, or HH_EIO / HH_ECONFIG with a
 * message naming the file, line and key in d.
 */
int hh_config_load(struct hh_config *c, const char *path, struct hh_diag *d);

/* A configuration file is at most this long (a larger one is refused). */
#define HH_CONFIG_MAX_BYTES (1u << 20)

/* The bytes of the file at path: *text malloc'd (the caller frees it),
 * NUL-terminated, *len without the NUL.  HH_EIO naming the file. */
int hh_config_read(const char *path, char **text, size_t *len, struct hh_diag *d);

/*
 * hh_config_load() of text[0..len), read from `path` (its directory
 * resolves relative paths; messages name it).  check_files false: files
 * the keys name need not exist (a configuration recorded at an earlier
 * start, parsed to compare it with today's).
 */
int hh_config_parse(struct hh_config *c, const char *path, const char *text, size_t len,
                    bool check_files, struct hh_diag *d);

/* The keys whose values differ between a and b, their dotted names into
 * out (space-separated; cut short when cap is reached); their count. */
size_t hh_config_diff(const struct hh_config *a, const struct hh_config *b, char *out,
                      size_t cap);

/* Write every key with its default as YAML, grouped by section, each with
 * its comment (what `hedgehog config --defaults` prints; it loads as
 * written).  HH_EIO when writing fails. */
int hh_config_write_defaults(FILE *f);

/* Is the host of url ("scheme://host[:port]/...") a loopback address
 * (127.0.0.0/8, ::1, localhost)?  Rehearsals run only against those. */
bool hh_config_url_loopback(const char *url);

/* Parse "1m" "3m" "5m" "15m" "30m" "1h" into ns; HH_EINVAL otherwise. */
int hh_config_parse_timeframe(const char *s, int64_t *out);

/* ---- mapping into the modules' settings (config_map.c) ---- */

/* The stop policy: exits.stop_orders when set, else command_default
 * (backtest: resting, run: held; SPEC §10b). */
enum hh_stop_policy hh_config_stops(const struct hh_config *c,
                                    enum hh_stop_policy command_default);

/* The trade manager's settings; `stops` is the policy chosen
 * (hh_config_stops()).  *out is overwritten entirely; its fees point to a
 * static schedule. */
void hh_config_tm(const struct hh_config *c, enum hh_stop_policy stops,
                  struct hh_tm_config *out);

/* The simulated exchange of backtests: slippage, paper.latency_ms,
 * liquidity only when paper.fill_ratio is in the file, reject_ratio =
 * paper.faults.reject_pct / 100, paper.faults.seed. */
void hh_config_simex(const struct hh_config *c, struct hh_simex_config *out);

/* The paper broker of `run`: capital and slippage always; latency, fill
 * ratio and faults unless `shadow` (nothing is sent, nothing is faulted). */
void hh_config_paper(const struct hh_config *c, bool shadow, struct hh_paper_config *out);

#endif
