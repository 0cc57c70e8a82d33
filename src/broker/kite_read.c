/*
 * kite_read.c — the book reader: every prompt (an order update from the
 * socket, a follow-up after an order call, a reconnect) becomes a read of
 * the broker's book, and the rows go to the core, which derives reports
 * from them (kite_book.c).  An update's own content is never trusted: it
 * may be duplicated, reordered or missing; the book is read instead.
 *
 * While the core has working orders, the whole book is read every
 * book_poll_ms (2 s: a fifth of the read rate Kite allows), so fills still
 * arrive when updates are lost or never sent (DOMAIN §8).  A
 * read that fails is prompted again a second later, three tries in all;
 * the engine's reconciliation polls remain the truth beyond that.
 *
 * Reads go through the query pacer shared with the core's queries.
 */
#include "broker/kite_int.h"

#include "core/grow.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ONE_BY_ONE 3                    /* more prompts at once: one sweep */
#define RETRY      HH_NS_PER_S

struct batch {
    struct hh_kite__prompt p[ONE_BY_ONE];
    size_t n;
    bool sweep;
    int sweep_tries;
};

static void deadline(struct timespec *ts, int64_t mono_due)
{
    int64_t wait = mono_due - hh_kite__mono_ns();
    struct timespec now;

    if (wait < 0)
        wait = 0;
    clock_gettime(CLOCK_MONOTONIC, &now);
    wait += now.tv_nsec;
    ts->tv_sec = now.tv_sec + (time_t)(wait / HH_NS_PER_S);
    ts->tv_nsec = (long)(wait % HH_NS_PER_S);
}

/* Take what is due (under k->mu); the earliest later due in *next. */
static void take_due(struct hh_kite *k, int64_t now, struct batch *b, int64_t *next)
{
    size_t keep = 0, due = 0;

    *next = now + HH_NS_PER_S;
    for (size_t i = 0; i < k->nprompts; i++)
        due += k->prompts[i].due <= now;
    for (size_t i = 0; i < k->nprompts; i++) {
        struct hh_kite__prompt p = k->prompts[i];

        if (p.due > now) {
            if (p.due < *next)
                *next = p.due;
            k->prompts[keep++] = p;
        } else if (p.id == 0 || due > ONE_BY_ONE) {
            b->sweep_tries = b->sweep ? (p.tries < b->sweep_tries ? p.tries : b->sweep_tries)
                                      : p.tries;
            b->sweep = true;
        } else {
            b->p[b->n++] = p;
        }
    }
    k->nprompts = keep;
}

/* Wait for work: due prompts, or a poll while the socket is down. */
static bool wait_work(struct hh_kite *k, struct batch *b, int64_t *last_poll)
{
    memset(b, 0, sizeof *b);
    pthread_mutex_lock(&k->mu);
    while (!atomic_load(&k->stop)) {
        int64_t now = hh_kite__mono_ns(), next;
        struct timespec ts;

        take_due(k, now, b, &next);
        if (atomic_load(&k->working) > 0) {
            if (now - *last_poll >= k->book_poll)
                b->sweep = true;
            else if (*last_poll + k->book_poll < next)
                next = *last_poll + k->book_poll;
        }
        if (b->sweep || b->n)
            break;
        deadline(&ts, next);
        pthread_cond_timedwait(&k->cv, &k->mu, &ts);
    }
    pthread_mutex_unlock(&k->mu);
    if (b->sweep)
        *last_poll = hh_kite__mono_ns();
    return !atomic_load(&k->stop);
}

static void sweep(struct hh_kite *k, int tries)
{
    struct hh_kite__row *rows;
    struct hh_diag d;
    size_t n;

    atomic_fetch_add(&k->n_book_reads, 1);
    if (hh_kite__read_book(k, &k->read_http, &rows, &n, &d) != HH_OK) {
        hh_kite__prompt_retry(k, 0, RETRY, tries + 1);
        return;
    }
    hh_kite__hand_rows(k, rows, n);
    free(rows);
}

static void read_one(struct hh_kite *k, const struct hh_kite__prompt *p)
{
    struct hh_kite__row r;
    struct hh_diag d;
    int rc;

    atomic_fetch_add(&k->n_book_reads, 1);
    rc = hh_kite__read_order(k, &k->read_http, p->id, &r, &d);
    if (rc == HH_OK)
        hh_kite__hand_rows(k, &r, 1);
    else if (rc != HH_EAUTH)            /* not yet in the book, unreachable */
        hh_kite__prompt_retry(k, p->id, RETRY, p->tries + 1);
}

void *hh_kite__reader_main(void *arg)
{
    struct hh_kite *k = arg;
    int64_t last_poll = 0;
    struct batch b;

    while (wait_work(k, &b, &last_poll)) {
        if (b.sweep)
            sweep(k, b.sweep_tries);
        else
            for (size_t i = 0; i < b.n; i++)
                read_one(k, &b.p[i]);
    }
    return NULL;
}
