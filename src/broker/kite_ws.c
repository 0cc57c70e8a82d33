/*
 * kite_ws.c — the socket thread: one WebSocket to Kite's streaming endpoint
 * (libwebsockets), carrying order updates (text) and ticks (binary).
 *
 *  - Connects to ws_url?api_key=KEY&access_token=TOKEN (the secrets as they
 *    are at each connect); on any close or error it reconnects after a
 *    backoff: 0.5 s doubling to 30 s, back to 0.5 s once connected.
 *  - A connection silent for 10 s (Kite sends a 1-byte heartbeat every
 *    second) is closed and reconnected: a half-open TCP connection is not
 *    left looking alive.
 *  - On every (re)connect the whole subscription set is sent again (the
 *    broker forgets it with the connection) and the book reader is asked
 *    for a sweep of the order book: updates sent during the gap are lost.
 *  - An order update only prompts a read of that order (kite_read.c).
 *  - Ticks of subscribed tokens go into the ring; the ring full, a tick is
 *    dropped and counted (the socket is never blocked: a slow reader would
 *    make the broker drop the connection).
 *
 * Everything here runs on the socket thread; the core and other threads
 * reach it through k->sub_mu (subscriptions), the ring, and
 * hh_kite__sock_poke (lws_cancel_service).
 */
#include "broker/kite_int.h"

#include "core/grow.h"

#include <json-c/json.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BACKOFF_MIN  (HH_NS_PER_S / 2)
#define BACKOFF_MAX  (30 * HH_NS_PER_S)
#define IDLE_MAX     (10 * HH_NS_PER_S)
#define TIMER_US     (100 * 1000)
#define MSG_MAX      (4u << 20)         /* bytes of one message */
#define PKTS_MAX     4096               /* packets of one frame */
#define TX_MAX       8                  /* text messages queued to send */

struct sock {
    struct hh_kite *k;
    struct lws_context *ctx;
    struct lws *wsi;
    bool pending, open, kill;           /* connecting; established; to close */
    int64_t backoff, reconnect_at, last_rx;
    lws_sorted_usec_list_t sul;
    char path[1024];                    /* with the credentials: never logged */
    uint8_t *msg;                       /* the message being assembled */
    size_t len, cap;
    bool overflow;
    struct hh_kite_packet *pkts;
    char *tx[TX_MAX];                   /* LWS_PRE bytes, then the text */
    size_t tx_len[TX_MAX];
    int ntx;
    uint32_t *applied;                  /* tokens subscribed on this socket */
    size_t napplied, capplied;
};

/* Under sub_mu: the socket thread clears lws_ctx (same lock) before it
 * destroys the context. */
void hh_kite__sock_poke(struct hh_kite *k)
{
    pthread_mutex_lock(&k->sub_mu);
    if (k->lws_ctx)
        lws_cancel_service(k->lws_ctx);
    pthread_mutex_unlock(&k->sub_mu);
}

/* ---- outgoing text -------------------------------------------------------- */

static void tx_push(struct sock *s, const char *text, size_t n)
{
    char *b;

    if (s->ntx == TX_MAX || !(b = malloc(LWS_PRE + n)))
        return;                         /* resent in full at the next connect */
    memcpy(b + LWS_PRE, text, n);
    s->tx[s->ntx] = b;
    s->tx_len[s->ntx++] = n;
}

/* {"a":ACTION,"v":[...]} or {"a":"mode","v":[MODE,[...]]} for tokens. */
static void tx_tokens(struct sock *s, const char *action, const char *mode,
                      const uint32_t *tok, size_t n)
{
    size_t cap = 64 + n * 12, len;
    char *b;

    if (!n || !(b = malloc(cap)))
        return;
    len = mode ? (size_t)snprintf(b, cap, "{\"a\":\"mode\",\"v\":[\"%s\",[", mode)
               : (size_t)snprintf(b, cap, "{\"a\":\"%s\",\"v\":[", action);
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(b + len, cap - len, "%s%u", i ? "," : "", tok[i]);
    len += (size_t)snprintf(b + len, cap - len, mode ? "]]}" : "]}");
    tx_push(s, b, len);
    free(b);
}

static bool contains(const uint32_t *a, size_t n, uint32_t t)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] == t)
            return true;
    return false;
}

/* Bring the socket's subscriptions to the wanted set: unsubscribe what is
 * gone, subscribe and set the mode of the rest (all of it after a connect,
 * when `full`). */
static void sync_subs(struct sock *s, bool full)
{
    static const char *const modes[] = { "ltp", "quote", "full" };
    struct hh_kite *k = s->k;
    uint32_t *want = NULL, *gone = NULL;
    size_t nwant, ngone = 0;
    enum hh_kite_mode mode;

    pthread_mutex_lock(&k->sub_mu);
    nwant = k->nsubs;
    mode = k->mode;
    k->subs_dirty = false;
    want = malloc((nwant ? nwant : 1) * sizeof *want);
    for (size_t i = 0; want && i < nwant; i++)
        want[i] = k->subs[i].token;
    pthread_mutex_unlock(&k->sub_mu);
    if (!want || !(gone = malloc((s->napplied ? s->napplied : 1) * sizeof *gone)))
        goto out;
    for (size_t i = 0; !full && i < s->napplied; i++)
        if (!contains(want, nwant, s->applied[i]))
            gone[ngone++] = s->applied[i];
    tx_tokens(s, "unsubscribe", NULL, gone, ngone);
    tx_tokens(s, "subscribe", NULL, want, nwant);
    tx_tokens(s, NULL, modes[mode], want, nwant);
    if (!hh_grow(&s->applied, &s->capplied, nwant ? nwant : 1, sizeof *s->applied)) {
        memcpy(s->applied, want, nwant * sizeof *want);
        s->napplied = nwant;
    }
    if (s->wsi)
        lws_callback_on_writable(s->wsi);
out:
    free(want);
    free(gone);
}

/* ---- incoming ------------------------------------------------------------- */

static void on_ticks(struct sock *s, const uint8_t *buf, size_t len)
{
    struct hh_kite *k = s->k;
    size_t n, skipped;
    const char *why;
    bool hb, any = false;
    hh_time_t now;

    if (hh_kite_parse_ticks(buf, len, s->pkts, PKTS_MAX, &n, &skipped, &hb, &why) != HH_OK)
        atomic_fetch_add(&k->n_bad_frames, 1);
    if (n == 0)
        return;
    now = hh_kite__now(k);
    pthread_mutex_lock(&k->sub_mu);
    for (size_t i = 0; i < n; i++) {
        const struct hh_kite_packet *p = &s->pkts[i];
        struct hh_tick t;
        uint64_t v;

        if (!hh_u64map_get(&k->sub_by_token, p->token, &v))
            continue;                   /* unsubscribed, in flight */
        atomic_store(&k->subs[v - 1].last, now);
        if (p->last <= 0)
            continue;                   /* nothing traded yet */
        t = (struct hh_tick){ now, k->subs[v - 1].iid, p->last, p->last_qty, p->bid, p->ask };
        if (hh_kite__push_tick(k, &t)) {
            atomic_fetch_add(&k->n_ticks, 1);
            any = true;
        } else {
            atomic_fetch_add(&k->n_ticks_dropped, 1);
        }
    }
    pthread_mutex_unlock(&k->sub_mu);
    if (any)
        hh_kite__wake(k);
}

/* {"type":"order","data":{...}}: a prompt to read that order. */
static void on_text(struct sock *s, const char *text, size_t len)
{
    struct json_object *root, *data;
    uint64_t id;

    if (len > INT32_MAX || !(root = json_tokener_parse(text)))
        return;
    if (strcmp(hh_kite__j_str(root, "type"), "order") == 0 &&
        json_object_object_get_ex(root, "data", &data) &&
        hh_kite__j_id(data, "order_id", &id) == HH_OK && id) {
        atomic_fetch_add(&s->k->n_updates, 1);
        hh_kite__prompt(s->k, id, 0);
    }
    json_object_put(root);
}

static void on_fragment(struct sock *s, struct lws *wsi, const void *in, size_t len)
{
    if (lws_is_first_fragment(wsi)) {
        s->len = 0;
        s->overflow = false;
    }
    if (!s->overflow && s->len + len + 1 <= MSG_MAX &&
        !hh_grow(&s->msg, &s->cap, s->len + len + 1, 1)) {
        memcpy(s->msg + s->len, in, len);
        s->len += len;
        s->msg[s->len] = '\0';
    } else {
        s->overflow = true;
    }
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
        return;
    s->last_rx = hh_kite__mono_ns();
    if (s->overflow)
        atomic_fetch_add(&s->k->n_bad_frames, 1);
    else if (lws_frame_is_binary(wsi))
        on_ticks(s, s->msg, s->len);
    else
        on_text(s, (const char *)s->msg, s->len);
}

/* ---- connection life -------------------------------------------------------- */

static void went_down(struct sock *s)
{
    struct hh_kite *k = s->k;

    if (!s->pending && !s->open)
        return;                         /* told twice */
    if (s->open)
        atomic_fetch_add(&k->n_ws_drops, 1);
    s->pending = s->open = s->kill = false;
    s->wsi = NULL;
    for (int i = 0; i < s->ntx; i++)
        free(s->tx[i]);
    s->ntx = 0;
    s->reconnect_at = hh_kite__mono_ns() + s->backoff;
    s->backoff = s->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : s->backoff * 2;
    if (atomic_exchange(&k->ws_up, false))
        hh_kite__wake(k);
}

static void came_up(struct sock *s)
{
    struct hh_kite *k = s->k;

    s->pending = false;
    s->open = true;
    s->backoff = BACKOFF_MIN;
    s->last_rx = hh_kite__mono_ns();
    atomic_fetch_add(&k->n_ws_connects, 1);
    atomic_store(&k->ws_up, true);
    sync_subs(s, true);
    hh_kite__prompt(k, 0, 0);           /* what the gap hid */
    hh_kite__wake(k);
}

static int on_writable(struct sock *s, struct lws *wsi)
{
    if (s->kill)
        return -1;                      /* close: reconnect follows */
    if (!s->ntx)
        return 0;
    if (lws_write(wsi, (unsigned char *)s->tx[0] + LWS_PRE, s->tx_len[0], LWS_WRITE_TEXT) <
        (int)s->tx_len[0])
        return -1;
    free(s->tx[0]);
    memmove(s->tx, s->tx + 1, (size_t)(s->ntx - 1) * sizeof *s->tx);
    memmove(s->tx_len, s->tx_len + 1, (size_t)(s->ntx - 1) * sizeof *s->tx_len);
    s->ntx--;
    if (s->ntx)
        lws_callback_on_writable(wsi);
    return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct sock *s = lws_context_user(lws_get_context(wsi));

    (void)user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        came_up(s);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        on_fragment(s, wsi, in, len);
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return on_writable(s, wsi);
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY:
        went_down(s);
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    { "hedgehog-kite", callback, 0, 65536, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 },   /* terminator */
};

/* The path with the credentials as they are now; false when unreadable. */
static bool credentials(struct sock *s)
{
    struct hh_kite *k = s->k;
    struct hh_diag d;
    bool ok;

    pthread_mutex_lock(&k->auth_mu);
    ok = hh_kite__secrets(k, &d) == HH_OK;
    if (ok)
        ok = snprintf(s->path, sizeof s->path, "%s%capi_key=%s&access_token=%s", k->ws.path,
                      strchr(k->ws.path, '?') ? '&' : '?', k->key.value,
                      k->token.value) < (int)sizeof s->path;
    pthread_mutex_unlock(&k->auth_mu);
    return ok;
}

static void connect_now(struct sock *s)
{
    struct hh_kite *k = s->k;
    struct lws_client_connect_info ci;

    s->pending = true;
    if (!credentials(s)) {
        went_down(s);
        return;
    }
    memset(&ci, 0, sizeof ci);
    ci.context = s->ctx;
    ci.address = k->ws.host;
    ci.port = k->ws.port;
    ci.path = s->path;
    ci.host = k->ws.host;
    ci.origin = k->ws.host;
    ci.ssl_connection = k->ws.tls ? LCCSCF_USE_SSL : 0;
    ci.alpn = "http/1.1";
    ci.local_protocol_name = protocols[0].name;
    ci.pwsi = &s->wsi;
    s->reconnect_at = INT64_MAX;        /* until it fails or closes */
    if (!lws_client_connect_via_info(&ci))
        went_down(s);                   /* unless its error callback did */
}

/* Every 100 ms: connect when due, drop a silent connection, send changed
 * subscriptions. */
static void on_timer(lws_sorted_usec_list_t *sul)
{
    struct sock *s = lws_container_of(sul, struct sock, sul);
    int64_t now = hh_kite__mono_ns();
    bool dirty;

    if (!s->pending && !s->open && now >= s->reconnect_at && !atomic_load(&s->k->stop))
        connect_now(s);
    if (s->open && now - s->last_rx > IDLE_MAX) {
        s->kill = true;
        lws_callback_on_writable(s->wsi);
    }
    pthread_mutex_lock(&s->k->sub_mu);
    dirty = s->k->subs_dirty;
    pthread_mutex_unlock(&s->k->sub_mu);
    if (dirty && s->open)
        sync_subs(s, false);
    lws_sul_schedule(s->ctx, 0, &s->sul, on_timer, TIMER_US);
}

static int sock_open(struct sock *s, struct hh_kite *k)
{
    struct lws_context_creation_info info;

    memset(s, 0, sizeof *s);
    s->k = k;
    s->backoff = BACKOFF_MIN;
    if (!(s->pkts = malloc(PKTS_MAX * sizeof *s->pkts)))
        return HH_ENOMEM;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.client_ssl_ca_filepath = k->ca_file;
    info.user = s;
    info.fd_limit_per_thread = 16;
    /* lws logs to stderr by default; nothing of ours goes there */
    lws_set_log_level(0, NULL);
    if (!(s->ctx = lws_create_context(&info)))
        return HH_ENOMEM;
    return HH_OK;
}

static void sock_close(struct sock *s)
{
    if (s->ctx)
        lws_context_destroy(s->ctx);
    for (int i = 0; i < s->ntx; i++)
        free(s->tx[i]);
    memset(s->path, 0, sizeof s->path);
    free(s->msg);
    free(s->pkts);
    free(s->applied);
}

void *hh_kite__sock_main(void *arg)
{
    struct hh_kite *k = arg;
    struct sock s;

    if (sock_open(&s, k) == HH_OK) {
        pthread_mutex_lock(&k->sub_mu);
        k->lws_ctx = s.ctx;
        pthread_mutex_unlock(&k->sub_mu);
        lws_sul_schedule(s.ctx, 0, &s.sul, on_timer, 1);
        while (!atomic_load(&k->stop))
            if (lws_service(s.ctx, 0) < 0)
                break;
        pthread_mutex_lock(&k->sub_mu);
        k->lws_ctx = NULL;
        pthread_mutex_unlock(&k->sub_mu);
    }
    atomic_store(&k->ws_up, false);
    sock_close(&s);
    return NULL;
}
