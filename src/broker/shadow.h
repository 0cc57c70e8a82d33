/*
 * shadow.h — the shadow broker (`hedgehog run --mode shadow`): records the
 * orders the engine would place and sends nothing.
 *
 * It keeps an order book — the paper broker's, with matching switched off:
 * no market data reaches it, so nothing ever fills — so that cancellations,
 * queries, reconciliation and restarts behave as in paper mode, and calls
 * `on_order` for each order it accepts (the run logs and audits it as
 * "would place").
 */
#ifndef HH_SHADOW_H
#define HH_SHADOW_H

#include "broker/paper.h"

struct hh_shadow {
    struct hh_paper *p;                /* borrowed */
    struct hh_broker inner;
    struct hh_broker_ops ops;
    void (*on_order)(void *ctx, const struct hh_order_req *req, uint64_t order_id);
    void *ctx;
};

/* The shadow broker around paper broker p (valid while s and p live). */
struct hh_broker hh_shadow_broker(struct hh_shadow *s, struct hh_paper *p);

#endif
