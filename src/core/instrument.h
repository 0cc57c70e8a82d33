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
    uint32_t token;                      /* the broker's instrument_token (Zerodha
                                            dump); 0 = none known */
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
 *
 * Details of the contract:
 * - Every row gets its own id; the bare "SYMBOL" names the preferred row.
 *   A second row of the same exchange and symbol is ignored (keep first),
 *   also when the same file is loaded twice — except that it gives its
 *   instrument token and freeze_qty to a row that had none, so our CSV
 *   (freeze_qty) and Zerodha's dump (tokens) load together in either order.
 * - Our CSV: required columns symbol, exchange, type, lot_size, tick_size;
 *   underlying, expiry, strike, option_type, freeze_qty may be absent.
 *   `type` may also be INDEX.  An optional `segment` column (cash, fut,
 *   opt, currency, commodity, agri) overrides the segment implied by type
 *   and exchange (EQ -> cash, FUT -> fut, OPT -> opt; CDS/BCD -> currency;
 *   MCX/NCO -> commodity).
 * - Zerodha: exchange NSE/BSE -> cash (segment INDICES -> HH_INST_INDEX),
 *   NFO/BFO -> fut/opt, CDS/BCD -> currency, MCX/NCO -> commodity;
 *   instrument_token (optional column, 1..4294967295) -> token; an index
 *   row's lot 0 / tick 0 (as the dump writes them) read as 1 / 0.05.  The
 *   underlying of a derivative is `name` when the symbol starts with it and
 *   parses with it, else what hh_sym_parse() finds; of an equity, the symbol.
 * - An empty underlying or expiry of a future/option is derived from the
 *   symbol: a weekly or DD-MON-YY symbol gives the date; a monthly one gives
 *   hh_cal_monthly_expiry(cal, ...) (an error for MCX).  Strike and option
 *   type are never derived: options must state them.
 * - On an error nothing from the file is added (rows are validated first);
 *   only HH_ENOMEM while adding can leave a partial load.
 * Returns HH_OK, HH_ESYNTAX (bad row), HH_EHEADER, HH_EIO, HH_ENOMEM.
 */
int hh_inst_load(struct hh_instruments *t, const char *path,
                 const struct hh_calendar *cal, struct hh_diag *d);

/* Add (or, for a bare entry, complete) an instrument; *out gets its id.
 * The entry is marked known (in->known is ignored).  Completing keeps the
 * bare entry's id even when the exchange differs.  Returns HH_OK; HH_EEXIST
 * with *out = the existing id when a known row of that exchange and symbol
 * exists; HH_EINVAL for an invalid instrument (empty or over-long symbol,
 * lot < 1, tick <= 0, an option lacking CE/PE, a strike > 0 or an expiry,
 * a non-option with a strike, a future without an expiry); HH_ENOMEM. */
int hh_inst_add(struct hh_instruments *t, const struct hh_instrument *in, hh_iid_t *out);

/* Id of a symbol ("SYM" or "EXCH:SYM", EXCH any name hh_exch_parse()
 * takes, so "NFO:X" finds NSE's X), or HH_IID_NONE.  Reads sym[0..len)
 * only; allocates nothing (the market-data hot path). */
hh_iid_t hh_inst_find(const struct hh_instruments *t, const char *sym, size_t len);

/* Find, or add a bare entry (NSE cash, lot 1, tick 0.05); *out gets the id.
 * "EXCH:SYM" interns SYM under that exchange.  The entry's underlying is
 * the symbol when it fits, else empty.  HH_EINVAL for an empty, over-long
 * or non-printable symbol; HH_ENOMEM. */
int hh_inst_intern(struct hh_instruments *t, const char *sym, size_t len, hh_iid_t *out);

/* The instrument with id `id` (< hh_inst_count(); NULL otherwise); borrowed,
 * the pointer is stable until the table is freed (entries live in chunks
 * that never move; only completing a bare entry changes its contents). */
const struct hh_instrument *hh_inst_get(const struct hh_instruments *t, hh_iid_t id);

size_t hh_inst_count(const struct hh_instruments *t);

/* Predicates of the exercise handler. */
bool hh_inst_is_option(const struct hh_instrument *in);
/* In the money at spot: CE when spot > strike, PE when spot < strike. */
bool hh_inst_is_itm(const struct hh_instrument *in, hh_price_t spot);
/* Intrinsic value per unit at spot (0 when OTM or not an option). */
hh_price_t hh_inst_intrinsic(const struct hh_instrument *in, hh_price_t spot);

/*
 * NSE-style trading-symbol parsing (DOMAIN.md §2), from the right (the rules
 * for ambiguous forms are documented and tested in symbol.c):
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
 * valid symbol at all (empty, bad characters, impossible date).
 * OpenAlgo options (NIFTY28MAR2420800CE) read as Zerodha monthly ones
 * (2028-03, strike 2420800) whenever that reading is valid.  For a weekly
 * symbol whose underlying ends in digits (NIFTYNXT50 + 2510924000) the
 * underlying is taken to end at its last non-digit unless that gives no
 * valid weekly expiry (a real Mon-Fri date, 2016 or later); then digits
 * move into the underlying one at a time.  A plain name holds A-Z 0-9
 * & - _ . and inner spaces, at most 31 bytes. */
int hh_sym_parse(const char *s, size_t n, struct hh_sym *out);

/* Only the strike of an option symbol; HH_ESYNTAX if not an option. */
int hh_sym_parse_strike(const char *s, size_t n, hh_price_t *out);

#endif
