/*
 * kill.c — the kill switch in the journal: the latest request read back for
 * an engine (re)starting or polling, and a change the engine applies (or
 * `hedgehog kill` records with no engine running) as records of the step —
 * the kill_switch row or its "applied" mark, and the KILL_SWITCH audit row;
 * and the operations API's refusals (API_REFUSED), the other audited act of
 * an operator.
 *
 * Invariant: every KILL_SWITCH audit row this file writes names the action,
 * the state it leaves, the reason, who asked and when, and whether an
 * engine applied it; a request taken up from the table also names its id.
 */
#include "journal/journal_int.h"

int hh_journal_kill_state(const char *path, struct hh_store_kill_row *out, bool *found,
                          struct hh_diag *d)
{
    struct hh_store_reader *r = NULL;
    int rc = hh_store_reader_open(path, &r, d);

    if (!rc)
        rc = hh_store_read_kill(r, out, found, d);
    hh_store_reader_close(r);
    return rc;
}

/* The table side: a new request, or the stored one marked applied. */
static void kill_row(struct hh_journal *p, const struct hh_store_kill_row *k, bool applied,
                     hh_time_t at)
{
    struct hh_store_rec *r = hh_journal__rec(p, k->id ? HH_STORE_KILL_APPLIED : HH_STORE_KILL);

    if (!r)
        return;
    r->u.kill.id = k->id;
    r->u.kill.action = k->action;
    r->u.kill.reason = hh_journal__keep(p, k->reason);
    r->u.kill.at = k->at;
    r->u.kill.by = hh_journal__keep(p, k->by);
    r->u.kill.applied_at = applied ? at : HH_TIME_NONE;
}

int hh_journal_api_refused(struct hh_journal *p, const char *code, const char *method,
                           const char *path, const char *client, hh_time_t at)
{
    if (p->rc)
        return p->rc;
    hh_journal__payload_begin(p);
    hh_json_str(&p->j, "code", code);
    hh_json_str(&p->j, "method", method);
    hh_json_str(&p->j, "path", path);
    hh_json_str(&p->j, "client", client);
    hh_journal__audit(p, HH_AUDIT_API_REFUSED, at, NULL);
    return p->rc;
}

int hh_journal_kill(struct hh_journal *p, const struct hh_store_kill_row *k, bool applied,
                    hh_time_t at)
{
    if (p->rc)
        return p->rc;
    /* the caller's mistake, not the journal's failure: nothing latched */
    if ((unsigned)k->action >= HH_KILL_COUNT || (k->id && !applied))
        return HH_EINVAL;
    kill_row(p, k, applied, at);
    hh_journal__payload_begin(p);
    if (k->id)
        hh_json_int(&p->j, "request_id", k->id);
    hh_json_str(&p->j, "action", hh_store_kill_action_name(k->action));
    hh_json_str(&p->j, "state", hh_store_kill_state_name(k->action));
    hh_json_str(&p->j, "reason", k->reason);
    hh_json_str(&p->j, "by", k->by);
    hh_json_time(&p->j, "requested_at", k->at);
    hh_json_bool(&p->j, "applied", applied);
    hh_journal__audit(p, HH_AUDIT_KILL_SWITCH, at, NULL);
    return p->rc;
}
