/*
 * retry.h — exponential backoff with jitter for broker operations that are
 * safe to retry (seed FIX #9).
 *
 * Pure arithmetic: nothing here sleeps, reads a clock or calls a broker.
 * The caller asks "may I try again, and when?" after a failed call and
 * starts a timer for the answer; the jitter comes from a seeded PRNG owned
 * by struct hh_retry, so a given seed always yields the same schedule.
 *
 *   delay(a) = min(max, base * 2^a) * (1 + jitter * (2u - 1)),  u in [0, 1)
 *
 * where a = 0 for the first retry.  `attempts` bounds the total number of
 * calls, the first included: with the defaults (3, 1 s, 8 s, 0.2) a call
 * failing with a 503 is tried at t, ~t+1 s and ~t+3 s (retry #1 after ~1 s,
 * retry #2 ~2 s later), then given up.
 *
 * What is retryable: HH_EUNAVAIL (503, 429, connection refused),
 * HH_ETIMEOUT (no answer: the outcome is unknown) and HH_EAUTH (the broker
 * refused our credentials before doing anything: an expired daily token,
 * cured by a new one; the breaker holds the retries back meanwhile).
 * Never retried:
 * HH_EBROKER (the broker rejected the request: it will reject it again),
 * HH_EINVAL, HH_ESTATE (too late: the order is no longer working),
 * HH_ENOTFOUND, and everything else.  A placement that timed out may have
 * created the order, so it is retried only after the order book has been
 * searched for its client id (HH_RETRY_FIND_FIRST): brokers do not
 * de-duplicate.
 */
#ifndef HH_RETRY_H
#define HH_RETRY_H

#include "core/fixed.h"
#include "core/time.h"

#include <stdbool.h>
#include <stdint.h>

struct hh_retry_policy {
    int attempts;            /* calls in all, the first included (>= 1) */
    int64_t base;            /* ns: delay before the first retry */
    int64_t max;             /* ns: cap of the exponential part */
    hh_ratio_t jitter;       /* 0..1 (ratio units): +- share of the delay */
};

struct hh_retry {
    struct hh_retry_policy pol;
    uint64_t rng;            /* PRNG state (splitmix64), never 0 */
};

/* What to do after a failed call. */
enum hh_retry_verdict {
    HH_RETRY_NO,             /* final: report the failure */
    HH_RETRY_YES,            /* call again (same request, same client id) */
    HH_RETRY_FIND_FIRST,     /* placement outcome unknown: search the order
                                book for the client id; place again only
                                when it is not there */
};

/* The operations a verdict depends on. */
enum hh_retry_op {
    HH_RETRY_OP_PLACE,
    HH_RETRY_OP_MODIFY,
    HH_RETRY_OP_CANCEL,
    HH_RETRY_OP_QUERY,       /* find, status, orders, positions, funds */
};

/* One operation's retry bookkeeping (zero it before the first call). */
struct hh_retry_track {
    int failures;            /* failed calls so far */
    hh_time_t next;          /* when the next call is due (HH_TIME_NONE) */
};

/* Initialise with a policy (copied) and a seed.  Returns HH_EINVAL for
 * attempts < 1, a negative base or max, or jitter outside 0..1. */
int hh_retry_init(struct hh_retry *r, const struct hh_retry_policy *pol, uint64_t seed);

/* True for the error codes a retry can cure (HH_EUNAVAIL, HH_ETIMEOUT,
 * HH_EAUTH). */
bool hh_retry_retryable(int rc);

/* The verdict for `op` failing with rc (0 gives HH_RETRY_NO). */
enum hh_retry_verdict hh_retry_classify(enum hh_retry_op op, int rc);

/* Delay in ns before retry number `attempt` (0 = the first retry); draws
 * one jitter value.  Never negative; saturates instead of overflowing. */
int64_t hh_retry_delay(struct hh_retry *r, int attempt);

/*
 * Record a failed call of t (failing with rc at `now`).  Returns true and
 * sets *when (and t->next) to the time of the next call when rc is
 * retryable and the attempts are not used up; false otherwise (t->next =
 * HH_TIME_NONE).  Whether a placement must search the book first is
 * hh_retry_classify()'s business, not this one's.
 */
bool hh_retry_next(struct hh_retry *r, struct hh_retry_track *t, int rc, hh_time_t now,
                   hh_time_t *when);

#endif
