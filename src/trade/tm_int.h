/*
 * tm_int.h — the trade manager's private header, shared by its files:
 * trade.c (single-signal trades: waiting, readiness, entries, booking),
 * exits.c (the exit rules and the stop policies), orders.c (the order road:
 * write-ahead queue, broker calls, reports through the order machines,
 * polls), group.c (multi-leg groups), reconcile.c, stray.c (orders of ours
 * the engine does not want), snapshot.c, arrival.c.
 * Nothing outside src/trade includes it.
 *
 * Orders of both kinds go through one table (refs[], found by broker order
 * id) so one report handler routes every fill to its owner.
 */
#ifndef HH_TM_INT_H
#define HH_TM_INT_H

#include "core/event.h"
#include "core/grow.h"
#include "core/u64map.h"
#include "exec/hedge.h"
#include "exec/hybrid_sl.h"
#include "exec/order.h"
#include "risk/margin.h"
#include "trade/trade.h"

enum tstate { T_WAITING, T_ENTERING, T_OPEN, T_CLOSED, T_DROPPED };

enum purpose {
    P_ENTRY, P_STOP, P_T1, P_T2, P_T3, P_SQUAREOFF,   /* single trades */
    P_HEDGE, P_CLOSE,                                 /* groups (leg entries: P_ENTRY) */
    P_STRAY,      /* an order of ours at the broker the engine does not want
                     (stray.c): never placed by this ref, only cancelled and
                     watched; its owner is the order's whose client id it has */
};

/* Where a placement stands. */
enum pstate {
    PS_PLACED = 0,                /* the broker has it (boid known) */
    PS_QUEUED,                    /* decided, not yet sent (write-ahead) */
    PS_RETRY,                     /* refused by a 503: placed again at `due` */
    PS_FINDING,                   /* outcome unknown (timeout, or queued before
                                     a crash): look the client id up at `due` */
};

/* A cancellation's progress. */
enum cstate { CS_NONE = 0, CS_WANTED, CS_SENT };

struct order_ref {
    uint32_t trade;               /* owner: trades[] index, or groups[] index */
    bool group;                   /* owner is a group */
    enum purpose purpose;         /* single trades */
    int leg;                      /* groups: leg index, or 100 + bucket for a hedge */
    uint64_t oid;                 /* the broker's order id */
    hh_time_t placed_at;          /* engine time of the last placement call */
    hh_time_t acked_at;           /* ... the broker accepted it (NONE: not yet) */
    uint8_t missing;              /* listings in a row without it (reconcile) */
    hh_qty_t qty;                 /* order total */
    hh_qty_t filled;              /* units booked to the owner */
    hh_money_t value;             /* price x qty of its fills */
    hh_money_t brokerage_paid;    /* for the per-order brokerage cap */
    bool done;                    /* terminal */
    /* `oid` above is the engine's own key for the order (stable from the
     * decision on, before the broker has an id); boid is the broker's id. */
    uint64_t boid;                /* the broker's id, 0 while unknown */
    struct hh_order_req req;      /* what is (to be) placed: client id, ... */
    /* The order's state machine, the one source of its state.  Every
     * report and every decision about the order goes through it first;
     * qty, filled and done above then follow what it accepted (qty ==
     * ord.req.qty, filled == ord.filled, done == terminal, checked after
     * every report).  Its exec ids are in tm_exec.execs. */
    struct hh_ord ord;
    uint8_t pstate;               /* enum pstate */
    uint8_t cancel;               /* enum cstate */
    bool poll;                    /* a status query is wanted (at `due`) */
    bool entry_side;              /* an entry (given up: BROKER_UNAVAILABLE) */
    int32_t failures;             /* failed calls of the pending operation */
    hh_time_t due;                /* when the pending operation is due */
    uint32_t hsl;                 /* owning hybrid stop: index + 1, 0 none */
    uint8_t hsl_leg;              /* enum hh_hsl_leg */
    uint8_t replaced;             /* a target: times it was placed again after
                                     the broker ended it */
    bool modify;                  /* a change of qty / trigger is wanted */
    hh_qty_t mod_qty;             /* ... the new total (0: unchanged) */
    hh_price_t mod_trigger;       /* ... the new trigger (0: unchanged) */
};

struct trade {
    struct hh_signal sig;
    enum tstate st;
    bool ready;                   /* ready in the current selection */
    uint32_t trade_id;            /* 0 until the entry fills */
    int64_t lots;
    hh_qty_t qty;                 /* units planned */
    hh_qty_t entry_filled;
    hh_qty_t pos;                 /* open position, units */
    hh_money_t entry_value, exit_value, charges;
    hh_qty_t exit_qty;
    hh_time_t entry_ts, exit_ts;
    enum hh_fill_reason last_exit;
    hh_time_t squareoff_at;       /* HH_TIME_MAX: hold */
    bool breakeven_done;
    bool squared_off;
    uint32_t serial;              /* stable across restarts: client ids */
    uint32_t attempt;             /* entry attempts */
    uint32_t orders;              /* orders placed so far (client ids) */
    bool adopted;                 /* a broker position found by reconciliation */
    uint64_t entry_oid, stop_oid, sq_oid;
    uint64_t tgt_oid[HH_SIG_TARGETS_MAX];
    hh_qty_t tgt_qty[HH_SIG_TARGETS_MAX];
    int ntgt;
    /* exits */
    uint8_t exit_intent;          /* X_NONE, X_STOP (held), X_SQUAREOFF */
    uint8_t abandon;              /* entry cancel asked: AB_WAIT (back to
                                     waiting), AB_EXPIRED (drop) */
    uint32_t hsl;                 /* its hybrid stop: index + 1, 0 none */
    uint32_t stops;               /* hybrid stops started (client ids) */
    hh_time_t exit_retry_at;      /* a failed stop is tried again then */
};

enum { X_NONE, X_STOP, X_SQUAREOFF };
enum { AB_NONE, AB_WAIT, AB_EXPIRED };

/* ---- multi-leg groups (group.c) ----------------------------------------- */

enum gstate {
    G_WAITING,     /* accepted; waits for a slot and prices */
    G_ENTERING,    /* legs executing in priority order */
    G_OPEN,        /* every leg filled */
    G_EXITING,     /* closing: shorts first, then longs and hedges */
    G_CLOSED,
    G_DROPPED,     /* expired or rejected before starting */
};

#define G_BUCKETS HH_STRAT_LEGS_MAX

struct gleg {
    int bucket;                   /* index into tm_group.bucket */
    bool is_short;
    hh_qty_t target;              /* units to hold */
    hh_qty_t sent;                /* units in entry orders placed */
    hh_qty_t filled;              /* entry units filled */
    hh_qty_t exit_sent;           /* units in closing orders placed */
    hh_qty_t closed;              /* units closed (orders or settlement) */
    hh_time_t armed_at;           /* its first chance to fill (an event of its
                                     instrument with an entry working); NONE
                                     before; never cleared */
    int entry_working;            /* entry orders working */
};

struct gbucket {
    enum hh_opt_type opt;
    hh_date_t expiry;
    hh_iid_t hedge_iid;           /* the bucket's long leg: what a hedge buys;
                                     HH_IID_NONE for a naked bucket */
    struct hh_hedge hedge;        /* the emergency hedges: held, in flight */
    hh_qty_t hedge_exit_sent;
    hh_time_t exposed_since;      /* unhedged short exposure began, or NONE */
    hh_time_t uncovered_since;    /* ... with nothing ordered to cover it */
};

struct tm_group {
    struct hh_signal sig;         /* id, line, times, correlation id */
    uint32_t serial;              /* stable across restarts: client ids */
    uint32_t orders;              /* orders placed so far (client id attempt) */
    struct hh_strat_group g;
    enum gstate st;
    uint32_t trade_id;
    int order[HH_STRAT_LEGS_MAX]; /* execution order (leg priority) */
    struct gleg leg[HH_STRAT_LEGS_MAX];
    int nbuckets;
    struct gbucket bucket[G_BUCKETS];
    hh_money_t stop_loss, target; /* 0 = none */
    hh_money_t margin;            /* required at start (held while open) */
    hh_money_t buy_value, sell_value, charges;
    hh_money_t entry_net;         /* sell - buy of the entry fills */
    hh_time_t entry_ts, exit_ts;
    hh_time_t expiry_close;       /* settlement instant (legs' expiry close) */
    hh_time_t squareoff_at;       /* HH_TIME_MAX: held past the close */
    uint64_t settle_timer, close_timer;   /* its timers' ids (0: none) */
    bool expiry_closed_itm;       /* expiry.close_before already acted */
    bool settling;                /* expiry settlement: place nothing more */
    bool place_failed;            /* the broker refused an entry placement */
    enum hh_fill_reason exit_reason;
    bool rolled_back;
};

/* How late a broker's order book may list an order it accepted: within
 * this time, an order missing from it (or not found by its client id) may
 * simply not be listed yet. */
#define HH_TM_BOOK_GRACE (10 * HH_NS_PER_S)
#define TM_LAGS 32                /* ended exposures kept for hh_tm_hedge_lags() */

/* Timer kinds the manager starts. */
enum tm_timer_kind { TMR_EXPOSURE = 1, TMR_EXPIRY_CLOSE, TMR_SETTLE, TMR_ORDERS };

/* ---- the order road (orders.c) and held stops (exits.c) ---------------------- */

/* A hybrid stop-loss of a trade. */
struct tm_hsl {
    bool used;
    uint32_t trade;               /* owner: trades[] index */
    struct hh_hsl h;              /* the machine (owns two hh_ord) */
    uint64_t key[2];              /* engine keys of its orders, by enum hh_hsl_leg */
};

struct tm_exec {
    uint64_t next_key;            /* engine order keys: 1, 2, ... */
    struct hh_retry retry;
    struct hh_breaker brk;
    struct tm_hsl *hsl;
    size_t nhsl, caphsl;
    struct hh_u64map by_boid;     /* broker id -> refs index + 1 */
    struct hh_u64map execs;       /* exec ids the refs' machines applied ->
                                     broker id (hh_ord_init_shared) */
    uint64_t timer_id;            /* the TMR_ORDERS timer, 0 when none */
    hh_time_t timer_at;
    struct hh_tm_exec_stats stats;
    bool in_send;                 /* inside a send round (no recursion) */
    bool flushing;                /* inside hh_tm_flush (reports queue only) */
    bool dirty;                   /* a command may be due now: set by every queue
                                     operation, send round and order timer; a
                                     flush with it clear and no broker report due
                                     does nothing (the hot path of every tick) */
    bool hold;                    /* order calls held (hh_tm_hold_orders) */
    bool poll_wanted;             /* reconcile now (hh_tm_poll_wanted) */
    int (*barrier)(void *ctx);    /* the runner's durability barrier, or NULL */
    void *barrier_ctx;
    uint32_t *open;               /* indices of refs not done, ascending */
    size_t nopen, capopen;
    uint32_t *exiting;            /* trades with an exit intent (closed ones
                                     pruned lazily; rebuilt on restore) */
    size_t nexiting, capexiting;
    size_t restored_upto;         /* refs[0..this) came from a snapshot and
                                     were not yet resumed (not state) */
    /* scratch for polls (not state) */
    struct hh_broker_order *obuf;
    size_t obuf_cap;
    struct hh_broker_position *pbuf;
    size_t pbuf_cap;
    size_t *round;                /* hh_tm_send: the refs due at its start */
    size_t round_cap;
    size_t round_npos;            /* the broker's positions listed for the round's
                                     exits (in pbuf, consumed as exits go out);
                                     SIZE_MAX: not listed */
};

/* An accepted signal waiting for its received_at (arrival.c). */
struct tm_arrival {
    struct hh_signal sig;
    uint64_t seq;                 /* acceptance order: breaks received_at ties */
    struct hh_strat_group *g;     /* a group's legs (owned), NULL for a single */
    hh_money_t stop_loss, target; /* a group's net P&L limits (0: none) */
};

struct sym {
    uint32_t *waiting;            /* trade indices, ascending (arrival order) */
    size_t nw, capw;
    int64_t active;               /* trade index or -1 */
    hh_price_t last;              /* last traded price (0: none yet) */
    bool traded;                  /* the engine placed an order in it, ever */
    hh_qty_t oversell;            /* the oversell last alerted (0: none) */
    bool unsettled;               /* reconcile's scratch (not state): an order
                                     in it may have fills the listing hides */
    bool foreign;                 /* an execution not ours was reported in it
                                     since the last reconciliation: its exits
                                     wait for the poll (not state: a restart
                                     reconciles first anyway) */
    bool stray;                   /* an order of ours the engine did not want
                                     (P_STRAY) filled in it: what the broker
                                     holds beyond the engine's trades is
                                     adopted, not only alerted; cleared when
                                     the positions agree (not state: a stray
                                     is found again by the next start) */
    /* The safe band of the waiting list: no waiting trade is invalidated by a
     * price in (buy_stop_max, sell_stop_min) before valid_min.  Recomputed
     * when the list changed (band_valid false). */
    bool band_valid;
    hh_price_t buy_stop_max, sell_stop_min;
    hh_time_t valid_min;
    int64_t *vols;                /* previous candle volumes (ring) */
    int64_t vn, vpos;
    __int128 vsum;
    bool vgap;                    /* candles were missed (hh_tm_candle_gap): the
                                     volume rule fails until the ring is full */
};

struct hh_tm {
    struct hh_tm_config cfg;
    const struct hh_instruments *inst;
    const struct hh_calendar *cal;
    const struct hh_clock *clock;
    struct hh_broker broker;
    struct hh_tm_sink sink;
    struct trade *trades;
    size_t ntrades, captrades;
    struct sym *syms;
    size_t nsyms;
    struct order_ref *refs;
    size_t nrefs, caprefs;
    struct hh_u64map by_oid;      /* broker order id -> refs index + 1 */
    uint32_t *ready;
    size_t nready, capready;
    int64_t open_count;
    uint32_t next_trade_id;
    uint32_t next_serial;         /* trades and groups, in arrival order */
    uint64_t changes;             /* bumped by every change of the live state */
    struct hh_tm_stats stats;
    /* groups */
    struct tm_group *groups;
    size_t ngroups, capgroups;
    size_t groups_active;         /* ENTERING or EXITING: the exposure timer runs */
    /* Unhedged short exposures that ended (for the hedge-lag metric; not in
     * the snapshot): the last TM_LAGS lengths, ns of engine time, at
     * lags[n % TM_LAGS]. */
    int64_t lags[TM_LAGS];
    uint64_t nlags;
    bool exposure_timer;          /* an exposure check is scheduled */
    enum hh_tm_trading trading;   /* the kill switch (kill.c) */
    bool flatten;                 /* ... closing everything */
    bool entries_held;            /* no entry now: the runner's market data is
                                     unfit (hh_tm_hold_entries; not saved) */
    bool stopping;                /* the runner stops (hh_tm_stop): no entry is
                                     decided or sent any more (not saved: the
                                     next start trades again) */
    struct hh_timers timers;
    struct hh_margin_sim msim;
    struct hh_tm_cursor cursor;   /* the runner's (opaque; in the snapshot) */
    struct tm_arrival *arr;       /* accepted, not yet arrived: a min-heap */
    size_t narr, caparr;
    uint64_t arr_seq;             /* acceptances so far */
    struct tm_exec x;
    struct hh_candles *candles;   /* the engine's builder, borrowed (NULL: none):
                                     the snapshot's last section */
    bool candles_dropped;         /* restored from candles of another timeframe */
    bool restored_v6;             /* restored from a version-6 snapshot */
};

/* ---- shared between trade.c and group.c -------------------------------- */

/* hh_tm_flush() when it may have work: every call of the manager ends with
 * it, so the common case (nothing queued, no report due later) is two
 * loads here. */
static inline void hh_tm__flush_maybe(struct hh_tm *tm)
{
    if (tm->x.dirty || tm->broker.ops->next_due)
        hh_tm_flush(tm);
}

struct sym *hh_tm__sym(struct hh_tm *tm, hh_iid_t iid);

/* The deterministic client order id (the broker's tag, the idempotency key)
 * of an owner's n-th order: owner ('h' a trade, 'g' a group), its serial, a
 * lowercase letter for the purpose (e entry, s stop, a/b/c targets, q
 * square-off, l/m a hybrid stop's legs; groups: e leg entry, h hedge, x
 * close, then the leg and "n"), n — alphanumeric; longer than HH_TAG_MAX it
 * is refused when placed. */
void hh_tm__client_id(char out[HH_CLIENT_ID_MAX], char owner, uint32_t serial, char code, int leg,
                      uint32_t n);

/* Queue an order owned by a trade or a group (write-ahead: it goes out with
 * the next flush); *oid receives the engine's key for it. */
int hh_tm__place(struct hh_tm *tm, const char *client, uint32_t owner, bool group,
                 enum purpose p, int leg, hh_iid_t iid, enum hh_side side,
                 enum hh_ord_type type, hh_qty_t qty, hh_price_t level, uint64_t *oid);
/* The same for a request made elsewhere (the hybrid stop's: any order type). */
int hh_tm__place_req(struct hh_tm *tm, const struct hh_order_req *req, uint32_t owner,
                     bool group, enum purpose p, int leg, uint64_t *oid);
struct order_ref *hh_tm__ref(struct hh_tm *tm, uint64_t oid);

/* Ask the broker to cancel (queued); the order is done when the broker
 * says so (its CANCELLED report, or a status query). */
void hh_tm__cancel(struct hh_tm *tm, uint64_t oid);

/* Change a working order's total quantity and/or trigger (0 = unchanged):
 * queued; applied when the broker accepts it. */
void hh_tm__modify(struct hh_tm *tm, uint64_t oid, hh_qty_t qty, hh_price_t trigger);

/* Charges of a fill of `ref` (brokerage capped per order). */
hh_money_t hh_tm__charge(struct hh_tm *tm, struct order_ref *ref, const struct hh_report *r);

/* Book a closed trade or group: stats, equity, drawdown, sink. */
void hh_tm__book_closed(struct hh_tm *tm, const struct hh_tm_trade *out);

/* Square-off time of day of an instrument on a date (-1: hold). */
int64_t hh_tm__squareoff_tod(const struct hh_tm *tm, const struct hh_instrument *in,
                             hh_date_t date);

void hh_tm__emit_fill(struct hh_tm *tm, const struct hh_signal *sig, uint32_t trade_id,
                      const struct hh_report *r, enum hh_fill_reason reason,
                      hh_money_t charges);

/* The broker's reports (and reconciliation's synthetic ones) enter here. */
void hh_tm__on_report(void *ctx, const struct hh_report *r);

/* group.c: the group life cycle's hooks into the event flow. */
int hh_tm__groups_init(struct hh_tm *tm);
void hh_tm__groups_free(struct hh_tm *tm);
void hh_tm__groups_before(struct hh_tm *tm, hh_iid_t iid, hh_time_t ts);
void hh_tm__groups_after(struct hh_tm *tm, hh_iid_t iid, hh_time_t ts);
void hh_tm__groups_select(struct hh_tm *tm, hh_time_t now);
void hh_tm__group_report(struct hh_tm *tm, struct order_ref *ref, const struct hh_report *r);
void hh_tm__group_timer(struct hh_tm *tm, const struct hh_timer *t);

/* arrival.c: push an arrival (ownership of a->g passes); free them all. */
int hh_tm__arrival_push(struct hh_tm *tm, const struct tm_arrival *a);
void hh_tm__arrivals_free(struct hh_tm *tm);

/* reconcile.c: an exit filled `excess` units beyond the position it closed
 * (it raced a change at the broker: a position closed by hand) — the broker
 * now holds them the other way.  The owner booked only what it held; the
 * excess is an oversell, alerted and adopted (the fill is known, no
 * listing race): a short option to be bought back at once, anything else
 * as a trade of its own, without stop or target. */
void hh_tm__overfill(struct hh_tm *tm, hh_iid_t iid, enum hh_side side, hh_qty_t excess,
                     hh_price_t px);

/* group.c: the broker holds `excess` fewer units of iid on the position's
 * `side` than the groups: given up (hedges first, then legs, newest group
 * first) as RECONCILED fills at px (<= 0: the leg's entry average); their
 * working closing orders are cancelled and the exposure they leave is
 * hedged at once.  Returns what the groups could not give up. */
hh_qty_t hh_tm__groups_give_up(struct hh_tm *tm, hh_iid_t iid, enum hh_side side,
                               hh_qty_t excess, hh_price_t px);

/* stray.c: the newest ref with client id cid, or NULL. */
const struct order_ref *hh_tm__ref_by_client(const struct hh_tm *tm, const char *cid);
/* stray.c: the broker's working or filled orders that carry one of our
 * client ids and that no order of the engine stands for — its own was
 * taken for never placed, or ended — each tracked as a P_STRAY ref,
 * cancelled when working, and reported (fn); returns how many were new. */
int hh_tm__strays(struct hh_tm *tm, const struct hh_broker_order *bo, size_t nbo, hh_div_fn fn,
                  void *ctx);
/* stray.c: a report applied to a P_STRAY ref's machine: counted on the ref
 * (its fills are the reconciliation's to adopt, by position). */
void hh_tm__stray_report(struct hh_tm *tm, struct order_ref *ref, const struct hh_report *r);

/* reconcile.c: settle order refs[k] against the broker's view b of it (NULL:
 * the broker does not know it); returns the divergences found (each to fn). */
int hh_tm__settle(struct hh_tm *tm, size_t k, const struct hh_broker_order *b, hh_div_fn fn,
                  void *ctx);

/* The exec id of a fill the engine books without a broker report (found
 * by reconciliation, or carried by a terminal report): a function of the
 * order and the cumulative filled it reaches, never a broker's. */
uint64_t hh_tm__synthetic_exec(uint64_t boid, hh_qty_t cum);

/* Deliver a report to the order `ref` (whatever its broker id). */
void hh_tm__deliver(struct hh_tm *tm, struct order_ref *ref, const struct hh_report *r);

/* Tell the sink's alert callback (when set); ref (may be NULL) names the order. */
void hh_tm__alert(struct hh_tm *tm, enum hh_tm_alert_kind kind, bool alert,
                  const struct hh_signal *sig, const struct order_ref *ref, int rc, hh_qty_t qty,
                  const char *detail);

/* ---- orders.c: the order road ------------------------------------------------- */

int hh_tm__orders_init(struct hh_tm *tm);
void hh_tm__orders_free(struct hh_tm *tm);
struct order_ref *hh_tm__ref_by_boid(struct hh_tm *tm, uint64_t boid);
/* A placement decided: the ref is queued; returns the key in *oid. */
int hh_tm__queue_place(struct hh_tm *tm, struct order_ref *ref, uint64_t *oid);
void hh_tm__queue_cancel(struct hh_tm *tm, struct order_ref *ref);
void hh_tm__queue_modify(struct hh_tm *tm, struct order_ref *ref, hh_qty_t qty,
                         hh_price_t trigger);
/* Units an order may still execute (unknown outcomes included). */
hh_qty_t hh_tm__open_qty(const struct order_ref *ref);
/* Apply a broker report (or one the engine built) to ref's state machine
 * first: false when the owner must not see it (refused — counted and
 * alerted —, a stale fill, a repeated end); *out gets the report to book
 * (a fill's qty: what the machine newly counted). */
bool hh_tm__apply_report(struct hh_tm *tm, struct order_ref *ref, const struct hh_report *r,
                         struct hh_report *out);
/* Keep the order road's one timer at the earliest thing it waits for. */
void hh_tm__arm(struct hh_tm *tm);
void hh_tm__orders_timer(struct hh_tm *tm, hh_time_t now);
/* Ask for the order's status at once (a hybrid stop's confirmation). */
void hh_tm__want_status(struct hh_tm *tm, struct order_ref *ref);
/* Look refs[k] up at the broker by its client id (through the breaker):
 * HH_OK with its row, HH_ENOTFOUND (also without a look-up call), or the
 * call's error. */
int hh_tm__lookup(struct hh_tm *tm, size_t k, struct hh_broker_order *row);

/* ---- exits.c: the exit rules, written once, and the stop policies ------------- */

/* After a report was applied to a trade's order (or a hybrid stop's). */
void hh_tm__exits_report(struct hh_tm *tm, struct order_ref *ref, const struct hh_report *r);
/* After an event of an open trade's symbol (prices lo..hi): held stops. */
void hh_tm__exits_market(struct hh_tm *tm, uint32_t ti, hh_price_t lo, hh_price_t hi);
/* An exit is decided for trade ti (X_STOP, X_SQUAREOFF). */
void hh_tm__begin_exit(struct hh_tm *tm, uint32_t ti, uint8_t intent);
/* Units an exit order may close when it is sent: its trade's position, or
 * its group leg's (hedge's) open units its other closing orders leave. */
hh_qty_t hh_tm__exit_room(const struct hh_tm *tm, const struct order_ref *ref);
hh_qty_t hh_tm__group_exit_room(const struct hh_tm *tm, const struct order_ref *ref);
/* The trade's position was given up: its square-off order is cancelled and
 * its hybrid stop aborted (no market order follows). */
void hh_tm__abort_exits(struct hh_tm *tm, uint32_t ti);
/* Square-off time reached for an open trade. */
void hh_tm__squareoff(struct hh_tm *tm, uint32_t ti);
/* The entry of an ENTERING trade may no longer fill (validity, square-off). */
void hh_tm__abandon(struct hh_tm *tm, uint32_t ti, bool expired);
/* Decide a trade's exits after any change: stop, targets, exit, close. */
void hh_tm__drive(struct hh_tm *tm, uint32_t ti);
/* Entry placement refused for good: reject the signal (BROKER_UNAVAILABLE). */
void hh_tm__entry_unavailable(struct hh_tm *tm, uint32_t ti, const char *detail);
/* The exits' deadlines (hybrid stops, exits to retry): the earliest, and
 * what is due at now. */
hh_time_t hh_tm__exits_next(const struct hh_tm *tm);
void hh_tm__exits_timer(struct hh_tm *tm, hh_time_t now);
/* A hybrid stop's order: the broker's answers (placement, status, cancel). */
void hh_tm__hsl_placed(struct hh_tm *tm, struct order_ref *ref, uint64_t boid);
void hh_tm__hsl_status(struct hh_tm *tm, struct order_ref *ref, const struct hh_broker_order *b);
void hh_tm__hsl_cancel_result(struct hh_tm *tm, struct order_ref *ref, int rc);
void hh_tm__hsl_place_failed(struct hh_tm *tm, struct order_ref *ref);

/* kill.c: may an order of purpose p (a group's: `group`) be placed under
 * the kill switch's state? */
bool hh_tm__kill_allows(const struct hh_tm *tm, enum purpose p, bool group);
/* group.c: exit group gi at market (hh_tm_exit_trade); HH_ESTATE unless it
 * is entering or open. */
int hh_tm__group_exit(struct hh_tm *tm, size_t gi);
/* group.c: the kill switch's part for groups: reduce (roll back what
 * enters), halt (nothing), flatten (exit every group). */
void hh_tm__groups_kill(struct hh_tm *tm, enum hh_tm_kill k);

/* trade.c pieces the other files use. */
void hh_tm__close_trade(struct hh_tm *tm, uint32_t ti);
void hh_tm__back_to_waiting(struct hh_tm *tm, uint32_t ti);
void hh_tm__drop(struct hh_tm *tm, uint32_t ti, enum hh_tm_drop why, hh_time_t at);
void hh_tm__emit_ref(struct hh_tm *tm, enum hh_tm_order_kind kind, const struct order_ref *ref,
                     const struct hh_report *r, int rc);
void hh_tm__emit_order(struct hh_tm *tm, struct hh_tm_order_event *e, uint32_t owner,
                       bool group);
/* A cancel again (a hybrid stop's: the first one was lost). */
void hh_tm__recancel(struct hh_tm *tm, struct order_ref *ref);


#endif
