/*
 * test_api_server.c — the server for real on 127.0.0.1 with a thread
 * playing the core: reads from published copies, commands round-tripped,
 * each bad input's status (400 404 405 411 413) counted, refusals reported
 * to the core and counted (dropped, not blocking, when the core does not
 * poll), answer timeouts (withdrawn or outcome unknown), keep-alive, a slow
 * client closed without stalling others, a thousand idle connections, the
 * nonce file across a restart of the server object, the held requests
 * answered at shutdown, and the address bound exactly.
 */
#include "apitest.h"

#include "api/api_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>

struct srv {
    struct hh_api *api;
    struct at_core core;
    int port;
    struct hh_api_key k1;
};

static _Atomic int wakeups;

static void on_wakeup(void *ctx)
{
    (void)ctx;
    atomic_fetch_add(&wakeups, 1);
}

static struct hh_api_config base_cfg(bool token)
{
    static const char *const allow[] = { "127.0.0.1/32", "::1/128" };
    struct hh_api_config cfg = {
        .listen = "127.0.0.1:0", .allow = allow, .nallow = 2,
        .keys_file = at_file(0, "keys", "k1 " AT_SECRET1 "\nk2 " AT_SECRET2 "\n", 0600),
        .read_token_file = token ? at_file(1, "token", AT_TOKEN "\n", 0600) : NULL,
        .nonce_file = tu_write_file(2, "n.nonces", ""),
        .conn_timeout_s = 1, .answer_timeout_ms = 2000, .conn_max = 1200,
        .wakeup = on_wakeup,
    };

    return cfg;
}

/* Start a server; with_core: a thread playing the core. */
static void srv_start(struct srv *s, const struct hh_api_config *cfg, bool with_core)
{
    struct hh_diag d = { { 0 } };

    memset(s, 0, sizeof *s);
    s->k1 = at_key("k1", AT_SECRET1);
    if (hh_api_new(cfg, &s->api, &d) != HH_OK || hh_api_start(s->api, &d) != HH_OK)
        fail_msg("start: %s", d.msg);
    s->port = hh_api_port(s->api);
    assert_true(s->port > 0);
    if (with_core)
        at_core_start(&s->core, s->api);
}

static void srv_stop(struct srv *s)
{
    if (s->core.api)
        at_core_stop(&s->core);
    hh_api_free(s->api);
}

/* The value of a metric line in /metrics ("name{labels}"), -1 if absent. */
static long long metric(struct srv *s, const char *series)
{
    char *text = NULL, *p, want[256];
    size_t len;
    long long v = -1;

    hh_api_metrics_render(s->api, &text, &len);
    snprintf(want, sizeof want, "\n%s ", series);
    if ((p = strstr(text, want)))
        v = atoll(p + strlen(want));
    free(text);
    return v;
}

static const char *bearer[] = { "Authorization: Bearer " AT_TOKEN, NULL };

/* ---- reads ---------------------------------------------------------------- */

static void test_reads(void **state)
{
    struct hh_api_config cfg = base_cfg(true);
    const char *bad[] = { "Authorization: Bearer wrong-token-0123456789", NULL };
    struct srv s;
    struct at_resp r;

    (void)state;
    srv_start(&s, &cfg, false);
    assert_int_equal(at_http(s.port, "GET", "/health/live", NULL, NULL, &r), 200);
    assert_string_equal(r.body, "{\"status\":\"UP\"}");
    assert_int_equal(at_http(s.port, "GET", "/health/ready", NULL, NULL, &r), 503);
    assert_non_null(strstr(r.body, "starting"));
    hh_api_publish_health(s.api, true, "{\"status\":\"UP\",\"components\":{}}", 32);
    assert_int_equal(at_http(s.port, "GET", "/health/ready", NULL, NULL, &r), 200);
    hh_api_publish_health(s.api, false, "{\"status\":\"DOWN\",\"components\":{}}", 34);
    assert_int_equal(at_http(s.port, "GET", "/health/ready", NULL, NULL, &r), 503);
    assert_string_equal(r.body, "{\"status\":\"DOWN\",\"components\":{}}");
    assert_int_equal(at_http(s.port, "GET", "/api/v1/orders", NULL, bearer, &r), 503);
    assert_non_null(strstr(r.body, "NOT_READY"));
    hh_api_publish(s.api, HH_API_DOC_ORDERS, "{\"orders\":[1]}", 14);
    assert_int_equal(at_http(s.port, "GET", "/api/v1/orders", NULL, bearer, &r), 200);
    assert_string_equal(r.body, "{\"orders\":[1]}");
    assert_non_null(strstr(r.headers, "Content-Type: application/json"));
    assert_int_equal(at_http(s.port, "GET", "/api/v1/orders", NULL, bad, &r), 401);
    assert_string_equal(r.body, "{\"error\":\"MISSING_AUTH\"}");
    assert_int_equal(at_signed(s.port, &s.k1, "GET", "/api/v1/orders", NULL, &r), 200);
    assert_int_equal(at_http(s.port, "GET", "/metrics", NULL, NULL, &r), 401);
    assert_int_equal(at_http(s.port, "GET", "/metrics", NULL, bearer, &r), 200);
    assert_non_null(strstr(r.headers, "text/plain; version=0.0.4"));
    assert_int_equal(at_http(s.port, "GET", "/", NULL, NULL, &r), 200);
    assert_non_null(strstr(r.body, "<!DOCTYPE html>"));
    assert_non_null(strstr(r.headers, "Content-Security-Policy: default-src 'none'; "
                                      "script-src 'sha256-"));
    srv_stop(&s);
}

static void test_metrics_open_without_token(void **state)
{
    struct hh_api_config cfg = base_cfg(false);
    struct srv s;
    struct at_resp r;

    (void)state;
    srv_start(&s, &cfg, false);
    assert_int_equal(at_http(s.port, "GET", "/metrics", NULL, NULL, &r), 200);
    /* reads must then be signed */
    assert_int_equal(at_http(s.port, "GET", "/api/v1/status", NULL, bearer, &r), 401);
    srv_stop(&s);
}

static void test_daily_report(void **state)
{
    struct hh_api_config cfg = base_cfg(true);
    struct srv s;
    struct at_resp r;
    char dir[256];

    (void)state;
    tu_write_file(3, "2024-05-31.json", "{\"date\":\"2024-05-31\"}");
    snprintf(dir, sizeof dir, "/tmp/hh-unit-%d", (int)getpid());
    cfg.report_dir = dir;
    srv_start(&s, &cfg, false);
    assert_int_equal(at_http(s.port, "GET", "/api/v1/report/daily", NULL, bearer, &r), 404);
    assert_int_equal(hh_api_publish_report(s.api, "2024-06-03", "{\"d\":3}", 7), HH_OK);
    assert_int_equal(hh_api_publish_report(s.api, "2024-6-3", "{}", 2), HH_EINVAL);
    assert_int_equal(at_http(s.port, "GET", "/api/v1/report/daily", NULL, bearer, &r), 200);
    assert_string_equal(r.body, "{\"d\":3}");
    assert_int_equal(at_http(s.port, "GET", "/api/v1/report/daily?date=2024-06-03", NULL,
                             bearer, &r), 200);
    assert_string_equal(r.body, "{\"d\":3}");
    assert_int_equal(at_http(s.port, "GET", "/api/v1/report/daily?x=1&date=2024-05-31", NULL,
                             bearer, &r), 200);
    assert_string_equal(r.body, "{\"date\":\"2024-05-31\"}");
    assert_int_equal(at_http(s.port, "GET", "/api/v1/report/daily?date=2024-05-30", NULL,
                             bearer, &r), 404);
    assert_non_null(strstr(r.body, "NO_REPORT"));
    assert_int_equal(at_http(s.port, "GET", "/api/v1/report/daily?date=../../etc/passwd",
                             NULL, bearer, &r), 400);
    srv_stop(&s);
}

/* ---- commands ---------------------------------------------------------- */

static void test_commands(void **state)
{
    struct hh_api_config cfg = base_cfg(true);
    struct srv s;
    struct at_resp r;
    int n = 0, w0 = atomic_load(&wakeups);

    (void)state;
    srv_start(&s, &cfg, true);
    assert_int_equal(at_signed(s.port, &s.k1, "POST", "/api/v1/signals",
                               "{\"id\":\"s1\",\"symbol\":\"NIFTY\"}", &r), 200);
    assert_string_equal(r.body, "{\"ok\":true}");
    assert_true(at_wait_count(&s.core.commands, ++n));
    assert_int_equal(s.core.last_kind, HH_API_CMD_SIGNAL);
    assert_string_equal(s.core.last_body, "{\"id\":\"s1\",\"symbol\":\"NIFTY\"}");
    assert_string_equal(s.core.last_path, "/api/v1/signals");
    assert_string_equal(s.core.last_key, "k1");
    assert_int_equal(at_signed(s.port, &s.k1, "POST", "/api/v1/kill",
                               "{\"action\":\"flatten\",\"reason\":\"fire drill\"}", &r), 200);
    assert_true(at_wait_count(&s.core.commands, ++n));
    assert_int_equal(s.core.last_kind, HH_API_CMD_KILL);
    assert_int_equal(s.core.last_action, HH_API_KILL_FLATTEN);
    assert_string_equal(s.core.last_reason, "fire drill");
    assert_int_equal(at_signed(s.port, &s.k1, "POST", "/api/v1/resume", NULL, &r), 200);
    assert_true(at_wait_count(&s.core.commands, ++n));
    assert_int_equal(s.core.last_kind, HH_API_CMD_RESUME);
    assert_int_equal(at_signed(s.port, &s.k1, "POST", "/api/v1/trades/4294967296/exit", "{}",
                               &r), 200);
    assert_true(at_wait_count(&s.core.commands, ++n));
    assert_int_equal(s.core.last_kind, HH_API_CMD_EXIT_TRADE);
    assert_int_equal(s.core.last_trade, 4294967296ULL);
    assert_true(atomic_load(&wakeups) >= w0 + 4);
    srv_stop(&s);
}

static void test_bad_input(void **state)
{
    struct hh_api_config cfg = base_cfg(true);
    struct srv s;
    struct at_resp r;
    char *big = malloc(HH_API_BODY_MAX + 2);
    const char *chunked[] = { "Transfer-Encoding: chunked", NULL };

    (void)state;
    srv_start(&s, &cfg, true);
    assert_int_equal(at_http(s.port, "GET", "/api/v2/status", NULL, NULL, &r), 404);
    assert_int_equal(at_http(s.port, "GET", "/health/live/", NULL, NULL, &r), 404);
    assert_int_equal(at_http(s.port, "GET", "/api/v1/trades/x/exit", NULL, NULL, &r), 404);
    assert_int_equal(at_http(s.port, "DELETE", "/api/v1/kill", NULL, NULL, &r), 405);
    assert_non_null(strstr(r.headers, "Allow: POST"));
    assert_int_equal(at_http(s.port, "POST", "/health/live", "{}", NULL, &r), 405);
    assert_int_equal(at_signed(s.port, &s.k1, "POST", "/api/v1/signals", "{\"id\":", &r), 400);
    assert_int_equal(at_signed(s.port, &s.k1, "POST", "/api/v1/signals", "[1,2]", &r), 400);
    assert_int_equal(at_signed(s.port, &s.k1, "POST", "/api/v1/signals", "{} {}", &r), 400);
    assert_int_equal(at_signed(s.port, &s.k1, "POST", "/api/v1/kill", "{\"action\":\"stop\"}",
                               &r), 400);
    assert_non_null(strstr(r.body, "pause, reduce, halt, flatten"));
    assert_int_equal(at_signed(s.port, &s.k1, "POST", "/api/v1/kill", "{}", &r), 400);
    assert_int_equal(at_signed(s.port, &s.k1, "POST", "/api/v1/resume",
                               "{\"reason\":42}", &r), 400);
    memset(big, 'x', HH_API_BODY_MAX + 1);
    big[HH_API_BODY_MAX + 1] = '\0';
    assert_int_equal(at_signed(s.port, &s.k1, "POST", "/api/v1/signals", big, &r), 413);
    assert_int_equal(at_http(s.port, "POST", "/api/v1/signals", "{}", chunked, &r), 411);
    assert_int_equal(atomic_load(&s.core.commands), 0);          /* nothing reached the core */
    assert_int_equal(metric(&s, "hedgehog_api_responses_total{code=\"404\"}"), 3);
    assert_int_equal(metric(&s, "hedgehog_api_responses_total{code=\"405\"}"), 2);
    assert_int_equal(metric(&s, "hedgehog_api_responses_total{code=\"400\"}"), 6);
    assert_int_equal(metric(&s, "hedgehog_api_responses_total{code=\"413\"}"), 1);
    assert_int_equal(metric(&s, "hedgehog_api_responses_total{code=\"411\"}"), 1);
    assert_int_equal(metric(&s, "hedgehog_api_requests_total{route=\"unknown\"}"), 5);
    free(big);
    srv_stop(&s);
}

/* ---- refusals -------------------------------------------------------------- */

static void test_refusals_reach_the_core(void **state)
{
    struct hh_api_config cfg = base_cfg(true);
    struct srv s;
    struct at_resp r;
    struct hh_api_key nokey = at_key("k9", AT_SECRET1), wrong = at_key("k1", AT_SECRET2);
    struct at_sig sig, once;
    const char *stale[] = { sig.h[0], sig.h[1], sig.h[2], sig.h[3], NULL };

    (void)state;
    srv_start(&s, &cfg, true);
    sig = at_sign(&s.k1, "POST", "/api/v1/kill", "{}", at_now_ms() - 400000,
                  "nonce-stale-000001");
    assert_int_equal(at_http_from(s.port, "127.0.0.2", "GET", "/health/live?q=1", NULL, NULL,
                                  &r), 403);
    assert_string_equal(r.body, "{\"error\":\"FORBIDDEN_ADDRESS\"}");
    assert_int_equal(at_http(s.port, "POST", "/api/v1/kill", "{}", NULL, &r), 401);
    assert_string_equal(r.body, "{\"error\":\"MISSING_AUTH\"}");
    assert_non_null(strstr(r.headers, "WWW-Authenticate"));
    assert_int_equal(at_signed(s.port, &nokey, "POST", "/api/v1/kill", "{}", &r), 401);
    assert_string_equal(r.body, "{\"error\":\"UNKNOWN_KEY\"}");
    assert_int_equal(at_http(s.port, "POST", "/api/v1/kill", "{}", stale, &r), 401);
    assert_string_equal(r.body, "{\"error\":\"STALE_TIMESTAMP\"}");
    assert_int_equal(at_signed(s.port, &wrong, "POST", "/api/v1/kill", "{}", &r), 401);
    assert_string_equal(r.body, "{\"error\":\"BAD_SIGNATURE\"}");
    once = at_sign(&s.k1, "POST", "/api/v1/resume", "{}", at_now_ms(), "nonce-once-00000001");
    {
        const char *h[] = { once.h[0], once.h[1], once.h[2], once.h[3], NULL };

        assert_int_equal(at_http(s.port, "POST", "/api/v1/resume", "{}", h, &r), 200);
        assert_int_equal(at_http(s.port, "POST", "/api/v1/resume", "{}", h, &r), 401);
        assert_string_equal(r.body, "{\"error\":\"REPLAYED_NONCE\"}");
    }
    assert_true(at_wait_count(&s.core.refusals, 6));
    for (int c = 0; c < HH_API_REF_COUNT; c++) {
        char name[128];

        assert_int_equal(s.core.refused_codes[c], 1);
        snprintf(name, sizeof name, "hedgehog_api_refused_total{code=\"%s\"}",
                 hh_api_refusal_name((enum hh_api_refusal)c));
        assert_int_equal(metric(&s, name), 1);
    }
    assert_string_equal(s.core.last_path, "/api/v1/resume");
    srv_stop(&s);
}

static void test_refusals_never_block(void **state)
{
    struct hh_api_config cfg = base_cfg(true);
    struct srv s;
    struct at_resp r;
    struct hh_api_command *cmd = malloc(sizeof *cmd);
    int got = 0;
    double t0;

    (void)state;
    srv_start(&s, &cfg, false);                      /* nobody polls */
    t0 = at_mono();
    for (int i = 0; i < HH_API__REFUSALS_CAP + 44; i++)
        assert_int_equal(at_http(s.port, "POST", "/api/v1/kill", "{}", NULL, &r), 401);
    assert_true(at_mono() - t0 < 10.0);
    assert_int_equal(metric(&s, "hedgehog_api_refusal_events_dropped_total"), 44);
    while (hh_api_next_command(s.api, cmd)) {
        assert_int_equal(cmd->kind, HH_API_CMD_REFUSED);
        assert_int_equal(cmd->refusal, HH_API_REF_MISSING_AUTH);
        assert_string_equal(cmd->client, "127.0.0.1");
        assert_string_equal(cmd->method, "POST");
        got++;
    }
    assert_int_equal(got, HH_API__REFUSALS_CAP);
    free(cmd);
    srv_stop(&s);
}

/* ---- timeouts, held requests, shutdown ------------------------------------- */

static void test_answer_timeout(void **state)
{
    struct hh_api_config cfg = base_cfg(true);
    struct hh_api_command *cmd = malloc(sizeof *cmd);
    struct srv s;
    struct at_resp r;
    double t0;

    (void)state;
    cfg.answer_timeout_ms = 300;
    srv_start(&s, &cfg, false);
    /* nobody takes it: withdrawn, never delivered */
    t0 = at_mono();
    assert_int_equal(at_signed(s.port, &s.k1, "POST", "/api/v1/kill",
                               "{\"action\":\"halt\"}", &r), 503);
    assert_true(at_mono() - t0 >= 0.29 && at_mono() - t0 < 3.0);
    assert_non_null(strstr(r.body, "withdrawn and not applied"));
    assert_non_null(strstr(r.headers, "Retry-After"));
    assert_false(hh_api_next_command(s.api, cmd));
    /* taken, never answered in time: outcome unknown, a late answer dropped */
    at_core_start(&s.core, s.api);
    atomic_store(&s.core.answer, false);
    assert_int_equal(at_signed(s.port, &s.k1, "POST", "/api/v1/kill",
                               "{\"action\":\"halt\"}", &r), 503);
    assert_non_null(strstr(r.body, "outcome is unknown"));
    assert_int_equal(hh_api_answer(s.api, s.core.cmd.id, 200, "{}"), HH_ENOTFOUND);
    assert_int_equal(hh_api_answer(s.api, 12345, 200, "{}"), HH_ENOTFOUND);
    assert_int_equal(metric(&s, "hedgehog_api_command_timeouts_total"), 2);
    free(cmd);
    srv_stop(&s);
}

struct bg {
    struct srv *s;
    long status;
    struct at_resp r;
    pthread_t t;
};

static void *bg_post(void *arg)
{
    struct bg *b = arg;

    b->status = at_signed(b->s->port, &b->s->k1, "POST", "/api/v1/kill",
                          "{\"action\":\"pause\"}", &b->r);
    return NULL;
}

static void test_reads_flow_while_a_post_is_held(void **state)
{
    struct hh_api_config cfg = base_cfg(true);
    struct srv s;
    struct at_resp r;
    struct bg b;
    double t0;

    (void)state;
    srv_start(&s, &cfg, true);
    atomic_store(&s.core.answer, false);
    b.s = &s;
    pthread_create(&b.t, NULL, bg_post, &b);
    assert_true(at_wait_count(&s.core.commands, 1));        /* the core holds it */
    for (int i = 0; i < 50; i++) {
        t0 = at_mono();
        assert_int_equal(at_http(s.port, "GET", "/health/live", NULL, NULL, &r), 200);
        assert_true(at_mono() - t0 < 0.5);
    }
    assert_int_equal(hh_api_answer(s.api, s.core.cmd.id, 200, "{\"trading_state\":\"PAUSED\"}"),
                     HH_OK);
    pthread_join(b.t, NULL);
    assert_int_equal(b.status, 200);
    assert_string_equal(b.r.body, "{\"trading_state\":\"PAUSED\"}");
    srv_stop(&s);
}

static void test_shutdown_answers_held_requests(void **state)
{
    struct hh_api_config cfg = base_cfg(true);
    struct srv s;
    struct bg b;

    (void)state;
    srv_start(&s, &cfg, true);
    atomic_store(&s.core.answer, false);
    b.s = &s;
    pthread_create(&b.t, NULL, bg_post, &b);
    assert_true(at_wait_count(&s.core.commands, 1));
    at_core_stop(&s.core);
    s.core.api = NULL;
    hh_api_free(s.api);
    pthread_join(b.t, NULL);
    assert_int_equal(b.status, 503);
    assert_non_null(strstr(b.r.body, "SHUTTING_DOWN"));
}

static _Atomic int logged_errors;

static void on_log(void *ctx, enum hh_api_log_level level, const char *event, const char *msg)
{
    (void)ctx, (void)msg;
    if (level == HH_API_LOG_ERROR && !strcmp(event, "api_nonce_store_failed"))
        atomic_fetch_add(&logged_errors, 1);
}

static void test_nonce_file_failure_refuses(void **state)
{
    struct hh_api_config cfg = base_cfg(true);
    struct srv s;
    struct at_resp r;

    (void)state;
    cfg.log = on_log;
    srv_start(&s, &cfg, true);
    close(s.api->nonces.fd);               /* the disk goes away */
    s.api->nonces.fd = -1;
    assert_int_equal(at_signed(s.port, &s.k1, "POST", "/api/v1/kill", "{\"action\":\"halt\"}",
                               &r), 503);
    assert_non_null(strstr(r.body, "NONCE_STORE_FAILED"));
    assert_int_equal(at_signed(s.port, &s.k1, "GET", "/api/v1/status", NULL, &r), 503);
    assert_int_equal(atomic_load(&s.core.commands), 0);           /* nothing applied */
    assert_int_equal(metric(&s, "hedgehog_api_nonce_store_errors_total"), 2);
    assert_int_equal(atomic_load(&logged_errors), 2);
    srv_stop(&s);
}

static void test_queue_full_is_busy(void **state)
{
    struct hh_api_config cfg = base_cfg(true);
    struct srv s;
    struct at_resp r;
    struct bg b;

    (void)state;
    cfg.queue_cap = 1;
    srv_start(&s, &cfg, true);
    atomic_store(&s.core.answer, false);
    b.s = &s;
    pthread_create(&b.t, NULL, bg_post, &b);
    assert_true(at_wait_count(&s.core.commands, 1));            /* the one slot is taken */
    assert_int_equal(at_signed(s.port, &s.k1, "POST", "/api/v1/resume", NULL, &r), 503);
    assert_non_null(strstr(r.body, "BUSY"));
    assert_int_equal(hh_api_answer(s.api, s.core.cmd.id, 200, "{}"), HH_OK);
    pthread_join(b.t, NULL);
    assert_int_equal(b.status, 200);
    atomic_store(&s.core.answer, true);
    assert_int_equal(at_signed(s.port, &s.k1, "POST", "/api/v1/resume", NULL, &r), 200);
    assert_int_equal(atomic_load(&s.core.commands), 2);         /* the slot was free again */
    srv_stop(&s);
}

/* ---- the nonce file across a restart --------------------------------------- */

static void test_replay_refused_after_restart(void **state)
{
    struct hh_api_config cfg = base_cfg(true);
    struct srv s;
    struct at_resp r;
    struct hh_api_key k1 = at_key("k1", AT_SECRET1);
    struct at_sig sig = at_sign(&k1, "POST", "/api/v1/kill", "{\"action\":\"halt\"}",
                                at_now_ms(), "nonce-restart-000001");
    const char *h[] = { sig.h[0], sig.h[1], sig.h[2], sig.h[3], NULL };

    (void)state;
    srv_start(&s, &cfg, true);
    assert_int_equal(at_http(s.port, "POST", "/api/v1/kill", "{\"action\":\"halt\"}", h, &r),
                     200);
    srv_stop(&s);
    srv_start(&s, &cfg, true);                 /* the same nonce file, as it was left */
    assert_int_equal(at_http(s.port, "POST", "/api/v1/kill", "{\"action\":\"halt\"}", h, &r),
                     401);
    assert_string_equal(r.body, "{\"error\":\"REPLAYED_NONCE\"}");
    assert_int_equal(atomic_load(&s.core.commands), 0);
    assert_int_equal(at_signed(s.port, &s.k1, "POST", "/api/v1/kill", "{\"action\":\"halt\"}",
                               &r), 200);
    srv_stop(&s);
}

/* ---- connections ------------------------------------------------------------ */

static int connect_to(int port, const char *addr)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    inet_pton(AF_INET, addr, &sa.sin_addr);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Read until `want` bytes of answer arrived, EOF or timeout_ms; returns bytes. */
static int read_for(int fd, char *buf, int cap, int timeout_ms, const char *until)
{
    int n = 0;
    struct pollfd p = { fd, POLLIN, 0 };

    while (n < cap - 1 && poll(&p, 1, timeout_ms) == 1) {
        ssize_t k = recv(fd, buf + n, (size_t)(cap - 1 - n), 0);

        if (k <= 0)
            break;
        n += (int)k;
        buf[n] = '\0';
        if (until && strstr(buf, until))
            break;
    }
    buf[n] = '\0';
    return n;
}

static void test_keepalive(void **state)
{
    struct hh_api_config cfg = base_cfg(true);
    struct srv s;
    char buf[4096];
    const char req[] = "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n";
    int fd;

    (void)state;
    srv_start(&s, &cfg, false);
    fd = connect_to(s.port, "127.0.0.1");
    assert_true(fd >= 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(send(fd, req, sizeof req - 1, 0), (ssize_t)sizeof req - 1);
        assert_true(read_for(fd, buf, sizeof buf, 2000, "{\"status\":\"UP\"}") > 0);
        assert_non_null(strstr(buf, "HTTP/1.1 200"));
    }
    close(fd);
    srv_stop(&s);
}

static void test_slow_client_closed_others_served(void **state)
{
    struct hh_api_config cfg = base_cfg(true);
    struct srv s;
    struct at_resp r;
    char buf[256];
    int fd;
    double t0;

    (void)state;
    srv_start(&s, &cfg, false);                         /* conn_timeout_s = 1 */
    fd = connect_to(s.port, "127.0.0.1");
    assert_int_equal(send(fd, "GET /health/li", 14, 0), 14);
    for (int i = 0; i < 10; i++) {
        t0 = at_mono();
        assert_int_equal(at_http(s.port, "GET", "/health/live", NULL, NULL, &r), 200);
        assert_true(at_mono() - t0 < 0.5);
    }
    t0 = at_mono();
    assert_int_equal(read_for(fd, buf, sizeof buf, 5000, NULL), 0);      /* closed */
    assert_true(at_mono() - t0 < 4.0);
    close(fd);
    srv_stop(&s);
}

/* Connections this process can hold at both ends: 1000, or fewer when the
 * descriptor limit (raised to its hard value first) is lower. */
static int idle_target(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 100;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    return rl.rlim_cur >= 2300 ? 1000 : (int)(rl.rlim_cur - 300) / 2;
}

static void test_thousand_idle_connections(void **state)
{
    struct hh_api_config cfg = base_cfg(true);
    struct srv s;
    struct at_resp r;
    static int fds[1000];
    int open_ok = 0, n = idle_target();
    double t0;

    (void)state;
    cfg.conn_timeout_s = 30;
    srv_start(&s, &cfg, false);
    for (int i = 0; i < n; i++)
        open_ok += (fds[i] = connect_to(s.port, "127.0.0.1")) >= 0;
    assert_int_equal(open_ok, n);
    t0 = at_mono();
    assert_int_equal(at_http(s.port, "GET", "/health/live", NULL, NULL, &r), 200);
    assert_true(at_mono() - t0 < 1.0);
    /* the server accepts them as it goes: wait (bounded) until it holds all */
    for (int i = 0; i < 5000 && metric(&s, "hedgehog_api_connections") < n; i++)
        usleep(1000);
    assert_true(metric(&s, "hedgehog_api_connections") >= n);
    for (int i = 0; i < n; i++)
        close(fds[i]);
    srv_stop(&s);
}

static void test_listen_exactly(void **state)
{
    struct hh_api_config cfg = base_cfg(true);
    struct srv s, s6;
    struct hh_api *other = NULL;
    struct hh_diag d = { { 0 } };
    char addr[64];
    static const char *const bad[] = { "localhost:80", "127.0.0.1", "127.0.0.1:", ":80",
                                       "127.0.0.1:70000", "[::1:80", "1.2.3:80" };

    (void)state;
    srv_start(&s, &cfg, false);
    assert_true(connect_to(s.port, "127.0.0.2") < 0);   /* bound to 127.0.0.1 only */
    snprintf(addr, sizeof addr, "127.0.0.1:%d", s.port);
    cfg.listen = addr;
    assert_int_equal(hh_api_new(&cfg, &other, &d), HH_OK);
    assert_int_equal(hh_api_start(other, &d), HH_EIO);   /* in use */
    assert_non_null(strstr(d.msg, addr));
    hh_api_free(other);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cfg.listen = bad[i];
        if (hh_api_new(&cfg, &other, &d) != HH_ECONFIG)
            fail_msg("listen '%s' accepted", bad[i]);
    }
    cfg.listen = "[::1]:0";
    srv_start(&s6, &cfg, false);
    assert_true(hh_api_port(s6.api) > 0);
    srv_stop(&s6);
    srv_stop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads),
        cmocka_unit_test(test_metrics_open_without_token),
        cmocka_unit_test(test_daily_report),
        cmocka_unit_test(test_commands),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_refusals_reach_the_core),
        cmocka_unit_test(test_refusals_never_block),
        cmocka_unit_test(test_answer_timeout),
        cmocka_unit_test(test_reads_flow_while_a_post_is_held),
        cmocka_unit_test(test_shutdown_answers_held_requests),
        cmocka_unit_test(test_nonce_file_failure_refuses),
        cmocka_unit_test(test_queue_full_is_busy),
        cmocka_unit_test(test_replay_refused_after_restart),
        cmocka_unit_test(test_keepalive),
        cmocka_unit_test(test_slow_client_closed_others_served),
        cmocka_unit_test(test_thousand_idle_connections),
        cmocka_unit_test(test_listen_exactly),
    };
    int rc;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    tu_cleanup();
    return rc;
}
