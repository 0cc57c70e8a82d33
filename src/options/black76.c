/*
 * black76.c — Black-76 pricing, greeks, implied volatility, time to expiry.
 *
 * Invariants:
 *   - pure functions of their arguments: no state, no allocation, no clock;
 *   - the normal CDF goes through erfc() so that deep out-of-the-money
 *     prices keep their relative precision (1 - N(x) is never formed);
 *   - the implied-volatility solver always works on the OTM side's time
 *     value (put-call parity turns an ITM price into its OTM twin), and can
 *     only return a volatility inside [HH_B76_IV_MIN, HH_B76_IV_MAX].
 */
#include "options/black76.h"

#include "core/err.h"

#include <float.h>
#include <math.h>

#define SQRT1_2   0.70710678118654752440   /* 1/sqrt(2) */
#define INV_SQRT_2PI 0.39894228040143267794 /* 1/sqrt(2 pi) */

#define IV_XACC   1e-12    /* bracket width that ends the search */
#define IV_FREL   1e-14    /* relative price match that ends it */
#define IV_ITERS  200

double hh_b76_ncdf(double x)
{
    return 0.5 * erfc(-x * SQRT1_2);
}

double hh_b76_npdf(double x)
{
    return INV_SQRT_2PI * exp(-0.5 * x * x);
}

double hh_b76_forward(double spot, double r, double T)
{
    return spot * exp(r * T);
}

static bool is_option(enum hh_opt_type opt)
{
    return opt == HH_OPT_CE || opt == HH_OPT_PE;
}

/* Undiscounted Black price (discount factor 1) for sigma*sqrt(T) = s > 0. */
static double black_undiscounted(enum hh_opt_type opt, double F, double K, double s)
{
    double d1 = (log(F / K) + 0.5 * s * s) / s;
    double d2 = d1 - s;

    if (opt == HH_OPT_CE)
        return F * hh_b76_ncdf(d1) - K * hh_b76_ncdf(d2);
    return K * hh_b76_ncdf(-d2) - F * hh_b76_ncdf(-d1);
}

static double intrinsic(enum hh_opt_type opt, double F, double K)
{
    double v = opt == HH_OPT_CE ? F - K : K - F;

    return v > 0 ? v : 0;
}

double hh_b76_price(enum hh_opt_type opt, double F, double K, double sigma, double T,
                    double r)
{
    if (!is_option(opt) || !(F > 0) || !(K > 0))
        return NAN;
    if (T <= 0)
        return intrinsic(opt, F, K);
    if (sigma <= 0)
        return exp(-r * T) * intrinsic(opt, F, K);
    return exp(-r * T) * black_undiscounted(opt, F, K, sigma * sqrt(T));
}

int hh_b76_greeks(enum hh_opt_type opt, double F, double K, double sigma, double T,
                  double r, struct hh_b76_greeks *out)
{
    double sqt, s, d1, d2, D, nd1, price;

    *out = (struct hh_b76_greeks){ 0 };
    if (!is_option(opt) || !isfinite(F) || !isfinite(K) || !isfinite(sigma) ||
        !isfinite(T) || !isfinite(r) || F <= 0 || K <= 0 || sigma <= 0 || T <= 0)
        return HH_EINVAL;
    sqt = sqrt(T);
    s = sigma * sqt;
    d1 = (log(F / K) + 0.5 * s * s) / s;
    d2 = d1 - s;
    D = exp(-r * T);
    nd1 = hh_b76_npdf(d1);
    if (opt == HH_OPT_CE) {
        price = D * (F * hh_b76_ncdf(d1) - K * hh_b76_ncdf(d2));
        out->delta = D * hh_b76_ncdf(d1);
    } else {
        price = D * (K * hh_b76_ncdf(-d2) - F * hh_b76_ncdf(-d1));
        out->delta = -D * hh_b76_ncdf(-d1);
    }
    out->price = price;
    out->gamma = D * nd1 / (F * s);
    out->vega = D * F * nd1 * sqt;
    /* dV/dT = -r V + D F n(d1) sigma / (2 sqrt T), the same for calls and
     * puts; theta is its negative (time passing shortens T). */
    out->theta = -D * F * nd1 * sigma / (2 * sqt) + r * price;
    out->theta_day = out->theta / HH_B76_DAYS_PER_YEAR;
    return HH_OK;
}

int hh_b76_iv(enum hh_opt_type opt, double price, double F, double K, double T, double r,
              double *sigma)
{
    enum hh_opt_type otm = opt;
    double D, p, upper, tv, sqt, lo, hi, x, dx, dxold, f, df, flo, fhi;

    if (!is_option(opt) || !isfinite(price) || !isfinite(F) || !isfinite(K) ||
        !isfinite(T) || !isfinite(r) || F <= 0 || K <= 0 || T <= 0)
        return HH_EINVAL;
    D = exp(-r * T);
    p = price / D;                          /* undiscounted */
    upper = opt == HH_OPT_CE ? F : K;
    if (p < intrinsic(opt, F, K) || p >= upper)
        return HH_ERANGE;
    /* The OTM twin by parity: C - P = F - K (undiscounted). */
    tv = p;
    if (opt == HH_OPT_CE && F > K) {
        tv = p - (F - K);
        otm = HH_OPT_PE;
    } else if (opt == HH_OPT_PE && K > F) {
        tv = p - (K - F);
        otm = HH_OPT_CE;
    }
    /* A time value lost in the rounding of the intrinsic value (the parity
     * step above errs by a few ulps of F or K) says nothing about sigma. */
    if (!(tv > 8 * DBL_EPSILON * (F > K ? F : K)))
        return HH_ERANGE;

    sqt = sqrt(T);
    lo = HH_B76_IV_MIN;
    hi = HH_B76_IV_MAX;
    flo = black_undiscounted(otm, F, K, lo * sqt) - tv;
    fhi = black_undiscounted(otm, F, K, hi * sqt) - tv;
    if (flo > 0 || fhi < 0)
        return HH_ERANGE;
    if (flo == 0) {
        *sigma = lo;
        return HH_OK;
    }
    if (fhi == 0) {
        *sigma = hi;
        return HH_OK;
    }

    /* Start near the Brenner-Subrahmanyam ATM estimate, inside the bracket. */
    x = sqrt(2 * M_PI / T) * tv / F;
    if (!(x > lo && x < hi))
        x = 0.5 * (lo + hi);
    dxold = hi - lo;
    dx = dxold;
    for (int it = 0; it < IV_ITERS; it++) {
        double s = x * sqt;
        double d1 = (log(F / K) + 0.5 * s * s) / s;

        f = black_undiscounted(otm, F, K, s) - tv;
        df = F * hh_b76_npdf(d1) * sqt;     /* undiscounted vega */
        if (f == 0 || fabs(f) <= IV_FREL * tv)
            break;
        if (f < 0)
            lo = x;
        else
            hi = x;
        /* Newton when it lands inside the bracket and converges at least as
         * fast as bisection would (Numerical Recipes' rtsafe); else bisect. */
        if (!(df > 0) || (((x - hi) * df - f) * ((x - lo) * df - f) > 0) ||
            fabs(2 * f) > fabs(dxold * df)) {
            dxold = dx;
            dx = 0.5 * (hi - lo);
            x = lo + dx;
        } else {
            dxold = dx;
            dx = f / df;
            x -= dx;
        }
        if (fabs(dx) < IV_XACC || hi - lo < IV_XACC)
            break;
    }
    *sigma = x;
    return HH_OK;
}

double hh_b76_years(hh_time_t as_of, hh_date_t expiry, const struct hh_calendar *cal)
{
    hh_time_t close;

    if (cal && !hh_cal_is_trading_day(cal, HH_EXCH_NSE, expiry)) {
        hh_date_t prev = hh_cal_prev_trading_day(cal, HH_EXCH_NSE, expiry);

        if (prev != HH_DATE_NONE)
            expiry = prev;
    }
    close = hh_time_from_ist(expiry, HH_TOD(15, 30));
    return (double)(close - as_of) / ((double)HH_NS_PER_DAY * HH_B76_DAYS_PER_YEAR);
}

int hh_b76_to_fx(double rupees, int64_t *out)
{
    int64_t micro, paise;

    if (!isfinite(rupees) || fabs(rupees) >= 1e11)
        return HH_ERANGE;
    micro = llround(rupees * 1e6);
    if (micro >= 0)
        paise = (micro + 5000) / 10000;
    else
        paise = -((-micro + 5000) / 10000);
    *out = paise * HH_PAISA;
    return HH_OK;
}

double hh_b76_from_fx(int64_t v)
{
    return (double)v / (double)HH_FX_SCALE;
}
