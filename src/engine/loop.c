/*
 * loop.c — the one event loop (contract in loop.h).
 *
 * Invariant: an event is taken only when no other source, ready or
 * pending, can produce one that comes before it — so the order of events
 * is a function of the sources' contents alone, whatever the threads
 * behind them did when.  (A belled source counts as it last answered
 * while its bell is still: what its thread delivers rings the bell, so
 * only an answer that changes with the core's own state waits, for at
 * most HH_LOOP_RECHECK events; the loop never waits on a kept answer.)
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

/* Source i's answer: kept from its last peek while it is quiet (belled,
 * PENDING, its bell unmoved; *kept set), else asked. */
static enum hh_src_state peek(struct hh_loop *L, int i, struct hh_ev_key *key, bool *kept)
{
    const struct hh_source *s = &L->src[i];
    enum hh_src_state st;

    if (!s->bell)
        return s->ops->peek(s->impl, key);
    if (L->quiet[i] && atomic_load_explicit(s->bell, memory_order_acquire) == L->heard[i]) {
        *key = L->quiet_key[i];
        *kept = true;
        return HH_SRC_PENDING;
    }
    /* read before the peek: a delivery after it moves the bell again */
    L->heard[i] = atomic_load_explicit(s->bell, memory_order_acquire);
    st = s->ops->peek(s->impl, key);
    L->quiet[i] = st == HH_SRC_PENDING;
    L->quiet_key[i] = *key;
    return st;
}

/* Every kept answer is asked again at the next look. */
static void recheck(struct hh_loop *L)
{
    memset(L->quiet, 0, sizeof L->quiet);
    L->since_recheck = 0;
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
        bool pending = false, kept = false;

        for (int i = 0; i < L->n; i++) {
            st[i] = peek(L, i, &key[i], &kept);
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
            if (kept) {
                recheck(L);   /* never wait on a kept answer: ask first */
                continue;
            }
            if (!L->wait)
                return HH_ESTATE;
            L->wait(L->ctx, best < 0 ? NULL : best_key);
            recheck(L);
            continue;
        }
        for (int i = 0; i < L->n; i++)
            if (i != best && st[i] != HH_SRC_END && before(&key[i], bound))
                bound = &key[i];
        L->takes++;
        if (best_key->cls != HH_EV_MARKET || ++L->since_recheck == HH_LOOP_RECHECK)
            recheck(L);
        if ((rc = L->src[best].ops->take(L->src[best].impl, bound)))
            return rc;
    }
    return HH_OK;
}
