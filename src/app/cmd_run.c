/*
 * cmd_run.c — `hedgehog run` (SPEC §10): the engine as a long-lived
 * process.
 *
 *   hedgehog run --config FILE --mode paper|shadow|live [--ticks FILE --speed X]
 *                [--signals FILE|-] [--db FILE] [--log-level L]
 *
 * The core (this file's loop, one thread) owns the clock, the candle
 * builder, the trade manager in live mode (trade.h, HH_TM_LIVE), the
 * simulated venue — the paper broker (paper) or the shadow broker — and the
 * store submissions.  The adapters (run_feed.c) run on their own threads and
 * hand market data and signal lines over bounded rings (run.h).
 *
 * Engine time comes from the market data: each tick moves the clock to its
 * ts; with --speed > 0 the replay also sends clock items between ticks.
 * Before each event, everything due by its time happens in time order: the
 * paper broker's deliveries (hh_paper_next_due), engine timers, the
 * reconciliation poll every reconcile.poll_s.  A signal line is taken when
 * engine time reaches its key (received_at, else ts) — before market data
 * of that instant (SPEC §5) — and the clock moves to the key (never back),
 * so a signal without received_at gets the engine clock when taken; while
 * the signal reader has not caught up with its file, no market data is
 * processed (the rule that makes a replay at --speed 0 reproducible).
 *
 * Every step ends in commit(): the step's records and a checkpoint (every
 * change: app/persist.h policy 0/0) are submitted as one atomic group;
 * when the engine queued broker calls (write-ahead orders), the store is
 * flushed first (the checkpoint holding them is durable) and only then
 * hh_tm_send() talks to the broker.  The paper broker saves its own state
 * to <db>.paper after every change (hh_paper_set_autosave).
 *
 * Restart: the latest checkpoint is restored (state hash checked), the
 * paper broker is loaded, then startup reconciliation (hh_tm_poll: the
 * broker wins; divergences logged and audited) — no signal is taken before
 * it succeeds.  The checkpoint's cursor (struct hh_tm_cursor) says where
 * the inputs resume: the ticks after the last row the restored engine
 * processed (rows before it rebuild the candle builder only), the signal
 * lines after the last one consumed.  A signal line is recorded in the same
 * atomic group as the checkpoint that consumed it.
 *
 * SIGTERM/SIGINT: stop taking signals, drain the queued market data, send
 * what is queued, write the final checkpoint, log the open positions, exit
 * 0.  A second signal skips the drain but still persists.  The end of the
 * ticks file ends the run the same way.
 *
 * Exit codes: 0 done; 1 the run failed (the database failed: never trade
 * without memory); 2 bad usage, unreadable input, invalid configuration,
 * or --mode live (no live broker adapter is configured).
 */
#include "app/cmd.h"
#include "app/common.h"
#include "app/jlog.h"
#include "app/persist.h"
#include "app/run.h"
#include "core/lines.h"
#include "market/candle.h"
#include "signal/group.h"
#include "trade/trade.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define ME "run"
#define USAGE "usage: hedgehog run --config FILE --mode paper|shadow|live " \
              "[--ticks FILE --speed X] [--signals FILE|-] [--db FILE] [--log-level L]\n"

/* Polls with no order update while orders work before the stream is
 * called silent. */
#define SILENT_POLLS 3

/* The one piece of process state: SIGTERM/SIGINT counts (a signal handler
 * can do nothing else safely). */
static volatile sig_atomic_t g_stops;

static void on_stop_signal(int sig)
{
    (void)sig;
    g_stops++;
}

struct run {
    const char *config, *mode, *ticks, *speed_s, *signals, *db_path, *level_s;
    bool shadow;
    double speed;
    struct hh_world w;
    struct hh_diag d;
    struct hh_jlog log;
    char side_path[HH_PATH_MAX + 16];  /* <db>.paper or <db>.shadow */
    /* engine */
    struct hh_clock clock;
    struct hh_paper *paper;
    struct run_shadow sh;
    struct hh_tm *tm;
    struct hh_candles *cb;
    struct hh_sig_validator *v;
    struct hh_group_signal *g;
    struct hh_persist *db;
    bool completed;                    /* candles completed at this tick */
    /* adapters */
    struct run_hub *hub;
    struct run_feed feed;
    struct hh_lines *lines;
    uint64_t ticks_id, signals_id;
    /* progress */
    struct hh_tm_cursor cur;
    bool startup_done;
    hh_time_t startup_retry;
    hh_time_t next_poll;
    uint64_t last_reports;
    int silent_polls;              /* polls in a row without an order update */
    int silent_missed;             /* changes those polls found */
    bool silent;
    bool failed;                       /* the database failed: exit 1 */
    uint64_t ticks_n, warm_n, past_n, taken, accepted, rejected, polls, divergences;
};

static hh_time_t now_of(const struct run *R)
{
    return R->clock.now;
}

static const char *sym_of(const struct run *R, hh_iid_t iid)
{
    const struct hh_instrument *in = hh_inst_get(R->w.inst, iid);

    return in ? in->symbol : "?";
}

static const char *corr_of(const struct hh_signal *s)
{
    return s ? (s->correlation_id[0] ? s->correlation_id : s->id) : NULL;
}

static void fx(char *b, size_t cap, int64_t v)
{
    hh_fx_format(b, cap, v, 2);
}

/* An audit record written outside the engine's steps (breaker
 * transitions, alerts, divergences): its own group. */
static void audit(struct run *R, enum hh_audit_kind kind, const char *corr, const char *payload)
{
    struct hh_store_audit a = { .at = now_of(R) == HH_TIME_NONE ? 0 : now_of(R),
                                .kind = kind, .correlation_id = corr, .payload = payload };

    hh_store_put_audit(hh_persist_store(R->db), &a, 0);
}

/* ---- the engine's sink: structured logs ---------------------------------------- */

static void s_fill(void *ctx, const struct hh_tm_fill *f)
{
    struct run *R = ctx;
    char px[40], ch[40];

    fx(px, sizeof px, f->price);
    fx(ch, sizeof ch, f->charges);
    HH_JLOG(&R->log, HH_LOG_INFO, f->ts, "fill", corr_of(f->sig),
            "order_id=%llu trade_id=%u %s %lld %s at %s reason=%s charges=%s",
            (unsigned long long)f->order_id, f->trade_id, hh_side_name(f->side),
            (long long)f->qty, sym_of(R, f->iid), px, hh_fill_reason_name(f->reason), ch);
}

static void s_closed(void *ctx, const struct hh_tm_trade *t)
{
    struct run *R = ctx;
    char net[40], ex[40];

    fx(net, sizeof net, t->net);
    fx(ex, sizeof ex, t->avg_exit_price);
    HH_JLOG(&R->log, HH_LOG_INFO, t->exit_ts, "trade_closed", corr_of(t->sig),
            "trade_id=%u %s %s qty %lld exit %s avg %s net_pnl=%s", t->trade_id,
            hh_side_name(t->side), sym_of(R, t->iid), (long long)t->qty,
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

    switch (e->kind) {
    case HH_TMO_SENT:
        if (q->limit)
            fx(px, sizeof px, q->limit);
        HH_JLOG(&R->log, HH_LOG_INFO, e->ts, R->shadow ? "order_shadowed" : "order_sent",
                corr_of(e->sig), "order_id=%llu client_id=%s %s %lld %s %s%s%s",
                (unsigned long long)e->order_id, q->client_id, hh_side_name(q->side),
                (long long)q->qty, sym_of(R, q->iid), hh_ord_type_name(q->type),
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

/* Logs only: the persisting sink audits alerts (app/persist.c). */
static void s_alert(void *ctx, const struct hh_tm_alert *a)
{
    struct run *R = ctx;

    if (a->kind == HH_TMA_BREAKER) {
        HH_JLOG(&R->log, a->alert ? HH_LOG_ERROR : HH_LOG_WARN, a->ts, "breaker", NULL,
                "%s%s -> %s (%s) failures=%d", a->alert ? "ALERT: broker circuit breaker " : "",
                hh_breaker_state_name(a->brk->from), hh_breaker_state_name(a->brk->to),
                a->brk->why, a->brk->failures);
        return;
    }
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
    char payload[256];
    const char *sym = dv->iid == HH_IID_NONE ? "" : sym_of(R, dv->iid);

    R->divergences++;
    HH_JLOG(&R->log, HH_LOG_WARN, now_of(R), "reconcile_divergence", NULL,
            "%s symbol=%s order_id=%llu engine=%lld broker=%lld (the broker's state adopted)",
            hh_div_kind_name(dv->kind), sym, (unsigned long long)dv->order_id,
            (long long)dv->engine_qty, (long long)dv->broker_qty);
    snprintf(payload, sizeof payload,
             "{\"kind\":\"%s\",\"symbol\":\"%s\",\"order_id\":%llu,\"engine\":%lld,"
             "\"broker\":%lld}", hh_div_kind_name(dv->kind), sym,
             (unsigned long long)dv->order_id, (long long)dv->engine_qty,
             (long long)dv->broker_qty);
    audit(R, HH_AUDIT_RECONCILE_DIVERGENCE, NULL, payload);
}

static void on_shadow_order(void *ctx, const struct hh_order_req *req, uint64_t order_id)
{
    struct run *R = ctx;

    HH_JLOG(&R->log, HH_LOG_DEBUG, now_of(R), "shadow", NULL,
            "would place order_id=%llu client_id=%s (not sent: shadow mode)",
            (unsigned long long)order_id, req->client_id);
}

/* ---- steps ------------------------------------------------------------------------- */

static void fatal_db(struct run *R)
{
    if (!R->failed) {
        hh_persist_status(R->db, &R->d);
        HH_JLOG(&R->log, HH_LOG_ERROR, now_of(R), "database_failed", NULL, "%s", R->d.msg);
    }
    R->failed = true;
}

/* The end of every step: the records and a checkpoint as one group. */
static void commit(struct run *R)
{
    if (!R->failed && hh_persist_step(R->db, now_of(R)))
        fatal_db(R);
}

/*
 * The trade manager's durability barrier: before it talks to the broker,
 * the step's records and a checkpoint holding the queued orders are
 * committed and flushed (write-ahead).  Non-zero: nothing is sent.
 */
static int barrier(void *ctx)
{
    struct run *R = ctx;
    struct hh_diag fd;

    commit(R);
    if (!R->failed && hh_store_flush(hh_persist_store(R->db), &fd))
        fatal_db(R);
    return R->failed ? HH_EDB : HH_OK;
}

static void poll_once(struct run *R, bool startup)
{
    struct hh_tm_poll_result res;
    uint64_t reports;

    hh_tm_poll(R->tm, on_div, R, &res);
    R->polls++;
    reports = hh_tm_exec_stats(R->tm)->reports;
    if (startup) {
        if (res.rc == HH_OK) {
            R->startup_done = true;
            HH_JLOG(&R->log, HH_LOG_INFO, now_of(R), "reconcile_startup", NULL,
                    "startup reconciliation done: broker orders %zu, positions %zu, "
                    "divergences %d; signals are taken from now on", res.orders,
                    res.positions, res.divergences);
        } else {
            R->startup_retry = (now_of(R) == HH_TIME_NONE ? 0 : now_of(R)) + HH_NS_PER_S;
            HH_JLOG(&R->log, HH_LOG_WARN, now_of(R), "reconcile_startup", NULL,
                    "startup reconciliation failed (%s): retried in 1 s; no signal is taken "
                    "before it succeeds", hh_strerror(res.rc));
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
    commit(R);
}

/*
 * Everything due up to t, in time order: paper deliveries, engine timers,
 * polls, the startup reconciliation's retry.  inclusive: also what is due
 * exactly at t (market data comes after them); else only before t (a
 * signal at t comes before timers of t).
 */
static void advance(struct run *R, hh_time_t t, bool inclusive)
{
    while (!R->failed) {
        hh_time_t a = hh_tm_next_timer(R->tm), b = hh_paper_next_due(R->paper);
        hh_time_t c = R->startup_done ? R->next_poll : HH_TIME_MAX;
        hh_time_t e = R->startup_done ? HH_TIME_MAX : R->startup_retry;
        hh_time_t next = a < b ? a : b;

        next = c < next ? c : next;
        next = e < next ? e : next;
        if (next == HH_TIME_MAX || (inclusive ? next > t : next >= t))
            break;
        if (now_of(R) == HH_TIME_NONE || next > now_of(R))
            hh_clock_advance(&R->clock, next);
        hh_paper_pump(R->paper);
        if (a <= next)
            hh_tm_fire_timers(R->tm, now_of(R));
        commit(R);
        if (c <= next) {
            int64_t every = R->w.cfg.reconcile.poll;

            R->next_poll = now_of(R) + every;
            /* a quiet stretch (overnight): one poll at its start, one at its end,
             * not thousands in between — nothing happens at the broker then */
            if (t != HH_TIME_NONE && R->next_poll + every <= t)
                R->next_poll = t - (t - R->next_poll) % every;
            poll_once(R, false);
        }
        if (e <= next)
            poll_once(R, true);
    }
    if (t != HH_TIME_NONE && (now_of(R) == HH_TIME_NONE || t > now_of(R)))
        hh_clock_advance(&R->clock, t);
    if (R->startup_done && R->next_poll == HH_TIME_MAX && now_of(R) != HH_TIME_NONE)
        R->next_poll = now_of(R) + R->w.cfg.reconcile.poll;
    hh_paper_pump(R->paper);
    commit(R);
}

static void set_cursor(struct run *R, bool change)
{
    hh_tm_set_cursor(R->tm, &R->cur, change);
}

/* ---- signals ------------------------------------------------------------------------ */

static void take_signal(struct run *R, struct run_sig_item *it)
{
    struct hh_signal s;
    struct hh_sig_reject rej;
    bool ok;
    int rc = HH_OK;

    if (it->key != INT64_MIN && (now_of(R) == HH_TIME_NONE || it->key > now_of(R)))
        advance(R, it->key, false);
    R->taken++;
    if (!it->text) {
        hh_sig_reject_set(&rej, HH_SIG_PARSE_ERROR, now_of(R), "line longer than %u bytes",
                          HH_LINES_DEFAULT_MAX);
        ok = false;
    } else {
        ok = hh_sig_process_any(R->v, it->text, it->len, it->lineno, now_of(R), &s, R->g, &rej);
    }
    if (hh_persist_signal_step(R->db, it->text, it->len, it->lineno, ok ? &s : NULL,
                               ok ? NULL : &rej)) {
        fatal_db(R);
        return;
    }
    if (ok) {
        R->accepted++;
        HH_JLOG(&R->log, HH_LOG_INFO, now_of(R), "signal_accepted", corr_of(&s),
                "id=%s line=%llu %s%s%s", s.id, (unsigned long long)it->lineno,
                s.group ? "group" : hh_side_name(s.side), " ", s.group ? s.id : sym_of(R, s.iid));
        if (s.group)
            rc = hh_tm_group(R->tm, &s, &R->g->group,
                             R->g->has_stop_loss ? R->g->stop_loss : 0,
                             R->g->has_target ? R->g->target : 0);
        else
            rc = hh_tm_signal(R->tm, &s);
        if (rc)
            HH_JLOG(&R->log, HH_LOG_ERROR, now_of(R), "signal_lost", corr_of(&s),
                    "id=%s: %s", s.id, hh_strerror(rc));
    } else {
        R->rejected++;
        HH_JLOG(&R->log, HH_LOG_INFO, now_of(R), "signal_rejected",
                rej.id_known ? rej.id : NULL, "id=%s line=%llu reason=%s detail=%s",
                rej.id_known ? rej.id : "null", (unsigned long long)it->lineno,
                hh_sig_reason_name(rej.reason), rej.detail);
    }
    R->cur.w[RUN_CUR_LINE] = it->lineno;
    R->cur.w[RUN_CUR_SIGNALS_ID] = R->signals_id;
    R->cur.w[RUN_CUR_RECEIVED]++;
    set_cursor(R, true);   /* durable together with the line's records */
    commit(R);
}

/* ---- market data --------------------------------------------------------------------- */

static void on_candle(void *ctx, const struct hh_candle *c)
{
    struct run *R = ctx;

    R->completed = true;
    hh_tm_candle(R->tm, c);
}

static void no_candle(void *ctx, const struct hh_candle *c)
{
    (void)ctx;
    (void)c;
}

static void take_md(struct run *R, const struct run_md_item *it)
{
    switch (it->kind) {
    case RUN_MD_WARM:
        R->warm_n++;
        hh_candles_tick(R->cb, &it->tick, no_candle, NULL);
        return;
    case RUN_MD_CLOCK:
        if (now_of(R) == HH_TIME_NONE || it->t > now_of(R))
            advance(R, it->t, true);
        return;
    case RUN_MD_TICK:
    case RUN_MD_HALF:
        break;
    case RUN_MD_END:
        return;
    }
    if (it->kind == RUN_MD_HALF) {
        /* resumed in the middle of this tick: its candles and selection are in
         * the restored state; the builder learns the tick, the engine sees it */
        R->ticks_n++;
        if (hh_candles_tick(R->cb, &it->tick, no_candle, NULL))
            hh_tm_tick(R->tm, &it->tick);
    } else if (now_of(R) != HH_TIME_NONE && it->tick.ts < now_of(R)) {
        /* before the engine's clock (another ticks file after a restart):
         * history, for the candle builder only */
        R->past_n++;
        hh_candles_tick(R->cb, &it->tick, no_candle, NULL);
    } else {
        bool in;

        advance(R, it->tick.ts, true);
        R->ticks_n++;
        R->completed = false;
        in = hh_candles_tick(R->cb, &it->tick, on_candle, R);
        if (R->completed) {
            hh_tm_select(R->tm);
            /* an entry decided now is at the broker before this tick: it fills
             * on the first tick after the decision (SPEC §5a).  The checkpoint
             * of this commit says the tick is half done. */
            R->cur.w[RUN_CUR_ROWS] = it->row;
            R->cur.w[RUN_CUR_TICKS_ID] = R->ticks_id;
            R->cur.w[RUN_CUR_HALF] = 1;
            set_cursor(R, true);
            commit(R);
        }
        if (in)
            hh_tm_tick(R->tm, &it->tick);
    }
    R->cur.w[RUN_CUR_ROWS] = it->row + 1;
    R->cur.w[RUN_CUR_TICKS_ID] = R->ticks_id;
    R->cur.w[RUN_CUR_HALF] = 0;
    set_cursor(R, false);   /* rides with the next checkpoint */
    commit(R);
}

/* ---- the core loop ----------------------------------------------------------------------- */

enum pick { PICK_NONE, PICK_MD, PICK_SIG, PICK_END, PICK_STOP };

/* Under the hub's lock: what to process next (see the file comment). */
static enum pick choose(struct run *R)
{
    struct run_hub *h = R->hub;
    bool allow = R->startup_done;
    bool have_sig = allow && h->sig_n > 0;
    bool sig_known = !allow || !R->lines || have_sig || h->sig_live || h->sig_caught_up ||
                     h->sig_done;
    hh_time_t key = have_sig ? h->sig[h->sig_head].key : HH_TIME_MAX;

    if (g_stops)
        return PICK_STOP;
    if (h->md_n) {
        const struct run_md_item *m = &h->md[h->md_head];

        if (m->kind == RUN_MD_WARM || m->kind == RUN_MD_HALF)
            return PICK_MD;   /* history: already ordered with the signals */
        if (m->kind == RUN_MD_END)
            return have_sig && key <= now_of(R) ? PICK_SIG : PICK_END;
        if (have_sig && key <= m->t)
            return PICK_SIG;
        return sig_known ? PICK_MD : PICK_NONE;
    }
    if (have_sig && (key == INT64_MIN || (now_of(R) != HH_TIME_NONE && key <= now_of(R))))
        return PICK_SIG;
    return PICK_NONE;
}

static void wait_a_little(struct run_hub *h)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 50 * 1000 * 1000;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&h->core, &h->mu, &ts);
}

/* Returns PICK_END or PICK_STOP (or PICK_NONE after a database failure). */
static enum pick core_loop(struct run *R)
{
    struct run_hub *h = R->hub;

    while (!R->failed) {
        struct run_md_item md;
        struct run_sig_item sg;
        enum pick p;

        pthread_mutex_lock(&h->mu);
        while ((p = choose(R)) == PICK_NONE)
            wait_a_little(h);
        if (p == PICK_MD) {
            md = h->md[h->md_head];
            h->md_head = (h->md_head + 1) % RUN_MD_RING;
            h->md_n--;
        } else if (p == PICK_SIG) {
            sg = h->sig[h->sig_head];
            h->sig_head = (h->sig_head + 1) % RUN_SIG_RING;
            h->sig_n--;
        }
        pthread_cond_broadcast(&h->space);
        pthread_mutex_unlock(&h->mu);
        if (p == PICK_MD) {
            take_md(R, &md);
        } else if (p == PICK_SIG) {
            take_signal(R, &sg);
            free(sg.text);
        } else {
            if (p == PICK_END) {
                pthread_mutex_lock(&h->mu);
                md = h->md[h->md_head];
                pthread_mutex_unlock(&h->mu);
                if (md.rc)
                    HH_JLOG(&R->log, HH_LOG_ERROR, now_of(R), "market_data", NULL,
                            "%s: read error: %s", R->ticks, hh_strerror(md.rc));
            }
            return p;
        }
    }
    return PICK_NONE;
}

/* ---- setup ----------------------------------------------------------------------------- */

static void paper_config(const struct hh_config *c, bool shadow, struct hh_paper_config *pc)
{
    hh_paper_config_defaults(pc);
    pc->capital = c->capital;
    pc->slippage_ticks = c->execution.slippage_ticks;
    pc->slippage_bps = c->execution.slippage_bps;
    if (shadow)
        return;   /* nothing is sent: no latency, no faults */
    pc->latency = c->paper.latency;
    pc->fill_ratio = c->paper.fill_ratio;
    pc->seed = c->paper.seed;
    pc->drop_update_pct = c->paper.drop_update_pct;
    pc->delay_update = c->paper.delay_update;
    pc->reject_pct = c->paper.reject_pct;
    pc->timeout_pct = c->paper.timeout_pct;
    pc->n_unavailable = c->paper.n_unavailable;
    for (int i = 0; i < c->paper.n_unavailable && i < HH_PAPER_WINDOWS_MAX; i++) {
        pc->unavailable[i].from = c->paper.unavailable[i].from;
        pc->unavailable[i].to = c->paper.unavailable[i].to;
    }
    pc->n_disconnect = c->paper.n_disconnect;
    for (int i = 0; i < c->paper.n_disconnect && i < HH_PAPER_WINDOWS_MAX; i++) {
        pc->disconnect[i].from = c->paper.disconnect[i].from;
        pc->disconnect[i].to = c->paper.disconnect[i].to;
    }
}

static int parse_speed(const char *s, double *out)
{
    char *end;
    double v;

    if (!s) {
        *out = 1;
        return HH_OK;
    }
    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0) || v > 1e9)
        return HH_EINVAL;
    *out = v;
    return HH_OK;
}

/* Intern every symbol of the ticks file on the core's thread before the
 * reader thread starts (the table is read-only from then on), and check
 * the file (exit 2 material). */
static int prescan_ticks(struct run *R, uint64_t *rows, struct hh_md_stats *st)
{
    struct hh_md_reader *md = NULL;
    struct hh_tick t;
    int rc;

    *rows = 0;
    /* no warnings on stderr: the log is JSON lines; the counts are logged */
    if ((rc = hh_md_open(&md, R->ticks, HH_MD_TICKS, R->w.inst, NULL, &R->d)))
        return rc;
    while ((rc = hh_md_next_tick(md, &t)) == 1)
        (*rows)++;
    if (rc < 0)
        hh_diag_set(&R->d, rc, "%s: %s", R->ticks, hh_strerror(rc));
    *st = *hh_md_stats(md);
    hh_md_close(md);
    return rc < 0 ? rc : HH_OK;
}

static uint64_t path_id(const char *path)
{
    char real[PATH_MAX];

    if (!path || !strcmp(path, "-"))
        return 0;
    return run_path_id(realpath(path, real) ? real : path);
}

static int open_broker(struct run *R)
{
    struct hh_paper_config pc;
    struct hh_diag d;
    int rc;

    paper_config(&R->w.cfg, R->shadow, &pc);
    snprintf(R->side_path, sizeof R->side_path, "%s.%s", R->db_path,
             R->shadow ? "shadow" : "paper");
    rc = hh_paper_load(R->w.inst, &R->clock, &pc, R->side_path, &R->paper, &d);
    if (rc)
        return hh_diag_set(&R->d, rc, "%s: %s", R->side_path, d.msg);
    if (!R->paper && !(R->paper = hh_paper_new(R->w.inst, &R->clock, &pc)))
        return hh_diag_set(&R->d, HH_ENOMEM, "the paper broker could not be created");
    if ((rc = hh_paper_set_autosave(R->paper, R->side_path, false, &d)))
        return hh_diag_set(&R->d, rc, "%s: %s", R->side_path, d.msg);
    return HH_OK;
}

static int build_engine(struct run *R)
{
    const struct hh_config *c = &R->w.cfg;
    struct hh_tm_config tc = {
        c->capital, c->risk.risk_per_trade, c->risk.size_scale, c->risk.max_lots_per_trade,
        c->risk.max_open_trades, c->entry.mode == HH_ENTRY_TOUCH, c->entry.volume_mult,
        c->entry.volume_lookback, c->entry.require_pattern, c->exits.breakeven_after_t1,
        c->exits.squareoff_set, c->exits.squareoff_explicit, c->exits.squareoff,
        hh_charges_find(c->execution.fees), c->exec.exposure_check, c->exec.hedge_debounce,
        c->exec.leg_timeout, c->risk.margin_buffer, c->risk.allow_naked,
        c->expiry.close_before_set, c->expiry.close_before, c->risk.max_hedge_variance,
    };
    struct hh_tm_sink sink = { .fill = s_fill, .closed = s_closed, .rejected = s_rejected,
                               .dropped = s_dropped, .order = s_order, .ctx = R };
    struct hh_sig_rules rules = hh_app_sig_rules(c);
    struct hh_broker broker;

    if (!tc.fees)
        return hh_diag_set(&R->d, HH_ECONFIG, "%s: key 'execution.fees': unknown schedule '%s'",
                           R->config, c->execution.fees);
    tc.stops = HH_STOPS_HELD;
    tc.retry = (struct hh_retry_policy){ (int)c->broker.retry_attempts, c->broker.retry_base,
                                         c->broker.retry_max, c->broker.retry_jitter };
    tc.retry_seed = c->paper.seed;
    tc.breaker = (struct hh_breaker_config){ (int)c->broker.breaker_failures,
                                             c->broker.breaker_window,
                                             c->broker.breaker_cool_off };
    tc.hsl = (struct hh_hsl_config){ c->exec.sl_limit_buffer_pct, c->exec.sl_timeout,
                                     HH_NS_PER_S };
    sink.alert = s_alert;
    sink.alert_ctx = R;
    hh_persist_sink(R->db, &sink, &sink);
    if (R->shadow) {
        R->sh.on_order = on_shadow_order;
        R->sh.ctx = R;
        broker = run_shadow_broker(&R->sh, R->paper);
    } else {
        broker = hh_paper_broker(R->paper);
    }
    R->tm = hh_tm_new(&tc, R->w.inst, R->w.cal, &R->clock, broker, &sink);
    if (R->tm)
        hh_tm_set_barrier(R->tm, barrier, R);
    R->v = hh_sig_validator_new(R->w.inst, R->w.cal, &rules);
    R->g = malloc(sizeof *R->g);
    R->cb = hh_candles_new(R->w.inst, R->w.cal, c->entry.timeframe);
    if (!R->tm || !R->v || !R->g || !R->cb)
        return hh_diag_set(&R->d, HH_ENOMEM,
                           "the engine could not be created (out of memory, or an invalid "
                           "exec/broker configuration)");
    return HH_OK;
}

static int open_db(struct run *R)
{
    struct hh_persist_opts o;
    int rc;

    hh_persist_opts_default(&o);
    o.ckpt_changes = 0;   /* a live run checkpoints after every change */
    o.ckpt_interval = 0;
    o.mode = R->shadow ? "shadow" : "paper";
    if ((rc = hh_persist_open(R->db_path, &o, R->w.inst, &R->db, &R->d)))
        return rc;
    return hh_persist_config(R->db, R->config, HH_TIME_NONE, &R->d);
}

/* Restore, resume positions, attach: the engine as the database left it. */
static int restore(struct run *R)
{
    struct hh_persist_restored res;
    int rc = hh_persist_restore(R->db_path, R->tm, R->v, R->db, &res, &R->d);

    if (rc)
        return rc;
    if (res.found) {
        hh_clock_advance(&R->clock, res.at);
        hh_tm_get_cursor(R->tm, &R->cur);
    }
    if ((rc = hh_persist_attach(R->db, R->tm, now_of(R), &R->d)))
        return rc;
    HH_JLOG(&R->log, HH_LOG_INFO, now_of(R), "engine_start", NULL,
            "mode=%s db=%s %s%s resume: ticks row %llu%s%s, signal line %llu%s; "
            "signal ids known %llu; broker state %s",
            R->shadow ? "shadow" : "paper", R->db_path,
            res.found ? "restored state_hash=" : "fresh start", res.found ? res.state_hash : "",
            (unsigned long long)(R->cur.w[RUN_CUR_TICKS_ID] == R->ticks_id
                                 ? R->cur.w[RUN_CUR_ROWS] : 0),
            R->cur.w[RUN_CUR_HALF] ? " (its selection done)" : "",
            R->cur.w[RUN_CUR_TICKS_ID] && R->cur.w[RUN_CUR_TICKS_ID] != R->ticks_id
            ? " (another ticks file: rows before the engine clock are skipped)" : "",
            (unsigned long long)(R->cur.w[RUN_CUR_SIGNALS_ID] == R->signals_id &&
                                 R->signals_id ? R->cur.w[RUN_CUR_LINE] : 0),
            R->cur.w[RUN_CUR_SIGNALS_ID] && R->cur.w[RUN_CUR_SIGNALS_ID] != R->signals_id
            ? " (another signal source: from its first line)" : "",
            (unsigned long long)res.signal_ids, R->side_path);
    return HH_OK;
}

static int start_feed(struct run *R)
{
    R->hub = calloc(1, sizeof *R->hub);
    if (!R->hub || run_hub_init(R->hub))
        return hh_diag_set(&R->d, HH_ENOMEM, "out of memory");
    R->hub->sig_live = R->lines && !R->feed.follow;
    R->feed.hub = R->hub;
    R->feed.ticks = R->ticks;
    R->feed.inst = R->w.inst;
    R->feed.speed = R->speed;
    R->feed.skip_rows = R->cur.w[RUN_CUR_TICKS_ID] == R->ticks_id ? R->cur.w[RUN_CUR_ROWS] : 0;
    R->feed.half = R->cur.w[RUN_CUR_TICKS_ID] == R->ticks_id && R->cur.w[RUN_CUR_HALF];
    R->feed.lines = R->lines;
    R->feed.skip_lines = R->signals_id && R->cur.w[RUN_CUR_SIGNALS_ID] == R->signals_id
                             ? R->cur.w[RUN_CUR_LINE] : 0;
    return run_feed_start(&R->feed) ? hh_diag_set(&R->d, HH_ENOMEM, "cannot start threads")
                                    : HH_OK;
}

/* ---- shutdown --------------------------------------------------------------------------- */

static void drain(struct run *R)
{
    struct run_hub *h = R->hub;

    for (;;) {
        struct run_md_item md;

        if (g_stops > 1 || R->failed)
            return;   /* asked twice: persist now */
        pthread_mutex_lock(&h->mu);
        if (!h->md_n || h->md[h->md_head].kind == RUN_MD_END) {
            pthread_mutex_unlock(&h->mu);
            return;
        }
        md = h->md[h->md_head];
        h->md_head = (h->md_head + 1) % RUN_MD_RING;
        h->md_n--;
        pthread_mutex_unlock(&h->mu);
        take_md(R, &md);
    }
}

static void log_positions(struct run *R)
{
    size_t n = hh_inst_count(R->w.inst);
    int open = 0;

    for (hh_iid_t i = 0; i < n; i++) {
        hh_qty_t e = hh_tm_position(R->tm, i), b = hh_paper_position(R->paper, i);

        if (!e && !b)
            continue;
        open++;
        HH_JLOG(&R->log, e == b ? HH_LOG_INFO : HH_LOG_WARN, now_of(R), "open_position", NULL,
                "symbol=%s engine=%lld broker=%lld%s", sym_of(R, i), (long long)e, (long long)b,
                e == b ? "" : " (differ: the next start reconciles)");
    }
    if (!open)
        HH_JLOG(&R->log, HH_LOG_INFO, now_of(R), "open_position", NULL, "no open position");
}

static int finish(struct run *R, const char *why)
{
    const struct hh_tm_stats *st = hh_tm_stats(R->tm);
    const struct hh_tm_exec_stats *ls = hh_tm_exec_stats(R->tm);
    const char *last = NULL;
    char net[40];

    HH_JLOG(&R->log, HH_LOG_INFO, now_of(R), "shutdown", NULL,
            "%s: no new signal is taken; finishing what is in flight%s", why,
            g_stops > 1 ? " (asked twice: no drain)" : "");
    if (R->hub) {
        run_feed_stop(&R->feed);
        drain(R);
    }
    commit(R);
    if (R->startup_done && !R->failed && g_stops < 2)
        poll_once(R, false);   /* the state persisted is the broker's, reports lost or not */
    if (!R->failed && hh_persist_finish(R->db, now_of(R), &R->d))
        fatal_db(R);
    if (hh_paper_save_errors(R->paper, &last))
        HH_JLOG(&R->log, HH_LOG_ERROR, now_of(R), "broker_state", NULL,
                "%llu save(s) of %s failed, last: %s",
                (unsigned long long)hh_paper_save_errors(R->paper, NULL), R->side_path,
                last ? last : "");
    log_positions(R);
    fx(net, sizeof net, st->net);
    HH_JLOG(&R->log, R->failed ? HH_LOG_ERROR : HH_LOG_INFO, now_of(R), "engine_stop", NULL,
            "%s ticks %llu (warm-up %llu), signals taken %llu (accepted %llu, rejected %llu), "
            "trades closed %llu, net_pnl=%s, open %llu, waiting %llu; polls %llu, divergences "
            "%llu; broker: placed %llu, timeouts %llu (found %llu), retries %llu, refused by "
            "the breaker %llu, stops %llu, reports refused by order state %llu; database %s",
            R->failed ? "FAILED:" : "stopped:", (unsigned long long)R->ticks_n,
            (unsigned long long)R->warm_n, (unsigned long long)R->taken,
            (unsigned long long)R->accepted, (unsigned long long)R->rejected,
            (unsigned long long)st->trades_closed, net, (unsigned long long)st->open,
            (unsigned long long)st->waiting, (unsigned long long)R->polls,
            (unsigned long long)R->divergences, (unsigned long long)ls->placed,
            (unsigned long long)ls->timeouts, (unsigned long long)ls->found,
            (unsigned long long)ls->retries, (unsigned long long)ls->refused,
            (unsigned long long)ls->stops, (unsigned long long)ls->refusals,
            R->failed ? R->d.msg : "saved");
    return R->failed ? HH_EXIT_FAIL : HH_EXIT_OK;
}

/* A hub a detached reader may still use: kept reachable until the exit. */
static struct run_hub *volatile g_parked_hub;   /* volatile: the store stays */

static void cleanup(struct run *R)
{
    bool reader_alive = R->hub && R->feed.sig_started;

    hh_persist_close(R->db, NULL);
    hh_tm_free(R->tm);
    hh_paper_free(R->paper);
    hh_candles_free(R->cb);
    hh_sig_validator_free(R->v);
    free(R->g);
    if (reader_alive) {
        /* a stdin reader still sits in read(): its hub and lines stay */
        g_parked_hub = R->hub;
    } else {
        if (R->hub) {
            run_hub_destroy(R->hub);
            free(R->hub);
        }
        hh_lines_close(R->lines);
    }
    hh_world_free(&R->w);
}

static int fail(struct run *R, int code)
{
    fprintf(stderr, "hedgehog run: %s\n", R->d.msg);
    cleanup(R);
    return code;
}

int hh_cmd_run(int argc, char **argv)
{
    struct run R;
    const struct hh_opt opts[] = {
        { "--config", &R.config, true, false },   { "--mode", &R.mode, true, false },
        { "--ticks", &R.ticks, false, false },    { "--speed", &R.speed_s, false, false },
        { "--signals", &R.signals, false, false }, { "--db", &R.db_path, false, false },
        { "--log-level", &R.level_s, false, false },
    };
    struct sigaction sa;
    enum hh_jlog_level level = HH_LOG_INFO;
    uint64_t rows = 0;
    struct hh_md_stats mds;
    enum pick end;
    int rc;

    memset(&R, 0, sizeof R);
    if (hh_app_parse(ME, USAGE, argc, argv, opts, 7))
        return HH_EXIT_USAGE;
    if (strcmp(R.mode, "paper") && strcmp(R.mode, "shadow") && strcmp(R.mode, "live"))
        return hh_app_say(ME, USAGE, HH_EXIT_USAGE, "--mode: paper, shadow or live, not '%s'",
                          R.mode);
    if (R.level_s && !hh_jlog_level_parse(R.level_s, &level))
        return hh_app_say(ME, USAGE, HH_EXIT_USAGE,
                          "--log-level: debug, info, warn or error, not '%s'", R.level_s);
    if (parse_speed(R.speed_s, &R.speed))
        return hh_app_say(ME, USAGE, HH_EXIT_USAGE,
                          "--speed: a number >= 0 (1 real time, 0 as fast as possible), not '%s'",
                          R.speed_s);
    if (hh_world_load(&R.w, R.config, &R.d))
        return fail(&R, HH_EXIT_USAGE);
    if (!strcmp(R.mode, "live")) {
        hh_diag_set(&R.d, HH_EINVAL, "--mode live: no live broker adapter is configured (this "
                    "build has the paper and shadow brokers only); nothing was started");
        return fail(&R, HH_EXIT_USAGE);
    }
    if (!R.ticks) {
        hh_diag_set(&R.d, HH_EINVAL, "--ticks is required: no live market-data adapter is "
                    "configured");
        return fail(&R, HH_EXIT_USAGE);
    }
    R.shadow = !strcmp(R.mode, "shadow");
    R.log.out = stderr;
    R.log.min = level;
    R.db_path = R.db_path ? R.db_path : "hedgehog.db";
    R.next_poll = HH_TIME_MAX;
    R.startup_retry = HH_TIME_MAX;
    hh_clock_init(&R.clock, true);
    if (prescan_ticks(&R, &rows, &mds))
        return fail(&R, HH_EXIT_USAGE);
    R.ticks_id = path_id(R.ticks);
    if (R.signals) {
        struct stat st;

        if (hh_lines_open(&R.lines, R.signals, 0, &R.d))
            return fail(&R, HH_EXIT_USAGE);
        R.feed.follow = fstat(hh_lines_fd(R.lines), &st) == 0 && S_ISREG(st.st_mode);
        hh_lines_set_follow(R.lines, R.feed.follow);
        R.signals_id = path_id(R.signals);
    }
    if (open_db(&R) || open_broker(&R) || build_engine(&R))
        return fail(&R, HH_EXIT_USAGE);
    if ((rc = restore(&R)))
        return fail(&R, rc == HH_ENOMEM ? HH_EXIT_FAIL : HH_EXIT_USAGE);
    HH_JLOG(&R.log, mds.skipped ? HH_LOG_WARN : HH_LOG_INFO, now_of(&R), "market_data", NULL,
            "%s: %llu ticks, rows skipped %llu (out of order %llu, bad field %llu), speed %g%s",
            R.ticks, (unsigned long long)rows, (unsigned long long)mds.skipped,
            (unsigned long long)mds.skipped_order, (unsigned long long)mds.skipped_field,
            R.speed, R.speed == 0 ? " (as fast as possible)" : "");
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    /* startup reconciliation: the broker wins; no signal before it worked */
    poll_once(&R, true);
    if (R.failed || start_feed(&R)) {
        if (!R.failed)
            fprintf(stderr, "hedgehog run: %s\n", R.d.msg);
        finish(&R, "cannot start");
        cleanup(&R);
        return HH_EXIT_FAIL;
    }
    end = core_loop(&R);
    rc = finish(&R, end == PICK_STOP ? "signal received"
                    : end == PICK_END ? "end of market data" : "database failure");
    cleanup(&R);
    return rc;
}
