/*
 * store_int.h — private to src/store/: the bounded submission queue, the
 * audit chain hash, schema identification and migrations, and the SQLite
 * helpers shared by the writer, the readers and the operations.
 */
#ifndef HH_STORE_INT_H
#define HH_STORE_INT_H

#include "store/store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>

/* ---- queue (queue.c) ----------------------------------------------------------
 *
 * A ring of bytes holding one entry per submission: a header, the n
 * records (copied), then the strings and blobs they point to, with the
 * pointers rewritten into the entry.  Entries are 8-byte aligned; an entry
 * that does not fit before the end of the ring starts at offset 0 and a
 * wrap marker (size 0) is left at the old tail.  Producers copy under the
 * mutex, so an entry is complete once the tail has moved past it; the
 * writer reads the entries of its batch without the lock (producers never
 * write into used space) and releases them after commit, in order.
 */
struct hh_store__ent {
    uint32_t size;                 /* bytes of the entry, multiple of 8; 0 = wrap */
    uint32_t nrec;                 /* records in this submission (atomic group) */
    uint64_t token;                /* ack token; 0 = no ack */
    uint64_t first_seq;            /* seq of rec[0]; rec[i] has first_seq + i */
    struct hh_store_rec rec[];     /* then the copied strings and blobs */
};

/* What the writer took: entries [begin, end) of the ring. */
struct hh_store__batch {
    size_t begin, end;             /* ring offsets */
    size_t bytes;                  /* ring bytes including wrap padding */
    uint64_t nrec;                 /* records in the batch */
    uint64_t last_seq;             /* seq of its last record */
};

struct hh_store__queue {
    pthread_mutex_t mu;
    pthread_cond_t space;          /* producers: room was freed, or failure */
    pthread_cond_t work;           /* writer: entries arrived, or closing */
    pthread_cond_t done;           /* flushers: committed moved, or failure */
    unsigned char *buf;
    size_t cap;                    /* bytes, multiple of 8 */
    size_t head;                   /* oldest entry not yet released */
    size_t tail;                   /* where the next entry goes */
    size_t used;                   /* bytes between head and tail, incl. padding */
    uint64_t next_seq;             /* seq of the next record submitted */
    _Atomic uint64_t committed;    /* all seq <= committed are committed */
    bool closing;                  /* no more work will come; writer may exit */
    _Atomic int failed_rc;         /* 0, or the failure that stopped the store */
    char failed_msg[512];          /* written once, before failed_rc is set */
    uint64_t producer_waits;
};

int hh_store__queue_init(struct hh_store__queue *q, size_t cap);
void hh_store__queue_free(struct hh_store__queue *q);   /* accepts NULL */

/* Copy recs[0..n) as one entry; blocks while full.  *seq (may be NULL) gets
 * the last record's seq.  HH_ERANGE when the entry can never fit; the
 * failure code once failed. */
int hh_store__queue_push(struct hh_store__queue *q, const struct hh_store_rec *recs,
                         size_t n, uint64_t token, uint64_t *seq, struct hh_diag *d);

/* Writer: wait for entries and take all queued up to max_recs records
 * (at least one entry, never part of one).  False when failed, or closing
 * with nothing queued. */
bool hh_store__queue_take(struct hh_store__queue *q, size_t max_recs,
                          struct hh_store__batch *b);

/* Iterate over a batch: start with *off = b->begin, *left = b->bytes.
 * Returns the next entry (following wrap markers) and advances; NULL at
 * the end of the batch. */
struct hh_store__ent *hh_store__queue_next(struct hh_store__queue *q, size_t *off,
                                           size_t *left);

/* Writer: the batch is committed; release its space and publish. */
void hh_store__queue_done(struct hh_store__queue *q, const struct hh_store__batch *b);

/* Writer: the store failed; discard everything, wake everyone.  Only the
 * first failure is kept. */
void hh_store__queue_fail(struct hh_store__queue *q, int rc, const char *msg);

/* Wait until all records submitted so far are committed (or failure). */
int hh_store__queue_flush(struct hh_store__queue *q, struct hh_diag *d);

/* The failure code (message into d), 0 while healthy. */
int hh_store__queue_status(struct hh_store__queue *q, struct hh_diag *d);

/* No more submissions: let the writer exit once the queue is empty. */
void hh_store__queue_close(struct hh_store__queue *q);

/* ---- hashing (audit.c) ------------------------------------------------------------ */

/* The fields of one audit record that its link covers. */
struct hh_store__arec {
    uint64_t seq;
    hh_time_t at;
    const char *kind;
    const char *corr;              /* "" when none */
    size_t corr_len;
    const char *payload;
    size_t payload_len;
    const char *key_id;            /* NULL or "": unkeyed (SHA-256); else the
                                      id of the key h holds (HMAC-SHA256) */
    const char *prev;              /* the previous record's hash, 64 hex */
};

/* The link of record *a into out: SHA-256 with a plain context, HMAC with
 * a keyed one (h must be keyed exactly when a->key_id is set).  HH_EINVAL
 * (prev not 64 hex digits), HH_ERANGE, HH_ENOMEM. */
int hh_store__hash_audit(struct hh_digest *h, const struct hh_store__arec *a,
                         char out[HH_STORE_HASH_HEX]);

/* The payload of the KEY_ROTATED record that starts key `id` after
 * `prev_id` ("" when the chain was unkeyed): the one text the writer
 * writes and the walk expects. */
void hh_store__rotation_payload(char *buf, size_t cap, const char *id, const char *prev_id);

/* Walk the audit chain of an open connection in one read transaction
 * (its own unless the caller has one open) with keys[0..nkeys) (see
 * hh_store_audit_verify_keys); h is a plain context; version is the schema
 * version (v3+ has audit_head, compared with the end of the chain; v4+
 * has key ids). */
int hh_store__audit_walk(sqlite3 *db, struct hh_digest *h, int version,
                         const struct hh_store_audit_key *keys, size_t nkeys,
                         struct hh_store_verify *v, struct hh_diag *d);

/* ---- schema (schema.c) ------------------------------------------------------------ */

/* Identify the database on db (no writes): *version receives its schema
 * version, 0 for an empty database.  Refuses (HH_EDB with a message naming
 * path) a non-SQLite file, a foreign database, a newer schema. */
int hh_store__identify(sqlite3 *db, const char *path, int *version, struct hh_diag *d);

/* Migrate from `from` to HH_STORE_SCHEMA_VERSION in one transaction. */
int hh_store__migrate(sqlite3 *db, const char *path, int from, struct hh_diag *d);

/* Check that the tables and triggers of `version` are present;
 * false with a description in why. */
bool hh_store__schema_present(sqlite3 *db, int version, char *why, size_t cap);

/* ---- SQLite helpers (sqlite_util.c) ---------------------------------------------- */

/* Report the connection's last error as HH_EDB (HH_ETAMPER for
 * corruption, HH_EFULL for a full disk): "path: what: sqlite message"
 * (path may be NULL). */
int hh_store__sqlerr(sqlite3 *db, int src, const char *path, const char *what,
                     struct hh_diag *d);

/* Run SQL without results; errors via hh_store__sqlerr. */
int hh_store__exec(sqlite3 *db, const char *path, const char *sql, struct hh_diag *d);

/* Prepare sql; errors name path and `what` was being read. */
int hh_store__prepare(sqlite3 *db, const char *path, const char *sql, const char *what,
                      sqlite3_stmt **s, struct hh_diag *d);

/* Finish a row loop whose last sqlite3_step returned rc (SQLITE_DONE is
 * success) and finalize s. */
int hh_store__finish(sqlite3 *db, const char *path, sqlite3_stmt *s, int rc, const char *what,
                     struct hh_diag *d);

/* The columns c.. of s — client_id, order_id, trade_key, symbol, side,
 * type, qty, limit_price, trigger_price, state, a time — as *o (strings
 * borrowed from s); false when side, type or state is unknown. */
bool hh_store__order_cols(sqlite3_stmt *s, int c, struct hh_store_order *o);

/* Column i as a time: HH_TIME_NONE for NULL. */
hh_time_t hh_store__col_time(sqlite3_stmt *s, int i);

/* The columns c.. of s — seq, at, kind, correlation_id, payload,
 * prev_hash, hash — as *a (strings borrowed from s, "" for NULL). */
void hh_store__audit_cols(sqlite3_stmt *s, int c, struct hh_store_audit_row *a);

/* The latest kill-switch request and a period's records on a reader's
 * connection (sqlite_period.c); version: the schema's. */
int hh_store__sqlite_kill_latest(sqlite3 *db, const char *path, int version,
                                 struct hh_store_kill_row *out, bool *found,
                                 struct hh_diag *d);
int hh_store__sqlite_period(sqlite3 *db, const char *path, int version, hh_time_t from,
                            hh_time_t to, const struct hh_store_period_fns *f,
                            struct hh_diag *d);

/* First column of the first row of sql as an integer (0 when no row);
 * errors say `what` (NULL: the SQL). */
int hh_store__int(sqlite3 *db, const char *path, const char *sql, const char *what,
                  int64_t *out, struct hh_diag *d);

/* Open a connection: read-only, or read-write (creating unless no_create).
 * Sets a busy timeout. */
int hh_store__connect(const char *path, bool readonly, bool no_create, int busy_ms,
                      sqlite3 **out, struct hh_diag *d);

/* Map a stored name back to an enum (loop over the name function);
 * -1 when unknown. */
int hh_store__side_parse(const char *s);      /* HH_BUY, HH_SELL; -2 when unknown */
int hh_store__ord_type_parse(const char *s);
int hh_store__ord_state_parse(const char *s);
int hh_store__tstate_parse(const char *s);

/* The SQLite reader (sqlite_read.c). */
int hh_store__sqlite_reader_open(const char *path, struct hh_store_reader **out,
                                 struct hh_diag *d);

/* NULL when kill-switch request *k may be stored, else the bad field. */
const char *hh_store__kill_invalid(const struct hh_store_kill *k);

/* One kill-switch request: the writer's statement and the side door's
 * (sqlite_kill.c) are the same text. */
#define HH_STORE__KILL_INSERT                                                    \
    "INSERT INTO kill_switch (action, state, reason, requested_at, requested_by, " \
    "applied_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"

/* Bind the fields of *k to HH_STORE__KILL_INSERT (strings SQLITE_STATIC). */
void hh_store__kill_bind(sqlite3_stmt *s, const struct hh_store_kill *k);

/* hh_store_kill_request on SQLite (sqlite_kill.c). */
int hh_store__sqlite_kill_request(const char *path, const struct hh_store_kill *k, int busy_ms,
                                  int64_t *id, struct hh_diag *d);

/* The SQLite writer (sqlite.c). */
int hh_store__sqlite_open(const char *path, const struct hh_store_opts *opts,
                          struct hh_store **out, struct hh_diag *d);

#endif
