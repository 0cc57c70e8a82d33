/*
 * breaker.h — a circuit breaker in front of the broker (seed FIX #10).
 *
 *            `failures` outage failures
 *            within `window` (sliding)
 *   CLOSED ─────────────────────────────▶ OPEN ◀────────────┐
 *     ▲                                   │                 │ probe fails
 *     │ probe succeeds                    │ `cool_off`      │
 *     │                                   ▼ elapsed         │
 *     └───────────────────────────── HALF_OPEN ─────────────┘
 *                                   (exactly one call — the probe — allowed)
 *
 * While OPEN every call is refused at once (hh_breaker_allow() returns
 * HH_EUNAVAIL; the engine maps a refused placement to the rejection reason
 * BROKER_UNAVAILABLE) without touching the broker.  In HALF_OPEN the first
 * call allowed is the probe; every other call is refused until the probe's
 * outcome is recorded.
 *
 * Only outages count as failures: HH_EUNAVAIL and HH_ETIMEOUT.  HH_EAUTH
 * (the broker refused our credentials: an expired daily token) opens it at
 * once — no call can succeed until the operator logs in again, and each
 * probe after a cool-off tells whether that happened.  A broker
 * that answers — even with a rejection (HH_EBROKER), HH_ESTATE ("too late")
 * or HH_ENOTFOUND — is up, and that counts as a success
 * (hh_breaker_record()).  In CLOSED successes do not erase failures: the
 * breaker opens on `failures` failures whose times lie within `window` of
 * each other, whatever succeeded in between.
 *
 * Every transition is reported, with its engine time, to the callback
 * given at init (the engine audits and logs it; a transition to OPEN is
 * the alert: `alert` is set).  Pure: no clock — the caller passes engine
 * time — and no timers: hh_breaker_next() says when the cool-off ends so
 * the engine can start a timer and call hh_breaker_tick() (the transition
 * to HALF_OPEN also happens lazily in hh_breaker_allow()).
 */
#ifndef HH_BREAKER_H
#define HH_BREAKER_H

#include "core/time.h"

#include <stdbool.h>
#include <stdint.h>

enum hh_breaker_state {
    HH_BRK_CLOSED,
    HH_BRK_OPEN,
    HH_BRK_HALF_OPEN,
};

const char *hh_breaker_state_name(enum hh_breaker_state s);

struct hh_breaker_config {
    int failures;            /* >= 1: failures that open it ... */
    int64_t window;          /* ns, > 0: ... within this sliding window */
    int64_t cool_off;        /* ns, >= 0: OPEN this long before the probe */
};

struct hh_breaker_transition {
    enum hh_breaker_state from, to;
    hh_time_t at;            /* engine time of the transition */
    int failures;            /* failures in the window when it opened, else 0 */
    bool alert;              /* to == OPEN: raise an alert */
    const char *why;         /* static text: "failures within the window",
                                "cool-off elapsed", "probe succeeded",
                                "probe failed" */
};

/* Called on every transition, on the caller's thread; t is borrowed. */
typedef void (*hh_breaker_fn)(void *ctx, const struct hh_breaker_transition *t);

struct hh_breaker {
    struct hh_breaker_config cfg;
    enum hh_breaker_state state;
    hh_time_t *ring;         /* times of the last cfg.failures failures (owned) */
    int nring, head;         /* entries used; index of the oldest */
    hh_time_t opened_at;     /* OPEN: when it opened */
    bool probe_out;          /* HALF_OPEN: the probe was allowed, no outcome yet */
    hh_breaker_fn fn;        /* may be NULL */
    void *ctx;
    /* counters, for metrics and tests */
    uint64_t refused;        /* calls refused while OPEN or HALF_OPEN */
    uint64_t opens;          /* transitions to OPEN */
    uint64_t failures_seen;  /* failures recorded (all states) */
};

/* Initialise (allocates the failure ring).  fn/ctx may be NULL.  Returns
 * HH_EINVAL for failures < 1, window <= 0, cool_off < 0; HH_ENOMEM. */
int hh_breaker_init(struct hh_breaker *b, const struct hh_breaker_config *cfg,
                    hh_breaker_fn fn, void *ctx);
void hh_breaker_free(struct hh_breaker *b);    /* accepts NULL */

/* May a call go to the broker at `now`?  HH_OK (in HALF_OPEN: this call is
 * the probe, record its outcome) or HH_EUNAVAIL (refused; counted).  Moves
 * OPEN -> HALF_OPEN first when the cool-off has elapsed. */
int hh_breaker_allow(struct hh_breaker *b, hh_time_t now);

/* Outcome of an allowed call.  record() classifies rc: 0 and answers of a
 * live broker are successes, HH_EUNAVAIL / HH_ETIMEOUT failures, HH_EAUTH
 * a trip (below).  In OPEN
 * outcomes (of calls sent before it opened) are ignored; in HALF_OPEN any
 * outcome is taken as the probe's. */
void hh_breaker_success(struct hh_breaker *b, hh_time_t now);
void hh_breaker_failure(struct hh_breaker *b, hh_time_t now);
void hh_breaker_record(struct hh_breaker *b, hh_time_t now, int rc);
/* Open at once, whatever the window holds (an alert, like any opening);
 * counted as a failure.  Already OPEN: nothing changes. */
void hh_breaker_trip(struct hh_breaker *b, hh_time_t now);

/* Move OPEN -> HALF_OPEN when the cool-off has elapsed at `now`. */
void hh_breaker_tick(struct hh_breaker *b, hh_time_t now);

/* When the cool-off ends (OPEN), else HH_TIME_MAX. */
hh_time_t hh_breaker_next(const struct hh_breaker *b);

#endif
