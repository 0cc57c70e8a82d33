/*
 * test_trade.c — SPEC §5 rule by rule, driving the trade manager and the
 * simulated exchange directly with hand-made signals, bars and ticks.
 *
 * Day: 2025-01-02 (a Thursday); T(m) is 09:15 + m minutes IST.  XYZ has lot
 * 1 and tick 0.05; FUT has lot 75.
 */
#include "testutil.h"

#include "broker/simex.h"
#include "trade/trade.h"

#define MAXF 64

struct rec {
    struct hh_tm_fill fills[MAXF];
    char fill_sig[MAXF][HH_SIG_ID_MAX];
    int nfills;
    struct hh_tm_trade trades[MAXF];
    int ntrades;
    char rejected[MAXF][HH_SIG_ID_MAX];
    enum hh_sig_reason reject_reason[MAXF];
    int nrejected;
    char dropped[MAXF][HH_SIG_ID_MAX];
    enum hh_tm_drop drop_why[MAXF];
    int ndropped;
};

struct env {
    struct hh_instruments *inst;
    struct hh_calendar *cal;
    struct hh_clock clock;
    struct hh_simex *ex;
    struct hh_tm *tm;
    struct hh_tm_config cfg;
    struct hh_simex_config xc;
    struct rec rec;
    hh_iid_t xyz, fut, abc;
};

static hh_time_t T(int minutes)
{
    return hh_time_from_ist(hh_date_from_ymd(2025, 1, 2), HH_TOD(9, 15) + minutes * HH_NS_PER_MIN);
}

static hh_price_t P(double rupees)
{
    /* test literals only: exact for the two-decimal values used here */
    return (hh_price_t)(rupees * HH_FX_SCALE + (rupees >= 0 ? 0.5 : -0.5));
}

static void on_fill(void *ctx, const struct hh_tm_fill *f)
{
    struct rec *r = ctx;

    r->fills[r->nfills] = *f;
    snprintf(r->fill_sig[r->nfills], HH_SIG_ID_MAX, "%s", f->sig->id);
    r->nfills++;
}

static void on_closed(void *ctx, const struct hh_tm_trade *t)
{
    struct rec *r = ctx;

    r->trades[r->ntrades++] = *t;
}

static void on_rejected(void *ctx, const struct hh_signal *s, enum hh_sig_reason why,
                        const char *detail)
{
    struct rec *r = ctx;

    (void)detail;
    snprintf(r->rejected[r->nrejected], HH_SIG_ID_MAX, "%s", s->id);
    r->reject_reason[r->nrejected++] = why;
}

static void on_dropped(void *ctx, const struct hh_signal *s, enum hh_tm_drop why, hh_time_t at)
{
    struct rec *r = ctx;

    (void)at;
    snprintf(r->dropped[r->ndropped], HH_SIG_ID_MAX, "%s", s->id);
    r->drop_why[r->ndropped++] = why;
}

static hh_iid_t add_inst(struct env *e, const char *sym, hh_qty_t lot)
{
    struct hh_instrument in;
    hh_iid_t id;

    memset(&in, 0, sizeof in);
    snprintf(in.symbol, sizeof in.symbol, "%s", sym);
    snprintf(in.underlying, sizeof in.underlying, "%s", sym);
    in.exch = HH_EXCH_NSE;
    in.seg = lot > 1 ? HH_SEG_FUT : HH_SEG_CASH;
    in.type = lot > 1 ? HH_INST_FUT : HH_INST_EQ;
    in.expiry = lot > 1 ? hh_date_from_ymd(2025, 1, 30) : HH_DATE_NONE;
    in.lot_size = lot;
    in.tick = 500;
    in.known = true;
    assert_int_equal(hh_inst_add(e->inst, &in, &id), HH_OK);
    return id;
}

static struct env *env_new(void)
{
    struct env *e = calloc(1, sizeof *e);

    e->inst = hh_inst_new();
    e->cal = hh_cal_new();
    e->xyz = add_inst(e, "XYZ", 1);
    e->fut = add_inst(e, "FUT", 75);
    e->abc = add_inst(e, "ABC", 1);
    e->cfg = (struct hh_tm_config){
        .capital = 1000000 * HH_RUPEE,
        .risk_per_trade = HH_RATIO_SCALE / 100,
        .size_scale = HH_RATIO_SCALE,
        .max_lots_per_trade = 100,
        .max_open_trades = 1,
        .volume_lookback = 20,
        .breakeven_after_t1 = true,
        .squareoff_set = true,
        .fees = hh_charges_find("zero"),
    };
    return e;
}

/* Build the exchange and manager after a test adjusted e->cfg / e->xc. */
static void env_start(struct env *e)
{
    struct hh_tm_sink sink = { .fill = on_fill, .closed = on_closed, .rejected = on_rejected,
                                 .dropped = on_dropped, .ctx = &e->rec };

    hh_clock_init(&e->clock, true);
    e->ex = hh_simex_new(e->inst, &e->clock, &e->xc);
    e->tm = hh_tm_new(&e->cfg, e->inst, e->cal, &e->clock, hh_simex_broker(e->ex), &sink);
    assert_non_null(e->tm);
}

static void env_free(struct env *e)
{
    hh_tm_free(e->tm);
    hh_simex_free(e->ex);
    hh_inst_free(e->inst);
    hh_cal_free(e->cal);
    free(e);
}

static struct hh_signal sig(const char *id, hh_iid_t iid, enum hh_side side, double entry,
                            double stop, double t1, double t2, double t3, int64_t lots,
                            int at_minute)
{
    struct hh_signal s;

    memset(&s, 0, sizeof s);
    snprintf(s.id, sizeof s.id, "%s", id);
    s.iid = iid;
    s.side = side;
    s.entry = P(entry);
    s.stop = P(stop);
    s.targets[0] = P(t1);
    s.ntargets = 1;
    if (t2 > 0)
        s.targets[s.ntargets++] = P(t2);
    if (t3 > 0)
        s.targets[s.ntargets++] = P(t3);
    s.lots = lots;
    s.confidence = HH_RATIO_SCALE;
    s.ts = s.received_at = T(at_minute);
    s.valid_until = hh_time_from_ist(hh_date_from_ymd(2025, 1, 2), HH_TOD(15, 30));
    return s;
}

static void feed(struct env *e, const struct hh_signal *s)
{
    hh_clock_advance(&e->clock, s->received_at);
    assert_int_equal(hh_tm_signal(e->tm, s), HH_OK);
}

static void bar(struct env *e, hh_iid_t iid, int minute, double o, double h, double l,
                double c, hh_qty_t v)
{
    struct hh_bar b = { T(minute), iid, P(o), P(h), P(l), P(c), v };

    hh_clock_advance(&e->clock, b.ts);
    hh_tm_bars(e->tm, &b, 1);
}

static void tick(struct env *e, hh_iid_t iid, hh_time_t ts, double price)
{
    struct hh_tick t = { ts, iid, P(price), 1, 0, 0 };

    hh_clock_advance(&e->clock, ts);
    hh_tm_tick(e->tm, &t);
}

static void expect_fill(struct env *e, int i, const char *sig_id, enum hh_fill_reason r,
                        double price, hh_qty_t qty)
{
    if (i >= e->rec.nfills)
        fail_msg("fill %d missing (have %d)", i, e->rec.nfills);
    assert_string_equal(e->rec.fill_sig[i], sig_id);
    assert_string_equal(hh_fill_reason_name(e->rec.fills[i].reason), hh_fill_reason_name(r));
    assert_int_equal(e->rec.fills[i].price, P(price));
    assert_int_equal(e->rec.fills[i].qty, qty);
}

/* ---- waiting, invalidation, readiness ---------------------------------- */

static void test_stop_before_entry(void **state)
{
    struct env *e = env_new();
    struct hh_signal s = sig("a", e->xyz, HH_BUY, 100, 98, 105, 0, 0, 1, -5);

    (void)state;
    env_start(e);
    feed(e, &s);
    bar(e, e->xyz, 0, 101, 102, 97.95, 101, 10);   /* low through the stop */
    bar(e, e->xyz, 1, 101, 101, 99.5, 100.5, 10);  /* would be ready */
    bar(e, e->xyz, 2, 100.5, 101, 100.2, 100.8, 10);
    assert_int_equal(e->rec.ndropped, 1);
    assert_int_equal(e->rec.drop_why[0], HH_DROP_STOP_BEFORE_ENTRY);
    assert_int_equal(e->rec.nfills, 0);
    env_free(e);
}

static void test_stop_at_level_invalidates_sell(void **state)
{
    struct env *e = env_new();
    struct hh_signal s = sig("a", e->xyz, HH_SELL, 100, 102, 95, 0, 0, 1, -5);

    (void)state;
    env_start(e);
    feed(e, &s);
    bar(e, e->xyz, 0, 101, 102, 99, 99.5, 10);     /* high == stop: through */
    assert_int_equal(e->rec.ndropped, 1);
    assert_int_equal(e->rec.drop_why[0], HH_DROP_STOP_BEFORE_ENTRY);
    env_free(e);
}

static void test_expired_and_uncounted_bars(void **state)
{
    struct env *e = env_new();
    struct hh_signal s = sig("a", e->xyz, HH_BUY, 100, 98, 105, 0, 0, 1, 1);

    (void)state;
    s.valid_until = T(3);
    env_start(e);
    feed(e, &s);
    /* A bar starting before received_at does not count, even through the stop. */
    hh_clock_advance(&e->clock, T(1));
    {
        struct hh_bar b = { T(0), e->xyz, P(99), P(100), P(90), P(99.5), 1 };

        hh_tm_bars(e->tm, &b, 1);
    }
    assert_int_equal(e->rec.ndropped, 0);
    bar(e, e->xyz, 1, 101, 102, 100.5, 101, 1);
    bar(e, e->xyz, 3, 101, 102, 100.5, 101, 1);    /* starts at valid_until */
    assert_int_equal(e->rec.ndropped, 1);
    assert_int_equal(e->rec.drop_why[0], HH_DROP_EXPIRED);
    env_free(e);
}

static void test_retest_buy_and_sell(void **state)
{
    struct env *e = env_new();
    struct hh_signal b = sig("buy", e->xyz, HH_BUY, 100, 98, 104, 0, 0, 1, -1);
    struct hh_signal s = sig("sell", e->abc, HH_SELL, 200, 204, 190, 0, 0, 1, -1);

    (void)state;
    e->cfg.max_open_trades = 2;
    env_start(e);
    feed(e, &b);
    feed(e, &s);
    /* close below entry: not a retest for a BUY; close above: not for SELL */
    {
        struct hh_bar bars[2] = {
            { T(0), e->xyz, P(101), P(101), P(99.5), P(99.8), 1 },
            { T(0), e->abc, P(199), P(200.5), P(198), P(200.2), 1 },
        };
        hh_clock_advance(&e->clock, T(0));
        hh_tm_bars(e->tm, bars, 2);
    }
    assert_int_equal(e->rec.nfills, 0);
    {
        struct hh_bar bars[2] = {
            { T(1), e->xyz, P(99.8), P(100.5), P(99.5), P(100), 1 },   /* close == entry */
            { T(1), e->abc, P(199), P(200), P(198), P(200), 1 },        /* high == entry == close */
        };
        hh_clock_advance(&e->clock, T(1));
        hh_tm_bars(e->tm, bars, 2);
    }
    bar(e, e->xyz, 2, 100.1, 100.3, 100, 100.2, 1);
    bar(e, e->abc, 2, 199.5, 199.9, 199, 199.2, 1);
    assert_int_equal(e->rec.nfills, 2);
    expect_fill(e, 0, "buy", HH_FR_ENTRY, 100.1, 1);
    expect_fill(e, 1, "sell", HH_FR_ENTRY, 199.5, 1);
    assert_int_equal(e->rec.fills[1].side, HH_SELL);
    env_free(e);
}

static void test_volume_and_pattern(void **state)
{
    struct env *e = env_new();
    struct hh_signal s = sig("v", e->xyz, HH_BUY, 100, 98, 104, 0, 0, 1, 2);

    (void)state;
    e->cfg.volume_mult = 2 * HH_RATIO_SCALE;   /* volume >= 2 x mean */
    e->cfg.volume_lookback = 3;
    e->cfg.require_pattern = true;
    env_start(e);
    /* History before the signal counts for the mean (regardless of received_at). */
    bar(e, e->xyz, 0, 101, 102, 100.5, 101, 100);
    bar(e, e->xyz, 1, 101, 102, 100.5, 101, 200);
    feed(e, &s);
    /* mean of (100, 200) = 150: 299 < 300 fails */
    bar(e, e->xyz, 2, 99.9, 100.5, 99.5, 100.2, 299);
    assert_int_equal(e->rec.nfills, 0);
    /* mean of (100, 200, 299) = 199.67: 400 >= 399.33 passes volume, but
     * close < open fails the pattern */
    bar(e, e->xyz, 3, 100.4, 100.5, 99.5, 100.2, 400);
    bar(e, e->xyz, 4, 100.3, 100.5, 100.25, 100.4, 1);
    assert_int_equal(e->rec.nfills, 0);
    /* window now (299, 400, 1): mean 233.33; 467 >= 466.67, close > open */
    bar(e, e->xyz, 5, 99.8, 100.5, 99.5, 100.2, 467);
    bar(e, e->xyz, 6, 100.3, 100.5, 100.25, 100.4, 1);
    assert_int_equal(e->rec.nfills, 1);
    expect_fill(e, 0, "v", HH_FR_ENTRY, 100.3, 1);
    env_free(e);
}

static void test_volume_no_history_passes(void **state)
{
    struct env *e = env_new();
    struct hh_signal s = sig("v", e->xyz, HH_BUY, 100, 98, 104, 0, 0, 1, -1);

    (void)state;
    e->cfg.volume_mult = 5 * HH_RATIO_SCALE;
    env_start(e);
    feed(e, &s);
    bar(e, e->xyz, 0, 100.5, 101, 99.5, 100.2, 1);
    bar(e, e->xyz, 1, 100.3, 100.5, 100.2, 100.4, 1);
    assert_int_equal(e->rec.nfills, 1);
    env_free(e);
}

static void test_touch_bars(void **state)
{
    struct env *e = env_new();
    struct hh_signal s = sig("t", e->xyz, HH_BUY, 100, 98, 104, 0, 0, 1, -1);

    (void)state;
    e->cfg.touch = true;
    env_start(e);
    feed(e, &s);
    bar(e, e->xyz, 0, 100.5, 101, 100.05, 100.8, 1);   /* range misses 100 */
    assert_int_equal(e->rec.nfills, 0);
    bar(e, e->xyz, 1, 100.5, 101, 100, 100.8, 1);      /* low == entry: touch */
    bar(e, e->xyz, 2, 100.7, 101, 100.5, 100.8, 1);
    assert_int_equal(e->rec.nfills, 1);
    expect_fill(e, 0, "t", HH_FR_ENTRY, 100.7, 1);
    env_free(e);
}

static void test_touch_ticks_fill_next_tick(void **state)
{
    struct env *e = env_new();
    struct hh_signal s = sig("t", e->xyz, HH_BUY, 100, 98, 104, 0, 0, 1, -1);
    hh_time_t t0 = T(0);

    (void)state;
    e->cfg.touch = true;
    env_start(e);
    feed(e, &s);
    tick(e, e->xyz, t0, 99.5);
    assert_int_equal(e->rec.nfills, 0);
    tick(e, e->xyz, t0 + HH_NS_PER_S, 100);          /* at entry: ready, decided */
    assert_int_equal(e->rec.nfills, 0);               /* not on the deciding tick */
    tick(e, e->abc, t0 + 2 * HH_NS_PER_S, 50);        /* other symbol: no fill */
    tick(e, e->xyz, t0 + 3 * HH_NS_PER_S, 100.15);
    assert_int_equal(e->rec.nfills, 1);
    expect_fill(e, 0, "t", HH_FR_ENTRY, 100.15, 1);
    env_free(e);
}

/* ---- selection and sizing ------------------------------------------------ */

static void test_best_first_and_ties(void **state)
{
    struct env *e = env_new();
    /* same R:R 2.0 for all: confidence, then ts, then id decide */
    struct hh_signal a = sig("a", e->xyz, HH_BUY, 100, 98, 104, 0, 0, 1, -4);
    struct hh_signal b = sig("b", e->xyz, HH_BUY, 100, 98, 104, 0, 0, 1, -3);
    struct hh_signal c = sig("c", e->xyz, HH_BUY, 100, 98, 104, 0, 0, 1, -4);
    struct hh_signal d = sig("d", e->xyz, HH_BUY, 100, 98, 104, 0, 0, 1, -4);

    (void)state;
    c.confidence = HH_RATIO_SCALE / 2;
    d.ts = a.ts;
    /* feed in an order that differs from the expected selection order */
    env_start(e);
    feed(e, &d);
    feed(e, &c);
    feed(e, &b);
    feed(e, &a);
    /* a and d share confidence 1 and ts: id decides (a); b is later; c is
     * least confident.  Each trade exits at its target, freeing the slot
     * (a stop-out bar would also invalidate the waiting ones). */
    for (int k = 0; k < 4; k++) {
        bar(e, e->xyz, 3 * k, 100.5, 101, 99.5, 100.2, 1);         /* ready */
        bar(e, e->xyz, 3 * k + 1, 100.2, 100.3, 100.1, 100.2, 1);  /* entry */
        bar(e, e->xyz, 3 * k + 2, 100.2, 104.5, 100.1, 104, 1);    /* target */
    }
    assert_int_equal(e->rec.ntrades, 4);
    assert_string_equal(e->rec.trades[0].sig->id, "a");
    assert_int_equal(e->rec.nfills, 8);
    assert_string_equal(e->rec.fill_sig[0], "a");
    assert_string_equal(e->rec.fill_sig[2], "d");
    assert_string_equal(e->rec.fill_sig[4], "b");
    assert_string_equal(e->rec.fill_sig[6], "c");
    env_free(e);
}

static void test_max_open_and_one_per_symbol(void **state)
{
    struct env *e = env_new();
    struct hh_signal x1 = sig("x1", e->xyz, HH_BUY, 100, 98, 106, 0, 0, 1, -1);
    struct hh_signal x2 = sig("x2", e->xyz, HH_BUY, 100, 98, 105, 0, 0, 1, -1);
    struct hh_signal a1 = sig("a1", e->abc, HH_BUY, 100, 98, 104, 0, 0, 1, -1);

    (void)state;
    e->cfg.max_open_trades = 2;
    env_start(e);
    feed(e, &x1);
    feed(e, &x2);
    feed(e, &a1);
    {
        struct hh_bar bars[2] = {
            { T(0), e->xyz, P(100.5), P(101), P(99.5), P(100.2), 1 },
            { T(0), e->abc, P(100.5), P(101), P(99.5), P(100.2), 1 },
        };
        hh_clock_advance(&e->clock, T(0));
        hh_tm_bars(e->tm, bars, 2);
    }
    {
        struct hh_bar bars[2] = {
            { T(1), e->xyz, P(100.3), P(100.4), P(100.2), P(100.3), 1 },
            { T(1), e->abc, P(100.3), P(100.4), P(100.2), P(100.3), 1 },
        };
        hh_clock_advance(&e->clock, T(1));
        hh_tm_bars(e->tm, bars, 2);
    }
    /* x1 (best) and a1 entered; x2 waits: one trade per symbol */
    assert_int_equal(e->rec.nfills, 2);
    assert_string_equal(e->rec.fill_sig[0], "x1");
    assert_string_equal(e->rec.fill_sig[1], "a1");
    assert_int_equal(hh_tm_stats(e->tm)->waiting, 1);
    env_free(e);
}

static void test_sizing_compounds_and_caps(void **state)
{
    struct env *e = env_new();
    struct hh_signal s = sig("f", e->fut, HH_BUY, 23500, 23400, 23750, 0, 0, 0, -1);

    (void)state;
    env_start(e);
    /* floor(1,000,000 x 0.01 / (100 x 75)) = 1 */
    assert_int_equal(hh_tm_size_lots(e->tm, &s), 1);
    s.stop = P(23490);           /* risk 10: floor(10000 / 750) = 13 */
    assert_int_equal(hh_tm_size_lots(e->tm, &s), 13);
    s.lots = 7;                  /* fixed lots replace the first term */
    assert_int_equal(hh_tm_size_lots(e->tm, &s), 7);
    env_free(e);

    e = env_new();
    e->cfg.size_scale = HH_RATIO_SCALE / 2;   /* floor(13 x 0.5) = 6 */
    e->cfg.max_lots_per_trade = 5;            /* capped at 5 */
    env_start(e);
    s.lots = 0;
    assert_int_equal(hh_tm_size_lots(e->tm, &s), 5);
    s.lots = 3;                               /* floor(3 x 0.5) = 1 */
    assert_int_equal(hh_tm_size_lots(e->tm, &s), 1);
    s.lots = 1;                               /* floor(0.5) = 0: too small */
    assert_int_equal(hh_tm_size_lots(e->tm, &s), 0);
    env_free(e);
}

static void test_size_too_small_frees_slot_for_next_best(void **state)
{
    struct env *e = env_new();
    /* best R:R but risk 100 x 75 = 7,500 > 1 % of equity (with 0.5 %): 0 lots */
    struct hh_signal big = sig("big", e->fut, HH_BUY, 23500, 23400, 23900, 0, 0, 0, -1);
    struct hh_signal small = sig("small", e->xyz, HH_BUY, 100, 98, 104, 0, 0, 0, -1);

    (void)state;
    e->cfg.risk_per_trade = HH_RATIO_SCALE / 200;
    env_start(e);
    feed(e, &big);
    feed(e, &small);
    {
        struct hh_bar bars[2] = {
            { T(0), e->fut, P(23550), P(23560), P(23450), P(23510), 1 },
            { T(0), e->xyz, P(100.5), P(101), P(99.5), P(100.2), 1 },
        };
        hh_clock_advance(&e->clock, T(0));
        hh_tm_bars(e->tm, bars, 2);
    }
    assert_int_equal(e->rec.nrejected, 1);
    assert_string_equal(e->rec.rejected[0], "big");
    assert_int_equal(e->rec.reject_reason[0], HH_SIG_SIZE_TOO_SMALL);
    bar(e, e->xyz, 1, 100.3, 100.4, 100.2, 100.3, 1);
    assert_int_equal(e->rec.nfills, 1);
    /* 5,000 / 2 = 2,500 lots, capped at 100 */
    expect_fill(e, 0, "small", HH_FR_ENTRY, 100.3, 100);
    env_free(e);
}

/* ---- exits on bars ---------------------------------------------------------- */

/* Enter a BUY/SELL on XYZ at `open` (bars at T(0) ready, T(1) entry). */
static void enter(struct env *e, struct hh_signal *s, double ready_lo, double ready_close,
                  double open)
{
    feed(e, s);
    if (s->side == HH_BUY)
        bar(e, s->iid, 0, ready_close + 0.5, ready_close + 1, ready_lo, ready_close, 1);
    else
        bar(e, s->iid, 0, ready_close - 0.5, ready_lo, ready_close - 1, ready_close, 1);
    (void)open;
}

static void test_target_split_in_lots(void **state)
{
    struct env *e = env_new();
    struct hh_signal s = sig("s", e->xyz, HH_BUY, 100, 98, 102, 103, 104, 5, -1);

    (void)state;
    env_start(e);
    enter(e, &s, 99.5, 100.2, 100.3);
    /* entry 100.30, then a bar up through all three targets */
    bar(e, e->xyz, 1, 100.3, 104.5, 100.25, 104, 1);
    assert_int_equal(e->rec.nfills, 4);
    expect_fill(e, 0, "s", HH_FR_ENTRY, 100.3, 5);
    expect_fill(e, 1, "s", HH_FR_TARGET1, 102, 1);   /* floor(5/3) = 1 */
    expect_fill(e, 2, "s", HH_FR_TARGET2, 103, 1);
    expect_fill(e, 3, "s", HH_FR_TARGET3, 104, 3);   /* 1 + remainder 2 */
    assert_int_equal(e->rec.ntrades, 1);
    assert_int_equal(e->rec.trades[0].exit_reason, HH_FR_TARGET3);
    /* avg exit (102 + 103 + 3 x 104) / 5 = 103.40 */
    assert_int_equal(e->rec.trades[0].avg_exit_price, P(103.4));
    env_free(e);
}

static void test_fewer_lots_than_targets(void **state)
{
    struct env *e = env_new();
    struct hh_signal s = sig("s", e->xyz, HH_BUY, 100, 98, 102, 103, 104, 2, -1);

    (void)state;
    e->cfg.breakeven_after_t1 = false;
    env_start(e);
    enter(e, &s, 99.5, 100.2, 100.3);
    bar(e, e->xyz, 1, 100.3, 104.5, 100.25, 104, 1);
    /* n = min(3, 2) = 2 targets of 1 lot; T3 unused */
    assert_int_equal(e->rec.nfills, 3);
    expect_fill(e, 1, "s", HH_FR_TARGET1, 102, 1);
    expect_fill(e, 2, "s", HH_FR_TARGET2, 103, 1);
    env_free(e);
}

static void test_path_nearer_extreme(void **state)
{
    struct env *e = env_new();
    struct hh_signal s = sig("s", e->xyz, HH_BUY, 100, 98, 103, 0, 0, 1, -1);

    (void)state;
    env_start(e);
    enter(e, &s, 99.5, 100.2, 100.3);
    bar(e, e->xyz, 1, 100.3, 100.4, 100.2, 100.3, 1);   /* entry only */
    /* open 100; high 103.5 (3.5 away) nearer than low 96 (4.0): target first */
    bar(e, e->xyz, 2, 100, 103.5, 96, 99, 1);
    assert_int_equal(e->rec.nfills, 2);
    expect_fill(e, 1, "s", HH_FR_TARGET1, 103, 1);
    env_free(e);

    e = env_new();
    env_start(e);
    s = sig("s", e->xyz, HH_BUY, 100, 98, 103, 0, 0, 1, -1);
    enter(e, &s, 99.5, 100.2, 100.3);
    bar(e, e->xyz, 1, 100.3, 100.4, 100.2, 100.3, 1);
    /* the other order: low 97 (3.0) nearer than high 104 (4.0): stop first */
    bar(e, e->xyz, 2, 100, 104, 97, 101, 1);
    assert_int_equal(e->rec.nfills, 2);
    expect_fill(e, 1, "s", HH_FR_STOP, 98, 1);
    env_free(e);
}

static void test_path_tie_goes_against_position(void **state)
{
    struct env *e = env_new();
    struct hh_signal s = sig("l", e->xyz, HH_BUY, 100, 98, 103, 0, 0, 1, -1);

    (void)state;
    env_start(e);
    enter(e, &s, 99.5, 100.2, 100.3);
    bar(e, e->xyz, 1, 100.3, 100.4, 100.2, 100.3, 1);
    /* open 100.5: high 103.5 and low 97.5 both 3.0 away: long -> low first */
    bar(e, e->xyz, 2, 100.5, 103.5, 97.5, 101, 1);
    expect_fill(e, 1, "l", HH_FR_STOP, 98, 1);
    env_free(e);

    e = env_new();
    env_start(e);
    s = sig("s", e->xyz, HH_SELL, 100, 102, 97, 0, 0, 1, -1);
    enter(e, &s, 100.5, 99.8, 99.7);
    bar(e, e->xyz, 1, 99.7, 99.8, 99.6, 99.7, 1);
    /* open 99.5: high 102.5 and low 96.5 both 3.0 away: short -> high first */
    bar(e, e->xyz, 2, 99.5, 102.5, 96.5, 99, 1);
    expect_fill(e, 1, "s", HH_FR_STOP, 102, 1);
    env_free(e);
}

static void test_gaps_at_open(void **state)
{
    struct env *e = env_new();
    struct hh_signal s = sig("s", e->xyz, HH_BUY, 100, 98, 103, 0, 0, 1, -1);

    (void)state;
    e->xc.slippage_ticks = 2;
    env_start(e);
    enter(e, &s, 99.5, 100.2, 100.3);
    bar(e, e->xyz, 1, 100.3, 100.4, 100.2, 100.3, 1);  /* entry 100.30 + 0.10 */
    /* gap down through the stop: fills at the open, slipped */
    bar(e, e->xyz, 2, 97, 99, 96, 98.5, 1);
    expect_fill(e, 0, "s", HH_FR_ENTRY, 100.4, 1);
    expect_fill(e, 1, "s", HH_FR_STOP, 96.9, 1);
    env_free(e);

    e = env_new();
    env_start(e);
    s = sig("s", e->xyz, HH_BUY, 100, 98, 103, 0, 0, 1, -1);
    enter(e, &s, 99.5, 100.2, 100.3);
    bar(e, e->xyz, 1, 100.3, 100.4, 100.2, 100.3, 1);
    /* gap up through the target: fills at the open, never slipped */
    bar(e, e->xyz, 2, 105, 106, 104, 105, 1);
    expect_fill(e, 1, "s", HH_FR_TARGET1, 105, 1);
    env_free(e);
}

static void test_breakeven_after_t1(void **state)
{
    struct env *e = env_new();
    struct hh_signal s = sig("s", e->xyz, HH_BUY, 100, 98, 102, 104, 0, 2, -1);

    (void)state;
    e->xc.slippage_ticks = 1;
    env_start(e);
    enter(e, &s, 99.5, 100.2, 100.3);
    bar(e, e->xyz, 1, 100.3, 100.4, 100.25, 100.3, 1);   /* entry 100.35 */
    /* open 101, low 100.9 nearer, then up to 102.5 (T1), then down to 99.5:
     * the stop is at entry 100 from the high on: fills at 100 - 0.05 */
    bar(e, e->xyz, 2, 101, 102.5, 99.5, 99.8, 1);
    assert_int_equal(e->rec.nfills, 3);
    expect_fill(e, 1, "s", HH_FR_TARGET1, 102, 1);
    expect_fill(e, 2, "s", HH_FR_STOP, 99.95, 1);
    env_free(e);
}

static void test_breakeven_off(void **state)
{
    struct env *e = env_new();
    struct hh_signal s = sig("s", e->xyz, HH_BUY, 100, 98, 102, 104, 0, 2, -1);

    (void)state;
    e->cfg.breakeven_after_t1 = false;
    env_start(e);
    enter(e, &s, 99.5, 100.2, 100.3);
    bar(e, e->xyz, 1, 100.3, 100.4, 100.25, 100.3, 1);
    bar(e, e->xyz, 2, 101, 102.5, 99.5, 99.8, 1);        /* stop stays at 98 */
    assert_int_equal(e->rec.nfills, 2);
    bar(e, e->xyz, 3, 99.8, 99.9, 97.5, 98, 1);
    expect_fill(e, 2, "s", HH_FR_STOP, 98, 1);
    env_free(e);
}

static void test_breakeven_counts_from_next_point(void **state)
{
    struct env *e = env_new();
    struct hh_signal s = sig("s", e->xyz, HH_BUY, 100, 98, 102, 104, 0, 2, -1);

    (void)state;
    env_start(e);
    enter(e, &s, 99.5, 100.2, 100.3);
    bar(e, e->xyz, 1, 100.3, 100.4, 100.25, 100.3, 1);
    /* gap up through T1 at the open; the new stop (100) counts from the next
     * point: the path 103 -> 100.5 (low, nearer) -> 103.5 does not reach it */
    bar(e, e->xyz, 2, 103, 103.5, 100.5, 103.2, 1);
    assert_int_equal(e->rec.nfills, 2);
    expect_fill(e, 1, "s", HH_FR_TARGET1, 103, 1);
    bar(e, e->xyz, 3, 103, 103.1, 99, 99.5, 1);
    expect_fill(e, 2, "s", HH_FR_STOP, 100, 1);
    env_free(e);
}

static void test_sell_mirror(void **state)
{
    struct env *e = env_new();
    struct hh_signal s = sig("s", e->xyz, HH_SELL, 100, 102, 98, 96, 0, 2, -1);

    (void)state;
    env_start(e);
    enter(e, &s, 100.5, 99.8, 99.7);
    bar(e, e->xyz, 1, 99.7, 99.8, 99.65, 99.7, 1);     /* entry short 99.70 */
    bar(e, e->xyz, 2, 99.5, 99.6, 95.5, 96.5, 1);       /* both targets */
    assert_int_equal(e->rec.nfills, 3);
    expect_fill(e, 1, "s", HH_FR_TARGET1, 98, 1);
    expect_fill(e, 2, "s", HH_FR_TARGET2, 96, 1);
    assert_int_equal(e->rec.fills[1].side, HH_BUY);
    /* gross = sell 99.70 x 2 - buy (98 + 96) = 5.40 */
    assert_int_equal(e->rec.trades[0].gross, P(5.4));
    env_free(e);
}

/* ---- ticks ------------------------------------------------------------------- */

static void test_tick_rules(void **state)
{
    struct env *e = env_new();
    struct hh_signal s = sig("s", e->xyz, HH_BUY, 100, 98, 103, 0, 0, 1, -1);
    struct hh_candle c = { T(0), T(1), e->xyz, P(100.5), P(101), P(99.5), P(100.2), 5, 5 };

    (void)state;
    e->xc.slippage_ticks = 1;
    env_start(e);
    feed(e, &s);
    hh_clock_advance(&e->clock, T(1));
    hh_tm_candle(e->tm, &c);
    hh_tm_select(e->tm);
    tick(e, e->xyz, T(1), 100.3);                      /* the completing tick fills */
    expect_fill(e, 0, "s", HH_FR_ENTRY, 100.35, 1);
    tick(e, e->xyz, T(1) + HH_NS_PER_S, 103.4);        /* beyond T1: at T1's price */
    expect_fill(e, 1, "s", HH_FR_TARGET1, 103, 1);
    env_free(e);

    e = env_new();
    e->xc.slippage_ticks = 1;
    env_start(e);
    s = sig("s", e->xyz, HH_BUY, 100, 98, 103, 0, 0, 1, -1);
    feed(e, &s);
    c.iid = e->xyz;
    hh_clock_advance(&e->clock, T(1));
    hh_tm_candle(e->tm, &c);
    hh_tm_select(e->tm);
    tick(e, e->xyz, T(1), 100.3);
    tick(e, e->xyz, T(1) + HH_NS_PER_S, 97.5);         /* through the stop: its price */
    expect_fill(e, 1, "s", HH_FR_STOP, 97.45, 1);
    env_free(e);
}

/* ---- square-off ---------------------------------------------------------------- */

static void test_squareoff_bars(void **state)
{
    struct env *e = env_new();
    struct hh_signal s = sig("s", e->xyz, HH_BUY, 100, 98, 110, 0, 0, 1, -1);

    (void)state;
    e->cfg.squareoff_explicit = true;
    e->cfg.squareoff = HH_TOD(9, 20);
    env_start(e);
    enter(e, &s, 99.5, 100.2, 100.3);
    bar(e, e->xyz, 1, 100.3, 100.4, 100.25, 100.3, 1);
    bar(e, e->xyz, 4, 101, 101.5, 100.5, 101, 1);        /* 09:19 */
    bar(e, e->xyz, 5, 101.2, 101.5, 97, 99, 1);          /* 09:20: square-off first */
    assert_int_equal(e->rec.nfills, 2);
    expect_fill(e, 1, "s", HH_FR_SQUAREOFF, 101.2, 1);
    env_free(e);
}

static void test_no_entry_at_or_after_squareoff(void **state)
{
    struct env *e = env_new();
    struct hh_signal s = sig("s", e->xyz, HH_BUY, 100, 98, 110, 0, 0, 1, -1);

    (void)state;
    e->cfg.squareoff_explicit = true;
    e->cfg.squareoff = HH_TOD(9, 16);
    env_start(e);
    enter(e, &s, 99.5, 100.2, 100.3);                    /* taken on 09:15 */
    bar(e, e->xyz, 1, 100.3, 100.4, 100.25, 100.3, 1);   /* 09:16: not filled */
    assert_int_equal(e->rec.nfills, 0);
    assert_int_equal(hh_tm_stats(e->tm)->waiting, 1);    /* back to waiting */
    assert_int_equal(hh_tm_stats(e->tm)->open, 0);
    env_free(e);
}

static void test_squareoff_ticks_before_stop(void **state)
{
    struct env *e = env_new();
    struct hh_signal s = sig("s", e->xyz, HH_BUY, 100, 98, 110, 0, 0, 1, -1);
    struct hh_candle c = { T(0), T(1), e->xyz, P(100.5), P(101), P(99.5), P(100.2), 5, 5 };

    (void)state;
    e->cfg.squareoff_explicit = true;
    e->cfg.squareoff = HH_TOD(9, 20);
    e->xc.slippage_ticks = 2;
    env_start(e);
    feed(e, &s);
    hh_clock_advance(&e->clock, T(1));
    hh_tm_candle(e->tm, &c);
    hh_tm_select(e->tm);
    tick(e, e->xyz, T(1), 100.3);
    tick(e, e->xyz, T(5), 97);          /* at 09:20 and through the stop */
    assert_int_equal(e->rec.nfills, 2);
    expect_fill(e, 1, "s", HH_FR_SQUAREOFF, 96.9, 1);
    env_free(e);
}

static void test_slippage_bps(void **state)
{
    struct hh_simex_config xc = { .slippage_bps = 5 * HH_RATIO_SCALE };
    struct hh_instrument in;

    (void)state;
    memset(&in, 0, sizeof in);
    in.tick = 500;
    /* 5 bps of 23,500 = 11.75 -> 11.75 is a tick multiple */
    assert_int_equal(hh_simex_slipped(&xc, &in, HH_BUY, P(23500)), P(23511.75));
    /* 5 bps of 100.10 = 0.05005 -> 0.05 */
    assert_int_equal(hh_simex_slipped(&xc, &in, HH_SELL, P(100.1)), P(100.05));
    /* 5 bps of 150 = 0.075 -> half-up 0.10 */
    assert_int_equal(hh_simex_slipped(&xc, &in, HH_BUY, P(150)), P(150.1));
}

static void test_compounding_equity(void **state)
{
    struct env *e = env_new();
    struct hh_signal a = sig("a", e->xyz, HH_BUY, 100, 98, 104, 0, 0, 0, -1);

    (void)state;
    e->cfg.capital = 1000 * HH_RUPEE;     /* 1 % = 10 -> 5 lots at risk 2 */
    e->cfg.breakeven_after_t1 = false;
    env_start(e);
    enter(e, &a, 99.5, 100.2, 100.3);
    bar(e, e->xyz, 1, 100, 100.4, 99.9, 100.3, 1);
    bar(e, e->xyz, 2, 100.3, 104.5, 100.2, 104, 1);
    assert_int_equal(e->rec.ntrades, 1);
    assert_int_equal(e->rec.trades[0].qty, 5);
    assert_int_equal(e->rec.trades[0].gross, P(20));     /* (104 - 100) x 5 */
    /* equity 1,020: 1 % = 10.20 -> still 5 lots at risk 2 ... risk 1.5 gives 6 */
    {
        struct hh_signal b = sig("b", e->xyz, HH_BUY, 100, 98.5, 103, 0, 0, 0, 2);

        assert_int_equal(hh_tm_size_lots(e->tm, &b), 6);
    }
    env_free(e);
}

/* ---- restart: snapshot, restore, carry on identically ----------------------- */

/* Replace the manager by one restored from its snapshot (the exchange, as a
 * broker outside the engine, keeps its state); the two snapshots must be
 * byte-identical. */
static void restart(struct env *e)
{
    struct hh_tm_sink sink = { .fill = on_fill, .closed = on_closed, .rejected = on_rejected,
                                 .dropped = on_dropped, .ctx = &e->rec };
    unsigned char *a, *b;
    size_t na, nb;

    assert_int_equal(hh_tm_snapshot(e->tm, &a, &na), HH_OK);
    hh_tm_free(e->tm);
    e->tm = hh_tm_new(&e->cfg, e->inst, e->cal, &e->clock, hh_simex_broker(e->ex), &sink);
    assert_int_equal(hh_tm_restore(e->tm, a, na), HH_OK);
    assert_int_equal(hh_tm_snapshot(e->tm, &b, &nb), HH_OK);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
    free(a);
    free(b);
}

static void restart_script(struct env *e, int restart_after)
{
    struct hh_signal a = sig("a", e->xyz, HH_BUY, 100, 98, 102, 104, 0, 2, -3);
    struct hh_signal b = sig("b", e->abc, HH_SELL, 200, 204, 196, 0, 0, 0, -2);
    struct hh_signal c = sig("c", e->xyz, HH_BUY, 100, 98, 103, 0, 0, 1, 6);
    static const double xyz[][4] = {
        { 100.5, 101, 99.5, 100.2 }, { 100.3, 101.5, 100.2, 101 }, { 101, 102.5, 100.8, 102.2 },
        { 102.2, 102.4, 99.7, 99.8 }, { 99.8, 100.6, 99.5, 100.5 }, { 100.4, 100.6, 100.1, 100.2 },
        { 100.2, 103.5, 100.1, 103 }, { 103, 103.2, 102, 102.5 },
    };

    e->cfg.volume_mult = HH_RATIO_SCALE / 2;
    e->cfg.volume_lookback = 3;
    e->cfg.max_open_trades = 2;
    env_start(e);
    feed(e, &a);
    feed(e, &b);
    for (int m = 0; m < 8; m++) {
        struct hh_bar bars[2] = {
            { T(m), e->xyz, P(xyz[m][0]), P(xyz[m][1]), P(xyz[m][2]), P(xyz[m][3]), 100 + m },
            { T(m), e->abc, P(200.5 - m * 0.5), P(201 - m * 0.5), P(199 - m * 0.5),
              P(199.8 - m * 0.5), 50 },
        };

        if (m == 6)
            feed(e, &c);
        hh_clock_advance(&e->clock, T(m));
        hh_tm_bars(e->tm, bars, 2);
        if (m == restart_after)
            restart(e);
    }
}

static void test_restart_is_identical(void **state)
{
    (void)state;
    for (int at = 0; at < 8; at++) {
        struct env *control = env_new(), *e = env_new();
        unsigned char *a, *b;
        size_t na, nb;

        restart_script(control, -1);
        restart_script(e, at);
        assert_true(control->rec.nfills > 2);
        assert_int_equal(e->rec.nfills, control->rec.nfills);
        for (int i = 0; i < e->rec.nfills; i++) {
            assert_int_equal(e->rec.fills[i].price, control->rec.fills[i].price);
            assert_int_equal(e->rec.fills[i].qty, control->rec.fills[i].qty);
            assert_int_equal(e->rec.fills[i].reason, control->rec.fills[i].reason);
            assert_int_equal(e->rec.fills[i].trade_id, control->rec.fills[i].trade_id);
        }
        assert_int_equal(e->rec.ntrades, control->rec.ntrades);
        assert_int_equal(hh_tm_snapshot(control->tm, &a, &na), HH_OK);
        assert_int_equal(hh_tm_snapshot(e->tm, &b, &nb), HH_OK);
        assert_int_equal(na, nb);
        assert_memory_equal(a, b, na);
        free(a);
        free(b);
        env_free(control);
        env_free(e);
    }
}

static void test_restore_refuses_garbage(void **state)
{
    struct env *e = env_new();
    unsigned char *a;
    size_t na;

    (void)state;
    env_start(e);
    assert_int_equal(hh_tm_snapshot(e->tm, &a, &na), HH_OK);
    a[na / 2] ^= 0xff;
    hh_tm_free(e->tm);
    {
        struct hh_tm_sink sink = { .fill = on_fill, .closed = on_closed, .rejected = on_rejected,
                                 .dropped = on_dropped, .ctx = &e->rec };

        e->tm = hh_tm_new(&e->cfg, e->inst, e->cal, &e->clock, hh_simex_broker(e->ex), &sink);
    }
    assert_int_equal(hh_tm_restore(e->tm, a, na - 1), HH_EINVAL);   /* truncated */
    memcpy(a, "XXTMSNAP", 8);
    assert_int_equal(hh_tm_restore(e->tm, a, na), HH_EINVAL);       /* not a snapshot */
    free(a);
    env_free(e);
}

/* After a gap (candles missed while the engine was down) the volume rule
 * is not met until volume_lookback candles completed after it: a mean of
 * candles with a hole in between is not the one the rule asks for, and an
 * empty history must not pass. */
static void test_volume_rule_waits_after_a_gap(void **state)
{
    struct env *e = env_new();
    struct hh_signal s = sig("v", e->xyz, HH_BUY, 100, 98, 104, 0, 0, 1, 2);

    (void)state;
    e->cfg.volume_mult = HH_RATIO_SCALE;   /* volume >= mean */
    e->cfg.volume_lookback = 2;
    env_start(e);
    bar(e, e->xyz, 0, 101, 102, 100.5, 101, 100);
    bar(e, e->xyz, 1, 101, 102, 100.5, 101, 100);
    hh_tm_candle_gap(e->tm, e->xyz);
    restart(e);                            /* the gap survives a restart */
    feed(e, &s);
    /* retest and volume (1000 >= anything) met, but the history restarts */
    bar(e, e->xyz, 5, 100.5, 101, 99.5, 100.2, 1000);
    bar(e, e->xyz, 6, 100.5, 101, 99.5, 100.2, 1000);
    bar(e, e->xyz, 7, 100.5, 101, 100.3, 100.6, 1);
    assert_int_equal(e->rec.nfills, 0);
    /* two candles after the gap: the rule judges again (mean 1000) */
    bar(e, e->xyz, 8, 100.5, 101, 99.5, 100.2, 1000);
    bar(e, e->xyz, 9, 100.4, 100.6, 100.3, 100.5, 1);
    assert_int_equal(e->rec.nfills, 1);
    expect_fill(e, 0, "v", HH_FR_ENTRY, 100.4, 1);
    env_free(e);
}

/* A gap means nothing without a volume rule. */
static void test_gap_without_volume_rule(void **state)
{
    struct env *e = env_new();
    struct hh_signal s = sig("v", e->xyz, HH_BUY, 100, 98, 104, 0, 0, 1, 2);
    uint64_t ch;

    (void)state;
    env_start(e);
    ch = hh_tm_changes(e->tm);
    hh_tm_candle_gap(e->tm, e->xyz);
    assert_int_equal(hh_tm_changes(e->tm), ch);
    feed(e, &s);
    bar(e, e->xyz, 5, 100.5, 101, 99.5, 100.2, 1);
    bar(e, e->xyz, 6, 100.4, 100.6, 100.3, 100.5, 1);
    assert_int_equal(e->rec.nfills, 1);
    env_free(e);
}

/* A checkpoint of version 6 — before candles were state — restores: the
 * candle section is absent, and so is the builder's state (as then). */
static void test_restore_version_6(void **state)
{
    struct env *e = env_new();
    struct hh_tm_sink sink = { .fill = on_fill, .closed = on_closed, .rejected = on_rejected,
                               .dropped = on_dropped, .ctx = &e->rec };
    struct hh_signal s = sig("v", e->xyz, HH_BUY, 100, 98, 104, 0, 0, 1, 2);
    unsigned char *a, *b;
    size_t na, nb;
    uint32_t v6 = 6;

    (void)state;
    env_start(e);
    feed(e, &s);
    assert_int_equal(hh_tm_snapshot(e->tm, &a, &na), HH_OK);
    /* version 7 ends with the candle section: here its flag word alone
     * (no builder); version 6 ended before it */
    memcpy(a + 8, &v6, 4);
    hh_tm_free(e->tm);
    e->tm = hh_tm_new(&e->cfg, e->inst, e->cal, &e->clock, hh_simex_broker(e->ex), &sink);
    assert_int_equal(hh_tm_restore(e->tm, a, na), HH_EINVAL);   /* a v6 has no such word */
    hh_tm_free(e->tm);
    e->tm = hh_tm_new(&e->cfg, e->inst, e->cal, &e->clock, hh_simex_broker(e->ex), &sink);
    assert_int_equal(hh_tm_restore(e->tm, a, na - 4), HH_OK);
    assert_false(hh_tm_candles_dropped(e->tm));
    assert_false(hh_tm_restore_rewrites(e->tm));
    assert_int_equal(hh_tm_snapshot(e->tm, &b, &nb), HH_OK);   /* written as version 7 */
    assert_int_equal(nb, na);
    assert_memory_equal(b + 12, a + 12, na - 12);
    bar(e, e->xyz, 5, 100.5, 101, 99.5, 100.2, 1);
    bar(e, e->xyz, 6, 100.4, 100.6, 100.3, 100.5, 1);
    assert_int_equal(e->rec.nfills, 1);   /* the restored trade trades */
    free(a);
    free(b);
    env_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stop_before_entry),
        cmocka_unit_test(test_stop_at_level_invalidates_sell),
        cmocka_unit_test(test_expired_and_uncounted_bars),
        cmocka_unit_test(test_retest_buy_and_sell),
        cmocka_unit_test(test_volume_and_pattern),
        cmocka_unit_test(test_volume_no_history_passes),
        cmocka_unit_test(test_volume_rule_waits_after_a_gap),
        cmocka_unit_test(test_gap_without_volume_rule),
        cmocka_unit_test(test_restore_version_6),
        cmocka_unit_test(test_touch_bars),
        cmocka_unit_test(test_touch_ticks_fill_next_tick),
        cmocka_unit_test(test_best_first_and_ties),
        cmocka_unit_test(test_max_open_and_one_per_symbol),
        cmocka_unit_test(test_sizing_compounds_and_caps),
        cmocka_unit_test(test_size_too_small_frees_slot_for_next_best),
        cmocka_unit_test(test_target_split_in_lots),
        cmocka_unit_test(test_fewer_lots_than_targets),
        cmocka_unit_test(test_path_nearer_extreme),
        cmocka_unit_test(test_path_tie_goes_against_position),
        cmocka_unit_test(test_gaps_at_open),
        cmocka_unit_test(test_breakeven_after_t1),
        cmocka_unit_test(test_breakeven_off),
        cmocka_unit_test(test_breakeven_counts_from_next_point),
        cmocka_unit_test(test_sell_mirror),
        cmocka_unit_test(test_tick_rules),
        cmocka_unit_test(test_squareoff_bars),
        cmocka_unit_test(test_no_entry_at_or_after_squareoff),
        cmocka_unit_test(test_squareoff_ticks_before_stop),
        cmocka_unit_test(test_slippage_bps),
        cmocka_unit_test(test_compounding_equity),
        cmocka_unit_test(test_restart_is_identical),
        cmocka_unit_test(test_restore_refuses_garbage),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
