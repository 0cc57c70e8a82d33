/*
 * fixed.h — exact fixed-point numbers for prices, quantities and money.
 *
 * No binary floating point ever touches a price, a quantity, a fee or a P&L.
 * Decimal text is parsed digit by digit straight into scaled integers, and
 * products go through 128-bit intermediates; overflow and digits the type
 * cannot hold are reported as errors, never wrapped or silently rounded.
 *
 *   hh_price_t, hh_money_t   int64, 1/10,000 rupee  (HH_FX_SCALE)
 *   hh_qty_t                 int64, whole units (shares, contracts x lot)
 *   hh_ratio_t               int64, 1/1,000,000,000 (HH_RATIO_SCALE):
 *                            rates, fractions, multipliers, confidence
 *
 * Prices and money share one scale so that price x qty is money without a
 * rescale.  Four places hold every Indian tick (0.0025 for currency
 * derivatives is the finest); outputs are printed with two.
 *
 * Rounding is "half-up" in the commercial sense (ties away from zero), the
 * way Python's Decimal ROUND_HALF_UP and contract notes round.
 */
#ifndef HH_FIXED_H
#define HH_FIXED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef int64_t hh_price_t;   /* 1/10,000 rupee */
typedef int64_t hh_money_t;   /* 1/10,000 rupee */
typedef int64_t hh_qty_t;     /* units */
typedef int64_t hh_ratio_t;   /* 1/1e9 */

#define HH_FX_DIGITS     4
#define HH_FX_SCALE      10000LL
#define HH_PAISA         (HH_FX_SCALE / 100)     /* one paisa in fx units */
#define HH_RUPEE         HH_FX_SCALE
#define HH_RATIO_DIGITS  9
#define HH_RATIO_SCALE   1000000000LL

/* Flags for hh_dec_parse(). */
enum {
    HH_DEC_EXP  = 1u << 0,  /* accept an exponent: 1e3, 2.5E-2 (JSON numbers) */
    HH_DEC_PLUS = 1u << 1,  /* accept a leading '+' */
};

/*
 * Parse decimal text s[0..n) into an integer scaled by 10^digits.
 * Grammar: [+|-] digits [ '.' digits ] [ (e|E) [+|-] digits ], where '+' and
 * the exponent need their flags.  Leading zeros are accepted.
 * Returns HH_OK; HH_ESYNTAX (not a number); HH_ERANGE (does not fit int64);
 * HH_EPREC (non-zero digits below 10^-digits: *out then holds the value
 * truncated toward zero, and *out == 0 tells a caller nothing about sign —
 * use hh_dec_is_positive() for that).  "-0" parses as 0.
 */
int hh_dec_parse(const char *s, size_t n, int digits, unsigned flags, int64_t *out);

/* True when the decimal text denotes a number > 0, exactly (even when it has
 * more places than any scale).  Text must already have parsed (rc OK/EPREC). */
bool hh_dec_is_positive(const char *s, size_t n);

/* Convenience parsers at the standard scales (flags as above). */
int hh_price_parse(const char *s, size_t n, unsigned flags, hh_price_t *out);
int hh_ratio_parse(const char *s, size_t n, unsigned flags, hh_ratio_t *out);
int hh_qty_parse(const char *s, size_t n, hh_qty_t *out); /* whole units only */

/*
 * Format v (scaled by 10^HH_FX_DIGITS) with `places` decimals (0..4), rounded
 * half-up.  Writes at most cap bytes including NUL; returns the length.
 */
size_t hh_fx_format(char *buf, size_t cap, int64_t v, int places);

/* Format any scaled integer v with `digits` implied decimals, printing
 * `places` (<= digits) of them, rounded half-up. */
size_t hh_dec_format(char *buf, size_t cap, int64_t v, int digits, int places);

/* hh_fx_format() onto f (a CSV field, a table cell). */
void hh_fx_put(FILE *f, int64_t v, int places);

/* Round v to a multiple of quantum (> 0), ties away from zero. */
int64_t hh_fx_round(int64_t v, int64_t quantum);

/* Round toward -infinity / +infinity to a multiple of quantum (> 0). */
int64_t hh_fx_floor(int64_t v, int64_t quantum);
int64_t hh_fx_ceil(int64_t v, int64_t quantum);

/* price x qty -> money; HH_EOVERFLOW when it does not fit. */
int hh_fx_mul_qty(hh_price_t p, hh_qty_t q, hh_money_t *out);

/* v x r (a ratio) rounded half-up to a multiple of quantum (> 0), from the
 * exact 128-bit product: one rounding, no intermediate truncation. */
int hh_fx_mul_ratio(int64_t v, hh_ratio_t r, int64_t quantum, int64_t *out);

/* Division of 128-bit integers: floor, and half-up (ties away from zero).
 * d must be non-zero; results are returned as __int128. */
__int128 hh_i128_div_floor(__int128 n, __int128 d);
__int128 hh_i128_div_round(__int128 n, __int128 d);

/* True when v fits an int64 (for checking __int128 results). */
static inline bool hh_i128_fits(__int128 v)
{
    return v >= INT64_MIN && v <= INT64_MAX;
}

#endif
