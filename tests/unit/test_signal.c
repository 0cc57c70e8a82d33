/*
 * test_signal.c — signal parsing and validation (SPEC §4, §5a): one test per
 * reason code with its edges, the precedence between codes, duplicates,
 * the clock (the seeds' time-travel bug), sessions, and dead letters.
 *
 * Self-contained: a small instrument table (hh_inst_add) and a calendar
 * with one NSE holiday (2025-02-26).  2025-01-02 is a Thursday.
 */
#include "testutil.h"

#include "signal/group.h"
#include "signal/signal.h"
#include "signal/signal_int.h"

#include <stdarg.h>

struct fx {
    struct hh_instruments *inst;
    struct hh_calendar *cal;
    struct hh_sig_rules rules;
    struct hh_sig_validator *v;
    struct hh_signal s;
    struct hh_sig_reject r;
};

static struct fx *F;

static void add_inst(struct hh_instruments *t, const char *sym, enum hh_inst_type type,
                     enum hh_segment seg, hh_date_t expiry, hh_price_t tick)
{
    struct hh_instrument in;
    hh_iid_t id;

    memset(&in, 0, sizeof in);
    snprintf(in.symbol, sizeof in.symbol, "%s", sym);
    snprintf(in.underlying, sizeof in.underlying, "%s", "NIFTY");
    in.exch = HH_EXCH_NSE;
    in.seg = seg;
    in.type = type;
    in.opt = HH_OPT_NONE;
    in.expiry = expiry;
    in.lot_size = type == HH_INST_EQ ? 1 : 75;
    in.tick = tick;
    assert_int_equal(hh_inst_add(t, &in, &id), HH_OK);
}

static int setup(void **state)
{
    static struct fx fx;
    hh_iid_t bare;

    (void)state;
    memset(&fx, 0, sizeof fx);
    fx.inst = hh_inst_new();
    fx.cal = hh_cal_new();
    add_inst(fx.inst, "NIFTY25JANFUT", HH_INST_FUT, HH_SEG_FUT, hh_date_from_ymd(2025, 1, 30), 500);
    add_inst(fx.inst, "RELIANCE", HH_INST_EQ, HH_SEG_CASH, HH_DATE_NONE, 500);
    add_inst(fx.inst, "COARSE", HH_INST_EQ, HH_SEG_CASH, HH_DATE_NONE, 10000);
    assert_int_equal(hh_inst_intern(fx.inst, "BARE", 4, &bare), HH_OK);
    assert_int_equal(hh_cal_add_holiday(fx.cal, hh_date_from_ymd(2025, 2, 26), HH_EXCH_NSE),
                     HH_OK);
    fx.rules.min_rr = 1500000000LL;          /* 1.5 */
    fx.rules.min_confidence = 600000000LL;   /* 0.6 */
    fx.rules.max_live_age = 120 * HH_NS_PER_S;
    fx.rules.max_clock_skew = 2 * HH_NS_PER_S;
    fx.v = hh_sig_validator_new(fx.inst, fx.cal, &fx.rules);
    assert_non_null(fx.v);
    F = &fx;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hh_sig_validator_free(F->v);
    hh_cal_free(F->cal);
    hh_inst_free(F->inst);
    return 0;
}

/* ---- building lines ------------------------------------------------------- */

#define DROP "\x01drop"

static const char *const base_key[] = {
    "id", "ts", "symbol", "side", "entry", "stop", "targets",
};
static const char *const base_val[] = {
    NULL, "\"2025-01-02T10:00:00+05:30\"", "\"NIFTY25JANFUT\"", "\"BUY\"",
    "23500.05", "23400.05", "[23650.05,23700,\"23800.10\"]",
};

/*
 * The base signal (valid: reward/risk exactly 1.5) with overrides given as
 * key, raw JSON value pairs ending in NULL; value DROP removes the key, an
 * unknown key is appended.  Unless overridden the id is fresh each call
 * ("auto-N"), so lines never collide as DUPLICATE by accident.  Returns a
 * static buffer.
 */
static const char *mk(const char *k, ...)
{
    static char buf[4096];
    static unsigned seq;
    char autoid[32];
    const char *keys[32], *vals[32];
    int n = 7;
    size_t o = 0;
    va_list ap;

    snprintf(autoid, sizeof autoid, "\"auto-%u\"", ++seq);
    for (int i = 0; i < n; i++)
        keys[i] = base_key[i], vals[i] = base_val[i] ? base_val[i] : autoid;
    va_start(ap, k);
    for (; k; k = va_arg(ap, const char *)) {
        const char *val = va_arg(ap, const char *);
        int i;

        for (i = 0; i < n && strcmp(keys[i], k); i++)
            ;
        if (i == n)
            keys[n++] = k;
        vals[i] = val;
    }
    va_end(ap);
    buf[o++] = '{';
    for (int i = 0; i < n; i++) {
        if (!strcmp(vals[i], DROP))
            continue;
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s\"%s\":%s", o > 1 ? "," : "",
                              keys[i], vals[i]);
    }
    snprintf(buf + o, sizeof buf - o, "}");
    return buf;
}

static bool run_now(const char *line, hh_time_t now)
{
    return hh_sig_process(F->v, line, strlen(line), 7, now, &F->s, &F->r);
}

static bool run(const char *line)
{
    return run_now(line, HH_TIME_NONE);
}

/* Expect a rejection with reason `code` whose detail contains `frag`. */
#define REJECT(line, code, frag)                                          \
    do {                                                                    \
        bool ok_ = run(line);                                               \
        if (ok_)                                                            \
            print_error("accepted: %s\n", line);                          \
        assert_false(ok_);                                                  \
        assert_string_equal(hh_sig_reason_name(F->r.reason), #code);        \
        if (!strstr(F->r.detail, frag))                                     \
            print_error("detail '%s' lacks '%s'\n", F->r.detail, frag);     \
        assert_non_null(strstr(F->r.detail, frag));                         \
    } while (0)

#define ACCEPT(line)                                                        \
    do {                                                                    \
        bool ok_ = run(line);                                               \
        if (!ok_)                                                           \
            print_error("rejected %s: %s\n  %s\n",                         \
                        hh_sig_reason_name(F->r.reason), F->r.detail, line); \
        assert_true(ok_);                                                   \
    } while (0)

static hh_time_t ist(int y, int mo, int d, int h, int mi, int s)
{
    return hh_time_from_ist(hh_date_from_ymd(y, mo, d), HH_TOD(h, mi) + s * HH_NS_PER_S);
}

/* ---- accepted signals ----------------------------------------------------- */

static void test_accept_base(void **state)
{
    (void)state;
    ACCEPT(mk("id", "\"s1\"", NULL));
    assert_string_equal(F->s.id, "s1");
    assert_int_equal(F->s.line, 7);
    assert_int_equal(F->s.ts, ist(2025, 1, 2, 10, 0, 0));
    assert_int_equal(F->s.received_at, F->s.ts);
    assert_int_equal(F->s.valid_until, ist(2025, 1, 2, 15, 30, 0));
    assert_int_equal(F->s.iid, hh_inst_find(F->inst, "NIFTY25JANFUT", 13));
    assert_int_equal(F->s.side, HH_BUY);
    assert_int_equal(F->s.entry, 235000500);
    assert_int_equal(F->s.stop, 234000500);
    assert_int_equal(F->s.ntargets, 3);
    assert_int_equal(F->s.targets[0], 236500500);
    assert_int_equal(F->s.targets[1], 237000000);
    assert_int_equal(F->s.targets[2], 238001000);
    assert_int_equal(F->s.confidence, HH_RATIO_SCALE);
    assert_int_equal(F->s.lots, 0);
    assert_string_equal(F->s.strategy, "");
    assert_string_equal(F->s.correlation_id, "s1");
    assert_int_equal(F->r.reason, HH_SIG_NONE);
}

static void test_accept_optional_fields(void **state)
{
    (void)state;
    ACCEPT(mk("id", "\"A.b_c:d-9\"", "side", "\"SELL\"", "entry", "\"23500.05\"",
              "stop", "23600", "targets", "[23350.05, 23300]",
              "received_at", "\"2025-01-02T04:30:01Z\"", "confidence", "0.85", "lots", "2",
              "valid_until", "\"2025-01-02T12:00:00+05:30\"", "strategy", "\"orb\"",
              "correlation_id", "\"corr-1\"", "extra", "{\"x\":[1,2]}", NULL));
    assert_string_equal(F->s.id, "A.b_c:d-9");
    assert_int_equal(F->s.side, HH_SELL);
    assert_int_equal(F->s.received_at, ist(2025, 1, 2, 10, 0, 1));
    assert_int_equal(F->s.valid_until, ist(2025, 1, 2, 12, 0, 0));
    assert_int_equal(F->s.confidence, 850000000);
    assert_int_equal(F->s.lots, 2);
    assert_int_equal(F->s.ntargets, 2);
    assert_string_equal(F->s.strategy, "orb");
    assert_string_equal(F->s.correlation_id, "corr-1");
}

static void test_accept_numbers_and_nulls(void **state)
{
    (void)state;
    /* exponent tokens, integer tokens, "+" strings, leading zeros in strings,
     * optional fields as null */
    ACCEPT(mk("entry", "2.350005E4", "stop", "\"+23400.05\"", "targets", "[\"023650.05\"]",
              "confidence", "null", "lots", "null", "received_at", "null",
              "valid_until", "null", "strategy", "null", NULL));
    assert_int_equal(F->s.entry, 235000500);
    assert_int_equal(F->s.stop, 234000500);
    assert_int_equal(F->s.targets[0], 236500500);
    assert_int_equal(F->s.confidence, HH_RATIO_SCALE);
    ACCEPT(mk("id", "\"e3\"", "symbol", "\"COARSE\"", "entry", "1e3", "stop", "900",
              "targets", "[1.5e3]", "confidence", "1", NULL));
    assert_int_equal(F->s.entry, 1000 * HH_FX_SCALE);
    assert_int_equal(F->s.targets[0], 1500 * HH_FX_SCALE);
    /* whitespace around the object and inside it */
    ACCEPT(" \t{ \"id\" : \"ws\" , \"ts\":\"2025-01-02T10:00:00+05:30\",\"symbol\":\"RELIANCE\","
           "\"side\":\"BUY\",\"entry\":100,\"stop\":99,\"targets\":[ 101.5 ] }  \r");
}

static void test_accept_now_argument(void **state)
{
    (void)state;
    /* live: received_at defaults to the engine clock, not to ts */
    assert_true(run_now(mk(NULL), ist(2025, 1, 2, 10, 1, 0)));
    assert_int_equal(F->s.received_at, ist(2025, 1, 2, 10, 1, 0));
    /* the field beats the clock */
    assert_true(run_now(mk("id", "\"n2\"", "received_at", "\"2025-01-02T10:00:05+05:30\"",
                           NULL), ist(2025, 1, 2, 11, 0, 0)));
    assert_int_equal(F->s.received_at, ist(2025, 1, 2, 10, 0, 5));
}

/* ---- PARSE_ERROR ------------------------------------------------------------ */

static void test_parse_error(void **state)
{
    static const char *const bad[] = {
        "[1,2]", "123", "\"x\"", "null", "", "{", "{\"id\":\"a\"",
        "{\"id\":\"a\"} x", "{\"id\":\"a\"}{}", "{\"id\":\"a\"},",
        "{'id':'a'}", "{\"id\":'a'}",
        "{\"id\":\"a\x01\"}", "{\"id\":\"a\tb\"}",
        "{\"entry\":1.}", "{\"entry\":01}", "{\"entry\":+1}", "{\"entry\":.5}",
        "{\"entry\":1e}", "{\"entry\":-}", "{\"entry\":0x10}", "{\"entry\":1.5.3}",
        "{\"a\":/*c*/1}", "{\"a\":True}", "{\"a\":nul}", "{\"a\":infinit}",
        "\xef\xbb\xbf{\"id\":\"a\"}",
        "{\"id\":\"\xff\"}", "{\"id\":\"\xc0\x80\"}", "{\"id\":\"\xed\xa0\x80\"}",
        "{\"id\":\"\xe2\x82\"}", "{\"id\":\"a\"}\x80",
        "{\"entry\\u0000x\":1}", "{\"id\":\"a\\x\"}", "{nan:1}",
        "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
        "{\"id\":\"a\",}", "{\"id\" \"a\"}",
    };

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        REJECT(bad[i], PARSE_ERROR, "");
        assert_false(F->r.id_known);
        assert_int_equal(F->r.received_at, HH_TIME_NONE);
    }
    /* the details say what went wrong */
    REJECT("{\"id\":\"a\"} x", PARSE_ERROR, "trailing text after the object at byte 12");
    REJECT("{\"id\":\"a\"}{}", PARSE_ERROR, "trailing text");
    REJECT("{\"id\":\"a\"", PARSE_ERROR, "truncated");
    REJECT("{\"id\":\"a", PARSE_ERROR, "unterminated string");
    REJECT("{'id':1}", PARSE_ERROR, "single quote outside a string at byte 2");
    REJECT("{\"id\":\"a\x01\"}", PARSE_ERROR, "raw control character");
    REJECT("{\"id\":\"\xc0\x80\"}", PARSE_ERROR, "invalid UTF-8 at byte 8");
    REJECT("{\"e\":1.}", PARSE_ERROR, "invalid number");
    REJECT("[1,2]", PARSE_ERROR, "not a JSON object");
    REJECT("{\"a\":1,}", PARSE_ERROR, "invalid JSON");
    /* embedded NUL byte */
    assert_false(hh_sig_process(F->v, "{\"id\":\"a\0\"}", 11, 1, HH_TIME_NONE, &F->s, &F->r));
    assert_int_equal(F->r.reason, HH_SIG_PARSE_ERROR);
    /* a valid signal followed by trailing text */
    {
        char line[1024];

        snprintf(line, sizeof line, "%s trailing", mk(NULL));
        REJECT(line, PARSE_ERROR, "");
    }
    /* live: the dead letter still knows when the line arrived */
    assert_false(run_now("[1]", ist(2025, 1, 2, 10, 0, 0)));
    assert_int_equal(F->r.received_at, ist(2025, 1, 2, 10, 0, 0));
    /* a valid UTF-8 string and \u0000 in a value are fine */
    ACCEPT(mk("strategy", "\"caf\xc3\xa9 \xf0\x9f\xa6\x94\"", NULL));
    REJECT(mk("id", "\"nul\"", "strategy", "\"a\\u0000b\"", NULL), BAD_TYPE, "NUL");
}

/* ---- MISSING_FIELD ---------------------------------------------------------- */

static void test_missing_field(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof base_key / sizeof *base_key; i++) {
        REJECT(mk(base_key[i], DROP, NULL), MISSING_FIELD, base_key[i]);
        assert_non_null(strstr(F->r.detail, "missing"));
        REJECT(mk(base_key[i], "null", NULL), MISSING_FIELD, "is null");
    }
    /* the id is known even when the line is rejected before BAD_TYPE */
    REJECT(mk("id", "\"s1\"", "stop", DROP, NULL), MISSING_FIELD, "'stop' is missing");
    assert_true(F->r.id_known);
    assert_string_equal(F->r.id, "s1");
    assert_int_equal(F->r.received_at, ist(2025, 1, 2, 10, 0, 0));
    REJECT("{}", MISSING_FIELD, "'id' is missing");
    assert_false(F->r.id_known);
}

/* ---- BAD_TYPE --------------------------------------------------------------- */

static void test_bad_type_id(void **state)
{
    static const char *const bad[] = {
        "\"\"", "\"a b\"", "\"a/b\"", "\"caf\xc3\xa9\"", "7", "true", "[\"a\"]",
        "\"0123456789012345678901234567890123456789012345678901234567890123x\"",
    };

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        REJECT(mk("id", bad[i], NULL), BAD_TYPE, "field 'id'");
        assert_false(F->r.id_known);
    }
    /* 64 characters is the longest id */
    ACCEPT(mk("id", "\"0123456789012345678901234567890123456789012345678901234567890123\"", NULL));
}

static void test_bad_type_timestamps(void **state)
{
    (void)state;
    REJECT(mk("ts", "\"2025-01-02T10:00:00\"", NULL), BAD_TYPE, "offset");
    REJECT(mk("ts", "\"2025-01-02\"", NULL), BAD_TYPE, "field 'ts'");
    REJECT(mk("ts", "1735792200", NULL), BAD_TYPE, "field 'ts'");
    REJECT(mk("ts", "\"2025-13-02T10:00:00Z\"", NULL), BAD_TYPE, "field 'ts'");
    REJECT(mk("ts", "\"9999-01-02T10:00:00Z\"", NULL), BAD_TYPE, "year");
    REJECT(mk("received_at", "\"2025-01-02 10:00\"", NULL), BAD_TYPE, "field 'received_at'");
    assert_int_equal(F->r.received_at, HH_TIME_NONE);   /* unknown, not ts */
    REJECT(mk("valid_until", "false", NULL), BAD_TYPE, "field 'valid_until'");
    /* Z, lowercase z, +HHMM and fractions are fine */
    ACCEPT(mk("ts", "\"2025-01-02T04:30:00.250z\"", NULL));
    assert_int_equal(F->s.ts, ist(2025, 1, 2, 10, 0, 0) + 250 * HH_NS_PER_MS);
    ACCEPT(mk("id", "\"t2\"", "ts", "\"2025-01-02T10:00:00+0530\"", NULL));
}

static void test_bad_type_fields(void **state)
{
    (void)state;
    REJECT(mk("symbol", "\"\"", NULL), BAD_TYPE, "field 'symbol'");
    REJECT(mk("symbol", "42", NULL), BAD_TYPE, "field 'symbol'");
    REJECT(mk("side", "\"buy\"", NULL), BAD_TYPE, "field 'side'");
    REJECT(mk("side", "1", NULL), BAD_TYPE, "field 'side'");
    REJECT(mk("strategy", "7", NULL), BAD_TYPE, "field 'strategy'");
    REJECT(mk("correlation_id", "[]", NULL), BAD_TYPE, "field 'correlation_id'");
    {
        char v[200];

        memset(v, 'c', 130);
        v[0] = v[129] = '"';
        v[130] = '\0';                    /* 128 characters */
        REJECT(mk("correlation_id", v, NULL), BAD_TYPE, "longer than 127");
        v[128] = '"';
        v[129] = '\0';                    /* 127 characters */
        ACCEPT(mk("correlation_id", v, NULL));
        assert_int_equal(strlen(F->s.correlation_id), 127);
    }
    REJECT(mk("type", "\"GROUP\"", NULL), BAD_TYPE, "a group signal where a single signal is expected");
    assert_true(F->r.id_known);
    ACCEPT(mk("type", "\"SINGLE\"", NULL));
}

static void test_bad_type_prices(void **state)
{
    static const char *const bad[] = {
        "true", "false", "{}", "{\"v\":1}", "[1]", "\"abc\"", "\"1e3\"", "\" 5\"",
        "\"5 \"", "\"1.\"", "\".5\"", "\"\"", "\"0x10\"", "\"1,5\"", "\"--1\"",
    };

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        REJECT(mk("entry", bad[i], NULL), BAD_TYPE, "field 'entry'");
    /* too large for int64 fixed-point: integer, real and string */
    REJECT(mk("entry", "99999999999999999999", NULL), BAD_TYPE, "out of range");
    REJECT(mk("entry", "-99999999999999999999", NULL), BAD_TYPE, "out of range");
    REJECT(mk("entry", "922337203685478", NULL), BAD_TYPE, "out of range");
    REJECT(mk("stop", "99999999999999999999.5", NULL), BAD_TYPE, "out of range");
    REJECT(mk("stop", "1e400", NULL), BAD_TYPE, "out of range");
    REJECT(mk("targets", "[\"99999999999999999999\"]", NULL), BAD_TYPE, "out of range");
    /* targets: a list of 1-3 prices */
    REJECT(mk("targets", "[]", NULL), BAD_TYPE, "field 'targets'");
    REJECT(mk("targets", "[1,2,3,4]", NULL), BAD_TYPE, "field 'targets'");
    REJECT(mk("targets", "23650.05", NULL), BAD_TYPE, "field 'targets'");
    REJECT(mk("targets", "{\"t1\":1}", NULL), BAD_TYPE, "field 'targets'");
    REJECT(mk("targets", "[23650.05,null]", NULL), BAD_TYPE, "targets[1]");
    REJECT(mk("targets", "[23650.05,true]", NULL), BAD_TYPE, "targets[1]");
}

static void test_bad_type_confidence_lots(void **state)
{
    static const char *const badc[] = {
        "\"0.9\"", "\"NaN\"", "true", "[0.9]", "1.5", "2", "-1", "-0.1", "1.0000000001",
        "-0.0000000001", "1e400", "1.1e0",
    };
    static const char *const badl[] = {
        "0", "-1", "1.0", "1e3", "\"2\"", "true", "2.5", "-0", "1000000001",
        "99999999999999999999",
    };

    (void)state;
    for (size_t i = 0; i < sizeof badc / sizeof *badc; i++)
        REJECT(mk("confidence", badc[i], NULL), BAD_TYPE, "field 'confidence'");
    for (size_t i = 0; i < sizeof badl / sizeof *badl; i++)
        REJECT(mk("lots", badl[i], NULL), BAD_TYPE, "field 'lots'");
    ACCEPT(mk("confidence", "1.0000000000", "lots", "1000000000", NULL));
    assert_int_equal(F->s.confidence, HH_RATIO_SCALE);
    assert_int_equal(F->s.lots, 1000000000);
    ACCEPT(mk("id", "\"c2\"", "confidence", "0.6000000009", NULL));
    assert_int_equal(F->s.confidence, 600000000);   /* truncated toward zero */
}

/* ---- NOT_FINITE ------------------------------------------------------------- */

static void test_not_finite(void **state)
{
    static const char *const nf[] = {
        "NaN", "-NaN", "nan", "+nan", "NAN", "Infinity", "-Infinity", "+Infinity",
        "inf", "-inf", "+INF", "infinity", "iNfInItY",
        "\"NaN\"", "\"nan\"", "\"-Infinity\"", "\"inf\"", "\"+Inf\"", "\"-nan\"",
    };

    (void)state;
    for (size_t i = 0; i < sizeof nf / sizeof *nf; i++) {
        REJECT(mk("entry", nf[i], NULL), NOT_FINITE, "field 'entry'");
        REJECT(mk("stop", nf[i], NULL), NOT_FINITE, "field 'stop'");
        REJECT(mk("targets", nf[i][0] == '"' ? "[23650.05,\"NaN\"]" : "[23650.05,-inf]", NULL),
               NOT_FINITE, "targets[1]");
    }
    REJECT(mk("confidence", "NaN", NULL), NOT_FINITE, "field 'confidence'");
    REJECT(mk("confidence", "-infinity", NULL), NOT_FINITE, "field 'confidence'");
    assert_true(F->r.id_known);
}

/* ---- NON_POSITIVE_PRICE ------------------------------------------------------ */

static void test_non_positive(void **state)
{
    static const char *const np[] = {
        "0", "-0", "0.0", "-0.0", "0e5", "\"0\"", "\"-0\"", "\"+0.00\"", "-23500.05",
        "\"-1\"", "-0.00001", "\"-0.00001\"",
    };

    (void)state;
    for (size_t i = 0; i < sizeof np / sizeof *np; i++)
        REJECT(mk("entry", np[i], NULL), NON_POSITIVE_PRICE, "field 'entry'");
    REJECT(mk("stop", "-5", NULL), NON_POSITIVE_PRICE, "field 'stop': -5 is not positive");
    REJECT(mk("targets", "[23650.05,0]", NULL), NON_POSITIVE_PRICE, "targets[1]");
    /* 0.00001 is positive (exact text), but finer than any tick */
    REJECT(mk("stop", "0.00001", NULL), TICK_MISALIGNED, "more than 4 decimal places");
}

/* ---- DUPLICATE ---------------------------------------------------------------- */

static void test_duplicate(void **state)
{
    (void)state;
    ACCEPT(mk("id", "\"d1\"", NULL));
    REJECT(mk("id", "\"d1\"", NULL), DUPLICATE, "d1");
    assert_true(F->r.id_known);
    REJECT(mk("id", "\"d1\"", NULL), DUPLICATE, "d1");
    /* ids are case-sensitive */
    ACCEPT(mk("id", "\"D1\"", NULL));
    /* registered when the line reaches the check, even if rejected later */
    REJECT(mk("id", "\"d2\"", "symbol", "\"NOPE\"", NULL), UNKNOWN_SYMBOL, "NOPE");
    REJECT(mk("id", "\"d2\"", NULL), DUPLICATE, "d2");
    REJECT(mk("id", "\"d3\"", "received_at", "\"2025-01-04T10:00:00+05:30\"", NULL),
           STALE, "");
    REJECT(mk("id", "\"d3\"", NULL), DUPLICATE, "d3");
    /* not registered when rejected before the check */
    REJECT(mk("id", "\"d4\"", "entry", "-1", NULL), NON_POSITIVE_PRICE, "");
    REJECT(mk("id", "\"d4\"", "entry", "NaN", NULL), NOT_FINITE, "");
    REJECT(mk("id", "\"d4\"", "entry", "true", NULL), BAD_TYPE, "");
    REJECT(mk("id", "\"d4\"", "entry", DROP, NULL), MISSING_FIELD, "");
    ACCEPT(mk("id", "\"d4\"", NULL));
    REJECT(mk("id", "\"d4\"", NULL), DUPLICATE, "d4");
    /* a repeat that would also fail a later check is a DUPLICATE, with
     * nothing of the later check's detail left in the buffer */
    REJECT(mk("id", "\"d4\"", "symbol", "\"NOPE-A-RATHER-LONG-SYMBOL-NAME\"", NULL), DUPLICATE,
           "d4");
    assert_string_equal(F->r.detail, "id 'd4' was already received");
    for (size_t i = strlen(F->r.detail); i < sizeof F->r.detail; i++)
        assert_int_equal(F->r.detail[i], 0);
    REJECT(mk("id", "\"d2\"", "received_at", "\"2025-01-04T10:00:00+05:30\"", NULL),
           DUPLICATE, "d2");
}

static void test_duplicate_many(void **state)
{
    char id[32], line[1024];

    (void)state;
    /* enough ids to grow the table several times */
    for (int i = 0; i < 5000; i++) {
        snprintf(id, sizeof id, "\"many-%d\"", i);
        snprintf(line, sizeof line, "%s", mk("id", id, NULL));
        assert_true(run(line));
    }
    for (int i = 0; i < 5000; i += 7) {
        snprintf(id, sizeof id, "\"many-%d\"", i);
        REJECT(mk("id", id, NULL), DUPLICATE, "many-");
    }
}

/* ---- UNKNOWN_SYMBOL, INSTRUMENT_EXPIRED ----------------------------------------- */

static void test_unknown_symbol(void **state)
{
    (void)state;
    REJECT(mk("symbol", "\"NIFTY25FEBFUT\"", NULL), UNKNOWN_SYMBOL, "NIFTY25FEBFUT");
    REJECT(mk("id", "\"u2\"", "symbol", "\"BARE\"", NULL), UNKNOWN_SYMBOL, "BARE");
    REJECT(mk("id", "\"u3\"", "symbol", "\"nifty25janfut\"", NULL), UNKNOWN_SYMBOL, "");
    ACCEPT(mk("id", "\"u4\"", "symbol", "\"NSE:NIFTY25JANFUT\"", NULL));
}

static void test_instrument_expired(void **state)
{
    (void)state;
    /* expiry day still trades */
    ACCEPT(mk("ts", "\"2025-01-30T10:00:00+05:30\"", NULL));
    REJECT(mk("id", "\"x2\"", "ts", "\"2025-01-31T10:00:00+05:30\"", NULL),
           INSTRUMENT_EXPIRED, "expired on 2025-01-30");
    /* decided on the IST date of received_at, not of ts */
    REJECT(mk("id", "\"x3\"", "ts", "\"2025-01-30T15:00:00+05:30\"",
              "received_at", "\"2025-01-30T18:31:00Z\"", NULL),
           INSTRUMENT_EXPIRED, "");
}

/* ---- TICK_MISALIGNED ------------------------------------------------------------- */

static void test_tick_misaligned(void **state)
{
    (void)state;
    REJECT(mk("stop", "23400.03", NULL), TICK_MISALIGNED,
           "field 'stop': 23400.03 is not a multiple of tick 0.05");
    REJECT(mk("entry", "\"23500.051\"", NULL), TICK_MISALIGNED, "field 'entry'");
    REJECT(mk("targets", "[23650.05,23700.01]", NULL), TICK_MISALIGNED, "targets[1]");
    REJECT(mk("entry", "23500.00001", NULL), TICK_MISALIGNED,
           "23500.00001 has more than 4 decimal places");
    REJECT(mk("entry", "\"23500.050000001\"", NULL), TICK_MISALIGNED, "decimal places");
    /* trailing zeros beyond 4 places are exact */
    ACCEPT(mk("entry", "23500.0500000", NULL));
    REJECT(mk("id", "\"t2\"", "symbol", "\"COARSE\"", "entry", "100.5", "stop", "99",
              "targets", "[110]", NULL), TICK_MISALIGNED, "tick 1.00");
}

/* ---- INVERTED_LEVELS ----------------------------------------------------------- */

static void test_inverted_levels(void **state)
{
    (void)state;
    /* seed scenario 4: T1 < entry for a BUY */
    REJECT(mk("targets", "[23450]", NULL), INVERTED_LEVELS, "BUY needs entry below T1");
    REJECT(mk("stop", "23550", NULL), INVERTED_LEVELS, "BUY needs stop below entry");
    REJECT(mk("stop", "23500.05", NULL), INVERTED_LEVELS, "stop below entry");
    REJECT(mk("targets", "[23650.05,23600]", NULL), INVERTED_LEVELS, "T1 below T2");
    REJECT(mk("targets", "[23650.05,23700,23700]", NULL), INVERTED_LEVELS, "T2 below T3");
    /* SELL: the mirror */
    REJECT(mk("side", "\"SELL\"", NULL), INVERTED_LEVELS, "SELL needs stop above entry");
    REJECT(mk("side", "\"SELL\"", "stop", "23600", "targets", "[23550]", NULL),
           INVERTED_LEVELS, "SELL needs entry above T1");
    REJECT(mk("side", "\"SELL\"", "stop", "23600", "targets", "[23300,23350]", NULL),
           INVERTED_LEVELS, "T1 above T2");
    ACCEPT(mk("side", "\"SELL\"", "stop", "23600.05", "targets", "[23350.05,23300,23200]",
              NULL));
}

/* ---- RR_TOO_LOW --------------------------------------------------------------- */

static void test_rr(void **state)
{
    (void)state;
    /* exactly min_rr passes (the base signal: 150 / 100) */
    ACCEPT(mk(NULL));
    REJECT(mk("id", "\"r2\"", "targets", "[23650]", NULL), RR_TOO_LOW,
           "reward 149.95 / risk 100.00 is below min_rr 1.5");
    /* SELL: 30 / 20 = 1.5 passes, 29.95 / 20 fails */
    ACCEPT(mk("id", "\"r3\"", "side", "\"SELL\"", "entry", "100", "stop", "120",
              "targets", "[70]", "symbol", "\"RELIANCE\"", NULL));
    REJECT(mk("id", "\"r4\"", "side", "\"SELL\"", "entry", "100", "stop", "120",
              "targets", "[70.05]", "symbol", "\"RELIANCE\"", NULL), RR_TOO_LOW, "");
    /* only T1 counts */
    REJECT(mk("id", "\"r5\"", "targets", "[23500.10,25000]", NULL), RR_TOO_LOW, "");
}

/* ---- LOW_CONFIDENCE ----------------------------------------------------------- */

static void test_low_confidence(void **state)
{
    (void)state;
    REJECT(mk("confidence", "0.59", NULL), LOW_CONFIDENCE,
           "confidence 0.59 is below min_confidence 0.6");
    REJECT(mk("confidence", "0", NULL), LOW_CONFIDENCE, "");
    REJECT(mk("confidence", "0.5999999999", NULL), LOW_CONFIDENCE, "");
    ACCEPT(mk("confidence", "0.6", NULL));
    ACCEPT(mk("id", "\"c2\"", "confidence", "6e-1", NULL));
}

/* ---- FUTURE_TIMESTAMP, STALE (the seeds' time-travel bug) ----------------------- */

static void test_future_timestamp(void **state)
{
    (void)state;
    /* seed scenario 5: a signal one hour in the future is rejected, never
     * taken for a fresh one */
    REJECT(mk("ts", "\"2025-01-02T11:00:00+05:30\"",
              "received_at", "\"2025-01-02T10:00:00+05:30\"", NULL),
           FUTURE_TIMESTAMP, "ts is 3600 s after received_at");
    /* the same without received_at: the engine clock decides */
    assert_false(run_now(mk("id", "\"f2\"", "ts", "\"2025-01-02T11:00:00+05:30\"", NULL),
                         ist(2025, 1, 2, 10, 0, 0)));
    assert_string_equal(hh_sig_reason_name(F->r.reason), "FUTURE_TIMESTAMP");
    assert_int_equal(F->r.received_at, ist(2025, 1, 2, 10, 0, 0));
    /* within the clock skew is fine; one millisecond over is not */
    ACCEPT(mk("id", "\"f3\"", "ts", "\"2025-01-02T10:00:02+05:30\"",
              "received_at", "\"2025-01-02T10:00:00+05:30\"", NULL));
    REJECT(mk("id", "\"f4\"", "ts", "\"2025-01-02T10:00:02.001+05:30\"",
              "received_at", "\"2025-01-02T10:00:00+05:30\"", NULL),
           FUTURE_TIMESTAMP, "2.001 s");
}

static void test_stale(void **state)
{
    (void)state;
    ACCEPT(mk("received_at", "\"2025-01-02T10:02:00+05:30\"", NULL));
    REJECT(mk("id", "\"st2\"", "received_at", "\"2025-01-02T10:02:00.001+05:30\"", NULL),
           STALE, "120.001 s old");
    assert_false(run_now(mk("id", "\"st3\"", NULL), ist(2025, 1, 2, 11, 0, 0)));
    assert_string_equal(hh_sig_reason_name(F->r.reason), "STALE");
}

/* ---- MARKET_CLOSED -------------------------------------------------------------- */

static void test_market_closed(void **state)
{
    (void)state;
    REJECT(mk("ts", "\"2025-01-04T10:00:00+05:30\"", NULL), MARKET_CLOSED,
           "NSE is closed on 2025-01-04 (weekend)");
    REJECT(mk("id", "\"m2\"", "symbol", "\"RELIANCE\"", "ts", "\"2025-02-26T10:00:00+05:30\"",
              NULL), MARKET_CLOSED, "(holiday)");
    REJECT(mk("id", "\"m3\"", "ts", "\"2025-01-02T15:30:00+05:30\"", NULL), MARKET_CLOSED,
           "session close 2025-01-02T15:30:00+05:30");
    ACCEPT(mk("id", "\"m4\"", "ts", "\"2025-01-02T15:29:59.999+05:30\"", NULL));
    /* before the open on a trading day: accepted, waits */
    ACCEPT(mk("id", "\"m5\"", "ts", "\"2025-01-02T08:00:00+05:30\"", NULL));
    assert_int_equal(F->s.valid_until, ist(2025, 1, 2, 15, 30, 0));
    /* the IST date counts: 2025-01-03T20:00Z is Saturday in IST */
    REJECT(mk("id", "\"m6\"", "ts", "\"2025-01-03T20:00:00Z\"", NULL), MARKET_CLOSED,
           "weekend");
}

static void test_valid_until(void **state)
{
    (void)state;
    ACCEPT(mk("ts", "\"2025-01-03T09:20:00+05:30\"", NULL));
    assert_int_equal(F->s.valid_until, ist(2025, 1, 3, 15, 30, 0));
    ACCEPT(mk("id", "\"v2\"", "valid_until", "\"2025-01-02T10:30:00+05:30\"", NULL));
    assert_int_equal(F->s.valid_until, ist(2025, 1, 2, 10, 30, 0));
}

/* ---- precedence -------------------------------------------------------------- */

static void test_precedence(void **state)
{
    (void)state;
    /* a string "NaN" entry and a boolean stop: BAD_TYPE pass comes first */
    REJECT(mk("entry", "\"NaN\"", "stop", "true", NULL), BAD_TYPE, "field 'stop'");
    REJECT(mk("entry", "NaN", "stop", "-1", NULL), NOT_FINITE, "field 'entry'");
    REJECT(mk("entry", "-1", "stop", "NaN", NULL), NOT_FINITE, "field 'stop'");
    REJECT(mk("id", "7", "stop", DROP, NULL), MISSING_FIELD, "stop");
    REJECT(mk("targets", "[]", "entry", "Infinity", NULL), BAD_TYPE, "targets");
    REJECT(mk("entry", "0", "confidence", "NaN", NULL), NOT_FINITE, "confidence");
    REJECT(mk("symbol", "\"NOPE\"", "stop", "23400.03", NULL), UNKNOWN_SYMBOL, "");
    REJECT(mk("id", "\"p2\"", "ts", "\"2025-02-03T10:00:00+05:30\"", "stop", "23400.03", NULL),
           INSTRUMENT_EXPIRED, "");
    REJECT(mk("id", "\"p3\"", "stop", "23600.03", NULL), TICK_MISALIGNED, "");
    REJECT(mk("id", "\"p4\"", "stop", "23600", "confidence", "0.1", NULL),
           INVERTED_LEVELS, "");
    REJECT(mk("id", "\"p5\"", "targets", "[23550]", "confidence", "0.1", NULL),
           RR_TOO_LOW, "");
    REJECT(mk("id", "\"p6\"", "confidence", "0.1", "received_at",
              "\"2025-01-02T09:00:00+05:30\"", NULL), LOW_CONFIDENCE, "");
    REJECT(mk("id", "\"p7\"", "ts", "\"2025-01-04T10:00:00+05:30\"",
              "received_at", "\"2025-01-04T09:00:00+05:30\"", NULL), FUTURE_TIMESTAMP, "");
    REJECT(mk("id", "\"p8\"", "ts", "\"2025-01-04T09:00:00+05:30\"",
              "received_at", "\"2025-01-04T10:00:00+05:30\"", NULL), STALE, "");
    REJECT(mk("id", "\"p9\"", "type", "\"GROUP\"", "entry", DROP, NULL), BAD_TYPE, "group");
}

/* ---- dead letters --------------------------------------------------------------- */

static const char *dead_letter(uint64_t lineno, const struct hh_sig_reject *rej)
{
    static char out[4096];
    FILE *f = fmemopen(out, sizeof out, "w");

    assert_non_null(f);
    assert_int_equal(hh_sig_write_dead_letter(f, lineno, rej), HH_OK);
    fclose(f);
    return out;
}

static void test_dead_letter_format(void **state)
{
    (void)state;
    REJECT(mk("id", "\"x\"", "stop", "23400.03", NULL), TICK_MISALIGNED, "");
    assert_string_equal(dead_letter(12, &F->r),
                        "{\"id\":\"x\",\"line\":12,\"reason\":\"TICK_MISALIGNED\","
                        "\"detail\":\"field 'stop': 23400.03 is not a multiple of tick 0.05\","
                        "\"received_at\":\"2025-01-02T10:00:00+05:30\"}\n");
    REJECT("[1,2]", PARSE_ERROR, "");
    assert_string_equal(dead_letter(3, &F->r),
                        "{\"id\":null,\"line\":3,\"reason\":\"PARSE_ERROR\","
                        "\"detail\":\"not a JSON object\",\"received_at\":null}\n");
    /* UTC input, milliseconds: printed in IST */
    REJECT(mk("id", "\"y\"", "ts", "\"2025-01-02T04:30:00.5Z\"", "stop", "1", NULL),
           RR_TOO_LOW, "");
    assert_non_null(strstr(dead_letter(1, &F->r),
                           "\"received_at\":\"2025-01-02T10:00:00.500+05:30\"}"));
}

static void test_dead_letter_escaping(void **state)
{
    struct hh_sig_reject r;

    (void)state;
    hh_sig_reject_set(&r, HH_SIG_SIZE_TOO_SMALL, HH_TIME_NONE,
                      "q\"b\\n\nt\tc\x01 \xc3\xa9 \xff end");
    assert_string_equal(dead_letter(99, &r),
                        "{\"id\":null,\"line\":99,\"reason\":\"SIZE_TOO_SMALL\","
                        "\"detail\":\"q\\\"b\\\\n\\nt\\tc\\u0001 \xc3\xa9 \\ufffd end\","
                        "\"received_at\":null}\n");
    r.id_known = true;
    snprintf(r.id, sizeof r.id, "a:b");
    r.received_at = ist(2025, 1, 2, 9, 15, 0);
    assert_non_null(strstr(dead_letter(1, &r), "{\"id\":\"a:b\",\"line\":1,"));
    assert_non_null(strstr(dead_letter(1, &r), "\"received_at\":\"2025-01-02T09:15:00+05:30\"}"));
    /* untrusted text in details is shown as printable ASCII */
    REJECT(mk("side", "\"\\\"\\u0001\xc3\xa9\"", NULL), BAD_TYPE, "\"\"???\" is not");
}

static void test_misc(void **state)
{
    (void)state;
    assert_true(hh_sig_line_blank("", 0));
    assert_true(hh_sig_line_blank(" \t\r ", 4));
    assert_false(hh_sig_line_blank(" x", 2));
    assert_string_equal(hh_sig_reason_name(HH_SIG_NONE), "NONE");
    assert_string_equal(hh_sig_reason_name(HH_SIG_MARKET_CLOSED), "MARKET_CLOSED");
    assert_string_equal(hh_sig_reason_name(HH_SIG_BROKER_UNAVAILABLE), "BROKER_UNAVAILABLE");
    assert_string_equal(hh_sig_reason_name(HH_SIG_REASON_COUNT), "UNKNOWN");
    hh_sig_validator_free(NULL);
    /* a validator without a calendar gets an empty one (weekends only) */
    {
        struct hh_sig_validator *v = hh_sig_validator_new(F->inst, NULL, &F->rules);
        const char *l = mk("ts", "\"2025-02-26T10:00:00+05:30\"", "symbol", "\"RELIANCE\"", NULL);

        assert_true(hh_sig_process(v, l, strlen(l), 1, HH_TIME_NONE, &F->s, &F->r));
        hh_sig_validator_free(v);
    }
}

/* The fast scanner takes the simple shape and declines everything else. */
static void test_scan_shape(void **state)
{
    static const char *const taken[] = {
        "{}", "{ }", "{\"a\":1}", "{\"a\" :\t[ ] , \"b\":[1, \"x\",null,true,false]}",
        "{\"n\":-0,\"r\":1.5E+3,\"s\":\"a b~\",\"i\":123456789012345678}",
    };
    static const char *const declined[] = {
        " {}", "{} ", "{}\r", "[]", "{\"a\":1,}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}",
        "{\"a\":1e}", "{\"a\":+1}", "{\"a\":NaN}", "{\"a\":nan}", "{\"a\":TRUE}",
        "{\"a\":\"\\n\"}", "{\"a\":\"\xc3\xa9\"}", "{\"a\":\"\x01\"}", "{\"a\":{}}",
        "{\"a\":[[1]]}", "{\"a\":[{}]}", "{\"a\":1234567890123456789}", "{\"a\":1\n}",
        "{\"a\":\"x}", "{\"a\"}", "{\"a\":}", "{'a':1}", "{\"a\":1}{}",
    };
    struct hh_sig__flat fl;
    char many[512] = "{\"t\":[";

    (void)state;
    for (size_t i = 0; i < sizeof taken / sizeof *taken; i++)
        assert_true(hh_sig__scan(taken[i], strlen(taken[i]), &fl));
    for (size_t i = 0; i < sizeof declined / sizeof *declined; i++)
        assert_false(hh_sig__scan(declined[i], strlen(declined[i]), &fl));
    assert_true(hh_sig__scan("{\"n\":-0,\"x\":[2.50,\"7\"]}", 23, &fl));
    assert_int_equal(fl.nm, 2);
    assert_int_equal(fl.m[0].v.kind, HH_SV_INT);
    assert_int_equal(fl.m[0].v.i, 0);
    assert_int_equal(fl.m[1].nitems, 2);
    assert_int_equal(fl.item[0].kind, HH_SV_REAL);
    assert_int_equal(fl.item[0].n, 4);
    assert_memory_equal(fl.item[0].s, "2.50", 4);
    assert_int_equal(fl.item[1].kind, HH_SV_STR);
    for (int i = 0; i < HH_SIG__ITEMS_MAX + 1; i++)   /* more items than it holds */
        strcat(many, i ? ",1" : "1");
    strcat(many, "]}");
    assert_false(hh_sig__scan(many, strlen(many), &fl));
}

/*
 * Every line gives byte-identical results on the fast road and on the full
 * road (gate + json-c): decision, reason, detail, id, received_at, signal.
 */
static void test_two_roads_agree(void **state)
{
    static const char *const lines[] = {
        "{\"id\":\"r1\",\"ts\":\"2025-01-02T10:00:00+05:30\",\"symbol\":\"NIFTY25JANFUT\","
        "\"side\":\"BUY\",\"entry\":23500.05,\"stop\":23400.05,\"targets\":[23650.05,23700]}",
        "{\"id\":\"r2\",\"ts\":\"2025-01-02T10:00:00+05:30\",\"symbol\":\"RELIANCE\","
        "\"side\":\"SELL\",\"entry\":\"1200\",\"stop\":1210.00000,\"targets\":[1.18E3],"
        "\"confidence\":1,\"lots\":3,\"strategy\":\"s\",\"correlation_id\":\"c\","
        "\"valid_until\":\"2025-01-02T14:00:00Z\",\"received_at\":\"2025-01-02T10:00:01+05:30\"}",
        "{\"id\":\"r3\",\"id\":null,\"ts\":1,\"symbol\":\"RELIANCE\"}",
        "{\"id\":\"r4\",\"ts\":\"2025-01-02T10:00:00+05:30\",\"symbol\":\"RELIANCE\","
        "\"side\":\"BUY\",\"entry\":-0,\"stop\":-0.0,\"targets\":[1e999]}",
        "{\"id\":\"r5\",\"ts\":\"2025-01-02T10:00:00+05:30\",\"symbol\":\"RELIANCE\","
        "\"side\":\"BUY\",\"entry\":922337203685477,\"stop\":100,\"targets\":[200]}",
        "{\"id\":\"r6\",\"ts\":\"2025-01-02T10:00:00+05:30\",\"symbol\":\"RELIANCE\","
        "\"side\":\"BUY\",\"entry\":120,\"stop\":100,\"targets\":[150,null]}",
        "{\"id\":\"r7\",\"ts\":\"2025-01-02T10:00:00+05:30\",\"symbol\":\"RELIANCE\","
        "\"side\":\"BUY\",\"entry\":120,\"stop\":100,\"targets\":[150,160,170,180]}",
        "{\"id\":\"r8\",\"ts\":\"2025-01-02T10:00:00+05:30\",\"symbol\":\"RELIANCE\","
        "\"side\":\"BUY\",\"entry\":120,\"stop\":100,\"targets\":[150],"
        "\"confidence\":99999999999999999,\"lots\":-5}",
        "{\"id\":\"r9\",\"ts\":\"2025-01-02T10:00:00+05:30\",\"symbol\":\"RELIANCE\","
        "\"side\":\"BUY\",\"entry\":120,\"stop\":100,\"targets\":[150],\"confidence\":0.59999999999}",
        "{\"id\":\"r10\",\"type\":\"GROUP\",\"ts\":\"2025-01-02T10:00:00+05:30\"}",
        "{\"id\":\"r11\",\"ts\":\"2025-01-02T10:00:00+05:30\",\"symbol\":true,"
        "\"side\":[],\"entry\":false,\"stop\":\"x\",\"targets\":\"150\"}",
        "{\"id\":\"r12\",\"ts\":\"2025-01-02T10:00:00+05:30\",\"symbol\":\"RELIANCE\","
        "\"side\":\"BUY\",\"entry\":120.00001,\"stop\":\"NaN\",\"targets\":[150]}",
        "{\"id\":\"r1\",\"ts\":\"2025-01-02T10:00:00+05:30\",\"symbol\":\"NIFTY25JANFUT\","
        "\"side\":\"BUY\",\"entry\":23500.05,\"stop\":23400.05,\"targets\":[23650.05]}",
        "{}",
        "{\"i\":1,\"t\":2,\"co\":3}",
    };
    struct hh_sig_validator *full = hh_sig_validator_new(F->inst, F->cal, &F->rules);
    struct hh_signal s2;
    struct hh_sig_reject r2;
    int accepted = 0;

    (void)state;
    assert_non_null(full);
    hh_sig__full_road_only(full, true);
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        bool ok = hh_sig_process(F->v, lines[i], strlen(lines[i]), i + 1, HH_TIME_NONE,
                                 &F->s, &F->r);
        struct hh_sig__flat fl;

        assert_true(hh_sig__scan(lines[i], strlen(lines[i]), &fl));   /* fast road taken */
        assert_int_equal(hh_sig_process(full, lines[i], strlen(lines[i]), i + 1, HH_TIME_NONE,
                                         &s2, &r2), ok);
        assert_memory_equal(&F->s, &s2, sizeof s2);
        assert_memory_equal(&F->r, &r2, sizeof r2);
        accepted += ok;
    }
    assert_int_equal(accepted, 2);
    hh_sig_validator_free(full);
}

/* Fill a stretch of stack with a pattern, so that whatever the next call
 * leaves unwritten on its frames shows up as a difference. */
static void __attribute__((noinline)) dirty_stack(unsigned char pattern)
{
    volatile unsigned char junk[32768];

    for (size_t i = 0; i < sizeof junk; i++)   /* volatile: not optimised away */
        junk[i] = pattern;
}

/*
 * Every byte of the outputs is decided by the line, never by what the
 * stack held before: single and group lines, accepted and rejected, each
 * processed by a fresh validator on a stack dirtied with three patterns.
 */
static void test_outputs_fully_defined(void **state)
{
    static const char *const lines[] = {
        "{\"id\":\"d1\",\"ts\":\"2025-01-02T10:00:00+05:30\",\"symbol\":\"NIFTY25JANFUT\","
        "\"side\":\"BUY\",\"entry\":23500.05,\"stop\":23400.05,\"targets\":[23650.05]}",
        "{\"id\":\"d2\",\"ts\":\"2025-01-02T10:00:00+05:30\",\"type\":\"GROUP\","
        "\"legs\":[{\"symbol\":\"NIFTY25JAN23500PE\",\"side\":\"BUY\",\"lots\":1},"
        "{\"symbol\":\"NIFTY25JAN23700PE\",\"side\":\"SELL\",\"lots\":1}]}",
        "{\"id\":\"d3\",\"ts\":\"2025-01-02T10:00:00+05:30\",\"type\":\"GROUP\","
        "\"legs\":[{\"symbol\":\"NIFTY25JAN23700PE\",\"side\":\"SELL\",\"lots\":1}]}",
        "{\"id\":\"d4\",\"ts\":\"2025-01-02T10:00:00+05:30\",\"symbol\":\"RELIANCE\"}",
    };
    static const unsigned char patterns[3] = { 0x00, 0xA5, 0x5A };
    static struct hh_group_signal g[3];
    struct hh_signal s[3];
    struct hh_sig_reject r[3];
    struct hh_instrument in;

    (void)state;
    for (int k = 0; k < 2; k++) {
        memset(&in, 0, sizeof in);
        snprintf(in.symbol, sizeof in.symbol, "NIFTY25JAN%dPE", k ? 23700 : 23500);
        snprintf(in.underlying, sizeof in.underlying, "NIFTY");
        in.exch = HH_EXCH_NSE, in.seg = HH_SEG_OPT, in.type = HH_INST_OPT, in.opt = HH_OPT_PE;
        in.expiry = hh_date_from_ymd(2025, 1, 30);
        in.strike = (k ? 23700 : 23500) * HH_FX_SCALE;
        in.lot_size = 75, in.tick = 500;
        assert_int_equal(hh_inst_add(F->inst, &in, NULL), HH_OK);
    }
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        bool ok[3];

        for (int p = 0; p < 3; p++) {
            struct hh_sig_validator *v = hh_sig_validator_new(F->inst, F->cal, &F->rules);

            memset(&s[p], patterns[p], sizeof s[p]);
            memset(&r[p], patterns[p], sizeof r[p]);
            memset(&g[p], 0, sizeof g[p]);
            dirty_stack(patterns[p]);
            ok[p] = hh_sig_process_any(v, lines[i], strlen(lines[i]), 1, HH_TIME_NONE, &s[p],
                                       &g[p], &r[p]);
            hh_sig_validator_free(v);
        }
        assert_int_equal(ok[0], ok[1]);
        assert_int_equal(ok[0], ok[2]);
        assert_true(ok[0] == (i < 2));
        for (int p = 1; p < 3; p++) {
            assert_memory_equal(&s[0], &s[p], sizeof s[0]);
            assert_memory_equal(&r[0], &r[p], sizeof r[0]);
        }
    }
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_accept_base),
        T(test_accept_optional_fields),
        T(test_accept_numbers_and_nulls),
        T(test_accept_now_argument),
        T(test_parse_error),
        T(test_missing_field),
        T(test_bad_type_id),
        T(test_bad_type_timestamps),
        T(test_bad_type_fields),
        T(test_bad_type_prices),
        T(test_bad_type_confidence_lots),
        T(test_not_finite),
        T(test_non_positive),
        T(test_duplicate),
        T(test_duplicate_many),
        T(test_unknown_symbol),
        T(test_instrument_expired),
        T(test_tick_misaligned),
        T(test_inverted_levels),
        T(test_rr),
        T(test_low_confidence),
        T(test_future_timestamp),
        T(test_stale),
        T(test_market_closed),
        T(test_valid_until),
        T(test_precedence),
        T(test_dead_letter_format),
        T(test_dead_letter_escaping),
        T(test_misc),
        T(test_scan_shape),
        T(test_two_roads_agree),
        T(test_outputs_fully_defined),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
