/*
 * kite_book.c — engine orders over the broker's orders, and the reports
 * derived from what the book shows.
 *
 * An engine order (one client id) is one or more slices at the broker
 * (kite.h: place).  Rows of the book — from the book reader, prompted by
 * order updates, or from the core's own queries — are applied to their
 * slice: by broker id, else by tag.  Application only moves forward: a
 * slice's filled quantity never decreases and an ended slice never works
 * again, so rows read in any order, twice, or late change nothing.
 *
 * Reports are derived by comparing the engine's view of the order (slices
 * aggregated) with what the engine has been told (rep_*): the difference,
 * and only it, is reported.  Invariants after ord_derive: rep_filled equals
 * the view's filled quantity; rep_qty the view's quantity while working;
 * `done` once an end was reported, after which nothing more is.
 *
 * Core thread only.  Pointers into the book are valid until the next
 * order is added.
 */
#include "broker/kite_int.h"

#include "core/grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool terminal(enum hh_ord_state s)
{
    return hh_ord_state_terminal(s);
}

static uint64_t cid_hash(const char *cid)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (; *cid; cid++)
        h = (h ^ (unsigned char)*cid) * 0x100000001b3ull;
    return h == 0 || h == UINT64_MAX ? 1 : h;   /* keys the map reserves */
}

int hh_kite__book_init(struct hh_kite__book *b)
{
    memset(b, 0, sizeof *b);
    if (hh_u64map_init(&b->by_id, 256))
        return HH_ENOMEM;
    if (hh_u64map_init(&b->by_cid, 256)) {
        hh_u64map_free(&b->by_id);
        return HH_ENOMEM;
    }
    return HH_OK;
}

void hh_kite__book_free(struct hh_kite__book *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->ords[i].slices);
    free(b->ords);
    hh_u64map_free(&b->by_id);
    hh_u64map_free(&b->by_cid);
    memset(b, 0, sizeof *b);
}

struct hh_kite__ord *hh_kite__book_by_cid(struct hh_kite__book *b, const char *cid)
{
    uint64_t v;

    if (hh_u64map_get(&b->by_cid, cid_hash(cid), &v) &&
        strcmp(b->ords[v - 1].cid, cid) == 0)
        return &b->ords[v - 1];
    /* a hash collision: the long way */
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->ords[i].cid, cid) == 0)
            return &b->ords[i];
    return NULL;
}

struct hh_kite__ord *hh_kite__book_by_id(struct hh_kite__book *b, uint64_t id)
{
    uint64_t v;

    return id && hh_u64map_get(&b->by_id, id, &v) ? &b->ords[v - 1] : NULL;
}

/* A new, empty order for cid. */
static int ord_new(struct hh_kite__book *b, const char *cid, struct hh_kite__ord **out)
{
    struct hh_kite__ord *o;

    if (hh_grow(&b->ords, &b->cap, b->n + 1, sizeof *b->ords))
        return HH_ENOMEM;
    o = &b->ords[b->n];
    memset(o, 0, sizeof *o);
    snprintf(o->cid, sizeof o->cid, "%s", cid);
    o->rep_qty = -1;                    /* unknown until first derived */
    if (hh_u64map_put(&b->by_cid, cid_hash(cid), b->n + 1))
        return HH_ENOMEM;
    b->n++;
    *out = o;
    return HH_OK;
}

/* Slice k of o (created empty when new). */
static struct hh_kite__slice *slice_at(struct hh_kite__ord *o, int k)
{
    if (k < 1 || k > HH_KITE_SLICES_MAX)
        return NULL;
    if (k > o->nslices) {
        struct hh_kite__slice *x = realloc(o->slices, (size_t)k * sizeof *x);

        if (!x)
            return NULL;
        memset(x + o->nslices, 0, (size_t)(k - o->nslices) * sizeof *x);
        for (int i = o->nslices; i < k; i++)
            x[i].k = i + 1;
        o->slices = x;
        o->nslices = k;
    }
    return &o->slices[k - 1];
}

int hh_kite__book_slice(struct hh_kite__book *b, struct hh_kite__ord *o, int k, uint64_t id,
                        hh_qty_t qty)
{
    struct hh_kite__slice *s = slice_at(o, k);

    if (!s)
        return HH_ENOMEM;
    if (s->id && s->id != id)
        return HH_EEXIST;               /* the tag twice at the broker */
    if (!s->id) {
        s->id = id;
        s->qty = qty;
        s->state = HH_OS_SENT;
    }
    if (k == 1)
        o->id = id;
    o->dirty = true;
    return hh_u64map_put(&b->by_id, id, (uint64_t)(o - b->ords) + 1) ? HH_ENOMEM : HH_OK;
}

int hh_kite__book_add(struct hh_kite__book *b, const char *cid,
                      const struct hh_order_req *req, uint64_t id, hh_qty_t qty1,
                      struct hh_kite__ord **out)
{
    struct hh_kite__ord *o = hh_kite__book_by_cid(b, cid);
    int rc;

    /* A look-up during the placement may have found the order already. */
    if (!o && (rc = ord_new(b, cid, &o)))
        return rc;
    o->iid = req->iid;
    o->side = req->side;
    o->type = req->type;
    o->limit = req->limit;
    o->trigger = req->trigger;
    o->rep_qty = req->qty;              /* what the engine believes */
    if ((rc = hh_kite__book_slice(b, o, 1, id, qty1)))
        return rc;
    *out = o;
    return HH_OK;
}

/* The order a row belongs to: by id (slice found by its id), else by our
 * tag (the order created when first seen).  *out NULL: not one of ours. */
static int row_order(struct hh_kite__book *b, const struct hh_kite__row *r,
                     struct hh_kite__ord **out, int *k)
{
    char cid[HH_CLIENT_ID_MAX];
    struct hh_kite__ord *o = hh_kite__book_by_id(b, r->order_id);
    int rc;

    *out = NULL;
    if (o) {
        for (int i = 0; i < o->nslices; i++) {
            if (o->slices[i].id == r->order_id) {
                *k = i + 1;
                *out = o;
                return HH_OK;
            }
        }
        return HH_OK;
    }
    if (!hh_kite__tag_split(r->tag, cid, k))
        return HH_OK;
    if (!(o = hh_kite__book_by_cid(b, cid))) {
        if ((rc = ord_new(b, cid, &o)))
            return rc;
        o->iid = r->iid;
        o->side = r->side;
        o->type = r->type;
    }
    if ((rc = hh_kite__book_slice(b, o, *k, r->order_id, r->qty)))
        return rc;
    *out = o;
    return HH_OK;
}

int hh_kite__book_apply(struct hh_kite__book *b, const struct hh_kite__row *r,
                        struct hh_kite__ord **out)
{
    struct hh_kite__slice *s;
    struct hh_kite__ord *o;
    int k, rc;

    if ((rc = row_order(b, r, &o, &k)) || !o) {
        *out = NULL;
        return rc;
    }
    *out = o;
    s = &o->slices[k - 1];
    if (terminal(s->state) || r->filled < s->filled)
        return HH_OK;                   /* stale: the book moved on */
    s->qty = r->qty;
    s->filled = r->filled;
    s->notional = (hh_money_t)((__int128)r->avg * r->filled);
    s->state = r->state;
    if (r->msg[0])
        snprintf(s->msg, sizeof s->msg, "%s", r->msg);
    if (k == 1) {
        o->limit = r->price;
        o->trigger = r->trigger;
    }
    o->dirty = true;
    return HH_OK;
}

/* ---- the engine's view --------------------------------------------------- */

struct agg {
    hh_qty_t qty, filled;
    __int128 notional;
    bool working, cancelling, all_sent, all_rejected;
    const char *msg;
};

static void aggregate(const struct hh_kite__ord *o, struct agg *a)
{
    memset(a, 0, sizeof *a);
    a->all_sent = a->all_rejected = true;
    a->msg = "";
    for (int i = 0; i < o->nslices; i++) {
        const struct hh_kite__slice *s = &o->slices[i];

        if (!s->id)
            continue;                   /* never placed */
        a->qty += s->dropped ? s->filled : s->qty;
        a->filled += s->filled;
        a->notional += s->notional;
        if (!terminal(s->state)) {
            a->working = true;
            a->cancelling |= s->state == HH_OS_CANCEL_PENDING;
            a->all_sent &= s->state == HH_OS_SENT;
        }
        a->all_rejected &= s->state == HH_OS_REJECTED && s->filled == 0;
        if (s->msg[0] && terminal(s->state) && s->filled < s->qty)
            a->msg = s->msg;
    }
}

static enum hh_ord_state view_state(const struct agg *a)
{
    if (a->working) {
        if (a->cancelling)
            return HH_OS_CANCEL_PENDING;
        if (a->all_sent && a->filled == 0)
            return HH_OS_SENT;
        return a->filled > 0 ? HH_OS_PARTIAL : HH_OS_OPEN;
    }
    if (a->qty > 0 && a->filled >= a->qty)
        return HH_OS_FILLED;
    return a->all_rejected ? HH_OS_REJECTED : HH_OS_CANCELLED;
}

void hh_kite__ord_view(const struct hh_kite__ord *o, struct hh_broker_order *out)
{
    struct agg a;

    aggregate(o, &a);
    memset(out, 0, sizeof *out);
    out->order_id = o->id;
    snprintf(out->client_id, sizeof out->client_id, "%s", o->cid);
    out->iid = o->iid;
    out->side = o->side;
    out->type = o->type;
    out->state = view_state(&a);
    out->qty = a.qty;
    out->filled = a.filled;
    out->limit = o->limit;
    out->trigger = o->trigger;
    out->avg_price = a.filled > 0 ? (hh_price_t)hh_i128_div_round(a.notional, a.filled) : 0;
}

/* ---- reports ------------------------------------------------------------- */

struct deriver {
    struct hh_kite__ord *o;
    hh_time_t now;
    void (*emit)(void *ctx, const struct hh_report *r);
    void *ctx;
};

static void report(const struct deriver *dv, enum hh_report_kind kind, hh_qty_t qty,
                 hh_price_t price, hh_qty_t filled, hh_qty_t leaves, uint64_t exec,
                 const char *why)
{
    struct hh_report r;

    memset(&r, 0, sizeof r);
    r.kind = kind;
    r.order_id = dv->o->id;
    r.ts = dv->now;
    r.iid = dv->o->iid;
    r.side = dv->o->side;
    r.qty = qty;
    r.price = price;
    r.filled = filled;
    r.leaves = leaves > 0 ? leaves : 0;
    r.exec_id = exec;
    snprintf(r.reason, sizeof r.reason, "%s", why ? why : "");
    dv->emit(dv->ctx, &r);
}

/* The fill since the last report: its quantity and its average price from
 * the notional it added (half-up to 1/10,000). */
static void derive_fill(const struct deriver *dv, const struct agg *a, hh_qty_t qty)
{
    struct hh_kite__ord *o = dv->o;
    hh_qty_t dq = a->filled - o->rep_filled;
    __int128 dn = a->notional - o->rep_notional;
    hh_price_t px = dn > 0 ? (hh_price_t)hh_i128_div_round(dn, dq)
                           : (hh_price_t)hh_i128_div_round(a->notional, a->filled);

    report(dv, HH_RPT_FILL, dq, px, a->filled, qty - a->filled,
         hh_kite__exec_id(o->id, a->filled), NULL);
    o->rep_filled = a->filled;
    o->rep_notional = hh_i128_fits(a->notional) ? (hh_money_t)a->notional : INT64_MAX;
}

void hh_kite__ord_derive(struct hh_kite__ord *o, hh_time_t now,
                         void (*emit)(void *ctx, const struct hh_report *r), void *ctx)
{
    struct deriver dv = { o, now, emit, ctx };
    enum hh_ord_state st;
    struct agg a;

    if (!o->dirty || o->done)
        return;
    o->dirty = false;
    aggregate(o, &a);
    st = view_state(&a);
    if (o->rep_qty < 0)
        o->rep_qty = a.qty;             /* first seen in the book (a restart) */
    if (!o->acked && st != HH_OS_SENT && !(st == HH_OS_REJECTED && a.filled == 0)) {
        report(&dv, HH_RPT_ACK, 0, 0, o->rep_filled, o->rep_qty - o->rep_filled, 0, NULL);
        o->acked = true;
    }
    /* A quantity change before the fills it allows; an order ending
     * cancelled or rejected needs none (its end says it). */
    if ((a.working || st == HH_OS_FILLED) && a.qty != o->rep_qty && a.qty >= o->rep_filled) {
        report(&dv, HH_RPT_MODIFIED, 0, 0, o->rep_filled, a.qty - o->rep_filled, 0, NULL);
        o->rep_qty = a.qty;
    }
    if (a.filled > o->rep_filled)
        derive_fill(&dv, &a, o->rep_qty);
    if (a.working)
        return;
    if (st == HH_OS_CANCELLED)
        report(&dv, HH_RPT_CANCELLED, 0, 0, a.filled, 0, 0, a.msg[0] ? a.msg : "cancelled");
    else if (st == HH_OS_REJECTED)
        report(&dv, HH_RPT_REJECTED, 0, 0, 0, 0, 0, a.msg[0] ? a.msg : "rejected");
    o->done = true;
}
