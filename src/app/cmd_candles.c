/*
 * cmd_candles.c — `hedgehog candles`: build OHLCV bars from a ticks file.
 *
 *   hedgehog candles [--config FILE] --ticks FILE --tf 1m|3m|5m|15m|30m|1h --out FILE
 *
 * Reads the ticks as a stream (hh_md reader), feeds the candle builder and
 * writes the completed candles in the bars format, sorted by (ts, symbol).
 *
 * The builder reports candles in completion order, which is not quite
 * start order across segments: a candle cut at its session's close (NSE's
 * 1h 15:15-15:30) completes before a longer one that started earlier
 * (MCX's 15:00-16:00).  A small reorder buffer (a min-heap by start, then
 * symbol) holds completed candles until nothing still open or not yet
 * begun can sort before them: at time `now` every incomplete or future
 * candle starts after now - tf, so a candle starting at or before
 * now - tf is final in the order.  The buffer holds at most about one
 * candle per instrument: memory does not grow with the file.
 *
 * Exit codes (SPEC §6): 0 done; 2 bad usage, unreadable file, bad header,
 * bad config; 1 the run failed (read or write error, builder failure).
 */
#include "app/cmd.h"
#include "app/common.h"
#include "app/config.h"
#include "app/progress.h"
#include "core/calendar.h"
#include "core/instrument.h"
#include "market/candle.h"
#include "market/mdfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OUT_BUF (64u << 10)   /* output buffer: one write per 64 KiB of bars */

const char hh_usage_candles[] =
    "usage: hedgehog candles [--config FILE] --ticks FILE "
    "--tf 1m|3m|5m|15m|30m|1h --out FILE\n";
#define USAGE hh_usage_candles

struct opts {
    const char *config, *ticks, *tf, *out;   /* borrowed from argv */
};

/* A completed candle in the reorder buffer. */
struct pending {
    struct hh_candle c;
    const char *sym;                         /* borrowed from the instruments */
};

/* State of one run, shared with the builder's callback. */
struct run {
    FILE *out;
    const char *out_path, *ticks_path;       /* borrowed from argv */
    const struct hh_instruments *inst;       /* borrowed */
    int64_t tf;                              /* ns */
    struct pending *heap;                    /* reorder buffer, min by (ts, sym) */
    size_t n, cap;
    uint64_t written;
    int error;                               /* HH_ENOMEM, HH_EIO: sticky */
};

/* ---- arguments ------------------------------------------------------------- */

/* Parse argv (argv[0] is "candles"); 0 or HH_EXIT_USAGE after a message. */
static int parse_args(int argc, char **argv, struct opts *o)
{
    const struct hh_opt opts[] = {
        { "--config", &o->config, false, false },
        { "--ticks", &o->ticks, true, false },
        { "--tf", &o->tf, true, false },
        { "--out", &o->out, true, false },
    };

    if (hh_app_parse("candles", USAGE, argc, argv, opts, (int)(sizeof opts / sizeof *opts)))
        return HH_EXIT_USAGE;
    return 0;
}

/* ---- output ---------------------------------------------------------------- */

/* Append the decimal digits of v >= 0. */
static size_t put_uint(char *p, uint64_t v)
{
    char rev[24];
    size_t n = 0, k = 0;

    do {
        rev[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        p[k++] = rev[--n];
    return k;
}

/* Write one bars row. */
static void write_candle(struct run *r, const struct pending *p)
{
    const hh_price_t px[4] = { p->c.open, p->c.high, p->c.low, p->c.close };
    char line[256];
    size_t n = hh_time_format(p->c.ts, line, 40);

    n += (size_t)snprintf(line + n, sizeof line - n, ",%s", p->sym);
    for (int i = 0; i < 4; i++) {
        line[n++] = ',';
        n += hh_fx_format(line + n, 32, px[i], 2);
    }
    line[n++] = ',';
    if (p->c.volume < 0) {                   /* never from the reader; be exact */
        line[n++] = '-';
        n += put_uint(line + n, (uint64_t)0 - (uint64_t)p->c.volume);
    } else {
        n += put_uint(line + n, (uint64_t)p->c.volume);
    }
    line[n++] = '\n';
    if (fwrite(line, 1, n, r->out) != n)
        r->error = HH_EIO;
    r->written++;
}

/* ---- the reorder buffer ---------------------------------------------------- */

static bool before(const struct pending *a, const struct pending *b)
{
    if (a->c.ts != b->c.ts)
        return a->c.ts < b->c.ts;
    return strcmp(a->sym, b->sym) < 0;
}

static void buf_push(struct run *r, const struct hh_candle *c)
{
    struct pending e = { *c, hh_inst_get(r->inst, c->iid)->symbol };
    size_t i;

    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        struct pending *p = realloc(r->heap, cap * sizeof *p);

        if (!p) {
            r->error = HH_ENOMEM;
            return;
        }
        r->heap = p;
        r->cap = cap;
    }
    for (i = r->n++; i > 0 && before(&e, &r->heap[(i - 1) / 2]); i = (i - 1) / 2)
        r->heap[i] = r->heap[(i - 1) / 2];
    r->heap[i] = e;
}

static void buf_pop(struct run *r)
{
    struct pending last = r->heap[--r->n];
    size_t i = 0;

    for (;;) {
        size_t l = 2 * i + 1, m = l;

        if (l >= r->n)
            break;
        if (l + 1 < r->n && before(&r->heap[l + 1], &r->heap[l]))
            m = l + 1;
        if (!before(&r->heap[m], &last))
            break;
        r->heap[i] = r->heap[m];
        i = m;
    }
    if (r->n)
        r->heap[i] = last;
}

/* Write every buffered candle starting at or before `upto`. */
static void buf_drain(struct run *r, hh_time_t upto)
{
    while (r->n && r->heap[0].c.ts <= upto) {
        write_candle(r, &r->heap[0]);
        buf_pop(r);
    }
}

/* The builder's callback. */
static void on_candle(void *ctx, const struct hh_candle *c)
{
    buf_push(ctx, c);
}

/* ---- setup ----------------------------------------------------------------- */

/* Print the one-line summary. */
static void summary(const struct hh_md_stats *st, const struct run *r,
                    const struct hh_candles *cb)
{
    fprintf(stderr,
            "candles: %llu rows, %llu candles written, %llu rows skipped "
            "(order %llu, field %llu, ohlc %llu), %llu ticks out of session\n",
            (unsigned long long)st->rows, (unsigned long long)r->written,
            (unsigned long long)st->skipped, (unsigned long long)st->skipped_order,
            (unsigned long long)st->skipped_field, (unsigned long long)st->skipped_ohlc,
            (unsigned long long)hh_candles_out_of_session(cb));
}

/* ---- the run ---------------------------------------------------------------- */

/* Stream the ticks through the builder and the reorder buffer; returns the
 * exit code. */
static int stream(struct hh_md_reader *rd, struct hh_candles *cb, struct run *r,
                  struct hh_progress *pg)
{
    struct hh_tick t;
    uint64_t n = 0;
    int rc, e;

    while ((rc = hh_md_next_tick(rd, &t)) == 1) {
        hh_candles_tick(cb, &t, on_candle, r);
        if (r->n)
            buf_drain(r, t.ts - r->tf);
        hh_progress_update(pg, ++n, hh_md_offset(rd));
    }
    hh_candles_flush(cb, on_candle, r);
    buf_drain(r, HH_TIME_MAX);
    hh_progress_done(pg);
    if (rc < 0) {
        fprintf(stderr, "hedgehog candles: %s: %s\n", r->ticks_path, hh_strerror(rc));
        return HH_EXIT_FAIL;
    }
    e = r->error ? r->error : hh_candles_error(cb);
    if (e == HH_EIO)
        fprintf(stderr, "hedgehog candles: %s: write error: %s\n", r->out_path,
                strerror(errno));
    else if (e)
        fprintf(stderr, "hedgehog candles: %s\n", hh_strerror(e));
    return e ? HH_EXIT_FAIL : HH_EXIT_OK;
}

/* Open the output with a large buffer; 0 or HH_EXIT_USAGE. */
static int open_out(struct run *r, char **buf)
{
    r->out = fopen(r->out_path, "w");
    if (!r->out) {
        fprintf(stderr, "hedgehog candles: %s: cannot create: %s\n", r->out_path,
                strerror(errno));
        return HH_EXIT_USAGE;
    }
    *buf = malloc(OUT_BUF);
    if (*buf)
        setvbuf(r->out, *buf, _IOFBF, OUT_BUF);
    fputs("ts,symbol,open,high,low,close,volume\n", r->out);
    return 0;
}

/* Close the output; a late write error fails the run. */
static int close_out(struct run *r, int code)
{
    if (fclose(r->out) != 0 && code == HH_EXIT_OK) {
        fprintf(stderr, "hedgehog candles: %s: write error: %s\n", r->out_path,
                strerror(errno));
        code = HH_EXIT_FAIL;
    }
    r->out = NULL;
    return code;
}

/* Open the ticks, the output and the builder, then stream. */
static int run_file(struct run *r, struct hh_instruments *inst, const struct hh_calendar *cal)
{
    struct hh_md_reader *rd = NULL;
    struct hh_candles *cb = NULL;
    struct hh_progress *pg = NULL;
    struct hh_diag d = { "" };
    char *obuf = NULL;
    int code;

    if (hh_md_open(&rd, r->ticks_path, HH_MD_TICKS, inst, stderr, &d)) {
        fprintf(stderr, "hedgehog candles: %s\n", d.msg);
        return HH_EXIT_USAGE;
    }
    code = open_out(r, &obuf);
    if (code)
        goto out_reader;
    cb = hh_candles_new(inst, cal, r->tf);
    if (!cb) {
        fprintf(stderr, "hedgehog candles: out of memory\n");
        code = close_out(r, HH_EXIT_FAIL);
        goto out_reader;
    }
    pg = hh_progress_new(stderr, "candles", hh_md_size(rd), isatty(STDERR_FILENO));
    code = close_out(r, stream(rd, cb, r, pg));
    summary(hh_md_stats(rd), r, cb);
    hh_progress_free(pg);
    hh_candles_free(cb);
out_reader:
    free(obuf);
    hh_md_close(rd);
    return code;
}

int hh_cmd_candles(int argc, char **argv)
{
    struct hh_world w;
    struct hh_diag d = { "" };
    struct run r = { 0 };
    struct opts o;
    int code, rc;

    code = parse_args(argc, argv, &o);
    if (code)
        return code;
    if (hh_config_parse_timeframe(o.tf, &r.tf))
        return hh_app_say("candles", USAGE, HH_EXIT_USAGE,
                          "--tf '%s' is not one of 1m 3m 5m 15m 30m 1h", o.tf);
    rc = hh_world_load(&w, o.config, &d);
    if (rc)
        return hh_app_say("candles", NULL, rc == HH_ENOMEM ? HH_EXIT_FAIL : HH_EXIT_USAGE,
                          "%s", d.msg[0] ? d.msg : hh_strerror(rc));
    r.inst = w.inst;
    r.ticks_path = o.ticks;
    r.out_path = o.out;
    code = run_file(&r, w.inst, w.cal);
    free(r.heap);
    hh_world_free(&w);
    return code;
}
