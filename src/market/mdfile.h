/*
 * mdfile.h — streaming readers for market-data CSV files (SPEC §3).
 *
 *   ticks: ts,symbol,price,qty[,bid,ask]
 *   bars:  ts,symbol,open,high,low,close,volume    (ts = the bar's start)
 *
 * Columns are found by name in the header (any order; unknown columns are
 * reported once as a warning and ignored).  Rows are read with large
 * buffered reads and numbers are parsed by hand straight into fixed-point.
 * A row that breaks time order (earlier than the last accepted row, any
 * symbol), has an unparsable field, or (bars) high < max(open, close) or
 * low > min(open, close) is skipped and counted — never fatal.  Memory does
 * not grow with the file.
 */
#ifndef HH_MDFILE_H
#define HH_MDFILE_H

#include "core/err.h"
#include "core/fixed.h"
#include "core/instrument.h"
#include "core/model.h"
#include "core/time.h"

#include <stdint.h>
#include <stdio.h>

enum hh_md_kind { HH_MD_TICKS, HH_MD_BARS };

/* Why rows were skipped; `skipped` is the sum. */
struct hh_md_stats {
    uint64_t rows;                 /* data rows read (excluding header, blank lines) */
    uint64_t accepted;
    uint64_t skipped;
    uint64_t skipped_order;        /* earlier than the last accepted row */
    uint64_t skipped_field;        /* missing or unparsable field, bad symbol */
    uint64_t skipped_ohlc;         /* inconsistent bar */
};

struct hh_md_reader;

/*
 * Open a file of the given kind; symbols are interned into `inst` (borrowed,
 * must outlive the reader).  Errors (exit code 2 material): HH_EIO when the
 * file cannot be opened, HH_EHEADER when the header lacks a required column —
 * the message names the file (and the column).  `warn` (may be NULL)
 * receives warnings such as the first few skipped rows with file, line and
 * field, and unknown columns.
 */
int hh_md_open(struct hh_md_reader **out, const char *path, enum hh_md_kind kind,
               struct hh_instruments *inst, FILE *warn, struct hh_diag *d);

/* Next accepted row: 1 (filled), 0 end of file, HH_EIO on a read error,
 * HH_ENOMEM when a new symbol cannot be interned, HH_EINVAL when the
 * reader was opened for the other kind. */
int hh_md_next_tick(struct hh_md_reader *r, struct hh_tick *out);
int hh_md_next_bar(struct hh_md_reader *r, struct hh_bar *out);

/* Up to n (>= 1) accepted rows into out[]: how many (>= 1), or what the
 * calls above would return instead of a row (0, or an error).  The rows,
 * statistics and warnings are those of as many calls above, in order; a
 * batch stops early, so callers loop until 0.  Reading ahead this way
 * spares a call per row (the backtest's loop). */
int hh_md_next_ticks(struct hh_md_reader *r, struct hh_tick *out, int n);
int hh_md_next_bars(struct hh_md_reader *r, struct hh_bar *out, int n);

const struct hh_md_stats *hh_md_stats(const struct hh_md_reader *r);

/* Progress: bytes consumed and total size (0 when unknown). */
uint64_t hh_md_offset(const struct hh_md_reader *r);
uint64_t hh_md_size(const struct hh_md_reader *r);

void hh_md_close(struct hh_md_reader *r);   /* accepts NULL */

/*
 * Field parsers used by the readers, exposed for tests and fuzzing.  Each
 * has a fast path for the common shape and falls back to the exact generic
 * parser (hh_dec_parse, hh_time_parse), so its result always equals the
 * generic one's.  Return HH_OK or an error code; `why` (may be NULL) gets a
 * static explanation on failure.
 *
 * hh_md_parse_price: [+]digits[.digits] with at most 4 places (HH_DEC_PLUS;
 *   no exponent), sign allowed ("-1" parses; positivity is the caller's).
 * hh_md_parse_qty: [+|-]digits, whole units ("2.0" accepted).
 * hh_md_parse_time: ISO-8601 with offset as hh_time_parse(), years limited
 *   to 1678..2261 (what int64 nanoseconds hold) — HH_ERANGE outside.  The
 *   cache remembers the last date and UTC offset seen so consecutive rows
 *   of one day skip the civil-date arithmetic; zero-initialise it before
 *   first use.
 */
struct hh_md_datecache {
    char ymd[10];                  /* "YYYY-MM-DD" of the cached date */
    char off[6];                   /* "+HH:MM" of the cached offset */
    hh_time_t midnight;            /* that date 00:00 UTC, ns */
    int64_t offset;                /* that offset, ns east of UTC */
    int valid;                     /* bit 0: ymd cached, bit 1: off cached */
};

int hh_md_parse_price(const char *s, size_t n, hh_price_t *out, const char **why);
int hh_md_parse_qty(const char *s, size_t n, hh_qty_t *out, const char **why);
int hh_md_parse_time(struct hh_md_datecache *c, const char *s, size_t n,
                     hh_time_t *out, const char **why);

/* Longest data row kept, in bytes; longer rows are skipped (field). */
#define HH_MD_MAX_LINE 4096

#endif
