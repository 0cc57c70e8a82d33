/*
 * restore.c — the engine back from the database (contract in journal.h,
 * hh_journal_restore): the latest checkpoint, verified by its SHA-256 and
 * by the restored manager's own snapshot hashing the same; every signal id
 * ever received; and the journal's bookkeeping (open orders, live trades,
 * positions) so the records it writes next continue the ones before.
 *
 * Invariant: the database is only read, through a reader connection of its
 * own; a writer may have it open.
 */
#include "journal/journal_int.h"

#include "core/digest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rst_ctx {
    struct hh_journal *p;
    struct hh_sig_validator *v;
    struct hh_journal_restored *res;
    int rc;
    char why[256];
};

static void rst_id(void *ctx, const char *id, bool accepted)
{
    struct rst_ctx *c = ctx;
    int rc;

    (void)accepted;
    if (c->rc)
        return;
    rc = hh_sig_validator_seen(c->v, id);
    if (rc == HH_EINVAL)
        return;   /* not an id the validator could ever accept */
    if (rc) {
        c->rc = rc;
        snprintf(c->why, sizeof c->why, "out of memory registering signal ids");
        return;
    }
    c->res->signal_ids++;
}

static void rst_order(void *ctx, const struct hh_store_order *so)
{
    struct rst_ctx *c = ctx;
    struct hh_journal *p = c->p;
    hh_iid_t iid = hh_inst_find(p->inst, so->symbol, strlen(so->symbol));
    struct ord *o;

    if (c->rc || !so->order_id || iid == HH_IID_NONE || hh_journal__ord_get(p, so->order_id))
        return;   /* no broker id (outcome unknown) or unknown symbol: nothing to key */
    o = hh_journal__ord_add(p, so->order_id);
    if (!o) {
        c->rc = HH_ENOMEM;
        snprintf(c->why, sizeof c->why, "out of memory reloading orders");
        return;
    }
    snprintf(o->req.client_id, sizeof o->req.client_id, "%s", so->client_id);
    o->req.iid = iid;
    o->req.side = so->side;
    o->req.type = so->type;
    o->req.qty = so->qty;
    o->req.limit = so->limit;
    o->req.trigger = so->trigger;
    snprintf(o->trade_key, sizeof o->trade_key, "%s", so->trade_key ? so->trade_key : "");
    o->state = so->state;
    c->res->open_orders++;
}

static void rst_trade(void *ctx, const struct hh_store_trade_state_row *t)
{
    struct rst_ctx *c = ctx;

    if (c->rc || strlen(t->trade_key) >= HH_SIG_ID_MAX)
        return;
    if (hh_journal__trade_set(c->p, t->trade_key, t->correlation_id, t->state)) {
        c->rc = HH_ENOMEM;
        snprintf(c->why, sizeof c->why, "out of memory reloading trades");
        return;
    }
    c->res->active_trades++;
}

/* Net positions as last written. */
static void rst_position(void *ctx, const struct hh_store_position *row)
{
    struct rst_ctx *c = ctx;
    hh_iid_t iid = row->symbol ? hh_inst_find(c->p->inst, row->symbol, strlen(row->symbol))
                               : HH_IID_NONE;
    struct hh_position *ps;

    if (iid == HH_IID_NONE || c->rc)
        return;
    if (!(ps = hh_journal__position(c->p, iid))) {
        c->rc = HH_ENOMEM;
        snprintf(c->why, sizeof c->why, "out of memory reloading positions");
        return;
    }
    ps->qty = row->qty;
    ps->avg = row->avg_price;
    ps->realised = row->realised;
    c->res->positions++;
}

/* The state hash of the checkpoint read: from its chunks' digests, or
 * (a database from before chunks) the SHA-256 of its blob. */
static int stored_hash(const struct hh_store_checkpoint_row *row, char h[HH_DIGEST_HEX])
{
    if (row->ndigests)
        return hh_journal_manifest_hash(row->digests, row->ndigests, h);
    return hh_digest_hex(row->state, row->state_len, h);
}

/* The restored manager's state hash, by the rule the checkpoint used. */
static int restored_hash(const struct hh_tm *tm, const struct hh_store_checkpoint_row *row,
                         char h[HH_DIGEST_HEX])
{
    unsigned char *again = NULL;
    size_t n = 0;
    int rc;

    if (row->ndigests)
        return hh_journal_state_hash(tm, h);
    if ((rc = hh_tm_snapshot(tm, &again, &n)) != HH_OK)
        return rc;
    rc = hh_digest_hex(again, n, h);
    free(again);
    return rc;
}

/* The latest checkpoint restored into tm: its state must hash to its state
 * hash, and the restored manager's own snapshot must hash the same.
 * *found false (tm untouched) when the database has none. */
static int restore_engine(const char *path, struct hh_store_reader *r, struct hh_tm *tm,
                          struct hh_store_checkpoint_row *row, bool *found, struct hh_diag *d)
{
    char h[HH_DIGEST_HEX];
    int rc = hh_store_read_checkpoint(r, row, found, d);

    if (rc || !*found)
        return rc;
    if (stored_hash(row, h))
        return hh_diag_set(d, HH_ENOMEM, "SHA-256 failed (OpenSSL)");
    if (strcmp(h, row->state_hash))
        return hh_diag_set(d, HH_ETAMPER, "%s: the checkpoint (seq %llu) has state hash %s "
                           "but its state hashes to %s", path,
                           (unsigned long long)row->seq, row->state_hash, h);
    rc = hh_tm_restore(tm, row->state, row->state_len);
    if (rc)
        return hh_diag_set(d, rc, "%s: the checkpoint (seq %llu) cannot be restored (%s): "
                           "written by another build of hedgehog, or damaged", path,
                           (unsigned long long)row->seq, hh_strerror(rc));
    if (!hh_tm_restore_rewrites(tm))
        return HH_OK;   /* an older version, or candles of another timeframe */
    if (restored_hash(tm, row, h))
        return hh_diag_set(d, HH_ENOMEM, "out of memory hashing the restored engine");
    if (strcmp(h, row->state_hash))
        return hh_diag_set(d, HH_ETAMPER, "%s: the restored engine's state hash %s differs "
                           "from the checkpoint's %s", path, h, row->state_hash);
    return HH_OK;
}

/* The journal's bookkeeping as the database left it, and its checkpoint
 * counters continuing the restored checkpoint's. */
static int reload(struct rst_ctx *c, struct hh_store_reader *r,
                  const struct hh_store_checkpoint_row *row, bool found, struct hh_diag *d)
{
    struct hh_journal *p = c->p;
    int rc;

    if ((rc = hh_store_read_open_orders(r, rst_order, c, d)) != HH_OK ||
        (rc = hh_store_read_active_trades(r, rst_trade, c, d)) != HH_OK)
        return rc;
    if (!c->rc && (rc = hh_store_read_positions(r, rst_position, c, d)) != HH_OK)
        return rc;
    if (found) {
        p->changes_base = row->seq;
        p->ckpt_at = row->at;
        p->last_at = row->at;
        memcpy(p->restored_hash, row->state_hash, HH_STORE_HASH_HEX);
        if (hh_journal__ckpt_seed(p, row->digests, row->ndigests))
            return hh_diag_set(d, HH_ENOMEM, "out of memory");
    }
    return HH_OK;
}

int hh_journal_restore(const char *path, struct hh_tm *tm, struct hh_sig_validator *v,
                       struct hh_journal *p, struct hh_journal_restored *out,
                       struct hh_diag *d)
{
    struct hh_journal_restored res;
    struct hh_store_reader *r = NULL;
    struct hh_store_checkpoint_row row;
    struct rst_ctx c;
    bool found = false;
    int rc;

    memset(&res, 0, sizeof res);
    memset(&row, 0, sizeof row);
    memset(&c, 0, sizeof c);
    c.p = p;
    c.v = v;
    c.res = &res;
    rc = hh_store_reader_open(path, &r, d);
    if (rc)
        return rc;
    rc = restore_engine(path, r, tm, &row, &found, d);
    if (rc)
        goto out;
    if (found) {
        res.found = true;
        res.at = row.at;
        res.changes = row.seq;
        res.candles_dropped = hh_tm_candles_dropped(tm);
        memcpy(res.state_hash, row.state_hash, HH_STORE_HASH_HEX);
    }
    if (v && (rc = hh_store_read_signal_ids(r, rst_id, &c, d)) != HH_OK)
        goto out;
    if (p && (rc = reload(&c, r, &row, found, d)) != HH_OK)
        goto out;
    if (c.rc)
        rc = hh_diag_set(d, c.rc, "%s", c.why);
out:
    hh_store_checkpoint_row_free(&row);
    hh_store_reader_close(r);
    if (out)
        *out = res;
    return rc;
}
