/*
 * instrument.h — the instrument table: dense ids, contract facts, loaders.
 *
 * Every symbol the engine meets gets a dense id (hh_iid_t, 0..count-1) so
 * per-instrument state lives in arrays.  Instruments loaded from a master
 * file are `known`; symbols seen only in market data are interned as bare
 * entries (NSE cash defaults) so data for them can flow, but signals must
 * name a known instrument.
 *
 * Lot size, tick size and freeze quantity are per contract (they change
 * with the expiry): they are data from the file, never constants.
 *
 * Two file formats load: hedgehog's own CSV (SPEC §2)
 *   symbol,exchange,type,underlying,expiry,strike,option_type,lot_size,
 *   tick_size,freeze_qty
 * and Zerodha's instrument dump
 *   instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,
 *   strike,tick_size,lot_size,instrument_type,segment,exchange
 * told apart by the header.  Unknown columns are ignored.
 */
#ifndef HH_INSTRUMENT_H
#define HH_INSTRUMENT_H

#include "core/calendar.h"
#include "core/err.h"
#include "core/fixed.h"
#include "core/time.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint32_t hh_iid_t;
#define HH_IID_NONE UINT32_MAX

#define HH_SYMBOL_MAX     48   /* bytes incl. NUL */
#define HH_UNDERLYING_MAX 32

enum hh_inst_type { HH_INST_EQ, HH_INST_FUT, HH_INST_OPT, HH_INST_INDEX };
enum hh_opt_type { HH_OPT_NONE, HH_OPT_CE, HH_OPT_PE };

struct hh_instrument {
    char symbol[HH_SYMBOL_MAX];          /* trading symbol */
    char underlying[HH_UNDERLYING_MAX];  /* NIFTY for NIFTY25JAN24000CE; symbol for EQ */
    enum hh_exch exch;
    enum hh_segment seg;                 /* session rules */
    enum hh_inst_type type;
    enum hh_opt_type opt;                /* HH_OPT_NONE unless an option */
    hh_date_t expiry;                    /* HH_DATE_NONE when it never expires */
    hh_price_t strike;                   /* options only, else 0 */
    hh_qty_t lot_size;                   /* units per lot, >= 1 */
    hh_price_t tick;                     /* tick size, > 0 */
    hh_qty_t freeze_qty;                 /* largest single order in units; 0 = none known */
    bool known;                          /* from a master file (vs. seen in data) */
};

struct hh_instruments;

struct hh_instruments *hh_inst_new(void);
void hh_inst_free(struct hh_instruments *t);   /* accepts NULL */

/*
 * Load a master file (either format, by header).  `cal` (may be NULL) is
 * used for expiries that must be derived.  Bad rows are errors naming file,
 * line and field.  A symbol listed twice keeps the first row, except that an
 * NSE/NFO row replaces a BSE row of the same symbol; every row stays
 * reachable as "EXCH:SYMBOL".
 */
int hh_inst_load(struct hh_instruments *t, const char *path,
                 const struct hh_calendar *cal, struct hh_diag *d);

/* Add (or, for a bare entry, complete) an instrument; *out gets its id. */
int hh_inst_add(struct hh_instruments *t, const struct hh_instrument *in, hh_iid_t *out);

/* Id of a symbol ("SYM" or "EXCH:SYM"), or HH_IID_NONE. */
hh_iid_t hh_inst_find(const struct hh_instruments *t, const char *sym, size_t len);

/* Find, or add a bare entry (NSE cash, lot 1, tick 0.05); *out gets the id. */
int hh_inst_intern(struct hh_instruments *t, const char *sym, size_t len, hh_iid_t *out);

/* The instrument with id `id` (< hh_inst_count()); borrowed, stable until
 * the table is freed. */
const struct hh_instrument *hh_inst_get(const struct hh_instruments *t, hh_iid_t id);

size_t hh_inst_count(const struct hh_instruments *t);

/* Predicates of the exercise handler. */
bool hh_inst_is_option(const struct hh_instrument *in);
/* In the money at spot: CE when spot > strike, PE when spot < strike. */
bool hh_inst_is_itm(const struct hh_instrument *in, hh_price_t spot);
/* Intrinsic value per unit at spot (0 when OTM or not an option). */
hh_price_t hh_inst_intrinsic(const struct hh_instrument *in, hh_price_t spot);

/*
 * NSE-style trading-symbol parsing (DOMAIN.md §2), from the right:
 *   monthly option  NIFTY25JAN24000CE   (YY MON strike CE|PE)
 *   weekly option   NIFTY2510924000CE   (YY, month 1-9/O/N/D, DD, strike)
 *   monthly future  NIFTY25JANFUT
 *   OpenAlgo style  NIFTY28MAR2420800CE, BANKNIFTY24APR24FUT (DD MON YY)
 * Underlyings may hold digits and & or - (NIFTYNXT50, M&M, BAJAJ-AUTO);
 * strikes may be fractional (292.5).  Anything else is an equity symbol.
 */
struct hh_sym {
    char underlying[HH_UNDERLYING_MAX];
    enum hh_inst_type type;      /* EQ, FUT or OPT */
    enum hh_opt_type opt;
    int year, month, day;        /* expiry; day 0 when only the month is named */
    bool weekly;
    hh_price_t strike;
};

/* Parse a symbol.  HH_OK (EQ for a plain name), HH_ESYNTAX when it is not a
 * valid symbol at all (empty, bad characters, impossible date). */
int hh_sym_parse(const char *s, size_t n, struct hh_sym *out);

/* Only the strike of an option symbol; HH_ESYNTAX if not an option. */
int hh_sym_parse_strike(const char *s, size_t n, hh_price_t *out);

#endif
