/*
 * loop.h — the one event loop: every mode's events, in the one order.
 *
 * Everything that happens to the core comes from a source: market data,
 * accepted signals arriving, engine timers, broker reports, a runner's own
 * inputs (signal lines, reconciliation polls, API commands).  A source
 * tells what its next event is (peek) and delivers it (take); the loop
 * repeatedly takes from the source whose next event comes first in the
 * order of core/event.h — time, then class (signals, timers, broker
 * reports, market data), then sequence.  `backtest` and `run` differ only
 * in the sources they add and the clock behind them; a new broker or a new
 * signal source is a new source, never an edit here.
 *
 * Sources that cannot tell their next event yet (an adapter thread has not
 * delivered; a followed file not caught up) answer PENDING with a lower
 * bound of its key.  The loop never takes an event a pending source could
 * still precede: it waits (the runner's wait hook) until that source moves
 * or the bound passes.  Backtests have no pending source and no wait hook.
 *
 * A source may deliver several events per take (market data in a tight
 * loop) while their keys stay below `bound`, the earliest key any other
 * source may produce; the core's own sources (timers, the broker) can move
 * earlier while it delivers, so a batching source also stops before the
 * engine's own next event (hh_eng_next_internal).
 *
 * Like libuv's uv_run:
 *
 *   while not stopped:
 *       best  = the source with the earliest READY key
 *       bound = the earliest key (READY or PENDING bound) of every other source
 *       if no source is READY: all ended -> return; else wait
 *       if a PENDING bound is not after best: wait
 *       take(best, bound)
 */
#ifndef HH_LOOP_H
#define HH_LOOP_H

#include "core/event.h"

#include <stdatomic.h>
#include <stdbool.h>

enum hh_src_state {
    HH_SRC_READY,      /* *key is its next event */
    HH_SRC_PENDING,    /* its next event is not known yet; *key bounds it from below */
    HH_SRC_END,        /* nothing more, ever */
};

struct hh_source_ops {
    enum hh_src_state (*peek)(void *impl, struct hh_ev_key *key);
    /* Deliver the next event (and more while their keys stay before bound).
     * A non-zero return stops the loop with that code. */
    int (*take)(void *impl, const struct hh_ev_key *bound);
};

struct hh_source {
    const struct hh_source_ops *ops;
    void *impl;
    const char *name;            /* for logs */
    /* Optional, for a source another thread feeds: a counter that thread
     * moves after each delivery.  While the source answers PENDING and its
     * bell has not moved, the loop keeps that answer instead of asking at
     * every event; it asks again when the bell moves, after every wait,
     * after every event that is not market data, and every
     * HH_LOOP_RECHECK events (a peek may also look at the core's state). */
    const atomic_uint *bell;
};

#define HH_LOOP_SOURCES_MAX 12
#define HH_LOOP_RECHECK 64

struct hh_loop {
    struct hh_source src[HH_LOOP_SOURCES_MAX];
    int n;
    /* Run only: block until a pending source may have moved (an adapter
     * queued something) or, when `next` is not NULL, its time has come on
     * the runner's clock.  NULL: no source is ever pending. */
    void (*wait)(void *ctx, const struct hh_ev_key *next);
    /* Asked to stop (signals, a failure): checked before every take. */
    bool (*stopped)(void *ctx);
    void *ctx;
    uint64_t takes;              /* takes so far (tests, progress) */
    /* the answers kept for belled sources (hh_source.bell) */
    bool quiet[HH_LOOP_SOURCES_MAX];
    unsigned heard[HH_LOOP_SOURCES_MAX];
    struct hh_ev_key quiet_key[HH_LOOP_SOURCES_MAX];
    unsigned since_recheck;
};

/* An empty loop. */
void hh_loop_init(struct hh_loop *L);

/* Add a source (borrowed).  HH_EFULL past HH_LOOP_SOURCES_MAX. */
int hh_loop_add(struct hh_loop *L, struct hh_source s);

/*
 * Run until every source has ended (HH_OK), the stop hook says so (HH_OK),
 * or a take fails (its code).  A pending source with no wait hook is a
 * programming error: HH_ESTATE.
 */
int hh_loop_run(struct hh_loop *L);

#endif
