/*
 * sqlite_read.c — read-only access to a SQLite store: what restore needs
 * (latest checkpoint, signal ids, open orders, active trades), audit
 * history and verification, the integrity check, and online backup.
 *
 * Every reader has its own read-only connection (never the writer's) and
 * may run while the writer commits: in WAL mode a read sees the last
 * committed snapshot and never blocks the writer.  A reader handle is used
 * by one thread at a time.
 */
#include "store/store_int.h"

#include "core/serial.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct sqlite_reader {
    struct hh_store_reader base;   /* first: the generic handle */
    sqlite3 *db;
    char *path;
    int version;                   /* schema version of the database */
    struct hh_digest hasher;
};

static const char *text(sqlite3_stmt *s, int i)
{
    return (const char *)sqlite3_column_text(s, i);
}

/* Prepare sql; errors name the reader's file and what was being read. */
static int prep(struct sqlite_reader *r, const char *sql, const char *what, sqlite3_stmt **s,
                struct hh_diag *d)
{
    return hh_store__prepare(r->db, r->path, sql, what, s, d);
}

/* Finish a row loop: SQLITE_DONE is success. */
static int finish(struct sqlite_reader *r, sqlite3_stmt *s, int rc, const char *what,
                  struct hh_diag *d)
{
    return hh_store__finish(r->db, r->path, s, rc, what, d);
}

/* ---- restore reads ---------------------------------------------------------------- */

/* The state a manifest names, chunk by chunk, into out (state and
 * digests): each chunk must be there and hash to its digest. */
static int assemble(struct sqlite_reader *r, const unsigned char *dg, size_t n,
                    struct hh_store_checkpoint_row *out, struct hh_diag *d)
{
    static const char what[] = "reading the latest checkpoint's chunks";
    struct hh_ser_w w = { 0 };
    sqlite3_stmt *s;
    int rc = prep(r, "SELECT bytes FROM checkpoint_chunks WHERE sha = ?1", what, &s, d);

    for (size_t i = 0; !rc && i < n; i++) {
        const unsigned char *g = dg + i * HH_STORE_DIGEST_BYTES;
        unsigned char got[HH_DIGEST_BYTES];

        sqlite3_bind_blob(s, 1, g, HH_STORE_DIGEST_BYTES, SQLITE_STATIC);
        rc = sqlite3_step(s);
        if (rc != SQLITE_ROW) {
            rc = rc == SQLITE_DONE
                     ? hh_diag_set(d, HH_ETAMPER, "%s: checkpoint seq %llu: chunk %zu of %zu "
                                   "is missing", r->path, (unsigned long long)out->seq, i + 1, n)
                     : hh_store__sqlerr(r->db, rc, r->path, what, d);
            break;
        }
        hh_ser_put(&w, sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0));
        rc = hh_digest_raw(&r->hasher, w.p + w.n - (size_t)sqlite3_column_bytes(s, 0),
                           (size_t)sqlite3_column_bytes(s, 0), got);
        if (!rc && memcmp(got, g, HH_STORE_DIGEST_BYTES))
            rc = hh_diag_set(d, HH_ETAMPER, "%s: checkpoint seq %llu: chunk %zu of %zu does "
                             "not match its SHA-256", r->path, (unsigned long long)out->seq,
                             i + 1, n);
        sqlite3_reset(s);
    }
    sqlite3_finalize(s);
    out->digests = malloc(n * HH_STORE_DIGEST_BYTES + 1);
    if (!rc && (w.oom || !out->digests))
        rc = hh_diag_set(d, HH_ENOMEM, "%s: %s: out of memory", r->path, what);
    if (rc) {
        hh_ser_w_free(&w);
        return rc;
    }
    memcpy(out->digests, dg, n * HH_STORE_DIGEST_BYTES);
    out->ndigests = n;
    free(out->state);
    out->state = w.p;
    out->state_len = w.n;
    free(w.cut);
    return HH_OK;
}

static int rd_checkpoint(struct hh_store_reader *base, struct hh_store_checkpoint_row *out,
                         bool *found, struct hh_diag *d)
{
    struct sqlite_reader *r = (struct sqlite_reader *)base;
    static const char what[] = "reading the latest checkpoint";
    char sha[HH_STORE_HASH_HEX];
    sqlite3_stmt *s;
    int rc;

    memset(out, 0, sizeof *out);
    *found = false;
    rc = prep(r, "SELECT at, seq, state, state_hash, blob_sha256 FROM checkpoints "
                 "ORDER BY seq DESC, id DESC LIMIT 1", what, &s, d);
    if (rc)
        return rc;
    rc = sqlite3_step(s);
    if (rc != SQLITE_ROW)
        return finish(r, s, rc, what, d);
    out->at = sqlite3_column_int64(s, 0);
    out->seq = (uint64_t)sqlite3_column_int64(s, 1);
    out->state_len = (size_t)sqlite3_column_bytes(s, 2);
    out->state = malloc(out->state_len ? out->state_len : 1);
    if (!out->state) {
        sqlite3_finalize(s);
        return hh_diag_set(d, HH_ENOMEM, "%s: %s: out of memory", r->path, what);
    }
    if (out->state_len)
        memcpy(out->state, sqlite3_column_blob(s, 2), out->state_len);
    snprintf(out->state_hash, sizeof out->state_hash, "%s", text(s, 3) ? text(s, 3) : "");
    rc = hh_digest_blob(&r->hasher, out->state, out->state_len, sha);
    if (!rc && (!text(s, 4) || strcmp(sha, text(s, 4)) != 0))
        rc = hh_diag_set(d, HH_ETAMPER, "%s: checkpoint seq %llu: the state blob does not "
                         "match its SHA-256", r->path, (unsigned long long)out->seq);
    sqlite3_finalize(s);
    if (!rc) {
        const unsigned char *dg;
        size_t n;

        if (hh_store_manifest(out->state, out->state_len, &dg, &n))
            rc = assemble(r, dg, n, out, d);
    }
    if (rc) {
        hh_store_checkpoint_row_free(out);
        return rc;
    }
    *found = true;
    return HH_OK;
}

static int rd_signal_ids(struct hh_store_reader *base,
                         void (*fn)(void *ctx, const char *id, bool accepted), void *ctx,
                         struct hh_diag *d)
{
    struct sqlite_reader *r = (struct sqlite_reader *)base;
    static const char what[] = "reading signal ids";
    sqlite3_stmt *s;
    int rc;

    rc = prep(r, "SELECT signal_id, max(decision = 'ACCEPTED') FROM signals "
                 "WHERE signal_id IS NOT NULL GROUP BY signal_id", what, &s, d);
    if (rc)
        return rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        fn(ctx, text(s, 0), sqlite3_column_int(s, 1) != 0);
    return finish(r, s, rc, what, d);
}

static int rd_open_orders(struct hh_store_reader *base,
                          void (*fn)(void *ctx, const struct hh_store_order *o), void *ctx,
                          struct hh_diag *d)
{
    struct sqlite_reader *r = (struct sqlite_reader *)base;
    static const char what[] = "reading open orders";
    struct hh_store_order o;
    sqlite3_stmt *s;
    int rc;

    rc = prep(r, "SELECT client_id, order_id, trade_key, symbol, side, type, qty, "
                 "limit_price, trigger_price, state, updated_at FROM orders "
                 "WHERE terminal = 0 ORDER BY id", what, &s, d);
    if (rc)
        return rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (!hh_store__order_cols(s, 0, &o)) {
            rc = hh_diag_set(d, HH_EDB, "%s: order %s: unknown side, type or state "
                             "('%s', '%s', '%s')", r->path, text(s, 0), text(s, 4),
                             text(s, 5), text(s, 9));
            sqlite3_finalize(s);
            return rc;
        }
        fn(ctx, &o);
    }
    return finish(r, s, rc, what, d);
}

static int rd_active_trades(struct hh_store_reader *base,
                            void (*fn)(void *ctx, const struct hh_store_trade_state_row *t),
                            void *ctx, struct hh_diag *d)
{
    struct sqlite_reader *r = (struct sqlite_reader *)base;
    static const char what[] = "reading trade states";
    struct hh_store_trade_state_row t;
    sqlite3_stmt *s;
    int rc;

    /* The bare columns of a max() aggregate come from the row holding the
     * maximum (SQLite): the latest transition of each trade. */
    rc = prep(r, "SELECT trade_key, state, at, detail, correlation_id FROM "
                 "(SELECT trade_key, state, at, detail, correlation_id, max(id) AS last "
                 " FROM trade_state GROUP BY trade_key) "
                 "WHERE state NOT IN ('CLOSED', 'DROPPED') ORDER BY last", what, &s, d);
    if (rc)
        return rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int state = hh_store__tstate_parse(text(s, 1));

        if (state < 0) {
            rc = hh_diag_set(d, HH_EDB, "%s: trade %s: unknown state", r->path, text(s, 0));
            sqlite3_finalize(s);
            return rc;
        }
        t.trade_key = text(s, 0);
        t.state = (enum hh_store_tstate)state;
        t.at = sqlite3_column_int64(s, 2);
        t.detail = text(s, 3);
        t.correlation_id = text(s, 4);
        fn(ctx, &t);
    }
    return finish(r, s, rc, what, d);
}

/* Net positions as last written, by symbol. */
static int rd_positions(struct hh_store_reader *base,
                        void (*fn)(void *ctx, const struct hh_store_position *p), void *ctx,
                        struct hh_diag *d)
{
    struct sqlite_reader *r = (struct sqlite_reader *)base;
    static const char what[] = "reading positions";
    struct hh_store_position pos;
    sqlite3_stmt *s;
    int rc;

    rc = prep(r, "SELECT symbol, qty, avg_price, realised, updated_at FROM positions "
                 "ORDER BY symbol",
              what, &s, d);
    if (rc)
        return rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        pos.symbol = text(s, 0);
        pos.qty = sqlite3_column_int64(s, 1);
        pos.avg_price = sqlite3_column_int64(s, 2);
        pos.realised = sqlite3_column_int64(s, 3);
        pos.at = sqlite3_column_int64(s, 4);
        fn(ctx, &pos);
    }
    return finish(r, s, rc, what, d);
}

/* ---- audit ---------------------------------------------------------------------- */

/* Hand the rows of a prepared audit query to fn until it returns non-zero. */
static int audit_rows(struct sqlite_reader *r, sqlite3_stmt *s, const char *what,
                      int (*fn)(void *ctx, const struct hh_store_audit_row *a), void *ctx,
                      struct hh_diag *d)
{
    struct hh_store_audit_row a;
    int rc, stop = 0;

    while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        hh_store__audit_cols(s, 0, &a);
        stop = fn(ctx, &a);
    }
    if (stop) {
        sqlite3_finalize(s);
        return stop;
    }
    return finish(r, s, rc, what, d);
}

static int rd_audit(struct hh_store_reader *base, const char *corr,
                    int (*fn)(void *ctx, const struct hh_store_audit_row *a), void *ctx,
                    struct hh_diag *d)
{
    struct sqlite_reader *r = (struct sqlite_reader *)base;
    static const char what[] = "reading the audit trail";
    sqlite3_stmt *s;
    int rc;

    rc = prep(r, corr ? "SELECT seq, at, kind, correlation_id, payload, prev_hash, hash "
                        "FROM audit WHERE correlation_id = ?1 ORDER BY seq"
                      : "SELECT seq, at, kind, correlation_id, payload, prev_hash, hash "
                        "FROM audit ORDER BY seq", what, &s, d);
    if (rc)
        return rc;
    if (corr)
        sqlite3_bind_text(s, 1, corr, -1, SQLITE_STATIC);
    return audit_rows(r, s, what, fn, ctx, d);
}

/* seq is the rowid: the scan from either end stops at the first match. */
static int rd_audit_kind(struct hh_store_reader *base, enum hh_audit_kind kind, bool last,
                         int (*fn)(void *ctx, const struct hh_store_audit_row *a), void *ctx,
                         struct hh_diag *d)
{
    struct sqlite_reader *r = (struct sqlite_reader *)base;
    static const char what[] = "reading the audit trail";
    sqlite3_stmt *s;
    int rc;

    rc = prep(r, last ? "SELECT seq, at, kind, correlation_id, payload, prev_hash, hash "
                        "FROM audit WHERE kind = ?1 ORDER BY seq DESC LIMIT 1"
                      : "SELECT seq, at, kind, correlation_id, payload, prev_hash, hash "
                        "FROM audit WHERE kind = ?1 ORDER BY seq LIMIT 1", what, &s, d);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, hh_audit_kind_name(kind), -1, SQLITE_STATIC);
    return audit_rows(r, s, what, fn, ctx, d);
}

static int rd_audit_verify(struct hh_store_reader *base, const struct hh_store_audit_key *keys,
                           size_t nkeys, struct hh_store_verify *v, struct hh_diag *d)
{
    struct sqlite_reader *r = (struct sqlite_reader *)base;
    int rc = hh_store__audit_walk(r->db, &r->hasher, r->version, keys, nkeys, v, d);

    return rc ? hh_diag_prefix(d, rc, "%s", r->path) : HH_OK;
}

static int rd_kill(struct hh_store_reader *base, struct hh_store_kill_row *out, bool *found,
                   struct hh_diag *d)
{
    struct sqlite_reader *r = (struct sqlite_reader *)base;

    return hh_store__sqlite_kill_latest(r->db, r->path, r->version, out, found, d);
}

static int rd_period(struct hh_store_reader *base, hh_time_t from, hh_time_t to,
                     const struct hh_store_period_fns *f, struct hh_diag *d)
{
    struct sqlite_reader *r = (struct sqlite_reader *)base;

    return hh_store__sqlite_period(r->db, r->path, r->version, from, to, f, d);
}

/* ---- check ------------------------------------------------------------------------- */

/* PRAGMA integrity_check: "ok", or the first problems. */
static int integrity(struct sqlite_reader *r, struct hh_store_check *c, struct hh_diag *d)
{
    sqlite3_stmt *s;
    size_t n = 0;
    int rc;

    c->integrity[0] = '\0';
    rc = prep(r, "PRAGMA integrity_check(20)", "checking integrity", &s, d);
    if (rc)
        return rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *line = text(s, 0) ? text(s, 0) : "";

        if (n < sizeof c->integrity - 1)
            n += (size_t)snprintf(c->integrity + n, sizeof c->integrity - n, "%s%s",
                                  n ? "; " : "", line);
    }
    if (rc != SQLITE_DONE) {
        /* Corruption severe enough to stop the check is itself the answer. */
        snprintf(c->integrity, sizeof c->integrity, "%s", sqlite3_errmsg(r->db));
        sqlite3_finalize(s);
        c->integrity_ok = false;
        return HH_OK;
    }
    sqlite3_finalize(s);
    c->integrity_ok = !strcmp(c->integrity, "ok");
    return HH_OK;
}

static int rd_check(struct hh_store_reader *base, struct hh_store_check *c, struct hh_diag *d)
{
    struct sqlite_reader *r = (struct sqlite_reader *)base;
    struct hh_diag why = { { 0 } };
    int rc;

    memset(c, 0, sizeof *c);
    c->schema_version = r->version;
    rc = integrity(r, c, d);
    if (rc)
        return rc;
    c->schema_ok = hh_store__schema_present(r->db, r->version, c->schema, sizeof c->schema);
    /* The chain is walked even when other objects are missing. */
    rc = hh_store__audit_walk(r->db, &r->hasher, r->version, NULL, 0, &c->audit, &why);
    if (rc) {
        /* An unreadable audit table is a finding, not a usage error. */
        c->audit.ok = false;
        snprintf(c->audit.why, sizeof c->audit.why, "unreadable: %.300s", why.msg);
    }
    return HH_OK;
}

/* ---- Kafka: where each partition resumes, what the outbox still owes ---------- */

static int rd_kafka_offsets(struct hh_store_reader *base, const char *topic,
                            void (*fn)(void *ctx, int32_t partition, int64_t offset),
                            void *ctx, struct hh_diag *d)
{
    struct sqlite_reader *r = (struct sqlite_reader *)base;
    static const char what[] = "reading the Kafka offsets decided";
    sqlite3_stmt *s;
    int rc;

    /* the unique index (topic, partition, offset) answers each group */
    rc = prep(r, "SELECT kafka_partition, max(kafka_offset) FROM signals WHERE topic = ?1 "
                 "GROUP BY kafka_partition ORDER BY kafka_partition", what, &s, d);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, topic, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        fn(ctx, sqlite3_column_int(s, 0), sqlite3_column_int64(s, 1));
    return finish(r, s, rc, what, d);
}

static int rd_outbox(struct hh_store_reader *base,
                     int (*fn)(void *ctx, const struct hh_store_outbox *o), void *ctx,
                     uint64_t *max_seq, struct hh_diag *d)
{
    struct sqlite_reader *r = (struct sqlite_reader *)base;
    static const char what[] = "reading the outbox";
    sqlite3_stmt *s;
    int64_t top;
    int rc;

    rc = hh_store__int(r->db, r->path, "SELECT coalesce(max(seq), 0) FROM outbox", what, &top,
                       d);
    if (rc)
        return rc;
    *max_seq = (uint64_t)top;
    rc = prep(r, "SELECT seq, kind, topic, msg_key, reason, correlation_id, payload, "
                 "created_at FROM outbox WHERE sent = 0 ORDER BY seq", what, &s, d);
    if (rc)
        return rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct hh_store_outbox o = {
            .seq = (uint64_t)sqlite3_column_int64(s, 0),
            .kind = strcmp(text(s, 1), "EVENT") ? HH_OUTBOX_DEAD_LETTER : HH_OUTBOX_EVENT,
            .topic = text(s, 2), .key = text(s, 3), .reason = text(s, 4),
            .correlation_id = text(s, 5), .payload = text(s, 6),
            .at = sqlite3_column_int64(s, 7),
        };
        int stop = fn(ctx, &o);

        if (stop) {
            sqlite3_finalize(s);
            return stop;
        }
    }
    return finish(r, s, rc, what, d);
}

static int rd_schema_version(struct hh_store_reader *base)
{
    return ((struct sqlite_reader *)base)->version;
}

static void rd_close(struct hh_store_reader *base)
{
    struct sqlite_reader *r = (struct sqlite_reader *)base;

    sqlite3_close(r->db);
    hh_digest_free(&r->hasher);
    free(r->path);
    free(r);
}

static const struct hh_store_reader_ops READER_OPS = {
    .name = "sqlite",
    .checkpoint = rd_checkpoint,
    .signal_ids = rd_signal_ids,
    .open_orders = rd_open_orders,
    .active_trades = rd_active_trades,
    .positions = rd_positions,
    .audit = rd_audit,
    .audit_kind = rd_audit_kind,
    .audit_verify = rd_audit_verify,
    .kill = rd_kill,
    .period = rd_period,
    .check = rd_check,
    .schema_version = rd_schema_version,
    .kafka_offsets = rd_kafka_offsets,
    .outbox = rd_outbox,
    .close = rd_close,
};

int hh_store__sqlite_reader_open(const char *path, struct hh_store_reader **out,
                                 struct hh_diag *d)
{
    struct sqlite_reader *r;
    int rc;

    *out = NULL;
    r = calloc(1, sizeof *r);
    if (!r)
        return hh_diag_set(d, HH_ENOMEM, "out of memory");
    r->base.ops = &READER_OPS;
    r->path = strdup(path ? path : "");
    rc = r->path ? hh_digest_init(&r->hasher) : HH_ENOMEM;
    if (rc) {
        rc = hh_diag_set(d, rc, "%s: out of memory", path);
        goto fail;
    }
    rc = hh_store__connect(path, true, true, 5000, &r->db, d);
    if (!rc)
        rc = hh_store__identify(r->db, path, &r->version, d);
    if (!rc && r->version == 0)
        rc = hh_diag_set(d, HH_ENOTFOUND, "%s: an empty database (no hedgehog schema yet)",
                         path);
    if (rc)
        goto fail;
    *out = &r->base;
    return HH_OK;
fail:
    rd_close(&r->base);
    return rc;
}

/* ---- backup -------------------------------------------------------------------------- */

/* Copy src's pages into the file tmp in one read snapshot of src, then
 * make tmp a self-contained rollback-journal database. */
static int copy_db(struct sqlite_reader *src, const char *dst_name, const char *tmp,
                   struct hh_diag *d)
{
    sqlite3 *dst = NULL;
    sqlite3_backup *b;
    int rc;

    rc = sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        rc = hh_store__sqlerr(dst, rc, dst_name, "cannot create the copy", d);
        goto out;
    }
    b = sqlite3_backup_init(dst, "main", src->db, "main");
    if (!b) {
        rc = hh_store__sqlerr(dst, SQLITE_ERROR, dst_name, "starting the backup", d);
        goto out;
    }
    /* -1: all pages in one step, i.e. one read transaction on src; in WAL
     * mode the writer goes on meanwhile and the copy is a consistent
     * snapshot. */
    rc = sqlite3_backup_step(b, -1);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
        rc = hh_store__sqlerr(dst, rc, dst_name, "copying", d);
        goto out;
    }
    rc = hh_store__exec(dst, tmp, "PRAGMA journal_mode = DELETE", d);
out:
    if (sqlite3_close(dst) != SQLITE_OK && !rc)
        rc = hh_diag_set(d, HH_EIO, "%s: closing the copy failed", tmp);
    return rc;
}

/* Check the copy as `db check` would. */
static int check_copy(const char *tmp, struct hh_diag *d)
{
    struct hh_store_reader *r;
    struct hh_store_check c;
    int rc = hh_store_reader_open(tmp, &r, d);

    if (!rc)
        rc = hh_store_check(r, &c, d);
    hh_store_reader_close(r);
    if (rc)
        return rc;
    if (!c.integrity_ok)
        return hh_diag_set(d, HH_ETAMPER, "%s: the copy fails the integrity check: %s", tmp,
                           c.integrity);
    if (!c.schema_ok || !c.audit.ok)
        return hh_diag_set(d, HH_ETAMPER, "%s: the copy fails its check: %s%s", tmp,
                           c.schema_ok ? "audit chain: " : c.schema,
                           c.schema_ok ? c.audit.why : "");
    return HH_OK;
}

/* fsync the file or directory at path. */
static int sync_path(const char *path, bool dir, struct hh_diag *d)
{
    int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
    int rc = HH_OK;

    if (fd < 0 || fsync(fd) != 0)
        rc = hh_diag_set(d, HH_EIO, "%s: cannot sync: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    return rc;
}

int hh_store_backup(const char *src, const char *dst, struct hh_diag *d)
{
    struct hh_store_reader *r = NULL;
    char *tmp = NULL, *dir = NULL, *slash;
    struct stat sb;
    int rc;

    if (!dst || !*dst)
        return hh_diag_set(d, HH_EINVAL, "backup: no destination file given");
    if (stat(dst, &sb) == 0)
        return hh_diag_set(d, HH_EEXIST, "%s: already exists (a backup never overwrites)", dst);
    rc = hh_store__sqlite_reader_open(src, &r, d);
    if (rc)
        return rc;
    tmp = malloc(strlen(dst) + 32);
    dir = strdup(dst);
    if (!tmp || !dir) {
        rc = hh_diag_set(d, HH_ENOMEM, "out of memory");
        goto out;
    }
    sprintf(tmp, "%s.tmp-%ld", dst, (long)getpid());
    rc = copy_db((struct sqlite_reader *)r, dst, tmp, d);
    if (!rc)
        rc = check_copy(tmp, d);
    if (!rc)
        rc = sync_path(tmp, false, d);
    if (!rc && rename(tmp, dst) != 0)
        rc = hh_diag_set(d, HH_EIO, "%s: cannot rename the copy into place: %s", dst,
                         strerror(errno));
    if (!rc) {
        slash = strrchr(dir, '/');
        if (slash)
            *(slash == dir ? slash + 1 : slash) = '\0';
        rc = sync_path(slash ? dir : ".", true, d);
    }
out:
    if (rc && tmp) {
        unlink(tmp);
        strcat(tmp, "-journal");
        unlink(tmp);
    }
    hh_store_reader_close(r);
    free(tmp);
    free(dir);
    return rc;
}
