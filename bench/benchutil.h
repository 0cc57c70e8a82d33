/*
 * benchutil.h — what the benchmark programs share: a deterministic tick
 * generator, a wall clock, and running a hedgehog command as a child to
 * measure its wall time and peak RSS.  Header-only (static functions): each
 * benchmark is one program.
 */
#ifndef HH_BENCHUTIL_H
#define HH_BENCHUTIL_H

#include "core/time.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BU_NSYM 8

static const char *const bu_syms[BU_NSYM] = {
    "RELIANCE", "TCS", "INFY", "HDFCBANK", "ICICIBANK", "SBIN",
    "NIFTY25JANFUT", "BANKNIFTY25JANFUT",
};
static const int64_t bu_start_paise[BU_NSYM] = {
    250005, 410050, 190025, 165010, 125030, 76005, 2350010, 4900050,
};

static inline double bu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift64: deterministic data. */
static inline uint64_t bu_rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Append "YYYY-MM-DDTHH:MM:SS.mmm+05:30" for IST date ymd and ms of day. */
static inline size_t bu_put_ts(char *p, const char *ymd, int64_t ms)
{
    int64_t s = ms / 1000;

    return (size_t)sprintf(p, "%sT%02d:%02d:%02d.%03d+05:30", ymd, (int)(s / 3600),
                           (int)(s / 60 % 60), (int)(s % 60), (int)(ms % 1000));
}

/* Called for every generated tick (for signal generation): symbol index,
 * price in paise, the timestamp text. */
typedef void (*bu_tick_fn)(void *ctx, uint64_t i, int sym, int64_t paise, const char *ts);

/*
 * Write `rows` ticks (ts,symbol,price,qty) to path: BU_NSYM symbols doing
 * random walks in 5-paise steps, one million rows per trading day spread
 * over 09:15-15:30.  `fn` (may be NULL) sees every row.  false on I/O error.
 */
static inline bool bu_generate_ticks(const char *path, uint64_t rows, bu_tick_fn fn, void *ctx)
{
    const int64_t open_ms = (9 * 3600 + 15 * 60) * 1000LL, span_ms = 22500 * 1000LL;
    const uint64_t per_day = 1000000;
    FILE *f = fopen(path, "w");
    int64_t px[BU_NSYM];
    uint64_t seed = 88172645463325252ULL;
    hh_date_t day = hh_date_from_ymd(2025, 1, 1);
    char ymd[11], line[128];

    if (!f)
        return false;
    memcpy(px, bu_start_paise, sizeof px);
    fputs("ts,symbol,price,qty\n", f);
    for (uint64_t i = 0; i < rows; i++) {
        uint64_t k = i % per_day, r = bu_rnd(&seed);
        int s = (int)(r % BU_NSYM);
        size_t n, tsn;

        if (k == 0) {
            do
                day++;
            while (hh_date_weekday(day) > 5);
            hh_date_format(day, ymd, sizeof ymd);
        }
        px[s] += (int64_t)((r >> 8) % 11) * 5 - 25;
        if (px[s] < 100)
            px[s] = 100;
        tsn = n = bu_put_ts(line, ymd, open_ms + (int64_t)(k * (uint64_t)span_ms / per_day));
        if (fn) {
            line[tsn] = '\0';
            fn(ctx, i, s, px[s], line);
        }
        n += (size_t)sprintf(line + n, ",%s,%lld.%02lld,%llu\n", bu_syms[s],
                             (long long)(px[s] / 100), (long long)(px[s] % 100),
                             (unsigned long long)(1 + (r >> 20) % 500));
        fwrite(line, 1, n, f);
    }
    return fclose(f) == 0;
}

/* CPU seconds (user + system) this process has used. */
static inline double bu_cpu(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run argv (argv[0] the program) with stdout and stderr to /dev/null;
 * *wall gets seconds, *cpu the child's user + system seconds (NULL: not
 * wanted), *rss_kib its peak RSS.  0 on exit status 0. */
static inline int bu_run_cpu(char *const argv[], double *wall, double *cpu, long *rss_kib)
{
    struct rusage ru;
    double t0 = bu_now();
    int status;
    pid_t pid;

    fflush(NULL);   /* or the child's freopen would flush our buffer again */
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
            _exit(126);
        execv(argv[0], argv);
        _exit(127);
    }
    if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    *wall = bu_now() - t0;
    if (cpu)
        *cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
               (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    *rss_kib = ru.ru_maxrss;
    return 0;
}

static inline int bu_run(char *const argv[], double *wall, long *rss_kib)
{
    return bu_run_cpu(argv, wall, NULL, rss_kib);
}

#endif
