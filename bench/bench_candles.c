/*
 * bench_candles.c — throughput of the tick reader and the candle builder.
 *
 * Generates a ticks file of 10 million rows (8 symbols, prices as random
 * walks on a 0.05 tick, millisecond timestamps over consecutive trading
 * days) in $TMPDIR (or /tmp), then measures:
 *   (a) in-process: the reader alone, and reader + 1m candle builder
 *       (rows/s, best of a few passes over the file in the page cache);
 *   (b) end to end: `$HH candles --tf 1m` as a child process (wall time,
 *       rows/s, the child's peak RSS from wait4);
 * and repeats (b) on a 1-million-row file to show that memory does not
 * grow with the file's length.  Files are removed afterwards.
 *
 *   BENCH_ROWS=N overrides the 10 M rows (for a quick run);
 *   BENCH_KEEP=1 leaves the big file in place (for profiling).
 * Figures are printed as `name: value unit` lines.
 */
#include "core/instrument.h"
#include "core/time.h"
#include "market/candle.h"
#include "market/mdfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NSYM 8

static const char *const syms[NSYM] = {
    "RELIANCE", "TCS", "INFY", "HDFCBANK", "ICICIBANK", "SBIN",
    "NIFTY25JANFUT", "BANKNIFTY25JANFUT",
};
static const int64_t start_paise[NSYM] = {
    250005, 410050, 190025, 165010, 125030, 76005, 2350010, 4900050,
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift64: deterministic data. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Append "YYYY-MM-DDTHH:MM:SS.mmm+05:30" for IST date d and ms of day. */
static size_t put_ts(char *p, const char *ymd, int64_t ms)
{
    int64_t s = ms / 1000;

    return (size_t)sprintf(p, "%sT%02d:%02d:%02d.%03d+05:30", ymd, (int)(s / 3600),
                           (int)(s / 60 % 60), (int)(s % 60), (int)(ms % 1000));
}

/* Write `rows` ticks to path; false on an I/O error. */
static bool generate(const char *path, uint64_t rows)
{
    const int64_t open_ms = (9 * 3600 + 15 * 60) * 1000LL, span_ms = 22500 * 1000LL;
    const uint64_t per_day = 1000000;
    FILE *f = fopen(path, "w");
    int64_t px[NSYM];
    uint64_t seed = 88172645463325252ULL;
    hh_date_t day = hh_date_from_ymd(2025, 1, 1);
    char ymd[11], line[128];

    if (!f)
        return false;
    memcpy(px, start_paise, sizeof px);
    fputs("ts,symbol,price,qty\n", f);
    for (uint64_t i = 0; i < rows; i++) {
        uint64_t k = i % per_day, r = rnd(&seed);
        int s = (int)(r % NSYM);
        size_t n;

        if (k == 0) {
            do
                day++;
            while (hh_date_weekday(day) > 5);
            hh_date_format(day, ymd, sizeof ymd);
        }
        px[s] += (int64_t)((r >> 8) % 11) * 5 - 25;
        if (px[s] < 100)
            px[s] = 100;
        n = put_ts(line, ymd, open_ms + (int64_t)(k * (uint64_t)span_ms / per_day));
        n += (size_t)sprintf(line + n, ",%s,%lld.%02lld,%llu\n", syms[s],
                             (long long)(px[s] / 100), (long long)(px[s] % 100),
                             (unsigned long long)(1 + (r >> 20) % 500));
        fwrite(line, 1, n, f);
    }
    return fclose(f) == 0;
}

static void count_candle(void *ctx, const struct hh_candle *c)
{
    (void)c;
    ++*(uint64_t *)ctx;
}

/* One in-process pass; returns seconds, or -1.  with_candles: feed the
 * builder too. */
static double pass(const char *path, bool with_candles, uint64_t *rows, uint64_t *candles)
{
    struct hh_instruments *inst = hh_inst_new();
    struct hh_candles *cb = hh_candles_new(inst, NULL, HH_NS_PER_MIN);
    struct hh_md_reader *r;
    struct hh_diag d;
    struct hh_tick t;
    double t0 = now_s(), el;
    uint64_t n = 0;

    *candles = 0;
    if (hh_md_open(&r, path, HH_MD_TICKS, inst, stderr, &d)) {
        fprintf(stderr, "%s\n", d.msg);
        return -1;
    }
    while (hh_md_next_tick(r, &t) == 1) {
        n++;
        if (with_candles)
            hh_candles_tick(cb, &t, count_candle, candles);
    }
    if (with_candles)
        hh_candles_flush(cb, count_candle, candles);
    el = now_s() - t0;
    *rows = n;
    hh_md_close(r);
    hh_candles_free(cb);
    hh_inst_free(inst);
    return el;
}

/* Run `$HH candles` on path; prints wall time, rows/s and peak RSS. */
static int run_cli(const char *hh, const char *path, const char *out, const char *tag,
                   uint64_t rows)
{
    struct rusage ru;
    double t0 = now_s(), el;
    int status;
    pid_t pid = fork();

    if (pid < 0)
        return -1;
    if (pid == 0) {
        freopen("/dev/null", "w", stderr);
        execl(hh, hh, "candles", "--ticks", path, "--tf", "1m", "--out", out, (char *)NULL);
        _exit(127);
    }
    if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench_candles: %s candles failed\n", hh);
        return -1;
    }
    el = now_s() - t0;
    printf("cli_%s_wall: %.3f s\n", tag, el);
    printf("cli_%s_throughput: %.2f Mrows/s\n", tag, (double)rows / el / 1e6);
    printf("cli_%s_peak_rss: %ld KiB\n", tag, ru.ru_maxrss);
    return 0;
}

/* The best of `reps` in-process passes. */
static void in_process(const char *path, const char *tag, int reps)
{
    uint64_t rows = 0, candles = 0;
    double best_r = 1e30, best_c = 1e30;

    for (int i = 0; i < reps; i++) {
        double a = pass(path, false, &rows, &candles);
        double b = pass(path, true, &rows, &candles);

        if (a >= 0 && a < best_r)
            best_r = a;
        if (b >= 0 && b < best_c)
            best_c = b;
    }
    printf("%s_rows: %llu rows\n", tag, (unsigned long long)rows);
    printf("%s_candles: %llu candles\n", tag, (unsigned long long)candles);
    printf("%s_reader_only: %.2f Mrows/s\n", tag, (double)rows / best_r / 1e6);
    printf("%s_reader_candles_1m: %.2f Mrows/s\n", tag, (double)rows / best_c / 1e6);
    printf("%s_ns_per_row: %.1f ns\n", tag, best_c * 1e9 / (double)rows);
}

int main(void)
{
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    const char *hh = getenv("HH");
    uint64_t big = getenv("BENCH_ROWS") ? strtoull(getenv("BENCH_ROWS"), NULL, 10) : 10000000;
    uint64_t small = big / 10;
    char fbig[512], fsmall[512], out[512];
    double t0;
    int rc = 0;

    snprintf(fbig, sizeof fbig, "%s/hh-bench-ticks-%d-big.csv", dir, (int)getpid());
    snprintf(fsmall, sizeof fsmall, "%s/hh-bench-ticks-%d-small.csv", dir, (int)getpid());
    snprintf(out, sizeof out, "%s/hh-bench-bars-%d.csv", dir, (int)getpid());
    t0 = now_s();
    if (!generate(fbig, big) || !generate(fsmall, small)) {
        fprintf(stderr, "bench_candles: cannot write %s\n", dir);
        rc = 1;
        goto out;
    }
    printf("generate: %.2f s\n", now_s() - t0);
    in_process(fbig, "inproc", 3);
    if (hh && *hh) {
        if (run_cli(hh, fbig, out, "big", big) || run_cli(hh, fsmall, out, "small", small))
            rc = 1;
    } else {
        printf("cli: skipped (HH not set)\n");
    }
out:
    if (!getenv("BENCH_KEEP"))        /* keep the big file for perf/callgrind */
        unlink(fbig);
    unlink(fsmall);
    unlink(out);
    return rc;
}
