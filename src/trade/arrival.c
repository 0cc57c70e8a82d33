/*
 * arrival.c — accepted signals on their way into the trade manager.
 *
 * A signal is decided (validated, recorded) when it is read; it reaches the
 * trade manager at its received_at (SPEC §5a: accepted signals enter the
 * event stream in (received_at, line) order).  Between the two it waits
 * here: a binary min-heap on (received_at, acceptance order), part of the
 * manager's state (it is in the snapshot), so a restart neither loses a
 * signal accepted for later nor lets one arrive twice.
 *
 * Invariant: arr[i] arrives no later than its children arr[2i+1], arr[2i+2].
 */
#include "trade/tm_int.h"

#include <stdlib.h>
#include <string.h>

static bool earlier(const struct tm_arrival *a, const struct tm_arrival *b)
{
    if (a->sig.received_at != b->sig.received_at)
        return a->sig.received_at < b->sig.received_at;
    return a->seq < b->seq;
}

static void swap(struct tm_arrival *a, struct tm_arrival *b)
{
    struct tm_arrival t = *a;

    *a = *b;
    *b = t;
}

static void sift_up(struct tm_arrival *h, size_t i)
{
    while (i > 0 && earlier(&h[i], &h[(i - 1) / 2])) {
        swap(&h[i], &h[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
}

static void sift_down(struct tm_arrival *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;

        if (l < n && earlier(&h[l], &h[m]))
            m = l;
        if (r < n && earlier(&h[r], &h[m]))
            m = r;
        if (m == i)
            return;
        swap(&h[i], &h[m]);
        i = m;
    }
}

int hh_tm__arrival_push(struct hh_tm *tm, const struct tm_arrival *a)
{
    if (hh_grow(&tm->arr, &tm->caparr, tm->narr + 1, sizeof *tm->arr))
        return HH_ENOMEM;
    tm->arr[tm->narr] = *a;
    sift_up(tm->arr, tm->narr++);
    tm->changes++;
    return HH_OK;
}

int hh_tm_accept(struct hh_tm *tm, const struct hh_signal *s, const struct hh_strat_group *g,
                 hh_money_t stop_loss, hh_money_t target)
{
    struct tm_arrival a;
    int rc;

    memset(&a, 0, sizeof a);
    a.sig = *s;
    a.seq = ++tm->arr_seq;
    a.stop_loss = stop_loss;
    a.target = target;
    if (g) {
        if (g->nlegs < 1 || g->nlegs > HH_STRAT_LEGS_MAX)
            return HH_EINVAL;
        a.g = malloc(sizeof *a.g);
        if (!a.g)
            return HH_ENOMEM;
        *a.g = *g;
    }
    rc = hh_tm__arrival_push(tm, &a);
    if (rc)
        free(a.g);
    return rc;
}

bool hh_tm_next_arrival(const struct hh_tm *tm, hh_time_t *t, uint64_t *seq)
{
    if (!tm->narr)
        return false;
    *t = tm->arr[0].sig.received_at;
    *seq = tm->arr[0].seq;
    return true;
}

size_t hh_tm_pending(const struct hh_tm *tm)
{
    return tm->narr;
}

int hh_tm_arrive(struct hh_tm *tm)
{
    struct tm_arrival a;
    int rc;

    if (!tm->narr)
        return HH_ENOTFOUND;
    a = tm->arr[0];
    tm->arr[0] = tm->arr[--tm->narr];
    sift_down(tm->arr, tm->narr, 0);
    tm->changes++;
    rc = a.g ? hh_tm_group(tm, &a.sig, a.g, a.stop_loss, a.target) : hh_tm_signal(tm, &a.sig);
    free(a.g);
    return rc;
}

void hh_tm__arrivals_free(struct hh_tm *tm)
{
    for (size_t i = 0; i < tm->narr; i++)
        free(tm->arr[i].g);
    free(tm->arr);
    tm->arr = NULL;
    tm->narr = tm->caparr = 0;
}
