/*
 * charges.h — brokerage, taxes and fees per fill (DOMAIN.md §3).
 *
 * A schedule (`execution.fees`) is a table of rates with the date each took
 * effect; a fill pays the rates in force on its IST trade date (the
 * 2026-04-01 STT change applies by date).  Every component of every fill is
 * rounded half-up to the paisa.  Brokerage is per executed order: a fill
 * pays at most the order's cap minus what earlier fills of the same order
 * paid.  GST is 18 % of the fill's rounded brokerage + exchange charge +
 * SEBI fee.  (Contract notes round STT to the rupee per note; we keep paise
 * so results are exactly reproducible.)
 */
#ifndef HH_CHARGES_H
#define HH_CHARGES_H

#include "core/fixed.h"
#include "core/time.h"
#include "core/model.h"

#include <stdbool.h>

enum hh_charge_comp {
    HH_CHG_BROKERAGE,
    HH_CHG_STT,        /* STT, or CTT on commodities */
    HH_CHG_EXCHANGE,
    HH_CHG_SEBI,
    HH_CHG_STAMP,
    HH_CHG_GST,
    HH_CHG_COUNT
};

struct hh_charge_breakdown {
    hh_money_t c[HH_CHG_COUNT];
    hh_money_t total;
};

struct hh_charges;   /* a resolved schedule */

/* The schedule named `name` ("zero", "nse_fo_options", "nse_fo_futures",
 * "nse_equity_intraday", "nse_equity_delivery", "mcx_futures"), or NULL. */
const struct hh_charges *hh_charges_find(const char *name);

/* The "zero" schedule (or none): nothing is ever charged. */
bool hh_charges_is_zero(const struct hh_charges *s);

/* Names of all schedules, NULL-terminated (for messages). */
const char *const *hh_charges_names(void);

const char *hh_charge_comp_name(enum hh_charge_comp c);

/*
 * Charges of one fill: `value` = price x qty (for options the premium),
 * `side` of the fill, trade date, and `brokerage_paid` already charged to
 * the same order (for the per-order cap).  Fills *out.
 */
void hh_charges_fill(const struct hh_charges *s, hh_date_t date, enum hh_side side,
                     hh_money_t value, hh_money_t brokerage_paid,
                     struct hh_charge_breakdown *out);

/* STT on options exercised at expiry: a rate of intrinsic value by date. */
hh_money_t hh_charges_exercise_stt(hh_date_t date, hh_money_t intrinsic_value);

#endif
