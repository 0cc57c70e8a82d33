/*
 * book.c — what the journal remembers of the live state, to describe each
 * event completely: the latest state of every live trade (a map from the
 * trade's key, open addressing with tombstones), the orders described to
 * the store (by broker order id), and net positions per instrument.
 *
 * Invariants: a trade leaves the map when it reaches CLOSED or DROPPED, an
 * order when its terminal state is recorded, so all three are bounded by
 * what is live; the map is at most half full (tombstones included).
 */
#include "journal/journal_int.h"

#include "core/grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- trade states: key -> latest state, live trades only ------------------------- */

static uint64_t str_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    while (*s)
        h = (h ^ (unsigned char)*s++) * 0x100000001b3ULL;
    return h ^ (h >> 29);
}

static struct tkent *tk_find(const struct tkmap *m, const char *key)
{
    if (!m->cap)
        return NULL;
    for (size_t j = str_hash(key) & (m->cap - 1);; j = (j + 1) & (m->cap - 1)) {
        struct tkent *e = &m->e[j];

        if (e->flag == TK_EMPTY)
            return NULL;
        if (e->flag == TK_LIVE && !strcmp(e->key, key))
            return e;
    }
}

static int tk_grow(struct tkmap *m)
{
    size_t cap = m->cap ? (m->live * 4 > m->cap ? m->cap * 2 : m->cap) : 256;
    struct tkent *e = calloc(cap, sizeof *e);

    if (!e)
        return HH_ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        size_t j;

        if (m->e[i].flag != TK_LIVE)
            continue;
        for (j = str_hash(m->e[i].key) & (cap - 1); e[j].flag; j = (j + 1) & (cap - 1))
            ;
        e[j] = m->e[i];
    }
    free(m->e);
    m->e = e;
    m->cap = cap;
    m->used = m->live;
    return HH_OK;
}

static int tk_set(struct tkmap *m, const char *key, const char *corr,
                  enum hh_store_tstate st)
{
    struct tkent *e = tk_find(m, key);
    size_t j;

    if (e) {
        e->state = (uint8_t)st;
        return HH_OK;
    }
    if (strlen(key) >= HH_SIG_ID_MAX)
        return HH_EINVAL;
    if ((m->used + 1) * 2 > m->cap && tk_grow(m))
        return HH_ENOMEM;
    for (j = str_hash(key) & (m->cap - 1); m->e[j].flag == TK_LIVE; j = (j + 1) & (m->cap - 1))
        ;
    if (m->e[j].flag == TK_EMPTY)
        m->used++;
    snprintf(m->e[j].key, sizeof m->e[j].key, "%s", key);
    snprintf(m->e[j].corr, sizeof m->e[j].corr, "%s", corr ? corr : key);
    m->e[j].flag = TK_LIVE;
    m->e[j].state = (uint8_t)st;
    m->live++;
    return HH_OK;
}

static void tk_del(struct tkmap *m, const char *key)
{
    struct tkent *e = tk_find(m, key);

    if (e) {
        e->flag = TK_GONE;
        m->live--;
    }
}

void hh_journal__transition(struct hh_journal *p, const char *key, const char *corr,
                            enum hh_store_tstate st, hh_time_t at, const char *detail)
{
    struct tkent *e = tk_find(&p->trades, key);
    struct hh_store_rec *r;

    if (e && e->state == st)
        return;
    r = hh_journal__rec(p, HH_STORE_TRADE_STATE);
    if (!r)
        return;
    r->u.trade_state.trade_key = hh_journal__keep(p, key);
    r->u.trade_state.state = st;
    r->u.trade_state.at = at;
    r->u.trade_state.detail = hh_journal__keep(p, detail);
    r->u.trade_state.correlation_id = hh_journal__keep(p, corr);
    if (st == HH_TS_CLOSED || st == HH_TS_DROPPED)
        tk_del(&p->trades, key);
    else if (tk_set(&p->trades, key, corr, st))
        hh_journal__latch(p, HH_ENOMEM, "out of memory recording the run");
}

const char *hh_journal__trade_corr(const struct hh_journal *p, const char *key)
{
    const struct tkent *e = tk_find(&p->trades, key);

    return e ? e->corr : NULL;
}

int hh_journal__trade_set(struct hh_journal *p, const char *key, const char *corr,
                          enum hh_store_tstate st)
{
    return tk_set(&p->trades, key, corr, st);
}

/* ---- orders by broker order id (a free list reuses forgotten slots) -------------- */

struct ord *hh_journal__ord_get(struct hh_journal *p, uint64_t oid)
{
    uint64_t v;

    return oid && hh_u64map_get(&p->by_oid, oid, &v) ? &p->ords[v - 1] : NULL;
}

struct ord *hh_journal__ord_add(struct hh_journal *p, uint64_t oid)
{
    size_t i;

    if (p->free_ord >= 0) {
        i = (size_t)p->free_ord;
        p->free_ord = p->ords[i].next_free;
    } else {
        if (hh_grow(&p->ords, &p->capords, p->nords + 1, sizeof *p->ords))
            goto oom;
        i = p->nords++;
    }
    memset(&p->ords[i], 0, sizeof p->ords[i]);
    p->ords[i].next_free = -1;
    if (hh_u64map_put(&p->by_oid, oid, i + 1)) {
        p->ords[i].next_free = p->free_ord;
        p->free_ord = (int64_t)i;
        goto oom;
    }
    return &p->ords[i];
oom:
    hh_journal__latch(p, HH_ENOMEM, "out of memory recording the run");
    return NULL;
}

void hh_journal__ord_forget(struct hh_journal *p, uint64_t oid)
{
    uint64_t v;

    if (!oid || !hh_u64map_get(&p->by_oid, oid, &v))
        return;
    hh_u64map_del(&p->by_oid, oid);
    p->ords[v - 1].next_free = p->free_ord;
    p->free_ord = (int64_t)(v - 1);
}

/* ---- net positions by instrument id (core/model.h's rule) ------------------------ */

struct hh_position *hh_journal__position(struct hh_journal *p, hh_iid_t iid)
{
    if ((size_t)iid >= p->npos) {
        size_t n = (size_t)iid + 64;
        struct hh_position *q = realloc(p->pos, n * sizeof *q);

        if (!q)
            return NULL;
        p->pos = q;
        memset(p->pos + p->npos, 0, (n - p->npos) * sizeof *q);
        p->npos = n;
    }
    return &p->pos[iid];
}

