/*
 * ring.c — the bounded queue between a feed's thread and the core
 * (feed_int.h, struct hh_feed__ring).
 *
 * Invariants: n <= cap; the items queued are slots head, head + 1, ...
 * (mod cap), oldest first; only a holder of the hub's mutex reads or
 * changes head, n and stop; once stop is set it stays set.
 */
#include "feed/feed_int.h"

#include <string.h>

void hh_feed__ring_init(struct hh_feed__ring *r, void *slots, size_t size, size_t cap)
{
    r->slots = slots;
    r->size = size;
    r->cap = cap;
    r->head = r->n = 0;
    r->stop = false;
}

bool hh_feed__ring_push(struct hh_feed_hub *h, struct hh_feed__ring *r, const void *item)
{
    while (!r->stop && r->n == r->cap)
        pthread_cond_wait(&h->space, &h->mu);
    if (r->stop)
        return false;
    memcpy(r->slots + (r->head + r->n) % r->cap * r->size, item, r->size);
    r->n++;
    hh_feed__wake_locked(h);
    return true;
}

bool hh_feed__ring_pop(struct hh_feed_hub *h, struct hh_feed__ring *r, void *out)
{
    if (!r->n)
        return false;
    memcpy(out, r->slots + r->head * r->size, r->size);
    r->head = (r->head + 1) % r->cap;
    r->n--;
    pthread_cond_broadcast(&h->space);
    return true;
}

bool hh_feed__ring_peek(const struct hh_feed__ring *r, void *out)
{
    if (!r->n)
        return false;
    memcpy(out, r->slots + r->head * r->size, r->size);
    return true;
}

void hh_feed__ring_stop(struct hh_feed_hub *h, struct hh_feed__ring *r)
{
    pthread_mutex_lock(&h->mu);
    r->stop = true;
    pthread_cond_broadcast(&h->space);
    pthread_mutex_unlock(&h->mu);
}

bool hh_feed__ring_stopping(struct hh_feed_hub *h, struct hh_feed__ring *r)
{
    bool s;

    pthread_mutex_lock(&h->mu);
    s = r->stop;
    pthread_mutex_unlock(&h->mu);
    return s;
}
