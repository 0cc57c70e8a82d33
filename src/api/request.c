/*
 * request.c — one HTTP request from its first line to its answer, on a
 * libmicrohttpd thread.
 *
 *   first call (headers)  allowlist (403), route (404/405), Content-Length
 *                         (411/413); an answer for a request with a body
 *                         is sent at once, so the body is never read
 *   body calls            the body, up to Content-Length (<= body_max)
 *   last call             authentication (401), the body (400), then
 *                         - a read: served from the published copies
 *                         - a signed request: held (suspended) until its
 *                           nonce is durable, then a read is served or a
 *                           command queued for the core and held again
 *                           until answered or timed out
 *   completion            the request is freed
 *
 * Answers otherwise come on the call after the headers at the earliest:
 * answering on the first call loses HTTP keep-alive.  Every answer is
 * counted by status, every request by route, every refusal by code, and
 * refusals reach the core for its audit trail.  The request target is used
 * as sent (no percent-decoding) for routing and for the signature.
 */
#include "api/api_int.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define REPORT_FILE_MAX (16u << 20)

static const char *header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* ---- sending ---------------------------------------------------------- */

static void add_common_headers(struct MHD_Response *resp, const char *type)
{
    MHD_add_response_header(resp, "Content-Type", type);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
}

/* Headers an error status calls for. */
static void add_status_headers(struct MHD_Response *resp, const struct hh_api__req *r,
                               int status)
{
    if (status == 405 && r->allow)
        MHD_add_response_header(resp, "Allow", r->allow);
    if (status == 401)
        MHD_add_response_header(resp, "WWW-Authenticate", "HH-HMAC-SHA256");
    if (status == 503)
        MHD_add_response_header(resp, "Retry-After", "1");
}

/* Queue a shared, persistent response. */
static enum MHD_Result send_shared(struct hh_api *a, struct hh_api__req *r, int status,
                                   struct MHD_Response *resp)
{
    hh_api_count(a, HH_API_M_API_RESPONSES, hh_api__status_series(status), 1);
    return MHD_queue_response(r->conn, (unsigned)status, resp);
}

/* Send body (malloc'd, ownership taken; NULL: out of memory → 500). */
static enum MHD_Result send_owned(struct hh_api *a, struct hh_api__req *r, int status,
                                  char *body, size_t len, const char *type)
{
    static char oom[] = "{\"error\":\"OUT_OF_MEMORY\"}";
    struct MHD_Response *resp;
    enum MHD_Result ret;

    if (!body) {
        status = 500;
        resp = MHD_create_response_from_buffer(sizeof oom - 1, oom, MHD_RESPMEM_PERSISTENT);
    } else {
        resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    }
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    add_common_headers(resp, type);
    add_status_headers(resp, r, status);
    hh_api_count(a, HH_API_M_API_RESPONSES, hh_api__status_series(status), 1);
    ret = MHD_queue_response(r->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result send_answer(struct hh_api *a, struct hh_api__req *r)
{
    char *body = r->resp;

    r->resp = NULL;
    return send_owned(a, r, r->status, body, r->resp_len, "application/json");
}

static void set_error(struct hh_api__req *r, int status, const char *code, const char *detail)
{
    size_t len = 0;
    char *body = hh_api__error_json(code, detail, &len);

    hh_api__req_answer(r, status, body, len);
}

static void refuse(struct hh_api *a, struct hh_api__req *r, enum hh_api_refusal code)
{
    hh_api_count(a, HH_API_M_API_REFUSED, (int)code, 1);
    hh_api__refusal_push(a, r, code);
    set_error(r, code == HH_API_REF_FORBIDDEN_ADDRESS ? 403 : 401, hh_api_refusal_name(code),
              NULL);
}

/* ---- the first call: headers ------------------------------------------ */

static void client_of(struct hh_api *a, struct hh_api__req *r)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;

    hh_api__addr_text(sa, r->client, sizeof r->client);
    if (!hh_api__net_allows(a->allow, a->nallow, sa))
        refuse(a, r, HH_API_REF_FORBIDDEN_ADDRESS);
}

/* Content-Length and Transfer-Encoding: the body buffer or 411 / 413. */
static void body_limits(struct hh_api *a, struct hh_api__req *r, unsigned long long n,
                        bool chunked)
{
    char detail[64];

    if (chunked) {
        set_error(r, 411, "LENGTH_REQUIRED", "send the body with a Content-Length");
    } else if (n > a->cfg.body_max) {
        snprintf(detail, sizeof detail, "the body may have at most %zu bytes",
                 a->cfg.body_max);
        set_error(r, 413, "BODY_TOO_LARGE", detail);
    } else if (!(r->body = malloc((size_t)n + 1))) {
        set_error(r, 500, "OUT_OF_MEMORY", NULL);
    } else {
        r->body_cap = (size_t)n;
        r->body[0] = '\0';
    }
}

static void begin(struct hh_api *a, struct hh_api__req *r, const char *method)
{
    const char *cl = header(r->conn, "Content-Length");
    bool chunked = header(r->conn, "Transfer-Encoding") != NULL, known = false;
    unsigned long long n = cl ? strtoull(cl, NULL, 10) : 0;
    const struct hh_api__route *rt =
        hh_api__route_find(method, r->target, r->path_len, &known, &r->allow, &r->path_id);

    snprintf(r->method, sizeof r->method, "%s", method);
    r->received_ms = hh_api__now_ms(a);
    r->route = rt;
    r->has_body = n > 0 || chunked;
    hh_api_count(a, HH_API_M_API_REQUESTS, rt ? (int)(rt - hh_api__routes)
                                              : (int)hh_api__nroutes, 1);
    r->state = HH_API__RQ_BODY;
    client_of(a, r);
    if (r->state == HH_API__RQ_ANSWER)
        return;
    if (!rt)
        set_error(r, known ? 405 : 404, known ? "METHOD_NOT_ALLOWED" : "NOT_FOUND", NULL);
    else
        body_limits(a, r, n, chunked);
}

static void append_body(struct hh_api__req *r, const char *data, size_t n)
{
    if (r->state != HH_API__RQ_BODY)
        return;
    if (n > r->body_cap - r->body_len) {
        set_error(r, 413, "BODY_TOO_LARGE", "more bytes than Content-Length");
        return;
    }
    memcpy(r->body + r->body_len, data, n);
    r->body_len += n;
    r->body[r->body_len] = '\0';
}

/* ---- reads ------------------------------------------------------------ */

static enum MHD_Result send_doc(struct hh_api *a, struct hh_api__req *r, char *doc,
                                size_t len, int rc)
{
    if (rc != HH_OK)
        return send_owned(a, r, 500, NULL, 0, "application/json");
    if (!doc) {
        set_error(r, 503, "NOT_READY", "the engine has not published this yet");
        return send_answer(a, r);
    }
    return send_owned(a, r, 200, doc, len, "application/json");
}

static enum MHD_Result serve_ready(struct hh_api *a, struct hh_api__req *r)
{
    static const char starting[] =
        "{\"status\":\"DOWN\",\"components\":{\"engine\":{\"status\":\"DOWN\","
        "\"detail\":\"starting\"}}}";
    bool ready = false;
    size_t len = 0;
    char *doc = NULL;
    int rc = hh_api__health_copy(a, &doc, &len, &ready);

    if (rc == HH_OK && !doc) {
        doc = strdup(starting);
        len = sizeof starting - 1;
    }
    return send_owned(a, r, ready ? 200 : 503, doc, len, "application/json");
}

static enum MHD_Result serve_metrics(struct hh_api *a, struct hh_api__req *r)
{
    char *text = NULL;
    size_t len = 0;

    hh_api_metrics_render(a, &text, &len);
    return send_owned(a, r, 200, text, len, "text/plain; version=0.0.4; charset=utf-8");
}

/* The value of query parameter `name`, copied into out; false when absent. */
static bool query_param(const struct hh_api__req *r, const char *name, char *out, size_t cap)
{
    const char *q = r->target[r->path_len] == '?' ? r->target + r->path_len + 1 : NULL;
    size_t nl = strlen(name);

    while (q && *q) {
        size_t len = strcspn(q, "&");

        if (len > nl && !strncmp(q, name, nl) && q[nl] == '=') {
            snprintf(out, cap, "%.*s", (int)(len - nl - 1), q + nl + 1);
            return true;
        }
        q += len + (q[len] == '&');
    }
    return false;
}

/* report_dir/DATE.json (date already checked: no path tricks). */
static int read_report(struct hh_api *a, const char *date, char **out, size_t *len)
{
    char path[4096];
    struct stat st;
    FILE *f;
    int rc = HH_EIO;

    *out = NULL;
    snprintf(path, sizeof path, "%s/%s.json", a->report_dir, date);
    if (!(f = fopen(path, "r")))
        return errno == ENOENT ? HH_ENOTFOUND : HH_EIO;
    if (fstat(fileno(f), &st) == 0 && st.st_size <= REPORT_FILE_MAX &&
        (*out = malloc((size_t)st.st_size + 1))) {
        *len = fread(*out, 1, (size_t)st.st_size, f);
        rc = *len == (size_t)st.st_size ? HH_OK : HH_EIO;
    }
    fclose(f);
    if (rc != HH_OK) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

static enum MHD_Result serve_report(struct hh_api *a, struct hh_api__req *r)
{
    char date[16], *doc = NULL;
    size_t len = 0;
    bool dated = query_param(r, "date", date, sizeof date);
    int rc;

    if (dated && !hh_api__date_ok(date)) {
        set_error(r, 400, "BAD_REQUEST", "date must be YYYY-MM-DD");
        return send_answer(a, r);
    }
    rc = hh_api__report_copy(a, dated ? date : NULL, &doc, &len);
    if (rc == HH_OK && !doc && dated && a->report_dir)
        rc = read_report(a, date, &doc, &len);
    if (rc == HH_OK && doc)
        return send_owned(a, r, 200, doc, len, "application/json");
    if (rc == HH_EIO)
        set_error(r, 500, "REPORT_UNREADABLE", NULL);
    else
        set_error(r, 404, "NO_REPORT", "no report for that date");
    return send_answer(a, r);
}

static enum MHD_Result serve(struct hh_api *a, struct hh_api__req *r)
{
    char *doc = NULL;
    size_t len = 0;
    int rc;

    switch (r->route->handler) {
    case HH_API__H_LIVE:
        return send_shared(a, r, 200, a->live_resp);
    case HH_API__H_READY:
        return serve_ready(a, r);
    case HH_API__H_METRICS:
        return serve_metrics(a, r);
    case HH_API__H_PAGE:
        return send_shared(a, r, 200, a->page_resp);
    case HH_API__H_REPORT:
        return serve_report(a, r);
    case HH_API__H_DOC:
        rc = hh_api__doc_copy(a, r->route->doc, &doc, &len);
        return send_doc(a, r, doc, len, rc);
    case HH_API__H_SIGNAL:
    case HH_API__H_KILL:
    case HH_API__H_RESUME:
    case HH_API__H_EXIT:
        break;
    }
    HH_ASSERT(!"a command route served as a read");
}

/* ---- commands --------------------------------------------------------- */

/* The body as a JSON object (NULL and a 400 answer otherwise). */
static struct json_object *body_object(struct hh_api__req *r, bool optional)
{
    struct json_tokener *tok;
    struct json_object *o = NULL;
    size_t end = 0;

    if (!r->body_len && optional)
        return json_object_new_object();
    if ((tok = json_tokener_new())) {
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        o = json_tokener_parse_ex(tok, r->body ? r->body : "", (int)r->body_len);
        end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
    }
    if (o && (!json_object_is_type(o, json_type_object) ||
              strspn(r->body + end, " \t\r\n") != r->body_len - end)) {
        json_object_put(o);
        o = NULL;
    }
    if (!o)
        set_error(r, 400, "BAD_REQUEST", "the body must be one JSON object");
    return o;
}

/* The optional "reason" string; false (and a 400) when malformed. */
static bool take_reason(struct hh_api__req *r, struct json_object *o)
{
    struct json_object *v;

    if (!json_object_object_get_ex(o, "reason", &v))
        return true;
    if (!json_object_is_type(v, json_type_string) ||
        (size_t)json_object_get_string_len(v) > HH_API_REASON_MAX) {
        set_error(r, 400, "BAD_REQUEST", "reason must be a string of at most 256 bytes");
        return false;
    }
    snprintf(r->reason, sizeof r->reason, "%s", json_object_get_string(v));
    return true;
}

static bool take_action(struct hh_api__req *r, struct json_object *o)
{
    struct json_object *v;
    const char *s;

    if (json_object_object_get_ex(o, "action", &v) && json_object_is_type(v, json_type_string))
        for (int k = HH_API_KILL_PAUSE; k <= HH_API_KILL_FLATTEN; k++) {
            s = hh_api_kill_action_name((enum hh_api_kill_action)k);
            if (!strcmp(json_object_get_string(v), s)) {
                r->action = (enum hh_api_kill_action)k;
                return true;
            }
        }
    set_error(r, 400, "BAD_REQUEST", "action must be one of pause, reduce, halt, flatten");
    return false;
}

/* What a POST asks, checked; false with a 400 answer when malformed. */
static bool parse_command(struct hh_api__req *r)
{
    enum hh_api__handler h = r->route->handler;
    struct json_object *o = body_object(r, h == HH_API__H_RESUME || h == HH_API__H_EXIT);
    bool ok;

    if (!o)
        return false;
    r->kind = h == HH_API__H_SIGNAL ? HH_API_CMD_SIGNAL
            : h == HH_API__H_KILL   ? HH_API_CMD_KILL
            : h == HH_API__H_RESUME ? HH_API_CMD_RESUME
                                    : HH_API_CMD_EXIT_TRADE;
    ok = h == HH_API__H_SIGNAL || (take_reason(r, o) && (h != HH_API__H_KILL ||
                                                         take_action(r, o)));
    json_object_put(o);
    return ok;
}

/* ---- the last call ---------------------------------------------------- */

/* Hold r until its nonce is durable (the aux thread takes it on). */
static enum MHD_Result hold(struct hh_api *a, struct hh_api__req *r)
{
    MHD_suspend_connection(r->conn);
    if (!hh_api__journal_push(a, r))
        MHD_resume_connection(r->conn);
    return MHD_YES;
}

static enum MHD_Result signed_request(struct hh_api *a, struct hh_api__req *r)
{
    struct hh_api__sigreq s = {
        header(r->conn, "X-HH-Key"), header(r->conn, "X-HH-Timestamp"),
        header(r->conn, "X-HH-Nonce"), header(r->conn, "X-HH-Signature"),
        r->method, r->target, r->body, r->body_len,
    };
    int rc = hh_api__verify(a, &s, r->received_ms, r->key_id, &r->claim);

    if (rc >= 0)
        refuse(a, r, (enum hh_api_refusal)rc);
    else if (rc == HH_API__VERIFY_NOROOM)
        set_error(r, 503, "NONCE_STORE_FULL", "too many requests within the window");
    else if (r->route->auth != HH_API__AUTH_SIGNED || parse_command(r))
        return hold(a, r);
    return send_answer(a, r);
}

/* "Authorization: Bearer TOKEN" matching the read token. */
static bool bearer_ok(struct hh_api *a, struct hh_api__req *r)
{
    const char *h = header(r->conn, "Authorization");

    if (!h || strncasecmp(h, "Bearer ", 7))
        return false;
    hh_api__keys_sync(&a->keys);
    return hh_api__token_ok(&a->keys, h + 7);
}

static enum MHD_Result complete(struct hh_api *a, struct hh_api__req *r)
{
    r->received_ms = hh_api__now_ms(a);
    switch (r->route->auth) {
    case HH_API__AUTH_NONE:
        return serve(a, r);
    case HH_API__AUTH_METRICS:
        if (!hh_api__token_configured(&a->keys))
            return serve(a, r);
        /* fall through */
    case HH_API__AUTH_READ:
        if (bearer_ok(a, r))
            return serve(a, r);
        /* fall through */
    case HH_API__AUTH_SIGNED:
        break;
    }
    return signed_request(a, r);
}

const char *hh_api_kill_action_name(enum hh_api_kill_action k)
{
    static const char *const names[] = { "pause", "reduce", "halt", "flatten" };

    return (unsigned)k <= HH_API_KILL_FLATTEN ? names[k] : "unknown";
}

/* ---- libmicrohttpd callbacks ------------------------------------------ */

void *hh_api__on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    struct hh_api__req *r = calloc(1, sizeof *r);

    (void)cls;
    if (!r || !(r->target = strdup(uri))) {
        free(r);
        return NULL;
    }
    r->conn = c;
    r->path_len = strcspn(uri, "?");
    return r;
}

void hh_api__on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                          enum MHD_RequestTerminationCode toe)
{
    struct hh_api *a = cls;
    struct hh_api__req *r = *con_cls;

    (void)c, (void)toe;
    if (!r)
        return;
    if (r->draining)
        atomic_fetch_sub(&a->draining, 1);
    free(r->target);
    free(r->body);
    free(r->resp);
    free(r);
    *con_cls = NULL;
}

enum MHD_Result hh_api__on_request(void *cls, struct MHD_Connection *c, const char *url,
                                   const char *method, const char *version,
                                   const char *upload, size_t *upload_size, void **con_cls)
{
    struct hh_api *a = cls;
    struct hh_api__req *r = *con_cls;

    (void)c, (void)url, (void)version;
    if (!r)
        return MHD_NO;
    if (!r->begun) {
        r->begun = true;
        begin(a, r, method);
        /* With a body pending, answer now: it will not be read. */
        return r->state == HH_API__RQ_ANSWER && r->has_body ? send_answer(a, r) : MHD_YES;
    }
    if (*upload_size) {
        append_body(r, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    switch (r->state) {
    case HH_API__RQ_BODY:
        return complete(a, r);
    case HH_API__RQ_SERVE:
        return serve(a, r);
    case HH_API__RQ_ANSWER:
        return send_answer(a, r);
    default:
        return MHD_YES;
    }
}
