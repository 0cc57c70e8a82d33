/*
 * sqlite_util.c — small SQLite helpers shared by the writer, the readers
 * and the operations: connecting, running SQL, turning SQLite's errors into
 * hedgehog codes with messages that name the file, and mapping stored
 * names back to enums.
 */
#include "store/store_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int hh_store__sqlerr(sqlite3 *db, int src, const char *path, const char *what,
                     struct hh_diag *d)
{
    int code = (db ? sqlite3_extended_errcode(db) : src) & 0xff;
    const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(src), *hint = "";
    int rc = HH_EDB;

    if (code == SQLITE_OK)
        code = src & 0xff;
    if (code == SQLITE_FULL)
        rc = HH_EFULL;
    else if (code == SQLITE_CORRUPT)
        rc = HH_ETAMPER;
    if (code == SQLITE_NOTADB)
        msg = "not a SQLite database (file is not a database)";
    if (code == SQLITE_READONLY || code == SQLITE_CANTOPEN)
        hint = " (the database file or its directory is not writable, or missing)";
    if (path && *path)
        return hh_diag_set(d, rc, "%s: %s: %s%s", path, what, msg, hint);
    return hh_diag_set(d, rc, "%s: %s%s", what, msg, hint);
}

int hh_store__exec(sqlite3 *db, const char *path, const char *sql, struct hh_diag *d)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

    if (rc != SQLITE_OK) {
        char what[96];

        snprintf(what, sizeof what, "%.80s", sql);
        return hh_store__sqlerr(db, rc, path, what, d);
    }
    return HH_OK;
}

int hh_store__prepare(sqlite3 *db, const char *path, const char *sql, const char *what,
                      sqlite3_stmt **s, struct hh_diag *d)
{
    int rc = sqlite3_prepare_v2(db, sql, -1, s, NULL);

    return rc == SQLITE_OK ? HH_OK : hh_store__sqlerr(db, rc, path, what, d);
}

int hh_store__finish(sqlite3 *db, const char *path, sqlite3_stmt *s, int rc, const char *what,
                     struct hh_diag *d)
{
    rc = rc == SQLITE_DONE ? HH_OK : hh_store__sqlerr(db, rc, path, what, d);
    sqlite3_finalize(s);
    return rc;
}

bool hh_store__order_cols(sqlite3_stmt *s, int c, struct hh_store_order *o)
{
    const char *t = (const char *)sqlite3_column_text(s, c + 5);
    int side = hh_store__side_parse((const char *)sqlite3_column_text(s, c + 4));
    int type = hh_store__ord_type_parse(t);
    int state = hh_store__ord_state_parse((const char *)sqlite3_column_text(s, c + 9));

    memset(o, 0, sizeof *o);
    if (side == -2 || type < 0 || state < 0)
        return false;
    o->client_id = (const char *)sqlite3_column_text(s, c);
    o->order_id = (uint64_t)sqlite3_column_int64(s, c + 1);
    o->trade_key = (const char *)sqlite3_column_text(s, c + 2);
    o->symbol = (const char *)sqlite3_column_text(s, c + 3);
    o->side = (enum hh_side)side;
    o->type = (enum hh_ord_type)type;
    o->qty = sqlite3_column_int64(s, c + 6);
    o->limit = sqlite3_column_int64(s, c + 7);
    o->trigger = sqlite3_column_int64(s, c + 8);
    o->state = (enum hh_ord_state)state;
    o->at = sqlite3_column_int64(s, c + 10);
    return true;
}

/* Text of column i, "" for NULL. */
static const char *text_or_empty(sqlite3_stmt *s, int i)
{
    const char *t = (const char *)sqlite3_column_text(s, i);

    return t ? t : "";
}

hh_time_t hh_store__col_time(sqlite3_stmt *s, int i)
{
    return sqlite3_column_type(s, i) == SQLITE_NULL ? HH_TIME_NONE
                                                    : sqlite3_column_int64(s, i);
}

void hh_store__audit_cols(sqlite3_stmt *s, int c, struct hh_store_audit_row *a)
{
    a->seq = (uint64_t)sqlite3_column_int64(s, c);
    a->at = hh_store__col_time(s, c + 1);
    a->kind = text_or_empty(s, c + 2);
    a->correlation_id = text_or_empty(s, c + 3);
    a->payload = text_or_empty(s, c + 4);
    a->prev_hash = text_or_empty(s, c + 5);
    a->hash = text_or_empty(s, c + 6);
}

int hh_store__int(sqlite3 *db, const char *path, const char *sql, const char *what,
                  int64_t *out, struct hh_diag *d)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

    *out = 0;
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            *out = sqlite3_column_int64(st, 0);
        if (rc == SQLITE_ROW || rc == SQLITE_DONE)
            rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK) {
        rc = hh_store__sqlerr(db, rc, path, what ? what : sql, d);
        sqlite3_finalize(st);
        return rc;
    }
    sqlite3_finalize(st);
    return HH_OK;
}

/*
 * A writer killed inside a rollback-journal transaction (only the first
 * creation of a database runs before WAL is on) leaves a hot journal.  A
 * read-only connection cannot roll it back and fails with "attempt to write
 * a readonly database"; the rollback restores the last committed state and
 * is what the next writer would do, so a reader then opens read-write (the
 * file must exist) and lets SQLite recover.  Without write permission the
 * read-only open and its error stand.
 */
static bool hot_journal(const char *path)
{
    char j[PATH_MAX];
    struct stat sb;

    if ((size_t)snprintf(j, sizeof j, "%s-journal", path) >= sizeof j)
        return false;
    return stat(j, &sb) == 0 && sb.st_size > 0 && access(path, W_OK) == 0 &&
           access(j, W_OK) == 0;
}

int hh_store__connect(const char *path, bool readonly, bool no_create, int busy_ms,
                      sqlite3 **out, struct hh_diag *d)
{
    sqlite3 *db = NULL;
    struct stat sb;
    int flags, rc;

    *out = NULL;
    if (!path || !*path)
        return hh_diag_set(d, HH_EINVAL, "store: no database file given");
    if (stat(path, &sb) == 0) {
        if (S_ISDIR(sb.st_mode))
            return hh_diag_set(d, HH_EINVAL, "%s: is a directory, not a database", path);
    } else if (errno == ENOENT && (readonly || no_create)) {
        return hh_diag_set(d, HH_ENOTFOUND, "%s: no such database file", path);
    }
    if (readonly && hot_journal(path))
        readonly = false, no_create = true;
    flags = readonly ? SQLITE_OPEN_READONLY
                     : SQLITE_OPEN_READWRITE | (no_create ? 0 : SQLITE_OPEN_CREATE) |
                           SQLITE_OPEN_NOMUTEX;
    rc = sqlite3_open_v2(path, &db, flags, NULL);
    if (rc != SQLITE_OK) {
        rc = hh_store__sqlerr(db, rc, path, "cannot open", d);
        sqlite3_close(db);
        return rc;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, busy_ms);
    *out = db;
    return HH_OK;
}

int hh_store__side_parse(const char *s)
{
    if (s && !strcmp(s, "BUY"))
        return HH_BUY;
    if (s && !strcmp(s, "SELL"))
        return HH_SELL;
    return -2;
}

int hh_store__ord_type_parse(const char *s)
{
    for (int i = 0; s && strcmp(hh_ord_type_name((enum hh_ord_type)i), "?"); i++)
        if (!strcmp(hh_ord_type_name((enum hh_ord_type)i), s))
            return i;
    return -1;
}

int hh_store__ord_state_parse(const char *s)
{
    for (int i = 0; s && strcmp(hh_ord_state_name((enum hh_ord_state)i), "?"); i++)
        if (!strcmp(hh_ord_state_name((enum hh_ord_state)i), s))
            return i;
    return -1;
}

int hh_store__tstate_parse(const char *s)
{
    for (int i = 0; s && i < HH_TS_COUNT; i++)
        if (!strcmp(hh_store_tstate_name((enum hh_store_tstate)i), s))
            return i;
    return -1;
}
