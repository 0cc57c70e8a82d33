/*
 * ks_exch.c — the test server's order book over the simulated exchange.
 *
 * Life of an order (statuses as Kite shows them; each a history row):
 *   PUT ORDER REQ RECEIVED, VALIDATION PENDING, OPEN PENDING
 *     -- transient_ms later it reaches the exchange (simex) -->
 *   OPEN (TRIGGER PENDING for SL / SL-M until its first fill)
 *     fills: OPEN with filled_quantity, then COMPLETE
 *   modify: MODIFY VALIDATION PENDING, MODIFY PENDING -- transient -->
 *           MODIFIED, OPEN
 *   cancel: CANCEL PENDING -- transient --> CANCELLED
 *   REJECTED with a status_message (an exchange rejection)
 * Every change is an order update on the socket (status UPDATE for partial
 * fills and modifications), subject to the update faults.  Fills are
 * trades (trade_id increasing) and move the net position.
 *
 * Records for the checks: each order call's receive time (ks_api.c), each
 * placement with its tag, type and market_protection, each subscribe and
 * unsubscribe message of the sockets.
 */
#include "ks.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

enum step { STEP_NONE, STEP_OPEN, STEP_MODIFY, STEP_CANCEL };

struct hist {
    char status[32];
    char msg[KS_MSG_MAX];
    int64_t ts;                     /* realtime ns */
    hh_qty_t qty, filled;
    hh_price_t price, trigger;
    hh_money_t notional;
};

struct ks_order {
    uint64_t id, sim;
    char tag[KS_TAG_MAX];
    hh_iid_t iid;
    char exchange[8], product[8], validity[8], mp[16];
    enum hh_side side;
    enum hh_ord_type type;
    hh_qty_t qty, filled;
    hh_price_t price, trigger;
    hh_money_t notional;            /* sum of fill price x qty */
    char status[32];
    char msg[KS_MSG_MAX];
    int64_t created;                /* realtime ns */
    int64_t visible;                /* mono ns: in GET /orders from then on */
    enum step step;
    int64_t due;                    /* mono ns of the pending step */
    hh_qty_t mqty;                  /* a pending modification */
    hh_price_t mprice, mtrigger;
    struct hist *hist;
    size_t nhist, caphist;
};

struct ks_pos {
    hh_qty_t qty, buy_qty, sell_qty;
    hh_money_t buy_value, sell_value;
    char product[8];
    bool used;
};

static const char *const type_names[] = { "MARKET", "LIMIT", "SL-M", "SL" };

/* ---- helpers ------------------------------------------------------------- */

static struct ks_order *by_id(struct ks_server *s, uint64_t id)
{
    if (id < s->order_base || id - s->order_base >= s->norders)
        return NULL;
    return &s->orders[id - s->order_base];
}

static bool working(const struct ks_order *o)
{
    return strcmp(o->status, "COMPLETE") && strcmp(o->status, "CANCELLED") &&
           strcmp(o->status, "REJECTED");
}

static void ist(int64_t ns, char *buf, size_t cap)
{
    char t[40];

    hh_time_format(ns - ns % 1000000000LL, t, sizeof t);
    /* 2024-06-03T09:15:00+05:30 -> 2024-06-03 09:15:00 */
    snprintf(buf, cap, "%.10s %.8s", t, t + 11);
}

static void snapshot(struct ks_order *o, const char *status)
{
    struct hist *h;

    if (o->nhist == o->caphist) {
        o->caphist = o->caphist ? 2 * o->caphist : 8;
        o->hist = realloc(o->hist, o->caphist * sizeof *o->hist);
    }
    h = &o->hist[o->nhist++];
    snprintf(h->status, sizeof h->status, "%s", status);
    snprintf(h->msg, sizeof h->msg, "%s", o->msg);
    h->ts = ks_real();
    h->qty = o->qty;
    h->filled = o->filled;
    h->price = o->price;
    h->trigger = o->trigger;
    h->notional = o->notional;
    snprintf(o->status, sizeof o->status, "%s", status);
}

/* One order as Kite writes it, with the fields of history row h. */
static void order_json(struct ks_server *s, const struct ks_order *o, const struct hist *h,
                       const char *status, struct ks_buf *b)
{
    const struct hh_instrument *in = hh_inst_get(s->inst, o->iid);
    hh_price_t avg = h->filled ? (hh_price_t)hh_i128_div_round(h->notional, h->filled) : 0;
    char ts[32], ots[32];

    ist(h->ts, ts, sizeof ts);
    ist(o->created, ots, sizeof ots);
    ks_buf_printf(b, "{\"placed_by\":\"%s\",\"order_id\":\"%llu\",\"exchange_order_id\":"
                     "\"%llu\",\"parent_order_id\":null,\"status\":\"%s\",\"status_message\":",
                  s->user, (unsigned long long)o->id, (unsigned long long)(o->id + 7000000000ull),
                  status);
    if (h->msg[0])
        ks_buf_jstr(b, h->msg);
    else
        ks_buf_printf(b, "null");
    ks_buf_printf(b, ",\"status_message_raw\":null,\"order_timestamp\":\"%s\","
                     "\"exchange_update_timestamp\":\"%s\",\"exchange_timestamp\":\"%s\","
                     "\"variety\":\"regular\",\"modified\":false,\"exchange\":\"%s\","
                     "\"tradingsymbol\":",
                  ots, ts, ts, o->exchange);
    ks_buf_jstr(b, in->symbol);
    ks_buf_printf(b, ",\"instrument_token\":%u,\"order_type\":\"%s\",\"transaction_type\":"
                     "\"%s\",\"validity\":\"%s\",\"validity_ttl\":0,\"product\":\"%s\","
                     "\"quantity\":%lld,\"disclosed_quantity\":0,\"price\":",
                  in->token, type_names[o->type], o->side == HH_BUY ? "BUY" : "SELL",
                  o->validity, o->product, (long long)h->qty);
    ks_buf_price(b, h->price);
    ks_buf_printf(b, ",\"trigger_price\":");
    ks_buf_price(b, h->trigger);
    ks_buf_printf(b, ",\"average_price\":");
    ks_buf_price(b, avg);
    ks_buf_printf(b, ",\"filled_quantity\":%lld,\"pending_quantity\":%lld,"
                     "\"cancelled_quantity\":%lld,\"market_protection\":%s,\"meta\":{},\"tag\":",
                  (long long)h->filled,
                  (long long)(strcmp(status, "CANCELLED") && strcmp(status, "REJECTED")
                                  ? h->qty - h->filled : 0),
                  (long long)(strcmp(status, "CANCELLED") ? 0 : h->qty - h->filled),
                  o->mp[0] ? o->mp : "0");
    if (o->tag[0]) {
        ks_buf_jstr(b, o->tag);
        ks_buf_printf(b, ",\"tags\":[");
        ks_buf_jstr(b, o->tag);
        ks_buf_printf(b, "]");
    } else {
        ks_buf_printf(b, "null,\"tags\":[]");
    }
    ks_buf_printf(b, ",\"guid\":\"ks%llu\"}", (unsigned long long)o->id);
}

/* Tell the socket: {"type":"order","data":{...}}. */
static void update(struct ks_server *s, const struct ks_order *o, const char *status)
{
    struct ks_buf b = { 0 };

    ks_buf_printf(&b, "{\"type\":\"order\",\"data\":");
    order_json(s, o, &o->hist[o->nhist - 1], status, &b);
    ks_buf_printf(&b, "}");
    ks_api_order_update(s, b.p, b.n);
    ks_buf_free(&b);
}

static void change(struct ks_server *s, struct ks_order *o, const char *status,
                   const char *told)
{
    snapshot(o, status);
    update(s, o, told ? told : status);
}

/* ---- positions and trades -------------------------------------------------- */

static struct ks_pos *pos_of(struct ks_server *s, hh_iid_t iid)
{
    return iid < s->npos ? &s->pos[iid] : NULL;
}

static void book_trade(struct ks_server *s, struct ks_order *o, hh_qty_t q, hh_price_t px)
{
    struct ks_pos *p = pos_of(s, o->iid);
    const struct hh_instrument *in = hh_inst_get(s->inst, o->iid);
    char ts[32];

    if (p) {
        p->used = true;
        snprintf(p->product, sizeof p->product, "%s", o->product);
        p->qty += o->side == HH_BUY ? q : -q;
        if (o->side == HH_BUY) {
            p->buy_qty += q;
            p->buy_value += px * q;
        } else {
            p->sell_qty += q;
            p->sell_value += px * q;
        }
    }
    ist(ks_real(), ts, sizeof ts);
    if (s->ntrades++)
        ks_buf_put(&s->trades, ",", 1);
    ks_buf_printf(&s->trades, "{\"trade_id\":\"%llu\",\"order_id\":\"%llu\","
                              "\"exchange_order_id\":\"%llu\",\"tradingsymbol\":",
                  (unsigned long long)s->next_trade++, (unsigned long long)o->id,
                  (unsigned long long)(o->id + 7000000000ull));
    ks_buf_jstr(&s->trades, in->symbol);
    ks_buf_printf(&s->trades, ",\"exchange\":\"%s\",\"instrument_token\":%u,\"product\":\"%s\","
                              "\"average_price\":",
                  o->exchange, in->token, o->product);
    ks_buf_price(&s->trades, px);
    ks_buf_printf(&s->trades, ",\"quantity\":%lld,\"fill_timestamp\":\"%s\","
                              "\"order_timestamp\":\"%s\",\"exchange_timestamp\":\"%s\","
                              "\"transaction_type\":\"%s\"}",
                  (long long)q, ts, ts, ts, o->side == HH_BUY ? "BUY" : "SELL");
}

static struct ks_order *by_sim(struct ks_server *s, uint64_t sim)
{
    for (size_t i = 0; i < s->norders; i++)
        if (s->orders[i].sim == sim)
            return &s->orders[i];
    return NULL;
}

/* The exchange's reports: fills, cancellations, rejections. */
static void on_report(void *ctx, const struct hh_report *r)
{
    struct ks_server *s = ctx;
    struct ks_order *o = by_sim(s, r->order_id);

    if (!o)
        return;
    switch (r->kind) {
    case HH_RPT_FILL:
        o->filled = r->filled;
        o->notional += r->price * r->qty;
        book_trade(s, o, r->qty, r->price);
        if (o->filled >= o->qty)
            change(s, o, "COMPLETE", NULL);
        else
            change(s, o, "OPEN", "UPDATE");
        break;
    case HH_RPT_CANCELLED:
        o->step = STEP_NONE;
        change(s, o, "CANCELLED", NULL);
        break;
    case HH_RPT_REJECTED:
        snprintf(o->msg, sizeof o->msg, "%s", r->reason[0] ? r->reason : "Rejected");
        change(s, o, "REJECTED", NULL);
        break;
    default:
        break;
    }
}

/* ---- the transient steps ------------------------------------------------------ */

static void enter(struct ks_server *s, struct ks_order *o)
{
    struct hh_order_req q;

    memset(&q, 0, sizeof q);
    snprintf(q.client_id, sizeof q.client_id, "%s", o->tag);
    q.iid = o->iid;
    q.side = o->side;
    q.type = o->type;
    q.qty = o->qty;
    q.limit = o->price;
    q.trigger = o->trigger;
    s->clock.now = ks_real();
    if (s->exb.ops->place(s->exb.impl, &q, &o->sim) != HH_OK) {
        snprintf(o->msg, sizeof o->msg, "Rejected by the exchange");
        change(s, o, "REJECTED", NULL);
        return;
    }
    change(s, o, o->type == HH_ORD_STOP || o->type == HH_ORD_STOP_LIMIT ? "TRIGGER PENDING"
                                                                         : "OPEN", NULL);
}

static void apply_modify(struct ks_server *s, struct ks_order *o)
{
    const char *back = o->type == HH_ORD_STOP || o->type == HH_ORD_STOP_LIMIT
                       ? (o->filled ? "OPEN" : "TRIGGER PENDING") : "OPEN";

    s->clock.now = ks_real();
    if (s->exb.ops->modify(s->exb.impl, o->sim, o->mqty, o->mprice, o->mtrigger) == HH_OK) {
        if (o->mqty)
            o->qty = o->mqty;
        if (o->mprice)
            o->price = o->mprice;
        if (o->mtrigger)
            o->trigger = o->mtrigger;
        snapshot(o, "MODIFIED");
    }
    if (working(o))
        change(s, o, back, "UPDATE");
}

static void run_step(struct ks_server *s, struct ks_order *o)
{
    enum step st = o->step;

    o->step = STEP_NONE;
    if (st == STEP_OPEN)
        enter(s, o);
    else if (st == STEP_MODIFY && working(o))
        apply_modify(s, o);
    else if (st == STEP_CANCEL && working(o)) {
        s->clock.now = ks_real();
        if (o->sim)
            s->exb.ops->cancel(s->exb.impl, o->sim);
        else
            change(s, o, "CANCELLED", NULL);
    }
}

int64_t ks_exch_due(struct ks_server *s)
{
    int64_t now = ks_mono(), next = INT64_MAX;

    for (size_t i = 0; i < s->norders; i++) {
        struct ks_order *o = &s->orders[i];

        if (o->step != STEP_NONE && o->due <= now)
            run_step(s, o);
        if (o->step != STEP_NONE && o->due - now < next)
            next = o->due - now;
    }
    return next;
}

static void schedule(struct ks_server *s, struct ks_order *o, enum step st)
{
    o->step = st;
    o->due = ks_mono() + s->f.transient;
    if (s->f.transient == 0)
        run_step(s, o);
}

/* ---- placing ------------------------------------------------------------------- */

static bool price_of(const char *v, hh_price_t *out)
{
    return v && hh_price_parse(v, strlen(v), HH_DEC_PLUS, out) == HH_OK && *out >= 0;
}

static bool alnum_tag(const char *t)
{
    size_t n = strlen(t);

    if (n > 20)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
              (t[i] >= '0' && t[i] <= '9')))
            return false;
    return true;
}

static int parse_type(const char *t, enum hh_ord_type *out)
{
    for (int i = 0; i < 4; i++) {
        if (t && strcmp(t, type_names[i]) == 0) {
            *out = (enum hh_ord_type)i;
            return 0;
        }
    }
    return -1;
}

static bool needs_protection(enum hh_ord_type t)
{
    return t == HH_ORD_MARKET || t == HH_ORD_STOP;
}

/* market_protection: -1, or a percentage in (0, 100]; 0 is refused. */
static bool protection_ok(const char *mp)
{
    hh_price_t v;

    if (!mp)
        return false;
    if (strcmp(mp, "-1") == 0)
        return true;
    return price_of(mp, &v) && v > 0 && v <= 100 * HH_RUPEE;
}

/* Record one placement attempt. */
static void record_place(struct ks_server *s, const struct ks_form *f, uint64_t id)
{
    const char *tag = ks_form_get(f, "tag"), *t = ks_form_get(f, "order_type"),
               *mp = ks_form_get(f, "market_protection");

    if (s->nplacements++)
        ks_buf_put(&s->placements, ",", 1);
    ks_buf_printf(&s->placements, "{\"t_ns\":%lld,\"tag\":", (long long)ks_real());
    ks_buf_jstr(&s->placements, tag ? tag : "");
    ks_buf_printf(&s->placements, ",\"order_type\":");
    ks_buf_jstr(&s->placements, t ? t : "");
    ks_buf_printf(&s->placements, ",\"market_protection\":");
    ks_buf_jstr(&s->placements, mp ? mp : "");
    ks_buf_printf(&s->placements, ",\"order_id\":\"%llu\"}", (unsigned long long)id);
    if (id)
        s->created++;
    if (t && (strcmp(t, "MARKET") == 0 || strcmp(t, "SL-M") == 0) && !protection_ok(mp))
        s->unprotected++;
}

/* Validate a placement form into o (fields a Kite InputException names). */
static const char *validate(struct ks_server *s, const struct ks_form *f, struct ks_order *o)
{
    const char *ex = ks_form_get(f, "exchange"), *sym = ks_form_get(f, "tradingsymbol");
    const char *side = ks_form_get(f, "transaction_type"), *prod = ks_form_get(f, "product");
    const char *qty = ks_form_get(f, "quantity"), *val = ks_form_get(f, "validity");
    const char *tag = ks_form_get(f, "tag");
    const struct hh_instrument *in;
    char key[80];

    if (!ex || !sym || !side || !prod || !qty)
        return "Missing required field";
    snprintf(key, sizeof key, "%s:%s", ex, sym);
    if ((o->iid = hh_inst_find(s->inst, key, strlen(key))) == HH_IID_NONE)
        return "Invalid `tradingsymbol` or `exchange`";
    in = hh_inst_get(s->inst, o->iid);
    if (in->type == HH_INST_INDEX)
        return "Instrument is not tradable";
    if (parse_type(ks_form_get(f, "order_type"), &o->type))
        return "Invalid `order_type`";
    if (strcmp(side, "BUY") && strcmp(side, "SELL"))
        return "Invalid `transaction_type`";
    if (strcmp(prod, "MIS") && strcmp(prod, "NRML") && strcmp(prod, "CNC") && strcmp(prod, "MTF"))
        return "Invalid `product`";
    if (val && strcmp(val, "DAY") && strcmp(val, "IOC") && strcmp(val, "TTL"))
        return "Invalid `validity`";
    if (hh_qty_parse(qty, strlen(qty), &o->qty) || o->qty <= 0)
        return "Invalid `quantity`";
    if (o->qty % in->lot_size)
        return "Quantity should be a multiple of the lot size";
    if (in->freeze_qty && o->qty > in->freeze_qty)
        return "Quantity exceeds the freeze limit: slice the order";
    if ((o->type == HH_ORD_LIMIT || o->type == HH_ORD_STOP_LIMIT) &&
        (!price_of(ks_form_get(f, "price"), &o->price) || !o->price || o->price % in->tick))
        return "Invalid `price` (missing, or not a multiple of the tick size)";
    if ((o->type == HH_ORD_STOP || o->type == HH_ORD_STOP_LIMIT) &&
        (!price_of(ks_form_get(f, "trigger_price"), &o->trigger) || !o->trigger ||
         o->trigger % in->tick))
        return "Invalid `trigger_price`";
    if (needs_protection(o->type) && !protection_ok(ks_form_get(f, "market_protection")))
        return "Market orders without market protection are not allowed";
    if (tag && !alnum_tag(tag))
        return "Invalid `tag`: up to 20 alphanumeric characters";
    o->side = side[0] == 'B' ? HH_BUY : HH_SELL;
    snprintf(o->exchange, sizeof o->exchange, "%s", ex);
    snprintf(o->product, sizeof o->product, "%s", prod);
    snprintf(o->validity, sizeof o->validity, "%s", val ? val : "DAY");
    snprintf(o->tag, sizeof o->tag, "%s", tag ? tag : "");
    snprintf(o->mp, sizeof o->mp, "%s",
             ks_form_get(f, "market_protection") ? ks_form_get(f, "market_protection") : "");
    return NULL;
}

static struct ks_order *new_order(struct ks_server *s)
{
    struct ks_order *o;

    if (s->norders == s->caporders) {
        s->caporders = s->caporders ? 2 * s->caporders : 64;
        s->orders = realloc(s->orders, s->caporders * sizeof *s->orders);
    }
    o = &s->orders[s->norders];
    memset(o, 0, sizeof *o);
    o->id = s->order_base + s->norders;
    o->created = ks_real();
    o->visible = ks_mono() + s->f.book_lag;
    return o;
}

static int id_answer(struct ks_buf *body, uint64_t id)
{
    char d[64];
    int n = snprintf(d, sizeof d, "{\"order_id\":\"%llu\"}", (unsigned long long)id);

    ks_success(body, d, (size_t)n);
    return 200;
}

int ks_exch_place(struct ks_server *s, const struct ks_form *f, struct ks_buf *body,
                  int *fault)
{
    struct ks_order *o = new_order(s);
    const char *why = validate(s, f, o);
    int roll;

    if (why) {
        record_place(s, f, 0);
        return ks_error(body, 400, "InputException", why);
    }
    s->norders++;
    record_place(s, f, o->id);
    snapshot(o, "PUT ORDER REQ RECEIVED");
    snapshot(o, "VALIDATION PENDING");
    snapshot(o, "OPEN PENDING");
    schedule(s, o, STEP_OPEN);
    roll = ks_pct(s);
    if (roll < s->f.place_timeout)
        *fault = 1;
    else if (roll < s->f.place_timeout + s->f.place_drop)
        *fault = 2;
    else if (roll < s->f.place_timeout + s->f.place_drop + s->f.place_5xx)
        *fault = 3;
    if (*fault)
        s->faults_fired++;
    return id_answer(body, o->id);
}

int ks_exch_modify(struct ks_server *s, uint64_t id, const struct ks_form *f,
                   struct ks_buf *body)
{
    struct ks_order *o = by_id(s, id);
    const char *q = ks_form_get(f, "quantity");
    const struct hh_instrument *in;
    enum hh_ord_type t;

    if (!o)
        return ks_error(body, 400, "InputException", "Couldn't find that `order_id`.");
    in = hh_inst_get(s->inst, o->iid);
    if (!working(o) || o->step == STEP_CANCEL || !o->sim)
        return ks_error(body, 400, "OrderException",
                        "Order cannot be modified as it is being processed or has ended.");
    if (needs_protection(o->type) && !protection_ok(ks_form_get(f, "market_protection")))
        s->unprotected++;               /* counted, as placements are */
    o->mqty = 0;
    o->mprice = o->mtrigger = 0;
    if ((ks_form_get(f, "order_type") && (parse_type(ks_form_get(f, "order_type"), &t) ||
                                          t != o->type)) ||
        (q && (hh_qty_parse(q, strlen(q), &o->mqty) || o->mqty <= o->filled ||
                o->mqty % in->lot_size || (in->freeze_qty && o->mqty > in->freeze_qty))) ||
        (ks_form_get(f, "price") && (!price_of(ks_form_get(f, "price"), &o->mprice) ||
                                     o->mprice % in->tick)) ||
        (ks_form_get(f, "trigger_price") &&
         (!price_of(ks_form_get(f, "trigger_price"), &o->mtrigger) || o->mtrigger % in->tick)))
        return ks_error(body, 400, "InputException", "Invalid modification");
    snapshot(o, "MODIFY VALIDATION PENDING");
    snapshot(o, "MODIFY PENDING");
    schedule(s, o, STEP_MODIFY);
    return id_answer(body, id);
}

int ks_exch_cancel(struct ks_server *s, uint64_t id, struct ks_buf *body)
{
    struct ks_order *o = by_id(s, id);

    if (!o)
        return ks_error(body, 400, "InputException", "Couldn't find that `order_id`.");
    if (!working(o) || o->step == STEP_CANCEL)
        return ks_error(body, 400, "OrderException",
                        "Order cannot be cancelled as it is being processed or has ended.");
    if (o->sim)
        change(s, o, "CANCEL PENDING", NULL);
    schedule(s, o, STEP_CANCEL);
    return id_answer(body, id);
}

/* ---- reads --------------------------------------------------------------------- */

static bool listed(const struct ks_order *o)
{
    return ks_mono() >= o->visible;
}

int ks_exch_orders(struct ks_server *s, struct ks_buf *body)
{
    struct ks_buf d = { 0 };
    bool first = true;

    ks_buf_put(&d, "[", 1);
    for (size_t i = 0; i < s->norders; i++) {
        struct ks_order *o = &s->orders[i];

        if (!listed(o))
            continue;                   /* book lag */
        if (!first)
            ks_buf_put(&d, ",", 1);
        first = false;
        order_json(s, o, &o->hist[o->nhist - 1], o->status, &d);
    }
    ks_buf_put(&d, "]", 1);
    ks_success(body, d.p, d.n);
    ks_buf_free(&d);
    return 200;
}

int ks_exch_history(struct ks_server *s, uint64_t id, struct ks_buf *body)
{
    struct ks_order *o = by_id(s, id);
    struct ks_buf d = { 0 };

    if (!o || !listed(o))
        return ks_error(body, 400, "InputException", "Couldn't find that `order_id`.");
    ks_buf_put(&d, "[", 1);
    for (size_t i = 0; i < o->nhist; i++) {
        if (i)
            ks_buf_put(&d, ",", 1);
        order_json(s, o, &o->hist[i], o->hist[i].status, &d);
    }
    ks_buf_put(&d, "]", 1);
    ks_success(body, d.p, d.n);
    ks_buf_free(&d);
    return 200;
}

/* The trades of one order: those whose order_id field is this one. */
int ks_exch_order_trades(struct ks_server *s, uint64_t id, struct ks_buf *body)
{
    struct json_object *all;
    struct ks_buf d = { 0 }, wrapped = { 0 };
    char want[32];
    bool first = true;

    if (!by_id(s, id))
        return ks_error(body, 400, "InputException", "Couldn't find that `order_id`.");
    snprintf(want, sizeof want, "%llu", (unsigned long long)id);
    ks_buf_printf(&wrapped, "[%s]", s->trades.p ? s->trades.p : "");
    all = json_tokener_parse(wrapped.p);
    ks_buf_put(&d, "[", 1);
    for (size_t i = 0; all && i < json_object_array_length(all); i++) {
        struct json_object *t = json_object_array_get_idx(all, i), *v;

        if (json_object_object_get_ex(t, "order_id", &v) &&
            strcmp(json_object_get_string(v), want) == 0) {
            if (!first)
                ks_buf_put(&d, ",", 1);
            first = false;
            ks_buf_printf(&d, "%s", json_object_to_json_string_ext(t, JSON_C_TO_STRING_PLAIN));
        }
    }
    ks_buf_put(&d, "]", 1);
    ks_success(body, d.p, d.n);
    json_object_put(all);
    ks_buf_free(&d);
    ks_buf_free(&wrapped);
    return 200;
}

int ks_exch_trades(struct ks_server *s, struct ks_buf *body)
{
    struct ks_buf d = { 0 };

    ks_buf_printf(&d, "[%s]", s->trades.p ? s->trades.p : "");
    ks_success(body, d.p, d.n);
    ks_buf_free(&d);
    return 200;
}

static void pos_json(struct ks_server *s, hh_iid_t iid, const struct ks_pos *p,
                     struct ks_buf *b)
{
    const struct hh_instrument *in = hh_inst_get(s->inst, iid);
    const struct ks_mkt *m = ks_exch_mkt(s, iid);
    hh_price_t last = m ? m->last : 0;
    hh_qty_t side_qty = p->qty > 0 ? p->buy_qty : p->sell_qty;
    hh_money_t side_val = p->qty > 0 ? p->buy_value : p->sell_value;
    hh_price_t avg = p->qty && side_qty ? (hh_price_t)hh_i128_div_round(side_val, side_qty) : 0;
    hh_money_t pnl = p->sell_value - p->buy_value + p->qty * last;
    const char *ex = in->exch == HH_EXCH_MCX ? "MCX"
                   : in->exch == HH_EXCH_BSE ? (in->seg == HH_SEG_CASH ? "BSE" : "BFO")
                   : (in->seg == HH_SEG_CASH ? "NSE" : in->seg == HH_SEG_CURRENCY ? "CDS"
                                                                                   : "NFO");

    ks_buf_printf(b, "{\"tradingsymbol\":");
    ks_buf_jstr(b, in->symbol);
    ks_buf_printf(b, ",\"exchange\":\"%s\",\"instrument_token\":%u,\"product\":\"%s\","
                     "\"quantity\":%lld,\"overnight_quantity\":0,\"multiplier\":1,"
                     "\"average_price\":",
                  ex, in->token, p->product, (long long)p->qty);
    ks_buf_price(b, avg);
    ks_buf_printf(b, ",\"close_price\":0,\"last_price\":");
    ks_buf_price(b, last);
    ks_buf_printf(b, ",\"value\":");
    ks_buf_price(b, p->sell_value - p->buy_value);
    ks_buf_printf(b, ",\"pnl\":");
    ks_buf_price(b, pnl);
    ks_buf_printf(b, ",\"m2m\":");
    ks_buf_price(b, pnl);
    ks_buf_printf(b, ",\"buy_quantity\":%lld,\"buy_value\":", (long long)p->buy_qty);
    ks_buf_price(b, p->buy_value);
    ks_buf_printf(b, ",\"sell_quantity\":%lld,\"sell_value\":", (long long)p->sell_qty);
    ks_buf_price(b, p->sell_value);
    ks_buf_printf(b, ",\"day_buy_quantity\":%lld,\"day_sell_quantity\":%lld}",
                  (long long)p->buy_qty, (long long)p->sell_qty);
}

int ks_exch_positions(struct ks_server *s, struct ks_buf *body)
{
    struct ks_buf list = { 0 }, d = { 0 };
    bool first = true;

    for (size_t i = 0; i < s->npos; i++) {
        if (!s->pos[i].used)
            continue;
        if (!first)
            ks_buf_put(&list, ",", 1);
        first = false;
        pos_json(s, (hh_iid_t)i, &s->pos[i], &list);
    }
    ks_buf_printf(&d, "{\"net\":[%s],\"day\":[%s]}", list.p ? list.p : "",
                  list.p ? list.p : "");
    ks_success(body, d.p, d.n);
    ks_buf_free(&list);
    ks_buf_free(&d);
    return 200;
}

/* Margin used by the open positions: 20 % of their value at the last
 * price (a stand-in, not SPAN). */
static hh_money_t utilised(struct ks_server *s)
{
    hh_money_t u = 0;

    for (size_t i = 0; i < s->npos; i++) {
        const struct ks_mkt *m = ks_exch_mkt(s, (hh_iid_t)i);
        hh_qty_t q = s->pos[i].qty < 0 ? -s->pos[i].qty : s->pos[i].qty;

        if (m)
            u += m->last * q / 5;
    }
    return u;
}

static void segment_json(struct ks_buf *b, hh_money_t cash, hh_money_t used)
{
    ks_buf_printf(b, "{\"enabled\":true,\"net\":");
    ks_buf_price(b, cash - used);
    ks_buf_printf(b, ",\"available\":{\"adhoc_margin\":0,\"cash\":");
    ks_buf_price(b, cash);
    ks_buf_printf(b, ",\"opening_balance\":");
    ks_buf_price(b, cash);
    ks_buf_printf(b, ",\"live_balance\":");
    ks_buf_price(b, cash - used);
    ks_buf_printf(b, ",\"collateral\":0,\"intraday_payin\":0},\"utilised\":{\"debits\":");
    ks_buf_price(b, used);
    ks_buf_printf(b, ",\"exposure\":0,\"m2m_realised\":0,\"m2m_unrealised\":0,"
                     "\"option_premium\":0,\"payout\":0,\"span\":");
    ks_buf_price(b, used);
    ks_buf_printf(b, ",\"holding_sales\":0,\"turnover\":0,\"liquid_collateral\":0,"
                     "\"stock_collateral\":0,\"delivery\":0}}");
}

int ks_exch_margins(struct ks_server *s, struct ks_buf *body)
{
    struct ks_buf d = { 0 };

    ks_buf_printf(&d, "{\"equity\":");
    segment_json(&d, s->capital, utilised(s));
    ks_buf_printf(&d, ",\"commodity\":");
    segment_json(&d, 0, 0);
    ks_buf_printf(&d, "}");
    ks_success(body, d.p, d.n);
    ks_buf_free(&d);
    return 200;
}

static void margin_json(struct ks_buf *b, hh_money_t span, hh_money_t exposure,
                        hh_money_t premium)
{
    ks_buf_printf(b, "{\"type\":\"\",\"tradingsymbol\":\"\",\"exchange\":\"\",\"span\":");
    ks_buf_price(b, span);
    ks_buf_printf(b, ",\"exposure\":");
    ks_buf_price(b, exposure);
    ks_buf_printf(b, ",\"option_premium\":");
    ks_buf_price(b, premium);
    ks_buf_printf(b, ",\"additional\":0,\"bo\":0,\"cash\":0,\"var\":0,"
                     "\"pnl\":{\"realised\":0,\"unrealised\":0},\"leverage\":1,"
                     "\"charges\":{\"total\":0},\"total\":");
    ks_buf_price(b, span + exposure + premium);
    ks_buf_printf(b, "}");
}

/* POST /margins/basket (JSON array).  Stand-in figures, not SPAN: a sell
 * blocks 10 % span + 5 % exposure of its value, a bought option its
 * premium, other buys 15 %. */
int ks_exch_basket(struct ks_server *s, const char *json, size_t n, struct ks_buf *body)
{
    struct json_object *arr = n < 1 << 20 ? json_tokener_parse(json) : NULL;
    hh_money_t span = 0, exposure = 0, premium = 0;
    struct ks_buf d = { 0 };

    if (!json_object_is_type(arr, json_type_array)) {
        json_object_put(arr);
        return ks_error(body, 400, "InputException", "Invalid basket: a JSON array of orders");
    }
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        struct json_object *o = json_object_array_get_idx(arr, i), *v;
        char key[80];
        hh_iid_t iid;
        hh_price_t px = 0;
        hh_qty_t q = 0;
        const struct ks_mkt *m;
        hh_money_t value;

        snprintf(key, sizeof key, "%s:%s",
                 json_object_object_get_ex(o, "exchange", &v) ? json_object_get_string(v) : "",
                 json_object_object_get_ex(o, "tradingsymbol", &v) ? json_object_get_string(v)
                                                                    : "");
        if ((iid = hh_inst_find(s->inst, key, strlen(key))) == HH_IID_NONE) {
            json_object_put(arr);
            return ks_error(body, 400, "InputException", "Invalid `tradingsymbol` in basket");
        }
        if (json_object_object_get_ex(o, "quantity", &v))
            q = json_object_get_int64(v);
        if (json_object_object_get_ex(o, "price", &v))
            hh_price_parse(json_object_get_string(v), strlen(json_object_get_string(v)),
                           HH_DEC_EXP, &px);
        if (!px && (m = ks_exch_mkt(s, iid)))
            px = m->last;
        value = px * q;
        if (json_object_object_get_ex(o, "transaction_type", &v) &&
            strcmp(json_object_get_string(v), "SELL") == 0) {
            span += value / 10;
            exposure += value / 20;
        } else if (hh_inst_is_option(hh_inst_get(s->inst, iid))) {
            premium += value;
        } else {
            span += value * 3 / 20;
        }
    }
    json_object_put(arr);
    ks_buf_printf(&d, "{\"initial\":");
    margin_json(&d, span, exposure, premium);
    ks_buf_printf(&d, ",\"final\":");
    margin_json(&d, span, exposure, premium);
    ks_buf_printf(&d, ",\"orders\":[],\"charges\":{\"total\":0}}");
    ks_success(body, d.p, d.n);
    ks_buf_free(&d);
    return 200;
}

/* ---- what happens outside the engine ------------------------------------------- */

int ks_exch_broker_cancel(struct ks_server *s, const char *symbol)
{
    int n = 0;

    for (size_t i = 0; i < s->norders; i++) {
        struct ks_order *o = &s->orders[i];

        if (!working(o) ||
            (symbol && strcmp(hh_inst_get(s->inst, o->iid)->symbol, symbol) != 0))
            continue;
        snprintf(o->msg, sizeof o->msg, "Cancelled by the exchange");
        o->step = STEP_NONE;
        s->clock.now = ks_real();
        if (o->sim)
            s->exb.ops->cancel(s->exb.impl, o->sim);
        else
            change(s, o, "CANCELLED", NULL);
        n++;
    }
    return n;
}

/* A market order without a tag for the opposite of the net position,
 * filled at once at the last price: squared off by hand. */
int ks_exch_close_position(struct ks_server *s, const char *symbol)
{
    hh_iid_t iid = hh_inst_find(s->inst, symbol, strlen(symbol));
    const struct ks_mkt *m = iid == HH_IID_NONE ? NULL : ks_exch_mkt(s, iid);
    struct ks_pos *p = iid == HH_IID_NONE ? NULL : pos_of(s, iid);
    const struct hh_instrument *in;
    struct ks_order *o;

    if (!m || !p || !p->qty)
        return -1;
    in = hh_inst_get(s->inst, iid);
    o = new_order(s);
    s->norders++;
    o->iid = iid;
    o->side = p->qty > 0 ? HH_SELL : HH_BUY;
    o->type = HH_ORD_MARKET;
    o->qty = p->qty > 0 ? p->qty : -p->qty;
    o->visible = 0;
    snprintf(o->exchange, sizeof o->exchange, "%s",
             in->seg == HH_SEG_CASH ? "NSE" : in->exch == HH_EXCH_MCX ? "MCX" : "NFO");
    snprintf(o->product, sizeof o->product, "%s", p->product);
    snprintf(o->validity, sizeof o->validity, "DAY");
    snprintf(o->mp, sizeof o->mp, "-1");
    snapshot(o, "PUT ORDER REQ RECEIVED");
    o->filled = o->qty;
    o->notional = m->last * o->qty;
    book_trade(s, o, o->qty, m->last);
    change(s, o, "COMPLETE", NULL);
    return 0;
}

/* ---- ticks --------------------------------------------------------------------- */

const struct ks_mkt *ks_exch_mkt(const struct ks_server *s, hh_iid_t iid)
{
    return iid < s->npos && s->mkt[iid].ts ? &s->mkt[iid] : NULL;
}

void ks_exch_tick(struct ks_server *s, const struct hh_tick *t)
{
    struct ks_mkt *m;

    if (t->iid >= s->npos)
        return;
    m = &s->mkt[t->iid];
    if (!m->ts)
        m->open = m->high = m->low = m->close = t->price;
    m->last = t->price;
    m->last_qty = t->qty;
    m->volume += t->qty;
    if (t->price > m->high)
        m->high = t->price;
    if (t->price < m->low)
        m->low = t->price;
    m->bid = t->bid ? t->bid : t->price;
    m->ask = t->ask ? t->ask : t->price;
    m->ts = t->ts;
    s->clock.now = t->ts;
    s->exb.ops->on_tick(s->exb.impl, t);
}

/* ---- records and checks ---------------------------------------------------------- */

static int max_per_second(const int64_t *t, size_t n)
{
    int best = 0;
    size_t j = 0;

    for (size_t i = 0; i < n; i++) {
        while (t[i] - t[j] >= 1000000000LL)
            j++;
        if ((int)(i - j + 1) > best)
            best = (int)(i - j + 1);
    }
    return best;
}

static void dup_tags(struct ks_server *s, struct ks_buf *b)
{
    bool first = true;

    ks_buf_put(b, "[", 1);
    for (size_t i = 0; i < s->norders; i++) {
        const char *t = s->orders[i].tag;
        bool dup = false, seen_before = false;

        if (!t[0])
            continue;
        for (size_t j = 0; j < s->norders; j++) {
            if (j != i && strcmp(s->orders[j].tag, t) == 0) {
                dup = true;
                seen_before |= j < i;
            }
        }
        if (!dup || seen_before)
            continue;
        if (!first)
            ks_buf_put(b, ",", 1);
        first = false;
        ks_buf_jstr(b, t);
    }
    ks_buf_put(b, "]", 1);
}

int ks_exch_check(struct ks_server *s, struct ks_buf *body)
{
    struct ks_buf d = { 0 };
    size_t work = 0;
    bool first = true;

    for (size_t i = 0; i < s->norders; i++)
        work += working(&s->orders[i]);
    ks_buf_printf(&d, "{\"order_calls\":%zu,\"max_order_calls_in_1s\":%d,\"placements\":%llu,"
                      "\"created\":%llu,\"unprotected\":%llu,\"limited\":%llu,"
                      "\"faults\":%llu,\"working\":%zu,\"trades\":%zu,"
                      "\"updates\":{\"sent\":%llu,\"dropped\":%llu,\"duplicated\":%llu,"
                      "\"reordered\":%llu},\"ws_cuts\":%llu,\"dup_tags\":",
                  s->ncalls, max_per_second(s->call_ns, s->ncalls),
                  (unsigned long long)s->nplacements, (unsigned long long)s->created,
                  (unsigned long long)s->unprotected, (unsigned long long)s->limited,
                  (unsigned long long)s->faults_fired, work, s->ntrades,
                  (unsigned long long)s->updates_sent, (unsigned long long)s->updates_dropped,
                  (unsigned long long)s->updates_duplicated,
                  (unsigned long long)s->updates_reordered, (unsigned long long)s->ws_cuts);
    dup_tags(s, &d);
    ks_buf_printf(&d, ",\"positions\":{");
    for (size_t i = 0; i < s->npos; i++) {
        if (!s->pos[i].used)
            continue;
        if (!first)
            ks_buf_put(&d, ",", 1);
        first = false;
        ks_buf_jstr(&d, hh_inst_get(s->inst, (hh_iid_t)i)->symbol);
        ks_buf_printf(&d, ":%lld", (long long)s->pos[i].qty);
    }
    ks_buf_printf(&d, "}}");
    ks_success(body, d.p, d.n);
    ks_buf_free(&d);
    return 200;
}

int ks_exch_records(struct ks_server *s, struct ks_buf *body)
{
    struct ks_buf d = { 0 };

    ks_buf_printf(&d, "{\"order_calls_ns\":[");
    for (size_t i = 0; i < s->ncalls; i++)
        ks_buf_printf(&d, "%s%lld", i ? "," : "", (long long)s->call_ns[i]);
    ks_buf_printf(&d, "],\"placements\":[%s],\"subscriptions\":[%s]}",
                  s->placements.p ? s->placements.p : "",
                  s->subscriptions.p ? s->subscriptions.p : "");
    ks_success(body, d.p, d.n);
    ks_buf_free(&d);
    return 200;
}

/* ---- life ---------------------------------------------------------------------- */

int ks_exch_init(struct ks_server *s)
{
    struct hh_simex_config cfg;

    memset(&cfg, 0, sizeof cfg);
    hh_clock_init(&s->clock, false);
    s->clock.now = ks_real();
    s->ex = hh_simex_new(s->inst, &s->clock, &cfg);
    if (!s->ex)
        return -1;
    s->exb = hh_simex_broker(s->ex);
    s->exb.ops->set_sink(s->exb.impl, on_report, s);
    s->npos = hh_inst_count(s->inst);
    s->pos = calloc(s->npos ? s->npos : 1, sizeof *s->pos);
    s->mkt = calloc(s->npos ? s->npos : 1, sizeof *s->mkt);
    /* ids look like Kite's: 15 digits, day-based */
    s->order_base = 250101000000001ull;
    s->next_trade = 10000001;
    return s->pos && s->mkt ? 0 : -1;
}

void ks_exch_free(struct ks_server *s)
{
    for (size_t i = 0; i < s->norders; i++)
        free(s->orders[i].hist);
    free(s->orders);
    free(s->pos);
    free(s->mkt);
    hh_simex_free(s->ex);
    ks_buf_free(&s->trades);
    ks_buf_free(&s->placements);
    ks_buf_free(&s->subscriptions);
}
