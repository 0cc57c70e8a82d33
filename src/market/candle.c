/*
 * candle.c — OHLCV candles from a time-ordered stream of ticks.
 *
 * Per instrument (array indexed by iid, grown as ids appear) we keep the
 * session of the IST day last seen and at most one open candle.  Open
 * candles are also in a binary min-heap keyed by their end, so completing
 * "every candle whose end <= now" pops from the top and a tick that
 * completes nothing costs one comparison.  Candles completing at the same
 * tick are collected in a batch, sorted by (start, symbol) and reported.
 *
 * Invariants:
 *  - sym[i].active  <=>  i is in heap[0..nheap) (exactly once);
 *  - for an active candle, start <= last tick fed < end: a tick of its
 *    symbol that survives completion falls into it, never into another
 *    bucket (ticks come in time order, candles never span sessions);
 *  - capacity of heap and batch >= capacity of sym (one open candle per
 *    instrument at most), so pushing and collecting never allocate.
 */
#include "market/candle.h"

#include <stdlib.h>
#include <string.h>

/* One instrument's state. */
struct sym_state {
    hh_time_t day_lo, day_hi;  /* IST day [lo, hi) whose session is cached;
                                  lo == hi == 0 before the first tick (and
                                  after a restore: loaded again) */
    hh_time_t open, close;     /* that day's session [open, close) */
    bool seen;                 /* a tick of it was fed (ever, restores too) */
    bool active;               /* c is an open candle */
    struct hh_candle c;
};

/* A completed candle waiting in the batch, with its symbol for sorting. */
struct done_entry {
    struct hh_candle c;
    const char *sym;
};

struct hh_candles {
    const struct hh_instruments *inst;  /* borrowed */
    const struct hh_calendar *cal;      /* borrowed, may be NULL */
    int64_t tf;                         /* ns */
    struct sym_state *sym;              /* [cap] */
    hh_iid_t *heap;                     /* [cap] iids of open candles, min by end */
    struct done_entry *batch;           /* [cap] */
    size_t cap, nheap;
    hh_time_t last_ts;                  /* last tick fed, HH_TIME_NONE before */
    uint64_t out_of_session, late;
    uint64_t fed;                       /* ticks fed (not state: tells a change) */
    bool restored;                      /* hh_candles_read() filled it */
    int error;                          /* sticky, see hh_candles_error() */
};

struct hh_candles *hh_candles_new(const struct hh_instruments *inst,
                                  const struct hh_calendar *cal, int64_t tf)
{
    struct hh_candles *cb;

    if (!inst || tf <= 0)
        return NULL;
    cb = calloc(1, sizeof *cb);
    if (!cb)
        return NULL;
    cb->inst = inst;
    cb->cal = cal;
    cb->tf = tf;
    cb->last_ts = HH_TIME_NONE;
    return cb;
}

void hh_candles_free(struct hh_candles *cb)
{
    if (!cb)
        return;
    free(cb->sym);
    free(cb->heap);
    free(cb->batch);
    free(cb);
}

uint64_t hh_candles_out_of_session(const struct hh_candles *cb)
{
    return cb->out_of_session;
}

uint64_t hh_candles_late(const struct hh_candles *cb)
{
    return cb->late;
}

int hh_candles_error(const struct hh_candles *cb)
{
    return cb->error;
}

/* Make room for instrument `iid`; false (and the sticky error) on ENOMEM. */
static bool ensure(struct hh_candles *cb, hh_iid_t iid)
{
    size_t cap = cb->cap ? cb->cap : 16;
    void *p;

    if (iid < cb->cap)
        return true;
    while (cap <= iid)
        cap *= 2;
    p = realloc(cb->sym, cap * sizeof *cb->sym);
    if (!p)
        goto out_nomem;
    cb->sym = p;
    memset(cb->sym + cb->cap, 0, (cap - cb->cap) * sizeof *cb->sym);
    p = realloc(cb->heap, cap * sizeof *cb->heap);
    if (!p)
        goto out_nomem;
    cb->heap = p;
    p = realloc(cb->batch, cap * sizeof *cb->batch);
    if (!p)
        goto out_nomem;
    cb->batch = p;
    cb->cap = cap;
    return true;

out_nomem:
    /* Arrays that did grow keep their new size; cap stays the smallest. */
    cb->error = HH_ENOMEM;
    return false;
}

/* ---- the heap of open candles, keyed by end ------------------------------ */

static inline hh_time_t end_of(const struct hh_candles *cb, size_t i)
{
    return cb->sym[cb->heap[i]].c.end;
}

static void heap_push(struct hh_candles *cb, hh_iid_t iid)
{
    size_t i = cb->nheap++;
    hh_time_t end = cb->sym[iid].c.end;

    while (i > 0) {
        size_t parent = (i - 1) / 2;

        if (end_of(cb, parent) <= end)
            break;
        cb->heap[i] = cb->heap[parent];
        i = parent;
    }
    cb->heap[i] = iid;
}

static hh_iid_t heap_pop(struct hh_candles *cb)
{
    hh_iid_t top = cb->heap[0], last = cb->heap[--cb->nheap];
    hh_time_t end = cb->sym[last].c.end;
    size_t i = 0, n = cb->nheap;

    for (;;) {
        size_t l = 2 * i + 1, m = l;

        if (l >= n)
            break;
        if (l + 1 < n && end_of(cb, l + 1) < end_of(cb, l))
            m = l + 1;
        if (end <= end_of(cb, m))
            break;
        cb->heap[i] = cb->heap[m];
        i = m;
    }
    if (n)
        cb->heap[i] = last;
    return top;
}

/* ---- completion ------------------------------------------------------------ */

static int cmp_done(const void *a, const void *b)
{
    const struct done_entry *x = a, *y = b;

    if (x->c.ts != y->c.ts)
        return x->c.ts < y->c.ts ? -1 : 1;
    return strcmp(x->sym, y->sym);
}

/* Complete every open candle with end <= t (all of them when t is
 * HH_TIME_MAX), reporting them in (start, symbol) order. */
static void complete_until(struct hh_candles *cb, hh_time_t t, hh_candle_cb done, void *ctx)
{
    size_t n = 0;

    while (cb->nheap && end_of(cb, 0) <= t) {
        hh_iid_t iid = heap_pop(cb);

        cb->sym[iid].active = false;
        cb->batch[n].c = cb->sym[iid].c;
        cb->batch[n].sym = hh_inst_get(cb->inst, iid)->symbol;
        n++;
    }
    if (n > 1)
        qsort(cb->batch, n, sizeof *cb->batch, cmp_done);
    for (size_t i = 0; i < n; i++)
        done(ctx, &cb->batch[i].c);
}

void hh_candles_flush(struct hh_candles *cb, hh_candle_cb done, void *ctx)
{
    complete_until(cb, HH_TIME_MAX, done, ctx);
}

/* ---- ticks ----------------------------------------------------------------- */

/* Cache the session of the IST day holding t for instrument iid. */
static void load_session(struct hh_candles *cb, hh_iid_t iid, hh_time_t t)
{
    const struct hh_instrument *in;
    struct sym_state *s = &cb->sym[iid];
    hh_date_t date = hh_time_ist_date(t);
    struct hh_session ss;

    /* Every id reaches here before its first candle: check it once. */
    HH_ASSERT(iid < hh_inst_count(cb->inst));
    in = hh_inst_get(cb->inst, iid);
    if (!cb->cal || hh_cal_session(cb->cal, in->exch, in->seg, date, &ss) != HH_OK)
        hh_cal_session_rules(in->seg, date, &ss);
    s->seen = true;
    s->day_lo = hh_time_from_ist(date, 0);
    s->day_hi = s->day_lo + HH_NS_PER_DAY;
    s->open = ss.open;
    s->close = ss.close;
    if (s->open == HH_TIME_NONE || s->close == HH_TIME_NONE)
        s->open = s->close = 0;      /* no normal market: nothing is in session */
}

/* Start a candle for the tick's bucket. */
static void open_candle(struct hh_candles *cb, struct sym_state *s, const struct hh_tick *t)
{
    int64_t k = (t->ts - s->open) / cb->tf;
    struct hh_candle *c = &s->c;

    c->ts = s->open + k * cb->tf;
    c->end = s->close - c->ts > cb->tf ? c->ts + cb->tf : s->close;
    c->iid = t->iid;
    c->open = c->high = c->low = c->close = t->price;
    c->volume = t->qty;
    c->ticks = 1;
    s->active = true;
    heap_push(cb, t->iid);
}

/* Add a tick to its symbol's open candle (high and low written without a
 * branch: branches on prices mispredict). */
static void update_candle(struct hh_candles *cb, struct hh_candle *c, const struct hh_tick *t)
{
    c->high = t->price > c->high ? t->price : c->high;
    c->low = t->price < c->low ? t->price : c->low;
    c->close = t->price;
    if (__builtin_add_overflow(c->volume, t->qty, &c->volume)) {
        c->volume = INT64_MAX;
        cb->error = HH_EOVERFLOW;
    }
    if (c->ticks != UINT32_MAX)
        c->ticks++;
}

/* The state of t's instrument with the session of t's day cached; NULL
 * when it could not be allocated (the sticky error says so). */
static struct sym_state *state_at(struct hh_candles *cb, const struct hh_tick *t)
{
    struct sym_state *s;

    if (!ensure(cb, t->iid))
        return NULL;
    s = &cb->sym[t->iid];
    if (t->ts < s->day_lo || t->ts >= s->day_hi || s->day_lo == s->day_hi)
        load_session(cb, t->iid, t->ts);
    return s;
}

bool hh_candles_in_session(struct hh_candles *cb, const struct hh_tick *t)
{
    const struct sym_state *s = state_at(cb, t);

    return s && t->ts >= s->open && t->ts < s->close;
}

bool hh_candles_tick(struct hh_candles *cb, const struct hh_tick *t,
                     hh_candle_cb done, void *ctx)
{
    struct sym_state *s;

    if (t->ts < cb->last_ts) {
        cb->late++;
        return false;
    }
    cb->last_ts = t->ts;
    cb->fed++;
    if (cb->nheap && end_of(cb, 0) <= t->ts)   /* the common tick completes nothing */
        complete_until(cb, t->ts, done, ctx);
    if (!(s = state_at(cb, t)))
        return false;
    if (t->ts < s->open || t->ts >= s->close) {
        cb->out_of_session++;
        return false;
    }
    if (s->active)
        update_candle(cb, &s->c, t);
    else
        open_candle(cb, s, t);
    return true;
}

/* ---- checkpoints ------------------------------------------------------------ */

#define SECTION_MAGIC 0x31444e43u   /* "CND1" little-endian */
#define CUT_EVERY 8u                /* instruments per chunk, at most */

static void write_candle(struct hh_ser_w *w, const struct hh_candle *c)
{
    hh_ser_put_i64(w, c->ts);
    hh_ser_put_i64(w, c->end);
    hh_ser_put_i64(w, c->open);
    hh_ser_put_i64(w, c->high);
    hh_ser_put_i64(w, c->low);
    hh_ser_put_i64(w, c->close);
    hh_ser_put_i64(w, c->volume);
    hh_ser_put_u32(w, c->ticks);
}

void hh_candles_write(const struct hh_candles *cb, struct hh_ser_w *w)
{
    uint32_t n = 0;

    for (size_t i = 0; i < cb->cap; i++)
        n += cb->sym[i].seen;
    hh_ser_put_u32(w, SECTION_MAGIC);
    hh_ser_put_i64(w, cb->tf);
    hh_ser_put_i64(w, cb->last_ts);
    hh_ser_put_u64(w, cb->out_of_session);
    hh_ser_put_u64(w, cb->late);
    hh_ser_put_u32(w, n);
    /* the head changes with every tick; an instrument's candle only with
     * its own: cut so that a checkpoint rewrites just those */
    hh_ser_cut(w);
    for (size_t i = 0; i < cb->cap; i++) {
        const struct sym_state *s = &cb->sym[i];

        if (!s->seen)
            continue;
        hh_ser_put_u32(w, (uint32_t)i);
        hh_ser_put_u32(w, s->active);
        if (s->active)
            write_candle(w, &s->c);
        if (i % CUT_EVERY == CUT_EVERY - 1)
            hh_ser_cut(w);
    }
    hh_ser_cut(w);
}

/* A candle as written, checked against what the builder itself makes:
 * prices ordered, the last tick fed inside it, at most one timeframe long. */
static bool read_candle(struct hh_ser_r *r, const struct hh_candles *cb, hh_iid_t iid,
                        int64_t tf, struct hh_candle *c)
{
    c->ts = hh_ser_get_i64(r);
    c->end = hh_ser_get_i64(r);
    c->iid = iid;
    c->open = hh_ser_get_i64(r);
    c->high = hh_ser_get_i64(r);
    c->low = hh_ser_get_i64(r);
    c->close = hh_ser_get_i64(r);
    c->volume = hh_ser_get_i64(r);
    c->ticks = hh_ser_get_u32(r);
    return !r->bad && c->ts <= cb->last_ts && cb->last_ts < c->end && c->end - c->ts <= tf &&
           c->low <= c->open && c->open <= c->high && c->low <= c->close &&
           c->close <= c->high && c->volume >= 0 && c->ticks > 0;
}

/* Every instrument's state as new (the section read was not for us). */
static void forget(struct hh_candles *cb)
{
    memset(cb->sym, 0, cb->cap * sizeof *cb->sym);
    cb->nheap = 0;
    cb->last_ts = HH_TIME_NONE;
    cb->out_of_session = cb->late = 0;
}

int hh_candles_read(struct hh_candles *cb, struct hh_ser_r *r)
{
    int64_t tf;
    uint32_t n, prev = UINT32_MAX;

    if (cb->fed || cb->restored)
        return HH_ESTATE;
    if (hh_ser_get_u32(r) != SECTION_MAGIC)
        r->bad = true;
    tf = hh_ser_get_i64(r);
    cb->last_ts = hh_ser_get_i64(r);
    cb->out_of_session = hh_ser_get_u64(r);
    cb->late = hh_ser_get_u64(r);
    n = hh_ser_get_u32(r);
    if (tf <= 0)
        r->bad = true;
    for (uint32_t k = 0; k < n && !r->bad; k++) {
        uint32_t iid = hh_ser_get_u32(r), active = hh_ser_get_u32(r);
        struct sym_state *s;

        if (r->bad || iid >= hh_inst_count(cb->inst) || (prev != UINT32_MAX && iid <= prev) ||
            active > 1) {
            r->bad = true;
            break;
        }
        prev = iid;
        if (!ensure(cb, iid))
            return HH_ENOMEM;
        s = &cb->sym[iid];
        s->seen = true;
        if (!active)
            continue;
        if (!read_candle(r, cb, iid, tf, &s->c)) {
            r->bad = true;
            break;
        }
        s->active = true;
        heap_push(cb, iid);
    }
    if (r->bad) {
        forget(cb);
        return HH_EINVAL;
    }
    if (tf != cb->tf) {
        forget(cb);
        return HH_ECONFIG;
    }
    cb->restored = true;
    return HH_OK;
}

bool hh_candles_restored(const struct hh_candles *cb)
{
    return cb->restored;
}

hh_time_t hh_candles_last(const struct hh_candles *cb)
{
    return cb->last_ts;
}

uint64_t hh_candles_fed(const struct hh_candles *cb)
{
    return cb->fed;
}

/* ---- gaps --------------------------------------------------------------------- */

/* Periods of the session [open, close) cut every tf that end at or before x. */
static int64_t ends_by(hh_time_t open, hh_time_t close, int64_t tf, hh_time_t x)
{
    if (x < open)
        return 0;
    if (x >= close)
        return (close - open + tf - 1) / tf;
    return (x - open) / tf;   /* ends open + j*tf <= x < close */
}

/* ... that start at or before x. */
static int64_t starts_by(hh_time_t open, hh_time_t close, int64_t tf, hh_time_t x)
{
    if (x < open)
        return 0;
    if (x >= close)
        return (close - open + tf - 1) / tf;
    return (x - open) / tf + 1;
}

/* The periods of iid's candles in (from, to]: g->ended, g->missing.  Days
 * the calendar calls closed have none: nothing traded was missed there. */
static void count_gap(const struct hh_candles *cb, hh_iid_t iid, struct hh_candle_gap *g)
{
    const struct hh_instrument *in = hh_inst_get(cb->inst, iid);
    hh_date_t last = hh_time_ist_date(g->to);

    g->ended = g->missing = 0;
    for (hh_date_t d = hh_time_ist_date(g->from); d <= last; d++) {
        struct hh_session ss;
        int64_t e, s;

        if (hh_cal_session(cb->cal, in->exch, in->seg, d, &ss) != HH_OK ||
            ss.open == HH_TIME_NONE || ss.close == HH_TIME_NONE)
            continue;
        e = ends_by(ss.open, ss.close, cb->tf, g->to);
        g->ended += e - ends_by(ss.open, ss.close, cb->tf, g->from);
        s = starts_by(ss.open, ss.close, cb->tf, g->from);
        g->missing += e > s ? e - s : 0;   /* started after from, ended by to */
    }
}

void hh_candles_gaps(const struct hh_candles *cb, hh_time_t from, hh_time_t to,
                     hh_candle_gap_cb found, void *ctx)
{
    struct hh_candle_gap g = { .from = from, .to = to };

    if (from == HH_TIME_NONE || to <= from)
        return;
    for (size_t i = 0; i < cb->cap; i++) {
        if (!cb->sym[i].seen)
            continue;
        g.iid = (hh_iid_t)i;
        count_gap(cb, g.iid, &g);
        if (g.ended > 0)
            found(ctx, &g);
    }
}
