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
#include <stdio.h>

struct hh_feed_hub {
    pthread_mutex_t mu;            /* guards every feed's ring and state */
    pthread_cond_t core;           /* the core waits here */
    pthread_cond_t space;          /* producers wait here for room */
    bool woken;                    /* a wake not yet seen by a wait */
    bool parked;                   /* a detached reader still uses the hub: never freed */
};

/* Wake the core; the caller holds h->mu. */
void hh_feed__wake_locked(struct hh_feed_hub *h);

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

/* Time at the edge (the threads pace and poll with it; the core never). */
int64_t hh_feed__mono_ns(void);
void hh_feed__sleep_ns(int64_t ns);

#endif
