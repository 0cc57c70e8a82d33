/*
 * bench_throughput.c — the workloads of issue 16, against the read-only
 * limit of the machine.
 *
 * Generates, deterministically, in $TMPDIR (default /tmp):
 *   - bars: 2,002,500 one-minute bars of 20 symbols (267 days of 375
 *     minutes, ~148 MB) with 1,000 signals drawn from the data;
 *   - ticks: 3,000,000 millisecond ticks of the same 20 symbols (~150 MB,
 *     one million a day) with 1,000 signals;
 *   - signals: 2,000,000 flat signal lines with 2,000,000 distinct ids;
 * and a configuration with `entry.mode: touch` and `max_open_trades: 5`.
 *
 * For each data file it prints, as `name: value unit` lines:
 *   - `limit`: read(2) of the file into a 1 MiB buffer counting newlines
 *     (16 bytes at a time), in process: what any reader of the file pays
 *     before it parses anything;
 *   - `reader`: the market-data reader (or the signal validator fed by the
 *     line reader) alone, in process: rows/s;
 *   - `e2e`: the CLI as a child (`hedgehog backtest`, `hedgehog validate`):
 *     rows/s and the child's peak RSS;
 *   - `x_limit`: how many times slower than the limit each one is.
 * Every timing is repeated (BENCH_REPS, default 5) and reported as the
 * median with the spread (min-max) of the runs, since the machine is
 * shared.  The files are removed afterwards unless BENCH_KEEP is set (the
 * directory is printed: for perf and callgrind).  Doubles are statistics
 * for a human; no price passes through them.
 */
#include "core/instrument.h"
#include "core/lines.h"
#include "market/mdfile.h"
#include "signal/signal.h"

#include "benchutil.h"

#include <errno.h>
#include <fcntl.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <sys/stat.h>

#define NSYM        20
#define BAR_DAYS    267
#define BAR_MINUTES 375
#define NTICKS      3000000ULL
#define NSIGLINES   2000000ULL
#define NSIGNALS    1000
#define MAX_REPS    15

static const char *const syms[NSYM] = {
    "RELIANCE", "TCS", "INFY", "HDFCBANK", "ICICIBANK", "SBIN", "ITC", "LT",
    "AXISBANK", "KOTAKBANK", "BHARTIARTL", "HINDUNILVR", "BAJFINANCE", "MARUTI",
    "ASIANPAINT", "WIPRO", "TITAN", "ULTRACEMCO", "NIFTY30DECFUT", "BANKNIFTY30DECFUT",
};

/* A symbol's first price in paise. */
static int64_t start_paise(int s)
{
    return s >= NSYM - 2 ? 2350010 + 2550040 * (s - (NSYM - 2)) : 50005 + 21050 * s;
}

static bool is_fut(int s)
{
    return s >= NSYM - 2;
}

/* ---- statistics ------------------------------------------------------------ */

struct sample {
    double v[MAX_REPS];
    int n;
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(struct sample *s)
{
    qsort(s->v, (size_t)s->n, sizeof *s->v, cmp_double);
    return s->n % 2 ? s->v[s->n / 2] : (s->v[s->n / 2 - 1] + s->v[s->n / 2]) / 2;
}

/* Print the rates of `rows` rows in wall and in CPU seconds under name:
 * medians and min-max; returns the median wall rate, *cpu_rate the CPU
 * one.  CPU time is the steadier figure when other work shares the
 * machine (it leaves out the time spent waiting for a core). */
static double print_rate(const char *name, struct sample *wall, struct sample *cpu,
                         uint64_t rows, const char *unit, double *cpu_rate)
{
    double w = median(wall), c = median(cpu), r = (double)rows / 1e6;

    printf("%s: %.2f M%s/s wall (median of %d; %.2f-%.2f), %.2f M%s/s cpu (%.2f-%.2f)\n",
           name, r / w, unit, wall->n, r / wall->v[wall->n - 1], r / wall->v[0], r / c, unit,
           r / cpu->v[cpu->n - 1], r / cpu->v[0]);
    *cpu_rate = (double)rows / c;
    return (double)rows / w;
}

/* ---- generated files ------------------------------------------------------- */

/* Write dir/instruments.csv and dir/config.yaml.  false on I/O error. */
static bool write_reference(const char *dir)
{
    char p[512];
    FILE *f;

    snprintf(p, sizeof p, "%s/instruments.csv", dir);
    if (!(f = fopen(p, "w")))
        return false;
    fputs("symbol,exchange,type,underlying,expiry,strike,option_type,lot_size,tick_size,"
          "freeze_qty\n", f);
    for (int s = 0; s < NSYM; s++)
        fprintf(f, "%s,NSE,%s,%s,%s,,,%d,0.05,\n", syms[s], is_fut(s) ? "FUT" : "EQ",
                is_fut(s) ? (s == NSYM - 2 ? "NIFTY" : "BANKNIFTY") : syms[s],
                is_fut(s) ? "2030-12-30" : "", is_fut(s) ? (s == NSYM - 2 ? 75 : 35) : 1);
    if (fclose(f))
        return false;
    snprintf(p, sizeof p, "%s/config.yaml", dir);
    if (!(f = fopen(p, "w")))
        return false;
    fputs("instruments: instruments.csv\nentry:\n  mode: touch\nrisk:\n  max_open_trades: 5\n"
          "  min_rr: 1.5\n", f);
    return fclose(f) == 0;
}

/* Round paise to the 5-paise tick. */
static int64_t tick5(int64_t p)
{
    return (p + 2) / 5 * 5;
}

/* A touch-mode signal at price px (paise) of symbol s at ts: entry one
 * tick away from the price, stop 0.4 % beyond, T1 twice the risk. */
static void put_signal(FILE *f, uint64_t n, int s, int64_t px, const char *ts)
{
    bool buy = n % 2 == 0;
    int64_t d = tick5(px * 4 / 1000) > 5 ? tick5(px * 4 / 1000) : 5;
    int64_t e = tick5(px) + (buy ? 5 : -5);
    int64_t st = buy ? e - d : e + d, t1 = buy ? e + 2 * d : e - 2 * d;

    fprintf(f, "{\"id\":\"s%llu\",\"ts\":\"%s\",\"symbol\":\"%s\",\"side\":\"%s\","
            "\"entry\":%lld.%02lld,\"stop\":%lld.%02lld,\"targets\":[%lld.%02lld],\"lots\":1}\n",
            (unsigned long long)n, ts, syms[s], buy ? "BUY" : "SELL", (long long)(e / 100),
            (long long)(e % 100), (long long)(st / 100), (long long)(st % 100),
            (long long)(t1 / 100), (long long)(t1 % 100));
}

/* The next weekday after day. */
static hh_date_t next_weekday(hh_date_t day)
{
    do
        day++;
    while (hh_date_weekday(day) > 5);
    return day;
}

/* Bars: every symbol every minute of BAR_DAYS days; a signal every
 * rows / NSIGNALS bars.  Returns the row count, 0 on I/O error. */
static uint64_t generate_bars(const char *path, const char *sigpath)
{
    const uint64_t rows = (uint64_t)BAR_DAYS * BAR_MINUTES * NSYM, every = rows / NSIGNALS;
    FILE *f = fopen(path, "w"), *sf = fopen(sigpath, "w");
    uint64_t seed = 0x9E3779B97F4A7C15ULL, i = 0, nsig = 0;
    hh_date_t day = hh_date_from_ymd(2024, 1, 1);
    int64_t px[NSYM];
    char ymd[11], ts[40];

    if (!f || !sf)
        return 0;
    for (int s = 0; s < NSYM; s++)
        px[s] = start_paise(s);
    fputs("ts,symbol,open,high,low,close,volume\n", f);
    for (int dn = 0; dn < BAR_DAYS; dn++) {
        day = next_weekday(day);
        hh_date_format(day, ymd, sizeof ymd);
        for (int m = 0; m < BAR_MINUTES; m++) {
            snprintf(ts, sizeof ts, "%sT%02d:%02d:00+05:30", ymd, (555 + m) / 60, (555 + m) % 60);
            for (int s = 0; s < NSYM; s++, i++) {
                uint64_t r = bu_rnd(&seed);
                int64_t o = px[s], c = o + (int64_t)(r % 21) * 5 - 50;
                int64_t h = (o > c ? o : c) + (int64_t)((r >> 8) % 6) * 5;
                int64_t l = (o < c ? o : c) - (int64_t)((r >> 16) % 6) * 5;

                if (l < 100)
                    l = 100, c = c < 100 ? 100 : c;
                px[s] = c;
                fprintf(f, "%s,%s,%lld.%02lld,%lld.%02lld,%lld.%02lld,%lld.%02lld,%llu\n", ts,
                        syms[s], (long long)(o / 100), (long long)(o % 100),
                        (long long)(h / 100), (long long)(h % 100), (long long)(l / 100),
                        (long long)(l % 100), (long long)(c / 100), (long long)(c % 100),
                        (unsigned long long)(1000 + (r >> 24) % 90000));
                if (i % every == every / 2 && nsig < NSIGNALS)
                    put_signal(sf, nsig++, s, c, ts);
            }
        }
    }
    return fclose(sf) == 0 && fclose(f) == 0 ? rows : 0;
}

/* Ticks: NTICKS rows, one million a day over 09:15-15:30, random symbol
 * and walk; a signal every NTICKS / NSIGNALS ticks. */
static uint64_t generate_ticks(const char *path, const char *sigpath)
{
    const int64_t open_ms = (9 * 3600 + 15 * 60) * 1000LL, span_ms = 22500 * 1000LL;
    const uint64_t per_day = 1000000, every = NTICKS / NSIGNALS;
    FILE *f = fopen(path, "w"), *sf = fopen(sigpath, "w");
    uint64_t seed = 88172645463325252ULL, nsig = 0;
    hh_date_t day = hh_date_from_ymd(2024, 1, 1);
    int64_t px[NSYM];
    char ymd[11], ts[40];

    if (!f || !sf)
        return 0;
    for (int s = 0; s < NSYM; s++)
        px[s] = start_paise(s);
    fputs("ts,symbol,price,qty\n", f);
    for (uint64_t i = 0; i < NTICKS; i++) {
        uint64_t k = i % per_day, r = bu_rnd(&seed);
        int s = (int)(r % NSYM);

        if (k == 0) {
            day = next_weekday(day);
            hh_date_format(day, ymd, sizeof ymd);
        }
        px[s] += (int64_t)((r >> 8) % 11) * 5 - 25;
        if (px[s] < 100)
            px[s] = 100;
        bu_put_ts(ts, ymd, open_ms + (int64_t)(k * (uint64_t)span_ms / per_day));
        fprintf(f, "%s,%s,%lld.%02lld,%llu\n", ts, syms[s], (long long)(px[s] / 100),
                (long long)(px[s] % 100), (unsigned long long)(1 + (r >> 20) % 500));
        if (i % every == every / 2 && nsig < NSIGNALS)
            put_signal(sf, nsig++, s, px[s], ts);
    }
    return fclose(sf) == 0 && fclose(f) == 0 ? NTICKS : 0;
}

/* Signals: NSIGLINES flat lines, every id distinct, all valid on a
 * trading day (2025-01-02), prices as numbers. */
static uint64_t generate_signals(const char *path)
{
    FILE *f = fopen(path, "w");
    uint64_t seed = 0x2545F4914F6CDD1DULL;

    if (!f)
        return 0;
    for (uint64_t i = 0; i < NSIGLINES; i++) {
        uint64_t r = bu_rnd(&seed);
        int s = (int)(r % NSYM), sec = 9 * 3600 + 15 * 60 + (int)((r >> 8) % 22000);
        char ts[40];

        snprintf(ts, sizeof ts, "2025-01-02T%02d:%02d:%02d+05:30", sec / 3600, sec / 60 % 60,
                 sec % 60);
        put_signal(f, i, s, start_paise(s) + (int64_t)((r >> 24) % 2000) * 5, ts);
    }
    return fclose(f) == 0 ? NSIGLINES : 0;
}

/* ---- measurements ---------------------------------------------------------- */

/* Newlines in p[0..n): 16 bytes at a time, byte counters summed every
 * 255 blocks (before they could wrap). */
static uint64_t count_newlines(const char *p, size_t n)
{
    uint64_t total = 0;
    size_t i = 0;
#ifdef __SSE2__
    const __m128i nl = _mm_set1_epi8('\n'), zero = _mm_setzero_si128();

    while (i + 16 <= n) {
        __m128i acc = zero, sums;

        for (int k = 0; k < 255 && i + 16 <= n; k++, i += 16)
            acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(
                                        _mm_loadu_si128((const __m128i *)(const void *)(p + i)), nl));
        sums = _mm_sad_epu8(acc, zero);
        total += (uint64_t)_mm_cvtsi128_si64(sums) +
                 (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(sums, sums));
    }
#endif
    for (; i < n; i++)
        total += p[i] == '\n';
    return total;
}

/* Wall and CPU seconds of one run. */
struct timing {
    double wall, cpu;
};

static struct timing since(double wall0, double cpu0)
{
    return (struct timing){ bu_now() - wall0, bu_cpu() - cpu0 };
}

/* The limit: read(2) the whole file into a 1 MiB buffer and count its
 * newlines; false on error.  *lines gets the count. */
static bool read_limit(const char *path, uint64_t *lines, struct timing *t)
{
    static char buf[1 << 20];
    int fd = open(path, O_RDONLY);
    double w0 = bu_now(), c0 = bu_cpu();
    uint64_t n = 0;
    ssize_t k;

    if (fd < 0)
        return false;
    while ((k = read(fd, buf, sizeof buf)) > 0)
        n += count_newlines(buf, (size_t)k);
    close(fd);
    *lines = n;
    *t = since(w0, c0);
    return k == 0;
}

/* The market-data reader alone over path; false on error.  *rows gets
 * the accepted rows. */
static bool reader_only(const char *path, enum hh_md_kind kind, uint64_t *rows,
                        struct timing *tm)
{
    struct hh_instruments *inst = hh_inst_new();
    struct hh_md_reader *r;
    struct hh_diag d;
    struct hh_tick t;
    struct hh_bar b;
    double w0 = bu_now(), c0 = bu_cpu();
    uint64_t n = 0;

    if (!inst || hh_md_open(&r, path, kind, inst, stderr, &d)) {
        hh_inst_free(inst);
        return false;
    }
    if (kind == HH_MD_BARS)
        while (hh_md_next_bar(r, &b) == 1)
            n++;
    else
        while (hh_md_next_tick(r, &t) == 1)
            n++;
    *tm = since(w0, c0);
    hh_md_close(r);
    hh_inst_free(inst);
    *rows = n;
    return true;
}

/* The signal validator fed by the line reader, as `hedgehog validate`
 * reads (instruments of the workload); false on error. */
static bool validator_only(const char *path, const char *dir, uint64_t *accepted,
                           struct timing *tm)
{
    const struct hh_sig_rules rules = {
        .min_rr = 1500000000LL, .min_confidence = 600000000LL,
        .max_live_age = 120 * HH_NS_PER_S, .max_clock_skew = 2 * HH_NS_PER_S,
    };
    struct hh_instruments *inst = hh_inst_new();
    struct hh_sig_validator *v = NULL;
    struct hh_lines *lr = NULL;
    struct hh_signal s;
    struct hh_sig_reject rej;
    struct hh_diag d;
    const char *line;
    char ipath[512];
    size_t len;
    double w0, c0;
    bool ok = false;

    snprintf(ipath, sizeof ipath, "%s/instruments.csv", dir);
    *accepted = 0;
    if (!inst || hh_inst_load(inst, ipath, NULL, &d))
        goto out;
    w0 = bu_now(), c0 = bu_cpu();
    v = hh_sig_validator_new(inst, NULL, &rules);
    if (!v || hh_lines_open(&lr, path, 0, &d))
        goto out;
    while (hh_lines_next(lr, &line, &len) == 1)
        *accepted += hh_sig_process(v, line, len, hh_lines_lineno(lr), HH_TIME_NONE, &s, &rej);
    *tm = since(w0, c0);
    ok = true;
out:
    hh_lines_close(lr);
    hh_sig_validator_free(v);
    hh_inst_free(inst);
    return ok;
}

/* One data file and how to run it. */
struct workload {
    const char *tag, *unit;
    const char *path;
    enum hh_md_kind kind;
    bool signals;               /* validate instead of backtest */
    uint64_t rows;
};

static int run_cli(const char *hh, const char *dir, const struct workload *w, struct timing *t,
                   long *rss)
{
    char cfg[512], sig[512], out[512];
    char *bt[] = { (char *)hh, "backtest", "--config", cfg,
                   w->kind == HH_MD_BARS ? "--bars" : "--ticks", (char *)w->path,
                   "--signals", sig, "--out", out, NULL };
    char *va[] = { (char *)hh, "validate", "--config", cfg, "--signals", (char *)w->path,
                   "--out", out, NULL };

    snprintf(cfg, sizeof cfg, "%s/config.yaml", dir);
    snprintf(sig, sizeof sig, "%s/signals_%s.jsonl", dir, w->tag);
    snprintf(out, sizeof out, "%s/out_%s", dir, w->tag);
    return bu_run_cpu(w->signals ? va : bt, &t->wall, &t->cpu, rss);
}

/* Copy the first `lines` lines of src to dst; false on I/O error. */
static bool head_copy(const char *src, const char *dst, uint64_t lines)
{
    FILE *in = fopen(src, "r"), *out = fopen(dst, "w");
    int ch;

    if (!in || !out) {
        if (in)
            fclose(in);
        if (out)
            fclose(out);
        return false;
    }
    while (lines && (ch = getc(in)) != EOF) {
        putc(ch, out);
        lines -= ch == '\n';
    }
    fclose(in);
    return fclose(out) == 0;
}

/* Peak RSS of the CLI on the first tenth of the file: flat in length when
 * it matches the whole file's. */
static int rss_tenth(const char *hh, const char *dir, const struct workload *w)
{
    char small[600];
    struct workload t = *w;
    struct timing tm;
    long rss;

    snprintf(small, sizeof small, "%s.tenth", w->path);
    t.path = small;
    if (!head_copy(w->path, small, w->rows / 10 + 1) || run_cli(hh, dir, &t, &tm, &rss))
        return -1;
    printf("%s_e2e_peak_rss_tenth: %ld KiB (the first %llu rows)\n", w->tag, rss,
           (unsigned long long)(w->rows / 10));
    unlink(small);
    return 0;
}

/* Add one timing to a pair of samples. */
static void add(struct sample *wall, struct sample *cpu, struct timing t)
{
    wall->v[wall->n++] = t.wall;
    cpu->v[cpu->n++] = t.cpu;
}

/* Print the three figures of a workload from its samples. */
static void report(const struct workload *w, struct sample s[3][2], uint64_t lines,
                   uint64_t rows, long rss)
{
    static const char *const what[3] = { "limit", "reader", "e2e" };
    double rate[3], cpu[3];
    struct stat st;
    char name[128];

    stat(w->path, &st);
    printf("%s_file: %llu rows, %.1f MB, %llu newlines, %llu accepted in process\n", w->tag,
           (unsigned long long)w->rows, (double)st.st_size / 1e6, (unsigned long long)lines,
           (unsigned long long)rows);
    for (int k = 0; k < 3; k++) {
        snprintf(name, sizeof name, "%s_%s", w->tag, what[k]);
        rate[k] = print_rate(name, &s[k][0], &s[k][1], w->rows, w->unit, &cpu[k]);
    }
    printf("%s_limit_bandwidth: %.2f GB/s (%.1f ns/row)\n", w->tag,
           (double)st.st_size * rate[0] / (double)w->rows / 1e9, 1e9 / rate[0]);
    for (int k = 1; k < 3; k++)
        printf("%s_%s_x_limit: %.1f x slower (%.1f ns/row wall); cpu %.1f x (%.1f ns/row)\n",
               w->tag, what[k], rate[0] / rate[k], 1e9 / rate[k], cpu[0] / cpu[k],
               1e9 / cpu[k]);
    printf("%s_e2e_peak_rss: %ld KiB\n", w->tag, rss);
}

/* The limit, the in-process reader and the CLI on w, each `reps` times,
 * interleaved so that load changes on the machine hit all three alike. */
static int measure(const char *hh, const char *dir, const struct workload *w, int reps)
{
    struct sample s[3][2] = { { { .n = 0 } } };
    uint64_t lines = 0, rows = 0;
    long rss = 0, r1;

    for (int i = 0; i < reps; i++) {
        struct timing a, b, c;

        if (!read_limit(w->path, &lines, &a) ||
            !(w->signals ? validator_only(w->path, dir, &rows, &b)
                         : reader_only(w->path, w->kind, &rows, &b)) ||
            run_cli(hh, dir, w, &c, &r1)) {
            fprintf(stderr, "bench_throughput: %s failed\n", w->tag);
            return -1;
        }
        add(&s[0][0], &s[0][1], a);
        add(&s[1][0], &s[1][1], b);
        add(&s[2][0], &s[2][1], c);
        rss = r1 > rss ? r1 : rss;
    }
    report(w, s, lines, rows, rss);
    return w->signals ? 0 : rss_tenth(hh, dir, w);
}

int main(void)
{
    const char *hh = getenv("HH"), *tmp = getenv("TMPDIR");
    int reps = getenv("BENCH_REPS") ? atoi(getenv("BENCH_REPS")) : 5;
    char dir[256], bars[512], ticks[512], sigs[512], sb[512], st[512], cmd[600];
    struct workload w[3];
    double t0 = bu_now();
    int rc = 0;

    if (!hh) {
        fprintf(stderr, "bench_throughput: set HH to the hedgehog binary (make bench does)\n");
        return 1;
    }
    reps = reps < 1 ? 1 : reps > MAX_REPS ? MAX_REPS : reps;
    snprintf(dir, sizeof dir, "%s/hh-bench-tp-%d", tmp ? tmp : "/tmp", (int)getpid());
    if (mkdir(dir, 0700) && errno != EEXIST)
        return 1;
    snprintf(bars, sizeof bars, "%s/bars.csv", dir);
    snprintf(ticks, sizeof ticks, "%s/ticks.csv", dir);
    snprintf(sigs, sizeof sigs, "%s/signals_2M.jsonl", dir);
    snprintf(sb, sizeof sb, "%s/signals_bars.jsonl", dir);
    snprintf(st, sizeof st, "%s/signals_ticks.jsonl", dir);
    w[0] = (struct workload){ "bars", "bars", bars, HH_MD_BARS, false, generate_bars(bars, sb) };
    w[1] = (struct workload){ "ticks", "ticks", ticks, HH_MD_TICKS, false,
                              generate_ticks(ticks, st) };
    w[2] = (struct workload){ "signals", "signals", sigs, HH_MD_TICKS, true,
                              generate_signals(sigs) };
    if (!write_reference(dir) || !w[0].rows || !w[1].rows || !w[2].rows) {
        fprintf(stderr, "bench_throughput: cannot generate data in %s\n", dir);
        return 1;
    }
    printf("generate: %.2f s\n", bu_now() - t0);
    for (int i = 0; i < 3; i++)
        rc |= measure(hh, dir, &w[i], reps);
    if (getenv("BENCH_KEEP")) {
        printf("kept: %s\n", dir);
        return rc ? 1 : 0;
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_throughput: could not remove %s\n", dir);
    return rc ? 1 : 0;
}
