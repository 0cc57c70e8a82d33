/*
 * calendar.h — exchanges, segments, sessions and holidays.
 *
 * Answers the questions a trader asks: is this a trading day, when does
 * today's session open and close, what is the next session.  Holidays are
 * data (a CSV per segment, `date,exchange,description`); session hours are
 * rules from DOMAIN.md §1, including MCX's close that follows US daylight
 * saving (23:30 from the 2nd Sunday of March to the 1st Sunday of November,
 * 23:55 otherwise).
 *
 * All times are IST.  Sessions are half-open: [open, close).
 */
#ifndef HH_CALENDAR_H
#define HH_CALENDAR_H

#include "core/err.h"
#include "core/time.h"

#include <stdbool.h>
#include <stddef.h>

enum hh_exch {
    HH_EXCH_NSE,    /* NSE cash, F&O (NFO) and currency (CDS) */
    HH_EXCH_BSE,    /* BSE cash and F&O (BFO) */
    HH_EXCH_MCX,
    HH_EXCH_COUNT
};

/* Session rules differ by segment within an exchange. */
enum hh_segment {
    HH_SEG_CASH,      /* pre-open 09:00-09:08 (matching to 09:12), normal
                         09:15-15:30, closing session 15:40-16:00 */
    HH_SEG_FUT,       /* 09:15-15:30; pre-open 09:00-09:08 from 2025-12-08 */
    HH_SEG_OPT,       /* 09:15-15:30, no pre-open */
    HH_SEG_CURRENCY,  /* 09:00-17:00 */
    HH_SEG_COMMODITY, /* MCX non-agri: 09:00-23:30 / 23:55 (US DST rule) */
    HH_SEG_AGRI,      /* MCX agri: 09:00-17:00 */
    HH_SEG_COUNT
};

/* One day's session for a segment.  Absent phases are HH_TIME_NONE. */
struct hh_session {
    hh_date_t date;            /* IST trading date */
    hh_time_t open, close;     /* normal market, [open, close) */
    hh_time_t pre_open, pre_open_end;   /* order entry window, if any */
    hh_time_t closing_open, closing_close; /* closing session, if any */
};

struct hh_calendar;

/* Every query below accepts a NULL calendar, meaning "no holidays". */

/* A calendar with no holidays (weekends are always closed). */
struct hh_calendar *hh_cal_new(void);
void hh_cal_free(struct hh_calendar *cal);      /* accepts NULL */

/*
 * Load holidays from CSV with header `date,exchange,description`; `date`
 * in any form hh_date_parse() takes, `exchange` NSE|BSE|MCX|ALL (also
 * NFO, BFO, CDS, any case).  Columns may come in any order; blank lines
 * and lines starting with '#' are skipped.  A bad row is an error naming
 * file, line and field (HH_ESYNTAX; HH_EHEADER for a bad header, HH_EIO
 * when the file cannot be read), and then nothing from the file is added.
 * Holidays from several files accumulate; repeats are harmless.
 */
int hh_cal_load_holidays(struct hh_calendar *cal, const char *path, struct hh_diag *d);

/* Add one holiday; exch HH_EXCH_COUNT means all exchanges.  HH_EINVAL for
 * HH_DATE_NONE or a bad exch, HH_ENOMEM. */
int hh_cal_add_holiday(struct hh_calendar *cal, hh_date_t date, enum hh_exch exch);

/* Parse "NSE", "BSE", "MCX" (also NFO, BFO, CDS); false when unknown. */
bool hh_exch_parse(const char *s, size_t n, enum hh_exch *out);
const char *hh_exch_name(enum hh_exch e);

bool hh_cal_is_holiday(const struct hh_calendar *cal, enum hh_exch exch, hh_date_t date);

/* A weekday that is not a holiday of exch. */
bool hh_cal_is_trading_day(const struct hh_calendar *cal, enum hh_exch exch,
                           hh_date_t date);

/* The session rules of a segment on a date, whether or not the date trades
 * (for aligning data that is present on a day the calendar calls closed). */
void hh_cal_session_rules(enum hh_segment seg, hh_date_t date, struct hh_session *out);

/* The session on `date`; HH_ENOTFOUND when the exchange does not trade. */
int hh_cal_session(const struct hh_calendar *cal, enum hh_exch exch,
                   enum hh_segment seg, hh_date_t date, struct hh_session *out);

/*
 * The session in progress at t, or else the next one to open after t
 * (searching up to a year ahead; HH_ENOTFOUND beyond).  "In progress"
 * means the normal market has not closed yet: at 15:45 on a cash day (the
 * closing session) the answer is the next trading day's session.
 */
int hh_cal_next_session(const struct hh_calendar *cal, enum hh_exch exch,
                        enum hh_segment seg, hh_time_t t, struct hh_session *out);

/* Is the normal market open at t? */
bool hh_cal_is_open(const struct hh_calendar *cal, enum hh_exch exch,
                    enum hh_segment seg, hh_time_t t);

/* The trading day on or before `date` (holiday expiries move earlier);
 * HH_DATE_NONE when none within a year. */
hh_date_t hh_cal_prev_trading_day(const struct hh_calendar *cal, enum hh_exch exch,
                                  hh_date_t date);

/*
 * The monthly expiry of (year, month) for an exchange: NSE's last Thursday
 * for contracts expiring before 2025-09-01 and last Tuesday from then on;
 * BSE's last Thursday; MCX is contract-specific (HH_DATE_NONE).  A holiday
 * moves it to the previous trading day.
 */
hh_date_t hh_cal_monthly_expiry(const struct hh_calendar *cal, enum hh_exch exch,
                                int year, int month);

/* US daylight saving in force on this IST date (MCX close rule). */
bool hh_cal_us_dst(hh_date_t date);

#endif
