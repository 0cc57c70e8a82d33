/*
 * test_calendar.c — holidays, sessions, next session, expiries, US DST.
 *
 * The 2025 and 2026 NSE holiday lists of DOMAIN.md §1 are written out here
 * and checked both as rules (added one by one) and against the bundled
 * tests/data/holidays.csv.
 */
#include "testutil.h"

#include "core/calendar.h"

static const char *data_path(const char *name)
{
    static char buf[1024];
    const char *root = getenv("HH_ROOT");

    snprintf(buf, sizeof buf, "%s/tests/data/%s", root ? root : ".", name);
    return buf;
}

static hh_date_t D(const char *s)
{
    hh_date_t d;

    if (hh_date_parse(s, strlen(s), &d) != HH_OK)
        fail_msg("bad test date %s", s);
    return d;
}

static hh_time_t T(const char *s)
{
    hh_time_t t;

    if (hh_time_parse(s, strlen(s), &t, NULL) != HH_OK)
        fail_msg("bad test time %s", s);
    return t;
}

static void assert_date(hh_date_t got, const char *want)
{
    char buf[16];

    if (got == HH_DATE_NONE)
        fail_msg("got no date, want %s", want);
    hh_date_format(got, buf, sizeof buf);
    assert_string_equal(buf, want);
}

static void assert_time(hh_time_t got, const char *want)
{
    char buf[40];

    if (got == HH_TIME_NONE)
        fail_msg("got no time, want %s", want);
    hh_time_format(got, buf, sizeof buf);
    assert_string_equal(buf, want);
}

/* DOMAIN.md §1, weekdays only. */
static const char *const nse_2025[] = {
    "2025-02-26", "2025-03-14", "2025-03-31", "2025-04-10", "2025-04-14",
    "2025-04-18", "2025-05-01", "2025-08-15", "2025-08-27", "2025-10-02",
    "2025-10-21", "2025-10-22", "2025-11-05", "2025-12-25",
};
static const char *const nse_2026[] = {
    "2026-01-15", "2026-01-26", "2026-03-03", "2026-03-26", "2026-03-31",
    "2026-04-03", "2026-04-14", "2026-05-01", "2026-05-28", "2026-06-26",
    "2026-09-14", "2026-10-02", "2026-10-20", "2026-11-10", "2026-11-24",
    "2026-12-25",
};
#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct hh_calendar *domain_cal(void)
{
    struct hh_calendar *cal = hh_cal_new();

    assert_non_null(cal);
    for (size_t i = 0; i < N(nse_2025); i++)
        assert_int_equal(hh_cal_add_holiday(cal, D(nse_2025[i]), HH_EXCH_NSE), HH_OK);
    for (size_t i = 0; i < N(nse_2026); i++)
        assert_int_equal(hh_cal_add_holiday(cal, D(nse_2026[i]), HH_EXCH_NSE), HH_OK);
    return cal;
}

static struct hh_calendar *file_cal(void)
{
    struct hh_calendar *cal = hh_cal_new();
    struct hh_diag d = { "" };
    int rc;

    assert_non_null(cal);
    rc = hh_cal_load_holidays(cal, data_path("holidays.csv"), &d);
    if (rc)
        fail_msg("load: %s", d.msg);
    return cal;
}

static bool in_list(hh_date_t d, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (D(list[i]) == d)
            return true;
    return false;
}

/* Every weekday of `year` trades unless it is in the list; holidays' nearest
 * non-holiday weekdays trade; weekends never do. */
static void check_year(const struct hh_calendar *cal, int year, const char *const *list,
                       size_t n)
{
    hh_date_t d0 = hh_date_from_ymd(year, 1, 1), d1 = hh_date_from_ymd(year + 1, 1, 1);
    int holidays = 0;

    for (hh_date_t d = d0; d < d1; d++) {
        bool weekend = hh_date_weekday(d) >= 6;
        bool hol = in_list(d, list, n);
        char buf[16];

        hh_date_format(d, buf, sizeof buf);
        if (hh_cal_is_trading_day(cal, HH_EXCH_NSE, d) != (!weekend && !hol))
            fail_msg("%s: trading day %d, want %d", buf,
                     hh_cal_is_trading_day(cal, HH_EXCH_NSE, d), !weekend && !hol);
        if (!weekend && hh_cal_is_holiday(cal, HH_EXCH_NSE, d) != hol)
            fail_msg("%s: holiday %d, want %d", buf, hh_cal_is_holiday(cal, HH_EXCH_NSE, d),
                     hol);
        /* other exchanges are not closed by NSE rows */
        if (!weekend && !hh_cal_is_trading_day(cal, HH_EXCH_MCX, d))
            fail_msg("%s: MCX closed by an NSE holiday", buf);
        holidays += hol;
    }
    assert_int_equal(holidays, (int)n);
    for (size_t i = 0; i < n; i++) {
        hh_date_t h = D(list[i]), before = h - 1, after = h + 1;

        while (hh_date_weekday(before) >= 6 || in_list(before, list, n))
            before--;
        while (hh_date_weekday(after) >= 6 || in_list(after, list, n))
            after++;
        assert_true(hh_cal_is_trading_day(cal, HH_EXCH_NSE, before));
        assert_true(hh_cal_is_trading_day(cal, HH_EXCH_NSE, after));
        assert_int_equal(hh_cal_session(cal, HH_EXCH_NSE, HH_SEG_CASH, h,
                                        &(struct hh_session){ 0 }),
                         HH_ENOTFOUND);
    }
}

static void test_nse_2025_2026_rules(void **state)
{
    struct hh_calendar *cal = domain_cal();

    (void)state;
    check_year(cal, 2025, nse_2025, N(nse_2025));
    check_year(cal, 2026, nse_2026, N(nse_2026));
    hh_cal_free(cal);
}

static void test_nse_2025_2026_file(void **state)
{
    struct hh_calendar *cal = file_cal();

    (void)state;
    check_year(cal, 2025, nse_2025, N(nse_2025));
    check_year(cal, 2026, nse_2026, N(nse_2026));
    /* 2024 is in the file too: Diwali 2024-11-01 (restored) and 2024-01-22 */
    assert_true(hh_cal_is_holiday(cal, HH_EXCH_NSE, D("2024-11-01")));
    assert_true(hh_cal_is_holiday(cal, HH_EXCH_NSE, D("2024-01-22")));
    assert_true(hh_cal_is_trading_day(cal, HH_EXCH_NSE, D("2024-10-31")));
    hh_cal_free(cal);
}

static void test_weekends_and_muhurat(void **state)
{
    struct hh_calendar *cal = file_cal();
    struct hh_session s;

    (void)state;
    assert_false(hh_cal_is_trading_day(cal, HH_EXCH_NSE, D("2025-01-04")));  /* Sat */
    assert_false(hh_cal_is_trading_day(cal, HH_EXCH_NSE, D("2025-01-05")));  /* Sun */
    assert_false(hh_cal_is_trading_day(NULL, HH_EXCH_MCX, D("2025-01-05")));
    assert_true(hh_cal_is_trading_day(NULL, HH_EXCH_NSE, D("2025-01-06")));
    /* Muhurat Sunday 2026-11-08: no normal session */
    assert_false(hh_cal_is_trading_day(cal, HH_EXCH_NSE, D("2026-11-08")));
    assert_int_equal(hh_cal_session(cal, HH_EXCH_NSE, HH_SEG_CASH, D("2026-11-08"), &s),
                     HH_ENOTFOUND);
    assert_false(hh_cal_is_open(cal, HH_EXCH_NSE, HH_SEG_CASH,
                                T("2026-11-08T18:15:00+05:30")));
    /* weekend holidays of the source lists are dropped from the file */
    assert_false(hh_cal_is_holiday(cal, HH_EXCH_NSE, D("2026-11-08")));
    /* Diwali 2025 */
    assert_false(hh_cal_is_open(cal, HH_EXCH_NSE, HH_SEG_CASH,
                                T("2025-10-21T10:00:00+05:30")));
    hh_cal_free(cal);
}

static void test_session_hours(void **state)
{
    struct hh_session s;

    (void)state;
    assert_int_equal(hh_cal_session(NULL, HH_EXCH_NSE, HH_SEG_CASH, D("2025-01-02"), &s),
                     HH_OK);
    assert_date(s.date, "2025-01-02");
    assert_time(s.pre_open, "2025-01-02T09:00:00+05:30");
    assert_time(s.pre_open_end, "2025-01-02T09:08:00+05:30");
    assert_time(s.open, "2025-01-02T09:15:00+05:30");
    assert_time(s.close, "2025-01-02T15:30:00+05:30");
    assert_time(s.closing_open, "2025-01-02T15:40:00+05:30");
    assert_time(s.closing_close, "2025-01-02T16:00:00+05:30");
    /* IST is UTC+05:30: the open is 03:45Z */
    assert_true(s.open == T("2025-01-02T03:45:00Z"));

    hh_cal_session_rules(HH_SEG_OPT, D("2026-01-02"), &s);
    assert_time(s.open, "2026-01-02T09:15:00+05:30");
    assert_time(s.close, "2026-01-02T15:30:00+05:30");
    assert_true(s.pre_open == HH_TIME_NONE && s.pre_open_end == HH_TIME_NONE);
    assert_true(s.closing_open == HH_TIME_NONE && s.closing_close == HH_TIME_NONE);

    /* futures pre-open only from 2025-12-08 */
    hh_cal_session_rules(HH_SEG_FUT, D("2025-12-05"), &s);
    assert_true(s.pre_open == HH_TIME_NONE);
    assert_time(s.open, "2025-12-05T09:15:00+05:30");
    assert_time(s.close, "2025-12-05T15:30:00+05:30");
    hh_cal_session_rules(HH_SEG_FUT, D("2025-12-07"), &s);
    assert_true(s.pre_open == HH_TIME_NONE);
    hh_cal_session_rules(HH_SEG_FUT, D("2025-12-08"), &s);
    assert_time(s.pre_open, "2025-12-08T09:00:00+05:30");
    assert_time(s.pre_open_end, "2025-12-08T09:08:00+05:30");
    assert_true(s.closing_open == HH_TIME_NONE);

    hh_cal_session_rules(HH_SEG_CURRENCY, D("2025-06-02"), &s);
    assert_time(s.open, "2025-06-02T09:00:00+05:30");
    assert_time(s.close, "2025-06-02T17:00:00+05:30");
    assert_true(s.pre_open == HH_TIME_NONE);

    hh_cal_session_rules(HH_SEG_AGRI, D("2025-06-02"), &s);
    assert_time(s.open, "2025-06-02T09:00:00+05:30");
    assert_time(s.close, "2025-06-02T17:00:00+05:30");

    hh_cal_session_rules(HH_SEG_COMMODITY, D("2025-06-02"), &s);
    assert_time(s.open, "2025-06-02T09:00:00+05:30");
    assert_time(s.close, "2025-06-02T23:30:00+05:30");
    hh_cal_session_rules(HH_SEG_COMMODITY, D("2025-01-02"), &s);
    assert_time(s.close, "2025-01-02T23:55:00+05:30");

    /* a bad segment */
    assert_int_equal(hh_cal_session(NULL, HH_EXCH_NSE, HH_SEG_COUNT, D("2025-01-02"), &s),
                     HH_EINVAL);
}

static void test_is_open_half_open(void **state)
{
    struct hh_calendar *cal = file_cal();

    (void)state;
    assert_false(hh_cal_is_open(cal, HH_EXCH_NSE, HH_SEG_CASH, T("2025-01-02T09:14:59+05:30")));
    assert_true(hh_cal_is_open(cal, HH_EXCH_NSE, HH_SEG_CASH, T("2025-01-02T09:15:00+05:30")));
    assert_true(hh_cal_is_open(cal, HH_EXCH_NSE, HH_SEG_CASH,
                               T("2025-01-02T15:29:59.999+05:30")));
    assert_false(hh_cal_is_open(cal, HH_EXCH_NSE, HH_SEG_CASH, T("2025-01-02T15:30:00+05:30")));
    /* pre-open and the closing session are not the normal market */
    assert_false(hh_cal_is_open(cal, HH_EXCH_NSE, HH_SEG_CASH, T("2025-01-02T09:05:00+05:30")));
    assert_false(hh_cal_is_open(cal, HH_EXCH_NSE, HH_SEG_CASH, T("2025-01-02T15:45:00+05:30")));
    /* MCX in the evening, and on an NSE holiday */
    assert_true(hh_cal_is_open(cal, HH_EXCH_MCX, HH_SEG_COMMODITY,
                               T("2025-01-02T23:54:00+05:30")));
    assert_false(hh_cal_is_open(cal, HH_EXCH_MCX, HH_SEG_COMMODITY,
                                T("2025-06-02T23:45:00+05:30")));
    assert_true(hh_cal_is_open(cal, HH_EXCH_MCX, HH_SEG_COMMODITY,
                               T("2025-02-26T20:00:00+05:30")));
    assert_false(hh_cal_is_open(cal, HH_EXCH_NSE, HH_SEG_OPT, T("2025-02-26T10:00:00+05:30")));
    /* the IST date decides: 2025-01-03T18:30Z is Saturday 00:00 IST */
    assert_false(hh_cal_is_open(cal, HH_EXCH_MCX, HH_SEG_COMMODITY, T("2025-01-03T18:30:00Z")));
    assert_true(hh_cal_is_open(cal, HH_EXCH_MCX, HH_SEG_COMMODITY, T("2025-01-03T18:20:00Z")));
    assert_false(hh_cal_is_open(cal, HH_EXCH_NSE, HH_SEG_CASH, HH_TIME_NONE));
    hh_cal_free(cal);
}

static void test_mcx_dst_switches(void **state)
{
    struct hh_session s;

    (void)state;
    /* 2025: DST from Sunday 2025-03-09 to Sunday 2025-11-02 (exclusive) */
    assert_false(hh_cal_us_dst(D("2025-03-08")));
    assert_true(hh_cal_us_dst(D("2025-03-09")));
    assert_true(hh_cal_us_dst(D("2025-11-01")));
    assert_false(hh_cal_us_dst(D("2025-11-02")));
    /* 2026: 2026-03-08 to 2026-11-01 */
    assert_false(hh_cal_us_dst(D("2026-03-07")));
    assert_true(hh_cal_us_dst(D("2026-03-08")));
    assert_true(hh_cal_us_dst(D("2026-10-31")));
    assert_false(hh_cal_us_dst(D("2026-11-01")));
    assert_false(hh_cal_us_dst(D("2025-01-15")));
    assert_true(hh_cal_us_dst(D("2025-07-15")));
    assert_false(hh_cal_us_dst(D("2025-12-15")));

    /* the trading days either side of each switch */
    static const struct {
        const char *date, *close;
    } cases[] = {
        { "2025-03-07", "2025-03-07T23:55:00+05:30" },
        { "2025-03-10", "2025-03-10T23:30:00+05:30" },
        { "2025-10-31", "2025-10-31T23:30:00+05:30" },
        { "2025-11-03", "2025-11-03T23:55:00+05:30" },
        { "2026-03-06", "2026-03-06T23:55:00+05:30" },
        { "2026-03-09", "2026-03-09T23:30:00+05:30" },
        { "2026-10-30", "2026-10-30T23:30:00+05:30" },
        { "2026-11-02", "2026-11-02T23:55:00+05:30" },
    };
    for (size_t i = 0; i < N(cases); i++) {
        assert_int_equal(hh_cal_session(NULL, HH_EXCH_MCX, HH_SEG_COMMODITY,
                                        D(cases[i].date), &s), HH_OK);
        assert_time(s.close, cases[i].close);
        /* agri does not follow the US */
        hh_cal_session_rules(HH_SEG_AGRI, D(cases[i].date), &s);
        assert_int_equal(hh_time_ist_tod(s.close), HH_TOD(17, 0));
    }
}

static void test_next_session(void **state)
{
    struct hh_calendar *cal = file_cal();
    struct hh_session s;

    (void)state;
    /* Friday 2025-04-11 at the close -> Monday 04-14 is a holiday -> Tuesday */
    assert_int_equal(hh_cal_next_session(cal, HH_EXCH_NSE, HH_SEG_CASH,
                                         T("2025-04-11T15:30:00+05:30"), &s), HH_OK);
    assert_date(s.date, "2025-04-15");
    assert_time(s.open, "2025-04-15T09:15:00+05:30");
    /* in the closing session: the normal market is over, so the next day */
    assert_int_equal(hh_cal_next_session(cal, HH_EXCH_NSE, HH_SEG_CASH,
                                         T("2025-04-11T15:45:00+05:30"), &s), HH_OK);
    assert_date(s.date, "2025-04-15");
    /* during the session: that session */
    assert_int_equal(hh_cal_next_session(cal, HH_EXCH_NSE, HH_SEG_CASH,
                                         T("2025-04-11T15:29:00+05:30"), &s), HH_OK);
    assert_date(s.date, "2025-04-11");
    /* before the open: today's */
    assert_int_equal(hh_cal_next_session(cal, HH_EXCH_NSE, HH_SEG_CASH,
                                         T("2025-04-11T02:00:00+05:30"), &s), HH_OK);
    assert_date(s.date, "2025-04-11");
    /* Saturday -> Monday (UTC input, IST answer) */
    assert_int_equal(hh_cal_next_session(cal, HH_EXCH_NSE, HH_SEG_OPT,
                                         T("2025-01-04T06:00:00Z"), &s), HH_OK);
    assert_date(s.date, "2025-01-06");
    /* Holi Friday 2025-03-14 + weekend -> Monday 03-17 */
    assert_int_equal(hh_cal_next_session(cal, HH_EXCH_NSE, HH_SEG_FUT,
                                         T("2025-03-13T16:00:00+05:30"), &s), HH_OK);
    assert_date(s.date, "2025-03-17");
    /* 2026: Tue 03-31 and Fri 04-03 are holidays */
    assert_int_equal(hh_cal_next_session(cal, HH_EXCH_NSE, HH_SEG_CASH,
                                         T("2026-03-30T16:30:00+05:30"), &s), HH_OK);
    assert_date(s.date, "2026-04-01");
    assert_int_equal(hh_cal_next_session(cal, HH_EXCH_NSE, HH_SEG_CASH,
                                         T("2026-04-02T15:30:00+05:30"), &s), HH_OK);
    assert_date(s.date, "2026-04-06");
    /* MCX is not closed by NSE's holiday */
    assert_int_equal(hh_cal_next_session(cal, HH_EXCH_MCX, HH_SEG_COMMODITY,
                                         T("2025-04-11T23:55:00+05:30"), &s), HH_OK);
    assert_date(s.date, "2025-04-14");
    assert_time(s.close, "2025-04-14T23:30:00+05:30");
    hh_cal_free(cal);

    /* more than a year of holidays: not found */
    cal = hh_cal_new();
    for (hh_date_t d = D("2030-01-01"); d < D("2031-03-01"); d++)
        assert_int_equal(hh_cal_add_holiday(cal, d, HH_EXCH_BSE), HH_OK);
    assert_int_equal(hh_cal_next_session(cal, HH_EXCH_BSE, HH_SEG_CASH,
                                         T("2030-01-01T10:00:00+05:30"), &s), HH_ENOTFOUND);
    assert_int_equal(hh_cal_next_session(cal, HH_EXCH_NSE, HH_SEG_CASH,
                                         T("2030-01-01T10:00:00+05:30"), &s), HH_OK);
    assert_date(s.date, "2030-01-01");
    assert_int_equal(hh_cal_prev_trading_day(cal, HH_EXCH_BSE, D("2031-02-28")),
                     HH_DATE_NONE);
    hh_cal_free(cal);
}

static void test_prev_trading_day(void **state)
{
    struct hh_calendar *cal = file_cal();

    (void)state;
    assert_date(hh_cal_prev_trading_day(cal, HH_EXCH_NSE, D("2025-04-14")), "2025-04-11");
    assert_date(hh_cal_prev_trading_day(cal, HH_EXCH_NSE, D("2025-04-13")), "2025-04-11");
    assert_date(hh_cal_prev_trading_day(cal, HH_EXCH_NSE, D("2025-04-11")), "2025-04-11");
    assert_date(hh_cal_prev_trading_day(cal, HH_EXCH_NSE, D("2025-10-22")), "2025-10-20");
    assert_date(hh_cal_prev_trading_day(cal, HH_EXCH_BSE, D("2025-10-22")), "2025-10-22");
    assert_int_equal(hh_cal_prev_trading_day(cal, HH_EXCH_NSE, HH_DATE_NONE), HH_DATE_NONE);
    hh_cal_free(cal);
}

static void test_monthly_expiry(void **state)
{
    struct hh_calendar *cal = file_cal();

    (void)state;
    /* NSE: last Thursday before 2025-09 */
    assert_date(hh_cal_monthly_expiry(cal, HH_EXCH_NSE, 2025, 1), "2025-01-30");
    assert_date(hh_cal_monthly_expiry(cal, HH_EXCH_NSE, 2024, 4), "2024-04-25");
    assert_date(hh_cal_monthly_expiry(cal, HH_EXCH_NSE, 2025, 8), "2025-08-28");
    /* last Tuesday from 2025-09 */
    assert_date(hh_cal_monthly_expiry(cal, HH_EXCH_NSE, 2025, 9), "2025-09-30");
    assert_date(hh_cal_monthly_expiry(cal, HH_EXCH_NSE, 2025, 12), "2025-12-30");
    assert_date(hh_cal_monthly_expiry(cal, HH_EXCH_NSE, 2026, 1), "2026-01-27");
    /* a holiday moves it: Tuesday 2026-03-31 -> Monday 03-30 */
    assert_date(hh_cal_monthly_expiry(cal, HH_EXCH_NSE, 2026, 3), "2026-03-30");
    assert_date(hh_cal_monthly_expiry(NULL, HH_EXCH_NSE, 2026, 3), "2026-03-31");
    /* 2024-03-28 Thursday stays (the Friday after is the holiday) */
    assert_date(hh_cal_monthly_expiry(cal, HH_EXCH_NSE, 2024, 3), "2024-03-28");
    /* BSE: last Thursday, its own holidays */
    assert_date(hh_cal_monthly_expiry(cal, HH_EXCH_BSE, 2025, 9), "2025-09-25");
    assert_date(hh_cal_monthly_expiry(cal, HH_EXCH_BSE, 2025, 12), "2025-12-25");
    assert_int_equal(hh_cal_add_holiday(cal, D("2025-12-25"), HH_EXCH_BSE), HH_OK);
    assert_date(hh_cal_monthly_expiry(cal, HH_EXCH_BSE, 2025, 12), "2025-12-24");
    /* MCX: per contract */
    assert_int_equal(hh_cal_monthly_expiry(cal, HH_EXCH_MCX, 2025, 1), HH_DATE_NONE);
    assert_int_equal(hh_cal_monthly_expiry(cal, HH_EXCH_NSE, 2025, 13), HH_DATE_NONE);
    assert_int_equal(hh_cal_monthly_expiry(cal, HH_EXCH_NSE, 2025, 0), HH_DATE_NONE);
    hh_cal_free(cal);
}

static void test_exch_names(void **state)
{
    enum hh_exch e;

    (void)state;
    assert_true(hh_exch_parse("NSE", 3, &e) && e == HH_EXCH_NSE);
    assert_true(hh_exch_parse("NFO", 3, &e) && e == HH_EXCH_NSE);
    assert_true(hh_exch_parse("CDS", 3, &e) && e == HH_EXCH_NSE);
    assert_true(hh_exch_parse("BSE", 3, &e) && e == HH_EXCH_BSE);
    assert_true(hh_exch_parse("BFO", 3, &e) && e == HH_EXCH_BSE);
    assert_true(hh_exch_parse("MCX", 3, &e) && e == HH_EXCH_MCX);
    assert_false(hh_exch_parse("NSEX", 4, &e));
    assert_false(hh_exch_parse("XYZ", 3, &e));
    assert_false(hh_exch_parse("", 0, &e));
    assert_string_equal(hh_exch_name(HH_EXCH_NSE), "NSE");
    assert_string_equal(hh_exch_name(HH_EXCH_BSE), "BSE");
    assert_string_equal(hh_exch_name(HH_EXCH_MCX), "MCX");
}

static void test_load_formats_and_all(void **state)
{
    struct hh_calendar *cal = hh_cal_new();
    struct hh_diag d = { "" };
    const char *p1 = tu_write_file(0, "h1.csv",
        "exchange,date,description\r\n"
        "ALL,01-May-2025,\"Maharashtra Day, all markets\"\r\n"
        "\r\n"
        "# a comment line\n"
        "BSE,15-08-2025,Independence Day\n"
        "MCX,2025-01-01,New Year\n");
    const char *p2 = tu_write_file(1, "h2.csv",
        "date,exchange\n"
        "2025-12-25,nse\n");

    (void)state;
    assert_int_equal(hh_cal_load_holidays(cal, p1, &d), HH_OK);
    assert_int_equal(hh_cal_load_holidays(cal, p2, &d), HH_OK);
    for (int e = 0; e < HH_EXCH_COUNT; e++)
        assert_true(hh_cal_is_holiday(cal, (enum hh_exch)e, D("2025-05-01")));
    assert_true(hh_cal_is_holiday(cal, HH_EXCH_BSE, D("2025-08-15")));
    assert_false(hh_cal_is_holiday(cal, HH_EXCH_NSE, D("2025-08-15")));
    assert_true(hh_cal_is_holiday(cal, HH_EXCH_MCX, D("2025-01-01")));
    assert_false(hh_cal_is_holiday(cal, HH_EXCH_NSE, D("2025-01-01")));
    assert_true(hh_cal_is_holiday(cal, HH_EXCH_NSE, D("2025-12-25")));
    /* loading the same file twice is harmless */
    assert_int_equal(hh_cal_load_holidays(cal, p2, &d), HH_OK);
    assert_true(hh_cal_is_holiday(cal, HH_EXCH_NSE, D("2025-12-25")));
    hh_cal_free(cal);
}

static void test_load_errors(void **state)
{
    struct hh_calendar *cal = hh_cal_new();
    struct hh_diag d = { "" };
    const char *p;

    (void)state;
    p = tu_write_file(0, "bad_date.csv",
                      "date,exchange,description\n"
                      "2025-02-26,NSE,Mahashivratri\n"
                      "2025-02-30,NSE,No such day\n");
    assert_int_equal(hh_cal_load_holidays(cal, p, &d), HH_ESYNTAX);
    assert_non_null(strstr(d.msg, "bad_date.csv:3: date"));
    assert_non_null(strstr(d.msg, "2025-02-30"));
    /* nothing from a bad file is kept */
    assert_false(hh_cal_is_holiday(cal, HH_EXCH_NSE, D("2025-02-26")));

    p = tu_write_file(0, "bad_exch.csv", "date,exchange\n2025-02-26,NYSE\n");
    assert_int_equal(hh_cal_load_holidays(cal, p, &d), HH_ESYNTAX);
    assert_non_null(strstr(d.msg, "bad_exch.csv:2: exchange"));
    assert_non_null(strstr(d.msg, "NYSE"));

    p = tu_write_file(0, "short.csv", "date,description,exchange\n2025-02-26,x\n");
    assert_int_equal(hh_cal_load_holidays(cal, p, &d), HH_ESYNTAX);
    assert_non_null(strstr(d.msg, "short.csv:2"));

    p = tu_write_file(0, "quote.csv", "date,exchange,description\n2025-02-26,NSE,\"open\n");
    assert_int_equal(hh_cal_load_holidays(cal, p, &d), HH_ESYNTAX);
    assert_non_null(strstr(d.msg, "quote.csv:2"));

    p = tu_write_file(0, "nohdr.csv", "2025-02-26,NSE,Mahashivratri\n");
    assert_int_equal(hh_cal_load_holidays(cal, p, &d), HH_EHEADER);
    assert_non_null(strstr(d.msg, "nohdr.csv:1"));

    p = tu_write_file(0, "empty.csv", "");
    assert_int_equal(hh_cal_load_holidays(cal, p, &d), HH_EHEADER);

    assert_int_equal(hh_cal_load_holidays(cal, "/nonexistent/holidays.csv", &d), HH_EIO);
    assert_int_equal(hh_cal_load_holidays(cal, "/nonexistent/holidays.csv", NULL), HH_EIO);

    assert_int_equal(hh_cal_add_holiday(cal, HH_DATE_NONE, HH_EXCH_NSE), HH_EINVAL);
    hh_cal_free(cal);
    hh_cal_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nse_2025_2026_rules),
        cmocka_unit_test(test_nse_2025_2026_file),
        cmocka_unit_test(test_weekends_and_muhurat),
        cmocka_unit_test(test_session_hours),
        cmocka_unit_test(test_is_open_half_open),
        cmocka_unit_test(test_mcx_dst_switches),
        cmocka_unit_test(test_next_session),
        cmocka_unit_test(test_prev_trading_day),
        cmocka_unit_test(test_monthly_expiry),
        cmocka_unit_test(test_exch_names),
        cmocka_unit_test(test_load_formats_and_all),
        cmocka_unit_test(test_load_errors),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);

    tu_cleanup();
    return rc;
}
