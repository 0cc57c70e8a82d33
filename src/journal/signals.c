/*
 * signals.c — signal lines and the decision on them: the signals row (raw
 * text, line, id, decision, reason, detail, correlation id), the audit row
 * SIGNAL_ACCEPTED or SIGNAL_REJECTED and, for an accepted line, the trade's
 * first state (WAITING).
 *
 * Invariant: a line's records are one atomic group, alone
 * (hh_journal_signal) or with the step that consumed the line
 * (hh_journal_signal_step, hh_journal_message_step: a Kafka message's row
 * names it, and its dead letter's outbox row rides in the same step).
 */
#include "journal/journal_int.h"

/* An accepted line: its row, SIGNAL_ACCEPTED, trade_state WAITING. */
static void accepted(struct hh_journal *p, struct hh_store_signal *row, uint64_t lineno,
                     const struct hh_signal *s)
{
    const char *corr = hh_signal_corr(s);

    row->signal_id = hh_journal__keep(p, s->id);
    row->received_at = s->received_at;
    row->decided_at = s->received_at;     /* the audit row's time, filled alike */
    row->accepted = true;
    row->reason = HH_SIG_NONE;
    row->correlation_id = hh_journal__keep(p, corr);
    hh_journal__payload_begin(p);
    hh_json_str(&p->j, "id", s->id);
    hh_json_uint(&p->j, "line", lineno);
    hh_json_str(&p->j, "symbol", hh_journal__sym(p, s->iid));
    hh_json_str(&p->j, "side", s->group ? NULL : hh_side_name(s->side));
    hh_json_bool(&p->j, "group", s->group);
    hh_json_time(&p->j, "received_at", s->received_at);
    hh_journal__audit(p, HH_AUDIT_SIGNAL_ACCEPTED, s->received_at, corr);
    hh_journal__transition(p, s->id, corr, HH_TS_WAITING, s->received_at, NULL);
}

/* A rejected line: its row (the id when it was valid) and SIGNAL_REJECTED;
 * its correlation id is corr when given (a message's header), else the id. */
static void rejected(struct hh_journal *p, struct hh_store_signal *row, uint64_t lineno,
                     const struct hh_sig_reject *rej, const char *corr)
{
    const char *id = rej->id_known ? rej->id : NULL;

    corr = corr ? corr : id;
    row->signal_id = hh_journal__keep(p, id);
    row->received_at = rej->received_at;
    row->decided_at = rej->received_at;
    row->accepted = false;
    row->reason = rej->reason;
    row->detail = rej->detail[0] ? hh_journal__keep(p, rej->detail) : NULL;
    row->correlation_id = hh_journal__keep(p, corr);
    hh_journal__payload_begin(p);
    hh_json_str(&p->j, "id", id);
    hh_json_uint(&p->j, "line", lineno);
    hh_json_str(&p->j, "reason", hh_sig_reason_name(rej->reason));
    hh_json_str(&p->j, "detail", rej->detail);
    hh_journal__audit(p, HH_AUDIT_SIGNAL_REJECTED, rej->received_at, corr);
}

/* The records of one signal line, pending (hh_journal_signal submits them
 * at once, hh_journal_signal_step with the step); o: a Kafka message's. */
static int signal_records(struct hh_journal *p, const struct hh_journal_origin *o,
                          const char *line, size_t len, uint64_t lineno,
                          const struct hh_signal *s, const struct hh_sig_reject *rej)
{
    struct hh_store_rec *r;

    if (p->rc)
        return p->rc;
    r = hh_journal__rec(p, HH_STORE_SIGNAL);
    if (!r)
        return p->rc;
    r->u.signal.raw = line ? hh_journal__keep_n(p, line, len) : hh_journal__keep(p, "");
    if (!r->u.signal.raw)
        return p->rc;
    r->u.signal.line = lineno;
    p->last_signal = p->nrecs;             /* r is recs[nrecs - 1] */
    if (o) {
        r->u.signal.topic = hh_journal__keep(p, o->topic);
        r->u.signal.partition = o->partition;
        r->u.signal.offset = o->offset;
    }
    if (s)
        accepted(p, &r->u.signal, lineno, s);
    else
        rejected(p, &r->u.signal, lineno, rej, o ? o->corr : NULL);
    return p->rc;
}

int hh_journal_signal(struct hh_journal *p, const char *line, size_t len, uint64_t lineno,
                      const struct hh_signal *s, const struct hh_sig_reject *rej)
{
    int rc = signal_records(p, NULL, line, len, lineno, s, rej);

    return rc ? rc : hh_journal__submit(p, HH_TIME_NONE);
}

int hh_journal_signal_step(struct hh_journal *p, const char *line, size_t len,
                           uint64_t lineno, const struct hh_signal *s,
                           const struct hh_sig_reject *rej)
{
    return signal_records(p, NULL, line, len, lineno, s, rej);
}

int hh_journal_message_step(struct hh_journal *p, const struct hh_journal_origin *o,
                            const char *raw, size_t len, uint64_t lineno,
                            const struct hh_signal *s, const struct hh_sig_reject *rej)
{
    return signal_records(p, o, raw, len, lineno, s, rej);
}

int hh_journal_outbox_step(struct hh_journal *p, const struct hh_store_outbox *o)
{
    struct hh_store_rec *r;

    if (p->rc)
        return p->rc;
    r = hh_journal__rec(p, HH_STORE_OUTBOX);
    if (!r)
        return p->rc;
    r->u.outbox = *o;
    r->u.outbox.topic = hh_journal__keep(p, o->topic);
    r->u.outbox.key = hh_journal__keep(p, o->key);
    r->u.outbox.reason = hh_journal__keep(p, o->reason);
    r->u.outbox.correlation_id = hh_journal__keep(p, o->correlation_id);
    r->u.outbox.payload = hh_journal__keep(p, o->payload);
    return p->rc;
}

void hh_journal_signal_latency(struct hh_journal *p, int64_t ns)
{
    if (ns > 0 && p->last_signal && p->last_signal <= p->nrecs &&
        p->recs[p->last_signal - 1].kind == HH_STORE_SIGNAL)
        p->recs[p->last_signal - 1].u.signal.latency_ns = ns;
}

/* hh_journal_read_signals: the caller's sink behind ours. */
struct rs_ctx {
    struct hh_journal *p;
    const struct hh_sig_sink *inner;
};

static int rs_accepted(void *ctx, const char *line, size_t len, struct hh_signal *s,
                       const struct hh_group_signal *g)
{
    struct rs_ctx *c = ctx;
    int rc = hh_journal_signal(c->p, line, len, s->line, s, NULL);

    return rc ? rc : c->inner->accepted(c->inner->ctx, line, len, s, g);
}

static int rs_rejected(void *ctx, uint64_t lineno, const char *line, size_t len,
                       const struct hh_sig_reject *rej)
{
    struct rs_ctx *c = ctx;
    int rc = hh_journal_signal(c->p, line, len, lineno, NULL, rej);

    return rc ? rc : c->inner->rejected(c->inner->ctx, lineno, line, len, rej);
}

int hh_journal_read_signals(struct hh_journal *p, const char *path,
                            struct hh_sig_validator *v, const struct hh_sig_sink *sink,
                            uint64_t *received, struct hh_diag *d)
{
    struct rs_ctx c = { .p = p, .inner = sink };
    struct hh_sig_sink ours = { .accepted = rs_accepted, .rejected = rs_rejected, .ctx = &c };
    int rc;

    if (p->rc)
        return hh_journal__diag(p, d);
    rc = hh_sig_read_file(path, v, &ours, received, d);
    if (p->rc)
        return hh_journal__diag(p, d);
    return rc;
}

