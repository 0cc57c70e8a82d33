/*
 * run_ops.c — the operator's side of `hedgehog run` (SPEC §12): the
 * operations API (commands as a loop source, the documents and metrics it
 * serves), the kill switch (the API's, and the requests `hedgehog kill`
 * leaves in the database), and the daily report at each session's end.
 *
 *   API threads ──commands──▶ ops source (the loop) ──▶ the engine, the journal
 *        ▲                                                   │
 *        └──── documents, metrics (≤ 4 a second) ◀── run_ops_tick ◀┘
 *
 * Every effect of a command is durable before it is answered (the step is
 * committed and flushed first: run_barrier); a burst of signals shares one
 * step, one commit, then every answer.  Nothing here runs on an API thread
 * but the wakeup and the log callback; the API copies what crosses.
 */
#include "app/run.h"
#include "app/version.h"

#include "api/api.h"
#include "daily/daily.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PUBLISH_EVERY_MS 250      /* documents at most 4 times a second */
#define KILL_POLL_EVERY_MS 1000   /* requests `hedgehog kill` left in the database */
#define RECENT_MAX 100            /* fills and alerts the documents keep */
#define TAKEN_MAX 64              /* accepted signals awaiting their entry order */
#define SIGNAL_BATCH 64           /* API signals decided in one step, then answered */
#define SESSION_END HH_TOD(15, 30)

struct recent_fill {
    hh_time_t ts;
    uint64_t order_id;
    uint32_t trade_id;
    hh_iid_t iid;
    enum hh_side side;
    hh_qty_t qty;
    hh_price_t price;
    enum hh_fill_reason reason;
};

struct recent_alert {
    hh_time_t ts;
    char severity[8];
    char code[32];
    char msg[200];
};

/* An accepted signal, by id, until its entry order is sent (or it is
 * pushed out by TAKEN_MAX later ones: then its latency is not observed). */
struct taken_signal {
    char id[HH_SIG_ID_MAX];           /* "" when free */
    int64_t wall_ns;                  /* monotonic clock when it was taken */
};

/* An answer held until the step it reports on is durable. */
struct held_answer {
    uint64_t id;                      /* the command's */
    int status;
    char *json;                       /* malloc'd; NULL: "{}" */
};

struct run_ops {
    struct hh_api *api;               /* NULL: no API configured */
    struct hh_api_command *cmd;       /* the command taken next (cmd_held) */
    bool cmd_held;
    int64_t published_ms, kill_polled_ms;
    int64_t kill_seen;                /* the latest request applied (its id) */
    struct hh_store_kill_row kill;    /* the latest change, for the status */
    bool kill_known, flat_logged;
    hh_date_t report_day;             /* the engine day the next report is for */
    struct hh_position *pos;          /* per instrument, from the fills */
    size_t npos;
    struct recent_fill fills[RECENT_MAX];
    size_t nfills;                    /* total: fills[n % RECENT_MAX] */
    struct recent_alert alerts[RECENT_MAX];
    size_t nalerts;
    hh_time_t last_poll;              /* engine time of the last successful poll */
    bool poll_ok;
    int kill_series[4];               /* KILL_SWITCH_STATE by enum hh_tm_trading */
    struct taken_signal taken[TAKEN_MAX];
    size_t ntaken;                    /* total: taken[n % TAKEN_MAX] */
    uint64_t lags_seen;               /* hedge lags observed (hh_tm_hedge_lags) */
    bool batching;                    /* answers are held (a burst of signals) */
    struct held_answer held[SIGNAL_BATCH];
    size_t nheld;
};

static hh_time_t now_of(const struct run *R)
{
    return R->clock.now;
}

static int64_t wall_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int64_t run_ops_mono_ns(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * HH_NS_PER_S + t.tv_nsec;
}

static int64_t mono_ms(void)
{
    return run_ops_mono_ns() / HH_NS_PER_MS;
}

/* ---- what the engine says, kept for the documents and counted ----------------------- */

void run_ops_fill(struct run *R, const struct hh_tm_fill *f)
{
    struct run_ops *o = R->ops;
    struct recent_fill *rf;

    if (!o)
        return;
    if (f->iid < o->npos)
        (void)hh_position_apply(&o->pos[f->iid], f->side, f->qty, f->price);
    rf = &o->fills[o->nfills++ % RECENT_MAX];
    *rf = (struct recent_fill){ f->ts, f->order_id, f->trade_id, f->iid, f->side, f->qty,
                                f->price, f->reason };
    hh_api_count(o->api, HH_API_M_FILLS, 0, 1);
}

void run_ops_alert(struct run *R, const char *severity, const char *code, const char *msg)
{
    struct run_ops *o = R->ops;
    struct recent_alert *a;

    if (!o)
        return;
    a = &o->alerts[o->nalerts++ % RECENT_MAX];
    a->ts = now_of(R);
    snprintf(a->severity, sizeof a->severity, "%s", severity);
    snprintf(a->code, sizeof a->code, "%s", code);
    snprintf(a->msg, sizeof a->msg, "%s", msg ? msg : "");
    if (!strcmp(code, "STOP_MARKET"))
        hh_api_count(o->api, HH_API_M_SL_MARKET_FALLBACKS, 0, 1);
}

void run_ops_signal(struct run *R, enum hh_sig_reason reason, const char *id)
{
    struct run_ops *o = R->ops;
    struct taken_signal *t;

    if (!o || !o->api)
        return;
    hh_api_count(o->api, HH_API_M_SIGNALS, (int)reason, 1);
    if (reason != HH_SIG_NONE || !id)
        return;
    t = &o->taken[o->ntaken++ % TAKEN_MAX];
    snprintf(t->id, sizeof t->id, "%s", id);
    t->wall_ns = run_ops_mono_ns();
}

/* Signal -> order latency: wall time from an accepted signal's taking to
 * its entry order's first placement (an entry is the order sent before
 * its trade has an id).  Each signal is observed once. */
static void entry_sent(struct run_ops *o, const struct hh_tm_order_event *e)
{
    size_t n = o->ntaken < TAKEN_MAX ? o->ntaken : TAKEN_MAX;

    if (!e->sig || e->trade_id)
        return;
    for (size_t i = 0; i < n; i++) {
        struct taken_signal *t = &o->taken[i];

        if (t->id[0] && !strcmp(t->id, e->sig->id)) {
            hh_api_observe_ns(o->api, HH_API_M_SIGNAL_ORDER_LATENCY, 0,
                              run_ops_mono_ns() - t->wall_ns);
            t->id[0] = '\0';
            return;
        }
    }
}

void run_ops_commit_latency(struct run *R, int64_t ns)
{
    if (R->ops)
        hh_api_observe_ns(R->ops->api, HH_API_M_STORE_COMMIT_LATENCY, 0, ns);
}

void run_ops_order(struct run *R, const struct hh_tm_order_event *e)
{
    struct run_ops *o = R->ops;
    const char *result = NULL;

    if (!o || !o->api)
        return;
    if (e->kind == HH_TMO_SENT) {
        result = "SENT";
        entry_sent(o, e);
    } else if (e->kind == HH_TMO_REPORT && e->report->kind != HH_RPT_ACK &&
             e->report->kind != HH_RPT_MODIFIED && hh_ord_state_terminal(e->state))
        result = hh_ord_state_name(e->state);
    if (result) {
        int s = hh_api_series(o->api, HH_API_M_ORDERS, result);

        if (s >= 0)
            hh_api_count(o->api, HH_API_M_ORDERS, s, 1);
    }
}

void run_ops_polled(struct run *R, bool ok, int divergences)
{
    struct run_ops *o = R->ops;

    if (!o)
        return;
    o->poll_ok = ok;
    if (ok)
        o->last_poll = now_of(R);
    if (divergences > 0)
        hh_api_count(o->api, HH_API_M_RECONCILE_DIVERGENCES, 0, (uint64_t)divergences);
}

/* ---- the kill switch ------------------------------------------------------------------- */

static enum hh_tm_kill tm_kill_of(enum hh_store_kill_action a)
{
    static const enum hh_tm_kill map[HH_KILL_COUNT] = {
        [HH_KILL_PAUSE] = HH_TM_PAUSE, [HH_KILL_REDUCE] = HH_TM_REDUCE,
        [HH_KILL_HALT] = HH_TM_HALT, [HH_KILL_FLATTEN] = HH_TM_FLATTEN,
        [HH_KILL_RESUME] = HH_TM_RESUME,
    };

    return map[a];
}

/* A kill-switch change: the engine first, then its records (the journal's
 * KILL_SWITCH audit row), durable with the step; logged and evented. */
static void apply_kill(struct run *R, const struct hh_store_kill_row *k)
{
    struct run_ops *o = R->ops;
    struct hh_json *w;

    hh_tm_kill(R->tm, tm_kill_of(k->action));
    if (hh_journal_kill(R->db, k, true, now_of(R)))
        run_fatal_db(R);
    o->kill = *k;
    o->kill_known = true;
    o->flat_logged = false;
    if (k->id > o->kill_seen)
        o->kill_seen = k->id;
    HH_JLOG(&R->log, k->action == HH_KILL_RESUME ? HH_LOG_WARN : HH_LOG_ERROR, now_of(R),
            "kill_switch", NULL, "%s by %s (%s): trading %s%s",
            hh_store_kill_action_name(k->action), k->by, k->reason[0] ? k->reason : "no reason",
            hh_tm_trading_name(hh_tm_trading(R->tm)),
            hh_tm_flattening(R->tm) ? ", closing every position at market" : "");
    if ((w = run_kafka_event(R, "kill_switch", NULL, NULL, now_of(R)))) {
        hh_json_str(w, "action", hh_store_kill_action_name(k->action));
        hh_json_str(w, "state", hh_tm_trading_name(hh_tm_trading(R->tm)));
        hh_json_str(w, "by", k->by);
        run_kafka_event_end(R);
    }
    (void)run_barrier(R);   /* durable before it is answered or acted on */
    if (!R->failed)
        hh_tm_flush(R->tm);
}

/* The latest request in the database: applied when no engine took it up
 * yet (`hedgehog kill`, beside this engine or before it started). */
static void poll_kill_requests(struct run *R)
{
    struct run_ops *o = R->ops;
    struct hh_store_kill_row k;
    bool found = false;

    if (hh_journal_kill_state(R->db_path, &k, &found, &R->d)) {
        HH_JLOG(&R->log, HH_LOG_WARN, now_of(R), "kill_switch", NULL,
                "cannot read the kill switch's requests: %s", R->d.msg);
        return;
    }
    if (!found)
        return;
    if (!o->kill_known) {
        o->kill = k;
        o->kill_known = true;
    }
    if (k.applied_at == HH_TIME_NONE && k.id > o->kill_seen)
        apply_kill(R, &k);
}

/* At start: the engine restarts in the state its database's latest request
 * says (the snapshot has it too; a request left while it was down is taken
 * up now). */
void run_ops_start(struct run *R)
{
    if (R->ops)
        poll_kill_requests(R);
}

/* ---- the daily report -------------------------------------------------------------------- */

static void daily_report(struct run *R, hh_date_t day)
{
    struct run_ops *o = R->ops;
    char date[16], *json = NULL;
    int rc;

    hh_date_format(day, date, sizeof date);
    if (hh_store_flush(hh_journal_store(R->db), &R->d))
        return;
    if (R->w.cfg.report.dir[0]) {
        rc = hh_daily_write(R->db_path, date, R->w.cfg.report.dir, &json, &R->d);
    } else {
        struct hh_store_reader *rd = NULL;
        struct hh_daily rep;
        size_t len;

        memset(&rep, 0, sizeof rep);
        rc = hh_store_reader_open(R->db_path, &rd, &R->d);
        if (!rc && !(rc = hh_daily_compute(rd, date, &rep, &R->d)))
            rc = hh_daily_json(&rep, &json, &len);
        hh_daily_free(&rep);
        hh_store_reader_close(rd);
    }
    if (rc) {
        HH_JLOG(&R->log, HH_LOG_ERROR, now_of(R), "daily_report", NULL, "%s: %s", date,
                R->d.msg);
    } else {
        HH_JLOG(&R->log, HH_LOG_INFO, now_of(R), "daily_report", NULL, "%s written%s%s", date,
                R->w.cfg.report.dir[0] ? " to " : "", R->w.cfg.report.dir);
        if (json)
            hh_api_publish_report(o->api, date, json, strlen(json));
    }
    free(json);
}

/* A session ended (engine time past its close, or the run ending): its report. */
static void maybe_report(struct run *R, bool ending)
{
    struct run_ops *o = R->ops;
    hh_time_t now = now_of(R);
    hh_date_t today;

    if (now == HH_TIME_NONE || (!o->api && !R->w.cfg.report.dir[0]))
        return;
    today = hh_time_ist_date(now);
    if (o->report_day == HH_DATE_NONE)
        o->report_day = today;
    if (o->report_day < today || (o->report_day == today && hh_time_ist_tod(now) >= SESSION_END) ||
        ending) {
        daily_report(R, o->report_day);
        o->report_day = o->report_day < today ? today : today + 1;
    }
}

/* ---- the documents ---------------------------------------------------------------------- */

static void fx(struct hh_json *w, const char *key, int64_t v)
{
    hh_json_fx(w, key, v, 2);
}

static void publish_doc(struct run *R, enum hh_api_doc which, struct hh_json *w)
{
    hh_api_publish(R->ops->api, which, hh_json_text(w), w->len);
    hh_json_reset(w);
}

static bool broker_flat(const struct run *R)
{
    for (size_t i = 0; i < hh_inst_count(R->w.inst); i++)
        if (run_broker_qty(R, (hh_iid_t)i))
            return false;
    return true;
}

static void doc_status(struct run *R, struct hh_json *w)
{
    struct run_ops *o = R->ops;
    const struct hh_tm_stats *st = hh_tm_stats(R->tm);
    size_t working = 0;

    for (size_t i = 0; i < hh_tm_order_count(R->tm); i++) {
        struct hh_tm_order_view v;

        working += hh_tm_order_view(R->tm, i, &v) == HH_OK && v.working;
    }
    hh_json_begin_object(w, NULL, false);
    hh_json_str(w, "mode", R->shadow ? "shadow" : R->mode);
    hh_json_str(w, "trading_state", hh_tm_trading_name(hh_tm_trading(R->tm)));
    hh_json_time(w, "engine_time", now_of(R));
    hh_json_str(w, "breaker", hh_breaker_state_name(hh_tm_breaker_state(R->tm)));
    hh_json_time(w, "last_reconcile_at", o->last_poll);
    hh_json_begin_object(w, "reconcile", false);
    hh_json_uint(w, "divergences_total", R->divergences);
    hh_json_end_object(w);
    hh_json_begin_object(w, "kill", false);
    hh_json_str(w, "action", o->kill_known ? hh_store_kill_action_name(o->kill.action) : NULL);
    hh_json_str(w, "reason", o->kill_known ? o->kill.reason : NULL);
    hh_json_time(w, "at", o->kill_known ? o->kill.at : HH_TIME_NONE);
    hh_json_bool(w, "flattening", hh_tm_flattening(R->tm));
    hh_json_bool(w, "flat", hh_tm_flat(R->tm) && o->poll_ok && broker_flat(R));
    hh_json_end_object(w);
    hh_json_begin_object(w, "counts", false);
    hh_json_uint(w, "signals_taken", R->taken);
    hh_json_uint(w, "signals_accepted", R->accepted);
    hh_json_uint(w, "signals_rejected", R->rejected);
    hh_json_int(w, "trades_open", st->open);
    hh_json_int(w, "trades_waiting", st->waiting);
    hh_json_uint(w, "trades_closed", st->trades_closed);
    hh_json_uint(w, "orders_working", working);
    hh_json_uint(w, "polls", R->polls);
    hh_json_end_object(w);
    fx(w, "net_pnl", st->net);
    hh_json_end_object(w);
}

static void doc_positions(struct run *R, struct hh_json *w)
{
    struct run_ops *o = R->ops;
    hh_money_t tu = 0, tr = 0;
    int open = 0;

    hh_json_begin_object(w, NULL, false);
    hh_json_begin_array(w, "positions", true);
    for (size_t i = 0; i < o->npos; i++) {
        const struct hh_position *p = &o->pos[i];
        hh_qty_t eng = hh_tm_position(R->tm, (hh_iid_t)i), brk = run_broker_qty(R, (hh_iid_t)i);
        hh_price_t last = hh_tm_last_price(R->tm, (hh_iid_t)i);
        hh_money_t unreal = p->qty && last ? (last - p->avg) * p->qty : 0;

        if (!eng && !brk && !p->qty && !p->realised)
            continue;
        open += eng != 0;
        tu += unreal;
        tr += p->realised;
        hh_json_begin_object(w, NULL, false);
        hh_json_str(w, "symbol", run_sym(R, (hh_iid_t)i));
        hh_json_int(w, "engine_qty", eng);
        hh_json_int(w, "broker_qty", brk);
        fx(w, "avg_price", p->avg);
        fx(w, "last_price", last);
        fx(w, "unrealised_pnl", unreal);
        fx(w, "realised_pnl", p->realised);
        hh_json_end_object(w);
    }
    hh_json_end_array(w);
    hh_json_begin_object(w, "totals", false);
    fx(w, "unrealised_pnl", tu);
    fx(w, "realised_pnl", tr);
    hh_json_end_object(w);
    hh_json_end_object(w);
    hh_api_gauge(o->api, HH_API_M_OPEN_POSITIONS, 0, open);
}

static void doc_orders(struct run *R, struct hh_json *w)
{
    hh_json_begin_object(w, NULL, false);
    hh_json_begin_array(w, "orders", true);
    for (size_t i = 0; i < hh_tm_order_count(R->tm); i++) {
        struct hh_tm_order_view v;

        if (hh_tm_order_view(R->tm, i, &v))
            continue;
        hh_json_begin_object(w, NULL, false);
        hh_json_str(w, "client_id", v.client_id);
        hh_json_uint(w, "broker_id", v.order_id);
        hh_json_str(w, "symbol", run_sym(R, v.iid));
        hh_json_str(w, "side", hh_side_name(v.side));
        hh_json_str(w, "type", hh_ord_type_name(v.type));
        hh_json_str(w, "state", v.state);
        hh_json_int(w, "qty", v.qty);
        hh_json_int(w, "filled", v.filled);
        fx(w, "price", v.limit);
        fx(w, "trigger_price", v.trigger);
        hh_json_time(w, "placed_at", v.placed_at);
        hh_json_end_object(w);
    }
    hh_json_end_array(w);
    hh_json_end_object(w);
}

static void trade_row(struct run *R, struct hh_json *w, const struct hh_tm_trade_view *v)
{
    hh_money_t exit_value = v->realised;   /* (gross of the exited units) */

    hh_json_begin_object(w, NULL, false);
    hh_json_uint(w, "trade_id", v->trade_id);
    hh_json_str(w, "signal_id", v->signal_id);
    hh_json_str(w, "symbol", run_sym(R, v->iid));
    hh_json_str(w, "side", hh_side_name(v->side));
    hh_json_str(w, "state", v->state);
    hh_json_int(w, "qty", v->entered);
    hh_json_int(w, "open_qty", v->pos);
    fx(w, "entry_price", v->entry_avg);
    fx(w, "gross_pnl", exit_value);
    fx(w, "net_pnl", exit_value - v->charges);
    hh_json_time(w, "opened_at", v->entry_ts);
    hh_json_time(w, "closed_at", !strcmp(v->state, "CLOSED") ? v->exit_ts : HH_TIME_NONE);
    hh_json_bool(w, "adopted", v->adopted);
    hh_json_end_object(w);
}

static void doc_trades(struct run *R, struct hh_json *w)
{
    hh_json_begin_object(w, NULL, false);
    hh_json_begin_array(w, "trades", true);
    for (size_t i = 0; i < hh_tm_trade_count(R->tm); i++) {
        struct hh_tm_trade_view v;

        if (hh_tm_trade_view(R->tm, i, &v) == HH_OK)
            trade_row(R, w, &v);
    }
    for (size_t i = 0; i < hh_tm_group_count(R->tm); i++) {
        struct hh_tm_group_view g;

        if (hh_tm_group_view(R->tm, i, &g))
            continue;
        hh_json_begin_object(w, NULL, false);
        hh_json_uint(w, "trade_id", g.trade_id);
        hh_json_str(w, "signal_id", g.id);
        hh_json_str(w, "symbol", run_sym(R, g.legs[0].iid));
        hh_json_str(w, "state", g.state);
        hh_json_int(w, "legs", g.nlegs);
        hh_json_int(w, "hedged", g.hedged);
        hh_json_int(w, "unhedged", g.unhedged);
        hh_json_bool(w, "rolled_back", g.rolled_back);
        hh_json_end_object(w);
    }
    hh_json_end_array(w);
    hh_json_end_object(w);
}

static void doc_recent(struct run *R, struct hh_json *w, bool fills)
{
    struct run_ops *o = R->ops;
    size_t n = fills ? o->nfills : o->nalerts;
    size_t from = n > RECENT_MAX ? n - RECENT_MAX : 0;

    hh_json_begin_object(w, NULL, false);
    hh_json_begin_array(w, fills ? "fills" : "alerts", true);
    for (size_t i = from; i < n; i++) {
        hh_json_begin_object(w, NULL, false);
        if (fills) {
            const struct recent_fill *f = &o->fills[i % RECENT_MAX];

            hh_json_time(w, "ts", f->ts);
            hh_json_uint(w, "order_id", f->order_id);
            hh_json_uint(w, "trade_id", f->trade_id);
            hh_json_str(w, "symbol", run_sym(R, f->iid));
            hh_json_str(w, "side", hh_side_name(f->side));
            hh_json_int(w, "qty", f->qty);
            fx(w, "price", f->price);
            hh_json_str(w, "reason", hh_fill_reason_name(f->reason));
        } else {
            const struct recent_alert *a = &o->alerts[i % RECENT_MAX];

            hh_json_time(w, "ts", a->ts);
            hh_json_str(w, "severity", a->severity);
            hh_json_str(w, "code", a->code);
            hh_json_str(w, "message", a->msg);
        }
        hh_json_end_object(w);
    }
    hh_json_end_array(w);
    hh_json_end_object(w);
}

/* /health/ready and the components' gauges. */
static void doc_health(struct run *R, struct hh_json *w)
{
    struct run_ops *o = R->ops;
    struct run_kafka_health kh = { true, "" };
    bool brk_up = o->poll_ok && hh_tm_breaker_state(R->tm) != HH_BRK_OPEN;
    const char *md_why = "";
    bool md_live = run_live_md_up(R, &md_why), md_up = !R->md_done && md_live;
    const char *name[4] = { "broker", "store", "market_data", "signals" };
    bool up[4];
    const char *why[4];

    run_kafka_health(R, &kh);
    up[0] = brk_up, why[0] = !o->poll_ok ? "the last reconciliation failed"
                               : brk_up ? "" : "circuit breaker open";
    up[1] = !R->failed, why[1] = R->failed ? "the database failed" : "";
    up[2] = md_up, why[2] = md_up ? "" : R->md_done ? "market data ended" : md_why;
    up[3] = kh.up, why[3] = kh.up ? "" : kh.why;
    hh_json_begin_object(w, NULL, false);
    hh_json_str(w, "status", up[0] && up[1] && up[2] && up[3] ? "UP" : "DOWN");
    hh_json_begin_object(w, "components", false);
    for (int i = 0; i < 4; i++) {
        hh_json_begin_object(w, name[i], false);
        hh_json_str(w, "status", up[i] ? "UP" : "DOWN");
        hh_json_str(w, "detail", why[i]);
        hh_json_end_object(w);
        hh_api_gauge(o->api, HH_API_M_COMPONENT_UP, i, up[i]);
    }
    hh_json_end_object(w);
    hh_json_end_object(w);
    hh_api_publish_health(o->api, up[0] && up[1] && up[2] && up[3], hh_json_text(w), w->len);
    hh_json_reset(w);
}

/* Engine time since the last market row arrived (the replay's clock runs
 * between rows, so a gap shows; live, engine time is the wall clock). */
static int64_t md_lag(const struct run *R)
{
    hh_time_t last = R->replay ? hh_feed_replay_last(R->replay) : HH_TIME_NONE;

    if (last == HH_TIME_NONE || now_of(R) == HH_TIME_NONE || now_of(R) < last)
        return 0;
    return now_of(R) - last;
}

/* The groups' worst-case margin in use over the equity it is drawn from. */
static double margin_utilisation(const struct run *R)
{
    hh_money_t equity = hh_tm_stats(R->tm)->equity;

    return equity > 0 ? (double)hh_tm_margin_in_use(R->tm) / (double)equity : 0.0;
}

/* The unhedged exposures that ended since the last look: the hedge lag. */
static void hedge_lags(struct run *R)
{
    struct run_ops *o = R->ops;
    int64_t lag[8];
    size_t n;

    while ((n = hh_tm_hedge_lags(R->tm, &o->lags_seen, lag, 8)) > 0)
        for (size_t i = 0; i < n; i++)
            hh_api_observe_ns(o->api, HH_API_M_HEDGE_LAG, 0, lag[i]);
}

/* Gauges that follow the engine's state. */
static void gauges(struct run *R)
{
    struct run_ops *o = R->ops;

    hedge_lags(R);
    hh_api_state(o->api, HH_API_M_BREAKER_STATE, (int)hh_tm_breaker_state(R->tm));
    hh_api_state(o->api, HH_API_M_KILL_SWITCH_STATE,
                 o->kill_series[hh_tm_trading(R->tm)]);
    hh_api_gauge(o->api, HH_API_M_MARKET_OPEN, 0, !R->md_done);
    hh_api_gauge(o->api, HH_API_M_MARKET_DATA_LAG, 0, (double)md_lag(R) / HH_NS_PER_S);
    hh_api_gauge(o->api, HH_API_M_MARGIN_UTILISATION, 0, margin_utilisation(R));
    for (size_t i = 0; i < hh_tm_group_count(R->tm); i++) {
        struct hh_tm_group_view g;
        int s;

        if (hh_tm_group_view(R->tm, i, &g) ||
            (s = hh_api_series(o->api, HH_API_M_UNHEDGED_EXPOSURE,
                               hh_inst_get(R->w.inst, g.legs[0].iid)->underlying)) < 0)
            continue;
        hh_api_gauge(o->api, HH_API_M_UNHEDGED_EXPOSURE, s, (double)g.unhedged);
    }
}

static void publish(struct run *R)
{
    struct hh_json w;

    hh_json_init(&w, 0, NULL, 0);
    doc_status(R, &w);
    publish_doc(R, HH_API_DOC_STATUS, &w);
    doc_positions(R, &w);
    publish_doc(R, HH_API_DOC_POSITIONS, &w);
    doc_orders(R, &w);
    publish_doc(R, HH_API_DOC_ORDERS, &w);
    doc_trades(R, &w);
    publish_doc(R, HH_API_DOC_TRADES, &w);
    doc_recent(R, &w, true);
    publish_doc(R, HH_API_DOC_FILLS, &w);
    doc_recent(R, &w, false);
    publish_doc(R, HH_API_DOC_ALERTS, &w);
    doc_health(R, &w);
    hh_json_free(&w);
    gauges(R);
}

/* The flatten is over once the broker's positions confirm it: logged once. */
static void check_flat(struct run *R)
{
    struct run_ops *o = R->ops;

    if (o->flat_logged || !hh_tm_flat(R->tm) || !o->poll_ok || !broker_flat(R))
        return;
    o->flat_logged = true;
    HH_JLOG(&R->log, HH_LOG_WARN, now_of(R), "kill_switch", NULL,
            "flat: every position is closed, the broker's positions confirm it; trading "
            "stays HALTED until resumed");
    run_ops_alert(R, "warn", "FLAT", "flatten done: the broker holds no position");
}

void run_ops_tick(struct run *R, bool ending)
{
    struct run_ops *o = R->ops;
    int64_t now = mono_ms();

    if (!o)
        return;
    if (now - o->kill_polled_ms >= KILL_POLL_EVERY_MS) {
        o->kill_polled_ms = now;
        poll_kill_requests(R);
    }
    if (hh_tm_flattening(R->tm))
        check_flat(R);
    maybe_report(R, ending);
    if (o->api && (ending || now - o->published_ms >= PUBLISH_EVERY_MS)) {
        o->published_ms = now;
        publish(R);
    }
}

/* ---- commands ---------------------------------------------------------------------------- */

/* The answer to the command in hand: now, or held while batching. */
static void answer(struct run *R, int status, struct hh_json *w)
{
    struct run_ops *o = R->ops;
    const char *text = w ? hh_json_text(w) : NULL;
    struct held_answer *h;

    if (!o->batching) {
        hh_api_answer(o->api, o->cmd->id, status, text);
        return;
    }
    HH_ASSERT(o->nheld < SIGNAL_BATCH);
    h = &o->held[o->nheld++];
    h->id = o->cmd->id;
    h->json = text ? strdup(text) : NULL;
    h->status = text && !h->json ? 503 : status;
}

static void answer_error(struct run *R, int status, const char *code, const char *detail)
{
    struct hh_json w;

    hh_json_init(&w, 0, NULL, 0);
    hh_json_begin_object(&w, NULL, false);
    hh_json_str(&w, "error", code);
    if (detail)
        hh_json_str(&w, "detail", detail);
    hh_json_end_object(&w);
    answer(R, status, &w);
    hh_json_free(&w);
}

/* POST /api/v1/signals: decided like a line, received now, its records
 * joining the step (answered by cmd_signals once it is durable).  While
 * the kill switch is on no signal is taken (409). */
static void cmd_signal(struct run *R, const struct hh_api_command *c)
{
    struct hh_signal s;
    struct hh_sig_reject rej;
    struct hh_json w;
    bool ok;

    if (hh_tm_trading(R->tm) != HH_TRADING_ACTIVE) {
        answer_error(R, 409, "NOT_TAKING_SIGNALS", hh_tm_trading_name(hh_tm_trading(R->tm)));
        return;
    }
    R->taken++;
    ok = hh_sig_process_any(R->v, c->body, c->body_len, 0, now_of(R), &s, R->g, &rej);
    if (hh_journal_signal_step(R->db, c->body, c->body_len, 0, ok ? &s : NULL,
                               ok ? NULL : &rej)) {
        run_fatal_db(R);
        answer_error(R, 503, "STORE_FAILED", NULL);
        return;
    }
    hh_journal_signal_latency(R->db, (wall_ms() - c->received_ms) * HH_NS_PER_MS);
    if (ok)
        run_accepted(R, &s, 0);
    else
        run_rejected(R, &rej, 0, NULL);
    hh_json_init(&w, 0, NULL, 0);
    hh_json_begin_object(&w, NULL, false);
    hh_json_str(&w, "id", ok ? s.id : rej.id_known ? rej.id : NULL);
    hh_json_str(&w, "decision", ok ? "ACCEPTED" : "REJECTED");
    hh_json_str(&w, "reason", ok ? NULL : hh_sig_reason_name(rej.reason));
    hh_json_end_object(&w);
    answer(R, 200, &w);
    hh_json_free(&w);
}

/* A burst of POST /api/v1/signals (those queued now, up to SIGNAL_BATCH):
 * decided in order in one step, which is committed and flushed before any
 * is answered — one commit and one checkpoint for the burst.  A command of
 * another kind ends it and is taken next. */
static void cmd_signals(struct run *R)
{
    static const char failed[] = "{\"error\":\"STORE_FAILED\"}";
    struct run_ops *o = R->ops;

    o->batching = true;
    for (;;) {
        cmd_signal(R, o->cmd);
        if (o->nheld == SIGNAL_BATCH || R->failed || !hh_api_next_command(o->api, o->cmd))
            break;
        if (o->cmd->kind != HH_API_CMD_SIGNAL) {
            o->cmd_held = true;
            break;
        }
    }
    o->batching = false;
    (void)run_barrier(R);
    for (size_t i = 0; i < o->nheld; i++) {
        struct held_answer *h = &o->held[i];

        hh_api_answer(o->api, h->id, R->failed ? 503 : h->status, R->failed ? failed : h->json);
        free(h->json);
    }
    o->nheld = 0;
    if (!R->failed)
        hh_tm_flush(R->tm);
}

static void answer_state(struct run *R)
{
    struct hh_json w;

    hh_json_init(&w, 0, NULL, 0);
    hh_json_begin_object(&w, NULL, false);
    hh_json_str(&w, "trading_state", hh_tm_trading_name(hh_tm_trading(R->tm)));
    hh_json_bool(&w, "flattening", hh_tm_flattening(R->tm));
    hh_json_end_object(&w);
    answer(R, R->failed ? 503 : 200, &w);
    hh_json_free(&w);
}

static void cmd_kill(struct run *R, const struct hh_api_command *c)
{
    static const enum hh_store_kill_action of_api[] = {
        [HH_API_KILL_PAUSE] = HH_KILL_PAUSE, [HH_API_KILL_REDUCE] = HH_KILL_REDUCE,
        [HH_API_KILL_HALT] = HH_KILL_HALT, [HH_API_KILL_FLATTEN] = HH_KILL_FLATTEN,
    };
    struct hh_store_kill_row k;

    memset(&k, 0, sizeof k);
    k.action = c->kind == HH_API_CMD_RESUME ? HH_KILL_RESUME : of_api[c->action];
    snprintf(k.reason, sizeof k.reason, "%s", c->reason);
    snprintf(k.by, sizeof k.by, "api:%s", c->key_id);
    k.at = now_of(R);
    k.applied_at = HH_TIME_NONE;
    apply_kill(R, &k);
    answer_state(R);
}

static void cmd_exit_trade(struct run *R, const struct hh_api_command *c)
{
    int rc = c->trade_id <= UINT32_MAX ? hh_tm_exit_trade(R->tm, (uint32_t)c->trade_id)
                                       : HH_ENOTFOUND;
    struct hh_json w;

    if (rc == HH_ENOTFOUND) {
        answer_error(R, 404, "NO_SUCH_TRADE", NULL);
        return;
    }
    if (rc) {
        answer_error(R, 409, "NOT_OPEN", "the trade is not open, or the kill switch forbids it");
        return;
    }
    HH_JLOG(&R->log, HH_LOG_WARN, now_of(R), "trade_exit_requested", NULL,
            "trade_id=%llu by api:%s (%s): closing at market", (unsigned long long)c->trade_id,
            c->key_id, c->reason[0] ? c->reason : "no reason");
    (void)run_barrier(R);
    hh_json_init(&w, 0, NULL, 0);
    hh_json_begin_object(&w, NULL, false);
    hh_json_uint(&w, "trade_id", c->trade_id);
    hh_json_bool(&w, "exiting", true);
    hh_json_end_object(&w);
    answer(R, R->failed ? 503 : 200, &w);
    hh_json_free(&w);
    hh_tm_flush(R->tm);
}

static void cmd_refused(struct run *R, const struct hh_api_command *c)
{
    if (hh_journal_api_refused(R->db, hh_api_refusal_name(c->refusal), c->method, c->path,
                               c->client, now_of(R)))
        run_fatal_db(R);
    HH_JLOG(&R->log, HH_LOG_WARN, now_of(R), "api_refused", NULL, "%s %s from %s: %s",
            c->method, c->path, c->client, hh_api_refusal_name(c->refusal));
    run_commit(R);
}

/* A command is taken at the engine's time now, before market data of the
 * same instant; with none waiting the source holds nothing back. */
static enum hh_src_state ops_peek(void *impl, struct hh_ev_key *key)
{
    struct run *R = impl;
    struct run_ops *o = R->ops;

    if (R->md_done)
        return HH_SRC_END;
    if (!o->cmd_held && R->startup_done)
        o->cmd_held = hh_api_next_command(o->api, o->cmd);
    if (!o->cmd_held) {
        *key = KEY_LAST;
        return HH_SRC_PENDING;
    }
    *key = now_of(R) == HH_TIME_NONE ? KEY_FIRST
                                     : (struct hh_ev_key){ now_of(R), HH_EV_SIGNAL, 0 };
    return HH_SRC_READY;
}

static int ops_take(void *impl, const struct hh_ev_key *bound)
{
    struct run *R = impl;
    struct run_ops *o = R->ops;
    const struct hh_api_command *c = o->cmd;
    enum hh_api_cmd_kind kind = c->kind;

    (void)bound;
    o->cmd_held = false;
    switch (kind) {
    case HH_API_CMD_SIGNAL:
        cmd_signals(R);
        break;
    case HH_API_CMD_KILL:
    case HH_API_CMD_RESUME:
        cmd_kill(R, c);
        break;
    case HH_API_CMD_EXIT_TRADE:
        cmd_exit_trade(R, c);
        break;
    case HH_API_CMD_REFUSED:
        cmd_refused(R, c);
        break;
    }
    /* A kill-switch change or an exit shows at once; signals (which come
     * in bursts) with the next publication, within PUBLISH_EVERY_MS. */
    if (kind != HH_API_CMD_SIGNAL && kind != HH_API_CMD_REFUSED)
        o->published_ms = 0;
    run_ops_tick(R, false);
    return R->failed ? HH_EDB : HH_OK;
}

const struct hh_source_ops run_ops_api_ops = { ops_peek, ops_take };

/* ---- setup -------------------------------------------------------------------------------- */

static void api_log(void *ctx, enum hh_api_log_level level, const char *event, const char *msg)
{
    struct run *R = ctx;

    /* (an API thread: no engine time read here) */
    HH_JLOG(&R->log, level == HH_API_LOG_ERROR ? HH_LOG_ERROR
            : level == HH_API_LOG_WARN ? HH_LOG_WARN : HH_LOG_INFO,
            HH_TIME_NONE, event, NULL, "%s", msg);
}

static void api_wakeup(void *ctx)
{
    struct run *R = ctx;

    hh_feed_hub_wake(R->hub);
}

/* The underlyings of the options instruments (exposure gauges' labels). */
static int underlyings(const struct run *R, const char ***out, size_t *n)
{
    size_t ni = hh_inst_count(R->w.inst);

    *n = 0;
    if (!(*out = calloc(ni + 1, sizeof **out)))
        return HH_ENOMEM;
    for (size_t i = 0; i < ni; i++) {
        const struct hh_instrument *in = hh_inst_get(R->w.inst, (hh_iid_t)i);
        size_t k;

        if (!hh_inst_is_option(in))
            continue;
        for (k = 0; k < *n && strcmp((*out)[k], in->underlying); k++)
            ;
        if (k == *n)
            (*out)[(*n)++] = in->underlying;
    }
    return HH_OK;
}

static int open_api(struct run *R)
{
    const struct hh_config *c = &R->w.cfg;
    struct run_ops *o = R->ops;
    char nonces[HH_PATH_MAX + 16];
    const char *allow[HH_CONFIG_LIST_MAX];
    const char **und = NULL;
    size_t nund = 0;
    struct hh_api_config ac;
    int rc;

    if (!c->api.listen[0])
        return HH_OK;
    for (int i = 0; i < c->api.allow.n; i++)
        allow[i] = c->api.allow.item[i];
    snprintf(nonces, sizeof nonces, "%s.nonces", R->db_path);
    if ((rc = underlyings(R, &und, &nund)))
        return hh_diag_set(&R->d, rc, "out of memory");
    memset(&ac, 0, sizeof ac);
    ac.listen = c->api.listen;
    ac.allow = allow;
    ac.nallow = (size_t)c->api.allow.n;
    ac.keys_file = c->api.keys_file[0] ? c->api.keys_file : NULL;
    ac.read_token_file = c->api.read_token_file[0] ? c->api.read_token_file : NULL;
    ac.nonce_file = nonces;
    ac.report_dir = c->report.dir[0] ? c->report.dir : NULL;
    ac.version = HH_VERSION;
    ac.underlyings = und;
    ac.nunderlyings = nund;
    ac.window_s = (int)(c->api.window / HH_NS_PER_S);
    ac.wakeup = api_wakeup;
    ac.wakeup_ctx = R;
    ac.log = api_log;
    ac.log_ctx = R;
    rc = hh_api_new(&ac, &o->api, &R->d);
    free(und);
    if (rc)
        return rc;
    for (int s = 0; s < 4; s++)
        o->kill_series[s] = hh_api_series(o->api, HH_API_M_KILL_SWITCH_STATE,
                                          hh_tm_trading_name((enum hh_tm_trading)s));
    if ((rc = hh_api_start(o->api, &R->d)))
        return rc;
    HH_JLOG(&R->log, HH_LOG_INFO, now_of(R), "api_listening", NULL,
            "operations API on %s (port %d), keys %s, nonces %s", c->api.listen,
            hh_api_port(o->api), ac.keys_file ? ac.keys_file : "none", nonces);
    return HH_OK;
}

int run_ops_open(struct run *R)
{
    struct run_ops *o = calloc(1, sizeof *o);
    int rc;

    if (!o || !(o->cmd = malloc(sizeof *o->cmd))) {
        free(o);
        return hh_diag_set(&R->d, HH_ENOMEM, "out of memory");
    }
    R->ops = o;
    o->npos = hh_inst_count(R->w.inst);
    o->report_day = HH_DATE_NONE;
    o->last_poll = HH_TIME_NONE;
    if (!(o->pos = calloc(o->npos + 1, sizeof *o->pos)))
        return hh_diag_set(&R->d, HH_ENOMEM, "out of memory");
    if ((rc = open_api(R)))
        return rc;
    return HH_OK;
}

bool run_ops_api(const struct run *R)
{
    return R->ops && R->ops->api;
}

void run_ops_hup(struct run *R)
{
    struct hh_diag d = { "" };

    if (!run_ops_api(R))
        return;
    if (hh_api_reload(R->ops->api, &d))
        HH_JLOG(&R->log, HH_LOG_ERROR, now_of(R), "sighup", NULL,
                "the API's keys could not be read again (every signed request is refused "
                "until they can): %s", d.msg);
    else
        HH_JLOG(&R->log, HH_LOG_INFO, now_of(R), "sighup", NULL,
                "the API's keys and read token were read again");
}

void run_ops_close(struct run *R)
{
    struct run_ops *o = R->ops;

    if (!o)
        return;
    hh_api_free(o->api);
    free(o->pos);
    free(o->cmd);
    free(o);
    R->ops = NULL;
}
