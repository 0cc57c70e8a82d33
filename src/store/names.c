/*
 * names.c — the store's enum names (audit kinds, trade states, record
 * kinds): what the database, the audit trail and the CLI print.  A leaf:
 * nothing but the enums of store.h.
 */
#include "store/store.h"

const char *hh_audit_kind_name(enum hh_audit_kind k)
{
    switch (k) {
#define HH__AUDIT_NAME(name) case HH_AUDIT_##name: return #name;
    HH_AUDIT_KINDS(HH__AUDIT_NAME)
#undef HH__AUDIT_NAME
    default:
        return "?";
    }
}

const char *hh_store_tstate_name(enum hh_store_tstate s)
{
    switch (s) {
#define HH__TS_NAME(name) case HH_TS_##name: return #name;
    HH_STORE_TSTATES(HH__TS_NAME)
#undef HH__TS_NAME
    default:
        return "?";
    }
}

const char *hh_store_kind_name(enum hh_store_kind k)
{
    static const char *const names[] = {
        "?", "SIGNAL", "TRADE_STATE", "ORDER", "ORDER_EVENT", "FILL",
        "POSITION", "TRADE", "GROUP", "CHECKPOINT", "AUDIT", "OUTBOX", "OUTBOX_SENT",
    };

    return (unsigned)k < sizeof names / sizeof *names ? names[k] : "?";
}
