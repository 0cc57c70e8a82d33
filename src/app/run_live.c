/*
 * run_live.c — `hedgehog run` with Zerodha Kite Connect (SPEC §13): the
 * adapter (broker/kite.h) as the run's broker (`--mode live`), its tick
 * stream as the run's market data (`market_data.kind: kite`, any mode), the
 * live clock (the wall's; a rehearsal's from --clock-start), and what the
 * adapter says of its health as logs, alerts and the entry hold.
 *
 *   Kite REST ◀── order calls, queries (core thread) ── the engine
 *   Kite socket ──▶ socket thread ─ticks─▶ ring ──▶ md source (the loop)
 *                   book reader ──rows──▶ broker pump (the engine's source)
 *
 * The adapter's threads wake the core through the feed hub; the core never
 * blocks on them.  Ticks and reports carry the adapter's clock: the live
 * clock when ticks come from Kite, else a copy of the engine's clock (the
 * replayed file's time), which the core publishes before every event.
 *
 * The broker the engine sees forwards every operation to the adapter,
 * keeping the positions each reconciliation listed: the operations API's
 * broker_qty and the flatten's "flat" are the broker's word, not ours.
 * A reconciliation reads the order book, then the positions: two requests,
 * between which a fill may happen at Kite — positions already without the
 * units an order book still shows working, which the reconciler would take
 * for units closed outside the engine and give up a second time when the
 * fill's report comes.  So the order book is read around the positions
 * until both readings agree (a consistent snapshot).
 */
#include "app/run.h"
#include "broker/kite.h"
#include "core/grow.h"

#include <ctype.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Engine time moves at least this often without a tick (timers, polls). */
#define CLOCK_STEP (20 * HH_NS_PER_MS)
/* The adapter's health is looked at this often (wall time). */
#define WATCH_EVERY (100 * HH_NS_PER_MS)
/* Readings of the order book around the positions before giving up on a
 * consistent snapshot (the poll fails; the next one tries again). */
#define SNAPSHOT_TRIES 4
/* A stopping run waits this long at most (wall time) for its orders in
 * flight: SPEC §10 gives 30 s to exit, the rest is for the last poll, the
 * checkpoint and the outputs.  It looks every STOP_STEP. */
#define STOP_BOUND (15 * HH_NS_PER_S)
#define STOP_STEP (100 * HH_NS_PER_MS)

struct run_live {
    struct hh_kite *k;
    struct hh_broker inner;           /* the adapter's operations */
    bool md_kite;                     /* ticks from the socket */
    bool broker;                      /* --mode live: the adapter is the broker */
    int64_t offset;                   /* ns added to the wall clock (rehearsal) */
    _Atomic hh_time_t mirror;         /* file market data: the engine's clock */
    hh_qty_t *bpos;                   /* by iid: the broker's net position as
                                         the last listing said */
    size_t ninst;
    struct hh_broker_order *oa, *ob;  /* the order book before and after ... */
    size_t oa_cap, ob_cap;
    struct hh_broker_position *pa;    /* ... these positions (snap: not yet */
    size_t pa_cap, npa;               /* handed to the engine) */
    bool snap;
    struct hh_tick tick;              /* the tick taken next (tick_held) */
    bool tick_held;
    hh_time_t step_to;                /* else: the clock's next step */
    bool *listed;                     /* by iid: market_data.symbols (always wanted) */
    bool *want;                       /* by iid: subscribed */
    bool *need;                       /* by iid: scratch for the next subscription */
    bool *warned;                     /* by iid: needed without a token, logged */
    bool subs_set;                    /* a subscription was sent */
    bool auth_blocked;                /* the token was refused (as last seen) */
    bool md_ready;                    /* market data fit for entries */
    char md_why[128];                 /* when not */
    int64_t watched;                  /* monotonic ns of the last watch */
};

static hh_time_t now_of(const struct run *R)
{
    return R->clock.now;
}

static int64_t mono_ns(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * HH_NS_PER_S + t.tv_nsec;
}

static hh_time_t wall_ns(void)
{
    struct timespec t;

    clock_gettime(CLOCK_REALTIME, &t);
    return (hh_time_t)t.tv_sec * HH_NS_PER_S + t.tv_nsec;
}

/* The live clock: the wall's, shifted by a rehearsal's offset.  Any thread. */
static hh_time_t live_now(void *ctx)
{
    const struct run_live *L = ctx;

    return wall_ns() + L->offset;
}

/* The adapter's stamps with file market data: the engine's time. */
static hh_time_t mirror_now(void *ctx)
{
    struct run_live *L = ctx;

    return atomic_load(&L->mirror);
}

static void wake_hub(void *ctx)
{
    hh_feed_hub_wake(ctx);
}

/* ---- the checks before anything is opened ------------------------------------------------ */

static bool kite_needed(const struct run *R)
{
    return !strcmp(R->mode, "live") || R->w.cfg.market_data.kind == HH_CONFIG_MD_KITE;
}

/* --clock-start: a rehearsal against a test broker only (SPEC §13). */
static int check_clock_start(struct run *R, hh_time_t *ts)
{
    const struct hh_config *c = &R->w.cfg;
    const char *why = "";

    if (!R->clock_start)
        return HH_OK;
    if (c->market_data.kind != HH_CONFIG_MD_KITE)
        return hh_diag_set(&R->d, HH_EINVAL, "--clock-start: only with market_data.kind: kite "
                           "(with --ticks or --bars the engine's clock is the file's)");
    if (!hh_config_url_loopback(c->broker.kite.api_url) ||
        (c->broker.kite.ws_url[0] && !hh_config_url_loopback(c->broker.kite.ws_url)))
        return hh_diag_set(&R->d, HH_EINVAL, "--clock-start: a rehearsal runs only against a "
                           "broker on a loopback address; broker.kite.api_url and ws_url must "
                           "both be on one");
    if (hh_time_parse(R->clock_start, strlen(R->clock_start), ts, &why))
        return hh_diag_set(&R->d, HH_EINVAL, "--clock-start: '%s' is not a timestamp (%s)",
                           R->clock_start, why);
    return HH_OK;
}

int run_live_check(struct run *R)
{
    const struct hh_config *c = &R->w.cfg;
    bool md_kite = c->market_data.kind == HH_CONFIG_MD_KITE;
    hh_time_t ts = HH_TIME_NONE;
    int rc;

    if (!strcmp(R->mode, "live") && c->broker.kind != HH_CONFIG_BROKER_KITE)
        return hh_diag_set(&R->d, HH_EINVAL, "--mode live needs broker.kind: kite in %s (it "
                           "says paper); nothing was started", R->config);
    if (!strcmp(R->mode, "live") && !c->broker.account[0])
        return hh_diag_set(&R->d, HH_EINVAL, "--mode live needs broker.account in %s (the "
                           "Kite user id this database trades; checked against the token's)",
                           R->config);
    if (md_kite && (R->ticks || R->bars))
        return hh_diag_set(&R->d, HH_EINVAL, "%s: market_data.kind is kite (ticks from the "
                           "socket): drop %s, or set market_data.kind: file", R->config,
                           R->ticks ? "--ticks" : "--bars");
    if ((rc = check_clock_start(R, &ts)))
        return rc;
    if (!kite_needed(R))
        return HH_OK;
    if (!(R->live = calloc(1, sizeof *R->live)))
        return hh_diag_set(&R->d, HH_ENOMEM, "out of memory");
    R->live->md_kite = md_kite;
    R->live->broker = !strcmp(R->mode, "live");
    R->live->offset = ts == HH_TIME_NONE ? 0 : ts - wall_ns();
    R->live->md_ready = true;
    return HH_OK;
}

/* ---- the broker the engine sees: the adapter, positions kept --------------------------- */

static struct hh_broker inner(void *impl)
{
    return ((struct run_live *)impl)->inner;
}

static int w_place(void *impl, const struct hh_order_req *req, uint64_t *order_id)
{
    return inner(impl).ops->place(inner(impl).impl, req, order_id);
}

static int w_modify(void *impl, uint64_t id, hh_qty_t qty, hh_price_t limit, hh_price_t trig)
{
    return inner(impl).ops->modify(inner(impl).impl, id, qty, limit, trig);
}

static int w_cancel(void *impl, uint64_t id)
{
    return inner(impl).ops->cancel(inner(impl).impl, id);
}

static void w_set_sink(void *impl, hh_report_fn fn, void *ctx)
{
    inner(impl).ops->set_sink(inner(impl).impl, fn, ctx);
}

static hh_time_t w_next_due(void *impl)
{
    return inner(impl).ops->next_due(inner(impl).impl);
}

static void w_pump(void *impl)
{
    inner(impl).ops->pump(inner(impl).impl);
}

static int w_find(void *impl, const char *client_id, struct hh_broker_order *out)
{
    return inner(impl).ops->find(inner(impl).impl, client_id, out);
}

static int w_status(void *impl, uint64_t id, struct hh_broker_order *out)
{
    return inner(impl).ops->status(inner(impl).impl, id, out);
}

/* The whole order book into *buf (grown as needed). */
static int read_orders(struct run_live *L, struct hh_broker_order **buf, size_t *cap,
                       size_t *n)
{
    for (;;) {
        int rc = L->inner.ops->orders(L->inner.impl, *buf, *cap, n);

        if (rc || *n <= *cap)
            return rc;
        if (hh_grow(buf, cap, *n, sizeof **buf))
            return HH_ENOMEM;
    }
}

static int read_positions(struct run_live *L)
{
    for (;;) {
        int rc = L->inner.ops->positions(L->inner.impl, L->pa, L->pa_cap, &L->npa);

        if (rc || L->npa <= L->pa_cap)
            return rc;
        if (hh_grow(&L->pa, &L->pa_cap, L->npa, sizeof *L->pa))
            return HH_ENOMEM;
    }
}

/* Did any order fill (or appear filled) between the two readings? */
static bool fills_moved(const struct hh_broker_order *a, size_t na,
                        const struct hh_broker_order *b, size_t nb)
{
    for (size_t i = 0; i < nb; i++) {
        hh_qty_t before = 0;

        for (size_t k = 0; k < na; k++) {
            if (a[k].order_id == b[i].order_id) {
                before = a[k].filled;
                break;
            }
        }
        if (b[i].filled != before)
            return true;
    }
    return false;
}

/* The order book, with the positions of the same instant kept for the
 * positions call that follows (see the top of the file). */
static int w_orders(void *impl, struct hh_broker_order *out, size_t cap, size_t *n)
{
    struct run_live *L = impl;
    size_t na = 0, nb = 0;
    int rc = HH_EUNAVAIL;

    L->snap = false;
    for (int i = 0; i < SNAPSHOT_TRIES; i++) {
        if ((rc = read_orders(L, &L->oa, &L->oa_cap, &na)) || (rc = read_positions(L)) ||
            (rc = read_orders(L, &L->ob, &L->ob_cap, &nb)))
            return rc;
        if (!fills_moved(L->oa, na, L->ob, nb)) {
            if (nb && cap)   /* (out may be NULL when cap is 0) */
                memcpy(out, L->ob, (nb < cap ? nb : cap) * sizeof *out);
            *n = nb;
            L->snap = true;
            return HH_OK;
        }
    }
    return HH_EUNAVAIL;   /* fills kept coming: no consistent snapshot now */
}

/* The positions of the snapshot (else read now); a complete listing
 * replaces what the documents show as the broker's. */
static int w_positions(void *impl, struct hh_broker_position *out, size_t cap, size_t *n)
{
    struct run_live *L = impl;
    int rc;

    if (!L->snap && (rc = read_positions(L)))
        return rc;
    *n = L->npa;
    if (L->npa && cap)
        memcpy(out, L->pa, (L->npa < cap ? L->npa : cap) * sizeof *out);
    if (*n > cap)
        return HH_OK;   /* the caller grows and asks again */
    L->snap = false;
    memset(L->bpos, 0, L->ninst * sizeof *L->bpos);
    for (size_t i = 0; i < *n; i++)
        if (out[i].iid < L->ninst)
            L->bpos[out[i].iid] += out[i].qty;
    return HH_OK;
}

static int w_funds(void *impl, hh_money_t *available)
{
    return inner(impl).ops->funds(inner(impl).impl, available);
}

static int w_basket_margin(void *impl, const struct hh_order_req *reqs, size_t n,
                           hh_money_t *required)
{
    return inner(impl).ops->basket_margin(inner(impl).impl, reqs, n, required);
}

static const struct hh_broker_ops live_ops = {
    .place = w_place, .modify = w_modify, .cancel = w_cancel, .set_sink = w_set_sink,
    .next_due = w_next_due, .pump = w_pump, .find = w_find, .status = w_status,
    .orders = w_orders, .positions = w_positions, .funds = w_funds,
    .basket_margin = w_basket_margin,
};

bool run_live_broker(struct run *R, struct hh_broker *out)
{
    if (!R->live || !R->live->broker)
        return false;
    *out = (struct hh_broker){ &live_ops, R->live };
    return true;
}

hh_qty_t run_broker_qty(const struct run *R, hh_iid_t iid)
{
    if (R->live && R->live->broker)
        return iid < R->live->ninst ? R->live->bpos[iid] : 0;
    return R->paper ? hh_paper_position(R->paper, iid) : hh_tm_position(R->tm, iid);
}

/* ---- opening and starting ------------------------------------------------------------------ */

/* The account's pacers are shared through a file beside the database, so a
 * restart (after kill -9 too) and every run trading the account from that
 * directory count each other's calls: <dir>/hedgehog-kite-<account>.pacer,
 * the account's characters outside [A-Za-z0-9_-] written '_'.  Shadow runs
 * without an account keep their own. */
static const char *pacer_file(const struct run *R, char *buf, size_t cap)
{
    const char *acct = R->w.cfg.broker.account, *slash = strrchr(R->db_path, '/');
    int dir = slash ? (int)(slash - R->db_path) : 1;
    size_t at;

    if (!acct[0])
        return NULL;
    at = (size_t)snprintf(buf, cap, "%.*s/hedgehog-kite-", dir, slash ? R->db_path : ".");
    if (at + 16 > cap)
        return NULL;    /* a path longer than any file system takes */
    for (const char *c = acct; *c && at + 8 < cap; c++)
        buf[at++] = isalnum((unsigned char)*c) || *c == '_' || *c == '-' ? *c : '_';
    snprintf(buf + at, cap - at, ".pacer");
    return buf;
}

static void kite_config(const struct run *R, struct hh_kite_config *kc, char *pbuf, size_t pcap)
{
    const struct hh_config *c = &R->w.cfg;
    static const enum hh_kite_product product[] = {
        [HH_CONFIG_MIS] = HH_KITE_MIS, [HH_CONFIG_NRML] = HH_KITE_NRML,
        [HH_CONFIG_CNC] = HH_KITE_CNC,
    };

    hh_kite_config_defaults(kc);
    kc->api_url = c->broker.kite.api_url;
    kc->ws_url = c->broker.kite.ws_url;
    kc->api_key_file = c->broker.kite.api_key_file;
    kc->access_token_file = c->broker.kite.access_token_file;
    kc->product = product[c->broker.kite.product];
    kc->market_protection = (int)c->broker.kite.market_protection;
    kc->orders_per_second = (int)c->broker.kite.orders_per_second;
    kc->orders_per_minute = (int)c->broker.kite.orders_per_minute;
    kc->timeout_ms = (int)(c->broker.kite.timeout / HH_NS_PER_MS);
    kc->account = c->broker.account[0] ? c->broker.account : NULL;
    kc->pacer_file = pacer_file(R, pbuf, pcap);
    kc->clock = R->live->md_kite ? live_now : mirror_now;
    kc->clock_ctx = R->live;
}

int run_live_open(struct run *R)
{
    struct run_live *L = R->live;
    struct hh_kite_config kc;
    struct hh_diag d = { "" };
    char pacer[HH_PATH_MAX + 64];
    int rc;

    if (!L)
        return HH_OK;
    L->ninst = hh_inst_count(R->w.inst);
    L->bpos = calloc(L->ninst ? L->ninst : 1, sizeof *L->bpos);
    L->listed = calloc(L->ninst ? L->ninst : 1, sizeof *L->listed);
    L->want = calloc(L->ninst ? L->ninst : 1, sizeof *L->want);
    L->need = calloc(L->ninst ? L->ninst : 1, sizeof *L->need);
    L->warned = calloc(L->ninst ? L->ninst : 1, sizeof *L->warned);
    if (!L->bpos || !L->listed || !L->want || !L->need || !L->warned)
        return hh_diag_set(&R->d, HH_ENOMEM, "out of memory");
    kite_config(R, &kc, pacer, sizeof pacer);
    if ((rc = hh_kite_new(&kc, R->w.inst, &L->k, &d)))
        return hh_diag_set(&R->d, rc, "%s: broker.kite: %s", R->config, d.msg);
    L->inner = hh_kite_broker(L->k);
    hh_kite_set_wake(L->k, wake_hub, R->hub);
    /* the book reader's reports wait for the engine's first pump */
    if ((rc = hh_kite_start(L->k, &d)))
        return hh_diag_set(&R->d, rc, "the Kite adapter cannot start: %s", d.msg);
    return HH_OK;
}

/* market_data.symbols: always subscribed (exit-2 material when unknown). */
static int want_listed(struct run *R)
{
    const struct hh_config_list *l = &R->w.cfg.market_data.symbols;

    for (int i = 0; i < l->n; i++) {
        hh_iid_t iid = hh_inst_find(R->w.inst, l->item[i], strlen(l->item[i]));
        const struct hh_instrument *in = hh_inst_get(R->w.inst, iid);

        if (!in || !in->token)
            return hh_diag_set(&R->d, HH_EINVAL, "%s: market_data.symbols: '%s' %s",
                               R->config, l->item[i], in ? "has no instrument_token (load "
                               "Zerodha's instrument dump)" : "is not an instrument");
        R->live->listed[iid] = true;
    }
    return HH_OK;
}

/* The engine's clock starts at the live clock; it never goes back. */
static int start_clock(struct run *R)
{
    hh_time_t now = live_now(R->live);
    char a[40], b[40];

    if (now_of(R) != HH_TIME_NONE && now_of(R) > now) {
        hh_time_format(now_of(R), a, sizeof a);
        hh_time_format(now, b, sizeof b);
        return hh_diag_set(&R->d, HH_EINVAL, "the database's engine time is %s, after the "
                           "live clock's %s: the engine's clock never goes back (give a later "
                           "--clock-start)", a, b);
    }
    hh_clock_advance(&R->clock, now);
    R->md_live = true;
    return HH_OK;
}

int run_live_start(struct run *R)
{
    struct run_live *L = R->live;
    int rc;

    if (!L)
        return HH_OK;
    if (L->md_kite && ((rc = start_clock(R)) || (rc = want_listed(R))))
        return rc;
    if (!L->md_kite)
        atomic_store(&L->mirror, now_of(R) == HH_TIME_NONE ? 0 : now_of(R));
    HH_JLOG(&R->log, HH_LOG_INFO, now_of(R), "broker_start", NULL,
            "Kite Connect: account %s, %s%s%s", R->w.cfg.broker.account[0]
            ? R->w.cfg.broker.account : "(not checked)",
            L->broker ? "orders through Kite" : "orders to the simulated exchange",
            L->md_kite ? ", ticks from the Kite socket" : "",
            L->offset ? " (a rehearsal: the clock started at --clock-start)" : "");
    return HH_OK;
}

void run_live_free(struct run *R)
{
    struct run_live *L = R->live;

    if (!L)
        return;
    hh_kite_free(L->k);
    free(L->oa);
    free(L->ob);
    free(L->pa);
    free(L->bpos);
    free(L->listed);
    free(L->want);
    free(L->need);
    free(L->warned);
    free(L);
    R->live = NULL;
}

/* ---- subscriptions and health ------------------------------------------------------------ */

/* What needs ticks now: market_data.symbols and what the engine trades,
 * waits to trade or has working (hh_tm_market_needs: its positions and
 * orders too); an instrument without a token cannot be had (logged once). */
static void needed(struct run *R)
{
    struct run_live *L = R->live;

    memcpy(L->need, L->listed, L->ninst * sizeof *L->need);
    hh_tm_market_needs(R->tm, L->need, L->ninst);
    for (size_t i = 0; i < L->ninst; i++) {
        const struct hh_instrument *in;

        if (!L->need[i] || (in = hh_inst_get(R->w.inst, (hh_iid_t)i))->token)
            continue;
        L->need[i] = false;
        if (!L->warned[i])
            HH_JLOG(&R->log, HH_LOG_WARN, now_of(R), "market_data", NULL,
                    "%s: no instrument_token: no ticks can be had for it (load Zerodha's "
                    "instrument dump)", in->symbol);
        L->warned[i] = true;
    }
}

/* The socket's subscriptions follow what is needed, both ways: an instrument
 * no longer needed is unsubscribed (Kite's {"a":"unsubscribe"}) and its
 * silence is no gap any more (the adapter watches only what is subscribed);
 * everything in full mode (depth: bid and ask). */
static void resubscribe(struct run *R)
{
    struct run_live *L = R->live;
    hh_iid_t *iids;
    struct hh_diag d = { "" };
    size_t n = 0, added = 0, dropped = 0;

    needed(R);
    if (L->subs_set && !memcmp(L->need, L->want, L->ninst * sizeof *L->want))
        return;
    if (!(iids = malloc((L->ninst ? L->ninst : 1) * sizeof *iids)))
        return;   /* tried again at the next watch */
    for (size_t i = 0; i < L->ninst; i++) {
        added += L->need[i] && !L->want[i];
        dropped += !L->need[i] && L->want[i];
        if (L->need[i])
            iids[n++] = (hh_iid_t)i;
    }
    if (hh_kite_subscribe(L->k, iids, n, HH_KITE_FULL, &d)) {
        HH_JLOG(&R->log, HH_LOG_ERROR, now_of(R), "market_data", NULL, "subscribe: %s", d.msg);
    } else {
        memcpy(L->want, L->need, L->ninst * sizeof *L->want);
        L->subs_set = true;
        HH_JLOG(&R->log, HH_LOG_INFO, now_of(R), "market_data", NULL,
                "subscribed %zu instrument(s) on the Kite socket (%zu added, %zu no longer "
                "needed)", n, added, dropped);
    }
    free(iids);
}

/* The token refused, or accepted again: said once per change. */
static void watch_auth(struct run *R, const struct hh_kite_stats *st)
{
    struct run_live *L = R->live;

    if (st->auth_blocked == L->auth_blocked)
        return;
    L->auth_blocked = st->auth_blocked;
    if (L->auth_blocked) {
        HH_JLOG(&R->log, HH_LOG_ERROR, now_of(R), "alert", NULL,
                "ALERT: BROKER_AUTH Kite refused the access token (TokenException): no order "
                "goes out until %s changes (log in, write the new token)",
                R->w.cfg.broker.kite.access_token_file);
        run_ops_alert(R, "critical", "BROKER_AUTH", "Kite refused the access token: replace "
                      "the token file");
    } else {
        HH_JLOG(&R->log, HH_LOG_INFO, now_of(R), "broker_auth", NULL,
                "a new access token was read: order calls go out again (after the breaker's "
                "probe)");
    }
}

/* No entry on market data that is down or stale (SPEC §13). */
static void watch_md(struct run *R)
{
    struct run_live *L = R->live;
    struct hh_kite_md_status ms;

    hh_kite_md_status(L->k, now_of(R), R->w.cal, &ms);
    if (ms.ready == L->md_ready)
        return;
    L->md_ready = ms.ready;
    snprintf(L->md_why, sizeof L->md_why, "%s", ms.why);
    hh_tm_hold_entries(R->tm, !ms.ready);
    if (!ms.ready) {
        HH_JLOG(&R->log, HH_LOG_WARN, now_of(R), "market_data_stale", NULL,
                "%s: no entry is taken until every subscribed instrument ticks again (gaps "
                "%llu)", ms.why, (unsigned long long)ms.gaps);
        run_ops_alert(R, "warn", "MARKET_DATA_STALE", ms.why);
    } else {
        HH_JLOG(&R->log, HH_LOG_INFO, now_of(R), "market_data_stale", NULL,
                "market data is live again: entries allowed");
    }
}

void run_live_watch(struct run *R)
{
    struct run_live *L = R->live;
    struct hh_kite_stats st;
    int64_t t;

    if (!L)
        return;
    if (!L->md_kite)
        atomic_store(&L->mirror, now_of(R) == HH_TIME_NONE ? 0 : now_of(R));
    t = mono_ns();
    if (t - L->watched < WATCH_EVERY)
        return;
    L->watched = t;
    hh_kite_stats(L->k, &st);
    watch_auth(R, &st);
    if (!L->md_kite)
        return;
    resubscribe(R);
    watch_md(R);
}

bool run_live_md(const struct run *R)
{
    return R->live && R->live->md_kite;
}

bool run_live_md_up(const struct run *R, const char **why)
{
    *why = R->live ? R->live->md_why : "";
    return !R->live || !R->live->md_kite || R->live->md_ready;
}

void run_live_stats(const struct run *R, char *buf, size_t cap)
{
    struct hh_kite_stats st;

    if (!R->live) {
        buf[0] = '\0';
        return;
    }
    hh_kite_stats(R->live->k, &st);
    snprintf(buf, cap, "; kite: requests %llu, order calls %llu, 429s %llu, unknown outcomes "
             "%llu, rejected %llu, token refusals %llu, token reloads %llu, socket connects "
             "%llu (drops %llu), updates %llu, reports %llu, ticks %llu (dropped %llu), "
             "others' rows unread %llu",
             (unsigned long long)st.requests, (unsigned long long)st.order_calls,
             (unsigned long long)st.rate_limited, (unsigned long long)st.unknown_outcomes,
             (unsigned long long)st.rejected, (unsigned long long)st.auth_failures,
             (unsigned long long)st.secret_reloads, (unsigned long long)st.ws_connects,
             (unsigned long long)st.ws_drops, (unsigned long long)st.updates,
             (unsigned long long)st.reports, (unsigned long long)st.ticks,
             (unsigned long long)st.ticks_dropped, (unsigned long long)st.skipped_rows);
}

/* ---- stopping ------------------------------------------------------------------------------ */

void run_live_wall(const struct run *R, char *buf, size_t cap)
{
    char t[40];

    if (!R->live) {
        buf[0] = '\0';
        return;
    }
    hh_time_format(wall_ns(), t, sizeof t);
    snprintf(buf, cap, " (wall clock %s)", t);
}

/* The engine's clock during the stop's wait: the live clock, or with file
 * market data (its clock is the file's) moved on by the wall time passed. */
static void settle_clock(struct run *R, int64_t *mono)
{
    struct run_live *L = R->live;
    int64_t t = mono_ns();

    hh_clock_advance(&R->clock, L->md_kite ? live_now(L) : now_of(R) + (t - *mono));
    *mono = t;
    atomic_store(&L->mirror, now_of(R));
}

void run_live_settle(struct run *R, const volatile sig_atomic_t *stops)
{
    struct run_live *L = R->live;
    int64_t start = mono_ns(), mono = start;
    size_t n;

    if (!L || !L->broker)
        return;
    while ((n = hh_tm_in_flight(R->tm)) && !R->failed && *stops < 2 &&
           mono_ns() - start < STOP_BOUND) {
        hh_feed_hub_wait(R->hub, STOP_STEP);   /* (woken by the adapter's reports) */
        settle_clock(R, &mono);
        n = hh_tm_stop_step(R->tm);
        run_commit(R);
    }
    HH_JLOG(&R->log, n ? HH_LOG_WARN : HH_LOG_INFO, now_of(R), "stop_in_flight", NULL,
            n ? "%zu order(s) still in flight after %lld ms: persisted with the last checkpoint; "
                "the next start looks them up first (by tag), before anything is placed"
              : "every order in flight ended or was found (%zu left) after %lld ms", n,
            (long long)((mono_ns() - start) / HH_NS_PER_MS));
}

/* ---- the market-data source: the socket's ticks, and the clock between them -------------- */

/* A tick is taken at its arrival (never before the engine's clock); with
 * none, the clock steps to the live clock every CLOCK_STEP, so timers and
 * polls come due.  The stream never ends: the run ends on a signal. */
static enum hh_src_state md_peek(void *impl, struct hh_ev_key *key)
{
    struct run *R = impl;
    struct run_live *L = R->live;
    hh_time_t now = live_now(L);

    if (R->md_done)
        return HH_SRC_END;
    if (!L->tick_held && hh_kite_next_tick(L->k, &L->tick) == 1)
        L->tick_held = true;
    if (L->tick_held) {
        if (L->tick.ts < now_of(R))
            L->tick.ts = now_of(R);
        *key = (struct hh_ev_key){ L->tick.ts, HH_EV_MARKET, 0 };
        return HH_SRC_READY;
    }
    if (now - now_of(R) >= CLOCK_STEP) {
        L->step_to = now;
        *key = (struct hh_ev_key){ now, HH_EV_MARKET, 0 };
        return HH_SRC_READY;
    }
    *key = (struct hh_ev_key){ now_of(R), HH_EV_MARKET, 0 };
    return HH_SRC_PENDING;
}

static int md_take(void *impl, const struct hh_ev_key *bound)
{
    struct run *R = impl;
    struct run_live *L = R->live;

    (void)bound;
    if (L->tick_held) {
        L->tick_held = false;
        hh_eng_tick(R->eng, &L->tick);
    } else {
        hh_clock_advance(&R->clock, L->step_to);
        hh_tm_flush(R->tm);   /* what is due by now goes out */
    }
    run_commit(R);
    return R->failed ? HH_EDB : HH_OK;
}

const struct hh_source_ops run_live_md_ops = { md_peek, md_take };

/* How long the loop may wait for an adapter: the clock's next step. */
int64_t run_live_wait(const struct run *R)
{
    return R->live && R->live->md_kite ? CLOCK_STEP : 100 * HH_NS_PER_MS;
}
