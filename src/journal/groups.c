/*
 * groups.c — multi-leg groups as group_exec rows: after a step that changed
 * the engine, every group whose view (state, legs' quantities, hedge)
 * changed since it was last written is upserted, its legs as JSON.
 *
 * Invariants: a group is written again only when its view's fingerprint
 * changed; groups[i] tracks the manager's group i; groups before
 * first_live_group are done (CLOSED or DROPPED and written) and never
 * looked at again.
 */
#include "journal/journal_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t fnv(uint64_t h, const void *data, size_t n)
{
    const unsigned char *b = data;

    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

static uint64_t view_fp(const struct hh_tm_group_view *v)
{
    uint64_t h = fnv(0xcbf29ce484222325ULL, v->state, strlen(v->state));

    h = fnv(h, &v->trade_id, sizeof v->trade_id);
    h = fnv(h, &v->rolled_back, sizeof v->rolled_back);
    h = fnv(h, &v->hedged, sizeof v->hedged);
    h = fnv(h, &v->unhedged, sizeof v->unhedged);
    for (int i = 0; i < v->nlegs; i++) {
        const struct hh_tm_leg_view *l = &v->legs[i];

        h = fnv(h, &l->iid, sizeof l->iid);
        h = fnv(h, &l->target, sizeof l->target);
        h = fnv(h, &l->filled, sizeof l->filled);
        h = fnv(h, &l->closed, sizeof l->closed);
    }
    return h;
}

/* The group_exec upsert of one group's view: legs as JSON. */
static void put_group(struct hh_journal *p, const struct hh_tm_group_view *v)
{
    struct hh_store_rec *r;
    const char *legs;

    hh_journal__payload_begin(p);
    hh_json_uint(&p->j, "trade_id", v->trade_id);
    hh_json_bool(&p->j, "rolled_back", v->rolled_back);
    hh_json_int(&p->j, "hedged", v->hedged);
    hh_json_int(&p->j, "unhedged", v->unhedged);
    hh_json_begin_array(&p->j, "legs", false);
    for (int i = 0; i < v->nlegs; i++) {
        const struct hh_tm_leg_view *l = &v->legs[i];

        hh_json_begin_object(&p->j, NULL, false);
        hh_json_str(&p->j, "symbol", hh_journal__sym(p, l->iid));
        hh_json_str(&p->j, "side", hh_side_name(l->side));
        hh_json_int(&p->j, "target", l->target);
        hh_json_int(&p->j, "filled", l->filled);
        hh_json_int(&p->j, "closed", l->closed);
        hh_json_end_object(&p->j);
    }
    hh_json_end_array(&p->j);
    hh_json_end_object(&p->j);
    legs = hh_journal__payload_keep(p);
    r = hh_journal__rec(p, HH_STORE_GROUP);
    if (!r)
        return;
    r->u.group.group_id = hh_journal__keep(p, v->id);
    r->u.group.state = hh_journal__keep(p, v->state);
    r->u.group.legs_json = legs;
    r->u.group.at = HH_TIME_NONE;   /* the step's time */
}

/* A group that ended without a trade (nothing filled: no closed sink)
 * ends its trade_state here. */
static void group_ended(struct hh_journal *p, const struct hh_tm_group_view *v)
{
    const char *live = hh_journal__trade_corr(p, v->id);
    char corr[HH_SIG_TEXT_MAX];

    if (!live)
        return;
    snprintf(corr, sizeof corr, "%s", live);   /* the transition forgets the trade */
    hh_journal__transition(p, v->id, corr,
                           !strcmp(v->state, "CLOSED") ? HH_TS_CLOSED : HH_TS_DROPPED,
                           HH_TIME_NONE, v->rolled_back ? "rolled back" : "no fill");
}

void hh_journal__scan_groups(struct hh_journal *p)
{
    size_t n = hh_tm_group_count(p->tm);

    if (n > p->ngroups) {
        struct gtrack *g = realloc(p->groups, n * sizeof *g);

        if (!g) {
            hh_journal__latch(p, HH_ENOMEM, "out of memory recording the run");
            return;
        }
        memset(g + p->ngroups, 0, (n - p->ngroups) * sizeof *g);
        p->groups = g;
        p->ngroups = n;
    }
    for (size_t i = p->first_live_group; i < n && !p->rc; i++) {
        struct gtrack *g = &p->groups[i];
        struct hh_tm_group_view v;
        uint64_t fp;

        if (g->done) {
            if (i == p->first_live_group)
                p->first_live_group++;
            continue;
        }
        if (hh_tm_group_view(p->tm, i, &v))
            continue;
        fp = view_fp(&v);
        if (g->written && g->fp == fp)
            continue;
        put_group(p, &v);
        g->fp = fp;
        g->written = true;
        if (!strcmp(v.state, "CLOSED") || !strcmp(v.state, "DROPPED")) {
            g->done = true;
            group_ended(p, &v);
        }
    }
}

