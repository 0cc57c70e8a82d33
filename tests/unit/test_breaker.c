/*
 * test_breaker.c — the circuit breaker: every transition with its time
 * (CLOSED -> OPEN on N failures in the sliding window, OPEN refuses at once,
 * HALF_OPEN after the cool-off with exactly one probe, CLOSED on its
 * success, OPEN again on its failure), what counts as a failure, the alert.
 */
#include "testutil.h"

#include "core/err.h"
#include "exec/breaker.h"

#define S HH_NS_PER_S
#define MS HH_NS_PER_MS

struct log {
    struct hh_breaker_transition t[16];
    int n;
};

static void on_transition(void *ctx, const struct hh_breaker_transition *t)
{
    struct log *l = ctx;

    if (l->n < 16)
        l->t[l->n++] = *t;
}

static const struct hh_breaker_config cfg5 = { 5, 30 * S, 20 * S };

static void test_opens_on_failures_within_window(void **state)
{
    struct hh_breaker b;
    struct log l = { .n = 0 };

    (void)state;
    assert_int_equal(hh_breaker_init(&b, &cfg5, on_transition, &l), HH_OK);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(hh_breaker_allow(&b, i * S), HH_OK);
        hh_breaker_failure(&b, i * S);
    }
    assert_int_equal(b.state, HH_BRK_CLOSED);
    assert_int_equal(l.n, 0);
    hh_breaker_record(&b, 10 * S, HH_EUNAVAIL);               /* 5th within 30 s */
    assert_int_equal(b.state, HH_BRK_OPEN);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.t[0].from, HH_BRK_CLOSED);
    assert_int_equal(l.t[0].to, HH_BRK_OPEN);
    assert_int_equal(l.t[0].at, 10 * S);
    assert_int_equal(l.t[0].failures, 5);
    assert_true(l.t[0].alert);
    assert_int_equal(b.opens, 1);
    hh_breaker_free(&b);
}

static void test_sliding_window_forgets_old_failures(void **state)
{
    struct hh_breaker b;
    struct log l = { .n = 0 };

    (void)state;
    hh_breaker_init(&b, &cfg5, on_transition, &l);
    /* one failure every 8 s: any 5 consecutive span 32 s > 30 s */
    for (int i = 0; i < 20; i++)
        hh_breaker_failure(&b, (hh_time_t)i * 8 * S);
    assert_int_equal(b.state, HH_BRK_CLOSED);
    /* successes in between do not erase failures: 5 in 4 s open it */
    for (int i = 0; i < 5; i++) {
        hh_breaker_failure(&b, 200 * S + i * S);
        hh_breaker_success(&b, 200 * S + i * S + MS);
    }
    assert_int_equal(b.state, HH_BRK_OPEN);
    hh_breaker_free(&b);
}

static void test_open_refuses_then_half_open_one_probe(void **state)
{
    struct hh_breaker b;
    struct log l = { .n = 0 };
    struct hh_breaker_config c = { 3, 30 * S, 20 * S };

    (void)state;
    hh_breaker_init(&b, &c, on_transition, &l);
    for (int i = 0; i < 3; i++)
        hh_breaker_failure(&b, i * S);
    assert_int_equal(b.state, HH_BRK_OPEN);
    assert_int_equal(hh_breaker_next(&b), 22 * S);
    /* refused at once during the cool-off */
    assert_int_equal(hh_breaker_allow(&b, 3 * S), HH_EUNAVAIL);
    assert_int_equal(hh_breaker_allow(&b, 21 * S), HH_EUNAVAIL);
    assert_int_equal(b.refused, 2);
    /* cool-off over: the first call is the probe, the next ones wait */
    assert_int_equal(hh_breaker_allow(&b, 22 * S), HH_OK);
    assert_int_equal(b.state, HH_BRK_HALF_OPEN);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.t[1].to, HH_BRK_HALF_OPEN);
    assert_int_equal(l.t[1].at, 22 * S);
    assert_false(l.t[1].alert);
    assert_int_equal(hh_breaker_allow(&b, 22 * S + MS), HH_EUNAVAIL);
    assert_int_equal(hh_breaker_allow(&b, 23 * S), HH_EUNAVAIL);
    /* the probe succeeds: closed, everything flows */
    hh_breaker_success(&b, 23 * S);
    assert_int_equal(b.state, HH_BRK_CLOSED);
    assert_int_equal(l.t[2].from, HH_BRK_HALF_OPEN);
    assert_int_equal(l.t[2].to, HH_BRK_CLOSED);
    assert_int_equal(l.t[2].at, 23 * S);
    assert_string_equal(l.t[2].why, "probe succeeded");
    for (int i = 0; i < 10; i++)
        assert_int_equal(hh_breaker_allow(&b, 24 * S), HH_OK);
    /* the window restarted: two new failures do not open it */
    hh_breaker_failure(&b, 25 * S);
    hh_breaker_failure(&b, 26 * S);
    assert_int_equal(b.state, HH_BRK_CLOSED);
    hh_breaker_free(&b);
}

static void test_probe_failure_reopens(void **state)
{
    struct hh_breaker b;
    struct log l = { .n = 0 };
    struct hh_breaker_config c = { 2, 10 * S, 5 * S };

    (void)state;
    hh_breaker_init(&b, &c, on_transition, &l);
    hh_breaker_failure(&b, 0);
    hh_breaker_failure(&b, 1 * S);
    assert_int_equal(b.state, HH_BRK_OPEN);
    /* the engine's timer drives the transition without traffic */
    hh_breaker_tick(&b, 5 * S);
    assert_int_equal(b.state, HH_BRK_OPEN);
    hh_breaker_tick(&b, 6 * S);
    assert_int_equal(b.state, HH_BRK_HALF_OPEN);
    assert_int_equal(hh_breaker_allow(&b, 7 * S), HH_OK);
    hh_breaker_record(&b, 8 * S, HH_ETIMEOUT);
    assert_int_equal(b.state, HH_BRK_OPEN);
    assert_int_equal(l.t[2].to, HH_BRK_OPEN);
    assert_true(l.t[2].alert);
    assert_string_equal(l.t[2].why, "probe failed");
    assert_int_equal(hh_breaker_next(&b), 13 * S);       /* a new cool-off */
    assert_int_equal(hh_breaker_allow(&b, 12 * S), HH_EUNAVAIL);
    assert_int_equal(hh_breaker_allow(&b, 13 * S), HH_OK);
    assert_int_equal(b.opens, 2);
    hh_breaker_free(&b);
}

static void test_rejections_are_successes(void **state)
{
    struct hh_breaker b;
    struct hh_breaker_config c = { 2, 10 * S, 5 * S };

    (void)state;
    hh_breaker_init(&b, &c, NULL, NULL);
    /* a broker that answers is up, whatever it answers */
    for (int i = 0; i < 10; i++) {
        hh_breaker_record(&b, i * MS, HH_EBROKER);
        hh_breaker_record(&b, i * MS, HH_ESTATE);
        hh_breaker_record(&b, i * MS, HH_ENOTFOUND);
    }
    assert_int_equal(b.state, HH_BRK_CLOSED);
    hh_breaker_record(&b, 20 * MS, HH_EUNAVAIL);
    hh_breaker_record(&b, 30 * MS, HH_EUNAVAIL);
    assert_int_equal(b.state, HH_BRK_OPEN);
    /* outcomes of calls sent before it opened change nothing */
    hh_breaker_record(&b, 40 * MS, HH_OK);
    hh_breaker_record(&b, 50 * MS, HH_EUNAVAIL);
    assert_int_equal(b.state, HH_BRK_OPEN);
    assert_int_equal(b.opened_at, 30 * MS);
    /* half-open probe answered by a rejection: the broker is back */
    assert_int_equal(hh_breaker_allow(&b, 6 * S), HH_OK);
    hh_breaker_record(&b, 6 * S, HH_EBROKER);
    assert_int_equal(b.state, HH_BRK_CLOSED);
    hh_breaker_free(&b);
}

/* A refused token opens it at once (one refusal, an alert); a refused
 * probe keeps it open; a probe that gets through closes it. */
static void test_auth_refusal_trips_at_once(void **state)
{
    struct hh_breaker b;
    struct log l = { .n = 0 };

    (void)state;
    hh_breaker_init(&b, &cfg5, on_transition, &l);
    hh_breaker_record(&b, 1 * S, HH_EAUTH);
    assert_int_equal(b.state, HH_BRK_OPEN);
    assert_int_equal(l.n, 1);
    assert_true(l.t[0].alert);
    assert_string_equal(l.t[0].why, "the broker refused our credentials");
    hh_breaker_record(&b, 2 * S, HH_EAUTH);   /* already open: nothing more */
    assert_int_equal(l.n, 1);
    assert_int_equal(hh_breaker_allow(&b, 21 * S), HH_OK);   /* the probe */
    hh_breaker_record(&b, 21 * S, HH_EAUTH);
    assert_int_equal(b.state, HH_BRK_OPEN);
    assert_int_equal(hh_breaker_allow(&b, 41 * S), HH_OK);
    hh_breaker_record(&b, 41 * S, HH_OK);     /* a new token */
    assert_int_equal(b.state, HH_BRK_CLOSED);
    assert_int_equal(b.failures_seen, 3);
    hh_breaker_free(&b);
}

static void test_bad_config(void **state)
{
    struct hh_breaker b;
    struct hh_breaker_config bad[] = { { 0, S, S }, { 1, 0, S }, { 1, S, -1 } };

    (void)state;
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(hh_breaker_init(&b, &bad[i], NULL, NULL), HH_EINVAL);
    hh_breaker_free(NULL);
    assert_string_equal(hh_breaker_state_name(HH_BRK_HALF_OPEN), "HALF_OPEN");
    /* one failure opens a breaker of 1 */
    {
        struct hh_breaker_config one = { 1, S, 0 };

        hh_breaker_init(&b, &one, NULL, NULL);
        hh_breaker_failure(&b, 5);
        assert_int_equal(b.state, HH_BRK_OPEN);
        /* cool-off 0: half-open at once */
        assert_int_equal(hh_breaker_allow(&b, 5), HH_OK);
        assert_int_equal(b.state, HH_BRK_HALF_OPEN);
        hh_breaker_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opens_on_failures_within_window),
        cmocka_unit_test(test_sliding_window_forgets_old_failures),
        cmocka_unit_test(test_open_refuses_then_half_open_one_probe),
        cmocka_unit_test(test_probe_failure_reopens),
        cmocka_unit_test(test_rejections_are_successes),
        cmocka_unit_test(test_auth_refusal_trips_at_once),
        cmocka_unit_test(test_bad_config),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
