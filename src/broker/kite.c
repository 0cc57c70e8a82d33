/*
 * kite.c — the Kite adapter's handle: configuration, threads, the hand-over
 * of rows and reports to the core, market data state and statistics.
 * See kite.h for the contract and kite_int.h for who owns what.
 */
#include "broker/kite_int.h"

#include "core/grow.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PROMPTS_MAX 1024                /* beyond: read the whole book */
#define ROWS_MAX    65536               /* rows waiting for the core */

void hh_kite_config_defaults(struct hh_kite_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->api_url = "https://api.kite.trade";
    cfg->ws_url = "wss://ws.kite.trade";
    cfg->api_key_file = "secrets/kite_api_key";
    cfg->access_token_file = "secrets/kite_access_token";
    cfg->product = HH_KITE_MIS;
    cfg->market_protection = -1;
    cfg->orders_per_second = 10;
    cfg->orders_per_minute = 200;
    cfg->timeout_ms = 7000;
    cfg->md_stale_ms = 5000;
    cfg->book_poll_ms = 2000;
    cfg->tick_ring = 65536;
}

/* ---- creation ------------------------------------------------------------- */

static int check_config(const struct hh_kite_config *c, struct hh_diag *d)
{
    struct hh_kite__url u;
    int rc;

    if ((rc = hh_kite__url_parse(c->api_url, false, &u, d)))
        return rc;
    if (c->ws_url && *c->ws_url && (rc = hh_kite__url_parse(c->ws_url, true, &u, d)))
        return rc;
    if (!c->api_key_file || !*c->api_key_file || !c->access_token_file ||
        !*c->access_token_file)
        return hh_diag_set(d, HH_ECONFIG, "api_key_file and access_token_file are required");
    if ((int)c->product < 0 || c->product > HH_KITE_CNC)
        return hh_diag_set(d, HH_ECONFIG, "product: not MIS, NRML or CNC");
    if (c->market_protection != -1 && (c->market_protection < 1 || c->market_protection > 100))
        return hh_diag_set(d, HH_ECONFIG,
                           "market_protection: %d is neither -1 nor a percentage 1..100 (0 is "
                           "refused by the broker)", c->market_protection);
    if (c->orders_per_second < 1 || c->orders_per_second > 100)
        return hh_diag_set(d, HH_ECONFIG, "orders_per_second: %d not in 1..100",
                           c->orders_per_second);
    if (c->orders_per_minute < c->orders_per_second || c->orders_per_minute > 1000)
        return hh_diag_set(d, HH_ECONFIG, "orders_per_minute: %d not in %d..1000 "
                           "(orders_per_second..1000)", c->orders_per_minute,
                           c->orders_per_second);
    if (c->timeout_ms < 100 || c->timeout_ms > 120000)
        return hh_diag_set(d, HH_ECONFIG, "timeout_ms: %d not in 100..120000", c->timeout_ms);
    if (c->md_stale_ms < 100 || c->book_poll_ms < 100)
        return hh_diag_set(d, HH_ECONFIG, "md_stale_ms and book_poll_ms: at least 100");
    if (c->tick_ring < 16 || c->tick_ring > (1u << 24) || (c->tick_ring & (c->tick_ring - 1)))
        return hh_diag_set(d, HH_ECONFIG, "tick_ring: a power of two from 16 to 2^24");
    return HH_OK;
}

static char *dup_or_null(const char *s, bool *oom)
{
    char *x;

    if (!s || !*s)
        return NULL;
    if (!(x = strdup(s)))
        *oom = true;
    return x;
}

/* Strings of cfg copied; api_url without a trailing slash. */
static int copy_config(struct hh_kite *k, const struct hh_kite_config *c, struct hh_diag *d)
{
    bool oom = false;
    size_t n;

    k->api_url = dup_or_null(c->api_url, &oom);
    k->ca_file = dup_or_null(c->ca_file, &oom);
    k->account = dup_or_null(c->account, &oom);
    k->key.path = dup_or_null(c->api_key_file, &oom);
    k->token.path = dup_or_null(c->access_token_file, &oom);
    if (oom)
        return hh_diag_set(d, HH_ENOMEM, "out of memory");
    n = strlen(k->api_url);
    while (n > 0 && k->api_url[n - 1] == '/')
        k->api_url[--n] = '\0';
    k->have_ws = c->ws_url && *c->ws_url;
    if (k->have_ws)
        hh_kite__url_parse(c->ws_url, true, &k->ws, NULL);
    k->product = c->product;
    k->market_protection = c->market_protection;
    k->timeout_ms = c->timeout_ms;
    k->md_stale = (int64_t)c->md_stale_ms * HH_NS_PER_MS;
    k->book_poll = (int64_t)c->book_poll_ms * HH_NS_PER_MS;
    k->clock = c->clock;
    k->clock_ctx = c->clock_ctx;
    return HH_OK;
}

/* k->cv waits on the monotonic clock (the reader's deadlines are). */
static int init_sync(struct hh_kite *k)
{
    pthread_condattr_t ca;
    int bad;

    if (pthread_condattr_init(&ca))
        return HH_ENOMEM;
    bad = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) || pthread_cond_init(&k->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (bad || pthread_mutex_init(&k->auth_mu, NULL) || pthread_mutex_init(&k->mu, NULL) ||
        pthread_mutex_init(&k->sub_mu, NULL))
        return HH_ENOMEM;
    return HH_OK;
}

static int init_parts(struct hh_kite *k, const struct hh_kite_config *c, struct hh_diag *d)
{
    bool changed;
    int rc;
    int64_t max_call = ((int64_t)c->timeout_ms + 1000) * HH_NS_PER_MS;

    if ((rc = hh_kite__secret_check(&k->key, &changed, d)) ||
        (rc = hh_kite__secret_check(&k->token, &changed, d)))
        return rc;
    if (hh_kite__lim_init(&k->olim, c->orders_per_second, c->orders_per_minute,
                          max_call) ||
        hh_kite__lim_init(&k->qlim, 10, 0, max_call) || hh_kite__book_init(&k->book) ||
        hh_u64map_init(&k->sub_by_token, 64) || hh_u64map_init(&k->trades_seen, 64) ||
        hh_kite__http_init(k, &k->core_http) ||
        hh_kite__http_init(k, &k->read_http))
        return hh_diag_set(d, HH_ENOMEM, "out of memory");
    k->ring = calloc(c->tick_ring, sizeof *k->ring);
    if (!k->ring)
        return hh_diag_set(d, HH_ENOMEM, "out of memory");
    k->ring_mask = c->tick_ring - 1;
    if (c->pacer_file && ((rc = hh_kite__lim_share(&k->olim, c->pacer_file, 0, d)) ||
                          (rc = hh_kite__lim_share(&k->qlim, c->pacer_file, 1, d))))
        return rc;
    return HH_OK;
}

int hh_kite_new(const struct hh_kite_config *cfg, const struct hh_instruments *inst,
                struct hh_kite **out, struct hh_diag *d)
{
    struct hh_kite *k;
    int rc;

    *out = NULL;
    if (!cfg || !inst)
        return hh_diag_set(d, HH_EINVAL, "hh_kite_new: no config or instruments");
    if ((rc = check_config(cfg, d)))
        return rc;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return hh_diag_set(d, HH_ENOMEM, "libcurl could not start");
    if (!(k = calloc(1, sizeof *k))) {
        curl_global_cleanup();
        return hh_diag_set(d, HH_ENOMEM, "out of memory");
    }
    k->inst = inst;
    if ((rc = init_sync(k)) || (rc = copy_config(k, cfg, d)) ||
        (rc = init_parts(k, cfg, d))) {
        hh_kite_free(k);
        return rc;
    }
    *out = k;
    return HH_OK;
}

/* ---- start and stop -------------------------------------------------------- */

/* GET /user/profile: the token's user must be the configured account.  A
 * passing outage (503, timeout) is tried again, three times in all. */
static int check_account(struct hh_kite *k, struct hh_diag *d)
{
    struct timespec pause = { 0, 500 * 1000000L };
    struct json_object *data;
    const char *who;
    int rc = HH_OK;

    if (!k->account)
        return HH_OK;
    for (int i = 0; i < 3; i++) {
        if (i)
            nanosleep(&pause, NULL);
        rc = hh_kite__call(k, &k->core_http, HH_KITE__QUERY, "GET", "/user/profile", NULL,
                           NULL, &data, NULL, d);
        if (rc != HH_EUNAVAIL && rc != HH_ETIMEOUT)
            break;
    }
    if (rc)
        return rc;
    who = hh_kite__j_str(data, "user_id");
    if (strcmp(who, k->account) != 0)
        rc = hh_diag_set(d, HH_ECONFIG, "account: the token belongs to '%.32s', not '%.32s'",
                         who, k->account);
    json_object_put(data);
    return rc;
}

int hh_kite_start(struct hh_kite *k, struct hh_diag *d)
{
    int rc;

    if (k->reader_started)
        return hh_diag_set(d, HH_ESTATE, "the Kite adapter is started already");
    if ((rc = check_account(k, d)))
        return rc;
    if (pthread_create(&k->reader, NULL, hh_kite__reader_main, k))
        return hh_diag_set(d, HH_ENOMEM, "cannot start the book reader");
    k->reader_started = true;
    if (k->have_ws) {
        if (pthread_create(&k->sock, NULL, hh_kite__sock_main, k))
            return hh_diag_set(d, HH_ENOMEM, "cannot start the socket thread");
        k->sock_started = true;
    }
    /* what was missed while we were away (a restart) */
    hh_kite__prompt(k, 0, 0);
    return HH_OK;
}

void hh_kite_free(struct hh_kite *k)
{
    if (!k)
        return;
    atomic_store(&k->stop, true);
    pthread_mutex_lock(&k->mu);
    pthread_cond_broadcast(&k->cv);
    pthread_mutex_unlock(&k->mu);
    if (k->sock_started) {
        hh_kite__sock_poke(k);
        pthread_join(k->sock, NULL);
    }
    if (k->reader_started)
        pthread_join(k->reader, NULL);
    hh_kite__http_free(&k->core_http);
    hh_kite__http_free(&k->read_http);
    hh_kite__book_free(&k->book);
    hh_u64map_free(&k->sub_by_token);
    hh_u64map_free(&k->trades_seen);
    hh_kite__lim_destroy(&k->olim);
    hh_kite__lim_destroy(&k->qlim);
    pthread_mutex_destroy(&k->auth_mu);
    pthread_mutex_destroy(&k->mu);
    pthread_mutex_destroy(&k->sub_mu);
    pthread_cond_destroy(&k->cv);
    memset(k->key.value, 0, sizeof k->key.value);
    memset(k->token.value, 0, sizeof k->token.value);
    free(k->key.path);
    free(k->token.path);
    free(k->api_url);
    free(k->ca_file);
    free(k->account);
    free(k->pending);
    free(k->prompts);
    free(k->rows);
    free(k->subs);
    free(k->ring);
    free(k);
    curl_global_cleanup();
}

struct hh_broker hh_kite_broker(struct hh_kite *k)
{
    struct hh_broker b = { &hh_kite__ops, k };

    return b;
}

const char *hh_kite_errmsg(const struct hh_kite *k)
{
    return k->err.msg;
}

void hh_kite_set_wake(struct hh_kite *k, void (*wake)(void *ctx), void *ctx)
{
    k->wake = wake;
    k->wake_ctx = ctx;
}

void hh_kite__wake(struct hh_kite *k)
{
    if (k->wake)
        k->wake(k->wake_ctx);
}

hh_time_t hh_kite__now(const struct hh_kite *k)
{
    struct timespec ts;

    if (k->clock)
        return k->clock(k->clock_ctx);
    clock_gettime(CLOCK_REALTIME, &ts);
    return (hh_time_t)ts.tv_sec * HH_NS_PER_S + ts.tv_nsec;
}

/* ---- rows and reports -------------------------------------------------------- */

void hh_kite__prompt_retry(struct hh_kite *k, uint64_t id, int64_t delay, int tries)
{
    int64_t due = hh_kite__mono_ns() + delay;
    size_t i;

    if (tries >= 3)
        return;                         /* the engine's polls take over */
    pthread_mutex_lock(&k->mu);
    for (i = 0; i < k->nprompts && k->prompts[i].id != id; i++)
        ;
    if (i < k->nprompts) {
        if (due < k->prompts[i].due)
            k->prompts[i].due = due;
        if (tries < k->prompts[i].tries)
            k->prompts[i].tries = tries;
    } else if (k->nprompts < PROMPTS_MAX &&
               !hh_grow(&k->prompts, &k->capprompts, k->nprompts + 1, sizeof *k->prompts)) {
        k->prompts[k->nprompts++] = (struct hh_kite__prompt){ id, due, tries };
    } else {
        /* too many to read one by one: one sweep of the book instead */
        k->prompts[0] = (struct hh_kite__prompt){ 0, due, 0 };
        k->nprompts = 1;
    }
    pthread_cond_broadcast(&k->cv);
    pthread_mutex_unlock(&k->mu);
}

void hh_kite__prompt(struct hh_kite *k, uint64_t id, int64_t delay)
{
    hh_kite__prompt_retry(k, id, delay, 0);
}

/* Rows from the book reader; waits (bounded by stop) while the core has
 * not taken the previous ones and too many wait. */
int hh_kite__hand_rows(struct hh_kite *k, const struct hh_kite__row *rows, size_t n)
{
    int rc = HH_OK;

    if (n == 0)
        return HH_OK;
    pthread_mutex_lock(&k->mu);
    while (k->nrows + n > ROWS_MAX && k->nrows && !atomic_load(&k->stop))
        pthread_cond_wait(&k->cv, &k->mu);
    if (!hh_grow(&k->rows, &k->caprows, k->nrows + n, sizeof *k->rows)) {
        memcpy(k->rows + k->nrows, rows, n * sizeof *rows);
        k->nrows += n;
    } else {
        rc = HH_ENOMEM;
    }
    pthread_mutex_unlock(&k->mu);
    hh_kite__wake(k);
    return rc;
}

void hh_kite__apply_rows(struct hh_kite *k, const struct hh_kite__row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct hh_kite__ord *o;

        if (hh_kite__book_apply(&k->book, &rows[i], &o) == HH_OK && o)
            k->dirty_any = true;
    }
}

static void emit(void *ctx, const struct hh_report *r)
{
    struct hh_kite *k = ctx;

    if (hh_grow(&k->pending, &k->cappending, k->npending + 1, sizeof *k->pending))
        return;                         /* out of memory: the polls recover it */
    k->pending[k->npending++] = *r;
}

void hh_kite__absorb(struct hh_kite *k)
{
    struct hh_kite__row *rows;
    size_t n, working = 0;
    hh_time_t now;

    pthread_mutex_lock(&k->mu);
    rows = k->rows;
    n = k->nrows;
    k->rows = NULL;
    k->nrows = k->caprows = 0;
    pthread_cond_broadcast(&k->cv);
    pthread_mutex_unlock(&k->mu);
    hh_kite__apply_rows(k, rows, n);
    free(rows);
    if (!k->dirty_any)
        return;
    k->dirty_any = false;
    now = hh_kite__now(k);
    for (size_t i = 0; i < k->book.n; i++) {
        hh_kite__ord_derive(&k->book.ords[i], now, emit, k);
        working += !k->book.ords[i].done;
    }
    atomic_store(&k->working, working);
}

/* ---- market data ---------------------------------------------------------------- */

int hh_kite_subscribe(struct hh_kite *k, const hh_iid_t *iids, size_t n,
                      enum hh_kite_mode mode, struct hh_diag *d)
{
    struct hh_kite__sub *subs;
    struct hh_u64map map;
    hh_time_t now = hh_kite__now(k);

    if (n > HH_KITE_SUBS_MAX)
        return hh_diag_set(d, HH_EFULL, "subscribe: %zu instruments, at most %d", n,
                           HH_KITE_SUBS_MAX);
    for (size_t i = 0; i < n; i++) {
        const struct hh_instrument *in = hh_inst_get(k->inst, iids[i]);

        if (!in || !in->token)
            return hh_diag_set(d, HH_ENOTFOUND, "subscribe: %s has no instrument token",
                               in ? in->symbol : "an unknown instrument");
    }
    if (!(subs = calloc(n ? n : 1, sizeof *subs)) || hh_u64map_init(&map, n + 1)) {
        free(subs);
        return hh_diag_set(d, HH_ENOMEM, "out of memory");
    }
    pthread_mutex_lock(&k->sub_mu);
    for (size_t i = 0; i < n; i++) {
        uint64_t old;

        subs[i].iid = iids[i];
        subs[i].token = hh_inst_get(k->inst, iids[i])->token;
        /* a new subscription has md_stale to bring its first tick */
        atomic_init(&subs[i].last, now);
        if (hh_u64map_get(&k->sub_by_token, subs[i].token, &old))
            atomic_init(&subs[i].last, atomic_load(&k->subs[old - 1].last));
        hh_u64map_put(&map, subs[i].token, i + 1);
    }
    free(k->subs);
    hh_u64map_free(&k->sub_by_token);
    k->subs = subs;
    k->nsubs = n;
    k->sub_by_token = map;
    k->mode = mode;
    k->subs_dirty = true;
    pthread_mutex_unlock(&k->sub_mu);
    hh_kite__sock_poke(k);
    return HH_OK;
}

int hh_kite_next_tick(struct hh_kite *k, struct hh_tick *out)
{
    uint32_t tail = atomic_load_explicit(&k->ring_tail, memory_order_relaxed);

    if (tail == atomic_load_explicit(&k->ring_head, memory_order_acquire))
        return 0;
    *out = k->ring[tail & k->ring_mask];
    atomic_store_explicit(&k->ring_tail, tail + 1, memory_order_release);
    return 1;
}

/* Socket thread: one tick into the ring; false when it is full. */
bool hh_kite__push_tick(struct hh_kite *k, const struct hh_tick *t)
{
    uint32_t head = atomic_load_explicit(&k->ring_head, memory_order_relaxed);

    if (head - atomic_load_explicit(&k->ring_tail, memory_order_acquire) > k->ring_mask)
        return false;
    k->ring[head & k->ring_mask] = *t;
    atomic_store_explicit(&k->ring_head, head + 1, memory_order_release);
    return true;
}

void hh_kite_md_status(struct hh_kite *k, hh_time_t now, const struct hh_calendar *cal,
                       struct hh_kite_md_status *out)
{
    memset(out, 0, sizeof *out);
    out->first_stale = HH_IID_NONE;
    out->last_tick = HH_TIME_NONE;
    out->connected = atomic_load(&k->ws_up);
    pthread_mutex_lock(&k->sub_mu);
    out->subscribed = k->nsubs;
    for (size_t i = 0; i < k->nsubs; i++) {
        const struct hh_instrument *in = hh_inst_get(k->inst, k->subs[i].iid);
        int64_t last = atomic_load(&k->subs[i].last);

        if (out->last_tick == HH_TIME_NONE || last > out->last_tick)
            out->last_tick = last;
        if (cal && !hh_cal_is_open(cal, in->exch, in->seg, now))
            continue;
        if (now - last > k->md_stale && out->stale++ == 0)
            out->first_stale = k->subs[i].iid;
    }
    pthread_mutex_unlock(&k->sub_mu);
    out->ready = out->connected && out->stale == 0;
    if (!out->connected)
        snprintf(out->why, sizeof out->why, "the market-data socket is down");
    else if (out->stale)
        snprintf(out->why, sizeof out->why, "%zu instrument(s) silent over %lld ms, first %s",
                 out->stale, (long long)(k->md_stale / HH_NS_PER_MS),
                 hh_inst_get(k->inst, out->first_stale)->symbol);
    if (k->md_was_ready && !out->ready)
        k->gaps_seen++;
    k->md_was_ready = out->ready;
    out->gaps = k->gaps_seen;
}

/* ---- statistics --------------------------------------------------------------- */

void hh_kite_stats(struct hh_kite *k, struct hh_kite_stats *out)
{
    memset(out, 0, sizeof *out);
    out->requests = atomic_load(&k->n_requests);
    out->order_calls = atomic_load(&k->n_order_calls);
    out->rate_limited = atomic_load(&k->n_limited);
    out->unknown_outcomes = atomic_load(&k->n_unknown);
    out->rejected = atomic_load(&k->n_rejected);
    out->auth_failures = atomic_load(&k->n_auth);
    out->secret_reloads = atomic_load(&k->n_reloads);
    out->slices = atomic_load(&k->n_slices);
    out->ws_connects = atomic_load(&k->n_ws_connects);
    out->ws_drops = atomic_load(&k->n_ws_drops);
    out->updates = atomic_load(&k->n_updates);
    out->book_reads = atomic_load(&k->n_book_reads);
    out->reports = atomic_load(&k->n_reports);
    out->ticks = atomic_load(&k->n_ticks);
    out->ticks_dropped = atomic_load(&k->n_ticks_dropped);
    out->bad_frames = atomic_load(&k->n_bad_frames);
    out->unknown_rows = atomic_load(&k->n_unknown_rows);
    out->skipped_rows = atomic_load(&k->n_skipped_rows);
    out->ws_connected = atomic_load(&k->ws_up);
    pthread_mutex_lock(&k->auth_mu);
    out->auth_blocked = k->auth_blocked;
    pthread_mutex_unlock(&k->auth_mu);
}
