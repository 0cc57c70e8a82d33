/*
 * journal_int.h — what the journal's files share (nothing outside
 * src/journal includes it): the handle, its bookkeeping, and the helpers
 * that build one step's records.
 *
 *   journal.c   the handle; the step's records, their payloads and their
 *               submission as one group; checkpoints; CONFIG_LOADED,
 *               ENGINE_START and ENGINE_STOP
 *   book.c      what the journal remembers of the live state: trade states,
 *               orders, net positions
 *   sink.c      the trade manager's events as records: orders and reports,
 *               fills, closed trades, rejections, alerts
 *   groups.c    multi-leg groups' state as group_exec rows
 *   signals.c   signal lines and the decision on them
 *   kill.c      the kill switch: its latest request, and changes applied
 *   restore.c   the engine and the bookkeeping back from the database
 *   history.c   what the earlier starts recorded (owner, build, configuration)
 *
 * Every helper that can fail latches the failure on the handle
 * (hh_journal__latch); no record is added after it (hh_journal__rec returns
 * NULL), so callers check p->rc only where they must stop early.
 */
#ifndef HH_JOURNAL_INT_H
#define HH_JOURNAL_INT_H

#include "journal/journal.h"

#include "core/jsonout.h"
#include "core/u64map.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A chunk of a checkpoint's snapshot (ckpt.c). */
struct ckpt_chunk {
    size_t off, len;               /* in its snapshot; len 0: known by digest only
                                      (the restored checkpoint's) */
    uint64_t h64;                  /* fast hash of its bytes */
    unsigned char sha[HH_STORE_DIGEST_BYTES];
};

/* A snapshot and its chunks. */
struct ckpt_snap {
    struct hh_ser_w w;             /* the bytes and their cut points */
    struct ckpt_chunk *ch;
    size_t n, cap;
};

/* Checkpoints chunk by chunk: this one and the last one submitted. */
struct ckpt {
    struct ckpt_snap cur, prev;
    struct hh_u64map by_h64;       /* prev's chunks with bytes: fast hash -> index + 1 */
    struct hh_u64map by_sha;       /* prev's chunks: digest's first 8 bytes -> index + 1 */
    struct hh_digest sha;
    bool sha_ready;
    unsigned char *manifest;       /* the last checkpoint's (magic + digests) */
    size_t lenmanifest, capmanifest;
};

/* Strings of one step, in fixed blocks (pointers stay valid while it grows). */
struct ablock {
    struct ablock *next;
    size_t used, cap;
    char data[];
};

struct arena {
    struct ablock *head;           /* current block (first in the list) */
};

/* An order as last described to the store. */
struct ord {
    struct hh_order_req req;       /* client id (the broker's tag), instrument, side,
                                      type, quantity, prices as they stand */
    char trade_key[HH_SIG_ID_MAX]; /* the owning signal's id */
    enum hh_ord_state state;
    int64_t next_free;             /* free list link (-1: end) when unused */
};

/* Trade key -> latest trade_state, for live trades only (open addressing,
 * linear probing; tombstones on removal). */
enum { TK_EMPTY, TK_LIVE, TK_GONE };

struct tkent {
    char key[HH_SIG_ID_MAX];
    char corr[HH_SIG_TEXT_MAX];    /* the trade's correlation id */
    uint8_t flag;                  /* TK_* */
    uint8_t state;                 /* enum hh_store_tstate */
};

struct tkmap {
    struct tkent *e;
    size_t cap, used, live;        /* used: live + tombstones */
};

/* What was last written for multi-leg group i. */
struct gtrack {
    uint64_t fp;                   /* fingerprint of its view */
    bool written, done;
};

/* The journal (journal.h); its invariants are journal.c's. */
struct hh_journal {
    struct hh_store *st;
    struct hh_journal_opts o;
    char mode[32];
    const struct hh_instruments *inst;
    struct hh_tm *tm;              /* attached manager (borrowed) */
    struct hh_tm_sink inner;       /* the runner's own sink */
    int rc;                        /* latched failure (0 = healthy) */
    struct hh_diag d;
    struct hh_journal_stats stats;
    uint64_t last_seq;             /* store seq of the last record submitted */
    hh_time_t last_at;             /* latest engine time seen (0 before any) */
    /* the step's pending records */
    struct hh_store_rec *recs;
    size_t nrecs, caprecs;
    size_t last_signal;            /* recs index of the step's latest signals
                                      row + 1; 0: none */
    struct arena ar;               /* their strings */
    struct ckpt ck;                /* checkpoints, chunk by chunk (ckpt.c) */
    struct hh_json j;              /* the payload being written */
    /* checkpoints */
    uint64_t seen_changes;         /* hh_tm_changes() at the last step */
    uint64_t ckpt_changes_at;      /* hh_tm_changes() at the last checkpoint */
    hh_time_t ckpt_at;             /* engine time of the last checkpoint */
    uint64_t ckpt_market_at;       /* hh_tm_market_changes() at the last checkpoint */
    uint64_t changes_base;         /* the restored checkpoint's seq */
    uint64_t attach_changes;       /* hh_tm_changes() at attach */
    char restored_hash[HH_STORE_HASH_HEX];
    /* fills: the execution id of the report that preceded the fill; an
     * order filled by it is forgotten once its fill is recorded */
    uint64_t last_exec_order, last_exec_id;
    uint64_t forget_oid;
    /* bookkeeping */
    struct ord *ords;
    size_t nords, capords;
    int64_t free_ord;
    struct hh_u64map by_oid;       /* order id -> index + 1 */
    struct tkmap trades;
    struct hh_position *pos;       /* by instrument id */
    size_t npos;
    struct gtrack *groups;
    size_t ngroups, first_live_group;
};

/* ---- ckpt.c ---------------------------------------------------------------------- */

int hh_journal__ckpt_init(struct ckpt *k);
void hh_journal__ckpt_free(struct ckpt *k);

/* A checkpoint of the attached manager: out's state is its manifest (valid
 * until the next checkpoint), its chunks the store lacks are added to the
 * step's records, root its state hash.  HH_OK or HH_ENOMEM. */
int hh_journal__ckpt_take(struct hh_journal *p, struct hh_store_checkpoint *out,
                          char root[HH_DIGEST_HEX]);

/* The store holds the chunks of the checkpoint restored (its digests). */
int hh_journal__ckpt_seed(struct hh_journal *p, const unsigned char *digests, size_t n);

/* ---- journal.c ------------------------------------------------------------------- */

/* Latch the first failure (rc, message) and return the latched code. */
int hh_journal__latch(struct hh_journal *p, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The latched code, its message copied into d (may be NULL). */
int hh_journal__diag(const struct hh_journal *p, struct hh_diag *d);

/* The symbol of iid ("?" when unknown), for records. */
const char *hh_journal__sym(const struct hh_journal *p, hh_iid_t iid);

/* A copy of s (NULL stays NULL) / of s[0..n) that lives until the step is
 * submitted; NULL when out of memory (latched). */
const char *hh_journal__keep(struct hh_journal *p, const char *s);
const char *hh_journal__keep_n(struct hh_journal *p, const char *s, size_t n);

/* A new pending record of kind k (zeroed), or NULL (latched). */
struct hh_store_rec *hh_journal__rec(struct hh_journal *p, enum hh_store_kind k);

/* Payloads: begin an object in p->j (fill it with hh_json_*), write a
 * price as an exact number (2 decimals, up to 4 when the value has them),
 * keep the text so far for the step (NULL: latched failure). */
void hh_journal__payload_begin(struct hh_journal *p);
void hh_journal__payload_fx(struct hh_journal *p, const char *key, int64_t v);
const char *hh_journal__payload_keep(struct hh_journal *p);

/* Close the payload object and queue an audit record with it. */
void hh_journal__audit(struct hh_journal *p, enum hh_audit_kind kind, hh_time_t at,
                       const char *corr);

/* Submit everything pending as one atomic group (records without a time
 * take `now`, else the latest engine time seen); the latched code. */
int hh_journal__submit(struct hh_journal *p, hh_time_t now);

/* ---- book.c ---------------------------------------------------------------------- */

/* A trade_state row for the trade `key` (a signal's id), unless it is
 * already in that state; terminal states forget the trade. */
void hh_journal__transition(struct hh_journal *p, const char *key, const char *corr,
                            enum hh_store_tstate st, hh_time_t at, const char *detail);

/* The correlation id of live trade `key`, NULL when it is not live. */
const char *hh_journal__trade_corr(const struct hh_journal *p, const char *key);

/* Remember live trade `key` in state st (restore): HH_OK, HH_EINVAL (key
 * too long), HH_ENOMEM. */
int hh_journal__trade_set(struct hh_journal *p, const char *key, const char *corr,
                          enum hh_store_tstate st);

/* Orders by broker order id: the one described, a new zeroed one (NULL:
 * latched), forget one (no-op when unknown). */
struct ord *hh_journal__ord_get(struct hh_journal *p, uint64_t oid);
struct ord *hh_journal__ord_add(struct hh_journal *p, uint64_t oid);
void hh_journal__ord_forget(struct hh_journal *p, uint64_t oid);

/* The net position of iid (zero when new); NULL when out of memory. */
struct hh_position *hh_journal__position(struct hh_journal *p, hh_iid_t iid);

/* ---- groups.c -------------------------------------------------------------------- */

/* Upsert the multi-leg groups whose view changed since last written. */
void hh_journal__scan_groups(struct hh_journal *p);

#endif
