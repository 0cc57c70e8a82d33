/*
 * margin.h — the worst-case margin simulator (seed fix #4, SPEC §8-§9,
 * DOMAIN §4): a conservative pre-trade guard, not the exchange's SPAN.
 *
 * Scenarios: every combination of a price shock of the underlying
 * (defaults -3 %, 0, +3 %), a relative volatility shift (0, +30 %, +50 %:
 * sigma x 1.3 ...) and a bid-ask spread multiplier (x1, x1.5, x2): 27.
 * Each leg is repriced with Black-76 at the shocked forward and volatility
 * (time to expiry unchanged: an instantaneous shock).  The loss of a
 * position in a scenario is
 *
 *   sum over legs of  -side x qty x (P_scenario - P_now)        (value lost)
 *                   +  qty x half_spread(P_scenario) x mult     (exit cost)
 *
 * with P_now the model price at the current spot and the leg's volatility
 * (model against model, so the no-shock, x1 scenario costs only the
 * spread).  half_spread is (ask - bid) / 2 from the leg's quotes when both
 * are given, else max(min_half_spread, half_spread_pct x P_scenario)
 * (defaults ₹0.05 and 0.5 % of the premium): the cost of crossing the
 * spread to close each leg, widened by the multiplier.
 *
 * Required margin = max(worst loss, 0) + exposure margin, where exposure
 * margin (ELM) = elm_rate (2 %) of the short legs' notional (spot x qty),
 * plus elm_expiry_extra (2 %) for a leg whose expiry is the as-of date;
 * rounded half-up to the paisa per leg.  Long premium is paid, not
 * margined: a long adds no ELM.
 *
 * Peak margin: the position is built leg by leg in the execution order;
 * the requirement of every partial position (legs order[0..k), k = 1..n)
 * is computed and the maximum is what the check compares with
 * margin_buffer x available.  A short entered before its protection shows
 * up as a spike here.
 *
 * Money results are rounded half-up to the paisa into hh_money_t; pricing
 * is double (SPEC §2).  Nothing allocates: params are prepared once
 * (hh_margin_sim_init) and each evaluation fills a caller's result struct.
 */
#ifndef HH_MARGIN_H
#define HH_MARGIN_H

#include "core/err.h"
#include "core/fixed.h"
#include "core/calendar.h"
#include "core/instrument.h"
#include "core/time.h"
#include "options/strategy.h"
#include "core/model.h"

#include <stdbool.h>
#include <stddef.h>

#define HH_MARGIN_LEGS_MAX   8
#define HH_MARGIN_SHOCKS_MAX 5
#define HH_MARGIN_SCEN_MAX   (HH_MARGIN_SHOCKS_MAX * HH_MARGIN_SHOCKS_MAX * HH_MARGIN_SHOCKS_MAX)

/* The model's parameters (ratios are exact fixed-point, HH_RATIO_SCALE). */
struct hh_margin_params {
    int n_price, n_vol, n_spread;                   /* 1..HH_MARGIN_SHOCKS_MAX each */
    hh_ratio_t price_shock[HH_MARGIN_SHOCKS_MAX];   /* relative, > -1: -0.03 = -3 % */
    hh_ratio_t vol_shift[HH_MARGIN_SHOCKS_MAX];     /* relative, > -1: 0.30 = x1.3 */
    hh_ratio_t spread_mult[HH_MARGIN_SHOCKS_MAX];   /* >= 0: 1.5 = x1.5 */
    double rate;                                    /* r for F = S e^(rT) and discounting */
    hh_ratio_t elm_rate;                            /* of short notional, 0.02 */
    hh_ratio_t elm_expiry_extra;                    /* added on expiry day, 0.02 */
    hh_price_t min_half_spread;                     /* per unit, ₹0.05 */
    hh_ratio_t half_spread_pct;                     /* of the premium, 0.005 */
};

/* The defaults above (27 scenarios, r = 0). */
void hh_margin_params_default(struct hh_margin_params *p);

/* Prepared parameters (the doubles the inner loop needs); fill with
 * hh_margin_sim_init, then share read-only between evaluations. */
struct hh_margin_sim {
    struct hh_margin_params p;
    int nscen;                                  /* n_price x n_vol x n_spread */
    double price_f[HH_MARGIN_SHOCKS_MAX];       /* 1 + price shock */
    double vol_f[HH_MARGIN_SHOCKS_MAX];         /* 1 + vol shift */
    double spread_f[HH_MARGIN_SHOCKS_MAX];
    double min_hs, hs_pct;
};

/* Validate and prepare params.  HH_OK or HH_EINVAL (d names the field). */
int hh_margin_sim_init(struct hh_margin_sim *s, const struct hh_margin_params *p,
                       struct hh_diag *d);

/* Scenario `idx` (0..nscen): price outermost, then vol, then spread, each in
 * the order of the params' arrays. */
void hh_margin_scenario(const struct hh_margin_sim *s, int idx, int *ip, int *iv, int *is);

/* "price -3%, iv +50%, spread x2" into buf; returns the length. */
size_t hh_margin_scenario_name(const struct hh_margin_sim *s, int idx, char *buf,
                               size_t cap);

/* One leg as the simulator sees it. */
struct hh_margin_leg {
    enum hh_opt_type opt;      /* CE / PE */
    enum hh_side side;
    hh_qty_t qty;              /* units, >= 1 */
    hh_price_t strike;         /* > 0 */
    double T;                  /* years to expiry (hh_b76_years); <= 0: intrinsic */
    double sigma;              /* the leg's volatility, fraction, > 0 */
    hh_price_t bid, ask;       /* quotes per unit; used when both > 0 and bid <= ask */
    bool expiry_day;           /* the as-of date is this leg's expiry: extra ELM */
};

struct hh_margin_input {
    hh_price_t spot;           /* underlying now, > 0 */
    int nlegs;                 /* 1..HH_MARGIN_LEGS_MAX */
    struct hh_margin_leg legs[HH_MARGIN_LEGS_MAX];
    int order[HH_MARGIN_LEGS_MAX];   /* execution order: a permutation of
                                        0..nlegs-1 (hh_strat_priority) */
};

struct hh_margin_result {
    int nlegs;                             /* of the input */
    int nscen;
    hh_money_t loss[HH_MARGIN_SCEN_MAX];   /* the full group, per scenario */
    int worst;                             /* scenario of the largest loss
                                              (first of equals) */
    hh_money_t worst_loss;
    hh_money_t exposure;                   /* ELM of the full group */
    hh_money_t required;                   /* max(worst_loss, 0) + exposure */

    /* Along the execution order: step k (1..nlegs) holds order[0..k). */
    hh_money_t step_required[HH_MARGIN_LEGS_MAX];
    int step_worst[HH_MARGIN_LEGS_MAX];    /* scenario of each step's worst loss */
    hh_money_t step_loss[HH_MARGIN_LEGS_MAX];
    hh_money_t peak;                       /* max of step_required */
    int peak_step;                         /* 1-based step of the peak (first) */
};

/*
 * The simulator's view of a group at instant `as_of`: per leg T =
 * hh_b76_years(as_of, expiry, cal), sigma = the leg's iv when set (> 0) else
 * `sigma`, quotes from the leg, expiry_day when the IST date of as_of is the
 * leg's expiry; the execution order from hh_strat_priority(g, spot).
 * Returns HH_OK, or HH_EINVAL (no legs, more than HH_MARGIN_LEGS_MAX, a leg
 * without a positive volatility, spot <= 0).
 */
int hh_margin_input_from_group(const struct hh_strat_group *g, hh_price_t spot,
                               hh_time_t as_of, double sigma, const struct hh_calendar *cal,
                               struct hh_margin_input *in);

/*
 * Evaluate the scenarios for the group and for every prefix of its
 * execution order.  Returns HH_OK; HH_EINVAL for a bad input (leg count,
 * qty, strike, sigma, side, option type, spot, order not a permutation);
 * HH_ERANGE/HH_EOVERFLOW when money does not fit.  Allocates nothing.
 */
int hh_margin_eval(const struct hh_margin_sim *s, const struct hh_margin_input *in,
                   struct hh_margin_result *out);

/*
 * The verdict: OK when peak <= buffer x available (the limit rounded
 * half-up to the paisa; a negative available counts as 0).  A result that
 * holds no evaluation (peak_step 0) is never OK.  Else false and *rej (when non-NULL) gets
 * MARGIN_WORST_CASE with a detail naming the peak step, its scenario and
 * loss, and the limit.  *limit (may be NULL) receives the limit.
 */
bool hh_margin_check(const struct hh_margin_sim *s, const struct hh_margin_result *r,
                     hh_money_t available, hh_ratio_t buffer, hh_money_t *limit,
                     struct hh_sig_reject *rej);

#endif
