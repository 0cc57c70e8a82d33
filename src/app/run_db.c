/*
 * run_db.c — `hedgehog run`'s database before the engine starts (SPEC
 * §10a): a database belongs to one mode and one broker account, fixed by
 * its first start; its capital is the first start's; a configuration that
 * changed since the last start is named key by key (config_changed) and
 * applies from this start.  What the earlier starts recorded is read first
 * (hh_journal_history), so a database that is not this run's is refused
 * (exit 2) before anything is written to it.
 */
#include "app/run.h"
#include "app/version.h"

#include "core/digest.h"

#include <stdlib.h>
#include <string.h>

/* The account a paper or shadow run trades: the simulated exchange's. */
#define PAPER_ACCOUNT "paper"

/* The broker account this run trades: live, the configured broker.account
 * (the Kite user id); paper and shadow, the simulated exchange. */
static const char *run_account(const struct run *R)
{
    return strcmp(R->mode, "live") ? PAPER_ACCOUNT : R->w.cfg.broker.account;
}

/* Is the database this run's: never started, or first started in this
 * mode for this account?  Else exit-2 material naming both. */
static int check_owner(struct run *R)
{
    const struct hh_journal_history *h = &R->hist;
    const char *account = run_account(R);

    if (!h->started)
        return HH_OK;
    if (!strcmp(h->mode, "backtest"))
        return hh_diag_set(&R->d, HH_EINVAL, "%s: a backtest's database (written by `hedgehog "
                           "backtest --db`): `run` keeps a database of its own; give another "
                           "--db", R->db_path);
    if (strcmp(h->mode, R->mode) || (h->account[0] && strcmp(h->account, account)))
        return hh_diag_set(&R->d, HH_EINVAL, "%s: belongs to mode %s, account %s; this run is "
                           "mode %s, account %s: a database belongs to one mode and one broker "
                           "account (give another --db)", R->db_path, h->mode,
                           h->account[0] ? h->account : PAPER_ACCOUNT, R->mode, account);
    return HH_OK;
}

/* The capital is the database's first start's, whatever the file says now
 * (the equity of every trade since was measured from it). */
static void fix_capital(struct run *R)
{
    char file[40], fixed[40];

    if (!R->hist.capital || R->hist.capital == R->w.cfg.capital)
        return;
    hh_fx_format(file, sizeof file, R->w.cfg.capital, 2);
    hh_fx_format(fixed, sizeof fixed, R->hist.capital, 2);
    HH_JLOG(&R->log, HH_LOG_WARN, HH_TIME_NONE, "capital_fixed", NULL,
            "%s says capital %s; the database's first start fixed %s: %s applies", R->config,
            file, fixed, fixed);
    R->w.cfg.capital = R->hist.capital;
}

/* The last start's configuration parsed into *prev; false (and said in
 * the log) when it cannot be: not recorded (an older database), or no
 * longer loading. */
static bool last_config(struct run *R, const char *sha, struct hh_config *prev)
{
    const struct hh_journal_history *h = &R->hist;
    struct hh_diag pd = { "the last start did not record its text" };

    if (h->config_text &&
        !hh_config_parse(prev, R->config, h->config_text, h->config_len, false, &pd))
        return true;
    HH_JLOG(&R->log, HH_LOG_WARN, HH_TIME_NONE, "config_changed", NULL,
            "%s changed since the last start (sha256 %s -> %s); which keys is not known (%s); "
            "it applies from this start", R->config, h->config_sha256, sha, pd.msg);
    return false;
}

/* The keys that differ from the last start's configuration, logged
 * (config_changed) and returned for the audit trail; NULL when the file
 * is the one of the last start, or there was none. */
static const char *config_changes(struct run *R, char *keys, size_t cap)
{
    char sha[HH_DIGEST_HEX];
    struct hh_config *prev;
    bool capital;
    size_t n;

    if (!R->hist.config_sha256[0] || hh_digest_hex(R->w.config_text, R->w.config_len, sha) ||
        !strcmp(sha, R->hist.config_sha256) || !(prev = malloc(sizeof *prev)))
        return NULL;
    if (!last_config(R, sha, prev)) {
        free(prev);
        return NULL;
    }
    n = hh_config_diff(prev, &R->w.cfg, keys, cap);
    capital = prev->capital != R->w.cfg.capital;
    free(prev);
    if (!n) {
        HH_JLOG(&R->log, HH_LOG_INFO, HH_TIME_NONE, "config_changed", NULL,
                "%s changed since the last start (sha256 %s -> %s): no key's value differs "
                "(comments or layout only)", R->config, R->hist.config_sha256, sha);
        return NULL;
    }
    HH_JLOG(&R->log, HH_LOG_WARN, HH_TIME_NONE, "config_changed", NULL,
            "%s changed since the last start (sha256 %s -> %s): %zu key(s) differ: %s; they "
            "apply from this start%s", R->config, R->hist.config_sha256, sha, n, keys,
            capital ? " (capital excepted: the database's first start fixed it)" : "");
    return keys;
}

/* The journal, keyed with audit.key_file when set (read here, wiped once
 * the journal holds its own copy). */
static int open_journal(struct run *R, struct hh_journal_opts *o)
{
    struct hh_store_audit_key key = { .len = 0 };
    int rc;

    if (R->w.cfg.audit.key_file[0]) {
        if ((rc = hh_store_audit_key_read(R->w.cfg.audit.key_file, &key, &R->d)))
            return rc;
        o->audit_key = &key;
    }
    rc = hh_journal_open(R->db_path, o, R->w.inst, &R->db, &R->d);
    hh_store_audit_key_wipe(&key);
    return rc;
}

int run_open_db(struct run *R)
{
    struct hh_journal_opts o;
    char keys[1024] = "";
    const char *changed;
    int rc;

    if ((rc = hh_journal_history(R->db_path, &R->hist, &R->d)) || (rc = check_owner(R)))
        return rc;
    changed = config_changes(R, keys, sizeof keys);   /* the file's values, capital too */
    fix_capital(R);
    hh_journal_opts_default(&o);
    o.ckpt_changes = 0;   /* a live run checkpoints after every change */
    o.ckpt_interval = 0;
    if (R->w.cfg.market_data.kind == HH_CONFIG_MD_KITE)
        o.ckpt_market_interval = HH_NS_PER_S;   /* the socket replays nothing */
    o.mode = R->mode;
    o.shadow = R->shadow;
    o.account = run_account(R);
    o.capital = R->w.cfg.capital;
    o.build = hh_build_id();
    if (R->db_sync && !strcmp(R->db_sync, "full"))
        o.sync = HH_STORE_SYNC_FULL;
    if ((rc = open_journal(R, &o)))
        return rc;
    return hh_journal_config_text(R->db, R->config, R->w.config_text, R->w.config_len, changed,
                                  HH_TIME_NONE, &R->d);
}

void run_restore_failed(struct run *R)
{
    const char *build = R->hist.build;
    size_t n = strlen(R->d.msg);

    if (!build[0])
        return;
    if (strcmp(build, hh_build_id()))
        snprintf(R->d.msg + n, sizeof R->d.msg - n, " (its last start: build %s; this is "
                 "build %s)", build, hh_build_id());
    else
        snprintf(R->d.msg + n, sizeof R->d.msg - n, " (its last start was this very build, "
                 "%s: not another build — the database is damaged, or the instruments "
                 "changed what its state holds)", build);
}
