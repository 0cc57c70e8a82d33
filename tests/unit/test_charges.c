/*
 * test_charges.c — the charge presets: DOMAIN.md §3's worked example
 * reproduced component by component, the per-order brokerage cap, the
 * 2026-04-01 STT change applied by trade date, the zero schedule.
 */
#include "testutil.h"

#include "trade/charges.h"

/* An amount given in paise (2695 = Rs 26.95). */
static hh_money_t rs(int64_t paise)
{
    return paise * HH_PAISA;
}

static void test_worked_example(void **state)
{
    const struct hh_charges *s = hh_charges_find("nse_fo_options");
    struct hh_charge_breakdown buy, sell;
    hh_date_t d = hh_date_from_ymd(2025, 6, 10);

    (void)state;
    assert_non_null(s);
    /* buy 75 NIFTY options at 100, sell at 110 */
    hh_charges_fill(s, d, HH_BUY, 7500 * HH_RUPEE, 0, &buy);
    hh_charges_fill(s, d, HH_SELL, 8250 * HH_RUPEE, 0, &sell);
    assert_int_equal(buy.c[HH_CHG_BROKERAGE], rs(2000));
    assert_int_equal(sell.c[HH_CHG_BROKERAGE], rs(2000));
    assert_int_equal(buy.c[HH_CHG_STT], 0);
    assert_int_equal(sell.c[HH_CHG_STT], rs(825));       /* 0.1 % x 8,250 = 8.25 */
    assert_int_equal(buy.c[HH_CHG_EXCHANGE], rs(263));   /* 2.627 -> 2.63 */
    assert_int_equal(sell.c[HH_CHG_EXCHANGE], rs(289));  /* 2.889 -> 2.89 */
    assert_int_equal(buy.c[HH_CHG_SEBI], rs(1));         /* 0.0075 -> 0.01 */
    assert_int_equal(sell.c[HH_CHG_SEBI], rs(1));        /* 0.00825 -> 0.01 */
    assert_int_equal(buy.c[HH_CHG_STAMP], rs(23));       /* 0.225 -> 0.23 */
    assert_int_equal(sell.c[HH_CHG_STAMP], 0);
    assert_int_equal(buy.c[HH_CHG_GST], rs(408));        /* 18 % of 22.64 */
    assert_int_equal(sell.c[HH_CHG_GST], rs(412));       /* 18 % of 22.90 */
    assert_int_equal(buy.total, rs(2695));
    assert_int_equal(sell.total, rs(3527));
    assert_int_equal(buy.total + sell.total, rs(6222));  /* "about 62.2" */
}

static void test_stt_change_by_date(void **state)
{
    const struct hh_charges *opt = hh_charges_find("nse_fo_options");
    const struct hh_charges *fut = hh_charges_find("nse_fo_futures");
    struct hh_charge_breakdown b;

    (void)state;
    hh_charges_fill(opt, hh_date_from_ymd(2026, 3, 31), HH_SELL, 8250 * HH_RUPEE, 0, &b);
    assert_int_equal(b.c[HH_CHG_STT], rs(825));
    hh_charges_fill(opt, hh_date_from_ymd(2026, 4, 1), HH_SELL, 8250 * HH_RUPEE, 0, &b);
    assert_int_equal(b.c[HH_CHG_STT], rs(1238));          /* 0.15 % = 12.375 -> 12.38 */
    hh_charges_fill(fut, hh_date_from_ymd(2026, 3, 31), HH_SELL, 1000000 * HH_RUPEE, 0, &b);
    assert_int_equal(b.c[HH_CHG_STT], rs(20000));         /* 0.02 % of 10 lakh */
    hh_charges_fill(fut, hh_date_from_ymd(2026, 4, 1), HH_SELL, 1000000 * HH_RUPEE, 0, &b);
    assert_int_equal(b.c[HH_CHG_STT], rs(50000));         /* 0.05 % */
    assert_int_equal(hh_charges_exercise_stt(hh_date_from_ymd(2025, 1, 30), 10000 * HH_RUPEE),
                     rs(1250));
    assert_int_equal(hh_charges_exercise_stt(hh_date_from_ymd(2026, 4, 7), 10000 * HH_RUPEE),
                     rs(1500));
}

static void test_brokerage_cap_per_order(void **state)
{
    const struct hh_charges *fut = hh_charges_find("nse_fo_futures");
    const struct hh_charges *opt = hh_charges_find("nse_fo_options");
    struct hh_charge_breakdown b;

    (void)state;
    /* 0.03 % of 10,000 = 3.00 < 20 */
    hh_charges_fill(fut, hh_date_from_ymd(2025, 1, 2), HH_BUY, 10000 * HH_RUPEE, 0, &b);
    assert_int_equal(b.c[HH_CHG_BROKERAGE], rs(300));
    /* 0.03 % of 1,00,000 = 30 -> capped at 20 */
    hh_charges_fill(fut, hh_date_from_ymd(2025, 1, 2), HH_BUY, 100000 * HH_RUPEE, 0, &b);
    assert_int_equal(b.c[HH_CHG_BROKERAGE], rs(2000));
    /* a second fill of the same order after 15 paid: at most 5 more */
    hh_charges_fill(fut, hh_date_from_ymd(2025, 1, 2), HH_BUY, 100000 * HH_RUPEE,
                    15 * HH_RUPEE, &b);
    assert_int_equal(b.c[HH_CHG_BROKERAGE], rs(500));
    /* flat 20 per executed order: a partial fill after the first pays none */
    hh_charges_fill(opt, hh_date_from_ymd(2025, 1, 2), HH_BUY, 1000 * HH_RUPEE,
                    20 * HH_RUPEE, &b);
    assert_int_equal(b.c[HH_CHG_BROKERAGE], 0);
}

static void test_zero_and_unknown(void **state)
{
    struct hh_charge_breakdown b;

    (void)state;
    hh_charges_fill(hh_charges_find("zero"), 20000, HH_BUY, 123456 * HH_RUPEE, 0, &b);
    assert_int_equal(b.total, 0);
    assert_null(hh_charges_find("nse_options"));
    assert_string_equal(hh_charges_names()[0], "zero");
}

static void test_equity_delivery_both_sides(void **state)
{
    const struct hh_charges *s = hh_charges_find("nse_equity_delivery");
    struct hh_charge_breakdown b;

    (void)state;
    hh_charges_fill(s, hh_date_from_ymd(2025, 1, 2), HH_BUY, 100000 * HH_RUPEE, 0, &b);
    assert_int_equal(b.c[HH_CHG_BROKERAGE], 0);
    assert_int_equal(b.c[HH_CHG_STT], rs(10000));     /* 0.1 % both sides */
    assert_int_equal(b.c[HH_CHG_STAMP], rs(1500));    /* 0.015 % */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worked_example),
        cmocka_unit_test(test_stt_change_by_date),
        cmocka_unit_test(test_brokerage_cap_per_order),
        cmocka_unit_test(test_zero_and_unknown),
        cmocka_unit_test(test_equity_delivery_both_sides),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
