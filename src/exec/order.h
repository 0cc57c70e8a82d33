/*
 * order.h — the order state machine (issue 6 item 2) and the reduce-only
 * rule for exits.
 *
 *                  ┌──────────────── fills ─────────────────┐
 *                  │                                        ▼
 *   NEW ──▶ SENT ──▶ OPEN ──▶ PARTIALLY_FILLED ──▶ ... ──▶ FILLED
 *    │       │       │  ▲          │  ▲                    ▲
 *    │       │       ▼  │ refused  ▼  │ refused            │ filled before
 *    │       └─▶ CANCEL_PENDING ◀──┘  │                    │ the cancel
 *    │              │    └────────────┴────────────────────┘
 *    │              ▼
 *    ├──────▶ CANCELLED      REJECTED (NEW: refused before sending; SENT,
 *    │                        OPEN, CANCEL_PENDING with nothing filled)
 *    └──────▶ REJECTED       EXPIRED  (any working state)
 *
 * The state is derived from quantities, like Zerodha's order book and FIX
 * (39 OrdStatus from 14 CumQty / 151 LeavesQty): a partial fill has no
 * status of its own at Indian brokers, so PARTIALLY_FILLED means
 * 0 < filled < qty on a working order.  Fills are applied by their
 * cumulative quantity (the report's `filled`) when the broker gives it, so
 * a fill report that is replayed, delayed past a status poll that already
 * counted it, or arrives after a dropped one never double counts; each
 * exec id is also remembered (a u64 set) and a repeat is refused as
 * HH_EEXIST.
 *
 * Refusals (for the audit; the order is unchanged, `d` says why):
 *   HH_EEXIST   duplicate exec id
 *   HH_ERANGE   a fill would take filled above qty
 *   HH_ESTATE   an illegal transition (ACK on a terminal order, a fill on
 *               a cancelled one, cancel of a filled order: "too late",
 *               FIX 102=0 TooLateToCancel ...)
 *   HH_EINVAL   a report for another order id, a non-positive fill
 *
 * Reconciliation (hh_ord_adopt) is not a transition: the broker wins, even
 * over a terminal local state (an order "cancelled" locally but filled at
 * the exchange becomes FILLED), and the result says whether the local
 * state merely lagged or contradicted the broker.
 *
 * Pure: no I/O, no clock (times come in as arguments).  One allocation:
 * the exec-id set, at hh_ord_init.  hh_ord_init_shared makes none: the
 * order records its exec ids in a set the caller shares between many
 * orders (a trading engine's: its orders are then plain values it can
 * store and copy byte for byte, the set beside them).
 */
#ifndef HH_ORDER_H
#define HH_ORDER_H

#include "core/model.h"
#include "core/err.h"
#include "core/u64map.h"

#include <stdbool.h>
#include <stdint.h>

struct hh_ord {
    struct hh_order_req req;     /* what was asked; req.qty follows modifies
                                    the broker confirmed */
    uint64_t order_id;           /* the broker's id; 0 until known */
    enum hh_ord_state state;
    hh_qty_t filled;             /* cumulative units executed */
    hh_money_t notional;         /* sum of price x qty of applied fills
                                    (set from the broker's average on adopt) */
    hh_time_t updated;           /* engine time of the last change */
    uint32_t fills;              /* fill reports applied (not refused) */
    struct hh_u64map execs;      /* exec ids seen -> order_id (owned; unused
                                    when `shared` is set) */
    struct hh_u64map *shared;    /* hh_ord_init_shared: the exec-id set of
                                    many orders (borrowed), else NULL */
};

/* What a call changed (optional out-parameter). */
struct hh_ord_effect {
    enum hh_ord_state from, to;
    hh_qty_t new_fill;           /* units newly known filled (may be < the
                                    report's qty after a poll counted some,
                                    or more when an earlier report was lost;
                                    negative only when adopt corrects a local
                                    state that was ahead of the broker) */
    hh_price_t price;            /* FILL: its price */
    bool stale;                  /* the report changed nothing (already
                                    known: a late or replayed report) */
};

/* Result of reconciliation against the broker's view of the order. */
enum hh_ord_adopt_result {
    HH_ORD_SAME,                 /* nothing to change */
    HH_ORD_CAUGHT_UP,            /* local lagged (SENT -> OPEN, more filled,
                                    a terminal state not yet reported) */
    HH_ORD_DIVERGED,             /* local contradicted the broker (a
                                    different terminal state, more filled
                                    locally, another quantity): audit it */
};

/* Start an order in state NEW (req copied).  HH_EINVAL for qty <= 0;
 * HH_ENOMEM. */
int hh_ord_init(struct hh_ord *o, const struct hh_order_req *req, hh_time_t now);

/* Start an order in state NEW without an allocation: its fills' exec ids
 * go to `execs` (borrowed, must outlive o; exec id -> the order id that
 * applied it), shared with other orders.  An exec id is a duplicate for
 * this order when the set maps it to this order's id; another order's
 * use of the same id (two exchanges' numbering) is not, and takes the
 * entry over — cumulative quantities still de-duplicate that one.  o holds
 * no allocation of its own: it may be copied byte for byte (set `shared`
 * again after restoring a copy made elsewhere).  HH_EINVAL for qty <= 0. */
int hh_ord_init_shared(struct hh_ord *o, const struct hh_order_req *req, hh_time_t now,
                       struct hh_u64map *execs);

void hh_ord_free(struct hh_ord *o);     /* accepts NULL; frees an owned exec set */

/* Legal edges of the machine (used by every transition below). */
bool hh_ord_transition_ok(enum hh_ord_state from, enum hh_ord_state to);

/* NEW -> SENT: the placement request is on its way. */
int hh_ord_sent(struct hh_ord *o, hh_time_t now, struct hh_diag *d);

/* The broker's id became known (place() returned, or the order was found
 * by its client id after a timeout).  HH_ESTATE when another id is set. */
int hh_ord_placed(struct hh_ord *o, uint64_t order_id, hh_time_t now, struct hh_diag *d);

/* The order was refused before reaching the broker (breaker open, retries
 * exhausted on 503s, rejected synchronously): NEW or SENT -> REJECTED.
 * Only for orders known not to exist at the broker. */
int hh_ord_refused(struct hh_ord *o, hh_time_t now, struct hh_diag *d);

/* An order the broker never gave an id, known not to be at the broker (a
 * placement never made, refused with 503s, or of unknown outcome and not
 * found by its client id), is given up by us: NEW, SENT or
 * CANCEL_PENDING -> CANCELLED.  HH_ESTATE once it has a broker id (then
 * only the broker can end it: hh_ord_cancel) or in any other state. */
int hh_ord_withdrawn(struct hh_ord *o, hh_time_t now, struct hh_diag *d);

/*
 * Apply a report from the stream (r->order_id must be o->order_id).
 *   ACK        SENT -> OPEN; a repeat on a working order changes nothing
 *   FILL       filled := r->filled (or filled + r->qty when the broker
 *              gives no cumulative); FILLED at qty; CANCEL_PENDING stays
 *              until complete (r->leaves is not trusted: an order whose
 *              reduction was never reported stays PARTIALLY_FILLED until
 *              hh_ord_adopt)
 *   CANCELLED  working -> CANCELLED (filled := max(filled, r->filled))
 *   REJECTED   SENT, OPEN, CANCEL_PENDING (nothing filled) -> REJECTED
 *   EXPIRED    working -> EXPIRED
 *   MODIFIED   qty := r->filled + r->leaves on a working order
 * Returns HH_OK (eff filled in; eff->stale when nothing changed) or a
 * refusal (see above) with the reason in d.  eff and d may be NULL.
 */
int hh_ord_on_report(struct hh_ord *o, const struct hh_report *r, hh_time_t now,
                     struct hh_ord_effect *eff, struct hh_diag *d);

/*
 * Ask to cancel.  NEW -> CANCELLED (never sent: nothing to ask the broker;
 * *send = false); SENT, OPEN, PARTIAL -> CANCEL_PENDING (*send = true: call
 * the broker); CANCEL_PENDING: no change, *send = true (asking again is
 * harmless).  FILLED: HH_ESTATE "too late: filled" (FIX 102=0); other
 * terminal states: HH_ESTATE.  send may be NULL.
 */
int hh_ord_cancel(struct hh_ord *o, hh_time_t now, bool *send, struct hh_diag *d);

/* The broker refused the cancel ("too late" while the order may have
 * filled or is still working, HH_ENOTFOUND, retries exhausted):
 * CANCEL_PENDING -> OPEN / PARTIALLY_FILLED by filled.  No-op in any
 * other state (a fill or cancel report already decided). */
int hh_ord_cancel_refused(struct hh_ord *o, hh_time_t now, struct hh_diag *d);

/*
 * Reconcile with the broker's view b (from status/find/orders): the broker
 * wins.  Adopts order id (when unknown), qty, filled, average price and
 * state; a local CANCEL_PENDING is kept while the broker still shows the
 * order working.  *res (may be NULL) classifies the change; the text in d
 * names what differed ("state OPEN -> FILLED, filled 0 -> 100").
 * HH_EINVAL when b is another order (ids differ, or client ids when the id
 * is unknown).
 */
int hh_ord_adopt(struct hh_ord *o, const struct hh_broker_order *b, hh_time_t now,
                 enum hh_ord_adopt_result *res, struct hh_ord_effect *eff,
                 struct hh_diag *d);

/* Does the local order agree with the broker's view?  (Same id, qty,
 * filled and state, a local CANCEL_PENDING agreeing with a working one.) */
bool hh_ord_matches(const struct hh_ord *o, const struct hh_broker_order *b);

/* Units still to fill: qty - filled. */
hh_qty_t hh_ord_leaves(const struct hh_ord *o);

/* Units the order may still execute: 0 when terminal, else qty - filled
 * (NEW and SENT included: an order of unknown outcome may fill). */
hh_qty_t hh_ord_open_qty(const struct hh_ord *o);

/* Average fill price (0 when nothing filled), rounded half-up to 1/10,000. */
hh_price_t hh_ord_avg_price(const struct hh_ord *o);

/*
 * Reduce-only: the quantity an exit order on `exit_side` may have, given
 * the live net position `position` (signed: long > 0) and `pending`, the
 * units other working exits of that position may still execute (the sum
 * of hh_ord_open_qty() over them, orders of unknown outcome included).
 * Returns min(wanted, |position| - pending), 0 when the side does not
 * reduce the position or nothing is left: an exit can never take the
 * position through zero, alone or together with the others.  Use it when
 * placing an exit and again whenever the position changes (a partial
 * fill, another exit's fill): a stop never outlives or exceeds its
 * position.
 */
hh_qty_t hh_ord_exit_qty(hh_qty_t position, enum hh_side exit_side, hh_qty_t pending,
                         hh_qty_t wanted);

#endif
