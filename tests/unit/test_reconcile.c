/*
 * test_reconcile.c — the broker's state wins: against the paper broker with
 * every order update lost, reconciliation adopts the fills the engine never
 * heard of (and protects the position it did not know it had), adopts a
 * position opened outside the engine, and buys back a naked short option;
 * an option past its expiry's close is the settlement's, not judged.
 */
#include "testutil.h"

#include "broker/paper.h"
#include "trade/trade.h"

struct world {
    struct hh_instruments *inst;
    struct hh_clock clock;
    struct hh_paper *paper;
    struct hh_broker broker;
    struct hh_tm *tm;
    struct hh_tm_config cfg;
    hh_iid_t xyz, ce;
    int div[5];
};

static hh_price_t P(double rupees)
{
    return (hh_price_t)(rupees * HH_FX_SCALE + 0.5);
}

static hh_time_t T(int m)
{
    return hh_time_from_ist(hh_date_from_ymd(2025, 1, 2), HH_TOD(9, 15) + m * HH_NS_PER_MIN);
}

static hh_iid_t add(struct world *w, const char *sym, bool option)
{
    struct hh_instrument in;
    hh_iid_t id;

    memset(&in, 0, sizeof in);
    snprintf(in.symbol, sizeof in.symbol, "%s", sym);
    snprintf(in.underlying, sizeof in.underlying, "%s", option ? "NIFTY" : sym);
    in.exch = HH_EXCH_NSE;
    in.seg = option ? HH_SEG_OPT : HH_SEG_CASH;
    in.type = option ? HH_INST_OPT : HH_INST_EQ;
    in.opt = option ? HH_OPT_CE : HH_OPT_NONE;
    in.strike = option ? P(24000) : 0;
    in.expiry = option ? hh_date_from_ymd(2025, 1, 30) : HH_DATE_NONE;
    in.lot_size = option ? 75 : 1;
    in.tick = 500;
    in.known = true;
    assert_int_equal(hh_inst_add(w->inst, &in, &id), HH_OK);
    return id;
}

static void on_div(void *ctx, const struct hh_tm_divergence *d)
{
    struct world *w = ctx;

    w->div[d->kind]++;
}

static struct world *world_new(void)
{
    struct world *w = calloc(1, sizeof *w);
    struct hh_paper_config pc;
    struct hh_tm_sink sink = { 0 };

    w->inst = hh_inst_new();
    w->xyz = add(w, "XYZ", false);
    w->ce = add(w, "NIFTY25JAN24000CE", true);
    hh_clock_init(&w->clock, true);
    hh_paper_config_defaults(&pc);
    pc.drop_update_pct = 100 * HH_RATIO_SCALE;   /* the stream loses everything */
    w->paper = hh_paper_new(w->inst, &w->clock, &pc);
    assert_non_null(w->paper);
    w->broker = hh_paper_broker(w->paper);
    w->cfg = (struct hh_tm_config){
        .capital = 1000000 * HH_RUPEE, .risk_per_trade = HH_RATIO_SCALE / 100,
        .size_scale = HH_RATIO_SCALE, .max_lots_per_trade = 100, .max_open_trades = 2,
        .volume_lookback = 20, .breakeven_after_t1 = true, .fees = hh_charges_find("zero"),
        .exposure_check = 100 * HH_NS_PER_MS, .hedge_debounce = 500 * HH_NS_PER_MS,
        .leg_timeout = 5000 * HH_NS_PER_MS, .margin_buffer = HH_RATIO_SCALE,
    };
    w->tm = hh_tm_new(&w->cfg, w->inst, NULL, &w->clock, w->broker, &sink);
    assert_non_null(w->tm);
    return w;
}

static void world_free(struct world *w)
{
    hh_tm_free(w->tm);
    hh_paper_free(w->paper);
    hh_inst_free(w->inst);
    free(w);
}

static void bar(struct world *w, hh_iid_t iid, int m, double o, double h, double l, double c)
{
    struct hh_bar b = { T(m), iid, P(o), P(h), P(l), P(c), 1000 };

    hh_clock_advance(&w->clock, b.ts);
    hh_paper_pump(w->paper);
    hh_tm_bars(w->tm, &b, 1);
    hh_paper_pump(w->paper);
}

/* One reconciliation poll from the broker's order book and positions. */
static int poll(struct world *w)
{
    struct hh_broker_order orders[64];
    struct hh_broker_position pos[16];
    size_t no = 0, np = 0;
    int n;

    assert_int_equal(w->broker.ops->orders(w->broker.impl, orders, 64, &no), HH_OK);
    assert_int_equal(w->broker.ops->positions(w->broker.impl, pos, 16, &np), HH_OK);
    n = hh_tm_reconcile(w->tm, orders, no < 64 ? no : 64, pos, np < 16 ? np : 16, on_div, w);
    hh_tm_flush(w->tm);   /* what it decided goes out */
    return n;
}

/* An order placed outside the engine (by hand, by another app). */
static void by_hand(struct world *w, hh_iid_t iid, enum hh_side side, hh_qty_t qty)
{
    struct hh_order_req req;
    uint64_t oid;

    memset(&req, 0, sizeof req);
    snprintf(req.client_id, sizeof req.client_id, "manual-1");
    req.iid = iid;
    req.side = side;
    req.type = HH_ORD_MARKET;
    req.qty = qty;
    assert_int_equal(w->broker.ops->place(w->broker.impl, &req, &oid), HH_OK);
}

static void test_lost_fill_is_adopted_and_protected(void **state)
{
    struct world *w = world_new();
    struct hh_signal s;

    (void)state;
    memset(&s, 0, sizeof s);
    snprintf(s.id, sizeof s.id, "s1");
    s.iid = w->xyz;
    s.side = HH_BUY;
    s.entry = P(100);
    s.stop = P(98);
    s.targets[0] = P(104);
    s.ntargets = 1;
    s.lots = 5;
    s.confidence = HH_RATIO_SCALE;
    s.ts = s.received_at = T(-1);
    s.valid_until = T(300);
    hh_clock_advance(&w->clock, s.received_at);
    assert_int_equal(hh_tm_signal(w->tm, &s), HH_OK);
    bar(w, w->xyz, 0, 100.5, 101, 99.5, 100.2);   /* ready */
    bar(w, w->xyz, 1, 100.3, 100.6, 100.1, 100.4); /* the entry fills; the report is lost */
    assert_int_equal(hh_paper_position(w->paper, w->xyz), 5);
    assert_int_equal(hh_tm_position(w->tm, w->xyz), 0);     /* the engine does not know */
    assert_true(poll(w) >= 1);
    assert_int_equal(w->div[HH_DIV_MISSED_FILL], 1);
    assert_int_equal(hh_tm_position(w->tm, w->xyz), 5);     /* adopted */
    /* ... and protected: the stop is now working at the broker */
    bar(w, w->xyz, 2, 100.4, 100.5, 97, 97.5);
    assert_int_equal(hh_paper_position(w->paper, w->xyz), 0);   /* stopped out there */
    poll(w);
    assert_int_equal(hh_tm_position(w->tm, w->xyz), 0);        /* and here after the poll */
    /* the target's cancel is confirmed by a status query (its CANCELLED
     * report is lost too): then the trade closes */
    assert_int_equal(hh_tm_stats(w->tm)->trades_closed, 0);
    hh_clock_advance(&w->clock, T(2) + 2 * HH_NS_PER_S);
    hh_tm_fire_timers(w->tm, w->clock.now);
    assert_int_equal(hh_tm_stats(w->tm)->trades_closed, 1);
    assert_int_equal(poll(w), 0);                              /* nothing left to adopt */
    world_free(w);
}

static void test_naked_short_found_at_the_broker_is_bought_back(void **state)
{
    struct world *w = world_new();

    (void)state;
    /* someone sold a call outside the engine (a crash, a manual order) */
    hh_clock_advance(&w->clock, T(0));
    by_hand(w, w->ce, HH_SELL, 75);
    bar(w, w->ce, 1, 120, 121, 119, 120);
    assert_int_equal(hh_paper_position(w->paper, w->ce), -75);
    assert_true(poll(w) >= 2);
    assert_int_equal(w->div[HH_DIV_POSITION], 1);
    assert_int_equal(w->div[HH_DIV_NAKED_SHORT], 1);
    assert_int_equal(hh_tm_position(w->tm, w->ce), -75);       /* adopted */
    bar(w, w->ce, 2, 121, 122, 120, 121);                      /* the buy-back fills */
    assert_int_equal(hh_paper_position(w->paper, w->ce), 0);
    poll(w);
    assert_int_equal(hh_tm_position(w->tm, w->ce), 0);
    assert_int_equal(hh_paper_stats(w->paper)->dup_client_ids, 0);
    world_free(w);
}

/* A long call bought outside the engine, polled at `at`: adopted before the
 * expiry's close (15:30 IST on the expiry day); from the close on the
 * exchange settles it (and the engine books its own settlement then), so
 * what the broker still lists of it is no divergence. */
static int adopted_at(hh_time_t at)
{
    struct world *w = world_new();
    int div;

    hh_clock_advance(&w->clock, T(0));
    by_hand(w, w->ce, HH_BUY, 75);
    bar(w, w->ce, 1, 120, 121, 119, 120);
    assert_int_equal(hh_paper_position(w->paper, w->ce), 75);
    hh_clock_advance(&w->clock, at);
    poll(w);
    div = w->div[HH_DIV_POSITION];
    assert_int_equal(hh_tm_position(w->tm, w->ce), div ? 75 : 0);
    world_free(w);
    return div;
}

static void test_expired_position_is_not_judged(void **state)
{
    hh_date_t exp = hh_date_from_ymd(2025, 1, 30);

    (void)state;
    assert_int_equal(adopted_at(hh_time_from_ist(exp, HH_TOD(15, 29))), 1);
    assert_int_equal(adopted_at(hh_time_from_ist(exp, HH_TOD(15, 30))), 0);
    assert_int_equal(adopted_at(hh_time_from_ist(exp + 1, HH_TOD(9, 15))), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lost_fill_is_adopted_and_protected),
        cmocka_unit_test(test_naked_short_found_at_the_broker_is_bought_back),
        cmocka_unit_test(test_expired_position_is_not_judged),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
