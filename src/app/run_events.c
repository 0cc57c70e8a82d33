/*
 * run_events.c — what the engine of `hedgehog run` says, and where it goes:
 * structured logs (app/jlog.h), the audit trail (through the journal), the
 * result files (--out); the durability barrier and the end of each step;
 * the reconciliation polls.
 */
#include "app/run.h"

#include <stdio.h>
#include <string.h>

/* Polls with no order update while orders work before the stream is
 * called silent. */
#define SILENT_POLLS 3

static hh_time_t now_of(const struct run *R)
{
    return R->clock.now;
}

const char *run_sym(const struct run *R, hh_iid_t iid)
{
    const struct hh_instrument *in = hh_inst_get(R->w.inst, iid);

    return in ? in->symbol : "?";
}

static const char *corr_of(const struct hh_signal *s)
{
    return s ? hh_signal_corr(s) : NULL;
}

static void fx(char *b, size_t cap, int64_t v)
{
    hh_fx_format(b, cap, v, 2);
}

/* ---- the events topic (run_kafka.c: published once durable) ---------------------- */

static void ev_fill(struct run *R, const struct hh_tm_fill *f)
{
    struct hh_json *w = run_kafka_event(R, "fill", run_sym(R, f->iid), corr_of(f->sig), f->ts);

    if (!w)
        return;
    hh_json_uint(w, "order_id", f->order_id);
    hh_json_uint(w, "trade_id", f->trade_id);
    hh_json_str(w, "signal_id", f->sig ? f->sig->id : NULL);
    hh_json_str(w, "side", hh_side_name(f->side));
    hh_json_int(w, "qty", f->qty);
    hh_json_fx(w, "price", f->price, 2);
    hh_json_str(w, "reason", hh_fill_reason_name(f->reason));
    hh_json_fx(w, "charges", f->charges, 2);
    run_kafka_event_end(R);
}

static void ev_trade(struct run *R, const struct hh_tm_trade *t)
{
    struct hh_json *w = run_kafka_event(R, "trade", run_sym(R, t->iid), corr_of(t->sig),
                                        t->exit_ts);

    if (!w)
        return;
    hh_json_uint(w, "trade_id", t->trade_id);
    hh_json_str(w, "signal_id", t->sig ? t->sig->id : NULL);
    hh_json_str(w, "side", hh_side_name(t->side));
    hh_json_int(w, "qty", t->qty);
    hh_json_time(w, "entry_ts", t->entry_ts);
    hh_json_fx(w, "entry_price", t->entry_price, 2);
    hh_json_fx(w, "avg_exit_price", t->avg_exit_price, 2);
    hh_json_str(w, "exit_reason", hh_fill_reason_name(t->exit_reason));
    hh_json_fx(w, "net_pnl", t->net, 2);
    run_kafka_event_end(R);
}

static const char *const ORDER_EVENT[] = {
    [HH_TMO_SENT] = "sent", [HH_TMO_SEND_FAILED] = "send_failed", [HH_TMO_MODIFY] = "modify",
    [HH_TMO_CANCEL] = "cancel", [HH_TMO_REPORT] = "report",
};

static void ev_order(struct run *R, const struct hh_tm_order_event *e)
{
    hh_iid_t iid = e->req ? e->req->iid : e->sig ? e->sig->iid : HH_IID_NONE;
    struct hh_json *w = run_kafka_event(R, "order", iid == HH_IID_NONE ? NULL : run_sym(R, iid),
                                        corr_of(e->sig), e->ts);

    if (!w)
        return;
    hh_json_str(w, "event", ORDER_EVENT[e->kind]);
    hh_json_uint(w, "order_id", e->order_id);
    hh_json_str(w, "client_id", e->req ? e->req->client_id : NULL);
    hh_json_str(w, "report", e->report ? hh_report_kind_name(e->report->kind) : NULL);
    hh_json_str(w, "state", hh_ord_state_name(e->state));
    if (e->req) {
        hh_json_str(w, "side", hh_side_name(e->req->side));
        hh_json_int(w, "qty", e->req->qty);
        hh_json_str(w, "type", hh_ord_type_name(e->req->type));
    }
    run_kafka_event_end(R);
}

/* ---- the engine's sink: structured logs ---------------------------------------- */

static void s_fill(void *ctx, const struct hh_tm_fill *f)
{
    struct run *R = ctx;
    char px[40], ch[40];

    if (R->o)
        hh_out_fill(R->o, f);
    ev_fill(R, f);
    run_ops_fill(R, f);
    fx(px, sizeof px, f->price);
    fx(ch, sizeof ch, f->charges);
    HH_JLOG(&R->log, HH_LOG_INFO, f->ts, "fill", corr_of(f->sig),
            "order_id=%llu trade_id=%u %s %lld %s at %s reason=%s charges=%s",
            (unsigned long long)f->order_id, f->trade_id, hh_side_name(f->side),
            (long long)f->qty, run_sym(R, f->iid), px, hh_fill_reason_name(f->reason), ch);
}

static void s_closed(void *ctx, const struct hh_tm_trade *t)
{
    struct run *R = ctx;
    char net[40], ex[40];

    if (R->o)
        hh_out_trade(R->o, t, hh_tm_stats(R->tm)->equity);
    ev_trade(R, t);
    fx(net, sizeof net, t->net);
    fx(ex, sizeof ex, t->avg_exit_price);
    HH_JLOG(&R->log, HH_LOG_INFO, t->exit_ts, "trade_closed", corr_of(t->sig),
            "trade_id=%u %s %s qty %lld exit %s avg %s net_pnl=%s", t->trade_id,
            hh_side_name(t->side), run_sym(R, t->iid), (long long)t->qty,
            hh_fill_reason_name(t->exit_reason), ex, net);
}

static void s_rejected(void *ctx, const struct hh_signal *s, enum hh_sig_reason r,
                       const char *detail)
{
    struct run *R = ctx;

    /* Rejected at entry (SIZE_TOO_SMALL, BROKER_UNAVAILABLE...): SPEC §5a
     * counts it rejected, not accepted, so taken = accepted + rejected.  A
     * signal accepted before a restart is not in this process's count. */
    R->rejected++;
    if (R->accepted > 0)
        R->accepted--;
    run_ops_signal(R, r, NULL);
    if (R->o)
        hh_out_rejected(R->o, s, r, detail);
    HH_JLOG(&R->log, r == HH_SIG_BROKER_UNAVAILABLE ? HH_LOG_WARN : HH_LOG_INFO, now_of(R),
            "signal_rejected", corr_of(s), "id=%s line=%llu reason=%s detail=%s", s->id,
            (unsigned long long)s->line, hh_sig_reason_name(r), detail);
}

static void s_dropped(void *ctx, const struct hh_signal *s, enum hh_tm_drop why, hh_time_t at)
{
    struct run *R = ctx;

    HH_JLOG(&R->log, HH_LOG_INFO, at, "trade_dropped", corr_of(s), "id=%s reason=%s", s->id,
            hh_tm_drop_name(why));
}

static void s_order(void *ctx, const struct hh_tm_order_event *e)
{
    struct run *R = ctx;
    const struct hh_order_req *q = e->req;
    const struct hh_report *r = e->report;
    char px[40] = "";

    ev_order(R, e);
    run_ops_order(R, e);
    switch (e->kind) {
    case HH_TMO_SENT:
        if (q->limit)
            fx(px, sizeof px, q->limit);
        HH_JLOG(&R->log, HH_LOG_INFO, e->ts, R->shadow ? "order_shadowed" : "order_sent",
                corr_of(e->sig), "order_id=%llu client_id=%s %s %lld %s %s%s%s",
                (unsigned long long)e->order_id, q->client_id, hh_side_name(q->side),
                (long long)q->qty, run_sym(R, q->iid), hh_ord_type_name(q->type),
                px[0] ? " limit " : "", px);
        break;
    case HH_TMO_SEND_FAILED:
        HH_JLOG(&R->log, HH_LOG_WARN, e->ts, "order_send_failed", corr_of(e->sig),
                "client_id=%s error=%s outcome=%s", q->client_id, hh_strerror(e->rc),
                e->rc == HH_ETIMEOUT ? "unknown" : "not placed");
        break;
    case HH_TMO_CANCEL:
        HH_JLOG(&R->log, HH_LOG_INFO, e->ts, "order_cancel", corr_of(e->sig),
                "order_id=%llu cancellation requested", (unsigned long long)e->order_id);
        break;
    case HH_TMO_MODIFY:
        HH_JLOG(&R->log, HH_LOG_INFO, e->ts, "order_modify", corr_of(e->sig),
                "order_id=%llu qty=%lld", (unsigned long long)e->order_id, (long long)e->qty);
        break;
    case HH_TMO_REPORT:
        if (r->kind == HH_RPT_FILL)
            break;   /* the fill line says it */
        HH_JLOG(&R->log, r->kind == HH_RPT_ACK ? HH_LOG_DEBUG : HH_LOG_INFO, e->ts,
                r->kind == HH_RPT_ACK ? "order_ack"
                : r->kind == HH_RPT_CANCELLED ? "order_cancelled"
                : r->kind == HH_RPT_REJECTED ? "order_rejected"
                : r->kind == HH_RPT_EXPIRED ? "order_expired" : "order_modified",
                corr_of(e->sig), "order_id=%llu filled=%lld%s%s",
                (unsigned long long)e->order_id, (long long)r->filled,
                r->reason[0] ? " reason=" : "", r->reason);
        break;
    }
}

/* Logs only: the persisting sink audits alerts (journal/). */
static void s_alert(void *ctx, const struct hh_tm_alert *a)
{
    struct run *R = ctx;

    if (a->kind == HH_TMA_BREAKER) {
        HH_JLOG(&R->log, a->alert ? HH_LOG_ERROR : HH_LOG_WARN, a->ts, "breaker", NULL,
                "%s%s -> %s (%s) failures=%d", a->alert ? "ALERT: broker circuit breaker " : "",
                hh_breaker_state_name(a->brk->from), hh_breaker_state_name(a->brk->to),
                a->brk->why, a->brk->failures);
        if (a->alert)
            run_ops_alert(R, "critical", "BREAKER_OPEN", a->brk->why);
        return;
    }
    if (a->alert || a->kind == HH_TMA_STOP_MARKET)
        run_ops_alert(R, a->alert ? "critical" : "warn", hh_tm_alert_name(a->kind), a->detail);
    HH_JLOG(&R->log,
            a->alert ? HH_LOG_ERROR
            : a->kind == HH_TMA_DUP_FILL || a->kind == HH_TMA_RETRY ? HH_LOG_DEBUG
            : a->kind == HH_TMA_PLACE_UNKNOWN || a->kind == HH_TMA_GAVE_UP ? HH_LOG_WARN
            : HH_LOG_INFO,
            a->ts, a->alert ? "alert" : "exec", corr_of(a->sig),
            "%s%s%s%s order_id=%llu qty=%lld%s%s: %s",
            a->alert ? "ALERT: " : "", hh_tm_alert_name(a->kind),
            a->client_id ? " client_id=" : "", a->client_id ? a->client_id : "",
            (unsigned long long)a->order_id, (long long)a->qty, a->rc ? " error=" : "",
            a->rc ? hh_strerror(a->rc) : "", a->detail ? a->detail : "");
}

static void on_div(void *ctx, const struct hh_tm_divergence *dv)
{
    struct run *R = ctx;
    const char *sym = dv->iid == HH_IID_NONE ? "" : run_sym(R, dv->iid);

    R->divergences++;
    HH_JLOG(&R->log, HH_LOG_WARN, now_of(R), "reconcile_divergence", NULL,
            "%s symbol=%s order_id=%llu engine=%lld broker=%lld (the broker's state adopted)",
            hh_div_kind_name(dv->kind), sym, (unsigned long long)dv->order_id,
            (long long)dv->engine_qty, (long long)dv->broker_qty);
    /* recorded in the poll's step, with what the adoption changed */
    hh_journal_divergence(R->db, now_of(R), hh_div_kind_name(dv->kind), sym, dv->order_id,
                          dv->engine_qty, dv->broker_qty);
}

void run_shadow_order(void *ctx, const struct hh_order_req *req, uint64_t order_id)
{
    struct run *R = ctx;

    HH_JLOG(&R->log, HH_LOG_DEBUG, now_of(R), "shadow", NULL,
            "would place order_id=%llu client_id=%s (not sent: shadow mode)",
            (unsigned long long)order_id, req->client_id);
}

/* ---- steps ------------------------------------------------------------------------- */

void run_fatal_db(struct run *R)
{
    if (!R->failed) {
        hh_journal_status(R->db, &R->d);
        HH_JLOG(&R->log, HH_LOG_ERROR, now_of(R), "database_failed", NULL, "%s", R->d.msg);
    }
    R->failed = true;
}

/* The end of every step: the records and a checkpoint as one group. */
void run_commit(struct run *R)
{
    if (!R->failed && hh_journal_step(R->db, now_of(R)))
        run_fatal_db(R);
}

/*
 * The trade manager's durability barrier: before it talks to the broker,
 * the step's records and a checkpoint holding the queued orders are
 * committed and flushed (write-ahead).  Non-zero: nothing is sent.  The
 * wait, submission to commit, is the store's commit latency metric.
 */
int run_barrier(void *ctx)
{
    struct run *R = ctx;
    struct hh_diag fd;
    int64_t t0 = run_ops_mono_ns();

    run_commit(R);
    if (!R->failed && hh_store_flush(hh_journal_store(R->db), &fd))
        run_fatal_db(R);
    if (!R->failed)
        run_ops_commit_latency(R, run_ops_mono_ns() - t0);
    return R->failed ? HH_EDB : HH_OK;
}

void run_poll(struct run *R, bool startup)
{
    struct hh_tm_poll_result res;
    uint64_t reports;

    hh_tm_poll(R->tm, on_div, R, &res);
    R->polls++;
    run_ops_polled(R, res.rc == HH_OK, res.divergences);
    reports = hh_tm_exec_stats(R->tm)->reports;
    if (startup) {
        if (res.rc == HH_OK) {
            R->startup_done = true;
            hh_tm_hold_orders(R->tm, false);
            HH_JLOG(&R->log, HH_LOG_INFO, now_of(R), "reconcile_startup", NULL,
                    "startup reconciliation done: broker orders %zu, positions %zu, "
                    "divergences %d; orders and signals go from now on", res.orders,
                    res.positions, res.divergences);
        } else {
            R->startup_retry = (now_of(R) == HH_TIME_NONE ? 0 : now_of(R)) + HH_NS_PER_S;
            HH_JLOG(&R->log, HH_LOG_WARN, now_of(R), "reconcile_startup", NULL,
                    "startup reconciliation failed (%s): retried in 1 s; no order is sent "
                    "and no signal taken before it succeeds", hh_strerror(res.rc));
        }
    } else if (res.rc) {
        HH_JLOG(&R->log, HH_LOG_WARN, now_of(R), "reconcile", NULL, "poll failed: %s",
                hh_strerror(res.rc));
    } else {
        HH_JLOG(&R->log, res.divergences ? HH_LOG_WARN : HH_LOG_DEBUG, now_of(R), "reconcile",
                NULL, "poll: broker orders %zu, positions %zu, working %llu, divergences %d",
                res.orders, res.positions, (unsigned long long)res.working, res.divergences);
        if (res.working > 0 && reports == R->last_reports) {
            /* Resting orders are quiet on a healthy stream too; what says the
             * stream is down is a poll finding changes it never reported. */
            R->silent_polls++;
            R->silent_missed += res.divergences;
            if (R->silent_polls >= SILENT_POLLS && R->silent_missed && !R->silent) {
                R->silent = true;
                HH_JLOG(&R->log, HH_LOG_WARN, now_of(R), "stream_silent", NULL,
                        "no order update for %d polls while %llu order(s) work, and the polls "
                        "found %d change(s) it never reported: the update stream looks down "
                        "(the polls keep the state right)", R->silent_polls,
                        (unsigned long long)res.working, R->silent_missed);
            }
        } else {
            R->silent_missed = 0;
            if (R->silent)
                HH_JLOG(&R->log, HH_LOG_INFO, now_of(R), "stream_silent", NULL,
                        "order updates flow again");
            R->silent = false;
            R->silent_polls = 0;
        }
    }
    R->last_reports = reports;
    run_commit(R);
    if (!R->failed)
        hh_tm_flush(R->tm);   /* what the poll decided goes out, after the barrier */
}

/* Each open position at the end, the engine's beside the broker's. */
void run_log_positions(struct run *R)
{
    size_t n = hh_inst_count(R->w.inst);
    int open = 0;

    for (hh_iid_t i = 0; i < n; i++) {
        hh_qty_t e = hh_tm_position(R->tm, i), b = run_broker_qty(R, i);

        if (!e && !b)
            continue;
        open++;
        HH_JLOG(&R->log, e == b ? HH_LOG_INFO : HH_LOG_WARN, now_of(R), "open_position", NULL,
                "symbol=%s engine=%lld broker=%lld%s", run_sym(R, i), (long long)e, (long long)b,
                e == b ? "" : " (differ: the next start reconciles)");
    }
    if (!open)
        HH_JLOG(&R->log, HH_LOG_INFO, now_of(R), "open_position", NULL, "no open position");
}

void run_sink(struct run *R, struct hh_tm_sink *out)
{
    *out = (struct hh_tm_sink){ .fill = s_fill, .closed = s_closed, .rejected = s_rejected,
                                .dropped = s_dropped, .order = s_order, .ctx = R,
                                .alert = s_alert, .alert_ctx = R };
}
