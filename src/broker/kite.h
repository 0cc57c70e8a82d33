/*
 * kite.h — the Zerodha Kite Connect v3 broker adapter (SPEC §13, DOMAIN §8):
 * orders over REST, order updates and market data over the WebSocket, behind
 * struct hh_broker.
 *
 * Threads.  Broker operations (place, modify, cancel, find, status, orders,
 * positions, funds) are synchronous REST calls made on the caller's thread
 * (the core's).  hh_kite_start() adds two threads: the socket thread (order
 * updates, ticks, reconnect with exponential backoff) and the book reader,
 * which answers every order update by reading the order book.  An update is
 * only a prompt: reports are derived from the book's cumulative
 * filled_quantity and status, so duplicated, reordered and missing updates
 * change nothing.  Reports are delivered by the broker's pump() on the core's
 * thread (ops->next_due says when); the wake callback tells the core that
 * something was queued.  Ticks wait in a bounded ring: hh_kite_next_tick().
 *
 * Client order ids are Kite's `tag`: 1 to 20 characters of [a-z0-9] (the
 * engine's ids, e.g. "h12e3").  Upper-case letters are the adapter's: an
 * order above its instrument's freeze quantity goes out as slices tagged
 * ID, IDS2, IDS3, ... (see place below), so a slice's tag can never be
 * another engine order's id, and no tag is ever placed twice.
 *
 * Errors (every call; the message of the last failed operation on the
 * core's thread: hh_kite_errmsg()):
 *   HH_EAUTH     TokenException: order calls are refused without a request
 *                until the access-token file changes (the daily login)
 *   HH_EBROKER   the broker refused (InputException, OrderException,
 *                MarginException, UserException, PermissionException): the
 *                broker's message is in hh_kite_errmsg()
 *   HH_ETIMEOUT  the outcome is unknown (a timeout, a dropped connection,
 *                NetworkException, DataException, GeneralException, 5xx):
 *                for a placement, look the tag up (find) before placing
 *                again — never place it blindly
 *   HH_EUNAVAIL  not processed: the connection could not be made, or the
 *                rate limit answered 429 beyond the retries
 *   HH_ESTATE    modify/cancel of an order that has ended ("too late")
 *   HH_EINVAL    a request the adapter refuses before sending it (bad tag,
 *                index instrument, unknown instrument, price not on the
 *                wire's precision)
 *   HH_ERANGE    a quantity change a sliced order cannot make
 *
 * Numbers: prices and money go from the JSON number's text into fixed-point
 * (never through double); tick prices from integer paise.
 */
#ifndef HH_KITE_H
#define HH_KITE_H

#include "broker/broker.h"
#include "core/calendar.h"
#include "core/err.h"
#include "core/instrument.h"
#include "core/model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum hh_kite_product { HH_KITE_MIS, HH_KITE_NRML, HH_KITE_CNC };

/* Tick stream modes: ltp (last price), quote (+ volume, OHLC), full
 * (+ exchange time, open interest, five levels of depth). */
enum hh_kite_mode { HH_KITE_LTP, HH_KITE_QUOTE, HH_KITE_FULL };

/*
 * Configuration (SPEC §13 broker.kite.*; tests fill it directly).  Strings
 * are copied by hh_kite_new(): the struct need not outlive the adapter.
 */
struct hh_kite_config {
    const char *api_url;            /* "https://api.kite.trade"; http:// only
                                       on a loopback address */
    const char *ws_url;             /* "wss://ws.kite.trade"; ws:// only on
                                       loopback; NULL or "": no socket (orders
                                       then rely on the book reader's polls) */
    const char *api_key_file;       /* secret files: one line; refused when */
    const char *access_token_file;  /* readable by group or others */
    enum hh_kite_product product;   /* MIS, NRML or CNC: orders and positions */
    int market_protection;          /* sent with MARKET and SL-M: -1 (the
                                       broker's automatic protection) or a
                                       percentage 1..100 */
    int orders_per_second;          /* 1..100: every order call, paced */
    int orders_per_minute;          /* orders_per_second..1000: and in any
                                       minute */
    int timeout_ms;                 /* per REST call, 100..120000 */
    const char *account;            /* the broker's user id; NULL: not checked
                                       (hh_kite_start compares it with
                                       GET /user/profile) */
    const char *ca_file;            /* a CA bundle trusted instead of the
                                       system's (tests); NULL: the system's */
    const char *pacer_file;         /* the account's pacers, shared by every
                                       process naming this file (restarts
                                       included); NULL: this process's own */
    int md_stale_ms;                /* a subscribed instrument silent this long
                                       in its session is a gap (market data
                                       not ready); default 5000 */
    int book_poll_ms;               /* while orders work, the book reader
                                       reads the book this often (updates may
                                       be lost); default 2000 */
    uint32_t tick_ring;             /* ticks buffered (power of two); 65536 */
    /* The clock stamping reports and ticks (ns since the epoch, UTC); NULL:
     * CLOCK_REALTIME.  Called from every thread of the adapter. */
    hh_time_t (*clock)(void *ctx);
    void *clock_ctx;
};

/* SPEC §13 defaults; api_key_file and access_token_file as in the SPEC's
 * example (relative paths). */
void hh_kite_config_defaults(struct hh_kite_config *cfg);

struct hh_kite;

/*
 * Validate cfg (URL schemes, ranges), read both secret files (refused when
 * missing, empty, not one token of [A-Za-z0-9], or readable by group or
 * others) and prepare the REST connections.  No thread, no request yet.
 * `inst` is borrowed: it must outlive the adapter and must not change while
 * the adapter's threads run (they look symbols and tokens up).  HH_ECONFIG
 * (the message names the key or file, never a secret), HH_ENOMEM.
 */
int hh_kite_new(const struct hh_kite_config *cfg, const struct hh_instruments *inst,
                struct hh_kite **out, struct hh_diag *d);

/*
 * Check the account (when configured), then start the book reader and the
 * socket thread.  HH_ECONFIG (another account), HH_EAUTH, HH_EUNAVAIL,
 * HH_ETIMEOUT (the profile could not be read), HH_ENOMEM, HH_ESTATE (started
 * already).
 */
int hh_kite_start(struct hh_kite *k, struct hh_diag *d);

/* Stop the threads (bounded: each finishes its request within timeout_ms)
 * and free everything.  Accepts NULL. */
void hh_kite_free(struct hh_kite *k);

/*
 * The broker interface (valid while k lives); call its operations from one
 * thread (the core's).  Besides broker.h:
 *   place    validates the tag; MARKET and SL-M carry market_protection (their
 *            modifications too).  A
 *            quantity above the instrument's freeze_qty is placed as slices
 *            of the freeze quantity rounded down to whole lots (NIFTY: 1,800
 *            with lot 65 -> 1,755), the remainder last, ceil(qty / slice) —
 *            one by one under the rate limiter, tagged ID, IDS2, IDS3, ...
 *            (so the id needs room: at most 20 - 1 - digits characters).  The
 *            engine sees one order: its id is the first slice's, its reports
 *            and book rows aggregate the slices (quantities summed, average
 *            price from the summed notional).  A slice refused, or of unknown
 *            outcome and not found by its tag, stops the placement: the order
 *            is then the slices that exist, told by a MODIFIED report.  The
 *            first slice's failure is the call's.
 *   modify   prices go to every working slice; a quantity reduction comes off
 *            the last slices (a slice left with nothing to fill is
 *            cancelled); growth of a sliced order, or beyond the freeze
 *            quantity, is HH_ERANGE.  0 = unchanged, as in broker.h.
 *   cancel   every working slice.
 *   find     by tag in GET /orders (slices gathered); status by id
 *            (GET /orders/{id}, the whole book for a sliced order); orders
 *            (GET /orders, one row per engine order, foreign orders as they
 *            are); positions (GET /portfolio/positions `net`, the configured
 *            product only); funds (equity `net` of GET /user/margins).
 *   next_due / pump   see broker.h.
 * Reports: ACK when an order is first seen working, FILL for each increase
 * of the cumulative filled quantity (exec id derived from the order and the
 * cumulative quantity, so the same fill derived twice has one id), MODIFIED
 * on a quantity change, CANCELLED / REJECTED (status_message as reason) at
 * the end; a REJECTED after fills is reported CANCELLED.  Book rows of
 * orders without one of our tags (placed by hand, other apps) produce no
 * report.
 */
struct hh_broker hh_kite_broker(struct hh_kite *k);

/* The message of the last failed broker operation or query made on the
 * core's thread (the broker's own message for HH_EBROKER); "" when none.
 * Never contains a secret.  Borrowed until the next call. */
const char *hh_kite_errmsg(const struct hh_kite *k);

/* Called from the adapter's threads whenever a report or tick was queued
 * (and at a change of the socket's state).  Set before hh_kite_start(). */
void hh_kite_set_wake(struct hh_kite *k, void (*wake)(void *ctx), void *ctx);

/* ---- market data ---- */

/*
 * Subscribe exactly these instruments in `mode` (the previous set is
 * replaced: what is no longer listed is unsubscribed).  Each needs a token
 * (instrument_token from the Zerodha dump).  Applied by the socket thread,
 * at once when connected, else on (re)connect.  HH_ENOTFOUND (an instrument
 * without a token: named in d), HH_EFULL (more than 3000), HH_ENOMEM.
 */
int hh_kite_subscribe(struct hh_kite *k, const hh_iid_t *iids, size_t n,
                      enum hh_kite_mode mode, struct hh_diag *d);

/*
 * The next tick, without waiting: 1 (filled), 0 (none queued).  ts is the
 * adapter's clock when the frame arrived (the engine's time base), price the
 * last traded price, qty the last traded quantity (0 in ltp mode), bid/ask
 * the best of the depth in full mode (else 0).  Core thread only.
 */
int hh_kite_next_tick(struct hh_kite *k, struct hh_tick *out);

struct hh_kite_md_status {
    bool connected;                 /* the socket is open */
    bool ready;                     /* connected, and every subscribed
                                       instrument in its session ticked within
                                       md_stale_ms */
    size_t subscribed;
    size_t stale;                   /* in session, silent too long */
    hh_iid_t first_stale;           /* HH_IID_NONE when none */
    hh_time_t last_tick;            /* any instrument; HH_TIME_NONE if none */
    uint64_t gaps;                  /* ready -> not ready transitions seen by
                                       this function */
    char why[128];                  /* when not ready */
};

/* Market data status at `now` (engine time).  `cal` (may be NULL: every
 * instrument counts as in session) tells whose session is open.  Core
 * thread only. */
void hh_kite_md_status(struct hh_kite *k, hh_time_t now, const struct hh_calendar *cal,
                       struct hh_kite_md_status *out);

/* ---- the binary tick parser (the socket thread's; public for tests,
 * fuzzing and benchmarks) ---- */

/* One packet of a binary frame, fixed-point. */
struct hh_kite_packet {
    uint32_t token;
    enum hh_kite_mode mode;
    bool index;                     /* an index packet (28/32 bytes) */
    hh_price_t last, avg, open, high, low, close, change;   /* change: index */
    hh_qty_t last_qty, volume, buy_qty, sell_qty;
    int64_t last_trade_time, exch_time;   /* s since the epoch; 0 absent */
    hh_qty_t oi, oi_high, oi_low;
    hh_price_t bid, ask;            /* best of the depth (full), else 0 */
    hh_qty_t bid_qty, ask_qty;
};

/*
 * Parse one binary frame into out[0..cap).  A 1-byte frame is a heartbeat
 * (*n = 0, *heartbeat = true).  Else: u16 packet count, then per packet a
 * u16 length and the packet; lengths 8 (ltp), 28/32 (index quote/full), 44
 * (quote), 184 (full) are read; any other length is skipped (counted in
 * *skipped).  Prices are int32 paise (÷100; CDS ÷10^7, BCD ÷10^4 by the
 * token's segment byte) converted exactly; a price the fixed-point cannot
 * hold exactly, or a negative price, rejects the frame.
 * Returns HH_OK, or HH_ESYNTAX with *why (static text) for a truncated or
 * malformed frame — the packets before the defect are in out[0..*n).
 * Never reads outside buf[0..len).  HH_EFULL when more than cap packets.
 */
int hh_kite_parse_ticks(const uint8_t *buf, size_t len, struct hh_kite_packet *out,
                        size_t cap, size_t *n, size_t *skipped, bool *heartbeat,
                        const char **why);

/* ---- more of the account ---- */

/* One execution of GET /trades. */
struct hh_kite_trade {
    char trade_id[24];
    uint64_t order_id;
    hh_iid_t iid;                   /* HH_IID_NONE: an instrument not loaded */
    enum hh_side side;
    hh_qty_t qty;
    hh_price_t price;
    hh_time_t ts;                   /* fill_timestamp (IST); HH_TIME_NONE */
};

/*
 * The day's trades, de-duplicated by trade_id, in the book's order; with
 * only_new, only those never returned before (by this adapter: those copied
 * into out[] are remembered).  *n receives the number available (may exceed
 * cap).  Errors as the queries.
 */
int hh_kite_trades(struct hh_kite *k, struct hh_kite_trade *out, size_t cap, size_t *n,
                   bool only_new);

/* The broker's margin for a basket of orders (POST /margins/basket with the
 * positions considered). */
struct hh_kite_margin {
    hh_money_t initial;             /* the basket alone: initial.total */
    hh_money_t final;               /* with the positions: final.total */
    hh_money_t span, exposure, option_premium;   /* of final */
};

/*
 * Margin of legs[0..n) (n 1..50; LIMIT legs at their price, MARKET at 0 —
 * the broker prices them).  Not an order call: not rate limited as one.
 * Errors as the queries; HH_EINVAL for a leg the adapter cannot send.
 */
int hh_kite_basket_margin(struct hh_kite *k, const struct hh_order_req *legs, size_t n,
                          struct hh_kite_margin *out, struct hh_diag *d);

/* Counters and state, for metrics and health. */
struct hh_kite_stats {
    uint64_t requests;              /* REST requests sent */
    uint64_t order_calls;           /* place/modify/cancel requests */
    uint64_t rate_limited;          /* 429 answers */
    uint64_t unknown_outcomes;      /* order calls of unknown outcome */
    uint64_t rejected;              /* HH_EBROKER answers */
    uint64_t auth_failures;         /* TokenException answers */
    uint64_t secret_reloads;        /* secret files re-read after a change */
    uint64_t slices;                /* slice placements (beyond the first) */
    uint64_t ws_connects, ws_drops;
    uint64_t updates;               /* order updates received (prompts) */
    uint64_t book_reads;            /* reads by the book reader */
    uint64_t reports;               /* reports delivered to the sink */
    uint64_t ticks, ticks_dropped;  /* queued; lost to a full ring */
    uint64_t bad_frames;            /* malformed binary frames */
    uint64_t unknown_rows;          /* book rows of instruments not loaded */
    uint64_t skipped_rows;          /* rows of others' orders that could not
                                       be read (skipped) */
    bool auth_blocked;              /* order calls refused until a new token */
    bool ws_connected;
};

void hh_kite_stats(struct hh_kite *k, struct hh_kite_stats *out);

#endif
