/*
 * kite_lim.c — the pacer of an account's calls (kite_int.h).
 *
 * The broker counts calls by the time it receives them, which we never see;
 * we know only that call i was received after we sent it and before its
 * answer came back.  Two rules, on the monotonic clock, make "at most N
 * calls in any second at the broker" hold whatever the network and the
 * scheduler do:
 *   1. a call starts no sooner than 1 s + 1 ms after the call N before it
 *      ended (its answer, or its failure, came): the broker received that
 *      one before it ended, and receives this one after it starts, so the
 *      two — and everything between — are more than a second apart;
 *   2. starts are at least 1/N s apart: a burst is spread evenly (100 calls
 *      at N = 10 take 9.9 s), not sent as 10 at once, then nothing.
 * A 429 pushes the next start out (backoff).  Calls start in the order they
 * asked (tickets); each reserves its start under the mutex and sleeps
 * outside it.
 */
#include "broker/kite_int.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#define IN_FLIGHT INT64_MAX
#define GAP       (HH_NS_PER_S + HH_NS_PER_MS)   /* rule 1 */

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
    l->ends = calloc((size_t)per_second, sizeof *l->ends);
    if (!l->ends)
        return HH_ENOMEM;
    if (pthread_mutex_init(&l->mu, NULL)) {
        free(l->ends);
        return HH_ENOMEM;
    }
    if (pthread_cond_init(&l->cv, NULL)) {
        pthread_mutex_destroy(&l->mu);
        free(l->ends);
        return HH_ENOMEM;
    }
    l->n = per_second;
    l->interval = HH_NS_PER_S / per_second;
    l->next = 0;
    l->tickets = l->turn = 0;
    l->now = mono_now;
    l->sleep = mono_sleep;
    l->ctx = NULL;
    return HH_OK;
}

void hh_kite__lim_destroy(struct hh_kite__lim *l)
{
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    free(l->ends);
    l->ends = NULL;
}

uint64_t hh_kite__lim_acquire(struct hh_kite__lim *l, int64_t *start)
{
    uint64_t t;
    int64_t now, at, *prev;

    pthread_mutex_lock(&l->mu);
    t = l->tickets++;
    prev = &l->ends[t % (uint64_t)l->n];
    /* my turn, and the call N before me has ended (only concurrent callers
     * ever wait here) */
    while (l->turn != t || (t >= (uint64_t)l->n && *prev == IN_FLIGHT))
        pthread_cond_wait(&l->cv, &l->mu);
    now = l->now(l->ctx);
    at = l->next > now ? l->next : now;
    if (t >= (uint64_t)l->n && *prev + GAP > at)
        at = *prev + GAP;
    l->next = at + l->interval;
    *prev = IN_FLIGHT;
    l->turn++;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    if (at > now)
        l->sleep(l->ctx, at - now);
    if (start)
        *start = at;
    return t;
}

void hh_kite__lim_release(struct hh_kite__lim *l, uint64_t ticket)
{
    pthread_mutex_lock(&l->mu);
    l->ends[ticket % (uint64_t)l->n] = l->now(l->ctx);
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
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
