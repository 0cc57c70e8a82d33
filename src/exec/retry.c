/*
 * retry.c — exponential backoff with jitter (see retry.h).
 *
 * Invariants: a delay is never negative; base * 2^a saturates at `max`
 * before it could overflow; the PRNG advances exactly once per delay, so a
 * schedule depends only on the seed and the sequence of calls.
 */
#include "exec/retry.h"

#include "core/err.h"

/* splitmix64: one step. */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

int hh_retry_init(struct hh_retry *r, const struct hh_retry_policy *pol, uint64_t seed)
{
    if (pol->attempts < 1 || pol->base < 0 || pol->max < 0 || pol->jitter < 0 ||
        pol->jitter > HH_RATIO_SCALE)
        return HH_EINVAL;
    r->pol = *pol;
    r->rng = seed ^ 0x5DEECE66DULL;
    return HH_OK;
}

bool hh_retry_retryable(int rc)
{
    return rc == HH_EUNAVAIL || rc == HH_ETIMEOUT || rc == HH_EAUTH;
}

enum hh_retry_verdict hh_retry_classify(enum hh_retry_op op, int rc)
{
    if (!hh_retry_retryable(rc))
        return HH_RETRY_NO;
    if (op == HH_RETRY_OP_PLACE && rc == HH_ETIMEOUT)
        return HH_RETRY_FIND_FIRST;
    /* A 503 means the request was not processed; a timed-out cancel or
     * modify is idempotent (cancelling twice is "too late" at worst, a
     * modify sets absolute values); queries have no effect. */
    return HH_RETRY_YES;
}

int64_t hh_retry_delay(struct hh_retry *r, int attempt)
{
    int64_t d = r->pol.base;
    __int128 j, v;
    /* u in [0, 1) with 2^-53 resolution, as a ratio: (2u - 1) * SCALE */
    uint64_t u53 = next_u64(&r->rng) >> 11;
    __int128 sym = ((__int128)u53 * 2 * HH_RATIO_SCALE >> 53) - HH_RATIO_SCALE;

    for (int a = 0; a < attempt && d < r->pol.max; a++)
        d = d > INT64_MAX / 2 ? INT64_MAX : d * 2;
    if (d > r->pol.max)
        d = r->pol.max;
    /* d * (1 + jitter * sym / SCALE), one rounding toward zero */
    j = (__int128)r->pol.jitter * sym;                       /* SCALE^2 */
    v = (__int128)d + (__int128)d * j / ((__int128)HH_RATIO_SCALE * HH_RATIO_SCALE);
    if (v < 0)
        return 0;
    return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

bool hh_retry_next(struct hh_retry *r, struct hh_retry_track *t, int rc, hh_time_t now,
                   hh_time_t *when)
{
    int64_t d;

    t->failures++;
    t->next = HH_TIME_NONE;
    if (!hh_retry_retryable(rc) || t->failures >= r->pol.attempts)
        return false;
    d = hh_retry_delay(r, t->failures - 1);
    t->next = now > HH_TIME_MAX - d ? HH_TIME_MAX : now + d;
    if (when)
        *when = t->next;
    return true;
}
