/*
 * feed_int.h — what the feed's files share (feed.c: the hub and the line
 * feed; replay.c: the replay feed; ring.c: their queue).  Nothing outside
 * src/feed includes it.
 */
#ifndef HH_FEED_INT_H
#define HH_FEED_INT_H

#include "feed/feed.h"

#include "core/lines.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

struct hh_feed_hub {
    pthread_mutex_t mu;            /* guards the locked rings and their feeds' state */
    pthread_cond_t core;           /* the core waits here */
    pthread_cond_t space;          /* producers wait here for room */
    atomic_bool woken;             /* a wake not yet seen by a wait */
    atomic_bool sleeping;          /* the core is in hh_feed_hub_wait (set under mu) */
    atomic_uint bell;              /* moved by every hh_feed_hub_wake */
    bool parked;                   /* a detached reader still uses the hub: never freed */
};

/* Wake the core; the caller holds h->mu. */
void hh_feed__wake_locked(struct hh_feed_hub *h);

/* Wake the core without the hub's mutex unless it sleeps: a producer calls
 * it after publishing an item (a fence orders the two), so the core either
 * sees the item before it sleeps or is woken. */
void hh_feed__wake_lazy(struct hh_feed_hub *h);

/*
 * A feed's queue to the core: a bounded FIFO of fixed-size items in the
 * feed's own array, guarded by its hub's mutex, and the feed's stop flag.
 * A full ring blocks its producer (back-pressure, never a drop) until the
 * core pops or the feed is stopped.  push, pop and peek are called with
 * h->mu held; init, stop and stopping take no lock of the caller's.
 */
struct hh_feed__ring {
    unsigned char *slots;          /* cap items of `size` bytes (the feed's array) */
    size_t size, cap;
    size_t head, n;                /* the oldest item, items queued */
    bool stop;                     /* the feed was asked to stop */
};

void hh_feed__ring_init(struct hh_feed__ring *r, void *slots, size_t size, size_t cap);

/* Append *item, waiting on h->space while the ring is full, and wake the
 * core; false (nothing appended) once the feed is stopped. */
bool hh_feed__ring_push(struct hh_feed_hub *h, struct hh_feed__ring *r, const void *item);

/* Move the oldest item into *out and wake producers waiting for room;
 * false when the ring is empty. */
bool hh_feed__ring_pop(struct hh_feed_hub *h, struct hh_feed__ring *r, void *out);

/* Copy the oldest item into *out, leaving it queued; false when empty. */
bool hh_feed__ring_peek(const struct hh_feed__ring *r, void *out);

/* Ask the feed to stop: a producer waiting for room gives up. */
void hh_feed__ring_stop(struct hh_feed_hub *h, struct hh_feed__ring *r);

/* Whether the feed was asked to stop (its thread polls this). */
bool hh_feed__ring_stopping(struct hh_feed_hub *h, struct hh_feed__ring *r);

/*
 * The market data's queue to the core: a bounded single-producer,
 * single-consumer FIFO on atomics, so the core takes no lock per tick (a
 * replay flat out hands over millions).  The producer writes items (put)
 * and makes them visible in batches (publish): the consumer then reads
 * slots the producer is done with, instead of chasing it line by line.
 * Each side keeps its copy of the other's index and reads the shared one
 * only when its copy says empty (consumer) or full (producer).  A full ring
 * parks its producer until the consumer has emptied it to half (one wake
 * per half ring, not per item); the consumer is woken through
 * hh_feed__wake_lazy at each publication.
 */
struct hh_feed__spsc {
    unsigned char *slots;          /* cap items of `size` bytes (the feed's array) */
    size_t size, cap;
    _Alignas(64) atomic_size_t tail;   /* items published (the producer's) */
    size_t written;                /* items written, >= tail (the producer's) */
    size_t head_seen;              /* the producer's copy of head */
    _Alignas(64) atomic_size_t head;   /* items popped (the consumer's) */
    size_t tail_seen;              /* the consumer's copy of tail */
    _Alignas(64) atomic_bool room_wanted;  /* the producer waits (on hub->space) */
    atomic_bool stop;              /* the feed was asked to stop */
};

void hh_feed__spsc_init(struct hh_feed__spsc *r, void *slots, size_t size, size_t cap);

/* The producer: write *item after the items written, waiting while the
 * ring is full (what was written is published first); false (nothing
 * written) once the feed is stopped.  The item is not visible yet. */
bool hh_feed__spsc_put(struct hh_feed_hub *h, struct hh_feed__spsc *r, const void *item);

/* The producer: make every item written visible and wake the core. */
void hh_feed__spsc_publish(struct hh_feed_hub *h, struct hh_feed__spsc *r);

/* The producer: items written and not yet published. */
size_t hh_feed__spsc_unpublished(const struct hh_feed__spsc *r);

/* The consumer: move the oldest item into *out; false when empty. */
bool hh_feed__spsc_pop(struct hh_feed_hub *h, struct hh_feed__spsc *r, void *out);

/* Ask the feed to stop (a producer waiting for room gives up); stopping
 * says whether it was asked. */
void hh_feed__spsc_stop(struct hh_feed_hub *h, struct hh_feed__spsc *r);
bool hh_feed__spsc_stopping(const struct hh_feed__spsc *r);

/* Time at the edge (the threads pace and poll with it; the core never). */
int64_t hh_feed__mono_ns(void);
void hh_feed__sleep_ns(int64_t ns);

#endif
