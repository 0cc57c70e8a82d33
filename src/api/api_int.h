/*
 * api_int.h — what the files of the API module share (prefix hh_api__).
 *
 *   server.c   the handle: configuration, start (libmicrohttpd), stop
 *   request.c  one request's life cycle: checks, reads, commands, answers
 *   routes.c   the route table (checked against docs/openapi.yaml by a test)
 *   auth.c     the allowlist (CIDR), signed requests, the read token, signing
 *   keys.c     the keys and token files: permissions, syntax, change detection
 *   nonce.c    spent nonces: an in-memory set and its append-only file
 *   cmdq.c     commands between the HTTP side and the core, published
 *              documents, the aux thread (nonce group commit, answer timeouts)
 *   metrics.c  the registry of atomics and the Prometheus text format
 *   page.c     the dashboard page (GET /)
 *   buf.c      a growing text buffer
 *
 * Locks, never nested except as written: `lock` (commands, the journal
 * list, requests held for the core), `docs_lock` (published documents),
 * keys.lock, nonces.lock.  No API lock is held while calling the wakeup or
 * log hooks or any libmicrohttpd function.
 *
 * A held request (suspended connection) is referenced from exactly one
 * place — the journal list or a command slot — and is detached from it
 * (under `lock`) before it is resumed; nothing references a request that
 * libmicrohttpd may complete.
 */
#ifndef HH_API_INT_H
#define HH_API_INT_H

#include "api/api.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>

/* ---- buf.c ------------------------------------------------------------ */

/* Text built by appending; `failed` once an allocation failed (the text
 * is then incomplete and must not be used). */
struct hh_api__buf {
    char *p;                 /* NUL-terminated when len > 0 (owned) */
    size_t len, cap;
    bool failed;
};

void hh_api__buf_put(struct hh_api__buf *b, const char *s, size_t n);
void hh_api__buf_puts(struct hh_api__buf *b, const char *s);
void hh_api__buf_printf(struct hh_api__buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* s as the inside of a JSON string (quotes, backslashes, control bytes
 * and '<' '>' '&' escaped). */
void hh_api__buf_json_str(struct hh_api__buf *b, const char *s);
void hh_api__buf_free(struct hh_api__buf *b);
/* {"error":CODE} or {"error":CODE,"detail":DETAIL}, malloc'd (NULL when out
 * of memory); *len its length. */
char *hh_api__error_json(const char *code, const char *detail, size_t *len);

/* ---- routes.c --------------------------------------------------------- */

enum hh_api__auth {
    HH_API__AUTH_NONE,       /* the allowlist only */
    HH_API__AUTH_READ,       /* read token, or signed */
    HH_API__AUTH_METRICS,    /* read token when one is configured (or signed), else none */
    HH_API__AUTH_SIGNED,     /* signed */
};

enum hh_api__handler {
    HH_API__H_LIVE, HH_API__H_READY, HH_API__H_METRICS, HH_API__H_PAGE,
    HH_API__H_DOC, HH_API__H_REPORT,
    HH_API__H_SIGNAL, HH_API__H_KILL, HH_API__H_RESUME, HH_API__H_EXIT,
};

struct hh_api__route {
    const char *method;      /* "GET" "POST" */
    const char *path;        /* "{id}" stands for one segment of 1-19 digits */
    const char *name;        /* label of hedgehog_api_requests_total */
    enum hh_api__auth auth;
    enum hh_api__handler handler;
    enum hh_api_doc doc;     /* HH_API__H_DOC */
};

extern const struct hh_api__route hh_api__routes[];
extern const size_t hh_api__nroutes;

/* The route for method and path[0..len).  NULL when none: *path_known then
 * says whether the path exists with another method (405, *allow = that
 * method) or not (404).  *id receives the {id} segment's value. */
const struct hh_api__route *hh_api__route_find(const char *method, const char *path,
                                               size_t len, bool *path_known,
                                               const char **allow, uint64_t *id);

/* ---- auth.c ----------------------------------------------------------- */

/* One allowlist entry: a network of `family` (AF_INET / AF_INET6). */
struct hh_api__net {
    int family;
    unsigned char addr[16];  /* network bytes, host bits cleared */
    int prefix;              /* 0..32 or 0..128 */
};

/* "a.b.c.d/n", "x::y/n" or a bare address (a host).  HH_EINVAL. */
int hh_api__net_parse(const char *text, struct hh_api__net *out);

/* Is sa (IPv4, IPv6, or IPv4 mapped into IPv6) inside one of nets? */
bool hh_api__net_allows(const struct hh_api__net *nets, size_t n, const struct sockaddr *sa);

/* The address of sa as text ("127.0.0.1", "::1"); "?" when unknown. */
void hh_api__addr_text(const struct sockaddr *sa, char *out, size_t cap);

/* The four headers of a signed request as received (NULL when absent). */
struct hh_api__sigreq {
    const char *key, *ts, *nonce, *sig;
    const char *method, *target;     /* target: path and query as sent */
    const void *body;
    size_t body_len;
};

/* ---- keys.c ----------------------------------------------------------- */

/* What identifies a file's version: changed by a rewrite or a rename. */
struct hh_api__fileid {
    bool exists;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtim, ctim;
};

struct hh_api__keyring {
    pthread_mutex_t lock;
    char *keys_path;                 /* owned; NULL: no keys file */
    char *token_path;                /* owned; NULL: no read token */
    struct hh_api_key *keys;         /* owned, wiped when freed */
    size_t nkeys;
    struct hh_api__fileid keys_id, token_id;
    unsigned char token_sha[32];     /* SHA-256 of the token: only the digest is kept */
    bool has_token;
    hh_api_log_fn log;               /* reload failures */
    void *log_ctx;
};

/* Read both files (either path may be NULL).  HH_ECONFIG / HH_EIO with a
 * message naming the file (and line). */
int hh_api__keys_init(struct hh_api__keyring *kr, const char *keys_path,
                      const char *token_path, hh_api_log_fn log, void *log_ctx,
                      struct hh_diag *d);
void hh_api__keys_free(struct hh_api__keyring *kr);

/* Re-read both files; on failure nothing stays valid (fail closed). */
int hh_api__keys_reload(struct hh_api__keyring *kr, struct hh_diag *d);

/* Re-read the files whose identity changed since they were read. */
void hh_api__keys_sync(struct hh_api__keyring *kr);

/* Copy key `id` into *out (the caller wipes it).  false when unknown. */
bool hh_api__keys_get(struct hh_api__keyring *kr, const char *id, struct hh_api_key *out);

/* Is a read token configured (and read successfully)? */
bool hh_api__token_configured(struct hh_api__keyring *kr);

/* Does `token` equal the read token?  Compares SHA-256 digests with
 * CRYPTO_memcmp: the time taken depends on neither the token nor its
 * length. */
bool hh_api__token_ok(struct hh_api__keyring *kr, const char *token);

/* Parse a keys file (mode and syntax checks).  *keys owned by the caller,
 * wiped with hh_api__keys_wipe.  *id may be NULL. */
int hh_api__keys_parse(const char *path, struct hh_api_key **keys, size_t *n,
                       struct hh_api__fileid *id, struct hh_diag *d);
void hh_api__keys_wipe(struct hh_api_key *keys, size_t n);

/* ---- nonce.c ---------------------------------------------------------- */

/* A spent nonce: the first 16 bytes of SHA-256(nonce), and until when a
 * request carrying it could still pass the timestamp check. */
struct hh_api__nonce {
    unsigned char d[16];
    int64_t expiry_ms;       /* 0: empty table slot */
};

struct hh_api__nonces {
    pthread_mutex_t lock;    /* the table; the file is written by the aux thread only */
    struct hh_api__nonce *tab;       /* open addressing, linear probing (owned) */
    size_t cap, n;                   /* cap a power of two; n <= cap / 2 */
    int fd;                          /* the file, O_APPEND; -1 when closed */
    char *path;                      /* owned */
    uint64_t file_bytes;             /* its size */
};

#define HH_API__NONCES_MAX  (4u << 20)   /* live nonces at most (then 503) */

/* Open (create 0600) path: keep the entries not expired at now_ms, write
 * them back compacted (temporary file, fsync, rename).  HH_EIO. */
int hh_api__nonces_open(struct hh_api__nonces *ns, const char *path, int64_t now_ms,
                        struct hh_diag *d);
void hh_api__nonces_close(struct hh_api__nonces *ns);

/* Spend `nonce` until expiry_ms: HH_OK and *claim filled, HH_EEXIST when
 * it is spent and not expired at now_ms, HH_EFULL at HH_API__NONCES_MAX,
 * HH_ENOMEM. */
int hh_api__nonces_claim(struct hh_api__nonces *ns, const char *nonce, int64_t expiry_ms,
                         int64_t now_ms, struct hh_api__nonce *claim);

/* Append the claims and fdatasync; compact the file when it holds mostly
 * expired lines.  HH_EIO with a message. */
int hh_api__nonces_write(struct hh_api__nonces *ns, const struct hh_api__nonce *v, size_t n,
                         int64_t now_ms, struct hh_diag *d);

/* ---- metrics.c -------------------------------------------------------- */

enum hh_api__mtype { HH_API__COUNTER, HH_API__GAUGE, HH_API__HISTOGRAM };

struct hh_api__metric {
    enum hh_api__mtype type;
    const char *name, *help;
    int nseries;
    char **labels;               /* per series 'k="v",…' without braces, or "" (owned) */
    char **values;               /* per series: its last label's value (owned) */
    const int64_t *bounds_ns;    /* HISTOGRAM: upper bounds, ascending */
    const char *const *bounds_text;
    int nbounds;
    /* COUNTER: the count; GAUGE: the bits of a double; HISTOGRAM: per
     * series nbounds + 2 cells — a count per bucket (not cumulative), the
     * count above the last bound, the sum of observations in ns. */
    _Atomic uint64_t *v;
};

struct hh_api__registry {
    struct hh_api__metric m[HH_API_M_COUNT];
};

int hh_api__metrics_init(struct hh_api__registry *r, const struct hh_api_config *cfg,
                         struct hh_diag *d);
void hh_api__metrics_free(struct hh_api__registry *r);
void hh_api__metrics_render(const struct hh_api__registry *r, struct hh_api__buf *b);

/* Series of API_RESPONSES for an HTTP status. */
int hh_api__status_series(int status);

/* ---- page.c ----------------------------------------------------------- */

/* The dashboard: its HTML and the Content-Security-Policy that allows
 * exactly its inline script and style (by SHA-256). */
struct hh_api__page {
    struct hh_api__buf html;
    char csp[512];
};

int hh_api__page_build(struct hh_api__page *p);
void hh_api__page_free(struct hh_api__page *p);

/* ---- server.c / cmdq.c ------------------------------------------------ */

enum hh_api__rq_state {
    HH_API__RQ_NEW,          /* headers being looked at */
    HH_API__RQ_BODY,         /* receiving the body */
    HH_API__RQ_JOURNAL,      /* held: its nonce is being made durable */
    HH_API__RQ_CORE,         /* held: a command with the core */
    HH_API__RQ_SERVE,        /* resumed to serve a read (nonce durable) */
    HH_API__RQ_ANSWER,       /* an answer is ready in status/resp */
};

/* One HTTP request, from its first line to its completion. */
struct hh_api__req {
    struct MHD_Connection *conn;
    char *target;                    /* request target as sent (owned) */
    size_t path_len;                 /* the path: target[0..path_len) */
    bool begun;                      /* the handler has seen the headers */
    bool has_body;                   /* Content-Length > 0 */
    enum hh_api__rq_state state;
    const struct hh_api__route *route;   /* NULL: none (status set) */
    const char *allow;               /* 405: the path's method */
    uint64_t path_id;                /* the route's {id} */
    char method[8];
    char client[48];
    int status;                      /* ANSWER: HTTP status */
    char *resp;                      /* ANSWER: body (owned) */
    size_t resp_len;
    char *body;                      /* request body (owned) */
    size_t body_len, body_cap;
    char key_id[HH_API_KEY_ID_MAX + 1];  /* the signer */
    struct hh_api__nonce claim;      /* its nonce, for the journal */
    int64_t received_ms;
    bool draining;                   /* answered by the stop: counted in a->draining */
    /* the command a POST becomes */
    enum hh_api_cmd_kind kind;
    enum hh_api_kill_action action;
    char reason[HH_API_REASON_MAX + 1];
    struct hh_api__req *next;        /* journal list */
};

/* A command slot between the HTTP side and the core. */
struct hh_api__slot {
    uint64_t id;                     /* (sequence << 16) | index; 0 when free */
    bool taken;                      /* the core has it (else queued) */
    struct hh_api__req *req;         /* the held request; NULL once answered by a timeout */
    int64_t deadline_ms;
};

/* A refusal waiting for the core. */
struct hh_api__refusal {
    uint64_t seq;
    enum hh_api_refusal code;
    int64_t at_ms;
    char method[8];
    char path[HH_API_PATH_MAX + 1];
    char client[48];
};

/* A published document. */
struct hh_api__doc {
    char *data;                      /* owned; NULL before the first publish */
    size_t len, cap;
};

#define HH_API__REFUSALS_CAP 256

struct hh_api {
    struct hh_api_config cfg;        /* string and array fields are NULL: see below */
    char *listen, *version, *report_dir, *nonce_path;   /* owned copies */
    struct hh_api__net *allow;       /* owned */
    size_t nallow;
    struct hh_api__keyring keys;
    struct hh_api__nonces nonces;
    struct hh_api__registry reg;
    struct hh_api__page page;

    pthread_mutex_t docs_lock;
    struct hh_api__doc docs[HH_API_DOC_COUNT];
    struct hh_api__doc health, report;
    bool health_ready;
    char report_date[11];

    pthread_mutex_t lock;
    pthread_cond_t cond;             /* wakes the aux thread */
    struct hh_api__slot *slots;      /* [cfg.queue_cap] */
    uint64_t *fifo;                  /* ids in queue order (ring of queue_cap) */
    unsigned fifo_head, fifo_n;
    unsigned *free_slots;            /* stack of free indices */
    unsigned nfree;
    struct hh_api__refusal refusals[HH_API__REFUSALS_CAP];   /* ring */
    unsigned ref_head, ref_n;
    uint64_t seq;                    /* last sequence number given */
    struct hh_api__req *journal, *journal_tail;   /* waiting for the nonce file */
    bool stopping;
    bool aux_running;
    pthread_t aux;

    /* The core's heartbeat, kept off its hot path: it counts its polls
     * (hh_api_next_command) without a clock or a lock; the aux thread,
     * which looks at least every 250 ms, stamps last_poll_ms when the
     * count moved.  `queued`: a command or refusal may wait (set under
     * lock; the core takes the lock only then). */
    _Atomic uint64_t core_polls;
    uint64_t polls_seen;             /* aux thread only: the count last seen */
    _Atomic int64_t last_poll_ms;
    _Atomic bool queued;
    _Atomic int draining;            /* requests answered by the stop, not yet sent */
    struct MHD_Daemon *mhd;
    int port;
    struct MHD_Response *live_resp, *page_resp;   /* shared, persistent */
};

int64_t hh_api__now_ms(const struct hh_api *a);

/* YYYY-MM-DD: digits and dashes in place (the calendar is not checked). */
bool hh_api__date_ok(const char *s);

/* cmdq.c */
int hh_api__cmdq_init(struct hh_api *a);
void hh_api__cmdq_free(struct hh_api *a);
int hh_api__aux_start(struct hh_api *a);
/* Set stopping, answer 503 SHUTTING_DOWN to every held request, join the
 * aux thread.  After it, no request is suspended; a->draining counts the
 * answers not yet sent. */
void hh_api__aux_stop(struct hh_api *a);
/* Hold r (already suspended) until its nonce is durable; false when
 * stopping (r then has an ANSWER and must be resumed by the caller). */
bool hh_api__journal_push(struct hh_api *a, struct hh_api__req *r);
/* Report a refusal to the core, or count it dropped. */
void hh_api__refusal_push(struct hh_api *a, const struct hh_api__req *r,
                          enum hh_api_refusal code);
/* Give r an answer (takes ownership of body, may be NULL for {}). */
void hh_api__req_answer(struct hh_api__req *r, int status, char *body, size_t len);
/* Copies of published documents for a response: *out malloc'd, NULL when
 * not published yet.  HH_ENOMEM. */
int hh_api__doc_copy(struct hh_api *a, enum hh_api_doc which, char **out, size_t *len);
int hh_api__health_copy(struct hh_api *a, char **out, size_t *len, bool *ready);
/* The report of `date` (NULL: the latest), if that is the published one. */
int hh_api__report_copy(struct hh_api *a, const char *date, char **out, size_t *len);

/* auth.c: check a signed request (SPEC §12 order) and spend its nonce.
 * Returns HH_API__VERIFY_OK (key_id and *claim set), HH_API__VERIFY_NOROOM
 * (the nonce could not be recorded: 503), else the refusal code. */
#define HH_API__VERIFY_OK      (-1)
#define HH_API__VERIFY_NOROOM  (-2)
int hh_api__verify(struct hh_api *a, const struct hh_api__sigreq *s, int64_t now_ms,
                   char key_id[HH_API_KEY_ID_MAX + 1], struct hh_api__nonce *claim);

/* request.c: the libmicrohttpd callbacks */
void *hh_api__on_uri(void *cls, const char *uri, struct MHD_Connection *c);
void hh_api__on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                          enum MHD_RequestTerminationCode toe);
enum MHD_Result hh_api__on_request(void *cls, struct MHD_Connection *c, const char *url,
                                   const char *method, const char *version,
                                   const char *upload, size_t *upload_size, void **con_cls);

#endif
