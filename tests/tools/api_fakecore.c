/*
 * api_fakecore.c — the operations API (src/api) in front of a thread that
 * plays the engine's core, for integration tests: it publishes documents
 * with fixed figures, answers commands, feeds every metric, and writes
 * the refusals and commands it receives to an audit file (JSON lines), as
 * the real core audits them.
 *
 *   api_fakecore --listen ADDR:PORT --port-file F [--allow CIDR]... [--keys F]
 *                [--token F] [--nonces F] [--report-dir D] [--audit F]
 *                [--exposure UNITS] [--answer-delay-ms N] [--no-answer]
 *                [--answer-timeout-ms N] [--conn-timeout-s N] [--threads N]
 *
 * The bound port is written to --port-file once the server listens.
 * SIGHUP re-reads the keys (hh_api_reload); SIGTERM/SIGINT stop it (exit
 * 0).  API log lines go to stderr as "LOG LEVEL EVENT MSG".
 *
 * Commands: a signal is ACCEPTED unless its "id" was seen (REJECTED
 * DUPLICATE) or it has none (REJECTED MISSING_FIELD); kill and resume set
 * the trading state; trades 1 and 2 exist (exit: 200), others 404.
 */
#include "api/api.h"
#include "signal/signal.h"

#include <json-c/json.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_ALLOW 8
#define MAX_IDS   4096

struct core {
    struct hh_api *api;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, woken;
    FILE *audit;
    const char *state;
    double exposure;
    int delay_ms;
    bool no_answer;
    char *ids[MAX_IDS];
    int nids;
    uint64_t accepted, rejected;
    struct hh_api_command cmd;
};

static const char positions_doc[] =
    "{\"positions\":["
    "{\"symbol\":\"NIFTY24JUNFUT\",\"engine_qty\":75,\"broker_qty\":75,\"avg_price\":23250.05,"
    "\"last_price\":23262.10,\"unrealised_pnl\":903.75,\"realised_pnl\":0.00},"
    "{\"symbol\":\"RELIANCE\",\"engine_qty\":-120,\"broker_qty\":-120,\"avg_price\":2950.40,"
    "\"last_price\":2961.15,\"unrealised_pnl\":-1290.00,\"realised_pnl\":2345.60},"
    "{\"symbol\":\"NIFTY24JUN23500CE\",\"engine_qty\":-50,\"broker_qty\":-25,\"avg_price\":112.35,"
    "\"last_price\":98.10,\"unrealised_pnl\":712.50,\"realised_pnl\":-1234567.89}],"
    "\"totals\":{\"unrealised_pnl\":326.25,\"realised_pnl\":-1232222.29}}";
static const char orders_doc[] =
    "{\"orders\":[{\"client_id\":\"hh-7-E\",\"broker_id\":\"250603000123\","
    "\"symbol\":\"TCS\",\"side\":\"BUY\",\"type\":\"LIMIT\",\"state\":\"OPEN\",\"qty\":10,"
    "\"filled\":0,\"price\":3890.50,\"trigger_price\":null,"
    "\"placed_at\":\"2024-06-03T10:01:02.000+05:30\"}]}";
static const char trades_doc[] =
    "{\"trades\":["
    "{\"trade_id\":1,\"signal_id\":\"s-1\",\"symbol\":\"NIFTY24JUNFUT\",\"side\":\"BUY\","
    "\"state\":\"OPEN\",\"qty\":75,\"entry_price\":23250.05,\"stop\":23180.00,\"net_pnl\":903.75},"
    "{\"trade_id\":2,\"signal_id\":\"s-2\",\"symbol\":\"RELIANCE\",\"side\":\"SELL\","
    "\"state\":\"OPEN\",\"qty\":120,\"entry_price\":2950.40,\"stop\":2990.00,\"net_pnl\":-1290.00},"
    "{\"trade_id\":0,\"signal_id\":\"s-3\",\"symbol\":\"TCS\",\"side\":\"BUY\","
    "\"state\":\"WAITING\",\"qty\":10,\"entry_price\":3890.50,\"stop\":3850.00,\"net_pnl\":0},"
    "{\"trade_id\":3,\"signal_id\":\"s-0\",\"symbol\":\"INFY\",\"side\":\"BUY\","
    "\"state\":\"CLOSED\",\"qty\":40,\"entry_price\":1510.00,\"stop\":1495.00,\"net_pnl\":220.40}]}";
static const char fills_doc[] =
    "{\"fills\":[{\"ts\":\"2024-06-03T09:20:00.000+05:30\",\"order_id\":11,\"trade_id\":1,"
    "\"symbol\":\"NIFTY24JUNFUT\",\"side\":\"BUY\",\"qty\":75,\"price\":23250.05,\"reason\":\"ENTRY\"},"
    "{\"ts\":\"2024-06-03T09:31:10.500+05:30\",\"order_id\":12,\"trade_id\":2,"
    "\"symbol\":\"RELIANCE\",\"side\":\"SELL\",\"qty\":120,\"price\":2950.40,\"reason\":\"ENTRY\"}]}";
static const char alerts_doc[] =
    "{\"alerts\":[{\"ts\":\"2024-06-03T09:45:00.000+05:30\",\"severity\":\"WARNING\","
    "\"code\":\"HEDGE_IMBALANCE\",\"message\":\"NIFTY: 25 units short without the long "
    "<script>window.__pwned=1</script>\"}]}";
static const char health_doc[] =
    "{\"status\":\"UP\",\"components\":{\"broker\":{\"status\":\"UP\",\"detail\":\"paper\"},"
    "\"store\":{\"status\":\"UP\",\"detail\":\"commit p99 0.4 ms\"},"
    "\"market_data\":{\"status\":\"UP\",\"detail\":\"lag 0.2 s\"},"
    "\"signals\":{\"status\":\"UP\",\"detail\":\"api\"}}}";
static const char report_doc[] =
    "{\"date\":\"2024-06-03\",\"signals_received\":12,\"signals_accepted\":10,"
    "\"net_pnl\":-1231896.04}";

static void on_wakeup(void *ctx)
{
    struct core *c = ctx;

    pthread_mutex_lock(&c->mu);
    c->woken = true;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void on_log(void *ctx, enum hh_api_log_level level, const char *event, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "LOG %d %s %s\n", (int)level, event, msg);
}

static void publish(struct core *c)
{
    char status[512];
    int n;

    n = snprintf(status, sizeof status,
                 "{\"mode\":\"paper\",\"trading_state\":\"%s\",\"engine_time\":"
                 "\"2024-06-03T10:15:00.000+05:30\",\"breaker\":\"CLOSED\","
                 "\"last_reconcile_at\":\"2024-06-03T10:14:48.000+05:30\","
                 "\"reconcile\":{\"divergences_total\":0},\"counts\":{\"signals_accepted\":%llu,"
                 "\"signals_rejected\":%llu,\"trades_open\":2,\"trades_waiting\":1}}",
                 c->state, (unsigned long long)c->accepted, (unsigned long long)c->rejected);
    hh_api_publish(c->api, HH_API_DOC_STATUS, status, (size_t)n);
    hh_api_publish(c->api, HH_API_DOC_POSITIONS, positions_doc, sizeof positions_doc - 1);
    hh_api_publish(c->api, HH_API_DOC_ORDERS, orders_doc, sizeof orders_doc - 1);
    hh_api_publish(c->api, HH_API_DOC_TRADES, trades_doc, sizeof trades_doc - 1);
    hh_api_publish(c->api, HH_API_DOC_FILLS, fills_doc, sizeof fills_doc - 1);
    hh_api_publish(c->api, HH_API_DOC_ALERTS, alerts_doc, sizeof alerts_doc - 1);
    hh_api_publish_health(c->api, true, health_doc, sizeof health_doc - 1);
    hh_api_publish_report(c->api, "2024-06-03", report_doc, sizeof report_doc - 1);
}

static void feed_metrics(struct core *c)
{
    struct hh_api *a = c->api;

    hh_api_gauge(a, HH_API_M_OPEN_POSITIONS, 0, 3);
    hh_api_gauge(a, HH_API_M_UNHEDGED_EXPOSURE,
                 hh_api_series(a, HH_API_M_UNHEDGED_EXPOSURE, "NIFTY"), c->exposure);
    hh_api_gauge(a, HH_API_M_MARGIN_UTILISATION, 0, 0.42);
    hh_api_state(a, HH_API_M_BREAKER_STATE, 0);
    hh_api_state(a, HH_API_M_KILL_SWITCH_STATE, hh_api_series(a, HH_API_M_KILL_SWITCH_STATE,
                                                              c->state));
    for (int i = 0; i < 4; i++)
        hh_api_gauge(a, HH_API_M_COMPONENT_UP, i, 1);
    hh_api_gauge(a, HH_API_M_MARKET_OPEN, 0, 1);
    hh_api_gauge(a, HH_API_M_MARKET_DATA_LAG, 0, 0.25);
    hh_api_observe_ns(a, HH_API_M_STORE_COMMIT_LATENCY, 0, 400000);
}

static void audit(struct core *c, const char *event, const struct hh_api_command *cmd,
                  const char *extra)
{
    if (!c->audit)
        return;
    fprintf(c->audit, "{\"event\":\"%s\",\"method\":\"%s\",\"path\":\"%s\",\"client\":\"%s\","
            "\"key\":\"%s\"%s}\n", event, cmd->method, cmd->path, cmd->client, cmd->key_id,
            extra);
    fflush(c->audit);
}

/* A signal's decision (ACCEPTED unless its id was seen or missing). */
static void on_signal(struct core *c, const struct hh_api_command *cmd, char *out, size_t cap)
{
    struct json_object *o = json_tokener_parse(cmd->body), *v = NULL;
    const char *id = o && json_object_object_get_ex(o, "id", &v) ? json_object_get_string(v)
                                                                   : NULL;
    const char *reason = id ? NULL : "MISSING_FIELD";

    for (int i = 0; id && i < c->nids; i++)
        if (!strcmp(c->ids[i], id))
            reason = "DUPLICATE";
    if (id && !reason && c->nids < MAX_IDS)
        c->ids[c->nids++] = strdup(id);
    snprintf(out, cap, "{\"id\":\"%s\",\"decision\":\"%s\",\"reason\":%s%s%s}", id ? id : "",
             reason ? "REJECTED" : "ACCEPTED", reason ? "\"" : "", reason ? reason : "null",
             reason ? "\"" : "");
    hh_api_count(c->api, HH_API_M_SIGNALS,
                 reason ? (id ? HH_SIG_DUPLICATE : HH_SIG_MISSING_FIELD) : HH_SIG_NONE, 1);
    if (reason)
        c->rejected++;
    else
        c->accepted++;
    hh_api_observe_ns(c->api, HH_API_M_SIGNAL_ORDER_LATENCY, 0, 1200000);
    json_object_put(o);
}

static int on_command(struct core *c, const struct hh_api_command *cmd, char *out, size_t cap)
{
    static const char *const states[] = { "PAUSED", "REDUCING", "HALTED", "HALTED" };

    switch (cmd->kind) {
    case HH_API_CMD_SIGNAL:
        on_signal(c, cmd, out, cap);
        return 200;
    case HH_API_CMD_KILL:
        c->state = states[cmd->action];
        snprintf(out, cap, "{\"trading_state\":\"%s\",\"action\":\"%s\"}", c->state,
                 hh_api_kill_action_name(cmd->action));
        return 200;
    case HH_API_CMD_RESUME:
        c->state = "ACTIVE";
        snprintf(out, cap, "{\"trading_state\":\"ACTIVE\"}");
        return 200;
    case HH_API_CMD_EXIT_TRADE:
        snprintf(out, cap, cmd->trade_id == 1 || cmd->trade_id == 2
                               ? "{\"trade_id\":%llu,\"state\":\"EXITING\"}"
                               : "{\"error\":\"NO_SUCH_TRADE\",\"trade_id\":%llu}",
                 (unsigned long long)cmd->trade_id);
        return cmd->trade_id == 1 || cmd->trade_id == 2 ? 200 : 404;
    case HH_API_CMD_REFUSED:
        break;
    }
    return 0;
}

static void handle(struct core *c, struct hh_api_command *cmd)
{
    char out[512], extra[600];
    int status;

    if (cmd->kind == HH_API_CMD_REFUSED) {
        snprintf(extra, sizeof extra, ",\"code\":\"%s\"", hh_api_refusal_name(cmd->refusal));
        audit(c, "API_REFUSED", cmd, extra);
        return;
    }
    status = on_command(c, cmd, out, sizeof out);
    snprintf(extra, sizeof extra, ",\"status\":%d,\"answer\":%s", status, out);
    audit(c, "API_COMMAND", cmd, extra);
    if (c->no_answer)
        return;
    if (c->delay_ms)
        usleep((useconds_t)c->delay_ms * 1000);
    hh_api_answer(c->api, cmd->id, status, out);
}

static void *core_main(void *arg)
{
    struct core *c = arg;
    struct timespec ts;

    pthread_mutex_lock(&c->mu);
    while (!c->stop) {
        pthread_mutex_unlock(&c->mu);
        publish(c);
        feed_metrics(c);
        while (hh_api_next_command(c->api, &c->cmd))
            handle(c, &c->cmd);
        pthread_mutex_lock(&c->mu);
        if (c->woken || c->stop) {
            c->woken = false;
            continue;
        }
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100000000;
        if (ts.tv_nsec >= 1000000000)
            ts.tv_sec++, ts.tv_nsec -= 1000000000;
        pthread_cond_timedwait(&c->cv, &c->mu, &ts);
        c->woken = false;
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

static void usage(void)
{
    fprintf(stderr, "usage: api_fakecore --listen ADDR:PORT --port-file F [--allow CIDR]... "
            "[--keys F] [--token F] [--nonces F] [--report-dir D] [--audit F] "
            "[--exposure UNITS] [--answer-delay-ms N] [--no-answer] [--answer-timeout-ms N] "
            "[--conn-timeout-s N] [--threads N]\n");
    exit(2);
}

static const char *port_file;
static const char *audit_path;

static void parse(int argc, char **argv, struct hh_api_config *cfg, struct core *c,
                  const char **allow)
{
    static const char *under[] = { "NIFTY", "BANKNIFTY" };

    cfg->allow = allow, cfg->underlyings = under, cfg->nunderlyings = 2;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (!strcmp(o, "--no-answer")) {
            c->no_answer = true;
            continue;
        }
        if (!v)
            usage();
        i++;
        if (!strcmp(o, "--listen")) cfg->listen = v;
        else if (!strcmp(o, "--port-file")) port_file = v;
        else if (!strcmp(o, "--allow") && cfg->nallow < MAX_ALLOW) allow[cfg->nallow++] = v;
        else if (!strcmp(o, "--keys")) cfg->keys_file = v;
        else if (!strcmp(o, "--token")) cfg->read_token_file = v;
        else if (!strcmp(o, "--nonces")) cfg->nonce_file = v;
        else if (!strcmp(o, "--report-dir")) cfg->report_dir = v;
        else if (!strcmp(o, "--audit")) audit_path = v;
        else if (!strcmp(o, "--exposure")) c->exposure = atof(v);
        else if (!strcmp(o, "--answer-delay-ms")) c->delay_ms = atoi(v);
        else if (!strcmp(o, "--answer-timeout-ms")) cfg->answer_timeout_ms = (unsigned)atoi(v);
        else if (!strcmp(o, "--conn-timeout-s")) cfg->conn_timeout_s = (unsigned)atoi(v);
        else if (!strcmp(o, "--threads")) cfg->threads = (unsigned)atoi(v);
        else usage();
    }
    if (!cfg->listen || !port_file)
        usage();
}

static int write_port(int port)
{
    char tmp[4096];
    FILE *f;

    snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
    if (!(f = fopen(tmp, "w")))
        return -1;
    fprintf(f, "%d\n", port);
    fclose(f);
    return rename(tmp, port_file);
}

/* Wait for SIGTERM/SIGINT; SIGHUP reloads the keys. */
static void serve_signals(struct hh_api *api, const sigset_t *set)
{
    int sig;

    while (sigwait(set, &sig) == 0) {
        struct hh_diag d = { { 0 } };

        if (sig != SIGHUP)
            return;
        if (hh_api_reload(api, &d) != HH_OK)
            fprintf(stderr, "reload failed: %s\n", d.msg);
    }
}

int main(int argc, char **argv)
{
    static struct core c = { .state = "ACTIVE" };
    struct hh_api_config cfg = { 0 };
    const char *allow[MAX_ALLOW];
    struct hh_diag d = { { 0 } };
    sigset_t set;
    pthread_t core;

    parse(argc, argv, &cfg, &c, allow);
    cfg.version = "fakecore";
    cfg.wakeup = on_wakeup, cfg.wakeup_ctx = &c;
    cfg.log = on_log;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    pthread_mutex_init(&c.mu, NULL);
    pthread_cond_init(&c.cv, NULL);
    if (audit_path && !(c.audit = fopen(audit_path, "a")))
        return 2;
    if (hh_api_new(&cfg, &c.api, &d) != HH_OK || hh_api_start(c.api, &d) != HH_OK) {
        fprintf(stderr, "api_fakecore: %s\n", d.msg);
        return 2;
    }
    pthread_create(&core, NULL, core_main, &c);
    if (write_port(hh_api_port(c.api)) != 0)
        return 2;
    serve_signals(c.api, &set);
    pthread_mutex_lock(&c.mu);
    c.stop = true;
    pthread_cond_signal(&c.cv);
    pthread_mutex_unlock(&c.mu);
    pthread_join(core, NULL);
    hh_api_free(c.api);
    for (int i = 0; i < c.nids; i++)
        free(c.ids[i]);
    if (c.audit)
        fclose(c.audit);
    return 0;
}
