/*
 * sink.c — the trade manager's events as records (journal.h lists what
 * each becomes): orders placed, changed, cancelled and reported; fills with
 * the net position they leave; closed trades; rejections and drops; alerts
 * and breaker transitions.  Each callback first calls the runner's own sink,
 * then adds its records to the step.
 *
 * Invariant: callbacks only add pending records and update the bookkeeping
 * (book.c); they never submit, so what one event causes commits with the
 * rest of its step.
 */
#include "journal/journal_int.h"

#include <stdio.h>
#include <string.h>

/* The trade_state transition of the signal's trade. */
static void transition(struct hh_journal *p, const struct hh_signal *s, enum hh_store_tstate st,
                       hh_time_t at, const char *detail)
{
    hh_journal__transition(p, s->id, hh_signal_corr(s), st, at, detail);
}

/* ---- orders ---------------------------------------------------------------------- */

/* The orders upsert describing o now. */
static void put_order(struct hh_journal *p, const struct ord *o, uint64_t oid, hh_time_t at)
{
    struct hh_store_rec *r = hh_journal__rec(p, HH_STORE_ORDER);

    if (!r)
        return;
    r->u.order.client_id = hh_journal__keep(p, o->req.client_id);
    r->u.order.order_id = oid;
    r->u.order.trade_key = o->trade_key[0] ? hh_journal__keep(p, o->trade_key) : NULL;
    r->u.order.symbol = hh_journal__keep(p, hh_journal__sym(p, o->req.iid));
    r->u.order.side = o->req.side;
    r->u.order.type = o->req.type;
    r->u.order.qty = o->req.qty;
    r->u.order.limit = o->req.limit;
    r->u.order.trigger = o->req.trigger;
    r->u.order.state = o->state;
    r->u.order.at = at;
}

static void payload_order(struct hh_journal *p, const char *client, uint64_t oid,
                          const struct hh_order_req *q, uint32_t trade_id)
{
    hh_json_str(&p->j, "client_id", client);
    if (oid)
        hh_json_uint(&p->j, "order_id", oid);
    hh_json_str(&p->j, "symbol", hh_journal__sym(p, q->iid));
    hh_json_str(&p->j, "side", hh_side_name(q->side));
    hh_json_str(&p->j, "type", hh_ord_type_name(q->type));
    hh_json_int(&p->j, "qty", q->qty);
    if (q->limit)
        hh_journal__payload_fx(p, "limit", q->limit);
    if (q->trigger)
        hh_journal__payload_fx(p, "trigger", q->trigger);
    if (trade_id)
        hh_json_uint(&p->j, "trade_id", trade_id);
}

static void on_sent(struct hh_journal *p, const struct hh_tm_order_event *e, bool failed)
{
    const struct hh_order_req *q = e->req;
    const char *corr = hh_signal_corr(e->sig);
    struct ord tmp, *o = &tmp;

    if (!failed && e->order_id && !(o = hh_journal__ord_add(p, e->order_id)))
        return;
    memset(o, 0, sizeof *o);
    o->next_free = -1;
    o->req = *q;
    snprintf(o->trade_key, sizeof o->trade_key, "%s", e->sig->id);
    /* the engine's order machine says (a timeout leaves the outcome
     * unknown: SENT, not terminal: reconciliation looks its tag up) */
    o->state = e->state;
    put_order(p, o, e->order_id, e->ts);
    hh_journal__payload_begin(p);
    payload_order(p, q->client_id, e->order_id, q, e->trade_id);
    if (failed) {
        hh_json_bool(&p->j, "send_failed", true);
        hh_json_str(&p->j, "error", hh_strerror(e->rc));
        hh_json_str(&p->j, "outcome", e->rc == HH_ETIMEOUT ? "unknown" : "not placed");
    }
    hh_journal__audit(p, failed ? HH_AUDIT_ORDER_REJECTED : HH_AUDIT_ORDER_SENT, e->ts, corr);
}

static void on_modify(struct hh_journal *p, const struct hh_tm_order_event *e)
{
    struct ord *o = hh_journal__ord_get(p, e->order_id);

    if (!o)
        return;
    if (e->qty)
        o->req.qty = e->qty;
    if (e->limit)
        o->req.limit = e->limit;
    if (e->trigger)
        o->req.trigger = e->trigger;
    put_order(p, o, e->order_id, e->ts);
}

static void on_cancel(struct hh_journal *p, const struct hh_tm_order_event *e)
{
    struct ord *o = hh_journal__ord_get(p, e->order_id);

    if (!o || hh_ord_state_terminal(o->state))
        return;
    o->state = e->state;
    put_order(p, o, e->order_id, e->ts);
}

/* The audit row of a report other than a fill (ORDER_FILLED comes with
 * the fill): acknowledged, cancelled or expired, rejected, modified. */
static void report_audit(struct hh_journal *p, const struct hh_tm_order_event *e,
                         const struct ord *o, hh_time_t at)
{
    const struct hh_report *r = e->report;
    enum hh_audit_kind kind = HH_AUDIT_ORDER_ACKNOWLEDGED;

    hh_journal__payload_begin(p);
    hh_json_uint(&p->j, "order_id", r->order_id);
    hh_json_str(&p->j, "client_id", o ? o->req.client_id : NULL);
    if (r->kind == HH_RPT_CANCELLED || r->kind == HH_RPT_EXPIRED) {
        kind = HH_AUDIT_ORDER_CANCELLED;
        hh_json_int(&p->j, "filled", r->filled);
        if (r->kind == HH_RPT_EXPIRED)
            hh_json_bool(&p->j, "expired", true);
    } else if (r->kind == HH_RPT_REJECTED) {
        kind = HH_AUDIT_ORDER_REJECTED;
    } else if (r->kind == HH_RPT_MODIFIED) {
        hh_json_bool(&p->j, "modified", true);
        hh_json_int(&p->j, "leaves", r->leaves);
    }
    if (r->reason[0])
        hh_json_str(&p->j, "reason", r->reason);
    hh_journal__audit(p, kind, at, hh_signal_corr(e->sig));
}

static void on_report(struct hh_journal *p, const struct hh_tm_order_event *e)
{
    const struct hh_report *r = e->report;
    struct ord *o;
    struct hh_store_rec *ev = hh_journal__rec(p, HH_STORE_ORDER_EVENT);
    hh_time_t at = r->ts != HH_TIME_NONE ? r->ts : e->ts;

    if (!ev)
        return;
    hh_journal__ord_forget(p, p->forget_oid);
    p->forget_oid = 0;
    o = hh_journal__ord_get(p, r->order_id);
    hh_store_order_event_from_report(r, o ? o->req.client_id : NULL, &ev->u.order_event);
    ev->u.order_event.at = at;
    ev->u.order_event.client_id = hh_journal__keep(p, ev->u.order_event.client_id);
    ev->u.order_event.reason = hh_journal__keep(p, ev->u.order_event.reason);
    if (r->kind == HH_RPT_FILL) {
        p->last_exec_order = r->order_id;
        p->last_exec_id = r->exec_id;
    }
    if (o) {
        /* the engine's order machine says (it refused what it did not
         * apply: such a report never gets here) */
        o->state = e->state;
        if (r->kind == HH_RPT_MODIFIED && r->filled + r->leaves > 0)
            o->req.qty = r->filled + r->leaves;
        put_order(p, o, r->order_id, at);
    }
    if (r->kind != HH_RPT_FILL)
        report_audit(p, e, o, at);
    if (o && hh_ord_state_terminal(o->state)) {
        if (r->kind == HH_RPT_FILL)
            p->forget_oid = r->order_id;   /* its fill (next) names it */
        else
            hh_journal__ord_forget(p, r->order_id);
    }
}

/* ---- sink callbacks -------------------------------------------------------------- */

/* The fills row; it carries the execution id of the report before it. */
static void fill_row(struct hh_journal *p, const struct hh_tm_fill *f)
{
    struct hh_store_rec *r = hh_journal__rec(p, HH_STORE_FILL);

    if (!r)
        return;
    r->u.fill.ts = f->ts;
    r->u.fill.order_id = f->order_id;
    r->u.fill.trade_id = f->trade_id;
    r->u.fill.signal_id = hh_journal__keep(p, f->sig->id);
    r->u.fill.symbol = hh_journal__keep(p, hh_journal__sym(p, f->iid));
    r->u.fill.side = f->side;
    r->u.fill.qty = f->qty;
    r->u.fill.price = f->price;
    r->u.fill.reason = hh_fill_reason_name(f->reason);
    r->u.fill.charges = f->charges;
    if (f->order_id && f->order_id == p->last_exec_order)
        r->u.fill.exec_id = p->last_exec_id;
    p->last_exec_order = p->last_exec_id = 0;
}

/* ORDER_FILLED; an order its report left terminal is forgotten now. */
static void fill_audit(struct hh_journal *p, const struct hh_tm_fill *f)
{
    const struct ord *o = hh_journal__ord_get(p, f->order_id);

    hh_journal__payload_begin(p);
    if (f->order_id)
        hh_json_uint(&p->j, "order_id", f->order_id);
    if (o)
        hh_json_str(&p->j, "client_id", o->req.client_id);
    if (p->forget_oid == f->order_id) {
        hh_journal__ord_forget(p, p->forget_oid);
        p->forget_oid = 0;
    }
    hh_json_uint(&p->j, "trade_id", f->trade_id);
    hh_json_str(&p->j, "symbol", hh_journal__sym(p, f->iid));
    hh_json_str(&p->j, "side", hh_side_name(f->side));
    hh_json_int(&p->j, "qty", f->qty);
    hh_journal__payload_fx(p, "price", f->price);
    hh_json_str(&p->j, "reason", hh_fill_reason_name(f->reason));
    hh_journal__payload_fx(p, "charges", f->charges);
    hh_journal__audit(p, HH_AUDIT_ORDER_FILLED, f->ts, hh_signal_corr(f->sig));
}

/* The positions upsert of the fill's instrument, net after the fill. */
static void fill_position(struct hh_journal *p, const struct hh_tm_fill *f)
{
    struct hh_position *ps = hh_journal__position(p, f->iid);
    struct hh_store_rec *r;

    if (!ps) {
        hh_journal__latch(p, HH_ENOMEM, "out of memory recording the run");
        return;
    }
    if (hh_position_apply(ps, f->side, f->qty, f->price)) {
        hh_journal__latch(p, HH_EOVERFLOW, "position of %s overflows",
                          hh_journal__sym(p, f->iid));
        return;
    }
    r = hh_journal__rec(p, HH_STORE_POSITION);
    if (!r)
        return;
    r->u.position.symbol = hh_journal__keep(p, hh_journal__sym(p, f->iid));
    r->u.position.qty = ps->qty;
    r->u.position.avg_price = ps->avg;
    r->u.position.realised = ps->realised;
    r->u.position.at = f->ts;
}

static void s_fill(void *ctx, const struct hh_tm_fill *f)
{
    struct hh_journal *p = ctx;

    if (p->inner.fill)
        p->inner.fill(p->inner.ctx, f);
    if (p->rc)
        return;
    fill_row(p, f);
    if (p->rc)
        return;
    fill_audit(p, f);
    fill_position(p, f);
    if (!p->rc && f->reason == HH_FR_ENTRY)
        transition(p, f->sig, HH_TS_OPEN, f->ts, NULL);
}

static void s_closed(void *ctx, const struct hh_tm_trade *t)
{
    struct hh_journal *p = ctx;
    struct hh_store_rec *r;

    if (p->inner.closed)
        p->inner.closed(p->inner.ctx, t);
    r = hh_journal__rec(p, HH_STORE_TRADE);
    if (!r)
        return;
    r->u.trade.trade_id = t->trade_id;
    r->u.trade.signal_id = hh_journal__keep(p, t->sig->id);
    r->u.trade.symbol = hh_journal__keep(p, hh_journal__sym(p, t->iid));
    r->u.trade.side = t->side;
    r->u.trade.qty = t->qty;
    r->u.trade.entry_ts = t->entry_ts;
    r->u.trade.entry_price = t->entry_price;
    r->u.trade.exit_ts = t->exit_ts;
    r->u.trade.avg_exit_price = t->avg_exit_price;
    r->u.trade.exit_reason = hh_fill_reason_name(t->exit_reason);
    r->u.trade.gross = t->gross;
    r->u.trade.charges = t->charges;
    r->u.trade.net = t->net;
    r->u.trade.r_multiple_x100 = t->r_multiple;
    transition(p, t->sig, HH_TS_CLOSED, t->exit_ts, hh_fill_reason_name(t->exit_reason));
}

static void s_rejected(void *ctx, const struct hh_signal *s, enum hh_sig_reason why,
                       const char *detail)
{
    struct hh_journal *p = ctx;
    hh_time_t at = HH_TIME_NONE;   /* now: the step's time, set at submit */

    if (p->inner.rejected)
        p->inner.rejected(p->inner.ctx, s, why, detail);
    transition(p, s, HH_TS_DROPPED, at, hh_sig_reason_name(why));
    hh_journal__payload_begin(p);
    hh_json_str(&p->j, "id", s->id);
    hh_json_str(&p->j, "reason", hh_sig_reason_name(why));
    hh_json_str(&p->j, "detail", detail);
    hh_journal__audit(p, HH_AUDIT_RISK_REJECTED, at, hh_signal_corr(s));
}

static void s_dropped(void *ctx, const struct hh_signal *s, enum hh_tm_drop why, hh_time_t at)
{
    struct hh_journal *p = ctx;

    if (p->inner.dropped)
        p->inner.dropped(p->inner.ctx, s, why, at);
    transition(p, s, HH_TS_DROPPED, at, hh_tm_drop_name(why));
}

static void s_order(void *ctx, const struct hh_tm_order_event *e)
{
    struct hh_journal *p = ctx;

    if (p->inner.order)
        p->inner.order(p->inner.ctx, e);
    if (p->rc)
        return;
    switch (e->kind) {
    case HH_TMO_SENT:
        on_sent(p, e, false);
        break;
    case HH_TMO_SEND_FAILED:
        on_sent(p, e, true);
        break;
    case HH_TMO_MODIFY:
        on_modify(p, e);
        break;
    case HH_TMO_CANCEL:
        on_cancel(p, e);
        break;
    case HH_TMO_REPORT:
        on_report(p, e);
        break;
    }
}

/* ---- alerts ---------------------------------------------------------------------- */

/* Alerts worth a row in the audit trail: what an operator must see, the
 * steps of an uncertain placement or a hybrid stop, and everything an
 * order's state machine refused (a stale fill it merely ignored, rc 0,
 * is not a refusal). */
static bool alert_audited(const struct hh_tm_alert *a)
{
    return a->alert || a->kind == HH_TMA_PLACE_UNKNOWN || a->kind == HH_TMA_PLACE_FOUND ||
           a->kind == HH_TMA_STOP_MARKET || a->kind == HH_TMA_STOP_FAILED ||
           a->kind == HH_TMA_ILLEGAL_TRANSITION || a->kind == HH_TMA_BAD_REPORT ||
           a->kind == HH_TMA_EXIT_CAPPED || a->kind == HH_TMA_GIVEN_UP ||
           a->kind == HH_TMA_HEDGE || (a->kind == HH_TMA_DUP_FILL && a->rc);
}

static void s_alert(void *actx, const struct hh_tm_alert *a)
{
    struct hh_journal *p = actx;

    if (p->inner.alert)
        p->inner.alert(p->inner.alert_ctx, a);
    if (p->rc)
        return;
    if (a->kind == HH_TMA_BREAKER) {
        hh_journal__payload_begin(p);
        hh_json_str(&p->j, "from", hh_breaker_state_name(a->brk->from));
        hh_json_str(&p->j, "to", hh_breaker_state_name(a->brk->to));
        hh_json_str(&p->j, "why", a->brk->why);
        hh_json_int(&p->j, "failures", a->brk->failures);
        hh_json_bool(&p->j, "alert", a->alert);
        hh_journal__audit(p, HH_AUDIT_BREAKER, a->ts, NULL);
        return;
    }
    if (!alert_audited(a))
        return;
    hh_journal__payload_begin(p);
    hh_json_str(&p->j, "alert", hh_tm_alert_name(a->kind));
    hh_json_str(&p->j, "client_id", a->client_id ? a->client_id : "");
    hh_json_uint(&p->j, "order_id", a->order_id);
    hh_json_int(&p->j, "qty", a->qty);
    hh_json_str(&p->j, "error", a->rc ? hh_strerror(a->rc) : "");
    hh_json_str(&p->j, "detail", a->detail ? a->detail : "");
    hh_json_bool(&p->j, "operator_alert", a->alert);
    hh_journal__audit(p, HH_AUDIT_ALERT, a->ts, a->sig ? hh_signal_corr(a->sig) : NULL);
}

void hh_journal_sink(struct hh_journal *p, const struct hh_tm_sink *inner,
                     struct hh_tm_sink *out)
{
    p->inner = *inner;
    out->fill = s_fill;
    out->closed = s_closed;
    out->rejected = s_rejected;
    out->dropped = s_dropped;
    out->order = s_order;
    out->ctx = p;
    out->alert = s_alert;
    out->alert_ctx = p;
}

