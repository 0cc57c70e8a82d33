/*
 * fixed.c — exact decimal parsing, formatting and rounding.
 *
 * Invariant: no function here converts through double.  Parsing walks the
 * digit string once; an exponent only moves the decimal point.
 */
#include "core/fixed.h"

#include "core/err.h"

#include <string.h>

/* Largest exponent magnitude we bother to count; beyond it any non-zero
 * mantissa is out of range (or entirely below the scale). */
#define DEC_EXP_CAP 100000

struct dec_text {
    const char *dig;   /* mantissa digits: integer part then fraction */
    size_t nint;       /* digits before the point */
    size_t nfrac;      /* digits after the point (stored right after, see below) */
    const char *frac;  /* fraction digits */
    long exp;          /* decimal exponent, saturated to +-DEC_EXP_CAP */
    bool neg;
    bool allzero;      /* every mantissa digit is 0 */
};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int dec_scan(const char *s, size_t n, unsigned flags, struct dec_text *t)
{
    size_t i = 0;

    memset(t, 0, sizeof *t);
    t->allzero = true;
    if (i < n && (s[i] == '-' || (s[i] == '+' && (flags & HH_DEC_PLUS)))) {
        t->neg = s[i] == '-';
        i++;
    }
    t->dig = s + i;
    while (i < n && is_digit(s[i])) {
        if (s[i] != '0')
            t->allzero = false;
        i++;
        t->nint++;
    }
    if (t->nint == 0)
        return HH_ESYNTAX;
    if (i < n && s[i] == '.') {
        i++;
        t->frac = s + i;
        while (i < n && is_digit(s[i])) {
            if (s[i] != '0')
                t->allzero = false;
            i++;
            t->nfrac++;
        }
        if (t->nfrac == 0)
            return HH_ESYNTAX;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E') && (flags & HH_DEC_EXP)) {
        bool eneg = false;
        size_t nd = 0;

        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            eneg = s[i++] == '-';
        while (i < n && is_digit(s[i])) {
            if (t->exp < DEC_EXP_CAP)
                t->exp = t->exp * 10 + (s[i] - '0');
            i++;
            nd++;
        }
        if (nd == 0)
            return HH_ESYNTAX;
        if (t->exp > DEC_EXP_CAP)
            t->exp = DEC_EXP_CAP;
        if (eneg)
            t->exp = -t->exp;
    }
    return i == n ? HH_OK : HH_ESYNTAX;
}

static const int64_t pow10_tab[] = {
    1LL, 10LL, 100LL, 1000LL, 10000LL, 100000LL, 1000000LL, 10000000LL,
    100000000LL, 1000000000LL, 10000000000LL, 100000000000LL, 1000000000000LL,
};

/* k-th mantissa digit (integer part, then fraction), or 0 past the end. */
static int dec_digit(const struct dec_text *t, long k)
{
    if (k < 0)
        return 0;
    if ((size_t)k < t->nint)
        return t->dig[k] - '0';
    k -= (long)t->nint;
    if ((size_t)k < t->nfrac)
        return t->frac[k] - '0';
    return 0;
}

/*
 * The shape nearly every number has: [-]I[.F], I at least one digit, F one
 * to `digits` digits, I and the scale together at most 18 digits — so the
 * value is exact and below 10^18, and equals what the general parser
 * below gives.  false leaves the text to it (exponents, '+', more places,
 * anything malformed).
 */
static bool dec_plain(const char *s, size_t n, int digits, int64_t *out)
{
    bool neg = n > 0 && s[0] == '-';
    size_t i = neg, nint, nfrac = 0;
    uint64_t v = 0;
    unsigned d;

    for (; i < n && (d = (unsigned char)s[i] - '0') <= 9; i++)
        v = v * 10 + d;                      /* wraps when too long: refused below */
    nint = i - neg;
    if (digits < 0 || digits > 12 || nint == 0 || nint + (size_t)digits > 18)
        return false;
    if (i < n) {
        if (s[i] != '.')
            return false;
        for (i++; i < n && (d = (unsigned char)s[i] - '0') <= 9; i++, nfrac++)
            v = v * 10 + d;
        if (nfrac == 0 || nfrac > (size_t)digits || i < n)
            return false;
    }
    v *= (uint64_t)pow10_tab[(size_t)digits - nfrac];
    *out = neg ? -(int64_t)v : (int64_t)v;
    return true;
}

int hh_dec_parse(const char *s, size_t n, int digits, unsigned flags, int64_t *out)
{
    struct dec_text t;
    long ndig, point, slots, k;
    uint64_t acc = 0;
    bool inexact = false;
    int rc;

    if (dec_plain(s, n, digits, out))
        return HH_OK;
    rc = dec_scan(s, n, flags, &t);
    if (rc)
        return rc;
    if (t.allzero) {
        *out = 0;
        return HH_OK;
    }
    ndig = (long)(t.nint + t.nfrac);
    point = (long)t.nint + t.exp;     /* digits left of the decimal point */
    slots = point + digits;           /* digits that land at or above 10^-digits */
    if (slots > 40)
        return HH_ERANGE;
    for (k = 0; k < slots; k++) {
        int d = dec_digit(&t, k);

        if (acc > (UINT64_MAX - (uint64_t)d) / 10)
            return HH_ERANGE;
        acc = acc * 10 + (uint64_t)d;
    }
    for (k = slots < 0 ? 0 : slots; k < ndig; k++) {
        if (dec_digit(&t, k) != 0) {
            inexact = true;
            break;
        }
    }
    if (acc > (uint64_t)INT64_MAX)
        return HH_ERANGE;
    *out = t.neg ? -(int64_t)acc : (int64_t)acc;
    return inexact ? HH_EPREC : HH_OK;
}

bool hh_dec_is_positive(const char *s, size_t n)
{
    struct dec_text t;

    if (dec_scan(s, n, HH_DEC_EXP | HH_DEC_PLUS, &t))
        return false;
    return !t.neg && !t.allzero;
}

int hh_price_parse(const char *s, size_t n, unsigned flags, hh_price_t *out)
{
    return hh_dec_parse(s, n, HH_FX_DIGITS, flags, out);
}

int hh_ratio_parse(const char *s, size_t n, unsigned flags, hh_ratio_t *out)
{
    return hh_dec_parse(s, n, HH_RATIO_DIGITS, flags, out);
}

int hh_qty_parse(const char *s, size_t n, hh_qty_t *out)
{
    return hh_dec_parse(s, n, 0, 0, out);
}

/*
 * The text of v, with `digits` implied decimals, rounded half away from
 * zero to `places` (q = 10^(digits - places), unit = 10^digits), written
 * backwards from end; returns where it starts.  Inlined with constant q and
 * unit for the common formats, so the divisions become multiplications.
 */
static inline __attribute__((always_inline)) char *dec_text(char *end, int64_t v,
                                                            uint64_t unit, uint64_t q,
                                                            int places)
{
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, ip, fp, rem;
    char *p = end;
    bool neg;

    if (mag <= (uint64_t)INT64_MAX - q) {
        /* hh_fx_round(v, q) on the magnitude, with no 128-bit division:
         * the result stays below 2^63 */
        rem = mag % q;
        mag = mag - rem + (2 * rem >= q ? q : 0);
        neg = v < 0 && mag;
    } else {
        v = hh_fx_round(v, (int64_t)q);
        mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        neg = v < 0;
    }
    ip = mag / unit;
    fp = mag % unit / q;
    for (int i = 0; i < places; i++) {
        *--p = (char)('0' + fp % 10);
        fp /= 10;
    }
    if (places > 0)
        *--p = '.';
    do {
        *--p = (char)('0' + ip % 10);
        ip /= 10;
    } while (ip);
    if (neg)
        *--p = '-';
    return p;
}

size_t hh_dec_format(char *buf, size_t cap, int64_t v, int digits, int places)
{
    char tmp[48], *end = tmp + sizeof tmp, *p;
    size_t len;

    HH_ASSERT(digits >= 0 && digits <= 12 && places >= 0 && places <= digits);
    if (digits == HH_FX_DIGITS && places == 2)          /* prices and money */
        p = dec_text(end, v, 10000, 100, 2);
    else if (digits == 0)                               /* integers */
        p = dec_text(end, v, 1, 1, 0);
    else
        p = dec_text(end, v, (uint64_t)pow10_tab[digits],
                     (uint64_t)pow10_tab[digits - places], places);
    len = (size_t)(end - p);
    if (cap) {
        size_t c = len < cap - 1 ? len : cap - 1;

        memcpy(buf, p, c);
        buf[c] = '\0';
    }
    return len;
}

size_t hh_fx_format(char *buf, size_t cap, int64_t v, int places)
{
    return hh_dec_format(buf, cap, v, HH_FX_DIGITS, places);
}

void hh_fx_put(FILE *f, int64_t v, int places)
{
    char b[48];

    fwrite(b, 1, hh_fx_format(b, sizeof b, v, places), f);
}

int64_t hh_fx_round(int64_t v, int64_t quantum)
{
    return (int64_t)hh_i128_div_round(v, quantum) * quantum;
}

int64_t hh_fx_floor(int64_t v, int64_t quantum)
{
    return (int64_t)hh_i128_div_floor(v, quantum) * quantum;
}

int64_t hh_fx_ceil(int64_t v, int64_t quantum)
{
    return -(int64_t)hh_i128_div_floor(-(__int128)v, quantum) * quantum;
}

int hh_fx_mul_qty(hh_price_t p, hh_qty_t q, hh_money_t *out)
{
    return __builtin_mul_overflow(p, q, out) ? HH_EOVERFLOW : HH_OK;
}

int hh_fx_mul_ratio(int64_t v, hh_ratio_t r, int64_t quantum, int64_t *out)
{
    __int128 n = (__int128)v * r;
    __int128 q = hh_i128_div_round(n, (__int128)HH_RATIO_SCALE * quantum) * quantum;

    if (!hh_i128_fits(q))
        return HH_EOVERFLOW;
    *out = (int64_t)q;
    return HH_OK;
}

__int128 hh_i128_div_floor(__int128 n, __int128 d)
{
    __int128 q = n / d, r = n % d;

    if (r != 0 && ((r < 0) != (d < 0)))
        q--;
    return q;
}

__int128 hh_i128_div_round(__int128 n, __int128 d)
{
    bool neg = (n < 0) != (d < 0);
    __int128 an = n < 0 ? -n : n, ad = d < 0 ? -d : d;
    __int128 q = an / ad, r = an % ad;

    if (2 * r >= ad)
        q++;
    return neg ? -q : q;
}
