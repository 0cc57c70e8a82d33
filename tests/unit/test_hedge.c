/*
 * test_hedge.c — the emergency hedge manager: only `unmatched - held -
 * in flight`, one hedge per debounce interval, never more than the
 * unmatched quantity — also under the seed's cascade of 20 partial fills in
 * 100 ms; hedges sold stop counting; buckets are independent (no limit on
 * how many hedge at once).
 */
#include "testutil.h"

#include "exec/hedge.h"

#define MS HH_NS_PER_MS
#define DEBOUNCE (500 * MS)

static void test_cascade_of_partial_fills(void **state)
{
    struct hh_hedge h;
    hh_qty_t ordered = 0, unmatched = 0;
    int decisions = 0;

    (void)state;
    hh_hedge_init(&h);
    /* 20 partial short fills of 75 units within 100 ms, protection unfilled */
    for (int i = 0; i < 20; i++) {
        hh_qty_t q;

        unmatched += 75;
        q = hh_hedge_decide(&h, DEBOUNCE, unmatched, i * 5 * MS);
        if (q) {
            decisions++;
            ordered += q;
        }
        assert_true(ordered <= unmatched);
    }
    assert_int_equal(decisions, 1);        /* one hedge, not twenty */
    assert_int_equal(ordered, 75);         /* what was exposed at that instant */
    /* the hedge fills; after the debounce the rest is hedged, once */
    hh_hedge_filled(&h, 75);
    assert_int_equal(hh_hedge_decide(&h, DEBOUNCE, unmatched, 499 * MS), 0);
    assert_int_equal(hh_hedge_decide(&h, DEBOUNCE, unmatched, 500 * MS), 1425);
    assert_int_equal(hh_hedge_decide(&h, DEBOUNCE, unmatched, 2000 * MS), 0); /* in flight */
    hh_hedge_filled(&h, 1425);
    assert_int_equal(h.held, 1500);
    assert_int_equal(h.pending, 0);
    assert_int_equal(hh_hedge_decide(&h, DEBOUNCE, unmatched, 3000 * MS), 0); /* all hedged */
    assert_int_equal(h.hedges, 2);
}

static void test_released_and_retried(void **state)
{
    struct hh_hedge h;

    (void)state;
    hh_hedge_init(&h);
    assert_int_equal(hh_hedge_decide(&h, DEBOUNCE, 100, 0), 100);
    hh_hedge_released(&h, 100);                                     /* order rejected */
    assert_int_equal(h.pending, 0);
    assert_int_equal(hh_hedge_decide(&h, DEBOUNCE, 100, 100 * MS), 0);   /* debounced */
    assert_int_equal(hh_hedge_decide(&h, DEBOUNCE, 100, 600 * MS), 100); /* retried */
    assert_int_equal(hh_hedge_decide(&h, DEBOUNCE, 0, 5000 * MS), 0);
    assert_int_equal(hh_hedge_decide(&h, DEBOUNCE, -5, 6000 * MS), 0);
}

/* Hedges sold (the group closing them, or gone at the broker) protect
 * nothing: exposure found again is hedged again. */
static void test_sold_hedges_no_longer_count(void **state)
{
    struct hh_hedge h;

    (void)state;
    hh_hedge_init(&h);
    assert_int_equal(hh_hedge_decide(&h, DEBOUNCE, 75, 0), 75);
    hh_hedge_filled(&h, 75);
    assert_int_equal(hh_hedge_decide(&h, DEBOUNCE, 75, 1000 * MS), 0);
    hh_hedge_sold(&h, 75);
    assert_int_equal(h.held, 0);
    assert_int_equal(hh_hedge_decide(&h, DEBOUNCE, 75, 2000 * MS), 75);
    hh_hedge_sold(&h, 500);                      /* never below zero */
    assert_int_equal(h.held, 0);
}

/* A fill above what was asked is what the broker executed: held follows it. */
static void test_fill_beyond_pending_is_held(void **state)
{
    struct hh_hedge h;

    (void)state;
    hh_hedge_init(&h);
    assert_int_equal(hh_hedge_decide(&h, DEBOUNCE, 50, 0), 50);
    hh_hedge_filled(&h, 60);
    assert_int_equal(h.held, 60);
    assert_int_equal(h.pending, 0);
}

/* 100 buckets at once: each hedges on its own (the old manager stopped at 16). */
static void test_many_buckets(void **state)
{
    struct hh_hedge h[100];

    (void)state;
    for (int b = 0; b < 100; b++) {
        hh_hedge_init(&h[b]);
        assert_int_equal(hh_hedge_decide(&h[b], DEBOUNCE, 25 + b, 10 * MS), 25 + b);
    }
}

static void test_never_more_than_unmatched(void **state)
{
    struct hh_hedge h;
    uint64_t seed = 42;

    (void)state;
    hh_hedge_init(&h);
    for (int i = 0; i < 10000; i++) {
        hh_qty_t unmatched, q;

        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        unmatched = (hh_qty_t)((seed >> 33) % 1000);
        q = hh_hedge_decide(&h, DEBOUNCE, unmatched, i * 37 * MS);
        if (q && (seed >> 20) % 2)
            hh_hedge_filled(&h, q);
        else if (q)
            hh_hedge_released(&h, q);
        if ((seed >> 40) % 7 == 0)
            hh_hedge_sold(&h, h.held);   /* the hedges closed with their group */
        /* what is hedged or in flight never passes the largest exposure */
        assert_true(h.held + h.pending <= 999);
        if (q)
            assert_true(q <= unmatched);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cascade_of_partial_fills),
        cmocka_unit_test(test_released_and_retried),
        cmocka_unit_test(test_sold_hedges_no_longer_count),
        cmocka_unit_test(test_fill_beyond_pending_is_held),
        cmocka_unit_test(test_many_buckets),
        cmocka_unit_test(test_never_more_than_unmatched),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
