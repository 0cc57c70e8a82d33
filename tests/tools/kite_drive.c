/*
 * kite_drive.c — runs the Kite adapter against the local Kite server
 * (build/kite/kite_server) and checks what both sides say.  One scenario
 * per run; TAP-style lines ("ok - ...", "not ok - ...") for
 * tests/integration/test_kite_adapter.sh; exit 1 when any check failed.
 *
 *   kite_drive SCENARIO --url http://127.0.0.1:PORT --dir SECRETS_DIR
 *              [--ca FILE] [--instruments FILE]... [--timeout-ms N]
 *
 * SECRETS_DIR holds api_key and access_token (mode 600).  The driver plays
 * the engine: it places with deterministic tags, looks a tag up after an
 * unknown outcome and never places a tag twice, pumps reports on the wake
 * callback, polls the order book every 2 s (the engine's reconciliation)
 * and checks every report (exec ids unique, cumulative fills never going
 * back, nothing after an end).  The server's own records (/_ctl/check) are
 * the judge: no tag placed twice, at most 10 order calls in any second,
 * every MARKET / SL-M with market_protection, positions equal.
 */
#include "broker/kite.h"
#include "broker/kite_int.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_ORDERS 1024

struct track {
    uint64_t id;
    char tag[HH_CLIENT_ID_MAX];
    hh_iid_t iid;
    enum hh_side side;
    hh_qty_t qty, filled;
    int acks, fills;
    bool done;
    enum hh_report_kind end;
    char reason[64];
};

struct drv {
    const char *url, *dir, *ca, *account;
    const char *inst_files[4];
    int ninst, timeout_ms;
    struct hh_instruments *inst;
    struct hh_kite *k;
    struct hh_broker b;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool woken;
    struct track t[MAX_ORDERS];
    int nt;
    struct hh_u64map execs;
    int bad_reports;
    char bad_first[256];
    int failed, checks;
    CURL *ctl;
};

/* ---- TAP ------------------------------------------------------------------ */

static void check(struct drv *d, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void check(struct drv *d, bool ok, const char *fmt, ...)
{
    va_list ap;

    d->checks++;
    d->failed += !ok;
    printf("%s - ", ok ? "ok" : "not ok");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

static int64_t now_ms(void)
{
    return hh_kite__mono_ns() / HH_NS_PER_MS;
}

/* ---- the control endpoint ---------------------------------------------------- */

struct text {
    char *p;
    size_t n;
};

static size_t ctl_body(char *p, size_t size, size_t n, void *ctx)
{
    struct text *b = ctx;
    char *x = realloc(b->p, b->n + size * n + 1);

    if (!x)
        return 0;
    memcpy(x + b->n, p, size * n);
    b->n += size * n;
    x[b->n] = '\0';
    b->p = x;
    return size * n;
}

/* POST (form, may be "") or GET (form NULL) to /_ctl/what; the answer's
 * data member (put it), NULL on failure. */
static struct json_object *ctl(struct drv *d, const char *what, const char *form)
{
    struct text b = { NULL, 0 };
    char url[512];
    struct json_object *root, *data = NULL;

    snprintf(url, sizeof url, "%s/_ctl/%s", d->url, what);
    curl_easy_reset(d->ctl);
    curl_easy_setopt(d->ctl, CURLOPT_URL, url);
    curl_easy_setopt(d->ctl, CURLOPT_WRITEFUNCTION, ctl_body);
    curl_easy_setopt(d->ctl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(d->ctl, CURLOPT_TIMEOUT_MS, 5000L);
    if (d->ca)
        curl_easy_setopt(d->ctl, CURLOPT_CAINFO, d->ca);
    if (form)
        curl_easy_setopt(d->ctl, CURLOPT_POSTFIELDS, form);
    if (curl_easy_perform(d->ctl) == CURLE_OK && b.p && (root = json_tokener_parse(b.p))) {
        struct json_object *v;

        if (json_object_object_get_ex(root, "data", &v))
            data = json_object_get(v);
        json_object_put(root);
    }
    free(b.p);
    return data;
}

static int64_t jint(struct json_object *o, const char *key)
{
    struct json_object *v;

    return o && json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : -1;
}

static int64_t server_pos(struct json_object *chk, const char *sym)
{
    struct json_object *p, *v;

    if (!chk || !json_object_object_get_ex(chk, "positions", &p) ||
        !json_object_object_get_ex(p, sym, &v))
        return 0;
    return json_object_get_int64(v);
}

/* The server's invariants over everything this run did. */
static void server_checks(struct drv *d, const char *what)
{
    struct json_object *c = ctl(d, "check", NULL), *dups;

    check(d, c != NULL, "%s: the server answers /_ctl/check", what);
    if (!c)
        return;
    json_object_object_get_ex(c, "dup_tags", &dups);
    check(d, dups && json_object_array_length(dups) == 0, "%s: no tag placed twice (%s)",
          what, dups ? json_object_to_json_string(dups) : "?");
    check(d, jint(c, "max_order_calls_in_1s") <= 10,
          "%s: at most 10 order calls in any second (max %lld of %lld calls)", what,
          (long long)jint(c, "max_order_calls_in_1s"), (long long)jint(c, "order_calls"));
    check(d, jint(c, "unprotected") == 0, "%s: every MARKET/SL-M carried market_protection",
          what);
    json_object_put(c);
}

/* ---- the adapter ---------------------------------------------------------------- */

static void on_wake(void *ctx)
{
    struct drv *d = ctx;

    pthread_mutex_lock(&d->mu);
    d->woken = true;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

static struct track *track_of(struct drv *d, uint64_t id)
{
    for (int i = 0; i < d->nt; i++)
        if (d->t[i].id == id)
            return &d->t[i];
    return NULL;
}

static void bad(struct drv *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void bad(struct drv *d, const char *fmt, ...)
{
    va_list ap;

    if (!d->bad_reports++) {
        va_start(ap, fmt);
        vsnprintf(d->bad_first, sizeof d->bad_first, fmt, ap);
        va_end(ap);
    }
}

/* Every report checked as the engine's order state machine would. */
static void on_report(void *ctx, const struct hh_report *r)
{
    struct drv *d = ctx;
    struct track *t = track_of(d, r->order_id);

    if (!t) {
        if (d->nt == MAX_ORDERS)
            return;
        t = &d->t[d->nt++];
        memset(t, 0, sizeof *t);
        t->id = r->order_id;            /* found by a restart or a look-up */
    }
    if (t->done) {
        bad(d, "report %d for order %llu after its end", r->kind, (unsigned long long)t->id);
        return;
    }
    switch (r->kind) {
    case HH_RPT_ACK:
        t->acks++;
        break;
    case HH_RPT_FILL:
        if (hh_u64map_get(&d->execs, r->exec_id, NULL))
            bad(d, "exec id %llu twice", (unsigned long long)r->exec_id);
        hh_u64map_put(&d->execs, r->exec_id, 1);
        if (r->filled != t->filled + r->qty || r->qty <= 0 || r->price <= 0)
            bad(d, "fill of %lld to %lld after %lld", (long long)r->qty, (long long)r->filled,
                (long long)t->filled);
        t->filled = r->filled;
        t->fills++;
        t->done = t->qty && t->filled >= t->qty;
        break;
    case HH_RPT_MODIFIED:
        t->qty = r->filled + r->leaves;
        break;
    default:
        t->done = true;
        t->end = r->kind;
        snprintf(t->reason, sizeof t->reason, "%s", r->reason);
        if (r->filled != t->filled)
            bad(d, "end says filled %lld, fills said %lld", (long long)r->filled,
                (long long)t->filled);
        break;
    }
}

/* Pump reports for ms milliseconds (woken early by the adapter). */
static void pump_for(struct drv *d, int ms)
{
    int64_t end = now_ms() + ms;

    do {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_mutex_lock(&d->mu);
        if (!d->woken)
            pthread_cond_timedwait(&d->cv, &d->mu, &ts);
        d->woken = false;
        pthread_mutex_unlock(&d->mu);
        if (d->b.ops->next_due(d->b.impl) == 0)
            d->b.ops->pump(d->b.impl);
    } while (now_ms() < end);
}

static hh_iid_t iid_of(struct drv *d, const char *sym)
{
    return hh_inst_find(d->inst, sym, strlen(sym));
}

static struct hh_order_req req(struct drv *d, const char *tag, const char *sym,
                               enum hh_side side, enum hh_ord_type type, hh_qty_t qty,
                               hh_price_t limit, hh_price_t trigger)
{
    struct hh_order_req q;

    memset(&q, 0, sizeof q);
    snprintf(q.client_id, sizeof q.client_id, "%s", tag);
    q.iid = iid_of(d, sym);
    q.side = side;
    q.type = type;
    q.qty = qty;
    q.limit = limit;
    q.trigger = trigger;
    return q;
}

static struct track *remember(struct drv *d, const struct hh_order_req *q, uint64_t id)
{
    struct track *t = track_of(d, id);

    if (!t && d->nt < MAX_ORDERS) {
        t = &d->t[d->nt++];
        memset(t, 0, sizeof *t);
        t->id = id;
    }
    if (t) {
        snprintf(t->tag, sizeof t->tag, "%s", q->client_id);
        t->iid = q->iid;
        t->side = q->side;
        if (!t->qty)
            t->qty = q->qty;
        /* its reports may have come first (found after an unknown outcome) */
        if (!t->done && t->filled >= t->qty)
            t->done = true;
    }
    return t;
}

static int place(struct drv *d, const struct hh_order_req *q, uint64_t *id)
{
    int rc = d->b.ops->place(d->b.impl, q, id);

    if (rc == HH_OK)
        remember(d, q, *id);
    return rc;
}

/* Wait (pumping) until pred holds or ms pass. */
static bool wait_for(struct drv *d, bool (*pred)(struct drv *, const void *), const void *arg,
                     int ms)
{
    int64_t end = now_ms() + ms;

    while (now_ms() < end) {
        if (pred(d, arg))
            return true;
        pump_for(d, 50);
    }
    return pred(d, arg);
}

static bool is_done(struct drv *d, const void *arg)
{
    struct track *t = track_of(d, *(const uint64_t *)arg);

    return t && t->done;
}

static bool is_acked(struct drv *d, const void *arg)
{
    struct track *t = track_of(d, *(const uint64_t *)arg);

    return t && t->acks > 0;
}

static int setup(struct drv *d, bool start, struct hh_diag *diag)
{
    struct hh_kite_config cfg;
    char key[512], tok[512], ws[512];
    int rc;

    hh_kite_config_defaults(&cfg);
    snprintf(key, sizeof key, "%s/api_key", d->dir);
    snprintf(tok, sizeof tok, "%s/access_token", d->dir);
    snprintf(ws, sizeof ws, "%s%s/ws", strncmp(d->url, "https", 5) ? "ws" : "wss",
             strchr(d->url, ':'));
    cfg.api_url = d->url;
    cfg.ws_url = ws;
    cfg.api_key_file = key;
    cfg.access_token_file = tok;
    cfg.timeout_ms = d->timeout_ms;
    cfg.account = d->account;
    cfg.ca_file = d->ca;
    cfg.md_stale_ms = 1500;
    if ((rc = hh_kite_new(&cfg, d->inst, &d->k, diag)))
        return rc;
    d->b = hh_kite_broker(d->k);
    d->b.ops->set_sink(d->b.impl, on_report, d);
    hh_kite_set_wake(d->k, on_wake, d);
    return start ? hh_kite_start(d->k, diag) : HH_OK;
}

static void teardown(struct drv *d)
{
    hh_kite_free(d->k);
    d->k = NULL;
}

#define PX(r, p) ((hh_price_t)(r) * HH_RUPEE + (hh_price_t)(p) * HH_PAISA)

/* ---- scenarios ------------------------------------------------------------------ */

/* Place, fill, modify, cancel, stop orders, queries, rejections. */
static void s_basic(struct drv *d)
{
    struct hh_order_req q;
    struct hh_broker_order v, rows[64];
    struct hh_broker_position pos[16];
    struct hh_kite_trade tr[16];
    struct hh_kite_margin m;
    struct hh_order_req legs[2];
    struct hh_diag diag;
    hh_money_t funds = 0;
    uint64_t id1 = 0, id2 = 0, id3 = 0, idx = 0;
    size_t n;
    int rc;
    struct json_object *c;
    int64_t placements;

    q = req(d, "b1m", "RELIANCE", HH_BUY, HH_ORD_MARKET, 5, 0, 0);
    rc = place(d, &q, &id1);
    check(d, rc == HH_OK && id1, "MARKET placed (rc %d, %s)", rc, hh_kite_errmsg(d->k));
    check(d, wait_for(d, is_done, &id1, 5000) && track_of(d, id1)->filled == 5,
          "MARKET: ACK and FILL of 5 reported");
    check(d, track_of(d, id1)->acks == 1, "exactly one ACK");
    rc = d->b.ops->status(d->b.impl, id1, &v);
    check(d, rc == HH_OK && v.state == HH_OS_FILLED && v.filled == 5 && v.avg_price > 0,
          "status: FILLED 5 at %lld", (long long)v.avg_price);
    rc = d->b.ops->find(d->b.impl, "b1m", &v);
    check(d, rc == HH_OK && v.order_id == id1 && !strcmp(v.client_id, "b1m"),
          "find by tag gives the same order");
    check(d, d->b.ops->find(d->b.impl, "nosuchtag", &v) == HH_ENOTFOUND,
          "find: an unknown tag is HH_ENOTFOUND");

    q = req(d, "b1l", "INFY", HH_BUY, HH_ORD_LIMIT, 10, PX(1000, 0), 0);
    rc = place(d, &q, &id2);
    check(d, rc == HH_OK && wait_for(d, is_acked, &id2, 5000), "LIMIT far below: working");
    rc = d->b.ops->modify(d->b.impl, id2, 0, PX(1001, 5), 0);
    check(d, rc == HH_OK, "modify price (rc %d %s)", rc, hh_kite_errmsg(d->k));
    rc = d->b.ops->modify(d->b.impl, id2, 20, 0, 0);
    pump_for(d, 1500);
    check(d, rc == HH_OK && track_of(d, id2)->qty == 20, "modify quantity: MODIFIED to 20");
    rc = d->b.ops->status(d->b.impl, id2, &v);
    check(d, rc == HH_OK && v.limit == PX(1001, 5) && v.qty == 20, "status shows 1001.05 x 20");
    rc = d->b.ops->cancel(d->b.impl, id2);
    check(d, rc == HH_OK && wait_for(d, is_done, &id2, 5000) &&
                 track_of(d, id2)->end == HH_RPT_CANCELLED,
          "cancel: CANCELLED reported");
    rc = d->b.ops->cancel(d->b.impl, id2);
    check(d, rc == HH_ESTATE, "cancel again: too late (HH_ESTATE, got %d)", rc);

    q = req(d, "b1s", "RELIANCE", HH_SELL, HH_ORD_STOP, 5, 0, PX(100, 0));
    rc = place(d, &q, &id3);
    check(d, rc == HH_OK && wait_for(d, is_acked, &id3, 5000), "SL-M far below: working");
    rc = d->b.ops->modify(d->b.impl, id3, 0, 0, PX(101, 0));
    pump_for(d, 500);
    check(d, rc == HH_OK && d->b.ops->status(d->b.impl, id3, &v) == HH_OK &&
                 v.trigger == PX(101, 0),
          "SL-M trigger moved (modify carries market_protection: checked below)");
    check(d, d->b.ops->cancel(d->b.impl, id3) == HH_OK && wait_for(d, is_done, &id3, 5000),
          "SL-M cancelled");

    rc = d->b.ops->orders(d->b.impl, rows, 64, &n);
    check(d, rc == HH_OK && n == 3, "orders: 3 rows (%zu)", n);
    rc = d->b.ops->positions(d->b.impl, pos, 16, &n);
    check(d, rc == HH_OK && n == 1 && pos[0].iid == iid_of(d, "RELIANCE") && pos[0].qty == 5,
          "positions: RELIANCE +5");
    c = ctl(d, "check", NULL);
    check(d, server_pos(c, "RELIANCE") == 5, "server: RELIANCE +5");
    placements = jint(c, "placements");
    json_object_put(c);
    rc = d->b.ops->funds(d->b.impl, &funds);
    check(d, rc == HH_OK && funds > 0, "funds: %lld", (long long)funds);
    rc = hh_kite_trades(d->k, tr, 16, &n, true);
    check(d, rc == HH_OK && n == 1 && tr[0].qty == 5 && tr[0].order_id == id1 &&
                 tr[0].ts != HH_TIME_NONE,
          "trades: one execution of 5");
    rc = hh_kite_trades(d->k, tr, 16, &n, true);
    check(d, rc == HH_OK && n == 0, "trades: nothing new the second time");
    legs[0] = req(d, "x", "NIFTY26JAN24000CE", HH_BUY, HH_ORD_LIMIT, 65, PX(150, 0), 0);
    legs[1] = req(d, "x", "NIFTY26JANFUT", HH_SELL, HH_ORD_MARKET, 65, 0, 0);
    rc = hh_kite_basket_margin(d->k, legs, 2, &m, &diag);
    check(d, rc == HH_OK && m.initial > 0 && m.final > 0 && m.option_premium == PX(9750, 0),
          "basket margin: initial %lld, premium %lld", (long long)m.initial,
          (long long)m.option_premium);

    q = req(d, "Bad.Tag", "RELIANCE", HH_BUY, HH_ORD_MARKET, 1, 0, 0);
    check(d, place(d, &q, &idx) == HH_EINVAL, "a tag outside [a-z0-9] is refused");
    q = req(d, "b1i", "NIFTY 50", HH_BUY, HH_ORD_MARKET, 1, 0, 0);
    check(d, place(d, &q, &idx) == HH_EINVAL, "an index is not tradable");
    c = ctl(d, "check", NULL);
    check(d, jint(c, "placements") == placements, "refused before any request");
    json_object_put(c);
    q = req(d, "b1r", "NIFTY26JANFUT", HH_BUY, HH_ORD_MARKET, 10, 0, 0);
    rc = place(d, &q, &idx);
    check(d, rc == HH_EBROKER && strstr(hh_kite_errmsg(d->k), "lot size"),
          "InputException: rejected with the broker's message (%s)", hh_kite_errmsg(d->k));
    check(d, !strstr(hh_kite_errmsg(d->k), "testtoken") && !strstr(hh_kite_errmsg(d->k),
                                                                    "testkey"),
          "no secret in the message");
    check(d, d->bad_reports == 0, "every report consistent (%s)", d->bad_first);
    server_checks(d, "basic");
}

/* A burst of 100 placements: paced, never more than 10 in any second. */
static void s_burst(struct drv *d)
{
    int64_t start = now_ms();
    int ok = 0;

    for (int i = 0; i < 100; i++) {
        char tag[16];
        struct hh_order_req q;
        uint64_t id;

        snprintf(tag, sizeof tag, "u%d", i);
        q = req(d, tag, "INFY", HH_BUY, HH_ORD_LIMIT, 1, PX(900, 0), 0);
        ok += place(d, &q, &id) == HH_OK;
    }
    check(d, ok == 100, "100 placements accepted (%d)", ok);
    check(d, now_ms() - start >= 9900, "the burst took %lld ms (>= 9900)",
          (long long)(now_ms() - start));
    server_checks(d, "burst");
}

/* Placements with unknown outcomes are looked up, never placed twice. */
static int place_engine_like(struct drv *d, int intent, const char *sym, enum hh_side side,
                             hh_qty_t qty, uint64_t *id)
{
    for (int attempt = 1; attempt <= 6; attempt++) {
        char tag[HH_CLIENT_ID_MAX];
        struct hh_order_req q;
        int rc;

        snprintf(tag, sizeof tag, "f%ua%u", (unsigned)intent % 10000u, (unsigned)attempt % 10u);
        q = req(d, tag, sym, side, HH_ORD_MARKET, qty, 0, 0);
        for (int tries = 0; tries < 5; tries++) {
            rc = place(d, &q, id);
            if (rc != HH_EUNAVAIL)
                break;
            pump_for(d, 300);           /* not processed: the same tag again */
        }
        if (rc == HH_OK || rc == HH_EBROKER)
            return rc;
        /* unknown outcome: find first, for as long as the book may lag */
        for (int look = 0; look < 6; look++) {
            struct hh_broker_order v;

            pump_for(d, 500);
            if (d->b.ops->find(d->b.impl, tag, &v) == HH_OK) {
                *id = v.order_id;
                remember(d, &q, v.order_id);
                return HH_OK;
            }
        }
        /* not there: given up; the next attempt has a new tag */
    }
    return HH_ETIMEOUT;
}

/* The engine's poll: the book's rows (reports follow from them). */
static void poll_book(struct drv *d)
{
    struct hh_broker_order rows[MAX_ORDERS];
    size_t n;

    d->b.ops->orders(d->b.impl, rows, MAX_ORDERS, &n);
}

static bool all_done(struct drv *d, const void *arg)
{
    (void)arg;
    for (int i = 0; i < d->nt; i++)
        if (!d->t[i].done)
            return false;
    return true;
}

static hh_qty_t net_of(struct drv *d, hh_iid_t iid)
{
    hh_qty_t q = 0;

    for (int i = 0; i < d->nt; i++)
        if (d->t[i].iid == iid)
            q += d->t[i].side == HH_BUY ? d->t[i].filled : -d->t[i].filled;
    return q;
}

/* Engine-like trading through the server's faults; `injected`: the server
 * was started with call faults (429, 503, placements), not only socket
 * ones, and they must have fired. */
static void trade_through(struct drv *d, bool injected)
{
    struct hh_broker_position pos[16];
    struct hh_kite_stats st;
    struct json_object *c;
    hh_qty_t mine, theirs = 0;
    int placed = 0, rejected = 0;
    size_t n = 0;

    for (int i = 0; i < 30; i++) {
        uint64_t id;
        int rc = place_engine_like(d, i, "RELIANCE", i % 3 == 2 ? HH_SELL : HH_BUY, 1 + i % 4,
                                   &id);

        placed += rc == HH_OK;
        rejected += rc == HH_EBROKER;
        pump_for(d, 100);
    }
    check(d, placed + rejected == 30 && placed >= 20,
          "placements made it through the faults (%d of 30, %d refused)", placed, rejected);
    for (int round = 0; round < 15 && !all_done(d, NULL); round++) {
        poll_book(d);
        pump_for(d, 2000);
    }
    check(d, all_done(d, NULL), "every order reached its end through lost updates");
    for (int i = 0; i < d->nt; i++)
        if (!d->t[i].done)
            printf("# not ended: %s id %llu qty %lld filled %lld acks %d\n", d->t[i].tag,
                   (unsigned long long)d->t[i].id, (long long)d->t[i].qty,
                   (long long)d->t[i].filled, d->t[i].acks);
    check(d, d->bad_reports == 0, "reports consistent: %d bad (%s)", d->bad_reports,
          d->bad_first);
    mine = net_of(d, iid_of(d, "RELIANCE"));
    n = 0;
    for (int i = 0; i < 5 && d->b.ops->positions(d->b.impl, pos, 16, &n) != HH_OK; i++)
        pump_for(d, 300);               /* a 503 fault: ask again */
    check(d, n <= 16, "positions answer");
    for (size_t i = 0; i < n; i++)
        if (pos[i].iid == iid_of(d, "RELIANCE"))
            theirs = pos[i].qty;
    c = ctl(d, "check", NULL);
    check(d, mine == theirs && mine == server_pos(c, "RELIANCE"),
          "positions equal: reports %lld, adapter %lld, server %lld", (long long)mine,
          (long long)theirs, (long long)server_pos(c, "RELIANCE"));
    if (injected)
        check(d, jint(c, "faults") > 0 && jint(c, "limited") > 0,
              "faults fired (%lld) and 429s answered (%lld)", (long long)jint(c, "faults"),
              (long long)jint(c, "limited"));
    else
        check(d, jint(c, "ws_cuts") > 0, "the socket was cut %lld times",
              (long long)jint(c, "ws_cuts"));
    json_object_put(c);
    hh_kite_stats(d->k, &st);
    if (injected)
        check(d, st.unknown_outcomes > 0 && st.rate_limited > 0,
              "the adapter saw unknown outcomes (%llu) and 429s (%llu)",
              (unsigned long long)st.unknown_outcomes, (unsigned long long)st.rate_limited);
    else
        check(d, st.ws_drops > 0 && st.ws_connects > st.ws_drops,
              "the adapter reconnected after each cut (%llu drops, %llu connects)",
              (unsigned long long)st.ws_drops, (unsigned long long)st.ws_connects);
    server_checks(d, injected ? "faults" : "cuts");
}

static void s_faults(struct drv *d)
{
    trade_through(d, true);
}

static void s_cuts(struct drv *d)
{
    trade_through(d, false);
}

static int write_secret(struct drv *d, const char *name, const char *value)
{
    char tmp[600], path[600];
    FILE *f;

    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", d->dir, name);
    snprintf(path, sizeof path, "%s/%s", d->dir, name);
    umask(077);
    if (!(f = fopen(tmp, "w")))
        return -1;
    fprintf(f, "%s\n", value);
    fclose(f);
    return rename(tmp, path);
}

/* TokenException stops order calls until the token file changes. */
static void s_token(struct drv *d)
{
    struct hh_order_req q;
    struct hh_kite_stats st;
    struct json_object *c;
    uint64_t id;
    int64_t calls;
    int rc;

    q = req(d, "t1", "INFY", HH_BUY, HH_ORD_LIMIT, 1, PX(900, 0), 0);
    check(d, place(d, &q, &id) == HH_OK, "placed with the first token");
    json_object_put(ctl(d, "expire_token", ""));
    q = req(d, "t2", "INFY", HH_BUY, HH_ORD_LIMIT, 1, PX(900, 0), 0);
    rc = place(d, &q, &id);
    check(d, rc == HH_EAUTH, "expired token: HH_EAUTH (%d: %s)", rc, hh_kite_errmsg(d->k));
    hh_kite_stats(d->k, &st);
    check(d, st.auth_blocked, "order flow stopped");
    c = ctl(d, "check", NULL);
    calls = jint(c, "order_calls");
    json_object_put(c);
    q = req(d, "t3", "INFY", HH_BUY, HH_ORD_LIMIT, 1, PX(900, 0), 0);
    rc = place(d, &q, &id);
    c = ctl(d, "check", NULL);
    check(d, rc == HH_EAUTH && jint(c, "order_calls") == calls,
          "blocked: refused without a request");
    json_object_put(c);
    write_secret(d, "access_token", "secondtoken");
    json_object_put(ctl(d, "token", "access_token=secondtoken"));
    q = req(d, "t4", "INFY", HH_BUY, HH_ORD_LIMIT, 1, PX(900, 0), 0);
    rc = place(d, &q, &id);
    hh_kite_stats(d->k, &st);
    check(d, rc == HH_OK && !st.auth_blocked && st.secret_reloads >= 1,
          "a new token file: order flow resumes (rc %d, reloads %llu)", rc,
          (unsigned long long)st.secret_reloads);
    server_checks(d, "token");
}

/* The broker cancels an order; a position is closed by hand. */
static void s_external(struct drv *d)
{
    struct hh_order_req q;
    struct hh_broker_position pos[16];
    struct hh_broker_order rows[64];
    struct json_object *c;
    uint64_t id1, id2;
    size_t n, foreign = 0;
    bool flat = true;

    q = req(d, "e1", "RELIANCE", HH_BUY, HH_ORD_MARKET, 10, 0, 0);
    check(d, place(d, &q, &id1) == HH_OK && wait_for(d, is_done, &id1, 5000), "bought 10");
    q = req(d, "e2", "INFY", HH_BUY, HH_ORD_LIMIT, 3, PX(900, 0), 0);
    check(d, place(d, &q, &id2) == HH_OK && wait_for(d, is_acked, &id2, 5000), "a working LIMIT");
    json_object_put(ctl(d, "cancel", "symbol=INFY"));
    check(d, wait_for(d, is_done, &id2, 6000) && track_of(d, id2)->end == HH_RPT_CANCELLED &&
                 strstr(track_of(d, id2)->reason, "exchange"),
          "the broker's cancel reported (%s)", track_of(d, id2)->reason);
    json_object_put(ctl(d, "close_position", "symbol=RELIANCE"));
    check(d, d->b.ops->positions(d->b.impl, pos, 16, &n) == HH_OK, "positions answer");
    for (size_t i = 0; i < n; i++)
        flat &= pos[i].iid != iid_of(d, "RELIANCE");
    c = ctl(d, "check", NULL);
    check(d, flat && server_pos(c, "RELIANCE") == 0, "closed by hand: flat at both");
    json_object_put(c);
    d->b.ops->orders(d->b.impl, rows, 64, &n);
    for (size_t i = 0; i < n; i++)
        foreign += rows[i].client_id[0] == '\0';
    check(d, foreign == 1, "the hand-made order is in the book without a tag (%zu)", foreign);
    check(d, d->bad_reports == 0, "reports consistent (%s)", d->bad_first);
    server_checks(d, "external");
}

static int count_ticks(struct drv *d, hh_iid_t *seen, int nseen, int ms, int *other)
{
    struct hh_tick t;
    int64_t end = now_ms() + ms;
    int got = 0;

    *other = 0;
    while (now_ms() < end) {
        while (hh_kite_next_tick(d->k, &t) == 1) {
            bool mine = false;

            for (int i = 0; i < nseen; i++)
                mine |= t.iid == seen[i];
            got += mine && t.price > 0;
            *other += !mine;
        }
        pump_for(d, 20);
    }
    return got;
}

/* Ticks, gaps, reconnects, subscription changes. */
static void s_ticks(struct drv *d)
{
    hh_iid_t want[3] = { iid_of(d, "RELIANCE"), iid_of(d, "INFY"), iid_of(d, "NIFTY 50") };
    hh_iid_t one[1] = { iid_of(d, "INFY") }, silent[2] = { iid_of(d, "INFY"), iid_of(d, "TCS") };
    struct hh_kite_md_status ms;
    struct hh_kite_stats st;
    struct hh_diag diag;
    struct hh_tick t;
    int other, got;
    int64_t end;

    check(d, hh_kite_subscribe(d->k, want, 3, HH_KITE_FULL, &diag) == HH_OK, "subscribed");
    got = count_ticks(d, want, 3, 2500, &other);
    check(d, got >= 10 && other == 0, "ticks of the subscribed instruments (%d)", got);
    hh_kite_md_status(d->k, hh_kite__now(d->k), NULL, &ms);
    check(d, ms.connected && ms.ready && ms.subscribed == 3, "market data ready (%s)", ms.why);
    while (hh_kite_next_tick(d->k, &t) == 1)
        ;
    json_object_put(ctl(d, "ws_drop", ""));
    end = now_ms() + 1000;
    do {
        pump_for(d, 20);
        hh_kite_md_status(d->k, hh_kite__now(d->k), NULL, &ms);
    } while (ms.connected && now_ms() < end);
    check(d, !ms.ready, "socket cut: market data not ready (%s)", ms.why);
    end = now_ms() + 5000;
    do {
        pump_for(d, 50);
        hh_kite_md_status(d->k, hh_kite__now(d->k), NULL, &ms);
    } while (!ms.ready && now_ms() < end);
    hh_kite_stats(d->k, &st);
    check(d, ms.ready && st.ws_drops >= 1 && st.ws_connects >= 2,
          "reconnected and resubscribed (drops %llu, connects %llu)",
          (unsigned long long)st.ws_drops, (unsigned long long)st.ws_connects);
    check(d, hh_kite_subscribe(d->k, one, 1, HH_KITE_LTP, &diag) == HH_OK, "now INFY only");
    count_ticks(d, one, 1, 500, &other);
    got = count_ticks(d, one, 1, 1500, &other);
    check(d, got > 0 && other == 0, "only INFY ticks (%d, others %d)", got, other);
    check(d, hh_kite_subscribe(d->k, silent, 2, HH_KITE_QUOTE, &diag) == HH_OK,
          "INFY and TCS (which never trades here)");
    count_ticks(d, one, 1, 2500, &other);
    hh_kite_md_status(d->k, hh_kite__now(d->k), NULL, &ms);
    check(d, !ms.ready && ms.stale == 1 && ms.first_stale == iid_of(d, "TCS"),
          "a silent instrument is a gap (%s)", ms.why);
    check(d, ms.gaps >= 1, "gaps counted (%llu)", (unsigned long long)ms.gaps);
    hh_kite_stats(d->k, &st);
    check(d, st.bad_frames == 0 && st.ticks > 0, "no malformed frames, %llu ticks",
          (unsigned long long)st.ticks);
}

/* Above the freeze quantity: slices with their own tags, one engine order. */
static void s_slices(struct drv *d)
{
    struct hh_order_req q;
    struct hh_broker_order v;
    struct json_object *c;
    uint64_t id, id2;
    int rc;

    q = req(d, "s1", "NIFTY26JANFUT", HH_BUY, HH_ORD_MARKET, 3900, 0, 0);
    rc = place(d, &q, &id);
    check(d, rc == HH_OK, "3900 units placed (rc %d %s)", rc, hh_kite_errmsg(d->k));
    check(d, wait_for(d, is_done, &id, 6000) && track_of(d, id)->filled == 3900,
          "filled 3900 as one engine order (%lld)", (long long)track_of(d, id)->filled);
    rc = d->b.ops->find(d->b.impl, "s1", &v);
    check(d, rc == HH_OK && v.order_id == id && v.qty == 3900 && v.filled == 3900 &&
                 v.state == HH_OS_FILLED,
          "find: the slices aggregated (qty %lld)", (long long)v.qty);
    c = ctl(d, "check", NULL);
    check(d, jint(c, "created") == 3 && server_pos(c, "NIFTY26JANFUT") == 3900,
          "server: 3 orders (%lld), position 3900", (long long)jint(c, "created"));
    json_object_put(c);

    q = req(d, "s2", "NIFTY26JANFUT", HH_BUY, HH_ORD_LIMIT, 3900, PX(20000, 0), 0);
    rc = place(d, &q, &id2);
    check(d, rc == HH_OK && wait_for(d, is_acked, &id2, 5000), "a sliced LIMIT works");
    rc = d->b.ops->modify(d->b.impl, id2, 1820, 0, 0);
    pump_for(d, 1500);
    rc |= d->b.ops->status(d->b.impl, id2, &v);
    check(d, rc == HH_OK && v.qty == 1820 && track_of(d, id2)->qty == 1820,
          "reduced to 1820: taken off the last slices (view %lld)", (long long)v.qty);
    check(d, d->b.ops->modify(d->b.impl, id2, 5000, 0, 0) == HH_ERANGE,
          "a sliced order cannot grow");
    check(d, d->b.ops->cancel(d->b.impl, id2) == HH_OK && wait_for(d, is_done, &id2, 5000) &&
                 track_of(d, id2)->end == HH_RPT_CANCELLED,
          "cancel: every slice, one CANCELLED");
    check(d, d->bad_reports == 0, "reports consistent (%s)", d->bad_first);
    server_checks(d, "slices");
}

/* A second adapter (a restarted engine) finds everything by tag. */
static void s_restart(struct drv *d)
{
    struct hh_order_req q;
    struct hh_broker_order v, rows[64];
    struct hh_diag diag;
    uint64_t a, b2;
    size_t n;
    int rc;

    q = req(d, "r1", "NIFTY26JANFUT", HH_BUY, HH_ORD_MARKET, 3900, 0, 0);
    check(d, place(d, &q, &a) == HH_OK && wait_for(d, is_done, &a, 6000), "sliced and filled");
    q = req(d, "r2", "INFY", HH_SELL, HH_ORD_LIMIT, 4, PX(5000, 0), 0);
    check(d, place(d, &q, &b2) == HH_OK && wait_for(d, is_acked, &b2, 5000), "a working LIMIT");
    teardown(d);
    d->nt = 0;
    hh_u64map_free(&d->execs);
    hh_u64map_init(&d->execs, 64);
    rc = setup(d, true, &diag);
    check(d, rc == HH_OK, "restarted (%s)", rc ? diag.msg : "");
    pump_for(d, 1500);
    check(d, track_of(d, a) && track_of(d, a)->filled == 3900 && track_of(d, b2) &&
                 track_of(d, b2)->acks == 1,
          "reports rebuilt from the book after the restart");
    rc = d->b.ops->find(d->b.impl, "r1", &v);
    check(d, rc == HH_OK && v.order_id == a && v.qty == 3900, "find r1: 3 slices as one");
    rc = d->b.ops->status(d->b.impl, b2, &v);
    check(d, rc == HH_OK && v.state == HH_OS_OPEN && v.qty == 4, "status of r2: working");
    rc = d->b.ops->orders(d->b.impl, rows, 64, &n);
    check(d, rc == HH_OK && n == 2, "orders: 2 engine orders (%zu)", n);
    check(d, d->b.ops->cancel(d->b.impl, b2) == HH_OK && wait_for(d, is_done, &b2, 5000),
          "cancelled after the restart");
    server_checks(d, "restart");
}

/* TLS: the test CA only when configured. */
static void s_https(struct drv *d)
{
    struct hh_diag diag;
    struct hh_order_req q;
    struct hh_kite_stats st;
    hh_iid_t want[1] = { iid_of(d, "INFY") };
    const char *ca = d->ca;
    uint64_t id;
    int other, rc;

    teardown(d);
    rc = setup(d, true, &diag);
    check(d, rc == HH_OK, "https with the test CA: started (%s)", rc ? diag.msg : "");
    if (rc)
        return;
    q = req(d, "h1", "INFY", HH_BUY, HH_ORD_MARKET, 1, 0, 0);
    check(d, place(d, &q, &id) == HH_OK && wait_for(d, is_done, &id, 5000), "order over TLS");
    hh_kite_subscribe(d->k, want, 1, HH_KITE_LTP, &diag);
    check(d, count_ticks(d, want, 1, 2000, &other) > 0, "ticks over wss");
    teardown(d);
    d->ca = NULL;
    rc = setup(d, true, &diag);
    check(d, rc == HH_EUNAVAIL, "without the CA: refused (%d: %s)", rc, diag.msg);
    if (rc == HH_OK || rc == HH_EUNAVAIL) {
        if (!d->k)
            setup(d, false, &diag);
        if (d->k) {
            hh_kite_start(d->k, &diag);
            pump_for(d, 1500);
            hh_kite_stats(d->k, &st);
            check(d, st.ws_connects == 0, "without the CA the socket never connects");
        }
    }
    d->ca = ca;
}

/* A certificate from the trusted CA but for another name: refused by the
 * REST calls and by the socket alike. */
static void s_badname(struct drv *d)
{
    struct hh_diag diag;
    struct hh_order_req q;
    struct hh_kite_stats st;
    uint64_t id;
    int rc;

    teardown(d);
    d->account = NULL;                  /* no profile check: start regardless */
    rc = setup(d, true, &diag);
    check(d, rc == HH_OK, "started without an account check");
    if (rc)
        return;
    q = req(d, "n1", "INFY", HH_BUY, HH_ORD_MARKET, 1, 0, 0);
    rc = place(d, &q, &id);
    check(d, rc == HH_EUNAVAIL, "REST: a certificate for another name refused (%d: %s)", rc,
          hh_kite_errmsg(d->k));
    pump_for(d, 2000);
    hh_kite_stats(d->k, &st);
    check(d, st.ws_connects == 0, "socket: never connected (%llu)",
          (unsigned long long)st.ws_connects);
}

/* Configurations refused before any request. */
static void s_config(struct drv *d)
{
    struct hh_kite_config cfg;
    struct hh_kite *k = NULL;
    struct hh_diag diag;
    char key[512], tok[512], loose[512];
    FILE *f;

    snprintf(key, sizeof key, "%s/api_key", d->dir);
    snprintf(tok, sizeof tok, "%s/access_token", d->dir);
    snprintf(loose, sizeof loose, "%s/loose_token", d->dir);
    hh_kite_config_defaults(&cfg);
    cfg.api_key_file = key;
    cfg.access_token_file = tok;
    cfg.api_url = "http://api.kite.trade";
    check(d, hh_kite_new(&cfg, d->inst, &k, &diag) == HH_ECONFIG && strstr(diag.msg, "loopback"),
          "http:// off loopback refused (%s)", diag.msg);
    cfg.api_url = d->url;
    cfg.ws_url = "ws://10.1.2.3:80";
    check(d, hh_kite_new(&cfg, d->inst, &k, &diag) == HH_ECONFIG, "ws:// off loopback refused");
    cfg.ws_url = NULL;
    cfg.market_protection = 0;
    check(d, hh_kite_new(&cfg, d->inst, &k, &diag) == HH_ECONFIG, "market_protection 0 refused");
    cfg.market_protection = -1;
    f = fopen(loose, "w");
    fprintf(f, "loosetoken\n");
    fclose(f);
    chmod(loose, 0644);
    cfg.access_token_file = loose;
    check(d, hh_kite_new(&cfg, d->inst, &k, &diag) == HH_ECONFIG &&
                 strstr(diag.msg, "group or others") && !strstr(diag.msg, "loosetoken"),
          "a token file readable by others refused (%s)", diag.msg);
    chmod(loose, 0600);
    f = fopen(loose, "w");
    fprintf(f, "bad token\n");
    fclose(f);
    check(d, hh_kite_new(&cfg, d->inst, &k, &diag) == HH_ECONFIG && !strstr(diag.msg, "bad"),
          "a token that is not one word refused, unechoed (%s)", diag.msg);
    cfg.access_token_file = "/nonexistent/token";
    check(d, hh_kite_new(&cfg, d->inst, &k, &diag) == HH_ECONFIG, "a missing file refused");
    cfg.access_token_file = tok;
    check(d, hh_kite_new(&cfg, d->inst, &k, &diag) == HH_OK, "the good config is accepted");
    hh_kite_free(k);
    unlink(loose);
}

/* ---- main ------------------------------------------------------------------- */

static const struct {
    const char *name;
    void (*run)(struct drv *);
    bool start;
} scenarios[] = {
    { "basic", s_basic, true },     { "burst", s_burst, true },
    { "faults", s_faults, true },   { "cuts", s_cuts, true },
    { "token", s_token, true },
    { "external", s_external, true }, { "ticks", s_ticks, true },
    { "slices", s_slices, true },   { "restart", s_restart, true },
    { "https", s_https, false },    { "badname", s_badname, false },
    { "config", s_config, false },
};

static int args(int argc, char **argv, struct drv *d)
{
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--url"))
            d->url = argv[i + 1];
        else if (!strcmp(argv[i], "--dir"))
            d->dir = argv[i + 1];
        else if (!strcmp(argv[i], "--ca"))
            d->ca = argv[i + 1];
        else if (!strcmp(argv[i], "--timeout-ms"))
            d->timeout_ms = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--instruments") && d->ninst < 4)
            d->inst_files[d->ninst++] = argv[i + 1];
        else
            return -1;
    }
    return d->url && d->dir && d->ninst ? 0 : -1;
}

int main(int argc, char **argv)
{
    static struct drv d;
    struct hh_diag diag = { "" };
    int which = -1, rc;

    d.timeout_ms = 2000;
    d.account = "AB1234";
    for (size_t i = 0; argc > 1 && i < sizeof scenarios / sizeof scenarios[0]; i++)
        if (!strcmp(argv[1], scenarios[i].name))
            which = (int)i;
    if (which < 0 || args(argc, argv, &d)) {
        fprintf(stderr, "usage: kite_drive basic|burst|faults|cuts|token|external|ticks|slices|"
                        "restart|https|badname|config --url URL --dir DIR --instruments FILE... "
                        "[--ca FILE] [--timeout-ms N]\n");
        return 2;
    }
    pthread_mutex_init(&d.mu, NULL);
    pthread_cond_init(&d.cv, NULL);
    hh_u64map_init(&d.execs, 64);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    d.ctl = curl_easy_init();
    d.inst = hh_inst_new();
    for (int i = 0; i < d.ninst; i++) {
        if (hh_inst_load(d.inst, d.inst_files[i], NULL, &diag)) {
            fprintf(stderr, "kite_drive: %s\n", diag.msg);
            return 2;
        }
    }
    rc = setup(&d, scenarios[which].start, &diag);
    check(&d, rc == HH_OK, "%s: adapter up (%s)", scenarios[which].name, rc ? diag.msg : "");
    if (rc == HH_OK)
        scenarios[which].run(&d);
    teardown(&d);
    hh_inst_free(d.inst);
    hh_u64map_free(&d.execs);
    curl_easy_cleanup(d.ctl);
    curl_global_cleanup();
    printf("# %s: %d checks, %d failed\n", scenarios[which].name, d.checks, d.failed);
    return d.failed ? 1 : 0;
}
