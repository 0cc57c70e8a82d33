/*
 * server.c — the API handle: the configuration checked and copied, the
 * secret files and the nonce file read, the listening socket bound to
 * exactly the configured address, libmicrohttpd started on a pool of
 * threads (epoll, suspend/resume), and the orderly stop: no new
 * connection, every held request answered, threads joined, secrets wiped.
 */
#include "api/api_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define DEF_WINDOW_S      300
#define DEF_CONN_MAX      1000
#define DEF_CONN_TIMEOUT  10
#define DEF_ANSWER_MS     5000
#define DEF_QUEUE_CAP     256
#define DEF_THREADS       2
#define FD_RESERVE        64      /* descriptors kept for everything but connections */
#define DRAIN_MS          2000    /* the stop waits this long for held requests' 503s */

static const char live_body[] = "{\"status\":\"UP\"}";

/* ---- configuration ---------------------------------------------------- */

static int defaults(struct hh_api_config *c, struct hh_diag *d)
{
    c->window_s = c->window_s ? c->window_s : DEF_WINDOW_S;
    c->body_max = c->body_max ? c->body_max : HH_API_BODY_MAX;
    c->conn_max = c->conn_max ? c->conn_max : DEF_CONN_MAX;
    c->conn_timeout_s = c->conn_timeout_s ? c->conn_timeout_s : DEF_CONN_TIMEOUT;
    c->answer_timeout_ms = c->answer_timeout_ms ? c->answer_timeout_ms : DEF_ANSWER_MS;
    c->queue_cap = c->queue_cap ? c->queue_cap : DEF_QUEUE_CAP;
    c->threads = c->threads ? c->threads : DEF_THREADS;
    if (c->window_s < 1 || c->window_s > 86400)
        return hh_diag_set(d, HH_ECONFIG, "api.window_s: %d is not within 1..86400",
                           c->window_s);
    if (c->body_max > HH_API_BODY_MAX)
        return hh_diag_set(d, HH_ECONFIG, "api: body limit %zu above %d bytes", c->body_max,
                           HH_API_BODY_MAX);
    if (c->queue_cap > 0xffff || c->threads > 64)
        return hh_diag_set(d, HH_ECONFIG, "api: queue_cap must be <= 65535, threads <= 64");
    if (!c->listen)
        return hh_diag_set(d, HH_ECONFIG, "api.listen: missing");
    if (c->keys_file && !c->nonce_file)
        return hh_diag_set(d, HH_ECONFIG, "api: keys_file needs a nonce file");
    return HH_OK;
}

/* "a.b.c.d:port" or "[v6]:port" with a numeric address. */
static int parse_listen(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[64];
    const char *colon = strrchr(text, ':');
    size_t hl = colon ? (size_t)(colon - text) : 0;
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;

    if (!colon || !colon[1] || *end || port < 0 || port > 65535 || hl == 0 || hl >= sizeof host)
        return HH_EINVAL;
    memset(ss, 0, sizeof *ss);
    if (text[0] == '[' && text[hl - 1] == ']') {
        snprintf(host, sizeof host, "%.*s", (int)hl - 2, text + 1);
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *len = sizeof *v6;
        return inet_pton(AF_INET6, host, &v6->sin6_addr) == 1 ? HH_OK : HH_EINVAL;
    }
    snprintf(host, sizeof host, "%.*s", (int)hl, text);
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    *len = sizeof *v4;
    return inet_pton(AF_INET, host, &v4->sin_addr) == 1 ? HH_OK : HH_EINVAL;
}

static int copy_allow(struct hh_api *a, const struct hh_api_config *cfg, struct hh_diag *d)
{
    if (!(a->allow = calloc(cfg->nallow + 1, sizeof *a->allow)))
        return hh_diag_set(d, HH_ENOMEM, "out of memory");
    for (size_t i = 0; i < cfg->nallow; i++)
        if (hh_api__net_parse(cfg->allow[i], &a->allow[i]) != HH_OK)
            return hh_diag_set(d, HH_ECONFIG, "api.allow: '%s' is not an address or CIDR",
                               cfg->allow[i]);
    a->nallow = cfg->nallow;
    return HH_OK;
}

static int copy_strings(struct hh_api *a, const struct hh_api_config *cfg, struct hh_diag *d)
{
    struct sockaddr_storage ss;
    socklen_t len;

    if (parse_listen(cfg->listen, &ss, &len) != HH_OK)
        return hh_diag_set(d, HH_ECONFIG, "api.listen: '%s' is not ADDRESS:PORT with a "
                           "numeric IPv4 address or [IPv6]", cfg->listen);
    a->listen = strdup(cfg->listen);
    a->version = strdup(cfg->version ? cfg->version : "dev");
    a->report_dir = cfg->report_dir ? strdup(cfg->report_dir) : NULL;
    if (!a->listen || !a->version || (cfg->report_dir && !a->report_dir))
        return hh_diag_set(d, HH_ENOMEM, "out of memory");
    /* Nothing in a->cfg may point at the caller's memory. */
    a->cfg.listen = a->listen;
    a->cfg.version = a->version;
    a->cfg.report_dir = a->report_dir;
    a->cfg.allow = NULL, a->cfg.underlyings = NULL;
    a->cfg.nallow = a->cfg.nunderlyings = 0;
    a->cfg.keys_file = a->cfg.read_token_file = a->cfg.nonce_file = NULL;
    return HH_OK;
}

int hh_api_new(const struct hh_api_config *cfg, struct hh_api **out, struct hh_diag *d)
{
    struct hh_api *a = calloc(1, sizeof *a);
    struct hh_api_config c = *cfg;
    int rc;

    *out = NULL;
    if (!a)
        return hh_diag_set(d, HH_ENOMEM, "out of memory");
    a->cfg = c;
    a->nonces.fd = -1;
    if ((rc = defaults(&a->cfg, d)) != HH_OK || (rc = hh_api__cmdq_init(a)) != HH_OK ||
        (rc = copy_allow(a, cfg, d)) != HH_OK ||
        (rc = hh_api__metrics_init(&a->reg, &a->cfg, d)) != HH_OK ||
        (rc = copy_strings(a, cfg, d)) != HH_OK ||
        (rc = hh_api__keys_init(&a->keys, cfg->keys_file, cfg->read_token_file, cfg->log,
                                cfg->log_ctx, d)) != HH_OK ||
        (rc = hh_api__nonces_open(&a->nonces, cfg->keys_file ? cfg->nonce_file : NULL,
                                  hh_api__now_ms(a), d)) != HH_OK ||
        (rc = hh_api__page_build(&a->page)) != HH_OK) {
        if (rc == HH_ENOMEM)
            hh_diag_set(d, rc, "api: out of memory");
        hh_api_free(a);
        return rc;
    }
    *out = a;
    return HH_OK;
}

/* ---- start ------------------------------------------------------------ */

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct hh_api *a = cls;
    char msg[512];

    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    if (a->cfg.log)
        a->cfg.log(a->cfg.log_ctx, HH_API_LOG_WARN, "api_http", msg);
}

/* Bind exactly the configured address. */
static int bind_listen(struct hh_api *a, int *fd_out, struct hh_diag *d)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    int one = 1, fd;

    parse_listen(a->listen, &ss, &len);
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return hh_diag_set(d, HH_EIO, "api.listen %s: %s", a->listen, strerror(errno));
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ss.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 1024) != 0) {
        int e = errno;

        close(fd);
        return hh_diag_set(d, HH_EIO, "api.listen %s: %s", a->listen, strerror(e));
    }
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        a->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    *fd_out = fd;
    return HH_OK;
}

/* Connections allowed: the configured limit, within the descriptors left. */
static unsigned conn_limit(const struct hh_api *a)
{
    struct rlimit rl;
    unsigned lim = a->cfg.conn_max;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur < (rlim_t)lim + FD_RESERVE)
        lim = rl.rlim_cur > 2 * FD_RESERVE ? (unsigned)(rl.rlim_cur - FD_RESERVE) : FD_RESERVE;
    return lim;
}

static int shared_responses(struct hh_api *a)
{
    a->live_resp = MHD_create_response_from_buffer(sizeof live_body - 1, (void *)live_body,
                                                   MHD_RESPMEM_PERSISTENT);
    a->page_resp = MHD_create_response_from_buffer(a->page.html.len, a->page.html.p,
                                                   MHD_RESPMEM_PERSISTENT);
    if (!a->live_resp || !a->page_resp)
        return HH_ENOMEM;
    MHD_add_response_header(a->live_resp, "Content-Type", "application/json");
    MHD_add_response_header(a->live_resp, "Cache-Control", "no-store");
    MHD_add_response_header(a->live_resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(a->page_resp, "Content-Type", "text/html; charset=utf-8");
    MHD_add_response_header(a->page_resp, "Cache-Control", "no-store");
    MHD_add_response_header(a->page_resp, "Content-Security-Policy", a->page.csp);
    MHD_add_response_header(a->page_resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(a->page_resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(a->page_resp, "Referrer-Policy", "no-referrer");
    return HH_OK;
}

static struct MHD_Daemon *start_mhd(struct hh_api *a, int fd)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
                     (strchr(a->listen, '[') ? MHD_USE_IPv6 : 0);

    return MHD_start_daemon(
        flags, 0, NULL, NULL, hh_api__on_request, a,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, a,
        MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_THREAD_POOL_SIZE, a->cfg.threads,
        MHD_OPTION_CONNECTION_LIMIT, conn_limit(a),
        MHD_OPTION_CONNECTION_TIMEOUT, a->cfg.conn_timeout_s,
        MHD_OPTION_URI_LOG_CALLBACK, hh_api__on_uri, a,
        MHD_OPTION_NOTIFY_COMPLETED, hh_api__on_completed, a,
        MHD_OPTION_END);
}

int hh_api_start(struct hh_api *a, struct hh_diag *d)
{
    int fd = -1, rc;

    if (!a)
        return HH_OK;
    if (a->mhd)
        return hh_diag_set(d, HH_ESTATE, "api: already started");
    if (shared_responses(a) != HH_OK)
        return hh_diag_set(d, HH_ENOMEM, "api: out of memory");
    if ((rc = bind_listen(a, &fd, d)) != HH_OK)
        return rc;
    atomic_store(&a->last_poll_ms, hh_api__now_ms(a));
    if (hh_api__aux_start(a) != HH_OK) {
        close(fd);
        return hh_diag_set(d, HH_ENOMEM, "api: cannot start the aux thread");
    }
    if (!(a->mhd = start_mhd(a, fd))) {
        close(fd);
        hh_api__aux_stop(a);
        return hh_diag_set(d, HH_EIO, "api.listen %s: the HTTP server did not start",
                           a->listen);
    }
    if (a->cfg.log) {
        char msg[160];

        snprintf(msg, sizeof msg, "API listening on %s (port %d)", a->listen, a->port);
        a->cfg.log(a->cfg.log_ctx, HH_API_LOG_INFO, "api_listen", msg);
    }
    return HH_OK;
}

int hh_api_port(const struct hh_api *a)
{
    return a && a->mhd ? a->port : 0;
}

int hh_api_reload(struct hh_api *a, struct hh_diag *d)
{
    return a ? hh_api__keys_reload(&a->keys, d) : HH_OK;
}

/* ---- metrics the server knows ----------------------------------------- */

int hh_api_metrics_render(struct hh_api *a, char **out, size_t *len)
{
    struct hh_api__buf b = { 0 };
    const union MHD_DaemonInfo *di =
        a && a->mhd ? MHD_get_daemon_info(a->mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS) : NULL;

    *out = NULL, *len = 0;
    if (!a)
        return HH_OK;
    hh_api_gauge(a, HH_API_M_API_CONNECTIONS, 0, di ? (double)di->num_connections : 0.0);
    hh_api_gauge(a, HH_API_M_CORE_POLL_AGE, 0,
                 (double)(hh_api__now_ms(a) - atomic_load(&a->last_poll_ms)) / 1000.0);
    hh_api__metrics_render(&a->reg, &b);
    if (b.failed) {
        hh_api__buf_free(&b);
        return HH_ENOMEM;
    }
    *out = b.p, *len = b.len;
    return HH_OK;
}

/* ---- stop ------------------------------------------------------------- */

void hh_api_free(struct hh_api *a)
{
    MHD_socket fd = MHD_INVALID_SOCKET;

    if (!a)
        return;
    if (a->mhd)
        fd = MHD_quiesce_daemon(a->mhd);
    hh_api__aux_stop(a);
    /* Let the 503s of the requests held until now go out (bounded). */
    for (int i = 0; a->mhd && i < DRAIN_MS && atomic_load(&a->draining) > 0; i++)
        usleep(1000);
    if (a->mhd)
        MHD_stop_daemon(a->mhd);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    if (a->live_resp)
        MHD_destroy_response(a->live_resp);
    if (a->page_resp)
        MHD_destroy_response(a->page_resp);
    hh_api__keys_free(&a->keys);
    hh_api__nonces_close(&a->nonces);
    hh_api__metrics_free(&a->reg);
    hh_api__page_free(&a->page);
    hh_api__cmdq_free(a);
    free(a->allow);
    free(a->listen);
    free(a->version);
    free(a->report_dir);
    free(a);
}
