/*
 * engine.c — the core's market events and its own sources (engine.h).
 *
 * Invariants:
 *  - the clock never moves back: every event advances it to the event's
 *    time first (hh_clock_advance refuses going back; an event older than
 *    the clock is processed at the clock's time);
 *  - after a tick that completed candles, one selection runs before the
 *    tick itself reaches the trade manager (SPEC §5a: the entry fills at
 *    the first tick of its symbol after the decision).
 */
#include "engine/engine.h"

#include "core/grow.h"
#include "market/candle.h"

#include <stdlib.h>
#include <string.h>

/* One instrument's segment hours on the IST day [day_lo, day_hi) (bars'
 * in-session check): the rules change at most once a day, the bars every
 * minute.  day_lo == day_hi == 0: nothing cached yet. */
struct eng_session {
    hh_time_t day_lo, day_hi;     /* ns since epoch, UTC */
    hh_time_t open, close;        /* hh_cal_session_rules of that day, as given */
};

struct hh_eng {
    const struct hh_instruments *inst;
    const struct hh_calendar *cal;
    struct hh_clock *clock;
    struct hh_broker broker;
    struct hh_tm *tm;
    struct hh_candles *cb;
    struct hh_eng_observer obs;
    struct hh_eng_stats st;
    hh_time_t horizon;            /* no timer fires after it */
    bool market_seen;             /* the first market event was told */
    uint64_t bars_out_of_session; /* the candle builder counts the ticks' */
    bool completed;               /* a candle completed at this tick */
    hh_time_t gap_from;           /* hh_eng_watch_gap: watched nothing after it
                                     (HH_TIME_NONE: no gap to look for) */
    hh_time_t cut_after;          /* during a gap's tick: a candle ending after it
                                     ended unseen (else HH_TIME_MAX) */
    struct eng_session *sess;     /* bars' session cache, by instrument id */
    size_t nsess;
};

static const struct hh_ev_key KEY_NONE = { HH_TIME_MAX, HH_EV_MARKET, UINT64_MAX };

struct hh_eng *hh_eng_new(const struct hh_tm_config *tc, const struct hh_instruments *inst,
                          const struct hh_calendar *cal, struct hh_clock *clock,
                          struct hh_broker broker, const struct hh_tm_sink *sink,
                          int64_t timeframe, const struct hh_eng_observer *obs)
{
    struct hh_eng *e = calloc(1, sizeof *e);

    if (!e)
        return NULL;
    e->inst = inst;
    e->cal = cal;
    e->clock = clock;
    e->broker = broker;
    e->horizon = HH_TIME_MAX;
    e->gap_from = HH_TIME_NONE;
    e->cut_after = HH_TIME_MAX;
    if (obs)
        e->obs = *obs;
    e->tm = hh_tm_new(tc, inst, cal, clock, broker, sink);
    e->cb = hh_candles_new(inst, cal, timeframe);
    if (!e->tm || !e->cb) {
        hh_eng_free(e);
        return NULL;
    }
    hh_tm_set_candles(e->tm, e->cb);   /* its state rides in the checkpoints */
    return e;
}

void hh_eng_free(struct hh_eng *e)
{
    if (!e)
        return;
    hh_tm_free(e->tm);
    hh_candles_free(e->cb);
    free(e->sess);
    free(e);
}

struct hh_tm *hh_eng_tm(const struct hh_eng *e)
{
    return e->tm;
}

const struct hh_eng_stats *hh_eng_stats(struct hh_eng *e)
{
    e->st.out_of_session = e->bars_out_of_session + hh_candles_out_of_session(e->cb);
    return &e->st;
}

int hh_eng_error(const struct hh_eng *e)
{
    return hh_candles_error(e->cb);
}

void hh_eng_set_horizon(struct hh_eng *e, hh_time_t t)
{
    e->horizon = t;
}

static void advance(struct hh_eng *e, hh_time_t t)
{
    if (e->clock->now == HH_TIME_NONE || t > e->clock->now)
        hh_clock_advance(e->clock, t);
}

static void first_market(struct hh_eng *e, hh_time_t t)
{
    if (e->market_seen)
        return;
    e->market_seen = true;
    if (e->obs.market)
        e->obs.market(e->obs.ctx, t);
}

static void step_done(struct hh_eng *e, enum hh_ev_class cls)
{
    if (e->obs.step)
        e->obs.step(e->obs.ctx, cls);
}

/* ---- market events --------------------------------------------------------------- */

static void on_candle(void *ctx, const struct hh_candle *c)
{
    struct hh_eng *e = ctx;
    struct hh_bar b = { c->ts, c->iid, c->open, c->high, c->low, c->close, c->volume };

    if (c->end > e->cut_after) {
        /* its end passed unwatched: kept on the chart, never judged */
        if (e->obs.candle)
            e->obs.candle(e->obs.ctx, &b);
        return;
    }
    e->completed = true;
    hh_tm_candle(e->tm, c);
    if (e->obs.candle)
        e->obs.candle(e->obs.ctx, &b);
}

static void no_candle(void *ctx, const struct hh_candle *c)
{
    (void)ctx;
    (void)c;
}

static void on_gap(void *ctx, const struct hh_candle_gap *g)
{
    struct hh_eng *e = ctx;

    hh_tm_candle_gap(e->tm, g->iid);
    if (e->obs.gap)
        e->obs.gap(e->obs.ctx, g);
}

void hh_eng_watch_gap(struct hh_eng *e, hh_time_t seen)
{
    hh_time_t last = hh_candles_last(e->cb);

    if (!hh_candles_restored(e->cb) || seen == HH_TIME_NONE)
        return;
    e->gap_from = last != HH_TIME_NONE && last > seen ? last : seen;
}

void hh_eng_tick(struct hh_eng *e, const struct hh_tick *t)
{
    bool in;

    e->st.ticks++;
    first_market(e, t->ts);
    advance(e, t->ts);
    e->completed = false;
    if (e->gap_from != HH_TIME_NONE) {
        hh_candles_gaps(e->cb, e->gap_from, t->ts, on_gap, e);
        e->cut_after = e->gap_from;
        e->gap_from = HH_TIME_NONE;
    }
    in = hh_candles_tick(e->cb, t, on_candle, e);
    e->cut_after = HH_TIME_MAX;
    if (e->completed)
        hh_tm_select(e->tm);
    if (in)
        hh_tm_tick(e->tm, t);
    step_done(e, HH_EV_MARKET);
}

void hh_eng_warm_tick(struct hh_eng *e, const struct hh_tick *t)
{
    e->st.warm_ticks++;
    if (!hh_candles_restored(e->cb))
        hh_candles_tick(e->cb, t, no_candle, NULL);
}

void hh_eng_half_tick(struct hh_eng *e, const struct hh_tick *t)
{
    bool in;

    e->st.ticks++;
    advance(e, t->ts);
    if (hh_candles_restored(e->cb))
        in = hh_candles_in_session(e->cb, t);
    else
        in = hh_candles_tick(e->cb, t, no_candle, NULL);
    if (in)
        hh_tm_tick(e->tm, t);
    step_done(e, HH_EV_MARKET);
}

/* The session of iid's segment on the IST day holding t, from the cache
 * (loaded on a new day).  Out of memory for the cache: computed into *tmp
 * and returned from there. */
static const struct eng_session *session_of(struct hh_eng *e, hh_iid_t iid, hh_time_t t,
                                            struct eng_session *tmp)
{
    struct eng_session *c = tmp;
    struct hh_session ss;
    hh_date_t date;

    if (iid < e->nsess) {
        c = &e->sess[iid];
        if (t >= c->day_lo && t < c->day_hi)
            return c;
    } else {
        size_t had = e->nsess;

        if (!hh_grow(&e->sess, &e->nsess, (size_t)iid + 1, sizeof *e->sess)) {
            memset(e->sess + had, 0, (e->nsess - had) * sizeof *e->sess);
            c = &e->sess[iid];
        }
    }
    date = hh_time_ist_date(t);
    hh_cal_session_rules(hh_inst_get(e->inst, iid)->seg, date, &ss);
    c->day_lo = hh_time_from_ist(date, 0);
    c->day_hi = c->day_lo + HH_NS_PER_DAY;
    c->open = ss.open;
    c->close = ss.close;
    return c;
}

/* A bar trades inside its segment's normal hours (the data is the witness of
 * the day: special sessions on days the calendar calls closed still count). */
static bool in_session(struct hh_eng *e, hh_iid_t iid, hh_time_t t)
{
    struct eng_session tmp;
    const struct eng_session *c = session_of(e, iid, t, &tmp);

    return t >= c->open && t < c->close;
}

void hh_eng_bars(struct hh_eng *e, const struct hh_bar *bars, size_t n)
{
    if (n == 0)
        return;
    advance(e, bars[0].ts);
    hh_tm_bars(e->tm, bars, n);
    step_done(e, HH_EV_MARKET);
}

/* ---- the engine's own sources ---------------------------------------------------- */

static enum hh_src_state arrivals_peek(void *impl, struct hh_ev_key *key)
{
    struct hh_eng *e = impl;
    hh_time_t t;
    uint64_t seq;

    if (!hh_tm_next_arrival(e->tm, &t, &seq))
        return HH_SRC_END;
    *key = (struct hh_ev_key){ t, HH_EV_SIGNAL, seq };
    return HH_SRC_READY;
}

static int arrivals_take(void *impl, const struct hh_ev_key *bound)
{
    struct hh_eng *e = impl;
    hh_time_t t;
    uint64_t seq;
    int rc;

    (void)bound;
    if (!hh_tm_next_arrival(e->tm, &t, &seq))
        return HH_OK;
    advance(e, t);
    rc = hh_tm_arrive(e->tm);
    step_done(e, HH_EV_SIGNAL);
    return rc;
}

static enum hh_src_state timers_peek(void *impl, struct hh_ev_key *key)
{
    struct hh_eng *e = impl;
    hh_time_t t = hh_tm_next_timer(e->tm);

    if (t == HH_TIME_MAX || t > e->horizon)
        return HH_SRC_END;
    *key = (struct hh_ev_key){ t, HH_EV_TIMER, 0 };
    return HH_SRC_READY;
}

static int timers_take(void *impl, const struct hh_ev_key *bound)
{
    struct hh_eng *e = impl;
    hh_time_t t = hh_tm_next_timer(e->tm);

    (void)bound;
    advance(e, t);
    hh_tm_fire_timers(e->tm, e->clock->now);
    step_done(e, HH_EV_TIMER);
    return HH_OK;
}

static enum hh_src_state broker_peek(void *impl, struct hh_ev_key *key)
{
    struct hh_eng *e = impl;
    hh_time_t t = e->broker.ops->next_due(e->broker.impl);

    if (t == HH_TIME_MAX)
        return HH_SRC_END;
    *key = (struct hh_ev_key){ t, HH_EV_BROKER, 0 };
    return HH_SRC_READY;
}

static int broker_take(void *impl, const struct hh_ev_key *bound)
{
    struct hh_eng *e = impl;

    (void)bound;
    advance(e, e->broker.ops->next_due(e->broker.impl));
    e->broker.ops->pump(e->broker.impl);
    step_done(e, HH_EV_BROKER);
    return HH_OK;
}

static const struct hh_source_ops arrivals_ops = { arrivals_peek, arrivals_take };
static const struct hh_source_ops timers_ops = { timers_peek, timers_take };
static const struct hh_source_ops broker_ops = { broker_peek, broker_take };

int hh_eng_add_sources(struct hh_eng *e, struct hh_loop *L)
{
    int rc = hh_loop_add(L, (struct hh_source){ &arrivals_ops, e, "signals", NULL });

    if (!rc)
        rc = hh_loop_add(L, (struct hh_source){ &timers_ops, e, "timers", NULL });
    if (!rc && e->broker.ops->next_due && e->broker.ops->pump)
        rc = hh_loop_add(L, (struct hh_source){ &broker_ops, e, "broker", NULL });
    return rc;
}

/* Called after every event a market source delivers in a batch: kept to a
 * few loads (the arrivals' and timers' heads; the broker's only when its
 * reports arrive later). */
struct hh_ev_key hh_eng_next_internal(const struct hh_eng *e)
{
    struct hh_ev_key k = KEY_NONE;
    hh_time_t t;
    uint64_t seq;

    if (hh_tm_next_arrival(e->tm, &t, &seq))
        k = (struct hh_ev_key){ t, HH_EV_SIGNAL, seq };
    t = hh_tm_next_timer(e->tm);
    if (t <= e->horizon && t < k.t)
        k = (struct hh_ev_key){ t, HH_EV_TIMER, 0 };
    if (e->broker.ops->next_due) {
        t = e->broker.ops->next_due(e->broker.impl);
        if (t < k.t)
            k = (struct hh_ev_key){ t, HH_EV_BROKER, 0 };
    }
    return k;
}

/* ---- a market-data file in the core's thread ------------------------------------------ */

/* Rows taken from the reader per call (hh_md_next_ticks, hh_md_next_bars):
 * a call per row cost a tenth of the loop around the reader. */
#define ENG_BATCH 64

struct hh_eng_mdfile {
    struct hh_eng *e;
    struct hh_md_reader *md;
    enum hh_md_kind kind;
    void (*progress)(void *ctx, uint64_t rows, uint64_t offset);
    void *progress_ctx;
    int rc;                       /* reader: 1 row held, 0 end, < 0 error */
    struct hh_tick ticks[ENG_BATCH]; /* ticks read ahead, ticks[ti..tn): the next
                                     one is ticks[ti] (rc == 1) */
    int ti, tn;
    struct hh_bar bars[ENG_BATCH]; /* bars read ahead, bars[bi..bn), not yet counted */
    int bi, bn;
    struct hh_bar *grp;           /* bars: the next group, grp[0..n) (rc == 1) ... */
    size_t n, cap;
    bool have_next;               /* ... and the first bar of the one after, grp[n] */
    int err;
};

/* The end of the IST day of the last clock reading: timers up to it fire. */
static void data_ended(struct hh_eng_mdfile *s)
{
    hh_time_t now = s->e->clock->now;

    if (now != HH_TIME_NONE)
        hh_eng_set_horizon(s->e, hh_time_from_ist(hh_time_ist_date(now), HH_NS_PER_DAY - 1));
    else
        hh_eng_set_horizon(s->e, HH_TIME_NONE);
    if (s->rc < 0)
        s->err = s->rc;
}

/* The runner's display is told every ENG_PROGRESS_ROWS rows: a human needs
 * no more, and a call (and an offset) per row cost a tenth of the loop. */
#define ENG_PROGRESS_ROWS 64

static void progress(struct hh_eng_mdfile *s, uint64_t rows)
{
    if (s->progress && rows % ENG_PROGRESS_ROWS == 0)
        s->progress(s->progress_ctx, rows, hh_md_offset(s->md));
}

/* The next tick: the next one read ahead, else a new batch. */
static void read_tick(struct hh_eng_mdfile *s)
{
    if (s->ti + 1 < s->tn) {
        s->ti++;
        return;
    }
    s->ti = 0;
    s->rc = hh_md_next_ticks(s->md, s->ticks, ENG_BATCH);
    s->tn = s->rc > 0 ? s->rc : 0;
    if (s->rc > 1)
        s->rc = 1;
    if (s->rc != 1)
        data_ended(s);
}

/* Read the next in-session bar into *b: 1, or the reader's 0 / error.  Bars
 * outside their session are counted and skipped. */
static int read_bar(struct hh_eng_mdfile *s, struct hh_bar *b)
{
    struct hh_eng *e = s->e;
    int rc;

    for (;;) {
        if (s->bi == s->bn) {
            if ((rc = hh_md_next_bars(s->md, s->bars, ENG_BATCH)) < 1)
                return rc;
            s->bi = 0;
            s->bn = rc;
        }
        *b = s->bars[s->bi++];
        e->st.bars++;
        first_market(e, b->ts);
        progress(s, e->st.bars);
        if (in_session(e, b->iid, b->ts))
            return 1;
        e->bars_out_of_session++;
    }
}

/* The next group: the in-session bars sharing one start time, gathered in
 * grp[].  The bar that ends a group (the first of the next) waits at grp[n]
 * and moves to grp[0] when its group is read.  A bar joins the chart
 * when it joins its group (after the previous group was processed, as it
 * was read). */
static void read_group(struct hh_eng_mdfile *s)
{
    struct hh_eng *e = s->e;
    size_t n = 0;
    int rc;

    if (s->have_next) {
        s->grp[0] = s->grp[s->n];
        s->have_next = false;
        if (e->obs.candle)
            e->obs.candle(e->obs.ctx, &s->grp[0]);
        n = 1;
    }
    for (;;) {
        if (n == s->cap && hh_grow(&s->grp, &s->cap, n + 1, sizeof *s->grp)) {
            s->rc = s->err = HH_ENOMEM;
            return;
        }
        if ((rc = read_bar(s, &s->grp[n])) != 1) {
            s->n = n;
            s->rc = n ? 1 : rc;
            if (rc < 0)
                s->err = rc;
            if (!n)
                data_ended(s);
            return;
        }
        if (n && s->grp[n].ts != s->grp[0].ts) {
            s->n = n;
            s->have_next = true;
            s->rc = 1;
            return;
        }
        if (e->obs.candle)
            e->obs.candle(e->obs.ctx, &s->grp[n]);
        n++;
    }
}

static hh_time_t next_ts(const struct hh_eng_mdfile *s)
{
    return s->kind == HH_MD_TICKS ? s->ticks[s->ti].ts : s->grp[0].ts;
}

static enum hh_src_state md_peek(void *impl, struct hh_ev_key *key)
{
    struct hh_eng_mdfile *s = impl;

    if (s->rc != 1)
        return HH_SRC_END;
    *key = (struct hh_ev_key){ next_ts(s), HH_EV_MARKET, 0 };
    return HH_SRC_READY;
}

/* Events up to the bound, and before anything the engine itself has due.
 * What the engine has due moves only with a change of its state (an
 * arrival accepted, a timer started: hh_tm_changes() moves), so it is
 * looked up again only then. */
static int md_take(void *impl, const struct hh_ev_key *bound)
{
    struct hh_eng_mdfile *s = impl;
    struct hh_ev_key k, stop = *bound, in;
    uint64_t seen = UINT64_MAX;

    do {
        if (s->kind == HH_MD_TICKS) {
            hh_eng_tick(s->e, &s->ticks[s->ti]);
            progress(s, s->e->st.ticks);
            read_tick(s);
        } else {
            hh_eng_bars(s->e, s->grp, s->n);
            read_group(s);
        }
        if (s->rc != 1)
            break;
        k = (struct hh_ev_key){ next_ts(s), HH_EV_MARKET, 0 };
        if (s->e->broker.ops->next_due || hh_tm_changes(s->e->tm) != seen) {
            seen = hh_tm_changes(s->e->tm);
            in = hh_eng_next_internal(s->e);
            if (hh_ev_cmp(&in, &stop) < 0)
                stop = in;
        }
    } while (hh_ev_cmp(&k, &stop) < 0);
    return s->err == HH_ENOMEM ? HH_ENOMEM : HH_OK;
}

static const struct hh_source_ops mdfile_ops = { md_peek, md_take };

struct hh_eng_mdfile *hh_eng_mdfile_new(struct hh_eng *e, struct hh_md_reader *md,
                                        enum hh_md_kind kind,
                                        void (*progress_fn)(void *ctx, uint64_t rows,
                                                            uint64_t offset),
                                        void *progress_ctx)
{
    struct hh_eng_mdfile *s = calloc(1, sizeof *s);

    if (!s)
        return NULL;
    s->e = e;
    s->md = md;
    s->kind = kind;
    s->progress = progress_fn;
    s->progress_ctx = progress_ctx;
    if (kind == HH_MD_TICKS)
        read_tick(s);
    else
        read_group(s);
    return s;
}

void hh_eng_mdfile_free(struct hh_eng_mdfile *s)
{
    if (!s)
        return;
    free(s->grp);
    free(s);
}

struct hh_source hh_eng_mdfile_source(struct hh_eng_mdfile *s)
{
    return (struct hh_source){ &mdfile_ops, s, "market data", NULL };
}

int hh_eng_mdfile_error(const struct hh_eng_mdfile *s)
{
    return s->err;
}
