/*
 * cmd_run.c — `hedgehog run` (SPEC §10, §10a): the engine as a long-lived
 * process.  Wiring only: the loop and the market steps are the engine's
 * (engine/), the threads the feeds' (feed/), the broker the paper or shadow
 * broker, the database the journal's (journal/journal.h), the files out/'s;
 * what the engine says goes to logs, the audit trail and the files
 * (run_events.c).
 *
 *   hedgehog run --config FILE --mode paper|shadow|live [--ticks F | --bars F]
 *                [--speed X] [--signals FILE|-] [--db FILE] [--db-sync M]
 *                [--out DIR] [--log-level L] [--clock-start TS]
 *
 * --mode live trades through Zerodha Kite Connect (broker.kind: kite;
 * run_live.c); with market_data.kind: kite the ticks come from Kite's
 * socket instead of a file (any mode), at the live clock — the wall's, or
 * a rehearsal's started at --clock-start against a loopback broker.
 *
 * With `signals.source: kafka` the signals come from Kafka instead of
 * --signals (run_kafka.c: a source of the loop like the lines).
 *
 * The event loop's sources: the signal lines (validated when read, in line
 * order, with the clock at their received_at — else at the engine time
 * they are read, or their ts before this process's first market event,
 * exactly as a backtest validates a file there at the start; recorded with the
 * checkpoint that consumed them; the accepted ones wait in the engine for
 * their received_at), the replayed market data, the engine's own (arrivals,
 * timers, the broker's due reports), and the reconciliation polls every
 * reconcile.poll_s.  While the line reader has not caught up with its file
 * no market data is processed: a replay at --speed 0 is exact, and with
 * exits.stop_orders: resting, no latency and no faults it fills exactly
 * like `backtest`.
 *
 * Write-ahead: the trade manager calls the durability barrier (the step's
 * records and a checkpoint holding the queued orders, committed and
 * flushed) before any broker call.  The paper broker saves its own state
 * to <db>.paper after every change.
 *
 * Restart: the latest checkpoint is restored (state hash checked), the
 * paper broker loaded, then startup reconciliation (the broker wins); no
 * order is sent and no signal taken before it succeeded.  The checkpoint's
 * cursor says where each input resumes — only in the file it came from
 * (same first line, SPEC §10a): another file is read from its start.
 *
 * SIGTERM/SIGINT: stop taking signals and market data, send no new entry
 * (hh_tm_stop: entries decided and unsent are withdrawn; exits go on), send
 * what is queued, wait (live, at most 15 s) for what is in flight — orders
 * of unknown outcome looked up by tag, cancels confirmed —, poll the broker
 * once more, write the final checkpoint and the outputs, exit 0.  SIGHUP
 * never stops the run; SIGPIPE is ignored (a closed log pipe).  The end of
 * the market data ends the run the same way, once the accepted signals have
 * arrived and the day's timers have run.
 *
 * Exit codes: 0 done; 1 the run failed (the database failed: never trade
 * without memory; the broker out of reach at the start); 2 bad usage,
 * unreadable input, invalid configuration (--mode live without
 * broker.kind: kite, a secret file readable by others, a token of another
 * account).
 */
#include "app/cmd.h"
#include "app/run.h"
#include "core/grow.h"
#include "core/lines.h"
#include "signal/signal.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define ME "run"
const char hh_usage_run[] =
    "usage: hedgehog run --config FILE --mode paper|shadow|live "
    "[--ticks FILE | --bars FILE] [--speed X] [--signals FILE|-] [--db FILE] "
    "[--db-sync normal|full] [--out DIR] [--log-level debug|info|warn|error] "
    "[--clock-start TS]\n";
#define USAGE hh_usage_run

/* The process state signal handlers may touch (nothing else is safe). */
static volatile sig_atomic_t g_stops;
static volatile sig_atomic_t g_hups;

static void on_stop_signal(int sig)
{
    (void)sig;
    g_stops++;
}

static void on_hup(int sig)
{
    (void)sig;
    g_hups++;
}

static hh_time_t now_of(const struct run *R)
{
    return R->clock.now;
}

static void set_cursor(struct run *R, bool change)
{
    hh_tm_set_cursor(R->tm, &R->cur, change);
}

/* ---- the signal lines -------------------------------------------------------------- */

/* An accepted signal: logged and handed to the engine (it arrives at its
 * received_at).  Shared by the signal sources (lines, Kafka). */
void run_accepted(struct run *R, struct hh_signal *s, uint64_t lineno)
{
    int rc;

    R->accepted++;
    run_ops_signal(R, HH_SIG_NONE, s->id);
    HH_JLOG(&R->log, HH_LOG_INFO, now_of(R), "signal_accepted", hh_signal_corr(s),
            "id=%s line=%llu %s %s", s->id, (unsigned long long)lineno,
            s->group ? "group" : hh_side_name(s->side), s->group ? s->id : run_sym(R, s->iid));
    if (s->group) {
        R->groups = true;
        for (int i = 0; R->o && i < R->g->group.nlegs; i++)
            hh_out_chart(R->o, R->g->group.legs[i].iid);
        rc = hh_tm_accept(R->tm, s, &R->g->group, R->g->has_stop_loss ? R->g->stop_loss : 0,
                          R->g->has_target ? R->g->target : 0);
    } else {
        if (R->o)
            hh_out_chart(R->o, s->iid);
        rc = hh_tm_accept(R->tm, s, NULL, 0, 0);
    }
    if (rc)
        HH_JLOG(&R->log, HH_LOG_ERROR, now_of(R), "signal_lost", hh_signal_corr(s),
                "id=%s: %s", s->id, hh_strerror(rc));
}

/* A rejection: counted, dead-lettered into --out, logged (corr: its
 * correlation id, NULL for the signal id when known). */
void run_rejected(struct run *R, const struct hh_sig_reject *rej, uint64_t lineno,
                  const char *corr)
{
    R->rejected++;
    run_ops_signal(R, rej->reason, NULL);
    if (R->o)
        hh_out_dead_letter(R->o, lineno, rej, false);
    HH_JLOG(&R->log, HH_LOG_INFO, now_of(R), "signal_rejected",
            corr ? corr : rej->id_known ? rej->id : NULL, "id=%s line=%llu reason=%s detail=%s",
            rej->id_known ? rej->id : "null", (unsigned long long)lineno,
            hh_sig_reason_name(rej->reason), rej->detail);
}

/* A line decided: recorded in the step that consumes it. */
static void decide_line(struct run *R, const struct hh_feed_line *it)
{
    struct hh_signal s;
    struct hh_sig_reject rej;
    bool ok;

    R->taken++;
    if (!it->text) {
        hh_sig_reject_set(&rej, HH_SIG_PARSE_ERROR, HH_TIME_NONE, "line longer than %u bytes",
                          HH_LINES_DEFAULT_MAX);
        ok = false;
    } else {
        /* a line without received_at is received now, at the engine time it
         * is read (SPEC §10a): a future ts is FUTURE_TIMESTAMP at once,
         * never a signal waiting for a day that is not coming.  Before this
         * process's first market event the engine has no time of its own
         * yet (a restored clock is the last run's, maybe yesterday's): then,
         * as in a backtest, a line is received at its ts. */
        ok = hh_sig_process_any(R->v, it->text, it->len, it->lineno,
                                R->md_live ? now_of(R) : HH_TIME_NONE, &s, R->g, &rej);
    }
    if (hh_journal_signal_step(R->db, it->text, it->len, it->lineno, ok ? &s : NULL,
                               ok ? NULL : &rej)) {
        run_fatal_db(R);
        return;
    }
    if (ok)
        run_accepted(R, &s, it->lineno);
    else
        run_rejected(R, &rej, it->lineno, NULL);
}

static void take_line(struct run *R, const struct hh_feed_line *it)
{
    switch (it->kind) {
    case HH_FEED_ROTATED:
    case HH_FEED_NEW_FILE:
        HH_JLOG(&R->log, HH_LOG_WARN, now_of(R),
                it->kind == HH_FEED_ROTATED ? "source_rotated" : "source_new", NULL,
                "%s: %s: read from its first line (ids already seen stay DUPLICATE)",
                R->signals, it->kind == HH_FEED_ROTATED ? "truncated or replaced while running"
                                                        : "not the file the database resumed "
                                                          "from");
        R->cur.w[RUN_CUR_LINE] = 0;
        R->cur.w[RUN_CUR_SIG_FIRST] = 0;
        set_cursor(R, true);
        run_commit(R);
        return;
    case HH_FEED_LINE:
        break;
    }
    if (it->text && hh_sig_line_blank(it->text, it->len)) {
        R->cur.w[RUN_CUR_LINE] = it->lineno;   /* not received (SPEC §5a) */
    } else {
        decide_line(R, it);
        R->cur.w[RUN_CUR_LINE] = it->lineno;
        R->cur.w[RUN_CUR_RECEIVED]++;
    }
    R->cur.w[RUN_CUR_SIG_FIRST] = it->first;
    set_cursor(R, true);   /* durable together with the line's records */
    run_commit(R);
}

/* A line is taken as soon as it is there; while the reader has not caught
 * up with a followed file, nothing else may go first (a line to come may
 * be due before any market data yet unread); stdin never holds anything. */
static enum hh_src_state lines_peek(void *impl, struct hh_ev_key *key)
{
    struct run *R = impl;
    enum hh_feed_state st = HH_FEED_IDLE;

    if (R->md_done || !R->lines)
        return HH_SRC_END;   /* the run is ending: no new signal */
    if (!R->startup_done || hh_tm_trading(R->tm) != HH_TRADING_ACTIVE) {
        *key = KEY_LAST;     /* nothing before the startup reconciliation, and no
                                new signal while the kill switch is on: the lines
                                wait in their file */
        return HH_SRC_PENDING;
    }
    if (!R->line_held && hh_feed_lines_pop(R->lines, &R->line, &st) == 1)
        R->line_held = true;
    if (R->line_held) {
        *key = KEY_FIRST;
        return HH_SRC_READY;
    }
    if (st == HH_FEED_ENDED)
        return HH_SRC_END;
    *key = st == HH_FEED_READING && hh_feed_lines_following(R->lines) ? KEY_FIRST : KEY_LAST;
    return HH_SRC_PENDING;
}

static int lines_take(void *impl, const struct hh_ev_key *bound)
{
    struct run *R = impl;

    (void)bound;
    R->line_held = false;
    take_line(R, &R->line);
    free(R->line.text);
    return R->failed ? HH_EDB : HH_OK;
}

static const struct hh_source_ops lines_ops = { lines_peek, lines_take };

/* ---- the market data ------------------------------------------------------------------ */

/* The next item of the replay into R->md (held until taken); false: none yet. */
static bool md_next(struct run *R)
{
    if (!R->md_held && hh_feed_replay_pop(R->replay, &R->md) == 1)
        R->md_held = true;
    return R->md_held;
}

/* Gather the bars of one instant (they come one by one, the last marked). */
static bool gather_bars(struct run *R)
{
    while (!R->grp_done && md_next(R) && R->md.kind == HH_FEED_BAR) {
        if (hh_grow(&R->grp, &R->capgrp, R->ngrp + 1, sizeof *R->grp)) {
            R->failed = true;
            return false;
        }
        R->grp[R->ngrp++] = R->md.bar;
        R->grp_row = R->md.row;
        R->grp_done = R->md.last;
        R->md_held = false;
    }
    return R->grp_done;
}

static enum hh_src_state md_peek(void *impl, struct hh_ev_key *key)
{
    struct run *R = impl;
    hh_time_t last;

    if (R->md_done)
        return HH_SRC_END;
    if (R->ngrp || (md_next(R) && R->md.kind == HH_FEED_BAR)) {
        if (gather_bars(R)) {
            *key = (struct hh_ev_key){ R->grp[0].ts, HH_EV_MARKET, 0 };
            return HH_SRC_READY;
        }
        *key = (struct hh_ev_key){ R->grp[0].ts, HH_EV_MARKET, 0 };
        return HH_SRC_PENDING;
    }
    if (R->md_held) {
        *key = (struct hh_ev_key){ R->md.t, HH_EV_MARKET, 0 };
        if (R->md.kind == HH_FEED_WARM || R->md.kind == HH_FEED_MD_NEW_FILE ||
            R->md.kind == HH_FEED_MD_ROTATED || R->md.kind == HH_FEED_MD_END)
            *key = KEY_FIRST;   /* history and markers: at once */
        return HH_SRC_READY;
    }
    last = hh_feed_replay_bound(R->replay);
    *key = (struct hh_ev_key){ last, HH_EV_MARKET, 0 };
    return HH_SRC_PENDING;
}

/* One tick through the engine; the cursor says what a checkpoint taken in
 * its middle holds (its candles and selection: HALF). */
static void take_tick(struct run *R, const struct hh_feed_md *m)
{
    R->cur.w[RUN_CUR_ROWS] = m->row;
    R->cur.w[RUN_CUR_HALF] = 1;
    set_cursor(R, false);
    if (m->kind == HH_FEED_HALF) {
        hh_eng_half_tick(R->eng, &m->tick);
    } else if (now_of(R) != HH_TIME_NONE && m->tick.ts < now_of(R)) {
        /* before the engine's clock (another file after a restart):
         * history, for the candle builder only */
        R->past_n++;
        hh_eng_warm_tick(R->eng, &m->tick);
    } else {
        hh_eng_tick(R->eng, &m->tick);
    }
    R->cur.w[RUN_CUR_ROWS] = m->row + 1;
    R->cur.w[RUN_CUR_HALF] = 0;
    set_cursor(R, false);   /* rides with the next checkpoint */
}

static void take_bars(struct run *R)
{
    R->cur.w[RUN_CUR_ROWS] = R->grp_row + 1 - R->ngrp;
    set_cursor(R, false);
    if (now_of(R) != HH_TIME_NONE && R->grp[0].ts < now_of(R)) {
        /* before the engine's clock (a file replaced by an older one, or
         * another file after a restart): its time has passed, not traded */
        R->past_n += R->ngrp;
    } else {
        for (size_t i = 0; i < R->ngrp; i++)
            if (R->o)
                hh_out_candle(R->o, &R->grp[i]);
        hh_eng_bars(R->eng, R->grp, R->ngrp);
    }
    R->cur.w[RUN_CUR_ROWS] = R->grp_row + 1;
    set_cursor(R, false);
    R->ngrp = 0;
    R->grp_done = false;
}

/* The market data ended: the day's timers still run, and the accepted
 * signals still arrive, then the run ends (no new input is taken). */
static void md_ended(struct run *R, int rc)
{
    R->md_done = true;
    R->md_rc = rc;
    if (rc)
        HH_JLOG(&R->log, HH_LOG_ERROR, now_of(R), "market_data", NULL, "%s: read error: %s",
                R->ticks ? R->ticks : R->bars, hh_strerror(rc));
    hh_eng_set_horizon(R->eng, now_of(R) == HH_TIME_NONE ? HH_TIME_NONE
                       : hh_time_from_ist(hh_time_ist_date(now_of(R)), HH_NS_PER_DAY - 1));
}

/* The market data restarts at the first row of another file under the
 * path: rows before the engine's clock are history, the rest is traded. */
static void md_restarted(struct run *R, const struct hh_feed_md *m)
{
    bool rotated = m->kind == HH_FEED_MD_ROTATED;

    HH_JLOG(&R->log, HH_LOG_WARN, now_of(R), rotated ? "source_rotated" : "source_new", NULL,
            "%s: %s: read from its first row (rows before the engine's clock are history, "
            "not traded)", R->ticks ? R->ticks : R->bars,
            rotated ? "truncated or replaced while running"
                    : "not the file the database resumed from");
    R->cur.w[RUN_CUR_ROWS] = 0;
    R->cur.w[RUN_CUR_HALF] = 0;
    R->cur.w[RUN_CUR_MD_FIRST] = m->first;
    set_cursor(R, true);
    if (!rotated)   /* the restored candles do not continue in it */
        hh_eng_watch_gap(R->eng, now_of(R));
}

static int md_take(void *impl, const struct hh_ev_key *bound)
{
    struct run *R = impl;
    struct hh_feed_md m;

    (void)bound;
    if (R->ngrp) {
        R->md_live = true;
        take_bars(R);
        return R->failed ? HH_EDB : HH_OK;
    }
    m = R->md;
    R->md_held = false;
    switch (m.kind) {
    case HH_FEED_WARM:
        R->warm_n++;
        hh_eng_warm_tick(R->eng, &m.tick);
        break;
    case HH_FEED_CLOCK:
        if (now_of(R) == HH_TIME_NONE || m.t > now_of(R))
            hh_clock_advance(&R->clock, m.t);
        R->md_live = true;
        hh_tm_flush(R->tm);   /* the broker's reports due by now */
        break;
    case HH_FEED_MD_NEW_FILE:
    case HH_FEED_MD_ROTATED:
        md_restarted(R, &m);
        break;
    case HH_FEED_MD_END:
        md_ended(R, m.rc);
        break;
    case HH_FEED_TICK:
    case HH_FEED_HALF:
        R->md_live = true;
        take_tick(R, &m);
        break;
    case HH_FEED_BAR:
        break;   /* gathered by md_peek */
    }
    run_commit(R);
    return R->failed ? HH_EDB : HH_OK;
}

static const struct hh_source_ops md_ops = { md_peek, md_take };

/* ---- the reconciliation polls ------------------------------------------------------ */

/* Polls every reconcile.poll_s of engine time, from the first time known;
 * before the startup reconciliation succeeded, its retries. */
static enum hh_src_state poll_peek(void *impl, struct hh_ev_key *key)
{
    struct run *R = impl;
    hh_time_t t;

    if (R->md_done)
        return HH_SRC_END;
    if (R->startup_done && R->next_poll == HH_TIME_MAX && now_of(R) != HH_TIME_NONE)
        R->next_poll = now_of(R) + R->w.cfg.reconcile.poll;
    if (R->startup_done && hh_tm_poll_wanted(R->tm) && now_of(R) != HH_TIME_NONE &&
        R->next_poll > now_of(R))
        R->next_poll = now_of(R);   /* a position moved without us: reconcile now */
    t = R->startup_done ? R->next_poll : R->startup_retry;
    if (t == HH_TIME_MAX) {
        *key = KEY_LAST;
        return HH_SRC_PENDING;
    }
    *key = (struct hh_ev_key){ t, HH_EV_TIMER, UINT64_MAX };
    return HH_SRC_READY;
}

static int poll_take(void *impl, const struct hh_ev_key *bound)
{
    struct run *R = impl;
    int64_t every = R->w.cfg.reconcile.poll;
    hh_time_t t = R->startup_done ? R->next_poll : R->startup_retry;

    if (now_of(R) == HH_TIME_NONE || t > now_of(R))
        hh_clock_advance(&R->clock, t);
    if (!R->startup_done) {
        R->startup_retry = HH_TIME_MAX;
        run_poll(R, true);
    } else {
        /* a quiet stretch (overnight): one poll at its start, one at its end,
         * not thousands in between — nothing happens at the broker then */
        R->next_poll = now_of(R) + every;
        if (bound->t != HH_TIME_MAX && R->next_poll + every <= bound->t)
            R->next_poll = bound->t - (bound->t - R->next_poll) % every;
        run_poll(R, false);
    }
    return R->failed ? HH_EDB : HH_OK;
}

static const struct hh_source_ops poll_ops = { poll_peek, poll_take };

/* ---- the loop's hooks ---------------------------------------------------------------- */

/* A SIGHUP is taken where the loop looks between events: it never stops
 * the run; it re-reads the operations API's secret files. */
static void say_hups(struct run *R)
{
    if (!g_hups)
        return;
    g_hups = 0;
    if (run_ops_api(R))
        run_ops_hup(R);
    else
        HH_JLOG(&R->log, HH_LOG_INFO, now_of(R), "sighup", NULL,
                "SIGHUP: nothing to re-read (no secret files configured); still running");
}

static bool loop_stopped(void *ctx)
{
    struct run *R = ctx;

    say_hups(R);
    run_live_watch(R);
    return g_stops > 0 || R->failed;
}

/* Nothing can be taken yet: wait for a feed (or 100 ms, to see signals;
 * live ticks: the clock's next step). */
static void loop_wait(void *ctx, const struct hh_ev_key *next)
{
    struct run *R = ctx;

    (void)next;
    run_ops_tick(R, false);
    run_live_watch(R);
    hh_feed_hub_wait(R->hub, run_live_wait(R));
}

/* ---- setup ------------------------------------------------------------------------------ */

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

/* Intern every symbol of the market file on the core's thread before the
 * replay thread starts (the table is read-only from then on), and check the
 * file (exit 2 material). */
static int prescan(struct run *R, uint64_t *rows)
{
    struct hh_md_reader *md = NULL;
    const char *path = R->ticks ? R->ticks : R->bars;
    enum hh_md_kind kind = R->ticks ? HH_MD_TICKS : HH_MD_BARS;
    struct hh_tick t;
    struct hh_bar b;
    int rc;

    *rows = 0;
    if (!path)
        return HH_OK;   /* ticks from the Kite socket */
    /* no warnings on stderr: the log is JSON lines; the counts are logged */
    if ((rc = hh_md_open(&md, path, kind, R->w.inst, NULL, &R->d)))
        return rc;
    while ((rc = kind == HH_MD_TICKS ? hh_md_next_tick(md, &t) : hh_md_next_bar(md, &b)) == 1)
        (*rows)++;
    if (rc < 0)
        hh_diag_set(&R->d, rc, "%s: %s", path, hh_strerror(rc));
    R->mds = *hh_md_stats(md);
    hh_md_close(md);
    if (rc >= 0 && R->bars)
        rc = hh_app_check_timeframe(&R->w.cfg, R->bars, R->w.inst, &R->d);
    return rc < 0 ? rc : HH_OK;
}

static int open_broker(struct run *R)
{
    struct hh_broker kite;
    struct hh_paper_config pc;
    struct hh_diag d;
    int rc;

    if (run_live_broker(R, &kite))
        return HH_OK;   /* live: Kite is the broker */
    hh_config_paper(&R->w.cfg, R->shadow, &pc);
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

static void on_market(void *ctx, hh_time_t t)
{
    struct run *R = ctx;

    if (R->o)
        hh_out_market(R->o, t);
}

static void on_candle(void *ctx, const struct hh_bar *c)
{
    struct run *R = ctx;

    if (R->o && R->ticks)   /* bars are charted as they are taken */
        hh_out_candle(R->o, c);
}

static void on_step(void *ctx, enum hh_ev_class cls)
{
    (void)cls;
    run_commit(ctx);
}

static void on_gap(void *ctx, const struct hh_candle_gap *g)
{
    struct run *R = ctx;
    char from[40], to[40];

    hh_time_format(g->from, from, sizeof from);
    hh_time_format(g->to, to, sizeof to);
    HH_JLOG(&R->log, HH_LOG_WARN, now_of(R), "candle_gap", NULL,
            "%s: nothing was watched from %s to %s: %lld candle period(s) ended unseen, "
            "%lld of them missing whole (not invented); its candle history starts again%s",
            run_sym(R, g->iid), from, to, (long long)g->ended, (long long)g->missing,
            R->w.cfg.entry.volume_mult > 0 ? " (the volume rule waits for "
            "entry.volume_lookback candles)" : "");
}

static int build_engine(struct run *R)
{
    const struct hh_config *c = &R->w.cfg;
    enum hh_stop_policy stops = hh_config_stops(c, HH_STOPS_HELD);
    struct hh_tm_config tc;
    struct hh_eng_observer obs = { .market = on_market, .candle = on_candle, .step = on_step,
                                   .gap = on_gap, .ctx = R };
    struct hh_tm_sink sink;
    struct hh_sig_rules rules = hh_app_sig_rules(c);
    struct hh_broker broker;

    hh_config_tm(c, stops, &tc);
    run_sink(R, &sink);
    hh_journal_sink(R->db, &sink, &sink);
    if (run_live_broker(R, &broker)) {
        /* Kite's reports come through its pump, like the paper broker's */
    } else if (R->shadow) {
        R->sh.on_order = run_shadow_order;
        R->sh.ctx = R;
        broker = hh_shadow_broker(&R->sh, R->paper);
    } else {
        broker = hh_paper_broker(R->paper);
    }
    R->eng = hh_eng_new(&tc, R->w.inst, R->w.cal, &R->clock, broker, &sink, c->entry.timeframe,
                        &obs);
    R->v = hh_sig_validator_new(R->w.inst, R->w.cal, &rules);
    R->g = malloc(sizeof *R->g);
    if (!R->eng || !R->v || !R->g)
        return hh_diag_set(&R->d, HH_ENOMEM,
                           "the engine could not be created (out of memory, or an invalid "
                           "exec/broker configuration)");
    R->tm = hh_eng_tm(R->eng);
    hh_tm_set_barrier(R->tm, run_barrier, R);
    hh_tm_hold_orders(R->tm, true);   /* until the startup reconciliation */
    return HH_OK;
}

/* Restore, resume positions, attach: the engine as the database left it. */
static int restore(struct run *R)
{
    struct hh_journal_restored res;
    int rc = hh_journal_restore(R->db_path, R->tm, R->v, R->db, &res, &R->d);

    if (rc == HH_EINVAL)
        run_restore_failed(R);
    if (rc)
        return rc;
    if (res.found) {
        hh_clock_advance(&R->clock, res.at);
        hh_tm_get_cursor(R->tm, &R->cur);
        if (run_live_md(R))   /* the socket replays nothing: ticks were missed */
            hh_eng_watch_gap(R->eng, res.at);
    }
    if (res.candles_dropped)
        HH_JLOG(&R->log, HH_LOG_WARN, now_of(R), "candles_dropped", NULL,
                "the checkpoint's candles were built for another entry.timeframe: the candle "
                "builder starts empty");
    if ((rc = hh_journal_attach(R->db, R->tm, now_of(R), &R->d)))
        return rc;
    HH_JLOG(&R->log, HH_LOG_INFO, now_of(R), "engine_start", NULL,
            "mode=%s db=%s db_sync=%s stops=%s %s%s resume: market row %llu%s, signal line "
            "%llu; signal ids known %llu; signals to arrive %zu; broker state %s",
            R->mode, R->db_path, R->db_sync ? R->db_sync : "normal",
            hh_stop_policy_name(hh_config_stops(&R->w.cfg, HH_STOPS_HELD)),
            res.found ? "restored state_hash=" : "fresh start", res.found ? res.state_hash : "",
            (unsigned long long)R->cur.w[RUN_CUR_ROWS],
            R->cur.w[RUN_CUR_HALF] ? " (its selection done)" : "",
            (unsigned long long)R->cur.w[RUN_CUR_LINE], (unsigned long long)res.signal_ids,
            hh_tm_pending(R->tm), R->paper ? R->side_path : "at Kite");
    return HH_OK;
}

static int start_feeds(struct run *R)
{
    struct hh_feed_replay_opts ro = {
        .path = R->ticks ? R->ticks : R->bars, .kind = R->ticks ? HH_MD_TICKS : HH_MD_BARS,
        .inst = R->w.inst, .speed = R->speed, .skip_rows = R->cur.w[RUN_CUR_ROWS],
        .half_row = R->cur.w[RUN_CUR_HALF] ? R->cur.w[RUN_CUR_ROWS] : UINT64_MAX,
        .resume_first = R->cur.w[RUN_CUR_MD_FIRST],
    };

    if (run_live_md(R))
        return HH_OK;   /* the Kite adapter's socket, started with it */
    R->cur.w[RUN_CUR_MD_FIRST] = hh_feed_first_row(ro.path);
    set_cursor(R, false);
    if (hh_feed_replay_start(R->hub, &ro, &R->replay))
        return hh_diag_set(&R->d, HH_ENOMEM, "cannot start the market-data thread");
    return HH_OK;
}

/* The signal source can be read (exit 2 material, before anything is written). */
static int check_signals(struct run *R)
{
    FILE *f;

    if (R->signals && R->w.cfg.signals.source == HH_CONFIG_SIGNALS_KAFKA)
        return hh_diag_set(&R->d, HH_EINVAL, "--signals %s: signals.source is kafka in %s "
                           "(give one source: drop --signals, or set signals.source: file)",
                           R->signals, R->config);
    if (!R->signals || !strcmp(R->signals, "-"))
        return HH_OK;
    if (!(f = fopen(R->signals, "r")))
        return hh_diag_set(&R->d, HH_EIO, "%s: cannot open: %s", R->signals, strerror(errno));
    fclose(f);
    return HH_OK;
}

/* The lines resume where the checkpoint says, in the file it came from. */
static int start_signals(struct run *R)
{
    struct hh_feed_lines_opts lo = { .path = R->signals, .resume_line = R->cur.w[RUN_CUR_LINE],
                                     .resume_first = R->cur.w[RUN_CUR_SIG_FIRST] };

    if (!R->signals)
        return HH_OK;
    if (!strcmp(R->signals, "-"))
        lo.resume_line = 0;   /* a pipe cannot be read again */
    return hh_feed_lines_start(R->hub, &lo, &R->lines, &R->d);
}

/* ---- the run ---------------------------------------------------------------------------- */

static int run_loop(struct run *R)
{
    struct hh_loop L;
    int rc;

    hh_loop_init(&L);
    L.stopped = loop_stopped;
    L.wait = loop_wait;
    L.ctx = R;
    if ((run_ops_api(R) &&
         (rc = hh_loop_add(&L, (struct hh_source){ &run_ops_api_ops, R, "API commands",
                                                   hh_feed_hub_bell(R->hub) }))) ||
        (rc = hh_loop_add(&L, (struct hh_source){ &lines_ops, R, "signal lines", NULL })) ||
        (rc = hh_loop_add(&L, (struct hh_source){ &run_kafka_ops, R, "kafka signals", NULL })) ||
        (rc = hh_eng_add_sources(R->eng, &L)) ||
        (rc = hh_loop_add(&L, (struct hh_source){ &poll_ops, R, "polls", NULL })) ||
        (rc = hh_loop_add(&L, (struct hh_source){ run_live_md(R) ? &run_live_md_ops : &md_ops,
                                                   R, "market data", NULL })))
        return rc;
    return hh_loop_run(&L);
}

/* CPU time of this thread, the core's (what the adapters' threads spend is
 * not in it): the figure that says what the engine itself costs. */
static double core_cpu_s(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
        return 0;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_outputs(struct run *R)
{
    const struct hh_eng_stats *es = hh_eng_stats(R->eng);
    struct hh_out_summary s = {
        .received = R->cur.w[RUN_CUR_RECEIVED], .tm = hh_tm_stats(R->tm), .md = &R->mds,
        .ticks = es->ticks, .bars = es->bars, .out_of_session = es->out_of_session,
        .groups = R->groups, .elapsed = 0,
    };

    if (!R->o || hh_out_finish(R->o, &s, NULL, &R->d) == HH_OK)
        return HH_OK;
    HH_JLOG(&R->log, HH_LOG_ERROR, now_of(R), "outputs", NULL, "%s", R->d.msg);
    return HH_EIO;
}

static int finish(struct run *R, const char *why)
{
    const struct hh_tm_stats *st = hh_tm_stats(R->tm);
    const struct hh_tm_exec_stats *ls = hh_tm_exec_stats(R->tm);
    const char *last = NULL;
    char net[40], kite[512], wall[64];
    int out_rc;

    /* a stop signal: no entry reaches the broker from here on (entries
     * decided and not sent are withdrawn; exits go on) */
    if (g_stops && R->startup_done && !R->failed)
        hh_tm_stop(R->tm);
    run_live_wall(R, wall, sizeof wall);
    HH_JLOG(&R->log, HH_LOG_INFO, now_of(R), "shutdown", NULL,
            "%s: no new signal or market data is taken%s; finishing what is in flight%s", why,
            hh_tm_stopping(R->tm) ? ", no new entry is sent" : "", wall);
    hh_feed_lines_stop(R->lines);
    hh_feed_replay_stop(R->replay);
    R->lines = NULL;
    R->replay = NULL;
    run_commit(R);
    if (!R->failed)
        hh_tm_flush(R->tm);   /* what is queued goes out */
    run_kafka_finish(R);      /* decisions durable, offsets committed, outbox flushed */
    if (hh_tm_stopping(R->tm) && !R->failed && g_stops < 2)
        run_live_settle(R, &g_stops);   /* unknown outcomes looked up, cancels confirmed */
    if (R->startup_done && !R->failed && g_stops < 2)
        run_poll(R, false);   /* the state persisted is the broker's, reports lost or not */
    if (!R->failed)
        run_ops_tick(R, true);   /* the last documents, the day's report */
    if (!R->failed && hh_journal_finish(R->db, now_of(R), &R->d))
        run_fatal_db(R);
    if (R->paper && hh_paper_save_errors(R->paper, &last))
        HH_JLOG(&R->log, HH_LOG_ERROR, now_of(R), "broker_state", NULL,
                "%llu save(s) of %s failed, last: %s",
                (unsigned long long)hh_paper_save_errors(R->paper, NULL), R->side_path,
                last ? last : "");
    run_log_positions(R);
    out_rc = R->failed ? HH_OK : write_outputs(R);
    hh_fx_format(net, sizeof net, st->net, 2);
    run_live_stats(R, kite, sizeof kite);
    HH_JLOG(&R->log, R->failed ? HH_LOG_ERROR : HH_LOG_INFO, now_of(R), "engine_stop", NULL,
            "%s ticks %llu, bars %llu (warm-up %llu, before the clock %llu), signals taken "
            "%llu (accepted %llu, rejected %llu), trades closed %llu, net_pnl=%s, open %llu, "
            "waiting %llu; polls "
            "%llu, divergences %llu; broker: placed %llu, timeouts %llu (found %llu), retries "
            "%llu, refused by the breaker %llu, stops %llu, reports refused by order state "
            "%llu%s; core CPU %.3f s; database %s",
            R->failed ? "FAILED:" : "stopped:", (unsigned long long)hh_eng_stats(R->eng)->ticks,
            (unsigned long long)hh_eng_stats(R->eng)->bars, (unsigned long long)R->warm_n,
            (unsigned long long)R->past_n, (unsigned long long)R->taken,
            (unsigned long long)R->accepted, (unsigned long long)R->rejected,
            (unsigned long long)st->trades_closed, net,
            (unsigned long long)st->open, (unsigned long long)st->waiting,
            (unsigned long long)R->polls, (unsigned long long)R->divergences,
            (unsigned long long)ls->placed, (unsigned long long)ls->timeouts,
            (unsigned long long)ls->found, (unsigned long long)ls->retries,
            (unsigned long long)ls->refused, (unsigned long long)ls->stops,
            (unsigned long long)ls->refusals, kite, core_cpu_s(),
            R->failed ? R->d.msg : "saved");
    return R->failed || out_rc ? HH_EXIT_FAIL : HH_EXIT_OK;
}

static void cleanup(struct run *R)
{
    run_kafka_free(R);
    hh_feed_lines_stop(R->lines);
    hh_feed_replay_stop(R->replay);
    hh_out_free(R->o);
    run_ops_close(R);   /* (held requests answered SHUTTING_DOWN) */
    hh_journal_close(R->db, NULL);
    hh_eng_free(R->eng);
    run_live_free(R);   /* its threads wake the hub: before it goes */
    hh_paper_free(R->paper);
    hh_sig_validator_free(R->v);
    free(R->g);
    free(R->grp);
    hh_feed_hub_free(R->hub);
    hh_world_free(&R->w);
    hh_journal_history_free(&R->hist);
}

static int fail(struct run *R, int code)
{
    fprintf(stderr, "hedgehog run: %s\n", R->d.msg);
    cleanup(R);
    return code;
}

static void handle_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

/* Arguments (exit 2 with the usage on any error). */
static int check_args(struct run *R, enum hh_jlog_level *level)
{
    if (strcmp(R->mode, "paper") && strcmp(R->mode, "shadow") && strcmp(R->mode, "live"))
        return hh_app_say(ME, USAGE, HH_EXIT_USAGE, "--mode: paper, shadow or live, not '%s'",
                          R->mode);
    if (R->level_s && !hh_jlog_level_parse(R->level_s, level))
        return hh_app_say(ME, USAGE, HH_EXIT_USAGE,
                          "--log-level: debug, info, warn or error, not '%s'", R->level_s);
    if (parse_speed(R->speed_s, &R->speed))
        return hh_app_say(ME, USAGE, HH_EXIT_USAGE,
                          "--speed: a number >= 0 (1 real time, 0 as fast as possible), not '%s'",
                          R->speed_s);
    if (R->ticks && R->bars)
        return hh_app_say(ME, USAGE, HH_EXIT_USAGE, "give at most one of --ticks and --bars");
    if (R->db_sync && strcmp(R->db_sync, "normal") && strcmp(R->db_sync, "full"))
        return hh_app_say(ME, USAGE, HH_EXIT_USAGE, "--db-sync: 'normal' or 'full', not '%s'",
                          R->db_sync);
    return HH_EXIT_OK;
}

static void log_market_data(struct run *R, uint64_t rows)
{
    if (run_live_md(R))
        return;   /* run_live.c says what it subscribes */
    HH_JLOG(&R->log, R->mds.skipped ? HH_LOG_WARN : HH_LOG_INFO, now_of(R), "market_data", NULL,
            "%s: %llu rows, rows skipped %llu (out of order %llu, bad field %llu, bad bar "
            "%llu), speed %g%s", R->ticks ? R->ticks : R->bars, (unsigned long long)rows,
            (unsigned long long)R->mds.skipped, (unsigned long long)R->mds.skipped_order,
            (unsigned long long)R->mds.skipped_field, (unsigned long long)R->mds.skipped_ohlc,
            R->speed, R->speed == 0 ? " (as fast as possible)" : "");
}

static int open_outputs(struct run *R)
{
    struct hh_out_opts oo = { .dir = R->out, .inst = R->w.inst, .capital = R->w.cfg.capital,
                              .fees = R->w.cfg.execution.fees };

    return R->out ? hh_out_open(&R->o, &oo, &R->d) : HH_OK;
}

int hh_cmd_run(int argc, char **argv)
{
    struct run R;
    const struct hh_opt opts[] = {
        { "--config", &R.config, true, false },   { "--mode", &R.mode, true, false },
        { "--ticks", &R.ticks, false, false },    { "--bars", &R.bars, false, false },
        { "--speed", &R.speed_s, false, false },  { "--signals", &R.signals, false, false },
        { "--db", &R.db_path, false, false },     { "--db-sync", &R.db_sync, false, false },
        { "--out", &R.out, false, false },        { "--log-level", &R.level_s, false, false },
        { "--clock-start", &R.clock_start, false, false },
    };
    enum hh_jlog_level level = HH_LOG_INFO;
    uint64_t rows = 0;
    int rc;

    memset(&R, 0, sizeof R);
    handle_signals();   /* before the first write: a closed pipe or a hangup never kills it */
    if (hh_app_parse(ME, USAGE, argc, argv, opts, (int)(sizeof opts / sizeof opts[0])))
        return HH_EXIT_USAGE;
    if ((rc = check_args(&R, &level)))
        return rc;
    if (hh_world_load(&R.w, R.config, &R.d))
        return fail(&R, HH_EXIT_USAGE);
    if (run_live_check(&R))
        return fail(&R, HH_EXIT_USAGE);
    if (R.w.cfg.market_data.kind == HH_CONFIG_MD_FILE && !R.ticks && !R.bars) {
        cleanup(&R);
        return hh_app_say(ME, USAGE, HH_EXIT_USAGE, "give one of --ticks and --bars "
                          "(market_data.kind is file in %s)", R.config);
    }
    R.shadow = !strcmp(R.mode, "shadow");
    R.log.out = stderr;
    R.log.min = level;
    R.db_path = R.db_path ? R.db_path : "hedgehog.db";
    R.next_poll = HH_TIME_MAX;
    R.startup_retry = HH_TIME_MAX;
    hh_clock_init(&R.clock, true);
    if (!(R.hub = hh_feed_hub_new()))
        return fail(&R, HH_EXIT_FAIL);
    if (prescan(&R, &rows) || check_signals(&R))
        return fail(&R, HH_EXIT_USAGE);
    /* Kite's secrets and account are checked before the database is touched,
     * once the instruments are final (the adapter's threads read them) */
    if ((rc = run_live_open(&R)))
        return fail(&R, rc == HH_EUNAVAIL || rc == HH_ETIMEOUT ? HH_EXIT_FAIL : HH_EXIT_USAGE);
    if (run_open_db(&R) || open_broker(&R) || build_engine(&R))
        return fail(&R, HH_EXIT_USAGE);
    if ((rc = restore(&R)))
        return fail(&R, rc == HH_ENOMEM ? HH_EXIT_FAIL : HH_EXIT_USAGE);
    if (run_live_start(&R))
        return fail(&R, HH_EXIT_USAGE);
    if (start_signals(&R) || run_kafka_start(&R) || open_outputs(&R) || run_ops_open(&R))
        return fail(&R, HH_EXIT_USAGE);
    log_market_data(&R, rows);
    /* startup reconciliation: the broker wins; no order or signal before it worked */
    run_poll(&R, true);
    if (!R.failed)
        run_ops_start(&R);
    if (R.failed || start_feeds(&R)) {
        if (!R.failed)
            fprintf(stderr, "hedgehog run: %s\n", R.d.msg);
        finish(&R, "cannot start");
        cleanup(&R);
        return HH_EXIT_FAIL;
    }
    rc = run_loop(&R);
    rc = finish(&R, g_stops ? "signal received" : R.failed || rc ? "failure"
                    : "end of market data");
    cleanup(&R);
    return rc;
}
