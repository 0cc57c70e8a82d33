/*
 * engine.h — the deterministic core every mode runs: the clock, the candle
 * builder and the trade manager, fed by the one event loop (engine/loop.h).
 *
 *   backtest = file sources (market data, signals validated up front)
 *              + the simulated exchange + a simulated clock
 *   run      = adapter threads behind ring sources + the paper, shadow or a
 *              live broker + a replayed or wall clock
 *
 * Both build an hh_eng, add the engine's own sources (accepted signals
 * arriving, timers, the broker's due reports) and their market-data and
 * input sources to a loop, and run it.  What a market event does is written
 * once, here:
 *   a tick:  the candle builder completes every candle ending by it; each is
 *            judged (hh_tm_candle); if any completed, one selection
 *            (hh_tm_select); then the tick itself (hh_tm_tick) when it is in
 *            its session;
 *   bars:    every in-session bar starting at one instant, together
 *            (hh_tm_bars: exits, invalidation, readiness, one selection).
 * Signals reach the trade manager when the clock reaches their received_at
 * (hh_tm_accept / hh_tm_arrive), before market data of that instant; due
 * timers fire between the two; a broker's delayed reports are delivered at
 * their time (struct hh_broker_ops next_due / pump).
 *
 * The engine does no I/O and reads no clock: what it decides leaves through
 * the trade manager's sink, and the runner watches through the observer.
 */
#ifndef HH_ENGINE_H
#define HH_ENGINE_H

#include "broker/broker.h"
#include "core/calendar.h"
#include "core/event.h"
#include "core/instrument.h"
#include "core/model.h"
#include "engine/loop.h"
#include "market/candle.h"
#include "market/mdfile.h"
#include "trade/trade.h"

#include <stdbool.h>
#include <stdint.h>

/* What the runner sees of the core's work (every member may be NULL). */
struct hh_eng_observer {
    /* A market event is about to be processed at t (equity curve start). */
    void (*market)(void *ctx, hh_time_t t);
    /* A completed candle of entry.timeframe (ticks), or an in-session bar,
     * after the trade manager judged it (the report's chart). */
    void (*candle)(void *ctx, const struct hh_bar *c);
    /* The core finished one event of class cls (persist, commit). */
    void (*step)(void *ctx, enum hh_ev_class cls);
    /* After a restart, candle periods of an instrument ended unwatched
     * (hh_eng_watch_gap): its candle history starts again (the runner logs it). */
    void (*gap)(void *ctx, const struct hh_candle_gap *g);
    void *ctx;
};

/* Counters of the market data the engine processed. */
struct hh_eng_stats {
    uint64_t ticks;               /* ticks through the candle builder */
    uint64_t warm_ticks;          /* restart: ticks given to the candle builder only */
    uint64_t bars;                /* bars read (in session or not) */
    uint64_t out_of_session;      /* bars and ticks outside their session */
};

struct hh_eng;

/*
 * An engine around a trade manager built from tc with `broker` (copied; its
 * sink becomes the manager) and `sink` (borrowed).  inst, cal, clock and obs
 * are borrowed and outlive the engine.  timeframe: entry.timeframe (ns).
 * NULL when out of memory or tc is invalid (hh_tm_new refused it).
 */
struct hh_eng *hh_eng_new(const struct hh_tm_config *tc, const struct hh_instruments *inst,
                          const struct hh_calendar *cal, struct hh_clock *clock,
                          struct hh_broker broker, const struct hh_tm_sink *sink,
                          int64_t timeframe, const struct hh_eng_observer *obs);
void hh_eng_free(struct hh_eng *e);   /* accepts NULL */

struct hh_tm *hh_eng_tm(const struct hh_eng *e);
const struct hh_eng_stats *hh_eng_stats(struct hh_eng *e);
/* The candle builder's error (out of memory), 0 when none. */
int hh_eng_error(const struct hh_eng *e);

/* ---- market events (the market-data sources call these) ------------------- */

void hh_eng_tick(struct hh_eng *e, const struct hh_tick *t);
/* A restored engine's history: nothing happens but the candle builder
 * learning the tick — and not even that when the checkpoint held the
 * builder's state (it holds the tick already, or it is another file's
 * history it never saw). */
void hh_eng_warm_tick(struct hh_eng *e, const struct hh_tick *t);
/* A tick whose candles and selection the restored state already holds:
 * the trade manager sees the tick itself; the candle builder learns it
 * unless the checkpoint held the builder's state (taken after the tick). */
void hh_eng_half_tick(struct hh_eng *e, const struct hh_tick *t);

/*
 * The market data after a restart does not continue where the restored
 * state left it (Kite's socket: nothing is replayed; another file): the
 * engine watched nothing after `seen` (the checkpoint's engine time).  At
 * the next tick, before it is taken, each instrument whose candle periods
 * ended in (seen, tick] has a gap: told to the observer and to the trade
 * manager (hh_tm_candle_gap), and its restored candle, if its end fell
 * there, completes as it was — charted, not judged: its close is not its
 * period's.  Nothing when the checkpoint did not hold the builder's state.
 */
void hh_eng_watch_gap(struct hh_eng *e, hh_time_t seen);
/* Every bar starting at one instant (bars[0].ts), any symbols. */
void hh_eng_bars(struct hh_eng *e, const struct hh_bar *bars, size_t n);

/* The earliest event of the engine's own sources (arrivals, timers, the
 * broker's due reports): a market source delivering a batch stops before
 * it.  HH_TIME_MAX-keyed when none. */
struct hh_ev_key hh_eng_next_internal(const struct hh_eng *e);

/* No timer fires after t (a backtest's end: the last day of its data). */
void hh_eng_set_horizon(struct hh_eng *e, hh_time_t t);

/* ---- sources ------------------------------------------------------------------ */

/* Add the engine's own sources to L: accepted signals arriving (SIGNAL),
 * timers (TIMER) and, when the broker has due reports of its own, the
 * broker (BROKER).  HH_EFULL. */
int hh_eng_add_sources(struct hh_eng *e, struct hh_loop *L);

/*
 * A market-data file read in the core's thread (backtest): each tick, or
 * each group of bars sharing a start time, is one event.  `md` is borrowed
 * and must outlive the source; at its end the timers' horizon becomes the
 * end of the last day of data.  progress (may be NULL) is called after
 * every 64th row with the rows read and the file offset.
 */
struct hh_eng_mdfile;
struct hh_eng_mdfile *hh_eng_mdfile_new(struct hh_eng *e, struct hh_md_reader *md,
                                        enum hh_md_kind kind,
                                        void (*progress)(void *ctx, uint64_t rows,
                                                         uint64_t offset),
                                        void *progress_ctx);
void hh_eng_mdfile_free(struct hh_eng_mdfile *s);   /* accepts NULL */
struct hh_source hh_eng_mdfile_source(struct hh_eng_mdfile *s);
/* The reader's error (HH_EIO, HH_ENOMEM), 0 when it ended cleanly. */
int hh_eng_mdfile_error(const struct hh_eng_mdfile *s);

#endif
