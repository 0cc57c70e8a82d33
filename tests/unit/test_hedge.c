/*
 * test_hedge.c — the emergency hedge manager: only `unmatched - already
 * hedged`, cumulative per key, one hedge per debounce interval, never more
 * than the unmatched quantity — also under the seed's cascade of 20 partial
 * fills in 100 ms.
 */
#include "testutil.h"

#include "exec/hedge.h"

#define MS HH_NS_PER_MS

static void test_cascade_of_partial_fills(void **state)
{
    struct hh_hedge_mgr m;
    hh_qty_t ordered = 0, unmatched = 0;
    int decisions = 0;

    (void)state;
    hh_hedge_init(&m, 500 * MS);
    /* 20 partial short fills of 75 units within 100 ms, protection unfilled */
    for (int i = 0; i < 20; i++) {
        hh_qty_t q;

        unmatched += 75;
        q = hh_hedge_decide(&m, 1, unmatched, i * 5 * MS);
        if (q) {
            decisions++;
            ordered += q;
        }
        assert_true(ordered <= unmatched);
    }
    assert_int_equal(decisions, 1);        /* one hedge, not twenty */
    assert_int_equal(ordered, 75);         /* what was exposed at that instant */
    /* the hedge fills; after the debounce the rest is hedged, once */
    hh_hedge_filled(&m, 1, 75);
    assert_int_equal(hh_hedge_decide(&m, 1, unmatched, 499 * MS), 0);
    assert_int_equal(hh_hedge_decide(&m, 1, unmatched, 500 * MS), 1425);
    assert_int_equal(hh_hedge_decide(&m, 1, unmatched, 2000 * MS), 0); /* in flight */
    hh_hedge_filled(&m, 1, 1425);
    assert_int_equal(hh_hedge_filled_qty(&m, 1), 1500);
    assert_int_equal(hh_hedge_decide(&m, 1, unmatched, 3000 * MS), 0); /* fully hedged */
}

static void test_keys_are_independent_and_released(void **state)
{
    struct hh_hedge_mgr m;

    (void)state;
    hh_hedge_init(&m, 500 * MS);
    assert_int_equal(hh_hedge_decide(&m, 1, 100, 0), 100);
    assert_int_equal(hh_hedge_decide(&m, 2, 50, 10 * MS), 50);    /* other key: no debounce */
    hh_hedge_released(&m, 1, 100);                                 /* order rejected */
    assert_int_equal(hh_hedge_pending_qty(&m, 1), 0);
    assert_int_equal(hh_hedge_decide(&m, 1, 100, 100 * MS), 0);   /* debounced */
    assert_int_equal(hh_hedge_decide(&m, 1, 100, 600 * MS), 100); /* retried */
    assert_int_equal(hh_hedge_decide(&m, 1, 0, 5000 * MS), 0);
    assert_int_equal(hh_hedge_decide(&m, 3, -5, 0), 0);
}

static void test_never_more_than_unmatched(void **state)
{
    struct hh_hedge_mgr m;
    uint64_t seed = 42;

    (void)state;
    hh_hedge_init(&m, 500 * MS);
    for (int i = 0; i < 10000; i++) {
        hh_qty_t unmatched, q;

        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        unmatched = (hh_qty_t)((seed >> 33) % 1000);
        q = hh_hedge_decide(&m, 7, unmatched, i * 37 * MS);
        if (q && (seed >> 20) % 2)
            hh_hedge_filled(&m, 7, q);
        else if (q)
            hh_hedge_released(&m, 7, q);
        /* what is hedged or in flight never passes the largest exposure */
        assert_true(hh_hedge_filled_qty(&m, 7) + hh_hedge_pending_qty(&m, 7) <= 999);
        if (q)
            assert_true(q <= unmatched);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cascade_of_partial_fills),
        cmocka_unit_test(test_keys_are_independent_and_released),
        cmocka_unit_test(test_never_more_than_unmatched),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
