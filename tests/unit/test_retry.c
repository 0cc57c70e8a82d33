/*
 * test_retry.c — exponential backoff with jitter: the schedule of the
 * defaults (1 s, 2 s, given up), the cap, jitter bounds, determinism per
 * seed, which errors are retried and which placements must search first.
 */
#include "testutil.h"

#include "core/err.h"
#include "exec/retry.h"

#define MS HH_NS_PER_MS
#define R(x) ((hh_ratio_t)((x) * HH_RATIO_SCALE))

static const struct hh_retry_policy defaults = { 3, 1000 * MS, 8000 * MS, R(0.2) };

static void test_no_jitter_is_exact(void **state)
{
    struct hh_retry_policy pol = { 10, 1000 * MS, 8000 * MS, 0 };
    struct hh_retry r;

    (void)state;
    assert_int_equal(hh_retry_init(&r, &pol, 1), HH_OK);
    assert_int_equal(hh_retry_delay(&r, 0), 1000 * MS);
    assert_int_equal(hh_retry_delay(&r, 1), 2000 * MS);
    assert_int_equal(hh_retry_delay(&r, 2), 4000 * MS);
    assert_int_equal(hh_retry_delay(&r, 3), 8000 * MS);
    assert_int_equal(hh_retry_delay(&r, 4), 8000 * MS);     /* capped */
    assert_int_equal(hh_retry_delay(&r, 62), 8000 * MS);    /* no overflow */
    assert_int_equal(hh_retry_delay(&r, 1000), 8000 * MS);
}

static void test_jitter_bounds_and_spread(void **state)
{
    struct hh_retry r;
    int64_t lo = INT64_MAX, hi = 0;

    (void)state;
    assert_int_equal(hh_retry_init(&r, &defaults, 7), HH_OK);
    for (int i = 0; i < 10000; i++) {
        int64_t d = hh_retry_delay(&r, 1);           /* 2 s +- 20 % */

        assert_true(d >= 1600 * MS && d <= 2400 * MS);
        if (d < lo)
            lo = d;
        if (d > hi)
            hi = d;
    }
    /* the draws cover the band, not one point */
    assert_true(lo < 1650 * MS);
    assert_true(hi > 2350 * MS);
}

static void test_same_seed_same_schedule(void **state)
{
    struct hh_retry a, b, c;
    int differ = 0;

    (void)state;
    hh_retry_init(&a, &defaults, 42);
    hh_retry_init(&b, &defaults, 42);
    hh_retry_init(&c, &defaults, 43);
    for (int i = 0; i < 100; i++) {
        int64_t x = hh_retry_delay(&a, i % 5), y = hh_retry_delay(&b, i % 5);

        assert_int_equal(x, y);
        differ += x != hh_retry_delay(&c, i % 5);
    }
    assert_true(differ > 90);
}

static void test_schedule_of_scenario_3(void **state)
{
    struct hh_retry r;
    struct hh_retry_track t = { 0, HH_TIME_NONE };
    hh_time_t now = 0, when = 0;

    (void)state;
    hh_retry_init(&r, &defaults, 3);
    /* call #1 at 0 fails with a 503: retry #1 after ~1 s */
    assert_true(hh_retry_next(&r, &t, HH_EUNAVAIL, now, &when));
    assert_true(when >= 800 * MS && when <= 1200 * MS);
    assert_int_equal(t.next, when);
    now = when;
    /* retry #1 fails: retry #2 after ~2 s */
    assert_true(hh_retry_next(&r, &t, HH_EUNAVAIL, now, &when));
    assert_true(when - now >= 1600 * MS && when - now <= 2400 * MS);
    now = when;
    /* retry #2 fails: three calls made, given up */
    assert_false(hh_retry_next(&r, &t, HH_EUNAVAIL, now, &when));
    assert_int_equal(t.next, HH_TIME_NONE);
    assert_int_equal(t.failures, 3);
}

static void test_non_retryable_errors_stop_at_once(void **state)
{
    struct hh_retry r;
    struct hh_retry_track t = { 0, HH_TIME_NONE };
    static const int final[] = { HH_EBROKER, HH_EINVAL, HH_ESTATE, HH_ENOTFOUND, HH_ENOMEM };

    (void)state;
    hh_retry_init(&r, &defaults, 3);
    for (size_t i = 0; i < sizeof final / sizeof final[0]; i++) {
        memset(&t, 0, sizeof t);
        assert_false(hh_retry_retryable(final[i]));
        assert_false(hh_retry_next(&r, &t, final[i], 0, NULL));
        assert_int_equal(hh_retry_classify(HH_RETRY_OP_PLACE, final[i]), HH_RETRY_NO);
    }
    assert_true(hh_retry_retryable(HH_EUNAVAIL));
    assert_true(hh_retry_retryable(HH_ETIMEOUT));
    assert_false(hh_retry_retryable(HH_OK));
    /* a refused token: not processed, placed again (no look-up) once cured */
    assert_true(hh_retry_retryable(HH_EAUTH));
    assert_int_equal(hh_retry_classify(HH_RETRY_OP_PLACE, HH_EAUTH), HH_RETRY_YES);
}

static void test_classify(void **state)
{
    (void)state;
    /* a timed-out placement may exist: search the book by client id first */
    assert_int_equal(hh_retry_classify(HH_RETRY_OP_PLACE, HH_ETIMEOUT), HH_RETRY_FIND_FIRST);
    /* a 503 was not processed: place again */
    assert_int_equal(hh_retry_classify(HH_RETRY_OP_PLACE, HH_EUNAVAIL), HH_RETRY_YES);
    assert_int_equal(hh_retry_classify(HH_RETRY_OP_CANCEL, HH_ETIMEOUT), HH_RETRY_YES);
    assert_int_equal(hh_retry_classify(HH_RETRY_OP_MODIFY, HH_EUNAVAIL), HH_RETRY_YES);
    assert_int_equal(hh_retry_classify(HH_RETRY_OP_QUERY, HH_ETIMEOUT), HH_RETRY_YES);
    assert_int_equal(hh_retry_classify(HH_RETRY_OP_CANCEL, HH_ESTATE), HH_RETRY_NO);
    assert_int_equal(hh_retry_classify(HH_RETRY_OP_QUERY, HH_OK), HH_RETRY_NO);
}

static void test_attempts_bound_and_bad_policies(void **state)
{
    struct hh_retry_policy one = { 1, 1000 * MS, 8000 * MS, 0 };
    struct hh_retry_policy bad[] = {
        { 0, 1000 * MS, 8000 * MS, 0 },
        { 3, -1, 8000 * MS, 0 },
        { 3, 1000 * MS, -1, 0 },
        { 3, 1000 * MS, 8000 * MS, R(1.5) },
        { 3, 1000 * MS, 8000 * MS, -1 },
    };
    struct hh_retry r;
    struct hh_retry_track t = { 0, HH_TIME_NONE };

    (void)state;
    hh_retry_init(&r, &one, 1);
    assert_false(hh_retry_next(&r, &t, HH_EUNAVAIL, 0, NULL));   /* one call only */
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(hh_retry_init(&r, &bad[i], 1), HH_EINVAL);
    /* full jitter never goes negative */
    {
        struct hh_retry_policy full = { 5, 1000 * MS, 8000 * MS, R(1) };

        hh_retry_init(&r, &full, 9);
        for (int i = 0; i < 1000; i++) {
            int64_t d = hh_retry_delay(&r, i % 6);

            assert_true(d >= 0 && d <= 16000 * MS);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_jitter_is_exact),
        cmocka_unit_test(test_jitter_bounds_and_spread),
        cmocka_unit_test(test_same_seed_same_schedule),
        cmocka_unit_test(test_schedule_of_scenario_3),
        cmocka_unit_test(test_non_retryable_errors_stop_at_once),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_attempts_bound_and_bad_policies),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
