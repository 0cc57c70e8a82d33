/*
 * snapshot.c — the trade manager's live state as a canonical byte string,
 * and back (restart from the database, issue "Durable state").
 *
 * What is live: trades WAITING, ENTERING or OPEN; groups not CLOSED or
 * DROPPED; order refs not done whose owner is live; per-instrument state
 * (waiting lists, the active trade, the candle-volume ring); the hedge
 * manager; timers; statistics and counters.  Terminal history is in the
 * database's tables, not here, so a checkpoint stays small.
 *
 * Canonical: objects are written in index order and every index is
 * replaced by its rank among the live objects of its kind, so a manager
 * restored from a snapshot writes the very same bytes — the state hash
 * (SHA-256 of the snapshot) proves a restart identical.  Last traded prices
 * are market data, not state: they are re-learned from the next tick.
 *
 * The order road has its own section (write_live): the order-key counter, the
 * retry PRNG, the circuit breaker, the hybrid stops (field by field: their
 * order machines own allocations), counters, and the exec ids the written
 * orders' state machines applied (their machines are in the refs, byte for
 * byte: they share the engine's exec-id set instead of owning one; the
 * pointer to it is written as NULL).  A queued order restored
 * here may have reached the broker before the crash: it comes back as
 * PS_FINDING, to be looked up by its client id before anything is sent.
 *
 * Chunks: the writer marks where the bytes may be cut (hh_ser_cut) at
 * every section's end and inside the long ones at objects whose identity
 * (a trade's serial, an order's key, a signal's arrival seq) falls on
 * CUT_EVERY: cut points move with the objects, not with offsets, so adding
 * or removing one trade changes the chunk that holds it and leaves the
 * others' bytes alone (checkpoints are stored chunk by chunk).
 *
 * Format: "HHTMSNAP", version, a layout word (struct sizes: a snapshot from
 * another build is refused rather than misread), then the sections in the
 * order of hh_tm_snapshot(), written with core/serial.h: integers
 * little-endian, structs in the host's layout, so a snapshot is resumed by
 * the build that wrote it.  The last section (version 7) is the engine's
 * candle builder (hh_tm_set_candles; market/candle.h writes it, with cut
 * points of its own: it changes with every tick, the rest does not); a
 * version-6 snapshot ends before it and restores with the builder empty.
 */
#include "trade/tm_int.h"

#include "core/serial.h"

#include <stdlib.h>
#include <string.h>

#define SNAP_MAGIC "HHTMSNAP"
#define SNAP_VERSION 7u
#define SNAP_VERSION_NO_CANDLES 6u   /* before the candle section: still restored */
#define NONE_RANK UINT32_MAX
#define CUT_EVERY 8u   /* objects per chunk, on average */

static uint32_t layout(void)
{
    return (uint32_t)(sizeof(struct trade) * 31 + sizeof(struct tm_group) * 17 +
                      sizeof(struct order_ref) * 7 + sizeof(struct hh_tm_stats) * 3 +
                      sizeof(struct hh_hedge) + sizeof(struct hh_timer) +
                      sizeof(struct hh_hsl_spec) * 5 + sizeof(struct hh_order_req) * 11 +
                      sizeof(struct hh_tm_exec_stats) * 13);
}

static bool trade_live(const struct trade *t)
{
    return t->st == T_WAITING || t->st == T_ENTERING || t->st == T_OPEN;
}

static bool group_live(const struct tm_group *G)
{
    return G->st != G_CLOSED && G->st != G_DROPPED;
}

/* Ranks of live objects (NONE_RANK for others). */
struct ranks {
    uint32_t *trade, *group;
    uint32_t ntrades, ngroups;
    uint32_t *hsl;                /* live mode: hybrid stop slot -> rank */
    uint32_t nhsl;
};

static int make_ranks(const struct hh_tm *tm, struct ranks *r)
{
    memset(r, 0, sizeof *r);
    r->trade = malloc((tm->ntrades + 1) * sizeof *r->trade);
    r->group = malloc((tm->ngroups + 1) * sizeof *r->group);
    if (!r->trade || !r->group)
        return HH_ENOMEM;
    for (size_t i = 0; i < tm->ntrades; i++)
        r->trade[i] = trade_live(&tm->trades[i]) ? r->ntrades++ : NONE_RANK;
    for (size_t i = 0; i < tm->ngroups; i++)
        r->group[i] = group_live(&tm->groups[i]) ? r->ngroups++ : NONE_RANK;
    r->hsl = malloc((tm->x.nhsl + 1) * sizeof *r->hsl);
    if (!r->hsl)
        return HH_ENOMEM;
    for (size_t i = 0; i < tm->x.nhsl; i++)
        r->hsl[i] = NONE_RANK;
    /* stops in the order of their trades: canonical */
    for (size_t i = 0; i < tm->ntrades; i++)
        if (r->trade[i] != NONE_RANK && tm->trades[i].hsl)
            r->hsl[tm->trades[i].hsl - 1] = r->nhsl++;
    return HH_OK;
}

static uint32_t hsl_rank(const struct ranks *r, uint32_t hsl)
{
    return hsl && r->hsl[hsl - 1] != NONE_RANK ? r->hsl[hsl - 1] + 1 : 0;
}

static uint32_t owner_rank(const struct ranks *r, const struct order_ref *ref)
{
    return ref->group ? r->group[ref->trade] : r->trade[ref->trade];
}

static bool sym_live(const struct sym *sy)
{
    return sy->nw || sy->active >= 0 || sy->vn || sy->vgap || sy->traded || sy->oversell;
}

static void write_trades(struct hh_ser_w *w, const struct hh_tm *tm, const struct ranks *r)
{
    hh_ser_put_u32(w, r->ntrades);
    for (size_t i = 0; i < tm->ntrades; i++) {
        struct trade t;

        if (r->trade[i] == NONE_RANK)
            continue;
        t = tm->trades[i];
        t.ready = false;
        t.hsl = hsl_rank(r, t.hsl);
        hh_ser_put(w, &t, sizeof t);
        if (t.serial % CUT_EVERY == CUT_EVERY - 1)
            hh_ser_cut(w);
    }
    hh_ser_cut(w);
    hh_ser_put_u32(w, r->ngroups);
    for (size_t i = 0; i < tm->ngroups; i++)
        if (r->group[i] != NONE_RANK) {
            hh_ser_put(w, &tm->groups[i], sizeof tm->groups[i]);
            hh_ser_cut(w);
        }
}

static bool ref_written(const struct ranks *r, const struct order_ref *ref)
{
    return !ref->done && owner_rank(r, ref) != NONE_RANK;
}

static void write_refs(struct hh_ser_w *w, const struct hh_tm *tm, const struct ranks *r)
{
    uint32_t n = 0;

    for (size_t i = 0; i < tm->nrefs; i++)
        n += ref_written(r, &tm->refs[i]);
    hh_ser_put_u32(w, n);
    for (size_t i = 0; i < tm->nrefs; i++) {
        struct order_ref ref = tm->refs[i];

        if (!ref_written(r, &ref))
            continue;
        ref.trade = owner_rank(r, &ref);
        ref.hsl = hsl_rank(r, ref.hsl);
        ref.ord.shared = NULL;   /* an address: set again on restore */
        hh_ser_put(w, &ref, sizeof ref);
        if (ref.oid % CUT_EVERY == CUT_EVERY - 1)
            hh_ser_cut(w);
    }
}

static void write_syms(struct hh_ser_w *w, const struct hh_tm *tm, const struct ranks *r)
{
    uint32_t n = 0;

    for (size_t i = 0; i < tm->nsyms; i++)
        n += sym_live(&tm->syms[i]);
    hh_ser_put_u32(w, n);
    for (size_t i = 0; i < tm->nsyms; i++) {
        const struct sym *sy = &tm->syms[i];

        if (!sym_live(sy))
            continue;
        hh_ser_put_u32(w, (uint32_t)i);
        hh_ser_put_u32(w, sy->active >= 0 ? r->trade[sy->active] : NONE_RANK);
        hh_ser_put_u32(w, (uint32_t)sy->nw);
        for (size_t k = 0; k < sy->nw; k++)
            hh_ser_put_u32(w, r->trade[sy->waiting[k]]);
        hh_ser_put_u64(w, (uint64_t)sy->vn);
        hh_ser_put_u64(w, (uint64_t)sy->vpos);
        hh_ser_put(w, &sy->vsum, sizeof sy->vsum);
        for (int64_t k = 0; k < sy->vn; k++)
            hh_ser_put_u64(w, (uint64_t)sy->vols[k]);
        hh_ser_put_u32(w, (uint32_t)sy->traded | (uint32_t)sy->vgap << 1);
        hh_ser_put_i64(w, sy->oversell);
        hh_ser_cut(w);
    }
}

static void write_engine(struct hh_ser_w *w, const struct hh_tm *tm, const struct ranks *r)
{
    hh_ser_put(w, &tm->stats, sizeof tm->stats);
    hh_ser_put_u64(w, (uint64_t)tm->open_count);
    hh_ser_put_u32(w, tm->next_trade_id);
    hh_ser_put_u32(w, tm->next_serial);
    hh_ser_put_u64(w, tm->groups_active);
    hh_ser_put_u32(w, tm->exposure_timer);
    hh_ser_put_u32(w, (uint32_t)tm->trading | (uint32_t)tm->flatten << 8);
    hh_ser_put_u64(w, tm->timers.next_seq);
    hh_ser_put_u32(w, (uint32_t)tm->timers.n);
    for (size_t k = 0; k < tm->timers.n; k++) {
        struct hh_timer t = tm->timers.heap[k];

        /* group timers belong to live groups: close_group() cancels them */
        if (t.kind == TMR_EXPIRY_CLOSE || t.kind == TMR_SETTLE)
            t.arg = t.arg < tm->ngroups ? r->group[t.arg] : NONE_RANK;
        hh_ser_put(w, &t, sizeof t);
    }
}

static void write_ord(struct hh_ser_w *w, const struct hh_ord *o)
{
    hh_ser_put(w, &o->req, sizeof o->req);
    hh_ser_put_u64(w, o->order_id);
    hh_ser_put_u32(w, (uint32_t)o->state);
    hh_ser_put_i64(w, o->filled);
    hh_ser_put_i64(w, o->notional);
    hh_ser_put_i64(w, o->updated);
    hh_ser_put_u32(w, o->fills);
}

static void write_hsl(struct hh_ser_w *w, const struct tm_hsl *s)
{
    const struct hh_hsl *h = &s->h;

    hh_ser_put(w, &h->spec, sizeof h->spec);
    hh_ser_put_u32(w, (uint32_t)h->state);
    hh_ser_put_u32(w, (uint32_t)h->lim_live | (uint32_t)h->mkt_live << 1 |
                      (uint32_t)h->cancel_too_late << 2 | (uint32_t)h->resolved_by_poll << 3 |
                      (uint32_t)h->aborted << 4);
    hh_ser_put_i64(w, h->limit);
    hh_ser_put_i64(w, h->deadline);
    hh_ser_put_i64(w, h->triggered_at);
    hh_ser_put_i64(w, h->done_at);
    hh_ser_put_u32(w, h->cancels);
    hh_ser_put_u32(w, h->polls);
    if (h->lim_live)
        write_ord(w, &h->lim);
    if (h->mkt_live)
        write_ord(w, &h->mkt);
    hh_ser_put_u64(w, s->key[0]);
    hh_ser_put_u64(w, s->key[1]);
}

struct exec_pair {
    uint64_t exec_id, boid;
};

static int pair_cmp(const void *a, const void *b)
{
    const struct exec_pair *x = a, *y = b;

    if (x->exec_id != y->exec_id)
        return x->exec_id < y->exec_id ? -1 : 1;
    return x->boid < y->boid ? -1 : x->boid > y->boid;
}

/* The exec ids of the written orders, sorted (the set's layout is not
 * canonical: it depends on its history). */
static void write_execs(struct hh_ser_w *w, const struct hh_tm *tm, const struct ranks *r)
{
    const struct hh_u64map *m = &tm->x.execs;
    struct exec_pair *p = malloc((m->live + 1) * sizeof *p);
    uint32_t n = 0;

    if (!p) {
        w->oom = true;
        return;
    }
    for (size_t k = 0; k < m->cap; k++) {
        uint64_t idx;

        if (m->keys[k] && m->keys[k] != UINT64_MAX &&
            hh_u64map_get(&tm->x.by_boid, m->vals[k], &idx) &&
            ref_written(r, &tm->refs[idx - 1]))
            p[n++] = (struct exec_pair){ m->keys[k], m->vals[k] };
    }
    qsort(p, n, sizeof *p, pair_cmp);
    hh_ser_put_u32(w, n);
    hh_ser_put(w, p, n * sizeof *p);
    free(p);
}

/* The runner's cursor, and the order road's state. */
static void write_live(struct hh_ser_w *w, const struct hh_tm *tm, const struct ranks *r)
{
    const struct tm_exec *L = &tm->x;
    const struct hh_breaker *b = &L->brk;

    hh_ser_put(w, &tm->cursor, sizeof tm->cursor);
    hh_ser_put_u64(w, L->next_key);
    hh_ser_put_u64(w, L->retry.rng);
    hh_ser_put_u32(w, (uint32_t)b->state);
    hh_ser_put_u32(w, (uint32_t)b->nring);
    hh_ser_put_u32(w, (uint32_t)b->head);
    for (int k = 0; k < b->cfg.failures; k++)
        hh_ser_put_i64(w, b->ring[k]);
    hh_ser_put_i64(w, b->opened_at);
    hh_ser_put_u32(w, b->probe_out);
    hh_ser_put_u64(w, b->refused);
    hh_ser_put_u64(w, b->opens);
    hh_ser_put_u64(w, b->failures_seen);
    hh_ser_put_u64(w, L->timer_id);
    hh_ser_put_i64(w, L->timer_at);
    hh_ser_put(w, &L->stats, sizeof L->stats);
    hh_ser_put_u32(w, r->nhsl);
    for (size_t i = 0; i < tm->ntrades; i++) {
        const struct trade *t = &tm->trades[i];

        if (r->trade[i] != NONE_RANK && t->hsl)
            write_hsl(w, &L->hsl[t->hsl - 1]);
    }
    write_execs(w, tm, r);
}

static int arrival_cmp(const void *a, const void *b)
{
    const struct tm_arrival *x = *(const struct tm_arrival *const *)a;
    const struct tm_arrival *y = *(const struct tm_arrival *const *)b;

    if (x->sig.received_at != y->sig.received_at)
        return x->sig.received_at < y->sig.received_at ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Accepted signals still to arrive, in arrival order (a heap's layout
 * depends on its history; the order does not).  Sorted by pointer (the
 * entries are large), and only when the heap is not in order already —
 * the usual case, signals received in turn, leaves it sorted. */
static void write_arrivals(struct hh_ser_w *w, const struct hh_tm *tm)
{
    const struct tm_arrival **a = malloc((tm->narr + 1) * sizeof *a);
    bool sorted = true;

    if (!a) {
        w->oom = true;
        return;
    }
    for (size_t i = 0; i < tm->narr; i++) {
        a[i] = &tm->arr[i];
        if (i && sorted && arrival_cmp(&a[i - 1], &a[i]) > 0)
            sorted = false;
    }
    if (!sorted)
        qsort(a, tm->narr, sizeof *a, arrival_cmp);
    hh_ser_put_u64(w, tm->arr_seq);
    hh_ser_put_u32(w, (uint32_t)tm->narr);
    for (size_t i = 0; i < tm->narr; i++) {
        hh_ser_put(w, &a[i]->sig, sizeof a[i]->sig);
        hh_ser_put_u64(w, a[i]->seq);
        hh_ser_put_u64(w, (uint64_t)a[i]->stop_loss);
        hh_ser_put_u64(w, (uint64_t)a[i]->target);
        hh_ser_put_u32(w, a[i]->g != NULL);
        if (a[i]->g)
            hh_ser_put(w, a[i]->g, sizeof *a[i]->g);
        if (a[i]->seq % CUT_EVERY == CUT_EVERY - 1)
            hh_ser_cut(w);
    }
    free(a);
}

/* The candle builder's section (market/candle.h), its own chunks: it
 * changes with every tick, the sections before it do not.  Without a
 * builder, a flag word alone. */
static void write_candles(struct hh_ser_w *w, const struct hh_tm *tm)
{
    hh_ser_put_u32(w, tm->candles != NULL);
    if (tm->candles)
        hh_candles_write(tm->candles, w);
    hh_ser_cut(w);
}

int hh_tm_snapshot_into(const struct hh_tm *tm, struct hh_ser_w *w)
{
    struct ranks r;
    int rc = make_ranks(tm, &r);

    hh_ser_w_reset(w);
    if (!rc) {
        hh_ser_put(w, SNAP_MAGIC, 8);
        hh_ser_put_u32(w, SNAP_VERSION);
        hh_ser_put_u32(w, layout());
        hh_ser_cut(w);
        write_engine(w, tm, &r);
        hh_ser_cut(w);
        write_trades(w, tm, &r);
        hh_ser_cut(w);
        write_refs(w, tm, &r);
        hh_ser_cut(w);
        write_syms(w, tm, &r);
        hh_ser_cut(w);
        write_live(w, tm, &r);
        hh_ser_cut(w);
        write_arrivals(w, tm);
        hh_ser_cut(w);
        write_candles(w, tm);
        rc = w->oom ? HH_ENOMEM : HH_OK;
    }
    free(r.trade);
    free(r.group);
    free(r.hsl);
    return rc;
}

int hh_tm_snapshot(const struct hh_tm *tm, unsigned char **out, size_t *len)
{
    struct hh_ser_w w = { 0 };
    int rc = hh_tm_snapshot_into(tm, &w);

    free(w.cut);
    if (rc) {
        free(w.p);
        return rc;
    }
    *out = w.p;
    *len = w.n;
    return HH_OK;
}

/* ---- restore ------------------------------------------------------------------- */

static void read_engine(struct hh_ser_r *r, struct hh_tm *tm)
{
    uint32_t n;

    hh_ser_get(r, &tm->stats, sizeof tm->stats);
    tm->open_count = (int64_t)hh_ser_get_u64(r);
    tm->next_trade_id = hh_ser_get_u32(r);
    tm->next_serial = hh_ser_get_u32(r);
    tm->groups_active = hh_ser_get_u64(r);
    tm->exposure_timer = hh_ser_get_u32(r) != 0;
    {
        uint32_t k = hh_ser_get_u32(r);

        tm->trading = (enum hh_tm_trading)(k & 0xff);
        tm->flatten = (k >> 8) & 1;
        if (tm->trading > HH_TRADING_HALTED)
            r->bad = true;
    }
    tm->timers.next_seq = hh_ser_get_u64(r);
    n = hh_ser_get_u32(r);
    if (r->bad || n > hh_ser_left(r) / sizeof(struct hh_timer) ||
        hh_grow(&tm->timers.heap, &tm->timers.cap, n, sizeof *tm->timers.heap)) {
        r->bad = true;
        return;
    }
    hh_ser_get(r, tm->timers.heap, n * sizeof *tm->timers.heap);
    tm->timers.n = n;
}

static void read_objects(struct hh_ser_r *r, struct hh_tm *tm)
{
    uint32_t n = hh_ser_get_u32(r);

    if (r->bad || n > hh_ser_left(r) / sizeof(struct trade) ||
        hh_grow(&tm->trades, &tm->captrades, n, sizeof *tm->trades)) {
        r->bad = true;
        return;
    }
    hh_ser_get(r, tm->trades, n * sizeof *tm->trades);
    tm->ntrades = n;
    n = hh_ser_get_u32(r);
    if (r->bad || n > hh_ser_left(r) / sizeof(struct tm_group) ||
        hh_grow(&tm->groups, &tm->capgroups, n, sizeof *tm->groups)) {
        r->bad = true;
        return;
    }
    hh_ser_get(r, tm->groups, n * sizeof *tm->groups);
    tm->ngroups = n;
}

static void read_ord(struct hh_ser_r *r, struct hh_ord *o, hh_time_t now)
{
    struct hh_order_req req;

    hh_ser_get(r, &req, sizeof req);
    if (r->bad || hh_ord_init(o, &req, now)) {
        r->bad = true;
        return;
    }
    o->order_id = hh_ser_get_u64(r);
    o->state = (enum hh_ord_state)hh_ser_get_u32(r);
    o->filled = hh_ser_get_i64(r);
    o->notional = hh_ser_get_i64(r);
    o->updated = hh_ser_get_i64(r);
    o->fills = hh_ser_get_u32(r);
}

static void read_hsl(struct hh_ser_r *r, struct hh_tm *tm, struct tm_hsl *s)
{
    struct hh_hsl *h = &s->h;
    uint32_t flags;

    if (hh_hsl_init(h, &tm->cfg.hsl)) {
        r->bad = true;
        return;
    }
    s->used = true;
    hh_ser_get(r, &h->spec, sizeof h->spec);
    h->state = (enum hh_hsl_state)hh_ser_get_u32(r);
    flags = hh_ser_get_u32(r);
    h->cancel_too_late = flags & 4;
    h->resolved_by_poll = flags & 8;
    h->aborted = flags & 16;
    h->limit = hh_ser_get_i64(r);
    h->deadline = hh_ser_get_i64(r);
    h->triggered_at = hh_ser_get_i64(r);
    h->done_at = hh_ser_get_i64(r);
    h->cancels = hh_ser_get_u32(r);
    h->polls = hh_ser_get_u32(r);
    if (flags & 1) {
        read_ord(r, &h->lim, h->triggered_at);
        h->lim_live = !r->bad;
    }
    if (flags & 2) {
        read_ord(r, &h->mkt, h->triggered_at);
        h->mkt_live = !r->bad;
    }
    s->key[0] = hh_ser_get_u64(r);
    s->key[1] = hh_ser_get_u64(r);
}

static void read_execs(struct hh_ser_r *r, struct tm_exec *L)
{
    uint32_t n = hh_ser_get_u32(r);

    if (r->bad || n > hh_ser_left(r) / sizeof(struct exec_pair)) {
        r->bad = true;
        return;
    }
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        struct exec_pair p;

        hh_ser_get(r, &p, sizeof p);
        if (r->bad || !p.exec_id || p.exec_id == UINT64_MAX ||
            hh_u64map_put(&L->execs, p.exec_id, p.boid))
            r->bad = true;
    }
}

static void read_live(struct hh_ser_r *r, struct hh_tm *tm)
{
    struct tm_exec *L = &tm->x;
    struct hh_breaker *b = &L->brk;
    uint32_t n;

    hh_ser_get(r, &tm->cursor, sizeof tm->cursor);
    if (r->bad)
        return;
    L->next_key = hh_ser_get_u64(r);
    L->retry.rng = hh_ser_get_u64(r);
    b->state = (enum hh_breaker_state)hh_ser_get_u32(r);
    b->nring = (int)hh_ser_get_u32(r);
    b->head = (int)hh_ser_get_u32(r);
    for (int k = 0; k < b->cfg.failures; k++)
        b->ring[k] = hh_ser_get_i64(r);
    b->opened_at = hh_ser_get_i64(r);
    b->probe_out = hh_ser_get_u32(r) != 0;
    b->refused = hh_ser_get_u64(r);
    b->opens = hh_ser_get_u64(r);
    b->failures_seen = hh_ser_get_u64(r);
    L->timer_id = hh_ser_get_u64(r);
    L->timer_at = hh_ser_get_i64(r);
    hh_ser_get(r, &L->stats, sizeof L->stats);
    n = hh_ser_get_u32(r);
    if (r->bad || b->nring < 0 || b->nring > b->cfg.failures || b->head < 0 ||
        b->head >= b->cfg.failures || n > tm->ntrades ||
        hh_grow(&L->hsl, &L->caphsl, n, sizeof *L->hsl)) {
        r->bad = true;
        return;
    }
    if (n)
        memset(L->hsl, 0, n * sizeof *L->hsl);
    L->nhsl = n;
    for (uint32_t i = 0; i < n && !r->bad; i++)
        read_hsl(r, tm, &L->hsl[i]);
    for (size_t i = 0; i < tm->ntrades && !r->bad; i++) {
        struct trade *t = &tm->trades[i];

        if (t->hsl > n)
            r->bad = true;
        else if (t->hsl)
            L->hsl[t->hsl - 1].trade = (uint32_t)i;
    }
    for (size_t i = 0; i < tm->nrefs && !r->bad; i++) {
        struct order_ref *ref = &tm->refs[i];

        if (ref->hsl > n || (ref->boid && hh_u64map_put(&L->by_boid, ref->boid, i + 1)) ||
            hh_grow(&L->open, &L->capopen, L->nopen + 1, sizeof *L->open))
            r->bad = true;
        else if (!ref->done)
            L->open[L->nopen++] = (uint32_t)i;
        ref->ord.shared = &L->execs;
    }
    for (size_t i = 0; i < tm->ntrades && !r->bad; i++) {
        if (tm->trades[i].st != T_OPEN || !tm->trades[i].exit_intent)
            continue;
        if (hh_grow(&L->exiting, &L->capexiting, L->nexiting + 1, sizeof *L->exiting))
            r->bad = true;
        else
            L->exiting[L->nexiting++] = (uint32_t)i;
    }
    read_execs(r, L);
    /* Queued orders may have been sent just before the crash this restore
     * follows: they are looked up before anything is sent (orders.c,
     * resume_restored) — not changed here, so the restored state hashes
     * like the checkpoint. */
    L->restored_upto = tm->nrefs;
    L->dirty = true;
}

static void read_refs(struct hh_ser_r *r, struct hh_tm *tm)
{
    uint32_t n = hh_ser_get_u32(r);

    if (r->bad || n > hh_ser_left(r) / sizeof(struct order_ref) ||
        hh_grow(&tm->refs, &tm->caprefs, n, sizeof *tm->refs)) {
        r->bad = true;
        return;
    }
    hh_ser_get(r, tm->refs, n * sizeof *tm->refs);
    tm->nrefs = n;
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        const struct order_ref *ref = &tm->refs[i];

        if (ref->trade >= (ref->group ? tm->ngroups : tm->ntrades) ||
            hh_u64map_put(&tm->by_oid, ref->oid, i + 1))
            r->bad = true;
    }
}

static void read_sym(struct hh_ser_r *r, struct hh_tm *tm)
{
    uint32_t iid = hh_ser_get_u32(r), active = hh_ser_get_u32(r), nw = hh_ser_get_u32(r);
    uint32_t flags;
    struct sym *sy = r->bad ? NULL : hh_tm__sym(tm, iid);

    if (!sy || nw > hh_ser_left(r) / 4 ||
        hh_grow(&sy->waiting, &sy->capw, nw, sizeof *sy->waiting)) {
        r->bad = true;
        return;
    }
    sy->active = active == NONE_RANK ? -1 : (int64_t)active;
    for (uint32_t k = 0; k < nw; k++)
        sy->waiting[k] = hh_ser_get_u32(r);
    sy->nw = nw;
    sy->band_valid = false;
    sy->vn = (int64_t)hh_ser_get_u64(r);
    sy->vpos = (int64_t)hh_ser_get_u64(r);
    hh_ser_get(r, &sy->vsum, sizeof sy->vsum);
    if (r->bad || sy->vn < 0 || sy->vn > tm->cfg.volume_lookback || sy->vpos < 0 ||
        sy->vpos >= (tm->cfg.volume_lookback ? tm->cfg.volume_lookback : 1)) {
        r->bad = true;
        return;
    }
    if (sy->vn) {
        sy->vols = calloc((size_t)tm->cfg.volume_lookback, sizeof *sy->vols);
        if (!sy->vols) {
            r->bad = true;
            return;
        }
        for (int64_t k = 0; k < sy->vn; k++)
            sy->vols[k] = (int64_t)hh_ser_get_u64(r);
    }
    flags = hh_ser_get_u32(r);
    sy->traded = flags & 1;
    sy->vgap = flags & 2;
    sy->oversell = hh_ser_get_i64(r);
    if (sy->active >= (int64_t)tm->ntrades)
        r->bad = true;
    for (uint32_t k = 0; k < nw; k++)
        if (sy->waiting[k] >= tm->ntrades)
            r->bad = true;
}

static void read_arrivals(struct hh_ser_r *r, struct hh_tm *tm)
{
    uint64_t changes = tm->changes;   /* restoring is not a change */
    uint32_t n;

    tm->arr_seq = hh_ser_get_u64(r);
    n = hh_ser_get_u32(r);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        struct tm_arrival a;

        memset(&a, 0, sizeof a);
        hh_ser_get(r, &a.sig, sizeof a.sig);
        a.seq = hh_ser_get_u64(r);
        a.stop_loss = (hh_money_t)hh_ser_get_u64(r);
        a.target = (hh_money_t)hh_ser_get_u64(r);
        if (hh_ser_get_u32(r)) {
            if (!(a.g = malloc(sizeof *a.g))) {
                r->bad = true;
                return;
            }
            hh_ser_get(r, a.g, sizeof *a.g);
        }
        if (r->bad || hh_tm__arrival_push(tm, &a)) {
            free(a.g);
            r->bad = true;
        }
    }
    tm->changes = changes;
}

/* The candle section into the attached builder.  One written without a
 * builder, or read without one, is refused: the engine that wrote it is
 * not the one restoring it. */
static int read_candles(struct hh_ser_r *r, struct hh_tm *tm)
{
    bool had = hh_ser_get_u32(r) != 0;
    int rc;

    if (r->bad || had != (tm->candles != NULL))
        return HH_EINVAL;
    if (!had)
        return HH_OK;
    rc = hh_candles_read(tm->candles, r);
    if (rc == HH_ECONFIG) {
        tm->candles_dropped = true;   /* another entry.timeframe: start empty */
        return HH_OK;
    }
    return rc;
}

int hh_tm_restore(struct hh_tm *tm, const unsigned char *blob, size_t len)
{
    struct hh_ser_r r = hh_ser_reader(blob, len);
    char magic[8];
    uint32_t nsyms, version;
    int rc;

    if (tm->ntrades || tm->ngroups || tm->nrefs || tm->narr)
        return HH_ESTATE;   /* only into a fresh manager */
    hh_ser_get(&r, magic, 8);
    version = hh_ser_get_u32(&r);
    if (r.bad || memcmp(magic, SNAP_MAGIC, 8) ||
        (version != SNAP_VERSION && version != SNAP_VERSION_NO_CANDLES) ||
        hh_ser_get_u32(&r) != layout())
        return HH_EINVAL;
    read_engine(&r, tm);
    read_objects(&r, tm);
    read_refs(&r, tm);
    nsyms = hh_ser_get_u32(&r);
    for (uint32_t i = 0; i < nsyms && !r.bad; i++)
        read_sym(&r, tm);
    read_live(&r, tm);
    read_arrivals(&r, tm);
    if (r.bad)
        return HH_EINVAL;
    tm->restored_v6 = version == SNAP_VERSION_NO_CANDLES;
    if (version == SNAP_VERSION && (rc = read_candles(&r, tm)) != HH_OK)
        return rc == HH_ENOMEM ? rc : HH_EINVAL;
    if (r.bad || r.at != r.n)
        return HH_EINVAL;
    return HH_OK;
}
