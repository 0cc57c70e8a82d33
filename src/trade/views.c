/*
 * views.c — the manager's trades and orders as seen from outside (the
 * operations API, reports), and closing one trade on request.  Read-only
 * but for hh_tm_exit_trade(), which goes through the same exit rules as a
 * square-off.
 */
#include "trade/tm_int.h"

#include <string.h>

static const char *trade_state_name(enum tstate s)
{
    static const char *const names[] = { "WAITING", "ENTERING", "OPEN", "CLOSED", "DROPPED" };

    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

size_t hh_tm_trade_count(const struct hh_tm *tm)
{
    return tm->ntrades;
}

int hh_tm_trade_view(const struct hh_tm *tm, size_t i, struct hh_tm_trade_view *out)
{
    const struct trade *t;
    hh_money_t exited_cost;

    if (i >= tm->ntrades)
        return HH_ENOTFOUND;
    t = &tm->trades[i];
    memset(out, 0, sizeof *out);
    out->signal_id = t->sig.id;
    out->state = trade_state_name(t->st);
    out->trade_id = t->trade_id;
    out->iid = t->sig.iid;
    out->side = t->sig.side;
    out->adopted = t->adopted;
    out->entered = t->entry_filled;
    out->pos = t->pos;
    out->entry_avg = t->entry_filled
        ? (hh_price_t)hh_i128_div_round(t->entry_value, t->entry_filled) : 0;
    /* the exited units at the entry's average cost, against what they fetched */
    exited_cost = (hh_money_t)hh_i128_div_round((__int128)t->entry_value * t->exit_qty,
                                                t->entry_filled ? t->entry_filled : 1);
    out->realised = t->sig.side == HH_BUY ? t->exit_value - exited_cost
                                          : exited_cost - t->exit_value;
    out->charges = t->charges;
    out->entry_ts = t->entry_filled ? t->entry_ts : HH_TIME_NONE;
    out->exit_ts = t->exit_qty ? t->exit_ts : HH_TIME_NONE;
    return HH_OK;
}

size_t hh_tm_order_count(const struct hh_tm *tm)
{
    return tm->nrefs;
}

int hh_tm_order_view(const struct hh_tm *tm, size_t i, struct hh_tm_order_view *out)
{
    const struct order_ref *ref;

    if (i >= tm->nrefs)
        return HH_ENOTFOUND;
    ref = &tm->refs[i];
    memset(out, 0, sizeof *out);
    out->client_id = ref->req.client_id;
    out->order_id = ref->boid;
    out->state = hh_ord_state_name(ref->ord.state);
    out->iid = ref->req.iid;
    out->side = ref->req.side;
    out->type = ref->req.type;
    out->qty = ref->qty;
    out->filled = ref->filled;
    out->limit = ref->req.limit;
    out->trigger = ref->req.trigger;
    out->avg_price = ref->filled ? (hh_price_t)hh_i128_div_round(ref->value, ref->filled) : 0;
    out->working = !ref->done;
    out->placed_at = ref->placed_at;
    out->group = ref->group;
    out->trade_id = ref->group ? tm->groups[ref->trade].trade_id : tm->trades[ref->trade].trade_id;
    return HH_OK;
}

hh_price_t hh_tm_last_price(const struct hh_tm *tm, hh_iid_t iid)
{
    return iid < tm->nsyms ? tm->syms[iid].last : 0;
}

static void need_iid(bool *need, size_t n, hh_iid_t iid)
{
    if (iid < n)
        need[iid] = true;
}

/* A group's legs and its underlying (its spot prices the legs). */
static void need_group(const struct hh_tm *tm, const struct hh_strat_group *g, bool *need,
                       size_t n)
{
    for (int k = 0; k < g->nlegs; k++)
        need_iid(need, n, g->legs[k].iid);
    need_iid(need, n, hh_inst_find(tm->inst, g->underlying, strlen(g->underlying)));
}

void hh_tm_market_needs(const struct hh_tm *tm, bool *need, size_t n)
{
    for (size_t i = 0; i < tm->narr; i++) {
        need_iid(need, n, tm->arr[i].sig.iid);
        if (tm->arr[i].g)
            need_group(tm, tm->arr[i].g, need, n);
    }
    for (size_t i = 0; i < tm->ntrades; i++)
        if (tm->trades[i].st != T_CLOSED && tm->trades[i].st != T_DROPPED)
            need_iid(need, n, tm->trades[i].sig.iid);
    for (size_t i = 0; i < tm->ngroups; i++)
        if (tm->groups[i].st != G_CLOSED && tm->groups[i].st != G_DROPPED)
            need_group(tm, &tm->groups[i].g, need, n);
}

int hh_tm_exit_trade(struct hh_tm *tm, uint32_t trade_id)
{
    if (!trade_id)
        return HH_ENOTFOUND;
    for (size_t i = 0; i < tm->ntrades; i++) {
        if (tm->trades[i].trade_id != trade_id)
            continue;
        if (tm->trades[i].st != T_OPEN || !hh_tm__kill_allows(tm, P_SQUAREOFF, false))
            return HH_ESTATE;
        hh_tm__squareoff(tm, (uint32_t)i);
        hh_tm__flush_maybe(tm);
        return HH_OK;
    }
    for (size_t gi = 0; gi < tm->ngroups; gi++) {
        int rc;

        if (tm->groups[gi].trade_id != trade_id)
            continue;
        if (!hh_tm__kill_allows(tm, P_CLOSE, true))
            return HH_ESTATE;
        rc = hh_tm__group_exit(tm, gi);
        hh_tm__flush_maybe(tm);
        return rc;
    }
    return HH_ENOTFOUND;
}
