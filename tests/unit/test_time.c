/*
 * test_time.c — ISO-8601 parsing with offsets, IST output, civil dates.
 */
#include "testutil.h"

#include "core/err.h"
#include "core/time.h"

static hh_time_t parse_ok(const char *s)
{
    hh_time_t t = 0;
    const char *why = NULL;

    if (hh_time_parse(s, strlen(s), &t, &why) != HH_OK)
        fail_msg("'%s' did not parse: %s", s, why ? why : "?");
    return t;
}

static void expect_bad(const char *s, const char *why_part)
{
    hh_time_t t;
    const char *why = NULL;

    if (hh_time_parse(s, strlen(s), &t, &why) != HH_ESYNTAX)
        fail_msg("'%s' parsed", s);
    if (why_part && (!why || !strstr(why, why_part)))
        fail_msg("'%s': reason '%s' lacks '%s'", s, why ? why : "", why_part);
}

static void expect_fmt(hh_time_t t, const char *want)
{
    char buf[40];

    hh_time_format(t, buf, sizeof buf);
    assert_string_equal(buf, want);
}

static void test_parse_offsets(void **state)
{
    hh_time_t ist, z;

    (void)state;
    ist = parse_ok("2025-01-02T09:15:00.250+05:30");
    z = parse_ok("2025-01-02T03:45:00.250Z");
    assert_true(ist == z);
    assert_true(parse_ok("2025-01-02T03:45:00.25z") == z);
    assert_true(parse_ok("2025-01-02 09:15:00.250+0530") == z);
    assert_true(parse_ok("2025-01-01T22:15:00.250-05:30") == z);
    /* Epoch and a known instant. */
    assert_true(parse_ok("1970-01-01T00:00:00Z") == 0);
    assert_true(parse_ok("2001-09-09T01:46:40Z") == 1000000000LL * HH_NS_PER_S);
    /* Seconds optional; fraction up to 9 digits. */
    assert_true(parse_ok("2025-01-02T09:15+05:30") == parse_ok("2025-01-02T09:15:00+05:30"));
    assert_true(parse_ok("2025-01-02T09:15:00.123456789+05:30") -
                parse_ok("2025-01-02T09:15:00+05:30") == 123456789);
}

static void test_parse_rejects(void **state)
{
    (void)state;
    expect_bad("2025-01-02T09:15:00", "offset");
    expect_bad("2025-01-02T09:15:00.250", "offset");
    expect_bad("2025-01-02", NULL);
    expect_bad("2025-13-02T09:15:00Z", "range");
    expect_bad("2025-02-29T09:15:00Z", "range");     /* not a leap year */
    expect_bad("2025-01-02T24:00:00Z", "range");
    expect_bad("2025-01-02T09:15:60Z", "seconds");
    expect_bad("2025-01-02T09:15:00.Z", "fraction");
    expect_bad("2025-01-02T09:15:00.1234567890Z", "9 fractional");
    expect_bad("2025-01-02T09:15:00+5:30", "offset");
    expect_bad("2025-01-02T09:15:00+24:00", "offset");
    expect_bad("2025-01-02T09:15:00Z ", "offset");
    expect_bad("x025-01-02T09:15:00Z", NULL);
    expect_bad("1677-01-01T00:00:00Z", "year out of range");   /* int64 ns would overflow */
    expect_bad("9999-12-31T23:59:59Z", "year out of range");
    assert_true(parse_ok("2261-12-31T23:59:59Z") > 0);
    assert_true(parse_ok("1678-01-01T00:00:00Z") < 0);
    assert_true(parse_ok("2024-02-29T00:00:00Z") > 0);
}

static void test_format_ist(void **state)
{
    (void)state;
    expect_fmt(parse_ok("2025-01-02T03:45:00Z"), "2025-01-02T09:15:00+05:30");
    expect_fmt(parse_ok("2025-01-02T03:45:00.250Z"), "2025-01-02T09:15:00.250+05:30");
    expect_fmt(parse_ok("2025-01-02T03:45:00.000001Z"), "2025-01-02T09:15:00.000001+05:30");
    expect_fmt(parse_ok("2025-01-02T03:45:00.000000001Z"), "2025-01-02T09:15:00.000000001+05:30");
    /* Across the IST date line: 20:00Z is 01:30 next day IST. */
    expect_fmt(parse_ok("2024-12-31T20:00:00Z"), "2025-01-01T01:30:00+05:30");
    expect_fmt(parse_ok("1969-12-31T23:59:59Z"), "1970-01-01T05:29:59+05:30");
}

static void test_ist_parts(void **state)
{
    hh_time_t t = parse_ok("2025-01-02T15:30:00+05:30");
    int y, m, d;

    (void)state;
    hh_date_to_ymd(hh_time_ist_date(t), &y, &m, &d);
    assert_int_equal(y, 2025);
    assert_int_equal(m, 1);
    assert_int_equal(d, 2);
    assert_int_equal(hh_time_ist_tod(t), HH_TOD(15, 30));
    assert_true(hh_time_from_ist(hh_date_from_ymd(2025, 1, 2), HH_TOD(15, 30)) == t);
    /* 23:00Z on Jan 1 is Jan 2 04:30 IST. */
    hh_date_to_ymd(hh_time_ist_date(parse_ok("2025-01-01T23:00:00Z")), &y, &m, &d);
    assert_int_equal(d, 2);
    /* Floors, not truncations, before 1970 and on either side of midnight. */
    assert_int_equal(hh_time_ist_date(-HH_IST_OFFSET), 0);
    assert_int_equal(hh_time_ist_date(-HH_IST_OFFSET - 1), -1);
    assert_int_equal(hh_time_ist_tod(-HH_IST_OFFSET - 1), HH_NS_PER_DAY - 1);
    assert_int_equal(hh_time_ist_date(parse_ok("1969-12-31T18:29:59.999999999Z")), -1);
    assert_int_equal(hh_time_ist_date(parse_ok("1969-12-31T18:30:00Z")), 0);
    for (hh_time_t u = -3 * HH_NS_PER_DAY - 7; u < 3 * HH_NS_PER_DAY; u += HH_NS_PER_HOUR + 13)
        assert_true(hh_time_from_ist(hh_time_ist_date(u), hh_time_ist_tod(u)) == u);
    assert_true(hh_time_from_utc(-1, HH_TOD(1, 0)) == -23 * HH_NS_PER_HOUR);
}

/* With a memo carried from text to text, every result and reason equals
 * hh_time_parse()'s: same and other dates, bad times after a good date,
 * bad dates after a good one, out-of-range years. */
static void test_parse_memo(void **state)
{
    static const char *const texts[] = {
        "2025-01-02T09:15:00+05:30", "2025-01-02T15:29:59.999Z", "2025-01-02T24:00:00Z",
        "2025-01-02T09:60:00Z", "2025-01-02 10:00+0530", "2025-01-02T10:00:00",
        "2025-02-29T10:00:00Z", "2024-02-29T10:00:00Z", "2024-02-29T23:59:59.5-05:30",
        "2025-01-02X10:00:00Z", "1500-01-02T10:00:00Z", "2025-01-02T10:00:00Z",
        "2025-13-02T10:00:00Z", "2025-01-02T1a:00:00Z", "2025-01-02T10:00:61Z",
        "2025-01-02t10:00:00.123456789Z", "2025-01-02T10:00:00.1234567890Z",
    };
    struct hh_time_memo memo;

    (void)state;
    memset(&memo, 0, sizeof memo);
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
            const char *t = texts[(i * 7 + (size_t)round) % (sizeof texts / sizeof *texts)];
            const char *wa = "", *wb = "";
            hh_time_t a = 0, b = 0;
            int ra = hh_time_parse(t, strlen(t), &a, &wa);
            int rb = hh_time_parse_memo(&memo, t, strlen(t), &b, &wb);

            assert_int_equal(ra, rb);
            assert_string_equal(wa, wb);
            if (ra == HH_OK)
                assert_true(a == b);
        }
}

static void test_dates(void **state)
{
    hh_date_t d;
    char buf[16];
    int yy, mm, dd;

    (void)state;
    assert_int_equal(hh_date_from_ymd(1970, 1, 1), 0);
    assert_int_equal(hh_date_from_ymd(2000, 3, 1), 11017);
    assert_int_equal(hh_date_from_ymd(1969, 12, 31), -1);
    for (d = -800000; d < 800000; d += 997) {
        hh_date_to_ymd(d, &yy, &mm, &dd);
        assert_int_equal(hh_date_from_ymd(yy, mm, dd), d);
    }
    assert_int_equal(hh_date_weekday(hh_date_from_ymd(1970, 1, 1)), 4);   /* Thursday */
    assert_int_equal(hh_date_weekday(hh_date_from_ymd(2025, 1, 30)), 4);
    assert_int_equal(hh_date_weekday(hh_date_from_ymd(2026, 11, 8)), 7);  /* Sunday */
    assert_int_equal(hh_date_weekday(hh_date_from_ymd(2025, 9, 30)), 2);  /* Tuesday */
    assert_int_equal(hh_date_parse("2026-01-15", 10, &d), HH_OK);
    assert_int_equal(d, hh_date_from_ymd(2026, 1, 15));
    assert_int_equal(hh_date_parse("15-01-2026", 10, &d), HH_OK);
    assert_int_equal(d, hh_date_from_ymd(2026, 1, 15));
    assert_int_equal(hh_date_parse("15-Jan-2026", 11, &d), HH_OK);
    assert_int_equal(d, hh_date_from_ymd(2026, 1, 15));
    assert_int_equal(hh_date_parse("15-JAN-2026", 11, &d), HH_OK);
    assert_int_equal(hh_date_parse("31-Feb-2026", 11, &d), HH_ESYNTAX);
    assert_int_equal(hh_date_parse("2026/01/15", 10, &d), HH_ESYNTAX);
    assert_int_equal(hh_date_parse("15-Jnu-2026", 11, &d), HH_ESYNTAX);
    hh_date_format(hh_date_from_ymd(2024, 2, 29), buf, sizeof buf);
    assert_string_equal(buf, "2024-02-29");
    assert_int_equal(hh_days_in_month(2024, 2), 29);
    assert_int_equal(hh_days_in_month(2100, 2), 28);
    assert_int_equal(hh_days_in_month(2000, 2), 29);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_offsets),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_format_ist),
        cmocka_unit_test(test_ist_parts),
        cmocka_unit_test(test_parse_memo),
        cmocka_unit_test(test_dates),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
