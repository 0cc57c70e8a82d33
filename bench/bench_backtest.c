/*
 * bench_backtest.c — `hedgehog backtest` end to end (SPEC §6; issue
 * "Backtest engine" performance): ticks -> candles -> trade manager ->
 * simulated exchange -> fills, on a generated 10 M-tick file with 1,000
 * signals (target >= 10 M ticks/s), and on a generated bars file (target
 * >= 5 M bars/s).  Peak RSS is reported for a small and a large input to
 * show memory does not grow with the data.
 *
 * Signals are drawn from the generated prices (entry at the price of the
 * moment, stop 0.4 % away, T1 0.8 %), so trades happen.  Files live in
 * $TMPDIR (default /tmp) and are removed afterwards, unless HH_BENCH_KEEP
 * is set (for profiling: the directory is printed).
 */
#include "benchutil.h"

#include <errno.h>
#include <sys/stat.h>

struct sigctx {
    FILE *f;
    uint64_t every;       /* one signal per this many ticks */
    uint64_t n;
};

/* Round paise to the 5-paise tick. */
static int64_t tick5(int64_t p)
{
    return (p + 2) / 5 * 5;
}

static void put_price(FILE *f, int64_t paise)
{
    fprintf(f, "\"%lld.%02lld\"", (long long)(paise / 100), (long long)(paise % 100));
}

static void write_signal(struct sigctx *c, int sym, int64_t px, const char *ts)
{
    bool buy = c->n % 2 == 0;
    int64_t d = tick5(px * 4 / 1000) > 5 ? tick5(px * 4 / 1000) : 5;

    fprintf(c->f, "{\"id\":\"b%llu\",\"ts\":\"%s\",\"symbol\":\"%s\",\"side\":\"%s\",\"entry\":",
            (unsigned long long)c->n, ts, bu_syms[sym], buy ? "BUY" : "SELL");
    put_price(c->f, px);
    fputs(",\"stop\":", c->f);
    put_price(c->f, buy ? px - d : px + d);
    fputs(",\"targets\":[", c->f);
    put_price(c->f, buy ? px + 2 * d : px - 2 * d);
    fputs("],\"lots\":1}\n", c->f);
    c->n++;
}

static void on_tick(void *ctx, uint64_t i, int sym, int64_t px, const char *ts)
{
    struct sigctx *c = ctx;

    if (i % c->every == c->every / 2)
        write_signal(c, sym, px, ts);
}

static bool write_reference(const char *dir)
{
    char p[512];
    FILE *f;

    snprintf(p, sizeof p, "%s/instruments.csv", dir);
    if (!(f = fopen(p, "w")))
        return false;
    fputs("symbol,exchange,type,underlying,expiry,strike,option_type,lot_size,tick_size,freeze_qty\n", f);
    for (int k = 0; k < BU_NSYM; k++) {
        bool fut = strstr(bu_syms[k], "FUT") != NULL;

        fprintf(f, "%s,NSE,%s,%s,%s,,,%d,0.05,\n", bu_syms[k], fut ? "FUT" : "EQ",
                fut ? (k == 6 ? "NIFTY" : "BANKNIFTY") : bu_syms[k],
                fut ? "2030-12-31" : "", fut ? (k == 6 ? 75 : 35) : 1);
    }
    fclose(f);
    snprintf(p, sizeof p, "%s/config.yaml", dir);
    if (!(f = fopen(p, "w")))
        return false;
    fputs("instruments: instruments.csv\nrisk:\n  max_open_trades: 5\n  min_rr: 1.5\n", f);
    return fclose(f) == 0;
}

/* Bars: BU_NSYM symbols every minute of 375-minute days. */
static bool generate_bars(const char *path, const char *sigpath, uint64_t rows)
{
    FILE *f = fopen(path, "w"), *sf = fopen(sigpath, "w");
    struct sigctx sc = { sf, rows / 1000, 0 };
    int64_t px[BU_NSYM];
    uint64_t seed = 0x9E3779B97F4A7C15ULL, i = 0;
    hh_date_t day = hh_date_from_ymd(2025, 1, 1);
    char ymd[11], ts[40];

    if (!f || !sf)
        return false;
    memcpy(px, bu_start_paise, sizeof px);
    fputs("ts,symbol,open,high,low,close,volume\n", f);
    while (i < rows) {
        do
            day++;
        while (hh_date_weekday(day) > 5);
        hh_date_format(day, ymd, sizeof ymd);
        for (int m = 0; m < 375 && i < rows; m++) {
            bu_put_ts(ts, ymd, (9 * 3600 + 15 * 60 + m * 60) * 1000LL);
            for (int s = 0; s < BU_NSYM && i < rows; s++, i++) {
                uint64_t r = bu_rnd(&seed);
                int64_t o = px[s], c = o + (int64_t)(r % 21) * 5 - 50;
                int64_t h = (o > c ? o : c) + (int64_t)((r >> 8) % 6) * 5;
                int64_t l = (o < c ? o : c) - (int64_t)((r >> 16) % 6) * 5;

                if (l < 100)
                    l = 100, c = c < 100 ? 100 : c;
                px[s] = c;
                fprintf(f, "%s,%s,%lld.%02lld,%lld.%02lld,%lld.%02lld,%lld.%02lld,%llu\n", ts,
                        bu_syms[s], (long long)(o / 100), (long long)(o % 100),
                        (long long)(h / 100), (long long)(h % 100), (long long)(l / 100),
                        (long long)(l % 100), (long long)(c / 100), (long long)(c % 100),
                        (unsigned long long)(1000 + (r >> 24) % 9000));
                if (i % sc.every == sc.every / 2)
                    write_signal(&sc, s, c, ts);
            }
        }
    }
    return fclose(sf) == 0 && fclose(f) == 0;
}

/* Run the backtest (persisting every decision to dir/<tag>.db when
 * with_db); print wall, throughput and RSS under `tag`. */
static int run(const char *hh, const char *dir, bool bars, const char *data, const char *tag,
               uint64_t rows, bool with_db)
{
    char cfg[512], sig[512], out[512], db[512], trades[600], line[256];
    char *argv[] = { (char *)hh, "backtest", "--config", cfg, bars ? "--bars" : "--ticks",
                     (char *)data, "--signals", sig, "--out", out,
                     with_db ? "--db" : NULL, db, NULL };
    double wall;
    long rss, n = -1;
    FILE *f;

    snprintf(cfg, sizeof cfg, "%s/config.yaml", dir);
    snprintf(sig, sizeof sig, "%s/signals_%s.jsonl", dir, bars ? "bars" : "ticks");
    snprintf(out, sizeof out, "%s/out_%s", dir, tag);
    snprintf(db, sizeof db, "%s/%s.db", dir, tag);
    if (bu_run(argv, &wall, &rss)) {
        fprintf(stderr, "bench_backtest: %s backtest (%s) failed\n", hh, tag);
        return -1;
    }
    snprintf(trades, sizeof trades, "%s/trades.csv", out);
    if ((f = fopen(trades, "r"))) {
        while (fgets(line, sizeof line, f))
            n++;
        fclose(f);
    }
    printf("backtest_%s_wall: %.3f s\n", tag, wall);
    printf("backtest_%s_throughput: %.2f M%s/s\n", tag, (double)rows / wall / 1e6,
           bars ? "bars" : "ticks");
    printf("backtest_%s_peak_rss: %ld KiB\n", tag, rss);
    printf("backtest_%s_trades: %ld\n", tag, n);
    return 0;
}

int main(void)
{
    const char *hh = getenv("HH"), *tmp = getenv("TMPDIR");
    const uint64_t big = 10000000, small = 1000000, nbars = 5000000;
    char dir[256], path[512], sig[512], cmd[600];
    struct sigctx sc;
    double t0;
    int rc = 0;

    if (!hh) {
        fprintf(stderr, "bench_backtest: set HH to the hedgehog binary (make bench does)\n");
        return 1;
    }
    snprintf(dir, sizeof dir, "%s/hh-bench-bt-%d", tmp ? tmp : "/tmp", (int)getpid());
    if (mkdir(dir, 0700) && errno != EEXIST)
        return 1;
    t0 = bu_now();
    write_reference(dir);
    snprintf(sig, sizeof sig, "%s/signals_ticks.jsonl", dir);
    sc = (struct sigctx){ fopen(sig, "w"), big / 1000, 0 };
    snprintf(path, sizeof path, "%s/ticks_big.csv", dir);
    if (!sc.f || !bu_generate_ticks(path, big, on_tick, &sc) || fclose(sc.f)) {
        fprintf(stderr, "bench_backtest: cannot generate data in %s\n", dir);
        return 1;
    }
    printf("generate_ticks: %.2f s (%llu ticks, %llu signals)\n", bu_now() - t0,
           (unsigned long long)big, (unsigned long long)sc.n);
    rc |= run(hh, dir, false, path, "ticks_10M", big, false);
    rc |= run(hh, dir, false, path, "ticks_10M_db", big, true);
    snprintf(path, sizeof path, "%s/ticks_small.csv", dir);
    bu_generate_ticks(path, small, NULL, NULL);
    rc |= run(hh, dir, false, path, "ticks_1M", small, false);
    snprintf(path, sizeof path, "%s/bars.csv", dir);
    snprintf(sig, sizeof sig, "%s/signals_bars.jsonl", dir);
    t0 = bu_now();
    if (!generate_bars(path, sig, nbars))
        return 1;
    printf("generate_bars: %.2f s (%llu bars)\n", bu_now() - t0, (unsigned long long)nbars);
    rc |= run(hh, dir, true, path, "bars_5M", nbars, false);
    if (getenv("HH_BENCH_KEEP")) {
        printf("kept: %s\n", dir);
        return rc ? 1 : 0;
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_backtest: could not remove %s\n", dir);
    return rc ? 1 : 0;
}
