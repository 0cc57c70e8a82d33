/*
 * bench_margin.c — worst-case margin simulator throughput.
 *
 * One evaluation = hh_margin_eval on a 4-leg NIFTY iron condor (long 23500
 * PE, short 23700 PE, short 24300 CE, long 24500 CE; 75 units each, 10 days
 * to expiry, IV 15 %): 27 scenarios (price -3/0/+3 %, IV +0/+30/+50 %,
 * spread x1/x1.5/x2) x 4 legs, the full group and every prefix of the
 * execution order (peak margin), money rounded to the paisa.  The spot
 * moves by a paisa each evaluation so no two are identical.  Single thread,
 * best of 3 rounds.  A second figure adds what the engine does per check
 * around it: hh_margin_input_from_group (time to expiry per leg, leg
 * priority) and the verdict.
 *
 * Prints "name: value unit" lines (target: >= 100k evaluations/s).  The
 * figures are statistics for a human: double is fine here.
 */
#include "options/strategy.h"
#include "risk/margin.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define ROUNDS 3
#define EVALS  200000

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The condor as a group (contract facts filled by hand: no table needed). */
static void condor(struct hh_strat_group *g)
{
    static const struct {
        const char *sym;
        enum hh_side side;
        enum hh_opt_type opt;
        int strike;
    } legs[4] = {
        { "NIFTY25JAN23500PE", HH_BUY, HH_OPT_PE, 23500 },
        { "NIFTY25JAN23700PE", HH_SELL, HH_OPT_PE, 23700 },
        { "NIFTY25JAN24300CE", HH_SELL, HH_OPT_CE, 24300 },
        { "NIFTY25JAN24500CE", HH_BUY, HH_OPT_CE, 24500 },
    };

    hh_strat_init(g, HH_STRAT_IRON_CONDOR);
    memcpy(g->underlying, "NIFTY", 6);
    for (int i = 0; i < 4; i++) {
        struct hh_leg *l = &g->legs[i];

        snprintf(l->symbol, sizeof l->symbol, "%s", legs[i].sym);
        memcpy(l->underlying, "NIFTY", 6);
        l->iid = (hh_iid_t)i;
        l->side = legs[i].side;
        l->lots = 1;
        l->lot_size = 75;
        l->qty = 75;
        l->opt = legs[i].opt;
        l->strike = (hh_price_t)legs[i].strike * HH_FX_SCALE;
        l->expiry = hh_date_from_ymd(2025, 1, 30);
        l->premium = -1;
    }
    g->nlegs = 4;
}

int main(void)
{
    struct hh_margin_params p;
    struct hh_margin_sim sim;
    struct hh_margin_input in;
    struct hh_margin_result r;
    struct hh_strat_group g;
    hh_time_t as_of = hh_time_from_ist(hh_date_from_ymd(2025, 1, 20), HH_TOD(10, 0));
    const hh_price_t spot0 = 24000 * HH_FX_SCALE;
    double best = 1e30, best_full = 1e30;
    hh_money_t sink = 0;
    long ok = 0;

    hh_margin_params_default(&p);
    if (hh_margin_sim_init(&sim, &p, NULL))
        return 1;
    condor(&g);
    if (hh_margin_input_from_group(&g, spot0, as_of, 0.15, NULL, &in))
        return 1;
    for (int round = 0; round < ROUNDS; round++) {
        double t0 = now_s(), dt;

        for (int i = 0; i < EVALS; i++) {
            in.spot = spot0 + (hh_price_t)(i & 1023) * HH_PAISA;
            if (hh_margin_eval(&sim, &in, &r))
                return 1;
            sink += r.peak;
        }
        dt = now_s() - t0;
        if (dt < best)
            best = dt;
    }
    for (int round = 0; round < ROUNDS; round++) {
        double t0 = now_s(), dt;

        for (int i = 0; i < EVALS; i++) {
            hh_price_t spot = spot0 + (hh_price_t)(i & 1023) * HH_PAISA;

            if (hh_margin_input_from_group(&g, spot, as_of, 0.15, NULL, &in) ||
                hh_margin_eval(&sim, &in, &r))
                return 1;
            ok += hh_margin_check(&sim, &r, 100000 * HH_FX_SCALE, 900000000, NULL, NULL);
        }
        dt = now_s() - t0;
        if (dt < best_full)
            best_full = dt;
    }
    printf("margin_group_legs: 4 legs (iron condor, peak along the execution order)\n");
    printf("margin_scenarios: %d scenarios\n", sim.nscen);
    printf("margin_evals_per_s: %.0f evals/s\n", EVALS / best);
    printf("margin_eval_latency: %.2f us\n", best / EVALS * 1e6);
    printf("margin_leg_scenarios_per_s: %.0f leg-scenarios/s\n", EVALS / best * 4 * sim.nscen);
    printf("margin_check_per_s: %.0f checks/s (input from group + priority + eval + verdict)\n",
           EVALS / best_full);
    /* keep the work observable */
    if (sink == 42 && ok == -1)
        printf("(unlikely)\n");
    return 0;
}
