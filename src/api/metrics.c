/*
 * metrics.c — the registry behind /metrics: every metric of
 * HH_API_METRICS with its label set fixed at creation, values in atomics
 * the core updates without a lock (relaxed order: each cell is exact, a
 * scrape is not a snapshot across cells), and the Prometheus text format
 * (version 0.0.4) rendered on an HTTP thread.
 *
 * Label values are bounded and declared here (or given once in the
 * configuration: the underlyings); nothing unbounded such as an order id
 * is ever a label.  A histogram's buckets are in ns internally (exact
 * comparisons) and rendered in seconds; its _count is the sum of the
 * bucket cells read, so buckets and count always agree in one scrape.
 */
#include "api/api_int.h"

#include "core/err.h"
#include "exec/breaker.h"
#include "signal/signal.h"

#include <math.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum label_src {
    L_NONE,          /* one series, no label */
    L_BUILD,         /* version, libmicrohttpd, openssl */
    L_SIGNALS,       /* decision + reason: enum hh_sig_reason */
    L_LIST,          /* `list` */
    L_BREAKER,       /* enum hh_breaker_state */
    L_UNDERLYING,    /* cfg->underlyings */
    L_REFUSAL,       /* enum hh_api_refusal */
    L_ROUTE,         /* the route names, then "unknown" */
};

enum buckets { B_NONE, B_LATENCY, B_HEDGE };

struct mdef {
    enum label_src src;
    const char *label;
    const char *const *list;     /* NULL-terminated */
    enum buckets buckets;
};

static const char *const order_results[] = { "SENT", "FILLED", "CANCELLED", "REJECTED",
                                             "EXPIRED", NULL };
static const char *const kill_states[] = { "ACTIVE", "PAUSED", "REDUCING", "HALTED", NULL };
static const char *const components[] = { "broker", "store", "market_data", "signals", NULL };
static const char *const http_codes[] = { "200", "400", "401", "403", "404", "405", "409",
                                          "411", "413", "500", "503", "other", NULL };

static const struct mdef defs[HH_API_M_COUNT] = {
    [HH_API_M_BUILD_INFO] = { L_BUILD, NULL, NULL, B_NONE },
    [HH_API_M_SIGNALS] = { L_SIGNALS, "reason", NULL, B_NONE },
    [HH_API_M_ORDERS] = { L_LIST, "result", order_results, B_NONE },
    [HH_API_M_UNHEDGED_EXPOSURE] = { L_UNDERLYING, "underlying", NULL, B_NONE },
    [HH_API_M_HEDGE_LAG] = { L_NONE, NULL, NULL, B_HEDGE },
    [HH_API_M_BREAKER_STATE] = { L_BREAKER, "state", NULL, B_NONE },
    [HH_API_M_SIGNAL_ORDER_LATENCY] = { L_NONE, NULL, NULL, B_LATENCY },
    [HH_API_M_STORE_COMMIT_LATENCY] = { L_NONE, NULL, NULL, B_LATENCY },
    [HH_API_M_KILL_SWITCH_STATE] = { L_LIST, "state", kill_states, B_NONE },
    [HH_API_M_COMPONENT_UP] = { L_LIST, "component", components, B_NONE },
    [HH_API_M_API_REFUSED] = { L_REFUSAL, "code", NULL, B_NONE },
    [HH_API_M_API_REQUESTS] = { L_ROUTE, "route", NULL, B_NONE },
    [HH_API_M_API_RESPONSES] = { L_LIST, "code", http_codes, B_NONE },
};

/* Latencies: 100 µs .. 10 s.  Hedge lag: 5 ms .. 30 s (the alert is at 0.5 s). */
static const int64_t lat_ns[] = { 100000, 250000, 500000, 1000000, 2500000, 5000000,
                                  10000000, 25000000, 50000000, 100000000, 250000000,
                                  500000000, 1000000000, 2500000000, 5000000000,
                                  10000000000 };
static const char *const lat_text[] = { "0.0001", "0.00025", "0.0005", "0.001", "0.0025",
                                        "0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
                                        "0.5", "1", "2.5", "5", "10" };
static const int64_t hedge_ns[] = { 5000000, 10000000, 25000000, 50000000, 100000000,
                                    250000000, 500000000, 1000000000, 2500000000,
                                    5000000000, 10000000000, 30000000000 };
static const char *const hedge_text[] = { "0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
                                          "0.5", "1", "2.5", "5", "10", "30" };

static const struct {
    enum hh_api__mtype type;
    const char *name, *help;
} meta[HH_API_M_COUNT] = {
#define HH__API_M_META(id, type, name, help) [HH_API_M_##id] = { HH_API__##type, name, help },
    HH_API_METRICS(HH__API_M_META)
#undef HH__API_M_META
};

/* ---- label sets ------------------------------------------------------- */

/* 'k="v"' with v escaped as the text format wants. */
static void put_label(struct hh_api__buf *b, const char *k, const char *v)
{
    hh_api__buf_printf(b, "%s%s=\"", b->len ? "," : "", k);
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            hh_api__buf_printf(b, "\\%c", *v);
        else if (*v == '\n')
            hh_api__buf_puts(b, "\\n");
        else
            hh_api__buf_put(b, v, 1);
    }
    hh_api__buf_puts(b, "\"");
}

static int count_list(const char *const *list)
{
    int n = 0;

    while (list[n])
        n++;
    return n;
}

static int nseries_of(const struct mdef *def, const struct hh_api_config *cfg)
{
    switch (def->src) {
    case L_NONE:
    case L_BUILD:
        return 1;
    case L_SIGNALS:
        return HH_SIG_REASON_COUNT;
    case L_LIST:
        return count_list(def->list);
    case L_BREAKER:
        return HH_BRK_HALF_OPEN + 1;
    case L_UNDERLYING:
        return (int)cfg->nunderlyings;
    case L_REFUSAL:
        return HH_API_REF_COUNT;
    case L_ROUTE:
        return (int)hh_api__nroutes + 1;
    }
    return 0;
}

/* The value of series s's (last) label. */
static const char *value_of(const struct mdef *def, const struct hh_api_config *cfg, int s)
{
    switch (def->src) {
    case L_NONE:
        return "";
    case L_BUILD:
        return cfg->version ? cfg->version : "dev";
    case L_SIGNALS:
        return hh_sig_reason_name((enum hh_sig_reason)s);
    case L_LIST:
        return def->list[s];
    case L_BREAKER:
        return hh_breaker_state_name((enum hh_breaker_state)s);
    case L_UNDERLYING:
        return cfg->underlyings[s];
    case L_REFUSAL:
        return hh_api_refusal_name((enum hh_api_refusal)s);
    case L_ROUTE:
        return (size_t)s < hh_api__nroutes ? hh_api__routes[s].name : "unknown";
    }
    return "";
}

static void labels_of(const struct mdef *def, const struct hh_api_config *cfg, int s,
                      struct hh_api__buf *b)
{
    if (def->src == L_BUILD) {
        put_label(b, "version", value_of(def, cfg, s));
        put_label(b, "libmicrohttpd", MHD_get_version());
        put_label(b, "openssl", OpenSSL_version(OPENSSL_VERSION_STRING));
    } else if (def->src == L_SIGNALS) {
        put_label(b, "decision", s == HH_SIG_NONE ? "ACCEPTED" : "REJECTED");
        put_label(b, "reason", value_of(def, cfg, s));
    } else if (def->src != L_NONE) {
        put_label(b, def->label, value_of(def, cfg, s));
    }
}

static int init_metric(struct hh_api__metric *m, int id, const struct hh_api_config *cfg)
{
    const struct mdef *def = &defs[id];
    size_t cells;

    m->type = meta[id].type, m->name = meta[id].name, m->help = meta[id].help;
    m->nseries = nseries_of(def, cfg);
    if (def->buckets != B_NONE) {
        m->bounds_ns = def->buckets == B_LATENCY ? lat_ns : hedge_ns;
        m->bounds_text = def->buckets == B_LATENCY ? lat_text : hedge_text;
        m->nbounds = def->buckets == B_LATENCY ? (int)(sizeof lat_ns / sizeof *lat_ns)
                                               : (int)(sizeof hedge_ns / sizeof *hedge_ns);
    }
    cells = (size_t)m->nseries * (m->type == HH_API__HISTOGRAM ? (size_t)m->nbounds + 2 : 1);
    m->labels = calloc((size_t)m->nseries + 1, sizeof *m->labels);
    m->values = calloc((size_t)m->nseries + 1, sizeof *m->values);
    m->v = calloc(cells + 1, sizeof *m->v);
    if (!m->labels || !m->values || !m->v)
        return HH_ENOMEM;
    for (int s = 0; s < m->nseries; s++) {
        struct hh_api__buf b = { 0 };

        labels_of(def, cfg, s, &b);
        m->labels[s] = b.p ? b.p : strdup("");
        m->values[s] = strdup(value_of(def, cfg, s));
        if (b.failed || !m->labels[s] || !m->values[s])
            return HH_ENOMEM;
    }
    return HH_OK;
}

int hh_api__metrics_init(struct hh_api__registry *r, const struct hh_api_config *cfg,
                         struct hh_diag *d)
{
    double one = 1.0;
    uint64_t bits;

    memset(r, 0, sizeof *r);
    for (int id = 0; id < HH_API_M_COUNT; id++)
        if (init_metric(&r->m[id], id, cfg) != HH_OK)
            return hh_diag_set(d, HH_ENOMEM, "metrics: out of memory");
    memcpy(&bits, &one, sizeof bits);
    atomic_store_explicit(&r->m[HH_API_M_BUILD_INFO].v[0], bits, memory_order_relaxed);
    return HH_OK;
}

void hh_api__metrics_free(struct hh_api__registry *r)
{
    for (int id = 0; id < HH_API_M_COUNT; id++) {
        struct hh_api__metric *m = &r->m[id];

        for (int s = 0; m->labels && s < m->nseries; s++)
            free(m->labels[s]);
        for (int s = 0; m->values && s < m->nseries; s++)
            free(m->values[s]);
        free(m->labels);
        free(m->values);
        free((void *)m->v);
    }
    memset(r, 0, sizeof *r);
}

int hh_api__status_series(int status)
{
    char text[16];
    int i;

    snprintf(text, sizeof text, "%d", status);
    for (i = 0; strcmp(http_codes[i], "other"); i++)
        if (!strcmp(http_codes[i], text))
            break;
    return i;
}

/* ---- updates (any thread, no lock) ------------------------------------ */

static struct hh_api__metric *metric(struct hh_api *a, enum hh_api_metric m, int series,
                                     enum hh_api__mtype type)
{
    struct hh_api__metric *mt;

    HH_ASSERT((unsigned)m < HH_API_M_COUNT);
    mt = &a->reg.m[m];
    HH_ASSERT(mt->type == type && series >= 0 && series < mt->nseries);
    return mt;
}

int hh_api_series(const struct hh_api *a, enum hh_api_metric m, const char *value)
{
    const struct hh_api__metric *mt;

    if (!a || (unsigned)m >= HH_API_M_COUNT)
        return HH_ENOTFOUND;
    mt = &a->reg.m[m];
    if (defs[m].src == L_NONE)
        return 0;
    for (int s = 0; s < mt->nseries; s++)
        if (!strcmp(mt->values[s], value))
            return s;
    return HH_ENOTFOUND;
}

void hh_api_count(struct hh_api *a, enum hh_api_metric m, int series, uint64_t n)
{
    if (a)
        atomic_fetch_add_explicit(&metric(a, m, series, HH_API__COUNTER)->v[series], n,
                                  memory_order_relaxed);
}

void hh_api_gauge(struct hh_api *a, enum hh_api_metric m, int series, double v)
{
    uint64_t bits;

    if (!a)
        return;
    memcpy(&bits, &v, sizeof bits);
    atomic_store_explicit(&metric(a, m, series, HH_API__GAUGE)->v[series], bits,
                          memory_order_relaxed);
}

void hh_api_state(struct hh_api *a, enum hh_api_metric m, int series)
{
    struct hh_api__metric *mt;

    if (!a)
        return;
    mt = metric(a, m, series, HH_API__GAUGE);
    /* The new state first: a scrape in between sees two states, never none. */
    hh_api_gauge(a, m, series, 1.0);
    for (int s = 0; s < mt->nseries; s++)
        if (s != series)
            hh_api_gauge(a, m, s, 0.0);
}

void hh_api_observe_ns(struct hh_api *a, enum hh_api_metric m, int series, int64_t ns)
{
    struct hh_api__metric *mt;
    _Atomic uint64_t *cells;
    int i = 0;

    if (!a)
        return;
    mt = metric(a, m, series, HH_API__HISTOGRAM);
    cells = mt->v + (size_t)series * ((size_t)mt->nbounds + 2);
    ns = ns < 0 ? 0 : ns;
    while (i < mt->nbounds && ns > mt->bounds_ns[i])
        i++;
    atomic_fetch_add_explicit(&cells[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&cells[mt->nbounds + 1], (uint64_t)ns, memory_order_relaxed);
}

/* ---- the text format -------------------------------------------------- */

/* Whole numbers as integers, others as the shortest text that reads back
 * as v. */
static void fmt_double(double v, char *out, size_t cap)
{
    if (isnan(v)) {
        snprintf(out, cap, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(out, cap, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(out, cap, "%.0f", v);
        return;
    }
    for (int p = 1; p <= 17; p++) {
        snprintf(out, cap, "%.*g", p, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

static double cell_double(const _Atomic uint64_t *c)
{
    uint64_t bits = atomic_load_explicit(c, memory_order_relaxed);
    double v;

    memcpy(&v, &bits, sizeof v);
    return v;
}

static void open_labels(struct hh_api__buf *b, const char *labels, const char *extra)
{
    if (!*labels && !*extra)
        return;
    hh_api__buf_printf(b, "{%s%s%s}", labels, *labels && *extra ? "," : "", extra);
}

static void render_histogram(const struct hh_api__metric *m, int s, struct hh_api__buf *b)
{
    const _Atomic uint64_t *cells = m->v + (size_t)s * ((size_t)m->nbounds + 2);
    uint64_t acc = 0;
    char le[48], num[40];

    for (int i = 0; i <= m->nbounds; i++) {
        acc += atomic_load_explicit(&cells[i], memory_order_relaxed);
        snprintf(le, sizeof le, "le=\"%s\"", i < m->nbounds ? m->bounds_text[i] : "+Inf");
        hh_api__buf_printf(b, "%s_bucket", m->name);
        open_labels(b, m->labels[s], le);
        hh_api__buf_printf(b, " %llu\n", (unsigned long long)acc);
    }
    fmt_double((double)atomic_load_explicit(&cells[m->nbounds + 1], memory_order_relaxed) / 1e9,
               num, sizeof num);
    hh_api__buf_printf(b, "%s_sum", m->name);
    open_labels(b, m->labels[s], "");
    hh_api__buf_printf(b, " %s\n%s_count", num, m->name);
    open_labels(b, m->labels[s], "");
    hh_api__buf_printf(b, " %llu\n", (unsigned long long)acc);
}

static void render_metric(const struct hh_api__metric *m, struct hh_api__buf *b)
{
    static const char *const type_name[] = { "counter", "gauge", "histogram" };
    char num[40];

    hh_api__buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help, m->name,
                       type_name[m->type]);
    for (int s = 0; s < m->nseries; s++) {
        if (m->type == HH_API__HISTOGRAM) {
            render_histogram(m, s, b);
            continue;
        }
        if (m->type == HH_API__COUNTER)
            snprintf(num, sizeof num, "%llu", (unsigned long long)atomic_load_explicit(
                                                  &m->v[s], memory_order_relaxed));
        else
            fmt_double(cell_double(&m->v[s]), num, sizeof num);
        hh_api__buf_puts(b, m->name);
        open_labels(b, m->labels[s], "");
        hh_api__buf_printf(b, " %s\n", num);
    }
}

void hh_api__metrics_render(const struct hh_api__registry *r, struct hh_api__buf *b)
{
    for (int id = 0; id < HH_API_M_COUNT; id++)
        render_metric(&r->m[id], b);
}
