/*
 * paper.c — the paper broker: simex behind an order book of its own, with
 * deterministic faults (see paper.h).
 *
 * Layout: orders[] holds every order ever placed (paper id = index + 1);
 * `work` lists the indices of working orders (OPEN / PARTIALLY_FILLED) in
 * placement order.  A working order is either in the simulated exchange
 * (sim_id != 0; sim2idx maps the exchange's id back) or `doomed` (accepted,
 * to be rejected by the exchange once its latency passed; never in the
 * exchange).  After a restore the exchange is a fresh one: a working order
 * re-enters it with its remaining quantity and `sim_base` = what it had
 * filled, so cumulative filled = sim_base + the exchange's filled.
 *
 * Reports queue in `q`, sorted by due time (stable: equal due times keep
 * the order they were queued in), and leave only through flush(), outside
 * any broker call and outside the exchange's matching loop.  A report drawn
 * for reordering waits in `held` until the next report is queued.
 *
 * The broker's own orders (a square-off by hand) are tagged
 * "manual<order id>", a form the engine's client ids never take.
 *
 * Invariants:
 *  - bo.filled <= bo.qty; FILLED iff bo.filled == bo.qty;
 *  - an order is in `work` iff its state is OPEN or PARTIALLY_FILLED;
 *  - positions[iid].qty == sum over the orders of iid of side x filled
 *    (the broker's own orders included);
 *  - next_exec only grows: an exec id is never reused, also across a
 *    snapshot and restore; only a duplicated report repeats one;
 *  - the book (orders, positions, funds) depends on the calls, the market
 *    data, the clock and `rng` only — never on the stream (`srng`, `q`,
 *    `held`) nor on the book lag, which only hides orders from answers;
 *  - an external action is applied at most once: ext[i] never goes back.
 */
#include "broker/paper.h"

#include "core/grow.h"
#include "core/serial.h"
#include "core/u64map.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PCT_SCALE (100 * HH_RATIO_SCALE)

struct porder {
    struct hh_broker_order bo;   /* what queries show */
    hh_money_t notional;         /* sum of price x qty of its fills */
    uint64_t sim_id;             /* id in the exchange, 0 when not there */
    hh_qty_t sim_base;           /* filled before it entered this exchange */
    hh_time_t ready_at;          /* placement + latency */
    hh_time_t cancel_at;         /* a cancel takes effect; HH_TIME_NONE */
    hh_time_t listed_at;         /* the order book lists it from then (book_lag) */
    bool doomed;                 /* the exchange will reject it */
    bool forced;                 /* ... because of an external reject_next */
    bool triggered;              /* STOP_LIMIT: its trigger has traded */
};

struct qrep {
    struct hh_report r;
    hh_time_t due;
    uint64_t seq;                /* queued order: flush() delivers only what
                                    was queued before it started */
    bool copy;                   /* a duplicate (duplicate_update_pct) */
};

/* A report held back by reorder_update_pct, with its duplicate's lag
 * (-1: none). */
struct held {
    bool on;
    struct hh_report r;
    hh_time_t due;
    int64_t dup_lag;
};

/* An external action's progress (persisted: applied once). */
enum ext_state {
    EXT_PENDING,                 /* not due yet */
    EXT_ARMED,                   /* reject_next: applied, waiting for a placement */
    EXT_DONE,
};

struct hh_paper {
    const struct hh_instruments *inst;
    const struct hh_clock *clock;
    struct hh_paper_config cfg;
    struct hh_simex *ex;
    struct porder *orders;
    size_t norders, cap;
    uint32_t *work;              /* indices of working orders */
    size_t nwork, capwork;
    uint32_t *pc;                /* indices with a pending cancel, in order */
    size_t npc, cappc;
    struct hh_u64map sim2idx;    /* exchange id -> index + 1 */
    struct hh_u64map byclient;   /* hash(client id) -> index + 1 (latest) */
    struct hh_position *pos;            /* by instrument id */
    hh_price_t *last;            /* by instrument id: last traded price, 0: none */
    size_t npos;                 /* entries of pos and last */
    struct qrep *q;
    size_t qhead, qn, qcap;
    uint64_t qseq;               /* next qrep.seq */
    struct held held;
    uint8_t ext[HH_PAPER_EXTERNAL_MAX];   /* enum ext_state of cfg.external[i] */
    const char *cancel_why;      /* reason of the CANCELLED the exchange is
                                    about to report (do_cancel), else NULL */
    uint64_t next_exec;
    uint64_t rng;                /* the book's faults: reject, timeout */
    uint64_t srng;               /* the stream's faults: drop, duplicate, reorder */
    uint64_t version;
    struct hh_paper_stats st;
    hh_report_fn sink;
    void *sink_ctx;
    int flushing;                /* depth of flush() (re-entrant sinks) */
    bool in_market;              /* inside on_tick / on_bar: reports due now are
                                    delivered as they happen (the engine reacts
                                    at the same point of the path, as against
                                    the simulated exchange itself) */
    char *autosave;              /* file saved after every change (owned), or NULL */
    bool autosave_sync;
    uint64_t saved_version;      /* version last written there */
    uint64_t save_errors;
    struct hh_diag save_diag;    /* the last save error */
};

static void autosave(struct hh_paper *p);
static void flush(struct hh_paper *p);

static hh_time_t now_of(const struct hh_paper *p)
{
    return p->clock && p->clock->now != HH_TIME_NONE ? p->clock->now : 0;
}

void hh_paper_config_defaults(struct hh_paper_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->fill_ratio = HH_RATIO_SCALE;
    cfg->capital = 1000000 * HH_RUPEE;
    cfg->seed = 1;
}

/* ---- small helpers ---------------------------------------------------------- */

static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* True with probability pct percent (ratio units), drawn from *rng. */
static bool chance(uint64_t *rng, hh_ratio_t pct)
{
    if (pct <= 0)
        return false;
    return (int64_t)(next_u64(rng) % (uint64_t)PCT_SCALE) < pct;
}

static uint64_t hash_id(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (size_t i = 0; i < HH_CLIENT_ID_MAX && s[i]; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    /* 0 and UINT64_MAX are reserved by u64map */
    return h == 0 || h == UINT64_MAX ? 1 : h;
}

static bool in_window(const struct hh_paper_window *w, int n, hh_time_t t)
{
    int64_t tod;

    if (n <= 0)
        return false;
    tod = hh_time_ist_tod(t);
    for (int i = 0; i < n; i++) {
        if (w[i].from <= w[i].to ? tod >= w[i].from && tod < w[i].to
                                 : tod >= w[i].from || tod < w[i].to)
            return true;
    }
    return false;
}

bool hh_paper_unavailable_at(const struct hh_paper *p, hh_time_t t)
{
    return in_window(p->cfg.unavailable, p->cfg.n_unavailable, t);
}

bool hh_paper_disconnected_at(const struct hh_paper *p, hh_time_t t)
{
    return in_window(p->cfg.disconnect, p->cfg.n_disconnect, t);
}

/* Does a window of w meet [a, b] (a <= b)?  Either a lies in one, or one
 * starts in (a, b]. */
static bool window_meets(const struct hh_paper_window *w, int n, hh_time_t a, hh_time_t b)
{
    int64_t tod = hh_time_ist_tod(a);

    if (in_window(w, n, a))
        return true;
    for (int i = 0; i < n; i++) {
        int64_t ahead = w[i].from - tod;    /* to its next start, in (0, 1 day] */

        if (ahead <= 0)
            ahead += HH_NS_PER_DAY;
        if (ahead <= b - a)
            return true;
    }
    return false;
}

static bool down(struct hh_paper *p)
{
    if (!hh_paper_unavailable_at(p, now_of(p)))
        return false;
    p->st.unavailable++;
    return true;
}

static bool is_working(const struct porder *o)
{
    return o->bo.state == HH_OS_OPEN || o->bo.state == HH_OS_PARTIAL;
}

static int push_idx(uint32_t **a, size_t *n, size_t *cap, uint32_t v)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        uint32_t *x = realloc(*a, c * sizeof *x);

        if (!x)
            return HH_ENOMEM;
        *a = x;
        *cap = c;
    }
    (*a)[(*n)++] = v;
    return HH_OK;
}

static void drop_idx(uint32_t *a, size_t *n, uint32_t v)
{
    for (size_t i = 0; i < *n; i++) {
        if (a[i] == v) {
            memmove(a + i, a + i + 1, (*n - i - 1) * sizeof *a);
            (*n)--;
            return;
        }
    }
}

/* The position of iid (pos and last grown to hold it); NULL: no memory. */
static struct hh_position *pos_for(struct hh_paper *p, hh_iid_t iid)
{
    if (iid >= p->npos) {
        size_t n = p->npos ? p->npos : 16;
        struct hh_position *x;
        hh_price_t *l;

        while (n <= iid)
            n *= 2;
        /* both grow, or npos stays (an array longer than npos is harmless) */
        if (!(x = realloc(p->pos, n * sizeof *x)))
            return NULL;
        p->pos = x;
        if (!(l = realloc(p->last, n * sizeof *l)))
            return NULL;
        p->last = l;
        memset(x + p->npos, 0, (n - p->npos) * sizeof *x);
        memset(l + p->npos, 0, (n - p->npos) * sizeof *l);
        p->npos = n;
    }
    return &p->pos[iid];
}

/* ---- the report stream ------------------------------------------------------ */

/* Queue r to be delivered at `due`, after everything due by then. */
static int q_insert(struct hh_paper *p, const struct hh_report *r, hh_time_t due, bool copy)
{
    size_t at;

    if (!p->flushing && p->qhead > 0 && p->qhead * 2 >= p->qn) {
        memmove(p->q, p->q + p->qhead, (p->qn - p->qhead) * sizeof *p->q);
        p->qn -= p->qhead;
        p->qhead = 0;
    }
    if (hh_grow(&p->q, &p->qcap, p->qn + 1, sizeof *p->q))
        return HH_ENOMEM;
    for (at = p->qn; at > p->qhead && p->q[at - 1].due > due; at--)
        ;
    memmove(p->q + at + 1, p->q + at, (p->qn - at) * sizeof *p->q);
    p->q[at] = (struct qrep){ .r = *r, .due = due, .seq = p->qseq++, .copy = copy };
    p->qn++;
    return HH_OK;
}

/* Queue r at `due` and, when dup_lag >= 0, its duplicate dup_lag later. */
static int q_put(struct hh_paper *p, const struct hh_report *r, hh_time_t due, int64_t dup_lag)
{
    int rc = q_insert(p, r, due, false);

    if (rc == HH_OK && dup_lag >= 0)
        rc = q_insert(p, r, due + dup_lag, true);
    return rc;
}

/* duplicate_update_pct: the lag of the copy (half right behind, half
 * 1-500 ms later), or -1 when the report is not duplicated. */
static int64_t dup_lag(struct hh_paper *p)
{
    uint64_t v;

    if (!chance(&p->srng, p->cfg.duplicate_update_pct))
        return -1;
    v = next_u64(&p->srng);
    return v & 1 ? 0 : (int64_t)((v >> 1) % 500 + 1) * HH_NS_PER_MS;
}

/* The held report meets the next one, r (due at `due`): they swap when r
 * is due within the hold and no disconnect window lies between them (a
 * swap never carries a report past a loss); otherwise the held one goes
 * first, in place. */
static int pass_held(struct hh_paper *p, const struct hh_report *r, hh_time_t due,
                     int64_t lag)
{
    struct held h = p->held;
    int rc;

    p->held.on = false;
    if (due <= h.due + HH_PAPER_REORDER_HOLD &&
        !window_meets(p->cfg.disconnect, p->cfg.n_disconnect, h.due, due)) {
        p->st.reordered++;
        if ((rc = q_put(p, r, due, lag)))
            return rc;
        return q_put(p, &h.r, due, h.dup_lag);
    }
    if ((rc = q_put(p, &h.r, h.due, h.dup_lag)))
        return rc;
    return q_put(p, r, due, lag);
}

/* A held report nothing followed within the hold: delivered in place (its
 * own due time decides a disconnect loss), that much late. */
static void expire_held(struct hh_paper *p)
{
    if (p->held.on && now_of(p) >= p->held.due + HH_PAPER_REORDER_HOLD &&
        q_put(p, &p->held.r, p->held.due, p->held.dup_lag) == HH_OK)
        p->held.on = false;
}

/* A report about the book, onto the stream with its faults (drawn from
 * srng at fixed points, see paper.h). */
static int enqueue(struct hh_paper *p, const struct hh_report *r)
{
    hh_time_t due = now_of(p) + p->cfg.delay_update;
    int64_t lag;
    bool hold;
    int rc;

    p->st.reports++;
    if (chance(&p->srng, p->cfg.drop_update_pct)) {
        p->st.dropped++;
        return HH_OK;
    }
    lag = dup_lag(p);
    hold = chance(&p->srng, p->cfg.reorder_update_pct);
    if (p->held.on) {
        rc = pass_held(p, r, due, lag);
    } else if (hold && !hh_paper_disconnected_at(p, due)) {
        p->held = (struct held){ .on = true, .r = *r, .due = due, .dup_lag = lag };
        return HH_OK;
    } else {
        rc = q_put(p, r, due, lag);
    }
    if (rc)
        return rc;
    if (p->in_market) {
        autosave(p);
        flush(p);
    }
    return HH_OK;
}

/* Deliver the reports due by now, in order.  Reports queued by what the
 * sink does meanwhile wait for the next flush (seq): bounded, and the sink
 * is never called back from inside its own broker call. */
static void flush(struct hh_paper *p)
{
    hh_time_t now = now_of(p);
    uint64_t limit;

    if (p->flushing)
        return;
    expire_held(p);
    limit = p->qseq;
    p->flushing++;
    while (p->qhead < p->qn && p->q[p->qhead].due <= now && p->q[p->qhead].seq < limit) {
        struct qrep e = p->q[p->qhead++];

        if (hh_paper_disconnected_at(p, e.due)) {
            p->st.disconnect_lost++;
            continue;
        }
        p->st.delivered++;
        if (p->cfg.delay_update > 0)
            p->st.delayed++;
        if (e.copy)
            p->st.duplicated++;
        if (p->sink)
            p->sink(p->sink_ctx, &e.r);
    }
    p->flushing--;
}

static void report_for(const struct porder *o, enum hh_report_kind kind, hh_time_t ts,
                       struct hh_report *r)
{
    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->order_id = o->bo.order_id;
    r->ts = ts;
    r->iid = o->bo.iid;
    r->side = o->bo.side;
    r->filled = o->bo.filled;
    r->leaves = is_working(o) ? o->bo.qty - o->bo.filled : 0;
}

/* ---- the book --------------------------------------------------------------- */

/* The order left the working set in state st. */
static void retire(struct hh_paper *p, uint32_t idx, enum hh_ord_state st)
{
    struct porder *o = &p->orders[idx];

    o->bo.state = st;
    drop_idx(p->work, &p->nwork, idx);
    if (o->cancel_at != HH_TIME_NONE) {
        o->cancel_at = HH_TIME_NONE;
        drop_idx(p->pc, &p->npc, idx);
        if (st == HH_OS_FILLED)
            p->st.cancel_raced++;
    }
    p->version++;
}

static void book_fill(struct hh_paper *p, uint32_t idx, hh_qty_t qty, hh_price_t price,
                      hh_time_t ts)
{
    struct porder *o = &p->orders[idx];
    struct hh_position *ps = pos_for(p, o->bo.iid);
    struct hh_report r;
    __int128 v;

    o->bo.filled += qty;
    v = (__int128)o->notional + (__int128)price * qty;
    o->notional = hh_i128_fits(v) ? (hh_money_t)v : o->notional;
    o->bo.avg_price = (hh_price_t)hh_i128_div_round(o->notional, o->bo.filled);
    p->st.fills++;
    /* a position beyond int64 (no real fill makes one) keeps the last
     * one that could be booked */
    if (ps)
        (void)hh_position_apply(ps, o->bo.side, qty, price);
    if (o->bo.filled == o->bo.qty)
        retire(p, idx, HH_OS_FILLED);
    else {
        o->bo.state = HH_OS_PARTIAL;
        p->st.partial_fills++;
    }
    report_for(o, HH_RPT_FILL, ts, &r);
    r.qty = qty;
    r.price = price;
    r.exec_id = p->next_exec++;
    p->version++;
    enqueue(p, &r);
}

/* Reports of the exchange (synchronous, inside its calls). */
static void on_sim_report(void *ctx, const struct hh_report *sr)
{
    struct hh_paper *p = ctx;
    uint64_t v;
    uint32_t idx;
    struct porder *o;
    struct hh_report r;

    if (!hh_u64map_get(&p->sim2idx, sr->order_id, &v))
        return;                  /* not ours: cannot happen */
    idx = (uint32_t)(v - 1);
    o = &p->orders[idx];
    if (!is_working(o))
        return;
    switch (sr->kind) {
    case HH_RPT_FILL:
        book_fill(p, idx, sr->qty, sr->price, sr->ts);
        break;
    case HH_RPT_CANCELLED:
    case HH_RPT_REJECTED:
    case HH_RPT_EXPIRED:
        retire(p, idx, sr->kind == HH_RPT_CANCELLED ? HH_OS_CANCELLED
                       : sr->kind == HH_RPT_REJECTED ? HH_OS_REJECTED : HH_OS_EXPIRED);
        if (sr->kind == HH_RPT_CANCELLED)
            p->st.cancelled++;
        else if (sr->kind == HH_RPT_REJECTED)
            p->st.rejected++;
        report_for(o, sr->kind, sr->ts, &r);
        snprintf(r.reason, sizeof r.reason, "%s",
                 sr->kind == HH_RPT_CANCELLED && p->cancel_why ? p->cancel_why : sr->reason);
        enqueue(p, &r);
        break;
    case HH_RPT_ACK:
    case HH_RPT_MODIFIED:
        break;
    }
}

/* Put a working order into the exchange (placement or restore). */
static int enter_exchange(struct hh_paper *p, uint32_t idx)
{
    struct porder *o = &p->orders[idx];
    struct hh_broker b = hh_simex_broker(p->ex);
    struct hh_order_req req;
    uint64_t sid;
    int rc;

    memset(&req, 0, sizeof req);
    memcpy(req.client_id, o->bo.client_id, sizeof req.client_id);
    req.iid = o->bo.iid;
    req.side = o->bo.side;
    req.type = o->bo.type == HH_ORD_STOP_LIMIT && o->triggered ? HH_ORD_LIMIT : o->bo.type;
    req.qty = o->bo.qty - o->bo.filled;
    req.limit = o->bo.limit;
    req.trigger = o->bo.trigger;
    if ((rc = b.ops->place(b.impl, &req, &sid)))
        return rc;
    if ((rc = hh_u64map_put(&p->sim2idx, sid, (uint64_t)idx + 1)))
        return rc;
    o->sim_id = sid;
    o->sim_base = o->bo.filled;
    return HH_OK;
}

#define WHY_REQUESTED "cancelled on request"
#define WHY_EXCHANGE "cancelled by the exchange (external cancel_orders)"
#define WHY_REJECTED "rejected by the exchange (simulated)"
#define WHY_FORCED "rejected by the exchange (external reject_next)"

/* Carry out a cancellation now (the order is working); `why` is the
 * CANCELLED report's reason. */
static void do_cancel(struct hh_paper *p, uint32_t idx, const char *why)
{
    struct porder *o = &p->orders[idx];
    struct hh_report r;

    if (o->doomed) {
        retire(p, idx, HH_OS_CANCELLED);
        p->st.cancelled++;
        report_for(o, HH_RPT_CANCELLED, now_of(p), &r);
        snprintf(r.reason, sizeof r.reason, "%s", why);
        enqueue(p, &r);
        return;
    }
    /* The exchange reports CANCELLED to on_sim_report(). */
    {
        struct hh_broker b = hh_simex_broker(p->ex);
        int rc;

        p->cancel_why = why;
        rc = b.ops->cancel(b.impl, o->sim_id);
        p->cancel_why = NULL;
        HH_ASSERT(rc == HH_OK);
    }
}

/* Cancellations and exchange rejections due by now. */
static void due_work(struct hh_paper *p)
{
    hh_time_t now = now_of(p);

    for (size_t i = 0; i < p->npc;) {
        uint32_t idx = p->pc[i];
        struct porder *o = &p->orders[idx];

        if (o->cancel_at > now) {
            i++;
            continue;
        }
        o->cancel_at = HH_TIME_NONE;
        drop_idx(p->pc, &p->npc, idx);
        if (is_working(o))
            do_cancel(p, idx, WHY_REQUESTED);
        else
            p->st.cancel_raced++;
    }
    for (size_t i = 0; i < p->nwork;) {
        uint32_t idx = p->work[i];
        struct porder *o = &p->orders[idx];
        struct hh_report r;

        if (!o->doomed || o->ready_at > now) {
            i++;
            continue;
        }
        retire(p, idx, HH_OS_REJECTED);   /* removes work[i] */
        p->st.rejected++;
        if (o->forced)
            p->st.forced_rejects++;
        report_for(o, HH_RPT_REJECTED, now, &r);
        snprintf(r.reason, sizeof r.reason, "%s", o->forced ? WHY_FORCED : WHY_REJECTED);
        enqueue(p, &r);
    }
}

/* ---- external actions (SPEC §11 paper.faults.external) ---------------------- */

/* When action x is due: a time of day on the clock's IST date (never
 * before the clock has a time). */
static hh_time_t ext_due(const struct hh_paper *p, const struct hh_paper_external *x)
{
    if (!x->tod)
        return x->at;
    if (!p->clock || p->clock->now == HH_TIME_NONE)
        return HH_TIME_MAX;
    return hh_time_from_ist(hh_time_ist_date(p->clock->now), x->at);
}

/* The pending action due first (the earliest in the list on a tie) and
 * its time; -1 when none is pending. */
static int ext_next(const struct hh_paper *p, hh_time_t *due)
{
    int best = -1;

    *due = HH_TIME_MAX;
    for (int i = 0; i < p->cfg.n_external; i++) {
        hh_time_t t;

        if (p->ext[i] != EXT_PENDING)
            continue;
        t = ext_due(p, &p->cfg.external[i]);
        if (t != HH_TIME_MAX && t < *due) {
            *due = t;
            best = i;
        }
    }
    return best;
}

static hh_iid_t ext_iid(const struct hh_paper *p, const struct hh_paper_external *x)
{
    return hh_inst_find(p->inst, x->symbol, strlen(x->symbol));
}

/* A new order at the end of the book (zeroed but for its id, not yet
 * counted in norders); NULL: no memory. */
static struct porder *new_order(struct hh_paper *p)
{
    struct porder *o;

    if (hh_grow(&p->orders, &p->cap, p->norders + 1, sizeof *p->orders))
        return NULL;
    o = &p->orders[p->norders];
    memset(o, 0, sizeof *o);
    o->bo.order_id = (uint64_t)p->norders + 1;
    o->cancel_at = HH_TIME_NONE;
    o->listed_at = now_of(p) + p->cfg.book_lag;
    return o;
}

/* close_position: the net position squared off by hand, a MARKET order of
 * the broker's own filled at once at the last price the exchange saw (the
 * position's average when it saw none: the P&L is then 0). */
static void square_off(struct hh_paper *p, hh_iid_t iid)
{
    hh_qty_t net = hh_paper_position(p, iid);
    hh_time_t now = now_of(p);
    struct porder *o;
    struct hh_report r;

    if (net == 0 || !(o = new_order(p)))
        return;
    snprintf(o->bo.client_id, sizeof o->bo.client_id, "manual%llu",
             (unsigned long long)o->bo.order_id);
    o->bo.iid = iid;
    o->bo.side = net > 0 ? HH_SELL : HH_BUY;
    o->bo.type = HH_ORD_MARKET;
    o->bo.state = HH_OS_OPEN;
    o->bo.qty = net > 0 ? net : -net;
    o->ready_at = now;
    if (hh_u64map_put(&p->byclient, hash_id(o->bo.client_id), o->bo.order_id))
        return;
    p->norders++;
    p->st.squared_off++;
    report_for(o, HH_RPT_ACK, now, &r);
    enqueue(p, &r);
    book_fill(p, (uint32_t)(o->bo.order_id - 1), o->bo.qty,
              p->last[iid] > 0 ? p->last[iid] : p->pos[iid].avg, now);
}

/* cancel_orders: the exchange cancels the rest of every working order of
 * iid, at once (whatever latency), as a broker's own cancel. */
static void exchange_cancel(struct hh_paper *p, hh_iid_t iid)
{
    for (size_t i = 0; i < p->nwork;) {
        uint32_t idx = p->work[i];

        if (p->orders[idx].bo.iid != iid) {
            i++;
            continue;
        }
        do_cancel(p, idx, WHY_EXCHANGE);  /* removes work[i] */
        p->st.exchange_cancels++;
    }
}

static void ext_apply(struct hh_paper *p, int i)
{
    const struct hh_paper_external *x = &p->cfg.external[i];
    hh_iid_t iid = ext_iid(p, x);

    p->ext[i] = x->action == HH_PAPER_EXT_REJECT_NEXT ? EXT_ARMED : EXT_DONE;
    p->st.external++;
    p->version++;
    if (iid == HH_IID_NONE || iid >= p->npos)
        return;                  /* never traded: no position, no orders */
    if (x->action == HH_PAPER_EXT_CLOSE_POSITION)
        square_off(p, iid);
    else if (x->action == HH_PAPER_EXT_CANCEL_ORDERS)
        exchange_cancel(p, iid);
}

/* The armed reject_next for a placement on iid (the first), or -1. */
static int ext_armed(const struct hh_paper *p, hh_iid_t iid)
{
    for (int i = 0; i < p->cfg.n_external; i++)
        if (p->ext[i] == EXT_ARMED && ext_iid(p, &p->cfg.external[i]) == iid)
            return i;
    return -1;
}

/* Everything due by now: cancellations and rejections, then external
 * actions in time order. */
static void due_all(struct hh_paper *p)
{
    hh_time_t due;
    int i;

    due_work(p);
    while ((i = ext_next(p, &due)) >= 0 && due <= now_of(p))
        ext_apply(p, i);
}

void hh_paper_pump(struct hh_paper *p)
{
    due_all(p);
    autosave(p);
    flush(p);
}

hh_time_t hh_paper_next_due(const struct hh_paper *p)
{
    hh_time_t t = HH_TIME_MAX, x;

    if (p->qhead < p->qn)
        t = p->q[p->qhead].due;
    if (p->held.on && p->held.due + HH_PAPER_REORDER_HOLD < t)
        t = p->held.due + HH_PAPER_REORDER_HOLD;
    for (size_t i = 0; i < p->npc; i++)
        if (p->orders[p->pc[i]].cancel_at < t)
            t = p->orders[p->pc[i]].cancel_at;
    for (size_t i = 0; i < p->nwork; i++) {
        const struct porder *o = &p->orders[p->work[i]];

        if (o->doomed && o->ready_at < t)
            t = o->ready_at;
    }
    if (ext_next(p, &x) >= 0 && x < t)
        t = x;
    return t;
}

/* ---- broker operations ------------------------------------------------------- */

static struct porder *lookup(struct hh_paper *p, uint64_t id)
{
    return id >= 1 && id <= p->norders ? &p->orders[id - 1] : NULL;
}

static int find_client(const struct hh_paper *p, const char *cid)
{
    uint64_t v;

    if (!cid[0])
        return -1;
    if (hh_u64map_get(&p->byclient, hash_id(cid), &v) &&
        !strncmp(p->orders[v - 1].bo.client_id, cid, HH_CLIENT_ID_MAX))
        return (int)(v - 1);
    /* a hash collision: look the long way, latest first */
    for (size_t i = p->norders; i-- > 0;)
        if (!strncmp(p->orders[i].bo.client_id, cid, HH_CLIENT_ID_MAX))
            return (int)i;
    return -1;
}

static bool valid_req(const struct hh_paper *p, const struct hh_order_req *req)
{
    if (req->qty <= 0 || req->iid >= hh_inst_count(p->inst) ||
        (req->side != HH_BUY && req->side != HH_SELL))
        return false;
    switch (req->type) {
    case HH_ORD_MARKET:
        return true;
    case HH_ORD_LIMIT:
        return req->limit > 0;
    case HH_ORD_STOP:
        return req->trigger > 0;
    case HH_ORD_STOP_LIMIT:
        return req->limit > 0 && req->trigger > 0;
    }
    return false;
}

/* A new order at the end of the book from a valid req (not counted yet);
 * NULL: no memory. */
static struct porder *order_from(struct hh_paper *p, const struct hh_order_req *req)
{
    struct porder *o = new_order(p);

    if (!o)
        return NULL;
    memcpy(o->bo.client_id, req->client_id, sizeof o->bo.client_id);
    o->bo.client_id[HH_CLIENT_ID_MAX - 1] = '\0';
    o->bo.iid = req->iid;
    o->bo.side = req->side;
    o->bo.type = req->type;
    o->bo.state = HH_OS_OPEN;
    o->bo.qty = req->qty;
    o->bo.limit = req->limit;
    o->bo.trigger = req->trigger;
    o->ready_at = now_of(p) + p->cfg.latency;
    return o;
}

static int pp_place(void *impl, const struct hh_order_req *req, uint64_t *order_id)
{
    struct hh_paper *p = impl;
    struct porder *o;
    uint32_t idx;
    bool timeout;
    struct hh_report r;
    int rc, prev, forced;

    if (down(p))
        return HH_EUNAVAIL;
    if (!valid_req(p, req))
        return HH_EINVAL;
    if (!pos_for(p, req->iid) || !(o = order_from(p, req)))
        return HH_ENOMEM;
    idx = (uint32_t)p->norders;
    prev = find_client(p, req->client_id);
    forced = ext_armed(p, req->iid);
    o->doomed = chance(&p->rng, p->cfg.reject_pct) || forced >= 0;
    o->forced = forced >= 0;
    timeout = chance(&p->rng, p->cfg.timeout_pct);
    if ((rc = push_idx(&p->work, &p->nwork, &p->capwork, idx)))
        return rc;
    p->norders++;
    if (!o->doomed && (rc = enter_exchange(p, idx))) {
        p->norders--;
        p->nwork--;
        return rc;
    }
    if (o->bo.client_id[0]) {
        if (prev >= 0)
            p->st.dup_client_ids++;
        if ((rc = hh_u64map_put(&p->byclient, hash_id(o->bo.client_id), (uint64_t)idx + 1)))
            return rc;
    }
    if (forced >= 0)
        p->ext[forced] = EXT_DONE;   /* consumed by this placement */
    p->st.placed++;
    p->version++;
    if (!o->doomed) {
        report_for(o, HH_RPT_ACK, now_of(p), &r);
        enqueue(p, &r);
    }
    autosave(p);
    if (timeout) {
        p->st.timeouts++;
        return HH_ETIMEOUT;
    }
    *order_id = o->bo.order_id;
    return HH_OK;
}

static int pp_modify(void *impl, uint64_t id, hh_qty_t qty, hh_price_t limit,
                     hh_price_t trigger)
{
    struct hh_paper *p = impl;
    struct porder *o;
    struct hh_report r;
    int rc;

    if (down(p))
        return HH_EUNAVAIL;
    if (!(o = lookup(p, id)))
        return HH_ENOTFOUND;
    if (!is_working(o))
        return HH_ESTATE;
    if (qty < 0 || limit < 0 || trigger < 0 || (qty && qty <= o->bo.filled))
        return HH_EINVAL;
    if (!o->doomed) {
        struct hh_broker b = hh_simex_broker(p->ex);

        if ((rc = b.ops->modify(b.impl, o->sim_id, qty ? qty - o->sim_base : 0, limit,
                                trigger)))
            return rc;
    }
    if (qty)
        o->bo.qty = qty;
    if (limit)
        o->bo.limit = limit;
    if (trigger)
        o->bo.trigger = trigger;
    p->st.modified++;
    p->version++;
    report_for(o, HH_RPT_MODIFIED, now_of(p), &r);
    enqueue(p, &r);
    autosave(p);
    return HH_OK;
}

static int pp_cancel(void *impl, uint64_t id)
{
    struct hh_paper *p = impl;
    struct porder *o;
    uint32_t idx;

    if (down(p))
        return HH_EUNAVAIL;
    if (!(o = lookup(p, id)))
        return HH_ENOTFOUND;
    if (!is_working(o)) {
        p->st.cancel_too_late++;
        return HH_ESTATE;
    }
    idx = (uint32_t)(id - 1);
    if (o->cancel_at != HH_TIME_NONE)
        return HH_OK;            /* already on its way */
    if (p->cfg.latency <= 0) {
        do_cancel(p, idx, WHY_REQUESTED);
        autosave(p);
        return HH_OK;
    }
    if (push_idx(&p->pc, &p->npc, &p->cappc, idx))
        return HH_ENOMEM;
    o->cancel_at = now_of(p) + p->cfg.latency;
    p->version++;
    autosave(p);
    return HH_OK;
}

/* STOP_LIMIT orders whose trigger traded (kept for a restore, where the
 * exchange's own flag is lost). */
static void mark_triggered(struct hh_paper *p, hh_iid_t iid, hh_price_t lo, hh_price_t hi,
                           hh_time_t ts)
{
    for (size_t i = 0; i < p->nwork; i++) {
        struct porder *o = &p->orders[p->work[i]];

        if (o->bo.iid != iid || o->bo.type != HH_ORD_STOP_LIMIT || o->triggered ||
            o->ready_at > ts)
            continue;
        if (o->bo.side == HH_BUY ? hi >= o->bo.trigger : lo <= o->bo.trigger) {
            o->triggered = true;
            p->version++;
        }
    }
}

/* The exchange saw iid trade at px (after what was due before it: a
 * square-off due then takes the price before this one).  Not a change of
 * version: the price rides along with the next save rather than costing a
 * file write per tick. */
static void saw_price(struct hh_paper *p, hh_iid_t iid, hh_price_t px)
{
    if (px > 0 && pos_for(p, iid))
        p->last[iid] = px;
}

static void pp_on_tick(void *impl, const struct hh_tick *t)
{
    struct hh_paper *p = impl;
    struct hh_broker b = hh_simex_broker(p->ex);

    due_all(p);
    saw_price(p, t->iid, t->price);
    mark_triggered(p, t->iid, t->price, t->price, t->ts);
    p->in_market = true;
    b.ops->on_tick(b.impl, t);
    p->in_market = false;
    autosave(p);
    flush(p);
}

static void pp_on_bar(void *impl, const struct hh_bar *bar)
{
    struct hh_paper *p = impl;
    struct hh_broker b = hh_simex_broker(p->ex);

    due_all(p);
    saw_price(p, bar->iid, bar->close);
    mark_triggered(p, bar->iid, bar->low, bar->high, bar->ts);
    p->in_market = true;
    b.ops->on_bar(b.impl, bar);
    p->in_market = false;
    autosave(p);
    flush(p);
}

static void pp_set_sink(void *impl, hh_report_fn fn, void *ctx)
{
    struct hh_paper *p = impl;

    p->sink = fn;
    p->sink_ctx = ctx;
}

/* Does the order book list o yet (book_lag)? */
static bool listed(const struct hh_paper *p, const struct porder *o)
{
    return now_of(p) >= o->listed_at;
}

static int pp_find(void *impl, const char *client_id, struct hh_broker_order *out)
{
    struct hh_paper *p = impl;
    int i;

    if (down(p))
        return HH_EUNAVAIL;
    if ((i = find_client(p, client_id)) < 0)
        return HH_ENOTFOUND;
    if (!listed(p, &p->orders[i])) {
        /* the latest is not listed yet: an earlier one of that id, if any */
        while (--i >= 0 && (strncmp(p->orders[i].bo.client_id, client_id, HH_CLIENT_ID_MAX) ||
                            !listed(p, &p->orders[i])))
            ;
        if (i < 0) {
            p->st.lag_hidden++;
            return HH_ENOTFOUND;
        }
    }
    *out = p->orders[i].bo;
    return HH_OK;
}

static int pp_status(void *impl, uint64_t id, struct hh_broker_order *out)
{
    struct hh_paper *p = impl;
    struct porder *o;

    if (down(p))
        return HH_EUNAVAIL;
    if (!(o = lookup(p, id)))
        return HH_ENOTFOUND;
    if (!listed(p, o)) {
        p->st.lag_hidden++;
        return HH_ENOTFOUND;
    }
    *out = o->bo;
    return HH_OK;
}

/* The orders the book lists, in id order. */
static int pp_orders(void *impl, struct hh_broker_order *out, size_t cap, size_t *n)
{
    struct hh_paper *p = impl;
    size_t k = 0;

    if (down(p))
        return HH_EUNAVAIL;
    for (size_t i = 0; i < p->norders; i++) {
        if (!listed(p, &p->orders[i]))
            continue;
        if (k < cap)
            out[k] = p->orders[i].bo;
        k++;
    }
    if (k < p->norders)
        p->st.lag_hidden++;
    *n = k;
    return HH_OK;
}

static int pp_positions(void *impl, struct hh_broker_position *out, size_t cap, size_t *n)
{
    struct hh_paper *p = impl;
    size_t k = 0;

    if (down(p))
        return HH_EUNAVAIL;
    for (size_t i = 0; i < p->npos; i++) {
        if (!p->pos[i].qty)
            continue;
        if (k < cap)
            out[k] = (struct hh_broker_position){ (hh_iid_t)i, p->pos[i].qty, p->pos[i].avg };
        k++;
    }
    *n = k;
    return HH_OK;
}

static int pp_funds(void *impl, hh_money_t *available)
{
    struct hh_paper *p = impl;
    __int128 v = p->cfg.capital;

    if (down(p))
        return HH_EUNAVAIL;
    for (size_t i = 0; i < p->npos; i++)
        v += p->pos[i].realised;
    *available = hh_i128_fits(v) ? (hh_money_t)v : INT64_MAX;
    return HH_OK;
}

static hh_time_t pp_next_due(void *impl)
{
    return hh_paper_next_due(impl);
}

static void pp_pump(void *impl)
{
    hh_paper_pump(impl);
}

static const struct hh_broker_ops paper_ops = {
    .place = pp_place,
    .modify = pp_modify,
    .cancel = pp_cancel,
    .on_tick = pp_on_tick,
    .on_bar = pp_on_bar,
    .set_sink = pp_set_sink,
    .next_due = pp_next_due,
    .pump = pp_pump,
    .find = pp_find,
    .status = pp_status,
    .orders = pp_orders,
    .positions = pp_positions,
    .funds = pp_funds,
};

struct hh_broker hh_paper_broker(struct hh_paper *p)
{
    return (struct hh_broker){ &paper_ops, p };
}

/* ---- life cycle ----------------------------------------------------------------- */

static bool valid_pct(hh_ratio_t pct)
{
    return pct >= 0 && pct <= PCT_SCALE;
}

static bool valid_external(const struct hh_paper_external *x)
{
    if (!memchr(x->symbol, '\0', sizeof x->symbol))
        return false;
    if (x->tod && (x->at < 0 || x->at >= HH_NS_PER_DAY))
        return false;
    return x->action == HH_PAPER_EXT_CLOSE_POSITION || x->action == HH_PAPER_EXT_CANCEL_ORDERS ||
           x->action == HH_PAPER_EXT_REJECT_NEXT;
}

static bool valid_cfg(const struct hh_paper_config *c)
{
    if (c->latency < 0 || c->delay_update < 0 || c->fill_ratio < 0 || c->slippage_ticks < 0 ||
        c->slippage_bps < 0 || c->n_unavailable < 0 || c->n_disconnect < 0 ||
        c->n_unavailable > HH_PAPER_WINDOWS_MAX || c->n_disconnect > HH_PAPER_WINDOWS_MAX ||
        c->book_lag < 0 || c->n_external < 0 || c->n_external > HH_PAPER_EXTERNAL_MAX)
        return false;
    if (!valid_pct(c->drop_update_pct) || !valid_pct(c->reject_pct) ||
        !valid_pct(c->timeout_pct) || !valid_pct(c->duplicate_update_pct) ||
        !valid_pct(c->reorder_update_pct))
        return false;
    for (int i = 0; i < c->n_external; i++)
        if (!valid_external(&c->external[i]))
            return false;
    return true;
}

struct hh_paper *hh_paper_new(const struct hh_instruments *inst,
                              const struct hh_clock *clock,
                              const struct hh_paper_config *cfg)
{
    struct hh_paper *p;
    struct hh_simex_config xc;
    struct hh_broker b;

    if (!valid_cfg(cfg) || !(p = calloc(1, sizeof *p)))
        return NULL;
    p->inst = inst;
    p->clock = clock;
    p->cfg = *cfg;
    p->next_exec = 1;
    p->rng = cfg->seed ^ 0xA076BEEF5EEDULL;
    p->srng = cfg->seed ^ 0x5EEDF00D57AEULL;
    memset(&xc, 0, sizeof xc);
    xc.slippage_ticks = cfg->slippage_ticks;
    xc.slippage_bps = cfg->slippage_bps;
    xc.latency = cfg->latency;
    xc.liquidity = cfg->fill_ratio > 0 && cfg->fill_ratio < HH_RATIO_SCALE;
    xc.fill_ratio = cfg->fill_ratio;
    xc.seed = cfg->seed;
    if (!(p->ex = hh_simex_new(inst, clock, &xc)) || hh_u64map_init(&p->sim2idx, 64) ||
        hh_u64map_init(&p->byclient, 64)) {
        hh_paper_free(p);
        return NULL;
    }
    b = hh_simex_broker(p->ex);
    b.ops->set_sink(b.impl, on_sim_report, p);
    return p;
}

void hh_paper_free(struct hh_paper *p)
{
    if (!p)
        return;
    hh_simex_free(p->ex);
    hh_u64map_free(&p->sim2idx);
    hh_u64map_free(&p->byclient);
    free(p->orders);
    free(p->work);
    free(p->pc);
    free(p->pos);
    free(p->last);
    free(p->q);
    free(p->autosave);
    free(p);
}

int hh_paper_peek(const struct hh_paper *p, uint64_t order_id, struct hh_broker_order *out)
{
    if (order_id < 1 || order_id > p->norders)
        return HH_ENOTFOUND;
    *out = p->orders[order_id - 1].bo;
    return HH_OK;
}

hh_qty_t hh_paper_position(const struct hh_paper *p, hh_iid_t iid)
{
    return iid < p->npos ? p->pos[iid].qty : 0;
}

size_t hh_paper_order_count(const struct hh_paper *p)
{
    return p->norders;
}

const struct hh_paper_stats *hh_paper_stats(const struct hh_paper *p)
{
    return &p->st;
}

uint64_t hh_paper_version(const struct hh_paper *p)
{
    return p->version;
}

/* ---- persistence -------------------------------------------------------------- */

/*
 * Blob: "HHPAPER1" | u32 version | u32 0 | u64 payload length |
 *       u64 FNV-1a-64 of the payload | payload.
 * Payload (integers little-endian, fixed width), version 2:
 *   u64 next_exec, rng, srng, version; stats (STAT_N x u64);
 *   u64 norders; per order: client_id[24], symbol[64] ("EXCH:SYMBOL"),
 *     u32 iid, side, type, state; i64 qty, filled, limit, trigger,
 *     avg_price, notional, ready_at, cancel_at, listed_at; u32 flags
 *     (doomed, triggered, forced);
 *   u64 npositions; per position: symbol[64], u32 iid, i64 qty, avg, realised;
 *   u64 nprices; per instrument seen trading: symbol[64], u32 iid, i64 last;
 *   u64 nexternal; per action applied: u32 tod, i64 at, u32 action,
 *     symbol[64], u32 state (armed, done).
 * Version 1 (no srng, listed_at, prices nor actions) is refused.
 */
#define BLOB_MAGIC "HHPAPER1"
#define BLOB_VERSION 2u
#define HDR_BYTES (8 + 4 + 4 + 8 + 8)
#define STAT_N (sizeof(struct hh_paper_stats) / sizeof(uint64_t))
#define SYM_BYTES 64             /* "EXCH:SYMBOL" */
#define ORDER_BYTES (HH_CLIENT_ID_MAX + SYM_BYTES + 4 * 4 + 9 * 8 + 4)

_Static_assert(sizeof(struct hh_paper_stats) == STAT_N * sizeof(uint64_t),
               "the statistics are u64 counters only");

static uint64_t fnv1a(const unsigned char *b, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static void put_symbol(struct hh_ser_w *w, const struct hh_paper *p, hh_iid_t iid)
{
    char sym[SYM_BYTES];
    const struct hh_instrument *in = hh_inst_get(p->inst, iid);

    memset(sym, 0, sizeof sym);
    if (in)
        snprintf(sym, sizeof sym, "%s:%s", hh_exch_name(in->exch), in->symbol);
    hh_ser_put(w, sym, sizeof sym);
}

static void put_order(struct hh_ser_w *w, const struct hh_paper *p, const struct porder *o)
{
    hh_ser_put(w, o->bo.client_id, HH_CLIENT_ID_MAX);
    put_symbol(w, p, o->bo.iid);
    hh_ser_put_u32(w, o->bo.iid);
    hh_ser_put_u32(w, (uint32_t)(int32_t)o->bo.side);
    hh_ser_put_u32(w, (uint32_t)o->bo.type);
    hh_ser_put_u32(w, (uint32_t)o->bo.state);
    hh_ser_put_i64(w, o->bo.qty);
    hh_ser_put_i64(w, o->bo.filled);
    hh_ser_put_i64(w, o->bo.limit);
    hh_ser_put_i64(w, o->bo.trigger);
    hh_ser_put_i64(w, o->bo.avg_price);
    hh_ser_put_i64(w, o->notional);
    hh_ser_put_i64(w, o->ready_at);
    hh_ser_put_i64(w, o->cancel_at);
    hh_ser_put_i64(w, o->listed_at);
    hh_ser_put_u32(w, (uint32_t)o->doomed | (uint32_t)o->triggered << 1 |
                          (uint32_t)o->forced << 2);
}

static void put_positions(struct hh_ser_w *w, const struct hh_paper *p)
{
    size_t n = 0;

    for (size_t i = 0; i < p->npos; i++)
        n += p->pos[i].qty || p->pos[i].realised;
    hh_ser_put_u64(w, n);
    for (size_t i = 0; i < p->npos; i++) {
        if (!p->pos[i].qty && !p->pos[i].realised)
            continue;
        put_symbol(w, p, (hh_iid_t)i);
        hh_ser_put_u32(w, (uint32_t)i);
        hh_ser_put_i64(w, p->pos[i].qty);
        hh_ser_put_i64(w, p->pos[i].avg);
        hh_ser_put_i64(w, p->pos[i].realised);
    }
    n = 0;
    for (size_t i = 0; i < p->npos; i++)
        n += p->last[i] > 0;
    hh_ser_put_u64(w, n);
    for (size_t i = 0; i < p->npos; i++) {
        if (p->last[i] <= 0)
            continue;
        put_symbol(w, p, (hh_iid_t)i);
        hh_ser_put_u32(w, (uint32_t)i);
        hh_ser_put_i64(w, p->last[i]);
    }
}

static void put_externals(struct hh_ser_w *w, const struct hh_paper *p)
{
    size_t n = 0;

    for (int i = 0; i < p->cfg.n_external; i++)
        n += p->ext[i] != EXT_PENDING;
    hh_ser_put_u64(w, n);
    for (int i = 0; i < p->cfg.n_external; i++) {
        const struct hh_paper_external *x = &p->cfg.external[i];

        if (p->ext[i] == EXT_PENDING)
            continue;
        hh_ser_put_u32(w, x->tod);
        hh_ser_put_i64(w, x->at);
        hh_ser_put_u32(w, (uint32_t)x->action);
        hh_ser_put(w, x->symbol, sizeof x->symbol);
        hh_ser_put_u32(w, p->ext[i]);
    }
}

int hh_paper_snapshot(const struct hh_paper *p, void **blob, size_t *len)
{
    struct hh_ser_w w = { 0 };
    uint64_t stats[STAT_N];
    uint64_t sum;

    hh_ser_put(&w, BLOB_MAGIC, 8);
    hh_ser_put_u32(&w, BLOB_VERSION);
    hh_ser_put_u32(&w, 0);
    hh_ser_put_u64(&w, 0);       /* payload length, patched below */
    hh_ser_put_u64(&w, 0);       /* checksum, patched below */
    hh_ser_put_u64(&w, p->next_exec);
    hh_ser_put_u64(&w, p->rng);
    hh_ser_put_u64(&w, p->srng);
    hh_ser_put_u64(&w, p->version);
    memcpy(stats, &p->st, sizeof stats);
    for (size_t i = 0; i < STAT_N; i++)
        hh_ser_put_u64(&w, stats[i]);
    hh_ser_put_u64(&w, p->norders);
    for (size_t i = 0; i < p->norders; i++)
        put_order(&w, p, &p->orders[i]);
    put_positions(&w, p);
    put_externals(&w, p);
    if (w.oom) {
        free(w.p);
        return HH_ENOMEM;
    }
    sum = fnv1a(w.p + HDR_BYTES, w.n - HDR_BYTES);
    for (int i = 0; i < 8; i++) {
        w.p[16 + i] = (unsigned char)((uint64_t)(w.n - HDR_BYTES) >> (8 * i));
        w.p[24 + i] = (unsigned char)(sum >> (8 * i));
    }
    *blob = w.p;
    *len = w.n;
    return HH_OK;
}

/* The instrument id of a saved (iid, "EXCH:SYMBOL"): the same id when it
 * still names that instrument, else found by name. */
static hh_iid_t resolve(const struct hh_paper *p, uint32_t iid, const char *sym)
{
    const struct hh_instrument *in = hh_inst_get(p->inst, iid);
    char cur[SYM_BYTES];

    if (in) {
        snprintf(cur, sizeof cur, "%s:%s", hh_exch_name(in->exch), in->symbol);
        if (!strcmp(cur, sym))
            return iid;
    }
    return sym[0] ? hh_inst_find(p->inst, sym, strlen(sym)) : HH_IID_NONE;
}

/* A saved (symbol, iid) pair: *id, the instrument now. */
static int get_instrument(struct hh_ser_r *r, const struct hh_paper *p, hh_iid_t *id,
                          struct hh_diag *d)
{
    char sym[SYM_BYTES];
    uint32_t iid;

    hh_ser_get(r, sym, sizeof sym);
    sym[sizeof sym - 1] = '\0';
    iid = hh_ser_get_u32(r);
    if (r->bad)
        return hh_diag_set(d, HH_ESYNTAX, "paper broker state: truncated");
    if ((*id = resolve(p, iid, sym)) == HH_IID_NONE)
        return hh_diag_set(d, HH_ENOTFOUND, "paper broker state: instrument %s unknown", sym);
    return HH_OK;
}

/* Order i + 1 from the blob into p->orders[i]. */
static int get_order(struct hh_ser_r *r, struct hh_paper *p, uint64_t i, struct hh_diag *d)
{
    struct porder *o = &p->orders[i];
    uint32_t flags;
    int rc;

    hh_ser_get(r, o->bo.client_id, HH_CLIENT_ID_MAX);
    o->bo.client_id[HH_CLIENT_ID_MAX - 1] = '\0';
    if ((rc = get_instrument(r, p, &o->bo.iid, d)))
        return rc;
    o->bo.order_id = i + 1;
    o->bo.side = (enum hh_side)(int32_t)hh_ser_get_u32(r);
    o->bo.type = (enum hh_ord_type)hh_ser_get_u32(r);
    o->bo.state = (enum hh_ord_state)hh_ser_get_u32(r);
    o->bo.qty = hh_ser_get_i64(r);
    o->bo.filled = hh_ser_get_i64(r);
    o->bo.limit = hh_ser_get_i64(r);
    o->bo.trigger = hh_ser_get_i64(r);
    o->bo.avg_price = hh_ser_get_i64(r);
    o->notional = hh_ser_get_i64(r);
    o->ready_at = hh_ser_get_i64(r);
    o->cancel_at = hh_ser_get_i64(r);
    o->listed_at = hh_ser_get_i64(r);
    flags = hh_ser_get_u32(r);
    o->doomed = flags & 1;
    o->triggered = (flags >> 1) & 1;
    o->forced = (flags >> 2) & 1;
    if (r->bad)
        return hh_diag_set(d, HH_ESYNTAX, "paper broker state: truncated");
    if (o->bo.qty <= 0 || o->bo.filled < 0 || o->bo.filled > o->bo.qty ||
        (unsigned)o->bo.state > HH_OS_EXPIRED || (unsigned)o->bo.type > HH_ORD_STOP_LIMIT)
        return hh_diag_set(d, HH_ESYNTAX, "paper broker state: order %llu is inconsistent",
                           (unsigned long long)(i + 1));
    if (o->bo.client_id[0] && hh_u64map_put(&p->byclient, hash_id(o->bo.client_id), i + 1))
        return hh_diag_set(d, HH_ENOMEM, "paper broker: out of memory");
    return HH_OK;
}

static int get_orders(struct hh_ser_r *r, struct hh_paper *p, struct hh_diag *d)
{
    uint64_t n = hh_ser_get_u64(r);
    int rc;

    if (r->bad || n > hh_ser_left(r) / ORDER_BYTES)
        return hh_diag_set(d, HH_ESYNTAX, "paper broker state: truncated");
    if (hh_grow(&p->orders, &p->cap, n ? n : 1, sizeof *p->orders))
        return hh_diag_set(d, HH_ENOMEM, "paper broker: out of memory");
    for (uint64_t i = 0; i < n; i++) {
        if ((rc = get_order(r, p, i, d)))
            return rc;
        p->norders++;
    }
    return HH_OK;
}

/* Positions, then last prices. */
static int get_positions(struct hh_ser_r *r, struct hh_paper *p, struct hh_diag *d)
{
    uint64_t n = hh_ser_get_u64(r);
    hh_iid_t id;
    int rc;

    for (uint64_t i = 0; i < n && !r->bad; i++) {
        struct hh_position *ps;

        if ((rc = get_instrument(r, p, &id, d)))
            return rc;
        if (!(ps = pos_for(p, id)))
            return hh_diag_set(d, HH_ENOMEM, "paper broker: out of memory");
        ps->qty = hh_ser_get_i64(r);
        ps->avg = hh_ser_get_i64(r);
        ps->realised = hh_ser_get_i64(r);
    }
    n = hh_ser_get_u64(r);
    for (uint64_t i = 0; i < n && !r->bad; i++) {
        if ((rc = get_instrument(r, p, &id, d)))
            return rc;
        if (!pos_for(p, id))
            return hh_diag_set(d, HH_ENOMEM, "paper broker: out of memory");
        p->last[id] = hh_ser_get_i64(r);
    }
    return r->bad ? hh_diag_set(d, HH_ESYNTAX, "paper broker state: truncated") : HH_OK;
}

/* The actions applied before: each marks the first pending action of the
 * config that is the same (at, action, symbol); one the config no longer
 * has is forgotten. */
static int get_externals(struct hh_ser_r *r, struct hh_paper *p, struct hh_diag *d)
{
    uint64_t n = hh_ser_get_u64(r);

    for (uint64_t k = 0; k < n && !r->bad; k++) {
        struct hh_paper_external x;
        uint32_t state;

        memset(&x, 0, sizeof x);
        x.tod = hh_ser_get_u32(r) != 0;
        x.at = hh_ser_get_i64(r);
        x.action = (enum hh_paper_ext_action)hh_ser_get_u32(r);
        hh_ser_get(r, x.symbol, sizeof x.symbol);
        x.symbol[sizeof x.symbol - 1] = '\0';
        state = hh_ser_get_u32(r);
        if (!r->bad && state != EXT_ARMED && state != EXT_DONE)
            return hh_diag_set(d, HH_ESYNTAX, "paper broker state: external action %s "
                               "in state %u", x.symbol, state);
        for (int i = 0; i < p->cfg.n_external; i++) {
            const struct hh_paper_external *c = &p->cfg.external[i];

            if (p->ext[i] == EXT_PENDING && c->tod == x.tod && c->at == x.at &&
                c->action == x.action && !strcmp(c->symbol, x.symbol)) {
                p->ext[i] = (uint8_t)state;
                break;
            }
        }
    }
    return r->bad ? hh_diag_set(d, HH_ESYNTAX, "paper broker state: truncated") : HH_OK;
}

/* Working orders back into a fresh exchange; pending cancels resume. */
static int reenter(struct hh_paper *p, struct hh_diag *d)
{
    for (size_t i = 0; i < p->norders; i++) {
        struct porder *o = &p->orders[i];

        if (!is_working(o))
            continue;
        if (push_idx(&p->work, &p->nwork, &p->capwork, (uint32_t)i) ||
            (o->cancel_at != HH_TIME_NONE &&
             push_idx(&p->pc, &p->npc, &p->cappc, (uint32_t)i)) ||
            (!o->doomed && enter_exchange(p, (uint32_t)i)))
            return hh_diag_set(d, HH_ENOMEM, "paper broker: out of memory");
    }
    return HH_OK;
}

/* The header: magic, version, checksum. */
static int check_header(struct hh_ser_r *r, const void *blob, size_t len, struct hh_diag *d)
{
    char magic[8];
    uint32_t ver;
    uint64_t plen, sum;

    hh_ser_get(r, magic, 8);
    ver = hh_ser_get_u32(r);
    (void)hh_ser_get_u32(r);
    plen = hh_ser_get_u64(r);
    sum = hh_ser_get_u64(r);
    if (r->bad || memcmp(magic, BLOB_MAGIC, 8))
        return hh_diag_set(d, HH_ESYNTAX, "not a paper broker state");
    if (ver != BLOB_VERSION)
        return hh_diag_set(d, HH_ESYNTAX, "paper broker state of format version %u, this build "
                           "reads version %u only (written by another build: move the file "
                           "away to start the paper broker afresh)", ver, BLOB_VERSION);
    if (plen != len - HDR_BYTES ||
        fnv1a((const unsigned char *)blob + HDR_BYTES, len - HDR_BYTES) != sum)
        return hh_diag_set(d, HH_ETAMPER, "paper broker state: checksum mismatch");
    return HH_OK;
}

static int restore(const struct hh_instruments *inst, const struct hh_clock *clock,
                   const struct hh_paper_config *cfg, const void *blob, size_t len,
                   struct hh_paper **out, struct hh_diag *d)
{
    struct hh_ser_r r = hh_ser_reader(blob, len);
    struct hh_paper *p;
    uint64_t stats[STAT_N];
    int rc;

    *out = NULL;
    if ((rc = check_header(&r, blob, len, d)))
        return rc;
    if (!(p = hh_paper_new(inst, clock, cfg)))
        return hh_diag_set(d, HH_EINVAL, "paper broker: invalid config or out of memory");
    p->next_exec = hh_ser_get_u64(&r);
    p->rng = hh_ser_get_u64(&r);
    p->srng = hh_ser_get_u64(&r);
    p->version = hh_ser_get_u64(&r);
    for (size_t i = 0; i < STAT_N; i++)
        stats[i] = hh_ser_get_u64(&r);
    memcpy(&p->st, stats, sizeof p->st);
    if ((rc = get_orders(&r, p, d)) || (rc = get_positions(&r, p, d)) ||
        (rc = get_externals(&r, p, d)))
        goto out_free;
    if (r.at != len) {
        rc = hh_diag_set(d, HH_ESYNTAX, "paper broker state: trailing bytes");
        goto out_free;
    }
    if ((rc = reenter(p, d)))
        goto out_free;
    *out = p;
    return HH_OK;

out_free:
    hh_paper_free(p);
    return rc;
}

struct hh_paper *hh_paper_restore(const struct hh_instruments *inst,
                                  const struct hh_clock *clock,
                                  const struct hh_paper_config *cfg, const void *blob,
                                  size_t len, struct hh_diag *d)
{
    struct hh_paper *p;

    restore(inst, clock, cfg, blob, len, &p, d);
    return p;
}

int hh_paper_save(const struct hh_paper *p, const char *path, bool sync, struct hh_diag *d)
{
    char tmp[4096];
    void *blob;
    size_t len, off = 0;
    int fd, rc;

    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return hh_diag_set(d, HH_EINVAL, "%s: path too long", path);
    if ((rc = hh_paper_snapshot(p, &blob, &len)))
        return hh_diag_set(d, rc, "paper broker: snapshot failed");
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = hh_diag_set(d, HH_EIO, "%s: %s", tmp, strerror(errno));
        goto out_blob;
    }
    while (off < len) {
        ssize_t k = write(fd, (const char *)blob + off, len - off);

        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            rc = hh_diag_set(d, HH_EIO, "%s: %s", tmp, strerror(errno));
            goto out_fd;
        }
        off += (size_t)k;
    }
    if (sync && fsync(fd) != 0) {
        rc = hh_diag_set(d, HH_EIO, "%s: fsync: %s", tmp, strerror(errno));
        goto out_fd;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = hh_diag_set(d, HH_EIO, "%s: %s", tmp, strerror(errno));
        goto out_tmp;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        rc = hh_diag_set(d, HH_EIO, "%s: rename: %s", path, strerror(errno));
        goto out_tmp;
    }
    free(blob);
    return HH_OK;

out_fd:
    close(fd);
out_tmp:
    unlink(tmp);
out_blob:
    free(blob);
    return rc;
}

int hh_paper_load(const struct hh_instruments *inst, const struct hh_clock *clock,
                  const struct hh_paper_config *cfg, const char *path,
                  struct hh_paper **out, struct hh_diag *d)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = HH_OK;

    *out = NULL;
    if (!f)
        return errno == ENOENT ? HH_OK : hh_diag_set(d, HH_EIO, "%s: %s", path, strerror(errno));
    for (;;) {
        size_t k;

        if (len == cap) {
            unsigned char *x = realloc(buf, cap ? cap * 2 : 65536);

            if (!x) {
                rc = hh_diag_set(d, HH_ENOMEM, "%s: out of memory", path);
                goto out_buf;
            }
            buf = x;
            cap = cap ? cap * 2 : 65536;
        }
        k = fread(buf + len, 1, cap - len, f);
        len += k;
        if (k == 0)
            break;
    }
    if (ferror(f)) {
        rc = hh_diag_set(d, HH_EIO, "%s: read error", path);
        goto out_buf;
    }
    if ((rc = restore(inst, clock, cfg, buf, len, out, d)))
        hh_diag_prefix(d, rc, "%s", path);
out_buf:
    free(buf);
    fclose(f);
    return rc;
}

/* Write the state when it changed since the last write (see paper.h). */
static void autosave(struct hh_paper *p)
{
    if (!p->autosave || p->version == p->saved_version)
        return;
    if (hh_paper_save(p, p->autosave, p->autosave_sync, &p->save_diag)) {
        p->save_errors++;
        return;
    }
    p->saved_version = p->version;
}

int hh_paper_set_autosave(struct hh_paper *p, const char *path, bool sync, struct hh_diag *d)
{
    char *copy = NULL;

    if (path && !(copy = strdup(path)))
        return hh_diag_set(d, HH_ENOMEM, "paper broker: out of memory");
    free(p->autosave);
    p->autosave = copy;
    p->autosave_sync = sync;
    if (!copy)
        return HH_OK;
    /* the state as it is now, at once */
    if (hh_paper_save(p, copy, sync, d))
        return HH_EIO;
    p->saved_version = p->version;
    return HH_OK;
}

uint64_t hh_paper_save_errors(const struct hh_paper *p, const char **last)
{
    if (last)
        *last = p->save_diag.msg;
    return p->save_errors;
}
