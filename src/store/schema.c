/*
 * schema.c — what a hedgehog database is, and how it grows.
 *
 * A hedgehog database carries HH_STORE_APP_ID in the SQLite header's
 * application_id and its schema version in user_version.  Migrations are
 * a list of SQL steps; step v takes a database from version v-1 to v.  A
 * database is migrated on open, all pending steps and the new
 * user_version in ONE transaction, so a crash during a migration leaves
 * the old version intact.  Steps are never edited once released: a change
 * is a new step.
 *
 * Identification never writes: a foreign database (another application's,
 * or a SQLite file with tables that are not hedgehog's) and a file that is
 * not SQLite at all are refused before anything — even the journal mode —
 * is changed in them.
 *
 * Prices and money are INTEGER (1/10,000 rupee); times INTEGER ns since the
 * epoch, UTC; no column is REAL.
 */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

/* v1: signals, orders and their events, fills, positions, trades,
 * checkpoints, and the append-only audit chain. */
static const char V1[] =
    "PRAGMA application_id = 1751475303;\n"          /* HH_STORE_APP_ID */
    "CREATE TABLE signals (\n"
    "    id             INTEGER PRIMARY KEY,\n"
    "    signal_id      TEXT,\n"                       /* NULL: unknown */
    "    line           INTEGER NOT NULL,\n"
    "    raw            TEXT NOT NULL,\n"
    "    received_at    INTEGER,\n"
    "    decision       TEXT NOT NULL CHECK (decision IN ('ACCEPTED', 'REJECTED')),\n"
    "    reason         TEXT,\n"
    "    detail         TEXT,\n"
    "    correlation_id TEXT\n"
    ");\n"
    "CREATE INDEX signals_by_signal_id ON signals (signal_id);\n"
    "CREATE TABLE orders (\n"
    "    id            INTEGER PRIMARY KEY,\n"
    "    client_id     TEXT NOT NULL UNIQUE,\n"
    "    order_id      INTEGER,\n"
    "    trade_key     TEXT,\n"
    "    symbol        TEXT NOT NULL,\n"
    "    side          TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),\n"
    "    type          TEXT NOT NULL,\n"
    "    qty           INTEGER NOT NULL,\n"
    "    limit_price   INTEGER NOT NULL,\n"
    "    trigger_price INTEGER NOT NULL,\n"
    "    state         TEXT NOT NULL,\n"
    "    terminal      INTEGER NOT NULL,\n"
    "    created_at    INTEGER NOT NULL,\n"
    "    updated_at    INTEGER NOT NULL\n"
    ");\n"
    "CREATE INDEX orders_open ON orders (terminal, id);\n"
    "CREATE TABLE order_events (\n"
    "    id        INTEGER PRIMARY KEY,\n"
    "    order_id  INTEGER NOT NULL,\n"
    "    client_id TEXT,\n"
    "    kind      TEXT NOT NULL,\n"
    "    at        INTEGER NOT NULL,\n"
    "    qty       INTEGER NOT NULL,\n"
    "    price     INTEGER NOT NULL,\n"
    "    filled    INTEGER NOT NULL,\n"
    "    leaves    INTEGER NOT NULL,\n"
    "    exec_id   INTEGER,\n"
    "    reason    TEXT\n"
    ");\n"
    "CREATE UNIQUE INDEX order_events_by_exec ON order_events (order_id, exec_id);\n"
    "CREATE TABLE fills (\n"
    "    id        INTEGER PRIMARY KEY,\n"
    "    ts        INTEGER NOT NULL,\n"
    "    order_id  INTEGER NOT NULL,\n"
    "    trade_id  INTEGER NOT NULL,\n"
    "    signal_id TEXT,\n"
    "    symbol    TEXT NOT NULL,\n"
    "    side      TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),\n"
    "    qty       INTEGER NOT NULL,\n"
    "    price     INTEGER NOT NULL,\n"
    "    reason    TEXT,\n"
    "    charges   INTEGER NOT NULL,\n"
    "    exec_id   INTEGER\n"
    ");\n"
    "CREATE UNIQUE INDEX fills_by_exec ON fills (order_id, exec_id);\n"
    "CREATE TABLE positions (\n"
    "    symbol     TEXT PRIMARY KEY,\n"
    "    qty        INTEGER NOT NULL,\n"
    "    avg_price  INTEGER NOT NULL,\n"
    "    realised   INTEGER NOT NULL,\n"
    "    updated_at INTEGER NOT NULL\n"
    ");\n"
    "CREATE TABLE trades (\n"
    "    id              INTEGER PRIMARY KEY,\n"
    "    trade_id        INTEGER NOT NULL,\n"
    "    signal_id       TEXT,\n"
    "    symbol          TEXT NOT NULL,\n"
    "    side            TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),\n"
    "    qty             INTEGER NOT NULL,\n"
    "    entry_ts        INTEGER,\n"
    "    entry_price     INTEGER NOT NULL,\n"
    "    exit_ts         INTEGER,\n"
    "    avg_exit_price  INTEGER NOT NULL,\n"
    "    exit_reason     TEXT,\n"
    "    gross_pnl       INTEGER NOT NULL,\n"
    "    charges         INTEGER NOT NULL,\n"
    "    net_pnl         INTEGER NOT NULL,\n"
    "    r_multiple_x100 INTEGER NOT NULL\n"
    ");\n"
    "CREATE TABLE checkpoints (\n"
    "    id          INTEGER PRIMARY KEY,\n"
    "    at          INTEGER NOT NULL,\n"
    "    seq         INTEGER NOT NULL,\n"
    "    state       BLOB NOT NULL,\n"
    "    state_hash  TEXT NOT NULL,\n"
    "    blob_sha256 TEXT NOT NULL\n"
    ");\n"
    "CREATE TABLE audit (\n"
    "    seq            INTEGER PRIMARY KEY,\n"
    "    at             INTEGER NOT NULL,\n"
    "    kind           TEXT NOT NULL,\n"
    "    correlation_id TEXT NOT NULL,\n"
    "    payload        TEXT NOT NULL,\n"
    "    prev_hash      TEXT NOT NULL,\n"
    "    hash           TEXT NOT NULL\n"
    ");\n"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit\n"
    "    BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;\n"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit\n"
    "    BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;\n";

/* v2: trade life-cycle transitions and multi-leg group execution state. */
static const char V2[] =
    "CREATE TABLE trade_state (\n"
    "    id             INTEGER PRIMARY KEY,\n"
    "    trade_key      TEXT NOT NULL,\n"
    "    state          TEXT NOT NULL CHECK (state IN\n"
    "                   ('WAITING', 'ENTERING', 'OPEN', 'CLOSED', 'DROPPED')),\n"
    "    at             INTEGER NOT NULL,\n"
    "    detail         TEXT,\n"
    "    correlation_id TEXT\n"
    ");\n"
    "CREATE INDEX trade_state_by_key ON trade_state (trade_key, id);\n"
    "CREATE TABLE group_exec (\n"
    "    group_id   TEXT PRIMARY KEY,\n"
    "    state      TEXT NOT NULL,\n"
    "    legs       TEXT NOT NULL,\n"
    "    updated_at INTEGER NOT NULL\n"
    ");\n";

/* v3: the audit head (last seq and hash, updated in the same transaction
 * as the rows) so that rows cut off the tail are detected; back-filled from
 * the last row.  An index for a trade's history by correlation id. */
static const char V3[] =
    "CREATE TABLE audit_head (\n"
    "    id   INTEGER PRIMARY KEY CHECK (id = 1),\n"
    "    seq  INTEGER NOT NULL,\n"
    "    hash TEXT NOT NULL\n"
    ");\n"
    "INSERT INTO audit_head (id, seq, hash)\n"
    "    SELECT 1, coalesce(max(seq), 0),\n"
    "           coalesce((SELECT hash FROM audit ORDER BY seq DESC LIMIT 1),\n"
    "                    '0000000000000000000000000000000000000000000000000000000000000000')\n"
    "    FROM audit;\n"
    "CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head\n"
    "    BEGIN SELECT RAISE(ABORT, 'the audit head is required'); END;\n"
    "CREATE INDEX audit_by_correlation ON audit (correlation_id, seq);\n";

/* v4: the keyed audit chain (each record's key id; NULL: unkeyed, as every
 * record before v4), the kill switch's requests (the latest is the state an
 * engine must be in), and per signal line its decision's engine time and
 * processing latency (NULL on older rows and in backtests). */
static const char V4[] =
    "ALTER TABLE audit ADD COLUMN key_id TEXT;\n"
    "ALTER TABLE signals ADD COLUMN decided_at INTEGER;\n"
    "ALTER TABLE signals ADD COLUMN latency_ns INTEGER;\n"
    "CREATE TABLE kill_switch (\n"
    "    id           INTEGER PRIMARY KEY,\n"
    "    action       TEXT NOT NULL CHECK (action IN\n"
    "                 ('pause', 'reduce', 'halt', 'flatten', 'resume')),\n"
    "    state        TEXT NOT NULL CHECK (state IN\n"
    "                 ('ACTIVE', 'PAUSED', 'REDUCING', 'HALTED')),\n"
    "    reason       TEXT NOT NULL,\n"
    "    requested_at INTEGER NOT NULL,\n"
    "    requested_by TEXT NOT NULL,\n"
    "    applied_at   INTEGER\n"
    ");\n";
/* v5: signals from Kafka — the message each signals row decided (topic,
 * partition, offset; unique, so no message is ever decided twice) — and
 * the outbox of what leaves for Kafka once durable (dead letters, events),
 * with the rows not yet acknowledged indexed for the restart. */
static const char V5[] =
    "ALTER TABLE signals ADD COLUMN topic TEXT;\n"
    "ALTER TABLE signals ADD COLUMN kafka_partition INTEGER;\n"
    "ALTER TABLE signals ADD COLUMN kafka_offset INTEGER;\n"
    "CREATE UNIQUE INDEX signals_by_message ON signals (topic, kafka_partition, kafka_offset)\n"
    "    WHERE topic IS NOT NULL;\n"
    "CREATE TABLE outbox (\n"
    "    seq            INTEGER PRIMARY KEY,\n"
    "    kind           TEXT NOT NULL CHECK (kind IN ('DEAD_LETTER', 'EVENT')),\n"
    "    topic          TEXT NOT NULL,\n"
    "    msg_key        TEXT,\n"
    "    reason         TEXT,\n"
    "    correlation_id TEXT,\n"
    "    payload        TEXT NOT NULL,\n"
    "    created_at     INTEGER NOT NULL,\n"
    "    sent           INTEGER NOT NULL DEFAULT 0\n"
    ");\n"
    "CREATE INDEX outbox_unsent ON outbox (seq) WHERE sent = 0;\n";

/* v6: a checkpoint's state stored chunk by chunk (a chunk unchanged since
 * the last checkpoint is not written again). */
static const char V6[] =
    "CREATE TABLE checkpoint_chunks (\n"
    "    sha   BLOB PRIMARY KEY,\n"
    "    bytes BLOB NOT NULL\n"
    ");\n";

static const char *const MIGRATIONS[HH_STORE_SCHEMA_VERSION + 1] = { NULL, V1, V2, V3, V4, V5,
                                                                      V6 };

/* Objects each version must have (cumulative: version v needs all of 1..v). */
static const struct {
    int since;
    const char *type, *name;
} OBJECTS[] = {
    { 1, "table", "signals" },        { 1, "table", "orders" },
    { 1, "table", "order_events" },   { 1, "table", "fills" },
    { 1, "table", "positions" },      { 1, "table", "trades" },
    { 1, "table", "checkpoints" },    { 1, "table", "audit" },
    { 1, "trigger", "audit_no_update" }, { 1, "trigger", "audit_no_delete" },
    { 2, "table", "trade_state" },    { 2, "table", "group_exec" },
    { 3, "table", "audit_head" },     { 3, "trigger", "audit_head_no_delete" },
    { 4, "table", "kill_switch" },
    { 5, "table", "outbox" },         { 5, "index", "signals_by_message" },
    { 6, "table", "checkpoint_chunks" },
};

/* First user table's name into buf ("" when none). */
static int first_table(sqlite3 *db, const char *path, char *buf, size_t cap, int64_t *count,
                       struct hh_diag *d)
{
    sqlite3_stmt *st = NULL;
    int rc;

    buf[0] = '\0';
    *count = 0;
    rc = sqlite3_prepare_v2(db,
                            "SELECT name FROM sqlite_master WHERE type = 'table' AND "
                            "name NOT LIKE 'sqlite_%' ORDER BY name",
                            -1, &st, NULL);
    if (rc != SQLITE_OK)
        return hh_store__sqlerr(db, rc, path, "reading the schema", d);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!*count)
            snprintf(buf, cap, "%s", (const char *)sqlite3_column_text(st, 0));
        (*count)++;
    }
    if (rc != SQLITE_DONE) {
        rc = hh_store__sqlerr(db, rc, path, "reading the schema", d);
        sqlite3_finalize(st);
        return rc;
    }
    sqlite3_finalize(st);
    return HH_OK;
}

int hh_store__identify(sqlite3 *db, const char *path, int *version, struct hh_diag *d)
{
    int64_t app, ver, ntables;
    char table[128];
    int rc;

    *version = 0;
    rc = hh_store__int(db, path, "PRAGMA application_id", "reading the database header",
                       &app, d);
    if (!rc)
        rc = hh_store__int(db, path, "PRAGMA user_version", "reading the database header",
                           &ver, d);
    if (!rc)
        rc = first_table(db, path, table, sizeof table, &ntables, d);
    if (rc) {
        /* The first read of a non-SQLite file fails here. */
        if (sqlite3_extended_errcode(db) == SQLITE_NOTADB)
            return hh_diag_set(d, HH_EDB, "%s: not a SQLite database", path);
        return rc;
    }
    if (app == HH_STORE_APP_ID) {
        if (ver > HH_STORE_SCHEMA_VERSION)
            return hh_diag_set(d, HH_EDB,
                               "%s: database schema version %lld is newer than this "
                               "hedgehog (%d): upgrade hedgehog",
                               path, (long long)ver, HH_STORE_SCHEMA_VERSION);
        if (ver < 1)
            return hh_diag_set(d, HH_EDB,
                               "%s: hedgehog database without a schema version: damaged",
                               path);
        *version = (int)ver;
        return HH_OK;
    }
    if (app != 0)
        return hh_diag_set(d, HH_EDB,
                           "%s: not a hedgehog database (SQLite application_id 0x%08llx)",
                           path, (unsigned long long)(uint32_t)app);
    if (ntables > 0)
        return hh_diag_set(d, HH_EDB,
                           "%s: not a hedgehog database (it has %lld table(s), e.g. '%s', "
                           "and no hedgehog schema)",
                           path, (long long)ntables, table);
    if (ver != 0)
        return hh_diag_set(d, HH_EDB,
                           "%s: not a hedgehog database (user_version %lld, no tables)", path,
                           (long long)ver);
    return HH_OK;                         /* empty: a new database */
}

int hh_store__migrate(sqlite3 *db, const char *path, int from, struct hh_diag *d)
{
    char sql[64];
    int rc, v;

    if (from >= HH_STORE_SCHEMA_VERSION)
        return HH_OK;
    rc = hh_store__exec(db, path, "BEGIN IMMEDIATE", d);
    if (rc)
        return rc;
    for (v = from + 1; v <= HH_STORE_SCHEMA_VERSION; v++) {
        rc = hh_store__exec(db, path, MIGRATIONS[v], d);
        if (rc)
            goto rollback;
    }
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", HH_STORE_SCHEMA_VERSION);
    rc = hh_store__exec(db, path, sql, d);
    if (!rc)
        rc = hh_store__exec(db, path, "COMMIT", d);
    if (!rc)
        return HH_OK;
    v = HH_STORE_SCHEMA_VERSION;
rollback:
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return hh_diag_prefix(d, rc, "migrating the schema from version %d to %d (step %d)", from,
                          HH_STORE_SCHEMA_VERSION, v);
}

bool hh_store__schema_present(sqlite3 *db, int version, char *why, size_t cap)
{
    sqlite3_stmt *st = NULL;
    bool ok = true;

    why[0] = '\0';
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = ?1 AND name = ?2",
                           -1, &st, NULL) != SQLITE_OK) {
        snprintf(why, cap, "cannot read the schema: %s", sqlite3_errmsg(db));
        return false;
    }
    for (size_t i = 0; i < sizeof OBJECTS / sizeof *OBJECTS; i++) {
        if (OBJECTS[i].since > version)
            continue;
        sqlite3_bind_text(st, 1, OBJECTS[i].type, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, OBJECTS[i].name, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW) {
            size_t n = strlen(why);

            snprintf(why + n, cap - n, "%s%s %s missing", ok ? "" : ", ", OBJECTS[i].type,
                     OBJECTS[i].name);
            ok = false;
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return ok;
}
