/*
 * model.c — names of the shared vocabulary (core/model.h) and the
 * net-position rule.
 */
#include "core/model.h"

#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *hh_side_name(enum hh_side s)
{
    return s == HH_BUY ? "BUY" : "SELL";
}

const char *hh_sig_reason_name(enum hh_sig_reason r)
{
    switch (r) {
#define HH__SIG_NAME(name) case HH_SIG_##name: return #name;
    HH_SIG_REASONS(HH__SIG_NAME)
#undef HH__SIG_NAME
    default:
        break;
    }
    return "UNKNOWN";
}

const char *hh_ord_type_name(enum hh_ord_type t)
{
    static const char *const names[] = { "MARKET", "LIMIT", "SL-M", "SL" };

    return (unsigned)t < sizeof names / sizeof *names ? names[t] : "?";
}

const char *hh_ord_state_name(enum hh_ord_state s)
{
    static const char *const names[] = {
        "NEW", "SENT", "OPEN", "PARTIALLY_FILLED", "FILLED",
        "CANCEL_PENDING", "CANCELLED", "REJECTED", "EXPIRED",
    };

    return (unsigned)s < sizeof names / sizeof *names ? names[s] : "?";
}

bool hh_ord_state_terminal(enum hh_ord_state s)
{
    return s == HH_OS_FILLED || s == HH_OS_CANCELLED || s == HH_OS_REJECTED ||
           s == HH_OS_EXPIRED;
}

const char *hh_report_kind_name(enum hh_report_kind k)
{
    static const char *const names[] = {
        "ACK", "FILL", "CANCELLED", "REJECTED", "MODIFIED", "EXPIRED",
    };

    return (unsigned)k < sizeof names / sizeof *names ? names[k] : "?";
}

void hh_sig_reject_set(struct hh_sig_reject *rej, enum hh_sig_reason reason,
                       hh_time_t received_at, const char *fmt, ...)
{
    va_list ap;

    memset(rej, 0, sizeof *rej);
    rej->received_at = received_at;
    rej->reason = reason;
    va_start(ap, fmt);
    vsnprintf(rej->detail, sizeof rej->detail, fmt, ap);
    va_end(ap);
}

int hh_position_apply(struct hh_position *pos, enum hh_side side, hh_qty_t qty,
                      hh_price_t price)
{
    __int128 q0 = pos->qty, q1 = q0 + (__int128)side * qty;
    __int128 open = q0 < 0 ? -q0 : q0;

    if (qty <= 0)
        return HH_EINVAL;
    if (!hh_i128_fits(q1))
        return HH_EOVERFLOW;
    if (q0 == 0 || (q0 > 0) == (side == HH_BUY)) {
        pos->avg = (hh_price_t)hh_i128_div_round(open * pos->avg + (__int128)qty * price,
                                                 open + qty);
    } else {
        __int128 closed = open < qty ? open : qty;
        __int128 r = pos->realised + closed * (price - pos->avg) * (q0 > 0 ? 1 : -1);

        if (!hh_i128_fits(r))
            return HH_EOVERFLOW;
        pos->realised = (hh_money_t)r;
        if (q1 == 0)
            pos->avg = 0;
        else if ((q1 > 0) != (q0 > 0))
            pos->avg = price;          /* flipped: the rest opened at this price */
    }
    pos->qty = (hh_qty_t)q1;
    return HH_OK;
}
