/*
 * sqlite.c — the SQLite store writer: one thread owns the one write
 * connection and commits queued records in groups.
 *
 * Life of a store:
 *   hh_store_open  takes the writer lock (<db>-lock, flock: one writer per
 *                  database, across processes), starts the writer thread
 *                  and waits for its set-up: connect, identify the file
 *                  (schema.c), WAL mode, synchronous level, migrations,
 *                  the audit head and the chain's key, prepared
 *                  statements, a KEY_ROTATED record when the key given is
 *                  not the one the chain ends with.  Everything that
 *                  touches the write connection happens on that thread.
 *   writer loop    take everything queued (up to group_max records, whole
 *                  submissions only); BEGIN IMMEDIATE; one INSERT/UPSERT
 *                  per record, audit rows chained (seq, prev_hash, hash)
 *                  in commit order; audit_head updated; COMMIT; then the
 *                  acks, then the queue space is released and flushers
 *                  woken.
 *   failure        any error inside a batch: ROLLBACK, the in-memory audit
 *                  head is restored, the store becomes FAILED (queue.c
 *                  discards what is queued, wakes everyone), the failure
 *                  callback runs once, and the thread ends.  Nothing of the
 *                  failed batch or after it is acknowledged.
 *   engine checkpoints  only the latest keeps its state blob: when a
 *                  transaction adds a checkpoint, the one it supersedes
 *                  is emptied in it (its row, hashes included, stays as
 *                  history), and the chunks its manifest named that the
 *                  new one does not name are deleted.  So the database
 *                  holds one engine state, however often a live run
 *                  checkpoints, and a checkpoint writes only the chunks
 *                  that changed.
 *   WAL checkpoints a second thread with its own connection runs PASSIVE
 *                  WAL checkpoints (copying committed pages into the
 *                  database file) each time the WAL has grown by
 *                  CKPT_PAGES, so commits do not pay for them; it never
 *                  writes records.  Without it (its connection failed) the
 *                  writer checkpoints inline, as SQLite's autocheckpoint.
 *   hh_store_close flush, stop the checkpointer, tell the writer to finish,
 *                  join it (it finalizes its statements and closes its
 *                  connection, which checkpoints the rest), release the
 *                  lock.
 *
 * Invariants: w->audit_seq / w->audit_prev are the seq and hash of the
 * last audit row committed (or being written in the open transaction), and
 * equal audit_head in the database between transactions.  Once set-up is
 * done, every audit row this writer writes is keyed with w->key_id (the
 * chain ends with that key) or, with no key, the chain is unkeyed: a
 * writer never mixes the two.  The key itself lives only in w->mac.
 */
#include "store/store_int.h"

#include "core/grow.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

enum {
    ST_BEGIN = HH_STORE_CHUNK + 1, ST_COMMIT, ST_ROLLBACK, ST_HEAD, ST_PRUNE, ST_DROP_CHUNK,
    ST_COUNT
};

static const char *const SQL[ST_COUNT] = {
    [HH_STORE_SIGNAL] =
        "INSERT INTO signals (signal_id, line, raw, received_at, decision, reason, detail, "
        "correlation_id, decided_at, latency_ns, topic, kafka_partition, kafka_offset) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    [HH_STORE_TRADE_STATE] =
        "INSERT INTO trade_state (trade_key, state, at, detail, correlation_id) "
        "VALUES (?1, ?2, ?3, ?4, ?5)",
    [HH_STORE_ORDER] =
        "INSERT INTO orders (client_id, order_id, trade_key, symbol, side, type, qty, "
        "limit_price, trigger_price, state, terminal, created_at, updated_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12) "
        "ON CONFLICT (client_id) DO UPDATE SET "
        "order_id = coalesce(excluded.order_id, orders.order_id), "
        "trade_key = coalesce(excluded.trade_key, orders.trade_key), "
        "symbol = excluded.symbol, side = excluded.side, type = excluded.type, "
        "qty = excluded.qty, limit_price = excluded.limit_price, "
        "trigger_price = excluded.trigger_price, state = excluded.state, "
        "terminal = excluded.terminal, updated_at = excluded.updated_at",
    [HH_STORE_ORDER_EVENT] =
        "INSERT INTO order_events (order_id, client_id, kind, at, qty, price, filled, "
        "leaves, exec_id, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
        "ON CONFLICT (order_id, exec_id) DO NOTHING",
    [HH_STORE_FILL] =
        "INSERT INTO fills (ts, order_id, trade_id, signal_id, symbol, side, qty, price, "
        "reason, charges, exec_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
        "ON CONFLICT (order_id, exec_id) DO NOTHING",
    [HH_STORE_POSITION] =
        "INSERT INTO positions (symbol, qty, avg_price, realised, updated_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (symbol) DO UPDATE SET "
        "qty = excluded.qty, avg_price = excluded.avg_price, "
        "realised = excluded.realised, updated_at = excluded.updated_at",
    [HH_STORE_TRADE] =
        "INSERT INTO trades (trade_id, signal_id, symbol, side, qty, entry_ts, entry_price, "
        "exit_ts, avg_exit_price, exit_reason, gross_pnl, charges, net_pnl, "
        "r_multiple_x100) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
        "?14)",
    [HH_STORE_GROUP] =
        "INSERT INTO group_exec (group_id, state, legs, updated_at) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT (group_id) DO UPDATE SET state = excluded.state, "
        "legs = excluded.legs, updated_at = excluded.updated_at",
    [HH_STORE_CHECKPOINT] =
        "INSERT INTO checkpoints (at, seq, state, state_hash, blob_sha256) "
        "VALUES (?1, ?2, ?3, ?4, ?5)",
    [HH_STORE_AUDIT] =
        "INSERT INTO audit (seq, at, kind, correlation_id, payload, prev_hash, hash, key_id) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [HH_STORE_KILL] = HH_STORE__KILL_INSERT,
    [HH_STORE_KILL_APPLIED] =
        "UPDATE kill_switch SET applied_at = coalesce(applied_at, ?2) WHERE id = ?1",
    [HH_STORE_OUTBOX] =
        "INSERT INTO outbox (seq, kind, topic, msg_key, reason, correlation_id, payload, "
        "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [HH_STORE_OUTBOX_SENT] = "UPDATE outbox SET sent = 1 WHERE seq = ?1",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_HEAD] = "UPDATE audit_head SET seq = ?1, hash = ?2 WHERE id = 1",
    [HH_STORE_CHUNK] =
        "INSERT INTO checkpoint_chunks (sha, bytes) VALUES (?1, ?2) ON CONFLICT (sha) DO NOTHING",
    [ST_PRUNE] = "UPDATE checkpoints SET state = zeroblob(0) WHERE id = ?1",
    [ST_DROP_CHUNK] = "DELETE FROM checkpoint_chunks WHERE sha = ?1",
};

struct sqlite_store {
    struct hh_store base;          /* first: the generic handle */
    char *path;
    char *lock_path;
    int lock_fd;                   /* flock'd for the store's life */
    bool lock_created;             /* this open created the lock file */
    struct hh_store_opts opts;
    struct hh_store__queue q;
    pthread_t thread;

    /* Set-up handshake: the opener waits until the writer is ready. */
    pthread_mutex_t start_mu;
    pthread_cond_t start_cv;
    bool started;                  /* set-up finished (start_rc tells how) */
    int start_rc;
    struct hh_diag start_diag;

    /* Writer thread only. */
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    struct hh_digest hasher;
    uint64_t audit_seq;            /* last audit row (see invariant) */
    char audit_prev[HH_STORE_HASH_HEX];
    hh_time_t audit_at;            /* its engine time (0 when none) */
    char chain_key[HH_STORE_KEY_ID_HEX];   /* its key id at open ("" unkeyed) */

    /* The audit key: copied by the opener, moved into `mac` and wiped by
     * the writer's set-up. */
    bool keyed;
    struct hh_store_audit_key key;
    char key_id[HH_STORE_KEY_ID_HEX];
    struct hh_digest mac;          /* HMAC-SHA256 with the key */

    _Atomic uint64_t transactions, max_group;
    int64_t ckpt_kept;             /* writer: row id of the checkpoint whose
                                      state is kept (the latest), 0: none */
    uint64_t ckpt_kept_seq;        /* its seq */
    unsigned char *kept_chunks;    /* the digests its manifest names, sorted */
    size_t nkept, capkept;

    /* The checkpointer: its own connection copies WAL pages into the
     * database file (PASSIVE checkpoints, which never block the writer),
     * so that the writer's commits do not pay for it. */
    pthread_t ck_thread;
    bool ck_started;               /* opener side: the thread exists */
    pthread_mutex_t ck_mu;
    pthread_cond_t ck_cv;
    bool ck_want, ck_stop;
    _Atomic bool ck_alive;         /* its connection is open and serving */
    int ck_last;                   /* writer: WAL pages at the last request */
    _Atomic uint64_t checkpoints;
    _Atomic uint64_t truncations;  /* writer: WAL checkpointed whole and truncated */
};

/* WAL pages after which a checkpoint is asked for (SQLite's default). */
#define CKPT_PAGES 1000

/* WAL pages at which the writer itself checkpoints it all and truncates it.
 * Under a steady stream of commits the checkpointer's PASSIVE checkpoints
 * never catch the WAL's end, and the WAL only restarts after one does: it
 * would grow for the whole run. */
#define WAL_TRUNCATE_PAGES (8 * CKPT_PAGES)

/* ---- binding helpers --------------------------------------------------------------- */

static int bind_text(sqlite3_stmt *s, int i, const char *v)
{
    return v ? sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(s, i);
}

static int bind_time(sqlite3_stmt *s, int i, hh_time_t t)
{
    return t == HH_TIME_NONE ? sqlite3_bind_null(s, i) : sqlite3_bind_int64(s, i, t);
}

/* A broker id: 0 means unknown (NULL); stored as the int64 of its bits. */
static int bind_id(sqlite3_stmt *s, int i, uint64_t v)
{
    return v ? sqlite3_bind_int64(s, i, (int64_t)v) : sqlite3_bind_null(s, i);
}

/* ---- writing one record -------------------------------------------------------------- */

static void bind_signal(sqlite3_stmt *s, const struct hh_store_signal *r)
{
    bind_text(s, 1, r->signal_id);
    sqlite3_bind_int64(s, 2, (int64_t)r->line);
    bind_text(s, 3, r->raw);
    bind_time(s, 4, r->received_at);
    bind_text(s, 5, r->accepted ? "ACCEPTED" : "REJECTED");
    bind_text(s, 6, r->accepted && r->reason == HH_SIG_NONE ? NULL
                                                            : hh_sig_reason_name(r->reason));
    bind_text(s, 7, r->detail);
    bind_text(s, 8, r->correlation_id);
    bind_time(s, 9, r->decided_at);
    if (r->latency_ns > 0)
        sqlite3_bind_int64(s, 10, r->latency_ns);
    else
        sqlite3_bind_null(s, 10);
    bind_text(s, 11, r->topic);
    if (r->topic) {
        sqlite3_bind_int(s, 12, r->partition);
        sqlite3_bind_int64(s, 13, r->offset);
    } else {
        sqlite3_bind_null(s, 12);
        sqlite3_bind_null(s, 13);
    }
}

void hh_store__kill_bind(sqlite3_stmt *s, const struct hh_store_kill *k)
{
    bind_text(s, 1, hh_store_kill_action_name(k->action));
    bind_text(s, 2, hh_store_kill_state_name(k->action));
    bind_text(s, 3, k->reason);
    sqlite3_bind_int64(s, 4, k->at);
    bind_text(s, 5, k->by);
    bind_time(s, 6, k->applied_at);
}

static void bind_kill_applied(sqlite3_stmt *s, const struct hh_store_kill *k)
{
    sqlite3_bind_int64(s, 1, k->id);
    sqlite3_bind_int64(s, 2, k->applied_at);
}

static void bind_outbox(sqlite3_stmt *s, const struct hh_store_outbox *r)
{
    sqlite3_bind_int64(s, 1, (int64_t)r->seq);
    bind_text(s, 2, r->kind == HH_OUTBOX_DEAD_LETTER ? "DEAD_LETTER" : "EVENT");
    bind_text(s, 3, r->topic);
    bind_text(s, 4, r->key);
    bind_text(s, 5, r->reason);
    bind_text(s, 6, r->correlation_id);
    bind_text(s, 7, r->payload);
    sqlite3_bind_int64(s, 8, r->at);
}

static void bind_trade_state(sqlite3_stmt *s, const struct hh_store_trade_state *r)
{
    bind_text(s, 1, r->trade_key);
    bind_text(s, 2, hh_store_tstate_name(r->state));
    sqlite3_bind_int64(s, 3, r->at);
    bind_text(s, 4, r->detail);
    bind_text(s, 5, r->correlation_id);
}

static void bind_order(sqlite3_stmt *s, const struct hh_store_order *r)
{
    bind_text(s, 1, r->client_id);
    bind_id(s, 2, r->order_id);
    bind_text(s, 3, r->trade_key);
    bind_text(s, 4, r->symbol);
    bind_text(s, 5, hh_side_name(r->side));
    bind_text(s, 6, hh_ord_type_name(r->type));
    sqlite3_bind_int64(s, 7, r->qty);
    sqlite3_bind_int64(s, 8, r->limit);
    sqlite3_bind_int64(s, 9, r->trigger);
    bind_text(s, 10, hh_ord_state_name(r->state));
    sqlite3_bind_int(s, 11, hh_ord_state_terminal(r->state));
    sqlite3_bind_int64(s, 12, r->at);
}

static void bind_order_event(sqlite3_stmt *s, const struct hh_store_order_event *r)
{
    bind_id(s, 1, r->order_id);
    bind_text(s, 2, r->client_id);
    bind_text(s, 3, hh_report_kind_name(r->kind));
    sqlite3_bind_int64(s, 4, r->at);
    sqlite3_bind_int64(s, 5, r->qty);
    sqlite3_bind_int64(s, 6, r->price);
    sqlite3_bind_int64(s, 7, r->filled);
    sqlite3_bind_int64(s, 8, r->leaves);
    bind_id(s, 9, r->exec_id);
    bind_text(s, 10, r->reason);
}

static void bind_fill(sqlite3_stmt *s, const struct hh_store_fill *r)
{
    sqlite3_bind_int64(s, 1, r->ts);
    sqlite3_bind_int64(s, 2, (int64_t)r->order_id);
    sqlite3_bind_int64(s, 3, r->trade_id);
    bind_text(s, 4, r->signal_id);
    bind_text(s, 5, r->symbol);
    bind_text(s, 6, hh_side_name(r->side));
    sqlite3_bind_int64(s, 7, r->qty);
    sqlite3_bind_int64(s, 8, r->price);
    bind_text(s, 9, r->reason);
    sqlite3_bind_int64(s, 10, r->charges);
    bind_id(s, 11, r->exec_id);
}

static void bind_position(sqlite3_stmt *s, const struct hh_store_position *r)
{
    bind_text(s, 1, r->symbol);
    sqlite3_bind_int64(s, 2, r->qty);
    sqlite3_bind_int64(s, 3, r->avg_price);
    sqlite3_bind_int64(s, 4, r->realised);
    sqlite3_bind_int64(s, 5, r->at);
}

static void bind_trade(sqlite3_stmt *s, const struct hh_store_trade *r)
{
    sqlite3_bind_int64(s, 1, r->trade_id);
    bind_text(s, 2, r->signal_id);
    bind_text(s, 3, r->symbol);
    bind_text(s, 4, hh_side_name(r->side));
    sqlite3_bind_int64(s, 5, r->qty);
    bind_time(s, 6, r->entry_ts);
    sqlite3_bind_int64(s, 7, r->entry_price);
    bind_time(s, 8, r->exit_ts);
    sqlite3_bind_int64(s, 9, r->avg_exit_price);
    bind_text(s, 10, r->exit_reason);
    sqlite3_bind_int64(s, 11, r->gross);
    sqlite3_bind_int64(s, 12, r->charges);
    sqlite3_bind_int64(s, 13, r->net);
    sqlite3_bind_int64(s, 14, r->r_multiple_x100);
}

static void bind_group(sqlite3_stmt *s, const struct hh_store_group *r)
{
    bind_text(s, 1, r->group_id);
    bind_text(s, 2, r->state);
    bind_text(s, 3, r->legs_json);
    sqlite3_bind_int64(s, 4, r->at);
}

/* The blob's hash is computed here, on the writer thread. */
static int bind_checkpoint(struct sqlite_store *w, sqlite3_stmt *s,
                           const struct hh_store_checkpoint *r, char sha[HH_STORE_HASH_HEX])
{
    int rc = hh_digest_blob(&w->hasher, r->state, r->state_len, sha);

    if (rc)
        return rc;
    sqlite3_bind_int64(s, 1, r->at);
    sqlite3_bind_int64(s, 2, (int64_t)r->seq);
    if (r->state_len)
        sqlite3_bind_blob64(s, 3, r->state, r->state_len, SQLITE_STATIC);
    else
        sqlite3_bind_zeroblob(s, 3, 0);
    bind_text(s, 4, r->state_hash ? r->state_hash : sha);
    bind_text(s, 5, sha);
    return HH_OK;
}

/* The next link of the chain: seq and hash follow the last audit row;
 * keyed with the writer's key when it has one. */
static int bind_audit(struct sqlite_store *w, sqlite3_stmt *s, const struct hh_store_audit *r,
                      char hash[HH_STORE_HASH_HEX])
{
    const char *corr = r->correlation_id ? r->correlation_id : "";
    const char *payload = r->payload ? r->payload : "{}";
    const struct hh_store__arec a = {
        .seq = w->audit_seq + 1, .at = r->at, .kind = hh_audit_kind_name(r->kind),
        .corr = corr, .corr_len = strlen(corr), .payload = payload,
        .payload_len = strlen(payload), .key_id = w->keyed ? w->key_id : NULL,
        .prev = w->audit_prev,
    };
    int rc = hh_store__hash_audit(w->keyed ? &w->mac : &w->hasher, &a, hash);

    if (rc)
        return rc;
    sqlite3_bind_int64(s, 1, (int64_t)a.seq);
    sqlite3_bind_int64(s, 2, a.at);
    bind_text(s, 3, a.kind);
    bind_text(s, 4, corr);
    bind_text(s, 5, payload);
    bind_text(s, 6, w->audit_prev);
    bind_text(s, 7, hash);
    bind_text(s, 8, a.key_id);
    return HH_OK;
}

/* Run one of the fixed statements (BEGIN, COMMIT, …). */
static int run(struct sqlite_store *w, int which, const char *what, struct hh_diag *d)
{
    int rc = sqlite3_step(w->st[which]);

    sqlite3_reset(w->st[which]);
    return rc == SQLITE_DONE ? HH_OK : hh_store__sqlerr(w->db, rc, w->path, what, d);
}

static int digest_cmp(const void *a, const void *b)
{
    return memcmp(a, b, HH_STORE_DIGEST_BYTES);
}

/* The chunks a checkpoint's blob names, sorted, as w->kept_chunks. */
static int set_kept_chunks(struct sqlite_store *w, const void *blob, size_t len)
{
    const unsigned char *dg;
    size_t n;

    w->nkept = 0;
    if (!hh_store_manifest(blob, len, &dg, &n) || !n)
        return HH_OK;
    if (hh_grow(&w->kept_chunks, &w->capkept, n * HH_STORE_DIGEST_BYTES, 1))
        return HH_ENOMEM;
    memcpy(w->kept_chunks, dg, n * HH_STORE_DIGEST_BYTES);
    qsort(w->kept_chunks, n, HH_STORE_DIGEST_BYTES, digest_cmp);
    w->nkept = n;
    return HH_OK;
}

/* Delete the chunks of old[0..nold) (sorted) that the kept checkpoint does
 * not name. */
static int drop_chunks(struct sqlite_store *w, const unsigned char *old, size_t nold,
                       struct hh_diag *d)
{
    sqlite3_stmt *s = w->st[ST_DROP_CHUNK];
    int rc;

    for (size_t i = 0; i < nold; i++) {
        const unsigned char *g = old + i * HH_STORE_DIGEST_BYTES;

        if ((i && !memcmp(g, g - HH_STORE_DIGEST_BYTES, HH_STORE_DIGEST_BYTES)) ||
            bsearch(g, w->kept_chunks, w->nkept, HH_STORE_DIGEST_BYTES, digest_cmp))
            continue;
        sqlite3_bind_blob(s, 1, g, HH_STORE_DIGEST_BYTES, SQLITE_STATIC);
        if ((rc = run(w, ST_DROP_CHUNK, "deleting a checkpoint chunk", d)) != HH_OK)
            return rc;
    }
    return HH_OK;
}

/* The checkpoint r just inserted becomes the one whose state is kept: the
 * one it supersedes is emptied and the chunks only that one named are
 * deleted.  A checkpoint that would not be the latest for a reader (a
 * lower seq: the reader takes the greatest) leaves the kept one alone.
 * (A failed transaction ends the writer: nothing here is rolled back in
 * memory.) */
static int keep_latest_checkpoint(struct sqlite_store *w, const struct hh_store_checkpoint *r,
                                  struct hh_diag *d)
{
    int64_t id = sqlite3_last_insert_rowid(w->db);
    unsigned char *old = w->kept_chunks;
    size_t nold = w->nkept;
    int rc;

    if (w->ckpt_kept && r->seq < w->ckpt_kept_seq)
        return HH_OK;
    if (w->ckpt_kept) {
        sqlite3_bind_int64(w->st[ST_PRUNE], 1, w->ckpt_kept);
        if ((rc = run(w, ST_PRUNE, "emptying a superseded checkpoint", d)) != HH_OK)
            return rc;
    }
    w->ckpt_kept = id;
    w->ckpt_kept_seq = r->seq;
    w->kept_chunks = NULL;
    w->capkept = 0;
    rc = set_kept_chunks(w, r->state, r->state_len);
    if (!rc)
        rc = drop_chunks(w, old, nold, d);
    else
        hh_diag_set(d, rc, "%s: out of memory keeping a checkpoint's chunks", w->path);
    free(old);
    return rc;
}

/* Insert one record inside the open transaction. */
static int write_rec(struct sqlite_store *w, const struct hh_store_rec *r, struct hh_diag *d)
{
    sqlite3_stmt *s = w->st[r->kind];
    char hash[HH_STORE_HASH_HEX];
    int rc = HH_OK;

    switch (r->kind) {
    case HH_STORE_SIGNAL: bind_signal(s, &r->u.signal); break;
    case HH_STORE_TRADE_STATE: bind_trade_state(s, &r->u.trade_state); break;
    case HH_STORE_ORDER: bind_order(s, &r->u.order); break;
    case HH_STORE_ORDER_EVENT: bind_order_event(s, &r->u.order_event); break;
    case HH_STORE_FILL: bind_fill(s, &r->u.fill); break;
    case HH_STORE_POSITION: bind_position(s, &r->u.position); break;
    case HH_STORE_TRADE: bind_trade(s, &r->u.trade); break;
    case HH_STORE_GROUP: bind_group(s, &r->u.group); break;
    case HH_STORE_CHECKPOINT: rc = bind_checkpoint(w, s, &r->u.checkpoint, hash); break;
    case HH_STORE_AUDIT: rc = bind_audit(w, s, &r->u.audit, hash); break;
    case HH_STORE_KILL: hh_store__kill_bind(s, &r->u.kill); break;
    case HH_STORE_KILL_APPLIED: bind_kill_applied(s, &r->u.kill); break;
    case HH_STORE_OUTBOX: bind_outbox(s, &r->u.outbox); break;
    case HH_STORE_OUTBOX_SENT: sqlite3_bind_int64(s, 1, (int64_t)r->u.outbox_sent.seq); break;
    case HH_STORE_CHUNK:
        sqlite3_bind_blob(s, 1, r->u.chunk.sha, HH_STORE_DIGEST_BYTES, SQLITE_STATIC);
        sqlite3_bind_blob64(s, 2, r->u.chunk.bytes, r->u.chunk.len, SQLITE_STATIC);
        break;
    }
    if (rc)
        return hh_diag_set(d, rc, "%s: hashing a %s record failed", w->path,
                           hh_store_kind_name(r->kind));
    rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) {
        char what[64];

        snprintf(what, sizeof what, "writing a record (%s)", hh_store_kind_name(r->kind));
        rc = hh_store__sqlerr(w->db, rc, w->path, what, d);
        sqlite3_reset(s);
        return rc;
    }
    sqlite3_reset(s);
    if (r->kind == HH_STORE_CHECKPOINT)
        return keep_latest_checkpoint(w, &r->u.checkpoint, d);
    if (r->kind == HH_STORE_AUDIT) {
        w->audit_seq++;
        w->audit_at = r->u.audit.at;
        memcpy(w->audit_prev, hash, sizeof hash);
    }
    return HH_OK;
}

/* ---- one transaction ------------------------------------------------------------------ */

static int write_head(struct sqlite_store *w, struct hh_diag *d)
{
    sqlite3_stmt *s = w->st[ST_HEAD];
    int rc;

    sqlite3_bind_int64(s, 1, (int64_t)w->audit_seq);
    sqlite3_bind_text(s, 2, w->audit_prev, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return hh_store__sqlerr(w->db, rc, w->path, "updating the audit head", d);
    if (sqlite3_changes(w->db) != 1)
        return hh_diag_set(d, HH_ETAMPER, "%s: the audit head record is missing", w->path);
    return HH_OK;
}

/* What one transaction writes: a batch of the queue, or one record of the
 * writer's own (a key rotation). */
struct txn_src {
    const struct hh_store__batch *b;   /* NULL: rec */
    const struct hh_store_rec *rec;
};

static int write_src(struct sqlite_store *w, const struct txn_src *src, struct hh_diag *d)
{
    size_t off, left;
    struct hh_store__ent *e;
    int rc;

    if (!src->b)
        return write_rec(w, src->rec, d);
    off = src->b->begin;
    left = src->b->bytes;
    while ((e = hh_store__queue_next(&w->q, &off, &left)) != NULL)
        for (uint32_t i = 0; i < e->nrec; i++)
            if ((rc = write_rec(w, &e->rec[i], d)) != HH_OK)
                return rc;
    return HH_OK;
}

/* Write src in one transaction; on error everything is rolled back,
 * including the in-memory audit head. */
static int commit_txn(struct sqlite_store *w, const struct txn_src *src, struct hh_diag *d)
{
    uint64_t seq0 = w->audit_seq;
    hh_time_t at0 = w->audit_at;
    char prev0[HH_STORE_HASH_HEX];
    int rc;

    memcpy(prev0, w->audit_prev, sizeof prev0);
    rc = run(w, ST_BEGIN, "beginning a transaction", d);
    if (rc)
        return rc;
    rc = write_src(w, src, d);
    if (!rc && w->audit_seq != seq0)
        rc = write_head(w, d);
    if (!rc)
        rc = run(w, ST_COMMIT, "committing", d);
    if (!rc) {
        atomic_fetch_add(&w->transactions, 1);
        return HH_OK;
    }
    /* COMMIT may already have rolled back (e.g. SQLITE_FULL); harmless. */
    sqlite3_step(w->st[ST_ROLLBACK]);
    sqlite3_reset(w->st[ST_ROLLBACK]);
    w->audit_seq = seq0;
    w->audit_at = at0;
    memcpy(w->audit_prev, prev0, sizeof prev0);
    return rc;
}

/* Commit the batch in one transaction (commit_txn). */
static int commit_batch(struct sqlite_store *w, const struct hh_store__batch *b,
                        struct hh_diag *d)
{
    const struct txn_src src = { .b = b, .rec = NULL };
    int rc = commit_txn(w, &src, d);

    if (!rc && b->nrec > atomic_load(&w->max_group))
        atomic_store(&w->max_group, b->nrec);
    return rc;
}

static void deliver_acks(struct sqlite_store *w, const struct hh_store__batch *b)
{
    size_t off = b->begin, left = b->bytes;
    struct hh_store__ent *e;

    if (!w->opts.ack)
        return;
    while ((e = hh_store__queue_next(&w->q, &off, &left)) != NULL)
        if (e->token)
            w->opts.ack(w->opts.ack_ctx, e->token, e->first_seq + e->nrec - 1);
}

static void writer_loop(struct sqlite_store *w)
{
    struct hh_store__batch b;
    struct hh_diag d;
    int rc;

    while (hh_store__queue_take(&w->q, w->opts.group_max, &b)) {
        rc = commit_batch(w, &b, &d);
        if (rc) {
            /* The callback first: whoever then sees the failure through a
             * submit, a flush or the status knows it has been reported. */
            if (w->opts.failed)
                w->opts.failed(w->opts.fail_ctx, rc, d.msg);
            hh_store__queue_fail(&w->q, rc, d.msg);
            return;
        }
        deliver_acks(w, &b);
        hh_store__queue_done(&w->q, &b);
    }
}

/* ---- checkpoints ------------------------------------------------------------------------- */

/* Called by SQLite on the writer thread after each commit with the WAL's
 * size in pages: hand the checkpoint to the checkpointer, or do it here
 * (as SQLite's autocheckpoint would) when there is none. */
static int wal_hook(void *ctx, sqlite3 *db, const char *name, int pages)
{
    struct sqlite_store *w = ctx;

    /* Once per CKPT_PAGES of growth: the WAL keeps its size until the
     * first commit after a complete checkpoint restarts it. */
    if (pages < w->ck_last)
        w->ck_last = 0;
    if (pages >= WAL_TRUNCATE_PAGES) {
        /* waits (busy timeout) for the checkpointer and readers: most of
         * the WAL is in the file already, what is left is copied here */
        if (sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) ==
            SQLITE_OK) {
            atomic_fetch_add(&w->truncations, 1);
            w->ck_last = 0;
        }
        return SQLITE_OK;
    }
    if (pages - w->ck_last < CKPT_PAGES)
        return SQLITE_OK;
    w->ck_last = pages;
    if (atomic_load(&w->ck_alive)) {
        pthread_mutex_lock(&w->ck_mu);
        w->ck_want = true;
        pthread_cond_signal(&w->ck_cv);
        pthread_mutex_unlock(&w->ck_mu);
    } else {
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    }
    return SQLITE_OK;
}

static void *checkpointer_main(void *arg)
{
    struct sqlite_store *w = arg;
    sqlite3 *db = NULL;
    int log, done;

    /* A connection opens the file lazily: until it has read the database
     * once it is not in WAL mode, and its checkpoints do nothing (they
     * return SQLITE_OK with -1 frames: the WAL grew for the whole run). */
    if (hh_store__connect(w->path, false, true, w->opts.busy_timeout_ms, &db, NULL) != HH_OK ||
        sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return NULL;                      /* the writer checkpoints itself */
    }
    atomic_store(&w->ck_alive, true);
    pthread_mutex_lock(&w->ck_mu);
    for (;;) {
        while (!w->ck_want && !w->ck_stop)
            pthread_cond_wait(&w->ck_cv, &w->ck_mu);
        if (w->ck_stop)
            break;
        w->ck_want = false;
        pthread_mutex_unlock(&w->ck_mu);
        /* Busy or failed: the WAL just grows until the next attempt. */
        if (sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done) ==
                SQLITE_OK &&
            done > 0)
            atomic_fetch_add(&w->checkpoints, 1);
        /* The writer's own truncation is refused (SQLITE_BUSY, no busy
         * handler) while this connection checkpoints; under a steady stream
         * of commits this one may always be checkpointing then: truncate
         * from here too, waiting (busy handler) for the writer's commit. */
        if (log >= WAL_TRUNCATE_PAGES &&
            sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) ==
                SQLITE_OK)
            atomic_fetch_add(&w->truncations, 1);
        pthread_mutex_lock(&w->ck_mu);
    }
    atomic_store(&w->ck_alive, false);
    pthread_mutex_unlock(&w->ck_mu);
    sqlite3_close(db);
    return NULL;
}

static void checkpointer_stop(struct sqlite_store *w)
{
    if (!w->ck_started)
        return;
    pthread_mutex_lock(&w->ck_mu);
    w->ck_stop = true;
    pthread_cond_signal(&w->ck_cv);
    pthread_mutex_unlock(&w->ck_mu);
    pthread_join(w->ck_thread, NULL);
    w->ck_started = false;
}

/* ---- set-up (on the writer thread) --------------------------------------------------- */

/* Read the audit head and check it against the last row: the writer
 * continues the chain from there (its time and key too), so they must
 * agree. */
static int load_head(struct sqlite_store *w, struct hh_diag *d)
{
    sqlite3_stmt *s = NULL;
    int64_t hseq = -1, lseq = 0;
    char hhash[HH_STORE_HASH_HEX] = "", lhash[HH_STORE_HASH_HEX];
    int rc;

    memcpy(lhash, hh_store_genesis_hash, sizeof lhash);
    rc = sqlite3_prepare_v2(w->db, "SELECT seq, hash FROM audit_head WHERE id = 1", -1, &s,
                            NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        hseq = sqlite3_column_int64(s, 0);
        snprintf(hhash, sizeof hhash, "%s", (const char *)sqlite3_column_text(s, 1));
    }
    sqlite3_finalize(s);
    s = NULL;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return hh_store__sqlerr(w->db, rc, w->path, "reading the audit head", d);
    rc = sqlite3_prepare_v2(w->db, "SELECT seq, hash, at, coalesce(key_id, '') FROM audit "
                            "ORDER BY seq DESC LIMIT 1", -1, &s, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        lseq = sqlite3_column_int64(s, 0);
        snprintf(lhash, sizeof lhash, "%s", (const char *)sqlite3_column_text(s, 1));
        w->audit_at = sqlite3_column_int64(s, 2);
        snprintf(w->chain_key, sizeof w->chain_key, "%s",
                 (const char *)sqlite3_column_text(s, 3));
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return hh_store__sqlerr(w->db, rc, w->path, "reading the audit trail", d);
    if (hseq != lseq || strcmp(hhash, lhash) != 0)
        return hh_diag_set(d, HH_ETAMPER,
                           "%s: the audit trail does not end at its recorded head (head seq "
                           "%lld, last record seq %lld): run hedgehog audit verify",
                           w->path, (long long)hseq, (long long)lseq);
    w->audit_seq = (uint64_t)lseq;
    memcpy(w->audit_prev, lhash, sizeof lhash);
    return HH_OK;
}

/* The checkpoint a reader restores (greatest seq, then latest written)
 * is the one whose state is kept, with the chunks it names; any other
 * still holding a state (a database from before checkpoints were emptied)
 * is emptied now. */
static int load_kept_checkpoint(struct sqlite_store *w, struct hh_diag *d)
{
    sqlite3_stmt *s = NULL;
    char sql[128];
    int rc;

    rc = sqlite3_prepare_v2(w->db, "SELECT id, seq, state FROM checkpoints "
                            "ORDER BY seq DESC, id DESC LIMIT 1", -1, &s, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        w->ckpt_kept = sqlite3_column_int64(s, 0);
        w->ckpt_kept_seq = (uint64_t)sqlite3_column_int64(s, 1);
        if (set_kept_chunks(w, sqlite3_column_blob(s, 2), (size_t)sqlite3_column_bytes(s, 2))) {
            sqlite3_finalize(s);
            return hh_diag_set(d, HH_ENOMEM, "%s: out of memory reading the latest checkpoint",
                               w->path);
        }
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return hh_store__sqlerr(w->db, rc, w->path, "reading the latest checkpoint", d);
    snprintf(sql, sizeof sql, "UPDATE checkpoints SET state = zeroblob(0) WHERE id != %lld "
             "AND length(state) > 0", (long long)w->ckpt_kept);
    return hh_store__exec(w->db, w->path, sql, d);
}

/* journal_mode=WAL, the synchronous level and the size cap. */
static int configure(struct sqlite_store *w, struct hh_diag *d)
{
    sqlite3_stmt *s = NULL;
    char sql[96];
    bool wal = false;
    int rc;

    rc = sqlite3_prepare_v2(w->db, "PRAGMA journal_mode = WAL", -1, &s, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW)
        wal = !strcmp((const char *)sqlite3_column_text(s, 0), "wal");
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW)
        return hh_store__sqlerr(w->db, rc, w->path, "setting WAL mode", d);
    if (!wal)
        return hh_diag_set(d, HH_EDB, "%s: the database cannot use WAL mode here", w->path);
    rc = hh_store__exec(w->db, w->path,
                        w->opts.sync == HH_STORE_SYNC_FULL ? "PRAGMA synchronous = FULL"
                                                           : "PRAGMA synchronous = NORMAL",
                        d);
    if (!rc && w->opts.max_pages > 0) {
        snprintf(sql, sizeof sql, "PRAGMA max_page_count = %lld", (long long)w->opts.max_pages);
        rc = hh_store__exec(w->db, w->path, sql, d);
    }
    return rc;
}

static int prepare_all(struct sqlite_store *w, struct hh_diag *d)
{
    for (int i = HH_STORE_SIGNAL; i < ST_COUNT; i++) {
        int rc = sqlite3_prepare_v3(w->db, SQL[i], -1, SQLITE_PREPARE_PERSISTENT, &w->st[i],
                                    NULL);

        if (rc != SQLITE_OK)
            return hh_store__sqlerr(w->db, rc, w->path, "preparing statements", d);
    }
    return HH_OK;
}

/* The KEY_ROTATED record that starts the writer's key after the chain's
 * (its own transaction; its time is the last record's: the store has no
 * clock).  Its MAC vouches for the chain before it, so that chain is
 * walked first (unkeyed records fully, keyed ones by their links): a
 * broken chain is never keyed. */
static int rotate_key(struct sqlite_store *w, struct hh_diag *d)
{
    char payload[96];
    struct hh_store_rec rec = { .kind = HH_STORE_AUDIT };
    const struct txn_src src = { .b = NULL, .rec = &rec };
    struct hh_store_verify v;
    int rc = hh_store__audit_walk(w->db, &w->hasher, HH_STORE_SCHEMA_VERSION, NULL, 0, &v, d);

    if (rc)
        return rc;
    if (!v.ok)
        return hh_diag_set(d, HH_ETAMPER, "%s: the audit trail is broken at seq %llu (%s): "
                           "keying it would vouch for it; run hedgehog audit verify", w->path,
                           (unsigned long long)v.bad_seq, v.why);
    hh_store__rotation_payload(payload, sizeof payload, w->key_id, w->chain_key);
    rec.u.audit.at = w->audit_at;
    rec.u.audit.kind = HH_AUDIT_KEY_ROTATED;
    rec.u.audit.payload = payload;
    rc = commit_txn(w, &src, d);
    return rc ? hh_diag_prefix(d, rc, "starting audit key %s", w->key_id) : HH_OK;
}

/* Key the chain as configured: go on with its key, start ours, or refuse
 * to write unkeyed records after keyed ones. */
static int key_policy(struct sqlite_store *w, struct hh_diag *d)
{
    if (!w->keyed)
        return *w->chain_key ? hh_diag_set(d, HH_ECONFIG,
                                           "%s: the audit trail is keyed (key id %s) and no "
                                           "audit key was given (audit.key_file): an "
                                           "unkeyed record would break it", w->path,
                                           w->chain_key)
                             : HH_OK;
    return strcmp(w->chain_key, w->key_id) ? rotate_key(w, d) : HH_OK;
}

/* The writer's HMAC context from the opener's copy of the key, which is
 * wiped at once. */
static int key_setup(struct sqlite_store *w, struct hh_diag *d)
{
    int rc;

    if (!w->keyed)
        return HH_OK;
    rc = hh_digest_init_keyed(&w->mac, w->key.key, w->key.len);
    memcpy(w->key_id, w->key.id, sizeof w->key_id);
    hh_store_audit_key_wipe(&w->key);
    return rc ? hh_diag_set(d, rc, "%s: cannot set up HMAC-SHA256 (OpenSSL)", w->path)
              : HH_OK;
}

static int writer_setup(struct sqlite_store *w, struct hh_diag *d)
{
    char why[256];
    int rc, version;

    rc = hh_digest_init(&w->hasher);
    if (rc)
        return hh_diag_set(d, rc, "%s: cannot set up SHA-256 (OpenSSL)", w->path);
    rc = key_setup(w, d);
    if (rc)
        return rc;
    rc = hh_store__connect(w->path, false, w->opts.no_create, w->opts.busy_timeout_ms, &w->db,
                           d);
    if (rc)
        return rc;
    rc = hh_store__identify(w->db, w->path, &version, d);
    if (!rc)
        rc = configure(w, d);
    if (!rc)
        rc = hh_store__migrate(w->db, w->path, version, d);
    if (rc)
        return rc;
    if (!hh_store__schema_present(w->db, HH_STORE_SCHEMA_VERSION, why, sizeof why))
        return hh_diag_set(d, HH_ETAMPER, "%s: the schema is damaged (%s): run hedgehog db "
                           "check", w->path, why);
    rc = load_head(w, d);
    if (!rc)
        rc = load_kept_checkpoint(w, d);
    if (!rc)
        rc = prepare_all(w, d);
    if (!rc)
        rc = key_policy(w, d);
    if (!rc)
        sqlite3_wal_hook(w->db, wal_hook, w);     /* replaces autocheckpoint */
    return rc;
}

static void writer_teardown(struct sqlite_store *w)
{
    for (int i = 0; i < ST_COUNT; i++) {
        sqlite3_finalize(w->st[i]);
        w->st[i] = NULL;
    }
    sqlite3_close(w->db);
    w->db = NULL;
    hh_digest_free(&w->hasher);
    hh_digest_free(&w->mac);
    free(w->kept_chunks);
    w->kept_chunks = NULL;
}

static void *writer_main(void *arg)
{
    struct sqlite_store *w = arg;
    struct hh_diag d = { { 0 } };
    int rc = writer_setup(w, &d);

    pthread_mutex_lock(&w->start_mu);
    w->started = true;
    w->start_rc = rc;
    w->start_diag = d;
    pthread_cond_signal(&w->start_cv);
    pthread_mutex_unlock(&w->start_mu);
    if (!rc)
        writer_loop(w);
    writer_teardown(w);
    return NULL;
}

/* ---- the operations (producer side) --------------------------------------------------- */

static int sq_submit(struct hh_store *st, const struct hh_store_rec *recs, size_t n,
                     uint64_t token, uint64_t *seq, struct hh_diag *d)
{
    struct sqlite_store *w = (struct sqlite_store *)st;

    return hh_store__queue_push(&w->q, recs, n, token, seq, d);
}

static int sq_flush(struct hh_store *st, struct hh_diag *d)
{
    return hh_store__queue_flush(&((struct sqlite_store *)st)->q, d);
}

static int sq_status(struct hh_store *st, struct hh_diag *d)
{
    return hh_store__queue_status(&((struct sqlite_store *)st)->q, d);
}

static uint64_t sq_committed(struct hh_store *st)
{
    return atomic_load(&((struct sqlite_store *)st)->q.committed);
}

static void sq_stats(struct hh_store *st, struct hh_store_stats *out)
{
    struct sqlite_store *w = (struct sqlite_store *)st;

    pthread_mutex_lock(&w->q.mu);
    out->submitted = w->q.next_seq - 1;
    out->producer_waits = w->q.producer_waits;
    pthread_mutex_unlock(&w->q.mu);
    out->committed = atomic_load(&w->q.committed);
    out->transactions = atomic_load(&w->transactions);
    out->max_group = atomic_load(&w->max_group);
    out->checkpoints = atomic_load(&w->checkpoints);
    out->wal_truncations = atomic_load(&w->truncations);
}

/* Free what the opener built (the thread is not running). */
static void store_free(struct sqlite_store *w)
{
    if (w->lock_fd >= 0)
        close(w->lock_fd);           /* releases the flock */
    hh_store_audit_key_wipe(&w->key);
    hh_store__queue_free(&w->q);
    pthread_mutex_destroy(&w->start_mu);
    pthread_cond_destroy(&w->start_cv);
    pthread_mutex_destroy(&w->ck_mu);
    pthread_cond_destroy(&w->ck_cv);
    free(w->lock_path);
    free(w->path);
    free(w);
}

static int sq_close(struct hh_store *st, struct hh_diag *d)
{
    struct sqlite_store *w = (struct sqlite_store *)st;
    int rc = hh_store__queue_flush(&w->q, d);

    checkpointer_stop(w);
    hh_store__queue_close(&w->q);
    pthread_join(w->thread, NULL);        /* its close checkpoints the rest */
    if (!rc)
        rc = hh_store__queue_status(&w->q, d);
    store_free(w);
    return rc;
}

static const struct hh_store_ops SQLITE_OPS = {
    .name = "sqlite",
    .submit = sq_submit,
    .flush = sq_flush,
    .status = sq_status,
    .committed = sq_committed,
    .stats = sq_stats,
    .close = sq_close,
};

/* One writer per database: an exclusive flock on <db>-lock, held until
 * close (or the process's death). */
static int take_lock(struct sqlite_store *w, struct hh_diag *d)
{
    int err;

    w->lock_fd = open(w->lock_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    w->lock_created = w->lock_fd >= 0;
    if (w->lock_fd < 0 && errno == EEXIST)
        w->lock_fd = open(w->lock_path, O_RDWR | O_CLOEXEC);
    err = errno;
    if (w->lock_fd < 0 && (err == EACCES || err == EROFS))
        w->lock_fd = open(w->lock_path, O_RDONLY | O_CLOEXEC);   /* flock needs no write */
    if (w->lock_fd < 0)
        return hh_diag_set(d, HH_EIO, "%s: cannot create the writer lock %s: %s (is the "
                           "directory writable?)", w->path, w->lock_path, strerror(err));
    if (flock(w->lock_fd, LOCK_EX | LOCK_NB) != 0)
        return hh_diag_set(d, HH_ESTATE,
                           "%s: the database is already open for writing by another "
                           "process (lock %s held)", w->path, w->lock_path);
    return HH_OK;
}

static struct sqlite_store *store_new(const char *path, const struct hh_store_opts *opts)
{
    struct sqlite_store *w = calloc(1, sizeof *w);

    if (!w)
        return NULL;
    w->base.ops = &SQLITE_OPS;
    w->lock_fd = -1;
    w->opts = *opts;
    w->opts.audit_key = NULL;             /* the caller's: copied, never kept */
    w->keyed = opts->audit_key != NULL;
    if (w->keyed)
        w->key = *opts->audit_key;
    if (w->opts.group_max == 0)
        w->opts.group_max = 4096;
    if (w->opts.queue_bytes == 0)
        w->opts.queue_bytes = 16u << 20;
    pthread_mutex_init(&w->start_mu, NULL);
    pthread_cond_init(&w->start_cv, NULL);
    pthread_mutex_init(&w->ck_mu, NULL);
    pthread_cond_init(&w->ck_cv, NULL);
    atomic_init(&w->ck_alive, false);
    w->path = strdup(path);
    w->lock_path = malloc(strlen(path) + 6);
    if (w->lock_path)
        sprintf(w->lock_path, "%s-lock", path);
    if (!w->path || !w->lock_path || hh_store__queue_init(&w->q, w->opts.queue_bytes)) {
        store_free(w);
        return NULL;
    }
    return w;
}

int hh_store__sqlite_open(const char *path, const struct hh_store_opts *opts,
                          struct hh_store **out, struct hh_diag *d)
{
    struct sqlite_store *w;
    int rc;

    *out = NULL;
    if (!path || !*path)
        return hh_diag_set(d, HH_EINVAL, "store: no database file given");
    w = store_new(path, opts);
    if (!w)
        return hh_diag_set(d, HH_ENOMEM, "%s: out of memory opening the store", path);
    rc = take_lock(w, d);
    if (rc)
        goto fail;
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        rc = hh_diag_set(d, HH_ENOMEM, "%s: cannot start the writer thread", path);
        goto fail;
    }
    pthread_mutex_lock(&w->start_mu);
    while (!w->started)
        pthread_cond_wait(&w->start_cv, &w->start_mu);
    pthread_mutex_unlock(&w->start_mu);
    if (w->start_rc) {
        rc = hh_diag_set(d, w->start_rc, "%s", w->start_diag.msg);
        pthread_join(w->thread, NULL);
        /* A refused file keeps no trace of us (we still hold the lock). */
        if (w->lock_created)
            unlink(w->lock_path);
        goto fail;
    }
    /* Without a checkpointer the writer checkpoints itself (wal_hook). */
    w->ck_started = pthread_create(&w->ck_thread, NULL, checkpointer_main, w) == 0;
    *out = &w->base;
    return HH_OK;
fail:
    store_free(w);
    return rc;
}
