/*
 * candle.h — building OHLCV candles from ticks.
 *
 * Candles of one timeframe (1m 3m 5m 15m 30m 1h) align to the instrument's
 * session open (NSE 09:15: 09:15, 09:20, ... for 5m) and the last candle of a
 * day is cut at the close (1h on NSE: ..., 14:15, 15:15-15:30).  A tick
 * outside the session is skipped and counted.  Minutes with no trade make no
 * candle.  Several symbols may be interleaved; per-symbol state lives in an
 * array indexed by instrument id.
 *
 * Completion (SPEC §5a): a candle completes at the first tick, of any
 * symbol, at or after its end — so all candles ending by a tick's time are
 * reported, sorted by (start, symbol), before that tick is added.  Every
 * tick fed moves time on, also one that is then skipped as out of session.
 * "symbol" order is the byte order of the trading symbols (strcmp).
 *
 * Sessions: the instrument's segment gives the hours.  With a calendar the
 * day's session comes from hh_cal_session(); on a day the calendar calls
 * closed (weekend, holiday) ticks that are present still build candles,
 * aligned to the segment's normal hours (hh_cal_session_rules()): special
 * sessions — Saturday sessions, disaster-recovery drills — trade on such
 * days, and the data is the better witness.  Ticks outside those hours
 * (e.g. a Muhurat evening) are out of session.  Instruments interned from
 * data alone are NSE cash: 09:15-15:30.
 *
 * Cost: O(1) per tick plus O(log n) per candle opened or completed (n open
 * candles): open candles sit in a min-heap by end time, so a tick that
 * completes nothing looks only at the heap's top.
 *
 * Restart: the builder's state — the open candle of each instrument, which
 * instruments it has seen, the last tick's time and the skip counters — is
 * a section of the engine's checkpoint (hh_candles_write / _read), so a
 * restored builder continues the very candles it held.  What was traded
 * while nothing was watching is not invented: hh_candles_gaps() says, per
 * instrument, how many of its candle periods ended unseen.
 */
#ifndef HH_CANDLE_H
#define HH_CANDLE_H

#include "core/calendar.h"
#include "core/instrument.h"
#include "core/serial.h"
#include "market/mdfile.h"

#include <stdbool.h>
#include <stdint.h>

struct hh_candle {
    hh_time_t ts;                 /* start */
    hh_time_t end;                /* exclusive end (start + tf, or the close) */
    hh_iid_t iid;
    hh_price_t open, high, low, close;
    hh_qty_t volume;
    uint32_t ticks;
};

/* Receives each completed candle; `ctx` is the caller's. */
typedef void (*hh_candle_cb)(void *ctx, const struct hh_candle *c);

struct hh_candles;

/* inst and cal are borrowed (cal may be NULL: weekends only); tf in ns. */
struct hh_candles *hh_candles_new(const struct hh_instruments *inst,
                                  const struct hh_calendar *cal, int64_t tf);
void hh_candles_free(struct hh_candles *cb);   /* accepts NULL */

/*
 * Feed one tick (ticks must come in time order).  First every candle whose
 * end <= tick->ts completes (cb called in (start, symbol) order); then the
 * tick is added.  Returns true when added, false when it lies outside its
 * instrument's session (skipped and counted).
 */
bool hh_candles_tick(struct hh_candles *cb, const struct hh_tick *t,
                     hh_candle_cb done, void *ctx);

/* Complete every candle still open (end of data). */
void hh_candles_flush(struct hh_candles *cb, hh_candle_cb done, void *ctx);

/* Ticks skipped because they fell outside their session. */
uint64_t hh_candles_out_of_session(const struct hh_candles *cb);

/* Ticks skipped because they were earlier than the previous tick fed (a
 * caller's ordering bug; the readers never produce them). */
uint64_t hh_candles_late(const struct hh_candles *cb);

/*
 * Sticky failure of the builder: HH_OK, HH_ENOMEM (state for a new
 * instrument could not be allocated: its ticks were dropped), or
 * HH_EOVERFLOW (a candle's volume passed INT64_MAX and was held there).
 * A run that sees a non-zero status has lost data and should fail.
 */
int hh_candles_error(const struct hh_candles *cb);

/* Whether t lies in its instrument's session, without feeding it (a tick
 * the restored state already holds).  False too when out of memory. */
bool hh_candles_in_session(struct hh_candles *cb, const struct hh_tick *t);

/* Time of the last tick fed (HH_TIME_NONE before any); ticks fed so far
 * (not state: a caller watches it move). */
hh_time_t hh_candles_last(const struct hh_candles *cb);
uint64_t hh_candles_fed(const struct hh_candles *cb);

/* ---- checkpoints ---------------------------------------------------------- */

/*
 * The builder's state as one checkpoint section appended to w: a head (the
 * timeframe, the last tick's time, the counters), then per instrument seen,
 * in id order, its id and its open candle if any.  Cut points (hh_ser_cut)
 * after the head and after every 8th instrument id: a tick changes the head
 * and one instrument's chunk, not the others.  Integers only: no layout.
 */
void hh_candles_write(const struct hh_candles *cb, struct hh_ser_w *w);

/*
 * A section hh_candles_write() wrote, into a builder no tick was fed:
 * HH_OK (restored), HH_ECONFIG (written for another timeframe: read
 * through and dropped, the builder stays empty), HH_EINVAL (not such a
 * section, or a candle the builder could not have made: r->bad, the
 * builder stays empty), HH_ESTATE (ticks were fed), HH_ENOMEM.
 */
int hh_candles_read(struct hh_candles *cb, struct hh_ser_r *r);

/* hh_candles_read() restored this builder. */
bool hh_candles_restored(const struct hh_candles *cb);

/* One instrument's candle periods that ended while nothing was watched. */
struct hh_candle_gap {
    hh_iid_t iid;
    hh_time_t from, to;           /* nothing was observed after from, up to to */
    int64_t ended;                /* periods in session whose end fell in (from, to]:
                                     their candles are cut short or missing */
    int64_t missing;              /* ... of them, periods wholly in (from, to]:
                                     not one of their ticks was seen */
};

typedef void (*hh_candle_gap_cb)(void *ctx, const struct hh_candle_gap *g);

/*
 * For every instrument the builder has seen, in id order: its gap over
 * (from, to] when at least one of its periods ended there (found is
 * called; nothing else changes).  Periods are counted on its session's
 * grid, day by day; a day the calendar calls closed has none.  from
 * HH_TIME_NONE or to <= from: nothing.
 */
void hh_candles_gaps(const struct hh_candles *cb, hh_time_t from, hh_time_t to,
                     hh_candle_gap_cb found, void *ctx);

#endif
