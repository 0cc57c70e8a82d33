/*
 * store.h — hedgehog's durable memory: what the core decides is written by
 * one writer thread, in groups, and acknowledged only once committed.
 *
 * The interface is a table of operations (like SQLite's sqlite3_vfs) so a
 * PostgreSQL writer can come later; src/store/sqlite.c is the embedded
 * implementation (WAL mode, one writer thread owning the one write
 * connection).  See docs/STORE.md for the schema, the audit hash encoding,
 * the power-loss promises of each synchronous mode and the operations
 * commands.
 *
 * Threading model
 *   - Producers (the core thread, adapters) call hh_store_submit() or the
 *     typed hh_store_put_*() helpers.  A submission is copied into a
 *     bounded ring; when the ring is full the call blocks until the writer
 *     has made room (back-pressure: nothing is ever dropped).  The call
 *     allocates nothing.
 *   - The writer thread takes everything queued (up to opts.group_max
 *     records, never splitting a submission) and commits it in one
 *     transaction (group commit).  All records of one submission — an
 *     atomic group such as fill + order event + position — land in the same
 *     transaction.
 *   - After COMMIT the writer calls opts.ack(ctx, token, seq) for every
 *     submission in the transaction whose token is non-zero, in submission
 *     order.  The callback RUNS ON THE WRITER THREAD: it must be short and
 *     must not call back into the store; consumers hand the token to their
 *     own thread (e.g. through a queue of their own) or poll
 *     hh_store_committed() instead.
 *   - Records carry a store sequence number (1, 2, … per open, in
 *     submission order); every record with seq <= hh_store_committed() is
 *     durable (in the sense of the synchronous mode, see STORE.md).
 *   - Readers (reports, the HTTP API, restore, audit tools) open their own
 *     read-only connections with hh_store_reader_open(); they never touch
 *     the writer's.  (A checkpointer thread of the SQLite store has one
 *     more connection, which only moves committed WAL pages into the
 *     database file.)
 *   - One writer per database: a second hh_store_open of the same file,
 *     in this process or another, is refused while the first is open.
 *
 * Failure: a write that fails (disk full, I/O error, corruption, lock
 * taken) makes the store FAILED for good: the transaction is rolled back,
 * nothing in it or after it is acknowledged, queued records are discarded,
 * submits and flushes return the error, opts.failed(ctx, rc, msg) is called
 * once (on the writer thread) and hh_store_status() reports it.  The engine
 * must stop trading: it has lost its memory.
 */
#ifndef HH_STORE_H
#define HH_STORE_H

#include "core/digest.h"
#include "core/err.h"
#include "core/fixed.h"
#include "core/time.h"
#include "core/model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The schema version this code writes (PRAGMA user_version). */
#define HH_STORE_SCHEMA_VERSION 6

/* SQLite header application_id of a hedgehog database ("hedg"). */
#define HH_STORE_APP_ID 0x68656467

/* Hex SHA-256 plus NUL. */
#define HH_STORE_HASH_HEX HH_DIGEST_HEX

/* ---- records ---------------------------------------------------------------
 *
 * Every string is borrowed for the duration of the submit call (it is
 * copied into the queue); NULL means SQL NULL where the field says "may be
 * NULL".  Times are ns since the epoch, UTC; HH_TIME_NONE is stored as NULL
 * where allowed.  Prices and money are hh_price_t / hh_money_t (1/10,000
 * rupee), stored as INTEGER as they are.
 */

/* A signal line as received and the decision taken on it. */
struct hh_store_signal {
    const char *signal_id;         /* may be NULL: id unknown (unparseable line) */
    uint64_t line;                 /* 1-based line number in its source */
    const char *raw;               /* the line as received (required) */
    hh_time_t received_at;         /* may be HH_TIME_NONE */
    bool accepted;                 /* ACCEPTED or REJECTED */
    enum hh_sig_reason reason;     /* HH_SIG_NONE when accepted */
    const char *detail;            /* may be NULL */
    const char *correlation_id;    /* may be NULL */
    hh_time_t decided_at;          /* engine time of the decision; may be
                                      HH_TIME_NONE (schema v4; the daily
                                      report's day of the line) */
    int64_t latency_ns;            /* wall-clock ns from receiving the line to
                                      its decision, measured by a live runner;
                                      0 = not measured (NULL): backtests, whose
                                      databases stay byte-identical (v4) */
    /* The Kafka message it came from (topic NULL: another source).
     * (topic, partition, offset) is unique: a message is decided once. */
    const char *topic;
    int32_t partition;
    int64_t offset;
};

/* Trade life-cycle states (one row per transition). */
#define HH_STORE_TSTATES(X) X(WAITING) X(ENTERING) X(OPEN) X(CLOSED) X(DROPPED)

enum hh_store_tstate {
#define HH__TS_ENUM(name) HH_TS_##name,
    HH_STORE_TSTATES(HH__TS_ENUM)
#undef HH__TS_ENUM
    HH_TS_COUNT
};

struct hh_store_trade_state {
    const char *trade_key;         /* required: identifies the trade (signal id) */
    enum hh_store_tstate state;
    hh_time_t at;                  /* required */
    const char *detail;            /* may be NULL (e.g. the drop reason) */
    const char *correlation_id;    /* may be NULL */
};

/* An order's current description; upserted by client_id. */
struct hh_store_order {
    const char *client_id;         /* required, unique per order */
    uint64_t order_id;             /* broker id; 0 = not known yet (kept if known) */
    const char *trade_key;         /* may be NULL */
    const char *symbol;            /* required */
    enum hh_side side;
    enum hh_ord_type type;
    hh_qty_t qty;
    hh_price_t limit;              /* 0 when not applicable */
    hh_price_t trigger;            /* 0 when not applicable */
    enum hh_ord_state state;
    hh_time_t at;                  /* required: time of this state */
};

/* One broker report about an order; (order_id, exec_id) is unique: a
 * report replayed with the same execution id is stored once. */
struct hh_store_order_event {
    uint64_t order_id;             /* broker id (required, non-zero) */
    const char *client_id;         /* may be NULL */
    enum hh_report_kind kind;
    hh_time_t at;                  /* required */
    hh_qty_t qty;                  /* FILL: this execution */
    hh_price_t price;              /* FILL: execution price */
    hh_qty_t filled, leaves;       /* cumulative filled, still working */
    uint64_t exec_id;              /* FILL: execution id; 0 = none */
    const char *reason;            /* may be NULL */
};

/* One execution, the fields of fills.csv (SPEC §6). */
struct hh_store_fill {
    hh_time_t ts;                  /* required */
    uint64_t order_id;
    uint32_t trade_id;
    const char *signal_id;         /* may be NULL */
    const char *symbol;            /* required */
    enum hh_side side;
    hh_qty_t qty;
    hh_price_t price;
    const char *reason;            /* ENTRY, STOP, TARGET1, … (hh_fill_reason_name) */
    hh_money_t charges;
    uint64_t exec_id;              /* 0 = none; else (order_id, exec_id) unique */
};

/* A position's current state; upserted by symbol. */
struct hh_store_position {
    const char *symbol;            /* required */
    hh_qty_t qty;                  /* signed: > 0 long, < 0 short */
    hh_price_t avg_price;
    hh_money_t realised;           /* realised P&L */
    hh_time_t at;                  /* required */
};

/* A closed trade, the fields of trades.csv (SPEC §6). */
struct hh_store_trade {
    uint32_t trade_id;
    const char *signal_id;         /* may be NULL */
    const char *symbol;            /* required */
    enum hh_side side;
    hh_qty_t qty;
    hh_time_t entry_ts;
    hh_price_t entry_price;
    hh_time_t exit_ts;
    hh_price_t avg_exit_price;
    const char *exit_reason;       /* may be NULL */
    hh_money_t gross, charges, net;
    int64_t r_multiple_x100;       /* r multiple x100 */
};

/* Execution state of a multi-leg group; upserted by group_id. */
struct hh_store_group {
    const char *group_id;          /* required */
    const char *state;             /* required (the exec module's state name) */
    const char *legs_json;         /* required: the legs as JSON text */
    hh_time_t at;                  /* required */
};

/* An engine checkpoint: an opaque state blob and its state hash.  Since
 * schema v6 the blob may be a manifest: HH_STORE_MANIFEST_MAGIC then the
 * SHA-256 digests (HH_STORE_DIGEST_BYTES each) of the chunks whose
 * concatenation is the state, each stored once (struct hh_store_chunk) and
 * submitted in the checkpoint's group or before it.  Only the latest
 * checkpoint keeps its blob: the writer empties the one it supersedes in
 * the same transaction and deletes the chunks no longer named. */
struct hh_store_checkpoint {
    hh_time_t at;                  /* engine time of the checkpoint */
    uint64_t seq;                  /* engine sequence (events consumed) */
    const void *state;             /* blob, state_len bytes (may be 0) */
    size_t state_len;
    const char *state_hash;        /* 64 lowercase hex; NULL: SHA-256 of the blob */
};

#define HH_STORE_MANIFEST_MAGIC "HHCKMAN1"   /* 8 bytes, no NUL */
#define HH_STORE_DIGEST_BYTES 32

/* The digests a manifest blob names (borrowed from it): true when blob is
 * a manifest (the magic, then whole digests). */
bool hh_store_manifest(const void *blob, size_t len, const unsigned char **digests,
                       size_t *n);

/* A chunk of a checkpoint's state, stored once under its SHA-256. */
struct hh_store_chunk {
    const unsigned char *sha;      /* HH_STORE_DIGEST_BYTES: SHA-256 of the bytes */
    const void *bytes;             /* len > 0 bytes */
    size_t len;
};

/* What leaves for Kafka once durable (the outbox): a dead letter for the
 * dead-letter topic or an event for the events topic.  seq is the engine's
 * (unique, increasing: produced in that order); a row stays unsent until
 * the broker acknowledged it (HH_STORE_OUTBOX_SENT), so a restart
 * produces every unsent row again. */
enum hh_store_outbox_kind { HH_OUTBOX_DEAD_LETTER, HH_OUTBOX_EVENT };

struct hh_store_outbox {
    uint64_t seq;                  /* required, > 0 */
    enum hh_store_outbox_kind kind;
    const char *topic;             /* required */
    const char *key;               /* message key; may be NULL */
    const char *reason;            /* header `reason` (dead letters); may be NULL */
    const char *correlation_id;    /* header `correlation_id`; may be NULL */
    const char *payload;           /* the message value, JSON text (required) */
    hh_time_t at;                  /* required: engine time */
};

/* Outbox row seq was acknowledged by the broker. */
struct hh_store_outbox_sent {
    uint64_t seq;
};

/* Audit event kinds (stored by name). */
#define HH_AUDIT_KINDS(X)                                                 \
    X(SIGNAL_ACCEPTED) X(SIGNAL_REJECTED)                                 \
    X(ORDER_SENT) X(ORDER_ACKNOWLEDGED) X(ORDER_FILLED)                   \
    X(ORDER_CANCELLED) X(ORDER_REJECTED)                                  \
    X(RISK_REJECTED) X(MODE_CHANGE) X(KILL_SWITCH)                        \
    X(RECONCILE_DIVERGENCE) X(CONFIG_LOADED)                              \
    X(ENGINE_START) X(ENGINE_STOP)                                        \
    X(BREAKER) X(ALERT) X(KEY_ROTATED) X(API_REFUSED)

enum hh_audit_kind {
#define HH__AUDIT_ENUM(name) HH_AUDIT_##name,
    HH_AUDIT_KINDS(HH__AUDIT_ENUM)
#undef HH__AUDIT_ENUM
    HH_AUDIT_KIND_COUNT
};

/* An audit event.  Its seq, prev_hash and hash are assigned by the writer
 * in commit order (the chain is the commit order).  KEY_ROTATED is the
 * store's own (written when the chain's key changes) and refused here. */
struct hh_store_audit {
    hh_time_t at;                  /* required: engine time of the event */
    enum hh_audit_kind kind;
    const char *correlation_id;    /* may be NULL (stored as "") */
    const char *payload;           /* JSON text, stored verbatim; NULL = "{}" */
};

/* Kill-switch actions (SPEC §12), stored by name, and the trading state
 * each leaves: X(ENUM, action, state).  RESUME goes back to ACTIVE. */
#define HH_STORE_KILL_ACTIONS(X)                                          \
    X(PAUSE, "pause", "PAUSED") X(REDUCE, "reduce", "REDUCING")          \
    X(HALT, "halt", "HALTED") X(FLATTEN, "flatten", "HALTED")            \
    X(RESUME, "resume", "ACTIVE")

enum hh_store_kill_action {
#define HH__KILL_ENUM(e, action, state) HH_KILL_##e,
    HH_STORE_KILL_ACTIONS(HH__KILL_ENUM)
#undef HH__KILL_ENUM
    HH_KILL_COUNT
};

#define HH_STORE_KILL_REASON_MAX 256   /* bytes of a reason */
#define HH_STORE_KILL_BY_MAX 96        /* bytes of "who" */

/*
 * A kill-switch request (table kill_switch, schema v4).  The latest
 * request is the trading state an engine must be in, across restarts.
 * Record kinds: HH_STORE_KILL inserts a request; HH_STORE_KILL_APPLIED
 * marks request `id` taken up by an engine at `applied_at` (only those two
 * fields are used).  The KILL_SWITCH audit row is the caller's, in the
 * same group.
 */
struct hh_store_kill {
    int64_t id;                    /* KILL_APPLIED: the request (> 0) */
    enum hh_store_kill_action action;
    const char *reason;            /* required ("" when none given) */
    hh_time_t at;                  /* required: when it was asked (wall clock) */
    const char *by;                /* required: "cli:USER", "api:KEY_ID", ... */
    hh_time_t applied_at;          /* engine time an engine applied it;
                                      HH_TIME_NONE: not yet (NULL) */
};

enum hh_store_kind {
    HH_STORE_SIGNAL = 1,
    HH_STORE_TRADE_STATE,
    HH_STORE_ORDER,
    HH_STORE_ORDER_EVENT,
    HH_STORE_FILL,
    HH_STORE_POSITION,
    HH_STORE_TRADE,
    HH_STORE_GROUP,
    HH_STORE_CHECKPOINT,
    HH_STORE_AUDIT,
    HH_STORE_KILL,
    HH_STORE_KILL_APPLIED,
    HH_STORE_OUTBOX,
    HH_STORE_OUTBOX_SENT,
    HH_STORE_CHUNK,
};

/* One record of any kind, for hh_store_submit(). */
struct hh_store_rec {
    enum hh_store_kind kind;
    union {
        struct hh_store_signal signal;
        struct hh_store_trade_state trade_state;
        struct hh_store_order order;
        struct hh_store_order_event order_event;
        struct hh_store_fill fill;
        struct hh_store_position position;
        struct hh_store_trade trade;
        struct hh_store_group group;
        struct hh_store_checkpoint checkpoint;
        struct hh_store_audit audit;
        struct hh_store_kill kill;
        struct hh_store_outbox outbox;
        struct hh_store_outbox_sent outbox_sent;
        struct hh_store_chunk chunk;
    } u;
};

/* Names: "SIGNAL", "ORDER_FILLED", "WAITING", "FILL" (report kind); "?" when
 * out of range. */
const char *hh_store_kind_name(enum hh_store_kind k);
const char *hh_audit_kind_name(enum hh_audit_kind k);
const char *hh_store_tstate_name(enum hh_store_tstate s);

/* "flatten" / "HALTED" ("?" when out of range); the action named s, or -1. */
const char *hh_store_kill_action_name(enum hh_store_kill_action a);
const char *hh_store_kill_state_name(enum hh_store_kill_action a);
int hh_store_kill_action_parse(const char *s);

/* Fill *ev from a broker report; ev borrows r->reason. */
void hh_store_order_event_from_report(const struct hh_report *r, const char *client_id,
                                      struct hh_store_order_event *ev);

/* ---- the writer ------------------------------------------------------------ */

enum hh_store_sync {
    HH_STORE_SYNC_NORMAL,          /* WAL fsync'd at checkpoints (default) */
    HH_STORE_SYNC_FULL,            /* WAL fsync'd at every commit */
};

/* Called on the writer thread after the transaction holding a submission
 * committed; seq is the submission's last record.  Hand off, don't work. */
typedef void (*hh_store_ack_fn)(void *ctx, uint64_t token, uint64_t seq);

/* Called once on the writer thread when the store fails. */
typedef void (*hh_store_fail_fn)(void *ctx, int rc, const char *msg);

/* ---- the audit key ------------------------------------------------------------
 *
 * The audit chain is keyed when a key is given: each record's hash is then
 * HMAC-SHA256 with the key (docs/STORE.md, "Keyed chain"), so that only a
 * holder of the key can write or rewrite records that verify.  A key is
 * named by its id, the first 8 hex digits of SHA-256(key): the id is stored
 * with each record, the key never is.
 */
#define HH_STORE_KEY_MIN 32            /* bytes */
#define HH_STORE_KEY_MAX 128
#define HH_STORE_KEY_ID_HEX 9          /* 8 hex digits + NUL */

struct hh_store_audit_key {
    char id[HH_STORE_KEY_ID_HEX];      /* first 8 hex digits of SHA-256(key) */
    size_t len;                        /* bytes of key */
    unsigned char key[HH_STORE_KEY_MAX];
};

/* The key bytes[0..n), HH_STORE_KEY_MIN <= n <= HH_STORE_KEY_MAX, and its
 * id into *k.  HH_EINVAL (length), HH_ENOMEM. */
int hh_store_audit_key_set(struct hh_store_audit_key *k, const void *bytes, size_t n);

/*
 * Read a key file (`audit.key_file`, `--key-file`): one line of 64-256 hex
 * digits, mode 0600 or stricter (core/secret.h).  HH_EIO / HH_ECONFIG with
 * a message naming the file, never its content.  Wipe *k after use.
 */
int hh_store_audit_key_read(const char *path, struct hh_store_audit_key *k,
                            struct hh_diag *d);

/* Overwrite the key's bytes (OPENSSL_cleanse); accepts NULL. */
void hh_store_audit_key_wipe(struct hh_store_audit_key *k);

struct hh_store_opts {
    enum hh_store_sync sync;
    size_t queue_bytes;            /* ring capacity; default 16 MiB */
    size_t group_max;              /* records per transaction (cap); default 4096 */
    hh_store_ack_fn ack;           /* may be NULL */
    void *ack_ctx;
    hh_store_fail_fn failed;       /* may be NULL */
    void *fail_ctx;
    int busy_timeout_ms;           /* wait for a lock held by a reader; default 5000 */
    int64_t max_pages;             /* cap on the database size in pages; 0 = none */
    bool no_create;                /* refuse to create a missing database */
    /* The chain's key; NULL: unkeyed.  Copied at open (wipe yours after).
     * A key the chain does not end with starts it (a KEY_ROTATED record,
     * written at open); no key on a keyed chain is refused at open, since
     * an unkeyed record would break it. */
    const struct hh_store_audit_key *audit_key;
};

/* Defaults as documented above. */
void hh_store_opts_default(struct hh_store_opts *o);

/* Counters of a running store (for metrics and benchmarks). */
struct hh_store_stats {
    uint64_t submitted;            /* records accepted into the queue */
    uint64_t committed;            /* records committed */
    uint64_t transactions;         /* COMMITs */
    uint64_t max_group;            /* most records in one transaction */
    uint64_t producer_waits;       /* times a producer blocked on a full queue */
    uint64_t checkpoints;          /* WAL checkpoints by the checkpointer that
                                      copied pages into the database file */
    uint64_t wal_truncations;      /* the WAL checkpointed whole and truncated
                                      by the writer (at 8,000 pages) */
};

struct hh_store;

/* The operations an implementation provides (see the functions below for
 * their contracts).  An implementation's handle begins with a
 * `struct hh_store` whose ops point at its table. */
struct hh_store_ops {
    const char *name;
    int (*submit)(struct hh_store *st, const struct hh_store_rec *recs, size_t n,
                  uint64_t token, uint64_t *seq, struct hh_diag *d);
    int (*flush)(struct hh_store *st, struct hh_diag *d);
    int (*status)(struct hh_store *st, struct hh_diag *d);
    uint64_t (*committed)(struct hh_store *st);
    void (*stats)(struct hh_store *st, struct hh_store_stats *out);
    int (*close)(struct hh_store *st, struct hh_diag *d);
};

struct hh_store {
    const struct hh_store_ops *ops;
};

/*
 * Open (creating unless opts->no_create) the database at path, migrate its
 * schema to HH_STORE_SCHEMA_VERSION, and start the writer thread.  opts may
 * be NULL (defaults).  With opts->audit_key, a chain not yet keyed with it
 * gets a KEY_ROTATED record before anything else.  Refused with a message
 * in d: a file that is not a SQLite database or not hedgehog's, a schema
 * newer than this code, a damaged audit head, a database already open for
 * writing by another process (HH_ESTATE), an unwritable directory, a keyed
 * chain without its key (HH_ECONFIG).  *out is owned by the caller
 * (hh_store_close).
 */
int hh_store_open(const char *path, const struct hh_store_opts *opts, struct hh_store **out,
                  struct hh_diag *d);

/*
 * Submit n >= 1 records as one atomic group: all are committed in one
 * transaction or none is.  Blocks while the queue is full.  token != 0
 * asks for an ack callback after commit; *seq (may be NULL) receives the
 * store sequence number of the last record.  Returns HH_OK; HH_EINVAL (a
 * required field missing or a bad enum: nothing queued); HH_ERANGE (the
 * group is larger than the queue); the failure code once the store failed.
 */
int hh_store_submit(struct hh_store *st, const struct hh_store_rec *recs, size_t n,
                    uint64_t token, uint64_t *seq, struct hh_diag *d);

/* One record (see hh_store_submit; no seq, no details). */
int hh_store_put_signal(struct hh_store *st, const struct hh_store_signal *r, uint64_t token);
int hh_store_put_trade_state(struct hh_store *st, const struct hh_store_trade_state *r,
                             uint64_t token);
int hh_store_put_order(struct hh_store *st, const struct hh_store_order *r, uint64_t token);
int hh_store_put_order_event(struct hh_store *st, const struct hh_store_order_event *r,
                             uint64_t token);
int hh_store_put_fill(struct hh_store *st, const struct hh_store_fill *r, uint64_t token);
int hh_store_put_position(struct hh_store *st, const struct hh_store_position *r,
                          uint64_t token);
int hh_store_put_trade(struct hh_store *st, const struct hh_store_trade *r, uint64_t token);
int hh_store_put_group(struct hh_store *st, const struct hh_store_group *r, uint64_t token);
int hh_store_put_checkpoint(struct hh_store *st, const struct hh_store_checkpoint *r,
                            uint64_t token);
int hh_store_put_audit(struct hh_store *st, const struct hh_store_audit *r, uint64_t token);
int hh_store_put_kill(struct hh_store *st, const struct hh_store_kill *r, uint64_t token);
int hh_store_put_outbox_sent(struct hh_store *st, const struct hh_store_outbox_sent *r,
                             uint64_t token);

/* Wait until everything submitted before the call is committed (acks
 * delivered).  HH_OK, or the failure code with its message. */
int hh_store_flush(struct hh_store *st, struct hh_diag *d);

/* HH_OK while healthy; the failure code (message in d) once failed.
 * Cheap: meant to be polled by the engine. */
int hh_store_status(struct hh_store *st, struct hh_diag *d);

/* Highest sequence number such that it and all before it are committed.
 * Lock-free; may be polled from any thread. */
uint64_t hh_store_committed(struct hh_store *st);

void hh_store_stats(struct hh_store *st, struct hh_store_stats *out);

/* Flush, stop the writer and free everything.  Accepts NULL (returns 0).
 * Returns HH_OK or the failure code (the store failed before or during
 * the final flush: what was not acked is not durable). */
int hh_store_close(struct hh_store *st, struct hh_diag *d);

/* ---- readers ---------------------------------------------------------------- */

/* The latest checkpoint; state (and digests) malloc'd: free with
 * hh_store_checkpoint_row_free.  A checkpoint stored as chunks comes back
 * whole, each chunk checked against its digest; digests lists them in
 * order (NULL, 0 for a checkpoint stored as one blob). */
struct hh_store_checkpoint_row {
    hh_time_t at;
    uint64_t seq;
    void *state;
    size_t state_len;
    char state_hash[HH_STORE_HASH_HEX];
    unsigned char *digests;        /* ndigests * HH_STORE_DIGEST_BYTES */
    size_t ndigests;
};

void hh_store_checkpoint_row_free(struct hh_store_checkpoint_row *c);  /* accepts NULL */

/* An audit row as stored; strings borrowed for the callback. */
struct hh_store_audit_row {
    uint64_t seq;
    hh_time_t at;
    const char *kind;
    const char *correlation_id;
    const char *payload;
    const char *prev_hash;
    const char *hash;
};

/* The latest state of a trade (from trade_state). */
struct hh_store_trade_state_row {
    const char *trade_key;
    enum hh_store_tstate state;
    hh_time_t at;
    const char *detail;
    const char *correlation_id;
};

/* Result of walking the audit chain.  ok: nothing wrong was found in
 * what could be checked; the MACs of records keyed with a key that was not
 * given cannot be (unverified > 0): only ok with unverified == 0 proves
 * the chain. */
struct hh_store_verify {
    bool ok;
    uint64_t count;                /* rows walked */
    uint64_t head_seq;             /* last good seq (the head when ok) */
    char head_hash[HH_STORE_HASH_HEX];
    uint64_t bad_seq;              /* first bad record when !ok */
    char why[384];                 /* what is wrong with it */
    uint64_t keyed_since;          /* seq of the first KEY_ROTATED; 0: never keyed */
    uint64_t rotations;            /* KEY_ROTATED records */
    char head_key[HH_STORE_KEY_ID_HEX];   /* key id of the last record ("" unkeyed) */
    uint64_t macs;                 /* keyed records whose MAC was checked */
    uint64_t unverified;           /* keyed records whose key was not given:
                                      links and key ids checked, MACs not */
    uint64_t first_unverified;     /* the first of them (0: none) */
    char unverified_key[HH_STORE_KEY_ID_HEX];   /* its key id */
};

/* The latest kill-switch request (hh_store_read_kill), copied. */
struct hh_store_kill_row {
    int64_t id;                    /* the request (1, 2, ... in request order) */
    enum hh_store_kill_action action;
    char reason[HH_STORE_KILL_REASON_MAX + 1];
    char by[HH_STORE_KILL_BY_MAX + 1];
    hh_time_t at;                  /* when it was asked (wall clock, ns UTC) */
    hh_time_t applied_at;          /* engine time an engine applied it;
                                      HH_TIME_NONE: pending */
};

/* What a period's report reads (hh_store_read_period).  Every callback
 * may be NULL; strings and structs are borrowed for the call. */
struct hh_store_period_fns {
    void *ctx;
    /* Each signal line decided in the period (its decided_at, else its
     * received_at): the decision, the reason ("" when accepted) and the
     * processing latency (0: not measured). */
    void (*signal)(void *ctx, bool accepted, const char *reason, int64_t latency_ns);
    /* Each trade closed in the period (exit_ts), in closing order. */
    void (*trade)(void *ctx, const struct hh_store_trade *t);
    /* Each order created in the period, in creation order (o->at is its
     * creation time), with the engine time of its first ACK and first FILL
     * report (HH_TIME_NONE: none). */
    void (*order)(void *ctx, const struct hh_store_order *o, hh_time_t ack_at,
                  hh_time_t fill_at);
    /* Each audit row of the period (engine time `at`), in seq order. */
    void (*audit)(void *ctx, const struct hh_store_audit_row *a);
};

/* Result of hh_store_check (integrity, schema, audit). */
struct hh_store_check {
    bool integrity_ok;
    char integrity[512];           /* "ok" or the first problems reported */
    int schema_version;
    bool schema_ok;                /* version known and the tables/triggers present */
    char schema[256];              /* what is missing, when !schema_ok */
    struct hh_store_verify audit;
};

struct hh_store_reader;

struct hh_store_reader_ops {
    const char *name;
    int (*checkpoint)(struct hh_store_reader *r, struct hh_store_checkpoint_row *out,
                      bool *found, struct hh_diag *d);
    int (*signal_ids)(struct hh_store_reader *r,
                      void (*fn)(void *ctx, const char *id, bool accepted), void *ctx,
                      struct hh_diag *d);
    int (*open_orders)(struct hh_store_reader *r,
                       void (*fn)(void *ctx, const struct hh_store_order *o), void *ctx,
                       struct hh_diag *d);
    int (*active_trades)(struct hh_store_reader *r,
                         void (*fn)(void *ctx, const struct hh_store_trade_state_row *t),
                         void *ctx, struct hh_diag *d);
    int (*positions)(struct hh_store_reader *r,
                     void (*fn)(void *ctx, const struct hh_store_position *p), void *ctx,
                     struct hh_diag *d);
    int (*audit)(struct hh_store_reader *r, const char *correlation_id,
                 int (*fn)(void *ctx, const struct hh_store_audit_row *a), void *ctx,
                 struct hh_diag *d);
    int (*audit_kind)(struct hh_store_reader *r, enum hh_audit_kind kind, bool last,
                      int (*fn)(void *ctx, const struct hh_store_audit_row *a), void *ctx,
                      struct hh_diag *d);
    int (*audit_verify)(struct hh_store_reader *r, const struct hh_store_audit_key *keys,
                        size_t nkeys, struct hh_store_verify *v, struct hh_diag *d);
    int (*kill)(struct hh_store_reader *r, struct hh_store_kill_row *out, bool *found,
                struct hh_diag *d);
    int (*period)(struct hh_store_reader *r, hh_time_t from, hh_time_t to,
                  const struct hh_store_period_fns *f, struct hh_diag *d);
    int (*check)(struct hh_store_reader *r, struct hh_store_check *c, struct hh_diag *d);
    int (*schema_version)(struct hh_store_reader *r);
    int (*kafka_offsets)(struct hh_store_reader *r, const char *topic,
                         void (*fn)(void *ctx, int32_t partition, int64_t offset), void *ctx,
                         struct hh_diag *d);
    int (*outbox)(struct hh_store_reader *r,
                  int (*fn)(void *ctx, const struct hh_store_outbox *o), void *ctx,
                  uint64_t *max_seq, struct hh_diag *d);
    void (*close)(struct hh_store_reader *r);
};

struct hh_store_reader {
    const struct hh_store_reader_ops *ops;
};

/*
 * Open a read-only connection (never creates, never migrates).  Accepts a
 * hedgehog database of any schema version up to the current one; reads
 * that need a table an older version lacks fail naming it.  Refuses
 * non-SQLite, foreign and newer databases with the same messages as
 * hh_store_open.  *out: close with hh_store_reader_close.
 */
int hh_store_reader_open(const char *path, struct hh_store_reader **out, struct hh_diag *d);
void hh_store_reader_close(struct hh_store_reader *r);   /* accepts NULL */

/* The checkpoint with the greatest seq (ties: the latest written); *found
 * false when there is none.  HH_ETAMPER when its blob does not match the
 * SHA-256 stored with it. */
int hh_store_read_checkpoint(struct hh_store_reader *r, struct hh_store_checkpoint_row *out,
                             bool *found, struct hh_diag *d);

/* Every distinct signal id seen (accepted or rejected), for the
 * idempotency set; accepted is true when any line with the id was. */
int hh_store_read_signal_ids(struct hh_store_reader *r,
                             void (*fn)(void *ctx, const char *id, bool accepted),
                             void *ctx, struct hh_diag *d);

/* Orders whose state is not terminal (hh_ord_state_terminal). */
int hh_store_read_open_orders(struct hh_store_reader *r,
                              void (*fn)(void *ctx, const struct hh_store_order *o),
                              void *ctx, struct hh_diag *d);

/* The latest state of every trade that is not CLOSED or DROPPED. */
int hh_store_read_active_trades(struct hh_store_reader *r,
                                void (*fn)(void *ctx,
                                           const struct hh_store_trade_state_row *t),
                                void *ctx, struct hh_diag *d);

/* Net positions as last written, by symbol (strings borrowed for the call). */
int hh_store_read_positions(struct hh_store_reader *r,
                            void (*fn)(void *ctx, const struct hh_store_position *p), void *ctx,
                            struct hh_diag *d);

/* Audit rows in seq order, all (correlation_id NULL) or one correlation
 * id's; fn returning non-zero stops the walk and is returned. */
int hh_store_read_audit(struct hh_store_reader *r, const char *correlation_id,
                        int (*fn)(void *ctx, const struct hh_store_audit_row *a), void *ctx,
                        struct hh_diag *d);

/* The first (last: the latest) audit row of one kind, given to fn (its
 * return value is returned); HH_OK without calling fn when there is none. */
int hh_store_read_audit_kind(struct hh_store_reader *r, enum hh_audit_kind kind, bool last,
                             int (*fn)(void *ctx, const struct hh_store_audit_row *a),
                             void *ctx, struct hh_diag *d);

/* Walk the whole audit chain (docs/STORE.md) without keys: unkeyed
 * records are checked, keyed ones only for their links and key ids.
 * Returns HH_OK when the walk ran (v->ok tells the verdict); an error when
 * it could not read. */
int hh_store_audit_verify(struct hh_store_reader *r, struct hh_store_verify *v,
                          struct hh_diag *d);

/* The same with keys[0..nkeys) (each rotation names the key id that
 * follows it; a record keyed with a key not given is counted unverified).
 * With nkeys > 0 the chain must end keyed: a chain rewritten without the
 * key ends unkeyed or fails a MAC. */
int hh_store_audit_verify_keys(struct hh_store_reader *r, const struct hh_store_audit_key *keys,
                               size_t nkeys, struct hh_store_verify *v, struct hh_diag *d);

/* The latest kill-switch request; *found false when there is none (or
 * the schema predates the table, v < 4). */
int hh_store_read_kill(struct hh_store_reader *r, struct hh_store_kill_row *out, bool *found,
                       struct hh_diag *d);

/* What happened in [from, to) (ns UTC), in one read snapshot: the
 * callbacks of f (see struct hh_store_period_fns). */
int hh_store_read_period(struct hh_store_reader *r, hh_time_t from, hh_time_t to,
                         const struct hh_store_period_fns *f, struct hh_diag *d);

/* Integrity check, schema version and audit chain (hedgehog db check). */
int hh_store_check(struct hh_store_reader *r, struct hh_store_check *c, struct hh_diag *d);

/* The database's schema version. */
int hh_store_schema_version(struct hh_store_reader *r);

/* The last offset decided of every partition of `topic` (signals rows
 * from Kafka), in partition order: the next message to decide is offset
 * + 1.  A partition never decided is not listed. */
int hh_store_read_kafka_offsets(struct hh_store_reader *r, const char *topic,
                                void (*fn)(void *ctx, int32_t partition, int64_t offset),
                                void *ctx, struct hh_diag *d);

/* The outbox rows not yet acknowledged, in seq order (strings borrowed for
 * the call; fn returning non-zero stops the walk and is returned), and the
 * greatest seq ever written (0: none) into *max_seq. */
int hh_store_read_outbox(struct hh_store_reader *r,
                         int (*fn)(void *ctx, const struct hh_store_outbox *o), void *ctx,
                         uint64_t *max_seq, struct hh_diag *d);

/* ---- operations ------------------------------------------------------------- */

/*
 * Copy the database at src into a new file dst with the online backup API:
 * consistent (one read snapshot) and safe while a writer runs.  dst must
 * not exist; the copy is written to a temporary name, checked (integrity
 * and audit chain) and renamed into place, so dst is complete or absent.
 */
int hh_store_backup(const char *src, const char *dst, struct hh_diag *d);

/*
 * Insert the kill-switch request *k (applied_at ignored: pending) into the
 * database at path through a connection of its own, WITHOUT the writer
 * lock: for `hedgehog kill` while an engine writes the database.  Safe
 * because it touches nothing the writer holds in memory — not the audit
 * chain, not its head — and commits in one BEGIN IMMEDIATE transaction
 * that waits up to busy_ms for the writer's.  The engine takes the request
 * up (and audits it) at its next poll or start.  *id (may be NULL) gets
 * the request's id.  HH_EINVAL (a field), HH_EDB (no kill_switch table:
 * schema older than 4; still busy after busy_ms), the reader's refusals.
 */
int hh_store_kill_request(const char *path, const struct hh_store_kill *k, int busy_ms,
                          int64_t *id, struct hh_diag *d);

/* ---- the audit hash ----------------------------------------------------------- */

/*
 * The chain hash of one audit record (docs/STORE.md, "Audit hash"):
 * SHA-256 over "HHAUDIT1" || u64be(seq) || i64be(at) || u32be(len) kind ||
 * u32be(len) correlation_id || u32be(len) payload || prev (32 raw bytes,
 * decoded from prev_hex).  out receives 64 lowercase hex chars + NUL.
 * Returns HH_OK, HH_EINVAL (prev_hex not 64 hex chars), HH_ENOMEM.
 */
int hh_store_audit_hash(uint64_t seq, hh_time_t at, const char *kind, const char *corr,
                        size_t corr_len, const char *payload, size_t payload_len,
                        const char *prev_hex, char out[HH_STORE_HASH_HEX]);

/* The keyed chain's link (docs/STORE.md, "Keyed chain"): HMAC-SHA256 with
 * k over "HHAUDITK" || the fields above || u32be(len) k->id || prev.
 * Returns as hh_store_audit_hash. */
int hh_store_audit_mac(const struct hh_store_audit_key *k, uint64_t seq, hh_time_t at,
                       const char *kind, const char *corr, size_t corr_len,
                       const char *payload, size_t payload_len, const char *prev_hex,
                       char out[HH_STORE_HASH_HEX]);

/* The prev_hash of the first record: 64 zeros. */
extern const char hh_store_genesis_hash[HH_STORE_HASH_HEX];

#endif
