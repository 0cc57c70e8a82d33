/*
 * shadow.c — the broker of `hedgehog run --mode shadow`: it shows every
 * order the engine would place over the session and sends nothing to any
 * real broker.
 *
 * It is the paper broker (the simulated exchange, without latency or
 * faults: the run configures it so) behind a recorder: every call and every
 * tick and bar go to the paper book, so orders fill against the simulated
 * market exactly as in paper mode and the trade life cycle goes on — exits,
 * then the next entries.  Each accepted order is handed to the run
 * (on_order) to be logged as "would place".
 */
#include "broker/shadow.h"

static int sh_place(void *impl, const struct hh_order_req *req, uint64_t *order_id)
{
    struct hh_shadow *s = impl;
    int rc = s->inner.ops->place(s->inner.impl, req, order_id);

    if (rc == HH_OK && s->on_order)
        s->on_order(s->ctx, req, *order_id);
    return rc;
}

static int sh_modify(void *impl, uint64_t id, hh_qty_t qty, hh_price_t limit, hh_price_t trigger)
{
    struct hh_shadow *s = impl;

    return s->inner.ops->modify(s->inner.impl, id, qty, limit, trigger);
}

static int sh_cancel(void *impl, uint64_t id)
{
    struct hh_shadow *s = impl;

    return s->inner.ops->cancel(s->inner.impl, id);
}

static void sh_on_tick(void *impl, const struct hh_tick *t)
{
    struct hh_shadow *s = impl;

    s->inner.ops->on_tick(s->inner.impl, t);
}

static void sh_on_bar(void *impl, const struct hh_bar *b)
{
    struct hh_shadow *s = impl;

    s->inner.ops->on_bar(s->inner.impl, b);
}

static void sh_set_sink(void *impl, hh_report_fn fn, void *ctx)
{
    struct hh_shadow *s = impl;

    s->inner.ops->set_sink(s->inner.impl, fn, ctx);
}

static hh_time_t sh_next_due(void *impl)
{
    struct hh_shadow *s = impl;

    return s->inner.ops->next_due(s->inner.impl);
}

static void sh_pump(void *impl)
{
    struct hh_shadow *s = impl;

    s->inner.ops->pump(s->inner.impl);
}

static int sh_find(void *impl, const char *cid, struct hh_broker_order *out)
{
    struct hh_shadow *s = impl;

    return s->inner.ops->find(s->inner.impl, cid, out);
}

static int sh_status(void *impl, uint64_t id, struct hh_broker_order *out)
{
    struct hh_shadow *s = impl;

    return s->inner.ops->status(s->inner.impl, id, out);
}

static int sh_orders(void *impl, struct hh_broker_order *out, size_t cap, size_t *n)
{
    struct hh_shadow *s = impl;

    return s->inner.ops->orders(s->inner.impl, out, cap, n);
}

static int sh_positions(void *impl, struct hh_broker_position *out, size_t cap, size_t *n)
{
    struct hh_shadow *s = impl;

    return s->inner.ops->positions(s->inner.impl, out, cap, n);
}

static int sh_funds(void *impl, hh_money_t *available)
{
    struct hh_shadow *s = impl;

    return s->inner.ops->funds(s->inner.impl, available);
}

struct hh_broker hh_shadow_broker(struct hh_shadow *s, struct hh_paper *p)
{
    s->inner = hh_paper_broker(p);
    s->ops = (struct hh_broker_ops){
        .place = sh_place, .modify = sh_modify, .cancel = sh_cancel,
        .on_tick = sh_on_tick, .on_bar = sh_on_bar,
        .set_sink = sh_set_sink, .next_due = sh_next_due, .pump = sh_pump,
        .find = sh_find, .status = sh_status,
        .orders = sh_orders, .positions = sh_positions, .funds = sh_funds,
    };
    return (struct hh_broker){ &s->ops, s };
}
