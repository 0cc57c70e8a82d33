/*
 * ks_api.c — the Kite Connect v3 protocol of the test server: routing,
 * X-Kite-Version and token authorisation, rate limits (10 order calls and
 * 10 other calls per second, else 429), the JSON envelopes, the WebSocket's
 * subscribe/unsubscribe/mode messages, order updates (with their faults)
 * and binary ticks; plus the control endpoint /_ctl/ the tests drive.
 */
#include "ks.h"

#include <json-c/json.h>
#include <stddef.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

/* ---- forms and envelopes ------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode s[0..n) into dst (cap); false when it does not fit or is
 * malformed. */
static bool decode(char *dst, size_t cap, const char *s, size_t n)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];

        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
                return false;
            c = hexval(s[i + 1]) * 16 + hexval(s[i + 2]);
            i += 2;
        }
        if (o + 1 >= cap)
            return false;
        dst[o++] = (char)c;
    }
    dst[o] = '\0';
    return true;
}

int ks_form_parse(const char *s, size_t n, struct ks_form *f)
{
    size_t i = 0;

    f->n = 0;
    while (i < n) {
        const char *amp = memchr(s + i, '&', n - i), *end = amp ? amp : s + n;
        const char *eq = memchr(s + i, '=', (size_t)(end - s - i));

        if (end > s + i) {
            if (f->n == KS_FORM_MAX || !eq ||
                !decode(f->key[f->n], sizeof f->key[0], s + i, (size_t)(eq - s - i)) ||
                !decode(f->val[f->n], sizeof f->val[0], eq + 1, (size_t)(end - eq - 1)))
                return -1;
            f->n++;
        }
        i = (size_t)(end - s) + 1;
    }
    return 0;
}

const char *ks_form_get(const struct ks_form *f, const char *key)
{
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->key[i], key) == 0)
            return f->val[i];
    return NULL;
}

int ks_error(struct ks_buf *body, int status, const char *type, const char *msg)
{
    body->n = 0;
    ks_buf_printf(body, "{\"status\":\"error\",\"message\":");
    ks_buf_jstr(body, msg);
    ks_buf_printf(body, ",\"data\":null,\"error_type\":\"%s\"}", type);
    return status;
}

void ks_success(struct ks_buf *body, const char *data, size_t n)
{
    struct ks_buf b = { 0 };

    ks_buf_printf(&b, "{\"status\":\"success\",\"data\":");
    ks_buf_put(&b, data, n);
    ks_buf_put(&b, "}", 1);
    ks_buf_free(body);
    *body = b;
}

/* ---- authorisation and limits ----------------------------------------------- */

static bool authorised(const struct ks_server *s, const char *auth)
{
    char want[300];

    snprintf(want, sizeof want, "token %s:%s", s->api_key, s->token);
    return !s->token_expired && strcmp(auth, want) == 0;
}

/* Kite's limit: 10 calls in any second per kind.  ring[0..9] are the last
 * ten accepted calls' times. */
static bool over_limit(int64_t *ring, int64_t now)
{
    int64_t oldest = ring[0];

    if (oldest && now - oldest < 1000000000LL)
        return true;
    memmove(ring, ring + 1, 9 * sizeof *ring);
    ring[9] = now;
    return false;
}

static bool is_order_call(const struct ks_req *r)
{
    return strncmp(r->path, "/orders/", 8) == 0 && strcmp(r->method, "GET") != 0;
}

static void record_call(struct ks_server *s, int64_t t)
{
    if (s->ncalls == s->capcalls) {
        s->capcalls = s->capcalls ? 2 * s->capcalls : 256;
        s->call_ns = realloc(s->call_ns, s->capcalls * sizeof *s->call_ns);
    }
    s->call_ns[s->ncalls++] = t;
}

/* ---- routes -------------------------------------------------------------------- */

static uint64_t path_id(const char *p)
{
    char *end;
    unsigned long long v = strtoull(p, &end, 10);

    return end != p && (*end == '\0' || *end == '/') ? v : 0;
}

static int orders_route(struct ks_server *s, const struct ks_req *r, struct ks_buf *body,
                        int *fault)
{
    const char *rest = r->path + 8;     /* after "/orders/" */
    const char *slash = strchr(rest, '/');
    struct ks_form f;

    if (strcmp(r->method, "GET") == 0) {
        uint64_t id = path_id(rest);

        if (!id)
            return ks_error(body, 404, "GeneralException", "Route not found");
        if (slash && strcmp(slash, "/trades") == 0)
            return ks_exch_order_trades(s, id, body);
        return ks_exch_history(s, id, body);
    }
    if (ks_form_parse(r->body, r->blen, &f))
        return ks_error(body, 400, "InputException", "Malformed form body");
    if (strncmp(rest, "regular", 7) != 0 || (rest[7] != '\0' && rest[7] != '/'))
        return ks_error(body, 400, "InputException", "Invalid or unsupported variety");
    if (strcmp(r->method, "POST") == 0 && rest[7] == '\0')
        return ks_exch_place(s, &f, body, fault);
    if (rest[7] == '/' && strcmp(r->method, "PUT") == 0)
        return ks_exch_modify(s, path_id(rest + 8), &f, body);
    if (rest[7] == '/' && strcmp(r->method, "DELETE") == 0)
        return ks_exch_cancel(s, path_id(rest + 8), body);
    return ks_error(body, 405, "InputException", "Method not allowed");
}

static int profile(struct ks_server *s, struct ks_buf *body)
{
    struct ks_buf d = { 0 };

    ks_buf_printf(&d, "{\"user_id\":");
    ks_buf_jstr(&d, s->user);
    ks_buf_printf(&d, ",\"user_name\":\"Test User\",\"user_shortname\":\"Test\","
                      "\"email\":\"test@example.com\",\"user_type\":\"individual\","
                      "\"broker\":\"ZERODHA\",\"exchanges\":[\"NSE\",\"NFO\",\"BSE\","
                      "\"BFO\",\"MCX\",\"CDS\"],\"products\":[\"CNC\",\"NRML\",\"MIS\"],"
                      "\"order_types\":[\"MARKET\",\"LIMIT\",\"SL\",\"SL-M\"]}");
    ks_success(body, d.p, d.n);
    ks_buf_free(&d);
    return 200;
}

static int api_route(struct ks_server *s, const struct ks_req *r, struct ks_buf *body,
                     int *fault)
{
    bool get = strcmp(r->method, "GET") == 0;

    if (strncmp(r->path, "/orders/", 8) == 0)
        return orders_route(s, r, body, fault);
    if (get && strcmp(r->path, "/orders") == 0)
        return ks_exch_orders(s, body);
    if (get && strcmp(r->path, "/trades") == 0)
        return ks_exch_trades(s, body);
    if (get && strcmp(r->path, "/portfolio/positions") == 0)
        return ks_exch_positions(s, body);
    if (get && strcmp(r->path, "/user/margins") == 0)
        return ks_exch_margins(s, body);
    if (get && strcmp(r->path, "/user/profile") == 0)
        return profile(s, body);
    if (!get && strcmp(r->path, "/margins/basket") == 0)
        return ks_exch_basket(s, r->body, r->blen, body);
    return ks_error(body, 404, "GeneralException", "Route not found");
}

/* POST /session/token: checksum = hex SHA-256(api_key + request_token +
 * api_secret) gives the access token. */
static int session(struct ks_server *s, const struct ks_req *r, struct ks_buf *body)
{
    struct ks_form f;
    const char *key, *rt, *sum;
    unsigned char h[SHA256_DIGEST_LENGTH];
    char joined[512], hex[2 * SHA256_DIGEST_LENGTH + 1];
    struct ks_buf d = { 0 };

    if (ks_form_parse(r->body, r->blen, &f) || !(key = ks_form_get(&f, "api_key")) ||
        !(rt = ks_form_get(&f, "request_token")) || !(sum = ks_form_get(&f, "checksum")))
        return ks_error(body, 400, "InputException", "Missing api_key, request_token or checksum");
    snprintf(joined, sizeof joined, "%s%s%s", key, rt, s->api_secret);
    SHA256((const unsigned char *)joined, strlen(joined), h);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    if (strcmp(key, s->api_key) || strcmp(sum, hex))
        return ks_error(body, 403, "TokenException", "Invalid checksum");
    s->token_expired = false;
    ks_buf_printf(&d, "{\"user_id\":");
    ks_buf_jstr(&d, s->user);
    ks_buf_printf(&d, ",\"access_token\":");
    ks_buf_jstr(&d, s->token);
    ks_buf_printf(&d, ",\"login_time\":\"2026-01-01 09:00:00\"}");
    ks_success(body, d.p, d.n);
    ks_buf_free(&d);
    return 200;
}

/* ---- control (tests only) --------------------------------------------------------- */

static int fault_set(struct ks_server *s, const struct ks_form *f)
{
    static const struct {
        const char *name;
        size_t off;
    } pct[] = {
        { "p429", offsetof(struct ks_faults, p429) },
        { "p503", offsetof(struct ks_faults, p503) },
        { "place_timeout", offsetof(struct ks_faults, place_timeout) },
        { "place_drop", offsetof(struct ks_faults, place_drop) },
        { "place_5xx", offsetof(struct ks_faults, place_5xx) },
        { "ws_drop", offsetof(struct ks_faults, ws_drop) },
        { "ws_dup", offsetof(struct ks_faults, ws_dup) },
        { "ws_reorder", offsetof(struct ks_faults, ws_reorder) },
    };
    static const struct {
        const char *name;
        size_t off;
    } ms[] = {
        { "ws_cut_every_ms", offsetof(struct ks_faults, ws_cut_every) },
        { "book_lag_ms", offsetof(struct ks_faults, book_lag) },
        { "transient_ms", offsetof(struct ks_faults, transient) },
        { "hold_ms", offsetof(struct ks_faults, hold) },
    };

    for (int i = 0; i < f->n; i++) {
        bool found = false;
        long v = strtol(f->val[i], NULL, 10);

        for (size_t j = 0; j < sizeof pct / sizeof pct[0]; j++) {
            if (strcmp(f->key[i], pct[j].name) == 0) {
                *(int *)((char *)&s->f + pct[j].off) = (int)v;
                found = true;
            }
        }
        for (size_t j = 0; j < sizeof ms / sizeof ms[0]; j++) {
            if (strcmp(f->key[i], ms[j].name) == 0) {
                *(int64_t *)((char *)&s->f + ms[j].off) = (int64_t)v * 1000000;
                found = true;
            }
        }
        if (!found)
            return -1;
    }
    return 0;
}

static void cut_sockets(struct ks_server *s)
{
    for (size_t i = 0; i < s->nconns; i++) {
        if (s->conns[i]->ws) {
            s->conns[i]->dead = true;
            s->ws_cuts++;
        }
    }
}

static int done(struct ks_buf *body)
{
    ks_success(body, "true", 4);
    return 200;
}

static int control(struct ks_server *s, const struct ks_req *r, struct ks_buf *body)
{
    const char *what = r->path + 6;     /* after "/_ctl/" */
    struct ks_form f;

    /* arguments in the body, else in the query */
    if (r->blen ? ks_form_parse(r->body, r->blen, &f)
                : ks_form_parse(r->query, strlen(r->query), &f))
        return ks_error(body, 400, "InputException", "Malformed form");
    if (strcmp(what, "records") == 0)
        return ks_exch_records(s, body);
    if (strcmp(what, "check") == 0)
        return ks_exch_check(s, body);
    if (strcmp(what, "fault") == 0 && fault_set(s, &f) == 0)
        return done(body);
    if (strcmp(what, "expire_token") == 0) {
        s->token_expired = true;
        return done(body);
    }
    if (strcmp(what, "token") == 0 && ks_form_get(&f, "access_token")) {
        snprintf(s->token, sizeof s->token, "%s", ks_form_get(&f, "access_token"));
        s->token_expired = false;
        return done(body);
    }
    if (strcmp(what, "ws_drop") == 0) {
        cut_sockets(s);
        return done(body);
    }
    if (strcmp(what, "cancel") == 0 && ks_exch_broker_cancel(s, ks_form_get(&f, "symbol")) >= 0)
        return done(body);
    if (strcmp(what, "close_position") == 0 && ks_form_get(&f, "symbol") &&
        ks_exch_close_position(s, ks_form_get(&f, "symbol")) == 0)
        return done(body);
    if (strcmp(what, "quit") == 0) {
        s->quit = true;
        return done(body);
    }
    return ks_error(body, 400, "InputException", "Unknown control or argument");
}

/* ---- requests --------------------------------------------------------------------- */

static void answer(struct ks_conn *c, int status, struct ks_buf *body)
{
    ks_http_answer(c, status, "application/json", body->p ? body->p : "", body->n);
}

static void instruments(struct ks_server *s, struct ks_conn *c)
{
    FILE *f = fopen(s->instruments_path, "rb");
    struct ks_buf b = { 0 };
    char buf[8192];
    size_t n;

    while (f && (n = fread(buf, 1, sizeof buf, f)) > 0)
        ks_buf_put(&b, buf, n);
    if (f)
        fclose(f);
    ks_http_answer(c, 200, "text/csv", b.p ? b.p : "", b.n);
    ks_buf_free(&b);
}

/* True for exactly pct of the calls, evenly spread (a running remainder). */
static bool share_due(int *acc, int pct)
{
    *acc += pct;
    if (*acc < 100)
        return false;
    *acc -= 100;
    return true;
}

/* The fault a placement asked for: hold the answer, cut, or answer 503. */
static void place_fault(struct ks_server *s, struct ks_conn *c, int fault, int *status,
                        struct ks_buf *body)
{
    if (fault == 1) {
        c->hold_until = ks_mono() + s->f.hold;
    } else if (fault == 2) {
        c->dead = true;
    } else if (fault == 3) {
        *status = ks_error(body, 503, "NetworkException",
                           "Gateway timed out (the order may have been placed)");
    }
}

void ks_api_request(struct ks_server *s, struct ks_conn *c, const struct ks_req *r)
{
    struct ks_buf body = { 0 };
    int64_t now = ks_mono();
    int status, fault = 0;
    bool order = is_order_call(r);

    if (r->upgrade && r->wskey[0]) {
        struct ks_form f;

        if (ks_form_parse(r->query, strlen(r->query), &f) || !ks_form_get(&f, "api_key") ||
            !ks_form_get(&f, "access_token") || strcmp(ks_form_get(&f, "api_key"), s->api_key) ||
            strcmp(ks_form_get(&f, "access_token"), s->token) || s->token_expired) {
            ks_http_answer(c, 403, "text/plain", "Forbidden", 9);
            c->closing = true;
        } else {
            ks_ws_accept(c, r->wskey);
        }
        return;
    }
    if (strncmp(r->path, "/_ctl/", 6) == 0) {
        status = control(s, r, &body);
    } else if (strcmp(r->path, "/instruments") == 0) {
        instruments(s, c);
        return;
    } else if (strcmp(r->path, "/session/token") == 0) {
        status = session(s, r, &body);
    } else if (strcmp(r->version, "3") != 0) {
        status = ks_error(&body, 400, "InputException", "Missing or invalid X-Kite-Version");
    } else if (!authorised(s, r->auth)) {
        status = ks_error(&body, 403, "TokenException",
                          "Incorrect `api_key` or `access_token`.");
    } else {
        if (order)
            record_call(s, ks_real());
        if (over_limit(order ? s->last_calls_ns : s->last_other_ns, now) ||
            (order && share_due(&s->p429_acc, s->f.p429))) {
            s->limited++;
            status = ks_error(&body, 429, "NetworkException", "Too many requests");
        } else if (ks_pct(s) < s->f.p503) {
            s->faults_fired++;
            status = ks_error(&body, 503, "NetworkException", "Service unavailable");
        } else {
            status = api_route(s, r, &body, &fault);
            if (fault)
                place_fault(s, c, fault, &status, &body);
        }
    }
    if (!c->dead && !c->hold_until)
        answer(c, status, &body);
    ks_buf_free(&body);
}

/* ---- the socket ------------------------------------------------------------------- */

static int mode_of(const char *m)
{
    return strcmp(m, "full") == 0 ? 2 : strcmp(m, "quote") == 0 ? 1 : 0;
}

static struct ks_sub *sub_find(struct ks_conn *c, uint32_t token)
{
    for (size_t i = 0; i < c->nsubs; i++)
        if (c->subs[i].token == token)
            return &c->subs[i];
    return NULL;
}

static void sub_set(struct ks_conn *c, uint32_t token, int mode, bool add, bool del)
{
    struct ks_sub *x = sub_find(c, token);

    if (del) {
        if (x)
            *x = c->subs[--c->nsubs];
        return;
    }
    if (!x && add) {
        if (c->nsubs == c->capsubs) {
            c->capsubs = c->capsubs ? 2 * c->capsubs : 16;
            c->subs = realloc(c->subs, c->capsubs * sizeof *c->subs);
        }
        x = &c->subs[c->nsubs++];
        x->token = token;
        x->mode = 1;                    /* Kite's default: quote */
    }
    if (x && mode >= 0)
        x->mode = mode;
}

/* A subscribe or unsubscribe message, for the records (the tests judge the
 * adapter's subscriptions by them). */
static void record_subscription(struct ks_server *s, const char *act, struct json_object *list)
{
    if (s->nsubscriptions++)
        ks_buf_put(&s->subscriptions, ",", 1);
    ks_buf_printf(&s->subscriptions, "{\"t_ns\":%lld,\"a\":", (long long)ks_real());
    ks_buf_jstr(&s->subscriptions, act);
    ks_buf_printf(&s->subscriptions, ",\"v\":[");
    for (size_t i = 0; i < json_object_array_length(list); i++)
        ks_buf_printf(&s->subscriptions, "%s%lld", i ? "," : "",
                      (long long)json_object_get_int64(json_object_array_get_idx(list, i)));
    ks_buf_printf(&s->subscriptions, "]}");
}

void ks_api_ws_text(struct ks_server *s, struct ks_conn *c, const char *p, size_t n)
{
    struct json_object *o, *a, *v, *list;
    const char *act;
    int mode = -1;

    if (n > 1 << 20 || !(o = json_tokener_parse(p)))
        return;
    if (!json_object_object_get_ex(o, "a", &a) || !json_object_object_get_ex(o, "v", &v) ||
        !json_object_is_type(v, json_type_array))
        goto out;
    act = json_object_get_string(a);
    list = v;
    if (strcmp(act, "mode") == 0) {
        if (json_object_array_length(v) != 2)
            goto out;
        mode = mode_of(json_object_get_string(json_object_array_get_idx(v, 0)));
        list = json_object_array_get_idx(v, 1);
        if (!json_object_is_type(list, json_type_array))
            goto out;
    }
    if (strcmp(act, "subscribe") == 0 || strcmp(act, "unsubscribe") == 0)
        record_subscription(s, act, list);
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        uint32_t t = (uint32_t)json_object_get_int64(json_object_array_get_idx(list, i));

        sub_set(c, t, mode, strcmp(act, "subscribe") == 0, strcmp(act, "unsubscribe") == 0);
    }
out:
    json_object_put(o);
}

static void fan_out(struct ks_server *s, const char *json, size_t n)
{
    for (size_t i = 0; i < s->nconns; i++)
        if (s->conns[i]->ws && !s->conns[i]->dead)
            ks_ws_send(s->conns[i], 1, json, n);
    s->updates_sent++;
}

void ks_api_order_update(struct ks_server *s, const char *json, size_t n)
{
    if (ks_pct(s) < s->f.ws_drop) {
        s->updates_dropped++;
        return;
    }
    if (!s->have_held && ks_pct(s) < s->f.ws_reorder) {
        s->held_update.n = 0;
        ks_buf_put(&s->held_update, json, n);
        s->have_held = true;            /* sent after the next one */
        s->updates_reordered++;
        return;
    }
    fan_out(s, json, n);
    if (ks_pct(s) < s->f.ws_dup) {
        fan_out(s, json, n);
        s->updates_duplicated++;
    }
    if (s->have_held) {
        s->have_held = false;
        fan_out(s, s->held_update.p, s->held_update.n);
    }
}

/* ---- ticks ------------------------------------------------------------------------ */

static void be32(uint8_t *p, int64_t v)
{
    uint32_t u = (uint32_t)v;

    p[0] = (uint8_t)(u >> 24);
    p[1] = (uint8_t)(u >> 16);
    p[2] = (uint8_t)(u >> 8);
    p[3] = (uint8_t)u;
}

/* A price in the wire's unit for the token's segment (CDS 1e-7, BCD 1e-4,
 * else paise). */
static int64_t wire(uint32_t token, hh_price_t v)
{
    switch (token & 0xff) {
    case 3: return v * 1000;
    case 6: return v;
    default: return v / HH_PAISA;
    }
}

/* One packet for mode (index packets for indices); its length. */
static size_t packet(const struct hh_instrument *in, const struct ks_mkt *m, int mode,
                     uint8_t *p)
{
    uint32_t tk = in->token;

    memset(p, 0, 184);
    be32(p, tk);
    be32(p + 4, wire(tk, m->last));
    if (mode == 0)
        return 8;
    if (in->type == HH_INST_INDEX) {
        be32(p + 8, wire(tk, m->high));
        be32(p + 12, wire(tk, m->low));
        be32(p + 16, wire(tk, m->open));
        be32(p + 20, wire(tk, m->close));
        be32(p + 24, wire(tk, m->last - m->close));
        if (mode == 1)
            return 28;
        be32(p + 28, m->ts / 1000000000LL);
        return 32;
    }
    be32(p + 8, m->last_qty);
    be32(p + 12, wire(tk, m->last));
    be32(p + 16, m->volume);
    be32(p + 28, wire(tk, m->open));
    be32(p + 32, wire(tk, m->high));
    be32(p + 36, wire(tk, m->low));
    be32(p + 40, wire(tk, m->close));
    if (mode == 1)
        return 44;
    be32(p + 44, m->ts / 1000000000LL);
    be32(p + 60, m->ts / 1000000000LL);
    for (int i = 0; i < 10; i++) {
        hh_price_t px = i < 5 ? m->bid - i * in->tick : m->ask + (i - 5) * in->tick;

        be32(p + 64 + 12 * i, 100);
        be32(p + 64 + 12 * i + 4, wire(tk, px > 0 ? px : 0));
        p[64 + 12 * i + 9] = 1;
    }
    return 184;
}

void ks_api_broadcast_tick(struct ks_server *s, const struct hh_tick *t)
{
    const struct hh_instrument *in = hh_inst_get(s->inst, t->iid);
    const struct ks_mkt *m = ks_exch_mkt(s, t->iid);
    uint8_t frame[4 + 184];

    if (!in || !in->token || !m)
        return;
    for (size_t i = 0; i < s->nconns; i++) {
        struct ks_conn *c = s->conns[i];
        struct ks_sub *x;
        size_t n;

        if (!c->ws || c->dead || !(x = sub_find(c, in->token)))
            continue;
        n = packet(in, m, x->mode, frame + 4);
        frame[0] = 0;
        frame[1] = 1;
        frame[2] = (uint8_t)(n >> 8);
        frame[3] = (uint8_t)n;
        ks_ws_send(c, 2, frame, 4 + n);
    }
}
