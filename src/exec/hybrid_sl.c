/*
 * hybrid_sl.c — the hybrid stop-loss machine (see hybrid_sl.h).
 *
 * Invariants:
 *  - state MARKET, DONE (after a market) or FAILED only after `lim` is
 *    terminal: produce_market() is the one place creating the market
 *    order and it checks hh_ord_state_terminal(lim.state) first;
 *  - the market order's quantity is spec.qty - lim.filled with lim
 *    terminal, so lim.filled + mkt.qty == spec.qty;
 *  - after hh_hsl_abort() no market order is produced, whatever happens;
 *  - every action leaves act->deadline == h->deadline.
 */
#include "exec/hybrid_sl.h"

#include <stdio.h>
#include <string.h>

const char *hh_hsl_state_name(enum hh_hsl_state s)
{
    static const char *const names[] = {
        "IDLE", "PLACING", "WORKING", "CANCELLING", "MARKET", "DONE", "FAILED",
    };

    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

const char *hh_hsl_act_name(enum hh_hsl_act a)
{
    static const char *const names[] = {
        "NONE", "PLACE_LIMIT", "CANCEL", "POLL", "PLACE_MARKET", "DONE", "ALERT",
    };

    return (unsigned)a < sizeof names / sizeof names[0] ? names[a] : "?";
}

int hh_hsl_init(struct hh_hsl *h, const struct hh_hsl_config *cfg)
{
    memset(h, 0, sizeof *h);
    if (cfg->buffer_pct < 0 || cfg->buffer_pct >= 100 * HH_RATIO_SCALE || cfg->timeout < 0 ||
        cfg->confirm_poll <= 0)
        return HH_EINVAL;
    h->cfg = *cfg;
    h->state = HH_HSL_IDLE;
    h->deadline = HH_TIME_NONE;
    h->triggered_at = h->done_at = HH_TIME_NONE;
    return HH_OK;
}

void hh_hsl_free(struct hh_hsl *h)
{
    if (!h)
        return;
    if (h->lim_live)
        hh_ord_free(&h->lim);
    if (h->mkt_live)
        hh_ord_free(&h->mkt);
    h->lim_live = h->mkt_live = false;
}

hh_price_t hh_hsl_limit_price(enum hh_side side, hh_price_t trigger, hh_ratio_t buffer_pct,
                              hh_price_t tick)
{
    __int128 hundred = (__int128)100 * HH_RATIO_SCALE;
    __int128 n, d, q;

    if (tick <= 0 || trigger <= 0)
        return 0;
    n = (__int128)trigger * (side == HH_SELL ? hundred - buffer_pct : hundred + buffer_pct);
    d = hundred * tick;
    q = side == HH_SELL ? hh_i128_div_floor(n, d) : -hh_i128_div_floor(-n, d);
    q *= tick;
    return q > 0 && hh_i128_fits(q) ? (hh_price_t)q : 0;
}

static void act_none(struct hh_hsl *h, struct hh_hsl_action *act)
{
    memset(act, 0, sizeof *act);
    act->kind = HH_HSL_ACT_NONE;
    act->deadline = h->deadline;
}

static void finish(struct hh_hsl *h, enum hh_hsl_state st, hh_time_t now,
                   struct hh_hsl_action *act)
{
    h->state = st;
    h->deadline = HH_TIME_NONE;
    h->done_at = now;
    act_none(h, act);
    if (st == HH_HSL_DONE) {
        act->kind = HH_HSL_ACT_DONE;
    } else {
        act->kind = HH_HSL_ACT_ALERT;
        act->req.iid = h->spec.iid;
        act->req.side = h->spec.side;
        act->req.type = HH_ORD_MARKET;
        act->req.qty = h->spec.qty - hh_hsl_filled(h);
    }
}

/* The SL-LIMIT is terminal: market what it left, or finish. */
static int produce_market(struct hh_hsl *h, hh_time_t now, struct hh_hsl_action *act)
{
    struct hh_order_req req;
    hh_qty_t rem = h->spec.qty - h->lim.filled;
    int rc;

    HH_ASSERT(hh_ord_state_terminal(h->lim.state));
    if (rem <= 0 || h->aborted) {
        finish(h, HH_HSL_DONE, now, act);
        return HH_OK;
    }
    memset(&req, 0, sizeof req);
    memcpy(req.client_id, h->spec.market_client_id, sizeof req.client_id);
    req.iid = h->spec.iid;
    req.side = h->spec.side;
    req.type = HH_ORD_MARKET;
    req.qty = rem;
    if ((rc = hh_ord_init(&h->mkt, &req, now)))
        return rc;
    h->mkt_live = true;
    hh_ord_sent(&h->mkt, now, NULL);
    h->state = HH_HSL_MARKET;
    h->deadline = HH_TIME_NONE;
    act_none(h, act);
    act->kind = HH_HSL_ACT_PLACE_MARKET;
    act->req = req;
    return HH_OK;
}

static void produce_cancel(struct hh_hsl *h, hh_time_t now, struct hh_hsl_action *act)
{
    hh_ord_cancel(&h->lim, now, NULL, NULL);
    h->state = HH_HSL_CANCELLING;
    h->deadline = now + h->cfg.confirm_poll;
    h->cancels++;
    act_none(h, act);
    act->kind = HH_HSL_ACT_CANCEL;
    act->order_id = h->lim.order_id;
    act->leg = HH_HSL_LIMIT;
}

static void produce_poll(struct hh_hsl *h, hh_time_t now, struct hh_hsl_action *act)
{
    h->deadline = now + h->cfg.confirm_poll;
    h->polls++;
    act_none(h, act);
    act->kind = HH_HSL_ACT_POLL;
    act->order_id = h->lim.order_id;
}

/* Decide after the orders' states changed. */
static int evaluate(struct hh_hsl *h, hh_time_t now, struct hh_hsl_action *act)
{
    act_none(h, act);
    switch (h->state) {
    case HH_HSL_PLACING:
    case HH_HSL_WORKING:
    case HH_HSL_CANCELLING:
        if (h->lim.state == HH_OS_FILLED) {
            if (h->state == HH_HSL_CANCELLING)
                h->cancel_too_late = true;
            finish(h, HH_HSL_DONE, now, act);
            return HH_OK;
        }
        if (hh_ord_state_terminal(h->lim.state))
            return produce_market(h, now, act);
        return HH_OK;
    case HH_HSL_MARKET:
        if (h->mkt.state == HH_OS_FILLED ||
            (h->aborted && hh_ord_state_terminal(h->mkt.state)))
            finish(h, HH_HSL_DONE, now, act);
        else if (hh_ord_state_terminal(h->mkt.state))
            finish(h, HH_HSL_FAILED, now, act);
        return HH_OK;
    case HH_HSL_IDLE:
    case HH_HSL_DONE:
    case HH_HSL_FAILED:
        break;
    }
    return HH_OK;
}

int hh_hsl_trigger(struct hh_hsl *h, const struct hh_hsl_spec *spec, hh_time_t now,
                   struct hh_hsl_action *act)
{
    struct hh_order_req req;
    hh_price_t limit;
    int rc;

    act_none(h, act);
    if (h->state != HH_HSL_IDLE)
        return HH_ESTATE;
    if (spec->qty <= 0 || spec->trigger <= 0 || spec->tick <= 0 ||
        (spec->side != HH_BUY && spec->side != HH_SELL))
        return HH_EINVAL;
    limit = hh_hsl_limit_price(spec->side, spec->trigger, h->cfg.buffer_pct, spec->tick);
    if (!limit)
        return HH_EINVAL;
    h->spec = *spec;
    h->spec.limit_client_id[HH_CLIENT_ID_MAX - 1] = '\0';
    h->spec.market_client_id[HH_CLIENT_ID_MAX - 1] = '\0';
    memset(&req, 0, sizeof req);
    memcpy(req.client_id, h->spec.limit_client_id, sizeof req.client_id);
    req.iid = spec->iid;
    req.side = spec->side;
    req.type = HH_ORD_STOP_LIMIT;
    req.qty = spec->qty;
    req.trigger = spec->trigger;
    req.limit = limit;
    if ((rc = hh_ord_init(&h->lim, &req, now)))
        return rc;
    h->lim_live = true;
    hh_ord_sent(&h->lim, now, NULL);
    h->limit = limit;
    h->triggered_at = now;
    h->state = HH_HSL_PLACING;
    act->kind = HH_HSL_ACT_PLACE_LIMIT;
    act->req = req;
    return HH_OK;
}

/* The SL-LIMIT's id became known: its timeout starts. */
static void limit_working(struct hh_hsl *h, hh_time_t now)
{
    h->state = HH_HSL_WORKING;
    h->deadline = now + h->cfg.timeout;
}

int hh_hsl_placed(struct hh_hsl *h, enum hh_hsl_leg leg, uint64_t order_id, hh_time_t now,
                  struct hh_hsl_action *act)
{
    int rc;

    act_none(h, act);
    if (leg == HH_HSL_LIMIT) {
        if (h->state != HH_HSL_PLACING)
            return HH_ESTATE;
        if ((rc = hh_ord_placed(&h->lim, order_id, now, NULL)))
            return rc;
        limit_working(h, now);
        if (h->aborted)
            produce_cancel(h, now, act);   /* aborted before its id was known */
        act->deadline = h->deadline;
        return HH_OK;
    }
    if (h->state != HH_HSL_MARKET)
        return HH_ESTATE;
    return hh_ord_placed(&h->mkt, order_id, now, NULL);
}

int hh_hsl_place_failed(struct hh_hsl *h, enum hh_hsl_leg leg, hh_time_t now,
                        struct hh_hsl_action *act)
{
    act_none(h, act);
    if (leg == HH_HSL_LIMIT) {
        if (h->state != HH_HSL_PLACING)
            return HH_ESTATE;
        hh_ord_refused(&h->lim, now, NULL);
        return produce_market(h, now, act);
    }
    if (h->state != HH_HSL_MARKET)
        return HH_ESTATE;
    hh_ord_refused(&h->mkt, now, NULL);
    finish(h, HH_HSL_FAILED, now, act);
    return HH_OK;
}

int hh_hsl_abort(struct hh_hsl *h, hh_time_t now, struct hh_hsl_action *act)
{
    act_none(h, act);
    switch (h->state) {
    case HH_HSL_PLACING:      /* cancelled once placed (hh_hsl_placed) */
    case HH_HSL_CANCELLING:   /* ends without a market order */
        h->aborted = true;
        return HH_OK;
    case HH_HSL_WORKING:
        h->aborted = true;
        produce_cancel(h, now, act);
        return HH_OK;
    case HH_HSL_MARKET:
        h->aborted = true;
        hh_ord_cancel(&h->mkt, now, NULL, NULL);
        h->cancels++;
        act->kind = HH_HSL_ACT_CANCEL;
        act->order_id = h->mkt.order_id;
        act->leg = HH_HSL_MARKET_LEG;
        return HH_OK;
    case HH_HSL_IDLE:
    case HH_HSL_DONE:
    case HH_HSL_FAILED:
        break;
    }
    return HH_OK;
}

bool hh_hsl_owns(const struct hh_hsl *h, uint64_t order_id)
{
    return order_id && ((h->lim_live && h->lim.order_id == order_id) ||
                        (h->mkt_live && h->mkt.order_id == order_id));
}

int hh_hsl_on_report(struct hh_hsl *h, const struct hh_report *r, hh_time_t now,
                     struct hh_hsl_action *act, struct hh_diag *d)
{
    struct hh_ord *o;
    int rc;

    act_none(h, act);
    if (h->lim_live && r->order_id && r->order_id == h->lim.order_id)
        o = &h->lim;
    else if (h->mkt_live && r->order_id && r->order_id == h->mkt.order_id)
        o = &h->mkt;
    else
        return HH_ENOTFOUND;
    if ((rc = hh_ord_on_report(o, r, now, NULL, d)))
        return rc;
    return evaluate(h, now, act);
}

int hh_hsl_on_timer(struct hh_hsl *h, hh_time_t now, struct hh_hsl_action *act)
{
    act_none(h, act);
    if (h->deadline == HH_TIME_NONE || now < h->deadline)
        return HH_OK;
    switch (h->state) {
    case HH_HSL_WORKING:
        if (h->lim.filled >= h->spec.qty)
            return evaluate(h, now, act);
        produce_cancel(h, now, act);
        return HH_OK;
    case HH_HSL_CANCELLING:
        produce_poll(h, now, act);
        return HH_OK;
    default:
        h->deadline = HH_TIME_NONE;
        act->deadline = h->deadline;
        return HH_OK;
    }
}

int hh_hsl_cancel_result(struct hh_hsl *h, int rc, hh_time_t now,
                         struct hh_hsl_action *act)
{
    act_none(h, act);
    if (h->state != HH_HSL_CANCELLING)
        return HH_OK;       /* a report decided already */
    if (rc == HH_ESTATE || rc == HH_ENOTFOUND) {
        /* Not working any more: filled (too late), or ended otherwise.
         * Only the broker's view of it says which, and how much filled. */
        if (rc == HH_ESTATE)
            h->cancel_too_late = true;
        produce_poll(h, now, act);
    }
    /* OK: the CANCELLED report confirms; 503/timeout: the poll timer
     * finds out and cancels again if it is still working. */
    return HH_OK;
}

int hh_hsl_on_status(struct hh_hsl *h, const struct hh_broker_order *b, hh_time_t now,
                     struct hh_hsl_action *act, struct hh_diag *d)
{
    bool lim = h->lim_live && (h->lim.order_id ? b->order_id == h->lim.order_id
                                               : !strncmp(b->client_id, h->lim.req.client_id,
                                                          HH_CLIENT_ID_MAX));
    bool mkt = !lim && h->mkt_live &&
               (h->mkt.order_id ? b->order_id == h->mkt.order_id
                                : !strncmp(b->client_id, h->mkt.req.client_id,
                                           HH_CLIENT_ID_MAX));
    int rc;

    act_none(h, act);
    if (!lim && !mkt)
        return HH_ENOTFOUND;
    if ((rc = hh_ord_adopt(lim ? &h->lim : &h->mkt, b, now, NULL, NULL, d)))
        return rc;
    if (lim && h->state == HH_HSL_PLACING) {
        limit_working(h, now);          /* found by its client id */
        if (h->aborted && !hh_ord_state_terminal(h->lim.state)) {
            produce_cancel(h, now, act);
            return HH_OK;
        }
    }
    if (lim && h->state == HH_HSL_CANCELLING) {
        if (!hh_ord_state_terminal(h->lim.state)) {
            /* Still working: the cancel was lost or refused; ask again. */
            produce_cancel(h, now, act);
            return HH_OK;
        }
        h->resolved_by_poll = true;
    }
    return evaluate(h, now, act);
}

hh_qty_t hh_hsl_filled(const struct hh_hsl *h)
{
    return (h->lim_live ? h->lim.filled : 0) + (h->mkt_live ? h->mkt.filled : 0);
}

hh_qty_t hh_hsl_committed(const struct hh_hsl *h)
{
    if (h->state == HH_HSL_IDLE)
        return 0;
    if (h->state == HH_HSL_FAILED || (h->state == HH_HSL_DONE && h->aborted))
        return hh_hsl_filled(h);
    return h->spec.qty;
}
