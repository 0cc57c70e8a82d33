/*
 * hedge.h — the emergency hedge manager (seed fix #3).
 *
 * When a short option leg is filled beyond what protects it (its bucket's
 * long fills), the engine hedges the difference.  A cascade of partial
 * fills must not become a cascade of hedges, and hedges must never exceed
 * the exposure, so per bucket (option type and expiry of a group) one
 * struct hh_hedge keeps:
 *   - the amount hedged now is `unmatched - held - pending`: hedges held
 *     AND in flight count (a hedge sold again no longer does);
 *   - at most one hedge per debounce interval (exec.hedge_debounce_ms);
 *   - never more than the unmatched quantity at the time of the decision.
 * Pure bookkeeping: no orders, no clock; the caller passes engine time and
 * reports what its hedge orders did.  The state lives with its bucket, so
 * there is no limit on how many buckets hedge at once.
 */
#ifndef HH_HEDGE_H
#define HH_HEDGE_H

#include "core/fixed.h"
#include "core/time.h"

#include <stdbool.h>
#include <stdint.h>

struct hh_hedge {
    hh_qty_t held;            /* hedge units bought and not sold */
    hh_qty_t pending;         /* hedge units ordered, not yet filled or failed */
    hh_time_t last;           /* time of the last hedge decision (HH_TIME_NONE) */
    uint32_t hedges;          /* decisions that ordered a hedge */
};

void hh_hedge_init(struct hh_hedge *h);

/*
 * Units to hedge now with `unmatched` short units exposed (before hedges)
 * at `now`: 0 when nothing is exposed beyond what is held or in flight, or
 * when the last hedge was less than `debounce` ns ago.  A positive answer
 * is recorded as pending.
 */
hh_qty_t hh_hedge_decide(struct hh_hedge *h, int64_t debounce, hh_qty_t unmatched,
                         hh_time_t now);

/* A hedge order filled `qty` units, or ended without `qty` units
 * (cancelled, rejected): pending moves to held, or is released. */
void hh_hedge_filled(struct hh_hedge *h, hh_qty_t qty);
void hh_hedge_released(struct hh_hedge *h, hh_qty_t qty);

/* `qty` hedge units were sold (the group closing, or gone at the broker):
 * they protect nothing any more. */
void hh_hedge_sold(struct hh_hedge *h, hh_qty_t qty);

#endif
