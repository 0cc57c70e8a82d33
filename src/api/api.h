/*
 * api.h — the operations API of `hedgehog run` (SPEC §12): an HTTP server
 * (libmicrohttpd) on threads of its own, in front of a core that is
 * single-threaded, never blocks and takes no lock of ours for longer than
 * a copy.
 *
 *            HTTP threads (MHD pool) + one aux thread        core thread
 *   GET  ──▶ allow / auth ──▶ latest published copy   ◀── hh_api_publish()
 *   POST ──▶ allow / auth ──▶ nonce made durable (aux) ──▶ command queue
 *                 request held (MHD suspend)               hh_api_next_command()
 *            answer sent   ◀── hh_api_answer(id, status, json) ◀── (effect durable)
 *   /metrics ◀── registry of atomics                   ◀── hh_api_count() ...
 *
 * What crosses, and what it costs the core:
 *   - Documents (status, positions, orders, trades, fills, alerts, health,
 *     the daily report) are published whole: one memcpy into a slot under
 *     the API's mutex.  A GET serves the latest copy; before the first
 *     publish it answers 503 NOT_READY.
 *   - POSTs become commands in a bounded queue the core polls without
 *     blocking.  The request is held until hh_api_answer() or the answer
 *     timeout (503 TIMEOUT; a command the core had not taken by then is
 *     withdrawn and never delivered).  `wakeup` is called (from an API
 *     thread, never under an API lock) whenever something is queued.
 *   - Refusals (403/401) reach the core as REFUSED commands through the
 *     same queue so it can audit them (API_REFUSED); they are never
 *     answered and, when their ring is full, dropped and counted instead
 *     of blocking an HTTP thread.
 *   - Metrics are atomics (relaxed): the core's updates take no lock.
 *
 * Authentication (SPEC §12): the allowlist first (403 FORBIDDEN_ADDRESS),
 * then per route: none, the read token (GETs under /api/v1 and /metrics
 * when a token is configured; a signature is accepted instead), or a
 * signature (POSTs).  Refusal codes in their order: MISSING_AUTH,
 * UNKNOWN_KEY, STALE_TIMESTAMP, BAD_SIGNATURE, REPLAYED_NONCE; the nonce
 * is spent only by a request whose signature is good, and written to the
 * nonce file (fdatasync, group commit on the aux thread) before the
 * request goes further, so a restart reopens no replay.  Secrets are
 * compared in constant time (CRYPTO_memcmp) and never appear in a log,
 * an error or a command.
 *
 * Threads: everything here may be called from the core's thread while the
 * server runs; hh_api_new/start/free from the thread that owns the handle.
 * Every function taking `struct hh_api *` accepts NULL as "no API
 * configured" and then does nothing (returns 0 / false), so the core calls
 * them unconditionally.
 */
#ifndef HH_API_H
#define HH_API_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HH_API_BODY_MAX      (64 * 1024)  /* largest request body accepted */
#define HH_API_KEY_ID_MAX    64           /* characters of a key id */
#define HH_API_SECRET_MIN    32           /* bytes of a secret */
#define HH_API_SECRET_MAX    128
#define HH_API_REASON_MAX    256          /* bytes of a command's "reason" */
#define HH_API_PATH_MAX      256          /* bytes of a path kept in a command */

struct hh_api;

enum hh_api_log_level { HH_API_LOG_INFO, HH_API_LOG_WARN, HH_API_LOG_ERROR };

/* A log line from an API thread (key reloads, nonce file failures).  `event`
 * is a static snake_case name, `msg` never holds a secret.  Called without
 * any API lock held; must be thread-safe. */
typedef void (*hh_api_log_fn)(void *ctx, enum hh_api_log_level level, const char *event,
                              const char *msg);
/* Called from an API thread after a command was queued; must not block
 * (signal a condition variable, write an eventfd). */
typedef void (*hh_api_wakeup_fn)(void *ctx);
/* The wall clock in ms since the Unix epoch (tests inject one). */
typedef int64_t (*hh_api_clock_fn)(void *ctx);

/*
 * Configuration.  Strings and arrays are copied by hh_api_new(): nothing is
 * borrowed afterwards.  Zero numbers take the defaults in brackets.
 */
struct hh_api_config {
    const char *listen;              /* "127.0.0.1:8089", "[::1]:8089"; port 0 = any free port */
    const char *const *allow;        /* client CIDRs, IPv4 and IPv6 ("127.0.0.1/32", "::1/128") */
    size_t nallow;
    const char *keys_file;           /* "KEY_ID SECRET_HEX" per line, mode 0600 or stricter;
                                        NULL: no key (every signed request UNKNOWN_KEY) */
    const char *read_token_file;     /* one token; NULL: reads must be signed, /metrics open */
    const char *nonce_file;          /* spent nonces (e.g. "<db>.nonces"); required with keys_file */
    const char *report_dir;          /* daily reports YYYY-MM-DD.json; NULL: only the published one */
    const char *version;             /* hedgehog_build_info{version}; NULL: "dev" */
    const char *const *underlyings;  /* label values of hedgehog_unhedged_exposure_units */
    size_t nunderlyings;
    int window_s;                    /* [300] |now - X-HH-Timestamp| allowed, s */
    size_t body_max;                 /* [HH_API_BODY_MAX] 413 above; at most HH_API_BODY_MAX */
    unsigned conn_max;               /* [1000] connections at once (also capped by RLIMIT_NOFILE) */
    unsigned conn_timeout_s;         /* [10] an idle or slow connection is closed after this */
    unsigned answer_timeout_ms;      /* [5000] 503 TIMEOUT when the core has not answered */
    unsigned queue_cap;              /* [256] commands queued or with the core */
    unsigned threads;                /* [2] HTTP threads */
    hh_api_wakeup_fn wakeup;         /* may be NULL */
    void *wakeup_ctx;
    hh_api_log_fn log;               /* may be NULL: no log */
    void *log_ctx;
    hh_api_clock_fn clock;           /* NULL: CLOCK_REALTIME */
    void *clock_ctx;
};

/*
 * Check the configuration, read the keys and token files (refused when
 * readable or writable by group or others, or malformed: the message names
 * the file and line, never its content), open the nonce file (entries
 * older than the window dropped, the file compacted), build the metrics
 * registry.  Nothing listens yet.  *out is owned by the caller
 * (hh_api_free).  HH_ECONFIG / HH_EIO / HH_ENOMEM with a message in d.
 */
int hh_api_new(const struct hh_api_config *cfg, struct hh_api **out, struct hh_diag *d);

/* Bind exactly cfg->listen and start the HTTP and aux threads.  HH_EIO when
 * the address cannot be bound (message names it). */
int hh_api_start(struct hh_api *a, struct hh_diag *d);

/* The bound TCP port (after hh_api_start), else 0. */
int hh_api_port(const struct hh_api *a);

/* Re-read the keys and token files now (SIGHUP).  On failure the previous
 * keys are dropped (every signed request is refused until a good file is
 * read) and the error is returned with a message.  The files are also
 * re-read by the request that first sees them changed (inode, size, mtime). */
int hh_api_reload(struct hh_api *a, struct hh_diag *d);

/* Stop serving: held requests are answered 503 SHUTTING_DOWN, the threads
 * joined, every secret wiped.  Accepts NULL. */
void hh_api_free(struct hh_api *a);

/* ---- documents the core publishes ------------------------------------ */

enum hh_api_doc {
    HH_API_DOC_STATUS,       /* GET /api/v1/status */
    HH_API_DOC_POSITIONS,    /* GET /api/v1/positions */
    HH_API_DOC_ORDERS,       /* GET /api/v1/orders */
    HH_API_DOC_TRADES,       /* GET /api/v1/trades */
    HH_API_DOC_FILLS,        /* GET /api/v1/fills */
    HH_API_DOC_ALERTS,       /* GET /api/v1/alerts */
    HH_API_DOC_COUNT
};

/* Copy json[0..len) (one JSON document, shapes in docs/API.md) as the
 * latest `which`.  The copy is taken under the API's mutex; json is
 * borrowed for the call only.  HH_EINVAL for an unknown doc, HH_ENOMEM. */
int hh_api_publish(struct hh_api *a, enum hh_api_doc which, const char *json, size_t len);

/* GET /health/ready: `ready` chooses 200 or 503, json is the body
 * ({"status":"UP"|"DOWN","components":{…}}). */
int hh_api_publish_health(struct hh_api *a, bool ready, const char *json, size_t len);

/* GET /api/v1/report/daily: the report of `date` (YYYY-MM-DD), served for
 * that date and when no date is asked.  Other dates are read from
 * cfg->report_dir.  HH_EINVAL for a malformed date. */
int hh_api_publish_report(struct hh_api *a, const char *date, const char *json, size_t len);

/* ---- commands --------------------------------------------------------- */

enum hh_api_cmd_kind {
    HH_API_CMD_SIGNAL,       /* POST /api/v1/signals: body = one signal (valid JSON) */
    HH_API_CMD_KILL,         /* POST /api/v1/kill: action, reason */
    HH_API_CMD_RESUME,       /* POST /api/v1/resume: reason */
    HH_API_CMD_EXIT_TRADE,   /* POST /api/v1/trades/{id}/exit: trade_id, reason */
    HH_API_CMD_REFUSED,      /* a refused request, to audit: refusal, method, path,
                                client; never answered */
};

enum hh_api_kill_action {
    HH_API_KILL_PAUSE,
    HH_API_KILL_REDUCE,
    HH_API_KILL_HALT,
    HH_API_KILL_FLATTEN,
};

/* Refusal codes, in the order they are checked (SPEC §12). */
#define HH_API_REFUSALS(X)   \
    X(FORBIDDEN_ADDRESS)     \
    X(MISSING_AUTH)          \
    X(UNKNOWN_KEY)           \
    X(STALE_TIMESTAMP)       \
    X(BAD_SIGNATURE)         \
    X(REPLAYED_NONCE)

enum hh_api_refusal {
#define HH__API_REF_ENUM(name) HH_API_REF_##name,
    HH_API_REFUSALS(HH__API_REF_ENUM)
#undef HH__API_REF_ENUM
    HH_API_REF_COUNT
};

const char *hh_api_refusal_name(enum hh_api_refusal r);       /* "BAD_SIGNATURE" */
const char *hh_api_kill_action_name(enum hh_api_kill_action k); /* "flatten" */

/* One command.  Large (the body is inline): the core keeps one and reuses
 * it; every string is NUL-terminated and never holds a secret. */
struct hh_api_command {
    uint64_t id;                          /* pass to hh_api_answer (not for REFUSED) */
    enum hh_api_cmd_kind kind;
    int64_t received_ms;                  /* wall clock when the request was complete */
    char client[48];                      /* client address, "127.0.0.1", "::1" */
    char key_id[HH_API_KEY_ID_MAX + 1];   /* the signer; empty for REFUSED */
    char method[8];                       /* "POST" (REFUSED: the refused method) */
    char path[HH_API_PATH_MAX + 1];       /* path without the query, printable ASCII */
    enum hh_api_refusal refusal;          /* REFUSED */
    enum hh_api_kill_action action;       /* KILL */
    uint64_t trade_id;                    /* EXIT_TRADE */
    char reason[HH_API_REASON_MAX + 1];   /* KILL, RESUME, EXIT_TRADE: "reason" or "" */
    size_t body_len;                      /* SIGNAL: the body, as received */
    char body[HH_API_BODY_MAX + 1];
};

/* Take the oldest command into *out (copied; nothing borrowed).  Never
 * blocks; false when there is none.  Each call also tells the API the core
 * is alive (hedgehog_core_poll_age_seconds, to within 250 ms): call it at
 * least once a second.  Call it from one thread only (the core).  With
 * nothing queued it reads no clock and takes no lock: cheap enough for
 * every turn of the event loop. */
bool hh_api_next_command(struct hh_api *a, struct hh_api_command *out);

/*
 * Answer command `id` (once its effect is durable) with an HTTP status and
 * a JSON body (copied; NULL: {}).  HH_ENOTFOUND when nobody waits for it
 * any more (timed out, client gone, unknown id): the effect stands, only
 * the answer is lost — which is why the timeout's 503 says "outcome
 * unknown" for a command the core had taken.
 */
int hh_api_answer(struct hh_api *a, uint64_t id, int http_status, const char *json);

/* ---- metrics ---------------------------------------------------------- */

/*
 * Every metric /metrics shows, in order.  X(ID, TYPE, NAME, HELP).  Label
 * sets are fixed when the API is created (series 0..n-1, listed in
 * docs/API.md); look a series up once with hh_api_series().  Where the
 * labels follow an engine enum, the series index is that enum's value:
 *   SIGNALS        reason = enum hh_sig_reason (0 NONE: decision ACCEPTED)
 *   BREAKER_STATE  state  = enum hh_breaker_state
 * COUNTER adds, GAUGE sets (STATE: hh_api_state sets one series to 1 and
 * the others to 0), HISTOGRAM observes a duration in ns.
 */
#define HH_API_METRICS(X)                                                                   \
    X(BUILD_INFO, GAUGE, "hedgehog_build_info",                                            \
      "Build of the running engine (always 1).")                                           \
    X(SIGNALS, COUNTER, "hedgehog_signals_total",                                          \
      "Signals decided, by decision and rejection reason.")                                \
    X(ORDERS, COUNTER, "hedgehog_orders_total",                                            \
      "Orders by result: SENT to the broker, then FILLED, CANCELLED, REJECTED or EXPIRED.") \
    X(FILLS, COUNTER, "hedgehog_fills_total", "Executions applied to orders.")            \
    X(OPEN_POSITIONS, GAUGE, "hedgehog_open_positions", "Symbols with a non-zero position.") \
    X(UNHEDGED_EXPOSURE, GAUGE, "hedgehog_unhedged_exposure_units",                        \
      "Option units sold without the protecting long, per underlying.")                    \
    X(HEDGE_LAG, HISTOGRAM, "hedgehog_hedge_lag_seconds",                                  \
      "Time a group's exposure stayed unhedged before its hedge filled.")                  \
    X(MARGIN_UTILISATION, GAUGE, "hedgehog_margin_utilisation_ratio",                      \
      "Worst-case margin in use over margin available (0..1).")                            \
    X(RECONCILE_DIVERGENCES, COUNTER, "hedgehog_reconcile_divergences_total",              \
      "Differences found between the engine and the broker.")                              \
    X(BREAKER_STATE, GAUGE, "hedgehog_breaker_state",                                      \
      "Broker circuit breaker: 1 for the current state.")                                  \
    X(SL_MARKET_FALLBACKS, COUNTER, "hedgehog_stop_loss_market_fallbacks_total",           \
      "Stop-losses whose limit order timed out and were sent at market.")                  \
    X(SIGNAL_ORDER_LATENCY, HISTOGRAM, "hedgehog_signal_to_order_latency_seconds",         \
      "From a signal's receipt to its entry order's placement.")                           \
    X(STORE_COMMIT_LATENCY, HISTOGRAM, "hedgehog_store_commit_latency_seconds",            \
      "From a record's submission to its commit.")                                         \
    X(MARKET_DATA_LAG, GAUGE, "hedgehog_market_data_lag_seconds",                          \
      "Wall clock minus the exchange time of the last tick received.")                     \
    X(MARKET_OPEN, GAUGE, "hedgehog_market_session_open",                                  \
      "1 while a traded session is open (market data expected).")                          \
    X(KILL_SWITCH_STATE, GAUGE, "hedgehog_kill_switch_state",                              \
      "Trading state set by the kill switch: 1 for the current state.")                    \
    X(COMPONENT_UP, GAUGE, "hedgehog_component_up",                                        \
      "1 when a component of /health/ready is UP.")                                        \
    X(API_REFUSED, COUNTER, "hedgehog_api_refused_total",                                  \
      "API requests refused by the allowlist or authentication, by code.")                 \
    X(API_REQUESTS, COUNTER, "hedgehog_api_requests_total", "API requests by route.")      \
    X(API_RESPONSES, COUNTER, "hedgehog_api_responses_total",                              \
      "API responses by HTTP status.")                                                     \
    X(API_EVENTS_DROPPED, COUNTER, "hedgehog_api_refusal_events_dropped_total",            \
      "Refusals not reported to the engine because its queue was full.")                   \
    X(API_TIMEOUTS, COUNTER, "hedgehog_api_command_timeouts_total",                        \
      "Commands the engine did not answer in time (503).")                                 \
    X(API_NONCE_ERRORS, COUNTER, "hedgehog_api_nonce_store_errors_total",                  \
      "Failures to make a nonce durable (the request was refused with 503).")              \
    X(API_CONNECTIONS, GAUGE, "hedgehog_api_connections", "Open HTTP connections.")       \
    X(CORE_POLL_AGE, GAUGE, "hedgehog_core_poll_age_seconds",                              \
      "Time since the engine last polled the API for commands.")

enum hh_api_metric {
#define HH__API_M_ENUM(id, type, name, help) HH_API_M_##id,
    HH_API_METRICS(HH__API_M_ENUM)
#undef HH__API_M_ENUM
    HH_API_M_COUNT
};

/* The series of metric m whose (last) label has `value`, e.g.
 * (ORDERS, "FILLED"), (UNHEDGED_EXPOSURE, "NIFTY"), (COMPONENT_UP,
 * "store"); 0 for a metric without labels; HH_ENOTFOUND otherwise. */
int hh_api_series(const struct hh_api *a, enum hh_api_metric m, const char *value);

/* Updates (lock-free).  A wrong type or series is the caller's bug
 * (HH_ASSERT). */
void hh_api_count(struct hh_api *a, enum hh_api_metric m, int series, uint64_t n);
void hh_api_gauge(struct hh_api *a, enum hh_api_metric m, int series, double v);
void hh_api_state(struct hh_api *a, enum hh_api_metric m, int series);
void hh_api_observe_ns(struct hh_api *a, enum hh_api_metric m, int series, int64_t ns);

/* The Prometheus text exposition, as GET /metrics serves it, into a
 * malloc'd buffer the caller frees.  HH_ENOMEM. */
int hh_api_metrics_render(struct hh_api *a, char **out, size_t *len);

/* ---- signing (the `hedgehog api` client, tests) ----------------------- */

struct hh_api_key {
    char id[HH_API_KEY_ID_MAX + 1];
    unsigned char secret[HH_API_SECRET_MAX];
    size_t secret_len;
};

/* Read key `id` (NULL: the first) from a keys file, with the server's
 * checks (mode, syntax).  The caller wipes *out (OPENSSL_cleanse) after
 * use.  HH_EIO / HH_ECONFIG / HH_ENOTFOUND with a message naming the file
 * and line, never a secret. */
int hh_api_key_read(const char *path, const char *id, struct hh_api_key *out,
                    struct hh_diag *d);

/* sig = lowercase hex HMAC-SHA256(secret, ts "\n" nonce "\n" method "\n"
 * target "\n" hex(SHA-256(body))) — SPEC §12; target is the path and query
 * as sent.  body may be NULL when len is 0.  HH_EINVAL on a failure of
 * the crypto library. */
int hh_api_sign(const struct hh_api_key *k, const char *ts, const char *nonce,
                const char *method, const char *target, const void *body, size_t len,
                char sig[65]);

#endif
