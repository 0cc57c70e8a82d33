/*
 * cmd_margin.c — `hedgehog margin`: the worst-case margin check of one group
 * signal (SPEC §9).
 *
 *   hedgehog margin --config FILE --legs FILE.json --spot PRICE --iv VOL
 *                   --available RUPEES [--as-of TS] [--rate R]
 *
 * The legs file holds one group signal of SPEC §8 (explicit "legs" or
 * "build" + "strikes"; signal/group.h).  --spot is the underlying's price;
 * --iv the volatility of every leg without its own "iv", as a decimal
 * fraction (0.15) or a percentage ("15%"); --available the margin
 * available, rupees; --rate the rate r of F = S e^(rT) and discounting
 * (default 0, a fraction, "7%" accepted).
 *
 * The instant of the check (time to expiry of every leg): --as-of when
 * given; else the signal's own "ts" (when it arrives is when it is checked);
 * else 09:15 IST on the trading day before the group's nearest expiry — a
 * deterministic stand-in (the wall clock would make the output change from
 * run to run).  It is printed as "as_of" with "as_of_source".
 *
 * The group is validated (legs resolve, not expired at as_of, one
 * underlying, lots multiple) — a failure is invalid input (exit 2); naked
 * shorts are reported ("hedged", "naked_qty") but margin decides the
 * verdict here.  Legs execute in leg-priority order; the peak requirement
 * along that order is checked against risk.margin_buffer x available.
 *
 * Output: one JSON object on stdout (keys in a fixed order; money with two
 * decimals as JSON numbers).  Exit codes: 0 for OK and REJECT alike (the
 * verdict is the answer), 2 bad usage / unreadable or invalid input (the
 * message names the file or option and the field), 1 a write error.
 */
#include "app/cmd.h"
#include "app/common.h"
#include "core/jsonout.h"
#include "options/black76.h"
#include "options/strategy.h"
#include "risk/margin.h"
#include "signal/group.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define CMD "margin"
#define ME "hedgehog " CMD ": "
const char hh_usage_margin[] =
    "usage: hedgehog margin --config FILE --legs FILE.json --spot PRICE "
    "--iv VOL --available RUPEES [--as-of TS] [--rate R]\n";
#define USAGE hh_usage_margin
#define LEGS_FILE_MAX (1u << 20)

struct opts {
    const char *config, *legs, *spot, *iv, *available, *as_of, *rate;
};

/* Everything the output needs. */
struct run {
    struct hh_group_signal gs;
    hh_price_t spot;
    hh_ratio_t iv, rate;
    hh_money_t available, limit;
    hh_time_t as_of;
    const char *as_of_source;
    struct hh_margin_sim sim;
    struct hh_margin_input in;
    struct hh_margin_result res;
    struct hh_leg_prio prio[HH_STRAT_LEGS_MAX];
    hh_price_t model[HH_STRAT_LEGS_MAX];       /* model price per unit, paisa */
    struct hh_strat_payoff pay;
    int pay_rc;
    hh_ratio_t buffer;
    bool ok;
    struct hh_sig_reject rej;
};

/* Read the whole legs file (at most LEGS_FILE_MAX bytes); caller frees. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;

    if (!f) {
        fprintf(stderr, ME "%s: cannot open: %s\n", path, strerror(errno));
        return NULL;
    }
    buf = malloc(LEGS_FILE_MAX + 1);
    if (!buf) {
        fclose(f);
        fprintf(stderr, ME "out of memory\n");
        return NULL;
    }
    n = fread(buf, 1, LEGS_FILE_MAX + 1, f);
    if (ferror(f) || n > LEGS_FILE_MAX) {
        fprintf(stderr, ME "%s: %s\n", path, ferror(f) ? "read error" : "larger than 1 MiB");
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* ---- inputs ------------------------------------------------------------------ */

/* The values of the arguments (an error: exit 2 with the usage). */
static int parse_values(const struct opts *o, struct run *r)
{
    if (hh_price_parse(o->spot, strlen(o->spot), HH_DEC_PLUS, &r->spot) != HH_OK ||
        r->spot <= 0)
        return hh_app_say(CMD, USAGE, HH_EXIT_USAGE, "--spot: '%s' is not a price > 0", o->spot);
    if (hh_app_parse_fraction(o->iv, &r->iv) != HH_OK || r->iv <= 0 ||
        r->iv > (hh_ratio_t)(HH_B76_IV_MAX * HH_RATIO_SCALE))
        return hh_app_say(CMD, USAGE, HH_EXIT_USAGE,
                          "--iv: '%s' is not a volatility in (0, 5] (a fraction, 0.15, or a "
                          "percentage, 15%%)", o->iv);
    if (hh_price_parse(o->available, strlen(o->available), HH_DEC_PLUS, &r->available) !=
            HH_OK || r->available < 0)
        return hh_app_say(CMD, USAGE, HH_EXIT_USAGE,
                          "--available: '%s' is not an amount of rupees >= 0", o->available);
    r->rate = 0;
    if (o->rate && (hh_app_parse_fraction(o->rate, &r->rate) != HH_OK ||
                    r->rate > HH_RATIO_SCALE || r->rate < -HH_RATIO_SCALE))
        return hh_app_say(CMD, USAGE, HH_EXIT_USAGE,
                          "--rate: '%s' is not a rate in [-1, 1] (0.07 or 7%%)", o->rate);
    if (o->as_of) {
        const char *why = NULL;

        if (hh_time_parse(o->as_of, strlen(o->as_of), &r->as_of, &why) != HH_OK)
            return hh_app_say(CMD, USAGE, HH_EXIT_USAGE,
                              "--as-of: '%s': %s", o->as_of, why ? why : "not a timestamp");
    }
    return 0;
}

/* The nearest expiry of the group. */
static hh_date_t nearest_expiry(const struct hh_strat_group *g)
{
    hh_date_t e = g->legs[0].expiry;

    for (int i = 1; i < g->nlegs; i++)
        if (g->legs[i].expiry < e)
            e = g->legs[i].expiry;
    return e;
}

static int pick_as_of(const struct opts *o, const struct hh_calendar *cal, struct run *r)
{
    if (o->as_of) {
        r->as_of_source = "--as-of";   /* parsed with the other arguments */
    } else if (r->gs.has_ts) {
        r->as_of = r->gs.ts;
        r->as_of_source = "ts";
    } else {
        hh_date_t d = hh_cal_prev_trading_day(cal, HH_EXCH_NSE,
                                              nearest_expiry(&r->gs.group) - 1);

        if (d == HH_DATE_NONE)
            return hh_app_say(CMD, NULL, HH_EXIT_USAGE,
                              "%s: no trading day before the expiry; give --as-of", o->legs);
        r->as_of = hh_time_from_ist(d, HH_TOD(9, 15));
        r->as_of_source = "default";
    }
    return 0;
}

/* ---- the check ----------------------------------------------------------------- */

static int evaluate(const struct opts *o, const struct hh_world *w, struct run *r)
{
    struct hh_margin_params p;
    struct hh_diag d = { "" };
    struct hh_strat_rules rules = { true, hh_time_ist_date(r->as_of) };
    struct hh_strat_group priced;
    double sigma = (double)r->iv / HH_RATIO_SCALE;

    if (!hh_group_validate(&r->gs, &rules, &r->rej))
        return hh_app_say(CMD, NULL, HH_EXIT_USAGE,
                          "%s: %s: %s", o->legs, hh_sig_reason_name(r->rej.reason), r->rej.detail);
    hh_margin_params_default(&p);
    p.rate = (double)r->rate / HH_RATIO_SCALE;
    if (hh_margin_sim_init(&r->sim, &p, &d))
        return hh_app_say(CMD, NULL, HH_EXIT_USAGE, "%s", d.msg);
    if (hh_margin_input_from_group(&r->gs.group, r->spot, r->as_of, sigma, w->cal, &r->in))
        return hh_app_say(CMD, NULL, HH_EXIT_USAGE, "%s: cannot build the margin input", o->legs);
    if (hh_margin_eval(&r->sim, &r->in, &r->res))
        return hh_app_say(CMD, NULL, HH_EXIT_USAGE,
                          "%s: margin evaluation failed (amounts out of range)", o->legs);
    hh_strat_priority(&r->gs.group, r->spot, r->prio, NULL);
    r->buffer = w->cfg.risk.margin_buffer;
    r->ok = hh_margin_check(&r->sim, &r->res, r->available, r->buffer, &r->limit, &r->rej);
    if (!r->ok && r->gs.has_id) {
        r->rej.id_known = true;
        memcpy(r->rej.id, r->gs.id, sizeof r->rej.id);
    }
    /* Model prices (per unit, rounded half-up to the paisa) stand in for
     * premiums the signal does not give, for the payoff summary. */
    priced = r->gs.group;
    for (int i = 0; i < priced.nlegs; i++) {
        const struct hh_margin_leg *m = &r->in.legs[i];
        double T = m->T, F = hh_b76_forward(hh_b76_from_fx(r->spot), p.rate, T > 0 ? T : 0);
        double px = hh_b76_price(m->opt, F, hh_b76_from_fx(m->strike), m->sigma, T, p.rate);

        if (hh_b76_to_fx(px, &r->model[i]))
            r->model[i] = 0;
        if (priced.legs[i].premium < 0)
            priced.legs[i].premium = r->model[i];
    }
    r->pay_rc = hh_strat_payoff(&priced, &r->pay);
    return 0;
}

/* ---- output ---------------------------------------------------------------------- */

/* A ratio as a JSON number, trailing zeros trimmed (-0.03, 0, 1.5). */
static void put_ratio(struct hh_json *j, const char *key, hh_ratio_t v)
{
    hh_json_dec(j, key, v, HH_RATIO_DIGITS, HH_RATIO_DIGITS, 0);
}

static void put_scenario(struct hh_json *j, const struct run *r, int idx)
{
    int ip, iv, is;

    hh_margin_scenario(&r->sim, idx, &ip, &iv, &is);
    put_ratio(j, "price_shock", r->sim.p.price_shock[ip]);
    put_ratio(j, "iv_shift", r->sim.p.vol_shift[iv]);
    put_ratio(j, "spread_mult", r->sim.p.spread_mult[is]);
}

static void put_named(struct hh_json *j, const char *key, const struct run *r, int idx,
                      hh_money_t loss)
{
    char name[128];

    hh_margin_scenario_name(&r->sim, idx, name, sizeof name);
    hh_json_begin_object(j, key, false);
    put_scenario(j, r, idx);
    hh_json_str(j, "name", name);
    hh_json_fx(j, "loss", loss, 2);
    hh_json_end_object(j);
}

static void put_legs(struct hh_json *j, const struct run *r)
{
    const struct hh_strat_group *g = &r->gs.group;

    hh_json_begin_array(j, "legs", true);
    for (int i = 0; i < g->nlegs; i++) {
        const struct hh_leg *l = &g->legs[i];
        const struct hh_margin_leg *m = &r->in.legs[i];
        char e[16];

        hh_date_format(l->expiry, e, sizeof e);
        hh_json_begin_object(j, NULL, false);
        hh_json_str(j, "symbol", l->symbol);
        hh_json_str(j, "side", hh_side_name(l->side));
        hh_json_int(j, "lots", l->lots);
        hh_json_int(j, "qty", l->qty);
        hh_json_str(j, "type", l->opt == HH_OPT_CE ? "CE" : "PE");
        hh_json_fx(j, "strike", l->strike, 2);
        hh_json_str(j, "expiry", e);
        hh_json_num(j, "years", "%.6f", m->T);
        hh_json_num(j, "iv", "%.6g", m->sigma);
        hh_json_fx(j, "model_price", r->model[i], 2);
        hh_json_int(j, "priority", r->prio[i].score);
        hh_json_str(j, "role", hh_leg_role_name(r->prio[i].role));
        hh_json_end_object(j);
    }
    hh_json_end_array(j);
}

static void put_peak(struct hh_json *j, const struct run *r)
{
    const struct hh_margin_result *s = &r->res;
    const struct hh_strat_group *g = &r->gs.group;
    int k = s->peak_step - 1;

    hh_json_begin_object(j, "peak_margin", false);
    hh_json_fx(j, "margin", s->peak, 2);
    hh_json_int(j, "step", s->peak_step);
    put_named(j, "worst_case", r, s->step_worst[k], s->step_loss[k]);
    hh_json_begin_array(j, "execution_order", false);
    for (int i = 0; i < r->in.nlegs; i++)
        hh_json_str(j, NULL, g->legs[r->in.order[i]].symbol);
    hh_json_end_array(j);
    hh_json_break(j);
    hh_json_begin_array(j, "steps", false);
    for (int i = 0; i < r->in.nlegs; i++) {
        hh_json_begin_object(j, NULL, false);
        hh_json_int(j, "step", i + 1);
        hh_json_str(j, "leg", g->legs[r->in.order[i]].symbol);
        hh_json_fx(j, "required", s->step_required[i], 2);
        hh_json_end_object(j);
    }
    hh_json_end_array(j);
    hh_json_end_object(j);
}

static void put_payoff(struct hh_json *j, const struct run *r)
{
    const struct hh_strat_payoff *p = &r->pay;

    if (r->pay_rc) {
        hh_json_null(j, "payoff");
        return;
    }
    hh_json_begin_object(j, "payoff", false);
    hh_json_fx(j, "net_premium", p->net_premium, 2);
    if (p->profit_unbounded)
        hh_json_null(j, "max_profit");
    else
        hh_json_fx(j, "max_profit", p->max_profit, 2);
    if (p->loss_unbounded)
        hh_json_null(j, "max_loss");
    else
        hh_json_fx(j, "max_loss", p->max_loss, 2);
    hh_json_bool(j, "profit_unbounded", p->profit_unbounded);
    hh_json_bool(j, "loss_unbounded", p->loss_unbounded);
    hh_json_begin_array(j, "breakevens", false);
    for (int i = 0; i < p->nbreakevens; i++)
        hh_json_fx(j, NULL, p->breakevens[i], 2);
    hh_json_end_array(j);
    hh_json_end_object(j);
}

static void put_scenarios(struct hh_json *j, const struct run *r)
{
    const struct hh_margin_result *s = &r->res;

    hh_json_begin_array(j, "scenarios", true);
    for (int i = 0; i < s->nscen; i++) {
        hh_json_begin_object(j, NULL, false);
        put_scenario(j, r, i);
        hh_json_fx(j, "loss", s->loss[i], 2);
        hh_json_end_object(j);
    }
    hh_json_end_array(j);
    put_named(j, "worst_case", r, s->worst, s->worst_loss);
    hh_json_fx(j, "exposure_margin", s->exposure, 2);
    hh_json_fx(j, "required_margin", s->required, 2);
}

/* The output document (keys in a fixed order; see the top of the file). */
static void put_output(struct hh_json *j, const struct run *r)
{
    hh_qty_t naked = hh_strat_naked_qty(&r->gs.group);

    hh_json_begin_object(j, NULL, true);
    hh_json_str(j, "id", r->gs.has_id ? r->gs.id : NULL);
    hh_json_str(j, "strategy", r->gs.built ? hh_strat_kind_name(r->gs.build)
                               : r->gs.strategy[0] ? r->gs.strategy : "custom");
    hh_json_str(j, "underlying", r->gs.group.underlying);
    hh_json_time(j, "as_of", r->as_of);
    hh_json_str(j, "as_of_source", r->as_of_source);
    hh_json_fx(j, "spot", r->spot, 2);
    put_ratio(j, "iv", r->iv);
    put_ratio(j, "rate", r->rate);
    put_legs(j, r);
    hh_json_bool(j, "hedged", !naked);
    hh_json_int(j, "naked_qty", naked);
    put_scenarios(j, r);
    put_peak(j, r);
    put_payoff(j, r);
    hh_json_fx(j, "available", r->available, 2);
    put_ratio(j, "margin_buffer", r->buffer);
    hh_json_fx(j, "limit", r->limit, 2);
    hh_json_str(j, "verdict", r->ok ? "OK" : "REJECT");
    if (!r->ok) {
        hh_json_str(j, "reason", hh_sig_reason_name(r->rej.reason));
        hh_json_str(j, "detail", r->rej.detail);
    }
    hh_json_end_object(j);
    hh_json_verbatim(j, "\n");
}

/* Write the output to stdout: HH_EXIT_OK or HH_EXIT_FAIL (said why). */
static int print_output(const struct run *r)
{
    struct hh_json j;
    int code = HH_EXIT_OK;

    hh_json_init(&j, HH_JSON_SPACED | HH_JSON_HTML, NULL, 0);
    put_output(&j, r);
    if (hh_json_status(&j)) {
        fprintf(stderr, ME "out of memory\n");
        code = HH_EXIT_FAIL;
    } else if (fputs(hh_json_text(&j), stdout) == EOF || fflush(stdout) != 0 ||
               ferror(stdout)) {
        fprintf(stderr, ME "write error on standard output\n");
        code = HH_EXIT_FAIL;
    }
    hh_json_free(&j);
    return code;
}

int hh_cmd_margin(int argc, char **argv)
{
    struct opts o;
    const struct hh_opt opts[] = {
        { "--config", &o.config, true, false },
        { "--legs", &o.legs, true, false },
        { "--spot", &o.spot, true, false },
        { "--iv", &o.iv, true, false },
        { "--available", &o.available, true, false },
        { "--as-of", &o.as_of, false, false },
        { "--rate", &o.rate, false, false },
    };
    struct hh_world w;
    struct hh_diag d = { "" };
    struct run *r;
    char *text = NULL;
    size_t len = 0;
    int code;

    if (hh_app_parse("margin", USAGE, argc, argv, opts, (int)(sizeof opts / sizeof *opts)))
        return HH_EXIT_USAGE;
    r = calloc(1, sizeof *r);
    if (!r) {
        fprintf(stderr, ME "out of memory\n");
        return HH_EXIT_FAIL;
    }
    if (hh_world_load(&w, o.config, &d)) {
        fprintf(stderr, ME "%s\n", d.msg);
        free(r);
        return HH_EXIT_USAGE;
    }
    code = parse_values(&o, r);
    if (code)
        goto out;
    text = read_file(o.legs, &len);
    if (!text) {
        code = HH_EXIT_USAGE;
        goto out;
    }
    if (!hh_group_parse(text, len, w.inst, w.cal, &r->gs, &r->rej)) {
        fprintf(stderr, ME "%s: %s: %s\n", o.legs, hh_sig_reason_name(r->rej.reason),
                r->rej.detail);
        code = HH_EXIT_USAGE;
        goto out;
    }
    code = pick_as_of(&o, w.cal, r);
    if (code)
        goto out;
    code = evaluate(&o, &w, r);
    if (code)
        goto out;
    code = print_output(r);
out:
    free(text);
    hh_world_free(&w);
    free(r);
    return code;
}
