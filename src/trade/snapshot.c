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
 * Format: "HHTMSNAP", version, a layout word (struct sizes: a snapshot from
 * another build is refused rather than misread), then the sections in the
 * order of write_all().  Integers are native-endian: a snapshot is resumed
 * by the build that wrote it.
 */
#include "trade/tm_int.h"

#include <stdlib.h>
#include <string.h>

#define SNAP_MAGIC "HHTMSNAP"
#define SNAP_VERSION 1u
#define NONE_RANK UINT32_MAX

struct wbuf {
    unsigned char *p;
    size_t n, cap;
    bool oom;
};

static void put(struct wbuf *w, const void *v, size_t n)
{
    if (w->oom || n == 0)
        return;
    if (w->n + n > w->cap) {
        size_t cap = w->cap ? w->cap : 4096;
        unsigned char *q;

        while (cap < w->n + n)
            cap *= 2;
        q = realloc(w->p, cap);
        if (!q) {
            w->oom = true;
            return;
        }
        w->p = q;
        w->cap = cap;
    }
    memcpy(w->p + w->n, v, n);
    w->n += n;
}

static void put_u32(struct wbuf *w, uint32_t v)
{
    put(w, &v, sizeof v);
}

static void put_u64(struct wbuf *w, uint64_t v)
{
    put(w, &v, sizeof v);
}

static uint32_t layout(void)
{
    return (uint32_t)(sizeof(struct trade) * 31 + sizeof(struct tm_group) * 17 +
                      sizeof(struct order_ref) * 7 + sizeof(struct hh_tm_stats) * 3 +
                      sizeof(struct hh_hedge_mgr) + sizeof(struct hh_timer));
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
    return HH_OK;
}

static uint32_t owner_rank(const struct ranks *r, const struct order_ref *ref)
{
    return ref->group ? r->group[ref->trade] : r->trade[ref->trade];
}

static bool sym_live(const struct sym *sy)
{
    return sy->nw || sy->active >= 0 || sy->vn;
}

/* Hedge keys and timer args name groups by index: rewrite them by rank. */
static uint64_t group_key_rank(const struct ranks *r, uint64_t key)
{
    uint64_t gi = (key >> 8) - 1;

    return gi < UINT32_MAX && r->group[gi] != NONE_RANK
               ? ((uint64_t)r->group[gi] + 1) << 8 | (key & 0xff)
               : 0;
}

static void write_trades(struct wbuf *w, const struct hh_tm *tm, const struct ranks *r)
{
    put_u32(w, r->ntrades);
    for (size_t i = 0; i < tm->ntrades; i++) {
        struct trade t;

        if (r->trade[i] == NONE_RANK)
            continue;
        t = tm->trades[i];
        t.ready = false;
        put(w, &t, sizeof t);
    }
    put_u32(w, r->ngroups);
    for (size_t i = 0; i < tm->ngroups; i++)
        if (r->group[i] != NONE_RANK)
            put(w, &tm->groups[i], sizeof tm->groups[i]);
}

static void write_refs(struct wbuf *w, const struct hh_tm *tm, const struct ranks *r)
{
    uint32_t n = 0;

    for (size_t i = 0; i < tm->nrefs; i++)
        n += !tm->refs[i].done && owner_rank(r, &tm->refs[i]) != NONE_RANK;
    put_u32(w, n);
    for (size_t i = 0; i < tm->nrefs; i++) {
        struct order_ref ref = tm->refs[i];

        if (ref.done || owner_rank(r, &ref) == NONE_RANK)
            continue;
        ref.trade = owner_rank(r, &ref);
        put(w, &ref, sizeof ref);
    }
}

static void write_syms(struct wbuf *w, const struct hh_tm *tm, const struct ranks *r)
{
    uint32_t n = 0;

    for (size_t i = 0; i < tm->nsyms; i++)
        n += sym_live(&tm->syms[i]);
    put_u32(w, n);
    for (size_t i = 0; i < tm->nsyms; i++) {
        const struct sym *sy = &tm->syms[i];

        if (!sym_live(sy))
            continue;
        put_u32(w, (uint32_t)i);
        put_u32(w, sy->active >= 0 ? r->trade[sy->active] : NONE_RANK);
        put_u32(w, (uint32_t)sy->nw);
        for (size_t k = 0; k < sy->nw; k++)
            put_u32(w, r->trade[sy->waiting[k]]);
        put_u64(w, (uint64_t)sy->vn);
        put_u64(w, (uint64_t)sy->vpos);
        put(w, &sy->vsum, sizeof sy->vsum);
        for (int64_t k = 0; k < sy->vn; k++)
            put_u64(w, (uint64_t)sy->vols[k]);
    }
}

static void write_engine(struct wbuf *w, const struct hh_tm *tm, const struct ranks *r)
{
    struct hh_hedge_mgr h = tm->hedge;

    put(w, &tm->stats, sizeof tm->stats);
    put_u64(w, (uint64_t)tm->open_count);
    put_u32(w, tm->next_trade_id);
    put_u32(w, tm->next_serial);
    put_u64(w, tm->groups_active);
    put_u32(w, tm->exposure_timer);
    for (int k = 0; k < h.nkeys; k++)
        h.k[k].key = group_key_rank(r, h.k[k].key);
    put(w, &h, sizeof h);
    put_u64(w, tm->timers.next_seq);
    put_u32(w, (uint32_t)tm->timers.n);
    for (size_t k = 0; k < tm->timers.n; k++) {
        struct hh_timer t = tm->timers.heap[k];

        /* group timers belong to live groups: close_group() cancels them */
        if (t.kind == TMR_EXPIRY_CLOSE || t.kind == TMR_SETTLE)
            t.arg = t.arg < tm->ngroups ? r->group[t.arg] : NONE_RANK;
        put(w, &t, sizeof t);
    }
}

int hh_tm_snapshot(const struct hh_tm *tm, unsigned char **out, size_t *len)
{
    struct wbuf w = { 0 };
    struct ranks r;
    int rc = make_ranks(tm, &r);

    if (!rc) {
        put(&w, SNAP_MAGIC, 8);
        put_u32(&w, SNAP_VERSION);
        put_u32(&w, layout());
        write_engine(&w, tm, &r);
        write_trades(&w, tm, &r);
        write_refs(&w, tm, &r);
        write_syms(&w, tm, &r);
        rc = w.oom ? HH_ENOMEM : HH_OK;
    }
    free(r.trade);
    free(r.group);
    if (rc) {
        free(w.p);
        return rc;
    }
    *out = w.p;
    *len = w.n;
    return HH_OK;
}

/* ---- restore ------------------------------------------------------------------- */

struct rbuf {
    const unsigned char *p;
    size_t n, at;
    bool bad;
};

static void get(struct rbuf *r, void *v, size_t n)
{
    if (n == 0)
        return;   /* v may be NULL for an empty array */
    if (r->bad || r->at + n > r->n) {
        r->bad = true;
        memset(v, 0, n);
        return;
    }
    memcpy(v, r->p + r->at, n);
    r->at += n;
}

static uint32_t get_u32(struct rbuf *r)
{
    uint32_t v;

    get(r, &v, sizeof v);
    return v;
}

static uint64_t get_u64(struct rbuf *r)
{
    uint64_t v;

    get(r, &v, sizeof v);
    return v;
}

static void read_engine(struct rbuf *r, struct hh_tm *tm)
{
    uint32_t n;

    get(r, &tm->stats, sizeof tm->stats);
    tm->open_count = (int64_t)get_u64(r);
    tm->next_trade_id = get_u32(r);
    tm->next_serial = get_u32(r);
    tm->groups_active = get_u64(r);
    tm->exposure_timer = get_u32(r) != 0;
    get(r, &tm->hedge, sizeof tm->hedge);
    tm->hedge.debounce = tm->cfg.hedge_debounce;   /* configuration, not state */
    tm->timers.next_seq = get_u64(r);
    n = get_u32(r);
    if (r->bad || n > (r->n - r->at) / sizeof(struct hh_timer) ||
        hh_tm__grow((void **)&tm->timers.heap, &tm->timers.cap, n, sizeof *tm->timers.heap)) {
        r->bad = true;
        return;
    }
    get(r, tm->timers.heap, n * sizeof *tm->timers.heap);
    tm->timers.n = n;
}

static void read_objects(struct rbuf *r, struct hh_tm *tm)
{
    uint32_t n = get_u32(r);

    if (r->bad || n > (r->n - r->at) / sizeof(struct trade) ||
        hh_tm__grow((void **)&tm->trades, &tm->captrades, n, sizeof *tm->trades)) {
        r->bad = true;
        return;
    }
    get(r, tm->trades, n * sizeof *tm->trades);
    tm->ntrades = n;
    n = get_u32(r);
    if (r->bad || n > (r->n - r->at) / sizeof(struct tm_group) ||
        hh_tm__grow((void **)&tm->groups, &tm->capgroups, n, sizeof *tm->groups)) {
        r->bad = true;
        return;
    }
    get(r, tm->groups, n * sizeof *tm->groups);
    tm->ngroups = n;
}

static void read_refs(struct rbuf *r, struct hh_tm *tm)
{
    uint32_t n = get_u32(r);

    if (r->bad || n > (r->n - r->at) / sizeof(struct order_ref) ||
        hh_tm__grow((void **)&tm->refs, &tm->caprefs, n, sizeof *tm->refs)) {
        r->bad = true;
        return;
    }
    get(r, tm->refs, n * sizeof *tm->refs);
    tm->nrefs = n;
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        const struct order_ref *ref = &tm->refs[i];

        if (ref->trade >= (ref->group ? tm->ngroups : tm->ntrades) ||
            hh_u64map_put(&tm->by_oid, ref->oid, i + 1))
            r->bad = true;
    }
}

static void read_sym(struct rbuf *r, struct hh_tm *tm)
{
    uint32_t iid = get_u32(r), active = get_u32(r), nw = get_u32(r);
    struct sym *sy = r->bad ? NULL : hh_tm__sym(tm, iid);

    if (!sy || nw > (r->n - r->at) / 4 ||
        hh_tm__grow((void **)&sy->waiting, &sy->capw, nw, sizeof *sy->waiting)) {
        r->bad = true;
        return;
    }
    sy->active = active == NONE_RANK ? -1 : (int64_t)active;
    for (uint32_t k = 0; k < nw; k++)
        sy->waiting[k] = get_u32(r);
    sy->nw = nw;
    sy->band_valid = false;
    sy->vn = (int64_t)get_u64(r);
    sy->vpos = (int64_t)get_u64(r);
    get(r, &sy->vsum, sizeof sy->vsum);
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
            sy->vols[k] = (int64_t)get_u64(r);
    }
    if (sy->active >= (int64_t)tm->ntrades)
        r->bad = true;
    for (uint32_t k = 0; k < nw; k++)
        if (sy->waiting[k] >= tm->ntrades)
            r->bad = true;
}

int hh_tm_restore(struct hh_tm *tm, const unsigned char *blob, size_t len)
{
    struct rbuf r = { blob, len, 0, false };
    char magic[8];
    uint32_t nsyms;

    if (tm->ntrades || tm->ngroups || tm->nrefs)
        return HH_ESTATE;   /* only into a fresh manager */
    get(&r, magic, 8);
    if (r.bad || memcmp(magic, SNAP_MAGIC, 8) || get_u32(&r) != SNAP_VERSION ||
        get_u32(&r) != layout())
        return HH_EINVAL;
    read_engine(&r, tm);
    read_objects(&r, tm);
    read_refs(&r, tm);
    nsyms = get_u32(&r);
    for (uint32_t i = 0; i < nsyms && !r.bad; i++)
        read_sym(&r, tm);
    if (r.bad || r.at != r.n)
        return HH_EINVAL;
    return HH_OK;
}
