/*
 * strategy.h — multi-leg option groups: legs, builders, payoff at expiry,
 * validation, hedge balance and leg priority (seed fix #2).
 *
 * A group is a small fixed array of legs (no allocation).  Each leg names a
 * known option contract of the instrument table and carries its facts
 * (type, strike, expiry, lot size) so that nothing downstream needs the
 * table again.  Quantities are units (lots x lot size); money and prices are
 * the exact fixed-point of core/fixed.h.
 *
 * Builders (market definitions; strikes strictly ascending, leg order as
 * listed):
 *   bull_put        [K1 < K2]  BUY PE K1, SELL PE K2          credit
 *   bear_call       [K1 < K2]  SELL CE K1, BUY CE K2          credit
 *   bull_call       [K1 < K2]  BUY CE K1, SELL CE K2          debit
 *   bear_put        [K1 < K2]  SELL PE K1, BUY PE K2          debit
 *   iron_condor     [K1<K2<K3<K4]  BUY PE K1, SELL PE K2, SELL CE K3,
 *                                  BUY CE K4                  credit
 *   short_straddle  [K]        SELL CE K, SELL PE K           credit, naked
 *   short_strangle  [K1 < K2]  SELL PE K1, SELL CE K2         credit, naked
 * The seed (003_…, "Bull call & bear put credit spreads") calls bull call and
 * bear put spreads credit spreads: that is wrong.  Bought at the lower
 * strike and sold at the higher, a bull call spread costs a net debit; the
 * credit spreads are bull put and bear call.
 *
 * Leg priority (execution order), from hh_strat_priority():
 *   Within each bucket (same option type and expiry) the short legs, in leg
 *   order, are covered by the long legs of the bucket, nearest strike first,
 *   unit for unit.  Then:
 *     +100 HH_LEG_LONG       a long that covers some short (protection), or
 *                            a long with no short to offset at all (a plain
 *                            long: costs premium, adds no margin)
 *     +50  HH_LEG_HEDGE      a long that covers no short of its own bucket
 *                            while a short of the same type on another
 *                            expiry is left uncovered: it offsets that
 *                            short only partly (calendar/diagonal)
 *     -50  HH_LEG_COVERED    a short whose whole quantity is covered
 *     -100 HH_LEG_NAKED      a short with any uncovered quantity
 *   Order: score descending; ties farther out of the money first (distance
 *   K - ref for calls, ref - K for puts, ref = spot, or the mean strike when
 *   no spot is given), then leg order.  Farther-OTM first: those are the
 *   thinner contracts, so a leg that will not fill fails the group before
 *   the liquid, riskier legs are touched; among shorts it also puts the
 *   smaller-risk short first.
 *
 * Nothing here allocates, reads a clock or does I/O.
 */
#ifndef HH_STRATEGY_H
#define HH_STRATEGY_H

#include "core/calendar.h"
#include "core/err.h"
#include "core/fixed.h"
#include "core/instrument.h"
#include "core/time.h"
#include "core/model.h"

#include <stdbool.h>
#include <stddef.h>

#define HH_STRAT_LEGS_MAX    8
#define HH_STRAT_STRIKES_MAX 4
#define HH_STRAT_BE_MAX      (HH_STRAT_LEGS_MAX + 1)

#define HH_STRAT_KINDS(X)                 \
    X(CUSTOM,         "custom",         0) \
    X(BULL_PUT,       "bull_put",       2) \
    X(BEAR_CALL,      "bear_call",      2) \
    X(BULL_CALL,      "bull_call",      2) \
    X(BEAR_PUT,       "bear_put",       2) \
    X(IRON_CONDOR,    "iron_condor",    4) \
    X(SHORT_STRADDLE, "short_straddle", 1) \
    X(SHORT_STRANGLE, "short_strangle", 2)

enum hh_strat_kind {
#define HH__STRAT_ENUM(id, name, n) HH_STRAT_##id,
    HH_STRAT_KINDS(HH__STRAT_ENUM)
#undef HH__STRAT_ENUM
    HH_STRAT_KIND_COUNT
};

/* "iron_condor" for HH_STRAT_IRON_CONDOR; "custom" for explicit legs. */
const char *hh_strat_kind_name(enum hh_strat_kind k);

/* Builder name -> kind ("custom" is not a builder); false when unknown. */
bool hh_strat_kind_parse(const char *s, size_t n, enum hh_strat_kind *out);

/* Number of strikes a builder takes (0 for custom). */
int hh_strat_kind_nstrikes(enum hh_strat_kind k);

/* True for the builders that are naked by design (straddle, strangle). */
bool hh_strat_kind_naked(enum hh_strat_kind k);

/* One leg.  Contract facts are copied from the instrument table. */
struct hh_leg {
    char symbol[HH_SYMBOL_MAX];   /* trading symbol as resolved */
    char underlying[HH_UNDERLYING_MAX];
    hh_iid_t iid;                 /* instrument id */
    enum hh_side side;            /* HH_BUY / HH_SELL */
    int64_t lots;                 /* >= 1 */
    hh_qty_t lot_size;            /* units per lot, of this contract */
    hh_qty_t qty;                 /* units = lots x lot_size */
    enum hh_opt_type opt;         /* CE / PE */
    hh_price_t strike;
    hh_date_t expiry;             /* IST date */
    hh_price_t premium;           /* per unit: paid (BUY) or received (SELL);
                                     -1 when unknown */
    hh_price_t bid, ask;          /* quotes per unit; 0 when unknown */
    double iv;                    /* the leg's volatility (fraction); 0 = unknown */
};

struct hh_strat_group {
    enum hh_strat_kind kind;
    char underlying[HH_UNDERLYING_MAX];  /* of the first leg */
    int nlegs;
    struct hh_leg legs[HH_STRAT_LEGS_MAX];
};

/* An empty group of the given kind. */
void hh_strat_init(struct hh_strat_group *g, enum hh_strat_kind kind);

/*
 * Append a leg naming `symbol` (resolved with hh_inst_find, so "NFO:SYM"
 * works too): contract facts from the table, premium unknown, no quotes.
 * Returns HH_OK; HH_ENOTFOUND when the symbol is not a known instrument;
 * HH_EINVAL when it is not an option, side is not BUY/SELL or lots is
 * outside 1..HH_SIG_LOTS_MAX; HH_EOVERFLOW when lots x lot size overflows;
 * HH_EFULL past HH_STRAT_LEGS_MAX legs.  d (may be NULL) gets the detail.
 * The group is unchanged on error.
 */
int hh_strat_add_leg(struct hh_strat_group *g, const struct hh_instruments *inst,
                     const char *symbol, enum hh_side side, int64_t lots,
                     struct hh_diag *d);

/*
 * Write the NSE trading symbol of an option: monthly NIFTY25JAN24000CE or
 * weekly NIFTY2510924000CE (YY, month 1-9/O/N/D, DD).  The strike prints
 * without trailing zeros (24000, 292.5).  Returns the length, or 0 when
 * buf (cap bytes) is too small or the input is invalid.
 */
size_t hh_strat_symbol(char *buf, size_t cap, const char *underlying, hh_date_t expiry,
                       hh_price_t strike, enum hh_opt_type opt, bool monthly);

/*
 * Find the option (underlying, expiry, strike, type) in the table: the
 * monthly symbol first when expiry is the month's last expiry
 * (hh_cal_monthly_expiry for NSE or BSE; `cal` may be NULL), else the
 * weekly symbol first; then the other form; a found symbol is accepted only
 * when its contract facts match.  As a last resort the table is scanned for
 * a contract with those facts (other symbol styles).  *iid receives the id.
 * HH_OK or HH_ENOTFOUND (d names the symbols tried).
 */
int hh_strat_resolve(const struct hh_instruments *inst, const struct hh_calendar *cal,
                     const char *underlying, hh_date_t expiry, hh_price_t strike,
                     enum hh_opt_type opt, hh_iid_t *iid, struct hh_diag *d);

/*
 * Build a strategy (see the table above) into *g, replacing its contents.
 * strikes[0..nstrikes) must number hh_strat_kind_nstrikes(kind), be > 0 and
 * strictly ascending; lots >= 1 applies to every leg.  Returns HH_OK;
 * HH_EINVAL (bad kind, strike count/order, lots), HH_ENOTFOUND (a leg does
 * not resolve; d names it), HH_EOVERFLOW.
 */
int hh_strat_build(struct hh_strat_group *g, enum hh_strat_kind kind,
                   const struct hh_instruments *inst, const struct hh_calendar *cal,
                   const char *underlying, hh_date_t expiry, const hh_price_t *strikes,
                   int nstrikes, int64_t lots, struct hh_diag *d);

/* ---- payoff at expiry ------------------------------------------------------ */

struct hh_strat_payoff {
    hh_money_t net_premium;       /* received - paid, whole group (> 0: credit) */
    hh_money_t max_profit;        /* meaningful unless profit_unbounded */
    bool profit_unbounded;
    hh_money_t max_loss;          /* as a positive amount; unless loss_unbounded */
    bool loss_unbounded;
    int nbreakevens;
    hh_price_t breakevens[HH_STRAT_BE_MAX];  /* underlying at expiry, ascending,
                                                rounded half-up to the paisa */
};

/* Net P&L of the group if held to expiry and settled at underlying S
 * (exact).  HH_OK, HH_EINVAL (a premium unknown), HH_EOVERFLOW. */
int hh_strat_pnl_at(const struct hh_strat_group *g, hh_price_t S, hh_money_t *out);

/*
 * Max profit, max loss and breakevens of the group held to expiry, from the
 * legs' premiums.  The P&L is piecewise linear in the settlement price with
 * kinks at the strikes, so it is evaluated exactly at 0 and at every strike,
 * and its slope beyond the highest strike decides unboundedness.  All legs
 * must share one expiry (else the payoff at "expiry" is not defined) and
 * have a known premium: HH_EINVAL otherwise; HH_EOVERFLOW.
 */
int hh_strat_payoff(const struct hh_strat_group *g, struct hh_strat_payoff *out);

/* ---- validation ------------------------------------------------------------ */

struct hh_strat_rules {
    bool allow_naked;             /* accept shorts without full cover */
    hh_date_t today;              /* IST date for INSTRUMENT_EXPIRED;
                                     HH_DATE_NONE skips the check */
};

/*
 * Validate a group; true when acceptable, else false with *rej filled (id
 * unknown, received_at HH_TIME_NONE — the caller sets them).  rules may be
 * NULL: naked shorts rejected, no expiry check.  Checks in this order:
 *   BAD_TYPE            no legs (or more than HH_STRAT_LEGS_MAX)
 *   UNKNOWN_SYMBOL      a leg whose iid is HH_IID_NONE
 *   BAD_TYPE            a leg not an option; lots < 1
 *   INSTRUMENT_EXPIRED  a leg expiring before rules->today
 *   UNHEDGED_GROUP      legs on more than one underlying (they cannot hedge
 *                       each other)
 *   BAD_TYPE            "same lots multiple": some leg's lots is not a whole
 *                       multiple of the smallest leg's lots (the group must
 *                       be N copies of its base structure so that execution
 *                       can proceed in base-structure slices)
 *   UNHEDGED_GROUP      unless rules->allow_naked: a short not covered by
 *                       longs of the same type and expiry with at least its
 *                       quantity (straddles and strangles always fail this)
 */
bool hh_strat_validate(const struct hh_strat_group *g, const struct hh_strat_rules *rules,
                       struct hh_sig_reject *rej);

/* Units of short legs not covered by longs of their bucket (0 = hedged). */
hh_qty_t hh_strat_naked_qty(const struct hh_strat_group *g);

/* ---- hedge balance (the seed's position validator) ------------------------- */

#define HH_STRAT_VARIANCE_DEFAULT (HH_RATIO_SCALE / 10)   /* 10 % */

struct hh_strat_bucket {
    enum hh_opt_type opt;
    hh_date_t expiry;
    hh_qty_t long_qty, short_qty; /* filled (or planned) units */
    hh_ratio_t variance;          /* |long - short| / short, half-up; 0 when
                                     short_qty is 0 */
    bool flagged;                 /* variance > threshold */
};

struct hh_strat_balance {
    int nbuckets;
    struct hh_strat_bucket b[HH_STRAT_LEGS_MAX];
    hh_qty_t unhedged;            /* sum of max(0, short - long) */
    hh_ratio_t max_variance;
    bool flagged;                 /* some bucket flagged */
};

/*
 * Hedge balance per (type, expiry) bucket of the group, with the filled
 * units per leg (filled[i] for legs[i]; NULL uses the planned qty).  A
 * bucket is flagged when its variance exceeds `threshold` (a ratio;
 * HH_STRAT_VARIANCE_DEFAULT = 10 %), over- and under-hedged alike; only
 * under-hedging counts in `unhedged`.  HH_OK or HH_EINVAL (negative fill).
 */
int hh_strat_balance(const struct hh_strat_group *g, const hh_qty_t *filled,
                     hh_ratio_t threshold, struct hh_strat_balance *out);

/* ---- leg priority (seed fix #2) --------------------------------------------- */

enum hh_leg_role {
    HH_LEG_LONG,       /* +100 long / protection */
    HH_LEG_HEDGE,      /*  +50 long offsetting a short of another expiry */
    HH_LEG_COVERED,    /*  -50 covered short */
    HH_LEG_NAKED,      /* -100 naked short */
};

#define HH_PRIO_LONG     100
#define HH_PRIO_HEDGE     50
#define HH_PRIO_COVERED  (-50)
#define HH_PRIO_NAKED   (-100)

const char *hh_leg_role_name(enum hh_leg_role r);   /* "LONG", "HEDGE", ... */

struct hh_leg_prio {
    enum hh_leg_role role;
    int score;                 /* HH_PRIO_* */
    hh_qty_t covered;          /* long: units of shorts it covers;
                                  short: units of it that are covered */
};

/*
 * Classify every leg and compute the execution order (see the header
 * comment).  prio[i] describes legs[i]; order[0..nlegs) receives leg
 * indices, first to execute first.  spot <= 0 means unknown (the mean
 * strike is the OTM reference).  Either output may be NULL.
 */
void hh_strat_priority(const struct hh_strat_group *g, hh_price_t spot,
                       struct hh_leg_prio *prio, int *order);

#endif
