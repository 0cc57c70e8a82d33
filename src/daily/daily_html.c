/*
 * daily_html.c — the end-of-day report as one self-contained HTML page: a
 * summary table (the seeds' end-of-day figures), rejections by reason, the
 * latencies, the kill-switch events and the day's closed trades.
 *
 * No script and no outside resource (style inline, nothing fetched), so it
 * opens anywhere offline; every text from the database is HTML-escaped.
 */
#include "daily/daily.h"

#include <string.h>

static const char STYLE[] =
    "body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1d2733}"
    "h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem}"
    "table{border-collapse:collapse;margin:.4rem 0}"
    "th,td{border:1px solid #d0d7de;padding:.25rem .6rem;text-align:left;white-space:nowrap}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "th{background:#f3f5f7}.muted{color:#6a737d}.neg{color:#b42318}.pos{color:#067647}";

/* s with & < > " ' escaped. */
static void put_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

static void put_time(FILE *f, hh_time_t t)
{
    char buf[48];

    hh_time_format(t, buf, sizeof buf);
    put_text(f, t == HH_TIME_NONE ? "" : buf);
}

/* A row: label, then a number cell. */
static void row_u(FILE *f, const char *label, uint64_t v)
{
    fprintf(f, "<tr><th>%s</th><td class=\"n\">%llu</td></tr>\n", label, (unsigned long long)v);
}

/* A row with money, red when negative. */
static void row_money(FILE *f, const char *label, hh_money_t v)
{
    char buf[48];

    hh_fx_format(buf, sizeof buf, v, 2);
    fprintf(f, "<tr><th>%s</th><td class=\"n%s\">%s</td></tr>\n", label, v < 0 ? " neg" : "",
            buf);
}

static void summary(FILE *f, const struct hh_daily *r)
{
    char rate[16];

    /* percent with 4 implied decimals, printed with 2 */
    hh_dec_format(rate, sizeof rate,
                  r->trades ? (int64_t)(r->wins * 1000000ULL / r->trades) : 0, 4, 2);
    fputs("<h2>Summary</h2>\n<table>\n", f);
    row_u(f, "Signals received", r->received);
    row_u(f, "Signals accepted", r->accepted);
    row_u(f, "Signals rejected", r->rejected);
    row_u(f, "Trades closed", r->trades);
    row_u(f, "Wins", r->wins);
    row_u(f, "Losses", r->losses);
    fprintf(f, "<tr><th>Win rate</th><td class=\"n\">%s %%</td></tr>\n", rate);
    row_money(f, "Gross P&amp;L", r->gross);
    row_money(f, "Charges", r->charges);
    row_money(f, "Net P&amp;L", r->net);
    row_money(f, "Max drawdown", r->max_drawdown);
    row_u(f, "Orders placed", r->orders);
    row_u(f, "Failed orders", r->failed_orders);
    row_u(f, "Emergency hedges", r->hedges);
    row_u(f, "Circuit breaker openings", r->breaker_openings);
    row_u(f, "Reconciliation divergences", r->divergences);
    row_u(f, "Operator alerts", r->alerts);
    row_u(f, "Kill-switch events", r->nkills);
    fputs("</table>\n", f);
}

static void reasons(FILE *f, const struct hh_daily *r)
{
    fputs("<h2>Rejections by reason</h2>\n", f);
    if (!r->nreasons) {
        fputs("<p class=\"muted\">none</p>\n", f);
        return;
    }
    fputs("<table>\n<tr><th>reason</th><th>signals</th></tr>\n", f);
    for (int i = 0; i < r->nreasons; i++) {
        fputs("<tr><td>", f);
        put_text(f, r->reason[i].name);
        fprintf(f, "</td><td class=\"n\">%llu</td></tr>\n", (unsigned long long)r->reason[i].n);
    }
    fputs("</table>\n", f);
}

static void latency_row(FILE *f, const char *what, const struct hh_daily_latency *l)
{
    char avg[32], p99[32];

    if (!l->n) {
        fprintf(f, "<tr><th>%s</th><td colspan=\"3\" class=\"muted\">not recorded</td></tr>\n",
                what);
        return;
    }
    hh_dec_format(avg, sizeof avg, l->avg, 6, 3);
    hh_dec_format(p99, sizeof p99, l->p99, 6, 3);
    fprintf(f, "<tr><th>%s</th><td class=\"n\">%llu</td><td class=\"n\">%s</td>"
            "<td class=\"n\">%s</td></tr>\n", what, (unsigned long long)l->n, avg, p99);
}

static void latencies(FILE *f, const struct hh_daily *r)
{
    fputs("<h2>Latency</h2>\n<table>\n<tr><th></th><th>samples</th><th>average ms</th>"
          "<th>p99 ms</th></tr>\n", f);
    latency_row(f, "Signal processing (wall clock)", &r->signal_ms);
    latency_row(f, "Order placed &rarr; acknowledged", &r->ack_ms);
    latency_row(f, "Market order placed &rarr; first fill", &r->market_fill_ms);
    fputs("</table>\n<p class=\"muted\">Orders: engine time. Signal processing is measured "
          "by a live run only.</p>\n", f);
}

static void kills(FILE *f, const struct hh_daily *r)
{
    fputs("<h2>Kill switch</h2>\n", f);
    if (!r->nkills) {
        fputs("<p class=\"muted\">no event</p>\n", f);
        return;
    }
    fputs("<table>\n<tr><th>at</th><th>action</th><th>state</th><th>by</th><th>reason</th>"
          "<th>applied</th></tr>\n", f);
    for (size_t i = 0; i < r->nkills; i++) {
        const struct hh_daily_kill *k = &r->kills[i];

        fputs("<tr><td>", f);
        put_time(f, k->at);
        fputs("</td><td>", f);
        put_text(f, k->action);
        fputs("</td><td>", f);
        put_text(f, k->state);
        fputs("</td><td>", f);
        put_text(f, k->by);
        fputs("</td><td>", f);
        put_text(f, k->reason);
        fprintf(f, "</td><td>%s</td></tr>\n", k->applied ? "yes" : "not yet");
    }
    fputs("</table>\n", f);
}

static void money_cell(FILE *f, hh_money_t v)
{
    char buf[48];

    hh_fx_format(buf, sizeof buf, v, 2);
    fprintf(f, "<td class=\"n%s\">%s</td>", v < 0 ? " neg" : v > 0 ? " pos" : "", buf);
}

static void trade_row(FILE *f, const struct hh_daily_trade *t)
{
    char p[48];

    fprintf(f, "<tr><td class=\"n\">%u</td><td>", t->trade_id);
    put_text(f, t->signal_id);
    fputs("</td><td>", f);
    put_text(f, t->symbol);
    fprintf(f, "</td><td>%s</td><td class=\"n\">%lld</td><td>", t->sell ? "SELL" : "BUY",
            (long long)t->qty);
    put_time(f, t->entry_ts);
    hh_fx_format(p, sizeof p, t->entry_price, 2);
    fprintf(f, "</td><td class=\"n\">%s</td><td>", p);
    put_time(f, t->exit_ts);
    hh_fx_format(p, sizeof p, t->exit_price, 2);
    fprintf(f, "</td><td class=\"n\">%s</td><td>", p);
    put_text(f, t->exit_reason);
    fputs("</td>", f);
    money_cell(f, t->gross);
    money_cell(f, t->charges);
    money_cell(f, t->net);
    fputs("</tr>\n", f);
}

static void trades(FILE *f, const struct hh_daily *r)
{
    fputs("<h2>Closed trades</h2>\n", f);
    if (!r->nlist) {
        fputs("<p class=\"muted\">none</p>\n", f);
        return;
    }
    fputs("<table id=\"trades\">\n<tr><th>#</th><th>signal</th><th>symbol</th><th>side</th>"
          "<th>qty</th><th>entry</th><th>price</th><th>exit</th><th>price</th><th>reason</th>"
          "<th>gross</th><th>charges</th><th>net</th></tr>\n", f);
    for (size_t i = 0; i < r->nlist; i++)
        trade_row(f, &r->list[i]);
    fputs("</table>\n", f);
}

int hh_daily_html(const struct hh_daily *r, FILE *f)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n", f);
    fprintf(f, "<title>hedgehog daily report %s</title>\n<style>%s</style></head>\n<body>\n",
            r->date, STYLE);
    fprintf(f, "<h1>Daily report %s</h1>\n<p class=\"muted\">IST day ", r->date);
    put_time(f, r->from);
    fputs(" &ndash; ", f);
    put_time(f, r->to);
    fputs(", from the database alone</p>\n", f);
    summary(f, r);
    reasons(f, r);
    latencies(f, r);
    kills(f, r);
    trades(f, r);
    fputs("</body></html>\n", f);
    return ferror(f) ? HH_EIO : HH_OK;
}
