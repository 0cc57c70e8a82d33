/*
 * cmd_kill.c — `hedgehog kill`: the kill switch from the command line, for
 * when the API is down (SPEC §12; docs/OPERATIONS.md "Kill switch").
 *
 *   hedgehog kill --db FILE --action pause|reduce|halt|flatten|resume
 *                 [--reason TEXT] [--key-file KEY]
 *       Records the request in the database, durably, so that a running
 *       engine takes it up at its next poll and a starting one starts in
 *       its state.  Two ways, chosen by who holds the database:
 *         - no engine (the writer lock is free): through the store's writer,
 *           the request and its KILL_SWITCH audit row in one transaction
 *           (keyed with --key-file when the audit chain is keyed);
 *         - an engine runs (the lock is held), or the chain is keyed and no
 *           key was given: through a connection of its own that inserts the
 *           request only (hh_store_kill_request: safe beside the writer,
 *           which it never disturbs); the engine audits it when it applies
 *           it.
 *   hedgehog kill --db FILE --status
 *       The latest request: state, action, who, when, why, and whether an
 *       engine has applied it.
 *
 * The request is stamped with the wall clock and "cli:USER" (the
 * effective user).  Exit codes (SPEC §6): 0 recorded / shown; 1 writing
 * failed (full disk, I/O); 2 bad usage, or the database is missing,
 * unreadable, not hedgehog's, too new or too old (no kill_switch table
 * while an older engine holds it), or an unsafe key file.
 */
#include "app/cmd.h"
#include "app/common.h"
#include "core/time.h"
#include "journal/journal.h"
#include "store/store.h"

#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char hh_usage_kill[] =
    "usage: hedgehog kill --db FILE --action pause|reduce|halt|flatten|resume "
    "[--reason TEXT] [--key-file KEY]\n"
    "       hedgehog kill --db FILE --status\n";
#define USAGE hh_usage_kill

/* How long a request waits for the engine's write transaction. */
#define BUSY_MS 10000

static int say(int code, const char *msg)
{
    return hh_app_say("kill", NULL, code, "%s", msg);
}

/* ---- --status ---------------------------------------------------------------------- */

static void print_request(const struct hh_store_kill_row *k)
{
    char at[40], applied[40];

    hh_time_format(k->at, at, sizeof at);
    printf("kill switch: %s (%s), request %lld at %s by %s%s%s%s\n",
           hh_store_kill_state_name(k->action), hh_store_kill_action_name(k->action),
           (long long)k->id, at, k->by, *k->reason ? ": \"" : "", k->reason,
           *k->reason ? "\"" : "");
    if (k->applied_at == HH_TIME_NONE) {
        printf("kill switch: pending: no engine has applied it yet (a running engine takes it "
               "up at its next poll, a starting one at its start)\n");
        return;
    }
    hh_time_format(k->applied_at, applied, sizeof applied);
    printf("kill switch: applied by the engine at %s (engine time)\n", applied);
}

static int status(const char *db)
{
    struct hh_store_kill_row k;
    struct hh_diag d = { { 0 } };
    bool found = false;

    if (hh_journal_kill_state(db, &k, &found, &d))
        return say(HH_EXIT_USAGE, d.msg);
    if (!found)
        printf("kill switch: ACTIVE (no request recorded)\n");
    else
        print_request(&k);
    return fflush(stdout) ? say(HH_EXIT_FAIL, "write error on stdout") : HH_EXIT_OK;
}

/* ---- a request --------------------------------------------------------------------- */

/* "cli:USER" of the effective user. */
static void who(char *by, size_t cap)
{
    const struct passwd *pw = getpwuid(geteuid());

    if (pw && pw->pw_name)
        snprintf(by, cap, "cli:%s", pw->pw_name);
    else
        snprintf(by, cap, "cli:uid %ld", (long)geteuid());
}

static hh_time_t wall_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (hh_time_t)ts.tv_sec * HH_NS_PER_S + ts.tv_nsec;
}

/* Through the writer: request + KILL_SWITCH audit, one transaction.
 * HH_ESTATE when an engine holds the database, HH_ECONFIG when its chain
 * is keyed and no key was given: the caller then uses the side door. */
static int record_offline(const char *db, const struct hh_store_kill_row *k,
                          const struct hh_store_audit_key *key, struct hh_diag *d)
{
    struct hh_journal_opts o;
    struct hh_journal *p = NULL;
    int rc;

    hh_journal_opts_default(&o);
    o.mode = "kill";
    o.audit_key = key;
    rc = hh_journal_open(db, &o, NULL, &p, d);
    if (rc)
        return rc;
    rc = hh_journal_kill(p, k, false, k->at);
    if (!rc)
        rc = hh_journal_finish(p, k->at, d);
    if (hh_journal_close(p, rc ? NULL : d) && !rc)
        rc = HH_EDB;
    return rc;
}

/* Beside a running engine: the request alone. */
static int record_beside(const char *db, const struct hh_store_kill_row *k, int64_t *id,
                         struct hh_diag *d)
{
    const struct hh_store_kill rec = {
        .id = 0, .action = k->action, .reason = k->reason, .at = k->at, .by = k->by,
        .applied_at = HH_TIME_NONE,
    };

    return hh_store_kill_request(db, &rec, BUSY_MS, id, d);
}

/* The request row from the command line; exit code. */
static int build(const char *action, const char *reason, struct hh_store_kill_row *k)
{
    int a = hh_store_kill_action_parse(action);

    memset(k, 0, sizeof *k);
    if (a < 0)
        return hh_app_say("kill", USAGE, HH_EXIT_USAGE,
                          "--action: pause, reduce, halt, flatten or resume, not '%s'", action);
    if (reason && strlen(reason) > HH_STORE_KILL_REASON_MAX)
        return hh_app_say("kill", NULL, HH_EXIT_USAGE, "--reason: at most %d bytes",
                          HH_STORE_KILL_REASON_MAX);
    k->action = (enum hh_store_kill_action)a;
    snprintf(k->reason, sizeof k->reason, "%s", reason ? reason : "");
    who(k->by, sizeof k->by);
    k->at = wall_now();
    k->applied_at = HH_TIME_NONE;
    return HH_EXIT_OK;
}

/* The exit code of a failed write: the database unusable as given (2), or
 * the write itself failed (1). */
static int write_failed(int rc, const char *msg)
{
    return say(rc == HH_EFULL || rc == HH_EIO ? HH_EXIT_FAIL : HH_EXIT_USAGE, msg);
}

static int request(const char *db, const struct hh_store_kill_row *k,
                   const struct hh_store_audit_key *key)
{
    struct hh_store_reader *r = NULL;
    struct hh_diag d = { { 0 } };
    int64_t id = 0;
    int rc = hh_store_reader_open(db, &r, &d);   /* exists, hedgehog's: never created */

    hh_store_reader_close(r);
    if (rc)
        return say(HH_EXIT_USAGE, d.msg);
    rc = record_offline(db, k, key, &d);
    if (!rc) {
        printf("kill switch: %s (%s) recorded and audited (KILL_SWITCH); no engine holds the "
               "database: the next one starts %s\n", hh_store_kill_state_name(k->action),
               hh_store_kill_action_name(k->action), hh_store_kill_state_name(k->action));
        return status(db);
    }
    if (rc != HH_ESTATE && rc != HH_ECONFIG)
        return write_failed(rc, d.msg);
    rc = record_beside(db, k, &id, &d);
    if (rc)
        return write_failed(rc, d.msg);
    printf("kill switch: %s (%s) requested, request %lld: %s; the engine applies and audits "
           "it (hedgehog kill --status shows when)\n", hh_store_kill_state_name(k->action),
           hh_store_kill_action_name(k->action), (long long)id,
           key ? "an engine holds the database"
               : "an engine holds the database, or its audit trail is keyed (--key-file)");
    return fflush(stdout) ? say(HH_EXIT_FAIL, "write error on stdout") : HH_EXIT_OK;
}

int hh_cmd_kill(int argc, char **argv)
{
    const char *db, *action, *reason, *key_file, *st;
    const struct hh_opt opts[] = {
        { "--db", &db, true, false },
        { "--action", &action, false, false },
        { "--reason", &reason, false, false },
        { "--key-file", &key_file, false, false },
        { "--status", &st, false, true },
    };
    struct hh_store_kill_row k;
    struct hh_store_audit_key key;
    struct hh_diag d = { { 0 } };
    int rc;

    if (hh_app_parse("kill", USAGE, argc, argv, opts, 5))
        return HH_EXIT_USAGE;
    if (!st == !action || (st && (reason || key_file)))
        return hh_app_say("kill", USAGE, HH_EXIT_USAGE, "give --action or --status");
    if (st)
        return status(db);
    rc = build(action, reason, &k);
    if (rc)
        return rc;
    if (key_file && hh_store_audit_key_read(key_file, &key, &d))
        return say(HH_EXIT_USAGE, d.msg);
    rc = request(db, &k, key_file ? &key : NULL);
    if (key_file)
        hh_store_audit_key_wipe(&key);
    return rc;
}
