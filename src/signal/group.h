/*
 * group.h — group signals (SPEC §8): one JSON object with "type":"GROUP"
 * carrying option legs, explicitly or through a builder.
 *
 *   explicit  {"id":"ic-1","ts":"…","type":"GROUP","strategy":"iron_condor",
 *              "legs":[{"symbol":"NIFTY25JAN23500PE","side":"BUY","lots":1},…],
 *              "stop_loss":"3000.00","target":"1500.00"}
 *   builder   {"type":"GROUP","build":"iron_condor","underlying":"NIFTY",
 *              "expiry":"2025-01-30","strikes":[23500,23700,24300,24500],"lots":1}
 *
 * Fields (all others are ignored, like unknown fields of a plain signal):
 *   type         "GROUP", required
 *   id, ts       optional here (a pipeline that requires them checks
 *                has_id / has_ts); id must match the signal id pattern, ts
 *                carry an offset
 *   strategy     optional text (<= 127 bytes)
 *   legs         1..8 objects: symbol (required), side BUY|SELL (required),
 *                lots (integer >= 1; default the group's "lots", else 1),
 *                price (the premium per unit expected/paid, optional),
 *                bid, ask (quotes per unit, optional), iv (the leg's
 *                volatility as a fraction, optional)
 *   build        a builder of options/strategy.h, with underlying (string),
 *                expiry (YYYY-MM-DD), strikes (list of prices, in the
 *                builder's order), lots (integer >= 1, default 1)
 *   stop_loss, target   optional rupee amounts > 0 (group net P&L limits)
 * "legs" and "build" are exclusive; one is required.  Prices are JSON
 * numbers or decimal strings, parsed from their text into fixed-point
 * (never through double); "iv" is the only field read as a double.
 *
 * Rejections use the signal reason codes, first applicable in this order:
 * PARSE_ERROR, MISSING_FIELD, BAD_TYPE, NOT_FINITE, NON_POSITIVE_PRICE,
 * UNKNOWN_SYMBOL (a leg that does not resolve).  Hedge balance, expiry and
 * margin are judged afterwards: hh_group_validate (strategy rules) and
 * risk/margin.h.
 */
#ifndef HH_GROUP_H
#define HH_GROUP_H

#include "core/calendar.h"
#include "core/fixed.h"
#include "core/instrument.h"
#include "core/time.h"
#include "options/strategy.h"
#include "signal/signal.h"

#include <stdbool.h>
#include <stddef.h>

struct json_object;

struct hh_group_signal {
    bool has_id;
    char id[HH_SIG_ID_MAX];
    bool has_ts;
    hh_time_t ts;
    char strategy[HH_SIG_TEXT_MAX];        /* "" when absent */
    bool built;                            /* builder form */
    enum hh_strat_kind build;              /* HH_STRAT_CUSTOM for explicit legs */
    hh_date_t expiry;                      /* builder form, else HH_DATE_NONE */
    int nstrikes;
    hh_price_t strikes[HH_STRAT_STRIKES_MAX];
    int64_t lots;                          /* group "lots" (default 1) */
    bool has_stop_loss, has_target;
    hh_money_t stop_loss, target;          /* rupees, > 0 when present */
    struct hh_strat_group group;           /* the resolved legs */
};

/*
 * Parse one group signal from text[0..len) (a whole file or one JSON line).
 * inst and cal are borrowed.  Returns true with *out filled, or false with
 * *rej filled (its id when the object's id was readable, received_at
 * HH_TIME_NONE).
 */
bool hh_group_parse(const char *text, size_t len, const struct hh_instruments *inst,
                    const struct hh_calendar *cal, struct hh_group_signal *out,
                    struct hh_sig_reject *rej);

/* The same from an already parsed json-c object (borrowed), for a pipeline
 * that has tokenised the line and seen "type":"GROUP". */
bool hh_group_from_json(struct json_object *root, const struct hh_instruments *inst,
                        const struct hh_calendar *cal, struct hh_group_signal *out,
                        struct hh_sig_reject *rej);

/*
 * Validate the parsed group with the strategy rules (hh_strat_validate:
 * leg facts, INSTRUMENT_EXPIRED against rules->today, same underlying, lots
 * multiple, UNHEDGED_GROUP unless rules->allow_naked).  On rejection *rej
 * carries the group's id when it has one.
 */
bool hh_group_validate(const struct hh_group_signal *gs, const struct hh_strat_rules *rules,
                       struct hh_sig_reject *rej);

#endif
