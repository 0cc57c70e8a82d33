/*
 * test_kite_book.c — engine orders over Kite's orders: reports derived from
 * book rows, whatever order the rows come in (duplicated, reordered,
 * missing), slices aggregated into one engine order, orders rediscovered by
 * their tags after a restart, foreign orders left alone.
 */
#include "testutil.h"

#include "broker/kite_int.h"

#define PX(r, p) ((hh_price_t)(r) * HH_RUPEE + (hh_price_t)(p) * HH_PAISA)

struct got {
    struct hh_report r[64];
    int n;
};

static void collect(void *ctx, const struct hh_report *r)
{
    struct got *g = ctx;

    assert_true(g->n < 64);
    g->r[g->n++] = *r;
}

static struct hh_kite__row row(uint64_t id, const char *tag, const char *status, hh_qty_t qty,
                               hh_qty_t filled, hh_price_t avg)
{
    struct hh_kite__row r;

    memset(&r, 0, sizeof r);
    r.order_id = id;
    snprintf(r.tag, sizeof r.tag, "%s", tag);
    r.iid = 3;
    r.side = HH_BUY;
    r.type = HH_ORD_LIMIT;
    r.qty = qty;
    r.filled = filled;
    r.avg = avg;
    r.price = PX(100, 0);
    r.state = hh_kite__state(status, qty, filled, &r.status_known);
    return r;
}

/* Apply rows, derive, return the reports (g reset first). */
static void feed(struct hh_kite__book *b, struct got *g, const struct hh_kite__row *rows,
                 int n)
{
    g->n = 0;
    for (int i = 0; i < n; i++) {
        struct hh_kite__ord *o;

        hh_kite__book_apply(b, &rows[i], &o);
    }
    for (size_t i = 0; i < b->n; i++)
        hh_kite__ord_derive(&b->ords[i], 1000, collect, g);
}

static struct hh_order_req req(const char *cid, hh_qty_t qty)
{
    struct hh_order_req q;

    memset(&q, 0, sizeof q);
    snprintf(q.client_id, sizeof q.client_id, "%s", cid);
    q.iid = 3;
    q.side = HH_BUY;
    q.type = HH_ORD_LIMIT;
    q.qty = qty;
    q.limit = PX(100, 0);
    return q;
}

static void test_single_order(void **state)
{
    struct hh_kite__book b;
    struct hh_kite__ord *o;
    struct hh_order_req q = req("h1e1", 100);
    struct hh_kite__row r[3];
    struct got g;

    (void)state;
    assert_int_equal(hh_kite__book_init(&b), HH_OK);
    assert_int_equal(hh_kite__book_add(&b, "h1e1", &q, 1001, 100, &o), HH_OK);
    /* placed, not yet at the exchange: nothing to tell */
    r[0] = row(1001, "h1e1", "OPEN PENDING", 100, 0, 0);
    feed(&b, &g, r, 1);
    assert_int_equal(g.n, 0);
    r[0] = row(1001, "h1e1", "OPEN", 100, 0, 0);
    feed(&b, &g, r, 1);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.r[0].kind, HH_RPT_ACK);
    assert_int_equal(g.r[0].order_id, 1001);
    assert_int_equal(g.r[0].leaves, 100);

    r[0] = row(1001, "h1e1", "OPEN", 100, 40, PX(100, 0));
    r[1] = r[0];                                     /* duplicated */
    r[2] = row(1001, "h1e1", "OPEN", 100, 0, 0);     /* late, older */
    feed(&b, &g, r, 3);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.r[0].kind, HH_RPT_FILL);
    assert_int_equal(g.r[0].qty, 40);
    assert_int_equal(g.r[0].price, PX(100, 0));
    assert_int_equal(g.r[0].filled, 40);
    assert_int_equal(g.r[0].leaves, 60);
    assert_int_equal(g.r[0].exec_id, hh_kite__exec_id(1001, 40));

    /* the rest at an average of 101: the new fill's price is what it added */
    r[0] = row(1001, "h1e1", "COMPLETE", 100, 100, PX(101, 0));
    feed(&b, &g, r, 1);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.r[0].kind, HH_RPT_FILL);
    assert_int_equal(g.r[0].qty, 60);
    assert_int_equal(g.r[0].price, 1016667);          /* 101.66666... half-up */
    assert_int_equal(g.r[0].filled, 100);
    assert_int_equal(g.r[0].leaves, 0);
    /* ended: nothing more, whatever comes */
    r[0] = row(1001, "h1e1", "OPEN", 100, 40, PX(100, 0));
    r[1] = row(1001, "h1e1", "CANCELLED", 100, 100, PX(101, 0));
    feed(&b, &g, r, 2);
    assert_int_equal(g.n, 0);
    hh_kite__book_free(&b);
}

static void test_missing_and_reordered(void **state)
{
    struct hh_kite__book b;
    struct hh_kite__ord *o;
    struct hh_order_req q = req("h2e1", 50);
    struct hh_kite__row r[2];
    struct got g;

    (void)state;
    hh_kite__book_init(&b);
    hh_kite__book_add(&b, "h2e1", &q, 2001, 50, &o);
    /* the final row first, then an old one: ACK and the whole fill, once */
    r[0] = row(2001, "h2e1", "COMPLETE", 50, 50, PX(99, 5));
    r[1] = row(2001, "h2e1", "OPEN", 50, 20, PX(99, 0));
    feed(&b, &g, r, 2);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.r[0].kind, HH_RPT_ACK);
    assert_int_equal(g.r[1].kind, HH_RPT_FILL);
    assert_int_equal(g.r[1].qty, 50);
    assert_int_equal(g.r[1].price, PX(99, 5));

    /* every update missed: cancelled with 30 filled */
    q = req("h2e2", 100);
    hh_kite__book_add(&b, "h2e2", &q, 2002, 100, &o);
    r[0] = row(2002, "h2e2", "CANCELLED", 100, 30, PX(100, 0));
    strcpy(r[0].msg, "Cancelled by the exchange");
    feed(&b, &g, r, 1);
    assert_int_equal(g.n, 3);
    assert_int_equal(g.r[0].kind, HH_RPT_ACK);
    assert_int_equal(g.r[1].kind, HH_RPT_FILL);
    assert_int_equal(g.r[1].qty, 30);
    assert_int_equal(g.r[2].kind, HH_RPT_CANCELLED);
    assert_int_equal(g.r[2].filled, 30);
    assert_string_equal(g.r[2].reason, "Cancelled by the exchange");

    /* rejected at once: no ACK */
    q = req("h2e3", 10);
    hh_kite__book_add(&b, "h2e3", &q, 2003, 10, &o);
    r[0] = row(2003, "h2e3", "REJECTED", 10, 0, 0);
    strcpy(r[0].msg, "RMS: margin exceeds");
    feed(&b, &g, r, 1);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.r[0].kind, HH_RPT_REJECTED);
    assert_string_equal(g.r[0].reason, "RMS: margin exceeds");

    /* rejected after fills: the rest ends as CANCELLED */
    q = req("h2e4", 10);
    hh_kite__book_add(&b, "h2e4", &q, 2004, 10, &o);
    r[0] = row(2004, "h2e4", "REJECTED", 10, 4, PX(100, 0));
    feed(&b, &g, r, 1);
    assert_int_equal(g.n, 3);
    assert_int_equal(g.r[2].kind, HH_RPT_CANCELLED);
    assert_int_equal(g.r[2].filled, 4);
    hh_kite__book_free(&b);
}

static void test_slices(void **state)
{
    struct hh_kite__book b;
    struct hh_kite__ord *o;
    struct hh_order_req q = req("h3e1", 4000);
    struct hh_broker_order v;
    struct hh_kite__row r[3];
    struct got g;

    (void)state;
    hh_kite__book_init(&b);
    assert_int_equal(hh_kite__book_add(&b, "h3e1", &q, 3001, 1800, &o), HH_OK);
    assert_int_equal(hh_kite__book_slice(&b, o, 2, 3002, 1800), HH_OK);
    assert_int_equal(hh_kite__book_slice(&b, o, 3, 3003, 400), HH_OK);
    assert_ptr_equal(hh_kite__book_by_id(&b, 3003), o);
    r[0] = row(3001, "h3e1", "COMPLETE", 1800, 1800, PX(100, 0));
    r[1] = row(3002, "h3e1S2", "OPEN", 1800, 900, PX(100, 10));
    r[2] = row(3003, "h3e1S3", "OPEN", 400, 0, 0);
    feed(&b, &g, r, 3);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.r[0].kind, HH_RPT_ACK);
    assert_int_equal(g.r[1].kind, HH_RPT_FILL);
    assert_int_equal(g.r[1].order_id, 3001);
    assert_int_equal(g.r[1].qty, 2700);
    assert_int_equal(g.r[1].filled, 2700);
    assert_int_equal(g.r[1].leaves, 1300);
    assert_int_equal(g.r[1].price, 1000333);          /* (180000+90090)/2700 */
    hh_kite__ord_view(o, &v);
    assert_int_equal(v.order_id, 3001);
    assert_string_equal(v.client_id, "h3e1");
    assert_int_equal(v.qty, 4000);
    assert_int_equal(v.filled, 2700);
    assert_int_equal(v.state, HH_OS_PARTIAL);
    assert_int_equal(v.avg_price, 1000333);

    /* the last slice rejected, the second completes: the order ends cancelled */
    r[0] = row(3002, "h3e1S2", "COMPLETE", 1800, 1800, PX(100, 10));
    r[1] = row(3003, "h3e1S3", "REJECTED", 400, 0, 0);
    strcpy(r[1].msg, "freeze");
    feed(&b, &g, r, 2);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.r[0].kind, HH_RPT_FILL);
    assert_int_equal(g.r[0].filled, 3600);
    assert_int_equal(g.r[1].kind, HH_RPT_CANCELLED);
    assert_int_equal(g.r[1].filled, 3600);
    assert_string_equal(g.r[1].reason, "freeze");
    hh_kite__book_free(&b);
}

/* Fewer slices placed than asked: one MODIFIED with what exists. */
static void test_slices_stopped(void **state)
{
    struct hh_kite__book b;
    struct hh_kite__ord *o;
    struct hh_order_req q = req("h4e1", 4000);
    struct hh_kite__row r[2];
    struct got g;

    (void)state;
    hh_kite__book_init(&b);
    hh_kite__book_add(&b, "h4e1", &q, 4001, 1800, &o);
    hh_kite__book_slice(&b, o, 2, 4002, 1800);
    r[0] = row(4001, "h4e1", "OPEN", 1800, 0, 0);
    r[1] = row(4002, "h4e1S2", "OPEN", 1800, 0, 0);
    feed(&b, &g, r, 2);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.r[0].kind, HH_RPT_ACK);
    assert_int_equal(g.r[0].leaves, 4000);
    assert_int_equal(g.r[1].kind, HH_RPT_MODIFIED);
    assert_int_equal(g.r[1].filled + g.r[1].leaves, 3600);
    /* filled completely at 3600: FILLED, no end report needed */
    r[0] = row(4001, "h4e1", "COMPLETE", 1800, 1800, PX(100, 0));
    r[1] = row(4002, "h4e1S2", "COMPLETE", 1800, 1800, PX(100, 0));
    feed(&b, &g, r, 2);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.r[0].kind, HH_RPT_FILL);
    assert_int_equal(g.r[0].leaves, 0);
    hh_kite__book_free(&b);
}

/* After a restart the book knows nothing: orders come back by their tags. */
static void test_rediscovery(void **state)
{
    struct hh_kite__book b;
    struct hh_kite__ord *o;
    struct hh_broker_order v;
    struct hh_kite__row r[4];
    struct got g;

    (void)state;
    hh_kite__book_init(&b);
    r[0] = row(5002, "h5e1S2", "OPEN", 1800, 100, PX(100, 0));
    r[1] = row(5001, "h5e1", "COMPLETE", 1800, 1800, PX(100, 0));
    r[2] = row(5003, "MANUAL", "COMPLETE", 75, 75, PX(100, 0));
    r[3] = row(5004, "", "OPEN", 75, 0, 0);
    feed(&b, &g, r, 4);
    assert_int_equal(b.n, 1);
    o = hh_kite__book_by_cid(&b, "h5e1");
    assert_non_null(o);
    assert_ptr_equal(hh_kite__book_by_id(&b, 5001), o);
    assert_ptr_equal(hh_kite__book_by_id(&b, 5002), o);
    assert_null(hh_kite__book_by_id(&b, 5003));
    hh_kite__ord_view(o, &v);
    assert_int_equal(v.order_id, 5001);
    assert_int_equal(v.qty, 3600);
    assert_int_equal(v.filled, 1900);
    /* reports as the engine never heard of it: ACK and the fill so far */
    assert_int_equal(g.n, 2);
    assert_int_equal(g.r[1].kind, HH_RPT_FILL);
    assert_int_equal(g.r[1].filled, 1900);

    /* the same tag on another broker order: not merged */
    r[0] = row(5009, "h5e1", "OPEN", 10, 0, 0);
    assert_int_equal(hh_kite__book_apply(&b, &r[0], &o), HH_EEXIST);
    hh_kite__book_free(&b);
}

/* A slice cancelled to reduce the order counts only what it filled. */
static void test_dropped_slice(void **state)
{
    struct hh_kite__book b;
    struct hh_kite__ord *o;
    struct hh_order_req q = req("h6e1", 3600);
    struct hh_kite__row r[2];
    struct got g;

    (void)state;
    hh_kite__book_init(&b);
    hh_kite__book_add(&b, "h6e1", &q, 6001, 1800, &o);
    hh_kite__book_slice(&b, o, 2, 6002, 1800);
    o->slices[1].dropped = true;                     /* reduced to 1800 */
    r[0] = row(6001, "h6e1", "COMPLETE", 1800, 1800, PX(100, 0));
    r[1] = row(6002, "h6e1S2", "CANCELLED", 1800, 0, 0);
    feed(&b, &g, r, 2);
    assert_int_equal(g.n, 3);
    assert_int_equal(g.r[0].kind, HH_RPT_ACK);
    assert_int_equal(g.r[1].kind, HH_RPT_MODIFIED);
    assert_int_equal(g.r[1].leaves, 1800);
    assert_int_equal(g.r[2].kind, HH_RPT_FILL);
    assert_int_equal(g.r[2].leaves, 0);
    hh_kite__book_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_order),
        cmocka_unit_test(test_missing_and_reordered),
        cmocka_unit_test(test_slices),
        cmocka_unit_test(test_slices_stopped),
        cmocka_unit_test(test_rediscovery),
        cmocka_unit_test(test_dropped_slice),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
