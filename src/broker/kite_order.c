/*
 * kite_order.c — the broker operations of the Kite adapter (kite.h), on
 * the core's thread: placements (sliced above the freeze quantity),
 * modifications, cancellations and the queries that answer from the book.
 *
 * Every answer read here is also applied to the tracker (kite_book.c), so
 * the reports the next pump derives agree with what a query returned.
 * Messages of failed calls land in k->err (hh_kite_errmsg).
 */
#include "broker/kite_int.h"


#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Pause before looking up a slice of unknown outcome by its tag. */
#define LOOKUP_PAUSE (HH_NS_PER_S / 2)
/* Read an order again this long after an order call (an update may never
 * come: DOMAIN §8). */
#define FOLLOW_UP    (300 * HH_NS_PER_MS)

static const char *const product_names[] = { "MIS", "NRML", "CNC" };

static void nap(int64_t ns)
{
    struct timespec ts = { (time_t)(ns / HH_NS_PER_S), (long)(ns % HH_NS_PER_S) };

    nanosleep(&ts, NULL);
}

/* ---- reading the book ------------------------------------------------------- */

/* Parse the rows of a JSON array, counting the rows of instruments not
 * loaded (kept) and the unreadable rows of others (skipped). */
static int parse_rows(struct hh_kite *k, struct json_object *arr, struct hh_kite__row **rows,
                      size_t *n, struct hh_diag *d)
{
    uint64_t unknown = 0, skipped = 0;
    int rc = hh_kite__rows_parse(arr, k->inst, rows, n, &unknown, &skipped, d);

    atomic_fetch_add(&k->n_unknown_rows, unknown);
    atomic_fetch_add(&k->n_skipped_rows, skipped);
    return rc;
}

/* GET /orders: every row of the day (malloc'd; free it), applied. */
int hh_kite__read_book(struct hh_kite *k, struct hh_kite__http *h, struct hh_kite__row **rows,
                       size_t *n, struct hh_diag *d)
{
    struct json_object *data;
    int rc = hh_kite__call(k, h, HH_KITE__QUERY, "GET", "/orders", NULL, NULL, &data, NULL, d);

    *rows = NULL;
    *n = 0;
    if (rc)
        return rc;
    rc = parse_rows(k, data, rows, n, d);
    json_object_put(data);
    return rc;
}

/* GET /orders/{id}: the order's history, its last row the current one. */
int hh_kite__read_order(struct hh_kite *k, struct hh_kite__http *h, uint64_t id,
                        struct hh_kite__row *out, struct hh_diag *d)
{
    struct hh_kite__row *rows;
    struct json_object *data;
    char path[64];
    size_t n;
    int rc;

    snprintf(path, sizeof path, "/orders/%llu", (unsigned long long)id);
    rc = hh_kite__call(k, h, HH_KITE__QUERY, "GET", path, NULL, NULL, &data, NULL, d);
    if (rc == HH_EBROKER)   /* Kite answers an unknown id with an InputException */
        return hh_diag_prefix(d, HH_ENOTFOUND, "order %llu", (unsigned long long)id);
    if (rc)
        return rc;
    rc = parse_rows(k, data, &rows, &n, d);
    json_object_put(data);
    if (rc)
        return rc;
    if (n == 0) {
        free(rows);
        return hh_diag_set(d, HH_ENOTFOUND, "order %llu: no history", (unsigned long long)id);
    }
    *out = rows[n - 1];
    free(rows);
    return HH_OK;
}

/* The whole book, applied to the tracker. */
static int sync_book(struct hh_kite *k, struct hh_kite__row **rows, size_t *n)
{
    int rc = hh_kite__read_book(k, &k->core_http, rows, n, &k->err);

    if (rc == HH_OK)
        hh_kite__apply_rows(k, *rows, *n);
    return rc;
}

/* ---- placing ---------------------------------------------------------------- */

struct placing {
    const struct hh_order_req *req;
    const struct hh_instrument *in;
    const char *exchange;
};

static const char *kite_type(enum hh_ord_type t)
{
    switch (t) {
    case HH_ORD_MARKET: return "MARKET";
    case HH_ORD_LIMIT: return "LIMIT";
    case HH_ORD_STOP: return "SL-M";
    case HH_ORD_STOP_LIMIT: return "SL";
    }
    return "?";
}

static bool has_limit(enum hh_ord_type t)
{
    return t == HH_ORD_LIMIT || t == HH_ORD_STOP_LIMIT;
}

static bool has_trigger(enum hh_ord_type t)
{
    return t == HH_ORD_STOP || t == HH_ORD_STOP_LIMIT;
}

static int check_req(struct hh_kite *k, const struct hh_order_req *req, struct placing *p,
                     struct hh_diag *d)
{
    p->req = req;
    if (!hh_kite__cid_valid(req->client_id))
        return hh_diag_set(d, HH_EINVAL,
                           "client id '%.24s': a Kite tag needs 1-20 characters of [a-z0-9]",
                           req->client_id);
    if (!(p->in = hh_inst_get(k->inst, req->iid)))
        return hh_diag_set(d, HH_EINVAL, "order %s: unknown instrument", req->client_id);
    if (!(p->exchange = hh_kite__exchange(p->in)))
        return hh_diag_set(d, HH_EINVAL, "order %s: %s is an index, not tradable",
                           req->client_id, p->in->symbol);
    if (req->qty <= 0 || (req->side != HH_BUY && req->side != HH_SELL) ||
        (has_limit(req->type) && req->limit <= 0) ||
        (has_trigger(req->type) && req->trigger <= 0) || (int)req->type < 0 ||
        req->type > HH_ORD_STOP_LIMIT)
        return hh_diag_set(d, HH_EINVAL, "order %s: quantity, side, type or price invalid",
                           req->client_id);
    return HH_OK;
}

static void place_form(const struct hh_kite *k, const struct placing *p, const char *tag,
                       hh_qty_t qty, struct hh_kite__form *f)
{
    enum hh_ord_type t = p->req->type;

    hh_kite__form_init(f);
    hh_kite__form_add(f, "tradingsymbol", p->in->symbol);
    hh_kite__form_add(f, "exchange", p->exchange);
    hh_kite__form_add(f, "transaction_type", p->req->side == HH_BUY ? "BUY" : "SELL");
    hh_kite__form_add(f, "order_type", kite_type(t));
    hh_kite__form_int(f, "quantity", qty);
    hh_kite__form_add(f, "product", product_names[k->product]);
    hh_kite__form_add(f, "validity", "DAY");
    if (has_limit(t))
        hh_kite__form_price(f, "price", p->req->limit);
    if (has_trigger(t))
        hh_kite__form_price(f, "trigger_price", p->req->trigger);
    if (t == HH_ORD_MARKET || t == HH_ORD_STOP)
        hh_kite__form_int(f, "market_protection", k->market_protection);
    hh_kite__form_add(f, "tag", tag);
}

/* The book's row carrying `tag`, the book applied; HH_ENOTFOUND. */
static int lookup_tag(struct hh_kite *k, const char *tag, uint64_t *id)
{
    struct hh_kite__row *rows;
    size_t n;
    int rc = sync_book(k, &rows, &n);

    if (rc)
        return rc;
    rc = HH_ENOTFOUND;
    for (size_t i = 0; i < n && rc; i++) {
        if (strcmp(rows[i].tag, tag) == 0) {
            *id = rows[i].order_id;
            rc = HH_OK;
        }
    }
    free(rows);
    return rc;
}

static int answer_id(struct json_object *data, uint64_t *id, struct hh_diag *d)
{
    if (hh_kite__j_id(data, "order_id", id) || !*id)
        return hh_diag_set(d, HH_ETIMEOUT, "placement answered without an order id");
    return HH_OK;
}

/*
 * One slice.  429: the pacer backs off; the tag is looked up before the
 * same slice is sent again (a 429 is a NetworkException: see kite_http.c),
 * at most 4 times, then the outcome is reported unknown.
 */
static int place_slice(struct hh_kite *k, const struct placing *p, int s, hh_qty_t qty,
                       uint64_t *id)
{
    char tag[HH_CLIENT_ID_MAX];
    struct hh_kite__form f;
    struct json_object *data;
    bool limited;
    int rc;

    if (hh_kite__slice_tag(p->req->client_id, s, tag))
        return hh_diag_set(&k->err, HH_ERANGE, "order %s: no room for slice tags",
                           p->req->client_id);
    place_form(k, p, tag, qty, &f);
    if (f.overflow)
        return hh_diag_set(&k->err, HH_EINVAL, "order %s: request too long", tag);
    for (int attempt = 0; attempt < 4; attempt++) {
        rc = hh_kite__call(k, &k->core_http, HH_KITE__PLACE, "POST", "/orders/regular", f.buf,
                           NULL, &data, &limited, &k->err);
        if (rc == HH_OK) {
            rc = answer_id(data, id, &k->err);
            json_object_put(data);
            return rc;
        }
        if (!limited)
            return rc;
        if (lookup_tag(k, tag, id) == HH_OK)
            return HH_OK;
    }
    return hh_diag_set(&k->err, HH_ETIMEOUT, "order %s: rate limited, outcome unknown", tag);
}

/* A slice after the first whose outcome is unknown: found by its tag? */
static int resolve_slice(struct hh_kite *k, const char *cid, int s, uint64_t *id)
{
    char tag[HH_CLIENT_ID_MAX];

    hh_kite__slice_tag(cid, s, tag);
    nap(LOOKUP_PAUSE);
    return lookup_tag(k, tag, id);
}

/* Slices 2..K; stops at the first refused or not found (kite.h). */
static void place_rest(struct hh_kite *k, const struct placing *p, struct hh_kite__ord *o,
                       int nslices, hh_qty_t freeze)
{
    hh_qty_t left = p->req->qty - freeze;
    uint64_t oid = o->id;

    for (int s = 2; s <= nslices; s++, left -= freeze) {
        hh_qty_t q = left < freeze ? left : freeze;
        uint64_t id = 0;
        int rc = place_slice(k, p, s, q, &id);

        if (rc == HH_ETIMEOUT)
            rc = resolve_slice(k, p->req->client_id, s, &id);
        /* the book may have moved under a look-up: find the order again */
        o = hh_kite__book_by_id(&k->book, oid);
        if (rc != HH_OK || !o || hh_kite__book_slice(&k->book, o, s, id, q))
            return;
        atomic_fetch_add(&k->n_slices, 1);
        hh_kite__prompt(k, id, FOLLOW_UP);
    }
}

/* The largest single order: the freeze quantity rounded down to whole lots
 * (NIFTY: freeze 1,800, lot 65 -> 1,755, DOMAIN §2); 0 when none is known. */
static hh_qty_t slice_size(const struct hh_instrument *in)
{
    if (in->freeze_qty <= 0)
        return 0;
    return in->lot_size > 1 ? in->freeze_qty - in->freeze_qty % in->lot_size : in->freeze_qty;
}

static int op_place(void *impl, const struct hh_order_req *req, uint64_t *order_id)
{
    struct hh_kite *k = impl;
    struct placing p;
    struct hh_kite__ord *o;
    hh_qty_t freeze, q1;
    int nslices, rc;
    uint64_t id = 0;

    k->err.msg[0] = '\0';
    if ((rc = check_req(k, req, &p, &k->err)))
        return rc;
    freeze = slice_size(p.in);
    if (p.in->freeze_qty > 0 && freeze <= 0)
        return hh_diag_set(&k->err, HH_EINVAL, "order %s: freeze quantity below one lot",
                           req->client_id);
    nslices = freeze > 0 && req->qty > freeze ? (int)((req->qty + freeze - 1) / freeze) : 1;
    if (nslices > HH_KITE_SLICES_MAX)
        return hh_diag_set(&k->err, HH_ERANGE, "order %s: %lld units need over 99 slices",
                           req->client_id, (long long)req->qty);
    q1 = nslices > 1 ? freeze : req->qty;
    if ((rc = place_slice(k, &p, 1, q1, &id)))
        return rc;
    /* placed but not tracked (out of memory, or its tag twice at the broker):
     * the engine must find it, as after a timeout */
    if (hh_kite__book_add(&k->book, req->client_id, req, id, q1, &o))
        return hh_diag_set(&k->err, HH_ETIMEOUT, "order %s: placed as %llu but not tracked",
                           req->client_id, (unsigned long long)id);
    k->dirty_any = true;                /* counted working from the next pump */
    hh_kite__prompt(k, id, FOLLOW_UP);
    if (nslices > 1)
        place_rest(k, &p, o, nslices, freeze);
    *order_id = id;
    return HH_OK;
}

/* ---- modifying and cancelling ------------------------------------------------ */

/* The tracked order of id, the book read when it is not known yet. */
static struct hh_kite__ord *tracked(struct hh_kite *k, uint64_t id, int *rc)
{
    struct hh_kite__ord *o = hh_kite__book_by_id(&k->book, id);
    struct hh_kite__row *rows;
    size_t n;

    *rc = HH_OK;
    if (o)
        return o;
    if ((*rc = sync_book(k, &rows, &n)))
        return NULL;
    free(rows);
    if (!(o = hh_kite__book_by_id(&k->book, id)))
        *rc = hh_diag_set(&k->err, HH_ENOTFOUND, "order %llu: not one of ours in the book",
                          (unsigned long long)id);
    return o;
}

/* A refused modify/cancel: "too late" (HH_ESTATE) when the slice ended. */
static int refused(struct hh_kite *k, uint64_t sid, int rc)
{
    struct hh_kite__row r;
    struct hh_diag d2;

    if (rc != HH_EBROKER || hh_kite__read_order(k, &k->core_http, sid, &r, &d2) != HH_OK)
        return rc;
    hh_kite__apply_rows(k, &r, 1);
    if (hh_ord_state_terminal(r.state))
        return hh_diag_set(&k->err, HH_ESTATE, "order %llu: too late: %s",
                           (unsigned long long)sid, hh_ord_state_name(r.state));
    return rc;
}

static int cancel_slice(struct hh_kite *k, uint64_t sid)
{
    struct json_object *data;
    char path[64];
    int rc;

    snprintf(path, sizeof path, "/orders/regular/%llu", (unsigned long long)sid);
    rc = hh_kite__call(k, &k->core_http, HH_KITE__CANCEL, "DELETE", path, NULL, NULL, &data,
                       NULL, &k->err);
    json_object_put(data);
    hh_kite__prompt(k, sid, FOLLOW_UP);
    return rc ? refused(k, sid, rc) : HH_OK;
}

static int op_cancel(void *impl, uint64_t order_id)
{
    struct hh_kite *k = impl;
    struct hh_kite__ord *o;
    int rc, first = HH_ESTATE, sent = 0;

    k->err.msg[0] = '\0';
    if (!(o = tracked(k, order_id, &rc)))
        return rc;
    for (int i = 0; i < o->nslices; i++) {
        struct hh_kite__slice *s = &o->slices[i];
        uint64_t sid = s->id;

        if (!sid || hh_ord_state_terminal(s->state))
            continue;
        rc = cancel_slice(k, sid);
        o = hh_kite__book_by_id(&k->book, order_id);   /* may have moved */
        if (rc == HH_OK)
            sent++;
        else if (first == HH_ESTATE)
            first = rc;
    }
    if (sent)
        return HH_OK;
    if (first == HH_ESTATE && !k->err.msg[0])
        hh_diag_set(&k->err, HH_ESTATE, "order %llu: nothing working to cancel",
                    (unsigned long long)order_id);
    return first;
}

/* PUT one slice: its new quantity (0 = unchanged) and prices. */
static int modify_slice(struct hh_kite *k, const struct hh_kite__ord *o, uint64_t sid,
                        hh_qty_t qty, hh_price_t limit, hh_price_t trigger)
{
    struct hh_kite__form f;
    struct json_object *data;
    char path[64];
    int rc;

    hh_kite__form_init(&f);
    hh_kite__form_add(&f, "order_type", kite_type(o->type));
    if (qty)
        hh_kite__form_int(&f, "quantity", qty);
    if (limit && has_limit(o->type))
        hh_kite__form_price(&f, "price", limit);
    if (trigger && has_trigger(o->type))
        hh_kite__form_price(&f, "trigger_price", trigger);
    if (o->type == HH_ORD_MARKET || o->type == HH_ORD_STOP)
        hh_kite__form_int(&f, "market_protection", k->market_protection);
    hh_kite__form_add(&f, "validity", "DAY");
    snprintf(path, sizeof path, "/orders/regular/%llu", (unsigned long long)sid);
    rc = hh_kite__call(k, &k->core_http, HH_KITE__MODIFY, "PUT", path, f.buf, NULL, &data,
                       NULL, &k->err);
    json_object_put(data);
    hh_kite__prompt(k, sid, FOLLOW_UP);
    return rc ? refused(k, sid, rc) : HH_OK;
}

/* New quantities of o's slices for a total of `target` (0: unchanged),
 * taken off the last working slices; a slice left with nothing to fill is
 * to be cancelled (want[i] = -1). */
static int plan_qty(struct hh_kite *k, const struct hh_kite__ord *o, hh_qty_t target,
                    hh_qty_t *want)
{
    struct hh_broker_order v;
    const struct hh_instrument *in = hh_inst_get(k->inst, o->iid);
    hh_qty_t excess;

    memset(want, 0, (size_t)o->nslices * sizeof *want);
    if (!target)
        return HH_OK;
    hh_kite__ord_view(o, &v);
    if (target > v.qty && (o->nslices > 1 || (in && slice_size(in) && target > slice_size(in))))
        return hh_diag_set(&k->err, HH_ERANGE,
                           "order %s: cannot grow to %lld beyond its slices or the freeze "
                           "quantity: place another order", o->cid, (long long)target);
    if (o->nslices == 1) {
        want[0] = target;
        return HH_OK;
    }
    excess = v.qty - target;
    for (int i = o->nslices - 1; i >= 0 && excess > 0; i--) {
        const struct hh_kite__slice *s = &o->slices[i];
        hh_qty_t room = s->qty - s->filled, cut = room < excess ? room : excess;

        if (!s->id || s->dropped || hh_ord_state_terminal(s->state) || cut <= 0)
            continue;
        want[i] = cut == room ? -1 : s->qty - cut;
        excess -= cut;
    }
    if (excess > 0)
        return hh_diag_set(&k->err, HH_ERANGE, "order %s: %lld units are already filled",
                           o->cid, (long long)(v.qty - excess));
    return HH_OK;
}

static int op_modify(void *impl, uint64_t order_id, hh_qty_t qty, hh_price_t limit,
                     hh_price_t trigger)
{
    struct hh_kite *k = impl;
    hh_qty_t want[HH_KITE_SLICES_MAX];
    struct hh_kite__ord *o;
    int rc, first = HH_OK, n;

    k->err.msg[0] = '\0';
    if (qty < 0 || limit < 0 || trigger < 0)
        return hh_diag_set(&k->err, HH_EINVAL, "modify %llu: negative value",
                           (unsigned long long)order_id);
    if (!(o = tracked(k, order_id, &rc)) || (rc = plan_qty(k, o, qty, want)))
        return rc;
    n = o->nslices;
    for (int i = 0; i < n; i++) {
        uint64_t sid = o->slices[i].id;

        if (!sid || hh_ord_state_terminal(o->slices[i].state) ||
            (o->slices[i].dropped && want[i] == 0))
            continue;
        if (want[i] < 0) {
            o->slices[i].dropped = true;
            rc = cancel_slice(k, sid);
        } else if (want[i] || limit || trigger) {
            rc = modify_slice(k, o, sid, want[i], limit, trigger);
        } else {
            continue;
        }
        o = hh_kite__book_by_id(&k->book, order_id);
        if (rc && first == HH_OK)
            first = rc;
    }
    return first;
}

/* ---- queries ------------------------------------------------------------------ */

/* A row that is not one of ours, as the engine's row. */
static void foreign_view(const struct hh_kite__row *r, struct hh_broker_order *out)
{
    memset(out, 0, sizeof *out);
    out->order_id = r->order_id;
    snprintf(out->client_id, sizeof out->client_id, "%s", r->tag);
    out->iid = r->iid;
    out->side = r->side;
    out->type = r->type;
    out->state = r->state;
    out->qty = r->qty;
    out->filled = r->filled;
    out->limit = r->price;
    out->trigger = r->trigger;
    out->avg_price = r->avg;
}

static int op_find(void *impl, const char *client_id, struct hh_broker_order *out)
{
    struct hh_kite *k = impl;
    struct hh_kite__row *rows;
    struct hh_kite__ord *o;
    size_t n;
    int rc;

    k->err.msg[0] = '\0';
    if (!hh_kite__cid_valid(client_id))
        return hh_diag_set(&k->err, HH_EINVAL, "find: '%.24s' is not a tag of ours", client_id);
    if ((rc = sync_book(k, &rows, &n)))
        return rc;
    free(rows);
    if (!(o = hh_kite__book_by_cid(&k->book, client_id)) || !o->id)
        return hh_diag_set(&k->err, HH_ENOTFOUND, "tag %s: not in the order book", client_id);
    hh_kite__ord_view(o, out);
    return HH_OK;
}

/* A row of the book not tracked as ours (a foreign order). */
static const struct hh_kite__row *untracked(struct hh_kite *k, const struct hh_kite__row *rows,
                                            size_t n, uint64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (rows[i].order_id == id && !hh_kite__book_by_id(&k->book, id))
            return &rows[i];
    return NULL;
}

static int op_status(void *impl, uint64_t order_id, struct hh_broker_order *out)
{
    struct hh_kite *k = impl;
    struct hh_kite__ord *o = hh_kite__book_by_id(&k->book, order_id);
    const struct hh_kite__row *f;
    struct hh_kite__row r, *rows;
    size_t n;
    int rc;

    k->err.msg[0] = '\0';
    if (o && o->nslices == 1) {
        if ((rc = hh_kite__read_order(k, &k->core_http, order_id, &r, &k->err)))
            return rc;
        hh_kite__apply_rows(k, &r, 1);
    } else {
        /* sliced, or not known yet: slices are found in the whole book */
        if ((rc = sync_book(k, &rows, &n)))
            return rc;
        if ((f = untracked(k, rows, n, order_id)))
            foreign_view(f, out);
        free(rows);
        if (f)
            return HH_OK;
    }
    if (!(o = hh_kite__book_by_id(&k->book, order_id)))
        return hh_diag_set(&k->err, HH_ENOTFOUND, "order %llu: not in the order book",
                           (unsigned long long)order_id);
    hh_kite__ord_view(o, out);
    return HH_OK;
}

static int op_orders(void *impl, struct hh_broker_order *out, size_t cap, size_t *n)
{
    struct hh_kite *k = impl;
    struct hh_kite__row *rows;
    struct hh_u64map seen;
    size_t nrows, m = 0;
    int rc;

    k->err.msg[0] = '\0';
    if ((rc = sync_book(k, &rows, &nrows)))
        return rc;
    if (hh_u64map_init(&seen, nrows + 1)) {
        free(rows);
        return hh_diag_set(&k->err, HH_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < nrows; i++) {
        struct hh_kite__ord *o = hh_kite__book_by_id(&k->book, rows[i].order_id);
        struct hh_broker_order v;

        if (rows[i].iid == HH_IID_NONE)
            continue;                   /* an instrument we do not trade */
        if (o && hh_u64map_get(&seen, o->id, NULL))
            continue;                   /* another slice of one engine order */
        if (o) {
            hh_kite__ord_view(o, &v);
            hh_u64map_put(&seen, o->id, 1);
        } else {
            foreign_view(&rows[i], &v);
        }
        if (m < cap)
            out[m] = v;
        m++;
    }
    hh_u64map_free(&seen);
    free(rows);
    *n = m;
    return HH_OK;
}

static int op_positions(void *impl, struct hh_broker_position *out, size_t cap, size_t *n)
{
    struct hh_kite *k = impl;
    struct json_object *data, *net;
    size_t m = 0, len;
    int rc;

    k->err.msg[0] = '\0';
    rc = hh_kite__call(k, &k->core_http, HH_KITE__QUERY, "GET", "/portfolio/positions", NULL,
                       NULL, &data, NULL, &k->err);
    if (rc)
        return rc;
    if (!json_object_object_get_ex(data, "net", &net) ||
        !json_object_is_type(net, json_type_array)) {
        json_object_put(data);
        return hh_diag_set(&k->err, HH_EUNAVAIL, "positions: no 'net' list");
    }
    len = json_object_array_length(net);
    for (size_t i = 0; i < len; i++) {
        struct json_object *p = json_object_array_get_idx(net, i);
        struct hh_broker_position bp;
        char key[8 + HH_SYMBOL_MAX];
        int kn;

        if (strcmp(hh_kite__j_str(p, "product"), product_names[k->product]))
            continue;                   /* another product: not ours */
        kn = snprintf(key, sizeof key, "%s:%s", hh_kite__j_str(p, "exchange"),
                      hh_kite__j_str(p, "tradingsymbol"));
        bp.iid = kn > 0 && (size_t)kn < sizeof key ? hh_inst_find(k->inst, key, (size_t)kn)
                                                   : HH_IID_NONE;
        if (bp.iid == HH_IID_NONE) {    /* not ours to read */
            atomic_fetch_add(&k->n_unknown_rows, 1);
            continue;
        }
        if (hh_kite__j_qty(p, "quantity", &bp.qty) ||
            hh_kite__j_price(p, "average_price", &bp.avg_price)) {
            json_object_put(data);
            return hh_diag_set(&k->err, HH_EUNAVAIL, "positions: %s: bad number", key);
        }
        if (bp.qty == 0)
            continue;
        if (m < cap)
            out[m] = bp;
        m++;
    }
    json_object_put(data);
    *n = m;
    return HH_OK;
}

static int op_funds(void *impl, hh_money_t *available)
{
    struct hh_kite *k = impl;
    struct json_object *data, *eq;
    int rc;

    k->err.msg[0] = '\0';
    rc = hh_kite__call(k, &k->core_http, HH_KITE__QUERY, "GET", "/user/margins", NULL, NULL,
                       &data, NULL, &k->err);
    if (rc)
        return rc;
    if (!json_object_object_get_ex(data, "equity", &eq) ||
        hh_kite__j_price(eq, "net", available))
        rc = hh_diag_set(&k->err, HH_EUNAVAIL, "margins: no equity.net");
    json_object_put(data);
    return rc;
}

static void op_set_sink(void *impl, hh_report_fn fn, void *ctx)
{
    struct hh_kite *k = impl;

    k->sink = fn;
    k->sink_ctx = ctx;
}

static hh_time_t op_next_due(void *impl)
{
    struct hh_kite *k = impl;
    bool rows;

    if (k->npending || k->dirty_any)
        return 0;
    pthread_mutex_lock(&k->mu);
    rows = k->nrows > 0;
    pthread_mutex_unlock(&k->mu);
    return rows ? 0 : HH_TIME_MAX;
}

/* Deliver by index: a sink that calls back into the broker may append. */
static void op_pump(void *impl)
{
    struct hh_kite *k = impl;

    hh_kite__absorb(k);
    for (size_t i = 0; i < k->npending; i++) {
        struct hh_report r = k->pending[i];

        atomic_fetch_add(&k->n_reports, 1);
        if (k->sink)
            k->sink(k->sink_ctx, &r);
    }
    k->npending = 0;
}

/* Kite's final.total: the basket's margin with the account's positions. */
static int op_basket_margin(void *impl, const struct hh_order_req *reqs, size_t n,
                            hh_money_t *required)
{
    struct hh_kite *k = impl;
    struct hh_kite_margin m;
    int rc;

    k->err.msg[0] = '\0';
    if ((rc = hh_kite_basket_margin(k, reqs, n, &m, &k->err)))
        return rc;
    *required = m.final;
    return HH_OK;
}

const struct hh_broker_ops hh_kite__ops = {
    .place = op_place,
    .modify = op_modify,
    .cancel = op_cancel,
    .set_sink = op_set_sink,
    .find = op_find,
    .status = op_status,
    .orders = op_orders,
    .positions = op_positions,
    .funds = op_funds,
    .basket_margin = op_basket_margin,
    .next_due = op_next_due,
    .pump = op_pump,
};
