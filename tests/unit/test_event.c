/*
 * test_event.c — event ordering (signals before market data at equal
 * times), the monotonic engine clock, and timers firing in deadline order
 * with ties broken by start order.
 */
#include "testutil.h"

#include "core/event.h"

static void test_ordering(void **state)
{
    struct hh_ev_key sig = { 100, HH_EV_SIGNAL, 9 };
    struct hh_ev_key md = { 100, HH_EV_MARKET, 1 };
    struct hh_ev_key early_md = { 99, HH_EV_MARKET, 50 };
    struct hh_ev_key sig2 = { 100, HH_EV_SIGNAL, 10 };

    (void)state;
    assert_true(hh_ev_cmp(&sig, &md) < 0);        /* signal first at equal time */
    assert_true(hh_ev_cmp(&early_md, &sig) < 0);  /* time beats class */
    assert_true(hh_ev_cmp(&sig, &sig2) < 0);      /* then sequence */
    assert_int_equal(hh_ev_cmp(&sig, &sig), 0);
}

static void test_clock(void **state)
{
    struct hh_clock c;

    (void)state;
    hh_clock_init(&c, true);
    assert_true(c.now == HH_TIME_NONE);
    assert_int_equal(hh_clock_advance(&c, 1000), HH_OK);
    assert_int_equal(hh_clock_advance(&c, 1000), HH_OK);
    assert_int_equal(hh_clock_advance(&c, 999), HH_ESTATE);
    assert_true(c.now == 1000);
}

static void test_timers(void **state)
{
    struct hh_timers t;
    struct hh_timer out;
    uint64_t a, b, c, d;
    hh_time_t last = 0;
    int fired[4] = { 0 };

    (void)state;
    assert_int_equal(hh_timers_init(&t, 2), HH_OK);
    assert_true(hh_timers_next(&t) == HH_TIME_MAX);
    hh_timers_start(&t, 500, 1, 0, &a);
    hh_timers_start(&t, 100, 1, 1, &b);
    hh_timers_start(&t, 500, 1, 2, &c);   /* same deadline as a, started later */
    hh_timers_start(&t, 300, 1, 3, &d);
    assert_true(hh_timers_next(&t) == 100);
    assert_int_equal(hh_timers_cancel(&t, d), HH_OK);
    assert_int_equal(hh_timers_cancel(&t, d), HH_ENOTFOUND);
    assert_false(hh_timers_pop_due(&t, 99, &out));
    assert_true(hh_timers_pop_due(&t, 100, &out));
    assert_int_equal(out.arg, 1);
    assert_true(hh_timers_pop_due(&t, 1000, &out));
    assert_int_equal(out.arg, 0);
    assert_true(hh_timers_pop_due(&t, 1000, &out));
    assert_int_equal(out.arg, 2);
    assert_false(hh_timers_pop_due(&t, 1000, &out));
    (void)a; (void)c;
    /* Many timers come out sorted. */
    for (int i = 0; i < 1000; i++)
        hh_timers_start(&t, (i * 7919) % 1000, 2, (uint64_t)i, NULL);
    for (int i = 0; i < 1000; i++) {
        assert_true(hh_timers_pop_due(&t, 10000, &out));
        assert_true(out.deadline >= last);
        last = out.deadline;
        fired[out.arg % 4]++;
    }
    assert_int_equal(fired[0] + fired[1] + fired[2] + fired[3], 1000);
    hh_timers_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ordering),
        cmocka_unit_test(test_clock),
        cmocka_unit_test(test_timers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
