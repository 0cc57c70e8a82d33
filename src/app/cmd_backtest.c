/*
 * cmd_backtest.c — `hedgehog backtest`: the core fed from files with a
 * simulated clock.
 *
 *   hedgehog backtest --config FILE (--ticks FILE | --bars FILE)
 *                     --signals FILE --out DIR [--db FILE [--db-sync full]]
 *
 * 1. Signals are read and validated in line order (the clock at each is its
 *    received_at, default ts); rejections become dead letters at once.
 * 2. Accepted signals enter the event stream in (received_at, line) order,
 *    before market data of the same instant.
 * 3. Market data streams from its file (memory does not grow with it):
 *    ticks go through the candle builder — candles completing at a tick are
 *    judged and selected before the tick itself is matched — and bars are
 *    grouped by start time and handed to the trade manager together.
 * 4. Outputs: fills.csv, trades.csv, rejected.jsonl, summary.json,
 *    report.html in DIR.
 * 5. With --db the run is also persisted (app/persist.h): every signal line,
 *    order, report, fill, closed trade and the engine's checkpoints; the
 *    outputs in DIR are the same with or without it.  The database must be
 *    writable (else exit 2); if it fails during the run, the run stops with
 *    exit 1.
 *
 * Exit codes: 0 done; 2 bad usage, unreadable input or invalid config; 1 the
 * run failed (a write error, out of memory).
 */
#include "app/cmd.h"
#include "app/common.h"
#include "app/persist.h"
#include "app/progress.h"
#include "app/report.h"
#include "broker/simex.h"
#include "core/grow.h"
#include "engine/engine.h"
#include "market/mdfile.h"
#include "signal/group.h"
#include "signal/signal.h"
#include "trade/trade.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ME "backtest"
#define USAGE "usage: hedgehog backtest --config FILE (--ticks FILE | --bars FILE) " \
              "--signals FILE --out DIR [--db FILE [--db-sync normal|full]]\n"

struct bt {
    const char *config, *ticks, *bars, *signals, *out;
    struct hh_world w;
    struct hh_diag d;
    /* outputs */
    FILE *fills, *trades, *rejected;
    char fills_path[HH_PATH_MAX + 64], trades_path[HH_PATH_MAX + 64];
    char rejected_path[HH_PATH_MAX + 64];
    struct hh_rep *rep;
    /* signals */
    struct hh_signal *sigs;            /* accepted, in line order (until the
                                          engine has them) */
    size_t nsigs, capsigs;
    struct hh_group_signal *grps;      /* accepted groups; a group signal's
                                          `lots` holds its index here */
    size_t ngrps, capgrps;             /* ngrps: group signals accepted */
    uint64_t received, rejected_n, by_reason[HH_SIG_REASON_COUNT];
    bool *charted;                     /* by iid: symbols with signals */
    size_t ncharted;
    /* engine */
    struct hh_clock clock;
    struct hh_simex *ex;
    struct hh_eng *eng;
    struct hh_tm *tm;                   /* the engine's */
    struct hh_md_reader *md;
    struct hh_eng_mdfile *mdsrc;
    struct hh_progress *pg;
    bool market_seen;                   /* the equity curve has its start */
    bool failed;                        /* a write error or lost data */
    bool db_failed;                     /* the database failed: stop */
    double started;
    /* --db: the run persisted (app/persist.h) */
    const char *db_path, *db_sync;
    struct hh_persist *db;
};

/* ---- outputs ----------------------------------------------------------- */

static void put_money(FILE *f, hh_money_t v)
{
    char b[40];

    hh_fx_format(b, sizeof b, v, 2);
    fputs(b, f);
}

static void put_ts(FILE *f, hh_time_t t)
{
    char b[40];

    hh_time_format(t, b, sizeof b);
    fputs(b, f);
}

static const char *sym_name(const struct bt *b, hh_iid_t iid)
{
    return hh_inst_get(b->w.inst, iid)->symbol;
}

static void on_fill(void *ctx, const struct hh_tm_fill *f)
{
    struct bt *b = ctx;

    put_ts(b->fills, f->ts);
    fprintf(b->fills, ",%llu,%u,%s,%s,%s,%lld,", (unsigned long long)f->order_id,
            f->trade_id, f->sig->id, sym_name(b, f->iid), hh_side_name(f->side),
            (long long)f->qty);
    put_money(b->fills, f->price);
    fprintf(b->fills, ",%s,", hh_fill_reason_name(f->reason));
    put_money(b->fills, f->charges);
    fputc('\n', b->fills);
    if (hh_rep_fill(b->rep, f, sym_name(b, f->iid)))
        b->failed = true;
}

static void on_closed(void *ctx, const struct hh_tm_trade *t)
{
    struct bt *b = ctx;
    char r[32];

    fprintf(b->trades, "%u,%s,%s,%s,%lld,", t->trade_id, t->sig->id, sym_name(b, t->iid),
            hh_side_name(t->side), (long long)t->qty);
    put_ts(b->trades, t->entry_ts);
    fputc(',', b->trades);
    put_money(b->trades, t->entry_price);
    fputc(',', b->trades);
    put_ts(b->trades, t->exit_ts);
    fputc(',', b->trades);
    put_money(b->trades, t->avg_exit_price);
    fprintf(b->trades, ",%s,", hh_fill_reason_name(t->exit_reason));
    put_money(b->trades, t->gross);
    fputc(',', b->trades);
    put_money(b->trades, t->charges);
    fputc(',', b->trades);
    put_money(b->trades, t->net);
    hh_dec_format(r, sizeof r, t->r_multiple, 2, 2);
    fprintf(b->trades, ",%s\n", r);
    if (hh_rep_trade(b->rep, t, sym_name(b, t->iid)) ||
        hh_rep_equity(b->rep, t->exit_ts, hh_tm_stats(b->tm)->equity))
        b->failed = true;
}

static void dead_letter(struct bt *b, uint64_t line, const struct hh_sig_reject *rej)
{
    b->rejected_n++;
    b->by_reason[rej->reason]++;
    if (hh_sig_write_dead_letter(b->rejected, line, rej))
        b->failed = true;
}

static void on_rejected(void *ctx, const struct hh_signal *s, enum hh_sig_reason r,
                        const char *detail)
{
    struct bt *b = ctx;
    struct hh_sig_reject rej;

    hh_sig_reject_set(&rej, r, s->received_at, "%s", detail);
    rej.id_known = true;
    snprintf(rej.id, sizeof rej.id, "%s", s->id);
    dead_letter(b, s->line, &rej);
}

/* ---- signals ------------------------------------------------------------ */

static int keep_group(struct bt *b, struct hh_signal *s, const struct hh_group_signal *g)
{
    if (hh_grow(&b->grps, &b->capgrps, b->ngrps + 1, sizeof *b->grps))
        return HH_ENOMEM;
    b->grps[b->ngrps] = *g;
    s->lots = (int64_t)b->ngrps++;
    for (int i = 0; i < g->group.nlegs; i++)
        if (g->group.legs[i].iid < b->ncharted)
            b->charted[g->group.legs[i].iid] = true;
    return HH_OK;
}

static int keep_signal(struct bt *b, const struct hh_signal *s)
{
    if (hh_grow(&b->sigs, &b->capsigs, b->nsigs + 1, sizeof *b->sigs))
        return HH_ENOMEM;
    b->sigs[b->nsigs++] = *s;
    if (s->iid < b->ncharted)
        b->charted[s->iid] = true;
    return HH_OK;
}

static int on_accepted(void *ctx, const char *line, size_t len, struct hh_signal *s,
                       const struct hh_group_signal *g)
{
    struct bt *b = ctx;
    int rc = HH_OK;

    (void)line;
    (void)len;
    if (s->group)
        rc = keep_group(b, s, g);
    return rc ? rc : keep_signal(b, s);
}

static int on_dead_letter(void *ctx, uint64_t lineno, const char *line, size_t len,
                          const struct hh_sig_reject *rej)
{
    (void)line;
    (void)len;
    dead_letter(ctx, lineno, rej);
    return HH_OK;
}

/* Read and validate every line in order; keep the accepted ones sorted by
 * arrival.  Returns HH_OK, or HH_EIO (unreadable: exit 2). */
static int load_signals(struct bt *b)
{
    struct hh_sig_rules rules = hh_app_sig_rules(&b->w.cfg);
    struct hh_sig_validator *v = hh_sig_validator_new(b->w.inst, b->w.cal, &rules);
    struct hh_sig_sink sink = { on_accepted, on_dead_letter, b };
    int rc;

    if (!v)
        return hh_diag_set(&b->d, HH_ENOMEM, "out of memory");
    rc = b->db ? hh_persist_read_signals(b->db, b->signals, v, &sink, &b->received, &b->d)
               : hh_app_read_signals(b->signals, v, &sink, &b->received, &b->d);
    hh_sig_validator_free(v);
    return rc;
}

/* Hand the accepted signals to the engine, in line order: each arrives at
 * its received_at (ties in line order). */
static int accept_signals(struct bt *b)
{
    int rc = HH_OK;

    for (size_t i = 0; i < b->nsigs && !rc; i++) {
        const struct hh_signal *s = &b->sigs[i];
        const struct hh_group_signal *g = s->group ? &b->grps[s->lots] : NULL;

        rc = g ? hh_tm_accept(b->tm, s, &g->group, g->has_stop_loss ? g->stop_loss : 0,
                              g->has_target ? g->target : 0)
               : hh_tm_accept(b->tm, s, NULL, 0, 0);
    }
    free(b->sigs);
    free(b->grps);
    b->sigs = NULL;
    b->grps = NULL;
    b->nsigs = b->capsigs = b->capgrps = 0;
    return rc;
}

/* ---- what the engine does, as the outputs see it ------------------------------ */

/* The equity curve starts at the capital, at the first market event. */
static void on_market(void *ctx, hh_time_t t)
{
    struct bt *b = ctx;

    if (b->market_seen)
        return;
    b->market_seen = true;
    if (hh_rep_equity(b->rep, t, b->w.cfg.capital))
        b->failed = true;
}

static void on_candle(void *ctx, const struct hh_bar *c)
{
    struct bt *b = ctx;

    if (c->iid < b->ncharted && b->charted[c->iid] &&
        hh_rep_candle(b->rep, sym_name(b, c->iid), c->ts, c->open, c->high, c->low, c->close,
                      c->volume))
        b->failed = true;
}

/* After each market event: its records become one step of the database. */
static void on_step(void *ctx, enum hh_ev_class cls)
{
    struct bt *b = ctx;

    if (cls == HH_EV_MARKET && b->db && !b->db_failed && hh_persist_step(b->db, b->clock.now))
        b->db_failed = true;   /* never trade without memory */
}

static bool stopped(void *ctx)
{
    const struct bt *b = ctx;

    return b->db_failed;
}

static void on_progress(void *ctx, uint64_t rows, uint64_t offset)
{
    struct bt *b = ctx;

    hh_progress_update(b->pg, rows, offset);
}

/* The one event loop over the file, the accepted signals and the timers. */
static int run_loop(struct bt *b)
{
    struct hh_loop L;
    int rc;

    hh_loop_init(&L);
    L.stopped = stopped;
    L.ctx = b;
    b->mdsrc = hh_eng_mdfile_new(b->eng, b->md, b->ticks ? HH_MD_TICKS : HH_MD_BARS,
                                 on_progress, b);
    if (!b->mdsrc)
        return HH_ENOMEM;
    if ((rc = hh_eng_add_sources(b->eng, &L)) ||
        (rc = hh_loop_add(&L, hh_eng_mdfile_source(b->mdsrc))))
        return rc;
    rc = hh_loop_run(&L);
    return rc ? rc : hh_eng_mdfile_error(b->mdsrc);
}

/* ---- summary --------------------------------------------------------------- */

static void json_money(char **p, char *end, const char *key, hh_money_t v, bool comma)
{
    char m[40];

    hh_fx_format(m, sizeof m, v, 2);
    *p += snprintf(*p, (size_t)(end - *p), "  \"%s\": %s%s\n", key, m, comma ? "," : "");
}

static void json_count(char **p, char *end, const char *key, uint64_t v)
{
    *p += snprintf(*p, (size_t)(end - *p), "  \"%s\": %llu,\n", key, (unsigned long long)v);
}

/* Multi-leg figures (only when the run had group signals). */
static void group_summary(const struct hh_tm_stats *st, char **p, char *end)
{
    json_count(p, end, "groups_started", st->groups_started);
    json_count(p, end, "groups_filled", st->groups_filled);
    json_count(p, end, "groups_rolled_back", st->groups_rolled_back);
    json_count(p, end, "groups_closed", st->groups_closed);
    json_count(p, end, "margin_rejects", st->margin_rejects);
    json_count(p, end, "emergency_hedges", st->hedges);
    json_count(p, end, "emergency_hedge_qty", (uint64_t)st->hedge_qty);
    json_count(p, end, "max_unhedged_exposure_ms", (uint64_t)(st->max_exposure / HH_NS_PER_MS));
    json_count(p, end, "hedge_variance_flags", st->balance_flags);
    json_count(p, end, "expiry_settlements", st->expiry_settlements);
}

/* The summary as JSON text into buf (cap bytes). */
static void summary_text(struct bt *b, char *buf, size_t cap, double elapsed)
{
    const struct hh_tm_stats *st = hh_tm_stats(b->tm);
    const struct hh_md_stats *ms = hh_md_stats(b->md);
    const struct hh_eng_stats *es = hh_eng_stats(b->eng);
    char *p = buf, *end = buf + cap, wr[24];
    bool first = true;

    hh_dec_format(wr, sizeof wr,
                  st->trades_closed ? (int64_t)(st->wins * 100000000ULL / st->trades_closed) : 0,
                  8, 4);
    p += snprintf(p, (size_t)(end - p), "{\n");
    json_count(&p, end, "signals_received", b->received);
    json_count(&p, end, "signals_accepted", b->received - b->rejected_n);
    json_count(&p, end, "signals_rejected", b->rejected_n);
    p += snprintf(p, (size_t)(end - p), "  \"rejected_by_reason\": {");
    for (int r = 1; r < HH_SIG_REASON_COUNT; r++) {
        if (!b->by_reason[r])
            continue;
        p += snprintf(p, (size_t)(end - p), "%s\"%s\": %llu", first ? "" : ", ",
                      hh_sig_reason_name((enum hh_sig_reason)r),
                      (unsigned long long)b->by_reason[r]);
        first = false;
    }
    p += snprintf(p, (size_t)(end - p), "},\n");
    json_count(&p, end, "trades", st->trades_closed);
    json_count(&p, end, "wins", st->wins);
    json_count(&p, end, "losses", st->losses);
    p += snprintf(p, (size_t)(end - p), "  \"win_rate\": %s,\n", wr);
    json_money(&p, end, "gross_pnl", st->gross, true);
    json_money(&p, end, "charges", st->charges, true);
    json_money(&p, end, "net_pnl", st->net, true);
    json_money(&p, end, "max_drawdown", st->max_drawdown, true);
    json_money(&p, end, "final_equity", st->equity, true);
    json_money(&p, end, "capital", b->w.cfg.capital, true);
    json_count(&p, end, "rows_skipped", ms->skipped);
    json_count(&p, end, "rows_skipped_order", ms->skipped_order);
    json_count(&p, end, "rows_skipped_field", ms->skipped_field);
    json_count(&p, end, "rows_skipped_ohlc", ms->skipped_ohlc);
    json_count(&p, end, "out_of_session", es->out_of_session);
    json_count(&p, end, "ticks_processed", es->ticks);
    json_count(&p, end, "bars_processed", es->bars);
    json_count(&p, end, "dropped_stop_before_entry", st->dropped[HH_DROP_STOP_BEFORE_ENTRY]);
    json_count(&p, end, "dropped_expired", st->dropped[HH_DROP_EXPIRED]);
    json_count(&p, end, "waiting_at_end", st->waiting);
    json_count(&p, end, "open_at_end", st->open);
    if (b->ngrps)
        group_summary(st, &p, end);
    p += snprintf(p, (size_t)(end - p), "  \"fees\": \"%s\",\n", b->w.cfg.execution.fees);
    snprintf(p, (size_t)(end - p), "  \"elapsed_s\": %.3f\n}\n", elapsed);
}

/* ---- setup and teardown ------------------------------------------------------ */

static int open_outputs(struct bt *b)
{
    if (hh_app_mkdirs(b->out, &b->d))
        return HH_EIO;
    b->fills = hh_app_create(b->out, "fills.csv", b->fills_path, sizeof b->fills_path, &b->d);
    b->trades = hh_app_create(b->out, "trades.csv", b->trades_path, sizeof b->trades_path,
                              &b->d);
    b->rejected = hh_app_create(b->out, "rejected.jsonl", b->rejected_path,
                                sizeof b->rejected_path, &b->d);
    if (!b->fills || !b->trades || !b->rejected)
        return HH_EIO;
    fputs("ts,order_id,trade_id,signal_id,symbol,side,qty,price,reason,charges\n", b->fills);
    fputs("trade_id,signal_id,symbol,side,qty,entry_ts,entry_price,exit_ts,avg_exit_price,"
          "exit_reason,gross_pnl,charges,net_pnl,r_multiple\n", b->trades);
    return HH_OK;
}

/*
 * The simulated exchange's realism from the paper section (SPEC §11):
 * paper.latency_ms -> latency; paper.fill_ratio -> liquidity limited to that
 * share of each tick's or bar's volume, only when the key is in the file
 * (backtests have unlimited liquidity by default: index bars have volume 0
 * and must still fill); paper.faults.reject_pct (percent) -> reject_ratio;
 * paper.faults.seed -> seed.  The other faults (dropped or delayed updates,
 * timeouts, unavailable and disconnect windows) are broker-stream faults
 * the backtest's exchange does not model: said once on stderr.
 */
static int build_engine(struct bt *b)
{
    const struct hh_config *c = &b->w.cfg;
    struct hh_simex_config xc = {
        c->execution.slippage_ticks, c->execution.slippage_bps, c->paper.latency,
        c->paper.fill_ratio_set, c->paper.fill_ratio,
        (hh_ratio_t)hh_i128_div_round(c->paper.reject_pct, 100), c->paper.seed,
    };
    struct hh_tm_config tc = {
        c->capital, c->risk.risk_per_trade, c->risk.size_scale, c->risk.max_lots_per_trade,
        c->risk.max_open_trades, c->entry.mode == HH_ENTRY_TOUCH, c->entry.volume_mult,
        c->entry.volume_lookback, c->entry.require_pattern, c->exits.breakeven_after_t1,
        c->exits.squareoff_set, c->exits.squareoff_explicit, c->exits.squareoff,
        hh_charges_find(c->execution.fees), c->exec.exposure_check, c->exec.hedge_debounce,
        c->exec.leg_timeout, c->risk.margin_buffer, c->risk.allow_naked,
        c->expiry.close_before_set, c->expiry.close_before, c->risk.max_hedge_variance,
    };
    struct hh_tm_sink sink = { .fill = on_fill, .closed = on_closed,
                               .rejected = on_rejected, .ctx = b };
    struct hh_eng_observer obs = { .market = on_market, .candle = on_candle, .step = on_step,
                                   .ctx = b };

    if (c->paper.drop_update_pct || c->paper.delay_update || c->paper.timeout_pct ||
        c->paper.n_unavailable || c->paper.n_disconnect)
        fprintf(stderr, "hedgehog backtest: note: paper.faults drop_update_pct, "
                "delay_update_ms, timeout_pct, unavailable and disconnect have no effect "
                "in backtests (latency_ms, fill_ratio and reject_pct do)\n");
    hh_clock_init(&b->clock, true);
    b->ex = hh_simex_new(b->w.inst, &b->clock, &xc);
    if (!b->ex)
        return HH_ENOMEM;
    if (b->db)
        hh_persist_sink(b->db, &sink, &sink);
    b->eng = hh_eng_new(&tc, b->w.inst, b->w.cal, &b->clock, hh_simex_broker(b->ex), &sink,
                        c->entry.timeframe, &obs);
    b->rep = hh_rep_new();
    if (!b->eng || !b->rep)
        return HH_ENOMEM;
    b->tm = hh_eng_tm(b->eng);
    if (b->db && hh_persist_attach(b->db, b->tm, HH_TIME_NONE, &b->d))
        return HH_EDB;
    return accept_signals(b);
}

/* --db: open the store and record the configuration (exit 2 on failure:
 * an unwritable or foreign database is unusable input). */
static int open_db(struct bt *b)
{
    struct hh_persist_opts o;

    hh_persist_opts_default(&o);
    if (b->db_sync && strcmp(b->db_sync, "normal") && strcmp(b->db_sync, "full"))
        return hh_diag_set(&b->d, HH_EINVAL, "--db-sync: 'normal' or 'full', not '%s'",
                           b->db_sync);
    if (!b->db_path)
        return b->db_sync ? hh_diag_set(&b->d, HH_EINVAL, "--db-sync needs --db") : HH_OK;
    if (b->db_sync && !strcmp(b->db_sync, "full"))
        o.sync = HH_STORE_SYNC_FULL;
    if (hh_persist_open(b->db_path, &o, b->w.inst, &b->db, &b->d))
        return HH_EDB;
    return hh_persist_config(b->db, b->config, HH_TIME_NONE, &b->d);
}

static int check_config(struct bt *b)
{
    if (!hh_charges_find(b->w.cfg.execution.fees)) {
        const char *const *n = hh_charges_names();
        char list[256] = "";

        for (size_t k = 0; n[k]; k++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", k ? " " : "", n[k]);
        return hh_diag_set(&b->d, HH_ECONFIG, "%s: key 'execution.fees': unknown schedule "
                           "'%s' (known: %s)", b->config, b->w.cfg.execution.fees, list);
    }
    if ((b->ticks != NULL) == (b->bars != NULL))
        return hh_diag_set(&b->d, HH_EINVAL, "give exactly one of --ticks and --bars");
    b->ncharted = hh_inst_count(b->w.inst) + 1;
    b->charted = calloc(b->ncharted, sizeof *b->charted);
    return b->charted ? HH_OK : hh_diag_set(&b->d, HH_ENOMEM, "out of memory");
}

static void print_headline(struct bt *b, const char *summary)
{
    const struct hh_tm_stats *st = hh_tm_stats(b->tm);
    char net[40], eq[40], dd[40];

    (void)summary;
    hh_fx_format(net, sizeof net, st->net, 2);
    hh_fx_format(eq, sizeof eq, st->equity, 2);
    hh_fx_format(dd, sizeof dd, st->max_drawdown, 2);
    printf("signals %llu (accepted %llu, rejected %llu)  trades %llu (wins %llu, losses %llu)\n"
           "net P&L %s  max drawdown %s  final equity %s\n",
           (unsigned long long)b->received, (unsigned long long)(b->received - b->rejected_n),
           (unsigned long long)b->rejected_n, (unsigned long long)st->trades_closed,
           (unsigned long long)st->wins, (unsigned long long)st->losses, net, dd, eq);
}

static int finish(struct bt *b)
{
    char summary[8192], path[HH_PATH_MAX + 64];
    FILE *f;
    int rc = HH_OK;

    summary_text(b, summary, sizeof summary, hh_app_seconds() - b->started);
    f = hh_app_create(b->out, "summary.json", path, sizeof path, &b->d);
    if (!f)
        return HH_EIO;
    fputs(summary, f);
    rc |= hh_app_close(f, path, &b->d);
    rc |= hh_app_close(b->fills, b->fills_path, &b->d);
    rc |= hh_app_close(b->trades, b->trades_path, &b->d);
    rc |= hh_app_close(b->rejected, b->rejected_path, &b->d);
    b->fills = b->trades = b->rejected = NULL;
    if (rc)
        return HH_EIO;
    snprintf(path, sizeof path, "%s/report.html", b->out);
    if (hh_rep_write(b->rep, path, summary, &b->d))
        return HH_EIO;
    print_headline(b, summary);
    printf("report: %s\n", path);
    return HH_OK;
}

static void cleanup(struct bt *b)
{
    hh_app_close(b->fills, b->fills_path, NULL);
    hh_app_close(b->trades, b->trades_path, NULL);
    hh_app_close(b->rejected, b->rejected_path, NULL);
    hh_rep_free(b->rep);
    hh_eng_mdfile_free(b->mdsrc);
    hh_md_close(b->md);
    hh_eng_free(b->eng);
    hh_simex_free(b->ex);
    hh_persist_close(b->db, NULL);
    free(b->sigs);
    free(b->grps);
    free(b->charted);
    hh_world_free(&b->w);
}

static int fail(struct bt *b, int code)
{
    fprintf(stderr, "hedgehog backtest: %s\n", b->d.msg);
    cleanup(b);
    return code;
}

int hh_cmd_backtest(int argc, char **argv)
{
    struct bt b;
    const struct hh_opt opts[] = {
        { "--config", &b.config, true, false }, { "--ticks", &b.ticks, false, false },
        { "--bars", &b.bars, false, false },    { "--signals", &b.signals, true, false },
        { "--out", &b.out, true, false },       { "--db", &b.db_path, false, false },
        { "--db-sync", &b.db_sync, false, false },
    };
    int rc;

    memset(&b, 0, sizeof b);
    b.started = hh_app_seconds();
    if (hh_app_parse(ME, USAGE, argc, argv, opts, 7))
        return HH_EXIT_USAGE;
    if (hh_world_load(&b.w, b.config, &b.d) || check_config(&b))
        return fail(&b, HH_EXIT_USAGE);
    rc = hh_md_open(&b.md, b.ticks ? b.ticks : b.bars, b.ticks ? HH_MD_TICKS : HH_MD_BARS,
                    b.w.inst, stderr, &b.d);
    if (rc)
        return fail(&b, HH_EXIT_USAGE);
    if (open_outputs(&b) || open_db(&b))
        return fail(&b, HH_EXIT_USAGE);
    rc = load_signals(&b);
    if (rc)
        return fail(&b, rc == HH_EIO && b.received == 0 ? HH_EXIT_USAGE : HH_EXIT_FAIL);
    if (build_engine(&b))
        return fail(&b, HH_EXIT_FAIL);
    b.pg = hh_progress_new(stderr, "backtest", hh_md_size(b.md), isatty(STDERR_FILENO));
    rc = run_loop(&b);
    hh_progress_done(b.pg);
    hh_progress_free(b.pg);
    if (rc < 0) {
        hh_diag_set(&b.d, rc, "%s: %s", b.ticks ? b.ticks : b.bars, hh_strerror(rc));
        return fail(&b, HH_EXIT_FAIL);
    }
    if (b.db && hh_persist_status(b.db, &b.d))   /* never trade without memory */
        return fail(&b, HH_EXIT_FAIL);
    if (hh_eng_error(b.eng))
        b.failed = true;
    if (b.db && hh_persist_finish(b.db, b.clock.now, &b.d))
        return fail(&b, HH_EXIT_FAIL);
    if (b.failed)
        hh_diag_set(&b.d, HH_EIO, "the run lost data (write error or out of memory)");
    if (b.failed || finish(&b))
        return fail(&b, HH_EXIT_FAIL);
    cleanup(&b);
    return HH_EXIT_OK;
}
