/*
 * test_daily.c — the end-of-day report's figures on a database built record
 * by record: only the day's records count (IST day bounds); rejections by
 * reason join validation and entry-time rejections; wins, losses, exact
 * money and the day's max drawdown in closing order; failed orders, hedge
 * orders by their client id, ack and market-fill latencies; the signal
 * latency's mean and nearest-rank p99 over 100 samples; breaker openings,
 * divergences, operator alerts, kill-switch events; the JSON's exact text
 * for a few keys; the page escaping what the database holds; a malformed
 * date refused.
 */
#include "testutil.h"

#include "daily/daily.h"
#include "store/store.h"

#define S HH_NS_PER_S
#define D0 (1735756200LL * S)       /* 2025-01-02T00:00:00+05:30 */
#define AT(h, m) (D0 + (h) * 3600 * S + (m) * 60 * S)

static const char *db_path(char *buf, size_t cap, const char *name)
{
    char cmd[1200];

    assert_non_null(tu_write_file(7, ".keep", ""));
    snprintf(buf, cap, "/tmp/hh-unit-%d/%s", (int)getpid(), name);
    snprintf(cmd, sizeof cmd, "rm -f '%s' '%s-wal' '%s-shm' '%s-lock'", buf, buf, buf, buf);
    assert_int_equal(system(cmd), 0);
    return buf;
}

static void put(struct hh_store *st, struct hh_store_rec r)
{
    struct hh_diag d = { { 0 } };

    if (hh_store_submit(st, &r, 1, 0, NULL, &d) != HH_OK)
        fail_msg("submit: %s", d.msg);
}

static void sig_line(struct hh_store *st, hh_time_t at, bool ok, enum hh_sig_reason why,
                   int64_t latency)
{
    struct hh_store_rec r = { .kind = HH_STORE_SIGNAL };

    r.u.signal.raw = "{}";
    r.u.signal.received_at = HH_TIME_NONE;
    r.u.signal.decided_at = at;
    r.u.signal.accepted = ok;
    r.u.signal.reason = why;
    r.u.signal.latency_ns = latency;
    put(st, r);
}

static void audit(struct hh_store *st, hh_time_t at, enum hh_audit_kind k, const char *payload)
{
    struct hh_store_rec r = { .kind = HH_STORE_AUDIT };

    r.u.audit.at = at;
    r.u.audit.kind = k;
    r.u.audit.payload = payload;
    put(st, r);
}

static void trade(struct hh_store *st, hh_time_t exit, hh_money_t net)
{
    struct hh_store_rec r = { .kind = HH_STORE_TRADE };

    r.u.trade.trade_id = 1;
    r.u.trade.symbol = "X<Y";
    r.u.trade.side = HH_BUY;
    r.u.trade.qty = 1;
    r.u.trade.entry_ts = exit - 60 * S;
    r.u.trade.exit_ts = exit;
    r.u.trade.gross = net + 10000;          /* 1 rupee of charges each */
    r.u.trade.charges = 10000;
    r.u.trade.net = net;
    put(st, r);
}

/* An order placed at `at`; its ACK `ack` ns and first fill `fill` ns later
 * (< 0: none). */
static void order(struct hh_store *st, const char *cid, enum hh_ord_type type,
                  enum hh_ord_state state, hh_time_t at, uint64_t oid, int64_t ack,
                  int64_t fill)
{
    struct hh_store_rec r = { .kind = HH_STORE_ORDER }, e = { .kind = HH_STORE_ORDER_EVENT };

    r.u.order.client_id = cid;
    r.u.order.order_id = oid;
    r.u.order.symbol = "X";
    r.u.order.side = HH_BUY;
    r.u.order.type = type;
    r.u.order.qty = 1;
    r.u.order.state = state;
    r.u.order.at = at;
    put(st, r);
    e.u.order_event.order_id = oid;
    if (ack >= 0) {
        e.u.order_event.kind = HH_RPT_ACK;
        e.u.order_event.at = at + ack;
        put(st, e);
    }
    if (fill >= 0) {
        e.u.order_event.kind = HH_RPT_FILL;
        e.u.order_event.at = at + fill;
        e.u.order_event.exec_id = oid;
        put(st, e);
    }
}

static void build(const char *path)
{
    struct hh_store *st = NULL;
    struct hh_diag d = { { 0 } };

    assert_int_equal(hh_store_open(path, NULL, &st, &d), HH_OK);
    sig_line(st, D0 - 1, true, HH_SIG_NONE, 0);                 /* the day before */
    for (int i = 1; i <= 100; i++)                            /* 1..100 ms */
        sig_line(st, AT(9, 16), true, HH_SIG_NONE, i * HH_NS_PER_MS);
    sig_line(st, AT(9, 17), false, HH_SIG_RR_TOO_LOW, 0);
    sig_line(st, AT(9, 18), false, HH_SIG_RR_TOO_LOW, 0);
    sig_line(st, D0 + HH_NS_PER_DAY, false, HH_SIG_STALE, 0);  /* the day after */
    audit(st, AT(10, 0), HH_AUDIT_RISK_REJECTED, "{\"id\":\"a\",\"reason\":\"SIZE_TOO_SMALL\"}");
    trade(st, AT(10, 1), 1000000);                            /* +100 */
    trade(st, AT(10, 2), -3000000);                           /* -300: dd 300 */
    trade(st, AT(10, 3), 500000);                             /* +50 */
    trade(st, AT(10, 4), -1000000);                           /* -100: dd 350 */
    trade(st, D0 + HH_NS_PER_DAY, -90000000);                 /* the day after */
    order(st, "g1h100n3", HH_ORD_MARKET, HH_OS_FILLED, AT(11, 0), 7, 50 * HH_NS_PER_MS,
          200 * HH_NS_PER_MS);
    order(st, "h2e1", HH_ORD_LIMIT, HH_OS_REJECTED, AT(11, 1), 8, -1, -1);
    order(st, "h3e1", HH_ORD_LIMIT, HH_OS_FILLED, AT(11, 2), 9, 10 * HH_NS_PER_MS,
          5 * HH_NS_PER_MIN);
    audit(st, AT(12, 0), HH_AUDIT_BREAKER, "{\"from\":\"CLOSED\",\"to\":\"OPEN\"}");
    audit(st, AT(12, 1), HH_AUDIT_BREAKER, "{\"from\":\"OPEN\",\"to\":\"HALF_OPEN\"}");
    audit(st, AT(12, 2), HH_AUDIT_RECONCILE_DIVERGENCE, "{}");
    audit(st, AT(12, 3), HH_AUDIT_ALERT, "{\"alert\":\"GAVE_UP\",\"operator_alert\":true}");
    audit(st, AT(12, 4), HH_AUDIT_ALERT, "{\"alert\":\"PLACE_FOUND\",\"operator_alert\":false}");
    audit(st, AT(13, 0), HH_AUDIT_KILL_SWITCH,
          "{\"action\":\"halt\",\"state\":\"HALTED\",\"reason\":\"<script>x</script>\","
          "\"by\":\"cli:ops\",\"applied\":true}");
    assert_int_equal(hh_store_close(st, &d), HH_OK);
}

static void report(const char *path, const char *date, struct hh_daily *r)
{
    struct hh_store_reader *rd = NULL;
    struct hh_diag d = { { 0 } };

    assert_int_equal(hh_store_reader_open(path, &rd, &d), HH_OK);
    if (hh_daily_compute(rd, date, r, &d) != HH_OK)
        fail_msg("compute: %s", d.msg);
    hh_store_reader_close(rd);
}

static void test_figures(void **state)
{
    struct hh_daily r;
    char p[512];

    (void)state;
    build(db_path(p, sizeof p, "day.db"));
    report(p, "2025-01-02", &r);
    assert_int_equal(r.from, D0);
    assert_int_equal(r.received, 102);
    assert_int_equal(r.rejected, 3);
    assert_int_equal(r.accepted, 99);
    assert_int_equal(r.nreasons, 2);
    assert_string_equal(r.reason[0].name, "RR_TOO_LOW");
    assert_int_equal(r.reason[0].n, 2);
    assert_string_equal(r.reason[1].name, "SIZE_TOO_SMALL");
    assert_int_equal(r.trades, 4);
    assert_int_equal(r.wins, 2);
    assert_int_equal(r.losses, 2);
    assert_int_equal(r.net, -2500000);
    assert_int_equal(r.charges, 40000);
    assert_int_equal(r.gross, -2460000);
    assert_int_equal(r.max_drawdown, 3500000);
    assert_int_equal(r.signal_ms.n, 100);
    assert_int_equal(r.signal_ms.avg, 50500000);          /* 50.5 ms */
    assert_int_equal(r.signal_ms.p99, 99 * HH_NS_PER_MS);  /* nearest rank */
    assert_int_equal(r.orders, 3);
    assert_int_equal(r.failed_orders, 1);
    assert_int_equal(r.hedges, 1);
    assert_int_equal(r.ack_ms.n, 2);
    assert_int_equal(r.ack_ms.avg, 30 * HH_NS_PER_MS);
    assert_int_equal(r.market_fill_ms.n, 1);                /* MARKET orders only */
    assert_int_equal(r.market_fill_ms.p99, 200 * HH_NS_PER_MS);
    assert_int_equal(r.breaker_openings, 1);
    assert_int_equal(r.divergences, 1);
    assert_int_equal(r.alerts, 1);
    assert_int_equal(r.nkills, 1);
    assert_string_equal(r.kills[0].state, "HALTED");
    assert_true(r.kills[0].applied);
    hh_daily_free(&r);
    report(p, "2025-01-03", &r);                /* the day after: its own records */
    assert_int_equal(r.received, 1);
    assert_int_equal(r.trades, 1);
    assert_int_equal(r.max_drawdown, 90000000);
    assert_int_equal(r.signal_ms.n, 0);
    hh_daily_free(&r);
}

static void test_json_and_page(void **state)
{
    struct hh_daily r;
    char p[512], *json = NULL, *html = NULL;
    size_t len, hlen = 0;
    FILE *f;

    (void)state;
    build(db_path(p, sizeof p, "page.db"));
    report(p, "2025-01-02", &r);
    assert_int_equal(hh_daily_json(&r, &json, &len), HH_OK);
    assert_non_null(strstr(json, "\"rejected_by_reason\": {\"RR_TOO_LOW\": 2, "
                                 "\"SIZE_TOO_SMALL\": 1}"));
    assert_non_null(strstr(json, "\"win_rate\": 0.5000"));
    assert_non_null(strstr(json, "\"net_pnl\": -250.00"));
    assert_non_null(strstr(json, "\"max_drawdown\": 350.00"));
    assert_non_null(strstr(json, "\"signal_processing\": {\"count\": 100, \"avg\": 50.500, "
                                 "\"p99\": 99.000}"));
    assert_non_null(strstr(json, "\"reason\": \"<script>x</script>\""));
    f = open_memstream(&html, &hlen);
    assert_int_equal(hh_daily_html(&r, f), HH_OK);
    fclose(f);
    assert_null(strstr(html, "<script"));
    assert_non_null(strstr(html, "&lt;script&gt;x&lt;/script&gt;"));
    assert_non_null(strstr(html, "X&lt;Y"));
    assert_non_null(strstr(html, "<th>Win rate</th><td class=\"n\">50.00 %</td>"));
    assert_null(strstr(html, "http"));
    free(html);
    free(json);
    hh_daily_free(&r);
}

static void test_bad_date(void **state)
{
    struct hh_store_reader *rd = NULL;
    struct hh_daily r;
    struct hh_diag d = { { 0 } };
    char p[512];

    (void)state;
    build(db_path(p, sizeof p, "bad.db"));
    assert_int_equal(hh_store_reader_open(p, &rd, &d), HH_OK);
    assert_int_equal(hh_daily_compute(rd, "2025-13-01", &r, &d), HH_EINVAL);
    assert_non_null(strstr(d.msg, "expected YYYY-MM-DD"));
    assert_int_equal(hh_daily_compute(rd, "2025-01-0", &r, &d), HH_EINVAL);
    hh_store_reader_close(rd);
    hh_daily_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_figures),
        cmocka_unit_test(test_json_and_page),
        cmocka_unit_test(test_bad_date),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);

    tu_cleanup();
    return rc;
}
