/*
 * test_feed_ring.c — the market data's lock-free queue to the core
 * (feed_int.h, struct hh_feed__spsc) with the hub's lazy wake: items
 * written are invisible until published, a full ring parks its producer
 * and the consumer releases it, and under a producer and a consumer that
 * race at random speeds every item arrives once, in order, and no wake is
 * ever lost (a lost one shows as a wait that ran to its timeout).
 */
#include "testutil.h"

#include "feed/feed_int.h"

#include <stdatomic.h>
#include <time.h>

#define CAP 64
#define WAIT_NS (2 * HH_NS_PER_S)      /* a wait this long: a wake was lost */

struct item {
    uint64_t seq;
    char pad[40];                       /* items span cache lines, as ticks do */
};

struct rig {
    struct hh_feed_hub *hub;
    struct hh_feed__spsc ring;
    struct item slots[CAP];
    uint64_t n;                         /* items the producer writes */
    unsigned seed;
    atomic_uint_fast64_t written;       /* items put so far (the producer's progress) */
    bool put_failed;
};

static int64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * HH_NS_PER_S + ts.tv_nsec;
}

static struct rig *rig_new(uint64_t n, unsigned seed)
{
    struct rig *g = aligned_alloc(_Alignof(struct rig), sizeof *g);

    assert_non_null(g);
    memset(g, 0, sizeof *g);
    assert_non_null(g->hub = hh_feed_hub_new());
    hh_feed__spsc_init(&g->ring, g->slots, sizeof g->slots[0], CAP);
    g->n = n;
    g->seed = seed;
    return g;
}

static void rig_free(struct rig *g)
{
    hh_feed_hub_free(g->hub);
    free(g);
}

/* A pause of 0 to max_us microseconds, now and then (one call in `every`). */
static void jitter(unsigned *seed, unsigned every, unsigned max_us)
{
    if (rand_r(seed) % every == 0)
        hh_feed__sleep_ns((int64_t)(rand_r(seed) % (max_us + 1)) * 1000);
}

/* Publishes in batches of 1 to 16, pausing at random. */
static void *producer(void *arg)
{
    struct rig *g = arg;
    unsigned seed = g->seed;

    for (uint64_t i = 0; i < g->n; i++) {
        struct item it = { .seq = i };

        if (!hh_feed__spsc_put(g->hub, &g->ring, &it)) {
            g->put_failed = true;
            break;
        }
        atomic_store(&g->written, i + 1);
        if (rand_r(&seed) % 16 == 0 || i + 1 == g->n)
            hh_feed__spsc_publish(g->hub, &g->ring);
        jitter(&seed, 512, 200);
    }
    return NULL;
}

/* The core's side: pop, or wait on the hub when empty.  Counts the waits
 * and the times it found the ring full; fails on a wait that ran to its
 * timeout (a lost wake). */
static uint64_t consume(struct rig *g, uint64_t n, unsigned *seed, uint64_t *waits,
                        uint64_t *fulls)
{
    struct item it;
    uint64_t got = 0;

    while (got < n) {
        if (atomic_load(&g->written) - got == CAP)
            (*fulls)++;   /* the producer's next put parks */
        if (hh_feed__spsc_pop(g->hub, &g->ring, &it)) {
            assert_int_equal(it.seq, got);
            got++;
            if (seed)
                jitter(seed, 256, 300);
            continue;
        }
        int64_t t0 = mono_ns();

        hh_feed_hub_wait(g->hub, WAIT_NS);
        if (mono_ns() - t0 >= WAIT_NS - HH_NS_PER_S / 10)
            fail_msg("a wait ran to its timeout with %llu of %llu items taken: a lost wake",
                     (unsigned long long)got, (unsigned long long)n);
        (*waits)++;
    }
    return got;
}

static void test_unpublished_items_are_invisible(void **state)
{
    struct rig *g = rig_new(0, 1);
    struct item it = { .seq = 0 }, out;

    (void)state;
    for (uint64_t i = 0; i < 3; i++) {
        it.seq = i;
        assert_true(hh_feed__spsc_put(g->hub, &g->ring, &it));
    }
    assert_int_equal(hh_feed__spsc_unpublished(&g->ring), 3);
    assert_false(hh_feed__spsc_pop(g->hub, &g->ring, &out));
    hh_feed__spsc_publish(g->hub, &g->ring);
    assert_int_equal(hh_feed__spsc_unpublished(&g->ring), 0);
    for (uint64_t i = 0; i < 3; i++) {
        assert_true(hh_feed__spsc_pop(g->hub, &g->ring, &out));
        assert_int_equal(out.seq, i);
    }
    assert_false(hh_feed__spsc_pop(g->hub, &g->ring, &out));
    rig_free(g);
}

/* The producer fills the ring and parks on the next item (its progress
 * stops at CAP); the consumer takes everything and the producer, released,
 * finishes.  Then a producer parked on a full ring gives up on stop. */
static void test_full_ring_parks_and_is_released(void **state)
{
    struct rig *g = rig_new(3 * CAP, 2);
    pthread_t th;
    uint64_t waits = 0, fulls = 0;

    (void)state;
    g->seed = 0;
    assert_int_equal(pthread_create(&th, NULL, producer, g), 0);
    for (int i = 0; i < 200 && atomic_load(&g->written) < CAP; i++)
        hh_feed__sleep_ns(HH_NS_PER_MS);
    hh_feed__sleep_ns(50 * HH_NS_PER_MS);
    assert_int_equal(atomic_load(&g->written), CAP);   /* parked on item CAP + 1 */
    assert_int_equal(consume(g, 3 * CAP, NULL, &waits, &fulls), 3 * CAP);
    pthread_join(th, NULL);
    assert_false(g->put_failed);
    rig_free(g);

    g = rig_new(2 * CAP, 3);
    assert_int_equal(pthread_create(&th, NULL, producer, g), 0);
    for (int i = 0; i < 200 && atomic_load(&g->written) < CAP; i++)
        hh_feed__sleep_ns(HH_NS_PER_MS);
    hh_feed__sleep_ns(20 * HH_NS_PER_MS);
    hh_feed__spsc_stop(g->hub, &g->ring);
    pthread_join(th, NULL);
    assert_true(g->put_failed);
    assert_true(hh_feed__spsc_stopping(&g->ring));
    rig_free(g);
}

/* Random speeds on both sides, several seeds: every item once, in order;
 * the consumer both found the ring empty and waited (wakes exercised) and
 * the producer found it full (parks exercised: its progress ran CAP ahead). */
static void test_race_loses_nothing(void **state)
{
    uint64_t total_waits = 0, total_fulls = 0;

    (void)state;
    for (unsigned seed = 1; seed <= 8; seed++) {
        struct rig *g = rig_new(200000, seed);
        unsigned cseed = seed * 7919;
        pthread_t th;
        uint64_t waits = 0, fulls = 0;

        assert_int_equal(pthread_create(&th, NULL, producer, g), 0);
        assert_int_equal(consume(g, g->n, &cseed, &waits, &fulls), g->n);
        pthread_join(th, NULL);
        assert_false(g->put_failed);
        total_waits += waits;
        total_fulls += fulls;
        rig_free(g);
    }
    printf("# 8 races of 200,000 items: %llu waits on an empty ring, %llu full rings\n",
           (unsigned long long)total_waits, (unsigned long long)total_fulls);
    assert_true(total_waits > 0);
    assert_true(total_fulls > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unpublished_items_are_invisible),
        cmocka_unit_test(test_full_ring_parks_and_is_released),
        cmocka_unit_test(test_race_loses_nothing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
