/*
 * exits.c — a trade's exits, written once for every mode: the stop, the
 * targets, breakeven, square-off, the close; and the two stop policies of
 * SPEC §10b behind one small interface.
 *
 * Every decision about a trade's exits is made in hh_tm__drive(), called
 * after anything changed (a fill, an order ended, the stop level traded,
 * the square-off time came, a poll): it looks at the trade and its orders
 * and queues what is missing.  The orders go out through the order road
 * (orders.c) — at once against the simulated exchange, after the runner's
 * durability barrier otherwise — and come back as reports, so the same
 * rules hold whether a broker answers synchronously or a second later.
 *
 *   open, no exit decided   targets once the entry is complete (SPEC §5
 *                           split); the stop policy keeps the stop in line
 *                           with the position;
 *   exiting (the held stop  the entry's remainder, the targets and a
 *   traded; square-off)     resting stop are cancelled; once every one of
 *                           them is terminal — nothing else can sell — the
 *                           exit goes out for the live position: the hybrid
 *                           stop-loss (held stop) or a market order;
 *   flat                    what still works is cancelled; the trade closes
 *                           when every order of it is terminal.
 *
 * Stop policies (struct stop_policy):
 *   RESTING  a stop-market order rests at the broker for exactly the
 *            position (resized as targets fill, moved to the entry level at
 *            breakeven); it and the targets are alternatives, each sized
 *            against the position alone — the backtest's semantics;
 *   HELD     the level is the manager's: a market event at or through it
 *            starts the exit, executed by the hybrid stop-loss (SL-LIMIT,
 *            cancel after exec.sl_timeout_ms, confirmation, MARKET for the
 *            remainder; exec/hybrid_sl.h).  Every exit is reduce-only, alone
 *            and together, so a stop and a target can never both fill.
 *
 * Invariants:
 *  - the targets' open quantities never exceed the position (trimmed from
 *    the last target), and with HELD neither do all exits together;
 *  - a hybrid stop's market order exists only after its SL-LIMIT is
 *    terminal (hybrid_sl.c), and is queued only then;
 *  - a trade closes once: flat and every order terminal.
 */
#include "trade/tm_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Times a target the broker keeps ending is placed again (then the trade
 * relies on its stop and the square-off). */
#define TARGET_REPLACE_MAX 3

static hh_time_t now_of(const struct hh_tm *tm)
{
    return tm->clock->now == HH_TIME_NONE ? 0 : tm->clock->now;
}

const char *hh_stop_policy_name(enum hh_stop_policy p)
{
    return p == HH_STOPS_HELD ? "held" : "resting";
}

/* Letters separate the numbers, so no two (owner, serial, code, leg, n)
 * give one id: "h12a3" is never "h1" + "2a3".  An id longer than the tag
 * is refused when placed (hh_tm__place_req). */
void hh_tm__client_id(char out[HH_CLIENT_ID_MAX], char owner, uint32_t serial, char code, int leg,
                      uint32_t n)
{
    if (leg < 0)
        snprintf(out, HH_CLIENT_ID_MAX, "%c%u%c%u", owner, serial, code, n);
    else
        snprintf(out, HH_CLIENT_ID_MAX, "%c%u%c%dn%u", owner, serial, code, leg, n);
}

/* The stop's level now: the signal's stop, or its entry after breakeven. */
static hh_price_t stop_level(const struct trade *t)
{
    return t->breakeven_done ? t->sig.entry : t->sig.stop;
}

static bool ref_live(const struct hh_tm *tm, uint64_t key)
{
    const struct order_ref *ref = key ? hh_tm__ref((struct hh_tm *)tm, key) : NULL;

    return ref && !ref->done;
}

/* A trade's position as a signed quantity (long > 0). */
static hh_qty_t signed_pos(const struct trade *t)
{
    return t->sig.side == HH_BUY ? t->pos : -t->pos;
}

/* ---- the hybrid stop (the HELD policy's executor) ----------------------------------- */

static struct tm_hsl *hsl_of(struct hh_tm *tm, const struct trade *t)
{
    return t->hsl ? &tm->x.hsl[t->hsl - 1] : NULL;
}

static bool hsl_finished(const struct tm_hsl *s)
{
    return s->h.state == HH_HSL_DONE || s->h.state == HH_HSL_FAILED;
}

static void hsl_do(struct hh_tm *tm, uint32_t slot, const struct hh_hsl_action *act);

/* Queue one of the hybrid stop's orders (its client id is the machine's). */
static void hsl_place(struct hh_tm *tm, uint32_t slot, enum hh_hsl_leg leg,
                      const struct hh_order_req *req)
{
    struct tm_hsl *s = &tm->x.hsl[slot];
    struct order_ref *ref;
    uint64_t key;

    /* exactly the machine's order (SL-LIMIT: its trigger) */
    if (hh_tm__place_req(tm, req, s->trade, false, P_STOP, -1, &key)) {
        struct hh_hsl_action act;

        /* out of memory: as refused (the machine alerts, the exit retries) */
        if (!hh_hsl_place_failed(&tm->x.hsl[slot].h, leg, now_of(tm), &act))
            hsl_do(tm, slot, &act);
        return;
    }
    ref = hh_tm__ref(tm, key);
    ref->hsl = slot + 1;
    ref->hsl_leg = (uint8_t)leg;
    tm->x.hsl[slot].key[leg] = key;
}

static void hsl_do(struct hh_tm *tm, uint32_t slot, const struct hh_hsl_action *act)
{
    struct tm_hsl *s = &tm->x.hsl[slot];
    struct trade *t = &tm->trades[s->trade];
    struct order_ref *ref;

    switch (act->kind) {
    case HH_HSL_ACT_NONE:
        break;
    case HH_HSL_ACT_PLACE_LIMIT:
        hsl_place(tm, slot, HH_HSL_LIMIT, &act->req);
        break;
    case HH_HSL_ACT_PLACE_MARKET:
        tm->x.stats.stop_markets++;
        hsl_place(tm, slot, HH_HSL_MARKET_LEG, &act->req);
        hh_tm__alert(tm, HH_TMA_STOP_MARKET, false, &t->sig,
                     hh_tm__ref(tm, tm->x.hsl[slot].key[HH_HSL_MARKET_LEG]), 0, act->req.qty,
                     "the stop-limit is terminal: market for the remainder");
        break;
    case HH_HSL_ACT_CANCEL:
        ref = hh_tm__ref(tm, s->key[act->leg]);
        if (ref && ref->cancel != CS_WANTED)
            hh_tm__recancel(tm, ref);   /* (again, when a poll found it working) */
        break;
    case HH_HSL_ACT_POLL:
        ref = hh_tm__ref(tm, s->key[HH_HSL_LIMIT]);
        if (ref)
            hh_tm__want_status(tm, ref);
        break;
    case HH_HSL_ACT_DONE:
        hh_tm__alert(tm, HH_TMA_STOP_DONE, false, &t->sig, NULL, 0, hh_hsl_filled(&s->h),
                     s->h.aborted ? "stop withdrawn: the position is gone at the broker"
                     : s->h.cancel_too_late ? "stop executed (the cancel came too late: no market)"
                     : s->h.mkt_live ? "stop executed (stop-limit, then market)"
                     : "stop executed (stop-limit)");
        break;
    case HH_HSL_ACT_ALERT:
        tm->x.stats.stop_failed++;
        t->exit_retry_at = now_of(tm) + hh_retry_delay(&tm->x.retry, 0);
        hh_tm__alert(tm, HH_TMA_STOP_FAILED, true, &t->sig, NULL, 0, act->req.qty,
                     "the stop's market order failed: the position is still held, retrying");
        break;
    }
    tm->changes++;
}

static int hsl_alloc(struct hh_tm *tm, uint32_t *slot)
{
    struct tm_exec *X = &tm->x;

    for (size_t i = 0; i < X->nhsl; i++) {
        if (!X->hsl[i].used) {
            *slot = (uint32_t)i;
            return HH_OK;
        }
    }
    if (hh_grow(&X->hsl, &X->caphsl, X->nhsl + 1, sizeof *X->hsl))
        return HH_ENOMEM;
    memset(&X->hsl[X->nhsl], 0, sizeof X->hsl[X->nhsl]);
    *slot = (uint32_t)X->nhsl++;
    return HH_OK;
}

static void hsl_release(struct hh_tm *tm, struct trade *t)
{
    struct tm_hsl *s = hsl_of(tm, t);

    if (!s)
        return;
    for (size_t i = 0; i < tm->nrefs; i++)
        if (tm->refs[i].hsl == t->hsl)
            tm->refs[i].hsl = 0;   /* its orders are plain exits from now on */
    hh_hsl_free(&s->h);
    memset(s, 0, sizeof *s);
    t->hsl = 0;
    tm->changes++;
}

/* Start a hybrid stop for qty units at `level`. */
static void hsl_start(struct hh_tm *tm, uint32_t ti, hh_qty_t qty, hh_price_t level)
{
    struct trade *t = &tm->trades[ti];
    const struct hh_instrument *in = hh_inst_get(tm->inst, t->sig.iid);
    struct hh_hsl_spec spec;
    struct hh_hsl_action act;
    struct tm_hsl *s;
    uint32_t slot;

    if (hsl_alloc(tm, &slot))
        return;
    s = &tm->x.hsl[slot];
    if (hh_hsl_init(&s->h, &tm->cfg.hsl))
        return;
    memset(&spec, 0, sizeof spec);
    spec.iid = t->sig.iid;
    spec.side = hh_side_opposite(t->sig.side);
    spec.qty = qty;
    spec.trigger = level;
    spec.tick = in->tick;
    hh_tm__client_id(spec.limit_client_id, 'h', t->serial, 'l', -1, ++t->orders);
    hh_tm__client_id(spec.market_client_id, 'h', t->serial, 'm', -1, ++t->orders);
    if (hh_hsl_trigger(&s->h, &spec, now_of(tm), &act)) {
        hh_hsl_free(&s->h);
        t->exit_retry_at = now_of(tm) + tm->cfg.hsl.confirm_poll;
        return;
    }
    s->used = true;
    s->trade = ti;
    t->hsl = slot + 1;
    t->stops++;
    tm->x.stats.stops++;
    tm->changes++;
    hsl_do(tm, slot, &act);
}

/* The broker's answers about one of a hybrid stop's orders. */
void hh_tm__hsl_placed(struct hh_tm *tm, struct order_ref *ref, uint64_t boid)
{
    uint32_t slot = ref->hsl - 1;
    struct hh_hsl_action act;

    if (hh_hsl_placed(&tm->x.hsl[slot].h, (enum hh_hsl_leg)ref->hsl_leg, boid, now_of(tm),
                      &act) == HH_OK)
        hsl_do(tm, slot, &act);
}

void hh_tm__hsl_status(struct hh_tm *tm, struct order_ref *ref, const struct hh_broker_order *b)
{
    uint32_t slot = ref->hsl - 1;
    struct hh_hsl_action act;

    if (hh_hsl_on_status(&tm->x.hsl[slot].h, b, now_of(tm), &act, NULL) == HH_OK)
        hsl_do(tm, slot, &act);
}

void hh_tm__hsl_cancel_result(struct hh_tm *tm, struct order_ref *ref, int rc)
{
    uint32_t slot = ref->hsl - 1;
    struct hh_hsl_action act;

    if (hh_hsl_cancel_result(&tm->x.hsl[slot].h, rc, now_of(tm), &act) == HH_OK)
        hsl_do(tm, slot, &act);
}

void hh_tm__hsl_place_failed(struct hh_tm *tm, struct order_ref *ref)
{
    uint32_t slot = ref->hsl - 1;
    struct hh_hsl_action act;

    if (hh_hsl_place_failed(&tm->x.hsl[slot].h, (enum hh_hsl_leg)ref->hsl_leg, now_of(tm),
                            &act) == HH_OK)
        hsl_do(tm, slot, &act);
}

/* The trade's hybrid stop may sell nothing more (its position was given up):
 * no market order will follow; what is working is cancelled.  A stop-limit
 * whose broker id is not known yet (queued, or being looked up) is
 * cancelled by its key here: withdrawn if it never reached the broker,
 * cancelled once found if it did. */
static void hsl_abort(struct hh_tm *tm, struct trade *t)
{
    struct tm_hsl *s = hsl_of(tm, t);
    struct hh_hsl_action act;
    struct order_ref *ref;
    uint32_t slot;

    if (!s || hsl_finished(s))
        return;
    slot = t->hsl - 1;
    if (hh_hsl_abort(&s->h, now_of(tm), &act) == HH_OK)
        hsl_do(tm, slot, &act);
    s = &tm->x.hsl[slot];
    if (s->h.state == HH_HSL_PLACING && (ref = hh_tm__ref(tm, s->key[HH_HSL_LIMIT])) &&
        !ref->done && ref->cancel == CS_NONE)
        hh_tm__recancel(tm, ref);
}

hh_qty_t hh_tm__exit_room(const struct hh_tm *tm, const struct order_ref *ref)
{
    const struct trade *t;

    if (ref->group)
        return hh_tm__group_exit_room(tm, ref);
    t = &tm->trades[ref->trade];
    return t->st == T_OPEN ? t->pos : 0;
}

void hh_tm__abort_exits(struct hh_tm *tm, uint32_t ti)
{
    struct order_ref *ref = hh_tm__ref(tm, tm->trades[ti].sq_oid);

    if (ref && !ref->done)
        hh_tm__queue_cancel(tm, ref);
    hsl_abort(tm, &tm->trades[ti]);
}

/* ---- the stop policies ---------------------------------------------------------------- */

struct stop_policy {
    /* Keep the stop in line with the position (no exit decided). */
    void (*follow)(struct hh_tm *tm, uint32_t ti);
    /* A market event of the trade's symbol traded lo..hi. */
    void (*market)(struct hh_tm *tm, uint32_t ti, hh_price_t lo, hh_price_t hi);
    /* Another exit was decided: withdraw what the policy keeps at the broker. */
    void (*withdraw)(struct hh_tm *tm, uint32_t ti);
    /* Does the policy count in the reduce-only sum of the targets? */
    bool stop_counts;
};

/* RESTING: one stop-market order for exactly the position, at the level.
 * A stop the broker ended without our asking is placed again. */
static void resting_follow(struct hh_tm *tm, uint32_t ti)
{
    struct trade *t = &tm->trades[ti];
    struct order_ref *stop = hh_tm__ref(tm, t->stop_oid);
    hh_price_t level = stop_level(t);
    char client[HH_CLIENT_ID_MAX];

    if (t->pos <= 0 || t->adopted)
        return;
    if (stop && !stop->done) {
        hh_qty_t qty = stop->filled + t->pos;

        if (stop->qty != qty || stop->req.trigger != level)
            hh_tm__modify(tm, t->stop_oid, stop->qty != qty ? qty : 0,
                          stop->req.trigger != level ? level : 0);
        return;
    }
    hh_tm__client_id(client, 'h', t->serial, 's', -1, ++t->orders);
    hh_tm__place(tm, client, ti, false, P_STOP, -1, t->sig.iid, hh_side_opposite(t->sig.side),
                 HH_ORD_STOP, t->pos, level, &t->stop_oid);
}

static void resting_market(struct hh_tm *tm, uint32_t ti, hh_price_t lo, hh_price_t hi)
{
    (void)tm;
    (void)ti;
    (void)lo;
    (void)hi;   /* the broker triggers it */
}

static void resting_withdraw(struct hh_tm *tm, uint32_t ti)
{
    struct order_ref *stop = hh_tm__ref(tm, tm->trades[ti].stop_oid);

    if (stop && !stop->done)
        hh_tm__queue_cancel(tm, stop);
}

/* HELD: the level is watched here; crossing it starts the exit. */
static void held_follow(struct hh_tm *tm, uint32_t ti)
{
    (void)tm;
    (void)ti;   /* nothing rests at the broker */
}

static void held_market(struct hh_tm *tm, uint32_t ti, hh_price_t lo, hh_price_t hi)
{
    struct trade *t = &tm->trades[ti];
    hh_price_t level = stop_level(t);

    if (t->st != T_OPEN || t->exit_intent || t->adopted || t->pos <= 0)
        return;
    if (t->sig.side == HH_BUY ? lo > level : hi < level)
        return;
    hh_tm__begin_exit(tm, ti, X_STOP);
    hh_tm__alert(tm, HH_TMA_STOP_TRIGGERED, false, &t->sig, NULL, 0, t->pos,
                 t->breakeven_done ? "the breakeven stop traded" : "the stop traded");
    hh_tm__drive(tm, ti);
}

static void held_withdraw(struct hh_tm *tm, uint32_t ti)
{
    (void)tm;
    (void)ti;   /* the hybrid stop is the exit itself */
}

static const struct stop_policy policies[] = {
    [HH_STOPS_RESTING] = { resting_follow, resting_market, resting_withdraw, false },
    [HH_STOPS_HELD] = { held_follow, held_market, held_withdraw, true },
};

static const struct stop_policy *policy(const struct hh_tm *tm)
{
    return &policies[tm->cfg.stops == HH_STOPS_HELD];
}

void hh_tm__exits_market(struct hh_tm *tm, uint32_t ti, hh_price_t lo, hh_price_t hi)
{
    policy(tm)->market(tm, ti, lo, hi);
}

/* ---- the targets ----------------------------------------------------------------------- */

/* Units the trade's working exits other than a resting stop may still
 * trade: what the targets must leave room for. */
static hh_qty_t pending_exits(struct hh_tm *tm, const struct trade *t)
{
    const struct tm_hsl *s = hsl_of(tm, t);
    hh_qty_t q = 0;
    const struct order_ref *ref;

    for (int k = 0; k < t->ntgt; k++)
        if ((ref = hh_tm__ref(tm, t->tgt_oid[k])))
            q += hh_tm__open_qty(ref);
    if ((ref = hh_tm__ref(tm, t->sq_oid)))
        q += hh_tm__open_qty(ref);
    if (s)
        for (int leg = 0; leg < 2; leg++)
            if ((ref = hh_tm__ref(tm, s->key[leg])))
                q += hh_tm__open_qty(ref);
    return q;
}

/* Does any order of the trade still live (may fill)? */
static bool has_live_orders(struct hh_tm *tm, const struct trade *t)
{
    const struct tm_hsl *s = hsl_of(tm, t);

    if (ref_live(tm, t->entry_oid) || ref_live(tm, t->sq_oid) || ref_live(tm, t->stop_oid))
        return true;
    for (int k = 0; k < t->ntgt; k++)
        if (ref_live(tm, t->tgt_oid[k]))
            return true;
    return s && (ref_live(tm, s->key[0]) || ref_live(tm, s->key[1]) || !hsl_finished(s));
}

/* SPEC §5's split of `room` units: n = min(targets, lots); the first n
 * targets each take floor(lots / n) lots, the last of them also the
 * remainder (lots and any odd units).  Returns n; qty[k] per target. */
static int target_split(const struct trade *t, hh_qty_t room, hh_qty_t lot,
                        hh_qty_t qty[HH_SIG_TARGETS_MAX])
{
    int64_t lots = room / lot;
    int n = t->sig.ntargets < lots ? t->sig.ntargets : (int)lots;
    hh_qty_t assigned = 0;

    if (n < 1)
        n = 1;
    for (int k = 0; k < n; k++) {
        qty[k] = k == n - 1 ? room - assigned : (lots / n) * lot;
        assigned += qty[k];
    }
    return n;
}

static void place_target(struct hh_tm *tm, uint32_t ti, int k, hh_qty_t q)
{
    struct trade *t = &tm->trades[ti];
    char client[HH_CLIENT_ID_MAX];

    hh_tm__client_id(client, 'h', t->serial, (char)('a' + k), -1, ++t->orders);
    if (hh_tm__place(tm, client, ti, false, (enum purpose)(P_T1 + k), -1, t->sig.iid,
                     hh_side_opposite(t->sig.side), HH_ORD_LIMIT, q, t->sig.targets[k],
                     &tm->trades[ti].tgt_oid[k]) == HH_OK && k + 1 > tm->trades[ti].ntgt)
        tm->trades[ti].ntgt = k + 1;
}

/* Targets once the entry is complete: one limit order each, together at
 * most the position (the room the other exits leave). */
static void place_targets(struct hh_tm *tm, uint32_t ti)
{
    struct trade *t = &tm->trades[ti];
    hh_qty_t room = hh_ord_exit_qty(signed_pos(t), hh_side_opposite(t->sig.side),
                                    pending_exits(tm, t), t->pos);
    hh_qty_t qty[HH_SIG_TARGETS_MAX];
    int n;

    if (room <= 0)
        return;
    n = target_split(t, room, hh_inst_get(tm->inst, t->sig.iid)->lot_size, qty);
    for (int k = 0; k < n; k++) {
        tm->trades[ti].tgt_qty[k] = qty[k];
        place_target(tm, ti, k, qty[k]);
    }
    tm->changes++;
}

/* A target that ended (rejected, expired, cancelled by someone else) while
 * the trade still wants it: placed again for what it left, reduce-only. */
static void replace_targets(struct hh_tm *tm, uint32_t ti)
{
    struct trade *t = &tm->trades[ti];

    for (int k = 0; k < t->ntgt; k++) {
        struct order_ref *ref = hh_tm__ref(tm, t->tgt_oid[k]);
        hh_qty_t q;
        uint8_t times;

        if (!ref || !ref->done || ref->filled >= ref->qty || ref->cancel != CS_NONE)
            continue;
        q = hh_ord_exit_qty(signed_pos(t), hh_side_opposite(t->sig.side), pending_exits(tm, t),
                            ref->qty - ref->filled);
        ref->cancel = CS_SENT;   /* mark: handled (not placed again) */
        times = (uint8_t)(ref->replaced + 1);
        if (q <= 0)
            continue;
        if (times > TARGET_REPLACE_MAX) {
            hh_tm__alert(tm, HH_TMA_GAVE_UP, true, &t->sig, ref, 0, q,
                         "the broker keeps ending this target: not placed again (the stop "
                         "and the square-off still protect the position)");
            continue;
        }
        place_target(tm, ti, k, q);
        hh_tm__ref(tm, tm->trades[ti].tgt_oid[k])->replaced = times;
        tm->changes++;
        t = &tm->trades[ti];
    }
}

/* Keep the targets' open quantity within the position: trim from the last
 * target (a smaller quantity, or cancelled). */
static void trim_targets(struct hh_tm *tm, uint32_t ti)
{
    struct trade *t = &tm->trades[ti];
    hh_qty_t room = t->pos;

    for (int k = 0; k < t->ntgt; k++) {
        const struct order_ref *g = hh_tm__ref(tm, t->tgt_oid[k]);

        if (g && !g->done && g->cancel == CS_NONE)
            room -= g->qty - g->filled;
    }
    for (int k = t->ntgt - 1; k >= 0 && room < 0; k--) {
        struct order_ref *g = hh_tm__ref(tm, t->tgt_oid[k]);
        hh_qty_t left;

        if (!g || g->done || g->cancel != CS_NONE)
            continue;
        left = g->qty - g->filled;
        if (left <= -room) {
            room += left;
            hh_tm__queue_cancel(tm, g);
        } else {
            hh_tm__modify(tm, t->tgt_oid[k], g->qty + room, 0);
            room = 0;
        }
    }
}

void hh_tm__begin_exit(struct hh_tm *tm, uint32_t ti, uint8_t intent)
{
    struct tm_exec *X = &tm->x;

    if (!tm->trades[ti].exit_intent &&
        !hh_grow(&X->exiting, &X->capexiting, X->nexiting + 1, sizeof *X->exiting))
        X->exiting[X->nexiting++] = ti;
    tm->trades[ti].exit_intent = intent;
    tm->changes++;
}

/* Forget the exiting trades that closed. */
static void prune_exiting(struct hh_tm *tm)
{
    struct tm_exec *X = &tm->x;
    size_t k = 0;

    for (size_t i = 0; i < X->nexiting; i++)
        if (tm->trades[X->exiting[i]].st == T_OPEN)
            X->exiting[k++] = X->exiting[i];
    X->nexiting = k;
}

/* ---- driving a trade --------------------------------------------------------------------- */

/* Cancel the entry's remainder, the targets and the policy's resting orders:
 * true while any of them still lives. */
static bool withdraw_others(struct hh_tm *tm, uint32_t ti)
{
    struct trade *t = &tm->trades[ti];
    struct order_ref *ref;
    bool busy = false;

    if ((ref = hh_tm__ref(tm, t->entry_oid)) && !ref->done) {
        hh_tm__queue_cancel(tm, ref);
        busy = true;
    }
    for (int k = 0; k < tm->trades[ti].ntgt; k++) {
        if ((ref = hh_tm__ref(tm, tm->trades[ti].tgt_oid[k])) && !ref->done) {
            hh_tm__queue_cancel(tm, ref);
            busy = true;
        }
    }
    policy(tm)->withdraw(tm, ti);
    return busy || ref_live(tm, tm->trades[ti].stop_oid);
}

/* Exiting: once nothing else can trade, the exit for the live position. */
static void exit_now(struct hh_tm *tm, uint32_t ti)
{
    struct trade *t = &tm->trades[ti];
    struct tm_hsl *s = hsl_of(tm, t);
    hh_qty_t qty;
    char client[HH_CLIENT_ID_MAX];

    if (s && hsl_finished(s) && !ref_live(tm, s->key[0]) && !ref_live(tm, s->key[1]))
        hsl_release(tm, t);
    if (withdraw_others(tm, ti) || hsl_of(tm, &tm->trades[ti]))
        return;
    t = &tm->trades[ti];
    if (ref_live(tm, t->sq_oid) || t->pos <= 0 ||
        (t->exit_retry_at != HH_TIME_NONE && now_of(tm) < t->exit_retry_at))
        return;
    qty = hh_ord_exit_qty(signed_pos(t), hh_side_opposite(t->sig.side), pending_exits(tm, t),
                          t->pos);
    t->exit_retry_at = HH_TIME_NONE;
    if (qty <= 0)
        return;
    if (t->exit_intent == X_STOP) {
        hsl_start(tm, ti, qty, stop_level(t));
        return;
    }
    hh_tm__client_id(client, 'h', t->serial, 'q', -1, ++t->orders);
    hh_tm__place(tm, client, ti, false, P_SQUAREOFF, -1, t->sig.iid,
                 hh_side_opposite(t->sig.side), HH_ORD_MARKET, qty, 0, &tm->trades[ti].sq_oid);
    tm->changes++;
}

void hh_tm__drive(struct hh_tm *tm, uint32_t ti)
{
    struct trade *t = &tm->trades[ti];

    if (t->st != T_OPEN)
        return;
    if (t->exit_intent) {
        exit_now(tm, ti);
    } else if (t->pos <= 0) {
        withdraw_others(tm, ti);
    } else {
        /* the stop first: it protects the position from its first unit */
        policy(tm)->follow(tm, ti);
        t = &tm->trades[ti];
        if (!ref_live(tm, t->entry_oid) && !t->adopted) {
            if (!t->ntgt)
                place_targets(tm, ti);
            else
                replace_targets(tm, ti);
        }
        trim_targets(tm, ti);
    }
    t = &tm->trades[ti];
    if (t->st == T_OPEN && t->pos <= 0 && !has_live_orders(tm, t)) {
        if (hsl_of(tm, t))
            hsl_release(tm, t);
        hh_tm__close_trade(tm, ti);
    }
}

void hh_tm__squareoff(struct hh_tm *tm, uint32_t ti)
{
    struct trade *t = &tm->trades[ti];

    t->squared_off = true;
    tm->changes++;
    if (!t->exit_intent) {
        hh_tm__begin_exit(tm, ti, X_SQUAREOFF);
        hh_tm__alert(tm, HH_TMA_SQUAREOFF, false, &t->sig, NULL, 0, t->pos,
                     "square-off time: closing at market");
    }
    hh_tm__drive(tm, ti);
}

void hh_tm__abandon(struct hh_tm *tm, uint32_t ti, bool expired)
{
    struct trade *t = &tm->trades[ti];
    uint8_t want = expired ? AB_EXPIRED : AB_WAIT;
    struct order_ref *ref;

    if (t->abandon == want || t->abandon == AB_EXPIRED)
        return;
    t->abandon = want;
    tm->changes++;
    if ((ref = hh_tm__ref(tm, t->entry_oid)) && !ref->done)
        hh_tm__queue_cancel(tm, ref);   /* the trade moves when it is confirmed */
}

void hh_tm__entry_unavailable(struct hh_tm *tm, uint32_t ti, const char *detail)
{
    struct trade *t = &tm->trades[ti];
    struct sym *sy = &tm->syms[t->sig.iid];

    if (t->st != T_ENTERING)
        return;
    sy->active = -1;
    tm->open_count--;
    tm->stats.open--;
    t->st = T_DROPPED;
    tm->x.stats.broker_unavailable++;
    tm->changes++;
    if (tm->sink.rejected)
        tm->sink.rejected(tm->sink.ctx, &t->sig, HH_SIG_BROKER_UNAVAILABLE, detail);
}

/* The entry ended with nothing filled: back to waiting, or dropped when it
 * was abandoned because the signal expired. */
static void entry_ended(struct hh_tm *tm, uint32_t ti)
{
    struct trade *t = &tm->trades[ti];

    if (t->abandon == AB_EXPIRED) {
        struct sym *sy = &tm->syms[t->sig.iid];

        sy->active = -1;
        tm->open_count--;
        tm->stats.open--;
        t->st = T_WAITING;   /* hh_tm__drop() expects a waiting trade */
        t->abandon = AB_NONE;
        tm->stats.waiting++;
        hh_tm__drop(tm, ti, HH_DROP_EXPIRED, now_of(tm));
    } else {
        hh_tm__back_to_waiting(tm, ti);
    }
    tm->changes++;
}

void hh_tm__exits_report(struct hh_tm *tm, struct order_ref *ref, const struct hh_report *r)
{
    size_t i = (size_t)(ref - tm->refs);
    uint32_t ti = ref->trade;
    struct trade *t;

    if (ref->hsl && !ref->boid && r->kind != HH_RPT_FILL && ref->done) {
        /* ended before it ever reached the broker: a placement that failed */
        hh_tm__hsl_place_failed(tm, ref);
    } else if (ref->hsl) {
        uint32_t slot = ref->hsl - 1;
        struct hh_hsl_action act;

        if (hh_hsl_on_report(&tm->x.hsl[slot].h, r, now_of(tm), &act, NULL) == HH_OK)
            hsl_do(tm, slot, &act);
    }
    ref = &tm->refs[i];
    t = &tm->trades[ti];
    if (ref->purpose == P_SQUAREOFF && ref->done && ref->filled < ref->qty &&
        ref->oid == t->sq_oid && t->pos > 0)
        /* the broker ended a square-off: not again at the same instant */
        t->exit_retry_at = now_of(tm) + hh_retry_delay(&tm->x.retry, 0);
    if (ref->purpose == P_ENTRY && ref->done && t->st == T_ENTERING && t->entry_oid == ref->oid)
        entry_ended(tm, ti);
    hh_tm__drive(tm, ti);
}

/* ---- deadlines ------------------------------------------------------------------------------ */

hh_time_t hh_tm__exits_next(const struct hh_tm *tm)
{
    const struct tm_exec *X = &tm->x;
    hh_time_t next = HH_TIME_MAX, now = now_of(tm);

    for (size_t i = 0; i < X->nhsl; i++)
        if (X->hsl[i].used && X->hsl[i].h.deadline != HH_TIME_NONE &&
            X->hsl[i].h.deadline < next)
            next = X->hsl[i].h.deadline;
    for (size_t i = 0; i < X->nexiting; i++) {
        const struct trade *t = &tm->trades[X->exiting[i]];

        if (t->st == T_OPEN && t->exit_intent && t->exit_retry_at != HH_TIME_NONE &&
            t->exit_retry_at > now && t->exit_retry_at < next)
            next = t->exit_retry_at;
    }
    return next;
}

void hh_tm__exits_timer(struct hh_tm *tm, hh_time_t now)
{
    struct tm_exec *X = &tm->x;

    for (size_t i = 0; i < X->nhsl; i++) {
        struct hh_hsl_action act;

        if (!X->hsl[i].used || X->hsl[i].h.deadline == HH_TIME_NONE ||
            X->hsl[i].h.deadline > now)
            continue;
        if (hh_hsl_on_timer(&X->hsl[i].h, now, &act) == HH_OK)
            hsl_do(tm, (uint32_t)i, &act);
    }
    prune_exiting(tm);
    for (size_t i = 0; i < X->nexiting; i++) {
        uint32_t ti = X->exiting[i];
        const struct trade *t = &tm->trades[ti];

        if (t->st == T_OPEN && t->exit_intent && t->exit_retry_at != HH_TIME_NONE &&
            t->exit_retry_at <= now)
            hh_tm__drive(tm, ti);
    }
}
