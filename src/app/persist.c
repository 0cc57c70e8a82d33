/*
 * persist.c — the engine's decisions into the store (see persist.h for
 * what is written per event).
 *
 * Invariants
 *   - Records of one engine step accumulate in `recs` (their strings in an
 *     arena of fixed blocks, so pointers stay valid while it grows) and
 *     leave in ONE hh_store_submit(): the step's atomic group.  A checkpoint
 *     due at the step's end is the group's last record, so a checkpoint and
 *     the records it reflects commit together.
 *   - The engine is only read, never changed: the snapshot is taken between
 *     steps, when the manager is consistent (never from inside a callback).
 *   - Bookkeeping needed to describe an event completely — an order's
 *     description for a report that carries only its id, a trade's state
 *     for "first entry fill = OPEN", net positions — is kept here and
 *     reloaded by hh_persist_restore(); it is bounded by what is live
 *     (terminal orders and trades are forgotten).
 *   - The first failure is latched (p->rc, p->d); everything after it
 *     returns it.  Nothing is retried: a failed store is failed for good.
 *
 * Checkpoint seq = the engine's change count over the database's life: the
 * count of the restored checkpoint plus hh_tm_changes() since attach, so a
 * checkpoint written after a restart sorts after the one it came from.
 */
#include "app/persist.h"

#include "core/digest.h"
#include "core/jsonout.h"
#include "core/lines.h"
#include "core/u64map.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- an arena of fixed blocks (strings of one step) -------------------- */

#define ARENA_BLOCK 65536

struct ablock {
    struct ablock *next;
    size_t used, cap;
    char data[];
};

struct arena {
    struct ablock *head;           /* current block (first in the list) */
};

static void arena_reset(struct arena *a)
{
    /* keep one standard block for the next step */
    while (a->head && (a->head->next || a->head->cap != ARENA_BLOCK)) {
        struct ablock *b = a->head;

        a->head = b->next;
        free(b);
    }
    if (a->head)
        a->head->used = 0;
}

static void arena_free(struct arena *a)
{
    while (a->head) {
        struct ablock *b = a->head;

        a->head = b->next;
        free(b);
    }
}

/* A NUL-terminated copy of s[0..n); NULL when out of memory. */
static char *arena_copy(struct arena *a, const char *s, size_t n)
{
    struct ablock *b = a->head;
    char *out;

    if (!b || b->cap - b->used < n + 1) {
        size_t cap = n + 1 > ARENA_BLOCK ? n + 1 : ARENA_BLOCK;

        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->used = 0;
        b->cap = cap;
        b->next = a->head;
        a->head = b;
    }
    out = b->data + b->used;
    memcpy(out, s, n);
    out[n] = '\0';
    b->used += n + 1;
    return out;
}

/* ---- bookkeeping ------------------------------------------------------------ */

/* An order as last described to the store (client ids are the broker's tags). */
struct ord {
    char client_id[HH_CLIENT_ID_MAX];
    char trade_key[HH_SIG_ID_MAX];
    hh_iid_t iid;
    enum hh_side side;
    enum hh_ord_type type;
    hh_qty_t qty;
    hh_price_t limit, trigger;
    enum hh_ord_state state;
    int64_t next_free;             /* free list link (-1: end) when unused */
};

/* Trade key -> latest trade_state, for live trades only (open addressing,
 * linear probing; tombstones on removal). */
enum { TK_EMPTY, TK_LIVE, TK_GONE };

struct tkent {
    char key[HH_SIG_ID_MAX];
    char corr[HH_SIG_TEXT_MAX];    /* the trade's correlation id */
    uint8_t flag;                  /* TK_* */
    uint8_t state;                 /* enum hh_store_tstate */
};

struct tkmap {
    struct tkent *e;
    size_t cap, used, live;        /* used: live + tombstones */
};

/* What was last written for multi-leg group i. */
struct gtrack {
    uint64_t fp;                   /* fingerprint of its view */
    bool written, done;
};

struct hh_persist {
    struct hh_store *st;
    struct hh_persist_opts o;
    char mode[32];
    const struct hh_instruments *inst;
    struct hh_tm *tm;              /* attached manager (borrowed) */
    struct hh_tm_sink inner;       /* the runner's own sink */
    int rc;                        /* latched failure (0 = healthy) */
    struct hh_diag d;
    struct hh_persist_stats stats;
    uint64_t last_seq;
    hh_time_t last_at;             /* latest engine time seen (0 before any) */
    /* the step's pending records */
    struct hh_store_rec *recs;
    size_t nrecs, caprecs;
    struct arena ar;
    unsigned char *blob;           /* pending checkpoint blob (hh_tm_snapshot) */
    struct hh_json j;              /* the payload being written */
    /* checkpoints */
    uint64_t seen_changes;         /* hh_tm_changes() at the last step */
    uint64_t ckpt_changes_at;      /* hh_tm_changes() at the last checkpoint */
    hh_time_t ckpt_at;             /* engine time of the last checkpoint */
    uint64_t changes_base;         /* the restored checkpoint's seq */
    uint64_t attach_changes;       /* hh_tm_changes() at attach */
    char restored_hash[HH_STORE_HASH_HEX];
    /* fills: the execution id of the report that preceded the fill; an
     * order filled by it is forgotten once its fill is recorded */
    uint64_t last_exec_order, last_exec_id;
    uint64_t forget_oid;
    /* bookkeeping */
    struct ord *ords;
    size_t nords, capords;
    int64_t free_ord;
    struct hh_u64map by_oid;       /* order id -> index + 1 */
    struct tkmap trades;
    struct hh_position *pos;       /* by instrument id */
    size_t npos;
    struct gtrack *groups;
    size_t ngroups, first_live_group;
};

/* ---- failure ------------------------------------------------------------------ */

static int latch(struct hh_persist *p, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int latch(struct hh_persist *p, int rc, const char *fmt, ...)
{
    va_list ap;

    if (p->rc)
        return p->rc;
    p->rc = rc;
    va_start(ap, fmt);
    vsnprintf(p->d.msg, sizeof p->d.msg, fmt, ap);
    va_end(ap);
    return rc;
}

static int copy_diag(const struct hh_persist *p, struct hh_diag *d)
{
    if (d && p->rc)
        snprintf(d->msg, sizeof d->msg, "%s", p->d.msg);
    return p->rc;
}

/* ---- small helpers --------------------------------------------------------------- */

static const char *sym_of(const struct hh_persist *p, hh_iid_t iid)
{
    const struct hh_instrument *in = hh_inst_get(p->inst, iid);

    return in ? in->symbol : "?";
}

static const char *corr_of(const struct hh_signal *s)
{
    return s->correlation_id[0] ? s->correlation_id : s->id;
}

/* Keep a copy of s (NULL stays NULL) for the step; latches ENOMEM. */
static const char *keep(struct hh_persist *p, const char *s)
{
    char *c;

    if (!s)
        return NULL;
    c = arena_copy(&p->ar, s, strlen(s));
    if (!c)
        latch(p, HH_ENOMEM, "out of memory recording the run");
    return c;
}

/* A new pending record of kind k (zeroed), or NULL (latched). */
static struct hh_store_rec *rec(struct hh_persist *p, enum hh_store_kind k)
{
    struct hh_store_rec *r;

    if (p->rc)
        return NULL;
    if (p->nrecs == p->caprecs) {
        size_t cap = p->caprecs ? p->caprecs * 2 : 64;
        struct hh_store_rec *n = realloc(p->recs, cap * sizeof *n);

        if (!n) {
            latch(p, HH_ENOMEM, "out of memory recording the run");
            return NULL;
        }
        p->recs = n;
        p->caprecs = cap;
    }
    r = &p->recs[p->nrecs++];
    memset(r, 0, sizeof *r);
    r->kind = k;
    return r;
}

/* ---- JSON payloads -------------------------------------------------------------- */

/* Start a payload object. */
static void payload_begin(struct hh_persist *p)
{
    hh_json_reset(&p->j);
    hh_json_begin_object(&p->j, NULL, false);
}

/* A price or amount as an exact JSON number: 2 decimals, up to 4 when the
 * value has them (1/10,000 rupee). */
static void payload_fx(struct hh_persist *p, const char *key, int64_t v)
{
    hh_json_dec(&p->j, key, v, HH_FX_DIGITS, HH_FX_DIGITS, 2);
}

/* The payload so far, kept for the step (NULL: latched failure). */
static const char *payload_keep(struct hh_persist *p)
{
    if (hh_json_status(&p->j))
        latch(p, HH_ENOMEM, "out of memory recording the run");
    return p->rc ? NULL : keep(p, hh_json_text(&p->j));
}

/* Close the object and queue an audit record with it. */
static void audit(struct hh_persist *p, enum hh_audit_kind kind, hh_time_t at, const char *corr)
{
    struct hh_store_rec *r;
    const char *payload;

    hh_json_end_object(&p->j);
    payload = payload_keep(p);
    r = rec(p, HH_STORE_AUDIT);
    if (!r)
        return;
    r->u.audit.at = at;
    r->u.audit.kind = kind;
    r->u.audit.correlation_id = keep(p, corr);
    r->u.audit.payload = payload;
    p->stats.audits++;
}

/* ---- submitting ------------------------------------------------------------------ */

/* Records whose time the event did not say (a risk rejection, a config
 * loaded before the clock started) take the step's: `now`, else the latest
 * engine time seen (0 before any). */
static void fix_times(struct hh_persist *p, hh_time_t now)
{
    hh_time_t t = now != HH_TIME_NONE ? now : p->last_at;

    for (size_t i = 0; i < p->nrecs; i++) {
        struct hh_store_rec *r = &p->recs[i];
        hh_time_t *at = NULL;

        switch (r->kind) {
        case HH_STORE_SIGNAL:
        case HH_STORE_TRADE:
            break;
        case HH_STORE_TRADE_STATE: at = &r->u.trade_state.at; break;
        case HH_STORE_ORDER: at = &r->u.order.at; break;
        case HH_STORE_ORDER_EVENT: at = &r->u.order_event.at; break;
        case HH_STORE_FILL: at = &r->u.fill.ts; break;
        case HH_STORE_POSITION: at = &r->u.position.at; break;
        case HH_STORE_GROUP: at = &r->u.group.at; break;
        case HH_STORE_CHECKPOINT: at = &r->u.checkpoint.at; break;
        case HH_STORE_AUDIT: at = &r->u.audit.at; break;
        }
        if (at && *at == HH_TIME_NONE)
            *at = t;
    }
}

/* Submit everything pending as one atomic group (times: see fix_times). */
static int submit(struct hh_persist *p, hh_time_t now)
{
    struct hh_diag d = { { 0 } };
    uint64_t seq = 0;
    int rc;

    if (p->rc || !p->nrecs)
        goto out;
    fix_times(p, now);
    rc = hh_store_submit(p->st, p->recs, p->nrecs, 0, &seq, &d);
    if (rc) {
        latch(p, rc, "the database failed, stopping (never trade without memory): %s", d.msg);
        goto out;
    }
    p->last_seq = seq;
    p->stats.records += p->nrecs;
    p->stats.groups++;
out:
    p->nrecs = 0;
    arena_reset(&p->ar);
    free(p->blob);
    p->blob = NULL;
    return p->rc;
}

/* ---- trade states --------------------------------------------------------------- */

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

/* A trade_state row for the trade `key` (the signal's id), unless it is
 * already in that state (one row per transition); terminal states forget
 * the trade. */
static void transition_key(struct hh_persist *p, const char *key, const char *corr,
                           enum hh_store_tstate st, hh_time_t at, const char *detail)
{
    struct tkent *e = tk_find(&p->trades, key);
    struct hh_store_rec *r;

    if (e && e->state == st)
        return;
    r = rec(p, HH_STORE_TRADE_STATE);
    if (!r)
        return;
    r->u.trade_state.trade_key = keep(p, key);
    r->u.trade_state.state = st;
    r->u.trade_state.at = at;
    r->u.trade_state.detail = keep(p, detail);
    r->u.trade_state.correlation_id = keep(p, corr);
    if (st == HH_TS_CLOSED || st == HH_TS_DROPPED)
        tk_del(&p->trades, key);
    else if (tk_set(&p->trades, key, corr, st))
        latch(p, HH_ENOMEM, "out of memory recording the run");
}

static void transition(struct hh_persist *p, const struct hh_signal *s, enum hh_store_tstate st,
                       hh_time_t at, const char *detail)
{
    transition_key(p, s->id, corr_of(s), st, at, detail);
}

/* ---- orders ---------------------------------------------------------------------- */

static struct ord *ord_get(struct hh_persist *p, uint64_t oid)
{
    uint64_t v;

    return oid && hh_u64map_get(&p->by_oid, oid, &v) ? &p->ords[v - 1] : NULL;
}

static struct ord *ord_add(struct hh_persist *p, uint64_t oid)
{
    size_t i;

    if (p->free_ord >= 0) {
        i = (size_t)p->free_ord;
        p->free_ord = p->ords[i].next_free;
    } else {
        if (p->nords == p->capords) {
            size_t cap = p->capords ? p->capords * 2 : 64;
            struct ord *n = realloc(p->ords, cap * sizeof *n);

            if (!n)
                goto oom;
            p->ords = n;
            p->capords = cap;
        }
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
    latch(p, HH_ENOMEM, "out of memory recording the run");
    return NULL;
}

static void ord_forget(struct hh_persist *p, uint64_t oid)
{
    uint64_t v;

    if (!oid || !hh_u64map_get(&p->by_oid, oid, &v))
        return;
    hh_u64map_del(&p->by_oid, oid);
    p->ords[v - 1].next_free = p->free_ord;
    p->free_ord = (int64_t)(v - 1);
}

/* The orders upsert describing o now. */
static void put_order(struct hh_persist *p, const struct ord *o, uint64_t oid, hh_time_t at)
{
    struct hh_store_rec *r = rec(p, HH_STORE_ORDER);

    if (!r)
        return;
    r->u.order.client_id = keep(p, o->client_id);
    r->u.order.order_id = oid;
    r->u.order.trade_key = o->trade_key[0] ? keep(p, o->trade_key) : NULL;
    r->u.order.symbol = keep(p, sym_of(p, o->iid));
    r->u.order.side = o->side;
    r->u.order.type = o->type;
    r->u.order.qty = o->qty;
    r->u.order.limit = o->limit;
    r->u.order.trigger = o->trigger;
    r->u.order.state = o->state;
    r->u.order.at = at;
}

static void payload_order(struct hh_persist *p, const char *client, uint64_t oid,
                     const struct hh_order_req *q, uint32_t trade_id)
{
    hh_json_str(&p->j, "client_id", client);
    if (oid)
        hh_json_uint(&p->j, "order_id", oid);
    hh_json_str(&p->j, "symbol", sym_of(p, q->iid));
    hh_json_str(&p->j, "side", hh_side_name(q->side));
    hh_json_str(&p->j, "type", hh_ord_type_name(q->type));
    hh_json_int(&p->j, "qty", q->qty);
    if (q->limit)
        payload_fx(p, "limit", q->limit);
    if (q->trigger)
        payload_fx(p, "trigger", q->trigger);
    if (trade_id)
        hh_json_uint(&p->j, "trade_id", trade_id);
}

static void on_sent(struct hh_persist *p, const struct hh_tm_order_event *e, bool failed)
{
    const struct hh_order_req *q = e->req;
    const char *corr = corr_of(e->sig);
    struct ord tmp, *o = &tmp;

    if (!failed && e->order_id && !(o = ord_add(p, e->order_id)))
        return;
    memset(o, 0, sizeof *o);
    o->next_free = -1;
    snprintf(o->client_id, sizeof o->client_id, "%s", q->client_id);
    snprintf(o->trade_key, sizeof o->trade_key, "%s", e->sig->id);
    o->iid = q->iid;
    o->side = q->side;
    o->type = q->type;
    o->qty = q->qty;
    o->limit = q->limit;
    o->trigger = q->trigger;
    /* the engine's order machine says (a timeout leaves the outcome
     * unknown: SENT, not terminal: reconciliation looks its tag up) */
    o->state = e->state;
    put_order(p, o, e->order_id, e->ts);
    payload_begin(p);
    payload_order(p, q->client_id, e->order_id, q, e->trade_id);
    if (failed) {
        hh_json_bool(&p->j, "send_failed", true);
        hh_json_str(&p->j, "error", hh_strerror(e->rc));
        hh_json_str(&p->j, "outcome", e->rc == HH_ETIMEOUT ? "unknown" : "not placed");
    }
    audit(p, failed ? HH_AUDIT_ORDER_REJECTED : HH_AUDIT_ORDER_SENT, e->ts, corr);
}

static void on_modify(struct hh_persist *p, const struct hh_tm_order_event *e)
{
    struct ord *o = ord_get(p, e->order_id);

    if (!o)
        return;
    if (e->qty)
        o->qty = e->qty;
    if (e->limit)
        o->limit = e->limit;
    if (e->trigger)
        o->trigger = e->trigger;
    put_order(p, o, e->order_id, e->ts);
}

static void on_cancel(struct hh_persist *p, const struct hh_tm_order_event *e)
{
    struct ord *o = ord_get(p, e->order_id);

    if (!o || hh_ord_state_terminal(o->state))
        return;
    o->state = e->state;
    put_order(p, o, e->order_id, e->ts);
}

static void on_report(struct hh_persist *p, const struct hh_tm_order_event *e)
{
    const struct hh_report *r = e->report;
    struct ord *o;
    struct hh_store_rec *ev = rec(p, HH_STORE_ORDER_EVENT);
    enum hh_audit_kind kind = HH_AUDIT_ORDER_ACKNOWLEDGED;
    hh_time_t at = r->ts != HH_TIME_NONE ? r->ts : e->ts;

    if (!ev)
        return;
    ord_forget(p, p->forget_oid);
    p->forget_oid = 0;
    o = ord_get(p, r->order_id);
    hh_store_order_event_from_report(r, o ? o->client_id : NULL, &ev->u.order_event);
    ev->u.order_event.at = at;
    ev->u.order_event.client_id = keep(p, ev->u.order_event.client_id);
    ev->u.order_event.reason = keep(p, ev->u.order_event.reason);
    if (r->kind == HH_RPT_FILL) {
        p->last_exec_order = r->order_id;
        p->last_exec_id = r->exec_id;
    }
    if (o) {
        /* the engine's order machine says (it refused what it did not
         * apply: such a report never gets here) */
        o->state = e->state;
        if (r->kind == HH_RPT_MODIFIED && r->filled + r->leaves > 0)
            o->qty = r->filled + r->leaves;
        put_order(p, o, r->order_id, at);
    }
    if (r->kind != HH_RPT_FILL) {   /* ORDER_FILLED comes with the fill */
        payload_begin(p);
        hh_json_uint(&p->j, "order_id", r->order_id);
        hh_json_str(&p->j, "client_id", o ? o->client_id : NULL);
        if (r->kind == HH_RPT_CANCELLED || r->kind == HH_RPT_EXPIRED) {
            kind = HH_AUDIT_ORDER_CANCELLED;
            hh_json_int(&p->j, "filled", r->filled);
            if (r->kind == HH_RPT_EXPIRED)
                hh_json_bool(&p->j, "expired", true);
        } else if (r->kind == HH_RPT_REJECTED) {
            kind = HH_AUDIT_ORDER_REJECTED;
        } else if (r->kind == HH_RPT_MODIFIED) {
            hh_json_bool(&p->j, "modified", true);
            hh_json_int(&p->j, "leaves", r->leaves);
        }
        if (r->reason[0])
            hh_json_str(&p->j, "reason", r->reason);
        audit(p, kind, at, corr_of(e->sig));
    }
    if (o && hh_ord_state_terminal(o->state)) {
        if (r->kind == HH_RPT_FILL)
            p->forget_oid = r->order_id;   /* its fill (next) names it */
        else
            ord_forget(p, r->order_id);
    }
}

/* ---- positions ---------------------------------------------------------------------- */

static struct hh_position *pos_of(struct hh_persist *p, hh_iid_t iid)
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

/* ---- sink callbacks ------------------------------------------------------------------ */

static void s_fill(void *ctx, const struct hh_tm_fill *f)
{
    struct hh_persist *p = ctx;
    const char *corr = corr_of(f->sig);
    struct hh_store_rec *r;
    struct hh_position *ps;

    if (p->inner.fill)
        p->inner.fill(p->inner.ctx, f);
    if (p->rc)
        return;
    r = rec(p, HH_STORE_FILL);
    if (!r)
        return;
    r->u.fill.ts = f->ts;
    r->u.fill.order_id = f->order_id;
    r->u.fill.trade_id = f->trade_id;
    r->u.fill.signal_id = keep(p, f->sig->id);
    r->u.fill.symbol = keep(p, sym_of(p, f->iid));
    r->u.fill.side = f->side;
    r->u.fill.qty = f->qty;
    r->u.fill.price = f->price;
    r->u.fill.reason = hh_fill_reason_name(f->reason);
    r->u.fill.charges = f->charges;
    if (f->order_id && f->order_id == p->last_exec_order)
        r->u.fill.exec_id = p->last_exec_id;
    p->last_exec_order = p->last_exec_id = 0;
    payload_begin(p);
    if (f->order_id)
        hh_json_uint(&p->j, "order_id", f->order_id);
    {
        struct ord *o = ord_get(p, f->order_id);

        if (o)
            hh_json_str(&p->j, "client_id", o->client_id);
    }
    if (p->forget_oid == f->order_id) {
        ord_forget(p, p->forget_oid);
        p->forget_oid = 0;
    }
    hh_json_uint(&p->j, "trade_id", f->trade_id);
    hh_json_str(&p->j, "symbol", sym_of(p, f->iid));
    hh_json_str(&p->j, "side", hh_side_name(f->side));
    hh_json_int(&p->j, "qty", f->qty);
    payload_fx(p, "price", f->price);
    hh_json_str(&p->j, "reason", hh_fill_reason_name(f->reason));
    payload_fx(p, "charges", f->charges);
    audit(p, HH_AUDIT_ORDER_FILLED, f->ts, corr);
    ps = pos_of(p, f->iid);
    if (!ps) {
        latch(p, HH_ENOMEM, "out of memory recording the run");
        return;
    }
    if (hh_position_apply(ps, f->side, f->qty, f->price)) {
        latch(p, HH_EOVERFLOW, "position of %s overflows", sym_of(p, f->iid));
        return;
    }
    r = rec(p, HH_STORE_POSITION);
    if (!r)
        return;
    r->u.position.symbol = keep(p, sym_of(p, f->iid));
    r->u.position.qty = ps->qty;
    r->u.position.avg_price = ps->avg;
    r->u.position.realised = ps->realised;
    r->u.position.at = f->ts;
    if (f->reason == HH_FR_ENTRY)
        transition(p, f->sig, HH_TS_OPEN, f->ts, NULL);
}

static void s_closed(void *ctx, const struct hh_tm_trade *t)
{
    struct hh_persist *p = ctx;
    struct hh_store_rec *r;

    if (p->inner.closed)
        p->inner.closed(p->inner.ctx, t);
    r = rec(p, HH_STORE_TRADE);
    if (!r)
        return;
    r->u.trade.trade_id = t->trade_id;
    r->u.trade.signal_id = keep(p, t->sig->id);
    r->u.trade.symbol = keep(p, sym_of(p, t->iid));
    r->u.trade.side = t->side;
    r->u.trade.qty = t->qty;
    r->u.trade.entry_ts = t->entry_ts;
    r->u.trade.entry_price = t->entry_price;
    r->u.trade.exit_ts = t->exit_ts;
    r->u.trade.avg_exit_price = t->avg_exit_price;
    r->u.trade.exit_reason = hh_fill_reason_name(t->exit_reason);
    r->u.trade.gross = t->gross;
    r->u.trade.charges = t->charges;
    r->u.trade.net = t->net;
    r->u.trade.r_multiple_x100 = t->r_multiple;
    transition(p, t->sig, HH_TS_CLOSED, t->exit_ts, hh_fill_reason_name(t->exit_reason));
}

static void s_rejected(void *ctx, const struct hh_signal *s, enum hh_sig_reason why,
                       const char *detail)
{
    struct hh_persist *p = ctx;
    hh_time_t at = HH_TIME_NONE;   /* now: the step's time, set at submit */

    if (p->inner.rejected)
        p->inner.rejected(p->inner.ctx, s, why, detail);
    transition(p, s, HH_TS_DROPPED, at, hh_sig_reason_name(why));
    payload_begin(p);
    hh_json_str(&p->j, "id", s->id);
    hh_json_str(&p->j, "reason", hh_sig_reason_name(why));
    hh_json_str(&p->j, "detail", detail);
    audit(p, HH_AUDIT_RISK_REJECTED, at, corr_of(s));
}

static void s_dropped(void *ctx, const struct hh_signal *s, enum hh_tm_drop why, hh_time_t at)
{
    struct hh_persist *p = ctx;

    if (p->inner.dropped)
        p->inner.dropped(p->inner.ctx, s, why, at);
    transition(p, s, HH_TS_DROPPED, at, hh_tm_drop_name(why));
}

static void s_order(void *ctx, const struct hh_tm_order_event *e)
{
    struct hh_persist *p = ctx;

    if (p->inner.order)
        p->inner.order(p->inner.ctx, e);
    if (p->rc)
        return;
    switch (e->kind) {
    case HH_TMO_SENT:
        on_sent(p, e, false);
        break;
    case HH_TMO_SEND_FAILED:
        on_sent(p, e, true);
        break;
    case HH_TMO_MODIFY:
        on_modify(p, e);
        break;
    case HH_TMO_CANCEL:
        on_cancel(p, e);
        break;
    case HH_TMO_REPORT:
        on_report(p, e);
        break;
    }
}

/* ---- multi-leg groups ------------------------------------------------------------------ */

static uint64_t fnv(uint64_t h, const void *data, size_t n)
{
    const unsigned char *b = data;

    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

static uint64_t view_fp(const struct hh_tm_group_view *v)
{
    uint64_t h = fnv(0xcbf29ce484222325ULL, v->state, strlen(v->state));

    h = fnv(h, &v->trade_id, sizeof v->trade_id);
    h = fnv(h, &v->rolled_back, sizeof v->rolled_back);
    h = fnv(h, &v->hedged, sizeof v->hedged);
    h = fnv(h, &v->unhedged, sizeof v->unhedged);
    for (int i = 0; i < v->nlegs; i++) {
        const struct hh_tm_leg_view *l = &v->legs[i];

        h = fnv(h, &l->iid, sizeof l->iid);
        h = fnv(h, &l->target, sizeof l->target);
        h = fnv(h, &l->filled, sizeof l->filled);
        h = fnv(h, &l->closed, sizeof l->closed);
    }
    return h;
}

/* The group_exec upsert of one group's view: legs as JSON. */
static void put_group(struct hh_persist *p, const struct hh_tm_group_view *v)
{
    struct hh_store_rec *r;
    const char *legs;

    payload_begin(p);
    hh_json_uint(&p->j, "trade_id", v->trade_id);
    hh_json_bool(&p->j, "rolled_back", v->rolled_back);
    hh_json_int(&p->j, "hedged", v->hedged);
    hh_json_int(&p->j, "unhedged", v->unhedged);
    hh_json_begin_array(&p->j, "legs", false);
    for (int i = 0; i < v->nlegs; i++) {
        const struct hh_tm_leg_view *l = &v->legs[i];

        hh_json_begin_object(&p->j, NULL, false);
        hh_json_str(&p->j, "symbol", sym_of(p, l->iid));
        hh_json_str(&p->j, "side", hh_side_name(l->side));
        hh_json_int(&p->j, "target", l->target);
        hh_json_int(&p->j, "filled", l->filled);
        hh_json_int(&p->j, "closed", l->closed);
        hh_json_end_object(&p->j);
    }
    hh_json_end_array(&p->j);
    hh_json_end_object(&p->j);
    legs = payload_keep(p);
    r = rec(p, HH_STORE_GROUP);
    if (!r)
        return;
    r->u.group.group_id = keep(p, v->id);
    r->u.group.state = keep(p, v->state);
    r->u.group.legs_json = legs;
    r->u.group.at = HH_TIME_NONE;   /* the step's time */
}

/* Upsert the groups whose view changed since last written; a group that
 * ended without a trade (nothing filled: no closed sink) ends its
 * trade_state here. */
static void scan_groups(struct hh_persist *p)
{
    size_t n = hh_tm_group_count(p->tm);

    if (n > p->ngroups) {
        struct gtrack *g = realloc(p->groups, n * sizeof *g);

        if (!g) {
            latch(p, HH_ENOMEM, "out of memory recording the run");
            return;
        }
        memset(g + p->ngroups, 0, (n - p->ngroups) * sizeof *g);
        p->groups = g;
        p->ngroups = n;
    }
    for (size_t i = p->first_live_group; i < n && !p->rc; i++) {
        struct gtrack *g = &p->groups[i];
        struct hh_tm_group_view v;
        uint64_t fp;

        if (g->done) {
            if (i == p->first_live_group)
                p->first_live_group++;
            continue;
        }
        if (hh_tm_group_view(p->tm, i, &v))
            continue;
        fp = view_fp(&v);
        if (g->written && g->fp == fp)
            continue;
        put_group(p, &v);
        g->fp = fp;
        g->written = true;
        if (!strcmp(v.state, "CLOSED") || !strcmp(v.state, "DROPPED")) {
            struct tkent *e = tk_find(&p->trades, v.id);

            g->done = true;
            if (e) {
                char corr[HH_SIG_TEXT_MAX];

                snprintf(corr, sizeof corr, "%s", e->corr);
                transition_key(p, v.id, corr,
                               !strcmp(v.state, "CLOSED") ? HH_TS_CLOSED : HH_TS_DROPPED,
                               HH_TIME_NONE, v.rolled_back ? "rolled back" : "no fill");
            }
        }
    }
}

/* ---- checkpoints ------------------------------------------------------------------------ */

static bool ckpt_due(const struct hh_persist *p, uint64_t ch, hh_time_t now)
{
    if (ch == p->ckpt_changes_at)
        return false;
    if (!p->o.ckpt_changes && !p->o.ckpt_interval)
        return true;
    if (p->o.ckpt_changes && ch - p->ckpt_changes_at >= p->o.ckpt_changes)
        return true;
    return p->o.ckpt_interval &&
           (p->ckpt_at == HH_TIME_NONE || now - p->ckpt_at >= p->o.ckpt_interval);
}

/* Queue a checkpoint of the attached manager.  The state hash is the
 * SHA-256 of the snapshot: the store's writer computes it (state_hash
 * NULL), off the core's thread, unless the caller wants it (hash given:
 * the final checkpoint, whose hash ENGINE_STOP names). */
static void add_checkpoint(struct hh_persist *p, hh_time_t now, char *hash)
{
    struct hh_store_rec *r;
    unsigned char *blob = NULL;
    size_t len = 0;
    uint64_t ch = hh_tm_changes(p->tm);

    if (p->rc)
        return;
    if (hh_tm_snapshot(p->tm, &blob, &len)) {
        latch(p, HH_ENOMEM, "out of memory taking a checkpoint of the engine");
        return;
    }
    if (hash) {
        if (hh_digest_hex(blob, len, hash)) {
            free(blob);
            latch(p, HH_ENOMEM, "SHA-256 failed (OpenSSL)");
            return;
        }
    }
    r = rec(p, HH_STORE_CHECKPOINT);
    if (!r) {
        free(blob);
        return;
    }
    free(p->blob);   /* at most one per group: the last one counts */
    p->blob = blob;
    r->u.checkpoint.at = now;
    r->u.checkpoint.seq = p->changes_base + (ch - p->attach_changes);
    r->u.checkpoint.state = blob;
    r->u.checkpoint.state_len = len;
    r->u.checkpoint.state_hash = hash ? keep(p, hash) : NULL;
    p->ckpt_changes_at = ch;
    p->ckpt_at = now;
    p->stats.checkpoints++;
    p->stats.checkpoint_bytes += len;
}

int hh_persist_step(struct hh_persist *p, hh_time_t now)
{
    uint64_t ch;

    if (p->rc)
        return p->rc;
    if (!p->tm)
        return submit(p, now);
    ch = hh_tm_changes(p->tm);
    if (ch == p->seen_changes && !p->nrecs)
        return HH_OK;   /* nothing happened: the path of most ticks */
    if (now == HH_TIME_NONE)
        now = p->last_at;
    p->last_at = now;
    if (ch != p->seen_changes) {
        p->seen_changes = ch;
        if (hh_tm_group_count(p->tm))
            scan_groups(p);
        if (ckpt_due(p, ch, now))
            add_checkpoint(p, now, NULL);
    }
    return submit(p, now);
}

int hh_persist_finish(struct hh_persist *p, hh_time_t now, struct hh_diag *d)
{
    struct hh_diag fd = { { 0 } };
    int rc;

    if (now == HH_TIME_NONE)
        now = p->last_at;
    p->last_at = now;
    if (!p->rc && p->tm) {
        const struct hh_tm_stats *s = hh_tm_stats(p->tm);
        char hash[HH_STORE_HASH_HEX] = "";

        p->seen_changes = hh_tm_changes(p->tm);
        if (hh_tm_group_count(p->tm))
            scan_groups(p);
        add_checkpoint(p, now, hash);
        payload_begin(p);
        hh_json_str(&p->j, "mode", p->mode);
        hh_json_uint(&p->j, "trades", s->trades_closed);
        hh_json_uint(&p->j, "wins", s->wins);
        hh_json_uint(&p->j, "losses", s->losses);
        payload_fx(p, "net_pnl", s->net);
        payload_fx(p, "equity", s->equity);
        hh_json_uint(&p->j, "waiting", s->waiting);
        hh_json_uint(&p->j, "open", s->open);
        hh_json_uint(&p->j, "checkpoints", p->stats.checkpoints);
        hh_json_str(&p->j, "state_hash", hash);
        audit(p, HH_AUDIT_ENGINE_STOP, now, NULL);
    }
    submit(p, now);
    if (!p->rc && (rc = hh_store_flush(p->st, &fd)) != HH_OK)
        latch(p, rc, "the database failed, stopping (never trade without memory): %s", fd.msg);
    return copy_diag(p, d);
}

/* ---- the handle ---------------------------------------------------------------------------- */

void hh_persist_opts_default(struct hh_persist_opts *o)
{
    memset(o, 0, sizeof *o);
    o->sync = HH_STORE_SYNC_NORMAL;
    o->ckpt_changes = 10000;
    o->ckpt_interval = HH_NS_PER_MIN;
    o->mode = "backtest";
}

int hh_persist_open(const char *path, const struct hh_persist_opts *o,
                    const struct hh_instruments *inst, struct hh_persist **out,
                    struct hh_diag *d)
{
    struct hh_persist_opts def;
    struct hh_store_opts so;
    struct hh_persist *p;
    int rc;

    *out = NULL;
    if (!o) {
        hh_persist_opts_default(&def);
        o = &def;
    }
    p = calloc(1, sizeof *p);
    if (!p || hh_u64map_init(&p->by_oid, 64)) {
        free(p);
        return hh_diag_set(d, HH_ENOMEM, "out of memory");
    }
    p->o = *o;
    hh_json_init(&p->j, 0, NULL, 0);
    snprintf(p->mode, sizeof p->mode, "%s", o->mode ? o->mode : "run");
    p->o.mode = p->mode;
    p->inst = inst;
    p->free_ord = -1;
    p->ckpt_at = HH_TIME_NONE;
    p->last_at = 0;
    hh_store_opts_default(&so);
    so.sync = o->sync;
    so.max_pages = o->max_pages;
    rc = hh_store_open(path, &so, &p->st, d);
    if (rc) {
        hh_u64map_free(&p->by_oid);
        free(p);
        return rc;
    }
    *out = p;
    return HH_OK;
}

int hh_persist_close(struct hh_persist *p, struct hh_diag *d)
{
    struct hh_diag cd = { { 0 } };
    int rc;

    if (!p)
        return HH_OK;
    rc = hh_store_close(p->st, &cd);
    if (rc)
        latch(p, rc, "the database failed: %s", cd.msg);
    rc = copy_diag(p, d);
    free(p->recs);
    arena_free(&p->ar);
    free(p->blob);
    hh_json_free(&p->j);
    free(p->ords);
    hh_u64map_free(&p->by_oid);
    free(p->trades.e);
    free(p->pos);
    free(p->groups);
    free(p);
    return rc;
}

int hh_persist_status(struct hh_persist *p, struct hh_diag *d)
{
    struct hh_diag sd = { { 0 } };
    int rc;

    if (!p->rc && (rc = hh_store_status(p->st, &sd)) != HH_OK)
        latch(p, rc, "the database failed, stopping (never trade without memory): %s", sd.msg);
    return copy_diag(p, d);
}

const struct hh_persist_stats *hh_persist_stats(const struct hh_persist *p)
{
    return &p->stats;
}

struct hh_store *hh_persist_store(struct hh_persist *p)
{
    return p->st;
}

uint64_t hh_persist_last_seq(const struct hh_persist *p)
{
    return p->last_seq;
}

/* Alerts worth a row in the audit trail: what an operator must see, the
 * steps of an uncertain placement or a hybrid stop, and everything an
 * order's state machine refused (a stale fill it merely ignored, rc 0,
 * is not a refusal). */
static bool alert_audited(const struct hh_tm_alert *a)
{
    return a->alert || a->kind == HH_TMA_PLACE_UNKNOWN || a->kind == HH_TMA_PLACE_FOUND ||
           a->kind == HH_TMA_STOP_MARKET || a->kind == HH_TMA_STOP_FAILED ||
           a->kind == HH_TMA_ILLEGAL_TRANSITION || a->kind == HH_TMA_BAD_REPORT ||
           (a->kind == HH_TMA_DUP_FILL && a->rc);
}

static void s_alert(void *actx, const struct hh_tm_alert *a)
{
    struct hh_persist *p = actx;

    if (p->inner.alert)
        p->inner.alert(p->inner.alert_ctx, a);
    if (p->rc)
        return;
    if (a->kind == HH_TMA_BREAKER) {
        payload_begin(p);
        hh_json_str(&p->j, "from", hh_breaker_state_name(a->brk->from));
        hh_json_str(&p->j, "to", hh_breaker_state_name(a->brk->to));
        hh_json_str(&p->j, "why", a->brk->why);
        hh_json_int(&p->j, "failures", a->brk->failures);
        hh_json_bool(&p->j, "alert", a->alert);
        audit(p, HH_AUDIT_BREAKER, a->ts, NULL);
        return;
    }
    if (!alert_audited(a))
        return;
    payload_begin(p);
    hh_json_str(&p->j, "alert", hh_tm_alert_name(a->kind));
    hh_json_str(&p->j, "client_id", a->client_id ? a->client_id : "");
    hh_json_uint(&p->j, "order_id", a->order_id);
    hh_json_int(&p->j, "qty", a->qty);
    hh_json_str(&p->j, "error", a->rc ? hh_strerror(a->rc) : "");
    hh_json_str(&p->j, "detail", a->detail ? a->detail : "");
    hh_json_bool(&p->j, "operator_alert", a->alert);
    audit(p, HH_AUDIT_ALERT, a->ts, a->sig ? corr_of(a->sig) : NULL);
}

void hh_persist_sink(struct hh_persist *p, const struct hh_tm_sink *inner,
                     struct hh_tm_sink *out)
{
    p->inner = *inner;
    out->fill = s_fill;
    out->closed = s_closed;
    out->rejected = s_rejected;
    out->dropped = s_dropped;
    out->order = s_order;
    out->ctx = p;
    out->alert = s_alert;
    out->alert_ctx = p;
}

int hh_persist_attach(struct hh_persist *p, struct hh_tm *tm, hh_time_t at, struct hh_diag *d)
{
    p->tm = tm;
    p->attach_changes = p->seen_changes = p->ckpt_changes_at = hh_tm_changes(tm);
    payload_begin(p);
    hh_json_str(&p->j, "mode", p->mode);
    if (p->restored_hash[0]) {
        hh_json_str(&p->j, "restored_state_hash", p->restored_hash);
        hh_json_uint(&p->j, "restored_changes", p->changes_base);
    }
    audit(p, HH_AUDIT_ENGINE_START, at, NULL);
    submit(p, at);
    return copy_diag(p, d);
}

/* ---- configuration and signals ------------------------------------------------------------ */

int hh_persist_config(struct hh_persist *p, const char *config_path, hh_time_t at,
                      struct hh_diag *d)
{
    char hash[HH_STORE_HASH_HEX] = "";
    unsigned char *buf = NULL;
    size_t n = 0;

    if (p->rc)
        return copy_diag(p, d);
    if (config_path) {
        FILE *f = fopen(config_path, "rb");
        size_t cap = 0;

        if (!f)
            return hh_diag_set(d, HH_EIO, "%s: cannot read the configuration to record it",
                               config_path);
        for (;;) {
            size_t got;

            if (n == cap) {
                unsigned char *q = realloc(buf, cap = cap ? cap * 2 : 65536);

                if (!q) {
                    free(buf);
                    fclose(f);
                    return hh_diag_set(d, HH_ENOMEM, "out of memory");
                }
                buf = q;
            }
            got = fread(buf + n, 1, cap - n, f);
            n += got;
            if (got == 0)
                break;
        }
        if (ferror(f)) {
            free(buf);
            fclose(f);
            return hh_diag_set(d, HH_EIO, "%s: read error", config_path);
        }
        fclose(f);
        hh_digest_hex(buf, n, hash);
        free(buf);
    }
    payload_begin(p);
    hh_json_str(&p->j, "path", config_path);
    hh_json_str(&p->j, "sha256", config_path ? hash : NULL);
    if (config_path)
        hh_json_uint(&p->j, "bytes", n);
    audit(p, HH_AUDIT_CONFIG_LOADED, at, NULL);
    submit(p, at);
    return copy_diag(p, d);
}

/* The records of one signal line, pending (hh_persist_signal submits them
 * at once, hh_persist_signal_step with the step). */
static int signal_records(struct hh_persist *p, const char *line, size_t len, uint64_t lineno,
                          const struct hh_signal *s, const struct hh_sig_reject *rej)
{
    struct hh_store_rec *r;
    hh_time_t at;
    const char *corr;

    if (p->rc)
        return p->rc;
    r = rec(p, HH_STORE_SIGNAL);
    if (!r)
        return p->rc;
    r->u.signal.raw = line ? arena_copy(&p->ar, line, len) : keep(p, "");
    if (!r->u.signal.raw)
        return latch(p, HH_ENOMEM, "out of memory recording the run");
    r->u.signal.line = lineno;
    if (s) {
        corr = corr_of(s);
        at = s->received_at;
        r->u.signal.signal_id = keep(p, s->id);
        r->u.signal.received_at = s->received_at;
        r->u.signal.accepted = true;
        r->u.signal.reason = HH_SIG_NONE;
        r->u.signal.correlation_id = keep(p, corr);
        payload_begin(p);
        hh_json_str(&p->j, "id", s->id);
        hh_json_uint(&p->j, "line", lineno);
        hh_json_str(&p->j, "symbol", sym_of(p, s->iid));
        hh_json_str(&p->j, "side", s->group ? NULL : hh_side_name(s->side));
        hh_json_bool(&p->j, "group", s->group);
        hh_json_time(&p->j, "received_at", s->received_at);
        audit(p, HH_AUDIT_SIGNAL_ACCEPTED, at, corr);
        transition(p, s, HH_TS_WAITING, at, NULL);
    } else {
        corr = rej->id_known ? rej->id : NULL;
        at = rej->received_at;
        r->u.signal.signal_id = keep(p, corr);
        r->u.signal.received_at = rej->received_at;
        r->u.signal.accepted = false;
        r->u.signal.reason = rej->reason;
        r->u.signal.detail = rej->detail[0] ? keep(p, rej->detail) : NULL;
        r->u.signal.correlation_id = keep(p, corr);
        payload_begin(p);
        hh_json_str(&p->j, "id", corr);
        hh_json_uint(&p->j, "line", lineno);
        hh_json_str(&p->j, "reason", hh_sig_reason_name(rej->reason));
        hh_json_str(&p->j, "detail", rej->detail);
        audit(p, HH_AUDIT_SIGNAL_REJECTED, at, corr);
    }
    return p->rc;
}

int hh_persist_signal(struct hh_persist *p, const char *line, size_t len, uint64_t lineno,
                      const struct hh_signal *s, const struct hh_sig_reject *rej)
{
    int rc = signal_records(p, line, len, lineno, s, rej);

    return rc ? rc : submit(p, HH_TIME_NONE);
}

int hh_persist_signal_step(struct hh_persist *p, const char *line, size_t len,
                           uint64_t lineno, const struct hh_signal *s,
                           const struct hh_sig_reject *rej)
{
    return signal_records(p, line, len, lineno, s, rej);
}

/* hh_persist_read_signals: the caller's sink behind ours. */
struct rs_ctx {
    struct hh_persist *p;
    const struct hh_sig_sink *inner;
};

static int rs_accepted(void *ctx, const char *line, size_t len, struct hh_signal *s,
                       const struct hh_group_signal *g)
{
    struct rs_ctx *c = ctx;
    int rc = hh_persist_signal(c->p, line, len, s->line, s, NULL);

    return rc ? rc : c->inner->accepted(c->inner->ctx, line, len, s, g);
}

static int rs_rejected(void *ctx, uint64_t lineno, const char *line, size_t len,
                       const struct hh_sig_reject *rej)
{
    struct rs_ctx *c = ctx;
    int rc = hh_persist_signal(c->p, line, len, lineno, NULL, rej);

    return rc ? rc : c->inner->rejected(c->inner->ctx, lineno, line, len, rej);
}

int hh_persist_read_signals(struct hh_persist *p, const char *path,
                            struct hh_sig_validator *v, const struct hh_sig_sink *sink,
                            uint64_t *received, struct hh_diag *d)
{
    struct rs_ctx c = { p, sink };
    struct hh_sig_sink ours = { rs_accepted, rs_rejected, &c };
    int rc;

    if (p->rc)
        return copy_diag(p, d);
    rc = hh_sig_read_file(path, v, &ours, received, d);
    if (p->rc)
        return copy_diag(p, d);
    return rc;
}

/* ---- restore --------------------------------------------------------------------------------- */

struct rst_ctx {
    struct hh_persist *p;
    struct hh_sig_validator *v;
    struct hh_persist_restored *res;
    int rc;
    char why[256];
};

static void rst_id(void *ctx, const char *id, bool accepted)
{
    struct rst_ctx *c = ctx;
    int rc;

    (void)accepted;
    if (c->rc)
        return;
    rc = hh_sig_validator_seen(c->v, id);
    if (rc == HH_EINVAL)
        return;   /* not an id the validator could ever accept */
    if (rc) {
        c->rc = rc;
        snprintf(c->why, sizeof c->why, "out of memory registering signal ids");
        return;
    }
    c->res->signal_ids++;
}

static void rst_order(void *ctx, const struct hh_store_order *so)
{
    struct rst_ctx *c = ctx;
    struct hh_persist *p = c->p;
    hh_iid_t iid = hh_inst_find(p->inst, so->symbol, strlen(so->symbol));
    struct ord *o;

    if (c->rc || !so->order_id || iid == HH_IID_NONE || ord_get(p, so->order_id))
        return;   /* no broker id (outcome unknown) or unknown symbol: nothing to key */
    o = ord_add(p, so->order_id);
    if (!o) {
        c->rc = HH_ENOMEM;
        snprintf(c->why, sizeof c->why, "out of memory reloading orders");
        return;
    }
    snprintf(o->client_id, sizeof o->client_id, "%s", so->client_id);
    snprintf(o->trade_key, sizeof o->trade_key, "%s", so->trade_key ? so->trade_key : "");
    o->iid = iid;
    o->side = so->side;
    o->type = so->type;
    o->qty = so->qty;
    o->limit = so->limit;
    o->trigger = so->trigger;
    o->state = so->state;
    c->res->open_orders++;
}

static void rst_trade(void *ctx, const struct hh_store_trade_state_row *t)
{
    struct rst_ctx *c = ctx;

    if (c->rc || strlen(t->trade_key) >= HH_SIG_ID_MAX)
        return;
    if (tk_set(&c->p->trades, t->trade_key, t->correlation_id, t->state)) {
        c->rc = HH_ENOMEM;
        snprintf(c->why, sizeof c->why, "out of memory reloading trades");
        return;
    }
    c->res->active_trades++;
}

/* Net positions as last written. */
static void rst_position(void *ctx, const struct hh_store_position *row)
{
    struct rst_ctx *c = ctx;
    hh_iid_t iid = row->symbol ? hh_inst_find(c->p->inst, row->symbol, strlen(row->symbol))
                               : HH_IID_NONE;
    struct hh_position *ps;

    if (iid == HH_IID_NONE || c->rc)
        return;
    if (!(ps = pos_of(c->p, iid))) {
        c->rc = HH_ENOMEM;
        snprintf(c->why, sizeof c->why, "out of memory reloading positions");
        return;
    }
    ps->qty = row->qty;
    ps->avg = row->avg_price;
    ps->realised = row->realised;
    c->res->positions++;
}

int hh_persist_restore(const char *path, struct hh_tm *tm, struct hh_sig_validator *v,
                       struct hh_persist *p, struct hh_persist_restored *out,
                       struct hh_diag *d)
{
    struct hh_persist_restored res;
    struct hh_store_reader *r = NULL;
    struct hh_store_checkpoint_row row;
    struct rst_ctx c;
    char h[HH_STORE_HASH_HEX];
    bool found = false;
    int rc;

    memset(&res, 0, sizeof res);
    memset(&row, 0, sizeof row);
    memset(&c, 0, sizeof c);
    c.p = p;
    c.v = v;
    c.res = &res;
    rc = hh_store_reader_open(path, &r, d);
    if (rc)
        return rc;
    rc = hh_store_read_checkpoint(r, &row, &found, d);
    if (rc)
        goto out;
    if (found) {
        unsigned char *again = NULL;
        size_t n = 0;

        hh_digest_hex(row.state, row.state_len, h);
        if (strcmp(h, row.state_hash)) {
            rc = hh_diag_set(d, HH_ETAMPER, "%s: the checkpoint (seq %llu) has state hash %s "
                             "but its state hashes to %s", path,
                             (unsigned long long)row.seq, row.state_hash, h);
            goto out;
        }
        rc = hh_tm_restore(tm, row.state, row.state_len);
        if (rc) {
            rc = hh_diag_set(d, rc, "%s: the checkpoint (seq %llu) cannot be restored (%s): "
                             "written by another build of hedgehog, or damaged", path,
                             (unsigned long long)row.seq, hh_strerror(rc));
            goto out;
        }
        rc = hh_tm_snapshot(tm, &again, &n);
        if (rc) {
            rc = hh_diag_set(d, rc, "out of memory");
            goto out;
        }
        hh_digest_hex(again, n, h);
        free(again);
        if (strcmp(h, row.state_hash)) {
            rc = hh_diag_set(d, HH_ETAMPER, "%s: the restored engine's state hash %s differs "
                             "from the checkpoint's %s", path, h, row.state_hash);
            goto out;
        }
        res.found = true;
        res.at = row.at;
        res.changes = row.seq;
        memcpy(res.state_hash, row.state_hash, HH_STORE_HASH_HEX);
    }
    if (v && (rc = hh_store_read_signal_ids(r, rst_id, &c, d)) != HH_OK)
        goto out;
    if (p) {
        if ((rc = hh_store_read_open_orders(r, rst_order, &c, d)) != HH_OK ||
            (rc = hh_store_read_active_trades(r, rst_trade, &c, d)) != HH_OK)
            goto out;
        if (!c.rc && (rc = hh_store_read_positions(r, rst_position, &c, d)) != HH_OK)
            goto out;
        if (found) {
            p->changes_base = row.seq;
            p->ckpt_at = row.at;
            p->last_at = row.at;
            memcpy(p->restored_hash, row.state_hash, HH_STORE_HASH_HEX);
        }
    }
    if (c.rc)
        rc = hh_diag_set(d, c.rc, "%s", c.why);
out:
    free(row.state);
    hh_store_reader_close(r);
    if (out)
        *out = res;
    return rc;
}
