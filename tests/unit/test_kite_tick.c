/*
 * test_kite_tick.c — Kite's binary tick frames on hand-built packets: ltp,
 * quote, full (with depth), index quote and full, heartbeats, currency
 * divisors, and malformed frames (truncated, trailing bytes, unknown
 * lengths, negative prices) rejected with a reason, never a crash.
 */
#include "testutil.h"

#include "broker/kite_int.h"

#define PX(r, p) ((hh_price_t)(r) * HH_RUPEE + (hh_price_t)(p) * HH_PAISA)

/* A frame under construction. */
struct frame {
    uint8_t b[4096];
    size_t n;
    size_t count_at;
    int count;
};

static void put16(struct frame *f, unsigned v)
{
    f->b[f->n++] = (uint8_t)(v >> 8);
    f->b[f->n++] = (uint8_t)v;
}

static void put32(struct frame *f, int64_t v)
{
    uint32_t u = (uint32_t)v;

    f->b[f->n++] = (uint8_t)(u >> 24);
    f->b[f->n++] = (uint8_t)(u >> 16);
    f->b[f->n++] = (uint8_t)(u >> 8);
    f->b[f->n++] = (uint8_t)u;
}

static void begin(struct frame *f)
{
    memset(f, 0, sizeof *f);
    f->n = 2;
}

/* Start a packet of `len` bytes; the caller writes exactly len bytes. */
static void packet(struct frame *f, unsigned len)
{
    put16(f, len);
    f->count++;
    f->b[0] = (uint8_t)(f->count >> 8);
    f->b[1] = (uint8_t)f->count;
}

static void ltp(struct frame *f, uint32_t token, int64_t paise)
{
    packet(f, 8);
    put32(f, token);
    put32(f, paise);
}

/* quote: last 250.50, qty 75, avg 249.95, volume 12345, buy 500, sell 600,
 * ohlc 248, 251, 247.5, 246 */
static void quote(struct frame *f, uint32_t token, bool full)
{
    packet(f, full ? 184 : 44);
    put32(f, token);
    put32(f, 25050);
    put32(f, 75);
    put32(f, 24995);
    put32(f, 12345);
    put32(f, 500);
    put32(f, 600);
    put32(f, 24800);
    put32(f, 25100);
    put32(f, 24750);
    put32(f, 24600);
    if (!full)
        return;
    put32(f, 1717390800);      /* last trade time */
    put32(f, 1000);            /* oi */
    put32(f, 1200);
    put32(f, 900);
    put32(f, 1717390801);      /* exchange time */
    for (int i = 0; i < 10; i++) {
        put32(f, 10 + i);                          /* qty */
        put32(f, i < 5 ? 25045 - 5 * i : 25055 + 5 * (i - 5));
        put16(f, 3);                               /* orders */
        put16(f, 0);
    }
}

static void index_pkt(struct frame *f, uint32_t token, bool full)
{
    packet(f, full ? 32 : 28);
    put32(f, token);
    put32(f, 2250035);         /* 22500.35 */
    put32(f, 2260000);
    put32(f, 2240010);
    put32(f, 2245000);
    put32(f, 2250071);
    put32(f, -36);             /* net change may be negative */
    if (full)
        put32(f, 1717390802);
}

static int parse(const struct frame *f, struct hh_kite_packet *out, size_t cap, size_t *n,
                 size_t *skipped, const char **why)
{
    bool hb;

    *why = NULL;
    return hh_kite_parse_ticks(f->b, f->n, out, cap, n, skipped, &hb, why);
}

static void test_ltp_quote_full(void **state)
{
    struct hh_kite_packet p[8];
    struct frame f;
    size_t n, sk;
    const char *why;

    (void)state;
    begin(&f);
    ltp(&f, 408065, 150025);
    quote(&f, 884737, false);
    quote(&f, 53490439, true);
    assert_int_equal(parse(&f, p, 8, &n, &sk, &why), HH_OK);
    assert_int_equal(n, 3);
    assert_int_equal(sk, 0);

    assert_int_equal(p[0].token, 408065);
    assert_int_equal(p[0].mode, HH_KITE_LTP);
    assert_int_equal(p[0].last, PX(1500, 25));
    assert_false(p[0].index);

    assert_int_equal(p[1].mode, HH_KITE_QUOTE);
    assert_int_equal(p[1].last, PX(250, 50));
    assert_int_equal(p[1].last_qty, 75);
    assert_int_equal(p[1].avg, PX(249, 95));
    assert_int_equal(p[1].volume, 12345);
    assert_int_equal(p[1].buy_qty, 500);
    assert_int_equal(p[1].sell_qty, 600);
    assert_int_equal(p[1].open, PX(248, 0));
    assert_int_equal(p[1].high, PX(251, 0));
    assert_int_equal(p[1].low, PX(247, 50));
    assert_int_equal(p[1].close, PX(246, 0));
    assert_int_equal(p[1].bid, 0);
    assert_int_equal(p[1].exch_time, 0);

    assert_int_equal(p[2].mode, HH_KITE_FULL);
    assert_int_equal(p[2].last_trade_time, 1717390800);
    assert_int_equal(p[2].exch_time, 1717390801);
    assert_int_equal(p[2].oi, 1000);
    assert_int_equal(p[2].oi_high, 1200);
    assert_int_equal(p[2].oi_low, 900);
    assert_int_equal(p[2].bid, PX(250, 45));
    assert_int_equal(p[2].bid_qty, 10);
    assert_int_equal(p[2].ask, PX(250, 55));
    assert_int_equal(p[2].ask_qty, 15);
}

static void test_index_packets(void **state)
{
    struct hh_kite_packet p[4];
    struct frame f;
    size_t n, sk;
    const char *why;

    (void)state;
    begin(&f);
    index_pkt(&f, 256265, false);
    index_pkt(&f, 260105, true);
    ltp(&f, 256265, 2250040);
    assert_int_equal(parse(&f, p, 4, &n, &sk, &why), HH_OK);
    assert_int_equal(n, 3);
    assert_true(p[0].index);
    assert_int_equal(p[0].mode, HH_KITE_QUOTE);
    assert_int_equal(p[0].last, PX(22500, 35));
    assert_int_equal(p[0].high, PX(22600, 0));
    assert_int_equal(p[0].low, PX(22400, 10));
    assert_int_equal(p[0].open, PX(22450, 0));
    assert_int_equal(p[0].close, PX(22500, 71));
    assert_int_equal(p[0].change, -PX(0, 36));
    assert_int_equal(p[0].exch_time, 0);
    assert_int_equal(p[1].mode, HH_KITE_FULL);
    assert_int_equal(p[1].exch_time, 1717390802);
    /* an index in ltp mode: the segment byte (9) says so */
    assert_true(p[2].index);
    assert_int_equal(p[2].mode, HH_KITE_LTP);
}

static void test_currency_divisors(void **state)
{
    struct hh_kite_packet p[4];
    struct frame f;
    size_t n, sk;
    const char *why;

    (void)state;
    begin(&f);
    ltp(&f, (1u << 8) | 3, 832525000);     /* CDS: 83.2525000 */
    ltp(&f, (2u << 8) | 6, 832525);        /* BCD: 83.2525 */
    assert_int_equal(parse(&f, p, 4, &n, &sk, &why), HH_OK);
    assert_int_equal(p[0].last, 832525);
    assert_int_equal(p[1].last, 832525);
    /* a CDS price finer than 1/10,000 cannot be held exactly: refused */
    begin(&f);
    ltp(&f, (1u << 8) | 3, 832525001);
    assert_int_equal(parse(&f, p, 4, &n, &sk, &why), HH_ESYNTAX);
    assert_non_null(strstr(why, "price"));
    assert_int_equal(n, 0);
}

static void test_heartbeat_and_empty(void **state)
{
    struct hh_kite_packet p[2];
    uint8_t one = 0, zero[2] = { 0, 0 };
    size_t n, sk;
    bool hb;
    const char *why = NULL;

    (void)state;
    assert_int_equal(hh_kite_parse_ticks(&one, 1, p, 2, &n, &sk, &hb, &why), HH_OK);
    assert_true(hb);
    assert_int_equal(n, 0);
    assert_int_equal(hh_kite_parse_ticks(zero, 2, p, 2, &n, &sk, &hb, &why), HH_OK);
    assert_false(hb);
    assert_int_equal(n, 0);
    assert_int_equal(hh_kite_parse_ticks(zero, 0, p, 2, &n, &sk, &hb, &why), HH_ESYNTAX);
    assert_string_equal(why, "empty frame");
}

static void test_malformed(void **state)
{
    struct hh_kite_packet p[4];
    struct frame f, g;
    size_t n, sk;
    const char *why;

    (void)state;
    /* truncated inside the second packet: the first is kept */
    begin(&f);
    ltp(&f, 1, 100);
    quote(&f, 2, false);
    g = f;
    g.n -= 10;
    assert_int_equal(parse(&g, p, 4, &n, &sk, &why), HH_ESYNTAX);
    assert_non_null(strstr(why, "truncated"));
    assert_int_equal(n, 1);
    assert_int_equal(p[0].token, 1);

    /* the count promises more packets than there are */
    g = f;
    g.b[1] = 3;
    assert_int_equal(parse(&g, p, 4, &n, &sk, &why), HH_ESYNTAX);
    assert_string_equal(why, "truncated: packet length missing");
    assert_int_equal(n, 2);

    /* bytes after the last packet */
    g = f;
    g.b[g.n++] = 7;
    assert_int_equal(parse(&g, p, 4, &n, &sk, &why), HH_ESYNTAX);
    assert_string_equal(why, "bytes after the last packet");

    /* an unknown length is skipped, counted, not fatal */
    begin(&f);
    packet(&f, 12);
    put32(&f, 5);
    put32(&f, 100);
    put32(&f, 100);
    ltp(&f, 6, 200);
    assert_int_equal(parse(&f, p, 4, &n, &sk, &why), HH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(sk, 1);
    assert_int_equal(p[0].token, 6);

    /* a negative last price */
    begin(&f);
    ltp(&f, 7, -5);
    assert_int_equal(parse(&f, p, 4, &n, &sk, &why), HH_ESYNTAX);

    /* more packets than room */
    begin(&f);
    ltp(&f, 1, 1);
    ltp(&f, 2, 2);
    assert_int_equal(parse(&f, p, 1, &n, &sk, &why), HH_EFULL);
    assert_int_equal(n, 1);
}

/* Every prefix and every single-byte corruption of a valid frame parses
 * or is refused — never read outside the buffer (ASan checks the reads). */
static void test_prefixes_and_flips(void **state)
{
    struct hh_kite_packet p[8];
    struct frame f;
    size_t n, sk;
    bool hb;
    const char *why;

    (void)state;
    begin(&f);
    ltp(&f, 408065, 150025);
    quote(&f, 884737, true);
    index_pkt(&f, 256265, true);
    for (size_t len = 0; len <= f.n; len++) {
        uint8_t *copy = malloc(len ? len : 1);

        memcpy(copy, f.b, len);
        hh_kite_parse_ticks(copy, len, p, 8, &n, &sk, &hb, &why);
        assert_true(n <= 3);
        free(copy);
    }
    for (size_t i = 0; i < f.n; i++) {
        struct frame g = f;
        uint8_t *copy = malloc(g.n);

        g.b[i] ^= 0xA5;
        memcpy(copy, g.b, g.n);
        hh_kite_parse_ticks(copy, g.n, p, 8, &n, &sk, &hb, &why);
        free(copy);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ltp_quote_full),
        cmocka_unit_test(test_index_packets),
        cmocka_unit_test(test_currency_divisors),
        cmocka_unit_test(test_heartbeat_and_empty),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_prefixes_and_flips),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
