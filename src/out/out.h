/*
 * out.h — the files a run leaves in its output directory (SPEC §6, §10a),
 * written the same way by `backtest` and `run --out`:
 *
 *   fills.csv       every execution, in execution order
 *   trades.csv      one row per closed trade, in closing order
 *   rejected.jsonl  dead letters: the validation rejections in the order the
 *                   lines were decided, then the rejections decided at entry
 *                   (SIZE_TOO_SMALL, BROKER_UNAVAILABLE...) as they happened
 *   summary.json    the figures of the run
 *   report.html     the chart, equity curve, trade table and summary
 *
 * Every file is written under a temporary name in the directory and renamed
 * into place only by hh_out_finish(): a run that fails leaves the previous
 * files untouched (and its temporary files removed by hh_out_free()), never
 * a mixture of old and new.  Write errors are latched and reported by
 * hh_out_finish().
 */
#ifndef HH_OUT_H
#define HH_OUT_H

#include "core/err.h"
#include "core/instrument.h"
#include "core/model.h"
#include "market/mdfile.h"
#include "signal/signal.h"
#include "trade/trade.h"

#include <stdbool.h>
#include <stdint.h>

struct hh_out_opts {
    const char *dir;                     /* created when missing */
    const struct hh_instruments *inst;   /* symbols by id (borrowed) */
    hh_money_t capital;
    const char *fees;                    /* the charge schedule's name */
};

/* What the summary adds to the files' own counts (borrowed for the call). */
struct hh_out_summary {
    uint64_t received;                   /* signal lines received (non-blank) */
    const struct hh_tm_stats *tm;
    const struct hh_md_stats *md;        /* NULL: no file was read */
    uint64_t ticks, bars, out_of_session;
    bool groups;                         /* group signals were accepted: their figures */
    double elapsed;                      /* wall seconds */
};

struct hh_out;

/* Create the directory and the temporary files.  HH_EIO with d naming the
 * path.  *out NULL on failure. */
int hh_out_open(struct hh_out **out, const struct hh_out_opts *o, struct hh_diag *d);

/* Remove what was not finished, and free.  Accepts NULL. */
void hh_out_free(struct hh_out *o);

/* The chart shows symbols with signals: mark one. */
void hh_out_chart(struct hh_out *o, hh_iid_t iid);

/* The run's events. */
void hh_out_fill(struct hh_out *o, const struct hh_tm_fill *f);
void hh_out_trade(struct hh_out *o, const struct hh_tm_trade *t, hh_money_t equity_after);
/* A dead letter: decided when its line was read (at_entry false) or when its
 * trade was to be entered (true). */
void hh_out_dead_letter(struct hh_out *o, uint64_t line, const struct hh_sig_reject *rej,
                        bool at_entry);
/* A signal rejected at entry, as the trade manager's sink tells it. */
void hh_out_rejected(struct hh_out *o, const struct hh_signal *s, enum hh_sig_reason r,
                     const char *detail);
/* The first market event (the equity curve starts there), and every
 * completed candle or in-session bar (charted when its symbol is). */
void hh_out_market(struct hh_out *o, hh_time_t t);
void hh_out_candle(struct hh_out *o, const struct hh_bar *c);

/* Dead letters so far: all, and by reason (SIZE_TOO_SMALL included). */
uint64_t hh_out_rejected_count(const struct hh_out *o);

/* summary.json and report.html, then every file renamed into place.
 * *summary (may be NULL) gets the summary's JSON text (the caller's
 * headline; valid until hh_out_free).  HH_EIO with d on a write error. */
int hh_out_finish(struct hh_out *o, const struct hh_out_summary *s, const char **summary,
                  struct hh_diag *d);

#endif
