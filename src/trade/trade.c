/*
 * trade.c — the trade manager (see trade.h for the contract).
 *
 * State lives in arrays: trades[] (every trade ever, by arrival order),
 * syms[] (per instrument id: waiting trade indices in arrival order, the one
 * active trade, the candle-volume ring), and refs[] (what each broker order
 * is for, found by broker order id through a hash map).
 *
 * Trade states: WAITING -> ENTERING (entry order working, slot held)
 *   -> OPEN (position > 0, exits working) -> CLOSED;
 *   WAITING -> DROPPED (STOP_BEFORE_ENTRY, EXPIRED, SIZE_TOO_SMALL);
 *   ENTERING -> WAITING (would fill at/after square-off) or DROPPED (EXPIRED).
 *
 * Live mode (enum hh_tm_mode) changes how orders reach the broker and how
 * stops execute; its logic is in live.c, hooked in here where the backtest
 * path would call the broker or trust a report.
 *
 * Invariants:
 *  - syms[i].active is the only ENTERING/OPEN trade of instrument i;
 *  - open_count == number of ENTERING + OPEN trades <= max_open_trades;
 *  - an OPEN trade's stop order quantity == its filled part + position, and
 *    its working target quantity never exceeds the position (reduce-only).
 */
#include "trade/trade.h"

#include "trade/tm_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *hh_fill_reason_name(enum hh_fill_reason r)
{
    static const char *const names[] = { "ENTRY", "STOP", "TARGET1", "TARGET2",
                                         "TARGET3", "SQUAREOFF", "KILL", "EXPIRY",
                                         "RECONCILED" };

    return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "?";
}

const char *hh_tm_drop_name(enum hh_tm_drop d)
{
    return d == HH_DROP_STOP_BEFORE_ENTRY ? "STOP_BEFORE_ENTRY" : "EXPIRED";
}


struct hh_tm *hh_tm_new(const struct hh_tm_config *cfg, const struct hh_instruments *inst,
                        const struct hh_calendar *cal, const struct hh_clock *clock,
                        struct hh_broker broker, const struct hh_tm_sink *sink)
{
    struct hh_tm *tm = calloc(1, sizeof *tm);

    if (!tm)
        return NULL;
    tm->cfg = *cfg;
    tm->inst = inst;
    tm->cal = cal;
    tm->clock = clock;
    tm->broker = broker;
    if (sink)
        tm->sink = *sink;
    if (hh_u64map_init(&tm->by_oid, 1024)) {
        free(tm);
        return NULL;
    }
    tm->stats.equity = tm->stats.peak_equity = cfg->capital;
    if (hh_tm__groups_init(tm) || hh_tm__orders_init(tm)) {
        hh_tm_free(tm);
        return NULL;
    }
    broker.ops->set_sink(broker.impl, hh_tm__on_report, tm);
    return tm;
}

void hh_tm_free(struct hh_tm *tm)
{
    if (!tm)
        return;
    for (size_t i = 0; i < tm->nsyms; i++) {
        free(tm->syms[i].waiting);
        free(tm->syms[i].vols);
    }
    free(tm->syms);
    free(tm->trades);
    free(tm->refs);
    free(tm->ready);
    hh_tm__groups_free(tm);
    hh_tm__orders_free(tm);
    hh_tm__arrivals_free(tm);
    hh_u64map_free(&tm->by_oid);
    free(tm);
}

const struct hh_tm_stats *hh_tm_stats(const struct hh_tm *tm)
{
    return &tm->stats;
}

/* ---- storage helpers ------------------------------------------------ */

struct sym *hh_tm__sym(struct hh_tm *tm, hh_iid_t iid)
{
    if (iid >= tm->nsyms) {
        size_t n = tm->nsyms ? tm->nsyms : 64;
        struct sym *s;

        while (n <= iid)
            n *= 2;
        s = realloc(tm->syms, n * sizeof *s);
        if (!s)
            return NULL;
        for (size_t i = tm->nsyms; i < n; i++) {
            memset(&s[i], 0, sizeof s[i]);
            s[i].active = -1;
        }
        tm->syms = s;
        tm->nsyms = n;
    }
    return &tm->syms[iid];
}

/* Insert trade index t into the waiting list, keeping arrival order. */
static int waiting_add(struct sym *s, uint32_t t)
{
    size_t i;

    if (hh_grow(&s->waiting, &s->capw, s->nw + 1, sizeof *s->waiting))
        return HH_ENOMEM;
    for (i = s->nw; i > 0 && s->waiting[i - 1] > t; i--)
        s->waiting[i] = s->waiting[i - 1];
    s->waiting[i] = t;
    s->nw++;
    s->band_valid = false;
    return HH_OK;
}

static void waiting_remove(struct sym *s, uint32_t t)
{
    for (size_t i = 0; i < s->nw; i++) {
        if (s->waiting[i] == t) {
            memmove(s->waiting + i, s->waiting + i + 1, (s->nw - i - 1) * sizeof *s->waiting);
            s->nw--;
            s->band_valid = false;
            return;
        }
    }
}

int hh_tm_signal(struct hh_tm *tm, const struct hh_signal *s)
{
    struct sym *sy = hh_tm__sym(tm, s->iid);
    struct trade *t;

    if (!sy || hh_grow(&tm->trades, &tm->captrades, tm->ntrades + 1, sizeof *tm->trades))
        return HH_ENOMEM;
    t = &tm->trades[tm->ntrades];
    memset(t, 0, sizeof *t);
    t->sig = *s;
    t->serial = ++tm->next_serial;
    t->st = T_WAITING;
    t->squareoff_at = HH_TIME_MAX;
    if (waiting_add(sy, (uint32_t)tm->ntrades))
        return HH_ENOMEM;
    tm->ntrades++;
    tm->stats.waiting++;
    tm->changes++;
    return HH_OK;
}

/* ---- orders ----------------------------------------------------------- */

/* Tell the order sink (store, audit) what happened to an order. */
void hh_tm__emit_order(struct hh_tm *tm, struct hh_tm_order_event *e, uint32_t owner,
                       bool group)
{
    if (!tm->sink.order)
        return;
    e->ts = tm->clock->now;
    e->sig = group ? &tm->groups[owner].sig : &tm->trades[owner].sig;
    e->trade_id = group ? tm->groups[owner].trade_id : tm->trades[owner].trade_id;
    tm->sink.order(tm->sink.ctx, e);
}

/* An order's placement (SENT with the broker's id, or SEND_FAILED with rc),
 * a cancellation asked, or a report; the event carries the order's state as
 * its machine has it (the store's orders table shows exactly that). */
void hh_tm__emit_ref(struct hh_tm *tm, enum hh_tm_order_kind kind, const struct order_ref *ref,
                     const struct hh_report *r, int rc)
{
    struct hh_tm_order_event e = { .kind = kind, .order_id = ref->boid, .report = r,
                                   .req = &ref->req, .rc = rc, .state = ref->ord.state };

    hh_tm__emit_order(tm, &e, ref->trade, ref->group);
}

int hh_tm__place(struct hh_tm *tm, const char *client, uint32_t owner, bool group,
                 enum purpose p, int leg, hh_iid_t iid, enum hh_side side,
                 enum hh_ord_type type, hh_qty_t qty, hh_price_t level, uint64_t *oid)
{
    struct hh_order_req req;

    memset(&req, 0, sizeof req);
    snprintf(req.client_id, sizeof req.client_id, "%s", client);
    req.iid = iid;
    req.side = side;
    req.type = type;
    req.qty = qty;
    if (type == HH_ORD_LIMIT)
        req.limit = level;
    else if (type == HH_ORD_STOP)
        req.trigger = level;
    return hh_tm__place_req(tm, &req, owner, group, p, leg, oid);
}

int hh_tm__place_req(struct hh_tm *tm, const struct hh_order_req *req, uint32_t owner,
                     bool group, enum purpose p, int leg, uint64_t *oid)
{
    struct order_ref *ref;

    if (strnlen(req->client_id, HH_CLIENT_ID_MAX) > HH_TAG_MAX)
        return HH_ERANGE;   /* it would not fit the broker's tag: not unique there */
    if (!hh_tm__kill_allows(tm, p, group))
        return HH_ESTATE;   /* the kill switch: not decided at all */
    if (hh_grow(&tm->refs, &tm->caprefs, tm->nrefs + 1, sizeof *tm->refs))
        return HH_ENOMEM;
    /* write-ahead: queued now, sent by the next flush */
    ref = &tm->refs[tm->nrefs];
    memset(ref, 0, sizeof *ref);
    ref->trade = owner;
    ref->group = group;
    ref->purpose = p;
    ref->leg = leg;
    ref->placed_at = tm->clock->now;
    ref->qty = req->qty;
    ref->req = *req;
    return hh_tm__queue_place(tm, ref, oid);
}

struct order_ref *hh_tm__ref(struct hh_tm *tm, uint64_t oid)
{
    uint64_t v;

    return oid && hh_u64map_get(&tm->by_oid, oid, &v) ? &tm->refs[v - 1] : NULL;
}

void hh_tm__cancel(struct hh_tm *tm, uint64_t oid)
{
    struct order_ref *ref = hh_tm__ref(tm, oid);

    if (ref)
        hh_tm__queue_cancel(tm, ref);   /* done when the broker confirms */
}

void hh_tm__modify(struct hh_tm *tm, uint64_t oid, hh_qty_t qty, hh_price_t trigger)
{
    struct order_ref *ref = hh_tm__ref(tm, oid);

    if (ref)
        hh_tm__queue_modify(tm, ref, qty, trigger);
}

/* ---- sizing and selection ------------------------------------------- */

int64_t hh_tm_size_lots(const struct hh_tm *tm, const struct hh_signal *s)
{
    const struct hh_instrument *in = hh_inst_get(tm->inst, s->iid);
    hh_price_t risk = s->entry > s->stop ? s->entry - s->stop : s->stop - s->entry;
    __int128 base, lots;

    if (s->lots > 0) {
        base = s->lots;
    } else {
        if (tm->stats.equity <= 0)
            return 0;
        /* floor(equity x risk_per_trade / (|entry - stop| x lot_size)) */
        base = hh_i128_div_floor((__int128)tm->stats.equity * tm->cfg.risk_per_trade,
                                 (__int128)risk * in->lot_size * HH_RATIO_SCALE);
    }
    lots = hh_i128_div_floor(base * tm->cfg.size_scale, HH_RATIO_SCALE);
    if (lots > tm->cfg.max_lots_per_trade)
        lots = tm->cfg.max_lots_per_trade;
    return lots < 0 ? 0 : (int64_t)lots;
}

/* Reward/risk as a comparable fraction. */
static void rr_of(const struct hh_signal *s, __int128 *num, __int128 *den)
{
    hh_price_t r = s->targets[0] - s->entry, k = s->entry - s->stop;

    *num = r < 0 ? -r : r;
    *den = k < 0 ? -k : k;
}

/* Best first: higher reward/risk, higher confidence, earlier ts, then id. */
static int better(const struct hh_signal *a, const struct hh_signal *b)
{
    __int128 an, ad, bn, bd, l, r;
    int c;

    rr_of(a, &an, &ad);
    rr_of(b, &bn, &bd);
    l = an * bd;
    r = bn * ad;
    if (l != r)
        return l > r ? -1 : 1;
    if (a->confidence != b->confidence)
        return a->confidence > b->confidence ? -1 : 1;
    if (a->ts != b->ts)
        return a->ts < b->ts ? -1 : 1;
    c = strcmp(a->id, b->id);
    return c ? c : (a->line < b->line ? -1 : a->line > b->line);
}

/* Insertion sort: a selection holds few trades. */
static void sort_ready(struct hh_tm *tm)
{
    for (size_t i = 1; i < tm->nready; i++) {
        uint32_t x = tm->ready[i];
        size_t j = i;

        while (j > 0 && better(&tm->trades[x].sig, &tm->trades[tm->ready[j - 1]].sig) < 0) {
            tm->ready[j] = tm->ready[j - 1];
            j--;
        }
        tm->ready[j] = x;
    }
}

static void mark_ready(struct hh_tm *tm, uint32_t ti)
{
    struct trade *t = &tm->trades[ti];

    if (t->ready)
        return;
    if (tm->nready == tm->capready &&
        hh_grow(&tm->ready, &tm->capready, tm->nready + 1, sizeof *tm->ready))
        return;  /* out of memory: the trade simply is not taken now */
    t->ready = true;
    tm->ready[tm->nready++] = ti;
}

static void reject_size(struct hh_tm *tm, uint32_t ti)
{
    struct trade *t = &tm->trades[ti];
    char detail[160];

    waiting_remove(&tm->syms[t->sig.iid], ti);
    t->st = T_DROPPED;
    tm->stats.waiting--;
    tm->stats.size_too_small++;
    tm->changes++;
    snprintf(detail, sizeof detail, "sizing gives less than one lot at equity %lld.%02lld",
             (long long)(tm->stats.equity / HH_RUPEE),
             (long long)((tm->stats.equity % HH_RUPEE) / HH_PAISA));
    if (tm->sink.rejected)
        tm->sink.rejected(tm->sink.ctx, &t->sig, HH_SIG_SIZE_TOO_SMALL, detail);
}

static void take(struct hh_tm *tm, uint32_t ti, int64_t lots)
{
    struct trade *t = &tm->trades[ti];
    const struct hh_instrument *in = hh_inst_get(tm->inst, t->sig.iid);
    struct sym *sy = &tm->syms[t->sig.iid];
    hh_time_t now = tm->clock->now;
    int64_t sq = hh_tm__squareoff_tod(tm, in, hh_time_ist_date(now));
    char client[HH_CLIENT_ID_MAX];

    /* No entry at or after the square-off (SPEC §5): it is not sent at all
     * (a market order would fill before any cancel); it stays waiting. */
    if (sq >= 0 && hh_time_ist_tod(now) >= sq)
        return;
    t->lots = lots;
    t->qty = lots * in->lot_size;
    t->attempt++;
    hh_tm__client_id(client, 'h', t->serial, 'e', -1, ++t->orders);
    if (hh_tm__place(tm, client, ti, false, P_ENTRY, -1, t->sig.iid, t->sig.side,
                     HH_ORD_MARKET, t->qty, 0, &t->entry_oid))
        return;  /* out of memory, or the engine stops: it stays waiting */
    t = &tm->trades[ti];
    hh_tm__ref(tm, t->entry_oid)->entry_side = true;
    waiting_remove(sy, ti);
    tm->stats.waiting--;
    t->st = T_ENTERING;
    sy->active = ti;
    tm->open_count++;
    tm->stats.open++;
    tm->changes++;
}

void hh_tm_select(struct hh_tm *tm)
{
    sort_ready(tm);
    for (size_t i = 0; i < tm->nready; i++) {
        uint32_t ti = tm->ready[i];
        struct trade *t = &tm->trades[ti];
        int64_t lots;

        t->ready = false;
        if (t->st != T_WAITING || tm->open_count >= tm->cfg.max_open_trades ||
            tm->syms[t->sig.iid].active >= 0 || tm->trading != HH_TRADING_ACTIVE ||
            tm->entries_held)
            continue;  /* stays waiting */
        lots = hh_tm_size_lots(tm, &t->sig);
        if (lots < 1) {
            reject_size(tm, ti);
            continue;
        }
        take(tm, ti, lots);
    }
    tm->nready = 0;
    if (tm->ngroups)
        hh_tm__groups_select(tm, tm->clock->now);
    hh_tm__flush_maybe(tm);
}

void hh_tm_hold_entries(struct hh_tm *tm, bool hold)
{
    tm->entries_held = hold;
}

hh_time_t hh_tm_next_timer(const struct hh_tm *tm)
{
    return hh_timers_next(&tm->timers);
}

void hh_tm_fire_timers(struct hh_tm *tm, hh_time_t now)
{
    struct hh_timer t;

    while (hh_timers_pop_due(&tm->timers, now, &t)) {
        tm->changes++;
        if (t.kind == TMR_ORDERS) {
            if (t.id == tm->x.timer_id) {
                tm->x.timer_id = 0;
                tm->x.timer_at = HH_TIME_NONE;
            }
            hh_tm__orders_timer(tm, now);
        } else {
            hh_tm__group_timer(tm, &t);
        }
    }
    hh_tm__flush_maybe(tm);
}

uint64_t hh_tm_changes(const struct hh_tm *tm)
{
    return tm->changes;
}

/* ---- readiness and invalidation ------------------------------------- */

void hh_tm__drop(struct hh_tm *tm, uint32_t ti, enum hh_tm_drop why, hh_time_t at)
{
    struct trade *t = &tm->trades[ti];

    if (t->st == T_WAITING) {
        waiting_remove(&tm->syms[t->sig.iid], ti);
        tm->stats.waiting--;
    }
    t->st = T_DROPPED;
    tm->stats.dropped[why]++;
    tm->changes++;
    if (tm->sink.dropped)
        tm->sink.dropped(tm->sink.ctx, &t->sig, why, at);
}

/* Invalidation of waiting trades by an event of their symbol at `ts`
 * trading down to `lo` and up to `hi`.  Returns true when dropped. */
static bool invalidated(struct hh_tm *tm, uint32_t ti, hh_time_t ts, hh_price_t lo,
                        hh_price_t hi)
{
    const struct hh_signal *s = &tm->trades[ti].sig;

    if (ts >= s->valid_until) {
        hh_tm__drop(tm, ti, HH_DROP_EXPIRED, ts);
        return true;
    }
    if (s->side == HH_BUY ? lo <= s->stop : hi >= s->stop) {
        hh_tm__drop(tm, ti, HH_DROP_STOP_BEFORE_ENTRY, ts);
        return true;
    }
    return false;
}

/* volume x n >= volume_mult x sum(previous n volumes); none: passes,
 * unless candles were missed since (then the ring must fill first). */
static bool volume_ok(const struct hh_tm *tm, const struct sym *sy, hh_qty_t volume)
{
    if (tm->cfg.volume_mult <= 0)
        return true;
    if (sy->vgap)
        return false;
    if (sy->vn == 0)
        return true;
    return (__int128)volume * sy->vn * HH_RATIO_SCALE >=
           (__int128)tm->cfg.volume_mult * sy->vsum;
}

/* Only with a volume rule (volume_mult > 0): the callers test it, since
 * most runs have none and every bar and candle comes here. */
static void volume_push(struct hh_tm *tm, struct sym *sy, hh_qty_t volume)
{
    int64_t cap = tm->cfg.volume_lookback;

    if (!sy->vols) {
        sy->vols = calloc((size_t)cap, sizeof *sy->vols);
        if (!sy->vols)
            return;
    }
    tm->changes++;
    if (sy->vn == cap)
        sy->vsum -= sy->vols[sy->vpos];
    else
        sy->vn++;
    sy->vols[sy->vpos] = volume;
    sy->vsum += volume;
    sy->vpos = (sy->vpos + 1) % cap;
    if (sy->vn == cap)
        sy->vgap = false;   /* lookback candles seen since the gap */
}

void hh_tm_candle_gap(struct hh_tm *tm, hh_iid_t iid)
{
    struct sym *sy;

    if (tm->cfg.volume_mult <= 0 || !(sy = hh_tm__sym(tm, iid)))
        return;
    tm->changes++;
    sy->vn = sy->vpos = 0;
    sy->vsum = 0;
    sy->vgap = true;
}

void hh_tm_set_candles(struct hh_tm *tm, struct hh_candles *cb)
{
    tm->candles = cb;
}

uint64_t hh_tm_market_changes(const struct hh_tm *tm)
{
    return tm->candles ? hh_candles_fed(tm->candles) : 0;
}

bool hh_tm_candles_dropped(const struct hh_tm *tm)
{
    return tm->candles_dropped;
}

bool hh_tm_restore_rewrites(const struct hh_tm *tm)
{
    return !tm->candles_dropped && !tm->restored_v6;
}

/* Retest readiness on a completed candle / bar. */
static bool retest_ready(const struct hh_tm *tm, const struct sym *sy,
                         const struct hh_signal *s, hh_price_t o, hh_price_t h,
                         hh_price_t l, hh_price_t c, hh_qty_t v)
{
    bool buy = s->side == HH_BUY;

    if (buy ? !(l <= s->entry && s->entry <= c) : !(h >= s->entry && s->entry >= c))
        return false;
    if (!volume_ok(tm, sy, v))
        return false;
    if (tm->cfg.require_pattern && (buy ? !(c > o) : !(c < o)))
        return false;
    return true;
}

/* Judge the waiting trades of one symbol on a completed candle or bar. */
static void judge_candle(struct hh_tm *tm, hh_iid_t iid, hh_time_t start, hh_price_t o,
                         hh_price_t h, hh_price_t l, hh_price_t c, hh_qty_t v,
                         bool invalidate)
{
    struct sym *sy = iid < tm->nsyms ? &tm->syms[iid] : hh_tm__sym(tm, iid);

    if (!sy)
        return;
    for (size_t i = 0; i < sy->nw;) {
        uint32_t ti = sy->waiting[i];
        const struct hh_signal *s = &tm->trades[ti].sig;

        if (start < s->received_at) {
            i++;
            continue;  /* the candle does not count for this trade */
        }
        if (invalidate && invalidated(tm, ti, start, l, h))
            continue;  /* removed from the list: same i */
        if (!invalidate && start >= s->valid_until) {
            /* candles of tick data: the ticks already judged the stop */
            hh_tm__drop(tm, ti, HH_DROP_EXPIRED, start);
            continue;
        }
        if (tm->cfg.touch ? (l <= s->entry && s->entry <= h)
                          : retest_ready(tm, sy, s, o, h, l, c, v))
            mark_ready(tm, ti);
        i++;
    }
    if (tm->cfg.volume_mult > 0)
        volume_push(tm, sy, v);
}

void hh_tm_candle(struct hh_tm *tm, const struct hh_candle *c)
{
    if (tm->cfg.touch) {
        /* touch readiness comes from ticks; candles only keep volume history */
        struct sym *sy = hh_tm__sym(tm, c->iid);

        if (sy && tm->cfg.volume_mult > 0)
            volume_push(tm, sy, c->volume);
        return;
    }
    judge_candle(tm, c->iid, c->ts, c->open, c->high, c->low, c->close, c->volume, false);
}

/* ---- entries, exits, square-off ------------------------------------- */

/* Square-off time of day for an instrument (ns since IST midnight), or -1. */
int64_t hh_tm__squareoff_tod(const struct hh_tm *tm, const struct hh_instrument *in,
                             hh_date_t date)
{
    struct hh_session ss;
    int64_t before;

    if (!tm->cfg.squareoff_set)
        return -1;
    if (tm->cfg.squareoff_explicit)
        return tm->cfg.squareoff;
    /* Brokers' intraday square-off: NSE/BSE 15 min, MCX 25 min before close. */
    hh_cal_session_rules(in->seg, date, &ss);
    before = (in->exch == HH_EXCH_MCX ? 25 : 15) * HH_NS_PER_MIN;
    return hh_time_ist_tod(ss.close) - before;
}

/* Before an event at ts of a symbol with an active trade (sy): entries
 * that may not fill any more, and square-off of open positions. */
static void before_event(struct hh_tm *tm, struct sym *sy, hh_iid_t iid, hh_time_t ts)
{
    struct trade *t = &tm->trades[sy->active];

    if (t->st == T_ENTERING) {
        const struct hh_instrument *in = hh_inst_get(tm->inst, iid);
        int64_t sq = hh_tm__squareoff_tod(tm, in, hh_time_ist_date(ts));
        uint32_t ti = (uint32_t)sy->active;

        /* the entry may still fill until the broker confirms its cancel */
        if (ts >= t->sig.valid_until || (sq >= 0 && hh_time_ist_tod(ts) >= sq))
            hh_tm__abandon(tm, ti, ts >= t->sig.valid_until);
        return;
    }
    if (t->st == T_OPEN && !t->squared_off && ts >= t->squareoff_at)
        hh_tm__squareoff(tm, (uint32_t)sy->active);
}

/* After an event of the symbol: invalidation and touch readiness of the
 * waiting trades, for a tick (lo == hi == price) or a bar. */
static void compute_band(const struct hh_tm *tm, struct sym *sy)
{
    sy->buy_stop_max = INT64_MIN;
    sy->sell_stop_min = INT64_MAX;
    sy->valid_min = HH_TIME_MAX;
    for (size_t i = 0; i < sy->nw; i++) {
        const struct hh_signal *s = &tm->trades[sy->waiting[i]].sig;

        if (s->side == HH_BUY && s->stop > sy->buy_stop_max)
            sy->buy_stop_max = s->stop;
        if (s->side == HH_SELL && s->stop < sy->sell_stop_min)
            sy->sell_stop_min = s->stop;
        if (s->valid_until < sy->valid_min)
            sy->valid_min = s->valid_until;
    }
    sy->band_valid = true;
}

/*
 * Could the selection that follows a tick of sy's symbol (hh_tm_tick) take
 * one of its waiting trades?  Not with every slot held, nor while the
 * symbol has its active trade: hh_tm_select skips every ready trade then,
 * and nothing between the marks and the selection frees a slot or the
 * symbol — except a group's exit, so with groups the answer is yes.
 */
static bool may_take(const struct hh_tm *tm, const struct sym *sy)
{
    return (tm->ngroups != 0) | ((tm->open_count < tm->cfg.max_open_trades) & (sy->active < 0));
}

static void after_tick(struct hh_tm *tm, const struct hh_tick *x)
{
    struct sym *sy = x->iid < tm->nsyms ? &tm->syms[x->iid] : NULL;
    bool touch, inside;

    if (!sy)
        return;
    if (!sy->band_valid)
        compute_band(tm, sy);
    /* Touch readiness is marked only where it can change the selection.
     * One branch decides, not one per condition: whether a tick's symbol
     * has waiting trades, a free slot or a price near a stop follows no
     * pattern a predictor learns.  No waiting trade: the band is empty. */
    touch = tm->cfg.touch & (sy->nw != 0) & may_take(tm, sy);
    inside = (x->price > sy->buy_stop_max) & (x->price < sy->sell_stop_min) &
             (x->ts < sy->valid_min);
    if (!touch & inside)
        return;   /* nothing to invalidate, nothing to touch */
    for (size_t i = 0; i < sy->nw;) {
        uint32_t ti = sy->waiting[i];
        const struct hh_signal *s = &tm->trades[ti].sig;

        if (x->ts < s->received_at) {
            i++;
            continue;
        }
        if (invalidated(tm, ti, x->ts, x->price, x->price))
            continue;
        if (touch && (s->side == HH_BUY ? x->price >= s->entry : x->price <= s->entry))
            mark_ready(tm, ti);
        i++;
    }
}

/* The last traded price of a symbol, for groups' marks and margin. */
static inline void note_price(struct hh_tm *tm, hh_iid_t iid, hh_price_t p)
{
    struct sym *sy = iid < tm->nsyms ? &tm->syms[iid] : hh_tm__sym(tm, iid);

    if (sy)
        sy->last = p;
}

/* Before the broker sees an event of iid at ts: what must not trade at it
 * (entries past their time, square-off) is decided and carried out — with a
 * broker that confirms at once, before this very event is matched. */
static inline void before_market(struct hh_tm *tm, hh_iid_t iid, hh_time_t ts)
{
    if (iid < tm->nsyms && tm->syms[iid].active >= 0)
        before_event(tm, &tm->syms[iid], iid, ts);
    if (tm->ngroups)
        hh_tm__groups_before(tm, iid, ts);
    hh_tm__flush_maybe(tm);
}

/* After the broker matched an event of iid trading lo..hi: the held stop. */
static inline void after_market(struct hh_tm *tm, hh_iid_t iid, hh_price_t lo, hh_price_t hi)
{
    if (iid < tm->nsyms && tm->syms[iid].active >= 0)
        hh_tm__exits_market(tm, (uint32_t)tm->syms[iid].active, lo, hi);
}

void hh_tm_tick(struct hh_tm *tm, const struct hh_tick *t)
{
    before_market(tm, t->iid, t->ts);
    if (tm->broker.ops->on_tick)
        tm->broker.ops->on_tick(tm->broker.impl, t);
    note_price(tm, t->iid, t->price);
    after_market(tm, t->iid, t->price, t->price);
    after_tick(tm, t);
    if (tm->ngroups)
        hh_tm__groups_after(tm, t->iid, t->ts);
    if (tm->nready || tm->ngroups)
        hh_tm_select(tm);
    hh_tm__flush_maybe(tm);
}

void hh_tm_bars(struct hh_tm *tm, const struct hh_bar *bars, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct hh_bar *b = &bars[i];

        before_market(tm, b->iid, b->ts);
        if (tm->broker.ops->on_bar)
            tm->broker.ops->on_bar(tm->broker.impl, b);
        note_price(tm, b->iid, b->close);
        after_market(tm, b->iid, b->low, b->high);
        /* judging needs waiting trades or a volume ring to feed (note_price
         * made the symbol's state) */
        if (b->iid >= tm->nsyms || tm->syms[b->iid].nw || tm->cfg.volume_mult > 0)
            judge_candle(tm, b->iid, b->ts, b->open, b->high, b->low, b->close, b->volume,
                         true);
        if (tm->ngroups)
            hh_tm__groups_after(tm, b->iid, b->ts);
    }
    hh_tm_select(tm);
}

/* ---- fills ------------------------------------------------------------ */

void hh_tm__emit_fill(struct hh_tm *tm, const struct hh_signal *sig, uint32_t trade_id,
                      const struct hh_report *r, enum hh_fill_reason reason,
                      hh_money_t charges)
{
    struct hh_tm_fill f;

    if (!tm->sink.fill)
        return;
    f.ts = r->ts;
    f.order_id = r->order_id;
    f.trade_id = trade_id;
    f.sig = sig;
    f.iid = r->iid;
    f.side = r->side;
    f.qty = r->qty;
    f.price = r->price;
    f.reason = reason;
    f.charges = charges;
    tm->sink.fill(tm->sink.ctx, &f);
}

void hh_tm__book_closed(struct hh_tm *tm, const struct hh_tm_trade *out)
{
    tm->stats.trades_closed++;
    tm->stats.wins += out->net > 0;
    tm->stats.losses += out->net < 0;
    tm->stats.gross += out->gross;
    tm->stats.charges += out->charges;
    tm->stats.net += out->net;
    tm->stats.equity += out->net;
    if (tm->stats.equity > tm->stats.peak_equity)
        tm->stats.peak_equity = tm->stats.equity;
    if (tm->stats.peak_equity - tm->stats.equity > tm->stats.max_drawdown)
        tm->stats.max_drawdown = tm->stats.peak_equity - tm->stats.equity;
    if (tm->sink.closed)
        tm->sink.closed(tm->sink.ctx, out);
}

hh_money_t hh_tm__charge(struct hh_tm *tm, struct order_ref *ref, const struct hh_report *r)
{
    struct hh_charge_breakdown bd;

    hh_charges_fill(tm->cfg.fees, hh_time_ist_date(r->ts), r->side, r->price * r->qty,
                    ref->brokerage_paid, &bd);
    ref->brokerage_paid += bd.c[HH_CHG_BROKERAGE];
    return bd.total;
}

void hh_tm__close_trade(struct hh_tm *tm, uint32_t ti)
{
    struct trade *t = &tm->trades[ti];
    struct hh_tm_trade out;
    hh_price_t risk = t->sig.entry > t->sig.stop ? t->sig.entry - t->sig.stop
                                                  : t->sig.stop - t->sig.entry;
    hh_money_t gross = t->sig.side == HH_BUY ? t->exit_value - t->entry_value
                                              : t->entry_value - t->exit_value;

    t->st = T_CLOSED;
    if (tm->syms[t->sig.iid].active == (int64_t)ti)
        tm->syms[t->sig.iid].active = -1;
    tm->open_count--;
    tm->stats.open--;

    memset(&out, 0, sizeof out);
    out.trade_id = t->trade_id;
    out.sig = &t->sig;
    out.iid = t->sig.iid;
    out.side = t->sig.side;
    out.qty = t->entry_filled;
    out.entry_ts = t->entry_ts;
    out.entry_price = (hh_price_t)hh_i128_div_round(t->entry_value,
                                                    (__int128)t->entry_filled * HH_PAISA) * HH_PAISA;
    out.exit_ts = t->exit_ts;
    out.avg_exit_price = (hh_price_t)hh_i128_div_round(t->exit_value,
                                                       (__int128)t->exit_qty * HH_PAISA) * HH_PAISA;
    out.exit_reason = t->last_exit;
    out.gross = gross;
    out.charges = t->charges;
    out.net = gross - t->charges;
    /* an adopted position has no stop: no risk unit, no R multiple */
    out.r_multiple = risk ? (int64_t)hh_i128_div_round((__int128)out.net * 100,
                                                       (__int128)risk * t->entry_filled) : 0;

    hh_tm__book_closed(tm, &out);
}

static void on_entry_fill(struct hh_tm *tm, uint32_t ti, const struct hh_report *r)
{
    struct trade *t = &tm->trades[ti];
    const struct hh_instrument *in = hh_inst_get(tm->inst, t->sig.iid);

    if (t->entry_filled == 0) {
        int64_t sq = hh_tm__squareoff_tod(tm, in, hh_time_ist_date(r->ts));

        t->trade_id = ++tm->next_trade_id;
        t->entry_ts = r->ts;
        t->st = T_OPEN;
        t->squareoff_at = HH_TIME_MAX;
        if (sq >= 0) {
            t->squareoff_at = hh_time_from_ist(hh_time_ist_date(r->ts), sq);
            if (t->squareoff_at <= r->ts)
                t->squareoff_at += HH_NS_PER_DAY;
        }
    }
    t->entry_filled += r->qty;
    t->entry_value += r->price * r->qty;
    t->pos += r->qty;
}

static void on_exit_fill(struct hh_tm *tm, uint32_t ti, enum purpose p,
                         const struct hh_report *r)
{
    struct trade *t = &tm->trades[ti];
    hh_qty_t q = r->qty < t->pos ? r->qty : t->pos > 0 ? t->pos : 0;

    t->pos -= q;
    t->exit_value += r->price * q;
    t->exit_qty += q;
    t->exit_ts = r->ts;
    t->last_exit = p == P_STOP ? HH_FR_STOP
                 : p == P_SQUAREOFF ? HH_FR_SQUAREOFF
                 : (enum hh_fill_reason)(HH_FR_TARGET1 + (p - P_T1));
    /* Breakeven: after T1, while lots remain, the stop's level becomes the
     * signal's entry (a resting stop moves with it, counting from the next
     * point of the path — the exchange's rule for a changed price). */
    if (p == P_T1 && tm->cfg.breakeven_after_t1 && t->pos > 0)
        t->breakeven_done = true;
    if (r->qty > q)
        hh_tm__overfill(tm, t->sig.iid, r->side, r->qty - q, r->price);
}

static enum hh_fill_reason reason_of(enum purpose p)
{
    switch (p) {
    case P_ENTRY: return HH_FR_ENTRY;
    case P_STOP: return HH_FR_STOP;
    case P_T1: return HH_FR_TARGET1;
    case P_T2: return HH_FR_TARGET2;
    case P_T3: return HH_FR_TARGET3;
    case P_SQUAREOFF: return HH_FR_SQUAREOFF;
    case P_HEDGE:
    case P_CLOSE:
    case P_STRAY:
        break;  /* group orders: group.c names their fills; a stray's none */
    }
    return HH_FR_ENTRY;
}

static void on_fill(struct hh_tm *tm, struct order_ref *ref, const struct hh_report *r)
{
    uint32_t ti = ref->trade;
    struct trade *t = &tm->trades[ti];
    hh_money_t charges;

    ref->filled += r->qty;
    ref->value += r->price * r->qty;
    if (ref->filled >= ref->qty)
        ref->done = true;
    charges = hh_tm__charge(tm, ref, r);
    t->charges += charges;
    if (ref->purpose == P_ENTRY) {
        on_entry_fill(tm, ti, r);
        hh_tm__emit_fill(tm, &t->sig, t->trade_id, r, HH_FR_ENTRY, charges);
        return;
    }
    hh_tm__emit_fill(tm, &t->sig, t->trade_id, r, reason_of(ref->purpose), charges);
    on_exit_fill(tm, ti, ref->purpose, r);
}

/* An ENTERING trade whose entry ended unfilled waits again (slot freed). */
void hh_tm__back_to_waiting(struct hh_tm *tm, uint32_t ti)
{
    struct trade *t = &tm->trades[ti];
    struct sym *sy = &tm->syms[t->sig.iid];

    sy->active = -1;
    tm->open_count--;
    tm->stats.open--;
    t->st = T_WAITING;
    t->abandon = AB_NONE;
    waiting_add(sy, ti);
    tm->stats.waiting++;
}

void hh_tm__on_report(void *ctx, const struct hh_report *r)
{
    struct hh_tm *tm = ctx;
    struct order_ref *ref;

    tm->x.stats.reports++;
    ref = hh_tm__ref_by_boid(tm, r->order_id);
    if (!ref) {
        /* not ours, or a placement not yet known (timed out): either way
         * the position moved without us — the poll says how */
        tm->x.stats.reports_unknown++;
        if (r->kind == HH_RPT_FILL && r->iid < tm->nsyms && tm->syms[r->iid].traded) {
            tm->x.stats.foreign_fills++;
            tm->syms[r->iid].foreign = true;
            tm->x.poll_wanted = true;
        }
        return;
    }
    hh_tm__deliver(tm, ref, r);
    hh_tm__flush_maybe(tm);   /* a report from the broker's market event or stream */
}

/*
 * A report about ref, from the broker or built by the engine: first through
 * the order's state machine (what it refuses is never booked), then booked
 * by the owner, then the owner's exits decide what follows.
 */
void hh_tm__deliver(struct hh_tm *tm, struct order_ref *ref, const struct hh_report *r)
{
    size_t idx = (size_t)(ref - tm->refs);   /* handlers may grow refs[] */
    struct hh_report lr;

    if (!hh_tm__apply_report(tm, ref, r, &lr))
        return;
    r = &lr;
    ref = &tm->refs[idx];
    tm->changes++;
    if (ref->boid)   /* an order never sent has no broker report */
        hh_tm__emit_ref(tm, HH_TMO_REPORT, ref, r, 0);
    if (ref->purpose == P_STRAY) {
        hh_tm__stray_report(tm, ref, r);   /* no owner books it */
    } else if (ref->group) {
        hh_tm__group_report(tm, ref, r);
    } else {
        if (r->kind == HH_RPT_FILL)
            on_fill(tm, ref, r);
        else if (r->kind != HH_RPT_ACK && r->kind != HH_RPT_MODIFIED)
            ref->done = true;   /* an end: what follows is the exits' to decide */
        hh_tm__exits_report(tm, &tm->refs[idx], r);
    }
    ref = &tm->refs[idx];
    /* the owner booked exactly what the order's machine accepted */
    HH_ASSERT(ref->filled == ref->ord.filled && ref->qty == ref->ord.req.qty &&
              ref->done == hh_ord_state_terminal(ref->ord.state));
    if (ref->done)
        ref->poll = false;
    hh_tm__arm(tm);
}
