/*
 * model.h — the engine's shared vocabulary: sides, market data points,
 * signals and their rejection reasons, orders, broker reports, net
 * positions.
 *
 * A leaf: it includes only the number, time and instrument headers of
 * core/, so parsers (signal/, market/), the order machinery (exec/), the
 * brokers (broker/), the store and the trade manager all speak these types
 * without including one another.  What a module does with them stays in
 * that module's header.
 */
#ifndef HH_MODEL_H
#define HH_MODEL_H

#include "core/fixed.h"
#include "core/instrument.h"
#include "core/time.h"

#include <stdbool.h>
#include <stdint.h>

/* ---- sides --------------------------------------------------------------- */

enum hh_side { HH_BUY = 1, HH_SELL = -1 };

const char *hh_side_name(enum hh_side s);            /* "BUY" / "SELL" */

static inline enum hh_side hh_side_opposite(enum hh_side s)
{
    return s == HH_BUY ? HH_SELL : HH_BUY;
}

/* ---- market data ---------------------------------------------------------- */

struct hh_tick {
    hh_time_t ts;
    hh_iid_t iid;
    hh_price_t price;
    hh_qty_t qty;
    hh_price_t bid, ask;           /* 0 when the source has no quotes */
};

struct hh_bar {
    hh_time_t ts;                  /* start of the bar */
    hh_iid_t iid;
    hh_price_t open, high, low, close;
    hh_qty_t volume;
};

/* ---- signals ---------------------------------------------------------------- */

/* Reason codes, in the order validation checks them (SPEC §4), then codes
 * raised later in a signal's life (group validation, risk, broker).  Each
 * rejection carries exactly one. */
#define HH_SIG_REASONS(X)       \
    X(NONE)                     \
    X(PARSE_ERROR)              \
    X(MISSING_FIELD)            \
    X(BAD_TYPE)                 \
    X(NOT_FINITE)               \
    X(NON_POSITIVE_PRICE)       \
    X(DUPLICATE)                \
    X(UNKNOWN_SYMBOL)           \
    X(INSTRUMENT_EXPIRED)       \
    X(TICK_MISALIGNED)          \
    X(INVERTED_LEVELS)          \
    X(RR_TOO_LOW)               \
    X(LOW_CONFIDENCE)           \
    X(FUTURE_TIMESTAMP)         \
    X(STALE)                    \
    X(MARKET_CLOSED)            \
    X(SIZE_TOO_SMALL)           \
    X(UNHEDGED_GROUP)           \
    X(MARGIN_WORST_CASE)        \
    X(BROKER_UNAVAILABLE)

enum hh_sig_reason {
#define HH__SIG_ENUM(name) HH_SIG_##name,
    HH_SIG_REASONS(HH__SIG_ENUM)
#undef HH__SIG_ENUM
    HH_SIG_REASON_COUNT
};

const char *hh_sig_reason_name(enum hh_sig_reason r);   /* "UNKNOWN" when out of range */

#define HH_SIG_ID_MAX       65   /* 1-64 chars of [A-Za-z0-9._:-] + NUL */
#define HH_SIG_TEXT_MAX     128  /* strategy, correlation id */
#define HH_SIG_TARGETS_MAX  3
#define HH_SIG_LOTS_MAX     1000000000LL  /* larger `lots` is BAD_TYPE (out of
                                             range): json-c clamps huge integers
                                             silently, so no bigger value is
                                             trusted */

/* A rejection (a dead letter): reason, human detail, and what could be
 * recovered of the line. */
struct hh_sig_reject {
    enum hh_sig_reason reason;
    char detail[256];
    bool id_known;                 /* id parsed and matched its pattern */
    char id[HH_SIG_ID_MAX];
    hh_time_t received_at;         /* HH_TIME_NONE when unknown */
};

/*
 * Fill *rej with a rejection decided outside hh_sig_process (an over-long
 * line the reader skipped, SIZE_TOO_SMALL at entry, ...): the id unknown,
 * received_at as given (HH_TIME_NONE when unknown), detail from fmt.
 */
void hh_sig_reject_set(struct hh_sig_reject *rej, enum hh_sig_reason reason,
                       hh_time_t received_at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* An accepted signal (SPEC §4), as the trade manager receives it. */
struct hh_signal {
    char id[HH_SIG_ID_MAX];
    uint64_t line;                 /* 1-based physical line in its file */
    hh_time_t ts;                  /* generated */
    hh_time_t received_at;         /* reached the engine (defaulted, see rules) */
    hh_time_t valid_until;         /* defaulted to the session close */
    hh_iid_t iid;
    enum hh_side side;
    hh_price_t entry, stop;
    hh_price_t targets[HH_SIG_TARGETS_MAX];
    int ntargets;                  /* 1..3 */
    hh_ratio_t confidence;         /* 0..1, default 1 */
    int64_t lots;                  /* fixed size; 0 = risk sizing */
    char strategy[HH_SIG_TEXT_MAX];
    char correlation_id[HH_SIG_TEXT_MAX];  /* defaults to id */
    bool group;                    /* a multi-leg group: the legs are in the
                                      struct hh_group_signal given alongside;
                                      entry, stop, targets unused; iid is the
                                      first leg */
};

/* The correlation id a signal's records carry (its own, else its id). */
static inline const char *hh_signal_corr(const struct hh_signal *s)
{
    return s->correlation_id[0] ? s->correlation_id : s->id;
}

/* ---- orders and broker reports -------------------------------------------------- */

enum hh_ord_type {
    HH_ORD_MARKET,
    HH_ORD_LIMIT,
    HH_ORD_STOP,        /* stop-market (SL-M): market once the trigger trades */
    HH_ORD_STOP_LIMIT,  /* stop-limit (SL): limit order once triggered */
};

/* Order life cycle (exec/order.h drives it). */
enum hh_ord_state {
    HH_OS_NEW,
    HH_OS_SENT,
    HH_OS_OPEN,
    HH_OS_PARTIAL,
    HH_OS_FILLED,
    HH_OS_CANCEL_PENDING,
    HH_OS_CANCELLED,
    HH_OS_REJECTED,
    HH_OS_EXPIRED,
};

const char *hh_ord_type_name(enum hh_ord_type t);
const char *hh_ord_state_name(enum hh_ord_state s);
bool hh_ord_state_terminal(enum hh_ord_state s);

#define HH_TAG_MAX 20         /* a client id fits the broker's tag (Kite: 20) */
#define HH_CLIENT_ID_MAX 24   /* room for HH_TAG_MAX chars and the NUL */

struct hh_order_req {
    char client_id[HH_CLIENT_ID_MAX];  /* deterministic: trade, leg, attempt */
    hh_iid_t iid;
    enum hh_side side;
    enum hh_ord_type type;
    hh_qty_t qty;                      /* units */
    hh_price_t limit;                  /* LIMIT, STOP_LIMIT */
    hh_price_t trigger;                /* STOP, STOP_LIMIT */
};

enum hh_report_kind {
    HH_RPT_ACK,          /* accepted, working */
    HH_RPT_FILL,         /* a (partial) execution */
    HH_RPT_CANCELLED,
    HH_RPT_REJECTED,
    HH_RPT_MODIFIED,
    HH_RPT_EXPIRED,
};

const char *hh_report_kind_name(enum hh_report_kind k);

struct hh_report {
    enum hh_report_kind kind;
    uint64_t order_id;                 /* broker-assigned */
    hh_time_t ts;                      /* event time (bar start on bar data) */
    hh_iid_t iid;
    enum hh_side side;
    hh_qty_t qty;                      /* FILL: this execution */
    hh_price_t price;                  /* FILL: execution price */
    hh_qty_t filled;                   /* cumulative filled */
    hh_qty_t leaves;                   /* still working */
    uint64_t exec_id;                  /* FILL: unique per execution */
    char reason[64];                   /* REJECTED/CANCELLED: why */
};

/* An order as the broker's order book shows it. */
struct hh_broker_order {
    uint64_t order_id;
    char client_id[HH_CLIENT_ID_MAX];  /* the tag we gave it */
    hh_iid_t iid;
    enum hh_side side;
    enum hh_ord_type type;
    enum hh_ord_state state;           /* OPEN, PARTIAL, FILLED, CANCELLED, ... */
    hh_qty_t qty, filled;
    hh_price_t limit, trigger;
    hh_price_t avg_price;              /* of the filled part */
};

/* A net position at the broker (signed units: long > 0). */
struct hh_broker_position {
    hh_iid_t iid;
    hh_qty_t qty;
    hh_price_t avg_price;
};


/* ---- net positions ------------------------------------------------------------------ */

/* A net position in one instrument at average cost: the one rule the
 * paper broker books fills by and the journal records, so the two sides
 * reconciliation compares agree to the unit and the paisa. */
struct hh_position {
    hh_qty_t qty;                      /* signed units: long > 0 */
    hh_price_t avg;                    /* average price of the open quantity, rounded
                                          half-up; 0 when flat */
    hh_money_t realised;               /* realised gross P&L (charges excluded) */
};

/*
 * Book a fill of qty (> 0) units at price on side into *pos.  Adding to the
 * position (or opening it) averages the price, half-up; reducing keeps the
 * average and realises (price - avg) x the units closed, signed by the
 * position's direction; crossing zero opens the rest at the fill price;
 * a flat position has avg 0.  HH_EINVAL for qty <= 0 and HH_EOVERFLOW when
 * the quantity or the realised P&L would leave int64: *pos is then
 * unchanged.
 */
int hh_position_apply(struct hh_position *pos, enum hh_side side, hh_qty_t qty,
                      hh_price_t price);

#endif
