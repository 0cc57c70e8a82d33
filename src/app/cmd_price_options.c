/*
 * cmd_price_options.c — `hedgehog price-options`: option bars priced from
 * the underlying's bars with Black-76 at a flat volatility.
 *
 *   hedgehog price-options --bars FILE --underlying SYMBOL --expiry YYYY-MM-DD
 *       --strikes K1,K2,... --iv VOL [--rate R] [--lot LOT] [--tick TICK]
 *       [--volume UNITS] [--holidays FILE] --out BARS.csv
 *       [--instruments OUT.csv]
 *
 * There is no option price data in the repository; traders and tests need
 * option bars that move with the underlying.  For every bar of SYMBOL the
 * output has the bar itself, then per strike (ascending) a CE and a PE bar,
 * all with the bar's `ts`, so a backtest sees the underlying and every leg
 * at the same instant (the group margin check needs the spot and every
 * leg's price).  Other symbols in the input are ignored (counted).
 *
 * Pricing (docs/OPTIONS_BACKTEST.md has the long form):
 *  - T = hh_b76_years(bar start, expiry): all four prices of a bar use the
 *    bar's start time; F = S e^(rT); Black-76 at sigma = --iv, rate --rate.
 *  - OHLC map monotonically: a call's open/high/low/close come from the
 *    underlying's open/high/low/close; a put's high from the underlying's
 *    low and its low from the high (a put falls as the underlying rises).
 *  - Each price is rounded half-up to --tick (default 0.05) and is never
 *    below one tick.  Pricing is double (SPEC §2 allows it); prices cross
 *    into fixed point once, as a whole number of ticks.
 *  - Volume: --volume units per option bar (default 10,000), so liquidity
 *    settings of the simulated exchange have something to share.
 *  - Bars starting at or after the expiry close (15:30 IST of the expiry
 *    day) carry no option rows: the contracts have expired.  The
 *    underlying's rows keep coming.
 *  - Symbols: NSE style (hh_strat_symbol); the monthly form
 *    (NIFTY24JUN23000CE) when the expiry is the month's last expiry
 *    (hh_cal_monthly_expiry: last Thursday, last Tuesday for contracts from
 *    September 2025, earlier on a holiday), else the weekly form
 *    (NIFTY2460623000CE).
 *  - --holidays: NSE holidays for the expiry rules; the expiry must be a
 *    trading day (weekends are never).
 *
 * --instruments writes the contracts in hedgehog's instruments CSV (and the
 * underlying as INDEX, lot 1), lot --lot (default 25: NIFTY's lot in 2024).
 *
 * Exit codes (SPEC §6): 0 done; 2 bad usage, an unreadable bars or
 * holidays file, a bars header without the required columns, no bar of
 * SYMBOL in the file, an output that cannot be created; 1 a read or write
 * error during the run.
 */
#include "app/cmd.h"
#include "app/common.h"
#include "market/mdfile.h"
#include "options/black76.h"
#include "options/strategy.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define ME "price-options"
const char hh_usage_price_options[] =
    "usage: hedgehog price-options --bars FILE --underlying SYMBOL "
    "--expiry YYYY-MM-DD --strikes K1,K2,... --iv VOL [--rate R] [--lot LOT] "
    "[--tick TICK] [--volume UNITS] [--holidays FILE] --out BARS.csv "
    "[--instruments OUT.csv]\n";
#define USAGE hh_usage_price_options
#define STRIKES_MAX 64
#define DEFAULT_LOT 25          /* NIFTY's lot size in 2024 */
#define DEFAULT_VOLUME 10000    /* units per option bar */
#define OUT_BUF (1u << 20)

struct po {
    /* options */
    const char *bars, *underlying, *expiry_s, *strikes_s, *iv_s, *rate_s, *lot_s, *tick_s,
        *volume_s, *holidays, *out_path, *inst_path;
    /* parsed */
    hh_date_t expiry;
    hh_price_t strikes[STRIKES_MAX];
    int nstrikes;
    double sigma, rate, tick_d;
    hh_qty_t lot, volume;
    hh_price_t tick;
    bool monthly;
    char sym[STRIKES_MAX][2][HH_SYMBOL_MAX];   /* [strike][0 CE, 1 PE] */
    /* state */
    struct hh_calendar *cal;
    struct hh_instruments *inst;
    struct hh_md_reader *md;
    FILE *out;
    char *outbuf;
    bool write_error;
    /* counters */
    uint64_t underlying_bars, other_rows, expired_bars, option_rows, rows_written;
};


static int cmp_price(const void *a, const void *b)
{
    hh_price_t x = *(const hh_price_t *)a, y = *(const hh_price_t *)b;

    return x < y ? -1 : x > y;
}

/* "22500,23000,23500": prices > 0, no repeats; sorted ascending. */
static int parse_strikes(struct po *p)
{
    const char *s = p->strikes_s;

    p->nstrikes = 0;
    for (;;) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        hh_price_t k;

        if (p->nstrikes == STRIKES_MAX)
            return hh_app_say(ME, USAGE, HH_EXIT_USAGE,
                              "--strikes: more than %d strikes", STRIKES_MAX);
        if (n == 0 || hh_price_parse(s, n, 0, &k) != HH_OK || k <= 0)
            return hh_app_say(ME, USAGE, HH_EXIT_USAGE,
                              "--strikes: '%.*s' is not a strike > 0 (at most 4 decimals)",
                              (int)n, s);
        p->strikes[p->nstrikes++] = k;
        if (!comma)
            break;
        s = comma + 1;
    }
    qsort(p->strikes, (size_t)p->nstrikes, sizeof *p->strikes, cmp_price);
    for (int i = 1; i < p->nstrikes; i++)
        if (p->strikes[i] == p->strikes[i - 1]) {
            char k[40];

            hh_fx_format(k, sizeof k, p->strikes[i], 2);
            return hh_app_say(ME, USAGE, HH_EXIT_USAGE, "--strikes: strike %s given twice", k);
        }
    return 0;
}

/* Everything from the command line, checked; 0 or exit code 2. */
static int parse_args(struct po *p)
{
    hh_ratio_t iv, rate = 0;
    hh_date_t mexp;
    int y, m, d;

    if (!p->underlying[0] || strlen(p->underlying) >= HH_UNDERLYING_MAX)
        return hh_app_say(ME, USAGE, HH_EXIT_USAGE,
                          "--underlying: '%s' is not a symbol (1-%d characters)", p->underlying,
                          HH_UNDERLYING_MAX - 1);
    if (hh_date_parse(p->expiry_s, strlen(p->expiry_s), &p->expiry) != HH_OK)
        return hh_app_say(ME, USAGE, HH_EXIT_USAGE,
                          "--expiry: '%s' is not a date YYYY-MM-DD", p->expiry_s);
    if (parse_strikes(p))
        return HH_EXIT_USAGE;
    if (hh_app_parse_fraction(p->iv_s, &iv) != HH_OK || iv <= 0 ||
        iv > (hh_ratio_t)(HH_B76_IV_MAX * HH_RATIO_SCALE))
        return hh_app_say(ME, USAGE, HH_EXIT_USAGE,
                          "--iv: '%s' is not a volatility in (0, 5] (a fraction, 0.15, or a "
                          "percentage, 15%%)", p->iv_s);
    p->sigma = (double)iv / HH_RATIO_SCALE;
    if (p->rate_s && (hh_app_parse_fraction(p->rate_s, &rate) != HH_OK || rate > HH_RATIO_SCALE ||
                      rate < -HH_RATIO_SCALE))
        return hh_app_say(ME, USAGE, HH_EXIT_USAGE,
                          "--rate: '%s' is not a rate in [-1, 1] (0.07 or 7%%)", p->rate_s);
    p->rate = (double)rate / HH_RATIO_SCALE;
    p->lot = DEFAULT_LOT;
    if (p->lot_s && (hh_qty_parse(p->lot_s, strlen(p->lot_s), &p->lot) != HH_OK || p->lot < 1 ||
                     p->lot > 1000000000))
        return hh_app_say(ME, USAGE, HH_EXIT_USAGE,
                          "--lot: '%s' is not a lot size >= 1 (units)", p->lot_s);
    p->tick = 5 * HH_PAISA;
    if (p->tick_s && (hh_price_parse(p->tick_s, strlen(p->tick_s), 0, &p->tick) != HH_OK ||
                      p->tick <= 0 || p->tick > 1000 * HH_RUPEE))
        return hh_app_say(ME, USAGE, HH_EXIT_USAGE,
                          "--tick: '%s' is not a tick size in (0, 1000] (at most 4 decimals)",
                          p->tick_s);
    p->tick_d = hh_b76_from_fx(p->tick);
    p->volume = DEFAULT_VOLUME;
    if (p->volume_s && (hh_qty_parse(p->volume_s, strlen(p->volume_s), &p->volume) != HH_OK ||
                        p->volume < 0))
        return hh_app_say(ME, USAGE, HH_EXIT_USAGE,
                          "--volume: '%s' is not a whole number of units >= 0", p->volume_s);
    /* the expiry: a trading day; monthly symbols when it is the month's last */
    if (!hh_cal_is_trading_day(p->cal, HH_EXCH_NSE, p->expiry)) {
        hh_date_t prev = hh_cal_prev_trading_day(p->cal, HH_EXCH_NSE, p->expiry);
        char a[16] = "", b[16] = "";

        hh_date_format(p->expiry, a, sizeof a);
        if (prev != HH_DATE_NONE)
            hh_date_format(prev, b, sizeof b);
        return hh_app_say(ME, USAGE, HH_EXIT_USAGE,
                          "--expiry: %s is not an NSE trading day%s%s%s", a,
                          prev != HH_DATE_NONE ? " (the exchange moves such an expiry to " : "", b,
                          prev != HH_DATE_NONE ? ")" : "");
    }
    hh_date_to_ymd(p->expiry, &y, &m, &d);
    mexp = hh_cal_monthly_expiry(p->cal, HH_EXCH_NSE, y, m);
    p->monthly = mexp == p->expiry;
    for (int i = 0; i < p->nstrikes; i++)
        for (int k = 0; k < 2; k++)
            if (!hh_strat_symbol(p->sym[i][k], sizeof p->sym[i][k], p->underlying, p->expiry,
                                 p->strikes[i], k ? HH_OPT_PE : HH_OPT_CE, p->monthly))
                return hh_app_say(ME, USAGE, HH_EXIT_USAGE,
                                  "--underlying '%s' with strike index %d: no valid option symbol "
                                  "(longer than %d characters?)", p->underlying, i,
                                  HH_SYMBOL_MAX - 1);
    return 0;
}

/* ---- output ---------------------------------------------------------------------- */

/* A price with two decimals, or four when it has sub-paisa digits. */
static size_t put_price(char *buf, size_t cap, hh_price_t v)
{
    return hh_fx_format(buf, cap, v, v % HH_PAISA ? 4 : 2);
}

static void put_row(struct po *p, hh_time_t ts, const char *sym, const hh_price_t px[4],
                    hh_qty_t volume)
{
    char line[320];
    size_t n = hh_time_format(ts, line, 48);

    n += (size_t)snprintf(line + n, sizeof line - n, ",%s", sym);
    for (int i = 0; i < 4; i++) {
        line[n++] = ',';
        n += put_price(line + n, 40, px[i]);
    }
    n += (size_t)snprintf(line + n, sizeof line - n, ",%lld\n", (long long)volume);
    if (fwrite(line, 1, n, p->out) != n)
        p->write_error = true;
    p->rows_written++;
}

/* Model price (rupees) -> a whole number of ticks, half-up, at least one. */
static hh_price_t to_ticks(const struct po *p, double rupees)
{
    double n;

    if (!isfinite(rupees) || rupees < 0)
        rupees = 0;   /* cannot happen for F, K > 0; stay on the grid anyway */
    n = floor(rupees / p->tick_d + 0.5);
    if (n < 1)
        n = 1;
    if (n > 1e13 / p->tick_d)   /* far beyond any index: keep the int64 safe */
        n = floor(1e13 / p->tick_d);
    return (hh_price_t)n * p->tick;
}

static hh_price_t model(const struct po *p, enum hh_opt_type opt, hh_price_t spot, double K,
                        double T)
{
    double F = hh_b76_forward(hh_b76_from_fx(spot), p->rate, T);

    return to_ticks(p, hh_b76_price(opt, F, K, p->sigma, T, p->rate));
}

/* One bar of the underlying: itself, then every live option. */
static void price_bar(struct po *p, const struct hh_bar *b)
{
    const hh_price_t ux[4] = { b->open, b->high, b->low, b->close };
    double T = hh_b76_years(b->ts, p->expiry, p->cal);

    put_row(p, b->ts, p->underlying, ux, b->volume);
    if (!(T > 0)) {
        p->expired_bars++;
        return;
    }
    for (int i = 0; i < p->nstrikes; i++) {
        double K = hh_b76_from_fx(p->strikes[i]);
        hh_price_t c[4], q[4];

        if (b->low <= 0)
            break;   /* the reader refuses such bars; never price off a zero */
        c[0] = model(p, HH_OPT_CE, b->open, K, T);
        c[1] = model(p, HH_OPT_CE, b->high, K, T);
        c[2] = model(p, HH_OPT_CE, b->low, K, T);
        c[3] = model(p, HH_OPT_CE, b->close, K, T);
        q[0] = model(p, HH_OPT_PE, b->open, K, T);
        q[1] = model(p, HH_OPT_PE, b->low, K, T);    /* a put's high: the low */
        q[2] = model(p, HH_OPT_PE, b->high, K, T);   /* a put's low: the high */
        q[3] = model(p, HH_OPT_PE, b->close, K, T);
        put_row(p, b->ts, p->sym[i][0], c, p->volume);
        put_row(p, b->ts, p->sym[i][1], q, p->volume);
        p->option_rows += 2;
    }
}

/* The instruments CSV of the contracts (and the underlying). */
static int write_instruments(struct po *p)
{
    FILE *f = fopen(p->inst_path, "w");
    char tick[40], exp[16];
    bool err;

    if (!f)
        return hh_app_say(ME, NULL, HH_EXIT_USAGE,
                          "%s: cannot create: %s", p->inst_path, strerror(errno));
    put_price(tick, sizeof tick, p->tick);
    hh_date_format(p->expiry, exp, sizeof exp);
    fputs("symbol,exchange,type,underlying,expiry,strike,option_type,lot_size,tick_size,"
          "freeze_qty\n", f);
    fprintf(f, "%s,NSE,INDEX,%s,,,,1,%s,\n", p->underlying, p->underlying, tick);
    for (int i = 0; i < p->nstrikes; i++) {
        char k[40];

        hh_fx_format(k, sizeof k, p->strikes[i], p->strikes[i] % HH_PAISA ? 4 : 2);
        /* strikes print without trailing zeros, like the symbols */
        if (strchr(k, '.')) {
            size_t n = strlen(k);

            while (k[n - 1] == '0')
                k[--n] = '\0';
            if (k[n - 1] == '.')
                k[--n] = '\0';
        }
        for (int c = 0; c < 2; c++)
            fprintf(f, "%s,NSE,OPT,%s,%s,%s,%s,%lld,%s,\n", p->sym[i][c], p->underlying, exp, k,
                    c ? "PE" : "CE", (long long)p->lot, tick);
    }
    err = ferror(f) != 0;
    if (fclose(f) != 0 || err)
        return hh_app_say(ME, NULL, HH_EXIT_FAIL,
                          "%s: write error: %s", p->inst_path, strerror(errno));
    return 0;
}

/* ---- the run ----------------------------------------------------------------------- */

static int run(struct po *p)
{
    struct hh_diag d = { "" };
    struct hh_bar bar;
    int rc;

    if (p->holidays) {
        if (hh_cal_load_holidays(p->cal, p->holidays, &d))
            return hh_app_say(ME, NULL, HH_EXIT_USAGE, "%s", d.msg);
    }
    if (parse_args(p))
        return HH_EXIT_USAGE;
    if (hh_md_open(&p->md, p->bars, HH_MD_BARS, p->inst, stderr, &d))
        return hh_app_say(ME, NULL, HH_EXIT_USAGE, "%s", d.msg);
    if (p->inst_path && (rc = write_instruments(p)) != 0)
        return rc;
    p->out = fopen(p->out_path, "w");
    if (!p->out)
        return hh_app_say(ME, NULL, HH_EXIT_USAGE,
                          "%s: cannot create: %s", p->out_path, strerror(errno));
    p->outbuf = malloc(OUT_BUF);
    if (p->outbuf)
        setvbuf(p->out, p->outbuf, _IOFBF, OUT_BUF);
    fputs("ts,symbol,open,high,low,close,volume\n", p->out);
    while ((rc = hh_md_next_bar(p->md, &bar)) == 1) {
        if (strcmp(hh_inst_get(p->inst, bar.iid)->symbol, p->underlying) != 0) {
            p->other_rows++;
            continue;
        }
        p->underlying_bars++;
        price_bar(p, &bar);
    }
    if (rc < 0)
        return hh_app_say(ME, NULL, HH_EXIT_FAIL, "%s: %s", p->bars, hh_strerror(rc));
    if (ferror(p->out))
        p->write_error = true;
    rc = fclose(p->out);
    p->out = NULL;
    if (rc != 0 || p->write_error)
        return hh_app_say(ME, NULL, HH_EXIT_FAIL,
                          "%s: write error: %s", p->out_path, strerror(errno));
    {
        const struct hh_md_stats *st = hh_md_stats(p->md);

        fprintf(stderr,
                ME ": %llu bars of %s, %llu option bars (%d strikes x CE/PE, %s symbols), "
                "%llu bars at or after the expiry close without options, %llu rows written; "
                "rows skipped %llu, other symbols %llu\n",
                (unsigned long long)p->underlying_bars, p->underlying,
                (unsigned long long)p->option_rows, p->nstrikes,
                p->monthly ? "monthly" : "weekly", (unsigned long long)p->expired_bars,
                (unsigned long long)p->rows_written, (unsigned long long)st->skipped,
                (unsigned long long)p->other_rows);
    }
    if (!p->underlying_bars)
        return hh_app_say(ME, NULL, HH_EXIT_USAGE,
                          "%s: no valid bar of '%s'", p->bars, p->underlying);
    return HH_EXIT_OK;
}

int hh_cmd_price_options(int argc, char **argv)
{
    struct po p;
    const struct hh_opt opts[] = {
        { "--bars", &p.bars, true, false },
        { "--underlying", &p.underlying, true, false },
        { "--expiry", &p.expiry_s, true, false },
        { "--strikes", &p.strikes_s, true, false },
        { "--iv", &p.iv_s, true, false },
        { "--rate", &p.rate_s, false, false },
        { "--lot", &p.lot_s, false, false },
        { "--tick", &p.tick_s, false, false },
        { "--volume", &p.volume_s, false, false },
        { "--holidays", &p.holidays, false, false },
        { "--out", &p.out_path, true, false },
        { "--instruments", &p.inst_path, false, false },
    };
    int rc;

    memset(&p, 0, sizeof p);
    if (hh_app_parse(ME, USAGE, argc, argv, opts, (int)(sizeof opts / sizeof *opts)))
        return HH_EXIT_USAGE;
    p.cal = hh_cal_new();
    p.inst = hh_inst_new();
    if (!p.cal || !p.inst)
        rc = hh_app_say(ME, NULL, HH_EXIT_FAIL, "out of memory");
    else
        rc = run(&p);
    if (p.out)
        fclose(p.out);
    free(p.outbuf);
    hh_md_close(p.md);
    hh_inst_free(p.inst);
    hh_cal_free(p.cal);
    return rc;
}
