/*
 * test_margin.c — the worst-case margin simulator: the seed's
 * margin_validation_sufficient / margin_validation_insufficient, the 27
 * scenarios against a naive reference, the spread model, exposure margin,
 * and the peak along the execution order.
 */
#include "testutil.h"

#include "core/calendar.h"
#include "core/instrument.h"
#include "options/black76.h"
#include "options/strategy.h"
#include "risk/margin.h"

#include <math.h>

static struct hh_instruments *inst;
static struct hh_calendar *cal;
static struct hh_margin_sim sim;

#define RS(x) ((hh_price_t)((x) * HH_FX_SCALE))

static int setup(void **state)
{
    struct hh_diag d = { "" };
    struct hh_margin_params p;

    (void)state;
    inst = hh_inst_new();
    cal = hh_cal_new();
    if (!inst || !cal)
        return -1;
    if (hh_cal_load_holidays(cal, "tests/data/holidays.csv", &d) ||
        hh_inst_load(inst, "tests/data/margin/instruments.csv", cal, &d)) {
        fprintf(stderr, "setup: %s\n", d.msg);
        return -1;
    }
    hh_margin_params_default(&p);
    return hh_margin_sim_init(&sim, &p, &d);
}

static int teardown(void **state)
{
    (void)state;
    hh_inst_free(inst);
    hh_cal_free(cal);
    return 0;
}

static hh_time_t ist(const char *s)
{
    hh_time_t t;

    assert_int_equal(hh_time_parse(s, strlen(s), &t, NULL), HH_OK);
    return t;
}

/* The iron condor 23500/23700/24300/24500 on the 2025-01-30 expiry. */
static void condor(struct hh_strat_group *g, int64_t lots)
{
    hh_price_t k[4] = { RS(23500), RS(23700), RS(24300), RS(24500) };

    assert_int_equal(hh_strat_build(g, HH_STRAT_IRON_CONDOR, inst, cal, "NIFTY",
                                    hh_date_from_ymd(2025, 1, 30), k, 4, lots, NULL), HH_OK);
}

static void input(const struct hh_strat_group *g, const char *as_of, double iv,
                  struct hh_margin_input *in)
{
    assert_int_equal(hh_margin_input_from_group(g, RS(24000), ist(as_of), iv, cal, in), HH_OK);
}

/* ---- the seed's tests ---------------------------------------------------------- */

static void test_margin_validation_sufficient(void **state)
{
    struct hh_strat_group g;
    struct hh_margin_input in;
    struct hh_margin_result r;
    struct hh_sig_reject rej;
    hh_money_t limit;

    (void)state;
    condor(&g, 1);
    input(&g, "2025-01-20T10:00:00+05:30", 0.15, &in);
    assert_int_equal(hh_margin_eval(&sim, &in, &r), HH_OK);
    assert_true(hh_margin_check(&sim, &r, RS(500000), HH_RATIO_SCALE * 9 / 10, &limit, &rej));
    assert_int_equal(limit, RS(450000));
    assert_true(r.peak > 0 && r.peak <= limit);
}

static void test_margin_validation_insufficient(void **state)
{
    struct hh_strat_group g;
    struct hh_margin_input in;
    struct hh_margin_result r;
    struct hh_sig_reject rej;
    hh_money_t limit;

    (void)state;
    condor(&g, 1);
    input(&g, "2025-01-20T10:00:00+05:30", 0.15, &in);
    assert_int_equal(hh_margin_eval(&sim, &in, &r), HH_OK);
    /* just enough: peak = 90 % of available passes, a paisa less blocks */
    {
        hh_money_t avail = (hh_money_t)((__int128)r.peak * 10 / 9) + HH_PAISA;

        assert_true(hh_margin_check(&sim, &r, avail, HH_RATIO_SCALE * 9 / 10, &limit, &rej));
    }
    assert_false(hh_margin_check(&sim, &r, RS(20000), HH_RATIO_SCALE * 9 / 10, &limit, &rej));
    assert_int_equal(limit, RS(18000));
    assert_int_equal(rej.reason, HH_SIG_MARGIN_WORST_CASE);
    assert_false(rej.id_known);
    assert_non_null(strstr(rej.detail, "exceeds 90% of available 20000.00"));
    assert_non_null(strstr(rej.detail, "worst scenario: price "));
    assert_non_null(strstr(rej.detail, "after leg 4 of 4"));
}

/* ---- the model ------------------------------------------------------------------ */

static void test_scenarios(void **state)
{
    char b[96];
    int ip, iv, is;

    (void)state;
    assert_int_equal(sim.nscen, 27);
    hh_margin_scenario_name(&sim, 0, b, sizeof b);
    assert_string_equal(b, "price -3%, iv 0%, spread x1");
    hh_margin_scenario_name(&sim, 26, b, sizeof b);
    assert_string_equal(b, "price +3%, iv +50%, spread x2");
    hh_margin_scenario_name(&sim, 13, b, sizeof b);
    assert_string_equal(b, "price 0%, iv +30%, spread x1.5");
    hh_margin_scenario(&sim, 14, &ip, &iv, &is);
    assert_int_equal(ip, 1);
    assert_int_equal(iv, 1);
    assert_int_equal(is, 2);
    {
        struct hh_margin_params p;
        struct hh_diag d = { "" };
        struct hh_margin_sim s2;

        hh_margin_params_default(&p);
        p.n_vol = 0;
        assert_int_equal(hh_margin_sim_init(&s2, &p, &d), HH_EINVAL);
        hh_margin_params_default(&p);
        p.price_shock[0] = -HH_RATIO_SCALE;
        assert_int_equal(hh_margin_sim_init(&s2, &p, &d), HH_EINVAL);
        hh_margin_params_default(&p);
        p.n_price = p.n_vol = p.n_spread = 5;
        assert_int_equal(hh_margin_sim_init(&s2, &p, &d), HH_OK);
        assert_int_equal(s2.nscen, 125);
    }
}

/* A naive reference: every scenario priced from scratch with hh_b76_price. */
static double ref_loss(const struct hh_margin_input *in, int n, const int *legs, int idx)
{
    int ip, iv, is;
    double spot = hh_b76_from_fx(in->spot), loss = 0;

    hh_margin_scenario(&sim, idx, &ip, &iv, &is);
    for (int k = 0; k < n; k++) {
        const struct hh_margin_leg *l = &in->legs[legs[k]];
        double K = hh_b76_from_fx(l->strike), q = (double)l->qty;
        double ps = 1 + (double)sim.p.price_shock[ip] / HH_RATIO_SCALE;
        double vs = 1 + (double)sim.p.vol_shift[iv] / HH_RATIO_SCALE;
        double m = (double)sim.p.spread_mult[is] / HH_RATIO_SCALE;
        double P0 = hh_b76_price(l->opt, spot, K, l->sigma, l->T, 0);
        double P1 = hh_b76_price(l->opt, spot * ps, K, l->sigma * vs, l->T, 0);
        double hs = l->bid > 0 && l->ask > 0 ? hh_b76_from_fx(l->ask - l->bid) / 2
                                             : fmax(0.05, 0.005 * P1);

        loss += -(l->side == HH_BUY ? 1 : -1) * q * (P1 - P0) + q * hs * m;
    }
    return loss;
}

static void test_against_reference(void **state)
{
    struct hh_strat_group g;
    struct hh_margin_input in;
    struct hh_margin_result r;
    int all[4] = { 0, 1, 2, 3 };
    hh_money_t worst = INT64_MIN;

    (void)state;
    condor(&g, 2);
    input(&g, "2025-01-20T10:00:00+05:30", 0.15, &in);
    assert_int_equal(hh_margin_eval(&sim, &in, &r), HH_OK);
    assert_int_equal(r.nscen, 27);
    for (int j = 0; j < 27; j++) {
        hh_money_t want;

        assert_int_equal(hh_b76_to_fx(ref_loss(&in, 4, all, j), &want), HH_OK);
        assert_int_equal(r.loss[j], want);
        if (want > worst)
            worst = want;
    }
    assert_int_equal(r.worst_loss, worst);
    assert_int_equal(r.loss[r.worst], worst);
    /* A short condor loses most on a price move with IV up and the
     * widest spread; the no-shock x1 scenario costs only the spread. */
    {
        char b[96];

        hh_margin_scenario_name(&sim, r.worst, b, sizeof b);
        assert_non_null(strstr(b, "iv +50%, spread x2"));
        assert_true(strstr(b, "price -3%") || strstr(b, "price +3%"));
    }
    {
        double cost = 0;

        for (int i = 0; i < 4; i++) {
            double P = hh_b76_price(in.legs[i].opt, 24000, hh_b76_from_fx(in.legs[i].strike),
                                    0.15, in.legs[i].T, 0);
            cost += (double)in.legs[i].qty * fmax(0.05, 0.005 * P);
        }
        {
            hh_money_t want;

            assert_int_equal(hh_b76_to_fx(cost, &want), HH_OK);
            assert_int_equal(r.loss[9], want);      /* price 0, iv 0, x1 */
        }
    }
    /* ELM: 2 % of 24000 x 150 units on each of the two shorts */
    assert_int_equal(r.exposure, RS(144000));
    assert_int_equal(r.required, r.worst_loss + r.exposure);
}

static void test_quotes_and_expiry_day(void **state)
{
    struct hh_strat_group g;
    struct hh_margin_input in;
    struct hh_margin_result r, r2;

    (void)state;
    condor(&g, 1);
    /* quotes: a ₹1 spread on every leg -> half-spread 0.50 x 75 x 4 legs */
    for (int i = 0; i < 4; i++) {
        g.legs[i].bid = RS(10);
        g.legs[i].ask = RS(11);
    }
    input(&g, "2025-01-20T10:00:00+05:30", 0.15, &in);
    assert_int_equal(hh_margin_eval(&sim, &in, &r), HH_OK);
    assert_int_equal(r.loss[9], RS(150));
    assert_int_equal(r.loss[10], RS(225));          /* x1.5 */
    assert_int_equal(r.loss[11], RS(300));          /* x2 */
    /* on expiry day the ELM doubles (2 % + 2 %) */
    input(&g, "2025-01-30T09:15:00+05:30", 0.15, &in);
    assert_true(in.legs[1].expiry_day);
    assert_int_equal(hh_margin_eval(&sim, &in, &r2), HH_OK);
    assert_int_equal(r.exposure, RS(72000));
    assert_int_equal(r2.exposure, RS(144000));
    /* after the close the legs are worth intrinsic value: no vol effect */
    input(&g, "2025-01-30T16:00:00+05:30", 0.15, &in);
    assert_true(in.legs[0].T < 0);
    assert_int_equal(hh_margin_eval(&sim, &in, &r2), HH_OK);
    assert_int_equal(r2.loss[0], r2.loss[3]);       /* iv 0 vs +30 % */
    /* the leg's own iv wins over the default */
    g.legs[2].iv = 0.4;
    input(&g, "2025-01-20T10:00:00+05:30", 0.15, &in);
    assert_true(in.legs[2].sigma == 0.4);
    assert_true(in.legs[0].sigma == 0.15);
}

/* The peak along the execution order: shorts first spike it. */
static void test_peak_along_order(void **state)
{
    struct hh_strat_group g;
    struct hh_margin_input in;
    struct hh_margin_result good, bad;
    struct hh_sig_reject rej;
    const hh_ratio_t buf = HH_RATIO_SCALE * 9 / 10;

    (void)state;
    condor(&g, 1);
    input(&g, "2025-01-20T10:00:00+05:30", 0.15, &in);
    /* priority order: longs first (equally far OTM from 24000: leg order),
     * then the shorts */
    assert_int_equal(in.order[0], 0);
    assert_int_equal(in.order[1], 3);
    assert_int_equal(in.order[2], 1);
    assert_int_equal(in.order[3], 2);
    assert_int_equal(hh_margin_eval(&sim, &in, &good), HH_OK);
    /* the order does not change the full group's figures */
    in.order[0] = 1;
    in.order[1] = 2;
    in.order[2] = 0;
    in.order[3] = 3;
    assert_int_equal(hh_margin_eval(&sim, &in, &bad), HH_OK);
    assert_int_equal(good.required, bad.required);
    assert_memory_equal(good.loss, bad.loss, sizeof good.loss[0] * 27);
    /* ... but the peak: the good order peaks at the end; two naked shorts
     * first make a strangle's worth of risk, and the peak comes after the
     * long put joins them (step 3): on the +3 % scenario that decides it the
     * put loses value too, while the short call is still naked */
    assert_int_equal(good.peak, good.required);
    assert_int_equal(good.peak_step, 4);
    assert_true(bad.peak > good.peak);
    assert_true(bad.step_required[1] > good.peak);
    assert_int_equal(bad.peak_step, 3);
    printf("condor: required %lld, peak in priority order %lld, shorts first %lld (paise)\n",
           (long long)(good.required / HH_PAISA), (long long)(good.peak / HH_PAISA),
           (long long)(bad.peak / HH_PAISA));
    for (int k = 1; k < 4; k++)
        assert_true(good.step_required[k - 1] <= good.peak);
    {
        /* enough margin for the condor, not for its shorts first */
        hh_money_t avail = (hh_money_t)((__int128)good.peak * 10 / 9) + RS(1);

        assert_true(hh_margin_check(&sim, &good, avail, buf, NULL, &rej));
        assert_false(hh_margin_check(&sim, &bad, avail, buf, NULL, &rej));
        assert_non_null(strstr(rej.detail, "after leg 3 of 4"));
    }
}

static void test_naked_and_monotone(void **state)
{
    struct hh_strat_group g;
    struct hh_margin_input in;
    struct hh_margin_result r, wide;
    struct hh_margin_params p;
    struct hh_margin_sim s2;
    hh_price_t k[1] = { RS(24000) };

    (void)state;
    assert_int_equal(hh_strat_build(&g, HH_STRAT_SHORT_STRADDLE, inst, cal, "NIFTY",
                                    hh_date_from_ymd(2025, 1, 30), k, 1, 1, NULL), HH_OK);
    input(&g, "2025-01-20T10:00:00+05:30", 0.15, &in);
    assert_int_equal(hh_margin_eval(&sim, &in, &r), HH_OK);
    /* a 3 % move on 24000 is 720 points: the straddle loses most of it */
    assert_true(r.worst_loss > RS(30000));
    /* wider shocks never reduce the worst loss */
    hh_margin_params_default(&p);
    p.price_shock[0] = -HH_RATIO_SCALE / 10;
    p.price_shock[2] = HH_RATIO_SCALE / 10;
    assert_int_equal(hh_margin_sim_init(&s2, &p, NULL), HH_OK);
    assert_int_equal(hh_margin_eval(&s2, &in, &wide), HH_OK);
    assert_true(wide.worst_loss > r.worst_loss);
}

static void test_bad_input(void **state)
{
    struct hh_strat_group g;
    struct hh_margin_input in;
    struct hh_margin_result r;

    (void)state;
    condor(&g, 1);
    input(&g, "2025-01-20T10:00:00+05:30", 0.15, &in);
    in.order[1] = in.order[0];
    assert_int_equal(hh_margin_eval(&sim, &in, &r), HH_EINVAL);
    input(&g, "2025-01-20T10:00:00+05:30", 0.15, &in);
    in.legs[0].sigma = 0;
    assert_int_equal(hh_margin_eval(&sim, &in, &r), HH_EINVAL);
    input(&g, "2025-01-20T10:00:00+05:30", 0.15, &in);
    in.spot = 0;
    assert_int_equal(hh_margin_eval(&sim, &in, &r), HH_EINVAL);
    assert_int_equal(hh_margin_input_from_group(&g, RS(24000), 0, 0, cal, &in), HH_EINVAL);
    hh_strat_init(&g, HH_STRAT_CUSTOM);
    assert_int_equal(hh_margin_input_from_group(&g, RS(24000), 0, 0.1, cal, &in), HH_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_margin_validation_sufficient),
        cmocka_unit_test(test_margin_validation_insufficient),
        cmocka_unit_test(test_scenarios),
        cmocka_unit_test(test_against_reference),
        cmocka_unit_test(test_quotes_and_expiry_day),
        cmocka_unit_test(test_peak_along_order),
        cmocka_unit_test(test_naked_and_monotone),
        cmocka_unit_test(test_bad_input),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);

    tu_cleanup();
    return rc;
}
