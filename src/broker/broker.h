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

#include "core/model.h"

#include <stdbool.h>
#include <stdint.h>

/* Where a broker delivers reports; called on the core's thread. */
typedef void (*hh_report_fn)(void *ctx, const struct hh_report *r);

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
    /* Brokers whose reports arrive after the call that caused them (the
     * paper broker's delayed stream, a live adapter's socket): the engine
     * time of the next report due (HH_TIME_MAX when none; 0 when some wait
     * now), and delivering those due at the clock's time to the sink.  The
     * event loop calls them (a BROKER-class source).  NULL for a broker that
     * reports during its calls (the simulated exchange). */
    hh_time_t (*next_due)(void *impl);
    void (*pump)(void *impl);
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
    /* The margin the broker requires for reqs[0..n) placed together, given
     * what the account holds (the multi-leg pre-trade check); NULL when the
     * broker has no such figure (the simulated ones).  HH_EUNAVAIL /
     * HH_ETIMEOUT when it could not be asked. */
    int (*basket_margin)(void *impl, const struct hh_order_req *reqs, size_t n,
                         hh_money_t *required);
};

struct hh_broker {
    const struct hh_broker_ops *ops;
    void *impl;
};

#endif
