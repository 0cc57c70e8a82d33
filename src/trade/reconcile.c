/*
 * reconcile.c — adopting the broker's state (seed fixes #6, #7).
 *
 * The broker is the truth.  Its order book settles each working order: a
 * fill the update stream lost becomes a fill (one synthetic report, priced
 * at the broker's average of the missing part), an order it ended ends
 * here, an order it never heard of is treated as rejected.  Then net
 * positions are compared; what still differs is adopted as a trade of its
 * own (so it is marked, squared off and protected like any other), and a
 * short option with no long of its bucket to cover it is bought back.  An
 * order of ours no ref stands for any more (stray.c) is cancelled first; what
 * it filled is adopted here, by position, and closed at once.
 *
 * Reports built here pass through the same handler as the broker's own, so
 * a reconciled fill is charged, booked and persisted exactly like a real one
 * — and in live mode goes through the order's state machine first; an
 * order the broker shows working while the machine still says SENT (its
 * ACK was lost) gets the ACK, so after a poll every order's machine agrees
 * with the broker's view of it (hh_ord_matches).
 */
#include "trade/tm_int.h"

#include <stdlib.h>
#include <string.h>

/* Synthetic exec ids live in their own space: bit 62 set, bit 63 clear.
 * The simulated brokers count from 1 and the Kite adapter sets bit 63, so
 * no broker's id is ever one of them. */
#define SYNTHETIC_EXEC_BIT (1ULL << 62)

uint64_t hh_tm__synthetic_exec(uint64_t boid, hh_qty_t cum)
{
    /* Derived from what the fill is — the order and the cumulative quantity
     * it brings the order to — so the same fill found again after a restart
     * has the same id (stored once); FNV-1a over both, folded into 62 bits. */
    uint64_t h = 0xcbf29ce484222325ULL, v[2] = { boid, (uint64_t)cum };
    const unsigned char *p = (const unsigned char *)v;

    for (size_t i = 0; i < sizeof v; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return SYNTHETIC_EXEC_BIT | (h & (SYNTHETIC_EXEC_BIT - 1));
}

/* An order acknowledged this recently may not be in a lagging book yet: its
 * absence is not yet a divergence; nor is one absence — the order must be
 * missing from this many listings in a row, then not found by its client
 * id, before it is declared gone (and its exit decided again under a new
 * id: declaring too early would double the exit). */
#define UNKNOWN_POLLS 2

const char *hh_div_kind_name(enum hh_div_kind k)
{
    static const char *const names[] = { "MISSED_FILL", "MISSED_END", "UNKNOWN_ORDER",
                                         "POSITION", "NAKED_SHORT", "FOREIGN_ORDER",
                                         "OVERSELL", "STRAY_ORDER" };

    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

static void report(hh_div_fn fn, void *ctx, enum hh_div_kind k, hh_iid_t iid, uint64_t oid,
                   hh_qty_t eng, hh_qty_t brk)
{
    struct hh_tm_divergence d = { k, iid, oid, eng, brk };

    if (fn)
        fn(ctx, &d);
}

static const struct hh_broker_order *find_order(const struct hh_broker_order *o, size_t n,
                                                uint64_t oid)
{
    for (size_t i = 0; i < n; i++)
        if (o[i].order_id == oid)
            return &o[i];
    return NULL;
}

/* A report about order boid built from the broker's view b of it. */
static void from_broker(struct hh_tm *tm, struct hh_report *r, enum hh_report_kind kind,
                        uint64_t boid, const struct hh_broker_order *b, const char *why)
{
    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->order_id = boid;
    r->ts = tm->clock->now;
    r->iid = b->iid;
    r->side = b->side;
    r->filled = b->filled;
    snprintf(r->reason, sizeof r->reason, "%s", why);
}

/* The fills the stream lost: one fill at the broker's average price of the
 * missing part (rounded to the tick). */
static void settle_fill(struct hh_tm *tm, size_t k, const struct order_ref *ref,
                        const struct hh_broker_order *b)
{
    hh_qty_t q = b->filled - ref->filled;
    __int128 missing = (__int128)b->avg_price * b->filled - ref->value;
    hh_price_t tick = hh_inst_get(tm->inst, b->iid)->tick;
    struct hh_report r;

    from_broker(tm, &r, HH_RPT_FILL, ref->boid, b, "");
    r.qty = q;
    r.price = (hh_price_t)(hh_i128_div_round(missing, (__int128)q * tick) * tick);
    r.leaves = b->qty - b->filled;
    r.exec_id = hh_tm__synthetic_exec(ref->boid, b->filled);
    hh_tm__deliver(tm, &tm->refs[k], &r);
}

/* The report that ends an order the broker shows ended.  A broker that
 * rejects an order after part of it filled has in effect cancelled the rest:
 * REJECTED after fills is no transition of the state machine, and the
 * broker's view must win, so the remainder ends as CANCELLED. */
static enum hh_report_kind ended_kind(const struct hh_broker_order *b)
{
    if (b->state == HH_OS_CANCELLED || (b->state == HH_OS_REJECTED && b->filled > 0))
        return HH_RPT_CANCELLED;
    return b->state == HH_OS_EXPIRED ? HH_RPT_EXPIRED : HH_RPT_REJECTED;
}

/* Settle one working order against the broker's view of it. */
int hh_tm__settle(struct hh_tm *tm, size_t k, const struct hh_broker_order *b, hh_div_fn fn,
                  void *ctx)
{
    struct order_ref ref = tm->refs[k];   /* a copy: delivering may grow refs[] */
    struct hh_report r;
    int found = 0;

    if (!b) {
        struct hh_broker_order row;
        int rc;

        if (ref.acked_at == HH_TIME_NONE || tm->clock->now - ref.acked_at < HH_TM_BOOK_GRACE ||
            ++tm->refs[k].missing < UNKNOWN_POLLS)
            return 0;
        tm->x.stats.unknown_lookups++;
        rc = hh_tm__lookup(tm, k, &row);
        if (rc == HH_OK)
            return hh_tm__settle(tm, k, &row, fn, ctx);   /* it is there after all */
        if (rc != HH_ENOTFOUND)
            return 0;   /* the look-up failed: the next poll asks again */
        report(fn, ctx, HH_DIV_UNKNOWN_ORDER, HH_IID_NONE, ref.boid, ref.filled, 0);
        memset(&r, 0, sizeof r);
        r.kind = HH_RPT_REJECTED;
        r.order_id = ref.boid;
        r.ts = tm->clock->now;
        snprintf(r.reason, sizeof r.reason, "unknown at the broker (reconciliation)");
        hh_tm__deliver(tm, &tm->refs[k], &r);
        return 1;
    }
    tm->refs[k].missing = 0;
    if (b->filled > ref.filled) {
        report(fn, ctx, HH_DIV_MISSED_FILL, b->iid, ref.boid, ref.filled, b->filled);
        settle_fill(tm, k, &ref, b);
        found++;
    }
    if (hh_ord_state_terminal(b->state) && b->state != HH_OS_FILLED && !tm->refs[k].done) {
        report(fn, ctx, HH_DIV_MISSED_END, b->iid, ref.boid, ref.filled, b->filled);
        from_broker(tm, &r, ended_kind(b), ref.boid, b, "ended at the broker (reconciliation)");
        hh_tm__deliver(tm, &tm->refs[k], &r);
        found++;
    }
    if (tm->refs[k].ord.state == HH_OS_SENT && !hh_ord_state_terminal(b->state)) {
        from_broker(tm, &r, HH_RPT_ACK, ref.boid, b, "working at the broker (reconciliation)");
        r.leaves = b->qty - b->filled;
        hh_tm__deliver(tm, &tm->refs[k], &r);
    }
    return found;
}

/*
 * The instruments whose position cannot be judged in this poll: one of the
 * engine's orders in it may have fills the listing does not show — an
 * order the (lagging) book leaves out, or one whose placement has an
 * unknown outcome.  Their positions wait for a poll that lists everything.
 */
static void mark_unsettled(struct hh_tm *tm, const struct hh_broker_order *bo, size_t nbo)
{
    for (size_t i = 0; i < tm->nsyms; i++)
        tm->syms[i].unsettled = false;
    for (size_t k = 0; k < tm->nrefs; k++) {
        const struct order_ref *ref = &tm->refs[k];

        if (ref->done || ref->req.iid >= tm->nsyms)
            continue;
        if (ref->pstate == PS_FINDING ||
            (ref->pstate == PS_PLACED && !find_order(bo, nbo, ref->boid)))
            tm->syms[ref->req.iid].unsettled = true;
    }
}

static bool unsettled(const struct hh_tm *tm, hh_iid_t iid)
{
    return iid < tm->nsyms && tm->syms[iid].unsettled;
}

static int settle_order(struct hh_tm *tm, size_t k, const struct hh_broker_order *bo, size_t nbo,
                        hh_div_fn fn, void *ctx)
{
    return hh_tm__settle(tm, k, find_order(bo, nbo, tm->refs[k].boid), fn, ctx);
}

hh_qty_t hh_tm_position(const struct hh_tm *tm, hh_iid_t iid)
{
    hh_qty_t q = 0;

    for (size_t i = 0; i < tm->ntrades; i++) {
        const struct trade *t = &tm->trades[i];

        if (t->sig.iid == iid && t->st == T_OPEN)
            q += t->sig.side == HH_BUY ? t->pos : -t->pos;
    }
    for (size_t i = 0; i < tm->ngroups; i++) {
        const struct tm_group *G = &tm->groups[i];

        for (int k = 0; k < G->g.nlegs; k++)
            if (G->g.legs[k].iid == iid)
                q += (G->leg[k].is_short ? -1 : 1) * (G->leg[k].filled - G->leg[k].closed);
        for (int b = 0; b < G->nbuckets; b++)
            if (G->bucket[b].hedge_iid == iid)
                q += G->bucket[b].hedge.held;
    }
    return q;
}

static hh_qty_t absq(hh_qty_t q)
{
    return q < 0 ? -q : q;
}

/* Has the engine ever placed an order in iid?  (Kept across restarts.) */
static bool traded(const struct hh_tm *tm, hh_iid_t iid)
{
    return iid < tm->nsyms && tm->syms[iid].traded;
}

/* A position the engine did not know: adopted as an open trade of its own,
 * squared off like any trade.  `closing`: adopted only to be closed at once
 * (a naked short).  `found`: found at the broker, where no fill of the
 * engine's recorded it — one is recorded now (RECONCILED, without an
 * order), so the fills the engine keeps add up to the broker's position. */
static int adopt(struct hh_tm *tm, hh_iid_t iid, hh_qty_t qty, hh_price_t avg, bool closing,
                 bool found)
{
    const struct hh_instrument *in = hh_inst_get(tm->inst, iid);
    int64_t sq = hh_tm__squareoff_tod(tm, in, hh_time_ist_date(tm->clock->now));
    struct hh_signal s;
    struct trade *t;
    struct sym *sy;
    uint32_t ti;

    if (hh_grow(&tm->trades, &tm->captrades, tm->ntrades + 1, sizeof *tm->trades) ||
        !(sy = hh_tm__sym(tm, iid)))
        return HH_ENOMEM;
    memset(&s, 0, sizeof s);
    snprintf(s.id, sizeof s.id, "adopted-%s", in->symbol);
    snprintf(s.correlation_id, sizeof s.correlation_id, "%s", s.id);
    s.iid = iid;
    s.side = qty > 0 ? HH_BUY : HH_SELL;
    s.entry = s.stop = avg;      /* levels unknown: no stop or target is placed */
    s.valid_until = HH_TIME_MAX;
    ti = (uint32_t)tm->ntrades++;
    t = &tm->trades[ti];
    memset(t, 0, sizeof *t);
    t->sig = s;
    t->serial = ++tm->next_serial;
    t->st = T_OPEN;
    t->adopted = true;
    t->trade_id = ++tm->next_trade_id;
    t->qty = t->entry_filled = t->pos = absq(qty);
    t->entry_value = avg * t->pos;
    t->entry_ts = tm->clock->now;
    t->exit_retry_at = HH_TIME_NONE;
    t->squareoff_at = HH_TIME_MAX;
    if (sq >= 0) {
        t->squareoff_at = hh_time_from_ist(hh_time_ist_date(tm->clock->now), sq);
        if (t->squareoff_at <= tm->clock->now && hh_time_ist_tod(tm->clock->now) < sq)
            t->squareoff_at += HH_NS_PER_DAY;
    }
    if (sy->active < 0)
        sy->active = (int64_t)ti;   /* its symbol's events square it off */
    tm->open_count++;
    tm->stats.open++;
    tm->changes++;
    if (found) {
        struct hh_report r;

        memset(&r, 0, sizeof r);
        r.ts = tm->clock->now;
        r.iid = iid;
        r.side = s.side;
        r.qty = t->pos;
        r.price = avg;
        hh_tm__emit_fill(tm, &t->sig, t->trade_id, &r, HH_FR_RECONCILED, 0);
    }
    if (closing) {
        hh_tm__begin_exit(tm, ti, X_SQUAREOFF);
        hh_tm__drive(tm, ti);
    }
    return HH_OK;
}

/* The price a given-up position is booked at: the last traded, else `avg`. */
static hh_price_t give_up_price(const struct hh_tm *tm, hh_iid_t iid, hh_price_t avg)
{
    return iid < tm->nsyms && tm->syms[iid].last > 0 ? tm->syms[iid].last : avg;
}

/*
 * The broker holds `excess` fewer units of iid on the position's `side`
 * than the engine's single trades: they left while the engine could not
 * see it — a broker file restored from before, a position closed by hand.
 * The broker wins: the open trades on that side give the units up, newest
 * first, booked as RECONCILED exits, and every working exit of theirs is
 * aborted (a square-off cancelled, a hybrid stop stopped before its market
 * leg) so nothing sells what is gone; what remains is squared off.  The
 * exit is reported as a fill without an order (order id 0), so the fills
 * and positions the engine records match the broker.  Returns what the
 * trades could not give up.
 */
static hh_qty_t give_up(struct hh_tm *tm, hh_iid_t iid, enum hh_side side, hh_qty_t excess)
{
    for (size_t i = tm->ntrades; i-- > 0 && excess > 0;) {
        struct trade *t = &tm->trades[i];
        struct hh_report r;
        hh_price_t px;
        hh_qty_t q;

        if (t->sig.iid != iid || t->st != T_OPEN || t->pos <= 0 || t->sig.side != side)
            continue;
        q = excess < t->pos ? excess : t->pos;
        px = give_up_price(tm, iid, (hh_price_t)hh_i128_div_round(t->entry_value,
                                                                  t->entry_filled));
        t->pos -= q;
        t->exit_qty += q;
        t->exit_value += px * q;
        t->exit_ts = tm->clock->now;
        t->last_exit = HH_FR_RECONCILED;
        tm->x.stats.given_up += (uint64_t)q;
        hh_tm__abort_exits(tm, (uint32_t)i);
        hh_tm__begin_exit(tm, (uint32_t)i, X_SQUAREOFF);   /* cancels the entry and
                                                              targets left */
        excess -= q;
        t = &tm->trades[i];
        hh_tm__alert(tm, HH_TMA_GIVEN_UP, false, &t->sig, NULL, 0, q,
                     "the broker no longer holds these units: given up, exits aborted");
        memset(&r, 0, sizeof r);
        r.ts = tm->clock->now;
        r.iid = iid;
        r.side = hh_side_opposite(side);
        r.qty = q;
        r.price = px;
        hh_tm__emit_fill(tm, &t->sig, t->trade_id, &r, HH_FR_RECONCILED, 0);
        hh_tm__drive(tm, (uint32_t)i);
    }
    return excess;
}

/*
 * The broker holds more of iid than the engine, or the other side, on an
 * instrument the engine traded: an exit that filled after the position was
 * closed by hand (a resting target cannot be recalled in time), or a trade
 * placed by hand beside the engine's.  The broker's state wins (SPEC §10):
 * the excess is adopted as a trade of its own (no stop, no target; squared
 * off at the day's square-off, closed by `flatten`) — but only once a
 * second poll in a row finds the same excess: a fill landing between the
 * listing of orders and the listing of positions shows in the positions
 * before its order does, once, and the next poll settles it.  Raised to the
 * operator at first sight.  Returns whether to adopt now.
 */
static bool oversell(struct hh_tm *tm, hh_iid_t iid, hh_qty_t mine, hh_qty_t brk,
                     hh_div_fn fn, void *ctx)
{
    struct sym *sy = &tm->syms[iid];
    char why[200];

    report(fn, ctx, HH_DIV_OVERSELL, iid, 0, mine, brk);
    if (sy->oversell == brk - mine)
        return true;
    sy->oversell = brk - mine;
    tm->x.stats.oversells++;
    tm->changes++;
    snprintf(why, sizeof why, "the broker holds %lld of %s, the engine's trades %lld: adopted as "
             "a trade of its own (no stop, no target) if the next poll finds the same",
             (long long)brk, hh_inst_get(tm->inst, iid)->symbol, (long long)mine);
    hh_tm__alert(tm, HH_TMA_OVERSELL, true, NULL, NULL, 0, brk - mine, why);
    return false;
}

/* Units of long options at the broker in the bucket (type, expiry,
 * underlying) of option `in`. */
static hh_qty_t bucket_longs(const struct hh_tm *tm, const struct hh_instrument *in,
                             const struct hh_broker_position *pos, size_t npos)
{
    hh_qty_t q = 0;

    for (size_t i = 0; i < npos; i++) {
        const struct hh_instrument *o = hh_inst_get(tm->inst, pos[i].iid);

        if (o && pos[i].qty > 0 && hh_inst_is_option(o) && o->opt == in->opt &&
            o->expiry == in->expiry && !strcmp(o->underlying, in->underlying))
            q += pos[i].qty;
    }
    return q;
}

/* Of a short option position `brk` at the broker, the units no long of its
 * bucket covers (0 for anything else). */
static hh_qty_t naked_units(const struct hh_tm *tm, hh_iid_t iid, hh_qty_t brk,
                            const struct hh_broker_position *pos, size_t npos)
{
    const struct hh_instrument *in = hh_inst_get(tm->inst, iid);
    hh_qty_t covered;

    if (brk >= 0 || !hh_inst_is_option(in))
        return 0;
    covered = bucket_longs(tm, in, pos, npos);
    return -brk > covered ? -brk - covered : 0;
}

/*
 * What the broker holds beyond the engine's trades in iid, where an order of
 * ours the engine did not want filled (stray.c): the broker's view wins —
 * adopted as a trade of its own (so a flatten closes it and the operator
 * sees it in the positions), and closed at market at once when the kill
 * switch lets an exit go: nobody decided this exposure.  It corrects an
 * exit that sold again what a re-decided exit had sold, too.
 */
static void adopt_stray(struct hh_tm *tm, hh_iid_t iid, hh_qty_t extra, hh_price_t avg)
{
    bool close = hh_tm__kill_allows(tm, P_SQUAREOFF, false);
    char why[200];

    snprintf(why, sizeof why, "the broker holds %lld of %s beyond the engine's trades, filled by "
             "an order of ours it did not want: adopted, %s", (long long)extra,
             hh_inst_get(tm->inst, iid)->symbol,
             close ? "closed at market" : "held (the kill switch halts: flatten closes it)");
    hh_tm__alert(tm, HH_TMA_STRAY, true, NULL, NULL, 0, absq(extra), why);
    adopt(tm, iid, extra, avg, close, true);
}

/*
 * Engine and broker disagree on iid.  What the broker no longer holds on the
 * engine's side is given up (single trades first, then groups).  What it
 * holds beyond that: adopted when the engine never traded the instrument
 * (a position opened outside it), else an oversell (alerted, adopted when
 * the next poll agrees).
 * Either way the part that is a naked short option is adopted only to be
 * bought back, and is retried until flat.
 */
static void settle_position(struct hh_tm *tm, const struct hh_broker_position *p,
                            hh_qty_t mine, const struct hh_broker_position *pos, size_t npos,
                            hh_div_fn fn, void *ctx)
{
    hh_iid_t iid = p->iid;
    hh_qty_t brk = p->qty, keep, gone, extra, naked;

    if (mine != 0) {
        keep = brk != 0 && (brk > 0) == (mine > 0) ? (absq(brk) < absq(mine) ? absq(brk)
                                                                            : absq(mine))
                                                   : 0;
        gone = absq(mine) - keep;
        if (gone > 0)
            gone = give_up(tm, iid, mine > 0 ? HH_BUY : HH_SELL, gone);
        if (gone > 0)
            hh_tm__groups_give_up(tm, iid, mine > 0 ? HH_BUY : HH_SELL, gone,
                                  give_up_price(tm, iid, p->avg_price));
        mine = hh_tm_position(tm, iid);
    }
    extra = brk - mine;
    if (extra == 0 || (mine != 0 && absq(brk) < absq(mine) && (brk > 0) == (mine > 0)))
        return;   /* nothing beyond the engine's (what is left: mixed holdings) */
    if (traded(tm, iid) && tm->syms[iid].stray) {
        adopt_stray(tm, iid, extra, p->avg_price);
        return;
    }
    naked = naked_units(tm, iid, brk, pos, npos);
    if (naked > -extra)
        naked = extra < 0 ? -extra : 0;
    if (extra + naked != 0 &&
        (traded(tm, iid) ? oversell(tm, iid, mine, brk, fn, ctx) : mine == 0))
        adopt(tm, iid, extra + naked, p->avg_price, false, true);
    if (naked > 0) {
        hh_tm__alert(tm, HH_TMA_NAKED_SHORT, true, NULL, NULL, 0, naked,
                     "a short option nothing covers: bought back at market until flat");
        adopt(tm, iid, -naked, p->avg_price, true, true);
    }
}

void hh_tm__overfill(struct hh_tm *tm, hh_iid_t iid, enum hh_side side, hh_qty_t excess,
                     hh_price_t px)
{
    const struct hh_instrument *in = hh_inst_get(tm->inst, iid);
    bool buy_back = side == HH_SELL && hh_inst_is_option(in);
    char why[200];

    tm->x.stats.oversells++;
    tm->changes++;
    snprintf(why, sizeof why, "an exit of %s filled %lld beyond the position it closed (it raced "
             "a change at the broker): %s", in->symbol, (long long)excess,
             buy_back ? "the short option is bought back at market until flat"
                      : "adopted as a trade of its own (no stop, no target)");
    hh_tm__alert(tm, HH_TMA_OVERSELL, true, NULL, NULL, 0, excess, why);
    adopt(tm, iid, side == HH_SELL ? -excess : excess, px, buy_back, false);
}

/* An option or future past its expiry's close (15:30 IST on the expiry
 * day) is settled by the exchange, and by the engine at that instant (EXPIRY
 * fills, group.c): what the broker still lists of it is the settlement's
 * business, not a divergence — judging it would book the settlement twice. */
static bool expired(const struct hh_tm *tm, hh_iid_t iid)
{
    const struct hh_instrument *in = hh_inst_get(tm->inst, iid);

    return in && in->expiry != HH_DATE_NONE &&
           tm->clock->now >= hh_time_from_ist(in->expiry, HH_TOD(15, 30));
}

static bool listed(const struct hh_broker_position *pos, size_t npos, hh_iid_t iid)
{
    for (size_t i = 0; i < npos; i++)
        if (pos[i].iid == iid)
            return true;
    return false;
}

/* Positions the engine holds in instruments the broker does not list: the
 * broker holds none of them. */
static int engine_only(struct hh_tm *tm, const struct hh_broker_position *pos, size_t npos,
                       hh_div_fn fn, void *ctx)
{
    int found = 0;

    for (hh_iid_t iid = 0; iid < tm->nsyms; iid++) {
        struct hh_broker_position none = { .iid = iid };
        hh_qty_t mine;

        if (listed(pos, npos, iid) || unsettled(tm, iid) || expired(tm, iid))
            continue;
        tm->syms[iid].oversell = 0;
        tm->syms[iid].stray = false;   /* the broker holds none: nothing beyond */
        if ((mine = hh_tm_position(tm, iid)) == 0)
            continue;
        report(fn, ctx, HH_DIV_POSITION, iid, 0, mine, 0);
        found++;
        settle_position(tm, &none, mine, pos, npos, fn, ctx);
    }
    return found;
}

int hh_tm_reconcile(struct hh_tm *tm, const struct hh_broker_order *orders, size_t norders,
                    const struct hh_broker_position *pos, size_t npos, hh_div_fn fn,
                    void *ctx)
{
    int found = hh_tm__strays(tm, orders, norders, fn, ctx);
    size_t before = tm->nrefs;   /* orders placed while reconciling are not judged */

    for (size_t k = 0; k < before; k++)
        if (!tm->refs[k].done && tm->refs[k].pstate == PS_PLACED)
            found += settle_order(tm, k, orders, norders, fn, ctx);
    mark_unsettled(tm, orders, norders);
    for (size_t i = 0; i < npos; i++) {
        const struct hh_broker_position *p = &pos[i];
        hh_qty_t mine = hh_tm_position(tm, p->iid), naked;

        if (!hh_inst_get(tm->inst, p->iid) || expired(tm, p->iid))
            continue;
        if (mine != p->qty && !unsettled(tm, p->iid)) {
            /* (unsettled: its fills are not all known yet; the next poll decides) */
            report(fn, ctx, HH_DIV_POSITION, p->iid, 0, mine, p->qty);
            found++;
            settle_position(tm, p, mine, pos, npos, fn, ctx);
        } else if (mine == p->qty && p->iid < tm->nsyms) {
            tm->syms[p->iid].oversell = 0;
            tm->syms[p->iid].stray = false;   /* its strays' fills are all taken in */
        }
        if ((naked = naked_units(tm, p->iid, p->qty, pos, npos)) > 0) {
            report(fn, ctx, HH_DIV_NAKED_SHORT, p->iid, 0, p->qty + naked, p->qty);
            found++;
        }
    }
    found += engine_only(tm, pos, npos, fn, ctx);
    if (found)
        tm->changes++;
    return found;
}
