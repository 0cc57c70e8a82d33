/*
 * kill.c — the kill switch (SPEC §12): what may still be placed in each
 * state, and what each action withdraws.  The gate is written once,
 * hh_tm__kill_allows(): at the decision (hh_tm__place_req: nothing is even
 * queued) and again when a queued order is sent (orders.c: what was
 * decided before the switch is withdrawn unsent).  A stopping engine
 * (hh_tm_stop: SIGTERM) passes the same gate: no entry, whatever the switch
 * says; exits go on (a protective exit is never abandoned half-way).
 */
#include "trade/tm_int.h"

const char *hh_tm_trading_name(enum hh_tm_trading s)
{
    static const char *const names[] = { "ACTIVE", "PAUSED", "REDUCING", "HALTED" };

    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

enum hh_tm_trading hh_tm_trading(const struct hh_tm *tm)
{
    return tm->trading;
}

bool hh_tm_flattening(const struct hh_tm *tm)
{
    return tm->flatten;
}

/* An order that reduces a position: every exit (stops, targets,
 * square-offs, a group's closing orders) — not an entry, not a hedge. */
static bool reduces(enum purpose p)
{
    return p != P_ENTRY && p != P_HEDGE;
}

bool hh_tm__kill_allows(const struct hh_tm *tm, enum purpose p, bool group)
{
    if (tm->stopping && p == P_ENTRY)
        return false;   /* a stopping engine starts no new risk */
    switch (tm->trading) {
    case HH_TRADING_ACTIVE:
    case HH_TRADING_PAUSED:   /* (nothing new is entered: hh_tm_select) */
        return true;
    case HH_TRADING_REDUCING:
        return reduces(p);
    case HH_TRADING_HALTED:
        /* flatten: the market orders that close, nothing else */
        return tm->flatten && (group ? p == P_CLOSE : p == P_SQUAREOFF);
    }
    return false;
}

/* Working entries of single trades withdrawn: the trades wait again. */
static void withdraw_entries(struct hh_tm *tm)
{
    for (size_t i = 0; i < tm->ntrades; i++)
        if (tm->trades[i].st == T_ENTERING)
            hh_tm__abandon(tm, (uint32_t)i, false);
}

/* Every working order cancelled, the hybrid stops aborted first (no
 * market order may follow a cancelled stop-limit). */
static void cancel_all(struct hh_tm *tm)
{
    for (size_t i = 0; i < tm->ntrades; i++)
        if (tm->trades[i].st == T_OPEN)
            hh_tm__abort_exits(tm, (uint32_t)i);
    for (size_t k = 0; k < tm->nrefs; k++)   /* by index: reports may grow refs[] */
        if (!tm->refs[k].done)
            hh_tm__queue_cancel(tm, &tm->refs[k]);
}

/* Every open trade closed at market (its other orders withdrawn first). */
static void close_all(struct hh_tm *tm)
{
    for (size_t i = 0; i < tm->ntrades; i++) {
        if (tm->trades[i].st != T_OPEN)
            continue;
        hh_tm__begin_exit(tm, (uint32_t)i, X_SQUAREOFF);
        hh_tm__drive(tm, (uint32_t)i);
    }
}

void hh_tm_kill(struct hh_tm *tm, enum hh_tm_kill k)
{
    static const enum hh_tm_trading to[] = { HH_TRADING_PAUSED, HH_TRADING_REDUCING,
                                             HH_TRADING_HALTED, HH_TRADING_HALTED,
                                             HH_TRADING_ACTIVE };

    tm->trading = to[k];
    tm->flatten = k == HH_TM_FLATTEN;
    tm->changes++;
    tm->x.dirty = true;
    if (k == HH_TM_PAUSE || k == HH_TM_REDUCE)
        withdraw_entries(tm);
    if (k == HH_TM_HALT || k == HH_TM_FLATTEN)
        cancel_all(tm);
    hh_tm__groups_kill(tm, k);
    if (k == HH_TM_FLATTEN)
        close_all(tm);
    for (size_t i = 0; k == HH_TM_RESUME && i < tm->ntrades; i++)
        hh_tm__drive(tm, (uint32_t)i);   /* the stops come back */
    hh_tm__flush_maybe(tm);
}

void hh_tm_stop(struct hh_tm *tm)
{
    tm->stopping = true;
    tm->x.dirty = true;
    /* decided, never sent: withdrawn (a single trade waits again); an
     * entry the broker may have (sent, or of unknown outcome) is followed */
    for (size_t k = 0; k < tm->nrefs; k++) {   /* by index: reports may grow refs[] */
        struct order_ref *ref = &tm->refs[k];

        if (!ref->done && ref->purpose == P_ENTRY &&
            (ref->pstate == PS_QUEUED || ref->pstate == PS_RETRY))
            hh_tm__queue_cancel(tm, ref);
    }
    hh_tm__flush_maybe(tm);
}

bool hh_tm_stopping(const struct hh_tm *tm)
{
    return tm->stopping;
}

bool hh_tm_flat(const struct hh_tm *tm)
{
    if (!tm->flatten)
        return false;
    for (size_t i = 0; i < tm->ntrades; i++)
        if (tm->trades[i].st == T_OPEN || tm->trades[i].st == T_ENTERING)
            return false;
    for (size_t i = 0; i < tm->ngroups; i++)
        if (tm->groups[i].st == G_ENTERING || tm->groups[i].st == G_OPEN ||
            tm->groups[i].st == G_EXITING)
            return false;
    for (size_t k = 0; k < tm->nrefs; k++)
        if (!tm->refs[k].done)
            return false;
    return true;
}
