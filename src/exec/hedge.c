/*
 * hedge.c — emergency hedge bookkeeping.
 *
 * Invariant: held + pending never exceeds the largest unmatched quantity
 * passed to hh_hedge_decide() since the hedges held were bought.
 */
#include "exec/hedge.h"

#include <string.h>

void hh_hedge_init(struct hh_hedge *h)
{
    memset(h, 0, sizeof *h);
    h->last = HH_TIME_NONE;
}

hh_qty_t hh_hedge_decide(struct hh_hedge *h, int64_t debounce, hh_qty_t unmatched,
                         hh_time_t now)
{
    hh_qty_t need = unmatched - h->held - h->pending;

    if (unmatched <= 0 || need <= 0)
        return 0;
    if (h->last != HH_TIME_NONE && now - h->last < debounce)
        return 0;  /* debounced: the next decision may hedge the rest */
    h->last = now;
    h->pending += need;
    h->hedges++;
    return need;
}

void hh_hedge_filled(struct hh_hedge *h, hh_qty_t qty)
{
    h->pending -= qty > h->pending ? h->pending : qty;
    h->held += qty;   /* what the broker executed, whatever was asked */
}

void hh_hedge_released(struct hh_hedge *h, hh_qty_t qty)
{
    h->pending -= qty > h->pending ? h->pending : qty;
}

void hh_hedge_sold(struct hh_hedge *h, hh_qty_t qty)
{
    h->held -= qty > h->held ? h->held : qty;
}
