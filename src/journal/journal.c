/*
 * journal.c — the journal's handle and its steps: records pending for the
 * step, their payloads, their submission as one atomic group, checkpoints,
 * and the audit rows of the run itself (CONFIG_LOADED, ENGINE_START,
 * ENGINE_STOP).  What is written per event: journal.h.
 *
 * Invariants
 *   - Records of one engine step accumulate in `recs` (their strings in an
 *     arena of fixed blocks, so pointers stay valid while it grows) and
 *     leave in ONE hh_store_submit(): the step's atomic group.  A checkpoint
 *     due at the step's end is the group's last record, so a checkpoint and
 *     the records it reflects commit together.
 *   - The engine is only read, never changed: the snapshot is taken between
 *     steps, when the manager is consistent (never from inside a callback).
 *   - Bookkeeping needed to describe an event completely — an order's
 *     description for a report that carries only its id, a trade's state
 *     for "first entry fill = OPEN", net positions (book.c) — is reloaded by
 *     hh_journal_restore(); it is bounded by what is live (terminal orders
 *     and trades are forgotten).
 *   - The first failure is latched (p->rc, p->d); everything after it
 *     returns it.  Nothing is retried: a failed store is failed for good.
 *
 * Checkpoint seq = the engine's change count over the database's life: the
 * count of the restored checkpoint plus hh_tm_changes() since attach, so a
 * checkpoint written after a restart sorts after the one it came from.
 */
#include "journal/journal_int.h"

#include "core/digest.h"
#include "core/grow.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the step's strings: an arena of fixed blocks -------------------------------- */

#define ARENA_BLOCK 65536

static void arena_reset(struct arena *a)
{
    /* keep one standard block for the next step */
    while (a->head && (a->head->next || a->head->cap != ARENA_BLOCK)) {
        struct ablock *b = a->head;

        a->head = b->next;
        free(b);
    }
    if (a->head)
        a->head->used = 0;
}

static void arena_free(struct arena *a)
{
    while (a->head) {
        struct ablock *b = a->head;

        a->head = b->next;
        free(b);
    }
}

/* A NUL-terminated copy of s[0..n); NULL when out of memory. */
static char *arena_copy(struct arena *a, const char *s, size_t n)
{
    struct ablock *b = a->head;
    char *out;

    if (!b || b->cap - b->used < n + 1) {
        size_t cap = n + 1 > ARENA_BLOCK ? n + 1 : ARENA_BLOCK;

        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->used = 0;
        b->cap = cap;
        b->next = a->head;
        a->head = b;
    }
    out = b->data + b->used;
    memcpy(out, s, n);
    out[n] = '\0';
    b->used += n + 1;
    return out;
}

/* ---- failure --------------------------------------------------------------------- */

int hh_journal__latch(struct hh_journal *p, int rc, const char *fmt, ...)
{
    va_list ap;

    if (p->rc)
        return p->rc;
    p->rc = rc;
    va_start(ap, fmt);
    vsnprintf(p->d.msg, sizeof p->d.msg, fmt, ap);
    va_end(ap);
    return rc;
}

int hh_journal__diag(const struct hh_journal *p, struct hh_diag *d)
{
    if (d && p->rc)
        snprintf(d->msg, sizeof d->msg, "%s", p->d.msg);
    return p->rc;
}

/* ---- small helpers --------------------------------------------------------------- */

const char *hh_journal__sym(const struct hh_journal *p, hh_iid_t iid)
{
    const struct hh_instrument *in = hh_inst_get(p->inst, iid);

    return in ? in->symbol : "?";
}

const char *hh_journal__keep_n(struct hh_journal *p, const char *s, size_t n)
{
    const char *c = arena_copy(&p->ar, s, n);

    if (!c)
        hh_journal__latch(p, HH_ENOMEM, "out of memory recording the run");
    return c;
}

const char *hh_journal__keep(struct hh_journal *p, const char *s)
{
    return s ? hh_journal__keep_n(p, s, strlen(s)) : NULL;
}

struct hh_store_rec *hh_journal__rec(struct hh_journal *p, enum hh_store_kind k)
{
    struct hh_store_rec *r;

    if (p->rc)
        return NULL;
    if (hh_grow(&p->recs, &p->caprecs, p->nrecs + 1, sizeof *p->recs)) {
        hh_journal__latch(p, HH_ENOMEM, "out of memory recording the run");
        return NULL;
    }
    r = &p->recs[p->nrecs++];
    memset(r, 0, sizeof *r);
    r->kind = k;
    return r;
}

/* ---- JSON payloads --------------------------------------------------------------- */

void hh_journal__payload_begin(struct hh_journal *p)
{
    hh_json_reset(&p->j);
    hh_json_begin_object(&p->j, NULL, false);
    if (p->o.shadow)
        hh_json_bool(&p->j, "shadow", true);   /* nothing of this row reached a broker */
}

void hh_journal__payload_fx(struct hh_journal *p, const char *key, int64_t v)
{
    hh_json_dec(&p->j, key, v, HH_FX_DIGITS, HH_FX_DIGITS, 2);
}

const char *hh_journal__payload_keep(struct hh_journal *p)
{
    if (hh_json_status(&p->j))
        hh_journal__latch(p, HH_ENOMEM, "out of memory recording the run");
    return p->rc ? NULL : hh_journal__keep(p, hh_json_text(&p->j));
}

void hh_journal__audit(struct hh_journal *p, enum hh_audit_kind kind, hh_time_t at,
                       const char *corr)
{
    struct hh_store_rec *r;
    const char *payload;

    hh_json_end_object(&p->j);
    payload = hh_journal__payload_keep(p);
    r = hh_journal__rec(p, HH_STORE_AUDIT);
    if (!r)
        return;
    r->u.audit.at = at;
    r->u.audit.kind = kind;
    r->u.audit.correlation_id = hh_journal__keep(p, corr);
    r->u.audit.payload = payload;
    p->stats.audits++;
}

/* Latch a failure of the store: the run must stop. */
static void store_failed(struct hh_journal *p, int rc, const char *why)
{
    hh_journal__latch(p, rc, "the database failed, stopping (never trade without memory): %s",
                      why);
}

/* ---- submitting ------------------------------------------------------------------ */

/* Records whose time the event did not say (a risk rejection, a config
 * loaded before the clock started) take the step's: `now`, else the latest
 * engine time seen (0 before any). */
static void fix_times(struct hh_journal *p, hh_time_t now)
{
    hh_time_t t = now != HH_TIME_NONE ? now : p->last_at;

    for (size_t i = 0; i < p->nrecs; i++) {
        struct hh_store_rec *r = &p->recs[i];
        hh_time_t *at = NULL;

        switch (r->kind) {
        case HH_STORE_TRADE:
        case HH_STORE_KILL:            /* applied_at NONE: not applied */
        case HH_STORE_KILL_APPLIED:
            break;
        case HH_STORE_SIGNAL: at = &r->u.signal.decided_at; break;
        case HH_STORE_TRADE_STATE: at = &r->u.trade_state.at; break;
        case HH_STORE_ORDER: at = &r->u.order.at; break;
        case HH_STORE_ORDER_EVENT: at = &r->u.order_event.at; break;
        case HH_STORE_FILL: at = &r->u.fill.ts; break;
        case HH_STORE_POSITION: at = &r->u.position.at; break;
        case HH_STORE_GROUP: at = &r->u.group.at; break;
        case HH_STORE_CHECKPOINT: at = &r->u.checkpoint.at; break;
        case HH_STORE_AUDIT: at = &r->u.audit.at; break;
        case HH_STORE_OUTBOX: at = &r->u.outbox.at; break;
        case HH_STORE_OUTBOX_SENT:
        case HH_STORE_CHUNK: break;
        }
        if (at && *at == HH_TIME_NONE)
            *at = t;
    }
}

int hh_journal__submit(struct hh_journal *p, hh_time_t now)
{
    struct hh_diag d = { { 0 } };
    uint64_t seq = 0;
    int rc;

    if (p->rc || !p->nrecs)
        goto out;
    fix_times(p, now);
    rc = hh_store_submit(p->st, p->recs, p->nrecs, 0, &seq, &d);
    if (rc) {
        store_failed(p, rc, d.msg);
        goto out;
    }
    p->last_seq = seq;
    p->stats.records += p->nrecs;
    p->stats.groups++;
out:
    p->nrecs = 0;
    p->last_signal = 0;
    arena_reset(&p->ar);
    return p->rc;
}

/* ---- checkpoints ----------------------------------------------------------------- */

static bool ckpt_due(const struct hh_journal *p, uint64_t ch, hh_time_t now)
{
    if (ch == p->ckpt_changes_at)
        return false;
    if (!p->o.ckpt_changes && !p->o.ckpt_interval)
        return true;
    if (p->o.ckpt_changes && ch - p->ckpt_changes_at >= p->o.ckpt_changes)
        return true;
    return p->o.ckpt_interval &&
           (p->ckpt_at == HH_TIME_NONE || now - p->ckpt_at >= p->o.ckpt_interval);
}

/* Only the candles moved, and the last checkpoint is ckpt_market_interval
 * old (struct hh_journal_opts): one compare on the path of most ticks. */
static bool market_due(const struct hh_journal *p, hh_time_t now)
{
    return p->o.ckpt_market_interval && now != HH_TIME_NONE &&
           hh_tm_market_changes(p->tm) != p->ckpt_market_at &&
           (p->ckpt_at == HH_TIME_NONE || now - p->ckpt_at >= p->o.ckpt_market_interval);
}

/* Queue a checkpoint of the attached manager (ckpt.c: its chunks the
 * store lacks, then the checkpoint row), its state hash into hash when
 * given (the final checkpoint, whose hash ENGINE_STOP names). */
static void add_checkpoint(struct hh_journal *p, hh_time_t now, char *hash)
{
    struct hh_store_checkpoint ck = { 0 };
    struct hh_store_rec *r;
    char root[HH_DIGEST_HEX];
    uint64_t ch = hh_tm_changes(p->tm);

    if (p->rc)
        return;
    if (hh_journal__ckpt_take(p, &ck, root)) {
        hh_journal__latch(p, HH_ENOMEM, "out of memory taking a checkpoint of the engine");
        return;
    }
    if (!(r = hh_journal__rec(p, HH_STORE_CHECKPOINT)))
        return;
    if (hash)
        memcpy(hash, root, sizeof root);
    ck.at = now;
    ck.seq = p->changes_base + (ch - p->attach_changes);
    ck.state_hash = hh_journal__keep(p, root);
    r->u.checkpoint = ck;
    p->ckpt_changes_at = ch;
    p->ckpt_market_at = hh_tm_market_changes(p->tm);
    p->ckpt_at = now;
    p->stats.checkpoints++;
}

int hh_journal_step(struct hh_journal *p, hh_time_t now)
{
    uint64_t ch;

    if (p->rc)
        return p->rc;
    if (!p->tm)
        return hh_journal__submit(p, now);
    ch = hh_tm_changes(p->tm);
    if (ch == p->seen_changes && !p->nrecs && !market_due(p, now))
        return HH_OK;   /* nothing happened: the path of most ticks */
    if (now == HH_TIME_NONE)
        now = p->last_at;
    p->last_at = now;
    if (ch != p->seen_changes) {
        p->seen_changes = ch;
        if (hh_tm_group_count(p->tm))
            hh_journal__scan_groups(p);
        if (ckpt_due(p, ch, now))
            add_checkpoint(p, now, NULL);
    }
    if (market_due(p, now))
        add_checkpoint(p, now, NULL);
    return hh_journal__submit(p, now);
}

/* The final checkpoint and ENGINE_STOP (figures of the run, the state hash). */
static void engine_stop(struct hh_journal *p, hh_time_t now)
{
    const struct hh_tm_stats *s = hh_tm_stats(p->tm);
    char hash[HH_DIGEST_HEX] = "";

    p->seen_changes = hh_tm_changes(p->tm);
    if (hh_tm_group_count(p->tm))
        hh_journal__scan_groups(p);
    add_checkpoint(p, now, hash);
    hh_journal__payload_begin(p);
    hh_json_str(&p->j, "mode", p->mode);
    hh_json_uint(&p->j, "trades", s->trades_closed);
    hh_json_uint(&p->j, "wins", s->wins);
    hh_json_uint(&p->j, "losses", s->losses);
    hh_journal__payload_fx(p, "net_pnl", s->net);
    hh_journal__payload_fx(p, "equity", s->equity);
    hh_json_uint(&p->j, "waiting", s->waiting);
    hh_json_uint(&p->j, "open", s->open);
    hh_json_uint(&p->j, "checkpoints", p->stats.checkpoints);
    hh_json_str(&p->j, "state_hash", hash);
    hh_journal__audit(p, HH_AUDIT_ENGINE_STOP, now, NULL);
}

int hh_journal_finish(struct hh_journal *p, hh_time_t now, struct hh_diag *d)
{
    struct hh_diag fd = { { 0 } };
    int rc;

    if (now == HH_TIME_NONE)
        now = p->last_at;
    p->last_at = now;
    if (!p->rc && p->tm)
        engine_stop(p, now);
    hh_journal__submit(p, now);
    if (!p->rc && (rc = hh_store_flush(p->st, &fd)) != HH_OK)
        store_failed(p, rc, fd.msg);
    return hh_journal__diag(p, d);
}

/* ---- the handle ------------------------------------------------------------------ */

void hh_journal_opts_default(struct hh_journal_opts *o)
{
    memset(o, 0, sizeof *o);
    o->sync = HH_STORE_SYNC_NORMAL;
    o->ckpt_changes = 10000;
    o->ckpt_interval = HH_NS_PER_MIN;
    o->mode = "backtest";
}

int hh_journal_open(const char *path, const struct hh_journal_opts *o,
                    const struct hh_instruments *inst, struct hh_journal **out,
                    struct hh_diag *d)
{
    struct hh_journal_opts def;
    struct hh_store_opts so;
    struct hh_journal *p;
    int rc;

    *out = NULL;
    if (!o) {
        hh_journal_opts_default(&def);
        o = &def;
    }
    p = calloc(1, sizeof *p);
    if (!p || hh_u64map_init(&p->by_oid, 64)) {
        free(p);
        return hh_diag_set(d, HH_ENOMEM, "out of memory");
    }
    if (hh_journal__ckpt_init(&p->ck)) {
        hh_u64map_free(&p->by_oid);
        free(p);
        return hh_diag_set(d, HH_ENOMEM, "out of memory");
    }
    p->o = *o;
    hh_json_init(&p->j, 0, NULL, 0);
    snprintf(p->mode, sizeof p->mode, "%s", o->mode ? o->mode : "run");
    p->o.mode = p->mode;
    p->inst = inst;
    p->free_ord = -1;
    p->ckpt_at = HH_TIME_NONE;
    p->last_at = 0;
    hh_store_opts_default(&so);
    so.sync = o->sync;
    so.max_pages = o->max_pages;
    so.audit_key = o->audit_key;
    p->o.audit_key = NULL;              /* copied by the store, never kept */
    rc = hh_store_open(path, &so, &p->st, d);
    if (rc) {
        hh_u64map_free(&p->by_oid);
        hh_journal__ckpt_free(&p->ck);
        free(p);
        return rc;
    }
    *out = p;
    return HH_OK;
}

int hh_journal_close(struct hh_journal *p, struct hh_diag *d)
{
    struct hh_diag cd = { { 0 } };
    int rc;

    if (!p)
        return HH_OK;
    rc = hh_store_close(p->st, &cd);
    if (rc)
        hh_journal__latch(p, rc, "the database failed: %s", cd.msg);
    rc = hh_journal__diag(p, d);
    free(p->recs);
    arena_free(&p->ar);
    hh_journal__ckpt_free(&p->ck);
    hh_json_free(&p->j);
    free(p->ords);
    hh_u64map_free(&p->by_oid);
    free(p->trades.e);
    free(p->pos);
    free(p->groups);
    free(p);
    return rc;
}

int hh_journal_status(struct hh_journal *p, struct hh_diag *d)
{
    struct hh_diag sd = { { 0 } };
    int rc;

    if (!p->rc && (rc = hh_store_status(p->st, &sd)) != HH_OK)
        store_failed(p, rc, sd.msg);
    return hh_journal__diag(p, d);
}

const struct hh_journal_stats *hh_journal_stats(const struct hh_journal *p)
{
    return &p->stats;
}

struct hh_store *hh_journal_store(struct hh_journal *p)
{
    return p->st;
}

uint64_t hh_journal_last_seq(const struct hh_journal *p)
{
    return p->last_seq;
}

int hh_journal_attach(struct hh_journal *p, struct hh_tm *tm, hh_time_t at, struct hh_diag *d)
{
    p->tm = tm;
    p->attach_changes = p->seen_changes = p->ckpt_changes_at = hh_tm_changes(tm);
    hh_journal__payload_begin(p);
    hh_json_str(&p->j, "mode", p->mode);
    if (p->o.account)
        hh_json_str(&p->j, "account", p->o.account);
    if (p->o.capital > 0)
        hh_journal__payload_fx(p, "capital", p->o.capital);
    if (p->o.build)
        hh_json_str(&p->j, "build", p->o.build);
    if (p->restored_hash[0]) {
        hh_json_str(&p->j, "restored_state_hash", p->restored_hash);
        hh_json_uint(&p->j, "restored_changes", p->changes_base);
    }
    hh_journal__audit(p, HH_AUDIT_ENGINE_START, at, NULL);
    hh_journal__submit(p, at);
    return hh_journal__diag(p, d);
}

void hh_journal_divergence(struct hh_journal *p, hh_time_t at, const char *kind,
                           const char *symbol, uint64_t order_id, int64_t engine_qty,
                           int64_t broker_qty)
{
    hh_journal__payload_begin(p);
    hh_json_str(&p->j, "kind", kind);
    hh_json_str(&p->j, "symbol", symbol);
    hh_json_uint(&p->j, "order_id", order_id);
    hh_json_int(&p->j, "engine", engine_qty);
    hh_json_int(&p->j, "broker", broker_qty);
    hh_journal__audit(p, HH_AUDIT_RECONCILE_DIVERGENCE, at, NULL);
}

/* ---- configuration --------------------------------------------------------------- */

/* The bytes of the file at path (malloc'd into *text, the caller frees it). */
static int read_all(const char *path, char **text, size_t *len, struct hh_diag *d)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL, *grown;
    size_t n = 0, cap = 0, got;
    int rc = HH_OK;

    if (!f)
        return hh_diag_set(d, HH_EIO, "%s: cannot read the configuration to record it", path);
    do {
        if (n == cap) {
            cap = cap ? 2 * cap : 16384;
            if (!(grown = realloc(buf, cap))) {
                rc = hh_diag_set(d, HH_ENOMEM, "out of memory");
                break;
            }
            buf = grown;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    if (!rc && ferror(f))
        rc = hh_diag_set(d, HH_EIO, "%s: read error", path);
    fclose(f);
    if (rc) {
        free(buf);
        return rc;
    }
    *text = buf;
    *len = n;
    return HH_OK;
}

int hh_journal_config(struct hh_journal *p, const char *config_path, hh_time_t at,
                      struct hh_diag *d)
{
    char *text = NULL;
    size_t len = 0;
    int rc;

    if (config_path && (rc = read_all(config_path, &text, &len, d)) != HH_OK)
        return rc;
    rc = hh_journal_config_text(p, config_path, text, len, NULL, at, d);
    free(text);
    return rc;
}

int hh_journal_config_text(struct hh_journal *p, const char *config_path, const char *text,
                           size_t len, const char *changed, hh_time_t at, struct hh_diag *d)
{
    char hash[HH_DIGEST_HEX] = "";

    if (p->rc)
        return hh_journal__diag(p, d);
    if (config_path && hh_digest_hex(text, len, hash))
        return hh_diag_set(d, HH_ENOMEM, "SHA-256 failed (OpenSSL)");
    hh_journal__payload_begin(p);
    hh_json_str(&p->j, "path", config_path);
    hh_json_str(&p->j, "sha256", config_path ? hash : NULL);
    if (config_path) {
        hh_json_uint(&p->j, "bytes", len);
        hh_json_strn(&p->j, "text", text, len);
    }
    if (changed)
        hh_json_str(&p->j, "changed", changed);
    hh_journal__audit(p, HH_AUDIT_CONFIG_LOADED, at, NULL);
    hh_journal__submit(p, at);
    return hh_journal__diag(p, d);
}
