/*
 * paper.h — the paper broker: the simulated exchange (simex.h) behind the
 * broker interface, with an order book of its own that answers queries,
 * and deterministic fault injection (SPEC §11 paper.faults.*).
 *
 * The book is the truth.  Every placement, modification, cancellation and
 * fill lands in the paper broker's own order book and positions at once;
 * faults only ever affect what the engine is *told* and *when*:
 *
 *   drop_update_pct  a report is lost on the stream (drawn per report)
 *   delay_update     every report is delivered this long after it happened
 *                    (in order, but for the two faults below)
 *   disconnect       daily windows with the stream down: reports due then
 *                    are lost; queries still answer
 *   unavailable      daily windows answering "503": place, modify, cancel
 *                    and every query return HH_EUNAVAIL and do nothing
 *   timeout_pct      a placement returns HH_ETIMEOUT although the order was
 *                    created (and works): the engine must find it by its
 *                    client id before placing again
 *   reject_pct       a placement is accepted (HTTP 200) and then rejected
 *                    by the exchange: a REJECTED report, never an ACK
 *   latency          placements become matchable, and cancellations take
 *                    effect, this long after the call: a cancel racing a
 *                    fill loses ("too late": the order fills, the cancel
 *                    finds it complete and does nothing)
 *   fill_ratio < 1   our orders may take only this share of each tick's
 *                    (bar's) volume: partial fills
 *   duplicate_update_pct  a report is delivered a second time, identical
 *                    (a FILL with the same exec id): half of the copies
 *                    right behind it, half 1-500 ms later
 *   reorder_update_pct  a report is held back and delivered right after the
 *                    next report of the stream (the two swap), provided
 *                    that one is due within HH_PAPER_REORDER_HOLD and no
 *                    disconnect window lies between them; with no such
 *                    partner it is delivered in place, HH_PAPER_REORDER_HOLD
 *                    late
 *   book_lag         a new order is listed by the order book this long
 *                    after its placement: until then find(), status() and
 *                    orders() answer as if it did not exist (HH_ENOTFOUND,
 *                    left out), although it exists and works (place()
 *                    returned its id; modify and cancel act on it; its fills
 *                    count in positions and funds)
 *   external         actions at the broker outside the engine, each applied
 *                    once when engine time reaches `at` (hh_paper_pump,
 *                    on_tick, on_bar; hh_paper_next_due includes the next):
 *                    close_position squares the net position off by hand at
 *                    the last price the exchange saw, as a MARKET order of
 *                    the broker's own (client id "manual<order id>"),
 *                    FILLED at once (ACK and FILL on the stream, for an
 *                    order the engine never placed); cancel_orders has the
 *                    exchange cancel the rest of every working order on
 *                    the symbol at once (CANCELLED reports with the final
 *                    filled); reject_next has the exchange reject the next
 *                    placement on the symbol (accepted, then a REJECTED
 *                    report naming it).
 *
 * Fault draws come from two PRNGs seeded by `seed` and advanced at fixed
 * points: the book's (one draw per placement for timeout, one for
 * rejection) and the stream's (per report: one for dropping, then, when
 * not dropped, one for duplication (+1 for the copy's lag) and one for
 * reordering; a draw is skipped when its percentage is 0).  A seed and a
 * sequence of calls replay exactly, and the stream's faults never change
 * the book: with the same calls, the orders, positions and funds are the
 * same whatever is dropped, delayed, duplicated, reordered or lagging.
 *
 * Guarantees (what the property tests check):
 *  - a fill is reported at most once per exec id, except a copy made by
 *    duplicate_update_pct, which is identical to the first report (exec
 *    ids are the paper broker's own, increasing, persisted);
 *  - dropped reports lose only the notification: the order book, the
 *    positions (net per instrument, from the fills) and funds always
 *    reflect every fill;
 *  - a report's `filled` is the order's cumulative filled quantity, and a
 *    CANCELLED report carries the final one;
 *  - an HH_EUNAVAIL answer never has an effect; an HH_ETIMEOUT placement
 *    always created its order.
 *
 * Reports are queued and delivered by hh_paper_pump(), and during
 * on_tick/on_bar as they happen when they are due at once (in order, what
 * was queued before first): the engine then reacts at the same point of a
 * bar's path as against the simulated exchange itself, so a paper run with
 * no latency and no faults fills exactly like a backtest.  Never from
 * inside place/modify/cancel: the engine learns the order id from place()
 * before any report about it.  An ACK is queued at placement (none for an
 * order the exchange will reject).
 *
 * Time: the clock given at creation (borrowed; engine time, ns).  Windows
 * are IST times of day [from, to) (a window with from > to wraps midnight).
 *
 * Persistence (crash tests): hh_paper_snapshot() serialises the whole
 * book — orders (with the time the book lists them), fills so far,
 * positions, funds, pending cancellations, exec-id counter, PRNG states,
 * statistics, the last price of each instrument, the external actions
 * applied — into a versioned, checksummed blob; hh_paper_restore()
 * rebuilds a broker from it, re-entering every working order into a fresh
 * simulated exchange with its remaining quantity (a triggered stop-limit
 * as the limit order it became); an external action of the blob is
 * matched to the config's by (at, action, symbol) and is not applied
 * again.  Reports queued, held back or duplicated but not yet delivered
 * are not part of the state: a crash loses them as it would lose a
 * broker's WebSocket.  hh_paper_save()/load() put the blob in a file
 * atomically (temporary file + rename), so a process killed at any instant
 * leaves the previous or the new state, never a torn one.  hh_paper_version() counts mutations so a runner saves only when it
 * changed; hh_paper_set_autosave() makes the broker do it itself, before
 * any result of a change leaves it.  See docs/RESILIENCE.md.
 */
#ifndef HH_PAPER_H
#define HH_PAPER_H

#include "broker/simex.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HH_PAPER_WINDOWS_MAX 16
#define HH_PAPER_EXTERNAL_MAX 64
#define HH_PAPER_SYMBOL_MAX 64
/* reorder_update_pct: how long a report may wait for the one it swaps with */
#define HH_PAPER_REORDER_HOLD HH_NS_PER_S

/* A daily window of IST time of day, ns: [from, to). */
struct hh_paper_window {
    int64_t from, to;
};

/* What happens at the broker outside the engine (SPEC §11 paper.faults.external). */
enum hh_paper_ext_action {
    HH_PAPER_EXT_CLOSE_POSITION,     /* the net position is squared off by hand */
    HH_PAPER_EXT_CANCEL_ORDERS,      /* the exchange cancels every working order's rest */
    HH_PAPER_EXT_REJECT_NEXT,        /* the exchange rejects the next placement */
};

/* One external action.  A time of day is due at that IST time on the day
 * of the clock (at once when the clock is already past it, never before
 * the clock has a time); either way it is applied once. */
struct hh_paper_external {
    bool tod;                        /* at: IST time of day, ns; else ns since epoch */
    int64_t at;
    enum hh_paper_ext_action action;
    char symbol[HH_PAPER_SYMBOL_MAX];   /* "SYM" or "EXCH:SYM" (hh_inst_find), looked
                                           up when applied: an unknown one has no
                                           position and no orders */
};

struct hh_paper_config {
    int64_t latency;                 /* ns: placement -> matchable; cancel delay */
    hh_ratio_t fill_ratio;           /* share of each tick's volume; 0 or
                                        >= 1 (ratio units): no liquidity limit */
    int64_t slippage_ticks;          /* passed to the exchange (simex.h) */
    hh_ratio_t slippage_bps;
    hh_money_t capital;              /* funds at start */
    uint64_t seed;                   /* fault PRNG */
    hh_ratio_t drop_update_pct;      /* percent (ratio units: 10 % = 10 * SCALE) */
    int64_t delay_update;            /* ns */
    hh_ratio_t reject_pct;           /* percent */
    hh_ratio_t timeout_pct;          /* percent */
    int n_unavailable;
    struct hh_paper_window unavailable[HH_PAPER_WINDOWS_MAX];
    int n_disconnect;
    struct hh_paper_window disconnect[HH_PAPER_WINDOWS_MAX];
    hh_ratio_t duplicate_update_pct; /* percent */
    hh_ratio_t reorder_update_pct;   /* percent */
    int64_t book_lag;                /* ns: placement -> listed by the order book */
    int n_external;
    struct hh_paper_external external[HH_PAPER_EXTERNAL_MAX];
};

/* What the faults did (and what the book saw), for tests and metrics. */
struct hh_paper_stats {
    uint64_t placed;                 /* orders created */
    uint64_t dup_client_ids;         /* placements reusing a client id */
    uint64_t timeouts;               /* placements answered HH_ETIMEOUT */
    uint64_t unavailable;            /* calls answered HH_EUNAVAIL */
    uint64_t rejected;               /* orders rejected by the exchange */
    uint64_t fills;                  /* executions */
    uint64_t partial_fills;          /* executions leaving the order working */
    uint64_t cancelled;              /* orders cancelled */
    uint64_t cancel_too_late;        /* cancel calls on a non-working order */
    uint64_t cancel_raced;           /* delayed cancels that found the order
                                        filled (the fill won the race) */
    uint64_t modified;
    uint64_t reports;                /* reports produced */
    uint64_t dropped;                /* lost by drop_update_pct */
    uint64_t disconnect_lost;        /* lost in a disconnect window */
    uint64_t delayed;                /* delivered after delay_update */
    uint64_t delivered;              /* reports delivered to the sink */
    uint64_t duplicated;             /* copies delivered (duplicate_update_pct) */
    uint64_t reordered;              /* pairs of reports delivered swapped */
    uint64_t lag_hidden;             /* query answers that left out an order the
                                        book does not list yet (book_lag) */
    uint64_t external;               /* external actions applied */
    uint64_t squared_off;            /* positions closed by hand (close_position) */
    uint64_t exchange_cancels;       /* orders cancelled by cancel_orders */
    uint64_t forced_rejects;         /* placements rejected by reject_next */
};

struct hh_paper;

/* Fill *cfg with the defaults of SPEC §11 (no faults, capital 10 lakh). */
void hh_paper_config_defaults(struct hh_paper_config *cfg);

/* inst and clock are borrowed and must outlive the broker; cfg is copied.
 * NULL on allocation failure or an invalid config (negative times,
 * percentages above 100, an external action with an unterminated symbol,
 * an unknown action or a time of day outside [0, 24 h)). */
struct hh_paper *hh_paper_new(const struct hh_instruments *inst,
                              const struct hh_clock *clock,
                              const struct hh_paper_config *cfg);
void hh_paper_free(struct hh_paper *p);    /* accepts NULL */

/* The broker interface (valid while p lives).  All operations are
 * answered from the paper book; on_tick/on_bar drive the exchange. */
struct hh_broker hh_paper_broker(struct hh_paper *p);

/* Carry out cancellations, exchange rejections and external actions that
 * are due, then deliver the reports due at clock->now.  Call on every
 * engine event (or at hh_paper_next_due()). */
void hh_paper_pump(struct hh_paper *p);

/* Time of the next thing hh_paper_pump() would do; HH_TIME_MAX if none. */
hh_time_t hh_paper_next_due(const struct hh_paper *p);

/* Is the API / the update stream down at t (fault windows)? */
bool hh_paper_unavailable_at(const struct hh_paper *p, hh_time_t t);
bool hh_paper_disconnected_at(const struct hh_paper *p, hh_time_t t);

/* ---- inspection without faults (tests, crash checks, reconciliation
 * audits): the truth, whatever the windows say ---- */

/* The order `order_id` as the book has it.  HH_ENOTFOUND. */
int hh_paper_peek(const struct hh_paper *p, uint64_t order_id, struct hh_broker_order *out);

/* Net position of an instrument (0 when never traded). */
hh_qty_t hh_paper_position(const struct hh_paper *p, hh_iid_t iid);

/* Number of orders in the book (ids are 1..n), listed or not yet. */
size_t hh_paper_order_count(const struct hh_paper *p);

const struct hh_paper_stats *hh_paper_stats(const struct hh_paper *p);

/* Mutation counter: changes whenever the persistent state changed (but
 * for the last traded prices, which are saved with the next change). */
uint64_t hh_paper_version(const struct hh_paper *p);

/* ---- persistence ---- */

/* Serialise the state into a malloc'd blob (*blob, *len; free() it).
 * HH_ENOMEM. */
int hh_paper_snapshot(const struct hh_paper *p, void **blob, size_t *len);

/* A broker restored from a blob, with a config (faults may differ from
 * the run that saved it; the PRNG continues from the saved state).
 * NULL with d set (HH_ETAMPER: checksum; HH_ESYNTAX: not a paper blob, or
 * one of another version (the message names both); HH_ENOTFOUND: an
 * instrument of the blob is missing). */
struct hh_paper *hh_paper_restore(const struct hh_instruments *inst,
                                  const struct hh_clock *clock,
                                  const struct hh_paper_config *cfg, const void *blob,
                                  size_t len, struct hh_diag *d);

/* Write the snapshot to `path` atomically (path.tmp, fsync when `sync`,
 * rename).  HH_EIO / HH_ENOMEM with d set. */
int hh_paper_save(const struct hh_paper *p, const char *path, bool sync, struct hh_diag *d);

/* Restore from a file written by hh_paper_save(); *out NULL and HH_OK
 * when the file does not exist (a first start). */
int hh_paper_load(const struct hh_instruments *inst, const struct hh_clock *clock,
                  const struct hh_paper_config *cfg, const char *path,
                  struct hh_paper **out, struct hh_diag *d);

/*
 * Keep `path` current by itself: after every call that changed the state
 * (place, modify, cancel, on_tick, on_bar, pump) the broker saves it
 * (hh_paper_save) BEFORE the call returns or any report about the change
 * is delivered — so, as with a real broker, the exchange never knows less
 * than the engine was told, whenever the process dies.  The state is also
 * written at once.  sync: fsync each save (power loss; not needed for
 * SIGKILL).  path NULL turns it off.  Save failures do not fail the
 * operations: they are counted (hh_paper_save_errors).  Returns HH_OK,
 * HH_EIO (the first save failed), HH_ENOMEM.
 */
int hh_paper_set_autosave(struct hh_paper *p, const char *path, bool sync, struct hh_diag *d);

/* Saves that failed since autosave was set; *last (may be NULL) gets the
 * last error's text (borrowed). */
uint64_t hh_paper_save_errors(const struct hh_paper *p, const char **last);

#endif
