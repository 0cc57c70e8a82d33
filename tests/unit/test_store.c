/*
 * test_store.c — the store: records of every kind in and out, acks only
 * after commit and in order, atomic groups never split, back-pressure
 * without loss, sequence and audit chain continuing across reopen,
 * migrations from an older schema, refusal of newer / foreign / non-SQLite
 * files, one writer per database, a full disk (max_page_count) failing the
 * store without acknowledging what was lost, a read-only directory, the
 * audit hash's known answers, tampering caught at the exact record.
 */
#include "testutil.h"

#include "store/store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define T0 (1735790100LL * HH_NS_PER_S)   /* 2025-01-02T09:25:00+05:30 */

/* A fresh path under the per-process temp directory (files removed). */
static const char *db_path(char *buf, size_t cap, const char *name)
{
    const char *dir = tu_write_file(7, ".keep", "");
    char cmd[1200];

    assert_non_null(dir);
    snprintf(buf, cap, "/tmp/hh-unit-%d/%s", (int)getpid(), name);
    snprintf(cmd, sizeof cmd, "rm -f '%s' '%s-wal' '%s-shm' '%s-lock'", buf, buf, buf, buf);
    assert_int_equal(system(cmd), 0);
    return buf;
}

/* Run SQL on a raw connection (the tests' "attacker" and fixture maker). */
static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db;
    char *err = NULL;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", sql, err);
    sqlite3_close(db);
}

static long long raw_int(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    long long v = -1;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

static struct hh_store *open_ok(const char *path, const struct hh_store_opts *o)
{
    struct hh_store *st = NULL;
    struct hh_diag d = { { 0 } };

    if (hh_store_open(path, o, &st, &d) != HH_OK)
        fail_msg("open %s: %s", path, d.msg);
    return st;
}

static void close_ok(struct hh_store *st)
{
    struct hh_diag d = { { 0 } };

    if (hh_store_close(st, &d) != HH_OK)
        fail_msg("close: %s", d.msg);
}

static void audit(struct hh_store *st, enum hh_audit_kind k, const char *corr,
                  const char *payload, uint64_t token)
{
    struct hh_store_audit a = { .at = T0, .kind = k, .correlation_id = corr,
                                .payload = payload };

    assert_int_equal(hh_store_put_audit(st, &a, token), HH_OK);
}

static struct hh_store_verify verify(const char *path)
{
    struct hh_store_reader *r;
    struct hh_store_verify v;
    struct hh_diag d = { { 0 } };

    if (hh_store_reader_open(path, &r, &d) != HH_OK)
        fail_msg("reader %s: %s", path, d.msg);
    assert_int_equal(hh_store_audit_verify(r, &v, &d), HH_OK);
    hh_store_reader_close(r);
    return v;
}

/* Acks collected by the callback (writer thread; read after flush). */
struct acks {
    uint64_t token[64];
    uint64_t seq[64];
    int n;
};

static void on_ack(void *ctx, uint64_t token, uint64_t seq)
{
    struct acks *a = ctx;

    if (a->n < 64) {
        a->token[a->n] = token;
        a->seq[a->n] = seq;
        a->n++;
    }
}

/* ---- the audit hash ------------------------------------------------------------------ */

static void test_audit_hash_known_answer(void **state)
{
    char h1[HH_STORE_HASH_HEX], h2[HH_STORE_HASH_HEX];
    const char *p = "{\"id\":\"sig-1\"}";

    (void)state;
    /* Reference values from an independent implementation (Python hashlib
     * + struct.pack, as in docs/STORE.md). */
    assert_int_equal(hh_store_audit_hash(1, 1735790100000000000LL, "SIGNAL_ACCEPTED", "sig-1",
                                         5, p, strlen(p), hh_store_genesis_hash, h1), HH_OK);
    assert_string_equal(h1, "8c00c6208528989bf5d1e02ca5ae17f8343bc2847754946efa326cdd35201946");
    assert_int_equal(hh_store_audit_hash(2, -5, "ORDER_SENT", "", 0, "{}", 2, h1, h2), HH_OK);
    assert_string_equal(h2, "6698f182f0dceb2fc4df6495b55c0c9c92f96823d9beaf165407436b6e8109fb");
    /* A malformed previous hash is refused, not hashed. */
    assert_int_equal(hh_store_audit_hash(2, 0, "X", "", 0, "", 0, "abc", h2), HH_EINVAL);
    assert_int_equal(hh_store_audit_hash(2, 0, "X", "", 0, "", 0,
                     "8C00C6208528989BF5D1E02CA5AE17F8343BC2847754946EFA326CDD35201946", h2),
                     HH_EINVAL);
}

/* ---- every record kind, and the restore reads ------------------------------------------- */

static void put_one_of_each(struct hh_store *st)
{
    static const char blob[] = "engine state v1";
    struct hh_store_signal sg = { .signal_id = "sig-1", .line = 1, .raw = "{\"id\":\"sig-1\"}",
                                  .received_at = T0, .accepted = true,
                                  .correlation_id = "sig-1" };
    struct hh_store_signal rj = { .signal_id = "sig-2", .line = 2, .raw = "{\"id\":\"sig-2\"}",
                                  .received_at = HH_TIME_NONE, .accepted = false,
                                  .reason = HH_SIG_RR_TOO_LOW, .detail = "rr 0.5 < 1.5" };
    struct hh_store_signal bad = { .line = 3, .raw = "{not json", .received_at = T0,
                                   .reason = HH_SIG_PARSE_ERROR };
    struct hh_store_order o1 = { .client_id = "T1L0A0", .order_id = 101, .trade_key = "sig-1",
                                 .symbol = "NIFTY", .side = HH_BUY, .type = HH_ORD_LIMIT,
                                 .qty = 50, .limit = 220005000, .state = HH_OS_OPEN, .at = T0 };
    struct hh_store_order o2 = o1;
    struct hh_store_trade_state ts = { .trade_key = "sig-1", .state = HH_TS_WAITING, .at = T0 };
    struct hh_store_position pos = { .symbol = "NIFTY", .qty = 50, .avg_price = 220005000,
                                     .at = T0 };
    struct hh_store_trade tr = { .trade_id = 1, .signal_id = "sig-0", .symbol = "NIFTY",
                                 .side = HH_SELL, .qty = 50, .entry_ts = T0,
                                 .entry_price = 220000000, .exit_ts = T0 + 1,
                                 .avg_exit_price = 219000000, .exit_reason = "TARGET1",
                                 .gross = 5000000, .charges = 123456, .net = 4876544,
                                 .r_multiple_x100 = 150 };
    struct hh_store_group gr = { .group_id = "ic-1", .state = "LEGS_SENT",
                                 .legs_json = "[{\"symbol\":\"X\"}]", .at = T0 };
    struct hh_store_checkpoint ck = { .at = T0, .seq = 41, .state = blob,
                                      .state_len = sizeof blob };
    struct hh_store_checkpoint ck2 = { .at = T0 + 5, .seq = 42, .state = "later",
                                       .state_len = 5, .state_hash = "ab" "cd" "ef" "01"
                                       "23456789abcdef0123456789abcdef0123456789abcdef0123456789" };
    struct hh_store_order_event ev = { .order_id = 101, .client_id = "T1L0A0",
                                       .kind = HH_RPT_FILL, .at = T0, .qty = 50,
                                       .price = 220005000, .filled = 50, .exec_id = 9 };
    struct hh_store_fill fl = { .ts = T0, .order_id = 101, .trade_id = 1, .signal_id = "sig-1",
                                .symbol = "NIFTY", .side = HH_BUY, .qty = 50,
                                .price = 220005000, .reason = "ENTRY", .charges = 2000,
                                .exec_id = 9 };

    o2.client_id = "T1L1A0";
    o2.order_id = 102;
    o2.state = HH_OS_FILLED;
    assert_int_equal(hh_store_put_signal(st, &sg, 0), HH_OK);
    assert_int_equal(hh_store_put_signal(st, &rj, 0), HH_OK);
    assert_int_equal(hh_store_put_signal(st, &bad, 0), HH_OK);
    assert_int_equal(hh_store_put_order(st, &o1, 0), HH_OK);
    assert_int_equal(hh_store_put_order(st, &o2, 0), HH_OK);
    assert_int_equal(hh_store_put_trade_state(st, &ts, 0), HH_OK);
    ts.state = HH_TS_OPEN;
    assert_int_equal(hh_store_put_trade_state(st, &ts, 0), HH_OK);
    ts.trade_key = "sig-0";
    ts.state = HH_TS_CLOSED;
    assert_int_equal(hh_store_put_trade_state(st, &ts, 0), HH_OK);
    assert_int_equal(hh_store_put_position(st, &pos, 0), HH_OK);
    pos.qty = 0;
    pos.realised = 7000;
    assert_int_equal(hh_store_put_position(st, &pos, 0), HH_OK);   /* upsert */
    assert_int_equal(hh_store_put_trade(st, &tr, 0), HH_OK);
    assert_int_equal(hh_store_put_group(st, &gr, 0), HH_OK);
    assert_int_equal(hh_store_put_checkpoint(st, &ck2, 0), HH_OK);
    assert_int_equal(hh_store_put_checkpoint(st, &ck, 0), HH_OK);  /* lower seq */
    assert_int_equal(hh_store_put_order_event(st, &ev, 0), HH_OK);
    assert_int_equal(hh_store_put_order_event(st, &ev, 0), HH_OK);  /* replayed exec id */
    assert_int_equal(hh_store_put_fill(st, &fl, 0), HH_OK);
    assert_int_equal(hh_store_put_fill(st, &fl, 0), HH_OK);
    audit(st, HH_AUDIT_SIGNAL_ACCEPTED, "sig-1", "{\"id\":\"sig-1\"}", 0);
    audit(st, HH_AUDIT_SIGNAL_REJECTED, "sig-2", "{\"reason\":\"RR_TOO_LOW\"}", 0);
    audit(st, HH_AUDIT_ORDER_SENT, "sig-1", "{\"client_id\":\"T1L0A0\"}", 0);
    audit(st, HH_AUDIT_CONFIG_LOADED, NULL, NULL, 0);
}

struct seen {
    char ids[8][16];
    bool acc[8];
    int nids, norders, ntrades, naudit;
    char order[16], trade[16];
    uint64_t audit_seq[8];
};

static void seen_id(void *ctx, const char *id, bool accepted)
{
    struct seen *s = ctx;

    snprintf(s->ids[s->nids], sizeof s->ids[0], "%s", id);
    s->acc[s->nids++] = accepted;
}

static void seen_order(void *ctx, const struct hh_store_order *o)
{
    struct seen *s = ctx;

    s->norders++;
    snprintf(s->order, sizeof s->order, "%s", o->client_id);
    assert_int_equal(o->order_id, 101);
    assert_int_equal(o->side, HH_BUY);
    assert_int_equal(o->type, HH_ORD_LIMIT);
    assert_int_equal(o->state, HH_OS_OPEN);
    assert_int_equal(o->limit, 220005000);
}

static void seen_trade(void *ctx, const struct hh_store_trade_state_row *t)
{
    struct seen *s = ctx;

    s->ntrades++;
    snprintf(s->trade, sizeof s->trade, "%s", t->trade_key);
    assert_int_equal(t->state, HH_TS_OPEN);
}

static int seen_audit(void *ctx, const struct hh_store_audit_row *a)
{
    struct seen *s = ctx;

    s->audit_seq[s->naudit++] = a->seq;
    assert_string_equal(a->correlation_id, "sig-1");
    return 0;
}

static void test_roundtrip(void **state)
{
    char path[512];
    struct hh_store *st;
    struct hh_store_reader *r;
    struct hh_store_checkpoint_row ck;
    struct hh_diag d = { { 0 } };
    struct seen s;
    bool found;

    (void)state;
    db_path(path, sizeof path, "roundtrip.db");
    st = open_ok(path, NULL);
    put_one_of_each(st);
    assert_int_equal(hh_store_flush(st, &d), HH_OK);
    assert_int_equal(hh_store_committed(st), 22);
    close_ok(st);

    assert_int_equal(hh_store_reader_open(path, &r, &d), HH_OK);
    assert_int_equal(hh_store_schema_version(r), HH_STORE_SCHEMA_VERSION);
    memset(&s, 0, sizeof s);
    assert_int_equal(hh_store_read_signal_ids(r, seen_id, &s, &d), HH_OK);
    assert_int_equal(s.nids, 2);
    assert_string_equal(s.ids[0], "sig-1");
    assert_true(s.acc[0]);
    assert_string_equal(s.ids[1], "sig-2");
    assert_false(s.acc[1]);
    assert_int_equal(hh_store_read_open_orders(r, seen_order, &s, &d), HH_OK);
    assert_int_equal(s.norders, 1);
    assert_string_equal(s.order, "T1L0A0");
    assert_int_equal(hh_store_read_active_trades(r, seen_trade, &s, &d), HH_OK);
    assert_int_equal(s.ntrades, 1);
    assert_string_equal(s.trade, "sig-1");
    assert_int_equal(hh_store_read_audit(r, "sig-1", seen_audit, &s, &d), HH_OK);
    assert_int_equal(s.naudit, 2);
    assert_int_equal(s.audit_seq[0], 1);
    assert_int_equal(s.audit_seq[1], 3);
    /* The checkpoint with the greatest seq, its blob intact. */
    assert_int_equal(hh_store_read_checkpoint(r, &ck, &found, &d), HH_OK);
    assert_true(found);
    assert_int_equal(ck.seq, 42);
    assert_int_equal(ck.state_len, 5);
    assert_memory_equal(ck.state, "later", 5);
    assert_string_equal(ck.state_hash,
                        "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
    hh_store_checkpoint_row_free(&ck);
    hh_store_reader_close(r);

    /* Stored as written: integers, upserts, replayed exec ids once. */
    assert_int_equal(raw_int(path, "SELECT count(*) FROM order_events"), 1);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM fills"), 1);
    assert_int_equal(raw_int(path, "SELECT realised FROM positions WHERE symbol='NIFTY'"), 7000);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM positions"), 1);
    assert_int_equal(raw_int(path, "SELECT price FROM fills"), 220005000);
    assert_int_equal(raw_int(path, "SELECT typeof(price) = 'integer' FROM fills"), 1);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM signals WHERE signal_id IS NULL "
                                   "AND reason = 'PARSE_ERROR' AND decision = 'REJECTED'"), 1);
    assert_int_equal(raw_int(path, "SELECT received_at IS NULL FROM signals WHERE "
                                   "signal_id = 'sig-2'"), 1);
    assert_int_equal(raw_int(path, "SELECT r_multiple_x100 FROM trades"), 150);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM group_exec"), 1);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM audit WHERE correlation_id = '' "
                                   "AND payload = '{}'"), 1);
    /* No column anywhere is REAL. */
    assert_int_equal(raw_int(path, "SELECT count(*) FROM sqlite_master m, "
                                   "pragma_table_info(m.name) p WHERE m.type = 'table' AND "
                                   "p.type NOT IN ('INTEGER', 'TEXT', 'BLOB')"), 0);
    assert_true(verify(path).ok);
    assert_int_equal(verify(path).count, 4);
}

/* ---- acks, groups, back-pressure ----------------------------------------------------- */

static void test_acks_after_commit_in_order(void **state)
{
    char path[512];
    struct hh_store_opts o;
    struct acks a = { .n = 0 };
    struct hh_store *st;
    struct hh_store_stats stats;
    struct hh_store_rec g[3];
    uint64_t seq = 0;
    struct hh_diag d = { { 0 } };

    (void)state;
    db_path(path, sizeof path, "acks.db");
    hh_store_opts_default(&o);
    o.ack = on_ack;
    o.ack_ctx = &a;
    o.group_max = 2;       /* smaller than the group below: it must still not split */
    st = open_ok(path, &o);
    audit(st, HH_AUDIT_ENGINE_START, NULL, "{}", 11);
    audit(st, HH_AUDIT_MODE_CHANGE, NULL, "{\"mode\":\"paper\"}", 0);   /* no ack wanted */
    memset(g, 0, sizeof g);
    g[0].kind = HH_STORE_ORDER_EVENT;
    g[0].u.order_event = (struct hh_store_order_event){ .order_id = 7, .kind = HH_RPT_FILL,
                                                        .at = T0, .exec_id = 1 };
    g[1].kind = HH_STORE_FILL;
    g[1].u.fill = (struct hh_store_fill){ .ts = T0, .order_id = 7, .symbol = "X",
                                          .side = HH_SELL, .exec_id = 1 };
    g[2].kind = HH_STORE_POSITION;
    g[2].u.position = (struct hh_store_position){ .symbol = "X", .qty = -1, .at = T0 };
    assert_int_equal(hh_store_submit(st, g, 3, 12, &seq, &d), HH_OK);
    assert_int_equal(seq, 5);
    audit(st, HH_AUDIT_ORDER_FILLED, "t", "{}", 13);
    assert_int_equal(hh_store_flush(st, &d), HH_OK);
    /* flush returns after the acks: all delivered, in order, with seqs. */
    assert_int_equal(a.n, 3);
    assert_int_equal(a.token[0], 11);
    assert_int_equal(a.seq[0], 1);
    assert_int_equal(a.token[1], 12);
    assert_int_equal(a.seq[1], 5);
    assert_int_equal(a.token[2], 13);
    assert_int_equal(a.seq[2], 6);
    assert_int_equal(hh_store_committed(st), 6);
    hh_store_stats(st, &stats);
    assert_int_equal(stats.submitted, 6);
    assert_int_equal(stats.committed, 6);
    assert_true(stats.max_group >= 3);      /* the group went whole */
    assert_int_equal(hh_store_status(st, &d), HH_OK);
    close_ok(st);
    assert_int_equal(hh_store_close(NULL, NULL), HH_OK);
}

struct producer {
    struct hh_store *st;
    int from, n, rc;
};

static void *produce(void *arg)
{
    struct producer *p = arg;
    char corr[32], payload[256];

    memset(payload, 'x', sizeof payload - 3);
    payload[0] = '"';
    payload[sizeof payload - 3] = '"';
    payload[sizeof payload - 2] = '\0';
    for (int i = 0; i < p->n && !p->rc; i++) {
        struct hh_store_audit a = { .at = T0 + i, .kind = HH_AUDIT_ORDER_SENT,
                                    .correlation_id = corr, .payload = payload };

        snprintf(corr, sizeof corr, "p%d", p->from + i);
        p->rc = hh_store_put_audit(p->st, &a, 0);
    }
    return NULL;
}

/* A 4 KiB queue and two producers: they block, nothing is lost, the chain
 * holds the commit order. */
static void test_backpressure_never_drops(void **state)
{
    char path[512];
    struct hh_store_opts o;
    struct hh_store *st;
    struct hh_store_stats stats;
    struct producer p[2];
    pthread_t th[2];
    struct hh_diag d = { { 0 } };

    (void)state;
    db_path(path, sizeof path, "backpressure.db");
    hh_store_opts_default(&o);
    o.queue_bytes = 4096;
    o.group_max = 8;
    st = open_ok(path, &o);
    for (int i = 0; i < 2; i++) {
        p[i] = (struct producer){ .st = st, .from = i * 100000, .n = 3000 };
        assert_int_equal(pthread_create(&th[i], NULL, produce, &p[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(p[i].rc, HH_OK);
    }
    assert_int_equal(hh_store_flush(st, &d), HH_OK);
    hh_store_stats(st, &stats);
    assert_int_equal(stats.committed, 6000);
    assert_true(stats.producer_waits > 0);
    close_ok(st);
    assert_int_equal(raw_int(path, "SELECT count(DISTINCT correlation_id) FROM audit"), 6000);
    assert_true(verify(path).ok);
    assert_int_equal(verify(path).count, 6000);
}

/* While the store is open, the WAL is copied into the database file (the
 * checkpointer's PASSIVE checkpoints take effect) and, past 8,000 pages,
 * checkpointed whole and truncated: a long run's WAL does not grow
 * without bound. */
static void test_wal_checkpointed_while_open(void **state)
{
    static char raw[3000];
    char path[512], wal[530];
    struct hh_store *st;
    struct hh_store_stats stats;
    struct hh_diag d = { { 0 } };
    struct stat sb;

    (void)state;
    memset(raw, 'x', sizeof raw - 1);
    db_path(path, sizeof path, "walckpt.db");
    st = open_ok(path, NULL);
    for (int i = 0; i < 12000; i++) {
        char id[32];
        struct hh_store_signal s = { .signal_id = id, .line = (uint64_t)i + 1, .raw = raw,
                                     .received_at = T0, .accepted = true,
                                     .decided_at = T0 };

        snprintf(id, sizeof id, "w%d", i);
        assert_int_equal(hh_store_put_signal(st, &s, 0), HH_OK);
        if (i % 20 == 19)
            assert_int_equal(hh_store_flush(st, &d), HH_OK);
    }
    assert_int_equal(hh_store_flush(st, &d), HH_OK);
    /* the checkpointer is woken per 1000 WAL pages and truncates past
     * 8,000 (as the writer does when the checkpointer is idle): give them a
     * moment, a loaded machine's moment */
    for (int k = 0; k < 1000; k++) {
        hh_store_stats(st, &stats);
        if (stats.checkpoints > 0 && stats.wal_truncations > 0)
            break;
        usleep(10000);
    }
    assert_true(stats.checkpoints > 0);
    assert_int_equal(stat(path, &sb), 0);
    assert_true(sb.st_size > 16 * 1024 * 1024);   /* most of 12000 rows of 3 kB */
    assert_true(stats.wal_truncations > 0);
    snprintf(wal, sizeof wal, "%s-wal", path);
    assert_int_equal(stat(wal, &sb), 0);
    assert_true(sb.st_size < 36 * 1024 * 1024);     /* < 8,000 pages and a margin */
    close_ok(st);
}

static void test_invalid_record_refused(void **state)
{
    char path[512];
    struct hh_store *st;
    struct hh_store_rec r[2];
    struct hh_diag d = { { 0 } };

    (void)state;
    db_path(path, sizeof path, "invalid.db");
    st = open_ok(path, NULL);
    memset(r, 0, sizeof r);
    r[0].kind = HH_STORE_AUDIT;
    r[0].u.audit = (struct hh_store_audit){ .at = T0, .kind = HH_AUDIT_KILL_SWITCH };
    r[1].kind = HH_STORE_FILL;
    r[1].u.fill = (struct hh_store_fill){ .ts = T0, .side = HH_BUY };   /* no symbol */
    assert_int_equal(hh_store_submit(st, r, 2, 1, NULL, &d), HH_EINVAL);
    assert_non_null(strstr(d.msg, "field symbol"));
    r[1].u.fill.symbol = "X";
    r[1].u.fill.side = 0;
    assert_int_equal(hh_store_submit(st, r, 2, 1, NULL, &d), HH_EINVAL);
    assert_non_null(strstr(d.msg, "field side"));
    r[0].u.audit.at = HH_TIME_NONE;
    assert_int_equal(hh_store_submit(st, r, 1, 1, NULL, &d), HH_EINVAL);
    /* Nothing of a refused group was queued; the store stays healthy. */
    assert_int_equal(hh_store_flush(st, &d), HH_OK);
    assert_int_equal(hh_store_committed(st), 0);
    assert_int_equal(hh_store_status(st, &d), HH_OK);
    close_ok(st);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM audit"), 0);
}

/* ---- restart -------------------------------------------------------------------------- */

static void test_chain_continues_across_reopen(void **state)
{
    char path[512];
    struct hh_store *st;

    (void)state;
    db_path(path, sizeof path, "reopen.db");
    for (int round = 0; round < 3; round++) {
        st = open_ok(path, NULL);
        for (int i = 0; i < 5; i++)
            audit(st, HH_AUDIT_ORDER_SENT, "c", "{}", 0);
        close_ok(st);
    }
    assert_int_equal(raw_int(path, "SELECT max(seq) FROM audit"), 15);
    assert_int_equal(raw_int(path, "SELECT seq FROM audit_head"), 15);
    assert_true(verify(path).ok);
    assert_int_equal(verify(path).count, 15);
}

static void test_one_writer_per_database(void **state)
{
    char path[512];
    struct hh_store *st, *st2 = NULL;
    struct hh_diag d = { { 0 } };

    (void)state;
    db_path(path, sizeof path, "onewriter.db");
    st = open_ok(path, NULL);
    assert_int_equal(hh_store_open(path, NULL, &st2, &d), HH_ESTATE);
    assert_null(st2);
    assert_non_null(strstr(d.msg, "already open for writing"));
    close_ok(st);
    st = open_ok(path, NULL);    /* released by close */
    close_ok(st);
}

/* ---- migrations and identification --------------------------------------------------- */

/* The schema as hedgehog's version 1 created it, written out by hand. */
static const char V1_SCHEMA[] =
    "PRAGMA application_id = 1751475303;"
    "CREATE TABLE signals (id INTEGER PRIMARY KEY, signal_id TEXT, line INTEGER NOT NULL,"
    " raw TEXT NOT NULL, received_at INTEGER, decision TEXT NOT NULL CHECK (decision IN"
    " ('ACCEPTED', 'REJECTED')), reason TEXT, detail TEXT, correlation_id TEXT);"
    "CREATE INDEX signals_by_signal_id ON signals (signal_id);"
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, client_id TEXT NOT NULL UNIQUE,"
    " order_id INTEGER, trade_key TEXT, symbol TEXT NOT NULL, side TEXT NOT NULL CHECK"
    " (side IN ('BUY', 'SELL')), type TEXT NOT NULL, qty INTEGER NOT NULL, limit_price"
    " INTEGER NOT NULL, trigger_price INTEGER NOT NULL, state TEXT NOT NULL, terminal"
    " INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE INDEX orders_open ON orders (terminal, id);"
    "CREATE TABLE order_events (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL,"
    " client_id TEXT, kind TEXT NOT NULL, at INTEGER NOT NULL, qty INTEGER NOT NULL,"
    " price INTEGER NOT NULL, filled INTEGER NOT NULL, leaves INTEGER NOT NULL,"
    " exec_id INTEGER, reason TEXT);"
    "CREATE UNIQUE INDEX order_events_by_exec ON order_events (order_id, exec_id);"
    "CREATE TABLE fills (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, order_id INTEGER NOT"
    " NULL, trade_id INTEGER NOT NULL, signal_id TEXT, symbol TEXT NOT NULL, side TEXT NOT"
    " NULL CHECK (side IN ('BUY', 'SELL')), qty INTEGER NOT NULL, price INTEGER NOT NULL,"
    " reason TEXT, charges INTEGER NOT NULL, exec_id INTEGER);"
    "CREATE UNIQUE INDEX fills_by_exec ON fills (order_id, exec_id);"
    "CREATE TABLE positions (symbol TEXT PRIMARY KEY, qty INTEGER NOT NULL, avg_price"
    " INTEGER NOT NULL, realised INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE TABLE trades (id INTEGER PRIMARY KEY, trade_id INTEGER NOT NULL, signal_id"
    " TEXT, symbol TEXT NOT NULL, side TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')), qty"
    " INTEGER NOT NULL, entry_ts INTEGER, entry_price INTEGER NOT NULL, exit_ts INTEGER,"
    " avg_exit_price INTEGER NOT NULL, exit_reason TEXT, gross_pnl INTEGER NOT NULL,"
    " charges INTEGER NOT NULL, net_pnl INTEGER NOT NULL, r_multiple_x100 INTEGER NOT"
    " NULL);"
    "CREATE TABLE checkpoints (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, seq INTEGER"
    " NOT NULL, state BLOB NOT NULL, state_hash TEXT NOT NULL, blob_sha256 TEXT NOT NULL);"
    "CREATE TABLE audit (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, kind TEXT NOT NULL,"
    " correlation_id TEXT NOT NULL, payload TEXT NOT NULL, prev_hash TEXT NOT NULL,"
    " hash TEXT NOT NULL);"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;"
    "PRAGMA user_version = 1;";

static void test_migrates_v1_database(void **state)
{
    char path[512], sql[1024], h1[HH_STORE_HASH_HEX], h2[HH_STORE_HASH_HEX];
    struct hh_store *st;
    struct hh_store_reader *r;
    struct hh_diag d = { { 0 } };
    struct hh_store_trade_state ts = { .trade_key = "sig-9", .state = HH_TS_ENTERING,
                                       .at = T0 };

    (void)state;
    db_path(path, sizeof path, "v1.db");
    raw_exec(path, V1_SCHEMA);
    /* Two audit rows and a signal written by "the old version". */
    hh_store_audit_hash(1, T0, "CONFIG_LOADED", "", 0, "{}", 2, hh_store_genesis_hash, h1);
    hh_store_audit_hash(2, T0, "SIGNAL_ACCEPTED", "sig-9", 5, "{}", 2, h1, h2);
    snprintf(sql, sizeof sql,
             "INSERT INTO audit VALUES (1, %lld, 'CONFIG_LOADED', '', '{}', '%s', '%s');"
             "INSERT INTO audit VALUES (2, %lld, 'SIGNAL_ACCEPTED', 'sig-9', '{}', '%s', '%s');"
             "INSERT INTO signals (signal_id, line, raw, decision) VALUES ('sig-9', 1, '{}',"
             " 'ACCEPTED');", T0, hh_store_genesis_hash, h1, T0, h1, h2);
    raw_exec(path, sql);
    assert_int_equal(raw_int(path, "PRAGMA user_version"), 1);

    st = open_ok(path, NULL);
    assert_int_equal(hh_store_put_trade_state(st, &ts, 0), HH_OK);   /* a v2 table */
    audit(st, HH_AUDIT_ORDER_SENT, "sig-9", "{}", 0);
    close_ok(st);

    assert_int_equal(raw_int(path, "PRAGMA user_version"), HH_STORE_SCHEMA_VERSION);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM signals"), 1);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM trade_state"), 1);
    assert_int_equal(raw_int(path, "SELECT seq FROM audit_head"), 3);
    assert_true(verify(path).ok);
    assert_int_equal(verify(path).count, 3);
    /* A reader opens older versions too (it never migrates). */
    db_path(path, sizeof path, "v1b.db");
    raw_exec(path, V1_SCHEMA);
    assert_int_equal(hh_store_reader_open(path, &r, &d), HH_OK);
    assert_int_equal(hh_store_schema_version(r), 1);
    hh_store_reader_close(r);
}

static void expect_refused(const char *path, const char *want)
{
    struct hh_store *st = NULL;
    struct hh_store_reader *r = NULL;
    struct hh_diag d = { { 0 } };
    char lock[600];

    assert_int_not_equal(hh_store_open(path, NULL, &st, &d), HH_OK);
    assert_null(st);
    if (!strstr(d.msg, want))
        fail_msg("writer: wanted '%s' in '%s'", want, d.msg);
    snprintf(lock, sizeof lock, "%s-lock", path);
    assert_int_equal(access(lock, F_OK), -1);          /* no trace left */
    assert_int_not_equal(hh_store_reader_open(path, &r, &d), HH_OK);
    assert_null(r);
    if (!strstr(d.msg, want))
        fail_msg("reader: wanted '%s' in '%s'", want, d.msg);
}

/* Size and bytes of a file, to prove a refusal changed nothing. */
static size_t slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n;

    assert_non_null(f);
    n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void test_refuses_newer_foreign_and_non_sqlite(void **state)
{
    char path[512], want[160], before[65536], after[65536];
    size_t nb, na;

    (void)state;
    db_path(path, sizeof path, "newer.db");
    raw_exec(path, "PRAGMA application_id = 1751475303; CREATE TABLE audit (seq INTEGER);"
                   "PRAGMA user_version = 7;");
    snprintf(want, sizeof want, "database schema version 7 is newer than this hedgehog "
             "(%d): upgrade hedgehog", HH_STORE_SCHEMA_VERSION);
    expect_refused(path, want);
    assert_int_equal(raw_int(path, "PRAGMA user_version"), 7);

    db_path(path, sizeof path, "foreign.db");
    raw_exec(path, "CREATE TABLE customers (id INTEGER, name TEXT);"
                   "INSERT INTO customers VALUES (1, 'x');");
    nb = slurp(path, before, sizeof before);
    expect_refused(path, "not a hedgehog database");
    expect_refused(path, "customers");
    na = slurp(path, after, sizeof after);
    assert_int_equal(na, nb);
    assert_memory_equal(before, after, na);        /* not even the journal mode */

    db_path(path, sizeof path, "otherapp.db");
    raw_exec(path, "PRAGMA application_id = 42;");
    expect_refused(path, "application_id 0x0000002a");

    db_path(path, sizeof path, "text.db");
    assert_non_null(tu_write_file(1, "text.db", "ts,symbol,price\n2025-01-02,NIFTY,1\n"
                                  "and more text to be longer than a SQLite header..........\n"
                                  "................................................\n"));
    nb = slurp(path, before, sizeof before);
    expect_refused(path, "not a SQLite database");
    na = slurp(path, after, sizeof after);
    assert_int_equal(na, nb);
    assert_memory_equal(before, after, na);

    db_path(path, sizeof path, "missing.db");
    {
        struct hh_store_reader *r;
        struct hh_store_opts o;
        struct hh_store *st;
        struct hh_diag d = { { 0 } };

        assert_int_equal(hh_store_reader_open(path, &r, &d), HH_ENOTFOUND);
        assert_non_null(strstr(d.msg, "no such database file"));
        hh_store_opts_default(&o);
        o.no_create = true;
        assert_int_equal(hh_store_open(path, &o, &st, &d), HH_ENOTFOUND);
        assert_int_equal(access(path, F_OK), -1);
    }
}

/* A damaged schema (append-only trigger dropped) or an audit head that
 * does not match the chain stops the writer from starting. */
static void test_refuses_damaged_schema_and_head(void **state)
{
    char path[512];
    struct hh_store *st;

    (void)state;
    db_path(path, sizeof path, "damaged.db");
    st = open_ok(path, NULL);
    audit(st, HH_AUDIT_ENGINE_START, NULL, "{}", 0);
    audit(st, HH_AUDIT_ENGINE_STOP, NULL, "{}", 0);
    close_ok(st);
    raw_exec(path, "DROP TRIGGER audit_no_delete;");
    {
        struct hh_diag d = { { 0 } };

        st = NULL;
        assert_int_equal(hh_store_open(path, NULL, &st, &d), HH_ETAMPER);
        assert_non_null(strstr(d.msg, "trigger audit_no_delete missing"));
    }
    /* (A reader still opens it, for db check to report.) */
    raw_exec(path, "DELETE FROM audit WHERE seq = 2; CREATE TRIGGER audit_no_delete BEFORE "
                   "DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;");
    {
        struct hh_diag d = { { 0 } };

        st = NULL;
        assert_int_equal(hh_store_open(path, NULL, &st, &d), HH_ETAMPER);
        assert_non_null(strstr(d.msg, "does not end at its recorded head"));
    }
}

/* ---- failure: a full disk ------------------------------------------------------------ */

struct failrec {
    int calls, rc;
    char msg[512];
    uint64_t acked_max;
    int acks;
};

static void on_fail(void *ctx, int rc, const char *msg)
{
    struct failrec *f = ctx;

    f->calls++;
    f->rc = rc;
    snprintf(f->msg, sizeof f->msg, "%s", msg);
}

static void on_ack_max(void *ctx, uint64_t token, uint64_t seq)
{
    struct failrec *f = ctx;

    (void)seq;
    f->acks++;
    if (token > f->acked_max)
        f->acked_max = token;
}

static void test_disk_full_fails_store(void **state)
{
    char path[512], payload[2048];
    struct hh_store_opts o;
    struct hh_store *st;
    struct failrec f = { 0 };
    struct hh_diag d = { { 0 } };
    int rc = HH_OK, i;

    (void)state;
    db_path(path, sizeof path, "full.db");
    hh_store_opts_default(&o);
    o.max_pages = 40;                  /* ~160 KiB: SQLITE_FULL soon */
    o.ack = on_ack_max;
    o.ack_ctx = &f;
    o.failed = on_fail;
    o.fail_ctx = &f;
    o.group_max = 16;
    st = open_ok(path, &o);
    memset(payload, 'a', sizeof payload - 3);
    payload[0] = '"';
    payload[sizeof payload - 3] = '"';
    payload[sizeof payload - 2] = '\0';
    for (i = 1; i <= 100000 && rc == HH_OK; i++) {
        struct hh_store_audit a = { .at = T0, .kind = HH_AUDIT_ORDER_SENT,
                                    .correlation_id = "full", .payload = payload };

        rc = hh_store_put_audit(st, &a, (uint64_t)i);
        if ((i & 63) == 0 && rc == HH_OK)
            rc = hh_store_flush(st, &d);
    }
    assert_int_equal(rc, HH_EFULL);                  /* a submit or flush saw it */
    assert_int_equal(hh_store_status(st, &d), HH_EFULL);
    assert_non_null(strstr(d.msg, "full"));
    assert_non_null(strstr(d.msg, path));
    assert_int_equal(f.calls, 1);
    assert_int_equal(f.rc, HH_EFULL);
    /* Every further submit is refused; close reports the failure. */
    {
        struct hh_store_audit a = { .at = T0, .kind = HH_AUDIT_KILL_SWITCH };

        assert_int_equal(hh_store_put_audit(st, &a, 0), HH_EFULL);
    }
    assert_int_equal(hh_store_flush(st, &d), HH_EFULL);  /* what was lost stays lost */
    assert_int_equal(hh_store_close(st, &d), HH_EFULL);
    assert_int_equal(f.calls, 1);
}

static void test_disk_full_state_consistent(void **state)
{
    char path[512], payload[2048];
    struct hh_store_opts o;
    struct hh_store *st;
    struct failrec f = { 0 };
    struct hh_diag d = { { 0 } };
    struct hh_store_audit a = { .at = T0, .kind = HH_AUDIT_ORDER_SENT, .payload = payload };
    uint64_t committed;
    int rc = HH_OK;

    (void)state;
    db_path(path, sizeof path, "full2.db");
    hh_store_opts_default(&o);
    o.max_pages = 48;                  /* the v4 schema alone takes ~30 */
    o.ack = on_ack_max;
    o.ack_ctx = &f;
    o.failed = on_fail;
    o.fail_ctx = &f;
    o.group_max = 16;
    st = open_ok(path, &o);
    memset(payload, 'a', sizeof payload - 3);
    payload[0] = '"';
    payload[sizeof payload - 3] = '"';
    payload[sizeof payload - 2] = '\0';
    for (uint64_t i = 1; i <= 100000 && rc == HH_OK; i++)
        rc = hh_store_put_audit(st, &a, i);
    hh_store_flush(st, &d);
    assert_int_not_equal(hh_store_put_audit(st, &a, 0), HH_OK);
    committed = hh_store_committed(st);
    assert_int_equal(hh_store_close(st, &d), HH_EFULL);
    /* What was acked is exactly what is there; nothing after the failure
     * was acked; the database is consistent and the chain verifies. */
    assert_true(f.acks > 0);
    assert_int_equal(f.acked_max, committed);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM audit"), (long long)committed);
    assert_int_equal(raw_int(path, "SELECT seq FROM audit_head"), (long long)committed);
    assert_true(verify(path).ok);
    /* Without the cap the store opens again and continues the chain. */
    st = open_ok(path, NULL);
    audit(st, HH_AUDIT_ENGINE_START, NULL, "{}", 0);
    close_ok(st);
    assert_true(verify(path).ok);
    assert_int_equal(verify(path).count, committed + 1);
}

/* ---- a read-only directory ------------------------------------------------------------- */

/* A writer killed inside a rollback-journal transaction leaves a hot
 * journal; a reader (db check) recovers it instead of failing with "attempt
 * to write a readonly database". */
static void test_reader_recovers_hot_journal(void **state)
{
    char path[512], journal[600];
    struct hh_store_verify v;
    struct stat sb;
    pid_t pid;
    int status;

    (void)state;
    db_path(path, sizeof path, "hotjournal.db");
    close_ok(open_ok(path, NULL));
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        sqlite3 *db;

        if (sqlite3_open(path, &db) != SQLITE_OK ||
            sqlite3_exec(db, "PRAGMA journal_mode=DELETE; PRAGMA cache_size=2; BEGIN; "
                         "CREATE TABLE junk(x);", NULL, NULL, NULL) != SQLITE_OK)
            _exit(1);
        for (int i = 0; i < 2000; i++)   /* spills: the journal is written */
            sqlite3_exec(db, "INSERT INTO junk VALUES (randomblob(500))", NULL, NULL, NULL);
        _exit(0);                        /* killed mid-transaction */
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(WEXITSTATUS(status), 0);
    snprintf(journal, sizeof journal, "%s-journal", path);
    assert_int_equal(stat(journal, &sb), 0);
    assert_true(sb.st_size > 0);
    v = verify(path);
    assert_true(v.ok);
    assert_false(stat(journal, &sb) == 0 && sb.st_size > 0);   /* rolled back */
}

static void test_readonly_directory(void **state)
{
    char dir[512], path[600], cmd[2600];
    pid_t pid;
    int status;

    (void)state;
    db_path(dir, sizeof dir, "rodir");
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s' && chmod 0777 /tmp/hh-unit-%d",
             dir, dir, (int)getpid());
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "%s/existing.db", dir);
    {
        struct hh_store *st = open_ok(path, NULL);

        close_ok(st);
    }
    snprintf(cmd, sizeof cmd, "chmod 0555 '%s' && chmod 0444 '%s' && rm -f '%s-shm' "
             "'%s-wal'", dir, path, path, path);
    assert_int_equal(system(cmd), 0);
    /* Root ignores permissions: the child drops to nobody. */
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct hh_store *st = NULL;
        struct hh_diag d = { { 0 } };
        char fresh[700];

        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(10);
        snprintf(fresh, sizeof fresh, "%s/new.db", dir);
        if (hh_store_open(fresh, NULL, &st, &d) == HH_OK || !strstr(d.msg, fresh))
            _exit(11);
        if (access(fresh, F_OK) == 0)
            _exit(12);                                 /* no partial state */
        if (hh_store_open(path, NULL, &st, &d) == HH_OK || !strstr(d.msg, path) ||
            !strstr(d.msg, "not writable"))
            _exit(13);
        fprintf(stderr, "read-only: %s\n", d.msg);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    snprintf(cmd, sizeof cmd, "chmod 0755 '%s'", dir);
    assert_int_equal(system(cmd), 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- tampering ------------------------------------------------------------------------ */

/* A database with 10 audit rows; returns its path in buf. */
static const char *chain10(char *buf, size_t cap, const char *name)
{
    struct hh_store *st;
    char corr[16];

    db_path(buf, cap, name);
    st = open_ok(buf, NULL);
    for (int i = 1; i <= 10; i++) {
        snprintf(corr, sizeof corr, "t%d", i);
        audit(st, HH_AUDIT_ORDER_SENT, corr, "{\"qty\":50}", 0);
    }
    close_ok(st);
    raw_exec(buf, "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;");
    return buf;
}

static void expect_bad(const char *path, uint64_t seq, const char *why)
{
    struct hh_store_verify v = verify(path);

    assert_false(v.ok);
    if (v.bad_seq != seq || !strstr(v.why, why))
        fail_msg("wanted seq %llu '%s', got seq %llu '%s'", (unsigned long long)seq, why,
                 (unsigned long long)v.bad_seq, v.why);
}

static void test_tamper_edit(void **state)
{
    char p[512];

    (void)state;
    raw_exec(chain10(p, sizeof p, "edit.db"),
             "UPDATE audit SET payload = '{\"qty\":5000}' WHERE seq = 4");
    expect_bad(p, 4, "hash mismatch");
    /* Editing and re-hashing one row breaks the next link instead. */
    raw_exec(chain10(p, sizeof p, "rehash.db"),
             "UPDATE audit SET correlation_id = 'x', hash = '"
             "1111111111111111111111111111111111111111111111111111111111111111' "
             "WHERE seq = 6");
    expect_bad(p, 6, "hash mismatch");
    raw_exec(chain10(p, sizeof p, "hash.db"),
             "UPDATE audit SET hash = '"
             "2222222222222222222222222222222222222222222222222222222222222222' WHERE seq = 9");
    expect_bad(p, 9, "hash mismatch");
    raw_exec(chain10(p, sizeof p, "time.db"), "UPDATE audit SET at = at + 1 WHERE seq = 2");
    expect_bad(p, 2, "hash mismatch");
}

static void test_tamper_delete_reorder_truncate(void **state)
{
    char p[512], sql[512], h[HH_STORE_HASH_HEX];

    (void)state;
    raw_exec(chain10(p, sizeof p, "del.db"), "DELETE FROM audit WHERE seq = 5");
    expect_bad(p, 5, "record missing");
    raw_exec(chain10(p, sizeof p, "delfirst.db"), "DELETE FROM audit WHERE seq = 1");
    expect_bad(p, 1, "record missing");
    raw_exec(chain10(p, sizeof p, "swap.db"),
             "UPDATE audit SET seq = -3 WHERE seq = 3; UPDATE audit SET seq = 3 WHERE seq = 7;"
             "UPDATE audit SET seq = 7 WHERE seq = -3;");
    expect_bad(p, 3, "broken link");
    /* Tail truncation: invisible to the chain, caught by the head. */
    raw_exec(chain10(p, sizeof p, "trunc.db"), "DELETE FROM audit WHERE seq > 7");
    expect_bad(p, 8, "cut off the tail");
    raw_exec(chain10(p, sizeof p, "truncall.db"), "DELETE FROM audit");
    expect_bad(p, 1, "cut off the tail");
    /* A well-formed row appended outside the writer (head not moved). */
    chain10(p, sizeof p, "append.db");
    {
        struct hh_store_reader *r;
        struct hh_store_verify v;
        struct hh_diag d = { { 0 } };

        assert_int_equal(hh_store_reader_open(p, &r, &d), HH_OK);
        assert_int_equal(hh_store_audit_verify(r, &v, &d), HH_OK);
        hh_store_reader_close(r);
        hh_store_audit_hash(11, T0, "ORDER_SENT", "", 0, "{}", 2, v.head_hash, h);
        snprintf(sql, sizeof sql, "INSERT INTO audit (seq, at, kind, correlation_id, payload, "
                 "prev_hash, hash) VALUES (11, %lld, 'ORDER_SENT', '', '{}', '%s', '%s')", T0,
                 v.head_hash, h);
    }
    raw_exec(p, sql);
    expect_bad(p, 11, "beyond the audit head");
    /* Untouched chains pass. */
    assert_true(verify(chain10(p, sizeof p, "clean.db")).ok);
}

static void test_checkpoint_blob_tamper(void **state)
{
    char path[512];
    struct hh_store *st;
    struct hh_store_reader *r;
    struct hh_store_checkpoint_row ck;
    struct hh_store_checkpoint c = { .at = T0, .seq = 1, .state = "abc", .state_len = 3 };
    struct hh_diag d = { { 0 } };
    bool found = true;

    (void)state;
    db_path(path, sizeof path, "ckpt.db");
    assert_int_equal(hh_store_reader_open(path, &r, &d), HH_ENOTFOUND);
    st = open_ok(path, NULL);
    close_ok(st);
    assert_int_equal(hh_store_reader_open(path, &r, &d), HH_OK);
    assert_int_equal(hh_store_read_checkpoint(r, &ck, &found, &d), HH_OK);
    assert_false(found);
    hh_store_reader_close(r);
    st = open_ok(path, NULL);
    assert_int_equal(hh_store_put_checkpoint(st, &c, 0), HH_OK);
    close_ok(st);
    raw_exec(path, "UPDATE checkpoints SET state = X'616264'");
    assert_int_equal(hh_store_reader_open(path, &r, &d), HH_OK);
    assert_int_equal(hh_store_read_checkpoint(r, &ck, &found, &d), HH_ETAMPER);
    assert_false(found);
    assert_non_null(strstr(d.msg, "does not match its SHA-256"));
    hh_store_reader_close(r);
}

static int teardown(void **state)
{
    (void)state;
    return 0;
}

/* ---- v4: Kafka messages and the outbox ------------------------------------------- */

static void on_kafka_offset(void *ctx, int32_t partition, int64_t offset)
{
    char *out = ctx;
    size_t n = strlen(out);

    snprintf(out + n, 256 - n, "%d:%lld ", partition, (long long)offset);
}

static int on_unsent(void *ctx, const struct hh_store_outbox *o)
{
    char *out = ctx;
    size_t n = strlen(out);

    snprintf(out + n, 256 - n, "%llu:%s:%s:%s ", (unsigned long long)o->seq,
             o->kind == HH_OUTBOX_EVENT ? "EVENT" : "DEAD_LETTER", o->topic,
             o->reason ? o->reason : "-");
    return 0;
}

static void test_kafka_offsets_and_outbox(void **state)
{
    char path[512], offs[256] = "", unsent[256] = "";
    struct hh_store *st;
    struct hh_store_reader *r;
    struct hh_diag d = { { 0 } };
    struct failrec f = { 0 };
    struct hh_store_opts o;
    uint64_t max = 0;
    struct hh_store_rec recs[3] = {
        { .kind = HH_STORE_SIGNAL, .u.signal = { .raw = "{}", .line = 8, .topic = "sig",
                                                 .partition = 1, .offset = 7 } },
        { .kind = HH_STORE_SIGNAL, .u.signal = { .raw = "{}", .line = 3, .topic = "sig",
                                                 .partition = 0, .offset = 2 } },
        { .kind = HH_STORE_OUTBOX, .u.outbox = { .seq = 1, .topic = "dlq", .reason = "STALE",
                                                 .payload = "{}", .at = T0 } },
    };
    struct hh_store_outbox ev = { .seq = 2, .kind = HH_OUTBOX_EVENT, .topic = "ev",
                                  .key = "XYZ", .payload = "{}", .at = T0 };
    struct hh_store_rec evrec = { .kind = HH_STORE_OUTBOX, .u.outbox = ev };
    struct hh_store_outbox_sent sent = { .seq = 1 };

    (void)state;
    db_path(path, sizeof path, "kafka.db");
    st = open_ok(path, NULL);
    assert_int_equal(hh_store_submit(st, recs, 3, 0, NULL, &d), HH_OK);
    assert_int_equal(hh_store_submit(st, &evrec, 1, 0, NULL, &d), HH_OK);
    assert_int_equal(hh_store_put_outbox_sent(st, &sent, 0), HH_OK);
    close_ok(st);
    assert_int_equal(hh_store_reader_open(path, &r, &d), HH_OK);
    assert_int_equal(hh_store_read_kafka_offsets(r, "sig", on_kafka_offset, offs, &d), HH_OK);
    assert_string_equal(offs, "0:2 1:7 ");
    assert_int_equal(hh_store_read_outbox(r, on_unsent, unsent, &max, &d), HH_OK);
    assert_string_equal(unsent, "2:EVENT:ev:- ");
    assert_int_equal(max, 2);
    hh_store_reader_close(r);
    /* the same message decided twice: the store fails rather than keep both */
    hh_store_opts_default(&o);
    o.failed = on_fail;
    o.fail_ctx = &f;
    st = open_ok(path, &o);
    assert_int_equal(hh_store_submit(st, recs, 1, 0, NULL, &d), HH_OK);
    assert_int_not_equal(hh_store_flush(st, &d), HH_OK);
    assert_int_equal(f.calls, 1);
    assert_non_null(strstr(f.msg, "UNIQUE"));
    hh_store_close(st, &d);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM signals"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_audit_hash_known_answer),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_acks_after_commit_in_order),
        cmocka_unit_test(test_backpressure_never_drops),
        cmocka_unit_test(test_wal_checkpointed_while_open),
        cmocka_unit_test(test_invalid_record_refused),
        cmocka_unit_test(test_chain_continues_across_reopen),
        cmocka_unit_test(test_one_writer_per_database),
        cmocka_unit_test(test_migrates_v1_database),
        cmocka_unit_test(test_refuses_newer_foreign_and_non_sqlite),
        cmocka_unit_test(test_refuses_damaged_schema_and_head),
        cmocka_unit_test(test_disk_full_fails_store),
        cmocka_unit_test(test_disk_full_state_consistent),
        cmocka_unit_test(test_reader_recovers_hot_journal),
        cmocka_unit_test(test_readonly_directory),
        cmocka_unit_test(test_tamper_edit),
        cmocka_unit_test(test_tamper_delete_reorder_truncate),
        cmocka_unit_test(test_checkpoint_blob_tamper),
        cmocka_unit_test(test_kafka_offsets_and_outbox),
    };
    int rc = cmocka_run_group_tests(tests, NULL, teardown);

    tu_cleanup();
    return rc;
}
