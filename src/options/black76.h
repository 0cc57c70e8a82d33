/*
 * black76.h — Black-76 option pricing, greeks, implied volatility, time to
 * expiry.
 *
 * Conventions (docs/OPTIONS.md has the long form):
 *   F      forward of the underlying at the option's expiry, rupees.  For an
 *          index option priced off the spot, F = S * e^(r*T) (hh_b76_forward;
 *          with the default r = 0, F = S); or pass the future's price of the
 *          same expiry directly.
 *   K      strike, rupees.
 *   sigma  volatility, a fraction per year (0.15 = 15 %).
 *   T      time to expiry in years, ACT/365 calendar time (hh_b76_years).
 *   r      continuously compounded rate used to discount the payoff
 *          (fraction per year); 0 by default in hedgehog.
 *
 *   call = e^(-rT) [F N(d1) - K N(d2)],  put = e^(-rT) [K N(-d2) - F N(-d1)]
 *   d1 = (ln(F/K) + sigma^2 T / 2) / (sigma sqrt(T)),  d2 = d1 - sigma sqrt(T)
 *
 * Greeks are partial derivatives of the price with F, sigma, r held fixed:
 *   delta  dV/dF                (spot delta = delta * F/S when F = S e^(rT))
 *   gamma  d2V/dF2
 *   vega   dV/dsigma            per 1.00 of volatility (divide by 100 for
 *                               "per vol point")
 *   theta  -dV/dT per year      (value change as one year passes; negative
 *                               for a long option), theta_day = theta / 365
 *                               (per calendar day, matching ACT/365)
 *
 * Pricing is double (SPEC §2 allows it for option pricing); prices cross into
 * fixed-point only through hh_b76_to_fx / hh_b76_from_fx.  Nothing here
 * allocates, reads a clock or does I/O; all functions are thread-safe.
 */
#ifndef HH_BLACK76_H
#define HH_BLACK76_H

#include "core/calendar.h"
#include "core/fixed.h"
#include "core/instrument.h"
#include "core/time.h"

#include <stdbool.h>

/* Bounds of the implied-volatility search. */
#define HH_B76_IV_MIN 1e-4
#define HH_B76_IV_MAX 5.0

/* Days per year of the ACT/365 convention (theta_day = theta / this). */
#define HH_B76_DAYS_PER_YEAR 365.0

/* Price and greeks of one option (see the header comment for units). */
struct hh_b76_greeks {
    double price;       /* rupees per unit of underlying */
    double delta;       /* dV/dF */
    double gamma;       /* d2V/dF2 */
    double vega;        /* dV/dsigma, per 1.00 of volatility */
    double theta;       /* -dV/dT, rupees per year */
    double theta_day;   /* theta / 365, rupees per calendar day */
};

/* Standard normal CDF and density (erfc based; full double accuracy in the
 * tails). */
double hh_b76_ncdf(double x);
double hh_b76_npdf(double x);

/* F = spot * e^(r*T). */
double hh_b76_forward(double spot, double r, double T);

/*
 * Black-76 price of a call (HH_OPT_CE) or put (HH_OPT_PE).  Degenerate
 * inputs are priced by their limits rather than refused, because the margin
 * simulator must value every leg: T <= 0 gives the undiscounted intrinsic
 * value max(F-K, 0) / max(K-F, 0) (the option has settled); sigma <= 0 the
 * discounted intrinsic value.  F and K must be > 0 and opt CE or PE (else
 * NaN is returned: a caller's bug).
 */
double hh_b76_price(enum hh_opt_type opt, double F, double K, double sigma, double T,
                    double r);

/*
 * Price and greeks into *out.  Returns HH_OK, or HH_EINVAL (and *out zeroed)
 * when F <= 0, K <= 0, sigma <= 0, T <= 0 or opt is not CE/PE, or any input
 * is not finite.
 */
int hh_b76_greeks(enum hh_opt_type opt, double F, double K, double sigma, double T,
                  double r, struct hh_b76_greeks *out);

/*
 * Implied volatility of `price` into *sigma.
 *
 * Solved on the out-of-the-money side (an in-the-money price is turned into
 * its OTM twin by put-call parity, which keeps the time value's digits) with
 * a Newton iteration safeguarded by a bracket: a Newton step that leaves the
 * bracket, or does not shrink it fast enough, is replaced by bisection.  The
 * search is confined to [HH_B76_IV_MIN, HH_B76_IV_MAX] and stops when the
 * bracket is narrower than 1e-12 (absolute) or the price is matched to
 * 1e-14 relative.
 *
 * Returns HH_OK; HH_EINVAL for T <= 0, F <= 0, K <= 0, a non-finite input or
 * opt not CE/PE; HH_ERANGE for a price outside the no-arbitrage bounds
 * (below the discounted intrinsic value, or at/above e^(-rT) F for a call,
 * e^(-rT) K for a put) or whose volatility lies outside the search range
 * (e.g. a price equal to intrinsic value, which no positive volatility
 * gives; a time value within 8 ulps of max(F, K) counts as none).  *sigma
 * is untouched on error.
 */
int hh_b76_iv(enum hh_opt_type opt, double price, double F, double K, double T, double r,
              double *sigma);

/*
 * Time to expiry in years: from `as_of` to 15:30 IST (the F&O close) of the
 * expiry day, counted in calendar time, ACT/365 (seconds / (365 * 86400)).
 * When `cal` is given and the expiry date is not a trading day of NSE, the
 * expiry moves to the previous trading day (exchange rule for holiday
 * expiries).  The result is negative once the expiry close has passed.
 * Calendar (not trading-day) time: weekends and holidays carry variance in
 * practice (Monday gaps), it needs no holiday data to be right, and it is the
 * convention of NSE's published IVs to which we compare.
 */
double hh_b76_years(hh_time_t as_of, hh_date_t expiry, const struct hh_calendar *cal);

/*
 * Rupees (double) -> fixed-point, rounded half-up (ties away from zero) to
 * the paisa.  The double is first rounded to the nearest micro-rupee so that
 * a value printed as 1.005 (stored as 1.00499999…) rounds like the decimal
 * it denotes, to 1.01.  HH_ERANGE for NaN, infinity or |v| >= 1e11 rupees.
 */
int hh_b76_to_fx(double rupees, int64_t *out);

/* Fixed-point (1/10,000 rupee) -> rupees (double). */
double hh_b76_from_fx(int64_t v);

#endif
