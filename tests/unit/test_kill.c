/*
 * test_kill.c — the kill switch's records and the journal's side of the
 * operations surface: requests stored, the latest read back, marked
 * applied; invalid requests refused before queueing; a request inserted
 * through the side door while a writer of the same database commits (the
 * chain and the writer unaffected), refused on a version-3 database;
 * hh_journal_kill for an API request (applied at once) and for a stored one
 * taken up, with their KILL_SWITCH audit rows; hh_journal_kill_state; a
 * signal line's decision time and measured latency.
 */
#include "testutil.h"

#include "journal/journal.h"
#include "store/store.h"

#include <sqlite3.h>

#define T0 (1735790100LL * HH_NS_PER_S)   /* 2025-01-02T09:25:00+05:30 */

static const char *db_path(char *buf, size_t cap, const char *name)
{
    char cmd[1200];

    assert_non_null(tu_write_file(7, ".keep", ""));
    snprintf(buf, cap, "/tmp/hh-unit-%d/%s", (int)getpid(), name);
    snprintf(cmd, sizeof cmd, "rm -f '%s' '%s-wal' '%s-shm' '%s-lock'", buf, buf, buf, buf);
    assert_int_equal(system(cmd), 0);
    return buf;
}

static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db;
    char *err = NULL;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", sql, err);
    sqlite3_close(db);
}

/* The text of the first column of the first row ("" when none). */
static const char *raw_text(const char *path, const char *sql)
{
    static char out[1024];
    sqlite3 *db;
    sqlite3_stmt *s;

    out[0] = '\0';
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
        snprintf(out, sizeof out, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    sqlite3_close(db);
    return out;
}

static struct hh_store *open_ok(const char *path)
{
    struct hh_store *st = NULL;
    struct hh_diag d = { { 0 } };

    if (hh_store_open(path, NULL, &st, &d) != HH_OK)
        fail_msg("open %s: %s", path, d.msg);
    return st;
}

static void close_ok(struct hh_store *st)
{
    struct hh_diag d = { { 0 } };

    if (hh_store_close(st, &d) != HH_OK)
        fail_msg("close: %s", d.msg);
}

static struct hh_store_kill_row latest(const char *path, bool want)
{
    struct hh_store_kill_row k;
    struct hh_diag d = { { 0 } };
    bool found = !want;

    if (hh_journal_kill_state(path, &k, &found, &d) != HH_OK)
        fail_msg("kill state %s: %s", path, d.msg);
    assert_int_equal(found, want);
    return k;
}

static void test_requests_stored_and_read(void **state)
{
    struct hh_store_kill req = { .id = 0, .action = HH_KILL_HALT, .reason = "broker down",
                                 .at = T0, .by = "cli:ops", .applied_at = HH_TIME_NONE };
    struct hh_store_kill mark = { .id = 1, .applied_at = T0 + 5 };
    struct hh_store_kill_row k;
    struct hh_store *st;
    char p[512];

    (void)state;
    st = open_ok(db_path(p, sizeof p, "req.db"));
    close_ok(st);
    latest(p, false);
    st = open_ok(p);
    assert_int_equal(hh_store_put_kill(st, &req, 0), HH_OK);
    close_ok(st);
    k = latest(p, true);
    assert_int_equal(k.id, 1);
    assert_int_equal(k.action, HH_KILL_HALT);
    assert_string_equal(hh_store_kill_state_name(k.action), "HALTED");
    assert_string_equal(k.reason, "broker down");
    assert_string_equal(k.by, "cli:ops");
    assert_int_equal(k.at, T0);
    assert_true(k.applied_at == HH_TIME_NONE);
    st = open_ok(p);
    {
        struct hh_store_rec r = { .kind = HH_STORE_KILL_APPLIED, .u.kill = mark };

        assert_int_equal(hh_store_submit(st, &r, 1, 0, NULL, NULL), HH_OK);
    }
    close_ok(st);
    k = latest(p, true);
    assert_int_equal(k.applied_at, T0 + 5);
    assert_string_equal(hh_store_kill_action_name(HH_KILL_FLATTEN), "flatten");
    assert_int_equal(hh_store_kill_action_parse("resume"), HH_KILL_RESUME);
    assert_int_equal(hh_store_kill_action_parse("stop"), -1);
}

static void test_invalid_requests_refused(void **state)
{
    char p[512], reason[HH_STORE_KILL_REASON_MAX + 2];
    struct hh_store *st = open_ok(db_path(p, sizeof p, "bad.db"));
    struct hh_store_kill k = { .id = 0, .action = HH_KILL_PAUSE, .reason = "", .at = T0,
                               .by = "cli:ops", .applied_at = HH_TIME_NONE };
    struct hh_diag d = { { 0 } };

    (void)state;
    memset(reason, 'x', sizeof reason - 1);
    reason[sizeof reason - 1] = '\0';
    k.reason = reason;
    assert_int_equal(hh_store_put_kill(st, &k, 0), HH_EINVAL);
    k.reason = "";
    k.by = "";
    assert_int_equal(hh_store_put_kill(st, &k, 0), HH_EINVAL);
    k.by = "cli:ops";
    k.action = HH_KILL_COUNT;
    assert_int_equal(hh_store_put_kill(st, &k, 0), HH_EINVAL);
    k.action = HH_KILL_PAUSE;
    k.at = HH_TIME_NONE;
    assert_int_equal(hh_store_kill_request(p, &k, 1000, NULL, &d), HH_EINVAL);
    assert_non_null(strstr(d.msg, "field at"));
    close_ok(st);
}

static void test_side_door_beside_the_writer(void **state)
{
    char p[512];
    struct hh_store *st = open_ok(db_path(p, sizeof p, "side.db"));
    struct hh_store_kill k = { .id = 0, .action = HH_KILL_FLATTEN, .reason = "drill", .at = T0,
                               .by = "cli:ops", .applied_at = T0 };
    struct hh_store_reader *r = NULL;
    struct hh_store_verify v;
    struct hh_diag d = { { 0 } };
    int64_t id = 0;

    (void)state;
    for (int i = 0; i < 200; i++) {
        struct hh_store_audit a = { .at = T0 + i, .kind = HH_AUDIT_ORDER_SENT };

        assert_int_equal(hh_store_put_audit(st, &a, 0), HH_OK);
        if (i == 100) {
            if (hh_store_kill_request(p, &k, 5000, &id, &d) != HH_OK)
                fail_msg("side door: %s", d.msg);
            assert_int_equal(id, 1);
        }
    }
    close_ok(st);                           /* the writer never noticed */
    assert_int_equal(hh_store_reader_open(p, &r, &d), HH_OK);
    assert_int_equal(hh_store_audit_verify(r, &v, &d), HH_OK);
    hh_store_reader_close(r);
    assert_true(v.ok);
    assert_int_equal(v.count, 200);
    /* a side-door request is pending whatever it said */
    assert_true(latest(p, true).applied_at == HH_TIME_NONE);
    /* an older schema has no table for it */
    raw_exec(p, "DROP INDEX signals_by_message; DROP TABLE outbox;"
                "ALTER TABLE signals DROP COLUMN topic;"
                "ALTER TABLE signals DROP COLUMN kafka_partition;"
                "ALTER TABLE signals DROP COLUMN kafka_offset;"
                "DROP TABLE kill_switch; PRAGMA user_version = 3;");
    assert_int_equal(hh_store_kill_request(p, &k, 5000, &id, &d), HH_EDB);
    assert_non_null(strstr(d.msg, "schema version 3 has no kill switch table"));
    latest(p, false);
    assert_int_equal(hh_store_kill_request("/nonexistent/x.db", &k, 10, &id, &d),
                     HH_ENOTFOUND);
}

static struct hh_journal *journal(const char *path)
{
    struct hh_journal_opts o;
    struct hh_journal *p = NULL;
    struct hh_diag d = { { 0 } };

    hh_journal_opts_default(&o);
    o.mode = "test";
    if (hh_journal_open(path, &o, NULL, &p, &d) != HH_OK)
        fail_msg("journal %s: %s", path, d.msg);
    return p;
}

static void finish(struct hh_journal *p, hh_time_t at)
{
    struct hh_diag d = { { 0 } };

    if (hh_journal_finish(p, at, &d) || hh_journal_close(p, &d))
        fail_msg("journal: %s", d.msg);
}

static void test_journal_kill(void **state)
{
    struct hh_store_kill_row api = { .id = 0, .action = HH_KILL_REDUCE, .reason = "margin",
                                     .by = "api:ops1", .at = T0, .applied_at = HH_TIME_NONE };
    struct hh_store_kill_row k;
    struct hh_store_kill cli = { .id = 0, .action = HH_KILL_HALT, .reason = "",
                                 .at = T0 + 10 * HH_NS_PER_S,
                                 .by = "cli:ops", .applied_at = HH_TIME_NONE };
    struct hh_journal *p;
    struct hh_diag d = { { 0 } };
    char path[512];

    (void)state;
    p = journal(db_path(path, sizeof path, "jk.db"));
    /* from the API: a row applied at once and its audit row */
    assert_int_equal(hh_journal_kill(p, &api, true, T0 + 1), HH_OK);
    assert_int_equal(hh_journal_step(p, T0 + 1), HH_OK);
    finish(p, T0 + 1);
    k = latest(path, true);
    assert_int_equal(k.action, HH_KILL_REDUCE);
    assert_int_equal(k.applied_at, T0 + 1);
    assert_string_equal(raw_text(path, "SELECT payload FROM audit WHERE kind = 'KILL_SWITCH'"),
                        "{\"action\":\"reduce\",\"state\":\"REDUCING\",\"reason\":\"margin\","
                        "\"by\":\"api:ops1\",\"requested_at\":\"2025-01-02T09:25:00+05:30\","
                        "\"applied\":true}");
    /* from `hedgehog kill` beside the engine: taken up at the next poll */
    assert_int_equal(hh_store_kill_request(path, &cli, 1000, NULL, &d), HH_OK);
    k = latest(path, true);
    assert_true(k.applied_at == HH_TIME_NONE);
    p = journal(path);
    assert_int_equal(hh_journal_kill(p, &k, false, T0 + 20), HH_EINVAL);   /* must apply */
    assert_int_equal(hh_journal_kill(p, &k, true, T0 + 20), HH_OK);
    finish(p, T0 + 20);
    k = latest(path, true);
    assert_int_equal(k.id, 2);
    assert_int_equal(k.applied_at, T0 + 20);
    assert_string_equal(raw_text(path, "SELECT payload FROM audit WHERE kind = 'KILL_SWITCH' "
                                       "ORDER BY seq DESC LIMIT 1"),
                        "{\"request_id\":2,\"action\":\"halt\",\"state\":\"HALTED\","
                        "\"reason\":\"\",\"by\":\"cli:ops\","
                        "\"requested_at\":\"2025-01-02T09:25:10+05:30\",\"applied\":true}");
    assert_string_equal(raw_text(path, "SELECT at FROM audit WHERE kind = 'KILL_SWITCH' "
                                       "ORDER BY seq DESC LIMIT 1"), "1735790100000000020");
}

static void test_signal_decision_time_and_latency(void **state)
{
    struct hh_sig_reject rej;
    struct hh_journal *p;
    char path[512];

    (void)state;
    p = journal(db_path(path, sizeof path, "lat.db"));
    hh_sig_reject_set(&rej, HH_SIG_RR_TOO_LOW, HH_TIME_NONE, "rr");
    assert_int_equal(hh_journal_signal_step(p, "{}", 2, 1, NULL, &rej), HH_OK);
    hh_journal_signal_latency(p, 1234567);
    assert_int_equal(hh_journal_signal_step(p, "{}", 2, 2, NULL, &rej), HH_OK);
    assert_int_equal(hh_journal_step(p, T0 + 7), HH_OK);
    hh_journal_signal_latency(p, 99);       /* the step is gone: ignored */
    finish(p, T0 + 7);
    assert_string_equal(raw_text(path, "SELECT group_concat(coalesce(latency_ns, 'NULL')) "
                                       "FROM signals"), "1234567,NULL");
    assert_string_equal(raw_text(path, "SELECT group_concat(decided_at) FROM signals"),
                        "1735790100000000007,1735790100000000007");
    assert_string_equal(raw_text(path, "SELECT count(*) FROM signals WHERE received_at IS NULL"),
                        "2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests_stored_and_read),
        cmocka_unit_test(test_invalid_requests_refused),
        cmocka_unit_test(test_side_door_beside_the_writer),
        cmocka_unit_test(test_journal_kill),
        cmocka_unit_test(test_signal_decision_time_and_latency),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);

    tu_cleanup();
    return rc;
}
