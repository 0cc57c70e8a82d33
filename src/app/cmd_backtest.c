/*
 * cmd_backtest.c — `hedgehog backtest`: the engine fed from files with a
 * simulated clock, against the simulated exchange.
 *
 *   hedgehog backtest --config FILE (--ticks FILE | --bars FILE)
 *                     --signals FILE --out DIR [--db FILE [--db-sync full]]
 *
 * Wiring only: the event loop and what a market event does are the
 * engine's (engine/), the files the run leaves are out/'s, the database is
 * the journal's (journal/journal.h).
 * 1. Signals are read and validated in line order (the clock at each is its
 *    received_at, default ts); rejections become dead letters at once; the
 *    accepted ones are a source of the loop, each handed to the engine at
 *    its received_at (in line order among equals).
 * 2. One event loop over the market-data file, the arrivals and the timers
 *    (engine/loop.h); the timers run to the end of the last day of data.
 * 3. Outputs in DIR (out/out.h), renamed into place only when the run
 *    succeeded.  With --db the run is also persisted; the outputs are the
 *    same with or without it.  The database must be writable (else exit 2);
 *    if it fails during the run, the run stops with exit 1.
 *
 * Exit codes: 0 done; 2 bad usage, unreadable input or invalid config; 1 the
 * run failed (a write error, out of memory).
 */
#include "app/cmd.h"
#include "app/common.h"
#include "journal/journal.h"
#include "app/progress.h"
#include "app/version.h"
#include "broker/simex.h"
#include "core/grow.h"
#include "engine/engine.h"
#include "out/out.h"
#include "signal/group.h"
#include "signal/signal.h"
#include "trade/trade.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ME "backtest"
const char hh_usage_backtest[] =
    "usage: hedgehog backtest --config FILE (--ticks FILE | --bars FILE) "
    "--signals FILE --out DIR [--db FILE [--db-sync normal|full]]\n";
#define USAGE hh_usage_backtest

struct bt {
    const char *config, *ticks, *bars, *signals, *out;
    struct hh_world w;
    struct hh_diag d;
    struct hh_out *o;
    uint64_t received;
    bool groups;                        /* group signals were accepted */
    /* the accepted signals in arrival order; each is handed to the engine
     * at its received_at (a checkpoint then never carries the ones still to
     * come: they are in the database's signals table) */
    struct hh_signal *sigs;
    size_t nsigs, capsigs, next_sig;
    struct hh_group_signal *grps;       /* a group signal's `lots` indexes here */
    size_t ngrps, capgrps;
    /* engine */
    struct hh_clock clock;
    struct hh_simex *ex;
    struct hh_eng *eng;
    struct hh_tm *tm;                   /* the engine's */
    struct hh_md_reader *md;
    struct hh_eng_mdfile *mdsrc;
    struct hh_progress *pg;
    bool db_failed;                     /* the database failed: stop */
    double started;
    /* --db: the run persisted (journal/journal.h) */
    const char *db_path, *db_sync;
    struct hh_journal *db;
};

/* ---- what the engine tells the outputs ------------------------------------------ */

static void on_fill(void *ctx, const struct hh_tm_fill *f)
{
    struct bt *b = ctx;

    hh_out_fill(b->o, f);
}

static void on_closed(void *ctx, const struct hh_tm_trade *t)
{
    struct bt *b = ctx;

    hh_out_trade(b->o, t, hh_tm_stats(b->tm)->equity);
}

static void on_rejected(void *ctx, const struct hh_signal *s, enum hh_sig_reason r,
                        const char *detail)
{
    struct bt *b = ctx;

    hh_out_rejected(b->o, s, r, detail);
}

static void on_market(void *ctx, hh_time_t t)
{
    struct bt *b = ctx;

    hh_out_market(b->o, t);
}

static void on_candle(void *ctx, const struct hh_bar *c)
{
    struct bt *b = ctx;

    hh_out_candle(b->o, c);
}

/* After each market event: its records become one step of the database. */
static void on_step(void *ctx, enum hh_ev_class cls)
{
    struct bt *b = ctx;

    if (cls == HH_EV_MARKET && b->db && !b->db_failed && hh_journal_step(b->db, b->clock.now))
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

/* ---- signals ------------------------------------------------------------------------ */

/* An accepted line: charted, and kept for its arrival. */
static int on_accepted(void *ctx, const char *line, size_t len, struct hh_signal *s,
                       const struct hh_group_signal *g)
{
    struct bt *b = ctx;

    (void)line;
    (void)len;
    if (s->group) {
        if (hh_grow(&b->grps, &b->capgrps, b->ngrps + 1, sizeof *b->grps))
            return HH_ENOMEM;
        b->grps[b->ngrps] = *g;
        s->lots = (int64_t)b->ngrps++;
        b->groups = true;
        for (int i = 0; i < g->group.nlegs; i++)
            hh_out_chart(b->o, g->group.legs[i].iid);
    } else {
        hh_out_chart(b->o, s->iid);
    }
    if (hh_grow(&b->sigs, &b->capsigs, b->nsigs + 1, sizeof *b->sigs))
        return HH_ENOMEM;
    b->sigs[b->nsigs++] = *s;
    return HH_OK;
}

/* Arrival order (SPEC §5a): received_at, then line. */
static int by_arrival(const void *pa, const void *pb)
{
    const struct hh_signal *a = pa, *c = pb;

    if (a->received_at != c->received_at)
        return a->received_at < c->received_at ? -1 : 1;
    return a->line < c->line ? -1 : a->line > c->line;
}

/* The signals as a source: each is accepted by the engine at its
 * received_at, ahead of its arrival there (the engine's arrivals source). */
static enum hh_src_state sigs_peek(void *impl, struct hh_ev_key *key)
{
    struct bt *b = impl;

    if (b->next_sig >= b->nsigs)
        return HH_SRC_END;
    *key = (struct hh_ev_key){ b->sigs[b->next_sig].received_at, HH_EV_SIGNAL, 0 };
    return HH_SRC_READY;
}

static int sigs_take(void *impl, const struct hh_ev_key *bound)
{
    struct bt *b = impl;
    const struct hh_signal *s = &b->sigs[b->next_sig++];
    const struct hh_group_signal *g = s->group ? &b->grps[s->lots] : NULL;

    (void)bound;
    return g ? hh_tm_accept(b->tm, s, &g->group, g->has_stop_loss ? g->stop_loss : 0,
                            g->has_target ? g->target : 0)
             : hh_tm_accept(b->tm, s, NULL, 0, 0);
}

static const struct hh_source_ops sigs_ops = { sigs_peek, sigs_take };

static int on_dead_letter(void *ctx, uint64_t lineno, const char *line, size_t len,
                          const struct hh_sig_reject *rej)
{
    struct bt *b = ctx;

    (void)line;
    (void)len;
    hh_out_dead_letter(b->o, lineno, rej, false);
    return HH_OK;
}

/* Read and validate every line in order.  Returns HH_OK, or HH_EIO
 * (unreadable: exit 2). */
static int load_signals(struct bt *b)
{
    struct hh_sig_rules rules = hh_app_sig_rules(&b->w.cfg);
    struct hh_sig_validator *v = hh_sig_validator_new(b->w.inst, b->w.cal, &rules);
    struct hh_sig_sink sink = { on_accepted, on_dead_letter, b };
    int rc;

    if (!v)
        return hh_diag_set(&b->d, HH_ENOMEM, "out of memory");
    rc = b->db ? hh_journal_read_signals(b->db, b->signals, v, &sink, &b->received, &b->d)
               : hh_sig_read_file(b->signals, v, &sink, &b->received, &b->d);
    hh_sig_validator_free(v);
    if (!rc && b->nsigs)
        qsort(b->sigs, b->nsigs, sizeof *b->sigs, by_arrival);
    return rc;
}

/* ---- the run ------------------------------------------------------------------------- */

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
    if ((rc = hh_loop_add(&L, (struct hh_source){ &sigs_ops, b, "signals file", NULL })) ||
        (rc = hh_eng_add_sources(b->eng, &L)) ||
        (rc = hh_loop_add(&L, hh_eng_mdfile_source(b->mdsrc))))
        return rc;
    rc = hh_loop_run(&L);
    return rc ? rc : hh_eng_mdfile_error(b->mdsrc);
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
    struct hh_simex_config xc;
    struct hh_tm_config tc;
    struct hh_tm_sink sink = { .fill = on_fill, .closed = on_closed,
                               .rejected = on_rejected, .ctx = b };
    struct hh_eng_observer obs = { .market = on_market, .candle = on_candle,
                                   .step = b->db ? on_step : NULL, .ctx = b };

    hh_config_simex(c, &xc);
    hh_config_tm(c, hh_config_stops(c, HH_STOPS_RESTING), &tc);
    if (c->paper.drop_update_pct || c->paper.delay_update || c->paper.timeout_pct ||
        c->paper.n_unavailable || c->paper.n_disconnect || c->paper.duplicate_update_pct ||
        c->paper.reorder_update_pct || c->paper.book_lag || c->paper.n_external)
        fprintf(stderr, "hedgehog backtest: note: paper.faults drop_update_pct, "
                "delay_update_ms, timeout_pct, unavailable, disconnect, duplicate_update_pct, "
                "reorder_update_pct, book_lag_ms and external have no effect in backtests: "
                "they act on the paper broker of `hedgehog run` (latency_ms, fill_ratio and "
                "reject_pct do act here)\n");
    hh_clock_init(&b->clock, true);
    b->ex = hh_simex_new(b->w.inst, &b->clock, &xc);
    if (!b->ex)
        return HH_ENOMEM;
    if (b->db)
        hh_journal_sink(b->db, &sink, &sink);
    b->eng = hh_eng_new(&tc, b->w.inst, b->w.cal, &b->clock, hh_simex_broker(b->ex), &sink,
                        c->entry.timeframe, &obs);
    if (!b->eng)
        return HH_ENOMEM;
    b->tm = hh_eng_tm(b->eng);
    if (b->db && hh_journal_attach(b->db, b->tm, HH_TIME_NONE, &b->d))
        return HH_EDB;
    return HH_OK;
}

/* --db takes a database no engine ever started on: a second run into it
 * would mix two runs' signals and trades under one audit trail. */
static int check_new_db(struct bt *b)
{
    struct hh_journal_history h;
    int rc = hh_journal_history(b->db_path, &h, &b->d);

    if (!rc && h.started && !strcmp(h.mode, "backtest"))
        rc = hh_diag_set(&b->d, HH_EEXIST, "%s: already holds a backtest; --db takes a new "
                         "database (one run per database)", b->db_path);
    else if (!rc && h.started)
        rc = hh_diag_set(&b->d, HH_EEXIST, "%s: already holds a run (mode %s); --db takes a "
                         "new database (one run per database)", b->db_path, h.mode);
    hh_journal_history_free(&h);
    return rc;
}

/* --db: open the store (keyed with audit.key_file when set) and record the
 * configuration (exit 2 on failure: an unwritable, foreign or used
 * database, or an unsafe key file, is unusable input). */
static int open_db(struct bt *b)
{
    struct hh_journal_opts o;
    struct hh_store_audit_key key = { .len = 0 };
    int rc;

    hh_journal_opts_default(&o);
    if (!b->db_path)
        return HH_OK;
    if ((rc = check_new_db(b)))
        return rc;
    if (b->db_sync && !strcmp(b->db_sync, "full"))
        o.sync = HH_STORE_SYNC_FULL;
    o.capital = b->w.cfg.capital;
    o.build = hh_build_id();
    if (b->w.cfg.audit.key_file[0]) {
        rc = hh_store_audit_key_read(b->w.cfg.audit.key_file, &key, &b->d);
        if (rc)
            return rc;
        o.audit_key = &key;
    }
    rc = hh_journal_open(b->db_path, &o, b->w.inst, &b->db, &b->d);
    hh_store_audit_key_wipe(&key);
    if (rc)
        return HH_EDB;
    return hh_journal_config_text(b->db, b->config, b->w.config_text, b->w.config_len, NULL,
                                  HH_TIME_NONE, &b->d);
}

/* The arguments as given (exit 2 with the usage). */
static int check_args(const struct bt *b)
{
    if ((b->ticks != NULL) == (b->bars != NULL))
        return hh_app_say(ME, USAGE, HH_EXIT_USAGE, "give exactly one of --ticks and --bars");
    if (b->db_sync && strcmp(b->db_sync, "normal") && strcmp(b->db_sync, "full"))
        return hh_app_say(ME, USAGE, HH_EXIT_USAGE, "--db-sync: 'normal' or 'full', not '%s'",
                          b->db_sync);
    if (b->db_sync && !b->db_path)
        return hh_app_say(ME, USAGE, HH_EXIT_USAGE, "--db-sync needs --db");
    return HH_EXIT_OK;
}

/* Every input is readable before anything is written (exit 2 otherwise). */
static int check_inputs(struct bt *b)
{
    FILE *f;

    if (!(f = fopen(b->signals, "r")))
        return hh_diag_set(&b->d, HH_EIO, "%s: cannot open: %s", b->signals, strerror(errno));
    fclose(f);
    if (b->bars && hh_app_check_timeframe(&b->w.cfg, b->bars, b->w.inst, &b->d))
        return HH_ECONFIG;
    return hh_md_open(&b->md, b->ticks ? b->ticks : b->bars, b->ticks ? HH_MD_TICKS : HH_MD_BARS,
                      b->w.inst, stderr, &b->d);
}

static int finish(struct bt *b)
{
    const struct hh_eng_stats *es = hh_eng_stats(b->eng);
    const struct hh_tm_stats *st = hh_tm_stats(b->tm);
    struct hh_out_summary s = {
        .received = b->received, .tm = st, .md = hh_md_stats(b->md), .ticks = es->ticks,
        .bars = es->bars, .out_of_session = es->out_of_session, .groups = b->groups,
        .elapsed = hh_app_seconds() - b->started,
    };
    uint64_t rejected = hh_out_rejected_count(b->o);
    char net[40], eq[40], dd[40];

    if (hh_out_finish(b->o, &s, NULL, &b->d))
        return HH_EIO;
    hh_fx_format(net, sizeof net, st->net, 2);
    hh_fx_format(eq, sizeof eq, st->equity, 2);
    hh_fx_format(dd, sizeof dd, st->max_drawdown, 2);
    printf("signals %llu (accepted %llu, rejected %llu)  trades %llu (wins %llu, losses %llu)\n"
           "net P&L %s  max drawdown %s  final equity %s\n",
           (unsigned long long)b->received, (unsigned long long)(b->received - rejected),
           (unsigned long long)rejected, (unsigned long long)st->trades_closed,
           (unsigned long long)st->wins, (unsigned long long)st->losses, net, dd, eq);
    printf("report: %s/report.html\n", b->out);
    return HH_OK;
}

static void cleanup(struct bt *b)
{
    hh_out_free(b->o);
    hh_eng_mdfile_free(b->mdsrc);
    hh_md_close(b->md);
    hh_eng_free(b->eng);
    hh_simex_free(b->ex);
    hh_journal_close(b->db, NULL);
    free(b->sigs);
    free(b->grps);
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
    struct hh_out_opts oo;
    int rc;

    memset(&b, 0, sizeof b);
    b.started = hh_app_seconds();
    if (hh_app_parse(ME, USAGE, argc, argv, opts, 7))
        return HH_EXIT_USAGE;
    if ((rc = check_args(&b)))
        return rc;
    if (hh_world_load(&b.w, b.config, &b.d) || check_inputs(&b) || open_db(&b))
        return fail(&b, HH_EXIT_USAGE);
    oo = (struct hh_out_opts){ .dir = b.out, .inst = b.w.inst, .capital = b.w.cfg.capital,
                               .fees = b.w.cfg.execution.fees };
    if (hh_out_open(&b.o, &oo, &b.d))
        return fail(&b, HH_EXIT_USAGE);
    if (build_engine(&b))
        return fail(&b, HH_EXIT_FAIL);
    if ((rc = load_signals(&b)))
        return fail(&b, rc == HH_EIO && b.received == 0 ? HH_EXIT_USAGE : HH_EXIT_FAIL);
    b.pg = hh_progress_new(stderr, "backtest", hh_md_size(b.md), isatty(STDERR_FILENO));
    rc = run_loop(&b);
    hh_progress_done(b.pg);
    hh_progress_free(b.pg);
    if (rc < 0) {
        hh_diag_set(&b.d, rc, "%s: %s", b.ticks ? b.ticks : b.bars, hh_strerror(rc));
        return fail(&b, HH_EXIT_FAIL);
    }
    if (b.db && hh_journal_status(b.db, &b.d))   /* never trade without memory */
        return fail(&b, HH_EXIT_FAIL);
    if (hh_eng_error(b.eng)) {
        hh_diag_set(&b.d, HH_ENOMEM, "the run lost data (out of memory)");
        return fail(&b, HH_EXIT_FAIL);
    }
    if (b.db && hh_journal_finish(b.db, b.clock.now, &b.d))
        return fail(&b, HH_EXIT_FAIL);
    if (finish(&b))
        return fail(&b, HH_EXIT_FAIL);
    cleanup(&b);
    return HH_EXIT_OK;
}
