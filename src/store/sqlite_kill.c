/*
 * sqlite_kill.c — the kill switch's side door: a request inserted into a
 * database whose writer lock another process may hold (`hedgehog kill`
 * while `hedgehog run` writes).
 *
 * Why it is safe beside the one writer (docs/STORE.md, "The kill switch"):
 * the one-writer rule protects the audit chain and its head, which the
 * writer keeps in memory between transactions.  This connection never
 * touches them: it inserts one row into kill_switch, a table the writer
 * only appends to and marks, in one BEGIN IMMEDIATE transaction.  SQLite
 * serialises it with the writer's transactions (WAL: one write
 * transaction at a time, across processes); each side waits up to its
 * busy timeout, and the insert holds the lock for microseconds.  The
 * engine audits the request (KILL_SWITCH) when it takes it up.
 */
#include "store/store_int.h"

#include <stdio.h>

/* The schema must have the kill_switch table (v4+). */
static int check_version(sqlite3 *db, const char *path, struct hh_diag *d)
{
    int version, rc = hh_store__identify(db, path, &version, d);

    if (rc)
        return rc;
    if (version == 0)
        return hh_diag_set(d, HH_ENOTFOUND, "%s: an empty database (no hedgehog schema yet)",
                           path);
    if (version < 4)
        return hh_diag_set(d, HH_EDB, "%s: schema version %d has no kill switch table (4+): "
                           "it was written by an older hedgehog; open it once with this one",
                           path, version);
    return HH_OK;
}

/* INSERT in its own BEGIN IMMEDIATE transaction. */
static int insert(sqlite3 *db, const char *path, const struct hh_store_kill *k, int64_t *id,
                  struct hh_diag *d)
{
    static const char what[] = "recording the kill switch request";
    sqlite3_stmt *s = NULL;
    int rc = hh_store__exec(db, path, "BEGIN IMMEDIATE", d);

    if (rc)
        return rc;
    rc = hh_store__prepare(db, path, HH_STORE__KILL_INSERT, what, &s, d);
    if (!rc) {
        hh_store__kill_bind(s, k);
        sqlite3_bind_null(s, 6);          /* pending: the engine applies it */
        rc = sqlite3_step(s);
        rc = rc == SQLITE_DONE ? HH_OK : hh_store__sqlerr(db, rc, path, what, d);
        sqlite3_finalize(s);
    }
    if (!rc && id)
        *id = sqlite3_last_insert_rowid(db);
    if (!rc)
        rc = hh_store__exec(db, path, "COMMIT", d);
    if (rc)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int hh_store__sqlite_kill_request(const char *path, const struct hh_store_kill *k, int busy_ms,
                                  int64_t *id, struct hh_diag *d)
{
    sqlite3 *db = NULL;
    int rc = hh_store__connect(path, false, true, busy_ms, &db, d);

    if (!rc)
        rc = check_version(db, path, d);
    if (!rc)
        rc = insert(db, path, k, id, d);
    sqlite3_close(db);
    return rc;
}
