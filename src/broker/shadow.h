/*
 * shadow.h — the shadow broker (`hedgehog run --mode shadow`): shows every
 * order the engine would place and sends nothing to a real broker.
 *
 * It is the paper broker's book and simulated exchange — market data
 * reaches it, so orders fill exactly as in paper mode and every later
 * entry and exit of the session happens — and it calls `on_order` for each
 * order it accepts (the run logs it as "would place").
 */
#ifndef HH_SHADOW_H
#define HH_SHADOW_H

#include "broker/paper.h"

struct hh_shadow {
    struct hh_broker inner;
    struct hh_broker_ops ops;
    void (*on_order)(void *ctx, const struct hh_order_req *req, uint64_t order_id);
    void *ctx;
};

/* The shadow broker around paper broker p (valid while s and p live). */
struct hh_broker hh_shadow_broker(struct hh_shadow *s, struct hh_paper *p);

#endif
