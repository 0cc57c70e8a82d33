/*
 * journal.h — the journal: what the core decides, written to the store
 * (src/store/store.h).  `hedgehog backtest --db FILE` and `hedgehog run`
 * keep one.
 *
 * The core does no I/O; its decisions leave through the trade manager's
 * sink (struct hh_tm_sink).  hh_journal_sink() wraps a runner's sink so that
 * each callback first does what the runner does (CSV lines, the report)
 * and then turns the event into store records, kept pending.  At the end of
 * each engine step — one market event with the signals and timers due
 * before it — the runner calls hh_journal_step(): the step's records, and a
 * checkpoint of the engine when one is due, are submitted as ONE atomic
 * group, so the database never holds half of what one event caused and a
 * checkpoint is always in the transaction of the records it reflects.
 *
 * What is written (docs in README "Persisting a run"):
 *   open          CONFIG_LOADED audit (config path, SHA-256 of its bytes, the
 *                 bytes, the keys changed since the last start)
 *   attach        ENGINE_START audit (mode, account, capital, build id; the
 *                 first one names the database's owner: hh_journal_history)
 *   signal line   signals row + SIGNAL_ACCEPTED/REJECTED audit (+ trade_state
 *                 WAITING when accepted): one group per line
 *   order SENT    orders upsert (SENT) + ORDER_SENT audit
 *   SEND_FAILED   orders upsert (REJECTED; SENT when the outcome is unknown,
 *                 a timeout) + ORDER_REJECTED audit {"send_failed":true}
 *   MODIFY        orders upsert (new quantity / prices)
 *   CANCEL        orders upsert (CANCEL_PENDING)
 *   REPORT        order_events row + orders upsert (new state) + audit
 *                 ORDER_ACKNOWLEDGED / ORDER_CANCELLED / ORDER_REJECTED
 *                 (fills: ORDER_FILLED comes with the fill, below)
 *                 Live mode: every orders upsert takes the state the event
 *                 carries (the engine's order state machine), not one
 *                 derived from the event here.
 *   fill          fills row + ORDER_FILLED audit + positions upsert (net per
 *                 symbol) + trade_state OPEN at a trade's first entry fill
 *   closed        trades row + trade_state CLOSED
 *   dropped       trade_state DROPPED (detail: STOP_BEFORE_ENTRY / EXPIRED)
 *   rejected      trade_state DROPPED + RISK_REJECTED audit (SIZE_TOO_SMALL,
 *                 MARGIN_WORST_CASE)
 *   groups        group_exec upsert when a multi-leg group's view changed;
 *                 trade_state CLOSED/DROPPED for a group that ended unfilled
 *   checkpoint    the snapshot (hh_tm_snapshot_into) cut into chunks, each
 *                 stored once under its SHA-256 (only the chunks the store
 *                 does not hold yet are written); the checkpoint row holds
 *                 the manifest (the digests in order) and the state hash
 *                 (hh_journal_state_hash); seq = hh_tm_changes(); when due
 *                 (see struct hh_journal_opts) and always at
 *                 hh_journal_finish(), with ENGINE_STOP
 * Every audit row's correlation id is the owning signal's correlation_id
 * (which defaults to its id); a rejected line without a valid id has none.
 *
 * Errors: a sink callback cannot return one, so the first failure (the
 * store failed, out of memory) is latched; hh_journal_step() and every
 * later call return it, with its message in hh_journal_status().  The
 * runner must then stop: the engine never trades without memory.
 *
 * Threading: one journal belongs to the core's thread (the store's
 * writer thread is behind it).  Not thread-safe.
 */
#ifndef HH_JOURNAL_H
#define HH_JOURNAL_H

#include "core/err.h"
#include "core/instrument.h"
#include "signal/signal.h"
#include "store/store.h"
#include "trade/trade.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hh_journal_opts {
    enum hh_store_sync sync;       /* NORMAL (default) or FULL */
    /* Checkpoint policy.  After a step that moved hh_tm_changes(), a
     * checkpoint is due when at least ckpt_changes changes happened since
     * the last one, or at least ckpt_interval ns of engine time passed since
     * it.  A criterion set to 0 is off; both 0 = after every changing step
     * (what a live run wants: a restart loses nothing committed).  So a run
     * writes at most one checkpoint per ckpt_changes changes or per
     * ckpt_interval of engine time, plus the final one. */
    uint64_t ckpt_changes;         /* default 10000 */
    int64_t ckpt_interval;         /* ns of engine time; default 1 minute */
    /* A step after which only the candle builder moved (ticks, no change of
     * the manager: hh_tm_market_changes) checkpoints when at least this
     * much engine time passed since the last checkpoint; 0 (default): never.
     * For market data that is not replayed after a restart (Kite's socket):
     * what the candles held is then lost for at most this long.  A file
     * needs none: its rows after the checkpoint's cursor are read again. */
    int64_t ckpt_market_interval;  /* ns of engine time */
    const char *mode;              /* "backtest", "run"...: in ENGINE_START;
                                      borrowed for hh_journal_open() */
    bool shadow;                   /* every audit payload starts "shadow":true
                                      (run --mode shadow: nothing reached a broker) */
    /* What ENGINE_START records besides the mode (the first start's make
     * the database's owner: hh_journal_history); borrowed for the handle's
     * life; NULL / 0: not recorded. */
    const char *account;           /* the broker account traded */
    hh_money_t capital;            /* the configured capital */
    const char *build;             /* the binary's build id */
    int64_t max_pages;             /* the store's cap on the database size in
                                      pages (0 = none; tests force a full disk) */
    const struct hh_store_audit_key *audit_key;   /* the audit chain's key
                                      (hh_store_audit_key_read of audit.key_file);
                                      NULL: unkeyed.  Borrowed for
                                      hh_journal_open() only: wipe it after */
};

/* Defaults as documented above (mode "backtest"). */
void hh_journal_opts_default(struct hh_journal_opts *o);

/* What a journal wrote so far. */
struct hh_journal_stats {
    uint64_t records;              /* records submitted */
    uint64_t groups;               /* atomic groups submitted */
    uint64_t checkpoints;          /* checkpoint records */
    uint64_t checkpoint_bytes;     /* bytes they wrote: new chunks and manifests */
    uint64_t audits;               /* audit records */
};

struct hh_journal;

/*
 * Open (create, migrate) the store at path and start its writer.  inst is
 * borrowed (symbol names) and must outlive the handle.  On failure *out is
 * NULL and d says why (the store's messages: read-only directory, not a
 * hedgehog database, already open for writing...).  Close with
 * hh_journal_close().
 */
int hh_journal_open(const char *path, const struct hh_journal_opts *o,
                    const struct hh_instruments *inst, struct hh_journal **out,
                    struct hh_diag *d);

/*
 * The CONFIG_LOADED audit record: payload {"path":…,"sha256":…,"bytes":N,
 * "text":…} with the SHA-256 of the file's bytes and the bytes themselves
 * (config_path NULL: built-in defaults, {"path":null}), reading the file
 * at config_path.  at is the engine time, HH_TIME_NONE for "the clock has
 * not started" (a backtest: stored as the latest engine time seen, 0 =
 * 1970-01-01 before any).  Submitted at once.
 */
int hh_journal_config(struct hh_journal *p, const char *config_path, hh_time_t at,
                      struct hh_diag *d);

/* The same for the bytes text[0..len) read from config_path (what was
 * parsed is what is recorded), with "changed" (the keys that differ from
 * the last start's configuration, space-separated) when not NULL. */
int hh_journal_config_text(struct hh_journal *p, const char *config_path, const char *text,
                           size_t len, const char *changed, hh_time_t at, struct hh_diag *d);

/* What a database's earlier starts recorded (its ENGINE_START and
 * CONFIG_LOADED audit rows). */
struct hh_journal_history {
    bool started;                  /* an engine started on it: it has an owner */
    char mode[16];                 /* the first start's mode: "backtest", "paper"... */
    char account[64];              /* ... its broker account ("": not recorded) */
    hh_money_t capital;            /* ... its capital (0: not recorded) */
    char build[96];                /* the latest start's build id ("": not recorded) */
    char config_sha256[HH_STORE_HASH_HEX];   /* the latest configuration's ("": none) */
    char *config_text;             /* ... its bytes (malloc'd; NULL: not recorded) */
    size_t config_len;
};

/*
 * Read what the database at path recorded of its starts, through a reader
 * connection of its own (before hh_journal_open: nothing is written).  A
 * database never started, missing or without a hedgehog schema yet:
 * out->started false.  Free with hh_journal_history_free().
 */
int hh_journal_history(const char *path, struct hh_journal_history *out, struct hh_diag *d);
void hh_journal_history_free(struct hh_journal_history *h);   /* accepts NULL */

/*
 * One signal line and the decision on it, as one atomic group: the signals
 * row (raw line, line number, id, received_at, decision, reason, detail,
 * correlation id), SIGNAL_ACCEPTED or SIGNAL_REJECTED, and for an accepted
 * one trade_state WAITING.  Exactly one of s (accepted) and rej (rejected)
 * is given; line[0..len) is the raw text (NULL when unknown: an over-long
 * line, stored as "").  Submitted at once.
 */
int hh_journal_signal(struct hh_journal *p, const char *line, size_t len, uint64_t lineno,
                      const struct hh_signal *s, const struct hh_sig_reject *rej);

/*
 * The same, but the records join the current step instead of being
 * submitted at once: the next hh_journal_step() commits them in ONE group
 * with what the engine did about the line and its checkpoint.  A long-lived
 * run (`hedgehog run`) uses it so that a line is recorded exactly when the
 * checkpoint that consumed it (its resume position) is: a restart neither
 * loses the line nor reads it twice.
 */
int hh_journal_signal_step(struct hh_journal *p, const char *line, size_t len,
                           uint64_t lineno, const struct hh_signal *s,
                           const struct hh_sig_reject *rej);

/*
 * A signal that came as a Kafka message (SPEC §14): its topic, partition and
 * offset, and the message's correlation_id header.
 */
struct hh_journal_origin {
    const char *topic;             /* borrowed for the call */
    int32_t partition;
    int64_t offset;
    const char *corr;              /* the header (NULL: none): a rejected message's
                                      records carry it, else the signal id when
                                      known; an accepted signal carries its own
                                      (the caller put the header in it when the
                                      signal names none) */
};

/*
 * hh_journal_signal_step() for a Kafka message: the signals row also names
 * the message (topic, partition, offset: unique in the database, so a
 * message decided twice fails the store rather than trading twice).  raw
 * NULL (a value that is not text: not UTF-8, too long) is stored as "".
 */
int hh_journal_message_step(struct hh_journal *p, const struct hh_journal_origin *o,
                            const char *raw, size_t len, uint64_t lineno,
                            const struct hh_signal *s, const struct hh_sig_reject *rej);

/*
 * An outbox row (store.h: a dead letter or an event for Kafka) joins the
 * current step: committed with the records it describes, so it is durable
 * before anyone produces it.  o's strings are copied.
 */
int hh_journal_outbox_step(struct hh_journal *p, const struct hh_store_outbox *o);

/*
 * hh_sig_read_file() with every line journalled (hh_journal_signal)
 * before it reaches `sink`.  The reader's dead-letter callback does not
 * carry the line's text, so the raw text of rejected lines is read from a
 * second pass over the file kept in step with the first (line numbers only
 * increase).  Returns what hh_sig_read_file() returns, or the latched
 * store failure.
 */
int hh_journal_read_signals(struct hh_journal *p, const char *path,
                            struct hh_sig_validator *v, const struct hh_sig_sink *sink,
                            uint64_t *received, struct hh_diag *d);

/*
 * Fill *out with a sink whose callbacks call inner's (when set) and then
 * record the event — alerts worth it (operator alerts, the steps of an
 * uncertain placement or a hybrid stop, every report or transition an
 * order's state machine refused) and breaker transitions as ALERT and
 * BREAKER audit rows of the current step.  inner is copied; out may be inner.  Give *out to
 * hh_tm_new(), then hh_journal_attach() the manager.
 */
void hh_journal_sink(struct hh_journal *p, const struct hh_tm_sink *inner,
                     struct hh_tm_sink *out);

/*
 * The manager whose state is checkpointed (borrowed; detach by closing).
 * Writes ENGINE_START ({"mode":…} and, after hh_journal_restore(), the
 * restored state hash).  at as for hh_journal_config().
 */
int hh_journal_attach(struct hh_journal *p, struct hh_tm *tm, hh_time_t at, struct hh_diag *d);

/*
 * A reconciliation divergence, the broker's state adopted: a
 * RECONCILE_DIVERGENCE audit row {"kind","symbol","order_id","engine",
 * "broker"} joining the current step (strings borrowed for the call).
 */
void hh_journal_divergence(struct hh_journal *p, hh_time_t at, const char *kind,
                           const char *symbol, uint64_t order_id, int64_t engine_qty,
                           int64_t broker_qty);

/*
 * The end of one engine step at engine time `now`: submit the step's
 * records and, when due, a checkpoint as one atomic group.  Cheap when
 * nothing happened (no records, hh_tm_changes() unmoved): call it after
 * every market event.  Returns HH_OK or the latched failure: stop the run.
 */
int hh_journal_step(struct hh_journal *p, hh_time_t now);

/*
 * The end of the run: the last step, a final checkpoint (always) and
 * ENGINE_STOP (trades, net P&L, equity, state hash) in one group, then wait
 * until everything is committed.  HH_OK, or the failure with its message.
 */
int hh_journal_finish(struct hh_journal *p, hh_time_t now, struct hh_diag *d);

/* HH_OK, or the latched failure (also the store's own, polled). */
int hh_journal_status(struct hh_journal *p, struct hh_diag *d);

const struct hh_journal_stats *hh_journal_stats(const struct hh_journal *p);

/* The store behind the handle (borrowed: for acks, hh_store_committed()). */
struct hh_store *hh_journal_store(struct hh_journal *p);

/* Store sequence number of the last record submitted (compare with
 * hh_store_committed() to know when a decision is durable). */
uint64_t hh_journal_last_seq(const struct hh_journal *p);

/*
 * Close the store (flush, stop the writer) and free the handle; pending
 * records of an unfinished step are dropped (a crash would lose them too).
 * Accepts NULL.  Returns the store's failure if it had one.
 */
int hh_journal_close(struct hh_journal *p, struct hh_diag *d);

/*
 * The wall-clock ns the runner spent on the line it last gave to
 * hh_journal_signal_step(), from receiving the line to its decision:
 * stored with that line's signals row (signals.latency_ns) for the daily
 * report's signal-processing latency.  Call it after that
 * hh_journal_signal_step() and before the step ends; ns <= 0 is ignored.
 * The journal has no clock: a live runner measures; backtests never call
 * it, so their databases stay byte-identical.
 */
void hh_journal_signal_latency(struct hh_journal *p, int64_t ns);

/* ---- the kill switch (SPEC §12; docs/OPERATIONS.md "Kill switch") ------------------
 *
 * The database holds the kill switch's requests (table kill_switch); the
 * latest one is the trading state an engine must be in, across restarts.
 * Requests come from the API (through the engine), and from `hedgehog
 * kill`, which writes them itself: through the journal when no engine
 * holds the database (recorded and audited at once, applied by the next
 * engine at its start), or through hh_store_kill_request() beside a
 * running engine (pending until the engine takes it up).  The engine:
 *   - at start, after restoring: hh_journal_kill_state(); when found,
 *     start in hh_store_kill_state_name(action); when it is pending
 *     (applied_at == HH_TIME_NONE), hh_journal_kill(p, &row, true, now);
 *   - about once a second: the same read; a pending latest request is
 *     applied, then hh_journal_kill(p, &row, true, now);
 *   - for POST /api/v1/kill and /resume: hh_journal_kill() with a row of
 *     id 0 (action, reason, by "api:KEY_ID", at = the request's wall
 *     time), applied, answered once the step is durable.
 * A pending request superseded by a later one before an engine took it up
 * stays pending: the later one is the state.
 */

/*
 * The latest kill-switch request of the database at path, through a
 * read-only connection of its own (a writer may have the database open):
 * *found false when there is none (or the schema predates them).
 */
int hh_journal_kill_state(const char *path, struct hh_store_kill_row *out, bool *found,
                          struct hh_diag *d);

/*
 * A kill-switch change at time `at` (the engine's time; the wall clock for
 * `hedgehog kill`), joining the current step: k->id == 0, a new request
 * (a kill_switch row, applied at `at` when `applied`); k->id > 0, the
 * stored request k taken up (marked applied at `at`; `applied` must be
 * true).  With it a KILL_SWITCH audit row {"request_id"?, "action",
 * "state", "reason", "by", "requested_at", "applied"}.  Returns the
 * latched code, or HH_EINVAL (nothing added, nothing latched) for an
 * unknown action or a stored request not applied.
 */
int hh_journal_kill(struct hh_journal *p, const struct hh_store_kill_row *k, bool applied,
                    hh_time_t at);

/*
 * An operations-API request refused (SPEC §12): an API_REFUSED audit row
 * {"code", "method", "path", "client"} at engine time `at`, joining the
 * current step.  Never a secret: the API passes none.
 */
int hh_journal_api_refused(struct hh_journal *p, const char *code, const char *method,
                           const char *path, const char *client, hh_time_t at);

/* The state hash of tm: the SHA-256 of the concatenated SHA-256 digests
 * of its snapshot's chunks (hh_tm_snapshot_into, cut at the points it
 * marks) — what a checkpoint of tm records.  HH_OK or HH_ENOMEM. */
int hh_journal_state_hash(const struct hh_tm *tm, char hex[HH_DIGEST_HEX]);

/* The state hash of a checkpoint stored as chunks, from its manifest's
 * digests (n of HH_STORE_DIGEST_BYTES). */
int hh_journal_manifest_hash(const unsigned char *digests, size_t n, char hex[HH_DIGEST_HEX]);

/* What hh_journal_restore() found. */
struct hh_journal_restored {
    bool found;                    /* a checkpoint was there (else nothing restored) */
    hh_time_t at;                  /* its engine time */
    uint64_t changes;              /* hh_tm_changes() when it was written */
    char state_hash[HH_STORE_HASH_HEX];
    uint64_t signal_ids;           /* ids re-registered in the validator */
    uint64_t open_orders;          /* non-terminal orders reloaded into p */
    uint64_t active_trades;        /* non-terminal trades reloaded into p */
    uint64_t positions;            /* position rows reloaded into p */
    bool candles_dropped;          /* its candles were built for another
                                      entry.timeframe: the builder starts empty
                                      (hh_tm_candles_dropped) */
};

/*
 * Rebuild the engine from the database at path (read through its own
 * read-only connection; a writer may have it open):
 *   1. the latest checkpoint (hh_store_read_checkpoint: its blob must match
 *      the SHA-256 stored with it) — its state hash must be the SHA-256 of
 *      the blob;
 *   2. hh_tm_restore() into tm, a manager just created with the same
 *      configuration, instruments and broker (nothing fed yet); the
 *      restored manager's snapshot must hash to the same state hash
 *      (unless it cannot: a version-6 snapshot, or candles dropped —
 *      hh_tm_restore_rewrites; the bytes were proved by step 1 already);
 *   3. every signal id ever received (accepted or rejected) is registered
 *      in v (may be NULL) with hh_sig_validator_seen(): a repeated id is
 *      DUPLICATE after the restart as before it;
 *   4. when p is given (opened on the same database, not yet attached),
 *      its own bookkeeping — open orders, active trades, positions — is
 *      reloaded so the records it writes next continue the ones before.
 * No checkpoint: HH_OK with out->found false and tm untouched (a fresh
 * start; ids are still registered).  Errors: HH_ETAMPER (a blob or hash
 * mismatch), HH_EINVAL (a snapshot of another build: tm must be freed),
 * the reader's errors; d says which.  out may be NULL.
 *
 * The state restored is the one of the latest checkpoint: with the
 * every-change policy (ckpt_changes = ckpt_interval = 0) that is the state
 * after the last committed step; with a bounded policy, later committed
 * records may describe events past it.
 */
int hh_journal_restore(const char *path, struct hh_tm *tm, struct hh_sig_validator *v,
                       struct hh_journal *p, struct hh_journal_restored *out,
                       struct hh_diag *d);

#endif
