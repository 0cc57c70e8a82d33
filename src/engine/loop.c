/*
 * loop.c — the one event loop (contract in loop.h).
 *
 * Invariant: an event is taken only when no other source, ready or
 * pending, can produce one that comes before it — so the order of events
 * is a function of the sources' contents alone, whatever the threads
 * behind them did when.
 */
#include "engine/loop.h"

#include "core/err.h"

#include <string.h>

void hh_loop_init(struct hh_loop *L)
{
    memset(L, 0, sizeof *L);
}

int hh_loop_add(struct hh_loop *L, struct hh_source s)
{
    if (L->n >= HH_LOOP_SOURCES_MAX)
        return HH_EFULL;
    L->src[L->n++] = s;
    return HH_OK;
}

static const struct hh_ev_key KEY_MAX = { HH_TIME_MAX, HH_EV_MARKET, UINT64_MAX };

static bool before(const struct hh_ev_key *a, const struct hh_ev_key *b)
{
    return hh_ev_cmp(a, b) < 0;
}

/* The keys are compared where the peeks wrote them, never copied: a copy
 * read back at once stalls on the store it follows (a tenth of a replay's
 * core time went there). */
int hh_loop_run(struct hh_loop *L)
{
    while (!(L->stopped && L->stopped(L->ctx))) {
        struct hh_ev_key key[HH_LOOP_SOURCES_MAX];
        const struct hh_ev_key *best_key = &KEY_MAX, *pend = &KEY_MAX, *bound = &KEY_MAX;
        enum hh_src_state st[HH_LOOP_SOURCES_MAX];
        int best = -1, rc;
        bool pending = false;

        for (int i = 0; i < L->n; i++) {
            st[i] = L->src[i].ops->peek(L->src[i].impl, &key[i]);
            if (st[i] == HH_SRC_PENDING) {
                pending = true;
                if (before(&key[i], pend))
                    pend = &key[i];
            } else if (st[i] == HH_SRC_READY && (best < 0 || before(&key[i], best_key))) {
                best = i;
                best_key = &key[i];
            }
        }
        if (best < 0 && !pending)
            return HH_OK;
        if (best < 0 || (pending && !before(best_key, pend))) {
            if (!L->wait)
                return HH_ESTATE;
            L->wait(L->ctx, best < 0 ? NULL : best_key);
            continue;
        }
        for (int i = 0; i < L->n; i++)
            if (i != best && st[i] != HH_SRC_END && before(&key[i], bound))
                bound = &key[i];
        L->takes++;
        if ((rc = L->src[best].ops->take(L->src[best].impl, bound)))
            return rc;
    }
    return HH_OK;
}
