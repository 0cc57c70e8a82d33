/*
 * config_map.c — the configuration mapped into the settings of the trade
 * manager, the simulated exchange and the paper broker, written once for
 * every command (issue 11: no command copies fields by position).
 *
 * Every output is written whole with a designated initializer, so a field
 * added to a settings struct is zero until it is mapped here, never shifted
 * into a neighbour.
 */
#include "app/config.h"

#include "trade/charges.h"

#include <stdio.h>

_Static_assert(HH_CONFIG_WINDOWS_MAX <= HH_PAPER_WINDOWS_MAX,
               "every configured fault window fits the paper broker");
_Static_assert(HH_CONFIG_EXTERNAL_MAX <= HH_PAPER_EXTERNAL_MAX,
               "every configured external action fits the paper broker");
_Static_assert(sizeof ((struct hh_config_external *)0)->symbol <= HH_PAPER_SYMBOL_MAX,
               "every configured symbol fits the paper broker's");

/* The hybrid stop polls an unconfirmed cancellation this often. */
#define HSL_CONFIRM_POLL HH_NS_PER_S

enum hh_stop_policy hh_config_stops(const struct hh_config *c,
                                    enum hh_stop_policy command_default)
{
    switch (c->exits.stop_orders) {
    case HH_CONFIG_STOPS_RESTING:
        return HH_STOPS_RESTING;
    case HH_CONFIG_STOPS_HELD:
        return HH_STOPS_HELD;
    case HH_CONFIG_STOPS_UNSET:
        break;
    }
    return command_default;
}

void hh_config_tm(const struct hh_config *c, enum hh_stop_policy stops,
                  struct hh_tm_config *out)
{
    *out = (struct hh_tm_config){
        .capital = c->capital,
        .risk_per_trade = c->risk.risk_per_trade,
        .size_scale = c->risk.size_scale,
        .max_lots_per_trade = c->risk.max_lots_per_trade,
        .max_open_trades = c->risk.max_open_trades,
        .touch = c->entry.mode == HH_ENTRY_TOUCH,
        .volume_mult = c->entry.volume_mult,
        .volume_lookback = c->entry.volume_lookback,
        .require_pattern = c->entry.require_pattern,
        .breakeven_after_t1 = c->exits.breakeven_after_t1,
        .squareoff_set = c->exits.squareoff_set,
        .squareoff_explicit = c->exits.squareoff_explicit,
        .squareoff = c->exits.squareoff,
        .fees = hh_charges_find(c->execution.fees),
        .exposure_check = c->exec.exposure_check,
        .hedge_debounce = c->exec.hedge_debounce,
        .leg_timeout = c->exec.leg_timeout,
        .margin_buffer = c->risk.margin_buffer,
        .require_broker_margin = c->risk.require_broker_margin,
        .allow_naked = c->risk.allow_naked,
        .expiry_close_set = c->expiry.close_before_set,
        .expiry_close_before = c->expiry.close_before,
        .variance_limit = c->risk.max_hedge_variance,
        .stops = stops,
        .retry = {
            .attempts = (int)c->broker.retry_attempts,
            .base = c->broker.retry_base,
            .max = c->broker.retry_max,
            .jitter = c->broker.retry_jitter,
        },
        .retry_seed = c->paper.seed,
        .breaker = {
            .failures = (int)c->broker.breaker_failures,
            .window = c->broker.breaker_window,
            .cool_off = c->broker.breaker_cool_off,
        },
        .hsl = {
            .buffer_pct = c->exec.sl_limit_buffer_pct,
            .timeout = c->exec.sl_timeout,
            .confirm_poll = HSL_CONFIRM_POLL,
        },
    };
}

void hh_config_simex(const struct hh_config *c, struct hh_simex_config *out)
{
    *out = (struct hh_simex_config){
        .slippage_ticks = c->execution.slippage_ticks,
        .slippage_bps = c->execution.slippage_bps,
        .latency = c->paper.latency,
        /* backtests: unlimited liquidity unless the key is in the file
         * (index bars have volume 0 and must still fill) */
        .liquidity = c->paper.fill_ratio_set,
        .fill_ratio = c->paper.fill_ratio,
        .reject_ratio = (hh_ratio_t)hh_i128_div_round(c->paper.reject_pct, 100),
        .seed = c->paper.seed,
    };
}

static void copy_windows(const struct hh_window *from, int n, struct hh_paper_window *to)
{
    for (int i = 0; i < n; i++)
        to[i] = (struct hh_paper_window){ .from = from[i].from, .to = from[i].to };
}

/* `at` keeps its form: an IST time of day (ns) or an instant (ns). */
static void copy_external(const struct hh_config_external *from, int n,
                          struct hh_paper_external *to)
{
    static const enum hh_paper_ext_action action[] = {
        [HH_CONFIG_EXT_CLOSE_POSITION] = HH_PAPER_EXT_CLOSE_POSITION,
        [HH_CONFIG_EXT_CANCEL_ORDERS] = HH_PAPER_EXT_CANCEL_ORDERS,
        [HH_CONFIG_EXT_REJECT_NEXT] = HH_PAPER_EXT_REJECT_NEXT,
    };

    for (int i = 0; i < n; i++) {
        to[i] = (struct hh_paper_external){
            .tod = from[i].tod,
            .at = from[i].at,
            .action = action[from[i].action],
        };
        snprintf(to[i].symbol, sizeof to[i].symbol, "%s", from[i].symbol);
    }
}

void hh_config_paper(const struct hh_config *c, bool shadow, struct hh_paper_config *out)
{
    hh_paper_config_defaults(out);
    out->capital = c->capital;
    out->slippage_ticks = c->execution.slippage_ticks;
    out->slippage_bps = c->execution.slippage_bps;
    if (shadow)
        return;   /* nothing is sent: no latency, no faults */
    out->latency = c->paper.latency;
    out->fill_ratio = c->paper.fill_ratio;
    out->seed = c->paper.seed;
    out->drop_update_pct = c->paper.drop_update_pct;
    out->delay_update = c->paper.delay_update;
    out->reject_pct = c->paper.reject_pct;
    out->timeout_pct = c->paper.timeout_pct;
    out->n_unavailable = c->paper.n_unavailable;
    copy_windows(c->paper.unavailable, c->paper.n_unavailable, out->unavailable);
    out->n_disconnect = c->paper.n_disconnect;
    copy_windows(c->paper.disconnect, c->paper.n_disconnect, out->disconnect);
    out->duplicate_update_pct = c->paper.duplicate_update_pct;
    out->reorder_update_pct = c->paper.reorder_update_pct;
    out->book_lag = c->paper.book_lag;
    out->n_external = c->paper.n_external;
    copy_external(c->paper.external, c->paper.n_external, out->external);
}
