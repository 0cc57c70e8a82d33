/*
 * report.h — report.html of `hedgehog backtest` (SPEC §6): one
 * self-contained page with a candlestick chart per traded symbol (entries
 * and exits marked), the equity curve, the trade table and the summary.
 *
 * The runner feeds an accumulator during the run (candles, fills, closed
 * trades, equity points), then hh_rep_write() writes the page.  Memory is
 * bounded whatever the run length:
 *
 *   - candles: at most HH_REP_CANDLES_MAX per symbol.  When a symbol's
 *     buffer is full and another candle arrives, adjacent pairs are merged
 *     (open of the first, max high, min low, close of the second, summed
 *     volume, time of the first) and from then on every stored candle
 *     covers twice as many source candles as before (1, 2, 4, ...).  Merged
 *     candles may span a session break; the page says when it happened.
 *     A tracked symbol's array is reserved at that size when its first
 *     candle group completes (48 bytes a candle) and becomes resident as it
 *     fills: memory stops growing with the file's length once the charted
 *     symbols have HH_REP_CANDLES_MAX candles each.
 *   - symbols: candles are kept for at most HH_REP_TRACK_MAX symbols (the
 *     first seen); the first HH_REP_SYMBOLS_MAX symbols with a fill are
 *     charted, in order of their first fill.  Once that many are charted,
 *     the candles of the others are released and no new symbol is tracked.
 *     Symbols with fills but no chart are listed in a note.
 *   - markers: the first HH_REP_MARKERS_MAX fills of each charted symbol.
 *   - trades: the first HH_REP_TRADES_MAX rows in the table; all are
 *     counted.
 *   - equity: at most HH_REP_EQUITY_MAX points, thinned the same way as
 *     candles (each kept point is the equity after the last trade of its
 *     group, at that trade's time).
 *
 * Chart times: lightweight-charts takes UTC seconds and shows them as UTC,
 * so every time is shifted by +05:30 before it is written: the axis then
 * reads IST wall time.  Candles or equity points in the same (shifted)
 * second as the previous one are folded into it; a candle earlier than the
 * previous one is dropped and counted.
 *
 * Numbers: prices and money are written from fixed-point with
 * hh_fx_format() (two places) — as JSON numbers in the chart data and as
 * text in the tables; nothing goes through double here.
 *
 * The chart library (lightweight-charts, standalone build) is read when the
 * page is written and inlined: from $HH_CHARTS_JS when set, else
 * <dir of the executable>/share/hedgehog/lightweight-charts.js, else
 * <dir of the executable>/../share/hedgehog/lightweight-charts.js.  When it
 * is missing the page is still written (tables, summary and a visible
 * note) and a warning goes to stderr.
 *
 * Escaping: the chart data is JSON inside <script type="application/json">
 * with '<', '>' and '&' written as \u003c \u003e \u0026 in strings, so no
 * symbol or id can close the script element; text in the HTML tables is
 * HTML-escaped.  In the inlined library "</script" becomes "<\/script" and
 * "<!--" becomes "<\!--" (neither occurs in the pinned version).
 *
 * The page sets body data attributes for tests: data-ready="1" once drawn,
 * data-markers (markers drawn), data-candles (candles drawn), and
 * data-error on any JavaScript error.
 */
#ifndef HH_REPORT_H
#define HH_REPORT_H

#include "core/err.h"
#include "core/fixed.h"
#include "core/time.h"
#include "trade/trade.h"

#define HH_REP_CANDLES_MAX  20000   /* candles kept per symbol (even) */
#define HH_REP_EQUITY_MAX   20000   /* equity points kept (even) */
#define HH_REP_SYMBOLS_MAX  8       /* symbols charted */
#define HH_REP_TRACK_MAX    32      /* symbols whose candles are kept */
#define HH_REP_MARKERS_MAX  5000    /* fills marked per charted symbol */
#define HH_REP_TRADES_MAX   5000    /* rows in the trade table */
#define HH_REP_OTHERS_MAX   64      /* uncharted symbols named in the note */

/* Environment variable naming the chart library file. */
#define HH_REP_CHARTS_ENV   "HH_CHARTS_JS"

struct hh_rep;

/* A new, empty accumulator; NULL when out of memory. */
struct hh_rep *hh_rep_new(void);

/* Free r and everything it holds; accepts NULL. */
void hh_rep_free(struct hh_rep *r);

/*
 * A completed candle/bar of a symbol worth charting (the runner passes
 * those of symbols that have signals).  A symbol is its instrument id;
 * `symbol` is its name, copied when the symbol is first tracked.  Candles
 * of one symbol must come in time order (see above for what happens
 * otherwise).  Returns HH_OK or HH_ENOMEM.
 */
int hh_rep_candle(struct hh_rep *r, hh_iid_t iid, const char *symbol, hh_time_t ts,
                  hh_price_t o, hh_price_t h, hh_price_t l, hh_price_t c, hh_qty_t volume);

/* One execution of the symbol f->iid, named `symbol` (f and its signal are
 * borrowed for the call; symbol is copied).  Returns HH_OK or HH_ENOMEM. */
int hh_rep_fill(struct hh_rep *r, const struct hh_tm_fill *f, const char *symbol);

/* One closed trade (borrowed for the call; the signal id and symbol are
 * copied).  Returns HH_OK or HH_ENOMEM. */
int hh_rep_trade(struct hh_rep *r, const struct hh_tm_trade *t, const char *symbol);

/* Realised equity after each closed trade (the first point: capital at the
 * start).  Returns HH_OK or HH_ENOMEM. */
int hh_rep_equity(struct hh_rep *r, hh_time_t ts, hh_money_t equity);

/*
 * Write the page to path (through path.tmp, renamed into place).
 * summary_json is the exact text of summary.json (borrowed; NULL or
 * unparsable text gives a note instead of the summary table).  A missing
 * chart library is not an error (see above).  Returns HH_OK, HH_ENOMEM, or
 * HH_EIO with the file named in d.
 */
int hh_rep_write(struct hh_rep *r, const char *path, const char *summary_json,
                 struct hh_diag *d);

#endif
