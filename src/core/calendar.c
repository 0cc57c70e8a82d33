/*
 * calendar.c — trading days, session hours and expiry dates.
 *
 * Holidays are data: one sorted, duplicate-free array of dates per exchange,
 * searched by bisection (O(log n) per lookup; lookups run per signal).
 * Session hours are rules (DOMAIN.md §1) keyed by segment and, where a rule
 * changed or follows US daylight saving, by date.  Weekends never trade;
 * special weekend sessions (Muhurat, DR drills) are not modelled here.
 *
 * A NULL calendar is accepted by every query and means "no holidays".
 *
 * Invariant: cal->hol[e].d[0 .. n) is strictly increasing.
 */
#include "core/calendar.h"

#include "core/csv.h"
#include "core/grow.h"
#include "core/lines.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct hh_cal__dates {
    hh_date_t *d;   /* sorted, unique */
    size_t n, cap;
};

struct hh_calendar {
    struct hh_cal__dates hol[HH_EXCH_COUNT];
};

/* The date from which NSE futures have a pre-open session (DOMAIN.md §1),
 * 2025-12-08, as days since 1970 (a constant: the session rules run for
 * every bar; tests/unit/test_calendar.c checks the days on either side). */
#define FUT_PREOPEN_FROM 20430

/* NSE monthly expiries move from Thursday to Tuesday for contracts expiring
 * on or after this date. */
#define NSE_TUESDAY_FROM_Y 2025
#define NSE_TUESDAY_FROM_M 9

/* Columns a holiday file may have before its date and exchange columns. */
#define MAX_FIELDS 64

/* How far hh_cal_next_session() and hh_cal_prev_trading_day() search. */
#define SEARCH_DAYS 400

struct hh_calendar *hh_cal_new(void)
{
    return calloc(1, sizeof(struct hh_calendar));
}

void hh_cal_free(struct hh_calendar *cal)
{
    if (!cal)
        return;
    for (int e = 0; e < HH_EXCH_COUNT; e++)
        free(cal->hol[e].d);
    free(cal);
}

/* Index of the first element >= date in a sorted array. */
static size_t lower_bound(const struct hh_cal__dates *v, hh_date_t date)
{
    size_t lo = 0, hi = v->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (v->d[mid] < date)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int dates_insert(struct hh_cal__dates *v, hh_date_t date)
{
    size_t i = lower_bound(v, date);

    if (i < v->n && v->d[i] == date)
        return HH_OK;
    if (hh_grow(&v->d, &v->cap, v->n + 1, sizeof *v->d))
        return HH_ENOMEM;
    memmove(v->d + i + 1, v->d + i, (v->n - i) * sizeof *v->d);
    v->d[i] = date;
    v->n++;
    return HH_OK;
}

int hh_cal_add_holiday(struct hh_calendar *cal, hh_date_t date, enum hh_exch exch)
{
    if (!cal || date == HH_DATE_NONE || (int)exch < 0 || exch > HH_EXCH_COUNT)
        return HH_EINVAL;
    for (int e = 0; e < HH_EXCH_COUNT; e++) {
        if (exch != HH_EXCH_COUNT && (int)exch != e)
            continue;
        int rc = dates_insert(&cal->hol[e], date);

        if (rc)
            return rc;
    }
    return HH_OK;
}

bool hh_exch_parse(const char *s, size_t n, enum hh_exch *out)
{
    static const struct {
        char name[4];
        enum hh_exch exch;
    } tab[] = {
        { "NSE", HH_EXCH_NSE }, { "NFO", HH_EXCH_NSE }, { "CDS", HH_EXCH_NSE },
        { "NCO", HH_EXCH_NSE }, { "BSE", HH_EXCH_BSE }, { "BFO", HH_EXCH_BSE },
        { "BCD", HH_EXCH_BSE }, { "MCX", HH_EXCH_MCX },
    };

    if (n != 3)
        return false;
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        if (strncasecmp(s, tab[i].name, 3) == 0) {
            *out = tab[i].exch;
            return true;
        }
    }
    return false;
}

const char *hh_exch_name(enum hh_exch e)
{
    switch (e) {
    case HH_EXCH_NSE: return "NSE";
    case HH_EXCH_BSE: return "BSE";
    case HH_EXCH_MCX: return "MCX";
    default:          return "?";
    }
}

bool hh_cal_is_holiday(const struct hh_calendar *cal, enum hh_exch exch, hh_date_t date)
{
    const struct hh_cal__dates *v;
    size_t i;

    if (!cal || (int)exch < 0 || exch >= HH_EXCH_COUNT)
        return false;
    v = &cal->hol[exch];
    i = lower_bound(v, date);
    return i < v->n && v->d[i] == date;
}

bool hh_cal_is_trading_day(const struct hh_calendar *cal, enum hh_exch exch,
                           hh_date_t date)
{
    if (date == HH_DATE_NONE || hh_date_weekday(date) > 5)
        return false;
    return !hh_cal_is_holiday(cal, exch, date);
}

/* The n-th (1-based) `wday` (ISO, 1 = Monday) of a month. */
static hh_date_t nth_weekday(int y, int m, int wday, int n)
{
    hh_date_t first = hh_date_from_ymd(y, m, 1);
    int delta = (wday - hh_date_weekday(first) + 7) % 7;

    return first + delta + 7 * (n - 1);
}

/* The last `wday` of a month. */
static hh_date_t last_weekday(int y, int m, int wday)
{
    hh_date_t last = hh_date_from_ymd(y, m, hh_days_in_month(y, m));
    int delta = (hh_date_weekday(last) - wday + 7) % 7;

    return last - delta;
}

bool hh_cal_us_dst(hh_date_t date)
{
    int y, m, d;

    if (date == HH_DATE_NONE)
        return false;
    hh_date_to_ymd(date, &y, &m, &d);
    /* 2nd Sunday of March (inclusive) to 1st Sunday of November (exclusive).
     * Both switches happen on a Sunday morning US time, which is a Sunday
     * in IST too, so the IST date is enough for a weekday session rule. */
    return date >= nth_weekday(y, 3, 7, 2) && date < nth_weekday(y, 11, 7, 1);
}

void hh_cal_session_rules(enum hh_segment seg, hh_date_t date, struct hh_session *out)
{
    int64_t pre = -1, pre_end = -1, open = -1, close = -1, cl_open = -1, cl_close = -1;

    switch (seg) {
    case HH_SEG_CASH:
        pre = HH_TOD(9, 0), pre_end = HH_TOD(9, 8);
        open = HH_TOD(9, 15), close = HH_TOD(15, 30);
        cl_open = HH_TOD(15, 40), cl_close = HH_TOD(16, 0);
        break;
    case HH_SEG_FUT:
        open = HH_TOD(9, 15), close = HH_TOD(15, 30);
        if (date >= FUT_PREOPEN_FROM)
            pre = HH_TOD(9, 0), pre_end = HH_TOD(9, 8);
        break;
    case HH_SEG_OPT:
        open = HH_TOD(9, 15), close = HH_TOD(15, 30);
        break;
    case HH_SEG_CURRENCY:
    case HH_SEG_AGRI:
        open = HH_TOD(9, 0), close = HH_TOD(17, 0);
        break;
    case HH_SEG_COMMODITY:
        open = HH_TOD(9, 0);
        close = hh_cal_us_dst(date) ? HH_TOD(23, 30) : HH_TOD(23, 55);
        break;
    default:
        break;
    }
    out->date = date;
    /* Every phase is IST midnight plus its time of day (inline arithmetic:
     * this runs for every bar of a backtest). */
#define AT(tod) ((tod) < 0 || date == HH_DATE_NONE ? HH_TIME_NONE : hh_time_from_ist(date, (tod)))
    out->open = AT(open);
    out->close = AT(close);
    out->pre_open = AT(pre);
    out->pre_open_end = AT(pre_end);
    out->closing_open = AT(cl_open);
    out->closing_close = AT(cl_close);
#undef AT
}

int hh_cal_session(const struct hh_calendar *cal, enum hh_exch exch,
                   enum hh_segment seg, hh_date_t date, struct hh_session *out)
{
    if ((int)seg < 0 || seg >= HH_SEG_COUNT)
        return HH_EINVAL;
    if (!hh_cal_is_trading_day(cal, exch, date))
        return HH_ENOTFOUND;
    hh_cal_session_rules(seg, date, out);
    return HH_OK;
}

/*
 * "In progress" means the normal market has not yet closed: at 15:35 on a
 * cash day (between the normal close and the closing session) the answer is
 * the next day's session.
 */
int hh_cal_next_session(const struct hh_calendar *cal, enum hh_exch exch,
                        enum hh_segment seg, hh_time_t t, struct hh_session *out)
{
    hh_date_t d;

    if ((int)seg < 0 || seg >= HH_SEG_COUNT || t == HH_TIME_NONE)
        return HH_EINVAL;
    d = hh_time_ist_date(t);
    for (int i = 0; i <= SEARCH_DAYS; i++, d++) {
        struct hh_session s;

        if (!hh_cal_is_trading_day(cal, exch, d))
            continue;
        hh_cal_session_rules(seg, d, &s);
        if (t < s.close) {
            *out = s;
            return HH_OK;
        }
    }
    return HH_ENOTFOUND;
}

bool hh_cal_is_open(const struct hh_calendar *cal, enum hh_exch exch,
                    enum hh_segment seg, hh_time_t t)
{
    struct hh_session s;

    if (t == HH_TIME_NONE)
        return false;
    if (hh_cal_session(cal, exch, seg, hh_time_ist_date(t), &s) != HH_OK)
        return false;
    return t >= s.open && t < s.close;
}

hh_date_t hh_cal_prev_trading_day(const struct hh_calendar *cal, enum hh_exch exch,
                                  hh_date_t date)
{
    if (date == HH_DATE_NONE)
        return HH_DATE_NONE;
    for (int i = 0; i <= SEARCH_DAYS; i++, date--)
        if (hh_cal_is_trading_day(cal, exch, date))
            return date;
    return HH_DATE_NONE;
}

hh_date_t hh_cal_monthly_expiry(const struct hh_calendar *cal, enum hh_exch exch,
                                int year, int month)
{
    int wday;

    if (month < 1 || month > 12 || year < 1900 || year > 9999)
        return HH_DATE_NONE;
    switch (exch) {
    case HH_EXCH_NSE:
        if (year < NSE_TUESDAY_FROM_Y ||
            (year == NSE_TUESDAY_FROM_Y && month < NSE_TUESDAY_FROM_M))
            wday = 4;   /* Thursday */
        else
            wday = 2;   /* Tuesday */
        break;
    case HH_EXCH_BSE:
        wday = 4;
        break;
    default:
        return HH_DATE_NONE;   /* MCX: per contract, from the master file */
    }
    return hh_cal_prev_trading_day(cal, exch, last_weekday(year, month, wday));
}

/* ---- holiday file ---------------------------------------------------- */

struct hol_row {
    hh_date_t date;
    enum hh_exch exch;   /* HH_EXCH_COUNT = ALL */
};

/* Parse one holiday row into *r; on error a message naming the field. */
static int parse_hol_row(const char *line, size_t len, const int *col, int ncol_min,
                         char *scratch, struct hol_row *r, const char *where,
                         struct hh_diag *d)
{
    struct hh_field f[MAX_FIELDS];
    struct hh_field fd, fe;
    int nf = hh_csv_split(line, len, f, MAX_FIELDS, scratch);

    if (nf < 0)
        return hh_diag_set(d, HH_ESYNTAX, "%s: unterminated quote", where);
    if (nf < ncol_min)
        return hh_diag_set(d, HH_ESYNTAX, "%s: %d fields, expected at least %d",
                           where, nf, ncol_min);
    fd = hh_field_trim(f[col[0]]);
    fe = hh_field_trim(f[col[1]]);
    if (hh_date_parse(fd.p, fd.n, &r->date) != HH_OK)
        return hh_diag_set(d, HH_ESYNTAX, "%s: date: not a date: '%.*s'", where,
                           (int)(fd.n > 40 ? 40 : fd.n), fd.p);
    if (fe.n == 3 && strncasecmp(fe.p, "ALL", 3) == 0)
        r->exch = HH_EXCH_COUNT;
    else if (!hh_exch_parse(fe.p, fe.n, &r->exch))
        return hh_diag_set(d, HH_ESYNTAX,
                           "%s: exchange: '%.*s' is not NSE, BSE, MCX or ALL", where,
                           (int)(fe.n > 40 ? 40 : fe.n), fe.p);
    return HH_OK;
}

/* Blank lines and lines starting with '#' carry no row. */
static bool is_blank_or_comment(const char *line, size_t len)
{
    size_t i = 0;

    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    return i == len || line[i] == '#';
}

int hh_cal_load_holidays(struct hh_calendar *cal, const char *path, struct hh_diag *d)
{
    static const char *const names[] = { "date", "exchange" };
    struct hh_lines *lr = NULL;
    struct hol_row *rows = NULL;
    size_t nrows = 0, cap = 0;
    char *scratch = NULL;
    size_t scratch_cap = 0;
    int col[2], ncol_min, rc;
    const char *line;
    size_t len;
    bool header = false;

    if (!cal || !path)
        return hh_diag_set(d, HH_EINVAL, "hh_cal_load_holidays: no calendar or path");
    rc = hh_lines_open(&lr, path, 0, d);
    if (rc)
        return rc;
    ncol_min = 0;
    while ((rc = hh_lines_next(lr, &line, &len)) == 1) {
        char where[300];
        struct hol_row r;

        snprintf(where, sizeof where, "%s:%llu", path,
                 (unsigned long long)hh_lines_lineno(lr));
        if (is_blank_or_comment(line, len))
            continue;
        if (!header) {
            int nf = hh_csv_header(line, len, names, 2, col);

            if (nf < 0 || col[0] < 0 || col[1] < 0) {
                rc = hh_diag_set(d, HH_EHEADER,
                                 "%s: header must name columns date,exchange[,description]",
                                 where);
                goto out;
            }
            ncol_min = (col[0] > col[1] ? col[0] : col[1]) + 1;
            if (ncol_min > MAX_FIELDS) {
                rc = hh_diag_set(d, HH_EHEADER, "%s: too many columns", where);
                goto out;
            }
            header = true;
            continue;
        }
        if (hh_grow(&scratch, &scratch_cap, len, 1)) {
            rc = hh_diag_set(d, HH_ENOMEM, "%s: out of memory", where);
            goto out;
        }
        rc = parse_hol_row(line, len, col, ncol_min, scratch, &r, where, d);
        if (rc)
            goto out;
        if (hh_grow(&rows, &cap, nrows + 1, sizeof *rows)) {
            rc = hh_diag_set(d, HH_ENOMEM, "%s: out of memory", where);
            goto out;
        }
        rows[nrows++] = r;
    }
    if ((rc = hh_lines_end(lr, rc, path, d)))
        goto out;
    if (!header) {
        rc = hh_diag_set(d, HH_EHEADER, "%s: empty file (no header)", path);
        goto out;
    }
    /* Only a fully valid file changes the calendar. */
    for (size_t i = 0; i < nrows; i++) {
        rc = hh_cal_add_holiday(cal, rows[i].date, rows[i].exch);
        if (rc) {
            hh_diag_set(d, rc, "%s: %s", path, hh_strerror(rc));
            goto out;
        }
    }
    rc = HH_OK;
out:
    free(scratch);
    free(rows);
    hh_lines_close(lr);
    return rc;
}
