/*
 * store_crashwriter.c — the writer and the checker of the store's crash
 * consistency test (tests/integration/test_store_crash.sh), also used by
 * the other store integration tests to fill databases.
 *
 *   store_crashwriter write --db F --run K [--count N] [--sync normal|full]
 *                     [--seconds S] [--max-pages P] [--queue BYTES]
 *       Opens the store and submits units n = 1, 2, … as fast as it can
 *       (until N units, or S seconds, default 60, or a kill).  Unit n of run K:
 *         n % 3 == 1  one signal record, signal_id "r<K>u<n>"
 *         n % 3 == 2  one audit record, correlation id "r<K>u<n>"
 *         n % 3 == 0  an atomic group of 3: order event + fill (order id
 *                     K*10^9+n, exec id n) + audit ORDER_FILLED "r<K>u<n>"
 *       Each unit's token is n; the ack callback writes "n\n" to stdout
 *       with write(2) as soon as the unit's transaction has committed, so
 *       what the harness reads was acknowledged before any kill.
 *       Exit 0 done; 1 the store failed (message on stderr); 2 open refused.
 *
 *   store_crashwriter check --db F [--run K --acked FILE]
 *       Reopens the database and checks: PRAGMA integrity_check is ok; the
 *       audit chain verifies; every unit of run K listed in FILE (complete
 *       lines only) is present; no atomic group is present in part.
 *       Prints one summary line; exit 0 all good, 1 a violation.
 */
#include "store/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define GROUP_BASE 1000000000ULL

struct args {
    const char *mode, *db, *acked, *sync;
    long run, count, seconds, max_pages, queue;
};

static void usage(void)
{
    fprintf(stderr, "usage: store_crashwriter write --db F --run K [--count N] "
                    "[--sync normal|full] [--seconds S] [--max-pages P] [--queue BYTES]\n"
                    "       store_crashwriter check --db F [--run K --acked FILE]\n");
    exit(2);
}

static void parse(int argc, char **argv, struct args *a)
{
    memset(a, 0, sizeof *a);
    a->seconds = 60;
    if (argc < 2)
        usage();
    a->mode = argv[1];
    for (int i = 2; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];

        if (!strcmp(k, "--db")) a->db = v;
        else if (!strcmp(k, "--acked")) a->acked = v;
        else if (!strcmp(k, "--sync")) a->sync = v;
        else if (!strcmp(k, "--run")) a->run = atol(v);
        else if (!strcmp(k, "--count")) a->count = atol(v);
        else if (!strcmp(k, "--seconds")) a->seconds = atol(v);
        else if (!strcmp(k, "--max-pages")) a->max_pages = atol(v);
        else if (!strcmp(k, "--queue")) a->queue = atol(v);
        else usage();
    }
    if (!a->db || (argc % 2) != 0)
        usage();
}

/* ---- write ------------------------------------------------------------------------ */

/* On the writer thread, right after COMMIT: report the unit. */
static void on_ack(void *ctx, uint64_t token, uint64_t seq)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%llu\n", (unsigned long long)token);

    (void)ctx;
    (void)seq;
    if (write(1, buf, (size_t)n) != n)
        _exit(3);
}

static int submit_unit(struct hh_store *st, long run, long n, struct hh_diag *d)
{
    char id[48], raw[160], payload[96];
    struct hh_store_rec r[3];
    hh_time_t t = 1735790100LL * HH_NS_PER_S + n * HH_NS_PER_MS;
    uint64_t oid = (uint64_t)run * GROUP_BASE + (uint64_t)n;

    snprintf(id, sizeof id, "r%ldu%ld", run, n);
    memset(r, 0, sizeof r);
    if (n % 3 == 1) {
        snprintf(raw, sizeof raw, "{\"id\":\"%s\",\"symbol\":\"NIFTY\",\"side\":\"BUY\","
                 "\"entry\":\"22000\"}", id);
        r[0].kind = HH_STORE_SIGNAL;
        r[0].u.signal = (struct hh_store_signal){ .signal_id = id, .line = (uint64_t)n,
                                                  .raw = raw, .received_at = t,
                                                  .accepted = true, .correlation_id = id };
        return hh_store_submit(st, r, 1, (uint64_t)n, NULL, d);
    }
    snprintf(payload, sizeof payload, "{\"order_id\":%llu,\"unit\":%ld}",
             (unsigned long long)oid, n);
    if (n % 3 == 2) {
        r[0].kind = HH_STORE_AUDIT;
        r[0].u.audit = (struct hh_store_audit){ .at = t, .kind = HH_AUDIT_SIGNAL_ACCEPTED,
                                                .correlation_id = id, .payload = payload };
        return hh_store_submit(st, r, 1, (uint64_t)n, NULL, d);
    }
    r[0].kind = HH_STORE_ORDER_EVENT;
    r[0].u.order_event = (struct hh_store_order_event){
        .order_id = oid, .kind = HH_RPT_FILL, .at = t, .qty = 50, .price = 220005000,
        .filled = 50, .leaves = 0, .exec_id = (uint64_t)n };
    r[1].kind = HH_STORE_FILL;
    r[1].u.fill = (struct hh_store_fill){
        .ts = t, .order_id = oid, .trade_id = (uint32_t)n, .signal_id = id,
        .symbol = "NIFTY", .side = HH_BUY, .qty = 50, .price = 220005000,
        .reason = "ENTRY", .charges = 123400, .exec_id = (uint64_t)n };
    r[2].kind = HH_STORE_AUDIT;
    r[2].u.audit = (struct hh_store_audit){ .at = t, .kind = HH_AUDIT_ORDER_FILLED,
                                            .correlation_id = id, .payload = payload };
    return hh_store_submit(st, r, 3, (uint64_t)n, NULL, d);
}

static int do_write(const struct args *a)
{
    struct hh_store_opts o;
    struct hh_store *st;
    struct hh_diag d = { { 0 } };
    time_t end = time(NULL) + a->seconds;
    int rc;

    hh_store_opts_default(&o);
    o.ack = on_ack;
    if (a->sync && !strcmp(a->sync, "full"))
        o.sync = HH_STORE_SYNC_FULL;
    o.max_pages = a->max_pages;
    if (a->queue)
        o.queue_bytes = (size_t)a->queue;
    if (hh_store_open(a->db, &o, &st, &d) != HH_OK) {
        fprintf(stderr, "store_crashwriter: %s\n", d.msg);
        return 2;
    }
    rc = HH_OK;
    for (long n = 1; !rc && (a->count == 0 || n <= a->count); n++) {
        if ((n & 1023) == 0 && time(NULL) >= end)
            break;
        rc = submit_unit(st, a->run, n, &d);
    }
    if (!rc)
        rc = hh_store_flush(st, &d);
    if (hh_store_close(st, rc ? NULL : &d) && !rc)
        rc = HH_EDB;
    if (rc) {
        fprintf(stderr, "store_crashwriter: %s\n", d.msg);
        return 1;
    }
    return 0;
}

/* ---- check ------------------------------------------------------------------------ */

static long long q1(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s;
    long long v = -1;

    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static bool exists(sqlite3_stmt *s, const char *text, long long num)
{
    bool found;

    if (text)
        sqlite3_bind_text(s, 1, text, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_int64(s, 1, num);
    found = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_reset(s);
    return found;
}

/* Every acknowledged unit of the run is present.  Returns violations. */
static long check_acked(sqlite3 *db, const struct args *a, long *nacked)
{
    sqlite3_stmt *sig, *aud, *ev, *fill;
    char line[64], id[48];
    long bad = 0, last = 0;
    FILE *f = fopen(a->acked, "r");

    *nacked = 0;
    if (!f) {
        fprintf(stderr, "check: %s: cannot open\n", a->acked);
        return 1;
    }
    sqlite3_prepare_v2(db, "SELECT 1 FROM signals WHERE signal_id = ?1", -1, &sig, NULL);
    sqlite3_prepare_v2(db, "SELECT 1 FROM audit WHERE correlation_id = ?1", -1, &aud, NULL);
    sqlite3_prepare_v2(db, "SELECT 1 FROM order_events WHERE order_id = ?1", -1, &ev, NULL);
    sqlite3_prepare_v2(db, "SELECT 1 FROM fills WHERE order_id = ?1", -1, &fill, NULL);
    while (fgets(line, sizeof line, f)) {
        long n;
        long long oid;
        bool ok;

        if (!strchr(line, '\n'))
            break;                       /* cut by the kill: not a complete ack */
        n = atol(line);
        oid = a->run * (long long)GROUP_BASE + n;
        snprintf(id, sizeof id, "r%ldu%ld", a->run, n);
        if (n % 3 == 1)
            ok = exists(sig, id, 0);
        else if (n % 3 == 2)
            ok = exists(aud, id, 0);
        else
            ok = exists(ev, NULL, oid) && exists(fill, NULL, oid) && exists(aud, id, 0);
        if (!ok && bad++ < 5)
            fprintf(stderr, "check: run %ld unit %ld was acknowledged but is missing\n",
                    a->run, n);
        if (n <= last && bad++ < 5)
            fprintf(stderr, "check: ack of unit %ld after unit %ld (out of order)\n", n, last);
        last = n;
        (*nacked)++;
    }
    fclose(f);
    sqlite3_finalize(sig);
    sqlite3_finalize(aud);
    sqlite3_finalize(ev);
    sqlite3_finalize(fill);
    return bad;
}

/* No group is present in part: each order event has its fill and its
 * ORDER_FILLED audit row, and the other way round. */
static long check_groups(sqlite3 *db, long long *ngroups)
{
    static const char *const orphans[] = {
        "SELECT count(*) FROM order_events e LEFT JOIN fills f ON f.order_id = e.order_id "
        "AND f.exec_id = e.exec_id WHERE f.id IS NULL",
        "SELECT count(*) FROM fills f LEFT JOIN order_events e ON e.order_id = f.order_id "
        "AND e.exec_id = f.exec_id WHERE e.id IS NULL",
        "SELECT count(*) FROM audit a WHERE a.kind = 'ORDER_FILLED' AND NOT EXISTS "
        "(SELECT 1 FROM order_events e WHERE e.order_id = "
        "json_extract(a.payload, '$.order_id'))",
        "SELECT count(*) FROM order_events e WHERE NOT EXISTS (SELECT 1 FROM audit a "
        "WHERE a.kind = 'ORDER_FILLED' AND a.correlation_id = 'r' || (e.order_id / "
        "1000000000) || 'u' || (e.order_id % 1000000000))",
    };
    long bad = 0;

    *ngroups = q1(db, "SELECT count(*) FROM order_events");
    for (size_t i = 0; i < sizeof orphans / sizeof *orphans; i++) {
        long long n = q1(db, orphans[i]);

        if (n != 0) {
            fprintf(stderr, "check: %lld half-written group(s) (query %zu)\n", n, i + 1);
            bad++;
        }
    }
    return bad;
}

/* Complete lines in the acked file. */
static long count_acked(const char *path)
{
    FILE *f = fopen(path, "r");
    long n = 0;
    int c;

    if (!f)
        return -1;
    while ((c = getc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

static int do_check(const struct args *a)
{
    struct hh_store_reader *r;
    struct hh_store_verify v;
    struct hh_diag d = { { 0 } };
    sqlite3 *db = NULL;
    sqlite3_stmt *s;
    long bad = 0, nacked = 0;
    long long ngroups = 0;
    const char *ic = "?";

    if (hh_store_reader_open(a->db, &r, &d) != HH_OK) {
        /* Killed before the schema was committed: fine if nothing was acked. */
        if (hh_store_reader_open(a->db, &r, &d) == HH_ENOTFOUND && a->acked &&
            count_acked(a->acked) == 0) {
            printf("check: %s: no schema yet, nothing acked: ok\n", a->db);
            return 0;
        }
        fprintf(stderr, "check: %s\n", d.msg);
        return 1;
    }
    if (hh_store_audit_verify(r, &v, &d) != HH_OK || !v.ok) {
        fprintf(stderr, "check: audit chain: %s\n", v.ok ? d.msg : v.why);
        bad++;
    }
    hh_store_reader_close(r);
    if (sqlite3_open_v2(a->db, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "check: %s: %s\n", a->db, sqlite3_errmsg(db));
        sqlite3_close(db);
        return 1;
    }
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        ic = (const char *)sqlite3_column_text(s, 0);
    if (strcmp(ic, "ok") != 0) {
        fprintf(stderr, "check: integrity_check: %s\n", ic);
        bad++;
    }
    sqlite3_finalize(s);
    if (a->acked)
        bad += check_acked(db, a, &nacked);
    bad += check_groups(db, &ngroups);
    printf("check: %s: audit %llu records, %lld groups, %ld acked units of run %ld "
           "present: %s\n", a->db, (unsigned long long)v.count, ngroups, nacked, a->run,
           bad ? "FAILED" : "ok");
    sqlite3_close(db);
    return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
    struct args a;

    parse(argc, argv, &a);
    if (!strcmp(a.mode, "write"))
        return do_write(&a);
    if (!strcmp(a.mode, "check"))
        return do_check(&a);
    usage();
    return 2;
}
