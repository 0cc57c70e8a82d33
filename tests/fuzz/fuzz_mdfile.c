/*
 * fuzz_mdfile.c — arbitrary bytes as a ticks file and as a bars file,
 * through the readers and the candle builder, plus the fast field parsers
 * against the generic ones, and the readers' two roads against each other:
 * every file is read once with the fast road on and once with every row
 * on the generic road (hh_md__generic_only), and the rows, the return
 * codes, the statistics and the warning text must be identical.
 *
 * The first input byte picks a header to prepend (none, ticks, ticks with
 * bid/ask, bars) and the timeframe, so the fuzzer reaches the row parsers
 * without having to invent a header first.  The file is a memfd opened by
 * path (/proc/self/fd/N) so the readers run exactly as on disk.
 *
 * Checked invariants: every row counted once (rows = accepted + skipped,
 * skipped = sum of reasons); accepted rows are in time order with positive
 * prices and non-negative quantities; bars are consistent; candles have
 * low <= open, close <= high, start < end, end - start <= tf, and are
 * reported in (start, symbol) order within one completion.
 */
#include "core/calendar.h"
#include "core/fixed.h"
#include "core/instrument.h"
#include "core/time.h"
#include "market/candle.h"
#include "market/mdfile_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const headers[] = {
    "", "ts,symbol,price,qty\n", "ts,symbol,price,qty,bid,ask\n",
    "ts,symbol,open,high,low,close,volume\n",
};
static const int64_t tfs[] = { 1, 3, 5, 15, 30, 60 };

struct check {
    const struct hh_instruments *inst;
    int64_t tf;
    hh_time_t last_done;   /* time of the tick during which candles completed */
    struct hh_candle prev;
    int have_prev;
    hh_time_t now;
};

static void fail(const char *what)
{
    fprintf(stderr, "invariant broken: %s\n", what);
    abort();
}

static void on_candle(void *ctx, const struct hh_candle *c)
{
    struct check *k = ctx;

    if (c->low > c->open || c->low > c->close || c->high < c->open || c->high < c->close)
        fail("candle OHLC");
    if (c->end <= c->ts || c->end - c->ts > k->tf || c->volume < 0 || c->ticks == 0)
        fail("candle span/volume");
    if (k->have_prev && k->last_done == k->now) {
        int s = strcmp(hh_inst_get(k->inst, k->prev.iid)->symbol,
                       hh_inst_get(k->inst, c->iid)->symbol);

        if (k->prev.ts > c->ts || (k->prev.ts == c->ts && s >= 0))
            fail("completion order");
    }
    k->prev = *c;
    k->have_prev = 1;
    k->last_done = k->now;
}

static void check_stats(const struct hh_md_stats *st)
{
    if (st->rows != st->accepted + st->skipped ||
        st->skipped != st->skipped_order + st->skipped_field + st->skipped_ohlc)
        fail("stats");
}

static void run_ticks(const char *path, const struct hh_calendar *cal, int64_t tf, FILE *warn)
{
    struct hh_instruments *inst = hh_inst_new();
    struct hh_md_reader *r;
    struct hh_candles *cb;
    struct check k = { .inst = inst, .tf = tf, .last_done = HH_TIME_NONE };
    struct hh_tick t;
    hh_time_t last = HH_TIME_NONE;

    if (hh_md_open(&r, path, HH_MD_TICKS, inst, warn, NULL)) {
        hh_inst_free(inst);
        return;
    }
    cb = hh_candles_new(inst, cal, tf);
    while (hh_md_next_tick(r, &t) == 1) {
        if (t.ts < last || t.price <= 0 || t.qty < 0 || t.bid < 0 || t.ask < 0)
            fail("tick");
        last = t.ts;
        k.now = t.ts;
        hh_candles_tick(cb, &t, on_candle, &k);
    }
    k.now = HH_TIME_MAX;
    hh_candles_flush(cb, on_candle, &k);
    if (hh_candles_late(cb))
        fail("late tick from the reader");
    check_stats(hh_md_stats(r));
    hh_candles_free(cb);
    hh_md_close(r);
    hh_inst_free(inst);
}

/* A reader of path with its own instrument table and warnings in memory;
 * generic: every row on the generic road. */
struct road {
    struct hh_instruments *inst;
    struct hh_md_reader *r;
    FILE *warn;
    char *text;
    size_t len;
};

static bool road_open(struct road *o, const char *path, enum hh_md_kind kind, bool generic)
{
    memset(o, 0, sizeof *o);
    o->inst = hh_inst_new();
    o->warn = open_memstream(&o->text, &o->len);
    if (!o->inst || !o->warn || hh_md_open(&o->r, path, kind, o->inst, o->warn, NULL))
        return false;
    hh_md__generic_only(o->r, generic);
    return true;
}

static void road_close(struct road *o)
{
    hh_md_close(o->r);
    if (o->warn)
        fclose(o->warn);
    free(o->text);
    hh_inst_free(o->inst);
}

/* Rows the fast road read ahead in one batch (hh_md_next_ticks/_bars, as
 * the backtest reads), handed out one at a time. */
struct ahead {
    struct hh_tick t[8];
    struct hh_bar b[8];
    int k, n, rc;
    unsigned calls;
};

/* The next row of both roads — road a in batches of 1..7, road b row by
 * row: the same code and, when one was read, the same row (the output is
 * unspecified otherwise). */
static int both_next(struct road *a, struct ahead *q, struct road *b, enum hh_md_kind kind)
{
    struct hh_tick tb;
    struct hh_bar bb;
    int rb;

    if (q->k == q->n) {
        int want = 1 + (int)(q->calls++ % 7);

        memset(q->t, 0, sizeof q->t), memset(q->b, 0, sizeof q->b);
        q->rc = kind == HH_MD_TICKS ? hh_md_next_ticks(a->r, q->t, want)
                                    : hh_md_next_bars(a->r, q->b, want);
        if (q->rc > want)
            fail("a batch longer than asked");
        q->k = 0;
        q->n = q->rc > 0 ? q->rc : 0;
    }
    memset(&tb, 0, sizeof tb), memset(&bb, 0, sizeof bb);
    rb = kind == HH_MD_TICKS ? hh_md_next_tick(b->r, &tb) : hh_md_next_bar(b->r, &bb);
    if (!q->n) {
        if (q->rc != rb)
            fail("fast road differs from the generic road");
        return rb;
    }
    if (rb != 1 || memcmp(&q->t[q->k], &tb, sizeof tb) || memcmp(&q->b[q->k], &bb, sizeof bb))
        fail("fast road differs from the generic road");
    q->k++;
    return 1;
}

/* Read path with both roads in step and compare everything. */
static void run_roads(const char *path, enum hh_md_kind kind)
{
    struct road a, b;
    struct ahead q = { .k = 0 };
    bool oa = road_open(&a, path, kind, false), ob = road_open(&b, path, kind, true);

    if (oa != ob)
        fail("roads: one opened, the other did not");
    if (oa) {
        while (both_next(&a, &q, &b, kind) == 1)
            ;
        fflush(a.warn), fflush(b.warn);
        if (memcmp(hh_md_stats(a.r), hh_md_stats(b.r), sizeof(struct hh_md_stats)) ||
            hh_md_offset(a.r) != hh_md_offset(b.r) || a.len != b.len ||
            (a.len && memcmp(a.text, b.text, a.len)))
            fail("roads: stats, offset or warnings differ");
    }
    road_close(&a);
    road_close(&b);
}

static void run_bars(const char *path, FILE *warn)
{
    struct hh_instruments *inst = hh_inst_new();
    struct hh_md_reader *r;
    struct hh_bar b;
    hh_time_t last = HH_TIME_NONE;

    if (hh_md_open(&r, path, HH_MD_BARS, inst, warn, NULL)) {
        hh_inst_free(inst);
        return;
    }
    while (hh_md_next_bar(r, &b) == 1) {
        if (b.ts < last || b.low <= 0 || b.low > b.high || b.high < b.open ||
            b.high < b.close || b.low > b.open || b.low > b.close || b.volume < 0)
            fail("bar");
        last = b.ts;
    }
    check_stats(hh_md_stats(r));
    hh_md_close(r);
    hh_inst_free(inst);
}

/* The fast parsers must agree with the generic ones on every token. */
static void compare_parsers(const char *s, size_t n, struct hh_md_datecache *dc)
{
    int64_t a = 0, b = 0;
    int ra, rb;

    ra = hh_md_parse_price(s, n, &a, NULL);
    rb = hh_dec_parse(s, n, HH_FX_DIGITS, HH_DEC_PLUS, &b);
    if (ra != rb || (ra == HH_OK && a != b))
        fail("price parser");
    ra = hh_md_parse_qty(s, n, &a, NULL);
    rb = hh_dec_parse(s, n, 0, HH_DEC_PLUS, &b);
    if (ra != rb || (ra == HH_OK && a != b))
        fail("qty parser");
    ra = hh_md_parse_time(dc, s, n, &a, NULL);
    if (ra == HH_ERANGE)
        return;             /* year outside int64 ns: the generic parser overflows */
    rb = hh_time_parse(s, n, &b, NULL);
    if ((ra == HH_OK) != (rb == HH_OK) || (ra == HH_OK && a != b))
        fail("time parser");
}

static void tokens(const char *s, size_t n)
{
    struct hh_md_datecache dc;
    size_t i = 0;

    memset(&dc, 0, sizeof dc);
    while (i <= n) {
        size_t j = i;

        while (j < n && s[j] != ',' && s[j] != '\n')
            j++;
        compare_parsers(s + i, j - i, &dc);
        i = j + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct hh_calendar *cal;
    static FILE *warn;
    const char *hdr;
    char path[64];
    int fd;

    if (size < 1)
        return 0;
    if (!cal) {
        cal = hh_cal_new();
        warn = fopen("/dev/null", "w");
    }
    hdr = headers[data[0] & 3];
    fd = memfd_create("md", 0);
    if (fd < 0)
        return 0;
    if (write(fd, hdr, strlen(hdr)) < 0 || write(fd, data + 1, size - 1) < 0) {
        close(fd);
        return 0;
    }
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    run_ticks(path, (data[0] & 4) ? cal : NULL, tfs[(data[0] >> 3) % 6] * HH_NS_PER_MIN,
              (data[0] & 0x80) ? warn : NULL);
    run_bars(path, warn);
    run_roads(path, HH_MD_TICKS);
    run_roads(path, HH_MD_BARS);
    close(fd);
    tokens((const char *)data + 1, size - 1);
    return 0;
}
