/*
 * test_order.c — the order state machine: every legal transition, every
 * refusal with its reason, fills de-duplicated by exec id and counted by
 * cumulative quantity, cancel "too late", reconciliation (the broker wins),
 * and the reduce-only rule for exits.
 */
#include "testutil.h"

#include "exec/order.h"

#define MS HH_NS_PER_MS

static struct hh_order_req req_of(hh_qty_t qty)
{
    struct hh_order_req r;

    memset(&r, 0, sizeof r);
    snprintf(r.client_id, sizeof r.client_id, "T1-L0-A0");
    r.iid = 3;
    r.side = HH_BUY;
    r.type = HH_ORD_LIMIT;
    r.qty = qty;
    r.limit = 1000000;
    return r;
}

static struct hh_report rpt(enum hh_report_kind k, uint64_t id, hh_qty_t qty,
                            hh_qty_t filled, hh_qty_t leaves, uint64_t exec)
{
    struct hh_report r;

    memset(&r, 0, sizeof r);
    r.kind = k;
    r.order_id = id;
    r.qty = qty;
    r.price = 1000000;
    r.filled = filled;
    r.leaves = leaves;
    r.exec_id = exec;
    return r;
}

/* An order placed and acknowledged: OPEN with broker id 77. */
static void open_order(struct hh_ord *o, hh_qty_t qty)
{
    struct hh_report a = rpt(HH_RPT_ACK, 77, 0, 0, qty, 0);

    assert_int_equal(hh_ord_init(o, &(struct hh_order_req){ 0 }, 0), HH_EINVAL);
    hh_ord_free(o);
    {
        struct hh_order_req r = req_of(qty);

        assert_int_equal(hh_ord_init(o, &r, 0), HH_OK);
    }
    assert_int_equal(o->state, HH_OS_NEW);
    assert_int_equal(hh_ord_sent(o, 1, NULL), HH_OK);
    assert_int_equal(o->state, HH_OS_SENT);
    assert_int_equal(hh_ord_placed(o, 77, 2, NULL), HH_OK);
    assert_int_equal(hh_ord_on_report(o, &a, 3, NULL, NULL), HH_OK);
    assert_int_equal(o->state, HH_OS_OPEN);
}

static void test_happy_path_with_partials(void **state)
{
    struct hh_ord o;
    struct hh_ord_effect e;
    struct hh_report f1 = rpt(HH_RPT_FILL, 77, 40, 40, 60, 1);
    struct hh_report f2 = rpt(HH_RPT_FILL, 77, 60, 100, 0, 2);

    (void)state;
    open_order(&o, 100);
    assert_int_equal(hh_ord_on_report(&o, &f1, 4, &e, NULL), HH_OK);
    assert_int_equal(o.state, HH_OS_PARTIAL);
    assert_int_equal(o.filled, 40);
    assert_int_equal(hh_ord_leaves(&o), 60);
    assert_int_equal(e.from, HH_OS_OPEN);
    assert_int_equal(e.to, HH_OS_PARTIAL);
    assert_int_equal(e.new_fill, 40);
    assert_false(e.stale);
    f2.price = 1010000;
    assert_int_equal(hh_ord_on_report(&o, &f2, 5, &e, NULL), HH_OK);
    assert_int_equal(o.state, HH_OS_FILLED);
    assert_int_equal(o.filled, 100);
    assert_int_equal(hh_ord_open_qty(&o), 0);
    assert_int_equal(hh_ord_avg_price(&o), 1006000);   /* (40x100 + 60x101) / 100 */
    assert_int_equal(o.fills, 2);
    assert_int_equal(o.updated, 5);
    hh_ord_free(&o);
}

static void test_duplicate_exec_id_refused(void **state)
{
    struct hh_ord o;
    struct hh_diag d;
    struct hh_report f1 = rpt(HH_RPT_FILL, 77, 40, 40, 60, 9);

    (void)state;
    open_order(&o, 100);
    assert_int_equal(hh_ord_on_report(&o, &f1, 4, NULL, NULL), HH_OK);
    assert_int_equal(hh_ord_on_report(&o, &f1, 5, NULL, &d), HH_EEXIST);
    assert_non_null(strstr(d.msg, "duplicate fill, exec id 9"));
    assert_int_equal(o.filled, 40);
    /* a broker without cumulative quantities: the exec id still guards */
    f1.filled = 0;
    assert_int_equal(hh_ord_on_report(&o, &f1, 5, NULL, NULL), HH_EEXIST);
    assert_int_equal(o.filled, 40);
    hh_ord_free(&o);
}

static void test_cumulative_fills_survive_loss_and_reordering(void **state)
{
    struct hh_ord o;
    struct hh_ord_effect e;
    struct hh_report f1 = rpt(HH_RPT_FILL, 77, 30, 30, 70, 1);
    struct hh_report f2 = rpt(HH_RPT_FILL, 77, 20, 50, 50, 2);
    struct hh_report f3 = rpt(HH_RPT_FILL, 77, 25, 75, 25, 3);

    (void)state;
    open_order(&o, 100);
    /* f1 lost; f2 says 50 filled in all: both counted */
    assert_int_equal(hh_ord_on_report(&o, &f2, 4, &e, NULL), HH_OK);
    assert_int_equal(o.filled, 50);
    assert_int_equal(e.new_fill, 50);
    /* f1 arrives late: already counted, remembered, nothing changes */
    assert_int_equal(hh_ord_on_report(&o, &f1, 5, &e, NULL), HH_OK);
    assert_true(e.stale);
    assert_int_equal(e.new_fill, 0);
    assert_int_equal(o.filled, 50);
    assert_int_equal(hh_ord_on_report(&o, &f1, 5, NULL, NULL), HH_EEXIST);
    assert_int_equal(hh_ord_on_report(&o, &f3, 6, &e, NULL), HH_OK);
    assert_int_equal(o.filled, 75);
    hh_ord_free(&o);
}

static void test_overfill_refused(void **state)
{
    struct hh_ord o;
    struct hh_diag d;
    struct hh_report f = rpt(HH_RPT_FILL, 77, 120, 120, 0, 1);
    struct hh_report nocum = rpt(HH_RPT_FILL, 77, 60, 0, 0, 2);

    (void)state;
    open_order(&o, 100);
    assert_int_equal(hh_ord_on_report(&o, &f, 4, NULL, &d), HH_ERANGE);
    assert_non_null(strstr(d.msg, "above the order's 100"));
    assert_int_equal(o.filled, 0);
    assert_int_equal(o.state, HH_OS_OPEN);
    /* without cumulative: 60 + 60 > 100 */
    assert_int_equal(hh_ord_on_report(&o, &nocum, 5, NULL, NULL), HH_OK);
    nocum.exec_id = 3;
    assert_int_equal(hh_ord_on_report(&o, &nocum, 6, NULL, &d), HH_ERANGE);
    assert_int_equal(o.filled, 60);
    /* a fill of zero or fewer units */
    nocum.exec_id = 4;
    nocum.qty = 0;
    assert_int_equal(hh_ord_on_report(&o, &nocum, 6, NULL, NULL), HH_EINVAL);
    /* a filled order takes no more fills */
    f = rpt(HH_RPT_FILL, 77, 40, 100, 0, 5);
    assert_int_equal(hh_ord_on_report(&o, &f, 7, NULL, NULL), HH_OK);
    assert_int_equal(o.state, HH_OS_FILLED);
    f = rpt(HH_RPT_FILL, 77, 1, 101, 0, 6);
    assert_int_equal(hh_ord_on_report(&o, &f, 8, NULL, NULL), HH_ERANGE);
    hh_ord_free(&o);
}

static void test_cancel_paths(void **state)
{
    struct hh_ord o;
    struct hh_diag d;
    bool send;
    struct hh_report f = rpt(HH_RPT_FILL, 77, 30, 30, 70, 1);
    struct hh_report c = rpt(HH_RPT_CANCELLED, 77, 0, 45, 0, 0);

    (void)state;
    open_order(&o, 100);
    assert_int_equal(hh_ord_on_report(&o, &f, 4, NULL, NULL), HH_OK);
    assert_int_equal(hh_ord_cancel(&o, 5, &send, NULL), HH_OK);
    assert_true(send);
    assert_int_equal(o.state, HH_OS_CANCEL_PENDING);
    /* asking again is harmless */
    assert_int_equal(hh_ord_cancel(&o, 5, &send, NULL), HH_OK);
    assert_true(send);
    /* a fill while the cancel travels keeps it pending */
    f = rpt(HH_RPT_FILL, 77, 10, 40, 60, 2);
    assert_int_equal(hh_ord_on_report(&o, &f, 6, NULL, NULL), HH_OK);
    assert_int_equal(o.state, HH_OS_CANCEL_PENDING);
    /* the confirmation carries the final filled (a fill report was lost) */
    assert_int_equal(hh_ord_on_report(&o, &c, 7, NULL, NULL), HH_OK);
    assert_int_equal(o.state, HH_OS_CANCELLED);
    assert_int_equal(o.filled, 45);
    assert_int_equal(hh_ord_open_qty(&o), 0);
    /* a repeat changes nothing; a fill after it is refused */
    assert_int_equal(hh_ord_on_report(&o, &c, 8, NULL, NULL), HH_OK);
    f = rpt(HH_RPT_FILL, 77, 10, 55, 0, 3);
    assert_int_equal(hh_ord_on_report(&o, &f, 8, NULL, &d), HH_ESTATE);
    assert_non_null(strstr(d.msg, "CANCELLED -> PARTIALLY_FILLED"));
    /* cancelling a cancelled order */
    assert_int_equal(hh_ord_cancel(&o, 9, &send, &d), HH_ESTATE);
    assert_false(send);
    assert_non_null(strstr(d.msg, "already CANCELLED"));
    hh_ord_free(&o);
}

static void test_cancel_too_late_and_refused(void **state)
{
    struct hh_ord o;
    struct hh_diag d;
    bool send = true;
    struct hh_report f = rpt(HH_RPT_FILL, 77, 100, 100, 0, 1);

    (void)state;
    /* the fill won the race: the cancel pending order becomes FILLED */
    open_order(&o, 100);
    assert_int_equal(hh_ord_cancel(&o, 4, NULL, NULL), HH_OK);
    assert_int_equal(hh_ord_on_report(&o, &f, 5, NULL, NULL), HH_OK);
    assert_int_equal(o.state, HH_OS_FILLED);
    /* and a cancel of a filled order is "too late" (FIX 102=0) */
    assert_int_equal(hh_ord_cancel(&o, 6, &send, &d), HH_ESTATE);
    assert_false(send);
    assert_non_null(strstr(d.msg, "too late"));
    hh_ord_free(&o);

    /* the broker refused the cancel: back to working by quantity */
    open_order(&o, 100);
    f = rpt(HH_RPT_FILL, 77, 20, 20, 80, 1);
    hh_ord_on_report(&o, &f, 4, NULL, NULL);
    hh_ord_cancel(&o, 5, NULL, NULL);
    assert_int_equal(hh_ord_cancel_refused(&o, 6, NULL), HH_OK);
    assert_int_equal(o.state, HH_OS_PARTIAL);
    assert_int_equal(hh_ord_cancel_refused(&o, 6, NULL), HH_OK);  /* no-op */
    assert_int_equal(o.state, HH_OS_PARTIAL);
    hh_ord_free(&o);

    /* a NEW order is cancelled locally: nothing to ask the broker */
    {
        struct hh_order_req r = req_of(10);

        hh_ord_init(&o, &r, 0);
        assert_int_equal(hh_ord_cancel(&o, 1, &send, NULL), HH_OK);
        assert_false(send);
        assert_int_equal(o.state, HH_OS_CANCELLED);
        hh_ord_free(&o);
    }
}

static void test_rejections_and_expiry(void **state)
{
    struct hh_ord o;
    struct hh_diag d;
    struct hh_order_req r = req_of(10);
    struct hh_report rej = rpt(HH_RPT_REJECTED, 77, 0, 0, 0, 0);
    struct hh_report exp = rpt(HH_RPT_EXPIRED, 77, 0, 4, 0, 0);
    struct hh_report f = rpt(HH_RPT_FILL, 77, 4, 4, 6, 1);

    (void)state;
    /* SENT -> REJECTED (async exchange rejection, no ACK) */
    hh_ord_init(&o, &r, 0);
    hh_ord_sent(&o, 1, NULL);
    hh_ord_placed(&o, 77, 1, NULL);
    assert_int_equal(hh_ord_on_report(&o, &rej, 2, NULL, NULL), HH_OK);
    assert_int_equal(o.state, HH_OS_REJECTED);
    assert_int_equal(hh_ord_on_report(&o, &rej, 2, NULL, NULL), HH_OK);  /* repeat */
    /* an ACK after the rejection is illegal, and reported */
    rej.kind = HH_RPT_ACK;
    assert_int_equal(hh_ord_on_report(&o, &rej, 3, NULL, &d), HH_ESTATE);
    assert_non_null(strstr(d.msg, "ACK: REJECTED -> OPEN"));
    hh_ord_free(&o);

    /* refused before reaching the broker (breaker open): NEW -> REJECTED */
    hh_ord_init(&o, &r, 0);
    assert_int_equal(hh_ord_refused(&o, 1, NULL), HH_OK);
    assert_int_equal(o.state, HH_OS_REJECTED);
    assert_int_equal(hh_ord_refused(&o, 1, NULL), HH_ESTATE);
    hh_ord_free(&o);

    /* a partially filled order cannot be rejected, but it can expire */
    open_order(&o, 10);
    hh_ord_on_report(&o, &f, 4, NULL, NULL);
    rej = rpt(HH_RPT_REJECTED, 77, 0, 0, 0, 0);
    assert_int_equal(hh_ord_on_report(&o, &rej, 5, NULL, &d), HH_ESTATE);
    assert_non_null(strstr(d.msg, "REJECTED after 4 filled"));
    assert_int_equal(hh_ord_on_report(&o, &exp, 6, NULL, NULL), HH_OK);
    assert_int_equal(o.state, HH_OS_EXPIRED);
    assert_int_equal(o.filled, 4);
    hh_ord_free(&o);
}

static void test_illegal_transitions(void **state)
{
    struct hh_ord o;
    struct hh_diag d;
    struct hh_order_req r = req_of(10);
    struct hh_report ack = rpt(HH_RPT_ACK, 77, 0, 0, 10, 0);
    struct hh_report other = rpt(HH_RPT_ACK, 78, 0, 0, 10, 0);

    (void)state;
    hh_ord_init(&o, &r, 0);
    /* no id yet: a report cannot be this order's */
    assert_int_equal(hh_ord_on_report(&o, &ack, 1, NULL, &d), HH_EINVAL);
    assert_int_equal(hh_ord_placed(&o, 77, 1, NULL), HH_ESTATE);     /* not sent */
    hh_ord_sent(&o, 1, NULL);
    assert_int_equal(hh_ord_sent(&o, 1, NULL), HH_ESTATE);           /* twice */
    assert_int_equal(hh_ord_placed(&o, 0, 1, NULL), HH_EINVAL);
    hh_ord_placed(&o, 77, 1, NULL);
    assert_int_equal(hh_ord_placed(&o, 78, 1, &d), HH_ESTATE);        /* other id */
    assert_int_equal(hh_ord_on_report(&o, &other, 1, NULL, NULL), HH_EINVAL);
    assert_int_equal(hh_ord_on_report(&o, &ack, 2, NULL, NULL), HH_OK);
    assert_int_equal(hh_ord_on_report(&o, &ack, 2, NULL, NULL), HH_OK); /* repeat ACK */
    assert_int_equal(o.state, HH_OS_OPEN);
    /* the edges table */
    assert_true(hh_ord_transition_ok(HH_OS_NEW, HH_OS_SENT));
    assert_false(hh_ord_transition_ok(HH_OS_NEW, HH_OS_FILLED));
    assert_false(hh_ord_transition_ok(HH_OS_OPEN, HH_OS_SENT));
    assert_false(hh_ord_transition_ok(HH_OS_PARTIAL, HH_OS_REJECTED));
    assert_true(hh_ord_transition_ok(HH_OS_CANCEL_PENDING, HH_OS_FILLED));
    assert_true(hh_ord_transition_ok(HH_OS_CANCEL_PENDING, HH_OS_PARTIAL));
    for (int s = HH_OS_FILLED; s <= HH_OS_EXPIRED; s++)
        for (int t = HH_OS_NEW; t <= HH_OS_EXPIRED; t++)
            if (s != HH_OS_CANCEL_PENDING)
                assert_false(hh_ord_transition_ok((enum hh_ord_state)s,
                                                  (enum hh_ord_state)t));
    hh_ord_free(&o);
}

static void test_modified(void **state)
{
    struct hh_ord o;
    struct hh_report m = rpt(HH_RPT_MODIFIED, 77, 0, 20, 30, 0);
    struct hh_report f = rpt(HH_RPT_FILL, 77, 20, 20, 80, 1);
    struct hh_report done = rpt(HH_RPT_FILL, 77, 30, 50, 0, 2);

    (void)state;
    open_order(&o, 100);
    hh_ord_on_report(&o, &f, 4, NULL, NULL);
    assert_int_equal(hh_ord_on_report(&o, &m, 5, NULL, NULL), HH_OK);
    assert_int_equal(o.req.qty, 50);
    assert_int_equal(o.state, HH_OS_PARTIAL);
    m.leaves = -30;
    assert_int_equal(hh_ord_on_report(&o, &m, 5, NULL, NULL), HH_ERANGE);
    assert_int_equal(hh_ord_on_report(&o, &done, 6, NULL, NULL), HH_OK);
    assert_int_equal(o.state, HH_OS_FILLED);
    hh_ord_free(&o);

    /* a reduction whose report was lost: leaves 0 is not trusted, the
     * order stays working until reconciliation shows it complete */
    open_order(&o, 100);
    done = rpt(HH_RPT_FILL, 77, 60, 60, 0, 1);
    assert_int_equal(hh_ord_on_report(&o, &done, 4, NULL, NULL), HH_OK);
    assert_int_equal(o.state, HH_OS_PARTIAL);
    assert_int_equal(hh_ord_open_qty(&o), 40);   /* still counted as pending */
    {
        struct hh_broker_order b;

        memset(&b, 0, sizeof b);
        b.order_id = 77;
        b.state = HH_OS_FILLED;
        b.qty = 60;
        b.filled = 60;
        assert_int_equal(hh_ord_adopt(&o, &b, 5, NULL, NULL, NULL), HH_OK);
    }
    assert_int_equal(o.state, HH_OS_FILLED);
    assert_int_equal(o.req.qty, 60);
    hh_ord_free(&o);
}

static struct hh_broker_order bro(uint64_t id, enum hh_ord_state s, hh_qty_t qty,
                                  hh_qty_t filled)
{
    struct hh_broker_order b;

    memset(&b, 0, sizeof b);
    b.order_id = id;
    snprintf(b.client_id, sizeof b.client_id, "T1-L0-A0");
    b.state = s;
    b.qty = qty;
    b.filled = filled;
    b.avg_price = filled ? 1000000 : 0;
    return b;
}

static void test_adopt_broker_wins(void **state)
{
    struct hh_ord o;
    struct hh_diag d;
    enum hh_ord_adopt_result res;
    struct hh_ord_effect e;
    struct hh_broker_order b;
    struct hh_order_req r = req_of(100);

    (void)state;
    /* a timed-out placement found by its client id */
    hh_ord_init(&o, &r, 0);
    hh_ord_sent(&o, 1, NULL);
    b = bro(77, HH_OS_PARTIAL, 100, 30);
    assert_int_equal(hh_ord_adopt(&o, &b, 2, &res, &e, &d), HH_OK);
    assert_int_equal(res, HH_ORD_CAUGHT_UP);
    assert_int_equal(o.order_id, 77);
    assert_int_equal(o.state, HH_OS_PARTIAL);
    assert_int_equal(o.filled, 30);
    assert_int_equal(e.new_fill, 30);
    assert_non_null(strstr(d.msg, "state SENT -> PARTIALLY_FILLED, filled 0 -> 30"));
    assert_true(hh_ord_matches(&o, &b));
    /* the same again: nothing */
    assert_int_equal(hh_ord_adopt(&o, &b, 3, &res, NULL, NULL), HH_OK);
    assert_int_equal(res, HH_ORD_SAME);
    /* a local pending cancel agrees with a working order */
    hh_ord_cancel(&o, 4, NULL, NULL);
    assert_true(hh_ord_matches(&o, &b));
    assert_int_equal(hh_ord_adopt(&o, &b, 5, &res, NULL, NULL), HH_OK);
    assert_int_equal(res, HH_ORD_SAME);
    assert_int_equal(o.state, HH_OS_CANCEL_PENDING);
    /* "cancelled" locally but filled at the exchange: FILLED, diverged */
    {
        struct hh_report c = rpt(HH_RPT_CANCELLED, 77, 0, 30, 0, 0);

        hh_ord_on_report(&o, &c, 6, NULL, NULL);
        assert_int_equal(o.state, HH_OS_CANCELLED);
    }
    b = bro(77, HH_OS_FILLED, 100, 100);
    assert_false(hh_ord_matches(&o, &b));
    assert_int_equal(hh_ord_adopt(&o, &b, 7, &res, &e, &d), HH_OK);
    assert_int_equal(res, HH_ORD_DIVERGED);
    assert_int_equal(o.state, HH_OS_FILLED);
    assert_int_equal(o.filled, 100);
    assert_int_equal(e.new_fill, 70);
    assert_int_equal(hh_ord_avg_price(&o), 1000000);
    /* another order's view is refused */
    b = bro(78, HH_OS_FILLED, 100, 100);
    assert_int_equal(hh_ord_adopt(&o, &b, 8, &res, NULL, NULL), HH_EINVAL);
    b = bro(77, HH_OS_FILLED, 100, 101);
    assert_int_equal(hh_ord_adopt(&o, &b, 8, &res, NULL, NULL), HH_EINVAL);
    hh_ord_free(&o);

    /* local ahead of the broker (more filled): diverged, broker wins */
    open_order(&o, 100);
    {
        struct hh_report f = rpt(HH_RPT_FILL, 77, 50, 50, 50, 1);

        hh_ord_on_report(&o, &f, 4, NULL, NULL);
    }
    b = bro(77, HH_OS_PARTIAL, 100, 20);
    assert_int_equal(hh_ord_adopt(&o, &b, 5, &res, &e, NULL), HH_OK);
    assert_int_equal(res, HH_ORD_DIVERGED);
    assert_int_equal(e.new_fill, -30);
    assert_int_equal(o.filled, 20);
    hh_ord_free(&o);
}

/* Orders sharing one exec-id set (hh_ord_init_shared): no allocation of
 * their own, duplicates still refused per order, and a byte-for-byte copy
 * carries on like the original. */
static void test_shared_exec_set(void **state)
{
    struct hh_u64map set;
    struct hh_ord a, b, copy;
    struct hh_order_req r = req_of(100);
    struct hh_report fa = rpt(HH_RPT_FILL, 77, 40, 40, 60, 9);
    struct hh_report fb = rpt(HH_RPT_FILL, 78, 10, 10, 90, 9);   /* another exchange's 9 */
    struct hh_diag d;

    (void)state;
    assert_int_equal(hh_u64map_init(&set, 8), HH_OK);
    assert_int_equal(hh_ord_init_shared(&a, &(struct hh_order_req){ 0 }, 0, &set), HH_EINVAL);
    assert_int_equal(hh_ord_init_shared(&a, &r, 0, &set), HH_OK);
    assert_int_equal(hh_ord_init_shared(&b, &r, 0, &set), HH_OK);
    assert_null(a.execs.keys);   /* nothing of its own */
    assert_int_equal(hh_ord_sent(&a, 1, NULL), HH_OK);
    assert_int_equal(hh_ord_placed(&a, 77, 1, NULL), HH_OK);
    assert_int_equal(hh_ord_sent(&b, 1, NULL), HH_OK);
    assert_int_equal(hh_ord_placed(&b, 78, 1, NULL), HH_OK);
    assert_int_equal(hh_ord_on_report(&a, &fa, 2, NULL, NULL), HH_OK);
    assert_int_equal(hh_ord_on_report(&a, &fa, 3, NULL, &d), HH_EEXIST);
    assert_non_null(strstr(d.msg, "duplicate fill, exec id 9"));
    /* the same exec id on another order is that order's own fill */
    assert_int_equal(hh_ord_on_report(&b, &fb, 4, NULL, NULL), HH_OK);
    assert_int_equal(b.filled, 10);
    assert_int_equal(hh_ord_on_report(&b, &fb, 5, NULL, NULL), HH_EEXIST);
    /* ... and a's replay is still caught by its cumulative quantity */
    assert_int_equal(hh_ord_on_report(&a, &fa, 6, NULL, NULL), HH_OK);
    assert_int_equal(a.filled, 40);
    memcpy(&copy, &a, sizeof copy);
    fa = rpt(HH_RPT_FILL, 77, 60, 100, 0, 10);
    assert_int_equal(hh_ord_on_report(&copy, &fa, 7, NULL, NULL), HH_OK);
    assert_int_equal(copy.state, HH_OS_FILLED);
    assert_int_equal(hh_ord_on_report(&copy, &fa, 8, NULL, NULL), HH_EEXIST);
    hh_ord_free(&a);   /* no-ops: the set is the caller's */
    hh_ord_free(&b);
    hh_ord_free(&copy);
    hh_u64map_free(&set);
}

/* Withdrawn: an order the broker never had ends CANCELLED at our word. */
static void test_withdrawn(void **state)
{
    struct hh_ord o;
    struct hh_order_req r = req_of(100);
    struct hh_diag d;
    bool send;

    (void)state;
    assert_int_equal(hh_ord_init(&o, &r, 0), HH_OK);
    assert_int_equal(hh_ord_withdrawn(&o, 1, NULL), HH_OK);   /* never sent */
    assert_int_equal(o.state, HH_OS_CANCELLED);
    assert_int_equal(hh_ord_withdrawn(&o, 2, &d), HH_ESTATE);
    assert_non_null(strstr(d.msg, "CANCELLED -> CANCELLED"));
    hh_ord_free(&o);
    /* a placement of unknown outcome, cancel wanted, found absent */
    assert_int_equal(hh_ord_init(&o, &r, 0), HH_OK);
    assert_int_equal(hh_ord_sent(&o, 1, NULL), HH_OK);
    assert_int_equal(hh_ord_cancel(&o, 2, &send, NULL), HH_OK);
    assert_true(send);
    assert_int_equal(o.state, HH_OS_CANCEL_PENDING);
    assert_int_equal(hh_ord_withdrawn(&o, 3, NULL), HH_OK);
    assert_int_equal(o.state, HH_OS_CANCELLED);
    hh_ord_free(&o);
    /* the broker has it: only the broker ends it */
    open_order(&o, 100);
    assert_int_equal(hh_ord_withdrawn(&o, 4, &d), HH_ESTATE);
    assert_non_null(strstr(d.msg, "the broker has it"));
    assert_int_equal(o.state, HH_OS_OPEN);
    hh_ord_free(&o);
}

static void test_reduce_only(void **state)
{
    (void)state;
    /* long 100, no other exits: up to 100 */
    assert_int_equal(hh_ord_exit_qty(100, HH_SELL, 0, 100), 100);
    assert_int_equal(hh_ord_exit_qty(100, HH_SELL, 0, 150), 100);
    assert_int_equal(hh_ord_exit_qty(100, HH_SELL, 0, 30), 30);
    /* a target of 60 working: the stop gets 40 */
    assert_int_equal(hh_ord_exit_qty(100, HH_SELL, 60, 100), 40);
    /* after a partial fill of the target (20 of 60): position 80, pending 40 */
    assert_int_equal(hh_ord_exit_qty(80, HH_SELL, 40, 100), 40);
    /* the position is gone: a stop may not outlive it */
    assert_int_equal(hh_ord_exit_qty(0, HH_SELL, 0, 100), 0);
    assert_int_equal(hh_ord_exit_qty(50, HH_SELL, 80, 100), 0);
    /* wrong side: a buy never reduces a long */
    assert_int_equal(hh_ord_exit_qty(100, HH_BUY, 0, 100), 0);
    /* shorts mirror */
    assert_int_equal(hh_ord_exit_qty(-75, HH_BUY, 25, 100), 50);
    assert_int_equal(hh_ord_exit_qty(-75, HH_SELL, 0, 100), 0);
    assert_int_equal(hh_ord_exit_qty(100, HH_SELL, -5, 10), 10);
    assert_int_equal(hh_ord_exit_qty(100, HH_SELL, 0, -10), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_happy_path_with_partials),
        cmocka_unit_test(test_duplicate_exec_id_refused),
        cmocka_unit_test(test_cumulative_fills_survive_loss_and_reordering),
        cmocka_unit_test(test_overfill_refused),
        cmocka_unit_test(test_cancel_paths),
        cmocka_unit_test(test_cancel_too_late_and_refused),
        cmocka_unit_test(test_rejections_and_expiry),
        cmocka_unit_test(test_illegal_transitions),
        cmocka_unit_test(test_modified),
        cmocka_unit_test(test_adopt_broker_wins),
        cmocka_unit_test(test_shared_exec_set),
        cmocka_unit_test(test_withdrawn),
        cmocka_unit_test(test_reduce_only),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
