/*
 * margin.c — the worst-case margin simulator.  The model is described in
 * margin.h; this file is its arithmetic.
 *
 * Invariants and speed:
 *   - a spread multiplier does not move a price, so each leg is priced once
 *     per (price shock, vol shift) pair — 9 Black-76 evaluations per leg with
 *     the defaults — and the 27 scenario losses are linear combinations;
 *   - per leg, ln(F/K), sqrt(T) and the discount factor are computed once;
 *     a shocked forward only adds ln(1 + shock) (prepared in the sim);
 *   - losses of the partial positions are running sums in execution order,
 *     so the peak costs one pass over the scenarios per leg;
 *   - no allocation: everything lives on the stack or in the caller's
 *     result (~ 8 legs x 125 scenarios of doubles at most).
 */
#include "risk/margin.h"

#include "options/black76.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define R(x) ((hh_ratio_t)((x) * (double)HH_RATIO_SCALE + 0.5))

void hh_margin_params_default(struct hh_margin_params *p)
{
    memset(p, 0, sizeof *p);
    p->n_price = 3;
    p->price_shock[0] = -R(0.03);
    p->price_shock[1] = 0;
    p->price_shock[2] = R(0.03);
    p->n_vol = 3;
    p->vol_shift[0] = 0;
    p->vol_shift[1] = R(0.30);
    p->vol_shift[2] = R(0.50);
    p->n_spread = 3;
    p->spread_mult[0] = R(1.0);
    p->spread_mult[1] = R(1.5);
    p->spread_mult[2] = R(2.0);
    p->rate = 0;
    p->elm_rate = R(0.02);
    p->elm_expiry_extra = R(0.02);
    p->min_half_spread = 5 * HH_PAISA;
    p->half_spread_pct = R(0.005);
}

static double ratio_d(hh_ratio_t r)
{
    return (double)r / (double)HH_RATIO_SCALE;
}

int hh_margin_sim_init(struct hh_margin_sim *s, const struct hh_margin_params *p,
                       struct hh_diag *d)
{
    const int n[3] = { p->n_price, p->n_vol, p->n_spread };
    static const char *const what[3] = { "price shocks", "vol shifts", "spread multipliers" };

    memset(s, 0, sizeof *s);
    for (int k = 0; k < 3; k++)
        if (n[k] < 1 || n[k] > HH_MARGIN_SHOCKS_MAX)
            return hh_diag_set(d, HH_EINVAL, "margin: %d %s (1..%d)", n[k], what[k],
                               HH_MARGIN_SHOCKS_MAX);
    for (int i = 0; i < p->n_price; i++)
        if (p->price_shock[i] <= -HH_RATIO_SCALE)
            return hh_diag_set(d, HH_EINVAL, "margin: price shock %d is -100%% or less", i + 1);
    for (int i = 0; i < p->n_vol; i++)
        if (p->vol_shift[i] <= -HH_RATIO_SCALE)
            return hh_diag_set(d, HH_EINVAL, "margin: vol shift %d is -100%% or less", i + 1);
    for (int i = 0; i < p->n_spread; i++)
        if (p->spread_mult[i] < 0)
            return hh_diag_set(d, HH_EINVAL, "margin: spread multiplier %d is negative", i + 1);
    if (!isfinite(p->rate) || fabs(p->rate) > 1)
        return hh_diag_set(d, HH_EINVAL, "margin: rate must be within [-1, 1]");
    if (p->elm_rate < 0 || p->elm_expiry_extra < 0 || p->min_half_spread < 0 ||
        p->half_spread_pct < 0)
        return hh_diag_set(d, HH_EINVAL, "margin: negative ELM or spread parameter");
    s->p = *p;
    s->nscen = p->n_price * p->n_vol * p->n_spread;
    for (int i = 0; i < p->n_price; i++)
        s->price_f[i] = 1 + ratio_d(p->price_shock[i]);
    for (int i = 0; i < p->n_vol; i++)
        s->vol_f[i] = 1 + ratio_d(p->vol_shift[i]);
    for (int i = 0; i < p->n_spread; i++)
        s->spread_f[i] = ratio_d(p->spread_mult[i]);
    s->min_hs = hh_b76_from_fx(p->min_half_spread);
    s->hs_pct = ratio_d(p->half_spread_pct);
    return HH_OK;
}

void hh_margin_scenario(const struct hh_margin_sim *s, int idx, int *ip, int *iv, int *is)
{
    int nv = s->p.n_vol, ns = s->p.n_spread;

    *is = idx % ns;
    *iv = (idx / ns) % nv;
    *ip = idx / (ns * nv);
}

/* A ratio as text with `shift` fewer implied decimals (7: percent), trailing
 * zeros trimmed, '+' on positive values when `sign`. */
static size_t ratio_text(char *buf, size_t cap, hh_ratio_t v, int digits, bool sign)
{
    char t[48];
    size_t n = hh_dec_format(t, sizeof t, v, digits, digits);
    int w;

    while (n > 0 && t[n - 1] == '0')
        t[--n] = '\0';
    if (n > 0 && t[n - 1] == '.')
        t[--n] = '\0';
    w = snprintf(buf, cap, "%s%s", sign && v > 0 ? "+" : "", t);
    return w < 0 ? 0 : (size_t)w;
}

size_t hh_margin_scenario_name(const struct hh_margin_sim *s, int idx, char *buf,
                               size_t cap)
{
    char a[64], b[64], c[64];
    int ip, iv, is, w;

    hh_margin_scenario(s, idx, &ip, &iv, &is);
    ratio_text(a, sizeof a, s->p.price_shock[ip], HH_RATIO_DIGITS - 2, true);
    ratio_text(b, sizeof b, s->p.vol_shift[iv], HH_RATIO_DIGITS - 2, true);
    ratio_text(c, sizeof c, s->p.spread_mult[is], HH_RATIO_DIGITS, false);
    w = snprintf(buf, cap, "price %s%%, iv %s%%, spread x%s", a, b, c);
    return w < 0 ? 0 : (size_t)w;
}

/* Check the input; HH_OK or HH_EINVAL. */
static int check_input(const struct hh_margin_input *in)
{
    bool seen[HH_MARGIN_LEGS_MAX] = { false };

    if (in->nlegs < 1 || in->nlegs > HH_MARGIN_LEGS_MAX || in->spot <= 0)
        return HH_EINVAL;
    for (int i = 0; i < in->nlegs; i++) {
        const struct hh_margin_leg *l = &in->legs[i];
        int o = in->order[i];

        if ((l->opt != HH_OPT_CE && l->opt != HH_OPT_PE) ||
            (l->side != HH_BUY && l->side != HH_SELL) || l->qty < 1 || l->strike <= 0 ||
            !(l->sigma > 0) || !isfinite(l->sigma) || !isfinite(l->T))
            return HH_EINVAL;
        if (o < 0 || o >= in->nlegs || seen[o])
            return HH_EINVAL;
        seen[o] = true;
    }
    return HH_OK;
}

/*
 * Loss of one leg in every scenario into row[0..nscen), in rupees.
 * Black-76 with F = spot e^(rT) x (1 + shock): ln(F/K) and the discount
 * factor are computed once, sigma sqrt(T) once per vol shift.
 */
static void leg_losses(const struct hh_margin_sim *s, double spot,
                       const struct hh_margin_leg *l, double *row)
{
    const struct hh_margin_params *p = &s->p;
    const bool call = l->opt == HH_OPT_CE;
    const double K = hh_b76_from_fx(l->strike), q = (double)l->qty;
    const double sign = l->side == HH_BUY ? 1.0 : -1.0;
    const bool quoted = l->bid > 0 && l->ask > 0 && l->bid <= l->ask;
    const double qhs = quoted ? hh_b76_from_fx(l->ask - l->bid) / 2 : 0;
    double F0, D, sqt, base, P[HH_MARGIN_SHOCKS_MAX][HH_MARGIN_SHOCKS_MAX];
    int idx = 0;

    if (l->T > 0) {
        F0 = spot * exp(p->rate * l->T);
        D = exp(-p->rate * l->T);
        sqt = sqrt(l->T);
        for (int ip = 0; ip < p->n_price; ip++) {
            double F = F0 * s->price_f[ip], lnfk = log(F / K);

            for (int iv = 0; iv < p->n_vol; iv++) {
                double sd = l->sigma * s->vol_f[iv] * sqt, d1, d2;

                if (!(sd > 0)) {
                    double intr = call ? F - K : K - F;

                    P[ip][iv] = D * (intr > 0 ? intr : 0);
                    continue;
                }
                d1 = (lnfk + 0.5 * sd * sd) / sd;
                d2 = d1 - sd;
                P[ip][iv] = call ? D * (F * hh_b76_ncdf(d1) - K * hh_b76_ncdf(d2))
                                 : D * (K * hh_b76_ncdf(-d2) - F * hh_b76_ncdf(-d1));
            }
        }
        base = hh_b76_price(l->opt, F0, K, l->sigma, l->T, p->rate);
    } else {
        /* Settled: intrinsic value, volatility has no effect. */
        for (int ip = 0; ip < p->n_price; ip++) {
            double F = spot * s->price_f[ip], intr = call ? F - K : K - F;

            for (int iv = 0; iv < p->n_vol; iv++)
                P[ip][iv] = intr > 0 ? intr : 0;
        }
        base = hh_b76_price(l->opt, spot, K, l->sigma, l->T, p->rate);
    }
    for (int ip = 0; ip < p->n_price; ip++) {
        for (int iv = 0; iv < p->n_vol; iv++) {
            double px = P[ip][iv];
            double dv = -sign * q * (px - base);
            double hs = quoted ? qhs : fmax(s->min_hs, s->hs_pct * px);

            for (int is = 0; is < p->n_spread; is++)
                row[idx++] = dv + q * hs * s->spread_f[is];
        }
    }
}

/* ELM of one leg (0 for a long), rounded half-up to the paisa. */
static int leg_exposure(const struct hh_margin_sim *s, hh_price_t spot,
                        const struct hh_margin_leg *l, hh_money_t *out)
{
    hh_money_t notional;
    hh_ratio_t rate = s->p.elm_rate + (l->expiry_day ? s->p.elm_expiry_extra : 0);
    int rc;

    *out = 0;
    if (l->side != HH_SELL)
        return HH_OK;
    rc = hh_fx_mul_qty(spot, l->qty, &notional);
    if (!rc)
        rc = hh_fx_mul_ratio(notional, rate, HH_PAISA, out);
    return rc;
}

int hh_margin_eval(const struct hh_margin_sim *s, const struct hh_margin_input *in,
                   struct hh_margin_result *out)
{
    double row[HH_MARGIN_SCEN_MAX], acc[HH_MARGIN_SCEN_MAX];
    const int ns = s->nscen;
    const double spot = hh_b76_from_fx(in->spot);
    hh_money_t elm = 0;
    int rc;

    rc = check_input(in);
    if (rc)
        return rc;
    out->nlegs = in->nlegs;
    out->nscen = ns;
    out->peak = INT64_MIN;
    out->peak_step = 0;
    for (int j = 0; j < ns; j++)
        acc[j] = 0;
    for (int k = 0; k < in->nlegs; k++) {
        const struct hh_margin_leg *l = &in->legs[in->order[k]];
        hh_money_t e, worst_m, req;
        double worst = -INFINITY;
        int wj = 0;

        leg_losses(s, spot, l, row);
        for (int j = 0; j < ns; j++) {
            acc[j] += row[j];
            if (acc[j] > worst) {
                worst = acc[j];
                wj = j;
            }
        }
        rc = leg_exposure(s, in->spot, l, &e);
        if (rc)
            return rc;
        if (__builtin_add_overflow(elm, e, &elm))
            return HH_EOVERFLOW;
        if (k == in->nlegs - 1) {
            /* The full group: every scenario in money; the worst is chosen
             * on the rounded figures (first of equals). */
            wj = 0;
            for (int j = 0; j < ns; j++) {
                rc = hh_b76_to_fx(acc[j], &out->loss[j]);
                if (rc)
                    return rc;
                if (out->loss[j] > out->loss[wj])
                    wj = j;
            }
            worst_m = out->loss[wj];
            out->worst = wj;
            out->worst_loss = worst_m;
            out->exposure = elm;
        } else {
            rc = hh_b76_to_fx(worst, &worst_m);
            if (rc)
                return rc;
        }
        if (__builtin_add_overflow(worst_m > 0 ? worst_m : 0, elm, &req))
            return HH_EOVERFLOW;
        out->step_required[k] = req;
        out->step_worst[k] = wj;
        out->step_loss[k] = worst_m;
        if (req > out->peak) {
            out->peak = req;
            out->peak_step = k + 1;
        }
    }
    out->required = out->step_required[in->nlegs - 1];
    return HH_OK;
}

int hh_margin_input_from_group(const struct hh_strat_group *g, hh_price_t spot,
                               hh_time_t as_of, double sigma, const struct hh_calendar *cal,
                               struct hh_margin_input *in)
{
    hh_date_t today = hh_time_ist_date(as_of);

    memset(in, 0, sizeof *in);
    if (g->nlegs < 1 || g->nlegs > HH_MARGIN_LEGS_MAX || spot <= 0)
        return HH_EINVAL;
    in->spot = spot;
    in->nlegs = g->nlegs;
    for (int i = 0; i < g->nlegs; i++) {
        const struct hh_leg *l = &g->legs[i];
        struct hh_margin_leg *m = &in->legs[i];

        m->opt = l->opt;
        m->side = l->side;
        m->qty = l->qty;
        m->strike = l->strike;
        m->T = hh_b76_years(as_of, l->expiry, cal);
        m->sigma = l->iv > 0 ? l->iv : sigma;
        if (!(m->sigma > 0) || !isfinite(m->sigma))
            return HH_EINVAL;
        m->bid = l->bid;
        m->ask = l->ask;
        m->expiry_day = l->expiry == today;
    }
    hh_strat_priority(g, spot, NULL, in->order);
    return HH_OK;
}

bool hh_margin_check(const struct hh_margin_sim *s, const struct hh_margin_result *r,
                     hh_money_t available, hh_ratio_t buffer, hh_money_t *limit,
                     struct hh_sig_reject *rej)
{
    hh_money_t lim = 0;
    char sc[256], pk[32], lm[32], av[32], ls[32], bf[64];
    int k = r->peak_step - 1;

    if (hh_fx_mul_ratio(available > 0 ? available : 0, buffer, HH_PAISA, &lim))
        lim = 0;
    if (limit)
        *limit = lim;
    if (r->peak_step >= 1 && r->peak <= lim)
        return true;
    if (rej && r->peak_step < 1) {
        hh_sig_reject_set(rej, HH_SIG_MARGIN_WORST_CASE, HH_TIME_NONE,
                          "no margin evaluation to check");
    } else if (rej) {
        hh_margin_scenario_name(s, r->step_worst[k], sc, sizeof sc);
        hh_fx_format(pk, sizeof pk, r->peak, 2);
        hh_fx_format(lm, sizeof lm, lim, 2);
        hh_fx_format(av, sizeof av, available, 2);
        hh_fx_format(ls, sizeof ls, r->step_loss[k], 2);
        ratio_text(bf, sizeof bf, buffer, HH_RATIO_DIGITS - 2, false);
        hh_sig_reject_set(rej, HH_SIG_MARGIN_WORST_CASE, HH_TIME_NONE,
                          "worst-case margin %s after leg %d of %d exceeds %s%% of available "
                          "%s (%s); worst scenario: %s (loss %s)",
                          pk, r->peak_step, r->nlegs, bf, av, lm, sc, ls);
    }
    return false;
}
