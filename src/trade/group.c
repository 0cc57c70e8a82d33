/*
 * group.c — multi-leg option groups: execution that never leaves a naked
 * leg (SPEC §8; seeds 000/003 fixes #2-#4, pattern 1).
 *
 * Life of a group:
 *   WAITING  accepted; starts when a slot is free, the underlying and every
 *            leg have a price, and not at or after the square-off time.  At
 *            start its worst-case margin is checked along the execution
 *            order (risk/margin.h); above margin_buffer x available it is
 *            rejected with MARGIN_WORST_CASE (a dead letter).
 *   ENTERING legs in leg-priority order: every long leg at once; each short
 *            leg only for what the long legs of its bucket (same option type
 *            and expiry) have FILLED, plus what is hedged — waiting for fills,
 *            not acknowledgements.  A rejected leg, or a leg not complete
 *            leg_timeout after it could first fill, rolls the group back.
 *   OPEN     every leg filled; the hedge balance is validated; group net P&L
 *            limits (stop_loss, target), square-off and expiry are watched.
 *   EXITING  working entry orders cancelled; shorts are bought back first;
 *            only when every short is flat are longs and hedges sold.
 *   CLOSED   one trades.csv row for the group.
 *
 * Exposure monitor: every exposure_check while a group enters or exits, per
 * bucket, unhedged = short position - long position - hedge position.  When
 * positive the emergency hedge manager (exec/hedge.h) decides a hedge — a
 * market buy of the bucket's long leg — debounced per bucket and never more
 * than the exposure.  The longest exposure seen is a statistic (the property
 * tests assert it stays under the check interval).
 *
 * Expiry: on the legs' expiry day, with expiry.close_before set, in-the-money
 * shorts are bought back at that time; at the close what is still open settles
 * at intrinsic value against the underlying's last price (an exchange event:
 * EXPIRY fills without orders; index options settle in cash — stock options
 * would be delivered, which a backtest books the same way).
 *
 * Invariants: a leg's exit_sent never exceeds its filled quantity; a short
 * leg's `sent` never exceeds what its bucket covered when it was sent.
 */
#include "trade/tm_int.h"

#include "options/black76.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEDGE_LEG(b) (100 + (b))     /* order_ref.leg of a bucket's hedge */
#define DEFAULT_SIGMA 0.20           /* when no price or iv gives a volatility */

int hh_tm__groups_init(struct hh_tm *tm)
{
    struct hh_margin_params p;

    if (hh_timers_init(&tm->timers, 16))
        return HH_ENOMEM;
    hh_margin_params_default(&p);
    return hh_margin_sim_init(&tm->msim, &p, NULL);
}

void hh_tm__groups_free(struct hh_tm *tm)
{
    free(tm->groups);
    hh_timers_free(&tm->timers);
}

static hh_qty_t open_qty(const struct gleg *L)
{
    return L->filled - L->closed;
}

/* ---- acceptance ----------------------------------------------------------- */

/* Buckets: one per (option type, expiry); its hedge instrument is its first
 * long leg. */
static void make_buckets(struct tm_group *G)
{
    for (int i = 0; i < G->g.nlegs; i++) {
        const struct hh_leg *lg = &G->g.legs[i];
        int b;

        for (b = 0; b < G->nbuckets; b++)
            if (G->bucket[b].opt == lg->opt && G->bucket[b].expiry == lg->expiry)
                break;
        if (b == G->nbuckets) {
            memset(&G->bucket[b], 0, sizeof G->bucket[b]);
            G->bucket[b].opt = lg->opt;
            G->bucket[b].expiry = lg->expiry;
            G->bucket[b].hedge_iid = HH_IID_NONE;
            G->bucket[b].exposed_since = G->bucket[b].uncovered_since = HH_TIME_NONE;
            hh_hedge_init(&G->bucket[b].hedge);
            G->nbuckets++;
        }
        G->leg[i].bucket = b;
        if (lg->side == HH_BUY && G->bucket[b].hedge_iid == HH_IID_NONE)
            G->bucket[b].hedge_iid = lg->iid;
    }
}

int hh_tm_group(struct hh_tm *tm, const struct hh_signal *hdr, const struct hh_strat_group *g,
                hh_money_t stop_loss, hh_money_t target)
{
    struct tm_group *G;

    if (g->nlegs < 1 || g->nlegs > HH_STRAT_LEGS_MAX)
        return HH_EINVAL;
    if (hh_grow(&tm->groups, &tm->capgroups, tm->ngroups + 1, sizeof *tm->groups))
        return HH_ENOMEM;
    G = &tm->groups[tm->ngroups++];
    memset(G, 0, sizeof *G);
    G->sig = *hdr;
    G->serial = ++tm->next_serial;
    G->g = *g;
    G->st = G_WAITING;
    G->stop_loss = stop_loss;
    G->target = target;
    G->entry_ts = G->exit_ts = HH_TIME_NONE;
    for (int i = 0; i < g->nlegs; i++) {
        G->leg[i].is_short = g->legs[i].side == HH_SELL;
        G->leg[i].target = g->legs[i].qty;
        G->leg[i].armed_at = HH_TIME_NONE;
    }
    make_buckets(G);
    tm->stats.waiting++;
    tm->changes++;
    return HH_OK;
}

static hh_price_t last_price(struct hh_tm *tm, hh_iid_t iid)
{
    return iid < tm->nsyms ? tm->syms[iid].last : 0;
}

static hh_iid_t underlying_iid(const struct hh_tm *tm, const struct tm_group *G)
{
    return hh_inst_find(tm->inst, G->g.underlying, strlen(G->g.underlying));
}

/* Spot of the underlying, 0 when it has not traded yet. */
static hh_price_t spot_of(struct hh_tm *tm, const struct tm_group *G)
{
    hh_iid_t u = underlying_iid(tm, G);

    return u == HH_IID_NONE ? 0 : last_price(tm, u);
}

static bool legs_priced(struct hh_tm *tm, const struct tm_group *G)
{
    for (int i = 0; i < G->g.nlegs; i++)
        if (!last_price(tm, G->g.legs[i].iid))
            return false;
    return true;
}

hh_money_t hh_tm_margin_in_use(const struct hh_tm *tm)
{
    hh_money_t used = 0;

    for (size_t i = 0; i < tm->ngroups; i++) {
        const struct tm_group *G = &tm->groups[i];

        if (G->st == G_ENTERING || G->st == G_OPEN || G->st == G_EXITING)
            used += G->margin;
    }
    return used;
}

/* A leg's volatility: its own "iv", else implied from its last price. */
static double leg_sigma(struct hh_tm *tm, const struct tm_group *G, int i, double spot,
                        double T)
{
    const struct hh_leg *lg = &G->g.legs[i];
    double sigma;

    if (lg->iv > 0)
        return lg->iv;
    if (T > 0 && hh_b76_iv(lg->opt, hh_b76_from_fx(last_price(tm, lg->iid)), spot,
                           hh_b76_from_fx(lg->strike), T, 0, &sigma) == HH_OK)
        return sigma;
    return DEFAULT_SIGMA;
}

/* The broker's own figure for the basket (Kite's /margins/basket), when it
 * has one: the stricter of it and the simulator's worst case is checked.  A
 * broker that cannot be asked stops the group, unless
 * risk.require_broker_margin is false: then the check goes on without it,
 * and says so (counted, and logged as an alert). */
static bool broker_margin(struct hh_tm *tm, struct tm_group *G, struct hh_margin_result *res,
                          struct hh_sig_reject *rej)
{
    struct hh_order_req reqs[HH_STRAT_LEGS_MAX];
    hh_money_t required;

    if (!tm->broker.ops->basket_margin)
        return true;
    memset(reqs, 0, sizeof reqs);
    for (int i = 0; i < G->g.nlegs; i++) {
        reqs[i].iid = G->g.legs[i].iid;
        reqs[i].side = G->g.legs[i].side;
        reqs[i].type = HH_ORD_MARKET;
        reqs[i].qty = G->leg[i].target;
    }
    if (tm->broker.ops->basket_margin(tm->broker.impl, reqs, (size_t)G->g.nlegs,
                                      &required) == HH_OK) {
        tm->stats.broker_margins++;
        if (required > res->peak) {
            res->peak = required;
            tm->stats.broker_margin_stricter++;
        }
        return true;
    }
    if (tm->cfg.require_broker_margin) {
        hh_sig_reject_set(rej, HH_SIG_BROKER_UNAVAILABLE, G->sig.received_at,
                          "the broker's margin for the basket could not be had "
                          "(risk.require_broker_margin: true)");
        return false;
    }
    tm->stats.broker_margin_skipped++;
    hh_tm__alert(tm, HH_TMA_MARGIN_UNCHECKED, true, &G->sig, NULL, HH_EUNAVAIL, 0,
                 "the broker's margin could not be had: checked against the simulator "
                 "alone (risk.require_broker_margin: false)");
    return true;
}

/* Worst-case margin along the execution order, and the broker's figure
 * when it has one; false (with *rej) to reject. */
static bool margin_ok(struct hh_tm *tm, struct tm_group *G, hh_price_t spot, hh_time_t now,
                      struct hh_sig_reject *rej)
{
    struct hh_margin_input in;
    struct hh_margin_result res;
    hh_money_t limit;

    if (hh_margin_input_from_group(&G->g, spot, now, DEFAULT_SIGMA, tm->cal, &in)) {
        hh_sig_reject_set(rej, HH_SIG_MARGIN_WORST_CASE, G->sig.received_at,
                          "margin inputs invalid for this group");
        return false;
    }
    for (int i = 0; i < in.nlegs; i++)
        in.legs[i].sigma = leg_sigma(tm, G, i, hh_b76_from_fx(spot), in.legs[i].T);
    memcpy(in.order, G->order, sizeof in.order);
    if (hh_margin_eval(&tm->msim, &in, &res)) {
        hh_sig_reject_set(rej, HH_SIG_MARGIN_WORST_CASE, G->sig.received_at,
                          "margin could not be evaluated");
        return false;
    }
    if (!broker_margin(tm, G, &res, rej))
        return false;
    G->margin = res.peak;
    return hh_margin_check(&tm->msim, &res, tm->stats.equity - hh_tm_margin_in_use(tm),
                           tm->cfg.margin_buffer, &limit, rej);
}

/* ---- orders ------------------------------------------------------------------- */

/* A market order of group G.  Its client id is deterministic: group, kind
 * (entry, hedge, close), leg, and the order table's index as the attempt. */
static int gplace(struct hh_tm *tm, struct tm_group *G, enum purpose p, int leg,
                  hh_iid_t iid, enum hh_side side, hh_qty_t qty)
{
    char client[HH_CLIENT_ID_MAX];
    uint32_t gi = (uint32_t)(G - tm->groups);
    uint64_t oid;

    hh_tm__client_id(client, 'g', G->serial, p == P_ENTRY ? 'e' : p == P_HEDGE ? 'h' : 'x', leg,
                     ++G->orders);
    return hh_tm__place(tm, client, gi, true, p, leg, iid, side, HH_ORD_MARKET, qty, 0, &oid);
}

/* Send each short leg what its bucket now covers (longs filled + hedges). */
static void refresh_shorts(struct hh_tm *tm, struct tm_group *G)
{
    if (tm->stopping)
        return;   /* no new entry (not a refusal to roll back on): what is held
                     is covered, the shorts wait for the next start */
    for (int b = 0; b < G->nbuckets; b++) {
        hh_qty_t cover = G->bucket[b].hedge.held;
        bool naked = G->bucket[b].hedge_iid == HH_IID_NONE && tm->cfg.allow_naked;

        for (int i = 0; i < G->g.nlegs; i++)
            if (G->leg[i].bucket == b && !G->leg[i].is_short)
                cover += open_qty(&G->leg[i]);
        for (int k = 0; k < G->g.nlegs; k++) {
            int i = G->order[k];
            struct gleg *L = &G->leg[i];
            hh_qty_t allowed;

            if (L->bucket != b || !L->is_short)
                continue;
            allowed = naked ? L->target : (cover < L->target ? cover : L->target);
            cover = cover > allowed ? cover - allowed : 0;
            if (allowed <= L->sent)
                continue;
            if (gplace(tm, G, P_ENTRY, i, G->g.legs[i].iid, HH_SELL, allowed - L->sent)) {
                G->place_failed = true;   /* the broker refused: roll back */
                return;
            }
            L->sent = allowed;
            L->entry_working++;
        }
    }
}

static uint64_t start_timer(struct hh_tm *tm, hh_time_t at, enum tm_timer_kind k, uint64_t arg)
{
    uint64_t id = 0;

    hh_timers_start(&tm->timers, at, k, arg, &id);
    return id;
}

static bool exposed(const struct tm_group *G)
{
    for (int b = 0; b < G->nbuckets; b++)
        if (G->bucket[b].exposed_since != HH_TIME_NONE)
            return true;
    return false;
}

/* Does the exposure monitor watch G?  While it enters or exits, and while
 * an open group is exposed (a leg gone at the broker). */
static bool monitored(const struct tm_group *G)
{
    return G->st == G_ENTERING || G->st == G_EXITING || (G->st == G_OPEN && exposed(G));
}

static bool monitor_wanted(const struct hh_tm *tm)
{
    if (tm->groups_active)
        return true;
    for (size_t gi = 0; gi < tm->ngroups; gi++)
        if (monitored(&tm->groups[gi]))
            return true;
    return false;
}

static void arm_exposure_timer(struct hh_tm *tm, hh_time_t now)
{
    if (!tm->exposure_timer && monitor_wanted(tm)) {
        tm->exposure_timer = true;
        start_timer(tm, now + tm->cfg.exposure_check, TMR_EXPOSURE, 0);
    }
}

static void exit_group(struct hh_tm *tm, struct tm_group *G, enum hh_fill_reason why,
                       hh_time_t now);

static void start_group(struct hh_tm *tm, struct tm_group *G, hh_price_t spot, hh_time_t now)
{
    const struct hh_instrument *in = hh_inst_get(tm->inst, G->g.legs[0].iid);
    hh_date_t exp = G->g.legs[0].expiry;
    uint64_t gi = (uint64_t)(G - tm->groups);
    int64_t sq;

    for (int i = 1; i < G->g.nlegs; i++)
        if (G->g.legs[i].expiry < exp)
            exp = G->g.legs[i].expiry;
    G->st = G_ENTERING;
    tm->changes++;
    G->trade_id = ++tm->next_trade_id;
    tm->stats.waiting--;
    tm->open_count++;
    tm->stats.open++;
    tm->groups_active++;
    tm->stats.groups_started++;
    sq = hh_tm__squareoff_tod(tm, in, hh_time_ist_date(now));
    G->squareoff_at = sq >= 0 ? hh_time_from_ist(hh_time_ist_date(now), sq) : HH_TIME_MAX;
    G->expiry_close = hh_time_from_ist(exp, HH_TOD(15, 30));
    G->settle_timer = start_timer(tm, G->expiry_close, TMR_SETTLE, gi);
    if (tm->cfg.expiry_close_set)
        G->close_timer = start_timer(tm, hh_time_from_ist(exp, tm->cfg.expiry_close_before),
                                     TMR_EXPIRY_CLOSE, gi);
    for (int k = 0; k < G->g.nlegs; k++) {
        int i = G->order[k];

        if (G->leg[i].is_short)
            continue;
        if (gplace(tm, G, P_ENTRY, i, G->g.legs[i].iid, HH_BUY, G->leg[i].target)) {
            G->place_failed = true;
            break;
        }
        G->leg[i].sent = G->leg[i].target;
        G->leg[i].entry_working++;
    }
    (void)spot;
    if (!G->place_failed)
        refresh_shorts(tm, G);
    arm_exposure_timer(tm, now);
    if (G->place_failed)
        exit_group(tm, G, HH_FR_KILL, now);
}

/* A group that may not start: dropped, the signal rejected with `why`. */
static void reject_group(struct hh_tm *tm, struct tm_group *G, enum hh_sig_reason why,
                         const char *detail)
{
    tm->changes++;
    G->st = G_DROPPED;
    tm->stats.waiting--;
    if (tm->sink.rejected)
        tm->sink.rejected(tm->sink.ctx, &G->sig, why, detail);
}

void hh_tm__groups_select(struct hh_tm *tm, hh_time_t now)
{
    for (size_t gi = 0; gi < tm->ngroups; gi++) {
        struct tm_group *G = &tm->groups[gi];
        struct hh_sig_reject rej;
        hh_price_t spot;
        int64_t sq;

        if (G->st != G_WAITING || now < G->sig.received_at)
            continue;
        if (now >= G->sig.valid_until) {
            tm->changes++;
            G->st = G_DROPPED;
            tm->stats.waiting--;
            tm->stats.dropped[HH_DROP_EXPIRED]++;
            if (tm->sink.dropped)
                tm->sink.dropped(tm->sink.ctx, &G->sig, HH_DROP_EXPIRED, now);
            continue;
        }
        sq = hh_tm__squareoff_tod(tm, hh_inst_get(tm->inst, G->g.legs[0].iid),
                                  hh_time_ist_date(now));
        if (tm->open_count >= tm->cfg.max_open_trades || (sq >= 0 && hh_time_ist_tod(now) >= sq) ||
            tm->trading != HH_TRADING_ACTIVE || tm->entries_held || tm->stopping)
            continue;
        spot = spot_of(tm, G);
        if (!spot || !legs_priced(tm, G))
            continue;   /* the margin check needs prices */
        hh_breaker_tick(&tm->x.brk, now);
        if (tm->x.brk.state == HH_BRK_OPEN) {
            /* its legs would only queue behind the breaker (SPEC §11) */
            tm->x.stats.broker_unavailable++;
            reject_group(tm, G, HH_SIG_BROKER_UNAVAILABLE,
                         "the broker's circuit breaker is open: the group is not started");
            continue;
        }
        hh_strat_priority(&G->g, spot, NULL, G->order);
        if (!margin_ok(tm, G, spot, now, &rej)) {
            tm->stats.margin_rejects++;
            reject_group(tm, G, rej.reason, rej.detail);
            continue;
        }
        start_group(tm, G, spot, now);
    }
}

/* ---- exits ---------------------------------------------------------------------- */

static bool shorts_flat(const struct tm_group *G)
{
    for (int i = 0; i < G->g.nlegs; i++)
        if (G->leg[i].is_short && (open_qty(&G->leg[i]) > 0 || G->leg[i].entry_working))
            return false;
    return true;
}

static bool all_flat(const struct tm_group *G)
{
    for (int i = 0; i < G->g.nlegs; i++)
        if (open_qty(&G->leg[i]) > 0 || G->leg[i].entry_working)
            return false;
    for (int b = 0; b < G->nbuckets; b++)
        if (G->bucket[b].hedge.held > 0)
            return false;
    return true;
}

static void close_group(struct hh_tm *tm, struct tm_group *G);

/* Closing orders: shorts first; longs and hedges once every short is flat. */
static void refresh_exits(struct hh_tm *tm, struct tm_group *G)
{
    /* a cancel report handled inside exit_group() may already have closed it */
    if (G->settling || G->st != G_EXITING)
        return;
    for (int k = G->g.nlegs - 1; k >= 0; k--) {
        int i = G->order[k];
        struct gleg *L = &G->leg[i];

        if (L->is_short && L->filled > L->exit_sent &&
            gplace(tm, G, P_CLOSE, i, G->g.legs[i].iid, HH_BUY, L->filled - L->exit_sent) == HH_OK)
            L->exit_sent = L->filled;
    }
    if (!shorts_flat(G))
        return;
    for (int k = G->g.nlegs - 1; k >= 0; k--) {
        int i = G->order[k];
        struct gleg *L = &G->leg[i];

        if (!L->is_short && L->filled > L->exit_sent &&
            gplace(tm, G, P_CLOSE, i, G->g.legs[i].iid, HH_SELL, L->filled - L->exit_sent) == HH_OK)
            L->exit_sent = L->filled;
    }
    for (int b = 0; b < G->nbuckets; b++) {
        struct gbucket *B = &G->bucket[b];

        if (B->hedge.held > B->hedge_exit_sent &&
            gplace(tm, G, P_CLOSE, HEDGE_LEG(b), B->hedge_iid, HH_SELL,
                   B->hedge.held - B->hedge_exit_sent) == HH_OK)
            B->hedge_exit_sent = B->hedge.held;
    }
    if (all_flat(G))
        close_group(tm, G);
}

/* Ask the broker to cancel the group's working entry orders; their
 * CANCELLED reports return the unfilled parts (the report marks them done). */
static void cancel_entries(struct hh_tm *tm, struct tm_group *G)
{
    uint32_t gi = (uint32_t)(G - tm->groups);

    /* by index: a report handled inside cancel() may grow refs[] */
    for (size_t k = 0; k < tm->nrefs; k++) {
        if (tm->refs[k].group && tm->refs[k].trade == gi && !tm->refs[k].done &&
            tm->refs[k].purpose == P_ENTRY)
            hh_tm__cancel(tm, tm->refs[k].oid);
    }
}

static void exit_group(struct hh_tm *tm, struct tm_group *G, enum hh_fill_reason why,
                       hh_time_t now)
{
    if (G->st != G_ENTERING && G->st != G_OPEN)
        return;
    if (G->st == G_OPEN)
        tm->groups_active++;
    tm->changes++;
    G->st = G_EXITING;
    G->exit_reason = why;
    if (why == HH_FR_KILL) {
        G->rolled_back = true;
        tm->stats.groups_rolled_back++;
    }
    cancel_entries(tm, G);
    arm_exposure_timer(tm, now);
    refresh_exits(tm, G);
}

/* Net of the group marked at last prices, after charges. */
static hh_money_t mark(struct hh_tm *tm, const struct tm_group *G)
{
    __int128 v = (__int128)G->sell_value - G->buy_value - G->charges;

    for (int i = 0; i < G->g.nlegs; i++) {
        hh_qty_t q = open_qty(&G->leg[i]);
        __int128 mv = (__int128)q * last_price(tm, G->g.legs[i].iid);

        v += G->leg[i].is_short ? -mv : mv;
    }
    for (int b = 0; b < G->nbuckets; b++)
        v += (__int128)G->bucket[b].hedge.held * last_price(tm, G->bucket[b].hedge_iid);
    return (hh_money_t)v;
}

static void close_group(struct hh_tm *tm, struct tm_group *G)
{
    struct hh_strat_group g = G->g;
    struct hh_strat_payoff pay;
    struct hh_tm_trade out;
    const struct gleg *L0 = &G->leg[G->order[0]];
    hh_qty_t unit = L0->target ? L0->target : 1;
    hh_money_t exit_net = (G->sell_value - G->buy_value) - G->entry_net;
    hh_iid_t u = underlying_iid(tm, G);

    G->st = G_CLOSED;
    tm->open_count--;
    tm->stats.open--;
    tm->groups_active--;
    tm->stats.groups_closed++;
    /* its timers die with it (a timer that fired is already gone) */
    hh_timers_cancel(&tm->timers, G->settle_timer);
    hh_timers_cancel(&tm->timers, G->close_timer);
    if (G->entry_ts == HH_TIME_NONE)
        return;   /* nothing ever filled: no trade to report */
    memset(&out, 0, sizeof out);
    out.trade_id = G->trade_id;
    out.sig = &G->sig;
    out.iid = u != HH_IID_NONE ? u : G->g.legs[0].iid;
    out.side = G->entry_net > 0 ? HH_SELL : HH_BUY;
    out.qty = unit;
    out.entry_ts = G->entry_ts;
    out.entry_price = (hh_price_t)hh_i128_div_round(G->entry_net < 0 ? -G->entry_net : G->entry_net,
                                                    (__int128)unit * HH_PAISA) * HH_PAISA;
    out.exit_ts = G->exit_ts;
    out.avg_exit_price = (hh_price_t)hh_i128_div_round(exit_net < 0 ? -exit_net : exit_net,
                                                       (__int128)unit * HH_PAISA) * HH_PAISA;
    out.exit_reason = G->exit_reason;
    out.gross = G->sell_value - G->buy_value;
    out.charges = G->charges;
    out.net = out.gross - out.charges;
    /* r: net over the group's maximum loss at the entry prices, when bounded */
    for (int i = 0; i < g.nlegs; i++)
        if (G->leg[i].filled)
            g.legs[i].premium = 0;
    if (hh_strat_payoff(&g, &pay) == HH_OK && !pay.loss_unbounded && pay.max_loss > 0)
        out.r_multiple = (int64_t)hh_i128_div_round((__int128)out.net * 100, pay.max_loss);
    hh_tm__book_closed(tm, &out);
}

/* ---- exposure --------------------------------------------------------------------- */

/* Short units of bucket b beyond its long legs, before (with_hedges false)
 * or after the hedges held. */
static hh_qty_t bucket_exposure(const struct tm_group *G, int b, bool with_hedges)
{
    hh_qty_t shorts = 0, longs = with_hedges ? G->bucket[b].hedge.held : 0;

    for (int i = 0; i < G->g.nlegs; i++) {
        if (G->leg[i].bucket != b)
            continue;
        if (G->leg[i].is_short)
            shorts += open_qty(&G->leg[i]);
        else
            longs += open_qty(&G->leg[i]);
    }
    return shorts - longs;
}

/* Units of bucket b's shorts being bought back (closing orders working). */
static hh_qty_t shorts_closing(const struct tm_group *G, int b)
{
    hh_qty_t q = 0;

    for (int i = 0; i < G->g.nlegs; i++)
        if (G->leg[i].bucket == b && G->leg[i].is_short)
            q += G->leg[i].exit_sent - G->leg[i].closed;
    return q;
}

/* A stretch of time ends at now: the longest one is kept. */
static void stretch_end(hh_time_t *since, hh_time_t now, int64_t *longest)
{
    if (*since != HH_TIME_NONE && now - *since > *longest)
        *longest = now - *since;
    *since = HH_TIME_NONE;
}

static void hedge_bucket(struct hh_tm *tm, struct tm_group *G, int b, hh_qty_t x, hh_time_t now)
{
    struct gbucket *B = &G->bucket[b];
    hh_qty_t q;

    if (tm->trading == HH_TRADING_REDUCING) {
        /* a hedge adds a position: reduce by buying the shorts back instead */
        exit_group(tm, G, HH_FR_KILL, now);
        return;
    }
    q = hh_hedge_decide(&B->hedge, tm->cfg.hedge_debounce, x + B->hedge.held, now);
    if (q <= 0)
        return;
    if (gplace(tm, G, P_HEDGE, HEDGE_LEG(b), B->hedge_iid, HH_BUY, q) != HH_OK) {
        hh_hedge_released(&B->hedge, q);
        return;
    }
    tm->stats.hedges++;
    tm->stats.hedge_qty += q;
    hh_tm__alert(tm, HH_TMA_HEDGE, false, &G->sig, NULL, 0, q,
                 "short exposure: emergency hedge (the bucket's long leg) bought");
}

/* Track how long shorts stay uncovered; with `hedge`, ask the hedge manager. */
static void watch_exposure(struct hh_tm *tm, struct tm_group *G, hh_time_t now, bool hedge)
{
    for (int b = 0; b < G->nbuckets; b++) {
        struct gbucket *B = &G->bucket[b];
        hh_qty_t x;

        if (B->hedge_iid == HH_IID_NONE)
            continue;   /* naked by design (allowed): nothing protects it */
        x = bucket_exposure(G, b, true);
        if (x <= 0) {
            if (B->exposed_since != HH_TIME_NONE)
                tm->lags[tm->nlags++ % TM_LAGS] = now - B->exposed_since;
            stretch_end(&B->exposed_since, now, &tm->stats.max_exposure);
            stretch_end(&B->uncovered_since, now, &tm->stats.max_uncovered);
            continue;
        }
        if (B->exposed_since == HH_TIME_NONE)
            B->exposed_since = now;
        if (hedge && !G->settling)
            hedge_bucket(tm, G, b, x, now);
        B = &G->bucket[b];
        if (x > B->hedge.pending + shorts_closing(G, b)) {
            if (B->uncovered_since == HH_TIME_NONE)
                B->uncovered_since = now;
        } else {
            stretch_end(&B->uncovered_since, now, &tm->stats.max_uncovered);
        }
    }
}

size_t hh_tm_hedge_lags(const struct hh_tm *tm, uint64_t *seen, int64_t *out, size_t cap)
{
    uint64_t from = *seen, n = 0;

    if (tm->nlags > TM_LAGS && from < tm->nlags - TM_LAGS)
        from = tm->nlags - TM_LAGS;   /* overwritten: skipped */
    for (; from < tm->nlags && n < cap; from++)
        out[n++] = tm->lags[from % TM_LAGS];
    *seen = from;
    return (size_t)n;
}

int64_t hh_tm_exposure_longest(const struct hh_tm *tm, hh_time_t now, bool uncovered)
{
    int64_t longest = uncovered ? tm->stats.max_uncovered : tm->stats.max_exposure;

    for (size_t gi = 0; gi < tm->ngroups; gi++) {
        const struct tm_group *G = &tm->groups[gi];

        for (int b = 0; b < G->nbuckets; b++) {
            hh_time_t since = uncovered ? G->bucket[b].uncovered_since
                                        : G->bucket[b].exposed_since;

            if (since != HH_TIME_NONE && now - since > longest)
                longest = now - since;
        }
    }
    return longest;
}

int hh_tm__group_exit(struct hh_tm *tm, size_t gi)
{
    struct tm_group *G = &tm->groups[gi];

    if (G->st != G_ENTERING && G->st != G_OPEN)
        return HH_ESTATE;
    exit_group(tm, G, HH_FR_SQUAREOFF, tm->clock->now);
    return HH_OK;
}

/* ---- the kill switch ------------------------------------------------------------------ */

void hh_tm__groups_kill(struct hh_tm *tm, enum hh_tm_kill k)
{
    hh_time_t now = tm->clock->now;

    for (size_t gi = 0; gi < tm->ngroups; gi++) {
        struct tm_group *G = &tm->groups[gi];

        if ((k == HH_TM_REDUCE && G->st == G_ENTERING) ||
            (k == HH_TM_FLATTEN && (G->st == G_ENTERING || G->st == G_OPEN)))
            exit_group(tm, G, HH_FR_KILL, now);
        else if (k == HH_TM_FLATTEN && G->st == G_EXITING)
            refresh_exits(tm, G);
    }
}

/* ---- the broker's view wins (reconcile.c) ------------------------------------------- */

/* Cancel G's working closing orders of leg `leg` (HEDGE_LEG(b): a hedge):
 * they would sell what is gone. */
static void cancel_closes(struct hh_tm *tm, struct tm_group *G, int leg)
{
    uint32_t gi = (uint32_t)(G - tm->groups);

    for (size_t k = 0; k < tm->nrefs; k++) {
        const struct order_ref *ref = &tm->refs[k];

        if (ref->group && ref->trade == gi && !ref->done && ref->purpose == P_CLOSE &&
            ref->leg == leg)
            hh_tm__cancel(tm, ref->oid);
    }
}

/* A given-up slice of G: a RECONCILED fill without an order. */
static void give_up_fill(struct hh_tm *tm, struct tm_group *G, hh_iid_t iid,
                         enum hh_side pos_side, hh_qty_t q, hh_price_t px)
{
    struct hh_report r;

    memset(&r, 0, sizeof r);
    r.kind = HH_RPT_FILL;
    r.ts = tm->clock->now;
    r.iid = iid;
    r.side = hh_side_opposite(pos_side);
    r.qty = q;
    r.price = px;
    if (r.side == HH_BUY)
        G->buy_value += px * q;
    else
        G->sell_value += px * q;
    G->exit_ts = r.ts;
    tm->x.stats.given_up += (uint64_t)q;
    hh_tm__emit_fill(tm, &G->sig, G->trade_id, &r, HH_FR_RECONCILED, 0);
    hh_tm__alert(tm, HH_TMA_GIVEN_UP, false, &G->sig, NULL, 0, q,
                 "the broker no longer holds these units of the group: given up");
}

/* Give up to `excess` units of G's holdings of iid on `side`: hedges
 * first, then legs.  Returns what is left to give up. */
static hh_qty_t group_give_up(struct hh_tm *tm, struct tm_group *G, hh_iid_t iid,
                              enum hh_side side, hh_qty_t excess, hh_price_t px)
{
    for (int b = 0; b < G->nbuckets && excess > 0 && side == HH_BUY; b++) {
        struct gbucket *B = &G->bucket[b];
        hh_qty_t q = excess < B->hedge.held ? excess : B->hedge.held;

        if (B->hedge_iid != iid || q <= 0)
            continue;
        hh_hedge_sold(&B->hedge, q);
        cancel_closes(tm, G, HEDGE_LEG(b));
        give_up_fill(tm, G, iid, HH_BUY, q, px);
        excess -= q;
    }
    for (int i = 0; i < G->g.nlegs && excess > 0; i++) {
        struct gleg *L = &G->leg[i];
        hh_qty_t q = excess < open_qty(L) ? excess : open_qty(L);

        if (G->g.legs[i].iid != iid || G->g.legs[i].side != side || q <= 0)
            continue;
        /* closed as if by a closing order that filled: exit_sent keeps
         * counting closed units plus working closing orders */
        L->closed += q;
        L->exit_sent += q;
        cancel_closes(tm, G, i);
        give_up_fill(tm, G, iid, side, q, px);
        excess -= q;
    }
    return excess;
}

hh_qty_t hh_tm__groups_give_up(struct hh_tm *tm, hh_iid_t iid, enum hh_side side,
                               hh_qty_t excess, hh_price_t px)
{
    hh_time_t now = tm->clock->now;

    for (size_t gi = tm->ngroups; gi-- > 0 && excess > 0;) {
        struct tm_group *G = &tm->groups[gi];
        hh_qty_t left;

        if (G->st != G_ENTERING && G->st != G_OPEN && G->st != G_EXITING)
            continue;
        left = group_give_up(tm, G, iid, side, excess, px > 0 ? px : last_price(tm, iid));
        if (left == excess)
            continue;
        excess = left;
        tm->changes++;
        if (all_flat(G))   /* nothing left at the broker: the group is over */
            exit_group(tm, G, HH_FR_RECONCILED, now);
        watch_exposure(tm, G, now, true);   /* a long gone: hedge what it covered */
        if (G->st == G_ENTERING)
            refresh_shorts(tm, G);
        else if (G->st == G_EXITING)
            refresh_exits(tm, G);
    }
    arm_exposure_timer(tm, now);
    return excess;
}

/* ---- reports ------------------------------------------------------------------------ */

/* An entry order of the leg ended.  The leg's timeout keeps running: it
 * measures "incomplete since its first chance to fill", whatever its
 * orders do meanwhile. */
static void leg_done(struct tm_group *G, const struct order_ref *ref)
{
    struct gleg *L;

    if (ref->purpose != P_ENTRY)
        return;         /* closes and hedges (HEDGE_LEG) are not legs */
    L = &G->leg[ref->leg];
    L->entry_working--;
    L->sent -= ref->qty - ref->filled;   /* what never filled is not sent */
}

static void check_filled(struct hh_tm *tm, struct tm_group *G)
{
    hh_qty_t filled[HH_STRAT_LEGS_MAX];
    struct hh_strat_balance bal;

    if (G->st != G_ENTERING)
        return;
    for (int i = 0; i < G->g.nlegs; i++) {
        if (G->leg[i].filled < G->leg[i].target)
            return;
        filled[i] = G->leg[i].filled;
    }
    G->st = G_OPEN;
    tm->groups_active--;
    tm->stats.groups_filled++;
    /* position validator: hedge balance per bucket */
    if (hh_strat_balance(&G->g, filled, tm->cfg.variance_limit, &bal) == HH_OK && bal.flagged) {
        char why[64];

        snprintf(why, sizeof why, "hedge variance %.1f %% above the limit",
                 (double)bal.max_variance * 100 / HH_RATIO_SCALE);
        tm->stats.balance_flags++;
        hh_tm__alert(tm, HH_TMA_HEDGE_IMBALANCE, true, &G->sig, NULL, 0, bal.unhedged, why);
    }
}

static enum hh_fill_reason fill_reason(const struct tm_group *G, const struct order_ref *ref)
{
    return ref->purpose == P_CLOSE ? G->exit_reason : HH_FR_ENTRY;
}

static void on_group_fill(struct hh_tm *tm, struct tm_group *G, struct order_ref *ref,
                          const struct hh_report *r)
{
    hh_money_t value = r->price * r->qty, charges;
    hh_qty_t over = 0;

    ref->filled += r->qty;
    ref->value += value;
    charges = hh_tm__charge(tm, ref, r);
    G->charges += charges;
    if (r->side == HH_BUY)
        G->buy_value += value;
    else
        G->sell_value += value;
    if (ref->leg >= HEDGE_LEG(0)) {
        struct gbucket *B = &G->bucket[ref->leg - HEDGE_LEG(0)];

        if (ref->purpose == P_HEDGE) {
            hh_hedge_filled(&B->hedge, r->qty);
        } else {
            over = r->qty > B->hedge.held ? r->qty - B->hedge.held : 0;
            hh_hedge_sold(&B->hedge, r->qty);
            B->hedge_exit_sent -= r->qty;
        }
    } else if (ref->purpose == P_ENTRY) {
        G->leg[ref->leg].filled += r->qty;
        G->entry_net += r->side == HH_SELL ? value : -value;
        if (G->entry_ts == HH_TIME_NONE)
            G->entry_ts = r->ts;
    } else {
        struct gleg *L = &G->leg[ref->leg];

        over = r->qty > open_qty(L) ? r->qty - (open_qty(L) > 0 ? open_qty(L) : 0) : 0;
        L->closed += r->qty - over;
    }
    if (ref->purpose == P_CLOSE)
        G->exit_ts = r->ts;
    hh_tm__emit_fill(tm, &G->sig, G->trade_id, r, fill_reason(G, ref), charges);
    if (ref->filled >= ref->qty) {
        ref->done = true;
        leg_done(G, ref);
    }
    watch_exposure(tm, G, tm->clock->now, false);   /* from when the engine knows */
    if (G->st == G_ENTERING) {
        refresh_shorts(tm, G);
        if (G->place_failed)
            exit_group(tm, G, HH_FR_KILL, r->ts);
        else
            check_filled(tm, G);
    } else if (G->st == G_EXITING) {
        refresh_exits(tm, G);
    }
    /* last: it may place orders (refs[] moves under `ref`) */
    if (over > 0)   /* closed more than it held: not the group's */
        hh_tm__overfill(tm, r->iid, r->side, over, r->price);
}

void hh_tm__group_report(struct hh_tm *tm, struct order_ref *ref, const struct hh_report *r)
{
    struct tm_group *G = &tm->groups[ref->trade];
    hh_qty_t unfilled;

    if (r->kind == HH_RPT_FILL) {
        on_group_fill(tm, G, ref, r);
        return;
    }
    if ((r->kind != HH_RPT_CANCELLED && r->kind != HH_RPT_REJECTED &&
         r->kind != HH_RPT_EXPIRED) || ref->done)
        return;
    ref->done = true;
    unfilled = ref->qty - ref->filled;
    if (ref->leg >= HEDGE_LEG(0)) {
        int b = ref->leg - HEDGE_LEG(0);

        if (ref->purpose == P_HEDGE)
            hh_hedge_released(&G->bucket[b].hedge, unfilled);
        else
            G->bucket[b].hedge_exit_sent -= unfilled;   /* retried */
        return;
    }
    if (ref->purpose == P_CLOSE) {
        G->leg[ref->leg].exit_sent -= unfilled;   /* retried by the exposure timer */
        return;
    }
    leg_done(G, ref);
    /* While entering, every end of an entry order the engine did not ask
     * for — refused, expired, its rest cancelled by the exchange — leaves
     * the leg short of its target with nothing working: roll back. */
    if (G->st == G_ENTERING && (r->kind != HH_RPT_CANCELLED || ref->cancel == CS_NONE))
        exit_group(tm, G, HH_FR_KILL, r->ts);
    else if (G->st == G_EXITING)
        refresh_exits(tm, G);
}

/* exit_sent counts a leg's units closed plus those in its working closing
 * orders (this one included); hedge_exit_sent only those working. */
hh_qty_t hh_tm__group_exit_room(const struct hh_tm *tm, const struct order_ref *ref)
{
    const struct tm_group *G = &tm->groups[ref->trade];

    if (ref->leg >= HEDGE_LEG(0)) {
        const struct gbucket *B = &G->bucket[ref->leg - HEDGE_LEG(0)];

        return B->hedge.held - (B->hedge_exit_sent - ref->req.qty);
    }
    return G->leg[ref->leg].filled - G->leg[ref->leg].exit_sent + ref->req.qty;
}

/* ---- events and timers ------------------------------------------------------------ */

static bool group_has(const struct tm_group *G, hh_iid_t iid)
{
    for (int i = 0; i < G->g.nlegs; i++)
        if (G->g.legs[i].iid == iid)
            return true;
    return false;
}

/* Before the exchange sees an event of `iid`: arm the timeout of its legs
 * (their entries can fill from now on), square-off. */
void hh_tm__groups_before(struct hh_tm *tm, hh_iid_t iid, hh_time_t ts)
{
    for (size_t gi = 0; gi < tm->ngroups; gi++) {
        struct tm_group *G = &tm->groups[gi];

        if ((G->st != G_ENTERING && G->st != G_OPEN) || !group_has(G, iid))
            continue;
        if (ts >= G->squareoff_at) {
            exit_group(tm, G, HH_FR_SQUAREOFF, ts);
            continue;
        }
        for (int i = 0; i < G->g.nlegs; i++)
            if (G->g.legs[i].iid == iid && G->leg[i].entry_working &&
                G->leg[i].armed_at == HH_TIME_NONE)
                G->leg[i].armed_at = ts;
    }
}

/* A leg incomplete leg_timeout after its first chance to fill fails the
 * group — whatever its orders did meanwhile (ended, refused, waiting for
 * cover): the clock is never stopped once armed. */
static bool leg_timed_out(const struct hh_tm *tm, const struct tm_group *G, hh_time_t now)
{
    for (int i = 0; i < G->g.nlegs; i++) {
        const struct gleg *L = &G->leg[i];

        if (L->armed_at != HH_TIME_NONE && L->filled < L->target &&
            now - L->armed_at >= tm->cfg.leg_timeout)
            return true;
    }
    return false;
}

/* After an event of `iid`: leg timeouts, the group's P&L limits, retries. */
void hh_tm__groups_after(struct hh_tm *tm, hh_iid_t iid, hh_time_t ts)
{
    for (size_t gi = 0; gi < tm->ngroups; gi++) {
        struct tm_group *G = &tm->groups[gi];
        hh_money_t m;

        if (G->st == G_ENTERING && group_has(G, iid) && leg_timed_out(tm, G, ts)) {
            exit_group(tm, G, HH_FR_KILL, ts);
            continue;
        }
        /* the P&L limits hold from the first fill on, not only once open */
        if ((G->st != G_OPEN && G->st != G_ENTERING) || (!G->stop_loss && !G->target))
            continue;
        if (!group_has(G, iid) && iid != underlying_iid(tm, G))
            continue;
        m = mark(tm, G);
        if (G->stop_loss && m <= -G->stop_loss)
            exit_group(tm, G, HH_FR_STOP, ts);
        else if (G->target && m >= G->target)
            exit_group(tm, G, HH_FR_TARGET1, ts);
    }
}

/* Every exposure_check while groups enter or exit: exposure and hedges,
 * leg timeouts, retries of refused closing orders. */
static void on_exposure_timer(struct hh_tm *tm, hh_time_t now)
{
    tm->exposure_timer = false;
    for (size_t gi = 0; gi < tm->ngroups; gi++) {
        struct tm_group *G = &tm->groups[gi];

        if (!monitored(G))
            continue;
        watch_exposure(tm, G, now, true);
        if (G->st == G_ENTERING && leg_timed_out(tm, G, now))
            exit_group(tm, G, HH_FR_KILL, now);
        else if (G->st == G_EXITING)
            refresh_exits(tm, G);
    }
    arm_exposure_timer(tm, now);
}

/* expiry.close_before on the expiry day: buy back in-the-money shorts. */
static void on_expiry_close(struct hh_tm *tm, struct tm_group *G)
{
    hh_price_t spot = spot_of(tm, G);

    if ((G->st != G_OPEN && G->st != G_ENTERING) || !spot)
        return;
    for (int i = 0; i < G->g.nlegs; i++) {
        struct gleg *L = &G->leg[i];
        const struct hh_instrument *in = hh_inst_get(tm->inst, G->g.legs[i].iid);

        if (L->is_short && L->filled > L->exit_sent && hh_inst_is_itm(in, spot) &&
            gplace(tm, G, P_CLOSE, i, G->g.legs[i].iid, HH_BUY, L->filled - L->exit_sent) == HH_OK)
            L->exit_sent = L->filled;
    }
    G->expiry_closed_itm = true;
}

/* One settlement fill: what is still open in `iid` leaves at intrinsic value. */
static void settle_one(struct hh_tm *tm, struct tm_group *G, hh_iid_t iid, enum hh_side pos_side,
                       hh_qty_t qty, hh_price_t spot, hh_time_t now)
{
    const struct hh_instrument *in = hh_inst_get(tm->inst, iid);
    hh_price_t px = hh_inst_intrinsic(in, spot);
    struct hh_report r;
    hh_money_t stt = 0;

    memset(&r, 0, sizeof r);
    r.kind = HH_RPT_FILL;
    r.ts = now;
    r.iid = iid;
    r.side = pos_side == HH_BUY ? HH_SELL : HH_BUY;
    r.qty = qty;
    r.price = px;
    /* exercised long options pay STT on the intrinsic value */
    if (pos_side == HH_BUY && px > 0 && !hh_charges_is_zero(tm->cfg.fees))
        stt = hh_charges_exercise_stt(hh_time_ist_date(now), px * qty);
    G->charges += stt;
    if (r.side == HH_BUY)
        G->buy_value += px * qty;
    else
        G->sell_value += px * qty;
    G->exit_ts = now;
    tm->stats.expiry_settlements++;
    hh_tm__emit_fill(tm, &G->sig, G->trade_id, &r, HH_FR_EXPIRY, stt);
}

/* At the expiry close: working orders cancelled, what is open settles. */
static void on_settle(struct hh_tm *tm, struct tm_group *G, hh_time_t now)
{
    hh_price_t spot = spot_of(tm, G);

    if (G->st == G_WAITING || G->st == G_CLOSED || G->st == G_DROPPED)
        return;
    if (G->st == G_OPEN)
        tm->groups_active++;
    G->st = G_EXITING;
    G->exit_reason = HH_FR_EXPIRY;
    G->settling = true;
    for (size_t k = 0; k < tm->nrefs; k++)
        if (tm->refs[k].group && tm->refs[k].trade == (uint32_t)(G - tm->groups) &&
            !tm->refs[k].done)
            hh_tm__cancel(tm, tm->refs[k].oid);
    /* shorts settle before the longs that cover them, as on any exit */
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < G->g.nlegs; i++) {
            struct gleg *L = &G->leg[i];

            if (L->is_short != (pass == 0))
                continue;
            if (open_qty(L) > 0)
                settle_one(tm, G, G->g.legs[i].iid, G->g.legs[i].side, open_qty(L), spot, now);
            L->closed = L->exit_sent = L->filled;
        }
    }
    for (int b = 0; b < G->nbuckets; b++) {
        struct gbucket *B = &G->bucket[b];

        if (B->hedge.held > 0)
            settle_one(tm, G, B->hedge_iid, HH_BUY, B->hedge.held, spot, now);
        B->hedge.held = B->hedge_exit_sent = 0;
    }
    close_group(tm, G);
}

void hh_tm__group_timer(struct hh_tm *tm, const struct hh_timer *t)
{
    switch ((enum tm_timer_kind)t->kind) {
    case TMR_EXPOSURE:
        on_exposure_timer(tm, t->deadline);
        break;
    case TMR_EXPIRY_CLOSE:
        on_expiry_close(tm, &tm->groups[t->arg]);
        break;
    case TMR_SETTLE:
        on_settle(tm, &tm->groups[t->arg], t->deadline);
        break;
    case TMR_ORDERS:
        break;   /* live.c's (trade.c routes it there) */
    }
}

/* ---- views ----------------------------------------------------------------------- */

size_t hh_tm_group_count(const struct hh_tm *tm)
{
    return tm->ngroups;
}

int hh_tm_group_view(const struct hh_tm *tm, size_t i, struct hh_tm_group_view *out)
{
    static const char *const names[] = { "WAITING", "ENTERING", "OPEN", "EXITING",
                                         "CLOSED", "DROPPED" };
    const struct tm_group *G;

    if (i >= tm->ngroups)
        return HH_ENOTFOUND;
    G = &tm->groups[i];
    memset(out, 0, sizeof *out);
    out->id = G->sig.id;
    out->state = names[G->st];
    out->trade_id = G->trade_id;
    out->rolled_back = G->rolled_back;
    out->nlegs = G->g.nlegs;
    for (int k = 0; k < G->g.nlegs; k++) {
        out->legs[k].iid = G->g.legs[k].iid;
        out->legs[k].side = G->g.legs[k].side;
        out->legs[k].target = G->leg[k].target;
        out->legs[k].filled = G->leg[k].filled;
        out->legs[k].closed = G->leg[k].closed;
    }
    for (int b = 0; b < G->nbuckets; b++) {
        const struct gbucket *B = &G->bucket[b];
        hh_qty_t x = bucket_exposure(G, b, true);

        out->hedged += B->hedge.held;
        if (x > 0 && B->hedge_iid != HH_IID_NONE)
            out->unhedged += x;
        out->buckets[b].exposure = bucket_exposure(G, b, false);
        out->buckets[b].held = B->hedge.held;
        out->buckets[b].pending = B->hedge.pending;
        out->buckets[b].hedges = B->hedge.hedges;
    }
    out->nbuckets = G->nbuckets;
    return HH_OK;
}

int hh_tm_group_mismatch(const struct hh_tm *tm, const struct hh_tm_group_view *v, char *buf,
                         size_t cap)
{
    size_t used = 0;
    int n = 0;

    if (cap)
        buf[0] = '\0';
    for (int k = 0; k < v->nlegs; k++) {
        const struct hh_tm_leg_view *L = &v->legs[k];
        int w;

        if (L->filled == L->target)
            continue;
        n++;
        if (used >= cap)
            continue;
        w = snprintf(buf + used, cap - used, "%s %s filled %lld of %lld\n",
                     hh_inst_get(tm->inst, L->iid)->symbol, L->side == HH_BUY ? "BUY" : "SELL",
                     (long long)L->filled, (long long)L->target);
        used += w > 0 ? (size_t)w : 0;
    }
    return n;
}
