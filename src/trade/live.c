/*
 * live.c — the trade manager's live mode (HH_TM_LIVE; contract in trade.h,
 * enum hh_tm_mode): the space between the engine and a remote broker.
 *
 * Orders.  A decision to place is write-ahead: hh_tm__place() only queues
 * the order (PS_QUEUED, an engine key in ref->oid, the request with its
 * deterministic client id in ref->req).  The runner makes the state durable
 * (the checkpoint holds the queued order) and calls hh_tm_send(), which
 * talks to the broker, always through the circuit breaker:
 *
 *   QUEUED ──place OK──────────────────────────────▶ PLACED (boid known)
 *     │ 503: RETRY at the backoff's time (an entry gives up after
 *     │      broker.retry.attempts: BROKER_UNAVAILABLE; an exit never)
 *     │ timeout: FINDING — find(client id) at the backoff's time:
 *     │      found ▶ PLACED (its state adopted); absent ▶ QUEUED again,
 *     │      the same client id; 503 ▶ look again later
 *     │ rejected at once: the order ends (a synthetic REJECTED report)
 *     └ breaker open: an entry is rejected BROKER_UNAVAILABLE at once, an
 *       exit waits for the breaker's cool-off
 *
 * hh_tm_send() makes only the calls that were due when it was called (one
 * round): what their answers decide is queued for the next round, after
 * the next checkpoint.  A queued order restored from a checkpoint may have
 * been sent before the crash: it becomes FINDING, looked up, never sent
 * twice.
 * Cancellations are queued the same way (CS_WANTED -> CS_SENT) and stay
 * unconfirmed until a CANCELLED report, or a status query (asked
 * exec.sl_confirm_poll after the cancel), shows the order terminal: an
 * order is `done` only on the broker's word.
 *
 * States.  Each order's state is its state machine's (ref->ord,
 * exec/order.h): NEW while queued or refused by a 503, SENT once the
 * broker may have it (place() answered or timed out, or a queued order
 * restored after a crash), then what the broker's reports and the
 * reconciliation polls make it; a cancel decided is CANCEL_PENDING until
 * the broker ends the order.  Every report goes through the machine before
 * the owner books it; what the machine refuses (a duplicate exec id, a
 * fill above the quantity or on a terminal order, an ACK on a terminal
 * order...) is not applied, is counted and goes to the alert sink with the
 * machine's reason (the persisting sink audits it).
 *
 * Reports.  Fills are applied by their cumulative quantity: a duplicate, a
 * replay or a report overtaken by a poll adds nothing; a terminal report
 * whose `filled` is ahead of ours first books the missing part.
 *
 * Exits.  The stop is the engine's: when a tick trades at or through the
 * level (the signal's stop, the entry after T1 with breakeven) the trade's
 * exit intent becomes STOP; at the square-off time SQUAREOFF.  Then the
 * entry's remainder and the targets are cancelled, and only when every one
 * of them is terminal (so nothing else can sell) is the exit sent for the
 * live position (hh_ord_exit_qty): the hybrid stop-loss (exec/hybrid_sl.h)
 * for a stop, a market order for a square-off.  A trade closes when it is
 * flat and every order of it is terminal.
 *
 * Invariants:
 *  - Σ (qty - filled) over a trade's non-terminal exit orders <= its
 *    position: exits are reduce-only, alone and together;
 *  - a hybrid stop's market order exists only after its SL-LIMIT is
 *    terminal (hybrid_sl.c) — and here only then is it queued;
 *  - every broker call is made from hh_tm_send() or hh_tm_poll(), at the
 *    engine's time, in ref order: a replay makes the same calls.
 */
#include "trade/tm_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIRM_POLL_DEFAULT HH_NS_PER_S

const char *hh_tm_alert_name(enum hh_tm_alert_kind k)
{
    static const char *const names[] = {
        "BREAKER", "RETRY", "GAVE_UP", "PLACE_UNKNOWN", "PLACE_FOUND", "PLACE_ABSENT",
        "STOP_TRIGGERED", "STOP_MARKET", "STOP_DONE", "STOP_FAILED", "SQUAREOFF",
        "DUP_FILL", "BAD_REPORT", "HEDGE_IMBALANCE", "ILLEGAL_TRANSITION",
    };

    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

static hh_time_t now_of(const struct hh_tm *tm)
{
    return tm->clock->now == HH_TIME_NONE ? 0 : tm->clock->now;
}

static enum hh_side opposite(enum hh_side s)
{
    return s == HH_BUY ? HH_SELL : HH_BUY;
}

/* ---- sink ------------------------------------------------------------------ */

void hh_tm__alert(struct hh_tm *tm, enum hh_tm_alert_kind kind, bool alert,
                  const struct hh_signal *sig, const struct order_ref *ref, int rc, hh_qty_t qty,
                  const char *detail)
{
    struct hh_tm_alert a;

    if (!tm->sink.alert)
        return;
    memset(&a, 0, sizeof a);
    a.kind = kind;
    a.ts = now_of(tm);
    a.alert = alert;
    a.sig = sig;
    a.client_id = ref ? ref->req.client_id : NULL;
    a.order_id = ref ? ref->boid : 0;
    a.rc = rc;
    a.qty = qty;
    a.detail = detail;
    tm->sink.alert(tm->sink.alert_ctx, &a);
}

static const struct hh_signal *owner_sig(const struct hh_tm *tm, const struct order_ref *ref)
{
    return ref->group ? &tm->groups[ref->trade].sig : &tm->trades[ref->trade].sig;
}

static void alert_ref(struct hh_tm *tm, enum hh_tm_alert_kind kind, bool alert,
                      const struct order_ref *ref, int rc, hh_qty_t qty, const char *detail)
{
    hh_tm__alert(tm, kind, alert, ref ? owner_sig(tm, ref) : NULL, ref, rc, qty, detail);
}

static void on_transition(void *ctx, const struct hh_breaker_transition *t)
{
    struct hh_tm *tm = ctx;
    struct hh_tm_alert a;

    tm->changes++;
    if (!tm->sink.alert)
        return;
    memset(&a, 0, sizeof a);
    a.kind = HH_TMA_BREAKER;
    a.ts = t->at;
    a.alert = t->alert;
    a.brk = t;
    a.detail = t->why;
    tm->sink.alert(tm->sink.alert_ctx, &a);
}

/* ---- life cycle -------------------------------------------------------------- */

int hh_tm__live_init(struct hh_tm *tm)
{
    struct hh_tm_config *c = &tm->cfg;
    struct hh_hsl probe;
    int rc;

    tm->live.timer_at = HH_TIME_NONE;
    if (c->mode != HH_TM_LIVE)
        return HH_OK;
    if (c->retry.attempts <= 0)
        c->retry = (struct hh_retry_policy){ 3, HH_NS_PER_S, 8 * HH_NS_PER_S,
                                             HH_RATIO_SCALE / 5 };
    if (c->breaker.failures <= 0)
        c->breaker = (struct hh_breaker_config){ 5, 30 * HH_NS_PER_S, 20 * HH_NS_PER_S };
    if (c->hsl.confirm_poll <= 0)
        c->hsl.confirm_poll = CONFIRM_POLL_DEFAULT;
    if (hh_hsl_init(&probe, &c->hsl))
        return HH_EINVAL;
    if ((rc = hh_retry_init(&tm->live.retry, &c->retry, c->retry_seed ? c->retry_seed : 1)))
        return rc;
    if ((rc = hh_u64map_init(&tm->live.by_boid, 1024)))
        return rc;
    if ((rc = hh_u64map_init(&tm->live.execs, 1024)))
        return rc;
    if ((rc = hh_breaker_init(&tm->live.brk, &c->breaker, on_transition, tm)))
        return rc;
    tm->live.on = true;
    return HH_OK;
}

void hh_tm__live_free(struct hh_tm *tm)
{
    if (!tm->live.on)
        return;
    for (size_t i = 0; i < tm->live.nhsl; i++)
        if (tm->live.hsl[i].used)
            hh_hsl_free(&tm->live.hsl[i].h);
    free(tm->live.hsl);
    free(tm->live.obuf);
    free(tm->live.pbuf);
    free(tm->live.round);
    hh_u64map_free(&tm->live.by_boid);
    hh_u64map_free(&tm->live.execs);
    hh_breaker_free(&tm->live.brk);
}

const struct hh_tm_live_stats *hh_tm_live_stats(const struct hh_tm *tm)
{
    return &tm->live.stats;
}

enum hh_breaker_state hh_tm_breaker_state(const struct hh_tm *tm)
{
    return tm->live.on ? tm->live.brk.state : HH_BRK_CLOSED;
}

void hh_tm_set_cursor(struct hh_tm *tm, const struct hh_tm_cursor *c, bool change)
{
    if (memcmp(&tm->cursor, c, sizeof *c) == 0)
        return;
    tm->cursor = *c;
    if (change)
        tm->changes++;
}

void hh_tm_get_cursor(const struct hh_tm *tm, struct hh_tm_cursor *out)
{
    *out = tm->cursor;
}

/* ---- refs ---------------------------------------------------------------------- */

struct order_ref *hh_tm__ref_by_boid(struct hh_tm *tm, uint64_t boid)
{
    uint64_t v;

    return boid && hh_u64map_get(&tm->live.by_boid, boid, &v) ? &tm->refs[v - 1] : NULL;
}

static size_t idx_of(const struct hh_tm *tm, const struct order_ref *ref)
{
    return (size_t)(ref - tm->refs);
}

int hh_tm__live_place(struct hh_tm *tm, struct order_ref *ref, uint64_t *oid)
{
    int rc = hh_ord_init_shared(&ref->ord, &ref->req, now_of(tm), &tm->live.execs);

    if (rc)
        return rc;
    ref->oid = ++tm->live.next_key;
    ref->boid = 0;
    ref->pstate = PS_QUEUED;
    ref->due = now_of(tm);
    if ((rc = hh_u64map_put(&tm->by_oid, ref->oid, tm->nrefs + 1)))
        return rc;
    tm->nrefs++;
    tm->changes++;
    *oid = ref->oid;
    return HH_OK;
}

/* Units an order may still execute (unknown outcomes included). */
static hh_qty_t open_qty(const struct order_ref *ref)
{
    return hh_ord_open_qty(&ref->ord);
}

/* ---- the orders' state machines ------------------------------------------------- */

/*
 * What ref's machine refused (rc, with its reason in why): nothing was
 * applied.  Counted, and told to the alert sink, which audits it: a
 * duplicate exec id is a replay (DUP_FILL); a report above the order's
 * quantity or malformed contradicts the order (BAD_REPORT, an alert); an
 * illegal transition (ILLEGAL_TRANSITION) is an alert when it would have
 * moved money or ended the order — a fill or an end on a terminal order,
 * or a decision of the engine's own — not for a late ACK or MODIFIED.
 */
static void refused(struct hh_tm *tm, const struct order_ref *ref, const struct hh_report *r,
                    int rc, const char *why)
{
    enum hh_tm_alert_kind kind = rc == HH_EEXIST ? HH_TMA_DUP_FILL
                                 : rc == HH_ESTATE ? HH_TMA_ILLEGAL_TRANSITION
                                 : HH_TMA_BAD_REPORT;
    bool late_ack = r && (r->kind == HH_RPT_ACK || r->kind == HH_RPT_MODIFIED);

    tm->live.stats.refusals++;
    tm->live.stats.dup_fills += rc == HH_EEXIST;
    alert_ref(tm, kind, kind == HH_TMA_BAD_REPORT || (kind != HH_TMA_DUP_FILL && !late_ack),
              ref, rc, r ? r->qty : 0, why[0] ? why : hh_strerror(rc));
}

/* The result of an engine decision applied to ref's machine. */
static void decided(struct hh_tm *tm, const struct order_ref *ref, int rc,
                    const struct hh_diag *d)
{
    if (rc)
        refused(tm, ref, NULL, rc, d->msg);
}

/* The broker may have the order now (place() answered or timed out, or a
 * queued order was restored after a crash): NEW -> SENT. */
static void ord_sent(struct hh_tm *tm, struct order_ref *ref)
{
    struct hh_diag d = { "" };

    if (ref->ord.state == HH_OS_NEW)
        decided(tm, ref, hh_ord_sent(&ref->ord, now_of(tm), &d), &d);
}

/* The placement was refused for good, the order is not at the broker. */
static void ord_refuse(struct hh_tm *tm, struct order_ref *ref)
{
    struct hh_diag d = { "" };

    if (!hh_ord_state_terminal(ref->ord.state))
        decided(tm, ref, hh_ord_refused(&ref->ord, now_of(tm), &d), &d);
}

/* A cancel of an order the broker has (or may have): CANCEL_PENDING, and
 * the call queued. */
static void want_cancel(struct hh_tm *tm, struct order_ref *ref)
{
    struct hh_diag d = { "" };

    decided(tm, ref, hh_ord_cancel(&ref->ord, now_of(tm), NULL, &d), &d);
    ref->cancel = CS_WANTED;
    if (ref->pstate == PS_PLACED)
        ref->due = now_of(tm);
}

/* Is the ref's pending operation due now (a command for hh_tm_send)? */
static bool ref_due(const struct hh_tm *tm, const struct order_ref *ref)
{
    hh_time_t now = now_of(tm);

    if (ref->done)
        return false;
    switch (ref->pstate) {
    case PS_QUEUED:
        return true;
    case PS_RETRY:
    case PS_FINDING:
        return ref->due <= now;
    default:
        return (ref->cancel == CS_WANTED || ref->poll) && ref->due <= now;
    }
}

/* End an order that never reached the broker (cancelled before sending,
 * found absent with a cancel wanted, refused for good): a synthetic
 * report, so its owner learns it ended like any other. */
static void end_unsent(struct hh_tm *tm, size_t i, enum hh_report_kind kind, const char *why)
{
    struct order_ref *ref = &tm->refs[i];
    struct hh_diag d = { "" };
    struct hh_report r;

    if (kind == HH_RPT_CANCELLED)
        decided(tm, ref, hh_ord_withdrawn(&ref->ord, now_of(tm), &d), &d);
    else
        ord_refuse(tm, ref);
    memset(&r, 0, sizeof r);
    r.kind = kind;
    r.order_id = ref->boid;
    r.ts = now_of(tm);
    r.iid = ref->req.iid;
    r.side = ref->req.side;
    snprintf(r.reason, sizeof r.reason, "%s", why);
    ref->pstate = PS_PLACED;   /* nothing more to send */
    ref->cancel = CS_NONE;
    ref->poll = false;
    hh_tm__deliver(tm, ref, &r);
}

void hh_tm__live_cancel(struct hh_tm *tm, struct order_ref *ref)
{
    if (ref->done || ref->cancel != CS_NONE)
        return;
    tm->changes++;
    if (ref->pstate == PS_QUEUED || ref->pstate == PS_RETRY) {
        /* Not at the broker (a 503 means not processed): nothing to ask. */
        end_unsent(tm, idx_of(tm, ref), HH_RPT_CANCELLED, "cancelled before it was sent");
        return;
    }
    want_cancel(tm, ref);   /* FINDING: sent once found */
}

/* ---- reports ------------------------------------------------------------------- */

/* The price of a fill the stream lost (a terminal report says more filled
 * than we heard of): the limit (a limit fills there or better), else the
 * last traded price.  Exact prices come with the next reconciliation poll
 * only when a fill report is lost and no terminal report carries it. */
static hh_price_t est_price(const struct hh_tm *tm, const struct order_ref *ref,
                            const struct hh_report *r)
{
    if (ref->req.limit > 0)
        return ref->req.limit;
    if (ref->req.iid < tm->nsyms && tm->syms[ref->req.iid].last > 0)
        return tm->syms[ref->req.iid].last;
    if (ref->filled > 0)
        return (hh_price_t)hh_i128_div_round(ref->value, ref->filled);
    return r->price > 0 ? r->price : ref->req.trigger;
}

/* Book the fills a report says happened (`filled` ahead of the machine's)
 * but whose own reports were lost: one fill, through the machine like a
 * broker's, at the estimated price. */
static void book_gap(struct hh_tm *tm, size_t i, const struct hh_report *r)
{
    const struct order_ref *ref = &tm->refs[i];
    struct hh_report f = *r;

    f.kind = HH_RPT_FILL;
    f.qty = r->filled - ref->ord.filled;
    f.price = est_price(tm, ref, r);
    f.exec_id = hh_tm__synthetic_exec(ref->boid, r->filled);
    f.leaves = 0;
    hh_tm__deliver(tm, &tm->refs[i], &f);
}

/* A fill: the machine says what is new (by the cumulative quantity). */
static bool live_fill(struct hh_tm *tm, struct order_ref *ref, const struct hh_report *r,
                      struct hh_report *out)
{
    struct hh_ord_effect eff;
    struct hh_diag d = { "" };
    int rc = hh_ord_on_report(&ref->ord, r, now_of(tm), &eff, &d);

    if (rc) {
        refused(tm, ref, r, rc, d.msg);
        return false;
    }
    if (eff.new_fill <= 0) {
        tm->live.stats.dup_fills++;
        alert_ref(tm, HH_TMA_DUP_FILL, false, ref, 0, r->qty,
                  "duplicate or stale fill report ignored");
        return false;
    }
    out->qty = eff.new_fill;
    out->filled = ref->ord.filled;
    return true;
}

/* A quantity change: fills it claims go through book_gap, after the new
 * quantity (which may be what makes room for them). */
static bool live_modified(struct hh_tm *tm, size_t i, const struct hh_report *r)
{
    struct order_ref *ref = &tm->refs[i];
    struct hh_report m = *r;
    struct hh_diag d = { "" };
    int rc;

    if (m.filled > ref->ord.filled) {
        m.leaves += m.filled - ref->ord.filled;
        m.filled = ref->ord.filled;
    }
    if ((rc = hh_ord_on_report(&ref->ord, &m, now_of(tm), NULL, &d))) {
        refused(tm, ref, r, rc, d.msg);
        return false;
    }
    ref->qty = ref->ord.req.qty;
    if (r->filled > ref->ord.filled && !hh_ord_state_terminal(ref->ord.state))
        book_gap(tm, i, r);
    return true;
}

bool hh_tm__live_report(struct hh_tm *tm, struct order_ref *ref, const struct hh_report *r,
                        struct hh_report *out)
{
    size_t i = idx_of(tm, ref);
    struct hh_ord_effect eff;
    struct hh_diag d = { "" };
    int rc;

    *out = *r;
    if (!r->order_id)   /* ours, about an order never sent: its machine ended it */
        return !ref->done && hh_ord_state_terminal(ref->ord.state);
    switch (r->kind) {
    case HH_RPT_FILL:
        return live_fill(tm, ref, r, out);
    case HH_RPT_MODIFIED:
        return live_modified(tm, i, r);
    case HH_RPT_CANCELLED:
    case HH_RPT_EXPIRED:
    case HH_RPT_REJECTED:
        if (r->filled > ref->ord.filled && !hh_ord_state_terminal(ref->ord.state)) {
            book_gap(tm, i, r);
            ref = &tm->refs[i];
            if (hh_ord_state_terminal(ref->ord.state))
                return false;   /* the gap completed it: the end says no more */
        }
        break;
    case HH_RPT_ACK:
        break;
    }
    if ((rc = hh_ord_on_report(&ref->ord, r, now_of(tm), &eff, &d))) {
        refused(tm, ref, r, rc, d.msg);
        return false;
    }
    /* a repeated end changes nothing; an ACK is passed on as before */
    return r->kind == HH_RPT_ACK || !eff.stale;
}

/* ---- the hybrid stop ------------------------------------------------------------ */

static struct tm_hsl *hsl_of(struct hh_tm *tm, const struct trade *t)
{
    return t->hsl ? &tm->live.hsl[t->hsl - 1] : NULL;
}

static bool hsl_finished(const struct tm_hsl *s)
{
    return s->h.state == HH_HSL_DONE || s->h.state == HH_HSL_FAILED;
}

static void hsl_do(struct hh_tm *tm, uint32_t slot, const struct hh_hsl_action *act);
static void live_arm(struct hh_tm *tm);

/* Queue one of the hybrid stop's orders (its client id is the machine's). */
static void hsl_place(struct hh_tm *tm, uint32_t slot, enum hh_hsl_leg leg,
                      const struct hh_order_req *req)
{
    struct tm_hsl *s = &tm->live.hsl[slot];
    uint32_t ti = s->trade;
    struct order_ref *ref;
    uint64_t key;

    /* exactly the machine's order (SL-LIMIT: its trigger) */
    if (hh_tm__place_req(tm, req, ti, false, P_STOP, -1, &key)) {
        struct hh_hsl_action act;

        /* out of memory: as refused (the machine alerts, the exit retries) */
        if (!hh_hsl_place_failed(&s->h, leg, now_of(tm), &act))
            hsl_do(tm, slot, &act);
        return;
    }
    ref = hh_tm__ref(tm, key);
    ref->hsl = slot + 1;
    ref->hsl_leg = (uint8_t)leg;
    tm->live.hsl[slot].key[leg] = key;
}

static void hsl_do(struct hh_tm *tm, uint32_t slot, const struct hh_hsl_action *act)
{
    struct tm_hsl *s = &tm->live.hsl[slot];
    struct trade *t = &tm->trades[s->trade];
    struct order_ref *ref;

    switch (act->kind) {
    case HH_HSL_ACT_NONE:
        break;
    case HH_HSL_ACT_PLACE_LIMIT:
        hsl_place(tm, slot, HH_HSL_LIMIT, &act->req);
        break;
    case HH_HSL_ACT_PLACE_MARKET:
        tm->live.stats.stop_markets++;
        hsl_place(tm, slot, HH_HSL_MARKET_LEG, &act->req);
        hh_tm__alert(tm, HH_TMA_STOP_MARKET, false, &t->sig,
                  hh_tm__ref(tm, tm->live.hsl[slot].key[HH_HSL_MARKET_LEG]), 0, act->req.qty,
                  "the stop-limit is terminal: market for the remainder");
        break;
    case HH_HSL_ACT_CANCEL:
        ref = hh_tm__ref(tm, s->key[HH_HSL_LIMIT]);
        if (ref && !ref->done)
            want_cancel(tm, ref);   /* (again, when a poll found it working) */
        break;
    case HH_HSL_ACT_POLL:
        ref = hh_tm__ref(tm, s->key[HH_HSL_LIMIT]);
        if (ref && ref->pstate == PS_PLACED) {
            ref->poll = true;
            ref->due = now_of(tm);
        }
        break;
    case HH_HSL_ACT_DONE:
        hh_tm__alert(tm, HH_TMA_STOP_DONE, false, &t->sig, NULL, 0, s->h.spec.qty,
                  s->h.cancel_too_late ? "stop executed (the cancel came too late: no market)"
                  : s->h.mkt_live ? "stop executed (stop-limit, then market)"
                  : "stop executed (stop-limit)");
        break;
    case HH_HSL_ACT_ALERT:
        tm->live.stats.stop_failed++;
        t->exit_retry_at = now_of(tm) + hh_retry_delay(&tm->live.retry, 0);
        hh_tm__alert(tm, HH_TMA_STOP_FAILED, true, &t->sig, NULL, 0, act->req.qty,
                  "the stop's market order failed: the position is still held, retrying");
        break;
    }
    tm->changes++;
}

static int hsl_alloc(struct hh_tm *tm, uint32_t *slot)
{
    struct tm_live *L = &tm->live;

    for (size_t i = 0; i < L->nhsl; i++) {
        if (!L->hsl[i].used) {
            *slot = (uint32_t)i;
            return HH_OK;
        }
    }
    if (hh_grow(&L->hsl, &L->caphsl, L->nhsl + 1, sizeof *L->hsl))
        return HH_ENOMEM;
    memset(&L->hsl[L->nhsl], 0, sizeof L->hsl[L->nhsl]);
    *slot = (uint32_t)L->nhsl++;
    return HH_OK;
}

static void hsl_release(struct hh_tm *tm, struct trade *t)
{
    struct tm_hsl *s = hsl_of(tm, t);

    if (!s)
        return;
    for (size_t i = 0; i < tm->nrefs; i++)
        if (tm->refs[i].hsl == t->hsl)
            tm->refs[i].hsl = 0;   /* its orders are plain exits from now on */
    hh_hsl_free(&s->h);
    memset(s, 0, sizeof *s);
    t->hsl = 0;
    tm->changes++;
}

/* Start a hybrid stop for qty units at `level`. */
static void hsl_start(struct hh_tm *tm, uint32_t ti, hh_qty_t qty, hh_price_t level)
{
    struct trade *t = &tm->trades[ti];
    const struct hh_instrument *in = hh_inst_get(tm->inst, t->sig.iid);
    struct hh_hsl_spec spec;
    struct hh_hsl_action act;
    struct tm_hsl *s;
    uint32_t slot;

    if (hsl_alloc(tm, &slot))
        return;
    s = &tm->live.hsl[slot];
    if (hh_hsl_init(&s->h, &tm->cfg.hsl))
        return;
    memset(&spec, 0, sizeof spec);
    spec.iid = t->sig.iid;
    spec.side = opposite(t->sig.side);
    spec.qty = qty;
    spec.trigger = level;
    spec.tick = in->tick;
    snprintf(spec.limit_client_id, sizeof spec.limit_client_id, "h%ul%u", t->serial, ++t->orders);
    snprintf(spec.market_client_id, sizeof spec.market_client_id, "h%um%u", t->serial,
             ++t->orders);
    if (hh_hsl_trigger(&s->h, &spec, now_of(tm), &act)) {
        hh_hsl_free(&s->h);
        t->exit_retry_at = now_of(tm) + tm->cfg.hsl.confirm_poll;
        return;
    }
    s->used = true;
    s->trade = ti;
    t->hsl = slot + 1;
    t->stops++;
    tm->live.stats.stops++;
    tm->changes++;
    hsl_do(tm, slot, &act);
}

/* ---- a trade's exits --------------------------------------------------------------- */

static bool ref_live(const struct hh_tm *tm, uint64_t key)
{
    const struct order_ref *ref = key ? hh_tm__ref((struct hh_tm *)tm, key) : NULL;

    return ref && !ref->done;
}

/* Units the trade's working exit orders may still sell (or buy). */
static hh_qty_t pending_exits(struct hh_tm *tm, const struct trade *t)
{
    const struct tm_hsl *s = t->hsl ? &tm->live.hsl[t->hsl - 1] : NULL;
    hh_qty_t q = 0;
    const struct order_ref *ref;

    for (int k = 0; k < t->ntgt; k++)
        if ((ref = hh_tm__ref(tm, t->tgt_oid[k])))
            q += open_qty(ref);
    if ((ref = hh_tm__ref(tm, t->sq_oid)))
        q += open_qty(ref);
    if (s)
        for (int leg = 0; leg < 2; leg++)
            if ((ref = hh_tm__ref(tm, s->key[leg])))
                q += open_qty(ref);
    return q;
}

/* Does any order of the trade still live (may fill)? */
static bool has_live_orders(struct hh_tm *tm, const struct trade *t)
{
    const struct tm_hsl *s = t->hsl ? &tm->live.hsl[t->hsl - 1] : NULL;

    if (ref_live(tm, t->entry_oid) || ref_live(tm, t->sq_oid))
        return true;
    for (int k = 0; k < t->ntgt; k++)
        if (ref_live(tm, t->tgt_oid[k]))
            return true;
    return s && (ref_live(tm, s->key[0]) || ref_live(tm, s->key[1]) || !hsl_finished(s));
}

/* Targets once the entry is complete: SPEC §5's split over the position,
 * each a limit order (reduce-only: together exactly the position). */
static void place_targets(struct hh_tm *tm, uint32_t ti)
{
    struct trade *t = &tm->trades[ti];
    const struct hh_instrument *in = hh_inst_get(tm->inst, t->sig.iid);
    hh_qty_t room = hh_ord_exit_qty(t->sig.side == HH_BUY ? t->pos : -t->pos,
                                    opposite(t->sig.side), pending_exits(tm, t), t->pos);
    int64_t lots = room / in->lot_size;
    int n = t->sig.ntargets < lots ? t->sig.ntargets : (int)lots;
    hh_qty_t assigned = 0;

    if (room <= 0)
        return;
    if (n < 1)
        n = 1;
    for (int k = 0; k < n; k++) {
        hh_qty_t q = k == n - 1 ? room - assigned : (lots / n) * in->lot_size;
        char client[HH_CLIENT_ID_MAX];

        assigned += q;
        t->tgt_qty[k] = q;
        snprintf(client, sizeof client, "h%u%c%u", t->serial, '1' + k, ++t->orders);
        if (hh_tm__place(tm, client, ti, false, (enum purpose)(P_T1 + k), -1, t->sig.iid,
                         opposite(t->sig.side), HH_ORD_LIMIT, q, t->sig.targets[k],
                         &t->tgt_oid[k]) == HH_OK)
            t->ntgt = k + 1;
    }
    tm->changes++;
}

/* Times a target the broker keeps ending is placed again (then the trade
 * relies on its stop and the square-off). */
#define TARGET_REPLACE_MAX 3

/* A target that ended (rejected, expired, cancelled by someone else) while
 * the trade still wants it: placed again for what it left, reduce-only. */
static void replace_targets(struct hh_tm *tm, uint32_t ti)
{
    struct trade *t = &tm->trades[ti];

    for (int k = 0; k < t->ntgt; k++) {
        struct order_ref *ref = hh_tm__ref(tm, t->tgt_oid[k]);
        hh_qty_t rest, q;
        uint8_t times;
        char client[HH_CLIENT_ID_MAX];

        if (!ref || !ref->done || ref->filled >= ref->qty || ref->cancel != CS_NONE)
            continue;
        rest = ref->qty - ref->filled;
        q = hh_ord_exit_qty(t->sig.side == HH_BUY ? t->pos : -t->pos, opposite(t->sig.side),
                            pending_exits(tm, t), rest);
        ref->cancel = CS_SENT;   /* mark: handled (not placed again) */
        times = (uint8_t)(ref->replaced + 1);
        if (q <= 0)
            continue;
        if (times > TARGET_REPLACE_MAX) {
            alert_ref(tm, HH_TMA_GAVE_UP, true, ref, 0, q,
                      "the broker keeps ending this target: not placed again (the stop and "
                      "the square-off still protect the position)");
            continue;
        }
        snprintf(client, sizeof client, "h%u%c%u", t->serial, '1' + k, ++t->orders);
        if (hh_tm__place(tm, client, ti, false, (enum purpose)(P_T1 + k), -1, t->sig.iid,
                         opposite(t->sig.side), HH_ORD_LIMIT, q, t->sig.targets[k],
                         &t->tgt_oid[k]) == HH_OK)
            hh_tm__ref(tm, t->tgt_oid[k])->replaced = times;
        tm->changes++;
    }
}

void hh_tm__live_drive(struct hh_tm *tm, uint32_t ti)
{
    struct trade *t = &tm->trades[ti];
    struct tm_hsl *s;
    bool busy = false;

    if (t->st != T_OPEN)
        return;
    if (!t->exit_intent) {
        if (!ref_live(tm, t->entry_oid) && t->pos > 0 && !t->adopted) {
            if (!t->ntgt)
                place_targets(tm, ti);
            else
                replace_targets(tm, ti);
        }
    } else {
        /* Exiting: nothing else may sell when the exit is sized. */
        struct order_ref *ref;

        if ((ref = hh_tm__ref(tm, t->entry_oid)) && !ref->done) {
            hh_tm__live_cancel(tm, ref);
            busy = true;
        }
        for (int k = 0; k < t->ntgt; k++) {
            if ((ref = hh_tm__ref(tm, t->tgt_oid[k])) && !ref->done) {
                hh_tm__live_cancel(tm, ref);
                busy = true;
            }
        }
        t = &tm->trades[ti];
        if ((s = hsl_of(tm, t)) && hsl_finished(s) && !ref_live(tm, s->key[0]) &&
            !ref_live(tm, s->key[1]))
            hsl_release(tm, t);
        s = hsl_of(tm, t);
        if (!busy && !s && !ref_live(tm, t->sq_oid) && t->pos > 0 &&
            (t->exit_retry_at == HH_TIME_NONE || now_of(tm) >= t->exit_retry_at)) {
            hh_qty_t qty = hh_ord_exit_qty(t->sig.side == HH_BUY ? t->pos : -t->pos,
                                           opposite(t->sig.side), pending_exits(tm, t),
                                           t->pos);

            t->exit_retry_at = HH_TIME_NONE;
            if (qty > 0 && t->exit_intent == X_STOP) {
                hsl_start(tm, ti, qty, t->breakeven_done ? t->sig.entry : t->sig.stop);
            } else if (qty > 0) {
                char client[HH_CLIENT_ID_MAX];

                snprintf(client, sizeof client, "h%uq%u", t->serial, ++t->orders);
                hh_tm__place(tm, client, ti, false, P_SQUAREOFF, -1, t->sig.iid,
                             opposite(t->sig.side), HH_ORD_MARKET, qty, 0, &t->sq_oid);
                tm->changes++;
            }
        }
    }
    t = &tm->trades[ti];
    /* a cancel above may have ended an unsent order, whose report drove
     * this trade (and closed it) already: close once */
    if (t->st == T_OPEN && t->pos <= 0 && !has_live_orders(tm, t)) {
        if (hsl_of(tm, t))
            hsl_release(tm, t);
        hh_tm__close_trade(tm, ti);
    }
}

void hh_tm__live_event(struct hh_tm *tm, uint32_t ti, hh_price_t lo, hh_price_t hi)
{
    struct trade *t = &tm->trades[ti];
    hh_price_t level;

    if (t->st != T_OPEN || t->exit_intent || t->adopted || t->pos <= 0)
        return;
    level = t->breakeven_done ? t->sig.entry : t->sig.stop;
    if (t->sig.side == HH_BUY ? lo > level : hi < level)
        return;
    t->exit_intent = X_STOP;
    tm->changes++;
    hh_tm__alert(tm, HH_TMA_STOP_TRIGGERED, false, &t->sig, NULL, 0, t->pos,
              t->breakeven_done ? "the breakeven stop traded" : "the stop traded");
    hh_tm__live_drive(tm, ti);
}

void hh_tm__live_squareoff(struct hh_tm *tm, uint32_t ti)
{
    struct trade *t = &tm->trades[ti];

    t->squared_off = true;
    tm->changes++;
    if (!t->exit_intent) {
        t->exit_intent = X_SQUAREOFF;
        hh_tm__alert(tm, HH_TMA_SQUAREOFF, false, &t->sig, NULL, 0, t->pos,
                  "square-off time: closing at market");
    }
    hh_tm__live_drive(tm, ti);
}

void hh_tm__live_abandon(struct hh_tm *tm, uint32_t ti, bool expired)
{
    struct trade *t = &tm->trades[ti];
    uint8_t want = expired ? AB_EXPIRED : AB_WAIT;
    struct order_ref *ref;

    if (t->abandon == want || t->abandon == AB_EXPIRED)
        return;
    t->abandon = want;
    tm->changes++;
    if ((ref = hh_tm__ref(tm, t->entry_oid)) && !ref->done)
        hh_tm__live_cancel(tm, ref);   /* the trade moves when it is confirmed */
}

void hh_tm__entry_unavailable(struct hh_tm *tm, uint32_t ti, const char *detail)
{
    struct trade *t = &tm->trades[ti];
    struct sym *sy = &tm->syms[t->sig.iid];

    if (t->st != T_ENTERING)
        return;
    sy->active = -1;
    tm->open_count--;
    tm->stats.open--;
    t->st = T_DROPPED;
    tm->live.stats.broker_unavailable++;
    tm->changes++;
    if (tm->sink.rejected)
        tm->sink.rejected(tm->sink.ctx, &t->sig, HH_SIG_BROKER_UNAVAILABLE, detail);
}

void hh_tm__live_after_report(struct hh_tm *tm, struct order_ref *ref, const struct hh_report *r)
{
    size_t i = idx_of(tm, ref);
    uint32_t ti = ref->trade;

    /* the owner booked exactly what the order's machine accepted */
    HH_ASSERT(ref->filled == ref->ord.filled && ref->qty == ref->ord.req.qty &&
              ref->done == hh_ord_state_terminal(ref->ord.state));

    if (ref->hsl) {
        uint32_t slot = ref->hsl - 1;
        struct hh_hsl_action act;

        if (hh_hsl_on_report(&tm->live.hsl[slot].h, r, now_of(tm), &act, NULL) == HH_OK)
            hsl_do(tm, slot, &act);
    }
    ref = &tm->refs[i];
    if (ref->done)
        ref->poll = false;
    if (!ref->group) {
        struct trade *t = &tm->trades[ti];

        if (ref->purpose == P_SQUAREOFF && ref->done && ref->filled < ref->qty &&
            ref->oid == t->sq_oid && t->pos > 0)
            /* the broker ended a square-off: not again at the same instant */
            t->exit_retry_at = now_of(tm) + hh_retry_delay(&tm->live.retry, 0);

        if (ref->purpose == P_ENTRY && ref->done && t->st == T_ENTERING &&
            t->entry_oid == ref->oid) {
            /* the entry ended with nothing filled */
            if (t->abandon == AB_EXPIRED) {
                struct sym *sy = &tm->syms[t->sig.iid];

                sy->active = -1;
                tm->open_count--;
                tm->stats.open--;
                t->st = T_WAITING;   /* hh_tm__drop() expects a waiting trade */
                t->abandon = AB_NONE;
                tm->stats.waiting++;
                hh_tm__drop(tm, ti, HH_DROP_EXPIRED, now_of(tm));
            } else {
                hh_tm__back_to_waiting(tm, ti);
            }
            tm->changes++;
        }
        hh_tm__live_drive(tm, ti);
    }
    live_arm(tm);   /* a stop's new deadline, an exit to retry later */
}

/* ---- the broker calls ------------------------------------------------------------- */

/* The breaker's gate before a call: a half-open breaker is probed with a
 * harmless query (funds) first, so no real order is ever the probe. */
static int gate(struct hh_tm *tm)
{
    struct hh_breaker *b = &tm->live.brk;
    hh_time_t now = now_of(tm);

    hh_breaker_tick(b, now);
    if (b->state == HH_BRK_HALF_OPEN && !b->probe_out &&
        hh_breaker_allow(b, now) == HH_OK) {
        hh_money_t funds;
        int rc = tm->broker.ops->funds ? tm->broker.ops->funds(tm->broker.impl, &funds)
                                       : HH_OK;

        hh_breaker_record(b, now, rc);
    }
    if (hh_breaker_allow(b, now)) {
        tm->live.stats.refused++;
        return HH_EUNAVAIL;
    }
    return HH_OK;
}

/* When to try again after the breaker refused: its cool-off's end. */
static hh_time_t after_breaker(struct hh_tm *tm)
{
    hh_time_t t = hh_breaker_next(&tm->live.brk), now = now_of(tm);

    return t != HH_TIME_MAX && t > now ? t : now + tm->cfg.hsl.confirm_poll;
}

/* Backoff for a failed call of ref (rc); false when an entry used up its
 * attempts.  Exits and look-ups are never given up: past the attempts they
 * keep the longest delay. */
static bool backoff(struct hh_tm *tm, struct order_ref *ref, int rc, bool may_give_up)
{
    struct hh_retry_track tr = { ref->failures, HH_TIME_NONE };
    hh_time_t when, now = now_of(tm);

    if (hh_retry_next(&tm->live.retry, &tr, rc, now, &when)) {
        ref->failures = tr.failures;
        ref->due = when;
        return true;
    }
    ref->failures = tr.failures;
    if (may_give_up)
        return false;
    ref->due = now + hh_retry_delay(&tm->live.retry, tr.failures);
    return true;
}

static void place_failed_for_good(struct hh_tm *tm, size_t i, int rc, bool refused)
{
    struct order_ref *ref = &tm->refs[i];
    char why[64];

    if (ref->entry_side && !ref->group) {
        char detail[160];

        if (refused)
            snprintf(detail, sizeof detail, "the broker's circuit breaker is open: entry "
                     "refused at once, not sent");
        else
            snprintf(detail, sizeof detail, "the broker is unavailable (%s after %d "
                     "attempts): entry not placed", hh_strerror(rc), ref->failures);
        ref->pstate = PS_PLACED;
        ord_refuse(tm, ref);
        ref->done = true;
        alert_ref(tm, HH_TMA_GAVE_UP, true, ref, rc, ref->qty, detail);
        hh_tm__entry_unavailable(tm, ref->trade, detail);
        return;
    }
    if (ref->hsl) {
        uint32_t slot = ref->hsl - 1;
        struct hh_hsl_action act;

        ref->pstate = PS_PLACED;
        ord_refuse(tm, ref);
        ref->done = true;
        if (hh_hsl_place_failed(&tm->live.hsl[slot].h, (enum hh_hsl_leg)ref->hsl_leg,
                                now_of(tm), &act) == HH_OK)
            hsl_do(tm, slot, &act);
        hh_tm__live_drive(tm, tm->refs[i].trade);
        return;
    }
    snprintf(why, sizeof why, "refused by the broker (%s)", hh_strerror(rc));
    end_unsent(tm, i, HH_RPT_REJECTED, why);
}

static void placed(struct hh_tm *tm, size_t i, uint64_t boid)
{
    struct order_ref *ref = &tm->refs[i];
    struct hh_diag d = { "" };

    ord_sent(tm, ref);
    decided(tm, ref, hh_ord_placed(&ref->ord, boid, now_of(tm), &d), &d);
    ref->boid = boid;
    ref->pstate = PS_PLACED;
    ref->failures = 0;
    if (hh_u64map_put(&tm->live.by_boid, boid, i + 1))
        return;
    tm->live.stats.placed++;
    tm->changes++;
    if (ref->cancel == CS_WANTED)
        ref->due = now_of(tm);
    hh_tm__emit_ref(tm, HH_TMO_SENT, ref, NULL, 0);
}

static int do_place(struct hh_tm *tm, size_t i)
{
    struct order_ref *ref = &tm->refs[i];
    uint64_t boid = 0;
    int rc = gate(tm);

    if (rc) {
        ref = &tm->refs[i];
        if (ref->entry_side && !ref->group) {
            place_failed_for_good(tm, i, rc, true);   /* refused at once: BROKER_UNAVAILABLE */
        } else {
            ref->pstate = PS_RETRY;
            ref->due = after_breaker(tm);
        }
        return 0;
    }
    ref = &tm->refs[i];
    rc = tm->broker.ops->place(tm->broker.impl, &ref->req, &boid);
    hh_breaker_record(&tm->live.brk, now_of(tm), rc);
    ref = &tm->refs[i];
    if (rc == HH_OK) {
        placed(tm, i, boid);
        ref = &tm->refs[i];
        if (ref->hsl) {
            struct hh_hsl_action act;
            uint32_t slot = ref->hsl - 1;

            if (hh_hsl_placed(&tm->live.hsl[slot].h, (enum hh_hsl_leg)ref->hsl_leg, boid,
                              now_of(tm), &act) == HH_OK)
                hsl_do(tm, slot, &act);
        }
        return 1;
    }
    switch (hh_retry_classify(HH_RETRY_OP_PLACE, rc)) {
    case HH_RETRY_FIND_FIRST:
        tm->live.stats.timeouts++;
        ord_sent(tm, ref);   /* the order may exist */
        ref->pstate = PS_FINDING;
        backoff(tm, ref, rc, false);
        hh_tm__emit_ref(tm, HH_TMO_SEND_FAILED, ref, NULL, rc);
        alert_ref(tm, HH_TMA_PLACE_UNKNOWN, false, &tm->refs[i], rc, ref->qty,
                     "placement timed out: the order may exist; looking it up before "
                     "placing again");
        break;
    case HH_RETRY_YES:
        if (!backoff(tm, ref, rc, ref->entry_side && !ref->group)) {
            place_failed_for_good(tm, i, rc, false);
            break;
        }
        ref->pstate = PS_RETRY;
        tm->live.stats.retries++;
        alert_ref(tm, HH_TMA_RETRY, false, ref, rc, ref->qty, "placement retried");
        break;
    case HH_RETRY_NO:
        ord_refuse(tm, ref);   /* so the event says REJECTED */
        hh_tm__emit_ref(tm, HH_TMO_SEND_FAILED, ref, NULL, rc);
        place_failed_for_good(tm, i, rc, false);
        break;
    }
    tm->changes++;
    return 1;
}

/* Adopt the broker's view b of order i (found by client id, or a poll):
 * its id, then what it says of fills and state. */
static void adopt_found(struct hh_tm *tm, size_t i, const struct hh_broker_order *b)
{
    struct order_ref *ref = &tm->refs[i];

    tm->live.stats.found++;
    placed(tm, i, b->order_id);
    alert_ref(tm, HH_TMA_PLACE_FOUND, false, &tm->refs[i], 0, b->filled,
                 "the order of a placement of unknown outcome was found by its client id");
    ref = &tm->refs[i];
    if (ref->hsl) {
        struct hh_hsl_action act;
        uint32_t slot = ref->hsl - 1;

        if (hh_hsl_on_status(&tm->live.hsl[slot].h, b, now_of(tm), &act, NULL) == HH_OK)
            hsl_do(tm, slot, &act);
    }
    hh_tm__settle(tm, i, b, NULL, NULL);
}

static int do_find(struct hh_tm *tm, size_t i)
{
    struct order_ref *ref = &tm->refs[i];
    struct hh_broker_order b;
    int rc;

    if (!tm->broker.ops->find) {   /* no look-up: the next poll's order book */
        ref->due = now_of(tm) + 12 * HH_NS_PER_S;
        return 0;
    }
    if ((rc = gate(tm))) {
        tm->refs[i].due = after_breaker(tm);
        return 0;
    }
    ref = &tm->refs[i];
    rc = tm->broker.ops->find(tm->broker.impl, ref->req.client_id, &b);
    hh_breaker_record(&tm->live.brk, now_of(tm), rc);
    ref = &tm->refs[i];
    tm->changes++;
    if (rc == HH_OK) {
        adopt_found(tm, i, &b);
    } else if (rc == HH_ENOTFOUND) {
        if (ref->cancel == CS_WANTED) {
            end_unsent(tm, i, HH_RPT_CANCELLED, "cancelled; never reached the broker");
        } else {
            alert_ref(tm, HH_TMA_PLACE_ABSENT, false, ref, 0, ref->qty,
                         "not at the broker: placed again with the same client id");
            ref = &tm->refs[i];
            ref->pstate = PS_QUEUED;
            ref->failures = 0;
        }
    } else {
        backoff(tm, ref, rc, false);
        tm->live.stats.retries++;
    }
    return 1;
}

static int do_cancel(struct hh_tm *tm, size_t i)
{
    struct order_ref *ref;
    int rc = gate(tm);

    if (rc) {
        tm->refs[i].due = after_breaker(tm);
        return 0;
    }
    ref = &tm->refs[i];
    rc = tm->broker.ops->cancel(tm->broker.impl, ref->boid);
    hh_breaker_record(&tm->live.brk, now_of(tm), rc);
    ref = &tm->refs[i];
    tm->changes++;
    if (rc == HH_OK)
        hh_tm__emit_ref(tm, HH_TMO_CANCEL, ref, NULL, 0);
    if (ref->hsl && ref->hsl_leg == HH_HSL_LIMIT) {
        uint32_t slot = ref->hsl - 1;
        struct hh_hsl_action act;

        ref->cancel = CS_SENT;
        if (hh_hsl_cancel_result(&tm->live.hsl[slot].h, rc, now_of(tm), &act) == HH_OK)
            hsl_do(tm, slot, &act);
        return 1;
    }
    if (rc == HH_OK || rc == HH_ESTATE || rc == HH_ENOTFOUND) {
        /* confirmed by the CANCELLED report, or by a status query: at
         * once when the broker says it is not working any more */
        ref->cancel = CS_SENT;
        ref->poll = true;
        ref->due = now_of(tm) + (rc == HH_OK ? tm->cfg.hsl.confirm_poll : 0);
    } else {
        backoff(tm, ref, rc, false);   /* 503 / timeout: ask again */
        tm->live.stats.retries++;
    }
    return 1;
}

static int do_poll(struct hh_tm *tm, size_t i)
{
    struct order_ref *ref = &tm->refs[i];
    struct hh_broker_order b;
    int rc;

    ref->poll = false;
    if (!tm->broker.ops->status)
        return 0;
    if ((rc = gate(tm))) {
        ref = &tm->refs[i];
        if (!ref->hsl) {   /* a stop polls again at its own deadline */
            ref->poll = true;
            ref->due = after_breaker(tm);
        }
        return 0;
    }
    ref = &tm->refs[i];
    rc = tm->broker.ops->status(tm->broker.impl, ref->boid, &b);
    hh_breaker_record(&tm->live.brk, now_of(tm), rc);
    ref = &tm->refs[i];
    tm->changes++;
    if (rc) {
        if (!ref->hsl) {
            ref->poll = true;
            ref->due = now_of(tm) + tm->cfg.hsl.confirm_poll;
        }
        return 1;
    }
    hh_tm__settle(tm, i, &b, NULL, NULL);
    ref = &tm->refs[i];
    if (ref->hsl) {
        uint32_t slot = ref->hsl - 1;
        struct hh_hsl_action act;

        if (hh_hsl_on_status(&tm->live.hsl[slot].h, &b, now_of(tm), &act, NULL) == HH_OK)
            hsl_do(tm, slot, &act);
    } else if (!ref->done && ref->cancel == CS_SENT && !hh_ord_state_terminal(b.state)) {
        want_cancel(tm, ref);   /* still working: the cancel was lost; again */
    }
    return 1;
}

static int send_one(struct hh_tm *tm, size_t i)
{
    const struct order_ref *ref = &tm->refs[i];

    switch (ref->pstate) {
    case PS_QUEUED:
    case PS_RETRY:
        return do_place(tm, i);
    case PS_FINDING:
        return do_find(tm, i);
    default:
        return ref->cancel == CS_WANTED ? do_cancel(tm, i) : do_poll(tm, i);
    }
}

/* After a restore: queued placements (and 503-refused ones) may have
 * reached the broker just before the crash: look them up first. */
static void resume_restored(struct hh_tm *tm)
{
    size_t n = tm->live.restored_upto;

    tm->live.restored_upto = 0;
    for (size_t i = 0; i < n && i < tm->nrefs; i++) {
        struct order_ref *ref = &tm->refs[i];

        if (!ref->done && (ref->pstate == PS_QUEUED || ref->pstate == PS_RETRY)) {
            ord_sent(tm, ref);
            ref->pstate = PS_FINDING;
            ref->due = now_of(tm);
            ref->failures = 0;
            tm->changes++;
        }
    }
}

bool hh_tm_has_commands(const struct hh_tm *tm)
{
    if (!tm->live.on)
        return false;
    for (size_t i = 0; i < tm->nrefs; i++)
        if (ref_due(tm, &tm->refs[i]))
            return true;
    return false;
}

/*
 * One round: exactly the calls that were due when it started — the ones the
 * caller just made durable.  What their answers decide (a target after an
 * entry was found filled, a market order after a refused stop-limit, a
 * cancel, a placement again after a look-up found nothing) is only queued:
 * it waits for the next round, after the next checkpoint.  Sending it in
 * this round would put at the broker an order no checkpoint knows, and a
 * crash then would decide it again under the same client id.
 */
int hh_tm_send(struct hh_tm *tm)
{
    struct tm_live *L = &tm->live;
    size_t n = 0;
    int calls = 0;

    if (!L->on || L->in_send)
        return 0;
    L->in_send = true;
    resume_restored(tm);
    if (hh_grow(&L->round, &L->round_cap, tm->nrefs + 1, sizeof *L->round)) {
        L->in_send = false;
        return 0;
    }
    for (size_t i = 0; i < tm->nrefs; i++)
        if (ref_due(tm, &tm->refs[i]))
            L->round[n++] = i;
    for (size_t k = 0; k < n; k++)
        if (ref_due(tm, &tm->refs[L->round[k]]))   /* (an earlier answer may have
                                                       settled it) */
            calls += send_one(tm, L->round[k]);
    L->in_send = false;
    live_arm(tm);
    return calls;
}

/* ---- timers -------------------------------------------------------------------------- */

/* Keep the one TMR_LIVE timer at the earliest thing live mode waits for. */
static void live_arm(struct hh_tm *tm)
{
    struct tm_live *L = &tm->live;
    hh_time_t next = HH_TIME_MAX, now = now_of(tm);

    for (size_t i = 0; i < tm->nrefs; i++) {
        const struct order_ref *ref = &tm->refs[i];

        if (ref->done)
            continue;
        if ((ref->pstate == PS_RETRY || ref->pstate == PS_FINDING ||
             (ref->pstate == PS_PLACED && (ref->cancel == CS_WANTED || ref->poll))) &&
            ref->due > now && ref->due < next)
            next = ref->due;
    }
    for (size_t i = 0; i < L->nhsl; i++)
        if (L->hsl[i].used && L->hsl[i].h.deadline != HH_TIME_NONE &&
            L->hsl[i].h.deadline < next)
            next = L->hsl[i].h.deadline;
    for (size_t i = 0; i < tm->ntrades; i++) {
        const struct trade *t = &tm->trades[i];

        if (t->st == T_OPEN && t->exit_intent && t->exit_retry_at != HH_TIME_NONE &&
            t->exit_retry_at > now && t->exit_retry_at < next)
            next = t->exit_retry_at;
    }
    if (L->brk.state == HH_BRK_OPEN && hh_breaker_next(&L->brk) < next)
        next = hh_breaker_next(&L->brk);
    if (next == L->timer_at && L->timer_id)
        return;
    if (L->timer_id)
        hh_timers_cancel(&tm->timers, L->timer_id);
    L->timer_id = 0;
    L->timer_at = HH_TIME_NONE;
    if (next == HH_TIME_MAX)
        return;
    if (hh_timers_start(&tm->timers, next, TMR_LIVE, 0, &L->timer_id) == HH_OK)
        L->timer_at = next;
}

void hh_tm__live_timer(struct hh_tm *tm, hh_time_t now)
{
    struct tm_live *L = &tm->live;

    hh_breaker_tick(&L->brk, now);
    for (size_t i = 0; i < L->nhsl; i++) {
        struct hh_hsl_action act;

        if (!L->hsl[i].used || L->hsl[i].h.deadline == HH_TIME_NONE ||
            L->hsl[i].h.deadline > now)
            continue;
        if (hh_hsl_on_timer(&L->hsl[i].h, now, &act) == HH_OK)
            hsl_do(tm, (uint32_t)i, &act);
    }
    for (size_t i = 0; i < tm->ntrades; i++) {
        struct trade *t = &tm->trades[i];

        if (t->st == T_OPEN && t->exit_intent && t->exit_retry_at != HH_TIME_NONE &&
            t->exit_retry_at <= now)
            hh_tm__live_drive(tm, (uint32_t)i);
    }
    live_arm(tm);
}

/* ---- reconciliation poll -------------------------------------------------------------- */

/* Fill the live buffer with a broker listing (grown until it fits). */
static int list_orders(struct hh_tm *tm, size_t *n)
{
    struct tm_live *L = &tm->live;
    int rc;

    for (;;) {
        rc = tm->broker.ops->orders(tm->broker.impl, L->obuf, L->obuf_cap, n);
        if (rc || *n <= L->obuf_cap)
            return rc;
        if (hh_grow(&L->obuf, &L->obuf_cap, *n, sizeof *L->obuf))
            return HH_ENOMEM;
    }
}

static int list_positions(struct hh_tm *tm, size_t *n)
{
    struct tm_live *L = &tm->live;
    int rc;

    for (;;) {
        rc = tm->broker.ops->positions(tm->broker.impl, L->pbuf, L->pbuf_cap, n);
        if (rc || *n <= L->pbuf_cap)
            return rc;
        if (hh_grow(&L->pbuf, &L->pbuf_cap, *n, sizeof *L->pbuf))
            return HH_ENOMEM;
    }
}

static bool known_client(const struct hh_tm *tm, const char *cid)
{
    for (size_t i = tm->nrefs; i-- > 0;)
        if (!strncmp(tm->refs[i].req.client_id, cid, HH_CLIENT_ID_MAX))
            return true;
    return false;
}

int hh_tm_poll(struct hh_tm *tm, hh_div_fn fn, void *ctx, struct hh_tm_poll_result *out)
{
    struct tm_live *L = &tm->live;
    struct hh_tm_poll_result res;
    size_t no = 0, np = 0;
    int rc;

    memset(&res, 0, sizeof res);
    if (!L->on || !tm->broker.ops->orders || !tm->broker.ops->positions) {
        res.rc = HH_ESTATE;
        goto out;
    }
    resume_restored(tm);
    L->stats.polls++;
    if ((rc = gate(tm)) == HH_OK) {
        rc = list_orders(tm, &no);
        hh_breaker_record(&L->brk, now_of(tm), rc);
    }
    if (rc == HH_OK && (rc = gate(tm)) == HH_OK) {
        rc = list_positions(tm, &np);
        hh_breaker_record(&L->brk, now_of(tm), rc);
    }
    if (rc) {
        L->stats.polls_failed++;
        res.rc = rc;
        goto out;
    }
    res.orders = no;
    res.positions = np;
    /* placements of unknown outcome: by client id */
    for (size_t i = 0; i < tm->nrefs; i++) {
        const struct order_ref *ref = &tm->refs[i];

        if (ref->done || ref->pstate != PS_FINDING)
            continue;
        for (size_t k = 0; k < no; k++) {
            if (!strncmp(L->obuf[k].client_id, ref->req.client_id, HH_CLIENT_ID_MAX)) {
                adopt_found(tm, i, &L->obuf[k]);
                break;
            }
        }
    }
    res.divergences = hh_tm_reconcile(tm, L->obuf, no, L->pbuf, np, fn, ctx);
    /* the hybrid stops adopt their orders' rows */
    for (size_t s = 0; s < L->nhsl; s++) {
        for (int leg = 0; leg < 2 && L->hsl[s].used; leg++) {
            const struct order_ref *ref = hh_tm__ref(tm, L->hsl[s].key[leg]);
            struct hh_hsl_action act;

            if (!ref || !ref->boid)
                continue;
            for (size_t k = 0; k < no; k++) {
                if (L->obuf[k].order_id != ref->boid)
                    continue;
                if (hh_hsl_on_status(&L->hsl[s].h, &L->obuf[k], now_of(tm), &act, NULL) ==
                    HH_OK)
                    hsl_do(tm, (uint32_t)s, &act);
                break;
            }
        }
    }
    /* working orders at the broker the engine never placed */
    for (size_t k = 0; k < no; k++) {
        const struct hh_broker_order *b = &L->obuf[k];

        if (hh_ord_state_terminal(b->state) || hh_tm__ref_by_boid(tm, b->order_id) ||
            known_client(tm, b->client_id))
            continue;
        if (fn) {
            struct hh_tm_divergence d = { HH_DIV_FOREIGN_ORDER, b->iid, b->order_id, 0,
                                          b->qty - b->filled };

            fn(ctx, &d);
        }
        res.divergences++;
    }
    for (size_t i = 0; i < tm->nrefs; i++)
        res.working += !tm->refs[i].done && tm->refs[i].pstate == PS_PLACED;
    for (size_t i = 0; i < tm->ntrades; i++)
        if (tm->trades[i].st == T_OPEN)
            hh_tm__live_drive(tm, (uint32_t)i);
    live_arm(tm);
out:
    if (out)
        *out = res;
    return res.rc;
}
