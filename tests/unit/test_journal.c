/*
 * test_journal.c — the engine's decisions through the journal into a
 * store database: what each event writes, the checkpoint policy, restore
 * (state hash identical), a restart in the middle that carries on exactly
 * like a run that never stopped, duplicate ids after a restart, and a
 * failing database stopping the run.
 *
 * The engine is driven like tests/unit/test_trade.c does: instruments
 * added by hand, the simulated exchange, the trade manager, hand-made
 * signals and bars.  Day: 2025-01-02 (a Thursday); T(m) is 09:15 + m
 * minutes IST.  The exchange is a broker outside the engine: it keeps its
 * state across a restart.
 */
#include "testutil.h"

#include "broker/simex.h"
#include "core/digest.h"
#include "journal/journal.h"
#include "trade/trade.h"

#include <openssl/evp.h>
#include <sqlite3.h>

#define MAXF 64

struct rec {
    struct hh_tm_fill fills[MAXF];
    int nfills, ntrades, nrejected, ndropped, norders;
};

struct env {
    struct hh_instruments *inst;
    struct hh_calendar *cal;
    struct hh_clock clock;
    struct hh_simex *ex;
    struct hh_tm *tm;
    struct hh_tm_config cfg;
    struct hh_simex_config xc;
    struct hh_journal_opts po;
    struct hh_journal *p;
    struct rec rec;
    char db[512];
    hh_iid_t xyz, fut, abc;
};

static hh_time_t T(int minutes)
{
    return hh_time_from_ist(hh_date_from_ymd(2025, 1, 2), HH_TOD(9, 15) + minutes * HH_NS_PER_MIN);
}

static hh_price_t P(double rupees)
{
    return (hh_price_t)(rupees * HH_FX_SCALE + (rupees >= 0 ? 0.5 : -0.5));
}

/* ---- the runner's own sink (what a backtest writes to CSV) ------------------ */

static void on_fill(void *ctx, const struct hh_tm_fill *f)
{
    struct rec *r = ctx;

    if (r->nfills < MAXF)
        r->fills[r->nfills] = *f;
    r->nfills++;
}

static void on_closed(void *ctx, const struct hh_tm_trade *t)
{
    (void)t;
    ((struct rec *)ctx)->ntrades++;
}

static void on_rejected(void *ctx, const struct hh_signal *s, enum hh_sig_reason why,
                        const char *detail)
{
    (void)s, (void)why, (void)detail;
    ((struct rec *)ctx)->nrejected++;
}

static void on_dropped(void *ctx, const struct hh_signal *s, enum hh_tm_drop why, hh_time_t at)
{
    (void)s, (void)why, (void)at;
    ((struct rec *)ctx)->ndropped++;
}

static void on_order(void *ctx, const struct hh_tm_order_event *e)
{
    (void)e;
    ((struct rec *)ctx)->norders++;
}

static hh_iid_t add_inst(struct env *e, const char *sym, hh_qty_t lot)
{
    struct hh_instrument in;
    hh_iid_t id;

    memset(&in, 0, sizeof in);
    snprintf(in.symbol, sizeof in.symbol, "%s", sym);
    snprintf(in.underlying, sizeof in.underlying, "%s", sym);
    in.exch = HH_EXCH_NSE;
    in.seg = lot > 1 ? HH_SEG_FUT : HH_SEG_CASH;
    in.type = lot > 1 ? HH_INST_FUT : HH_INST_EQ;
    in.expiry = lot > 1 ? hh_date_from_ymd(2025, 1, 30) : HH_DATE_NONE;
    in.lot_size = lot;
    in.tick = 500;
    in.known = true;
    assert_int_equal(hh_inst_add(e->inst, &in, &id), HH_OK);
    return id;
}

/* A fresh environment persisting into tmp file `name` (removed first). */
static struct env *env_new(const char *name)
{
    struct env *e = calloc(1, sizeof *e);
    char cmd[2200];

    e->inst = hh_inst_new();
    e->cal = hh_cal_new();
    e->xyz = add_inst(e, "XYZ", 1);
    e->fut = add_inst(e, "FUT", 75);
    e->abc = add_inst(e, "ABC", 1);
    e->cfg = (struct hh_tm_config){
        .capital = 1000000 * HH_RUPEE,
        .risk_per_trade = HH_RATIO_SCALE / 100,
        .size_scale = HH_RATIO_SCALE,
        .max_lots_per_trade = 100,
        .max_open_trades = 2,
        .volume_mult = HH_RATIO_SCALE / 2,
        .volume_lookback = 3,
        .breakeven_after_t1 = true,
        .squareoff_set = true,
        .fees = hh_charges_find("zero"),
    };
    hh_journal_opts_default(&e->po);
    e->po.ckpt_changes = 0;
    e->po.ckpt_interval = 0;   /* every change: what a live run uses */
    e->po.mode = "test";
    snprintf(e->db, sizeof e->db, "%s", tu_write_file(0, name, ""));
    snprintf(cmd, sizeof cmd, "rm -f '%s' '%s-wal' '%s-shm' '%s-lock'", e->db, e->db, e->db,
             e->db);
    assert_int_equal(system(cmd), 0);
    return e;
}

/* Open the store, wrap the sink, create (and optionally restore) the
 * manager, attach. */
static void engine_up(struct env *e, bool restore, struct hh_sig_validator *v,
                      struct hh_journal_restored *res)
{
    struct hh_tm_sink sink = { .fill = on_fill, .closed = on_closed, .rejected = on_rejected,
                               .dropped = on_dropped, .order = on_order, .ctx = &e->rec };
    struct hh_diag d = { { 0 } };

    if (!e->p && hh_journal_open(e->db, &e->po, e->inst, &e->p, &d))
        fail_msg("journal open: %s", d.msg);
    hh_journal_sink(e->p, &sink, &sink);
    e->tm = hh_tm_new(&e->cfg, e->inst, e->cal, &e->clock, hh_simex_broker(e->ex), &sink);
    assert_non_null(e->tm);
    if (restore && hh_journal_restore(e->db, e->tm, v, e->p, res, &d))
        fail_msg("restore: %s", d.msg);
    if (hh_journal_attach(e->p, e->tm, HH_TIME_NONE, &d))
        fail_msg("attach: %s", d.msg);
}

static void env_start(struct env *e)
{
    struct hh_diag d = { { 0 } };

    hh_clock_init(&e->clock, true);
    e->ex = hh_simex_new(e->inst, &e->clock, &e->xc);
    assert_non_null(e->ex);
    if (hh_journal_open(e->db, &e->po, e->inst, &e->p, &d))
        fail_msg("journal open: %s", d.msg);
    assert_int_equal(hh_journal_config(e->p, NULL, HH_TIME_NONE, &d), HH_OK);
    engine_up(e, false, NULL, NULL);
}

/* Stop the engine as a process would (everything stepped is submitted;
 * no finish, no final checkpoint) and come back from the database. */
static void restart(struct env *e, struct hh_journal_restored *res)
{
    struct hh_diag d = { { 0 } };

    assert_int_equal(hh_journal_close(e->p, &d), HH_OK);
    hh_tm_free(e->tm);
    e->p = NULL;
    e->tm = NULL;
    engine_up(e, true, NULL, res);
}

static void env_free(struct env *e)
{
    hh_journal_close(e->p, NULL);
    hh_tm_free(e->tm);
    hh_simex_free(e->ex);
    hh_inst_free(e->inst);
    hh_cal_free(e->cal);
    free(e);
}

static struct hh_signal sig(const char *id, hh_iid_t iid, enum hh_side side, double entry,
                            double stop, double t1, double t2, int64_t lots, int at_minute)
{
    struct hh_signal s;

    memset(&s, 0, sizeof s);
    snprintf(s.id, sizeof s.id, "%s", id);
    snprintf(s.correlation_id, sizeof s.correlation_id, "corr-%s", id);
    s.iid = iid;
    s.side = side;
    s.entry = P(entry);
    s.stop = P(stop);
    s.targets[0] = P(t1);
    s.ntargets = 1;
    if (t2 > 0)
        s.targets[s.ntargets++] = P(t2);
    s.lots = lots;
    s.confidence = HH_RATIO_SCALE;
    s.ts = s.received_at = T(at_minute);
    s.valid_until = hh_time_from_ist(hh_date_from_ymd(2025, 1, 2), HH_TOD(15, 30));
    return s;
}

static void step(struct env *e)
{
    struct hh_diag d = { { 0 } };

    if (hh_journal_step(e->p, e->clock.now) && hh_journal_status(e->p, &d))
        fail_msg("step: %s", d.msg);
}

/* A signal line as the runner handles it: persisted, then fed. */
static void feed(struct env *e, const struct hh_signal *s, uint64_t line)
{
    char raw[128];
    struct hh_signal c = *s;

    c.line = line;
    snprintf(raw, sizeof raw, "{\"id\":\"%s\"}", s->id);
    assert_int_equal(hh_journal_signal(e->p, raw, strlen(raw), line, &c, NULL), HH_OK);
    hh_clock_advance(&e->clock, s->received_at);
    assert_int_equal(hh_tm_signal(e->tm, &c), HH_OK);
    step(e);
}

/*
 * Signals a (XYZ BUY, two targets), b (ABC SELL), d (ABC BUY, expires at
 * T(4) while b holds ABC's slot), c (XYZ BUY at minute 6), a rejected line;
 * 8 minutes of bars on XYZ and ABC.  restart_after >= 0 restarts the
 * engine after that minute's bars.
 */
static void script(struct env *e, int restart_after, struct hh_journal_restored *res)
{
    struct hh_signal a = sig("a", e->xyz, HH_BUY, 100, 98, 102, 104, 2, -3);
    struct hh_signal b = sig("b", e->abc, HH_SELL, 200, 204, 196, 0, 0, -2);
    struct hh_signal c = sig("c", e->xyz, HH_BUY, 100, 98, 103, 0, 1, 6);
    struct hh_signal dd = sig("d", e->abc, HH_BUY, 150, 149, 160, 0, 1, -2);
    struct hh_sig_reject rej;
    static const double xyz[][4] = {
        { 100.5, 101, 99.5, 100.2 }, { 100.3, 101.5, 100.2, 101 }, { 101, 102.5, 100.8, 102.2 },
        { 102.2, 102.4, 99.7, 99.8 }, { 99.8, 100.6, 99.5, 100.5 }, { 100.4, 100.6, 100.1, 100.2 },
        { 100.2, 103.5, 100.1, 103 }, { 103, 103.2, 102, 102.5 },
    };

    dd.valid_until = T(4);
    dd.correlation_id[0] = '\0';   /* defaults to the id */
    env_start(e);
    feed(e, &a, 1);
    feed(e, &b, 2);
    feed(e, &dd, 3);
    hh_sig_reject_set(&rej, HH_SIG_RR_TOO_LOW, T(-2), "reward \"1\" / risk 2");
    rej.id_known = true;
    snprintf(rej.id, sizeof rej.id, "r1");
    assert_int_equal(hh_journal_signal(e->p, "{\"id\":\"r1\"}", 11, 4, NULL, &rej), HH_OK);
    for (int m = 0; m < 8; m++) {
        struct hh_bar bars[2] = {
            { T(m), e->xyz, P(xyz[m][0]), P(xyz[m][1]), P(xyz[m][2]), P(xyz[m][3]), 100 + m },
            { T(m), e->abc, P(200.5 - m * 0.5), P(201 - m * 0.5), P(199 - m * 0.5),
              P(199.8 - m * 0.5), 50 },
        };

        if (m == 6)
            feed(e, &c, 5);
        hh_clock_advance(&e->clock, T(m));
        hh_tm_bars(e->tm, bars, 2);
        step(e);
        if (m == restart_after)
            restart(e, res);
    }
}

static void finish(struct env *e)
{
    struct hh_diag d = { { 0 } };

    if (hh_journal_finish(e->p, e->clock.now, &d))
        fail_msg("finish: %s", d.msg);
}

/* ---- reading the database back -------------------------------------------------- */

static sqlite3 *db_open(const char *path)
{
    sqlite3 *db = NULL;

    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    return db;
}

static int64_t q_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    int64_t v;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Every row of sql, columns separated by '|', rows by '\n' (malloc'd). */
static char *q_dump(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    size_t n = 0, cap = 4096;
    char *out = malloc(cap);

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    out[0] = '\0';
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            const char *t = (const char *)sqlite3_column_text(st, i);
            size_t need = (t ? strlen(t) : 4) + 2;

            while (n + need + 1 > cap)
                out = realloc(out, cap *= 2);
            n += (size_t)sprintf(out + n, "%s%c", t ? t : "NULL",
                                 i + 1 < sqlite3_column_count(st) ? '|' : '\n');
        }
    }
    sqlite3_finalize(st);
    return out;
}

static void expect_dump(sqlite3 *db, const char *sql, const char *want)
{
    char *got = q_dump(db, sql);

    assert_string_equal(got, want);
    free(got);
}

static void sha256_hex(const void *data, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned int len = 0;

    assert_int_equal(EVP_Digest(data, n, md, &len, EVP_sha256(), NULL), 1);
    for (int i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", md[i]);
}

static void state_hash(const struct hh_tm *tm, char out[65])
{
    assert_int_equal(hh_journal_state_hash(tm, out), HH_OK);
}

/* ---- what each event writes -------------------------------------------------------- */

/* m(k, d): the digests the latest checkpoint's manifest names */
#define MANIFEST_CTE                                                                      \
    "WITH RECURSIVE s(b) AS (SELECT state FROM checkpoints WHERE length(state) > 0), "  \
    "m(k, d) AS (SELECT 0, substr(b, 9, 32) FROM s UNION ALL SELECT k + 1, "            \
    "substr((SELECT b FROM s), 9 + 32 * (k + 1), 32) FROM m "                          \
    "WHERE 9 + 32 * (k + 1) < (SELECT length(b) FROM s)) "

/* Only the latest checkpoint keeps its state (a manifest), and the chunks
 * stored are exactly the ones it names. */
static void assert_chunks_exact(const char *path)
{
    sqlite3 *db = db_open(path);

    assert_int_equal(q_int(db, "SELECT count(*) FROM checkpoints WHERE length(state) > 0"), 1);
    assert_int_equal(q_int(db, MANIFEST_CTE "SELECT count(*) FROM checkpoint_chunks WHERE sha "
                           "NOT IN (SELECT d FROM m)"), 0);
    assert_int_equal(q_int(db, MANIFEST_CTE "SELECT count(*) FROM m WHERE d NOT IN "
                           "(SELECT sha FROM checkpoint_chunks)"), 0);
    sqlite3_close(db);
}

static void test_records(void **state)
{
    struct env *e = env_new("records.db");
    struct hh_store_reader *r;
    struct hh_store_verify v;
    struct hh_diag d = { { 0 } };
    char hash[65], *s;
    sqlite3 *db;

    (void)state;
    script(e, -1, NULL);
    finish(e);
    state_hash(e->tm, hash);
    db = db_open(e->db);
    /* one signals row per line, with the decision */
    expect_dump(db, "SELECT signal_id, line, raw, received_at IS NOT NULL, decision, reason, "
                "detail, correlation_id FROM signals ORDER BY id",
                "a|1|{\"id\":\"a\"}|1|ACCEPTED|NULL|NULL|corr-a\n"
                "b|2|{\"id\":\"b\"}|1|ACCEPTED|NULL|NULL|corr-b\n"
                "d|3|{\"id\":\"d\"}|1|ACCEPTED|NULL|NULL|d\n"
                "r1|4|{\"id\":\"r1\"}|1|REJECTED|RR_TOO_LOW|reward \"1\" / risk 2|r1\n"
                "c|5|{\"id\":\"c\"}|1|ACCEPTED|NULL|NULL|corr-c\n");
    /* fills and trades: as many as the engine reported */
    assert_true(e->rec.nfills >= 5);
    assert_int_equal(q_int(db, "SELECT count(*) FROM fills"), e->rec.nfills);
    assert_int_equal(q_int(db, "SELECT count(*) FROM trades"), e->rec.ntrades);
    assert_int_equal(e->rec.ndropped, 1);
    for (int i = 0; i < e->rec.nfills && i < MAXF; i++) {
        char sql[256];

        snprintf(sql, sizeof sql, "SELECT price * 1000 + qty FROM fills WHERE id = %d", i + 1);
        assert_int_equal(q_int(db, sql), e->rec.fills[i].price * 1000 + e->rec.fills[i].qty);
    }
    /* every fill has the execution id of its report */
    assert_int_equal(q_int(db, "SELECT count(*) FROM fills WHERE exec_id IS NULL"), 0);
    /* trade life cycles: one row per transition */
    expect_dump(db, "SELECT trade_key, group_concat(state, '>'), correlation_id FROM "
                "(SELECT * FROM trade_state ORDER BY id) GROUP BY trade_key ORDER BY trade_key",
                "a|WAITING>OPEN>CLOSED|corr-a\n"
                "b|WAITING>OPEN>CLOSED|corr-b\n"
                "c|WAITING|corr-c\n"
                "d|WAITING>DROPPED|d\n");
    expect_dump(db, "SELECT trade_key, detail FROM trade_state WHERE state IN ('CLOSED', "
                "'DROPPED') ORDER BY id", "a|STOP\nd|EXPIRED\nb|TARGET1\n");
    /* orders: one row per order, as many as the engine sent; every fill's
     * order is FILLED; one event per broker report */
    assert_int_equal(q_int(db, "SELECT count(*) FROM audit WHERE kind = 'ORDER_SENT'"),
                     q_int(db, "SELECT count(*) FROM orders"));
    assert_int_equal(q_int(db, "SELECT count(*) FROM orders WHERE state = 'FILLED'"),
                     q_int(db, "SELECT count(DISTINCT order_id) FROM fills"));
    assert_int_equal(q_int(db, "SELECT count(*) FROM order_events WHERE kind = 'FILL'"),
                     e->rec.nfills);
    /* a's stop: placed for 2 at 98, after T1 (MODIFY) 1 at breakeven (100), filled */
    expect_dump(db, "SELECT symbol, side, type, qty, trigger_price, state, terminal FROM orders "
                "WHERE trade_key = 'a' AND type = 'SL-M'",
                "XYZ|SELL|SL-M|1|1000000|FILLED|1\n");
    expect_dump(db, "SELECT json_remove(payload, '$.client_id', '$.order_id') FROM audit "
                "WHERE kind = 'ORDER_SENT' AND correlation_id = 'corr-a' AND payload LIKE "
                "'%SL-M%'", "{\"symbol\":\"XYZ\",\"side\":\"SELL\",\"type\":\"SL-M\","
                "\"qty\":2,\"trigger\":98.00,\"trade_id\":1}\n");
    /* cancelled targets and stops: an event and an audit row each */
    expect_dump(db, "SELECT trade_key, type, state FROM orders WHERE state = 'CANCELLED' "
                "ORDER BY trade_key", "a|LIMIT|CANCELLED\nb|SL-M|CANCELLED\n");
    assert_int_equal(q_int(db, "SELECT count(*) FROM order_events WHERE kind = 'CANCELLED'"), 2);
    /* positions: net per symbol, both flat at the end; realised = the trades' gross */
    expect_dump(db, "SELECT symbol, qty, avg_price FROM positions ORDER BY symbol",
                "ABC|0|0\nXYZ|0|0\n");
    assert_int_equal(q_int(db, "SELECT count(*) FROM positions p WHERE realised != (SELECT "
                           "sum(gross_pnl) FROM trades t WHERE t.symbol = p.symbol)"), 0);
    /* the audit trail, each row with the owner's correlation id */
    expect_dump(db, "SELECT kind, count(*) FROM audit GROUP BY kind ORDER BY kind",
                "CONFIG_LOADED|1\nENGINE_START|1\nENGINE_STOP|1\nORDER_CANCELLED|2\n"
                "ORDER_FILLED|5\nORDER_SENT|7\nSIGNAL_ACCEPTED|4\nSIGNAL_REJECTED|1\n");
    expect_dump(db, "SELECT kind, json_remove(payload, '$.client_id') FROM audit WHERE "
                "correlation_id = 'corr-a' ORDER BY seq LIMIT 3",
                "SIGNAL_ACCEPTED|{\"id\":\"a\",\"line\":1,\"symbol\":\"XYZ\",\"side\":\"BUY\","
                "\"group\":false,\"received_at\":\"2025-01-02T09:12:00+05:30\"}\n"
                "ORDER_SENT|{\"order_id\":1,\"symbol\":\"XYZ\","
                "\"side\":\"BUY\",\"type\":\"MARKET\",\"qty\":2}\n"
                "ORDER_FILLED|{\"order_id\":1,\"trade_id\":1,"
                "\"symbol\":\"XYZ\",\"side\":\"BUY\",\"qty\":2,\"price\":100.30,"
                "\"reason\":\"ENTRY\",\"charges\":0.00}\n");
    /* order audit rows name the order's client id as the orders table has it */
    assert_int_equal(q_int(db, "SELECT count(*) FROM audit a JOIN orders o ON o.order_id = "
                           "json_extract(a.payload, '$.order_id') WHERE a.kind IN "
                           "('ORDER_SENT', 'ORDER_FILLED', 'ORDER_CANCELLED') AND "
                           "json_extract(a.payload, '$.client_id') = o.client_id"),
                     q_int(db, "SELECT count(*) FROM audit WHERE kind IN ('ORDER_SENT', "
                           "'ORDER_FILLED', 'ORDER_CANCELLED')"));
    assert_int_equal(q_int(db, "SELECT count(*) FROM audit WHERE correlation_id = '' AND kind "
                           "NOT IN ('CONFIG_LOADED', 'ENGINE_START', 'ENGINE_STOP')"), 0);
    /* checkpoints: every changing step (this policy), the last = the final state */
    assert_int_equal(q_int(db, "SELECT count(*) FROM checkpoints"),
                     (int64_t)hh_journal_stats(e->p)->checkpoints);
    s = q_dump(db, "SELECT state_hash FROM checkpoints ORDER BY seq DESC, id DESC LIMIT 1");
    assert_int_equal(strncmp(s, hash, 64), 0);
    free(s);
    /* the latest keeps its state, its chunks hash to its state hash */
    assert_chunks_exact(e->db);
    assert_int_equal(q_int(db, "SELECT id FROM checkpoints WHERE length(state) > 0"),
                     q_int(db, "SELECT id FROM checkpoints ORDER BY seq DESC, id DESC LIMIT 1"));
    assert_true(q_int(db, "SELECT count(*) FROM checkpoint_chunks") > 3);
    {
        sqlite3_stmt *st;
        char root[65];

        assert_int_equal(sqlite3_prepare_v2(db, "SELECT state, state_hash FROM checkpoints "
                                            "WHERE length(state) > 0", -1, &st, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_memory_equal(sqlite3_column_blob(st, 0), "HHCKMAN1", 8);
        sha256_hex((const char *)sqlite3_column_blob(st, 0) + 8,
                   (size_t)sqlite3_column_bytes(st, 0) - 8, root);
        assert_string_equal(root, (const char *)sqlite3_column_text(st, 1));
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    /* the chain verifies */
    assert_int_equal(hh_store_reader_open(e->db, &r, &d), HH_OK);
    assert_int_equal(hh_store_audit_verify(r, &v, &d), HH_OK);
    assert_true(v.ok);
    hh_store_reader_close(r);
    env_free(e);
}

/* ---- checkpoints chunk by chunk --------------------------------------------------- */

/* Bytes the next step's checkpoint writes (new chunks and the manifest). */
static uint64_t ckpt_bytes(struct env *e)
{
    return hh_journal_stats(e->p)->checkpoint_bytes;
}

static void tamper(const char *path, const char *sql)
{
    sqlite3 *db;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void expect_restore_refused(struct env *e, const char *why)
{
    struct hh_tm_sink sink = { .ctx = NULL };
    struct hh_diag d = { { 0 } };
    struct hh_tm *tm = hh_tm_new(&e->cfg, e->inst, e->cal, &e->clock, hh_simex_broker(e->ex),
                                 &sink);

    assert_int_equal(hh_journal_restore(e->db, tm, NULL, NULL, NULL, &d), HH_ETAMPER);
    assert_non_null(strstr(d.msg, why));
    hh_tm_free(tm);
}

/* One more waiting trade among hundreds writes a few chunks, not the
 * state; a restart restores the state from its chunks and carries on with
 * them; a chunk changed or lost is refused. */
static void test_chunked_checkpoints(void **state)
{
    struct env *e = env_new("chunks.db");
    struct hh_journal_restored res;
    char id[16], before[65];
    unsigned char *snap;
    size_t nsnap;
    uint64_t b0;

    (void)state;
    env_start(e);
    for (int i = 0; i < 400; i++) {
        struct hh_signal s;

        snprintf(id, sizeof id, "w%d", i);
        s = sig(id, e->xyz, HH_BUY, 200, 190, 220, 0, 1, -3);
        feed(e, &s, (uint64_t)i + 1);
    }
    assert_int_equal(hh_tm_snapshot(e->tm, &snap, &nsnap), HH_OK);
    free(snap);
    assert_true(nsnap > 400 * 600);
    {
        struct hh_signal s = sig("one-more", e->xyz, HH_BUY, 200, 190, 220, 0, 1, -3);

        b0 = ckpt_bytes(e);
        feed(e, &s, 401);
    }
    /* a handful of chunks (a trade, the sections around it) and a manifest */
    assert_true(ckpt_bytes(e) - b0 < nsnap / 10);
    assert_int_equal(hh_store_flush(hh_journal_store(e->p), NULL), HH_OK);
    assert_chunks_exact(e->db);
    /* restored from its chunks, the same state; and the store's chunks
     * stay exactly the latest checkpoint's as the engine goes on */
    state_hash(e->tm, before);
    restart(e, &res);
    assert_true(res.found);
    assert_string_equal(res.state_hash, before);
    {
        struct hh_signal s = sig("after", e->abc, HH_SELL, 100, 110, 90, 0, 1, -3);

        feed(e, &s, 402);
    }
    finish(e);
    hh_journal_close(e->p, NULL);
    e->p = NULL;
    assert_chunks_exact(e->db);
    /* a chunk changed: refused, naming it */
    tamper(e->db, "UPDATE checkpoint_chunks SET bytes = X'00' || substr(bytes, 2) "
                  "WHERE rowid = (SELECT max(rowid) FROM checkpoint_chunks)");
    expect_restore_refused(e, "does not match its SHA-256");
    tamper(e->db, "DELETE FROM checkpoint_chunks WHERE rowid = "
                  "(SELECT max(rowid) FROM checkpoint_chunks)");
    expect_restore_refused(e, "is missing");
    env_free(e);
}

/* ---- restore: the same state hash --------------------------------------------------- */

static void test_restore_identical(void **state)
{
    struct env *e = env_new("restore.db");
    struct hh_tm_sink sink = { .ctx = NULL };
    struct hh_journal_restored res;
    struct hh_diag d = { { 0 } };
    unsigned char *a, *b;
    size_t na, nb;
    struct hh_tm *tm;

    (void)state;
    script(e, -1, NULL);
    finish(e);
    assert_int_equal(hh_tm_snapshot(e->tm, &a, &na), HH_OK);
    /* a fresh manager, restored from the database only (no journal:
     * a reader; the writer may still be open) */
    tm = hh_tm_new(&e->cfg, e->inst, e->cal, &e->clock, hh_simex_broker(e->ex), &sink);
    assert_int_equal(hh_journal_restore(e->db, tm, NULL, NULL, &res, &d), HH_OK);
    assert_true(res.found);
    assert_int_equal(res.at, e->clock.now);
    assert_int_equal(hh_tm_snapshot(tm, &b, &nb), HH_OK);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
    free(a);
    free(b);
    hh_tm_free(tm);
    /* a tampered state hash is refused before anything is restored */
    hh_journal_close(e->p, NULL);
    e->p = NULL;
    {
        sqlite3 *db;
        char cmd[700];

        assert_int_equal(sqlite3_open(e->db, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, "UPDATE checkpoints SET state_hash = "
                                      "'00000000000000000000000000000000000000000000000000"
                                      "00000000000000' WHERE id = (SELECT max(id) FROM "
                                      "checkpoints)", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        tm = hh_tm_new(&e->cfg, e->inst, e->cal, &e->clock, hh_simex_broker(e->ex), &sink);
        assert_int_equal(hh_journal_restore(e->db, tm, NULL, NULL, NULL, &d), HH_ETAMPER);
        assert_non_null(strstr(d.msg, "state hash"));
        hh_tm_free(tm);
        /* and a missing database is the reader's error */
        snprintf(cmd, sizeof cmd, "%s.none", e->db);
        tm = hh_tm_new(&e->cfg, e->inst, e->cal, &e->clock, hh_simex_broker(e->ex), &sink);
        assert_int_not_equal(hh_journal_restore(cmd, tm, NULL, NULL, NULL, &d), HH_OK);
        assert_non_null(strstr(d.msg, "no such database"));
        hh_tm_free(tm);
    }
    env_free(e);
}

/* ---- a restart in the middle carries on like a run that never stopped --------------- */

static const char *const same_tables[] = {
    "SELECT signal_id, line, raw, received_at, decision, reason, detail, correlation_id "
    "FROM signals ORDER BY id",
    "SELECT ts, order_id, trade_id, signal_id, symbol, side, qty, price, reason, charges, "
    "exec_id FROM fills ORDER BY id",
    "SELECT trade_id, signal_id, symbol, side, qty, entry_ts, entry_price, exit_ts, "
    "avg_exit_price, exit_reason, gross_pnl, charges, net_pnl, r_multiple_x100 FROM trades "
    "ORDER BY id",
    "SELECT trade_key, state, at, detail, correlation_id FROM trade_state ORDER BY id",
    "SELECT client_id, order_id, trade_key, symbol, side, type, qty, limit_price, "
    "trigger_price, state, terminal, created_at, updated_at FROM orders ORDER BY client_id",
    "SELECT order_id, client_id, kind, at, qty, price, filled, leaves, exec_id, reason "
    "FROM order_events ORDER BY id",
    "SELECT symbol, qty, avg_price, realised, updated_at FROM positions ORDER BY symbol",
    "SELECT at, kind, correlation_id, payload FROM audit WHERE kind NOT IN "
    "('ENGINE_START', 'ENGINE_STOP') ORDER BY seq",
    "SELECT seq, at, state_hash FROM checkpoints ORDER BY seq DESC, id DESC LIMIT 1",
};

static void test_restart_carries_on(void **state)
{
    (void)state;
    for (int at = 0; at < 8; at++) {
        struct env *control = env_new("control.db"), *e = env_new("restarted.db");
        struct hh_journal_restored res;
        char ha[65], hb[65];
        sqlite3 *da, *db;

        memset(&res, 0, sizeof res);
        script(control, -1, NULL);
        script(e, at, &res);
        finish(control);
        finish(e);
        assert_true(res.found);
        assert_int_equal(res.at, T(at));
        assert_int_equal(e->rec.nfills, control->rec.nfills);
        assert_int_equal(e->rec.ntrades, control->rec.ntrades);
        state_hash(control->tm, ha);
        state_hash(e->tm, hb);
        assert_string_equal(ha, hb);
        da = db_open(control->db);
        db = db_open(e->db);
        for (size_t k = 0; k < sizeof same_tables / sizeof *same_tables; k++) {
            char *x = q_dump(da, same_tables[k]), *y = q_dump(db, same_tables[k]);

            if (strcmp(x, y))
                fail_msg("restart after minute %d: %s differs:\n--- never stopped\n%s"
                         "--- restarted\n%s", at, same_tables[k], x, y);
            free(x);
            free(y);
        }
        /* the restart is on record, with the state it came back to */
        assert_int_equal(q_int(db, "SELECT count(*) FROM audit WHERE kind = 'ENGINE_START'"), 2);
        {
            char sql[256], *s;

            snprintf(sql, sizeof sql, "SELECT payload FROM audit WHERE kind = 'ENGINE_START' "
                     "ORDER BY seq DESC LIMIT 1");
            s = q_dump(db, sql);
            assert_non_null(strstr(s, res.state_hash));
            free(s);
        }
        sqlite3_close(da);
        sqlite3_close(db);
        env_free(control);
        env_free(e);
    }
}

/* ---- idempotency: a signal id seen before the restart is DUPLICATE after --------------- */

static void test_duplicate_after_restore(void **state)
{
    struct env *e = env_new("dup.db");
    struct hh_sig_rules rules;
    struct hh_sig_validator *v;
    struct hh_journal_restored res;
    struct hh_tm_sink sink = { .ctx = NULL };
    struct hh_diag d = { { 0 } };
    struct hh_signal s;
    struct hh_sig_reject rej;
    struct hh_tm *tm;
    const char *line = "{\"id\":\"%s\",\"ts\":\"2025-01-02T09:20:00+05:30\",\"symbol\":\"XYZ\","
                       "\"side\":\"BUY\",\"entry\":\"100\",\"stop\":\"98\",\"targets\":[\"104\"]}";
    char buf[256];

    (void)state;
    memset(&rules, 0, sizeof rules);
    rules.max_live_age = 1000 * HH_NS_PER_MIN;
    script(e, -1, NULL);
    finish(e);
    v = hh_sig_validator_new(e->inst, e->cal, &rules);
    tm = hh_tm_new(&e->cfg, e->inst, e->cal, &e->clock, hh_simex_broker(e->ex), &sink);
    assert_int_equal(hh_journal_restore(e->db, tm, v, NULL, &res, &d), HH_OK);
    assert_int_equal(res.signal_ids, 5);   /* a b c d and the rejected r1 */
    for (int k = 0; k < 3; k++) {
        static const char *const ids[] = { "a", "r1", "new-1" };

        snprintf(buf, sizeof buf, line, ids[k]);
        hh_sig_process(v, buf, strlen(buf), 10 + (uint64_t)k, HH_TIME_NONE, &s, &rej);
        if (k < 2)
            assert_string_equal(hh_sig_reason_name(rej.reason), "DUPLICATE");
        else
            assert_string_not_equal(hh_sig_reason_name(rej.reason), "DUPLICATE");
    }
    /* the registration itself */
    assert_int_equal(hh_sig_validator_seen(v, ""), HH_EINVAL);
    memset(buf, 'x', 65);
    buf[65] = '\0';
    assert_int_equal(hh_sig_validator_seen(v, buf), HH_EINVAL);
    buf[64] = '\0';
    assert_int_equal(hh_sig_validator_seen(v, buf), HH_OK);
    assert_int_equal(hh_sig_validator_seen(v, buf), HH_OK);
    hh_sig_validator_free(v);
    hh_tm_free(tm);
    env_free(e);
}

/* ---- the checkpoint policy ------------------------------------------------------------ */

static uint64_t checkpoints_with(uint64_t changes, int64_t interval)
{
    struct env *e = env_new("policy.db");
    uint64_t n;
    sqlite3 *db;

    e->po.ckpt_changes = changes;
    e->po.ckpt_interval = interval;
    script(e, -1, NULL);
    finish(e);
    n = hh_journal_stats(e->p)->checkpoints;
    db = db_open(e->db);
    assert_int_equal(q_int(db, "SELECT count(*) FROM checkpoints"), (int64_t)n);
    sqlite3_close(db);
    env_free(e);
    return n;
}

static void test_checkpoint_policy(void **state)
{
    uint64_t every, minute, five, never;

    (void)state;
    every = checkpoints_with(0, 0);
    minute = checkpoints_with(0, HH_NS_PER_MIN);
    five = checkpoints_with(5, 0);
    never = checkpoints_with(1000000, 0);
    /* 4 signal steps at T(-3), T(-2), T(-2) and T(6), 8 bar steps: each
     * changes the engine (volume history at least) */
    assert_int_equal(every, 12 + 1);
    /* at most one per engine-minute: T(-3), T(-2), T(0)..T(7), + final */
    assert_int_equal(minute, 10 + 1);
    assert_true(five < every && five >= 2);
    assert_int_equal(never, 1);   /* only the final one, always written */
}

/* ---- a database that fails stops the run ------------------------------------------------- */

static void test_full_database_stops(void **state)
{
    struct env *e = env_new("full.db");
    struct hh_signal a;
    struct hh_diag d = { { 0 } };
    struct hh_store_reader *r;
    struct hh_store_verify v;
    char durable[65] = "";
    int rc = HH_OK, m;

    (void)state;
    e->po.max_pages = 48;   /* the schema and a little more */
    env_start(e);
    a = sig("a", e->xyz, HH_BUY, 100, 98, 102, 104, 2, -3);
    feed(e, &a, 1);
    for (m = 0; m < 5000 && rc == HH_OK; m++) {
        struct hh_bar b = { T(m % 300), e->xyz, P(100.5), P(101), P(99.5), P(100.2), 100 + m };

        hh_clock_advance(&e->clock, T(m % 300));
        hh_tm_bars(e->tm, &b, 1);
        rc = hh_journal_step(e->p, e->clock.now);
        /* wait for the commit (else the writer may take every step in one
         * transaction, which then fails whole): the state it holds is durable */
        if (rc == HH_OK && hh_store_flush(hh_journal_store(e->p), NULL) == HH_OK)
            state_hash(e->tm, durable);
        else if (rc == HH_OK)
            rc = hh_journal_status(e->p, NULL);
    }
    assert_true(m > 1 && durable[0]);
    assert_int_equal(rc, HH_EFULL);
    assert_int_equal(hh_journal_status(e->p, &d), HH_EFULL);
    assert_non_null(strstr(d.msg, "never trade without memory"));
    assert_non_null(strstr(d.msg, "full"));
    /* latched: every later call says so */
    assert_int_equal(hh_journal_step(e->p, e->clock.now), HH_EFULL);
    assert_int_equal(hh_journal_finish(e->p, e->clock.now, NULL), HH_EFULL);
    assert_int_equal(hh_journal_close(e->p, NULL), HH_EFULL);
    e->p = NULL;
    /* what was committed is consistent, and restorable */
    assert_int_equal(hh_store_reader_open(e->db, &r, &d), HH_OK);
    assert_int_equal(hh_store_audit_verify(r, &v, &d), HH_OK);
    assert_true(v.ok);
    hh_store_reader_close(r);
    hh_tm_free(e->tm);
    {
        struct hh_tm_sink sink = { .ctx = NULL };
        struct hh_journal_restored res;

        e->tm = hh_tm_new(&e->cfg, e->inst, e->cal, &e->clock, hh_simex_broker(e->ex), &sink);
        assert_int_equal(hh_journal_restore(e->db, e->tm, NULL, NULL, &res, &d), HH_OK);
        assert_true(res.found);
        assert_string_equal(res.state_hash, durable);   /* the last acknowledged step */
    }
    env_free(e);
}

/* ---- what the starts recorded: the owner (first start), the last build, the config ------- */

static void test_history(void **state)
{
    static const char yaml[] = "capital: 500000\nrisk: {min_rr: 2}\n";
    struct env *e = env_new("hist.db");
    struct hh_journal_history h;
    struct hh_journal_restored res;
    struct hh_diag d = { { 0 } };
    char sha[HH_DIGEST_HEX];

    (void)state;
    assert_int_equal(hh_journal_history(e->db, &h, &d), HH_OK);
    assert_false(h.started);   /* no file yet: a new database */
    e->po.mode = "paper";
    e->po.account = "ZX1234";
    e->po.capital = P(500000);
    e->po.build = "first-build";
    env_start(e);
    assert_int_equal(hh_journal_config_text(e->p, "c.yaml", yaml, strlen(yaml), "capital",
                                            HH_TIME_NONE, &d), HH_OK);
    e->po.account = "other";   /* a later start does not change the owner */
    e->po.capital = P(900000);
    e->po.build = "second-build";
    restart(e, &res);
    assert_int_equal(hh_journal_close(e->p, &d), HH_OK);
    e->p = NULL;
    assert_int_equal(hh_journal_history(e->db, &h, &d), HH_OK);
    assert_true(h.started);
    assert_string_equal(h.mode, "paper");
    assert_string_equal(h.account, "ZX1234");
    assert_int_equal(h.capital, P(500000));
    assert_string_equal(h.build, "second-build");
    assert_int_equal(hh_digest_hex(yaml, strlen(yaml), sha), HH_OK);
    assert_string_equal(h.config_sha256, sha);
    assert_non_null(h.config_text);
    assert_int_equal(h.config_len, strlen(yaml));
    assert_string_equal(h.config_text, yaml);
    hh_journal_history_free(&h);
    env_free(e);
}

/* An unwritable location is refused at open, with the store's message. */
static void test_open_refused(void **state)
{
    struct hh_journal *p = (struct hh_journal *)1;
    struct hh_instruments *inst = hh_inst_new();
    struct hh_diag d = { { 0 } };
    const char *f = tu_write_file(1, "not-a-db.db", "this is not a database\n");

    (void)state;
    assert_int_not_equal(hh_journal_open(f, NULL, inst, &p, &d), HH_OK);
    assert_null(p);
    assert_non_null(strstr(d.msg, "not a SQLite database"));
    assert_int_not_equal(hh_journal_open("/nonexistent-dir/x.db", NULL, inst, &p, &d), HH_OK);
    assert_null(p);
    assert_non_null(strstr(d.msg, "/nonexistent-dir/x.db"));
    assert_int_equal(hh_journal_close(NULL, NULL), HH_OK);
    hh_inst_free(inst);
}

/* A database whose latest checkpoint is a version-6 snapshot (before the
 * candle builder's section), stored as one blob as before chunks: it
 * restores, and the restored manager carries on (written as version 7). */
static void test_restore_version_6(void **state)
{
    struct env *e = env_new("v6.db");
    struct hh_tm_sink sink = { .ctx = NULL };
    struct hh_journal_restored res;
    struct hh_diag d = { { 0 } };
    unsigned char *a, *b;
    size_t na, nb;
    uint32_t v6 = 6;
    char hex[HH_DIGEST_HEX];
    sqlite3 *db;
    sqlite3_stmt *st;
    struct hh_tm *tm;

    (void)state;
    script(e, -1, NULL);
    finish(e);
    hh_journal_close(e->p, NULL);
    e->p = NULL;
    assert_int_equal(hh_tm_snapshot(e->tm, &a, &na), HH_OK);
    memcpy(a + 8, &v6, 4);
    na -= 4;   /* version 7's last word: the candle section's flag (no builder here) */
    assert_int_equal(hh_digest_hex(a, na, hex), HH_OK);
    assert_int_equal(sqlite3_open(e->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "UPDATE checkpoints SET state = ?1, state_hash = "
                                        "?2, blob_sha256 = ?2 WHERE id = (SELECT max(id) "
                                        "FROM checkpoints)", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_blob(st, 1, a, (int)na, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, hex, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
    tm = hh_tm_new(&e->cfg, e->inst, e->cal, &e->clock, hh_simex_broker(e->ex), &sink);
    assert_int_equal(hh_journal_restore(e->db, tm, NULL, NULL, &res, &d), HH_OK);
    assert_true(res.found);
    assert_false(res.candles_dropped);
    assert_int_equal(hh_tm_snapshot(tm, &b, &nb), HH_OK);
    assert_int_equal(nb, na + 4);
    assert_memory_equal(b + 12, a + 12, na - 12);
    free(a);
    free(b);
    hh_tm_free(tm);
    env_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_records),
        cmocka_unit_test(test_restore_identical),
        cmocka_unit_test(test_restore_version_6),
        cmocka_unit_test(test_chunked_checkpoints),
        cmocka_unit_test(test_restart_carries_on),
        cmocka_unit_test(test_duplicate_after_restore),
        cmocka_unit_test(test_checkpoint_policy),
        cmocka_unit_test(test_full_database_stops),
        cmocka_unit_test(test_open_refused),
        cmocka_unit_test(test_history),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);

    tu_cleanup();
    return rc;
}
