/*
 * model.c — names of the shared vocabulary (core/model.h).
 */
#include "core/model.h"

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
