/*
 * hedge.c — emergency hedge bookkeeping.
 *
 * Invariant per key: filled + pending never exceeds the largest unmatched
 * quantity passed to hh_hedge_decide() for that key.
 */
#include "exec/hedge.h"

#include <string.h>

void hh_hedge_init(struct hh_hedge_mgr *m, int64_t debounce)
{
    memset(m, 0, sizeof *m);
    m->debounce = debounce;
}

static struct hh_hedge_key_state *find(const struct hh_hedge_mgr *m, uint64_t key)
{
    for (int i = 0; i < m->nkeys; i++)
        if (m->k[i].key == key)
            return (struct hh_hedge_key_state *)&m->k[i];
    return NULL;
}

static struct hh_hedge_key_state *get(struct hh_hedge_mgr *m, uint64_t key)
{
    struct hh_hedge_key_state *s = find(m, key);

    if (s || m->nkeys == HH_HEDGE_KEYS_MAX)
        return s;
    s = &m->k[m->nkeys++];
    memset(s, 0, sizeof *s);
    s->key = key;
    s->last = HH_TIME_NONE;
    return s;
}

hh_qty_t hh_hedge_decide(struct hh_hedge_mgr *m, uint64_t key, hh_qty_t unmatched,
                         hh_time_t now)
{
    struct hh_hedge_key_state *s = get(m, key);
    hh_qty_t need;

    if (!s || unmatched <= 0)
        return 0;
    need = unmatched - s->filled - s->pending;
    if (need <= 0)
        return 0;
    if (s->last != HH_TIME_NONE && now - s->last < m->debounce)
        return 0;  /* debounced: the next decision may hedge the rest */
    s->last = now;
    s->pending += need;
    s->hedges++;
    return need;
}

void hh_hedge_filled(struct hh_hedge_mgr *m, uint64_t key, hh_qty_t qty)
{
    struct hh_hedge_key_state *s = find(m, key);

    if (!s)
        return;
    if (qty > s->pending)
        qty = s->pending;
    s->pending -= qty;
    s->filled += qty;
}

void hh_hedge_released(struct hh_hedge_mgr *m, uint64_t key, hh_qty_t qty)
{
    struct hh_hedge_key_state *s = find(m, key);

    if (!s)
        return;
    s->pending -= qty > s->pending ? s->pending : qty;
}

void hh_hedge_forget(struct hh_hedge_mgr *m, uint64_t key)
{
    struct hh_hedge_key_state *s = find(m, key);

    if (s)
        *s = m->k[--m->nkeys];
}

hh_qty_t hh_hedge_filled_qty(const struct hh_hedge_mgr *m, uint64_t key)
{
    const struct hh_hedge_key_state *s = find(m, key);

    return s ? s->filled : 0;
}

hh_qty_t hh_hedge_pending_qty(const struct hh_hedge_mgr *m, uint64_t key)
{
    const struct hh_hedge_key_state *s = find(m, key);

    return s ? s->pending : 0;
}
