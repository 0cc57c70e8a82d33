/*
 * store.c — the implementation-neutral part of the store: option
 * defaults, validation of records before they are queued, and dispatch
 * through the operation tables.
 *
 * Validation happens on the producer's thread, before a record enters the
 * queue, so that a record the schema would refuse (a missing required
 * field, an enum out of range) is reported to its producer as HH_EINVAL
 * instead of failing the whole store on the writer thread.
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

void hh_store_order_event_from_report(const struct hh_report *r, const char *client_id,
                                      struct hh_store_order_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->order_id = r->order_id;
    ev->client_id = client_id;
    ev->kind = r->kind;
    ev->at = r->ts;
    ev->qty = r->qty;
    ev->price = r->price;
    ev->filled = r->filled;
    ev->leaves = r->leaves;
    ev->exec_id = r->kind == HH_RPT_FILL ? r->exec_id : 0;
    ev->reason = r->reason[0] ? r->reason : NULL;
}

void hh_store_opts_default(struct hh_store_opts *o)
{
    memset(o, 0, sizeof *o);
    o->sync = HH_STORE_SYNC_NORMAL;
    o->queue_bytes = 16u << 20;
    o->group_max = 4096;
    o->busy_timeout_ms = 5000;
}

/* ---- validation -------------------------------------------------------------- */

static bool side_ok(enum hh_side s)
{
    return s == HH_BUY || s == HH_SELL;
}

static bool time_ok(hh_time_t t)
{
    return t != HH_TIME_NONE;
}

/* 64 lowercase hex digits (a SHA-256 as the store writes them). */
static bool hash_ok(const char *h)
{
    size_t n = strspn(h, "0123456789abcdef");

    return n == 64 && h[n] == '\0';
}

/* NULL when *r may be queued, else the name of the offending field. */
static const char *invalid_field(const struct hh_store_rec *r)
{
    switch (r->kind) {
    case HH_STORE_SIGNAL:
        if (!r->u.signal.raw)
            return "raw";
        if ((unsigned)r->u.signal.reason >= HH_SIG_REASON_COUNT)
            return "reason";
        if (r->u.signal.topic && (r->u.signal.partition < 0 || r->u.signal.offset < 0))
            return r->u.signal.partition < 0 ? "partition" : "offset";
        return NULL;
    case HH_STORE_TRADE_STATE:
        if (!r->u.trade_state.trade_key)
            return "trade_key";
        if ((unsigned)r->u.trade_state.state >= HH_TS_COUNT)
            return "state";
        return time_ok(r->u.trade_state.at) ? NULL : "at";
    case HH_STORE_ORDER:
        if (!r->u.order.client_id || !*r->u.order.client_id)
            return "client_id";
        if (!r->u.order.symbol)
            return "symbol";
        if (!side_ok(r->u.order.side))
            return "side";
        if (!strcmp(hh_ord_type_name(r->u.order.type), "?"))
            return "type";
        if (!strcmp(hh_ord_state_name(r->u.order.state), "?"))
            return "state";
        return time_ok(r->u.order.at) ? NULL : "at";
    case HH_STORE_ORDER_EVENT:
        if (!r->u.order_event.order_id)
            return "order_id";
        if (!strcmp(hh_report_kind_name(r->u.order_event.kind), "?"))
            return "kind";
        return time_ok(r->u.order_event.at) ? NULL : "at";
    case HH_STORE_FILL:
        if (!r->u.fill.symbol)
            return "symbol";
        if (!side_ok(r->u.fill.side))
            return "side";
        return time_ok(r->u.fill.ts) ? NULL : "ts";
    case HH_STORE_POSITION:
        if (!r->u.position.symbol)
            return "symbol";
        return time_ok(r->u.position.at) ? NULL : "at";
    case HH_STORE_TRADE:
        if (!r->u.trade.symbol)
            return "symbol";
        return side_ok(r->u.trade.side) ? NULL : "side";
    case HH_STORE_GROUP:
        if (!r->u.group.group_id)
            return "group_id";
        if (!r->u.group.state)
            return "state";
        if (!r->u.group.legs_json)
            return "legs_json";
        return time_ok(r->u.group.at) ? NULL : "at";
    case HH_STORE_CHECKPOINT:
        if (r->u.checkpoint.state_len && !r->u.checkpoint.state)
            return "state";
        if (r->u.checkpoint.state_hash && !hash_ok(r->u.checkpoint.state_hash))
            return "state_hash";
        return time_ok(r->u.checkpoint.at) ? NULL : "at";
    case HH_STORE_AUDIT:
        /* KEY_ROTATED is the writer's own: only it knows the keys */
        if ((unsigned)r->u.audit.kind >= HH_AUDIT_KIND_COUNT ||
            r->u.audit.kind == HH_AUDIT_KEY_ROTATED)
            return "kind";
        return time_ok(r->u.audit.at) ? NULL : "at";
    case HH_STORE_KILL:
        return hh_store__kill_invalid(&r->u.kill);
    case HH_STORE_KILL_APPLIED:
        if (r->u.kill.id <= 0)
            return "id";
        return time_ok(r->u.kill.applied_at) ? NULL : "applied_at";
    case HH_STORE_OUTBOX:
        if (!r->u.outbox.seq)
            return "seq";
        if ((unsigned)r->u.outbox.kind > HH_OUTBOX_EVENT)
            return "kind";
        if (!r->u.outbox.topic || !*r->u.outbox.topic)
            return "topic";
        if (!r->u.outbox.payload)
            return "payload";
        return time_ok(r->u.outbox.at) ? NULL : "at";
    case HH_STORE_OUTBOX_SENT:
        return r->u.outbox_sent.seq ? NULL : "seq";
    case HH_STORE_CHUNK:
        if (!r->u.chunk.sha)
            return "sha";
        return r->u.chunk.len && r->u.chunk.bytes ? NULL : "bytes";
    }
    return "kind";
}

const char *hh_store__kill_invalid(const struct hh_store_kill *k)
{
    if ((unsigned)k->action >= HH_KILL_COUNT)
        return "action";
    if (!k->reason || strlen(k->reason) > HH_STORE_KILL_REASON_MAX)
        return "reason";
    if (!k->by || !*k->by || strlen(k->by) > HH_STORE_KILL_BY_MAX)
        return "by";
    return time_ok(k->at) ? NULL : "at";
}

/* ---- dispatch ------------------------------------------------------------------ */

int hh_store_open(const char *path, const struct hh_store_opts *opts, struct hh_store **out,
                  struct hh_diag *d)
{
    struct hh_store_opts def;

    *out = NULL;
    if (!opts) {
        hh_store_opts_default(&def);
        opts = &def;
    }
    /* A "postgresql://" URL will select the PostgreSQL writer here. */
    return hh_store__sqlite_open(path, opts, out, d);
}

int hh_store_submit(struct hh_store *st, const struct hh_store_rec *recs, size_t n,
                    uint64_t token, uint64_t *seq, struct hh_diag *d)
{
    for (size_t i = 0; i < n; i++) {
        const char *bad = invalid_field(&recs[i]);

        if (bad)
            return hh_diag_set(d, HH_EINVAL, "store: record %zu of %zu (%s): field %s is "
                               "missing or invalid", i + 1, n,
                               hh_store_kind_name(recs[i].kind), bad);
    }
    return st->ops->submit(st, recs, n, token, seq, d);
}

#define PUT(fn, type, K, member)                                              \
    int fn(struct hh_store *st, const type *r, uint64_t token)                \
    {                                                                         \
        struct hh_store_rec rec = { .kind = K, .u.member = *r };              \
        return hh_store_submit(st, &rec, 1, token, NULL, NULL);               \
    }

PUT(hh_store_put_signal, struct hh_store_signal, HH_STORE_SIGNAL, signal)
PUT(hh_store_put_trade_state, struct hh_store_trade_state, HH_STORE_TRADE_STATE, trade_state)
PUT(hh_store_put_order, struct hh_store_order, HH_STORE_ORDER, order)
PUT(hh_store_put_order_event, struct hh_store_order_event, HH_STORE_ORDER_EVENT, order_event)
PUT(hh_store_put_fill, struct hh_store_fill, HH_STORE_FILL, fill)
PUT(hh_store_put_position, struct hh_store_position, HH_STORE_POSITION, position)
PUT(hh_store_put_trade, struct hh_store_trade, HH_STORE_TRADE, trade)
PUT(hh_store_put_group, struct hh_store_group, HH_STORE_GROUP, group)
PUT(hh_store_put_outbox_sent, struct hh_store_outbox_sent, HH_STORE_OUTBOX_SENT, outbox_sent)
PUT(hh_store_put_checkpoint, struct hh_store_checkpoint, HH_STORE_CHECKPOINT, checkpoint)
PUT(hh_store_put_audit, struct hh_store_audit, HH_STORE_AUDIT, audit)
PUT(hh_store_put_kill, struct hh_store_kill, HH_STORE_KILL, kill)

#undef PUT

int hh_store_flush(struct hh_store *st, struct hh_diag *d)
{
    return st->ops->flush(st, d);
}

int hh_store_status(struct hh_store *st, struct hh_diag *d)
{
    return st->ops->status(st, d);
}

uint64_t hh_store_committed(struct hh_store *st)
{
    return st->ops->committed(st);
}

void hh_store_stats(struct hh_store *st, struct hh_store_stats *out)
{
    st->ops->stats(st, out);
}

int hh_store_close(struct hh_store *st, struct hh_diag *d)
{
    return st ? st->ops->close(st, d) : HH_OK;
}

/* ---- readers ---------------------------------------------------------------------- */

int hh_store_reader_open(const char *path, struct hh_store_reader **out, struct hh_diag *d)
{
    *out = NULL;
    return hh_store__sqlite_reader_open(path, out, d);
}

void hh_store_reader_close(struct hh_store_reader *r)
{
    if (r)
        r->ops->close(r);
}

void hh_store_checkpoint_row_free(struct hh_store_checkpoint_row *c)
{
    if (!c)
        return;
    free(c->state);
    free(c->digests);
    c->state = NULL;
    c->state_len = 0;
    c->digests = NULL;
    c->ndigests = 0;
}

bool hh_store_manifest(const void *blob, size_t len, const unsigned char **digests,
                       size_t *n)
{
    size_t magic = sizeof HH_STORE_MANIFEST_MAGIC - 1;

    if (len < magic || memcmp(blob, HH_STORE_MANIFEST_MAGIC, magic) ||
        (len - magic) % HH_STORE_DIGEST_BYTES)
        return false;
    *digests = (const unsigned char *)blob + magic;
    *n = (len - magic) / HH_STORE_DIGEST_BYTES;
    return true;
}

int hh_store_read_checkpoint(struct hh_store_reader *r, struct hh_store_checkpoint_row *out,
                             bool *found, struct hh_diag *d)
{
    return r->ops->checkpoint(r, out, found, d);
}

int hh_store_read_signal_ids(struct hh_store_reader *r,
                             void (*fn)(void *ctx, const char *id, bool accepted),
                             void *ctx, struct hh_diag *d)
{
    return r->ops->signal_ids(r, fn, ctx, d);
}

int hh_store_read_open_orders(struct hh_store_reader *r,
                              void (*fn)(void *ctx, const struct hh_store_order *o),
                              void *ctx, struct hh_diag *d)
{
    return r->ops->open_orders(r, fn, ctx, d);
}

int hh_store_read_active_trades(struct hh_store_reader *r,
                                void (*fn)(void *ctx,
                                           const struct hh_store_trade_state_row *t),
                                void *ctx, struct hh_diag *d)
{
    return r->ops->active_trades(r, fn, ctx, d);
}

int hh_store_read_positions(struct hh_store_reader *r,
                            void (*fn)(void *ctx, const struct hh_store_position *p), void *ctx,
                            struct hh_diag *d)
{
    return r->ops->positions(r, fn, ctx, d);
}

int hh_store_read_audit(struct hh_store_reader *r, const char *correlation_id,
                        int (*fn)(void *ctx, const struct hh_store_audit_row *a), void *ctx,
                        struct hh_diag *d)
{
    return r->ops->audit(r, correlation_id, fn, ctx, d);
}

int hh_store_read_audit_kind(struct hh_store_reader *r, enum hh_audit_kind kind, bool last,
                             int (*fn)(void *ctx, const struct hh_store_audit_row *a),
                             void *ctx, struct hh_diag *d)
{
    return r->ops->audit_kind(r, kind, last, fn, ctx, d);
}

int hh_store_audit_verify(struct hh_store_reader *r, struct hh_store_verify *v,
                          struct hh_diag *d)
{
    return r->ops->audit_verify(r, NULL, 0, v, d);
}

int hh_store_audit_verify_keys(struct hh_store_reader *r, const struct hh_store_audit_key *keys,
                               size_t nkeys, struct hh_store_verify *v, struct hh_diag *d)
{
    return r->ops->audit_verify(r, keys, nkeys, v, d);
}

int hh_store_read_kill(struct hh_store_reader *r, struct hh_store_kill_row *out, bool *found,
                       struct hh_diag *d)
{
    return r->ops->kill(r, out, found, d);
}

int hh_store_read_period(struct hh_store_reader *r, hh_time_t from, hh_time_t to,
                         const struct hh_store_period_fns *f, struct hh_diag *d)
{
    return r->ops->period(r, from, to, f, d);
}

int hh_store_check(struct hh_store_reader *r, struct hh_store_check *c, struct hh_diag *d)
{
    return r->ops->check(r, c, d);
}

int hh_store_schema_version(struct hh_store_reader *r)
{
    return r->ops->schema_version(r);
}

int hh_store_kill_request(const char *path, const struct hh_store_kill *k, int busy_ms,
                          int64_t *id, struct hh_diag *d)
{
    const char *bad = hh_store__kill_invalid(k);

    if (bad)
        return hh_diag_set(d, HH_EINVAL, "kill switch request: field %s is missing or invalid",
                           bad);
    return hh_store__sqlite_kill_request(path, k, busy_ms, id, d);
}

int hh_store_read_kafka_offsets(struct hh_store_reader *r, const char *topic,
                                void (*fn)(void *ctx, int32_t partition, int64_t offset),
                                void *ctx, struct hh_diag *d)
{
    return r->ops->kafka_offsets(r, topic, fn, ctx, d);
}

int hh_store_read_outbox(struct hh_store_reader *r,
                         int (*fn)(void *ctx, const struct hh_store_outbox *o), void *ctx,
                         uint64_t *max_seq, struct hh_diag *d)
{
    return r->ops->outbox(r, fn, ctx, max_seq, d);
}
