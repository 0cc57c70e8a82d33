/*
 * strategy.c — option groups: legs, builders, payoff at expiry, validation,
 * hedge balance and leg priority.  The contracts are in strategy.h.
 *
 * Invariants:
 *   - a leg in a group always names a known option contract (iid valid) and
 *     qty == lots * lot_size; every function only reads g->legs[0..nlegs);
 *   - money is exact: payoffs are sums of qty x price in __int128, checked
 *     into int64; only breakevens are rounded (half-up, to the paisa);
 *   - cover matching (which long covers which short) is one deterministic
 *     function, used alike by validation, naked quantity and priority.
 */
#include "options/strategy.h"

#include <stdio.h>
#include <string.h>

/* ---- kinds ------------------------------------------------------------------ */

static const struct {
    const char *name;
    int nstrikes;
} kinds[HH_STRAT_KIND_COUNT] = {
#define HH__STRAT_ROW(id, nm, n) { nm, n },
    HH_STRAT_KINDS(HH__STRAT_ROW)
#undef HH__STRAT_ROW
};

const char *hh_strat_kind_name(enum hh_strat_kind k)
{
    return (unsigned)k < HH_STRAT_KIND_COUNT ? kinds[k].name : "unknown";
}

bool hh_strat_kind_parse(const char *s, size_t n, enum hh_strat_kind *out)
{
    for (int k = HH_STRAT_CUSTOM + 1; k < HH_STRAT_KIND_COUNT; k++) {
        if (strlen(kinds[k].name) == n && !memcmp(kinds[k].name, s, n)) {
            *out = (enum hh_strat_kind)k;
            return true;
        }
    }
    return false;
}

int hh_strat_kind_nstrikes(enum hh_strat_kind k)
{
    return (unsigned)k < HH_STRAT_KIND_COUNT ? kinds[k].nstrikes : 0;
}

bool hh_strat_kind_naked(enum hh_strat_kind k)
{
    return k == HH_STRAT_SHORT_STRADDLE || k == HH_STRAT_SHORT_STRANGLE;
}

const char *hh_leg_role_name(enum hh_leg_role r)
{
    switch (r) {
    case HH_LEG_LONG: return "LONG";
    case HH_LEG_HEDGE: return "HEDGE";
    case HH_LEG_COVERED: return "COVERED";
    case HH_LEG_NAKED: return "NAKED";
    }
    return "UNKNOWN";
}

/* ---- legs ------------------------------------------------------------------- */

void hh_strat_init(struct hh_strat_group *g, enum hh_strat_kind kind)
{
    memset(g, 0, sizeof *g);
    g->kind = kind;
}

/* Fill *leg from instrument `in` (id iid); HH_EINVAL / HH_EOVERFLOW. */
static int fill_leg(struct hh_leg *leg, const struct hh_instrument *in, hh_iid_t iid,
                    enum hh_side side, int64_t lots, struct hh_diag *d)
{
    hh_qty_t qty;

    if (in->type != HH_INST_OPT || (in->opt != HH_OPT_CE && in->opt != HH_OPT_PE))
        return hh_diag_set(d, HH_EINVAL, "%s is not an option", in->symbol);
    if (side != HH_BUY && side != HH_SELL)
        return hh_diag_set(d, HH_EINVAL, "%s: side must be BUY or SELL", in->symbol);
    if (lots < 1 || lots > HH_SIG_LOTS_MAX)
        return hh_diag_set(d, HH_EINVAL, "%s: lots must be 1..%lld", in->symbol,
                           (long long)HH_SIG_LOTS_MAX);
    if (__builtin_mul_overflow(lots, in->lot_size, &qty))
        return hh_diag_set(d, HH_EOVERFLOW, "%s: lots x lot size overflows", in->symbol);
    memset(leg, 0, sizeof *leg);
    memcpy(leg->symbol, in->symbol, sizeof leg->symbol);
    memcpy(leg->underlying, in->underlying, sizeof leg->underlying);
    leg->iid = iid;
    leg->side = side;
    leg->lots = lots;
    leg->lot_size = in->lot_size;
    leg->qty = qty;
    leg->opt = in->opt;
    leg->strike = in->strike;
    leg->expiry = in->expiry;
    leg->premium = -1;
    return HH_OK;
}

/* Append a filled leg; the group's underlying is the first leg's. */
static int append_leg(struct hh_strat_group *g, const struct hh_instrument *in,
                      hh_iid_t iid, enum hh_side side, int64_t lots, struct hh_diag *d)
{
    int rc;

    if (g->nlegs >= HH_STRAT_LEGS_MAX)
        return hh_diag_set(d, HH_EFULL, "more than %d legs", HH_STRAT_LEGS_MAX);
    rc = fill_leg(&g->legs[g->nlegs], in, iid, side, lots, d);
    if (rc)
        return rc;
    if (g->nlegs == 0)
        memcpy(g->underlying, in->underlying, sizeof g->underlying);
    g->nlegs++;
    return HH_OK;
}

int hh_strat_add_leg(struct hh_strat_group *g, const struct hh_instruments *inst,
                     const char *symbol, enum hh_side side, int64_t lots,
                     struct hh_diag *d)
{
    hh_iid_t iid = hh_inst_find(inst, symbol, strlen(symbol));
    const struct hh_instrument *in = iid == HH_IID_NONE ? NULL : hh_inst_get(inst, iid);

    if (!in || !in->known)
        return hh_diag_set(d, HH_ENOTFOUND, "unknown symbol %s", symbol);
    return append_leg(g, in, iid, side, lots, d);
}

/* ---- symbols and resolution --------------------------------------------------- */

size_t hh_strat_symbol(char *buf, size_t cap, const char *underlying, hh_date_t expiry,
                       hh_price_t strike, enum hh_opt_type opt, bool monthly)
{
    static const char *const mon[12] = { "JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                         "JUL", "AUG", "SEP", "OCT", "NOV", "DEC" };
    static const char wk[12] = { '1', '2', '3', '4', '5', '6', '7', '8', '9',
                                 'O', 'N', 'D' };
    char k[32];
    size_t kn;
    int y, m, dd, n;

    if (!underlying[0] || strike <= 0 || expiry == HH_DATE_NONE ||
        (opt != HH_OPT_CE && opt != HH_OPT_PE))
        return 0;
    kn = hh_fx_format(k, sizeof k, strike, HH_FX_DIGITS);
    while (kn > 0 && k[kn - 1] == '0')
        k[--kn] = '\0';
    if (kn > 0 && k[kn - 1] == '.')
        k[--kn] = '\0';
    hh_date_to_ymd(expiry, &y, &m, &dd);
    if (monthly)
        n = snprintf(buf, cap, "%s%02d%s%s%s", underlying, y % 100, mon[m - 1], k,
                     opt == HH_OPT_CE ? "CE" : "PE");
    else
        n = snprintf(buf, cap, "%s%02d%c%02d%s%s", underlying, y % 100, wk[m - 1], dd, k,
                     opt == HH_OPT_CE ? "CE" : "PE");
    if (n < 0 || (size_t)n >= cap)
        return 0;
    return (size_t)n;
}

/* Does instrument `in` have exactly these contract facts? */
static bool facts_match(const struct hh_instrument *in, const char *underlying,
                        hh_date_t expiry, hh_price_t strike, enum hh_opt_type opt)
{
    return in && in->known && in->type == HH_INST_OPT && in->opt == opt &&
           in->strike == strike && in->expiry == expiry &&
           !strcmp(in->underlying, underlying);
}

int hh_strat_resolve(const struct hh_instruments *inst, const struct hh_calendar *cal,
                     const char *underlying, hh_date_t expiry, hh_price_t strike,
                     enum hh_opt_type opt, hh_iid_t *iid, struct hh_diag *d)
{
    char sym[2][HH_SYMBOL_MAX];
    bool monthly_first;
    int y, m, dd;
    size_t count;

    if (expiry == HH_DATE_NONE)
        return hh_diag_set(d, HH_ENOTFOUND, "no expiry");
    hh_date_to_ymd(expiry, &y, &m, &dd);
    monthly_first = expiry == hh_cal_monthly_expiry(cal, HH_EXCH_NSE, y, m) ||
                    expiry == hh_cal_monthly_expiry(cal, HH_EXCH_BSE, y, m);
    for (int k = 0; k < 2; k++) {
        bool monthly = k == 0 ? monthly_first : !monthly_first;
        size_t n = hh_strat_symbol(sym[k], sizeof sym[k], underlying, expiry, strike, opt,
                                   monthly);
        hh_iid_t id;

        if (n == 0) {
            sym[k][0] = '\0';
            continue;
        }
        id = hh_inst_find(inst, sym[k], n);
        if (id != HH_IID_NONE &&
            facts_match(hh_inst_get(inst, id), underlying, expiry, strike, opt)) {
            *iid = id;
            return HH_OK;
        }
    }
    /* Other symbol styles (OpenAlgo, a master's own): match the facts. */
    count = hh_inst_count(inst);
    for (size_t i = 0; i < count; i++) {
        if (facts_match(hh_inst_get(inst, (hh_iid_t)i), underlying, expiry, strike, opt)) {
            *iid = (hh_iid_t)i;
            return HH_OK;
        }
    }
    return hh_diag_set(d, HH_ENOTFOUND, "no instrument %s (or %s)",
                       sym[0][0] ? sym[0] : "?", sym[1][0] ? sym[1] : "?");
}

/* One leg of a builder: side, type, index into strikes[]. */
struct leg_spec {
    enum hh_side side;
    enum hh_opt_type opt;
    int k;
};

/* The legs of a builder, in leg order; returns their number. */
static int builder_legs(enum hh_strat_kind kind, struct leg_spec *s)
{
    switch (kind) {
    case HH_STRAT_BULL_PUT:         /* credit: sell the higher put */
        s[0] = (struct leg_spec){ HH_BUY, HH_OPT_PE, 0 };
        s[1] = (struct leg_spec){ HH_SELL, HH_OPT_PE, 1 };
        return 2;
    case HH_STRAT_BEAR_CALL:        /* credit: sell the lower call */
        s[0] = (struct leg_spec){ HH_SELL, HH_OPT_CE, 0 };
        s[1] = (struct leg_spec){ HH_BUY, HH_OPT_CE, 1 };
        return 2;
    case HH_STRAT_BULL_CALL:        /* debit (the seed wrongly says credit) */
        s[0] = (struct leg_spec){ HH_BUY, HH_OPT_CE, 0 };
        s[1] = (struct leg_spec){ HH_SELL, HH_OPT_CE, 1 };
        return 2;
    case HH_STRAT_BEAR_PUT:         /* debit (the seed wrongly says credit) */
        s[0] = (struct leg_spec){ HH_SELL, HH_OPT_PE, 0 };
        s[1] = (struct leg_spec){ HH_BUY, HH_OPT_PE, 1 };
        return 2;
    case HH_STRAT_IRON_CONDOR:
        s[0] = (struct leg_spec){ HH_BUY, HH_OPT_PE, 0 };
        s[1] = (struct leg_spec){ HH_SELL, HH_OPT_PE, 1 };
        s[2] = (struct leg_spec){ HH_SELL, HH_OPT_CE, 2 };
        s[3] = (struct leg_spec){ HH_BUY, HH_OPT_CE, 3 };
        return 4;
    case HH_STRAT_SHORT_STRADDLE:
        s[0] = (struct leg_spec){ HH_SELL, HH_OPT_CE, 0 };
        s[1] = (struct leg_spec){ HH_SELL, HH_OPT_PE, 0 };
        return 2;
    case HH_STRAT_SHORT_STRANGLE:
        s[0] = (struct leg_spec){ HH_SELL, HH_OPT_PE, 0 };
        s[1] = (struct leg_spec){ HH_SELL, HH_OPT_CE, 1 };
        return 2;
    default:
        return 0;
    }
}

int hh_strat_build(struct hh_strat_group *g, enum hh_strat_kind kind,
                   const struct hh_instruments *inst, const struct hh_calendar *cal,
                   const char *underlying, hh_date_t expiry, const hh_price_t *strikes,
                   int nstrikes, int64_t lots, struct hh_diag *d)
{
    struct leg_spec spec[HH_STRAT_STRIKES_MAX * 2];
    struct hh_strat_group tmp;
    int n, rc;

    n = builder_legs(kind, spec);
    if (n == 0)
        return hh_diag_set(d, HH_EINVAL, "'%s' is not a builder", hh_strat_kind_name(kind));
    if (nstrikes != hh_strat_kind_nstrikes(kind))
        return hh_diag_set(d, HH_EINVAL, "%s takes %d strike%s, got %d",
                           hh_strat_kind_name(kind), hh_strat_kind_nstrikes(kind),
                           hh_strat_kind_nstrikes(kind) == 1 ? "" : "s", nstrikes);
    for (int i = 0; i < nstrikes; i++) {
        if (strikes[i] <= 0)
            return hh_diag_set(d, HH_EINVAL, "strike %d is not positive", i + 1);
        if (i > 0 && strikes[i] <= strikes[i - 1])
            return hh_diag_set(d, HH_EINVAL, "%s strikes must be strictly ascending",
                               hh_strat_kind_name(kind));
    }
    if (lots < 1 || lots > HH_SIG_LOTS_MAX)
        return hh_diag_set(d, HH_EINVAL, "lots must be 1..%lld", (long long)HH_SIG_LOTS_MAX);
    hh_strat_init(&tmp, kind);
    for (int i = 0; i < n; i++) {
        hh_iid_t iid;

        rc = hh_strat_resolve(inst, cal, underlying, expiry, strikes[spec[i].k],
                              spec[i].opt, &iid, d);
        if (rc)
            return rc;
        rc = append_leg(&tmp, hh_inst_get(inst, iid), iid, spec[i].side, lots, d);
        if (rc)
            return rc;
    }
    *g = tmp;
    return HH_OK;
}

/* ---- payoff at expiry ------------------------------------------------------- */

static int side_sign(enum hh_side s)
{
    return s == HH_BUY ? 1 : -1;
}

/* Exact P&L at settlement S, in __int128 money units. */
static __int128 pnl128(const struct hh_strat_group *g, hh_price_t S)
{
    __int128 sum = 0;

    for (int i = 0; i < g->nlegs; i++) {
        const struct hh_leg *l = &g->legs[i];
        hh_price_t pay = l->opt == HH_OPT_CE ? S - l->strike : l->strike - S;

        if (pay < 0)
            pay = 0;
        sum += (__int128)side_sign(l->side) * l->qty * ((__int128)pay - l->premium);
    }
    return sum;
}

static bool premiums_known(const struct hh_strat_group *g)
{
    for (int i = 0; i < g->nlegs; i++)
        if (g->legs[i].premium < 0)
            return false;
    return g->nlegs > 0;
}

int hh_strat_pnl_at(const struct hh_strat_group *g, hh_price_t S, hh_money_t *out)
{
    __int128 v;

    if (!premiums_known(g) || S < 0)
        return HH_EINVAL;
    v = pnl128(g, S);
    if (!hh_i128_fits(v))
        return HH_EOVERFLOW;
    *out = (hh_money_t)v;
    return HH_OK;
}

/* Append a breakeven (rounded half-up to the paisa), skipping repeats. */
static void add_be(struct hh_strat_payoff *o, __int128 num, __int128 den)
{
    hh_price_t be;

    if (den < 0) {
        num = -num;
        den = -den;
    }
    be = (hh_price_t)(hh_i128_div_round(num, den * HH_PAISA) * HH_PAISA);
    if (o->nbreakevens > 0 && o->breakevens[o->nbreakevens - 1] == be)
        return;
    if (o->nbreakevens < HH_STRAT_BE_MAX)
        o->breakevens[o->nbreakevens++] = be;
}

int hh_strat_payoff(const struct hh_strat_group *g, struct hh_strat_payoff *out)
{
    hh_price_t pts[HH_STRAT_LEGS_MAX + 1];
    __int128 f[HH_STRAT_LEGS_MAX + 1], prem = 0, lo, hi;
    int64_t slope = 0;
    int m = 0;

    memset(out, 0, sizeof *out);
    if (!premiums_known(g))
        return HH_EINVAL;
    for (int i = 1; i < g->nlegs; i++)
        if (g->legs[i].expiry != g->legs[0].expiry)
            return HH_EINVAL;
    /* Kinks: 0 and the distinct strikes, ascending (insertion sort). */
    pts[m++] = 0;
    for (int i = 0; i < g->nlegs; i++) {
        const struct hh_leg *l = &g->legs[i];
        int j;

        prem -= (__int128)side_sign(l->side) * l->qty * l->premium;
        if (l->opt == HH_OPT_CE)
            slope += side_sign(l->side) * l->qty;
        for (j = 0; j < m && pts[j] != l->strike; j++)
            ;
        if (j < m)
            continue;
        for (j = m++; j > 0 && pts[j - 1] > l->strike; j--)
            pts[j] = pts[j - 1];
        pts[j] = l->strike;
    }
    if (!hh_i128_fits(prem))
        return HH_EOVERFLOW;
    out->net_premium = (hh_money_t)prem;
    lo = hi = f[0] = pnl128(g, 0);
    for (int j = 1; j < m; j++) {
        f[j] = pnl128(g, pts[j]);
        if (f[j] < lo)
            lo = f[j];
        if (f[j] > hi)
            hi = f[j];
    }
    out->profit_unbounded = slope > 0;
    out->loss_unbounded = slope < 0;
    if (!hh_i128_fits(hi) || !hh_i128_fits(-lo))
        return HH_EOVERFLOW;
    out->max_profit = out->profit_unbounded ? 0 : (hh_money_t)hi;
    out->max_loss = out->loss_unbounded ? 0 : (hh_money_t)-lo;

    /* Breakevens: zeros at kinks, sign changes inside segments, and beyond
     * the last kink along the final slope. */
    for (int j = 0; j < m; j++) {
        if (f[j] == 0) {
            add_be(out, pts[j], 1);
            continue;
        }
        if (j > 0 && f[j - 1] != 0 && (f[j - 1] < 0) != (f[j] < 0)) {
            __int128 a = pts[j - 1], b = pts[j];

            add_be(out, a * (f[j] - f[j - 1]) - f[j - 1] * (b - a), f[j] - f[j - 1]);
        }
    }
    if (f[m - 1] != 0 && slope != 0 && (f[m - 1] < 0) == (slope > 0))
        add_be(out, (__int128)pts[m - 1] * slope - f[m - 1], slope);
    return HH_OK;
}

/* ---- cover matching ----------------------------------------------------------- */

static bool same_bucket(const struct hh_leg *a, const struct hh_leg *b)
{
    return a->opt == b->opt && a->expiry == b->expiry;
}

/*
 * Cover every short leg, in leg order, with the longs of its bucket, nearest
 * strike first (ties: lower leg index), unit for unit.  covered[i] gets the
 * covered units of short i, covers[j] the units long j covers.  Legs are
 * assumed on one underlying (validation checks that first).
 */
static void match_cover(const struct hh_strat_group *g, hh_qty_t *covered, hh_qty_t *covers)
{
    hh_qty_t left[HH_STRAT_LEGS_MAX];

    for (int i = 0; i < g->nlegs; i++) {
        covered[i] = covers[i] = 0;
        left[i] = g->legs[i].side == HH_BUY ? g->legs[i].qty : 0;
    }
    for (int i = 0; i < g->nlegs; i++) {
        const struct hh_leg *s = &g->legs[i];
        hh_qty_t need = s->side == HH_SELL ? s->qty : 0;

        while (need > 0) {
            int best = -1;
            hh_price_t bd = 0;

            for (int j = 0; j < g->nlegs; j++) {
                hh_price_t dist;

                if (left[j] == 0 || !same_bucket(&g->legs[j], s))
                    continue;
                dist = g->legs[j].strike - s->strike;
                if (dist < 0)
                    dist = -dist;
                if (best < 0 || dist < bd) {
                    best = j;
                    bd = dist;
                }
            }
            if (best < 0)
                break;
            {
                hh_qty_t take = need < left[best] ? need : left[best];

                need -= take;
                left[best] -= take;
                covered[i] += take;
                covers[best] += take;
            }
        }
    }
}

hh_qty_t hh_strat_naked_qty(const struct hh_strat_group *g)
{
    hh_qty_t covered[HH_STRAT_LEGS_MAX], covers[HH_STRAT_LEGS_MAX], naked = 0;

    match_cover(g, covered, covers);
    for (int i = 0; i < g->nlegs; i++)
        if (g->legs[i].side == HH_SELL)
            naked += g->legs[i].qty - covered[i];
    return naked;
}

/* ---- validation --------------------------------------------------------------- */

bool hh_strat_validate(const struct hh_strat_group *g, const struct hh_strat_rules *rules,
                       struct hh_sig_reject *rej)
{
    hh_qty_t covered[HH_STRAT_LEGS_MAX], covers[HH_STRAT_LEGS_MAX];
    int64_t base = 0;

    if (g->nlegs < 1 || g->nlegs > HH_STRAT_LEGS_MAX) {
        hh_sig_reject_set(rej, HH_SIG_BAD_TYPE, HH_TIME_NONE, "group has %d legs (1..%d)",
                          g->nlegs, HH_STRAT_LEGS_MAX);
        return false;
    }
    for (int i = 0; i < g->nlegs; i++) {
        if (g->legs[i].iid == HH_IID_NONE) {
            hh_sig_reject_set(rej, HH_SIG_UNKNOWN_SYMBOL, HH_TIME_NONE,
                              "leg %d: unknown symbol %s", i + 1, g->legs[i].symbol);
            return false;
        }
    }
    for (int i = 0; i < g->nlegs; i++) {
        const struct hh_leg *l = &g->legs[i];

        if (l->opt != HH_OPT_CE && l->opt != HH_OPT_PE) {
            hh_sig_reject_set(rej, HH_SIG_BAD_TYPE, HH_TIME_NONE,
                              "leg %d (%s) is not an option", i + 1, l->symbol);
            return false;
        }
        if (l->lots < 1) {
            hh_sig_reject_set(rej, HH_SIG_BAD_TYPE, HH_TIME_NONE,
                              "leg %d (%s): lots must be at least 1", i + 1, l->symbol);
            return false;
        }
        if (base == 0 || l->lots < base)
            base = l->lots;
    }
    if (rules && rules->today != HH_DATE_NONE) {
        for (int i = 0; i < g->nlegs; i++) {
            char e[16];

            if (g->legs[i].expiry >= rules->today)
                continue;
            hh_date_format(g->legs[i].expiry, e, sizeof e);
            hh_sig_reject_set(rej, HH_SIG_INSTRUMENT_EXPIRED, HH_TIME_NONE,
                              "leg %d (%s) expired on %s", i + 1, g->legs[i].symbol, e);
            return false;
        }
    }
    for (int i = 1; i < g->nlegs; i++) {
        if (strcmp(g->legs[i].underlying, g->legs[0].underlying) != 0) {
            hh_sig_reject_set(rej, HH_SIG_UNHEDGED_GROUP, HH_TIME_NONE,
                              "legs on different underlyings (%s, %s)",
                              g->legs[0].underlying, g->legs[i].underlying);
            return false;
        }
    }
    for (int i = 0; i < g->nlegs; i++) {
        if (g->legs[i].lots % base != 0) {
            hh_sig_reject_set(rej, HH_SIG_BAD_TYPE, HH_TIME_NONE,
                              "leg %d (%s): %lld lots is not a multiple of the group's "
                              "base of %lld", i + 1, g->legs[i].symbol,
                              (long long)g->legs[i].lots, (long long)base);
            return false;
        }
    }
    if (rules && rules->allow_naked)
        return true;
    match_cover(g, covered, covers);
    for (int i = 0; i < g->nlegs; i++) {
        const struct hh_leg *l = &g->legs[i];

        if (l->side != HH_SELL || covered[i] == l->qty)
            continue;
        hh_sig_reject_set(rej, HH_SIG_UNHEDGED_GROUP, HH_TIME_NONE,
                          "short leg %d (%s): %lld of %lld units not covered by a long "
                          "%s of the same expiry%s", i + 1, l->symbol,
                          (long long)(l->qty - covered[i]), (long long)l->qty,
                          l->opt == HH_OPT_CE ? "call" : "put",
                          hh_strat_kind_naked(g->kind) ? " (naked by design)" : "");
        return false;
    }
    return true;
}

/* ---- hedge balance -------------------------------------------------------------- */

int hh_strat_balance(const struct hh_strat_group *g, const hh_qty_t *filled,
                     hh_ratio_t threshold, struct hh_strat_balance *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < g->nlegs; i++) {
        const struct hh_leg *l = &g->legs[i];
        hh_qty_t q = filled ? filled[i] : l->qty;
        int b;

        if (q < 0)
            return HH_EINVAL;
        for (b = 0; b < out->nbuckets; b++)
            if (out->b[b].opt == l->opt && out->b[b].expiry == l->expiry)
                break;
        if (b == out->nbuckets) {
            out->b[b].opt = l->opt;
            out->b[b].expiry = l->expiry;
            out->nbuckets++;
        }
        if (l->side == HH_BUY)
            out->b[b].long_qty += q;
        else
            out->b[b].short_qty += q;
    }
    for (int b = 0; b < out->nbuckets; b++) {
        struct hh_strat_bucket *k = &out->b[b];
        __int128 diff = (__int128)k->long_qty - k->short_qty;

        if (diff < 0) {
            out->unhedged += (hh_qty_t)-diff;
            diff = -diff;
        }
        if (k->short_qty > 0) {
            __int128 v = hh_i128_div_round(diff * HH_RATIO_SCALE, k->short_qty);

            k->variance = hh_i128_fits(v) ? (hh_ratio_t)v : INT64_MAX;
        }
        k->flagged = k->variance > threshold;
        out->flagged |= k->flagged;
        if (k->variance > out->max_variance)
            out->max_variance = k->variance;
    }
    return HH_OK;
}

/* ---- leg priority ----------------------------------------------------------------- */

/* How far out of the money a leg is relative to ref (negative: in the money). */
static __int128 otm_distance(const struct hh_leg *l, hh_price_t ref)
{
    return l->opt == HH_OPT_CE ? (__int128)l->strike - ref : (__int128)ref - l->strike;
}

void hh_strat_priority(const struct hh_strat_group *g, hh_price_t spot,
                       struct hh_leg_prio *prio, int *order)
{
    hh_qty_t covered[HH_STRAT_LEGS_MAX], covers[HH_STRAT_LEGS_MAX];
    struct hh_leg_prio p[HH_STRAT_LEGS_MAX];
    int ord[HH_STRAT_LEGS_MAX];
    hh_price_t ref = spot;
    int n = g->nlegs;

    if (n > HH_STRAT_LEGS_MAX)
        n = HH_STRAT_LEGS_MAX;
    if (ref <= 0 && n > 0) {
        __int128 sum = 0;

        for (int i = 0; i < n; i++)
            sum += g->legs[i].strike;
        ref = (hh_price_t)(sum / n);
    }
    match_cover(g, covered, covers);
    for (int i = 0; i < n; i++) {
        const struct hh_leg *l = &g->legs[i];

        if (l->side == HH_SELL) {
            p[i].covered = covered[i];
            p[i].role = covered[i] == l->qty ? HH_LEG_COVERED : HH_LEG_NAKED;
        } else {
            p[i].covered = covers[i];
            p[i].role = HH_LEG_LONG;
            /* A long covering nothing in its bucket, while a short of its
             * type on another expiry is left uncovered: a partial hedge. */
            for (int j = 0; covers[i] == 0 && j < n; j++) {
                const struct hh_leg *s = &g->legs[j];

                if (s->side == HH_SELL && s->opt == l->opt && s->expiry != l->expiry &&
                    covered[j] < s->qty)
                    p[i].role = HH_LEG_HEDGE;
            }
        }
        switch (p[i].role) {
        case HH_LEG_LONG: p[i].score = HH_PRIO_LONG; break;
        case HH_LEG_HEDGE: p[i].score = HH_PRIO_HEDGE; break;
        case HH_LEG_COVERED: p[i].score = HH_PRIO_COVERED; break;
        case HH_LEG_NAKED: p[i].score = HH_PRIO_NAKED; break;
        }
    }
    /* Insertion sort (stable): score desc, farther OTM first, leg order. */
    for (int i = 0; i < n; i++) {
        int j = i;

        while (j > 0) {
            int a = ord[j - 1];
            bool after = p[a].score < p[i].score ||
                         (p[a].score == p[i].score &&
                          otm_distance(&g->legs[a], ref) < otm_distance(&g->legs[i], ref));

            if (!after)
                break;
            ord[j] = ord[j - 1];
            j--;
        }
        ord[j] = i;
    }
    if (prio)
        memcpy(prio, p, (size_t)n * sizeof *p);
    if (order)
        memcpy(order, ord, (size_t)n * sizeof *ord);
}
