/*
 * test_model.c — the shared vocabulary's one rule with arithmetic in it:
 * net positions at average cost (hh_position_apply), as the paper broker
 * books them and the journal records them.
 */
#include "testutil.h"

#include "core/err.h"
#include "core/model.h"

#define PX(x) ((hh_price_t)((x) * HH_FX_SCALE))

static void expect(const struct hh_position *p, hh_qty_t qty, hh_price_t avg,
                   hh_money_t realised)
{
    assert_int_equal(p->qty, qty);
    assert_int_equal(p->avg, avg);
    assert_int_equal(p->realised, realised);
}

static void test_add_averages_half_up(void **state)
{
    struct hh_position p = { 0, 0, 0 };

    (void)state;
    assert_int_equal(hh_position_apply(&p, HH_BUY, 10, PX(100)), HH_OK);
    expect(&p, 10, PX(100), 0);
    /* (10 x 100 + 20 x 100.0001) / 30 = 100.0000666... -> 100.0001 */
    assert_int_equal(hh_position_apply(&p, HH_BUY, 20, PX(100) + 1), HH_OK);
    expect(&p, 30, PX(100) + 1, 0);
    /* a tie rounds up: (1 x 1 + 1 x 2) / 2 = 1.5 (in 1/10,000) -> 2 */
    p = (struct hh_position){ 1, 1, 0 };
    assert_int_equal(hh_position_apply(&p, HH_BUY, 1, 2), HH_OK);
    expect(&p, 2, 2, 0);
}

static void test_reduce_realises_and_keeps_average(void **state)
{
    struct hh_position p = { 0, 0, 0 };

    (void)state;
    hh_position_apply(&p, HH_BUY, 10, PX(100));
    assert_int_equal(hh_position_apply(&p, HH_SELL, 4, PX(110)), HH_OK);
    expect(&p, 6, PX(100), 4 * PX(10));
    assert_int_equal(hh_position_apply(&p, HH_SELL, 6, PX(95)), HH_OK);
    expect(&p, 0, 0, 4 * PX(10) - 6 * PX(5));   /* flat: no average */
}

static void test_short_side_and_flip(void **state)
{
    struct hh_position p = { 0, 0, 0 };

    (void)state;
    hh_position_apply(&p, HH_SELL, 5, PX(200));
    expect(&p, -5, PX(200), 0);
    hh_position_apply(&p, HH_SELL, 5, PX(210));
    expect(&p, -10, PX(205), 0);
    /* buy 15: 10 closed at a loss of 5 each, 5 opened long at 215 */
    assert_int_equal(hh_position_apply(&p, HH_BUY, 15, PX(215)), HH_OK);
    expect(&p, 5, PX(215), -10 * PX(10));
}

static void test_bad_and_overflowing_fills_change_nothing(void **state)
{
    struct hh_position p = { INT64_MAX - 1, PX(100), 7 };

    (void)state;
    assert_int_equal(hh_position_apply(&p, HH_BUY, 0, PX(100)), HH_EINVAL);
    assert_int_equal(hh_position_apply(&p, HH_BUY, -1, PX(100)), HH_EINVAL);
    assert_int_equal(hh_position_apply(&p, HH_BUY, 2, PX(100)), HH_EOVERFLOW);
    expect(&p, INT64_MAX - 1, PX(100), 7);
    p = (struct hh_position){ 1000000, 1, INT64_MAX - 10 };
    assert_int_equal(hh_position_apply(&p, HH_SELL, 1000000, PX(1000)), HH_EOVERFLOW);
    expect(&p, 1000000, 1, INT64_MAX - 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_averages_half_up),
        cmocka_unit_test(test_reduce_realises_and_keeps_average),
        cmocka_unit_test(test_short_side_and_flip),
        cmocka_unit_test(test_bad_and_overflowing_fills_change_nothing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
