/*
 * test_kite_lim.c — the order-call pacer: a burst of 100 at 10/s takes at
 * least 9.9 s and never puts 11 calls in any 1-second window (virtual
 * clock, exact); a 429 backoff pushes the next grant out; and the same on
 * the real monotonic clock with threads competing (a shorter burst).
 */
#include "testutil.h"

#include "broker/kite_int.h"

#include <pthread.h>

/* A virtual clock: sleeping advances it. */
struct vclock {
    int64_t now;
};

static int64_t v_now(void *ctx)
{
    return ((struct vclock *)ctx)->now;
}

static void v_sleep(void *ctx, int64_t ns)
{
    ((struct vclock *)ctx)->now += ns;
}

/* No more than `n` of the sorted times t[0..m) in any window [x, x + 1 s). */
static int max_in_window(const int64_t *t, size_t m)
{
    int best = 0;
    size_t j = 0;

    for (size_t i = 0; i < m; i++) {
        while (t[i] - t[j] >= HH_NS_PER_S)
            j++;
        if ((int)(i - j + 1) > best)
            best = (int)(i - j + 1);
    }
    return best;
}

static void test_burst_virtual(void **state)
{
    struct hh_kite__lim l;
    struct vclock c = { 5 * HH_NS_PER_S };
    int64_t t[100], start = c.now;

    (void)state;
    assert_int_equal(hh_kite__lim_init(&l, 10), HH_OK);
    l.now = v_now;
    l.sleep = v_sleep;
    l.ctx = &c;
    for (int i = 0; i < 100; i++)
        t[i] = hh_kite__lim_acquire(&l);
    assert_true(t[99] - start >= 9900 * HH_NS_PER_MS);
    assert_int_equal(max_in_window(t, 100), 10);
    for (int i = 1; i < 100; i++)
        assert_true(t[i] - t[i - 1] >= HH_NS_PER_S / 10);
    /* even counting a window closed at both ends: 11 calls span > 1 s */
    for (int i = 10; i < 100; i++)
        assert_true(t[i] - t[i - 10] > HH_NS_PER_S);
    hh_kite__lim_destroy(&l);
}

static void test_backoff_virtual(void **state)
{
    struct hh_kite__lim l;
    struct vclock c = { HH_NS_PER_S };
    int64_t a, b;

    (void)state;
    assert_int_equal(hh_kite__lim_init(&l, 10), HH_OK);
    l.now = v_now;
    l.sleep = v_sleep;
    l.ctx = &c;
    a = hh_kite__lim_acquire(&l);
    hh_kite__lim_backoff(&l, 2 * HH_NS_PER_S);       /* a 429 */
    b = hh_kite__lim_acquire(&l);
    assert_true(b - a >= 2 * HH_NS_PER_S);
    /* a backoff shorter than the pacing changes nothing */
    hh_kite__lim_backoff(&l, 1);
    assert_true(hh_kite__lim_acquire(&l) - b >= HH_NS_PER_S / 10);
    assert_int_equal(hh_kite__lim_init(&l, 0), HH_EINVAL);
    hh_kite__lim_destroy(&l);
}

struct racer {
    struct hh_kite__lim *l;
    int64_t *t;
    int n;
};

static void *race(void *arg)
{
    struct racer *r = arg;

    for (int i = 0; i < r->n; i++)
        r->t[i] = hh_kite__lim_acquire(r->l);
    return NULL;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* Real clock, four threads, 40 calls at 20/s: the grants (monotonic clock)
 * never put 21 in a second, and the burst really takes its time. */
static void test_threads_real(void **state)
{
    struct hh_kite__lim l;
    int64_t t[40], start = hh_kite__mono_ns();
    pthread_t th[4];
    struct racer r[4];

    (void)state;
    assert_int_equal(hh_kite__lim_init(&l, 20), HH_OK);
    for (int i = 0; i < 4; i++) {
        r[i] = (struct racer){ &l, t + 10 * i, 10 };
        pthread_create(&th[i], NULL, race, &r[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    qsort(t, 40, sizeof t[0], cmp64);
    assert_true(max_in_window(t, 40) <= 20);
    assert_true(hh_kite__mono_ns() - start >= 39 * HH_NS_PER_S / 20);
    hh_kite__lim_destroy(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_virtual),
        cmocka_unit_test(test_backoff_virtual),
        cmocka_unit_test(test_threads_real),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
