/*
 * time.h — timestamps, civil dates and IST.
 *
 * hh_time_t is nanoseconds since the Unix epoch, UTC.  Inputs must carry an
 * explicit offset (Z or +-HH:MM); outputs are written in IST (+05:30; India
 * has no daylight saving).  hh_date_t is a civil date as days since
 * 1970-01-01 — market dates are IST dates.
 *
 * Nothing here reads the wall clock: the engine's clock is an event input.
 */
#ifndef HH_TIME_H
#define HH_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef int64_t hh_time_t;  /* ns since 1970-01-01T00:00:00Z */
typedef int32_t hh_date_t;  /* days since 1970-01-01 (civil date) */

#define HH_NS_PER_MS   1000000LL
#define HH_NS_PER_S    1000000000LL
#define HH_NS_PER_MIN  (60 * HH_NS_PER_S)
#define HH_NS_PER_HOUR (60 * HH_NS_PER_MIN)
#define HH_NS_PER_DAY  (24 * HH_NS_PER_HOUR)
#define HH_IST_OFFSET  (5 * HH_NS_PER_HOUR + 30 * HH_NS_PER_MIN)

#define HH_TIME_NONE   INT64_MIN    /* "no timestamp" */
#define HH_TIME_MAX    INT64_MAX
#define HH_DATE_NONE   INT32_MIN    /* "no date" */

/* Years a timestamp may name (int64 ns since 1970 holds 1677-09 .. 2262-04). */
#define HH_TIME_YEAR_MIN 1678
#define HH_TIME_YEAR_MAX 2261

/* Time of day in ns from hours and minutes (for session tables). */
#define HH_TOD(h, m) ((int64_t)(h) * HH_NS_PER_HOUR + (int64_t)(m) * HH_NS_PER_MIN)

/* Civil date <-> days since epoch (proleptic Gregorian). */
hh_date_t hh_date_from_ymd(int y, int m, int d);
void hh_date_to_ymd(hh_date_t date, int *y, int *m, int *d);
bool hh_date_valid_ymd(int y, int m, int d);

/* ISO weekday: 1 = Monday ... 7 = Sunday. */
int hh_date_weekday(hh_date_t date);

/* Days in month m (1..12) of year y. */
int hh_days_in_month(int y, int m);

/*
 * Parse a date: YYYY-MM-DD, DD-MM-YYYY or DD-Mon-YYYY (Mon in English, any
 * case).  Returns HH_OK or HH_ESYNTAX.
 */
int hh_date_parse(const char *s, size_t n, hh_date_t *out);

/* Write YYYY-MM-DD; returns the length (10). buf needs 11 bytes. */
size_t hh_date_format(hh_date_t date, char *buf, size_t cap);

/*
 * Parse ISO-8601 date-time with an explicit offset:
 *   YYYY-MM-DD(T|t| )HH:MM[:SS[.f{1,9}]](Z|z|+HH:MM|-HH:MM|+HHMM|-HHMM)
 * Years outside HH_TIME_YEAR_MIN..MAX are out of range.
 * Returns HH_OK, or HH_ESYNTAX with `why` (optional) set to a static
 * explanation, e.g. "no UTC offset".
 */
int hh_time_parse(const char *s, size_t n, hh_time_t *out, const char **why);

/*
 * The same, remembering the last date it read in *memo (zero-initialise
 * it): a text with the same "YYYY-MM-DD" as the last successful one skips
 * the date's parsing, validation and day count.  Results equal
 * hh_time_parse()'s.  For streams of timestamps, most of one day.
 */
struct hh_time_memo {
    char ymd[10];              /* the date text last read */
    hh_date_t date;            /* its day number */
    bool valid;
};

int hh_time_parse_memo(struct hh_time_memo *memo, const char *s, size_t n, hh_time_t *out,
                       const char **why);

/*
 * Write t in IST: 2025-01-02T09:15:00+05:30, with .mmm when the time has
 * milliseconds, or more digits (6 or 9) when it has sub-millisecond parts.
 * Returns the length; buf needs 36 bytes.
 */
size_t hh_time_format(hh_time_t t, char *buf, size_t cap);

/* hh_time_format() onto f (a CSV field). */
void hh_time_put(FILE *f, hh_time_t t);

/*
 * Conversions between instants and IST dates, inline: the per-row paths
 * (session checks, candle alignment) call them for every tick and bar.
 */

/* a / b rounded towards minus infinity (b > 0); the time module's own. */
static inline int64_t hh_time__floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return q - (a % b < 0);
}

/* IST calendar date and time of day (ns since IST midnight) of t. */
static inline hh_date_t hh_time_ist_date(hh_time_t t)
{
    return (hh_date_t)hh_time__floor_div(t + HH_IST_OFFSET, HH_NS_PER_DAY);
}

static inline int64_t hh_time_ist_tod(hh_time_t t)
{
    int64_t l = t + HH_IST_OFFSET;

    return l - hh_time__floor_div(l, HH_NS_PER_DAY) * HH_NS_PER_DAY;
}

/* The instant at IST date `date`, time of day `tod` ns. */
static inline hh_time_t hh_time_from_ist(hh_date_t date, int64_t tod)
{
    return (int64_t)date * HH_NS_PER_DAY + tod - HH_IST_OFFSET;
}

/* Same, at UTC. */
static inline hh_time_t hh_time_from_utc(hh_date_t date, int64_t tod)
{
    return (int64_t)date * HH_NS_PER_DAY + tod;
}

#endif
