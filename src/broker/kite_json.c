/*
 * kite_json.c — Kite's JSON answers into the engine's numbers.
 *
 * json-c keeps the text of every real-number token (the tokenizer stores it
 * with the value and prints it back verbatim), so a price goes from that
 * text into fixed-point digit by digit and never through double.  Kite
 * sends order ids as strings of digits and quantities as integers; both are
 * also accepted in the other form, since only the value matters.
 */
#include "broker/kite_int.h"
#include "core/grow.h"

#include <stdio.h>
#include <json-c/json.h>
#include <string.h>

/* The text of a number or string member; NULL for other types. */
static const char *num_text(struct json_object *v, size_t *n)
{
    const char *t;

    switch (json_object_get_type(v)) {
    case json_type_double:
    case json_type_int:
        t = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
        *n = strlen(t);
        return t;
    case json_type_string:
        *n = (size_t)json_object_get_string_len(v);
        return json_object_get_string(v);
    default:
        return NULL;
    }
}

/* Half-up at the fourth place when the text has more (averages): the digit
 * after the fourth decides; an exponent form with more places is refused. */
static int price_round(const char *t, size_t n, hh_price_t *out)
{
    const char *dot = memchr(t, '.', n);
    int rc = hh_price_parse(t, n, HH_DEC_EXP | HH_DEC_PLUS, out);

    if (rc != HH_EPREC)
        return rc;
    if (!dot || memchr(t, 'e', n) || memchr(t, 'E', n) || (size_t)(dot - t) + 5 >= n)
        return HH_EPREC;
    if (dot[5] >= '5')
        *out += t[0] == '-' ? -1 : 1;
    return HH_OK;
}

int hh_kite__j_price(struct json_object *o, const char *key, hh_price_t *out)
{
    struct json_object *v;
    const char *t;
    size_t n;

    *out = 0;
    if (!json_object_object_get_ex(o, key, &v) || !v)
        return HH_OK;
    if (!(t = num_text(v, &n)))
        return HH_ESYNTAX;
    if (n == 0)
        return HH_OK;                   /* "" for an absent price */
    return price_round(t, n, out);
}

int hh_kite__j_qty(struct json_object *o, const char *key, hh_qty_t *out)
{
    struct json_object *v;
    const char *t;
    size_t n;

    *out = 0;
    if (!json_object_object_get_ex(o, key, &v) || !v)
        return HH_OK;
    if (!(t = num_text(v, &n)))
        return HH_ESYNTAX;
    return n ? hh_qty_parse(t, n, out) : HH_OK;
}

int hh_kite__j_id(struct json_object *o, const char *key, uint64_t *out)
{
    struct json_object *v;
    const char *t;
    size_t n;
    uint64_t x = 0;

    *out = 0;
    if (!json_object_object_get_ex(o, key, &v) || !v)
        return HH_OK;
    if (!(t = num_text(v, &n)) || n == 0 || n > 19)
        return HH_ESYNTAX;
    for (size_t i = 0; i < n; i++) {
        if (t[i] < '0' || t[i] > '9')
            return HH_ESYNTAX;
        x = x * 10 + (uint64_t)(t[i] - '0');
    }
    *out = x;
    return HH_OK;
}

const char *hh_kite__j_str(struct json_object *o, const char *key)
{
    struct json_object *v;

    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return "";
    return json_object_get_string(v);
}

static bool copy_str(char *dst, size_t cap, const char *s)
{
    size_t n = strlen(s);

    if (n >= cap)
        n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return strlen(s) < cap;
}

static int row_type(const char *t, enum hh_ord_type *out)
{
    if (strcmp(t, "MARKET") == 0)
        *out = HH_ORD_MARKET;
    else if (strcmp(t, "LIMIT") == 0)
        *out = HH_ORD_LIMIT;
    else if (strcmp(t, "SL") == 0)
        *out = HH_ORD_STOP_LIMIT;
    else if (strcmp(t, "SL-M") == 0)
        *out = HH_ORD_STOP;
    else
        return HH_ESYNTAX;
    return HH_OK;
}

/* The instrument of a row: exchange and symbol (NFO:X finds NSE's X). */
static hh_iid_t row_iid(const struct hh_instruments *inst, const struct hh_kite__row *r)
{
    char key[8 + HH_SYMBOL_MAX];
    int n = snprintf(key, sizeof key, "%s:%s", r->exchange, r->symbol);

    if (n <= 0 || (size_t)n >= sizeof key)
        return HH_IID_NONE;
    return hh_inst_find(inst, key, (size_t)n);
}

static int bad_field(struct hh_diag *d, const char *field)
{
    return hh_diag_set(d, HH_ESYNTAX, "order row: field '%s' missing or malformed", field);
}

/* The numbers of a row. */
static int row_numbers(struct json_object *o, struct hh_kite__row *r, struct hh_diag *d)
{
    static const char *const names[] = { "price", "trigger_price", "average_price" };
    hh_price_t *dst[] = { &r->price, &r->trigger, &r->avg };

    if (hh_kite__j_id(o, "order_id", &r->order_id) || r->order_id == 0)
        return bad_field(d, "order_id");
    if (hh_kite__j_qty(o, "quantity", &r->qty) || r->qty < 0)
        return bad_field(d, "quantity");
    if (hh_kite__j_qty(o, "filled_quantity", &r->filled) || r->filled < 0 ||
        r->filled > r->qty)
        return bad_field(d, "filled_quantity");
    for (int i = 0; i < 3; i++)
        if (hh_kite__j_price(o, names[i], dst[i]) || *dst[i] < 0)
            return bad_field(d, names[i]);
    return HH_OK;
}

int hh_kite__row_parse(struct json_object *o, const struct hh_instruments *inst,
                       struct hh_kite__row *r, struct hh_diag *d)
{
    const char *side, *status;
    int rc;

    memset(r, 0, sizeof *r);
    if (!json_object_is_type(o, json_type_object))
        return hh_diag_set(d, HH_ESYNTAX, "order row: not an object");
    if ((rc = row_numbers(o, r, d)))
        return rc;
    if (!copy_str(r->tag, sizeof r->tag, hh_kite__j_str(o, "tag")))
        r->tag[0] = '\0';               /* too long: not one of ours */
    if (!copy_str(r->exchange, sizeof r->exchange, hh_kite__j_str(o, "exchange")) ||
        !copy_str(r->symbol, sizeof r->symbol, hh_kite__j_str(o, "tradingsymbol")))
        return bad_field(d, "tradingsymbol");
    r->iid = row_iid(inst, r);
    side = hh_kite__j_str(o, "transaction_type");
    if (strcmp(side, "BUY") && strcmp(side, "SELL"))
        return bad_field(d, "transaction_type");
    r->side = side[0] == 'B' ? HH_BUY : HH_SELL;
    if (row_type(hh_kite__j_str(o, "order_type"), &r->type))
        return bad_field(d, "order_type");
    status = hh_kite__j_str(o, "status");
    if (!*status)
        return bad_field(d, "status");
    r->state = hh_kite__state(status, r->qty, r->filled, &r->status_known);
    copy_str(r->msg, sizeof r->msg, hh_kite__j_str(o, "status_message"));
    return HH_OK;
}

/* A row is another's (another app, or by hand) when its tag is not one of
 * ours; such a row we cannot read is skipped, not the whole book lost. */
static bool foreign(struct json_object *o)
{
    char cid[HH_CLIENT_ID_MAX];
    int k;

    return !hh_kite__tag_split(hh_kite__j_str(o, "tag"), cid, &k);
}

int hh_kite__rows_parse(struct json_object *arr, const struct hh_instruments *inst,
                        struct hh_kite__row **rows, size_t *n, uint64_t *unknown,
                        uint64_t *skipped, struct hh_diag *d)
{
    size_t len, cap = 0;

    *rows = NULL;
    *n = 0;
    if (!json_object_is_type(arr, json_type_array))
        return hh_diag_set(d, HH_EUNAVAIL, "order book: not an array");
    len = json_object_array_length(arr);
    if (len && hh_grow(rows, &cap, len, sizeof **rows))
        return hh_diag_set(d, HH_ENOMEM, "out of memory");
    for (size_t i = 0; i < len; i++) {
        struct json_object *o = json_object_array_get_idx(arr, i);

        if (hh_kite__row_parse(o, inst, &(*rows)[*n], d)) {
            if (foreign(o)) {
                (*skipped)++;
                continue;
            }
            free(*rows);
            *rows = NULL;
            *n = 0;
            return hh_diag_prefix(d, HH_EUNAVAIL, "order book");
        }
        *unknown += (*rows)[*n].iid == HH_IID_NONE;
        (*n)++;
    }
    return HH_OK;
}

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\n' && s[i] != '\r' && s[i] != '\t')
            return false;
    return true;
}

int hh_kite__parse_answer(const char *body, size_t len, long http, enum hh_kite__call call,
                          struct json_object **data, struct hh_diag *d)
{
    struct json_tokener *tok = json_tokener_new();
    struct json_object *root = NULL, *v;
    const char *status;
    size_t end;
    int rc;

    *data = NULL;
    if (!tok)
        return hh_diag_set(d, HH_ENOMEM, "out of memory");
    if (len <= INT32_MAX)
        root = json_tokener_parse_ex(tok, body, (int)len);
    end = root ? json_tokener_get_parse_end(tok) : 0;
    json_tokener_free(tok);
    if (root && !blank(body + end, len - end)) {
        json_object_put(root);   /* something after the answer */
        root = NULL;
    }
    if (!json_object_is_type(root, json_type_object)) {
        json_object_put(root);
        rc = hh_kite__map_error(http, NULL, call);
        return hh_diag_set(d, rc, "HTTP %ld without a Kite answer", http);
    }
    status = hh_kite__j_str(root, "status");
    if (http == 200 && strcmp(status, "success") == 0 &&
        json_object_object_get_ex(root, "data", &v)) {
        *data = json_object_get(v);
        json_object_put(root);
        return HH_OK;
    }
    rc = hh_kite__map_error(http == 200 ? 500 : http, hh_kite__j_str(root, "error_type"), call);
    hh_diag_set(d, rc, "HTTP %ld %s: %.200s", http, hh_kite__j_str(root, "error_type"),
                hh_kite__j_str(root, "message"));
    json_object_put(root);
    return rc;
}
