/*
 * ks.h — the local Kite Connect v3 server for tests (tests/kite/, built as
 * build/kite/kite_server): REST and WebSocket as Kite documents them,
 * backed by the simulated exchange (src/broker/simex.h) and driven by a
 * ticks file, with switchable faults and records the tests check.
 *
 *   ks_main.c   options, the event loop, tick replay, the control endpoint
 *   ks_net.c    connections: TCP, TLS (OpenSSL), HTTP/1.1, WebSocket frames
 *   ks_api.c    the Kite REST endpoints and the socket's messages
 *   ks_exch.c   the order book over the simulated exchange: statuses,
 *               history, trades, positions, order updates, faults, records
 *
 * One thread: everything runs in the poll loop of ks_main.c.  Prefix ks_.
 */
#ifndef KS_H
#define KS_H

#include "broker/simex.h"
#include "core/instrument.h"
#include "market/mdfile.h"

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define KS_TAG_MAX 24
#define KS_MSG_MAX 128

/* ---- buffers ----------------------------------------------------------- */

struct ks_buf {
    char *p;
    size_t n, cap;
};

void ks_buf_put(struct ks_buf *b, const void *p, size_t n);
void ks_buf_printf(struct ks_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* JSON string (quoted, escaped). */
void ks_buf_jstr(struct ks_buf *b, const char *s);
/* A fixed-point price as a JSON number ("101.25", "0"). */
void ks_buf_price(struct ks_buf *b, hh_price_t v);
void ks_buf_drop(struct ks_buf *b, size_t n);     /* remove the first n bytes */
void ks_buf_free(struct ks_buf *b);

/* ---- connections (ks_net.c) ------------------------------------------------ */

struct ks_sub {
    uint32_t token;
    int mode;                       /* 0 ltp, 1 quote, 2 full */
};

struct ks_conn {
    int fd;
    SSL *ssl;
    bool tls_ready;                 /* handshake done (or no TLS) */
    bool ws;                        /* upgraded to a WebSocket */
    bool closing;                   /* close once `out` is written */
    bool dead;
    int64_t hold_until;             /* answer withheld (fault): close then */
    struct ks_buf in, out;
    struct ks_sub *subs;
    size_t nsubs, capsubs;
    int64_t opened;
};

/* A parsed HTTP request (pointers into the connection's input). */
struct ks_req {
    char method[8];
    char path[512];                 /* without the query */
    char query[512];
    char auth[300];
    char version[8];                /* X-Kite-Version */
    char ctype[64];
    char wskey[64];
    bool upgrade;
    const char *body;
    size_t blen;
};

/* HTTP answers and WebSocket frames appended to a connection. */
void ks_http_answer(struct ks_conn *c, int status, const char *ctype, const char *body,
                    size_t n);
void ks_ws_send(struct ks_conn *c, int opcode, const void *p, size_t n);
/* Answer an upgrade request: 101 with the accept key; c becomes a socket. */
void ks_ws_accept(struct ks_conn *c, const char *key);

/* ---- the server state -------------------------------------------------------- */

struct ks_faults {
    int p429;                       /* % of order calls answered 429: exactly
                                       that share, spread evenly (not drawn,
                                       so a short run still meets some) */
    int p503;                       /* % of calls answered 503, no effect */
    int place_timeout;              /* % of placements: order made, answer held */
    int place_drop;                 /* % of placements: order made, connection cut */
    int place_5xx;                  /* % of placements: order made, 503 answered */
    int ws_drop, ws_dup, ws_reorder;   /* % of order updates */
    int64_t ws_cut_every;           /* ns: close every socket this often (0 off) */
    int64_t hold;                   /* ns an answer is held (place_timeout) */
    int64_t book_lag;               /* ns a new order is missing from GET /orders */
    int64_t transient;              /* ns orders stay in transient statuses */
};

struct ks_order;
struct ks_pos;

/* The market of one instrument as the ticks made it. */
struct ks_mkt {
    hh_price_t last, open, high, low, close, bid, ask;
    hh_qty_t last_qty, volume;
    int64_t ts;                     /* realtime ns of the last tick */
};

struct ks_server {
    struct hh_instruments *inst;
    struct hh_clock clock;
    struct hh_simex *ex;
    struct hh_broker exb;
    const char *instruments_path;
    char api_key[128], token[128], api_secret[128], user[32];
    bool token_expired;
    hh_money_t capital;
    struct ks_faults f;
    uint64_t rng;

    struct ks_order *orders;        /* id = base + index */
    size_t norders, caporders;
    uint64_t order_base;
    uint64_t next_trade;
    struct ks_pos *pos;             /* by iid */
    struct ks_mkt *mkt;             /* by iid */
    size_t npos;
    struct ks_buf trades;           /* JSON objects, comma-separated */
    size_t ntrades;

    struct ks_conn **conns;
    size_t nconns, capconns;
    struct ks_buf held_update;      /* a reordered update waiting */
    bool have_held;

    /* records the tests check */
    int64_t *call_ns;               /* order calls received (realtime ns) */
    size_t ncalls, capcalls;
    struct ks_buf placements;       /* JSON objects */
    uint64_t nplacements, created, unprotected;
    struct ks_buf subscriptions;    /* JSON objects: each subscribe / unsubscribe
                                       message of a socket, as received */
    uint64_t nsubscriptions;
    uint64_t updates_sent, updates_dropped, updates_duplicated, updates_reordered;
    uint64_t ws_cuts, limited, faults_fired;
    int p429_acc;                   /* the p429 share's running remainder */
    int64_t last_calls_ns[64];      /* recent order calls: the 10/s limit */
    int64_t last_other_ns[64];
    bool quit;
};

/* ---- the exchange (ks_exch.c) ------------------------------------------------ */

int ks_exch_init(struct ks_server *s);
void ks_exch_free(struct ks_server *s);
/* Progress transient orders whose time came; ns until the next one. */
int64_t ks_exch_due(struct ks_server *s);
void ks_exch_tick(struct ks_server *s, const struct hh_tick *t);
/* The market of iid (NULL before its first tick). */
const struct ks_mkt *ks_exch_mkt(const struct ks_server *s, hh_iid_t iid);

/* Placement from a form; *status / body filled (Kite envelope). */
struct ks_form;
int ks_exch_place(struct ks_server *s, const struct ks_form *f, struct ks_buf *body,
                  int *fault);
int ks_exch_modify(struct ks_server *s, uint64_t id, const struct ks_form *f,
                   struct ks_buf *body);
int ks_exch_cancel(struct ks_server *s, uint64_t id, struct ks_buf *body);
int ks_exch_orders(struct ks_server *s, struct ks_buf *body);
int ks_exch_history(struct ks_server *s, uint64_t id, struct ks_buf *body);
int ks_exch_order_trades(struct ks_server *s, uint64_t id, struct ks_buf *body);
int ks_exch_trades(struct ks_server *s, struct ks_buf *body);
int ks_exch_positions(struct ks_server *s, struct ks_buf *body);
int ks_exch_margins(struct ks_server *s, struct ks_buf *body);
int ks_exch_basket(struct ks_server *s, const char *json, size_t n, struct ks_buf *body);
/* Control: the broker cancels working orders of a symbol (all when NULL);
 * closes a position outside the engine. */
int ks_exch_broker_cancel(struct ks_server *s, const char *symbol);
int ks_exch_close_position(struct ks_server *s, const char *symbol);
int ks_exch_check(struct ks_server *s, struct ks_buf *body);
int ks_exch_records(struct ks_server *s, struct ks_buf *body);

/* ---- forms (ks_api.c) --------------------------------------------------------- */

#define KS_FORM_MAX 32
struct ks_form {
    int n;
    char key[KS_FORM_MAX][40];
    char val[KS_FORM_MAX][128];
};

int ks_form_parse(const char *s, size_t n, struct ks_form *f);
const char *ks_form_get(const struct ks_form *f, const char *key);

/* An error envelope with its HTTP status (returned). */
int ks_error(struct ks_buf *body, int status, const char *type, const char *msg);
/* A success envelope around data (JSON text). */
void ks_success(struct ks_buf *body, const char *data, size_t n);

/* Serve one HTTP request; `c` may be upgraded to a WebSocket. */
void ks_api_request(struct ks_server *s, struct ks_conn *c, const struct ks_req *r);
/* A text frame from a WebSocket client (subscribe, mode, ...). */
void ks_api_ws_text(struct ks_server *s, struct ks_conn *c, const char *p, size_t n);
/* Order update to every socket (faults applied). */
void ks_api_order_update(struct ks_server *s, const char *json, size_t n);
/* Ticks to subscribers. */
void ks_api_broadcast_tick(struct ks_server *s, const struct hh_tick *t);

/* ---- the loop (ks_main.c) ------------------------------------------------------- */

int64_t ks_mono(void);
int64_t ks_real(void);
/* 0..99, from the seeded PRNG. */
int ks_pct(struct ks_server *s);

/* ks_net.c: the connection set and I/O. */
int ks_net_listen(const char *host, int port, int *bound);
int ks_net_tls_init(const char *cert, const char *key);
struct ks_conn *ks_net_accept(struct ks_server *s, int lfd);
void ks_net_io(struct ks_server *s, struct ks_conn *c, short revents);
void ks_net_close(struct ks_server *s, struct ks_conn *c);
short ks_net_events(const struct ks_conn *c);

#endif
