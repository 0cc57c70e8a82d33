/*
 * test_fixed.c — exact numbers at the edges: largest values, negatives,
 * tick grids, exponents, "-0", 20-digit inputs, rounding half-up.
 */
#include "testutil.h"

#include "core/err.h"
#include "core/fixed.h"

static int64_t price(const char *s, int *rc)
{
    int64_t v = 0;

    *rc = hh_price_parse(s, strlen(s), HH_DEC_EXP | HH_DEC_PLUS, &v);
    return v;
}

static void expect_price(const char *s, int64_t want)
{
    int rc;
    int64_t v = price(s, &rc);

    if (rc != HH_OK)
        fail_msg("'%s': rc %d", s, rc);
    assert_int_equal(v, want);
}

static void expect_rc(const char *s, int want)
{
    int rc;

    price(s, &rc);
    if (rc != want)
        fail_msg("'%s': rc %d, wanted %d", s, rc, want);
}

static void test_parse_plain(void **state)
{
    (void)state;
    expect_price("23500.05", 235000500);
    expect_price("4099.5", 40995000);
    expect_price("0", 0);
    expect_price("-0", 0);
    expect_price("-0.00", 0);
    expect_price("+12.3400", 123400);
    expect_price("-4100.25", -41002500);
    expect_price("007.5", 75000);
    expect_price("0.0001", 1);
}

static void test_parse_exponent(void **state)
{
    (void)state;
    expect_price("1e3", 1000 * HH_FX_SCALE);
    expect_price("1E+3", 1000 * HH_FX_SCALE);
    expect_price("2.5e-2", 250);
    expect_price("23500.05e0", 235000500);
    expect_price("0.0000000e999999", 0);
    expect_price("1234e-4", 1234);
    expect_rc("1e-5", HH_EPREC);
    expect_rc("1e999", HH_ERANGE);
    expect_rc("1e", HH_ESYNTAX);
}

static void test_parse_limits(void **state)
{
    int64_t v;

    (void)state;
    /* Largest representable: 922337203685477.5807 */
    expect_price("922337203685477.5807", INT64_MAX);
    expect_price("-922337203685477.5807", -INT64_MAX);
    expect_rc("922337203685477.5808", HH_ERANGE);
    /* 20-digit inputs overflow, they never wrap. */
    expect_rc("99999999999999999999", HH_ERANGE);
    expect_rc("12345678901234567890.5", HH_ERANGE);
    assert_int_equal(hh_qty_parse("9223372036854775807", 19, &v), HH_OK);
    assert_int_equal(v, INT64_MAX);
    assert_int_equal(hh_qty_parse("9223372036854775808", 19, &v), HH_ERANGE);
    assert_int_equal(hh_qty_parse("18446744073709551616", 20, &v), HH_ERANGE);
}

static void test_parse_precision(void **state)
{
    int64_t v = -1;

    (void)state;
    expect_rc("1.00001", HH_EPREC);
    assert_int_equal(hh_price_parse("1.00009", 7, 0, &v), HH_EPREC);
    assert_int_equal(v, 10000);  /* truncated toward zero */
    assert_int_equal(hh_price_parse("-1.00009", 8, 0, &v), HH_EPREC);
    assert_int_equal(v, -10000);
    expect_price("1.000000000", 10000);  /* trailing zeros are exact */
    assert_true(hh_dec_is_positive("0.00001", 7));
    assert_false(hh_dec_is_positive("-0.00001", 8));
    assert_false(hh_dec_is_positive("-0", 2));
    assert_false(hh_dec_is_positive("0e5", 3));
}

static void test_parse_syntax(void **state)
{
    int64_t v;

    (void)state;
    expect_rc("", HH_ESYNTAX);
    expect_rc("-", HH_ESYNTAX);
    expect_rc(".5", HH_ESYNTAX);
    expect_rc("5.", HH_ESYNTAX);
    expect_rc("1.2.3", HH_ESYNTAX);
    expect_rc("1,5", HH_ESYNTAX);
    expect_rc("NaN", HH_ESYNTAX);
    expect_rc("inf", HH_ESYNTAX);
    expect_rc(" 1", HH_ESYNTAX);
    expect_rc("0x10", HH_ESYNTAX);
    assert_int_equal(hh_price_parse("+1", 2, 0, &v), HH_ESYNTAX);
    assert_int_equal(hh_price_parse("1e3", 3, 0, &v), HH_ESYNTAX);
}

/* An independent reading of the grammar without exponent or '+', for
 * comparison: the value at scale 10^digits in 128 bits, truncated toward
 * zero, and the code hh_dec_parse must give. */
static int oracle(const char *s, size_t n, int digits, int64_t *out)
{
    size_t i = 0, nint = 0, nfrac = 0;
    bool neg = false, inexact = false;
    __int128 v = 0;

    if (i < n && s[i] == '-')
        neg = true, i++;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, nint++)
        if (v < ((__int128)1 << 100))
            v = v * 10 + (s[i] - '0');
    if (nint == 0)
        return HH_ESYNTAX;
    if (i < n && s[i] == '.') {
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, nfrac++) {
            if ((int)nfrac < digits)
                v = v * 10 + (s[i] - '0');
            else if (s[i] != '0')
                inexact = true;
        }
        if (nfrac == 0)
            return HH_ESYNTAX;
    }
    if (i < n)
        return HH_ESYNTAX;
    for (int k = (int)(nfrac < (size_t)digits ? nfrac : (size_t)digits); k < digits; k++)
        v *= 10;
    if (nint > 30 || v > INT64_MAX)
        return HH_ERANGE;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return inexact ? HH_EPREC : HH_OK;
}

/* Generated decimals of every length, sign and number of places, at every
 * scale: hh_dec_parse (plain fast path or general parser) agrees with the
 * oracle. */
static void test_parse_against_oracle(void **state)
{
    static const char alphabet[] = "0000123456789.-";
    uint64_t seed = 12345;

    (void)state;
    for (int round = 0; round < 200000; round++) {
        char buf[32];
        size_t n;
        int digits = round % 10;
        int64_t a = 0, b = 0;
        int ra, rb;

        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        n = 1 + seed % 24;
        for (size_t i = 0; i < n; i++)
            buf[i] = alphabet[(seed >> (i * 5 % 60)) % (sizeof alphabet - 1)];
        if (seed % 3 == 0)                       /* a well-formed number, often */
            n = (size_t)snprintf(buf, sizeof buf, "%s%llu.%0*llu", seed % 5 ? "" : "-",
                                 (unsigned long long)(seed >> 20) % 1000000000000ULL,
                                 (int)(seed % 11), (unsigned long long)(seed >> 40) % 100000);
        ra = hh_dec_parse(buf, n, digits, 0, &a);
        rb = oracle(buf, n, digits, &b);
        if (ra != rb || ((ra == HH_OK || ra == HH_EPREC) && a != b))
            fail_msg("'%.*s' at %d digits: %d/%lld, oracle %d/%lld", (int)n, buf, digits, ra,
                     (long long)a, rb, (long long)b);
    }
}

static void test_ratio(void **state)
{
    int64_t v;

    (void)state;
    assert_int_equal(hh_ratio_parse("0.0003503", 9, 0, &v), HH_OK);
    assert_int_equal(v, 350300);
    assert_int_equal(hh_ratio_parse("1", 1, 0, &v), HH_OK);
    assert_int_equal(v, HH_RATIO_SCALE);
    assert_int_equal(hh_ratio_parse("0.85", 4, 0, &v), HH_OK);
    assert_int_equal(v, 850000000);
}

static void expect_fmt(int64_t v, int places, const char *want)
{
    char buf[64];

    hh_fx_format(buf, sizeof buf, v, places);
    assert_string_equal(buf, want);
}

static void test_format(void **state)
{
    (void)state;
    expect_fmt(40995000, 2, "4099.50");
    expect_fmt(0, 2, "0.00");
    expect_fmt(-205000, 2, "-20.50");
    expect_fmt(26270, 2, "2.63");        /* 2.627 -> 2.63 */
    expect_fmt(26250, 2, "2.63");        /* tie away from zero */
    expect_fmt(-26250, 2, "-2.63");
    expect_fmt(26249, 2, "2.62");
    expect_fmt(49, 2, "0.00");
    expect_fmt(-49, 2, "0.00");          /* never "-0.00" */
    expect_fmt(50, 2, "0.01");
    expect_fmt(12345, 0, "1");
    expect_fmt(12345, 4, "1.2345");
    expect_fmt(INT64_MAX, 4, "922337203685477.5807");
    expect_fmt(-INT64_MAX, 2, "-922337203685477.58");
    expect_fmt(INT64_MIN, 2, "-922337203685477.58");
    expect_fmt(INT64_MAX - 100, 2, "922337203685477.57");   /* the last rounded in 64 bits */
    expect_fmt(INT64_MAX - 49, 2, "922337203685477.58");    /* up, through 128 bits */
}

/* hh_dec_format against a 128-bit oracle: round half away from zero to
 * `places`, then print integer and fraction (no "-" for a zero). */
static void format_oracle(char *out, size_t cap, int64_t v, int digits, int places)
{
    __int128 q = 1, unit = 1, mag = v < 0 ? -(__int128)v : v;

    for (int i = 0; i < digits - places; i++)
        q *= 10;
    for (int i = 0; i < digits; i++)
        unit *= 10;
    mag = (mag + q / 2) / q * q;   /* q even or 1: ties go up */
    if (places)
        snprintf(out, cap, "%s%llu.%0*llu", v < 0 && mag ? "-" : "",
                 (unsigned long long)(mag / unit), places, (unsigned long long)(mag % unit / q));
    else
        snprintf(out, cap, "%s%llu", v < 0 && mag ? "-" : "", (unsigned long long)(mag / unit));
}

static void test_format_against_oracle(void **state)
{
    uint64_t seed = 987654321;

    (void)state;
    for (int i = 0; i < 200000; i++) {
        int digits = i % 3 == 0 ? 0 : i % 3 == 1 ? 4 : 9, places;   /* 0 and 4: own paths */
        int64_t v;
        char got[64], want[64];

        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        places = (int)(seed % (uint64_t)(digits + 1));
        /* magnitudes of every size, often a few units around a tie */
        v = (int64_t)(seed >> (seed % 64)) % (INT64_MAX - 1000000000000LL);
        if (seed % 7 == 0)
            v = v / 1000 * 1000 + 500 - (int64_t)(seed % 3);
        if (seed % 2)
            v = -v;
        hh_dec_format(got, sizeof got, v, digits, places);
        format_oracle(want, sizeof want, v, digits, places);
        if (strcmp(got, want) != 0)
            fail_msg("%lld at %d digits, %d places: '%s', oracle '%s'", (long long)v, digits,
                     places, got, want);
    }
}

static void test_round(void **state)
{
    (void)state;
    /* 0.05 tick grid: 500 fx units */
    assert_int_equal(hh_fx_round(235000250, 500), 235000500);  /* .025 -> .05 */
    assert_int_equal(hh_fx_round(235000249, 500), 235000000);
    assert_int_equal(hh_fx_round(-250, 500), -500);
    assert_int_equal(hh_fx_round(-249, 500), 0);
    assert_int_equal(hh_fx_floor(-1, 500), -500);
    assert_int_equal(hh_fx_floor(499, 500), 0);
    assert_int_equal(hh_fx_ceil(1, 500), 500);
    assert_int_equal(hh_fx_ceil(-499, 500), 0);
    assert_int_equal(235000500 % 500, 0);
}

static void test_products(void **state)
{
    int64_t v;

    (void)state;
    /* 75 x 100.00 = 7,500.00 */
    assert_int_equal(hh_fx_mul_qty(100 * HH_FX_SCALE, 75, &v), HH_OK);
    assert_int_equal(v, 7500 * HH_FX_SCALE);
    assert_int_equal(hh_fx_mul_qty(INT64_MAX / 2, 3, &v), HH_EOVERFLOW);
    /* exchange txn 0.03503 % of 7,500 = 2.62725 -> 2.63 (to the paisa) */
    assert_int_equal(hh_fx_mul_ratio(7500 * HH_FX_SCALE, 350300, HH_PAISA, &v), HH_OK);
    assert_int_equal(v, 26300);
    /* SEBI 0.0001 % of 7,500 = 0.0075 -> 0.01 */
    assert_int_equal(hh_fx_mul_ratio(7500 * HH_FX_SCALE, 1000, HH_PAISA, &v), HH_OK);
    assert_int_equal(v, 100);
    /* Product beyond int64 is an error, not a wrap. */
    assert_int_equal(hh_fx_mul_ratio(INT64_MAX, 2 * HH_RATIO_SCALE, 1, &v), HH_EOVERFLOW);
}

static void test_i128_division(void **state)
{
    (void)state;
    assert_true(hh_i128_div_floor(7, 2) == 3);
    assert_true(hh_i128_div_floor(-7, 2) == -4);
    assert_true(hh_i128_div_floor(7, -2) == -4);
    assert_true(hh_i128_div_round(5, 2) == 3);
    assert_true(hh_i128_div_round(-5, 2) == -3);
    assert_true(hh_i128_div_round(-4, 3) == -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_plain),
        cmocka_unit_test(test_parse_exponent),
        cmocka_unit_test(test_parse_limits),
        cmocka_unit_test(test_parse_precision),
        cmocka_unit_test(test_parse_syntax),
        cmocka_unit_test(test_parse_against_oracle),
        cmocka_unit_test(test_ratio),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_format_against_oracle),
        cmocka_unit_test(test_round),
        cmocka_unit_test(test_products),
        cmocka_unit_test(test_i128_division),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
