/*
 * signal.h — trading signals: parsing one JSON line, validation in the
 * reason-code order of SPEC §4, duplicate ids, dead letters.
 *
 * A line becomes a struct hh_signal or a rejection carrying exactly one
 * reason code: the first that applies, in the order of HH_SIG_REASONS.
 * Parsing uses json-c (which keeps the exact text of number tokens) behind a
 * lexical gate that enforces RFC 8259 where json-c is lenient; numbers go
 * from their text straight into fixed-point, never through double.
 *
 * The clock decides FUTURE_TIMESTAMP and STALE: a signal's age is
 * received_at - ts, and a negative age is never folded into a positive one.
 */
#ifndef HH_SIGNAL_H
#define HH_SIGNAL_H

#include "core/calendar.h"
#include "core/err.h"
#include "core/fixed.h"
#include "core/instrument.h"
#include "core/model.h"
#include "core/time.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The thresholds validation needs (mapped from the configuration). */
struct hh_sig_rules {
    hh_ratio_t min_rr;
    hh_ratio_t min_confidence;
    int64_t max_live_age;          /* ns */
    int64_t max_clock_skew;        /* ns */
    bool allow_naked;              /* groups: accept naked shorts */
};

/* The validator: instruments and calendar are borrowed and must outlive
 * it (rules are copied); it owns the set of ids seen (DUPLICATE detection),
 * one reusable json-c tokener and a scratch buffer.  One validator per
 * thread.  `cal` may be NULL: an empty calendar (weekends only) is used.
 * Returns NULL when out of memory. */
struct hh_sig_validator;

struct hh_sig_validator *hh_sig_validator_new(const struct hh_instruments *inst,
                                              const struct hh_calendar *cal,
                                              const struct hh_sig_rules *rules);
void hh_sig_validator_free(struct hh_sig_validator *v);   /* accepts NULL */

/*
 * Register id as already received (restart: the ids in the database), so
 * that a later line with it is DUPLICATE.  id must be 1..64 characters
 * (HH_EINVAL otherwise); registering an id twice is harmless.  HH_OK or
 * HH_ENOMEM.
 */
int hh_sig_validator_seen(struct hh_sig_validator *v, const char *id);

/*
 * Parse and validate one line (line[0..len), its number `lineno`).
 * `now` is the engine clock at arrival: when the signal has no received_at,
 * received_at = now; pass HH_TIME_NONE in backtests and `validate`, where it
 * defaults to ts.  Returns true and fills *out when accepted; false and
 * fills *rej otherwise (*out is then unspecified).  *rej is always written:
 * reason HH_SIG_NONE on acceptance.  Blank lines must not be passed
 * (SPEC §5a).  No allocation per call once the id set and scratch buffer
 * have grown (a line that takes the full road through json-c has its tree
 * allocated there).
 *
 * Readings where SPEC §4/§5a are silent (documented in signal.c): a price
 * with more than 4 decimals is TICK_MISALIGNED, one beyond int64
 * fixed-point BAD_TYPE; timestamps must fall in 1900-2200; `lots` at most
 * HH_SIG_LOTS_MAX; strategy / correlation_id at most 127 bytes; a JSON
 * object with "type":"GROUP" is BAD_TYPE here (SPEC §8 is signal/group.h);
 * the dead letter's received_at is the field, else `now`, else ts, else
 * unknown (a received_at field that does not parse is unknown, not ts).
 */
bool hh_sig_process(struct hh_sig_validator *v, const char *line, size_t len,
                    uint64_t lineno, hh_time_t now, struct hh_signal *out,
                    struct hh_sig_reject *rej);

/*
 * The same for a line that may also be a multi-leg group (SPEC §8): when the
 * object has "type":"GROUP" and `group` is not NULL, its legs are parsed into
 * *group (signal/group.h) and *out gets the header (out->group = true).
 * Groups are checked in the order PARSE_ERROR, MISSING_FIELD (id, ts, legs),
 * BAD_TYPE, NOT_FINITE, NON_POSITIVE_PRICE, DUPLICATE, UNKNOWN_SYMBOL,
 * INSTRUMENT_EXPIRED, UNHEDGED_GROUP (unless rules.allow_naked),
 * FUTURE_TIMESTAMP, STALE, MARKET_CLOSED (the first leg's exchange).  With
 * `group` NULL a group line is BAD_TYPE.
 */
struct hh_group_signal;
bool hh_sig_process_any(struct hh_sig_validator *v, const char *line, size_t len,
                        uint64_t lineno, hh_time_t now, struct hh_signal *out,
                        struct hh_group_signal *group, struct hh_sig_reject *rej);

/* True when the line is blank (only spaces, tabs, CR): skipped, not received. */
bool hh_sig_line_blank(const char *line, size_t len);

/* What reading a signals file yields, line by line (blank lines skipped). */
struct hh_sig_sink {
    /* An accepted line: its text, the signal and, for a group
     * (s->group), its legs.  Non-zero stops the reading with that code. */
    int (*accepted)(void *ctx, const char *line, size_t len, struct hh_signal *s,
                    const struct hh_group_signal *g);
    /* A rejected line (a dead letter) and its text (NULL for a line too
     * long to keep). */
    int (*rejected)(void *ctx, uint64_t lineno, const char *line, size_t len,
                    const struct hh_sig_reject *rej);
    void *ctx;
};

/*
 * Read and validate a signals file in line order (the clock at each signal
 * is its received_at, default ts: `now` HH_TIME_NONE).  A line longer than
 * the reader's limit is a PARSE_ERROR dead letter.  *received counts the
 * non-blank lines.  Returns HH_OK; HH_EIO when the file cannot be opened
 * (message in d: exit code 2 material) or a read fails; HH_ENOMEM; or the
 * first non-zero code of a sink callback.
 */
int hh_sig_read_file(const char *path, struct hh_sig_validator *v,
                     const struct hh_sig_sink *sink, uint64_t *received, struct hh_diag *d);

/*
 * Write one dead letter as a JSON line:
 *   {"id":…,"line":N,"reason":"CODE","detail":"…","received_at":…}
 * id null when unknown; received_at an IST timestamp string or null.
 */
int hh_sig_write_dead_letter(FILE *f, uint64_t lineno, const struct hh_sig_reject *rej);

#endif
