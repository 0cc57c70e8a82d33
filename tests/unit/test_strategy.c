/*
 * test_strategy.c — option groups: legs (the seed's add_legs), NSE symbols,
 * builders with the market's definitions, payoff at expiry (max profit,
 * max loss, breakevens), validation, hedge balance (the seed's
 * validate_balanced_hedge / validate_mismatched_hedge) and leg priority.
 *
 * Contracts come from tests/data/margin/instruments.csv (NIFTY lot 75:
 * weekly 2025-01-23, monthly 2025-01-30 and 2025-02-27; NIFTY 2026-01-27
 * lot 65; BANKNIFTY 2025-01-30 lot 35).
 */
#include "testutil.h"

#include "core/calendar.h"
#include "core/instrument.h"
#include "options/strategy.h"
#include "signal/group.h"

static struct hh_instruments *inst;
static struct hh_calendar *cal;

#define RS(x) ((hh_price_t)((x) * HH_FX_SCALE))       /* whole rupees (tests only) */

static int setup(void **state)
{
    struct hh_diag d = { "" };

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
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hh_inst_free(inst);
    hh_cal_free(cal);
    return 0;
}

static hh_date_t D(int y, int m, int d)
{
    return hh_date_from_ymd(y, m, d);
}

static void add(struct hh_strat_group *g, const char *sym, enum hh_side side, int64_t lots,
                double premium)
{
    struct hh_diag d = { "" };
    int rc = hh_strat_add_leg(g, inst, sym, side, lots, &d);

    if (rc) {
        print_error("add %s: %s\n", sym, d.msg);
        fail();
    }
    g->legs[g->nlegs - 1].premium = premium < 0 ? -1 : (hh_price_t)(premium * HH_FX_SCALE + 0.5);
}

/* ---- legs ------------------------------------------------------------------- */

/* The seed's test_add_legs: legs are added with their contract facts. */
static void test_add_legs(void **state)
{
    struct hh_strat_group g;
    struct hh_diag d = { "" };

    (void)state;
    hh_strat_init(&g, HH_STRAT_CUSTOM);
    assert_int_equal(g.nlegs, 0);
    assert_int_equal(hh_strat_add_leg(&g, inst, "NIFTY25JAN23500PE", HH_BUY, 1, &d), HH_OK);
    assert_int_equal(hh_strat_add_leg(&g, inst, "NIFTY25JAN23700PE", HH_SELL, 1, &d), HH_OK);
    assert_int_equal(hh_strat_add_leg(&g, inst, "NFO:NIFTY25JAN24300CE", HH_SELL, 2, &d),
                     HH_OK);
    assert_int_equal(g.nlegs, 3);
    assert_string_equal(g.underlying, "NIFTY");
    assert_string_equal(g.legs[2].symbol, "NIFTY25JAN24300CE");
    assert_int_equal(g.legs[2].opt, HH_OPT_CE);
    assert_int_equal(g.legs[2].side, HH_SELL);
    assert_int_equal(g.legs[2].strike, RS(24300));
    assert_int_equal(g.legs[2].expiry, D(2025, 1, 30));
    assert_int_equal(g.legs[2].lot_size, 75);
    assert_int_equal(g.legs[2].qty, 150);
    assert_int_equal(g.legs[0].premium, -1);

    assert_int_equal(hh_strat_add_leg(&g, inst, "NIFTY25JAN99999CE", HH_BUY, 1, &d),
                     HH_ENOTFOUND);
    assert_non_null(strstr(d.msg, "NIFTY25JAN99999CE"));
    assert_int_equal(hh_strat_add_leg(&g, inst, "NIFTY25JANFUT", HH_BUY, 1, &d), HH_EINVAL);
    assert_int_equal(hh_strat_add_leg(&g, inst, "NIFTY25JAN23500PE", HH_BUY, 0, &d), HH_EINVAL);
    assert_int_equal(hh_strat_add_leg(&g, inst, "NIFTY25JAN23500PE", (enum hh_side)0, 1, &d),
                     HH_EINVAL);
    assert_int_equal(g.nlegs, 3);
    for (int i = 3; i < HH_STRAT_LEGS_MAX; i++)
        assert_int_equal(hh_strat_add_leg(&g, inst, "NIFTY25JAN24500CE", HH_BUY, 1, &d), HH_OK);
    assert_int_equal(hh_strat_add_leg(&g, inst, "NIFTY25JAN24500CE", HH_BUY, 1, &d), HH_EFULL);
    assert_int_equal(g.nlegs, HH_STRAT_LEGS_MAX);
}

static void test_symbols(void **state)
{
    char b[HH_SYMBOL_MAX];

    (void)state;
    assert_int_equal(hh_strat_symbol(b, sizeof b, "NIFTY", D(2025, 1, 30), RS(24000), HH_OPT_CE,
                                     true), 17);
    assert_string_equal(b, "NIFTY25JAN24000CE");
    hh_strat_symbol(b, sizeof b, "NIFTY", D(2025, 1, 9), RS(23500), HH_OPT_PE, false);
    assert_string_equal(b, "NIFTY2510923500PE");
    hh_strat_symbol(b, sizeof b, "NIFTY", D(2024, 12, 5), RS(24000), HH_OPT_CE, false);
    assert_string_equal(b, "NIFTY24D0524000CE");
    hh_strat_symbol(b, sizeof b, "NIFTY", D(2024, 10, 17), RS(24000), HH_OPT_CE, false);
    assert_string_equal(b, "NIFTY24O1724000CE");
    hh_strat_symbol(b, sizeof b, "M&M", D(2025, 1, 30), 2925000, HH_OPT_PE, true);
    assert_string_equal(b, "M&M25JAN292.5PE");
    assert_int_equal(hh_strat_symbol(b, 8, "NIFTY", D(2025, 1, 30), RS(24000), HH_OPT_CE, true),
                     0);
    assert_int_equal(hh_strat_symbol(b, sizeof b, "NIFTY", D(2025, 1, 30), 0, HH_OPT_CE, true),
                     0);
}

static void test_resolve(void **state)
{
    hh_iid_t id;
    struct hh_diag d = { "" };
    struct hh_instrument odd = { 0 };

    (void)state;
    /* monthly expiry -> monthly symbol */
    assert_int_equal(hh_strat_resolve(inst, cal, "NIFTY", D(2025, 1, 30), RS(23500), HH_OPT_PE,
                                      &id, &d), HH_OK);
    assert_string_equal(hh_inst_get(inst, id)->symbol, "NIFTY25JAN23500PE");
    /* weekly expiry -> weekly symbol */
    assert_int_equal(hh_strat_resolve(inst, cal, "NIFTY", D(2025, 1, 23), RS(23500), HH_OPT_CE,
                                      &id, &d), HH_OK);
    assert_string_equal(hh_inst_get(inst, id)->symbol, "NIFTY2512323500CE");
    /* 2026: the last Tuesday is the monthly */
    assert_int_equal(hh_strat_resolve(inst, cal, "NIFTY", D(2026, 1, 27), RS(25500), HH_OPT_CE,
                                      &id, &d), HH_OK);
    assert_string_equal(hh_inst_get(inst, id)->symbol, "NIFTY26JAN25500CE");
    assert_int_equal(hh_inst_get(inst, id)->lot_size, 65);
    /* absent strike */
    assert_int_equal(hh_strat_resolve(inst, cal, "NIFTY", D(2025, 1, 30), RS(23550), HH_OPT_PE,
                                      &id, &d), HH_ENOTFOUND);
    assert_non_null(strstr(d.msg, "NIFTY25JAN23550PE"));
    /* a contract listed under another symbol style is found by its facts */
    memcpy(odd.symbol, "NIFTY06MAR2524000CE", 20);
    memcpy(odd.underlying, "NIFTY", 6);
    odd.exch = HH_EXCH_NSE;
    odd.seg = HH_SEG_OPT;
    odd.type = HH_INST_OPT;
    odd.opt = HH_OPT_CE;
    odd.expiry = D(2025, 3, 6);
    odd.strike = RS(24000);
    odd.lot_size = 75;
    odd.tick = 500;
    assert_int_equal(hh_inst_add(inst, &odd, &id), HH_OK);
    {
        hh_iid_t got;

        assert_int_equal(hh_strat_resolve(inst, cal, "NIFTY", D(2025, 3, 6), RS(24000),
                                          HH_OPT_CE, &got, &d), HH_OK);
        assert_int_equal(got, id);
    }
}

/* ---- builders ----------------------------------------------------------------- */

struct want_leg {
    enum hh_side side;
    enum hh_opt_type opt;
    int strike;
};

static void check_build(enum hh_strat_kind kind, const int *k, int nk,
                        const struct want_leg *w, int nw)
{
    struct hh_strat_group g;
    struct hh_diag d = { "" };
    hh_price_t s[4];

    for (int i = 0; i < nk; i++)
        s[i] = RS(k[i]);
    if (hh_strat_build(&g, kind, inst, cal, "NIFTY", D(2025, 1, 30), s, nk, 2, &d)) {
        print_error("%s: %s\n", hh_strat_kind_name(kind), d.msg);
        fail();
    }
    assert_int_equal(g.kind, kind);
    assert_int_equal(g.nlegs, nw);
    for (int i = 0; i < nw; i++) {
        assert_int_equal(g.legs[i].side, w[i].side);
        assert_int_equal(g.legs[i].opt, w[i].opt);
        assert_int_equal(g.legs[i].strike, RS(w[i].strike));
        assert_int_equal(g.legs[i].lots, 2);
        assert_int_equal(g.legs[i].qty, 150);
    }
}

static void test_builders(void **state)
{
    (void)state;
    {   /* bull put: a credit spread — sell the higher put, buy the lower */
        const int k[] = { 23500, 23700 };
        const struct want_leg w[] = { { HH_BUY, HH_OPT_PE, 23500 }, { HH_SELL, HH_OPT_PE, 23700 } };
        check_build(HH_STRAT_BULL_PUT, k, 2, w, 2);
    }
    {   /* bear call: credit — sell the lower call, buy the higher */
        const int k[] = { 24300, 24500 };
        const struct want_leg w[] = { { HH_SELL, HH_OPT_CE, 24300 }, { HH_BUY, HH_OPT_CE, 24500 } };
        check_build(HH_STRAT_BEAR_CALL, k, 2, w, 2);
    }
    {   /* bull call: debit (the seed calls it a credit spread: wrong) */
        const int k[] = { 24000, 24200 };
        const struct want_leg w[] = { { HH_BUY, HH_OPT_CE, 24000 }, { HH_SELL, HH_OPT_CE, 24200 } };
        check_build(HH_STRAT_BULL_CALL, k, 2, w, 2);
    }
    {   /* bear put: debit — buy the higher put, sell the lower */
        const int k[] = { 23800, 24000 };
        const struct want_leg w[] = { { HH_SELL, HH_OPT_PE, 23800 }, { HH_BUY, HH_OPT_PE, 24000 } };
        check_build(HH_STRAT_BEAR_PUT, k, 2, w, 2);
    }
    {
        const int k[] = { 23500, 23700, 24300, 24500 };
        const struct want_leg w[] = { { HH_BUY, HH_OPT_PE, 23500 }, { HH_SELL, HH_OPT_PE, 23700 },
                                      { HH_SELL, HH_OPT_CE, 24300 }, { HH_BUY, HH_OPT_CE, 24500 } };
        check_build(HH_STRAT_IRON_CONDOR, k, 4, w, 4);
    }
    {
        const int k[] = { 24000 };
        const struct want_leg w[] = { { HH_SELL, HH_OPT_CE, 24000 }, { HH_SELL, HH_OPT_PE, 24000 } };
        check_build(HH_STRAT_SHORT_STRADDLE, k, 1, w, 2);
    }
    {
        const int k[] = { 23700, 24300 };
        const struct want_leg w[] = { { HH_SELL, HH_OPT_PE, 23700 }, { HH_SELL, HH_OPT_CE, 24300 } };
        check_build(HH_STRAT_SHORT_STRANGLE, k, 2, w, 2);
    }
}

static void test_builder_errors(void **state)
{
    struct hh_strat_group g;
    struct hh_diag d = { "" };
    hh_price_t s[4] = { RS(23700), RS(23500), RS(24300), RS(24500) };
    enum hh_strat_kind k;

    (void)state;
    hh_strat_init(&g, HH_STRAT_CUSTOM);
    assert_int_equal(hh_strat_build(&g, HH_STRAT_BULL_PUT, inst, cal, "NIFTY", D(2025, 1, 30),
                                    s, 2, 1, &d), HH_EINVAL);
    assert_non_null(strstr(d.msg, "ascending"));
    assert_int_equal(hh_strat_build(&g, HH_STRAT_IRON_CONDOR, inst, cal, "NIFTY",
                                    D(2025, 1, 30), s + 1, 3, 1, &d), HH_EINVAL);
    assert_int_equal(hh_strat_build(&g, HH_STRAT_BULL_PUT, inst, cal, "NIFTY", D(2025, 1, 30),
                                    s + 1, 2, 0, &d), HH_EINVAL);
    assert_int_equal(hh_strat_build(&g, HH_STRAT_CUSTOM, inst, cal, "NIFTY", D(2025, 1, 30),
                                    s, 0, 1, &d), HH_EINVAL);
    /* 24350 is not listed: the leg does not resolve; g untouched */
    s[0] = RS(24350);
    s[1] = RS(24500);
    assert_int_equal(hh_strat_build(&g, HH_STRAT_BEAR_CALL, inst, cal, "NIFTY", D(2025, 1, 30),
                                    s, 2, 1, &d), HH_ENOTFOUND);
    assert_non_null(strstr(d.msg, "NIFTY25JAN24350CE"));
    assert_int_equal(g.nlegs, 0);
    assert_true(hh_strat_kind_parse("iron_condor", 11, &k));
    assert_int_equal(k, HH_STRAT_IRON_CONDOR);
    assert_false(hh_strat_kind_parse("custom", 6, &k));
    assert_false(hh_strat_kind_parse("iron", 4, &k));
    assert_true(hh_strat_kind_naked(HH_STRAT_SHORT_STRANGLE));
    assert_false(hh_strat_kind_naked(HH_STRAT_IRON_CONDOR));
}

/* ---- payoff --------------------------------------------------------------------- */

static void check_payoff(const struct hh_strat_group *g, double net, double maxp, bool pu,
                         double maxl, bool lu, const double *be, int nbe)
{
    struct hh_strat_payoff p;

    assert_int_equal(hh_strat_payoff(g, &p), HH_OK);
    assert_int_equal(p.net_premium, (hh_money_t)(net * HH_FX_SCALE));
    assert_int_equal(p.profit_unbounded, pu);
    assert_int_equal(p.loss_unbounded, lu);
    if (!pu)
        assert_int_equal(p.max_profit, (hh_money_t)(maxp * HH_FX_SCALE));
    if (!lu)
        assert_int_equal(p.max_loss, (hh_money_t)(maxl * HH_FX_SCALE));
    assert_int_equal(p.nbreakevens, nbe);
    for (int i = 0; i < nbe; i++)
        assert_int_equal(p.breakevens[i], (hh_price_t)(be[i] * HH_FX_SCALE + 0.5));
}

static void test_payoff_spreads(void **state)
{
    struct hh_strat_group g;

    (void)state;
    /* bull put 23500/23700: credit 90 - 40 = 50 x 75 = 3750; loss (200 - 50) x 75 */
    hh_strat_init(&g, HH_STRAT_BULL_PUT);
    add(&g, "NIFTY25JAN23500PE", HH_BUY, 1, 40);
    add(&g, "NIFTY25JAN23700PE", HH_SELL, 1, 90);
    {
        const double be[] = { 23650 };
        check_payoff(&g, 3750, 3750, false, 11250, false, be, 1);
    }
    /* bear call 24300/24500: credit 80 - 35 = 45 */
    hh_strat_init(&g, HH_STRAT_BEAR_CALL);
    add(&g, "NIFTY25JAN24300CE", HH_SELL, 1, 80);
    add(&g, "NIFTY25JAN24500CE", HH_BUY, 1, 35);
    {
        const double be[] = { 24345 };
        check_payoff(&g, 3375, 3375, false, 11625, false, be, 1);
    }
    /* bull call 23500/23700: a debit of 150 - 60 = 90 */
    hh_strat_init(&g, HH_STRAT_BULL_CALL);
    add(&g, "NIFTY25JAN23500CE", HH_BUY, 1, 150);
    add(&g, "NIFTY25JAN23700CE", HH_SELL, 1, 60);
    {
        const double be[] = { 23590 };
        check_payoff(&g, -6750, 8250, false, 6750, false, be, 1);
    }
    /* bear put 23500/23700: a debit of 150 - 60 = 90 */
    hh_strat_init(&g, HH_STRAT_BEAR_PUT);
    add(&g, "NIFTY25JAN23500PE", HH_SELL, 1, 60);
    add(&g, "NIFTY25JAN23700PE", HH_BUY, 1, 150);
    {
        const double be[] = { 23610 };
        check_payoff(&g, -6750, 8250, false, 6750, false, be, 1);
    }
}

static void test_payoff_condor_straddle(void **state)
{
    struct hh_strat_group g;
    hh_money_t v;

    (void)state;
    /* iron condor: credit 90 + 80 - 40 - 35 = 95 */
    hh_strat_init(&g, HH_STRAT_IRON_CONDOR);
    add(&g, "NIFTY25JAN23500PE", HH_BUY, 1, 40);
    add(&g, "NIFTY25JAN23700PE", HH_SELL, 1, 90);
    add(&g, "NIFTY25JAN24300CE", HH_SELL, 1, 80);
    add(&g, "NIFTY25JAN24500CE", HH_BUY, 1, 35);
    {
        const double be[] = { 23605, 24395 };
        check_payoff(&g, 7125, 7125, false, 7875, false, be, 2);
    }
    assert_int_equal(hh_strat_pnl_at(&g, RS(24000), &v), HH_OK);
    assert_int_equal(v, RS(7125));
    assert_int_equal(hh_strat_pnl_at(&g, RS(22000), &v), HH_OK);
    assert_int_equal(v, -RS(7875));
    assert_int_equal(hh_strat_pnl_at(&g, RS(24400), &v), HH_OK);
    assert_int_equal(v, -RS(375));

    /* short straddle 24000: credit 380, loss unbounded above */
    hh_strat_init(&g, HH_STRAT_SHORT_STRADDLE);
    add(&g, "NIFTY25JAN24000CE", HH_SELL, 1, 200);
    add(&g, "NIFTY25JAN24000PE", HH_SELL, 1, 180);
    {
        const double be[] = { 23620, 24380 };
        check_payoff(&g, 28500, 28500, false, 0, true, be, 2);
    }
    /* short strangle 23700/24300: credit 170 */
    hh_strat_init(&g, HH_STRAT_SHORT_STRANGLE);
    add(&g, "NIFTY25JAN23700PE", HH_SELL, 1, 90);
    add(&g, "NIFTY25JAN24300CE", HH_SELL, 1, 80);
    {
        const double be[] = { 23530, 24470 };
        check_payoff(&g, 12750, 12750, false, 0, true, be, 2);
    }
    /* a long call: profit unbounded, loss the premium */
    hh_strat_init(&g, HH_STRAT_CUSTOM);
    add(&g, "NIFTY25JAN24000CE", HH_BUY, 1, 200);
    {
        const double be[] = { 24200 };
        check_payoff(&g, -15000, 0, true, 15000, false, be, 1);
    }
}

/* Breakevens off the strike grid are rounded half-up to the paisa. */
static void test_payoff_rounding(void **state)
{
    struct hh_strat_group g;

    (void)state;
    /* 1x2 call ratio: buy 1 lot 24000 @ 100, sell 2 lots 24200 @ 45.505.
     * Above 24200 the slope is -75 per rupee: f(24200) = 75 x 100 +
     * 150 x 45.505 = 14325.75 -> breakeven 24200 + 191.01. */
    hh_strat_init(&g, HH_STRAT_CUSTOM);
    add(&g, "NIFTY25JAN24000CE", HH_BUY, 1, 100);
    add(&g, "NIFTY25JAN24200CE", HH_SELL, 2, 45.505);
    {
        struct hh_strat_payoff p;

        assert_int_equal(hh_strat_payoff(&g, &p), HH_OK);
        assert_true(p.loss_unbounded);
        /* net debit 7500 - 6825.75 = 674.25: lower breakeven 24000 + 8.99 */
        assert_int_equal(p.net_premium, -6742500);
        assert_int_equal(p.nbreakevens, 2);
        assert_int_equal(p.breakevens[0], 240089900);
        assert_int_equal(p.breakevens[1], 243910100);
        assert_int_equal(p.max_profit, 143257500);
    }
    /* 1 lot 24000 CE @ 100 bought, 3 lots of 24100 CE @ 33.3334 sold: a net
     * credit of 1.5 paise, and above 24100
     * f(S) = 7500.015 - 150 (S - 24100): the root 24150.0001 rounds to
     * 24150.00. */
    hh_strat_init(&g, HH_STRAT_CUSTOM);
    add(&g, "NIFTY25JAN24000CE", HH_BUY, 1, 100);
    add(&g, "NIFTY25JAN24100CE", HH_SELL, 3, 33.3334);
    {
        struct hh_strat_payoff p;

        assert_int_equal(hh_strat_payoff(&g, &p), HH_OK);
        assert_int_equal(p.net_premium, 150);
        assert_int_equal(p.nbreakevens, 1);
        assert_int_equal(p.breakevens[0], 241500000);
    }
}

static void test_payoff_errors(void **state)
{
    struct hh_strat_group g;
    struct hh_strat_payoff p;
    hh_money_t v;

    (void)state;
    hh_strat_init(&g, HH_STRAT_CUSTOM);
    assert_int_equal(hh_strat_payoff(&g, &p), HH_EINVAL);
    add(&g, "NIFTY25JAN24000CE", HH_SELL, 1, -1);      /* premium unknown */
    assert_int_equal(hh_strat_payoff(&g, &p), HH_EINVAL);
    assert_int_equal(hh_strat_pnl_at(&g, RS(1), &v), HH_EINVAL);
    hh_strat_init(&g, HH_STRAT_CUSTOM);
    add(&g, "NIFTY25JAN24000CE", HH_SELL, 1, 100);
    add(&g, "NIFTY25FEB24000CE", HH_BUY, 1, 200);     /* calendar: no single expiry */
    assert_int_equal(hh_strat_payoff(&g, &p), HH_EINVAL);
}

/* ---- validation ------------------------------------------------------------------ */

static void expect_reject(const struct hh_strat_group *g, const struct hh_strat_rules *r,
                          enum hh_sig_reason reason, const char *needle)
{
    struct hh_sig_reject rej;

    if (hh_strat_validate(g, r, &rej)) {
        print_error("accepted, wanted %s\n", hh_sig_reason_name(reason));
        fail();
    }
    if (rej.reason != reason || !strstr(rej.detail, needle)) {
        print_error("got %s '%s', wanted %s '%s'\n", hh_sig_reason_name(rej.reason),
                    rej.detail, hh_sig_reason_name(reason), needle);
        fail();
    }
}

static void test_validate(void **state)
{
    struct hh_strat_rules strict = { false, D(2025, 1, 20) }, lax = { true, HH_DATE_NONE };
    struct hh_strat_group g;
    struct hh_sig_reject rej;
    hh_price_t ic[4] = { RS(23500), RS(23700), RS(24300), RS(24500) }, st[1] = { RS(24000) };

    (void)state;
    assert_int_equal(hh_strat_build(&g, HH_STRAT_IRON_CONDOR, inst, cal, "NIFTY",
                                    D(2025, 1, 30), ic, 4, 1, NULL), HH_OK);
    assert_true(hh_strat_validate(&g, &strict, &rej));
    assert_int_equal(hh_strat_naked_qty(&g), 0);

    /* expired: the expiry day still trades, the day after does not */
    strict.today = D(2025, 1, 30);
    assert_true(hh_strat_validate(&g, &strict, &rej));
    strict.today = D(2025, 1, 31);
    expect_reject(&g, &strict, HH_SIG_INSTRUMENT_EXPIRED, "expired on 2025-01-30");
    strict.today = D(2025, 1, 20);

    /* straddle: naked by design, flagged unless naked is allowed */
    assert_int_equal(hh_strat_build(&g, HH_STRAT_SHORT_STRADDLE, inst, cal, "NIFTY",
                                    D(2025, 1, 30), st, 1, 1, NULL), HH_OK);
    expect_reject(&g, &strict, HH_SIG_UNHEDGED_GROUP, "naked by design");
    assert_int_equal(hh_strat_naked_qty(&g), 150);
    assert_true(hh_strat_validate(&g, &lax, &rej));
    assert_true(hh_strat_validate(&g, NULL, &rej) == false);

    /* a short call is not covered by a long put */
    hh_strat_init(&g, HH_STRAT_CUSTOM);
    add(&g, "NIFTY25JAN24300CE", HH_SELL, 1, -1);
    add(&g, "NIFTY25JAN23500PE", HH_BUY, 1, -1);
    expect_reject(&g, &strict, HH_SIG_UNHEDGED_GROUP, "75 of 75 units");

    /* one long lot for two short lots */
    hh_strat_init(&g, HH_STRAT_CUSTOM);
    add(&g, "NIFTY25JAN24300CE", HH_SELL, 2, -1);
    add(&g, "NIFTY25JAN24500CE", HH_BUY, 1, -1);
    expect_reject(&g, &strict, HH_SIG_UNHEDGED_GROUP, "75 of 150 units");
    /* more long than short is fine (1:2 is a whole multiple) */
    hh_strat_init(&g, HH_STRAT_CUSTOM);
    add(&g, "NIFTY25JAN24300CE", HH_SELL, 1, -1);
    add(&g, "NIFTY25JAN24500CE", HH_BUY, 2, -1);
    assert_true(hh_strat_validate(&g, &strict, &rej));

    /* a calendar: a long of another expiry does not cover */
    hh_strat_init(&g, HH_STRAT_CUSTOM);
    add(&g, "NIFTY25JAN24000CE", HH_SELL, 1, -1);
    add(&g, "NIFTY25FEB24000CE", HH_BUY, 1, -1);
    expect_reject(&g, &strict, HH_SIG_UNHEDGED_GROUP, "same expiry");

    /* mixed underlyings */
    hh_strat_init(&g, HH_STRAT_CUSTOM);
    add(&g, "NIFTY25JAN24300CE", HH_SELL, 1, -1);
    add(&g, "BANKNIFTY25JAN51000CE", HH_BUY, 1, -1);
    expect_reject(&g, &strict, HH_SIG_UNHEDGED_GROUP, "different underlyings");

    /* lots 2 and 3: not a whole multiple of the base */
    hh_strat_init(&g, HH_STRAT_CUSTOM);
    add(&g, "NIFTY25JAN24300CE", HH_SELL, 2, -1);
    add(&g, "NIFTY25JAN24500CE", HH_BUY, 3, -1);
    expect_reject(&g, &strict, HH_SIG_BAD_TYPE, "not a multiple");

    /* empty; an unresolved leg */
    hh_strat_init(&g, HH_STRAT_CUSTOM);
    expect_reject(&g, &strict, HH_SIG_BAD_TYPE, "0 legs");
    add(&g, "NIFTY25JAN24300CE", HH_SELL, 1, -1);
    g.legs[0].iid = HH_IID_NONE;
    expect_reject(&g, &strict, HH_SIG_UNKNOWN_SYMBOL, "NIFTY25JAN24300CE");
}

/* ---- hedge balance (the seed's position validator) -------------------------------- */

static void test_validate_balanced_hedge(void **state)
{
    struct hh_strat_group g;
    struct hh_strat_balance b;
    hh_price_t ic[4] = { RS(23500), RS(23700), RS(24300), RS(24500) };
    hh_qty_t filled[4] = { 150, 150, 150, 150 };

    (void)state;
    assert_int_equal(hh_strat_build(&g, HH_STRAT_IRON_CONDOR, inst, cal, "NIFTY",
                                    D(2025, 1, 30), ic, 4, 2, NULL), HH_OK);
    assert_int_equal(hh_strat_balance(&g, NULL, HH_STRAT_VARIANCE_DEFAULT, &b), HH_OK);
    assert_int_equal(b.nbuckets, 2);
    assert_false(b.flagged);
    assert_int_equal(b.unhedged, 0);
    assert_int_equal(b.max_variance, 0);
    assert_int_equal(hh_strat_balance(&g, filled, HH_STRAT_VARIANCE_DEFAULT, &b), HH_OK);
    assert_false(b.flagged);
    assert_int_equal(b.b[0].opt, HH_OPT_PE);
    assert_int_equal(b.b[0].long_qty, 150);
    assert_int_equal(b.b[0].short_qty, 150);
    /* exactly 10 % off is not "above 10 %" */
    filled[1] = 150;
    filled[0] = 135;
    assert_int_equal(hh_strat_balance(&g, filled, HH_STRAT_VARIANCE_DEFAULT, &b), HH_OK);
    assert_int_equal(b.b[0].variance, HH_RATIO_SCALE / 10);
    assert_false(b.flagged);
    assert_int_equal(b.unhedged, 15);
}

static void test_validate_mismatched_hedge(void **state)
{
    struct hh_strat_group g;
    struct hh_strat_balance b;
    hh_price_t ic[4] = { RS(23500), RS(23700), RS(24300), RS(24500) };
    hh_qty_t filled[4] = { 150, 150, 150, 120 };   /* call wing 20 % short */

    (void)state;
    assert_int_equal(hh_strat_build(&g, HH_STRAT_IRON_CONDOR, inst, cal, "NIFTY",
                                    D(2025, 1, 30), ic, 4, 2, NULL), HH_OK);
    assert_int_equal(hh_strat_balance(&g, filled, HH_STRAT_VARIANCE_DEFAULT, &b), HH_OK);
    assert_true(b.flagged);
    assert_false(b.b[0].flagged);
    assert_true(b.b[1].flagged);
    assert_int_equal(b.b[1].variance, HH_RATIO_SCALE / 5);
    assert_int_equal(b.max_variance, HH_RATIO_SCALE / 5);
    assert_int_equal(b.unhedged, 30);
    /* over-hedged by 20 % is flagged too, but nothing is unhedged */
    filled[3] = 180;
    assert_int_equal(hh_strat_balance(&g, filled, HH_STRAT_VARIANCE_DEFAULT, &b), HH_OK);
    assert_true(b.flagged);
    assert_int_equal(b.unhedged, 0);
    /* 1/3 rounds half-up on the ratio grid */
    filled[2] = 90;
    filled[3] = 60;
    assert_int_equal(hh_strat_balance(&g, filled, HH_STRAT_VARIANCE_DEFAULT, &b), HH_OK);
    assert_int_equal(b.b[1].variance, 333333333);
    filled[3] = -1;
    assert_int_equal(hh_strat_balance(&g, filled, HH_STRAT_VARIANCE_DEFAULT, &b), HH_EINVAL);
}

/* ---- leg priority --------------------------------------------------------------------- */

static void test_priority_condor(void **state)
{
    struct hh_strat_group g;
    struct hh_leg_prio p[4];
    int order[4];
    hh_price_t ic[4] = { RS(23500), RS(23700), RS(24300), RS(24500) };

    (void)state;
    assert_int_equal(hh_strat_build(&g, HH_STRAT_IRON_CONDOR, inst, cal, "NIFTY",
                                    D(2025, 1, 30), ic, 4, 1, NULL), HH_OK);
    hh_strat_priority(&g, RS(23950), p, order);
    assert_int_equal(p[0].score, 100);
    assert_int_equal(p[0].role, HH_LEG_LONG);
    assert_int_equal(p[0].covered, 75);
    assert_int_equal(p[1].score, -50);
    assert_int_equal(p[1].role, HH_LEG_COVERED);
    assert_int_equal(p[2].score, -50);
    assert_int_equal(p[3].score, 100);
    /* longs first, farther OTM first: the 24500 call (550 away) before the
     * 23500 put (450); then the 24300 call (350) before the 23700 put (250) */
    assert_int_equal(order[0], 3);
    assert_int_equal(order[1], 0);
    assert_int_equal(order[2], 2);
    assert_int_equal(order[3], 1);
    /* no spot: the mean strike (24000) is the reference; ties in leg order */
    hh_strat_priority(&g, 0, NULL, order);
    assert_int_equal(order[0], 0);
    assert_int_equal(order[1], 3);
    assert_int_equal(order[2], 1);
    assert_int_equal(order[3], 2);
    assert_string_equal(hh_leg_role_name(HH_LEG_COVERED), "COVERED");
}

static void test_priority_roles(void **state)
{
    struct hh_strat_group g;
    struct hh_leg_prio p[4];
    int order[4];
    hh_price_t st[1] = { RS(24000) };

    (void)state;
    /* straddle: both naked */
    assert_int_equal(hh_strat_build(&g, HH_STRAT_SHORT_STRADDLE, inst, cal, "NIFTY",
                                    D(2025, 1, 30), st, 1, 1, NULL), HH_OK);
    hh_strat_priority(&g, RS(24000), p, order);
    assert_int_equal(p[0].score, -100);
    assert_int_equal(p[1].score, -100);
    assert_int_equal(p[0].role, HH_LEG_NAKED);

    /* debit spread: the long is still the protection of the short */
    hh_strat_init(&g, HH_STRAT_CUSTOM);
    add(&g, "NIFTY25JAN24200CE", HH_SELL, 1, -1);
    add(&g, "NIFTY25JAN24000CE", HH_BUY, 1, -1);
    hh_strat_priority(&g, RS(24000), p, order);
    assert_int_equal(p[0].role, HH_LEG_COVERED);
    assert_int_equal(p[1].role, HH_LEG_LONG);
    assert_int_equal(order[0], 1);
    assert_int_equal(order[1], 0);

    /* calendar: the far long offsets the near short only partly */
    hh_strat_init(&g, HH_STRAT_CUSTOM);
    add(&g, "NIFTY25JAN24000CE", HH_SELL, 1, -1);
    add(&g, "NIFTY25FEB24000CE", HH_BUY, 1, -1);
    hh_strat_priority(&g, RS(24000), p, order);
    assert_int_equal(p[0].role, HH_LEG_NAKED);
    assert_int_equal(p[1].role, HH_LEG_HEDGE);
    assert_int_equal(p[1].score, 50);
    assert_int_equal(order[0], 1);

    /* partial cover: 2 short lots, 1 long lot -> the short is naked; two
     * longs for one short: the nearer strike covers, the other is a plain
     * long (still +100) */
    hh_strat_init(&g, HH_STRAT_CUSTOM);
    add(&g, "NIFTY25JAN24300CE", HH_SELL, 2, -1);
    add(&g, "NIFTY25JAN24500CE", HH_BUY, 1, -1);
    hh_strat_priority(&g, RS(24000), p, NULL);
    assert_int_equal(p[0].role, HH_LEG_NAKED);
    assert_int_equal(p[0].covered, 75);
    hh_strat_init(&g, HH_STRAT_CUSTOM);
    add(&g, "NIFTY25JAN24300CE", HH_SELL, 1, -1);
    add(&g, "NIFTY25JAN25000CE", HH_BUY, 1, -1);
    add(&g, "NIFTY25JAN24400CE", HH_BUY, 1, -1);
    hh_strat_priority(&g, RS(24000), p, order);
    assert_int_equal(p[0].role, HH_LEG_COVERED);
    assert_int_equal(p[1].covered, 0);
    assert_int_equal(p[1].role, HH_LEG_LONG);
    assert_int_equal(p[2].covered, 75);
    assert_int_equal(order[0], 1);     /* 25000 is farther OTM */
    assert_int_equal(order[1], 2);
    assert_int_equal(order[2], 0);
}

/* ---- group signals (signal/group.h) ------------------------------------------------- */

static bool parse(const char *json, struct hh_group_signal *gs, struct hh_sig_reject *rej)
{
    return hh_group_parse(json, strlen(json), inst, cal, gs, rej);
}

static void expect_group_reject(const char *json, enum hh_sig_reason reason, const char *needle)
{
    struct hh_group_signal gs;
    struct hh_sig_reject rej;

    if (parse(json, &gs, &rej)) {
        print_error("accepted: %s\n", json);
        fail();
    }
    if (rej.reason != reason || !strstr(rej.detail, needle)) {
        print_error("%s\n  got %s '%s', wanted %s '%s'\n", json, hh_sig_reason_name(rej.reason),
                    rej.detail, hh_sig_reason_name(reason), needle);
        fail();
    }
}

static void test_group_explicit(void **state)
{
    struct hh_group_signal gs;
    struct hh_sig_reject rej;
    const char *js =
        "{\"id\":\"ic-1\",\"ts\":\"2025-01-20T10:00:00+05:30\",\"type\":\"GROUP\","
        "\"strategy\":\"iron_condor\",\"legs\":["
        "{\"symbol\":\"NIFTY25JAN23500PE\",\"side\":\"BUY\",\"lots\":1,\"price\":40.05},"
        "{\"symbol\":\"NIFTY25JAN23700PE\",\"side\":\"SELL\",\"lots\":1,\"price\":\"90.10\"},"
        "{\"symbol\":\"NIFTY25JAN24300CE\",\"side\":\"SELL\",\"lots\":1,\"bid\":79.5,\"ask\":80.5},"
        "{\"symbol\":\"NIFTY25JAN24500CE\",\"side\":\"BUY\",\"iv\":0.16}],"
        "\"stop_loss\":\"3000.00\",\"target\":1500.5}\n";

    (void)state;
    assert_true(parse(js, &gs, &rej));
    assert_true(gs.has_id);
    assert_string_equal(gs.id, "ic-1");
    assert_true(gs.has_ts);
    assert_false(gs.built);
    assert_string_equal(gs.strategy, "iron_condor");
    assert_int_equal(gs.group.nlegs, 4);
    assert_int_equal(gs.group.legs[0].premium, 400500);
    assert_int_equal(gs.group.legs[1].premium, 901000);
    assert_int_equal(gs.group.legs[2].premium, -1);
    assert_int_equal(gs.group.legs[2].bid, 795000);
    assert_int_equal(gs.group.legs[2].ask, 805000);
    assert_int_equal(gs.group.legs[3].lots, 1);
    assert_true(gs.group.legs[3].iv == 0.16);
    assert_true(gs.has_stop_loss);
    assert_int_equal(gs.stop_loss, RS(3000));
    assert_int_equal(gs.target, 15005000);
    {
        struct hh_strat_rules r = { false, D(2025, 1, 20) };

        assert_true(hh_group_validate(&gs, &r, &rej));
    }
}

static void test_group_builder(void **state)
{
    struct hh_group_signal gs;
    struct hh_sig_reject rej;
    struct hh_strat_rules r = { false, HH_DATE_NONE };

    (void)state;
    assert_true(parse("{\"type\":\"GROUP\",\"build\":\"bull_put\",\"underlying\":\"NIFTY\","
                      "\"expiry\":\"2025-01-30\",\"strikes\":[23500,\"23700.00\"],\"lots\":3}",
                      &gs, &rej));
    assert_true(gs.built);
    assert_false(gs.has_id);
    assert_int_equal(gs.build, HH_STRAT_BULL_PUT);
    assert_int_equal(gs.group.nlegs, 2);
    assert_int_equal(gs.group.legs[1].side, HH_SELL);
    assert_int_equal(gs.group.legs[1].qty, 225);
    assert_true(hh_group_validate(&gs, &r, &rej));
    assert_true(parse("{\"type\":\"GROUP\",\"id\":\"ss\",\"build\":\"short_straddle\","
                      "\"underlying\":\"NIFTY\",\"expiry\":\"2025-01-23\",\"strikes\":[24000]}",
                      &gs, &rej));
    assert_string_equal(gs.group.legs[0].symbol, "NIFTY2512324000CE");
    assert_false(hh_group_validate(&gs, &r, &rej));
    assert_int_equal(rej.reason, HH_SIG_UNHEDGED_GROUP);
    assert_true(rej.id_known);
    assert_string_equal(rej.id, "ss");
}

static void test_group_rejects(void **state)
{
    (void)state;
    expect_group_reject("{\"type\":\"GROUP\",", HH_SIG_PARSE_ERROR, "invalid JSON");
    expect_group_reject("[1]", HH_SIG_PARSE_ERROR, "object");
    expect_group_reject("{\"type\":\"GROUP\"} x", HH_SIG_PARSE_ERROR, "");   /* json-c or us */
    expect_group_reject("{\"legs\":[]}", HH_SIG_MISSING_FIELD, "'type'");
    expect_group_reject("{\"type\":\"GROUP\"}", HH_SIG_MISSING_FIELD, "'legs' or 'build'");
    expect_group_reject("{\"type\":\"GROUP\",\"build\":\"bull_put\",\"underlying\":\"NIFTY\","
                        "\"strikes\":[1,2]}", HH_SIG_MISSING_FIELD, "'expiry'");
    expect_group_reject("{\"type\":\"GROUP\",\"legs\":[{\"symbol\":\"X\"}]}",
                        HH_SIG_MISSING_FIELD, "leg 1: field 'side'");
    /* MISSING_FIELD anywhere comes before BAD_TYPE anywhere */
    expect_group_reject("{\"type\":\"SIGNAL\",\"legs\":[{\"side\":\"BUY\"}]}",
                        HH_SIG_MISSING_FIELD, "symbol");
    expect_group_reject("{\"type\":\"SIGNAL\",\"legs\":[]}", HH_SIG_BAD_TYPE, "GROUP");
    expect_group_reject("{\"type\":\"GROUP\",\"legs\":[]}", HH_SIG_BAD_TYPE, "1-8 legs");
    expect_group_reject("{\"type\":\"GROUP\",\"id\":\"a b\",\"legs\":[]}", HH_SIG_BAD_TYPE,
                        "'id'");
    expect_group_reject("{\"type\":\"GROUP\",\"ts\":\"2025-01-20T10:00:00\",\"legs\":[]}",
                        HH_SIG_BAD_TYPE, "'ts'");
    expect_group_reject("{\"type\":\"GROUP\",\"legs\":[{\"symbol\":\"NIFTY25JAN23500PE\","
                        "\"side\":\"buy\"}]}", HH_SIG_BAD_TYPE, "'side'");
    expect_group_reject("{\"type\":\"GROUP\",\"legs\":[{\"symbol\":\"NIFTY25JAN23500PE\","
                        "\"side\":\"BUY\",\"lots\":0}]}", HH_SIG_BAD_TYPE, "at least 1");
    expect_group_reject("{\"type\":\"GROUP\",\"legs\":[{\"symbol\":\"NIFTY25JAN23500PE\","
                        "\"side\":\"BUY\",\"lots\":1.5}]}", HH_SIG_BAD_TYPE, "integer");
    expect_group_reject("{\"type\":\"GROUP\",\"legs\":[{\"symbol\":\"NIFTY25JAN23500PE\","
                        "\"side\":\"BUY\",\"price\":true}]}", HH_SIG_BAD_TYPE, "price");
    expect_group_reject("{\"type\":\"GROUP\",\"legs\":[{\"symbol\":\"NIFTY25JAN23500PE\","
                        "\"side\":\"BUY\",\"price\":\"1.00001\"}]}", HH_SIG_BAD_TYPE,
                        "decimal places");
    expect_group_reject("{\"type\":\"GROUP\",\"legs\":[{\"symbol\":\"NIFTY25JAN23500PE\","
                        "\"side\":\"BUY\",\"iv\":15}]}", HH_SIG_BAD_TYPE, "fraction");
    expect_group_reject("{\"type\":\"GROUP\",\"build\":\"iron_condor\",\"underlying\":\"NIFTY\","
                        "\"expiry\":\"2025-01-30\",\"strikes\":[1,2,3]}", HH_SIG_BAD_TYPE,
                        "list of 4 strikes");
    expect_group_reject("{\"type\":\"GROUP\",\"build\":\"condor\",\"underlying\":\"NIFTY\","
                        "\"expiry\":\"2025-01-30\",\"strikes\":[1,2]}", HH_SIG_BAD_TYPE,
                        "'build'");
    expect_group_reject("{\"type\":\"GROUP\",\"build\":\"bull_put\",\"underlying\":\"NIFTY\","
                        "\"expiry\":\"30/01/2025\",\"strikes\":[1,2]}", HH_SIG_BAD_TYPE,
                        "'expiry'");
    expect_group_reject("{\"type\":\"GROUP\",\"build\":\"bull_put\",\"legs\":[],"
                        "\"underlying\":\"NIFTY\",\"expiry\":\"2025-01-30\",\"strikes\":[1,2]}",
                        HH_SIG_BAD_TYPE, "exclusive");
    expect_group_reject("{\"type\":\"GROUP\",\"legs\":[{\"symbol\":\"NIFTY25JAN23500PE\","
                        "\"side\":\"BUY\",\"price\":\"NaN\"}]}", HH_SIG_NOT_FINITE, "price");
    expect_group_reject("{\"type\":\"GROUP\",\"legs\":[{\"symbol\":\"NIFTY25JAN23500PE\","
                        "\"side\":\"BUY\",\"price\":\"-inf\"}]}", HH_SIG_NOT_FINITE, "price");
    expect_group_reject("{\"type\":\"GROUP\",\"build\":\"bull_put\",\"underlying\":\"NIFTY\","
                        "\"expiry\":\"2025-01-30\",\"strikes\":[0,23700]}",
                        HH_SIG_NON_POSITIVE_PRICE, "strikes[0]");
    expect_group_reject("{\"type\":\"GROUP\",\"stop_loss\":\"-5\",\"legs\":[{\"symbol\":"
                        "\"NIFTY25JAN23500PE\",\"side\":\"BUY\"}]}", HH_SIG_NON_POSITIVE_PRICE,
                        "stop_loss");
    expect_group_reject("{\"type\":\"GROUP\",\"build\":\"bull_put\",\"underlying\":\"NIFTY\","
                        "\"expiry\":\"2025-01-30\",\"strikes\":[23700,23500]}", HH_SIG_BAD_TYPE,
                        "ascending");
    expect_group_reject("{\"type\":\"GROUP\",\"legs\":[{\"symbol\":\"NIFTY25JAN23550PE\","
                        "\"side\":\"BUY\"}]}", HH_SIG_UNKNOWN_SYMBOL, "NIFTY25JAN23550PE");
    expect_group_reject("{\"type\":\"GROUP\",\"build\":\"bull_put\",\"underlying\":\"NIFTY\","
                        "\"expiry\":\"2025-01-30\",\"strikes\":[23550,23700]}",
                        HH_SIG_UNKNOWN_SYMBOL, "NIFTY25JAN23550PE");
    expect_group_reject("{\"type\":\"GROUP\",\"legs\":[{\"symbol\":\"NIFTY25JANFUT\","
                        "\"side\":\"BUY\"}]}", HH_SIG_BAD_TYPE, "not an option");
    {
        struct hh_group_signal gs;
        struct hh_sig_reject rej;

        assert_false(parse("{\"id\":\"g-9\",\"type\":\"GROUP\"}", &gs, &rej));
        assert_true(rej.id_known);
        assert_string_equal(rej.id, "g-9");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_legs),
        cmocka_unit_test(test_symbols),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_builders),
        cmocka_unit_test(test_builder_errors),
        cmocka_unit_test(test_payoff_spreads),
        cmocka_unit_test(test_payoff_condor_straddle),
        cmocka_unit_test(test_payoff_rounding),
        cmocka_unit_test(test_payoff_errors),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_validate_balanced_hedge),
        cmocka_unit_test(test_validate_mismatched_hedge),
        cmocka_unit_test(test_priority_condor),
        cmocka_unit_test(test_priority_roles),
        cmocka_unit_test(test_group_explicit),
        cmocka_unit_test(test_group_builder),
        cmocka_unit_test(test_group_rejects),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);

    tu_cleanup();
    return rc;
}
