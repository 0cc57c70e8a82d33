/*
 * out.c — a run's result files (contract in out.h).
 *
 * Invariants: the final names are only ever created by rename() in
 * hh_out_finish(), after every temporary file was written and closed
 * without error and every final name was found replaceable; the entry-time dead letters follow the read-time ones in
 * rejected.jsonl (SPEC §4 order for a file read ahead, as `backtest` does).
 */
#include "out/out.h"

#include "out/report.h"

#include "core/jsonout.h"
#include "core/path.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define OUT_BUFFER (1u << 20)
#define DIR_CAP 1024
#define PATH_CAP (DIR_CAP + 64)

enum out_file { F_FILLS, F_TRADES, F_REJECTED, F_LATE, F_SUMMARY, F_REPORT, F_COUNT };

static const char *const names[F_COUNT] = {
    "fills.csv", "trades.csv", "rejected.jsonl", "rejected-at-entry.jsonl",
    "summary.json", "report.html",
};

struct hh_out {
    struct hh_out_opts o;
    char dir[DIR_CAP];
    FILE *f[F_COUNT];              /* F_SUMMARY, F_REPORT: written at the end */
    char tmp[F_COUNT][PATH_CAP];   /* temporary names ("" when none) */
    struct hh_rep *rep;
    bool *charted;                 /* by iid: symbols with signals */
    size_t ncharted;
    bool market_seen;
    bool failed;                   /* a write error or lost data */
    uint64_t rejected, by_reason[HH_SIG_REASON_COUNT];
    struct hh_json summary;        /* summary.json (by hh_out_finish) */
};

static const char *sym_name(const struct hh_out *o, hh_iid_t iid)
{
    const struct hh_instrument *in = hh_inst_get(o->o.inst, iid);

    return in ? in->symbol : "?";
}

/* ---- life cycle ----------------------------------------------------------------- */

static int create(struct hh_out *o, enum out_file k, struct hh_diag *d)
{
    snprintf(o->tmp[k], PATH_CAP, "%s/.%s.tmp", o->dir, names[k]);
    o->f[k] = fopen(o->tmp[k], "w+");
    if (!o->f[k]) {
        hh_diag_set(d, HH_EIO, "%s: cannot create: %s", o->tmp[k], strerror(errno));
        o->tmp[k][0] = '\0';
        return HH_EIO;
    }
    setvbuf(o->f[k], NULL, _IOFBF, OUT_BUFFER);
    return HH_OK;
}

int hh_out_open(struct hh_out **out, const struct hh_out_opts *opts, struct hh_diag *d)
{
    struct hh_out *o = calloc(1, sizeof *o);
    int rc;

    *out = NULL;
    if (!o)
        return hh_diag_set(d, HH_ENOMEM, "out of memory");
    o->o = *opts;
    hh_json_init(&o->summary, HH_JSON_SPACED, NULL, 0);
    if (strlen(opts->dir) >= sizeof o->dir) {
        free(o);
        return hh_diag_set(d, HH_EIO, "%s: path too long", opts->dir);
    }
    snprintf(o->dir, sizeof o->dir, "%s", opts->dir);
    o->ncharted = hh_inst_count(opts->inst) + 1;
    o->charted = calloc(o->ncharted, sizeof *o->charted);
    o->rep = hh_rep_new();
    if (!o->charted || !o->rep) {
        hh_out_free(o);
        return hh_diag_set(d, HH_ENOMEM, "out of memory");
    }
    if ((rc = hh_path_mkdirs(o->dir, d)) || (rc = create(o, F_FILLS, d)) ||
        (rc = create(o, F_TRADES, d)) || (rc = create(o, F_REJECTED, d)) ||
        (rc = create(o, F_LATE, d))) {
        hh_out_free(o);
        return rc;
    }
    fputs("ts,order_id,trade_id,signal_id,symbol,side,qty,price,reason,charges\n", o->f[F_FILLS]);
    fputs("trade_id,signal_id,symbol,side,qty,entry_ts,entry_price,exit_ts,avg_exit_price,"
          "exit_reason,gross_pnl,charges,net_pnl,r_multiple\n", o->f[F_TRADES]);
    *out = o;
    return HH_OK;
}

void hh_out_free(struct hh_out *o)
{
    if (!o)
        return;
    for (int k = 0; k < F_COUNT; k++) {
        if (o->f[k])
            fclose(o->f[k]);
        if (o->tmp[k][0])
            remove(o->tmp[k]);
    }
    hh_rep_free(o->rep);
    hh_json_free(&o->summary);
    free(o->charted);
    free(o);
}

void hh_out_chart(struct hh_out *o, hh_iid_t iid)
{
    if (iid < o->ncharted)
        o->charted[iid] = true;
}

/* ---- the run's events ------------------------------------------------------------- */

void hh_out_fill(struct hh_out *o, const struct hh_tm_fill *f)
{
    FILE *w = o->f[F_FILLS];

    hh_time_put(w, f->ts);
    fprintf(w, ",%llu,%u,%s,%s,%s,%lld,", (unsigned long long)f->order_id, f->trade_id,
            f->sig->id, sym_name(o, f->iid), hh_side_name(f->side), (long long)f->qty);
    hh_fx_put(w, f->price, 2);
    fprintf(w, ",%s,", hh_fill_reason_name(f->reason));
    hh_fx_put(w, f->charges, 2);
    fputc('\n', w);
    if (hh_rep_fill(o->rep, f, sym_name(o, f->iid)))
        o->failed = true;
}

void hh_out_trade(struct hh_out *o, const struct hh_tm_trade *t, hh_money_t equity_after)
{
    FILE *w = o->f[F_TRADES];
    char r[32];

    fprintf(w, "%u,%s,%s,%s,%lld,", t->trade_id, t->sig->id, sym_name(o, t->iid),
            hh_side_name(t->side), (long long)t->qty);
    hh_time_put(w, t->entry_ts);
    fputc(',', w);
    hh_fx_put(w, t->entry_price, 2);
    fputc(',', w);
    hh_time_put(w, t->exit_ts);
    fputc(',', w);
    hh_fx_put(w, t->avg_exit_price, 2);
    fprintf(w, ",%s,", hh_fill_reason_name(t->exit_reason));
    hh_fx_put(w, t->gross, 2);
    fputc(',', w);
    hh_fx_put(w, t->charges, 2);
    fputc(',', w);
    hh_fx_put(w, t->net, 2);
    hh_dec_format(r, sizeof r, t->r_multiple, 2, 2);
    fprintf(w, ",%s\n", r);
    if (hh_rep_trade(o->rep, t, sym_name(o, t->iid)) ||
        hh_rep_equity(o->rep, t->exit_ts, equity_after))
        o->failed = true;
}

void hh_out_dead_letter(struct hh_out *o, uint64_t line, const struct hh_sig_reject *rej,
                        bool at_entry)
{
    o->rejected++;
    if ((unsigned)rej->reason < HH_SIG_REASON_COUNT)
        o->by_reason[rej->reason]++;
    if (hh_sig_write_dead_letter(o->f[at_entry ? F_LATE : F_REJECTED], line, rej))
        o->failed = true;
}

void hh_out_rejected(struct hh_out *o, const struct hh_signal *s, enum hh_sig_reason r,
                     const char *detail)
{
    struct hh_sig_reject rej;

    hh_sig_reject_set(&rej, r, s->received_at, "%s", detail);
    rej.id_known = true;
    snprintf(rej.id, sizeof rej.id, "%s", s->id);
    hh_out_dead_letter(o, s->line, &rej, true);
}

void hh_out_market(struct hh_out *o, hh_time_t t)
{
    if (o->market_seen)
        return;
    o->market_seen = true;
    if (hh_rep_equity(o->rep, t, o->o.capital))
        o->failed = true;
}

void hh_out_candle(struct hh_out *o, const struct hh_bar *c)
{
    if (c->iid < o->ncharted && o->charted[c->iid] &&
        hh_rep_candle(o->rep, c->iid, sym_name(o, c->iid), c->ts, c->open, c->high, c->low,
                      c->close, c->volume))
        o->failed = true;
}

uint64_t hh_out_rejected_count(const struct hh_out *o)
{
    return o->rejected;
}

/* ---- the summary ------------------------------------------------------------------ */

/* Multi-leg figures (only when the run had group signals). */
static void group_summary(struct hh_json *j, const struct hh_tm_stats *st)
{
    hh_json_uint(j, "groups_started", st->groups_started);
    hh_json_uint(j, "groups_filled", st->groups_filled);
    hh_json_uint(j, "groups_rolled_back", st->groups_rolled_back);
    hh_json_uint(j, "groups_closed", st->groups_closed);
    hh_json_uint(j, "margin_rejects", st->margin_rejects);
    hh_json_uint(j, "emergency_hedges", st->hedges);
    hh_json_uint(j, "emergency_hedge_qty", (uint64_t)st->hedge_qty);
    hh_json_uint(j, "max_unhedged_exposure_ms", (uint64_t)(st->max_exposure / HH_NS_PER_MS));
    hh_json_uint(j, "hedge_variance_flags", st->balance_flags);
    hh_json_uint(j, "expiry_settlements", st->expiry_settlements);
}

static void summary_text(struct hh_out *o, const struct hh_out_summary *s)
{
    static const struct hh_md_stats none;
    const struct hh_tm_stats *st = s->tm;
    const struct hh_md_stats *ms = s->md ? s->md : &none;
    struct hh_json *j = &o->summary;

    hh_json_reset(j);
    hh_json_begin_object(j, NULL, true);
    hh_json_uint(j, "signals_received", s->received);
    hh_json_uint(j, "signals_accepted", s->received - o->rejected);
    hh_json_uint(j, "signals_rejected", o->rejected);
    hh_json_begin_object(j, "rejected_by_reason", false);
    for (int r = 1; r < HH_SIG_REASON_COUNT; r++)
        if (o->by_reason[r])
            hh_json_uint(j, hh_sig_reason_name((enum hh_sig_reason)r), o->by_reason[r]);
    hh_json_end_object(j);
    hh_json_uint(j, "trades", st->trades_closed);
    hh_json_uint(j, "wins", st->wins);
    hh_json_uint(j, "losses", st->losses);
    hh_json_dec(j, "win_rate",
                st->trades_closed ? (int64_t)(st->wins * 100000000ULL / st->trades_closed) : 0,
                8, 4, 4);
    hh_json_fx(j, "gross_pnl", st->gross, 2);
    hh_json_fx(j, "charges", st->charges, 2);
    hh_json_fx(j, "net_pnl", st->net, 2);
    hh_json_fx(j, "max_drawdown", st->max_drawdown, 2);
    hh_json_fx(j, "final_equity", st->equity, 2);
    hh_json_fx(j, "capital", o->o.capital, 2);
    hh_json_uint(j, "rows_skipped", ms->skipped);
    hh_json_uint(j, "rows_skipped_order", ms->skipped_order);
    hh_json_uint(j, "rows_skipped_field", ms->skipped_field);
    hh_json_uint(j, "rows_skipped_ohlc", ms->skipped_ohlc);
    hh_json_uint(j, "out_of_session", s->out_of_session);
    hh_json_uint(j, "ticks_processed", s->ticks);
    hh_json_uint(j, "bars_processed", s->bars);
    hh_json_uint(j, "dropped_stop_before_entry", st->dropped[HH_DROP_STOP_BEFORE_ENTRY]);
    hh_json_uint(j, "dropped_expired", st->dropped[HH_DROP_EXPIRED]);
    hh_json_uint(j, "waiting_at_end", st->waiting);
    hh_json_uint(j, "open_at_end", st->open);
    if (s->groups)
        group_summary(j, st);
    hh_json_str(j, "fees", o->o.fees);
    hh_json_num(j, "elapsed_s", "%.3f", s->elapsed);
    hh_json_end_object(j);
    hh_json_verbatim(j, "\n");
}

/* ---- the end ---------------------------------------------------------------------- */

/* Close a temporary file, reporting a write error (a full disk) by name. */
static int close_file(struct hh_out *o, enum out_file k, struct hh_diag *d)
{
    int bad;

    if (!o->f[k])
        return HH_OK;
    bad = ferror(o->f[k]);
    if (fclose(o->f[k]) != 0 || bad) {
        o->f[k] = NULL;
        return hh_diag_set(d, HH_EIO, "%s: write failed: %s", o->tmp[k],
                           errno ? strerror(errno) : "I/O error");
    }
    o->f[k] = NULL;
    return HH_OK;
}

/* The entry-time dead letters after the read-time ones. */
static int append_late(struct hh_out *o, struct hh_diag *d)
{
    char buf[1 << 16];
    size_t n;

    rewind(o->f[F_LATE]);
    while ((n = fread(buf, 1, sizeof buf, o->f[F_LATE])) > 0)
        if (fwrite(buf, 1, n, o->f[F_REJECTED]) != n)
            return hh_diag_set(d, HH_EIO, "%s: write failed", o->tmp[F_REJECTED]);
    if (ferror(o->f[F_LATE]))
        return hh_diag_set(d, HH_EIO, "%s: read failed", o->tmp[F_LATE]);
    return HH_OK;
}

static int write_summary(struct hh_out *o, struct hh_diag *d)
{
    int rc = create(o, F_SUMMARY, d);

    if (rc)
        return rc;
    fputs(hh_json_text(&o->summary), o->f[F_SUMMARY]);
    return close_file(o, F_SUMMARY, d);
}

/* Every final name can take its file: a rename that fails half-way
 * through the set would leave a mixture, and the one failure a rename of
 * a file written beside it can meet alone is a directory in its place. */
static int check_targets(const struct hh_out *o, const enum out_file *final, size_t n,
                         struct hh_diag *d)
{
    for (size_t i = 0; i < n; i++) {
        char path[PATH_CAP + 32];
        struct stat st;

        snprintf(path, sizeof path, "%s/%s", o->dir, names[final[i]]);
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            return hh_diag_set(d, HH_EIO, "%s: a directory: cannot be replaced by the new "
                               "file (every old output is left as it was)", path);
    }
    return HH_OK;
}

int hh_out_finish(struct hh_out *o, const struct hh_out_summary *s, const char **summary,
                  struct hh_diag *d)
{
    static const enum out_file final[] = { F_FILLS, F_TRADES, F_REJECTED, F_SUMMARY,
                                           F_REPORT };
    int rc;

    if (o->failed)
        return hh_diag_set(d, HH_EIO, "the run lost data (write error or out of memory)");
    summary_text(o, s);
    if (hh_json_status(&o->summary))
        return hh_diag_set(d, HH_ENOMEM, "out of memory writing the summary");
    if ((rc = append_late(o, d)) || (rc = close_file(o, F_FILLS, d)) ||
        (rc = close_file(o, F_TRADES, d)) || (rc = close_file(o, F_REJECTED, d)) ||
        (rc = write_summary(o, d)))
        return rc;
    snprintf(o->tmp[F_REPORT], PATH_CAP, "%s/.%s.tmp", o->dir, names[F_REPORT]);
    if ((rc = hh_rep_write(o->rep, o->tmp[F_REPORT], hh_json_text(&o->summary), d)) ||
        (rc = check_targets(o, final, sizeof final / sizeof final[0], d)))
        return rc;
    for (size_t i = 0; i < sizeof final / sizeof final[0]; i++) {
        char path[PATH_CAP + 32];

        snprintf(path, sizeof path, "%s/%s", o->dir, names[final[i]]);
        if (rename(o->tmp[final[i]], path) != 0)
            return hh_diag_set(d, HH_EIO, "%s: cannot rename into place: %s", path,
                               strerror(errno));
        o->tmp[final[i]][0] = '\0';
    }
    if (summary)
        *summary = hh_json_text(&o->summary);
    return HH_OK;
}
