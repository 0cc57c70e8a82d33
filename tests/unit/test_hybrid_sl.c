/*
 * test_hybrid_sl.c — the hybrid stop-loss machine, driven by hand:
 * fill-before-cancel, partial-then-cancel, cancel-ack lost (resolved by
 * polling), gap through the limit, duplicate fill reports, the cancel that
 * comes too late, a lost cancel request, rejections, and the limit price
 * rounded to the tick away from the market.
 *
 * The safety rule checked throughout: PLACE_MARKET only ever follows a
 * report or status showing the SL-LIMIT terminal, and for exactly
 * qty - filled.
 */
#include "testutil.h"

#include "exec/hybrid_sl.h"

#define MS HH_NS_PER_MS
#define P(x) ((hh_price_t)((x) * HH_RUPEE))
#define PCT(x) ((hh_ratio_t)((x) * HH_RATIO_SCALE))

static const struct hh_hsl_config cfg = { PCT(0.5), 2000 * MS, 1000 * MS };

#define LIM_ID 501
#define MKT_ID 502

static struct hh_hsl_spec spec_of(hh_qty_t qty)
{
    struct hh_hsl_spec s;

    memset(&s, 0, sizeof s);
    s.iid = 2;
    s.side = HH_SELL;
    s.qty = qty;
    s.trigger = P(4100);
    s.tick = 500;                     /* 0.05 */
    snprintf(s.limit_client_id, sizeof s.limit_client_id, "T9-SL-A0");
    snprintf(s.market_client_id, sizeof s.market_client_id, "T9-SM-A0");
    return s;
}

static struct hh_report rpt(enum hh_report_kind k, uint64_t id, hh_qty_t qty,
                            hh_qty_t filled, uint64_t exec)
{
    struct hh_report r;

    memset(&r, 0, sizeof r);
    r.kind = k;
    r.order_id = id;
    r.qty = qty;
    r.price = P(4099);
    r.filled = filled;
    r.exec_id = exec;
    return r;
}

static struct hh_broker_order status_of(uint64_t id, enum hh_ord_state s, hh_qty_t qty,
                                        hh_qty_t filled)
{
    struct hh_broker_order b;

    memset(&b, 0, sizeof b);
    b.order_id = id;
    snprintf(b.client_id, sizeof b.client_id, id == LIM_ID ? "T9-SL-A0" : "T9-SM-A0");
    b.state = s;
    b.qty = qty;
    b.filled = filled;
    b.avg_price = filled ? P(4099) : 0;
    return b;
}

/* Trigger at t=0 and place: WORKING with the 2 s timeout armed. */
static void start(struct hh_hsl *h, hh_qty_t qty)
{
    struct hh_hsl_spec s = spec_of(qty);
    struct hh_hsl_action a;
    struct hh_report ack = rpt(HH_RPT_ACK, LIM_ID, 0, 0, 0);

    assert_int_equal(hh_hsl_init(h, &cfg), HH_OK);
    assert_int_equal(hh_hsl_trigger(h, &s, 0, &a), HH_OK);
    assert_int_equal(a.kind, HH_HSL_ACT_PLACE_LIMIT);
    assert_int_equal(a.req.type, HH_ORD_STOP_LIMIT);
    assert_int_equal(a.req.side, HH_SELL);
    assert_int_equal(a.req.qty, qty);
    assert_int_equal(a.req.trigger, P(4100));
    assert_int_equal(a.req.limit, P(4079.5));     /* 4100 x 0.995 */
    assert_string_equal(a.req.client_id, "T9-SL-A0");
    assert_int_equal(h->state, HH_HSL_PLACING);
    assert_int_equal(hh_hsl_placed(h, HH_HSL_LIMIT, LIM_ID, 10 * MS, &a), HH_OK);
    assert_int_equal(a.kind, HH_HSL_ACT_NONE);
    assert_int_equal(a.deadline, 2010 * MS);
    assert_int_equal(h->state, HH_HSL_WORKING);
    assert_int_equal(hh_hsl_on_report(h, &ack, 20 * MS, &a, NULL), HH_OK);
    assert_int_equal(a.kind, HH_HSL_ACT_NONE);
    assert_true(hh_hsl_owns(h, LIM_ID));
    assert_false(hh_hsl_owns(h, MKT_ID));
}

static void test_limit_price_rounding(void **state)
{
    (void)state;
    /* sell: down to the tick; buy: up to the tick */
    assert_int_equal(hh_hsl_limit_price(HH_SELL, P(4100), PCT(0.5), 500), P(4079.5));
    assert_int_equal(hh_hsl_limit_price(HH_BUY, P(4100), PCT(0.5), 500), P(4120.5));
    /* 101.30 x 0.995 = 100.7935 -> 100.75; x 1.005 = 101.8065 -> 101.85 */
    assert_int_equal(hh_hsl_limit_price(HH_SELL, P(101.3), PCT(0.5), 500), P(100.75));
    assert_int_equal(hh_hsl_limit_price(HH_BUY, P(101.3), PCT(0.5), 500), P(101.85));
    assert_int_equal(hh_hsl_limit_price(HH_SELL, P(101.3), 0, 500), P(101.3));
    assert_int_equal(hh_hsl_limit_price(HH_SELL, P(0.05), PCT(0.5), 500), 0);
    assert_int_equal(hh_hsl_limit_price(HH_SELL, P(10), PCT(0.5), 0), 0);
}

static void test_fill_before_cancel(void **state)
{
    struct hh_hsl h;
    struct hh_hsl_action a;
    struct hh_report f1 = rpt(HH_RPT_FILL, LIM_ID, 60, 60, 1);
    struct hh_report f2 = rpt(HH_RPT_FILL, LIM_ID, 40, 100, 2);

    (void)state;
    start(&h, 100);
    assert_int_equal(hh_hsl_on_report(&h, &f1, 500 * MS, &a, NULL), HH_OK);
    assert_int_equal(a.kind, HH_HSL_ACT_NONE);
    assert_int_equal(h.state, HH_HSL_WORKING);
    assert_int_equal(hh_hsl_on_report(&h, &f2, 1500 * MS, &a, NULL), HH_OK);
    assert_int_equal(a.kind, HH_HSL_ACT_DONE);
    assert_int_equal(a.deadline, HH_TIME_NONE);
    assert_int_equal(h.state, HH_HSL_DONE);
    /* the timer that was armed fires anyway: nothing */
    assert_int_equal(hh_hsl_on_timer(&h, 2010 * MS, &a), HH_OK);
    assert_int_equal(a.kind, HH_HSL_ACT_NONE);
    assert_int_equal(h.cancels, 0);
    assert_int_equal(hh_hsl_filled(&h), 100);
    assert_false(h.mkt_live);
    hh_hsl_free(&h);
}

static void test_partial_then_cancel(void **state)
{
    struct hh_hsl h;
    struct hh_hsl_action a;
    struct hh_report f = rpt(HH_RPT_FILL, LIM_ID, 30, 30, 1);
    struct hh_report c = rpt(HH_RPT_CANCELLED, LIM_ID, 0, 30, 0);
    struct hh_report mf = rpt(HH_RPT_FILL, MKT_ID, 70, 70, 3);

    (void)state;
    start(&h, 100);
    hh_hsl_on_report(&h, &f, 500 * MS, &a, NULL);
    /* early timer calls change nothing */
    assert_int_equal(hh_hsl_on_timer(&h, 2009 * MS, &a), HH_OK);
    assert_int_equal(a.kind, HH_HSL_ACT_NONE);
    /* 2 s after placement, 30 of 100 filled: cancel */
    assert_int_equal(hh_hsl_on_timer(&h, 2010 * MS, &a), HH_OK);
    assert_int_equal(a.kind, HH_HSL_ACT_CANCEL);
    assert_int_equal(a.order_id, LIM_ID);
    assert_int_equal(a.deadline, 3010 * MS);
    assert_int_equal(h.state, HH_HSL_CANCELLING);
    assert_int_equal(h.lim.state, HH_OS_CANCEL_PENDING);
    /* the cancel call returns OK: that is not a confirmation */
    assert_int_equal(hh_hsl_cancel_result(&h, HH_OK, 2011 * MS, &a), HH_OK);
    assert_int_equal(a.kind, HH_HSL_ACT_NONE);
    assert_int_equal(h.state, HH_HSL_CANCELLING);
    /* the confirmation: market exactly the 70 left */
    assert_int_equal(hh_hsl_on_report(&h, &c, 2100 * MS, &a, NULL), HH_OK);
    assert_int_equal(a.kind, HH_HSL_ACT_PLACE_MARKET);
    assert_int_equal(a.req.type, HH_ORD_MARKET);
    assert_int_equal(a.req.qty, 70);
    assert_int_equal(a.req.side, HH_SELL);
    assert_string_equal(a.req.client_id, "T9-SM-A0");
    assert_int_equal(h.state, HH_HSL_MARKET);
    assert_int_equal(hh_hsl_committed(&h), 100);
    assert_int_equal(hh_hsl_placed(&h, HH_HSL_MARKET_LEG, MKT_ID, 2110 * MS, &a), HH_OK);
    assert_int_equal(hh_hsl_on_report(&h, &mf, 2200 * MS, &a, NULL), HH_OK);
    assert_int_equal(a.kind, HH_HSL_ACT_DONE);
    assert_int_equal(hh_hsl_filled(&h), 100);
    assert_false(h.resolved_by_poll);
    hh_hsl_free(&h);
}

static void test_cancel_ack_lost_resolved_by_polling(void **state)
{
    struct hh_hsl h;
    struct hh_hsl_action a;
    struct hh_broker_order b;
    struct hh_report f = rpt(HH_RPT_FILL, LIM_ID, 25, 25, 1);

    (void)state;
    start(&h, 100);
    hh_hsl_on_report(&h, &f, 500 * MS, &a, NULL);
    hh_hsl_on_timer(&h, 2010 * MS, &a);
    assert_int_equal(a.kind, HH_HSL_ACT_CANCEL);
    hh_hsl_cancel_result(&h, HH_OK, 2011 * MS, &a);
    /* no CANCELLED report ever comes: the confirm timer asks for a poll */
    assert_int_equal(hh_hsl_on_timer(&h, 3010 * MS, &a), HH_OK);
    assert_int_equal(a.kind, HH_HSL_ACT_POLL);
    assert_int_equal(a.order_id, LIM_ID);
    assert_int_equal(a.deadline, 4010 * MS);
    /* the status poll failed (503): the next timer polls again */
    assert_int_equal(hh_hsl_on_timer(&h, 4010 * MS, &a), HH_OK);
    assert_int_equal(a.kind, HH_HSL_ACT_POLL);
    /* the broker shows it cancelled with 40 filled (a fill report was
     * lost too): market the 60 left, not 75 */
    b = status_of(LIM_ID, HH_OS_CANCELLED, 100, 40);
    assert_int_equal(hh_hsl_on_status(&h, &b, 4020 * MS, &a, NULL), HH_OK);
    assert_int_equal(a.kind, HH_HSL_ACT_PLACE_MARKET);
    assert_int_equal(a.req.qty, 60);
    assert_true(h.resolved_by_poll);
    assert_int_equal(h.polls, 2);
    /* the lost CANCELLED arrives after all: nothing more */
    {
        struct hh_report c = rpt(HH_RPT_CANCELLED, LIM_ID, 0, 40, 0);

        assert_int_equal(hh_hsl_on_report(&h, &c, 4100 * MS, &a, NULL), HH_OK);
        assert_int_equal(a.kind, HH_HSL_ACT_NONE);
    }
    assert_int_equal(h.state, HH_HSL_MARKET);
    hh_hsl_free(&h);
}

static void test_lost_cancel_request_is_sent_again(void **state)
{
    struct hh_hsl h;
    struct hh_hsl_action a;
    struct hh_broker_order b;

    (void)state;
    start(&h, 100);
    hh_hsl_on_timer(&h, 2010 * MS, &a);
    /* the cancel call hit a 503: wait, poll, find it working, cancel again */
    assert_int_equal(hh_hsl_cancel_result(&h, HH_EUNAVAIL, 2011 * MS, &a), HH_OK);
    assert_int_equal(a.kind, HH_HSL_ACT_NONE);
    hh_hsl_on_timer(&h, 3010 * MS, &a);
    assert_int_equal(a.kind, HH_HSL_ACT_POLL);
    b = status_of(LIM_ID, HH_OS_OPEN, 100, 0);
    assert_int_equal(hh_hsl_on_status(&h, &b, 3020 * MS, &a, NULL), HH_OK);
    assert_int_equal(a.kind, HH_HSL_ACT_CANCEL);     /* never a market here */
    assert_int_equal(h.cancels, 2);
    assert_int_equal(h.state, HH_HSL_CANCELLING);
    hh_hsl_free(&h);
}

static void test_gap_through_the_limit(void **state)
{
    struct hh_hsl h;
    struct hh_hsl_action a;
    struct hh_report c = rpt(HH_RPT_CANCELLED, LIM_ID, 0, 0, 0);
    struct hh_report mf = rpt(HH_RPT_FILL, MKT_ID, 100, 100, 7);

    (void)state;
    /* the market gapped from 4110 to 4050, below the 4079.50 limit: the
     * SL-LIMIT is triggered but never fills */
    start(&h, 100);
    hh_hsl_on_timer(&h, 2010 * MS, &a);
    assert_int_equal(a.kind, HH_HSL_ACT_CANCEL);
    hh_hsl_cancel_result(&h, HH_OK, 2011 * MS, &a);
    /* before the confirmation: no market, however long it takes */
    assert_int_equal(h.state, HH_HSL_CANCELLING);
    assert_false(h.mkt_live);
    assert_int_equal(hh_hsl_on_report(&h, &c, 2500 * MS, &a, NULL), HH_OK);
    assert_int_equal(a.kind, HH_HSL_ACT_PLACE_MARKET);
    assert_int_equal(a.req.qty, 100);                /* the whole stop */
    hh_hsl_placed(&h, HH_HSL_MARKET_LEG, MKT_ID, 2510 * MS, &a);
    mf.price = P(4050);
    hh_hsl_on_report(&h, &mf, 2600 * MS, &a, NULL);
    assert_int_equal(a.kind, HH_HSL_ACT_DONE);
    assert_int_equal(h.state, HH_HSL_DONE);
    hh_hsl_free(&h);
}

static void test_duplicate_fill_reports(void **state)
{
    struct hh_hsl h;
    struct hh_hsl_action a;
    struct hh_diag d;
    struct hh_report f = rpt(HH_RPT_FILL, LIM_ID, 50, 50, 11);
    struct hh_report c = rpt(HH_RPT_CANCELLED, LIM_ID, 0, 50, 0);
    struct hh_report mf = rpt(HH_RPT_FILL, MKT_ID, 50, 50, 12);

    (void)state;
    start(&h, 100);
    assert_int_equal(hh_hsl_on_report(&h, &f, 100 * MS, &a, NULL), HH_OK);
    /* the same execution delivered again: refused, not counted */
    assert_int_equal(hh_hsl_on_report(&h, &f, 200 * MS, &a, &d), HH_EEXIST);
    assert_int_equal(a.kind, HH_HSL_ACT_NONE);
    assert_int_equal(h.lim.filled, 50);
    hh_hsl_on_timer(&h, 2010 * MS, &a);
    hh_hsl_on_report(&h, &c, 2100 * MS, &a, NULL);
    assert_int_equal(a.kind, HH_HSL_ACT_PLACE_MARKET);
    assert_int_equal(a.req.qty, 50);
    hh_hsl_placed(&h, HH_HSL_MARKET_LEG, MKT_ID, 2110 * MS, &a);
    /* a replayed market fill is refused too; the total never passes 100 */
    hh_hsl_on_report(&h, &mf, 2200 * MS, &a, NULL);
    assert_int_equal(a.kind, HH_HSL_ACT_DONE);
    assert_int_equal(hh_hsl_on_report(&h, &mf, 2300 * MS, &a, NULL), HH_EEXIST);
    /* and an old limit fill after the end */
    assert_int_equal(hh_hsl_on_report(&h, &f, 2400 * MS, &a, NULL), HH_EEXIST);
    assert_int_equal(hh_hsl_filled(&h), 100);
    hh_hsl_free(&h);
}

static void test_cancel_too_late(void **state)
{
    struct hh_hsl h;
    struct hh_hsl_action a;
    struct hh_broker_order b;

    (void)state;
    /* the cancel is refused because the order filled in the meantime and
     * its fill report was lost: poll, find it FILLED, no market order */
    start(&h, 100);
    hh_hsl_on_timer(&h, 2010 * MS, &a);
    assert_int_equal(hh_hsl_cancel_result(&h, HH_ESTATE, 2011 * MS, &a), HH_OK);
    assert_int_equal(a.kind, HH_HSL_ACT_POLL);
    assert_true(h.cancel_too_late);
    b = status_of(LIM_ID, HH_OS_FILLED, 100, 100);
    assert_int_equal(hh_hsl_on_status(&h, &b, 2020 * MS, &a, NULL), HH_OK);
    assert_int_equal(a.kind, HH_HSL_ACT_DONE);
    assert_false(h.mkt_live);
    hh_hsl_free(&h);

    /* the same race seen through the stream: the FILL report wins */
    start(&h, 100);
    hh_hsl_on_timer(&h, 2010 * MS, &a);
    {
        struct hh_report f = rpt(HH_RPT_FILL, LIM_ID, 100, 100, 5);

        assert_int_equal(hh_hsl_on_report(&h, &f, 2012 * MS, &a, NULL), HH_OK);
    }
    assert_int_equal(a.kind, HH_HSL_ACT_DONE);
    assert_true(h.cancel_too_late);
    assert_false(h.mkt_live);
    /* the refusal that follows changes nothing */
    assert_int_equal(hh_hsl_cancel_result(&h, HH_ESTATE, 2013 * MS, &a), HH_OK);
    assert_int_equal(a.kind, HH_HSL_ACT_NONE);
    hh_hsl_free(&h);
}

static void test_placement_timeout_found_by_client_id(void **state)
{
    struct hh_hsl h;
    struct hh_hsl_spec s = spec_of(100);
    struct hh_hsl_action a;
    struct hh_broker_order b;

    (void)state;
    hh_hsl_init(&h, &cfg);
    hh_hsl_trigger(&h, &s, 0, &a);
    /* place() timed out; the engine finds the order by its client id */
    b = status_of(LIM_ID, HH_OS_PARTIAL, 100, 10);
    assert_int_equal(hh_hsl_on_status(&h, &b, 1000 * MS, &a, NULL), HH_OK);
    assert_int_equal(h.state, HH_HSL_WORKING);
    assert_int_equal(h.lim.order_id, LIM_ID);
    assert_int_equal(h.deadline, 3000 * MS);
    assert_int_equal(h.lim.filled, 10);
    hh_hsl_free(&h);
}

static void test_rejections(void **state)
{
    struct hh_hsl h;
    struct hh_hsl_spec s = spec_of(100);
    struct hh_hsl_action a;

    (void)state;
    /* the SL-LIMIT was refused (it does not exist): market the whole */
    hh_hsl_init(&h, &cfg);
    hh_hsl_trigger(&h, &s, 0, &a);
    assert_int_equal(hh_hsl_place_failed(&h, HH_HSL_LIMIT, 5 * MS, &a), HH_OK);
    assert_int_equal(a.kind, HH_HSL_ACT_PLACE_MARKET);
    assert_int_equal(a.req.qty, 100);
    /* and the market is rejected: FAILED, alert with what is left */
    assert_int_equal(hh_hsl_place_failed(&h, HH_HSL_MARKET_LEG, 6 * MS, &a), HH_OK);
    assert_int_equal(a.kind, HH_HSL_ACT_ALERT);
    assert_int_equal(a.req.qty, 100);
    assert_int_equal(h.state, HH_HSL_FAILED);
    assert_int_equal(hh_hsl_committed(&h), 0);
    hh_hsl_free(&h);

    /* an async rejection of the SL-LIMIT (terminal, nothing filled) */
    start(&h, 100);
    {
        struct hh_report r = rpt(HH_RPT_REJECTED, LIM_ID, 0, 0, 0);
        struct hh_report mr = rpt(HH_RPT_REJECTED, MKT_ID, 0, 0, 0);

        hh_hsl_on_report(&h, &r, 50 * MS, &a, NULL);
        assert_int_equal(a.kind, HH_HSL_ACT_PLACE_MARKET);
        assert_int_equal(a.req.qty, 100);
        hh_hsl_placed(&h, HH_HSL_MARKET_LEG, MKT_ID, 60 * MS, &a);
        hh_hsl_on_report(&h, &mr, 70 * MS, &a, NULL);
        assert_int_equal(a.kind, HH_HSL_ACT_ALERT);
    }
    hh_hsl_free(&h);

    /* misuse */
    hh_hsl_init(&h, &cfg);
    assert_int_equal(hh_hsl_placed(&h, HH_HSL_LIMIT, 1, 0, &a), HH_ESTATE);
    s.qty = 0;
    assert_int_equal(hh_hsl_trigger(&h, &s, 0, &a), HH_EINVAL);
    s.qty = 1;
    assert_int_equal(hh_hsl_trigger(&h, &s, 0, &a), HH_OK);
    assert_int_equal(hh_hsl_trigger(&h, &s, 0, &a), HH_ESTATE);
    {
        struct hh_report r = rpt(HH_RPT_FILL, 999, 1, 1, 1);

        assert_int_equal(hh_hsl_on_report(&h, &r, 0, &a, NULL), HH_ENOTFOUND);
    }
    hh_hsl_free(&h);
    {
        struct hh_hsl_config bad = { PCT(0.5), 2000 * MS, 0 };

        assert_int_equal(hh_hsl_init(&h, &bad), HH_EINVAL);
    }
    assert_string_equal(hh_hsl_state_name(HH_HSL_CANCELLING), "CANCELLING");
    assert_string_equal(hh_hsl_act_name(HH_HSL_ACT_PLACE_MARKET), "PLACE_MARKET");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limit_price_rounding),
        cmocka_unit_test(test_fill_before_cancel),
        cmocka_unit_test(test_partial_then_cancel),
        cmocka_unit_test(test_cancel_ack_lost_resolved_by_polling),
        cmocka_unit_test(test_lost_cancel_request_is_sent_again),
        cmocka_unit_test(test_gap_through_the_limit),
        cmocka_unit_test(test_duplicate_fill_reports),
        cmocka_unit_test(test_cancel_too_late),
        cmocka_unit_test(test_placement_timeout_found_by_client_id),
        cmocka_unit_test(test_rejections),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
