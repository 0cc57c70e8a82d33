/*
 * order.c — the order state machine (see order.h).
 *
 * Invariants kept by every function here:
 *  - 0 <= filled <= req.qty;
 *  - state FILLED iff filled == req.qty (set only through a fill, a
 *    CANCELLED/EXPIRED with everything filled is reported as such by
 *    the broker, or adopt);
 *  - PARTIALLY_FILLED iff working and 0 < filled < qty and no cancel
 *    is pending;
 *  - a refused call leaves the order exactly as it was.
 */
#include "exec/order.h"

#include <stdio.h>
#include <string.h>

static bool terminal(enum hh_ord_state s)
{
    return hh_ord_state_terminal(s);
}

/* The state a working order shows for its quantities. */
static enum hh_ord_state working_state(hh_qty_t filled)
{
    return filled > 0 ? HH_OS_PARTIAL : HH_OS_OPEN;
}

bool hh_ord_transition_ok(enum hh_ord_state from, enum hh_ord_state to)
{
    switch (from) {
    case HH_OS_NEW:
        return to == HH_OS_SENT || to == HH_OS_CANCELLED || to == HH_OS_REJECTED;
    case HH_OS_SENT:
    case HH_OS_OPEN:
        return to != HH_OS_NEW && to != HH_OS_SENT;
    case HH_OS_PARTIAL:
        return to == HH_OS_PARTIAL || to == HH_OS_FILLED || to == HH_OS_CANCEL_PENDING ||
               to == HH_OS_CANCELLED || to == HH_OS_EXPIRED;
    case HH_OS_CANCEL_PENDING:
        return to == HH_OS_OPEN || to == HH_OS_PARTIAL || to == HH_OS_CANCEL_PENDING ||
               to == HH_OS_FILLED || to == HH_OS_CANCELLED || to == HH_OS_REJECTED ||
               to == HH_OS_EXPIRED;
    case HH_OS_FILLED:
    case HH_OS_CANCELLED:
    case HH_OS_REJECTED:
    case HH_OS_EXPIRED:
        return false;
    }
    return false;
}

static int start(struct hh_ord *o, const struct hh_order_req *req, hh_time_t now)
{
    memset(o, 0, sizeof *o);
    if (req->qty <= 0)
        return HH_EINVAL;
    o->req = *req;
    o->req.client_id[HH_CLIENT_ID_MAX - 1] = '\0';
    o->state = HH_OS_NEW;
    o->updated = now;
    return HH_OK;
}

int hh_ord_init(struct hh_ord *o, const struct hh_order_req *req, hh_time_t now)
{
    int rc = start(o, req, now);

    return rc ? rc : hh_u64map_init(&o->execs, 8);
}

int hh_ord_init_shared(struct hh_ord *o, const struct hh_order_req *req, hh_time_t now,
                       struct hh_u64map *execs)
{
    int rc = start(o, req, now);

    if (!rc)
        o->shared = execs;
    return rc;
}

void hh_ord_free(struct hh_ord *o)
{
    if (o && !o->shared)
        hh_u64map_free(&o->execs);
}

static struct hh_u64map *execs_of(struct hh_ord *o)
{
    return o->shared ? o->shared : &o->execs;
}

/* Has this order applied (or counted as stale) the exec id already? */
static bool exec_seen(struct hh_ord *o, uint64_t exec_id)
{
    uint64_t v;

    return hh_u64map_get(execs_of(o), exec_id, &v) && v == o->order_id;
}

static void effect(struct hh_ord_effect *eff, enum hh_ord_state from, enum hh_ord_state to,
                   hh_qty_t new_fill, hh_price_t price)
{
    if (!eff)
        return;
    eff->from = from;
    eff->to = to;
    eff->new_fill = new_fill;
    eff->price = price;
    eff->stale = from == to && new_fill == 0;
}

static int illegal(struct hh_ord *o, enum hh_ord_state to, const char *what,
                   struct hh_diag *d)
{
    return hh_diag_set(d, HH_ESTATE, "%s: %s -> %s is not a legal transition (order %s)",
                       what, hh_ord_state_name(o->state), hh_ord_state_name(to),
                       o->req.client_id);
}

static int move(struct hh_ord *o, enum hh_ord_state to, hh_time_t now, const char *what,
                struct hh_ord_effect *eff, struct hh_diag *d)
{
    enum hh_ord_state from = o->state;

    if (from != to && !hh_ord_transition_ok(from, to))
        return illegal(o, to, what, d);
    o->state = to;
    o->updated = now;
    effect(eff, from, to, 0, 0);
    return HH_OK;
}

int hh_ord_sent(struct hh_ord *o, hh_time_t now, struct hh_diag *d)
{
    if (o->state != HH_OS_NEW)
        return illegal(o, HH_OS_SENT, "send", d);
    return move(o, HH_OS_SENT, now, "send", NULL, d);
}

int hh_ord_placed(struct hh_ord *o, uint64_t order_id, hh_time_t now, struct hh_diag *d)
{
    if (!order_id)
        return hh_diag_set(d, HH_EINVAL, "order %s: broker id 0", o->req.client_id);
    if (o->order_id && o->order_id != order_id)
        return hh_diag_set(d, HH_ESTATE, "order %s already has broker id %llu, not %llu",
                           o->req.client_id, (unsigned long long)o->order_id,
                           (unsigned long long)order_id);
    if (o->state == HH_OS_NEW)
        return illegal(o, HH_OS_SENT, "placed before sent", d);
    o->order_id = order_id;
    o->updated = now;
    return HH_OK;
}

int hh_ord_refused(struct hh_ord *o, hh_time_t now, struct hh_diag *d)
{
    if (o->state != HH_OS_NEW && o->state != HH_OS_SENT)
        return illegal(o, HH_OS_REJECTED, "refused before reaching the broker", d);
    return move(o, HH_OS_REJECTED, now, "refused", NULL, d);
}

int hh_ord_withdrawn(struct hh_ord *o, hh_time_t now, struct hh_diag *d)
{
    if (o->order_id)
        return hh_diag_set(d, HH_ESTATE, "order %s: withdrawn, but the broker has it (id %llu)",
                           o->req.client_id, (unsigned long long)o->order_id);
    if (o->state != HH_OS_NEW && o->state != HH_OS_SENT && o->state != HH_OS_CANCEL_PENDING)
        return illegal(o, HH_OS_CANCELLED, "withdrawn before reaching the broker", d);
    return move(o, HH_OS_CANCELLED, now, "withdrawn", NULL, d);
}

static void add_notional(struct hh_ord *o, hh_price_t price, hh_qty_t qty)
{
    __int128 v = (__int128)o->notional + (__int128)price * qty;

    o->notional = v > INT64_MAX ? INT64_MAX : v < INT64_MIN ? INT64_MIN : (int64_t)v;
}

static int on_fill(struct hh_ord *o, const struct hh_report *r, hh_time_t now,
                   struct hh_ord_effect *eff, struct hh_diag *d)
{
    enum hh_ord_state from = o->state, to;
    hh_qty_t cum, add;
    bool complete;
    int rc;

    if (r->exec_id && exec_seen(o, r->exec_id))
        return hh_diag_set(d, HH_EEXIST, "order %s: duplicate fill, exec id %llu",
                           o->req.client_id, (unsigned long long)r->exec_id);
    if (r->qty <= 0)
        return hh_diag_set(d, HH_EINVAL, "order %s: fill of %lld units", o->req.client_id,
                           (long long)r->qty);
    if (o->state == HH_OS_NEW)
        return illegal(o, HH_OS_PARTIAL, "fill", d);
    cum = r->filled > 0 ? r->filled : o->filled + r->qty;
    if (cum <= o->filled) {
        /* Already counted (a status poll adopted it, or a report overtaken
         * by a later one): remember the exec id, change nothing. */
        if (r->exec_id && (rc = hh_u64map_put(execs_of(o), r->exec_id, o->order_id)))
            return rc;
        effect(eff, from, from, 0, r->price);
        return HH_OK;
    }
    if (cum > o->req.qty || o->state == HH_OS_FILLED)
        return hh_diag_set(d, HH_ERANGE,
                           "order %s: fill of %lld would take filled to %lld, above the "
                           "order's %lld (state %s)", o->req.client_id, (long long)r->qty,
                           (long long)cum, (long long)o->req.qty,
                           hh_ord_state_name(o->state));
    if (terminal(o->state))
        return illegal(o, HH_OS_PARTIAL, "fill", d);
    /* Complete only at our quantity: r->leaves is not trusted (an adapter
     * leaving it 0 must not end an order early; a reduction whose MODIFIED
     * report was lost stays PARTIALLY_FILLED until reconciliation). */
    complete = cum == o->req.qty;
    to = complete ? HH_OS_FILLED
         : o->state == HH_OS_CANCEL_PENDING ? HH_OS_CANCEL_PENDING : HH_OS_PARTIAL;
    if (!hh_ord_transition_ok(from, to))
        return illegal(o, to, "fill", d);
    if (r->exec_id && (rc = hh_u64map_put(execs_of(o), r->exec_id, o->order_id)))
        return rc;
    add = cum - o->filled;
    add_notional(o, r->price, add);
    o->filled = cum;
    o->state = to;
    o->updated = now;
    o->fills++;
    effect(eff, from, to, add, r->price);
    return HH_OK;
}

/* A terminal report (CANCELLED, EXPIRED) carrying the final filled. */
static int on_end(struct hh_ord *o, const struct hh_report *r, enum hh_ord_state to,
                  hh_time_t now, struct hh_ord_effect *eff, struct hh_diag *d)
{
    enum hh_ord_state from = o->state;
    hh_qty_t add = 0;

    if (o->state == to) {
        effect(eff, from, from, 0, 0);      /* a repeat */
        return HH_OK;
    }
    if (o->state == HH_OS_NEW || terminal(o->state))
        return illegal(o, to, hh_ord_state_name(to), d);
    if (r->filled > o->req.qty)
        return hh_diag_set(d, HH_ERANGE, "order %s: %s with filled %lld above qty %lld",
                           o->req.client_id, hh_ord_state_name(to), (long long)r->filled,
                           (long long)o->req.qty);
    if (r->filled > o->filled) {
        add = r->filled - o->filled;        /* fills whose reports were lost */
        o->filled = r->filled;
    }
    o->state = o->filled == o->req.qty ? HH_OS_FILLED : to;
    o->updated = now;
    effect(eff, from, o->state, add, 0);
    return HH_OK;
}

int hh_ord_on_report(struct hh_ord *o, const struct hh_report *r, hh_time_t now,
                     struct hh_ord_effect *eff, struct hh_diag *d)
{
    enum hh_ord_state from = o->state;

    if (!o->order_id || r->order_id != o->order_id)
        return hh_diag_set(d, HH_EINVAL, "order %s (id %llu): report for order %llu",
                           o->req.client_id, (unsigned long long)o->order_id,
                           (unsigned long long)r->order_id);
    switch (r->kind) {
    case HH_RPT_ACK:
        if (o->state == HH_OS_NEW || terminal(o->state))
            return illegal(o, HH_OS_OPEN, "ACK", d);
        if (o->state != HH_OS_SENT) {
            effect(eff, from, from, 0, 0);
            return HH_OK;
        }
        return move(o, working_state(o->filled), now, "ACK", eff, d);
    case HH_RPT_FILL:
        return on_fill(o, r, now, eff, d);
    case HH_RPT_CANCELLED:
        return on_end(o, r, HH_OS_CANCELLED, now, eff, d);
    case HH_RPT_EXPIRED:
        return on_end(o, r, HH_OS_EXPIRED, now, eff, d);
    case HH_RPT_REJECTED:
        if (o->state == HH_OS_REJECTED) {
            effect(eff, from, from, 0, 0);
            return HH_OK;
        }
        if (o->filled > 0)
            return hh_diag_set(d, HH_ESTATE, "order %s: REJECTED after %lld filled",
                               o->req.client_id, (long long)o->filled);
        return move(o, HH_OS_REJECTED, now, "REJECTED", eff, d);
    case HH_RPT_MODIFIED: {
        hh_qty_t filled = r->filled > o->filled ? r->filled : o->filled;
        hh_qty_t qty = r->filled + r->leaves;
        enum hh_ord_state to;

        if (o->state == HH_OS_NEW || terminal(o->state))
            return illegal(o, o->state, "MODIFIED", d);
        if (qty < filled || qty <= 0)
            return hh_diag_set(d, HH_ERANGE, "order %s: MODIFIED to qty %lld below filled %lld",
                               o->req.client_id, (long long)qty, (long long)filled);
        to = filled == qty ? HH_OS_FILLED
             : o->state == HH_OS_CANCEL_PENDING ? HH_OS_CANCEL_PENDING
             : o->state == HH_OS_SENT && filled == 0 ? HH_OS_SENT : working_state(filled);
        if (from != to && !hh_ord_transition_ok(from, to))
            return illegal(o, to, "MODIFIED", d);
        o->req.qty = qty;
        effect(eff, from, to, filled - o->filled, 0);
        if (eff)
            eff->stale = false;
        o->filled = filled;
        o->state = to;
        o->updated = now;
        return HH_OK;
    }
    }
    return hh_diag_set(d, HH_EINVAL, "order %s: unknown report kind %d", o->req.client_id,
                       (int)r->kind);
}

int hh_ord_cancel(struct hh_ord *o, hh_time_t now, bool *send, struct hh_diag *d)
{
    if (send)
        *send = false;
    switch (o->state) {
    case HH_OS_NEW:
        return move(o, HH_OS_CANCELLED, now, "cancel", NULL, d);
    case HH_OS_SENT:
    case HH_OS_OPEN:
    case HH_OS_PARTIAL:
    case HH_OS_CANCEL_PENDING:
        if (send)
            *send = true;
        return move(o, HH_OS_CANCEL_PENDING, now, "cancel", NULL, d);
    case HH_OS_FILLED:
        return hh_diag_set(d, HH_ESTATE, "order %s: too late to cancel: filled",
                           o->req.client_id);
    case HH_OS_CANCELLED:
    case HH_OS_REJECTED:
    case HH_OS_EXPIRED:
        break;
    }
    return hh_diag_set(d, HH_ESTATE, "order %s: cannot cancel: already %s", o->req.client_id,
                       hh_ord_state_name(o->state));
}

int hh_ord_cancel_refused(struct hh_ord *o, hh_time_t now, struct hh_diag *d)
{
    if (o->state != HH_OS_CANCEL_PENDING)
        return HH_OK;
    return move(o, working_state(o->filled), now, "cancel refused", NULL, d);
}

/* The broker's state normalised: working states by quantity. */
static enum hh_ord_state broker_state(const struct hh_broker_order *b)
{
    if (terminal(b->state))
        return b->state;
    return b->filled >= b->qty ? HH_OS_FILLED : working_state(b->filled);
}

static bool same_state(enum hh_ord_state local, enum hh_ord_state broker)
{
    if (local == broker)
        return true;
    /* A pending cancel is ours; the broker shows the order working. */
    return local == HH_OS_CANCEL_PENDING && !terminal(broker);
}

int hh_ord_adopt(struct hh_ord *o, const struct hh_broker_order *b, hh_time_t now,
                 enum hh_ord_adopt_result *res, struct hh_ord_effect *eff,
                 struct hh_diag *d)
{
    enum hh_ord_state from = o->state, bs = broker_state(b), to;
    enum hh_ord_adopt_result out = HH_ORD_SAME;
    char what[256];
    size_t n = 0;

    if (o->order_id ? b->order_id != o->order_id
                    : strncmp(b->client_id, o->req.client_id, HH_CLIENT_ID_MAX) != 0)
        return hh_diag_set(d, HH_EINVAL, "order %s (id %llu): broker order %s (id %llu)",
                           o->req.client_id, (unsigned long long)o->order_id, b->client_id,
                           (unsigned long long)b->order_id);
    if (b->filled < 0 || b->qty <= 0 || b->filled > b->qty)
        return hh_diag_set(d, HH_EINVAL, "order %s: broker shows filled %lld of %lld",
                           o->req.client_id, (long long)b->filled, (long long)b->qty);
    to = same_state(o->state, bs) ? o->state : bs;
    what[0] = '\0';
#define NOTE(...) (n += (size_t)snprintf(what + n, n < sizeof what ? sizeof what - n : 0, \
                                         __VA_ARGS__))
    if (!o->order_id) {
        NOTE("id -> %llu, ", (unsigned long long)b->order_id);
        out = HH_ORD_CAUGHT_UP;
    }
    if (to != o->state) {
        NOTE("state %s -> %s, ", hh_ord_state_name(o->state), hh_ord_state_name(to));
        /* A terminal local state the broker contradicts, or a local
         * REJECTED (never sent) the broker knows: divergence. */
        out = terminal(o->state) ? HH_ORD_DIVERGED
              : out == HH_ORD_SAME ? HH_ORD_CAUGHT_UP : out;
    }
    if (b->filled != o->filled) {
        NOTE("filled %lld -> %lld, ", (long long)o->filled, (long long)b->filled);
        if (b->filled < o->filled)
            out = HH_ORD_DIVERGED;
        else if (out == HH_ORD_SAME)
            out = HH_ORD_CAUGHT_UP;
    }
    if (b->qty != o->req.qty) {
        NOTE("qty %lld -> %lld, ", (long long)o->req.qty, (long long)b->qty);
        out = HH_ORD_DIVERGED;
    }
#undef NOTE
    if (n >= 2 && n < sizeof what)
        what[n - 2] = '\0';
    effect(eff, from, to, b->filled - o->filled, 0);
    if (eff && out != HH_ORD_SAME)
        eff->stale = false;
    if (res)
        *res = out;
    if (out != HH_ORD_SAME) {
        hh_diag_set(d, HH_OK, "order %s: %s", o->req.client_id, what);
        o->order_id = b->order_id;
        o->req.qty = b->qty;
        if (b->filled != o->filled || b->avg_price)
            o->notional = (hh_money_t)((__int128)b->avg_price * b->filled);
        o->filled = b->filled;
        o->state = to;
        o->updated = now;
    }
    return HH_OK;
}

bool hh_ord_matches(const struct hh_ord *o, const struct hh_broker_order *b)
{
    return o->order_id == b->order_id && o->req.qty == b->qty && o->filled == b->filled &&
           same_state(o->state, broker_state(b));
}

hh_qty_t hh_ord_leaves(const struct hh_ord *o)
{
    return o->req.qty - o->filled;
}

hh_qty_t hh_ord_open_qty(const struct hh_ord *o)
{
    return terminal(o->state) ? 0 : o->req.qty - o->filled;
}

hh_price_t hh_ord_avg_price(const struct hh_ord *o)
{
    if (o->filled <= 0)
        return 0;
    return (hh_price_t)hh_i128_div_round(o->notional, o->filled);
}

hh_qty_t hh_ord_exit_qty(hh_qty_t position, enum hh_side exit_side, hh_qty_t pending,
                         hh_qty_t wanted)
{
    hh_qty_t held, avail;

    if (position > 0 && exit_side == HH_SELL)
        held = position;
    else if (position < 0 && exit_side == HH_BUY)
        held = -position;
    else
        return 0;
    avail = held - (pending > 0 ? pending : 0);
    if (wanted < avail)
        avail = wanted;
    return avail > 0 ? avail : 0;
}
