/*
 * test_mdfile.c — the tick and bar CSV readers: headers, every skip reason
 * with its count, ordering across symbols, optional columns, line endings,
 * the fast field parsers against the generic ones, and the fast road
 * against the generic road on generated files of every shape.
 */
#include "testutil.h"

#include "core/instrument.h"
#include "core/time.h"
#include "market/mdfile_int.h"

#define TS_HDR "ts,symbol,price,qty\n"
#define T0 "2025-01-02T09:15:00+05:30"
#define T1 "2025-01-02T09:15:01+05:30"
#define T2 "2025-01-02T09:15:02+05:30"

/* A reader over `text` with warnings captured in memory. */
struct fixture {
    struct hh_instruments *inst;
    struct hh_md_reader *r;
    FILE *warn;
    char *wbuf;
    size_t wlen;
    struct hh_diag d;
    int rc;
};

static void fx_open(struct fixture *fx, const char *text, enum hh_md_kind kind)
{
    const char *path = tu_write_file(0, "md.csv", text);

    memset(fx, 0, sizeof *fx);
    assert_non_null(path);
    fx->inst = hh_inst_new();
    assert_non_null(fx->inst);
    fx->warn = open_memstream(&fx->wbuf, &fx->wlen);
    assert_non_null(fx->warn);
    fx->rc = hh_md_open(&fx->r, path, kind, fx->inst, fx->warn, &fx->d);
}

/* The warnings so far, NUL-terminated. */
static const char *fx_warnings(struct fixture *fx)
{
    fflush(fx->warn);
    return fx->wbuf ? fx->wbuf : "";
}

static void fx_close(struct fixture *fx)
{
    hh_md_close(fx->r);
    fclose(fx->warn);
    free(fx->wbuf);
    hh_inst_free(fx->inst);
}

/* Read every tick; returns how many were accepted. */
static int read_all_ticks(struct fixture *fx, struct hh_tick *out, int max)
{
    struct hh_tick t;
    int n = 0, rc;

    while ((rc = hh_md_next_tick(fx->r, &t)) == 1) {
        if (n < max)
            out[n] = t;
        n++;
    }
    assert_int_equal(rc, 0);
    return n;
}

static const char *sym_of(struct fixture *fx, hh_iid_t iid)
{
    return hh_inst_get(fx->inst, iid)->symbol;
}

static hh_time_t ts(const char *s)
{
    hh_time_t t;

    assert_int_equal(hh_time_parse(s, strlen(s), &t, NULL), HH_OK);
    return t;
}

/* ---- opening and headers -------------------------------------------------- */

static void test_missing_file(void **state)
{
    struct hh_instruments *inst = hh_inst_new();
    struct hh_md_reader *r = (void *)1;
    struct hh_diag d = { "" };

    (void)state;
    assert_int_equal(hh_md_open(&r, "/nonexistent/ticks.csv", HH_MD_TICKS, inst, NULL, &d),
                     HH_EIO);
    assert_null(r);
    assert_non_null(strstr(d.msg, "/nonexistent/ticks.csv"));
    hh_md_close(NULL);
    hh_inst_free(inst);
}

static void test_empty_file(void **state)
{
    struct fixture fx;

    (void)state;
    fx_open(&fx, "", HH_MD_TICKS);
    assert_int_equal(fx.rc, HH_EHEADER);
    assert_non_null(strstr(fx.d.msg, "md.csv"));
    assert_non_null(strstr(fx.d.msg, "empty"));
    fx_close(&fx);
}

static void test_header_missing_column(void **state)
{
    struct fixture fx;

    (void)state;
    fx_open(&fx, "ts,symbol,price\n" T0 ",A,1\n", HH_MD_TICKS);
    assert_int_equal(fx.rc, HH_EHEADER);
    assert_null(fx.r);
    assert_non_null(strstr(fx.d.msg, "md.csv"));
    assert_non_null(strstr(fx.d.msg, "'qty'"));
    assert_null(strstr(fx.d.msg, "'price'"));
    fx_close(&fx);

    /* A headerless data file names every missing column. */
    fx_open(&fx, T0 ",A,1,1\n", HH_MD_TICKS);
    assert_int_equal(fx.rc, HH_EHEADER);
    assert_non_null(strstr(fx.d.msg, "'ts', 'symbol', 'price', 'qty'"));
    fx_close(&fx);

    fx_open(&fx, "ts,symbol,open,high,low,close\n", HH_MD_BARS);
    assert_int_equal(fx.rc, HH_EHEADER);
    assert_non_null(strstr(fx.d.msg, "'volume'"));
    fx_close(&fx);
}

static void test_header_any_order_case_bom_unknown(void **state)
{
    struct fixture fx;
    struct hh_tick t[2];

    (void)state;
    fx_open(&fx, "\xEF\xBB\xBFQty, Price ,venue,SYMBOL,TS\n"
                 "5,100.25,X,INFY," T0 "\n",
            HH_MD_TICKS);
    assert_int_equal(fx.rc, HH_OK);
    assert_non_null(strstr(fx_warnings(&fx), "md.csv: line 1: unknown column 'venue' ignored\n"));
    assert_null(strstr(fx_warnings(&fx), "Qty"));
    fx_close(&fx);

    fx_open(&fx, "\xEF\xBB\xBFQty, Price ,venue,SYMBOL,TS\n"
                 "5,100.25,X,INFY," T0 "\n",
            HH_MD_TICKS);
    assert_int_equal(read_all_ticks(&fx, t, 2), 1);
    assert_int_equal(t[0].qty, 5);
    assert_int_equal(t[0].price, 1002500);
    assert_int_equal(t[0].ts, ts(T0));
    assert_string_equal(sym_of(&fx, t[0].iid), "INFY");
    assert_int_equal(t[0].bid, 0);
    assert_int_equal(t[0].ask, 0);
    fx_close(&fx);
}

static void test_unknown_column_warned_once(void **state)
{
    struct fixture fx;
    struct hh_tick t[4];
    const char *w;

    (void)state;
    fx_open(&fx, "ts,symbol,price,qty,venue\n"
                 T0 ",A,1,1,X\n" T1 ",A,2,1,Y\n",
            HH_MD_TICKS);
    assert_int_equal(fx.rc, HH_OK);
    assert_int_equal(read_all_ticks(&fx, t, 4), 2);
    w = fx_warnings(&fx);
    assert_non_null(w = strstr(w, "unknown column 'venue' ignored\n"));
    assert_null(strstr(w + strlen("unknown column 'venue'"), "venue"));
    fx_close(&fx);
}

/* Warnings print at open: check the text right after opening. */
static void test_unknown_column_message(void **state)
{
    struct fixture fx;
    const char *w;

    (void)state;
    fx_open(&fx, "ts,symbol,price,qty,venue,price\n", HH_MD_TICKS);
    assert_int_equal(fx.rc, HH_OK);
    w = fx_warnings(&fx);
    assert_non_null(strstr(w, "md.csv: line 1: unknown column 'venue' ignored\n"));
    assert_non_null(strstr(w, "md.csv: line 1: repeated column 'price' ignored\n"));
    fx_close(&fx);
}

static void test_kind_mismatch(void **state)
{
    struct fixture fx;
    struct hh_bar b;

    (void)state;
    fx_open(&fx, TS_HDR T0 ",A,1,1\n", HH_MD_TICKS);
    assert_int_equal(hh_md_next_bar(fx.r, &b), HH_EINVAL);
    fx_close(&fx);
}

/* ---- rows ----------------------------------------------------------------- */

static void test_ticks_exact_values(void **state)
{
    struct fixture fx;
    struct hh_tick t[4];
    const struct hh_md_stats *st;

    (void)state;
    fx_open(&fx, TS_HDR
                 "2025-01-02T09:15:00.250+05:30,RELIANCE,2500.05,10\n"
                 "2025-01-02T03:45:00.250Z,TCS,4099.5,0\n"
                 "2025-01-02T09:15:01+05:30,RELIANCE,+0.0025,3\n",
            HH_MD_TICKS);
    assert_int_equal(fx.rc, HH_OK);
    assert_int_equal(read_all_ticks(&fx, t, 4), 3);
    assert_int_equal(t[0].ts, ts("2025-01-02T09:15:00.250+05:30"));
    assert_int_equal(t[0].price, 25000500);
    assert_int_equal(t[0].qty, 10);
    assert_int_equal(t[1].ts, t[0].ts);          /* equal instants, other zone */
    assert_int_equal(t[1].price, 40995000);
    assert_int_equal(t[1].qty, 0);
    assert_int_equal(t[2].price, 25);
    assert_int_equal(t[0].iid, t[2].iid);
    assert_string_equal(sym_of(&fx, t[1].iid), "TCS");
    st = hh_md_stats(fx.r);
    assert_int_equal(st->rows, 3);
    assert_int_equal(st->accepted, 3);
    assert_int_equal(st->skipped, 0);
    assert_int_equal(hh_md_offset(fx.r), hh_md_size(fx.r));
    fx_close(&fx);
}

static void test_skip_field_reasons(void **state)
{
    struct fixture fx;
    struct hh_tick t[8];
    const struct hh_md_stats *st;
    const char *w;

    (void)state;
    fx_open(&fx, TS_HDR
                 T0 ",A,abc,1\n"                     /* line 2: bad price */
                 T0 ",A,0,1\n"                       /* 3: zero price */
                 T0 ",A,-5,1\n"                      /* 4: negative price */
                 T0 ",A,5,-1\n"                      /* 5: negative qty */
                 T0 ",A,5,1.5\n"                     /* 6: fractional qty */
                 "2025-01-02 09:15:00,A,5,1\n"       /* 7: no offset */
                 T0 ",,5,1\n"                        /* 8: empty symbol */
                 T0 ",A,5\n"                         /* 9: too few fields */
                 T0 ",A,5,1,9\n"                     /* 10: too many fields */
                 T0 ",A,1.00001,1\n"                 /* 11: too precise */
                 "2025-02-30T09:15:00+05:30,A,5,1\n" /* 12: no such date */
                 T0 ",A,5,\n"                        /* 13: empty qty */
                 T0 ",A,5,1\n",                      /* 14: good */
            HH_MD_TICKS);
    assert_int_equal(read_all_ticks(&fx, t, 8), 1);
    assert_int_equal(t[0].price, 50000);
    st = hh_md_stats(fx.r);
    assert_int_equal(st->rows, 13);
    assert_int_equal(st->accepted, 1);
    assert_int_equal(st->skipped, 12);
    assert_int_equal(st->skipped_field, 12);
    assert_int_equal(st->skipped_order, 0);
    assert_int_equal(st->skipped_ohlc, 0);
    w = fx_warnings(&fx);
    assert_non_null(strstr(w, "md.csv:2: skipped: field 'price': not a number\n"));
    assert_non_null(strstr(w, "md.csv:3: skipped: field 'price': not positive\n"));
    assert_non_null(strstr(w, "md.csv:4: skipped: field 'price': not positive\n"));
    assert_non_null(strstr(w, "md.csv:5: skipped: field 'qty': negative\n"));
    assert_non_null(strstr(w, "md.csv:6: skipped: field 'qty': not a whole number\n"));
    assert_non_null(strstr(w, "md.csv:7: skipped: field 'ts': no UTC offset"));
    assert_non_null(strstr(w, "md.csv:8: skipped: field 'symbol': empty\n"));
    assert_non_null(strstr(w, "md.csv:9: skipped: 3 fields, header has 4\n"));
    assert_non_null(strstr(w, "md.csv:10: skipped: 5 fields, header has 4\n"));
    assert_non_null(strstr(w, "md.csv:11: skipped: field 'price': more than 4 decimal places\n"));
    /* Only the first ten skipped rows are shown, then one notice. */
    assert_null(strstr(w, "md.csv:12:"));
    assert_non_null(strstr(w, "md.csv: more skipped rows not shown\n"));
    fx_close(&fx);
}

static void test_order_across_symbols(void **state)
{
    struct fixture fx;
    struct hh_tick t[8];
    const struct hh_md_stats *st;

    (void)state;
    fx_open(&fx, TS_HDR
                 T1 ",A,1,1\n"
                 T1 ",B,2,1\n"     /* equal ts, other symbol: fine */
                 T0 ",C,3,1\n"     /* earlier than B's row: skipped */
                 T1 ",A,4,1\n"     /* equal again: fine */
                 T0 ",A,5,1\n"     /* earlier: skipped */
                 T2 ",C,6,1\n",
            HH_MD_TICKS);
    assert_int_equal(read_all_ticks(&fx, t, 8), 4);
    assert_int_equal(t[0].price, 10000);
    assert_int_equal(t[1].price, 20000);
    assert_int_equal(t[2].price, 40000);
    assert_int_equal(t[3].price, 60000);
    assert_string_equal(sym_of(&fx, t[3].iid), "C");
    st = hh_md_stats(fx.r);
    assert_int_equal(st->skipped_order, 2);
    assert_int_equal(st->skipped, 2);
    assert_non_null(strstr(fx_warnings(&fx),
                           "md.csv:4: skipped: out of order: 2025-01-02T09:15:00+05:30 is "
                           "before 2025-01-02T09:15:01+05:30"));
    fx_close(&fx);
}

static void test_skipped_row_does_not_move_order(void **state)
{
    struct fixture fx;
    struct hh_tick t[4];

    (void)state;
    /* A bad row far in the future must not make later good rows "late". */
    fx_open(&fx, TS_HDR "2030-01-01T09:15:00+05:30,A,bad,1\n" T0 ",A,1,1\n",
            HH_MD_TICKS);
    assert_int_equal(read_all_ticks(&fx, t, 4), 1);
    assert_int_equal(hh_md_stats(fx.r)->skipped_field, 1);
    fx_close(&fx);
}

static void test_bid_ask_optional(void **state)
{
    struct fixture fx;
    struct hh_tick t[4];

    (void)state;
    fx_open(&fx, "ts,symbol,price,qty,bid,ask\n"
                 T0 ",A,100.05,1,100.00,100.10\n"
                 T1 ",A,100.05,1,,\n"
                 T1 ",A,100.05,1,-1,100.1\n"
                 T2 ",A,100.05,1,0,x\n",
            HH_MD_TICKS);
    assert_int_equal(read_all_ticks(&fx, t, 4), 2);
    assert_int_equal(t[0].bid, 1000000);
    assert_int_equal(t[0].ask, 1001000);
    assert_int_equal(t[1].bid, 0);
    assert_int_equal(t[1].ask, 0);
    assert_int_equal(hh_md_stats(fx.r)->skipped_field, 2);
    assert_non_null(strstr(fx_warnings(&fx), "md.csv:4: skipped: field 'bid': not positive"));
    assert_non_null(strstr(fx_warnings(&fx), "md.csv:5: skipped: field 'ask': not a number"));
    fx_close(&fx);

    /* Only one of the two: the other stays 0. */
    fx_open(&fx, "ts,symbol,price,qty,ask\n" T0 ",A,1,1,2\n", HH_MD_TICKS);
    assert_int_equal(read_all_ticks(&fx, t, 4), 1);
    assert_int_equal(t[0].ask, 20000);
    assert_int_equal(t[0].bid, 0);
    fx_close(&fx);
}

static void test_crlf_blank_lines_no_final_newline(void **state)
{
    struct fixture fx;
    struct hh_tick t[4];
    const struct hh_md_stats *st;

    (void)state;
    fx_open(&fx, "ts,symbol,price,qty\r\n"
                 T0 ",A,1.5,2\r\n"
                 "\r\n"
                 "\n"
                 T1 ",A,2.5,3",
            HH_MD_TICKS);
    assert_int_equal(read_all_ticks(&fx, t, 4), 2);
    assert_int_equal(t[0].qty, 2);
    assert_int_equal(t[1].price, 25000);
    assert_int_equal(t[1].qty, 3);
    st = hh_md_stats(fx.r);
    assert_int_equal(st->rows, 2);             /* blank lines are not rows */
    assert_int_equal(st->skipped, 0);
    fx_close(&fx);
}

static void test_overlong_line(void **state)
{
    struct fixture fx;
    struct hh_tick t[4];
    size_t big = 3 * (1u << 20);               /* longer than the read chunk too */
    char *text = malloc(big + 200);
    size_t n = 0;

    (void)state;
    n += (size_t)sprintf(text + n, TS_HDR T0 ",A,1,1\n" T0 ",A,");
    memset(text + n, '7', big);
    n += big;
    n += (size_t)sprintf(text + n, ",1\n" T1 ",A,2,1\n");
    text[n] = '\0';
    fx_open(&fx, text, HH_MD_TICKS);
    free(text);
    assert_int_equal(read_all_ticks(&fx, t, 4), 2);
    assert_int_equal(t[1].price, 20000);
    assert_int_equal(hh_md_stats(fx.r)->rows, 3);
    assert_int_equal(hh_md_stats(fx.r)->skipped_field, 1);
    assert_non_null(strstr(fx_warnings(&fx), "md.csv:3: skipped: line longer than"));
    fx_close(&fx);

    /* Just over the limit but inside one read: still skipped. */
    text = malloc(HH_MD_MAX_LINE + 200);
    n = (size_t)sprintf(text, TS_HDR T0 ",A,1,");
    memset(text + n, '1', HH_MD_MAX_LINE);
    n += HH_MD_MAX_LINE;
    strcpy(text + n, "\n" T1 ",A,2,1\n");
    fx_open(&fx, text, HH_MD_TICKS);
    free(text);
    assert_int_equal(read_all_ticks(&fx, t, 4), 1);
    assert_int_equal(hh_md_stats(fx.r)->skipped_field, 1);
    fx_close(&fx);
}

static void test_quoted_fields(void **state)
{
    struct fixture fx;
    struct hh_tick t[4];

    (void)state;
    fx_open(&fx, "\"ts\",\"symbol\",price,qty\n"
                 T0 ",\"M&M\",\"1,5\",1\n"
                 T0 ",\"M&M\",\"1.5\",1\n"
                 T0 ",\"M&M,1.5,1\n",
            HH_MD_TICKS);
    assert_int_equal(fx.rc, HH_OK);
    assert_int_equal(read_all_ticks(&fx, t, 4), 1);
    assert_int_equal(t[0].price, 15000);
    assert_string_equal(sym_of(&fx, t[0].iid), "M&M");
    assert_int_equal(hh_md_stats(fx.r)->skipped_field, 2);
    fx_close(&fx);
}

/* Rows of every length around the 16-byte blocks of the comma search,
 * with and without a quote in the last (overlapping) block. */
static void test_split_every_length(void **state)
{
    struct fixture fx;
    struct hh_tick t[128];
    char *text = malloc(64 * 1024);
    size_t n = 0;

    (void)state;
    n += (size_t)sprintf(text + n, "price,x,qty,symbol,ts\n");
    for (int len = 0; len < 48; len++) {
        n += (size_t)sprintf(text + n, "%d.5,%.*s,%d,S%.*s,%s\n", len + 1, len,
                             "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy", len % 3,
                             len % 40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", T0);
        n += (size_t)sprintf(text + n, "1,%.*s\",1,S,%s\n", len,
                             "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy", T0);
    }
    text[n] = '\0';
    fx_open(&fx, text, HH_MD_TICKS);
    free(text);
    assert_int_equal(fx.rc, HH_OK);
    assert_int_equal(read_all_ticks(&fx, t, 128), 48);
    for (int len = 0; len < 48; len++) {
        char want[64];

        snprintf(want, sizeof want, "S%.*s", len % 40,
                 "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
        assert_int_equal(t[len].price, (len + 1) * 10000 + 5000);
        assert_int_equal(t[len].qty, len % 3);
        assert_string_equal(sym_of(&fx, t[len].iid), want);
        assert_int_equal(t[len].ts, ts(T0));
    }
    assert_int_equal(hh_md_stats(fx.r)->skipped_field, 48);   /* the quoted ones */
    fx_close(&fx);
}

/* Symbols that share their first and last eight bytes stay apart. */
static void test_symbol_cache_middle_bytes(void **state)
{
    static const char *const syms[] = {
        "ABCDEFGHxIJKLMNOP", "ABCDEFGHyIJKLMNOP", "ABCDEFGHxxIJKLMNOP", "ABCDEFGHyxIJKLMNOP",
        "ABCD", "ABCE", "AB", "BA", "A", "ABA", "AAA", "ABCDEFG", "ABCXEFG",
    };
    const size_t n = sizeof syms / sizeof *syms;
    struct fixture fx;
    struct hh_tick t[64];
    char text[4096];
    size_t len = (size_t)sprintf(text, TS_HDR);

    (void)state;
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < n; i++)
            len += (size_t)sprintf(text + len, T0 ",%s,%zu,1\n", syms[i], i + 1);
    fx_open(&fx, text, HH_MD_TICKS);
    assert_int_equal(read_all_ticks(&fx, t, 64), (int)(3 * n));
    assert_int_equal(hh_inst_count(fx.inst), n);
    for (size_t k = 0; k < 3 * n; k++) {
        assert_string_equal(sym_of(&fx, t[k].iid), syms[k % n]);
        assert_int_equal(t[k].price, (int64_t)(k % n + 1) * HH_FX_SCALE);
    }
    fx_close(&fx);
}

static void test_symbol_too_long(void **state)
{
    struct fixture fx;
    struct hh_tick t[2];
    char text[300];

    (void)state;
    snprintf(text, sizeof text, TS_HDR T0 ",%0*d,1,1\n", HH_SYMBOL_MAX, 0);
    fx_open(&fx, text, HH_MD_TICKS);
    assert_int_equal(read_all_ticks(&fx, t, 2), 0);
    assert_int_equal(hh_md_stats(fx.r)->skipped_field, 1);
    assert_int_equal(hh_inst_count(fx.inst), 0);   /* skipped rows intern nothing */
    fx_close(&fx);
}

/* ---- the two roads ------------------------------------------------------ */

/* xorshift64: deterministic text. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static const char *pick(uint64_t *seed, const char *const *v, size_t n)
{
    return v[rnd(seed) % n];
}
#define PICK(seed, v) pick(seed, v, sizeof(v) / sizeof *(v))

/* A timestamp for second `sec` of 2025-01-02 IST (usually canonical, at
 * times in another accepted or a refused form). */
static int put_ts(char *p, uint64_t *seed, int sec)
{
    static const char *const frac[] = { "", "", "", ".5", ".250", ".123456", ".123456789",
                                        ".1234567", ".", ".1234567891" };
    static const char *const off[] = { "+05:30", "+0530", "", "+5:30", "+05:3", "+05:30:00" };
    uint64_t r = rnd(seed);
    int h = sec / 3600, m = sec / 60 % 60, s = sec % 60, utc = r % 16 == 4 || r % 16 == 5;

    if (r % 16 == 1)
        return sprintf(p, "2025-01-02 %02d:%02d:%02d+05:30", h, m, s);
    if (r % 16 == 2)
        return sprintf(p, "2025-01-02T%02d:%02d+05:30", h, m);
    if (r % 16 == 3)
        return sprintf(p, " 2025-01-02T%02d:%02d:%02d+05:30 ", h, m, s);
    if (r % 64 == 6)
        return sprintf(p, "1500-01-02T%02d:%02d:%02d+05:30", h, m, s);
    if (r % 64 == 7)
        return sprintf(p, "\"2025-01-02T%02d:%02d:%02d+05:30\"", h, m, s);
    if (utc)   /* the same instant in UTC */
        return sprintf(p, "2025-01-0%dT%02d:%02d:%02d%s%s", sec < 19800 ? 1 : 2,
                       (sec + 66600) / 3600 % 24, (sec + 66600) / 60 % 60, s, r % 2 ? ".5" : "",
                       r % 4 < 2 ? "Z" : "z");
    return sprintf(p, "2025-01-02T%02d:%02d:%02d%s%s", h, m, s,
                   r % 8 ? "" : PICK(seed, frac), r % 32 ? "+05:30" : PICK(seed, off));
}

/* A price of paise p: usually "R.PP", at times another spelling of the
 * same value or something refused. */
static int put_price(char *out, uint64_t *seed, int64_t p)
{
    static const char *const odd[] = {
        "", " 5", "5 ", "+5", "-5", "0", "0.00", "5.", ".5", "1e3", "12345678.5",
        "123456789", "99999999.9999", "1234567.12", "1.23456", "1.2345", "0500.5", "7",
        "x", "5.5.5", "1234567890123.5",
    };
    uint64_t r = rnd(seed);

    if (r % 40 == 0)
        return sprintf(out, "%s", PICK(seed, odd));
    if (r % 9 == 1 && p % 100 == 0)
        return sprintf(out, "%lld", (long long)(p / 100));
    if (r % 9 == 2)
        return sprintf(out, "%lld.%02lld00", (long long)(p / 100), (long long)(p % 100));
    if (r % 9 == 3 && p % 10 == 0)
        return sprintf(out, "%lld.%lld", (long long)(p / 100), (long long)(p % 100 / 10));
    if (r % 9 == 4)
        return sprintf(out, "00%lld.%02lld", (long long)(p / 100), (long long)(p % 100));
    return sprintf(out, "%lld.%02lld", (long long)(p / 100), (long long)(p % 100));
}

static int put_qty(char *out, uint64_t *seed)
{
    static const char *const odd[] = {
        "", "0", "12345678", "123456789", "123456789012345678", "1234567890123456789",
        "-1", "1.0", "+3", " 4", "4 ", "00000000000000000001", "x",
    };
    uint64_t r = rnd(seed);

    if (r % 30 == 0)
        return sprintf(out, "%s", PICK(seed, odd));
    return sprintf(out, "%llu", (unsigned long long)(r >> 8) % 100000);
}

/*
 * A file of `rows` rows of `kind` (ncols columns for ticks) that mixes
 * canonical rows with every odd shape a row may take: odd timestamps,
 * symbols, prices and quantities, missing and extra fields, quotes, blank
 * lines, CRLF, rows out of order, inconsistent bars; long enough to cross
 * the line reader's buffer refills.  Returns the text (caller frees).
 */
static char *varied_file(enum hh_md_kind kind, int ncols, int rows, uint64_t seed)
{
    static const char *const syms[] = {
        "RELIANCE", "TCS", "A", "BANKNIFTY30DECFUT", "NIFTY25JAN24000CE", "M&M",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ01234", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    };
    static const char *const odd_syms[] = {
        "", " TCS", "TCS ", "\"TCS\"", "T\"CS", "BSE:TCS", "T\tCS",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGHIJKLMN",
    };
    size_t cap = (size_t)rows * 160 + 256, n = 0;
    char *text = malloc(cap);
    int64_t px = 50005;
    int sec = 33300;

    assert_non_null(text);
    n += (size_t)sprintf(text, kind == HH_MD_BARS ? "ts,symbol,open,high,low,close,volume\n"
                         : ncols == 6 ? "ts,symbol,price,qty,bid,ask\n" : "ts,symbol,price,qty\n");
    for (int i = 0; i < rows; i++) {
        uint64_t r = rnd(&seed);
        const char *sym = r % 50 ? PICK(&seed, syms) : PICK(&seed, odd_syms);
        int64_t o = px, c = px + (int64_t)(r >> 8) % 41 - 20, h, l;

        sec += r % 7 == 0 ? -1 : (int)((r >> 20) % 3);
        px = c < 200 ? 200 : c;
        n += (size_t)put_ts(text + n, &seed, sec);
        n += (size_t)sprintf(text + n, ",%s,", sym);
        if (kind == HH_MD_BARS) {
            h = (o > c ? o : c) + (int64_t)(r >> 32) % 4;
            l = (o < c ? o : c) - (int64_t)(r >> 36) % 4;
            if (r % 53 == 0)
                h = l - 1;
            n += (size_t)put_price(text + n, &seed, o);
            text[n++] = ',';
            n += (size_t)put_price(text + n, &seed, h);
            text[n++] = ',';
            n += (size_t)put_price(text + n, &seed, l);
            text[n++] = ',';
            n += (size_t)put_price(text + n, &seed, c);
            text[n++] = ',';
            n += (size_t)put_qty(text + n, &seed);
        } else {
            n += (size_t)put_price(text + n, &seed, c);
            text[n++] = ',';
            n += (size_t)put_qty(text + n, &seed);
            if (ncols == 6) {
                text[n++] = ',';
                if (r % 5)
                    n += (size_t)put_price(text + n, &seed, c - 5);
                text[n++] = ',';
                if (r % 7)
                    n += (size_t)put_price(text + n, &seed, c + 5);
            }
        }
        if (r % 97 == 0)
            n += (size_t)sprintf(text + n, ",extra");
        if (r % 89 == 0)
            n -= 2;                                  /* cut the row short */
        n += (size_t)sprintf(text + n, r % 61 == 0 ? "\r\n" : r % 67 == 0 ? "\n\n" : "\n");
        HH_ASSERT(n + 200 < cap);
    }
    if (seed % 2)
        n--;                                         /* no final newline */
    text[n] = '\0';
    return text;
}

/* Read path with both roads: the fast one in batches of 1..7 rows (as the
 * backtest reads), the generic one row by row; identical rows and return
 * codes, statistics, offsets and warnings.  Returns the fast road's row
 * count. */
static uint64_t compare_roads(const char *path, enum hh_md_kind kind)
{
    struct fixture a, b;
    struct hh_tick ta[8], tb;
    struct hh_bar ba[8], bb;
    uint64_t fast, rows = 0, calls = 0;
    int ra = 0, rb, k = 0, n = 0;

    memset(&a, 0, sizeof a), memset(&b, 0, sizeof b);
    a.inst = hh_inst_new(), b.inst = hh_inst_new();
    a.warn = open_memstream(&a.wbuf, &a.wlen), b.warn = open_memstream(&b.wbuf, &b.wlen);
    assert_int_equal(hh_md_open(&a.r, path, kind, a.inst, a.warn, &a.d), HH_OK);
    assert_int_equal(hh_md_open(&b.r, path, kind, b.inst, b.warn, &b.d), HH_OK);
    hh_md__generic_only(b.r, true);
    for (;;) {
        if (k == n) {
            int want = 1 + (int)(calls++ % 7);

            memset(ta, 0, sizeof ta), memset(ba, 0, sizeof ba);
            ra = kind == HH_MD_BARS ? hh_md_next_bars(a.r, ba, want)
                                    : hh_md_next_ticks(a.r, ta, want);
            assert_true(ra <= want);
            k = 0;
            n = ra > 0 ? ra : 0;
        }
        memset(&tb, 0, sizeof tb), memset(&bb, 0, sizeof bb);
        rb = kind == HH_MD_BARS ? hh_md_next_bar(b.r, &bb) : hh_md_next_tick(b.r, &tb);
        if (!n) {
            assert_int_equal(ra, rb);
            break;
        }
        assert_int_equal(rb, 1);
        assert_memory_equal(&ta[k], &tb, sizeof tb);
        assert_memory_equal(&ba[k], &bb, sizeof bb);
        k++;
        rows++;
    }
    assert_int_equal(ra, 0);
    assert_memory_equal(hh_md_stats(a.r), hh_md_stats(b.r), sizeof(struct hh_md_stats));
    assert_int_equal(hh_md_offset(a.r), hh_md_offset(b.r));
    assert_string_equal(fx_warnings(&a), fx_warnings(&b));
    assert_int_equal(hh_md__fast_rows(b.r), 0);
    fast = hh_md__fast_rows(a.r);
    assert_true(fast <= rows);
    fx_close(&a);
    fx_close(&b);
    return fast;
}

/* Generated files of every kind and shape: the fast road accepts most
 * rows (the test would prove nothing otherwise) and never differs. */
static void test_roads_agree(void **state)
{
    static const struct { enum hh_md_kind kind; int ncols; } kinds[] = {
        { HH_MD_BARS, 7 }, { HH_MD_TICKS, 4 }, { HH_MD_TICKS, 6 },
    };

    (void)state;
    for (size_t k = 0; k < 3; k++)
        for (uint64_t seed = 1; seed <= 3; seed++) {
            char *text = varied_file(kinds[k].kind, kinds[k].ncols, 40000, seed * 7919);
            const char *path = tu_write_file(1, "roads.csv", text);
            uint64_t fast;

            free(text);
            assert_non_null(path);
            fast = compare_roads(path, kinds[k].kind);
            assert_true(fast > 15000);
        }
}

/* ---- bars ------------------------------------------------------------------- */

static void test_bars(void **state)
{
    struct fixture fx;
    struct hh_bar b[8], x;
    const struct hh_md_stats *st;
    int n = 0, rc;

    (void)state;
    fx_open(&fx, "ts,symbol,open,high,low,close,volume\n"
                 T0 ",A,100,101,99,100.5,10\n"
                 T0 ",B,100,100,100,100,0\n"        /* flat bar: fine */
                 T1 ",A,100,99.5,99,99.2,1\n"       /* high < open */
                 T1 ",A,100,101,100.5,101,1\n"      /* low > open */
                 T1 ",A,100,101,102,100,1\n"        /* high < low */
                 T1 ",A,100,101,99,102,1\n"         /* high < close */
                 T1 ",A,100,101,99,100,-3\n"        /* negative volume */
                 T0 ",C,1,1,1,1,1\n"                /* in order: skipped rows do not count */
                 T2 ",A,100,101,99,100,7\n",
            HH_MD_BARS);
    assert_int_equal(fx.rc, HH_OK);
    while ((rc = hh_md_next_bar(fx.r, &x)) == 1)
        b[n++] = x;
    assert_int_equal(rc, 0);
    assert_int_equal(n, 4);
    assert_int_equal(b[0].open, 1000000);
    assert_int_equal(b[0].high, 1010000);
    assert_int_equal(b[0].low, 990000);
    assert_int_equal(b[0].close, 1005000);
    assert_int_equal(b[0].volume, 10);
    assert_int_equal(b[3].volume, 7);
    st = hh_md_stats(fx.r);
    assert_int_equal(st->rows, 9);
    assert_int_equal(st->skipped_ohlc, 4);
    assert_int_equal(st->skipped_field, 1);
    /* Skipped rows do not advance the order: T0 after only T0 rows is fine. */
    assert_int_equal(st->skipped_order, 0);
    assert_int_equal(st->skipped, 5);
    assert_int_equal(st->accepted, 4);
    assert_non_null(strstr(fx_warnings(&fx),
                           "md.csv:4: skipped: inconsistent bar: high < max(open, close)"));
    assert_non_null(strstr(fx_warnings(&fx),
                           "md.csv:5: skipped: inconsistent bar: low > min(open, close)"));
    assert_non_null(strstr(fx_warnings(&fx), "md.csv:6: skipped: inconsistent bar: high < low"));
    fx_close(&fx);
}

static void test_bars_order(void **state)
{
    struct fixture fx;
    struct hh_bar x;
    int n = 0;

    (void)state;
    fx_open(&fx, "ts,symbol,open,high,low,close,volume\n"
                 T1 ",A,1,1,1,1,1\n" T0 ",B,1,1,1,1,1\n" T1 ",B,1,1,1,1,1\n",
            HH_MD_BARS);
    while (hh_md_next_bar(fx.r, &x) == 1)
        n++;
    assert_int_equal(n, 2);
    assert_int_equal(hh_md_stats(fx.r)->skipped_order, 1);
    fx_close(&fx);
}

/* ---- the field parsers against the generic ones -------------------------- */

static void test_parse_price_matches_generic(void **state)
{
    static const char *const cases[] = {
        "0", "1", "1.5", "100.05", "2500.0500", "00012.3400", "+1.5", "-1.5",
        "1.", ".5", "1.23456", "1.23450000", "", "1e3", "12345678901234.5",
        "123456789012345.5", "99999999999999999999", "1,5", " 1", "1 ", "0.0001",
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *s = cases[i];
        hh_price_t a = 0, b = 0;
        int ra = hh_md_parse_price(s, strlen(s), &a, NULL);
        int rb = hh_dec_parse(s, strlen(s), HH_FX_DIGITS, HH_DEC_PLUS, &b);

        assert_int_equal(ra, rb);
        if (ra == HH_OK)
            assert_int_equal(a, b);
    }
}

static void test_parse_qty_matches_generic(void **state)
{
    static const char *const cases[] = {
        "0", "7", "+7", "-7", "007", "1.0", "1.5", "", "x", "999999999999999999",
        "9223372036854775807", "9223372036854775808", "1e2",
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *s = cases[i];
        hh_qty_t a = 0, b = 0;
        int ra = hh_md_parse_qty(s, strlen(s), &a, NULL);
        int rb = hh_dec_parse(s, strlen(s), 0, HH_DEC_PLUS, &b);

        assert_int_equal(ra, rb);
        if (ra == HH_OK)
            assert_int_equal(a, b);
    }
}

static void test_parse_time_matches_generic(void **state)
{
    static const char *const cases[] = {
        "2025-01-02T09:15:00+05:30", "2025-01-02T09:15:00.250+05:30",
        "2025-01-02 09:15:00Z", "2025-01-02t09:15:00z", "2025-01-02T09:15:00.123456789Z",
        "2025-01-02T09:15:00.1234567890Z", "2025-01-02T09:15:00-04:00",
        "2025-01-02T09:15:00+0530", "2025-01-02T09:15+05:30", "2025-01-02T09:15:00",
        "2025-01-02T24:00:00Z", "2025-01-02T09:60:00Z", "2025-01-02T09:15:60Z",
        "2024-02-29T09:15:00Z", "2025-02-29T09:15:00Z", "2025-13-01T09:15:00Z",
        "2025-01-02T09:15:00.Z", "2025-01-02T09:15:00+24:00", "2025-01-02T09:15:00+05:60",
        "1970-01-01T00:00:00Z", "1969-12-31T23:59:59.999Z", "2025-01-02X09:15:00Z",
        "2025-01-03T09:15:00+05:30", "2025-01-02T09:15:00+05:30",
        "2025-01-02T09:15:00-05:30", "2025-01-02T09:15:00+05:30", "2025-01-02T09:15:00+05-30",
        "2025-01-02T09:15:00.5+05:30", "2025-01-02T09:15:00.12+05:30",
        "2025-01-02T09:15:00.1234+05:30", "2025-01-02T09:15:00.123", "2025-01-02T09:15:00.123Z",
        "2025-01-02T9:15:00+05:30", "2025-01-02T09:1a:00+05:30", "2025-01-02T09;15:00+05:30",
        "2025-01-02T09:15:0/+05:30", "2025-01-02T09:15:00+5:30", "2025-01-02", "2025/01/02T09:15:00Z",
        "2025-01-02T09:15:00.000+05:30", "2025-01-02T09:15:00,000+05:30",
    };
    struct hh_md_datecache c;

    (void)state;
    memset(&c, 0, sizeof c);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *s = cases[i];
        hh_time_t a = 0, b = 0;
        int ra = hh_md_parse_time(&c, s, strlen(s), &a, NULL);
        int rb = hh_time_parse(s, strlen(s), &b, NULL);

        assert_int_equal(ra == HH_OK, rb == HH_OK);
        if (ra == HH_OK)
            assert_int_equal(a, b);
    }
}

static void test_parse_time_year_range(void **state)
{
    struct hh_md_datecache c;
    const char *why = NULL;
    hh_time_t t;

    (void)state;
    memset(&c, 0, sizeof c);
    assert_int_equal(hh_md_parse_time(&c, "2262-01-01T00:00:00Z", 20, &t, &why), HH_ERANGE);
    assert_non_null(why);
    assert_int_equal(hh_md_parse_time(&c, "1677-01-01T00:00:00Z", 20, &t, NULL), HH_ERANGE);
    assert_int_equal(hh_md_parse_time(&c, "9999-12-31 23:59Z", 17, &t, NULL), HH_ERANGE);
    assert_int_equal(hh_md_parse_time(&c, "2261-12-31T23:59:59.999999999-23:59", 35, &t, NULL),
                     HH_OK);
    assert_true(t > 0);
    assert_int_equal(hh_md_parse_time(&c, "1678-01-01T00:00:00+23:59", 25, &t, NULL), HH_OK);
    assert_true(t < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_empty_file),
        cmocka_unit_test(test_header_missing_column),
        cmocka_unit_test(test_header_any_order_case_bom_unknown),
        cmocka_unit_test(test_unknown_column_warned_once),
        cmocka_unit_test(test_unknown_column_message),
        cmocka_unit_test(test_kind_mismatch),
        cmocka_unit_test(test_ticks_exact_values),
        cmocka_unit_test(test_skip_field_reasons),
        cmocka_unit_test(test_order_across_symbols),
        cmocka_unit_test(test_skipped_row_does_not_move_order),
        cmocka_unit_test(test_bid_ask_optional),
        cmocka_unit_test(test_crlf_blank_lines_no_final_newline),
        cmocka_unit_test(test_overlong_line),
        cmocka_unit_test(test_quoted_fields),
        cmocka_unit_test(test_split_every_length),
        cmocka_unit_test(test_symbol_cache_middle_bytes),
        cmocka_unit_test(test_symbol_too_long),
        cmocka_unit_test(test_bars),
        cmocka_unit_test(test_bars_order),
        cmocka_unit_test(test_roads_agree),
        cmocka_unit_test(test_parse_price_matches_generic),
        cmocka_unit_test(test_parse_qty_matches_generic),
        cmocka_unit_test(test_parse_time_matches_generic),
        cmocka_unit_test(test_parse_time_year_range),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);

    tu_cleanup();
    return rc;
}
