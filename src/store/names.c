/*
 * names.c — the store's enum names (audit kinds, trade states, record
 * kinds, kill-switch actions and states): what the database, the audit
 * trail and the CLI print.  A leaf: nothing but the enums of store.h.
 */
#include "store/store.h"

#include <string.h>

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
        "POSITION", "TRADE", "GROUP", "CHECKPOINT", "AUDIT", "KILL", "KILL_APPLIED",
        "OUTBOX", "OUTBOX_SENT", "CHUNK",
    };

    return (unsigned)k < sizeof names / sizeof *names ? names[k] : "?";
}

static const char *const KILL_ACTION[] = {
#define HH__KILL_ACTION(e, action, state) action,
    HH_STORE_KILL_ACTIONS(HH__KILL_ACTION)
#undef HH__KILL_ACTION
};

static const char *const KILL_STATE[] = {
#define HH__KILL_STATE(e, action, state) state,
    HH_STORE_KILL_ACTIONS(HH__KILL_STATE)
#undef HH__KILL_STATE
};

const char *hh_store_kill_action_name(enum hh_store_kill_action a)
{
    return (unsigned)a < HH_KILL_COUNT ? KILL_ACTION[a] : "?";
}

const char *hh_store_kill_state_name(enum hh_store_kill_action a)
{
    return (unsigned)a < HH_KILL_COUNT ? KILL_STATE[a] : "?";
}

int hh_store_kill_action_parse(const char *s)
{
    for (int a = 0; s && a < HH_KILL_COUNT; a++)
        if (!strcmp(s, KILL_ACTION[a]))
            return a;
    return -1;
}
