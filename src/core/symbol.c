/*
 * symbol.c — NSE-style trading-symbol parsing (DOMAIN.md §2).
 *
 * A symbol is read from the right: the type suffix (CE, PE, FUT), then the
 * strike, then the expiry code, and what is left is the underlying.
 *
 *   monthly option   U YY MON STRIKE (CE|PE)      NIFTY25JAN24000CE
 *   weekly option    U YY M DD STRIKE (CE|PE)     NIFTY2510924000CE
 *                    (M = 1..9, O, N, D)          NIFTY24D1924000CE
 *   monthly future   U YY MON FUT                 NIFTY25JANFUT
 *   OpenAlgo future  U DD MON YY FUT              BANKNIFTY24APR24FUT
 *   OpenAlgo option  U DD MON YY STRIKE (CE|PE)   NIFTY28MAR2420800CE
 *   anything else    an equity (or index) name    RELIANCE, M&M, NIFTY 50
 *
 * Rules for the ambiguous cases (documented contract, tested):
 *
 * 1. OpenAlgo options look exactly like Zerodha monthly options with a
 *    longer strike: NIFTY28MAR2420800CE reads as "2028 March, strike
 *    2420800".  The monthly reading wins whenever it is valid; the OpenAlgo
 *    reading is tried only when it is not (e.g. a strike with a leading
 *    zero).  Callers with OpenAlgo symbols must use master data.
 *
 * 2. A weekly option's YY M DD STRIKE is one run of digits, so an underlying
 *    that ends in digits (NIFTYNXT50 + 2510924000) cannot be told apart by
 *    syntax alone.  The underlying is first assumed to end at its last
 *    non-digit; while that does not give a valid weekly expiry, one more
 *    digit moves into the underlying.  A valid weekly expiry is a real date
 *    on a Monday..Friday in 2016 or later (weekly contracts did not exist
 *    before).  So NIFTYNXT502510924000CE is NIFTYNXT50, 2025-01-09, 24000.
 *    The price of the rule: a malformed weekly such as NIFTY2513224000CE
 *    (day 32) reads as underlying NIFTY2, 2051-03-22, strike 4000 — a
 *    contract no master file knows, so nothing can trade it.
 *    The instrument loader passes the underlying it knows from the master
 *    file (hh_sym__parse_known) and so never guesses.
 *
 * 3. A symbol ending in CE/PE is an option only when a digit (or a point)
 *    precedes the suffix (RELIANCE is an equity); one ending in FUT is a future only when
 *    a digit or a month abbreviation preceded by a digit precedes it.  Such
 *    derivative-shaped symbols that do not parse (impossible date, missing
 *    underlying) are errors, not equities.
 *
 * Years are 2000 + YY.  Strikes are decimals with digits on both sides of
 * an optional point, no leading zero, > 0, at most 4 places.
 */
#include "core/instrument_int.h"

#include <string.h>

#define WEEKLY_MIN_YEAR 2016

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

/* JAN..DEC (upper case) -> 1..12, else 0. */
static int month_abbr(const char *p)
{
    static const char tab[] = "JANFEBMARAPRMAYJUNJULAUGSEPOCTNOVDEC";

    for (int i = 0; i < 12; i++)
        if (memcmp(p, tab + 3 * i, 3) == 0)
            return i + 1;
    return 0;
}

/* Weekly month code: 1..9, O, N, D -> 1..12, else 0. */
static int weekly_month(char c)
{
    if (c >= '1' && c <= '9')
        return c - '0';
    return c == 'O' ? 10 : c == 'N' ? 11 : c == 'D' ? 12 : 0;
}

static int two(const char *p)
{
    return (p[0] - '0') * 10 + (p[1] - '0');
}

static bool two_digits(const char *p)
{
    return is_digit(p[0]) && is_digit(p[1]);
}

/* A derivative's underlying: 1..HH_UNDERLYING_MAX-1 bytes of A-Z 0-9 & - _
 * holding at least one letter. */
static bool underlying_ok(const char *p, size_t n)
{
    bool letter = false;

    if (n == 0 || n >= HH_UNDERLYING_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];

        if (is_upper(c))
            letter = true;
        else if (!is_digit(c) && c != '&' && c != '-' && c != '_')
            return false;
    }
    return letter;
}

/* A strike: digits [. digits], no leading zero, > 0, <= 4 places. */
static bool strike_ok(const char *p, size_t n, hh_price_t *out)
{
    size_t dot = n;

    if (n == 0 || !is_digit(p[0]) || !is_digit(p[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '.') {
            if (dot != n)
                return false;
            dot = i;
        } else if (!is_digit(p[i])) {
            return false;
        }
    }
    if (p[0] == '0' && dot != 1)
        return false;
    if (hh_price_parse(p, n, 0, out) != HH_OK || *out <= 0)
        return false;
    return true;
}

/* Fill the expiry fields; false when the date is impossible. */
static bool set_date(struct hh_sym *o, int yy, int m, int d)
{
    int y = 2000 + yy;

    if (m < 1 || m > 12 || (d != 0 && !hh_date_valid_ymd(y, m, d)))
        return false;
    o->year = y;
    o->month = m;
    o->day = d;
    return true;
}

/* A plausible weekly expiry (rule 2). */
static bool weekly_date_ok(int yy, int m, int d)
{
    int y = 2000 + yy;

    return y >= WEEKLY_MIN_YEAR && hh_date_valid_ymd(y, m, d) &&
           hh_date_weekday(hh_date_from_ymd(y, m, d)) <= 5;
}

static void set_underlying(struct hh_sym *o, const char *p, size_t n)
{
    memcpy(o->underlying, p, n);
    o->underlying[n] = '\0';
}

/* ulen: required underlying length, 0 = any. */
static bool ulen_ok(size_t have, size_t want)
{
    return want == 0 || have == want;
}

/* Option body b[0..n) (the symbol without CE/PE). */
static bool parse_option(const char *b, size_t n, size_t ulen, struct hh_sym *o)
{
    size_t i = n;
    hh_price_t strike;
    int m;

    while (i > 0 && (is_digit(b[i - 1]) || b[i - 1] == '.'))
        i--;
    /* b[i..n) is the trailing run of digits and points. */

    /* Monthly: U YY MON STRIKE. */
    if (i >= 6 && (m = month_abbr(b + i - 3)) && two_digits(b + i - 5) &&
        ulen_ok(i - 5, ulen) && underlying_ok(b, i - 5) &&
        strike_ok(b + i, n - i, &strike) && set_date(o, two(b + i - 5), m, 0)) {
        set_underlying(o, b, i - 5);
        o->strike = strike;
        o->weekly = false;
        return true;
    }

    /* Weekly with a letter month: U YY (O|N|D) DD STRIKE. */
    if (i >= 4 && n - i >= 3 && (b[i - 1] == 'O' || b[i - 1] == 'N' || b[i - 1] == 'D') &&
        two_digits(b + i - 3) && two_digits(b + i) && ulen_ok(i - 3, ulen) &&
        underlying_ok(b, i - 3) && strike_ok(b + i + 2, n - i - 2, &strike) &&
        weekly_date_ok(two(b + i - 3), weekly_month(b[i - 1]), two(b + i))) {
        set_date(o, two(b + i - 3), weekly_month(b[i - 1]), two(b + i));
        set_underlying(o, b, i - 3);
        o->strike = strike;
        o->weekly = true;
        return true;
    }

    /* Weekly with a digit month: U YY M DD STRIKE, all one run (rule 2). */
    for (size_t u = i; u > 0 && n - u >= 6; u++) {
        const char *r = b + u;

        if (u > i && !is_digit(b[u - 1]))
            break;              /* a point cannot move into the underlying */
        if (ulen && u > ulen)
            break;
        if (!ulen_ok(u, ulen) || !underlying_ok(b, u))
            continue;
        if (!two_digits(r) || !is_digit(r[2]) || r[2] == '0' || !two_digits(r + 3))
            continue;
        if (!weekly_date_ok(two(r), r[2] - '0', two(r + 3)) ||
            !strike_ok(r + 5, n - u - 5, &strike))
            continue;
        set_date(o, two(r), r[2] - '0', two(r + 3));
        set_underlying(o, b, u);
        o->strike = strike;
        o->weekly = true;
        return true;
    }

    /* OpenAlgo: U DD MON YY STRIKE (rule 1: only when monthly failed). */
    if (i >= 6 && (m = month_abbr(b + i - 3)) && two_digits(b + i - 5) &&
        n - i >= 3 && two_digits(b + i) && ulen_ok(i - 5, ulen) &&
        underlying_ok(b, i - 5) && strike_ok(b + i + 2, n - i - 2, &strike) &&
        two(b + i - 5) >= 1 && set_date(o, two(b + i), m, two(b + i - 5))) {
        set_underlying(o, b, i - 5);
        o->strike = strike;
        o->weekly = false;
        return true;
    }
    return false;
}

/* Future body b[0..n) (the symbol without FUT). */
static bool parse_future(const char *b, size_t n, size_t ulen, struct hh_sym *o)
{
    int m;

    /* Monthly: U YY MON. */
    if (n >= 6 && (m = month_abbr(b + n - 3)) && two_digits(b + n - 5) &&
        ulen_ok(n - 5, ulen) && underlying_ok(b, n - 5) &&
        set_date(o, two(b + n - 5), m, 0)) {
        set_underlying(o, b, n - 5);
        return true;
    }
    /* OpenAlgo: U DD MON YY. */
    if (n >= 8 && two_digits(b + n - 2) && (m = month_abbr(b + n - 5)) &&
        two_digits(b + n - 7) && ulen_ok(n - 7, ulen) && underlying_ok(b, n - 7) &&
        two(b + n - 7) >= 1 && set_date(o, two(b + n - 2), m, two(b + n - 7))) {
        set_underlying(o, b, n - 7);
        return true;
    }
    return false;
}

/* A plain (equity or index) name: A-Z 0-9 & - _ . and inner spaces. */
static bool plain_ok(const char *s, size_t n)
{
    if (n == 0 || n >= HH_UNDERLYING_MAX || s[0] == ' ' || s[n - 1] == ' ')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (!is_upper(c) && !is_digit(c) && c != '&' && c != '-' && c != '_' &&
            c != '.' && c != ' ')
            return false;
    }
    return true;
}

int hh_sym__parse_known(const char *s, size_t n, size_t ulen, struct hh_sym *out)
{
    struct hh_sym o;

    memset(&o, 0, sizeof o);
    o.type = HH_INST_EQ;
    o.opt = HH_OPT_NONE;
    if (!s || n == 0 || n >= HH_SYMBOL_MAX || ulen > n)
        return HH_ESYNTAX;

    if (n > 2 && (memcmp(s + n - 2, "CE", 2) == 0 || memcmp(s + n - 2, "PE", 2) == 0) &&
        (is_digit(s[n - 3]) || s[n - 3] == '.')) {
        if (!parse_option(s, n - 2, ulen, &o))
            return HH_ESYNTAX;
        o.type = HH_INST_OPT;
        o.opt = s[n - 2] == 'C' ? HH_OPT_CE : HH_OPT_PE;
        *out = o;
        return HH_OK;
    }
    if (n > 3 && memcmp(s + n - 3, "FUT", 3) == 0 &&
        (is_digit(s[n - 4]) || (n > 6 && month_abbr(s + n - 6) && is_digit(s[n - 7])))) {
        if (!parse_future(s, n - 3, ulen, &o))
            return HH_ESYNTAX;
        o.type = HH_INST_FUT;
        *out = o;
        return HH_OK;
    }
    if (ulen != 0 && ulen != n)
        return HH_ESYNTAX;
    if (!plain_ok(s, n))
        return HH_ESYNTAX;
    set_underlying(&o, s, n);
    *out = o;
    return HH_OK;
}

int hh_sym_parse(const char *s, size_t n, struct hh_sym *out)
{
    return hh_sym__parse_known(s, n, 0, out);
}

int hh_sym_parse_strike(const char *s, size_t n, hh_price_t *out)
{
    struct hh_sym o;
    int rc = hh_sym_parse(s, n, &o);

    if (rc)
        return rc;
    if (o.type != HH_INST_OPT)
        return HH_ESYNTAX;
    *out = o.strike;
    return HH_OK;
}
