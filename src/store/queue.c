/*
 * queue.c — the bounded queue between producers and the store's writer
 * thread.
 *
 * One ring of bytes, one entry per submission (see store_int.h for the
 * layout).  Invariants, all under q->mu:
 *   - used == bytes from head to tail along the ring, wrap padding
 *     included; 0 <= used <= cap; with used == 0 head and tail are reset
 *     to 0;
 *   - every entry before tail is complete (producers copy under the lock);
 *   - the writer holds at most one batch, which starts at head, and
 *     releases it (head moves past it) only after its COMMIT;
 *   - seq numbers are assigned in ring order, so committed (the last seq
 *     of the last released batch) covers every earlier record.
 * Back-pressure: a producer that does not find room waits on `space`; it
 * is never refused for being early, only for an entry larger than the ring.
 * Nothing here allocates after hh_store__queue_init().
 */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN8(n) (((n) + 7u) & ~(size_t)7u)

/* A pointer field of a record that refers to bytes to copy. */
struct ref {
    const void **p;
    size_t len;                    /* bytes to copy (strings include the NUL) */
};

static void add_str(struct ref *r, size_t *n, const char **p)
{
    if (*p) {
        r[*n].p = (const void **)p;
        r[*n].len = strlen(*p) + 1;
        (*n)++;
    }
}

/* The string and blob fields of *rec (at most 8); returns how many. */
static size_t rec_refs(struct hh_store_rec *rec, struct ref *r)
{
    size_t n = 0;

    switch (rec->kind) {
    case HH_STORE_SIGNAL:
        add_str(r, &n, &rec->u.signal.signal_id);
        add_str(r, &n, &rec->u.signal.raw);
        add_str(r, &n, &rec->u.signal.detail);
        add_str(r, &n, &rec->u.signal.correlation_id);
        add_str(r, &n, &rec->u.signal.topic);
        break;
    case HH_STORE_TRADE_STATE:
        add_str(r, &n, &rec->u.trade_state.trade_key);
        add_str(r, &n, &rec->u.trade_state.detail);
        add_str(r, &n, &rec->u.trade_state.correlation_id);
        break;
    case HH_STORE_ORDER:
        add_str(r, &n, &rec->u.order.client_id);
        add_str(r, &n, &rec->u.order.trade_key);
        add_str(r, &n, &rec->u.order.symbol);
        break;
    case HH_STORE_ORDER_EVENT:
        add_str(r, &n, &rec->u.order_event.client_id);
        add_str(r, &n, &rec->u.order_event.reason);
        break;
    case HH_STORE_FILL:
        add_str(r, &n, &rec->u.fill.signal_id);
        add_str(r, &n, &rec->u.fill.symbol);
        add_str(r, &n, &rec->u.fill.reason);
        break;
    case HH_STORE_POSITION:
        add_str(r, &n, &rec->u.position.symbol);
        break;
    case HH_STORE_TRADE:
        add_str(r, &n, &rec->u.trade.signal_id);
        add_str(r, &n, &rec->u.trade.symbol);
        add_str(r, &n, &rec->u.trade.exit_reason);
        break;
    case HH_STORE_GROUP:
        add_str(r, &n, &rec->u.group.group_id);
        add_str(r, &n, &rec->u.group.state);
        add_str(r, &n, &rec->u.group.legs_json);
        break;
    case HH_STORE_CHECKPOINT:
        if (rec->u.checkpoint.state_len) {
            r[n].p = &rec->u.checkpoint.state;
            r[n].len = rec->u.checkpoint.state_len;
            n++;
        }
        add_str(r, &n, &rec->u.checkpoint.state_hash);
        break;
    case HH_STORE_AUDIT:
        add_str(r, &n, &rec->u.audit.correlation_id);
        add_str(r, &n, &rec->u.audit.payload);
        break;
    case HH_STORE_KILL:
        add_str(r, &n, &rec->u.kill.reason);
        add_str(r, &n, &rec->u.kill.by);
        break;
    case HH_STORE_OUTBOX:
        add_str(r, &n, &rec->u.outbox.topic);
        add_str(r, &n, &rec->u.outbox.key);
        add_str(r, &n, &rec->u.outbox.reason);
        add_str(r, &n, &rec->u.outbox.correlation_id);
        add_str(r, &n, &rec->u.outbox.payload);
        break;
    case HH_STORE_CHUNK:
        r[n].p = (const void **)&rec->u.chunk.sha;
        r[n++].len = HH_STORE_DIGEST_BYTES;
        r[n].p = &rec->u.chunk.bytes;
        r[n++].len = rec->u.chunk.len;
        break;
    case HH_STORE_KILL_APPLIED:
    case HH_STORE_OUTBOX_SENT:
        break;
    }
    return n;
}

/* Bytes one entry for recs[0..n) needs, or 0 when it would overflow. */
static size_t entry_size(const struct hh_store_rec *recs, size_t n)
{
    size_t total = sizeof(struct hh_store__ent) + n * sizeof *recs;
    struct ref refs[8];

    for (size_t i = 0; i < n; i++) {
        struct hh_store_rec tmp = recs[i];
        size_t k = rec_refs(&tmp, refs);

        for (size_t j = 0; j < k; j++) {
            if (refs[j].len > SIZE_MAX / 2 - total)
                return 0;
            total += refs[j].len;
        }
    }
    return ALIGN8(total);
}

int hh_store__queue_init(struct hh_store__queue *q, size_t cap)
{
    memset(q, 0, sizeof *q);
    cap = ALIGN8(cap);
    if (cap < 4096)
        cap = 4096;
    if (cap > UINT32_MAX - 7)
        return HH_ERANGE;
    q->buf = malloc(cap);
    if (!q->buf)
        return HH_ENOMEM;
    q->cap = cap;
    q->next_seq = 1;
    atomic_init(&q->committed, 0);
    atomic_init(&q->failed_rc, 0);
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->space, NULL);
    pthread_cond_init(&q->work, NULL);
    pthread_cond_init(&q->done, NULL);
    return HH_OK;
}

void hh_store__queue_free(struct hh_store__queue *q)
{
    if (!q || !q->buf)
        return;
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->space);
    pthread_cond_destroy(&q->work);
    pthread_cond_destroy(&q->done);
    free(q->buf);
    q->buf = NULL;
}

/* Find `need` contiguous bytes (need <= cap); *off receives where.  False
 * when there is no room now.  Writes a wrap marker when it wraps. */
static bool reserve(struct hh_store__queue *q, size_t need, size_t *off)
{
    if (q->used == 0)
        q->head = q->tail = 0;
    if (q->used == 0 || q->tail > q->head) {
        /* Free: [tail, cap) and [0, head). */
        if (q->cap - q->tail >= need) {
            *off = q->tail;
        } else if (q->head >= need) {
            if (q->tail < q->cap)
                ((struct hh_store__ent *)(q->buf + q->tail))->size = 0;
            q->used += q->cap - q->tail;
            *off = 0;
        } else {
            return false;
        }
    } else {
        /* Wrapped: free is [tail, head). */
        if (q->head - q->tail < need)
            return false;
        *off = q->tail;
    }
    q->tail = *off + need;
    q->used += need;
    return true;
}

/* Copy the records and their bytes into the entry at e. */
static void fill_entry(struct hh_store__ent *e, size_t size, const struct hh_store_rec *recs,
                       size_t n, uint64_t token, uint64_t first_seq)
{
    unsigned char *p = (unsigned char *)&e->rec[n];
    struct ref refs[8];

    e->size = (uint32_t)size;
    e->nrec = (uint32_t)n;
    e->token = token;
    e->first_seq = first_seq;
    memcpy(e->rec, recs, n * sizeof *recs);
    for (size_t i = 0; i < n; i++) {
        size_t k = rec_refs(&e->rec[i], refs);

        for (size_t j = 0; j < k; j++) {
            memcpy(p, *refs[j].p, refs[j].len);
            *refs[j].p = p;
            p += refs[j].len;
        }
    }
}

int hh_store__queue_push(struct hh_store__queue *q, const struct hh_store_rec *recs,
                         size_t n, uint64_t token, uint64_t *seq, struct hh_diag *d)
{
    size_t need = entry_size(recs, n), off;
    int rc;

    if (n == 0 || n > UINT32_MAX)
        return hh_diag_set(d, HH_EINVAL, "store: empty submission");
    if (need == 0 || need > q->cap)
        return hh_diag_set(d, HH_ERANGE,
                           "store: submission of %zu bytes exceeds the queue (%zu bytes)",
                           need, q->cap);
    pthread_mutex_lock(&q->mu);
    for (;;) {
        rc = atomic_load(&q->failed_rc);
        if (rc) {
            pthread_mutex_unlock(&q->mu);
            return hh_diag_set(d, rc, "%s", q->failed_msg);
        }
        if (q->closing) {
            pthread_mutex_unlock(&q->mu);
            return hh_diag_set(d, HH_ESTATE, "store: submit after close");
        }
        if (reserve(q, need, &off))
            break;
        q->producer_waits++;
        pthread_cond_wait(&q->space, &q->mu);
    }
    fill_entry((struct hh_store__ent *)(q->buf + off), need, recs, n, token, q->next_seq);
    q->next_seq += n;
    if (seq)
        *seq = q->next_seq - 1;
    pthread_cond_signal(&q->work);
    pthread_mutex_unlock(&q->mu);
    return HH_OK;
}

struct hh_store__ent *hh_store__queue_next(struct hh_store__queue *q, size_t *off,
                                           size_t *left)
{
    struct hh_store__ent *e;

    while (*left > 0) {
        if (*off == q->cap) {
            *off = 0;
            continue;
        }
        e = (struct hh_store__ent *)(q->buf + *off);
        if (e->size == 0) {                 /* wrap marker: padding to the end */
            *left -= q->cap - *off;
            *off = 0;
            continue;
        }
        *left -= e->size;
        *off += e->size;
        return e;
    }
    return NULL;
}

bool hh_store__queue_take(struct hh_store__queue *q, size_t max_recs,
                          struct hh_store__batch *b)
{
    size_t off, left;
    struct hh_store__ent *e;

    pthread_mutex_lock(&q->mu);
    while (!atomic_load(&q->failed_rc) && q->used == 0 && !q->closing)
        pthread_cond_wait(&q->work, &q->mu);
    if (atomic_load(&q->failed_rc) || q->used == 0) {
        pthread_mutex_unlock(&q->mu);
        return false;
    }
    memset(b, 0, sizeof *b);
    b->begin = off = q->head;
    left = q->used;
    while (b->nrec < max_recs && (e = hh_store__queue_next(q, &off, &left)) != NULL) {
        b->nrec += e->nrec;
        b->last_seq = e->first_seq + e->nrec - 1;
    }
    b->end = off;
    b->bytes = q->used - left;
    pthread_mutex_unlock(&q->mu);
    return true;
}

void hh_store__queue_done(struct hh_store__queue *q, const struct hh_store__batch *b)
{
    pthread_mutex_lock(&q->mu);
    q->head = b->end;
    q->used -= b->bytes;
    atomic_store(&q->committed, b->last_seq);
    pthread_cond_broadcast(&q->space);
    pthread_cond_broadcast(&q->done);
    pthread_mutex_unlock(&q->mu);
}

void hh_store__queue_fail(struct hh_store__queue *q, int rc, const char *msg)
{
    pthread_mutex_lock(&q->mu);
    if (!atomic_load(&q->failed_rc)) {
        snprintf(q->failed_msg, sizeof q->failed_msg, "%s", msg);
        atomic_store(&q->failed_rc, rc ? rc : HH_EDB);
    }
    q->head = q->tail = q->used = 0;      /* discarded: never acknowledged */
    pthread_cond_broadcast(&q->space);
    pthread_cond_broadcast(&q->work);
    pthread_cond_broadcast(&q->done);
    pthread_mutex_unlock(&q->mu);
}

int hh_store__queue_flush(struct hh_store__queue *q, struct hh_diag *d)
{
    uint64_t target;
    int rc = HH_OK;

    pthread_mutex_lock(&q->mu);
    target = q->next_seq - 1;
    while (atomic_load(&q->committed) < target && !atomic_load(&q->failed_rc))
        pthread_cond_wait(&q->done, &q->mu);
    if (atomic_load(&q->committed) < target)
        rc = hh_diag_set(d, atomic_load(&q->failed_rc), "%s", q->failed_msg);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

int hh_store__queue_status(struct hh_store__queue *q, struct hh_diag *d)
{
    int rc = atomic_load(&q->failed_rc);

    /* failed_msg is written before failed_rc is published and never again. */
    if (rc)
        hh_diag_set(d, rc, "%s", q->failed_msg);
    return rc;
}

void hh_store__queue_close(struct hh_store__queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->closing = true;
    pthread_cond_broadcast(&q->work);
    pthread_mutex_unlock(&q->mu);
}
