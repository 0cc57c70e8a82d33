/*
 * test_kite_proto.c — the pure protocol pieces of the Kite adapter: the
 * status table, error and transport mapping, form encoding, tag rules and
 * slice tags, exchanges, URLs (loopback rule), exec ids, and JSON answers
 * into fixed-point (numbers never through double).
 */
#include "testutil.h"

#include "broker/kite_int.h"

#include <json-c/json.h>

#define PX(r, p) ((hh_price_t)(r) * HH_RUPEE + (hh_price_t)(p) * HH_PAISA)

static void test_status_table(void **state)
{
    static const struct {
        const char *status;
        hh_qty_t filled;
        enum hh_ord_state want;
    } cases[] = {
        { "PUT ORDER REQ RECEIVED", 0, HH_OS_SENT },
        { "VALIDATION PENDING", 0, HH_OS_SENT },
        { "OPEN PENDING", 0, HH_OS_SENT },
        { "AMO REQ RECEIVED", 0, HH_OS_SENT },
        { "OPEN", 0, HH_OS_OPEN },
        { "OPEN", 25, HH_OS_PARTIAL },            /* a partial fill */
        { "OPEN", 100, HH_OS_PARTIAL },           /* COMPLETE on its way */
        { "TRIGGER PENDING", 0, HH_OS_OPEN },
        { "MODIFY VALIDATION PENDING", 0, HH_OS_OPEN },
        { "MODIFY PENDING", 40, HH_OS_PARTIAL },
        { "MODIFIED", 0, HH_OS_OPEN },
        { "UPDATE", 10, HH_OS_PARTIAL },
        { "CANCEL PENDING", 0, HH_OS_CANCEL_PENDING },
        { "CANCEL PENDING", 30, HH_OS_CANCEL_PENDING },
        { "COMPLETE", 100, HH_OS_FILLED },
        { "CANCELLED", 30, HH_OS_CANCELLED },
        { "REJECTED", 0, HH_OS_REJECTED },
    };
    bool known;

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum hh_ord_state s = hh_kite__state(cases[i].status, 100, cases[i].filled, &known);

        if (s != cases[i].want || !known)
            fail_msg("%s filled %lld: %s (known %d), want %s", cases[i].status,
                     (long long)cases[i].filled, hh_ord_state_name(s), known,
                     hh_ord_state_name(cases[i].want));
    }
    /* unknown statuses read as working, never as an end */
    assert_int_equal(hh_kite__state("LAPSED", 100, 0, &known), HH_OS_OPEN);
    assert_false(known);
    assert_int_equal(hh_kite__state("complete", 100, 100, &known), HH_OS_PARTIAL);
    assert_false(known);
}

static void test_error_mapping(void **state)
{
    static const char *const refusals[] = { "InputException", "OrderException",
                                             "MarginException", "UserException",
                                             "PermissionException" };
    static const char *const unknown[] = { "NetworkException", "DataException",
                                           "GeneralException", "SomethingNew", NULL };
    enum hh_kite__call calls[] = { HH_KITE__QUERY, HH_KITE__PLACE, HH_KITE__MODIFY,
                                   HH_KITE__CANCEL };

    (void)state;
    for (int c = 0; c < 4; c++) {
        bool order = c != 0;

        assert_int_equal(hh_kite__map_error(403, "TokenException", calls[c]), HH_EAUTH);
        assert_int_equal(hh_kite__map_error(403, NULL, calls[c]), HH_EAUTH);
        for (int i = 0; i < 5; i++)
            assert_int_equal(hh_kite__map_error(400, refusals[i], calls[c]), HH_EBROKER);
        for (int i = 0; i < 5; i++)
            assert_int_equal(hh_kite__map_error(i == 4 ? 503 : 500, unknown[i], calls[c]),
                             order ? HH_ETIMEOUT : HH_EUNAVAIL);
        assert_int_equal(hh_kite__map_error(502, NULL, calls[c]),
                         order ? HH_ETIMEOUT : HH_EUNAVAIL);
        assert_int_equal(hh_kite__map_error(404, NULL, calls[c]), HH_EBROKER);
        /* transport: nothing sent = not processed; else unknown */
        assert_int_equal(hh_kite__map_transport(false, false, calls[c]), HH_EUNAVAIL);
        assert_int_equal(hh_kite__map_transport(true, false, calls[c]), HH_EUNAVAIL);
        assert_int_equal(hh_kite__map_transport(true, true, calls[c]), HH_ETIMEOUT);
        assert_int_equal(hh_kite__map_transport(false, true, calls[c]),
                         order ? HH_ETIMEOUT : HH_EUNAVAIL);
    }
}

static void test_forms(void **state)
{
    struct hh_kite__form f;
    char buf[32];

    (void)state;
    hh_kite__form_init(&f);
    hh_kite__form_add(&f, "tradingsymbol", "M&M");
    hh_kite__form_add(&f, "order_type", "SL-M");
    hh_kite__form_int(&f, "quantity", 75);
    hh_kite__form_int(&f, "market_protection", -1);
    hh_kite__form_price(&f, "price", PX(101, 25));
    hh_kite__form_price(&f, "trigger_price", PX(7, 0));
    hh_kite__form_add(&f, "x y", "a b/c=d%é");
    assert_false(f.overflow);
    assert_string_equal(f.buf, "tradingsymbol=M%26M&order_type=SL-M&quantity=75&"
                               "market_protection=-1&price=101.25&trigger_price=7&"
                               "x+y=a+b%2Fc%3Dd%25%C3%A9");
    hh_kite__price_text(832525, buf, sizeof buf);
    assert_string_equal(buf, "83.2525");
    hh_kite__price_text(PX(0, 5), buf, sizeof buf);
    assert_string_equal(buf, "0.05");
    hh_kite__price_text(0, buf, sizeof buf);
    assert_string_equal(buf, "0");
    hh_kite__price_text(PX(1000, 0), buf, sizeof buf);
    assert_string_equal(buf, "1000");
    /* overflow is remembered, never a torn body */
    hh_kite__form_init(&f);
    for (int i = 0; i < 200; i++)
        hh_kite__form_add(&f, "key", "value");
    assert_true(f.overflow);
    assert_true(f.n < sizeof f.buf);
}

static void test_tags(void **state)
{
    char tag[HH_CLIENT_ID_MAX], cid[HH_CLIENT_ID_MAX];
    int k;

    (void)state;
    assert_true(hh_kite__cid_valid("h12e3"));
    assert_true(hh_kite__cid_valid("a"));
    assert_true(hh_kite__cid_valid("abcdefghij0123456789"));      /* 20 */
    assert_false(hh_kite__cid_valid(""));
    assert_false(hh_kite__cid_valid("abcdefghij01234567890"));    /* 21 */
    assert_false(hh_kite__cid_valid("g1e0.3"));                    /* not alphanumeric */
    assert_false(hh_kite__cid_valid("H12e3"));                     /* upper: slices' */
    assert_false(hh_kite__cid_valid("h1 2"));

    assert_int_equal(hh_kite__slice_tag("h12e3", 1, tag), HH_OK);
    assert_string_equal(tag, "h12e3");
    assert_int_equal(hh_kite__slice_tag("h12e3", 2, tag), HH_OK);
    assert_string_equal(tag, "h12e3S2");
    assert_int_equal(hh_kite__slice_tag("h12e3", 99, tag), HH_OK);
    assert_string_equal(tag, "h12e3S99");
    assert_int_equal(hh_kite__slice_tag("h12e3", 100, tag), HH_ERANGE);
    assert_int_equal(hh_kite__slice_tag("abcdefghij0123456", 2, tag), HH_OK);   /* 19 */
    assert_int_equal(hh_kite__slice_tag("abcdefghij01234567", 10, tag), HH_ERANGE);

    assert_true(hh_kite__tag_split("h12e3", cid, &k));
    assert_string_equal(cid, "h12e3");
    assert_int_equal(k, 1);
    assert_true(hh_kite__tag_split("h12e3S17", cid, &k));
    assert_string_equal(cid, "h12e3");
    assert_int_equal(k, 17);
    assert_false(hh_kite__tag_split("", cid, &k));
    assert_false(hh_kite__tag_split("h12e3S1", cid, &k));     /* slice 1 has no suffix */
    assert_false(hh_kite__tag_split("h12e3S07", cid, &k));
    assert_false(hh_kite__tag_split("h12e3S100", cid, &k));
    assert_false(hh_kite__tag_split("h12e3S", cid, &k));
    assert_false(hh_kite__tag_split("MANUAL", cid, &k));      /* foreign */
    assert_false(hh_kite__tag_split("g1e0.3", cid, &k));
    assert_false(hh_kite__tag_split("S2", cid, &k));
}

static void test_exchanges(void **state)
{
    struct hh_instrument in;

    (void)state;
    memset(&in, 0, sizeof in);
    in.exch = HH_EXCH_NSE;
    in.seg = HH_SEG_CASH;
    assert_string_equal(hh_kite__exchange(&in), "NSE");
    in.seg = HH_SEG_OPT;
    assert_string_equal(hh_kite__exchange(&in), "NFO");
    in.seg = HH_SEG_FUT;
    assert_string_equal(hh_kite__exchange(&in), "NFO");
    in.seg = HH_SEG_CURRENCY;
    assert_string_equal(hh_kite__exchange(&in), "CDS");
    in.seg = HH_SEG_COMMODITY;
    assert_string_equal(hh_kite__exchange(&in), "NCO");
    in.exch = HH_EXCH_BSE;
    in.seg = HH_SEG_OPT;
    assert_string_equal(hh_kite__exchange(&in), "BFO");
    in.seg = HH_SEG_CASH;
    assert_string_equal(hh_kite__exchange(&in), "BSE");
    in.seg = HH_SEG_CURRENCY;
    assert_string_equal(hh_kite__exchange(&in), "BCD");
    in.exch = HH_EXCH_MCX;
    in.seg = HH_SEG_COMMODITY;
    assert_string_equal(hh_kite__exchange(&in), "MCX");
    in.exch = HH_EXCH_NSE;
    in.type = HH_INST_INDEX;
    assert_null(hh_kite__exchange(&in));
}

static void test_urls(void **state)
{
    struct hh_kite__url u;
    struct hh_diag d;

    (void)state;
    assert_int_equal(hh_kite__url_parse("https://api.kite.trade", false, &u, &d), HH_OK);
    assert_true(u.tls);
    assert_string_equal(u.host, "api.kite.trade");
    assert_int_equal(u.port, 443);
    assert_int_equal(hh_kite__url_parse("wss://ws.kite.trade", true, &u, &d), HH_OK);
    assert_string_equal(u.path, "/");
    assert_int_equal(hh_kite__url_parse("ws://127.0.0.1:8765/feed", true, &u, &d), HH_OK);
    assert_false(u.tls);
    assert_int_equal(u.port, 8765);
    assert_string_equal(u.path, "/feed");
    assert_int_equal(hh_kite__url_parse("http://[::1]:9000", false, &u, &d), HH_OK);
    assert_string_equal(u.host, "::1");
    assert_int_equal(hh_kite__url_parse("http://localhost:9000", false, &u, &d), HH_OK);
    assert_int_equal(hh_kite__url_parse("http://127.9.8.7", false, &u, &d), HH_OK);
    /* plain text anywhere else is refused */
    assert_int_equal(hh_kite__url_parse("http://api.kite.trade", false, &u, &d), HH_ECONFIG);
    assert_non_null(strstr(d.msg, "loopback"));
    assert_int_equal(hh_kite__url_parse("ws://10.0.0.1:80", true, &u, &d), HH_ECONFIG);
    assert_int_equal(hh_kite__url_parse("http://127.0.0.1.evil.com", false, &u, &d),
                     HH_ECONFIG);
    assert_int_equal(hh_kite__url_parse("http://128.0.0.1", false, &u, &d), HH_ECONFIG);
    assert_int_equal(hh_kite__url_parse("ftp://x", false, &u, &d), HH_ECONFIG);
    assert_int_equal(hh_kite__url_parse("wss://ws.kite.trade", false, &u, &d), HH_ECONFIG);
    assert_int_equal(hh_kite__url_parse("https://u@api.kite.trade", false, &u, &d), HH_ECONFIG);
    assert_int_equal(hh_kite__url_parse("https://h:0", false, &u, &d), HH_ECONFIG);
    assert_int_equal(hh_kite__url_parse("https://h:99999", false, &u, &d), HH_ECONFIG);
    assert_int_equal(hh_kite__url_parse("", false, &u, &d), HH_ECONFIG);
}

static void test_exec_ids(void **state)
{
    uint64_t a = hh_kite__exec_id(220303000123456ull, 25);

    (void)state;
    assert_true(a >> 63);
    assert_int_equal(a, hh_kite__exec_id(220303000123456ull, 25));
    assert_true(a != hh_kite__exec_id(220303000123456ull, 50));
    assert_true(a != hh_kite__exec_id(220303000123457ull, 25));
}

static struct json_object *J(const char *text)
{
    struct json_object *o = json_tokener_parse(text);

    if (!o)
        fail_msg("bad test JSON %s", text);
    return o;
}

static void test_json_numbers(void **state)
{
    struct json_object *o = J("{\"a\":101.25,\"b\":7,\"c\":\"13.5\",\"d\":null,"
                              "\"e\":1234.56789,\"f\":1234.56784,\"g\":\"\",\"h\":[1],"
                              "\"i\":\"220303000123456\",\"j\":12.3e1,\"k\":0.1,"
                              "\"l\":-2.00005,\"m\":1e-7}");
    hh_price_t p;
    hh_qty_t q;
    uint64_t id;

    (void)state;
    assert_int_equal(hh_kite__j_price(o, "a", &p), HH_OK);
    assert_int_equal(p, PX(101, 25));
    assert_int_equal(hh_kite__j_price(o, "b", &p), HH_OK);
    assert_int_equal(p, PX(7, 0));
    assert_int_equal(hh_kite__j_price(o, "c", &p), HH_OK);
    assert_int_equal(p, PX(13, 50));
    assert_int_equal(hh_kite__j_price(o, "d", &p), HH_OK);
    assert_int_equal(p, 0);
    assert_int_equal(hh_kite__j_price(o, "absent", &p), HH_OK);
    assert_int_equal(p, 0);
    /* averages beyond four places: half-up at the fourth */
    assert_int_equal(hh_kite__j_price(o, "e", &p), HH_OK);
    assert_int_equal(p, 12345679);
    assert_int_equal(hh_kite__j_price(o, "f", &p), HH_OK);
    assert_int_equal(p, 12345678);
    assert_int_equal(hh_kite__j_price(o, "l", &p), HH_OK);
    assert_int_equal(p, -20001);
    assert_int_equal(hh_kite__j_price(o, "g", &p), HH_OK);
    assert_int_equal(hh_kite__j_price(o, "h", &p), HH_ESYNTAX);
    assert_int_equal(hh_kite__j_price(o, "j", &p), HH_OK);
    assert_int_equal(p, PX(123, 0));
    /* 0.1 is exact here: it never was a double */
    assert_int_equal(hh_kite__j_price(o, "k", &p), HH_OK);
    assert_int_equal(p, 1000);
    assert_int_equal(hh_kite__j_price(o, "m", &p), HH_EPREC);
    assert_int_equal(hh_kite__j_qty(o, "b", &q), HH_OK);
    assert_int_equal(q, 7);
    assert_int_not_equal(hh_kite__j_qty(o, "a", &q), HH_OK);
    assert_int_equal(hh_kite__j_id(o, "i", &id), HH_OK);
    assert_int_equal(id, 220303000123456ull);
    assert_int_equal(hh_kite__j_id(o, "b", &id), HH_OK);
    assert_int_equal(id, 7);
    assert_int_equal(hh_kite__j_id(o, "a", &id), HH_ESYNTAX);
    json_object_put(o);
}

static struct hh_instruments *instruments(void)
{
    struct hh_instruments *t = hh_inst_new();
    const char *p = tu_write_file(0, "kite_inst.csv",
        "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,"
        "tick_size,lot_size,instrument_type,segment,exchange\n"
        "13369090,52223,NIFTY24APRFUT,NIFTY,0,2024-04-25,0,0.05,50,FUT,NFO-FUT,NFO\n"
        "738561,2885,RELIANCE,RELIANCE,0,,0,0.05,1,EQ,NSE,NSE\n");

    assert_int_equal(hh_inst_load(t, p, NULL, NULL), HH_OK);
    return t;
}

static void test_row_parse(void **state)
{
    struct hh_instruments *inst = instruments();
    struct json_object *o = J(
        "{\"order_id\":\"151220000000000\",\"status\":\"OPEN\",\"tag\":\"h12e3\","
        "\"exchange\":\"NFO\",\"tradingsymbol\":\"NIFTY24APRFUT\",\"transaction_type\":"
        "\"SELL\",\"order_type\":\"SL\",\"quantity\":100,\"filled_quantity\":25,"
        "\"price\":22100.5,\"trigger_price\":22105,\"average_price\":22101.35,"
        "\"status_message\":null,\"market_protection\":0}");
    struct hh_kite__row r;
    struct hh_diag d;

    (void)state;
    assert_int_equal(hh_kite__row_parse(o, inst, &r, &d), HH_OK);
    assert_int_equal(r.order_id, 151220000000000ull);
    assert_string_equal(r.tag, "h12e3");
    assert_int_equal(r.iid, hh_inst_find(inst, "NIFTY24APRFUT", 13));
    assert_int_equal(r.side, HH_SELL);
    assert_int_equal(r.type, HH_ORD_STOP_LIMIT);
    assert_int_equal(r.state, HH_OS_PARTIAL);
    assert_int_equal(r.qty, 100);
    assert_int_equal(r.filled, 25);
    assert_int_equal(r.price, PX(22100, 50));
    assert_int_equal(r.trigger, PX(22105, 0));
    assert_int_equal(r.avg, PX(22101, 35));
    json_object_put(o);

    /* unknown instrument: kept with HH_IID_NONE; no tag: "" */
    o = J("{\"order_id\":\"1\",\"status\":\"COMPLETE\",\"exchange\":\"NSE\","
          "\"tradingsymbol\":\"INFY\",\"transaction_type\":\"BUY\",\"order_type\":\"MARKET\","
          "\"quantity\":1,\"filled_quantity\":1,\"average_price\":1500}");
    assert_int_equal(hh_kite__row_parse(o, inst, &r, &d), HH_OK);
    assert_int_equal(r.iid, HH_IID_NONE);
    assert_string_equal(r.tag, "");
    assert_int_equal(r.state, HH_OS_FILLED);
    json_object_put(o);

    /* filled above quantity, bad side: refused naming the field */
    o = J("{\"order_id\":\"1\",\"status\":\"OPEN\",\"exchange\":\"NSE\","
          "\"tradingsymbol\":\"INFY\",\"transaction_type\":\"BUY\",\"order_type\":\"LIMIT\","
          "\"quantity\":1,\"filled_quantity\":2}");
    assert_int_equal(hh_kite__row_parse(o, inst, &r, &d), HH_ESYNTAX);
    assert_non_null(strstr(d.msg, "filled_quantity"));
    json_object_put(o);
    o = J("{\"order_id\":\"1\",\"status\":\"OPEN\",\"exchange\":\"NSE\","
          "\"tradingsymbol\":\"INFY\",\"transaction_type\":\"HOLD\",\"order_type\":\"LIMIT\","
          "\"quantity\":1,\"filled_quantity\":0}");
    assert_int_equal(hh_kite__row_parse(o, inst, &r, &d), HH_ESYNTAX);
    assert_non_null(strstr(d.msg, "transaction_type"));
    json_object_put(o);
    hh_inst_free(inst);
}

/* The book as an array: another's row that cannot be read (an order type
 * we do not know, by hand or another app) is skipped and counted, the rest
 * kept; one of ours that cannot be read refuses the whole book. */
static void test_rows_parse(void **state)
{
    struct hh_instruments *inst = instruments();
    struct json_object *o = J(
        "[{\"order_id\":\"7\",\"status\":\"OPEN\",\"tag\":\"h1e1\",\"exchange\":\"NSE\","
        "\"tradingsymbol\":\"RELIANCE\",\"transaction_type\":\"BUY\",\"order_type\":"
        "\"LIMIT\",\"quantity\":5,\"filled_quantity\":0,\"price\":2950},"
        "{\"order_id\":\"8\",\"status\":\"OPEN\",\"tag\":null,\"exchange\":\"NSE\","
        "\"tradingsymbol\":\"RELIANCE\",\"transaction_type\":\"SELL\",\"order_type\":"
        "\"SL-L\",\"quantity\":5,\"filled_quantity\":0},"
        "{\"order_id\":\"9\",\"status\":\"COMPLETE\",\"tag\":\"Manual Trade\",\"exchange\":"
        "\"NSE\",\"tradingsymbol\":\"INFY\",\"transaction_type\":\"BUY\",\"order_type\":"
        "\"MARKET\",\"quantity\":1,\"filled_quantity\":1}]");
    struct hh_kite__row *rows;
    uint64_t unknown = 0, skipped = 0;
    struct hh_diag d;
    size_t n;

    (void)state;
    assert_int_equal(hh_kite__rows_parse(o, inst, &rows, &n, &unknown, &skipped, &d), HH_OK);
    assert_int_equal(n, 2);
    assert_int_equal(rows[0].order_id, 7);
    assert_int_equal(rows[1].order_id, 9);
    assert_int_equal(unknown, 1);       /* INFY: not loaded, kept */
    assert_int_equal(skipped, 1);       /* SL-L: not read, skipped */
    free(rows);
    json_object_put(o);

    o = J("[{\"order_id\":\"7\",\"status\":\"OPEN\",\"tag\":\"h1e1S2\",\"exchange\":\"NSE\","
          "\"tradingsymbol\":\"RELIANCE\",\"transaction_type\":\"BUY\",\"order_type\":"
          "\"SL-L\",\"quantity\":5,\"filled_quantity\":0}]");
    assert_int_equal(hh_kite__rows_parse(o, inst, &rows, &n, &unknown, &skipped, &d),
                     HH_EUNAVAIL);
    assert_null(rows);
    assert_int_equal(n, 0);
    assert_int_equal(skipped, 1);
    assert_non_null(strstr(d.msg, "order_type"));
    json_object_put(o);
    hh_inst_free(inst);
}

static int answer(const char *body, long http, enum hh_kite__call call, struct hh_diag *d)
{
    struct json_object *data = NULL;
    int rc = hh_kite__parse_answer(body, strlen(body), http, call, &data, d);

    json_object_put(data);
    return rc;
}

static void test_answers(void **state)
{
    struct json_object *data;
    struct hh_diag d;
    const char *ok = "{\"status\":\"success\",\"data\":{\"order_id\":\"42\"}}\n";

    (void)state;
    assert_int_equal(hh_kite__parse_answer(ok, strlen(ok), 200, HH_KITE__PLACE, &data, &d),
                     HH_OK);
    assert_string_equal(hh_kite__j_str(data, "order_id"), "42");
    json_object_put(data);
    assert_int_equal(answer("{\"status\":\"error\",\"message\":\"Insufficient funds\","
                            "\"error_type\":\"MarginException\"}", 400, HH_KITE__PLACE, &d),
                     HH_EBROKER);
    assert_non_null(strstr(d.msg, "Insufficient funds"));
    assert_int_equal(answer("{\"status\":\"error\",\"message\":\"Incorrect `api_key` or "
                            "`access_token`.\",\"error_type\":\"TokenException\"}", 403,
                            HH_KITE__QUERY, &d),
                     HH_EAUTH);
    assert_int_equal(answer("{\"status\":\"error\",\"message\":\"x\",\"error_type\":"
                            "\"NetworkException\"}", 503, HH_KITE__PLACE, &d),
                     HH_ETIMEOUT);
    assert_int_equal(answer("<html>Bad Gateway</html>", 502, HH_KITE__PLACE, &d), HH_ETIMEOUT);
    assert_int_equal(answer("<html>Bad Gateway</html>", 502, HH_KITE__QUERY, &d), HH_EUNAVAIL);
    /* 200 without success data: not a success */
    assert_int_equal(answer("{\"status\":\"success\"}", 200, HH_KITE__CANCEL, &d), HH_ETIMEOUT);
    assert_int_equal(answer("{\"status\":\"success\",\"data\":{}} x", 200, HH_KITE__QUERY, &d),
                     HH_EUNAVAIL);
    assert_int_equal(answer("", 200, HH_KITE__QUERY, &d), HH_EUNAVAIL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_table),
        cmocka_unit_test(test_error_mapping),
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_exchanges),
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_exec_ids),
        cmocka_unit_test(test_json_numbers),
        cmocka_unit_test(test_row_parse),
        cmocka_unit_test(test_rows_parse),
        cmocka_unit_test(test_answers),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);

    tu_cleanup();
    return rc;
}
