/*
 * bench_api.c — the operations API under load: the server in this process
 * (2 HTTP threads + its aux thread) with a thread playing the core
 * (documents republished every 100 ms, commands answered at once), wrk on
 * the same machine over loopback.  wrk and the server share the cores.
 *
 *   health_live_*      wrk -t2 for HH_BENCH_API_LIVE_S (default 10) s on
 *                      GET /health/live, twice: saturated (50 connections
 *                      as fast as wrk can: the most the server does while
 *                      wrk takes half the CPU) and paced (36 connections,
 *                      1 ms between requests: ~22,000 req/s offered):
 *                      req/s, p50/p99.  Target, on the paced run:
 *                      >= 20,000 req/s with p99 < 5 ms (a saturated run's
 *                      p99 is mostly queueing for the CPU wrk shares).
 *   mixed_reads_*      the seeds' load: 100 req/s (4 connections, 40 ms
 *                      apart) over 8 read endpoints with the read token,
 *                      for HH_BENCH_API_MIXED_S (default 30; the seeds ask
 *                      300) s: p50/p95/p99.  Target: p95 < 250 ms.
 *   signed_signals_*   signed POST /api/v1/signals (precomputed, distinct
 *                      nonces) by wrk -t2 -c32 for 3 s; each is answered
 *                      after its nonce is fdatasync'ed and the core
 *                      answered: accepted requests/s and p50/p99 (valid
 *                      while no prepared request is used twice: then the
 *                      replays are 401s and the run says so).  Not the
 *                      engine's decision rate: the core here only answers.
 *
 * The nonce file lives in a fresh directory under $TMPDIR (default /tmp).
 *
 * Against a running engine (bench/bench_run_api.sh drives a real
 * `hedgehog run`):
 *   bench_api --secrets DIR            write DIR/keys and DIR/token (mode
 *                                      0600): the key and token used here
 *   bench_api --port P --what live|mixed|signed [--signal JSON]
 *                                      one of the loads above on
 *                                      127.0.0.1:P, figures named run_*;
 *                                      signed POSTs carry JSON with each
 *                                      "@ID@" replaced by a distinct id
 *                                      (default: the body above), and
 *                                      count as decisions every 200
 *                                      (ACCEPTED or REJECTED, durable).
 */
#include "api/api.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TOKEN       "bench-read-token-0123456789"
#define SECRET_HEX  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define SIGNED_N    120000     /* prepared requests: more than 3 s can take */

static char dir[512];
static const char *prefix = "";        /* "run_" against a running engine */
static const char *signal_json;        /* with "@ID@"; NULL: the default body */

struct core {
    struct hh_api *api;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool woken;
    _Atomic bool stop;
    struct hh_api_command cmd;
    char positions[8192];
};

struct result {
    long long requests, duration_us, errors, non2xx, p50, p95, p99, max;
};

static void on_wakeup(void *ctx)
{
    struct core *c = ctx;

    pthread_mutex_lock(&c->mu);
    c->woken = true;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

/* Twenty positions: a document of a realistic size. */
static void build_positions(struct core *c)
{
    size_t n = (size_t)sprintf(c->positions, "{\"positions\":[");

    for (int i = 0; i < 20; i++)
        n += (size_t)sprintf(c->positions + n, "%s{\"symbol\":\"SYM%02d\",\"engine_qty\":%d,"
                             "\"broker_qty\":%d,\"avg_price\":%d.25,\"unrealised_pnl\":%d.50,"
                             "\"realised_pnl\":0.00}", i ? "," : "", i, 25 * (i + 1),
                             25 * (i + 1), 1000 + i, i * 10);
    sprintf(c->positions + n, "],\"totals\":{\"unrealised_pnl\":1900.00,\"realised_pnl\":0.00}}");
}

static void publish(struct core *c)
{
    static const char status[] =
        "{\"mode\":\"paper\",\"trading_state\":\"ACTIVE\",\"engine_time\":"
        "\"2024-06-03T10:15:00.000+05:30\",\"breaker\":\"CLOSED\",\"counts\":{}}";
    static const char small[] = "{\"orders\":[],\"trades\":[],\"fills\":[],\"alerts\":[]}";
    static const char health[] = "{\"status\":\"UP\",\"components\":{}}";

    hh_api_publish(c->api, HH_API_DOC_STATUS, status, sizeof status - 1);
    hh_api_publish(c->api, HH_API_DOC_POSITIONS, c->positions, strlen(c->positions));
    for (int d = HH_API_DOC_ORDERS; d <= HH_API_DOC_ALERTS; d++)
        hh_api_publish(c->api, (enum hh_api_doc)d, small, sizeof small - 1);
    hh_api_publish_health(c->api, true, health, sizeof health - 1);
    hh_api_gauge(c->api, HH_API_M_OPEN_POSITIONS, 0, 20);
}

static void *core_main(void *arg)
{
    struct core *c = arg;
    struct timespec ts;

    while (!atomic_load(&c->stop)) {
        publish(c);
        while (hh_api_next_command(c->api, &c->cmd))
            if (c->cmd.kind != HH_API_CMD_REFUSED)
                hh_api_answer(c->api, c->cmd.id, 200,
                              "{\"id\":\"x\",\"decision\":\"ACCEPTED\",\"reason\":null}");
        pthread_mutex_lock(&c->mu);
        if (!c->woken) {
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 100000000;
            if (ts.tv_nsec >= 1000000000)
                ts.tv_sec++, ts.tv_nsec -= 1000000000;
            pthread_cond_timedwait(&c->cv, &c->mu, &ts);
        }
        c->woken = false;
        pthread_mutex_unlock(&c->mu);
    }
    return NULL;
}

static const char done_lua[] =
    "done = function(s, lat, req)\n"
    "  local e = s.errors\n"
    "  io.write(string.format('HHBENCH %d %d %d %d %d %d %d %d\\n', s.requests, s.duration,\n"
    "    e.connect + e.read + e.write + e.timeout, e.status, lat:percentile(50),\n"
    "    lat:percentile(95), lat:percentile(99), lat.max))\n"
    "end\n";

static int write_file(const char *name, const char *text, char *path, size_t cap)
{
    FILE *f;

    snprintf(path, cap, "%s/%s", dir, name);
    if (!(f = fopen(path, "w")) || fputs(text, f) < 0 || fclose(f) != 0)
        return -1;
    return 0;
}

/* Run wrk with args (NULL-ended) and read its HHBENCH line. */
static int run_wrk(char *const *args, struct result *r)
{
    char out[65536];
    size_t n = 0;
    int fd[2], status;
    ssize_t k;
    pid_t pid;
    char *line;

    if (pipe(fd) != 0 || (pid = fork()) < 0)
        return -1;
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        execvp("wrk", args);
        _exit(127);
    }
    close(fd[1]);
    while (n < sizeof out - 1 && (k = read(fd[0], out + n, sizeof out - 1 - n)) > 0)
        n += (size_t)k;
    out[n] = '\0';
    close(fd[0]);
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !(line = strstr(out, "HHBENCH "))) {
        fprintf(stderr, "bench_api: wrk failed (is it installed? scripts/deps.sh)\n%s", out);
        return -1;
    }
    return sscanf(line, "HHBENCH %lld %lld %lld %lld %lld %lld %lld %lld", &r->requests,
                  &r->duration_us, &r->errors, &r->non2xx, &r->p50, &r->p95, &r->p99,
                  &r->max) == 8 ? 0 : -1;
}

static double rate(const struct result *r, bool ok_only)
{
    return (double)(r->requests - (ok_only ? r->non2xx : 0)) / ((double)r->duration_us / 1e6);
}

/* wrk -t2 on /health/live: saturated with 50 connections, or paced with 36
 * connections each waiting 1 ms between requests (~22,000 req/s offered). */
static int run_live(int port, bool paced, struct result *r)
{
    char script[600], url[128], dur[16], text[1024];
    const char *s = getenv("HH_BENCH_API_LIVE_S");

    snprintf(dur, sizeof dur, "%ss", s ? s : "10");
    snprintf(url, sizeof url, "http://127.0.0.1:%d/health/live", port);
    snprintf(text, sizeof text, "%s%s", paced ? "delay = function() return 1 end\n" : "",
             done_lua);
    if (write_file(paced ? "live_paced.lua" : "live.lua", text, script, sizeof script) != 0)
        return -1;
    {
        char *args[] = { "wrk", "-t2", paced ? "-c36" : "-c50", "-d", dur, "--timeout", "5s",
                         "-s", script, url, NULL };

        return run_wrk(args, r);
    }
}

static int bench_live(int port)
{
    struct result sat, paced;

    if (run_live(port, false, &sat) != 0 || run_live(port, true, &paced) != 0)
        return -1;
    printf("%shealth_live_saturated_req_per_s: %.0f req/s\n", prefix, rate(&sat, false));
    printf("%shealth_live_saturated_p50: %.3f ms\n%shealth_live_saturated_p99: %.3f ms\n",
           prefix, sat.p50 / 1e3, prefix, sat.p99 / 1e3);
    printf("%shealth_live_paced_req_per_s: %.0f req/s\n", prefix, rate(&paced, false));
    printf("%shealth_live_paced_p50: %.3f ms\n%shealth_live_paced_p99: %.3f ms\n",
           prefix, paced.p50 / 1e3, prefix, paced.p99 / 1e3);
    printf("%shealth_live_errors: %lld\n", prefix,
           sat.errors + sat.non2xx + paced.errors + paced.non2xx);
    printf("%shealth_live_target_20000_req_s_p99_5ms: %s\n", prefix,
           rate(&paced, false) >= 20000 && paced.p99 < 5000 && !paced.errors && !paced.non2xx
               ? "met" : "NOT MET");
    return 0;
}

static int bench_mixed(int port)
{
    char script[600], url[128], dur[16], text[2048];
    const char *s = getenv("HH_BENCH_API_MIXED_S");
    struct result r;

    snprintf(dur, sizeof dur, "%ss", s ? s : "30");
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    snprintf(text, sizeof text,
             "local paths = { '/api/v1/status', '/api/v1/positions', '/api/v1/orders',\n"
             "  '/api/v1/trades', '/api/v1/fills', '/api/v1/alerts', '/health/ready', '/metrics' }\n"
             "local i = 0\n"
             "request = function()\n"
             "  i = i + 1\n"
             "  return wrk.format('GET', paths[i %% #paths + 1], { Authorization = 'Bearer %s' })\n"
             "end\n"
             "delay = function() return 40 end\n%s", TOKEN, done_lua);
    if (write_file("mixed.lua", text, script, sizeof script) != 0)
        return -1;
    {
        char *args[] = { "wrk", "-t1", "-c4", "-d", dur, "--timeout", "5s", "-s", script, url,
                         NULL };

        if (run_wrk(args, &r) != 0)
            return -1;
    }
    printf("%smixed_reads_req_per_s: %.1f req/s over %s\n", prefix, rate(&r, false), dur);
    printf("%smixed_reads_p50: %.3f ms\n%smixed_reads_p95: %.3f ms\n%smixed_reads_p99: %.3f ms\n",
           prefix, r.p50 / 1e3, prefix, r.p95 / 1e3, prefix, r.p99 / 1e3);
    printf("%smixed_reads_errors: %lld\n", prefix, r.errors + r.non2xx);
    printf("%smixed_reads_target_p95_250ms: %s\n", prefix,
           r.p95 < 250000 && !r.errors && !r.non2xx ? "met" : "NOT MET");
    return 0;
}

/* Signal i's body: signal_json with each "@ID@" replaced by a distinct id,
 * or a signal for the fake core.  Its length. */
static int signal_body(int i, char *body, size_t cap)
{
    char id[32];
    const char *p = signal_json, *at;
    size_t n = 0;

    snprintf(id, sizeof id, "b-%d-%d", (int)getpid(), i);
    if (!p)
        return snprintf(body, cap, "{\"id\":\"%s\",\"symbol\":\"NIFTY24JUNFUT\","
                        "\"side\":\"BUY\",\"entry\":\"23250\",\"stop\":\"23200\"}", id);
    while ((at = strstr(p, "@ID@")) && n + (size_t)(at - p) + strlen(id) < cap) {
        n += (size_t)snprintf(body + n, cap - n, "%.*s%s", (int)(at - p), p, id);
        p = at + 4;
    }
    n += (size_t)snprintf(body + n, cap - n, "%s", p);
    return (int)(n < cap ? n : cap - 1);
}

/* A Lua table of SIGNED_N raw signed requests with distinct nonces. */
static int write_signed_script(int port, char *path, size_t cap)
{
    struct hh_api_key k = { "bench", { 0 }, 32 };
    struct timespec now;
    char ts[24], nonce[40], sig[65], body[1024];
    FILE *f;

    for (int i = 0; i < 32; i++)
        k.secret[i] = (unsigned char)i;
    snprintf(path, cap, "%s/signed.lua", dir);
    if (!(f = fopen(path, "w")))
        return -1;
    clock_gettime(CLOCK_REALTIME, &now);
    snprintf(ts, sizeof ts, "%lld", (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000);
    fputs("local reqs = {\n", f);
    for (int i = 0; i < SIGNED_N; i++) {
        int bl = signal_body(i, body, sizeof body);

        snprintf(nonce, sizeof nonce, "bench-nonce-%08d-%d", i, (int)getpid());
        hh_api_sign(&k, ts, nonce, "POST", "/api/v1/signals", body, (size_t)bl, sig);
        fprintf(f, "[==[POST /api/v1/signals HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                "X-HH-Key: bench\r\nX-HH-Timestamp: %s\r\nX-HH-Nonce: %s\r\n"
                "X-HH-Signature: %s\r\nContent-Type: application/json\r\n"
                "Content-Length: %d\r\n\r\n%s]==],\n", port, ts, nonce, sig, bl, body);
    }
    fprintf(f, "}\nlocal n = 0\nsetup = function(t) t:set('first', n); n = n + 1 end\n"
            "local i = nil\nrequest = function()\n  i = (i or first) + 2\n"
            "  return reqs[(i %% #reqs) + 1]\nend\n%s", done_lua);
    return fclose(f) == 0 ? 0 : -1;
}

static int bench_signed(int port)
{
    char script[600], url[128];
    struct result r;

    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    if (write_signed_script(port, script, sizeof script) != 0)
        return -1;
    {
        char *args[] = { "wrk", "-t2", "-c32", "-d3s", "--timeout", "5s", "-s", script, url,
                         NULL };

        if (run_wrk(args, &r) != 0)
            return -1;
    }
    printf("%ssigned_signals_accepted_per_s: %.0f req/s (nonce fdatasync'ed, %s)\n", prefix,
           rate(&r, true), *prefix ? "each decided by the engine and durable before its 200"
                                   : "core answers at once");
    printf("%ssigned_signals_p50: %.3f ms\n%ssigned_signals_p99: %.3f ms\n", prefix,
           r.p50 / 1e3, prefix, r.p99 / 1e3);
    printf("%ssigned_signals_refused_or_failed: %lld%s\n", prefix, r.errors + r.non2xx,
           r.non2xx ? " (the prepared requests ran out: replays refused, figures too low)" : "");
    return 0;
}

/* dir/keys and dir/token (0600): the bench's key and read token. */
static int write_secrets(char *keys, char *token, size_t cap)
{
    return write_file("keys", "bench " SECRET_HEX "\n", keys, cap) != 0 ||
           write_file("token", TOKEN "\n", token, cap) != 0 || chmod(keys, 0600) != 0 ||
           chmod(token, 0600) != 0 ? -1 : 0;
}

static int start(struct core *c, struct hh_api **api)
{
    static const char *const allow[] = { "127.0.0.1/32" };
    char keys[600], token[600], nonces[600];
    struct hh_api_config cfg = { .listen = "127.0.0.1:0", .allow = allow, .nallow = 1,
                                 .version = "bench", .wakeup = on_wakeup, .wakeup_ctx = c };
    struct hh_diag d = { { 0 } };

    if (write_secrets(keys, token, sizeof keys) != 0)
        return -1;
    snprintf(nonces, sizeof nonces, "%s/bench.nonces", dir);
    cfg.keys_file = keys, cfg.read_token_file = token, cfg.nonce_file = nonces;
    if (hh_api_new(&cfg, api, &d) != HH_OK || hh_api_start(*api, &d) != HH_OK) {
        fprintf(stderr, "bench_api: %s\n", d.msg);
        return -1;
    }
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: bench_api [--secrets DIR | --port P --what live|mixed|signed "
            "[--signal JSON]]\n");
    return 2;
}

static int remove_dir(void)
{
    char cmd[600];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) != 0 ? 1 : 0;
}

/* The loads against a running engine on 127.0.0.1:port (main's args). */
static int external(int argc, char **argv)
{
    char keys[600], token[600];
    const char *what = NULL;
    int port = 0, rc;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--secrets")) {
            snprintf(dir, sizeof dir, "%s", argv[i + 1]);
            return write_secrets(keys, token, sizeof keys) != 0 ? 1 : 0;
        }
        if (!strcmp(argv[i], "--port"))
            port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--what"))
            what = argv[i + 1];
        else if (!strcmp(argv[i], "--signal"))
            signal_json = argv[i + 1];
        else
            return usage();
    }
    if (port <= 0 || !what)
        return usage();
    prefix = "run_";
    if (!mkdtemp(dir))
        return 1;
    rc = !strcmp(what, "live") ? bench_live(port) : !strcmp(what, "mixed") ? bench_mixed(port)
         : !strcmp(what, "signed") ? bench_signed(port) : usage();
    return (rc != 0) | remove_dir();
}

int main(int argc, char **argv)
{
    static struct core c;
    const char *tmp = getenv("TMPDIR");
    pthread_t t;
    int rc = 0;

    signal(SIGPIPE, SIG_IGN);
    snprintf(dir, sizeof dir, "%s/hh-bench-api-XXXXXX", tmp ? tmp : "/tmp");
    if (argc > 1)
        return external(argc, argv);
    if (!mkdtemp(dir) || start(&c, &c.api) != 0)
        return 1;
    pthread_mutex_init(&c.mu, NULL);
    pthread_cond_init(&c.cv, NULL);
    build_positions(&c);
    pthread_create(&t, NULL, core_main, &c);
    if (bench_live(hh_api_port(c.api)) != 0 || bench_mixed(hh_api_port(c.api)) != 0 ||
        bench_signed(hh_api_port(c.api)) != 0)
        rc = 1;
    atomic_store(&c.stop, true);
    on_wakeup(&c);
    pthread_join(t, NULL);
    hh_api_free(c.api);
    return rc | remove_dir();
}
