/*
 * test_paper.c — the paper broker and the resilience modules together.
 *
 *  1. The paper broker alone: queries from its own book, each fault
 *     (503 windows, timeouts whose order exists, dropped, delayed,
 *     disconnected, duplicated and reordered updates, a lagging order
 *     book, cancel/fill races, partial fills, exchange rejections, the
 *     external actions close_position, cancel_orders and reject_next),
 *     determinism per seed, snapshot/restore, files and autosave (the state
 *     durable before anything about a change leaves), the config mapping.
 *  2. Seed scenario 3 end to end: retry with backoff, the circuit breaker
 *     opening on a 503 burst, orders refused at once, the alert, recovery
 *     through one probe.
 *  3. The hybrid stop-loss against the paper exchange (gap through the
 *     limit; cancel ack dropped and resolved by a status poll).
 *  4. A property test over >= 10,000 seeded fault schedules: a small engine
 *     (retry, breaker, order state machines, hybrid stops, reduce-only
 *     exits, a 12 s reconciliation poll) trades against the paper broker
 *     and checks, at every step, that no position can be exited twice and
 *     that no market order is sent while its stop-limit may fill, and after
 *     every poll that its orders equal the broker's.  Duplicated fills are
 *     recognised by exec id (and must repeat the first report), an order
 *     the lagging book does not list yet is never taken for gone.  A
 *     failing seed is printed; HH_PAPER_SEED=N replays just that seed,
 *     verbosely, and HH_PAPER_SCHEDULES=N changes the number of schedules.
 *  5. The stream's faults never change the book: 400 seeded scripts of
 *     calls and ticks, run with the book's faults only and again with
 *     every stream fault and the book lag on top, give the same orders,
 *     positions and funds; copies of a fill repeat its first report; a
 *     second faulted run gives the same state byte for byte.
 */
#include "testutil.h"

#include "app/config.h"
#include "broker/paper.h"
#include "core/event.h"
#include "core/instrument.h"
#include "core/u64map.h"
#include "exec/breaker.h"
#include "exec/hybrid_sl.h"
#include "exec/order.h"
#include "exec/retry.h"

#define MS HH_NS_PER_MS
#define S HH_NS_PER_S
#define P(x) ((hh_price_t)((x) * HH_RUPEE))
#define PCT(x) ((hh_ratio_t)((x) * HH_RATIO_SCALE))
#define TICK 500                       /* 0.05 rupee */

/* ---- environment ------------------------------------------------------------ */

struct env {
    struct hh_instruments *inst;
    hh_iid_t iid[2];
    struct hh_clock clock;
    struct hh_paper *p;
    struct hh_broker b;
    struct hh_report rep[512];         /* reports delivered, in order */
    int nrep;
};

static hh_time_t day0(void)
{
    return hh_time_from_ist(hh_date_from_ymd(2025, 1, 2), HH_TOD(9, 15));
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

static void on_report(void *ctx, const struct hh_report *r)
{
    struct env *e = ctx;

    if (e->nrep < 512)
        e->rep[e->nrep++] = *r;
}

static struct env *env_new(const struct hh_paper_config *cfg)
{
    struct env *e = calloc(1, sizeof *e);

    assert_non_null(e);
    e->inst = make_inst(e->iid);
    hh_clock_init(&e->clock, true);
    hh_clock_advance(&e->clock, day0());
    e->p = hh_paper_new(e->inst, &e->clock, cfg);
    assert_non_null(e->p);
    e->b = hh_paper_broker(e->p);
    e->b.ops->set_sink(e->b.impl, on_report, e);
    return e;
}

static void env_free(struct env *e)
{
    hh_paper_free(e->p);
    hh_inst_free(e->inst);
    free(e);
}

/* Move the clock to day0 + dt and pump. */
static void at(struct env *e, int64_t dt)
{
    assert_int_equal(hh_clock_advance(&e->clock, day0() + dt), HH_OK);
    hh_paper_pump(e->p);
}

static void tick(struct env *e, int k, hh_price_t px, hh_qty_t qty)
{
    struct hh_tick t = { .ts = e->clock.now, .iid = e->iid[k], .price = px, .qty = qty };

    e->b.ops->on_tick(e->b.impl, &t);
}

static struct hh_order_req order(struct env *e, const char *cid, int k, enum hh_side side,
                                 enum hh_ord_type type, hh_qty_t qty, hh_price_t limit,
                                 hh_price_t trigger)
{
    struct hh_order_req r;

    memset(&r, 0, sizeof r);
    snprintf(r.client_id, sizeof r.client_id, "%s", cid);
    r.iid = e->iid[k];
    r.side = side;
    r.type = type;
    r.qty = qty;
    r.limit = limit;
    r.trigger = trigger;
    return r;
}

static int count_kind(const struct env *e, enum hh_report_kind k)
{
    int n = 0;

    for (int i = 0; i < e->nrep; i++)
        n += e->rep[i].kind == k;
    return n;
}

static struct hh_paper_window win(int h1, int m1, int s1, int h2, int m2, int s2)
{
    return (struct hh_paper_window){ HH_TOD(h1, m1) + s1 * S, HH_TOD(h2, m2) + s2 * S };
}

static struct hh_paper_external ext_tod(int64_t tod, enum hh_paper_ext_action a,
                                        const char *sym)
{
    struct hh_paper_external x = { .tod = true, .at = tod, .action = a };

    snprintf(x.symbol, sizeof x.symbol, "%s", sym);
    return x;
}

/* The book is the truth: each position is the sum of its orders' fills,
 * the broker's own orders included. */
static void assert_book_sums(const struct env *e)
{
    hh_qty_t sum[2] = { 0, 0 };

    for (size_t id = 1; id <= hh_paper_order_count(e->p); id++) {
        struct hh_broker_order b;

        assert_int_equal(hh_paper_peek(e->p, id, &b), HH_OK);
        for (int k = 0; k < 2; k++)
            if (b.iid == e->iid[k])
                sum[k] += b.side == HH_BUY ? b.filled : -b.filled;
    }
    for (int k = 0; k < 2; k++)
        assert_int_equal(sum[k], hh_paper_position(e->p, e->iid[k]));
}

/* A process restart at the current time: the broker rebuilt from its
 * snapshot (reports not yet delivered are lost, as with a WebSocket). */
static void env_restart(struct env *e, const struct hh_paper_config *cfg)
{
    void *blob;
    size_t len;
    struct hh_diag d;

    assert_int_equal(hh_paper_snapshot(e->p, &blob, &len), HH_OK);
    hh_paper_free(e->p);
    e->p = hh_paper_restore(e->inst, &e->clock, cfg, blob, len, &d);
    free(blob);
    assert_non_null(e->p);
    e->b = hh_paper_broker(e->p);
    e->b.ops->set_sink(e->b.impl, on_report, e);
}

/* ---- 1. the paper broker alone ------------------------------------------------ */

static void test_book_and_queries(void **state)
{
    struct hh_paper_config cfg;
    struct env *e;
    struct hh_order_req r;
    struct hh_broker_order bo, list[8];
    struct hh_broker_position pos[4];
    uint64_t id1, id2;
    size_t n;
    hh_money_t funds;

    (void)state;
    hh_paper_config_defaults(&cfg);
    e = env_new(&cfg);
    r = order(e, "E1", 0, HH_BUY, HH_ORD_MARKET, 100, 0, 0);
    assert_int_equal(e->b.ops->place(e->b.impl, &r, &id1), HH_OK);
    r = order(e, "T1", 0, HH_SELL, HH_ORD_LIMIT, 60, P(1010), 0);
    assert_int_equal(e->b.ops->place(e->b.impl, &r, &id2), HH_OK);
    /* no report from inside the call: the ACKs come with the next pump */
    assert_int_equal(e->nrep, 0);
    at(e, 0);
    assert_int_equal(count_kind(e, HH_RPT_ACK), 2);
    at(e, 1 * S);
    tick(e, 0, P(1000), 1000);
    assert_int_equal(count_kind(e, HH_RPT_FILL), 1);
    assert_int_equal(e->rep[2].order_id, id1);
    assert_int_equal(e->rep[2].filled, 100);
    assert_int_equal(e->rep[2].leaves, 0);
    assert_int_equal(e->rep[2].exec_id, 1);
    at(e, 2 * S);
    tick(e, 0, P(1010), 1000);
    assert_int_equal(count_kind(e, HH_RPT_FILL), 2);
    assert_int_equal(e->rep[3].exec_id, 2);
    assert_int_equal(e->rep[3].price, P(1010));
    /* queries from the book */
    assert_int_equal(e->b.ops->find(e->b.impl, "T1", &bo), HH_OK);
    assert_int_equal(bo.order_id, id2);
    assert_int_equal(bo.state, HH_OS_FILLED);
    assert_int_equal(bo.avg_price, P(1010));
    assert_int_equal(e->b.ops->find(e->b.impl, "nope", &bo), HH_ENOTFOUND);
    assert_int_equal(e->b.ops->status(e->b.impl, id1, &bo), HH_OK);
    assert_string_equal(bo.client_id, "E1");
    assert_int_equal(e->b.ops->status(e->b.impl, 99, &bo), HH_ENOTFOUND);
    assert_int_equal(e->b.ops->orders(e->b.impl, list, 8, &n), HH_OK);
    assert_int_equal(n, 2);
    assert_int_equal(e->b.ops->orders(e->b.impl, list, 1, &n), HH_OK);
    assert_int_equal(n, 2);                        /* total, beyond cap */
    assert_int_equal(e->b.ops->positions(e->b.impl, pos, 4, &n), HH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(pos[0].iid, e->iid[0]);
    assert_int_equal(pos[0].qty, 40);
    assert_int_equal(pos[0].avg_price, P(1000));
    assert_int_equal(e->b.ops->funds(e->b.impl, &funds), HH_OK);
    assert_int_equal(funds, cfg.capital + 60 * P(10));   /* realised on the 60 sold */
    assert_int_equal(hh_paper_position(e->p, e->iid[0]), 40);
    assert_int_equal(hh_paper_position(e->p, e->iid[1]), 0);
    /* a cancel of a filled order is too late; bad requests are refused */
    assert_int_equal(e->b.ops->cancel(e->b.impl, id2), HH_ESTATE);
    assert_int_equal(e->b.ops->modify(e->b.impl, id2, 10, 0, 0), HH_ESTATE);
    assert_int_equal(e->b.ops->cancel(e->b.impl, 99), HH_ENOTFOUND);
    r = order(e, "X", 0, HH_BUY, HH_ORD_LIMIT, 10, 0, 0);
    assert_int_equal(e->b.ops->place(e->b.impl, &r, &id1), HH_EINVAL);
    assert_int_equal(hh_paper_stats(e->p)->cancel_too_late, 1);
    env_free(e);
}

static void test_unavailable_window(void **state)
{
    struct hh_paper_config cfg;
    struct env *e;
    struct hh_order_req r;
    struct hh_broker_order bo;
    uint64_t id, id0;
    size_t n;
    hh_money_t f;

    (void)state;
    hh_paper_config_defaults(&cfg);
    cfg.n_unavailable = 1;
    cfg.unavailable[0] = win(9, 15, 10, 9, 15, 20);
    e = env_new(&cfg);
    r = order(e, "W1", 0, HH_BUY, HH_ORD_LIMIT, 10, P(990), 0);
    assert_int_equal(e->b.ops->place(e->b.impl, &r, &id0), HH_OK);
    at(e, 10 * S);
    assert_true(hh_paper_unavailable_at(e->p, e->clock.now));
    r = order(e, "A1", 0, HH_BUY, HH_ORD_MARKET, 10, 0, 0);
    assert_int_equal(e->b.ops->place(e->b.impl, &r, &id), HH_EUNAVAIL);
    assert_int_equal(e->b.ops->cancel(e->b.impl, id0), HH_EUNAVAIL);
    assert_int_equal(e->b.ops->modify(e->b.impl, id0, 0, P(995), 0), HH_EUNAVAIL);
    assert_int_equal(e->b.ops->find(e->b.impl, "W1", &bo), HH_EUNAVAIL);
    assert_int_equal(e->b.ops->status(e->b.impl, id0, &bo), HH_EUNAVAIL);
    assert_int_equal(e->b.ops->orders(e->b.impl, &bo, 1, &n), HH_EUNAVAIL);
    assert_int_equal(e->b.ops->positions(e->b.impl, NULL, 0, &n), HH_EUNAVAIL);
    assert_int_equal(e->b.ops->funds(e->b.impl, &f), HH_EUNAVAIL);
    /* nothing happened */
    assert_int_equal(hh_paper_order_count(e->p), 1);
    assert_int_equal(hh_paper_peek(e->p, id0, &bo), HH_OK);
    assert_int_equal(bo.state, HH_OS_OPEN);
    assert_int_equal(bo.limit, P(990));
    assert_int_equal(hh_paper_stats(e->p)->unavailable, 8);
    /* the market keeps trading meanwhile: the working order fills */
    tick(e, 0, P(989), 100);
    assert_int_equal(hh_paper_position(e->p, e->iid[0]), 10);
    at(e, 20 * S);                                  /* [from, to): over */
    assert_int_equal(e->b.ops->place(e->b.impl, &r, &id), HH_OK);
    env_free(e);
}

static void test_timeout_order_exists(void **state)
{
    struct hh_paper_config cfg;
    struct env *e;
    struct hh_order_req r;
    struct hh_broker_order bo;
    uint64_t id = 0;

    (void)state;
    hh_paper_config_defaults(&cfg);
    cfg.timeout_pct = PCT(100);
    e = env_new(&cfg);
    r = order(e, "TO1", 0, HH_BUY, HH_ORD_MARKET, 10, 0, 0);
    assert_int_equal(e->b.ops->place(e->b.impl, &r, &id), HH_ETIMEOUT);
    assert_int_equal(id, 0);                        /* no id: the outcome is unknown */
    /* it exists: found by its client id; it works and fills */
    assert_int_equal(e->b.ops->find(e->b.impl, "TO1", &bo), HH_OK);
    assert_int_equal(bo.state, HH_OS_OPEN);
    at(e, 1 * S);
    tick(e, 0, P(1000), 100);
    assert_int_equal(hh_paper_position(e->p, e->iid[0]), 10);
    /* placing again blindly would double it: the broker does not
     * de-duplicate, it only counts (the crash tests check this is 0) */
    assert_int_equal(e->b.ops->place(e->b.impl, &r, &id), HH_ETIMEOUT);
    assert_int_equal(hh_paper_stats(e->p)->dup_client_ids, 1);
    assert_int_equal(hh_paper_stats(e->p)->timeouts, 2);
    assert_int_equal(e->b.ops->find(e->b.impl, "TO1", &bo), HH_OK);
    assert_int_equal(bo.order_id, 2);               /* the latest */
    env_free(e);
}

static void test_dropped_updates_book_still_true(void **state)
{
    struct hh_paper_config cfg;
    struct env *e;
    struct hh_order_req r;
    uint64_t id;
    hh_qty_t bought = 0;
    struct hh_u64map seen;

    (void)state;
    hh_paper_config_defaults(&cfg);
    cfg.drop_update_pct = PCT(50);
    cfg.fill_ratio = HH_RATIO_SCALE / 10;           /* partial fills */
    e = env_new(&cfg);
    hh_u64map_init(&seen, 64);
    for (int i = 0; i < 20; i++) {
        char cid[HH_CLIENT_ID_MAX];

        snprintf(cid, sizeof cid, "D%d", i);
        r = order(e, cid, 0, HH_BUY, HH_ORD_MARKET, 25, 0, 0);
        assert_int_equal(e->b.ops->place(e->b.impl, &r, &id), HH_OK);
        bought += 25;
    }
    for (int i = 1; i <= 40; i++) {
        at(e, i * S);
        tick(e, 0, P(1000), 100);                   /* 10 units per tick */
    }
    /* the book has every fill, the stream lost about half */
    assert_int_equal(hh_paper_position(e->p, e->iid[0]), 400);
    assert_true(hh_paper_stats(e->p)->dropped > 0);
    assert_true(count_kind(e, HH_RPT_FILL) < (int)hh_paper_stats(e->p)->fills);
    assert_true(hh_paper_stats(e->p)->partial_fills > 0);
    for (int i = 0; i < e->nrep; i++) {
        uint64_t v;

        if (e->rep[i].kind != HH_RPT_FILL)
            continue;
        assert_false(hh_u64map_get(&seen, e->rep[i].exec_id, &v));   /* never twice */
        hh_u64map_put(&seen, e->rep[i].exec_id, 1);
    }
    (void)bought;
    hh_u64map_free(&seen);
    env_free(e);
}

static void test_delayed_and_disconnected_updates(void **state)
{
    struct hh_paper_config cfg;
    struct env *e;
    struct hh_order_req r;
    struct hh_broker_order bo;
    uint64_t id;

    (void)state;
    hh_paper_config_defaults(&cfg);
    cfg.delay_update = 700 * MS;
    cfg.n_disconnect = 1;
    cfg.disconnect[0] = win(9, 15, 5, 9, 15, 8);
    e = env_new(&cfg);
    r = order(e, "L1", 0, HH_BUY, HH_ORD_MARKET, 10, 0, 0);
    assert_int_equal(e->b.ops->place(e->b.impl, &r, &id), HH_OK);
    at(e, 500 * MS);
    assert_int_equal(e->nrep, 0);                    /* not yet */
    assert_int_equal(hh_paper_next_due(e->p), day0() + 700 * MS);
    at(e, 700 * MS);
    assert_int_equal(e->nrep, 1);                    /* the ACK, 700 ms late */
    tick(e, 0, P(1000), 100);
    assert_int_equal(e->nrep, 1);
    at(e, 1400 * MS);
    assert_int_equal(e->nrep, 2);
    assert_int_equal(e->rep[1].kind, HH_RPT_FILL);
    assert_int_equal(e->rep[1].ts, day0() + 700 * MS);   /* event time kept */
    /* during the disconnect, reports are lost; queries work */
    at(e, 5 * S);
    r = order(e, "L2", 0, HH_SELL, HH_ORD_MARKET, 10, 0, 0);
    assert_int_equal(e->b.ops->place(e->b.impl, &r, &id), HH_OK);
    tick(e, 0, P(1001), 100);
    at(e, 6 * S);
    assert_true(hh_paper_disconnected_at(e->p, e->clock.now));
    assert_int_equal(e->nrep, 2);
    assert_int_equal(hh_paper_stats(e->p)->disconnect_lost, 2);   /* ACK and FILL */
    assert_int_equal(e->b.ops->status(e->b.impl, id, &bo), HH_OK);
    assert_int_equal(bo.state, HH_OS_FILLED);
    assert_int_equal(hh_paper_position(e->p, e->iid[0]), 0);
    env_free(e);
}

static void test_cancel_fill_race(void **state)
{
    struct hh_paper_config cfg;
    struct env *e;
    struct hh_order_req r;
    struct hh_broker_order bo;
    uint64_t id, id2;

    (void)state;
    hh_paper_config_defaults(&cfg);
    cfg.latency = 300 * MS;
    e = env_new(&cfg);
    r = order(e, "R1", 0, HH_SELL, HH_ORD_LIMIT, 10, P(1005), 0);
    assert_int_equal(e->b.ops->place(e->b.impl, &r, &id), HH_OK);
    r = order(e, "R2", 0, HH_SELL, HH_ORD_LIMIT, 10, P(1050), 0);
    assert_int_equal(e->b.ops->place(e->b.impl, &r, &id2), HH_OK);
    at(e, 1 * S);
    /* the cancel is accepted but travels 300 ms; the fill gets there first */
    assert_int_equal(e->b.ops->cancel(e->b.impl, id), HH_OK);
    assert_int_equal(e->b.ops->cancel(e->b.impl, id), HH_OK);     /* idempotent */
    assert_int_equal(e->b.ops->cancel(e->b.impl, id2), HH_OK);
    at(e, 1100 * MS);
    tick(e, 0, P(1006), 100);
    assert_int_equal(hh_paper_peek(e->p, id, &bo), HH_OK);
    assert_int_equal(bo.state, HH_OS_FILLED);
    at(e, 1300 * MS);
    assert_int_equal(hh_paper_peek(e->p, id2, &bo), HH_OK);
    assert_int_equal(bo.state, HH_OS_CANCELLED);
    assert_int_equal(hh_paper_stats(e->p)->cancel_raced, 1);
    assert_int_equal(hh_paper_stats(e->p)->cancelled, 1);
    /* the stream shows the fill, never a CANCELLED, for R1 */
    for (int i = 0; i < e->nrep; i++)
        if (e->rep[i].order_id == id)
            assert_int_not_equal(e->rep[i].kind, HH_RPT_CANCELLED);
    /* and a cancel now is "too late" at once */
    assert_int_equal(e->b.ops->cancel(e->b.impl, id), HH_ESTATE);
    env_free(e);
}

static void test_exchange_rejection_and_modify(void **state)
{
    struct hh_paper_config cfg;
    struct env *e;
    struct hh_order_req r;
    struct hh_broker_order bo;
    uint64_t id;

    (void)state;
    hh_paper_config_defaults(&cfg);
    cfg.reject_pct = PCT(100);
    e = env_new(&cfg);
    r = order(e, "J1", 0, HH_BUY, HH_ORD_LIMIT, 10, P(990), 0);
    assert_int_equal(e->b.ops->place(e->b.impl, &r, &id), HH_OK);   /* HTTP 200 ... */
    at(e, 0);
    assert_int_equal(e->nrep, 1);
    assert_int_equal(e->rep[0].kind, HH_RPT_REJECTED);            /* ... then rejected */
    assert_int_equal(count_kind(e, HH_RPT_ACK), 0);
    assert_int_equal(hh_paper_peek(e->p, id, &bo), HH_OK);
    assert_int_equal(bo.state, HH_OS_REJECTED);
    env_free(e);

    hh_paper_config_defaults(&cfg);
    e = env_new(&cfg);
    r = order(e, "M1", 0, HH_BUY, HH_ORD_LIMIT, 10, P(990), 0);
    e->b.ops->place(e->b.impl, &r, &id);
    assert_int_equal(e->b.ops->modify(e->b.impl, id, 6, P(1001), 0), HH_OK);
    assert_int_equal(e->b.ops->modify(e->b.impl, id, -1, 0, 0), HH_EINVAL);
    at(e, 1 * S);
    assert_int_equal(e->rep[1].kind, HH_RPT_MODIFIED);
    assert_int_equal(e->rep[1].leaves, 6);
    tick(e, 0, P(1000), 100);
    assert_int_equal(hh_paper_position(e->p, e->iid[0]), 6);
    env_free(e);
}

static void test_determinism(void **state)
{
    void *blob[2];
    size_t len[2];
    struct hh_report *rep[2];
    int nrep[2];

    (void)state;
    for (int run = 0; run < 2; run++) {
        struct hh_paper_config cfg;
        struct env *e;

        hh_paper_config_defaults(&cfg);
        cfg.seed = 77;
        cfg.drop_update_pct = PCT(30);
        cfg.timeout_pct = PCT(20);
        cfg.reject_pct = PCT(10);
        cfg.fill_ratio = HH_RATIO_SCALE / 4;
        cfg.duplicate_update_pct = PCT(20);
        cfg.reorder_update_pct = PCT(20);
        cfg.book_lag = 300 * MS;
        cfg.n_external = 3;
        cfg.external[0] = ext_tod(HH_TOD(9, 15) + 2 * S, HH_PAPER_EXT_CLOSE_POSITION, "INFY");
        cfg.external[1] = ext_tod(HH_TOD(9, 15) + 3 * S, HH_PAPER_EXT_CANCEL_ORDERS, "TCS");
        cfg.external[2] = ext_tod(HH_TOD(9, 15) + 4 * S, HH_PAPER_EXT_REJECT_NEXT, "TCS");
        e = env_new(&cfg);
        for (int i = 0; i < 50; i++) {
            char cid[HH_CLIENT_ID_MAX];
            struct hh_order_req r;
            uint64_t id;
            struct hh_broker_order bo;

            snprintf(cid, sizeof cid, "Q%d", i);
            r = order(e, cid, i % 2, i % 3 ? HH_BUY : HH_SELL, HH_ORD_MARKET, 7 + i, 0, 0);
            e->b.ops->place(e->b.impl, &r, &id);
            e->b.ops->find(e->b.impl, cid, &bo);
            at(e, (i + 1) * 100 * MS);
            tick(e, i % 2, P(1000) + i * TICK, 40);
        }
        at(e, 10 * S);
        assert_int_equal(hh_paper_snapshot(e->p, &blob[run], &len[run]), HH_OK);
        assert_true(hh_paper_stats(e->p)->duplicated > 0);
        assert_true(hh_paper_stats(e->p)->reordered > 0);
        assert_true(hh_paper_stats(e->p)->lag_hidden > 0);
        assert_int_equal(hh_paper_stats(e->p)->external, 3);
        nrep[run] = e->nrep;
        rep[run] = malloc(sizeof e->rep);
        assert_non_null(rep[run]);
        memcpy(rep[run], e->rep, sizeof e->rep);
        env_free(e);
    }
    /* the same seed and calls: the same book, the same stream */
    assert_int_equal(len[0], len[1]);
    assert_memory_equal(blob[0], blob[1], len[0]);
    assert_int_equal(nrep[0], nrep[1]);
    assert_memory_equal(rep[0], rep[1], (size_t)nrep[0] * sizeof *rep[0]);
    for (int run = 0; run < 2; run++) {
        free(blob[run]);
        free(rep[run]);
    }
}

static void test_snapshot_restore(void **state)
{
    struct hh_paper_config cfg;
    struct env *e, *f;
    struct hh_order_req r;
    struct hh_broker_order bo;
    uint64_t id_lim, id_stop, id_cxl, id;
    void *blob, *blob2;
    size_t len, len2;
    struct hh_diag d;
    char path[256];
    struct hh_paper *loaded;

    (void)state;
    hh_paper_config_defaults(&cfg);
    cfg.latency = 200 * MS;
    cfg.fill_ratio = HH_RATIO_SCALE / 2;
    e = env_new(&cfg);
    r = order(e, "B1", 0, HH_BUY, HH_ORD_MARKET, 100, 0, 0);
    e->b.ops->place(e->b.impl, &r, &id);
    r = order(e, "S1", 0, HH_SELL, HH_ORD_LIMIT, 80, P(1010), 0);
    e->b.ops->place(e->b.impl, &r, &id_lim);
    r = order(e, "S2", 1, HH_SELL, HH_ORD_STOP_LIMIT, 30, P(985), P(990));
    e->b.ops->place(e->b.impl, &r, &id_stop);
    r = order(e, "C1", 1, HH_BUY, HH_ORD_LIMIT, 30, P(900), 0);
    e->b.ops->place(e->b.impl, &r, &id_cxl);
    at(e, 1 * S);
    tick(e, 0, P(1000), 100);                       /* B1: 50 of 100 */
    tick(e, 1, P(989), 10);                         /* S2 triggered, limit 985 ok: 5 */
    e->b.ops->cancel(e->b.impl, id_cxl);            /* due at 1.2 s */
    assert_int_equal(hh_paper_snapshot(e->p, &blob, &len), HH_OK);

    /* the process dies here; a new one restores the broker */
    f = calloc(1, sizeof *f);
    f->inst = make_inst(f->iid);
    hh_clock_init(&f->clock, true);
    hh_clock_advance(&f->clock, day0() + 1 * S);
    f->p = hh_paper_restore(f->inst, &f->clock, &cfg, blob, len, &d);
    assert_non_null(f->p);
    f->b = hh_paper_broker(f->p);
    f->b.ops->set_sink(f->b.impl, on_report, f);
    /* the same state, byte for byte */
    assert_int_equal(hh_paper_snapshot(f->p, &blob2, &len2), HH_OK);
    assert_int_equal(len, len2);
    assert_memory_equal(blob, blob2, len);
    free(blob2);
    assert_int_equal(hh_paper_position(f->p, f->iid[0]), 50);
    assert_int_equal(hh_paper_position(f->p, f->iid[1]), -5);
    /* and it carries on: the pending cancel, the working orders, exec ids */
    at(f, 1300 * MS);
    assert_int_equal(hh_paper_peek(f->p, id_cxl, &bo), HH_OK);
    assert_int_equal(bo.state, HH_OS_CANCELLED);
    at(f, 2 * S);
    tick(f, 0, P(1000), 100);                       /* B1 complete */
    tick(f, 1, P(987), 100);                        /* the triggered stop: a limit now */
    assert_int_equal(hh_paper_position(f->p, f->iid[0]), 100);
    assert_int_equal(hh_paper_position(f->p, f->iid[1]), -30);
    tick(f, 0, P(1012), 200);                       /* S1 sells 80 */
    assert_int_equal(hh_paper_position(f->p, f->iid[0]), 20);
    for (int i = 0; i < f->nrep; i++)
        if (f->rep[i].kind == HH_RPT_FILL)
            assert_true(f->rep[i].exec_id > 2);    /* never reused */
    assert_int_equal(hh_paper_peek(f->p, id_stop, &bo), HH_OK);
    assert_int_equal(bo.state, HH_OS_FILLED);
    assert_int_equal(bo.filled, 30);

    /* files: atomic save, load, a missing file, a tampered blob */
    snprintf(path, sizeof path, "/tmp/hh-paper-%d.state", (int)getpid());
    assert_int_equal(hh_paper_save(f->p, path, true, &d), HH_OK);
    assert_int_equal(hh_paper_load(f->inst, &f->clock, &cfg, path, &loaded, &d), HH_OK);
    assert_non_null(loaded);
    assert_int_equal(hh_paper_position(loaded, f->iid[0]), 20);
    assert_int_equal(hh_paper_version(loaded), hh_paper_version(f->p));
    hh_paper_free(loaded);
    unlink(path);
    assert_int_equal(hh_paper_load(f->inst, &f->clock, &cfg, path, &loaded, &d), HH_OK);
    assert_null(loaded);
    ((unsigned char *)blob)[len - 3] ^= 1;
    assert_null(hh_paper_restore(f->inst, &f->clock, &cfg, blob, len, &d));
    assert_non_null(strstr(d.msg, "checksum"));
    assert_null(hh_paper_restore(f->inst, &f->clock, &cfg, blob, 10, &d));
    free(blob);
    env_free(e);
    env_free(f);
}

/* The file written by autosave holds the live book after every call
 * (the delivery counters of the stats may lag: reports leave after). */
static void assert_file_is_state(struct env *e, const char *path)
{
    struct hh_paper *q;
    struct hh_diag d;

    assert_int_equal(hh_paper_load(e->inst, &e->clock, &(struct hh_paper_config){
                                       .fill_ratio = HH_RATIO_SCALE, .seed = 1 },
                                   path, &q, &d), HH_OK);
    assert_non_null(q);
    assert_int_equal(hh_paper_version(q), hh_paper_version(e->p));
    assert_int_equal(hh_paper_order_count(q), hh_paper_order_count(e->p));
    for (size_t id = 1; id <= hh_paper_order_count(q); id++) {
        struct hh_broker_order a, b;

        hh_paper_peek(q, id, &a);
        hh_paper_peek(e->p, id, &b);
        assert_memory_equal(&a, &b, sizeof a);
    }
    for (int k = 0; k < 2; k++)
        assert_int_equal(hh_paper_position(q, e->iid[k]), hh_paper_position(e->p, e->iid[k]));
    hh_paper_free(q);
}

static void test_autosave_before_anything_leaves(void **state)
{
    struct hh_paper_config cfg;
    struct env *e;
    struct hh_order_req r;
    uint64_t id;
    char path[256];
    struct hh_diag d;
    const char *last;

    (void)state;
    snprintf(path, sizeof path, "/tmp/hh-paper-auto-%d.state", (int)getpid());
    hh_paper_config_defaults(&cfg);
    cfg.latency = 100 * MS;
    e = env_new(&cfg);
    assert_int_equal(hh_paper_set_autosave(e->p, path, false, &d), HH_OK);
    assert_file_is_state(e, path);
    r = order(e, "A1", 0, HH_BUY, HH_ORD_LIMIT, 10, P(1000), 0);
    assert_int_equal(e->b.ops->place(e->b.impl, &r, &id), HH_OK);
    assert_file_is_state(e, path);                 /* placed: durable already */
    at(e, 200 * MS);
    tick(e, 0, P(999), 100);
    assert_file_is_state(e, path);                 /* filled */
    r = order(e, "A2", 0, HH_SELL, HH_ORD_LIMIT, 10, P(1010), 0);
    e->b.ops->place(e->b.impl, &r, &id);
    e->b.ops->modify(e->b.impl, id, 0, P(1011), 0);
    assert_file_is_state(e, path);
    e->b.ops->cancel(e->b.impl, id);               /* takes effect in 100 ms */
    assert_file_is_state(e, path);
    at(e, 400 * MS);
    assert_file_is_state(e, path);                 /* cancelled */
    assert_int_equal(hh_paper_save_errors(e->p, &last), 0);
    /* a save that cannot happen is counted, the operation goes on */
    assert_int_equal(hh_paper_set_autosave(e->p, "/nonexistent-dir/x", false, &d), HH_EIO);
    e->b.ops->place(e->b.impl, &r, &id);
    assert_int_equal(hh_paper_save_errors(e->p, &last), 1);
    assert_non_null(strstr(last, "/nonexistent-dir/x"));
    assert_int_equal(hh_paper_set_autosave(e->p, NULL, false, &d), HH_OK);
    unlink(path);
    env_free(e);
}

static void place_ok(struct env *e, const char *cid, int k, enum hh_side side,
                     enum hh_ord_type type, hh_qty_t qty, hh_price_t limit, uint64_t *id)
{
    struct hh_order_req r = order(e, cid, k, side, type, qty, limit, 0);

    assert_int_equal(e->b.ops->place(e->b.impl, &r, id), HH_OK);
}

static void test_duplicated_updates(void **state)
{
    struct hh_paper_config cfg;
    struct env *e;
    uint64_t id;
    int right_behind = 0;

    (void)state;
    hh_paper_config_defaults(&cfg);
    cfg.seed = 5;
    cfg.duplicate_update_pct = PCT(100);
    e = env_new(&cfg);
    for (int i = 0; i < 10; i++) {
        char cid[HH_CLIENT_ID_MAX];

        snprintf(cid, sizeof cid, "U%d", i);
        place_ok(e, cid, 0, HH_BUY, HH_ORD_MARKET, 10, 0, &id);
    }
    at(e, 0);
    /* every ACK, and the copies that follow right behind it; the others
     * come 1-500 ms later */
    assert_true(e->nrep > 10 && e->nrep < 20);
    for (int i = 0; i + 1 < e->nrep; i++)
        right_behind += !memcmp(&e->rep[i], &e->rep[i + 1], sizeof e->rep[i]);
    assert_int_equal(right_behind, e->nrep - 10);
    at(e, 1 * S);
    assert_int_equal(count_kind(e, HH_RPT_ACK), 20);
    tick(e, 0, P(1000), 1000);
    at(e, 2 * S);
    assert_int_equal(count_kind(e, HH_RPT_FILL), 20);
    /* each fill twice, identical: the same exec id, so the engine can
     * recognise the copy */
    for (int i = 0; i < e->nrep; i++) {
        int same = 0;

        if (e->rep[i].kind != HH_RPT_FILL)
            continue;
        for (int j = 0; j < e->nrep; j++)
            if (j != i && e->rep[j].kind == HH_RPT_FILL &&
                e->rep[j].exec_id == e->rep[i].exec_id) {
                assert_memory_equal(&e->rep[j], &e->rep[i], sizeof e->rep[i]);
                same++;
            }
        assert_int_equal(same, 1);
    }
    assert_int_equal(hh_paper_stats(e->p)->reports, 20);
    assert_int_equal(hh_paper_stats(e->p)->duplicated, 20);
    assert_int_equal(hh_paper_stats(e->p)->delivered, 40);
    /* the book counted each fill once */
    assert_int_equal(hh_paper_position(e->p, e->iid[0]), 100);
    assert_int_equal(hh_paper_stats(e->p)->fills, 10);
    assert_book_sums(e);
    /* across a restart: exec ids go on (never a copy of an older fill) */
    env_restart(e, &cfg);
    place_ok(e, "U10", 0, HH_BUY, HH_ORD_MARKET, 10, 0, &id);
    at(e, 3 * S);
    tick(e, 0, P(1001), 100);
    at(e, 4 * S);
    for (int i = 0, n = 0; i < e->nrep; i++) {
        if (e->rep[i].kind != HH_RPT_FILL || e->rep[i].order_id != id)
            continue;
        assert_int_equal(e->rep[i].exec_id, 11);
        assert_true(++n <= 2);
    }
    assert_int_equal(count_kind(e, HH_RPT_FILL), 22);
    assert_book_sums(e);
    env_free(e);
}

static void test_reordered_updates(void **state)
{
    struct hh_paper_config cfg;
    struct env *e;
    uint64_t id1, id2, id3, id4, id5;

    (void)state;
    hh_paper_config_defaults(&cfg);
    cfg.reorder_update_pct = PCT(100);
    cfg.n_disconnect = 1;
    cfg.disconnect[0] = win(9, 15, 10, 9, 15, 11);
    e = env_new(&cfg);
    /* two consecutive reports swap: the second ACK comes first */
    place_ok(e, "R1", 0, HH_BUY, HH_ORD_MARKET, 10, 0, &id1);
    place_ok(e, "R2", 0, HH_BUY, HH_ORD_MARKET, 10, 0, &id2);
    at(e, 0);
    assert_int_equal(e->nrep, 2);
    assert_int_equal(e->rep[0].order_id, id2);
    assert_int_equal(e->rep[1].order_id, id1);
    /* also within a tick: the fills of R1 and R2 come R2 first */
    at(e, 1 * S);
    tick(e, 0, P(1000), 100);
    assert_int_equal(e->nrep, 4);
    assert_int_equal(e->rep[2].kind, HH_RPT_FILL);
    assert_int_equal(e->rep[2].order_id, id2);
    assert_int_equal(e->rep[3].order_id, id1);
    assert_true(e->rep[3].exec_id < e->rep[2].exec_id);
    assert_int_equal(hh_paper_stats(e->p)->reordered, 2);
    /* nothing behind it within the hold: delivered in place, that late */
    at(e, 2 * S);
    place_ok(e, "R3", 0, HH_BUY, HH_ORD_MARKET, 10, 0, &id3);
    at(e, 2500 * MS);
    assert_int_equal(e->nrep, 4);
    assert_int_equal(hh_paper_next_due(e->p), day0() + 2 * S + HH_PAPER_REORDER_HOLD);
    at(e, 3 * S);
    assert_int_equal(e->nrep, 5);
    assert_int_equal(e->rep[4].order_id, id3);
    assert_int_equal(e->rep[4].ts, day0() + 2 * S);
    /* never swapped across a disconnect window: R4's ACK (before it) is
     * delivered, R5's (in it) is lost */
    at(e, 9500 * MS);
    place_ok(e, "R4", 0, HH_BUY, HH_ORD_MARKET, 10, 0, &id4);
    at(e, 10200 * MS);
    place_ok(e, "R5", 0, HH_BUY, HH_ORD_MARKET, 10, 0, &id5);
    at(e, 10300 * MS);
    assert_int_equal(e->nrep, 6);
    assert_int_equal(e->rep[5].order_id, id4);
    assert_int_equal(hh_paper_stats(e->p)->disconnect_lost, 1);
    assert_int_equal(hh_paper_stats(e->p)->reordered, 2);
    assert_int_equal(hh_paper_position(e->p, e->iid[0]), 20);
    assert_book_sums(e);
    env_free(e);
}

static void test_book_lag(void **state)
{
    struct hh_paper_config cfg;
    struct env *e;
    struct hh_broker_order bo, list[4];
    struct hh_broker_position pos[2];
    uint64_t id, id2, id3;
    size_t n;

    (void)state;
    hh_paper_config_defaults(&cfg);
    cfg.book_lag = 2 * S;
    e = env_new(&cfg);
    place_ok(e, "G1", 0, HH_BUY, HH_ORD_LIMIT, 10, P(990), &id);
    /* not listed yet: as if it did not exist ... */
    assert_int_equal(e->b.ops->find(e->b.impl, "G1", &bo), HH_ENOTFOUND);
    assert_int_equal(e->b.ops->status(e->b.impl, id, &bo), HH_ENOTFOUND);
    assert_int_equal(e->b.ops->orders(e->b.impl, list, 4, &n), HH_OK);
    assert_int_equal(n, 0);
    assert_int_equal(hh_paper_stats(e->p)->lag_hidden, 3);
    assert_int_equal(hh_paper_peek(e->p, id, &bo), HH_OK);   /* the truth */
    /* ... but it exists and works: modified, filled, in the positions,
     * and the stream tells of it as usual */
    assert_int_equal(e->b.ops->modify(e->b.impl, id, 0, P(995), 0), HH_OK);
    at(e, 1 * S);
    tick(e, 0, P(994), 100);
    assert_int_equal(e->b.ops->positions(e->b.impl, pos, 2, &n), HH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(pos[0].qty, 10);
    assert_int_equal(count_kind(e, HH_RPT_ACK) + count_kind(e, HH_RPT_MODIFIED) +
                     count_kind(e, HH_RPT_FILL), 3);
    assert_int_equal(e->b.ops->find(e->b.impl, "G1", &bo), HH_ENOTFOUND);
    /* a restart keeps it unlisted until its time */
    at(e, 1500 * MS);
    env_restart(e, &cfg);
    assert_int_equal(e->b.ops->status(e->b.impl, id, &bo), HH_ENOTFOUND);
    at(e, 2 * S);
    assert_int_equal(e->b.ops->find(e->b.impl, "G1", &bo), HH_OK);
    assert_int_equal(bo.state, HH_OS_FILLED);
    assert_int_equal(bo.filled, 10);
    assert_int_equal(e->b.ops->orders(e->b.impl, list, 4, &n), HH_OK);
    assert_int_equal(n, 1);
    /* a cancel acts on an order the book does not list yet */
    place_ok(e, "G2", 0, HH_BUY, HH_ORD_LIMIT, 10, P(900), &id2);
    assert_int_equal(e->b.ops->cancel(e->b.impl, id2), HH_OK);
    assert_int_equal(hh_paper_peek(e->p, id2, &bo), HH_OK);
    assert_int_equal(bo.state, HH_OS_CANCELLED);
    assert_int_equal(e->b.ops->status(e->b.impl, id2, &bo), HH_ENOTFOUND);
    /* a client id placed again: the one listed answers meanwhile */
    place_ok(e, "G1", 0, HH_BUY, HH_ORD_LIMIT, 10, P(900), &id3);
    assert_int_equal(e->b.ops->find(e->b.impl, "G1", &bo), HH_OK);
    assert_int_equal(bo.order_id, id);
    at(e, 4 * S);
    assert_int_equal(e->b.ops->status(e->b.impl, id2, &bo), HH_OK);
    assert_int_equal(bo.state, HH_OS_CANCELLED);
    assert_int_equal(e->b.ops->find(e->b.impl, "G1", &bo), HH_OK);
    assert_int_equal(bo.order_id, id3);
    assert_int_equal(hh_paper_stats(e->p)->lag_hidden, 6);
    assert_book_sums(e);
    env_free(e);
}

static void test_external_close_position(void **state)
{
    struct hh_paper_config cfg;
    struct env *e;
    struct hh_broker_order bo;
    uint64_t id, t1;
    hh_money_t funds;
    int before;

    (void)state;
    hh_paper_config_defaults(&cfg);
    cfg.n_external = 2;
    cfg.external[0] = ext_tod(HH_TOD(9, 15) + 5 * S, HH_PAPER_EXT_CLOSE_POSITION, "INFY");
    cfg.external[1] = (struct hh_paper_external){
        .tod = false, .at = day0() + 8 * S, .action = HH_PAPER_EXT_CLOSE_POSITION,
        .symbol = "NSE:TCS" };
    e = env_new(&cfg);
    place_ok(e, "B1", 0, HH_BUY, HH_ORD_MARKET, 30, 0, &id);
    place_ok(e, "T1", 0, HH_SELL, HH_ORD_LIMIT, 10, P(1010), &t1);
    place_ok(e, "S1", 1, HH_SELL, HH_ORD_MARKET, 20, 0, &id);
    at(e, 1 * S);
    tick(e, 0, P(1000), 100);
    tick(e, 1, P(1500), 100);
    assert_int_equal(hh_paper_position(e->p, e->iid[0]), 30);
    assert_int_equal(hh_paper_position(e->p, e->iid[1]), -20);
    assert_int_equal(hh_paper_next_due(e->p), day0() + 5 * S);
    at(e, 4 * S);
    tick(e, 0, P(1002), 100);                  /* the last price before it */
    before = e->nrep;
    at(e, 5 * S);
    /* squared off by hand: an order of the broker's own, filled at once */
    assert_int_equal(hh_paper_order_count(e->p), 4);
    assert_int_equal(hh_paper_peek(e->p, 4, &bo), HH_OK);
    assert_string_equal(bo.client_id, "manual4");
    assert_int_equal(bo.side, HH_SELL);
    assert_int_equal(bo.type, HH_ORD_MARKET);
    assert_int_equal(bo.state, HH_OS_FILLED);
    assert_int_equal(bo.filled, 30);
    assert_int_equal(bo.avg_price, P(1002));
    assert_int_equal(hh_paper_position(e->p, e->iid[0]), 0);
    assert_int_equal(e->b.ops->funds(e->b.impl, &funds), HH_OK);
    assert_int_equal(funds, cfg.capital + 30 * P(2));
    /* the engine hears of it on the stream, as of an order it never placed */
    assert_int_equal(e->nrep, before + 2);
    assert_int_equal(e->rep[before].kind, HH_RPT_ACK);
    assert_int_equal(e->rep[before + 1].kind, HH_RPT_FILL);
    assert_int_equal(e->rep[before + 1].order_id, 4);
    assert_int_equal(e->rep[before + 1].qty, 30);
    assert_int_equal(e->b.ops->find(e->b.impl, "manual4", &bo), HH_OK);
    /* the engine's working exit is left alone */
    assert_int_equal(hh_paper_peek(e->p, t1, &bo), HH_OK);
    assert_int_equal(bo.state, HH_OS_OPEN);
    assert_int_equal(hh_paper_next_due(e->p), day0() + 8 * S);
    at(e, 8 * S);
    assert_int_equal(hh_paper_peek(e->p, 5, &bo), HH_OK);
    assert_string_equal(bo.client_id, "manual5");
    assert_int_equal(bo.side, HH_BUY);
    assert_int_equal(bo.avg_price, P(1500));
    assert_int_equal(hh_paper_position(e->p, e->iid[1]), 0);
    assert_int_equal(hh_paper_stats(e->p)->external, 2);
    assert_int_equal(hh_paper_stats(e->p)->squared_off, 2);
    /* that exit would now oversell: the broker books it, as a real one */
    at(e, 9 * S);
    tick(e, 0, P(1011), 100);
    assert_int_equal(hh_paper_position(e->p, e->iid[0]), -10);
    assert_book_sums(e);
    /* a restart applies nothing again, even on a later day past the time */
    env_restart(e, &cfg);
    at(e, 10 * S);
    at(e, HH_NS_PER_DAY + 6 * S);
    assert_int_equal(hh_paper_order_count(e->p), 5);
    assert_int_equal(hh_paper_stats(e->p)->external, 2);
    assert_int_equal(hh_paper_next_due(e->p), HH_TIME_MAX);
    env_free(e);
}

static void test_external_cancel_orders(void **state)
{
    struct hh_paper_config cfg;
    struct env *e;
    struct hh_broker_order bo;
    uint64_t b1, s1, c1;
    int cancels = 0;

    (void)state;
    hh_paper_config_defaults(&cfg);
    cfg.latency = 300 * MS;
    cfg.fill_ratio = HH_RATIO_SCALE / 2;
    cfg.n_external = 1;
    cfg.external[0] = ext_tod(HH_TOD(9, 15) + 10 * S, HH_PAPER_EXT_CANCEL_ORDERS, "INFY");
    e = env_new(&cfg);
    place_ok(e, "B1", 0, HH_BUY, HH_ORD_LIMIT, 100, P(1000), &b1);
    {
        struct hh_order_req r = order(e, "S1", 0, HH_SELL, HH_ORD_STOP_LIMIT, 50, P(980),
                                      P(985));

        assert_int_equal(e->b.ops->place(e->b.impl, &r, &s1), HH_OK);
    }
    place_ok(e, "C1", 1, HH_BUY, HH_ORD_LIMIT, 10, P(1400), &c1);
    at(e, 1 * S);
    tick(e, 0, P(999), 100);                   /* B1: 50 of 100 */
    at(e, 10 * S);
    /* at once, whatever the latency, with the final filled */
    assert_int_equal(hh_paper_peek(e->p, b1, &bo), HH_OK);
    assert_int_equal(bo.state, HH_OS_CANCELLED);
    assert_int_equal(bo.filled, 50);
    assert_int_equal(hh_paper_peek(e->p, s1, &bo), HH_OK);
    assert_int_equal(bo.state, HH_OS_CANCELLED);
    assert_int_equal(hh_paper_peek(e->p, c1, &bo), HH_OK);
    assert_int_equal(bo.state, HH_OS_OPEN);   /* another symbol */
    for (int i = 0; i < e->nrep; i++) {
        if (e->rep[i].kind != HH_RPT_CANCELLED)
            continue;
        cancels++;
        assert_string_equal(e->rep[i].reason,
                            "cancelled by the exchange (external cancel_orders)");
        assert_int_equal(e->rep[i].filled, e->rep[i].order_id == b1 ? 50 : 0);
        assert_int_equal(e->rep[i].leaves, 0);
    }
    assert_int_equal(cancels, 2);
    assert_int_equal(hh_paper_stats(e->p)->exchange_cancels, 2);
    assert_int_equal(hh_paper_stats(e->p)->external, 1);
    assert_int_equal(e->b.ops->cancel(e->b.impl, b1), HH_ESTATE);   /* too late */
    assert_int_equal(hh_paper_position(e->p, e->iid[0]), 50);
    assert_book_sums(e);
    env_free(e);
}

static void test_external_reject_next(void **state)
{
    struct hh_paper_config cfg;
    struct env *e;
    struct hh_broker_order bo;
    struct hh_order_req r;
    uint64_t id, j4;

    (void)state;
    hh_paper_config_defaults(&cfg);
    cfg.n_unavailable = 1;
    cfg.unavailable[0] = win(9, 15, 3, 9, 15, 4);
    cfg.n_external = 1;
    cfg.external[0] = ext_tod(HH_TOD(9, 15) + 2 * S, HH_PAPER_EXT_REJECT_NEXT, "TCS");
    e = env_new(&cfg);
    at(e, 1 * S);
    place_ok(e, "J1", 1, HH_BUY, HH_ORD_MARKET, 10, 0, &id);   /* before it: normal */
    at(e, 2 * S);
    assert_int_equal(hh_paper_stats(e->p)->external, 1);
    /* armed across a restart */
    env_restart(e, &cfg);
    /* a 503 has no effect: it does not take the rejection */
    at(e, 3 * S);
    r = order(e, "J2", 1, HH_BUY, HH_ORD_MARKET, 10, 0, 0);
    assert_int_equal(e->b.ops->place(e->b.impl, &r, &id), HH_EUNAVAIL);
    at(e, 4 * S);
    place_ok(e, "J3", 0, HH_BUY, HH_ORD_MARKET, 10, 0, &id);   /* another symbol */
    place_ok(e, "J4", 1, HH_BUY, HH_ORD_LIMIT, 10, P(1400), &j4);   /* accepted ... */
    place_ok(e, "J5", 1, HH_BUY, HH_ORD_LIMIT, 10, P(1400), &id);   /* only the next */
    at(e, 4 * S);
    assert_int_equal(e->nrep, 4);                    /* J1's ACK, then J3, J5, J4 */
    assert_int_equal(e->rep[1].kind, HH_RPT_ACK);
    assert_int_equal(e->rep[2].kind, HH_RPT_ACK);
    assert_int_equal(e->rep[2].order_id, id);
    assert_int_equal(e->rep[3].kind, HH_RPT_REJECTED);                /* ... then rejected */
    assert_int_equal(e->rep[3].order_id, j4);
    assert_string_equal(e->rep[3].reason, "rejected by the exchange (external reject_next)");
    assert_int_equal(hh_paper_peek(e->p, j4, &bo), HH_OK);
    assert_int_equal(bo.state, HH_OS_REJECTED);
    assert_int_equal(hh_paper_stats(e->p)->forced_rejects, 1);
    assert_int_equal(hh_paper_stats(e->p)->rejected, 1);
    env_free(e);
}

static void test_older_state_refused(void **state)
{
    struct hh_paper_config cfg;
    struct env *e;
    void *blob;
    size_t len;
    struct hh_diag d;

    (void)state;
    hh_paper_config_defaults(&cfg);
    e = env_new(&cfg);
    assert_int_equal(hh_paper_snapshot(e->p, &blob, &len), HH_OK);
    ((unsigned char *)blob)[8] = 1;            /* u32 version, little-endian */
    assert_null(hh_paper_restore(e->inst, &e->clock, &cfg, blob, len, &d));
    assert_non_null(strstr(d.msg, "version 1"));
    assert_non_null(strstr(d.msg, "version 2"));
    free(blob);
    env_free(e);
}

static void test_config_maps_new_faults(void **state)
{
    struct hh_config *c = calloc(1, sizeof *c);
    struct hh_paper_config p;
    struct env *e;

    (void)state;
    assert_non_null(c);
    hh_config_defaults(c);
    c->paper.duplicate_update_pct = PCT(2.5);
    c->paper.reorder_update_pct = PCT(4);
    c->paper.book_lag = 1500 * MS;
    c->paper.n_external = 2;
    c->paper.external[0] = (struct hh_config_external){
        .tod = true, .at = HH_TOD(10, 5), .action = HH_CONFIG_EXT_CLOSE_POSITION,
        .symbol = "NIFTY" };
    c->paper.external[1] = (struct hh_config_external){
        .tod = false, .at = day0(), .action = HH_CONFIG_EXT_REJECT_NEXT, .symbol = "NSE:TCS" };
    hh_config_paper(c, false, &p);
    assert_int_equal(p.duplicate_update_pct, PCT(2.5));
    assert_int_equal(p.reorder_update_pct, PCT(4));
    assert_int_equal(p.book_lag, 1500 * MS);
    assert_int_equal(p.n_external, 2);
    assert_true(p.external[0].tod);
    assert_int_equal(p.external[0].at, HH_TOD(10, 5));
    assert_int_equal(p.external[0].action, HH_PAPER_EXT_CLOSE_POSITION);
    assert_string_equal(p.external[0].symbol, "NIFTY");
    assert_false(p.external[1].tod);
    assert_int_equal(p.external[1].at, day0());
    assert_int_equal(p.external[1].action, HH_PAPER_EXT_REJECT_NEXT);
    assert_string_equal(p.external[1].symbol, "NSE:TCS");
    e = env_new(&p);                           /* a broker takes it */
    env_free(e);
    /* shadow: nothing is faulted */
    hh_config_paper(c, true, &p);
    assert_int_equal(p.duplicate_update_pct, 0);
    assert_int_equal(p.reorder_update_pct, 0);
    assert_int_equal(p.book_lag, 0);
    assert_int_equal(p.n_external, 0);
    free(c);
}

/* ---- 2. seed scenario 3: broker failure and recovery -------------------------- */

struct s3 {
    struct env *e;
    struct hh_retry retry;
    struct hh_breaker brk;
    struct hh_breaker_transition tr[8];
    int ntr, alerts;
    /* orders of the three signals */
    struct hh_ord o[3];
    struct hh_retry_track track[3];
    hh_time_t tries[3][4];            /* times of calls that reached the broker */
    int ntries[3];
    char reason[3][32];
};

static void s3_transition(void *ctx, const struct hh_breaker_transition *t)
{
    struct s3 *s = ctx;

    if (s->ntr < 8)
        s->tr[s->ntr++] = *t;
    if (t->alert)
        s->alerts++;                  /* "alert sent to Telegram" */
}

/* One placement attempt of order k at the clock's time. */
static void s3_try(struct s3 *s, int k)
{
    hh_time_t now = s->e->clock.now, when;
    uint64_t id;
    int rc;

    if (hh_breaker_allow(&s->brk, now) != HH_OK) {
        /* refused at once, the broker untouched */
        hh_ord_refused(&s->o[k], now, NULL);
        snprintf(s->reason[k], sizeof s->reason[k], "BROKER_UNAVAILABLE");
        s->track[k].next = HH_TIME_NONE;
        return;
    }
    s->tries[k][s->ntries[k]++] = now;
    rc = s->e->b.ops->place(s->e->b.impl, &s->o[k].req, &id);
    hh_breaker_record(&s->brk, now, rc);
    if (rc == HH_OK) {
        hh_ord_placed(&s->o[k], id, now, NULL);
        s->track[k].next = HH_TIME_NONE;
        return;
    }
    if (hh_retry_next(&s->retry, &s->track[k], rc, now, &when))
        return;                       /* track.next = when */
    hh_ord_refused(&s->o[k], now, NULL);
    snprintf(s->reason[k], sizeof s->reason[k], "BROKER_UNAVAILABLE");
}

static void s3_report(void *ctx, const struct hh_report *r)
{
    struct s3 *s = ctx;

    for (int k = 0; k < 3; k++)
        if (s->o[k].order_id == r->order_id)
            assert_int_equal(hh_ord_on_report(&s->o[k], r, s->e->clock.now, NULL, NULL),
                             HH_OK);
}

static void test_scenario_3_broker_failure_and_recovery(void **state)
{
    struct hh_paper_config cfg;
    struct s3 s;
    struct hh_retry_policy pol = { 3, 1000 * MS, 8000 * MS, PCT(0.2) };
    struct hh_breaker_config bc = { 3, 30 * S, 20 * S };
    const hh_time_t sig[3] = { 10 * S, 15 * S, 40 * S };   /* after 09:15:00 */
    hh_time_t probe_at = HH_TIME_NONE;

    (void)state;
    memset(&s, 0, sizeof s);
    hh_paper_config_defaults(&cfg);
    cfg.n_unavailable = 1;
    cfg.unavailable[0] = win(9, 15, 5, 9, 15, 30);          /* the outage */
    s.e = env_new(&cfg);
    s.e->b.ops->set_sink(s.e->b.impl, s3_report, &s);
    hh_retry_init(&s.retry, &pol, 3);
    assert_int_equal(hh_breaker_init(&s.brk, &bc, s3_transition, &s), HH_OK);
    for (int k = 0; k < 3; k++) {
        char cid[HH_CLIENT_ID_MAX];
        struct hh_order_req r;

        snprintf(cid, sizeof cid, "SIG%d-E-A0", k + 1);
        r = order(s.e, cid, 0, HH_BUY, HH_ORD_MARKET, 10, 0, 0);
        hh_ord_init(&s.o[k], &r, 0);
        s.track[k].next = HH_TIME_NONE;
    }
    /* engine time in 100 ms steps, a tick every 500 ms */
    for (hh_time_t t = 0; t <= 90 * S; t += 100 * MS) {
        at(s.e, t);
        for (int k = 0; k < 3; k++) {
            if (t == sig[k]) {
                hh_ord_sent(&s.o[k], s.e->clock.now, NULL);   /* 1. a signal arrives */
                s3_try(&s, k);
            } else if (s.track[k].next != HH_TIME_NONE && s.e->clock.now >= s.track[k].next) {
                s3_try(&s, k);                                 /* a retry is due */
            }
        }
        /* the breaker's timer: half-open after the cool-off, then one
         * probe that risks nothing (a funds query) */
        if (s.e->clock.now >= hh_breaker_next(&s.brk))
            hh_breaker_tick(&s.brk, s.e->clock.now);
        if (s.brk.state == HH_BRK_HALF_OPEN && !s.brk.probe_out &&
            hh_breaker_allow(&s.brk, s.e->clock.now) == HH_OK) {
            hh_money_t f;
            int rc = s.e->b.ops->funds(s.e->b.impl, &f);

            probe_at = s.e->clock.now;
            hh_breaker_record(&s.brk, s.e->clock.now, rc);
        }
        if (t % (500 * MS) == 0)
            tick(s.e, 0, P(1000), 1000);
    }
    /* 2.-4. signal 1: 503 at 10 s, retry #1 ~1 s later, retry #2 ~2 s after */
    assert_int_equal(s.ntries[0], 3);
    assert_int_equal(s.tries[0][0], day0() + 10 * S);
    assert_true(s.tries[0][1] - s.tries[0][0] >= 800 * MS &&
                s.tries[0][1] - s.tries[0][0] <= 1300 * MS);
    assert_true(s.tries[0][2] - s.tries[0][1] >= 1600 * MS &&
                s.tries[0][2] - s.tries[0][1] <= 2500 * MS);
    assert_int_equal(s.o[0].state, HH_OS_REJECTED);
    assert_string_equal(s.reason[0], "BROKER_UNAVAILABLE");
    /* 5. the breaker opened on the third failure; 7. one alert */
    assert_true(s.ntr >= 3);
    assert_int_equal(s.tr[0].from, HH_BRK_CLOSED);
    assert_int_equal(s.tr[0].to, HH_BRK_OPEN);
    assert_int_equal(s.tr[0].at, s.tries[0][2]);
    assert_int_equal(s.alerts, 1);
    /* 6. signal 2 refused at once: it never reached the broker */
    assert_int_equal(s.ntries[1], 0);
    assert_int_equal(s.o[1].state, HH_OS_REJECTED);
    assert_string_equal(s.reason[1], "BROKER_UNAVAILABLE");
    assert_true(s.brk.refused >= 1);
    assert_int_equal(hh_paper_stats(s.e->p)->unavailable, 3);   /* only the 3 tries */
    /* 8.-11. the broker is back at 30 s; half-open after the cool-off, the
     * probe succeeds, closed */
    assert_int_equal(s.tr[1].to, HH_BRK_HALF_OPEN);
    assert_int_equal(s.tr[1].at, s.tr[0].at + 20 * S);
    assert_int_equal(s.tr[2].to, HH_BRK_CLOSED);
    assert_int_equal(s.tr[2].at, probe_at);
    assert_true(probe_at >= day0() + 30 * S);
    assert_int_equal(s.ntr, 3);
    /* 12. normal operation: signal 3 placed at once and filled */
    assert_int_equal(s.ntries[2], 1);
    assert_int_equal(s.tries[2][0], day0() + 40 * S);
    assert_int_equal(s.o[2].state, HH_OS_FILLED);
    /* no trade during the outage */
    assert_int_equal(hh_paper_order_count(s.e->p), 1);
    assert_int_equal(hh_paper_position(s.e->p, s.e->iid[0]), 10);
    for (int k = 0; k < 3; k++)
        hh_ord_free(&s.o[k]);
    hh_breaker_free(&s.brk);
    env_free(s.e);
}

/* ---- 3. the hybrid stop-loss on the paper exchange ------------------------------ */

struct hx {
    struct env *e;
    struct hh_hsl h;
    int markets;                      /* market orders placed */
    bool market_while_limit_live;
};

static void hx_do(struct hx *x, struct hh_hsl_action *a)
{
    while (a->kind != HH_HSL_ACT_NONE && a->kind != HH_HSL_ACT_DONE &&
           a->kind != HH_HSL_ACT_ALERT) {
        hh_time_t now = x->e->clock.now;
        struct hh_hsl_action next;
        uint64_t id;
        int rc;

        memset(&next, 0, sizeof next);
        switch (a->kind) {
        case HH_HSL_ACT_PLACE_LIMIT:
        case HH_HSL_ACT_PLACE_MARKET: {
            bool mkt = a->kind == HH_HSL_ACT_PLACE_MARKET;

            if (mkt) {
                struct hh_broker_order bo;

                hh_paper_peek(x->e->p, x->h.lim.order_id, &bo);
                if (!hh_ord_state_terminal(bo.state))
                    x->market_while_limit_live = true;
                x->markets++;
            }
            rc = x->e->b.ops->place(x->e->b.impl, &a->req, &id);
            assert_int_equal(rc, HH_OK);
            hh_hsl_placed(&x->h, mkt ? HH_HSL_MARKET_LEG : HH_HSL_LIMIT, id, now, &next);
            break;
        }
        case HH_HSL_ACT_CANCEL:
            rc = x->e->b.ops->cancel(x->e->b.impl, a->order_id);
            hh_hsl_cancel_result(&x->h, rc, now, &next);
            break;
        case HH_HSL_ACT_POLL: {
            struct hh_broker_order bo;

            if (x->e->b.ops->status(x->e->b.impl, a->order_id, &bo) == HH_OK)
                hh_hsl_on_status(&x->h, &bo, now, &next, NULL);
            break;
        }
        default:
            break;
        }
        *a = next;
    }
}

static void hx_report(void *ctx, const struct hh_report *r)
{
    struct hx *x = ctx;
    struct hh_hsl_action a;

    if (hh_hsl_owns(&x->h, r->order_id) &&
        hh_hsl_on_report(&x->h, r, x->e->clock.now, &a, NULL) == HH_OK)
        hx_do(x, &a);
}

static void hx_run(struct hx *x, const hh_price_t *px, int n)
{
    struct hh_hsl_config hc = { PCT(0.5), 2000 * MS, 1000 * MS };
    struct hh_hsl_spec spec;
    struct hh_hsl_action a;
    struct hh_order_req r = order(x->e, "LONG", 0, HH_BUY, HH_ORD_MARKET, 100, 0, 0);
    uint64_t id;

    x->e->b.ops->set_sink(x->e->b.impl, hx_report, x);
    hh_hsl_init(&x->h, &hc);
    x->e->b.ops->place(x->e->b.impl, &r, &id);
    at(x->e, 100 * MS);
    tick(x->e, 0, P(4120), 1000);
    assert_int_equal(hh_paper_position(x->e->p, x->e->iid[0]), 100);
    memset(&spec, 0, sizeof spec);
    spec.iid = x->e->iid[0];
    spec.side = HH_SELL;
    spec.qty = 100;
    spec.trigger = P(4100);
    spec.tick = TICK;
    snprintf(spec.limit_client_id, sizeof spec.limit_client_id, "SL-L");
    snprintf(spec.market_client_id, sizeof spec.market_client_id, "SL-M");
    for (int i = 0; i < n; i++) {
        at(x->e, (i + 1) * S);
        if (x->h.state == HH_HSL_IDLE && px[i] <= spec.trigger) {
            hh_hsl_trigger(&x->h, &spec, x->e->clock.now, &a);
            hx_do(x, &a);
        }
        if (x->h.deadline != HH_TIME_NONE && x->e->clock.now >= x->h.deadline) {
            hh_hsl_on_timer(&x->h, x->e->clock.now, &a);
            hx_do(x, &a);
        }
        tick(x->e, 0, px[i], 1000);
    }
}

static void test_hybrid_sl_gap_through_on_paper(void **state)
{
    struct hh_paper_config cfg;
    struct hx x;
    /* 4110, then a gap to 4050 (below the 4079.50 limit), stays there */
    const hh_price_t px[] = { P(4110), P(4050), P(4050), P(4045), P(4040), P(4040),
                              P(4040), P(4040) };

    (void)state;
    memset(&x, 0, sizeof x);
    hh_paper_config_defaults(&cfg);
    x.e = env_new(&cfg);
    hx_run(&x, px, 8);
    assert_int_equal(x.h.state, HH_HSL_DONE);
    assert_int_equal(x.h.lim.filled, 0);          /* the limit never filled */
    assert_int_equal(x.markets, 1);
    assert_false(x.market_while_limit_live);
    assert_int_equal(x.h.mkt.filled, 100);
    assert_int_equal(hh_paper_position(x.e->p, x.e->iid[0]), 0);   /* exited once */
    hh_hsl_free(&x.h);
    env_free(x.e);
}

static void test_hybrid_sl_cancel_ack_lost_on_paper(void **state)
{
    struct hh_paper_config cfg;
    struct hx x;
    const hh_price_t px[] = { P(4110), P(4050), P(4050), P(4050), P(4050), P(4050),
                              P(4050), P(4050), P(4050), P(4050) };

    (void)state;
    memset(&x, 0, sizeof x);
    hh_paper_config_defaults(&cfg);
    /* the stream is down from 09:15:03: the CANCELLED report is lost */
    cfg.n_disconnect = 1;
    cfg.disconnect[0] = win(9, 15, 3, 9, 15, 6);
    x.e = env_new(&cfg);
    hx_run(&x, px, 10);
    assert_true(x.h.resolved_by_poll);
    assert_true(x.h.polls >= 1);
    assert_int_equal(x.markets, 1);
    assert_false(x.market_while_limit_live);
    assert_int_equal(hh_paper_position(x.e->p, x.e->iid[0]), 0);
    hh_hsl_free(&x.h);
    env_free(x.e);
}

/* ---- 4. property test over seeded fault schedules ------------------------------ */

#define PT_ORDERS 192
#define PT_HSL 24
#define PT_SELLS 64
#define PT_TICK (250 * MS)
#define PT_TRADE_S 120               /* new entries until then */
#define PT_END_S 180                 /* no decisions after that ... */
#define PT_DRAIN_S 60                /* ... while what is in flight finishes */

enum pt_role { PT_ENTRY, PT_TARGET, PT_EXIT_MKT, PT_HSL_LIM, PT_HSL_MKT };
enum pt_op { PT_OP_NONE, PT_OP_PLACE, PT_OP_FIND, PT_OP_CANCEL };

struct pt_ord {
    struct hh_ord own;               /* the order, for roles without a stop */
    struct hh_ord *o;                /* &own, or the hybrid stop's lim / mkt */
    bool own_live;
    enum pt_role role;
    int hsl;                         /* PT_HSL_*: the machine */
    int k;                           /* instrument index */
    enum pt_op op;                   /* pending broker call */
    hh_time_t op_due;
    hh_time_t placed_at;             /* the last placement that reached the broker */
    struct hh_retry_track tr;
    bool settled;                    /* terminal on both sides, checked equal */
};

struct pt_trade {
    bool active;
    hh_price_t stop, target;
    int entry, tgt, hsl;             /* order / machine indices, -1 */
};

/* Which faults and paths a schedule exercised. */
enum {
    T_DROP, T_DELAY, T_503, T_TIMEOUT, T_FOUND, T_DISCONNECT, T_CANCEL_RACE,
    T_PARTIAL, T_REJECT, T_BREAKER_OPEN, T_BREAKER_REFUSED, T_HSL_FILLED,
    T_HSL_PARTIAL_CANCEL, T_HSL_GAP, T_HSL_UNTRIGGERED, T_HSL_TOO_LATE, T_HSL_POLL, T_HSL_FAILED,
    T_STALE_REFUSED, T_CAUGHT_UP, T_QTY_DIVERGED, T_POLL_FAILED, T_UNKNOWN_RPT,
    T_REDUCED, T_DUP, T_REORDER, T_LAG, T_N
};

static const char *const tally_names[T_N] = {
    "dropped updates", "delayed updates", "503 answers", "placement timeouts",
    "timed-out orders found by client id", "updates lost in a disconnect",
    "cancel/fill races", "partial fills", "exchange rejections", "breaker opened",
    "orders refused by the open breaker", "stop-limit filled before the timeout",
    "stop partial, cancelled, market for the rest", "gap through the limit (market all)",
    "stop-limit not triggered (bounce), market all",
    "stop cancel too late (no market)", "stop cancel confirmed by a status poll",
    "stop market rejected (alert)", "stale reports refused (ACK/MODIFIED late)",
    "polls caught up a lagging order", "quantity divergences adopted",
    "polls failed (503)", "reports for orders not yet known", "exits cut by reduce-only",
    "duplicate fills recognised by exec id", "reports delivered swapped",
    "answers without an order not listed yet",
};

struct pt {
    uint64_t seed, rng;
    bool verbose;
    const struct hh_instruments *inst;
    hh_iid_t iid[2];
    int ninst;
    struct hh_clock clock;
    hh_time_t t0, now;
    struct hh_paper_config cfg;
    struct hh_paper *p;
    struct hh_broker b;
    struct hh_retry retry;
    struct hh_breaker brk;
    struct hh_hsl_config hc;
    struct pt_ord ord[PT_ORDERS];
    int nord;
    struct hh_hsl hsl[PT_HSL];
    hh_price_t minpx[PT_HSL];        /* lowest price while its limit worked */
    int nhsl;
    struct pt_trade tr[2];
    hh_price_t px[2];
    uint64_t sells[PT_SELLS];        /* paper ids of sells that may work */
    int nsells;
    struct hh_u64map byid;           /* broker id -> order index + 1 */
    struct hh_u64map execs;          /* exec ids delivered */
    struct hh_broker_order bo[PT_ORDERS + 8];
    uint64_t hit[T_N];
    int fails;
    char why[512];
};

static void pt_fail(struct pt *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void pt_fail(struct pt *t, const char *fmt, ...)
{
    va_list ap;

    if (t->fails++)
        return;
    va_start(ap, fmt);
    vsnprintf(t->why, sizeof t->why, fmt, ap);
    va_end(ap);
    if (t->verbose)
        printf("FAIL: %s\n", t->why);
}

#define PT_LOG(t, ...) do { if ((t)->verbose) { printf("%8.3f ", \
    (double)((t)->now - (t)->t0) / 1e9); printf(__VA_ARGS__); printf("\n"); } } while (0)

static uint64_t pt_rand(struct pt *t)
{
    uint64_t z = (t->rng += 0x9E3779B97F4A7C15ULL);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static int pt_rn(struct pt *t, int n)          /* 0..n-1 */
{
    return (int)(pt_rand(t) % (uint64_t)n);
}

static bool pt_chance(struct pt *t, int per_mille)
{
    return pt_rn(t, 1000) < per_mille;
}

static bool pt_is_exit(enum pt_role r)
{
    return r != PT_ENTRY;
}

/* The local view of instrument k: net position from local fills, and
 * what exits may still execute (orders of unknown outcome included). */
static hh_qty_t pt_position(const struct pt *t, int k)
{
    hh_qty_t pos = 0;

    for (int i = 0; i < t->nord; i++) {
        const struct pt_ord *d = &t->ord[i];

        if (d->k == k)
            pos += d->o->req.side == HH_BUY ? d->o->filled : -d->o->filled;
    }
    return pos;
}

static hh_qty_t pt_pending_exits(const struct pt *t, int k)
{
    hh_qty_t n = 0;

    for (int i = 0; i < t->nord; i++) {
        const struct pt_ord *d = &t->ord[i];

        if (d->k == k && pt_is_exit(d->role) && d->role != PT_HSL_LIM && d->role != PT_HSL_MKT)
            n += hh_ord_open_qty(d->o);
    }
    for (int h = 0; h < t->nhsl; h++)
        if (t->hsl[h].spec.iid == t->iid[k])
            n += hh_hsl_committed(&t->hsl[h]) - hh_hsl_filled(&t->hsl[h]);
    return n;
}

static int pt_new_ord(struct pt *t, enum pt_role role, int k, struct hh_ord *o, int h)
{
    struct pt_ord *d;

    if (t->nord >= PT_ORDERS) {
        pt_fail(t, "out of order slots");
        return -1;
    }
    d = &t->ord[t->nord];
    memset(d, 0, sizeof *d);
    d->o = o ? o : &d->own;
    d->own_live = !o;
    d->role = role;
    d->hsl = h;
    d->k = k;
    d->op = PT_OP_NONE;
    d->tr.next = HH_TIME_NONE;
    return t->nord++;
}

static void pt_hsl_do(struct pt *t, int h, struct hh_hsl_action *a);
static void pt_place(struct pt *t, int i);

/* Adopt the broker's view b of order i and check the adoption was only
 * ever a catch-up (the local state never contradicted the broker). */
static void pt_adopt(struct pt *t, int i, const struct hh_broker_order *b)
{
    struct pt_ord *d = &t->ord[i];
    enum hh_ord_state st = d->o->state;
    hh_qty_t filled = d->o->filled, qty = d->o->req.qty;
    bool knew = d->o->order_id != 0;
    struct hh_diag diag = { "" };
    struct hh_hsl_action a;
    int rc;

    a.kind = HH_HSL_ACT_NONE;
    if (d->role == PT_HSL_LIM || d->role == PT_HSL_MKT)
        rc = hh_hsl_on_status(&t->hsl[d->hsl], b, t->now, &a, &diag);
    else
        rc = hh_ord_adopt(d->o, b, t->now, NULL, NULL, &diag);
    if (rc) {
        pt_fail(t, "adopt of order %d refused: %s", i, diag.msg);
        return;
    }
    if (!hh_ord_matches(d->o, b))
        pt_fail(t, "order %d (%s) differs from the broker after adopting: local %s %lld/%lld, "
                "broker %s %lld/%lld", i, d->o->req.client_id, hh_ord_state_name(d->o->state),
                (long long)d->o->filled, (long long)d->o->req.qty, hh_ord_state_name(b->state),
                (long long)b->filled, (long long)b->qty);
    if (hh_ord_state_terminal(st) && (st != d->o->state || filled != d->o->filled))
        pt_fail(t, "order %d: terminal local state %s/%lld contradicted by the broker (%s)", i,
                hh_ord_state_name(st), (long long)filled, diag.msg);
    if (d->o->filled < filled)
        pt_fail(t, "order %d: local filled %lld was ahead of the broker's %lld", i,
                (long long)filled, (long long)d->o->filled);
    if (qty != d->o->req.qty)
        t->hit[T_QTY_DIVERGED]++;
    else if (st != d->o->state && !(st == HH_OS_SENT && d->o->state == HH_OS_OPEN))
        t->hit[T_CAUGHT_UP]++;
    else if (filled != d->o->filled)
        t->hit[T_CAUGHT_UP]++;
    if (!knew) {
        hh_u64map_put(&t->byid, b->order_id, (uint64_t)i + 1);
        if (d->op == PT_OP_FIND || d->op == PT_OP_PLACE)
            d->op = PT_OP_NONE;
        t->hit[T_FOUND]++;
        PT_LOG(t, "order %d %s found as broker id %llu", i, d->o->req.client_id,
               (unsigned long long)b->order_id);
    }
    if (d->role == PT_HSL_LIM || d->role == PT_HSL_MKT)
        pt_hsl_do(t, d->hsl, &a);
}

/* The broker id of order i became known. */
static void pt_learn(struct pt *t, int i, uint64_t id)
{
    struct pt_ord *d = &t->ord[i];
    struct hh_hsl_action a;

    hh_u64map_put(&t->byid, id, (uint64_t)i + 1);
    if (d->role == PT_HSL_LIM || d->role == PT_HSL_MKT) {
        hh_hsl_placed(&t->hsl[d->hsl], d->role == PT_HSL_LIM ? HH_HSL_LIMIT : HH_HSL_MARKET_LEG,
                      id, t->now, &a);
        pt_hsl_do(t, d->hsl, &a);
    } else if (hh_ord_placed(d->o, id, t->now, NULL)) {
        pt_fail(t, "order %d: placed() refused", i);
    }
}

/* Is the breaker letting calls through?  Refused: false (counted). */
static bool pt_allow(struct pt *t)
{
    if (hh_breaker_allow(&t->brk, t->now) == HH_OK)
        return true;
    t->hit[T_BREAKER_REFUSED]++;
    return false;
}

static hh_time_t pt_later(struct pt *t)
{
    hh_time_t n = hh_breaker_next(&t->brk);

    return n != HH_TIME_MAX && n > t->now ? n : t->now + 1 * S;
}

static void pt_place(struct pt *t, int i)
{
    struct pt_ord *d = &t->ord[i];
    uint64_t id = 0;
    hh_time_t when;
    int rc;

    d->op = PT_OP_NONE;
    if (!pt_allow(t)) {
        if (d->role == PT_ENTRY) {
            hh_ord_refused(d->o, t->now, NULL);     /* BROKER_UNAVAILABLE */
            PT_LOG(t, "order %d refused: breaker open", i);
            return;
        }
        d->op = PT_OP_PLACE;
        d->op_due = pt_later(t);
        return;
    }
    if (d->role == PT_HSL_MKT) {
        /* THE invariant: a market order only once its stop-limit is dead */
        const struct hh_hsl *h = &t->hsl[d->hsl];
        struct hh_broker_order lim;

        if (h->lim.order_id && hh_paper_peek(t->p, h->lim.order_id, &lim) == HH_OK &&
            !hh_ord_state_terminal(lim.state))
            pt_fail(t, "market order %d sent while stop-limit %llu is %s", i,
                    (unsigned long long)h->lim.order_id, hh_ord_state_name(lim.state));
        if (!h->lim.order_id && h->lim.state != HH_OS_REJECTED)
            pt_fail(t, "market order %d sent while its stop-limit's fate is unknown", i);
    }
    rc = t->b.ops->place(t->b.impl, &d->o->req, &id);
    hh_breaker_record(&t->brk, t->now, rc);
    if (rc == HH_OK || rc == HH_ETIMEOUT)
        d->placed_at = t->now;
    PT_LOG(t, "place %d %s %s %s %lld -> %s", i, d->o->req.client_id,
           d->o->req.side == HH_BUY ? "BUY" : "SELL", hh_ord_type_name(d->o->req.type),
           (long long)d->o->req.qty, hh_errname(rc));
    if ((rc == HH_OK || rc == HH_ETIMEOUT) && d->o->req.side == HH_SELL &&
        t->nsells < PT_SELLS)
        t->sells[t->nsells++] = hh_paper_order_count(t->p);   /* test knowledge */
    switch (rc) {
    case HH_OK:
        pt_learn(t, i, id);
        return;
    case HH_ETIMEOUT:
        /* it may exist: look it up by client id before anything else */
        d->op = PT_OP_FIND;
        d->op_due = t->now + hh_retry_delay(&t->retry, 0);
        return;
    case HH_EUNAVAIL:
        if (hh_retry_next(&t->retry, &d->tr, rc, t->now, &when)) {
            d->op = PT_OP_PLACE;
            d->op_due = when;
        } else if (d->role == PT_ENTRY) {
            hh_ord_refused(d->o, t->now, NULL);
        } else {
            /* an exit is never given up: start the backoff again */
            memset(&d->tr, 0, sizeof d->tr);
            d->op = PT_OP_PLACE;
            d->op_due = t->now + t->retry.pol.max;
        }
        return;
    default:
        pt_fail(t, "place of order %d: %s", i, hh_errname(rc));
    }
}

static void pt_find(struct pt *t, int i)
{
    struct pt_ord *d = &t->ord[i];
    struct hh_broker_order b;
    int rc;

    d->op = PT_OP_NONE;
    if (!pt_allow(t)) {
        d->op = PT_OP_FIND;
        d->op_due = pt_later(t);
        return;
    }
    rc = t->b.ops->find(t->b.impl, d->o->req.client_id, &b);
    hh_breaker_record(&t->brk, t->now, rc);
    if (rc == HH_OK) {
        pt_adopt(t, i, &b);
    } else if (rc == HH_ENOTFOUND && t->now >= d->placed_at + t->cfg.book_lag) {
        pt_fail(t, "order %d timed out but does not exist", i);   /* paper: never */
    } else {
        /* 503, or not listed yet (book_lag): never taken for gone */
        d->op = PT_OP_FIND;
        d->op_due = t->now + 1 * S;
    }
}

static void pt_cancel(struct pt *t, int i)
{
    struct pt_ord *d = &t->ord[i];
    hh_time_t when;
    bool send;
    int rc;

    d->op = PT_OP_NONE;
    if (hh_ord_state_terminal(d->o->state))
        return;
    if (!d->o->order_id) {           /* not known yet: after the find */
        d->op = PT_OP_CANCEL;
        d->op_due = t->now + 1 * S;
        return;
    }
    if (hh_ord_cancel(d->o, t->now, &send, NULL) || !send)
        return;
    if (!pt_allow(t)) {
        d->op = PT_OP_CANCEL;
        d->op_due = pt_later(t);
        return;
    }
    rc = t->b.ops->cancel(t->b.impl, d->o->order_id);
    hh_breaker_record(&t->brk, t->now, rc);
    PT_LOG(t, "cancel %d -> %s", i, hh_errname(rc));
    if (rc == HH_OK)
        return;
    if (rc == HH_ESTATE) {
        hh_ord_cancel_refused(d->o, t->now, NULL);   /* too late: a report or the poll says */
        return;
    }
    if (hh_retry_next(&t->retry, &d->tr, rc, t->now, &when)) {
        d->op = PT_OP_CANCEL;
        d->op_due = when;
        return;
    }
    memset(&d->tr, 0, sizeof d->tr);
    hh_ord_cancel_refused(d->o, t->now, NULL);
}

static void pt_modify(struct pt *t, int i, hh_qty_t qty, hh_price_t limit)
{
    struct pt_ord *d = &t->ord[i];
    int rc;

    if (!d->o->order_id || hh_ord_state_terminal(d->o->state) || !pt_allow(t))
        return;
    rc = t->b.ops->modify(t->b.impl, d->o->order_id, qty, limit, 0);
    hh_breaker_record(&t->brk, t->now, rc);
    PT_LOG(t, "modify %d qty %lld limit %lld -> %s", i, (long long)qty, (long long)limit,
           hh_errname(rc));
    if (rc != HH_OK && rc != HH_ESTATE && rc != HH_EUNAVAIL && rc != HH_EINVAL)
        pt_fail(t, "modify of order %d: %s", i, hh_errname(rc));
}

static void pt_hsl_do(struct pt *t, int h, struct hh_hsl_action *a)
{
    struct hh_hsl *m = &t->hsl[h];

    for (int guard = 0; guard < 16 && a->kind != HH_HSL_ACT_NONE; guard++) {
        struct hh_hsl_action next;
        struct hh_broker_order b;
        int i, rc;

        memset(&next, 0, sizeof next);
        next.kind = HH_HSL_ACT_NONE;
        PT_LOG(t, "stop %d: %s (state %s)", h, hh_hsl_act_name(a->kind),
               hh_hsl_state_name(m->state));
        switch (a->kind) {
        case HH_HSL_ACT_PLACE_LIMIT:
        case HH_HSL_ACT_PLACE_MARKET: {
            bool mkt = a->kind == HH_HSL_ACT_PLACE_MARKET;
            int k = m->spec.iid == t->iid[0] ? 0 : 1;

            i = pt_new_ord(t, mkt ? PT_HSL_MKT : PT_HSL_LIM, k, mkt ? &m->mkt : &m->lim, h);
            if (i >= 0)
                pt_place(t, i);
            break;
        }
        case HH_HSL_ACT_CANCEL:
            if (!pt_allow(t)) {
                hh_hsl_cancel_result(m, HH_EUNAVAIL, t->now, &next);
                break;
            }
            rc = t->b.ops->cancel(t->b.impl, a->order_id);
            hh_breaker_record(&t->brk, t->now, rc);
            hh_hsl_cancel_result(m, rc, t->now, &next);
            break;
        case HH_HSL_ACT_POLL:
            if (!pt_allow(t))
                break;
            rc = t->b.ops->status(t->b.impl, a->order_id, &b);
            hh_breaker_record(&t->brk, t->now, rc);
            if (rc == HH_OK) {
                uint64_t v;

                if (hh_u64map_get(&t->byid, b.order_id, &v))
                    pt_adopt(t, (int)(v - 1), &b);     /* runs the next action */
            }
            break;
        case HH_HSL_ACT_DONE:
        case HH_HSL_ACT_ALERT:
        case HH_HSL_ACT_NONE:
            break;
        }
        *a = next;
    }
}

static uint64_t pt_fill_digest(const struct hh_report *r)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    const uint64_t f[] = { r->order_id, (uint64_t)r->qty, (uint64_t)r->price,
                           (uint64_t)r->filled, (uint64_t)r->ts };

    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        h = (h ^ f[i]) * 0x100000001b3ULL;
    return h;
}

static void pt_on_report(void *ctx, const struct hh_report *r)
{
    struct pt *t = ctx;
    struct pt_ord *d;
    struct hh_diag diag = { "" };
    uint64_t v;
    int i, rc;

    if (r->kind == HH_RPT_FILL) {
        /* a copy (duplicate_update_pct) is recognised by its exec id and
         * must be the first report again */
        if (hh_u64map_get(&t->execs, r->exec_id, &v)) {
            if (v != pt_fill_digest(r))
                pt_fail(t, "exec id %llu delivered twice, differently",
                        (unsigned long long)r->exec_id);
            t->hit[T_DUP]++;
            return;
        }
        hh_u64map_put(&t->execs, r->exec_id, pt_fill_digest(r));
    }
    if (!hh_u64map_get(&t->byid, r->order_id, &v)) {
        t->hit[T_UNKNOWN_RPT]++;     /* a timed-out placement not found yet */
        return;
    }
    i = (int)(v - 1);
    d = &t->ord[i];
    if (d->role == PT_HSL_LIM || d->role == PT_HSL_MKT) {
        struct hh_hsl_action a;

        rc = hh_hsl_on_report(&t->hsl[d->hsl], r, t->now, &a, &diag);
        if (rc == HH_OK)
            pt_hsl_do(t, d->hsl, &a);
    } else {
        rc = hh_ord_on_report(d->o, r, t->now, NULL, &diag);
    }
    if (rc == HH_ESTATE && (r->kind == HH_RPT_ACK || r->kind == HH_RPT_MODIFIED)) {
        t->hit[T_STALE_REFUSED]++;   /* overtaken by a poll: harmless, audited */
    } else if (rc) {
        pt_fail(t, "report %d for order %d refused: %s: %s", (int)r->kind, i, hh_errname(rc),
                diag.msg);
    }
}

/* The row of order `id` in the listing t->bo[0..n) (in id order, with the
 * orders not listed yet left out), or NULL. */
static const struct hh_broker_order *pt_listed(const struct pt *t, size_t n, uint64_t id)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (t->bo[mid].order_id == id)
            return &t->bo[mid];
        if (t->bo[mid].order_id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* The reconciliation poll: every order adopted from the broker's book. */
static void pt_poll(struct pt *t, bool bypass)
{
    size_t n;
    int rc;

    if (!bypass && !pt_allow(t))
        return;
    rc = t->b.ops->orders(t->b.impl, t->bo, sizeof t->bo / sizeof t->bo[0], &n);
    if (!bypass)
        hh_breaker_record(&t->brk, t->now, rc);
    if (rc) {
        t->hit[T_POLL_FAILED]++;
        if (bypass)
            pt_fail(t, "final poll: %s", hh_errname(rc));
        return;
    }
    PT_LOG(t, "poll: %zu orders", n);
    if (n > sizeof t->bo / sizeof t->bo[0]) {
        pt_fail(t, "too many orders");
        return;
    }
    for (size_t j = 0; j < n; j++) {
        bool known = false;

        for (int i = 0; i < t->nord && !known; i++)
            known = !strcmp(t->ord[i].o->req.client_id, t->bo[j].client_id);
        if (!known)
            pt_fail(t, "broker order %s unknown locally", t->bo[j].client_id);
    }
    /* orders created while adopting (a stop's market) are not in this
     * snapshot: the next poll sees them */
    for (int i = 0, nord = t->nord; i < nord; i++) {
        struct pt_ord *d = &t->ord[i];
        const struct hh_broker_order *b = NULL;

        if (d->o->order_id) {
            b = pt_listed(t, n, d->o->order_id);
        } else {
            for (size_t j = n; j-- > 0;)
                if (!strcmp(t->bo[j].client_id, d->o->req.client_id)) {
                    b = &t->bo[j];
                    break;
                }
        }
        if (!b) {
            /* not at the broker: only orders a 503 or the breaker kept
             * from it, or one not listed yet (book_lag); never one whose
             * placement timed out a book lag ago */
            if (d->op == PT_OP_FIND && t->now >= d->placed_at + t->cfg.book_lag)
                pt_fail(t, "order %d timed out but is not in the order book", i);
            continue;
        }
        pt_adopt(t, i, b);
    }
}

/* The paper book never loses a fill: each position is the sum of its
 * orders' fills (dropped reports lose only the notification). */
static void pt_check_book(struct pt *t)
{
    hh_qty_t sum[2] = { 0, 0 };

    for (size_t id = 1; id <= hh_paper_order_count(t->p); id++) {
        struct hh_broker_order b;

        hh_paper_peek(t->p, id, &b);
        for (int k = 0; k < t->ninst; k++)
            if (b.iid == t->iid[k])
                sum[k] += b.side == HH_BUY ? b.filled : -b.filled;
    }
    for (int k = 0; k < t->ninst; k++)
        if (sum[k] != hh_paper_position(t->p, t->iid[k]))
            pt_fail(t, "paper book of %d: fills sum to %lld, position %lld", k,
                    (long long)sum[k], (long long)hh_paper_position(t->p, t->iid[k]));
}

/* Checks at every step. */
static void pt_check(struct pt *t)
{
    for (int k = 0; k < t->ninst; k++) {
        hh_qty_t pos = hh_paper_position(t->p, t->iid[k]), rem = 0;

        if (pos < 0)
            pt_fail(t, "double exit: position of %d below zero (%lld)", k, (long long)pos);
        for (int j = 0; j < t->nsells; j++) {
            struct hh_broker_order b;

            hh_paper_peek(t->p, t->sells[j], &b);
            if (b.iid == t->iid[k] && !hh_ord_state_terminal(b.state))
                rem += b.qty - b.filled;
        }
        if (pos - rem < 0)
            pt_fail(t, "exits may oversell: position %lld, sells working %lld", (long long)pos,
                    (long long)rem);
    }
    /* prune sells that can no longer trade */
    for (int j = 0; j < t->nsells;) {
        struct hh_broker_order b;

        hh_paper_peek(t->p, t->sells[j], &b);
        if (hh_ord_state_terminal(b.state))
            t->sells[j] = t->sells[--t->nsells];
        else
            j++;
    }
    /* local knowledge only ever lags the broker's */
    for (int i = 0; i < t->nord; i++) {
        struct pt_ord *d = &t->ord[i];
        struct hh_broker_order b;

        if (d->settled || !d->o->order_id)
            continue;
        hh_paper_peek(t->p, d->o->order_id, &b);
        if (d->o->filled > b.filled)
            pt_fail(t, "order %d: local filled %lld ahead of the broker's %lld", i,
                    (long long)d->o->filled, (long long)b.filled);
        if (hh_ord_state_terminal(d->o->state)) {
            if (d->o->state != b.state || d->o->filled != b.filled)
                pt_fail(t, "order %d: local %s/%lld but the broker has %s/%lld", i,
                        hh_ord_state_name(d->o->state), (long long)d->o->filled,
                        hh_ord_state_name(b.state), (long long)b.filled);
            d->settled = true;
        }
    }
}

static hh_price_t pt_round(hh_price_t p)
{
    return hh_fx_floor(p, TICK);
}

/* Is anything still in flight (a pending call, a stop not finished)? */
static bool pt_busy(const struct pt *t)
{
    for (int i = 0; i < t->nord; i++)
        if (t->ord[i].op != PT_OP_NONE)
            return true;
    for (int h = 0; h < t->nhsl; h++)
        if (t->hsl[h].state != HH_HSL_DONE && t->hsl[h].state != HH_HSL_FAILED)
            return true;
    return false;
}

/* Trading decisions for instrument k after its tick. */
static void pt_trade(struct pt *t, int k, bool entries)
{
    struct pt_trade *tr = &t->tr[k];
    hh_price_t px = t->px[k];
    hh_qty_t pos, pending, avail;
    struct hh_ord *entry;

    if (!tr->active) {
        struct hh_order_req r;
        int i;

        if (!entries || t->nord > PT_ORDERS - 24 || !pt_chance(t, 40))
            return;
        memset(&r, 0, sizeof r);
        i = pt_new_ord(t, PT_ENTRY, k, NULL, -1);
        snprintf(r.client_id, sizeof r.client_id, "K%d-O%d-E", k, i);
        r.iid = t->iid[k];
        r.side = HH_BUY;
        r.qty = 10 * (1 + pt_rn(t, 10));
        r.type = pt_chance(t, 500) ? HH_ORD_MARKET : HH_ORD_LIMIT;
        r.limit = r.type == HH_ORD_LIMIT ? px - TICK * pt_rn(t, 4) : 0;
        hh_ord_init(&t->ord[i].own, &r, t->now);
        hh_ord_sent(&t->ord[i].own, t->now, NULL);
        *tr = (struct pt_trade){ true, pt_round(px - px * (3 + pt_rn(t, 8)) / 1000),
                                 pt_round(px + px * (3 + pt_rn(t, 8)) / 1000), i, -1, -1 };
        PT_LOG(t, "trade on %d: entry %d, stop %lld target %lld", k, i, (long long)tr->stop,
               (long long)tr->target);
        pt_place(t, i);
        return;
    }
    entry = t->ord[tr->entry].o;
    /* the entry: sometimes cancelled (racing its fills), sometimes chased */
    if (!hh_ord_state_terminal(entry->state) && entry->state != HH_OS_CANCEL_PENDING) {
        if (pt_chance(t, 15))
            pt_cancel(t, tr->entry);
        else if (entry->req.type == HH_ORD_LIMIT && pt_chance(t, 10))
            pt_modify(t, tr->entry, 0, px);
    }
    pos = pt_position(t, k);
    pending = pt_pending_exits(t, k);
    /* the target: a limit sell for what no other exit covers */
    if (pos > 0 && (tr->tgt < 0 || hh_ord_state_terminal(t->ord[tr->tgt].o->state)) &&
        (tr->hsl < 0 || t->hsl[tr->hsl].state >= HH_HSL_DONE) && t->nord < PT_ORDERS - 8 &&
        pt_chance(t, 150)) {
        avail = hh_ord_exit_qty(pos, HH_SELL, pending, pos);
        if (avail > 0) {
            struct hh_order_req r;
            int i = pt_new_ord(t, PT_TARGET, k, NULL, -1);

            memset(&r, 0, sizeof r);
            snprintf(r.client_id, sizeof r.client_id, "K%d-O%d-T", k, i);
            r.iid = t->iid[k];
            r.side = HH_SELL;
            r.type = HH_ORD_LIMIT;
            r.qty = pt_chance(t, 500) ? avail : (avail + 1) / 2;
            r.limit = tr->target;
            hh_ord_init(&t->ord[i].own, &r, t->now);
            hh_ord_sent(&t->ord[i].own, t->now, NULL);
            tr->tgt = i;
            pt_place(t, i);
        }
    }
    if (tr->tgt >= 0) {
        struct hh_ord *o = t->ord[tr->tgt].o;

        if (o->state == HH_OS_OPEN || o->state == HH_OS_PARTIAL) {
            if (hh_ord_leaves(o) >= 2 && pt_chance(t, 10))
                pt_modify(t, tr->tgt, o->filled + (hh_ord_leaves(o) + 1) / 2, 0);
            else if (pt_chance(t, 5))
                pt_cancel(t, tr->tgt);
        }
    }
    /* the stop: a hybrid stop-loss for what the position still has */
    if (pos > 0 && px <= tr->stop && (tr->hsl < 0 || t->hsl[tr->hsl].state >= HH_HSL_DONE) &&
        t->nhsl < PT_HSL && t->nord < PT_ORDERS - 4) {
        avail = hh_ord_exit_qty(pos, HH_SELL, pt_pending_exits(t, k), pos);
        if (avail < pos)
            t->hit[T_REDUCED]++;
        if (tr->tgt >= 0 && !hh_ord_state_terminal(t->ord[tr->tgt].o->state) &&
            t->ord[tr->tgt].o->state != HH_OS_CANCEL_PENDING)
            pt_cancel(t, tr->tgt);   /* its quantity comes back after confirmation */
        if (avail > 0) {
            struct hh_hsl_spec sp;
            struct hh_hsl_action a;
            int h = t->nhsl++;

            memset(&sp, 0, sizeof sp);
            sp.iid = t->iid[k];
            sp.side = HH_SELL;
            sp.qty = avail;
            sp.trigger = tr->stop;
            sp.tick = TICK;
            snprintf(sp.limit_client_id, sizeof sp.limit_client_id, "K%d-H%d-SL", k, h);
            snprintf(sp.market_client_id, sizeof sp.market_client_id, "K%d-H%d-SM", k, h);
            hh_hsl_init(&t->hsl[h], &t->hc);
            t->minpx[h] = px;
            tr->hsl = h;
            if (hh_hsl_trigger(&t->hsl[h], &sp, t->now, &a))
                pt_fail(t, "stop %d: trigger refused", h);
            pt_hsl_do(t, h, &a);
        }
    }
    /* a manual exit now and then */
    if (pos > 0 && pt_chance(t, 4) && t->nord < PT_ORDERS - 8) {
        /* recomputed: the stop above may have just taken its share */
        avail = hh_ord_exit_qty(pos, HH_SELL, pt_pending_exits(t, k), pos);
        if (avail > 0) {
            struct hh_order_req r;
            int i = pt_new_ord(t, PT_EXIT_MKT, k, NULL, -1);

            memset(&r, 0, sizeof r);
            snprintf(r.client_id, sizeof r.client_id, "K%d-O%d-X", k, i);
            r.iid = t->iid[k];
            r.side = HH_SELL;
            r.type = HH_ORD_MARKET;
            r.qty = avail;
            hh_ord_init(&t->ord[i].own, &r, t->now);
            hh_ord_sent(&t->ord[i].own, t->now, NULL);
            pt_place(t, i);
        }
    }
    /* the trade is over when nothing of it can trade any more */
    if (hh_ord_state_terminal(entry->state) && pos == 0 && pt_pending_exits(t, k) == 0)
        tr->active = false;
}

static void pt_schedule(struct pt *t)
{
    static const int drop[] = { 0, 0, 5, 20, 50 };
    static const int64_t delay[] = { 0, 0, 250 * MS, 1500 * MS };
    static const int tout[] = { 0, 0, 5, 20 };
    static const int64_t lat[] = { 0, 0, 50 * MS, 400 * MS };
    static const int fill[] = { 1000, 1000, 500, 200 };
    static const int dup[] = { 0, 0, 5, 20 };
    static const int64_t lag[] = { 0, 0, 500 * MS, 2000 * MS };

    hh_paper_config_defaults(&t->cfg);
    t->cfg.seed = t->seed;
    t->cfg.drop_update_pct = PCT(drop[pt_rn(t, 5)]);
    t->cfg.delay_update = delay[pt_rn(t, 4)];
    t->cfg.timeout_pct = PCT(tout[pt_rn(t, 4)]);
    t->cfg.reject_pct = pt_chance(t, 300) ? PCT(3) : 0;
    t->cfg.latency = lat[pt_rn(t, 4)];
    t->cfg.fill_ratio = (hh_ratio_t)fill[pt_rn(t, 4)] * (HH_RATIO_SCALE / 1000);
    t->cfg.n_unavailable = pt_rn(t, 3);
    for (int w = 0; w < t->cfg.n_unavailable; w++) {
        int64_t from = HH_TOD(9, 15) + (5 + pt_rn(t, 105)) * S;

        t->cfg.unavailable[w] = (struct hh_paper_window){ from, from + (2 + pt_rn(t, 24)) * S };
    }
    t->cfg.n_disconnect = pt_rn(t, 3);
    for (int w = 0; w < t->cfg.n_disconnect; w++) {
        int64_t from = HH_TOD(9, 15) + (5 + pt_rn(t, 105)) * S;

        t->cfg.disconnect[w] = (struct hh_paper_window){ from, from + (1 + pt_rn(t, 20)) * S };
    }
    t->ninst = 1 + pt_rn(t, 2);
    t->cfg.duplicate_update_pct = PCT(dup[pt_rn(t, 4)]);
    t->cfg.reorder_update_pct = PCT(dup[pt_rn(t, 4)]);
    t->cfg.book_lag = lag[pt_rn(t, 4)];
}

/* One schedule; returns the number of failed checks (t->why: the first). */
static int pt_run(struct pt *t, const struct hh_instruments *inst, const hh_iid_t iid[2],
                  uint64_t seed, bool verbose)
{
    struct hh_retry_policy pol = { 3, 1000 * MS, 8000 * MS, PCT(0.2) };
    struct hh_breaker_config bc = { 5, 30 * S, 20 * S };
    hh_time_t next_tick, next_poll, end;

    memset(t, 0, sizeof *t);
    t->seed = seed;
    t->rng = seed * 0x2545F4914F6CDD1DULL + 1;
    t->verbose = verbose;
    t->inst = inst;
    t->iid[0] = iid[0];
    t->iid[1] = iid[1];
    pt_schedule(t);
    t->t0 = t->now = day0();
    hh_clock_init(&t->clock, true);
    hh_clock_advance(&t->clock, t->now);
    t->p = hh_paper_new(inst, &t->clock, &t->cfg);
    assert_non_null(t->p);
    t->b = hh_paper_broker(t->p);
    t->b.ops->set_sink(t->b.impl, pt_on_report, t);
    hh_retry_init(&t->retry, &pol, seed);
    hh_breaker_init(&t->brk, &bc, NULL, NULL);
    t->hc = (struct hh_hsl_config){ PCT(0.5), 2000 * MS, 1000 * MS };
    hh_u64map_init(&t->byid, 256);
    hh_u64map_init(&t->execs, 256);
    for (int k = 0; k < 2; k++) {
        t->px[k] = P(1000) + k * P(500);
        t->tr[k] = (struct pt_trade){ false, 0, 0, -1, -1, -1 };
    }
    next_tick = t->t0 + PT_TICK;
    next_poll = t->t0 + 12 * S;
    end = t->t0 + PT_END_S * S;
    for (;;) {
        hh_time_t next = next_tick < next_poll ? next_tick : next_poll, pd;

        pd = hh_paper_next_due(t->p);
        if (pd < next)
            next = pd;
        for (int i = 0; i < t->nord; i++)
            if (t->ord[i].op != PT_OP_NONE && t->ord[i].op_due < next)
                next = t->ord[i].op_due;
        for (int h = 0; h < t->nhsl; h++)
            if (t->hsl[h].deadline != HH_TIME_NONE && t->hsl[h].deadline < next)
                next = t->hsl[h].deadline;
        if (next < t->now)
            next = t->now;
        if (t->fails || next > end + PT_DRAIN_S * S || (next > end && !pt_busy(t)))
            break;
        t->now = next;
        hh_clock_advance(&t->clock, t->now);
        hh_breaker_tick(&t->brk, t->now);
        hh_paper_pump(t->p);
        for (int i = 0; i < t->nord; i++) {
            struct pt_ord *d = &t->ord[i];

            if (d->op == PT_OP_NONE || d->op_due > t->now)
                continue;
            if (d->op == PT_OP_PLACE)
                pt_place(t, i);
            else if (d->op == PT_OP_FIND)
                pt_find(t, i);
            else
                pt_cancel(t, i);
        }
        for (int h = 0; h < t->nhsl; h++) {
            struct hh_hsl_action a;

            if (t->hsl[h].deadline == HH_TIME_NONE || t->hsl[h].deadline > t->now)
                continue;
            hh_hsl_on_timer(&t->hsl[h], t->now, &a);
            pt_hsl_do(t, h, &a);
        }
        if (t->now >= next_poll) {
            pt_check_book(t);
            pt_poll(t, false);
            next_poll += 12 * S;
        }
        if (t->now >= next_tick) {
            for (int k = 0; k < t->ninst; k++) {
                struct hh_tick tk;
                int r = pt_rn(t, 1000);
                hh_price_t step = r < 8 ? -t->px[k] * (10 + pt_rn(t, 10)) / 1000
                                  : r < 12 ? t->px[k] / 100
                                  : (pt_rn(t, 5) - 2) * TICK;

                t->px[k] = pt_round(t->px[k] + step);
                if (t->px[k] < P(100))
                    t->px[k] = P(100);
                tk = (struct hh_tick){ t->now, t->iid[k], t->px[k], 20 + pt_rn(t, 400), 0, 0 };
                t->b.ops->on_tick(t->b.impl, &tk);
                for (int h = 0; h < t->nhsl; h++)
                    if (t->hsl[h].spec.iid == t->iid[k] && t->hsl[h].state == HH_HSL_WORKING &&
                        t->px[k] < t->minpx[h])
                        t->minpx[h] = t->px[k];
                if (t->now < end)
                    pt_trade(t, k, t->now < t->t0 + PT_TRADE_S * S);
            }
            next_tick += PT_TICK;
        }
        pt_check(t);
    }
    /* the end: a poll past every window, then everything must agree */
    if (!t->fails) {
        t->now = (t->now > end ? t->now : end) + 1 * S + t->cfg.book_lag;
        hh_clock_advance(&t->clock, t->now);
        hh_paper_pump(t->p);
        pt_poll(t, true);
        pt_check(t);
        pt_check_book(t);
    }
    if (!t->fails) {
        size_t n = 0;

        for (int i = 0; i < t->nord; i++) {
            struct pt_ord *d = &t->ord[i];
            struct hh_broker_order b;

            if (!d->o->order_id)
                continue;
            n++;
            hh_paper_peek(t->p, d->o->order_id, &b);
            if (!hh_ord_matches(d->o, &b))
                pt_fail(t, "after the final poll order %d is %s %lld/%lld, the broker's %s "
                        "%lld/%lld", i, hh_ord_state_name(d->o->state), (long long)d->o->filled,
                        (long long)d->o->req.qty, hh_ord_state_name(b.state),
                        (long long)b.filled, (long long)b.qty);
        }
        if (n != hh_paper_order_count(t->p))
            pt_fail(t, "%zu local orders with ids, %zu at the broker", n,
                    hh_paper_order_count(t->p));
        for (int k = 0; k < t->ninst; k++)
            if (pt_position(t, k) != hh_paper_position(t->p, t->iid[k]))
                pt_fail(t, "position of %d: local %lld, broker %lld", k,
                        (long long)pt_position(t, k),
                        (long long)hh_paper_position(t->p, t->iid[k]));
        for (int h = 0; h < t->nhsl; h++)
            if (t->hsl[h].state != HH_HSL_DONE && t->hsl[h].state != HH_HSL_FAILED)
                pt_fail(t, "stop %d stuck in %s", h, hh_hsl_state_name(t->hsl[h].state));
        if (hh_paper_stats(t->p)->dup_client_ids)
            pt_fail(t, "a client id was placed twice");
    }
    /* what this schedule exercised */
    {
        const struct hh_paper_stats *st = hh_paper_stats(t->p);

        t->hit[T_DROP] = st->dropped;
        t->hit[T_DELAY] = st->delayed;
        t->hit[T_503] = st->unavailable;
        t->hit[T_TIMEOUT] = st->timeouts;
        t->hit[T_DISCONNECT] = st->disconnect_lost;
        t->hit[T_CANCEL_RACE] = st->cancel_raced + st->cancel_too_late;
        t->hit[T_PARTIAL] = st->partial_fills;
        t->hit[T_REJECT] = st->rejected;
        t->hit[T_BREAKER_OPEN] = t->brk.opens;
        t->hit[T_REORDER] = st->reordered;
        t->hit[T_LAG] = st->lag_hidden;
        for (int h = 0; h < t->nhsl; h++) {
            const struct hh_hsl *m = &t->hsl[h];

            if (m->state == HH_HSL_FAILED)
                t->hit[T_HSL_FAILED]++;
            if (m->resolved_by_poll)
                t->hit[T_HSL_POLL]++;
            if (!m->mkt_live && m->cancels == 0 && m->state == HH_HSL_DONE)
                t->hit[T_HSL_FILLED]++;
            else if (!m->mkt_live && m->cancel_too_late)
                t->hit[T_HSL_TOO_LATE]++;
            else if (m->mkt_live && m->cancels > 0 && m->lim.filled > 0)
                t->hit[T_HSL_PARTIAL_CANCEL]++;
            else if (m->mkt_live && m->cancels > 0 && t->minpx[h] < m->limit)
                t->hit[T_HSL_GAP]++;
            else if (m->mkt_live && m->cancels > 0)
                t->hit[T_HSL_UNTRIGGERED]++;
        }
    }
    for (int i = 0; i < t->nord; i++)
        if (t->ord[i].own_live)
            hh_ord_free(&t->ord[i].own);
    for (int h = 0; h < t->nhsl; h++)
        hh_hsl_free(&t->hsl[h]);
    hh_u64map_free(&t->byid);
    hh_u64map_free(&t->execs);
    hh_breaker_free(&t->brk);
    hh_paper_free(t->p);
    return t->fails;
}

static void test_property_fault_schedules(void **state)
{
    hh_iid_t iid[2];
    struct hh_instruments *inst = make_inst(iid);
    struct pt *t = calloc(1, sizeof *t);
    const char *one = getenv("HH_PAPER_SEED"), *many = getenv("HH_PAPER_SCHEDULES");
    uint64_t first = one ? strtoull(one, NULL, 10) : 1;
    uint64_t n = one ? 1 : many ? strtoull(many, NULL, 10) : 10000;
    uint64_t schedules[T_N], events[T_N], failed = 0, orders = 0;

    (void)state;
    assert_non_null(t);
    memset(schedules, 0, sizeof schedules);
    memset(events, 0, sizeof events);
    for (uint64_t s = first; s < first + n; s++) {
        if (pt_run(t, inst, iid, s, one != NULL)) {
            if (failed++ < 10)
                printf("property: seed %llu FAILED: %s (replay: HH_PAPER_SEED=%llu)\n",
                       (unsigned long long)s, t->why, (unsigned long long)s);
        }
        orders += (uint64_t)t->nord;
        for (int k = 0; k < T_N; k++) {
            schedules[k] += t->hit[k] > 0;
            events[k] += t->hit[k];
        }
    }
    printf("property: %llu schedules, %llu orders, %llu failed\n", (unsigned long long)n,
           (unsigned long long)orders, (unsigned long long)failed);
    for (int k = 0; k < T_N; k++)
        printf("  %-46s %6llu schedules %8llu times\n", tally_names[k],
               (unsigned long long)schedules[k], (unsigned long long)events[k]);
    free(t);
    hh_inst_free(inst);
    assert_int_equal(failed, 0);
    if (!one && n >= 10000) {
        /* every fault and every path of the stop was exercised */
        for (int k = 0; k < T_N; k++)
            if (k != T_QTY_DIVERGED && k != T_HSL_FAILED)
                assert_true(schedules[k] > 0);
    }
}

/* ---- 5. the stream's faults never change the book ------------------------------ */

#define SF_STEPS 600                    /* 100 ms each */
#define SF_END (SF_STEPS * 100 * MS + 5 * S)   /* past every hold, lag and window */

/* One scripted run: the same calls and market data whatever the stream
 * does (the script never looks at an answer that a stream fault or the
 * book lag could change). */
struct sf {
    hh_iid_t iid[2];
    struct hh_clock clock;
    struct hh_paper *p;
    struct hh_broker b;
    uint64_t rng;
    struct hh_u64map fills;             /* exec id -> digest of its first report */
    uint64_t copies;                    /* FILL reports repeating an exec id */
    uint64_t contradictions;            /* ... that differ from the first */
};

static uint64_t sf_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static int sf_rn(uint64_t *s, int n)
{
    return (int)(sf_rand(s) % (uint64_t)n);
}

static uint64_t sf_digest(const struct hh_report *r)
{
    const uint64_t f[] = { r->order_id, (uint64_t)r->ts, r->iid, (uint64_t)r->side,
                           (uint64_t)r->qty, (uint64_t)r->price, (uint64_t)r->filled,
                           (uint64_t)r->leaves };
    uint64_t h = 0xcbf29ce484222325ULL;

    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        h = (h ^ f[i]) * 0x100000001b3ULL;
    return h;
}

/* A fill repeated on the stream is a copy of the first: same exec id, same
 * contents. */
static void sf_report(void *ctx, const struct hh_report *r)
{
    struct sf *s = ctx;
    uint64_t v;

    if (r->kind != HH_RPT_FILL)
        return;
    if (!hh_u64map_get(&s->fills, r->exec_id, &v)) {
        hh_u64map_put(&s->fills, r->exec_id, sf_digest(r));
        return;
    }
    s->copies++;
    s->contradictions += v != sf_digest(r);
}

/* One step of the script at day0 + step x 100 ms. */
static void sf_step(struct sf *s, int step, hh_price_t px[2])
{
    static const enum hh_ord_type types[] = { HH_ORD_MARKET, HH_ORD_LIMIT, HH_ORD_STOP,
                                              HH_ORD_STOP_LIMIT };
    struct hh_broker_order bo;
    size_t n = hh_paper_order_count(s->p);
    int k = sf_rn(&s->rng, 2);

    if (sf_rn(&s->rng, 100) < 30) {
        struct hh_order_req r = { .iid = s->iid[k], .qty = 1 + sf_rn(&s->rng, 50) };
        uint64_t id;

        snprintf(r.client_id, sizeof r.client_id, "S%d", step);
        r.side = sf_rn(&s->rng, 2) ? HH_BUY : HH_SELL;
        r.type = types[sf_rn(&s->rng, 4)];
        r.trigger = r.type >= HH_ORD_STOP ? px[k] + (r.side == HH_BUY ? 2 : -2) * TICK : 0;
        r.limit = r.type == HH_ORD_LIMIT || r.type == HH_ORD_STOP_LIMIT
                      ? px[k] + (sf_rn(&s->rng, 7) - 3) * TICK : 0;
        s->b.ops->place(s->b.impl, &r, &id);
    }
    if (n && sf_rn(&s->rng, 100) < 10)
        s->b.ops->cancel(s->b.impl, 1 + (uint64_t)sf_rn(&s->rng, (int)n));
    if (n && sf_rn(&s->rng, 100) < 5)
        s->b.ops->modify(s->b.impl, 1 + (uint64_t)sf_rn(&s->rng, (int)n), 0, px[k], 0);
    if (n && sf_rn(&s->rng, 100) < 10) {
        char cid[HH_CLIENT_ID_MAX];

        snprintf(cid, sizeof cid, "S%d", sf_rn(&s->rng, step + 1));
        s->b.ops->find(s->b.impl, cid, &bo);
        s->b.ops->status(s->b.impl, 1 + (uint64_t)sf_rn(&s->rng, (int)n), &bo);
    }
    for (int j = 0; j < 2; j++) {
        struct hh_tick t = { .ts = s->clock.now, .iid = s->iid[j], .qty = 1 + sf_rn(&s->rng, 80) };

        px[j] += (sf_rn(&s->rng, 5) - 2) * TICK;
        t.price = px[j];
        s->b.ops->on_tick(s->b.impl, &t);
    }
}

/* Run the script of `script` against a broker with cfg; the broker is left
 * in s->p at SF_END. */
static void sf_run(struct sf *s, const struct hh_instruments *inst, const hh_iid_t iid[2],
                   const struct hh_paper_config *cfg, uint64_t script)
{
    hh_price_t px[2] = { P(1000), P(1500) };

    memset(s, 0, sizeof *s);
    s->iid[0] = iid[0];
    s->iid[1] = iid[1];
    s->rng = script;
    hh_clock_init(&s->clock, true);
    hh_clock_advance(&s->clock, day0());
    assert_non_null(s->p = hh_paper_new(inst, &s->clock, cfg));
    s->b = hh_paper_broker(s->p);
    s->b.ops->set_sink(s->b.impl, sf_report, s);
    hh_u64map_init(&s->fills, 256);
    for (int step = 0; step < SF_STEPS; step++) {
        hh_clock_advance(&s->clock, day0() + step * 100 * MS);
        hh_paper_pump(s->p);
        sf_step(s, step, px);
    }
    hh_clock_advance(&s->clock, day0() + SF_END);
    hh_paper_pump(s->p);
    hh_u64map_free(&s->fills);
}

/* The book's faults (the same in both runs) and, into `faulted`, the
 * stream's on top of them. */
static void sf_configs(uint64_t seed, struct hh_paper_config *base,
                       struct hh_paper_config *faulted)
{
    static const char *const syms[] = { "INFY", "NSE:TCS" };
    uint64_t r = seed * 0x2545F4914F6CDD1DULL;

    hh_paper_config_defaults(base);
    base->seed = seed;
    base->latency = sf_rn(&r, 3) * 150 * MS;
    base->fill_ratio = sf_rn(&r, 2) ? HH_RATIO_SCALE : HH_RATIO_SCALE / 2;
    base->reject_pct = PCT(sf_rn(&r, 2) * 5);
    base->timeout_pct = PCT(sf_rn(&r, 2) * 10);
    base->n_unavailable = sf_rn(&r, 2);
    base->unavailable[0] = win(9, 15, 10 + sf_rn(&r, 40), 9, 15, 55);
    base->n_external = sf_rn(&r, 4);
    for (int i = 0; i < base->n_external; i++)
        base->external[i] = ext_tod(HH_TOD(9, 15) + (1 + sf_rn(&r, 58)) * S,
                                    (enum hh_paper_ext_action)sf_rn(&r, 3), syms[sf_rn(&r, 2)]);
    *faulted = *base;
    faulted->drop_update_pct = PCT(sf_rn(&r, 3) * 10);
    faulted->delay_update = sf_rn(&r, 2) * 200 * MS;
    faulted->duplicate_update_pct = PCT(5 + sf_rn(&r, 46));
    faulted->reorder_update_pct = PCT(5 + sf_rn(&r, 46));
    faulted->book_lag = sf_rn(&r, 3) * 1000 * MS;
    faulted->n_disconnect = sf_rn(&r, 3);
    for (int w = 0; w < faulted->n_disconnect; w++) {
        int from = 5 + sf_rn(&r, 50);

        faulted->disconnect[w] = win(9, 15, from, 9, 15, from + 1 + sf_rn(&r, 3));
    }
}

/* Both books equal: every order, every position, the funds. */
static void sf_compare(uint64_t seed, const struct sf *a, const struct sf *b)
{
    hh_money_t fa, fb;

    if (hh_paper_order_count(a->p) != hh_paper_order_count(b->p))
        fail_msg("seed %llu: %zu orders without stream faults, %zu with",
                 (unsigned long long)seed, hh_paper_order_count(a->p),
                 hh_paper_order_count(b->p));
    for (size_t id = 1; id <= hh_paper_order_count(a->p); id++) {
        struct hh_broker_order x, y;

        hh_paper_peek(a->p, id, &x);
        hh_paper_peek(b->p, id, &y);
        if (memcmp(&x, &y, sizeof x))
            fail_msg("seed %llu: order %zu differs: %s %lld/%lld vs %s %lld/%lld",
                     (unsigned long long)seed, id, hh_ord_state_name(x.state),
                     (long long)x.filled, (long long)x.qty, hh_ord_state_name(y.state),
                     (long long)y.filled, (long long)y.qty);
    }
    for (int k = 0; k < 2; k++)
        if (hh_paper_position(a->p, a->iid[k]) != hh_paper_position(b->p, b->iid[k]))
            fail_msg("seed %llu: position %d differs", (unsigned long long)seed, k);
    assert_int_equal(a->b.ops->funds(a->b.impl, &fa), HH_OK);
    assert_int_equal(b->b.ops->funds(b->b.impl, &fb), HH_OK);
    assert_int_equal(fa, fb);
}

/* Each position is the sum of its orders' fills (manual ones included). */
static void sf_check_sums(uint64_t seed, const struct sf *s)
{
    hh_qty_t sum[2] = { 0, 0 };

    for (size_t id = 1; id <= hh_paper_order_count(s->p); id++) {
        struct hh_broker_order b;

        hh_paper_peek(s->p, id, &b);
        sum[b.iid == s->iid[1]] += b.side == HH_BUY ? b.filled : -b.filled;
    }
    for (int k = 0; k < 2; k++)
        if (sum[k] != hh_paper_position(s->p, s->iid[k]))
            fail_msg("seed %llu: fills of %d sum to %lld, position %lld",
                     (unsigned long long)seed, k, (long long)sum[k],
                     (long long)hh_paper_position(s->p, s->iid[k]));
}

static void test_property_stream_never_changes_book(void **state)
{
    hh_iid_t iid[2];
    struct hh_instruments *inst = make_inst(iid);
    struct sf *s = calloc(3, sizeof *s);
    struct hh_paper_stats sum;
    uint64_t copies = 0, seeds = 400;

    (void)state;
    assert_non_null(s);
    memset(&sum, 0, sizeof sum);
    for (uint64_t seed = 1; seed <= seeds; seed++) {
        struct hh_paper_config base, faulted;
        const struct hh_paper_stats *st;
        void *blob[2];
        size_t len[2];

        sf_configs(seed, &base, &faulted);
        sf_run(&s[0], inst, iid, &base, seed);
        sf_run(&s[1], inst, iid, &faulted, seed);
        sf_compare(seed, &s[0], &s[1]);
        sf_check_sums(seed, &s[1]);
        if (s[1].contradictions)
            fail_msg("seed %llu: a repeated exec id with other contents",
                     (unsigned long long)seed);
        st = hh_paper_stats(s[1].p);
        if (s[1].copies > st->duplicated)
            fail_msg("seed %llu: %llu fills repeated, %llu duplicated on purpose",
                     (unsigned long long)seed, (unsigned long long)s[1].copies,
                     (unsigned long long)st->duplicated);
        copies += s[1].copies;
        sum.duplicated += st->duplicated;
        sum.reordered += st->reordered;
        sum.lag_hidden += st->lag_hidden;
        sum.external += st->external;
        sum.squared_off += st->squared_off;
        sum.exchange_cancels += st->exchange_cancels;
        sum.forced_rejects += st->forced_rejects;
        /* deterministic for a seed: a second faulted run, the same state */
        sf_run(&s[2], inst, iid, &faulted, seed);
        assert_int_equal(hh_paper_snapshot(s[1].p, &blob[0], &len[0]), HH_OK);
        assert_int_equal(hh_paper_snapshot(s[2].p, &blob[1], &len[1]), HH_OK);
        assert_int_equal(len[0], len[1]);
        assert_memory_equal(blob[0], blob[1], len[0]);
        free(blob[0]);
        free(blob[1]);
        for (int i = 0; i < 3; i++)
            hh_paper_free(s[i].p);
    }
    printf("stream: %llu seeds; duplicated %llu (fills repeated %llu), reordered %llu, "
           "lag-hidden answers %llu, external %llu (squared off %llu, exchange cancels %llu, "
           "forced rejects %llu)\n", (unsigned long long)seeds,
           (unsigned long long)sum.duplicated, (unsigned long long)copies,
           (unsigned long long)sum.reordered, (unsigned long long)sum.lag_hidden,
           (unsigned long long)sum.external, (unsigned long long)sum.squared_off,
           (unsigned long long)sum.exchange_cancels, (unsigned long long)sum.forced_rejects);
    assert_true(copies > 0 && sum.reordered > 0 && sum.lag_hidden > 0 &&
                sum.squared_off > 0 && sum.exchange_cancels > 0 && sum.forced_rejects > 0);
    free(s);
    hh_inst_free(inst);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_book_and_queries),
        cmocka_unit_test(test_unavailable_window),
        cmocka_unit_test(test_timeout_order_exists),
        cmocka_unit_test(test_dropped_updates_book_still_true),
        cmocka_unit_test(test_delayed_and_disconnected_updates),
        cmocka_unit_test(test_cancel_fill_race),
        cmocka_unit_test(test_exchange_rejection_and_modify),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_snapshot_restore),
        cmocka_unit_test(test_autosave_before_anything_leaves),
        cmocka_unit_test(test_duplicated_updates),
        cmocka_unit_test(test_reordered_updates),
        cmocka_unit_test(test_book_lag),
        cmocka_unit_test(test_external_close_position),
        cmocka_unit_test(test_external_cancel_orders),
        cmocka_unit_test(test_external_reject_next),
        cmocka_unit_test(test_older_state_refused),
        cmocka_unit_test(test_config_maps_new_faults),
        cmocka_unit_test(test_scenario_3_broker_failure_and_recovery),
        cmocka_unit_test(test_hybrid_sl_gap_through_on_paper),
        cmocka_unit_test(test_hybrid_sl_cancel_ack_lost_on_paper),
        cmocka_unit_test(test_property_fault_schedules),
        cmocka_unit_test(test_property_stream_never_changes_book),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);

    tu_cleanup();
    return rc;
}
