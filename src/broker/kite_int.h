/*
 * kite_int.h — names shared by the files of the Kite adapter (kite*.c) and
 * its tests; nothing else includes it.
 *
 *   kite.c        the handle: configuration, start/stop, broker ops table
 *   kite_proto.c  pure protocol pieces: tags, statuses, errors, forms, URLs
 *   kite_lim.c    the call pacers (order calls, other calls)
 *   kite_tick.c   the binary tick parser
 *   kite_json.c   JSON answers into fixed-point rows
 *   kite_http.c   REST over libcurl: secrets, auth, pacing, error mapping
 *   kite_book.c   engine orders over slices; reports derived from the book
 *   kite_order.c  place / modify / cancel / queries
 *   kite_acct.c   trades and basket margins
 *   kite_read.c   the book reader thread (updates are prompts)
 *   kite_ws.c     the socket thread: order updates, ticks, reconnects
 *
 * Threads and what they own:
 *   core thread   the tracker (k->book), k->pending, k->err, its REST handle
 *   book reader   its REST handle; hands rows to the core through k->rows
 *   socket        the lws context; ticks through k->ticks, prompts to the
 *                 reader through k->prompts
 * Shared state is behind the mutex named beside it.
 */
#ifndef HH_KITE_INT_H
#define HH_KITE_INT_H

#include "broker/kite.h"
#include "core/u64map.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>

struct json_object;

#define HH_KITE_TAG_MAX   20            /* Kite's limit on `tag` */
#define HH_KITE_SLICES_MAX 99           /* slices of one engine order */
#define HH_KITE_MSG_MAX   128           /* broker messages kept */
#define HH_KITE_SUBS_MAX  3000          /* instruments per socket (Kite's) */

/* ---- pure protocol pieces (kite_proto.c) ------------------------------ */

/* An engine client id usable as a tag: 1..20 characters of [a-z0-9]. */
bool hh_kite__cid_valid(const char *cid);

/* Tag of slice k (1-based) of client id cid: cid for k == 1, else cid "S" k.
 * HH_ERANGE when it would exceed 20 characters or k is out of 1..99. */
int hh_kite__slice_tag(const char *cid, int k, char out[HH_CLIENT_ID_MAX]);

/* Split one of our tags into the engine id and the slice number (1 for a
 * plain id).  false for tags that are not ours (foreign orders). */
bool hh_kite__tag_split(const char *tag, char cid[HH_CLIENT_ID_MAX], int *k);

/* A Kite order status (exact text) as an order state, given the row's
 * quantities.  *known = false for a status not in Kite's list: it is then
 * read as working (OPEN or PARTIAL by quantity), never as an end. */
enum hh_ord_state hh_kite__state(const char *status, hh_qty_t qty, hh_qty_t filled,
                                 bool *known);

/* What a call is, for error mapping and pacing. */
enum hh_kite__call {
    HH_KITE__QUERY,
    HH_KITE__PLACE,
    HH_KITE__MODIFY,
    HH_KITE__CANCEL,
};

static inline bool hh_kite__is_order_call(enum hh_kite__call c)
{
    return c != HH_KITE__QUERY;
}

/*
 * An answer that is not success, as an error code (DOMAIN §8): http is the
 * HTTP status, error_type Kite's (NULL when the body was not a Kite error).
 * TokenException -> HH_EAUTH; Input/Order/Margin/User/PermissionException ->
 * HH_EBROKER; Network/Data/GeneralException, 5xx and unknown types -> an
 * order call's outcome is unknown (HH_ETIMEOUT), a query's HH_EUNAVAIL.
 * A 429 is not mapped here (the caller paces and retries).
 */
int hh_kite__map_error(long http, const char *error_type, enum hh_kite__call call);

/* Where a transport failure leaves a call: `sent` says whether any byte of
 * the request left (CURLINFO_REQUEST_SIZE > 0).  Nothing sent: not
 * processed (HH_EUNAVAIL); else an order call's outcome is unknown
 * (HH_ETIMEOUT), a query HH_ETIMEOUT too. */
int hh_kite__map_transport(bool timed_out, bool sent, enum hh_kite__call call);

/* application/x-www-form-urlencoded body, bounded. */
struct hh_kite__form {
    char buf[1024];
    size_t n;
    bool overflow;                  /* something did not fit: do not send */
};

void hh_kite__form_init(struct hh_kite__form *f);
void hh_kite__form_add(struct hh_kite__form *f, const char *key, const char *val);
void hh_kite__form_int(struct hh_kite__form *f, const char *key, int64_t v);
/* A fixed-point price as its shortest exact decimal ("101.25", "7"). */
void hh_kite__form_price(struct hh_kite__form *f, const char *key, hh_price_t v);
size_t hh_kite__price_text(hh_price_t v, char *buf, size_t cap);

/* Kite's exchange name of an instrument (NSE, NFO, CDS, NCO, BSE, BFO, BCD,
 * MCX); NULL for an index (not tradable). */
const char *hh_kite__exchange(const struct hh_instrument *in);

/* A URL split for the socket and checked against SPEC §13: https/wss, or
 * http/ws on a loopback host.  HH_ECONFIG with the reason in d. */
struct hh_kite__url {
    bool tls;
    char host[256];
    int port;
    char path[512];                 /* "/" at least */
};

int hh_kite__url_parse(const char *url, bool ws, struct hh_kite__url *out,
                       struct hh_diag *d);

/* Exec id of the fill that brings order `id` to cumulative `cum`: the same
 * inputs always give the same id; the top bit is set, so it never meets the
 * engine's own synthetic ids (below 2^63). */
uint64_t hh_kite__exec_id(uint64_t id, hh_qty_t cum);

/* ---- the call pacer (kite_lim.c) ------------------------------------------ */

/*
 * At most N calls in any second as the broker counts them (by receipt,
 * which lies between our start and the answer): a call starts 1 s + 1 ms
 * after the end of the call N before it, and starts are 1/N s apart (a
 * burst of 100 at 10/s takes 9.9 s).  Likewise at most M in any minute
 * when M is set (Kite's ~200 orders a minute): 60 s + 1 ms after the end of
 * the call M before.  A 429 pushes the next start out.
 * Calls start in the order they asked.  The clock and sleep are hooks for
 * tests (NULL: CLOCK_MONOTONIC, nanosleep).  Thread-safe.
 *
 * The pacer's state (struct hh_kite__pace) is the process's own, or shared
 * through a file by every process pacing the same account
 * (hh_kite__lim_share): a restart after kill -9 and a second process on the
 * account then count the calls the others made.  Across processes the file
 * is locked (flock) around each reservation; a call still in flight when
 * its process died counts as ended when that is noticed.
 */
#define HH_KITE__LIM_MAX 1000           /* calls per second or minute, at most */

struct hh_kite__slot {                  /* one call of the last N */
    int64_t end;                        /* when it ended; INT64_MAX: in flight */
    int64_t until;                      /* in flight: ends by then (its timeout) */
    uint64_t seq;                       /* which call (the pacer's count) */
    int32_t pid;                        /* in flight: the process making it */
    int32_t pad;
};

struct hh_kite__pace {                  /* the state that may be shared */
    int32_t n;                          /* calls per second */
    int32_t m;                          /* calls per minute (0: no limit) */
    int64_t next;                       /* earliest next start, monotonic ns */
    uint64_t seq;                       /* calls started */
    struct hh_kite__slot slot[HH_KITE__LIM_MAX];    /* [seq % HH_KITE__LIM_MAX] */
};

struct hh_kite__lim {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int n, m;                       /* calls per second; per minute (0: none) */
    int64_t interval;               /* ns between starts: 1 s / n */
    int64_t max_call;               /* ns a call may take (its timeout) */
    struct hh_kite__pace *pace;     /* own (fd < 0) or the file's mapping */
    void *map;                      /* the file's mapping (NULL: own) */
    int fd;                         /* the shared file, locked around use */
    int32_t pid;
    uint64_t tickets, turn;         /* handed out; next to start (this process) */
    int64_t (*now)(void *ctx);
    void (*sleep)(void *ctx, int64_t ns);
    void *ctx;
};

/* per_minute: 0 for no minute limit, else per_second..HH_KITE__LIM_MAX.
 * max_call: how long one call may take (the REST timeout; a call in flight
 * longer than that, or whose process died, counts as ended). */
int hh_kite__lim_init(struct hh_kite__lim *l, int per_second, int per_minute,
                      int64_t max_call);
/* Share the pacer with every process using `path` (created 0600) as the
 * region'th pacer of the file (0: order calls, 1: the others).  A file left
 * by another boot, or pacing other rates, starts afresh.  HH_ECONFIG with
 * the path named. */
int hh_kite__lim_share(struct hh_kite__lim *l, const char *path, int region,
                       struct hh_diag *d);
void hh_kite__lim_destroy(struct hh_kite__lim *l);
/* Wait for the turn to start a call; returns its ticket (*start, may be
 * NULL: the start time, monotonic ns).  Never fails.  Every ticket must be
 * released once the call ended (answered or failed). */
uint64_t hh_kite__lim_acquire(struct hh_kite__lim *l, int64_t *start);
void hh_kite__lim_release(struct hh_kite__lim *l, uint64_t ticket);
/* Nothing starts before now + pause. */
void hh_kite__lim_backoff(struct hh_kite__lim *l, int64_t pause);
int64_t hh_kite__mono_ns(void);

/* ---- JSON answers (kite_json.c) --------------------------------------- */

/* One row of the order book, as the engine's numbers. */
struct hh_kite__row {
    uint64_t order_id;
    char tag[HH_CLIENT_ID_MAX];     /* "" when none */
    char exchange[8], symbol[HH_SYMBOL_MAX];
    hh_iid_t iid;                   /* HH_IID_NONE: not loaded */
    enum hh_side side;
    enum hh_ord_type type;
    enum hh_ord_state state;
    bool status_known;
    hh_qty_t qty, filled;
    hh_price_t price, trigger, avg;
    char msg[HH_KITE_MSG_MAX];      /* status_message */
};

/* Numbers of a JSON object's member `key` (absent or null: 0 and HH_OK).
 * Integers, real-number tokens (their text, never double) and decimal
 * strings are accepted; averages with more than 4 places are rounded
 * half-up.  HH_ESYNTAX / HH_ERANGE otherwise. */
int hh_kite__j_price(struct json_object *o, const char *key, hh_price_t *out);
int hh_kite__j_qty(struct json_object *o, const char *key, hh_qty_t *out);
int hh_kite__j_id(struct json_object *o, const char *key, uint64_t *out);
/* The member as a string ("" when absent or not a string). */
const char *hh_kite__j_str(struct json_object *o, const char *key);

/* An order object -> row.  HH_ESYNTAX naming the field. */
int hh_kite__row_parse(struct json_object *o, const struct hh_instruments *inst,
                       struct hh_kite__row *out, struct hh_diag *d);
/* An array of order objects -> rows (malloc'd into *rows; free them).  A
 * row of an instrument not loaded is kept and counted in *unknown; a row
 * that cannot be read is skipped and counted in *skipped when it is not
 * ours (its tag is not one of ours), else the whole array is refused:
 * HH_EUNAVAIL naming the field. */
int hh_kite__rows_parse(struct json_object *arr, const struct hh_instruments *inst,
                        struct hh_kite__row **rows, size_t *n, uint64_t *unknown,
                        uint64_t *skipped, struct hh_diag *d);

/* Parse an answer body: the `data` member of a success envelope (a new
 * reference in *data, json_object_put it), or the error mapped (http, and
 * error_type / message into d). */
int hh_kite__parse_answer(const char *body, size_t len, long http, enum hh_kite__call call,
                          struct json_object **data, struct hh_diag *d);

/* ---- REST (kite_http.c) ----------------------------------------------- */

/* A secret file, re-read when it changes (identity: device, inode, size,
 * modification time). */
struct hh_kite__secret {
    char *path;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    char value[256];
};

/* Check the file; re-read it when it changed (*changed set).  HH_ECONFIG
 * (missing, readable by group/others, not one token of [A-Za-z0-9]). */
int hh_kite__secret_check(struct hh_kite__secret *s, bool *changed, struct hh_diag *d);

/* Both secret files checked (k->auth_mu held): a change re-reads them,
 * counts a reload and lifts a TokenException block (a new login). */
int hh_kite__secrets(struct hh_kite *k, struct hh_diag *d);

/* One REST connection (a curl easy handle: one thread uses it). */
struct hh_kite__http {
    void *curl;                     /* CURL * */
    char *body;                     /* the answer, NUL-terminated */
    size_t len, cap;
    bool overflow;                  /* the answer exceeded the cap */
    const char *upload;             /* the request body being sent */
    size_t up_len, up_off;
};

int hh_kite__http_init(struct hh_kite *k, struct hh_kite__http *h);
void hh_kite__http_free(struct hh_kite__http *h);

/*
 * One call: method and path (relative to api_url), an optional body and its
 * content type (form by default).  Order calls take the order pacer, others
 * the query pacer; 429 answers back off and retry (queries, modify,
 * cancel: up to 4 times; a placement returns HH_EUNAVAIL with *limited set
 * so the caller can look its tag up first).  *data receives the success
 * envelope's data (put it).  Never sends with an expired token: order calls
 * return HH_EAUTH while blocked.
 */
int hh_kite__call(struct hh_kite *k, struct hh_kite__http *h, enum hh_kite__call call,
                  const char *method, const char *path, const char *body,
                  const char *ctype, struct json_object **data, bool *limited,
                  struct hh_diag *d);

/* ---- engine orders over slices (kite_book.c) -------------------------- */

struct hh_kite__slice {
    uint64_t id;                    /* the broker's order id; 0 not known */
    int k;                          /* 1-based slice number */
    hh_qty_t qty, filled;
    hh_money_t notional;            /* average price x filled */
    enum hh_ord_state state;
    bool dropped;                   /* cancelled by us to reduce the order:
                                       counts only what it filled */
    char msg[HH_KITE_MSG_MAX];
};

/* One engine order (one client id), its slices, and what was reported. */
struct hh_kite__ord {
    char cid[HH_CLIENT_ID_MAX];
    uint64_t id;                    /* the first slice's id (the engine's) */
    hh_iid_t iid;
    enum hh_side side;
    enum hh_ord_type type;
    hh_price_t limit, trigger;
    int nslices;
    struct hh_kite__slice *slices;  /* by k; owned */
    bool dirty;                     /* rows applied since the last derive */
    /* what the engine has been told */
    bool acked, done;
    hh_qty_t rep_qty, rep_filled;
    hh_money_t rep_notional;
};

struct hh_kite__book {
    struct hh_kite__ord *ords;
    size_t n, cap;
    struct hh_u64map by_id;         /* any slice's broker id -> index + 1 */
    struct hh_u64map by_cid;        /* hash(cid) -> index + 1 (checked) */
};

int hh_kite__book_init(struct hh_kite__book *b);
void hh_kite__book_free(struct hh_kite__book *b);

/* The order of a client id / of any of its slices' ids; NULL if unknown. */
struct hh_kite__ord *hh_kite__book_by_cid(struct hh_kite__book *b, const char *cid);
struct hh_kite__ord *hh_kite__book_by_id(struct hh_kite__book *b, uint64_t id);

/* A new order for a placement whose first slice got `id`. */
int hh_kite__book_add(struct hh_kite__book *b, const char *cid,
                      const struct hh_order_req *req, uint64_t id, hh_qty_t qty1,
                      struct hh_kite__ord **out);
/* Slice k of o got id (or was found by its tag) with quantity qty. */
int hh_kite__book_slice(struct hh_kite__book *b, struct hh_kite__ord *o, int k,
                        uint64_t id, hh_qty_t qty);

/* Apply a book row: to its order (by id, else by our tag — creating the
 * order, slices included, when first seen); rows without our tag are not
 * tracked (*o NULL).  Quantities only move forward: a row filled less than
 * known, or working after an end, is stale and changes nothing. */
int hh_kite__book_apply(struct hh_kite__book *b, const struct hh_kite__row *r,
                        struct hh_kite__ord **o);

/* The engine's view of an order: slices aggregated (broker.h row). */
void hh_kite__ord_view(const struct hh_kite__ord *o, struct hh_broker_order *out);

/* Reports due for o since the last call (see kite.h), appended by emit. */
void hh_kite__ord_derive(struct hh_kite__ord *o, hh_time_t now,
                         void (*emit)(void *ctx, const struct hh_report *r), void *ctx);

/* ---- the handle (kite.c) ----------------------------------------------- */

struct hh_kite__prompt {
    uint64_t id;                    /* an order id, 0 = read the whole book */
    int64_t due;                    /* monotonic ns */
    int tries;                      /* failed reads of it so far */
};

struct hh_kite__sub {
    hh_iid_t iid;
    uint32_t token;
    _Atomic int64_t last;           /* last tick, adapter clock; 0 none */
};

struct hh_kite {
    /* configuration (copied) */
    char *api_url;
    struct hh_kite__url ws;
    bool have_ws;
    char *ca_file;
    char *account;
    enum hh_kite_product product;
    int market_protection;
    int timeout_ms;
    int64_t md_stale;               /* ns */
    int64_t book_poll;              /* ns */
    hh_time_t (*clock)(void *ctx);
    void *clock_ctx;
    const struct hh_instruments *inst;

    /* secrets and authorisation (auth_mu) */
    pthread_mutex_t auth_mu;
    struct hh_kite__secret key, token;
    bool auth_blocked;              /* TokenException seen with this token */

    /* pacing */
    struct hh_kite__lim olim;       /* order calls */
    struct hh_kite__lim qlim;       /* everything else */

    /* core thread */
    struct hh_kite__http core_http;
    struct hh_kite__book book;
    struct hh_report *pending;      /* reports for the next pump */
    size_t npending, cappending;
    struct hh_diag err;
    hh_report_fn sink;
    void *sink_ctx;
    bool dirty_any;                 /* rows applied, reports not derived */
    uint64_t gaps_seen;
    bool md_was_ready;
    struct hh_u64map trades_seen;   /* trade ids returned (hh_kite_trades) */

    /* book reader (mu) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct hh_kite__prompt *prompts;
    size_t nprompts, capprompts;
    struct hh_kite__row *rows;      /* read rows waiting for the core */
    size_t nrows, caprows;
    _Atomic size_t working;         /* orders the core sees working */
    pthread_t reader;
    bool reader_started;
    struct hh_kite__http read_http;

    /* socket (sub_mu for the subscription set) */
    pthread_mutex_t sub_mu;
    struct hh_kite__sub *subs;
    size_t nsubs;
    enum hh_kite_mode mode;
    struct hh_u64map sub_by_token;  /* token -> index + 1 */
    bool subs_dirty;
    pthread_t sock;
    bool sock_started;
    void *lws_ctx;                  /* struct lws_context *, socket thread */
    _Atomic bool ws_up;

    /* ticks: single producer (socket), single consumer (core) */
    struct hh_tick *ring;
    uint32_t ring_mask;
    _Atomic uint32_t ring_head, ring_tail;

    _Atomic bool stop;
    void (*wake)(void *ctx);
    void *wake_ctx;

    /* counters (atomic: several threads) */
    _Atomic uint64_t n_requests, n_order_calls, n_limited, n_unknown, n_rejected,
        n_auth, n_reloads, n_slices, n_ws_connects, n_ws_drops, n_updates, n_book_reads,
        n_reports, n_ticks, n_ticks_dropped, n_bad_frames, n_unknown_rows,
        n_skipped_rows;
};

hh_time_t hh_kite__now(const struct hh_kite *k);
void hh_kite__wake(struct hh_kite *k);

/* Ask the book reader to read order `id` (0: the whole book) `delay` ns
 * from now.  Any thread. */
void hh_kite__prompt(struct hh_kite *k, uint64_t id, int64_t delay);
/* The same after `tries` failed reads (dropped from the third on). */
void hh_kite__prompt_retry(struct hh_kite *k, uint64_t id, int64_t delay, int tries);

/* Broker operations (kite_order.c). */
extern const struct hh_broker_ops hh_kite__ops;

/* The book reader thread (kite_read.c) and the socket thread (kite_ws.c). */
void *hh_kite__reader_main(void *arg);
void *hh_kite__sock_main(void *arg);
/* Wake the socket thread (subscriptions changed, stopping). */
void hh_kite__sock_poke(struct hh_kite *k);

/* GET /orders (every row of the day; malloc'd, free it) and GET
 * /orders/{id} (the last row of its history; HH_ENOTFOUND).  Not applied. */
int hh_kite__read_book(struct hh_kite *k, struct hh_kite__http *h, struct hh_kite__row **rows,
                       size_t *n, struct hh_diag *d);
int hh_kite__read_order(struct hh_kite *k, struct hh_kite__http *h, uint64_t id,
                        struct hh_kite__row *out, struct hh_diag *d);

/* Book reader: hand rows to the core (waits while too many wait). */
int hh_kite__hand_rows(struct hh_kite *k, const struct hh_kite__row *rows, size_t n);
/* Socket thread: one tick into the ring; false when full. */
bool hh_kite__push_tick(struct hh_kite *k, const struct hh_tick *t);

/* Apply rows the reader queued, derive reports into k->pending (core). */
void hh_kite__absorb(struct hh_kite *k);
/* Apply rows read on the core's thread (a query) and mark their orders. */
void hh_kite__apply_rows(struct hh_kite *k, const struct hh_kite__row *rows, size_t n);

#endif
