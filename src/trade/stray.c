/*
 * stray.c — orders of ours at the broker that the engine does not want.
 *
 * How one arises.  A placement of unknown outcome is looked up by its
 * client id; when the broker's book hides the order beyond the grace
 * (HH_TM_BOOK_GRACE) the engine takes it for never placed — ended, when its
 * cancel was wanted (the kill switch), else placed again under the same id.
 * A placed order the book leaves out that long is taken for unknown at the
 * broker and ended (an exit is then decided again under a new id).  Should
 * the order show up after all, no order of the engine stands for it: ours
 * by its id, it was no foreign order either, and nothing touched it — under
 * a halt a live order at the broker, otherwise a second entry or exit beside
 * the one decided again.
 *
 * What is done.  A listed order that carries the client id of one of our
 * refs (or the broker id of a ref already ended), that no ref not ended
 * stands for, and that is working or has fills the engine never booked,
 * becomes a stray: a ref of its own (P_STRAY; owned, for the audit trail,
 * by the owner of the ref whose id it carries), cancelled at once through
 * the order road — confirmed by the broker like any cancel, so a halted or
 * stopping engine waits for it and flatten is not flat before — and reported
 * (HH_DIV_STRAY_ORDER, an operator alert, stats.strays).  Its fills are not
 * booked by order: the position reconciliation adopts what the broker holds
 * beyond the engine's trades in its instrument (sym.stray), closing it at
 * once when the kill switch lets an exit go (reconcile.c).  By position,
 * because the reconciliation may already have taken a hidden order's fill
 * in (an exit's: the units given up) — booked again by order, it would be
 * counted twice.
 *
 * Never a stray: an order with the broker id of a ref not ended, nor one
 * found by its client id for a ref of unknown outcome (hh_tm_poll adopts
 * those first) — the engine wants those.
 */
#include "trade/tm_int.h"

#include <stdio.h>
#include <string.h>

const struct order_ref *hh_tm__ref_by_client(const struct hh_tm *tm, const char *cid)
{
    for (size_t i = tm->nrefs; i-- > 0;)
        if (!strncmp(tm->refs[i].req.client_id, cid, HH_CLIENT_ID_MAX))
            return &tm->refs[i];
    return NULL;
}

/* The ref whose id the listed order b carries when b is a stray, else NULL
 * (an order the engine wants, a stray already tracked, an ended order with
 * no fill the engine lacks, or not ours). */
static const struct order_ref *stray_of(struct hh_tm *tm, const struct hh_broker_order *b)
{
    const struct order_ref *ref = hh_tm__ref_by_boid(tm, b->order_id);
    hh_qty_t booked = 0;

    if (ref) {
        if (!ref->done || ref->purpose == P_STRAY)
            return NULL;
        booked = ref->filled;
    } else if (!(ref = hh_tm__ref_by_client(tm, b->client_id))) {
        return NULL;   /* not ours: hh_tm_poll reports it as foreign */
    }
    if (b->qty <= 0 || b->filled < 0 || b->filled > b->qty)
        return NULL;   /* a row no order machine can take */
    return !hh_ord_state_terminal(b->state) || b->filled > booked ? ref : NULL;
}

/* Why the engine does not want b, the order of `of`'s id. */
static void why_unwanted(const struct hh_tm *tm, const struct order_ref *of,
                         const struct hh_broker_order *b, char *out, size_t cap)
{
    const char *taken = !of->done ? "its client id was placed again: another order stands for it"
                        : of->boid == b->order_id ? "the engine took it for unknown at the broker"
                        : "the engine took it for never placed";

    snprintf(out, cap, "an order of ours the engine does not want (%s%s), %s at the broker "
             "with %lld filled: %s", taken,
             tm->trading == HH_TRADING_HALTED ? "; the kill switch halts" : "",
             hh_ord_state_terminal(b->state) ? "ended" : "working", (long long)b->filled,
             hh_ord_state_terminal(b->state) ? "its fills adopted by position"
                                             : "cancelled, its fills adopted by position");
}

/* A P_STRAY ref for b, standing in for `of`'s order (its owner and leg):
 * the order road's bookkeeping as for a placement, then the broker's view
 * of it adopted — never sent (PS_PLACED before any flush).  *k: its index. */
static int track(struct hh_tm *tm, const struct order_ref *of, const struct hh_broker_order *b,
                 size_t *k)
{
    struct order_ref *ref, own = *of;   /* (of lives in refs[], which may move) */
    struct hh_diag d = { "" };
    uint64_t oid;
    int rc;

    if (hh_grow(&tm->refs, &tm->caprefs, tm->nrefs + 1, sizeof *tm->refs))
        return HH_ENOMEM;
    ref = &tm->refs[tm->nrefs];
    memset(ref, 0, sizeof *ref);
    ref->trade = own.trade;
    ref->group = own.group;
    ref->leg = own.leg;
    ref->purpose = P_STRAY;
    ref->placed_at = tm->clock->now;
    ref->req.iid = b->iid;
    ref->req.side = b->side;
    ref->req.type = b->type;
    ref->req.qty = ref->qty = b->qty;
    ref->req.limit = b->limit;
    ref->req.trigger = b->trigger;
    memcpy(ref->req.client_id, own.req.client_id, sizeof ref->req.client_id);
    if ((rc = hh_tm__queue_place(tm, ref, &oid)))
        return rc;
    *k = tm->nrefs - 1;
    ref = &tm->refs[*k];
    rc = hh_ord_adopt(&ref->ord, b, tm->clock->now, NULL, NULL, &d);
    HH_ASSERT(rc == HH_OK);   /* the row was checked (stray_of), the id is its own */
    ref->pstate = PS_PLACED;
    ref->boid = b->order_id;
    ref->acked_at = tm->clock->now;
    ref->qty = ref->ord.req.qty;
    ref->filled = ref->ord.filled;
    ref->value = ref->ord.notional;
    ref->done = hh_ord_state_terminal(ref->ord.state);
    return hh_u64map_put(&tm->x.by_boid, b->order_id, *k + 1);
}

/* Units of ours filled in iid that no trade booked: exits wait for the
 * poll, which adopts them (reconcile.c). */
static void stray_filled(struct hh_tm *tm, hh_iid_t iid)
{
    struct sym *sy = hh_tm__sym(tm, iid);

    if (!sy)
        return;
    sy->stray = true;
    sy->foreign = true;
    tm->x.poll_wanted = true;
}

static const struct hh_signal *owner_of(const struct hh_tm *tm, const struct order_ref *ref)
{
    return ref->group ? &tm->groups[ref->trade].sig : &tm->trades[ref->trade].sig;
}

int hh_tm__strays(struct hh_tm *tm, const struct hh_broker_order *bo, size_t nbo, hh_div_fn fn,
                  void *ctx)
{
    int found = 0;

    for (size_t i = 0; i < nbo; i++) {
        const struct hh_broker_order *b = &bo[i];
        const struct order_ref *of = stray_of(tm, b);
        char why[256];
        size_t k;

        if (!of)
            continue;
        why_unwanted(tm, of, b, why, sizeof why);
        if (track(tm, of, b, &k))
            continue;   /* out of memory: the next poll finds it again */
        found++;
        tm->x.stats.strays++;
        if (fn) {
            struct hh_tm_divergence d = { HH_DIV_STRAY_ORDER, b->iid, b->order_id, 0, b->filled };

            fn(ctx, &d);
        }
        if (b->filled > 0)
            stray_filled(tm, b->iid);
        hh_tm__alert(tm, HH_TMA_STRAY, true, owner_of(tm, &tm->refs[k]), &tm->refs[k], 0,
                     b->filled, why);
        hh_tm__queue_cancel(tm, &tm->refs[k]);   /* (nothing when it has ended) */
    }
    if (found)
        tm->changes++;
    return found;
}

void hh_tm__stray_report(struct hh_tm *tm, struct order_ref *ref, const struct hh_report *r)
{
    if (r->kind == HH_RPT_FILL) {
        ref->filled += r->qty;
        ref->value += r->price * r->qty;
        stray_filled(tm, ref->req.iid);
        hh_tm__alert(tm, HH_TMA_STRAY, true, owner_of(tm, ref), ref, 0, r->qty,
                     "an order of ours the engine does not want filled: adopted by the next "
                     "reconciliation");
    }
    ref->done = hh_ord_state_terminal(ref->ord.state);
}
