/*
 * apitest.h — what the API unit tests share (header-only): secret files
 * with the right mode, HTTP requests through libcurl, signed headers, and
 * a thread that plays the core (answers commands, collects refusals).
 * Everything runs on 127.0.0.1 and every wait is bounded.
 */
#ifndef HH_APITEST_H
#define HH_APITEST_H

#include "testutil.h"

#include "api/api.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>

#define AT_SECRET1 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define AT_SECRET2 "f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f"
#define AT_TOKEN   "read-token-0123456789abcdef"

/* A file of `text` with `mode` (slot as tu_write_file). */
static inline const char *at_file(int slot, const char *name, const char *text, mode_t mode)
{
    const char *p = tu_write_file(slot, name, text);

    if (p && chmod(p, mode) != 0)
        return NULL;
    return p;
}

static inline int64_t at_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline double at_mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline struct hh_api_key at_key(const char *id, const char *hex)
{
    struct hh_api_key k;

    memset(&k, 0, sizeof k);
    snprintf(k.id, sizeof k.id, "%s", id);
    for (size_t i = 0; i < strlen(hex) / 2; i++) {
        unsigned v;

        sscanf(hex + 2 * i, "%2x", &v);
        k.secret[i] = (unsigned char)v;
    }
    k.secret_len = strlen(hex) / 2;
    return k;
}

/* The four signed headers, "Name: value" each. */
struct at_sig {
    char h[4][160];
};

static inline struct at_sig at_sign(const struct hh_api_key *k, const char *method,
                                    const char *target, const char *body, int64_t ts,
                                    const char *nonce)
{
    struct at_sig s;
    char tsbuf[24], sig[65];

    snprintf(tsbuf, sizeof tsbuf, "%lld", (long long)ts);
    hh_api_sign(k, tsbuf, nonce, method, target, body, body ? strlen(body) : 0, sig);
    snprintf(s.h[0], sizeof s.h[0], "X-HH-Key: %s", k->id);
    snprintf(s.h[1], sizeof s.h[1], "X-HH-Timestamp: %s", tsbuf);
    snprintf(s.h[2], sizeof s.h[2], "X-HH-Nonce: %s", nonce);
    snprintf(s.h[3], sizeof s.h[3], "X-HH-Signature: %s", sig);
    return s;
}

/* A fresh nonce per call in this process. */
static inline const char *at_nonce(void)
{
    static _Atomic unsigned n;
    static __thread char buf[40];

    snprintf(buf, sizeof buf, "nonce-%d-%u-abcdef", (int)getpid(), atomic_fetch_add(&n, 1));
    return buf;
}

struct at_resp {
    long status;
    char body[70000];
    size_t len;
    char headers[4096];
    size_t hlen;
};

static inline size_t at_on_body(char *d, size_t s, size_t n, void *ctx)
{
    struct at_resp *r = ctx;
    size_t k = s * n, room = sizeof r->body - 1 - r->len;

    memcpy(r->body + r->len, d, k < room ? k : room);
    r->len += k < room ? k : room;
    r->body[r->len] = '\0';
    return k;
}

static inline size_t at_on_header(char *d, size_t s, size_t n, void *ctx)
{
    struct at_resp *r = ctx;
    size_t k = s * n, room = sizeof r->headers - 1 - r->hlen;

    memcpy(r->headers + r->hlen, d, k < room ? k : room);
    r->hlen += k < room ? k : room;
    r->headers[r->hlen] = '\0';
    return k;
}

/*
 * method target on 127.0.0.1:port with the extra headers (NULL-ended) and
 * body (NULL: none).  Returns the status (0 when no answer).  `from`
 * (NULL: default) is the local address to connect from.
 */
static inline long at_http_from(int port, const char *from, const char *method,
                                const char *target, const char *body,
                                const char *const *headers, struct at_resp *out)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Expect:");
    char url[512];

    memset(out, 0, sizeof *out);
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, target);
    for (int i = 0; headers && headers[i]; i++)
        h = curl_slist_append(h, headers[i]);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, at_on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, at_on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
    if (from)
        curl_easy_setopt(c, CURLOPT_INTERFACE, from);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return out->status;
}

static inline long at_http(int port, const char *method, const char *target, const char *body,
                           const char *const *headers, struct at_resp *out)
{
    return at_http_from(port, NULL, method, target, body, headers, out);
}

/* A signed request with key k, now, a fresh nonce. */
static inline long at_signed(int port, const struct hh_api_key *k, const char *method,
                             const char *target, const char *body, struct at_resp *out)
{
    struct at_sig s = at_sign(k, method, target, body, at_now_ms(), at_nonce());
    const char *h[] = { s.h[0], s.h[1], s.h[2], s.h[3], NULL };

    return at_http(port, method, target, body, h, out);
}

/* ---- a thread playing the core --------------------------------------- */

struct at_core {
    struct hh_api *api;
    pthread_t thread;
    _Atomic bool stop;
    _Atomic bool answer;             /* answer commands (else leave them) */
    _Atomic int commands;            /* commands taken */
    _Atomic int refusals;            /* REFUSED events taken */
    int refused_codes[HH_API_REF_COUNT];
    char last_path[HH_API_PATH_MAX + 1];
    char last_body[256];
    char last_reason[HH_API_REASON_MAX + 1];
    char last_key[HH_API_KEY_ID_MAX + 1];
    enum hh_api_cmd_kind last_kind;
    enum hh_api_kill_action last_action;
    uint64_t last_trade;
    struct hh_api_command cmd;
};

static inline void *at_core_main(void *arg)
{
    struct at_core *c = arg;

    while (!atomic_load(&c->stop)) {
        if (!hh_api_next_command(c->api, &c->cmd)) {
            usleep(1000);
            continue;
        }
        if (c->cmd.kind == HH_API_CMD_REFUSED) {
            c->refused_codes[c->cmd.refusal]++;
            snprintf(c->last_path, sizeof c->last_path, "%s", c->cmd.path);
            atomic_fetch_add(&c->refusals, 1);
            continue;
        }
        c->last_kind = c->cmd.kind;
        c->last_action = c->cmd.action;
        c->last_trade = c->cmd.trade_id;
        snprintf(c->last_path, sizeof c->last_path, "%s", c->cmd.path);
        snprintf(c->last_body, sizeof c->last_body, "%.255s", c->cmd.body);
        snprintf(c->last_reason, sizeof c->last_reason, "%s", c->cmd.reason);
        snprintf(c->last_key, sizeof c->last_key, "%s", c->cmd.key_id);
        atomic_fetch_add(&c->commands, 1);
        if (atomic_load(&c->answer))
            hh_api_answer(c->api, c->cmd.id, 200, "{\"ok\":true}");
    }
    return NULL;
}

static inline void at_core_start(struct at_core *c, struct hh_api *api)
{
    memset(c, 0, sizeof *c);
    c->api = api;
    atomic_store(&c->answer, true);
    pthread_create(&c->thread, NULL, at_core_main, c);
}

static inline void at_core_stop(struct at_core *c)
{
    atomic_store(&c->stop, true);
    pthread_join(c->thread, NULL);
}

/* Wait (at most 5 s) until *counter reaches n. */
static inline bool at_wait_count(_Atomic int *counter, int n)
{
    for (int i = 0; i < 5000 && atomic_load(counter) < n; i++)
        usleep(1000);
    return atomic_load(counter) >= n;
}

#endif
