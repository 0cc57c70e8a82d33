/*
 * kite_lim.c — the pacer of an account's calls (kite_int.h).
 *
 * Invariant: two grants are at least `interval` apart on the monotonic
 * clock, interval = 1.05 s / N.  Any N + 1 consecutive grants therefore span
 * at least 1.05 s: no window of one second — wherever it starts, even when
 * the broker's receive times differ from our grant times by up to 50 ms —
 * holds more than N calls.  A burst of 100 at N = 10 takes 99 intervals
 * (10.4 s).  Waiting callers are served in the order they take the mutex;
 * each reserves its slot before sleeping, so sleeping never holds the lock.
 */
#include "broker/kite_int.h"

#include <errno.h>
#include <time.h>

int64_t hh_kite__mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * HH_NS_PER_S + ts.tv_nsec;
}

static int64_t mono_now(void *ctx)
{
    (void)ctx;
    return hh_kite__mono_ns();
}

static void mono_sleep(void *ctx, int64_t ns)
{
    struct timespec ts = { (time_t)(ns / HH_NS_PER_S), (long)(ns % HH_NS_PER_S) };

    (void)ctx;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int hh_kite__lim_init(struct hh_kite__lim *l, int per_second)
{
    if (per_second < 1 || per_second > 1000)
        return HH_EINVAL;
    if (pthread_mutex_init(&l->mu, NULL))
        return HH_ENOMEM;
    /* 5 % margin: see the file comment */
    l->interval = HH_NS_PER_S * 105 / 100 / per_second;
    l->next = 0;
    l->now = mono_now;
    l->sleep = mono_sleep;
    l->ctx = NULL;
    return HH_OK;
}

void hh_kite__lim_destroy(struct hh_kite__lim *l)
{
    pthread_mutex_destroy(&l->mu);
}

int64_t hh_kite__lim_acquire(struct hh_kite__lim *l)
{
    int64_t now, slot;

    pthread_mutex_lock(&l->mu);
    now = l->now(l->ctx);
    slot = l->next > now ? l->next : now;
    l->next = slot + l->interval;
    pthread_mutex_unlock(&l->mu);
    if (slot > now)
        l->sleep(l->ctx, slot - now);
    return slot;
}

void hh_kite__lim_backoff(struct hh_kite__lim *l, int64_t pause)
{
    int64_t until;

    pthread_mutex_lock(&l->mu);
    until = l->now(l->ctx) + pause;
    if (l->next < until)
        l->next = until;
    pthread_mutex_unlock(&l->mu);
}
