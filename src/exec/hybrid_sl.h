/*
 * hybrid_sl.h — the hybrid stop-loss (seed fix #5): a stop-limit first,
 * a market order for what it left — but only once it can no longer fill.
 *
 *  trigger ──▶ PLACING ──placed──▶ WORKING ──complete──────────────▶ DONE
 *   (SL-LIMIT     │                  │ not complete after timeout
 *    at trigger,  │ refused          ▼
 *    limit =      │ (not at    CANCELLING ──FILLED report / status─▶ DONE
 *    trigger -+   │  broker)     │   ▲ │      (cancel lost the race:
 *    buffer)      │              │   │ │       no market order)
 *                 │              │   └─┘ status shows it working,
 *                 │              │       cancel again
 *                 │              │ CANCELLED report, or a status poll
 *                 │              │ finds it terminal (ack lost)
 *                 ▼              ▼
 *              MARKET (exactly qty - filled of the SL-LIMIT) ──filled──▶ DONE
 *                 │ rejected / cancelled
 *                 ▼
 *               FAILED (alert: the remainder is still held)
 *
 * The limit is trigger x (1 - buffer) rounded down to the tick for a sell
 * (protecting a long), trigger x (1 + buffer) rounded up for a buy: away
 * from the market, so rounding never narrows the protection.
 *
 * The safety rule: the MARKET order is only ever produced after the
 * SL-LIMIT is known terminal — a CANCELLED / REJECTED / EXPIRED report, or
 * a status poll showing it terminal.  A cancel request that returns OK, a
 * timeout or a lost acknowledgement never produce it: the machine waits,
 * polling status every `confirm_poll`, and re-sends the cancel when the
 * order is still working.  So a market order and a stop-limit for the same
 * quantity can never both be live, and the two together never sell more
 * than the stop's quantity.
 *
 * Pure: the engine feeds events (trigger, placement results, reports,
 * status answers, timer expiries) and gets back one action at a time —
 * place the SL-LIMIT, cancel it, poll its status, place a market order of
 * qty X, done, alert — plus the deadline at which it wants
 * hh_hsl_on_timer() called.  The machine keeps the two orders' state
 * machines (struct hh_ord): fills are de-duplicated by exec id and
 * counted by cumulative quantity.  Reports for its orders must be routed
 * to hh_hsl_on_report() (hh_hsl_owns() tells them apart).
 */
#ifndef HH_HYBRID_SL_H
#define HH_HYBRID_SL_H

#include "core/model.h"
#include "exec/order.h"

#include <stdbool.h>
#include <stdint.h>

struct hh_hsl_config {
    hh_ratio_t buffer_pct;   /* limit beyond the trigger, percent (ratio
                                units: 0.5 % = HH_RATIO_SCALE / 2) */
    int64_t timeout;         /* ns the SL-LIMIT may work before the cancel */
    int64_t confirm_poll;    /* ns between status polls while the cancel is
                                unconfirmed (> 0) */
};

enum hh_hsl_state {
    HH_HSL_IDLE,             /* not triggered */
    HH_HSL_PLACING,          /* SL-LIMIT sent, broker id not yet known */
    HH_HSL_WORKING,          /* SL-LIMIT working, timeout running */
    HH_HSL_CANCELLING,       /* cancel asked, waiting for confirmation */
    HH_HSL_MARKET,           /* market order for the remainder out */
    HH_HSL_DONE,             /* the whole quantity is executed */
    HH_HSL_FAILED,           /* the market order did not execute: alert */
};

const char *hh_hsl_state_name(enum hh_hsl_state s);

enum hh_hsl_act {
    HH_HSL_ACT_NONE,
    HH_HSL_ACT_PLACE_LIMIT,  /* place `req` (an SL-LIMIT: HH_ORD_STOP_LIMIT) */
    HH_HSL_ACT_CANCEL,       /* cancel `order_id` */
    HH_HSL_ACT_POLL,         /* ask the broker for the status of `order_id`
                                and pass the answer to hh_hsl_on_status() */
    HH_HSL_ACT_PLACE_MARKET, /* place `req` (HH_ORD_MARKET, req.qty units) */
    HH_HSL_ACT_DONE,         /* finished; nothing more will be asked */
    HH_HSL_ACT_ALERT,        /* FAILED: `req.qty` units remain unsold */
};

const char *hh_hsl_act_name(enum hh_hsl_act a);

/* Which order a report or result concerns. */
enum hh_hsl_leg { HH_HSL_LIMIT, HH_HSL_MARKET_LEG };

struct hh_hsl_action {
    enum hh_hsl_act kind;
    struct hh_order_req req;     /* PLACE_*: the order; ALERT: qty left */
    uint64_t order_id;           /* CANCEL, POLL */
    enum hh_hsl_leg leg;         /* CANCEL, POLL: which of its orders */
    hh_time_t deadline;          /* call hh_hsl_on_timer() at this time;
                                    HH_TIME_NONE: no timer wanted */
};

struct hh_hsl_spec {
    hh_iid_t iid;
    enum hh_side side;           /* of the exit: SELL protects a long */
    hh_qty_t qty;                /* > 0: units to exit (reduce-only: the
                                    caller computed it from the position) */
    hh_price_t trigger;          /* > 0 */
    hh_price_t tick;             /* > 0: the instrument's tick */
    char limit_client_id[HH_CLIENT_ID_MAX];   /* ids of the two orders */
    char market_client_id[HH_CLIENT_ID_MAX];
};

struct hh_hsl {
    struct hh_hsl_config cfg;
    struct hh_hsl_spec spec;
    enum hh_hsl_state state;
    struct hh_ord lim;           /* the SL-LIMIT (valid from PLACING on) */
    struct hh_ord mkt;           /* the market order (valid in MARKET on) */
    bool lim_live, mkt_live;     /* lim / mkt initialised (owned, freed) */
    hh_price_t limit;            /* the SL-LIMIT's limit price */
    hh_time_t deadline;          /* pending timer, HH_TIME_NONE */
    hh_time_t triggered_at, done_at;
    /* what happened, for the audit and the tests */
    uint32_t cancels;            /* cancel requests produced */
    uint32_t polls;              /* status polls produced */
    bool cancel_too_late;        /* the cancel found the order filled */
    bool resolved_by_poll;       /* the cancel was confirmed by a status poll */
    bool aborted;                /* hh_hsl_abort(): no market order follows */
};

/* Set up an idle machine (cfg copied).  HH_EINVAL for a negative buffer,
 * timeout or a non-positive confirm_poll. */
int hh_hsl_init(struct hh_hsl *h, const struct hh_hsl_config *cfg);
void hh_hsl_free(struct hh_hsl *h);      /* accepts NULL */

/* The limit price for a trigger (see above); 0 when it would not be
 * positive. */
hh_price_t hh_hsl_limit_price(enum hh_side side, hh_price_t trigger, hh_ratio_t buffer_pct,
                              hh_price_t tick);

/* The stop triggered at `now`: IDLE -> PLACING, act = PLACE_LIMIT.
 * HH_ESTATE when not idle, HH_EINVAL for a bad spec. */
int hh_hsl_trigger(struct hh_hsl *h, const struct hh_hsl_spec *spec, hh_time_t now,
                   struct hh_hsl_action *act);

/* A placement of `leg` returned the broker id (or the order was found by
 * its client id after a timeout).  LIMIT: PLACING -> WORKING, the timeout
 * starts (act.deadline). */
int hh_hsl_placed(struct hh_hsl *h, enum hh_hsl_leg leg, uint64_t order_id, hh_time_t now,
                  struct hh_hsl_action *act);

/* A placement of `leg` failed and the order certainly does not exist at
 * the broker (rejected, or 503s until the caller gave up — never after a
 * timeout whose order may exist).  LIMIT: nothing can fill, so MARKET for
 * the whole quantity; MARKET: FAILED, act = ALERT. */
int hh_hsl_place_failed(struct hh_hsl *h, enum hh_hsl_leg leg, hh_time_t now,
                        struct hh_hsl_action *act);

/*
 * The position the stop protects is gone (the broker's view gave it up):
 * nothing more may be sold.  No market order is produced from now on; a
 * working SL-LIMIT is cancelled (act CANCEL, at once — or as soon as its
 * id is known when still PLACING), a market order already out is
 * cancelled (act CANCEL of the MARKET leg).  The machine ends DONE once its
 * orders are terminal, with whatever they executed.
 */
int hh_hsl_abort(struct hh_hsl *h, hh_time_t now, struct hh_hsl_action *act);

/* Does report/order id `order_id` belong to this machine? */
bool hh_hsl_owns(const struct hh_hsl *h, uint64_t order_id);

/* A report for one of its orders.  Refusals of the order state machine
 * (duplicate exec id: HH_EEXIST, ...) are returned with act NONE and
 * change nothing; d says why.  HH_ENOTFOUND for another order's report. */
int hh_hsl_on_report(struct hh_hsl *h, const struct hh_report *r, hh_time_t now,
                     struct hh_hsl_action *act, struct hh_diag *d);

/* The timer set by act.deadline fired (earlier calls change nothing).
 * WORKING and not complete: act = CANCEL.  CANCELLING: act = POLL. */
int hh_hsl_on_timer(struct hh_hsl *h, hh_time_t now, struct hh_hsl_action *act);

/* The result of the cancel call.  HH_OK: wait for the confirmation.
 * HH_ESTATE ("too late") / HH_ENOTFOUND: act = POLL (learn the final
 * state).  HH_EUNAVAIL / HH_ETIMEOUT: wait; the confirm-poll timer polls
 * and cancels again. */
int hh_hsl_cancel_result(struct hh_hsl *h, int rc, hh_time_t now,
                         struct hh_hsl_action *act);

/* The broker's answer to a status poll (or a reconciliation) for one of
 * its orders: adopted (the broker wins), then as for a report. */
int hh_hsl_on_status(struct hh_hsl *h, const struct hh_broker_order *b, hh_time_t now,
                     struct hh_hsl_action *act, struct hh_diag *d);

/* Units the machine has sold or may still sell: 0 when idle, else the
 * stop's quantity until a failure (then what was executed).  For the
 * reduce-only sum of pending exits: subtract what it has filled. */
hh_qty_t hh_hsl_committed(const struct hh_hsl *h);

/* Units executed by its two orders. */
hh_qty_t hh_hsl_filled(const struct hh_hsl *h);

#endif
