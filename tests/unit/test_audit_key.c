/*
 * test_audit_key.c — the keyed audit chain: the MAC's known answer (an
 * independent HMAC of the documented encoding), a key file refused when
 * others may read it, a fresh database keyed from its first record, a key
 * rotation verified with both keys and reported unverified with one, a
 * keyed chain refused to a writer without its key, a version-3 database
 * migrated and then keyed (its unkeyed records pinned by the first keyed
 * one), and tampering: an edited keyed record, a keyed record re-hashed
 * without the key (a downgrade), a record re-keyed with another key, the
 * whole chain rewritten unkeyed, a forged rotation.
 */
#include "testutil.h"

#include "store/store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#define T0 (1735790100LL * HH_NS_PER_S)   /* 2025-01-02T09:25:00+05:30 */

/* A fresh path under the per-process temp directory (files removed). */
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

/* Key i: 32 bytes i, i+1, ... */
static struct hh_store_audit_key key_n(int i)
{
    unsigned char b[32];
    struct hh_store_audit_key k;

    for (int j = 0; j < 32; j++)
        b[j] = (unsigned char)(i + j);
    assert_int_equal(hh_store_audit_key_set(&k, b, sizeof b), HH_OK);
    return k;
}

/* Open path with key k (NULL: unkeyed), add n audit rows, close. */
static void write_rows(const char *path, const struct hh_store_audit_key *k, int n)
{
    struct hh_store_opts o;
    struct hh_store *st = NULL;
    struct hh_diag d = { { 0 } };

    hh_store_opts_default(&o);
    o.audit_key = k;
    if (hh_store_open(path, &o, &st, &d) != HH_OK)
        fail_msg("open %s: %s", path, d.msg);
    for (int i = 0; i < n; i++) {
        char payload[32];
        struct hh_store_audit a = { .at = T0 + i, .kind = HH_AUDIT_ORDER_SENT,
                                    .correlation_id = "c", .payload = payload };

        snprintf(payload, sizeof payload, "{\"n\":%d}", i);
        assert_int_equal(hh_store_put_audit(st, &a, 0), HH_OK);
    }
    if (hh_store_close(st, &d) != HH_OK)
        fail_msg("close: %s", d.msg);
}

static struct hh_store_verify verify_with(const char *path, const struct hh_store_audit_key *keys,
                                          size_t n)
{
    struct hh_store_reader *r = NULL;
    struct hh_store_verify v;
    struct hh_diag d = { { 0 } };

    if (hh_store_reader_open(path, &r, &d) != HH_OK)
        fail_msg("reader %s: %s", path, d.msg);
    assert_int_equal(hh_store_audit_verify_keys(r, keys, n, &v, &d), HH_OK);
    hh_store_reader_close(r);
    return v;
}

/* The walk finds record `seq` bad, saying `why`. */
static void expect_bad(const char *path, const struct hh_store_audit_key *keys, size_t n,
                       uint64_t seq, const char *why)
{
    struct hh_store_verify v = verify_with(path, keys, n);

    if (v.ok || v.bad_seq != seq || !strstr(v.why, why))
        fail_msg("%s: wanted bad seq %llu '%s', got ok=%d seq %llu '%s'", path,
                 (unsigned long long)seq, why, v.ok, (unsigned long long)v.bad_seq, v.why);
}

static void test_mac_known_answer(void **state)
{
    struct hh_store_audit_key k = key_n(0);
    char h[HH_STORE_HASH_HEX], plain[HH_STORE_HASH_HEX];

    (void)state;
    /* Python: hmac.new(bytes(range(32)), b"HHAUDITK" + ..., sha256) */
    assert_string_equal(k.id, "630dcd29");
    assert_int_equal(hh_store_audit_mac(&k, 1, T0, "SIGNAL_ACCEPTED", "sig-1", 5,
                                        "{\"id\":\"sig-1\"}", 14, hh_store_genesis_hash, h),
                     HH_OK);
    assert_string_equal(h, "a8e47ce5bb6d80a2ef3a893e139b30635b7be7d2ac07fdcafbb5ff07d3119d36");
    assert_int_equal(hh_store_audit_hash(1, T0, "SIGNAL_ACCEPTED", "sig-1", 5,
                                         "{\"id\":\"sig-1\"}", 14, hh_store_genesis_hash, plain),
                     HH_OK);
    assert_string_not_equal(h, plain);
    assert_int_equal(hh_store_audit_key_set(&k, "short", 5), HH_EINVAL);
}

static void test_key_file(void **state)
{
    char hex[65 + 2];
    const char *path;
    struct hh_store_audit_key k;
    struct hh_diag d = { { 0 } };

    (void)state;
    for (int i = 0; i < 32; i++)
        sprintf(hex + 2 * i, "%02x", i);
    strcat(hex, "\n");
    path = tu_write_file(0, "audit.key", hex);
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(hh_store_audit_key_read(path, &k, &d), HH_ECONFIG);
    assert_non_null(strstr(d.msg, "readable or writable by group or others (mode 0640)"));
    assert_non_null(strstr(d.msg, path));
    assert_null(strstr(d.msg, "000102"));
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(hh_store_audit_key_read(path, &k, &d), HH_OK);
    assert_string_equal(k.id, "630dcd29");
    assert_int_equal(k.len, 32);
    hh_store_audit_key_wipe(&k);
    path = tu_write_file(0, "audit.key", "# too short\n00112233\n");
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(hh_store_audit_key_read(path, &k, &d), HH_ECONFIG);
    assert_non_null(strstr(d.msg, "64-256 hex digits"));
    assert_null(strstr(d.msg, "00112233"));
}

static void test_fresh_database_keyed(void **state)
{
    struct hh_store_audit_key k = key_n(1), other = key_n(2);
    struct hh_store_verify v;
    struct hh_store_audit a = { .at = T0, .kind = HH_AUDIT_KEY_ROTATED };
    struct hh_store_opts o;
    struct hh_store *st = NULL;
    struct hh_diag d = { { 0 } };
    char p[512];

    (void)state;
    write_rows(db_path(p, sizeof p, "fresh.db"), &k, 3);
    v = verify_with(p, &k, 1);
    assert_true(v.ok);
    assert_int_equal(v.count, 4);            /* KEY_ROTATED + 3 */
    assert_int_equal(v.keyed_since, 1);
    assert_int_equal(v.macs, 4);
    assert_int_equal(v.unverified, 0);
    assert_string_equal(v.head_key, k.id);
    /* without the key: the links hold, the MACs are not checked */
    v = verify_with(p, NULL, 0);
    assert_true(v.ok);
    assert_int_equal(v.unverified, 4);
    assert_int_equal(v.first_unverified, 1);
    assert_string_equal(v.unverified_key, k.id);
    /* a wrong key checks nothing either */
    v = verify_with(p, &other, 1);
    assert_true(v.ok);
    assert_int_equal(v.unverified, 4);
    /* a caller cannot write a rotation */
    hh_store_opts_default(&o);
    o.audit_key = &k;
    assert_int_equal(hh_store_open(p, &o, &st, &d), HH_OK);
    assert_int_equal(hh_store_put_audit(st, &a, 0), HH_EINVAL);
    assert_int_equal(hh_store_close(st, &d), HH_OK);
}

static void test_rotation(void **state)
{
    struct hh_store_audit_key k1 = key_n(1), k2 = key_n(2), both[2];
    struct hh_store_verify v;
    char p[512];

    (void)state;
    db_path(p, sizeof p, "rot.db");
    write_rows(p, &k1, 2);                   /* seq 1 rotation, 2-3 */
    write_rows(p, &k1, 1);                   /* same key: no rotation, seq 4 */
    write_rows(p, &k2, 2);                   /* seq 5 rotation, 6-7 */
    both[0] = k2;
    both[1] = k1;
    v = verify_with(p, both, 2);
    assert_true(v.ok);
    assert_int_equal(v.count, 7);
    assert_int_equal(v.rotations, 2);
    assert_int_equal(v.macs, 7);
    assert_string_equal(v.head_key, k2.id);
    /* only the new key: the old key's records are unverified */
    v = verify_with(p, &k2, 1);
    assert_true(v.ok);
    assert_int_equal(v.unverified, 4);
    assert_int_equal(v.first_unverified, 1);
    assert_string_equal(v.unverified_key, k1.id);
    assert_int_equal(v.macs, 3);
}

static void test_keyed_chain_needs_its_key(void **state)
{
    struct hh_store_audit_key k = key_n(1);
    struct hh_store *st = NULL;
    struct hh_diag d = { { 0 } };
    char p[512];

    (void)state;
    write_rows(db_path(p, sizeof p, "nokey.db"), &k, 1);
    assert_int_equal(hh_store_open(p, NULL, &st, &d), HH_ECONFIG);
    assert_null(st);
    assert_non_null(strstr(d.msg, "keyed (key id "));
    assert_non_null(strstr(d.msg, k.id));
    assert_true(verify_with(p, &k, 1).ok);   /* untouched */
}

/* Make a database written by this code look like a version-3 one (the
 * schema before keys, kill switch and decision times). */
static void downgrade_to_v3(const char *path)
{
    raw_exec(path, "DROP TABLE checkpoint_chunks; DELETE FROM checkpoints;"
                   "DROP INDEX signals_by_message; DROP TABLE outbox;"
                   "ALTER TABLE signals DROP COLUMN topic;"
                   "ALTER TABLE signals DROP COLUMN kafka_partition;"
                   "ALTER TABLE signals DROP COLUMN kafka_offset;"
                   "DROP TABLE kill_switch; ALTER TABLE audit DROP COLUMN key_id;"
                   "ALTER TABLE signals DROP COLUMN decided_at;"
                   "ALTER TABLE signals DROP COLUMN latency_ns; PRAGMA user_version = 3;");
}

static void test_old_database_migrated_and_keyed(void **state)
{
    struct hh_store_audit_key k = key_n(3);
    struct hh_store_reader *r = NULL;
    struct hh_store_verify v;
    struct hh_diag d = { { 0 } };
    char p[512];

    (void)state;
    write_rows(db_path(p, sizeof p, "old.db"), NULL, 3);
    downgrade_to_v3(p);
    v = verify_with(p, NULL, 0);             /* a v3 chain verifies as before */
    assert_true(v.ok);
    assert_int_equal(v.count, 3);
    assert_int_equal(v.keyed_since, 0);
    write_rows(p, &k, 1);                    /* migrates, rotation at seq 4 */
    assert_int_equal(hh_store_reader_open(p, &r, &d), HH_OK);
    assert_int_equal(hh_store_schema_version(r), HH_STORE_SCHEMA_VERSION);
    hh_store_reader_close(r);
    v = verify_with(p, &k, 1);
    assert_true(v.ok);
    assert_int_equal(v.count, 5);
    assert_int_equal(v.keyed_since, 4);
    assert_int_equal(v.macs, 2);
    /* the unkeyed past is pinned: editing it breaks the first keyed link */
    raw_exec(p, "DROP TRIGGER audit_no_update;"
                "UPDATE audit SET payload = '{\"n\":9}' WHERE seq = 2");
    expect_bad(p, &k, 1, 2, "hash mismatch");
}

/* A keyed chain of 5 (rotation + 4) with the triggers dropped, for an
 * attacker. */
static const char *tamper_fixture(char *p, size_t cap, const char *name,
                                  const struct hh_store_audit_key *k)
{
    write_rows(db_path(p, cap, name), k, 4);
    raw_exec(p, "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;");
    return p;
}

/* Re-link row seq with hash h (and its successor's prev_hash, and the
 * head when it is the last). */
static void relink(const char *path, int seq, const char *key_id, const char *h)
{
    char sql[600];

    snprintf(sql, sizeof sql, "UPDATE audit SET hash = '%s', key_id = %s%s%s WHERE seq = %d;"
             "UPDATE audit SET prev_hash = '%s' WHERE seq = %d;"
             "UPDATE audit_head SET hash = '%s' WHERE seq = %d;", h, key_id ? "'" : "",
             key_id ? key_id : "NULL", key_id ? "'" : "", seq, h, seq + 1, h, seq);
    raw_exec(path, sql);
}

/* The stored hash of row seq. */
static void read_hash(const char *path, int seq, char out[HH_STORE_HASH_HEX])
{
    sqlite3 *db;
    sqlite3_stmt *s;
    char sql[64];

    snprintf(sql, sizeof sql, "SELECT hash FROM audit WHERE seq = %d", seq);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    snprintf(out, HH_STORE_HASH_HEX, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    sqlite3_close(db);
}

static void test_tamper_keyed(void **state)
{
    struct hh_store_audit_key k = key_n(1), evil = key_n(7);
    struct hh_store_verify v;
    char p[512], prev[HH_STORE_HASH_HEX], h[HH_STORE_HASH_HEX];

    (void)state;
    /* an edited keyed record */
    raw_exec(tamper_fixture(p, sizeof p, "t_edit.db", &k),
             "UPDATE audit SET payload = '{\"n\":7}' WHERE seq = 3");
    expect_bad(p, &k, 1, 3, "MAC mismatch");
    /* seq 3 ({"n":1} at T0 + 1) edited and re-hashed without the key (a
     * downgrade), the next link and the head re-pointed */
    raw_exec(tamper_fixture(p, sizeof p, "t_down.db", &k),
             "UPDATE audit SET payload = '{\"n\":7}' WHERE seq = 3");
    read_hash(p, 2, prev);
    assert_int_equal(hh_store_audit_hash(3, T0 + 1, "ORDER_SENT", "c", 1, "{\"n\":7}", 7, prev,
                                         h), HH_OK);
    relink(p, 3, NULL, h);
    expect_bad(p, &k, 1, 3, "unkeyed record after the chain was keyed");
    v = verify_with(p, NULL, 0);             /* seen without the key too */
    assert_false(v.ok);
    assert_int_equal(v.bad_seq, 3);
    /* a record claiming another key id than the chain's */
    raw_exec(tamper_fixture(p, sizeof p, "t_other.db", &k),
             "UPDATE audit SET key_id = '00000000' WHERE seq = 5");
    expect_bad(p, &k, 1, 5, "keyed with 00000000 while the chain's key is");
    /* someone else's key rotated in (by a writer given it): the records
     * after it cannot be verified with ours, and say whose they are */
    write_rows(db_path(p, sizeof p, "t_evil.db"), &k, 4);
    write_rows(p, &evil, 1);
    v = verify_with(p, &k, 1);
    assert_true(v.ok);
    assert_int_equal(v.first_unverified, 6);
    assert_int_equal(v.unverified, 2);
    assert_string_equal(v.unverified_key, evil.id);
}

/* Rewrite every row of path as an unkeyed chain (SHA-256, the documented
 * encoding), as someone with the file but without the key would; rows of
 * kind `drop` are deleted first. */
static void rewrite_unkeyed(const char *path, const char *drop)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    char prev[HH_STORE_HASH_HEX], h[HH_STORE_HASH_HEX], sql[512];
    int seq = 0;

    snprintf(sql, sizeof sql, "DELETE FROM audit WHERE kind = '%s'", drop);
    raw_exec(path, sql);
    memcpy(prev, hh_store_genesis_hash, sizeof prev);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT seq, at, kind, correlation_id, payload "
                                        "FROM audit ORDER BY seq", -1, &s, NULL), SQLITE_OK);
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *corr = (const char *)sqlite3_column_text(s, 3);
        const char *pl = (const char *)sqlite3_column_text(s, 4);

        seq++;
        hh_store_audit_hash((uint64_t)seq, sqlite3_column_int64(s, 1),
                            (const char *)sqlite3_column_text(s, 2), corr, strlen(corr), pl,
                            strlen(pl), prev, h);
        snprintf(sql, sizeof sql, "UPDATE audit SET seq = %d, prev_hash = '%s', hash = '%s', "
                 "key_id = NULL WHERE seq = %lld", seq, prev, h, sqlite3_column_int64(s, 0));
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
        memcpy(prev, h, sizeof prev);
    }
    sqlite3_finalize(s);
    snprintf(sql, sizeof sql, "UPDATE audit_head SET seq = %d, hash = '%s'", seq, prev);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(db);
}

static void test_rewrite_whole_chain(void **state)
{
    struct hh_store_audit_key k = key_n(1);
    struct hh_store_verify v;
    char p[512];

    (void)state;
    /* the rotation dropped: a clean unkeyed chain, which only a verifier
     * with the key can refuse */
    rewrite_unkeyed(tamper_fixture(p, sizeof p, "t_all.db", &k), "KEY_ROTATED");
    assert_true(verify_with(p, NULL, 0).ok);
    v = verify_with(p, &k, 1);
    assert_false(v.ok);
    assert_int_equal(v.bad_seq, 4);
    assert_non_null(strstr(v.why, "ends unkeyed"));
    /* the rotation kept but unkeyed: refused by anyone */
    rewrite_unkeyed(tamper_fixture(p, sizeof p, "t_all2.db", &k), "none");
    expect_bad(p, NULL, 0, 1, "key rotation without a valid key id");
    /* a rotation whose payload does not say what its key id is */
    raw_exec(tamper_fixture(p, sizeof p, "t_rot.db", &k),
             "UPDATE audit SET payload = '{\"key_id\":\"630dcd29\",\"previous_key_id\":null}'"
             " WHERE seq = 1");
    expect_bad(p, &k, 1, 1, "does not follow the chain's key");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mac_known_answer),
        cmocka_unit_test(test_key_file),
        cmocka_unit_test(test_fresh_database_keyed),
        cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_keyed_chain_needs_its_key),
        cmocka_unit_test(test_old_database_migrated_and_keyed),
        cmocka_unit_test(test_tamper_keyed),
        cmocka_unit_test(test_rewrite_whole_chain),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);

    tu_cleanup();
    return rc;
}
