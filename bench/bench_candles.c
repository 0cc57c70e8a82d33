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

#include "benchutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
    double t0 = bu_now(), el;
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
    el = bu_now() - t0;
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
    char *argv[] = { (char *)hh, "candles", "--ticks", (char *)path, "--tf", "1m",
                     "--out", (char *)out, NULL };
    double el;
    long rss;

    if (bu_run(argv, &el, &rss)) {
        fprintf(stderr, "bench_candles: %s candles failed\n", hh);
        return -1;
    }
    printf("cli_%s_wall: %.3f s\n", tag, el);
    printf("cli_%s_throughput: %.2f Mrows/s\n", tag, (double)rows / el / 1e6);
    printf("cli_%s_peak_rss: %ld KiB\n", tag, rss);
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
    t0 = bu_now();
    if (!bu_generate_ticks(fbig, big, NULL, NULL) || !bu_generate_ticks(fsmall, small, NULL, NULL)) {
        fprintf(stderr, "bench_candles: cannot write %s\n", dir);
        rc = 1;
        goto out;
    }
    printf("generate: %.2f s\n", bu_now() - t0);
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
