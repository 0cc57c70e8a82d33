/*
 * event.h — the event core: event ordering, the engine clock, timers.
 *
 * The core never reads the wall clock.  Time enters only inside events:
 * in backtests from the data files (a simulated clock), in live runs from
 * the adapter that stamped the event (a real clock, read at the edge).
 * hh_clock_advance() moves engine time forward and never back.
 *
 * Order of events: by time; at equal times by class — signals first, then
 * timers, broker reports, and market data last (SPEC §5: "at equal
 * timestamps a signal comes before market data"); at equal time and class
 * by sequence number, so the order is total and replays are identical.
 *
 * Timers (libuv style): a binary min-heap of (deadline, seq); equal
 * deadlines fire in the order they were started.  No allocation after
 * hh_timers_init() except when the heap must grow.
 */
#ifndef HH_EVENT_H
#define HH_EVENT_H

#include "core/err.h"
#include "core/time.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum hh_ev_class {
    HH_EV_SIGNAL = 0,
    HH_EV_TIMER = 1,
    HH_EV_BROKER = 2,
    HH_EV_MARKET = 3,
};

/* The key every event is ordered by. */
struct hh_ev_key {
    hh_time_t t;
    enum hh_ev_class cls;
    uint64_t seq;
};

/* <0, 0, >0 as a comes before, with, after b.  Inline: the event loop
 * compares keys on every event. */
static inline int hh_ev_cmp(const struct hh_ev_key *a, const struct hh_ev_key *b)
{
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    if (a->cls != b->cls)
        return a->cls < b->cls ? -1 : 1;
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    return 0;
}

/* The engine clock: the time of the event being processed. */
struct hh_clock {
    hh_time_t now;     /* HH_TIME_NONE before the first event */
    bool simulated;    /* backtest: time comes from the data */
};

void hh_clock_init(struct hh_clock *c, bool simulated);

/* Move to t.  Returns HH_ESTATE (and keeps now) if t is before now:
 * events must be fed in order. */
int hh_clock_advance(struct hh_clock *c, hh_time_t t);

/* A timer: when it fires, `kind` and `arg` tell the owner what it was. */
struct hh_timer {
    hh_time_t deadline;
    uint64_t seq;      /* start order, breaks deadline ties */
    uint64_t id;       /* handle for cancelling */
    int kind;          /* owner-defined */
    uint64_t arg;      /* owner-defined */
};

struct hh_timers {
    struct hh_timer *heap;
    size_t n, cap;
    uint64_t next_seq;
};

int hh_timers_init(struct hh_timers *t, size_t cap);
void hh_timers_free(struct hh_timers *t);

/* Start a timer; *id (may be NULL) receives its handle. */
int hh_timers_start(struct hh_timers *t, hh_time_t deadline, int kind, uint64_t arg,
                    uint64_t *id);

/* Cancel by handle; HH_ENOTFOUND when it already fired or never existed. */
int hh_timers_cancel(struct hh_timers *t, uint64_t id);

/* Deadline of the earliest timer, HH_TIME_MAX when none. */
hh_time_t hh_timers_next(const struct hh_timers *t);

/* Pop the earliest timer with deadline <= now into *out; false when none. */
bool hh_timers_pop_due(struct hh_timers *t, hh_time_t now, struct hh_timer *out);

#endif
