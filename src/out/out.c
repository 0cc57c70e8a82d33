/*
 * out.c — a run's result files (contract in out.h).
 *
 * Invariants: the final names are only ever created by rename() in
 * hh_out_finish(), after every temporary file was written and closed
 * without error; the entry-time dead letters follow the read-time ones in
 * rejected.jsonl (SPEC §4 order for a file read ahead, as `backtest` does).
 */
#include "out/out.h"

#include "out/report.h"

#include <errno.h>
#include <stdarg.h>
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
    char summary[8192];
};

static const char *sym_name(const struct hh_out *o, hh_iid_t iid)
{
    const struct hh_instrument *in = hh_inst_get(o->o.inst, iid);

    return in ? in->symbol : "?";
}

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

/* ---- life cycle ----------------------------------------------------------------- */

static int mkdirs(const char *dir, struct hh_diag *d)
{
    char p[DIR_CAP];
    size_t n = strlen(dir);

    if (n >= sizeof p)
        return hh_diag_set(d, HH_EIO, "%s: path too long", dir);
    memcpy(p, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        p[i] = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST)
            return hh_diag_set(d, HH_EIO, "%s: cannot create: %s", p, strerror(errno));
        p[i] = dir[i];
    }
    return HH_OK;
}

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
    if ((rc = mkdirs(o->dir, d)) || (rc = create(o, F_FILLS, d)) ||
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

    put_ts(w, f->ts);
    fprintf(w, ",%llu,%u,%s,%s,%s,%lld,", (unsigned long long)f->order_id, f->trade_id,
            f->sig->id, sym_name(o, f->iid), hh_side_name(f->side), (long long)f->qty);
    put_money(w, f->price);
    fprintf(w, ",%s,", hh_fill_reason_name(f->reason));
    put_money(w, f->charges);
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
    put_ts(w, t->entry_ts);
    fputc(',', w);
    put_money(w, t->entry_price);
    fputc(',', w);
    put_ts(w, t->exit_ts);
    fputc(',', w);
    put_money(w, t->avg_exit_price);
    fprintf(w, ",%s,", hh_fill_reason_name(t->exit_reason));
    put_money(w, t->gross);
    fputc(',', w);
    put_money(w, t->charges);
    fputc(',', w);
    put_money(w, t->net);
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
        hh_rep_candle(o->rep, sym_name(o, c->iid), c->ts, c->open, c->high, c->low, c->close,
                      c->volume))
        o->failed = true;
}

uint64_t hh_out_rejected_count(const struct hh_out *o)
{
    return o->rejected;
}

/* ---- the summary ------------------------------------------------------------------ */

struct jtext {
    char *p, *end;
};

static void jt(struct jtext *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void jt(struct jtext *j, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(j->p, (size_t)(j->end - j->p), fmt, ap);
    va_end(ap);
    if (n > 0)
        j->p += n < j->end - j->p ? n : j->end - j->p - 1;
}

static void json_money(struct jtext *j, const char *key, hh_money_t v)
{
    char m[40];

    hh_fx_format(m, sizeof m, v, 2);
    jt(j, "  \"%s\": %s,\n", key, m);
}

static void json_count(struct jtext *j, const char *key, uint64_t v)
{
    jt(j, "  \"%s\": %llu,\n", key, (unsigned long long)v);
}

/* Multi-leg figures (only when the run had group signals). */
static void group_summary(struct jtext *j, const struct hh_tm_stats *st)
{
    json_count(j, "groups_started", st->groups_started);
    json_count(j, "groups_filled", st->groups_filled);
    json_count(j, "groups_rolled_back", st->groups_rolled_back);
    json_count(j, "groups_closed", st->groups_closed);
    json_count(j, "margin_rejects", st->margin_rejects);
    json_count(j, "emergency_hedges", st->hedges);
    json_count(j, "emergency_hedge_qty", (uint64_t)st->hedge_qty);
    json_count(j, "max_unhedged_exposure_ms", (uint64_t)(st->max_exposure / HH_NS_PER_MS));
    json_count(j, "hedge_variance_flags", st->balance_flags);
    json_count(j, "expiry_settlements", st->expiry_settlements);
}

static void summary_text(struct hh_out *o, const struct hh_out_summary *s)
{
    static const struct hh_md_stats none;
    const struct hh_tm_stats *st = s->tm;
    const struct hh_md_stats *ms = s->md ? s->md : &none;
    struct jtext j = { o->summary, o->summary + sizeof o->summary };
    char wr[24];
    bool first = true;

    hh_dec_format(wr, sizeof wr,
                  st->trades_closed ? (int64_t)(st->wins * 100000000ULL / st->trades_closed) : 0,
                  8, 4);
    jt(&j, "{\n");
    json_count(&j, "signals_received", s->received);
    json_count(&j, "signals_accepted", s->received - o->rejected);
    json_count(&j, "signals_rejected", o->rejected);
    jt(&j, "  \"rejected_by_reason\": {");
    for (int r = 1; r < HH_SIG_REASON_COUNT; r++) {
        if (!o->by_reason[r])
            continue;
        jt(&j, "%s\"%s\": %llu", first ? "" : ", ", hh_sig_reason_name((enum hh_sig_reason)r),
           (unsigned long long)o->by_reason[r]);
        first = false;
    }
    jt(&j, "},\n");
    json_count(&j, "trades", st->trades_closed);
    json_count(&j, "wins", st->wins);
    json_count(&j, "losses", st->losses);
    jt(&j, "  \"win_rate\": %s,\n", wr);
    json_money(&j, "gross_pnl", st->gross);
    json_money(&j, "charges", st->charges);
    json_money(&j, "net_pnl", st->net);
    json_money(&j, "max_drawdown", st->max_drawdown);
    json_money(&j, "final_equity", st->equity);
    json_money(&j, "capital", o->o.capital);
    json_count(&j, "rows_skipped", ms->skipped);
    json_count(&j, "rows_skipped_order", ms->skipped_order);
    json_count(&j, "rows_skipped_field", ms->skipped_field);
    json_count(&j, "rows_skipped_ohlc", ms->skipped_ohlc);
    json_count(&j, "out_of_session", s->out_of_session);
    json_count(&j, "ticks_processed", s->ticks);
    json_count(&j, "bars_processed", s->bars);
    json_count(&j, "dropped_stop_before_entry", st->dropped[HH_DROP_STOP_BEFORE_ENTRY]);
    json_count(&j, "dropped_expired", st->dropped[HH_DROP_EXPIRED]);
    json_count(&j, "waiting_at_end", st->waiting);
    json_count(&j, "open_at_end", st->open);
    if (s->groups)
        group_summary(&j, st);
    jt(&j, "  \"fees\": \"%s\",\n", o->o.fees);
    jt(&j, "  \"elapsed_s\": %.3f\n}\n", s->elapsed);
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
    fputs(o->summary, o->f[F_SUMMARY]);
    return close_file(o, F_SUMMARY, d);
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
    if ((rc = append_late(o, d)) || (rc = close_file(o, F_FILLS, d)) ||
        (rc = close_file(o, F_TRADES, d)) || (rc = close_file(o, F_REJECTED, d)) ||
        (rc = write_summary(o, d)))
        return rc;
    snprintf(o->tmp[F_REPORT], PATH_CAP, "%s/.%s.tmp", o->dir, names[F_REPORT]);
    if ((rc = hh_rep_write(o->rep, o->tmp[F_REPORT], o->summary, d)))
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
        *summary = o->summary;
    return HH_OK;
}
