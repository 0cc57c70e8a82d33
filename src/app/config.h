/*
 * config.h — the engine's configuration (SPEC §7, §11).
 *
 * One declarative table in config.c names every key with its type, bounds
 * and default and where it lands in struct hh_config; the YAML file (libyaml)
 * is checked against it.  Every key is optional; an unknown key is an error
 * naming the file, line and key, so a typo never falls back to a default.
 * Paths in the file are relative to the file.  The core receives the
 * finished struct and treats it as immutable.
 */
#ifndef HH_CONFIG_H
#define HH_CONFIG_H

#include "core/err.h"
#include "core/fixed.h"
#include "core/time.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#define HH_PATH_MAX 1024
#define HH_CONFIG_WINDOWS_MAX 16

enum hh_entry_mode { HH_ENTRY_RETEST, HH_ENTRY_TOUCH };

/* A daily window "HH:MM:SS-HH:MM:SS" (IST time of day, ns; [from, to)). */
struct hh_window {
    int64_t from, to;
};

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
    } risk;

    struct {
        int64_t max_live_age;            /* ns */
        int64_t max_clock_skew;          /* ns */
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
    } exits;

    struct {
        int64_t slippage_ticks;
        hh_ratio_t slippage_bps;         /* basis points (ratio scale: 5 bps = 5e9) */
        char fees[32];                   /* charge schedule name */
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
    } paper;
};

/* Fill *c with the defaults of SPEC §7 and §11. */
void hh_config_defaults(struct hh_config *c);

/*
 * Load `path` over the defaults.  Returns HH_OK, or HH_EIO / HH_ECONFIG with
 * a message naming the file, line and key in d.
 */
int hh_config_load(struct hh_config *c, const char *path, struct hh_diag *d);

/* Parse "1m" "3m" "5m" "15m" "30m" "1h" into ns; HH_EINVAL otherwise. */
int hh_config_parse_timeframe(const char *s, int64_t *out);

#endif
