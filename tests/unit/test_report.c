/*
 * test_report.c — the report.html writer: the inlined chart library, the
 * chart data (IST-shifted times, exact prices, markers on their candles),
 * escaping of user text in the script data and the tables, the caps that
 * bound memory (candle merging, symbols, markers, trades), a missing
 * library, write errors, and byte-identical output for the same input.
 */
#include "testutil.h"

#include "out/report.h"
#include "core/fixed.h"
#include "core/time.h"
#include "signal/signal.h"
#include "trade/trade.h"

#define P(r) ((hh_price_t)(r) * HH_RUPEE)   /* whole rupees */
#define PAISE(p) ((hh_price_t)(p) * HH_PAISA)

static const char FAKE_LIB[] = "/* fake lightweight-charts */ var FAKE_LWC = 42;\n";
static const char SUMMARY[] =
    "{\"signals_received\": 3, \"trades\": 1, \"rejected_by_reason\": {\"STALE\": 2}, "
    "\"net_pnl\": -125.50, \"win_rate\": 0.0, \"final_equity\": 999874.50}";

static hh_time_t at(const char *iso)
{
    hh_time_t t;

    assert_int_equal(hh_time_parse(iso, strlen(iso), &t, NULL), HH_OK);
    return t;
}

/* IST time on 2025-01-02. */
static hh_time_t ist(const char *hms)
{
    char b[64];

    snprintf(b, sizeof b, "2025-01-02T%s+05:30", hms);
    return at(b);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;

    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

#define assert_contains(hay, needle)                                             \
    do {                                                                         \
        if (!strstr((hay), (needle)))                                            \
            fail_msg("expected to find: %s", (needle));                         \
    } while (0)

#define assert_not_contains(hay, needle)                                         \
    do {                                                                         \
        if (strstr((hay), (needle)))                                             \
            fail_msg("did not expect: %s", (needle));                           \
    } while (0)

/* The JSON candle array of the n-th charted symbol (a copy; caller frees). */
static char *candles_of(const char *page, int n)
{
    const char *p = strstr(page, "id=\"hh-data\"");
    const char *e;
    char *out;

    assert_non_null(p);
    for (int i = 0; i <= n; i++) {
        p = strstr(p, "\"candles\":[");
        assert_non_null(p);
        p += strlen("\"candles\":[");
    }
    e = strstr(p, "],\n\"markers\"");
    assert_non_null(e);
    out = strndup(p, (size_t)(e - p));
    assert_non_null(out);
    return out;
}

static const char *lib_path(const char *text)
{
    return tu_write_file(0, "lwc.js", text);
}

static const char *out_path(void)
{
    static char path[512];

    /* tu_write_file creates the per-process directory. */
    snprintf(path, sizeof path, "%s", tu_write_file(1, "report.html", ""));
    return path;
}

static struct hh_tm_fill fill(hh_time_t ts, uint32_t id, const struct hh_signal *sig,
                              enum hh_side side, hh_qty_t qty, hh_price_t px,
                              enum hh_fill_reason why)
{
    struct hh_tm_fill f = { ts, id, id, sig, 0, side, qty, px, why, P(20) };

    return f;
}

static int write_page(struct hh_rep *r, const char *path, const char *summary)
{
    struct hh_diag d = { "" };
    int rc = hh_rep_write(r, path, summary, &d);

    if (rc)
        print_message("hh_rep_write: %s\n", d.msg);
    return rc;
}

/* A small run: three 5-minute candles, one trade with entry and stop. */
static struct hh_rep *small_run(const char *sym, const char *sig_id)
{
    struct hh_rep *r = hh_rep_new();
    struct hh_signal sig;
    struct hh_tm_fill f;
    struct hh_tm_trade t = { 0 };

    memset(&sig, 0, sizeof sig);
    snprintf(sig.id, sizeof sig.id, "%s", sig_id);
    assert_non_null(r);
    assert_int_equal(hh_rep_equity(r, ist("09:00:00"), P(1000000)), HH_OK);
    assert_int_equal(hh_rep_candle(r, 0, sym, ist("09:15:00"), P(23500), PAISE(2351050),
                                   P(23490), PAISE(2350525), 1200), HH_OK);
    assert_int_equal(hh_rep_candle(r, 0, sym, ist("09:20:00"), PAISE(2350525), P(23520),
                                   P(23480), P(23501), 900), HH_OK);
    assert_int_equal(hh_rep_candle(r, 0, sym, ist("09:25:00"), P(23501), P(23502),
                                   PAISE(2349849), PAISE(2349849), 700), HH_OK);
    f = fill(ist("09:21:30.250"), 1, &sig, HH_BUY, 50, P(23501), HH_FR_ENTRY);
    assert_int_equal(hh_rep_fill(r, &f, sym), HH_OK);
    f = fill(ist("09:31:00"), 1, &sig, HH_SELL, 50, PAISE(2349849), HH_FR_STOP);
    assert_int_equal(hh_rep_fill(r, &f, sym), HH_OK);
    t.trade_id = 1;
    t.sig = &sig;
    t.side = HH_BUY;
    t.qty = 50;
    t.entry_ts = ist("09:21:30.250");
    t.entry_price = P(23501);
    t.exit_ts = ist("09:31:00");
    t.avg_exit_price = PAISE(2349849);
    t.exit_reason = HH_FR_STOP;
    t.gross = -PAISE(7550);
    t.charges = P(40);
    t.net = -PAISE(11550);
    t.r_multiple = -50;
    assert_int_equal(hh_rep_trade(r, &t, sym), HH_OK);
    assert_int_equal(hh_rep_equity(r, t.exit_ts, P(1000000) - PAISE(11550)), HH_OK);
    return r;
}

static void test_page_content(void **state)
{
    const char *out = out_path();
    struct hh_rep *r = small_run("NIFTY25JANFUT", "sig-1");
    char *page;

    (void)state;
    setenv(HH_REP_CHARTS_ENV, lib_path(FAKE_LIB), 1);
    assert_int_equal(write_page(r, out, SUMMARY), HH_OK);
    page = slurp(out);

    /* The library, inlined. */
    assert_contains(page, "<script>\n/* fake lightweight-charts */ var FAKE_LWC = 42;\n");
    /* Candles: IST wall time as UTC seconds (09:15 IST -> 1735809300 =
     * 2025-01-02T09:15:00Z), exact prices with two places. */
    assert_contains(page, "\"symbol\":\"NIFTY25JANFUT\",\"k\":1,\"candles_in\":3,\"fills\":2");
    assert_contains(page, "\"candles\":[[1735809300,23500.00,23510.50,23490.00,23505.25,1200],"
                          "[1735809600,23505.25,23520.00,23480.00,23501.00,900],"
                          "[1735809900,23501.00,23502.00,23498.49,23498.49,700]]");
    /* Markers on the candle holding the fill (09:21:30 -> 09:20); a fill
     * after the last candle goes on the last one. */
    assert_contains(page, "\"markers\":[[1735809600,\"B\",\"ENTRY\",1,50,23501.00],\n"
                          "[1735809900,\"S\",\"STOP\",1,50,23498.49]]");
    /* Equity: the start and one trade. */
    assert_contains(page, "\"equity\":[[1735808400,1000000.00],[1735810260,999884.50]]");
    /* The trade table. */
    assert_contains(page, "<td class=\"n\">23501.00</td><td>2025-01-02 09:31:00</td>"
                          "<td class=\"n\">23498.49</td><td>STOP</td>"
                          "<td class=\"n\">-75.50</td><td class=\"n\">40.00</td>"
                          "<td class=\"n neg\">-115.50</td><td class=\"n\">-0.50</td>");
    assert_contains(page, "<td>2025-01-02 09:21:30.250</td>");
    /* The summary: cards and table, numbers as written in summary.json. */
    assert_contains(page, "<div class=\"k\">Net P&amp;L</div><div class=\"v neg\">-125.50</div>");
    assert_contains(page, "<tr><th>Rejected by reason</th><td class=\"n\">STALE: 2</td></tr>");
    assert_contains(page, "<tr><th>Final equity</th><td class=\"n\">999874.50</td></tr>");
    /* What the browser test reads. */
    assert_contains(page, "body.dataset.ready='1'");
    assert_contains(page, "body.dataset.markers=String(nm)");
    assert_contains(page, "LC.createSeriesMarkers(cs,mk)");
    assert_contains(page, "ch.addSeries(LC.CandlestickSeries");
    assert_contains(page, "window.addEventListener('error'");
    /* No network: a CSP forbids every fetch. */
    assert_contains(page, "default-src 'none'");
    assert_not_contains(page, "id=\"hh-nolib\"");
    assert_int_equal(count(page, "</script>"), 4);   /* errors, library, data, app */
    free(page);
    hh_rep_free(r);
}

static void test_escaping(void **state)
{
    const char *out = out_path();
    const char *sym = "A</script><b>&\"x'";
    struct hh_rep *r = small_run(sym, "s<img src=x>");
    char *page;

    (void)state;
    setenv(HH_REP_CHARTS_ENV, lib_path("var s = '</SCRIPT>' + '<!-- x';\n"), 1);
    assert_int_equal(write_page(r, out, "{\"note\": \"<i>&</i>\"}"), HH_OK);
    page = slurp(out);
    /* In the script data: no '<' at all, so nothing can close the element. */
    assert_contains(page, "\"symbol\":\"A\\u003c/script\\u003e\\u003cb\\u003e\\u0026\\\"x'\"");
    /* In the tables: HTML-escaped. */
    assert_contains(page, "A&lt;/script&gt;&lt;b&gt;&amp;&quot;x&#39;");
    assert_contains(page, "s&lt;img src=x&gt;");
    assert_contains(page, "<td class=\"n\">&lt;i&gt;&amp;&lt;/i&gt;</td>");
    assert_not_contains(page, "</script><b>");
    assert_not_contains(page, "<img");
    /* The library: "</script" and "<!--" defused. */
    assert_contains(page, "var s = '<\\/SCRIPT>' + '<\\!-- x';");
    assert_int_equal(count(page, "</script>"), 4);
    assert_int_equal(count(page, "</SCRIPT>"), 0);
    free(page);
    hh_rep_free(r);
}

/* HH_REP_CANDLES_MAX + 3 one-minute candles: the buffer halves once (pairs
 * merged, k = 2), then candles are folded in pairs. */
static void test_candle_cap(void **state)
{
    const char *out = out_path();
    struct hh_rep *r = hh_rep_new();
    hh_time_t t0 = ist("09:15:00");
    const int n = HH_REP_CANDLES_MAX + 3;
    char *page, *cs, want[256];
    struct hh_tm_fill f;
    struct hh_signal sig = { .id = "s1" };

    (void)state;
    assert_non_null(r);
    for (int i = 0; i < n; i++) {
        /* open i, high i+10, low i-10 (rupees), close i+1; volume i. */
        assert_int_equal(hh_rep_candle(r, 0, "SYM", t0 + (hh_time_t)i * HH_NS_PER_MIN,
                                       P(1000 + i), P(1010 + i), P(990 + i), P(1001 + i), i),
                         HH_OK);
    }
    f = fill(t0 + 3 * HH_NS_PER_MIN + 10 * HH_NS_PER_S, 1, &sig, HH_BUY, 1, P(1003), HH_FR_ENTRY);
    assert_int_equal(hh_rep_fill(r, &f, "SYM"), HH_OK);
    setenv(HH_REP_CHARTS_ENV, lib_path(FAKE_LIB), 1);
    assert_int_equal(write_page(r, out, SUMMARY), HH_OK);
    page = slurp(out);
    cs = candles_of(page, 0);
    /* 20000 -> 10000 pairs, then candle 20000 starts a new pair that
     * candle 20001 completes, and candle 20002 starts another. */
    assert_int_equal(count(cs, "["), HH_REP_CANDLES_MAX / 2 + 2);
    /* First merged candle: open of the first, high/low over both, close of
     * the second, volumes summed, time of the first. */
    assert_contains(cs, "[1735809300,1000.00,1011.00,990.00,1002.00,1],");
    snprintf(want, sizeof want, "[%lld,%d.00,%d.00,%d.00,%d.00,%d]",
             1735809300LL + 60LL * (n - 1), 1000 + n - 1, 1010 + n - 1, 990 + n - 1,
             1001 + n - 1, n - 1);
    assert_string_equal(cs + strlen(cs) - strlen(want), want);   /* the last, alone */
    snprintf(want, sizeof want, "[%lld,21000.00,21011.00,20990.00,21002.00,40001],",
             1735809300LL + 60LL * (n - 3));
    assert_contains(cs, want);                                  /* the pair before it */
    assert_contains(page, "\"k\":2,\"candles_in\":20003");
    assert_contains(page, "SYM: 20003 candles were merged into 10002 (every 2 consecutive");
    /* The fill at 09:18:10 lies in the merged 09:17-09:18 candle. */
    assert_contains(page, "\"markers\":[[1735809420,\"B\",\"ENTRY\",1,1,1003.00]]");
    free(cs);
    free(page);
    hh_rep_free(r);
}

/* A candle in the same second as the previous one is folded into it; an
 * earlier one is dropped and noted. */
static void test_candle_order(void **state)
{
    const char *out = out_path();
    struct hh_rep *r = hh_rep_new();
    char *page, *cs;
    struct hh_tm_fill f;
    struct hh_signal sig = { .id = "s1" };

    (void)state;
    assert_int_equal(hh_rep_candle(r, 0, "X", ist("09:15:00"), P(10), P(11), P(9), P(10), 1),
                     HH_OK);
    assert_int_equal(hh_rep_candle(r, 0, "X", ist("09:15:00.500"), P(10), P(12), P(8), P(11), 2),
                     HH_OK);
    assert_int_equal(hh_rep_candle(r, 0, "X", ist("09:14:00"), P(1), P(1), P(1), P(1), 1),
                     HH_OK);
    assert_int_equal(hh_rep_candle(r, 0, "X", ist("09:16:00"), P(11), P(11), P(11), P(11), 1),
                     HH_OK);
    f = fill(ist("09:10:00"), 1, &sig, HH_SELL, 1, P(10), HH_FR_ENTRY);
    assert_int_equal(hh_rep_fill(r, &f, "X"), HH_OK);
    setenv(HH_REP_CHARTS_ENV, lib_path(FAKE_LIB), 1);
    assert_int_equal(write_page(r, out, SUMMARY), HH_OK);
    page = slurp(out);
    cs = candles_of(page, 0);
    assert_string_equal(cs, "[1735809300,10.00,12.00,8.00,11.00,3],"
                            "[1735809360,11.00,11.00,11.00,11.00,1]");
    assert_contains(page, "X: 1 candles out of time order were left out.");
    /* A fill before the first candle is marked on the first candle. */
    assert_contains(page, "\"markers\":[[1735809300,\"S\",\"ENTRY\",1,1,10.00]]");
    free(cs);
    free(page);
    hh_rep_free(r);
}

static void test_missing_library(void **state)
{
    const char *out = out_path();
    struct hh_rep *r = small_run("NIFTY25JANFUT", "sig-1");
    char *page;

    (void)state;
    setenv(HH_REP_CHARTS_ENV, "/nonexistent/hh/lightweight-charts.js", 1);
    assert_int_equal(write_page(r, out, SUMMARY), HH_OK);
    page = slurp(out);
    assert_contains(page, "id=\"hh-nolib\">Charts are not shown: the chart library");
    assert_contains(page, "/nonexistent/hh/lightweight-charts.js (from HH_CHARTS_JS)");
    assert_not_contains(page, "FAKE_LWC");
    /* Tables, summary and data are still there. */
    assert_contains(page, "<table id=\"hh-trade-table\">");
    assert_contains(page, "<tr><th>Trades</th><td class=\"n\">1</td></tr>");
    assert_contains(page, "\"candles\":[[1735809300,");
    assert_int_equal(count(page, "</script>"), 3);
    free(page);
    hh_rep_free(r);
}

/* Ten symbols with candles and fills: the first eight to fill are charted,
 * the rest named in a note. */
static void test_symbol_cap(void **state)
{
    const char *out = out_path();
    struct hh_rep *r = hh_rep_new();
    struct hh_signal sig = { .id = "s" };
    char *page, sym[16];

    (void)state;
    for (int s = 0; s < 10; s++) {
        snprintf(sym, sizeof sym, "S%d", s);
        assert_int_equal(hh_rep_candle(r, (hh_iid_t)s, sym, ist("09:15:00"), P(10), P(11), P(9),
                                       P(10), 1),
                         HH_OK);
    }
    for (int s = 9; s >= 0; s--) {          /* S9 fills first */
        struct hh_tm_fill f = fill(ist("09:15:30"), (uint32_t)s, &sig, HH_BUY, 1, P(10),
                                   HH_FR_ENTRY);

        f.iid = (hh_iid_t)s;
        snprintf(sym, sizeof sym, "S%d", s);
        assert_int_equal(hh_rep_fill(r, &f, sym), HH_OK);
        assert_int_equal(hh_rep_fill(r, &f, sym), HH_OK);
    }
    /* Candles of an uncharted symbol are not kept any more. */
    assert_int_equal(hh_rep_candle(r, 0, "S0", ist("09:16:00"), P(10), P(11), P(9), P(10), 1),
                     HH_OK);
    setenv(HH_REP_CHARTS_ENV, lib_path(FAKE_LIB), 1);
    assert_int_equal(write_page(r, out, NULL), HH_OK);
    page = slurp(out);
    assert_int_equal(count(page, "{\"symbol\":"), HH_REP_SYMBOLS_MAX);
    assert_contains(page, "{\"symbol\":\"S9\"");
    assert_contains(page, "{\"symbol\":\"S2\"");
    assert_not_contains(page, "{\"symbol\":\"S1\"");
    assert_contains(page, "these also have fills: S1 (2), S0 (2).");
    /* S9 is the first chart. */
    assert_true(strstr(page, "{\"symbol\":\"S9\"") < strstr(page, "{\"symbol\":\"S8\""));
    /* No summary: a note instead. */
    assert_contains(page, "The summary is not available");
    free(page);
    hh_rep_free(r);
}

/* Markers and trade rows are capped, with notes; equity points in one
 * second collapse to the last value. */
static void test_row_caps(void **state)
{
    const char *out = out_path();
    struct hh_rep *r = hh_rep_new();
    struct hh_signal sig = { .id = "s" };
    struct hh_tm_trade t = { 0 };
    char *page;

    (void)state;
    assert_int_equal(hh_rep_candle(r, 0, "X", ist("09:15:00"), P(10), P(11), P(9), P(10), 1),
                     HH_OK);
    for (int i = 0; i < HH_REP_MARKERS_MAX + 7; i++) {
        struct hh_tm_fill f = fill(ist("09:15:30"), (uint32_t)i, &sig, HH_BUY, 1, P(10),
                                   HH_FR_ENTRY);

        assert_int_equal(hh_rep_fill(r, &f, "X"), HH_OK);
    }
    t.sig = &sig;
    t.side = HH_SELL;
    for (int i = 0; i < HH_REP_TRADES_MAX + 3; i++) {
        t.trade_id = (uint32_t)i + 1;
        assert_int_equal(hh_rep_trade(r, &t, "X"), HH_OK);
    }
    assert_int_equal(hh_rep_equity(r, ist("09:15:00"), P(100)), HH_OK);
    assert_int_equal(hh_rep_equity(r, ist("09:16:00"), P(101)), HH_OK);
    assert_int_equal(hh_rep_equity(r, ist("09:16:00.900"), P(102)), HH_OK);
    setenv(HH_REP_CHARTS_ENV, lib_path(FAKE_LIB), 1);
    assert_int_equal(write_page(r, out, SUMMARY), HH_OK);
    page = slurp(out);
    assert_int_equal(count(page, "\"ENTRY\""), HH_REP_MARKERS_MAX);
    assert_contains(page, "X: markers are shown for the first 5000 of 5007 fills.");
    assert_contains(page, "X: 5000 markers, shown without labels.");
    assert_contains(page, "<h2>Trades (5003)</h2>");
    assert_contains(page, "The table shows the first 5000 of 5003 trades");
    assert_int_equal(count(page, "<td>SELL</td>"), HH_REP_TRADES_MAX);
    assert_contains(page, "\"equity\":[[1735809300,100.00],[1735809360,102.00]]");
    free(page);
    hh_rep_free(r);
}

/* Equity points beyond the cap are thinned: pairs keep their later point. */
static void test_equity_cap(void **state)
{
    const char *out = out_path();
    struct hh_rep *r = hh_rep_new();
    hh_time_t t0 = ist("09:15:00");
    char *page, want[128];

    (void)state;
    for (int i = 0; i < HH_REP_EQUITY_MAX + 1; i++)
        assert_int_equal(hh_rep_equity(r, t0 + (hh_time_t)i * HH_NS_PER_S, P(i)), HH_OK);
    setenv(HH_REP_CHARTS_ENV, lib_path(FAKE_LIB), 1);
    assert_int_equal(write_page(r, out, SUMMARY), HH_OK);
    page = slurp(out);
    assert_contains(page, "\"equity\":[[1735809301,1.00],[1735809303,3.00],");
    snprintf(want, sizeof want, "[%lld,%d.00]]}", 1735809300LL + HH_REP_EQUITY_MAX,
             HH_REP_EQUITY_MAX);
    assert_contains(page, want);
    assert_contains(page, "The equity curve shows every 2-th of 20001 points.");
    free(page);
    hh_rep_free(r);
}

static void test_deterministic_and_errors(void **state)
{
    const char *out = out_path();
    struct hh_rep *r = small_run("NIFTY25JANFUT", "sig-1");
    struct hh_diag d = { "" };
    char *a, *b;

    (void)state;
    setenv(HH_REP_CHARTS_ENV, lib_path(FAKE_LIB), 1);
    assert_int_equal(write_page(r, out, SUMMARY), HH_OK);
    a = slurp(out);
    assert_int_equal(write_page(r, out, SUMMARY), HH_OK);
    b = slurp(out);
    assert_string_equal(a, b);
    assert_int_equal(hh_rep_write(r, "/nonexistent/dir/report.html", SUMMARY, &d), HH_EIO);
    assert_contains(d.msg, "/nonexistent/dir/report.html.tmp: cannot create");
    free(a);
    free(b);
    hh_rep_free(r);
    hh_rep_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page_content),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_candle_cap),
        cmocka_unit_test(test_candle_order),
        cmocka_unit_test(test_missing_library),
        cmocka_unit_test(test_symbol_cap),
        cmocka_unit_test(test_row_caps),
        cmocka_unit_test(test_equity_cap),
        cmocka_unit_test(test_deterministic_and_errors),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);

    tu_cleanup();
    return rc;
}
