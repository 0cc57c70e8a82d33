/*
 * simex.h — the simulated exchange: market, limit, stop-market and
 * stop-limit orders matched against ticks and bars, behind the broker
 * interface (broker.h).
 *
 * Matching rules (SPEC §5, §5a; long shown, short the mirror):
 *  - A tick is one point.  A bar is the path open -> nearer extreme ->
 *    farther extreme -> close (nearer = closer to the open; a tie goes to
 *    the low first for sells' benefit... see bar_path() — for the position
 *    being protected: low first when it is long, high first when short).
 *  - At a point with price P: a market order fills at P; a sell stop with
 *    trigger >= P fills at P; a sell limit with limit <= P fills at P on a
 *    bar point and at its limit on a tick (SPEC: "a tick at or above a target
 *    fills it at the target's price").
 *  - Along a bar segment, levels fill in the order the path meets them: a
 *    limit at its limit, a stop at its trigger.
 *  - Market and stop fills move against the order by the slippage model
 *    (ticks, or basis points of the price rounded half-up to the tick);
 *    limit fills never slip.
 *  - Effectiveness: an order placed before a point is effective at it; an
 *    order placed while a point is being matched (e.g. exits placed from an
 *    entry's fill) is matched at that same point; a price change takes
 *    effect from the next point of the path, or the next tick.
 *  - Optional realism for tests of execution logic: per-order latency,
 *    liquidity (a share of each tick's or bar's volume), rejections.
 *
 * Reports (fills, cancels, rejections) go synchronously to the registered
 * sink, on the caller's thread, in a deterministic order.
 */
#ifndef HH_SIMEX_H
#define HH_SIMEX_H

#include "broker/broker.h"
#include "core/event.h"

struct hh_simex_config {
    int64_t slippage_ticks;      /* ticks against market and stop fills */
    hh_ratio_t slippage_bps;     /* or basis points of the price (ratio units) */
    int64_t latency;             /* ns from placement to being matchable */
    bool liquidity;              /* limit fills to a share of traded volume */
    hh_ratio_t fill_ratio;       /* that share (with liquidity) */
    hh_ratio_t reject_ratio;     /* share of placements the exchange rejects
                                    when they first reach the market (async) */
    uint64_t seed;               /* for reject_ratio: deterministic per seed */
};

struct hh_simex;

/* inst and clock are borrowed; clock->now is the placement time. */
struct hh_simex *hh_simex_new(const struct hh_instruments *inst,
                              const struct hh_clock *clock,
                              const struct hh_simex_config *cfg);
void hh_simex_free(struct hh_simex *ex);   /* accepts NULL */

/* The broker interface of this exchange (valid while ex lives). */
struct hh_broker hh_simex_broker(struct hh_simex *ex);

/* Reject the next n placements (test hook for rejection handling). */
void hh_simex_reject_next(struct hh_simex *ex, int n);

/* The price moved against `side` by the slippage model, for instrument
 * `in` (never below one tick). */
hh_price_t hh_simex_slipped(const struct hh_simex_config *cfg,
                            const struct hh_instrument *in, enum hh_side side,
                            hh_price_t p);

/* Number of working (non-terminal) orders. */
size_t hh_simex_working(const struct hh_simex *ex);

#endif
