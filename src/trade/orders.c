/*
 * orders.c — the order road: the one way every order of the trade manager
 * takes to the broker and back, in every mode (contract in trade.h).
 *
 * Orders.  A decision to place is write-ahead: hh_tm__place() only queues
 * the order (PS_QUEUED, an engine key in ref->oid, the request with its
 * deterministic client id in ref->req).  hh_tm_flush() — which the manager
 * runs at the end of each of its calls and after each report — passes the
 * runner's durability barrier (the checkpoint holds the queued order), then
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
 * A send round makes only the calls that were due when it started: what
 * their answers decide is queued for the next round, after the next
 * barrier.  A queued order restored from a checkpoint may have been sent
 * before the crash: it becomes FINDING, looked up, never sent twice.
 * Cancellations and modifications are queued the same way; a cancel stays
 * unconfirmed until a CANCELLED report, or a status query (asked
 * exec.sl_confirm_poll after the cancel), shows the order terminal: an
 * order is `done` only on the broker's word.  A broker that reports inside
 * its calls (the simulated exchange) confirms at once, so a backtest takes
 * exactly the same road, only without waiting.
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
 * Invariants:
 *  - every broker call is made from a flush or hh_tm_poll(), at the
 *    engine's time, in ref order: a replay makes the same calls;
 *  - open[] lists exactly the refs not done, ascending (the only refs a
 *    round or the timer looks at).
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
        "DUP_FILL", "BAD_REPORT", "HEDGE_IMBALANCE", "ILLEGAL_TRANSITION", "EXIT_CAPPED",
        "GIVEN_UP", "OVERSELL", "NAKED_SHORT", "HEDGE", "MARGIN_UNCHECKED", "STRAY",
    };
    _Static_assert(sizeof names / sizeof names[0] == HH_TMA_KINDS, "a name per alert kind");

    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

static hh_time_t now_of(const struct hh_tm *tm)
{
    return tm->clock->now == HH_TIME_NONE ? 0 : tm->clock->now;
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

int hh_tm__orders_init(struct hh_tm *tm)
{
    struct hh_tm_config *c = &tm->cfg;
    struct hh_hsl probe;
    int rc;

    tm->x.timer_at = HH_TIME_NONE;
    tm->x.round_npos = SIZE_MAX;
    if (c->retry.attempts <= 0)
        c->retry = (struct hh_retry_policy){ 3, HH_NS_PER_S, 8 * HH_NS_PER_S,
                                             HH_RATIO_SCALE / 5 };
    if (c->breaker.failures <= 0)
        c->breaker = (struct hh_breaker_config){ 5, 30 * HH_NS_PER_S, 20 * HH_NS_PER_S };
    if (c->hsl.confirm_poll <= 0)
        c->hsl.confirm_poll = CONFIRM_POLL_DEFAULT;
    if (hh_hsl_init(&probe, &c->hsl))
        return HH_EINVAL;
    if ((rc = hh_retry_init(&tm->x.retry, &c->retry, c->retry_seed ? c->retry_seed : 1)))
        return rc;
    if ((rc = hh_u64map_init(&tm->x.by_boid, 1024)))
        return rc;
    if ((rc = hh_u64map_init(&tm->x.execs, 1024)))
        return rc;
    return hh_breaker_init(&tm->x.brk, &c->breaker, on_transition, tm);
}

void hh_tm__orders_free(struct hh_tm *tm)
{
    for (size_t i = 0; i < tm->x.nhsl; i++)
        if (tm->x.hsl[i].used)
            hh_hsl_free(&tm->x.hsl[i].h);
    free(tm->x.hsl);
    free(tm->x.obuf);
    free(tm->x.pbuf);
    free(tm->x.round);
    free(tm->x.open);
    free(tm->x.exiting);
    hh_u64map_free(&tm->x.by_boid);
    hh_u64map_free(&tm->x.execs);
    hh_breaker_free(&tm->x.brk);
}

const struct hh_tm_exec_stats *hh_tm_exec_stats(const struct hh_tm *tm)
{
    return &tm->x.stats;
}

enum hh_breaker_state hh_tm_breaker_state(const struct hh_tm *tm)
{
    return tm->x.brk.state;
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

    return boid && hh_u64map_get(&tm->x.by_boid, boid, &v) ? &tm->refs[v - 1] : NULL;
}

static size_t idx_of(const struct hh_tm *tm, const struct order_ref *ref)
{
    return (size_t)(ref - tm->refs);
}

int hh_tm__queue_place(struct hh_tm *tm, struct order_ref *ref, uint64_t *oid)
{
    int rc = hh_ord_init_shared(&ref->ord, &ref->req, now_of(tm), &tm->x.execs);
    struct sym *sy;

    if (rc)
        return rc;
    if (!(sy = hh_tm__sym(tm, ref->req.iid)))
        return HH_ENOMEM;
    sy->traded = true;
    ref->acked_at = HH_TIME_NONE;
    ref->oid = ++tm->x.next_key;
    ref->boid = 0;
    ref->pstate = PS_QUEUED;
    ref->due = now_of(tm);
    if ((rc = hh_u64map_put(&tm->by_oid, ref->oid, tm->nrefs + 1)) ||
        (rc = hh_grow(&tm->x.open, &tm->x.capopen, tm->x.nopen + 1, sizeof *tm->x.open)))
        return rc;
    tm->x.open[tm->x.nopen++] = (uint32_t)tm->nrefs;
    tm->nrefs++;
    tm->changes++;
    tm->x.dirty = true;
    *oid = ref->oid;
    return HH_OK;
}

hh_qty_t hh_tm__open_qty(const struct order_ref *ref)
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

    tm->x.stats.refusals++;
    tm->x.stats.dup_fills += rc == HH_EEXIST;
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
 * the call queued — for an order of unknown outcome, its look-up at once
 * (the cancel goes when it is found: it must not fill meanwhile). */
static void want_cancel(struct hh_tm *tm, struct order_ref *ref)
{
    struct hh_diag d = { "" };

    decided(tm, ref, hh_ord_cancel(&ref->ord, now_of(tm), NULL, &d), &d);
    ref->cancel = CS_WANTED;
    if (ref->pstate == PS_PLACED || ref->pstate == PS_FINDING)
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
        return (ref->cancel == CS_WANTED || ref->poll || ref->modify) && ref->due <= now;
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
    /* a withdrawal stays marked as asked for: its owner must not take it
     * for an end the broker imposed (and place it again) */
    ref->cancel = kind == HH_RPT_CANCELLED ? CS_SENT : CS_NONE;
    ref->poll = false;
    ref->modify = false;
    hh_tm__deliver(tm, ref, &r);
}

/* A cancel: an order not at the broker ends at once; else the call is
 * queued (FINDING: sent once found).  A modification wanted is dropped. */
static void cancel_ref(struct hh_tm *tm, struct order_ref *ref)
{
    tm->changes++;
    tm->x.dirty = true;
    ref->modify = false;
    if (ref->pstate == PS_QUEUED || ref->pstate == PS_RETRY) {
        /* Not at the broker (a 503 means not processed): nothing to ask. */
        end_unsent(tm, idx_of(tm, ref), HH_RPT_CANCELLED, "cancelled before it was sent");
        return;
    }
    want_cancel(tm, ref);
}

void hh_tm__queue_cancel(struct hh_tm *tm, struct order_ref *ref)
{
    if (!ref->done && ref->cancel == CS_NONE)
        cancel_ref(tm, ref);
}

void hh_tm__recancel(struct hh_tm *tm, struct order_ref *ref)
{
    if (!ref->done)
        cancel_ref(tm, ref);
}

void hh_tm__want_status(struct hh_tm *tm, struct order_ref *ref)
{
    if (ref->pstate != PS_PLACED || ref->done)
        return;
    ref->poll = true;
    ref->due = now_of(tm);
    tm->x.dirty = true;
}

/*
 * A change of a working order (qty: its new total, trigger: its new
 * level; 0 = unchanged).  An order not yet sent just changes what will be
 * sent; a change already wanted is replaced by this one.
 */
void hh_tm__queue_modify(struct hh_tm *tm, struct order_ref *ref, hh_qty_t qty,
                         hh_price_t trigger)
{
    if (ref->done || ref->cancel != CS_NONE)
        return;
    tm->changes++;
    if (ref->pstate == PS_QUEUED || ref->pstate == PS_RETRY) {
        if (qty)
            ref->req.qty = ref->qty = ref->ord.req.qty = qty;
        if (trigger)
            ref->req.trigger = ref->ord.req.trigger = trigger;
        return;
    }
    ref->modify = true;
    ref->mod_qty = qty;
    ref->mod_trigger = trigger;
    if (ref->pstate == PS_PLACED)
        ref->due = now_of(tm);
    tm->x.dirty = true;
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
        tm->x.stats.dup_fills++;
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

bool hh_tm__apply_report(struct hh_tm *tm, struct order_ref *ref, const struct hh_report *r,
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

static int gate(struct hh_tm *tm)
{
    struct hh_breaker *b = &tm->x.brk;
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
        tm->x.stats.refused++;
        return HH_EUNAVAIL;
    }
    return HH_OK;
}

/* When to try again after the breaker refused: its cool-off's end. */
static hh_time_t after_breaker(struct hh_tm *tm)
{
    hh_time_t t = hh_breaker_next(&tm->x.brk), now = now_of(tm);

    return t != HH_TIME_MAX && t > now ? t : now + tm->cfg.hsl.confirm_poll;
}

/* Backoff for a failed call of ref (rc); false when an entry used up its
 * attempts.  Exits and look-ups are never given up: past the attempts they
 * keep the longest delay. */
static bool backoff(struct hh_tm *tm, struct order_ref *ref, int rc, bool may_give_up)
{
    struct hh_retry_track tr = { ref->failures, HH_TIME_NONE };
    hh_time_t when, now = now_of(tm);

    if (hh_retry_next(&tm->x.retry, &tr, rc, now, &when)) {
        ref->failures = tr.failures;
        ref->due = when;
        return true;
    }
    ref->failures = tr.failures;
    if (may_give_up)
        return false;
    ref->due = now + hh_retry_delay(&tm->x.retry, tr.failures);
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
        ref->pstate = PS_PLACED;
        ord_refuse(tm, ref);
        ref->done = true;
        hh_tm__hsl_place_failed(tm, ref);
        hh_tm__drive(tm, tm->refs[i].trade);
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
    ref->acked_at = now_of(tm);
    ref->missing = 0;
    if (hh_u64map_put(&tm->x.by_boid, boid, i + 1))
        return;
    tm->x.stats.placed++;
    tm->changes++;
    if (ref->cancel == CS_WANTED)
        ref->due = now_of(tm);
    hh_tm__emit_ref(tm, HH_TMO_SENT, ref, NULL, 0);
}

static bool is_exit(const struct order_ref *ref)
{
    return ref->purpose != P_ENTRY && ref->purpose != P_HEDGE;
}

/* The broker's listed position in iid for this round (NULL: none listed). */
static const struct hh_broker_position *round_position(const struct hh_tm *tm, hh_iid_t iid)
{
    for (size_t k = 0; k < tm->x.round_npos && tm->x.round_npos != SIZE_MAX; k++)
        if (tm->x.pbuf[k].iid == iid)
            return &tm->x.pbuf[k];
    return NULL;
}

/*
 * The live position at the broker, listed for the round: an exit must not
 * sell more than the broker holds (or buy back more than it is short) —
 * the engine may not have heard yet of a position closed by hand.  Only
 * where the engine's own holdings in the instrument all lie on the exit's
 * side (mixed holdings net out at the broker).  True when it may go.
 */
static bool broker_allows(struct hh_tm *tm, struct order_ref *ref)
{
    const struct hh_broker_position *p;
    bool sell = ref->req.side == HH_SELL;
    hh_qty_t net, room;

    if (tm->x.round_npos == SIZE_MAX)
        return true;
    net = hh_tm_position(tm, ref->req.iid);
    if (sell ? net <= 0 : net >= 0)
        return true;
    p = round_position(tm, ref->req.iid);
    room = p ? (sell ? p->qty : -p->qty) : 0;
    if (ref->req.qty <= room)
        return true;   /* (each exit on its own: a resting stop and the targets overlap) */
    tm->x.poll_wanted = true;
    alert_ref(tm, HH_TMA_EXIT_CAPPED, false, ref, 0, room > 0 ? room : 0,
              "the broker holds less than this exit would close: it waits for the "
              "reconciliation");
    return false;
}

/*
 * Every exit is capped when it is sent by the position it closes: an exit
 * decided earlier (a stop's market leg, a square-off, a group's closing
 * order) must never sell what the broker's view has given up since.  A
 * hybrid stop's order over the position aborts the stop (the trade decides
 * a new one for what is left).  True when the order is not to be sent.
 */
static bool cap_exit(struct hh_tm *tm, size_t i)
{
    struct order_ref *ref = &tm->refs[i];
    hh_qty_t room;

    if (!is_exit(ref))
        return false;
    room = hh_tm__exit_room(tm, ref);
    if (ref->req.qty <= room)
        return false;
    tm->x.stats.exits_capped++;
    alert_ref(tm, HH_TMA_EXIT_CAPPED, false, ref, 0, room > 0 ? room : 0,
              "exit above the position it closes: cut to the position when sent");
    if (ref->hsl) {
        hh_tm__abort_exits(tm, ref->trade);
        return true;
    }
    if (room <= 0 || ref->group) {
        /* a group decides its closing orders again from its legs' counts */
        end_unsent(tm, i, HH_RPT_CANCELLED, "not sent: above what is left of the position");
        return true;
    }
    ref->req.qty = ref->qty = ref->ord.req.qty = room;
    tm->changes++;
    return false;
}

/* An exit waits for the reconciliation (tried again after confirm_poll)
 * when an execution not ours was reported in its instrument, or the broker
 * holds less than it would close: it may sell what is already gone. */
static bool exit_waits(struct hh_tm *tm, struct order_ref *ref)
{
    if (!is_exit(ref))
        return false;
    if ((ref->req.iid >= tm->nsyms || !tm->syms[ref->req.iid].foreign) &&
        broker_allows(tm, ref))
        return false;
    tm->x.stats.exits_waited++;
    ref->pstate = PS_RETRY;
    ref->due = now_of(tm) + tm->cfg.hsl.confirm_poll;
    return true;
}

static int do_place(struct hh_tm *tm, size_t i)
{
    struct order_ref *ref = &tm->refs[i];
    uint64_t boid = 0;
    int rc;

    if (!hh_tm__kill_allows(tm, ref->purpose, ref->group)) {
        /* decided before the kill switch or the stop: withdrawn */
        end_unsent(tm, i, HH_RPT_CANCELLED, tm->stopping && ref->purpose == P_ENTRY
                   ? "not sent: the engine is stopping" : "not sent: the kill switch");
        return 0;
    }
    if (cap_exit(tm, i) || exit_waits(tm, &tm->refs[i]))
        return 0;
    ref = &tm->refs[i];
    rc = gate(tm);
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
    ref->placed_at = now_of(tm);
    rc = tm->broker.ops->place(tm->broker.impl, &ref->req, &boid);
    hh_breaker_record(&tm->x.brk, now_of(tm), rc);
    ref = &tm->refs[i];
    if (rc == HH_OK) {
        placed(tm, i, boid);
        ref = &tm->refs[i];
        if (ref->hsl)
            hh_tm__hsl_placed(tm, ref, boid);
        return 1;
    }
    switch (hh_retry_classify(HH_RETRY_OP_PLACE, rc)) {
    case HH_RETRY_FIND_FIRST:
        tm->x.stats.timeouts++;
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
        tm->x.stats.retries++;
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

    tm->x.stats.found++;
    placed(tm, i, b->order_id);
    alert_ref(tm, HH_TMA_PLACE_FOUND, false, &tm->refs[i], 0, b->filled,
                 "the order of a placement of unknown outcome was found by its client id");
    ref = &tm->refs[i];
    if (ref->hsl)
        hh_tm__hsl_status(tm, ref, b);
    hh_tm__settle(tm, i, b, NULL, NULL);
}

int hh_tm__lookup(struct hh_tm *tm, size_t k, struct hh_broker_order *row)
{
    int rc;

    if (!tm->broker.ops->find)
        return HH_ENOTFOUND;   /* the listings are all there is to go by */
    if ((rc = gate(tm)))
        return rc;
    rc = tm->broker.ops->find(tm->broker.impl, tm->refs[k].req.client_id, row);
    hh_breaker_record(&tm->x.brk, now_of(tm), rc);
    return rc;
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
    hh_breaker_record(&tm->x.brk, now_of(tm), rc);
    ref = &tm->refs[i];
    tm->changes++;
    if (rc == HH_OK) {
        adopt_found(tm, i, &b);
    } else if (rc == HH_ENOTFOUND && now_of(tm) - ref->placed_at < HH_TM_BOOK_GRACE) {
        /* maybe only not listed yet: placing again now could double it.
         * Asked again soon when it is to be cancelled (the kill switch: it
         * must not fill meanwhile) or the engine stops (its time is short) */
        ref->due = tm->stopping || ref->cancel == CS_WANTED
                   ? now_of(tm) + tm->cfg.hsl.confirm_poll : ref->placed_at + HH_TM_BOOK_GRACE;
    } else if (rc == HH_ENOTFOUND) {
        if (ref->cancel == CS_WANTED) {
            alert_ref(tm, HH_TMA_PLACE_ABSENT, false, ref, 0, ref->qty,
                      "not at the broker past the book's grace: taken for never placed (should "
                      "it be listed later, it is a stray and cancelled then)");
            end_unsent(tm, i, HH_RPT_CANCELLED, "cancelled; never reached the broker");
        } else if (!hh_tm__kill_allows(tm, ref->purpose, ref->group)) {
            /* nothing may be placed for it now (a stopping engine's entry):
             * it stays of unknown outcome, looked up again — first thing at
             * the next start when the stop's time runs out */
            ref->due = now_of(tm) + tm->cfg.hsl.confirm_poll;
        } else {
            alert_ref(tm, HH_TMA_PLACE_ABSENT, false, ref, 0, ref->qty,
                         "not at the broker: placed again with the same client id");
            ref = &tm->refs[i];
            ref->pstate = PS_QUEUED;
            ref->failures = 0;
        }
    } else {
        backoff(tm, ref, rc, false);
        tm->x.stats.retries++;
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
    hh_breaker_record(&tm->x.brk, now_of(tm), rc);
    ref = &tm->refs[i];
    tm->changes++;
    if (rc == HH_OK)
        hh_tm__emit_ref(tm, HH_TMO_CANCEL, ref, NULL, 0);
    if (ref->hsl && ref->hsl_leg == HH_HSL_LIMIT) {
        ref->cancel = CS_SENT;
        hh_tm__hsl_cancel_result(tm, ref, rc);
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
        tm->x.stats.retries++;
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
    hh_breaker_record(&tm->x.brk, now_of(tm), rc);
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
    if (ref->hsl)
        hh_tm__hsl_status(tm, ref, &b);
    else if (!ref->done && ref->cancel == CS_SENT && !hh_ord_state_terminal(b.state)) {
        want_cancel(tm, ref);   /* still working: the cancel was lost; again */
    }
    return 1;
}

/* A change of quantity and/or trigger, applied to the order's record once
 * the broker accepted it (a broker that also reports MODIFIED then adds
 * nothing).  An order no longer working cannot change: its own report
 * says what it became. */
static int do_modify(struct hh_tm *tm, size_t i)
{
    struct order_ref *ref;
    int rc = gate(tm);

    if (rc) {
        tm->refs[i].due = after_breaker(tm);
        return 0;
    }
    ref = &tm->refs[i];
    rc = tm->broker.ops->modify(tm->broker.impl, ref->boid, ref->mod_qty, 0, ref->mod_trigger);
    hh_breaker_record(&tm->x.brk, now_of(tm), rc);
    ref = &tm->refs[i];
    tm->changes++;
    if (hh_retry_retryable(rc)) {
        backoff(tm, ref, rc, false);   /* ask again */
        tm->x.stats.retries++;
        return 1;
    }
    ref->modify = false;
    if (rc == HH_OK) {
        if (ref->mod_qty && ref->mod_qty >= ref->ord.filled)
            ref->req.qty = ref->qty = ref->ord.req.qty = ref->mod_qty;
        if (ref->mod_trigger)
            ref->req.trigger = ref->ord.req.trigger = ref->mod_trigger;
        {
            struct hh_tm_order_event e = { .kind = HH_TMO_MODIFY, .order_id = ref->boid,
                                           .req = &ref->req, .qty = ref->mod_qty,
                                           .trigger = ref->mod_trigger,
                                           .state = ref->ord.state };

            hh_tm__emit_order(tm, &e, ref->trade, ref->group);
        }
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
        return ref->cancel == CS_WANTED ? do_cancel(tm, i)
               : ref->poll ? do_poll(tm, i) : do_modify(tm, i);
    }
}

/* After a restore: queued placements (and 503-refused ones) may have
 * reached the broker just before the crash: look them up first. */
static void resume_restored(struct hh_tm *tm)
{
    size_t n = tm->x.restored_upto;

    tm->x.restored_upto = 0;
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

/* Forget the refs that are done (open[] keeps its order). */
static void prune_open(struct tm_exec *X, const struct order_ref *refs)
{
    size_t k = 0;

    for (size_t i = 0; i < X->nopen; i++)
        if (!refs[X->open[i]].done)
            X->open[k++] = X->open[i];
    X->nopen = k;
}

static bool has_commands(struct hh_tm *tm)
{
    prune_open(&tm->x, tm->refs);
    for (size_t i = 0; i < tm->x.nopen; i++)
        if (ref_due(tm, &tm->refs[tm->x.open[i]]))
            return true;
    return tm->x.restored_upto > 0;
}

/*
 * One round: exactly the calls that were due when it started — the ones the
 * barrier just made durable.  What their answers decide (a target after an
 * entry was found filled, a market order after a refused stop-limit, a
 * cancel, a placement again after a look-up found nothing) is only queued:
 * it waits for the next round, after the next barrier.  Sending it in this
 * round would put at the broker an order no checkpoint knows, and a crash
 * then would decide it again under the same client id.
 */
static int list_positions(struct hh_tm *tm, size_t *n);

/* The broker's positions, listed once for a round that places exits (in
 * pbuf: no poll runs inside a send round). */
static void list_round_positions(struct hh_tm *tm, size_t n)
{
    struct tm_exec *X = &tm->x;
    bool exits = false;
    size_t np = 0;
    int rc;

    X->round_npos = SIZE_MAX;
    for (size_t k = 0; k < n && !exits; k++) {
        const struct order_ref *ref = &tm->refs[X->round[k]];

        exits = (ref->pstate == PS_QUEUED || ref->pstate == PS_RETRY) && is_exit(ref);
    }
    if (!exits || !tm->broker.ops->positions || gate(tm))
        return;
    rc = list_positions(tm, &np);
    hh_breaker_record(&X->brk, now_of(tm), rc);
    if (rc == HH_OK)
        X->round_npos = np;
}

static void send_round(struct hh_tm *tm)
{
    struct tm_exec *X = &tm->x;
    size_t n = 0;

    X->in_send = true;
    resume_restored(tm);
    prune_open(X, tm->refs);
    if (hh_grow(&X->round, &X->round_cap, X->nopen + 1, sizeof *X->round)) {
        X->in_send = false;
        return;
    }
    for (size_t i = 0; i < X->nopen; i++)
        if (ref_due(tm, &tm->refs[X->open[i]]))
            X->round[n++] = X->open[i];
    list_round_positions(tm, n);
    for (size_t k = 0; k < n; k++)
        if (ref_due(tm, &tm->refs[X->round[k]]))   /* (an earlier answer may have
                                                       settled it) */
            send_one(tm, X->round[k]);
    X->in_send = false;
    X->round_npos = SIZE_MAX;
    X->dirty = true;   /* what the answers decided may be due */
}

/* Rounds bounded per flush: each round is one barrier; a broker that kept
 * answering with new work forever is a bug, not a market. */
#define FLUSH_ROUNDS_MAX 10000

/* Does the broker have reports due by now? */
static bool broker_due(const struct hh_tm *tm)
{
    const struct hh_broker_ops *ops = tm->broker.ops;

    return ops->next_due && ops->pump && ops->next_due(tm->broker.impl) <= now_of(tm);
}

void hh_tm_flush(struct hh_tm *tm)
{
    struct tm_exec *X = &tm->x;
    const struct hh_broker_ops *ops = tm->broker.ops;

    if (X->flushing || (!X->dirty && !broker_due(tm)))
        return;
    X->flushing = true;
    for (int round = 0; round < FLUSH_ROUNDS_MAX; round++) {
        if (!X->hold && has_commands(tm)) {
            if (X->barrier && X->barrier(X->barrier_ctx))
                break;   /* nothing may go out before the state is durable */
            send_round(tm);
            continue;
        }
        if (broker_due(tm)) {
            ops->pump(tm->broker.impl);
            continue;
        }
        break;
    }
    X->dirty = has_commands(tm);   /* still due: held, or the barrier refused */
    X->flushing = false;
    hh_tm__arm(tm);
}

void hh_tm_set_barrier(struct hh_tm *tm, int (*barrier)(void *ctx), void *ctx)
{
    tm->x.barrier = barrier;
    tm->x.barrier_ctx = ctx;
}

void hh_tm_hold_orders(struct hh_tm *tm, bool hold)
{
    tm->x.hold = hold;
    tm->x.dirty = true;
    if (!hold)
        hh_tm_flush(tm);
}

/* ---- stopping ------------------------------------------------------------------------ */

/* Is the order still in flight for a stopping engine: its placement of
 * unknown outcome, not yet sent again, or being cancelled; a market order
 * working (it ends at the next trade); a hybrid stop's order (the stop is
 * carried through)?  A resting order (a target, a resting stop) is not: it
 * works at the broker while the engine is down. */
static bool in_flight(const struct order_ref *ref)
{
    return !ref->done && (ref->pstate != PS_PLACED || ref->cancel != CS_NONE || ref->hsl ||
                          ref->req.type == HH_ORD_MARKET);
}

size_t hh_tm_in_flight(const struct hh_tm *tm)
{
    size_t n = 0;

    for (size_t i = 0; i < tm->x.nopen; i++)
        n += in_flight(&tm->refs[tm->x.open[i]]);
    return n;
}

size_t hh_tm_stop_step(struct hh_tm *tm)
{
    hh_tm__orders_timer(tm, now_of(tm));   /* look-ups, cancels, the hybrid stops'
                                              deadlines: what is due by now */
    hh_tm_flush(tm);
    return hh_tm_in_flight(tm);
}

/* ---- timers -------------------------------------------------------------------------- */

void hh_tm__arm(struct hh_tm *tm)
{
    struct tm_exec *X = &tm->x;
    hh_time_t next = hh_tm__exits_next(tm), now = now_of(tm);

    for (size_t i = 0; i < X->nopen; i++) {
        const struct order_ref *ref = &tm->refs[X->open[i]];

        if (ref->done)
            continue;
        if ((ref->pstate == PS_RETRY || ref->pstate == PS_FINDING ||
             (ref->pstate == PS_PLACED && (ref->cancel == CS_WANTED || ref->poll ||
                                           ref->modify))) &&
            ref->due > now && ref->due < next)
            next = ref->due;
    }
    if (X->brk.state == HH_BRK_OPEN && hh_breaker_next(&X->brk) < next)
        next = hh_breaker_next(&X->brk);
    if (next == X->timer_at && X->timer_id)
        return;
    if (X->timer_id)
        hh_timers_cancel(&tm->timers, X->timer_id);
    X->timer_id = 0;
    X->timer_at = HH_TIME_NONE;
    if (next == HH_TIME_MAX)
        return;
    if (hh_timers_start(&tm->timers, next, TMR_ORDERS, 0, &X->timer_id) == HH_OK)
        X->timer_at = next;
}

void hh_tm__orders_timer(struct hh_tm *tm, hh_time_t now)
{
    tm->x.dirty = true;   /* retries, look-ups, status queries may be due */
    hh_breaker_tick(&tm->x.brk, now);
    hh_tm__exits_timer(tm, now);
    hh_tm__arm(tm);
}

/* ---- reconciliation poll -------------------------------------------------------------- */

/* Fill the live buffer with a broker listing (grown until it fits). */
static int list_orders(struct hh_tm *tm, size_t *n)
{
    struct tm_exec *L = &tm->x;
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
    struct tm_exec *L = &tm->x;
    int rc;

    for (;;) {
        rc = tm->broker.ops->positions(tm->broker.impl, L->pbuf, L->pbuf_cap, n);
        if (rc || *n <= L->pbuf_cap)
            return rc;
        if (hh_grow(&L->pbuf, &L->pbuf_cap, *n, sizeof *L->pbuf))
            return HH_ENOMEM;
    }
}

bool hh_tm_poll_wanted(const struct hh_tm *tm)
{
    return tm->x.poll_wanted;
}

int hh_tm_poll(struct hh_tm *tm, hh_div_fn fn, void *ctx, struct hh_tm_poll_result *out)
{
    struct tm_exec *L = &tm->x;
    struct hh_tm_poll_result res;
    size_t no = 0, np = 0;
    int rc;

    memset(&res, 0, sizeof res);
    if (!tm->broker.ops->orders || !tm->broker.ops->positions) {
        res.rc = HH_ESTATE;
        goto out;
    }
    resume_restored(tm);
    L->stats.polls++;
    L->poll_wanted = false;
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
    /* placements of unknown outcome, looked up or about to be placed again
     * after a look-up found nothing: by client id (never placed twice) */
    for (size_t i = 0; i < tm->nrefs; i++) {
        const struct order_ref *ref = &tm->refs[i];

        if (ref->done || ref->boid || ref->ord.state != HH_OS_SENT)
            continue;
        for (size_t k = 0; k < no; k++) {
            if (!strncmp(L->obuf[k].client_id, ref->req.client_id, HH_CLIENT_ID_MAX)) {
                adopt_found(tm, i, &L->obuf[k]);
                break;
            }
        }
    }
    res.divergences = hh_tm_reconcile(tm, L->obuf, no, L->pbuf, np, fn, ctx);
    for (size_t i = 0; i < tm->nsyms; i++)
        tm->syms[i].foreign = tm->syms[i].foreign && tm->syms[i].unsettled;
    /* the hybrid stops adopt their orders' rows */
    for (size_t s = 0; s < L->nhsl; s++) {
        for (int leg = 0; leg < 2 && L->hsl[s].used; leg++) {
            struct order_ref *ref = hh_tm__ref(tm, L->hsl[s].key[leg]);

            if (!ref || !ref->boid)
                continue;
            for (size_t k = 0; k < no; k++) {
                if (L->obuf[k].order_id == ref->boid) {
                    hh_tm__hsl_status(tm, ref, &L->obuf[k]);
                    break;
                }
            }
        }
    }
    /* working orders at the broker the engine never placed */
    for (size_t k = 0; k < no; k++) {
        const struct hh_broker_order *b = &L->obuf[k];

        if (hh_ord_state_terminal(b->state) || hh_tm__ref_by_boid(tm, b->order_id) ||
            hh_tm__ref_by_client(tm, b->client_id))
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
    for (size_t i = 0; i < tm->ntrades; i++) {
        const struct trade *t = &tm->trades[i];

        if (t->st != T_OPEN)
            continue;
        /* (a trade not its symbol's active one — adopted — is squared off here) */
        if (!t->squared_off && now_of(tm) >= t->squareoff_at)
            hh_tm__squareoff(tm, (uint32_t)i);
        else
            hh_tm__drive(tm, (uint32_t)i);
    }
    hh_tm__arm(tm);
out:
    if (out)
        *out = res;
    return res.rc;
}
