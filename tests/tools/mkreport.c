/*
 * mkreport.c — write a report.html from synthetic data through hh_rep_*,
 * for the browser test (tests/integration/test_report.sh) and for looking
 * at the page, independently of `hedgehog backtest`.
 *
 *   mkreport OUT.html [--symbols N] [--days D] [--tf MIN] [--evil]
 *
 * N symbols (default 2) of D trading days (default 3) of MIN-minute bars
 * (default 5) on a deterministic random walk, a trade every ~20 bars per
 * symbol with one or two exits, the equity after each trade and a summary.
 * --evil names the first symbol and the signals with HTML/script text.
 *
 * Prints "markers=M candles=C trades=T" to stdout: the markers and candles
 * the page should draw (all fills of charted symbols; the candles left
 * after the report's merging rule) and the trade-table rows.
 */
#include "out/report.h"
#include "core/fixed.h"
#include "core/time.h"
#include "signal/signal.h"
#include "trade/trade.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 88172645463325252ull;

static int64_t rnd(int64_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (int64_t)(rng % (uint64_t)n);
}

/* Candles the report keeps of n source candles (its halving rule). */
static uint64_t kept(uint64_t n)
{
    uint64_t s = 0, g = 0, k = 1;

    for (uint64_t i = 0; i < n; i++) {
        if (s && g < k) {
            g++;
            continue;
        }
        if (s == HH_REP_CANDLES_MAX) {
            s /= 2;
            k *= 2;
        }
        s++;
        g = 1;
    }
    return s;
}

struct open_trade {
    bool on;
    int exit_at, exit2_at;      /* bar indexes */
    struct hh_tm_trade t;
    struct hh_signal sig;
    hh_money_t gross, charges;
    hh_qty_t left;
};

struct sym_state {
    const char *sym;
    hh_price_t px, step;
    uint64_t ncandles, fills;
    int first;                  /* order of its first fill */
    struct open_trade ot;
};

static int usage(void)
{
    fprintf(stderr, "usage: mkreport OUT.html [--symbols N] [--days D] [--tf MIN] [--evil]\n");
    return 2;
}

int main(int argc, char **argv)
{
    static const char *const names[] = { "NIFTY25JANFUT", "RELIANCE", "HDFCBANK", "INFY",
                                         "TCS", "SBIN", "ICICIBANK", "ITC", "LT", "AXISBANK" };
    static const hh_price_t base[] = { 23500, 1250, 1650, 1900, 4100, 780, 1280, 470, 3600, 1100 };
    static const enum hh_fill_reason exits[] = { HH_FR_STOP, HH_FR_TARGET1, HH_FR_SQUAREOFF,
                                                 HH_FR_TARGET2, HH_FR_STOP, HH_FR_KILL };
    const char *out = NULL;
    int nsym = 2, days = 3, tf = 5;
    bool evil = false;
    struct hh_rep *r;
    struct hh_diag d = { "" };
    uint64_t markers = 0, candles = 0, trades = 0;
    static struct sym_state st[10];
    hh_money_t equity = 1000000 * HH_RUPEE, gross_all = 0, charges_all = 0, peak, maxdd = 0;
    uint64_t wins = 0, losses = 0, order = 0;
    uint32_t next_id = 1;
    int nfirst = 0;
    char summary[2048], g[40], c[40], n[40], dd[40], eq[40];
    hh_date_t day0 = hh_date_from_ymd(2025, 1, 1), date = day0;
    int bars_per_day;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--symbols") == 0 && i + 1 < argc)
            nsym = atoi(argv[++i]);
        else if (strcmp(argv[i], "--days") == 0 && i + 1 < argc)
            days = atoi(argv[++i]);
        else if (strcmp(argv[i], "--tf") == 0 && i + 1 < argc)
            tf = atoi(argv[++i]);
        else if (strcmp(argv[i], "--evil") == 0)
            evil = true;
        else if (argv[i][0] != '-' && !out)
            out = argv[i];
        else
            return usage();
    }
    if (!out || nsym < 1 || nsym > 10 || days < 1 || tf < 1 || tf > 375)
        return usage();
    bars_per_day = 375 / tf;
    r = hh_rep_new();
    if (!r)
        return 1;
    peak = equity;

    if (hh_rep_equity(r, hh_time_from_ist(day0, HH_TOD(9, 0)), equity))
        return 1;
    for (int s = 0; s < nsym; s++) {
        st[s].sym = evil && s == 0 ? "EVIL</script><script>window.__pwned=1</script>&"
                                   : names[s];
        st[s].px = base[s] * HH_RUPEE;
        st[s].step = st[s].px / 2000;
    }
    for (int day = 0, bar = 0; day < days; day++, date++) {
        while (hh_date_weekday(date) >= 6)
            date++;
        for (int b = 0; b < bars_per_day; b++, bar++) {
            hh_time_t ts = hh_time_from_ist(date, HH_TOD(9, 15) + (int64_t)b * tf * HH_NS_PER_MIN);

            for (int s = 0; s < nsym; s++) {
                struct sym_state *y = &st[s];
                struct open_trade *ot = &y->ot;
                const char *sym = y->sym;
                hh_price_t o = y->px, cl, hi, lo, q4 = y->step / 4 / HH_PAISA * HH_PAISA;

                if (q4 < HH_PAISA)
                    q4 = HH_PAISA;
                cl = o + (rnd(21) - 10) * q4;
                hi = (o > cl ? o : cl) + rnd(6) * q4;
                lo = (o < cl ? o : cl) - rnd(6) * q4;
                y->px = cl;
                if (hh_rep_candle(r, (hh_iid_t)s, sym, ts, o, hi, lo, cl, 1000 + rnd(50000)))
                    return 1;
                y->ncandles++;

                if (!ot->on && (bar + 3 * s) % 20 == 7 && b < bars_per_day - 2) {
                    memset(ot, 0, sizeof *ot);
                    ot->on = true;
                    snprintf(ot->sig.id, sizeof ot->sig.id, "%s%s-%d",
                             evil ? "x</td><img src=x onerror=window.__pwned=2>" : "sig-",
                             names[s], bar);
                    ot->t.trade_id = next_id++;
                    ot->t.sig = &ot->sig;
                    ot->t.side = (bar / 20 + s) % 2 ? HH_SELL : HH_BUY;
                    ot->t.qty = ot->left = 50;
                    ot->t.entry_ts = ts + 2 * HH_NS_PER_MIN + 250 * HH_NS_PER_MS;
                    ot->t.entry_price = cl;
                    ot->exit_at = bar + 3 + (int)rnd(8);
                    ot->exit2_at = (bar / 20 + s) % 3 == 0 ? ot->exit_at + 2 : -1;
                    if (ot->exit_at - bar > bars_per_day - 1 - b) {
                        ot->exit_at = bar + (bars_per_day - 1 - b);
                        ot->exit2_at = -1;
                    }
                    if (ot->exit2_at - bar > bars_per_day - 1 - b)
                        ot->exit2_at = -1;
                    {
                        struct hh_tm_fill f = { ot->t.entry_ts, ++order, ot->t.trade_id,
                                                &ot->sig, (hh_iid_t)s, ot->t.side, ot->t.qty,
                                                ot->t.entry_price, HH_FR_ENTRY, 20 * HH_RUPEE };
                        if (hh_rep_fill(r, &f, sym))
                            return 1;
                        if (!y->fills++)
                            y->first = nfirst++;
                        ot->charges += f.charges;
                    }
                } else if (ot->on && (bar == ot->exit_at || bar == ot->exit2_at)) {
                    bool last = bar == ot->exit2_at || ot->exit2_at < 0;
                    hh_qty_t q = last ? ot->left : ot->left / 2;
                    enum hh_fill_reason why = ot->exit2_at >= 0
                                                  ? (last ? HH_FR_TARGET2 : HH_FR_TARGET1)
                                                  : exits[(bar / 7) % 6];
                    struct hh_tm_fill f = { ts + 90 * HH_NS_PER_S, ++order, ot->t.trade_id,
                                            &ot->sig, (hh_iid_t)s, (enum hh_side)-ot->t.side, q,
                                            cl, why, 20 * HH_RUPEE };

                    if (hh_rep_fill(r, &f, sym))
                        return 1;
                    y->fills++;
                    ot->left -= q;
                    ot->gross += (cl - ot->t.entry_price) * q * ot->t.side;
                    ot->charges += f.charges;
                    if (last) {
                        ot->t.exit_ts = f.ts;
                        ot->t.avg_exit_price = cl;
                        ot->t.exit_reason = why;
                        ot->t.gross = ot->gross;
                        ot->t.charges = ot->charges;
                        ot->t.net = ot->gross - ot->charges;
                        ot->t.r_multiple = ot->t.net * 100 / (500 * HH_RUPEE);
                        if (hh_rep_trade(r, &ot->t, sym))
                            return 1;
                        trades++;
                        equity += ot->t.net;
                        gross_all += ot->gross;
                        charges_all += ot->charges;
                        if (ot->t.net > 0)
                            wins++;
                        else
                            losses++;
                        if (equity > peak)
                            peak = equity;
                        if (peak - equity > maxdd)
                            maxdd = peak - equity;
                        if (hh_rep_equity(r, f.ts, equity))
                            return 1;
                        ot->on = false;
                    }
                }
            }
        }
    }
    /* The first HH_REP_SYMBOLS_MAX symbols to fill are charted. */
    for (int s = 0; s < nsym; s++) {
        if (!st[s].fills || st[s].first >= HH_REP_SYMBOLS_MAX)
            continue;
        candles += kept(st[s].ncandles);
        markers += st[s].fills < HH_REP_MARKERS_MAX ? st[s].fills : HH_REP_MARKERS_MAX;
    }

    hh_fx_format(g, sizeof g, gross_all, 2);
    hh_fx_format(c, sizeof c, charges_all, 2);
    hh_fx_format(n, sizeof n, gross_all - charges_all, 2);
    hh_fx_format(dd, sizeof dd, maxdd, 2);
    hh_fx_format(eq, sizeof eq, equity, 2);
    snprintf(summary, sizeof summary,
             "{\"signals_received\": %llu, \"signals_accepted\": %llu, \"signals_rejected\": 2, "
             "\"rejected_by_reason\": {\"RR_TOO_LOW\": 1, \"STALE\": 1}, \"trades\": %llu, "
             "\"wins\": %llu, \"losses\": %llu, \"win_rate\": %.4f, \"gross_pnl\": %s, "
             "\"charges\": %s, \"net_pnl\": %s, \"max_drawdown\": %s, \"final_equity\": %s, "
             "\"rows_skipped\": 0, \"ticks_processed\": 0, \"bars_processed\": %llu, "
             "\"elapsed_s\": 0.012}\n",
             (unsigned long long)trades + 2, (unsigned long long)trades,
             (unsigned long long)trades, (unsigned long long)wins, (unsigned long long)losses,
             trades ? (double)wins / (double)trades : 0.0, g, c, n, dd, eq,
             (unsigned long long)(nsym * days * bars_per_day));
    if (hh_rep_write(r, out, summary, &d)) {
        fprintf(stderr, "mkreport: %s\n", d.msg);
        hh_rep_free(r);
        return 1;
    }
    hh_rep_free(r);
    printf("markers=%llu candles=%llu trades=%llu\n", (unsigned long long)markers,
           (unsigned long long)candles, (unsigned long long)(trades < HH_REP_TRADES_MAX ? trades : HH_REP_TRADES_MAX));
    return 0;
}
