/*
 * broker.h — the broker interface: what the core may ask of a broker and
 * what a broker reports back.
 *
 * The core talks to every broker — the simulated exchange of backtests, the
 * paper broker, a live adapter — through struct hh_broker: a table of
 * operations (like SQLite's sqlite3_vfs) and an opaque implementation.  The
 * core never computes a fill: it places, modifies and cancels orders, and
 * learns of acknowledgements, fills, cancellations and rejections through
 * reports delivered to the sink it registered.
 *
 * Brokers that sit on market data (simulated ones) also receive each tick
 * and bar through on_tick / on_bar, which live adapters leave NULL.
 */
#ifndef HH_BROKER_H
#define HH_BROKER_H

#include "core/fixed.h"
#include "core/instrument.h"
#include "core/time.h"
#include "market/mdfile.h"
#include "signal/signal.h"

#include <stdbool.h>
#include <stdint.h>

enum hh_ord_type {
    HH_ORD_MARKET,
    HH_ORD_LIMIT,
    HH_ORD_STOP,        /* stop-market (SL-M): market once the trigger trades */
    HH_ORD_STOP_LIMIT,  /* stop-limit (SL): limit order once triggered */
};

/* Order life cycle (issue: broker resilience extends the transitions). */
enum hh_ord_state {
    HH_OS_NEW,
    HH_OS_SENT,
    HH_OS_OPEN,
    HH_OS_PARTIAL,
    HH_OS_FILLED,
    HH_OS_CANCEL_PENDING,
    HH_OS_CANCELLED,
    HH_OS_REJECTED,
    HH_OS_EXPIRED,
};

const char *hh_ord_type_name(enum hh_ord_type t);
const char *hh_ord_state_name(enum hh_ord_state s);
bool hh_ord_state_terminal(enum hh_ord_state s);

#define HH_CLIENT_ID_MAX 24   /* the broker's tag holds <= 20 chars */

struct hh_order_req {
    char client_id[HH_CLIENT_ID_MAX];  /* deterministic: trade, leg, attempt */
    hh_iid_t iid;
    enum hh_side side;
    enum hh_ord_type type;
    hh_qty_t qty;                      /* units */
    hh_price_t limit;                  /* LIMIT, STOP_LIMIT */
    hh_price_t trigger;                /* STOP, STOP_LIMIT */
};

enum hh_report_kind {
    HH_RPT_ACK,          /* accepted, working */
    HH_RPT_FILL,         /* a (partial) execution */
    HH_RPT_CANCELLED,
    HH_RPT_REJECTED,
    HH_RPT_MODIFIED,
    HH_RPT_EXPIRED,
};

struct hh_report {
    enum hh_report_kind kind;
    uint64_t order_id;                 /* broker-assigned */
    hh_time_t ts;                      /* event time (bar start on bar data) */
    hh_iid_t iid;
    enum hh_side side;
    hh_qty_t qty;                      /* FILL: this execution */
    hh_price_t price;                  /* FILL: execution price */
    hh_qty_t filled;                   /* cumulative filled */
    hh_qty_t leaves;                   /* still working */
    uint64_t exec_id;                  /* FILL: unique per execution */
    char reason[64];                   /* REJECTED/CANCELLED: why */
};

/* Where a broker delivers reports; called on the core's thread. */
typedef void (*hh_report_fn)(void *ctx, const struct hh_report *r);

/* An order as the broker's order book shows it. */
struct hh_broker_order {
    uint64_t order_id;
    char client_id[HH_CLIENT_ID_MAX];  /* the tag we gave it */
    hh_iid_t iid;
    enum hh_side side;
    enum hh_ord_type type;
    enum hh_ord_state state;           /* OPEN, PARTIAL, FILLED, CANCELLED, ... */
    hh_qty_t qty, filled;
    hh_price_t limit, trigger;
    hh_price_t avg_price;              /* of the filled part */
};

/* A net position at the broker (signed units: long > 0). */
struct hh_broker_position {
    hh_iid_t iid;
    hh_qty_t qty;
    hh_price_t avg_price;
};

struct hh_broker_ops {
    /* Place; *order_id receives the broker's id.  Errors: HH_EUNAVAIL,
     * HH_ETIMEOUT (outcome unknown), HH_EBROKER (rejected at once). */
    int (*place)(void *impl, const struct hh_order_req *req, uint64_t *order_id);
    /* Change quantity and/or prices of a working order (0 = unchanged). */
    int (*modify)(void *impl, uint64_t order_id, hh_qty_t qty, hh_price_t limit,
                  hh_price_t trigger);
    /* Request cancellation; the CANCELLED report confirms it. */
    int (*cancel)(void *impl, uint64_t order_id);
    /* Simulated brokers only: market data drives matching (else NULL). */
    void (*on_tick)(void *impl, const struct hh_tick *t);
    void (*on_bar)(void *impl, const struct hh_bar *b);
    /* Register the report sink. */
    void (*set_sink)(void *impl, hh_report_fn fn, void *ctx);
    /* Queries (NULL when a broker cannot answer them).  The order book
     * search by client id is what makes a retried placement safe: before
     * placing again after a timeout, look the tag up.  HH_ENOTFOUND when
     * absent; HH_EUNAVAIL / HH_ETIMEOUT like place(). */
    int (*find)(void *impl, const char *client_id, struct hh_broker_order *out);
    int (*status)(void *impl, uint64_t order_id, struct hh_broker_order *out);
    /* Fill out[0..cap) and *n (total, may exceed cap). */
    int (*orders)(void *impl, struct hh_broker_order *out, size_t cap, size_t *n);
    int (*positions)(void *impl, struct hh_broker_position *out, size_t cap, size_t *n);
    int (*funds)(void *impl, hh_money_t *available);
    /* Brokers whose reports arrive on threads of their own (live adapters;
     * NULL for the others).  next_due: when pump() has something to do —
     * 0 now, HH_TIME_MAX nothing.  pump: deliver what is queued to the sink,
     * on the core's thread. */
    hh_time_t (*next_due)(void *impl);
    void (*pump)(void *impl);
};

struct hh_broker {
    const struct hh_broker_ops *ops;
    void *impl;
};

#endif
