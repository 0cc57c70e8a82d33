/*
 * bench_signals.c — throughput of signal parsing and validation.
 *
 * Generates ~2 M varied signal lines in memory (about 90 % valid: several
 * instruments, both sides, prices as numbers, exponents and strings,
 * optional fields present or not; the rest invalid in assorted ways: NaN,
 * bad types, misaligned ticks, inverted levels, duplicates, broken JSON),
 * then times hh_sig_process over all of them, single-threaded, with a fresh
 * validator per round (best of 3, in wall and in CPU time — the latter is
 * steadier when other work shares the machine).  For scale it also times the validator
 * made to take the full road (gate + json-c) on every line, which is what
 * a line outside the fast scanner's shape costs.  HH_BENCH_FULL_ROAD=0
 * skips that part (for profiling the usual road alone).
 *
 * Prints "name: value unit" lines.  The figures are statistics for a
 * human: double is fine here, no price goes through it.
 */
#include "signal/signal.h"
#include "signal/signal_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NLINES_DEFAULT 2000000   /* HH_BENCH_LINES overrides */
#define ROUNDS 3

struct corpus {
    char *buf;                 /* every line back to back */
    size_t *off, *len;
    size_t n, used, cap;
};

static double clock_s(clockid_t which)
{
    struct timespec ts;

    clock_gettime(which, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now_s(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

/* A small deterministic generator (xorshift64*). */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

static void add_inst(struct hh_instruments *t, const char *sym, enum hh_inst_type type,
                     enum hh_segment seg, hh_date_t expiry)
{
    struct hh_instrument in;

    memset(&in, 0, sizeof in);
    snprintf(in.symbol, sizeof in.symbol, "%s", sym);
    snprintf(in.underlying, sizeof in.underlying, "%s", "NIFTY");
    in.exch = HH_EXCH_NSE;
    in.seg = seg;
    in.type = type;
    in.expiry = expiry;
    in.lot_size = type == HH_INST_EQ ? 1 : 75;
    in.tick = 500;                                    /* 0.05 */
    if (hh_inst_add(t, &in, NULL) != HH_OK)
        abort();
}

static const char *const syms[] = {
    "NIFTY25JANFUT", "RELIANCE", "INFY", "TCS", "HDFCBANK", "SBIN", "ITC", "LT",
};

/* Append one line (printf-style) to the corpus. */
static void put_line(struct corpus *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put_line(struct corpus *c, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (c->cap - c->used < 1024) {
        c->cap *= 2;
        c->buf = realloc(c->buf, c->cap);
        if (!c->buf)
            abort();
    }
    va_start(ap, fmt);
    n = vsnprintf(c->buf + c->used, c->cap - c->used, fmt, ap);
    va_end(ap);
    c->off[c->n] = c->used;
    c->len[c->n] = (size_t)n;
    c->used += (size_t)n;
    c->n++;
}

/* Print a price in paise-of-0.05 steps as "123.45", sometimes as a string. */
static const char *px(char *b, size_t cap, int64_t ticks, uint64_t r)
{
    int64_t p = ticks * 5;     /* hundredths */

    if (r % 4 == 0)
        snprintf(b, cap, "\"%lld.%02lld\"", (long long)(p / 100), (long long)(p % 100));
    else if (r % 4 == 1 && p % 100 == 0)
        snprintf(b, cap, "%lld", (long long)(p / 100));
    else
        snprintf(b, cap, "%lld.%02lld", (long long)(p / 100), (long long)(p % 100));
    return b;
}

/* One valid signal with id number i. */
static void valid_line(struct corpus *c, uint64_t i, uint64_t *seed)
{
    uint64_t r = rnd(seed);
    int buy = (int)(r & 1);
    int64_t entry = 20000 + (int64_t)(r >> 8) % 400000;    /* ticks of 0.05 */
    int64_t risk = 20 + (int64_t)(r >> 32) % 200;
    int64_t t1 = entry + (buy ? 1 : -1) * (risk * 2);
    int64_t t2 = t1 + (buy ? 1 : -1) * risk;
    int secs = 9 * 3600 + 15 * 60 + (int)((r >> 20) % (6 * 3600));
    char e[40], s[40], a[40], b[40], opt[160] = "";

    if (r & 2)
        snprintf(opt, sizeof opt, ",\"confidence\":0.%02d,\"strategy\":\"orb-%d\",\"lots\":%d",
                 60 + (int)((r >> 40) % 40), (int)(r % 7), 1 + (int)((r >> 44) % 5));
    put_line(c,
             "{\"id\":\"sig-%llu\",\"ts\":\"2025-01-02T%02d:%02d:%02d+05:30\",\"symbol\":\"%s\","
             "\"side\":\"%s\",\"entry\":%s,\"stop\":%s,\"targets\":[%s,%s]%s}",
             (unsigned long long)i, secs / 3600, secs / 60 % 60, secs % 60,
             syms[(r >> 50) % 8], buy ? "BUY" : "SELL", px(e, sizeof e, entry, r >> 3),
             px(s, sizeof s, entry - (buy ? 1 : -1) * risk, r >> 5), px(a, sizeof a, t1, r >> 7),
             px(b, sizeof b, t2, r >> 9), opt);
}

/* One invalid line of kind k. */
static void invalid_line(struct corpus *c, uint64_t i, int k)
{
    static const char *const tail = "\"ts\":\"2025-01-02T10:00:00+05:30\",\"symbol\":\"RELIANCE\"";

    switch (k) {
    case 0: put_line(c, "{\"id\":\"bad-%llu\",%s,\"side\":\"BUY\",\"entry\":NaN,\"stop\":100,"
                     "\"targets\":[130]}", (unsigned long long)i, tail); break;
    case 1: put_line(c, "{\"id\":\"bad-%llu\",%s,\"side\":\"BUY\",\"entry\":true,\"stop\":100,"
                     "\"targets\":[130]}", (unsigned long long)i, tail); break;
    case 2: put_line(c, "{\"id\":\"bad-%llu\",%s,\"side\":\"BUY\",\"entry\":120,\"stop\":100.03,"
                     "\"targets\":[150]}", (unsigned long long)i, tail); break;
    case 3: put_line(c, "{\"id\":\"bad-%llu\",%s,\"side\":\"BUY\",\"entry\":120,\"stop\":100,"
                     "\"targets\":[110]}", (unsigned long long)i, tail); break;
    case 4: put_line(c, "{\"id\":\"sig-%llu\",%s,\"side\":\"BUY\",\"entry\":120,\"stop\":100,"
                     "\"targets\":[150]}", (unsigned long long)(i / 2), tail); break;
    case 5: put_line(c, "{\"id\":\"bad-%llu\",%s,\"side\":\"BUY\",\"entry\":120",
                     (unsigned long long)i, tail); break;
    default: put_line(c, "{\"id\":\"bad-%llu\",\"ts\":\"2025-01-04T10:00:00+05:30\","
                      "\"symbol\":\"RELIANCE\",\"side\":\"SELL\",\"entry\":\"120\","
                      "\"stop\":\"140\","
                      "\"targets\":[\"90\"]}", (unsigned long long)i); break;
    }
}

static void make_corpus(struct corpus *c, size_t nlines)
{
    uint64_t seed = 0x9E3779B97F4A7C15ULL;

    c->cap = nlines * 200 + 4096;
    c->buf = malloc(c->cap);
    c->off = malloc(nlines * sizeof *c->off);
    c->len = malloc(nlines * sizeof *c->len);
    if (!c->buf || !c->off || !c->len)
        abort();
    for (uint64_t i = 0; i < nlines; i++) {
        uint64_t r = rnd(&seed);

        if (r % 10 == 0)
            invalid_line(c, i, (int)((r >> 8) % 7));
        else
            valid_line(c, i, &seed);
    }
}

/* One round of the validator over the corpus; returns seconds. */
static double round_validator(const struct corpus *c, const struct hh_instruments *t,
                              const struct hh_calendar *cal, bool full_road,
                              uint64_t *accepted, double *cpu)
{
    const struct hh_sig_rules rules = {
        .min_rr = 1500000000LL, .min_confidence = 600000000LL,
        .max_live_age = 120 * HH_NS_PER_S, .max_clock_skew = 2 * HH_NS_PER_S,
    };
    struct hh_sig_validator *v = hh_sig_validator_new(t, cal, &rules);
    struct hh_signal s;
    struct hh_sig_reject rej;
    double t0;

    if (!v)
        abort();
    hh_sig__full_road_only(v, full_road);
    *accepted = 0;
    t0 = now_s();
    *cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    for (size_t i = 0; i < c->n; i++)
        *accepted += hh_sig_process(v, c->buf + c->off[i], c->len[i], i + 1, HH_TIME_NONE,
                                    &s, &rej);
    t0 = now_s() - t0;
    *cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - *cpu;
    hh_sig_validator_free(v);
    return t0;
}

int main(void)
{
    struct hh_instruments *t = hh_inst_new();
    struct hh_calendar *cal = hh_cal_new();
    struct corpus c = { 0 };
    double best = 1e30, bestj = 1e30, bestc = 1e30, cpu;
    uint64_t accepted = 0, accepted_full = 0;
    const char *env = getenv("HH_BENCH_LINES"), *full = getenv("HH_BENCH_FULL_ROAD");
    bool with_full = !full || strcmp(full, "0") != 0;
    size_t nlines = env && atol(env) > 0 ? (size_t)atol(env) : NLINES_DEFAULT;

    if (!t || !cal)
        abort();
    for (size_t i = 0; i < sizeof syms / sizeof *syms; i++)
        add_inst(t, syms[i], i == 0 ? HH_INST_FUT : HH_INST_EQ, i == 0 ? HH_SEG_FUT : HH_SEG_CASH,
                 i == 0 ? hh_date_from_ymd(2025, 1, 30) : HH_DATE_NONE);
    make_corpus(&c, nlines);
    for (int r = 0; r < ROUNDS; r++) {
        double s = round_validator(&c, t, cal, false, &accepted, &cpu), cpuj;
        double j = with_full ? round_validator(&c, t, cal, true, &accepted_full, &cpuj) : 0;

        best = s < best ? s : best;
        bestc = cpu < bestc ? cpu : bestc;
        bestj = j < bestj ? j : bestj;
    }
    if (with_full && accepted_full != accepted) {
        fprintf(stderr, "bench_signals: the two roads disagree (%llu vs %llu accepted)\n",
                (unsigned long long)accepted, (unsigned long long)accepted_full);
        return 1;
    }
    printf("signals_lines: %zu lines\n", c.n);
    printf("signals_avg_line: %.0f bytes\n", (double)c.used / (double)c.n);
    printf("signals_accepted: %.1f %%\n", 100.0 * (double)accepted / (double)c.n);
    printf("signals_validate_rate: %.0f signals/s\n", (double)c.n / best);
    printf("signals_validate_rate_cpu: %.0f signals/s (CPU time)\n", (double)c.n / bestc);
    printf("signals_validate_latency: %.0f ns/signal\n", best * 1e9 / (double)c.n);
    printf("signals_validate_bandwidth: %.0f MB/s\n", (double)c.used / best / 1e6);
    if (with_full)
        printf("signals_full_road_rate: %.0f signals/s\n", (double)c.n / bestj);
    free(c.buf);
    free(c.off);
    free(c.len);
    hh_cal_free(cal);
    hh_inst_free(t);
    return 0;
}
