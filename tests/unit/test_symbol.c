/*
 * test_symbol.c — NSE-style trading-symbol parsing (hh_sym_*), and the
 * exercise-handler predicates ported from the seeds (parse_strike,
 * is_option, is_itm_call, is_itm_put).
 */
#include "testutil.h"

#include "core/instrument.h"

#define PX(r, p) ((hh_price_t)(r) * HH_RUPEE + (hh_price_t)(p) * (HH_RUPEE / 100))

static struct hh_sym parse_ok(const char *s)
{
    struct hh_sym o;
    int rc = hh_sym_parse(s, strlen(s), &o);

    if (rc != HH_OK)
        fail_msg("hh_sym_parse(\"%s\") = %d", s, rc);
    return o;
}

static void parse_bad(const char *s)
{
    struct hh_sym o;
    int rc = hh_sym_parse(s, strlen(s), &o);

    if (rc != HH_ESYNTAX)
        fail_msg("hh_sym_parse(\"%s\") = %d, want ESYNTAX (underlying '%s')", s, rc,
                 o.underlying);
}

static void check_opt(const char *s, const char *und, int y, int m, int d, bool weekly,
                      hh_price_t strike, enum hh_opt_type opt)
{
    struct hh_sym o = parse_ok(s);

    assert_string_equal(o.underlying, und);
    assert_int_equal(o.type, HH_INST_OPT);
    assert_int_equal(o.opt, opt);
    assert_int_equal(o.year, y);
    assert_int_equal(o.month, m);
    assert_int_equal(o.day, d);
    assert_int_equal(o.weekly, weekly);
    assert_int_equal(o.strike, strike);
}

static void check_fut(const char *s, const char *und, int y, int m, int d)
{
    struct hh_sym o = parse_ok(s);

    assert_string_equal(o.underlying, und);
    assert_int_equal(o.type, HH_INST_FUT);
    assert_int_equal(o.opt, HH_OPT_NONE);
    assert_int_equal(o.year, y);
    assert_int_equal(o.month, m);
    assert_int_equal(o.day, d);
    assert_false(o.weekly);
    assert_int_equal(o.strike, 0);
}

static void check_eq(const char *s)
{
    struct hh_sym o = parse_ok(s);

    assert_string_equal(o.underlying, s);
    assert_int_equal(o.type, HH_INST_EQ);
    assert_int_equal(o.opt, HH_OPT_NONE);
    assert_int_equal(o.strike, 0);
}

static void test_monthly_options(void **state)
{
    (void)state;
    check_opt("NIFTY25JAN24000CE", "NIFTY", 2025, 1, 0, false, PX(24000, 0), HH_OPT_CE);
    check_opt("NIFTY24DEC24000PE", "NIFTY", 2024, 12, 0, false, PX(24000, 0), HH_OPT_PE);
    check_opt("BANKNIFTY24APR47500CE", "BANKNIFTY", 2024, 4, 0, false, PX(47500, 0),
              HH_OPT_CE);
    check_opt("NIFTY25JUN24000CE", "NIFTY", 2025, 6, 0, false, PX(24000, 0), HH_OPT_CE);
    check_opt("NIFTY25NOV24000CE", "NIFTY", 2025, 11, 0, false, PX(24000, 0), HH_OPT_CE);
    check_opt("CRUDEOIL24APR7000CE", "CRUDEOIL", 2024, 4, 0, false, PX(7000, 0), HH_OPT_CE);
}

static void test_weekly_options(void **state)
{
    (void)state;
    check_opt("NIFTY2510924000CE", "NIFTY", 2025, 1, 9, true, PX(24000, 0), HH_OPT_CE);
    check_opt("NIFTY2412524000CE", "NIFTY", 2024, 1, 25, true, PX(24000, 0), HH_OPT_CE);
    check_opt("BANKNIFTY2440338500PE", "BANKNIFTY", 2024, 4, 3, true, PX(38500, 0),
              HH_OPT_PE);
    /* a holiday-moved weekly (Wednesday 2024-04-10) names its real date */
    check_opt("NIFTY2441022500CE", "NIFTY", 2024, 4, 10, true, PX(22500, 0), HH_OPT_CE);
    /* letter months O, N, D */
    check_opt("NIFTY24O1025000CE", "NIFTY", 2024, 10, 10, true, PX(25000, 0), HH_OPT_CE);
    check_opt("NIFTY25N0624000PE", "NIFTY", 2025, 11, 6, true, PX(24000, 0), HH_OPT_PE);
    check_opt("NIFTY24D1924000CE", "NIFTY", 2024, 12, 19, true, PX(24000, 0), HH_OPT_CE);
    check_opt("NIFTY2620325500PE", "NIFTY", 2026, 2, 3, true, PX(25500, 0), HH_OPT_PE);
    check_opt("SENSEX2411580000CE", "SENSEX", 2024, 1, 15, true, PX(80000, 0), HH_OPT_CE);
}

static void test_futures(void **state)
{
    (void)state;
    check_fut("NIFTY25JANFUT", "NIFTY", 2025, 1, 0);
    check_fut("HDFCBANK20MAYFUT", "HDFCBANK", 2020, 5, 0);
    check_fut("BANKNIFTY24APRFUT", "BANKNIFTY", 2024, 4, 0);
    /* OpenAlgo: DD MON YY FUT */
    check_fut("BANKNIFTY24APR24FUT", "BANKNIFTY", 2024, 4, 24);
    check_fut("NIFTY30JAN25FUT", "NIFTY", 2025, 1, 30);
    check_fut("M&M24APRFUT", "M&M", 2024, 4, 0);
}

static void test_openalgo_options_ambiguity(void **state)
{
    (void)state;
    /* Rule 1: the Zerodha monthly reading wins when valid: 2028-03, strike
     * 2420800 — not OpenAlgo's 2024-03-28, 20800. */
    check_opt("NIFTY28MAR2420800CE", "NIFTY", 2028, 3, 0, false, PX(2420800, 0), HH_OPT_CE);
    /* The OpenAlgo reading is used when the monthly one is invalid: here the
     * "strike" would start with 0. */
    check_opt("NIFTY28MAR0520800CE", "NIFTY", 2005, 3, 28, false, PX(20800, 0), HH_OPT_CE);
}

static void test_punctuated_and_digit_underlyings(void **state)
{
    (void)state;
    check_opt("M&M24APR1950CE", "M&M", 2024, 4, 0, false, PX(1950, 0), HH_OPT_CE);
    check_opt("BAJAJ-AUTO24APR8900PE", "BAJAJ-AUTO", 2024, 4, 0, false, PX(8900, 0),
              HH_OPT_PE);
    check_opt("M&MFIN24APR292.5CE", "M&MFIN", 2024, 4, 0, false, PX(292, 50), HH_OPT_CE);
    check_opt("L&TFH24APR162.5PE", "L&TFH", 2024, 4, 0, false, PX(162, 50), HH_OPT_PE);
    check_opt("NIFTYNXT5025JAN70000CE", "NIFTYNXT50", 2025, 1, 0, false, PX(70000, 0),
              HH_OPT_CE);
    check_fut("NIFTYNXT5025JANFUT", "NIFTYNXT50", 2025, 1, 0);
    /* Rule 2: digits move into the underlying until the weekly expiry is
     * valid (NIFTYNXT + 50251... is no date; NIFTYNXT5 + 02... is before 2016). */
    check_opt("NIFTYNXT502510924000CE", "NIFTYNXT50", 2025, 1, 9, true, PX(24000, 0),
              HH_OPT_CE);
    check_opt("NIFTYNXT5024N0770000PE", "NIFTYNXT50", 2024, 11, 7, true, PX(70000, 0),
              HH_OPT_PE);
    /* ... and the rule's price: a malformed NIFTY weekly (2025-01-32, or
     * Saturday 2025-01-11) becomes a valid-looking "NIFTY2" contract.  Such
     * an instrument is not in the master, so no signal can trade it. */
    check_opt("NIFTY2513224000CE", "NIFTY2", 2051, 3, 22, true, PX(4000, 0), HH_OPT_CE);
    check_opt("NIFTY2511124000CE", "NIFTY2", 2051, 1, 12, true, PX(4000, 0), HH_OPT_CE);
    /* fractional weekly strike (currency style) */
    check_opt("USDINR2441283.5CE", "USDINR", 2024, 4, 12, true, PX(83, 50), HH_OPT_CE);
}

static void test_equities(void **state)
{
    (void)state;
    check_eq("RELIANCE");   /* ends in CE but no digit before it */
    check_eq("INFY");
    check_eq("M&M");
    check_eq("BAJAJ-AUTO");
    check_eq("NIFTYBEES");
    check_eq("3MINDIA");
    check_eq("NIFTY 50");
    check_eq("HINDPE");
    check_eq("ABCFUT");
}

static void test_invalid(void **state)
{
    struct hh_sym o;

    (void)state;
    assert_int_equal(hh_sym_parse("", 0, &o), HH_ESYNTAX);
    parse_bad("nifty");                   /* lower case */
    parse_bad("NIFTY;DROP");
    parse_bad("NIFTY\tX");
    parse_bad(" NIFTY");
    parse_bad("25JAN24000CE");            /* no underlying */
    parse_bad("NIFTY25XYZ24000CE");       /* no month */
    parse_bad("NIFTY2502924000CE");       /* month 0 */
    parse_bad("NIFTY2523024000CE");       /* 2025-02-30 */
    parse_bad("NIFTY25X3224000CE");       /* X is no month code */
    parse_bad("NIFTY24O3224000CE");       /* 2024-10-32 */
    parse_bad("NIFTY25JAN0CE");           /* zero strike */
    parse_bad("NIFTY25JAN24000.CE");      /* dangling point */
    parse_bad("NIFTY25JAN24000.12345CE"); /* 5 places */
    parse_bad("NIFTY31FEB25FUT");         /* OpenAlgo 2025-02-31 */
    parse_bad("NIFTY00JAN25FUT");
    parse_bad("25JANFUT");
    parse_bad("NIFTY123CE");
    parse_bad("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZ");
    parse_bad("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF");   /* 32: too long a name */
    check_eq("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDE");     /* 31 fits */
    /* only the first n bytes count */
    assert_int_equal(hh_sym_parse("NIFTY25JAN24000CEXX", 17, &o), HH_OK);
    assert_int_equal(o.type, HH_INST_OPT);
}

/* ---- ported from the seeds' exercise-handler tests ---------------------- */

static void test_parse_strike(void **state)
{
    hh_price_t k = -1;

    (void)state;
    assert_int_equal(hh_sym_parse_strike("NIFTY24DEC24000CE", 17, &k), HH_OK);
    assert_int_equal(k, PX(24000, 0));
    assert_int_equal(hh_sym_parse_strike("BANKNIFTY24DEC51500PE", 21, &k), HH_OK);
    assert_int_equal(k, PX(51500, 0));
    assert_int_equal(hh_sym_parse_strike("M&MFIN24APR292.5CE", 18, &k), HH_OK);
    assert_int_equal(k, PX(292, 50));
    assert_int_equal(hh_sym_parse_strike("NIFTY2510924000CE", 17, &k), HH_OK);
    assert_int_equal(k, PX(24000, 0));
    assert_int_equal(hh_sym_parse_strike("NIFTY24DECFUT", 13, &k), HH_ESYNTAX);
    assert_int_equal(hh_sym_parse_strike("RELIANCE", 8, &k), HH_ESYNTAX);
}

static struct hh_instrument opt_from_symbol(const char *s)
{
    struct hh_instrument in;
    struct hh_sym o = parse_ok(s);

    memset(&in, 0, sizeof in);
    snprintf(in.symbol, sizeof in.symbol, "%s", s);
    snprintf(in.underlying, sizeof in.underlying, "%s", o.underlying);
    in.type = o.type;
    in.opt = o.opt;
    in.strike = o.strike;
    in.lot_size = 1;
    in.tick = 5 * HH_PAISA;
    return in;
}

static void test_is_option(void **state)
{
    struct hh_instrument ce = opt_from_symbol("NIFTY24DEC24000CE");
    struct hh_instrument pe = opt_from_symbol("NIFTY24DEC24000PE");
    struct hh_instrument fut = opt_from_symbol("NIFTY24DECFUT");
    struct hh_instrument eq = opt_from_symbol("RELIANCE");

    (void)state;
    assert_true(hh_inst_is_option(&ce));
    assert_true(hh_inst_is_option(&pe));
    assert_false(hh_inst_is_option(&fut));
    assert_false(hh_inst_is_option(&eq));
    assert_false(hh_inst_is_option(NULL));
}

static void test_is_itm_call(void **state)
{
    struct hh_instrument ce = opt_from_symbol("NIFTY24DEC24000CE");

    (void)state;
    assert_true(hh_inst_is_itm(&ce, PX(24100, 0)));
    assert_int_equal(hh_inst_intrinsic(&ce, PX(24100, 0)), PX(100, 0));
    assert_false(hh_inst_is_itm(&ce, PX(23900, 0)));
    assert_int_equal(hh_inst_intrinsic(&ce, PX(23900, 0)), 0);
    /* at the money is not in the money */
    assert_false(hh_inst_is_itm(&ce, PX(24000, 0)));
    assert_int_equal(hh_inst_intrinsic(&ce, PX(24000, 0)), 0);
    assert_true(hh_inst_is_itm(&ce, PX(24000, 5)));
    assert_int_equal(hh_inst_intrinsic(&ce, PX(24000, 5)), PX(0, 5));
}

static void test_is_itm_put(void **state)
{
    struct hh_instrument pe = opt_from_symbol("NIFTY24DEC24000PE");
    struct hh_instrument fut = opt_from_symbol("NIFTY24DECFUT");

    (void)state;
    assert_true(hh_inst_is_itm(&pe, PX(23900, 0)));
    assert_int_equal(hh_inst_intrinsic(&pe, PX(23900, 0)), PX(100, 0));
    assert_false(hh_inst_is_itm(&pe, PX(24100, 0)));
    assert_int_equal(hh_inst_intrinsic(&pe, PX(24100, 0)), 0);
    assert_false(hh_inst_is_itm(&pe, PX(24000, 0)));
    /* a future is never in the money */
    assert_false(hh_inst_is_itm(&fut, PX(30000, 0)));
    assert_int_equal(hh_inst_intrinsic(&fut, PX(30000, 0)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_monthly_options),
        cmocka_unit_test(test_weekly_options),
        cmocka_unit_test(test_futures),
        cmocka_unit_test(test_openalgo_options_ambiguity),
        cmocka_unit_test(test_punctuated_and_digit_underlyings),
        cmocka_unit_test(test_equities),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_parse_strike),
        cmocka_unit_test(test_is_option),
        cmocka_unit_test(test_is_itm_call),
        cmocka_unit_test(test_is_itm_put),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
