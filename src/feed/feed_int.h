/*
 * feed_int.h — what the feed's files share (feed.c: the hub and the line
 * feed; replay.c: the replay feed).  Nothing outside src/feed includes it.
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

/* Time at the edge (the threads pace and poll with it; the core never). */
int64_t hh_feed__mono_ns(void);
void hh_feed__sleep_ns(int64_t ns);

#endif
