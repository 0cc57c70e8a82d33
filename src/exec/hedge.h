/*
 * hedge.h — the emergency hedge manager (seed fix #3).
 *
 * When a short option leg is filled beyond what protects it (its bucket's
 * long fills), the engine hedges the difference.  A cascade of partial
 * fills must not become a cascade of hedges, and hedges must never exceed
 * the exposure, so per hedge key (a bucket: option type and expiry of a
 * group, or an underlying found naked at start-up):
 *   - the amount hedged now is `unmatched - already hedged`, where already
 *     hedged counts filled AND in-flight hedges (cumulative per key);
 *   - at most one hedge per debounce interval (exec.hedge_debounce_ms);
 *   - never more than the unmatched quantity at the time of the decision.
 * Pure bookkeeping: no orders, no clock; the caller passes engine time and
 * reports what its hedge orders did.
 */
#ifndef HH_HEDGE_H
#define HH_HEDGE_H

#include "core/fixed.h"
#include "core/time.h"

#include <stdbool.h>
#include <stdint.h>

#define HH_HEDGE_KEYS_MAX 16

struct hh_hedge_key_state {
    uint64_t key;
    hh_qty_t filled;          /* hedge units executed */
    hh_qty_t pending;         /* hedge units ordered, not yet filled or failed */
    hh_time_t last;           /* time of the last hedge decision (HH_TIME_NONE) */
    uint32_t hedges;          /* decisions that ordered a hedge */
};

struct hh_hedge_mgr {
    int64_t debounce;         /* ns */
    int nkeys;
    struct hh_hedge_key_state k[HH_HEDGE_KEYS_MAX];
};

void hh_hedge_init(struct hh_hedge_mgr *m, int64_t debounce);

/*
 * Units to hedge now for `key` with `unmatched` short units exposed at
 * `now`: 0 when nothing is exposed beyond what is hedged or in flight, or
 * when the last hedge of this key was less than the debounce interval ago.
 * A positive answer is recorded as pending.
 */
hh_qty_t hh_hedge_decide(struct hh_hedge_mgr *m, uint64_t key, hh_qty_t unmatched,
                         hh_time_t now);

/* A hedge order of `key` filled `qty` units, or ended without `qty` units
 * (cancelled, rejected): pending moves to filled, or is released. */
void hh_hedge_filled(struct hh_hedge_mgr *m, uint64_t key, hh_qty_t qty);
void hh_hedge_released(struct hh_hedge_mgr *m, uint64_t key, hh_qty_t qty);

/* Drop a key whose exposure is over (its group closed): frees its slot. */
void hh_hedge_forget(struct hh_hedge_mgr *m, uint64_t key);

/* Units hedged (filled) and in flight for a key (0 for an unknown key). */
hh_qty_t hh_hedge_filled_qty(const struct hh_hedge_mgr *m, uint64_t key);
hh_qty_t hh_hedge_pending_qty(const struct hh_hedge_mgr *m, uint64_t key);

#endif
