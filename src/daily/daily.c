/*
 * daily.c — the end-of-day report's figures (what counts where: daily.h),
 * its JSON, and the files the engine and `hedgehog report` write.
 *
 * The figures are gathered in one pass over what the store reads for the
 * day (hh_store_read_period: one snapshot); sums are exact integers.  A
 * failure inside a callback (out of memory) is latched in the pass's
 * context and returned at its end.
 */
#include "daily/daily.h"

#include "core/grow.h"
#include "core/jsonout.h"
#include "core/path.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One pass over the day. */
struct pass {
    struct hh_daily *r;
    hh_money_t equity, peak;           /* the day's cumulative net and its peak */
    int rc;                            /* latched failure */
};

/* ---- helpers ----------------------------------------------------------------------- */

static void add_sample(struct pass *p, struct hh_daily_latency *l, int64_t ns)
{
    if (ns < 0 || p->rc)
        return;
    if (hh_grow(&l->v, &l->cap, l->n + 1, sizeof *l->v)) {
        p->rc = HH_ENOMEM;
        return;
    }
    l->v[l->n++] = ns;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* Mean and 99th percentile (nearest rank: the ceil(0.99 n)-th smallest). */
static void latency_figures(struct hh_daily_latency *l)
{
    __int128 sum = 0;

    if (!l->n)
        return;
    qsort(l->v, l->n, sizeof *l->v, cmp_i64);
    for (uint64_t i = 0; i < l->n; i++)
        sum += l->v[i];
    l->avg = (int64_t)(sum / l->n);
    l->p99 = l->v[(l->n * 99 + 99) / 100 - 1];
}

static void count_reason(struct pass *p, const char *name)
{
    struct hh_daily *r = p->r;
    int i;

    for (i = 0; i < r->nreasons; i++)
        if (!strcmp(r->reason[i].name, name))
            break;
    if (i == r->nreasons) {
        if (r->nreasons == HH_DAILY_REASONS_MAX)
            i = HH_DAILY_REASONS_MAX - 1;      /* the rest share the last slot */
        else
            snprintf(r->reason[r->nreasons++].name, HH_DAILY_REASON_LEN, "%s", name);
    }
    r->reason[i].n++;
}

/* A string member of a JSON payload into buf ("" when absent). */
static void member_str(struct json_object *o, const char *key, char *buf, size_t cap)
{
    struct json_object *v;

    buf[0] = '\0';
    if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
        snprintf(buf, cap, "%s", json_object_get_string(v));
}

static bool member_true(struct json_object *o, const char *key)
{
    struct json_object *v;

    return o && json_object_object_get_ex(o, key, &v) &&
           json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

/* After one or more digits at s and then `next`: the position past `next`;
 * NULL when s does not start so. */
static const char *digits_then(const char *s, char next)
{
    size_t n = strspn(s, "0123456789");

    return n && s[n] == next ? s + n + 1 : NULL;
}

/* The trade manager's hedge orders: client id "g<group>h<leg>n<attempt>"
 * (trade/exits.c, hh_tm__client_id with owner 'g' and purpose 'h'). */
static bool is_hedge(const char *cid)
{
    const char *s = cid && cid[0] == 'g' ? cid + 1 : NULL;

    s = s ? digits_then(s, 'h') : NULL;
    s = s ? digits_then(s, 'n') : NULL;
    return s && digits_then(s, '\0');
}

/* ---- the pass ------------------------------------------------------------------------ */

static void on_signal(void *ctx, bool accepted, const char *reason, int64_t latency_ns)
{
    struct pass *p = ctx;

    p->r->received++;
    if (!accepted) {
        p->r->rejected++;
        count_reason(p, reason && *reason ? reason : "?");
    }
    if (latency_ns > 0)
        add_sample(p, &p->r->signal_ms, latency_ns);
}

static void keep_trade(struct pass *p, const struct hh_store_trade *t)
{
    struct hh_daily *r = p->r;
    struct hh_daily_trade *x;

    if (p->rc || hh_grow(&r->list, &r->caplist, r->nlist + 1, sizeof *r->list)) {
        p->rc = HH_ENOMEM;
        return;
    }
    x = &r->list[r->nlist++];
    memset(x, 0, sizeof *x);
    x->trade_id = t->trade_id;
    snprintf(x->signal_id, sizeof x->signal_id, "%s", t->signal_id ? t->signal_id : "");
    snprintf(x->symbol, sizeof x->symbol, "%s", t->symbol ? t->symbol : "");
    snprintf(x->exit_reason, sizeof x->exit_reason, "%s", t->exit_reason ? t->exit_reason : "");
    x->sell = t->side == HH_SELL;
    x->qty = t->qty;
    x->entry_ts = t->entry_ts;
    x->exit_ts = t->exit_ts;
    x->entry_price = t->entry_price;
    x->exit_price = t->avg_exit_price;
    x->gross = t->gross;
    x->charges = t->charges;
    x->net = t->net;
}

static void on_trade(void *ctx, const struct hh_store_trade *t)
{
    struct pass *p = ctx;
    struct hh_daily *r = p->r;

    r->trades++;
    r->wins += t->net > 0;
    r->losses += t->net < 0;
    r->gross += t->gross;
    r->charges += t->charges;
    r->net += t->net;
    p->equity += t->net;
    if (p->equity > p->peak)
        p->peak = p->equity;
    if (p->peak - p->equity > r->max_drawdown)
        r->max_drawdown = p->peak - p->equity;
    keep_trade(p, t);
}

static void on_order(void *ctx, const struct hh_store_order *o, hh_time_t ack_at,
                     hh_time_t fill_at)
{
    struct pass *p = ctx;

    p->r->orders++;
    p->r->failed_orders += o->state == HH_OS_REJECTED;
    p->r->hedges += is_hedge(o->client_id);
    if (ack_at != HH_TIME_NONE)
        add_sample(p, &p->r->ack_ms, ack_at - o->at);
    if (o->type == HH_ORD_MARKET && fill_at != HH_TIME_NONE)
        add_sample(p, &p->r->market_fill_ms, fill_at - o->at);
}

static void keep_kill(struct pass *p, const struct hh_store_audit_row *a,
                      struct json_object *o)
{
    struct hh_daily *r = p->r;
    struct hh_daily_kill *k;

    if (p->rc || hh_grow(&r->kills, &r->capkills, r->nkills + 1, sizeof *r->kills)) {
        p->rc = HH_ENOMEM;
        return;
    }
    k = &r->kills[r->nkills++];
    k->at = a->at;
    member_str(o, "action", k->action, sizeof k->action);
    member_str(o, "state", k->state, sizeof k->state);
    member_str(o, "reason", k->reason, sizeof k->reason);
    member_str(o, "by", k->by, sizeof k->by);
    k->applied = member_true(o, "applied");
}

static void on_audit(void *ctx, const struct hh_store_audit_row *a)
{
    struct pass *p = ctx;
    struct json_object *o;
    char buf[HH_DAILY_REASON_LEN];

    if (strcmp(a->kind, "RISK_REJECTED") && strcmp(a->kind, "BREAKER") &&
        strcmp(a->kind, "RECONCILE_DIVERGENCE") && strcmp(a->kind, "ALERT") &&
        strcmp(a->kind, "KILL_SWITCH"))
        return;
    o = json_tokener_parse(a->payload);
    if (!strcmp(a->kind, "RISK_REJECTED")) {
        p->r->rejected++;
        member_str(o, "reason", buf, sizeof buf);
        count_reason(p, *buf ? buf : "?");
    } else if (!strcmp(a->kind, "BREAKER")) {
        member_str(o, "to", buf, sizeof buf);
        p->r->breaker_openings += !strcmp(buf, "OPEN");
    } else if (!strcmp(a->kind, "RECONCILE_DIVERGENCE")) {
        p->r->divergences++;
    } else if (!strcmp(a->kind, "ALERT")) {
        p->r->alerts += member_true(o, "operator_alert");
    } else {
        keep_kill(p, a, o);
    }
    json_object_put(o);
}

int hh_daily_compute(struct hh_store_reader *rd, const char *date, struct hh_daily *out,
                     struct hh_diag *d)
{
    struct pass p = { .r = out };
    const struct hh_store_period_fns fns = {
        .ctx = &p, .signal = on_signal, .trade = on_trade, .order = on_order,
        .audit = on_audit,
    };
    hh_date_t day;
    int rc;

    memset(out, 0, sizeof *out);
    if (!date || strlen(date) != 10 || hh_date_parse(date, 10, &day))
        return hh_diag_set(d, HH_EINVAL, "date '%s': expected YYYY-MM-DD", date ? date : "");
    hh_date_format(day, out->date, sizeof out->date);
    out->from = hh_time_from_ist(day, 0);
    out->to = out->from + HH_NS_PER_DAY;
    rc = hh_store_read_period(rd, out->from, out->to, &fns, d);
    if (!rc && p.rc)
        rc = hh_diag_set(d, p.rc, "out of memory making the daily report");
    if (rc)
        return rc;
    out->accepted = out->rejected <= out->received ? out->received - out->rejected : 0;
    latency_figures(&out->signal_ms);
    latency_figures(&out->ack_ms);
    latency_figures(&out->market_fill_ms);
    return HH_OK;
}

void hh_daily_free(struct hh_daily *r)
{
    if (!r)
        return;
    free(r->signal_ms.v);
    free(r->ack_ms.v);
    free(r->market_fill_ms.v);
    free(r->kills);
    free(r->list);
    memset(r, 0, sizeof *r);
}

/* ---- JSON ------------------------------------------------------------------------------ */

static void json_latency(struct hh_json *j, const char *key, const struct hh_daily_latency *l)
{
    if (!l->n) {
        hh_json_null(j, key);
        return;
    }
    hh_json_begin_object(j, key, false);
    hh_json_uint(j, "count", l->n);
    hh_json_dec(j, "avg", l->avg, 6, 3, 3);     /* ns as ms, to the microsecond */
    hh_json_dec(j, "p99", l->p99, 6, 3, 3);
    hh_json_end_object(j);
}

static void json_kills(struct hh_json *j, const struct hh_daily *r)
{
    hh_json_begin_array(j, "kill_switch_events", true);
    for (size_t i = 0; i < r->nkills; i++) {
        const struct hh_daily_kill *k = &r->kills[i];

        hh_json_begin_object(j, NULL, false);
        hh_json_time(j, "at", k->at);
        hh_json_str(j, "action", k->action);
        hh_json_str(j, "state", k->state);
        hh_json_str(j, "reason", k->reason);
        hh_json_str(j, "by", k->by);
        hh_json_bool(j, "applied", k->applied);
        hh_json_end_object(j);
    }
    hh_json_end_array(j);
}

static void json_trades(struct hh_json *j, const struct hh_daily *r)
{
    hh_json_begin_array(j, "closed_trades", true);
    for (size_t i = 0; i < r->nlist; i++) {
        const struct hh_daily_trade *t = &r->list[i];

        hh_json_begin_object(j, NULL, false);
        hh_json_uint(j, "trade_id", t->trade_id);
        hh_json_str(j, "signal_id", t->signal_id);
        hh_json_str(j, "symbol", t->symbol);
        hh_json_str(j, "side", t->sell ? "SELL" : "BUY");
        hh_json_int(j, "qty", t->qty);
        hh_json_time(j, "entry_ts", t->entry_ts);
        hh_json_fx(j, "entry_price", t->entry_price, 2);
        hh_json_time(j, "exit_ts", t->exit_ts);
        hh_json_fx(j, "exit_price", t->exit_price, 2);
        hh_json_str(j, "exit_reason", t->exit_reason);
        hh_json_fx(j, "gross_pnl", t->gross, 2);
        hh_json_fx(j, "charges", t->charges, 2);
        hh_json_fx(j, "net_pnl", t->net, 2);
        hh_json_end_object(j);
    }
    hh_json_end_array(j);
}

static void json_body(struct hh_json *j, const struct hh_daily *r)
{
    hh_json_str(j, "date", r->date);
    hh_json_time(j, "from", r->from);
    hh_json_time(j, "to", r->to);
    hh_json_uint(j, "signals_received", r->received);
    hh_json_uint(j, "signals_accepted", r->accepted);
    hh_json_uint(j, "signals_rejected", r->rejected);
    hh_json_begin_object(j, "rejected_by_reason", false);
    for (int i = 0; i < r->nreasons; i++)
        hh_json_uint(j, r->reason[i].name, r->reason[i].n);
    hh_json_end_object(j);
    hh_json_uint(j, "trades", r->trades);
    hh_json_uint(j, "wins", r->wins);
    hh_json_uint(j, "losses", r->losses);
    hh_json_dec(j, "win_rate",
                r->trades ? (int64_t)(r->wins * 100000000ULL / r->trades) : 0, 8, 4, 4);
    hh_json_fx(j, "gross_pnl", r->gross, 2);
    hh_json_fx(j, "charges", r->charges, 2);
    hh_json_fx(j, "net_pnl", r->net, 2);
    hh_json_fx(j, "max_drawdown", r->max_drawdown, 2);
    hh_json_begin_object(j, "latency_ms", true);
    json_latency(j, "signal_processing", &r->signal_ms);
    json_latency(j, "order_ack", &r->ack_ms);
    json_latency(j, "market_order_fill", &r->market_fill_ms);
    hh_json_end_object(j);
    hh_json_uint(j, "orders", r->orders);
    hh_json_uint(j, "failed_orders", r->failed_orders);
    hh_json_uint(j, "emergency_hedges", r->hedges);
    hh_json_uint(j, "breaker_openings", r->breaker_openings);
    hh_json_uint(j, "reconcile_divergences", r->divergences);
    hh_json_uint(j, "operator_alerts", r->alerts);
    json_kills(j, r);
    json_trades(j, r);
}

int hh_daily_json(const struct hh_daily *r, char **out, size_t *len)
{
    struct hh_json j;
    int rc;

    hh_json_init(&j, HH_JSON_SPACED, NULL, 0);
    hh_json_begin_object(&j, NULL, true);
    json_body(&j, r);
    hh_json_end_object(&j);
    hh_json_verbatim(&j, "\n");
    rc = hh_json_status(&j);
    *out = rc ? NULL : strdup(hh_json_text(&j));
    *len = *out ? strlen(*out) : 0;
    hh_json_free(&j);
    return *out ? HH_OK : HH_ENOMEM;
}

/* ---- the files ------------------------------------------------------------------------- */

/* dir/name written through a temporary name and renamed into place. */
static int write_file(const char *dir, const char *name, const char *text,
                      const struct hh_daily *r, struct hh_diag *d)
{
    char path[4096], tmp[4200];
    FILE *f;
    int rc = HH_OK;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    if (!(f = fopen(tmp, "w")))
        return hh_diag_set(d, HH_EIO, "%s: cannot create: %s", tmp, strerror(errno));
    if (text ? fputs(text, f) < 0 : hh_daily_html(r, f) != HH_OK)
        rc = HH_EIO;
    if (fclose(f) != 0)
        rc = HH_EIO;
    if (!rc && rename(tmp, path) != 0)
        rc = HH_EIO;
    if (rc) {
        unlink(tmp);
        return hh_diag_set(d, rc, "%s: cannot write: %s", path, strerror(errno));
    }
    return HH_OK;
}

int hh_daily_write(const char *db_path, const char *date, const char *dir, char **json,
                   struct hh_diag *d)
{
    struct hh_store_reader *rd = NULL;
    struct hh_daily r;
    char *text = NULL, name[32];
    size_t len;
    int rc = hh_store_reader_open(db_path, &rd, d);

    if (json)
        *json = NULL;
    if (rc)
        return rc;
    rc = hh_daily_compute(rd, date, &r, d);
    hh_store_reader_close(rd);
    if (!rc && (rc = hh_daily_json(&r, &text, &len)) != HH_OK)
        rc = hh_diag_set(d, rc, "out of memory making the daily report");
    if (!rc)
        rc = hh_path_mkdirs(dir, d);
    snprintf(name, sizeof name, "%s.json", r.date);
    if (!rc)
        rc = write_file(dir, name, text, &r, d);
    snprintf(name, sizeof name, "%s.html", r.date);
    if (!rc)
        rc = write_file(dir, name, NULL, &r, d);
    hh_daily_free(&r);
    if (!rc && json)
        *json = text;
    else
        free(text);
    return rc;
}
