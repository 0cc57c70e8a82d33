/*
 * trade.h — the trade manager: the single-signal trade life cycle of
 * SPEC §5, written once for backtest, paper and live.
 *
 * Accepted signals become waiting trades (any number; never cleared when
 * one is taken).  Waiting trades are invalidated first (STOP_BEFORE_ENTRY,
 * EXPIRED), then judged for readiness on completed candles (retest) or
 * ticks/bars (touch); the ready ones are taken best first under
 * risk.max_open_trades and one trade per symbol, sized in whole lots from
 * compounding equity, entered with a market order, and protected by a stop
 * order and one limit order per target.  Breakeven after T1, square-off and
 * slippage follow SPEC §5/§5a.
 *
 * The manager never computes a fill: it places, modifies and cancels orders
 * through the broker interface and reacts to the fill reports it receives.
 * It reads no clock and does no I/O; what it decides leaves through the
 * sink callbacks (fills, closed trades, rejections, invalidations).
 *
 * Multi-leg option groups (SPEC §8) share the slots, the broker and the
 * sinks; their life cycle is in group.c: margin check at start, legs in
 * priority order with each short sent only for what its protection has
 * filled, an exposure monitor on a timer, emergency hedges, rollback
 * (shorts closed before longs), group P&L limits, expiry settlement.
 *
 * Orders take one road in every mode (orders.c): a decision only queues
 * the order; the manager then makes its state durable through the
 * runner's barrier (hh_tm_set_barrier) and sends what is queued, through
 * the circuit breaker, with retries, looking a placement of unknown outcome
 * up by its client id before placing it again.  Every report goes through
 * the order's state machine (exec/order.h) before it is booked.  The exit
 * rules are written once (exits.c); how a stop executes is the stop policy
 * (exits.stop_orders, SPEC §10b): RESTING — a stop order rests at the
 * broker for the position (the backtest's semantics), HELD — the manager
 * holds the level and executes it with the hybrid stop-loss.
 *
 * Calling sequence per market event (the runner's job):
 *   ticks: for each tick X — hh_tm_candle() for every candle completing
 *          at X, then hh_tm_select(), then hh_tm_tick(X);
 *   bars:  hh_tm_bars() with all bars sharing one start time.
 * Signals are fed with hh_tm_signal() / hh_tm_group() before market data
 * of the same time; due timers (hh_tm_next_timer()) fire after signals and
 * before market data of the same instant, with the clock moved to their
 * deadline (hh_tm_fire_timers()).
 */
#ifndef HH_TRADE_H
#define HH_TRADE_H

#include "broker/broker.h"
#include "core/calendar.h"
#include "core/event.h"
#include "core/instrument.h"
#include "core/serial.h"
#include "exec/breaker.h"
#include "exec/hybrid_sl.h"
#include "exec/retry.h"
#include "market/candle.h"
#include "options/strategy.h"
#include "trade/charges.h"

#include <stdbool.h>
#include <stdint.h>

enum hh_fill_reason {
    HH_FR_ENTRY,
    HH_FR_STOP,
    HH_FR_TARGET1,
    HH_FR_TARGET2,
    HH_FR_TARGET3,
    HH_FR_SQUAREOFF,
    HH_FR_KILL,
    HH_FR_EXPIRY,
    HH_FR_RECONCILED,   /* run only: the broker no longer holds it (broker wins) */
};

const char *hh_fill_reason_name(enum hh_fill_reason r);

/* Why a waiting trade ended without an entry (not a dead letter). */
enum hh_tm_drop { HH_DROP_STOP_BEFORE_ENTRY, HH_DROP_EXPIRED };

const char *hh_tm_drop_name(enum hh_tm_drop d);

/* How stops execute (exits.stop_orders, SPEC §10b). */
enum hh_stop_policy {
    HH_STOPS_RESTING = 0,   /* a stop order at the broker, resized with the position */
    HH_STOPS_HELD = 1,      /* the level is the manager's; the hybrid stop-loss
                               executes it (SL-LIMIT, then MARKET); a stop and a
                               target can never both fill */
};

const char *hh_stop_policy_name(enum hh_stop_policy p);

/* The immutable settings the manager runs with (mapped from hh_config). */
struct hh_tm_config {
    hh_money_t capital;
    hh_ratio_t risk_per_trade;
    hh_ratio_t size_scale;
    int64_t max_lots_per_trade;
    int64_t max_open_trades;
    bool touch;                     /* entry.mode touch (else retest) */
    hh_ratio_t volume_mult;
    int64_t volume_lookback;
    bool require_pattern;
    bool breakeven_after_t1;
    bool squareoff_set;             /* false: hold past the close */
    bool squareoff_explicit;        /* else per-exchange default */
    int64_t squareoff;              /* IST time of day, ns */
    const struct hh_charges *fees;
    /* multi-leg groups */
    int64_t exposure_check;         /* ns between exposure checks */
    int64_t hedge_debounce;         /* ns between hedges of one bucket */
    int64_t leg_timeout;            /* ns a leg may take once it can fill */
    hh_ratio_t margin_buffer;       /* share of available margin usable */
    bool require_broker_margin;     /* no group starts when a broker with a
                                       basket margin cannot give it */
    bool allow_naked;               /* accept naked shorts (straddles...) */
    bool expiry_close_set;          /* close ITM shorts on expiry day ... */
    int64_t expiry_close_before;    /* ... at this IST time of day, ns */
    hh_ratio_t variance_limit;      /* hedge-balance variance flagged above */
    /* stops and the order road */
    enum hh_stop_policy stops;
    struct hh_retry_policy retry;   /* broker.retry */
    uint64_t retry_seed;            /* jitter PRNG seed (any value) */
    struct hh_breaker_config breaker;   /* broker.breaker */
    struct hh_hsl_config hsl;       /* exec.sl_limit_buffer_pct, exec.sl_timeout_ms,
                                       confirm poll (1 s) */
};

/* One execution, as fills.csv reports it. */
struct hh_tm_fill {
    hh_time_t ts;
    uint64_t order_id;
    uint32_t trade_id;
    const struct hh_signal *sig;    /* borrowed for the call */
    hh_iid_t iid;
    enum hh_side side;
    hh_qty_t qty;
    hh_price_t price;
    enum hh_fill_reason reason;
    hh_money_t charges;
};

/* A closed trade, as trades.csv reports it. */
struct hh_tm_trade {
    uint32_t trade_id;
    const struct hh_signal *sig;
    hh_iid_t iid;
    enum hh_side side;
    hh_qty_t qty;                   /* units entered */
    hh_time_t entry_ts;
    hh_price_t entry_price;         /* quantity-weighted entry */
    hh_time_t exit_ts;              /* last exit fill */
    hh_price_t avg_exit_price;      /* rounded half-up to the paisa */
    enum hh_fill_reason exit_reason;
    hh_money_t gross, charges, net;
    int64_t r_multiple;             /* x100, rounded half-up */
};

/* An order the manager placed, changed or cancelled, or a report about it
 * (for the store and the audit trail). */
enum hh_tm_order_kind {
    HH_TMO_SENT,        /* placed: the broker accepted the request */
    HH_TMO_SEND_FAILED, /* place() returned an error (rc) */
    HH_TMO_MODIFY,      /* quantity or price changed */
    HH_TMO_CANCEL,      /* cancellation requested */
    HH_TMO_REPORT,      /* a broker report (kind in report) */
};

struct hh_tm_order_event {
    enum hh_tm_order_kind kind;
    hh_time_t ts;                       /* engine time */
    const struct hh_signal *sig;        /* owner's signal (group header for
                                           groups); borrowed for the call */
    uint32_t trade_id;                  /* 0 before the entry fills */
    const struct hh_order_req *req;     /* SENT, SEND_FAILED: the request */
    uint64_t order_id;                  /* broker id (0 when not placed) */
    const struct hh_report *report;     /* REPORT */
    int rc;                             /* SEND_FAILED */
    hh_qty_t qty;                       /* MODIFY: new total (0: unchanged) */
    hh_price_t limit, trigger;          /* MODIFY: new prices (0: unchanged) */
    enum hh_ord_state state;            /* the order's state after
                                           the event, as its state machine
                                           (exec/order.h) has it */
};

/* What the order road tells the operator (logs, audit trail, alerts). */
enum hh_tm_alert_kind {
    HH_TMA_BREAKER,          /* a circuit breaker transition (brk); to OPEN: alert */
    HH_TMA_RETRY,            /* a broker call failed (rc) and will be tried again */
    HH_TMA_GAVE_UP,          /* an entry's placement failed for good (rc) */
    HH_TMA_PLACE_UNKNOWN,    /* a placement timed out: the order may exist */
    HH_TMA_PLACE_FOUND,      /* ... found by its client id (order_id) */
    HH_TMA_PLACE_ABSENT,     /* ... not found past the book's grace: placed
                                again, same client id — or, its cancel wanted,
                                taken for never placed */
    HH_TMA_STOP_TRIGGERED,   /* the stop level traded: exit started */
    HH_TMA_STOP_MARKET,      /* the hybrid stop markets the remainder (qty) */
    HH_TMA_STOP_DONE,        /* the hybrid stop executed its quantity */
    HH_TMA_STOP_FAILED,      /* alert: the stop's market order failed; qty
                                still held, the exit is tried again */
    HH_TMA_SQUAREOFF,        /* square-off time: exit started */
    HH_TMA_DUP_FILL,         /* a duplicate or stale fill report was ignored;
                                rc HH_EEXIST: its exec id was applied before */
    HH_TMA_BAD_REPORT,       /* alert: a report contradicting the order was
                                refused (rc: HH_ERANGE above its quantity,
                                HH_EINVAL malformed) */
    HH_TMA_HEDGE_IMBALANCE,  /* alert: a group filled with a hedge variance above
                                risk.max_hedge_variance (qty: units unhedged) */
    HH_TMA_ILLEGAL_TRANSITION,  /* the order's state machine refused a transition
                                (rc HH_ESTATE; detail: which): a fill or an end
                                on a terminal order is an alert, a late ACK is
                                not */
    HH_TMA_EXIT_CAPPED,      /* an exit above the position it closes was cut
                                (qty: what was left) when sent */
    HH_TMA_GIVEN_UP,         /* units of a position the broker no longer holds
                                were given up (qty); its exits were aborted */
    HH_TMA_OVERSELL,         /* alert: the broker holds a position beyond or
                                against the engine's on an instrument the
                                engine traded (qty: the excess); not adopted */
    HH_TMA_NAKED_SHORT,      /* alert: an uncovered short option (qty) is being
                                bought back, retried until flat */
    HH_TMA_HEDGE,            /* an emergency hedge was ordered (qty) */
    HH_TMA_MARGIN_UNCHECKED, /* alert: a group started without the broker's
                                margin (unreachable; require_broker_margin off) */
    HH_TMA_STRAY,            /* alert: an order of ours (by its client id) the
                                engine does not want is working or filled at
                                the broker (qty: its filled units; detail: why
                                it is not wanted); cancelled at once */
    HH_TMA_KINDS             /* (how many) */
};

const char *hh_tm_alert_name(enum hh_tm_alert_kind k);

struct hh_tm_alert {
    enum hh_tm_alert_kind kind;
    hh_time_t ts;                             /* engine time */
    bool alert;                               /* raise it to the operator */
    const struct hh_signal *sig;              /* owner's signal, NULL for none */
    const struct hh_breaker_transition *brk;  /* HH_TMA_BREAKER */
    const char *client_id;                    /* the order concerned, or NULL */
    uint64_t order_id;                        /* broker id, 0 when unknown */
    int rc;                                   /* the broker's error, or the
                                                 order machine's refusal, 0 */
    hh_qty_t qty;
    const char *detail;                       /* text, borrowed for the call */
};

struct hh_tm_sink {
    void (*fill)(void *ctx, const struct hh_tm_fill *f);
    void (*closed)(void *ctx, const struct hh_tm_trade *t);
    /* A signal rejected at entry time (SIZE_TOO_SMALL): a dead letter. */
    void (*rejected)(void *ctx, const struct hh_signal *s, enum hh_sig_reason r,
                     const char *detail);
    void (*dropped)(void *ctx, const struct hh_signal *s, enum hh_tm_drop why,
                    hh_time_t at);
    /* Orders and their reports (may be NULL). */
    void (*order)(void *ctx, const struct hh_tm_order_event *e);
    void *ctx;
    /* Breaker transitions and alerts (may be NULL).  Its own
     * context, so a wrapping sink (journal/journal.h) need not know of it. */
    void (*alert)(void *actx, const struct hh_tm_alert *a);
    void *alert_ctx;
};

/* Running totals (for the summary). */
struct hh_tm_stats {
    uint64_t waiting;               /* now */
    uint64_t open;                  /* entering or open now */
    uint64_t trades_closed, wins, losses;
    hh_money_t gross, charges, net;
    hh_money_t equity;              /* capital + net of closed trades */
    hh_money_t peak_equity, max_drawdown;
    uint64_t dropped[2];            /* by enum hh_tm_drop */
    uint64_t size_too_small;
    /* multi-leg groups */
    uint64_t groups_started, groups_filled, groups_rolled_back, groups_closed;
    uint64_t margin_rejects;
    uint64_t broker_margins;        /* baskets the broker priced */
    uint64_t broker_margin_stricter;   /* ... above the simulator's worst case */
    uint64_t broker_margin_skipped; /* unreachable, checked without it */
    uint64_t hedges;                /* emergency hedge orders */
    hh_qty_t hedge_qty;
    int64_t max_exposure;           /* ns: longest unhedged short exposure seen
                                       (ended; hh_tm_exposure_longest() also
                                       counts the ones still going on) */
    int64_t max_uncovered;          /* ns: ... of it with no hedge in flight nor
                                       a buy-back working to cover it */
    uint64_t balance_flags;         /* groups whose hedge balance was flagged */
    uint64_t expiry_settlements;    /* legs settled at expiry */
};

struct hh_tm;

/*
 * Create a manager.  inst, cal, clock and sink are borrowed and must
 * outlive it; broker is copied and its sink is set to this manager.
 * Zero retry / breaker / confirm-poll settings take the SPEC §11 defaults.
 * Returns NULL when out of memory or when a setting is invalid
 * (hh_retry_init, hh_breaker_init, hh_hsl_init refuse it).
 */
struct hh_tm *hh_tm_new(const struct hh_tm_config *cfg, const struct hh_instruments *inst,
                        const struct hh_calendar *cal, const struct hh_clock *clock,
                        struct hh_broker broker, const struct hh_tm_sink *sink);
void hh_tm_free(struct hh_tm *tm);   /* accepts NULL */

/* An accepted signal becomes a waiting trade (copied). */
int hh_tm_signal(struct hh_tm *tm, const struct hh_signal *s);

/*
 * An accepted signal that is to arrive at its received_at (SPEC §5a: in
 * (received_at, line) order): held until hh_tm_arrive() makes it a waiting
 * trade (hh_tm_signal) or, with g, a waiting group (hh_tm_group with the
 * limits).  Copied; part of the snapshot.  Accept in line order: ties of
 * received_at arrive in acceptance order.
 */
int hh_tm_accept(struct hh_tm *tm, const struct hh_signal *s, const struct hh_strat_group *g,
                 hh_money_t stop_loss, hh_money_t target);

/* The next arrival's time and acceptance number; false when none waits. */
bool hh_tm_next_arrival(const struct hh_tm *tm, hh_time_t *t, uint64_t *seq);

/* Make the next arrival a waiting trade or group (the clock already at its
 * received_at).  HH_ENOTFOUND when none. */
int hh_tm_arrive(struct hh_tm *tm);

/* Accepted signals still to arrive. */
size_t hh_tm_pending(const struct hh_tm *tm);

/* A completed candle of entry.timeframe (tick data): readiness (retest). */
void hh_tm_candle(struct hh_tm *tm, const struct hh_candle *c);

/*
 * A validated multi-leg group (legs resolved, hedge rules checked): `hdr`
 * carries its id, line, ts, received_at, valid_until and correlation id
 * (targets unused); stop_loss / target are net P&L limits in rupees (0 =
 * none).  Both are copied.  The group starts when a slot is free and the
 * underlying and every leg have a price; its worst-case margin is checked
 * then (a MARGIN_WORST_CASE rejection goes to the rejected sink).
 */
int hh_tm_group(struct hh_tm *tm, const struct hh_signal *hdr, const struct hh_strat_group *g,
                hh_money_t stop_loss, hh_money_t target);

/* A group as seen from outside (tests, reports, the API). */
struct hh_tm_leg_view {
    hh_iid_t iid;
    enum hh_side side;
    hh_qty_t target, filled, closed;   /* units */
};

struct hh_tm_group_view {
    const char *id;                    /* borrowed */
    const char *state;                 /* WAITING ENTERING OPEN EXITING CLOSED DROPPED */
    uint32_t trade_id;
    bool rolled_back;
    int nlegs;
    struct hh_tm_leg_view legs[HH_STRAT_LEGS_MAX];
    hh_qty_t hedged;                   /* hedge units held, all buckets */
    hh_qty_t unhedged;                 /* short units not covered now (sum of
                                          positive bucket exposures) */
    int nbuckets;                      /* one per option type and expiry */
    struct hh_tm_bucket_view {
        hh_qty_t exposure;             /* short units beyond its long legs
                                          (before hedges) */
        hh_qty_t held, pending;        /* emergency hedges held, in flight */
        uint32_t hedges;               /* hedge decisions */
    } buckets[HH_STRAT_LEGS_MAX];
};

size_t hh_tm_group_count(const struct hh_tm *tm);

/* A single-signal trade as seen from outside (the API, reports): those the
 * manager holds, in arrival order (closed ones until a restart). */
struct hh_tm_trade_view {
    const char *signal_id;             /* borrowed */
    const char *state;                 /* WAITING ENTERING OPEN CLOSED DROPPED */
    uint32_t trade_id;                 /* 0 before its entry filled */
    hh_iid_t iid;
    enum hh_side side;
    bool adopted;                      /* found at the broker */
    hh_qty_t entered, pos;             /* units entered, still held */
    hh_price_t entry_avg;              /* 0 before a fill */
    hh_money_t realised;               /* gross P&L of the units exited */
    hh_money_t charges;
    hh_time_t entry_ts, exit_ts;       /* HH_TIME_NONE when none */
};

size_t hh_tm_trade_count(const struct hh_tm *tm);
int hh_tm_trade_view(const struct hh_tm *tm, size_t i, struct hh_tm_trade_view *out);

/* An order as seen from outside: every order the manager knows (working,
 * and the day's ended ones until a restart), in placement order. */
struct hh_tm_order_view {
    const char *client_id;             /* borrowed */
    uint64_t order_id;                 /* the broker's, 0 while unknown */
    const char *state;                 /* the order state machine's */
    hh_iid_t iid;
    enum hh_side side;
    enum hh_ord_type type;
    hh_qty_t qty, filled;
    hh_price_t limit, trigger;         /* 0 when none */
    hh_price_t avg_price;              /* of its fills, 0 before one */
    bool working;                      /* not terminal */
    hh_time_t placed_at;               /* engine time of its (last) placement */
    bool group;                        /* a multi-leg group's */
    uint32_t trade_id;                 /* its owner's (0 before it has one) */
};

size_t hh_tm_order_count(const struct hh_tm *tm);

/* The last price the manager saw for iid (0: none yet). */
hh_price_t hh_tm_last_price(const struct hh_tm *tm, hh_iid_t iid);
int hh_tm_order_view(const struct hh_tm *tm, size_t i, struct hh_tm_order_view *out);

/*
 * Mark need[iid] (n entries, by instrument id; only ever set, never
 * cleared) for every instrument whose market data the manager needs now:
 * accepted signals not yet arrived, trades waiting, entering or open, groups
 * not ended (their legs and underlying).  That covers every position and
 * working order of the engine: each belongs to one of them (adopted
 * positions are trades), and a trade or group ends only once flat with
 * every order of it ended.  What is not marked may go unwatched (live:
 * unsubscribed) until it is needed again.
 */
void hh_tm_market_needs(const struct hh_tm *tm, bool *need, size_t n);

/* Close one trade at market (the API's /trades/{id}/exit): a single trade
 * squared off (its other orders withdrawn first), a group exited (shorts
 * bought back before longs sold).  HH_ENOTFOUND for no trade of that id,
 * HH_ESTATE when it is not open (or the kill switch forbids exits). */
int hh_tm_exit_trade(struct hh_tm *tm, uint32_t trade_id);

/* The longest unhedged short exposure of any group up to `now`, the
 * stretches still going on included; `uncovered`: only the time with
 * nothing ordered to cover it (hedges in flight, buy-backs working). */
int64_t hh_tm_exposure_longest(const struct hh_tm *tm, hh_time_t now, bool uncovered);

/* The worst-case margin (paise) of the groups entering, open or exiting:
 * what a new group's margin check counts as in use. */
hh_money_t hh_tm_margin_in_use(const struct hh_tm *tm);

/* Hedge lags: the lengths (ns of engine time) of the unhedged short
 * exposures that ended — covered by a hedge or a buy-back — after the
 * first *seen, oldest first, at most cap into out (the last 32 are kept;
 * older ones are skipped).  *seen becomes the count ended so far.
 * Returns how many were written. */
size_t hh_tm_hedge_lags(const struct hh_tm *tm, uint64_t *seen, int64_t *out, size_t cap);

/* View of group i (arrival order); HH_ENOTFOUND past the end. */
int hh_tm_group_view(const struct hh_tm *tm, size_t i, struct hh_tm_group_view *out);

/* The legs whose fills differ from their target, one per line
 * ("NIFTY25JAN24300CE SELL filled 50 of 75"), into buf; returns the number
 * of mismatched legs (0: every leg filled as planned). */
int hh_tm_group_mismatch(const struct hh_tm *tm, const struct hh_tm_group_view *v, char *buf,
                         size_t cap);

/*
 * The live state as a canonical byte string (*out malloc'd, the caller
 * frees): waiting, entering and open trades, groups, working orders,
 * per-instrument state, timers, statistics.  Two managers in the same state
 * give the same bytes, cut at the same points; the state hash is made from
 * its chunks (the journal's hh_journal_state_hash).  Last traded prices are
 * not state (re-learned from the next tick).
 */
int hh_tm_snapshot(const struct hh_tm *tm, unsigned char **out, size_t *len);

/* The same into w (emptied first, its buffers reused), with the points
 * where the bytes may be cut into chunks (w->cut: every object boundary
 * that a stable identity picks, every section's end, the end).  HH_OK or
 * HH_ENOMEM. */
int hh_tm_snapshot_into(const struct hh_tm *tm, struct hh_ser_w *w);

/*
 * Restore a snapshot into a manager just created with the same instruments
 * and broker (no signal fed yet).  HH_EINVAL for a malformed snapshot or one
 * written by a different build; the manager must then be freed.  A
 * snapshot of version 6 (before candles were state) restores with the
 * candle builder as it is (empty); one whose candles were built for
 * another entry.timeframe restores without them (hh_tm_candles_dropped).
 */
int hh_tm_restore(struct hh_tm *tm, const unsigned char *blob, size_t len);

/* The restored snapshot held candles of another timeframe: the builder
 * started empty. */
bool hh_tm_candles_dropped(const struct hh_tm *tm);

/* The restored manager writes the very bytes it was restored from: false
 * after a version-6 snapshot (written as version 7 now) or dropped candles
 * (the restore's self-check cannot apply). */
bool hh_tm_restore_rewrites(const struct hh_tm *tm);

/* Changes to the live state so far: a checkpoint is due when it moved. */
uint64_t hh_tm_changes(const struct hh_tm *tm);

/*
 * The candle builder whose state is part of the snapshot (its last
 * section): borrowed, outlives the manager; set before hh_tm_restore.
 * NULL (the default): the section is written empty-handed (a manager
 * driven by bars, or a test without candles).
 */
void hh_tm_set_candles(struct hh_tm *tm, struct hh_candles *cb);

/* Ticks the candle builder took so far (0 without one): it changes with
 * every tick, the manager's own state does not (hh_tm_changes). */
uint64_t hh_tm_market_changes(const struct hh_tm *tm);

/*
 * Candle periods of instrument iid ended while the engine watched nothing
 * (a restart; hh_candles_gaps): the candles that condition an entry on
 * the previous ones — the volume mean of entry.volume_mult — start again.
 * The volume history is emptied and the volume rule is not met until
 * entry.volume_lookback candles have completed after the gap (SPEC §5's
 * "fewer available: the mean of those" is for data that begins, not for
 * data that was missed).  Without a volume rule nothing changes.
 */
void hh_tm_candle_gap(struct hh_tm *tm, hh_iid_t iid);

/* What reconciliation found (each is audited and counted by the caller). */
enum hh_div_kind {
    HH_DIV_MISSED_FILL,      /* the broker filled more than the engine heard */
    HH_DIV_MISSED_END,       /* the broker ended an order the engine thinks working */
    HH_DIV_UNKNOWN_ORDER,    /* the broker does not know an order the engine placed */
    HH_DIV_POSITION,         /* net positions differ after the orders were adopted */
    HH_DIV_NAKED_SHORT,      /* a short option no long of its bucket covers */
    HH_DIV_FOREIGN_ORDER,    /* live: the broker has a working order of a
                                client id the engine never placed */
    HH_DIV_OVERSELL,         /* the broker holds more than the engine, or the
                                other side, of an instrument the engine traded:
                                alerted, never adopted */
    HH_DIV_STRAY_ORDER,      /* live: a working or filled order with one of the
                                engine's client ids that no order of the engine
                                stands for (its own was taken for never placed,
                                or ended): cancelled, its fills adopted */
};

const char *hh_div_kind_name(enum hh_div_kind k);

struct hh_tm_divergence {
    enum hh_div_kind kind;
    hh_iid_t iid;
    uint64_t order_id;       /* 0 for positions */
    hh_qty_t engine_qty;     /* filled (orders) or net position (positions) */
    hh_qty_t broker_qty;
};

typedef void (*hh_div_fn)(void *ctx, const struct hh_tm_divergence *d);

/*
 * Reconcile with the broker's order book and net positions (broker state
 * wins): first, a working or filled order of ours (by client id) that no
 * order of the engine stands for any more — taken for never placed, or for
 * unknown at the broker, and listed after all — is a stray: cancelled at
 * once (confirmed like any cancel) and reported (HH_DIV_STRAY_ORDER, the
 * HH_TMA_STRAY alert); what it filled is adopted by position below, closed
 * at market at once unless the kill switch halts.  Then fills the update
 * stream lost are applied as fills at the broker's
 * average price of the missing part, orders the broker ended are ended,
 * orders it never heard of (absent from two listings in a row, past a
 * grace period from their acknowledgement, and not found by their client
 * id) count as rejected (an entry returns its trade to waiting; a lost
 * exit is decided again).  Then positions: what the broker no longer holds
 * is given up (its exits aborted); a position opened outside the engine on
 * an instrument it never traded is adopted as a trade of its own (squared
 * off like any other); more than the engine holds of one it traded is an
 * OVERSELL, alerted and never adopted; a short option that no long of its
 * bucket covers is bought back at once and again until flat.  Every
 * divergence goes to fn.  Returns how many were found.
 */
int hh_tm_reconcile(struct hh_tm *tm, const struct hh_broker_order *orders, size_t norders,
                    const struct hh_broker_position *pos, size_t npos, hh_div_fn fn,
                    void *ctx);

/* The engine's net position per instrument (signed units, long > 0). */
hh_qty_t hh_tm_position(const struct hh_tm *tm, hh_iid_t iid);

/* The earliest timer deadline (HH_TIME_MAX when none). */
hh_time_t hh_tm_next_timer(const struct hh_tm *tm);

/* Fire every timer due at or before `now` (the clock already at `now`). */
void hh_tm_fire_timers(struct hh_tm *tm, hh_time_t now);

/* ---- the order road (orders.c) -------------------------------------------------- */

/*
 * The runner's durability barrier: called before any broker call the
 * manager is about to make (placements, cancellations, modifications,
 * look-ups), with every decision that led to them already emitted through
 * the sink; it must make them durable (write-ahead: a crash never leaves a
 * broker order the database does not know) and return 0, or non-zero to
 * send nothing now (the calls stay queued).  Without one (a backtest
 * against the simulated exchange, which dies with the process) calls go
 * out at once.
 */
void hh_tm_set_barrier(struct hh_tm *tm, int (*barrier)(void *ctx), void *ctx);

/*
 * Hold every order call (true) until released (false): the commands stay
 * queued, only queries go out — `run` holds them until its startup
 * reconciliation succeeded.  Releasing sends what is due.
 */
void hh_tm_hold_orders(struct hh_tm *tm, bool hold);

/*
 * Send what is due now and deliver what the broker has due by now, until
 * neither is left: the manager does this itself at the end of its event
 * calls (signals, candles, ticks, bars, selections, timers) and after every
 * report; a runner calls it after a reconciliation (hh_tm_reconcile,
 * hh_tm_poll: their findings are recorded first) and after releasing a
 * hold.
 */
void hh_tm_flush(struct hh_tm *tm);

/* What one reconciliation poll did. */
struct hh_tm_poll_result {
    int rc;                   /* HH_OK, or the broker's (or breaker's) error:
                                 nothing was reconciled */
    int divergences;          /* found and adopted (each went to fn) */
    size_t orders, positions; /* rows the broker returned */
    uint64_t working;         /* engine orders working at the broker now */
};

/*
 * A reconciliation poll: the broker's order book and positions
 * through the breaker, then hh_tm_reconcile(); orders whose placement timed
 * out (or that a look-up did not find and are about to be placed again) are
 * matched by client id first; a working broker order with a client id the
 * engine does not know is reported (HH_DIV_FOREIGN_ORDER) and left alone.
 * The hybrid stops adopt their orders' rows.  out may be NULL.
 */
int hh_tm_poll(struct hh_tm *tm, hh_div_fn fn, void *ctx, struct hh_tm_poll_result *out);

/* Does the manager want a poll now, before the next one due?  Set when an
 * execution of an order not its own is reported in an instrument it traded
 * (a position closed by hand, by the broker): until a poll has reconciled
 * that instrument its exits wait, so none sells what is already gone.
 * Cleared by the next poll, whatever its outcome. */
bool hh_tm_poll_wanted(const struct hh_tm *tm);

/* Counters of the order road (for logs, metrics and tests). */
struct hh_tm_exec_stats {
    uint64_t reports;         /* broker reports received (any order) */
    uint64_t reports_unknown; /* reports for orders not (yet) known */
    uint64_t dup_fills;       /* duplicate or stale fills ignored */
    uint64_t refusals;        /* reports and transitions the orders' state
                                 machines refused (each alerted) */
    uint64_t placed;          /* placements the broker accepted */
    uint64_t retries;         /* calls failed and scheduled again */
    uint64_t timeouts;        /* placements of unknown outcome */
    uint64_t found;           /* ... found by client id */
    uint64_t refused;         /* calls the open breaker refused */
    uint64_t broker_unavailable;   /* entries rejected BROKER_UNAVAILABLE */
    uint64_t stops;           /* hybrid stops started */
    uint64_t stop_markets;    /* ... that had to market a remainder */
    uint64_t stop_failed;     /* ... whose market order failed */
    uint64_t polls, polls_failed;
    uint64_t exits_capped;    /* exits cut to the position when sent */
    uint64_t given_up;        /* units given up to the broker's view */
    uint64_t oversells;       /* positions the broker holds beyond or against
                                 the engine's on an instrument it traded */
    uint64_t unknown_lookups; /* absent orders looked up before declared gone */
    uint64_t foreign_fills;   /* executions of orders not ours (by hand, ...) */
    uint64_t exits_waited;    /* exits held back for a poll after one */
    uint64_t strays;          /* orders of ours the engine did not want found
                                 at the broker (HH_DIV_STRAY_ORDER) */
};

const struct hh_tm_exec_stats *hh_tm_exec_stats(const struct hh_tm *tm);

/*
 * The kill switch (SPEC §12).  pause: nothing is entered (waiting trades
 * kept, working entries withdrawn, exits managed); reduce: only orders
 * that reduce a position are sent (groups entering roll back; an exposed
 * group exits instead of hedging); halt: every working order is cancelled
 * (hybrid stops aborted) and nothing is sent; flatten: halt, then every
 * position closed at market (groups: shorts bought back before longs
 * sold); resume: back to ACTIVE.  The state is part of the snapshot (a
 * halted engine restarts halted).  Taking no new signal while not ACTIVE
 * is the runner's part.
 */
enum hh_tm_trading { HH_TRADING_ACTIVE, HH_TRADING_PAUSED, HH_TRADING_REDUCING,
                     HH_TRADING_HALTED };
enum hh_tm_kill { HH_TM_PAUSE, HH_TM_REDUCE, HH_TM_HALT, HH_TM_FLATTEN, HH_TM_RESUME };

const char *hh_tm_trading_name(enum hh_tm_trading s);   /* "ACTIVE", "PAUSED", ... */
void hh_tm_kill(struct hh_tm *tm, enum hh_tm_kill k);
enum hh_tm_trading hh_tm_trading(const struct hh_tm *tm);
bool hh_tm_flattening(const struct hh_tm *tm);
/* A flatten is done as far as the engine knows: it holds nothing and no
 * order of it works (the runner confirms with the broker's positions). */
bool hh_tm_flat(const struct hh_tm *tm);

/*
 * The runner stops (SIGTERM/SIGINT, SPEC §10): from now on no entry is
 * decided or sent — not a single trade's, not a group's leg, whatever the
 * kill switch says.  Entries decided and never sent are withdrawn at once
 * (a single trade waits again, as it is persisted; a group entering keeps
 * what it holds, its shorts wait: never naked).  What the broker may have
 * is followed: an order of unknown outcome is looked up by its client id
 * (every hsl.confirm_poll) and adopted when found — never placed again; a
 * halted engine cancels it once found.  Exits go on: a stop-loss already
 * executing is carried through, a square-off or a stop decided now goes
 * out.  Not part of the snapshot: the next start trades again.
 */
void hh_tm_stop(struct hh_tm *tm);
bool hh_tm_stopping(const struct hh_tm *tm);

/* Orders a stopping runner waits for (bounded) before its last checkpoint:
 * placements not yet known to the broker or of unknown outcome, cancels
 * not yet confirmed, working market orders, hybrid stops' orders.  Resting
 * orders (targets, resting stops) are not counted: they work at the broker
 * while the engine is down. */
size_t hh_tm_in_flight(const struct hh_tm *tm);

/* One step of a stopping runner's wait, the clock already moved to now:
 * what is due by now (look-ups, cancels and their confirmations, the
 * hybrid stops' deadlines) sent, the broker's reports delivered; returns
 * hh_tm_in_flight(). */
size_t hh_tm_stop_step(struct hh_tm *tm);

/* The circuit breaker's state. */
enum hh_breaker_state hh_tm_breaker_state(const struct hh_tm *tm);

/*
 * The runner's position in its inputs, opaque to the manager and carried
 * in its snapshot, so a checkpoint says where each input resumes (rows of
 * market data processed, signal lines consumed...).  `change` counts the
 * update as a change of the state (a checkpoint becomes due): use it when
 * the position must be durable together with what the step decided.
 */
#define HH_TM_CURSOR_WORDS 8
struct hh_tm_cursor {
    uint64_t w[HH_TM_CURSOR_WORDS];
};

void hh_tm_set_cursor(struct hh_tm *tm, const struct hh_tm_cursor *c, bool change);
void hh_tm_get_cursor(const struct hh_tm *tm, struct hh_tm_cursor *out);

/* Enter nothing while held (ready trades stay waiting, groups do not
 * start; exits are managed as always): the runner's market data is unfit
 * to decide on (live: the tick stream is down or an instrument went
 * silent).  Not part of the snapshot: the runner sets it from what it sees. */
void hh_tm_hold_entries(struct hh_tm *tm, bool hold);

/* Take the ready trades best first (after the candles of one instant). */
void hh_tm_select(struct hh_tm *tm);

/* One in-session tick: entry/square-off rules, matching, invalidation,
 * touch readiness. */
void hh_tm_tick(struct hh_tm *tm, const struct hh_tick *t);

/* All bars starting at one instant (any symbols), then one selection. */
void hh_tm_bars(struct hh_tm *tm, const struct hh_bar *bars, size_t n);

const struct hh_tm_stats *hh_tm_stats(const struct hh_tm *tm);

/* Lots a signal would get now (SPEC §5 sizing); 0 means SIZE_TOO_SMALL. */
int64_t hh_tm_size_lots(const struct hh_tm *tm, const struct hh_signal *s);

#endif
