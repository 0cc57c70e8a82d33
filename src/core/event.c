/*
 * event.c — event ordering, clock, timer heap.
 *
 * Heap invariant: heap[i] is due no later than its children heap[2i+1],
 * heap[2i+2] under (deadline, seq).
 */
#include "core/event.h"

#include "core/grow.h"

#include <stdlib.h>
#include <string.h>

void hh_clock_init(struct hh_clock *c, bool simulated)
{
    c->now = HH_TIME_NONE;
    c->simulated = simulated;
}

int hh_clock_advance(struct hh_clock *c, hh_time_t t)
{
    if (c->now != HH_TIME_NONE && t < c->now)
        return HH_ESTATE;
    c->now = t;
    return HH_OK;
}

int hh_timers_init(struct hh_timers *t, size_t cap)
{
    t->n = 0;
    t->next_seq = 1;
    t->cap = cap ? cap : 16;
    t->heap = malloc(t->cap * sizeof *t->heap);
    return t->heap ? HH_OK : HH_ENOMEM;
}

void hh_timers_free(struct hh_timers *t)
{
    if (!t)
        return;
    free(t->heap);
    t->heap = NULL;
    t->n = t->cap = 0;
}

static bool before(const struct hh_timer *a, const struct hh_timer *b)
{
    return a->deadline != b->deadline ? a->deadline < b->deadline : a->seq < b->seq;
}

static void swap(struct hh_timer *a, struct hh_timer *b)
{
    struct hh_timer x = *a;

    *a = *b;
    *b = x;
}

static void sift_up(struct hh_timers *t, size_t i)
{
    while (i > 0 && before(&t->heap[i], &t->heap[(i - 1) / 2])) {
        swap(&t->heap[i], &t->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
}

static void sift_down(struct hh_timers *t, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;

        if (l < t->n && before(&t->heap[l], &t->heap[m]))
            m = l;
        if (r < t->n && before(&t->heap[r], &t->heap[m]))
            m = r;
        if (m == i)
            return;
        swap(&t->heap[i], &t->heap[m]);
        i = m;
    }
}

int hh_timers_start(struct hh_timers *t, hh_time_t deadline, int kind, uint64_t arg,
                    uint64_t *id)
{
    if (hh_grow(&t->heap, &t->cap, t->n + 1, sizeof *t->heap))
        return HH_ENOMEM;
    /* field by field into a zeroed slot: the padding after `kind` must be
     * zero, or snapshots of the same state would differ byte for byte */
    memset(&t->heap[t->n], 0, sizeof t->heap[t->n]);
    t->heap[t->n].deadline = deadline;
    t->heap[t->n].seq = t->next_seq;
    t->heap[t->n].id = t->next_seq;
    t->heap[t->n].kind = kind;
    t->heap[t->n].arg = arg;
    if (id)
        *id = t->next_seq;
    t->next_seq++;
    sift_up(t, t->n++);
    return HH_OK;
}

static void remove_at(struct hh_timers *t, size_t i)
{
    t->heap[i] = t->heap[--t->n];
    if (i < t->n) {
        sift_down(t, i);
        sift_up(t, i);
    }
}

int hh_timers_cancel(struct hh_timers *t, uint64_t id)
{
    for (size_t i = 0; i < t->n; i++) {
        if (t->heap[i].id == id) {
            remove_at(t, i);
            return HH_OK;
        }
    }
    return HH_ENOTFOUND;
}

hh_time_t hh_timers_next(const struct hh_timers *t)
{
    return t->n ? t->heap[0].deadline : HH_TIME_MAX;
}

bool hh_timers_pop_due(struct hh_timers *t, hh_time_t now, struct hh_timer *out)
{
    if (!t->n || t->heap[0].deadline > now)
        return false;
    *out = t->heap[0];
    remove_at(t, 0);
    return true;
}
