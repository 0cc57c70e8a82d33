/*
 * fuzz_group.c — libFuzzer target for the group-signal parser and what runs
 * on a parsed group: validation, payoff, leg priority, the margin simulator.
 *
 * The input is one group signal (signal/group.h) against a small fixed
 * table of NIFTY options (2025-01-30 monthly, 23000-25000 step 100, and the
 * 2025-01-23 weekly at 24000).  Checked invariants: a rejection carries a
 * real reason code and NUL-terminated detail and id; an accepted group has
 * 1..8 resolved option legs with qty = lots x lot size; the execution order
 * is a permutation with scores never increasing; payoff breakevens ascend;
 * the margin evaluation succeeds with a non-negative requirement and a peak
 * at least the full group's.
 *
 * Seed corpus: tests/fuzz/corpus/group/.
 */
#include "options/strategy.h"
#include "risk/margin.h"
#include "signal/group.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add(struct hh_instruments *t, int strike, enum hh_opt_type opt, hh_date_t exp,
                bool weekly)
{
    struct hh_instrument in;

    memset(&in, 0, sizeof in);
    if (!hh_strat_symbol(in.symbol, sizeof in.symbol, "NIFTY", exp,
                         (hh_price_t)strike * HH_FX_SCALE, opt, !weekly))
        abort();
    strcpy(in.underlying, "NIFTY");
    in.exch = HH_EXCH_NSE;
    in.seg = HH_SEG_OPT;
    in.type = HH_INST_OPT;
    in.opt = opt;
    in.expiry = exp;
    in.strike = (hh_price_t)strike * HH_FX_SCALE;
    in.lot_size = 75;
    in.tick = 500;
    if (hh_inst_add(t, &in, NULL) != HH_OK)
        abort();
}

static void check_reject(const struct hh_sig_reject *r)
{
    if (r->reason <= HH_SIG_NONE || r->reason >= HH_SIG_REASON_COUNT ||
        !memchr(r->detail, '\0', sizeof r->detail) || !memchr(r->id, '\0', sizeof r->id))
        abort();
}

static void check_group(struct hh_group_signal *gs, const struct hh_instruments *t,
                        const struct hh_margin_sim *sim)
{
    struct hh_strat_group *g = &gs->group;
    struct hh_leg_prio prio[HH_STRAT_LEGS_MAX];
    int order[HH_STRAT_LEGS_MAX], seen[HH_STRAT_LEGS_MAX] = { 0 };
    struct hh_strat_rules rules = { false, hh_date_from_ymd(2025, 1, 20) };
    struct hh_sig_reject rej;
    struct hh_strat_payoff pay;
    struct hh_margin_input in;
    struct hh_margin_result res;
    hh_time_t as_of = hh_time_from_ist(hh_date_from_ymd(2025, 1, 20), HH_TOD(10, 0));

    if (g->nlegs < 1 || g->nlegs > HH_STRAT_LEGS_MAX)
        abort();
    for (int i = 0; i < g->nlegs; i++) {
        const struct hh_leg *l = &g->legs[i];
        const struct hh_instrument *ins = hh_inst_get(t, l->iid);

        if (!ins || ins->type != HH_INST_OPT || l->qty != l->lots * l->lot_size ||
            l->lots < 1 || l->strike != ins->strike)
            abort();
    }
    if (!hh_group_validate(gs, &rules, &rej))
        check_reject(&rej);
    hh_strat_priority(g, 24000 * HH_FX_SCALE, prio, order);
    for (int i = 0; i < g->nlegs; i++) {
        if (order[i] < 0 || order[i] >= g->nlegs || seen[order[i]]++)
            abort();
        if (i > 0 && prio[order[i]].score > prio[order[i - 1]].score)
            abort();
    }
    for (int i = 0; i < g->nlegs; i++)
        if (g->legs[i].premium < 0)
            g->legs[i].premium = 100 * HH_FX_SCALE;
    if (hh_strat_payoff(g, &pay) == HH_OK)
        for (int i = 1; i < pay.nbreakevens; i++)
            if (pay.breakevens[i] <= pay.breakevens[i - 1])
                abort();
    if (hh_margin_input_from_group(g, 24000 * HH_FX_SCALE, as_of, 0.15, NULL, &in) != HH_OK)
        abort();
    if (hh_margin_eval(sim, &in, &res) == HH_OK) {
        if (res.required < 0 || res.peak < res.required || res.exposure < 0)
            abort();
        hh_margin_check(sim, &res, 100000 * HH_FX_SCALE, 900000000, NULL, &rej);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct hh_instruments *t;
    static struct hh_calendar *cal;
    static struct hh_margin_sim sim;
    static struct hh_group_signal gs;
    struct hh_sig_reject rej;

    if (!t) {
        struct hh_margin_params p;
        hh_date_t m = hh_date_from_ymd(2025, 1, 30), w = hh_date_from_ymd(2025, 1, 23);

        t = hh_inst_new();
        cal = hh_cal_new();
        if (!t || !cal)
            abort();
        for (int k = 23000; k <= 25000; k += 100) {
            add(t, k, HH_OPT_CE, m, false);
            add(t, k, HH_OPT_PE, m, false);
        }
        add(t, 24000, HH_OPT_CE, w, true);
        add(t, 24000, HH_OPT_PE, w, true);
        hh_margin_params_default(&p);
        if (hh_margin_sim_init(&sim, &p, NULL))
            abort();
    }
    if (hh_group_parse((const char *)data, size, t, cal, &gs, &rej))
        check_group(&gs, t, &sim);
    else
        check_reject(&rej);
    return 0;
}
