/*
 * test_instrument.c — the instrument table: loaders (our CSV and Zerodha's
 * dump), duplicate rules, qualified names, interning, stable pointers.
 */
#include "testutil.h"

#include "core/instrument.h"

#define PX(r, p) ((hh_price_t)(r) * HH_RUPEE + (hh_price_t)(p) * (HH_RUPEE / 100))

static const char *data_path(const char *name)
{
    static char buf[1024];
    const char *root = getenv("HH_ROOT");

    snprintf(buf, sizeof buf, "%s/tests/data/%s", root ? root : ".", name);
    return buf;
}

static hh_date_t D(const char *s)
{
    hh_date_t d;

    if (hh_date_parse(s, strlen(s), &d) != HH_OK)
        fail_msg("bad test date %s", s);
    return d;
}

static hh_iid_t find(const struct hh_instruments *t, const char *s)
{
    return hh_inst_find(t, s, strlen(s));
}

static const struct hh_instrument *get(const struct hh_instruments *t, const char *s)
{
    hh_iid_t id = find(t, s);

    if (id == HH_IID_NONE)
        fail_msg("%s not found", s);
    return hh_inst_get(t, id);
}

static void assert_date(hh_date_t got, const char *want)
{
    char buf[16];

    if (got == HH_DATE_NONE)
        fail_msg("got no date, want %s", want);
    hh_date_format(got, buf, sizeof buf);
    assert_string_equal(buf, want);
}

static struct hh_instruments *load(const char *path, const struct hh_calendar *cal)
{
    struct hh_instruments *t = hh_inst_new();
    struct hh_diag d = { "" };
    int rc;

    assert_non_null(t);
    rc = hh_inst_load(t, path, cal, &d);
    if (rc)
        fail_msg("load %s: %d %s", path, rc, d.msg);
    return t;
}

/* Load `text` (after our header) and expect an error mentioning `want`. */
static void load_fails(const char *text, int rc_want, const char *want)
{
    struct hh_instruments *t = hh_inst_new();
    struct hh_diag d = { "" };
    const char *p = tu_write_file(0, "bad.csv", text);
    int rc = hh_inst_load(t, p, NULL, &d);

    if (rc != rc_want || !strstr(d.msg, want))
        fail_msg("rc %d (want %d), message \"%s\" lacks \"%s\"", rc, rc_want, d.msg, want);
    /* a file with a bad row changes nothing */
    assert_int_equal(hh_inst_count(t), 0);
    hh_inst_free(t);
}

#define HDR "symbol,exchange,type,underlying,expiry,strike,option_type,lot_size,tick_size,freeze_qty\n"

static void test_load_ours(void **state)
{
    struct hh_instruments *t = load(data_path("instruments_small.csv"), NULL);
    const struct hh_instrument *in;

    (void)state;
    assert_int_equal(hh_inst_count(t), 23);

    in = get(t, "NIFTY25JAN24000CE");
    assert_string_equal(in->symbol, "NIFTY25JAN24000CE");
    assert_string_equal(in->underlying, "NIFTY");
    assert_int_equal(in->exch, HH_EXCH_NSE);
    assert_int_equal(in->seg, HH_SEG_OPT);
    assert_int_equal(in->type, HH_INST_OPT);
    assert_int_equal(in->opt, HH_OPT_CE);
    assert_date(in->expiry, "2025-01-30");
    assert_int_equal(in->strike, PX(24000, 0));
    assert_int_equal(in->lot_size, 75);
    assert_int_equal(in->tick, PX(0, 5));
    assert_int_equal(in->freeze_qty, 1800);
    assert_true(in->known);

    /* lot sizes are per contract: 75 to the 2025-12-30 expiry, 65 after */
    assert_int_equal(get(t, "NIFTY25DEC26000CE")->lot_size, 75);
    assert_int_equal(get(t, "NIFTY26JANFUT")->lot_size, 65);
    assert_int_equal(get(t, "NIFTY26JANFUT")->seg, HH_SEG_FUT);
    assert_int_equal(get(t, "NIFTY26JANFUT")->strike, 0);
    assert_int_equal(get(t, "BANKNIFTY25JANFUT")->lot_size, 35);
    assert_int_equal(get(t, "BANKNIFTY26JANFUT")->lot_size, 30);
    assert_date(get(t, "NIFTY2510923500PE")->expiry, "2025-01-09");
    assert_int_equal(get(t, "NIFTY2510923500PE")->opt, HH_OPT_PE);

    in = get(t, "NIFTY");
    assert_int_equal(in->type, HH_INST_EQ);
    assert_int_equal(in->seg, HH_SEG_CASH);
    assert_int_equal(in->lot_size, 1);
    assert_int_equal(in->tick, PX(0, 5));
    assert_int_equal(in->expiry, HH_DATE_NONE);
    assert_int_equal(in->freeze_qty, 0);
    assert_string_equal(in->underlying, "NIFTY");
    assert_string_equal(get(t, "M&M")->underlying, "M&M");

    in = get(t, "CRUDEOIL25FEBFUT");
    assert_int_equal(in->exch, HH_EXCH_MCX);
    assert_int_equal(in->seg, HH_SEG_COMMODITY);
    assert_int_equal(in->tick, PX(1, 0));
    assert_int_equal(in->lot_size, 100);
    assert_int_equal(in->type, HH_INST_FUT);

    /* qualified names */
    assert_int_equal(find(t, "NSE:NIFTY25JAN24000CE"), find(t, "NIFTY25JAN24000CE"));
    assert_int_equal(find(t, "NFO:NIFTY25JAN24000CE"), find(t, "NIFTY25JAN24000CE"));
    assert_int_equal(find(t, "MCX:CRUDEOIL25FEBFUT"), find(t, "CRUDEOIL25FEBFUT"));
    assert_int_equal(find(t, "NSE:CRUDEOIL25FEBFUT"), HH_IID_NONE);
    assert_int_equal(find(t, "BSE:NIFTY"), HH_IID_NONE);
    assert_int_equal(find(t, "NIFTY25JAN24000C"), HH_IID_NONE);
    assert_int_equal(find(t, "nifty"), HH_IID_NONE);
    assert_int_equal(find(t, ""), HH_IID_NONE);
    /* only len bytes of the key count */
    assert_int_equal(hh_inst_find(t, "NIFTY25JANFUTXYZ", 13), find(t, "NIFTY25JANFUT"));
    assert_null(hh_inst_get(t, (hh_iid_t)hh_inst_count(t)));

    /* ids are dense, in file order */
    for (hh_iid_t i = 0; i < hh_inst_count(t); i++)
        assert_int_equal(find(t, hh_inst_get(t, i)->symbol), i);
    hh_inst_free(t);
    hh_inst_free(NULL);
}

static void test_load_kite(void **state)
{
    struct hh_instruments *t = load(data_path("kite_instruments_sample.csv"), NULL);
    const struct hh_instrument *in, *bse;
    int types[4] = { 0 }, bses = 0;

    (void)state;
    assert_int_equal(hh_inst_count(t), 215);
    for (hh_iid_t i = 0; i < hh_inst_count(t); i++) {
        in = hh_inst_get(t, i);
        types[in->type]++;
        bses += in->exch == HH_EXCH_BSE;
        assert_true(in->known);
    }
    assert_int_equal(types[HH_INST_EQ], 16);
    assert_int_equal(types[HH_INST_FUT], 24);
    assert_int_equal(types[HH_INST_OPT], 175);
    assert_int_equal(bses, 8);

    /* equity: the underlying is the symbol, not the company name */
    in = get(t, "M&M");
    assert_int_equal(in->exch, HH_EXCH_NSE);
    assert_int_equal(in->seg, HH_SEG_CASH);
    assert_string_equal(in->underlying, "M&M");
    assert_int_equal(in->lot_size, 1);

    /* NSE first, BSE second: the bare name stays NSE */
    in = get(t, "AARTIIND");
    bse = get(t, "BSE:AARTIIND");
    assert_int_equal(in->exch, HH_EXCH_NSE);
    assert_int_equal(bse->exch, HH_EXCH_BSE);
    assert_ptr_not_equal(in, bse);
    assert_ptr_equal(get(t, "NSE:AARTIIND"), in);
    /* BSE first, NSE second (ABCAPITAL, M&MFIN in the dump): NSE takes it */
    in = get(t, "ABCAPITAL");
    assert_int_equal(in->exch, HH_EXCH_NSE);
    assert_int_equal(get(t, "BSE:ABCAPITAL")->exch, HH_EXCH_BSE);
    assert_true(find(t, "ABCAPITAL") > find(t, "BSE:ABCAPITAL"));
    assert_int_equal(get(t, "M&MFIN")->exch, HH_EXCH_NSE);
    /* BSE's 0.01 tick survives on the BSE row */
    assert_int_equal(get(t, "BSE:IDEA")->tick, PX(0, 1));
    assert_int_equal(get(t, "IDEA")->tick, PX(0, 5));

    in = get(t, "M&M24APR1900CE");
    assert_string_equal(in->underlying, "M&M");
    assert_int_equal(in->seg, HH_SEG_OPT);
    assert_int_equal(in->opt, HH_OPT_CE);
    assert_int_equal(in->strike, PX(1900, 0));
    assert_int_equal(in->lot_size, 350);
    assert_date(in->expiry, "2024-04-25");
    assert_int_equal(get(t, "NFO:M&M24APR1900CE")->lot_size, 350);

    in = get(t, "M&MFIN24APR292.5PE");
    assert_int_equal(in->strike, PX(292, 50));
    assert_string_equal(in->underlying, "M&MFIN");
    assert_int_equal(in->opt, HH_OPT_PE);

    in = get(t, "BAJAJ-AUTO24APRFUT");
    assert_string_equal(in->underlying, "BAJAJ-AUTO");
    assert_int_equal(in->seg, HH_SEG_FUT);
    assert_int_equal(in->lot_size, 125);

    /* weekly on a holiday-moved Wednesday */
    in = get(t, "NIFTY2441022500CE");
    assert_date(in->expiry, "2024-04-10");
    assert_string_equal(in->underlying, "NIFTY");
    assert_int_equal(in->lot_size, 50);
    in = get(t, "BANKNIFTY2440347500PE");
    assert_date(in->expiry, "2024-04-03");
    assert_int_equal(in->lot_size, 15);
    hh_inst_free(t);
}

static void test_load_kite_variants(void **state)
{
    struct hh_calendar *cal = hh_cal_new();
    struct hh_instruments *t;
    const struct hh_instrument *in;
    const char *p = tu_write_file(1, "kite_raw.csv",
        "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,"
        "tick_size,lot_size,instrument_type,segment,exchange\n"
        "256265,1001,NIFTY 50,NIFTY 50,0,,0,0.05,1,EQ,INDICES,NSE\n"
        "1,2,USDINR24APRFUT,USDINR,0,2024-04-26,0,0.0025,1,FUT,CDS-FUT,CDS\n"
        "3,4,USDINR2441283.5CE,USDINR,0,2024-04-12,83.5,0.0025,1,CE,CDS-OPT,CDS\n"
        "5,6,CRUDEOIL24APRFUT,CRUDEOIL,0,2024-04-19,0,1,100,FUT,MCX-FUT,MCX\n"
        "7,8,SENSEX24APRFUT,SENSEX,0,,0,0.05,10,FUT,BFO-FUT,BFO\n"
        "9,10,NIFTYNXT502441024000CE,NIFTYNXT50,0,2024-04-10,24000,0.05,25,CE,NFO-OPT,NFO\n"
        "11,12,FOO24APRFUT,,0,2024-04-25,0,0.05,100,FUT,NFO-FUT,NFO\n");

    (void)state;
    assert_int_equal(hh_cal_add_holiday(cal, D("2024-04-25"), HH_EXCH_BSE), HH_OK);
    t = load(p, cal);
    assert_int_equal(hh_inst_count(t), 7);

    in = get(t, "NIFTY 50");
    assert_int_equal(in->type, HH_INST_INDEX);
    assert_int_equal(in->seg, HH_SEG_CASH);
    assert_int_equal(find(t, "NSE:NIFTY 50"), find(t, "NIFTY 50"));

    in = get(t, "USDINR24APRFUT");
    assert_int_equal(in->seg, HH_SEG_CURRENCY);
    assert_int_equal(in->exch, HH_EXCH_NSE);
    assert_int_equal(in->tick, 25);
    assert_date(in->expiry, "2024-04-26");
    assert_int_equal(get(t, "CDS:USDINR2441283.5CE")->strike, PX(83, 50));

    in = get(t, "CRUDEOIL24APRFUT");
    assert_int_equal(in->seg, HH_SEG_COMMODITY);
    assert_int_equal(in->exch, HH_EXCH_MCX);

    /* expiry empty: derived from the symbol (BSE last Thursday, moved) */
    in = get(t, "SENSEX24APRFUT");
    assert_int_equal(in->exch, HH_EXCH_BSE);
    assert_int_equal(in->seg, HH_SEG_FUT);
    assert_date(in->expiry, "2024-04-24");
    assert_ptr_equal(get(t, "BFO:SENSEX24APRFUT"), in);

    /* master data settles the digit-underlying ambiguity */
    assert_string_equal(get(t, "NIFTYNXT502441024000CE")->underlying, "NIFTYNXT50");
    /* no name: parsed from the symbol */
    assert_string_equal(get(t, "FOO24APRFUT")->underlying, "FOO");
    hh_inst_free(t);
    hh_cal_free(cal);
}

/* instrument_token is kept; our CSV and the dump merge in either order. */
static void test_kite_tokens(void **state)
{
    const char *dump = tu_write_file(2, "kite_tok.csv",
        "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,"
        "tick_size,lot_size,instrument_type,segment,exchange\n"
        "256265,1001,NIFTY 50,NIFTY 50,0,,0,0.05,1,EQ,INDICES,NSE\n"
        "13369090,52223,NIFTY24APRFUT,NIFTY,0,2024-04-25,0,0.05,50,FUT,NFO-FUT,NFO\n"
        "4294967295,1,ZZZ,ZZZ,0,,0,0.05,1,EQ,NSE,NSE\n"
        "260105,1016,NIFTY BANK,NIFTY BANK,0,,0,0,0,EQ,INDICES,NSE\n");
    const char *ours = tu_write_file(3, "ours_tok.csv", HDR
        "NIFTY24APRFUT,NFO,FUT,NIFTY,2024-04-25,,,50,0.05,1800\n");
    struct hh_instruments *t;

    (void)state;
    t = load(dump, NULL);
    assert_int_equal(get(t, "NIFTY 50")->token, 256265);
    assert_int_equal(get(t, "NFO:NIFTY24APRFUT")->token, 13369090);
    assert_int_equal(get(t, "ZZZ")->token, 4294967295u);
    /* the dump's index rows: lot 0, tick 0 */
    assert_int_equal(get(t, "NIFTY BANK")->type, HH_INST_INDEX);
    assert_int_equal(get(t, "NIFTY BANK")->lot_size, 1);
    assert_int_equal(get(t, "NIFTY BANK")->tick, PX(0, 5));
    assert_int_equal(get(t, "NIFTY24APRFUT")->freeze_qty, 0);
    hh_inst_free(t);

    /* ours first (freeze_qty), then the dump: the row keeps both */
    t = load(ours, NULL);
    assert_int_equal(get(t, "NIFTY24APRFUT")->token, 0);
    assert_int_equal(hh_inst_load(t, dump, NULL, NULL), HH_OK);
    assert_int_equal(get(t, "NIFTY24APRFUT")->token, 13369090);
    assert_int_equal(get(t, "NIFTY24APRFUT")->freeze_qty, 1800);
    hh_inst_free(t);

    /* the dump first, then ours: the same */
    t = load(dump, NULL);
    assert_int_equal(hh_inst_load(t, ours, NULL, NULL), HH_OK);
    assert_int_equal(get(t, "NIFTY24APRFUT")->token, 13369090);
    assert_int_equal(get(t, "NIFTY24APRFUT")->freeze_qty, 1800);
    hh_inst_free(t);

    /* bad tokens name the column */
    {
        struct hh_instruments *u = hh_inst_new();
        struct hh_diag d = { "" };
        const char *p = tu_write_file(4, "kite_badtok.csv",
            "instrument_token,tradingsymbol,expiry,strike,tick_size,lot_size,"
            "instrument_type,segment,exchange\n"
            "4294967296,ZZZ,,0,0.05,1,EQ,NSE,NSE\n");

        assert_int_equal(hh_inst_load(u, p, NULL, &d), HH_ESYNTAX);
        assert_non_null(strstr(d.msg, "instrument_token"));
        hh_inst_free(u);
    }
}

static void test_load_ours_derivations(void **state)
{
    struct hh_calendar *cal = hh_cal_new();
    struct hh_instruments *t;
    const struct hh_instrument *in;
    const char *p = tu_write_file(1, "derive.csv",
        "# hedgehog instruments, columns in another order, extra column\n"
        "lot_size,tick_size,symbol,type,exchange,option_type,comment,expiry,segment,strike\n"
        "65,0.05,NIFTY26MAR25000CE,OPT,NSE,CE,first,,,25000\n"
        "65,0.05,NIFTY2620325500PE,OPT,NFO,PE,weekly,,,25500.00\n"
        "65,0.05,NIFTY26MARFUT,FUT,NSE,,x,2026-03-30,,\n"
        "\n"
        "1,0.05,COTTONCNDY,EQ,MCX,,agri,,agri,\n");

    (void)state;
    assert_int_equal(hh_cal_add_holiday(cal, D("2026-03-31"), HH_EXCH_NSE), HH_OK);
    t = load(p, cal);
    assert_int_equal(hh_inst_count(t), 4);
    in = get(t, "NIFTY26MAR25000CE");
    assert_string_equal(in->underlying, "NIFTY");
    assert_int_equal(in->strike, PX(25000, 0));
    assert_date(in->expiry, "2026-03-30");   /* last Tuesday 03-31 is a holiday */
    in = get(t, "NIFTY2620325500PE");
    assert_date(in->expiry, "2026-02-03");
    assert_int_equal(in->strike, PX(25500, 0));
    assert_string_equal(get(t, "NIFTY26MARFUT")->underlying, "NIFTY");
    in = get(t, "COTTONCNDY");
    assert_int_equal(in->seg, HH_SEG_AGRI);
    assert_int_equal(in->exch, HH_EXCH_MCX);
    hh_inst_free(t);

    /* without a calendar the holiday is unknown */
    t = load(p, NULL);
    assert_date(get(t, "NIFTY26MAR25000CE")->expiry, "2026-03-31");
    hh_inst_free(t);
    hh_cal_free(cal);
}

static void test_load_errors(void **state)
{
    (void)state;
    load_fails(HDR "NIFTY25JANFUT,NSE,FUT,NIFTY,2025-01-30,,,75,0.05,1800\n"
                   "NIFTY25FEBFUT,NSE,FUT,NIFTY,2025-02-27,,,0,0.05,1800\n",
               HH_ESYNTAX, "bad.csv:3: lot_size: must be at least 1 (got '0')");
    load_fails(HDR "NIFTY25JANFUT,NSE,FUT,NIFTY,2025-01-30,,,7.5,0.05,1800\n",
               HH_ESYNTAX, "bad.csv:2: lot_size: not a whole number (got '7.5')");
    load_fails(HDR "NIFTY25JANFUT,NSE,FUT,NIFTY,2025-01-30,,,-75,0.05,1800\n",
               HH_ESYNTAX, "bad.csv:2: lot_size");
    load_fails(HDR "NIFTY25JANFUT,NSE,FUT,NIFTY,2025-01-30,,,75,0,1800\n",
               HH_ESYNTAX, "bad.csv:2: tick_size: must be greater than 0");
    load_fails(HDR "NIFTY25JANFUT,NSE,FUT,NIFTY,2025-01-30,,,75,0.00001,1800\n",
               HH_ESYNTAX, "bad.csv:2: tick_size: more than 4 decimal places");
    load_fails(HDR "NIFTY25JAN24000CE,NSE,OPT,NIFTY,2025-01-30,-24000,CE,75,0.05,\n",
               HH_ESYNTAX, "bad.csv:2: strike: must not be negative");
    load_fails(HDR "NIFTY25JAN24000CE,NSE,OPT,NIFTY,2025-01-30,,CE,75,0.05,\n",
               HH_ESYNTAX, "bad.csv:2: strike: an option needs a strike");
    load_fails(HDR "NIFTY25JANFUT,NSE,FUT,NIFTY,2025-01-30,24000,,75,0.05,\n",
               HH_ESYNTAX, "bad.csv:2: strike: only options have a strike");
    load_fails(HDR "NIFTY25JAN24000CE,NSE,OPT,NIFTY,2025-01-30,24000,,75,0.05,\n",
               HH_ESYNTAX, "bad.csv:2: option_type: an option needs CE or PE");
    load_fails(HDR "NIFTY25JAN24000CE,NSE,OPT,NIFTY,2025-01-30,24000,XE,75,0.05,\n",
               HH_ESYNTAX, "bad.csv:2: option_type: not CE, PE or empty (got 'XE')");
    load_fails(HDR "RELIANCE,NSE,EQ,RELIANCE,,,CE,1,0.05,\n",
               HH_ESYNTAX, "bad.csv:2: option_type: only options");
    load_fails(HDR "RELIANCE,NSE,EQ,RELIANCE,2025-01-30,,,1,0.05,\n",
               HH_ESYNTAX, "bad.csv:2: expiry: only futures and options expire");
    load_fails(HDR "NIFTY25JANFUT,NSE,FUT,NIFTY,2025-13-30,,,75,0.05,\n",
               HH_ESYNTAX, "bad.csv:2: expiry: not a date");
    load_fails(HDR "RELIANCE,NYSE,EQ,RELIANCE,,,,1,0.05,\n",
               HH_ESYNTAX, "bad.csv:2: exchange");
    load_fails(HDR "RELIANCE,NSE,STOCK,RELIANCE,,,,1,0.05,\n",
               HH_ESYNTAX, "bad.csv:2: type: not EQ, FUT, OPT or INDEX (got 'STOCK')");
    load_fails(HDR ",NSE,EQ,RELIANCE,,,,1,0.05,\n", HH_ESYNTAX, "bad.csv:2: symbol: empty");
    load_fails(HDR "NSE:RELIANCE,NSE,EQ,RELIANCE,,,,1,0.05,\n",
               HH_ESYNTAX, "bad.csv:2: symbol: must not carry an exchange prefix");
    load_fails(HDR "RELIANCE,NSE,EQ,RELIANCE,,,,1,0.05,-5\n",
               HH_ESYNTAX, "bad.csv:2: freeze_qty: must not be negative");
    load_fails(HDR "RELIANCE,NSE,EQ,ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGH,,,,1,0.05,\n",
               HH_ESYNTAX, "bad.csv:2: underlying: longer than 31 bytes");
    load_fails(HDR "CRUDEOIL25FEBFUT,MCX,FUT,CRUDEOIL,,,,100,1,\n",
               HH_ESYNTAX, "bad.csv:2: expiry: empty, and no rule");
    load_fails(HDR "WEIRDFUT2,NSE,FUT,,2025-01-30,,,1,0.05,\n",
               HH_ESYNTAX, "bad.csv:2: symbol: cannot tell the underlying");
    load_fails(HDR "RELIANCE,NSE,EQ\n", HH_ESYNTAX, "bad.csv:2: 3 fields, expected at least 10");
    load_fails(HDR "RELIANCE,NSE,EQ,\"RELI,,,,1,0.05,\n", HH_ESYNTAX,
               "bad.csv:2: unterminated quote");
    load_fails("symbol,exchange,type,lot_size\nRELIANCE,NSE,EQ,1\n", HH_EHEADER,
               "bad.csv:1: header lacks column 'tick_size'");
    load_fails("a,b,c\n1,2,3\n", HH_EHEADER, "bad.csv:1: not an instrument file");
    load_fails("instrument_token,tradingsymbol,exchange,instrument_type\n", HH_EHEADER,
               "lacks column 'expiry'");
    load_fails("", HH_EHEADER, "empty file");
    /* Zerodha rows name their columns too */
    load_fails("instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,"
               "tick_size,lot_size,instrument_type,segment,exchange\n"
               "1,2,NIFTY24APRFUT,NIFTY,0,25-04-2024,0,0.05,0,FUT,NFO-FUT,NFO\n",
               HH_ESYNTAX, "bad.csv:2: lot_size: must be at least 1 (got '0')");
    load_fails("instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,"
               "tick_size,lot_size,instrument_type,segment,exchange\n"
               "1,2,NIFTY24APR22000CE,NIFTY,0,25-04-2024,0,0.05,50,CE,NFO-OPT,NFO\n",
               HH_ESYNTAX, "bad.csv:2: strike: an option needs a strike");
    load_fails("instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,"
               "tick_size,lot_size,instrument_type,segment,exchange\n"
               "1,2,NIFTY24APR22000CE,NIFTY,0,25-04-2024,22000,0.05,50,OPT,NFO-OPT,NFO\n",
               HH_ESYNTAX, "bad.csv:2: instrument_type: not EQ, FUT, CE or PE");

    {
        struct hh_instruments *t = hh_inst_new();
        struct hh_diag d = { "" };

        assert_int_equal(hh_inst_load(t, "/nonexistent/x.csv", NULL, &d), HH_EIO);
        assert_non_null(strstr(d.msg, "/nonexistent/x.csv"));
        assert_int_equal(hh_inst_load(t, "/nonexistent/x.csv", NULL, NULL), HH_EIO);
        hh_inst_free(t);
    }
}

static void test_duplicates(void **state)
{
    struct hh_instruments *t;
    const char *p = tu_write_file(1, "dups.csv",
        HDR "XYZ,BSE,EQ,,,,,1,0.01,\n"
            "XYZ,NSE,EQ,,,,,1,0.05,\n"
            "XYZ,NSE,EQ,,,,,1,0.10,\n"     /* same exchange again: ignored */
            "ABC,NSE,EQ,,,,,1,0.05,\n"
            "ABC,BSE,EQ,,,,,1,0.01,\n"
            "ABC,MCX,EQ,,,,,1,1,\n");

    (void)state;
    t = load(p, NULL);
    assert_int_equal(hh_inst_count(t), 5);
    assert_int_equal(get(t, "XYZ")->exch, HH_EXCH_NSE);
    assert_int_equal(get(t, "XYZ")->tick, PX(0, 5));
    assert_int_equal(get(t, "BSE:XYZ")->tick, PX(0, 1));
    assert_int_equal(find(t, "XYZ"), find(t, "NSE:XYZ"));
    assert_int_equal(get(t, "ABC")->exch, HH_EXCH_NSE);
    assert_int_equal(get(t, "MCX:ABC")->tick, PX(1, 0));
    assert_int_equal(get(t, "ABC")->tick, PX(0, 5));
    /* loading the same file again keeps the first rows */
    {
        struct hh_diag d = { "" };

        assert_int_equal(hh_inst_load(t, p, NULL, &d), HH_OK);
        assert_int_equal(hh_inst_count(t), 5);
    }
    hh_inst_free(t);
}

static void test_intern_and_add(void **state)
{
    struct hh_instruments *t = hh_inst_new();
    struct hh_instrument in;
    const struct hh_instrument *p;
    hh_iid_t id, id2, id3;

    (void)state;
    assert_int_equal(hh_inst_intern(t, "FOO", 3, &id), HH_OK);
    assert_int_equal(id, 0);
    p = hh_inst_get(t, id);
    assert_string_equal(p->symbol, "FOO");
    assert_string_equal(p->underlying, "FOO");
    assert_false(p->known);
    assert_int_equal(p->exch, HH_EXCH_NSE);
    assert_int_equal(p->seg, HH_SEG_CASH);
    assert_int_equal(p->type, HH_INST_EQ);
    assert_int_equal(p->lot_size, 1);
    assert_int_equal(p->tick, 500);
    assert_int_equal(p->expiry, HH_DATE_NONE);
    assert_int_equal(hh_inst_intern(t, "FOOBAR", 3, &id2), HH_OK);
    assert_int_equal(id2, id);
    assert_int_equal(find(t, "NSE:FOO"), id);

    /* a later add completes it, keeping its id */
    memset(&in, 0, sizeof in);
    strcpy(in.symbol, "FOO");
    strcpy(in.underlying, "FOO");
    in.exch = HH_EXCH_NSE;
    in.seg = HH_SEG_CASH;
    in.type = HH_INST_EQ;
    in.expiry = HH_DATE_NONE;
    in.lot_size = 1;
    in.tick = PX(0, 1);
    in.freeze_qty = 1000;
    assert_int_equal(hh_inst_add(t, &in, &id2), HH_OK);
    assert_int_equal(id2, id);
    assert_true(p->known);
    assert_int_equal(p->tick, PX(0, 1));
    assert_int_equal(p->freeze_qty, 1000);
    assert_int_equal(hh_inst_count(t), 1);
    /* adding it again: already there */
    assert_int_equal(hh_inst_add(t, &in, &id2), HH_EEXIST);
    assert_int_equal(id2, id);
    /* interning a known symbol returns it */
    assert_int_equal(hh_inst_intern(t, "FOO", 3, &id2), HH_OK);
    assert_int_equal(id2, id);
    assert_true(hh_inst_get(t, id2)->known);

    /* interned under BSE, completed by an NSE row: re-keyed */
    assert_int_equal(hh_inst_intern(t, "BSE:BAR", 7, &id), HH_OK);
    assert_int_equal(hh_inst_get(t, id)->exch, HH_EXCH_BSE);
    assert_int_equal(find(t, "BAR"), id);
    strcpy(in.symbol, "BAR");
    strcpy(in.underlying, "BAR");
    assert_int_equal(hh_inst_add(t, &in, &id2), HH_OK);
    assert_int_equal(id2, id);
    assert_int_equal(hh_inst_get(t, id)->exch, HH_EXCH_NSE);
    assert_int_equal(find(t, "NSE:BAR"), id);
    assert_int_equal(find(t, "BSE:BAR"), HH_IID_NONE);
    /* ... and a BSE row then gets its own id */
    in.exch = HH_EXCH_BSE;
    assert_int_equal(hh_inst_add(t, &in, &id3), HH_OK);
    assert_int_not_equal(id3, id);
    assert_int_equal(find(t, "BSE:BAR"), id3);
    assert_int_equal(find(t, "BAR"), id);

    /* an unknown entry never takes the bare name from a known one */
    assert_int_equal(hh_inst_intern(t, "MCX:BAR", 7, &id2), HH_OK);
    assert_int_not_equal(id2, id);
    assert_false(hh_inst_get(t, id2)->known);
    assert_int_equal(find(t, "BAR"), id);

    /* bad interns and adds */
    assert_int_equal(hh_inst_intern(t, "", 0, &id), HH_EINVAL);
    assert_int_equal(hh_inst_intern(t, "A\nB", 3, &id), HH_EINVAL);
    assert_int_equal(hh_inst_intern(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZ",
                                    52, &id), HH_EINVAL);
    in.exch = HH_EXCH_NSE;
    strcpy(in.symbol, "BAZ");
    in.lot_size = 0;
    assert_int_equal(hh_inst_add(t, &in, &id), HH_EINVAL);
    in.lot_size = 1;
    in.type = HH_INST_OPT;   /* no strike, no CE/PE, no expiry */
    assert_int_equal(hh_inst_add(t, &in, &id), HH_EINVAL);
    in.opt = HH_OPT_CE;
    in.strike = PX(100, 0);
    assert_int_equal(hh_inst_add(t, &in, &id), HH_EINVAL);
    in.expiry = D("2025-01-30");
    assert_int_equal(hh_inst_add(t, &in, &id), HH_OK);
    assert_true(hh_inst_is_option(hh_inst_get(t, id)));
    hh_inst_free(t);
}

static void test_stable_pointers_and_many(void **state)
{
    struct hh_instruments *t = hh_inst_new();
    const struct hh_instrument *first;
    enum { MANY = 70000 };
    char sym[32];
    hh_iid_t id;

    (void)state;
    assert_int_equal(hh_inst_intern(t, "FIRST", 5, &id), HH_OK);
    first = hh_inst_get(t, id);
    for (int i = 0; i < MANY; i++) {
        int n = snprintf(sym, sizeof sym, "S%06d", i);

        /* every third one under BSE, to exercise qualified keys */
        if (i % 3 == 0)
            n = snprintf(sym, sizeof sym, "BSE:S%06d", i);
        assert_int_equal(hh_inst_intern(t, sym, (size_t)n, &id), HH_OK);
        assert_int_equal(id, (hh_iid_t)i + 1);
    }
    assert_ptr_equal(hh_inst_get(t, 0), first);
    assert_string_equal(first->symbol, "FIRST");
    assert_int_equal(hh_inst_count(t), MANY + 1);

    /* complete every BSE-interned one with an NSE row (re-keys, removals) */
    for (int i = 0; i < MANY; i += 3) {
        struct hh_instrument in;

        memset(&in, 0, sizeof in);
        snprintf(in.symbol, sizeof in.symbol, "S%06d", i);
        in.exch = HH_EXCH_NSE;
        in.expiry = HH_DATE_NONE;
        in.lot_size = 1;
        in.tick = PX(0, 5);
        assert_int_equal(hh_inst_add(t, &in, &id), HH_OK);
        assert_int_equal(id, (hh_iid_t)i + 1);
    }
    for (int i = 0; i < MANY; i++) {
        int n = snprintf(sym, sizeof sym, "S%06d", i);

        assert_int_equal(hh_inst_find(t, sym, (size_t)n), (hh_iid_t)i + 1);
        n = snprintf(sym, sizeof sym, "NSE:S%06d", i);
        assert_int_equal(hh_inst_find(t, sym, (size_t)n), (hh_iid_t)i + 1);
        n = snprintf(sym, sizeof sym, "BSE:S%06d", i);
        assert_int_equal(hh_inst_find(t, sym, (size_t)n), HH_IID_NONE);
        assert_int_equal(hh_inst_get(t, (hh_iid_t)i + 1)->known, i % 3 == 0);
    }
    assert_int_equal(find(t, "S070000"), HH_IID_NONE);
    hh_inst_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_ours),
        cmocka_unit_test(test_load_kite),
        cmocka_unit_test(test_load_kite_variants),
        cmocka_unit_test(test_kite_tokens),
        cmocka_unit_test(test_load_ours_derivations),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_intern_and_add),
        cmocka_unit_test(test_stable_pointers_and_many),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);

    tu_cleanup();
    return rc;
}
