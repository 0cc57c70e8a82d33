/*
 * ring.c — the bounded queues between a feed's thread and the core
 * (feed_int.h): the locked ring (signals: lines and Kafka, whose state is
 * shared under the hub's mutex anyway) and the lock-free SPSC ring (market
 * data).
 *
 * Invariants, locked ring: n <= cap; the items queued are slots head,
 * head + 1, ... (mod cap), oldest first; only a holder of the hub's mutex
 * reads or changes head, n and stop; once stop is set it stays set.
 * SPSC ring: head <= tail <= written <= head + cap; the items queued are
 * tail - head counts from head (mod cap); only the producer writes tail,
 * written and a slot outside [head, written), only the consumer head; a
 * slot is published by the release store of tail after it is written, and
 * given back by the release store of head after it is read.
 */
#include "feed/feed_int.h"

#include <string.h>
#include <time.h>

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

/* ---- the SPSC ring ---------------------------------------------------------------- */

void hh_feed__spsc_init(struct hh_feed__spsc *r, void *slots, size_t size, size_t cap)
{
    r->slots = slots;
    r->size = size;
    r->cap = cap;
    atomic_init(&r->tail, 0);
    atomic_init(&r->head, 0);
    r->written = r->head_seen = r->tail_seen = 0;
    atomic_init(&r->room_wanted, false);
    atomic_init(&r->stop, false);
}

/* The producer: is there room, looking at the shared head if its copy says
 * full? */
static bool spsc_room(struct hh_feed__spsc *r)
{
    if (r->written - r->head_seen < r->cap)
        return true;
    r->head_seen = atomic_load_explicit(&r->head, memory_order_acquire);
    return r->written - r->head_seen < r->cap;
}

/* The producer parks until the consumer has emptied the ring to half or
 * whole (it clears room_wanted then) or the feed stops.  Dekker with
 * spsc_give_room: room_wanted is set before head is read again, head is
 * stored before room_wanted is read, each pair ordered by a sequentially
 * consistent operation or fence, so a park never misses the ring emptied.
 * (A full ring is all published: spsc_put publishes before it waits.) */
static void spsc_wait_room(struct hh_feed_hub *h, struct hh_feed__spsc *r)
{
    atomic_store(&r->room_wanted, true);
    r->head_seen = atomic_load(&r->head);
    if (r->written - r->head_seen < r->cap || atomic_load(&r->stop)) {
        atomic_store(&r->room_wanted, false);
        return;
    }
    pthread_mutex_lock(&h->mu);
    while (atomic_load(&r->room_wanted) && !atomic_load(&r->stop))
        pthread_cond_wait(&h->space, &h->mu);
    pthread_mutex_unlock(&h->mu);
}

bool hh_feed__spsc_put(struct hh_feed_hub *h, struct hh_feed__spsc *r, const void *item)
{
    while (!spsc_room(r)) {
        if (atomic_load(&r->stop))
            return false;
        hh_feed__spsc_publish(h, r);
        spsc_wait_room(h, r);
    }
    if (atomic_load(&r->stop))
        return false;
    memcpy(r->slots + r->written % r->cap * r->size, item, r->size);
    r->written++;
    return true;
}

void hh_feed__spsc_publish(struct hh_feed_hub *h, struct hh_feed__spsc *r)
{
    if (atomic_load_explicit(&r->tail, memory_order_relaxed) == r->written)
        return;
    atomic_store_explicit(&r->tail, r->written, memory_order_release);
    hh_feed__wake_lazy(h);
}

size_t hh_feed__spsc_unpublished(const struct hh_feed__spsc *r)
{
    return r->written - atomic_load_explicit(&r->tail, memory_order_relaxed);
}

/* The consumer, having emptied the ring to half or whole: release a
 * producer parked for room. */
static void spsc_give_room(struct hh_feed_hub *h, struct hh_feed__spsc *r)
{
    atomic_thread_fence(memory_order_seq_cst);   /* head stored before the look */
    if (!atomic_load(&r->room_wanted))
        return;
    pthread_mutex_lock(&h->mu);
    atomic_store(&r->room_wanted, false);
    pthread_cond_broadcast(&h->space);
    pthread_mutex_unlock(&h->mu);
}

bool hh_feed__spsc_pop(struct hh_feed_hub *h, struct hh_feed__spsc *r, void *out)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);

    if (head == r->tail_seen) {
        r->tail_seen = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (head == r->tail_seen) {
            /* Empty: a producer that found it full has parked by now, and
             * this look (after the last head stored) cannot miss it. */
            spsc_give_room(h, r);
            return false;
        }
    }
    memcpy(out, r->slots + head % r->cap * r->size, r->size);
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
    /* Half way down (as the consumer's copy of tail counts): the producer
     * refills while the rest is taken.  A pass this misses (a copy of tail
     * stale by more than half a ring) is caught when the ring is empty. */
    if (r->tail_seen - (head + 1) == r->cap / 2)
        spsc_give_room(h, r);
    return true;
}

void hh_feed__spsc_stop(struct hh_feed_hub *h, struct hh_feed__spsc *r)
{
    pthread_mutex_lock(&h->mu);
    atomic_store(&r->stop, true);
    pthread_cond_broadcast(&h->space);
    pthread_mutex_unlock(&h->mu);
}

bool hh_feed__spsc_stopping(const struct hh_feed__spsc *r)
{
    return atomic_load(&r->stop);
}
