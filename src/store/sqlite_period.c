/*
 * sqlite_period.c — the reads of the operations surface on a reader's
 * connection: the latest kill-switch request, and what happened in a
 * period (the daily report's figures come from it).
 *
 * A period is read in one read transaction, so its signals, trades, orders
 * and audit rows are one consistent snapshot even while a writer commits.
 * Older schemas are read as far as they go: before v4 there is no
 * kill_switch table (no request), no decision time (a line's day is its
 * received_at) and no latency (0: not measured).
 */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

/* ---- the kill switch -------------------------------------------------------------- */

static void kill_cols(sqlite3_stmt *s, struct hh_store_kill_row *out)
{
    const char *reason = (const char *)sqlite3_column_text(s, 2);
    const char *by = (const char *)sqlite3_column_text(s, 4);

    out->id = sqlite3_column_int64(s, 0);
    out->action = (enum hh_store_kill_action)hh_store_kill_action_parse(
        (const char *)sqlite3_column_text(s, 1));
    snprintf(out->reason, sizeof out->reason, "%s", reason ? reason : "");
    out->at = sqlite3_column_int64(s, 3);
    snprintf(out->by, sizeof out->by, "%s", by ? by : "");
    out->applied_at = hh_store__col_time(s, 5);
}

int hh_store__sqlite_kill_latest(sqlite3 *db, const char *path, int version,
                                 struct hh_store_kill_row *out, bool *found,
                                 struct hh_diag *d)
{
    static const char what[] = "reading the kill switch";
    sqlite3_stmt *s;
    int rc;

    memset(out, 0, sizeof *out);
    *found = false;
    if (version < 4)
        return HH_OK;
    rc = hh_store__prepare(db, path, "SELECT id, action, reason, requested_at, requested_by, "
                           "applied_at FROM kill_switch ORDER BY id DESC LIMIT 1", what, &s,
                           d);
    if (rc)
        return rc;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        kill_cols(s, out);
        *found = true;
        if ((int)out->action < 0) {
            sqlite3_finalize(s);
            return hh_diag_set(d, HH_EDB, "%s: kill switch request %lld: unknown action",
                               path, (long long)out->id);
        }
        rc = SQLITE_DONE;
    }
    return hh_store__finish(db, path, s, rc, what, d);
}

/* ---- a period --------------------------------------------------------------------- */

/* Prepare sql with [from, to) bound as ?1, ?2. */
static int prep_range(sqlite3 *db, const char *path, const char *sql, const char *what,
                      hh_time_t from, hh_time_t to, sqlite3_stmt **s, struct hh_diag *d)
{
    int rc = hh_store__prepare(db, path, sql, what, s, d);

    if (!rc) {
        sqlite3_bind_int64(*s, 1, from);
        sqlite3_bind_int64(*s, 2, to);
    }
    return rc;
}

static int period_signals(sqlite3 *db, const char *path, int version, hh_time_t from,
                          hh_time_t to, const struct hh_store_period_fns *f, struct hh_diag *d)
{
    static const char what[] = "reading the period's signals";
    sqlite3_stmt *s;
    int rc = prep_range(db, path,
                        version >= 4
                            ? "SELECT decision, coalesce(reason, ''), coalesce(latency_ns, 0) "
                              "FROM signals WHERE coalesce(decided_at, received_at) >= ?1 AND "
                              "coalesce(decided_at, received_at) < ?2 ORDER BY id"
                            : "SELECT decision, coalesce(reason, ''), 0 FROM signals "
                              "WHERE received_at >= ?1 AND received_at < ?2 ORDER BY id",
                        what, from, to, &s, d);

    if (rc)
        return rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        f->signal(f->ctx, !strcmp((const char *)sqlite3_column_text(s, 0), "ACCEPTED"),
                  (const char *)sqlite3_column_text(s, 1), sqlite3_column_int64(s, 2));
    return hh_store__finish(db, path, s, rc, what, d);
}

/* The trades row of s as *t (strings borrowed). */
static void trade_cols(sqlite3_stmt *s, struct hh_store_trade *t)
{
    memset(t, 0, sizeof *t);
    t->trade_id = (uint32_t)sqlite3_column_int64(s, 0);
    t->signal_id = (const char *)sqlite3_column_text(s, 1);
    t->symbol = (const char *)sqlite3_column_text(s, 2);
    t->side = hh_store__side_parse((const char *)sqlite3_column_text(s, 3)) == HH_SELL
                  ? HH_SELL : HH_BUY;
    t->qty = sqlite3_column_int64(s, 4);
    t->entry_ts = hh_store__col_time(s, 5);
    t->entry_price = sqlite3_column_int64(s, 6);
    t->exit_ts = hh_store__col_time(s, 7);
    t->avg_exit_price = sqlite3_column_int64(s, 8);
    t->exit_reason = (const char *)sqlite3_column_text(s, 9);
    t->gross = sqlite3_column_int64(s, 10);
    t->charges = sqlite3_column_int64(s, 11);
    t->net = sqlite3_column_int64(s, 12);
    t->r_multiple_x100 = sqlite3_column_int64(s, 13);
}

static int period_trades(sqlite3 *db, const char *path, hh_time_t from, hh_time_t to,
                         const struct hh_store_period_fns *f, struct hh_diag *d)
{
    static const char what[] = "reading the period's trades";
    struct hh_store_trade t;
    sqlite3_stmt *s;
    int rc = prep_range(db, path,
                        "SELECT trade_id, signal_id, symbol, side, qty, entry_ts, entry_price, "
                        "exit_ts, avg_exit_price, exit_reason, gross_pnl, charges, net_pnl, "
                        "r_multiple_x100 FROM trades WHERE exit_ts >= ?1 AND exit_ts < ?2 "
                        "ORDER BY id", what, from, to, &s, d);

    if (rc)
        return rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        trade_cols(s, &t);
        f->trade(f->ctx, &t);
    }
    return hh_store__finish(db, path, s, rc, what, d);
}

static int period_orders(sqlite3 *db, const char *path, hh_time_t from, hh_time_t to,
                         const struct hh_store_period_fns *f, struct hh_diag *d)
{
    static const char what[] = "reading the period's orders";
    struct hh_store_order o;
    sqlite3_stmt *s;
    int rc = prep_range(db, path,
                        "SELECT client_id, order_id, trade_key, symbol, side, type, qty, "
                        "limit_price, trigger_price, state, created_at, "
                        "(SELECT min(e.at) FROM order_events e WHERE e.order_id = o.order_id "
                        " AND e.kind = 'ACK'), "
                        "(SELECT min(e.at) FROM order_events e WHERE e.order_id = o.order_id "
                        " AND e.kind = 'FILL') "
                        "FROM orders o WHERE created_at >= ?1 AND created_at < ?2 ORDER BY id",
                        what, from, to, &s, d);

    if (rc)
        return rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (!hh_store__order_cols(s, 0, &o)) {
            rc = hh_diag_set(d, HH_EDB, "%s: order %s: unknown side, type or state", path,
                             (const char *)sqlite3_column_text(s, 0));
            sqlite3_finalize(s);
            return rc;
        }
        f->order(f->ctx, &o, hh_store__col_time(s, 11), hh_store__col_time(s, 12));
    }
    return hh_store__finish(db, path, s, rc, what, d);
}

static int period_audit(sqlite3 *db, const char *path, hh_time_t from, hh_time_t to,
                        const struct hh_store_period_fns *f, struct hh_diag *d)
{
    static const char what[] = "reading the period's audit trail";
    struct hh_store_audit_row a;
    sqlite3_stmt *s;
    int rc = prep_range(db, path,
                        "SELECT seq, at, kind, correlation_id, payload, prev_hash, hash "
                        "FROM audit WHERE at >= ?1 AND at < ?2 ORDER BY seq",
                        what, from, to, &s, d);

    if (rc)
        return rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        hh_store__audit_cols(s, 0, &a);
        f->audit(f->ctx, &a);
    }
    return hh_store__finish(db, path, s, rc, what, d);
}

int hh_store__sqlite_period(sqlite3 *db, const char *path, int version, hh_time_t from,
                            hh_time_t to, const struct hh_store_period_fns *f,
                            struct hh_diag *d)
{
    bool own_txn = sqlite3_get_autocommit(db);
    int rc = own_txn ? hh_store__exec(db, path, "BEGIN", d) : HH_OK;

    if (!rc && f->signal)
        rc = period_signals(db, path, version, from, to, f, d);
    if (!rc && f->trade)
        rc = period_trades(db, path, from, to, f, d);
    if (!rc && f->order)
        rc = period_orders(db, path, from, to, f, d);
    if (!rc && f->audit)
        rc = period_audit(db, path, from, to, f, d);
    if (own_txn)
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    return rc;
}
