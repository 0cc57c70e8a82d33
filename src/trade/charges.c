/*
 * charges.c — the charge presets as data rows with effective dates.
 *
 * A row applies from `from` (inclusive) until a later row of the same
 * schedule and component replaces it.  Rates are ratios (1e-9 units);
 * `cap` (brokerage only) is a per-order maximum in money, 0 for none.
 */
#include "trade/charges.h"

#include <string.h>

enum chg_side { SIDE_BOTH, SIDE_BUY, SIDE_SELL };

struct rate_row {
    const char *schedule;
    enum hh_charge_comp comp;
    enum chg_side side;
    int y, m, d;              /* effective from (IST date) */
    hh_ratio_t rate;          /* of the traded value */
    hh_money_t flat;          /* brokerage: flat per order (0 = by rate) */
    hh_money_t cap;           /* brokerage: per-order cap (0 = none) */
};

#define RUPEES(x) ((hh_money_t)(x) * HH_RUPEE)

/* Rates from DOMAIN.md §3 (late 2026).  GST is computed, not listed. */
static const struct rate_row rows[] = {
    /* nse_fo_options: premium based */
    { "nse_fo_options", HH_CHG_BROKERAGE, SIDE_BOTH, 2000, 1, 1, 0, RUPEES(20), 0 },
    { "nse_fo_options", HH_CHG_STT, SIDE_SELL, 2000, 1, 1, 1000000, 0, 0 },       /* 0.1 % */
    { "nse_fo_options", HH_CHG_STT, SIDE_SELL, 2026, 4, 1, 1500000, 0, 0 },       /* 0.15 % */
    { "nse_fo_options", HH_CHG_EXCHANGE, SIDE_BOTH, 2000, 1, 1, 350300, 0, 0 },   /* 0.03503 % */
    { "nse_fo_options", HH_CHG_SEBI, SIDE_BOTH, 2000, 1, 1, 1000, 0, 0 },         /* 0.0001 % */
    { "nse_fo_options", HH_CHG_STAMP, SIDE_BUY, 2000, 1, 1, 30000, 0, 0 },        /* 0.003 % */
    /* nse_fo_futures */
    { "nse_fo_futures", HH_CHG_BROKERAGE, SIDE_BOTH, 2000, 1, 1, 300000, 0, RUPEES(20) },
    { "nse_fo_futures", HH_CHG_STT, SIDE_SELL, 2000, 1, 1, 200000, 0, 0 },        /* 0.02 % */
    { "nse_fo_futures", HH_CHG_STT, SIDE_SELL, 2026, 4, 1, 500000, 0, 0 },        /* 0.05 % */
    { "nse_fo_futures", HH_CHG_EXCHANGE, SIDE_BOTH, 2000, 1, 1, 17300, 0, 0 },    /* 0.00173 % */
    { "nse_fo_futures", HH_CHG_SEBI, SIDE_BOTH, 2000, 1, 1, 1000, 0, 0 },
    { "nse_fo_futures", HH_CHG_STAMP, SIDE_BUY, 2000, 1, 1, 20000, 0, 0 },        /* 0.002 % */
    /* nse_equity_intraday */
    { "nse_equity_intraday", HH_CHG_BROKERAGE, SIDE_BOTH, 2000, 1, 1, 300000, 0, RUPEES(20) },
    { "nse_equity_intraday", HH_CHG_STT, SIDE_SELL, 2000, 1, 1, 250000, 0, 0 },   /* 0.025 % */
    { "nse_equity_intraday", HH_CHG_EXCHANGE, SIDE_BOTH, 2000, 1, 1, 29700, 0, 0 }, /* 0.00297 % */
    { "nse_equity_intraday", HH_CHG_SEBI, SIDE_BOTH, 2000, 1, 1, 1000, 0, 0 },
    { "nse_equity_intraday", HH_CHG_STAMP, SIDE_BUY, 2000, 1, 1, 30000, 0, 0 },   /* 0.003 % */
    /* nse_equity_delivery */
    { "nse_equity_delivery", HH_CHG_STT, SIDE_BOTH, 2000, 1, 1, 1000000, 0, 0 },  /* 0.1 % */
    { "nse_equity_delivery", HH_CHG_EXCHANGE, SIDE_BOTH, 2000, 1, 1, 29700, 0, 0 },
    { "nse_equity_delivery", HH_CHG_SEBI, SIDE_BOTH, 2000, 1, 1, 1000, 0, 0 },
    { "nse_equity_delivery", HH_CHG_STAMP, SIDE_BUY, 2000, 1, 1, 150000, 0, 0 },  /* 0.015 % */
    /* mcx_futures (non-agri) */
    { "mcx_futures", HH_CHG_BROKERAGE, SIDE_BOTH, 2000, 1, 1, 300000, 0, RUPEES(20) },
    { "mcx_futures", HH_CHG_STT, SIDE_SELL, 2000, 1, 1, 100000, 0, 0 },           /* CTT 0.01 % */
    { "mcx_futures", HH_CHG_EXCHANGE, SIDE_BOTH, 2000, 1, 1, 21000, 0, 0 },       /* 0.0021 % */
    { "mcx_futures", HH_CHG_SEBI, SIDE_BOTH, 2000, 1, 1, 1000, 0, 0 },
    { "mcx_futures", HH_CHG_STAMP, SIDE_BUY, 2000, 1, 1, 20000, 0, 0 },           /* 0.002 % */
};

#define NROWS (sizeof rows / sizeof rows[0])
#define GST_RATE ((hh_ratio_t)180000000)   /* 18 % */

/* Exercise STT on intrinsic value. */
static const struct { int y, m, d; hh_ratio_t rate; } exercise_stt[] = {
    { 2000, 1, 1, 1250000 },   /* 0.125 % */
    { 2026, 4, 1, 1500000 },   /* 0.15 % */
};

struct hh_charges {
    const char *name;
};

static const struct hh_charges schedules[] = {
    { "zero" }, { "nse_fo_options" }, { "nse_fo_futures" },
    { "nse_equity_intraday" }, { "nse_equity_delivery" }, { "mcx_futures" },
};

static const char *const schedule_names[] = {
    "zero", "nse_fo_options", "nse_fo_futures", "nse_equity_intraday",
    "nse_equity_delivery", "mcx_futures", NULL,
};

const struct hh_charges *hh_charges_find(const char *name)
{
    for (size_t i = 0; i < sizeof schedules / sizeof schedules[0]; i++)
        if (!strcmp(schedules[i].name, name))
            return &schedules[i];
    return NULL;
}

bool hh_charges_is_zero(const struct hh_charges *s)
{
    return !s || !strcmp(s->name, "zero");
}

const char *const *hh_charges_names(void)
{
    return schedule_names;
}

const char *hh_charge_comp_name(enum hh_charge_comp c)
{
    static const char *const names[] = { "brokerage", "stt", "exchange", "sebi",
                                         "stamp", "gst" };

    return (unsigned)c < HH_CHG_COUNT ? names[c] : "?";
}

/* The row of (schedule, component, side) in force on `date`, or NULL. */
static const struct rate_row *in_force(const char *sched, enum hh_charge_comp comp,
                                       enum hh_side side, hh_date_t date)
{
    const struct rate_row *best = NULL;
    hh_date_t best_from = 0;

    for (size_t i = 0; i < NROWS; i++) {
        const struct rate_row *r = &rows[i];
        hh_date_t from;

        if (r->comp != comp || strcmp(r->schedule, sched))
            continue;
        if ((r->side == SIDE_BUY && side != HH_BUY) || (r->side == SIDE_SELL && side != HH_SELL))
            continue;
        from = hh_date_from_ymd(r->y, r->m, r->d);
        if (from <= date && (!best || from > best_from)) {
            best = r;
            best_from = from;
        }
    }
    return best;
}

static hh_money_t of_value(hh_money_t value, hh_ratio_t rate)
{
    hh_money_t out = 0;

    /* Cannot overflow for any representable value at rates below 1. */
    if (hh_fx_mul_ratio(value, rate, HH_PAISA, &out))
        return 0;
    return out;
}

void hh_charges_fill(const struct hh_charges *s, hh_date_t date, enum hh_side side,
                     hh_money_t value, hh_money_t brokerage_paid,
                     struct hh_charge_breakdown *out)
{
    const struct rate_row *r;

    memset(out, 0, sizeof *out);
    if (hh_charges_is_zero(s))
        return;
    r = in_force(s->name, HH_CHG_BROKERAGE, side, date);
    if (r) {
        hh_money_t b = r->flat ? r->flat : of_value(value, r->rate);

        if (r->cap && b > r->cap)
            b = r->cap;
        if (r->flat || r->cap) {
            hh_money_t cap = r->flat ? r->flat : r->cap;

            b = b > cap - brokerage_paid ? cap - brokerage_paid : b;
            if (b < 0)
                b = 0;
        }
        out->c[HH_CHG_BROKERAGE] = b;
    }
    for (int c = HH_CHG_STT; c <= HH_CHG_STAMP; c++) {
        r = in_force(s->name, (enum hh_charge_comp)c, side, date);
        if (r)
            out->c[c] = of_value(value, r->rate);
    }
    out->c[HH_CHG_GST] = of_value(out->c[HH_CHG_BROKERAGE] + out->c[HH_CHG_EXCHANGE] +
                                      out->c[HH_CHG_SEBI], GST_RATE);
    for (int c = 0; c < HH_CHG_COUNT; c++)
        out->total += out->c[c];
}

hh_money_t hh_charges_exercise_stt(hh_date_t date, hh_money_t intrinsic_value)
{
    hh_ratio_t rate = 0;

    for (size_t i = 0; i < sizeof exercise_stt / sizeof exercise_stt[0]; i++)
        if (hh_date_from_ymd(exercise_stt[i].y, exercise_stt[i].m, exercise_stt[i].d) <= date)
            rate = exercise_stt[i].rate;
    return of_value(intrinsic_value, rate);
}
