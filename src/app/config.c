/*
 * config.c — loading the YAML configuration against one declarative table.
 *
 * Every key the engine knows is a row of `keys[]`: its dotted path, its
 * type, its bounds and the field of struct hh_config it lands in.  Defaults
 * live in hh_config_defaults().  The file is parsed into a libyaml document
 * and walked; each scalar leaf must match a row (else "unknown key"), must
 * parse exactly (numbers go from text to fixed-point, never through double)
 * and must lie within its bounds.  Errors name FILE:LINE and the key.
 */
#include "app/config.h"

#include <errno.h>
#include <libgen.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

enum key_type {
    KT_MONEY,      /* rupees -> hh_money_t */
    KT_RATIO,      /* decimal -> hh_ratio_t */
    KT_INT,        /* whole number -> int64_t */
    KT_SEED,       /* whole number -> uint64_t */
    KT_BOOL,
    KT_SECONDS,    /* decimal seconds -> ns */
    KT_MILLIS,     /* decimal milliseconds -> ns */
    KT_PATH,       /* relative to the config file */
    KT_STRING,     /* short identifier */
    KT_MODE,       /* retest | touch */
    KT_TIMEFRAME,  /* 1m ... 1h -> ns */
    KT_TOD_NULL,   /* "HH:MM" or null (aux: offset of its "set" flag) */
    KT_WINDOWS,    /* list of "HH:MM:SS-HH:MM:SS" */
};

struct key {
    const char *name;      /* dotted path */
    enum key_type type;
    size_t off;            /* offset in struct hh_config */
    size_t aux;            /* KT_WINDOWS: offset of the count */
    int64_t min, max;      /* bounds in the stored unit (numbers only) */
};

#define OFF(f) offsetof(struct hh_config, f)
#define R(x) ((int64_t)((x) * HH_RATIO_SCALE))
#define NOLIM INT64_MIN, INT64_MAX

static const struct key keys[] = {
    { "capital",                   KT_MONEY,   OFF(capital), 0, 1, INT64_MAX },
    { "instruments",               KT_PATH,    OFF(instruments), 0, NOLIM },
    { "calendar.holidays",         KT_PATH,    OFF(holidays), 0, NOLIM },
    { "risk.risk_per_trade",       KT_RATIO,   OFF(risk.risk_per_trade), 0, 1, R(1) },
    { "risk.size_scale",           KT_RATIO,   OFF(risk.size_scale), 0, 0, R(1000) },
    { "risk.max_lots_per_trade",   KT_INT,     OFF(risk.max_lots_per_trade), 0, 1, 1000000 },
    { "risk.max_open_trades",      KT_INT,     OFF(risk.max_open_trades), 0, 1, 100000 },
    { "risk.min_rr",               KT_RATIO,   OFF(risk.min_rr), 0, 0, R(1000) },
    { "risk.min_confidence",       KT_RATIO,   OFF(risk.min_confidence), 0, 0, R(1) },
    { "risk.margin_buffer",        KT_RATIO,   OFF(risk.margin_buffer), 0, 1, R(1) },
    { "risk.allow_naked",          KT_BOOL,    OFF(risk.allow_naked), 0, NOLIM },
    { "risk.max_hedge_variance",   KT_RATIO,   OFF(risk.max_hedge_variance), 0, 0, R(1) },
    { "signals.max_live_age_s",    KT_SECONDS, OFF(signals.max_live_age), 0, 0, INT64_MAX },
    { "signals.max_clock_skew_s",  KT_SECONDS, OFF(signals.max_clock_skew), 0, 0, INT64_MAX },
    { "entry.mode",                KT_MODE,    OFF(entry.mode), 0, NOLIM },
    { "entry.timeframe",           KT_TIMEFRAME, OFF(entry.timeframe), 0, NOLIM },
    { "entry.volume_mult",         KT_RATIO,   OFF(entry.volume_mult), 0, 0, R(1000000) },
    { "entry.volume_lookback",     KT_INT,     OFF(entry.volume_lookback), 0, 1, 100000 },
    { "entry.require_pattern",     KT_BOOL,    OFF(entry.require_pattern), 0, NOLIM },
    { "exits.breakeven_after_t1",  KT_BOOL,    OFF(exits.breakeven_after_t1), 0, NOLIM },
    { "exits.squareoff",           KT_TOD_NULL, OFF(exits.squareoff), OFF(exits.squareoff_set), NOLIM },
    { "expiry.close_before",       KT_TOD_NULL, OFF(expiry.close_before), OFF(expiry.close_before_set), NOLIM },
    { "execution.slippage_ticks",  KT_INT,     OFF(execution.slippage_ticks), 0, 0, 1000000 },
    { "execution.slippage_bps",    KT_RATIO,   OFF(execution.slippage_bps), 0, 0, R(10000) },
    { "execution.fees",            KT_STRING,  OFF(execution.fees), 0, NOLIM },
    { "exec.exposure_check_ms",    KT_MILLIS,  OFF(exec.exposure_check), 0, 1, INT64_MAX },
    { "exec.hedge_debounce_ms",    KT_MILLIS,  OFF(exec.hedge_debounce), 0, 0, INT64_MAX },
    { "exec.leg_timeout_ms",       KT_MILLIS,  OFF(exec.leg_timeout), 0, 1, INT64_MAX },
    { "exec.sl_limit_buffer_pct",  KT_RATIO,   OFF(exec.sl_limit_buffer_pct), 0, 0, R(100) },
    { "exec.sl_timeout_ms",        KT_MILLIS,  OFF(exec.sl_timeout), 0, 1, INT64_MAX },
    { "broker.retry.attempts",     KT_INT,     OFF(broker.retry_attempts), 0, 1, 100 },
    { "broker.retry.base_ms",      KT_MILLIS,  OFF(broker.retry_base), 0, 0, INT64_MAX },
    { "broker.retry.max_ms",       KT_MILLIS,  OFF(broker.retry_max), 0, 0, INT64_MAX },
    { "broker.retry.jitter",       KT_RATIO,   OFF(broker.retry_jitter), 0, 0, R(1) },
    { "broker.breaker.failures",   KT_INT,     OFF(broker.breaker_failures), 0, 1, 1000000 },
    { "broker.breaker.window_s",   KT_SECONDS, OFF(broker.breaker_window), 0, 1, INT64_MAX },
    { "broker.breaker.cool_off_s", KT_SECONDS, OFF(broker.breaker_cool_off), 0, 0, INT64_MAX },
    { "reconcile.poll_s",          KT_SECONDS, OFF(reconcile.poll), 0, 1, INT64_MAX },
    { "paper.latency_ms",          KT_MILLIS,  OFF(paper.latency), 0, 0, INT64_MAX },
    { "paper.fill_ratio",          KT_RATIO,   OFF(paper.fill_ratio), 0, 1, R(1) },
    { "paper.faults.seed",         KT_SEED,    OFF(paper.seed), 0, NOLIM },
    { "paper.faults.drop_update_pct", KT_RATIO, OFF(paper.drop_update_pct), 0, 0, R(100) },
    { "paper.faults.delay_update_ms", KT_MILLIS, OFF(paper.delay_update), 0, 0, INT64_MAX },
    { "paper.faults.reject_pct",   KT_RATIO,   OFF(paper.reject_pct), 0, 0, R(100) },
    { "paper.faults.timeout_pct",  KT_RATIO,   OFF(paper.timeout_pct), 0, 0, R(100) },
    { "paper.faults.unavailable",  KT_WINDOWS, OFF(paper.unavailable), OFF(paper.n_unavailable), NOLIM },
    { "paper.faults.disconnect",   KT_WINDOWS, OFF(paper.disconnect), OFF(paper.n_disconnect), NOLIM },
};

#define NKEYS (sizeof keys / sizeof keys[0])

void hh_config_defaults(struct hh_config *c)
{
    memset(c, 0, sizeof *c);
    c->capital = 1000000 * HH_RUPEE;
    c->risk.risk_per_trade = R(0.01);
    c->risk.size_scale = R(1);
    c->risk.max_lots_per_trade = 100;
    c->risk.max_open_trades = 1;
    c->risk.min_rr = R(1.5);
    c->risk.min_confidence = R(0.6);
    c->risk.margin_buffer = R(0.9);
    c->risk.allow_naked = false;
    c->risk.max_hedge_variance = R(0.1);
    c->expiry.close_before_set = false;
    c->signals.max_live_age = 120 * HH_NS_PER_S;
    c->signals.max_clock_skew = 2 * HH_NS_PER_S;
    c->entry.mode = HH_ENTRY_RETEST;
    c->entry.timeframe = HH_NS_PER_MIN;
    c->entry.volume_mult = 0;
    c->entry.volume_lookback = 20;
    c->entry.require_pattern = false;
    c->exits.breakeven_after_t1 = true;
    c->exits.squareoff_set = true;
    c->exits.squareoff = HH_TOD(15, 15);
    c->execution.slippage_ticks = 0;
    c->execution.slippage_bps = 0;
    snprintf(c->execution.fees, sizeof c->execution.fees, "zero");
    c->exec.exposure_check = 100 * HH_NS_PER_MS;
    c->exec.hedge_debounce = 500 * HH_NS_PER_MS;
    c->exec.leg_timeout = 5000 * HH_NS_PER_MS;
    c->exec.sl_limit_buffer_pct = R(0.5);
    c->exec.sl_timeout = 2000 * HH_NS_PER_MS;
    c->broker.retry_attempts = 3;
    c->broker.retry_base = 1000 * HH_NS_PER_MS;
    c->broker.retry_max = 8000 * HH_NS_PER_MS;
    c->broker.retry_jitter = R(0.2);
    c->broker.breaker_failures = 5;
    c->broker.breaker_window = 30 * HH_NS_PER_S;
    c->broker.breaker_cool_off = 20 * HH_NS_PER_S;
    c->reconcile.poll = 12 * HH_NS_PER_S;
    c->paper.latency = 0;
    c->paper.fill_ratio = R(1);
    c->paper.seed = 1;
}

int hh_config_parse_timeframe(const char *s, int64_t *out)
{
    static const struct { const char *name; int64_t ns; } tf[] = {
        { "1m", HH_NS_PER_MIN },       { "3m", 3 * HH_NS_PER_MIN },
        { "5m", 5 * HH_NS_PER_MIN },   { "15m", 15 * HH_NS_PER_MIN },
        { "30m", 30 * HH_NS_PER_MIN }, { "1h", HH_NS_PER_HOUR },
    };

    for (size_t i = 0; i < sizeof tf / sizeof tf[0]; i++) {
        if (!strcmp(s, tf[i].name)) {
            *out = tf[i].ns;
            return HH_OK;
        }
    }
    return HH_EINVAL;
}

/* State of one load: the document, the file name, and keys seen. */
struct loader {
    yaml_document_t doc;
    const char *path;
    char dir[HH_PATH_MAX];
    struct hh_config *c;
    struct hh_diag *d;
    bool seen[NKEYS];
};

static int fail(struct loader *L, const yaml_node_t *n, const char *key,
                const char *fmt, const char *arg)
{
    char what[256];

    snprintf(what, sizeof what, fmt, arg);
    return hh_diag_set(L->d, HH_ECONFIG, "%s:%lu: key '%s': %s", L->path,
                       (unsigned long)n->start_mark.line + 1, key, what);
}

static const struct key *find_key(const char *name)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (!strcmp(keys[i].name, name))
            return &keys[i];
    return NULL;
}

/* Is there any key under the prefix "name." (i.e. is `name` a section)? */
static bool is_section(const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; i < NKEYS; i++)
        if (!strncmp(keys[i].name, name, n) && keys[i].name[n] == '.')
            return true;
    return false;
}

static bool scalar_is_null(const yaml_node_t *n)
{
    const char *v = (const char *)n->data.scalar.value;

    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    return !*v || !strcmp(v, "~") || !strcasecmp(v, "null");
}

/* Exact decimal -> integer scaled by 10^digits, bounds-checked. */
static int parse_scaled(struct loader *L, const yaml_node_t *n, const struct key *k,
                        int digits, int64_t *out)
{
    const char *v = (const char *)n->data.scalar.value;
    int rc = hh_dec_parse(v, strlen(v), digits, HH_DEC_EXP | HH_DEC_PLUS, out);

    if (rc == HH_EPREC)
        return fail(L, n, k->name, "'%s' has more decimal places than supported", v);
    if (rc)
        return fail(L, n, k->name, "'%s' is not a number in range", v);
    if (*out < k->min || *out > k->max)
        return fail(L, n, k->name, "%s is out of range", v);
    return HH_OK;
}

static int parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = { "true", "yes", "on" };
    static const char *const no[] = { "false", "no", "off" };

    for (int i = 0; i < 3; i++) {
        if (!strcasecmp(v, yes[i])) {
            *out = true;
            return HH_OK;
        }
        if (!strcasecmp(v, no[i])) {
            *out = false;
            return HH_OK;
        }
    }
    return HH_EINVAL;
}

/* "HH:MM" or "HH:MM:SS" -> ns since midnight. */
static int parse_tod(const char *s, size_t n, int64_t *out)
{
    int h, m, sec = 0;

    if ((n != 5 && n != 8) || s[2] != ':' || (n == 8 && s[5] != ':'))
        return HH_ESYNTAX;
    for (size_t i = 0; i < n; i++)
        if (i != 2 && i != 5 && (s[i] < '0' || s[i] > '9'))
            return HH_ESYNTAX;
    h = (s[0] - '0') * 10 + s[1] - '0';
    m = (s[3] - '0') * 10 + s[4] - '0';
    if (n == 8)
        sec = (s[6] - '0') * 10 + s[7] - '0';
    if (h > 23 || m > 59 || sec > 59)
        return HH_ESYNTAX;
    *out = HH_TOD(h, m) + sec * HH_NS_PER_S;
    return HH_OK;
}

static int resolve_path(struct loader *L, const char *v, char *dst)
{
    int n;

    if (!*v || v[0] == '/')
        n = snprintf(dst, HH_PATH_MAX, "%s", v);
    else
        n = snprintf(dst, HH_PATH_MAX, "%s/%s", L->dir, v);
    return n >= HH_PATH_MAX ? HH_ERANGE : HH_OK;
}

static int set_windows(struct loader *L, const yaml_node_t *n, const struct key *k)
{
    struct hh_window *w = (struct hh_window *)((char *)L->c + k->off);
    int *count = (int *)((char *)L->c + k->aux);
    yaml_node_item_t *it;

    if (n->type != YAML_SEQUENCE_NODE)
        return fail(L, n, k->name, "%s", "needs a list of \"HH:MM:SS-HH:MM:SS\" windows");
    *count = 0;
    for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *e = yaml_document_get_node(&L->doc, *it);
        const char *v, *dash;

        if (!e || e->type != YAML_SCALAR_NODE)
            return fail(L, n, k->name, "%s", "window must be a string");
        if (*count >= HH_CONFIG_WINDOWS_MAX)
            return fail(L, e, k->name, "%s", "too many windows");
        v = (const char *)e->data.scalar.value;
        dash = strchr(v, '-');
        if (!dash || parse_tod(v, (size_t)(dash - v), &w[*count].from) ||
            parse_tod(dash + 1, strlen(dash + 1), &w[*count].to) ||
            w[*count].to <= w[*count].from)
            return fail(L, e, k->name, "'%s' is not a window HH:MM:SS-HH:MM:SS", v);
        (*count)++;
    }
    return HH_OK;
}

/* Store one scalar value for key k. */
static int set_scalar(struct loader *L, const yaml_node_t *n, const struct key *k)
{
    void *dst = (char *)L->c + k->off;
    const char *v = (const char *)n->data.scalar.value;
    int64_t x;
    int rc;

    if (k->type == KT_TOD_NULL) {
        bool *set = (bool *)((char *)L->c + k->aux);

        if (k->off == OFF(exits.squareoff))
            L->c->exits.squareoff_explicit = true;
        if (scalar_is_null(n)) {
            *set = false;
            return HH_OK;
        }
        if (parse_tod(v, strlen(v), &x))
            return fail(L, n, k->name, "'%s' is not a time HH:MM (or null)", v);
        *set = true;
        *(int64_t *)dst = x;
        return HH_OK;
    }
    if (scalar_is_null(n))
        return fail(L, n, k->name, "%s", "needs a value");
    if (k->off == OFF(paper.fill_ratio))
        L->c->paper.fill_ratio_set = true;
    switch (k->type) {
    case KT_MONEY:
        return parse_scaled(L, n, k, HH_FX_DIGITS, (int64_t *)dst);
    case KT_RATIO:
        return parse_scaled(L, n, k, HH_RATIO_DIGITS, (int64_t *)dst);
    case KT_INT:
        return parse_scaled(L, n, k, 0, (int64_t *)dst);
    case KT_SEED:
        rc = hh_dec_parse(v, strlen(v), 0, 0, &x);
        if (rc || x < 0)
            return fail(L, n, k->name, "'%s' is not a non-negative whole number", v);
        *(uint64_t *)dst = (uint64_t)x;
        return HH_OK;
    case KT_SECONDS:
        return parse_scaled(L, n, k, 9, (int64_t *)dst);
    case KT_MILLIS:
        return parse_scaled(L, n, k, 6, (int64_t *)dst);
    case KT_BOOL:
        if (parse_bool(v, (bool *)dst))
            return fail(L, n, k->name, "'%s' is not true or false", v);
        return HH_OK;
    case KT_PATH:
        if (resolve_path(L, v, (char *)dst))
            return fail(L, n, k->name, "%s", "path too long");
        return HH_OK;
    case KT_STRING:
        if (strlen(v) >= sizeof L->c->execution.fees)
            return fail(L, n, k->name, "'%s' is too long", v);
        snprintf((char *)dst, sizeof L->c->execution.fees, "%s", v);
        return HH_OK;
    case KT_MODE:
        if (!strcmp(v, "retest"))
            *(enum hh_entry_mode *)dst = HH_ENTRY_RETEST;
        else if (!strcmp(v, "touch"))
            *(enum hh_entry_mode *)dst = HH_ENTRY_TOUCH;
        else
            return fail(L, n, k->name, "'%s' is not retest or touch", v);
        return HH_OK;
    case KT_TIMEFRAME:
        if (hh_config_parse_timeframe(v, (int64_t *)dst))
            return fail(L, n, k->name, "'%s' is not one of 1m 3m 5m 15m 30m 1h", v);
        return HH_OK;
    case KT_TOD_NULL:
    case KT_WINDOWS:
        break;
    }
    return fail(L, n, k->name, "%s", "internal: unhandled type");
}

static int walk_mapping(struct loader *L, const yaml_node_t *map, const char *prefix);

static int walk_value(struct loader *L, const yaml_node_t *n, const char *name)
{
    const struct key *k = find_key(name);

    if (k) {
        L->seen[k - keys] = true;
        if (k->type == KT_WINDOWS)
            return set_windows(L, n, k);
        if (n->type != YAML_SCALAR_NODE)
            return fail(L, n, name, "%s", "needs a single value, not a list or mapping");
        return set_scalar(L, n, k);
    }
    if (is_section(name)) {
        if (n->type == YAML_SCALAR_NODE && scalar_is_null(n))
            return HH_OK;  /* an empty section */
        if (n->type != YAML_MAPPING_NODE)
            return fail(L, n, name, "%s", "is a section: it needs keys under it");
        return walk_mapping(L, n, name);
    }
    return fail(L, n, name, "%s", "unknown key");
}

static int walk_mapping(struct loader *L, const yaml_node_t *map, const char *prefix)
{
    yaml_node_pair_t *p;

    for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(&L->doc, p->key);
        yaml_node_t *vn = yaml_document_get_node(&L->doc, p->value);
        char name[256];
        int rc;

        if (!kn || !vn || kn->type != YAML_SCALAR_NODE)
            return fail(L, map, prefix[0] ? prefix : "(top)", "%s", "keys must be plain names");
        snprintf(name, sizeof name, "%s%s%s", prefix, prefix[0] ? "." : "",
                 (const char *)kn->data.scalar.value);
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *qk = yaml_document_get_node(&L->doc, q->key);

            if (qk && qk->type == YAML_SCALAR_NODE &&
                !strcmp((const char *)qk->data.scalar.value,
                        (const char *)kn->data.scalar.value))
                return fail(L, kn, name, "%s", "appears twice");
        }
        rc = walk_value(L, vn, name);
        if (rc)
            return rc;
    }
    return HH_OK;
}

/* Rules that involve several keys. */
static int check_combined(struct loader *L)
{
    const struct key *t = find_key("execution.slippage_ticks");
    const struct key *b = find_key("execution.slippage_bps");

    if (L->seen[t - keys] && L->seen[b - keys])
        return hh_diag_set(L->d, HH_ECONFIG,
                           "%s: keys 'execution.slippage_ticks' and 'execution.slippage_bps' "
                           "are both set; set at most one", L->path);
    if (L->c->broker.retry_max < L->c->broker.retry_base)
        return hh_diag_set(L->d, HH_ECONFIG,
                           "%s: key 'broker.retry.max_ms' is below 'broker.retry.base_ms'",
                           L->path);
    return HH_OK;
}

static int load_document(struct loader *L, FILE *f)
{
    yaml_parser_t parser;
    yaml_node_t *root;
    int rc = HH_OK;

    if (!yaml_parser_initialize(&parser))
        return hh_diag_set(L->d, HH_ENOMEM, "%s: out of memory", L->path);
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &L->doc)) {
        rc = hh_diag_set(L->d, HH_ECONFIG, "%s:%lu: YAML error: %s", L->path,
                         (unsigned long)parser.problem_mark.line + 1,
                         parser.problem ? parser.problem : "malformed");
        goto out_parser;
    }
    root = yaml_document_get_root_node(&L->doc);
    if (!root)
        goto out_doc;  /* empty file: all defaults */
    if (root->type == YAML_SCALAR_NODE && scalar_is_null(root))
        goto out_doc;
    if (root->type != YAML_MAPPING_NODE) {
        rc = hh_diag_set(L->d, HH_ECONFIG, "%s:%lu: the configuration must be a mapping "
                         "of keys", L->path, (unsigned long)root->start_mark.line + 1);
        goto out_doc;
    }
    rc = walk_mapping(L, root, "");
    if (!rc)
        rc = check_combined(L);
out_doc:
    yaml_document_delete(&L->doc);
out_parser:
    yaml_parser_delete(&parser);
    return rc;
}

int hh_config_load(struct hh_config *c, const char *path, struct hh_diag *d)
{
    struct loader *L;
    char tmp[HH_PATH_MAX];
    FILE *f;
    int rc;

    hh_config_defaults(c);
    if (strlen(path) >= HH_PATH_MAX)
        return hh_diag_set(d, HH_EIO, "config path too long");
    f = fopen(path, "r");
    if (!f)
        return hh_diag_set(d, HH_EIO, "%s: cannot open: %s", path, strerror(errno));
    L = calloc(1, sizeof *L);
    if (!L) {
        fclose(f);
        return hh_diag_set(d, HH_ENOMEM, "%s: out of memory", path);
    }
    L->path = path;
    L->c = c;
    L->d = d;
    snprintf(tmp, sizeof tmp, "%s", path);
    snprintf(L->dir, sizeof L->dir, "%s", dirname(tmp));
    snprintf(c->path, sizeof c->path, "%s", path);
    rc = load_document(L, f);
    free(L);
    fclose(f);
    return rc;
}
