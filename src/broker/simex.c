/*
 * simex.c — the simulated exchange.
 *
 * Orders live in one array (id = index + 1); each instrument has a book:
 * the indices of its working orders in placement order.  Matching walks
 * "points": each tick is one point, each bar four (its path vertices), and
 * pc counts them.  An order matches from point eff_pc on (see simex.h for
 * when placements and price changes become effective).
 *
 * Invariants:
 *  - an order is in its instrument's book iff it is working
 *    (OPEN or PARTIAL);
 *  - filled <= req.qty, and a fill never exceeds the remainder;
 *  - reports for one point are delivered in the order the path meets the
 *    orders, ties by order id.
 */
#include "broker/simex.h"

#include "core/grow.h"

#include <stdio.h>

#include <stdlib.h>
#include <string.h>

/* Fills at one point are bounded: a sink that answers every fill with a
 * new marketable order must not spin forever. */
#define MAX_ROUNDS_PER_POINT 64

struct sim_order {
    struct hh_order_req req;
    enum hh_ord_state state;
    hh_qty_t filled;
    uint64_t eff_pc;        /* first point at which it may match */
    hh_time_t ready_at;     /* placement time + latency */
    bool triggered;         /* STOP_LIMIT: its trigger has traded */
    bool doomed;            /* rejected by the exchange at its first point */
};

/*
 * A book, and the price band outside which one of its orders can act
 * (book_may_act): some order can act at a price p iff p <= act_lo or
 * p >= act_hi.  Valid while band_ok; every change of the book or of an
 * order's price or trigger state clears band_ok.
 */
struct book {
    uint32_t *idx;          /* indices into orders[] of working orders */
    size_t n, cap;
    bool band_ok;
    hh_price_t act_lo, act_hi;
};

struct hh_simex {
    const struct hh_instruments *inst;
    const struct hh_clock *clock;
    struct hh_simex_config cfg;
    struct sim_order *orders;
    size_t norders, cap;
    struct book *books;     /* by instrument id */
    size_t nbooks;
    size_t working;
    uint64_t pc;            /* index of the current/last point */
    bool in_vertex;         /* matching a point (placements match it too) */
    bool in_segment;        /* matching a bar segment */
    hh_qty_t budget;        /* liquidity left at this point (with cfg.liquidity) */
    uint64_t next_exec;
    uint64_t rng;           /* xorshift state for reject_ratio */
    int reject_next;
    hh_report_fn sink;
    void *sink_ctx;
};

hh_price_t hh_simex_slipped(const struct hh_simex_config *cfg,
                            const struct hh_instrument *in, enum hh_side side,
                            hh_price_t p)
{
    hh_price_t amt = 0, out;

    if (cfg->slippage_ticks)
        amt = cfg->slippage_ticks * in->tick;
    else if (cfg->slippage_bps) {
        /* p x bps / 10,000, rounded half-up to the tick. */
        __int128 n = (__int128)p * cfg->slippage_bps;
        __int128 d = (__int128)HH_RATIO_SCALE * 10000 * in->tick;

        amt = (hh_price_t)(hh_i128_div_round(n, d) * in->tick);
    }
    out = side == HH_BUY ? p + amt : p - amt;
    return out < in->tick ? in->tick : out;
}

struct hh_simex *hh_simex_new(const struct hh_instruments *inst,
                              const struct hh_clock *clock,
                              const struct hh_simex_config *cfg)
{
    struct hh_simex *ex = calloc(1, sizeof *ex);

    if (!ex)
        return NULL;
    ex->inst = inst;
    ex->clock = clock;
    ex->cfg = *cfg;
    ex->next_exec = 1;
    ex->rng = cfg->seed * 0x9E3779B97F4A7C15ULL + 0x2545F4914F6CDD1DULL;
    return ex;
}

void hh_simex_free(struct hh_simex *ex)
{
    if (!ex)
        return;
    for (size_t i = 0; i < ex->nbooks; i++)
        free(ex->books[i].idx);
    free(ex->books);
    free(ex->orders);
    free(ex);
}

void hh_simex_reject_next(struct hh_simex *ex, int n)
{
    ex->reject_next = n;
}

size_t hh_simex_working(const struct hh_simex *ex)
{
    return ex->working;
}

static struct book *book_for(struct hh_simex *ex, hh_iid_t iid, bool grow)
{
    if (iid >= ex->nbooks) {
        size_t n = ex->nbooks ? ex->nbooks : 64;
        struct book *b;

        if (!grow)
            return NULL;
        while (n <= iid)
            n *= 2;
        b = realloc(ex->books, n * sizeof *b);
        if (!b)
            return NULL;
        memset(b + ex->nbooks, 0, (n - ex->nbooks) * sizeof *b);
        ex->books = b;
        ex->nbooks = n;
    }
    return &ex->books[iid];
}

static int book_add(struct book *b, uint32_t idx)
{
    if (hh_grow(&b->idx, &b->cap, b->n + 1, sizeof *b->idx))
        return HH_ENOMEM;
    b->idx[b->n++] = idx;
    b->band_ok = false;
    return HH_OK;
}

static void book_remove(struct book *b, uint32_t idx)
{
    for (size_t i = 0; i < b->n; i++) {
        if (b->idx[i] == idx) {
            memmove(b->idx + i, b->idx + i + 1, (b->n - i - 1) * sizeof *b->idx);
            b->n--;
            b->band_ok = false;
            return;
        }
    }
}

static bool working(const struct sim_order *o)
{
    return o->state == HH_OS_OPEN || o->state == HH_OS_PARTIAL;
}

/* Leave the book: the order reached a terminal state. */
static void retire(struct hh_simex *ex, uint32_t idx, enum hh_ord_state st)
{
    struct sim_order *o = &ex->orders[idx];

    book_remove(&ex->books[o->req.iid], idx);
    o->state = st;
    ex->working--;
}

static void emit(struct hh_simex *ex, const struct hh_report *r)
{
    if (ex->sink)
        ex->sink(ex->sink_ctx, r);
}

/* Deterministic uniform draw in [0, HH_RATIO_SCALE). */
static hh_ratio_t draw(struct hh_simex *ex)
{
    ex->rng ^= ex->rng << 13;
    ex->rng ^= ex->rng >> 7;
    ex->rng ^= ex->rng << 17;
    return (hh_ratio_t)(ex->rng % (uint64_t)HH_RATIO_SCALE);
}

static int sx_place(void *impl, const struct hh_order_req *req, uint64_t *order_id)
{
    struct hh_simex *ex = impl;
    struct sim_order *o;
    struct book *b;
    uint32_t idx;

    if (req->qty <= 0 || req->iid >= hh_inst_count(ex->inst))
        return HH_EINVAL;
    if (ex->reject_next > 0) {
        ex->reject_next--;
        return HH_EBROKER;
    }
    if (hh_grow(&ex->orders, &ex->cap, ex->norders + 1, sizeof *ex->orders))
        return HH_ENOMEM;
    b = book_for(ex, req->iid, true);
    if (!b)
        return HH_ENOMEM;
    idx = (uint32_t)ex->norders;
    if (book_add(b, idx))
        return HH_ENOMEM;
    o = &ex->orders[ex->norders++];
    memset(o, 0, sizeof *o);
    o->req = *req;
    o->state = HH_OS_OPEN;
    /* Placed while a point is matched: that point (exits of an entry filled
     * at a bar's open); while a segment is matched or between points: the
     * next point. */
    o->eff_pc = ex->in_vertex ? ex->pc : ex->pc + 1;
    o->ready_at = (ex->clock && ex->clock->now != HH_TIME_NONE ? ex->clock->now : 0) +
                  ex->cfg.latency;
    o->doomed = ex->cfg.reject_ratio > 0 && draw(ex) < ex->cfg.reject_ratio;
    ex->working++;
    *order_id = idx + 1;
    return HH_OK;
}

static struct sim_order *lookup(struct hh_simex *ex, uint64_t id)
{
    return id >= 1 && id <= ex->norders ? &ex->orders[id - 1] : NULL;
}

static int sx_modify(void *impl, uint64_t id, hh_qty_t qty, hh_price_t limit,
                     hh_price_t trigger)
{
    struct hh_simex *ex = impl;
    struct sim_order *o = lookup(ex, id);

    if (!o)
        return HH_ENOTFOUND;
    if (!working(o))
        return HH_ESTATE;
    if (qty) {
        if (qty <= o->filled)
            return HH_EINVAL;
        o->req.qty = qty;
    }
    if (limit || trigger) {
        if (limit)
            o->req.limit = limit;
        if (trigger)
            o->req.trigger = trigger;
        /* A new price counts from the next point of the path. */
        o->eff_pc = ex->pc + 1;
        ex->books[o->req.iid].band_ok = false;
    }
    return HH_OK;
}

static int sx_cancel(void *impl, uint64_t id)
{
    struct hh_simex *ex = impl;
    struct sim_order *o = lookup(ex, id);
    struct hh_report r;

    if (!o)
        return HH_ENOTFOUND;
    if (!working(o))
        return HH_ESTATE;  /* too late: filled, cancelled or rejected */
    retire(ex, (uint32_t)(id - 1), HH_OS_CANCELLED);
    memset(&r, 0, sizeof r);
    r.kind = HH_RPT_CANCELLED;
    r.order_id = id;
    r.ts = ex->clock ? ex->clock->now : 0;
    r.iid = o->req.iid;
    r.side = o->req.side;
    r.filled = o->filled;
    snprintf(r.reason, sizeof r.reason, "cancelled on request");
    emit(ex, &r);
    return HH_OK;
}

static void sx_set_sink(void *impl, hh_report_fn fn, void *ctx)
{
    struct hh_simex *ex = impl;

    ex->sink = fn;
    ex->sink_ctx = ctx;
}

/* Execute qty (bounded by liquidity) of order idx at price. */
static void execute(struct hh_simex *ex, uint32_t idx, hh_price_t price, hh_time_t ts)
{
    struct sim_order *o = &ex->orders[idx];
    hh_qty_t qty = o->req.qty - o->filled;
    struct hh_report r;

    if (ex->cfg.liquidity) {
        if (ex->budget <= 0)
            return;
        if (qty > ex->budget)
            qty = ex->budget;
        ex->budget -= qty;
    }
    o->filled += qty;
    if (o->filled == o->req.qty)
        retire(ex, idx, HH_OS_FILLED);
    else
        o->state = HH_OS_PARTIAL;
    memset(&r, 0, sizeof r);
    r.kind = HH_RPT_FILL;
    r.order_id = idx + 1;
    r.ts = ts;
    r.iid = o->req.iid;
    r.side = o->req.side;
    r.qty = qty;
    r.price = price;
    r.filled = o->filled;
    r.leaves = o->req.qty - o->filled;
    r.exec_id = ex->next_exec++;
    emit(ex, &r);
}

static bool matchable(const struct hh_simex *ex, const struct sim_order *o, hh_time_t ts)
{
    return working(o) && o->eff_pc <= ex->pc && o->ready_at <= ts;
}

/* The exchange refuses a doomed order when it first reaches the market. */
static void reject(struct hh_simex *ex, uint32_t idx, hh_time_t ts)
{
    struct sim_order *o = &ex->orders[idx];
    struct hh_report r;

    retire(ex, idx, HH_OS_REJECTED);
    memset(&r, 0, sizeof r);
    r.kind = HH_RPT_REJECTED;
    r.order_id = idx + 1;
    r.ts = ts;
    r.iid = o->req.iid;
    r.side = o->req.side;
    r.filled = o->filled;
    snprintf(r.reason, sizeof r.reason, "rejected by the exchange (simulated)");
    emit(ex, &r);
}

/*
 * Fill price of order o at a point trading at p, or 0 when it does not
 * fill there.  `tick`: the point is a tick (limits fill at their limit).
 */
static hh_price_t slipped(const struct hh_simex *ex, const struct sim_order *o, hh_price_t p)
{
    return hh_simex_slipped(&ex->cfg, hh_inst_get(ex->inst, o->req.iid), o->req.side, p);
}

static hh_price_t vertex_price(const struct hh_simex *ex, struct sim_order *o,
                               hh_price_t p, bool tick)
{
    bool buy = o->req.side == HH_BUY;
    hh_price_t l = o->req.limit, t = o->req.trigger;

    switch (o->req.type) {
    case HH_ORD_MARKET:
        return slipped(ex, o, p);
    case HH_ORD_STOP:
        if (buy ? p >= t : p <= t)
            return slipped(ex, o, p);
        return 0;
    case HH_ORD_STOP_LIMIT:
        if (!o->triggered) {
            if (!(buy ? p >= t : p <= t))
                return 0;
            o->triggered = true;
            return (buy ? p <= l : p >= l) ? p : 0;
        }
        /* a triggered stop-limit is a limit order */
        __attribute__((fallthrough));
    case HH_ORD_LIMIT:
        if (buy ? p <= l : p >= l)
            return tick ? l : p;
        return 0;
    }
    return 0;
}

/* Match every effective order of a book at one point; repeated because a
 * fill may place orders that match this same point. */
static void match_vertex(struct hh_simex *ex, hh_iid_t iid, hh_price_t p, hh_time_t ts,
                         bool tick)
{
    struct book *b = book_for(ex, iid, false);

    if (!b)
        return;
    ex->in_vertex = true;
    for (int round = 0; round < MAX_ROUNDS_PER_POINT; round++) {
        bool progress = false;

        if (round)
            b = book_for(ex, iid, false);   /* a fill's reactions may have grown the books */
        for (size_t i = 0; i < b->n; i++) {
            uint32_t idx = b->idx[i];
            struct sim_order *o = &ex->orders[idx];
            hh_price_t fp;

            if (!matchable(ex, o, ts))
                continue;
            if (o->doomed) {
                reject(ex, idx, ts);
                progress = true;
                break;
            }
            fp = vertex_price(ex, o, p, tick);
            if (!fp)
                continue;
            execute(ex, idx, fp, ts);
            progress = true;
            break;  /* the book may have changed: rescan */
        }
        if (!progress)
            break;
    }
    ex->in_vertex = false;
}

/*
 * Where order o trades on the segment a -> b (a != b), or 0 when it does
 * not: *fill gets its price.  Levels are met moving up (b > a) in (a, b],
 * moving down in [b, a).
 */
static hh_price_t segment_level(const struct hh_simex *ex, struct sim_order *o,
                                hh_price_t a, hh_price_t b, hh_price_t *fill)
{
    bool up = b > a, buy = o->req.side == HH_BUY;
    hh_price_t lo = up ? a : b, hi = up ? b : a;
    hh_price_t l = o->req.limit, t = o->req.trigger;
#define MET(x) (up ? ((x) > lo && (x) <= hi) : ((x) >= lo && (x) < hi))

    switch (o->req.type) {
    case HH_ORD_MARKET:
        return 0;  /* markets fill at points */
    case HH_ORD_STOP:
        if (buy == up && MET(t)) {
            *fill = slipped(ex, o, t);
            return t;
        }
        return 0;
    case HH_ORD_STOP_LIMIT:
        if (!o->triggered) {
            if (buy != up || !MET(t))
                return 0;
            /* Triggered at t; fills there when t is within its limit. */
            if (buy ? t <= l : t >= l) {
                *fill = t;
                return t;
            }
            o->triggered = true;
            return 0;
        }
        __attribute__((fallthrough));
    case HH_ORD_LIMIT:
        if (buy != up && MET(l)) {
            *fill = l;
            return l;
        }
        return 0;
    }
#undef MET
    return 0;
}

/* Match a bar segment a -> b: orders fill in the order the path meets them. */
static void match_segment(struct hh_simex *ex, hh_iid_t iid, hh_price_t a, hh_price_t b,
                          hh_time_t ts)
{
    struct book *bk = book_for(ex, iid, false);
    bool up = b > a;

    if (!bk || a == b)
        return;
    ex->in_segment = true;
    for (int round = 0; round < MAX_ROUNDS_PER_POINT; round++) {
        uint32_t best = UINT32_MAX;
        hh_price_t best_level = 0, best_fill = 0;

        if (round)
            bk = book_for(ex, iid, false);   /* a fill's reactions may have grown the books */
        for (size_t i = 0; i < bk->n; i++) {
            uint32_t idx = bk->idx[i];
            struct sim_order *o = &ex->orders[idx];
            hh_price_t level, fill = 0;

            if (!matchable(ex, o, ts))
                continue;
            level = segment_level(ex, o, a, b, &fill);
            if (!level)
                continue;
            if (best == UINT32_MAX || (up ? level < best_level : level > best_level)) {
                best = idx;
                best_level = level;
                best_fill = fill;
            }
        }
        if (best == UINT32_MAX)
            break;
        execute(ex, best, best_fill, ts);
        /* Later orders start where this one traded. */
        a = up ? best_level - 1 : best_level + 1;
    }
    ex->in_segment = false;
}

/* Nothing works in this symbol's book: no point can fill anything (and no
 * fill can place anything there meanwhile). */
static bool idle_book(const struct hh_simex *ex, hh_iid_t iid)
{
    return iid >= ex->nbooks || ex->books[iid].n == 0;
}

/*
 * Where the orders of a book can act (vertex_price, segment_level): a
 * market order or a doomed one anywhere; a buy stop (or untriggered buy
 * stop-limit) at its trigger or above, a sell one at its trigger or below;
 * a buy limit (or triggered buy stop-limit) at its limit or below, a sell
 * one at its limit or above.
 */
static void book_band(const struct hh_simex *ex, struct book *b)
{
    b->act_lo = INT64_MIN;
    b->act_hi = INT64_MAX;
    for (size_t i = 0; i < b->n; i++) {
        const struct sim_order *o = &ex->orders[b->idx[i]];
        bool buy = o->req.side == HH_BUY, limit = o->req.type == HH_ORD_LIMIT ||
                                                 (o->req.type == HH_ORD_STOP_LIMIT && o->triggered);
        hh_price_t x = limit ? o->req.limit : o->req.trigger;

        if (o->doomed || o->req.type == HH_ORD_MARKET)
            b->act_lo = INT64_MAX;
        else if (buy != limit)                       /* buy stop, sell limit */
            b->act_hi = x < b->act_hi ? x : b->act_hi;
        else                                         /* sell stop, buy limit */
            b->act_lo = x > b->act_lo ? x : b->act_lo;
    }
    b->band_ok = true;
}

/* Can any order of iid's (non-empty) book act at a price in [lo, hi]?
 * When none can, matching there changes nothing: no fill, no rejection,
 * no trigger. */
static bool book_may_act(struct hh_simex *ex, hh_iid_t iid, hh_price_t lo, hh_price_t hi)
{
    struct book *b = &ex->books[iid];

    if (!b->band_ok)
        book_band(ex, b);
    return lo <= b->act_lo || hi >= b->act_hi;
}

/* A tick at a book with working orders.  Out of line: most ticks meet an
 * idle book, and their call should not pay this one's frame. */
static __attribute__((noinline)) void tick_point(struct hh_simex *ex, const struct hh_tick *t)
{
    ex->budget = ex->cfg.liquidity ? (hh_qty_t)(hh_i128_div_floor(
                     (__int128)t->qty * ex->cfg.fill_ratio, HH_RATIO_SCALE)) : 0;
    match_vertex(ex, t->iid, t->price, t->ts, true);
    ex->books[t->iid].band_ok = false;   /* a stop-limit may have triggered */
}

static void sx_on_tick(void *impl, const struct hh_tick *t)
{
    struct hh_simex *ex = impl;

    ex->pc++;
    if (!idle_book(ex, t->iid) && book_may_act(ex, t->iid, t->price, t->price))
        tick_point(ex, t);
}

/* Do the working orders of this book protect a long (only sells)? */
static bool book_is_long_exit(const struct hh_simex *ex, hh_iid_t iid)
{
    const struct book *b = iid < ex->nbooks ? &ex->books[iid] : NULL;
    bool sells = false, buys = false;

    for (size_t i = 0; b && i < b->n; i++) {
        if (ex->orders[b->idx[i]].req.side == HH_SELL)
            sells = true;
        else
            buys = true;
    }
    return !(buys && !sells);
}

/* A bar's path through a book with working orders.  Out of line: most bars
 * meet an idle book, and their call should not pay this one's frame. */
static __attribute__((noinline)) void bar_path(struct hh_simex *ex, const struct hh_bar *bar)
{
    hh_price_t path[4];
    hh_price_t up = bar->high - bar->open, down = bar->open - bar->low;
    bool low_first;

    ex->budget = ex->cfg.liquidity ? (hh_qty_t)(hh_i128_div_floor(
                     (__int128)bar->volume * ex->cfg.fill_ratio, HH_RATIO_SCALE)) : 0;
    ex->pc++;
    match_vertex(ex, bar->iid, bar->open, bar->ts, false);
    /* The nearer extreme first; a tie goes against the position held. */
    low_first = down < up || (down == up && book_is_long_exit(ex, bar->iid));
    path[0] = bar->open;
    path[1] = low_first ? bar->low : bar->high;
    path[2] = low_first ? bar->high : bar->low;
    path[3] = bar->close;
    for (int k = 1; k < 4; k++) {
        match_segment(ex, bar->iid, path[k - 1], path[k], bar->ts);
        ex->pc++;
        match_vertex(ex, bar->iid, path[k], bar->ts, false);
    }
    ex->books[bar->iid].band_ok = false;   /* a stop-limit may have triggered */
}

static hh_price_t min2(hh_price_t a, hh_price_t b)
{
    return a < b ? a : b;
}

static hh_price_t max2(hh_price_t a, hh_price_t b)
{
    return a > b ? a : b;
}

static void sx_on_bar(void *impl, const struct hh_bar *bar)
{
    struct hh_simex *ex = impl;
    /* the range of the path's four points (the bar's low and high when the
     * bar is consistent, as the readers make sure) */
    hh_price_t lo = min2(min2(bar->open, bar->close), min2(bar->low, bar->high));
    hh_price_t hi = max2(max2(bar->open, bar->close), max2(bar->low, bar->high));

    if (idle_book(ex, bar->iid) || !book_may_act(ex, bar->iid, lo, hi))
        ex->pc += 4;   /* the path's four points */
    else
        bar_path(ex, bar);
}

static const struct hh_broker_ops simex_ops = {
    .place = sx_place,
    .modify = sx_modify,
    .cancel = sx_cancel,
    .on_tick = sx_on_tick,
    .on_bar = sx_on_bar,
    .set_sink = sx_set_sink,
};

struct hh_broker hh_simex_broker(struct hh_simex *ex)
{
    return (struct hh_broker){ &simex_ops, ex };
}
