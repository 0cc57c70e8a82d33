/*
 * test_loop.c — the event loop's belled sources (loop.h, hh_source.bell):
 * a PENDING answer is kept while the bell is still, the source is asked
 * again at the first event after its bell moves, and without a bell a
 * change is still seen within HH_LOOP_RECHECK events; sources without a
 * bell are asked at every event.
 */
#include "testutil.h"

#include "engine/loop.h"

#define TICKS 1000

struct rig {
    /* the market: ticks at t = 1, 2, ... TICKS */
    int taken;                         /* ticks taken */
    int plain_peeks;                   /* peeks of a source without a bell */
    /* the belled source: a command waits when `queued` */
    atomic_uint bell;
    bool queued;
    int belled_peeks;
    int command_after;                 /* ticks taken when the command was */
    /* what to do at a tick: queue a command, ringing or not */
    int queue_at;
    bool ring;
};

static enum hh_src_state market_peek(void *impl, struct hh_ev_key *key)
{
    struct rig *g = impl;

    if (g->taken == TICKS)
        return HH_SRC_END;
    *key = (struct hh_ev_key){ g->taken + 1, HH_EV_MARKET, 0 };
    return HH_SRC_READY;
}

static int market_take(void *impl, const struct hh_ev_key *bound)
{
    struct rig *g = impl;

    (void)bound;
    if (++g->taken == g->queue_at) {
        g->queued = true;              /* as another thread would deliver */
        if (g->ring)
            atomic_fetch_add(&g->bell, 1);
    }
    return HH_OK;
}

static enum hh_src_state belled_peek(void *impl, struct hh_ev_key *key)
{
    struct rig *g = impl;

    g->belled_peeks++;
    if (g->taken == TICKS && !g->queued)
        return HH_SRC_END;
    if (g->queued) {
        *key = (struct hh_ev_key){ g->taken, HH_EV_SIGNAL, 0 };
        return HH_SRC_READY;
    }
    *key = (struct hh_ev_key){ HH_TIME_MAX, HH_EV_MARKET, UINT64_MAX };
    return HH_SRC_PENDING;
}

static int belled_take(void *impl, const struct hh_ev_key *bound)
{
    struct rig *g = impl;

    (void)bound;
    g->queued = false;
    g->command_after = g->taken;
    return HH_OK;
}

static enum hh_src_state plain_peek(void *impl, struct hh_ev_key *key)
{
    struct rig *g = impl;

    (void)key;
    g->plain_peeks++;
    return HH_SRC_END;
}

static int plain_take(void *impl, const struct hh_ev_key *bound)
{
    (void)impl;
    (void)bound;
    return HH_OK;
}

static const struct hh_source_ops market_ops = { market_peek, market_take };
static const struct hh_source_ops belled_ops = { belled_peek, belled_take };
static const struct hh_source_ops plain_ops = { plain_peek, plain_take };

static void wait_never(void *ctx, const struct hh_ev_key *next)
{
    (void)ctx;
    (void)next;
    fail_msg("the loop waited: no source should have held it back");
}

static void run(struct rig *g)
{
    struct hh_loop L;

    hh_loop_init(&L);
    L.wait = wait_never;
    L.ctx = g;
    assert_int_equal(hh_loop_add(&L, (struct hh_source){ &belled_ops, g, "belled", &g->bell }),
                     HH_OK);
    assert_int_equal(hh_loop_add(&L, (struct hh_source){ &market_ops, g, "market", NULL }),
                     HH_OK);
    assert_int_equal(hh_loop_add(&L, (struct hh_source){ &plain_ops, g, "plain", NULL }),
                     HH_OK);
    assert_int_equal(hh_loop_run(&L), HH_OK);
    assert_int_equal(g->taken, TICKS);
}

static void test_quiet_source_asked_once_per_recheck(void **state)
{
    struct rig g = { .queue_at = -1 };

    (void)state;
    run(&g);
    /* every look: one per tick, the one that found the belled source's kept
     * answer the only thing left (asked again, not waited on), the last */
    assert_int_equal(g.plain_peeks, TICKS + 2);
    assert_true(g.belled_peeks <= TICKS / HH_LOOP_RECHECK + 2);
    assert_true(g.belled_peeks >= TICKS / HH_LOOP_RECHECK);
}

static void test_bell_heard_at_next_event(void **state)
{
    struct rig g = { .queue_at = 500, .ring = true };

    (void)state;
    run(&g);
    assert_int_equal(g.command_after, 500);               /* before tick 501 */
}

static void test_unrung_change_seen_within_recheck(void **state)
{
    struct rig g = { .queue_at = 500, .ring = false };

    (void)state;
    run(&g);
    assert_true(g.command_after >= 500);
    assert_true(g.command_after < 500 + HH_LOOP_RECHECK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quiet_source_asked_once_per_recheck),
        cmocka_unit_test(test_bell_heard_at_next_event),
        cmocka_unit_test(test_unrung_change_seen_within_recheck),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
