/*
 * test_live.c — the trade manager's order road against the paper broker
 * (the HELD stop policy unless said): write-ahead orders sent after the
 * durability barrier, through the circuit breaker, retry
 * with backoff and find-first after a timeout, fills de-duplicated by their
 * cumulative quantity, the hybrid stop-loss driven by engine timers,
 * reduce-only exits, restart from a snapshot in the middle of a stop; seed
 * scenarios 3 (broker failure and recovery) and 7 (two signals ready at one
 * instant, one slot); and a property test over >= 10,000 seeded fault
 * schedules (HH_LIVE_SCHEDULES=N changes the count, HH_LIVE_SEED=N replays
 * one with a trace).
 *
 * The harness is a miniature `hedgehog run`: it moves the engine clock to
 * each event, pumps the paper broker at its due times, fires engine timers,
 * polls every reconcile.poll_s; the engine sends what it queued itself
 * (hh_tm_flush) after the barrier — the runner's, persisting when the test
 * persists, else taking the snapshot a crash test restores.
 *
 * Day: 2025-01-02 (a Thursday), from 09:15 IST.  INFY and TCS: lot 1,
 * tick 0.05.
 */
#include "testutil.h"

#include "journal/journal.h"
#include "broker/paper.h"
#include "trade/trade.h"
#include "trade/tm_int.h"   /* the property test compares every order with the broker's */

#include <sqlite3.h>
#include <stdarg.h>

#define TICK 500   /* 0.05 rupee */
#define S (HH_NS_PER_S)
#define MS (HH_NS_PER_MS)

static hh_time_t day0(void)
{
    return hh_time_from_ist(hh_date_from_ymd(2025, 1, 2), HH_TOD(9, 15));
}

static hh_price_t P(double rupees)
{
    return (hh_price_t)(rupees * HH_FX_SCALE + (rupees >= 0 ? 0.5 : -0.5));
}

/* ---- the harness ------------------------------------------------------------------ */

struct lw {
    struct hh_instruments *inst;
    struct hh_calendar *cal;
    hh_iid_t iid[2];
    struct hh_clock clock;
    struct hh_paper_config pc;
    struct hh_paper *paper;
    struct hh_broker inner;            /* the paper broker's interface */
    struct hh_broker_ops ops;          /* ours: forwards, may duplicate reports */
    int dup_reports;                   /* deliver every report this many extra times */
    uint64_t muted;                    /* broker id whose reports are lost, 0 none */
    uint64_t shown_rejected;           /* broker id whose end the broker's views show
                                          as REJECTED (a broker that rejects the rest
                                          of a part-filled order), 0 none */
    uint64_t hidden;                   /* broker id the broker's views leave out
                                          (a book that lists it late), 0 none */
    hh_time_t hidden_until;            /* ... until then */
    hh_qty_t excused;                  /* units a scenario over-sells on purpose
                                          (check_exits allows them) */
    hh_report_fn esink;                /* the engine's report sink */
    void *ectx;
    struct hh_tm_config cfg;
    struct hh_tm *tm;
    int64_t poll_every;                /* 0: no polls */
    hh_time_t next_poll;
    bool trace;
    /* what the engine said */
    int fills, closed, dropped, sent, sent_market;
    int rejected[HH_SIG_REASON_COUNT];
    int alerts[HH_TMA_KINDS];
    int operator_alerts[HH_TMA_KINDS];           /* ... of them raised to the operator */
    int last_rc[HH_TMA_KINDS];                   /* the last one's rc and detail, by kind */
    char last_detail[HH_TMA_KINDS][256];
    struct hh_report last_fill;        /* the last fill report the broker sent */
    /* the states order events carried for one client id (`watch`) */
    char watch[HH_CLIENT_ID_MAX];
    char states[512];
    bool barrier_fails;                /* the store cannot persist (a full disk) */
    struct hh_journal *persist;        /* when set: the run is persisted (the
                                          barrier: step, then flush) */
    unsigned char *ckpt;               /* the barrier's last snapshot: what a crash
                                          restores (malloc'd) */
    size_t nckpt;
    int opened, closed_brk, half_open;
    int polls, divergences;
    /* invariant violations */
    int violations;
    char why[512];
};

static void lw_fail(struct lw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void lw_fail(struct lw *w, const char *fmt, ...)
{
    va_list ap;

    if (!w->violations++) {
        va_start(ap, fmt);
        vsnprintf(w->why, sizeof w->why, fmt, ap);
        va_end(ap);
    }
}

static void w_report(void *ctx, const struct hh_report *r)
{
    struct lw *w = ctx;

    if (w->trace)
        printf("    report %d order %llu qty %lld filled %lld exec %llu\n", r->kind,
               (unsigned long long)r->order_id, (long long)r->qty, (long long)r->filled,
               (unsigned long long)r->exec_id);
    if (r->kind == HH_RPT_FILL)
        w->last_fill = *r;
    if (w->muted && r->order_id == w->muted)
        return;
    for (int k = 0; k <= w->dup_reports; k++)
        w->esink(w->ectx, r);
}

static void w_set_sink(void *impl, hh_report_fn fn, void *ctx)
{
    struct lw *w = impl;

    w->esink = fn;
    w->ectx = ctx;
    w->inner.ops->set_sink(w->inner.impl, w_report, w);
}

#define FWD(name, args, call)                                                              \
    static int w_##name args                                                               \
    {                                                                                      \
        struct lw *w = impl;                                                               \
        return w->inner.ops->name call;                                                    \
    }
FWD(place, (void *impl, const struct hh_order_req *req, uint64_t *id), (w->inner.impl, req, id))
FWD(modify, (void *impl, uint64_t id, hh_qty_t q, hh_price_t l, hh_price_t t),
    (w->inner.impl, id, q, l, t))
FWD(cancel, (void *impl, uint64_t id), (w->inner.impl, id))

static bool hidden(const struct lw *w, uint64_t id)
{
    return w->hidden && id == w->hidden && w->clock.now < w->hidden_until;
}

static int w_find(void *impl, const char *cid, struct hh_broker_order *o)
{
    struct lw *w = impl;
    int rc = w->inner.ops->find(w->inner.impl, cid, o);

    return rc == HH_OK && hidden(w, o->order_id) ? HH_ENOTFOUND : rc;
}

static void shown(const struct lw *w, struct hh_broker_order *o)
{
    if (w->shown_rejected && o->order_id == w->shown_rejected && o->state == HH_OS_CANCELLED)
        o->state = HH_OS_REJECTED;
}

static int w_status(void *impl, uint64_t id, struct hh_broker_order *o)
{
    struct lw *w = impl;
    int rc = w->inner.ops->status(w->inner.impl, id, o);

    if (rc == HH_OK && hidden(w, id))
        return HH_ENOTFOUND;
    if (rc == HH_OK)
        shown(w, o);
    return rc;
}

static int w_orders(void *impl, struct hh_broker_order *o, size_t cap, size_t *n)
{
    struct lw *w = impl;
    int rc = w->inner.ops->orders(w->inner.impl, o, cap, n);
    size_t k = 0;

    if (rc != HH_OK || *n > cap)
        return rc;   /* (asked again with room for all) */
    for (size_t i = 0; i < *n; i++) {
        if (hidden(w, o[i].order_id))
            continue;
        o[k] = o[i];
        shown(w, &o[k++]);
    }
    *n = k;
    return rc;
}
FWD(positions, (void *impl, struct hh_broker_position *o, size_t cap, size_t *n),
    (w->inner.impl, o, cap, n))
FWD(funds, (void *impl, hh_money_t *m), (w->inner.impl, m))

static void w_on_tick(void *impl, const struct hh_tick *t)
{
    struct lw *w = impl;

    w->inner.ops->on_tick(w->inner.impl, t);
}

/* ---- invariants on the broker's book ----------------------------------------------- */

/* Parse one of the engine's client ids "h<serial><code><n>". */
static bool parse_cid(const char *cid, unsigned *serial, char *code, unsigned *n)
{
    const char *p = cid;
    char *end;

    if (*p++ != 'h')
        return false;
    *serial = (unsigned)strtoul(p, &end, 10);
    if (end == p || !*end)
        return false;
    *code = *end++;
    *n = (unsigned)strtoul(end, NULL, 10);
    return true;
}

#define MAXSER 256

/* Never a double exit: for every trade, what its exits executed at the
 * broker never exceeds what its entry executed — but for a position the
 * engine adopted (it has no entry order: its units came from elsewhere). */
static void check_exits(struct lw *w)
{
    hh_qty_t in[MAXSER] = { 0 }, out[MAXSER] = { 0 };
    size_t n = hh_paper_order_count(w->paper);

    for (size_t i = 0; i < w->tm->ntrades; i++)
        if (w->tm->trades[i].adopted && w->tm->trades[i].serial < MAXSER)
            in[w->tm->trades[i].serial] = INT64_MAX / 2;

    for (size_t id = 1; id <= n; id++) {
        struct hh_broker_order b;
        unsigned s, k;
        char c;

        if (hh_paper_peek(w->paper, id, &b) || !parse_cid(b.client_id, &s, &c, &k) ||
            s >= MAXSER)
            continue;
        if (c == 'e')
            in[s] += b.filled;
        else
            out[s] += b.filled;
    }
    for (unsigned s = 0; s < MAXSER; s++)
        if (out[s] > in[s] + w->excused)
            lw_fail(w, "double exit: trade %u exited %lld of %lld entered", s,
                    (long long)out[s], (long long)in[s]);
}

/* The order sink: every market order of a hybrid stop is sent only when
 * its stop-limit can no longer fill. */
/* Record what the events of the watched order say and the state they
 * carry: "SENT=SENT ACK=OPEN FILL=PARTIALLY_FILLED CANCEL=CANCEL_PENDING ...". */
static void watch_state(struct lw *w, const struct hh_tm_order_event *e)
{
    const char *cid = e->req ? e->req->client_id : NULL;
    const struct order_ref *ref = e->order_id ? hh_tm__ref_by_boid(w->tm, e->order_id) : NULL;
    const char *what = e->kind == HH_TMO_SENT ? "SENT" : e->kind == HH_TMO_CANCEL ? "CANCEL"
                       : e->kind == HH_TMO_REPORT ? hh_report_kind_name(e->report->kind)
                       : "OTHER";
    size_t n = strlen(w->states);

    if (!cid && ref)
        cid = ref->req.client_id;
    if (!w->watch[0] || !cid || strcmp(cid, w->watch))
        return;
    snprintf(w->states + n, sizeof w->states - n, "%s%s=%s", n ? " " : "", what,
             hh_ord_state_name(e->state));
}

static void on_order(void *ctx, const struct hh_tm_order_event *e)
{
    struct lw *w = ctx;
    unsigned s, k;
    char c;

    watch_state(w, e);
    if (e->kind != HH_TMO_SENT)
        return;
    w->sent++;
    if (w->trace)
        printf("    sent %s qty %lld -> %llu\n", e->req->client_id, (long long)e->req->qty,
               (unsigned long long)e->order_id);
    if (!parse_cid(e->req->client_id, &s, &c, &k) || c != 'm')
        return;
    w->sent_market++;
    {
        char lim[HH_CLIENT_ID_MAX];
        size_t n = hh_paper_order_count(w->paper);
        bool seen = false;

        snprintf(lim, sizeof lim, "h%ul%u", s, k - 1);
        for (size_t id = 1; id <= n; id++) {
            struct hh_broker_order b;

            if (hh_paper_peek(w->paper, id, &b) || strcmp(b.client_id, lim))
                continue;
            seen = true;
            if (!hh_ord_state_terminal(b.state))
                lw_fail(w, "market %s sent while its stop-limit %s is %s",
                        e->req->client_id, lim, hh_ord_state_name(b.state));
        }
        (void)seen;   /* a refused stop-limit never reached the book */
    }
}

static void on_fill(void *ctx, const struct hh_tm_fill *f)
{
    struct lw *w = ctx;

    (void)f;
    w->fills++;
}

static void on_closed(void *ctx, const struct hh_tm_trade *t)
{
    struct lw *w = ctx;

    (void)t;
    w->closed++;
}

static void on_rejected(void *ctx, const struct hh_signal *s, enum hh_sig_reason r,
                        const char *detail)
{
    struct lw *w = ctx;

    (void)s;
    (void)detail;
    w->rejected[r]++;
}

static void on_dropped(void *ctx, const struct hh_signal *s, enum hh_tm_drop why, hh_time_t at)
{
    struct lw *w = ctx;

    (void)s;
    (void)why;
    (void)at;
    w->dropped++;
}

static void on_alert(void *ctx, const struct hh_tm_alert *a)
{
    struct lw *w = ctx;

    w->alerts[a->kind]++;
    w->operator_alerts[a->kind] += a->alert;
    w->last_rc[a->kind] = a->rc;
    snprintf(w->last_detail[a->kind], sizeof w->last_detail[a->kind], "%s",
             a->detail ? a->detail : "");
    if (a->kind == HH_TMA_BREAKER) {
        w->opened += a->brk->to == HH_BRK_OPEN;
        w->closed_brk += a->brk->to == HH_BRK_CLOSED;
        w->half_open += a->brk->to == HH_BRK_HALF_OPEN;
    }
    if (w->trace)
        printf("    alert %s %s %s\n", hh_tm_alert_name(a->kind),
               a->client_id ? a->client_id : "-", a->detail ? a->detail : "");
}

static void on_div(void *ctx, const struct hh_tm_divergence *d)
{
    struct lw *w = ctx;

    w->divergences++;
    if (w->trace)
        printf("    divergence %s order %llu engine %lld broker %lld\n", hh_div_kind_name(d->kind),
               (unsigned long long)d->order_id, (long long)d->engine_qty,
               (long long)d->broker_qty);
}

static struct hh_instruments *make_inst(hh_iid_t ids[2])
{
    struct hh_instruments *t = hh_inst_new();
    static const char *const syms[2] = { "INFY", "TCS" };

    assert_non_null(t);
    for (int k = 0; k < 2; k++) {
        struct hh_instrument in;

        memset(&in, 0, sizeof in);
        snprintf(in.symbol, sizeof in.symbol, "%s", syms[k]);
        snprintf(in.underlying, sizeof in.underlying, "%s", syms[k]);
        in.exch = HH_EXCH_NSE;
        in.seg = HH_SEG_CASH;
        in.type = HH_INST_EQ;
        in.expiry = HH_DATE_NONE;
        in.lot_size = 1;
        in.tick = TICK;
        in.known = true;
        assert_int_equal(hh_inst_add(t, &in, &ids[k]), HH_OK);
    }
    return t;
}

static void lw_defaults(struct lw *w)
{
    w->inst = make_inst(w->iid);
    w->cal = hh_cal_new();
    hh_paper_config_defaults(&w->pc);
    w->cfg = (struct hh_tm_config){
        .capital = 1000000 * HH_RUPEE,
        .risk_per_trade = HH_RATIO_SCALE / 100,
        .size_scale = HH_RATIO_SCALE,
        .max_lots_per_trade = 100,
        .max_open_trades = 2,
        .touch = true,
        .volume_lookback = 20,
        .breakeven_after_t1 = true,
        .squareoff_set = false,
        .fees = hh_charges_find("zero"),
        .exposure_check = 100 * MS,
        .hedge_debounce = 500 * MS,
        .leg_timeout = 5000 * MS,
        .margin_buffer = HH_RATIO_SCALE,
        .stops = HH_STOPS_HELD,
        .retry = { 3, 1 * S, 8 * S, HH_RATIO_SCALE / 5 },
        .retry_seed = 7,
        .breaker = { 5, 30 * S, 20 * S },
        .hsl = { HH_RATIO_SCALE / 2, 2 * S, 1 * S },
    };
    w->poll_every = 12 * S;
}

static hh_time_t w_next_due(void *impl)
{
    struct lw *w = impl;

    return hh_paper_next_due(w->paper);
}

static void w_pump(void *impl)
{
    struct lw *w = impl;

    hh_paper_pump(w->paper);
}

/* The runner's barrier: the step persisted (when persisting), and the
 * state as a crash would find it. */
static int w_barrier(void *ctx)
{
    struct lw *w = ctx;
    struct hh_diag d = { "" };

    if (w->barrier_fails)
        return HH_EIO;
    if (w->persist && (hh_journal_step(w->persist, w->clock.now) ||
                       hh_store_flush(hh_journal_store(w->persist), &d)))
        lw_fail(w, "the store failed");
    free(w->ckpt);
    w->ckpt = NULL;
    assert_int_equal(hh_tm_snapshot(w->tm, &w->ckpt, &w->nckpt), HH_OK);
    return HH_OK;
}

static void lw_start_with(struct lw *w, struct hh_paper *paper)
{
    struct hh_tm_sink sink = { .fill = on_fill, .closed = on_closed, .rejected = on_rejected,
                               .dropped = on_dropped, .order = on_order, .ctx = w,
                               .alert = on_alert, .alert_ctx = w };
    struct hh_broker b;

    w->paper = paper;
    w->inner = hh_paper_broker(w->paper);
    w->ops = *w->inner.ops;
    w->ops.place = w_place;
    w->ops.modify = w_modify;
    w->ops.cancel = w_cancel;
    w->ops.find = w_find;
    w->ops.status = w_status;
    w->ops.orders = w_orders;
    w->ops.positions = w_positions;
    w->ops.funds = w_funds;
    w->ops.on_tick = w_on_tick;
    w->ops.on_bar = NULL;
    w->ops.set_sink = w_set_sink;
    w->ops.next_due = w_next_due;
    w->ops.pump = w_pump;
    b.ops = &w->ops;
    b.impl = w;
    if (w->persist)
        hh_journal_sink(w->persist, &sink, &sink);
    w->tm = hh_tm_new(&w->cfg, w->inst, w->cal, &w->clock, b, &sink);
    assert_non_null(w->tm);
    hh_tm_set_barrier(w->tm, w_barrier, w);
    if (w->persist) {
        struct hh_diag d = { "" };

        if (hh_journal_attach(w->persist, w->tm, w->clock.now, &d))
            fail_msg("attach: %s", d.msg);
    }
}

static void lw_start(struct lw *w)
{
    struct hh_paper *p;

    hh_clock_init(&w->clock, true);
    hh_clock_advance(&w->clock, day0());
    p = hh_paper_new(w->inst, &w->clock, &w->pc);
    assert_non_null(p);
    w->next_poll = day0() + w->poll_every;
    lw_start_with(w, p);
}

static void lw_free(struct lw *w)
{
    free(w->ckpt);
    hh_tm_free(w->tm);
    hh_paper_free(w->paper);
    hh_inst_free(w->inst);
    hh_cal_free(w->cal);
}

/* The end of a step: its records persisted (when persisting), and what
 * is due sent and delivered (the engine does it after its own calls; the
 * harness moved the clock in between). */
static void lw_commit(struct lw *w)
{
    if (w->persist && hh_journal_step(w->persist, w->clock.now))
        lw_fail(w, "the store failed");
    hh_tm_flush(w->tm);
}

/* Right after a successful poll, every order the engine placed shows the
 * broker's filled quantity and terminal-ness, its state machine agrees
 * with the broker's view of it (state, quantities), and net positions
 * agree. */
static void check_after_poll(struct lw *w)
{
    const struct hh_tm *tm = w->tm;

    for (size_t i = 0; i < tm->nrefs; i++) {
        const struct order_ref *ref = &tm->refs[i];
        struct hh_broker_order b;

        if (ref->pstate != PS_PLACED || !ref->boid || ref->group || hidden(w, ref->boid) ||
            hh_tm__ref_by_boid(w->tm, ref->boid) != ref)
            continue;   /* (not listed yet; or a stray stands for its order now) */
        if (hh_paper_peek(w->paper, ref->boid, &b)) {
            lw_fail(w, "order %s (%llu) unknown to the broker", ref->req.client_id,
                    (unsigned long long)ref->boid);
            continue;
        }
        if (b.filled != ref->filled || ref->done != hh_ord_state_terminal(b.state))
            lw_fail(w, "after a poll, order %s: engine filled %lld%s, broker %lld %s",
                    ref->req.client_id, (long long)ref->filled, ref->done ? " (done)" : "",
                    (long long)b.filled, hh_ord_state_name(b.state));
        if (!hh_ord_matches(&ref->ord, &b))
            lw_fail(w, "after a poll, order %s: its machine says %s filled %lld of %lld, the "
                    "broker %s filled %lld of %lld", ref->req.client_id,
                    hh_ord_state_name(ref->ord.state), (long long)ref->ord.filled,
                    (long long)ref->ord.req.qty, hh_ord_state_name(b.state),
                    (long long)b.filled, (long long)b.qty);
    }
    for (int k = 0; k < 2; k++)
        if (hh_tm_position(tm, w->iid[k]) != hh_paper_position(w->paper, w->iid[k]))
            lw_fail(w, "after a poll, %s: engine position %lld, broker %lld",
                    k ? "TCS" : "INFY", (long long)hh_tm_position(tm, w->iid[k]),
                    (long long)hh_paper_position(w->paper, w->iid[k]));
}

static void lw_poll(struct lw *w)
{
    struct hh_tm_poll_result res;

    hh_tm_poll(w->tm, on_div, w, &res);
    w->polls++;
    if (res.rc == HH_OK)
        check_after_poll(w);
    lw_commit(w);
}

/* Everything due up to t (inclusive): paper deliveries, timers, polls. */
static void lw_advance(struct lw *w, hh_time_t t)
{
    for (;;) {
        hh_time_t a = hh_tm_next_timer(w->tm), b = hh_paper_next_due(w->paper);
        hh_time_t c = w->poll_every ? w->next_poll : HH_TIME_MAX;
        hh_time_t next = a < b ? a : b;

        next = c < next ? c : next;
        if (next > t)
            break;
        if (next > w->clock.now)
            hh_clock_advance(&w->clock, next);
        hh_paper_pump(w->paper);
        if (a <= next)
            hh_tm_fire_timers(w->tm, w->clock.now);
        lw_commit(w);
        if (c <= next) {
            w->next_poll += w->poll_every;
            lw_poll(w);
        }
    }
    if (t > w->clock.now)
        hh_clock_advance(&w->clock, t);
    hh_paper_pump(w->paper);
    lw_commit(w);
}

static void lw_tick(struct lw *w, int k, hh_time_t ts, hh_price_t px, hh_qty_t qty)
{
    struct hh_tick t = { .ts = ts, .iid = w->iid[k], .price = px, .qty = qty };

    lw_advance(w, ts);
    if (w->trace)
        printf("  %lld.%03lld %s %lld\n", (long long)((ts - day0()) / S),
               (long long)((ts - day0()) % S / MS), k ? "TCS" : "INFY", (long long)px);
    hh_tm_tick(w->tm, &t);
    lw_commit(w);
    check_exits(w);
}

static struct hh_signal mksig(struct lw *w, const char *id, int k, enum hh_side side,
                              hh_price_t entry, hh_price_t stop, hh_price_t t1, hh_price_t t2,
                              int64_t lots)
{
    struct hh_signal s;

    memset(&s, 0, sizeof s);
    snprintf(s.id, sizeof s.id, "%s", id);
    snprintf(s.correlation_id, sizeof s.correlation_id, "%s", id);
    s.iid = w->iid[k];
    s.side = side;
    s.entry = entry;
    s.stop = stop;
    s.targets[0] = t1;
    s.ntargets = 1;
    if (t2)
        s.targets[s.ntargets++] = t2;
    s.lots = lots;
    s.confidence = HH_RATIO_SCALE;
    s.ts = s.received_at = w->clock.now;
    s.valid_until = hh_time_from_ist(hh_date_from_ymd(2025, 1, 2), HH_TOD(15, 30));
    return s;
}

static void lw_signal(struct lw *w, const struct hh_signal *s)
{
    if (w->persist) {
        char raw[64];
        int n = snprintf(raw, sizeof raw, "{\"id\":\"%s\"}", s->id);

        assert_int_equal(hh_journal_signal(w->persist, raw, (size_t)n, 1, s, NULL), HH_OK);
    }
    assert_int_equal(hh_tm_signal(w->tm, s), HH_OK);
    lw_commit(w);
}

static hh_qty_t paper_pos(struct lw *w, int k)
{
    return hh_paper_position(w->paper, w->iid[k]);
}

static void assert_no_violation(struct lw *w)
{
    if (w->violations)
        fail_msg("%d violation(s): %s", w->violations, w->why);
}

/* ---- 1. the flow: entry, targets, stop through the hybrid stop-loss ---------------- */

static void test_live_stop_fills_as_stop_limit(void **state)
{
    struct lw w = { 0 };
    struct hh_signal s;

    (void)state;
    lw_defaults(&w);
    lw_start(&w);
    s = mksig(&w, "a", 0, HH_BUY, P(100), P(98), P(104), 0, 10);
    lw_signal(&w, &s);
    assert_int_equal(w.sent, 0);   /* nothing sent before the price touches */
    lw_tick(&w, 0, day0() + 1 * S, P(100), 100);    /* touch: entry queued and sent */
    assert_int_equal(w.sent, 1);
    lw_tick(&w, 0, day0() + 2 * S, P(100.5), 100);  /* entry fills; target placed */
    assert_int_equal(paper_pos(&w, 0), 10);
    assert_int_equal(hh_tm_position(w.tm, w.iid[0]), 10);
    assert_int_equal(w.sent, 2);
    /* the stop level trades: the target is cancelled first, then the
     * SL-LIMIT (limit 98 - 0.5 % = 97.50) */
    lw_tick(&w, 0, day0() + 3 * S, P(98), 100);
    assert_int_equal(w.alerts[HH_TMA_STOP_TRIGGERED], 1);
    lw_advance(&w, day0() + 3 * S + 10 * MS);
    assert_int_equal(w.sent, 3);
    lw_tick(&w, 0, day0() + 4 * S, P(97.9), 100);   /* triggers and fills at 97.90 */
    assert_int_equal(paper_pos(&w, 0), 0);
    assert_int_equal(w.closed, 1);
    assert_int_equal(w.sent_market, 0);
    assert_int_equal(w.alerts[HH_TMA_STOP_DONE], 1);
    assert_int_equal(hh_paper_stats(w.paper)->dup_client_ids, 0);
    assert_no_violation(&w);
    lw_free(&w);
}

/* An order placed at the broker outside the engine (by hand). */
static void order_by_hand(struct lw *w, enum hh_side side, hh_qty_t qty, const char *cid)
{
    struct hh_order_req req;
    uint64_t oid;

    memset(&req, 0, sizeof req);
    snprintf(req.client_id, sizeof req.client_id, "%s", cid);
    req.iid = w->iid[0];
    req.side = side;
    req.type = HH_ORD_MARKET;
    req.qty = qty;
    assert_int_equal(w->inner.ops->place(w->inner.impl, &req, &oid), HH_OK);
}

/* The engine holds a position the broker no longer has (closed by hand, a
 * broker file from before): the poll gives it up — booked as a RECONCILED
 * exit — and cancels the target, which would otherwise open a short. */
static void test_live_position_gone_at_broker_is_given_up(void **state)
{
    struct lw w = { 0 };
    struct hh_signal s;

    (void)state;
    lw_defaults(&w);
    lw_start(&w);
    s = mksig(&w, "a", 0, HH_BUY, P(100), P(98), P(104), 0, 10);
    lw_signal(&w, &s);
    lw_tick(&w, 0, day0() + 1 * S, P(100), 100);
    lw_tick(&w, 0, day0() + 2 * S, P(100.5), 100);   /* entry fills; target placed */
    assert_int_equal(hh_tm_position(w.tm, w.iid[0]), 10);
    order_by_hand(&w, HH_SELL, 10, "manual-1");
    lw_tick(&w, 0, day0() + 3 * S, P(101), 100);     /* the manual sale fills */
    assert_int_equal(paper_pos(&w, 0), 0);
    assert_int_equal(hh_tm_position(w.tm, w.iid[0]), 10);
    lw_poll(&w);
    assert_true(w.divergences >= 1);
    assert_int_equal(hh_tm_position(w.tm, w.iid[0]), 0);
    lw_advance(&w, day0() + 4 * S);                  /* the target's cancel confirmed */
    assert_int_equal(w.closed, 1);
    lw_tick(&w, 0, day0() + 5 * S, P(105), 100);     /* through the old target */
    assert_int_equal(paper_pos(&w, 0), 0);           /* nothing re-opened */
    lw_poll(&w);
    assert_int_equal(hh_tm_position(w.tm, w.iid[0]), 0);
    assert_int_equal(hh_paper_stats(w.paper)->dup_client_ids, 0);
    assert_no_violation(&w);
    lw_free(&w);
}

/* Issue 12, defect 1: long 10, the stop triggered, its SL-LIMIT working
 * below the market; the position is closed by hand at the broker.  The poll
 * gives it up and aborts the stop: no market order for the 10 units that
 * are gone, the broker never goes short, nothing is adopted. */
static void test_live_given_up_during_stop_never_oversells(void **state)
{
    struct lw w = { 0 };
    struct hh_signal s;

    (void)state;
    lw_defaults(&w);
    lw_start(&w);
    s = mksig(&w, "a", 0, HH_BUY, P(100), P(98), P(104), 0, 10);
    lw_signal(&w, &s);
    lw_tick(&w, 0, day0() + 1 * S, P(100), 100);
    lw_tick(&w, 0, day0() + 2 * S, P(100.5), 100);   /* long 10 */
    lw_tick(&w, 0, day0() + 3 * S, P(98), 100);      /* the stop triggers */
    lw_tick(&w, 0, day0() + 3 * S + 200 * MS, P(96), 100);   /* SL-LIMIT 97.50 can't fill */
    assert_int_equal(hh_tm_exec_stats(w.tm)->stops, 1);
    assert_int_equal(paper_pos(&w, 0), 10);
    order_by_hand(&w, HH_SELL, 10, "manual-1");
    lw_tick(&w, 0, day0() + 3 * S + 500 * MS, P(96), 100);   /* sold by hand */
    assert_int_equal(paper_pos(&w, 0), 0);
    lw_poll(&w);                                              /* given up */
    assert_int_equal(hh_tm_position(w.tm, w.iid[0]), 0);
    assert_int_equal(w.alerts[HH_TMA_GIVEN_UP], 1);
    /* the price comes back through the limit at once: a stop-limit still
     * working would sell the 10 units that are gone */
    lw_tick(&w, 0, day0() + 3 * S + 800 * MS, P(99), 100);
    for (int i = 4; i < 30; i++)
        lw_tick(&w, 0, day0() + i * S, P(95), 100);
    lw_poll(&w);
    assert_int_equal(paper_pos(&w, 0), 0);                    /* never short */
    assert_int_equal(w.sent_market, 0);                       /* no market leg */
    assert_int_equal(w.alerts[HH_TMA_OVERSELL], 0);
    assert_int_equal(hh_tm_position(w.tm, w.iid[0]), 0);      /* nothing adopted */
    assert_int_equal(w.closed, 1);
    assert_no_violation(&w);
    lw_free(&w);
}

/* Long 10 through the engine, then 25 sold by hand: the broker short 15. */
static void oversold_by_hand(struct lw *w)
{
    struct hh_signal s;

    lw_defaults(w);
    lw_start(w);
    s = mksig(w, "a", 0, HH_BUY, P(100), P(98), P(104), 0, 10);
    lw_signal(w, &s);
    lw_tick(w, 0, day0() + 1 * S, P(100), 100);
    lw_tick(w, 0, day0() + 2 * S, P(100.5), 100);   /* long 10 */
    order_by_hand(w, HH_SELL, 25, "manual-1");
    lw_tick(w, 0, day0() + 3 * S, P(101), 100);
    assert_int_equal(paper_pos(w, 0), -15);
}

/* An oversell — the broker short an instrument the engine only ever bought —
 * is raised to the operator at first sight and adopted as a trade of its
 * own (no stop, no target) when the next poll finds the same excess: the
 * broker's state wins.  An excess seen by one poll only (a fill landing
 * between the listing of orders and of positions) is never adopted. */
static void test_live_oversell_adopted_when_the_next_poll_agrees(void **state)
{
    struct lw w = { 0 };

    (void)state;
    oversold_by_hand(&w);
    lw_poll(&w);
    assert_int_equal(w.alerts[HH_TMA_GIVEN_UP], 1);
    assert_int_equal(w.operator_alerts[HH_TMA_OVERSELL], 1);
    assert_int_equal(hh_tm_position(w.tm, w.iid[0]), 0);     /* seen once: not yet */
    lw_poll(&w);
    assert_int_equal(hh_tm_position(w.tm, w.iid[0]), -15);   /* the broker's, adopted */
    lw_poll(&w);
    assert_int_equal(w.alerts[HH_TMA_OVERSELL], 1);          /* once, not per poll */
    assert_int_equal(hh_tm_exec_stats(w.tm)->oversells, 1);
    assert_int_equal(paper_pos(&w, 0), -15);                 /* no order of its own */
    lw_free(&w);
}

static void test_live_oversell_seen_once_not_adopted(void **state)
{
    struct lw w = { 0 };

    (void)state;
    oversold_by_hand(&w);
    lw_poll(&w);
    assert_int_equal(w.operator_alerts[HH_TMA_OVERSELL], 1);
    order_by_hand(&w, HH_BUY, 15, "manual-2");   /* gone before the next poll */
    lw_tick(&w, 0, day0() + 4 * S, P(101), 100);
    assert_int_equal(paper_pos(&w, 0), 0);
    lw_poll(&w);
    lw_poll(&w);
    assert_int_equal(hh_tm_position(w.tm, w.iid[0]), 0);
    assert_int_equal(w.alerts[HH_TMA_OVERSELL], 1);
    lw_free(&w);
}

/* The cap when sent: an exit queued for more than the position (here the
 * position is cut behind the manager's back, as a bug elsewhere would) goes
 * out for the position only. */
static void test_live_exit_capped_when_sent(void **state)
{
    struct lw w = { 0 };
    struct hh_signal s;
    struct trade *t;
    char cid[HH_CLIENT_ID_MAX];

    (void)state;
    lw_defaults(&w);
    lw_start(&w);
    s = mksig(&w, "a", 0, HH_BUY, P(100), P(98), P(104), 0, 10);
    lw_signal(&w, &s);
    lw_tick(&w, 0, day0() + 1 * S, P(100), 100);
    lw_tick(&w, 0, day0() + 2 * S, P(100.5), 100);   /* long 10, a target for 10 */
    assert_int_equal(paper_pos(&w, 0), 10);
    hh_tm_hold_orders(w.tm, true);
    t = &w.tm->trades[0];
    hh_tm__client_id(cid, 'h', t->serial, 'q', -1, ++t->orders);
    assert_int_equal(hh_tm__place(w.tm, cid, 0, false, P_SQUAREOFF, -1, w.iid[0], HH_SELL,
                                  HH_ORD_MARKET, 10, 0, &t->sq_oid), HH_OK);   /* queued */
    t = &w.tm->trades[0];
    t->pos = 4;                                      /* ... 6 gone meanwhile */
    hh_tm_hold_orders(w.tm, false);
    lw_advance(&w, day0() + 3 * S);
    lw_tick(&w, 0, day0() + 4 * S, P(100), 100);
    assert_true(hh_tm_exec_stats(w.tm)->exits_capped >= 1);
    assert_int_equal(paper_pos(&w, 0), 6);           /* sold 4, not 10 */
    lw_free(&w);
}

static void test_live_gap_through_limit_markets_remainder(void **state)
{
    struct lw w = { 0 };
    struct hh_signal s;

    (void)state;
    lw_defaults(&w);
    lw_start(&w);
    s = mksig(&w, "a", 0, HH_BUY, P(100), P(98), P(104), 0, 10);
    lw_signal(&w, &s);
    lw_tick(&w, 0, day0() + 1 * S, P(100), 100);
    lw_tick(&w, 0, day0() + 2 * S, P(100.5), 100);
    lw_tick(&w, 0, day0() + 3 * S, P(96), 100);     /* gaps through the limit 97.50 */
    lw_tick(&w, 0, day0() + 4 * S, P(95.5), 100);   /* triggers: limit not reachable */
    assert_int_equal(paper_pos(&w, 0), 10);
    /* 2 s after it works: cancel, wait for the confirmation, market */
    lw_tick(&w, 0, day0() + 7 * S, P(95.4), 100);
    lw_tick(&w, 0, day0() + 8 * S, P(95.3), 100);
    assert_int_equal(w.sent_market, 1);
    assert_int_equal(paper_pos(&w, 0), 0);
    assert_int_equal(w.closed, 1);
    assert_no_violation(&w);
    lw_free(&w);
}

/* A duplicated report stream never doubles a position. */
static void test_live_duplicate_fills_ignored(void **state)
{
    struct lw w = { 0 };
    struct hh_signal s;

    (void)state;
    lw_defaults(&w);
    w.pc.fill_ratio = HH_RATIO_SCALE / 4;   /* partial fills: several reports */
    lw_start(&w);
    w.dup_reports = 2;                      /* every report three times */
    s = mksig(&w, "a", 0, HH_BUY, P(100), P(98), P(104), 0, 10);
    lw_signal(&w, &s);
    lw_tick(&w, 0, day0() + 1 * S, P(100), 20);
    for (int i = 2; i < 8; i++)
        lw_tick(&w, 0, day0() + i * S, P(100.5), 20);
    assert_int_equal(paper_pos(&w, 0), 10);
    assert_int_equal(hh_tm_position(w.tm, w.iid[0]), 10);
    assert_true(hh_tm_exec_stats(w.tm)->dup_fills >= 4);
    assert_no_violation(&w);
    lw_free(&w);
}

/* A placement that timed out is found by its client id, never sent twice. */
static void test_live_timeout_found_by_client_id(void **state)
{
    struct lw w = { 0 };
    struct hh_signal s;

    (void)state;
    lw_defaults(&w);
    w.pc.timeout_pct = 100 * HH_RATIO_SCALE;   /* every placement times out */
    lw_start(&w);
    s = mksig(&w, "a", 0, HH_BUY, P(100), P(98), P(104), 0, 10);
    lw_signal(&w, &s);
    lw_tick(&w, 0, day0() + 1 * S, P(100), 100);
    assert_int_equal(hh_tm_exec_stats(w.tm)->timeouts, 1);
    lw_tick(&w, 0, day0() + 3 * S, P(100.5), 100);
    assert_int_equal(hh_tm_exec_stats(w.tm)->found, 1);
    assert_int_equal(hh_tm_position(w.tm, w.iid[0]), 10);
    assert_int_equal(paper_pos(&w, 0), 10);
    assert_int_equal(hh_paper_stats(w.paper)->dup_client_ids, 0);
    assert_no_violation(&w);
    lw_free(&w);
}

/* The write-ahead rule: while the state that decided an order cannot be
 * made durable (the barrier fails: a full disk), nothing goes out — and
 * once it can, what was decided goes, once. */
static void test_live_nothing_sent_before_durable(void **state)
{
    struct lw w = { 0 };
    struct hh_signal s;

    (void)state;
    lw_defaults(&w);
    lw_start(&w);
    w.barrier_fails = true;
    s = mksig(&w, "a", 0, HH_BUY, P(100), P(98), P(104), 0, 10);
    lw_signal(&w, &s);
    lw_tick(&w, 0, day0() + 1 * S, P(100), 100);     /* the entry is decided */
    lw_tick(&w, 0, day0() + 2 * S, P(100), 100);
    assert_int_equal(w.sent, 0);
    assert_int_equal(hh_paper_order_count(w.paper), 0);
    w.barrier_fails = false;
    lw_tick(&w, 0, day0() + 3 * S, P(100), 100);     /* the entry goes, fills; its target */
    assert_int_equal(paper_pos(&w, 0), 10);
    assert_int_equal(hh_paper_stats(w.paper)->dup_client_ids, 0);
    lw_free(&w);
}

/* ---- the kill switch (SPEC §12) ----------------------------------------------------- */

static void snapshot_hash(struct hh_tm *tm, unsigned char **blob, size_t *len);

/* The engine restarts from its snapshot, the broker (paper) going on. */
static void lw_restart(struct lw *w)
{
    unsigned char *b;
    size_t n;

    assert_int_equal(hh_tm_snapshot(w->tm, &b, &n), HH_OK);
    hh_tm_free(w->tm);
    lw_start_with(w, w->paper);
    assert_int_equal(hh_tm_restore(w->tm, b, n), HH_OK);
    free(b);
}

/* Working orders at the paper broker. */
static int paper_working(struct lw *w)
{
    size_t n = hh_paper_order_count(w->paper);
    int k = 0;

    for (size_t id = 1; id <= n; id++) {
        struct hh_broker_order b;

        if (hh_paper_peek(w->paper, id, &b) == HH_OK && !hh_ord_state_terminal(b.state))
            k++;
    }
    return k;
}

/* pause: the working entry is withdrawn, nothing is entered while paused
 * (the signal waits), exits are managed; resume: it enters. */
static void test_live_kill_pause_and_resume(void **state)
{
    struct lw w = { 0 };
    struct hh_signal s;

    (void)state;
    lw_defaults(&w);
    w.pc.latency = 500 * MS;                         /* the entry works a while */
    lw_start(&w);
    s = mksig(&w, "a", 0, HH_BUY, P(100), P(98), P(104), 0, 10);
    lw_signal(&w, &s);
    lw_tick(&w, 0, day0() + 1 * S, P(100), 100);     /* the entry is sent */
    assert_int_equal(paper_working(&w), 1);
    hh_tm_kill(w.tm, HH_TM_PAUSE);
    assert_int_equal(hh_tm_trading(w.tm), HH_TRADING_PAUSED);
    for (int i = 2; i < 8; i++)
        lw_tick(&w, 0, day0() + i * S, P(100), 100);
    assert_int_equal(paper_working(&w), 0);
    assert_int_equal(paper_pos(&w, 0), 0);           /* nothing entered */
    hh_tm_kill(w.tm, HH_TM_RESUME);
    for (int i = 8; i < 12; i++)
        lw_tick(&w, 0, day0() + i * S, P(100), 100);
    assert_int_equal(paper_pos(&w, 0), 10);          /* it entered after resume */
    assert_no_violation(&w);
    lw_free(&w);
}

/* reduce: a position's exits still work (its stop fills), no new entry is
 * sent. */
static void test_live_kill_reduce(void **state)
{
    struct lw w = { 0 };
    struct hh_signal a, b;

    (void)state;
    lw_defaults(&w);
    w.cfg.stops = HH_STOPS_RESTING;
    lw_start(&w);
    a = mksig(&w, "a", 0, HH_BUY, P(100), P(98), P(104), 0, 10);
    lw_signal(&w, &a);
    lw_tick(&w, 0, day0() + 1 * S, P(100), 100);
    lw_tick(&w, 0, day0() + 2 * S, P(100.5), 100);   /* long 10, stop and target resting */
    assert_int_equal(paper_pos(&w, 0), 10);
    hh_tm_kill(w.tm, HH_TM_REDUCE);
    b = mksig(&w, "b", 1, HH_BUY, P(250), P(245), P(260), 0, 10);
    lw_signal(&w, &b);
    lw_tick(&w, 1, day0() + 3 * S, P(250), 100);     /* would enter: not sent */
    lw_tick(&w, 0, day0() + 4 * S, P(97.5), 100);    /* the resting stop fills */
    assert_int_equal(paper_pos(&w, 0), 0);
    assert_int_equal(paper_pos(&w, 1), 0);
    assert_int_equal(w.closed, 1);
    assert_no_violation(&w);
    lw_free(&w);
}

/* halt: every working order is cancelled (the broker confirms), nothing is
 * sent after — not even when the stop level trades — and the state survives
 * a restart; flatten then closes the position at market. */
static void test_live_kill_halt_then_flatten(void **state)
{
    struct lw w = { 0 };
    struct hh_signal s;
    int sent;

    (void)state;
    lw_defaults(&w);
    w.cfg.stops = HH_STOPS_RESTING;
    lw_start(&w);
    s = mksig(&w, "a", 0, HH_BUY, P(100), P(98), P(104), 0, 10);
    lw_signal(&w, &s);
    lw_tick(&w, 0, day0() + 1 * S, P(100), 100);
    lw_tick(&w, 0, day0() + 2 * S, P(100.5), 100);   /* long 10, stop and target resting */
    assert_int_equal(paper_working(&w), 2);
    hh_tm_kill(w.tm, HH_TM_HALT);
    lw_tick(&w, 0, day0() + 3 * S, P(100.5), 100);
    assert_int_equal(paper_working(&w), 0);
    sent = w.sent;
    lw_tick(&w, 0, day0() + 4 * S, P(97), 100);      /* through the stop: nothing sent */
    lw_tick(&w, 0, day0() + 5 * S, P(96), 100);
    assert_int_equal(w.sent, sent);
    assert_int_equal(paper_pos(&w, 0), 10);
    /* a restart keeps it halted */
    lw_restart(&w);
    assert_int_equal(hh_tm_trading(w.tm), HH_TRADING_HALTED);
    lw_tick(&w, 0, day0() + 6 * S, P(95), 100);
    assert_int_equal(w.sent, sent);
    /* flatten: closed at market, flat once nothing is held or working */
    assert_false(hh_tm_flat(w.tm));
    hh_tm_kill(w.tm, HH_TM_FLATTEN);
    lw_tick(&w, 0, day0() + 7 * S, P(95), 100);
    lw_tick(&w, 0, day0() + 8 * S, P(95), 100);
    assert_int_equal(paper_pos(&w, 0), 0);
    assert_true(hh_tm_flat(w.tm));
    assert_int_equal(hh_tm_trading(w.tm), HH_TRADING_HALTED);
    assert_no_violation(&w);
    lw_free(&w);
}

/* ---- a stopping engine (SIGTERM, SPEC §10) ------------------------------------------- */

/* The runner's wait while it stops: the clock on by 100 ms steps, what is
 * due sent, for at most `ns` or until nothing is in flight; returns what is
 * left in flight. */
static size_t lw_stop_wait(struct lw *w, int64_t ns)
{
    hh_time_t end = w->clock.now + ns;
    size_t n = hh_tm_in_flight(w->tm);

    while (n && w->clock.now < end) {
        hh_clock_advance(&w->clock, w->clock.now + 100 * MS);
        n = hh_tm_stop_step(w->tm);
    }
    return n;
}

static const char *trade_state(struct lw *w, size_t i)
{
    struct hh_tm_trade_view v;

    assert_int_equal(hh_tm_trade_view(w->tm, i, &v), HH_OK);
    return v.state;
}

/* An entry decided and not yet sent when the engine stops is withdrawn (its
 * trade waits again), and nothing enters after, even at its level; a
 * position's held stop still executes (exits go on). */
static void test_live_stop_sends_no_entry(void **state)
{
    struct lw w = { 0 };
    struct hh_signal a, b;
    uint64_t placed;

    (void)state;
    lw_defaults(&w);
    lw_start(&w);
    b = mksig(&w, "b", 1, HH_BUY, P(250), P(245), P(260), 0, 10);
    lw_signal(&w, &b);
    lw_tick(&w, 1, day0() + 1 * S, P(250), 100);
    lw_tick(&w, 1, day0() + 2 * S, P(250.5), 100);   /* long 10 TCS, its target resting */
    assert_int_equal(paper_pos(&w, 1), 10);
    a = mksig(&w, "a", 0, HH_BUY, P(100), P(98), P(104), 0, 10);
    lw_signal(&w, &a);
    w.barrier_fails = true;
    lw_tick(&w, 0, day0() + 3 * S, P(100), 100);     /* a's entry decided, not yet sent */
    assert_string_equal(trade_state(&w, 1), "ENTERING");
    placed = hh_paper_stats(w.paper)->placed;
    hh_tm_stop(w.tm);
    assert_true(hh_tm_stopping(w.tm));
    w.barrier_fails = false;
    assert_string_equal(trade_state(&w, 1), "WAITING");
    assert_int_equal(lw_stop_wait(&w, 15 * S), 0);   /* the resting target is not waited for */
    lw_tick(&w, 0, day0() + 20 * S, P(100), 100);    /* at a's level again: not taken */
    lw_tick(&w, 0, day0() + 21 * S, P(100), 100);
    assert_int_equal(hh_paper_stats(w.paper)->placed, placed);
    assert_int_equal(paper_pos(&w, 0), 0);
    assert_string_equal(trade_state(&w, 1), "WAITING");
    for (int i = 22; i < 30; i++)                     /* TCS through its stop */
        lw_tick(&w, 1, day0() + i * S, P(244), 100);
    assert_int_equal(paper_pos(&w, 1), 0);
    assert_int_equal(hh_tm_exec_stats(w.tm)->stops, 1);
    assert_no_violation(&w);
    lw_free(&w);
}

/* An entry of unknown outcome (timed out) when the engine stops is looked
 * up while it stops and never placed again — also once the book's grace is
 * over; still unknown at the end of the stop's time, it is persisted as
 * such, and the next start looks it up first and adopts it. */
static void test_live_stop_unknown_entry_never_placed_again(void **state)
{
    struct lw w = { 0 };
    struct hh_signal a;
    uint64_t lookups;

    (void)state;
    lw_defaults(&w);
    w.pc.timeout_pct = 100 * HH_RATIO_SCALE;        /* the placement times out ... */
    w.pc.book_lag = 40 * S;                         /* ... and the book hides it 40 s */
    w.poll_every = 0;
    lw_start(&w);
    a = mksig(&w, "a", 0, HH_BUY, P(100), P(98), P(104), 0, 10);
    lw_signal(&w, &a);
    lw_tick(&w, 0, day0() + 1 * S, P(100), 100);
    assert_int_equal(hh_tm_exec_stats(w.tm)->timeouts, 1);
    hh_tm_stop(w.tm);
    lookups = hh_paper_stats(w.paper)->lag_hidden;
    assert_int_equal(lw_stop_wait(&w, 15 * S), 1);  /* past the 10 s grace: still unknown */
    assert_true(hh_paper_stats(w.paper)->lag_hidden > lookups + 10);  /* looked up, often */
    assert_int_equal(hh_paper_stats(w.paper)->placed, 1);            /* never again */
    assert_string_equal(trade_state(&w, 0), "ENTERING");
    /* the last checkpoint, and a start after the book lists it */
    hh_clock_advance(&w.clock, day0() + 60 * S);
    lw_restart(&w);
    lw_poll(&w);                                    /* the startup reconciliation */
    lw_tick(&w, 0, day0() + 61 * S, P(100.5), 100);
    lw_tick(&w, 0, day0() + 62 * S, P(100.5), 100);
    assert_int_equal(hh_tm_exec_stats(w.tm)->found, 1);
    assert_int_equal(hh_paper_stats(w.paper)->dup_client_ids, 0);
    assert_int_equal(paper_pos(&w, 0), 10);
    assert_int_equal(hh_tm_position(w.tm, w.iid[0]), 10);
    assert_no_violation(&w);
    lw_free(&w);
}

/* halt while an entry's placement is of unknown outcome: it is looked up
 * at once (not after the book's grace: it must not fill meanwhile), and
 * cancelled once found — it does not stay working at the broker. */
static void test_live_halt_cancels_unknown_entry_once_found(void **state)
{
    struct lw w = { 0 };
    struct hh_signal a;

    (void)state;
    lw_defaults(&w);
    w.pc.timeout_pct = 100 * HH_RATIO_SCALE;        /* the placement times out ... */
    w.pc.book_lag = 3 * S;                          /* ... the book lists it 3 s later */
    w.pc.latency = 20 * S;                          /* ... and it works a while */
    w.poll_every = 0;
    lw_start(&w);
    a = mksig(&w, "a", 0, HH_BUY, P(100), P(98), P(104), 0, 10);
    lw_signal(&w, &a);
    lw_tick(&w, 0, day0() + 1 * S, P(100), 100);
    assert_int_equal(hh_tm_exec_stats(w.tm)->timeouts, 1);
    lw_advance(&w, day0() + 2500 * MS);            /* looked up once: not listed yet */
    assert_true(hh_paper_stats(w.paper)->lag_hidden > 0);
    hh_tm_kill(w.tm, HH_TM_HALT);
    lw_advance(&w, day0() + 6 * S);
    assert_int_equal(hh_tm_exec_stats(w.tm)->found, 1);    /* well within the 10 s grace */
    lw_advance(&w, day0() + 40 * S);
    assert_int_equal(paper_working(&w), 0);
    assert_int_equal(paper_pos(&w, 0), 0);
    assert_int_equal(hh_paper_stats(w.paper)->placed, 1);
    assert_int_equal(hh_tm_in_flight(w.tm), 0);
    assert_no_violation(&w);
    lw_free(&w);
}

/* halt while an entry's placement is of unknown outcome and the book hides
 * it beyond the grace: the engine takes it for never placed, and when the
 * book lists it later, working, it is a stray of ours — cancelled at once
 * (confirmed by the broker), alerted and counted; nothing placed twice. */
static void test_live_halt_cancels_entry_listed_after_grace(void **state)
{
    struct lw w = { 0 };
    struct hh_signal a;

    (void)state;
    lw_defaults(&w);
    w.pc.timeout_pct = 100 * HH_RATIO_SCALE;        /* the placement times out ... */
    w.pc.book_lag = 20 * S;                         /* ... and the book hides it 20 s */
    lw_start(&w);
    a = mksig(&w, "a", 0, HH_BUY, P(100), P(98), P(104), 0, 10);
    lw_signal(&w, &a);
    lw_tick(&w, 0, day0() + 1 * S, P(100), 100);
    assert_int_equal(hh_tm_exec_stats(w.tm)->timeouts, 1);
    hh_tm_kill(w.tm, HH_TM_HALT);
    lw_advance(&w, day0() + 15 * S);                /* past the grace: "never placed" */
    assert_int_equal(hh_tm_in_flight(w.tm), 0);
    assert_int_equal(paper_working(&w), 1);         /* ... yet it works at the broker */
    assert_int_equal(hh_tm_exec_stats(w.tm)->strays, 0);
    lw_advance(&w, day0() + 30 * S);                /* listed at 21 s, the poll at 24 s */
    assert_int_equal(hh_tm_exec_stats(w.tm)->strays, 1);
    assert_int_equal(w.operator_alerts[HH_TMA_STRAY], 1);
    assert_non_null(strstr(w.last_detail[HH_TMA_STRAY], "the kill switch halts"));
    assert_int_equal(paper_working(&w), 0);
    assert_int_equal(hh_tm_in_flight(w.tm), 0);     /* the cancel confirmed */
    lw_tick(&w, 0, day0() + 31 * S, P(100), 100);
    lw_tick(&w, 0, day0() + 32 * S, P(100), 100);
    assert_int_equal(paper_pos(&w, 0), 0);
    assert_int_equal(hh_paper_stats(w.paper)->placed, 1);
    assert_int_equal(hh_paper_stats(w.paper)->dup_client_ids, 0);
    lw_advance(&w, day0() + 60 * S);                /* found once, not at every poll */
    assert_int_equal(hh_tm_exec_stats(w.tm)->strays, 1);
    assert_no_violation(&w);
    lw_free(&w);
}

/* flatten while an entry's placement is of unknown outcome, the book hiding
 * it beyond the grace while it fills: listed later, FILLED, its units are
 * adopted (the broker's view wins) and flatten closes them; flat only then. */
static void test_live_flatten_closes_stray_entry_fill(void **state)
{
    struct lw w = { 0 };
    struct hh_signal a;

    (void)state;
    lw_defaults(&w);
    w.pc.timeout_pct = 100 * HH_RATIO_SCALE;
    w.pc.book_lag = 20 * S;
    w.poll_every = 30 * S;                          /* the first poll after the listing */
    lw_start(&w);
    a = mksig(&w, "a", 0, HH_BUY, P(100), P(98), P(104), 0, 10);
    lw_signal(&w, &a);
    lw_tick(&w, 0, day0() + 1 * S, P(100), 100);
    w.pc.timeout_pct = 0;
    lw_tick(&w, 0, day0() + 2 * S, P(100.5), 100);  /* it fills, hidden */
    assert_int_equal(paper_pos(&w, 0), 10);
    hh_tm_kill(w.tm, HH_TM_FLATTEN);
    lw_advance(&w, day0() + 15 * S);
    assert_int_equal(hh_tm_position(w.tm, w.iid[0]), 0);   /* taken for never placed */
    lw_advance(&w, day0() + 30 * S);                /* the poll: a stray, filled */
    assert_int_equal(hh_tm_exec_stats(w.tm)->strays, 1);
    assert_false(hh_tm_flat(w.tm));
    lw_tick(&w, 0, day0() + 31 * S, P(100.5), 100);
    lw_tick(&w, 0, day0() + 32 * S, P(100.5), 100);
    assert_int_equal(paper_pos(&w, 0), 0);
    lw_advance(&w, day0() + 61 * S);
    assert_int_equal(hh_tm_position(w.tm, w.iid[0]), 0);
    assert_true(hh_tm_flat(w.tm));
    assert_int_equal(hh_paper_stats(w.paper)->dup_client_ids, 0);
    assert_int_equal(hh_tm_trading(w.tm), HH_TRADING_HALTED);
    assert_no_violation(&w);
    lw_free(&w);
}

/* The instruments whose market data the engine needs (live: subscribed):
 * a signal accepted but not yet arrived, a waiting or open trade — not one
 * whose trade has closed. */
static void test_live_market_needs(void **state)
{
    struct lw w = { 0 };
    struct hh_signal a;
    bool need[2];

    (void)state;
    lw_defaults(&w);
    lw_start(&w);
    memset(need, 0, sizeof need);
    hh_tm_market_needs(w.tm, need, 2);
    assert_false(need[0] || need[1]);
    a = mksig(&w, "a", 0, HH_BUY, P(100), P(98), P(104), 0, 10);
    a.received_at = day0() + 2 * S;                 /* arrives later */
    assert_int_equal(hh_tm_accept(w.tm, &a, NULL, 0, 0), HH_OK);
    assert_int_equal(hh_tm_pending(w.tm), 1);
    hh_tm_market_needs(w.tm, need, 2);
    assert_true(need[0]);
    assert_false(need[1]);
    lw_advance(&w, day0() + 3 * S);
    assert_int_equal(hh_tm_arrive(w.tm), HH_OK);    /* arrived: waiting */
    assert_int_equal(hh_tm_pending(w.tm), 0);
    memset(need, 0, sizeof need);
    hh_tm_market_needs(w.tm, need, 2);
    assert_true(need[0]);
    lw_tick(&w, 0, day0() + 4 * S, P(100), 100);    /* entered */
    lw_tick(&w, 0, day0() + 5 * S, P(100.5), 100);
    lw_tick(&w, 0, day0() + 6 * S, P(104), 100);    /* its target */
    lw_tick(&w, 0, day0() + 7 * S, P(104), 100);
    assert_int_equal(w.closed, 1);
    memset(need, 0, sizeof need);
    hh_tm_market_needs(w.tm, need, 2);
    assert_false(need[0] || need[1]);
    assert_no_violation(&w);
    lw_free(&w);
}

/* The views the API publishes, and closing one trade on request. */
static void test_live_views_and_exit_trade(void **state)
{
    struct lw w = { 0 };
    struct hh_signal s;
    struct hh_tm_trade_view tv;
    struct hh_tm_order_view ov;

    (void)state;
    lw_defaults(&w);
    lw_start(&w);
    s = mksig(&w, "a", 0, HH_BUY, P(100), P(98), P(104), 0, 10);
    lw_signal(&w, &s);
    lw_tick(&w, 0, day0() + 1 * S, P(100), 100);
    lw_tick(&w, 0, day0() + 2 * S, P(100.5), 100);   /* long 10, a target */
    assert_int_equal(hh_tm_trade_count(w.tm), 1);
    assert_int_equal(hh_tm_trade_view(w.tm, 0, &tv), HH_OK);
    assert_string_equal(tv.state, "OPEN");
    assert_string_equal(tv.signal_id, "a");
    assert_int_equal(tv.pos, 10);
    assert_int_equal(tv.entry_avg, P(100.5));          /* filled on the next tick */
    assert_int_equal(hh_tm_order_count(w.tm), 2);
    assert_int_equal(hh_tm_order_view(w.tm, 0, &ov), HH_OK);
    assert_int_equal(ov.filled, 10);
    assert_false(ov.working);
    assert_int_equal(hh_tm_order_view(w.tm, 1, &ov), HH_OK);
    assert_true(ov.working);                          /* the target */
    assert_int_equal(ov.limit, P(104));
    assert_int_equal(hh_tm_exit_trade(w.tm, 99), HH_ENOTFOUND);
    assert_int_equal(hh_tm_exit_trade(w.tm, tv.trade_id), HH_OK);
    lw_tick(&w, 0, day0() + 3 * S, P(101), 100);
    lw_tick(&w, 0, day0() + 4 * S, P(101), 100);
    assert_int_equal(paper_pos(&w, 0), 0);
    assert_int_equal(hh_tm_trade_view(w.tm, 0, &tv), HH_OK);
    assert_string_equal(tv.state, "CLOSED");
    assert_int_equal(tv.realised, 10 * P(0.5));       /* sold at 101 */
    assert_int_equal(hh_tm_exit_trade(w.tm, tv.trade_id), HH_ESTATE);
    assert_no_violation(&w);
    lw_free(&w);
}

/* ---- 2. seed scenario 3: broker failure and recovery ------------------------------ */

static void test_scenario_3_breaker(void **state)
{
    struct lw w = { 0 };
    char id[16];

    (void)state;
    lw_defaults(&w);
    /* 503 from 09:15:10 to 09:16:40 */
    w.pc.n_unavailable = 1;
    w.pc.unavailable[0].from = HH_TOD(9, 15) + 10 * S;
    w.pc.unavailable[0].to = HH_TOD(9, 16) + 40 * S;
    w.cfg.max_open_trades = 1;
    lw_start(&w);
    /* signals during the outage, one every 5 s, each touched at once */
    for (int i = 0; i < 8; i++) {
        struct hh_signal s;
        hh_time_t t = day0() + (12 + 5 * i) * S;

        lw_advance(&w, t);
        snprintf(id, sizeof id, "s%d", i);
        s = mksig(&w, id, i % 2, HH_BUY, P(100), P(98), P(104), 0, 1);
        lw_signal(&w, &s);
        lw_tick(&w, i % 2, t + 100 * MS, P(100), 100);
    }
    /* no trade during the outage; dead letters BROKER_UNAVAILABLE */
    assert_int_equal(hh_paper_stats(w.paper)->placed, 0);
    assert_true(w.rejected[HH_SIG_BROKER_UNAVAILABLE] >= 4);
    assert_true(w.opened >= 1);                 /* the alert (again after a failed probe) */
    assert_true(hh_tm_exec_stats(w.tm)->refused > 0);
    /* recovery: the probe (a funds query) closes the breaker */
    for (int i = 0; i < 40; i++)
        lw_tick(&w, 0, day0() + (60 + 2 * i) * S, P(101), 100);
    assert_true(w.closed_brk >= 1);
    assert_int_equal(hh_tm_breaker_state(w.tm), HH_BRK_CLOSED);
    {
        struct hh_signal s = mksig(&w, "after", 0, HH_BUY, P(101), P(99), P(105), 0, 1);

        lw_signal(&w, &s);
        lw_tick(&w, 0, day0() + 150 * S, P(101), 100);
        lw_tick(&w, 0, day0() + 151 * S, P(101), 100);
    }
    assert_int_equal(paper_pos(&w, 0), 1);      /* trading resumed */
    assert_no_violation(&w);
    lw_free(&w);
}

/* ---- 3. seed scenario 7: two signals ready at one instant, one slot --------------- */

static void scenario_7(enum hh_stop_policy stops)
{
    struct lw w = { 0 };
    struct hh_signal a, b;
    struct hh_candle ca, cb;

    lw_defaults(&w);
    w.cfg.stops = stops;
    w.cfg.touch = false;           /* retest on candles */
    w.cfg.max_open_trades = 1;
    lw_start(&w);
    a = mksig(&w, "nifty", 0, HH_BUY, P(100), P(98), P(104), 0, 1);
    b = mksig(&w, "banknifty", 1, HH_BUY, P(200), P(196), P(208), 0, 1);
    lw_signal(&w, &a);
    lw_signal(&w, &b);
    /* both candles of 09:15 complete at 09:16 and both are ready */
    ca = (struct hh_candle){ .ts = day0(), .iid = w.iid[0], .open = P(100.5), .high = P(101),
                             .low = P(99.8), .close = P(100.4), .volume = 10 };
    cb = (struct hh_candle){ .ts = day0(), .iid = w.iid[1], .open = P(200.5), .high = P(201),
                             .low = P(199.8), .close = P(200.4), .volume = 10 };
    lw_advance(&w, day0() + 60 * S);
    hh_tm_candle(w.tm, &ca);
    hh_tm_candle(w.tm, &cb);
    hh_tm_select(w.tm);
    lw_commit(&w);
    lw_tick(&w, 0, day0() + 61 * S, P(100.4), 100);
    lw_tick(&w, 1, day0() + 61 * S, P(200.4), 100);
    lw_tick(&w, 0, day0() + 62 * S, P(100.4), 100);
    lw_tick(&w, 1, day0() + 62 * S, P(200.4), 100);
    assert_int_equal(hh_tm_stats(w.tm)->open, 1);
    assert_int_equal(hh_tm_stats(w.tm)->waiting, 1);
    /* exactly one entry, the better reward/risk (both 2.0: the earlier ts,
     * then the id: "banknifty") */
    assert_int_equal(paper_pos(&w, 0) + paper_pos(&w, 1), 1);
    assert_int_equal(paper_pos(&w, 1), 1);
    lw_free(&w);
}

static void test_scenario_7_one_slot(void **state)
{
    (void)state;
    scenario_7(HH_STOPS_HELD);
    scenario_7(HH_STOPS_RESTING);
}

/* ---- 4. restart in the middle of a hybrid stop ----------------------------------- */

static void snapshot_hash(struct hh_tm *tm, unsigned char **blob, size_t *len)
{
    assert_int_equal(hh_tm_snapshot(tm, blob, len), HH_OK);
}

static void test_live_restart_mid_stop(void **state)
{
    struct lw w = { 0 };
    struct hh_signal s;
    unsigned char *b1, *b2, *pb;
    size_t n1, n2, pn;
    struct hh_diag d;
    struct hh_paper *p2;

    (void)state;
    lw_defaults(&w);
    w.pc.latency = 300 * MS;
    lw_start(&w);
    s = mksig(&w, "a", 0, HH_BUY, P(100), P(98), P(104), 0, 10);
    lw_signal(&w, &s);
    lw_tick(&w, 0, day0() + 1 * S, P(100), 100);
    lw_tick(&w, 0, day0() + 2 * S, P(100.5), 100);
    lw_tick(&w, 0, day0() + 3 * S, P(96), 100);     /* stop triggered, gap */
    lw_tick(&w, 0, day0() + 4 * S, P(95.5), 100);
    lw_advance(&w, day0() + 6 * S + 500 * MS);       /* the stop-limit is being cancelled */
    snapshot_hash(w.tm, &b1, &n1);
    assert_int_equal(hh_paper_snapshot(w.paper, (void **)&pb, &pn), HH_OK);
    /* "crash": a new engine and broker from the snapshots */
    hh_tm_free(w.tm);
    hh_paper_free(w.paper);
    p2 = hh_paper_restore(w.inst, &w.clock, &w.pc, pb, pn, &d);
    assert_non_null(p2);
    lw_start_with(&w, p2);
    assert_int_equal(hh_tm_restore(w.tm, b1, n1), HH_OK);
    snapshot_hash(w.tm, &b2, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(b1, b2, n1);                 /* the same state */
    lw_poll(&w);                                     /* startup reconciliation */
    for (int i = 0; i < 10; i++)
        lw_tick(&w, 0, day0() + (7 + i) * S, P(95), 100);
    assert_int_equal(paper_pos(&w, 0), 0);
    assert_int_equal(hh_tm_position(w.tm, w.iid[0]), 0);
    assert_int_equal(hh_paper_stats(w.paper)->dup_client_ids, 0);
    assert_no_violation(&w);
    free(b1);
    free(b2);
    free(pb);
    lw_free(&w);
}

/* A placement queued (write-ahead) and sent, then a crash before the next
 * checkpoint: the restored engine finds it by client id instead of sending
 * it again. */
static void test_live_queued_order_found_after_restart(void **state)
{
    struct lw w = { 0 };
    struct hh_signal s;
    struct hh_tick t;
    unsigned char *b1, *pb;
    size_t n1, pn;
    struct hh_diag d;
    struct hh_paper *p2;

    (void)state;
    lw_defaults(&w);
    lw_start(&w);
    s = mksig(&w, "a", 0, HH_BUY, P(100), P(98), P(104), 0, 10);
    lw_signal(&w, &s);
    lw_advance(&w, day0() + 1 * S);
    t = (struct hh_tick){ .ts = day0() + 1 * S, .iid = w.iid[0], .price = P(100), .qty = 100 };
    free(w.ckpt);
    w.ckpt = NULL;
    hh_tm_tick(w.tm, &t);                   /* the entry queued, the barrier passed,
                                               sent ... */
    assert_non_null(w.ckpt);                /* the durable checkpoint: entry queued */
    b1 = w.ckpt;
    n1 = w.nckpt;
    w.ckpt = NULL;
    assert_int_equal(hh_paper_stats(w.paper)->placed, 1);   /* ... and the process dies */
    assert_int_equal(hh_paper_snapshot(w.paper, (void **)&pb, &pn), HH_OK);
    hh_tm_free(w.tm);
    hh_paper_free(w.paper);
    p2 = hh_paper_restore(w.inst, &w.clock, &w.pc, pb, pn, &d);
    assert_non_null(p2);
    lw_start_with(&w, p2);
    assert_int_equal(hh_tm_restore(w.tm, b1, n1), HH_OK);
    lw_poll(&w);
    lw_tick(&w, 0, day0() + 2 * S, P(100.5), 100);
    lw_tick(&w, 0, day0() + 3 * S, P(100.5), 100);
    assert_int_equal(hh_paper_stats(w.paper)->placed, 2);   /* the entry, then its target */
    assert_int_equal(hh_paper_stats(w.paper)->dup_client_ids, 0);
    assert_int_equal(paper_pos(&w, 0), 10);
    assert_int_equal(hh_tm_position(w.tm, w.iid[0]), 10);
    free(b1);
    free(pb);
    lw_free(&w);
}

/* ---- 5. every order's state is its state machine's ----------------------------------- */

/* The engine's first order of purpose p. */
static struct order_ref *ref_of(struct lw *w, enum purpose p)
{
    for (size_t i = 0; i < w->tm->nrefs; i++)
        if (w->tm->refs[i].purpose == p)
            return &w->tm->refs[i];
    fail_msg("no order of purpose %d", (int)p);
    return NULL;
}

/* Persist the run into tmp file `name` (before lw_start). */
static void lw_persist(struct lw *w, const char *name, char *db, size_t cap)
{
    struct hh_journal_opts po;
    struct hh_diag d = { "" };
    char cmd[2500];

    snprintf(db, cap, "%s", tu_write_file(0, name, ""));
    snprintf(cmd, sizeof cmd, "rm -f '%s' '%s-wal' '%s-shm' '%s-lock'", db, db, db, db);
    assert_int_equal(system(cmd), 0);
    hh_journal_opts_default(&po);
    po.mode = "test";
    if (hh_journal_open(db, &po, w->inst, &w->persist, &d) ||
        hh_journal_config(w->persist, NULL, HH_TIME_NONE, &d))
        fail_msg("persist: %s", d.msg);
}

/* The end of the persisted run: the database, to read. */
static sqlite3 *lw_persist_end(struct lw *w, const char *db)
{
    struct hh_diag d = { "" };
    sqlite3 *q;

    if (hh_journal_finish(w->persist, w->clock.now, &d) || hh_journal_close(w->persist, &d))
        fail_msg("persist: %s", d.msg);
    w->persist = NULL;
    assert_int_equal(sqlite3_open_v2(db, &q, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    return q;
}

static char *db_text(sqlite3 *db, const char *sql);

/* One value of the persisted run so far (what the writer committed). */
static char *lw_persisted(struct lw *w, const char *db, const char *sql)
{
    struct hh_diag d = { "" };
    sqlite3 *q;
    char *v;

    if (hh_store_flush(hh_journal_store(w->persist), &d))
        fail_msg("flush: %s", d.msg);
    assert_int_equal(sqlite3_open_v2(db, &q, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    v = db_text(q, sql);
    sqlite3_close(q);
    return v;
}

static char *db_text(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    static char out[512];
    size_t n = 0;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    out[0] = '\0';
    while (sqlite3_step(st) == SQLITE_ROW && n < sizeof out)
        n += (size_t)snprintf(out + n, sizeof out - n, "%s%s", n ? " " : "",
                              (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
}

/* Entry of 10 INFY filled at 2 s, its target (limit 104) working. */
static void entered(struct lw *w)
{
    struct hh_signal s = mksig(w, "a", 0, HH_BUY, P(100), P(98), P(104), 0, 10);

    lw_signal(w, &s);
    lw_tick(w, 0, day0() + 1 * S, P(100), 100);
    lw_tick(w, 0, day0() + 2 * S, P(100.5), 100);
    assert_int_equal(hh_tm_position(w->tm, w->iid[0]), 10);
    assert_int_equal(ref_of(w, P_T1)->ord.state, HH_OS_OPEN);
}

/* A square-off the book hides beyond the grace (its reports lost) is taken
 * for unknown at the broker and decided again under a new client id.  When
 * the old one shows up: still working, it is cancelled and the new one is
 * left alone (`filled_first` false); already filled beside the new one, the
 * position is over-sold — the excess is adopted and bought back at once.
 * Either way the position ends flat at the broker. */
static void exit_redecided(bool filled_first)
{
    struct lw w = { 0 };
    struct order_ref *sq;
    uint64_t old;

    lw_defaults(&w);
    w.poll_every = 4 * S;
    lw_start(&w);
    entered(&w);
    assert_int_equal(hh_tm_exit_trade(w.tm, 1), HH_OK);
    lw_commit(&w);
    sq = ref_of(&w, P_SQUAREOFF);
    old = sq->boid;
    assert_true(old != 0);
    w.hidden = w.muted = old;
    w.hidden_until = day0() + 22500 * MS;
    lw_advance(&w, day0() + 22 * S);                /* unknown at 20 s, decided again */
    sq = ref_of(&w, P_SQUAREOFF);
    assert_true(sq->done);
    assert_int_equal(w.sent, 4);                    /* entry, target, q, q again */
    if (filled_first) {
        w.excused = 10;                             /* no engine could know in time */
        lw_tick(&w, 0, day0() + 23 * S, P(100), 100);   /* both fill: short 10 */
        assert_int_equal(paper_pos(&w, 0), -10);
    }
    lw_advance(&w, day0() + 24 * S);                /* the poll */
    assert_int_equal(hh_tm_exec_stats(w.tm)->strays, 1);
    assert_int_equal(paper_working(&w), 1);         /* the buy-back, or the new square-off */
    lw_tick(&w, 0, day0() + 25 * S, P(100), 100);
    lw_tick(&w, 0, day0() + 26 * S, P(100), 100);
    lw_advance(&w, day0() + 40 * S);
    assert_int_equal(paper_pos(&w, 0), 0);
    assert_int_equal(hh_tm_position(w.tm, w.iid[0]), 0);
    assert_int_equal(paper_working(&w), 0);
    assert_int_equal(w.closed, filled_first ? 2 : 1);   /* (the adopted excess: a trade) */
    assert_int_equal(hh_paper_stats(w.paper)->dup_client_ids, 0);
    assert_no_violation(&w);
    lw_free(&w);
}

static void test_live_redecided_exit_stray_cancelled(void **state)
{
    (void)state;
    exit_redecided(false);
}

static void test_live_redecided_exit_stray_oversell_bought_back(void **state)
{
    (void)state;
    exit_redecided(true);
}

/* A fill reported for an order the broker already said it cancelled: the
 * machine refuses it (a fill on a cancelled order), nothing is booked, and
 * the operator is alerted with the machine's reason — an ALERT row of the
 * audit trail. */
static void test_live_fill_after_cancel_refused(void **state)
{
    struct lw w = { 0 };
    struct order_ref *tgt;
    struct hh_report f;
    char db[600];
    sqlite3 *q;
    int fills;

    (void)state;
    lw_defaults(&w);
    lw_persist(&w, "live_refused.db", db, sizeof db);
    lw_start(&w);
    entered(&w);
    lw_tick(&w, 0, day0() + 3 * S, P(98), 100);     /* the stop: the target is cancelled */
    lw_advance(&w, day0() + 3 * S + 10 * MS);
    tgt = ref_of(&w, P_T1);
    assert_int_equal(tgt->ord.state, HH_OS_CANCELLED);
    assert_true(tgt->done);
    assert_int_equal(hh_tm_exec_stats(w.tm)->refusals, 0);
    fills = w.fills;
    memset(&f, 0, sizeof f);
    f.kind = HH_RPT_FILL;
    f.order_id = tgt->boid;
    f.ts = w.clock.now;
    f.iid = w.iid[0];
    f.side = HH_SELL;
    f.qty = f.filled = 4;
    f.leaves = 6;
    f.price = P(104);
    f.exec_id = 424242;
    w.esink(w.ectx, &f);
    tgt = ref_of(&w, P_T1);
    assert_int_equal(hh_tm_exec_stats(w.tm)->refusals, 1);
    assert_int_equal(w.alerts[HH_TMA_ILLEGAL_TRANSITION], 1);
    assert_int_equal(w.operator_alerts[HH_TMA_ILLEGAL_TRANSITION], 1);
    assert_int_equal(w.last_rc[HH_TMA_ILLEGAL_TRANSITION], HH_ESTATE);
    assert_non_null(strstr(w.last_detail[HH_TMA_ILLEGAL_TRANSITION],
                           "fill: CANCELLED -> PARTIALLY_FILLED is not a legal transition"));
    assert_int_equal(tgt->ord.state, HH_OS_CANCELLED);
    assert_int_equal(tgt->ord.filled, 0);
    assert_int_equal(tgt->filled, 0);
    assert_int_equal(w.fills, fills);                     /* not booked */
    assert_int_equal(hh_tm_position(w.tm, w.iid[0]), 10);
    /* the stop carries on as if nothing had come */
    lw_tick(&w, 0, day0() + 4 * S, P(97.9), 100);
    assert_int_equal(paper_pos(&w, 0), 0);
    assert_int_equal(hh_tm_position(w.tm, w.iid[0]), 0);
    assert_int_equal(w.closed, 1);
    q = lw_persist_end(&w, db);
    assert_string_equal(db_text(q, "SELECT json_extract(payload, '$.alert') || ' ' || "
                                   "json_extract(payload, '$.error') || ' ' || "
                                   "json_extract(payload, '$.operator_alert') FROM audit "
                                   "WHERE kind = 'ALERT' AND json_extract(payload, "
                                   "'$.detail') LIKE 'fill: CANCELLED -> %'"),
                        "ILLEGAL_TRANSITION operation not allowed in the current state 1");
    assert_string_equal(db_text(q, "SELECT count(*) FROM fills WHERE qty = 4"), "0");
    sqlite3_close(q);
    assert_no_violation(&w);
    lw_free(&w);
}

/* A fill report replayed with its exec id is refused as a duplicate (an
 * ALERT row of the audit trail); the same fill renumbered is only stale
 * (its cumulative quantity is known): ignored, not a refusal. */
static void test_live_duplicate_exec_id_refused(void **state)
{
    struct lw w = { 0 };
    struct hh_report f;
    char db[600];
    sqlite3 *q;
    int fills;

    (void)state;
    lw_defaults(&w);
    lw_persist(&w, "live_dup.db", db, sizeof db);
    lw_start(&w);
    entered(&w);
    f = w.last_fill;
    assert_int_equal(f.order_id, ref_of(&w, P_ENTRY)->boid);
    fills = w.fills;
    w.esink(w.ectx, &f);
    assert_int_equal(hh_tm_exec_stats(w.tm)->refusals, 1);
    assert_int_equal(hh_tm_exec_stats(w.tm)->dup_fills, 1);
    assert_int_equal(w.alerts[HH_TMA_DUP_FILL], 1);
    assert_int_equal(w.operator_alerts[HH_TMA_DUP_FILL], 0);
    assert_int_equal(w.last_rc[HH_TMA_DUP_FILL], HH_EEXIST);
    assert_non_null(strstr(w.last_detail[HH_TMA_DUP_FILL], "duplicate fill, exec id"));
    f.exec_id += 1000;
    w.esink(w.ectx, &f);
    assert_int_equal(hh_tm_exec_stats(w.tm)->refusals, 1);
    assert_int_equal(hh_tm_exec_stats(w.tm)->dup_fills, 2);
    assert_int_equal(w.last_rc[HH_TMA_DUP_FILL], 0);
    assert_int_equal(w.fills, fills);
    assert_int_equal(hh_tm_position(w.tm, w.iid[0]), 10);
    assert_int_equal(ref_of(&w, P_ENTRY)->ord.filled, 10);
    assert_int_equal(ref_of(&w, P_ENTRY)->ord.state, HH_OS_FILLED);
    q = lw_persist_end(&w, db);
    assert_string_equal(db_text(q, "SELECT json_extract(payload, '$.alert') || ' ' || "
                                   "json_extract(payload, '$.operator_alert') FROM audit "
                                   "WHERE kind = 'ALERT'"), "DUP_FILL 0");
    assert_string_equal(db_text(q, "SELECT count(*) FROM fills"), "1");
    sqlite3_close(q);
    assert_no_violation(&w);
    lw_free(&w);
}

/* An entry partially filled, then cancelled when the stop trades, a fill
 * arriving while the cancel travels: every order event carries the state
 * its machine has (a fill during the cancel leaves it CANCEL_PENDING), and
 * the store's orders table ends with the machine's final state. */
static void test_live_partial_then_cancelled_states(void **state)
{
    struct lw w = { 0 };
    struct hh_signal s;
    char db[600];
    sqlite3 *q;

    (void)state;
    lw_defaults(&w);
    w.pc.fill_ratio = HH_RATIO_SCALE / 4;   /* 2 units of a tick of 8 */
    w.pc.latency = 300 * MS;                /* a cancel takes effect 300 ms later */
    lw_persist(&w, "live_states.db", db, sizeof db);
    lw_start(&w);
    snprintf(w.watch, sizeof w.watch, "h1e1");
    s = mksig(&w, "a", 0, HH_BUY, P(100), P(98), P(104), 0, 10);
    lw_signal(&w, &s);
    lw_tick(&w, 0, day0() + 1 * S, P(100), 8);      /* entry sent */
    lw_tick(&w, 0, day0() + 2 * S, P(100.5), 8);    /* 2 of 10 */
    lw_tick(&w, 0, day0() + 3 * S, P(100.5), 8);    /* 4 of 10 */
    assert_int_equal(ref_of(&w, P_ENTRY)->ord.state, HH_OS_PARTIAL);
    lw_tick(&w, 0, day0() + 4 * S, P(97.9), 8);     /* 6; the stop: cancel the rest */
    lw_tick(&w, 0, day0() + 4 * S + 100 * MS, P(97.9), 8);   /* 8, cancel on its way */
    /* the orders table shows the machine's state, not the fill's PARTIALLY_FILLED */
    assert_string_equal(lw_persisted(&w, db, "SELECT state FROM orders WHERE client_id = "
                                             "'h1e1'"), "CANCEL_PENDING");
    lw_advance(&w, day0() + 4 * S + 500 * MS);
    assert_int_equal(ref_of(&w, P_ENTRY)->ord.state, HH_OS_CANCELLED);
    assert_int_equal(ref_of(&w, P_ENTRY)->ord.filled, 8);
    assert_string_equal(w.states, "SENT=SENT ACK=OPEN FILL=PARTIALLY_FILLED "
                                  "FILL=PARTIALLY_FILLED FILL=PARTIALLY_FILLED "
                                  "CANCEL=CANCEL_PENDING FILL=CANCEL_PENDING "
                                  "CANCELLED=CANCELLED");
    q = lw_persist_end(&w, db);
    assert_string_equal(db_text(q, "SELECT state FROM orders WHERE client_id = 'h1e1'"),
                        "CANCELLED");
    assert_string_equal(db_text(q, "SELECT kind || ':' || filled FROM order_events WHERE "
                                   "client_id = 'h1e1' ORDER BY id"),
                        "ACK:0 FILL:2 FILL:4 FILL:6 FILL:8 CANCELLED:8");
    sqlite3_close(q);
    assert_no_violation(&w);
    lw_free(&w);
}

/* A broker that rejects the rest of a part-filled order (its views say
 * REJECTED with fills; the stream lost the end): the poll ends the order
 * locally as CANCELLED for the remainder — the broker's view wins, the
 * fills stay booked, nothing is refused, and the next poll finds nothing. */
static void test_live_rejected_after_fills_ends_at_poll(void **state)
{
    struct lw w = { 0 };
    struct hh_signal s;
    struct order_ref *e;
    int divergences;

    (void)state;
    lw_defaults(&w);
    w.pc.fill_ratio = HH_RATIO_SCALE / 4;   /* 2 units of a tick of 8 */
    lw_start(&w);
    s = mksig(&w, "a", 0, HH_BUY, P(100), P(98), P(104), 0, 10);
    lw_signal(&w, &s);
    lw_tick(&w, 0, day0() + 1 * S, P(100), 8);      /* entry sent */
    lw_tick(&w, 0, day0() + 2 * S, P(100.5), 8);    /* 2 of 10 */
    e = ref_of(&w, P_ENTRY);
    assert_int_equal(e->ord.state, HH_OS_PARTIAL);
    w.muted = w.shown_rejected = e->boid;
    assert_int_equal(w.inner.ops->cancel(w.inner.impl, e->boid), HH_OK);
    lw_advance(&w, day0() + 2 * S + 10 * MS);
    assert_false(ref_of(&w, P_ENTRY)->done);          /* the end was lost */
    lw_poll(&w);
    e = ref_of(&w, P_ENTRY);
    assert_int_equal(e->ord.state, HH_OS_CANCELLED);
    assert_true(e->done);
    assert_int_equal(e->ord.filled, 2);
    assert_int_equal(hh_tm_position(w.tm, w.iid[0]), 2);
    assert_int_equal(hh_tm_exec_stats(w.tm)->refusals, 0);
    divergences = w.divergences;
    lw_poll(&w);
    assert_int_equal(w.divergences, divergences);
    assert_no_violation(&w);
    lw_free(&w);
}

/* ---- 6. property test over seeded fault schedules --------------------------------- */

static uint64_t rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static int rn(uint64_t *s, int n)
{
    return (int)(rnd(s) % (uint64_t)n);
}

static hh_price_t round_tick(hh_price_t p)
{
    return (p + TICK / 2) / TICK * TICK;
}

struct tally {
    uint64_t schedules, fills, closed, stops, stop_markets, stop_failed, timeouts, found,
        refused, unavailable, dup_fills, divergences, polls, polls_failed, retries, opened,
        rejected_unavail, dropped_reports, partial, cancel_raced, refusals;
};

/* One schedule; returns the number of violations. */
static int run_schedule(uint64_t seed, bool trace, struct tally *ty)
{
    struct lw w = { 0 };
    uint64_t r = seed * 0x2545F4914F6CDD1DULL + 1;
    hh_price_t px[2] = { P(100), P(250) };
    hh_time_t t = day0(), end_trading = day0() + 90 * S, end = day0() + 150 * S;
    int nsig = 0;
    static const int drop[] = { 0, 5, 20, 50 }, delay[] = { 0, 250, 1500 },
                     tmo[] = { 0, 5, 20 }, lat[] = { 0, 50, 400 };

    lw_defaults(&w);
    w.trace = trace;
    w.pc.seed = seed;
    w.pc.drop_update_pct = drop[rn(&r, 4)] * HH_RATIO_SCALE;
    w.pc.delay_update = delay[rn(&r, 3)] * MS;
    w.pc.timeout_pct = tmo[rn(&r, 3)] * HH_RATIO_SCALE;
    w.pc.reject_pct = rn(&r, 4) == 0 ? 3 * HH_RATIO_SCALE : 0;
    w.pc.latency = lat[rn(&r, 3)] * MS;
    w.pc.fill_ratio = rn(&r, 3) == 0 ? HH_RATIO_SCALE / 5 : rn(&r, 2) ? HH_RATIO_SCALE
                                                                       : HH_RATIO_SCALE / 2;
    w.pc.n_unavailable = rn(&r, 3);
    for (int i = 0; i < w.pc.n_unavailable; i++) {
        int64_t from = HH_TOD(9, 15) + rn(&r, 100) * S;

        w.pc.unavailable[i].from = from;
        w.pc.unavailable[i].to = from + (2 + rn(&r, 24)) * S;
    }
    w.pc.n_disconnect = rn(&r, 3);
    for (int i = 0; i < w.pc.n_disconnect; i++) {
        int64_t from = HH_TOD(9, 15) + rn(&r, 100) * S;

        w.pc.disconnect[i].from = from;
        w.pc.disconnect[i].to = from + (1 + rn(&r, 20)) * S;
    }
    w.cfg.retry_seed = seed;
    if (rn(&r, 4) == 0) {   /* a square-off during the run */
        w.cfg.squareoff_set = w.cfg.squareoff_explicit = true;
        w.cfg.squareoff = HH_TOD(9, 15) + (40 + rn(&r, 60)) * S;
    }
    lw_start(&w);
    if (trace)
        printf("seed %llu: drop %lld delay %lld timeout %lld reject %lld latency %lld "
               "fill %lld unavailable %d disconnect %d\n", (unsigned long long)seed,
               (long long)(w.pc.drop_update_pct / HH_RATIO_SCALE),
               (long long)(w.pc.delay_update / MS),
               (long long)(w.pc.timeout_pct / HH_RATIO_SCALE),
               (long long)(w.pc.reject_pct / HH_RATIO_SCALE), (long long)(w.pc.latency / MS),
               (long long)w.pc.fill_ratio, w.pc.n_unavailable, w.pc.n_disconnect);
    while (t < end && !w.violations) {
        int k = rn(&r, 2);
        int64_t step = (150 + rn(&r, 600)) * MS;
        int move = rn(&r, 100);

        t += step;
        if (move < 3)
            px[k] += (rn(&r, 2) ? 1 : -1) * px[k] / 50;            /* a 2 % gap */
        else
            px[k] += (rn(&r, 3) - 1) * TICK * (1 + rn(&r, 4));
        px[k] = round_tick(px[k] < P(10) ? P(10) : px[k]);
        if (t < end_trading && rn(&r, 12) == 0 && nsig < 40) {
            char id[16];
            enum hh_side side = rn(&r, 2) ? HH_BUY : HH_SELL;
            hh_price_t e = round_tick(px[k] + (rn(&r, 5) - 2) * TICK);
            hh_price_t risk = round_tick(e / 100 + rn(&r, 4) * TICK);
            hh_price_t st = side == HH_BUY ? e - risk : e + risk;
            hh_price_t t1 = side == HH_BUY ? e + 2 * risk : e - 2 * risk;
            hh_price_t t2 = side == HH_BUY ? e + 3 * risk : e - 3 * risk;
            struct hh_signal s;

            lw_advance(&w, t);
            snprintf(id, sizeof id, "s%d", nsig++);
            s = mksig(&w, id, k, side, e, st, t1, rn(&r, 2) ? t2 : 0, 1 + rn(&r, 20));
            lw_signal(&w, &s);
        }
        lw_tick(&w, k, t, px[k], 1 + rn(&r, 60));
    }
    /* drain: quiet market, polls until nothing is in flight */
    for (int i = 0; i < 40 && !w.violations; i++) {
        t += 1 * S;
        lw_tick(&w, i % 2, t, px[i % 2], 100);
    }
    lw_advance(&w, t + 13 * S);
    lw_poll(&w);
    for (int k = 0; k < 2 && !w.violations; k++)
        if (hh_tm_position(w.tm, w.iid[k]) != paper_pos(&w, k))
            lw_fail(&w, "%s: engine position %lld, broker %lld after the last poll",
                    k ? "TCS" : "INFY", (long long)hh_tm_position(w.tm, w.iid[k]),
                    (long long)paper_pos(&w, k));
    if (hh_paper_stats(w.paper)->dup_client_ids)
        lw_fail(&w, "%llu client ids placed twice",
                (unsigned long long)hh_paper_stats(w.paper)->dup_client_ids);
    check_exits(&w);
    {
        const struct hh_tm_exec_stats *ls = hh_tm_exec_stats(w.tm);
        const struct hh_paper_stats *ps = hh_paper_stats(w.paper);

        ty->schedules++;
        ty->fills += (uint64_t)w.fills;
        ty->closed += (uint64_t)w.closed;
        ty->stops += ls->stops;
        ty->stop_markets += ls->stop_markets;
        ty->stop_failed += ls->stop_failed;
        ty->timeouts += ls->timeouts;
        ty->found += ls->found;
        ty->refused += ls->refused;
        ty->dup_fills += ls->dup_fills;
        ty->refusals += ls->refusals;
        ty->divergences += (uint64_t)w.divergences;
        ty->polls += ls->polls;
        ty->polls_failed += ls->polls_failed;
        ty->retries += ls->retries;
        ty->opened += (uint64_t)w.opened;
        ty->rejected_unavail += ls->broker_unavailable;
        ty->unavailable += ps->unavailable;
        ty->dropped_reports += ps->dropped + ps->disconnect_lost;
        ty->partial += ps->partial_fills;
        ty->cancel_raced += ps->cancel_raced + ps->cancel_too_late;
    }
    if (w.violations)
        printf("seed %llu: %s (replay: HH_LIVE_SEED=%llu)\n", (unsigned long long)seed, w.why,
               (unsigned long long)seed);
    {
        int v = w.violations;

        lw_free(&w);
        return v;
    }
}

static void test_property_fault_schedules(void **state)
{
    const char *one = getenv("HH_LIVE_SEED"), *cnt = getenv("HH_LIVE_SCHEDULES");
    uint64_t n = cnt ? strtoull(cnt, NULL, 10) : 10000;
    struct tally ty = { 0 };
    int bad = 0;

    (void)state;
    if (one) {
        assert_int_equal(run_schedule(strtoull(one, NULL, 10), true, &ty), 0);
        return;
    }
    for (uint64_t seed = 1; seed <= n; seed++)
        bad += run_schedule(seed, false, &ty) != 0;
    printf("live property test: %llu schedules, %d failed\n"
           "  fills %llu, trades closed %llu, hybrid stops %llu (market remainder %llu, "
           "failed %llu)\n"
           "  placement timeouts %llu (found by client id %llu), retries %llu, 503 answers "
           "%llu\n"
           "  breaker opened %llu, calls refused %llu, entries BROKER_UNAVAILABLE %llu\n"
           "  reports lost %llu, duplicate/stale fills ignored %llu, partial fills %llu, "
           "cancel races %llu\n"
           "  reports and transitions the order machines refused %llu\n"
           "  polls %llu (failed %llu), divergences adopted %llu\n",
           (unsigned long long)ty.schedules, bad, (unsigned long long)ty.fills,
           (unsigned long long)ty.closed, (unsigned long long)ty.stops,
           (unsigned long long)ty.stop_markets, (unsigned long long)ty.stop_failed,
           (unsigned long long)ty.timeouts, (unsigned long long)ty.found,
           (unsigned long long)ty.retries, (unsigned long long)ty.unavailable,
           (unsigned long long)ty.opened, (unsigned long long)ty.refused,
           (unsigned long long)ty.rejected_unavail, (unsigned long long)ty.dropped_reports,
           (unsigned long long)ty.dup_fills, (unsigned long long)ty.partial,
           (unsigned long long)ty.cancel_raced, (unsigned long long)ty.refusals,
           (unsigned long long)ty.polls,
           (unsigned long long)ty.polls_failed, (unsigned long long)ty.divergences);
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_live_stop_fills_as_stop_limit),
        cmocka_unit_test(test_live_position_gone_at_broker_is_given_up),
        cmocka_unit_test(test_live_given_up_during_stop_never_oversells),
        cmocka_unit_test(test_live_oversell_adopted_when_the_next_poll_agrees),
        cmocka_unit_test(test_live_oversell_seen_once_not_adopted),
        cmocka_unit_test(test_live_exit_capped_when_sent),
        cmocka_unit_test(test_live_gap_through_limit_markets_remainder),
        cmocka_unit_test(test_live_duplicate_fills_ignored),
        cmocka_unit_test(test_live_timeout_found_by_client_id),
        cmocka_unit_test(test_live_nothing_sent_before_durable),
        cmocka_unit_test(test_live_kill_pause_and_resume),
        cmocka_unit_test(test_live_kill_reduce),
        cmocka_unit_test(test_live_kill_halt_then_flatten),
        cmocka_unit_test(test_live_stop_sends_no_entry),
        cmocka_unit_test(test_live_stop_unknown_entry_never_placed_again),
        cmocka_unit_test(test_live_halt_cancels_unknown_entry_once_found),
        cmocka_unit_test(test_live_halt_cancels_entry_listed_after_grace),
        cmocka_unit_test(test_live_flatten_closes_stray_entry_fill),
        cmocka_unit_test(test_live_redecided_exit_stray_cancelled),
        cmocka_unit_test(test_live_redecided_exit_stray_oversell_bought_back),
        cmocka_unit_test(test_live_market_needs),
        cmocka_unit_test(test_live_views_and_exit_trade),
        cmocka_unit_test(test_scenario_3_breaker),
        cmocka_unit_test(test_scenario_7_one_slot),
        cmocka_unit_test(test_live_restart_mid_stop),
        cmocka_unit_test(test_live_queued_order_found_after_restart),
        cmocka_unit_test(test_live_fill_after_cancel_refused),
        cmocka_unit_test(test_live_duplicate_exec_id_refused),
        cmocka_unit_test(test_live_partial_then_cancelled_states),
        cmocka_unit_test(test_live_rejected_after_fills_ends_at_poll),
        cmocka_unit_test(test_property_fault_schedules),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
