/*
 * test_candle.c — the candle builder: alignment to the session open for
 * every timeframe, the cut last candle, gaps, out-of-session ticks, several
 * symbols, and when and in which order candles complete; the builder's
 * state through a checkpoint section, and the periods a restart missed.
 */
#include "testutil.h"

#include "core/calendar.h"
#include "core/instrument.h"
#include "core/time.h"
#include "market/candle.h"

#define MIN HH_NS_PER_MIN

/* What the callback saw. */
struct got {
    char sym[HH_SYMBOL_MAX];
    char start[40], end[40];     /* IST HH:MM:SS[.mmm] */
    struct hh_candle c;
};

struct sink {
    const struct hh_instruments *inst;
    struct got g[256];
    int n;
};

/* 2025-01-02 is a Thursday; times are IST. */
#define DAY "2025-01-02"

static hh_time_t at(const char *hms)
{
    char buf[64];
    hh_time_t t;

    if (strchr(hms, 'T'))
        snprintf(buf, sizeof buf, "%s+05:30", hms);
    else
        snprintf(buf, sizeof buf, DAY "T%s+05:30", hms);
    assert_int_equal(hh_time_parse(buf, strlen(buf), &t, NULL), HH_OK);
    return t;
}

/* Time of day of t as text, e.g. "09:15:00". */
static void tod(hh_time_t t, char *out)
{
    char buf[40];

    hh_time_format(t, buf, sizeof buf);
    snprintf(out, 40, "%.*s", (int)(strlen(buf) - 6 - 11), buf + 11);
}

static void on_candle(void *ctx, const struct hh_candle *c)
{
    struct sink *s = ctx;
    struct got *g;

    assert_true(s->n < 256);
    g = &s->g[s->n++];
    snprintf(g->sym, sizeof g->sym, "%s", hh_inst_get(s->inst, c->iid)->symbol);
    tod(c->ts, g->start);
    tod(c->end, g->end);
    g->c = *c;
}

struct env {
    struct hh_instruments *inst;
    struct hh_calendar *cal;
    struct hh_candles *cb;
    struct sink sink;
};

static void env_new(struct env *e, int64_t tf)
{
    memset(e, 0, sizeof *e);
    e->inst = hh_inst_new();
    e->cal = hh_cal_new();
    e->cb = hh_candles_new(e->inst, e->cal, tf);
    assert_non_null(e->cb);
    e->sink.inst = e->inst;
}

static void env_free(struct env *e)
{
    hh_candles_free(e->cb);
    hh_cal_free(e->cal);
    hh_inst_free(e->inst);
}

/* Feed one tick (price in rupees x 100); returns hh_candles_tick's verdict. */
static bool feed(struct env *e, const char *hms, const char *sym, int64_t paise, int64_t qty)
{
    struct hh_tick t = { 0 };

    assert_int_equal(hh_inst_intern(e->inst, sym, strlen(sym), &t.iid), HH_OK);
    t.ts = at(hms);
    t.price = paise * HH_PAISA;
    t.qty = qty;
    return hh_candles_tick(e->cb, &t, on_candle, &e->sink);
}

static void flush(struct env *e)
{
    hh_candles_flush(e->cb, on_candle, &e->sink);
}

#define assert_candle(g, sym_, start_, end_)                   \
    do {                                                       \
        assert_string_equal((g).sym, sym_);                    \
        assert_string_equal((g).start, start_);                \
        assert_string_equal((g).end, end_);                    \
    } while (0)

/* ---- alignment ---------------------------------------------------------- */

/* The bucket of one tick at `hms` for timeframe tf. */
static struct got one(int64_t tf, const char *hms)
{
    struct env e;
    struct got g;

    env_new(&e, tf);
    assert_true(feed(&e, hms, "A", 10000, 1));
    flush(&e);
    assert_int_equal(e.sink.n, 1);
    g = e.sink.g[0];
    env_free(&e);
    return g;
}

static void test_alignment_all_timeframes(void **state)
{
    (void)state;
    assert_candle(one(1 * MIN, "09:15:00"), "A", "09:15:00", "09:16:00");
    assert_candle(one(1 * MIN, "09:15:59.999"), "A", "09:15:00", "09:16:00");
    assert_candle(one(1 * MIN, "15:29:30"), "A", "15:29:00", "15:30:00");
    assert_candle(one(3 * MIN, "09:17:59"), "A", "09:15:00", "09:18:00");
    assert_candle(one(3 * MIN, "09:18:00"), "A", "09:18:00", "09:21:00");
    assert_candle(one(3 * MIN, "15:29:59"), "A", "15:27:00", "15:30:00");
    assert_candle(one(5 * MIN, "09:19:59"), "A", "09:15:00", "09:20:00");
    assert_candle(one(5 * MIN, "10:00:00"), "A", "10:00:00", "10:05:00");
    assert_candle(one(5 * MIN, "15:25:00"), "A", "15:25:00", "15:30:00");
    assert_candle(one(15 * MIN, "09:44:00"), "A", "09:30:00", "09:45:00");
    assert_candle(one(15 * MIN, "15:29:00"), "A", "15:15:00", "15:30:00");
    assert_candle(one(30 * MIN, "09:45:00"), "A", "09:45:00", "10:15:00");
    assert_candle(one(30 * MIN, "15:20:00"), "A", "15:15:00", "15:30:00");   /* cut */
    assert_candle(one(60 * MIN, "09:15:00"), "A", "09:15:00", "10:15:00");
    assert_candle(one(60 * MIN, "14:15:00"), "A", "14:15:00", "15:15:00");
    assert_candle(one(60 * MIN, "15:15:00"), "A", "15:15:00", "15:30:00");   /* cut */
    assert_candle(one(60 * MIN, "15:29:59.999"), "A", "15:15:00", "15:30:00");
}

static void test_ohlcv(void **state)
{
    struct env e;
    struct hh_candle *c;

    (void)state;
    env_new(&e, 5 * MIN);
    feed(&e, "09:15:01", "A", 10000, 3);
    feed(&e, "09:16:00", "A", 10250, 1);
    feed(&e, "09:17:00", "A", 9900, 2);
    feed(&e, "09:19:59.999", "A", 10005, 4);
    assert_int_equal(e.sink.n, 0);
    flush(&e);
    assert_int_equal(e.sink.n, 1);
    c = &e.sink.g[0].c;
    assert_int_equal(c->open, 1000000);
    assert_int_equal(c->high, 1025000);
    assert_int_equal(c->low, 990000);
    assert_int_equal(c->close, 1000500);
    assert_int_equal(c->volume, 10);
    assert_int_equal(c->ticks, 4);
    assert_int_equal(c->ts, at("09:15:00"));
    assert_int_equal(c->end, at("09:20:00"));
    env_free(&e);
}

static void test_gaps_make_no_candles(void **state)
{
    struct env e;

    (void)state;
    env_new(&e, 1 * MIN);
    feed(&e, "09:15:10", "A", 100, 1);
    feed(&e, "09:20:10", "A", 101, 1);   /* 09:16..09:19 empty */
    feed(&e, "11:00:00", "A", 102, 1);
    flush(&e);
    assert_int_equal(e.sink.n, 3);
    assert_candle(e.sink.g[0], "A", "09:15:00", "09:16:00");
    assert_candle(e.sink.g[1], "A", "09:20:00", "09:21:00");
    assert_candle(e.sink.g[2], "A", "11:00:00", "11:01:00");
    env_free(&e);
}

static void test_out_of_session(void **state)
{
    struct env e;

    (void)state;
    env_new(&e, 5 * MIN);
    assert_false(feed(&e, "09:00:16", "A", 100, 1));        /* pre-open */
    assert_false(feed(&e, "09:14:59.999", "A", 100, 1));
    assert_true(feed(&e, "09:15:00", "A", 101, 1));
    assert_true(feed(&e, "15:29:59.999", "A", 102, 1));
    assert_false(feed(&e, "15:30:00", "A", 103, 1));        /* the close: half-open */
    assert_false(feed(&e, "15:45:00", "A", 104, 1));
    assert_int_equal(hh_candles_out_of_session(e.cb), 4);
    flush(&e);
    assert_int_equal(e.sink.n, 2);
    assert_candle(e.sink.g[0], "A", "09:15:00", "09:20:00");
    assert_candle(e.sink.g[1], "A", "15:25:00", "15:30:00");
    assert_int_equal(e.sink.g[1].c.close, 102 * HH_PAISA);
    env_free(&e);
}

static void test_next_day(void **state)
{
    struct env e;

    (void)state;
    env_new(&e, 60 * MIN);
    feed(&e, "15:20:00", "A", 100, 1);
    feed(&e, "2025-01-03T09:15:00", "A", 200, 1);
    flush(&e);
    assert_int_equal(e.sink.n, 2);
    assert_candle(e.sink.g[0], "A", "15:15:00", "15:30:00");
    assert_candle(e.sink.g[1], "A", "09:15:00", "10:15:00");
    assert_int_equal(hh_time_ist_date(e.sink.g[1].c.ts), hh_date_from_ymd(2025, 1, 3));
    env_free(&e);
}

/* ---- completion ----------------------------------------------------------- */

static void test_completion_at_first_tick_at_or_after_end(void **state)
{
    struct env e;

    (void)state;
    env_new(&e, 1 * MIN);
    feed(&e, "09:15:10", "A", 100, 1);
    feed(&e, "09:15:59.999", "B", 100, 1);
    assert_int_equal(e.sink.n, 0);                /* A's 09:15 candle still open */
    feed(&e, "09:16:00", "B", 100, 1);            /* another symbol's tick at the end */
    assert_int_equal(e.sink.n, 2);
    assert_candle(e.sink.g[0], "A", "09:15:00", "09:16:00");
    assert_candle(e.sink.g[1], "B", "09:15:00", "09:16:00");
    /* An out-of-session tick moves time on too. */
    feed(&e, "15:29:00", "A", 100, 1);
    assert_int_equal(e.sink.n, 3);                /* B's 09:16 */
    assert_false(feed(&e, "15:30:00", "C", 100, 1));
    assert_int_equal(e.sink.n, 4);
    assert_candle(e.sink.g[3], "A", "15:29:00", "15:30:00");
    flush(&e);
    assert_int_equal(e.sink.n, 4);
    env_free(&e);
}

static void test_completion_order_start_then_symbol(void **state)
{
    struct env e;

    (void)state;
    env_new(&e, 5 * MIN);
    /* Interned in reverse byte order: ZETA gets the smallest id. */
    feed(&e, "09:15:00", "ZETA", 100, 1);
    feed(&e, "09:16:00", "BETA", 100, 1);
    feed(&e, "09:17:00", "ALPHA", 100, 1);
    feed(&e, "09:18:00", "ALPHAB", 100, 1);
    feed(&e, "09:25:00", "ZETA", 100, 1);   /* completes all four at once */
    assert_int_equal(e.sink.n, 4);
    assert_candle(e.sink.g[0], "ALPHA", "09:15:00", "09:20:00");
    assert_candle(e.sink.g[1], "ALPHAB", "09:15:00", "09:20:00");
    assert_candle(e.sink.g[2], "BETA", "09:15:00", "09:20:00");
    assert_candle(e.sink.g[3], "ZETA", "09:15:00", "09:20:00");
    feed(&e, "09:26:00", "ALPHA", 100, 1);
    flush(&e);                              /* the rest, also in order */
    assert_int_equal(e.sink.n, 6);
    assert_candle(e.sink.g[4], "ALPHA", "09:25:00", "09:30:00");
    assert_candle(e.sink.g[5], "ZETA", "09:25:00", "09:30:00");
    env_free(&e);
}

static void test_many_symbols_interleaved(void **state)
{
    struct env e;
    char sym[16];

    (void)state;
    env_new(&e, 1 * MIN);
    /* 40 symbols (the state arrays grow past their first size). */
    for (int k = 0; k < 3; k++) {
        for (int i = 39; i >= 0; i--) {
            char hms[32];

            snprintf(sym, sizeof sym, "S%02d", i);
            snprintf(hms, sizeof hms, "09:%02d:%02d", 15 + k, 39 - i);
            feed(&e, hms, sym, 100 + i, 1 + k);
        }
    }
    flush(&e);
    assert_int_equal(e.sink.n, 120);
    for (int i = 0; i < 120; i++) {
        char start[32];

        snprintf(sym, sizeof sym, "S%02d", i % 40);
        snprintf(start, sizeof start, "09:%02d:00", 15 + i / 40);
        assert_string_equal(e.sink.g[i].sym, sym);
        assert_string_equal(e.sink.g[i].start, start);
        assert_int_equal(e.sink.g[i].c.volume, 1 + i / 40);
    }
    env_free(&e);

    env_new(&e, 1 * MIN);
    for (int i = 0; i < 40; i++) {
        snprintf(sym, sizeof sym, "S%02d", 39 - i);
        feed(&e, "09:15:00", sym, 100, 1);
    }
    feed(&e, "09:16:00", "S00", 100, 1);
    assert_int_equal(e.sink.n, 40);
    for (int i = 0; i < 40; i++) {
        snprintf(sym, sizeof sym, "S%02d", i);
        assert_string_equal(e.sink.g[i].sym, sym);
    }
    env_free(&e);
}

/* MCX aligns to 09:00; a cut NSE candle can complete before an earlier
 * MCX one: the builder reports in completion order. */
static void test_segments(void **state)
{
    struct env e;
    struct hh_instrument mcx = { 0 };
    hh_iid_t id;

    (void)state;
    env_new(&e, 60 * MIN);
    snprintf(mcx.symbol, sizeof mcx.symbol, "CRUDEOIL");
    snprintf(mcx.underlying, sizeof mcx.underlying, "CRUDEOIL");
    mcx.exch = HH_EXCH_MCX;
    mcx.seg = HH_SEG_COMMODITY;
    mcx.type = HH_INST_FUT;
    mcx.expiry = hh_date_from_ymd(2025, 1, 20);
    mcx.lot_size = 100;
    mcx.tick = HH_RUPEE;
    mcx.known = true;
    assert_int_equal(hh_inst_add(e.inst, &mcx, &id), HH_OK);
    assert_true(feed(&e, "09:05:00", "CRUDEOIL", 600000, 1));
    assert_false(feed(&e, "09:05:00", "NIFTY", 2300000, 1));
    assert_true(feed(&e, "15:10:00", "CRUDEOIL", 600000, 1));   /* completes 09:00 */
    assert_true(feed(&e, "15:20:00", "NIFTY", 2300000, 1));
    assert_true(feed(&e, "15:30:00", "CRUDEOIL", 600000, 1));   /* NIFTY's cut 15:15 */
    assert_true(feed(&e, "16:00:00", "CRUDEOIL", 600000, 1));   /* CRUDE's 15:00 */
    assert_int_equal(e.sink.n, 3);
    assert_candle(e.sink.g[0], "CRUDEOIL", "09:00:00", "10:00:00");
    assert_candle(e.sink.g[1], "NIFTY", "15:15:00", "15:30:00");
    assert_candle(e.sink.g[2], "CRUDEOIL", "15:00:00", "16:00:00");
    assert_true(feed(&e, "23:54:59", "CRUDEOIL", 600000, 1));
    assert_false(feed(&e, "23:55:00", "CRUDEOIL", 600000, 1));
    flush(&e);
    assert_int_equal(e.sink.n, 5);
    /* January: no US daylight saving, MCX closes 23:55. */
    assert_candle(e.sink.g[4], "CRUDEOIL", "23:00:00", "23:55:00");
    env_free(&e);
}

/* A day the calendar calls closed: data present still builds candles on
 * the segment's normal hours (special sessions). */
static void test_closed_day_uses_rules(void **state)
{
    struct env e;

    (void)state;
    env_new(&e, 5 * MIN);
    assert_int_equal(hh_cal_add_holiday(e.cal, hh_date_from_ymd(2025, 1, 2), HH_EXCH_NSE),
                     HH_OK);
    assert_true(feed(&e, "09:16:00", "A", 100, 1));
    assert_true(feed(&e, "09:20:00", "B", 100, 1));
    flush(&e);
    assert_int_equal(e.sink.n, 2);
    assert_candle(e.sink.g[0], "A", "09:15:00", "09:20:00");
    assert_candle(e.sink.g[1], "B", "09:20:00", "09:25:00");
    env_free(&e);

    env_new(&e, 5 * MIN);
    assert_true(feed(&e, "2024-01-20T09:16:00", "A", 100, 1));   /* a Saturday */
    assert_false(feed(&e, "2024-01-20T15:31:00", "A", 100, 1));
    flush(&e);
    assert_int_equal(e.sink.n, 1);
    assert_candle(e.sink.g[0], "A", "09:15:00", "09:20:00");
    env_free(&e);
}

static void test_late_tick_and_misc(void **state)
{
    struct env e;

    (void)state;
    assert_null(hh_candles_new(NULL, NULL, MIN));
    hh_candles_free(NULL);
    env_new(&e, MIN);
    assert_null(hh_candles_new(e.inst, NULL, 0));
    assert_true(feed(&e, "09:20:00", "A", 100, 1));
    assert_false(feed(&e, "09:19:00", "A", 100, 1));
    assert_int_equal(hh_candles_late(e.cb), 1);
    assert_int_equal(hh_candles_out_of_session(e.cb), 0);
    assert_int_equal(hh_candles_error(e.cb), HH_OK);
    flush(&e);
    flush(&e);
    assert_int_equal(e.sink.n, 1);
    env_free(&e);

    /* Without a calendar. */
    {
        struct hh_instruments *inst = hh_inst_new();
        struct hh_candles *cb = hh_candles_new(inst, NULL, MIN);
        struct sink s = { .inst = inst };
        struct hh_tick t = { .ts = at("09:15:00"), .price = 1, .qty = 1 };

        assert_int_equal(hh_inst_intern(inst, "A", 1, &t.iid), HH_OK);
        assert_true(hh_candles_tick(cb, &t, on_candle, &s));
        hh_candles_flush(cb, on_candle, &s);
        assert_int_equal(s.n, 1);
        hh_candles_free(cb);
        hh_inst_free(inst);
    }
}

static void test_volume_overflow_is_an_error(void **state)
{
    struct env e;

    (void)state;
    env_new(&e, MIN);
    feed(&e, "09:15:00", "A", 100, INT64_MAX);
    feed(&e, "09:15:01", "A", 100, 1);
    assert_int_equal(hh_candles_error(e.cb), HH_EOVERFLOW);
    flush(&e);
    assert_int_equal(e.sink.g[0].c.volume, INT64_MAX);
    env_free(&e);
}

/* ---- restart: the builder's state in a checkpoint ---------------------------- */

/* A builder restored from e's section (written, then read into a new one). */
static void restart(struct env *e)
{
    struct hh_ser_w w = { 0 }, again = { 0 };
    struct hh_ser_r r;

    hh_candles_write(e->cb, &w);
    assert_false(w.oom);
    hh_candles_free(e->cb);
    e->cb = hh_candles_new(e->inst, e->cal, MIN);
    r = hh_ser_reader(w.p, w.n);
    assert_int_equal(hh_candles_read(e->cb, &r), HH_OK);
    assert_int_equal(r.at, r.n);
    assert_true(hh_candles_restored(e->cb));
    hh_candles_write(e->cb, &again);   /* restored, it writes the same bytes */
    assert_int_equal(again.n, w.n);
    assert_memory_equal(again.p, w.p, w.n);
    assert_int_equal(again.ncut, w.ncut);
    hh_ser_w_free(&w);
    hh_ser_w_free(&again);
}

/* A restart mid-candle continues the very candle: open, high, low, close,
 * volume and tick count as if the builder had never stopped. */
static void test_restore_continues_the_candle(void **state)
{
    struct env e;

    (void)state;
    env_new(&e, MIN);
    feed(&e, "09:14:00", "A", 100, 1);     /* out of session: counted */
    feed(&e, "09:15:05", "A", 10100, 10);
    feed(&e, "09:15:10", "B", 5000, 7);
    feed(&e, "09:15:20", "A", 9950, 20);
    feed(&e, "09:15:20", "B", 5100, 1);
    restart(&e);
    assert_int_equal(hh_candles_out_of_session(e.cb), 1);
    assert_int_equal(e.sink.n, 0);
    feed(&e, "09:15:40", "A", 10050, 5);
    feed(&e, "09:16:00", "A", 10060, 1);
    assert_int_equal(e.sink.n, 2);
    assert_candle(e.sink.g[0], "A", "09:15:00", "09:16:00");
    assert_int_equal(e.sink.g[0].c.open, 10100 * HH_PAISA);
    assert_int_equal(e.sink.g[0].c.high, 10100 * HH_PAISA);
    assert_int_equal(e.sink.g[0].c.low, 9950 * HH_PAISA);
    assert_int_equal(e.sink.g[0].c.close, 10050 * HH_PAISA);
    assert_int_equal(e.sink.g[0].c.volume, 35);
    assert_int_equal(e.sink.g[0].c.ticks, 3);
    assert_candle(e.sink.g[1], "B", "09:15:00", "09:16:00");
    assert_int_equal(e.sink.g[1].c.volume, 8);
    assert_int_equal(e.sink.g[1].c.close, 5100 * HH_PAISA);
    /* a tick before the restored one is late, as before the restart */
    assert_false(feed(&e, "09:15:59", "A", 100, 1));
    assert_int_equal(hh_candles_late(e.cb), 1);
    env_free(&e);
}

struct gaps {
    struct hh_candle_gap g[8];
    int n;
};

static void on_gap(void *ctx, const struct hh_candle_gap *g)
{
    struct gaps *s = ctx;

    assert_true(s->n < 8);
    s->g[s->n++] = *g;
}

static struct gaps gaps_of(struct env *e, const char *from, const char *to)
{
    struct gaps s = { .n = 0 };

    hh_candles_gaps(e->cb, at(from), at(to), on_gap, &s);
    return s;
}

/* Periods that ended unwatched are counted, never invented: the restored
 * candle completes as it was at the first tick after the gap. */
static void test_restore_across_a_gap(void **state)
{
    struct env e;
    struct gaps g;

    (void)state;
    env_new(&e, MIN);
    feed(&e, "09:15:05", "A", 10100, 10);
    feed(&e, "09:15:20", "A", 9950, 20);
    feed(&e, "09:15:25", "B", 5000, 1);
    restart(&e);
    /* within the candle's period: no gap */
    g = gaps_of(&e, "09:15:25", "09:15:59");
    assert_int_equal(g.n, 0);
    /* 09:16, 09:17, 09:18 ended unseen; 09:16 and 09:17 were missed whole */
    g = gaps_of(&e, "09:15:25", "09:18:10");
    assert_int_equal(g.n, 2);
    assert_int_equal(g.g[0].iid, 0);
    assert_int_equal(g.g[0].ended, 3);
    assert_int_equal(g.g[0].missing, 2);
    assert_int_equal(g.g[1].ended, 3);
    feed(&e, "09:18:10", "A", 10200, 1);
    assert_int_equal(e.sink.n, 2);      /* the two restored candles, nothing between */
    assert_candle(e.sink.g[0], "A", "09:15:00", "09:16:00");
    assert_int_equal(e.sink.g[0].c.close, 9950 * HH_PAISA);
    assert_int_equal(e.sink.g[0].c.volume, 30);
    assert_candle(e.sink.g[1], "B", "09:15:00", "09:16:00");
    flush(&e);
    assert_candle(e.sink.g[2], "A", "09:18:00", "09:19:00");
    /* over a night: the last period of the day ended unseen, none missing */
    g = gaps_of(&e, "15:29:30", "2025-01-03T09:15:10");
    assert_int_equal(g.n, 2);
    assert_int_equal(g.g[0].ended, 1);
    assert_int_equal(g.g[0].missing, 0);
    /* stopped after the close, back before the open: nothing was missed */
    g = gaps_of(&e, "16:00:00", "2025-01-03T09:15:10");
    assert_int_equal(g.n, 0);
    /* Friday 15:00 to Monday 09:17:30: 30 ends on Friday, 2 on Monday; the
     * weekend has no periods */
    g = gaps_of(&e, "2025-01-03T15:00:00", "2025-01-06T09:17:30");
    assert_int_equal(g.g[0].ended, 32);
    assert_int_equal(g.g[0].missing, 31);
    env_free(&e);
}

/* What is not a section this builder could have written is refused, and
 * leaves the builder empty; another timeframe's is dropped. */
static void test_restore_refusals(void **state)
{
    struct env e;
    struct hh_ser_w w = { 0 };
    struct hh_ser_r r;
    struct hh_candles *other;

    (void)state;
    env_new(&e, MIN);
    feed(&e, "09:15:05", "A", 10100, 10);
    hh_candles_write(e.cb, &w);
    r = hh_ser_reader(w.p, w.n);
    assert_int_equal(hh_candles_read(e.cb, &r), HH_ESTATE);   /* ticks were fed */

    other = hh_candles_new(e.inst, e.cal, 5 * MIN);
    r = hh_ser_reader(w.p, w.n);
    assert_int_equal(hh_candles_read(other, &r), HH_ECONFIG);
    assert_int_equal(r.at, r.n);
    assert_false(hh_candles_restored(other));
    assert_int_equal(hh_candles_last(other), HH_TIME_NONE);
    hh_candles_free(other);

    other = hh_candles_new(e.inst, e.cal, MIN);
    r = hh_ser_reader(w.p, w.n - 1);                        /* truncated */
    assert_int_equal(hh_candles_read(other, &r), HH_EINVAL);
    w.p[w.n - 4 - 8 * 7 + 16] ^= 1;   /* the candle's open above its high */
    r = hh_ser_reader(w.p, w.n);
    assert_int_equal(hh_candles_read(other, &r), HH_EINVAL);
    assert_false(hh_candles_restored(other));
    hh_candles_free(other);
    hh_ser_w_free(&w);
    env_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alignment_all_timeframes),
        cmocka_unit_test(test_ohlcv),
        cmocka_unit_test(test_gaps_make_no_candles),
        cmocka_unit_test(test_out_of_session),
        cmocka_unit_test(test_next_day),
        cmocka_unit_test(test_completion_at_first_tick_at_or_after_end),
        cmocka_unit_test(test_completion_order_start_then_symbol),
        cmocka_unit_test(test_many_symbols_interleaved),
        cmocka_unit_test(test_segments),
        cmocka_unit_test(test_closed_day_uses_rules),
        cmocka_unit_test(test_late_tick_and_misc),
        cmocka_unit_test(test_volume_overflow_is_an_error),
        cmocka_unit_test(test_restore_continues_the_candle),
        cmocka_unit_test(test_restore_across_a_gap),
        cmocka_unit_test(test_restore_refusals),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
