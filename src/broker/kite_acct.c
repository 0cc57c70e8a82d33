/*
 * kite_acct.c — the account queries beyond the broker interface: the day's
 * trades (GET /trades, de-duplicated by trade_id) and the broker's margin
 * for a basket of orders (POST /margins/basket), on the core's thread.
 */
#include "broker/kite_int.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#define BASKET_MAX 50

static uint64_t text_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h == 0 || h == UINT64_MAX ? 1 : h;
}

/* "2024-01-25 10:15:02" (IST, as Kite writes it) -> ns; HH_TIME_NONE. */
static hh_time_t ist_stamp(const char *s)
{
    char buf[40];
    hh_time_t t;

    if (strlen(s) != 19 || snprintf(buf, sizeof buf, "%s+05:30", s) >= (int)sizeof buf)
        return HH_TIME_NONE;
    return hh_time_parse(buf, strlen(buf), &t, NULL) == HH_OK ? t : HH_TIME_NONE;
}

static int trade_parse(struct hh_kite *k, struct json_object *o, struct hh_kite_trade *t)
{
    char key[8 + HH_SYMBOL_MAX];
    const char *id = hh_kite__j_str(o, "trade_id"), *side;
    struct json_object *v;
    int n;

    memset(t, 0, sizeof *t);
    if (!*id && json_object_object_get_ex(o, "trade_id", &v) &&
        json_object_is_type(v, json_type_int))
        id = json_object_get_string(v);
    if (!*id || strlen(id) >= sizeof t->trade_id)
        return HH_ESYNTAX;
    memcpy(t->trade_id, id, strlen(id) + 1);
    side = hh_kite__j_str(o, "transaction_type");
    t->side = strcmp(side, "SELL") == 0 ? HH_SELL : HH_BUY;
    n = snprintf(key, sizeof key, "%s:%s", hh_kite__j_str(o, "exchange"),
                 hh_kite__j_str(o, "tradingsymbol"));
    t->iid = n > 0 && (size_t)n < sizeof key ? hh_inst_find(k->inst, key, (size_t)n)
                                             : HH_IID_NONE;
    t->ts = ist_stamp(hh_kite__j_str(o, "fill_timestamp"));
    if (hh_kite__j_id(o, "order_id", &t->order_id) || hh_kite__j_qty(o, "quantity", &t->qty) ||
        hh_kite__j_price(o, "average_price", &t->price) || t->qty <= 0 ||
        (strcmp(side, "BUY") && strcmp(side, "SELL")))
        return HH_ESYNTAX;
    return HH_OK;
}

int hh_kite_trades(struct hh_kite *k, struct hh_kite_trade *out, size_t cap, size_t *n,
                   bool only_new)
{
    struct json_object *data;
    struct hh_u64map here;
    size_t len, m = 0;
    int rc;

    k->err.msg[0] = '\0';
    rc = hh_kite__call(k, &k->core_http, HH_KITE__QUERY, "GET", "/trades", NULL, NULL, &data,
                       NULL, &k->err);
    if (rc)
        return rc;
    if (!json_object_is_type(data, json_type_array) || hh_u64map_init(&here, 64)) {
        json_object_put(data);
        return hh_diag_set(&k->err, HH_EUNAVAIL, "trades: not a list");
    }
    len = json_object_array_length(data);
    for (size_t i = 0; i < len && rc == HH_OK; i++) {
        struct hh_kite_trade t;
        uint64_t h;

        if (trade_parse(k, json_object_array_get_idx(data, i), &t)) {
            rc = hh_diag_set(&k->err, HH_EUNAVAIL, "trades: row %zu malformed", i);
            break;
        }
        h = text_hash(t.trade_id);
        if (hh_u64map_get(&here, h, NULL) || (only_new && hh_u64map_get(&k->trades_seen, h, NULL)))
            continue;                   /* the same execution again */
        hh_u64map_put(&here, h, 1);
        if (m < cap) {
            out[m] = t;
            hh_u64map_put(&k->trades_seen, h, 1);
        }
        m++;
    }
    hh_u64map_free(&here);
    json_object_put(data);
    *n = m;
    return rc;
}

/* ---- basket margins ------------------------------------------------------------- */

/* One leg as a JSON object after `sep`, appended to buf (symbols are
 * printable ASCII; one holding a quote or backslash is refused rather than
 * escaped).  false when the leg cannot be sent or the buffer is full. */
static bool leg_json(struct hh_kite *k, const struct hh_order_req *r, const char *sep,
                     char *buf, size_t cap, size_t *n)
{
    static const char *const products[] = { "MIS", "NRML", "CNC" };
    static const char *const types[] = { "MARKET", "LIMIT", "SL-M", "SL" };
    const struct hh_instrument *in = hh_inst_get(k->inst, r->iid);
    const char *ex = in ? hh_kite__exchange(in) : NULL;
    char px[32], trig[32];
    int w;

    if (!ex || strpbrk(in->symbol, "\"\\") || r->qty <= 0 || (int)r->type < 0 ||
        r->type > HH_ORD_STOP_LIMIT)
        return false;
    hh_kite__price_text(r->limit, px, sizeof px);
    hh_kite__price_text(r->trigger, trig, sizeof trig);
    w = snprintf(buf + *n, cap - *n,
                 "%s{\"exchange\":\"%s\",\"tradingsymbol\":\"%s\",\"transaction_type\":\"%s\","
                 "\"variety\":\"regular\",\"product\":\"%s\",\"order_type\":\"%s\","
                 "\"quantity\":%lld,\"price\":%s,\"trigger_price\":%s}",
                 sep, ex, in->symbol, r->side == HH_BUY ? "BUY" : "SELL", products[k->product],
                 types[r->type], (long long)r->qty, px, trig);
    if (w < 0 || (size_t)w >= cap - *n)
        return false;
    *n += (size_t)w;
    return true;
}

static int money_of(struct json_object *o, const char *key, hh_money_t *out)
{
    return hh_kite__j_price(o, key, out);
}

static int margin_parse(struct json_object *data, struct hh_kite_margin *out)
{
    struct json_object *ini, *fin;

    if (!json_object_object_get_ex(data, "initial", &ini) ||
        !json_object_object_get_ex(data, "final", &fin) || money_of(ini, "total", &out->initial) ||
        money_of(fin, "total", &out->final) || money_of(fin, "span", &out->span) ||
        money_of(fin, "exposure", &out->exposure) ||
        money_of(fin, "option_premium", &out->option_premium))
        return HH_ESYNTAX;
    return HH_OK;
}

int hh_kite_basket_margin(struct hh_kite *k, const struct hh_order_req *legs, size_t n,
                          struct hh_kite_margin *out, struct hh_diag *d)
{
    char body[BASKET_MAX * 320];
    struct json_object *data;
    size_t len = 0;
    int rc;

    memset(out, 0, sizeof *out);
    if (n < 1 || n > BASKET_MAX)
        return hh_diag_set(d, HH_EINVAL, "basket: %zu legs, 1..%d allowed", n, BASKET_MAX);
    body[len++] = '[';
    for (size_t i = 0; i < n; i++)
        if (!leg_json(k, &legs[i], i ? "," : "", body, sizeof body - 1, &len))
            return hh_diag_set(d, HH_EINVAL, "basket: leg %zu cannot be sent", i + 1);
    body[len++] = ']';
    body[len] = '\0';
    rc = hh_kite__call(k, &k->core_http, HH_KITE__QUERY, "POST",
                       "/margins/basket?consider_positions=true", body, "application/json",
                       &data, NULL, d);
    if (rc)
        return rc;
    if (margin_parse(data, out))
        rc = hh_diag_set(d, HH_EUNAVAIL, "basket: no initial/final totals in the answer");
    json_object_put(data);
    return rc;
}
